//! The alert rules and their `promtool test rules` tests, built from the catalogue
//! ([`crate::alerts`]) for one stack: for each active alert, a scenario past its threshold
//! that fires once its `for` has passed and not before, and one short of its threshold that
//! never fires. Templates lay these out; they do not invent them.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::alerts::promql::{self, Inputs, Labels, Level, MINUTE, REDIS_JOB, Series, Subject};
use crate::alerts::{AlertKind, GROUP_LABEL, Source};
use crate::model::Stack;
use crate::model::stack::AlertSettings;
use crate::model::units::Duration;
use crate::render::kubernetes::{WATCHED_BY_OPERATOR, operator};

/// One alerting rule, ready for the rules file.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub alert: &'static str,
    pub expr: String,
    pub r#for: Duration,
    pub severity: String,
    pub summary: String,
    pub description: String,
    /// `<runbook_base_url>#<alertname in lower case>`; none without a base URL.
    pub runbook: Option<String>,
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
pub struct Check {
    pub eval_time: Duration,
    pub alertname: &'static str,
    pub exp_alerts: Vec<Expected>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Expected {
    pub exp_labels: Labels,
    pub exp_annotations: BTreeMap<&'static str, String>,
}

/// Whether the service an alert's metrics come from runs in this stack.
pub fn source_enabled(stack: &Stack, kind: AlertKind) -> bool {
    match kind.source() {
        Source::Exporter => stack.redis_exporter.service.enabled,
        Source::Alertmanager => stack.alertmanager.service.enabled,
    }
}

/// Whether an alert can match anything in this stack: `RedisNoPrimary` needs a target in a
/// replication group, and under kube-prometheus-stack (Kubernetes, operator mode) no scrape job
/// of stackgen's feeds the alerts about what the operator runs and watches itself.
fn applies(stack: &Stack, kind: AlertKind) -> bool {
    if operator(stack) && WATCHED_BY_OPERATOR.contains(&kind) {
        return false;
    }
    kind != AlertKind::NoPrimary
        || stack
            .targets
            .iter()
            .any(|t| t.labels.contains_key(GROUP_LABEL))
}

/// The alerts that can fire in this stack: enabled, with the service that feeds them, and
/// something to match.
pub fn active(stack: &Stack) -> impl Iterator<Item = &AlertSettings> {
    stack
        .alerts
        .iter()
        .filter(|a| a.enabled && source_enabled(stack, a.kind) && applies(stack, a.kind))
}

/// The labels of a Redis target's series, as the scrape job gives them.
pub fn target_labels(target: &crate::model::stack::Target) -> Labels {
    let mut labels = target.labels.clone();
    labels.insert("instance".into(), target.name.clone());
    labels.insert("job".into(), REDIS_JOB.into());
    labels.insert("target".into(), target.name.clone());
    labels
}

/// Whose series the tests of an alert feed: the first (and, past it, the second) of the
/// stack's targets for an alert per target or group, or the one job it watches. The first
/// is the one that goes bad.
fn subjects(stack: &Stack, subject: Subject) -> Vec<Labels> {
    let targets = stack.targets.iter().take(2).map(target_labels);
    match subject {
        Subject::Redis => targets.collect(),
        // Each target alone in a group named after it, so that only the first one's lacks a
        // primary.
        Subject::Group => targets
            .map(|mut labels| {
                labels.insert(GROUP_LABEL.into(), labels["target"].clone());
                labels
            })
            .collect(),
        Subject::Job(job) => vec![job.labels()],
    }
}

/// The labels an alert of `subject` carries, from the labels of its series.
fn alert_labels(subject: Subject, series: &Labels) -> Labels {
    match subject {
        Subject::Group => Labels::from([(GROUP_LABEL.into(), series[GROUP_LABEL].clone())]),
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
    promql::entry(settings.kind, Inputs::new(stack, settings.threshold))
}

/// The active alerts' rules, in catalogue order.
pub fn rules(stack: &Stack) -> Vec<Rule> {
    active(stack)
        .map(|settings| rule(stack, settings, &entry(stack, settings)))
        .collect()
}

/// For every active alert: one scenario past its threshold that fires once its `for` has
/// passed and not before, and one short of its threshold that never fires.
pub fn rule_tests(stack: &Stack) -> Vec<RuleTest> {
    let mut tests = Vec::new();
    for settings in active(stack) {
        let e = entry(stack, settings);
        let rule = rule(stack, settings, &e);
        // Rules are evaluated every minute: the alert fires at the first evaluation at least
        // `for` after the onset, and is still pending one minute earlier.
        let fire_at = (e.onset + settings.r#for.millis()).div_ceil(MINUTE) * MINUTE;
        let samples = fire_at / MINUTE + 2;
        let subjects = subjects(stack, e.subject);
        let (first, others) = subjects.split_first().expect("a stack has a target");
        let mut checks = vec![Check {
            eval_time: Duration::from_millis(fire_at),
            alertname: rule.alert,
            exp_alerts: vec![expected(&rule, alert_labels(e.subject, first))],
        }];
        // A minute short of that: the condition may already hold, but not for long enough.
        if fire_at >= MINUTE {
            checks.insert(0, silent(rule.alert, fire_at - MINUTE));
        }
        // The first subject goes bad; any other stays safe and must not fire.
        let mut bad = e.series(Level::Bad, samples, first);
        for other in others {
            bad.extend(e.series(Level::Safe, samples, other));
        }
        let safe = subjects
            .iter()
            .flat_map(|labels| e.series(Level::Safe, samples, labels))
            .collect();
        tests.push(RuleTest {
            name: format!(
                "{} fires past its threshold and its for ({}){}",
                rule.alert,
                settings.r#for,
                if others.is_empty() {
                    ""
                } else {
                    ", for the one target past it"
                }
            ),
            interval: "1m",
            input_series: bad,
            alert_rule_test: checks,
        });
        tests.push(RuleTest {
            name: format!("{} stays silent short of its threshold", rule.alert),
            interval: "1m",
            input_series: safe,
            alert_rule_test: vec![silent(rule.alert, fire_at)],
        });
    }
    tests
}

/// The alert as promtool should see it fire: its labels and its annotations filled in.
fn expected(rule: &Rule, mut labels: Labels) -> Expected {
    let fill = |text: &str| {
        labels.iter().fold(text.to_string(), |text, (name, value)| {
            text.replace(&format!("{{{{ $labels.{name} }}}}"), value)
        })
    };
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
