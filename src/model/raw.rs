//! The raw documents: exactly what `stack.toml` and a profile file deserialize into. Every
//! key is optional here, unknown keys are errors, and each field's `///` doc becomes its
//! description in the published JSON Schema. Defaults and cross-field rules live in
//! `resolve`, not here.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::combine::{leaf_combine, table};
use super::units::{Cpus, Duration, Secret, Size};

leaf_combine!(
    TargetKind,
    SliKind,
    SloScope,
    MaxmemoryPolicy,
    Appendfsync,
    PolicyLevel,
    Platform,
    KubernetesMode
);

/// The tables shared by `stack.toml` and the profile overlays.
macro_rules! document {
    ($(#[$meta:meta])* pub struct $name:ident { $($extra:tt)* }) => {
        table! {
            $(#[$meta])*
            pub struct $name {
                /// The project: its name and default profile.
                stack: StackTable,
                /// The Redis server.
                redis: RedisTable,
                /// redis_exporter, which turns Redis INFO into Prometheus metrics.
                redis_exporter: ExporterTable,
                /// Prometheus: scraping, retention and alert rules.
                prometheus: PrometheusTable,
                /// Alertmanager: grouping, routing and the Slack receiver.
                alertmanager: AlertmanagerTable,
                /// Grafana with a provisioned Prometheus datasource and Redis dashboard.
                grafana: GrafanaTable,
                /// The alert catalogue: one table per alert.
                alerts: crate::alerts::AlertsTable,
                /// More Redis servers to monitor, each through the one redis_exporter.
                targets: Vec<TargetTable>,
                /// Where the stack runs when `[stack] target = "kubernetes"`.
                kubernetes: KubernetesTable,
                /// Service level objectives: recording rules, burn-rate alerts and their tests.
                slo: Vec<SloTable>,
                $($extra)*
            }
        }
    };
}

document! {
    /// `stack.toml`: one typed description of a Redis monitoring stack.
    pub struct StackFile {}
}

document! {
    /// A profile overlay (`profiles/<name>.toml`): any key of `stack.toml`, plus the policy
    /// that `stackgen lint` enforces for the profile.
    pub struct ProfileFile {
        /// What `stackgen lint` enforces for this profile.
        policy: PolicyTable,
    }
}

impl ProfileFile {
    /// The overlay part, in the shape of `stack.toml`.
    pub(crate) fn overlay(&self) -> StackFile {
        StackFile {
            stack: self.stack.clone(),
            redis: self.redis.clone(),
            redis_exporter: self.redis_exporter.clone(),
            prometheus: self.prometheus.clone(),
            alertmanager: self.alertmanager.clone(),
            grafana: self.grafana.clone(),
            alerts: self.alerts.clone(),
            targets: self.targets.clone(),
            kubernetes: self.kubernetes.clone(),
            slo: self.slo.clone(),
        }
    }
}

table! {
    /// The project.
    pub struct StackTable {
        /// Project name: containers are `<name>-<service>`, the network `<name>_default`.
        name: String,
        /// The profile used when `--profile` is not given.
        profile: String,
        /// What the profile renders for: `compose` (a compose file `up` runs) or `kubernetes`
        /// (manifests for `kubectl apply -k` or a GitOps tool).
        target: Platform,
    }
}

table! {
    /// The Kubernetes target.
    pub struct KubernetesTable {
        /// The namespace every object is in (default: the project name).
        namespace: String,
        /// `operator`: the cluster runs kube-prometheus-stack, stackgen adds its custom
        /// resources; `standalone`: stackgen's own Prometheus, Alertmanager and Grafana.
        mode: KubernetesMode,
        /// The `release` label kube-prometheus-stack selects its custom resources by.
        release: String,
        /// The storage class of the volume claims (default: the cluster's default).
        storage_class: String,
    }
}

/// What a profile renders for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Platform {
    Compose,
    Kubernetes,
}

/// How the monitoring runs on Kubernetes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum KubernetesMode {
    Operator,
    Standalone,
}

table! {
    /// The Redis server.
    pub struct RedisTable {
        /// Run the managed Redis; `false` monitors only `[[targets]]`.
        enabled: bool,
        /// Container image, pinned to a tag or digest.
        image: String,
        /// Host address the published port binds to.
        bind: String,
        /// Published host port.
        port: u16,
        /// Container memory limit (default `2GiB`, or a third above `maxmemory` when only that
        /// is set).
        memory_limit: Size,
        /// Container CPU limit, in cores (default 1).
        cpus: Cpus,
        /// Redis `maxmemory`; must be below `memory_limit` (default: 75 % of it).
        maxmemory: Size,
        /// What Redis does at `maxmemory`.
        maxmemory_policy: MaxmemoryPolicy,
        /// Append-only file persistence.
        appendonly: bool,
        /// How often the append-only file is fsynced.
        appendfsync: Appendfsync,
        /// The password clients must give (`requirepass`); replicas and Sentinels use it too.
        password: Secret,
        /// Replicas of the managed Redis, each its own container (default 0: one Redis).
        replicas: u16,
        /// Three Sentinels that watch the managed Redis and promote a replica when it fails.
        sentinel: SentinelTable,
    }
}

table! {
    /// Sentinel, on the managed Redis and its replicas.
    pub struct SentinelTable {
        /// Run three Sentinels (needs `replicas` of at least 1).
        enabled: bool,
        /// How many Sentinels must agree the primary is down before a failover (1 to 3,
        /// default 2).
        quorum: u16,
        /// How long the primary must not answer before a Sentinel deems it down (default
        /// `5s`).
        down_after: Duration,
        /// How long a failover may take before another Sentinel retries it (default `60s`).
        failover_timeout: Duration,
        /// The host port of the first Sentinel; the others take the ports after it (default
        /// 26379).
        port: u16,
    }
}

table! {
    /// redis_exporter.
    pub struct ExporterTable {
        /// Run this service.
        enabled: bool,
        /// Container image, pinned to a tag or digest.
        image: String,
        /// Host address the published port binds to.
        bind: String,
        /// Published host port.
        port: u16,
        /// Container memory limit (default `128MiB`).
        memory_limit: Size,
        /// Container CPU limit, in cores (default 0.5).
        cpus: Cpus,
        /// How often Prometheus scrapes the exporter.
        scrape_interval: Duration,
    }
}

table! {
    /// Prometheus.
    pub struct PrometheusTable {
        /// Run this service.
        enabled: bool,
        /// Container image, pinned to a tag or digest.
        image: String,
        /// Host address the published port binds to.
        bind: String,
        /// Published host port.
        port: u16,
        /// Container memory limit (default `2GiB`).
        memory_limit: Size,
        /// Container CPU limit, in cores (default 1).
        cpus: Cpus,
        /// How long samples are kept (`--storage.tsdb.retention.time`).
        retention_time: Duration,
        /// The most disk the samples may use (`--storage.tsdb.retention.size`).
        retention_size: Size,
        /// Default scrape interval.
        scrape_interval: Duration,
        /// Default scrape timeout; not above any scrape interval (default `10s`, or the scrape
        /// interval when that is shorter).
        scrape_timeout: Duration,
        /// How often alert rules are evaluated (default: the scrape interval).
        evaluation_interval: Duration,
        /// The URL people reach Prometheus at, used in the links it sends (an alert's source);
        /// default `http://<bind>:<port>`, `localhost` for a bind to every interface.
        external_url: String,
    }
}

table! {
    /// Alertmanager.
    pub struct AlertmanagerTable {
        /// Run this service.
        enabled: bool,
        /// Container image, pinned to a tag or digest.
        image: String,
        /// Host address the published port binds to.
        bind: String,
        /// Published host port.
        port: u16,
        /// Container memory limit (default `256MiB`).
        memory_limit: Size,
        /// Container CPU limit, in cores (default 0.5).
        cpus: Cpus,
        /// How long to wait to group alerts before the first notification.
        group_wait: Duration,
        /// How long to wait before notifying about new alerts in a group.
        group_interval: Duration,
        /// How long to wait before repeating a notification.
        repeat_interval: Duration,
        /// The URL people reach Alertmanager at, used in the links it sends (a Slack message's
        /// title); default `http://<bind>:<port>`, `localhost` for a bind to every interface.
        external_url: String,
        /// The Slack receiver.
        slack: SlackTable,
        /// A dead man's switch: the always-firing `Watchdog` alert sent to an outside heartbeat
        /// every minute, so that a stack whose Prometheus or Alertmanager died is noticed.
        heartbeat: HeartbeatTable,
        /// Alerts routed by their target's labels to channels of their own; the first route
        /// that matches wins, and severity routing is kept within it.
        routes: Vec<RouteTable>,
    }
}

table! {
    /// A Redis server, a Sentinel or a Redis Cluster the stack monitors but does not run.
    pub struct TargetTable {
        /// Unique: the `target` label and the `instance` of its alerts; a cluster's `cluster`
        /// label, and the prefix of its nodes' names.
        name: String,
        /// What it is: `redis` (default), `sentinel` or `cluster`.
        kind: TargetKind,
        /// `redis://host:port` or `rediss://host:port` (TLS), as the exporter reaches it; a
        /// cluster has `seeds` instead.
        address: String,
        /// A cluster's seed nodes, `redis://host:port`: `stackgen up` asks the first that
        /// answers for the cluster's nodes (`CLUSTER NODES`), and each is scraped.
        seeds: Vec<String>,
        /// The ACL user the exporter logs in as.
        username: String,
        /// The password the exporter logs in with.
        password: Secret,
        /// Labels on every series and alert of this target.
        labels: BTreeMap<String, String>,
    }
}

table! {
    /// A service level objective over the fleet's Redis targets (or replication groups), with
    /// multi-window multi-burn-rate alerts on its error budget.
    pub struct SloTable {
        /// Unique: the `slo` label of its rules and alerts; lower-case letters, digits and `-`.
        name: String,
        /// The share of good, in percent, over the window: above 50, at most 99.99.
        objective: f64,
        /// The window the objective holds over (default `30d`; at least `3d`).
        window: Duration,
        /// What counts as bad: `availability` (scrapes finding Redis down), `errors` (failed
        /// and rejected commands among all commands) or `latency` (time whose average command
        /// latency passed `latency_threshold`).
        sli: SliKind,
        /// For `sli = "latency"`: the average command latency above which time counts as bad.
        latency_threshold: Duration,
        /// Per `target` (default) or per `replication_group` (a target label).
        per: SloScope,
        /// The `severity` of the fast-burn alerts, which page (default `critical`).
        page_severity: crate::alerts::Severity,
        /// The `severity` of the slow-burn alerts, which make a ticket (default `warning`).
        ticket_severity: crate::alerts::Severity,
    }
}

table! {
    /// An alert route by label.
    pub struct RouteTable {
        /// The labels (all of them) an alert must carry to take this route.
        r#match: BTreeMap<String, String>,
        /// The Slack channel its alerts go to.
        channel: String,
    }
}

table! {
    /// The Slack receiver.
    pub struct SlackTable {
        /// The incoming-webhook URL; Alertmanager reads it from a file (`api_url_file`).
        webhook_url: Secret,
        /// The channel to post to.
        channel: String,
        /// Also notify when an alert resolves.
        send_resolved: bool,
    }
}

table! {
    /// The heartbeat receiver (Healthchecks, Opsgenie heartbeats, Dead Man's Snitch: any
    /// service that takes a plain webhook and raises an alarm when it stops coming).
    pub struct HeartbeatTable {
        /// The URL the heartbeat is posted to; Alertmanager reads it from a file (`url_file`,
        /// Alertmanager 0.26 or later), as it holds the check's key.
        url: Secret,
    }
}

table! {
    /// Grafana.
    pub struct GrafanaTable {
        /// Run this service.
        enabled: bool,
        /// Container image, pinned to a tag or digest.
        image: String,
        /// Host address the published port binds to.
        bind: String,
        /// Published host port.
        port: u16,
        /// Container memory limit (default `512MiB`).
        memory_limit: Size,
        /// Container CPU limit, in cores (default 1).
        cpus: Cpus,
        /// The admin user's login.
        admin_user: String,
        /// The admin user's password (`GF_SECURITY_ADMIN_PASSWORD__FILE`).
        admin_password: Secret,
        /// Let visitors create accounts.
        allow_sign_up: bool,
        /// Let visitors in without logging in.
        anonymous_access: bool,
    }
}

table! {
    /// The policy `stackgen lint` enforces for a profile.
    pub struct PolicyTable {
        /// `error` makes a policy finding fail lint; `warning` only reports it.
        level: PolicyLevel,
        /// Allow services to publish ports on `0.0.0.0` or `::`.
        allow_public_binds: bool,
        /// Require a Redis password.
        require_redis_auth: bool,
        /// Refuse Grafana's default `admin` user without a password secret.
        forbid_default_credentials: bool,
        /// Refuse Grafana sign-up and anonymous access.
        forbid_grafana_open_access: bool,
        /// Refuse `:latest` and untagged images.
        require_pinned_images: bool,
        /// Require a Slack webhook for Alertmanager.
        require_slack_webhook: bool,
        /// Warn (at most: never an error) when no heartbeat is set
        /// (`alertmanager.heartbeat.url`), so that the stack's own death would go unnoticed.
        warn_without_heartbeat: bool,
        /// Require `prometheus.retention_size` as well as the retention time.
        require_retention_size: bool,
        /// Refuse secret files that group or others can read.
        require_private_secret_files: bool,
        /// Refuse a target password sent without TLS (`redis://`) to a host off the stack's
        /// own network.
        require_tls_for_passwords: bool,
    }
}

/// What a `[[targets]]` entry is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub(crate) enum TargetKind {
    /// One Redis server (a primary or a replica).
    #[default]
    Redis,
    /// A Redis Sentinel: scraped for its view of the primaries it watches.
    Sentinel,
    /// A Redis Cluster: its nodes found from its seeds.
    Cluster,
}

impl TargetKind {
    /// Its `kind` label.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Redis => "redis",
            Self::Sentinel => "sentinel",
            Self::Cluster => "cluster",
        }
    }
}

/// What an SLO counts as bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SliKind {
    Availability,
    Errors,
    Latency,
}

/// Whose objective an SLO is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SloScope {
    Target,
    ReplicationGroup,
}

/// Redis `maxmemory-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum MaxmemoryPolicy {
    AllkeysLru,
    AllkeysLfu,
    AllkeysRandom,
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
    Noeviction,
}

impl MaxmemoryPolicy {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::AllkeysLru => "allkeys-lru",
            Self::AllkeysLfu => "allkeys-lfu",
            Self::AllkeysRandom => "allkeys-random",
            Self::VolatileLru => "volatile-lru",
            Self::VolatileLfu => "volatile-lfu",
            Self::VolatileRandom => "volatile-random",
            Self::VolatileTtl => "volatile-ttl",
            Self::Noeviction => "noeviction",
        }
    }
}

/// Redis `appendfsync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Appendfsync {
    Always,
    Everysec,
    No,
}

/// How `stackgen lint` reports a policy finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum PolicyLevel {
    Error,
    Warning,
}
