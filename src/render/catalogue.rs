//! The alert catalogue and the dashboard's panels: the PromQL, the annotations, and for each
//! alert the `promtool test rules` scenario that proves it fires past its threshold and its
//! `for`, and stays silent short of either. Templates lay these out; they do not invent them.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::Stack;
use crate::model::resolve::AlertSettings;
use crate::model::units::Duration;

/// The exporter as Prometheus labels its targets.
const EXPORTER: (&str, &str) = ("redis-exporter", "redis-exporter:9121");
const ALERTMANAGER: (&str, &str) = ("alertmanager", "alertmanager:9093");

/// One alerting rule, ready for the rules file.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub alert: &'static str,
    pub expr: String,
    pub r#for: Duration,
    pub severity: String,
    pub summary: String,
    pub description: String,
    pub runbook: String,
}

/// One `promtool test rules` test group.
#[derive(Debug, Clone, Serialize)]
pub struct RuleTest {
    pub name: String,
    pub interval: &'static str,
    pub input_series: Vec<Series>,
    pub alert_rule_test: Vec<Check>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub series: String,
    pub values: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub eval_time: Duration,
    pub alertname: &'static str,
    pub exp_alerts: Vec<Expected>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Expected {
    pub exp_labels: BTreeMap<&'static str, String>,
    pub exp_annotations: BTreeMap<&'static str, String>,
}

/// Which side of the threshold a scenario's series sit on.
#[derive(Clone, Copy, PartialEq)]
enum Level {
    Bad,
    Safe,
}

/// An alert of the catalogue as it applies to one stack.
struct Entry {
    alert: &'static str,
    expr: String,
    summary: &'static str,
    description: String,
    target: (&'static str, &'static str),
    /// The input series of the scenario at each level, for a given number of samples.
    series: Box<dyn Fn(Level, u64) -> Vec<Series>>,
    /// The first evaluation (every 1m) at which the condition holds in the bad scenario,
    /// given how rate() extrapolates over its 5m window from series that start at zero.
    onset: u64,
}

const MINUTE: u64 = 60_000;

fn labelled(metric: &str, extra: &str, target: (&str, &str)) -> String {
    let (job, instance) = target;
    format!("{metric}{{{extra}instance=\"{instance}\",job=\"{job}\"}}")
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

fn entry(stack: &Stack, settings: &AlertSettings) -> Entry {
    let threshold = settings.threshold.unwrap_or_default();
    let t = number(threshold);
    let by = "sum by (instance, job)";
    let exporter = EXPORTER;
    match settings.key {
        "redis_down" => Entry {
            alert: alert_name(settings.key),
            expr: "redis_up == 0".into(),
            summary: "Redis is down on {{ $labels.instance }}",
            description: "redis_exporter at {{ $labels.instance }} cannot reach Redis (redis_up == 0).".into(),
            target: exporter,
            series: Box::new(move |level, n| {
                let up = if level == Level::Bad { 0 } else { 1 };
                vec![Series { series: labelled("redis_up", "", exporter), values: constant(up, n) }]
            }),
            onset: 0,
        },
        "exporter_down" => Entry {
            alert: alert_name(settings.key),
            expr: format!("up{{job=\"{}\"}} == 0", exporter.0),
            summary: "Prometheus cannot scrape redis_exporter at {{ $labels.instance }}",
            description: "The scrape of {{ $labels.instance }} fails: Redis is not being monitored.".into(),
            target: exporter,
            series: Box::new(move |level, n| {
                let up = if level == Level::Bad { 0 } else { 1 };
                vec![Series { series: labelled("up", "", exporter), values: constant(up, n) }]
            }),
            onset: 0,
        },
        "alertmanager_down" => Entry {
            alert: alert_name(settings.key),
            expr: format!("up{{job=\"{}\"}} == 0", ALERTMANAGER.0),
            summary: "Prometheus cannot reach Alertmanager at {{ $labels.instance }}",
            description: "Alertmanager at {{ $labels.instance }} does not answer: no alert notification can be sent.".into(),
            target: ALERTMANAGER,
            series: Box::new(move |level, n| {
                let up = if level == Level::Bad { 0 } else { 1 };
                vec![Series { series: labelled("up", "", ALERTMANAGER), values: constant(up, n) }]
            }),
            onset: 0,
        },
        "high_latency" => Entry {
            alert: alert_name(settings.key),
            expr: format!(
                "{by} (rate(redis_commands_duration_seconds_total[5m])) / {by} (rate(redis_commands_processed_total[5m])) * 1000 > {t}"
            ),
            summary: "Redis commands on {{ $labels.instance }} are slow",
            description: format!("The average command latency on {{{{ $labels.instance }}}} is above {t} ms."),
            target: exporter,
            series: Box::new(move |level, n| {
                // 100 commands a second, each taking 1.1× or 0.9× the threshold: the ratio of
                // two rates is exact from the second sample on.
                let latency_ms = if level == Level::Bad { threshold * 1.1 } else { threshold * 0.9 };
                vec![
                    Series { series: labelled("redis_commands_processed_total", "", exporter), values: counter(6000.0, n) },
                    Series {
                        series: labelled("redis_commands_duration_seconds_total", "cmd=\"set\",", exporter),
                        values: counter(6.0 * latency_ms, n),
                    },
                ]
            }),
            onset: MINUTE,
        },
        "low_throughput" => Entry {
            alert: alert_name(settings.key),
            expr: format!(
                "{by} (rate(redis_commands_processed_total[5m])) < {t} \
                 and on (instance, job) max_over_time({by} (rate(redis_commands_processed_total[5m]))[1h:1m]) >= {t} \
                 and on (instance, job) redis_up == 1"
            ),
            summary: "Redis throughput on {{ $labels.instance }} dropped",
            description: format!(
                "Redis on {{{{ $labels.instance }}}} serves fewer than {t} commands per second, after serving more within the last hour."
            ),
            target: exporter,
            series: Box::new(move |level, n| {
                // Busy at twice the threshold for 30 minutes, then (bad) a quarter of it, or
                // (safe) busy just above the threshold throughout. The 5m rate falls below the
                // threshold at 33m: 165/300 of the busy rate, extrapolated by 5/4.
                let busy = 120.0 * threshold;
                let processed = if level == Level::Bad {
                    let drop_at = 30.0 * busy;
                    format!(
                        "0+{}x30 {}+{}x{}",
                        number(busy),
                        number(drop_at + 15.0 * threshold),
                        number(15.0 * threshold),
                        n - 32
                    )
                } else {
                    counter(66.0 * threshold, n)
                };
                vec![
                    Series { series: labelled("redis_commands_processed_total", "", exporter), values: processed },
                    Series { series: labelled("redis_up", "", exporter), values: constant(1, n) },
                ]
            }),
            onset: 33 * MINUTE,
        },
        "memory_pressure" => {
            let max = stack.redis.maxmemory_bytes as f64;
            Entry {
                alert: alert_name(settings.key),
                expr: format!(
                    "redis_memory_used_bytes / redis_memory_max_bytes * 100 > {t} and on (instance, job) redis_memory_max_bytes > 0"
                ),
                summary: "Redis on {{ $labels.instance }} is close to maxmemory",
                description: format!(
                    "Redis on {{{{ $labels.instance }}}} uses more than {t}% of its maxmemory ({}).",
                    stack.redis.maxmemory
                ),
                target: exporter,
                series: Box::new(move |level, n| {
                    let percent = if level == Level::Bad {
                        (threshold + 1.0).min((threshold + 100.0) / 2.0)
                    } else {
                        (threshold - 1.0).max(threshold / 2.0)
                    };
                    vec![
                        Series { series: labelled("redis_memory_used_bytes", "", exporter), values: constant(number((max * percent / 100.0).round()), n) },
                        Series { series: labelled("redis_memory_max_bytes", "", exporter), values: constant(number(max), n) },
                    ]
                }),
                onset: 0,
            }
        }
        "buffer_overflow" => {
            let (metric, extra, what) = if stack.redis.maxmemory_policy == "noeviction" {
                ("redis_errors_total", "err=\"OOM\",", "rejects writes with OOM errors (maxmemory-policy noeviction)")
            } else {
                ("redis_evicted_keys_total", "", "evicts keys to stay under maxmemory")
            };
            let selector = if extra.is_empty() { metric.to_string() } else { format!("{metric}{{err=\"OOM\"}}") };
            Entry {
                alert: alert_name(settings.key),
                expr: format!("{by} (increase({selector}[5m])) > 0"),
                summary: "Redis on {{ $labels.instance }} is full",
                description: format!("Redis on {{{{ $labels.instance }}}} {what}: buffered writes are being lost."),
                target: exporter,
                series: Box::new(move |level, n| {
                    let per_minute = if level == Level::Bad { 10.0 } else { 0.0 };
                    vec![Series { series: labelled(metric, extra, exporter), values: counter(per_minute, n) }]
                }),
                onset: MINUTE,
            }
        }
        "rejected_connections" => Entry {
            alert: alert_name(settings.key),
            expr: format!("{by} (increase(redis_rejected_connections_total[5m])) > 0"),
            summary: "Redis on {{ $labels.instance }} rejects connections",
            description: "Redis on {{ $labels.instance }} refused client connections (maxclients reached).".into(),
            target: exporter,
            series: Box::new(move |level, n| {
                let per_minute = if level == Level::Bad { 5.0 } else { 0.0 };
                vec![Series { series: labelled("redis_rejected_connections_total", "", exporter), values: counter(per_minute, n) }]
            }),
            onset: MINUTE,
        },
        "high_error_rate" => Entry {
            alert: alert_name(settings.key),
            expr: format!("{by} (rate(redis_total_error_replies[5m])) > {t}"),
            summary: "Redis on {{ $labels.instance }} answers with many errors",
            description: format!("Redis on {{{{ $labels.instance }}}} sends more than {t} error replies per second."),
            target: exporter,
            series: Box::new(move |level, n| {
                // 1.5× the threshold from zero: the 5m rate is 1.5·t/5 of it at minute t, above
                // the threshold from 4m on; 0.9× never is.
                let per_second = if level == Level::Bad { threshold * 1.5 } else { threshold * 0.9 };
                vec![Series { series: labelled("redis_total_error_replies", "", exporter), values: counter(60.0 * per_second, n) }]
            }),
            onset: 4 * MINUTE,
        },
        "persistence_failing" => Entry {
            alert: alert_name(settings.key),
            expr: "redis_rdb_last_bgsave_status == 0 or redis_aof_last_write_status == 0 or redis_aof_last_bgrewrite_status == 0".into(),
            summary: "Redis on {{ $labels.instance }} cannot persist data",
            description: "The last RDB save or AOF write on {{ $labels.instance }} failed: data written now may be lost on restart.".into(),
            target: exporter,
            series: Box::new(move |level, n| {
                let status = if level == Level::Bad { 0 } else { 1 };
                vec![
                    Series { series: labelled("redis_rdb_last_bgsave_status", "", exporter), values: constant(1, n) },
                    Series { series: labelled("redis_aof_last_write_status", "", exporter), values: constant(status, n) },
                    Series { series: labelled("redis_aof_last_bgrewrite_status", "", exporter), values: constant(1, n) },
                ]
            }),
            onset: 0,
        },
        other => unreachable!("alert `{other}` is not in the catalogue"),
    }
}

/// The alert name of a key under `[alerts]`.
pub fn alert_name(key: &str) -> &'static str {
    match key {
        "redis_down" => "RedisDown",
        "exporter_down" => "RedisExporterDown",
        "alertmanager_down" => "AlertmanagerDown",
        "high_latency" => "RedisHighLatency",
        "low_throughput" => "RedisLowThroughput",
        "memory_pressure" => "RedisMemoryPressure",
        "buffer_overflow" => "RedisBufferOverflow",
        "rejected_connections" => "RedisRejectedConnections",
        "high_error_rate" => "RedisHighErrorRate",
        "persistence_failing" => "RedisPersistenceFailing",
        other => unreachable!("alert `{other}` is not in the catalogue"),
    }
}

fn runbook(stack: &Stack, alert: &str) -> String {
    format!(
        "{}#{}",
        stack.runbook_base_url.trim_end_matches('#'),
        alert.to_lowercase()
    )
}

/// The alerts that can fire in this stack: enabled, and with the service that feeds them
/// (AlertmanagerDown needs Alertmanager; every other alert needs the exporter).
pub fn active(stack: &Stack) -> impl Iterator<Item = &AlertSettings> {
    stack.alerts.iter().filter(|a| {
        let source = if a.key == "alertmanager_down" {
            &stack.alertmanager.service
        } else {
            &stack.redis_exporter.service
        };
        a.enabled && source.enabled
    })
}

/// The active alerts' rules, in catalogue order.
pub fn rules(stack: &Stack) -> Vec<Rule> {
    active(stack)
        .map(|settings| {
            let e = entry(stack, settings);
            Rule {
                alert: e.alert,
                expr: e.expr,
                r#for: settings.r#for,
                severity: format!("{:?}", settings.severity).to_lowercase(),
                summary: e.summary.to_string(),
                description: e.description,
                runbook: runbook(stack, e.alert),
            }
        })
        .collect()
}

/// For every enabled alert: one scenario past its threshold that fires once its `for` has
/// passed and not before, and one short of its threshold that never fires.
pub fn rule_tests(stack: &Stack) -> Vec<RuleTest> {
    let mut tests = Vec::new();
    for (settings, rule) in active(stack).zip(rules(stack)) {
        let e = entry(stack, settings);
        // Rules are evaluated every minute: the alert fires at the first evaluation at least
        // `for` after the onset, and is still pending one minute earlier.
        let fire_at = (e.onset + settings.r#for.millis()).div_ceil(MINUTE) * MINUTE;
        let samples = fire_at / MINUTE + 2;
        let (job, instance) = e.target;
        let expected = Expected {
            exp_labels: BTreeMap::from([
                ("severity", rule.severity.clone()),
                ("instance", instance.to_string()),
                ("job", job.to_string()),
            ]),
            exp_annotations: BTreeMap::from([
                (
                    "summary",
                    rule.summary.replace("{{ $labels.instance }}", instance),
                ),
                (
                    "description",
                    rule.description.replace("{{ $labels.instance }}", instance),
                ),
                ("runbook", rule.runbook.clone()),
            ]),
        };
        let mut checks = vec![Check {
            eval_time: Duration::from_millis(fire_at),
            alertname: e.alert,
            exp_alerts: vec![expected],
        }];
        // A minute short of that: the condition may already hold, but not for long enough.
        if fire_at >= MINUTE {
            checks.insert(
                0,
                Check {
                    eval_time: Duration::from_millis(fire_at - MINUTE),
                    alertname: e.alert,
                    exp_alerts: vec![],
                },
            );
        }
        tests.push(RuleTest {
            name: format!(
                "{} fires past its threshold and its for ({})",
                e.alert, settings.r#for
            ),
            interval: "1m",
            input_series: (e.series)(Level::Bad, samples),
            alert_rule_test: checks,
        });
        tests.push(RuleTest {
            name: format!("{} stays silent short of its threshold", e.alert),
            interval: "1m",
            input_series: (e.series)(Level::Safe, samples),
            alert_rule_test: vec![Check {
                eval_time: Duration::from_millis(fire_at),
                alertname: e.alert,
                exp_alerts: vec![],
            }],
        });
    }
    tests
}

/// A dashboard panel and its queries.
#[derive(Debug, Clone, Serialize)]
pub struct Panel {
    pub id: u32,
    pub title: &'static str,
    pub description: &'static str,
    pub kind: &'static str,
    pub unit: &'static str,
    pub targets: Vec<Target>,
    pub grid: Grid,
}

#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub ref_id: String,
    pub expr: &'static str,
    pub legend: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Grid {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// Title, panel type, unit, description, and (query, legend) pairs.
type PanelSpec = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// The Redis dashboard: every metric an operator of a write buffer looks at.
pub fn panels() -> Vec<Panel> {
    let specs: [PanelSpec; 10] = [
        (
            "Redis up",
            "stat",
            "none",
            "1 when redis_exporter reaches Redis.",
            &[("redis_up", "{{instance}}")],
        ),
        (
            "Connected clients",
            "stat",
            "none",
            "Clients connected now.",
            &[("redis_connected_clients", "{{instance}}")],
        ),
        (
            "Total keys",
            "stat",
            "none",
            "Keys across all databases.",
            &[("sum by (instance) (redis_db_keys)", "{{instance}}")],
        ),
        (
            "Memory fragmentation",
            "stat",
            "none",
            "RSS divided by used memory; far above 1 wastes memory.",
            &[("redis_mem_fragmentation_ratio", "{{instance}}")],
        ),
        (
            "Commands per second",
            "timeseries",
            "ops",
            "Commands processed per second.",
            &[(
                "sum by (instance) (rate(redis_commands_processed_total[$__rate_interval]))",
                "{{instance}}",
            )],
        ),
        (
            "Memory used vs maxmemory",
            "timeseries",
            "bytes",
            "Used memory against the maxmemory limit.",
            &[
                ("redis_memory_used_bytes", "used {{instance}}"),
                ("redis_memory_max_bytes", "maxmemory {{instance}}"),
            ],
        ),
        (
            "Command latency",
            "timeseries",
            "ms",
            "Average command latency.",
            &[(
                "sum by (instance) (rate(redis_commands_duration_seconds_total[$__rate_interval])) / sum by (instance) (rate(redis_commands_processed_total[$__rate_interval])) * 1000",
                "{{instance}}",
            )],
        ),
        (
            "Error replies per second",
            "timeseries",
            "ops",
            "Error replies sent to clients per second.",
            &[(
                "sum by (instance) (rate(redis_total_error_replies[$__rate_interval]))",
                "{{instance}}",
            )],
        ),
        (
            "Evicted keys per second",
            "timeseries",
            "ops",
            "Keys evicted to stay under maxmemory.",
            &[(
                "sum by (instance) (rate(redis_evicted_keys_total[$__rate_interval]))",
                "{{instance}}",
            )],
        ),
        (
            "Rejected connections per second",
            "timeseries",
            "ops",
            "Connections refused, usually at maxclients.",
            &[(
                "sum by (instance) (rate(redis_rejected_connections_total[$__rate_interval]))",
                "{{instance}}",
            )],
        ),
    ];
    let mut stats = 0;
    let mut graphs = 0;
    specs
        .iter()
        .enumerate()
        .map(|(i, (title, kind, unit, description, queries))| {
            let grid = if *kind == "stat" {
                stats += 1;
                Grid {
                    x: (stats - 1) * 6,
                    y: 0,
                    w: 6,
                    h: 4,
                }
            } else {
                graphs += 1;
                Grid {
                    x: ((graphs - 1) % 2) * 12,
                    y: 4 + ((graphs - 1) / 2) * 8,
                    w: 12,
                    h: 8,
                }
            };
            Panel {
                id: i as u32 + 1,
                title,
                description,
                kind,
                unit,
                targets: queries
                    .iter()
                    .enumerate()
                    .map(|(j, (expr, legend))| Target {
                        ref_id: char::from(b'A' + j as u8).to_string(),
                        expr,
                        legend,
                    })
                    .collect(),
                grid,
            }
        })
        .collect()
}
