//! `stackgen drill … alerts --quick` on a real engine, the dev profile and a webhook receiver
//! of the test's: every figure checked against what the test sees itself — the keys left, the
//! notifications received, Prometheus' rules API, the survivors of the kill — and Ctrl-C in
//! the middle of an induced outage.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::e2e::{PASSWORD, Stack, docker, docker_ready, percent_encode};
use crate::support::*;

/// The rendered `for` of every alert of the profile, in seconds.
fn rendered_fors(stack: &Stack) -> Vec<(String, f64)> {
    let rules = stack
        .project
        .read("generated/dev/prometheus/rules/redis-alerts.yml");
    let mut fors = Vec::new();
    let mut name = String::new();
    for line in rules.lines().map(str::trim) {
        if let Some(alert) = line.strip_prefix("- alert: ") {
            name = alert.trim_matches('"').to_string();
        } else if let Some(text) = line.strip_prefix("for: ") {
            let text = text.trim_matches('"');
            let (number, unit) = text.split_at(text.len() - 1);
            let seconds = match unit {
                "s" => 1.0,
                "m" => 60.0,
                "h" => 3600.0,
                other => panic!("unit {other} in {text}"),
            };
            fors.push((name.clone(), number.parse::<f64>().unwrap() * seconds));
        }
    }
    assert!(fors.len() > 10, "{rules}");
    fors
}

/// What Prometheus evaluates: `(alert, for in seconds, rule file)`.
fn loaded_rules(stack: &Stack) -> Vec<(String, f64, String)> {
    let answer = stack.prometheus("/api/v1/rules?type=alert");
    let mut rules = Vec::new();
    for group in answer["data"]["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            rules.push((
                rule["name"].as_str().unwrap().to_string(),
                rule["duration"].as_f64().unwrap(),
                group["file"].as_str().unwrap().to_string(),
            ));
        }
    }
    rules
}

/// The alerts firing in Prometheus now, by name and target.
fn firing(stack: &Stack) -> Vec<String> {
    let answer = stack.prometheus("/api/v1/alerts");
    let mut firing: Vec<String> = answer["data"]["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["state"] == "firing")
        .map(|a| format!("{} {}", a["labels"]["alertname"], a["labels"]["target"]))
        .collect();
    firing.sort();
    firing
}

/// The number of recovery keys in the Redis that the recovery scenario restarts, counted by
/// the test while the drill runs: the most seen under the second Redis run id (the first is
/// the Redis before the kill). It stops once they are gone, not to add its own commands to
/// the window the latency alert averages over.
fn count_survivors(port: u16, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut run_ids: Vec<String> = Vec::new();
        let mut most = 0;
        while !stop.load(Ordering::Relaxed) {
            let info = redis_cli(port, Some(PASSWORD), &["info", "server"]);
            let run_id = info
                .lines()
                .find_map(|l| l.strip_prefix("run_id:"))
                .map(|id| id.trim().to_string());
            let count = redis_cli(
                port,
                Some(PASSWORD),
                &[
                    "eval",
                    "return #redis.call('keys', ARGV[1])",
                    "0",
                    "stackgen:drill:recovery:*",
                ],
            );
            if let (Some(run_id), Ok(count)) = (run_id, count.parse::<u64>()) {
                if !run_ids.contains(&run_id) {
                    run_ids.push(run_id.clone());
                }
                if run_ids.len() == 2 && run_ids[1] == run_id {
                    if most > 0 && count == 0 {
                        break;
                    }
                    most = most.max(count);
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        most
    })
}

/// When each alert fired in Prometheus over the last 30 minutes, as spans of seconds before
/// now, for a failure's post-mortem.
fn firing_history(stack: &Stack) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let query = percent_encode("ALERTS{alertstate=\"firing\"}");
    let answer = stack.prometheus(&format!(
        "/api/v1/query_range?query={query}&start={}&end={now}&step=2",
        now - 1800
    ));
    let mut lines = vec![format!("seconds before {now} (Unix time)")];
    for series in answer["data"]["result"].as_array().into_iter().flatten() {
        let mut spans: Vec<(u64, u64)> = Vec::new();
        for point in series["values"].as_array().into_iter().flatten() {
            let at = now - point[0].as_f64().unwrap_or_default() as u64;
            match spans.last_mut() {
                Some((_, end)) if *end <= at + 3 => *end = at,
                _ => spans.push((at, at)),
            }
        }
        let spans: Vec<String> = spans.iter().map(|(a, b)| format!("{a}..{b}")).collect();
        lines.push(format!("{} {}", series["metric"], spans.join(" ")));
    }
    lines.join("\n")
}

#[test]
fn every_scenario_with_quick_proves_the_dev_stack_and_leaves_it_as_it_was() {
    if !docker_ready() {
        return;
    }
    let pressure = every_scenario("drillall", "allkeys-lru");
    assert!(pressure["evicted_keys"].as_u64().unwrap() > 0, "{pressure}");
    assert!(
        pressure["exporter_evicted_keys"].as_u64().unwrap() > 0,
        "{pressure}"
    );
}

#[test]
fn every_scenario_on_a_noeviction_stack_sees_writes_rejected_and_their_alert() {
    if !docker_ready() {
        return;
    }
    let pressure = every_scenario("drilloom", "noeviction");
    assert!(
        pressure["rejected_writes"].as_u64().unwrap() > 0,
        "{pressure}"
    );
    assert_eq!(pressure["evicted_keys"], 0, "{pressure}");
}

/// `drill --quick --format json` (every scenario) on the dev profile of a stack whose Redis
/// evicts with `policy`, with a webhook receiver: every figure checked, and the stack handed
/// back as the drill found it — `status` exits 0 and no alert fires that did not before. The
/// `pressure` scenario, for the policy's own checks.
fn every_scenario(test: &str, policy: &str) -> Value {
    // The drill's slow commands are slow on purpose: RedisSlowlogGrowing and RedisTailLatency
    // report them, the latter for as long as Redis' percentiles (counted from its start) hold
    // them, and would still fire after the drill (the README says so).
    let quiet =
        "\n[alerts.tail_latency]\nenabled = false\n\n[alerts.slowlog_growing]\nenabled = false\n";
    let stack = Stack::new(test, quiet).with_profile("dev");
    // A small Redis, so that filling it takes seconds, with room past `maxmemory` for the
    // drill's client buffers and fragmentation: at 75 % of 512 MiB its container's memory
    // limit killed Redis mid-drill (the kernel's OOM killer, in CI's parallel run).
    stack.edit(|toml| {
        toml.replacen(
            "[redis]\n",
            &format!(
                "[redis]\nmemory_limit = \"512MiB\"\nmaxmemory = \"320MiB\"\n\
                 maxmemory_policy = \"{policy}\"\n"
            ),
            1,
        )
    });
    stack.up();
    let webhook = stack.webhook();
    let port = stack.ports[0];
    let keys_before = redis_cli(port, Some(PASSWORD), &["dbsize"]);
    let stop = Arc::new(AtomicBool::new(false));
    let survivors = count_survivors(port, stop.clone());
    let chart = stack.project.path().join("drill.svg");
    let firing_before = firing(&stack);
    let alertmanager_yml = "generated/dev/alertmanager/alertmanager.yml";
    let alertmanager_before = stack.project.read(alertmanager_yml);
    let run = stack.run(&[
        "drill",
        "--quick",
        "--format",
        "json",
        "--duration",
        "5s",
        "--report",
        chart.to_str().unwrap(),
    ]);
    stop.store(true, Ordering::Relaxed);
    let counted = survivors.join().unwrap();
    if run.code != 0 {
        // What the receiver and Alertmanager saw, for the failure's post-mortem.
        for container in [webhook.clone(), format!("{}-alertmanager", stack.name)] {
            let logs = std::process::Command::new("docker")
                .args(["logs", "--timestamps", &container])
                .output()
                .unwrap();
            eprintln!(
                "--- {container}\n{}{}",
                String::from_utf8_lossy(&logs.stdout),
                String::from_utf8_lossy(&logs.stderr)
            );
        }
        // Alertmanager's groups and its notification metrics, as the drill left them.
        let alertmanager = stack.ports[3];
        let groups = http_get(alertmanager, "/api/v2/alerts/groups").unwrap_or_default();
        let metrics = http_get(alertmanager, "/metrics").unwrap_or_default();
        let notifications: Vec<&str> = metrics
            .lines()
            .filter(|l| {
                l.starts_with("alertmanager_notification") || l.starts_with("alertmanager_nflog")
            })
            .collect();
        eprintln!(
            "--- groups\n{groups}\n--- metrics\n{}",
            notifications.join("\n")
        );
        eprintln!("--- firing in Prometheus\n{}", firing_history(&stack));
        // Whether a notification the drill waited for in vain comes later.
        std::thread::sleep(Duration::from_secs(90));
        let logs = docker(&["logs", "--timestamps", &webhook]);
        eprintln!("--- {webhook}, 90 s later\n{logs}");
    }
    let run = run.success();
    // The stack as the drill found it: every service answers, every alert it induced resolved.
    let status = stack.run(&["status"]);
    assert_eq!(status.code, 0, "status right after the drill: {status}");
    // The rendered rules keep their 5m windows and `for`s: a burst the drill made (evictions or
    // rejected writes, refused connections, error replies) may keep its rendered alert firing on
    // the drill's target until the burst leaves the window (the drill says so). Nothing else
    // fires that did not before (the rendered rules evaluate on their own group's clock: within
    // an evaluation interval, 5 s here, of the drill's last resolve).
    let windowed = [
        "RedisBufferOverflow",
        "RedisRejectedConnections",
        "RedisHighErrorRate",
    ];
    let only_windowed = || {
        let now = firing(&stack);
        let new: Vec<&String> = now.iter().filter(|a| !firing_before.contains(a)).collect();
        let allowed = |a: &String| windowed.iter().any(|w| *a == format!("\"{w}\" \"redis\""));
        new.iter().all(|a| allowed(a))
    };
    assert!(
        eventually(10, only_windowed),
        "firing now: {:?}, before the drill: {firing_before:?}\n{}",
        firing(&stack),
        firing_history(&stack)
    );

    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["ok"], true, "{report:#}");
    let names: Vec<&str> = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "baseline",
            "capacity",
            "pressure",
            "recovery",
            "throughput",
            "alerts"
        ]
    );
    assert_eq!(report["profile"], "dev");
    let scenario = |name: &str| {
        report["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {report}"))
            .clone()
    };

    // 1. No drill key is left: DBSIZE as before.
    assert_eq!(redis_cli(port, Some(PASSWORD), &["dbsize"]), keys_before);

    // 2. The receiver got RedisDown firing, then resolved.
    let received = docker(&["logs", &webhook]);
    let notified = |what: &str| {
        received
            .lines()
            .filter(|l| l.contains(what))
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .any(|m| m.to_string().contains("RedisDown"))
    };
    assert!(notified("[FIRING"), "{received}");
    assert!(notified("[RESOLVED]"), "{received}");
    // Every alert the drill says was delivered was received, by name.
    let alerts = scenario("alerts");
    for alert in alerts["alerts"].as_array().unwrap() {
        let name = alert["alert"].as_str().unwrap();
        if alert["delivered"] == true {
            assert!(received.contains(&format!("{name} ")), "{name}: {received}");
        }
        if alert["induced"] == true {
            assert_eq!(alert["fired"], true, "{alert}");
            assert_eq!(alert["resolved"], true, "{alert}");
        }
    }
    let redis_down = alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["alert"] == "RedisDown")
        .unwrap();
    assert_eq!(redis_down["delivered"], true, "{redis_down}");

    // 3. The rules API shows the rendered `for` of every alert again, and no drill rule.
    let loaded = loaded_rules(&stack);
    assert!(
        loaded.iter().all(|(_, _, file)| !file.contains("drill")),
        "{loaded:?}"
    );
    for (name, seconds) in rendered_fors(&stack) {
        assert!(
            loaded.iter().any(|(n, s, _)| *n == name && *s == seconds),
            "{name} is not evaluated with for {seconds}s: {loaded:?}"
        );
    }
    assert!(
        run.stderr.contains("restored: removed the drill's rules"),
        "{run}"
    );
    // Alertmanager's file is back byte for byte, and Alertmanager runs it: no drill route.
    assert_eq!(stack.project.read(alertmanager_yml), alertmanager_before);
    assert!(
        run.stderr
            .contains("restored: removed the drill's Alertmanager route"),
        "{run}"
    );
    let status = http_get(stack.ports[3], "/api/v2/status").unwrap();
    let status: Value = serde_json::from_str(&status).unwrap();
    let running = status["config"]["original"].as_str().unwrap();
    assert!(!running.contains("drill"), "{running}");

    // 4. Recovery agrees with the test's own count of the keys in the restarted Redis: every
    //    survivor, and at most the batch in flight at the kill (applied, never acknowledged).
    let recovery = scenario("recovery");
    let survived = recovery["survived"].as_u64().unwrap();
    assert!(
        (survived..=survived + 16).contains(&counted),
        "the test counted {counted} keys after the restart; the drill {recovery}"
    );
    assert_eq!(
        survived + recovery["lost"].as_u64().unwrap(),
        recovery["acked"].as_u64().unwrap()
    );

    // 5. The chart: lines and alert lanes; kept under the target folder for a look.
    let svg = std::fs::read_to_string(&chart).unwrap();
    // Each alert's lane names what it is about: the managed Redis is target `redis`.
    assert!(
        svg.starts_with("<svg") && svg.contains("RedisDown · redis firing"),
        "{svg}"
    );
    // Every alert the drill saw resolve has its resolve tick on its lane.
    for alert in alerts["alerts"].as_array().unwrap() {
        let name = alert["alert"].as_str().unwrap();
        if alert["resolved"] == true {
            let lane = format!("{name} · ");
            let ticked = svg
                .split("<title>")
                .any(|title| title.starts_with(&lane) && title.contains(" resolved at "));
            assert!(ticked, "{name} resolved, but its lane has no tick: {svg}");
        }
    }
    let kept =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("drill-{policy}.svg"));
    std::fs::write(&kept, &svg).unwrap();

    // 6. The pressure scenario saw its alert fire; the policy's own checks are the caller's.
    let pressure = scenario("pressure");
    assert_eq!(pressure["alert"], "RedisBufferOverflow");
    assert_eq!(pressure["alert_state"], "firing", "{pressure}");
    pressure
}

/// Every alert off but `redis_down`, so that `alerts` stops Redis first.
fn only_redis_down() -> String {
    [
        "exporter_down",
        "high_latency",
        "low_throughput",
        "memory_pressure",
        "too_many_connections",
        "buffer_overflow",
        "rejected_connections",
        "high_error_rate",
        "persistence_failing",
        "no_maxmemory",
        "replica_link_down",
        "replicas_lost",
        "no_primary",
        "last_save_too_old",
        "alertmanager_down",
    ]
    .iter()
    .map(|key| format!("\n[alerts.{key}]\nenabled = false\n"))
    .collect()
}

#[test]
fn ctrl_c_while_redis_is_stopped_starts_it_again_and_removes_the_drill_keys() {
    if !docker_ready() {
        return;
    }
    let stack = Stack::new("drillint", &only_redis_down()).with_profile("dev");
    stack.up();
    let port = stack.ports[0];
    redis_cli(port, Some(PASSWORD), &["set", "user:key", "kept"]);
    redis_cli(port, Some(PASSWORD), &["set", "stackgen:drill:left", "x"]);
    let alertmanager_yml = "generated/dev/alertmanager/alertmanager.yml";
    let alertmanager_before = stack.project.read(alertmanager_yml);
    let container = format!("{}-redis", stack.name);
    let running = || {
        docker(&["inspect", "-f", "{{.State.Running}}", &container])
            .trim()
            .to_string()
    };
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_stackgen"))
        .current_dir(stack.project.path())
        .env("NO_COLOR", "1")
        .args(["drill", "alerts", "--quick", "-p", "dev"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while running() != "false" {
        if Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "the drill never stopped Redis: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let pid = child.id().to_string();
    let signal = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(signal.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("Interrupted: restoring what the drill changed."),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("restored: started {container} again")),
        "{stderr}"
    );
    assert!(
        stderr.contains("restored: removed the drill's rules"),
        "{stderr}"
    );
    // The drill's Alertmanager route was in the file while Redis was down, and is gone.
    assert!(
        stderr.contains("restored: removed the drill's Alertmanager route"),
        "{stderr}"
    );
    assert_eq!(stack.project.read(alertmanager_yml), alertmanager_before);
    // When the command has exited, Redis runs again, with the user's key and no drill key.
    assert_eq!(running(), "true");
    assert_eq!(redis_cli(port, Some(PASSWORD), &["ping"]), "PONG");
    assert_eq!(redis_cli(port, Some(PASSWORD), &["dbsize"]), "1");
    assert_eq!(
        redis_cli(port, Some(PASSWORD), &["get", "user:key"]),
        "kept"
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    assert!(report.is_null(), "the human table, not JSON, was asked for");
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("interrupted"), "{table}");
}
