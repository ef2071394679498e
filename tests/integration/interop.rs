//! `up` that returns ready and wired, and Docker Compose v2 on the same project, on a real
//! engine with the real `docker-compose` 2.40.3: status right after a cold `up`, compose's stack
//! adopted by stackgen and stackgen's by compose, and an `up` interrupted at any point. Without
//! an engine or compose the tests print why and skip; with STACKGEN_REQUIRE_DOCKER=1 they fail.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::e2e::{Stack, docker, docker_ready};
use crate::support::*;

/// `docker-compose -f generated/prod/compose.yaml ARGS` in the stack's folder; must succeed.
fn compose(stack: &Stack, binary: &PathBuf, args: &[&str]) -> String {
    let output = Command::new(binary)
        .current_dir(stack.project.path())
        .args(["-f", "generated/prod/compose.yaml"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "docker-compose {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Networks whose name is exactly `<stack>_default`.
fn default_networks(stack: &Stack) -> Vec<String> {
    let name = format!("{}_default", stack.name);
    docker(&[
        "network",
        "ls",
        "--format",
        "{{.Name}}",
        "--filter",
        &format!("name={name}"),
    ])
    .lines()
    .filter(|n| *n == name)
    .map(String::from)
    .collect()
}

/// `status --format json` right now: its exit code and rows.
fn status(stack: &Stack) -> (i32, Vec<Value>, String) {
    let run = stack.run(&["status", "--format", "json"]);
    let report: Value = serde_json::from_str(&run.stdout).unwrap_or_default();
    let rows = report["services"].as_array().cloned().unwrap_or_default();
    (run.code, rows, format!("{}{}", run.stdout, run.stderr))
}

/// A stack whose Prometheus scrapes every 5 s and has no `scrape_timeout`: Prometheus' own
/// default (the smaller of 10 s and the interval) must apply, not a refusal.
fn five_second_stack(test: &str) -> Stack {
    let stack = Stack::new(test, "");
    stack.edit(|text| text.replace("scrape_timeout = \"5s\"\n", ""));
    assert!(!stack.project.read("stack.toml").contains("scrape_timeout"));
    stack
}

#[test]
fn status_right_after_a_cold_up_exits_0_with_unscraped_targets_pending() {
    if !docker_ready() {
        return;
    }
    let stack = five_second_stack("cold");
    for round in 1..=3 {
        let out = stack.up();
        assert!(
            out.contains("is up: 4 services healthy"),
            "round {round}: {out}"
        );
        let (code, rows, text) = status(&stack);
        assert_eq!(code, 0, "round {round}: status right after up:\n{text}");
        assert!(rows.iter().all(|r| r["ok"] == true), "{text}");
        let prometheus = rows.iter().find(|r| r["service"] == "prometheus").unwrap();
        for pending in prometheus["pending"].as_array().unwrap() {
            assert!(
                pending["first_scrape_due"].as_str().unwrap().ends_with('Z'),
                "{text}"
            );
        }
        stack.run(&["down", "--volumes"]).success();
    }
    // --wait-scrape returns once every target has been scraped: none pending.
    stack.run(&["up", "--wait-scrape"]).success();
    let (code, rows, text) = status(&stack);
    assert_eq!(code, 0, "{text}");
    let prometheus = rows.iter().find(|r| r["service"] == "prometheus").unwrap();
    assert_eq!(prometheus["pending"], serde_json::json!([]), "{text}");
}

#[test]
fn stackgen_adopts_what_compose_started_and_compose_takes_over_what_stackgen_started() {
    if !docker_ready() {
        return;
    }
    let Some(binary) = compose_binary() else {
        return;
    };
    let stack = Stack::new("interop", "");
    stack.run(&["render"]).success();

    // Compose first: stackgen keeps every container, network and volume.
    compose(&stack, &binary, &["up", "-d", "--wait"]);
    let before = stack.container_ids();
    assert_eq!(before.len(), 4);
    let out = stack.up();
    assert_eq!(
        stack.container_ids(),
        before,
        "stackgen recreated compose's containers: {out}"
    );
    assert_eq!(default_networks(&stack).len(), 1, "{out}");
    let (code, _, text) = status(&stack);
    assert_eq!(code, 0, "{text}");
    stack.run(&["down"]).success();
    assert!(stack.container_ids().is_empty());
    assert!(
        default_networks(&stack).is_empty(),
        "stackgen down left compose's network"
    );

    // stackgen first: compose lists the services, keeps them on `up`, removes them on `down`.
    stack.up();
    let ours = stack.container_ids();
    let listed: BTreeSet<String> = compose(&stack, &binary, &["ps", "--services"])
        .lines()
        .map(String::from)
        .collect();
    let expected = ["alertmanager", "prometheus", "redis", "redis-exporter"];
    assert_eq!(listed, expected.iter().map(|s| s.to_string()).collect());
    compose(&stack, &binary, &["up", "-d", "--wait"]);
    assert_eq!(
        stack.container_ids(),
        ours,
        "compose recreated stackgen's containers"
    );
    assert_eq!(default_networks(&stack).len(), 1);
    compose(&stack, &binary, &["down"]);
    assert!(stack.container_ids().is_empty());
    assert!(
        default_networks(&stack).is_empty(),
        "compose down left stackgen's network"
    );
}

#[test]
fn an_up_interrupted_at_any_point_is_finished_by_the_next_up() {
    if !docker_ready() {
        return;
    }
    let stack = Stack::new("interrupt", "");
    for after in [1.0, 3.0, 6.0] {
        stack.run(&["down", "--volumes"]).success();
        let mut up = std::process::Command::new(env!("CARGO_BIN_EXE_stackgen"));
        let mut child = Child(
            up.current_dir(stack.project.path())
                .args(["up", "-q", "-p", "prod"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
        std::thread::sleep(Duration::from_secs_f64(after));
        let pid = child.0.id().to_string();
        Command::new("kill").args(["-INT", &pid]).status().unwrap();
        child.0.wait().unwrap();
        let out = stack.up();
        assert!(
            out.contains("4 services healthy"),
            "after Ctrl-C at {after}s: {out}"
        );
        let (code, _, text) = status(&stack);
        assert_eq!(code, 0, "after Ctrl-C at {after}s:\n{text}");
    }
}
