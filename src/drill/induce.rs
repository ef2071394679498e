//! The ways `alerts` makes an alert's condition true on a running stack, each as small and
//! short as the alert allows, through the engine and Redis' own commands. Every change to the
//! stack goes through the journal first, so that it is undone however the drill ends.

use std::time::{Duration, Instant};

use bollard::query_parameters::StopContainerOptionsBuilder;

use super::capacity::info_field;
use super::load;
use super::load::PREFIX;
use super::undo::{Change, Journal, Live};
use super::{Error, Result};

/// Connections held open to keep a condition true; dropping them ends it.
pub(crate) type Held = Vec<redis::aio::MultiplexedConnection>;

/// Stops a container of the stack, recorded; the change that starts it again.
pub(crate) async fn stop(live: &Live<'_>, journal: &Journal, container: &str) -> Result<Change> {
    let change = Change::Stopped(container.to_string());
    journal.record(change.clone());
    let options = StopContainerOptionsBuilder::new().t(10).build();
    live.docker
        .stop_container(container, Some(options))
        .await
        .map_err(Error::engine(format!("stopping {container}")))?;
    Ok(change)
}

/// A Redis setting now.
async fn config_get(
    connection: &mut redis::aio::MultiplexedConnection,
    key: &str,
) -> Result<String> {
    let pair: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg(key)
        .query_async(connection)
        .await
        .map_err(Error::redis(format!("CONFIG GET {key}")))?;
    pair.get(1)
        .cloned()
        .ok_or_else(|| Error::RedisState(format!("Redis has no setting {key}")))
}

/// Changes a Redis setting, recorded with its value before; the change that undoes it.
pub(crate) async fn config_set(
    live: &Live<'_>,
    journal: &Journal,
    key: &str,
    value: &str,
) -> Result<Change> {
    let mut connection = live.connection().await?;
    let before = config_get(&mut connection, key).await?;
    let change = Change::Config {
        key: key.into(),
        value: before,
    };
    journal.record(change.clone());
    super::undo::config_set(&mut connection, key, value).await?;
    Ok(change)
}

/// What the drill writes while it fills Redis stays out of its persistence: no snapshot
/// (`save ""`) and no AOF (`appendonly no`) until the drill keys are gone. A fork from a Redis
/// near `maxmemory` under writes copies its pages, and an AOF holding the fill replays it at
/// the next start with more memory than it took live: either can take the container past its
/// memory limit, and the second again at every restart. Both settings are recorded and set
/// back once the drill keys are gone; turning the AOF back on rewrites it from what is left.
/// A fork already running (a snapshot the `save` rules started) is waited for.
pub(crate) async fn no_forks(live: &Live<'_>, journal: &Journal) -> Result<()> {
    config_set(live, journal, "save", "").await?;
    config_set(live, journal, "appendonly", "no").await?;
    let mut connection = live.connection().await?;
    let started = Instant::now();
    loop {
        let saving = info_field(&mut connection, "persistence", "rdb_bgsave_in_progress").await?;
        let rewriting =
            info_field(&mut connection, "persistence", "aof_rewrite_in_progress").await?;
        if saving == 0 && rewriting == 0 {
            return Ok(());
        }
        if started.elapsed() > FORK_WAIT {
            return Err(Error::RedisState(
                "a snapshot of Redis is still being written: try again later".into(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// How long a running snapshot may take to finish before the drill fills Redis.
const FORK_WAIT: Duration = Duration::from_secs(120);

/// A drill key that holds no number: each `INCR` of it fails.
pub(crate) async fn not_a_number(
    connection: &mut redis::aio::MultiplexedConnection,
    key: &str,
) -> Result<()> {
    redis::cmd("SET")
        .arg(key)
        .arg("not a number")
        .query_async::<()>(connection)
        .await
        .map_err(Error::redis("Redis"))
}

/// Error replies: `count` in all, half of them failed `AUTH`s on a connection that never
/// logged in, half `INCR` on a drill key that holds text.
pub(crate) async fn error_replies(live: &Live<'_>, count: u64) -> Result<u64> {
    let mut logged_in = live.connection().await?;
    let key = format!("{PREFIX}errors");
    not_a_number(&mut logged_in, &key).await?;
    let mut anonymous = live
        .site
        .addresses
        .anonymous_client()?
        .get_multiplexed_async_connection()
        .await
        .map_err(Error::redis("Redis"))?;
    let mut errors = 0;
    for half in 0..2 {
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for _ in 0..count.div_ceil(2) {
            if half == 0 {
                pipe.cmd("AUTH").arg("stackgen-drill-wrong-password");
            } else {
                pipe.cmd("INCR").arg(&key);
            }
        }
        let target = if half == 0 {
            &mut anonymous
        } else {
            &mut logged_in
        };
        let replies: Vec<redis::RedisResult<redis::Value>> = pipe
            .query_async(target)
            .await
            .map_err(Error::redis("Redis"))?;
        errors += replies.iter().filter(|r| r.is_err()).count() as u64;
    }
    Ok(errors)
}

/// Rejected connections: `maxclients` lowered to one past the connected clients, then a few
/// connections more than that opened and closed at once. How many Redis turned away.
pub(crate) async fn rejected_connections(live: &Live<'_>, journal: &Journal) -> Result<u64> {
    let mut probe = live.connection().await?;
    let connected = info_field(&mut probe, "clients", "connected_clients").await?;
    let change = config_set(live, journal, "maxclients", &(connected + 1).to_string()).await?;
    let mut held = Vec::new();
    let mut rejected = 0;
    for _ in 0..6 {
        match live.client.get_multiplexed_async_connection().await {
            Ok(connection) => held.push(connection),
            Err(_) => rejected += 1,
        }
    }
    drop(held);
    // Back through the connection held all along: a new one could be turned away too, until
    // Redis has seen the dropped ones close.
    if let Change::Config { key, value } = &change {
        super::undo::config_set(&mut probe, key, value).await?;
    }
    journal.forget(&change);
    Ok(rejected)
}

/// Connected clients above `threshold_percent` of `maxclients`: `maxclients` lowered, and
/// connections held until Redis counts clients midway between the threshold and full. The
/// half left on each side is at least [`ROOM`] connections: the exporter's scrape and the
/// alerts induced meanwhile connect and close while the alert is proven, and may neither be
/// turned away nor take the count back under the threshold.
pub(crate) async fn many_connections(
    live: &Live<'_>,
    journal: &Journal,
    threshold_percent: f64,
) -> Result<(Held, Change)> {
    let mut probe = live.connection().await?;
    let connected = info_field(&mut probe, "clients", "connected_clients").await?;
    let share = threshold_percent / 100.0;
    let half = (1.0 - share) / 2.0;
    let maxclients = ((ROOM / half).ceil() as u64).max(connected + 2 * ROOM as u64);
    let goal = (maxclients as f64 * (share + half)).ceil() as u64;
    let change = config_set(live, journal, "maxclients", &maxclients.to_string()).await?;
    let mut held = Vec::new();
    while info_field(&mut probe, "clients", "connected_clients").await? < goal {
        held.push(live.connection().await?);
    }
    Ok((held, change))
}

/// Connections left free on each side of the held ones (see [`many_connections`]).
const ROOM: f64 = 8.0;

/// Commands that each run `ms` milliseconds (a Lua loop calibrated on this Redis, which calls
/// no command: only the script counts), one after another for as long as it is polled: only an
/// error ends it.
pub(crate) async fn slow_commands(live: &Live<'_>, ms: f64) -> Result<std::convert::Infallible> {
    const SCRIPT: &str = "local n = tonumber(ARGV[1]) local x = 0 for i = 1, n do x = x + 1 \
                          end return 0";
    let config = redis::AsyncConnectionConfig::new().set_response_timeout(Some(
        Duration::from_millis(ms as u64) + Duration::from_secs(5),
    ));
    let mut connection = live
        .client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .map_err(Error::redis("Redis"))?;
    let mut eval = async |iterations: u64| {
        let sent = Instant::now();
        redis::cmd("EVAL")
            .arg(SCRIPT)
            .arg(0)
            .arg(iterations)
            .query_async::<i64>(&mut connection)
            .await
            .map_err(Error::redis("EVAL"))?;
        Ok::<_, Error>(sent.elapsed().as_secs_f64() * 1000.0)
    };
    // The round trip of a script includes any wait behind other clients or a fork, so the
    // fastest of several says best how long its loop takes: one slowed probe would make every
    // command after it too short to lift the average. Re-measured as the commands run.
    let mut iterations = 1_000_000;
    let mut fastest = f64::INFINITY;
    for _ in 0..3 {
        fastest = fastest.min(eval(iterations).await?);
    }
    loop {
        iterations = rescaled(iterations, ms, fastest);
        fastest = f64::INFINITY;
        for _ in 0..RESCALE_EVERY {
            fastest = fastest.min(eval(iterations).await?);
        }
    }
}

/// How many slow commands run between two measurements of their loop.
const RESCALE_EVERY: u32 = 10;

/// The loop's iterations for a command of `ms`, given that `iterations` took `fastest` ms at
/// their fastest: in proportion, within a factor of 10 either way per step.
fn rescaled(iterations: u64, ms: f64, fastest: f64) -> u64 {
    let factor = (ms / fastest.max(0.001)).clamp(0.1, 10.0);
    ((iterations as f64 * factor) as u64).max(1)
}

/// Fast load of at least `commands` commands, in slices of a second.
pub(crate) async fn burst(live: &Live<'_>, shape: load::Shape, commands: f64) -> Result<u64> {
    let mut done = 0;
    while (done as f64) < commands {
        let slice = load::run(live.client, shape, Duration::from_secs(1))
            .await
            .map_err(Error::Load)?;
        done += slice.commands;
    }
    Ok(done)
}

/// Keeps `per_second` commands a second going to Redis for as long as it is polled, counted
/// from `ahead` seconds before it starts (so the window it fills is full at once): PINGs, which
/// write nothing, in a pipeline every tenth of a second. While Redis cannot be reached (another
/// alert stopped it), the commands it missed are sent once it is back.
pub(crate) async fn steady(
    live: &Live<'_>,
    per_second: f64,
    ahead: f64,
) -> std::convert::Infallible {
    const MOST_AT_ONCE: f64 = 50_000.0;
    let started = Instant::now();
    let mut sent = 0.0;
    let mut open: Option<redis::aio::MultiplexedConnection> = None;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let due = (per_second * (ahead + started.elapsed().as_secs_f64()) - sent)
            .min(MOST_AT_ONCE)
            .floor();
        if due < 1.0 {
            continue;
        }
        if open.is_none() {
            let connecting = tokio::time::timeout(Duration::from_secs(2), live.connection());
            open = connecting.await.ok().and_then(Result::ok);
        }
        let Some(connection) = open.as_mut() else {
            continue;
        };
        let mut pipe = redis::pipe();
        for _ in 0..due as u64 {
            pipe.cmd("PING").ignore();
        }
        let answered = tokio::time::timeout(Duration::from_secs(5), pipe.query_async(connection));
        match answered.await {
            Ok(Ok(())) => sent += due,
            _ => open = None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_commands_follow_their_fastest_run() {
        // 1M iterations in 10 ms at best: 4M for 40 ms.
        assert_eq!(rescaled(1_000_000, 40.0, 10.0), 4_000_000);
        // A probe slowed to 400 ms by a fork does not shrink the loop below a tenth at once.
        assert_eq!(rescaled(1_000_000, 40.0, 400.0), 100_000);
        // Already right: unchanged; far too fast: ten times more, then again.
        assert_eq!(rescaled(4_000_000, 40.0, 40.0), 4_000_000);
        assert_eq!(rescaled(1_000, 40.0, 0.01), 10_000);
        assert_eq!(rescaled(1, 40.0, 400.0), 1);
    }
}
