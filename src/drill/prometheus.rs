//! What Prometheus recorded, asked over its HTTP API: the raw samples of one series over a
//! recent range.

use serde_json::Value;

use super::site::Site;
use super::{Error, Result, now};
use crate::health::http;

/// A JSON answer of Prometheus' HTTP API at `path`.
async fn api(site: &Site, path: &str) -> Result<Value> {
    let prometheus = &site.addresses.prometheus;
    let response = http::get(&prometheus.host, prometheus.port, path)
        .await
        .map_err(|e| Error::Prometheus(format!("Prometheus: {e}")))?;
    if response.status != 200 {
        return Err(Error::Prometheus(format!(
            "Prometheus answered {} to {path}",
            response.status
        )));
    }
    serde_json::from_str(&response.body).map_err(|e| Error::Prometheus(format!("Prometheus: {e}")))
}

/// The samples `(unix seconds, value)` of the series `selector` over the last `seconds`.
pub(crate) async fn samples(site: &Site, selector: &str, seconds: u64) -> Result<Vec<(f64, f64)>> {
    let query = http::encode_query(&format!("{selector}[{seconds}s]"));
    let answer = api(site, &format!("/api/v1/query?query={query}")).await?;
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
pub(crate) async fn value(site: &Site, query: &str) -> Result<Option<f64>> {
    let path = format!("/api/v1/query?query={}", http::encode_query(query));
    let answer = api(site, &path).await?;
    Ok(answer["data"]["result"][0]["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok()))
}

/// Prometheus' active alerts (`/api/v1/alerts`).
pub(crate) async fn alerts(site: &Site) -> Result<Value> {
    api(site, "/api/v1/alerts").await
}

/// Prometheus' alerting rules, by group (`/api/v1/rules?type=alert`).
pub(crate) async fn alert_rules(site: &Site) -> Result<Value> {
    api(site, "/api/v1/rules?type=alert").await
}

/// Polls the target's samples of `metric` since `from` (Unix seconds) until `found` finds what
/// it wants in them, for as long as a scrape may take to be there.
pub(crate) async fn poll<T>(
    site: &Site,
    metric: &str,
    from: f64,
    mut found: impl FnMut(&[(f64, f64)]) -> Option<T>,
) -> Result<T> {
    let selector = format!("{metric}{{job=\"redis\",target=\"{}\"}}", site.target);
    let lookback = site.timing.lookback().as_secs_f64();
    let deadline = now() + site.timing.scraped_within().as_secs_f64();
    loop {
        let range = (now() - from + lookback).ceil().max(1.0) as u64;
        let samples = samples(site, &selector, range).await?;
        if let Some(value) = found(&samples) {
            return Ok(value);
        }
        if now() > deadline {
            return Err(Error::Prometheus(format!(
                "Prometheus has no fitting scrape of {metric} for {} ({} samples)",
                site.target,
                samples.len()
            )));
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// Waits until Prometheus holds a sample of the target's `metric` (a stack just up may have
/// none), so that a window starting now has a scrape before it.
pub(crate) async fn wait_for_scrape(site: &Site, metric: &str) -> Result<()> {
    let from = now() - site.timing.lookback().as_secs_f64();
    poll(site, metric, from, |s| (!s.is_empty()).then_some(())).await
}

/// How much a counter grew across a window: from its last sample at or before `start` to its
/// first at or after `end`. None until Prometheus has both.
pub(crate) fn growth(samples: &[(f64, f64)], start: f64, end: f64) -> Option<f64> {
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
