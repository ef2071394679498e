//! Semantic and policy checks of a resolved stack: settings that resolve but are risky
//! (warnings), and what the profile's `[policy]` forbids (at its level).

use super::{is_pinned, level};
use crate::alerts::{AlertKind, Source};
use crate::diagnostic::{Code, Severity};
use crate::model::grammar::Reach;
use crate::model::units::Duration;
use crate::model::{Collector, Stack};
use crate::render::rules;

/// Settings that resolve but work against the stack.
pub(super) fn semantic(c: &mut Collector<'_>, stack: &Stack) {
    let redis = &stack.redis;
    if redis.service.enabled && redis.maxmemory_bytes * 5 > redis.memory_limit_bytes * 4 {
        c.at(
            Code::MaxmemoryCrowdsLimit,
            Severity::Warning,
            "redis.maxmemory",
            format!(
                "`maxmemory` ({}) is above 80 % of `memory_limit` ({})",
                redis.maxmemory, redis.memory_limit
            ),
            "leave a fifth of the container's memory for forks, client buffers and \
             fragmentation",
        );
    }
    if stack.prometheus.service.enabled {
        intervals(c, stack);
    }
    heartbeat_alertmanager(c, stack);
    let tail_latency = rules::active(stack).any(|a| a.kind == AlertKind::TailLatency);
    if let Some(major) = redis_major(&redis.service.image).filter(|m| *m < 7)
        && redis.service.enabled
        && tail_latency
    {
        c.at(
            Code::AlertNeverFires,
            Severity::Note,
            "redis.image",
            format!(
                "Redis {major} (`{}`) has no latency statistics: RedisTailLatency never \
                 fires for it",
                redis.service.image
            ),
            "use Redis 7 or later, or set `[alerts.tail_latency] enabled = false`",
        );
    }
}

/// An Alertmanager image older than 0.26 cannot read the heartbeat's URL from a file.
fn heartbeat_alertmanager(c: &mut Collector<'_>, stack: &Stack) {
    let image = &stack.alertmanager.service.image;
    let Some((major, minor)) = super::image_tag(image).and_then(major_minor) else {
        return;
    };
    if stack.alertmanager.heartbeat && (major, minor) < (0, 26) {
        c.at(
            Code::HeartbeatNeedsUrlFile,
            Severity::Error,
            "alertmanager.image",
            format!(
                "Alertmanager {major}.{minor} (`{image}`) cannot read the heartbeat URL from a \
                 file: it refuses the config"
            ),
            "use prom/alertmanager v0.26 or later",
        );
    }
}

/// `0.27` of a tag such as `v0.27.0`, `0.28` or `v0.26.1-debian`.
fn major_minor(tag: &str) -> Option<(u32, u32)> {
    let tag = tag.strip_prefix('v').unwrap_or(tag);
    let mut parts = tag.split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// The major version of Redis an image's tag names (`7.2`, `6-alpine`, `6.2.14-bookworm`),
/// if it names one.
fn redis_major(image: &str) -> Option<u32> {
    let tag = super::image_tag(image)?;
    let digits: String = tag.chars().take_while(char::is_ascii_digit).collect();
    let rest = &tag[digits.len()..];
    let ends = rest.is_empty() || rest.starts_with(['.', '-']);
    digits.parse().ok().filter(|_| ends)
}

/// Rule evaluation, `for`s and rate windows against the scrape intervals.
fn intervals(c: &mut Collector<'_>, stack: &Stack) {
    let p = &stack.prometheus;
    if p.evaluation_interval < p.scrape_interval {
        c.at(
            Code::ShorterThanScrape,
            Severity::Warning,
            "prometheus.evaluation_interval",
            format!(
                "`evaluation_interval` ({}) is shorter than `scrape_interval` ({})",
                p.evaluation_interval, p.scrape_interval
            ),
            "evaluate rules at most as often as samples arrive",
        );
    }
    let exporter = stack.redis_exporter.scrape_interval;
    for alert in rules::active(stack) {
        let interval = match alert.kind.source() {
            Source::Alertmanager => p.scrape_interval,
            Source::Exporter => exporter,
        };
        if alert.r#for.millis() > 0 && alert.r#for < interval {
            c.at(
                Code::ShorterThanScrape,
                Severity::Warning,
                &format!("alerts.{}.for", alert.kind.key()),
                format!(
                    "`for` ({}) is shorter than the scrape interval ({interval}) of the metric \
                     it watches",
                    alert.r#for
                ),
                "use `0s` to fire at once, or at least one scrape interval",
            );
        } else if alert.r#for.millis() > 0 && alert.r#for < p.evaluation_interval {
            c.at(
                Code::ShorterThanScrape,
                Severity::Warning,
                &format!("alerts.{}.for", alert.kind.key()),
                format!(
                    "`for` ({}) is shorter than the rules' evaluation interval ({}): the alert \
                     waits a whole evaluation anyway",
                    alert.r#for, p.evaluation_interval
                ),
                "use `0s` to fire at once, or at least one evaluation interval",
            );
        }
    }
    let window = Duration::from_mins(5);
    if exporter.millis() * 4 > window.millis() {
        c.at(
            Code::RateWindowTooShort,
            Severity::Error,
            "redis_exporter.scrape_interval",
            format!(
                "the alert rules' {window} rate windows hold fewer than 4 scrapes at a \
                 {exporter} scrape interval"
            ),
            "scrape the exporter every 75s or more often",
        );
    }
}

/// What the profile's `[policy]` forbids.
pub(super) fn policy(c: &mut Collector<'_>, stack: &Stack) {
    if !stack.policy.declared {
        let location = c.sources.profile.at(0);
        c.push(crate::diagnostic::Diagnostic {
            location,
            code: Code::NoPolicy,
            severity: Severity::Note,
            message: format!(
                "profile {} has no [policy]: lint enforces no policy on it",
                stack.profile
            ),
            hint: "copy the [policy] table of the built-in profiles (`stackgen init` writes one)"
                .into(),
        });
    }
    services(c, stack);
    let policy = &stack.policy;
    let severity = level(policy.level);
    if policy.require_redis_auth && stack.redis.service.enabled && !stack.redis.auth {
        let hint = if stack.kubernetes.is_some() {
            "set `redis.password = { secret = \"redis-auth\", key = \"password\" }` (a key of a \
             Kubernetes Secret)"
        } else {
            "set `redis.password = { file = \"secrets/redis_password.txt\" }`"
        };
        c.at(
            Code::NoRedisAuth,
            severity,
            "redis.password",
            "Redis has no password".into(),
            hint,
        );
    }
    if stack.grafana.service.enabled {
        grafana(c, stack);
    }
    if policy.require_slack_webhook {
        slack_delivery(c, stack, severity);
    }
    let alertmanager = &stack.alertmanager.service;
    if policy.warn_without_heartbeat && alertmanager.enabled && !stack.alertmanager.heartbeat {
        c.at(
            Code::NoHeartbeat,
            severity.max(Severity::Warning),
            "policy.warn_without_heartbeat",
            "no heartbeat: if Prometheus or Alertmanager dies, nothing says so".into(),
            "set `[alertmanager.heartbeat] url = { env = \"HEARTBEAT_URL\" }` (a Healthchecks, \
             Opsgenie or Dead Man's Snitch ping URL)",
        );
    }
    if policy.require_retention_size
        && stack.prometheus.service.enabled
        && stack.prometheus.retention_size.is_none()
    {
        c.at(
            Code::NoRetentionSize,
            severity,
            "prometheus.retention_size",
            "retention is bounded by time only".into(),
            "set `prometheus.retention_size`, e.g. \"10GiB\"",
        );
    }
}

/// Every link from a firing rule to a Slack message: Prometheus, an enabled alert, Alertmanager
/// and its Slack receiver.
fn slack_delivery(c: &mut Collector, stack: &Stack, severity: Severity) {
    let broken = if !stack.prometheus.service.enabled {
        Some((
            "prometheus.enabled",
            "Prometheus is disabled: no alert is evaluated, so none reaches Slack",
            "enable Prometheus, or set `require_slack_webhook = false` in this profile's [policy]",
        ))
    } else if !stack.alerts.iter().any(|a| a.enabled) {
        Some((
            "alerts",
            "every alert is disabled: nothing can reach Slack",
            "enable at least one alert under [alerts]",
        ))
    } else if !stack.alertmanager.service.enabled {
        Some((
            "alertmanager.enabled",
            "Alertmanager is disabled: alerts fire and reach no one",
            "enable Alertmanager, or set `require_slack_webhook = false` in this profile's [policy]",
        ))
    } else if stack.alertmanager.slack.is_none() {
        Some((
            "alertmanager.slack.webhook_url",
            "no Slack webhook: alerts reach no one",
            "set `alertmanager.slack.webhook_url = { env = \"SLACK_WEBHOOK_URL\" }`",
        ))
    } else {
        None
    };
    if let Some((key, message, hint)) = broken {
        c.at(Code::NoSlackWebhook, severity, key, message.into(), hint);
    }
}

/// Binds and images of every enabled service.
fn services(c: &mut Collector<'_>, stack: &Stack) {
    let policy = &stack.policy;
    let severity = level(policy.level);
    let profile = &stack.profile;
    for service in stack.services().into_iter().filter(|s| s.enabled) {
        // On Kubernetes nothing is published on a host address.
        let reach = Reach::of(&service.bind).filter(|_| stack.kubernetes.is_none());
        let exposed = reach.filter(|reach| *reach != Reach::Local);
        if let Some(reach) = exposed
            && !policy.allow_public_binds
        {
            c.at(
                Code::PublicBind,
                severity,
                &format!("{}.bind", service.table),
                format!(
                    "{} publishes port {} on {} ({})",
                    service.name,
                    service.port,
                    service.bind,
                    reach.describe()
                ),
                &format!(
                    "bind to 127.0.0.1 and reach it through a proxy or tunnel, or allow it in \
                     profile {profile}'s [policy]"
                ),
            );
        }
        // Under a policy whose findings are errors (prod's), a note on tag-only pins.
        if policy.require_pinned_images
            && severity == Severity::Error
            && is_pinned(&service.image)
            && !service.image.contains("@sha256:")
        {
            c.at(
                Code::TagNotDigest,
                Severity::Note,
                &format!("{}.image", service.table),
                format!(
                    "image `{}` of {} is pinned by tag, not by digest",
                    service.image, service.name
                ),
                &format!(
                    "pin the exact image: `{}@sha256:<digest>` (`docker buildx imagetools \
                     inspect {}` shows the digest)",
                    service.image, service.image
                ),
            );
        }
        if policy.require_pinned_images && !is_pinned(&service.image) {
            c.at(
                Code::UnpinnedImage,
                severity,
                &format!("{}.image", service.table),
                format!(
                    "image `{}` of {} is not pinned to a version",
                    service.image, service.name
                ),
                "name a version tag (`redis:7.2.4`) or a digest (`redis@sha256:…`)",
            );
        }
    }
}

fn grafana(c: &mut Collector<'_>, stack: &Stack) {
    let policy = &stack.policy;
    let severity = level(policy.level);
    let grafana = &stack.grafana;
    if policy.forbid_default_credentials && !grafana.admin_password {
        c.at(
            Code::DefaultCredentials,
            severity,
            "grafana.admin_password",
            format!(
                "Grafana's admin `{}` keeps the default password `admin`",
                grafana.admin_user
            ),
            "set `grafana.admin_password = { file = \"secrets/grafana_admin_password.txt\" }`",
        );
    }
    if !policy.forbid_grafana_open_access {
        return;
    }
    let open = [
        (grafana.allow_sign_up, "grafana.allow_sign_up", "sign-up"),
        (
            grafana.anonymous_access,
            "grafana.anonymous_access",
            "anonymous access",
        ),
    ];
    for (_, key, what) in open.into_iter().filter(|(on, _, _)| *on) {
        c.at(
            Code::GrafanaOpenAccess,
            severity,
            key,
            format!("Grafana {what} is on"),
            "turn it off; add users as the admin",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::redis_major;

    #[test]
    fn the_major_version_comes_from_the_tag_when_it_names_one() {
        let cases = [
            ("redis:7.2", Some(7)),
            ("redis:6-alpine", Some(6)),
            ("docker.io/library/redis:6.2.14-bookworm", Some(6)),
            ("registry:5000/redis:7", Some(7)),
            ("redis:6.2@sha256:abc", Some(6)),
            ("redis", None),
            ("redis:latest", None),
            ("redis:bookworm", None),
            ("redis:7x", None),
        ];
        for (image, major) in cases {
            assert_eq!(redis_major(image), major, "{image}");
        }
    }
}
