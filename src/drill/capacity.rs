//! `capacity`: fills drill keys until Redis' used memory reaches the `memory_pressure`
//! threshold, then reports what the buffer holds there, checks the exporter's figure (through
//! Prometheus) against Redis' own `INFO`, and waits for `RedisMemoryPressure` to become pending
//! (or firing).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::load::PREFIX;
use super::{Endpoints, now, prometheus};
use crate::docker::probe;

/// The exporter's memory must agree with `INFO` within this share.
const AGREEMENT: f64 = 0.05;
/// How long the alert may take to show up once the threshold is crossed.
pub const ALERT_TIMEOUT: Duration = Duration::from_secs(90);
/// Percentage points past the threshold the fill goes.
const MARGIN: f64 = 2.0;
/// Values written per pipeline, and their size.
const BATCH: usize = 64;
const VALUE: usize = 4096;

/// What the threshold is, and the alert that watches it.
pub struct Pressure {
    pub threshold_percent: f64,
    pub alert: &'static str,
}

pub async fn run(
    client: &redis::Client,
    endpoints: &Endpoints,
    pressure: &Pressure,
) -> Result<Value, String> {
    let (mut connection, maxmemory) = with_maxmemory(client).await?;
    // A little past the threshold: what Redis counts as used moves by a few kilobytes as
    // clients come and go, and the alert wants it above, not at, the threshold.
    let percent = (pressure.threshold_percent + MARGIN).min(99.0);
    let goal = maxmemory * percent / 100.0;
    let before = info_field(&mut connection, "memory", "used_memory").await? as f64;
    let value = vec![b'c'; VALUE];
    let mut keys = 0usize;
    let mut used = before;
    while used < goal {
        let mut pipe = redis::pipe();
        for n in keys..keys + BATCH {
            pipe.set(format!("{PREFIX}capacity:{n}"), &value[..])
                .ignore();
        }
        pipe.query_async::<()>(&mut connection)
            .await
            .map_err(|e| format!("filling: {e}"))?;
        keys += BATCH;
        used = info_field(&mut connection, "memory", "used_memory").await? as f64;
    }
    let (exporter, info) = exporter_agrees(endpoints, &mut connection).await?;
    let agreement = (exporter - info).abs() / info;
    let (state, seconds) = alert_state(endpoints, pressure.alert).await;
    let ok = agreement <= AGREEMENT && matches!(state.as_str(), "pending" | "firing");
    Ok(json!({
        "name": "capacity",
        "ok": ok,
        "keys_at_threshold": keys,
        "bytes_at_threshold": (used - before).max(0.0) as u64,
        "used_memory": used as u64,
        "maxmemory": maxmemory as u64,
        "threshold_percent": pressure.threshold_percent,
        "exporter_used_memory": exporter as u64,
        "info_used_memory": info as u64,
        "exporter_agreement_percent": agreement * 100.0,
        "alert": pressure.alert,
        "alert_state": state,
        "seconds_to_alert": seconds,
    }))
}

/// A connection to Redis, and its `maxmemory`, which must be set.
pub async fn with_maxmemory(
    client: &redis::Client,
) -> Result<(redis::aio::MultiplexedConnection, f64), String> {
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| format!("Redis: {e}"))?;
    let maxmemory = info_field(&mut connection, "memory", "maxmemory").await? as f64;
    if maxmemory <= 0.0 {
        return Err("Redis has no maxmemory: there is no limit to fill it to".into());
    }
    Ok((connection, maxmemory))
}

/// A numeric field of an `INFO` section.
pub async fn info_field(
    connection: &mut redis::aio::MultiplexedConnection,
    section: &str,
    field: &str,
) -> Result<u64, String> {
    let text: String = redis::cmd("INFO")
        .arg(section)
        .query_async(connection)
        .await
        .map_err(|e| format!("INFO {section}: {e}"))?;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("INFO {section} has no {field}"))
}

/// The exporter's `redis_memory_used_bytes` from the first scrape after now, and `INFO`'s
/// `used_memory` read then (nothing is written meanwhile).
async fn exporter_agrees(
    endpoints: &Endpoints,
    connection: &mut redis::aio::MultiplexedConnection,
) -> Result<(f64, f64), String> {
    let since = now();
    let exporter = prometheus::poll(endpoints, "redis_memory_used_bytes", since, |s| {
        s.iter().find(|(t, _)| *t >= since).map(|(_, v)| *v)
    })
    .await?;
    let info = info_field(connection, "memory", "used_memory").await? as f64;
    Ok((exporter, info))
}

/// Waits for the alert to be pending or firing in Prometheus; its state and how long it took.
pub async fn alert_state(endpoints: &Endpoints, alert: &str) -> (String, Option<f64>) {
    let started = Instant::now();
    loop {
        if let Some(state) = alert_now(endpoints, alert) {
            return (state, Some(started.elapsed().as_secs_f64()));
        }
        if started.elapsed() > ALERT_TIMEOUT {
            return ("inactive".into(), None);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The alert's state in Prometheus now (`pending`, `firing`), if it is active.
pub fn alert_now(endpoints: &Endpoints, alert: &str) -> Option<String> {
    let answer = probe::get(
        &endpoints.prometheus_host,
        endpoints.prometheus_port,
        "/api/v1/alerts",
    )
    .ok()?;
    let answer: Value = serde_json::from_str(&answer.body).ok()?;
    answer["data"]["alerts"]
        .as_array()?
        .iter()
        .find(|a| a["labels"]["alertname"] == alert)
        .and_then(|a| a["state"].as_str().map(String::from))
}
