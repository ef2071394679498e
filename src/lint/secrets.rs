//! The secrets a stack reads, judged without ever being shown: present, a regular file inside
//! the project, private, a value by stackgen's one rule for secrets (read by
//! `docker::secrets::read`, as `up` reads it), not `admin`, shaped like a Slack webhook.

use std::path::{Component, Path};

use super::level;
use crate::diagnostic::{Code, Severity};
use crate::docker::secrets::{MAX_SECRET_BYTES, read};
use crate::docker::spec::SecretSource;
use crate::model::stack::{Declared, GRAFANA_ADMIN_PASSWORD, HEARTBEAT_URL, SLACK_WEBHOOK_URL};
use crate::model::units::Secret;
use crate::model::{Collector, Stack};

pub(super) fn secrets(c: &mut Collector<'_>, stack: &Stack, dir: &Path, strict: bool) {
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
                file_source(c, stack, &name, &declared, relative, dir, missing)
            }
            Secret::Env(variable) => env_source(c, &name, &declared, variable, missing),
            // In the cluster: nothing here can read it.
            Secret::Kubernetes { .. } => None,
        };
        let Some((key, source)) = found else {
            continue;
        };
        match read(&source) {
            Ok(value) => judge(c, stack, &name, &key, &value),
            Err(why) => c.at(
                Code::SecretUnusable,
                Severity::Error,
                &key,
                format!("secret `{name}`: {why}"),
                &format!(
                    "a secret is one line of UTF-8 text, at most {} KiB: put its value alone in it",
                    MAX_SECRET_BYTES / 1024
                ),
            ),
        }
    }
}

/// Where to read a secret file, after checking where it is and who can read it.
fn file_source(
    c: &mut Collector<'_>,
    stack: &Stack,
    name: &str,
    declared: &str,
    relative: &str,
    dir: &Path,
    missing: Severity,
) -> Option<(String, SecretSource)> {
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
    Some((key, SecretSource::File(full)))
}

fn env_source(
    c: &mut Collector<'_>,
    name: &str,
    declared: &str,
    variable: &str,
    missing: Severity,
) -> Option<(String, SecretSource)> {
    let key = format!("{declared}.env");
    match std::env::var_os(variable) {
        Some(_) => Some((key, SecretSource::Env(variable.to_string()))),
        None => {
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

/// What a secret's value, read by the rule, may not be either.
fn judge(c: &mut Collector<'_>, stack: &Stack, name: &str, key: &str, value: &str) {
    let policy = &stack.policy;
    if name == GRAFANA_ADMIN_PASSWORD && value == "admin" && policy.forbid_default_credentials {
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
    } else if name == HEARTBEAT_URL && !is_http_url(value) {
        c.at(
            Code::HeartbeatNotUrl,
            Severity::Error,
            key,
            "the heartbeat URL is not a whole http:// or https:// URL (value not shown)".into(),
            "paste the whole ping URL the heartbeat service gave you, not a placeholder",
        );
    } else if name == SLACK_WEBHOOK_URL && !is_slack_webhook(value) {
        c.at(
            Code::WebhookNotSlack,
            Severity::Warning,
            key,
            "the Slack webhook cannot be a real one: not https://hooks.slack.com/services/T…/B…/… \
             with letters and digits (value not shown)"
                .into(),
            "paste the whole incoming-webhook URL Slack gave you, not a placeholder",
        );
    }
}

/// `http://host…` or `https://host…`, on one line, with no spaces.
/// A placeholder with `…` in it is none.
fn is_http_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|rest| {
        !rest.is_empty()
            && !rest.starts_with('/')
            && !url.chars().any(|c| c.is_whitespace() || c == '…')
    })
}

/// The shape of a Slack incoming webhook: `https://hooks.slack.com/services/T…/B…/<token>`,
/// letters and digits only — a placeholder with `…` in it is none.
fn is_slack_webhook(url: &str) -> bool {
    let Some(path) = url.strip_prefix("https://hooks.slack.com/services/") else {
        return false;
    };
    let parts: Vec<&str> = path.split('/').collect();
    let word = |part: &str, first: Option<char>| {
        !part.is_empty()
            && first.is_none_or(|c| part.starts_with(c) && part.len() > 1)
            && part.chars().all(|c| c.is_ascii_alphanumeric())
    };
    matches!(parts.as_slice(), [team, bot, token]
        if word(team, Some('T')) && word(bot, Some('B')) && word(token, None))
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_a_whole_slack_webhook_passes() {
        let good = "https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcDEF123ghiJKL456mnoPQR";
        assert!(super::is_slack_webhook(good), "{good}");
        for bad in [
            "https://hooks.slack.com/services/…",
            "https://hooks.slack.com/services/T…/B…/…",
            "https://hooks.slack.com/services/T01/B02",
            "https://hooks.slack.com/services/X01/B02/abc",
            "https://hooks.slack.com/services/T01/B02/abc/",
            "https://hooks.slack.com/workflows/T01/A02/123/abc",
            "http://hooks.slack.com/services/T01/B02/abc",
        ] {
            assert!(!super::is_slack_webhook(bad), "{bad}");
        }
    }
}
