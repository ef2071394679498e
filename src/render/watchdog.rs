//! The dead man's switch: `Watchdog`, an alert that always fires, sent to the heartbeat
//! (`alertmanager.heartbeat.url`) every minute. The heartbeat service raises its own alarm when
//! the beats stop: Prometheus, Alertmanager or the way between them has died, which no alert
//! of the stack itself can say.

use std::collections::BTreeMap;

use serde::Serialize;

use super::rules::{Check, Expected, RuleTest};
use crate::model::Stack;
use crate::model::units::Duration;

pub(crate) const WATCHDOG: &str = "Watchdog";
/// Its rule group, apart from the catalogue's (`stackgen drill` copies only those).
pub(crate) const GROUP: &str = "watchdog";

/// The rule, for the rules file.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Watchdog {
    pub group: &'static str,
    pub alert: &'static str,
    pub expr: &'static str,
    pub labels: BTreeMap<&'static str, String>,
    pub annotations: BTreeMap<&'static str, String>,
}

/// The Watchdog of a stack with a heartbeat. Its severity is `none`: no severity route takes
/// it, and no inhibition rule silences it.
pub(crate) fn watchdog(stack: &Stack) -> Option<Watchdog> {
    if !stack.alertmanager.heartbeat {
        return None;
    }
    let mut labels = BTreeMap::from([("severity", "none".to_string())]);
    // The operator's AlertmanagerConfig takes only alerts of its own namespace.
    if let Some(k8s) = &stack.kubernetes {
        labels.insert("namespace", k8s.namespace.clone());
    }
    let annotations = BTreeMap::from([
        (
            "summary",
            "Watchdog: the alerting pipeline of this stack is alive".to_string(),
        ),
        (
            "description",
            "This alert always fires. It is sent to the heartbeat every minute; the heartbeat \
             service raises an alarm when it stops coming."
                .to_string(),
        ),
    ]);
    Some(Watchdog {
        group: GROUP,
        alert: WATCHDOG,
        expr: "vector(1)",
        labels,
        annotations,
    })
}

/// Its rule test: it fires at the first evaluation, with its labels and annotations.
pub(crate) fn test(watchdog: &Watchdog, step: u64) -> RuleTest {
    let exp_labels = watchdog
        .labels
        .iter()
        .map(|(name, value)| (name.to_string(), value.clone()))
        .collect();
    RuleTest {
        name: "Watchdog always fires".into(),
        interval: Duration::from_millis(step),
        input_series: vec![],
        alert_rule_test: vec![Check {
            eval_time: Duration::from_millis(step),
            alertname: WATCHDOG,
            exp_alerts: vec![Expected {
                exp_labels,
                exp_annotations: watchdog.annotations.clone(),
            }],
        }],
        promql_expr_test: vec![],
    }
}
