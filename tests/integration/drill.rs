//! `stackgen drill` on a real engine: refused on a prod-policy profile without `--allow-prod`,
//! and `baseline` with it: real load through the `redis` crate, its figures checked against
//! what the test itself reads from Redis and Prometheus, no drill key left, the user's keys
//! intact.

use serde_json::Value;

use crate::e2e::{Stack, docker_ready};
use crate::support::*;

/// `stackgen drill SCENARIO --allow-prod --format json ARGS… -p prod`, which must exit 0: its
/// report.
fn drill(stack: &Stack, scenario: &str, args: &[&str]) -> Value {
    let mut all = vec!["drill", scenario, "--allow-prod", "--format", "json"];
    all.extend(args);
    let run = stack.run(&all).success();
    serde_json::from_str(&run.stdout).unwrap()
}

#[test]
fn baseline_loads_redis_agrees_with_prometheus_and_leaves_no_key() {
    if !docker_ready() {
        return;
    }
    let stack = Stack::new("drill", "");
    stack.up();
    let password = Some(crate::e2e::PASSWORD);
    let port = stack.ports[0];
    redis_cli(port, password, &["set", "user:key", "kept"]);
    let processed = || -> u64 {
        let info = redis_cli(port, password, &["info", "stats"]);
        info.lines()
            .find_map(|l| l.strip_prefix("total_commands_processed:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };

    // 1. The stack's profile has the prod policy: refused, nothing touched.
    let before = processed();
    let refused = stack
        .run(&["drill", "baseline", "--duration", "2s"])
        .code(2);
    assert!(refused.stderr.contains("--allow-prod"), "{refused}");
    assert_eq!(refused.stderr.trim().lines().count(), 1, "{refused}");
    // Only the test's own INFO ran meanwhile (and the exporter's scrapes).
    assert!(
        processed() - before < 200,
        "the refused drill sent commands"
    );

    // 2. With --allow-prod: load, figures, cleanup.
    let before = processed();
    let run = stack
        .run(&[
            "drill",
            "baseline",
            "--allow-prod",
            "--duration",
            "5s",
            "--clients",
            "8",
            "--pipeline",
            "4",
            "--value-size",
            "100",
            "--format",
            "json",
        ])
        .success();
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["profile"], "prod");
    let baseline = &report["scenarios"][0];
    assert_eq!(baseline["name"], "baseline");
    let commands = baseline["commands"].as_u64().unwrap();
    let ops = baseline["ops_per_sec"].as_f64().unwrap();
    let duration = baseline["duration_s"].as_f64().unwrap();
    assert!(commands > 1000, "{baseline}");
    assert!((ops * duration - commands as f64).abs() < 1.0, "{baseline}");
    // Redis' own count: the drill's commands, its cleanup (SCAN, UNLINK) and the exporter's
    // scrapes; within 10 % of what the drill says it sent.
    let counted = (processed() - before) as f64;
    assert!(
        (counted - commands as f64).abs() / (commands as f64) < 0.10,
        "Redis counted {counted}, the drill {commands}"
    );
    let prometheus = baseline["prometheus_ops_per_sec"].as_f64().unwrap();
    assert!((prometheus - ops).abs() / ops < 0.10, "{baseline}");
    let p50 = baseline["p50_ms"].as_f64().unwrap();
    let p99 = baseline["p99_ms"].as_f64().unwrap();
    assert!(0.0 < p50 && p50 <= p99 && p99 <= baseline["max_ms"].as_f64().unwrap());
    assert_eq!(baseline["low_throughput_threshold_ops_per_sec"], 1000.0);
    assert_eq!(baseline["errors"], 0);
    // No drill key left; the user's key intact.
    assert!(report["drill_keys_removed"].as_u64().unwrap() > 0);
    assert_eq!(redis_cli(port, password, &["dbsize"]), "1");
    assert_eq!(redis_cli(port, password, &["get", "user:key"]), "kept");
    assert!(
        run.stderr
            .contains("drill keys removed; nothing else was changed")
    );
}

#[test]
fn recovery_kills_redis_counts_survivors_and_leaves_it_running() {
    if !docker_ready() {
        return;
    }
    let stack = Stack::new("recovery", "");
    stack.up();
    let password = Some(crate::e2e::PASSWORD);
    let port = stack.ports[0];
    redis_cli(port, password, &["set", "user:key", "kept"]);
    let container = format!("{}-redis", stack.name);
    let started_at = || crate::e2e::docker(&["inspect", "-f", "{{.State.StartedAt}}", &container]);
    let before = started_at();

    let report = drill(&stack, "recovery", &["--duration", "3s"]);
    let recovery = &report["scenarios"][0];
    assert_eq!(recovery["name"], "recovery");
    assert_eq!(recovery["ok"], true, "{recovery}");
    let acked = recovery["acked"].as_u64().unwrap();
    let survived = recovery["survived"].as_u64().unwrap();
    assert!(acked > 100, "{recovery}");
    assert_eq!(survived + recovery["lost"].as_u64().unwrap(), acked);
    // AOF everysec: at most a second of writes lost.
    assert!(
        recovery["lost_seconds_of_writes"].as_f64().unwrap() <= 1.0,
        "{recovery}"
    );
    assert!(recovery["recovery_s"].as_f64().unwrap() > 0.0);
    // Redis really was killed and runs again, with the user's key and no drill key.
    assert_ne!(started_at(), before, "Redis was not restarted");
    assert_eq!(redis_cli(port, password, &["ping"]), "PONG");
    assert_eq!(redis_cli(port, password, &["dbsize"]), "1");
    assert_eq!(redis_cli(port, password, &["get", "user:key"]), "kept");
    // Removed: the surviving acknowledged writes, and at most the one batch in flight at the
    // kill (applied, never acknowledged).
    let removed = report["drill_keys_removed"].as_u64().unwrap();
    assert!(
        (survived..=survived + 16).contains(&removed),
        "{removed} drill keys removed, {survived} survived"
    );
}

#[test]
fn capacity_fills_to_the_threshold_only_with_leave_to_evict() {
    if !docker_ready() {
        return;
    }
    let stack = Stack::new("capacity", "");
    // A small Redis: maxmemory 192MiB.
    stack.edit(|toml| toml.replacen("[redis]\n", "[redis]\nmemory_limit = \"256MiB\"\n", 1));
    stack.up();
    let password = Some(crate::e2e::PASSWORD);
    let port = stack.ports[0];
    redis_cli(port, password, &["set", "user:key", "kept"]);

    // 1. A user's key: refused, nothing written.
    let refused = stack
        .run(&["drill", "capacity", "--allow-prod"])
        .code(2)
        .stderr_has("--allow-eviction");
    assert_eq!(refused.stderr.trim().lines().count(), 1, "{refused}");
    assert_eq!(redis_cli(port, password, &["dbsize"]), "1");

    // 2. With leave: filled past the threshold, the exporter agrees with INFO, the alert
    //    fires (--quick: no `for`), and afterwards only the user's key is there.
    let report = drill(&stack, "capacity", &["--allow-eviction", "--quick"]);
    let capacity = &report["scenarios"][0];
    assert_eq!(capacity["ok"], true, "{capacity}");
    assert_eq!(capacity["maxmemory"], 192 * 1024 * 1024);
    let used = capacity["used_memory"].as_f64().unwrap();
    assert!(used >= 0.9 * 192.0 * 1024.0 * 1024.0, "{capacity}");
    assert!(capacity["keys_at_threshold"].as_u64().unwrap() > 1000);
    assert!(capacity["exporter_agreement_percent"].as_f64().unwrap() <= 5.0);
    assert_eq!(capacity["alert"], "RedisMemoryPressure");
    assert_eq!(capacity["alert_state"], "firing", "{capacity}");
    assert_eq!(redis_cli(port, password, &["dbsize"]), "1");
    assert_eq!(redis_cli(port, password, &["get", "user:key"]), "kept");
}

/// `pressure` on a small Redis under `policy`: what it must see, and the alert.
fn pressure_on(test: &str, policy: &str) -> Value {
    let stack = Stack::new(test, "");
    stack.edit(|toml| {
        toml.replacen(
            "[redis]\n",
            &format!("[redis]\nmemory_limit = \"128MiB\"\nmaxmemory_policy = \"{policy}\"\n"),
            1,
        )
    });
    stack.up();
    let report = drill(&stack, "pressure", &["--quick"]);
    // Every drill key is gone, even under noeviction with Redis full.
    assert_eq!(
        redis_cli(stack.ports[0], Some(crate::e2e::PASSWORD), &["dbsize"]),
        "0"
    );
    report["scenarios"][0].clone()
}

#[test]
fn pressure_evicts_under_an_evicting_policy_and_the_alert_follows() {
    if !docker_ready() {
        return;
    }
    let pressure = pressure_on("evict", "allkeys-lru");
    assert_eq!(pressure["ok"], true, "{pressure}");
    assert!(pressure["evicted_keys"].as_u64().unwrap() > 0, "{pressure}");
    assert!(
        pressure["exporter_evicted_keys"].as_u64().unwrap() > 0,
        "{pressure}"
    );
    assert_eq!(pressure["rejected_writes"], 0);
    assert_eq!(pressure["alert"], "RedisBufferOverflow");
    let written = pressure["written_bytes"].as_f64().unwrap();
    assert!(
        written >= 1.1 * pressure["maxmemory"].as_f64().unwrap(),
        "{pressure}"
    );
}

#[test]
fn pressure_is_rejected_with_oom_under_noeviction_and_the_alert_follows() {
    if !docker_ready() {
        return;
    }
    let pressure = pressure_on("oom", "noeviction");
    assert_eq!(pressure["ok"], true, "{pressure}");
    assert!(
        pressure["rejected_writes"].as_u64().unwrap() > 0,
        "{pressure}"
    );
    assert_eq!(pressure["evicted_keys"], 0);
    assert_eq!(pressure["alert"], "RedisBufferOverflow");
    assert_eq!(pressure["alert_state"], "firing", "{pressure}");
}

#[test]
fn throughput_holds_above_the_threshold_every_second_and_stays_quiet() {
    if !docker_ready() {
        return;
    }
    let stack = Stack::new("throughput", "");
    stack.up();
    let args = ["--duration", "5s", "--clients", "8", "--pipeline", "4"];
    let report = drill(&stack, "throughput", &args);
    let throughput = &report["scenarios"][0];
    assert_eq!(throughput["ok"], true, "{throughput}");
    let seconds: Vec<u64> = throughput["ops_per_sec_by_second"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(seconds.len(), 5);
    let min = throughput["ops_per_sec_min"].as_f64().unwrap();
    assert_eq!(min, *seconds.iter().min().unwrap() as f64);
    assert!(min >= 1000.0, "{throughput}");
    assert_eq!(throughput["alert"], "RedisLowThroughput");
    assert_eq!(throughput["alert_state"], "inactive");
    assert_eq!(
        redis_cli(stack.ports[0], Some(crate::e2e::PASSWORD), &["dbsize"]),
        "0"
    );
}
