//! `throughput`: sustained load for `--duration`; ok when the ops/s of every second stays at or
//! above the `low_throughput` threshold and `RedisLowThroughput` stays quiet.

use serde::Serialize;

use super::notify::alert_now;
use super::site::Site;
use super::{DrillOptions, Error, Result, Scenario, load};
use crate::alerts::AlertKind;

/// What `throughput` found (the keys of its JSON, in their order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Throughput {
    pub(crate) alert: &'static str,
    pub(crate) alert_state: String,
    pub(crate) duration_s: f64,
    pub(crate) errors: u64,
    pub(crate) low_throughput_threshold_ops_per_sec: Option<f64>,
    pub(crate) name: Scenario,
    pub(crate) ok: bool,
    pub(crate) ops_per_sec_by_second: Vec<u64>,
    pub(crate) ops_per_sec_median: f64,
    pub(crate) ops_per_sec_min: f64,
}

/// Loads Redis for `options.sustained`; `threshold` is the `low_throughput` alert's, when it
/// is on.
pub(crate) async fn run(
    client: &redis::Client,
    site: &Site,
    options: &DrillOptions,
    threshold: Option<f64>,
) -> Result<Throughput> {
    let alert = AlertKind::LowThroughput.name();
    let load = load::run(client, options.shape, options.sustained)
        .await
        .map_err(Error::Load)?;
    let mut seconds: Vec<u64> = load.per_second.clone();
    seconds.sort_unstable();
    let min = seconds.first().copied().unwrap_or_default() as f64;
    let median = seconds.get(seconds.len() / 2).copied().unwrap_or_default() as f64;
    let state = alert_now(site, alert).await;
    let above = threshold.is_none_or(|t| min >= t);
    Ok(Throughput {
        alert,
        ok: above && state.is_none() && load.errors == 0,
        alert_state: state.unwrap_or_else(|| "inactive".into()),
        duration_s: load.elapsed.as_secs_f64(),
        errors: load.errors,
        low_throughput_threshold_ops_per_sec: threshold,
        name: Scenario::Throughput,
        ops_per_sec_by_second: load.per_second,
        ops_per_sec_median: median,
        ops_per_sec_min: min,
    })
}
