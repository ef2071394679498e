//! The alert catalogue, as data: for every alert its `[alerts]` key, its name, the service its
//! metrics come from, its default `for` and severity, and its threshold (name, default, allowed
//! range). The `stack.toml` tables and their schema, the resolved defaults, lint's checks and
//! the README's table all come from here; `promql` holds each alert's expression and the
//! scenarios of its generated rule tests. Adding an alert is one entry below plus its arm in
//! `promql`, and the compiler points at every other place that must know.
//!
//! This is the only file that spells an alert's name.

/// The target label that puts targets in one replication group: the alerts about a group
/// (`RedisNoPrimary`, `RedisSplitBrain`, Sentinel's) are evaluated within it.
pub const GROUP_LABEL: &str = "replication_group";

#[macro_use]
mod macros;
pub(crate) mod promql;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::units::Duration;

/// An alert's `severity` label.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

crate::model::combine::leaf_combine!(Severity);

/// The service whose metrics an alert watches: its rules exist only when that service runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// redis_exporter, scraped at `redis_exporter.scrape_interval`.
    Exporter,
    /// Alertmanager, scraped at `prometheus.scrape_interval`.
    Alertmanager,
}

/// An alert's threshold: the key under its table, its default and the open range it must be
/// in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    pub key: &'static str,
    /// What the number counts, for people: `ms`, `ops/s`, `%`.
    pub unit: &'static str,
    pub default: f64,
    /// The value must be above this.
    pub above: f64,
    /// And below this: a value past it is a mistake, or one the generated tests cannot prove.
    pub below: f64,
}

impl Threshold {
    /// Why `value` is out of range, if it is.
    pub fn check(&self, value: f64) -> Result<(), String> {
        let in_range = value > self.above && value < self.below;
        if in_range && value.is_finite() {
            return Ok(());
        }
        let range = format!("between {} and {}, exclusive", self.above, self.below);
        // 1e300 in full is three hundred digits.
        let shown = if value != 0.0 && !(1e-6..1e15).contains(&value.abs()) {
            format!("{value:e}")
        } else {
            value.to_string()
        };
        Err(format!("`{}` must be {range}, not {shown}", self.key))
    }
}

/// What every alert table has in common, and its threshold if it has one.
#[derive(Debug, Clone, Default)]
pub struct AlertParts {
    pub enabled: Option<bool>,
    pub r#for: Option<Duration>,
    pub severity: Option<Severity>,
    pub threshold: Option<f64>,
}

crate::model::combine::table! {
    /// An alert without a threshold.
    pub struct Alert {
        /// Evaluate this alert.
        enabled: bool,
        /// How long the condition must hold before the alert fires.
        r#for: Duration,
        /// The `severity` label, which routes the notification.
        severity: Severity,
    }
}

impl From<Option<Alert>> for AlertParts {
    fn from(table: Option<Alert>) -> Self {
        let table = table.unwrap_or_default();
        Self {
            enabled: table.enabled,
            r#for: table.r#for,
            severity: table.severity,
            threshold: None,
        }
    }
}

catalogue! {
    /// RedisDown: the exporter reports Redis unreachable.
    RedisDown = "RedisDown" {
        key: redis_down,
        source: Exporter,
        for: Duration::from_mins(1),
        severity: Critical,
    }
    /// RedisExporterDown: Prometheus cannot scrape the exporter.
    ExporterDown = "RedisExporterDown" {
        key: exporter_down,
        source: Exporter,
        for: Duration::from_mins(2),
        severity: Critical,
    }
    /// RedisHighLatency: average command latency above `threshold_ms`.
    HighLatency = "RedisHighLatency" {
        key: high_latency,
        source: Exporter,
        for: Duration::from_mins(5),
        severity: Warning,
        threshold: LatencyAlert.threshold_ms {
            doc: "Average command latency, in milliseconds, above which the alert fires.",
            unit: "ms",
            default: 10.0,
            above: 0.0,
            below: 3_600_000.0,
        },
    }
    /// RedisLowThroughput: commands per second fell below `threshold_ops_per_sec` after
    /// having reached it within the last hour.
    LowThroughput = "RedisLowThroughput" {
        key: low_throughput,
        source: Exporter,
        for: Duration::from_mins(10),
        severity: Warning,
        threshold: ThroughputAlert.threshold_ops_per_sec {
            doc: "Commands per second below which the alert fires.",
            unit: "ops/s",
            default: 1000.0,
            above: 0.0,
            below: 1e9,
        },
    }
    /// RedisMemoryPressure: used memory above `threshold_percent` of `maxmemory`.
    MemoryPressure = "RedisMemoryPressure" {
        key: memory_pressure,
        source: Exporter,
        for: Duration::from_mins(5),
        severity: Warning,
        threshold: MemoryAlert.threshold_percent {
            doc: "Used memory, in percent of `maxmemory`, above which the alert fires.",
            unit: "%",
            default: 90.0,
            above: 0.0,
            below: 100.0,
        },
    }
    /// RedisTooManyConnections: connected clients above `threshold_percent` of `maxclients`.
    TooManyConnections = "RedisTooManyConnections" {
        key: too_many_connections,
        source: Exporter,
        for: Duration::from_mins(5),
        severity: Warning,
        threshold: ConnectionsAlert.threshold_percent {
            doc: "Connected clients, in percent of `maxclients`, above which the alert fires.",
            unit: "%",
            default: 85.0,
            above: 0.0,
            below: 100.0,
        },
    }
    /// RedisBufferOverflow: keys evicted, or writes rejected at `maxmemory`.
    BufferOverflow = "RedisBufferOverflow" {
        key: buffer_overflow,
        source: Exporter,
        for: Duration::from_mins(2),
        severity: Critical,
    }
    /// RedisRejectedConnections: connections refused.
    RejectedConnections = "RedisRejectedConnections" {
        key: rejected_connections,
        source: Exporter,
        for: Duration::from_mins(1),
        severity: Warning,
    }
    /// RedisHighErrorRate: error replies per second above `threshold_per_sec`.
    HighErrorRate = "RedisHighErrorRate" {
        key: high_error_rate,
        source: Exporter,
        for: Duration::from_mins(5),
        severity: Warning,
        threshold: ErrorRateAlert.threshold_per_sec {
            doc: "Error replies per second above which the alert fires.",
            unit: "/s",
            default: 1.0,
            above: 0.0,
            below: 1e9,
        },
    }
    /// RedisPersistenceFailing: the last AOF or RDB write failed.
    PersistenceFailing = "RedisPersistenceFailing" {
        key: persistence_failing,
        source: Exporter,
        for: Duration::from_mins(1),
        severity: Critical,
    }
    /// RedisNoMaxmemory: a target has no `maxmemory`, so it grows until its host or
    /// container runs out of memory.
    NoMaxmemory = "RedisNoMaxmemory" {
        key: no_maxmemory,
        source: Exporter,
        for: Duration::from_mins(10),
        severity: Warning,
    }
    /// RedisReplicaLinkDown: a replica has lost its link to its primary.
    ReplicaLinkDown = "RedisReplicaLinkDown" {
        key: replica_link_down,
        source: Exporter,
        for: Duration::from_mins(2),
        severity: Critical,
    }
    /// RedisReplicasLost: a primary has fewer replicas than it had within the last hour.
    ReplicasLost = "RedisReplicasLost" {
        key: replicas_lost,
        source: Exporter,
        for: Duration::from_mins(2),
        severity: Warning,
    }
    /// RedisNoPrimary: no target of a `replication_group` (a target label) is a primary.
    NoPrimary = "RedisNoPrimary" {
        key: no_primary,
        source: Exporter,
        for: Duration::from_mins(1),
        severity: Critical,
    }
    /// RedisReplicaLag: a replica last acknowledged its primary longer than `threshold_seconds`
    /// ago.
    ReplicaLag = "RedisReplicaLag" {
        key: replica_lag,
        source: Exporter,
        for: Duration::from_mins(2),
        severity: Warning,
        threshold: ReplicaLagAlert.threshold_seconds {
            doc: "Seconds since a replica's last acknowledgement above which the alert fires.",
            unit: "s",
            default: 10.0,
            above: 0.0,
            below: 86400.0,
        },
    }
    /// RedisReplicaLagBytes: a replica is more than `threshold_mib` of the replication stream
    /// behind its primary.
    ReplicaLagBytes = "RedisReplicaLagBytes" {
        key: replica_lag_bytes,
        source: Exporter,
        for: Duration::from_mins(2),
        severity: Warning,
        threshold: ReplicaLagBytesAlert.threshold_mib {
            doc: "MiB of the replication stream a replica may be behind before the alert fires.",
            unit: "MiB",
            default: 64.0,
            above: 0.0,
            below: 1048576.0,
        },
    }
    /// RedisFullResyncs: a primary made more than `threshold_per_hour` full resynchronizations
    /// within the last hour.
    FullResyncs = "RedisFullResyncs" {
        key: full_resyncs,
        source: Exporter,
        for: Duration::from_mins(1),
        severity: Warning,
        threshold: ResyncAlert.threshold_per_hour {
            doc: "Full resynchronizations within an hour above which the alert fires.",
            unit: "/h",
            default: 5.0,
            above: 0.0,
            below: 1e6,
        },
    }
    /// RedisSplitBrain: more than one target of a `replication_group` is a primary.
    SplitBrain = "RedisSplitBrain" {
        key: split_brain,
        source: Exporter,
        for: Duration::from_mins(1),
        severity: Critical,
    }
    /// RedisSentinelDown: the exporter reports a Sentinel unreachable.
    SentinelDown = "RedisSentinelDown" {
        key: sentinel_down,
        source: Exporter,
        for: Duration::from_mins(1),
        severity: Warning,
    }
    /// RedisSentinelTilt: a Sentinel entered tilt mode (it stops acting) within the last
    /// five minutes.
    SentinelTilt = "RedisSentinelTilt" {
        key: sentinel_tilt,
        source: Exporter,
        for: Duration::from_mins(1),
        severity: Warning,
    }
    /// RedisSentinelQuorumLost: no Sentinel of a `replication_group` can reach the quorum
    /// that authorizes a failover.
    SentinelQuorumLost = "RedisSentinelQuorumLost" {
        key: sentinel_quorum_lost,
        source: Exporter,
        for: Duration::from_mins(1),
        severity: Critical,
    }
    /// RedisSentinelPrimaryDown: no Sentinel of a `replication_group` sees its primary ok.
    SentinelPrimaryDown = "RedisSentinelPrimaryDown" {
        key: sentinel_primary_down,
        source: Exporter,
        for: Duration::from_mins(1),
        severity: Critical,
    }
    /// RedisFailover: Sentinel promoted a new primary in a `replication_group` within the
    /// last ten minutes (a notice, with the new primary).
    Failover = "RedisFailover" {
        key: failover,
        source: Exporter,
        for: Duration::from_mins(1),
        severity: Info,
    }
    /// RedisClusterDown: a node of a Redis Cluster reports the cluster's state as failed.
    ClusterDown = "RedisClusterDown" {
        key: cluster_down,
        source: Exporter,
        for: Duration::from_mins(1),
        severity: Critical,
    }
    /// RedisClusterSlotsFailing: a node of a Redis Cluster sees slots in fail or pfail state.
    ClusterSlotsFailing = "RedisClusterSlotsFailing" {
        key: cluster_slots_failing,
        source: Exporter,
        for: Duration::from_mins(1),
        severity: Critical,
    }
    /// RedisClusterSlotsUnassigned: a node of a Redis Cluster sees fewer than all 16384 slots
    /// assigned.
    ClusterSlotsUnassigned = "RedisClusterSlotsUnassigned" {
        key: cluster_slots_unassigned,
        source: Exporter,
        for: Duration::from_mins(5),
        severity: Critical,
    }
    /// RedisClusterNodeMissing: the exporter reports a node of a Redis Cluster unreachable.
    ClusterNodeMissing = "RedisClusterNodeMissing" {
        key: cluster_node_missing,
        source: Exporter,
        for: Duration::from_mins(1),
        severity: Warning,
    }
    /// RedisLastSaveTooOld: changes unsaved for longer than `threshold_hours`, on a target
    /// that has saved an RDB snapshot since it started.
    LastSaveTooOld = "RedisLastSaveTooOld" {
        key: last_save_too_old,
        source: Exporter,
        for: Duration::from_mins(5),
        severity: Warning,
        threshold: SaveAgeAlert.threshold_hours {
            doc: "Hours since the last successful RDB save, with changes pending, above \
                  which the alert fires.",
            unit: "h",
            default: 2.0,
            above: 0.0,
            below: 8760.0,
        },
    }
    /// RedisTailLatency: a command's 99th percentile latency, since Redis started, above
    /// `threshold_ms` (Redis 7 and later).
    TailLatency = "RedisTailLatency" {
        key: tail_latency,
        source: Exporter,
        for: Duration::from_mins(5),
        severity: Warning,
        threshold: TailLatencyAlert.threshold_ms {
            doc: "99th percentile latency of a command, in milliseconds, above which the \
                  alert fires.",
            unit: "ms",
            default: 50.0,
            above: 0.0,
            below: 3_600_000.0,
        },
    }
    /// RedisSlowlogGrowing: more than `threshold_per_minute` commands a minute enter the
    /// slow log.
    SlowlogGrowing = "RedisSlowlogGrowing" {
        key: slowlog_growing,
        source: Exporter,
        for: Duration::from_mins(10),
        severity: Warning,
        threshold: SlowlogAlert.threshold_per_minute {
            doc: "Commands a minute entering the slow log above which the alert fires.",
            unit: "/min",
            default: 5.0,
            above: 0.0,
            below: 1e9,
        },
    }
    /// RedisSlowFork: the last fork (for a save, a rewrite or a full sync) took longer than
    /// `threshold_ms`.
    SlowFork = "RedisSlowFork" {
        key: slow_fork,
        source: Exporter,
        for: Duration::from_mins(1),
        severity: Warning,
        threshold: ForkAlert.threshold_ms {
            doc: "Duration of the last fork, in milliseconds, above which the alert fires.",
            unit: "ms",
            default: 500.0,
            above: 0.0,
            below: 3_600_000.0,
        },
    }
    /// RedisMemoryFragmented: the fragmentation ratio above `threshold_ratio`, with more than
    /// 100 MiB fragmented.
    Fragmentation = "RedisMemoryFragmented" {
        key: fragmentation,
        source: Exporter,
        for: Duration::from_mins(30),
        severity: Warning,
        threshold: FragmentationAlert.threshold_ratio {
            doc: "Fragmentation ratio (resident memory over used memory) above which the \
                  alert fires, when more than 100 MiB are fragmented.",
            unit: "×",
            default: 1.5,
            above: 1.0,
            below: 100.0,
        },
    }
    /// RedisMemoryFullSoon: at the last hour's growth, used memory reaches `maxmemory` within
    /// `threshold_hours`, under a policy that then refuses writes; once Prometheus holds half an
    /// hour of the target's memory (a young stack's first minutes make a steep slope).
    MemoryForecast = "RedisMemoryFullSoon" {
        key: memory_forecast,
        source: Exporter,
        for: Duration::from_mins(15),
        severity: Warning,
        threshold: ForecastAlert.threshold_hours {
            doc: "Hours ahead within which reaching `maxmemory` fires the alert.",
            unit: "h",
            default: 4.0,
            above: 0.0,
            below: 8760.0,
        },
    }
    /// RedisLowHitRatio: under an `allkeys-*` policy (a cache), keyspace hits below
    /// `threshold_percent` of lookups, at 10 lookups a second or more.
    LowHitRatio = "RedisLowHitRatio" {
        key: low_hit_ratio,
        source: Exporter,
        for: Duration::from_mins(15),
        severity: Warning,
        threshold: HitRatioAlert.threshold_percent {
            doc: "Keyspace hits, in percent of lookups, below which the alert fires.",
            unit: "%",
            default: 80.0,
            above: 0.0,
            below: 100.0,
        },
    }
    /// RedisBlockedClients: more than `threshold_clients` clients wait in a blocking command.
    BlockedClients = "RedisBlockedClients" {
        key: blocked_clients,
        source: Exporter,
        for: Duration::from_mins(10),
        severity: Warning,
        threshold: BlockedAlert.threshold_clients {
            doc: "Clients waiting in a blocking command above which the alert fires.",
            unit: "clients",
            default: 50.0,
            above: 0.0,
            below: 1e9,
        },
    }
    /// RedisAofRewriteSlow: an AOF rewrite has run longer than `threshold_minutes`.
    AofRewriteSlow = "RedisAofRewriteSlow" {
        key: aof_rewrite_slow,
        source: Exporter,
        for: Duration::from_mins(1),
        severity: Warning,
        threshold: AofRewriteAlert.threshold_minutes {
            doc: "Minutes an AOF rewrite may run before the alert fires.",
            unit: "min",
            default: 30.0,
            above: 0.0,
            below: 10080.0,
        },
    }
    /// AlertmanagerDown: Prometheus cannot reach Alertmanager.
    AlertmanagerDown = "AlertmanagerDown" {
        key: alertmanager_down,
        source: Alertmanager,
        for: Duration::from_mins(2),
        severity: Critical,
    }
}

impl serde::Serialize for AlertKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.key())
    }
}

/// The catalogue as the README's Markdown table: key, alert, when it fires, defaults.
pub fn markdown_table() -> String {
    let mut text = String::from(
        "| key | alert | fires when | default `for` | severity | threshold (default) |\n\
         |---|---|---|---|---|---|\n",
    );
    for kind in AlertKind::ALL {
        let when = kind.summary().split_once(": ").map_or("", |(_, when)| when);
        let threshold = kind.threshold().map_or("—".to_string(), |t| {
            format!("`{}` ({} {})", t.key, t.default, t.unit)
        });
        let severity = format!("{:?}", kind.default_severity()).to_lowercase();
        text.push_str(&format!(
            "| `{}` | `{}` | {} | {} | {severity} | {threshold} |\n",
            kind.key(),
            kind.name(),
            when.trim_end_matches('.').replace("\n", " "),
            kind.default_for(),
        ));
    }
    text
}

#[cfg(test)]
mod tests;
