//! The round-trip property suite (issue 20): a few hundred strings built from a grammar of what
//! some reader on the way gives a meaning to (quotes, line breaks of YAML 1.1 and 1.2, `{{`,
//! `${`, `#`, YAML 1.1's booleans, nulls and numbers, indicators, spaces, controls, empty and
//! long strings) are written into every user string of `stack.toml` that reaches a generated
//! file, rendered, and read back through the tool that consumes the file — promtool, amtool,
//! `docker compose config`, `kubectl kustomize` and a YAML 1.1 loader (PyYAML). Each case must
//! either arrive as written, or be refused by `render` with exit 2 and an error at
//! `stack.toml:LINE:COL`, leaving `generated/` as it was.
//!
//! Cases are batched (`batch`): one project holds many of them (many targets, labels and
//! routes, and one profile per value of a key that takes one value), is rendered once and read
//! by each tool once. A refusal refuses the whole file, so a batch that is refused drops the
//! cases its errors point at (or, when no error points at one, the one a bisection finds) and
//! is rendered again; each dropped case is then rendered alone in `stack.toml` to check the
//! refusal itself. When a tool refuses a batch's file, probes (one profile per part of the
//! batch, all in one render) find the cases it comes from. Every failure names its case
//! (`{:?}` of the value written) and what arrived; all failures of a family are reported
//! together, grouped by cause. With STACKGEN_ROUNDTRIP_KEEP=DIR, each accepted batch's project
//! is copied under DIR.
//!
//! What a consumer makes of a value, beyond reading it: Prometheus drops a label whose value
//! is empty and Alertmanager's `label=""` matches alerts without the label, so an empty label
//! or matcher value can only be refused; Alertmanager and Prometheus expand Slack channels and
//! annotations as Go templates; Kubernetes refuses names and label values outside its
//! grammars, the engine image references outside the reference grammar, and `execve` an
//! environment value holding NUL. Those are checked as the consumer would (`semantics`).

mod batch;
mod fleet;
mod grammar;
mod kube;
mod routes;
mod semantics;
mod singles;
mod tools;

use std::collections::BTreeMap;
use std::fmt;

/// Where a case's value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    /// `[[targets]] labels = { k = VALUE }`
    LabelValue,
    /// `[[targets]] labels = { NAME = "…" }`
    LabelName,
    /// `[[targets]] name`
    TargetName,
    /// `[[alertmanager.routes]] match = { k = VALUE }`
    MatchValue,
    /// `[[alertmanager.routes]] match = { NAME = "…" }`
    MatchName,
    /// `[[alertmanager.routes]] channel`
    RouteChannel,
    /// `[alertmanager.slack] channel`
    SlackChannel,
    /// `[alerts] runbook_base_url`
    RunbookBaseUrl,
    /// `[grafana] admin_user`
    AdminUser,
    /// `[<service>] image`
    Image,
    /// `[stack] name` of a compose profile
    StackName,
    /// `[redis] password = { file = PATH }`
    SecretFile,
    /// `[stack] name` of a Kubernetes profile
    KubernetesName,
    /// `[kubernetes] namespace`
    Namespace,
    /// `[kubernetes] release`
    Release,
    /// `[kubernetes] storage_class`
    StorageClass,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = match self {
            Field::LabelValue => "targets.labels value",
            Field::LabelName => "targets.labels name",
            Field::TargetName => "targets.name",
            Field::MatchValue => "alertmanager.routes.match value",
            Field::MatchName => "alertmanager.routes.match name",
            Field::RouteChannel => "alertmanager.routes.channel",
            Field::SlackChannel => "alertmanager.slack.channel",
            Field::RunbookBaseUrl => "alerts.runbook_base_url",
            Field::AdminUser => "grafana.admin_user",
            Field::Image => "image",
            Field::StackName => "stack.name (compose)",
            Field::SecretFile => "redis.password.file",
            Field::KubernetesName => "stack.name (kubernetes)",
            Field::Namespace => "kubernetes.namespace",
            Field::Release => "kubernetes.release",
            Field::StorageClass => "kubernetes.storage_class",
        };
        f.write_str(key)
    }
}

/// One value written at one key.
#[derive(Debug, Clone)]
pub struct Case {
    pub field: Field,
    pub value: String,
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?}", self.field, self.value)
    }
}

/// The failures of one family of cases, reported together at the end of its test, grouped by
/// cause.
pub struct Report<'a> {
    family: &'static str,
    cases: &'a [Case],
    /// Cause → (the case, or none for the whole batch; what happened).
    failures: BTreeMap<&'static str, Vec<(Option<usize>, String)>>,
    accepted: usize,
    refused: usize,
    started: std::time::Instant,
}

impl<'a> Report<'a> {
    pub fn new(family: &'static str, cases: &'a [Case]) -> Self {
        Self {
            family,
            cases,
            failures: BTreeMap::new(),
            accepted: 0,
            refused: 0,
            started: std::time::Instant::now(),
        }
    }

    /// The family's cases.
    pub fn cases(&self) -> &'a [Case] {
        self.cases
    }

    /// Case `case` failed for `cause`.
    pub fn fail(&mut self, case: usize, cause: &'static str, detail: impl Into<String>) {
        let entry = self.failures.entry(cause).or_default();
        entry.push((Some(case), detail.into()));
    }

    /// The batch as a whole failed for `cause` (a tool refused a file that holds many cases).
    pub fn fail_batch(&mut self, cause: &'static str, detail: impl Into<String>) {
        let entry = self.failures.entry(cause).or_default();
        entry.push((None, detail.into()));
    }

    /// Expects `got` (the value as the consumer read it, if it found one) to be `want`.
    pub fn same(&mut self, case: usize, place: &str, got: Option<&serde_json::Value>, want: &str) {
        if got.and_then(|v| v.as_str()) != Some(want) {
            let got = got.map_or("nothing".to_string(), |v| format!("{v}"));
            self.fail(
                case,
                "accepted, but arrives changed",
                format!("{place}: arrives as {got}"),
            );
        }
    }

    /// Says how long the family has run, at the end of one of its phases.
    pub fn phase(&self, name: &str) {
        let elapsed = self.started.elapsed().as_secs_f64();
        eprintln!("roundtrip {}: {name} after {elapsed:.1} s", self.family);
    }

    pub fn counts(&mut self, accepted: usize, refused: usize) {
        self.accepted = accepted;
        self.refused = refused;
    }

    /// Prints the summary, and fails the test with every failure when there is one.
    pub fn finish(self) {
        let failed: usize = self.failures.values().map(Vec::len).sum();
        let mut text = format!(
            "roundtrip {}: {} cases, {} accepted and read back, {} refused; {} failures\n",
            self.family,
            self.cases.len(),
            self.accepted,
            self.refused,
            failed
        );
        for (cause, failures) in &self.failures {
            text.push_str(&format!("\n[{cause}] ({})\n", failures.len()));
            for (case, detail) in failures {
                let case = case.map_or("the batch".to_string(), |i| self.cases[i].to_string());
                let detail = detail.trim_end().replace('\n', "\n      ");
                text.push_str(&format!("  - {case}\n      {detail}\n"));
            }
        }
        assert!(self.failures.is_empty(), "{text}");
        eprintln!("{text}");
    }
}
