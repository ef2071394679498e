//! The alerts on the quality of a Redis' service beyond up and down: the latency tail, the slow
//! log, forks, fragmentation, memory running out, a cache that misses, blocked clients and
//! long AOF rewrites. Metric names are those of redis_exporter 1.45 (the stand-in); where a
//! newer exporter names a metric differently, the expression reads both.

use super::series::{Samples, Series, constant, counter, gauge, labelled, number};
use super::{COMMAND, Entry, HOUR, Inputs, LOOKBACK, Labels, MINUTE, Subject};

/// Fragmented bytes below which a high ratio is no news: a small dataset's ratio is high
/// whatever its allocator does (redis/redis#8463).
pub(crate) const FRAGMENTED_FLOOR_BYTES: f64 = 100.0 * 1048576.0;
/// Lookups a second below which a cache's hit ratio is no news.
pub(crate) const LOOKUPS_FLOOR_PER_SEC: f64 = 10.0;
/// The policies under which reaching `maxmemory` refuses writes, as the exporter's
/// `maxmemory_policy` label spells them.
const REFUSING: &str = "noeviction|volatile-.*";
/// The policies of a cache: every key may be evicted.
const CACHE: &str = "allkeys-.*";
/// The span of growth the memory forecast extrapolates from.
const FORECAST_WINDOW: &str = "1h";

/// The exporter's `redis_instance_info` of a target whose `maxmemory_policy` is `policy`.
fn with_policy(policy: &str, labels: &Labels, n: u64) -> Series {
    Series {
        series: labelled(
            "redis_instance_info",
            &[("maxmemory_policy", policy), ("role", "master")],
            labels,
        ),
        values: constant(1, n),
    }
}

pub(super) fn tail_latency(threshold: f64) -> Entry {
    let t = number(threshold);
    Entry {
        // exporter 1.45 labels the 99th percentile `quantile="99"`; later ones may write it as
        // a fraction. Both are read, and one series kept per command.
        expr: format!(
            "max without (quantile) \
             (redis_latency_percentiles_usec{{quantile=~\"99|0[.]99\"}}) / 1000 > {t}"
        ),
        summary: "Redis {{ $labels.cmd }} on {{ $labels.instance }} has a slow tail",
        description: format!(
            "The 99th percentile latency of {{{{ $labels.cmd }}}} on {{{{ $labels.instance }}}}, \
             since Redis started or its statistics were reset, is above {t} ms."
        ),
        subject: Subject::Command,
        onset: 0,
        lookback: LOOKBACK,
        holds: None,
        series: Box::new(move |level, Samples { count: n, .. }, labels| {
            let usec = level.pick(1.1, 0.9) * threshold * 1000.0;
            vec![Series {
                series: labelled(
                    "redis_latency_percentiles_usec",
                    &[COMMAND, ("quantile", "99")],
                    labels,
                ),
                values: constant(number(usec), n),
            }]
        }),
    }
}

pub(super) fn slowlog_growing(threshold: f64) -> Entry {
    let t = number(threshold);
    Entry {
        // The id of the last slow-log entry counts entries since start: a counter.
        expr: format!("rate(redis_slowlog_last_id[5m]) * 60 > {t}"),
        summary: "Commands on {{ $labels.instance }} keep entering the slow log",
        description: format!(
            "More than {t} commands a minute on {{{{ $labels.instance }}}} take longer than \
             `slowlog-log-slower-than`."
        ),
        subject: Subject::Redis,
        // 1.5× the threshold from zero: above it from 4m on (as RedisHighErrorRate).
        onset: 4 * MINUTE,
        lookback: LOOKBACK,
        holds: None,
        series: Box::new(move |level, Samples { count: n, .. }, labels| {
            let per_minute = level.pick(1.5, 0.9) * threshold;
            vec![Series {
                series: labelled("redis_slowlog_last_id", &[], labels),
                values: counter(per_minute, n),
            }]
        }),
    }
}

pub(super) fn slow_fork(threshold: f64) -> Entry {
    let t = number(threshold);
    let seconds = number(threshold / 1000.0);
    Entry {
        // exporter 1.45 reports seconds; older ones microseconds.
        expr: format!("(redis_latest_fork_seconds or redis_latest_fork_usec / 1e6) > {seconds}"),
        summary: "Forks of Redis on {{ $labels.instance }} are slow",
        description: format!(
            "The last fork of Redis on {{{{ $labels.instance }}}} (for a save, an AOF rewrite \
             or a full sync) took more than {t} ms, during which Redis answered nothing."
        ),
        subject: Subject::Redis,
        onset: 0,
        lookback: LOOKBACK,
        holds: None,
        series: Box::new(move |level, Samples { count: n, .. }, labels| {
            let seconds = level.pick(1.1, 0.9) * threshold / 1000.0;
            vec![Series {
                series: labelled("redis_latest_fork_seconds", &[], labels),
                values: constant(number(seconds), n),
            }]
        }),
    }
}

pub(super) fn fragmentation(threshold: f64) -> Entry {
    let t = number(threshold);
    let floor = number(FRAGMENTED_FLOOR_BYTES);
    Entry {
        expr: format!(
            "redis_mem_fragmentation_ratio > {t} \
             and on (instance, job) redis_mem_fragmentation_bytes > {floor}"
        ),
        summary: "Memory of Redis on {{ $labels.instance }} is fragmented",
        description: format!(
            "Redis on {{{{ $labels.instance }}}} holds more than {t}× the memory its data \
             uses, and over 100 MiB of it is fragmented."
        ),
        subject: Subject::Redis,
        onset: 0,
        lookback: LOOKBACK,
        holds: None,
        series: Box::new(move |level, Samples { count: n, .. }, labels| {
            let ratio = level.pick(1.1, 0.9) * threshold;
            let bytes = 2.0 * FRAGMENTED_FLOOR_BYTES;
            let gauge = |metric, value: f64| Series {
                series: labelled(metric, &[], labels),
                values: constant(number(value), n),
            };
            vec![
                gauge("redis_mem_fragmentation_ratio", ratio),
                gauge("redis_mem_fragmentation_bytes", bytes),
            ]
        }),
    }
}

/// How much of a target's memory Prometheus must hold before it forecasts from it.
const HISTORY: &str = "30m";

pub(super) fn memory_forecast(inputs: Inputs) -> Entry {
    let threshold = inputs.threshold;
    let t = number(threshold);
    let ahead = number(threshold * 3600.0);
    let max = inputs.maxmemory.bytes() as f64;
    Entry {
        expr: format!(
            "predict_linear(redis_memory_used_bytes[{FORECAST_WINDOW}], {ahead}) \
             >= redis_memory_max_bytes \
             and on (instance, job) redis_memory_max_bytes > 0 \
             and on (instance, job) redis_instance_info{{maxmemory_policy=~\"{REFUSING}\"}} \
             and on (instance, job) redis_memory_used_bytes offset {HISTORY}"
        ),
        summary: "Redis on {{ $labels.instance }} will reach maxmemory soon",
        description: format!(
            "At its growth over the last {FORECAST_WINDOW}, Redis on \
             {{{{ $labels.instance }}}} reaches its maxmemory within {t} h, and then refuses \
             writes."
        ),
        subject: Subject::Redis,
        // Two samples make a slope, but the first minutes of a stack (or of a Redis filling
        // on start-up) would make a steep one: the forecast waits for half an hour of history.
        onset: 30 * MINUTE,
        lookback: HOUR,
        holds: None,
        series: Box::new(move |level, Samples { count: n, .. }, labels| {
            // Bad: from half of maxmemory, growing to reach it in 0.9× the horizon. Safe:
            // flat at 95 %: full, but not filling.
            let per_minute = 0.5 * max / (0.9 * threshold * 60.0);
            let used = level.pick(
                format!("{}+{}x{}", number(0.5 * max), number(per_minute), n - 1),
                constant(number(0.95 * max), n),
            );
            vec![
                Series {
                    series: labelled("redis_memory_used_bytes", &[], labels),
                    values: used,
                },
                Series {
                    series: labelled("redis_memory_max_bytes", &[], labels),
                    values: constant(number(max), n),
                },
                with_policy("noeviction", labels, n),
            ]
        }),
    }
}

pub(super) fn low_hit_ratio(threshold: f64) -> Entry {
    let t = number(threshold);
    let floor = number(LOOKUPS_FLOOR_PER_SEC);
    let hits = "rate(redis_keyspace_hits_total[5m])";
    let lookups = "(rate(redis_keyspace_hits_total[5m]) + rate(redis_keyspace_misses_total[5m]))";
    Entry {
        expr: format!(
            "{hits} / {lookups} * 100 < {t} and on (instance, job) {lookups} >= {floor} \
             and on (instance, job) redis_instance_info{{maxmemory_policy=~\"{CACHE}\"}}"
        ),
        summary: "The cache on {{ $labels.instance }} misses",
        description: format!(
            "Fewer than {t}% of the key lookups on {{{{ $labels.instance }}}} (a cache: its \
             policy evicts any key) find their key."
        ),
        subject: Subject::Redis,
        // A ratio of rates is exact from the second sample; 100 lookups a second are past the
        // floor from then on.
        onset: MINUTE,
        lookback: LOOKBACK,
        holds: None,
        series: Box::new(move |level, Samples { count: n, .. }, labels| {
            // 100 lookups a second, hits 0.9× (bad) or 1.1× (safe, at most all) the threshold.
            let percent = level.pick(0.9 * threshold, (1.1 * threshold).min(100.0));
            let hits = 60.0 * percent;
            let counter_of = |metric, per_minute| Series {
                series: labelled(metric, &[], labels),
                values: counter(per_minute, n),
            };
            vec![
                counter_of("redis_keyspace_hits_total", hits),
                counter_of("redis_keyspace_misses_total", 6000.0 - hits),
                with_policy("allkeys-lru", labels, n),
            ]
        }),
    }
}

pub(super) fn blocked_clients(threshold: f64) -> Entry {
    let t = number(threshold);
    Entry {
        expr: format!("redis_blocked_clients > {t}"),
        summary: "Many clients wait on {{ $labels.instance }}",
        description: format!(
            "More than {t} clients of Redis on {{{{ $labels.instance }}}} wait in a blocking \
             command (BLPOP, XREAD BLOCK, WAIT, …): their producers may have stopped."
        ),
        subject: Subject::Redis,
        onset: 0,
        lookback: LOOKBACK,
        holds: None,
        series: gauge_around("redis_blocked_clients", threshold),
    }
}

pub(super) fn aof_rewrite_slow(threshold: f64) -> Entry {
    let t = number(threshold);
    let seconds = number(threshold * 60.0);
    Entry {
        // -1 while no rewrite runs.
        expr: format!("redis_aof_current_rewrite_duration_sec > {seconds}"),
        summary: "An AOF rewrite on {{ $labels.instance }} runs long",
        description: format!(
            "The AOF rewrite running on {{{{ $labels.instance }}}} started more than {t} \
             minutes ago: the disk or the fork's copy-on-write is struggling."
        ),
        subject: Subject::Redis,
        onset: 0,
        lookback: LOOKBACK,
        holds: None,
        series: gauge_around("redis_aof_current_rewrite_duration_sec", threshold * 60.0),
    }
}

/// A gauge 1.1× (bad) or 0.9× (safe) `threshold`.
fn gauge_around(metric: &'static str, threshold: f64) -> super::series::Scenario {
    gauge(metric, 1.1 * threshold, 0.9 * threshold)
}
