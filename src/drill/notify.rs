//! Where an alert is: its state in Prometheus (the drill's copy under `--quick`), whether
//! Alertmanager holds it, and whether Alertmanager sent a Slack notification after that.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Endpoints, prometheus, quick};
use crate::docker::probe;

/// The alert's state in Prometheus now (`pending`, `firing`), if it is active. Under `--quick`
/// only the drill's copy counts.
pub fn alert_now(endpoints: &Endpoints, alert: &str) -> Option<String> {
    alert_state(endpoints, alert).ok().flatten()
}

/// The alert's state, or why Prometheus could not say: a failed request is no answer, never
/// "inactive".
fn alert_state(endpoints: &Endpoints, alert: &str) -> Result<Option<String>, String> {
    let answer = probe::get(
        &endpoints.prometheus_host,
        endpoints.prometheus_port,
        "/api/v1/alerts",
    )
    .map_err(|e| e.to_string())?;
    let answer: Value = serde_json::from_str(&answer.body).map_err(|e| e.to_string())?;
    let alerts = answer["data"]["alerts"]
        .as_array()
        .ok_or("Prometheus answered without alerts")?;
    let states = alerts
        .iter()
        .filter(|a| a["labels"]["alertname"] == alert && ours(endpoints, &a["labels"]))
        .filter_map(|a| a["state"].as_str())
        .collect::<Vec<_>>();
    // Firing wins over pending when several series have the alert.
    Ok(states
        .iter()
        .find(|s| **s == "firing")
        .or(states.first())
        .map(|s| s.to_string()))
}

/// Whether an alert's labels are the drill's copy (under `--quick`) or the rendered rule's.
fn ours(endpoints: &Endpoints, labels: &Value) -> bool {
    (labels[quick::LABEL.0] == quick::LABEL.1) == endpoints.quick
}

/// How long past an alert's `for` its state may take to show: scrapes and evaluations.
pub fn margin(endpoints: &Endpoints) -> Duration {
    2 * endpoints.scrape_interval + 2 * endpoints.evaluation_interval + Duration::from_secs(15)
}

/// The `for` the alert is evaluated with: none under `--quick`.
pub fn effective_for(endpoints: &Endpoints, rendered: Duration) -> Duration {
    if endpoints.quick {
        Duration::ZERO
    } else {
        rendered
    }
}

/// Waits until `done` holds for the alert's state (`None`: inactive), up to `timeout`; the
/// seconds it took.
pub async fn until(
    endpoints: &Endpoints,
    alert: &str,
    timeout: Duration,
    done: impl Fn(Option<&str>) -> bool,
) -> Option<f64> {
    let started = Instant::now();
    loop {
        if let Ok(state) = alert_state(endpoints, alert)
            && done(state.as_deref())
        {
            return Some(started.elapsed().as_secs_f64());
        }
        if started.elapsed() > timeout {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

pub fn is_firing(state: Option<&str>) -> bool {
    state == Some("firing")
}

pub fn is_inactive(state: Option<&str>) -> bool {
    state.is_none()
}

/// Waits, up to `timeout`, until the alert has not fired for one of Alertmanager's group
/// intervals (and the evaluations that tell it so); the seconds it took. Until then Alertmanager
/// may not have sent that it resolved, and takes it firing again for the firing it already
/// sent: there would be no new notification to prove delivery by. Without Slack, at once.
pub async fn forgotten(endpoints: &Endpoints, alert: &str, timeout: Duration) -> Option<f64> {
    let started = Instant::now();
    if !endpoints.slack {
        return Some(0.0);
    }
    let quick = if endpoints.quick { quick::LABEL.1 } else { "" };
    let since =
        endpoints.group_interval + 2 * endpoints.evaluation_interval + Duration::from_secs(5);
    let query = format!(
        "count_over_time(ALERTS{{alertname=\"{alert}\",alertstate=\"firing\",{}=\"{quick}\"}}[{}s])",
        quick::LABEL.0,
        since.as_secs(),
    );
    loop {
        if let Ok(None) = prometheus::value(endpoints, &query) {
            return Some(started.elapsed().as_secs_f64());
        }
        if started.elapsed() > timeout {
            return None;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Whether Alertmanager holds the alert as active (not silenced, not inhibited).
pub fn in_alertmanager(endpoints: &Endpoints, alert: &str) -> bool {
    let Some((host, port)) = &endpoints.alertmanager else {
        return false;
    };
    let filter = probe::encode_query(&format!("alertname=\"{alert}\""));
    let Ok(answer) = probe::get(host, *port, &format!("/api/v2/alerts?filter={filter}")) else {
        return false;
    };
    let Ok(alerts) = serde_json::from_str::<Value>(&answer.body) else {
        return false;
    };
    alerts
        .as_array()
        .into_iter()
        .flatten()
        .any(|a| a["status"]["state"] == "active" && ours(endpoints, &a["labels"]))
}

/// Alertmanager's Slack notifications so far: sent, and failed.
pub fn slack_notifications(endpoints: &Endpoints) -> Option<(f64, f64)> {
    let (host, port) = endpoints.alertmanager.as_ref()?;
    let metrics = probe::get(host, *port, "/metrics").ok()?.body;
    let sum = |name: &str| {
        metrics
            .lines()
            .filter(|l| l.starts_with(name) && l.contains("integration=\"slack\""))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>()
    };
    Some((
        sum("alertmanager_notifications_total{"),
        sum("alertmanager_notifications_failed_total{"),
    ))
}

/// Prometheus' `--rules.alert.resend-delay`, which the stack leaves at its default.
const RESEND_DELAY: Duration = Duration::from_secs(60);

/// What Alertmanager did with a firing alert: whether it holds it, and — when Slack is
/// configured — whether it sent a Slack notification once it held it (and none failed), with
/// why not when it did not.
pub async fn delivery(endpoints: &Endpoints, alert: &str) -> (bool, Option<Result<(), String>>) {
    // Prometheus sends a firing alert again at most once a minute (its resend delay): after
    // Alertmanager restarted (the drill stops it for AlertmanagerDown), an alert already firing
    // reaches it only then.
    let wait = RESEND_DELAY + 2 * endpoints.evaluation_interval + Duration::from_secs(10);
    let deadline = Instant::now() + wait;
    let held = loop {
        if in_alertmanager(endpoints, alert) {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    if !endpoints.slack {
        return (held, None);
    }
    if !held {
        let why = format!("Alertmanager did not hold it within {} s", wait.as_secs());
        return (false, Some(Err(why)));
    }
    let Some((sent, failed)) = slack_notifications(endpoints) else {
        return (
            held,
            Some(Err("Alertmanager's metrics did not answer".into())),
        );
    };
    let within = endpoints.delivery_within + Duration::from_secs(10);
    let deadline = Instant::now() + within;
    let now = loop {
        match slack_notifications(endpoints) {
            Some((now, _)) if now > sent => break now,
            _ if Instant::now() > deadline => {
                let why = format!(
                    "Alertmanager held it but sent no Slack notification within {} s ({sent} \
                     sent before and after)",
                    within.as_secs()
                );
                return (held, Some(Err(why)));
            }
            _ => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    };
    match slack_notifications(endpoints) {
        Some((_, f)) if f > failed => {
            let why = format!(
                "Slack notifications failed meanwhile ({failed} failed before, {f} after; \
                 {sent} sent before, {now} after)"
            );
            (held, Some(Err(why)))
        }
        _ => (held, Some(Ok(()))),
    }
}
