//! The secrets a stack reads, judged without ever being shown: present, a regular file inside
//! the project, private, non-empty, one line, not `admin`, shaped like a Slack webhook.

use std::path::{Component, Path};

use super::level;
use crate::diagnostic::{Code, Severity};
use crate::model::stack::{Declared, GRAFANA_ADMIN_PASSWORD, SLACK_WEBHOOK_URL};
use crate::model::units::Secret;
use crate::model::{Collector, Stack};

pub fn secrets(c: &mut Collector<'_>, stack: &Stack, dir: &Path, strict: bool) {
    let missing = if strict {
        Severity::Error
    } else {
        Severity::Warning
    };
    for Declared {
        name,
        key: declared,
        source,
    } in stack.declared_secrets()
    {
        let found = match source {
            Secret::File(relative) => {
                file_value(c, stack, &name, &declared, relative, dir, missing)
            }
            Secret::Env(variable) => env_value(c, &name, &declared, variable, missing),
            // In the cluster: nothing here can read it.
            Secret::Kubernetes { .. } => None,
        };
        if let Some((key, value)) = found {
            judge(c, stack, &name, &key, value.trim());
        }
    }
}

/// The value of a secret file, after checking where it is and who can read it.
fn file_value(
    c: &mut Collector<'_>,
    stack: &Stack,
    name: &str,
    declared: &str,
    relative: &str,
    dir: &Path,
    missing: Severity,
) -> Option<(String, String)> {
    let key = format!("{declared}.file");
    let path = Path::new(relative);
    if path.components().any(|c| matches!(c, Component::ParentDir)) {
        c.at(
            Code::SecretUnusable,
            Severity::Error,
            &key,
            format!("secret `{name}` is outside the project folder"),
            "keep secret files under the project, e.g. in secrets/",
        );
        return None;
    }
    let full = dir.join(path);
    let Ok(meta) = std::fs::symlink_metadata(&full) else {
        c.at(
            Code::SecretMissing,
            missing,
            &key,
            format!("secret file `{relative}` of `{name}` does not exist"),
            "create it (mode 600) before `stackgen up`",
        );
        return None;
    };
    if !meta.is_file() {
        c.at(
            Code::SecretUnusable,
            Severity::Error,
            &key,
            format!("secret `{relative}` is not a regular file"),
            "point at a plain file, not a folder or a link",
        );
        return None;
    }
    let policy = &stack.policy;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if policy.require_private_secret_files && mode & 0o077 != 0 {
            c.at(
                Code::SecretReadableByOthers,
                level(policy.level),
                &key,
                format!(
                    "secret file `{relative}` is readable by group or others (mode {mode:03o})"
                ),
                &format!("chmod 600 {relative}"),
            );
        }
    }
    let value = std::fs::read(&full)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    Some((key, value))
}

fn env_value(
    c: &mut Collector<'_>,
    name: &str,
    declared: &str,
    variable: &str,
    missing: Severity,
) -> Option<(String, String)> {
    let key = format!("{declared}.env");
    match std::env::var(variable) {
        Ok(value) => Some((key, value)),
        Err(_) => {
            c.at(
                Code::SecretMissing,
                missing,
                &key,
                format!("environment variable `{variable}` of `{name}` is not set"),
                "export it before `stackgen up`",
            );
            None
        }
    }
}

/// What a secret's value may not be.
fn judge(c: &mut Collector<'_>, stack: &Stack, name: &str, key: &str, value: &str) {
    let policy = &stack.policy;
    if value.is_empty() {
        c.at(
            Code::SecretUnusable,
            Severity::Error,
            key,
            format!("secret `{name}` is empty"),
            "put the secret's value in it",
        );
    } else if value.contains(['\n', '\r']) {
        c.at(
            Code::SecretUnusable,
            Severity::Error,
            key,
            format!("secret `{name}` holds a line break (value not shown)"),
            "a secret is one line; Redis would read the rest as configuration",
        );
    } else if name == GRAFANA_ADMIN_PASSWORD
        && value == "admin"
        && policy.forbid_default_credentials
    {
        c.at(
            Code::GrafanaPasswordAdmin,
            level(policy.level),
            key,
            "the Grafana admin password is `admin`".into(),
            "choose a real password",
        );
    } else if name == SLACK_WEBHOOK_URL && !value.starts_with("https://hooks.slack.com/") {
        c.at(
            Code::WebhookNotSlack,
            Severity::Warning,
            key,
            "the Slack webhook does not start with https://hooks.slack.com/ (value not shown)"
                .into(),
            "paste the incoming-webhook URL Slack gave you",
        );
    }
}
