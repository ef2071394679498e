//! `throughput`: sustained load for `--duration`; ok when the ops/s of every second stays at or
//! above the `low_throughput` threshold and `RedisLowThroughput` stays quiet.

use serde_json::{Value, json};

use super::notify::alert_now;
use super::{DrillOptions, Endpoints, load};

pub async fn run(
    client: &redis::Client,
    endpoints: &Endpoints,
    options: &DrillOptions,
    threshold: Option<f64>,
    alert: &str,
) -> Result<Value, String> {
    let load = load::run(client, options.shape, options.duration)
        .await
        .map_err(|e| format!("the load failed: {e}"))?;
    let mut seconds: Vec<u64> = load.per_second.clone();
    seconds.sort_unstable();
    let min = seconds.first().copied().unwrap_or_default() as f64;
    let median = seconds.get(seconds.len() / 2).copied().unwrap_or_default() as f64;
    let state = alert_now(endpoints, alert).await;
    let above = threshold.is_none_or(|t| min >= t);
    Ok(json!({
        "name": "throughput",
        "ok": above && state.is_none() && load.errors == 0,
        "duration_s": load.elapsed.as_secs_f64(),
        "ops_per_sec_min": min,
        "ops_per_sec_median": median,
        "ops_per_sec_by_second": load.per_second,
        "low_throughput_threshold_ops_per_sec": threshold,
        "errors": load.errors,
        "alert": alert,
        "alert_state": state.unwrap_or_else(|| "inactive".into()),
    }))
}
