//! The resolved stack of one profile: every default filled in, every cross-field rule
//! checked, no `Option` left but those the contract has. Templates and the Docker layer only
//! ever see these types; `resolve` builds them.

use std::collections::BTreeMap;

use serde::Serialize;

use super::raw::{Appendfsync, KubernetesMode, PolicyLevel, SliKind, SloScope, TargetKind};
use super::units::{Cpus, Duration, Secret, Size};
use crate::alerts::AlertKind;
use crate::alerts::Severity;

/// The names of the secrets under `/run/secrets/`.
pub(crate) const REDIS_PASSWORD: &str = "redis_password";
pub(crate) const SLACK_WEBHOOK_URL: &str = "slack_webhook_url";
pub(crate) const HEARTBEAT_URL: &str = "heartbeat_url";
pub(crate) const GRAFANA_ADMIN_PASSWORD: &str = "grafana_admin_password";
/// The exporter's password map, when `up` assembles it from the targets' secrets.
pub(crate) const PASSWORD_MAP: &str = "redis_exporter_password_map";

/// A Redis server the exporter scrapes: the managed one (when it runs) first, then every
/// `[[targets]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Target {
    /// The `target` and `instance` labels of its series and alerts.
    pub name: String,
    /// `redis://host:port` or `rediss://host:port`: the exporter's `target` parameter and the
    /// key of its password map.
    pub address: String,
    pub host: String,
    pub tls: bool,
    /// Where its password comes from; none when it takes none.
    pub password: Option<TargetSecret>,
    /// Its labels: the user's, and those stackgen sets (`kind`, and `replication_group` on the
    /// managed topology's nodes).
    pub labels: BTreeMap<String, String>,
    /// A node of the Redis this stack runs: the primary, a replica or a Sentinel.
    pub managed: bool,
    pub kind: TargetKind,
    /// The role a node of the managed topology is rendered in (`master`, `slave`, `sentinel`).
    /// Not a label: Sentinel changes roles, and the exporter's `redis_instance_info{role}`
    /// tells the current one.
    pub rendered_role: Option<&'static str>,
}

/// A Redis Cluster the stack monitors: `stackgen up` asks its seeds for its nodes and scrapes
/// each one, labelled with the cluster's name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Cluster {
    /// Its `cluster` label.
    pub name: String,
    /// `redis://host:port` of each seed.
    pub seeds: Vec<String>,
    /// Every node's password, when it takes one.
    pub password: Option<TargetSecret>,
    /// The user's labels, on every node.
    pub labels: BTreeMap<String, String>,
}

/// A node of the managed Redis (the primary or a replica) or a Sentinel: its own container and
/// published port.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Node {
    /// Its service, container-network host name and target name: `redis-replica-1`.
    pub name: String,
    /// The role it is rendered in (`master`, `slave` or `sentinel`); Sentinel may change a data
    /// node's since.
    pub role: &'static str,
    /// Its data volume (none for a Sentinel, which keeps its state in memory).
    pub volume: Option<String>,
    /// Published host port.
    pub port: u16,
    /// The port it listens on inside its container.
    pub container_port: u16,
    /// The compose short syntax of the published port.
    pub publish: String,
}

/// Three Sentinels watching the managed Redis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Sentinel {
    /// The name the Sentinels know the primary by (`SENTINEL get-master-addr-by-name`).
    pub master_name: &'static str,
    pub quorum: u16,
    pub down_after: Duration,
    pub failover_timeout: Duration,
    /// The two durations in milliseconds, as sentinel.conf takes them.
    pub down_after_ms: u64,
    pub failover_timeout_ms: u64,
    pub nodes: Vec<Node>,
}

/// A target's password: where `stack.toml` declares it, and where its value comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct TargetSecret {
    pub key: String,
    pub source: Secret,
}

/// Alerts whose labels carry every `matchers` pair go to `channel`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Route {
    pub matchers: BTreeMap<String, String>,
    /// The matchers as Alertmanager reads them: `env="prod"`.
    pub matcher_lines: Vec<String>,
    pub channel: String,
}

/// How the exporter learns the targets' passwords.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PasswordMap {
    /// No target takes a password.
    None,
    /// Only the managed Redis does: its container writes the map at start-up, so the stack
    /// runs under plain `docker compose` as well.
    FromRedis,
    /// A `[[targets]]` entry does: `up` assembles the map from every target's secret into
    /// the private runtime folder, and the exporter mounts it as a secret.
    Assembled,
}

/// A service's container and how it is published.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Service {
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
    /// Its container's memory and CPU limits.
    pub memory_limit: Size,
    pub memory_limit_bytes: u64,
    pub cpus: Cpus,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Redis {
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
    /// Its data nodes, the primary first, then each replica: one when it runs alone.
    pub nodes: Vec<Node>,
    pub sentinel: Option<Sentinel>,
}

/// Where the exporter's password map is, when `up` assembles it: under the runtime folder of
/// the profile, relative to the project.
pub(crate) fn password_map_path(profile: &str) -> String {
    format!(".stackgen/{profile}/secrets/password-map.json")
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Exporter {
    #[serde(flatten)]
    pub service: Service,
    pub scrape_interval: Duration,
    /// The global scrape timeout, capped by this job's interval.
    pub scrape_timeout: Duration,
    /// How long it waits for a target to connect: half the scrape timeout, so that a target
    /// that hangs is reported down (`redis_up 0`) before Prometheus gives up on the scrape.
    pub connection_timeout: Duration,
    /// The ACL user it logs in to every target as (`--redis.user`), when targets name one.
    pub user: Option<String>,
    pub password_map: PasswordMap,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Prometheus {
    #[serde(flatten)]
    pub service: Service,
    pub retention_time: Duration,
    /// In Prometheus' unit spelling (`10GB`), when set.
    pub retention_size: Option<String>,
    pub retention_size_bytes: Option<u64>,
    pub scrape_interval: Duration,
    pub scrape_timeout: Duration,
    pub evaluation_interval: Duration,
    /// Where people reach it: the base of the links it sends.
    pub external_url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Alertmanager {
    #[serde(flatten)]
    pub service: Service,
    pub group_wait: Duration,
    pub group_interval: Duration,
    pub repeat_interval: Duration,
    /// Where people reach it: the base of the links it sends.
    pub external_url: String,
    pub slack: Option<Slack>,
    pub routes: Vec<Route>,
    /// The always-firing Watchdog goes to `alertmanager.heartbeat.url` every minute.
    pub heartbeat: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Slack {
    pub channel: String,
    pub send_resolved: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Grafana {
    #[serde(flatten)]
    pub service: Service,
    pub admin_user: String,
    pub admin_password: bool,
    pub allow_sign_up: bool,
    pub anonymous_access: bool,
}

/// One alert's settings; its rule text comes from the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct AlertSettings {
    pub kind: AlertKind,
    pub enabled: bool,
    pub r#for: Duration,
    pub severity: Severity,
    pub threshold: Option<f64>,
}

/// A secret the stack reads, by its name under `/run/secrets/`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct SecretUse {
    /// The `stack.toml` key that declares it.
    pub key: &'static str,
    pub source: Secret,
}

/// What `stackgen lint` enforces for the profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Policy {
    /// The profile has a `[policy]` table; without one lint enforces no policy, and says so.
    pub declared: bool,
    pub level: PolicyLevel,
    pub allow_public_binds: bool,
    pub require_redis_auth: bool,
    pub forbid_default_credentials: bool,
    pub forbid_grafana_open_access: bool,
    pub require_pinned_images: bool,
    pub require_slack_webhook: bool,
    pub warn_without_heartbeat: bool,
    pub require_retention_size: bool,
    pub require_private_secret_files: bool,
    pub require_tls_for_passwords: bool,
}

/// Where a Kubernetes profile's objects go and which monitoring they plug into.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Kubernetes {
    pub namespace: String,
    pub mode: KubernetesMode,
    pub release: String,
    pub storage_class: Option<String>,
}

/// The fully resolved stack of one profile: no `Option` left but those the contract has.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Stack {
    pub name: String,
    pub profile: String,
    pub redis: Redis,
    pub redis_exporter: Exporter,
    pub prometheus: Prometheus,
    pub alertmanager: Alertmanager,
    pub grafana: Grafana,
    pub runbook_base_url: String,
    pub alerts: Vec<AlertSettings>,
    /// Every Redis and Sentinel the exporter scrapes.
    pub targets: Vec<Target>,
    /// Every Redis Cluster whose nodes `up` finds and the exporter scrapes.
    pub clusters: Vec<Cluster>,
    /// Set when the profile renders Kubernetes manifests instead of a compose file.
    pub kubernetes: Option<Kubernetes>,
    /// Secret name → where its value comes from.
    pub secrets: BTreeMap<String, SecretUse>,
    pub policy: Policy,
    pub slos: Vec<Slo>,
}

/// A service level objective.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Slo {
    pub name: String,
    /// In percent.
    pub objective: f64,
    pub window: Duration,
    pub sli: SliKind,
    /// For a latency SLI.
    pub latency_threshold: Option<Duration>,
    pub per: SloScope,
    pub page_severity: Severity,
    pub ticket_severity: Severity,
}

impl Slo {
    /// The error budget: the share of bad the objective allows.
    pub(crate) fn budget(&self) -> f64 {
        crate::alerts::promql::rounded(1.0 - self.objective / 100.0)
    }
}

/// A secret `stack.toml` declares: how messages name it, its key, where its value comes from.
pub(crate) struct Declared<'a> {
    pub name: String,
    pub key: String,
    pub source: &'a Secret,
}

impl Stack {
    /// Every secret `stack.toml` declares: the services' and the targets' passwords; not the
    /// exporter's password map, which `up` assembles from them.
    pub(crate) fn declared_secrets(&self) -> Vec<Declared<'_>> {
        let services = self
            .secrets
            .iter()
            .filter(|(name, _)| name.as_str() != PASSWORD_MAP)
            .map(|(name, secret)| Declared {
                name: name.clone(),
                key: secret.key.to_string(),
                source: &secret.source,
            });
        let targets = self.targets.iter().filter_map(|target| {
            let password = target.password.as_ref()?;
            Some(Declared {
                name: format!("password of target {}", target.name),
                key: password.key.clone(),
                source: &password.source,
            })
        });
        let clusters = self.clusters.iter().filter_map(|cluster| {
            let password = cluster.password.as_ref()?;
            Some(Declared {
                name: format!("password of cluster {}", cluster.name),
                key: password.key.clone(),
                source: &password.source,
            })
        });
        services.chain(targets).chain(clusters).collect()
    }

    pub(crate) fn services(&self) -> [&Service; 5] {
        [
            &self.redis.service,
            &self.redis_exporter.service,
            &self.prometheus.service,
            &self.alertmanager.service,
            &self.grafana.service,
        ]
    }
}
