//! The Kubernetes target's own keys — namespace, release, storage class, and the project name
//! its labels carry — one value each per operator-mode profile, built by `kubectl kustomize`
//! and read back from every object with the YAML 1.1 loader; each value must also be one
//! Kubernetes accepts where it lands.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use super::batch::{Layout, Toml, blame, render_batch};
use super::semantics::{dns1123_label, dns1123_subdomain, label_value};
use super::tools::Tools;
use super::{Case, Field, Report, grammar};

/// A Kubernetes profile (or `stack.toml`): `[stack] target = "kubernetes"`, its secrets as
/// references to Secrets, and `sets` — (table, key, value, case) — in their tables.
pub fn kubernetes_toml(mode: &str, sets: &[(&str, &str, &str, Option<usize>)]) -> Toml {
    let mut toml = Toml::default();
    let table = |toml: &mut Toml, name: &str, lines: &str| {
        toml.raw(&format!("\n[{name}]"));
        toml.raw(lines);
        for (t, key, value, case) in sets {
            if *t == name {
                toml.set(key, value, *case);
            }
        }
    };
    table(&mut toml, "stack", "target = \"kubernetes\"");
    table(&mut toml, "kubernetes", &format!("mode = \"{mode}\""));
    table(
        &mut toml,
        "redis",
        "password = { secret = \"redis-auth\", key = \"password\" }",
    );
    table(
        &mut toml,
        "alertmanager.slack",
        "webhook_url = { secret = \"slack\", key = \"webhook-url\" }",
    );
    table(
        &mut toml,
        "grafana",
        "admin_password = { secret = \"grafana\", key = \"admin-password\" }",
    );
    toml
}

/// What a batch's profiles render for.
#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    Compose,
    Operator,
    Standalone,
}

impl Kind {
    /// The batches' profiles: a compose one and both Kubernetes modes.
    pub const ALL: [(&'static str, Kind); 3] = [
        ("dev", Kind::Compose),
        ("op", Kind::Operator),
        ("sa", Kind::Standalone),
    ];

    /// The name of the batches' profile of this kind.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("", |(name, _)| name)
    }

    /// The start of a profile of this kind (empty for compose), in `namespace`.
    pub fn profile(self, namespace: &str) -> Toml {
        let sets = [("kubernetes", "namespace", namespace, None)];
        match self {
            Kind::Compose => Toml::default(),
            Kind::Operator => kubernetes_toml("operator", &sets),
            Kind::Standalone => kubernetes_toml("standalone", &sets),
        }
    }
}

/// Where a case's field is set: (table, key).
fn key_of(field: Field) -> (&'static str, &'static str) {
    match field {
        Field::Namespace => ("kubernetes", "namespace"),
        Field::Release => ("kubernetes", "release"),
        Field::StorageClass => ("kubernetes", "storage_class"),
        Field::KubernetesName => ("stack", "name"),
        other => unreachable!("{other} is not a Kubernetes key"),
    }
}

/// A profile holding `part` (at most one case of each field), with a namespace of its own
/// when no case gives one.
fn profile(cases: &[Case], part: &[usize], name: &str) -> Toml {
    let namespace = format!("rt-{name}");
    let mut sets = Vec::new();
    for &i in part {
        let (table, key) = key_of(cases[i].field);
        sets.push((table, key, cases[i].value.as_str(), Some(i)));
    }
    if !sets.iter().any(|s| s.1 == "namespace") {
        sets.push(("kubernetes", "namespace", namespace.as_str(), None));
    }
    kubernetes_toml("operator", &sets)
}

const STACK: &str = "[stack]\nname = \"rtkube\"\nprofile = \"k000\"\n";

/// Profile `k<j>` holds the j-th case of each field.
fn layout(cases: &[Case], pool: &[usize]) -> Layout<String> {
    let mut lay = Layout::new();
    let mut by_field: BTreeMap<Field, Vec<usize>> = BTreeMap::new();
    for &i in pool {
        by_field.entry(cases[i].field).or_default().push(i);
    }
    let profiles = by_field.values().map(Vec::len).max().unwrap_or(0).max(1);
    for j in 0..profiles {
        let name = format!("k{j:03}");
        let part: Vec<usize> = by_field
            .values()
            .filter_map(|list| list.get(j).copied())
            .collect();
        for &i in &part {
            lay.slots.insert(i, name.clone());
        }
        lay.toml(
            &format!("profiles/{name}.toml"),
            profile(cases, &part, &name),
        );
    }
    lay.files.push(("stack.toml".into(), STACK.into()));
    lay
}

/// The isolation's `stack.toml`: a Kubernetes stack with the case (if any) in it.
fn alone(case: Option<&Case>) -> (String, usize) {
    let mut sets = vec![("stack", "profile", "only", None)];
    match case {
        Some(c) => {
            let (table, key) = key_of(c.field);
            sets.push((table, key, c.value.as_str(), Some(0)));
            if c.field != Field::KubernetesName {
                sets.push(("stack", "name", "rtkube", None));
            }
        }
        None => sets.push(("stack", "name", "rtkube", None)),
    }
    if !sets.iter().any(|s| s.1 == "namespace") {
        sets.push(("kubernetes", "namespace", "rt-alone", None));
    }
    let toml = kubernetes_toml("operator", &sets);
    let line = toml.marks.first().map_or(0, |m| m.1);
    (toml.text().to_string(), line)
}

#[test]
fn kubernetes_names_and_labels_arrive_in_every_object_or_are_refused() {
    let Some(tools) = Tools::find() else { return };
    let cases = grammar::kubernetes();
    let mut report = Report::new("kubernetes", &cases);
    let base = [
        ("stack.toml", alone(None).0),
        ("profiles/only.toml", String::new()),
    ];
    let settled = render_batch(
        &mut report,
        |pool| layout(&cases, pool),
        &base,
        |case| alone(Some(case)),
    );
    for &i in &settled.accepted {
        if let Some(grammar) = refused_by_kubernetes(&cases[i]) {
            let why = format!("Kubernetes refuses it as {grammar}");
            report.fail(i, "accepted a value that cannot arrive", why);
        }
    }
    let generated = settled.project.path().join("generated");
    tools.same_in_yaml_11_and_12(&mut report, &generated);
    let mut by_profile: BTreeMap<&String, Vec<usize>> = BTreeMap::new();
    for (&i, profile) in &settled.layout.slots {
        by_profile.entry(profile).or_default().push(i);
    }
    let dirs: Vec<PathBuf> = by_profile.keys().map(|p| generated.join(p)).collect();
    let built = tools.kustomize(&dirs);
    report.phase("kustomized");
    let mut refused = Vec::new();
    for ((_, here), built) in by_profile.iter().zip(built) {
        match built {
            Ok(objects) => {
                for &i in here {
                    check_objects(&mut report, i, &cases[i], &objects);
                }
            }
            Err(_) => refused.push(here.clone()),
        }
    }
    // Which case of a profile kustomize refuses makes it refuse: each in a probe of its own.
    let files = |parts: &[Vec<usize>]| {
        let mut files = vec![("stack.toml".to_string(), STACK.replace("k000", "q000"))];
        for (k, part) in parts.iter().enumerate() {
            let name = format!("q{k:03}");
            let toml = profile(&cases, part, &name);
            files.push((format!("profiles/{name}.toml"), toml.text().to_string()));
        }
        files
    };
    let refuses = |dirs: &[PathBuf]| tools.kustomize_refusals(dirs);
    let cause = "kubectl kustomize refuses the output";
    blame(&mut report, cause, "", refused, files, refuses);
    report.finish();
}

/// The grammar Kubernetes checks a case's value against where it lands, when the value is not
/// in it.
fn refused_by_kubernetes(case: &Case) -> Option<&'static str> {
    let v = case.value.as_str();
    let (valid, grammar) = match case.field {
        Field::Namespace => (dns1123_label(v), "a namespace name (DNS-1123 label)"),
        Field::Release | Field::KubernetesName => (
            label_value(v) && !v.is_empty(),
            "a label value (63 characters, alphanumeric at both ends)",
        ),
        Field::StorageClass => (
            v.is_empty() || dns1123_subdomain(v),
            "a storage class name (DNS-1123 subdomain)",
        ),
        _ => (true, ""),
    };
    (!valid).then_some(grammar)
}

/// The case's value in every object of a profile where it goes.
fn check_objects(report: &mut Report<'_>, i: usize, case: &Case, objects: &[Value]) {
    let v = case.value.as_str();
    let mut claimed = false;
    for object in objects {
        let what = format!(
            "{} {}",
            object["kind"].as_str().unwrap_or("?"),
            object["metadata"]["name"].as_str().unwrap_or("?")
        );
        let labels = &object["metadata"]["labels"];
        match case.field {
            Field::Namespace => report.same(
                i,
                &format!("{what} metadata.namespace"),
                object["metadata"].get("namespace"),
                v,
            ),
            Field::Release => report.same(
                i,
                &format!("{what} label release"),
                labels.get("release"),
                v,
            ),
            Field::KubernetesName => {
                for key in ["app.kubernetes.io/instance", "app.kubernetes.io/part-of"] {
                    report.same(i, &format!("{what} label {key}"), labels.get(key), v);
                }
            }
            Field::StorageClass => {
                let claims = object["spec"]["volumeClaimTemplates"].as_array();
                claimed |= claims.is_some_and(|c| !c.is_empty());
                for claim in claims.into_iter().flatten() {
                    let got = claim["spec"].get("storageClassName");
                    let place = format!("{what} volumeClaimTemplates storageClassName");
                    if v.is_empty() {
                        // No class given: the cluster's default, as documented.
                        if got.is_some() {
                            report.fail(
                                i,
                                "accepted, but arrives changed",
                                format!("{place}: {got:?}"),
                            );
                        }
                    } else {
                        report.same(i, &place, got, v);
                    }
                }
            }
            _ => {}
        }
    }
    if case.field == Field::StorageClass && !claimed {
        report.fail(
            i,
            "an object is missing",
            "no StatefulSet with a volume claim template",
        );
    }
}
