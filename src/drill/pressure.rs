//! `pressure`: writes on to 110 % of `maxmemory`. Under an evicting policy Redis must evict (seen
//! in `INFO` and in the exporter's counter through Prometheus); under `noeviction` it must
//! reject writes with OOM. Either way the alert that policy maps to (`RedisBufferOverflow`)
//! must fire (at once under `--quick`, else after its `for`).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::capacity::{info_field, with_maxmemory};
use super::load::PREFIX;
use super::{Endpoints, notify, now, prometheus};
use crate::alerts::AlertKind;

/// How far past `maxmemory` the writes go.
const OVERSHOOT: f64 = 1.10;
const BATCH: usize = 64;
const VALUE: usize = 4096;

pub async fn run(
    client: &redis::Client,
    endpoints: &Endpoints,
    evicts: bool,
    kind: AlertKind,
) -> Result<Value, String> {
    let alert = kind.name();
    let (mut connection, maxmemory) = with_maxmemory(client).await?;
    prometheus::wait_for_scrape(endpoints, "redis_evicted_keys_total").await?;
    let evicted_before = info_field(&mut connection, "stats", "evicted_keys").await?;
    let start = now();
    let mut watch = notify::Watch::new(endpoints, kind);
    let (writes, seconds) = overflow(&mut connection, maxmemory, &mut watch).await?;
    let state = notify::alert_now(endpoints, alert)
        .await
        .unwrap_or_else(|| "inactive".into());
    let end = now();
    let evicted = info_field(&mut connection, "stats", "evicted_keys").await? - evicted_before;
    // The exporter's view of the evictions: its counter across the writes.
    let exporter_evicted = if evicts {
        let seen = prometheus::poll(endpoints, "redis_evicted_keys_total", start, |s| {
            prometheus::growth(s, start, end)
        })
        .await?;
        Some(seen as u64)
    } else {
        None
    };
    let (written, accepted, rejected) = (writes.written, writes.accepted, writes.rejected);
    let fired = seconds.is_some();
    let seen = if evicts {
        evicted > 0 && exporter_evicted.is_some_and(|e| e > 0)
    } else {
        rejected > 0
    };
    Ok(json!({
        "name": "pressure",
        "ok": seen && fired,
        "policy_evicts": evicts,
        "written_bytes": written as u64,
        "maxmemory": maxmemory as u64,
        "accepted_writes": accepted,
        "rejected_writes": rejected,
        "evicted_keys": evicted,
        "exporter_evicted_keys": exporter_evicted,
        "alert": alert,
        "alert_state": state,
        "seconds_to_alert": seconds,
    }))
}

/// Writes past `maxmemory`, then on, a batch every 200 ms, until the alert fires (a counter
/// the exporter shows only once it is non-zero, OOM errors, needs to grow between two scrapes
/// to alert) or its deadline has passed: the writes, and the seconds the alert took after the
/// overshoot.
pub async fn overflow(
    connection: &mut redis::aio::MultiplexedConnection,
    maxmemory: f64,
    watch: &mut notify::Watch<'_>,
) -> Result<(Writes, Option<f64>), String> {
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
pub struct Writes {
    pub written: f64,
    pub accepted: u64,
    pub rejected: u64,
    next: usize,
}

impl Writes {
    /// One pipeline of values; OOM rejections counted, any other error fails the drill.
    async fn batch(
        &mut self,
        connection: &mut redis::aio::MultiplexedConnection,
    ) -> Result<(), String> {
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
            .map_err(|e| format!("writing: {e}"))?;
        for reply in replies {
            match reply {
                Ok(()) => self.accepted += 1,
                Err(e) if e.code() == Some("OOM") => self.rejected += 1,
                Err(e) => return Err(format!("a write failed: {e}")),
            }
        }
        self.written += (BATCH * VALUE) as f64;
        Ok(())
    }
}
