//! The alert rules and their `promtool test rules` tests, built from the catalogue
//! ([`crate::alerts`]) for one stack: for each active alert, a scenario past its threshold
//! that fires once its `for` has passed and not before, and one short of its threshold that
//! never fires. Templates lay these out; they do not invent them.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::alerts::promql::{self, Inputs, Level, MINUTE, Series};
use crate::alerts::{AlertKind, Source};
use crate::model::Stack;
use crate::model::stack::AlertSettings;
use crate::model::units::Duration;

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
    pub exp_labels: BTreeMap<&'static str, String>,
    pub exp_annotations: BTreeMap<&'static str, String>,
}

/// Whether the service an alert's metrics come from runs in this stack.
pub fn source_enabled(stack: &Stack, kind: AlertKind) -> bool {
    match kind.source() {
        Source::Exporter => stack.redis_exporter.service.enabled,
        Source::Alertmanager => stack.alertmanager.service.enabled,
    }
}

/// The alerts that can fire in this stack: enabled, and with the service that feeds them.
pub fn active(stack: &Stack) -> impl Iterator<Item = &AlertSettings> {
    stack
        .alerts
        .iter()
        .filter(|a| a.enabled && source_enabled(stack, a.kind))
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
        let mut checks = vec![Check {
            eval_time: Duration::from_millis(fire_at),
            alertname: rule.alert,
            exp_alerts: vec![expected(&rule, e.target)],
        }];
        // A minute short of that: the condition may already hold, but not for long enough.
        if fire_at >= MINUTE {
            checks.insert(0, silent(rule.alert, fire_at - MINUTE));
        }
        tests.push(RuleTest {
            name: format!(
                "{} fires past its threshold and its for ({})",
                rule.alert, settings.r#for
            ),
            interval: "1m",
            input_series: e.series(Level::Bad, samples),
            alert_rule_test: checks,
        });
        tests.push(RuleTest {
            name: format!("{} stays silent short of its threshold", rule.alert),
            interval: "1m",
            input_series: e.series(Level::Safe, samples),
            alert_rule_test: vec![silent(rule.alert, fire_at)],
        });
    }
    tests
}

/// The alert as promtool should see it fire: its labels and its annotations filled in.
fn expected(rule: &Rule, target: promql::Target) -> Expected {
    let instance = target.instance;
    let fill = |text: &str| text.replace("{{ $labels.instance }}", instance);
    Expected {
        exp_labels: BTreeMap::from([
            ("severity", rule.severity.clone()),
            ("instance", instance.to_string()),
            ("job", target.job.to_string()),
        ]),
        exp_annotations: [
            ("summary", Some(fill(&rule.summary))),
            ("description", Some(fill(&rule.description))),
            ("runbook", rule.runbook.clone()),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect(),
    }
}

fn silent(alertname: &'static str, at: u64) -> Check {
    Check {
        eval_time: Duration::from_millis(at),
        alertname,
        exp_alerts: vec![],
    }
}
