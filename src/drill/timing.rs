//! How long the drill waits for what the stack does: one value built from the stack's intervals
//! (scrapes, evaluations, Alertmanager's grouping), the catalogue's rate window and each alert's
//! `for`, with every margin named. Each wait of the drill is a method here, so that the whole
//! timing is read, and tested, in one place. It is pure: it never sleeps nor asks anything.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::alerts::AlertKind;
use crate::alerts::promql::RATE_WINDOW_SECONDS;
use crate::model::Stack;

/// The window of every `rate()` and `increase()` in the catalogue: how long a burst counts.
pub(crate) const RATE_WINDOW: Duration = Duration::from_secs(RATE_WINDOW_SECONDS as u64);

/// Past two scrapes and two evaluations, what a change may still take to show in an alert's
/// state: a slow scrape, and an answer from before the last evaluation.
const SHOW_SLACK: Duration = Duration::from_secs(15);

/// How often Alertmanager drops its emptied alert groups (its dispatcher's maintenance).
const GROUP_CLEANUP: Duration = Duration::from_secs(30);

/// Past a group interval, the clean-up and two evaluations, what Prometheus' `ALERTS` may still
/// take to show that an alert stopped firing.
const FORGET_SLACK: Duration = Duration::from_secs(5);

/// Prometheus' `--rules.alert.resend-delay`, which the stack leaves at its default: how long
/// an alert already firing may take to reach an Alertmanager that restarted.
const RESEND_DELAY: Duration = Duration::from_secs(60);

/// Past the resend delay and two evaluations, what Alertmanager's API may take to list an
/// alert it received.
const HOLD_SLACK: Duration = Duration::from_secs(10);

/// How long past its due time a flush may take to show in Alertmanager's metrics.
const FLUSH_MARGIN: Duration = Duration::from_secs(5);

/// Past a group wait and a group interval, what Slack's answer may take to be counted.
const SEND_SLACK: Duration = Duration::from_secs(10);

/// How many scrape intervals back the drill looks for a scrape, and waits for one: the last
/// may be late, and the one before may straddle the moment looked from.
const SCRAPES_BACK: u32 = 3;

/// Past the scrapes looked back over, what a scrape may take to be queryable.
const SCRAPE_SLACK: Duration = Duration::from_secs(5);

/// Past a whole rate window, how long the drill waits for other traffic to thin out before
/// slow commands can lift the window's average latency.
const QUIET_GRACE: Duration = Duration::from_secs(60);

/// The longest slow commands may have to run: Redis is blocked while they do.
const SLOW_RUN_LONGEST: Duration = Duration::from_secs(60);

/// How much longer than the arithmetic says slow commands run: the window slides meanwhile.
const SLOW_RUN_FACTOR: f64 = 1.2;

/// Past that, the scrape and evaluation that see the window's new average.
const SLOW_RUN_SLACK: Duration = Duration::from_secs(5);

/// How often at most Prometheus' discovery hands its targets on — Alertmanager's too, which a
/// configuration reload forgets until then.
const DISCOVERY_THROTTLE: Duration = Duration::from_secs(5);

/// Past that, the time for the notifier to take it up and the drill to ask.
const DISCOVERY_SLACK: Duration = Duration::from_secs(10);

/// The stack's timing, as the drill waits on it.
#[derive(Debug, Clone)]
pub(crate) struct Timing {
    /// How often Prometheus scrapes the exporter.
    scrape: Duration,
    /// How often Prometheus evaluates its rules.
    evaluation: Duration,
    /// Alertmanager's `group_wait`: how long it holds a new group's first alert before sending.
    group_wait: Duration,
    /// Alertmanager's `group_interval`: how long it may take to send a group's changes.
    group_interval: Duration,
    /// Alertmanager's `repeat_interval`: how often it sends a group that keeps firing again.
    repeat_interval: Duration,
    /// Each alert's rendered `for`.
    fors: BTreeMap<AlertKind, Duration>,
    /// `--quick`: the drill's `for: 0s` copies of the alerts are the ones that count.
    quick: bool,
}

fn std_duration(duration: crate::model::units::Duration) -> Duration {
    Duration::from_millis(duration.millis())
}

/// A duration in Prometheus' grammar (`5m`, `6m5s`), for PromQL ranges and messages.
pub(crate) fn spelled(duration: Duration) -> String {
    let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    crate::model::units::Duration::from_millis(millis).to_string()
}

impl Timing {
    /// The timing of `stack`: the exporter's scrape interval (the series the alerts watch),
    /// Prometheus' evaluation interval, Alertmanager's intervals and each alert's `for`.
    pub(crate) fn new(stack: &Stack, quick: bool) -> Self {
        let alertmanager = &stack.alertmanager;
        Self {
            scrape: std_duration(stack.redis_exporter.scrape_interval),
            evaluation: std_duration(stack.prometheus.evaluation_interval),
            group_wait: std_duration(alertmanager.group_wait),
            group_interval: std_duration(alertmanager.group_interval),
            repeat_interval: std_duration(alertmanager.repeat_interval),
            fors: stack
                .alerts
                .iter()
                .map(|a| (a.kind, std_duration(a.r#for)))
                .collect(),
            quick,
        }
    }

    /// Whether the drill's `for: 0s` copies of the alerts are the ones that count.
    pub(crate) fn quick(&self) -> bool {
        self.quick
    }

    /// The `for` an alert is evaluated with: its rendered one, none under `--quick`.
    fn effective_for(&self, kind: AlertKind) -> Duration {
        if self.quick {
            Duration::ZERO
        } else {
            self.fors.get(&kind).copied().unwrap_or_default()
        }
    }

    /// Past an alert's `for`, how long a change in Redis may take to show in its state: two
    /// scrapes and two evaluations.
    pub(crate) fn shows(&self) -> Duration {
        2 * self.scrape + 2 * self.evaluation + SHOW_SLACK
    }

    /// How long an induced alert may take to fire: its `for`, then the time it takes to show.
    pub(crate) fn fires(&self, kind: AlertKind) -> Duration {
        self.effective_for(kind) + self.shows()
    }

    /// How long an alert still active from before may take to go: its burst leaves the window.
    pub(crate) fn settles(&self) -> Duration {
        RATE_WINDOW + self.shows()
    }

    /// How long an alert must not have fired for its next firing to be news to Alertmanager: a
    /// group interval (that it resolved is sent), the group's clean-up, two evaluations.
    pub(crate) fn forgotten_after(&self) -> Duration {
        self.group_interval + GROUP_CLEANUP + 2 * self.evaluation + FORGET_SLACK
    }

    /// How long the drill waits for that: the quiet itself, then the time it takes to show.
    pub(crate) fn forgotten_within(&self) -> Duration {
        self.forgotten_after() + self.shows()
    }

    /// How long a firing alert may take to be held by Alertmanager: Prometheus' resend delay
    /// (after Alertmanager restarted) and two evaluations.
    pub(crate) fn held_within(&self) -> Duration {
        RESEND_DELAY + 2 * self.evaluation + HOLD_SLACK
    }

    /// How long after Alertmanager holds an alert it sends its group: `group_wait` for a new
    /// group, `group_interval` for one already there (`shared`).
    pub(crate) fn flushed_after(&self, shared: bool) -> Duration {
        FLUSH_MARGIN
            + if shared {
                self.group_interval
            } else {
                self.group_wait
            }
    }

    /// How long the drill waits for a Slack notification once Alertmanager holds the alert: a
    /// group wait and a group interval, whichever group it joined.
    pub(crate) fn sent_within(&self) -> Duration {
        self.group_wait + self.group_interval + SEND_SLACK
    }

    /// How long an undone alert may take to resolve once `after` has passed: the time to show,
    /// and two evaluations more for Prometheus to drop it from its active alerts.
    pub(crate) fn resolves_within(&self, after: Duration) -> Duration {
        after + self.shows() + 2 * self.evaluation
    }

    /// How much longer a burst seen `since` ago counts in the rate window.
    pub(crate) fn window_left(&self, since: Duration) -> Duration {
        RATE_WINDOW.saturating_sub(since)
    }

    /// How long an alert on a falling rate may take once its load stops: the load leaves the
    /// window, then its `for`, then the time it takes to show.
    pub(crate) fn falls_within(&self, kind: AlertKind) -> Duration {
        RATE_WINDOW + self.effective_for(kind) + self.shows()
    }

    /// How long slow commands expected to need `needed` may take to fire `kind`: twice that
    /// (the window slides under them), its `for`, and twice the time to show.
    pub(crate) fn slow_fires(&self, needed: Duration, kind: AlertKind) -> Duration {
        2 * needed + self.effective_for(kind) + 2 * self.shows()
    }

    /// How long the drill waits for the window to be quiet enough for slow commands.
    pub(crate) fn quiet_within(&self) -> Duration {
        RATE_WINDOW + QUIET_GRACE
    }

    /// How long slow commands of `each` seconds must run to lift the window's average latency
    /// above `threshold` seconds, the window holding `commands` commands that took `busy`
    /// seconds; `None` when that is longer than Redis may be blocked.
    pub(crate) fn slow_run(
        &self,
        commands: f64,
        busy: f64,
        threshold: f64,
        each: f64,
    ) -> Option<Duration> {
        // (busy + t) / (commands + t / each) > threshold, for t seconds of slow commands.
        let t = ((threshold * commands - busy) / (1.0 - threshold / each)).max(0.0);
        let needed = t * SLOW_RUN_FACTOR + SLOW_RUN_SLACK.as_secs_f64();
        (needed <= SLOW_RUN_LONGEST.as_secs_f64()).then(|| Duration::from_secs_f64(needed))
    }

    /// How long Prometheus may take, after a reload, to know its Alertmanager again.
    pub(crate) fn rediscovered_within(&self) -> Duration {
        DISCOVERY_THROTTLE + DISCOVERY_SLACK
    }

    /// How long a scrape the drill waits for may take to be in Prometheus.
    pub(crate) fn scraped_within(&self) -> Duration {
        self.lookback() + SCRAPE_SLACK
    }

    /// How far back from a moment the drill looks for the scrape before it.
    pub(crate) fn lookback(&self) -> Duration {
        SCRAPES_BACK * self.scrape
    }
}

/// One line for the drill's progress: the stack's intervals and the longest waits they make.
impl fmt::Display for Timing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "scrapes every {}, evaluations every {}; Alertmanager groups after {}, every {}, \
             repeats every {}; an alert shows {} past its `for`{}, is news again {} after it \
             last fired, and is sent within {} of being held",
            spelled(self.scrape),
            spelled(self.evaluation),
            spelled(self.group_wait),
            spelled(self.group_interval),
            spelled(self.repeat_interval),
            spelled(self.shows()),
            if self.quick { " (none: --quick)" } else { "" },
            spelled(self.forgotten_after()),
            spelled(self.sent_within()),
        )
    }
}

#[cfg(test)]
mod tests {
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
        /// 300 + shows.
        settles: u64,
        /// group_interval + 30 + 2·evaluation + 5.
        forgotten_after: u64,
        /// forgotten_after + shows.
        forgotten_within: u64,
        /// 60 + 2·evaluation + 10.
        held_within: u64,
        /// 5 + group_wait, and 5 + group_interval.
        flushed: (u64, u64),
        /// group_wait + group_interval + 10.
        sent_within: u64,
        /// shows + 2·evaluation.
        resolves: u64,
        /// 300 + `low_throughput`'s `for` (none under --quick) + shows.
        falls: u64,
        /// 2·20 + `high_latency`'s `for` (none under --quick) + 2·shows.
        slow: u64,
        /// 3·scrape + 5, and 3·scrape.
        scraped: (u64, u64),
    }

    const ROWS: &[Row] = &[
        // The end-to-end test's stack with a zero group wait, quick.
        Row {
            scrape: 5,
            evaluation: 5,
            group_wait: 0,
            group_interval: 10,
            quick: true,
            want: Want {
                shows: 35,            // 10 + 10 + 15
                fires: 35,            // 0 + 35
                settles: 335,         // 300 + 35
                forgotten_after: 55,  // 10 + 30 + 10 + 5
                forgotten_within: 90, // 55 + 35
                held_within: 80,      // 60 + 10 + 10
                flushed: (5, 15),     // 5 + 0, 5 + 10
                sent_within: 20,      // 0 + 10 + 10
                resolves: 45,         // 35 + 10
                falls: 335,           // 300 + 0 + 35
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
        // 15 s intervals and a zero group wait, quick.
        Row {
            scrape: 15,
            evaluation: 15,
            group_wait: 0,
            group_interval: 300,
            quick: true,
            want: Want {
                shows: 75,             // 30 + 30 + 15
                fires: 75,             // 0 + 75
                settles: 375,          // 300 + 75
                forgotten_after: 365,  // 300 + 30 + 30 + 5
                forgotten_within: 440, // 365 + 75
                held_within: 100,      // 60 + 30 + 10
                flushed: (5, 305),     // 5 + 0, 5 + 300
                sent_within: 310,      // 0 + 300 + 10
                resolves: 105,         // 75 + 30
                falls: 375,            // 300 + 0 + 75
                slow: 190,             // 40 + 0 + 150
                scraped: (50, 45),     // 45 + 5, 45
            },
        },
        // A minute's scrape and evaluation, quick.
        Row {
            scrape: 60,
            evaluation: 60,
            group_wait: 30,
            group_interval: 300,
            quick: true,
            want: Want {
                shows: 255,            // 120 + 120 + 15
                fires: 255,            // 0 + 255
                settles: 555,          // 300 + 255
                forgotten_after: 455,  // 300 + 30 + 120 + 5
                forgotten_within: 710, // 455 + 255
                held_within: 190,      // 60 + 120 + 10
                flushed: (35, 305),    // 5 + 30, 5 + 300
                sent_within: 340,      // 30 + 300 + 10
                resolves: 375,         // 255 + 120
                falls: 555,            // 300 + 0 + 255
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
            "scrapes every 5s, evaluations every 5s; Alertmanager groups after 0s, every 10s, \
             repeats every 1h; an alert shows 35s past its `for` (none: --quick), is news again \
             55s after it last fired, and is sent within 20s of being held"
        );
        let defaults = Timing::new(&stack(&ROWS[2]), false);
        assert_eq!(
            defaults.to_string(),
            "scrapes every 15s, evaluations every 15s; Alertmanager groups after 30s, every 5m, \
             repeats every 1h; an alert shows 1m15s past its `for`, is news again 6m5s after it \
             last fired, and is sent within 5m40s of being held"
        );
    }
}
