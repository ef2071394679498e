//! The fleet: the managed Redis and every `[[targets]]` entry as the targets one exporter
//! scrapes, the ACL user it logs in as, how it learns their passwords, and the alert routes
//! by label. Names, addresses and labels are checked here, each error at its key.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use super::topology::{self, CLUSTER_LABEL, KIND_LABEL, MANAGED_GROUP};
use super::{Collector, is_variable_name};
use crate::alerts::GROUP_LABEL;
use crate::diagnostic::Code;
use crate::model::grammar;
use crate::model::raw::{RouteTable, TargetKind, TargetTable};
use crate::model::stack::{
    Cluster, PASSWORD_MAP, PasswordMap, Redis, Route, SecretUse, Target, TargetSecret,
    password_map_path,
};
use crate::model::units::Secret;

/// Labels every series of a target gets from stackgen itself.
pub(crate) const RESERVED_LABELS: [&str; 5] =
    ["instance", "job", "target", KIND_LABEL, CLUSTER_LABEL];
const DEFAULT_REDIS_PORT: u16 = 6379;

/// The managed Redis' nodes (when it runs) and every `[[targets]]` entry, checked: the targets
/// scraped by name, and the clusters whose nodes `up` finds.
pub(crate) fn targets(
    c: &mut Collector<'_>,
    redis: &Redis,
    tables: Vec<TargetTable>,
) -> (Vec<Target>, Vec<Cluster>) {
    let mut targets = Vec::new();
    if redis.service.enabled {
        targets.extend(topology::managed_targets(redis));
    } else if tables.is_empty() {
        c.error(
            Code::InvalidValue,
            "redis.enabled",
            "with `[redis] enabled = false` there is nothing to monitor: add `[[targets]]`",
        );
    }
    let managed = targets.len();
    let (mut indexes, mut clusters) = (Vec::new(), Vec::new());
    for (i, table) in tables.into_iter().enumerate() {
        match target(c, i, table) {
            Entry::Target(target) => {
                indexes.push(i);
                targets.push(target);
            }
            Entry::Cluster(cluster) => clusters.push((i, cluster)),
        }
    }
    let (nodes, entries) = targets.split_at(managed);
    let entries: Vec<(usize, &Target)> = indexes.into_iter().zip(entries).collect();
    duplicates(c, nodes, &entries);
    cluster_names(c, &targets, &clusters);
    let clusters = clusters.into_iter().map(|(_, cluster)| cluster).collect();
    (targets, clusters)
}

/// What a `[[targets]]` entry resolves to.
enum Entry {
    Target(Target),
    Cluster(Cluster),
}

/// A `kind = "cluster"` entry: its seeds checked, its password and labels kept for the nodes
/// `up` finds.
pub(crate) fn cluster(
    c: &mut Collector<'_>,
    i: usize,
    name: String,
    seeds: Option<Vec<String>>,
    password: Option<TargetSecret>,
    labels: BTreeMap<String, String>,
) -> Cluster {
    let key = format!("targets.{i}.seeds");
    let seeds = seeds.unwrap_or_default();
    if seeds.is_empty() {
        c.error(
            Code::InvalidValue,
            &format!("targets.{i}"),
            format!("cluster `{name}` has no `seeds`: `seeds = [\"redis://node-1:6379\"]`"),
        );
    }
    let mut parsed = Vec::new();
    for (j, seed) in seeds.iter().enumerate() {
        match parse_address(seed) {
            Ok((_, _, true)) => c.error(
                Code::InvalidValue,
                &format!("{key}.{j}"),
                "stackgen asks a cluster's seeds for its nodes without TLS: give `redis://` \
                 seeds, or list TLS nodes as `kind = \"redis\"` targets",
            ),
            Ok((address, _, false)) => parsed.push(address),
            Err(why) => c.error(
                Code::InvalidValue,
                &format!("{key}.{j}"),
                why.replace("`address`", "a seed"),
            ),
        }
    }
    Cluster {
        name,
        seeds: parsed,
        password,
        labels,
    }
}

/// A cluster's name is its `cluster` label and the prefix of its nodes' target names: unique
/// among the clusters and the targets.
fn cluster_names(c: &mut Collector<'_>, targets: &[Target], clusters: &[(usize, Cluster)]) {
    let mut seen = BTreeSet::new();
    for (i, cluster) in clusters {
        let clash = targets.iter().any(|t| t.name == cluster.name);
        if clash || !seen.insert(cluster.name.as_str()) {
            c.error(
                Code::DuplicateTarget,
                &format!("targets.{i}.name"),
                format!(
                    "a target or cluster named `{}` exists already",
                    cluster.name
                ),
            );
        }
    }
}

fn target(c: &mut Collector<'_>, i: usize, t: TargetTable) -> Entry {
    let key = |field: &str| format!("targets.{i}.{field}");
    topology::check_kind(c, i, &t);
    let kind = t.kind.unwrap_or_default();
    let name = t.name.unwrap_or_default();
    if !is_target_name(&name) {
        c.error(
            Code::InvalidValue,
            &key("name"),
            format!(
                "target name `{name}` is not usable: 1 to 128 letters, digits, `.`, `_`, `-` \
                 and `:`, starting with a letter or digit"
            ),
        );
    }
    let password = password(c, i, t.password);
    let mut labels = t.labels.unwrap_or_default();
    for (label, value) in &labels {
        let at = key(&format!("labels.{label}"));
        label_name(c, &at, label);
        if value.is_empty() {
            c.error(
                Code::InvalidValue,
                &at,
                format!("label `{label}` is empty: Prometheus drops a label with no value"),
            );
        }
        label_value(c, &at, value);
    }
    if kind == TargetKind::Cluster {
        return Entry::Cluster(cluster(c, i, name, t.seeds, password, labels));
    }
    // A Sentinel says what it is; a Redis needs no label to be one (`kind!="sentinel"`).
    if kind != TargetKind::Redis {
        labels.insert(KIND_LABEL.into(), kind.as_str().into());
    }
    let (address, host, tls) = match t.address.as_deref().map(parse_address) {
        Some(Ok(parsed)) => parsed,
        Some(Err(why)) => {
            c.error(Code::InvalidValue, &key("address"), why);
            Default::default()
        }
        None => {
            c.error(
                Code::InvalidValue,
                &format!("targets.{i}"),
                format!("target `{name}` has no `address`: `redis://host:port`"),
            );
            Default::default()
        }
    };
    Entry::Target(Target {
        name,
        address,
        host,
        tls,
        password,
        labels,
        managed: false,
        kind,
        rendered_role: None,
    })
}

/// A target's password, its variable name checked.
fn password(c: &mut Collector<'_>, i: usize, source: Option<Secret>) -> Option<TargetSecret> {
    let source = source?;
    if let Secret::Env(variable) = &source
        && !is_variable_name(variable)
    {
        c.error(
            Code::InvalidValue,
            &format!("targets.{i}.password.env"),
            "`env` must name an environment variable: letters, digits and `_` (value not shown)",
        );
    }
    Some(TargetSecret {
        key: format!("targets.{i}.password"),
        source,
    })
}

/// A label name Prometheus accepts, not reserved by it (`__`) or by stackgen.
fn label_name(c: &mut Collector<'_>, key: &str, label: &str) {
    if !is_label_name(label) || label.starts_with("__") {
        c.error(
            Code::InvalidValue,
            key,
            format!(
                "`{label}` is not a label name: letters, digits and `_`, not starting with a \
                 digit or `__`"
            ),
        );
    } else if RESERVED_LABELS.contains(&label) {
        c.error(
            Code::ReservedLabel,
            key,
            format!(
                "label `{label}` is set by stackgen on every series (from the target's name and \
                 the scrape job): choose another name"
            ),
        );
    }
}

/// A label or matcher value: any text but control characters other than tab and line breaks
/// (DEL, C1 and U+0085 among them), which `kubectl kustomize` refuses or turns into spaces and
/// YAML 1.1 readers break lines at.
fn label_value(c: &mut Collector<'_>, key: &str, value: &str) {
    let control = |ch: char| ch.is_control() && !matches!(ch, '\t' | '\n' | '\r');
    if value.chars().any(control) {
        c.error(
            Code::InvalidValue,
            key,
            "a label or matcher value cannot hold control characters other than tab and line \
             breaks (U+0085 among them): kustomize and YAML 1.1 readers refuse or change them",
        );
    }
}

/// Prometheus' label name grammar: letters, digits and `_`, not starting with a digit.
fn is_label_name(label: &str) -> bool {
    label.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_target_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':'))
}

/// `redis://host[:port]` or `rediss://host[:port]` → (the address with its port, host, TLS).
/// No message repeats the address: a password pasted into it is a secret.
pub(crate) fn parse_address(text: &str) -> Result<(String, String, bool), String> {
    let (scheme, rest) = text.split_once("://").unwrap_or(("", text));
    let tls = match scheme {
        "redis" => false,
        "rediss" => true,
        _ => {
            return Err("`address` must start with `redis://` or `rediss://` (TLS)".into());
        }
    };
    if rest.contains('@') {
        return Err(
            "`address` must not hold a user or password (value not shown): give them \
                    as `username` and `password`"
                .into(),
        );
    }
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains('/') || authority.contains('?') {
        return Err(
            "`address` is `scheme://host:port` only: the exporter reads no database number, \
             path or options from it"
                .into(),
        );
    }
    let (host, port) = split_port(authority)?;
    // Host names are case-insensitive: one spelling, so that `redis://CACHE` and
    // `redis://cache` are one Redis (and one key of the exporter's password map).
    let host = host.to_ascii_lowercase();
    if !grammar::is_host(&host) {
        return Err(format!(
            "`address` has no usable host: `{scheme}://host:port`, the host a name, an IPv4 \
             address or an IPv6 address in brackets"
        ));
    }
    Ok((format!("{scheme}://{host}:{port}"), host, tls))
}

fn split_port(authority: &str) -> Result<(&str, u16), String> {
    let bad_port = || "`address` has a port that is not a number from 1 to 65535".to_string();
    let (host, port) = match authority.rsplit_once(':') {
        // An IPv6 address in brackets without a port.
        Some((host, _)) if authority.ends_with(']') || host.ends_with(':') => {
            (authority, DEFAULT_REDIS_PORT)
        }
        Some((host, port)) => match port.parse::<u16>() {
            Ok(port) if port > 0 => (host, port),
            _ => return Err(bad_port()),
        },
        None => (authority, DEFAULT_REDIS_PORT),
    };
    Ok((host, port))
}

/// A host the exporter reaches without leaving the machine or the stack's own network:
/// loopback, or a name without dots (a container or service on that network).
pub(crate) fn is_local_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare == "localhost" || !bare.contains('.'),
    }
}

/// Two entries of one name or one address, or one that is a node of the managed Redis;
/// `entries` are the `[[targets]]` entries by their index.
fn duplicates(c: &mut Collector<'_>, managed: &[Target], entries: &[(usize, &Target)]) {
    let mut names = BTreeSet::new();
    let mut addresses = BTreeMap::new();
    for &(i, target) in entries {
        let key = |field: &str| format!("targets.{i}.{field}");
        if !target.name.is_empty() && !names.insert(target.name.as_str()) {
            c.error(
                Code::DuplicateTarget,
                &key("name"),
                format!("a target named `{}` exists already", target.name),
            );
        }
        if let Some(node) = managed
            .iter()
            .find(|m| m.name == target.name || m.address == target.address)
        {
            c.error(
                Code::DuplicateTarget,
                &key("name"),
                format!(
                    "`{}` at `{}` is a node of the managed Redis: name and address this target \
                     otherwise",
                    node.name, node.address
                ),
            );
        }
        let managed_group = target.labels.get(GROUP_LABEL).map(String::as_str);
        if managed.len() > 1 && managed_group == Some(MANAGED_GROUP) {
            c.error(
                Code::InvalidValue,
                &key(&format!("labels.{GROUP_LABEL}")),
                format!(
                    "replication group `{MANAGED_GROUP}` is the managed Redis and its replicas: \
                     name this target's group otherwise"
                ),
            );
        }
        if target.address.is_empty() {
            continue;
        }
        if let Some(first) = addresses.insert(target.address.as_str(), target.name.as_str()) {
            c.error(
                Code::DuplicateTarget,
                &key("address"),
                format!(
                    "target `{}` has the address of target `{first}`: one Redis, scraped twice",
                    target.name
                ),
            );
        }
    }
}

/// The one ACL user the exporter logs in as: the `username` every target that names one
/// names. The managed Redis gets that user too.
pub(crate) fn exporter_user(c: &mut Collector<'_>, tables: &[TargetTable]) -> Option<String> {
    let mut user: Option<(usize, &str)> = None;
    for (i, table) in tables.iter().enumerate() {
        let Some(name) = table.username.as_deref() else {
            continue;
        };
        let key = format!("targets.{i}.username");
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !valid {
            c.error(
                Code::InvalidValue,
                &key,
                "`username` must be an ACL user name of letters, digits, `.`, `_` and `-`",
            );
            continue;
        }
        match user {
            None => user = Some((i, name)),
            Some((first, other)) if other != name => c.error(
                Code::MixedUsernames,
                &key,
                format!(
                    "`{name}` differs from `{other}` (targets.{first}.username): redis_exporter \
                     logs in to every target as one ACL user"
                ),
            ),
            Some(_) => {}
        }
    }
    user.map(|(_, name)| name.to_string())
}

/// How the exporter learns passwords; records the assembled map as a secret when `up` must
/// build it.
/// On Kubernetes an init container assembles the map from the Secrets: no file of `up`'s.
pub(crate) fn password_map(
    redis: &Redis,
    (targets, clusters): (&[Target], &[Cluster]),
    profile: &str,
    kubernetes: bool,
    secrets: &mut BTreeMap<String, SecretUse>,
) -> PasswordMap {
    let own = targets.iter().any(|t| !t.managed && t.password.is_some());
    if own || clusters.iter().any(|c| c.password.is_some()) {
        if kubernetes {
            return PasswordMap::Assembled;
        }
        secrets.insert(
            PASSWORD_MAP.into(),
            SecretUse {
                key: "targets",
                source: Secret::File(password_map_path(profile)),
            },
        );
        PasswordMap::Assembled
    } else if redis.service.enabled && redis.auth {
        PasswordMap::FromRedis
    } else {
        PasswordMap::None
    }
}

/// The routes by label, checked; lint says which match no target.
pub(crate) fn routes(c: &mut Collector<'_>, tables: Vec<RouteTable>) -> Vec<Route> {
    let mut routes = Vec::new();
    for (i, table) in tables.into_iter().enumerate() {
        let matchers = table.r#match.unwrap_or_default();
        if matchers.is_empty() {
            c.error(
                Code::InvalidValue,
                &format!("alertmanager.routes.{i}"),
                "a route needs `match`: the labels an alert must carry to take it",
            );
        }
        for (label, value) in &matchers {
            let key = format!("alertmanager.routes.{i}.match.{label}");
            if !is_label_name(label) {
                c.error(
                    Code::InvalidValue,
                    &key,
                    format!("`{label}` is not a label name: letters, digits and `_`"),
                );
            }
            if value.is_empty() {
                c.error(
                    Code::InvalidValue,
                    &key,
                    format!(
                        "`{label} = \"\"` would match every alert without the label: give the \
                         value it must have"
                    ),
                );
            }
            label_value(c, &key, value);
        }
        let channel = table.channel.unwrap_or_default();
        if channel.is_empty() {
            c.error(
                Code::InvalidValue,
                &format!("alertmanager.routes.{i}"),
                "a route needs a `channel`",
            );
        } else if let Err(why) = grammar::slack_channel(&channel) {
            c.error(
                Code::InvalidValue,
                &format!("alertmanager.routes.{i}.channel"),
                why,
            );
        }
        let matcher_lines = matchers
            .iter()
            .map(|(label, value)| {
                let value = value
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n");
                format!("{label}=\"{value}\"")
            })
            .collect();
        routes.push(Route {
            matchers,
            matcher_lines,
            channel,
        });
    }
    routes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_scheme_host_and_port() {
        let ok = |text: &str| parse_address(text).unwrap();
        assert_eq!(
            ok("redis://redis-eu-1.internal:6380"),
            (
                "redis://redis-eu-1.internal:6380".into(),
                "redis-eu-1.internal".into(),
                false
            )
        );
        assert_eq!(ok("rediss://10.0.0.5").0, "rediss://10.0.0.5:6379");
        assert_eq!(ok("redis://[::1]:7000/").0, "redis://[::1]:7000");
        assert_eq!(ok("redis://[::1]").0, "redis://[::1]:6379");
        assert_eq!(ok("redis://CACHE").0, ok("redis://cache").0);
        for bad in [
            "http://x:1",
            "x:6379",
            "redis://user:hunter2@x:6379",
            "redis://x:6379/0",
            "redis://x:0",
            "redis://x:port",
            "redis://",
            "redis://a b:1",
            "redis://...:6379",
            "redis://-h",
            "redis://a..b:1",
        ] {
            let why = parse_address(bad).unwrap_err();
            assert!(!why.contains("hunter2"), "{why}");
        }
    }

    #[test]
    fn local_hosts_are_loopback_or_on_the_stack_network() {
        for local in ["127.0.0.1", "[::1]", "localhost", "redis-eu-1", "cache"] {
            assert!(is_local_host(local), "{local}");
        }
        for remote in ["10.0.0.5", "redis.example.internal", "[2001:db8::1]"] {
            assert!(!is_local_host(remote), "{remote}");
        }
    }
}
