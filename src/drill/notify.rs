//! Where an alert is: its state in Prometheus (the drill's copy under `--quick`), whether
//! Alertmanager holds it, and whether Alertmanager sent a Slack notification after that.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::site::Site;
use super::{Error, Result, prometheus, quick, timing};
use crate::alerts::AlertKind;
use crate::health::http;

/// The alert's state in Prometheus now (`pending`, `firing`), if it is active. Under `--quick`
/// only the drill's copy counts.
pub(crate) async fn alert_now(site: &Site, alert: &str) -> Option<String> {
    alert_state(site, alert).await.ok().flatten()
}

/// The alert's state, or why Prometheus could not say: a failed request is no answer, never
/// "inactive".
async fn alert_state(site: &Site, alert: &str) -> Result<Option<String>> {
    Ok(active(site).await?.remove(alert))
}

/// Each active alert's state (`pending`, `firing`), by alert name.
type Active = BTreeMap<String, String>;

/// Every active alert's state in Prometheus (`pending`, `firing`), by name; firing wins when
/// several series have the alert. Under `--quick` only the drill's copies count.
async fn active(site: &Site) -> Result<Active> {
    let answer = prometheus::alerts(site).await?;
    let alerts = answer["data"]["alerts"]
        .as_array()
        .ok_or_else(|| Error::Prometheus("Prometheus answered without alerts".into()))?;
    let mut states = BTreeMap::new();
    for alert in alerts.iter().filter(|a| ours(site, &a["labels"])) {
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

/// The rendered rules' alerts firing now about the drill's target, by name (not the drill's
/// copies, whatever the mode).
pub(crate) async fn rendered_firing(site: &Site) -> Result<Vec<String>> {
    let answer = prometheus::alerts(site).await?;
    let alerts = answer["data"]["alerts"].as_array().into_iter().flatten();
    let mut names: Vec<String> = alerts
        .filter(|a| a["state"] == "firing" && a["labels"][quick::LABEL.0].is_null())
        .filter(|a| a["labels"][quick::TARGET_LABEL] == site.target.as_str())
        .filter_map(|a| a["labels"]["alertname"].as_str().map(String::from))
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// Whether an alert's labels are the drill's copy (under `--quick`) or the rendered rule's.
fn ours(site: &Site, labels: &Value) -> bool {
    (labels[quick::LABEL.0] == quick::LABEL.1) == site.timing.quick()
}

/// Waits until `done` holds for the alert's state (`None`: inactive), up to `timeout`; the
/// seconds it took.
pub(crate) async fn until(
    site: &Site,
    alert: &str,
    timeout: Duration,
    done: impl Fn(Option<&str>) -> bool,
) -> Option<f64> {
    let check = async || {
        let state = alert_state(site, alert).await.ok()?;
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
    mut check: impl AsyncFnMut() -> Option<T>,
) -> Option<(T, f64)> {
    let started = Instant::now();
    loop {
        if let Some(answer) = check().await {
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
pub(crate) struct Watch<'a> {
    site: &'a Site,
    pub(crate) kind: AlertKind,
    /// The counts when the alert was last seen not firing.
    pub(crate) before: Option<Counts>,
}

impl<'a> Watch<'a> {
    pub(crate) fn new(site: &'a Site, kind: AlertKind) -> Self {
        Self {
            site,
            kind,
            before: None,
        }
    }

    /// How long the alert may take to fire once its condition holds.
    pub(crate) fn deadline(&self) -> Duration {
        self.site.timing.fires(self.kind)
    }

    /// Whether the alert fires now.
    pub(crate) async fn firing(&mut self) -> bool {
        let counts = match self.site.slack {
            true => slack_notifications(self.site).await,
            false => None,
        };
        let firing = is_firing(alert_now(self.site, self.kind.name()).await.as_deref());
        if !firing {
            self.before = counts;
        }
        firing
    }

    /// Waits until the alert fires, up to `timeout`: the seconds it took.
    pub(crate) async fn until_firing(&mut self, timeout: Duration) -> Option<f64> {
        poll(timeout, Duration::from_millis(500), async || {
            self.firing().await.then_some(())
        })
        .await
        .map(|((), seconds)| seconds)
    }

    /// Waits for the alert to fire, up to its deadline: the seconds it took.
    pub(crate) async fn fires(&mut self) -> Option<f64> {
        self.until_firing(self.deadline()).await
    }
}

pub(crate) fn is_firing(state: Option<&str>) -> bool {
    state == Some("firing")
}

pub(crate) fn is_inactive(state: Option<&str>) -> bool {
    state.is_none()
}

/// Waits until the alert has not fired for one of Alertmanager's group intervals and its group
/// clean-up (and the evaluations that tell it so); the seconds it took. Until the interval has
/// passed, Alertmanager may not have sent that it resolved, and takes it firing again for the
/// firing it already sent: there would be no new notification to prove delivery by. Until the
/// clean-up, its emptied group may still be there, sending on its own clock; after it, the
/// alert's next firing makes a new group, sent exactly `group_wait` after it arrives (see
/// [`delivery`]). Without Slack, at once.
pub(crate) async fn forgotten(site: &Site, alert: &str) -> Option<f64> {
    if !site.slack {
        return Some(0.0);
    }
    let timing = &site.timing;
    let quick = if timing.quick() { quick::LABEL.1 } else { "" };
    let query = format!(
        "count_over_time(ALERTS{{alertname=\"{alert}\",alertstate=\"firing\",{}=\"{quick}\"}}[{}])",
        quick::LABEL.0,
        timing::spelled(timing.forgotten_after()),
    );
    let quiet = async || {
        let value = prometheus::value(site, &query).await;
        matches!(value, Ok(None)).then_some(())
    };
    poll(timing.forgotten_within(), Duration::from_secs(1), quiet)
        .await
        .map(|((), seconds)| seconds)
}

/// Whether Alertmanager holds the alert as active (not silenced, not inhibited): `None` when it
/// does not; whether its group (the rendered `group_by`: alert name and instance) holds another
/// alert too — the other copy, under `--quick` — when it does.
pub(crate) async fn in_alertmanager(site: &Site, alert: &str) -> Option<bool> {
    let alertmanager = site.addresses.alertmanager.as_ref()?;
    let filter = http::encode_query(&format!("alertname=\"{alert}\""));
    let path = format!("/api/v2/alerts?filter={filter}");
    let answer = http::get(&alertmanager.host, alertmanager.port, &path)
        .await
        .ok()?;
    let alerts: Value = serde_json::from_str(&answer.body).ok()?;
    let alerts = alerts.as_array()?;
    let held = alerts
        .iter()
        .find(|a| a["status"]["state"] == "active" && ours(site, &a["labels"]))?;
    let instance = &held["labels"]["instance"];
    Some(
        alerts
            .iter()
            .any(|a| !ours(site, &a["labels"]) && a["labels"]["instance"] == *instance),
    )
}

/// Counts of Alertmanager's Slack notifications: sent, and failed.
pub(crate) type Counts = (f64, f64);

/// Alertmanager's Slack notifications so far.
pub(crate) async fn slack_notifications(site: &Site) -> Option<Counts> {
    let alertmanager = site.addresses.alertmanager.as_ref()?;
    let metrics = http::get(&alertmanager.host, alertmanager.port, "/metrics")
        .await
        .ok()?
        .body;
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

/// What Alertmanager did with a firing alert: whether it holds it, and — when Slack is
/// configured — whether it sent a Slack notification since `before` (the counts from before it
/// could have the alert; now, when there are none) and none failed; with why not when it did
/// not. It returns no sooner than Alertmanager sends the alert's group — `group_wait` after it
/// held the alert in a new group, `group_interval` in one already there: the caller keeps the
/// alert's cause until then, for an alert that resolved before its group was sent is rightly
/// never sent, and a notification of another group in the meantime would be taken for it.
/// Attribution is by time and count: a notification after `before`, at or after the flush, that
/// no other alert of the drill counted (see [`super::claims::Claims`]).
pub(crate) async fn delivery(
    site: &Site,
    alert: &str,
    before: Option<Counts>,
) -> (bool, Option<Result<()>>) {
    // Prometheus sends a firing alert again at most once a minute (its resend delay): after
    // Alertmanager restarted (the drill stops it for AlertmanagerDown), an alert already firing
    // reaches it only then.
    let timing = &site.timing;
    let wait = timing.held_within();
    let every = Duration::from_millis(250);
    let holds = async || in_alertmanager(site, alert).await;
    let shared = poll(wait, every, holds).await.map(|(shared, _)| shared);
    let held = shared.is_some();
    if !site.slack {
        return (held, None);
    }
    if !held {
        let why = format!("Alertmanager did not hold it within {} s", wait.as_secs());
        return (false, Some(Err(Error::Alertmanager(why))));
    }
    let counts = match before {
        Some(counts) => Some(counts),
        None => slack_notifications(site).await,
    };
    let Some((sent, failed)) = counts else {
        let why = "Alertmanager's metrics did not answer".into();
        return (held, Some(Err(Error::Alertmanager(why))));
    };
    // A new group is sent `group_wait` after its first alert arrived; an alert joining a group
    // already there, at the group's next interval.
    let held_at = Instant::now();
    let flushed = timing.flushed_after(shared == Some(true));
    let within = timing.sent_within();
    let more = async || {
        let (now, _) = slack_notifications(site).await?;
        (now > sent && held_at.elapsed() >= flushed && site.claims.claim(now)).then_some(now)
    };
    let Some((now, _)) = poll(within, every, more).await else {
        let why = format!(
            "Alertmanager held it but sent no Slack notification within {} s ({sent} sent \
             before and after)",
            within.as_secs()
        );
        return (held, Some(Err(Error::Alertmanager(why))));
    };
    match slack_notifications(site).await {
        Some((_, f)) if f > failed => {
            let why = format!(
                "Slack notifications failed meanwhile ({failed} failed before, {f} after; \
                 {sent} sent before, {now} after)"
            );
            (held, Some(Err(Error::Alertmanager(why))))
        }
        _ => (held, Some(Ok(()))),
    }
}
