//! Findings about the generated files: what the rendered rules must hold whatever template
//! produced them, and what the real checkers (`tools`) said, pointed back at `stack.toml`.

use super::generated_location;
use super::tools::ToolFailure;
use crate::alerts::AlertKind;
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::model::{Collector, Stack};
use crate::render::{Tree, rules};

/// Checks on the rendered rules that hold whatever template produced them.
pub fn rendered_rules(c: &mut Collector<'_>, stack: &Stack, tree: &Tree) {
    let Some(text) = tree.get("prometheus/rules/redis-alerts.yml") else {
        return;
    };
    let Ok(rules) = crate::yaml::from_str::<serde_json::Value>(text) else {
        return;
    };
    let overflow = AlertKind::BufferOverflow.name();
    let rule = rules["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .find(|r| r["alert"] == overflow);
    let expr = rule.and_then(|r| r["expr"].as_str()).unwrap_or_default();
    if stack.redis.maxmemory_policy == "noeviction" && expr.contains("redis_evicted_keys_total") {
        c.at(
            Code::EvictionAlertUnderNoeviction,
            Severity::Error,
            "redis.maxmemory_policy",
            format!("{overflow} watches evictions, which never happen under `noeviction`"),
            "watch rejected writes: redis_errors_total{err=\"OOM\"}",
        );
    }
}

/// A checker's failure as a finding; when it names an alert, where that alert is configured.
pub fn tool_finding(c: &mut Collector<'_>, stack: &Stack, failure: ToolFailure, strict: bool) {
    let location = generated_location(&failure.file);
    if failure.code == Code::CheckerMissing {
        c.push(Diagnostic {
            location,
            code: failure.code,
            severity: if strict {
                Severity::Error
            } else {
                Severity::Note
            },
            message: failure.output,
            hint: "apt-get install prometheus prometheus-alertmanager".into(),
        });
        return;
    }
    let mut message = failure.output;
    for alert in rules::active(stack) {
        let name = alert.kind.name();
        if message.contains(name) {
            let place = c.sources.locate(&format!("alerts.{}", alert.kind.key()));
            message.push_str(&format!(" ({name} is configured at {place})"));
        }
    }
    c.push(Diagnostic {
        location,
        code: failure.code,
        severity: Severity::Error,
        message,
        hint: "see the tool's message; a template override is the usual cause".into(),
    });
}
