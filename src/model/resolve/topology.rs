//! Topologies: the managed Redis' replicas and Sentinels (`[redis] replicas`,
//! `[redis.sentinel]`), the targets they are, and what a `[[targets]]` entry is (`kind`): one
//! Redis or a Sentinel. Each error at its key.

use std::collections::BTreeMap;

use super::Collector;
use crate::alerts::GROUP_LABEL;
use crate::diagnostic::Code;
use crate::model::raw::{SentinelTable, TargetKind, TargetTable};
use crate::model::stack::{Node, Redis, Sentinel, Service, Target};
use crate::model::units::Duration;

/// The label that says what a target is: `redis`, `sentinel` or `cluster`.
pub(crate) const KIND_LABEL: &str = "kind";
/// The label of a cluster's nodes: the cluster's name.
pub(crate) const CLUSTER_LABEL: &str = "cluster";
/// The managed Redis as a target: its name, and its address on the stack's network.
pub(crate) const MANAGED_NAME: &str = "redis";
/// The replication group of the managed Redis, and the name its Sentinels know it by.
pub(crate) const MANAGED_GROUP: &str = MANAGED_NAME;
pub(crate) const MAX_REPLICAS: u16 = 5;
/// How many Sentinels watch the managed Redis: three, the fewest that survive one's loss.
pub(crate) const SENTINELS: u16 = 3;
/// The port a Sentinel listens on in its container, and the first one published.
pub(crate) const SENTINEL_PORT: u16 = 26379;
/// The port each data node listens on in its container.
pub(crate) const REDIS_PORT: u16 = 6379;
pub(crate) const DEFAULT_QUORUM: u16 = 2;
pub(crate) const DEFAULT_DOWN_AFTER: Duration = Duration::from_secs(5);
pub(crate) const DEFAULT_FAILOVER_TIMEOUT: Duration = Duration::from_secs(60);

/// The managed Redis' data nodes: the primary on its own port, then each replica on the port
/// after the one before.
pub(crate) fn nodes(c: &mut Collector<'_>, replicas: Option<u16>, redis: &Service) -> Vec<Node> {
    let count = replicas.unwrap_or(0);
    if count > MAX_REPLICAS {
        c.error(
            Code::InvalidValue,
            "redis.replicas",
            format!("`replicas` must be from 0 to {MAX_REPLICAS}, not {count}"),
        );
    }
    if !redis.enabled {
        return Vec::new();
    }
    let primary = Node {
        name: MANAGED_NAME.into(),
        role: "master",
        volume: Some("redis-data".into()),
        port: redis.port,
        container_port: REDIS_PORT,
        publish: redis.publish.clone(),
    };
    let replicas = (1..=count.min(MAX_REPLICAS)).map(|i| {
        let name = format!("redis-replica-{i}");
        Node {
            role: "slave",
            volume: Some(format!("{name}-data")),
            ..node(redis, &name, redis.port, i, REDIS_PORT)
        }
    });
    std::iter::once(primary).chain(replicas).collect()
}

/// The Sentinels, when `[redis.sentinel]` enables them: published from its `port` on.
pub(crate) fn sentinel(
    c: &mut Collector<'_>,
    table: Option<SentinelTable>,
    redis: &Service,
    nodes: usize,
) -> Option<Sentinel> {
    let table = table?;
    if !table.enabled.unwrap_or(false) || !redis.enabled {
        return None;
    }
    if nodes < 2 {
        c.error(
            Code::InvalidValue,
            "redis.sentinel.enabled",
            "Sentinel promotes a replica when the primary fails: set `[redis] replicas` to 1 \
             or more",
        );
    }
    let quorum = table.quorum.unwrap_or(DEFAULT_QUORUM);
    if !(1..=SENTINELS).contains(&quorum) {
        c.error(
            Code::InvalidValue,
            "redis.sentinel.quorum",
            format!(
                "`quorum` must be from 1 to {SENTINELS} (the Sentinels that run), not {quorum}"
            ),
        );
    }
    let down_after = whole_seconds(c, "down_after", table.down_after, DEFAULT_DOWN_AFTER);
    let failover_timeout = whole_seconds(
        c,
        "failover_timeout",
        table.failover_timeout,
        DEFAULT_FAILOVER_TIMEOUT,
    );
    let first = table.port.unwrap_or(SENTINEL_PORT);
    if first == 0 || first > u16::MAX - SENTINELS {
        c.error(
            Code::InvalidValue,
            "redis.sentinel.port",
            format!(
                "`port` must be from 1 to {}: the Sentinels publish it and the {} after it",
                u16::MAX - SENTINELS,
                SENTINELS - 1
            ),
        );
    }
    let nodes = (1..=SENTINELS)
        .map(|i| {
            let name = format!("redis-sentinel-{i}");
            Node {
                role: "sentinel",
                ..node(redis, &name, first.saturating_sub(1), i, SENTINEL_PORT)
            }
        })
        .collect();
    Some(Sentinel {
        master_name: MANAGED_GROUP,
        quorum,
        down_after,
        failover_timeout,
        down_after_ms: down_after.millis(),
        failover_timeout_ms: failover_timeout.millis(),
        nodes,
    })
}

/// A Sentinel duration: whole seconds, at least one (Sentinel counts in milliseconds, but a
/// shorter one would see every pause as a failure).
fn whole_seconds(
    c: &mut Collector<'_>,
    name: &str,
    value: Option<Duration>,
    default: Duration,
) -> Duration {
    let value = value.unwrap_or(default);
    if value.millis() < 1000 || !value.millis().is_multiple_of(1000) {
        c.error(
            Code::InvalidValue,
            &format!("redis.sentinel.{name}"),
            format!("`{name}` must be whole seconds, at least `1s`"),
        );
    }
    value
}

/// A node published at `base + i` on the managed Redis' bind.
fn node(redis: &Service, name: &str, base: u16, i: u16, container_port: u16) -> Node {
    let port = base.saturating_add(i);
    let host = if redis.bind.contains(':') {
        format!("[{}]", redis.bind)
    } else {
        redis.bind.clone()
    };
    Node {
        name: name.to_string(),
        role: "",
        volume: None,
        port,
        container_port,
        publish: format!("{host}:{port}:{container_port}"),
    }
}

/// The managed Redis and its topology as targets: each data node, then each Sentinel. Alone,
/// the primary carries no label of stackgen's; in a topology, each node its `kind` and
/// `replication_group`, and its rendered role (not a label: see `Target::rendered_role`).
pub(crate) fn managed_targets(redis: &Redis) -> Vec<Target> {
    let topology = redis.nodes.len() > 1;
    let sentinels = redis.sentinel.iter().flat_map(|s| &s.nodes);
    let data = redis.nodes.iter().map(|n| (n, TargetKind::Redis));
    data.chain(sentinels.map(|n| (n, TargetKind::Sentinel)))
        .map(|(node, kind)| {
            let mut labels = BTreeMap::new();
            if topology {
                labels.insert(KIND_LABEL.into(), kind.as_str().into());
                labels.insert(GROUP_LABEL.into(), MANAGED_GROUP.into());
            }
            Target {
                name: node.name.clone(),
                address: format!("redis://{}:{}", node.name, node.container_port),
                host: node.name.clone(),
                tls: false,
                password: None,
                labels,
                managed: true,
                kind,
                rendered_role: topology.then_some(node.role),
            }
        })
        .collect()
}

/// What a `[[targets]]` entry's kind asks of it: a Sentinel belongs to a replication group
/// (its alerts are evaluated within it).
pub(crate) fn check_kind(c: &mut Collector<'_>, i: usize, table: &TargetTable) {
    let has_group = table
        .labels
        .as_ref()
        .is_some_and(|labels| labels.contains_key(GROUP_LABEL));
    let key = |field: &str| format!("targets.{i}.{field}");
    let kind = table.kind.unwrap_or_default();
    if kind == TargetKind::Cluster && table.address.is_some() {
        c.error(
            Code::InvalidValue,
            &key("address"),
            "a cluster has `seeds`, not `address`: `seeds = [\"redis://node-1:6379\"]`",
        );
    }
    if kind != TargetKind::Cluster && table.seeds.is_some() {
        c.error(
            Code::InvalidValue,
            &key("seeds"),
            "`seeds` are for `kind = \"cluster\"`; this target has one `address`",
        );
    }
    if kind == TargetKind::Sentinel && !has_group {
        c.error(
            Code::InvalidValue,
            &format!("targets.{i}"),
            format!(
                "a Sentinel target needs `labels.{GROUP_LABEL}`: its alerts are evaluated within \
                 the group of the primary it watches, and two deployments that name their primary \
                 alike must not be counted as one"
            ),
        );
    }
}
