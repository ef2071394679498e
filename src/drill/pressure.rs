//! `pressure`: writes on to 110 % of `maxmemory`. Under an evicting policy Redis must evict (seen
//! in `INFO` and in the exporter's counter through Prometheus); under `noeviction` it must
//! reject writes with OOM. Either way the alert that policy maps to (`RedisBufferOverflow`)
//! must fire (at once under `--quick`, else after its `for`).

use std::time::{Duration, Instant};

use serde::Serialize;

use super::capacity::{info_field, with_maxmemory};
use super::load::PREFIX;
use super::site::Site;
use super::{Error, Result, Scenario, notify, now, prometheus};
use crate::alerts::AlertKind;

/// How far past `maxmemory` the writes go.
const OVERSHOOT: f64 = 1.10;
const BATCH: usize = 64;
const VALUE: usize = 4096;

/// What `pressure` found (the keys of its JSON, in their order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Pressure {
    pub(crate) accepted_writes: u64,
    pub(crate) alert: &'static str,
    pub(crate) alert_state: String,
    pub(crate) evicted_keys: u64,
    /// The evictions as the exporter counted them, under an evicting policy.
    pub(crate) exporter_evicted_keys: Option<u64>,
    pub(crate) maxmemory: u64,
    pub(crate) name: Scenario,
    pub(crate) ok: bool,
    pub(crate) policy_evicts: bool,
    pub(crate) rejected_writes: u64,
    pub(crate) seconds_to_alert: Option<f64>,
    pub(crate) written_bytes: u64,
}

pub(crate) async fn run(
    client: &redis::Client,
    site: &Site,
    evicts: bool,
    kind: AlertKind,
) -> Result<Pressure> {
    let alert = kind.name();
    let (mut connection, maxmemory) = with_maxmemory(client).await?;
    prometheus::wait_for_scrape(site, "redis_evicted_keys_total").await?;
    let evicted_before = info_field(&mut connection, "stats", "evicted_keys").await?;
    let start = now();
    let mut watch = notify::Watch::new(site, kind);
    let (writes, seconds) = overflow(&mut connection, maxmemory, &mut watch).await?;
    let state = notify::alert_now(site, alert)
        .await
        .unwrap_or_else(|| "inactive".into());
    let end = now();
    let evicted = info_field(&mut connection, "stats", "evicted_keys").await? - evicted_before;
    // The exporter's view of the evictions: its counter across the writes.
    let exporter_evicted = if evicts {
        let seen = prometheus::poll(site, "redis_evicted_keys_total", start, |s| {
            prometheus::growth(s, start, end)
        })
        .await?;
        Some(seen as u64)
    } else {
        None
    };
    let fired = seconds.is_some();
    let seen = if evicts {
        evicted > 0 && exporter_evicted.is_some_and(|e| e > 0)
    } else {
        writes.rejected > 0
    };
    Ok(Pressure {
        accepted_writes: writes.accepted,
        alert,
        alert_state: state,
        evicted_keys: evicted,
        exporter_evicted_keys: exporter_evicted,
        maxmemory: maxmemory as u64,
        name: Scenario::Pressure,
        ok: seen && fired,
        policy_evicts: evicts,
        rejected_writes: writes.rejected,
        seconds_to_alert: seconds,
        written_bytes: writes.written as u64,
    })
}

/// Writes past `maxmemory`, then on, a batch every 200 ms, until the alert fires (a counter
/// the exporter shows only once it is non-zero, OOM errors, needs to grow between two scrapes
/// to alert) or its deadline has passed: the writes, and the seconds the alert took after the
/// overshoot.
pub(crate) async fn overflow(
    connection: &mut redis::aio::MultiplexedConnection,
    maxmemory: f64,
    watch: &mut notify::Watch<'_>,
) -> Result<(Writes, Option<f64>)> {
    let mut writes = Writes::default();
    while writes.written < maxmemory * OVERSHOOT {
        writes.batch(connection).await?;
    }
    let timeout = watch.deadline();
    let waited = Instant::now();
    loop {
        if watch.firing().await {
            return Ok((writes, Some(waited.elapsed().as_secs_f64())));
        }
        if waited.elapsed() > timeout {
            return Ok((writes, None));
        }
        writes.batch(connection).await?;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The writes so far: bytes sent, and how Redis answered.
#[derive(Default)]
pub(crate) struct Writes {
    pub(crate) written: f64,
    pub(crate) accepted: u64,
    pub(crate) rejected: u64,
    next: usize,
}

impl Writes {
    /// One pipeline of values; OOM rejections counted, any other error fails the drill.
    async fn batch(&mut self, connection: &mut redis::aio::MultiplexedConnection) -> Result<()> {
        let value = [b'p'; VALUE];
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for _ in 0..BATCH {
            pipe.set(format!("{PREFIX}pressure:{}", self.next), &value[..]);
            self.next += 1;
        }
        let replies: Vec<redis::RedisResult<()>> = pipe
            .query_async(connection)
            .await
            .map_err(Error::redis("writing"))?;
        for reply in replies {
            match reply {
                Ok(()) => self.accepted += 1,
                Err(e) if e.code() == Some("OOM") => self.rejected += 1,
                Err(e) => return Err(Error::redis("a write failed")(e)),
            }
        }
        self.written += (BATCH * VALUE) as f64;
        Ok(())
    }
}
