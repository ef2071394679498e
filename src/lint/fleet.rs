//! The fleet's checks: what the profile's policy asks of every target (a password, and TLS
//! for a password that leaves the machine), and alert routes that no target's labels match.

use super::level;
use crate::diagnostic::{Code, Severity};
use crate::model::resolve::fleet::is_local_host;
use crate::model::{Collector, Stack};

pub(super) fn fleet(c: &mut Collector<'_>, stack: &Stack) {
    let policy = &stack.policy;
    let severity = level(policy.level);
    // `targets.<i>` counts only the `[[targets]]` entries.
    for (i, target) in stack.targets.iter().filter(|t| !t.managed).enumerate() {
        let key = format!("targets.{i}");
        if policy.require_redis_auth && target.password.is_none() {
            c.at(
                Code::NoRedisAuth,
                severity,
                &key,
                format!("target `{}` takes no password", target.name),
                "set `password = { env = \"…\" }` on the target, and `requirepass` or an ACL \
                 user on its Redis",
            );
        }
        if policy.require_tls_for_passwords
            && target.password.is_some()
            && !target.tls
            && !is_local_host(&target.host)
        {
            c.at(
                Code::PlaintextPassword,
                severity,
                &format!("{key}.address"),
                format!(
                    "the password of target `{}` would cross the network in clear text to `{}`",
                    target.name, target.host
                ),
                "use `rediss://` (TLS), or reach the target on the stack's own network",
            );
        }
    }
    for (i, route) in stack.alertmanager.routes.iter().enumerate() {
        let matches = stack.targets.iter().any(|target| {
            route
                .matchers
                .iter()
                .all(|(label, value)| target.labels.get(label) == Some(value))
        });
        if !matches {
            let wanted: Vec<String> = route
                .matchers
                .iter()
                .map(|(label, value)| format!("{label}={value:?}"))
                .collect();
            c.at(
                Code::RouteMatchesNoTarget,
                Severity::Warning,
                &format!("alertmanager.routes.{i}.match"),
                format!(
                    "no target has the labels {}: alerts never take the route to {}",
                    wanted.join(", "),
                    route.channel
                ),
                "check the label names and values against `[[targets]]`",
            );
        }
    }
}
