//! What a change means, read from the two rendered trees of a profile: alerts added and
//! removed, an alert's `for`, severity or expression (its threshold) before → after, receivers
//! added and removed and routes changed, and host ports opened and closed.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::render::Tree;

const RULES: &str = "prometheus/rules/redis-alerts.yml";
const ALERTMANAGER: &str = "alertmanager/alertmanager.yml";
const COMPOSE: &str = "compose.yaml";

fn parsed(tree: &Tree, path: &str) -> Value {
    (tree.get(path))
        .and_then(|text| crate::yaml::from_str(text).ok())
        .unwrap_or(Value::Null)
}

/// Each alerting rule, by group and name: (`for`, severity, expression).
fn alerts(tree: &Tree) -> BTreeMap<String, (String, String, String)> {
    let file = parsed(tree, RULES);
    let mut found = BTreeMap::new();
    for group in file["groups"].as_array().into_iter().flatten() {
        for rule in group["rules"].as_array().into_iter().flatten() {
            let Some(alert) = rule["alert"].as_str() else {
                continue;
            };
            let text = |v: &Value| v.as_str().unwrap_or("0s").to_string();
            let key = match group["name"].as_str() {
                Some("redis") | None => alert.to_string(),
                Some(group) => format!("{alert} ({group})"),
            };
            let value = (
                text(&rule["for"]),
                text(&rule["labels"]["severity"]),
                text(&rule["expr"]),
            );
            found.insert(key, value);
        }
    }
    found
}

/// Every host port the compose file publishes, as `service host:port`.
fn ports(tree: &Tree) -> Vec<String> {
    let file = parsed(tree, COMPOSE);
    let mut found = Vec::new();
    for (service, body) in file["services"].as_object().into_iter().flatten() {
        for port in body["ports"].as_array().into_iter().flatten() {
            let port = port.as_str().map_or_else(|| port.to_string(), String::from);
            let published = port
                .rsplit_once(':')
                .map_or(port.as_str(), |(host, _)| host);
            found.push(format!("{service} {published}"));
        }
    }
    found
}

/// The receivers' names, and the route tree as text.
fn routing(tree: &Tree) -> (Vec<String>, String) {
    let file = parsed(tree, ALERTMANAGER);
    let receivers = (file["receivers"].as_array().into_iter().flatten())
        .filter_map(|r| r["name"].as_str().map(String::from))
        .collect();
    (receivers, file["route"].to_string())
}

/// One line per change of meaning from `old` to `new`.
pub(crate) fn meaning(old: &Tree, new: &Tree) -> Vec<String> {
    let mut lines = Vec::new();
    let (before, after) = (alerts(old), alerts(new));
    for (name, (r#for, severity, expr)) in &after {
        let Some((for_was, severity_was, expr_was)) = before.get(name) else {
            lines.push(format!("alert added: {name}"));
            continue;
        };
        if for_was != r#for {
            lines.push(format!("{name}: for {for_was} → {for}"));
        }
        if severity_was != severity {
            lines.push(format!("{name}: severity {severity_was} → {severity}"));
        }
        if expr_was != expr {
            lines.push(format!("{name}: `{expr_was}` → `{expr}`"));
        }
    }
    for name in before.keys().filter(|name| !after.contains_key(*name)) {
        lines.push(format!("alert removed: {name}"));
    }
    let ((receivers_was, route_was), (receivers, route)) = (routing(old), routing(new));
    for receiver in receivers.iter().filter(|r| !receivers_was.contains(r)) {
        lines.push(format!("receiver added: {receiver}"));
    }
    for receiver in receivers_was.iter().filter(|r| !receivers.contains(r)) {
        lines.push(format!("receiver removed: {receiver}"));
    }
    if route_was != route && old.contains_key(ALERTMANAGER) && new.contains_key(ALERTMANAGER) {
        lines.push("Alertmanager's routes changed".into());
    }
    let (ports_was, ports_now) = (ports(old), ports(new));
    for port in ports_now.iter().filter(|p| !ports_was.contains(p)) {
        lines.push(format!("port opened: {port}"));
    }
    for port in ports_was.iter().filter(|p| !ports_now.contains(p)) {
        lines.push(format!("port closed: {port}"));
    }
    lines
}
