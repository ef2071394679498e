//! `baseline`: SET/GET load for a while, its ops/s and round-trip latencies, and the same window
//! as Prometheus saw it through the exporter (commands processed, from the scrape before the
//! load to the first after it), compared with each other and with the `low_throughput` and
//! `high_latency` thresholds.

use serde::Serialize;

use super::site::Site;
use super::{DrillOptions, Error, Result, Scenario, load, now, prometheus};
use crate::alerts::AlertKind;

/// Prometheus must agree with the drill's own count within this share.
pub(crate) const AGREEMENT: f64 = 0.10;

/// The thresholds the figures are compared with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Thresholds {
    pub(crate) low_throughput_ops: Option<f64>,
    pub(crate) high_latency_ms: Option<f64>,
}

impl Thresholds {
    /// The thresholds of `stack`'s `low_throughput` and `high_latency` alerts, where they are on.
    pub(crate) fn of(stack: &crate::model::Stack) -> Self {
        let threshold = |kind: AlertKind| {
            stack
                .alerts
                .iter()
                .find(|a| a.kind == kind && a.enabled)
                .and_then(|a| a.threshold)
        };
        Self {
            low_throughput_ops: threshold(AlertKind::LowThroughput),
            high_latency_ms: threshold(AlertKind::HighLatency),
        }
    }
}

/// What `baseline` found (the keys of its JSON, in their order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Baseline {
    pub(crate) above_low_throughput: Option<bool>,
    pub(crate) clients: usize,
    pub(crate) commands: u64,
    pub(crate) duration_s: f64,
    pub(crate) errors: u64,
    pub(crate) high_latency_threshold_ms: Option<f64>,
    pub(crate) low_throughput_threshold_ops_per_sec: Option<f64>,
    pub(crate) max_ms: f64,
    pub(crate) name: Scenario,
    pub(crate) ok: bool,
    pub(crate) ops_per_sec: f64,
    pub(crate) ops_per_sec_by_second: Vec<u64>,
    pub(crate) p50_ms: f64,
    pub(crate) p50_within_high_latency: Option<bool>,
    pub(crate) p99_ms: f64,
    pub(crate) pipeline: usize,
    pub(crate) prometheus_agreement_percent: f64,
    pub(crate) prometheus_ops_per_sec: f64,
    pub(crate) value_size: usize,
}

pub(crate) async fn run(
    client: &redis::Client,
    site: &Site,
    options: &DrillOptions,
    thresholds: Thresholds,
) -> Result<Baseline> {
    // Prometheus must have scraped Redis once before the load (a stack just up may not yet).
    prometheus::wait_for_scrape(site, PROCESSED).await?;
    let start = now();
    let load = load::run(client, options.shape, options.duration)
        .await
        .map_err(Error::Load)?;
    let end = start + load.elapsed.as_secs_f64();
    let ops = load.ops_per_sec();
    let seen = prometheus_growth(site, start, end).await?;
    let prometheus_ops = seen / load.elapsed.as_secs_f64();
    let agreement = (prometheus_ops - ops).abs() / ops.max(f64::EPSILON);
    let agrees = agreement <= AGREEMENT;
    let above_low = thresholds.low_throughput_ops.map(|t| ops >= t);
    let p50 = load.percentile_ms(50.0);
    let within_latency = thresholds.high_latency_ms.map(|t| p50 <= t);
    let ok = agrees && load.errors == 0 && above_low != Some(false);
    Ok(Baseline {
        above_low_throughput: above_low,
        clients: options.shape.clients,
        commands: load.commands,
        duration_s: load.elapsed.as_secs_f64(),
        errors: load.errors,
        high_latency_threshold_ms: thresholds.high_latency_ms,
        low_throughput_threshold_ops_per_sec: thresholds.low_throughput_ops,
        max_ms: load.max_ms(),
        name: Scenario::Baseline,
        ok,
        ops_per_sec: ops,
        p50_ms: p50,
        p50_within_high_latency: within_latency,
        p99_ms: load.percentile_ms(99.0),
        pipeline: options.shape.pipeline,
        prometheus_agreement_percent: agreement * 100.0,
        prometheus_ops_per_sec: prometheus_ops,
        value_size: options.shape.value_size,
        ops_per_sec_by_second: load.per_second,
    })
}

/// The counter both figures come from.
const PROCESSED: &str = "redis_commands_processed_total";

/// Commands Redis processed across the window, as Prometheus scraped them: from the last scrape
/// at or before its start to the first at or after its end.
async fn prometheus_growth(site: &Site, start: f64, end: f64) -> Result<f64> {
    prometheus::poll(site, PROCESSED, start, |s| {
        prometheus::growth(s, start, end)
    })
    .await
}
