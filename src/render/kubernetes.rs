//! The Kubernetes target: which objects a profile gets (one file each, by kind and name), and
//! what their templates share — labels, selectors, security contexts, resources, the Secret
//! each secret names, the password map's entries. The configuration files inside ConfigMaps are
//! the compose target's own templates, rendered for the same stack.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::alerts::AlertKind;
use crate::model::Stack;
use crate::model::raw::{KubernetesMode, PolicyLevel};
use crate::model::stack::REDIS_PASSWORD;
use crate::model::units::{Secret, Size};

/// A generated object file and when a stack has it. Its template is
/// `templates/kubernetes/<path>`.
pub(crate) struct ObjectFile {
    pub path: &'static str,
    pub template: &'static str,
    pub when: fn(&Stack) -> bool,
}

macro_rules! objects {
    ($($path:literal when $when:expr,)*) => {
        /// Every file of the Kubernetes target, by its path under `generated/<profile>/`.
        pub(crate) const OBJECTS: &[ObjectFile] = &[
            $(ObjectFile {
                path: $path,
                template: include_str!(concat!("../../templates/kubernetes/", $path)),
                when: $when,
            },)*
        ];
    };
}

fn always(_: &Stack) -> bool {
    true
}
fn redis(s: &Stack) -> bool {
    s.redis.service.enabled
}
fn exporter(s: &Stack) -> bool {
    s.redis_exporter.service.enabled
}
/// Whether the stack plugs into kube-prometheus-stack (Kubernetes, operator mode).
pub(crate) fn operator(s: &Stack) -> bool {
    s.kubernetes.as_ref().map(|k| k.mode) == Some(KubernetesMode::Operator)
}
fn standalone(s: &Stack) -> bool {
    s.kubernetes.as_ref().map(|k| k.mode) == Some(KubernetesMode::Standalone)
}
fn operator_exporter(s: &Stack) -> bool {
    operator(s) && exporter(s)
}
fn operator_slack(s: &Stack) -> bool {
    operator(s) && s.alertmanager.slack.is_some()
}
fn grafana(s: &Stack) -> bool {
    s.grafana.service.enabled
}
fn own_prometheus(s: &Stack) -> bool {
    standalone(s) && s.prometheus.service.enabled
}
fn own_alertmanager(s: &Stack) -> bool {
    standalone(s) && s.alertmanager.service.enabled
}
fn own_grafana(s: &Stack) -> bool {
    standalone(s) && grafana(s)
}
/// Under the prod policy the pods admit only the traffic the stack needs.
fn fenced(s: &Stack) -> bool {
    s.policy.level == PolicyLevel::Error
}
fn fenced_redis(s: &Stack) -> bool {
    fenced(s) && redis(s)
}
fn fenced_exporter(s: &Stack) -> bool {
    fenced(s) && exporter(s)
}

objects! {
    "kustomization.yaml" when always,
    "configmap-redis.yaml" when redis,
    "service-redis.yaml" when redis,
    "statefulset-redis.yaml" when redis,
    "deployment-redis-exporter.yaml" when exporter,
    "service-redis-exporter.yaml" when exporter,
    "servicemonitor-redis-exporter.yaml" when operator_exporter,
    "scrapeconfig-redis.yaml" when operator_exporter,
    "prometheusrule-redis.yaml" when operator,
    "alertmanagerconfig-redis.yaml" when operator_slack,
    "configmap-grafana-dashboard.yaml" when grafana,
    "configmap-prometheus.yaml" when own_prometheus,
    "service-prometheus.yaml" when own_prometheus,
    "statefulset-prometheus.yaml" when own_prometheus,
    "configmap-alertmanager.yaml" when own_alertmanager,
    "service-alertmanager.yaml" when own_alertmanager,
    "statefulset-alertmanager.yaml" when own_alertmanager,
    "configmap-grafana.yaml" when own_grafana,
    "service-grafana.yaml" when own_grafana,
    "deployment-grafana.yaml" when own_grafana,
    "networkpolicy-redis.yaml" when fenced_redis,
    "networkpolicy-redis-exporter.yaml" when fenced_exporter,
}

/// The objects this stack has.
pub(crate) fn objects(stack: &Stack) -> impl Iterator<Item = &'static ObjectFile> + '_ {
    OBJECTS.iter().filter(|o| (o.when)(stack))
}

/// Alerts about what kube-prometheus-stack runs and watches itself: left out of the
/// PrometheusRule in operator mode, where no scrape job of stackgen's feeds them.
pub(crate) const WATCHED_BY_OPERATOR: [AlertKind; 1] = [AlertKind::AlertmanagerDown];

/// A component: its `app.kubernetes.io/name` and the user its image runs as.
const COMPONENTS: [(&str, u32); 5] = [
    ("redis", 999),
    ("redis-exporter", 59000),
    ("prometheus", 65534),
    ("alertmanager", 65534),
    ("grafana", 472),
];

/// A Secret and one of its keys.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SecretRef {
    pub name: String,
    pub key: String,
}

/// One entry of the exporter's password map, which an init container assembles.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct MapEntry {
    pub address: String,
    pub secret: SecretRef,
}

/// What every Kubernetes template shares.
#[derive(Debug, Serialize)]
pub(crate) struct Context {
    pub namespace: String,
    pub release: String,
    pub operator: bool,
    pub storage_class: Option<String>,
    /// Component → the labels of its objects, and the selector of its pods.
    pub labels: BTreeMap<&'static str, Value>,
    pub selector: BTreeMap<&'static str, Value>,
    /// Component → its pod's security context; the one container security context.
    pub pod_security: BTreeMap<&'static str, Value>,
    pub container_security: Value,
    /// Component → requests and limits.
    pub resources: BTreeMap<&'static str, Value>,
    /// Component → the size of its volume, as a quantity.
    pub storage: BTreeMap<&'static str, String>,
    /// Secret name (`redis_password`, …) → the Secret and key it names.
    pub secrets: BTreeMap<String, SecretRef>,
    pub password_map: Vec<MapEntry>,
    /// The object files, for the kustomization.
    pub resources_files: Vec<&'static str>,
}

pub(crate) fn context(stack: &Stack) -> Context {
    let kubernetes = stack.kubernetes.clone().expect("a Kubernetes profile");
    let operator = kubernetes.mode == KubernetesMode::Operator;
    let mut labels = BTreeMap::new();
    let mut selector = BTreeMap::new();
    let mut pod_security = BTreeMap::new();
    for (name, uid) in COMPONENTS {
        let select = json!({
            "app.kubernetes.io/name": name,
            "app.kubernetes.io/instance": stack.name,
        });
        let mut all = select.clone();
        all["app.kubernetes.io/part-of"] = json!(stack.name);
        all["app.kubernetes.io/managed-by"] = json!("stackgen");
        if operator {
            all["release"] = json!(kubernetes.release);
        }
        labels.insert(name, all);
        selector.insert(name, select);
        pod_security.insert(
            name,
            json!({
                "runAsNonRoot": true,
                "runAsUser": uid,
                "runAsGroup": uid,
                "fsGroup": uid,
                "seccompProfile": { "type": "RuntimeDefault" },
            }),
        );
    }
    let resources = stack
        .services()
        .iter()
        .map(|s| {
            let limits = json!({
                "cpu": format!("{}m", (s.cpus.0 * 1000.0).round() as u64),
                "memory": s.memory_limit.kubernetes(),
            });
            (s.name, json!({ "requests": limits, "limits": limits }))
        })
        .collect();
    let secrets: BTreeMap<String, SecretRef> = stack
        .secrets
        .iter()
        .filter_map(|(name, secret)| Some((name.clone(), reference(&secret.source)?)))
        .collect();
    let password_map = stack
        .targets
        .iter()
        .filter_map(|target| {
            let secret = match &target.password {
                Some(password) => reference(&password.source)?,
                None if target.managed => secrets.get(REDIS_PASSWORD)?.clone(),
                None => return None,
            };
            Some(MapEntry {
                address: target.address.clone(),
                secret,
            })
        })
        .collect();
    let mut resources_files: Vec<&'static str> = objects(stack)
        .map(|o| o.path)
        .filter(|p| *p != "kustomization.yaml")
        .collect();
    resources_files.sort_unstable();
    // Redis' volume holds its AOF and a snapshot: twice its memory. Prometheus deletes blocks
    // only past its retention size, so its volume is a fifth larger (10Gi without one).
    let retention = stack.prometheus.retention_size_bytes.map(Size::from_bytes);
    let storage = BTreeMap::from([
        (
            "redis",
            stack.redis.memory_limit.with_headroom(100).kubernetes(),
        ),
        (
            "prometheus",
            retention.map_or("10Gi".into(), |size| size.with_headroom(20).kubernetes()),
        ),
    ]);
    Context {
        storage,
        namespace: kubernetes.namespace,
        release: kubernetes.release,
        operator,
        storage_class: kubernetes.storage_class,
        labels,
        selector,
        pod_security,
        container_security: json!({
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "capabilities": { "drop": ["ALL"] },
        }),
        resources,
        secrets,
        password_map,
        resources_files,
    }
}

/// The configuration files each component's pods read from ConfigMaps.
const CONFIGS: [(&str, &[&str]); 4] = [
    ("redis", &["redis/redis.conf"]),
    (
        "prometheus",
        &[
            "prometheus/prometheus.yml",
            "prometheus/rules/redis-alerts.yml",
            "prometheus/targets/redis.json",
        ],
    ),
    (
        "alertmanager",
        &[
            "alertmanager/alertmanager.yml",
            "alertmanager/templates/slack.tmpl",
        ],
    ),
    (
        "grafana",
        &[
            "grafana/provisioning/datasources/prometheus.yml",
            "grafana/provisioning/dashboards/dashboards.yml",
            "grafana/dashboards/redis.json",
        ],
    ),
];

/// Component → the sha256 of the configuration its pods read, for their template's
/// `checksum/config` annotation: a ConfigMap that changes rolls the pods that read it (none of
/// them re-reads its files on its own).
pub(crate) fn checksums(configs: &BTreeMap<&str, String>) -> BTreeMap<&'static str, String> {
    use sha2::{Digest, Sha256};
    CONFIGS
        .iter()
        .map(|(component, files)| {
            let mut hash = Sha256::new();
            for file in *files {
                hash.update(file.as_bytes());
                hash.update(configs.get(file).map_or(&b""[..], |t| t.as_bytes()));
            }
            let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
            (*component, hex)
        })
        .collect()
}

fn reference(secret: &Secret) -> Option<SecretRef> {
    match secret {
        Secret::Kubernetes { secret, key } => Some(SecretRef {
            name: secret.clone(),
            key: key.clone(),
        }),
        _ => None,
    }
}
