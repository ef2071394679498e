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

/// Under the prod policy: every service of the generated compose.yaml has a memory and a CPU
/// limit (only a template override can take them away).
pub fn limits(c: &mut Collector<'_>, stack: &Stack, tree: &Tree) {
    if stack.policy.level != crate::model::raw::PolicyLevel::Error {
        return;
    }
    let Some(text) = tree.get("compose.yaml") else {
        return;
    };
    let Ok(compose) = crate::yaml::from_str::<serde_json::Value>(text) else {
        return;
    };
    for service in stack.services().into_iter().filter(|s| s.enabled) {
        let body = &compose["services"][service.name];
        let missing: Vec<&str> = ["mem_limit", "cpus"]
            .into_iter()
            .filter(|key| body[*key].is_null())
            .collect();
        if !missing.is_empty() {
            c.at(
                Code::NoLimits,
                Severity::Warning,
                service.table,
                format!(
                    "{} runs without {} in the generated compose.yaml",
                    service.name,
                    missing.join(" and ")
                ),
                "keep `mem_limit` and `cpus` in the compose.yaml template override",
            );
        }
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
