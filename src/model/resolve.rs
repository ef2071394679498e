//! From the raw documents to the resolved [`Stack`]: the profile overlay merged, then one
//! resolver per table fills in its defaults and checks its rules, reporting each error at the
//! key that causes it through one [`Collector`]. All problems come back together.

use std::collections::BTreeMap;

use super::collect::{Collector, Sources};
use super::combine::Combine;
use super::raw::{
    AlertmanagerTable, Appendfsync, ExporterTable, GrafanaTable, MaxmemoryPolicy, PolicyLevel,
    PolicyTable, ProfileFile, PrometheusTable, RedisTable, StackFile, StackTable,
};
use super::stack::*;
use super::units::{Duration, Secret, Size};
use crate::alerts::{AlertKind, AlertsTable};
use crate::diagnostic::{Code, Diagnostic};

/// The bind of a published port when `stack.toml` gives none.
pub(crate) const DEFAULT_BIND: &str = "127.0.0.1";
pub(crate) const DEFAULT_MEMORY_LIMIT: Size = Size::gib(2);
/// `maxmemory` is this share of `memory_limit` when only one of them is set: room for forks,
/// client buffers and fragmentation, and clear of lint's 80 % warning.
pub(crate) const MAXMEMORY_PERCENT_OF_LIMIT: u64 = 75;
pub(crate) const DEFAULT_EXPORTER_SCRAPE_INTERVAL: Duration = Duration::from_secs(10);
pub(crate) const DEFAULT_RETENTION_TIME: Duration = Duration::from_hours(200);
pub(crate) const DEFAULT_SCRAPE_INTERVAL: Duration = Duration::from_secs(15);
/// Prometheus' own default; a shorter scrape interval caps it, as Prometheus does.
pub(crate) const DEFAULT_SCRAPE_TIMEOUT: Duration = Duration::from_secs(10);
pub(crate) const DEFAULT_GROUP_WAIT: Duration = Duration::from_secs(30);
pub(crate) const DEFAULT_GROUP_INTERVAL: Duration = Duration::from_mins(5);
pub(crate) const DEFAULT_REPEAT_INTERVAL: Duration = Duration::from_hours(4);
pub(crate) const DEFAULT_SLACK_CHANNEL: &str = "#redis-alerts";
pub(crate) const DEFAULT_ADMIN_USER: &str = "admin";
/// No runbook links unless `[alerts] runbook_base_url` says where the runbooks are.
pub(crate) const DEFAULT_RUNBOOK_BASE_URL: &str = "";

/// Resolves `stack.toml` under one profile. All problems found come back together.
pub(crate) fn resolve(
    stack_file: &StackFile,
    profile_name: &str,
    profile: &ProfileFile,
    sources: Sources<'_>,
) -> Result<Stack, Vec<Diagnostic>> {
    let raw = stack_file.clone().combine(profile.overlay());
    let mut c = Collector::new(sources);
    let mut secrets = BTreeMap::new();
    let stack_table = raw.stack.unwrap_or_default();
    let platform = stack_table.target;
    let name = project_name(&mut c, stack_table);
    let kubernetes = kubernetes::kubernetes(&mut c, platform, raw.kubernetes, &name);
    let redis = redis(&mut c, raw.redis.unwrap_or_default(), &mut secrets);
    let prometheus = prometheus(&mut c, raw.prometheus.unwrap_or_default());
    let exporter = exporter(
        &mut c,
        raw.redis_exporter.unwrap_or_default(),
        prometheus.scrape_timeout,
    );
    let target_tables = raw.targets.unwrap_or_default();
    let (targets, clusters) = fleet::targets(&mut c, &redis, target_tables.clone());
    let mut exporter = exporter;
    exporter.user = fleet::exporter_user(&mut c, &target_tables);
    exporter.password_map = fleet::password_map(
        &redis,
        (&targets, &clusters),
        profile_name,
        kubernetes.is_some(),
        &mut secrets,
    );
    let alertmanager = alertmanager(&mut c, raw.alertmanager.unwrap_or_default(), &mut secrets);
    if alertmanager.heartbeat && !prometheus.service.enabled {
        c.error(
            Code::InvalidValue,
            "alertmanager.heartbeat",
            "the heartbeat needs Prometheus: it evaluates the Watchdog that Alertmanager sends \
             (enable Prometheus, or drop [alertmanager.heartbeat])",
        );
    }
    let grafana = grafana(&mut c, raw.grafana.unwrap_or_default(), &mut secrets);
    let alerts_table = raw.alerts.unwrap_or_default();
    let alerts = alerts(&mut c, &alerts_table);
    let stack = Stack {
        name,
        profile: profile_name.to_string(),
        redis,
        redis_exporter: exporter,
        prometheus,
        alertmanager,
        grafana,
        runbook_base_url: runbook_base_url(&mut c, &alerts_table),
        alerts,
        targets,
        clusters,
        kubernetes,
        secrets,
        policy: policy(profile.policy.clone()),
        slos: slo::slos(&mut c, raw.slo.unwrap_or_default()),
    };
    kubernetes::secret_forms(&mut c, &stack);
    slo::scopes(&mut c, &stack);
    if stack.kubernetes.is_some() {
        kubernetes::refuse_topology(&mut c, &stack);
    } else {
        ports::services(&mut c, &stack.services());
        ports::topology(&mut c, &stack);
    }
    if c.has_errors() {
        return Err(c.finish());
    }
    Ok(stack)
}

fn project_name(c: &mut Collector<'_>, table: StackTable) -> String {
    let missing = table.name.is_none();
    let name = table.name.unwrap_or_default();
    let valid_start = name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit());
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if missing {
        c.error(
            Code::InvalidValue,
            "stack",
            "missing key `stack.name`: the project name is required",
        );
    } else if !valid_start || !valid_chars {
        c.error(
            Code::InvalidValue,
            "stack.name",
            format!(
                "invalid project name `{name}`: use lower-case letters, digits, `-` and `_`, \
                 starting with a letter or digit"
            ),
        );
    }
    name
}

/// A duration that must be above zero, or its default.
fn positive(
    c: &mut Collector<'_>,
    key: &str,
    value: Option<Duration>,
    default: Duration,
) -> Duration {
    let value = value.unwrap_or(default);
    if value.millis() == 0 {
        let name = key.rsplit('.').next().unwrap_or(key);
        c.error(
            Code::NotAboveZero,
            key,
            format!("`{name}` must be above zero"),
        );
    }
    value
}

fn redis(c: &mut Collector<'_>, r: RedisTable, secrets: &mut BTreeMap<String, SecretUse>) -> Redis {
    let mut service = service(
        c,
        &REDIS,
        ServiceKeys {
            enabled: r.enabled,
            image: r.image,
            bind: r.bind,
            port: r.port,
            memory_limit: None,
            cpus: r.cpus,
        },
    );
    let (memory_limit, maxmemory) = memory(r.memory_limit, r.maxmemory);
    let memory_limit = limit_memory(c, REDIS.table, memory_limit);
    service.memory_limit = memory_limit;
    service.memory_limit_bytes = memory_limit.bytes();
    if maxmemory >= memory_limit {
        let key = c
            .sources
            .first_set(&["redis.maxmemory", "redis.memory_limit"]);
        c.error(
            Code::MaxmemoryNotBelowLimit,
            key,
            format!(
                "`maxmemory` ({maxmemory}) must be below `memory_limit` ({memory_limit}): Redis \
                 needs headroom for forks and buffers"
            ),
        );
    }
    if maxmemory.bytes() == 0 {
        c.error(
            Code::InvalidValue,
            "redis.maxmemory",
            "`maxmemory` must be above zero",
        );
    }
    let auth = service.enabled && secret(c, secrets, "redis.password", REDIS_PASSWORD, r.password);
    let nodes = topology::nodes(c, r.replicas, &service);
    let sentinel = topology::sentinel(c, r.sentinel, &service, nodes.len());
    Redis {
        service,
        memory_limit,
        memory_limit_bytes: memory_limit.bytes(),
        maxmemory,
        maxmemory_bytes: maxmemory.bytes(),
        maxmemory_policy: r
            .maxmemory_policy
            .unwrap_or(MaxmemoryPolicy::AllkeysLru)
            .as_str(),
        appendonly: r.appendonly.unwrap_or(true),
        appendfsync: r.appendfsync.unwrap_or(Appendfsync::Everysec),
        auth,
        nodes,
        sentinel,
    }
}

/// The container limit and `maxmemory`: each follows the other when only one is set.
fn memory(limit: Option<Size>, maxmemory: Option<Size>) -> (Size, Size) {
    const MIB: u128 = 1 << 20;
    let percent = u128::from(MAXMEMORY_PERCENT_OF_LIMIT);
    // Whole MiB, down for maxmemory and up for the limit, so that both stay readable.
    let bytes = |value: u128| Size::from_bytes(u64::try_from(value).unwrap_or(u64::MAX));
    let share = |limit: Size| bytes(u128::from(limit.bytes()) * percent / 100 / MIB * MIB);
    match (limit, maxmemory) {
        (Some(limit), Some(maxmemory)) => (limit, maxmemory),
        (Some(limit), None) => (limit, share(limit)),
        (None, Some(maxmemory)) => {
            let limit = (u128::from(maxmemory.bytes()) * 100).div_ceil(percent);
            (bytes(limit.div_ceil(MIB) * MIB), maxmemory)
        }
        (None, None) => (DEFAULT_MEMORY_LIMIT, share(DEFAULT_MEMORY_LIMIT)),
    }
}

fn prometheus(c: &mut Collector<'_>, p: PrometheusTable) -> Prometheus {
    let service = service(
        c,
        &PROMETHEUS,
        ServiceKeys {
            enabled: p.enabled,
            image: p.image,
            bind: p.bind,
            port: p.port,
            memory_limit: p.memory_limit,
            cpus: p.cpus,
        },
    );
    let retention_time = positive(
        c,
        "prometheus.retention_time",
        p.retention_time,
        DEFAULT_RETENTION_TIME,
    );
    let scrape_interval = positive(
        c,
        "prometheus.scrape_interval",
        p.scrape_interval,
        DEFAULT_SCRAPE_INTERVAL,
    );
    let scrape_timeout = positive(
        c,
        "prometheus.scrape_timeout",
        p.scrape_timeout,
        DEFAULT_SCRAPE_TIMEOUT.min(scrape_interval),
    );
    // Rules are evaluated as often as samples arrive unless asked otherwise.
    let evaluation_interval = positive(
        c,
        "prometheus.evaluation_interval",
        p.evaluation_interval,
        scrape_interval,
    );
    if p.retention_size.is_some_and(|size| size.bytes() == 0) {
        c.error(
            Code::NotAboveZero,
            "prometheus.retention_size",
            "`retention_size` must be above zero",
        );
    }
    // Prometheus refuses a timeout above the interval of any job that inherits it. The
    // exporter's job gets its own timeout, capped by its interval; the global one must fit
    // the global interval.
    if scrape_timeout > scrape_interval {
        let key = c
            .sources
            .first_set(&["prometheus.scrape_timeout", "prometheus.scrape_interval"]);
        c.error(
            Code::ScrapeTimeoutAboveInterval,
            key,
            format!(
                "`scrape_timeout` ({scrape_timeout}) must not be above `scrape_interval` \
                 ({scrape_interval})"
            ),
        );
    }
    let external_url = external_url(c, "prometheus", p.external_url, &service);
    Prometheus {
        service,
        external_url,
        retention_time,
        retention_size: p.retention_size.map(Size::prometheus),
        retention_size_bytes: p.retention_size.map(|size| size.bytes()),
        scrape_interval,
        scrape_timeout,
        evaluation_interval,
    }
}

fn exporter(c: &mut Collector<'_>, e: ExporterTable, global_timeout: Duration) -> Exporter {
    let service = service(
        c,
        &REDIS_EXPORTER,
        ServiceKeys {
            enabled: e.enabled,
            image: e.image,
            bind: e.bind,
            port: e.port,
            memory_limit: e.memory_limit,
            cpus: e.cpus,
        },
    );
    let scrape_interval = positive(
        c,
        "redis_exporter.scrape_interval",
        e.scrape_interval,
        DEFAULT_EXPORTER_SCRAPE_INTERVAL,
    );
    let scrape_timeout = global_timeout.min(scrape_interval);
    Exporter {
        service,
        scrape_interval,
        scrape_timeout,
        connection_timeout: Duration::from_millis((scrape_timeout.millis() / 2).max(1)),
        user: None,
        password_map: PasswordMap::None,
    }
}

fn alertmanager(
    c: &mut Collector<'_>,
    a: AlertmanagerTable,
    secrets: &mut BTreeMap<String, SecretUse>,
) -> Alertmanager {
    let service = service(
        c,
        &ALERTMANAGER,
        ServiceKeys {
            enabled: a.enabled,
            image: a.image,
            bind: a.bind,
            port: a.port,
            memory_limit: a.memory_limit,
            cpus: a.cpus,
        },
    );
    let group_wait = positive(
        c,
        "alertmanager.group_wait",
        a.group_wait,
        DEFAULT_GROUP_WAIT,
    );
    let group_interval = positive(
        c,
        "alertmanager.group_interval",
        a.group_interval,
        DEFAULT_GROUP_INTERVAL,
    );
    let repeat_interval = positive(
        c,
        "alertmanager.repeat_interval",
        a.repeat_interval,
        DEFAULT_REPEAT_INTERVAL,
    );
    let routes = fleet::routes(c, a.routes.unwrap_or_default());
    let slack = a.slack.unwrap_or_default();
    let webhook = service.enabled
        && secret(
            c,
            secrets,
            "alertmanager.slack.webhook_url",
            SLACK_WEBHOOK_URL,
            slack.webhook_url,
        );
    let heartbeat = service.enabled
        && secret(
            c,
            secrets,
            "alertmanager.heartbeat.url",
            HEARTBEAT_URL,
            a.heartbeat.unwrap_or_default().url,
        );
    let channel = slack
        .channel
        .unwrap_or_else(|| DEFAULT_SLACK_CHANNEL.into());
    if let Err(why) = super::grammar::slack_channel(&channel) {
        c.error(Code::InvalidValue, "alertmanager.slack.channel", why);
    }
    let external_url = external_url(c, "alertmanager", a.external_url, &service);
    Alertmanager {
        service,
        external_url,
        group_wait,
        group_interval,
        repeat_interval,
        slack: webhook.then_some(Slack {
            channel,
            send_resolved: slack.send_resolved.unwrap_or(true),
        }),
        routes,
        heartbeat,
    }
}

fn grafana(
    c: &mut Collector<'_>,
    g: GrafanaTable,
    secrets: &mut BTreeMap<String, SecretUse>,
) -> Grafana {
    let service = service(
        c,
        &GRAFANA,
        ServiceKeys {
            enabled: g.enabled,
            image: g.image,
            bind: g.bind,
            port: g.port,
            memory_limit: g.memory_limit,
            cpus: g.cpus,
        },
    );
    let admin_password = service.enabled
        && secret(
            c,
            secrets,
            "grafana.admin_password",
            GRAFANA_ADMIN_PASSWORD,
            g.admin_password,
        );
    let admin_user = g.admin_user.unwrap_or_else(|| DEFAULT_ADMIN_USER.into());
    if admin_user.trim().is_empty() {
        c.error(
            Code::InvalidValue,
            "grafana.admin_user",
            "`admin_user` must not be empty",
        );
    } else if admin_user.chars().any(char::is_control) {
        // It reaches Grafana through an environment variable, which holds no NUL, and a user
        // name with a control character is a paste error.
        c.error(
            Code::InvalidValue,
            "grafana.admin_user",
            "`admin_user` must not hold control characters",
        );
    }
    Grafana {
        service,
        admin_user,
        admin_password,
        allow_sign_up: g.allow_sign_up.unwrap_or(false),
        anonymous_access: g.anonymous_access.unwrap_or(false),
    }
}

/// Records a secret the stack reads, after checking its reference; false when there is none.
/// No message shows the reference's text: a value pasted where its reference belongs is a
/// secret.
fn secret(
    c: &mut Collector<'_>,
    secrets: &mut BTreeMap<String, SecretUse>,
    key: &'static str,
    name: &str,
    secret: Option<Secret>,
) -> bool {
    let Some(secret) = secret else {
        return false;
    };
    match &secret {
        Secret::File(path) if path.contains("://") || path.chars().any(char::is_whitespace) => {
            c.error(
                Code::SecretUnusable,
                &format!("{key}.file"),
                "`file` does not look like a path (value not shown): put the secret in a file \
                 and name that file here",
            );
        }
        Secret::File(path) if path.starts_with('/') || path.starts_with('\\') => c.error(
            Code::SecretUnusable,
            &format!("{key}.file"),
            "secret files are relative to the folder of stack.toml; an absolute path would end \
             up in the generated files",
        ),
        Secret::Env(variable) if !is_variable_name(variable) => c.error(
            Code::InvalidValue,
            &format!("{key}.env"),
            "`env` must name an environment variable: letters, digits and `_` (value not \
             shown)",
        ),
        _ => {}
    }
    let source = secret;
    secrets.insert(name.to_string(), SecretUse { key, source });
    true
}

fn is_variable_name(name: &str) -> bool {
    !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Every alert of the catalogue, with its defaults filled in and its threshold checked.
fn alerts(c: &mut Collector<'_>, table: &AlertsTable) -> Vec<AlertSettings> {
    AlertKind::ALL
        .iter()
        .map(|&kind| {
            let parts = table.parts(kind);
            let threshold = kind.threshold().map(|threshold| {
                let value = parts.threshold.unwrap_or(threshold.default);
                if let Err(message) = threshold.check(value) {
                    let key = format!("alerts.{}.{}", kind.key(), threshold.key);
                    c.error(Code::ThresholdOutOfDomain, &key, message);
                }
                value
            });
            AlertSettings {
                kind,
                enabled: parts.enabled.unwrap_or(true),
                r#for: parts.r#for.unwrap_or(kind.default_for()),
                severity: parts.severity.unwrap_or(kind.default_severity()),
                threshold,
            }
        })
        .collect()
}

/// Where people reach a service, for the links it sends: as given, or its published address
/// (`localhost` where it is published on every interface), never a container's name.
fn external_url(c: &mut Collector<'_>, table: &str, given: Option<String>, s: &Service) -> String {
    let Some(url) = given else {
        let host = match super::grammar::Reach::of(&s.bind) {
            Some(super::grammar::Reach::Everywhere) => "localhost".to_string(),
            _ if s.bind.contains(':') => format!("[{}]", s.bind),
            _ => s.bind.clone(),
        };
        return format!("http://{host}:{}", s.port);
    };
    if let Err(why) = super::grammar::url(&url) {
        c.error(Code::InvalidValue, &format!("{table}.external_url"), why);
    }
    url.trim_end_matches('/').to_string()
}

/// Where the runbooks are: a URL the alerts link to, or none.
fn runbook_base_url(c: &mut Collector<'_>, table: &AlertsTable) -> String {
    let url = table
        .runbook_base_url
        .clone()
        .unwrap_or_else(|| DEFAULT_RUNBOOK_BASE_URL.into());
    if !url.is_empty()
        && let Err(why) = super::grammar::url(&url)
    {
        c.error(Code::InvalidValue, "alerts.runbook_base_url", why);
    }
    url
}

fn policy(table: Option<PolicyTable>) -> Policy {
    let declared = table.is_some();
    let p = table.unwrap_or_default();
    Policy {
        declared,
        level: p.level.unwrap_or(PolicyLevel::Warning),
        allow_public_binds: p.allow_public_binds.unwrap_or(true),
        require_redis_auth: p.require_redis_auth.unwrap_or(false),
        forbid_default_credentials: p.forbid_default_credentials.unwrap_or(false),
        forbid_grafana_open_access: p.forbid_grafana_open_access.unwrap_or(false),
        require_pinned_images: p.require_pinned_images.unwrap_or(false),
        require_slack_webhook: p.require_slack_webhook.unwrap_or(false),
        warn_without_heartbeat: p.warn_without_heartbeat.unwrap_or(false),
        require_retention_size: p.require_retention_size.unwrap_or(false),
        require_private_secret_files: p.require_private_secret_files.unwrap_or(false),
        require_tls_for_passwords: p.require_tls_for_passwords.unwrap_or(false),
    }
}

pub(crate) mod fleet;
pub(crate) mod kubernetes;
mod ports;
mod service;
mod slo;
pub(crate) mod topology;

pub(crate) use service::*;

#[cfg(test)]
pub(crate) mod tests;
