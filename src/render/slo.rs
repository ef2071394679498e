//! The rules of `[[slo]]`, as Sloth and Pyrra generate them: the SLI's error ratio recorded
//! over each window the alerts read and over the SLO's own, the error budget remaining, and
//! multi-window multi-burn-rate alerts (the SRE workbook's: 14.4× over 1h and 5m, 6× over 6h
//! and 30m page; 3× over 1d and 2h, 1× over 3d and 6h make a ticket). Their generated tests
//! prove each alert fires at its rate and not just below it, and that a short blip does not
//! page.

use std::collections::BTreeMap;

use serde::Serialize;

use super::rules::{
    Check, Expected, ExprCheck, RuleTest, RuleTests, Sample, filled, target_labels,
};
use crate::alerts::GROUP_LABEL;
use crate::alerts::promql::{Labels, Series, labelled, number, rounded};
use crate::model::Stack;
use crate::model::raw::{SliKind, SloScope, TargetKind};
use crate::model::stack::Slo;
use crate::model::units::Duration;

/// A burn-rate alert: its name, the budget's burn rate it fires at, its long and short
/// windows, and whether it pages (else it makes a ticket).
struct Burn {
    alert: &'static str,
    rate: f64,
    long: &'static str,
    short: &'static str,
    page: bool,
}

const BURNS: [Burn; 4] = [
    Burn {
        alert: "RedisSLOBurn1h",
        rate: 14.4,
        long: "1h",
        short: "5m",
        page: true,
    },
    Burn {
        alert: "RedisSLOBurn6h",
        rate: 6.0,
        long: "6h",
        short: "30m",
        page: true,
    },
    Burn {
        alert: "RedisSLOBurn1d",
        rate: 3.0,
        long: "1d",
        short: "2h",
        page: false,
    },
    Burn {
        alert: "RedisSLOBurn3d",
        rate: 1.0,
        long: "3d",
        short: "6h",
        page: false,
    },
];

/// Every window an alert reads.
const WINDOWS: [&str; 7] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];

/// The name of the error ratio recorded over `window`.
pub(crate) fn ratio(window: &str) -> String {
    format!("slo:sli_error:ratio_rate{window}")
}

/// A latency SLO's record of each evaluation: 1 when the average command latency passed the
/// threshold, else 0.
const LATENCY_BAD: &str = "slo:sli_latency:bad";
pub(crate) const REMAINING: &str = "slo:error_budget:remaining";

#[derive(Debug, Clone, Serialize)]
pub(crate) struct SloGroup {
    pub name: String,
    pub rules: Vec<SloRule>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct SloRule {
    pub record: Option<String>,
    pub alert: Option<&'static str>,
    pub expr: String,
    pub labels: BTreeMap<&'static str, String>,
    pub annotations: BTreeMap<&'static str, String>,
}

/// A window as PromQL spells it: whole days as `d`.
pub(crate) fn spelled(window: Duration) -> String {
    let day = 86_400_000;
    match window.millis() % day {
        0 => format!("{}d", window.millis() / day),
        _ => window.to_string(),
    }
}

/// The selector and aggregation of an SLO's scope: each Redis target (the exporter's series
/// of it, summed over commands) or each replication group.
fn scope(slo: &Slo) -> (&'static str, &'static str) {
    match slo.per {
        SloScope::Target => ("{kind!=\"sentinel\"}", "sum without (cmd)"),
        SloScope::ReplicationGroup => (
            "{kind!=\"sentinel\",replication_group!=\"\"}",
            "sum by (replication_group)",
        ),
    }
}

/// The window of the rates a latency SLO judges each evaluation by: a minute, or four
/// scrapes when that is longer.
fn latency_rate_window(stack: &Stack) -> String {
    let four = 4 * stack.redis_exporter.scrape_interval.millis();
    Duration::from_millis(four.max(60_000)).to_string()
}

/// The error ratio of `slo` over `window`, from the exporter's series.
fn error_ratio(slo: &Slo, window: &str) -> String {
    let (sel, agg) = scope(slo);
    let of = format!("{{slo=\"{}\"}}", slo.name);
    match slo.sli {
        SliKind::Availability => match slo.per {
            SloScope::Target => format!("1 - avg_over_time(redis_up{sel}[{window}])"),
            SloScope::ReplicationGroup => {
                format!("1 - avg by (replication_group) (avg_over_time(redis_up{sel}[{window}]))")
            }
        },
        SliKind::Errors => format!(
            "({agg} (rate(redis_commands_failed_calls_total{sel}[{window}])) + {agg} \
             (rate(redis_commands_rejected_calls_total{sel}[{window}]))) / {agg} \
             (rate(redis_commands_total{sel}[{window}]))"
        ),
        SliKind::Latency => format!("avg_over_time({LATENCY_BAD}{of}[{window}])"),
    }
}

fn record(name: String, expr: String, slo: &Slo) -> SloRule {
    SloRule {
        record: Some(name),
        alert: None,
        expr,
        labels: BTreeMap::from([("slo", slo.name.clone())]),
        annotations: BTreeMap::new(),
    }
}

/// Each SLO's group of rules.
pub(crate) fn groups(stack: &Stack) -> Vec<SloGroup> {
    stack.slos.iter().map(|slo| group(stack, slo)).collect()
}

fn group(stack: &Stack, slo: &Slo) -> SloGroup {
    let of = format!("{{slo=\"{}\"}}", slo.name);
    let mut rules = Vec::new();
    if let (SliKind::Latency, Some(threshold)) = (slo.sli, slo.latency_threshold) {
        let (sel, agg) = scope(slo);
        let w = latency_rate_window(stack);
        let expr = format!(
            "({agg} (rate(redis_commands_duration_seconds_total{sel}[{w}])) / {agg} \
             (rate(redis_commands_total{sel}[{w}]))) > bool {}",
            number(threshold.seconds())
        );
        rules.push(record(LATENCY_BAD.into(), expr, slo));
    }
    for window in WINDOWS {
        rules.push(record(ratio(window), error_ratio(slo, window), slo));
    }
    let full = spelled(slo.window);
    if !WINDOWS.contains(&full.as_str()) {
        let expr = format!("avg_over_time({}{of}[{full}])", ratio("5m"));
        rules.push(record(ratio(&full), expr, slo));
    }
    let budget = slo.budget();
    let remaining = format!("1 - {}{of} / {}", ratio(&full), number(budget));
    rules.push(record(REMAINING.into(), remaining, slo));
    let whose = match slo.per {
        SloScope::Target => "{{ $labels.instance }}",
        SloScope::ReplicationGroup => "replication group {{ $labels.replication_group }}",
    };
    for burn in &BURNS {
        let at = number(rounded(burn.rate * budget));
        let severity = if burn.page {
            slo.page_severity
        } else {
            slo.ticket_severity
        };
        let severity = format!("{severity:?}").to_lowercase();
        rules.push(SloRule {
            record: None,
            alert: Some(burn.alert),
            expr: format!(
                "{long}{of} > {at} and {short}{of} > {at}",
                long = ratio(burn.long),
                short = ratio(burn.short)
            ),
            labels: BTreeMap::from([("severity", severity), ("slo", slo.name.clone())]),
            annotations: BTreeMap::from([
                (
                    "summary",
                    format!(
                        "SLO {} of {whose} burns its error budget too fast",
                        slo.name
                    ),
                ),
                (
                    "description",
                    format!(
                        "Over the last {} and {}, {whose} spent the error budget of SLO {} \
                         ({}% over {full}) {}× faster than the window allows.",
                        burn.long,
                        burn.short,
                        slo.name,
                        number(slo.objective),
                        number(burn.rate)
                    ),
                ),
            ]),
        });
    }
    SloGroup {
        name: format!("slo:{}", slo.name),
        rules,
    }
}

/// The labels of the series a test feeds an SLO: its first Redis target's (with a
/// replication group when the SLO is per group).
fn subject(stack: &Stack, slo: &Slo) -> Labels {
    let redis = stack.targets.iter().filter(|t| t.kind == TargetKind::Redis);
    let mut redis =
        redis.filter(|t| slo.per == SloScope::Target || t.labels.contains_key(GROUP_LABEL));
    redis.next().map(target_labels).unwrap_or_default()
}

/// The labels of a series that the SLO's scope keeps: all of a target's, or a group's name.
fn scoped(slo: &Slo, series: &Labels) -> Labels {
    match slo.per {
        SloScope::Target => series.clone(),
        SloScope::ReplicationGroup => {
            Labels::from([(GROUP_LABEL.into(), series[GROUP_LABEL].clone())])
        }
    }
}

/// The labels an SLO's alert carries, from its series'.
fn alert_labels(slo: &Slo, series: &Labels, severity: &str) -> Labels {
    let mut labels = scoped(slo, series);
    labels.insert("severity".into(), severity.into());
    labels.insert("slo".into(), slo.name.clone());
    labels
}

/// The input series of `slo`'s SLI at a constant error ratio `bad`, a minute apart.
fn steady(slo: &Slo, labels: &Labels, bad: f64, samples: u64) -> Vec<Series> {
    let n = samples - 1;
    match slo.sli {
        SliKind::Availability => vec![Series {
            // The share of scrapes that find Redis up, as one value.
            series: labelled("redis_up", &[], labels),
            values: format!("{}x{n}", number(1.0 - bad)),
        }],
        // 100 commands a second, a share `bad` of them failing.
        SliKind::Errors => vec![
            Series {
                series: labelled("redis_commands_total", &[("cmd", "set")], labels),
                values: format!("0+6000x{n}"),
            },
            Series {
                series: labelled(
                    "redis_commands_failed_calls_total",
                    &[("cmd", "set")],
                    labels,
                ),
                values: format!("0+{}x{n}", number(6000.0 * bad)),
            },
            Series {
                series: labelled(
                    "redis_commands_rejected_calls_total",
                    &[("cmd", "set")],
                    labels,
                ),
                values: format!("0x{n}"),
            },
        ],
        // The share of evaluations above the threshold, as one value.
        SliKind::Latency => vec![Series {
            series: labelled(LATENCY_BAD, &[("slo", &slo.name)], labels),
            values: format!("{}x{n}", number(bad)),
        }],
    }
}

/// The tests of every SLO, in their own file: evaluated every minute whatever the catalogue's
/// `for`s.
pub(crate) fn tests(stack: &Stack) -> RuleTests {
    let mut tests = Vec::new();
    for slo in &stack.slos {
        let group = group(stack, slo);
        let labels = subject(stack, slo);
        for burn in &BURNS {
            // The alert as the group renders it: its severity and annotations.
            let rule = group.rules.iter().find(|r| r.alert == Some(burn.alert));
            let rule = rule.expect("every burn-rate alert is in the group");
            for (level, factor) in [("past", 1.1), ("short of", 0.9)] {
                let bad = factor * burn.rate * slo.budget();
                let fires = factor > 1.0;
                let expected = fires.then(|| {
                    let exp_labels = alert_labels(slo, &labels, &rule.labels["severity"]);
                    let exp_annotations = (rule.annotations.clone().into_iter())
                        .map(|(name, text)| (name, filled(&text, &exp_labels)))
                        .collect();
                    Expected {
                        exp_labels,
                        exp_annotations,
                    }
                });
                tests.push(RuleTest {
                    name: format!(
                        "SLO {}: {} {level} its burn rate ({}×) {}",
                        slo.name,
                        burn.alert,
                        number(burn.rate),
                        if fires { "fires" } else { "stays silent" }
                    ),
                    interval: Duration::from_mins(1),
                    input_series: steady(slo, &labels, bad, 31),
                    alert_rule_test: vec![Check {
                        eval_time: Duration::from_mins(10),
                        alertname: burn.alert,
                        exp_alerts: expected.into_iter().collect(),
                    }],
                    promql_expr_test: vec![],
                });
            }
        }
        tests.push(blip(slo, &labels));
        if let (SliKind::Latency, Some(threshold)) = (slo.sli, slo.latency_threshold) {
            tests.push(latency_judged(slo, &labels, threshold));
        }
    }
    RuleTests {
        evaluation_interval: Duration::from_mins(1),
        tests,
    }
}

/// How long the blip's history runs before it: the longest window of a paging alert, so that
/// every window a page reads is full.
const HISTORY_MINUTES: u64 = 360;

/// Six hours of health, then one bad sample (a scrape finding Redis down, a burst of errors, an
/// evaluation over the latency threshold) worth half of what pages in an hour, then health: no
/// page, though the short window alone would.
fn blip(slo: &Slo, labels: &Labels) -> RuleTest {
    let allowance = 0.5 * BURNS[0].rate * slo.budget();
    // One sample stands for this many seconds: half the hour's allowance, 1 s to a minute.
    let seconds = ((allowance * 3600.0).floor() as u64).clamp(1, 60);
    let before = HISTORY_MINUTES * 60 / seconds;
    let after = 600 / seconds;
    let one = |series: String, healthy: &str, bad: &str| Series {
        series,
        values: format!("{healthy}x{before} {bad} {healthy}x{after}"),
    };
    let (interval, input_series) = match slo.sli {
        SliKind::Availability => (
            seconds,
            vec![one(labelled("redis_up", &[], labels), "1", "0")],
        ),
        SliKind::Latency => (
            seconds,
            vec![one(
                labelled(LATENCY_BAD, &[("slo", &slo.name)], labels),
                "0",
                "1",
            )],
        ),
        SliKind::Errors => {
            // 6000 commands a minute; after the history, one minute's burst of errors.
            let burst = (allowance * 6000.0 * 60.0).floor().max(1.0);
            let series = |metric| labelled(metric, &[("cmd", "set")], labels);
            (
                60,
                vec![
                    Series {
                        series: series("redis_commands_total"),
                        values: format!("0+6000x{}", HISTORY_MINUTES + 10),
                    },
                    Series {
                        series: series("redis_commands_failed_calls_total"),
                        values: format!("0x{HISTORY_MINUTES} {}x10", number(burst)),
                    },
                    Series {
                        series: series("redis_commands_rejected_calls_total"),
                        values: format!("0x{}", HISTORY_MINUTES + 10),
                    },
                ],
            )
        }
    };
    let checks = [1, 5].into_iter().flat_map(|after| {
        let minute = HISTORY_MINUTES + after;
        BURNS.iter().filter(|b| b.page).map(move |burn| Check {
            eval_time: Duration::from_mins(minute),
            alertname: burn.alert,
            exp_alerts: vec![],
        })
    });
    RuleTest {
        name: format!(
            "SLO {}: a short blip after six hours of health does not page",
            slo.name
        ),
        interval: Duration::from_secs(interval),
        input_series,
        alert_rule_test: checks.collect(),
        promql_expr_test: vec![],
    }
}

/// A latency SLO counts an evaluation bad when the average command latency is past the
/// threshold, and good short of it: two targets side by side, 1.1× and 0.9× the threshold.
fn latency_judged(slo: &Slo, labels: &Labels, threshold: Duration) -> RuleTest {
    let mut slow = labels.clone();
    let mut fast = labels.clone();
    for (labels, name) in [(&mut slow, "slow"), (&mut fast, "fast")] {
        for key in ["instance", "target"] {
            labels.insert(key.into(), name.into());
        }
        if slo.per == SloScope::ReplicationGroup {
            labels.insert(GROUP_LABEL.into(), name.into());
        }
    }
    let mut input_series = Vec::new();
    for (labels, factor) in [(&slow, 1.1), (&fast, 0.9)] {
        // 100 commands a second, each taking `factor` times the threshold.
        let per_minute = 6000.0 * factor * threshold.seconds();
        let series = |metric| labelled(metric, &[("cmd", "set")], labels);
        input_series.push(Series {
            series: series("redis_commands_total"),
            values: "0+6000x10".into(),
        });
        input_series.push(Series {
            series: series("redis_commands_duration_seconds_total"),
            values: format!("0+{}x10", number(per_minute)),
        });
    }
    let sample = |labels: &Labels, value| {
        let kept = scoped(slo, labels);
        Sample {
            labels: labelled(LATENCY_BAD, &[("slo", &slo.name)], &kept),
            value,
        }
    };
    RuleTest {
        name: format!(
            "SLO {}: time past the latency threshold counts as bad",
            slo.name
        ),
        interval: Duration::from_mins(1),
        input_series,
        alert_rule_test: vec![],
        promql_expr_test: vec![ExprCheck {
            expr: format!("{LATENCY_BAD}{{slo=\"{}\"}}", slo.name),
            eval_time: Duration::from_mins(5),
            exp_samples: vec![sample(&fast, 0), sample(&slow, 1)],
        }],
    }
}
