//! A new user's first hour, as the README's "A new project" tells it: `init`, the lines it
//! prints, `render`, `lint --deny-warnings` for dev and prod, `up`, `status`, `down --volumes`,
//! each exiting 0 on the first try (real engine; the stand-in images, free ports and Grafana off,
//! as in the other end-to-end tests). And `up --dry-run` as a complete preview.

use std::path::Path;
use std::process::Command;

use crate::e2e::{Stack, docker_ready};
use crate::support::*;

/// What `init` tells the user to type next, without the leading `Next` line.
fn next_steps(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .skip_while(|l| !l.starts_with("Next, in a shell:"))
        .skip(1)
        .map(|l| l.trim().to_string())
        .collect()
}

/// Points the starter at this machine: stand-in images, free ports, no Grafana image here.
fn for_this_machine(dir: &Path) {
    let path = dir.join("stack.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    let swaps = [
        ("redis:7.2", "stackgen-test/redis:7.0"),
        (
            "oliver006/redis_exporter:v1.62.0",
            "stackgen-test/redis-exporter:1.45",
        ),
        ("prom/prometheus:v2.53.0", "stackgen-test/prometheus:2.42"),
        (
            "prom/alertmanager:v0.27.0",
            "stackgen-test/alertmanager:0.28",
        ),
        ("[grafana]\nenabled = true", "[grafana]\nenabled = false"),
    ];
    for (from, to) in swaps {
        assert!(text.contains(from), "the starter no longer has {from:?}");
        text = text.replace(from, to);
    }
    let free = free_ports::<5>();
    for (port, free) in ["6379", "9121", "9090", "9093", "3000"].iter().zip(free) {
        let line = format!("\nport = {port}\n");
        assert!(
            text.contains(&line),
            "the starter no longer publishes {port}"
        );
        text = text.replace(&line, &format!("\nport = {free}\n"));
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn the_quick_start_works_on_the_first_try() {
    if !docker_ready() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let folder = format!("first-hour-{}", std::process::id());
    let init = run_in(root.path(), ["init", &folder]).success();
    let steps = next_steps(&init.stderr);
    let dir = root.path().join(&folder);
    assert_eq!(
        steps.first(),
        Some(&format!("cd {folder}")),
        "{}",
        init.stderr
    );
    assert!(
        steps
            .iter()
            .any(|s| s.contains("secrets/redis_password.txt"))
            && steps
                .iter()
                .any(|s| s.contains("secrets/grafana_admin_password.txt"))
            && steps
                .iter()
                .any(|s| s.starts_with("export SLACK_WEBHOOK_URL="))
            && steps.iter().any(|s| s.starts_with("export HEARTBEAT_URL=")),
        "init must name every secret the starter reads:\n{}",
        init.stderr
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.join("secrets"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o700);
    for_this_machine(&dir);

    // The secret lines, as printed, in the project's folder.
    let mut env = Vec::new();
    for step in &steps[1..] {
        if let Some(export) = step.strip_prefix("export ") {
            let (name, value) = export.split_once('=').unwrap();
            let value = value
                .split("   #")
                .next()
                .unwrap()
                .trim()
                .trim_matches('\'');
            env.push((name.to_string(), value.to_string()));
        } else if step.starts_with('(') {
            let status = Command::new("sh")
                .arg("-c")
                .arg(step)
                .current_dir(&dir)
                .status();
            assert!(status.unwrap().success(), "{step}");
        }
    }
    assert_eq!(
        steps.last().map(String::as_str),
        Some("stackgen render && stackgen lint --deny-warnings && stackgen up")
    );

    let run = |args: &[&str]| Run::of(stackgen(&dir).args(args).envs(env.iter().cloned()));
    let _down = Cleanup(dir.clone());
    run(&["render"]).success();
    // The webhook line as printed holds a placeholder: lint says it cannot be a real one.
    run(&["lint", "--deny-warnings"])
        .code(1)
        .stdout_has("the Slack webhook cannot be a real one");
    // The user pastes the URLs Slack and the heartbeat service gave them (here the heartbeat's
    // is the container's own loopback: no beat leaves the machine).
    for (name, value) in &mut env {
        assert!(value.contains('…'), "{value}");
        if name == "SLACK_WEBHOOK_URL" {
            *value =
                "https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcDEF123ghiJKL456mno".into();
        } else if name == "HEARTBEAT_URL" {
            *value = "http://127.0.0.1:9/ping/first-hour".into();
        }
    }
    let run = |args: &[&str]| Run::of(stackgen(&dir).args(args).envs(env.iter().cloned()));
    run(&["lint", "--deny-warnings"]).success();
    run(&["lint", "--deny-warnings", "-p", "prod"]).success();
    let up = run(&["up"]).success();
    assert!(up.stderr.contains("services healthy"), "{up}");
    run(&["status"]).success();
    run(&["down", "--volumes"]).success();
}

/// Takes the project's stack down however the test ends.
struct Cleanup(std::path::PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = stackgen(&self.0).args(["down", "--volumes", "-q"]).output();
    }
}

#[test]
fn a_dry_run_lists_every_problem_up_would_stop_on_and_changes_nothing() {
    if !docker_ready() {
        return;
    }
    let stack = Stack::new("preview", "");
    std::fs::remove_file(stack.project.path().join("secrets/slack_webhook_url")).unwrap();
    let busy = std::net::TcpListener::bind(("127.0.0.1", stack.ports[2])).unwrap();
    let before = snapshot(stack.project.path());
    let run = stack.run(&["up", "--dry-run"]).code(1);
    run.stdout_has("redis (")
        .stderr_has("secret `slack_webhook_url` (`alertmanager.slack.webhook_url` at stack.toml:")
        .stderr_has("its file does not exist")
        .stderr_has(&format!(
            "host port 127.0.0.1:{} for prometheus is already in use by process `",
            stack.ports[2]
        ))
        .stderr_lacks("redis_password")
        .stderr_has("`up` would stop on 2 problems");
    drop(busy);
    assert!(stack.container_ids().is_empty());
    assert_eq!(
        snapshot(stack.project.path()),
        before,
        "a dry run changed files"
    );
}
