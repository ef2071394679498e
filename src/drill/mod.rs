//! `stackgen drill`: the stack's own load and failure tests, run against the stack `up` runs.
//! This part holds what every scenario shares: where Redis and Prometheus answer, the safety
//! rules (no prod-policy profile without `--allow-prod`, only drill keys written and all of them
//! removed, everything changed restored) and the report. Scenarios: `baseline`, `capacity`,
//! `pressure`, `recovery`, `throughput`, `alerts`.

pub mod alerts;
pub mod baseline;
pub mod capacity;
pub mod chart;
pub mod induce;
pub mod load;
pub mod notify;
pub mod pressure;
pub mod prometheus;
pub mod quick;
pub mod recovery;
pub mod table;
pub mod throughput;
pub mod timeline;
pub(crate) mod timing;
pub mod undo;

use serde::Serialize;

/// What a drill is run with.
#[derive(Debug, Clone)]
pub struct DrillOptions {
    pub duration: std::time::Duration,
    pub shape: load::Shape,
}

/// Where the drill reaches the running stack.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub redis_host: String,
    pub redis_port: u16,
    pub redis_password: Option<String>,
    pub prometheus_host: String,
    pub prometheus_port: u16,
    /// The managed Redis' `target` label.
    pub target: String,
    /// The containers of the managed Redis (which `recovery` kills), Prometheus, the exporter
    /// and Alertmanager (empty when off).
    pub redis_container: String,
    pub prometheus_container: String,
    pub exporter_container: String,
    pub alertmanager_container: String,
    /// Alertmanager's published address, when it runs.
    pub alertmanager: Option<(String, u16)>,
    /// Whether Alertmanager sends to Slack.
    pub slack: bool,
    /// How long the drill waits for what the stack does, and whether it is `--quick`.
    pub(crate) timing: timing::Timing,
}

/// The whole run, as `--format json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub profile: String,
    pub ok: bool,
    pub scenarios: Vec<serde_json::Value>,
    /// The user stopped the drill (Ctrl-C) before it ended.
    pub interrupted: bool,
    /// What was restored at the end, a line each.
    pub restored: Vec<String>,
    /// Drill keys removed at the end.
    pub drill_keys_removed: u64,
}

/// Now, in Unix seconds, as Prometheus stamps samples.
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
