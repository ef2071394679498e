//! Each alert's PromQL, annotations and the input series of its generated rule tests, matched
//! exhaustively on [`AlertKind`]. The series sit 10 % either side of the threshold (or plainly
//! bad and good where there is none), and `onset` says when the condition first holds, given
//! how rate() extrapolates over its 5m window from series that start at zero. Nothing here
//! knows about files or templates.

use super::AlertKind;
use crate::model::Stack;
use crate::model::units::Size;

/// The exporter as Prometheus labels its targets.
pub const EXPORTER: Target = Target {
    job: "redis-exporter",
    instance: "redis-exporter:9121",
};
/// Alertmanager as Prometheus labels its target.
pub const ALERTMANAGER: Target = Target {
    job: "alertmanager",
    instance: "alertmanager:9093",
};

pub const MINUTE: u64 = 60_000;

/// A scrape target's `job` and `instance` labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub job: &'static str,
    pub instance: &'static str,
}

/// Which side of the threshold a scenario's series sit on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Bad,
    Safe,
}

/// One input series of a rule test.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Series {
    pub series: String,
    pub values: String,
}

/// An alert as it applies to one stack.
pub struct Entry {
    pub expr: String,
    pub summary: &'static str,
    pub description: String,
    /// The target whose labels the alert carries.
    pub target: Target,
    /// The first evaluation (every 1m) at which the condition holds in the bad scenario.
    pub onset: u64,
    /// The input series of the scenario at each level, for a given number of samples.
    series: Box<dyn Fn(Level, u64) -> Vec<Series>>,
}

impl Entry {
    pub fn series(&self, level: Level, samples: u64) -> Vec<Series> {
        (self.series)(level, samples)
    }
}

/// What the expressions of one stack depend on.
#[derive(Debug, Clone, Copy)]
pub struct Inputs {
    /// The alert's threshold, 0 when it has none.
    pub threshold: f64,
    pub maxmemory: Size,
    /// Redis rejects writes at `maxmemory` rather than evicting.
    pub noeviction: bool,
}

impl Inputs {
    pub fn new(stack: &Stack, threshold: Option<f64>) -> Self {
        Self {
            threshold: threshold.unwrap_or_default(),
            maxmemory: stack.redis.maxmemory,
            noeviction: stack.redis.maxmemory_policy == "noeviction",
        }
    }
}

const BY: &str = "sum by (instance, job)";

fn labelled(metric: &str, extra: &str, target: Target) -> String {
    format!(
        "{metric}{{{extra}instance=\"{}\",job=\"{}\"}}",
        target.instance, target.job
    )
}

fn constant(value: impl std::fmt::Display, samples: u64) -> String {
    format!("{value}x{}", samples - 1)
}

fn counter(per_minute: f64, samples: u64) -> String {
    format!("0+{}x{}", number(per_minute), samples - 1)
}

/// Numbers as PromQL and promtool read them, without float noise.
pub fn number(value: f64) -> String {
    // Nine decimals hide float noise (66.00000000000001) without moving any threshold.
    let rounded = (value * 1e9).round() / 1e9;
    format!("{rounded}")
}

/// The alert's expression, annotations and test scenarios.
pub fn entry(kind: AlertKind, inputs: Inputs) -> Entry {
    match kind {
        AlertKind::RedisDown => redis_down(),
        AlertKind::ExporterDown => target_down(
            EXPORTER,
            "Prometheus cannot scrape redis_exporter at {{ $labels.instance }}",
            "The scrape of {{ $labels.instance }} fails: Redis is not being monitored.",
        ),
        AlertKind::AlertmanagerDown => target_down(
            ALERTMANAGER,
            "Prometheus cannot reach Alertmanager at {{ $labels.instance }}",
            "Alertmanager at {{ $labels.instance }} does not answer: no alert notification can \
             be sent.",
        ),
        AlertKind::HighLatency => high_latency(inputs.threshold),
        AlertKind::LowThroughput => low_throughput(inputs.threshold),
        AlertKind::MemoryPressure => memory_pressure(inputs),
        AlertKind::BufferOverflow => buffer_overflow(inputs.noeviction),
        AlertKind::TooManyConnections => too_many_connections(inputs.threshold),
        AlertKind::RejectedConnections => rejected_connections(),
        AlertKind::HighErrorRate => high_error_rate(inputs.threshold),
        AlertKind::PersistenceFailing => persistence_failing(),
    }
}

/// A gauge that is 0 (bad) or 1 (safe) from the first sample.
fn flag(metric: &'static str, target: Target) -> Box<dyn Fn(Level, u64) -> Vec<Series>> {
    Box::new(move |level, n| {
        let value = if level == Level::Bad { 0 } else { 1 };
        vec![Series {
            series: labelled(metric, "", target),
            values: constant(value, n),
        }]
    })
}

fn redis_down() -> Entry {
    Entry {
        expr: "redis_up == 0".into(),
        summary: "Redis is down on {{ $labels.instance }}",
        description: "redis_exporter at {{ $labels.instance }} cannot reach Redis \
                      (redis_up == 0)."
            .into(),
        target: EXPORTER,
        onset: 0,
        series: flag("redis_up", EXPORTER),
    }
}

fn target_down(target: Target, summary: &'static str, description: &str) -> Entry {
    Entry {
        expr: format!("up{{job=\"{}\"}} == 0", target.job),
        summary,
        description: description.into(),
        target,
        onset: 0,
        series: flag("up", target),
    }
}

fn high_latency(threshold: f64) -> Entry {
    let t = number(threshold);
    Entry {
        expr: format!(
            "{BY} (rate(redis_commands_duration_seconds_total[5m])) / \
             {BY} (rate(redis_commands_processed_total[5m])) * 1000 > {t}"
        ),
        summary: "Redis commands on {{ $labels.instance }} are slow",
        description: format!(
            "The average command latency on {{{{ $labels.instance }}}} is above {t} ms."
        ),
        target: EXPORTER,
        onset: MINUTE,
        series: Box::new(move |level, n| {
            // 100 commands a second, each taking 1.1× or 0.9× the threshold: the ratio of
            // two rates is exact from the second sample on.
            let factor = if level == Level::Bad { 1.1 } else { 0.9 };
            let latency_ms = threshold * factor;
            vec![
                Series {
                    series: labelled("redis_commands_processed_total", "", EXPORTER),
                    values: counter(6000.0, n),
                },
                Series {
                    series: labelled(
                        "redis_commands_duration_seconds_total",
                        "cmd=\"set\",",
                        EXPORTER,
                    ),
                    values: counter(6.0 * latency_ms, n),
                },
            ]
        }),
    }
}

fn low_throughput(threshold: f64) -> Entry {
    let t = number(threshold);
    let rate = format!("{BY} (rate(redis_commands_processed_total[5m]))");
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
        target: EXPORTER,
        // The 5m rate falls below the threshold at 33m: 165/300 of the busy rate,
        // extrapolated by 5/4.
        onset: 33 * MINUTE,
        series: Box::new(move |level, n| {
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
                    series: labelled("redis_commands_processed_total", "", EXPORTER),
                    values: processed,
                },
                Series {
                    series: labelled("redis_up", "", EXPORTER),
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
            "Redis on {{{{ $labels.instance }}}} uses more than {t}% of its maxmemory ({}).",
            inputs.maxmemory
        ),
        target: EXPORTER,
        onset: 0,
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
        target: EXPORTER,
        onset: 0,
        series: share(
            threshold,
            ("redis_connected_clients", "redis_config_maxclients"),
            max,
        ),
    }
}

/// Two gauges of the exporter, a `used` one and its `max`, whose ratio sits just past (bad) or
/// short of (safe) `threshold` percent.
fn share(
    threshold: f64,
    (used, limit): (&'static str, &'static str),
    max: f64,
) -> Box<dyn Fn(Level, u64) -> Vec<Series>> {
    Box::new(move |level, n| {
        let percent = if level == Level::Bad {
            (threshold + 1.0).min((threshold + 100.0) / 2.0)
        } else {
            (threshold - 1.0).max(threshold / 2.0)
        };
        vec![
            Series {
                series: labelled(used, "", EXPORTER),
                values: constant(number((max * percent / 100.0).round()), n),
            },
            Series {
                series: labelled(limit, "", EXPORTER),
                values: constant(number(max), n),
            },
        ]
    })
}

fn buffer_overflow(noeviction: bool) -> Entry {
    let (metric, extra, selector, what) = if noeviction {
        (
            "redis_errors_total",
            "err=\"OOM\",",
            "redis_errors_total{err=\"OOM\"}",
            "rejects writes with OOM errors (maxmemory-policy noeviction)",
        )
    } else {
        (
            "redis_evicted_keys_total",
            "",
            "redis_evicted_keys_total",
            "evicts keys to stay under maxmemory",
        )
    };
    Entry {
        expr: format!("{BY} (increase({selector}[5m])) > 0"),
        summary: "Redis on {{ $labels.instance }} is full",
        description: format!(
            "Redis on {{{{ $labels.instance }}}} {what}: buffered writes are being lost."
        ),
        target: EXPORTER,
        onset: MINUTE,
        series: increasing(metric, extra, 10.0),
    }
}

/// A counter that grows by `per_minute` (bad) or stays at zero (safe).
fn increasing(
    metric: &'static str,
    extra: &'static str,
    per_minute: f64,
) -> Box<dyn Fn(Level, u64) -> Vec<Series>> {
    Box::new(move |level, n| {
        let per_minute = if level == Level::Bad { per_minute } else { 0.0 };
        vec![Series {
            series: labelled(metric, extra, EXPORTER),
            values: counter(per_minute, n),
        }]
    })
}

fn rejected_connections() -> Entry {
    Entry {
        expr: format!("{BY} (increase(redis_rejected_connections_total[5m])) > 0"),
        summary: "Redis on {{ $labels.instance }} rejects connections",
        description: "Redis on {{ $labels.instance }} refused client connections \
                      (maxclients reached)."
            .into(),
        target: EXPORTER,
        onset: MINUTE,
        series: increasing("redis_rejected_connections_total", "", 5.0),
    }
}

fn high_error_rate(threshold: f64) -> Entry {
    let t = number(threshold);
    Entry {
        expr: format!("{BY} (rate(redis_total_error_replies[5m])) > {t}"),
        summary: "Redis on {{ $labels.instance }} answers with many errors",
        description: format!(
            "Redis on {{{{ $labels.instance }}}} sends more than {t} error replies per second."
        ),
        target: EXPORTER,
        // 1.5× the threshold from zero: the 5m rate is 1.5·t/5 of it at minute t, above the
        // threshold from 4m on; 0.9× never is.
        onset: 4 * MINUTE,
        series: Box::new(move |level, n| {
            let factor = if level == Level::Bad { 1.5 } else { 0.9 };
            let per_second = threshold * factor;
            vec![Series {
                series: labelled("redis_total_error_replies", "", EXPORTER),
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
        target: EXPORTER,
        onset: 0,
        series: Box::new(move |level, n| {
            let status = if level == Level::Bad { 0 } else { 1 };
            let series = |metric, value| Series {
                series: labelled(metric, "", EXPORTER),
                values: constant(value, n),
            };
            vec![
                series("redis_rdb_last_bgsave_status", 1),
                series("redis_aof_last_write_status", status),
                series("redis_aof_last_bgrewrite_status", 1),
            ]
        }),
    }
}
