//! The alert rules and their `promtool test rules` tests, built from the catalogue
//! ([`crate::alerts`]) for one stack: for each active alert, a scenario past its threshold
//! that fires once its `for` has passed and not before, and one short of its threshold that
//! never fires. However long the `for`s, the tests stay small and quick: promtool evaluates
//! them on one grid, every minute or coarser ([`grid`]), and an alert that reads a window is
//! fed only what each evaluation reads ([`Layout::Replayed`]). Templates lay these out; they
//! do not invent them.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::alerts::promql::{
    self, COMMAND, Inputs, Labels, Level, MINUTE, REDIS_JOB, Samples, Series, Subject,
};
use crate::alerts::{AlertKind, GROUP_LABEL, Source};
use crate::model::Stack;
use crate::model::raw::TargetKind;
use crate::model::resolve::topology::CLUSTER_LABEL;
use crate::model::stack::AlertSettings;
use crate::model::units::Duration;
use crate::render::kubernetes::{WATCHED_BY_OPERATOR, operator};
use subjects::subjects;

#[cfg(test)]
pub(crate) mod replay;
mod subjects;

/// One alerting rule, ready for the rules file.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Rule {
    pub alert: &'static str,
    pub expr: String,
    pub r#for: Duration,
    pub severity: String,
    pub summary: String,
    pub description: String,
    /// `<runbook_base_url>#<alertname in lower case>`; none without a base URL.
    pub runbook: Option<String>,
}

/// A stack's `promtool test rules` file: its test groups and the one interval promtool
/// evaluates the rules at in all of them.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RuleTests {
    pub evaluation_interval: Duration,
    pub tests: Vec<RuleTest>,
}

/// One `promtool test rules` test group.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RuleTest {
    pub name: String,
    /// How far apart the input series' samples are.
    pub interval: Duration,
    pub input_series: Vec<Series>,
    pub alert_rule_test: Vec<Check>,
    /// Only for an alert whose `for` reaches past [`HORIZON`]: its `ALERTS` series.
    pub promql_expr_test: Vec<ExprCheck>,
}

/// A PromQL expression and the samples it gives at a time.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ExprCheck {
    pub expr: String,
    pub eval_time: Duration,
    pub exp_samples: Vec<Sample>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Sample {
    /// The series, in PromQL's notation.
    pub labels: String,
    pub value: u32,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Check {
    pub eval_time: Duration,
    pub alertname: &'static str,
    pub exp_alerts: Vec<Expected>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Expected {
    pub exp_labels: Labels,
    pub exp_annotations: BTreeMap<&'static str, String>,
}

/// Whether the service an alert's metrics come from runs in this stack.
pub(crate) fn source_enabled(stack: &Stack, kind: AlertKind) -> bool {
    match kind.source() {
        Source::Exporter => stack.redis_exporter.service.enabled,
        Source::Alertmanager => stack.alertmanager.service.enabled,
    }
}

/// Whether an alert can match anything in this stack: the alerts about a replication group
/// need a target in one, Sentinel's a Sentinel target, RedisDown a Redis target (a cluster's
/// nodes have their own: RedisClusterNodeMissing), and under kube-prometheus-stack
/// (Kubernetes, operator mode) no scrape job of stackgen's feeds the alerts about what the
/// operator runs and watches itself.
fn applies(stack: &Stack, kind: AlertKind) -> bool {
    if operator(stack) && WATCHED_BY_OPERATOR.contains(&kind) {
        return false;
    }
    let grouped = |kind: TargetKind| {
        stack
            .targets
            .iter()
            .any(|t| t.kind == kind && t.labels.contains_key(GROUP_LABEL))
    };
    let redis = stack.targets.iter().any(|t| t.kind == TargetKind::Redis);
    if kind == AlertKind::RedisDown && !redis {
        return false;
    }
    match promql::entry(kind, Inputs::NEUTRAL).subject {
        Subject::Group => grouped(TargetKind::Redis),
        Subject::SentinelGroup(_) => grouped(TargetKind::Sentinel),
        Subject::Sentinel => stack.targets.iter().any(|t| t.kind == TargetKind::Sentinel),
        Subject::Cluster | Subject::ClusterNode => !stack.clusters.is_empty(),
        Subject::Redis | Subject::Command | Subject::Job(_) => true,
    }
}

/// The alerts that can fire in this stack: enabled, with the service that feeds them, and
/// something to match.
pub(crate) fn active(stack: &Stack) -> impl Iterator<Item = &AlertSettings> {
    stack
        .alerts
        .iter()
        .filter(|a| a.enabled && source_enabled(stack, a.kind) && applies(stack, a.kind))
}

/// The labels of a Redis target's series, as the scrape job gives them.
pub(crate) fn target_labels(target: &crate::model::stack::Target) -> Labels {
    let mut labels = target.labels.clone();
    labels.insert("instance".into(), target.name.clone());
    labels.insert("job".into(), REDIS_JOB.into());
    labels.insert("target".into(), target.name.clone());
    labels
}

/// The labels an alert of `subject` carries, from the labels of its series.
fn alert_labels(subject: Subject, series: &Labels) -> Labels {
    let group = || (GROUP_LABEL.to_string(), series[GROUP_LABEL].clone());
    match subject {
        Subject::Group => Labels::from([group()]),
        Subject::Cluster => Labels::from([(CLUSTER_LABEL.into(), series[CLUSTER_LABEL].clone())]),
        Subject::Command => {
            let mut labels = series.clone();
            labels.insert(COMMAND.0.into(), COMMAND.1.into());
            labels
        }
        Subject::SentinelGroup(extra) => std::iter::once(group())
            .chain(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())))
            .collect(),
        _ => series.clone(),
    }
}

fn runbook(stack: &Stack, alert: &str) -> Option<String> {
    let base = stack.runbook_base_url.trim_end_matches('#');
    (!base.is_empty()).then(|| format!("{base}#{}", alert.to_lowercase()))
}

fn rule(stack: &Stack, settings: &AlertSettings, entry: &promql::Entry) -> Rule {
    let alert = settings.kind.name();
    Rule {
        alert,
        expr: entry.expr.clone(),
        r#for: settings.r#for,
        severity: format!("{:?}", settings.severity).to_lowercase(),
        summary: entry.summary.to_string(),
        description: entry.description.clone(),
        runbook: runbook(stack, alert),
    }
}

fn entry(stack: &Stack, settings: &AlertSettings) -> promql::Entry {
    let inputs = Inputs {
        threshold: settings.threshold.unwrap_or_default(),
        maxmemory: stack.redis.maxmemory,
        noeviction: stack.redis.maxmemory_policy == "noeviction",
    };
    promql::entry(settings.kind, inputs)
}

/// The active alerts' rules, in catalogue order.
pub(crate) fn rules(stack: &Stack) -> Vec<Rule> {
    active(stack)
        .map(|settings| rule(stack, settings, &entry(stack, settings)))
        .collect()
}

/// For every active alert: one scenario past its threshold that fires once its `for` has
/// passed and not before, and one short of its threshold that never fires; all at one
/// evaluation interval, [`grid`]. A `for` past [`HORIZON`], or past the time the scenario
/// holds its condition, is proven as far as that: pending, and not firing.
pub(crate) fn rule_tests(stack: &Stack) -> RuleTests {
    let step = grid(stack);
    let mut tests = Vec::new();
    for settings in active(stack) {
        let e = entry(stack, settings);
        let rule = rule(stack, settings, &e);
        let plan = Plan::new(&e, settings.r#for, step);
        let subjects = subjects(stack, e.subject);
        let (first, others) = subjects.split_first().expect("a stack has a target");
        // The first subject goes bad; any other stays safe and must not fire.
        let mut bad = plan.series(&e, Level::Bad, first);
        for other in others {
            bad.extend(plan.series(&e, Level::Safe, other));
        }
        let safe = subjects
            .iter()
            .flat_map(|labels| plan.series(&e, Level::Safe, labels))
            .collect();
        let labels = alert_labels(e.subject, first);
        let (alert_rule_test, pending) = if plan.fires {
            (plan.firing(&rule, labels), vec![])
        } else {
            let at = plan.end;
            (vec![silent(rule.alert, at)], plan.pending(&rule, labels))
        };
        tests.push(RuleTest {
            name: plan.name(rule.alert, settings.r#for, !others.is_empty()),
            interval: plan.interval(),
            input_series: bad,
            alert_rule_test,
            promql_expr_test: pending,
        });
        tests.push(RuleTest {
            name: format!("{} stays silent short of its threshold", rule.alert),
            interval: plan.interval(),
            input_series: safe,
            alert_rule_test: vec![silent(rule.alert, plan.end)],
            promql_expr_test: if plan.fires {
                vec![]
            } else {
                vec![none_pending(rule.alert, plan.end)]
            },
        });
    }
    RuleTests {
        evaluation_interval: Duration::from_millis(step),
        tests,
    }
}

/// How many times, at most, promtool evaluates the rules over all the tests of a stack: each
/// evaluation of the catalogue (a subquery among its rules) takes it a few milliseconds, so
/// this keeps `promtool test rules` to a few seconds whatever the `for`s.
pub(crate) const EVALUATIONS: u64 = 2000;

/// How far the tests of an alert go at most: promtool holds a slot for each minute of a
/// replayed series ([`Layout::Replayed`]), some 70 MB a year of them in all. A `for` of a
/// year is proven whole, with room for the coarse step that takes; a longer one only this far.
pub(crate) const HORIZON: u64 = 2 * YEAR;

const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;
const YEAR: u64 = 365 * DAY;

/// The evaluation intervals the tests may run at, finest first.
const GRIDS: [u64; 20] = [
    MINUTE,
    2 * MINUTE,
    5 * MINUTE,
    10 * MINUTE,
    15 * MINUTE,
    30 * MINUTE,
    HOUR,
    2 * HOUR,
    3 * HOUR,
    6 * HOUR,
    12 * HOUR,
    DAY,
    2 * DAY,
    7 * DAY,
    14 * DAY,
    30 * DAY,
    60 * DAY,
    90 * DAY,
    180 * DAY,
    YEAR,
];

/// The test file's one evaluation interval (promtool has no other): every minute, unless the
/// tests would then take more than [`EVALUATIONS`] evaluations (long `for`s), and then the
/// finest grid where they do not. Promtool evaluates each test from 0 to its last
/// `eval_time`, one step at a time.
pub(crate) fn grid(stack: &Stack) -> u64 {
    let evaluations = |step: u64| -> u64 {
        active(stack)
            .map(|settings| {
                let plan = Plan::new(&entry(stack, settings), settings.r#for, step);
                // Two tests, each evaluated at 0, step, …, end.
                2 * (plan.end / step + 1)
            })
            .sum()
    };
    // Every test ends within the horizon: at a year's step, it takes three evaluations.
    GRIDS
        .into_iter()
        .find(|&step| evaluations(step) <= EVALUATIONS)
        .unwrap_or(YEAR)
}

/// When one alert's tests fire, and where their samples sit, at an evaluation interval.
///
/// The alert becomes pending at the first evaluation at or past the scenario's onset, and
/// fires at the first evaluation at least `for` after that: `fire_at = ⌈onset/step⌉·step +
/// ⌈for/step⌉·step`. One evaluation earlier it has been pending less than `for`, so the test
/// pins the `for` to within one step: to the minute up to hours of them, and a `for` of a
/// year to within two weeks. A `for` a step shorter fires at that earlier evaluation, one a
/// step longer is still pending at `fire_at`, and either fails the test. Where `fire_at` is
/// out of reach, the test shows the alert pending from `pending_at` to `end` (its `ALERTS`
/// series) and not firing: a `for` shorter than that stretch, or a threshold that keeps it
/// from pending, fails it.
struct Plan {
    step: u64,
    /// The first evaluation at which the alert is pending.
    pending_at: u64,
    /// The last evaluation of both tests: `fire_at`, or the last one within [`HORIZON`], or
    /// within what the scenario holds.
    end: u64,
    /// Whether the alert fires at `end`; if not, the `for` reaches past the horizon, or past
    /// how long the scenario holds the condition (`held`).
    fires: bool,
    held: Option<u64>,
    layout: Layout,
}

enum Layout {
    /// The scenario as it runs, its samples `step` apart from time 0: a sample a minute, or
    /// one at each evaluation for an alert whose condition holds on its first sample.
    Running(Samples),
    /// The start of the scenario replayed to end at each evaluation from the first one,
    /// `step`, to `end`, a sample a minute, and nothing in between: up to its onset past the
    /// threshold, up to `span` (its onset or its lookback, whichever is longer) short of it,
    /// so that a safe rate has a whole window behind it and is at its full value. The
    /// expression reads no further back than `lookback`, and a step is longer than `span`, so
    /// each evaluation sees exactly what the running scenario shows then: ⌈for/step⌉ + 1
    /// replays of at most `span/1m + 1` samples, instead of `for` minutes of them.
    Replayed,
}

impl Plan {
    fn new(e: &promql::Entry, r#for: Duration, step: u64) -> Self {
        let pending_at = e.onset.div_ceil(step) * step;
        let fire_at = pending_at + r#for.millis().div_ceil(step) * step;
        // Past the horizon, or past the time the condition holds in the scenario, the alert
        // is proven pending as far as it goes: it never fires there.
        let limit = HORIZON.min(e.holds.map_or(u64::MAX, |holds| e.onset + holds));
        let fires = fire_at <= limit;
        let held = e.holds.filter(|&holds| !fires && e.onset + holds < HORIZON);
        let end = if fires {
            fire_at
        } else {
            (limit / step * step).max(pending_at)
        };
        let layout = if e.onset == 0 {
            Layout::Running(Samples {
                start: 0,
                step,
                count: end / step + 2,
            })
        } else if step > span(e) {
            Layout::Replayed
        } else {
            Layout::Running(Samples::minutes(end / MINUTE + 2))
        };
        Self {
            step,
            pending_at,
            end,
            fires,
            held,
            layout,
        }
    }

    /// The name of the test past the threshold: what it proves.
    fn name(&self, alert: &str, r#for: Duration, fleet: bool) -> String {
        let end = Duration::from_millis(self.end);
        let mut name = match (self.fires, self.held) {
            (true, _) => format!("{alert} fires past its threshold and its for ({for})"),
            (false, Some(held)) => format!(
                "{alert} is pending past its threshold, not firing, at {end}: the scenario \
                 holds {}, short of its for ({for})",
                Duration::from_millis(held)
            ),
            (false, None) => format!(
                "{alert} is pending past its threshold, not firing, at {end}, short of its for \
                 ({for})"
            ),
        };
        if self.step > MINUTE {
            name.push_str(&format!(
                ", evaluated every {}",
                Duration::from_millis(self.step)
            ));
        }
        if fleet {
            name.push_str(", for the one target past it");
        }
        name
    }

    /// The test's `interval`: how far apart its samples are.
    fn interval(&self) -> Duration {
        match self.layout {
            Layout::Running(samples) => Duration::from_millis(samples.step),
            Layout::Replayed => Duration::from_millis(MINUTE),
        }
    }

    /// Silent one evaluation short of `fire_at`, if there is one, and firing at it.
    fn firing(&self, rule: &Rule, labels: Labels) -> Vec<Check> {
        let fire_at = self.end;
        let mut checks = Vec::new();
        // The condition may already hold there, but not for long enough.
        if fire_at >= self.step {
            checks.push(silent(rule.alert, fire_at - self.step));
        }
        checks.push(Check {
            eval_time: Duration::from_millis(fire_at),
            alertname: rule.alert,
            exp_alerts: vec![expected(rule, labels)],
        });
        checks
    }

    /// From its first evaluation past the onset to `end`, the alert is pending for the subject
    /// that went bad, and for nothing else: the threshold is right, and the `for` longer than
    /// that stretch.
    fn pending(&self, rule: &Rule, mut labels: Labels) -> Vec<ExprCheck> {
        labels.insert("severity".into(), rule.severity.clone());
        let state = [("alertname", rule.alert), ("alertstate", "pending")];
        let mut times = vec![self.pending_at, self.end];
        times.dedup();
        times
            .into_iter()
            .map(|at| ExprCheck {
                expr: alerts_of(rule.alert),
                eval_time: Duration::from_millis(at),
                exp_samples: vec![Sample {
                    labels: promql::labelled("ALERTS", &state, &labels),
                    value: 1,
                }],
            })
            .collect()
    }

    fn series(&self, e: &promql::Entry, level: Level, labels: &Labels) -> Vec<Series> {
        match self.layout {
            Layout::Running(samples) => e.series(level, samples, labels),
            Layout::Replayed => self.replayed(e, level, labels),
        }
    }

    /// Each series as the replays of its first stretch, one ending at each evaluation from
    /// `step` to `end`, the minutes between them left out (`_xN`). Past the threshold, the
    /// stretch ends at the onset, where the condition has only just come to hold (as close to
    /// the threshold as the running scenario gets); short of it, at `span`.
    fn replayed(&self, e: &promql::Entry, level: Level, labels: &Labels) -> Vec<Series> {
        let stretch = match level {
            Level::Bad => e.onset,
            Level::Safe => span(e),
        };
        let count = stretch / MINUTE + 1;
        let replays: Vec<(u64, Vec<Series>)> = (1..=self.end / self.step)
            .map(|k| {
                let start = k * self.step - stretch;
                let samples = Samples {
                    start,
                    step: MINUTE,
                    count,
                };
                (start, e.series(level, samples, labels))
            })
            .collect();
        let mut series = replays[0].1.clone();
        for (i, s) in series.iter_mut().enumerate() {
            let mut next = 0;
            let mut parts = Vec::new();
            for (start, replay) in &replays {
                if *start > next {
                    parts.push(format!("_x{}", (start - next) / MINUTE));
                }
                parts.push(replay[i].values.clone());
                next = start + count * MINUTE;
            }
            s.values = parts.join(" ");
        }
        series
    }
}

/// How much of a scenario a replay holds: up to its onset, and at least the lookback.
fn span(e: &promql::Entry) -> u64 {
    e.onset.max(e.lookback)
}

/// The `ALERTS` series of an alert: one per alert pending or firing, its state a label.
fn alerts_of(alertname: &str) -> String {
    promql::labelled("ALERTS", &[("alertname", alertname)], &Labels::new())
}

/// Nothing pending or firing at `at`.
fn none_pending(alertname: &'static str, at: u64) -> ExprCheck {
    ExprCheck {
        expr: alerts_of(alertname),
        eval_time: Duration::from_millis(at),
        exp_samples: vec![],
    }
}

/// An annotation as Prometheus fills it in from the alert's labels.
pub(crate) fn filled(text: &str, labels: &Labels) -> String {
    labels.iter().fold(text.to_string(), |text, (name, value)| {
        text.replace(&format!("{{{{ $labels.{name} }}}}"), value)
    })
}

/// The alert as promtool should see it fire: its labels and its annotations filled in.
fn expected(rule: &Rule, mut labels: Labels) -> Expected {
    let fill = |text: &str| filled(text, &labels);
    let exp_annotations = [
        ("summary", Some(fill(&rule.summary))),
        ("description", Some(fill(&rule.description))),
        ("runbook", rule.runbook.clone()),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some((k, v?)))
    .collect();
    labels.insert("severity".into(), rule.severity.clone());
    Expected {
        exp_labels: labels,
        exp_annotations,
    }
}

fn silent(alertname: &'static str, at: u64) -> Check {
    Check {
        eval_time: Duration::from_millis(at),
        alertname,
        exp_alerts: vec![],
    }
}

#[cfg(test)]
mod tests;
