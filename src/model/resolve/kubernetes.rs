//! The Kubernetes target: `[stack] target` and the `[kubernetes]` table, and the rule that a
//! profile's secrets match its target (references to Secrets on Kubernetes, files or variables
//! for compose).

use super::Collector;
use crate::diagnostic::Code;
use crate::model::grammar;
use crate::model::raw::{KubernetesMode, KubernetesTable, Platform};
use crate::model::stack::{Declared, Kubernetes, Stack};
use crate::model::units::Secret;

/// The `release` label kube-prometheus-stack selects on when installed under its chart name.
pub(crate) const DEFAULT_RELEASE: &str = "kube-prometheus-stack";

pub(crate) fn kubernetes(
    c: &mut Collector<'_>,
    target: Option<Platform>,
    table: Option<KubernetesTable>,
    project: &str,
) -> Option<Kubernetes> {
    if target != Some(Platform::Kubernetes) {
        if table.is_some() {
            c.error(
                Code::InvalidValue,
                "kubernetes",
                "`[kubernetes]` applies only to a profile with `[stack] target = \"kubernetes\"`",
            );
        }
        return None;
    }
    let table = table.unwrap_or_default();
    // The project's name is every object's `app.kubernetes.io/instance` label, and the
    // namespace unless one is given: one error for it, at its key.
    let project_valid = grammar::label_value(project).map_err(|why| {
        c.error(Code::InvalidValue, "stack.name", why);
    });
    let namespace = match table.namespace {
        Some(namespace) => Some(namespace),
        None => project_valid.ok().map(|()| project.replace('_', "-")),
    };
    if let Some(Err(why)) = namespace.as_deref().map(|n| grammar::dns_label(n, 63)) {
        c.error(Code::InvalidValue, "kubernetes.namespace", why);
    }
    let namespace = namespace.unwrap_or_default();
    // The `release` label kube-prometheus-stack selects its rules and monitors by.
    let release = table.release.unwrap_or_else(|| DEFAULT_RELEASE.into());
    if release.is_empty() {
        c.error(
            Code::InvalidValue,
            "kubernetes.release",
            "`release` must not be empty",
        );
    } else if let Err(why) = grammar::label_value(&release) {
        c.error(Code::InvalidValue, "kubernetes.release", why);
    }
    let storage_class = table.storage_class.filter(|s| !s.is_empty());
    if let Some(Err(why)) = storage_class.as_deref().map(grammar::dns_subdomain) {
        c.error(Code::InvalidValue, "kubernetes.storage_class", why);
    }
    Some(Kubernetes {
        namespace,
        mode: table.mode.unwrap_or(KubernetesMode::Operator),
        release,
        storage_class,
    })
}

/// Every secret of the stack in the form its target reads: a Kubernetes profile names Secrets,
/// a compose profile files or variables.
pub(crate) fn secret_forms(c: &mut Collector<'_>, stack: &Stack) {
    let kubernetes = stack.kubernetes.is_some();
    for Declared { key, source, .. } in stack.declared_secrets() {
        let is_reference = matches!(source, Secret::Kubernetes { .. });
        if kubernetes && !is_reference {
            // A target's password set in stack.toml reaches every profile: a Kubernetes
            // profile lists its own targets, with Secret references.
            let own_targets = if key.starts_with("targets.") {
                "; a Kubernetes profile lists its own `[[targets]]`, whose passwords name Secrets"
            } else {
                ""
            };
            c.error(
                Code::SecretUnusable,
                &key,
                format!(
                    "a Kubernetes profile reads secrets from Secrets: write `{{ secret = \"name\", \
                     key = \"key\" }}`, not {}{own_targets}",
                    source.form()
                ),
            );
        } else if !kubernetes && is_reference {
            c.error(
                Code::SecretUnusable,
                &key,
                "`{ secret, key }` names a Kubernetes Secret: this profile runs on compose, which \
                 reads `file` or `env`",
            );
        }
        if let Secret::Kubernetes { secret, key: name } = source
            && (grammar::dns_subdomain(secret).is_err() || !is_secret_key(name))
        {
            c.error(
                Code::InvalidValue,
                &key,
                "`secret` must be a Secret's name (lower-case letters, digits, `-` and `.`) and \
                 `key` one of its keys (letters, digits, `-`, `_` and `.`)",
            );
        }
    }
}

fn is_secret_key(name: &str) -> bool {
    (1..=253).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The Kubernetes target runs one Redis: replicas and Sentinel there are an operator's or a
/// chart's to run, and stackgen monitors them as targets.
pub(crate) fn refuse_topology(c: &mut Collector<'_>, stack: &Stack) {
    let keys = [
        (stack.redis.nodes.len() > 1, "redis.replicas"),
        (stack.redis.sentinel.is_some(), "redis.sentinel.enabled"),
    ];
    if !stack.clusters.is_empty() {
        c.error(
            Code::InvalidValue,
            "targets",
            "a `kind = \"cluster\"` target needs `stackgen up` to find its nodes, which the \
             Kubernetes target has not: list each node as a `kind = \"redis\"` target",
        );
    }
    if let Some((_, key)) = keys.into_iter().find(|(set, _)| *set) {
        c.error(
            Code::InvalidValue,
            key,
            "the Kubernetes target runs one Redis: run replicas and Sentinel with a Redis operator \
             or chart, and monitor them here as `[[targets]]` (`kind = \"sentinel\"` for a \
             Sentinel)",
        );
    }
}
