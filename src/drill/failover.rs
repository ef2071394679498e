//! `failover`: on a managed Sentinel stack, a steady stream of acknowledged writes through a
//! Sentinel-aware client (it asks the Sentinels for the primary whenever a write fails, and
//! follows it), SIGKILL of the primary's container through the engine, then the time until
//! Sentinel promoted a replica, the time until writes succeeded again, and the acknowledged
//! writes the new primary lacks. The alerts that must follow (the old primary down, the
//! failover notice) are proven to fire and reach Alertmanager and Slack; the old primary is
//! started again and rejoins as a replica, and its RedisDown resolves. The drill leaves the
//! topology as Sentinel made it.

use std::time::{Duration, Instant};

use bollard::Docker;
use serde::Serialize;

use super::alerts::Proof;
use super::load::PREFIX;
use super::site::{Node, Published, Site};
use super::timeline::{Event, Recorder};
use super::undo::{Change, Journal};
use super::{Error, Result, Scenario, notify, recovery};
use crate::alerts::AlertKind;
use crate::model::resolve::topology::MANAGED_GROUP;

/// How long one write, or one question to a Sentinel, may take.
const ASK_TIMEOUT: Duration = Duration::from_millis(500);
/// How long Sentinel may take to promote a replica and writes to succeed again.
const FAILOVER_TIMEOUT: Duration = Duration::from_secs(90);
/// How long the writes go on once they succeed on the new primary.
const AFTER: Duration = Duration::from_secs(1);

/// What `failover` found (the keys of its JSON, in their order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Failover {
    /// Writes the old or the new primary acknowledged.
    pub(crate) acked: usize,
    pub(crate) alerts: Vec<Proof>,
    pub(crate) killed_after_s: f64,
    /// Acknowledged writes the new primary lacks.
    pub(crate) lost: usize,
    /// The time between the first and the last of them, as they were acknowledged.
    pub(crate) lost_seconds_of_writes: f64,
    pub(crate) name: Scenario,
    /// The primary Sentinel promoted.
    pub(crate) new_primary: String,
    pub(crate) ok: bool,
    /// The primary the drill killed.
    pub(crate) old_primary: String,
    /// From the kill until the Sentinels named another primary.
    pub(crate) promotion_s: f64,
    /// From its restart until the old primary answered as a replica.
    pub(crate) rejoined_s: Option<f64>,
    /// From the kill until a write succeeded on the new primary.
    pub(crate) writes_back_s: f64,
}

/// The primary the Sentinels report now, by its service name; none when none answers.
pub(crate) async fn primary_now(site: &Site) -> Option<String> {
    let password = site.addresses.redis_password.as_deref();
    for sentinel in &site.sentinels {
        let Published { host, port } = &sentinel.address;
        let Ok(client) = crate::health::redis::client(host, *port, password) else {
            continue;
        };
        let ask = async {
            let mut connection = client.get_multiplexed_async_connection().await?;
            redis::cmd("SENTINEL")
                .arg("get-master-addr-by-name")
                .arg(MANAGED_GROUP)
                .query_async::<Option<(String, u16)>>(&mut connection)
                .await
        };
        if let Ok(Ok(Some((host, _)))) = tokio::time::timeout(ASK_TIMEOUT, ask).await {
            return Some(host);
        }
    }
    None
}

/// Writes as a Sentinel-aware client does: to the primary it knows, and when a write fails,
/// to the one the Sentinels name next.
struct Writer<'s> {
    site: &'s Site,
    primary: String,
    connection: Option<redis::aio::MultiplexedConnection>,
}

impl<'s> Writer<'s> {
    async fn connect(site: &'s Site, primary: String) -> Self {
        let mut writer = Self {
            site,
            primary,
            connection: None,
        };
        writer.reconnect().await;
        writer
    }

    fn node(&self) -> Option<&'s Node> {
        self.site.nodes.iter().find(|n| n.service == self.primary)
    }

    async fn reconnect(&mut self) {
        let password = self.site.addresses.redis_password.as_deref();
        self.connection = None;
        let Some(node) = self.node() else { return };
        let Ok(client) =
            crate::health::redis::client(&node.address.host, node.address.port, password)
        else {
            return;
        };
        let connect = client.get_multiplexed_async_connection();
        if let Ok(Ok(connection)) = tokio::time::timeout(ASK_TIMEOUT, connect).await {
            self.connection = Some(connection);
        }
    }

    /// One write; whether the primary acknowledged it.
    async fn write(&mut self, n: usize) -> bool {
        let Some(connection) = self.connection.as_mut() else {
            return false;
        };
        let mut set = redis::cmd("SET");
        set.arg(key(n)).arg(n);
        let ack = set.query_async::<()>(connection);
        matches!(tokio::time::timeout(ASK_TIMEOUT, ack).await, Ok(Ok(())))
    }

    /// After a failed write: the primary the Sentinels name now, connected to when it changed.
    async fn follow(&mut self) -> bool {
        match primary_now(self.site).await {
            Some(primary) if primary != self.primary => {
                self.primary = primary;
                self.reconnect().await;
                true
            }
            _ => {
                if self.connection.is_none() {
                    self.reconnect().await;
                }
                false
            }
        }
    }
}

/// The writes, the kill and the failover.
struct Stream<'s> {
    /// The primary killed, and its container.
    old: String,
    container: String,
    /// When each acknowledged write was acknowledged, from the start.
    acks: Vec<Duration>,
    started: Instant,
    killed_at: Instant,
    promoted_at: Option<Instant>,
    back_at: Option<Instant>,
    writer: Writer<'s>,
}

async fn stream<'s>(
    site: &'s Site,
    docker: &Docker,
    journal: &Journal,
    before_kill: Duration,
    note: &impl Fn(Event),
) -> Result<Stream<'s>> {
    let old = primary_now(site).await.ok_or_else(|| {
        Error::RedisState("no Sentinel answers: there is no failover to drill".into())
    })?;
    let mut writer = Writer::connect(site, old.clone()).await;
    let container = writer
        .node()
        .map(|n| n.container.clone())
        .ok_or_else(|| Error::RedisState(format!("the primary `{old}` is no node of the stack")))?;
    let started = Instant::now();
    let mut acks = Vec::new();
    let mut killed_at = None;
    let mut promoted_at = None;
    let mut back_at: Option<Instant> = None;
    loop {
        if killed_at.is_none() && started.elapsed() >= before_kill {
            journal.record(Change::Stopped(container.clone()));
            recovery::kill(docker, &container).await?;
            killed_at = Some(Instant::now());
            note(Event::Kill);
        }
        if writer.write(acks.len()).await {
            acks.push(started.elapsed());
            if promoted_at.is_some() {
                let back = *back_at.get_or_insert_with(Instant::now);
                if back.elapsed() >= AFTER {
                    break;
                }
            }
            continue;
        }
        let Some(killed) = killed_at else {
            return Err(Error::RedisState("a write failed before the kill".into()));
        };
        if killed.elapsed() > FAILOVER_TIMEOUT {
            return Err(Error::RedisState(format!(
                "writes did not succeed again within {} s of the kill",
                FAILOVER_TIMEOUT.as_secs()
            )));
        }
        if writer.follow().await {
            promoted_at.get_or_insert_with(Instant::now);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(Stream {
        old,
        container,
        acks,
        started,
        killed_at: killed_at.unwrap_or(started),
        promoted_at,
        back_at,
        writer,
    })
}

fn key(n: usize) -> String {
    format!("{PREFIX}failover:{n}")
}

/// Every step of the scenario. `alerts`: the alerts the stack has on, of those it proves.
pub(crate) async fn run(
    site: &Site,
    docker: &Docker,
    before_kill: Duration,
    journal: &Journal,
    recorder: Option<&Recorder>,
    on: impl Fn(AlertKind) -> bool,
) -> Result<Failover> {
    let note = |event| {
        if let Some(recorder) = recorder {
            recorder.event(event);
        }
    };
    // Each alert's Slack counts from before the kill: a notification sent before the drill
    // looks at it counts.
    let kinds = [AlertKind::RedisDown, AlertKind::Failover];
    let mut watches: Vec<notify::Watch<'_>> = kinds
        .into_iter()
        .filter(|kind| on(*kind))
        .map(|kind| notify::Watch::new(site, kind))
        .collect();
    for watch in &mut watches {
        watch.firing().await;
    }
    let s = stream(site, docker, journal, before_kill, &note).await?;
    let (old, new) = (s.old.clone(), s.writer.primary.clone());
    let since_kill = |at: Option<Instant>| at.map_or(0.0, |at| (at - s.killed_at).as_secs_f64());
    let mut connection = s
        .writer
        .connection
        .clone()
        .ok_or_else(|| Error::RedisState("the new primary does not answer".into()))?;
    let missing = missing(&mut connection, s.acks.len()).await?;
    let lost_seconds = match (missing.first(), missing.last()) {
        (Some(&first), Some(&last)) => (s.acks[last] - s.acks[first]).as_secs_f64(),
        _ => 0.0,
    };
    clean(connection).await?;
    // The alerts the failover raises: the old primary down, then the notice.
    let mut alerts = Vec::new();
    for watch in watches {
        alerts.push(fired(site, watch).await);
    }
    // The old primary back: it rejoins as a replica, and its RedisDown resolves.
    let restarted = Instant::now();
    docker
        .start_container(&s.container, None)
        .await
        .map_err(Error::engine(format!("starting {}", s.container)))?;
    journal.forget(&Change::Stopped(s.container.clone()));
    note(Event::Restart);
    let rejoined_s = rejoined(site, &old)
        .await
        .then(|| restarted.elapsed().as_secs_f64());
    for proof in &mut alerts {
        if proof.alert == AlertKind::RedisDown.name() {
            let timeout = site.timing.resolves_within(Duration::ZERO);
            let resolved = notify::until(site, proof.alert, timeout, notify::is_inactive).await;
            proof.seconds_to_resolve = resolved;
            proof.resolved = resolved.is_some();
        }
    }
    let proven = alerts.iter().all(|a| {
        let resolved = a.resolved || a.alert == AlertKind::Failover.name();
        a.fired && a.in_alertmanager != Some(false) && a.delivered != Some(false) && resolved
    });
    Ok(Failover {
        acked: s.acks.len(),
        alerts,
        killed_after_s: (s.killed_at - s.started).as_secs_f64(),
        lost: missing.len(),
        lost_seconds_of_writes: lost_seconds,
        name: Scenario::Failover,
        ok: proven && rejoined_s.is_some() && new != old,
        new_primary: new,
        old_primary: old,
        promotion_s: since_kill(s.promoted_at),
        rejoined_s,
        writes_back_s: since_kill(s.back_at),
    })
}

/// An alert of the failover, watched until it fires and Alertmanager sent it on.
async fn fired(site: &Site, mut watch: notify::Watch<'_>) -> Proof {
    let kind = watch.kind;
    let seconds = watch.fires().await;
    let mut proof = Proof {
        alert: kind.name(),
        induced: true,
        how: match kind {
            AlertKind::Failover => "the failover; it resolves on its own once the old primary \
                                    has left its window, which the drill does not wait for"
                .into(),
            _ => "the primary's container killed (SIGKILL), then started again".into(),
        },
        fired: seconds.is_some(),
        seconds_to_fire: seconds,
        ..Proof::default()
    };
    if proof.fired && site.addresses.alertmanager.is_some() {
        let (held, sent) = notify::delivery(site, proof.alert, watch.before).await;
        proof.in_alertmanager = Some(held);
        proof.delivered = sent.as_ref().map(Result::is_ok);
        if let Some(Err(why)) = sent {
            proof.error = Some(why.to_string());
        }
    }
    proof
}

/// The indexes of the first `acked` writes the new primary lacks.
async fn missing(
    connection: &mut redis::aio::MultiplexedConnection,
    acked: usize,
) -> Result<Vec<usize>> {
    let mut missing = Vec::new();
    for chunk in (0..acked).collect::<Vec<_>>().chunks(1000) {
        let keys: Vec<String> = chunk.iter().map(|&n| key(n)).collect();
        let values: Vec<Option<u64>> = redis::cmd("MGET")
            .arg(&keys)
            .query_async(connection)
            .await
            .map_err(Error::redis("counting the writes on the new primary"))?;
        let lacking = chunk.iter().zip(values).filter(|(_, v)| v.is_none());
        missing.extend(lacking.map(|(&n, _)| n));
    }
    Ok(missing)
}

/// The drill's keys removed from the new primary, and that removal on its replicas.
async fn clean(mut connection: redis::aio::MultiplexedConnection) -> Result<()> {
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{PREFIX}failover:*"))
        .query_async(&mut connection)
        .await
        .map_err(Error::redis("listing the drill's keys"))?;
    for chunk in keys.chunks(1000) {
        redis::cmd("UNLINK")
            .arg(chunk)
            .query_async::<()>(&mut connection)
            .await
            .map_err(Error::redis("removing the drill's keys"))?;
    }
    let _: redis::RedisResult<i64> = redis::cmd("WAIT")
        .arg(0)
        .arg(1000)
        .query_async(&mut connection)
        .await;
    Ok(())
}

/// A client of the primary the Sentinels name now, for what the drill does after a failover.
pub(crate) async fn primary_client(site: &Site) -> Option<redis::Client> {
    let primary = primary_now(site).await?;
    let node = site.nodes.iter().find(|n| n.service == primary)?;
    let password = site.addresses.redis_password.as_deref();
    crate::health::redis::client(&node.address.host, node.address.port, password).ok()
}

/// Whether `service`, started again, answers as a replica that has synchronized with its
/// primary, within the failover's time.
async fn rejoined(site: &Site, service: &str) -> bool {
    let Some(node) = site.nodes.iter().find(|n| n.service == service) else {
        return false;
    };
    let password = site.addresses.redis_password.as_deref();
    let Ok(client) = crate::health::redis::client(&node.address.host, node.address.port, password)
    else {
        return false;
    };
    let deadline = Instant::now() + FAILOVER_TIMEOUT;
    while Instant::now() < deadline {
        let role = async {
            let mut connection = client.get_multiplexed_async_connection().await?;
            redis::cmd("ROLE")
                .query_async::<Vec<redis::Value>>(&mut connection)
                .await
        };
        // `slave`, its primary, its port, then `connected` once it has synchronized.
        if let Ok(Ok(reply)) = tokio::time::timeout(ASK_TIMEOUT, role).await
            && is(reply.first(), b"slave")
            && is(reply.get(3), b"connected")
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// Whether a reply's element is this text.
fn is(value: Option<&redis::Value>, wanted: &[u8]) -> bool {
    matches!(value, Some(redis::Value::BulkString(text)) if text == wanted)
}
