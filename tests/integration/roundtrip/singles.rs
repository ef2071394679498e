//! Keys that take one value per stack — the project name, images, Grafana's admin user, the
//! Redis password's file, the Slack channel, the runbook base URL — one value each per compose
//! profile: read back by `docker compose config` (the real compose v2), by the YAML 1.1 loader
//! from `alertmanager.yml`, `prometheus.yml` and the rules, by Go's text/template for the
//! channel, and by `promtool test rules` for the runbook annotation Prometheus expands.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::batch::{Layout, Settled, Toml, blame, render_batch};
use super::semantics::image_reference;
use super::tools::{Tools, compose, compose_config, normalize, other_alerts, parallel, run_tool};
use super::{Case, Field, Report, grammar};

/// The services, by `stack.toml` table and compose service name.
const SERVICES: [(&str, &str); 5] = [
    ("redis", "redis"),
    ("redis_exporter", "redis-exporter"),
    ("prometheus", "prometheus"),
    ("alertmanager", "alertmanager"),
    ("grafana", "grafana"),
];

/// Where a case lands: its profile, and for an image its service.
#[derive(Clone)]
struct Slot {
    profile: String,
    service: usize,
}

/// `sets`: (table, key, value, case) for this file, table by table; secrets in their file form.
fn tables(toml: &mut Toml, sets: &[(&str, &str, &str, Option<usize>)]) {
    let mut order: Vec<&str> = Vec::new();
    for (table, ..) in sets {
        if !order.contains(table) {
            order.push(table);
        }
    }
    for table in order {
        toml.raw(&format!("\n[{table}]"));
        for (_, key, value, case) in sets.iter().filter(|s| s.0 == table) {
            if matches!(*key, "password" | "webhook_url" | "admin_password") {
                toml.set_file(key, value, *case);
            } else {
                toml.set(key, value, *case);
            }
        }
    }
}

/// The project's `stack.toml`, `over` setting one of its keys.
fn stack_toml(profile: &str, alerts: &[String], over: Option<(&str, &str, &str)>) -> Toml {
    let mut sets = vec![
        ("stack", "name", "rtsingle", None),
        ("stack", "profile", profile, None),
        ("redis", "password", "secrets/redis_password.txt", None),
        (
            "alertmanager.slack",
            "webhook_url",
            "secrets/slack_webhook_url.txt",
            None,
        ),
        ("alertmanager.slack", "channel", "#alerts", None),
        ("grafana", "admin_user", "admin", None),
        (
            "grafana",
            "admin_password",
            "secrets/grafana_admin_password.txt",
            None,
        ),
        (
            "alerts",
            "runbook_base_url",
            "https://runbooks.example.com/base",
            None,
        ),
    ];
    if let Some((table, key, value)) = over {
        sets.retain(|s| (s.0, s.1) != (table, key));
        sets.push((table, key, value, Some(0)));
    }
    let mut toml = Toml::default();
    tables(&mut toml, &sets);
    for alert in alerts {
        toml.raw(&format!("[alerts.{alert}]\nenabled = false"));
    }
    toml
}

fn key_of(field: Field, service: usize) -> (&'static str, &'static str) {
    match field {
        Field::StackName => ("stack", "name"),
        Field::Image => (SERVICES[service].0, "image"),
        Field::SecretFile => ("redis", "password"),
        Field::SlackChannel => ("alertmanager.slack", "channel"),
        Field::AdminUser => ("grafana", "admin_user"),
        Field::RunbookBaseUrl => ("alerts", "runbook_base_url"),
        other => unreachable!("{other} is not a key of one value"),
    }
}

/// One profile holding `part` (at most one case of each field, five images): its text and
/// the service each case's image goes to.
fn profile(cases: &[Case], part: &[usize]) -> (Toml, Vec<(usize, usize)>) {
    let mut sets = Vec::new();
    let mut services = Vec::new();
    let mut images = 0;
    for &i in part {
        let service = if cases[i].field == Field::Image {
            images += 1;
            images - 1
        } else {
            0
        };
        let (table, key) = key_of(cases[i].field, service);
        sets.push((table, key, cases[i].value.as_str(), Some(i)));
        services.push((i, service));
    }
    let mut toml = Toml::default();
    tables(&mut toml, &sets);
    (toml, services)
}

/// Profile `p<j>` holds the j-th case of each field, and five images.
fn layout(cases: &[Case], pool: &[usize], alerts: &[String]) -> Layout<Slot> {
    let mut lay = Layout::new();
    let mut by_field: BTreeMap<Field, Vec<usize>> = BTreeMap::new();
    for &i in pool {
        by_field.entry(cases[i].field).or_default().push(i);
    }
    let per_profile = |f: &Field| {
        if *f == Field::Image {
            SERVICES.len()
        } else {
            1
        }
    };
    let profiles = by_field
        .iter()
        .map(|(f, list)| list.len().div_ceil(per_profile(f)))
        .max()
        .unwrap_or(0)
        .max(1);
    for j in 0..profiles {
        let name = format!("p{j:03}");
        let part: Vec<usize> = by_field
            .iter()
            .flat_map(|(f, list)| list.iter().skip(j * per_profile(f)).take(per_profile(f)))
            .copied()
            .collect();
        let (toml, services) = profile(cases, &part);
        for (i, service) in services {
            let profile = name.clone();
            lay.slots.insert(i, Slot { profile, service });
        }
        lay.toml(&format!("profiles/{name}.toml"), toml);
    }
    let stack = stack_toml("p000", alerts, None);
    lay.files
        .push(("stack.toml".into(), stack.text().to_string()));
    lay
}

/// Every field of the family: a probe's profile runs every tool.
const EVERY: [Field; 6] = [
    Field::StackName,
    Field::Image,
    Field::AdminUser,
    Field::SecretFile,
    Field::SlackChannel,
    Field::RunbookBaseUrl,
];

#[test]
fn single_values_arrive_through_compose_alertmanager_and_prometheus() {
    let Some(tools) = Tools::find() else { return };
    let Some(compose) = compose() else { return };
    let alerts = other_alerts();
    let cases = grammar::singles();
    let mut report = Report::new("single values", &cases);
    let stack = stack_toml("dev", &alerts, None).text().to_string();
    let base = [("stack.toml", stack), ("profiles/dev.toml", String::new())];
    let settled = render_batch(
        &mut report,
        |pool| layout(&cases, pool, &alerts),
        &base,
        |case| {
            let (table, key) = key_of(case.field, 0);
            let toml = stack_toml("dev", &alerts, Some((table, key, &case.value)));
            (toml.text().to_string(), toml.marks[0].1)
        },
    );
    for &i in &settled.accepted {
        let v = &cases[i].value;
        let why = match cases[i].field {
            Field::Image if !image_reference(v) => {
                "the engine cannot parse it as an image reference"
            }
            Field::AdminUser if v.contains('\0') => "an environment value cannot hold NUL",
            _ => continue,
        };
        report.fail(i, "accepted a value that cannot arrive", why);
    }
    let refused = read_profiles(&tools, &compose, &mut report, &settled);
    report.phase("values read back");
    // Which case of a profile a tool refuses makes it refuse: each in a probe of its own.
    let files = |parts: &[Vec<usize>]| {
        let stack = stack_toml("q000", &alerts, None);
        let mut files = vec![("stack.toml".to_string(), stack.text().to_string())];
        for (k, part) in parts.iter().enumerate() {
            let toml = profile(&cases, part).0;
            files.push((format!("profiles/q{k:03}.toml"), toml.text().to_string()));
        }
        files
    };
    let refuses =
        |dirs: &[PathBuf]| parallel(dirs, |dir| read_back(&tools, &compose, dir, &EVERY).1);
    let cause = "a tool refuses the output";
    blame(&mut report, cause, "", refused, files, refuses);
    report.phase("tools run");
    report.finish();
}

/// Each profile's tree read back and its cases checked; the profiles a tool refuses, by their
/// cases.
fn read_profiles(
    tools: &Tools,
    compose: &Path,
    report: &mut Report<'_>,
    settled: &Settled<Slot>,
) -> Vec<Vec<usize>> {
    let cases = report.cases();
    let root = settled.project.path();
    let generated = root.join("generated");
    let yaml = tools.same_in_yaml_11_and_12(report, &generated);
    let mut by_profile: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (&i, slot) in &settled.layout.slots {
        by_profile.entry(slot.profile.clone()).or_default().push(i);
    }
    let profiles: Vec<String> = by_profile.keys().cloned().collect();
    let read = parallel(&profiles, |p| {
        let fields: Vec<Field> = by_profile[p].iter().map(|&i| cases[i].field).collect();
        read_back(tools, compose, &generated.join(p), &fields)
    });
    let mut refused = Vec::new();
    for (profile, (composed, refusal)) in profiles.iter().zip(read) {
        let here = &by_profile[profile];
        if refusal.is_some() {
            refused.push(here.clone());
        }
        let prefix = format!("{profile}/");
        let yaml: BTreeMap<String, Value> = yaml
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.to_string(), v.clone())))
            .collect();
        let tree = Tree {
            tools,
            root,
            composed: composed.as_ref(),
            yaml: &yaml,
        };
        for &i in here {
            tree.check(report, i, &cases[i], &settled.layout.slots[&i]);
        }
    }
    refused
}

/// What reads a profile's tree back, for the fields its cases are of: `docker compose config`
/// for a value compose gets, `amtool check-config` for a Slack channel, `promtool check config`
/// for a project name, `promtool test rules` for a runbook URL; and why one refuses the tree,
/// if one does.
fn read_back(
    tools: &Tools,
    compose: &Path,
    dir: &Path,
    fields: &[Field],
) -> (Option<Value>, Option<String>) {
    let has = |f: Field| fields.contains(&f);
    let composes = [
        Field::StackName,
        Field::Image,
        Field::AdminUser,
        Field::SecretFile,
    ];
    let composed = composes
        .into_iter()
        .any(has)
        .then(|| compose_config(compose, &dir.join("compose.yaml")));
    let promtool = |args: &[&str], file: &str| {
        let mut cmd = Command::new(&tools.promtool);
        cmd.args(args).arg(dir.join(file));
        cmd
    };
    let mut amtool = Command::new(&tools.amtool);
    amtool
        .arg("check-config")
        .arg(dir.join("alertmanager/alertmanager.yml"));
    let checks = [
        (has(Field::SlackChannel), amtool),
        (
            has(Field::StackName),
            promtool(&["check", "config"], "prometheus/prometheus.yml"),
        ),
        (
            has(Field::RunbookBaseUrl),
            promtool(&["test", "rules"], "prometheus/rules/redis-alerts.test.yml"),
        ),
    ];
    let refused = checks
        .into_iter()
        .filter(|(wanted, _)| *wanted)
        .find_map(|(_, mut cmd)| run_tool(&mut cmd).err());
    match composed {
        Some(Ok(json)) => (Some(json), refused),
        Some(Err(why)) => (None, Some(why)),
        None => (None, refused),
    }
}

/// A profile's tree as the tools read it back.
struct Tree<'a> {
    tools: &'a Tools,
    root: &'a Path,
    /// `docker compose config` of its compose file, when it ran and read it.
    composed: Option<&'a Value>,
    /// Its YAML files as the YAML 1.1 loader reads them, by path in the tree.
    yaml: &'a BTreeMap<String, Value>,
}

impl Tree<'_> {
    /// Case `i`'s value where it lands in the tree.
    fn check(&self, report: &mut Report<'_>, i: usize, case: &Case, slot: &Slot) {
        let v = case.value.as_str();
        match case.field {
            Field::StackName => {
                let labels = self.yaml.get("prometheus/prometheus.yml");
                let labels = labels.map(|p| &p["global"]["external_labels"]);
                let got = labels.and_then(|l| l.get("stack"));
                report.same(i, "prometheus.yml external_labels.stack", got, v);
                self.composed(report, i, case, slot);
            }
            Field::SlackChannel => self.slack_channel(report, i, v),
            Field::RunbookBaseUrl => check_runbook(report, i, v, self.yaml),
            _ => self.composed(report, i, case, slot),
        }
    }

    /// Where compose puts a value: the project's name, its containers' names and labels, an
    /// image, an environment variable, a secret's file.
    fn composed(&self, report: &mut Report<'_>, i: usize, case: &Case, slot: &Slot) {
        let Some(c) = self.composed else { return };
        let v = case.value.as_str();
        let services = &c["services"];
        match case.field {
            Field::StackName => {
                report.same(i, "compose name", c.get("name"), v);
                for (_, service) in SERVICES {
                    let s = &services[service];
                    let at = format!("compose {service} container_name");
                    report.same(i, &at, s.get("container_name"), &format!("{v}-{service}"));
                    let at = format!("compose {service} label io.stackgen.project");
                    report.same(i, &at, s["labels"].get("io.stackgen.project"), v);
                }
            }
            Field::Image => {
                let service = SERVICES[slot.service].1;
                let at = format!("compose {service} image");
                report.same(i, &at, services[service].get("image"), v);
            }
            Field::AdminUser => {
                let got = services["grafana"]["environment"].get("GF_SECURITY_ADMIN_USER");
                report.same(i, "compose grafana GF_SECURITY_ADMIN_USER", got, v);
            }
            Field::SecretFile => {
                let want = normalize(&self.root.join(v)).display().to_string();
                let got = c["secrets"]["redis_password"].get("file");
                report.same(i, "compose secrets.redis_password.file", got, &want);
            }
            _ => {}
        }
    }

    /// The default receivers post to the channel, which renders to itself as a Go template.
    fn slack_channel(&self, report: &mut Report<'_>, i: usize, v: &str) {
        let config = self.yaml.get("alertmanager/alertmanager.yml");
        let receivers = config.and_then(|a| a["receivers"].as_array().cloned());
        let receivers = receivers.unwrap_or_default();
        for name in ["slack-critical", "slack-warning"] {
            let receiver = receivers.iter().find(|r| r["name"] == name);
            let got = receiver.and_then(|r| r["slack_configs"][0].get("channel"));
            report.same(i, &format!("alertmanager.yml {name} channel"), got, v);
            if got.and_then(Value::as_str) != Some(v) {
                continue;
            }
            match self.tools.go_template(self.root, v) {
                Ok(text) if text == v => {}
                other => report.fail(
                    i,
                    "a channel is a Go template that does not render to itself",
                    format!("{name}: Alertmanager renders it as {other:?}"),
                ),
            }
        }
    }
}

/// The RedisDown rule links to `<base>#redisdown` (a base ending in `#` loses it; no base, no
/// link), and the generated test, which promtool passed, expects Prometheus to expand the
/// annotation to exactly that.
fn check_runbook(report: &mut Report<'_>, i: usize, base: &str, yaml: &BTreeMap<String, Value>) {
    let want = (!base.is_empty()).then(|| format!("{}#redisdown", base.trim_end_matches('#')));
    let rules = yaml.get("prometheus/rules/redis-alerts.yml");
    let rule = rules.and_then(|r| {
        r["groups"][0]["rules"]
            .as_array()?
            .iter()
            .find(|r| r["alert"] == "RedisDown")
            .cloned()
    });
    let tests = yaml.get("prometheus/rules/redis-alerts.test.yml");
    let expected = tests.and_then(|t| {
        t["tests"].as_array()?.iter().find_map(|t| {
            let checks = t["alert_rule_test"].as_array()?;
            checks
                .iter()
                .filter(|c| c["alertname"] == "RedisDown")
                .find_map(|c| c["exp_alerts"][0].get("exp_annotations").cloned())
        })
    });
    let places = [
        (
            "the RedisDown rule's runbook annotation",
            rule.map(|r| r["annotations"].clone()),
        ),
        ("the RedisDown test's expected (expanded) runbook", expected),
    ];
    for (place, annotations) in places {
        let got = annotations.as_ref().and_then(|a| a.get("runbook"));
        match &want {
            Some(want) => report.same(i, place, got, want),
            None if got.is_some() => report.fail(
                i,
                "accepted, but arrives changed",
                format!("{place}: {got:?}, not none"),
            ),
            None => {}
        }
    }
}
