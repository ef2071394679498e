//! What `--report` charts: once a second while the drill runs, Redis' ops/s and used memory
//! (from `INFO`) and the state of every alert in Prometheus, with the scenarios' start times.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::Endpoints;
use super::capacity::info_value;

/// One second of the run.
#[derive(Debug, Clone, Default)]
pub struct Point {
    /// Seconds since the drill started.
    pub t: f64,
    /// None while Redis does not answer.
    pub ops_per_sec: Option<f64>,
    pub used_memory: Option<f64>,
    pub maxmemory: Option<f64>,
}

/// An alert's state over the run: `(seconds, state)` each time it changed; `inactive` when it
/// left Prometheus' active alerts.
pub type States = Vec<(f64, String)>;

#[derive(Debug, Clone, Default)]
pub struct Timeline {
    pub points: Vec<Point>,
    pub alerts: BTreeMap<String, States>,
    /// When each scenario started.
    pub marks: Vec<(f64, String)>,
    /// The memory threshold, in percent of `maxmemory`, when `RedisMemoryPressure` is on.
    pub memory_threshold_percent: Option<f64>,
}

/// A timeline filled while the drill runs; cloned handles share it.
#[derive(Debug, Clone)]
pub struct Recorder {
    pub timeline: Rc<RefCell<Timeline>>,
    started: Instant,
}

impl Recorder {
    pub fn new(memory_threshold_percent: Option<f64>) -> Self {
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

    pub fn mark(&self, scenario: &str) {
        let t = self.now();
        self.timeline.borrow_mut().marks.push((t, scenario.into()));
    }

    /// Samples once a second until dropped.
    pub async fn record(&self, client: &redis::Client, endpoints: &Endpoints) {
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
            let states = super::notify::active(endpoints).ok();
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

/// Records the changes in `now` against what each alert's states say last.
fn note_states(alerts: &mut BTreeMap<String, States>, t: f64, now: &BTreeMap<String, String>) {
    for (name, state) in now {
        let states = alerts.entry(name.clone()).or_default();
        if states.last().is_none_or(|(_, s)| s != state) {
            states.push((t, state.clone()));
        }
    }
    for (name, states) in alerts.iter_mut() {
        if !now.contains_key(name) && states.last().is_some_and(|(_, s)| s != "inactive") {
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
}
