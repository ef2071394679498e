//! `baseline`: SET/GET load for a while, its ops/s and round-trip latencies, and the same window
//! as Prometheus saw it through the exporter (commands processed, from the scrape before the
//! load to the first after it), compared with each other and with the `low_throughput` and
//! `high_latency` thresholds.

use serde_json::json;

use super::{DrillOptions, Endpoints, load, now, prometheus};

/// Prometheus must agree with the drill's own count within this share.
pub const AGREEMENT: f64 = 0.10;

/// The thresholds the figures are compared with.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    pub low_throughput_ops: Option<f64>,
    pub high_latency_ms: Option<f64>,
}

pub async fn run(
    client: &redis::Client,
    endpoints: &Endpoints,
    options: &DrillOptions,
    thresholds: Thresholds,
) -> Result<serde_json::Value, String> {
    // Prometheus must have scraped Redis once before the load (a stack just up may not yet).
    prometheus::wait_for_scrape(endpoints, PROCESSED).await?;
    let start = now();
    let load = load::run(client, options.shape, options.duration)
        .await
        .map_err(|e| format!("the load failed: {e}"))?;
    let end = start + load.elapsed.as_secs_f64();
    let ops = load.ops_per_sec();
    let seen = prometheus_growth(endpoints, start, end).await?;
    let prometheus_ops = seen / load.elapsed.as_secs_f64();
    let agreement = (prometheus_ops - ops).abs() / ops.max(f64::EPSILON);
    let agrees = agreement <= AGREEMENT;
    let above_low = thresholds.low_throughput_ops.map(|t| ops >= t);
    let p50 = load.percentile_ms(50.0);
    let within_latency = thresholds.high_latency_ms.map(|t| p50 <= t);
    let ok = agrees && load.errors == 0 && above_low != Some(false);
    Ok(json!({
        "name": "baseline",
        "ok": ok,
        "duration_s": load.elapsed.as_secs_f64(),
        "clients": options.shape.clients,
        "pipeline": options.shape.pipeline,
        "value_size": options.shape.value_size,
        "commands": load.commands,
        "errors": load.errors,
        "ops_per_sec": ops,
        "p50_ms": p50,
        "p99_ms": load.percentile_ms(99.0),
        "max_ms": load.max_ms(),
        "ops_per_sec_by_second": load.per_second,
        "prometheus_ops_per_sec": prometheus_ops,
        "prometheus_agreement_percent": agreement * 100.0,
        "low_throughput_threshold_ops_per_sec": thresholds.low_throughput_ops,
        "above_low_throughput": above_low,
        "high_latency_threshold_ms": thresholds.high_latency_ms,
        "p50_within_high_latency": within_latency,
    }))
}

/// The counter both figures come from.
const PROCESSED: &str = "redis_commands_processed_total";

/// Commands Redis processed across the window, as Prometheus scraped them: from the last scrape
/// at or before its start to the first at or after its end.
async fn prometheus_growth(endpoints: &Endpoints, start: f64, end: f64) -> Result<f64, String> {
    prometheus::poll(endpoints, PROCESSED, start, |s| {
        prometheus::growth(s, start, end)
    })
    .await
}
