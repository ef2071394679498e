//! From the raw documents to the resolved [`Stack`]: defaults filled in, the profile overlay
//! merged, and every cross-field rule checked, with errors located at the key that causes
//! them. Templates and the Docker layer only ever see a resolved `Stack`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use super::raw::{
    AlertParts, Appendfsync, Combine, MaxmemoryPolicy, PolicyLevel, PolicyTable, ProfileFile,
    Severity, StackFile,
};
use super::source::{Diagnostic, Location, Source};
use super::units::{Duration, Secret, Size};

/// A service's container and how it is published.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    /// Service name in the compose file and in container names.
    pub name: &'static str,
    /// The `stack.toml` table that configures it.
    pub table: &'static str,
    pub enabled: bool,
    pub image: String,
    pub bind: String,
    pub port: u16,
    /// The port the service listens on inside its container.
    pub container_port: u16,
    /// The compose short syntax of the published port: `127.0.0.1:6379:6379`, `[::1]:6379:6379`.
    pub publish: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Redis {
    #[serde(flatten)]
    pub service: Service,
    pub memory_limit: Size,
    pub memory_limit_bytes: u64,
    pub maxmemory: Size,
    pub maxmemory_bytes: u64,
    pub maxmemory_policy: &'static str,
    pub appendonly: bool,
    pub appendfsync: Appendfsync,
    pub auth: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exporter {
    #[serde(flatten)]
    pub service: Service,
    pub scrape_interval: Duration,
    /// The global scrape timeout, capped by this job's interval.
    pub scrape_timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prometheus {
    #[serde(flatten)]
    pub service: Service,
    pub retention_time: Duration,
    /// In Prometheus' unit spelling (`10GB`), when set.
    pub retention_size: Option<String>,
    pub scrape_interval: Duration,
    pub scrape_timeout: Duration,
    pub evaluation_interval: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alertmanager {
    #[serde(flatten)]
    pub service: Service,
    pub group_wait: Duration,
    pub group_interval: Duration,
    pub repeat_interval: Duration,
    pub slack: Option<Slack>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Slack {
    pub channel: String,
    pub send_resolved: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grafana {
    #[serde(flatten)]
    pub service: Service,
    pub admin_user: String,
    pub admin_password: bool,
    pub allow_sign_up: bool,
    pub anonymous_access: bool,
}

/// One alert's settings; its rule text comes from the catalogue in `render`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertSettings {
    /// The key under `[alerts]`.
    pub key: &'static str,
    pub enabled: bool,
    pub r#for: Duration,
    pub severity: Severity,
    pub threshold: Option<f64>,
}

/// A secret the stack reads, by its name under `/run/secrets/`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecretUse {
    /// The `stack.toml` key that declares it.
    pub key: &'static str,
    pub source: Secret,
}

/// What `stackgen lint` enforces for the profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    pub level: PolicyLevel,
    pub allow_public_binds: bool,
    pub require_redis_auth: bool,
    pub forbid_default_credentials: bool,
    pub forbid_grafana_open_access: bool,
    pub require_pinned_images: bool,
    pub require_slack_webhook: bool,
    pub require_retention_size: bool,
    pub require_private_secret_files: bool,
}

/// The fully resolved stack of one profile: no `Option` left but those the contract has.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stack {
    pub name: String,
    pub profile: String,
    pub redis: Redis,
    pub redis_exporter: Exporter,
    pub prometheus: Prometheus,
    pub alertmanager: Alertmanager,
    pub grafana: Grafana,
    pub runbook_base_url: String,
    pub alerts: Vec<AlertSettings>,
    /// Secret name → where its value comes from.
    pub secrets: BTreeMap<String, SecretUse>,
    pub policy: Policy,
}

impl Stack {
    pub fn services(&self) -> [&Service; 5] {
        [
            &self.redis.service,
            &self.redis_exporter.service,
            &self.prometheus.service,
            &self.alertmanager.service,
            &self.grafana.service,
        ]
    }
}

/// The documents a stack is resolved from, for locating its keys.
pub struct Sources<'a> {
    pub stack: &'a Source,
    pub profile: &'a Source,
}

impl Sources<'_> {
    /// Where a key's value comes from: the profile when it sets the key, else `stack.toml`.
    pub fn locate(&self, path: &str) -> Location {
        self.profile
            .locate(path)
            .unwrap_or_else(|| self.stack.locate_nearest(path))
    }

    /// The first of these keys that either document sets, else the first: where an error
    /// about their combination is best shown.
    pub fn first_set<'p>(&self, paths: &[&'p str]) -> &'p str {
        let set = |p: &&&str| self.profile.locate(p).is_some() || self.stack.locate(p).is_some();
        paths.iter().find(set).unwrap_or(&paths[0])
    }
}

fn duration(text: &str) -> Duration {
    text.parse().expect("built-in durations parse")
}

fn size(text: &str) -> Size {
    text.parse().expect("built-in sizes parse")
}

/// Resolves `stack.toml` under one profile. All problems found come back together.
pub fn resolve(
    stack_file: &StackFile,
    profile_name: &str,
    profile: &ProfileFile,
    sources: &Sources<'_>,
) -> Result<Stack, Vec<Diagnostic>> {
    let raw = stack_file.clone().combine(profile.overlay());
    let mut errors = Vec::new();
    let mut error = |code: &'static str, path: &str, message: String| {
        errors.push(Diagnostic {
            location: sources.locate(path),
            code,
            message,
        });
    };

    let meta = raw.stack.unwrap_or_default();
    let name = meta.name.unwrap_or_default();
    if name.is_empty() {
        error(
            "SG011",
            "stack",
            "missing key `stack.name`: the project name is required".into(),
        );
    } else if !name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        error(
            "SG011",
            "stack.name",
            format!(
                "invalid project name `{name}`: use lower-case letters, digits, `-` and `_`, \
                 starting with a letter or digit"
            ),
        );
    }

    let mut service = |table: &'static str,
                       name: &'static str,
                       enabled: Option<bool>,
                       image: Option<String>,
                       bind: Option<String>,
                       port: Option<u16>,
                       defaults: (&str, u16)| {
        let image = image.unwrap_or_else(|| defaults.0.to_string());
        if image.trim().is_empty() {
            error(
                "SG011",
                &format!("{table}.image"),
                "`image` must not be empty".into(),
            );
        }
        let bind = bind.unwrap_or_else(|| "127.0.0.1".to_string());
        if bind.parse::<IpAddr>().is_err() {
            error(
                "SG011",
                &format!("{table}.bind"),
                format!(
                    "`bind` must be an IP address such as `127.0.0.1` or `0.0.0.0`, not `{bind}`"
                ),
            );
        }
        let port = port.unwrap_or(defaults.1);
        if port == 0 {
            error(
                "SG011",
                &format!("{table}.port"),
                "`port` must be between 1 and 65535".into(),
            );
        }
        let host = if bind.contains(':') {
            format!("[{bind}]")
        } else {
            bind.clone()
        };
        Service {
            name,
            table,
            enabled: enabled.unwrap_or(true),
            image,
            publish: format!("{host}:{port}:{}", defaults.1),
            bind,
            port,
            container_port: defaults.1,
        }
    };

    let r = raw.redis.unwrap_or_default();
    let redis_service = service(
        "redis",
        "redis",
        Some(true),
        r.image,
        r.bind,
        r.port,
        ("redis:7.2", 6379),
    );
    let e = raw.redis_exporter.unwrap_or_default();
    let exporter_service = service(
        "redis_exporter",
        "redis-exporter",
        e.enabled,
        e.image,
        e.bind,
        e.port,
        ("oliver006/redis_exporter:v1.62.0", 9121),
    );
    let p = raw.prometheus.unwrap_or_default();
    let prometheus_service = service(
        "prometheus",
        "prometheus",
        p.enabled,
        p.image,
        p.bind,
        p.port,
        ("prom/prometheus:v2.53.0", 9090),
    );
    let a = raw.alertmanager.unwrap_or_default();
    let alertmanager_service = service(
        "alertmanager",
        "alertmanager",
        a.enabled,
        a.image,
        a.bind,
        a.port,
        ("prom/alertmanager:v0.27.0", 9093),
    );
    let g = raw.grafana.unwrap_or_default();
    let grafana_service = service(
        "grafana",
        "grafana",
        g.enabled,
        g.image,
        g.bind,
        g.port,
        ("grafana/grafana:11.1.0", 3000),
    );

    let memory_limit = r.memory_limit.unwrap_or(size("2GiB"));
    let maxmemory = r.maxmemory.unwrap_or(size("1536MiB"));
    if maxmemory >= memory_limit {
        error(
            "SG002",
            sources.first_set(&["redis.maxmemory", "redis.memory_limit"]),
            format!(
                "`maxmemory` ({maxmemory}) must be below `memory_limit` ({memory_limit}): Redis \
                 needs headroom for forks and buffers"
            ),
        );
    }
    if maxmemory.bytes() == 0 {
        error(
            "SG011",
            "redis.maxmemory",
            "`maxmemory` must be above zero".into(),
        );
    }

    let mut positive = |path: &str, value: Option<Duration>, default: &str| {
        let value = value.unwrap_or(duration(default));
        if value.millis() == 0 {
            error(
                "SG010",
                path,
                format!("`{}` must be above zero", last_key(path)),
            );
        }
        value
    };
    let exporter_interval = positive("redis_exporter.scrape_interval", e.scrape_interval, "10s");
    let retention_time = positive("prometheus.retention_time", p.retention_time, "200h");
    let scrape_interval = positive("prometheus.scrape_interval", p.scrape_interval, "15s");
    let scrape_timeout = positive("prometheus.scrape_timeout", p.scrape_timeout, "10s");
    let evaluation_interval = positive(
        "prometheus.evaluation_interval",
        p.evaluation_interval,
        "15s",
    );
    let group_wait = positive("alertmanager.group_wait", a.group_wait, "30s");
    let group_interval = positive("alertmanager.group_interval", a.group_interval, "5m");
    let repeat_interval = positive("alertmanager.repeat_interval", a.repeat_interval, "4h");
    if let Some(size) = p.retention_size
        && size.bytes() == 0
    {
        error(
            "SG010",
            "prometheus.retention_size",
            "`retention_size` must be above zero".into(),
        );
    }
    // Prometheus refuses a timeout above the interval of any job that inherits it.
    // The exporter's job gets its own timeout, capped by its interval; the global one must
    // fit the global interval.
    if scrape_timeout > scrape_interval {
        error(
            "SG004",
            sources.first_set(&["prometheus.scrape_timeout", "prometheus.scrape_interval"]),
            format!(
                "`scrape_timeout` ({scrape_timeout}) must not be above `scrape_interval` ({scrape_interval})"
            ),
        );
    }

    let mut secrets = BTreeMap::new();
    let mut add_secret =
        |key: &'static str, name: &str, secret: Option<Secret>| {
            let secret = secret?;
            // Neither message shows the text: a value pasted where its reference belongs is a
            // secret.
            match &secret {
            Secret::File(path) if path.contains("://") || path.chars().any(char::is_whitespace) => {
                error(
                    "SG202",
                    &format!("{key}.file"),
                    "`file` does not look like a path (value not shown): put the secret in a \
                     file and name that file here"
                        .into(),
                )
            }
            Secret::File(path) if path.starts_with('/') || path.starts_with('\\') => error(
                "SG202",
                &format!("{key}.file"),
                "secret files are relative to the folder of stack.toml; an absolute path would \
                 end up in the generated files"
                    .into(),
            ),
            Secret::Env(variable)
                if variable.starts_with(|c: char| c.is_ascii_digit())
                    || !variable.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                error(
                    "SG011",
                    &format!("{key}.env"),
                    "`env` must name an environment variable: letters, digits and `_` (value \
                     not shown)"
                        .into(),
                )
            }
            _ => {}
        }
            secrets.insert(
                name.to_string(),
                SecretUse {
                    key,
                    source: secret,
                },
            );
            Some(())
        };
    let auth = add_secret("redis.password", "redis_password", r.password).is_some();
    let slack_table = a.slack.unwrap_or_default();
    let webhook = if alertmanager_service.enabled {
        add_secret(
            "alertmanager.slack.webhook_url",
            "slack_webhook_url",
            slack_table.webhook_url,
        )
        .is_some()
    } else {
        false
    };
    let admin_password = if grafana_service.enabled {
        add_secret(
            "grafana.admin_password",
            "grafana_admin_password",
            g.admin_password,
        )
        .is_some()
    } else {
        false
    };

    let admin_user = g.admin_user.unwrap_or_else(|| "admin".into());
    if admin_user.trim().is_empty() {
        error(
            "SG011",
            "grafana.admin_user",
            "`admin_user` must not be empty".into(),
        );
    }
    let channel = slack_table
        .channel
        .unwrap_or_else(|| "#redis-alerts".into());
    if channel.trim().is_empty() {
        error(
            "SG011",
            "alertmanager.slack.channel",
            "`channel` must not be empty".into(),
        );
    }

    let alerts_table = raw.alerts.unwrap_or_default();
    let t = alerts_table.clone();
    let catalogue: [CatalogueEntry; 10] = [
        (
            "redis_down",
            t.redis_down.into(),
            None,
            "1m",
            Severity::Critical,
        ),
        (
            "exporter_down",
            t.exporter_down.into(),
            None,
            "2m",
            Severity::Critical,
        ),
        (
            "high_latency",
            t.high_latency.into(),
            Some(("threshold_ms", 10.0, 0.0, None)),
            "5m",
            Severity::Warning,
        ),
        (
            "low_throughput",
            t.low_throughput.into(),
            Some(("threshold_ops_per_sec", 1000.0, 0.0, None)),
            "10m",
            Severity::Warning,
        ),
        (
            "memory_pressure",
            t.memory_pressure.into(),
            Some(("threshold_percent", 90.0, 0.0, Some(100.0))),
            "5m",
            Severity::Warning,
        ),
        (
            "buffer_overflow",
            t.buffer_overflow.into(),
            None,
            "2m",
            Severity::Critical,
        ),
        (
            "rejected_connections",
            t.rejected_connections.into(),
            None,
            "1m",
            Severity::Warning,
        ),
        (
            "high_error_rate",
            t.high_error_rate.into(),
            Some(("threshold_per_sec", 1.0, 0.0, None)),
            "5m",
            Severity::Warning,
        ),
        (
            "persistence_failing",
            t.persistence_failing.into(),
            None,
            "1m",
            Severity::Critical,
        ),
        (
            "alertmanager_down",
            t.alertmanager_down.into(),
            None,
            "2m",
            Severity::Critical,
        ),
    ];
    let mut alerts = Vec::new();
    for (key, parts, threshold, default_for, default_severity) in catalogue {
        let threshold = threshold.map(|(name, default, min, max)| {
            let value = parts.threshold.unwrap_or(default);
            let in_range = value > min && max.is_none_or(|max| value < max);
            if !in_range || !value.is_finite() {
                let range = match max {
                    Some(max) => format!("between {min} and {max}, exclusive"),
                    None => format!("above {min}"),
                };
                error(
                    "SG008",
                    &format!("alerts.{key}.{name}"),
                    format!("`{name}` must be {range}, not {value}"),
                );
            }
            value
        });
        alerts.push(AlertSettings {
            key,
            enabled: parts.enabled.unwrap_or(true),
            r#for: parts.r#for.unwrap_or(duration(default_for)),
            severity: parts.severity.unwrap_or(default_severity),
            threshold,
        });
    }
    let runbook_base_url = alerts_table
        .runbook_base_url
        .unwrap_or_else(|| "https://runbooks.example.com/redis".into());

    let services = [
        &redis_service,
        &exporter_service,
        &prometheus_service,
        &alertmanager_service,
        &grafana_service,
    ];
    for (i, later) in services.iter().enumerate() {
        let clash = services[..i].iter().find(|earlier| {
            earlier.enabled
                && later.enabled
                && earlier.port == later.port
                && binds_overlap(&earlier.bind, &later.bind)
        });
        if let Some(earlier) = clash {
            let (later_key, earlier_key) = (
                format!("{}.port", later.table),
                format!("{}.port", earlier.table),
            );
            error(
                "SG007",
                sources.first_set(&[&later_key, &earlier_key]),
                format!(
                    "host port {} is already published by `{}`; two services cannot share one host port",
                    later.port, earlier.table
                ),
            );
        }
    }

    let policy = resolve_policy(profile.policy.clone().unwrap_or_default());
    if !errors.is_empty() {
        errors.sort();
        errors.dedup();
        return Err(errors);
    }

    Ok(Stack {
        name,
        profile: profile_name.to_string(),
        redis: Redis {
            service: redis_service,
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
        },
        redis_exporter: Exporter {
            service: exporter_service,
            scrape_interval: exporter_interval,
            scrape_timeout: scrape_timeout.min(exporter_interval),
        },
        prometheus: Prometheus {
            service: prometheus_service,
            retention_time,
            retention_size: p.retention_size.map(Size::prometheus),
            scrape_interval,
            scrape_timeout,
            evaluation_interval,
        },
        alertmanager: Alertmanager {
            service: alertmanager_service,
            group_wait,
            group_interval,
            repeat_interval,
            slack: webhook.then_some(Slack {
                channel,
                send_resolved: slack_table.send_resolved.unwrap_or(true),
            }),
        },
        grafana: Grafana {
            service: grafana_service,
            admin_user,
            admin_password,
            allow_sign_up: g.allow_sign_up.unwrap_or(false),
            anonymous_access: g.anonymous_access.unwrap_or(false),
        },
        runbook_base_url,
        alerts,
        secrets,
        policy,
    })
}

/// An alert's key, its settings, its threshold (key, default, exclusive minimum, exclusive
/// maximum) if it has one, its default `for` and its default severity.
type CatalogueEntry = (
    &'static str,
    AlertParts,
    Option<(&'static str, f64, f64, Option<f64>)>,
    &'static str,
    Severity,
);

fn last_key(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

fn is_wildcard(bind: &str) -> bool {
    bind.parse::<IpAddr>().is_ok_and(|ip| ip.is_unspecified())
}

fn binds_overlap(a: &str, b: &str) -> bool {
    a == b || is_wildcard(a) || is_wildcard(b)
}

fn resolve_policy(p: PolicyTable) -> Policy {
    Policy {
        level: p.level.unwrap_or(PolicyLevel::Warning),
        allow_public_binds: p.allow_public_binds.unwrap_or(true),
        require_redis_auth: p.require_redis_auth.unwrap_or(false),
        forbid_default_credentials: p.forbid_default_credentials.unwrap_or(false),
        forbid_grafana_open_access: p.forbid_grafana_open_access.unwrap_or(false),
        require_pinned_images: p.require_pinned_images.unwrap_or(false),
        require_slack_webhook: p.require_slack_webhook.unwrap_or(false),
        require_retention_size: p.require_retention_size.unwrap_or(false),
        require_private_secret_files: p.require_private_secret_files.unwrap_or(false),
    }
}
