use super::*;

/// A stack's intervals in seconds, whether the drill is quick, and what it must wait.
struct Row {
    scrape: u64,
    evaluation: u64,
    group_wait: u64,
    group_interval: u64,
    quick: bool,
    want: Want,
}

/// Every deadline of a row, in seconds, worked out by hand. Every row's alerts have the
/// same `for`s (`memory_pressure` 3m, `low_throughput` 10m, `high_latency` 1m) and the
/// same `repeat_interval` (1h); the slow commands are expected to need 20 s.
#[derive(Debug, PartialEq)]
struct Want {
    /// 2·scrape + 2·evaluation + 15.
    shows: u64,
    /// `memory_pressure`'s `for` (none under --quick) + shows.
    fires: u64,
    /// The window (300, or under --quick four scrapes and at least 20) + shows.
    settles: u64,
    /// group_interval (5 under --quick: the drill's route) + 30 + 2·evaluation + 5.
    forgotten_after: u64,
    /// forgotten_after + shows.
    forgotten_within: u64,
    /// 60 + 2·evaluation + 10.
    held_within: u64,
    /// 5 + group_wait, and 5 + group_interval (0 and 5 under --quick).
    flushed: (u64, u64),
    /// group_wait + group_interval + 10.
    sent_within: u64,
    /// shows + 2·evaluation.
    resolves: u64,
    /// The window + `low_throughput`'s `for` (none under --quick) + shows.
    falls: u64,
    /// 2·20 + `high_latency`'s `for` (none under --quick) + 2·shows.
    slow: u64,
    /// 3·scrape + 5, and 3·scrape.
    scraped: (u64, u64),
}

const ROWS: &[Row] = &[
    // The end-to-end test's stack, quick: the drill's route (0 s, 5 s) and a 20 s window.
    Row {
        scrape: 5,
        evaluation: 5,
        group_wait: 0,
        group_interval: 10,
        quick: true,
        want: Want {
            shows: 35,            // 10 + 10 + 15
            fires: 35,            // 0 + 35
            settles: 55,          // 20 + 35
            forgotten_after: 50,  // 5 + 30 + 10 + 5
            forgotten_within: 85, // 50 + 35
            held_within: 80,      // 60 + 10 + 10
            flushed: (5, 10),     // 5 + 0, 5 + 5
            sent_within: 15,      // 0 + 5 + 10
            resolves: 45,         // 35 + 10
            falls: 55,            // 20 + 0 + 35
            slow: 110,            // 40 + 0 + 70
            scraped: (20, 15),    // 15 + 5, 15
        },
    },
    // A 5 s scrape under a slower evaluation, not quick.
    Row {
        scrape: 5,
        evaluation: 15,
        group_wait: 30,
        group_interval: 60,
        quick: false,
        want: Want {
            shows: 55,             // 10 + 30 + 15
            fires: 235,            // 180 + 55
            settles: 355,          // 300 + 55
            forgotten_after: 125,  // 60 + 30 + 30 + 5
            forgotten_within: 180, // 125 + 55
            held_within: 100,      // 60 + 30 + 10
            flushed: (35, 65),     // 5 + 30, 5 + 60
            sent_within: 100,      // 30 + 60 + 10
            resolves: 85,          // 55 + 30
            falls: 955,            // 300 + 600 + 55
            slow: 210,             // 40 + 60 + 110
            scraped: (20, 15),     // 15 + 5, 15
        },
    },
    // Alertmanager's defaults and 15 s intervals, not quick.
    Row {
        scrape: 15,
        evaluation: 15,
        group_wait: 30,
        group_interval: 300,
        quick: false,
        want: Want {
            shows: 75,             // 30 + 30 + 15
            fires: 255,            // 180 + 75
            settles: 375,          // 300 + 75
            forgotten_after: 365,  // 300 + 30 + 30 + 5
            forgotten_within: 440, // 365 + 75
            held_within: 100,      // 60 + 30 + 10
            flushed: (35, 305),    // 5 + 30, 5 + 300
            sent_within: 340,      // 30 + 300 + 10
            resolves: 105,         // 75 + 30
            falls: 975,            // 300 + 600 + 75
            slow: 250,             // 40 + 60 + 150
            scraped: (50, 45),     // 45 + 5, 45
        },
    },
    // 15 s intervals and the starter's group interval, quick: a 60 s window.
    Row {
        scrape: 15,
        evaluation: 15,
        group_wait: 0,
        group_interval: 300,
        quick: true,
        want: Want {
            shows: 75,             // 30 + 30 + 15
            fires: 75,             // 0 + 75
            settles: 135,          // 60 + 75
            forgotten_after: 70,   // 5 + 30 + 30 + 5
            forgotten_within: 145, // 70 + 75
            held_within: 100,      // 60 + 30 + 10
            flushed: (5, 10),      // 5 + 0, 5 + 5
            sent_within: 15,       // 0 + 5 + 10
            resolves: 105,         // 75 + 30
            falls: 135,            // 60 + 0 + 75
            slow: 190,             // 40 + 0 + 150
            scraped: (50, 45),     // 45 + 5, 45
        },
    },
    // A minute's scrape and evaluation, quick: a 4m window.
    Row {
        scrape: 60,
        evaluation: 60,
        group_wait: 30,
        group_interval: 300,
        quick: true,
        want: Want {
            shows: 255,            // 120 + 120 + 15
            fires: 255,            // 0 + 255
            settles: 495,          // 240 + 255
            forgotten_after: 160,  // 5 + 30 + 120 + 5
            forgotten_within: 415, // 160 + 255
            held_within: 190,      // 60 + 120 + 10
            flushed: (5, 10),      // 5 + 0, 5 + 5
            sent_within: 15,       // 0 + 5 + 10
            resolves: 375,         // 255 + 120
            falls: 495,            // 240 + 0 + 255
            slow: 550,             // 40 + 0 + 510
            scraped: (185, 180),   // 180 + 5, 180
        },
    },
    // A minute's scrape, evaluations every 30 s and a zero group wait, not quick.
    Row {
        scrape: 60,
        evaluation: 30,
        group_wait: 0,
        group_interval: 120,
        quick: false,
        want: Want {
            shows: 195,            // 120 + 60 + 15
            fires: 375,            // 180 + 195
            settles: 495,          // 300 + 195
            forgotten_after: 215,  // 120 + 30 + 60 + 5
            forgotten_within: 410, // 215 + 195
            held_within: 130,      // 60 + 60 + 10
            flushed: (5, 125),     // 5 + 0, 5 + 120
            sent_within: 130,      // 0 + 120 + 10
            resolves: 255,         // 195 + 60
            falls: 1095,           // 300 + 600 + 195
            slow: 490,             // 40 + 60 + 390
            scraped: (185, 180),   // 180 + 5, 180
        },
    },
];

/// The stack of a row, from its `stack.toml`. `stack.toml` refuses a zero `group_wait`;
/// Alertmanager takes one, so the rows with one set it on the resolved stack.
fn stack(row: &Row) -> Stack {
    let group_wait = match row.group_wait {
        0 => String::new(),
        seconds => format!("group_wait = \"{seconds}s\"\n"),
    };
    let text = format!(
        "[stack]\nname = \"t\"\n\
         [redis_exporter]\nscrape_interval = \"{}s\"\n\
         [prometheus]\nevaluation_interval = \"{}s\"\n\
         [alertmanager]\n{group_wait}group_interval = \"{}s\"\nrepeat_interval = \"1h\"\n\
         [alerts.memory_pressure]\nfor = \"3m\"\n\
         [alerts.low_throughput]\nfor = \"10m\"\n\
         [alerts.high_latency]\nfor = \"1m\"\n",
        row.scrape, row.evaluation, row.group_interval,
    );
    let mut stack =
        crate::model::resolve::tests::from_text(&text).unwrap_or_else(|e| panic!("{e:?}"));
    if row.group_wait == 0 {
        stack.alertmanager.group_wait = crate::model::units::Duration::from_secs(0);
    }
    stack
}

fn secs(duration: Duration) -> u64 {
    assert_eq!(duration.subsec_nanos(), 0, "{duration:?}");
    duration.as_secs()
}

#[test]
fn every_wait_follows_the_stack() {
    for row in ROWS {
        let timing = Timing::new(&stack(row), row.quick);
        let got = Want {
            shows: secs(timing.shows()),
            fires: secs(timing.fires(AlertKind::MemoryPressure)),
            settles: secs(timing.settles()),
            forgotten_after: secs(timing.forgotten_after()),
            forgotten_within: secs(timing.forgotten_within()),
            held_within: secs(timing.held_within()),
            flushed: (
                secs(timing.flushed_after(false)),
                secs(timing.flushed_after(true)),
            ),
            sent_within: secs(timing.sent_within()),
            resolves: secs(timing.resolves_within(Duration::ZERO)),
            falls: secs(timing.falls_within(AlertKind::LowThroughput)),
            slow: secs(timing.slow_fires(Duration::from_secs(20), AlertKind::HighLatency)),
            scraped: (secs(timing.scraped_within()), secs(timing.lookback())),
        };
        let what = format!(
            "scrape {}s, evaluation {}s, group_wait {}s, group_interval {}s, quick {}",
            row.scrape, row.evaluation, row.group_wait, row.group_interval, row.quick
        );
        assert_eq!(got, row.want, "{what}");
    }
}

#[test]
fn the_window_is_the_catalogues() {
    let timing = Timing::new(&stack(&ROWS[0]), false);
    assert_eq!(spelled(RATE_WINDOW), "5m");
    assert_eq!(secs(timing.window_left(Duration::from_secs(100))), 200);
    assert_eq!(secs(timing.window_left(Duration::from_secs(400))), 0);
    assert_eq!(secs(timing.quiet_within()), 360); // 300 + 60
    assert_eq!(secs(timing.rediscovered_within()), 15); // 5 + 10
    // A burst seen at once resolves a window and the resolution's own wait later.
    let left = timing.window_left(Duration::ZERO);
    assert_eq!(secs(timing.resolves_within(left)), 345); // 300 + 35 + 10
}

#[test]
fn the_quick_window_is_four_scrapes_and_at_least_20_s() {
    let window = |scrape: u64| quick_window(Duration::from_secs(scrape)).as_secs();
    assert_eq!(window(5), 20);
    assert_eq!(window(10), 40);
    assert_eq!(window(15), 60);
    assert_eq!(window(1), 20);
    // Never longer than the catalogue's.
    assert_eq!(window(120), 300);
    let quick = Timing::new(&stack(&ROWS[0]), true);
    assert_eq!(quick.scale(), 15.0);
    assert_eq!(Timing::new(&stack(&ROWS[0]), false).scale(), 1.0);
}

#[test]
fn slow_commands_run_as_long_as_the_window_needs() {
    let timing = Timing::new(&stack(&ROWS[0]), false);
    let run = |commands, busy| {
        let run = timing.slow_run(commands, busy, 0.010, 0.040);
        run.map(|d| (d.as_secs_f64() * 1000.0).round() / 1000.0)
    };
    // (0.01·1000 − 2) / (1 − 0.01/0.04) = 8 / 0.75 = 10.667 s; × 1.2 + 5 = 17.8 s.
    assert_eq!(run(1000.0, 2.0), Some(17.8));
    // Already above: only the slack. 0.01·100 − 5 < 0.
    assert_eq!(run(100.0, 5.0), Some(5.0));
    // (40 − 6.25) / 0.75 = 45 s; × 1.2 + 5 = 59 s: just within the minute.
    assert_eq!(run(4000.0, 6.25), Some(59.0));
    // (100 − 5) / 0.75 = 126.7 s; × 1.2 + 5 = 157 s: too long to block Redis.
    assert_eq!(run(10_000.0, 5.0), None);
    assert_eq!(run(f64::INFINITY, 0.0), None);
}

#[test]
fn it_prints_on_one_line() {
    let quick = Timing::new(&stack(&ROWS[0]), true);
    assert_eq!(
        quick.to_string(),
        "scrapes every 5s, evaluations every 5s, rates over 20s (the quick copies'); \
         Alertmanager groups after 0s, every 5s (the drill's route), repeats every 1h; an \
         alert shows 35s past its `for` (none: --quick), is news again 50s after it last \
         fired, and is sent within 15s of being held"
    );
    let defaults = Timing::new(&stack(&ROWS[2]), false);
    assert_eq!(
        defaults.to_string(),
        "scrapes every 15s, evaluations every 15s, rates over 5m; Alertmanager groups after \
         30s, every 5m, repeats every 1h; an alert shows 1m15s past its `for`, is news again \
         6m5s after it last fired, and is sent within 5m40s of being held"
    );
}
