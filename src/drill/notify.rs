//! Where an alert is: its state in Prometheus (the drill's copy under `--quick`), whether
//! Alertmanager holds it, and whether Alertmanager sent a Slack notification after that.

use std::collections::BTreeMap;
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
    Ok(active(endpoints)?.remove(alert))
}

/// Every active alert's state in Prometheus (`pending`, `firing`), by name; firing wins when
/// several series have the alert. Under `--quick` only the drill's copies count.
pub fn active(endpoints: &Endpoints) -> Result<BTreeMap<String, String>, String> {
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
    let mut states = BTreeMap::new();
    for alert in alerts.iter().filter(|a| ours(endpoints, &a["labels"])) {
        let (Some(name), Some(state)) = (
            alert["labels"]["alertname"].as_str(),
            alert["state"].as_str(),
        ) else {
            continue;
        };
        if states.get(name).is_none_or(|s| s != "firing") {
            states.insert(name.to_string(), state.to_string());
        }
    }
    Ok(states)
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
    let check = || {
        let state = alert_state(endpoints, alert).ok()?;
        done(state.as_deref()).then_some(())
    };
    poll(timeout, Duration::from_millis(500), check)
        .await
        .map(|((), seconds)| seconds)
}

/// Asks `check` every `every` until it answers, up to `timeout`: the answer, and the seconds
/// it took.
async fn poll<T>(
    timeout: Duration,
    every: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> Option<(T, f64)> {
    let started = Instant::now();
    loop {
        if let Some(answer) = check() {
            return Some((answer, started.elapsed().as_secs_f64()));
        }
        if started.elapsed() > timeout {
            return None;
        }
        tokio::time::sleep(every).await;
    }
}

/// An alert watched until it fires. While it does not, Alertmanager's Slack notification counts
/// are taken as well — before its state, so that they surely come from before Alertmanager
/// could have it: a delivery counted from them cannot miss a notification Alertmanager sent
/// between receiving the alert and the drill seeing it there.
pub struct Watch<'a> {
    endpoints: &'a Endpoints,
    alert: &'a str,
    /// The counts when the alert was last seen not firing.
    pub before: Option<Counts>,
}

impl<'a> Watch<'a> {
    pub fn new(endpoints: &'a Endpoints, alert: &'a str) -> Self {
        Self {
            endpoints,
            alert,
            before: None,
        }
    }

    /// Whether the alert fires now.
    pub fn firing(&mut self) -> bool {
        let counts = self
            .endpoints
            .slack
            .then(|| slack_notifications(self.endpoints))
            .flatten();
        let firing = is_firing(alert_now(self.endpoints, self.alert).as_deref());
        if !firing {
            self.before = counts;
        }
        firing
    }

    /// Waits until the alert fires, up to `timeout`: the seconds it took.
    pub async fn until_firing(&mut self, timeout: Duration) -> Option<f64> {
        poll(timeout, Duration::from_millis(500), || {
            self.firing().then_some(())
        })
        .await
        .map(|((), seconds)| seconds)
    }

    /// Waits for the alert to fire, up to its `for` and a margin: the seconds it took.
    pub async fn fires(&mut self, r#for: Duration) -> Option<f64> {
        let timeout = effective_for(self.endpoints, r#for) + margin(self.endpoints);
        self.until_firing(timeout).await
    }
}

pub fn is_firing(state: Option<&str>) -> bool {
    state == Some("firing")
}

pub fn is_inactive(state: Option<&str>) -> bool {
    state.is_none()
}

/// How often Alertmanager drops its emptied alert groups (its dispatcher's maintenance).
const GROUP_CLEANUP: Duration = Duration::from_secs(30);

/// How long past its due time a flush may take to show in Alertmanager's metrics.
const FLUSH_MARGIN: Duration = Duration::from_secs(5);

/// Waits until the alert has not fired for one of Alertmanager's group intervals and its group
/// clean-up (and the evaluations that tell it so); the seconds it took. Until the interval has
/// passed, Alertmanager may not have sent that it resolved, and takes it firing again for the
/// firing it already sent: there would be no new notification to prove delivery by. Until the
/// clean-up, its emptied group may still be there, sending on its own clock; after it, the
/// alert's next firing makes a new group, sent exactly `group_wait` after it arrives (see
/// [`delivery`]). Without Slack, at once.
pub async fn forgotten(endpoints: &Endpoints, alert: &str) -> Option<f64> {
    if !endpoints.slack {
        return Some(0.0);
    }
    let quick = if endpoints.quick { quick::LABEL.1 } else { "" };
    let since = endpoints.group_interval
        + GROUP_CLEANUP
        + 2 * endpoints.evaluation_interval
        + Duration::from_secs(5);
    let timeout = since + margin(endpoints);
    let query = format!(
        "count_over_time(ALERTS{{alertname=\"{alert}\",alertstate=\"firing\",{}=\"{quick}\"}}[{}s])",
        quick::LABEL.0,
        since.as_secs(),
    );
    let quiet = || matches!(prometheus::value(endpoints, &query), Ok(None)).then_some(());
    poll(timeout, Duration::from_secs(1), quiet)
        .await
        .map(|((), seconds)| seconds)
}

/// Whether Alertmanager holds the alert as active (not silenced, not inhibited): `None` when it
/// does not; whether its group (the rendered `group_by`: alert name and instance) holds another
/// alert too — the other copy, under `--quick` — when it does.
pub fn in_alertmanager(endpoints: &Endpoints, alert: &str) -> Option<bool> {
    let (host, port) = endpoints.alertmanager.as_ref()?;
    let filter = probe::encode_query(&format!("alertname=\"{alert}\""));
    let answer = probe::get(host, *port, &format!("/api/v2/alerts?filter={filter}")).ok()?;
    let alerts: Value = serde_json::from_str(&answer.body).ok()?;
    let alerts = alerts.as_array()?;
    let held = alerts
        .iter()
        .find(|a| a["status"]["state"] == "active" && ours(endpoints, &a["labels"]))?;
    let instance = &held["labels"]["instance"];
    Some(
        alerts
            .iter()
            .any(|a| !ours(endpoints, &a["labels"]) && a["labels"]["instance"] == *instance),
    )
}

/// Counts of Alertmanager's Slack notifications: sent, and failed.
pub type Counts = (f64, f64);

/// Alertmanager's Slack notifications so far.
pub fn slack_notifications(endpoints: &Endpoints) -> Option<Counts> {
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
/// configured — whether it sent a Slack notification since `before` (the counts from before it
/// could have the alert; now, when there are none) and none failed; with why not when it did
/// not. It returns no sooner than Alertmanager sends the alert's group — `group_wait` after it
/// held the alert in a new group, `group_interval` in one already there: the caller keeps the
/// alert's cause until then, for an alert that resolved before its group was sent is rightly
/// never sent, and a notification of another group in the meantime would be taken for it.
/// Attribution is by time all the same.
pub async fn delivery(
    endpoints: &Endpoints,
    alert: &str,
    before: Option<Counts>,
) -> (bool, Option<Result<(), String>>) {
    // Prometheus sends a firing alert again at most once a minute (its resend delay): after
    // Alertmanager restarted (the drill stops it for AlertmanagerDown), an alert already firing
    // reaches it only then.
    let wait = RESEND_DELAY + 2 * endpoints.evaluation_interval + Duration::from_secs(10);
    let every = Duration::from_millis(250);
    let holds = || in_alertmanager(endpoints, alert);
    let shared = poll(wait, every, holds).await.map(|(shared, _)| shared);
    let held = shared.is_some();
    if !endpoints.slack {
        return (held, None);
    }
    if !held {
        let why = format!("Alertmanager did not hold it within {} s", wait.as_secs());
        return (false, Some(Err(why)));
    }
    let Some((sent, failed)) = before.or_else(|| slack_notifications(endpoints)) else {
        return (
            held,
            Some(Err("Alertmanager's metrics did not answer".into())),
        );
    };
    // A new group is sent `group_wait` after its first alert arrived; an alert joining a group
    // already there, at the group's next interval.
    let held_at = Instant::now();
    let flushed = FLUSH_MARGIN
        + if shared == Some(true) {
            endpoints.group_interval
        } else {
            endpoints.group_wait
        };
    // Given up after a group wait and a group interval, and a margin.
    let within = endpoints.group_wait + endpoints.group_interval + Duration::from_secs(10);
    let more = || {
        let (now, _) = slack_notifications(endpoints)?;
        (now > sent && held_at.elapsed() >= flushed).then_some(now)
    };
    let Some((now, _)) = poll(within, every, more).await else {
        let why = format!(
            "Alertmanager held it but sent no Slack notification within {} s ({sent} sent \
             before and after)",
            within.as_secs()
        );
        return (held, Some(Err(why)));
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
