//! `recovery`: writes acknowledged keys, kills Redis with SIGKILL through the engine while it
//! writes, waits until Redis answers again (starting the container if its restart policy does
//! not), then counts which acknowledged writes survived. With AOF `everysec`, at most one second
//! of writes may be lost. The kill and the moment Redis answers again go on the chart.

use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::query_parameters::KillContainerOptionsBuilder;
use serde::Serialize;

use super::load::PREFIX;
use super::timeline::{Event, Recorder};
use super::undo::{Change, Journal};
use super::{Error, Result, Scenario};

/// Writes per pipeline.
const BATCH: usize = 16;
/// How long Redis may take to answer again after the kill.
const RESTART_TIMEOUT: Duration = Duration::from_secs(60);

/// What the stack promises about lost writes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Durability {
    pub(crate) appendonly: bool,
    pub(crate) everysec: bool,
}

/// What `recovery` found (the keys of its JSON, in their order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Recovery {
    /// Writes Redis acknowledged before the kill.
    pub(crate) acked: usize,
    pub(crate) killed_after_s: f64,
    pub(crate) lost: usize,
    /// What the stack's durability promises: a second under AOF `everysec`.
    pub(crate) lost_seconds_allowed: Option<f64>,
    pub(crate) lost_seconds_of_writes: f64,
    pub(crate) name: Scenario,
    pub(crate) ok: bool,
    pub(crate) recovery_s: f64,
    pub(crate) survived: usize,
}

pub(crate) async fn run(
    client: &redis::Client,
    docker: &Docker,
    container: &str,
    before_kill: Duration,
    durability: Durability,
    journal: &Journal,
    recorder: Option<&Recorder>,
) -> Result<Recovery> {
    let note = |event| {
        if let Some(recorder) = recorder {
            recorder.event(event);
        }
    };
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .map_err(Error::redis("Redis"))?;
    // Acknowledged writes and when each batch was acknowledged, from the start.
    let started = Instant::now();
    let mut acks: Vec<Duration> = Vec::new();
    let mut killed_at: Option<Instant> = None;
    loop {
        if killed_at.is_none() && started.elapsed() >= before_kill {
            // Recorded: should the drill be stopped before Redis is back, it is started.
            journal.record(Change::Stopped(container.into()));
            kill(docker, container).await?;
            killed_at = Some(Instant::now());
            note(Event::Kill);
        }
        let first = acks.len();
        let mut pipe = redis::pipe();
        for n in first..first + BATCH {
            pipe.set(key(n), n).ignore();
        }
        match pipe.query_async::<()>(&mut connection).await {
            Ok(()) => acks.extend(std::iter::repeat_n(started.elapsed(), BATCH)),
            Err(_) if killed_at.is_some() => break,
            Err(e) => return Err(Error::redis("a write failed before the kill")(e)),
        }
    }
    let killed_at = killed_at.unwrap_or(started);
    wait_until_up(client, docker, container).await?;
    note(Event::Restart);
    journal.forget(&Change::Stopped(container.into()));
    let recovered_after = killed_at.elapsed();
    let survived = count_survivors(client, acks.len()).await?;
    let lost = acks.len() - survived;
    // The lost writes are the last acknowledged ones: from the first lost to the last ack.
    let lost_seconds = if lost == 0 {
        0.0
    } else {
        (acks[acks.len() - 1] - acks[survived]).as_secs_f64()
    };
    let bound = (durability.appendonly && durability.everysec).then_some(1.0);
    Ok(Recovery {
        acked: acks.len(),
        killed_after_s: (killed_at - started).as_secs_f64(),
        lost,
        lost_seconds_allowed: bound,
        lost_seconds_of_writes: lost_seconds,
        name: Scenario::Recovery,
        ok: bound.is_none_or(|b| lost_seconds <= b),
        recovery_s: recovered_after.as_secs_f64(),
        survived,
    })
}

fn key(n: usize) -> String {
    format!("{PREFIX}recovery:{n}")
}

pub(crate) async fn kill(docker: &Docker, container: &str) -> Result<()> {
    let options = KillContainerOptionsBuilder::new().signal("SIGKILL").build();
    docker
        .kill_container(container, Some(options))
        .await
        .map_err(Error::engine(format!("killing {container}")))
}

/// Waits until Redis answers PING with its data loaded; starts the container when the engine
/// has not restarted it after a few seconds.
async fn wait_until_up(client: &redis::Client, docker: &Docker, container: &str) -> Result<()> {
    let deadline = Instant::now() + RESTART_TIMEOUT;
    let waited = Instant::now();
    let mut started = false;
    loop {
        if super::undo::answers(client).await {
            return Ok(());
        }
        if !started && waited.elapsed() > Duration::from_secs(2) {
            let _ = docker.start_container(container, None).await;
            started = true;
        }
        if Instant::now() > deadline {
            return Err(Error::RedisState(format!(
                "Redis did not answer within {RESTART_TIMEOUT:?} of the kill"
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How many of the first `acked` writes are there.
async fn count_survivors(client: &redis::Client, acked: usize) -> Result<usize> {
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .map_err(Error::redis("Redis after the restart"))?;
    let mut survived = 0;
    for chunk in (0..acked).collect::<Vec<_>>().chunks(1000) {
        let keys: Vec<String> = chunk.iter().map(|&n| key(n)).collect();
        let values: Vec<Option<u64>> = redis::cmd("MGET")
            .arg(&keys)
            .query_async(&mut connection)
            .await
            .map_err(Error::redis("counting survivors"))?;
        survived += values.iter().filter(|v| v.is_some()).count();
    }
    Ok(survived)
}
