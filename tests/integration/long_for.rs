//! Alerts whose `for` is a year or more: `lint` runs their generated rule tests in seconds,
//! and they pass; yet the tests still fail when a rule's `for` or threshold drifts by more
//! than one step of their evaluation grid.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

/// Lint's limit on one run of a checker (`lint::tools::TIME_LIMIT`).
const TIME_LIMIT: Duration = Duration::from_secs(60);

/// The example stack with `r#for` on every alert, and only the alerts of `only` enabled when
/// it names any.
fn stack_with_for(r#for: &str, only: &[&str]) -> String {
    let example = example_stack();
    // The example's alert tables come last (commented-out fleet targets after them).
    let head = &example[..example.find("\n[alerts.").unwrap()];
    let mut stack = format!("{head}\n");
    for kind in stackgen::alerts::AlertKind::ALL {
        let key = kind.key();
        let enabled = only.is_empty() || only.contains(&key);
        stack.push_str(&format!(
            "[alerts.{key}]\nfor = \"{for}\"\nenabled = {enabled}\n"
        ));
    }
    stack
}

fn rendered(stack: &str) -> Project {
    let project = Project::new(stack);
    project
        .secret("secrets/redis_password.txt", "s3cret-redis")
        .secret("secrets/grafana_admin_password.txt", "s3cret-grafana");
    project.run(["render", "-q", "-p", "dev"]).success();
    project
}

/// `promtool test rules` on the dev tree's tests: whether they pass, and what it said.
fn promtool_test(project: &Project) -> (bool, String) {
    let output = Command::new(tool("promtool"))
        .args(["test", "rules"])
        .arg(project.path().join(TESTS))
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), said)
}

const RULES: &str = "generated/dev/prometheus/rules/redis-alerts.yml";
const TESTS: &str = "generated/dev/prometheus/rules/redis-alerts.test.yml";

#[test]
fn lint_runs_the_tests_of_a_year_long_for_in_seconds_and_they_pass() {
    tool("promtool");
    tool("amtool");
    let project = rendered(&stack_with_for("1y", &[]));
    let tests = project.read(TESTS);
    // Small, and on a grid of two weeks rather than a minute.
    assert!(tests.len() < 64 * 1024, "{} bytes", tests.len());
    assert!(tests.contains("evaluation_interval: \"336h\""), "{tests}");
    let started = Instant::now();
    let run = Run::of(
        project
            .command()
            .args(["lint", "--format", "json", "-p", "dev"])
            .env(
                "SLACK_WEBHOOK_URL",
                "https://hooks.slack.com/services/T0/B0/X",
            ),
    );
    let took = started.elapsed();
    let run = run.success();
    let findings: Vec<Value> = serde_json::from_str(&run.stdout).unwrap();
    let checkers: Vec<&Value> = findings
        .iter()
        .filter(|f| f["code"].as_str().is_some_and(|c| c.starts_with("SG30")))
        .collect();
    assert!(checkers.is_empty(), "{checkers:?}");
    assert!(
        took < TIME_LIMIT / 2,
        "lint took {took:?} with a `for` of a year on every alert"
    );
}

/// The rule tests of a year-long `for` fail when the rule's `for` is off by more than a
/// step of their grid, either way, or a threshold drifts; past the horizon (10y) they prove
/// the alert pending, and fail when it fires or never becomes pending.
#[test]
fn the_tests_of_long_fors_fail_when_a_for_or_threshold_drifts() {
    tool("promtool");
    // An alert of each kind of test: a sample per evaluation (RedisDown, and
    // RedisLastSaveTooOld, which follows the clock), replayed onsets (RedisHighLatency,
    // RedisHighErrorRate), a scenario that holds less than its `for` (RedisLowThroughput:
    // pending for the 58 minutes its scenario holds, so only its threshold is tested).
    let only = [
        "redis_down",
        "high_latency",
        "high_error_rate",
        "low_throughput",
        "last_save_too_old",
    ];
    let year = rendered(&stack_with_for("1y", &only));
    // A two-day grid: the finest whose evaluations of the five year-long tests stay within the
    // budget. Each drift below is several steps.
    assert!(year.read(TESTS).contains("evaluation_interval: \"48h\""));
    let decade = rendered(&stack_with_for("10y", &only));
    let down = |r#for: &str| format!("cluster\\\"}} == 0\"\n        for: \"{for}\"");
    let slow = |r#for: &str| format!("* 1000 > 10\"\n        for: \"{for}\"");
    // Each `for` by more than a step either way, each threshold a little up and down.
    let drifts = [
        (&year, down("8760h"), down("8400h")),
        (&year, down("8760h"), down("9000h")),
        (&year, slow("8760h"), slow("8400h")),
        (&year, slow("8760h"), slow("9000h")),
        (&year, "* 1000 > 10\"".into(), "* 1000 > 11.5\"".into()),
        (&year, "* 1000 > 10\"".into(), "* 1000 > 8.5\"".into()),
        (&year, "[5m]) < 1000 and".into(), "[5m]) < 1500 and".into()),
        (&year, "[5m]) < 1000 and".into(), "[5m]) < 600 and".into()),
        (
            &year,
            "replies[5m]) > 1\"".into(),
            "replies[5m]) > 1.25\"".into(),
        ),
        (
            &year,
            "replies[5m]) > 1\"".into(),
            "replies[5m]) > 0.8\"".into(),
        ),
        (&year, "> 7200 and".into(), "> 8500 and".into()),
        (&year, "> 7200 and".into(), "> 6000 and".into()),
        // Past the horizon: fires after all, or never becomes pending.
        (&decade, down("87600h"), down("8760h")),
        (&decade, slow("87600h"), slow("8760h")),
        (&decade, "* 1000 > 10\"".into(), "* 1000 > 11.5\"".into()),
    ];
    for project in [&year, &decade] {
        let (passed, said) = promtool_test(project);
        assert!(passed, "{said}");
    }
    for (project, from, to) in drifts {
        let original = project.read(RULES);
        assert!(
            original.contains(&from),
            "the rules no longer contain {from:?}"
        );
        project.file(RULES, &original.replacen(&from, &to, 1));
        let (passed, _) = promtool_test(project);
        project.file(RULES, &original);
        assert!(
            !passed,
            "promtool test rules still passes after {from:?} → {to:?}"
        );
    }
}
