//! What a finding about the user's input is: its place, its code, its severity, its message
//! and a hint. The codes are the contract `stackgen lint --explain` documents: one enum, each
//! variant with its stable `SGnnn` text, a title and an explanation. The model reports its
//! errors with these types and lint adds its own findings to them, through one [`Collector`].

use std::fmt;

use serde::{Serialize, Serializer};

/// Declares the codes: variant, stable text, title, explanation.
macro_rules! codes {
    ($($variant:ident = $code:literal, $title:literal, $explanation:literal;)*) => {
        /// A rule's code. Ordered as the rules are numbered.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            /// Every code, in order.
            pub const ALL: &[Code] = &[$(Code::$variant,)*];

            /// The stable text: `SG001`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $code,)*
                }
            }

            /// What the rule refuses, in a line.
            pub fn title(self) -> &'static str {
                match self {
                    $(Code::$variant => $title,)*
                }
            }

            /// What the rule checks and why.
            pub fn explanation(self) -> &'static str {
                match self {
                    $(Code::$variant => $explanation,)*
                }
            }
        }
    };
}

codes! {
    Schema = "SG001",
        "a file does not follow the schema of stack.toml or of a profile",
        "A TOML syntax error, an unknown key, a value of the wrong type, a size without an IEC unit, a duration outside Prometheus' grammar, or a secret written as a literal. stackgen refuses to guess: a typo in a key would otherwise silently fall back to a default.";
    MaxmemoryNotBelowLimit = "SG002",
        "maxmemory is not below memory_limit",
        "Redis' maxmemory counts only the dataset. Forks for AOF rewrites and RDB saves, client buffers and fragmentation come on top; at or above the container's memory limit the kernel kills Redis instead of Redis evicting or refusing writes.";
    MaxmemoryCrowdsLimit = "SG003",
        "maxmemory is above 80 % of memory_limit",
        "A fork for persistence can briefly need as much memory again as the pages written meanwhile, and client output buffers grow under load. Leaving 20 % of the container's limit free keeps the kernel's OOM killer away.";
    ScrapeTimeoutAboveInterval = "SG004",
        "scrape_timeout is above a scrape interval",
        "Prometheus refuses a configuration whose scrape timeout is longer than a job's scrape interval.";
    ShorterThanScrape = "SG005",
        "an interval or `for` is shorter than the scrape interval",
        "Evaluating rules more often than samples arrive, or asking a condition to hold for less than one scrape, only re-reads the same sample: the alert behaves as if `for` were one scrape interval.";
    RateWindowTooShort = "SG006",
        "a rate window holds fewer than 4 scrapes",
        "rate() and increase() need at least two samples in their window and are only steady with four or more. The alert rules use 5m windows, so the exporter's scrape interval must be at most 75s.";
    PortClash = "SG007",
        "two services publish the same host port",
        "Only one socket can listen on a host address and port; the second container would fail to start.";
    ThresholdOutOfDomain = "SG008",
        "a threshold is outside its domain",
        "Latency, throughput and error-rate thresholds must be above zero; a memory threshold is a percentage strictly between 0 and 100.";
    EvictionAlertUnderNoeviction = "SG009",
        "the overflow alert watches evictions under noeviction",
        "With maxmemory-policy noeviction Redis never evicts: it rejects writes with OOM errors. An alert on evicted keys can then never fire; it must watch OOM error replies. The built-in rules follow the policy; this catches a template override that does not.";
    NotAboveZero = "SG010",
        "a duration or size must be above zero",
        "A zero retention, interval or size either disables what it bounds or is refused by the tool that reads it.";
    InvalidValue = "SG011",
        "an invalid value",
        "A project name compose cannot use, a bind that is not an IP address, port 0, an empty image or user name, an environment variable name that cannot exist, or an unknown profile.";
    DuplicateTarget = "SG012",
        "two targets share a name or an address",
        "A target's name is the `instance` and `target` label of its series and alerts, and its address the key of the exporter's password map: two targets with one name would mix their series, two with one address would be scraped twice under different names.";
    ReservedLabel = "SG013",
        "a target label is one stackgen sets",
        "`instance`, `job` and `target` are set on every series from the target's name and the scrape job; a label of the same name would be overwritten, or would break the alerts and the dashboard that select on it.";
    MixedUsernames = "SG014",
        "targets log in as different ACL users",
        "redis_exporter takes one ACL user for every target (`--redis.user`), and uses it wherever a password is given. Create the same monitoring user on every target that needs a password, or give none.";
    AlertNeverFires = "SG015",
        "an alert can never fire on the managed Redis",
        "The managed Redis image's version lacks what an enabled alert reads: Redis before 7 has no latency statistics (`INFO latencystats`), so RedisTailLatency never fires for it. A note, which never fails lint: use Redis 7 or later, or turn the alert off.";
    HeartbeatNeedsUrlFile = "SG016",
        "the heartbeat needs Alertmanager 0.26 or later",
        "The heartbeat receiver reads its URL from the secret's file (a webhook's `url_file`), which Alertmanager has from 0.26 on; an older one refuses the config and does not start. Use prom/alertmanager v0.26 or later (the default is v0.27.0), or drop `[alertmanager.heartbeat]`.";
    PublicBind = "SG101",
        "a service publishes beyond this machine",
        "A bind of 0.0.0.0 or :: (in any spelling, `::ffff:0.0.0.0` too) publishes the port on every network the host is on, firewall permitting; a private address (RFC 1918, link-local, unique-local) on that network, a routable one to the internet. Only loopback (127.0.0.0/8, ::1) keeps it on this machine. In prod bind to 127.0.0.1 and reach the services through a reverse proxy, a VPN or an SSH tunnel.";
    NoRedisAuth = "SG102",
        "Redis has no password",
        "Without `redis.password` anyone who reaches the port can read, change and delete the buffer, and run CONFIG.";
    DefaultCredentials = "SG103",
        "Grafana keeps its default credentials",
        "Without `grafana.admin_password` Grafana starts with admin/admin, the first thing anyone tries.";
    GrafanaOpenAccess = "SG104",
        "Grafana lets visitors in",
        "Sign-up lets anyone create an account; anonymous access shows dashboards without one.";
    UnpinnedImage = "SG105",
        "an image is not pinned",
        "An image without a tag, or with `:latest`, changes under you: two `up`s of the same stack.toml can run different software. Pin a version tag or a digest.";
    NoSlackWebhook = "SG106",
        "alerts cannot reach Slack",
        "A profile that requires Slack delivery (`require_slack_webhook`) needs every link of the chain: Prometheus to evaluate the rules, at least one alert enabled, Alertmanager enabled, and `alertmanager.slack.webhook_url` for its receiver. Without any of them alerts reach no one, and nothing says so.";
    NoRetentionSize = "SG107",
        "retention is not bounded by size",
        "A time-only retention lets a burst of series fill the disk. Set `prometheus.retention_size` as well.";
    TagNotDigest = "SG108",
        "an image is pinned by tag, not by digest",
        "A tag can be moved on its registry, so the same stack.toml can run different images on different days. `name:tag@sha256:…` pins the exact image and flows through unchanged. Under the prod policy lint notes each image pinned by tag only; a note never fails lint, even with --deny-warnings, because stackgen cannot look digests up for you offline.";
    NoLimits = "SG109",
        "a service runs without a memory or CPU limit",
        "Docker sets no memory or CPU limit by default, so one container can starve the host. stackgen gives every service both (`memory_limit` and `cpus` on its table); under the prod policy lint warns when the generated compose.yaml lacks one, which only a template override can cause.";
    PlaintextPassword = "SG110",
        "a password goes to a remote target without TLS",
        "A target address `redis://` to a host off the stack's own network sends the exporter's AUTH, password included, in clear text across the network. Use `rediss://`, or reach the target on loopback or the stack's network (a name without dots).";
    RouteMatchesNoTarget = "SG111",
        "an alert route matches no target",
        "A `[[alertmanager.routes]]` entry whose labels no target carries never takes an alert: usually a typo in a label name or value.";
    UnsafeWorkload = "SG112",
        "a Kubernetes workload lacks the security defaults",
        "Every pod stackgen renders runs as non-root with the runtime's default seccomp profile, and every container without privilege escalation, with a read-only root filesystem, with every capability dropped and with memory and CPU limits. A template override that takes one away weakens the pod; lint reports it at the profile's policy level.";
    NoNetworkPolicy = "SG113",
        "Redis or the exporter is not fenced by a NetworkPolicy",
        "Under the prod policy the Kubernetes target admits only the exporter's connection to Redis and the scrapes of the exporter. Without a NetworkPolicy selecting their pods, anything in the cluster reaches them.";
    UnsafeOverride = "SG114",
        "a compose.yaml override weakens a container or hands it a secret",
        "A template override of compose.yaml that makes a container privileged, adds a capability the built-in template does not grant, or interpolates a secret's environment variable (`${SLACK_WEBHOOK_URL}`: compose fills in the value, which then sits in the container's environment or argv) undoes what the generated stack promises. Lint reports it at the profile's policy level.";
    NoPolicy = "SG115",
        "the profile has no policy",
        "A project's own profile replaces the built-in one whole, policy included: without a `[policy]` table lint holds the profile to nothing beyond the schema (no auth, bind or image rules). A note, which never fails lint; copy the built-in profile's `[policy]` (`stackgen init` writes one) to enforce it.";
    NoHeartbeat = "SG116",
        "no heartbeat: the stack's own death would go unnoticed",
        "A stack whose Prometheus or Alertmanager died sends no alert about it. With `[alertmanager.heartbeat] url = { env = … }` the always-firing Watchdog reaches an outside heartbeat service (Healthchecks, Opsgenie heartbeats, Dead Man's Snitch) every minute, and that service raises the alarm when it stops. A profile with `warn_without_heartbeat` warns without one; never an error.";
    SecretMissing = "SG201",
        "a secret is not there yet",
        "The file a secret names does not exist, or its environment variable is not set. A fresh clone has no secrets, so lint only warns; `--strict` (and `up`) make it an error.";
    SecretUnusable = "SG202",
        "a secret file is not usable",
        "A secret file must be a non-empty regular file inside the project folder, named by a relative path, and a secret one line: anything else either fails at start-up or ends up in the generated files.";
    SecretReadableByOthers = "SG203",
        "a secret file is readable by others",
        "A secret file that group or others can read is a secret shared with every account on the host.";
    GrafanaPasswordAdmin = "SG204",
        "the Grafana admin password is `admin`",
        "`admin` is Grafana's default password and the first one anyone tries.";
    WebhookNotSlack = "SG205",
        "the webhook does not look like a Slack webhook",
        "Slack incoming webhooks are https://hooks.slack.com/… URLs. Anything else is probably a paste error, and plain http would send alerts in clear text.";
    HeartbeatNotUrl = "SG206",
        "the heartbeat URL is not an http(s) URL",
        "Alertmanager posts the Watchdog to the heartbeat URL as a plain webhook: the secret must hold one `http://` or `https://` URL (the value is not shown).";
    GeneratedInvalid = "SG301",
        "a generated file is invalid",
        "A generated file does not parse back, breaks its format's schema, or holds a PromQL expression that does not parse. Usually a template override is at fault.";
    PromtoolConfig = "SG302",
        "promtool check config fails",
        "Prometheus would refuse to start with the generated prometheus.yml.";
    PromtoolRules = "SG303",
        "promtool check rules fails",
        "Prometheus would refuse the generated alert rules.";
    PromtoolTests = "SG304",
        "promtool test rules fails",
        "An alert does not fire past its threshold and `for`, or fires short of them, in the generated unit tests.";
    AmtoolConfig = "SG305",
        "amtool check-config fails",
        "Alertmanager would refuse to start with the generated alertmanager.yml.";
    CheckerMissing = "SG306",
        "a checking tool is missing",
        "promtool or amtool is not on PATH, so the generated files were not checked by them. Install Debian's prometheus and prometheus-alertmanager packages; `--strict` makes their absence an error.";
    KustomizeFails = "SG307",
        "kubectl kustomize fails",
        "The generated kustomization does not build: `kubectl apply -k` and GitOps tools would refuse it.";
    LiveMetricAbsent = "SG401",
        "a rule reads a metric the running Prometheus has never held",
        "`lint --live` asks the profile's running Prometheus for every metric name it holds (over its whole retention) and reads each rule and dashboard query: a rule that needs a metric no target has ever reported can never fire. A warning when the metric comes with a version or a feature (the exporter or Redis too old, latency tracking off); a note when it shows only in a state the stack has not been in yet (a replica connected, an error answered).";
    LiveUnreachable = "SG402",
        "the running Prometheus cannot be asked",
        "`lint --live` reads the profile's running Prometheus at its published address and port. Bring the stack up first (`stackgen up -p <profile>`); the Kubernetes target's Prometheus runs in the cluster, out of reach of this check.";
}

impl Code {
    /// The code of a text such as `SG003` or `sg003`.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|code| code.as_str().eq_ignore_ascii_case(text))
    }

    /// The hint of a finding that has none of its own: the rule's title and where to read more.
    pub fn default_hint(self) -> String {
        format!(
            "{}; see `stackgen lint --explain {}`",
            self.title(),
            self.as_str()
        )
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

/// A place in a source file, 1-based.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A finding about the user's input, at a place.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Diagnostic {
    #[serde(flatten)]
    pub location: Location,
    /// The rule it breaks, as `stackgen lint --explain` knows it.
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub hint: String,
}

impl Diagnostic {
    /// An error with its rule's default hint.
    pub fn error(location: Location, code: Code, message: String) -> Self {
        Self {
            location,
            code,
            severity: Severity::Error,
            message,
            hint: code.default_hint(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_ordered_and_parse_back() {
        let texts: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        let mut sorted = texts.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(texts, sorted, "codes must be unique and in order");
        for code in Code::ALL {
            assert_eq!(Code::parse(&code.as_str().to_lowercase()), Some(*code));
        }
        assert_eq!(Code::parse("SG999"), None);
    }
}
