//! The load generator: several connections of the `redis` crate, each sending pipelines of
//! SET and GET on drill keys for a while, timing every pipeline's round trip. Only keys under
//! [`PREFIX`] are written, and [`clean`] removes them all.

use std::time::{Duration, Instant};

use redis::AsyncCommands;

/// Every key a drill writes starts with this.
pub(crate) const PREFIX: &str = "stackgen:drill:";

/// How to load Redis.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    /// Connections, each sending one pipeline at a time.
    pub clients: usize,
    /// Commands per pipeline, half SET and half GET.
    pub pipeline: usize,
    /// Bytes per value.
    pub value_size: usize,
    /// Keys per connection, written over and over.
    pub keys: usize,
}

/// What a run of load did.
#[derive(Debug, Clone, Default)]
pub(crate) struct Load {
    pub commands: u64,
    pub elapsed: Duration,
    /// Each pipeline's round trip, in microseconds, sorted.
    pub round_trips_us: Vec<u64>,
    /// Commands completed in each whole second of the run.
    pub per_second: Vec<u64>,
    /// Replies that were errors.
    pub errors: u64,
}

impl Load {
    pub(crate) fn ops_per_sec(&self) -> f64 {
        self.commands as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// A round-trip percentile, in milliseconds.
    pub(crate) fn percentile_ms(&self, p: f64) -> f64 {
        if self.round_trips_us.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * (self.round_trips_us.len() - 1) as f64).round() as usize;
        self.round_trips_us[rank] as f64 / 1000.0
    }

    pub(crate) fn max_ms(&self) -> f64 {
        self.round_trips_us.last().copied().unwrap_or_default() as f64 / 1000.0
    }
}

/// Loads Redis for `duration` with `shape`.
pub(crate) async fn run(
    client: &redis::Client,
    shape: Shape,
    duration: Duration,
) -> redis::RedisResult<Load> {
    let value = vec![b'x'; shape.value_size];
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(shape.clients);
    for id in 0..shape.clients {
        let connection = patient(client).await?;
        let value = value.clone();
        tasks.push(tokio::spawn(one_client(
            connection, id, shape, value, start, duration,
        )));
    }
    let mut load = Load::default();
    let seconds = duration.as_secs().max(1) as usize;
    load.per_second = vec![0; seconds];
    for task in tasks {
        let part = task.await.map_err(|e| {
            redis::RedisError::from((redis::ErrorKind::Io, "a load task failed", e.to_string()))
        })??;
        load.commands += part.commands;
        load.errors += part.errors;
        load.round_trips_us.extend(part.round_trips_us);
        for (second, count) in part.per_second.iter().enumerate() {
            if let Some(total) = load.per_second.get_mut(second) {
                *total += count;
            }
        }
    }
    load.elapsed = start.elapsed().min(duration).max(Duration::from_millis(1));
    load.round_trips_us.sort_unstable();
    Ok(load)
}

async fn one_client(
    mut connection: redis::aio::MultiplexedConnection,
    id: usize,
    shape: Shape,
    value: Vec<u8>,
    start: Instant,
    duration: Duration,
) -> redis::RedisResult<Load> {
    let mut load = Load {
        per_second: vec![0; duration.as_secs().max(1) as usize],
        ..Load::default()
    };
    // Every pipeline this connection sends, built once: the keys go round, half SET, half GET.
    let keys: Vec<String> = (0..shape.keys.max(1))
        .map(|k| format!("{PREFIX}{id}:{k}"))
        .collect();
    let per_pipe = shape.pipeline.div_ceil(2);
    let pipes: Vec<redis::Pipeline> = (0..keys.len().div_ceil(per_pipe))
        .map(|p| {
            let mut pipe = redis::pipe();
            for i in 0..shape.pipeline {
                let key = &keys[(p * per_pipe + i / 2) % keys.len()];
                if i % 2 == 0 {
                    pipe.set(key, &value[..]);
                } else {
                    pipe.get(key);
                }
            }
            pipe
        })
        .collect();
    let mut next = 0usize;
    while start.elapsed() < duration {
        let pipe = &pipes[next % pipes.len()];
        next = next.wrapping_add(1);
        let sent = Instant::now();
        // The replies are checked, not kept: an error reply fails the pipeline.
        let replied: redis::RedisResult<()> = pipe.query_async(&mut connection).await;
        let round_trip = sent.elapsed();
        match replied {
            Ok(()) => {}
            Err(e) if e.is_io_error() || e.is_connection_dropped() => return Err(e),
            Err(_) => load.errors += 1,
        }
        load.commands += shape.pipeline as u64;
        load.round_trips_us.push(round_trip.as_micros() as u64);
        let second = start.elapsed().as_secs() as usize;
        if let Some(count) = load.per_second.get_mut(second) {
            *count += shape.pipeline as u64;
        }
    }
    Ok(load)
}

/// How many keys Redis holds that are not the drill's.
pub(crate) async fn other_keys(client: &redis::Client) -> redis::RedisResult<u64> {
    let mut connection = patient(client).await?;
    let all: u64 = redis::cmd("DBSIZE").query_async(&mut connection).await?;
    let mut ours = 0u64;
    let mut iter: redis::AsyncIter<String> = connection.scan_options(drill_keys()).await?;
    while let Some(key) = iter.next_item().await {
        key?;
        ours += 1;
    }
    Ok(all.saturating_sub(ours))
}

/// A SCAN over the drill keys, a thousand slots a call.
fn drill_keys() -> redis::ScanOptions {
    redis::ScanOptions::default()
        .with_pattern(format!("{PREFIX}*"))
        .with_count(1000)
}

/// Deletes every drill key; how many there were.
pub(crate) async fn clean(client: &redis::Client) -> super::Result<u64> {
    delete_all(client)
        .await
        .map_err(super::Error::redis("removing drill keys"))
}

/// How long the drill waits for a connection and a reply on its own connections: writes at
/// `maxmemory` wait for evictions and background frees, and on a busy machine Redis may get no
/// CPU for a while — far more than the crate's defaults (a second, half a second).
const PATIENCE: Duration = Duration::from_secs(10);

/// A connection that waits [`PATIENCE`] for it to open and for each reply.
pub(crate) async fn patient(
    client: &redis::Client,
) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(PATIENCE))
        .set_response_timeout(Some(PATIENCE));
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
}

async fn delete_all(client: &redis::Client) -> redis::RedisResult<u64> {
    let mut connection = patient(client).await?;
    let mut deleted = 0;
    loop {
        let keys: Vec<String> = {
            let mut iter: redis::AsyncIter<String> = connection.scan_options(drill_keys()).await?;
            let mut keys = Vec::new();
            while let Some(key) = iter.next_item().await {
                keys.push(key?);
                if keys.len() >= 10_000 {
                    break;
                }
            }
            keys
        };
        if keys.is_empty() {
            // The allocator keeps freed pages until it decays them: hand them back now, so
            // that the next fill starts from the memory Redis really uses.
            let _: redis::RedisResult<()> = redis::cmd("MEMORY")
                .arg("PURGE")
                .query_async(&mut connection)
                .await;
            return Ok(deleted);
        }
        for chunk in keys.chunks(1000) {
            let removed: u64 = connection.unlink(chunk).await?;
            deleted += removed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_come_from_the_sorted_round_trips() {
        let load = Load {
            commands: 1000,
            elapsed: Duration::from_secs(2),
            round_trips_us: (1..=100).map(|i| i * 1000).collect(),
            per_second: vec![500, 500],
            errors: 0,
        };
        assert_eq!(load.ops_per_sec(), 500.0);
        assert_eq!(load.percentile_ms(50.0), 51.0);
        assert_eq!(load.percentile_ms(99.0), 99.0);
        assert_eq!(load.max_ms(), 100.0);
        assert_eq!(Load::default().percentile_ms(50.0), 0.0);
    }
}
