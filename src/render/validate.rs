//! Checks every rendered file before anything is written: YAML and JSON parse back (duplicate
//! keys are errors), `compose.yaml` and the dashboard pass their formats' published schemas,
//! and every PromQL expression in the rules and the dashboard parses.

use std::sync::LazyLock;

use jsonschema::Validator;
use serde_json::Value;

use super::Tree;

static COMPOSE_SCHEMA: &str = include_str!("../../vendor/schemas/compose-spec.json");
static DASHBOARD_SCHEMA: &str = include_str!("../../vendor/schemas/grafana-dashboard.schema.json");

fn compile(schema: &str) -> Validator {
    let schema: Value = serde_json::from_str(schema).expect("embedded schema is JSON");
    jsonschema::validator_for(&schema).expect("embedded schema compiles")
}

static COMPOSE: LazyLock<Validator> = LazyLock::new(|| compile(COMPOSE_SCHEMA));
static DASHBOARD: LazyLock<Validator> = LazyLock::new(|| compile(DASHBOARD_SCHEMA));

/// The Kubernetes schemas, by `apiVersion` and `kind`: the 1.33 built-in kinds (strict) and
/// the prometheus-operator's custom resources.
const KUBERNETES_SCHEMAS: [(&str, &str, &str); 9] = [
    (
        "v1",
        "ConfigMap",
        include_str!("../../vendor/schemas/kubernetes/v1.33.0-local-strict/configmap-v1.json"),
    ),
    (
        "v1",
        "Service",
        include_str!("../../vendor/schemas/kubernetes/v1.33.0-local-strict/service-v1.json"),
    ),
    (
        "apps/v1",
        "StatefulSet",
        include_str!(
            "../../vendor/schemas/kubernetes/v1.33.0-local-strict/statefulset-apps-v1.json"
        ),
    ),
    (
        "apps/v1",
        "Deployment",
        include_str!(
            "../../vendor/schemas/kubernetes/v1.33.0-local-strict/deployment-apps-v1.json"
        ),
    ),
    (
        "networking.k8s.io/v1",
        "NetworkPolicy",
        include_str!(
            "../../vendor/schemas/kubernetes/v1.33.0-local-strict/networkpolicy-networking-v1.json"
        ),
    ),
    (
        "monitoring.coreos.com/v1",
        "ServiceMonitor",
        include_str!(
            "../../vendor/schemas/kubernetes/monitoring.coreos.com/servicemonitor_v1.json"
        ),
    ),
    (
        "monitoring.coreos.com/v1",
        "PrometheusRule",
        include_str!(
            "../../vendor/schemas/kubernetes/monitoring.coreos.com/prometheusrule_v1.json"
        ),
    ),
    (
        "monitoring.coreos.com/v1alpha1",
        "ScrapeConfig",
        include_str!(
            "../../vendor/schemas/kubernetes/monitoring.coreos.com/scrapeconfig_v1alpha1.json"
        ),
    ),
    (
        "monitoring.coreos.com/v1alpha1",
        "AlertmanagerConfig",
        include_str!(
            "../../vendor/schemas/kubernetes/monitoring.coreos.com/alertmanagerconfig_v1alpha1.json"
        ),
    ),
];
static KUBERNETES_DEFINITIONS: &str =
    include_str!("../../vendor/schemas/kubernetes/v1.33.0-local-strict/_definitions.json");

/// The built-in kinds refer to `/api/_definitions.json`: that is the vendored file, and
/// nothing is ever fetched.
struct Definitions;

impl jsonschema::Retrieve for Definitions {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        if uri.path().as_str().ends_with("/api/_definitions.json") {
            Ok(serde_json::from_str(KUBERNETES_DEFINITIONS)?)
        } else {
            Err(format!("no schema at {uri}").into())
        }
    }
}

static KUBERNETES: LazyLock<Vec<(&str, &str, Validator)>> = LazyLock::new(|| {
    KUBERNETES_SCHEMAS
        .iter()
        .map(|(api, kind, schema)| {
            let schema: Value = serde_json::from_str(schema).expect("embedded schema is JSON");
            let validator = jsonschema::options()
                .with_retriever(Definitions)
                .build(&schema)
                .expect("embedded schema compiles");
            (*api, *kind, validator)
        })
        .collect()
});

/// Validates the files of a Kubernetes tree: each object against its kind's schema (unknown
/// fields are errors), never a Secret, and the kustomization listing every object file.
pub(crate) fn kubernetes(tree: &Tree) -> Result<(), (String, String)> {
    for (path, text) in tree {
        kubernetes_file(path, text, tree).map_err(|message| (path.clone(), message))?;
    }
    Ok(())
}

fn kubernetes_file(path: &str, text: &str, tree: &Tree) -> Result<(), String> {
    let value: Value = crate::yaml::from_str(text)?;
    if path == "kustomization.yaml" {
        let listed: Vec<&str> = pointers(&value, &["resources", "*"]);
        let files: Vec<&str> = tree
            .keys()
            .map(String::as_str)
            .filter(|p| *p != "kustomization.yaml")
            .collect();
        return if listed == files {
            Ok(())
        } else {
            Err(format!("lists {listed:?}, not the object files {files:?}"))
        };
    }
    let api = value["apiVersion"].as_str().unwrap_or_default();
    let kind = value["kind"].as_str().unwrap_or_default();
    let name = value["metadata"]["name"].as_str().unwrap_or_default();
    let object = format!("{kind}/{name}");
    if kind == "Secret" {
        return Err(format!(
            "object {object} is a Secret: stackgen never renders one; secrets are references"
        ));
    }
    let Some((_, _, validator)) = KUBERNETES.iter().find(|(a, k, _)| *a == api && *k == kind)
    else {
        return Err(format!(
            "object {object}: no schema for apiVersion `{api}` kind `{kind}`"
        ));
    };
    schema(validator, &value, &format!("the schema of {kind} ({api})"))
        .map_err(|message| format!("object {object} {message}"))?;
    if kind == "PrometheusRule" {
        for expr in pointers(&value, &["spec", "groups", "*", "rules", "*", "expr"]) {
            promql(expr)?;
        }
    }
    Ok(())
}

/// Grafana's built-in interval variables, as a duration PromQL can parse.
const GRAFANA_VARIABLES: [&str; 3] = ["$__rate_interval", "$__interval", "$__range"];

/// Validates a rendered tree; the error names the file.
pub(crate) fn tree(tree: &Tree) -> Result<(), (String, String)> {
    for (path, text) in tree {
        file(path, text).map_err(|message| (path.clone(), message))?;
    }
    Ok(())
}

fn file(path: &str, text: &str) -> Result<(), String> {
    let value: Value = if path.ends_with(".yml") || path.ends_with(".yaml") {
        crate::yaml::from_str(text)?
    } else if path.ends_with(".json") {
        super::json::from_str(text)?
    } else {
        return Ok(());
    };
    match path {
        "compose.yaml" => schema(&COMPOSE, &value, "the compose specification"),
        "grafana/dashboards/redis.json" => {
            schema(&DASHBOARD, &value, "Grafana's dashboard schema")?;
            for expr in pointers(&value, &["panels", "*", "targets", "*", "expr"]) {
                let mut expr = expr.to_string();
                for variable in GRAFANA_VARIABLES {
                    expr = expr.replace(variable, "5m");
                }
                promql(&expr)?;
            }
            Ok(())
        }
        "prometheus/targets/redis.json" => file_sd(&value),
        "prometheus/rules/redis-alerts.yml" => {
            for expr in pointers(&value, &["groups", "*", "rules", "*", "expr"]) {
                promql(expr)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Prometheus' file-discovery format: a list of groups, each with its target addresses and
/// string labels.
fn file_sd(value: &Value) -> Result<(), String> {
    let groups = value.as_array().ok_or("is not a list of target groups")?;
    for (i, group) in groups.iter().enumerate() {
        let targets = group["targets"].as_array().filter(|t| !t.is_empty());
        let targets_ok = targets.is_some_and(|t| t.iter().all(Value::is_string));
        let labels_ok = group["labels"]
            .as_object()
            .is_some_and(|labels| labels.values().all(Value::is_string));
        let keys_ok = group
            .as_object()
            .is_some_and(|g| g.keys().all(|k| k == "targets" || k == "labels"));
        if !(targets_ok && labels_ok && keys_ok) {
            return Err(format!(
                "target group {i} is not `{{\"targets\": [addresses], \"labels\": {{name: \
                 text}}}}`"
            ));
        }
    }
    Ok(())
}

fn schema(validator: &Validator, value: &Value, name: &str) -> Result<(), String> {
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("at `{}`: {e}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("does not follow {name}: {}", errors.join("; ")))
    }
}

fn promql(expr: &str) -> Result<(), String> {
    promql_parser::parser::parse(expr)
        .map(drop)
        .map_err(|e| format!("PromQL `{expr}` does not parse: {e}"))
}

/// The string values at a path, where `*` walks every element of an array.
fn pointers<'a>(value: &'a Value, path: &[&str]) -> Vec<&'a str> {
    let Some((head, rest)) = path.split_first() else {
        return value.as_str().into_iter().collect();
    };
    match (*head, value) {
        ("*", Value::Array(items)) => items.iter().flat_map(|v| pointers(v, rest)).collect(),
        (key, Value::Object(map)) => map.get(key).map(|v| pointers(v, rest)).unwrap_or_default(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_promql_and_duplicate_keys_are_caught() {
        let rules =
            "groups:\n  - name: r\n    rules:\n      - alert: A\n        expr: 'rate(x[5m] > 1'\n";
        let err = file("prometheus/rules/redis-alerts.yml", rules).unwrap_err();
        assert!(err.contains("does not parse"), "{err}");
        assert!(file("prometheus/prometheus.yml", "a: 1\na: 2\n").is_err());
        let err = file("compose.yaml", "services:\n  r:\n    imag: x\n").unwrap_err();
        assert!(err.contains("compose specification"), "{err}");
        let targets = "prometheus/targets/redis.json";
        assert!(
            file(
                targets,
                r#"[{"targets": ["redis://r:6379"], "labels": {"a": "b"}}]"#
            )
            .is_ok()
        );
        for bad in [
            r#"{}"#,
            r#"[{"targets": []}]"#,
            r#"[{"targets": ["x"], "labels": {"a": 1}}]"#,
        ] {
            assert!(file(targets, bad).is_err(), "{bad}");
        }
    }
}
