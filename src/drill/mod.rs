//! `stackgen drill`: the stack's own load and failure tests, run against the stack `up` runs.
//! This part holds what every scenario shares: where Redis and Prometheus answer, the safety
//! rules (no prod-policy profile without `--allow-prod`, only drill keys written and all of them
//! removed) and the report. Scenarios: `baseline`, `capacity`,
//! `pressure`, `recovery`, `throughput`.

pub mod baseline;
pub mod capacity;
pub mod load;
pub mod pressure;
pub mod prometheus;
pub mod recovery;
pub mod throughput;

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
    /// How often Prometheus scrapes Redis, for waiting on a scrape after the load.
    pub scrape_interval: std::time::Duration,
    /// The managed Redis' container, which `recovery` kills.
    pub redis_container: String,
}

/// The whole run, as `--format json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub profile: String,
    pub ok: bool,
    pub scenarios: Vec<serde_json::Value>,
    /// Drill keys removed at the end.
    pub drill_keys_removed: u64,
}

/// Now, in Unix seconds, as Prometheus stamps samples.
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
