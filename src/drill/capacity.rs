//! `capacity`: fills drill keys until Redis' used memory reaches the `memory_pressure`
//! threshold, then reports what the buffer holds there, checks the exporter's figure (through
//! Prometheus) against Redis' own `INFO`, and waits for `RedisMemoryPressure` to become pending
//! (firing once its `for` has passed, at once under `--quick`).

use std::time::Duration;

use serde_json::{Value, json};

use super::load::PREFIX;
use super::{Endpoints, notify, now, prometheus};
use crate::alerts::AlertKind;

/// The exporter's memory must agree with `INFO` within this share.
const AGREEMENT: f64 = 0.05;
/// How long a write near maxmemory may take to be answered.
const SLOW_REPLY: Duration = Duration::from_secs(10);
/// Percentage points past the threshold the fill goes.
const MARGIN: f64 = 2.0;
/// Values written per pipeline, and their size.
const BATCH: usize = 64;
const VALUE: usize = 4096;

/// What the threshold is, and the alert that watches it.
pub struct Pressure {
    pub threshold_percent: f64,
    pub kind: AlertKind,
}

/// Writes drill keys until Redis' used memory reaches `goal` bytes: the keys written, and the
/// used memory then.
pub async fn fill(
    connection: &mut redis::aio::MultiplexedConnection,
    goal: f64,
) -> Result<(usize, f64), String> {
    let value = vec![b'c'; VALUE];
    let mut keys = 0usize;
    let mut used = info_field(connection, "memory", "used_memory").await? as f64;
    while used < goal {
        let mut pipe = redis::pipe();
        for n in keys..keys + BATCH {
            pipe.set(format!("{PREFIX}capacity:{n}"), &value[..])
                .ignore();
        }
        pipe.query_async::<()>(connection)
            .await
            .map_err(|e| format!("filling: {e}"))?;
        keys += BATCH;
        used = info_field(connection, "memory", "used_memory").await? as f64;
    }
    Ok((keys, used))
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
    let (keys, used) = fill(&mut connection, goal).await?;
    let (exporter, info) = exporter_agrees(endpoints, &mut connection).await?;
    let agreement = (exporter - info).abs() / info;
    let (alert, timeout) = (pressure.kind.name(), endpoints.timing.fires(pressure.kind));
    let seconds = notify::until(endpoints, alert, timeout, notify::is_firing).await;
    let state = notify::alert_now(endpoints, alert)
        .await
        .unwrap_or_else(|| "inactive".into());
    let ok = agreement <= AGREEMENT && seconds.is_some();
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
        "alert": alert,
        "alert_state": state,
        "seconds_to_alert": seconds,
    }))
}

/// A connection to Redis, and its `maxmemory`, which must be set.
pub async fn with_maxmemory(
    client: &redis::Client,
) -> Result<(redis::aio::MultiplexedConnection, f64), String> {
    // Writes at maxmemory wait for evictions and background frees: more than the crate's
    // default half second.
    let config = redis::AsyncConnectionConfig::new().set_response_timeout(Some(SLOW_REPLY));
    let mut connection = client
        .get_multiplexed_async_connection_with_config(&config)
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
    info_value(&text, field).ok_or_else(|| format!("INFO {section} has no {field}"))
}

/// The value of `field` in the text of an `INFO`.
pub fn info_value<T: std::str::FromStr>(info: &str, field: &str) -> Option<T> {
    info.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
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
