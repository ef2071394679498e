//! What Prometheus recorded, asked over its HTTP API: the raw samples of one series over a
//! recent range.

use serde_json::Value;

use super::{Endpoints, now};
use crate::docker::probe;

/// The samples `(unix seconds, value)` of the series `selector` over the last `seconds`.
pub fn samples(
    host: &str,
    port: u16,
    selector: &str,
    seconds: u64,
) -> Result<Vec<(f64, f64)>, String> {
    let query = probe::encode_query(&format!("{selector}[{seconds}s]"));
    let path = format!("/api/v1/query?query={query}");
    let response = probe::get(host, port, &path).map_err(|e| format!("Prometheus: {e}"))?;
    if response.status != 200 {
        return Err(format!("Prometheus answered {} to {path}", response.status));
    }
    let answer: Value = serde_json::from_str(&response.body).map_err(|e| e.to_string())?;
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
pub fn value(endpoints: &Endpoints, query: &str) -> Result<Option<f64>, String> {
    let path = format!("/api/v1/query?query={}", probe::encode_query(query));
    let host = &endpoints.prometheus_host;
    let response = probe::get(host, endpoints.prometheus_port, &path)
        .map_err(|e| format!("Prometheus: {e}"))?;
    let answer: Value = serde_json::from_str(&response.body).map_err(|e| e.to_string())?;
    Ok(answer["data"]["result"][0]["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok()))
}

/// Polls the target's samples of `metric` since `from` (Unix seconds) until `found` finds what
/// it wants in them, for up to three scrape intervals and five seconds.
pub async fn poll<T>(
    endpoints: &Endpoints,
    metric: &str,
    from: f64,
    mut found: impl FnMut(&[(f64, f64)]) -> Option<T>,
) -> Result<T, String> {
    let selector = format!("{metric}{{job=\"redis\",target=\"{}\"}}", endpoints.target);
    let interval = endpoints.scrape_interval.as_secs_f64();
    let deadline = now() + 3.0 * interval + 5.0;
    loop {
        let range = (now() - from + 3.0 * interval).ceil().max(1.0) as u64;
        let host = &endpoints.prometheus_host;
        let samples = samples(host, endpoints.prometheus_port, &selector, range)?;
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
    let from = now() - 3.0 * endpoints.scrape_interval.as_secs_f64();
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
