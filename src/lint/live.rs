//! `stackgen lint --live`: the rendered rules and dashboard asked against the running
//! Prometheus. Each rule, and each panel query, reads metrics; a rule whose metrics Prometheus
//! has never held (no series of that name in its whole database) can never fire. `or` needs
//! one side, `unless` only its left; everything else needs all it reads.

use std::collections::BTreeSet;

use promql_parser::parser::{self, Expr};
use serde_json::Value;

use super::generated_location;
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::health::http;
use crate::model::{Collector, Stack};
use crate::render::{Tree, rules};

const RULES: &str = "prometheus/rules/redis-alerts.yml";
const DASHBOARD: &str = "grafana/dashboards/redis.json";

/// Metrics the exporter reports only in a state, and that state: a rule that reads one is
/// waiting for it, not broken.
const STATEFUL: &[(&str, &str)] = &[
    (
        "redis_connected_slave_",
        "a replica is connected to the target",
    ),
    ("redis_master_", "the target is a replica"),
    ("redis_slave_", "the target is a replica"),
    (
        "redis_errors_total",
        "Redis has answered an error of that kind",
    ),
    ("redis_sentinel_", "a target is a Sentinel"),
    ("redis_cluster_", "a target is a node of a Redis Cluster"),
    (
        "redis_latency_percentiles_usec",
        "Redis 7 or later has run a command",
    ),
];

/// What an expression needs present to return anything.
#[derive(Debug)]
enum Needs {
    Metric(String),
    All(Vec<Needs>),
    Any(Vec<Needs>),
}

fn needs(expr: &Expr) -> Needs {
    match expr {
        Expr::VectorSelector(selector) => selector
            .name
            .clone()
            .map_or(Needs::All(vec![]), Needs::Metric),
        Expr::MatrixSelector(matrix) => needs(&Expr::VectorSelector(matrix.vs.clone())),
        Expr::Aggregate(aggregate) => needs(&aggregate.expr),
        Expr::Binary(binary) => match binary.op.to_string().to_lowercase().as_str() {
            "or" => Needs::Any(vec![needs(&binary.lhs), needs(&binary.rhs)]),
            "unless" => needs(&binary.lhs),
            _ => Needs::All(vec![needs(&binary.lhs), needs(&binary.rhs)]),
        },
        Expr::Unary(unary) => needs(&unary.expr),
        Expr::Paren(paren) => needs(&paren.expr),
        Expr::Subquery(subquery) => needs(&subquery.expr),
        // absent() returns something exactly when what it reads is missing.
        Expr::Call(call) if call.func.name.starts_with("absent") => Needs::All(vec![]),
        Expr::Call(call) => Needs::All(call.args.args.iter().map(|a| needs(a)).collect()),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => Needs::All(vec![]),
    }
}

/// The metrics whose absence keeps `needs` from being met, if it is not.
fn missing(needs: &Needs, present: &BTreeSet<String>) -> Option<BTreeSet<String>> {
    match needs {
        Needs::Metric(name) if present.contains(name) => None,
        Needs::Metric(name) => Some(BTreeSet::from([name.clone()])),
        Needs::All(all) => {
            let lacking: BTreeSet<String> = all
                .iter()
                .filter_map(|n| missing(n, present))
                .flatten()
                .collect();
            (!lacking.is_empty()).then_some(lacking)
        }
        Needs::Any(any) => {
            let each: Vec<BTreeSet<String>> = any
                .iter()
                .map(|n| missing(n, present))
                .collect::<Option<_>>()?;
            Some(each.into_iter().flatten().collect())
        }
    }
}

/// What reads metrics: a rule (`alert` or `record` name) or a dashboard panel, and its query.
struct Reader {
    what: String,
    /// The `stack.toml` key of the alert's table, for a catalogue alert.
    key: Option<String>,
    file: &'static str,
    expr: String,
}

fn readers(stack: &Stack, tree: &Tree) -> Vec<Reader> {
    let mut found = Vec::new();
    let rules_file = tree
        .get(RULES)
        .and_then(|t| crate::yaml::from_str::<Value>(t).ok());
    let all_rules = rules_file.iter().flat_map(|file| {
        let groups = file["groups"].as_array().into_iter().flatten();
        groups.flat_map(|g| g["rules"].as_array().into_iter().flatten())
    });
    for rule in all_rules {
        let name = rule["alert"].as_str().or(rule["record"].as_str());
        let key = rules::active(stack)
            .find(|a| Some(a.kind.name()) == name)
            .map(|a| format!("alerts.{}", a.kind.key()));
        found.push(Reader {
            what: name.unwrap_or("a rule").to_string(),
            key,
            file: RULES,
            expr: rule["expr"].as_str().unwrap_or_default().to_string(),
        });
    }
    let dashboard = tree
        .get(DASHBOARD)
        .and_then(|t| serde_json::from_str::<Value>(t).ok());
    for panel in dashboard
        .iter()
        .flat_map(|d| d["panels"].as_array().into_iter().flatten())
    {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().unwrap_or_default();
            found.push(Reader {
                what: format!("the dashboard panel {}", panel["title"]),
                key: None,
                file: DASHBOARD,
                // Grafana's variables, as Grafana fills them in.
                expr: expr
                    .replace("$__rate_interval", "5m")
                    .replace("$target", ".*"),
            });
        }
    }
    found
}

/// Every metric name the Prometheus at `host:port` holds.
fn names(host: &str, port: u16) -> Result<BTreeSet<String>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let path = "/api/v1/label/__name__/values";
    let response = runtime
        .block_on(http::get(host, port, path))
        .map_err(|e| e.to_string())?;
    if response.status != 200 {
        return Err(format!("it answered {} to {path}", response.status));
    }
    let answer: Value = serde_json::from_str(&response.body).map_err(|e| e.to_string())?;
    let data = answer["data"]
        .as_array()
        .ok_or("its answer holds no names")?;
    Ok(data
        .iter()
        .filter_map(|v| v.as_str().map(String::from))
        .collect())
}

/// Asks the profile's running Prometheus for the metrics every rule and panel of `tree` reads.
pub(super) fn live(c: &mut Collector<'_>, stack: &Stack, tree: &Tree) {
    let service = &stack.prometheus.service;
    if stack.kubernetes.is_some() || !service.enabled {
        c.at(
            Code::LiveUnreachable,
            Severity::Error,
            "stack.target",
            "`lint --live` asks the Prometheus a compose profile runs on this machine: this \
             profile runs none"
                .into(),
            "run `lint --live` on a compose profile whose Prometheus is on",
        );
        return;
    }
    let host = http::reach(&service.bind);
    let present = match names(host, service.port) {
        Ok(names) => names,
        Err(why) => {
            c.at(
                Code::LiveUnreachable,
                Severity::Error,
                "prometheus.port",
                format!(
                    "the running Prometheus at {host}:{} cannot be asked: {why}",
                    service.port
                ),
                &format!("start the stack first: `stackgen up -p {}`", stack.profile),
            );
            return;
        }
    };
    for reader in readers(stack, tree) {
        let Ok(parsed) = parser::parse(&reader.expr) else {
            continue;
        };
        let needs = needs(&parsed);
        let Some(lacking) = missing(&needs, &present) else {
            continue;
        };
        let lacking: Vec<String> = lacking.into_iter().collect();
        let state = lacking.iter().find_map(|metric| {
            STATEFUL
                .iter()
                .find(|(prefix, _)| metric.starts_with(prefix))
                .map(|(_, state)| *state)
        });
        let (severity, why) = match state {
            Some(state) => (Severity::Note, format!("it shows once {state}")),
            None => (
                Severity::Warning,
                "the exporter or Redis may be too old, or the feature off".to_string(),
            ),
        };
        let message = format!(
            "{} reads {}, which the running Prometheus has never held: {why}",
            reader.what,
            lacking.join(", ")
        );
        let hint = "check the metric against the exporter's /metrics, or turn the alert off";
        // At the alert's table where stack.toml has one, else at the generated file.
        match reader.key.as_deref().filter(|key| c.sources.is_set(key)) {
            Some(key) => c.at(Code::LiveMetricAbsent, severity, key, message, hint),
            None => c.push(Diagnostic {
                location: generated_location(&format!(
                    "generated/{}/{}",
                    stack.profile, reader.file
                )),
                code: Code::LiveMetricAbsent,
                severity,
                message,
                hint: hint.into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lacking(expr: &str, present: &[&str]) -> Option<Vec<String>> {
        let present = present.iter().map(|s| s.to_string()).collect();
        missing(&needs(&parser::parse(expr).unwrap()), &present).map(|m| m.into_iter().collect())
    }

    #[test]
    fn a_rule_needs_what_it_reads_one_side_of_an_or_and_the_left_of_an_unless() {
        assert_eq!(lacking("redis_up == 0", &["redis_up"]), None);
        assert_eq!(lacking("redis_up == 0", &[]), Some(vec!["redis_up".into()]));
        let fork = "(redis_latest_fork_seconds or redis_latest_fork_usec / 1e6) > 0.5";
        assert_eq!(lacking(fork, &["redis_latest_fork_seconds"]), None);
        assert_eq!(
            lacking(fork, &[]),
            Some(vec![
                "redis_latest_fork_seconds".into(),
                "redis_latest_fork_usec".into()
            ])
        );
        let ratio = "rate(a[5m]) / rate(b[5m]) > 1 and on (instance) c";
        assert_eq!(lacking(ratio, &["a", "c"]), Some(vec!["b".into()]));
        assert_eq!(lacking("a unless b", &["a"]), None);
        assert_eq!(lacking("absent(a)", &[]), None);
        assert_eq!(lacking("vector(1)", &[]), None);
        assert_eq!(
            lacking("max_over_time(rate(a[5m])[1h:1m]) > 0", &[]),
            Some(vec!["a".into()])
        );
    }
}
