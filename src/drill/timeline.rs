//! What `--report` charts: once a second while the drill runs, Redis' ops/s and used memory
//! (from `INFO`) and the state of every alert in Prometheus, a lane per alert and what it is
//! about, with the scenarios' start times and what the drill did to Redis (the kill and the
//! restart of `recovery`).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::capacity::info_value;
use super::site::Site;
use super::{Error, Result, quick};
use crate::alerts::GROUP_LABEL;

/// One second of the run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Point {
    /// Seconds since the drill started.
    pub t: f64,
    /// None while Redis does not answer.
    pub ops_per_sec: Option<f64>,
    pub used_memory: Option<f64>,
    pub maxmemory: Option<f64>,
}

/// An alert's state over the run: `(seconds, state)` each time it changed; `inactive` when it
/// left Prometheus' active alerts.
pub(crate) type States = Vec<(f64, String)>;

/// One alert about one thing: a Redis target, a replication group, or a job of the stack's own.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Lane {
    pub(crate) alert: String,
    /// Its `target` label, else its replication group, else its scrape job (the stack's own
    /// services); empty when it has none of them.
    pub(crate) about: String,
}

impl Lane {
    /// The lane of an alert with these labels.
    fn of(labels: &Value) -> Option<Self> {
        let alert = labels["alertname"].as_str()?;
        let about = [quick::TARGET_LABEL, GROUP_LABEL, "job", "instance"]
            .iter()
            .find_map(|key| labels[key].as_str().filter(|v| !v.is_empty()))
            .unwrap_or_default();
        Some(Self {
            alert: alert.into(),
            about: about.into(),
        })
    }
}

impl fmt::Display for Lane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.about.is_empty() {
            f.write_str(&self.alert)
        } else {
            write!(f, "{} · {}", self.alert, self.about)
        }
    }
}

/// What the drill did to Redis, marked where it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// `recovery` killed Redis (SIGKILL).
    Kill,
    /// Redis answered again after the kill.
    Restart,
}

impl Event {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Kill => "Redis killed",
            Self::Restart => "Redis back",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Timeline {
    pub points: Vec<Point>,
    /// Each alert's states, a lane per alert and what it is about.
    pub(crate) alerts: BTreeMap<Lane, States>,
    /// When each scenario started.
    pub marks: Vec<(f64, String)>,
    /// What the drill did to Redis, and when.
    pub(crate) events: Vec<(f64, Event)>,
    /// The memory threshold, in percent of `maxmemory`, when `RedisMemoryPressure` is on.
    pub memory_threshold_percent: Option<f64>,
}

/// A timeline filled while the drill runs; cloned handles share it.
#[derive(Debug, Clone)]
pub(crate) struct Recorder {
    pub timeline: Rc<RefCell<Timeline>>,
    started: Instant,
}

impl Recorder {
    pub(crate) fn new(memory_threshold_percent: Option<f64>) -> Self {
        Self {
            timeline: Rc::new(RefCell::new(Timeline {
                memory_threshold_percent,
                ..Timeline::default()
            })),
            started: Instant::now(),
        }
    }

    fn now(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    pub(crate) fn mark(&self, scenario: &str) {
        let t = self.now();
        self.timeline.borrow_mut().marks.push((t, scenario.into()));
    }

    /// Notes what the drill just did to Redis.
    pub(crate) fn event(&self, event: Event) {
        let t = self.now();
        self.timeline.borrow_mut().events.push((t, event));
    }

    /// Notes the alerts' states once more: the last sample may come before the last resolve
    /// the drill waited for, and the chart must show it.
    pub(crate) async fn last_states(&self, site: &Site) {
        if let Ok(states) = active(site).await {
            let t = self.now();
            note_states(&mut self.timeline.borrow_mut().alerts, t, &states);
        }
    }

    /// Samples once a second until dropped.
    pub(crate) async fn record(&self, client: &redis::Client, site: &Site) {
        let mut connection = None;
        let mut last: Option<(f64, f64)> = None;
        loop {
            let t = self.now();
            if connection.is_none() {
                connection = client.get_multiplexed_async_connection().await.ok();
            }
            let mut point = Point {
                t,
                ..Point::default()
            };
            if let Some(c) = connection.as_mut() {
                // One INFO a second: every command counts in what the alerts watch.
                match redis::cmd("INFO").query_async::<String>(c).await {
                    Ok(info) => {
                        let field = |name: &str| info_value::<f64>(&info, name);
                        let processed = field("total_commands_processed");
                        point.ops_per_sec = match (last, processed) {
                            (Some((then, before)), Some(now)) if now >= before && t > then => {
                                Some((now - before) / (t - then))
                            }
                            _ => None,
                        };
                        last = processed.map(|p| (t, p));
                        point.used_memory = field("used_memory");
                        point.maxmemory = field("maxmemory");
                    }
                    Err(_) => {
                        connection = None;
                        last = None;
                    }
                }
            }
            let states = active(site).await.ok();
            {
                let mut timeline = self.timeline.borrow_mut();
                timeline.points.push(point);
                if let Some(states) = states {
                    note_states(&mut timeline.alerts, t, &states);
                }
            }
            let next = Duration::from_secs_f64((t.floor() + 1.0 - self.now()).max(0.05));
            tokio::time::sleep(next).await;
        }
    }
}

/// Each active alert's state (`pending`, `firing`), by lane.
type Active = BTreeMap<Lane, String>;

/// Every active alert's state in Prometheus (`pending`, `firing`), by lane.
async fn active(site: &Site) -> Result<Active> {
    let answer = super::prometheus::alerts(site).await?;
    lanes(&answer, site.timing.quick())
}

/// The states in Prometheus' answer, by lane; firing wins when several series share a lane.
/// Under `--quick` only the drill's copies count, otherwise only the rendered rules.
fn lanes(answer: &Value, quick: bool) -> Result<Active> {
    let alerts = answer["data"]["alerts"]
        .as_array()
        .ok_or_else(|| Error::Prometheus("Prometheus answered without alerts".into()))?;
    let mut states = BTreeMap::new();
    for alert in alerts {
        let labels = &alert["labels"];
        let copy = labels[quick::LABEL.0] == quick::LABEL.1;
        let (Some(lane), Some(state)) = (Lane::of(labels), alert["state"].as_str()) else {
            continue;
        };
        if copy == quick && states.get(&lane).is_none_or(|s| s != "firing") {
            states.insert(lane, state.to_string());
        }
    }
    Ok(states)
}

/// Records the changes in `now` against what each lane's states say last.
fn note_states<K: Ord + Clone>(
    alerts: &mut BTreeMap<K, States>,
    t: f64,
    now: &BTreeMap<K, String>,
) {
    for (lane, state) in now {
        let states = alerts.entry(lane.clone()).or_default();
        if states.last().is_none_or(|(_, s)| s != state) {
            states.push((t, state.clone()));
        }
    }
    for (lane, states) in alerts.iter_mut() {
        if !now.contains_key(lane) && states.last().is_some_and(|(_, s)| s != "inactive") {
            states.push((t, "inactive".into()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_recorded_when_they_change() {
        let mut alerts = BTreeMap::new();
        let at = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(a, s)| (a.to_string(), s.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        note_states(&mut alerts, 1.0, &at(&[("RedisDown", "pending")]));
        note_states(&mut alerts, 2.0, &at(&[("RedisDown", "pending")]));
        note_states(&mut alerts, 3.0, &at(&[("RedisDown", "firing")]));
        note_states(&mut alerts, 4.0, &at(&[]));
        note_states(&mut alerts, 5.0, &at(&[]));
        assert_eq!(
            alerts["RedisDown"],
            [
                (1.0, "pending".to_string()),
                (3.0, "firing".to_string()),
                (4.0, "inactive".to_string())
            ]
        );
    }

    /// A fleet: the same alert about two targets is two lanes, each named after its target;
    /// the drill's copies count only under `--quick`.
    #[test]
    fn each_alert_has_a_lane_per_target_it_is_about() {
        let answer = serde_json::json!({"data": {"alerts": [
            {"labels": {"alertname": "RedisDown", "target": "redis", "instance": "redis"},
             "state": "pending"},
            {"labels": {"alertname": "RedisDown", "target": "fleet-01"}, "state": "firing"},
            {"labels": {"alertname": "RedisDown", "target": "fleet-01", "drill": "quick"},
             "state": "firing"},
            {"labels": {"alertname": "RedisNoPrimary", "replication_group": "g1"},
             "state": "firing"},
            {"labels": {"alertname": "RedisExporterDown", "instance": "redis-exporter:9121",
                        "job": "redis-exporter"}, "state": "pending"},
        ]}});
        let shown = |quick| {
            lanes(&answer, quick)
                .unwrap()
                .into_iter()
                .map(|(lane, state)| format!("{lane}: {state}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            shown(false),
            [
                "RedisDown · fleet-01: firing",
                "RedisDown · redis: pending",
                "RedisExporterDown · redis-exporter: pending",
                "RedisNoPrimary · g1: firing",
            ]
        );
        assert_eq!(shown(true), ["RedisDown · fleet-01: firing"]);
    }
}
