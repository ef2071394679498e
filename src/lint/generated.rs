//! Findings about the generated files: what the rendered rules must hold whatever template
//! produced them, and what the real checkers (`tools`) said, pointed back at `stack.toml`.

use super::generated_location;
use super::tools::ToolFailure;
use crate::alerts::AlertKind;
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::model::{Collector, Stack};
use crate::render::{Tree, rules};

/// Checks on the rendered rules that hold whatever template produced them.
pub(super) fn rendered_rules(c: &mut Collector<'_>, stack: &Stack, tree: &Tree) {
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
pub(super) fn limits(c: &mut Collector<'_>, stack: &Stack, tree: &Tree) {
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

/// What a compose.yaml override may not do: make a container privileged, add a capability the
/// built-in template does not grant, or interpolate a secret's variable (compose would write
/// its value into the container's environment or argv).
pub(super) fn overrides(c: &mut Collector<'_>, stack: &Stack, tree: &Tree, builtin: &Tree) {
    const FILE: &str = "compose.yaml";
    let (Some(text), Some(reference)) = (tree.get(FILE), builtin.get(FILE)) else {
        return;
    };
    let parse = |text: &str| crate::yaml::from_str::<serde_json::Value>(text).ok();
    let (Some(compose), Some(reference)) = (parse(text), parse(reference)) else {
        return;
    };
    let severity = super::level(stack.policy.level);
    let location = generated_location(&format!("generated/{}/{FILE}", stack.profile));
    let mut report = |message: String, hint: &str| {
        c.push(Diagnostic {
            location: location.clone(),
            code: Code::UnsafeOverride,
            severity,
            message,
            hint: hint.into(),
        });
    };
    let services = compose["services"].as_object().into_iter().flatten();
    for (name, body) in services {
        if body["privileged"] == serde_json::Value::Bool(true) {
            report(
                format!("service `{name}` runs privileged"),
                "remove `privileged: true` from the compose.yaml template override",
            );
        }
        let granted = capabilities(&reference["services"][name]);
        let added: Vec<String> = capabilities(body)
            .into_iter()
            .filter(|cap| !granted.contains(cap))
            .collect();
        if !added.is_empty() {
            report(
                format!("service `{name}` adds capabilities: {}", added.join(", ")),
                "keep `cap_add` as the built-in template has it",
            );
        }
    }
    let variables: Vec<&str> = stack
        .declared_secrets()
        .into_iter()
        .filter_map(|secret| match secret.source {
            crate::model::units::Secret::Env(variable) => Some(variable.as_str()),
            _ => None,
        })
        .collect();
    for variable in interpolated(text) {
        if variables.contains(&variable) {
            report(
                format!("`${{{variable}}}` puts a secret's value into a container"),
                "declare the secret under `secrets:` and mount it, as the built-in template does",
            );
        }
    }
}

fn capabilities(service: &serde_json::Value) -> Vec<String> {
    let list = service["cap_add"].as_array().into_iter().flatten();
    let names = list.filter_map(|cap| cap.as_str());
    names
        .map(|cap| cap.trim_start_matches("CAP_").to_ascii_uppercase())
        .collect()
}

/// The variables compose interpolates in a file: `${NAME…}` and `$NAME`, not `$$`.
fn interpolated(text: &str) -> Vec<&str> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        let after = &rest[at + 1..];
        if let Some(escaped) = after.strip_prefix('$') {
            rest = escaped;
            continue;
        }
        let body = after.strip_prefix('{').unwrap_or(after);
        let end = body.find(|c: char| !is_name(c)).unwrap_or(body.len());
        if end > 0 {
            names.push(&body[..end]);
        }
        rest = &body[end..];
    }
    names
}

/// A checker's failure as a finding; when it names an alert, where that alert is configured.
pub(super) fn tool_finding(
    c: &mut Collector<'_>,
    stack: &Stack,
    failure: ToolFailure,
    strict: bool,
) {
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

#[cfg(test)]
mod tests {
    #[test]
    fn interpolation_is_found_as_compose_reads_it() {
        let text = "a: ${SLACK_WEBHOOK_URL}\nb: $$NOT\nc: $X_1 ${Y:-d} $$$Z\nd: $$(cat f)\n";
        assert_eq!(
            super::interpolated(text),
            ["SLACK_WEBHOOK_URL", "X_1", "Y", "Z"]
        );
    }
}
