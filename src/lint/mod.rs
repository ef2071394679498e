//! `stackgen lint`: semantic, policy, secret and generated-output checks of one profile's
//! stack. Every finding has a stable code, a severity and a place. Secret values are read
//! only to be judged (present, non-empty, not `admin`, shaped like a webhook), never shown.

pub mod rules;
mod tools;

use std::path::{Component, Path};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::raw::PolicyLevel;
use crate::model::resolve::{Service, Sources};
use crate::model::units::{Duration, Secret};
use crate::model::{Diagnostic, Location, Project, Stack};
use crate::render::Renderer;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    #[serde(flatten)]
    pub location: Location,
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub hint: String,
}

pub struct LintOptions {
    /// Missing secrets and missing checking tools are errors.
    pub strict: bool,
}

/// Lints one profile of a project. Input that does not even resolve comes back as findings.
pub fn lint(project: &Project, profile: &str, options: &LintOptions) -> Result<Vec<Finding>> {
    let stack = match project.resolve(profile) {
        Ok(stack) => stack,
        Err(Error::Input(diagnostics)) => {
            return Ok(diagnostics.into_iter().map(from_diagnostic).collect());
        }
        Err(other) => return Err(other),
    };
    let mut lint = Lint {
        sources: project.sources(profile),
        findings: Vec::new(),
    };
    lint.semantic(&stack);
    lint.policy(&stack);
    lint.secrets(&stack, &project.dir, options.strict);
    let renderer = Renderer::new(&project.templates_dir())?;
    match renderer.render(&stack) {
        Ok(tree) => {
            lint.rendered_rules(&stack, &tree);
            for (file, code, output) in tools::check(&stack.profile, &tree)? {
                lint.tool_finding(&stack, file, code, output, options.strict);
            }
        }
        Err(Error::Generated {
            file,
            template,
            message,
        }) => lint.push(
            "SG301",
            Severity::Error,
            generated_location(&file),
            format!("{message} (rendered from {template})"),
            "fix the template override, or remove it to use the built-in one",
        ),
        Err(other) => return Err(other),
    }
    let mut findings = lint.findings;
    findings.sort();
    findings.dedup();
    Ok(findings)
}

pub fn from_diagnostic(d: Diagnostic) -> Finding {
    let hint = rules::find(d.code).map_or("", |r| r.title);
    Finding {
        location: d.location,
        code: d.code,
        severity: Severity::Error,
        message: d.message,
        hint: format!("{hint}; see `stackgen lint --explain {}`", d.code),
    }
}

fn generated_location(file: &str) -> Location {
    Location {
        file: file.to_string(),
        line: 1,
        column: 1,
    }
}

struct Lint<'a> {
    sources: Sources<'a>,
    findings: Vec<Finding>,
}

fn level(level: PolicyLevel) -> Severity {
    match level {
        PolicyLevel::Error => Severity::Error,
        PolicyLevel::Warning => Severity::Warning,
    }
}

/// `image` is pinned when it names a tag other than `latest`, or a digest.
pub fn is_pinned(image: &str) -> bool {
    if image.contains("@sha256:") {
        return true;
    }
    let name = image.rsplit('/').next().unwrap_or(image);
    match name.rsplit_once(':') {
        Some((_, tag)) => !tag.is_empty() && tag != "latest",
        None => false,
    }
}

impl Lint<'_> {
    fn push(
        &mut self,
        code: &'static str,
        severity: Severity,
        location: Location,
        message: String,
        hint: &str,
    ) {
        self.findings.push(Finding {
            location,
            code,
            severity,
            message,
            hint: hint.to_string(),
        });
    }

    fn at(
        &mut self,
        code: &'static str,
        severity: Severity,
        key: &str,
        message: String,
        hint: &str,
    ) {
        let location = self.sources.locate(key);
        self.push(code, severity, location, message, hint);
    }

    fn semantic(&mut self, stack: &Stack) {
        let redis = &stack.redis;
        if redis.maxmemory_bytes * 5 > redis.memory_limit_bytes * 4 {
            self.at(
                "SG003",
                Severity::Warning,
                "redis.maxmemory",
                format!("`maxmemory` ({}) is above 80 % of `memory_limit` ({})", redis.maxmemory, redis.memory_limit),
                "leave a fifth of the container's memory for forks, client buffers and fragmentation",
            );
        }
        let p = &stack.prometheus;
        if p.service.enabled {
            if p.evaluation_interval < p.scrape_interval {
                self.at(
                    "SG005",
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
            for alert in crate::render::catalogue::active(stack) {
                let interval = if alert.key == "alertmanager_down" {
                    p.scrape_interval
                } else {
                    exporter
                };
                if alert.r#for.millis() > 0 && alert.r#for < interval {
                    self.at(
                        "SG005",
                        Severity::Warning,
                        &format!("alerts.{}.for", alert.key),
                        format!("`for` ({}) is shorter than the scrape interval ({interval}) of the metric it watches", alert.r#for),
                        "use `0s` to fire at once, or at least one scrape interval",
                    );
                }
            }
            let window = Duration::from_millis(5 * 60_000);
            if exporter.millis() * 4 > window.millis() {
                self.at(
                    "SG006",
                    Severity::Error,
                    "redis_exporter.scrape_interval",
                    format!("the alert rules' {window} rate windows hold fewer than 4 scrapes at a {exporter} scrape interval"),
                    "scrape the exporter every 75s or more often",
                );
            }
        }
    }

    fn policy(&mut self, stack: &Stack) {
        let policy = &stack.policy;
        let severity = level(policy.level);
        let profile = &stack.profile;
        let services: Vec<&Service> = stack.services().into_iter().filter(|s| s.enabled).collect();
        for service in &services {
            let wildcard = service
                .bind
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_unspecified());
            if wildcard && !policy.allow_public_binds {
                self.at(
                    "SG101",
                    severity,
                    &format!("{}.bind", service.table),
                    format!("{} publishes port {} on {} (every interface)", service.name, service.port, service.bind),
                    &format!("bind to 127.0.0.1 and reach it through a proxy or tunnel, or allow it in profile {profile}'s [policy]"),
                );
            }
            if policy.require_pinned_images && !is_pinned(&service.image) {
                self.at(
                    "SG105",
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
        if policy.require_redis_auth && !stack.redis.auth {
            self.at(
                "SG102",
                severity,
                "redis.password",
                "Redis has no password".into(),
                "set `redis.password = { file = \"secrets/redis_password.txt\" }`",
            );
        }
        let grafana = &stack.grafana;
        if grafana.service.enabled {
            if policy.forbid_default_credentials && !grafana.admin_password {
                self.at(
                    "SG103",
                    severity,
                    "grafana.admin_password",
                    format!("Grafana's admin `{}` keeps the default password `admin`", grafana.admin_user),
                    "set `grafana.admin_password = { file = \"secrets/grafana_admin_password.txt\" }`",
                );
            }
            if policy.forbid_grafana_open_access {
                for (on, key, what) in [
                    (grafana.allow_sign_up, "grafana.allow_sign_up", "sign-up"),
                    (
                        grafana.anonymous_access,
                        "grafana.anonymous_access",
                        "anonymous access",
                    ),
                ] {
                    if on {
                        self.at(
                            "SG104",
                            severity,
                            key,
                            format!("Grafana {what} is on"),
                            "turn it off; add users as the admin",
                        );
                    }
                }
            }
        }
        if policy.require_slack_webhook
            && stack.alertmanager.service.enabled
            && stack.alertmanager.slack.is_none()
        {
            self.at(
                "SG106",
                severity,
                "alertmanager.slack.webhook_url",
                "no Slack webhook: alerts reach no one".into(),
                "set `alertmanager.slack.webhook_url = { env = \"SLACK_WEBHOOK_URL\" }`",
            );
        }
        if policy.require_retention_size
            && stack.prometheus.service.enabled
            && stack.prometheus.retention_size.is_none()
        {
            self.at(
                "SG107",
                severity,
                "prometheus.retention_size",
                "retention is bounded by time only".into(),
                "set `prometheus.retention_size`, e.g. \"10GiB\"",
            );
        }
    }

    fn secrets(&mut self, stack: &Stack, dir: &Path, strict: bool) {
        let policy = &stack.policy;
        let missing = if strict {
            Severity::Error
        } else {
            Severity::Warning
        };
        for (name, secret) in &stack.secrets {
            let (key, value) = match &secret.source {
                Secret::File(relative) => {
                    let key = format!("{}.file", secret.key);
                    let path = Path::new(relative);
                    if path.components().any(|c| matches!(c, Component::ParentDir)) {
                        self.at(
                            "SG202",
                            Severity::Error,
                            &key,
                            format!("secret `{name}` is outside the project folder"),
                            "keep secret files under the project, e.g. in secrets/",
                        );
                        continue;
                    }
                    let full = dir.join(path);
                    let meta = match std::fs::symlink_metadata(&full) {
                        Ok(meta) => meta,
                        Err(_) => {
                            self.at(
                                "SG201",
                                missing,
                                &key,
                                format!("secret file `{relative}` of `{name}` does not exist"),
                                "create it (mode 600) before `stackgen up`",
                            );
                            continue;
                        }
                    };
                    if !meta.is_file() {
                        self.at(
                            "SG202",
                            Severity::Error,
                            &key,
                            format!("secret `{relative}` is not a regular file"),
                            "point at a plain file, not a folder or a link",
                        );
                        continue;
                    }
                    #[cfg(unix)]
                    {
                        use std::os::unix::fs::PermissionsExt;
                        let mode = meta.permissions().mode() & 0o777;
                        if policy.require_private_secret_files && mode & 0o077 != 0 {
                            self.at("SG203", level(policy.level), &key, format!("secret file `{relative}` is readable by group or others (mode {mode:03o})"), &format!("chmod 600 {relative}"));
                        }
                    }
                    (
                        key,
                        std::fs::read(&full)
                            .map(|b| String::from_utf8_lossy(&b).into_owned())
                            .unwrap_or_default(),
                    )
                }
                Secret::Env(variable) => {
                    let key = format!("{}.env", secret.key);
                    match std::env::var(variable) {
                        Ok(value) => (key, value),
                        Err(_) => {
                            self.at(
                                "SG201",
                                missing,
                                &key,
                                format!("environment variable `{variable}` of `{name}` is not set"),
                                "export it before `stackgen up`",
                            );
                            continue;
                        }
                    }
                }
            };
            let value = value.trim();
            if value.is_empty() {
                self.at(
                    "SG202",
                    Severity::Error,
                    &key,
                    format!("secret `{name}` is empty"),
                    "put the secret's value in it",
                );
            } else if value.contains(['\n', '\r']) {
                self.at(
                    "SG202",
                    Severity::Error,
                    &key,
                    format!("secret `{name}` holds a line break (value not shown)"),
                    "a secret is one line; Redis would read the rest as configuration",
                );
            } else if name == "grafana_admin_password"
                && value == "admin"
                && policy.forbid_default_credentials
            {
                self.at(
                    "SG204",
                    level(policy.level),
                    &key,
                    "the Grafana admin password is `admin`".into(),
                    "choose a real password",
                );
            } else if name == "slack_webhook_url" && !value.starts_with("https://hooks.slack.com/")
            {
                self.at("SG205", Severity::Warning, &key, "the Slack webhook does not start with https://hooks.slack.com/ (value not shown)".into(), "paste the incoming-webhook URL Slack gave you");
            }
        }
    }

    /// Checks on the rendered rules that hold whatever template produced them.
    fn rendered_rules(&mut self, stack: &Stack, tree: &crate::render::Tree) {
        let Some(text) = tree.get("prometheus/rules/redis-alerts.yml") else {
            return;
        };
        let Ok(rules) = crate::yaml::from_str::<serde_json::Value>(text) else {
            return;
        };
        let overflow = rules["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["rules"].as_array().into_iter().flatten())
            .find(|r| r["alert"] == "RedisBufferOverflow");
        let expr = overflow
            .and_then(|r| r["expr"].as_str())
            .unwrap_or_default();
        if stack.redis.maxmemory_policy == "noeviction" && expr.contains("redis_evicted_keys_total")
        {
            self.at(
                "SG009",
                Severity::Error,
                "redis.maxmemory_policy",
                "RedisBufferOverflow watches evictions, which never happen under `noeviction`"
                    .into(),
                "watch rejected writes: redis_errors_total{err=\"OOM\"}",
            );
        }
    }

    fn tool_finding(
        &mut self,
        stack: &Stack,
        file: String,
        code: &'static str,
        output: String,
        strict: bool,
    ) {
        if code == "SG306" {
            let severity = if strict {
                Severity::Error
            } else {
                Severity::Note
            };
            self.push(
                code,
                severity,
                generated_location(&file),
                output,
                "apt-get install prometheus prometheus-alertmanager",
            );
            return;
        }
        // Point at the alert's table in stack.toml when the tool names an alert.
        let mut message = output;
        for alert in crate::render::catalogue::active(stack) {
            let name = crate::render::catalogue::alert_name(alert.key);
            if message.contains(name) {
                let location = self.sources.locate(&format!("alerts.{}", alert.key));
                message.push_str(&format!(" ({name} is configured at {location})"));
            }
        }
        self.push(
            code,
            Severity::Error,
            generated_location(&file),
            message,
            "see the tool's message; a template override is the usual cause",
        );
    }
}
