//! The dead man's switch and inhibition, end to end: the always-firing Watchdog reaches a
//! heartbeat receiver every minute through the URL in its secret (which no generated file,
//! argv or environment holds), and the live Alertmanager silences what its inhibition rules
//! say, and nothing else.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::e2e::{Stack, docker, docker_ready};
use crate::support::*;

const KEY: &str = "e2e-heartbeat-key-5f1c";

#[test]
fn the_watchdog_beats_every_minute_and_inhibition_silences_only_what_it_should() {
    if !docker_ready() {
        return;
    }
    let heartbeat = "\n[alertmanager.heartbeat]\nurl = { file = \"secrets/heartbeat_url\" }\n";
    let stack = Stack::new("heartbeat", heartbeat);
    stack.project.secret(
        "secrets/heartbeat_url",
        &format!("http://webhook:8080/ping/{KEY}\n"),
    );
    stack.up();
    let started = Instant::now();
    // The first beat may come before the receiver listens: Alertmanager retries it.
    let webhook = stack.webhook();

    // 1. Beats: each a POST to the secret's URL carrying the Watchdog, a minute apart (from
    // the second on: the first may have waited for the receiver).
    let beats = || -> Vec<String> {
        let logs = docker(&["logs", &webhook]);
        let lines: Vec<&str> = logs.lines().collect();
        (lines.windows(2))
            .filter(|w| w[0] == format!("> POST /ping/{KEY} HTTP/1.1"))
            .map(|w| w[1].to_string())
            .collect()
    };
    let mut seen: Vec<Instant> = Vec::new();
    while seen.len() < 4 && started.elapsed() < Duration::from_secs(300) {
        let count = beats().len();
        while seen.len() < count {
            seen.push(Instant::now());
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    let logs = docker(&["logs", &webhook]);
    assert!(
        seen.len() >= 4,
        "{} beats in 5 minutes:\n{logs}",
        seen.len()
    );
    assert!(
        seen[0] - started < Duration::from_secs(90),
        "the first beat came {:?} after `up`",
        seen[0] - started
    );
    for pair in seen[1..].windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            (Duration::from_secs(45)..Duration::from_secs(80)).contains(&gap),
            "beats {gap:?} apart:\n{logs}"
        );
    }
    let beat: Value = serde_json::from_str(&beats()[0]).unwrap();
    assert_eq!(beat["status"], "firing", "{beat}");
    assert_eq!(beat["commonLabels"]["alertname"], "Watchdog", "{beat}");
    // Only the Watchdog goes there, and it goes nowhere else.
    assert!(beats().iter().all(|b| !b.contains("RedisDown")));
    assert!(
        !logs.contains("> POST /services/E2E/HOOK"),
        "the Watchdog reached Slack:\n{logs}"
    );

    // 2. The URL is in no generated file, and in no container's argv or environment.
    let generated = stack.project.path().join("generated");
    for file in walk(&generated) {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            !text.contains(KEY),
            "{} holds the heartbeat URL",
            file.display()
        );
    }
    let alertmanager = format!("{}-alertmanager", stack.name);
    let inspect = docker(&["inspect", &alertmanager]);
    let inspect: Value = serde_json::from_str(&inspect).unwrap();
    for part in ["Args", "Config"] {
        assert!(
            !inspect[0][part].to_string().contains(KEY),
            "{part}: {inspect}"
        );
    }

    // 3. Inhibition in the running Alertmanager, with alerts posted to it as Prometheus would.
    let post = |labels: &[&str]| {
        let mut args = vec!["exec", alertmanager.as_str(), "amtool", "alert", "add"];
        args.extend_from_slice(labels);
        args.push("--alertmanager.url=http://localhost:9093");
        docker(&args);
    };
    // A Redis down silences its other alerts, critical ones too, but not an SLO's burn.
    post(&[
        "alertname=RedisDown",
        "instance=a",
        "target=a",
        "severity=critical",
    ]);
    post(&[
        "alertname=RedisMemoryHigh",
        "instance=a",
        "target=a",
        "severity=warning",
    ]);
    post(&[
        "alertname=RedisReplicationBroken",
        "instance=a",
        "target=a",
        "severity=critical",
    ]);
    post(&[
        "alertname=RedisSLOBurn1h",
        "instance=a",
        "slo=avail",
        "severity=critical",
    ]);
    post(&[
        "alertname=RedisMemoryHigh",
        "instance=b",
        "target=b",
        "severity=warning",
    ]);
    // Critical silences warning of the same alert on the same target only.
    post(&[
        "alertname=RedisSlowlogGrowing",
        "instance=c",
        "target=c",
        "severity=critical",
    ]);
    post(&[
        "alertname=RedisSlowlogGrowing",
        "instance=c",
        "target=c",
        "severity=warning",
    ]);
    post(&[
        "alertname=RedisBlockedClients",
        "instance=c",
        "target=c",
        "severity=warning",
    ]);
    let port = stack.ports[3];
    let inhibited = |name: &str, instance: &str, severity: &str| -> Option<bool> {
        let alerts: Value = serde_json::from_str(&http_get(port, "/api/v2/alerts")?).ok()?;
        let alert = alerts.as_array()?.iter().find(|a| {
            a["labels"]["alertname"] == name
                && a["labels"]["instance"] == instance
                && a["labels"]["severity"] == severity
        })?;
        Some(!alert["status"]["inhibitedBy"].as_array()?.is_empty())
    };
    let expected = [
        ("RedisDown", "a", "critical", false),
        ("RedisMemoryHigh", "a", "warning", true),
        ("RedisReplicationBroken", "a", "critical", true),
        ("RedisSLOBurn1h", "a", "critical", false),
        ("RedisMemoryHigh", "b", "warning", false),
        ("RedisSlowlogGrowing", "c", "critical", false),
        ("RedisSlowlogGrowing", "c", "warning", true),
        ("RedisBlockedClients", "c", "warning", false),
    ];
    let settled = eventually(60, || {
        (expected.iter()).all(|(n, i, s, want)| inhibited(n, i, s) == Some(*want))
    });
    let states: Vec<_> = (expected.iter())
        .map(|(n, i, s, want)| (n, i, s, want, inhibited(n, i, s)))
        .collect();
    assert!(
        settled,
        "(alert, instance, severity, inhibited?, seen): {states:?}"
    );

    // The exporter down silences every target's alerts; the Watchdog keeps beating.
    post(&[
        "alertname=RedisExporterDown",
        "instance=redis-exporter:9121",
        "severity=critical",
    ]);
    let silenced = eventually(60, || {
        inhibited("RedisMemoryHigh", "b", "warning") == Some(true)
            && inhibited("RedisBlockedClients", "c", "warning") == Some(true)
            && inhibited("RedisExporterDown", "redis-exporter:9121", "critical") == Some(false)
            && inhibited("Watchdog", "", "none").is_none_or(|i| !i)
    });
    assert!(silenced, "{}", http_get(port, "/api/v2/alerts").unwrap());
    let before = beats().len();
    assert!(
        eventually(90, || beats().len() > before),
        "no beat while the exporter is down"
    );
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
