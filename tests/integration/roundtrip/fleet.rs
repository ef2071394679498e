//! Target names, label names and label values: into the targets file (read as JSON and checked
//! by `promtool check config`), the rules and their generated tests (`promtool check rules`,
//! `promtool test rules`, the alert's expected labels read back), and on Kubernetes the
//! ScrapeConfig and the standalone Prometheus' ConfigMap, built by `kubectl kustomize`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use super::batch::{Layout, Settled, Toml, blame, kustomize_probe, render_batch, without};
use super::kube::Kind;
use super::tools::{Tools, other_alerts, parallel, run_tool};
use super::{Case, Field, Report, grammar};

/// The target that carries every label case: the first, so the generated rule tests expect
/// its alerts with all its labels.
const HOLDER: &str = "labels";
const NAMESPACE: &str = "rt-fleet";

/// Where a case lands: a label of the holder, or a target of its own.
enum Slot {
    Label { name: String, value: String },
    Target { name: String, address: String },
}

type Slots = BTreeMap<usize, Slot>;

/// `[stack]` (its default `profile`), no managed Redis (the first target is the holder), and
/// the alerts `off` turned off.
fn head(profile: &str, off: &[String]) -> Toml {
    let mut toml = Toml::default();
    toml.raw(&format!(
        "[stack]\nname = \"rtfleet\"\nprofile = \"{profile}\""
    ));
    toml.raw("\n[redis]\nenabled = false");
    for alert in off {
        toml.raw(&format!("[alerts.{alert}]\nenabled = false"));
    }
    toml
}

/// The holder with every label case of `subset`, then a target per name case.
fn targets(toml: &mut Toml, cases: &[Case], subset: &[usize]) -> Slots {
    let mut slots = Slots::new();
    toml.raw(&format!(
        "\n[[targets]]\nname = \"{HOLDER}\"\naddress = \"redis://{HOLDER}:6379\"\n[targets.labels]"
    ));
    for &i in subset {
        let (name, value) = match cases[i].field {
            Field::LabelValue => (format!("v{i:03}"), cases[i].value.clone()),
            Field::LabelName => (cases[i].value.clone(), format!("n{i:03}")),
            _ => continue,
        };
        toml.set(&grammar::toml_string(&name), &value, Some(i));
        slots.insert(i, Slot::Label { name, value });
    }
    for &i in subset
        .iter()
        .filter(|&&i| cases[i].field == Field::TargetName)
    {
        let address = format!("redis://t{i:03}:6379");
        toml.raw("\n[[targets]]");
        toml.set("name", &cases[i].value, Some(i));
        toml.set("address", &address, None);
        let name = cases[i].value.clone();
        slots.insert(i, Slot::Target { name, address });
    }
    slots
}

/// The batch: every case in `stack.toml`, every alert on; a compose profile and both
/// Kubernetes modes.
fn layout(cases: &[Case], pool: &[usize]) -> Layout<Slot> {
    let mut lay = Layout::new();
    let mut toml = head("dev", &[]);
    lay.slots = targets(&mut toml, cases, pool);
    lay.toml("stack.toml", toml);
    for (name, kind) in Kind::ALL {
        let profile = kind.profile(NAMESPACE);
        let file = format!("profiles/{name}.toml");
        lay.files.push((file, profile.text().to_string()));
    }
    lay
}

/// A probe: profile `q<k>` of `kind` holds part `k`'s targets; RedisDown is the only alert.
fn probe_files(
    cases: &[Case],
    parts: &[Vec<usize>],
    kind: Kind,
    off: &[String],
) -> Vec<(String, String)> {
    let mut stack = head("q000", off);
    stack.raw("\n[[targets]]\nname = \"plain\"\naddress = \"redis://plain:6379\"");
    let mut files = vec![("stack.toml".to_string(), stack.text().to_string())];
    for (k, part) in parts.iter().enumerate() {
        let mut toml = kind.profile(NAMESPACE);
        targets(&mut toml, cases, part);
        files.push((format!("profiles/q{k:03}.toml"), toml.text().to_string()));
    }
    files
}

/// The isolation's `stack.toml`: one target with one label, and the case in it.
fn alone(case: Option<&Case>) -> (String, usize) {
    let mut toml = head("dev", &[]);
    toml.raw("\n[[targets]]\nname = \"base\"\naddress = \"redis://base:6379\"\n[targets.labels]");
    let field = case.map(|c| c.field);
    let value = case.map_or("", |c| c.value.as_str());
    match field {
        Some(Field::LabelValue) => toml.set("env", value, Some(0)),
        Some(Field::LabelName) => toml.set(&grammar::toml_string(value), "x", Some(0)),
        _ => toml.set("env", "prod", None),
    };
    if field == Some(Field::TargetName) {
        toml.raw("\n[[targets]]");
        toml.set("name", value, Some(0));
        toml.set("address", "redis://other:6379", None);
    }
    let line = toml.marks.first().map_or(0, |m| m.1);
    (toml.text().to_string(), line)
}

#[test]
fn target_names_and_labels_arrive_in_the_targets_file_the_rules_tests_and_scrape_configs() {
    let Some(tools) = Tools::find() else { return };
    let cases = grammar::fleet();
    let mut report = Report::new("fleet", &cases);
    let base = [
        ("stack.toml", alone(None).0),
        ("profiles/dev.toml", String::new()),
    ];
    let settled = render_batch(
        &mut report,
        |pool| layout(&cases, pool),
        &base,
        |case| alone(Some(case)),
    );
    for &i in &settled.accepted {
        if cases[i].value.is_empty() && cases[i].field == Field::LabelValue {
            report.fail(
                i,
                "accepted a value that cannot arrive",
                "Prometheus drops a label whose value is empty: it must be refused",
            );
        }
    }
    let generated = settled.project.path().join("generated");
    let yaml = tools.same_in_yaml_11_and_12(&mut report, &generated);
    compose_values(&mut report, &settled.layout.slots, &generated, &yaml);
    let off = other_alerts();
    for (_, kind) in Kind::ALL {
        let dir = generated.join(kind.name());
        let blamed = blame_refusal(&tools, &mut report, &settled, kind, &off);
        if kind != Kind::Compose {
            kubernetes_check(&tools, &mut report, &settled, (kind, &dir), &blamed, &off);
        }
    }
    report.phase("tools run");
    report.finish();
}

/// Which cases make a tool refuse the batch's tree of `kind`, each found in a probe of its own.
fn blame_refusal(
    tools: &Tools,
    report: &mut Report<'_>,
    settled: &Settled<Slot>,
    kind: Kind,
    off: &[String],
) -> BTreeSet<usize> {
    let dir = settled.project.path().join("generated").join(kind.name());
    let all = [0, 1, 2];
    let Some((check, why)) = refusals(tools, kind, &[dir], &all).remove(0) else {
        return BTreeSet::new();
    };
    let cause = match kind {
        Kind::Compose => "promtool refuses the output",
        _ => "kubectl kustomize refuses the output",
    };
    let cases = report.cases();
    let files = |parts: &[Vec<usize>]| probe_files(cases, parts, kind, off);
    // The probes run only the check that refused the batch.
    let refuses = |dirs: &[PathBuf]| {
        let found = refusals(tools, kind, dirs, &[check]);
        found.into_iter().map(|r| r.map(|r| r.1)).collect()
    };
    let groups = vec![settled.accepted.clone()];
    blame(report, cause, &why, groups, files, refuses)
}

/// The values in a Kubernetes tree's objects: the batch's, or — when some cases make kustomize
/// refuse it — those of a probe of the batch without them.
fn kubernetes_check(
    tools: &Tools,
    report: &mut Report<'_>,
    settled: &Settled<Slot>,
    (kind, dir): (Kind, &Path),
    blamed: &BTreeSet<usize>,
    off: &[String],
) {
    let cases = report.cases();
    let (own, objects) = if blamed.is_empty() {
        (None, tools.kustomize(&[dir.to_path_buf()]).remove(0))
    } else {
        let rest = without(&settled.accepted, blamed);
        let own = targets(&mut Toml::default(), cases, &rest);
        let files = probe_files(cases, &[rest], kind, off);
        (Some(own), kustomize_probe(tools, &files))
    };
    let slots = own.as_ref().unwrap_or(&settled.layout.slots);
    match objects {
        Ok(objects) => kubernetes_values(report, slots, kind, &objects),
        Err(why) => report.fail_batch("kubectl kustomize refuses the output", why),
    }
}

/// promtool's checks of a compose tree: `check config` (which reads the targets file too),
/// `check rules`, `test rules`.
const PROMTOOL: [([&str; 2], &str); 3] = [
    (["check", "config"], "prometheus/prometheus.yml"),
    (["check", "rules"], "prometheus/rules/redis-alerts.yml"),
    (["test", "rules"], "prometheus/rules/redis-alerts.test.yml"),
];

/// Why the tools refuse each tree, if they do: the `checks` of `PROMTOOL` on a compose tree
/// (which one refused, and why); `kubectl kustomize` and the YAML 1.1 loader on a Kubernetes
/// tree.
fn refusals(
    tools: &Tools,
    kind: Kind,
    dirs: &[PathBuf],
    checks: &[usize],
) -> Vec<Option<(usize, String)>> {
    if kind != Kind::Compose {
        let refused = tools.kustomize_refusals(dirs);
        return refused.into_iter().map(|r| r.map(|why| (0, why))).collect();
    }
    parallel(dirs, |dir| {
        checks.iter().find_map(|&check| {
            let (args, file) = PROMTOOL[check];
            let mut cmd = Command::new(&tools.promtool);
            let refused = run_tool(cmd.args(args).arg(dir.join(file))).err();
            refused.map(|why| (check, why))
        })
    })
}

/// The compose target's tree: the targets file, and the labels the generated tests expect the
/// alert to carry.
fn compose_values(
    report: &mut Report<'_>,
    slots: &Slots,
    generated: &Path,
    yaml: &BTreeMap<String, Value>,
) {
    let targets = std::fs::read_to_string(generated.join("dev/prometheus/targets/redis.json"));
    match serde_json::from_str::<Value>(&targets.unwrap()) {
        Ok(groups) => check_groups(report, slots, &groups, "targets file"),
        Err(e) => report.fail_batch("the targets file is not JSON", e.to_string()),
    }
    // promtool passes the generated tests (or says otherwise): the alert carries exactly their
    // expected labels. Those, read back, must be the labels written.
    let tests = yaml.get("dev/prometheus/rules/redis-alerts.test.yml");
    let Some(expected) = tests.and_then(redis_down_labels) else {
        report.fail_batch(
            "the generated rule tests expect no RedisDown alert",
            "no RedisDown check with exp_alerts in redis-alerts.test.yml",
        );
        return;
    };
    for (&i, slot) in slots {
        if let Slot::Label { name, value } = slot {
            let place = "the RedisDown test's exp_labels";
            report.same(i, place, expected.get(name), value);
        }
    }
}

/// The labels the generated tests expect the firing RedisDown alert to carry.
fn redis_down_labels(tests: &Value) -> Option<serde_json::Map<String, Value>> {
    let checks = tests["tests"]
        .as_array()?
        .iter()
        .flat_map(|t| t["alert_rule_test"].as_array().cloned().unwrap_or_default());
    checks
        .filter(|c| c["alertname"] == "RedisDown")
        .find_map(|c| c["exp_alerts"][0]["exp_labels"].as_object().cloned())
}

/// The ScrapeConfig (operator), or the standalone Prometheus' targets file in its ConfigMap.
fn kubernetes_values(report: &mut Report<'_>, slots: &Slots, kind: Kind, objects: &[Value]) {
    let find = |kind: &str, name: &str| {
        objects
            .iter()
            .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
    };
    if kind == Kind::Operator {
        match find("ScrapeConfig", "redis") {
            Some(scrape) => {
                let groups = &scrape["spec"]["staticConfigs"];
                check_groups(report, slots, groups, "ScrapeConfig");
            }
            None => report.fail_batch("an object is missing", "no ScrapeConfig redis"),
        }
        return;
    }
    let map = find("ConfigMap", "prometheus");
    let json = map.and_then(|m| m["data"]["redis.json"].as_str());
    match json.map(serde_json::from_str::<Value>) {
        Some(Ok(groups)) => check_groups(report, slots, &groups, "ConfigMap prometheus redis.json"),
        other => report.fail_batch(
            "an object is missing",
            format!("ConfigMap prometheus redis.json: {other:?}"),
        ),
    }
}

/// The label groups of a targets file or a ScrapeConfig (`targets`, `labels`): the holder's
/// labels, and a group per target name.
fn check_groups(report: &mut Report<'_>, slots: &Slots, groups: &Value, place: &str) {
    let groups = groups.as_array().cloned().unwrap_or_default();
    let named = |name: &str| groups.iter().find(|g| g["labels"]["target"] == name);
    let holder = named(HOLDER).map(|g| g["labels"].clone());
    for (&i, slot) in slots {
        match slot {
            Slot::Label { name, value } => {
                let got = holder.as_ref().and_then(|l| l.get(name));
                report.same(i, &format!("{place} labels of `{HOLDER}`"), got, value);
            }
            Slot::Target { name, address } => {
                let got = named(name).map(|g| g["targets"].clone());
                if got != Some(json!([address])) {
                    report.fail(
                        i,
                        "accepted, but arrives changed",
                        format!("{place}: no target so named at {address}: {got:?}"),
                    );
                }
            }
        }
    }
}
