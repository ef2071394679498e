//! What Prometheus recorded, asked over its HTTP API: the raw samples of one series over a
//! recent range.

use serde_json::Value;

use super::{Endpoints, now};
use crate::health::http;

/// A JSON answer of Prometheus' HTTP API at `path`.
async fn api(endpoints: &Endpoints, path: &str) -> Result<Value, String> {
    let (host, port) = (&endpoints.prometheus_host, endpoints.prometheus_port);
    let response = http::get(host, port, path)
        .await
        .map_err(|e| format!("Prometheus: {e}"))?;
    if response.status != 200 {
        return Err(format!("Prometheus answered {} to {path}", response.status));
    }
    serde_json::from_str(&response.body).map_err(|e| format!("Prometheus: {e}"))
}

/// The samples `(unix seconds, value)` of the series `selector` over the last `seconds`.
pub async fn samples(
    endpoints: &Endpoints,
    selector: &str,
    seconds: u64,
) -> Result<Vec<(f64, f64)>, String> {
    let query = http::encode_query(&format!("{selector}[{seconds}s]"));
    let answer = api(endpoints, &format!("/api/v1/query?query={query}")).await?;
    let values = answer["data"]["result"][0]["values"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    Ok(values
        .iter()
        .filter_map(|pair| {
            let t = pair[0].as_f64()?;
            let v = pair[1].as_str()?.parse().ok()?;
            Some((t, v))
        })
        .collect())
}

/// The value of an instant `query` now: its first series' value, if it has one.
pub async fn value(endpoints: &Endpoints, query: &str) -> Result<Option<f64>, String> {
    let path = format!("/api/v1/query?query={}", http::encode_query(query));
    let answer = api(endpoints, &path).await?;
    Ok(answer["data"]["result"][0]["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok()))
}

/// Prometheus' active alerts (`/api/v1/alerts`).
pub async fn alerts(endpoints: &Endpoints) -> Result<Value, String> {
    api(endpoints, "/api/v1/alerts").await
}

/// Prometheus' alerting rules, by group (`/api/v1/rules?type=alert`).
pub async fn alert_rules(endpoints: &Endpoints) -> Result<Value, String> {
    api(endpoints, "/api/v1/rules?type=alert").await
}

/// Polls the target's samples of `metric` since `from` (Unix seconds) until `found` finds what
/// it wants in them, for as long as a scrape may take to be there.
pub async fn poll<T>(
    endpoints: &Endpoints,
    metric: &str,
    from: f64,
    mut found: impl FnMut(&[(f64, f64)]) -> Option<T>,
) -> Result<T, String> {
    let selector = format!("{metric}{{job=\"redis\",target=\"{}\"}}", endpoints.target);
    let lookback = endpoints.timing.lookback().as_secs_f64();
    let deadline = now() + endpoints.timing.scraped_within().as_secs_f64();
    loop {
        let range = (now() - from + lookback).ceil().max(1.0) as u64;
        let samples = samples(endpoints, &selector, range).await?;
        if let Some(value) = found(&samples) {
            return Ok(value);
        }
        if now() > deadline {
            return Err(format!(
                "Prometheus has no fitting scrape of {metric} for {} ({} samples)",
                endpoints.target,
                samples.len()
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// Waits until Prometheus holds a sample of the target's `metric` (a stack just up may have
/// none), so that a window starting now has a scrape before it.
pub async fn wait_for_scrape(endpoints: &Endpoints, metric: &str) -> Result<(), String> {
    let from = now() - endpoints.timing.lookback().as_secs_f64();
    poll(endpoints, metric, from, |s| (!s.is_empty()).then_some(())).await
}

/// How much a counter grew across a window: from its last sample at or before `start` to its
/// first at or after `end`. None until Prometheus has both.
pub fn growth(samples: &[(f64, f64)], start: f64, end: f64) -> Option<f64> {
    let before = samples.iter().rev().find(|(t, _)| *t <= start)?;
    let after = samples.iter().find(|(t, _)| *t >= end)?;
    Some(after.1 - before.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_brackets_the_window() {
        let samples = [
            (0.0, 10.0),
            (5.0, 12.0),
            (10.0, 500.0),
            (15.0, 900.0),
            (20.0, 901.0),
        ];
        assert_eq!(growth(&samples, 6.0, 14.0), Some(888.0));
        assert_eq!(growth(&samples, 6.0, 21.0), None);
        assert_eq!(growth(&samples, -1.0, 5.0), None);
    }
}
