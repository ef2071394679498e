//! The rule tests' grid and layouts: every minute for the usual `for`s, a coarser grid within
//! the evaluation budget and the horizon for long ones, and the arithmetic of when they fire.

use super::*;
use crate::alerts::promql::Inputs;
use crate::model::units::Size;

/// A stack with `alerts` as its `[alerts]` tables.
fn stack(alerts: &str) -> Stack {
    let text = format!("[stack]\nname = \"t\"\n{alerts}");
    crate::model::resolve::tests::from_text(&text).unwrap_or_else(|e| panic!("{e:?}"))
}

/// Every alert of the catalogue with this `for`.
fn every_for(r#for: &str) -> Stack {
    let tables: String = AlertKind::ALL
        .iter()
        .map(|kind| format!("[alerts.{}]\nfor = \"{for}\"\n", kind.key()))
        .collect();
    stack(&tables)
}

fn ms(text: &str) -> u64 {
    text.parse::<Duration>().unwrap().millis()
}

/// How many sample slots promtool lays out for a series' values (`axN` is N + 1, `_xN` N).
fn slots(values: &str) -> u64 {
    values
        .split(' ')
        .map(|item| match item.split_once('x') {
            Some(("_", n)) => n.parse::<u64>().unwrap(),
            Some((_, n)) => n.parse::<u64>().unwrap() + 1,
            None => 1,
        })
        .sum()
}

/// What promtool evaluates: each test from 0 to its last evaluation, a grid step apart.
fn evaluations(tests: &RuleTests) -> u64 {
    let step = tests.evaluation_interval.millis();
    tests
        .tests
        .iter()
        .map(|test| {
            let times = test.alert_rule_test.iter().map(|c| c.eval_time);
            let last = times.chain(test.promql_expr_test.iter().map(|c| c.eval_time));
            last.max().unwrap().millis() / step + 1
        })
        .sum()
}

#[test]
fn the_usual_fors_are_tested_every_minute() {
    for stack in [stack(""), every_for("20m")] {
        let tests = rule_tests(&stack);
        assert_eq!(tests.evaluation_interval.to_string(), "1m");
        assert!(tests.tests.iter().all(|t| t.interval.to_string() == "1m"));
        assert!(tests.tests.iter().all(|t| t.promql_expr_test.is_empty()));
    }
}

/// Whatever the `for`s, promtool evaluates the rules at most [`EVALUATIONS`] times and lays
/// out at most [`HORIZON`] of samples per series, and every alert's test is still there.
#[test]
fn long_fors_stay_within_the_budget_and_the_horizon() {
    let cases = [
        ("1m", "1m"),
        ("1h", "2m"),
        ("3h", "5m"),
        ("1d", "1h"),
        ("30d", "24h"),
        ("1y", "336h"),
        ("10y", "720h"),
        ("292y", "720h"),
    ];
    for (r#for, grid) in cases {
        let stack = every_for(r#for);
        let tests = rule_tests(&stack);
        assert_eq!(tests.evaluation_interval.to_string(), grid, "for = {for}");
        assert!(evaluations(&tests) <= EVALUATIONS, "for = {for}");
        assert_eq!(tests.tests.len(), 2 * active(&stack).count());
        for test in &tests.tests {
            for series in &test.input_series {
                let span = slots(&series.values) * test.interval.millis();
                let bound = HORIZON + 2 * tests.evaluation_interval.millis();
                assert!(span <= bound, "{}: {span}", test.name);
                assert!(series.values.len() < 2_000, "{}", test.name);
            }
        }
    }
}

/// `fire_at = ⌈onset/step⌉·step + ⌈for/step⌉·step`, silent one step before; past the
/// horizon, pending at its last step within it.
#[test]
fn the_tests_fire_a_for_after_the_onset_to_within_a_step() {
    let inputs = Inputs {
        threshold: 10.0,
        maxmemory: Size::mib(100),
        noeviction: false,
    };
    // (alert, for, step) → (end, fires, replayed)
    let cases = [
        (AlertKind::RedisDown, "1m", "1m", "1m", true, false),
        (AlertKind::RedisDown, "90s", "1m", "2m", true, false),
        (AlertKind::RedisDown, "1y", "14d", "378d", true, false),
        (AlertKind::HighLatency, "5m", "1m", "6m", true, false),
        (AlertKind::HighLatency, "5m", "5m", "10m", true, false),
        (AlertKind::HighLatency, "1y", "14d", "392d", true, true),
        (AlertKind::LowThroughput, "10m", "1m", "43m", true, false),
        (AlertKind::HighLatency, "3y", "30d", "720d", false, true),
    ];
    for (kind, r#for, step, end, fires, replayed) in cases {
        let e = promql::entry(kind, inputs);
        let plan = Plan::new(&e, r#for.parse().unwrap(), ms(step));
        let case = format!("{kind:?} for {for} every {step}");
        assert_eq!(plan.end, ms(end), "{case}");
        assert_eq!(plan.fires, fires, "{case}");
        assert_eq!(matches!(plan.layout, Layout::Replayed), replayed, "{case}");
    }
    // Longer than the scenario holds the condition (58m after its onset at 33m): pending, as
    // far as that goes.
    let e = promql::entry(AlertKind::LowThroughput, inputs);
    for (r#for, step, end) in [
        ("2h", "1m", "91m"),
        ("1d", "1h", "1h"),
        ("1y", "14d", "14d"),
    ] {
        let plan = Plan::new(&e, r#for.parse().unwrap(), ms(step));
        assert_eq!(
            (plan.end, plan.fires),
            (ms(end), false),
            "for {for} every {step}"
        );
        assert_eq!(plan.held, Some(ms("58m")));
    }
}

/// A replay is the scenario's first `onset`, ending at each evaluation, nothing between.
#[test]
fn replays_end_at_each_evaluation() {
    let inputs = Inputs {
        threshold: 1.0,
        maxmemory: Size::mib(100),
        noeviction: false,
    };
    let e = promql::entry(AlertKind::HighErrorRate, inputs);
    let plan = Plan::new(&e, "20m".parse().unwrap(), ms("10m"));
    assert_eq!(plan.end, ms("30m"));
    let labels = Labels::from([("instance".to_string(), "r".to_string())]);
    // Past the threshold, up to the onset (4m): five samples ending at 10m, 20m and 30m.
    let bad = plan.series(&e, Level::Bad, &labels);
    assert_eq!(bad[0].values, "_x6 0+90x4 _x5 0+90x4 _x5 0+90x4");
    // Short of it, a whole 5m window: six samples.
    let safe = plan.series(&e, Level::Safe, &labels);
    assert_eq!(safe[0].values, "_x5 0+54x5 _x4 0+54x5 _x4 0+54x5");
    assert_eq!(slots(&bad[0].values), 31);
    assert_eq!(slots(&safe[0].values), 31);
}
