//! `capacity`: fills drill keys until Redis' used memory reaches the `memory_pressure`
//! threshold, then reports what the buffer holds there, checks the exporter's figure (through
//! Prometheus) against Redis' own `INFO`, and waits for `RedisMemoryPressure` to become pending
//! (firing once its `for` has passed, at once under `--quick`).

use serde::Serialize;

use super::load::PREFIX;
use super::site::Site;
use super::{Error, Result, Scenario, notify, now, prometheus};
use crate::alerts::AlertKind;

/// The exporter's memory must agree with `INFO` within this share.
const AGREEMENT: f64 = 0.05;
/// Percentage points past the threshold the fill goes.
const MARGIN: f64 = 2.0;
/// Values written per pipeline, and their size.
const BATCH: usize = 64;
const VALUE: usize = 4096;

/// What the threshold is, and the alert that watches it.
pub(crate) struct Threshold {
    pub(crate) percent: f64,
    pub(crate) kind: AlertKind,
}

impl Threshold {
    /// The threshold of `stack`'s `memory_pressure` alert, when it is on.
    pub(crate) fn of(stack: &crate::model::Stack) -> Option<Self> {
        let kind = AlertKind::MemoryPressure;
        stack
            .alerts
            .iter()
            .find(|a| a.kind == kind && a.enabled)
            .and_then(|a| a.threshold)
            .map(|percent| Self { percent, kind })
    }
}

/// What `capacity` found (the keys of its JSON, in their order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Capacity {
    pub(crate) alert: &'static str,
    pub(crate) alert_state: String,
    pub(crate) bytes_at_threshold: u64,
    pub(crate) exporter_agreement_percent: f64,
    pub(crate) exporter_used_memory: u64,
    pub(crate) info_used_memory: u64,
    pub(crate) keys_at_threshold: usize,
    pub(crate) maxmemory: u64,
    pub(crate) name: Scenario,
    pub(crate) ok: bool,
    pub(crate) seconds_to_alert: Option<f64>,
    pub(crate) threshold_percent: f64,
    pub(crate) used_memory: u64,
}

/// Writes drill keys until Redis' used memory reaches `goal` bytes: the keys written, and the
/// used memory then.
pub(crate) async fn fill(
    connection: &mut redis::aio::MultiplexedConnection,
    goal: f64,
) -> Result<(usize, f64)> {
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
            .map_err(Error::redis("filling"))?;
        keys += BATCH;
        used = info_field(connection, "memory", "used_memory").await? as f64;
    }
    Ok((keys, used))
}

pub(crate) async fn run(
    client: &redis::Client,
    site: &Site,
    threshold: &Threshold,
) -> Result<Capacity> {
    let (mut connection, maxmemory) = with_maxmemory(client).await?;
    // A little past the threshold: what Redis counts as used moves by a few kilobytes as
    // clients come and go, and the alert wants it above, not at, the threshold.
    let percent = (threshold.percent + MARGIN).min(99.0);
    let goal = maxmemory * percent / 100.0;
    let before = info_field(&mut connection, "memory", "used_memory").await? as f64;
    let (keys, used) = fill(&mut connection, goal).await?;
    let (exporter, info) = exporter_agrees(site, &mut connection).await?;
    let agreement = (exporter - info).abs() / info;
    let (alert, timeout) = (threshold.kind.name(), site.timing.fires(threshold.kind));
    let seconds = notify::until(site, alert, timeout, notify::is_firing).await;
    let state = notify::alert_now(site, alert)
        .await
        .unwrap_or_else(|| "inactive".into());
    Ok(Capacity {
        alert,
        alert_state: state,
        bytes_at_threshold: (used - before).max(0.0) as u64,
        exporter_agreement_percent: agreement * 100.0,
        exporter_used_memory: exporter as u64,
        info_used_memory: info as u64,
        keys_at_threshold: keys,
        maxmemory: maxmemory as u64,
        name: Scenario::Capacity,
        ok: agreement <= AGREEMENT && seconds.is_some(),
        seconds_to_alert: seconds,
        threshold_percent: threshold.percent,
        used_memory: used as u64,
    })
}

/// A connection to Redis, and its `maxmemory`, which must be set.
pub(crate) async fn with_maxmemory(
    client: &redis::Client,
) -> Result<(redis::aio::MultiplexedConnection, f64)> {
    let mut connection = super::load::patient(client)
        .await
        .map_err(Error::redis("Redis"))?;
    let maxmemory = info_field(&mut connection, "memory", "maxmemory").await? as f64;
    if maxmemory <= 0.0 {
        return Err(Error::RedisState(
            "Redis has no maxmemory: there is no limit to fill it to".into(),
        ));
    }
    Ok((connection, maxmemory))
}

/// A numeric field of an `INFO` section.
pub(crate) async fn info_field(
    connection: &mut redis::aio::MultiplexedConnection,
    section: &str,
    field: &str,
) -> Result<u64> {
    let text: String = redis::cmd("INFO")
        .arg(section)
        .query_async(connection)
        .await
        .map_err(Error::redis(format!("INFO {section}")))?;
    info_value(&text, field)
        .ok_or_else(|| Error::RedisState(format!("INFO {section} has no {field}")))
}

/// The value of `field` in the text of an `INFO`.
pub(crate) fn info_value<T: std::str::FromStr>(info: &str, field: &str) -> Option<T> {
    info.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
}

/// The exporter's `redis_memory_used_bytes` from the first scrape after now, and `INFO`'s
/// `used_memory` read then (nothing is written meanwhile).
async fn exporter_agrees(
    site: &Site,
    connection: &mut redis::aio::MultiplexedConnection,
) -> Result<(f64, f64)> {
    let since = now();
    let exporter = prometheus::poll(site, "redis_memory_used_bytes", since, |s| {
        s.iter().find(|(t, _)| *t >= since).map(|(_, v)| *v)
    })
    .await?;
    let info = info_field(connection, "memory", "used_memory").await? as f64;
    Ok((exporter, info))
}
