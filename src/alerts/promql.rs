//! Each alert's PromQL, annotations and the input series of its generated rule tests, matched
//! exhaustively on [`AlertKind`]. The series sit 10 % either side of the threshold (or plainly
//! bad and good where there is none), `onset` says when the condition first holds, given
//! how rate() extrapolates over its 5m window from series that start at zero, and `lookback`
//! how far back from an evaluation the expression reads, so that a test may replay the first
//! `onset` of a scenario before each of its evaluations instead of running it for the whole
//! `for` (`render::rules`). Nothing here knows about files or templates.

use std::collections::BTreeMap;

use super::AlertKind;
use crate::model::units::Size;

mod cluster;
pub(crate) mod quality;
mod series;
mod topology;

pub(crate) use series::{Level, Samples, Series, labelled, number, rounded};
use series::{Scenario, constant, counter, gauge, gauges, increasing};

/// The window of every `rate()` and `increase()` in the catalogue's expressions (`[5m]`), in
/// seconds: how long a burst counts, for `stackgen drill`.
pub(crate) const RATE_WINDOW_SECONDS: f64 = 300.0;

/// The exporter's own job, as Prometheus labels it.
pub(crate) const EXPORTER: Job = Job {
    job: "redis-exporter",
    instance: "redis-exporter:9121",
};
/// Alertmanager as Prometheus labels its target.
pub(crate) const ALERTMANAGER: Job = Job {
    job: "alertmanager",
    instance: "alertmanager:9093",
};
/// The command the scenarios of an alert per command are about: its `cmd` label.
pub(crate) const COMMAND: (&str, &str) = ("cmd", "get");
/// The job that scrapes every Redis through the exporter.
pub(crate) const REDIS_JOB: &str = "redis";

pub(crate) const MINUTE: u64 = 60_000;
const HOUR: u64 = 60 * MINUTE;
/// How far back an instant selector finds a sample (Prometheus' default lookback delta), and
/// the window of every `rate()` and `increase()`: what an expression without a longer range
/// reads before an evaluation.
const LOOKBACK: u64 = 5 * MINUTE;

/// A scrape target's `job` and `instance` labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Job {
    pub job: &'static str,
    pub instance: &'static str,
}

impl Job {
    pub(crate) fn labels(self) -> Labels {
        Labels::from([
            ("instance".into(), self.instance.into()),
            ("job".into(), self.job.into()),
        ])
    }
}

/// The labels of a series or an alert, by name.
pub(crate) type Labels = BTreeMap<String, String>;

/// Whose series an alert watches, and so which labels it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subject {
    /// Each Redis target: its name as `instance` and `target`, and its labels.
    Redis,
    /// Each command of each Redis target: as `Redis`, and the command as `cmd` ([`COMMAND`]
    /// in the scenarios).
    Command,
    /// A replication group of Redis targets: only `replication_group`.
    Group,
    /// Each Sentinel target (`kind = "sentinel"`), as `Redis` is each Redis.
    Sentinel,
    /// A replication group as its Sentinels see it: `replication_group`, and these labels
    /// with the values the bad scenario gives them.
    SentinelGroup(&'static [(&'static str, &'static str)]),
    /// Each node of a Redis Cluster, as `Redis` is each Redis.
    ClusterNode,
    /// A Redis Cluster: only `cluster`.
    Cluster,
    /// One scrape job of the stack's own.
    Job(Job),
}

/// An alert as it applies to one stack.
pub(crate) struct Entry {
    pub expr: String,
    pub summary: &'static str,
    pub description: String,
    pub subject: Subject,
    /// The first evaluation (every 1m) at which the condition holds in the bad scenario. At 0
    /// the condition holds on a scenario's first sample, which is all it reads.
    pub onset: u64,
    /// How far before an evaluation the expression reads samples: [`LOOKBACK`], or the longest
    /// range (a subquery's plus the window of what it evaluates).
    pub lookback: u64,
    /// How long past its onset the bad scenario surely keeps the condition holding, when not
    /// for as long as it runs: a comparison with the last hour forgets the change an hour on.
    pub holds: Option<u64>,
    series: Scenario,
}

impl Entry {
    pub(crate) fn series(&self, level: Level, samples: Samples, labels: &Labels) -> Vec<Series> {
        (self.series)(level, samples, labels)
    }
}

/// What the expressions of one stack depend on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Inputs {
    /// The alert's threshold, 0 when it has none.
    pub threshold: f64,
    pub maxmemory: Size,
    /// Redis rejects writes at `maxmemory` rather than evicting.
    pub noeviction: bool,
}

impl Inputs {
    /// Inputs that change no expression's shape or subject: for asking what an alert is
    /// about.
    pub(crate) const NEUTRAL: Inputs = Inputs {
        threshold: 1.0,
        maxmemory: Size::mib(1),
        noeviction: false,
    };
}

/// The alert's expression, annotations and test scenarios.
pub(crate) fn entry(kind: AlertKind, inputs: Inputs) -> Entry {
    let t = inputs.threshold;
    match kind {
        AlertKind::RedisDown => redis_down(),
        AlertKind::ExporterDown => job_down(
            EXPORTER,
            "Prometheus cannot scrape redis_exporter at {{ $labels.instance }}",
            "The scrape of {{ $labels.instance }} fails: no Redis is being monitored.",
        ),
        AlertKind::AlertmanagerDown => job_down(
            ALERTMANAGER,
            "Prometheus cannot reach Alertmanager at {{ $labels.instance }}",
            "Alertmanager at {{ $labels.instance }} does not answer: no alert notification can \
             be sent.",
        ),
        AlertKind::HighLatency => high_latency(t),
        AlertKind::LowThroughput => low_throughput(t),
        AlertKind::MemoryPressure => memory_pressure(inputs),
        AlertKind::BufferOverflow => buffer_overflow(inputs.noeviction),
        AlertKind::TooManyConnections => too_many_connections(t),
        AlertKind::RejectedConnections => rejected_connections(),
        AlertKind::HighErrorRate => high_error_rate(t),
        AlertKind::PersistenceFailing => persistence_failing(),
        AlertKind::NoMaxmemory => no_maxmemory(),
        AlertKind::ReplicaLinkDown => topology::replica_link_down(),
        AlertKind::ReplicasLost => topology::replicas_lost(),
        AlertKind::NoPrimary => topology::no_primary(),
        AlertKind::LastSaveTooOld => last_save_too_old(t),
        AlertKind::ReplicaLag => topology::replica_lag(t),
        AlertKind::ReplicaLagBytes => topology::replica_lag_bytes(t),
        AlertKind::FullResyncs => topology::full_resyncs(t),
        AlertKind::SplitBrain => topology::split_brain(),
        AlertKind::SentinelDown => topology::sentinel_down(),
        AlertKind::SentinelTilt => topology::sentinel_tilt(),
        AlertKind::SentinelQuorumLost => topology::quorum_lost(),
        AlertKind::SentinelPrimaryDown => topology::primary_down(),
        AlertKind::Failover => topology::failover(),
        AlertKind::ClusterDown => cluster::down(),
        AlertKind::ClusterSlotsFailing => cluster::slots_failing(),
        AlertKind::ClusterSlotsUnassigned => cluster::slots_unassigned(),
        AlertKind::ClusterNodeMissing => cluster::node_missing(),
        AlertKind::TailLatency => quality::tail_latency(t),
        AlertKind::SlowlogGrowing => quality::slowlog_growing(t),
        AlertKind::SlowFork => quality::slow_fork(t),
        AlertKind::Fragmentation => quality::fragmentation(t),
        AlertKind::MemoryForecast => quality::memory_forecast(inputs),
        AlertKind::LowHitRatio => quality::low_hit_ratio(t),
        AlertKind::BlockedClients => quality::blocked_clients(t),
        AlertKind::AofRewriteSlow => quality::aof_rewrite_slow(t),
    }
}

fn redis_down() -> Entry {
    Entry {
        expr: "redis_up{kind!~\"sentinel|cluster\"} == 0".into(),
        summary: "Redis is down on {{ $labels.instance }}",
        description: "redis_exporter cannot reach Redis target {{ $labels.instance }} \
                      (redis_up == 0)."
            .into(),
        subject: Subject::Redis,
        onset: 0,
        lookback: LOOKBACK,
        holds: None,
        series: gauge("redis_up", 0.0, 1.0),
    }
}

fn job_down(job: Job, summary: &'static str, description: &str) -> Entry {
    Entry {
        expr: format!("up{{job=\"{}\"}} == 0", job.job),
        summary,
        description: description.into(),
        subject: Subject::Job(job),
        onset: 0,
        lookback: LOOKBACK,
        holds: None,
        series: gauge("up", 0.0, 1.0),
    }
}

fn high_latency(threshold: f64) -> Entry {
    let t = number(threshold);
    Entry {
        expr: format!(
            "sum without (cmd) (rate(redis_commands_duration_seconds_total[5m])) / \
             rate(redis_commands_processed_total[5m]) * 1000 > {t}"
        ),
        summary: "Redis commands on {{ $labels.instance }} are slow",
        description: format!(
            "The average command latency on {{{{ $labels.instance }}}} is above {t} ms."
        ),
        subject: Subject::Redis,
        onset: MINUTE,
        lookback: LOOKBACK,
        holds: None,
        series: Box::new(move |level, Samples { count: n, .. }, labels| {
            // 100 commands a second, each taking 1.1× or 0.9× the threshold: the ratio of
            // two rates is exact from the second sample on.
            let factor = level.pick(1.1, 0.9);
            let latency_ms = threshold * factor;
            vec![
                Series {
                    series: labelled("redis_commands_processed_total", &[], labels),
                    values: counter(6000.0, n),
                },
                Series {
                    series: labelled(
                        "redis_commands_duration_seconds_total",
                        &[("cmd", "set")],
                        labels,
                    ),
                    values: counter(6.0 * latency_ms, n),
                },
            ]
        }),
    }
}

fn low_throughput(threshold: f64) -> Entry {
    let t = number(threshold);
    let rate = "rate(redis_commands_processed_total[5m])";
    Entry {
        expr: format!(
            "{rate} < {t} and on (instance, job) max_over_time({rate}[1h:1m]) >= {t} \
             and on (instance, job) redis_up == 1"
        ),
        summary: "Redis throughput on {{ $labels.instance }} dropped",
        description: format!(
            "Redis on {{{{ $labels.instance }}}} serves fewer than {t} commands per second, \
             after serving more within the last hour."
        ),
        subject: Subject::Redis,
        // The 5m rate falls below the threshold at 33m: 165/300 of the busy rate,
        // extrapolated by 5/4.
        onset: 33 * MINUTE,
        // The hour of 5m rates the subquery takes its maximum over.
        lookback: HOUR + LOOKBACK,
        // The last busy 5m rate, at 32m, leaves the subquery's hour after 91m.
        holds: Some(58 * MINUTE),
        series: Box::new(move |level, Samples { count: n, .. }, labels| {
            // Busy at twice the threshold for 30 minutes, then (bad) a quarter of it, or
            // (safe) busy just above the threshold throughout.
            let busy = 120.0 * threshold;
            let processed = if level == Level::Bad {
                let dropped = 30.0 * busy + 15.0 * threshold;
                let tail = number(15.0 * threshold);
                format!(
                    "0+{}x30 {}+{tail}x{}",
                    number(busy),
                    number(dropped),
                    n - 32
                )
            } else {
                counter(66.0 * threshold, n)
            };
            vec![
                Series {
                    series: labelled("redis_commands_processed_total", &[], labels),
                    values: processed,
                },
                Series {
                    series: labelled("redis_up", &[], labels),
                    values: constant(1, n),
                },
            ]
        }),
    }
}

fn memory_pressure(inputs: Inputs) -> Entry {
    let threshold = inputs.threshold;
    let t = number(threshold);
    let max = inputs.maxmemory.bytes() as f64;
    Entry {
        expr: format!(
            "redis_memory_used_bytes / redis_memory_max_bytes * 100 > {t} \
             and on (instance, job) redis_memory_max_bytes > 0"
        ),
        summary: "Redis on {{ $labels.instance }} is close to maxmemory",
        description: format!(
            "Redis on {{{{ $labels.instance }}}} uses more than {t}% of its maxmemory."
        ),
        subject: Subject::Redis,
        onset: 0,
        lookback: LOOKBACK,
        holds: None,
        series: share(
            threshold,
            ("redis_memory_used_bytes", "redis_memory_max_bytes"),
            max,
        ),
    }
}

/// The share of `maxclients` in use, from the exporter's two gauges; Redis' default
/// `maxclients` (10000) stands in the rule tests.
fn too_many_connections(threshold: f64) -> Entry {
    let t = number(threshold);
    let max = 10_000.0;
    Entry {
        expr: format!(
            "redis_connected_clients / redis_config_maxclients * 100 > {t} \
             and on (instance, job) redis_config_maxclients > 0"
        ),
        summary: "Redis on {{ $labels.instance }} is close to maxclients",
        description: format!(
            "Redis on {{{{ $labels.instance }}}} has more than {t}% of its maxclients \
             connected; new connections will soon be refused."
        ),
        subject: Subject::Redis,
        onset: 0,
        lookback: LOOKBACK,
        holds: None,
        series: share(
            threshold,
            ("redis_connected_clients", "redis_config_maxclients"),
            max,
        ),
    }
}

/// Two gauges of the exporter, a `used` one and its `max`, whose ratio sits just past (bad) or
/// short of (safe) `threshold` percent.
fn share(threshold: f64, (used, limit): (&'static str, &'static str), max: f64) -> Scenario {
    Box::new(move |level, Samples { count: n, .. }, labels| {
        let percent = level.pick(
            (threshold + 1.0).min((threshold + 100.0) / 2.0),
            (threshold - 1.0).max(threshold / 2.0),
        );
        vec![
            Series {
                series: labelled(used, &[], labels),
                values: constant(number((max * percent / 100.0).round()), n),
            },
            Series {
                series: labelled(limit, &[], labels),
                values: constant(number(max), n),
            },
        ]
    })
}

fn buffer_overflow(noeviction: bool) -> Entry {
    let (metric, extra, expr, what) = if noeviction {
        (
            "redis_errors_total",
            &[("err", "OOM")][..],
            "sum without (err) (increase(redis_errors_total{err=\"OOM\"}[5m])) > 0",
            "rejects writes with OOM errors (maxmemory-policy noeviction)",
        )
    } else {
        (
            "redis_evicted_keys_total",
            &[][..],
            "increase(redis_evicted_keys_total[5m]) > 0",
            "evicts keys to stay under maxmemory",
        )
    };
    Entry {
        expr: expr.into(),
        summary: "Redis on {{ $labels.instance }} is full",
        description: format!(
            "Redis on {{{{ $labels.instance }}}} {what}: buffered writes are being lost."
        ),
        subject: Subject::Redis,
        onset: MINUTE,
        lookback: LOOKBACK,
        holds: None,
        series: increasing(metric, extra, 10.0),
    }
}

fn rejected_connections() -> Entry {
    Entry {
        expr: "increase(redis_rejected_connections_total[5m]) > 0".into(),
        summary: "Redis on {{ $labels.instance }} rejects connections",
        description: "Redis on {{ $labels.instance }} refused client connections \
                      (maxclients reached)."
            .into(),
        subject: Subject::Redis,
        onset: MINUTE,
        lookback: LOOKBACK,
        holds: None,
        series: increasing("redis_rejected_connections_total", &[], 5.0),
    }
}

fn high_error_rate(threshold: f64) -> Entry {
    let t = number(threshold);
    Entry {
        expr: format!("rate(redis_total_error_replies[5m]) > {t}"),
        summary: "Redis on {{ $labels.instance }} answers with many errors",
        description: format!(
            "Redis on {{{{ $labels.instance }}}} sends more than {t} error replies per second."
        ),
        subject: Subject::Redis,
        // 1.5× the threshold from zero: the 5m rate is 1.5·t/5 of it at minute t, above the
        // threshold from 4m on; 0.9× never is.
        onset: 4 * MINUTE,
        lookback: LOOKBACK,
        holds: None,
        series: Box::new(move |level, Samples { count: n, .. }, labels| {
            let factor = level.pick(1.5, 0.9);
            let per_second = threshold * factor;
            vec![Series {
                series: labelled("redis_total_error_replies", &[], labels),
                values: counter(60.0 * per_second, n),
            }]
        }),
    }
}

fn persistence_failing() -> Entry {
    Entry {
        expr: "redis_rdb_last_bgsave_status == 0 or redis_aof_last_write_status == 0 \
               or redis_aof_last_bgrewrite_status == 0"
            .into(),
        summary: "Redis on {{ $labels.instance }} cannot persist data",
        description: "The last RDB save or AOF write on {{ $labels.instance }} failed: data \
                      written now may be lost on restart."
            .into(),
        subject: Subject::Redis,
        onset: 0,
        lookback: LOOKBACK,
        holds: None,
        series: gauges(&[
            ("redis_rdb_last_bgsave_status", 1.0, 1.0),
            ("redis_aof_last_write_status", 0.0, 1.0),
            ("redis_aof_last_bgrewrite_status", 1.0, 1.0),
        ]),
    }
}

fn no_maxmemory() -> Entry {
    Entry {
        // A Sentinel keeps no data, and has no maxmemory.
        expr: "redis_memory_max_bytes{kind!=\"sentinel\"} == 0".into(),
        summary: "Redis on {{ $labels.instance }} has no maxmemory",
        description: "Redis on {{ $labels.instance }} runs without maxmemory: it grows until \
                      its host or container runs out of memory, and no memory alert can fire."
            .into(),
        subject: Subject::Redis,
        onset: 0,
        lookback: LOOKBACK,
        holds: None,
        series: gauge("redis_memory_max_bytes", 0.0, 1073741824.0),
    }
}

fn last_save_too_old(threshold: f64) -> Entry {
    let t = number(threshold);
    let seconds = number(threshold * 3600.0);
    Entry {
        expr: format!(
            "time() - redis_rdb_last_save_timestamp_seconds > {seconds} \
             and on (instance, job) redis_rdb_changes_since_last_save > 0 \
             and on (instance, job) redis_rdb_last_bgsave_duration_sec >= 0"
        ),
        summary: "Redis on {{ $labels.instance }} has not saved for too long",
        description: format!(
            "Redis on {{{{ $labels.instance }}}} has unsaved changes and no successful RDB \
             save for more than {t} h: a restart would lose them."
        ),
        subject: Subject::Redis,
        onset: 0,
        lookback: LOOKBACK,
        holds: None,
        series: Box::new(
            move |level,
                  Samples {
                      start,
                      step,
                      count: n,
                  },
                  labels| {
                // The last save 1.1× (bad) or 0.9× (safe) the threshold before each sample: the
                // timestamp follows the clock, one `step` a sample from `start`.
                let factor = level.pick(1.1, 0.9);
                let offset = (threshold * 3600.0 * factor).round();
                let first = (start / 1000) as f64 - offset;
                let saved = format!("{}+{}x{}", number(first), step / 1000, n - 1);
                let gauge = |metric, value: &str| Series {
                    series: labelled(metric, &[], labels),
                    values: value.to_string(),
                };
                vec![
                    gauge("redis_rdb_last_save_timestamp_seconds", &saved),
                    gauge("redis_rdb_changes_since_last_save", &constant(5, n)),
                    gauge("redis_rdb_last_bgsave_duration_sec", &constant(1, n)),
                ]
            },
        ),
    }
}
