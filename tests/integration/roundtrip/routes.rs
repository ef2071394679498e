//! Alert routes by label: each matcher value and name must route, by `amtool config routes
//! test`, the alerts that carry it to its route's receiver and no other alert; each channel
//! must arrive in `alertmanager.yml` (`amtool check-config`, the YAML 1.1 loader) and render
//! to itself as a Go template. On Kubernetes the AlertmanagerConfig carries the same matchers
//! and channels, and the standalone Alertmanager's ConfigMap the compose target's matchers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use super::batch::{Layout, Settled, Toml, blame, kustomize_probe, render_batch, without};
use super::kube::Kind;
use super::semantics::matcher_label;
use super::tools::{Tools, parallel, run_tool};
use super::{Case, Field, Report, grammar};

/// A route: its position (1-based, as in its receivers' names), its one matcher and its
/// channel, and whether its case is its matcher (else its channel).
struct Route {
    index: usize,
    label: String,
    value: String,
    channel: String,
    by_matcher: bool,
}

type Routes = BTreeMap<usize, Route>;

const DEFAULT_CHANNEL: &str = "#default";
const ROUTE_CHANNEL: &str = "#route";
const NAMESPACE: &str = "rt-routes";

fn head(profile: &str) -> Toml {
    let mut toml = Toml::default();
    toml.raw(&format!(
        "[stack]\nname = \"rtroutes\"\nprofile = \"{profile}\""
    ));
    toml.raw("\n[redis]\npassword = { file = \"secrets/redis_password.txt\" }");
    toml.raw("\n[alertmanager.slack]\nwebhook_url = { env = \"SLACK_WEBHOOK_URL\" }");
    toml.set("channel", DEFAULT_CHANNEL, None);
    toml
}

/// A route per case of `subset`: its matcher a label of its own, unless the case is its
/// channel.
fn routes(toml: &mut Toml, cases: &[Case], subset: &[usize]) -> Routes {
    let mut slots = Routes::new();
    for (n, &i) in subset.iter().enumerate() {
        let v = cases[i].value.clone();
        let (label, value, channel) = match cases[i].field {
            Field::MatchValue => (format!("m{i:03}"), v, ROUTE_CHANNEL.to_string()),
            Field::MatchName => (v, format!("n{i:03}"), ROUTE_CHANNEL.to_string()),
            _ => (format!("c{i:03}"), format!("c{i:03}"), v),
        };
        let by_matcher = cases[i].field != Field::RouteChannel;
        toml.raw("\n[[alertmanager.routes]]");
        toml.set("channel", &channel, (!by_matcher).then_some(i));
        toml.raw("[alertmanager.routes.match]");
        let key = grammar::toml_string(&label);
        toml.set(&key, &value, by_matcher.then_some(i));
        let index = n + 1;
        let route = Route {
            index,
            label,
            value,
            channel,
            by_matcher,
        };
        slots.insert(i, route);
    }
    slots
}

/// The batch: every route in `stack.toml`; a compose profile and both Kubernetes modes.
fn layout(cases: &[Case], pool: &[usize]) -> Layout<Route> {
    let mut lay = Layout::new();
    let mut toml = head("dev");
    lay.slots = routes(&mut toml, cases, pool);
    lay.toml("stack.toml", toml);
    for (name, kind) in Kind::ALL {
        let profile = kind.profile(NAMESPACE);
        let file = format!("profiles/{name}.toml");
        lay.files.push((file, profile.text().to_string()));
    }
    lay
}

/// A probe: profile `q<k>` of `kind` holds part `k`'s routes.
fn probe_files(cases: &[Case], parts: &[Vec<usize>], kind: Kind) -> Vec<(String, String)> {
    let mut files = vec![("stack.toml".to_string(), head("q000").text().to_string())];
    for (k, part) in parts.iter().enumerate() {
        let mut toml = kind.profile(NAMESPACE);
        routes(&mut toml, cases, part);
        files.push((format!("profiles/q{k:03}.toml"), toml.text().to_string()));
    }
    files
}

/// The isolation's `stack.toml`: one route, the case in it.
fn alone(case: Option<&Case>) -> (String, usize) {
    let mut toml = head("dev");
    let field = case.map(|c| c.field);
    let value = |f: Field, default: &str| match case {
        Some(c) if c.field == f => c.value.clone(),
        _ => default.to_string(),
    };
    let marked = |f: Field| (field == Some(f)).then_some(0);
    toml.raw("\n[[alertmanager.routes]]");
    let channel = value(Field::RouteChannel, "#prod");
    toml.set("channel", &channel, marked(Field::RouteChannel));
    toml.raw("[alertmanager.routes.match]");
    let name = grammar::toml_string(&value(Field::MatchName, "env"));
    let matched = marked(Field::MatchName).or(marked(Field::MatchValue));
    toml.set(&name, &value(Field::MatchValue, "prod"), matched);
    let line = toml.marks.first().map_or(0, |m| m.1);
    (toml.text().to_string(), line)
}

#[test]
fn route_matchers_choose_their_receiver_and_channels_arrive_as_written() {
    let Some(tools) = Tools::find() else { return };
    let cases = grammar::routes();
    let mut report = Report::new("routes", &cases);
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
    for (&i, route) in &settled.layout.slots {
        if route.value.is_empty() && cases[i].field == Field::MatchValue {
            report.fail(
                i,
                "accepted a value that cannot arrive",
                "Alertmanager's `label=\"\"` matches every alert without the label: it must be \
                 refused",
            );
        }
    }
    let generated = settled.project.path().join("generated");
    let yaml = tools.same_in_yaml_11_and_12(&mut report, &generated);
    let compose = yaml.get("dev/alertmanager/alertmanager.yml");
    let slots = &settled.layout.slots;
    let ctx = Ctx {
        tools: &tools,
        root: settled.project.path(),
    };
    if let Some(config) = compose {
        ctx.channels(
            &mut report,
            slots,
            config,
            "alertmanager.yml",
            "slack_configs",
        );
    }
    let config = generated.join("dev/alertmanager/alertmanager.yml");
    check_routing(&tools, &mut report, slots, &config);
    report.phase("routes tested");
    // Each case's matchers as the compose target writes them, which amtool routed.
    let matchers: BTreeMap<usize, Value> = slots
        .iter()
        .filter_map(|(&i, r)| {
            let route = &compose?["route"]["routes"][r.index - 1];
            Some((i, route["matchers"].clone()))
        })
        .collect();
    for (_, kind) in Kind::ALL {
        let blamed = blame_refusal(&tools, &mut report, &settled, kind);
        if kind != Kind::Compose {
            ctx.kubernetes(&mut report, &settled, kind, &blamed, &matchers);
        }
    }
    report.phase("tools run");
    report.finish();
}

/// Which cases make a tool refuse the batch's tree of `kind`, each found in a probe of its own.
fn blame_refusal(
    tools: &Tools,
    report: &mut Report<'_>,
    settled: &Settled<Route>,
    kind: Kind,
) -> BTreeSet<usize> {
    let dir = settled.project.path().join("generated").join(kind.name());
    let Some(why) = refusals(tools, kind, &[dir]).remove(0) else {
        return BTreeSet::new();
    };
    let cause = match kind {
        Kind::Compose => "amtool refuses the output",
        _ => "kubectl kustomize refuses the output",
    };
    let cases = report.cases();
    let files = |parts: &[Vec<usize>]| probe_files(cases, parts, kind);
    let refuses = |dirs: &[PathBuf]| refusals(tools, kind, dirs);
    let groups = vec![settled.accepted.clone()];
    blame(report, cause, &why, groups, files, refuses)
}

/// Why the tools refuse each tree, if they do: `amtool check-config` on a compose tree's
/// `alertmanager.yml`; `kubectl kustomize` on a Kubernetes tree, and amtool on the standalone
/// Alertmanager's.
fn refusals(tools: &Tools, kind: Kind, dirs: &[PathBuf]) -> Vec<Option<String>> {
    let amtool = |file: &Path| {
        let mut cmd = Command::new(&tools.amtool);
        run_tool(cmd.arg("check-config").arg(file)).err()
    };
    if kind == Kind::Compose {
        return parallel(dirs, |dir| {
            amtool(&dir.join("alertmanager/alertmanager.yml"))
        });
    }
    let built: Vec<(&PathBuf, _)> = dirs.iter().zip(tools.kustomize(dirs)).collect();
    parallel(&built, |(dir, objects)| {
        let objects = match objects {
            Ok(objects) => objects,
            Err(why) => return Some(why.clone()),
        };
        if kind == Kind::Operator {
            return None;
        }
        let Some(text) = embedded_config(objects) else {
            return Some("no ConfigMap alertmanager with alertmanager.yml".into());
        };
        // Beside `generated/`, not in it.
        let name = dir.file_name()?.to_string_lossy();
        let file = dir
            .parent()?
            .with_file_name(format!("{name}-alertmanager.yml"));
        std::fs::write(&file, text).unwrap();
        amtool(&file)
    })
}

/// The standalone Alertmanager's `alertmanager.yml`, from its ConfigMap.
fn embedded_config(objects: &[Value]) -> Option<String> {
    let map = objects
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == "alertmanager")?;
    map["data"]["alertmanager.yml"].as_str().map(String::from)
}

/// `amtool config routes test`: an alert with a route's label goes to the route's critical
/// receiver; alerts with none of the routes' labels, or with other values, to the default's.
fn check_routing(tools: &Tools, report: &mut Report<'_>, slots: &Routes, config: &Path) {
    let test = |labels: &[String]| {
        let output = Command::new(&tools.amtool)
            .args(["config", "routes", "test"])
            .arg(format!("--config.file={}", config.display()))
            .args(labels)
            .args(["severity=critical", "alertname=RedisDown"])
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&output.stdout).trim().to_string();
        if output.status.success() {
            out
        } else {
            let err = String::from_utf8_lossy(&output.stderr);
            format!("{out} (failed: {})", err.trim())
        }
    };
    // The routes whose matcher is their case; an argument cannot hold NUL, so such a value is
    // not given to amtool (its matcher is still read back from the AlertmanagerConfig).
    let routes: Vec<(usize, &Route, String)> = slots
        .iter()
        .filter(|(_, r)| r.by_matcher)
        .map(|(&i, r)| (i, r, matcher_label(&r.label, &r.value)))
        .filter(|(_, _, label)| !label.contains('\0'))
        .collect();
    let chosen = parallel(&routes, |(_, _, label)| test(std::slice::from_ref(label)));
    for ((i, route, label), chosen) in routes.iter().zip(chosen) {
        let want = format!("route-{}-critical", route.index);
        if chosen != want {
            report.fail(
                *i,
                "a matcher does not route its own value",
                format!("amtool routes {label} to {chosen}, not {want}"),
            );
        }
    }
    let near_misses: Vec<String> = routes
        .iter()
        .map(|(_, r, _)| matcher_label(&r.label, &format!("{}~", r.value)))
        .collect();
    let negatives = [
        ("no route's label", vec![]),
        ("every route's label with another value", near_misses),
    ];
    for (what, labels) in negatives {
        let chosen = test(&labels);
        if chosen == "slack-critical" {
            continue;
        }
        let culprit = routes
            .iter()
            .find(|(_, r, _)| chosen.starts_with(&format!("route-{}-", r.index)));
        let detail = format!("an alert with {what} goes to {chosen}, not slack-critical");
        let cause = "a route takes alerts that do not match it";
        match culprit {
            Some((i, ..)) => report.fail(*i, cause, detail),
            None => report.fail_batch(cause, detail),
        }
    }
}

/// Where the family reads with what.
struct Ctx<'a> {
    tools: &'a Tools,
    root: &'a Path,
}

impl Ctx<'_> {
    /// Each route's receivers (in `config`, their Slack settings under `configs_key`) post to
    /// its channel, which renders to itself as a Go template.
    fn channels(
        &self,
        report: &mut Report<'_>,
        slots: &Routes,
        config: &Value,
        place: &str,
        configs_key: &str,
    ) {
        let receivers = config["receivers"].as_array().cloned().unwrap_or_default();
        let channel_of = |name: &str| {
            let receiver = receivers.iter().find(|r| r["name"] == name)?;
            receiver[configs_key][0].get("channel").cloned()
        };
        for (&i, route) in slots {
            for severity in ["critical", "warning"] {
                let name = format!("route-{}-{severity}", route.index);
                let got = channel_of(&name);
                let at = format!("{place} receiver {name} channel");
                report.same(i, &at, got.as_ref(), &route.channel);
                if got.as_ref().and_then(Value::as_str) != Some(route.channel.as_str()) {
                    continue;
                }
                match self.tools.go_template(self.root, &route.channel) {
                    Ok(text) if text == route.channel => {}
                    other => report.fail(
                        i,
                        "a channel is a Go template that does not render to itself",
                        format!("{place} {name}: Alertmanager renders it as {other:?}"),
                    ),
                }
            }
        }
    }

    /// The objects of a Kubernetes tree: the batch's, or — when some cases make kustomize
    /// refuse it — those of a probe of the batch without them. The AlertmanagerConfig
    /// (operator) holds each route's matcher and channel; the standalone Alertmanager's
    /// `alertmanager.yml` each route's matchers as the compose target writes them (`matchers`,
    /// by case) and its channels.
    fn kubernetes(
        &self,
        report: &mut Report<'_>,
        settled: &Settled<Route>,
        kind: Kind,
        blamed: &BTreeSet<usize>,
        matchers: &BTreeMap<usize, Value>,
    ) {
        let cases = report.cases();
        let dir = settled.project.path().join("generated").join(kind.name());
        let (own, objects) = if blamed.is_empty() {
            (None, self.tools.kustomize(&[dir]).remove(0))
        } else {
            let rest = without(&settled.accepted, blamed);
            let own = routes(&mut Toml::default(), cases, &rest);
            let files = probe_files(cases, &[rest], kind);
            (Some(own), kustomize_probe(self.tools, &files))
        };
        let slots = own.as_ref().unwrap_or(&settled.layout.slots);
        let objects = match objects {
            Ok(objects) => objects,
            Err(why) => return report.fail_batch("kubectl kustomize refuses the output", why),
        };
        if kind == Kind::Operator {
            self.alertmanager_config(report, slots, &objects);
        } else {
            self.standalone(report, slots, &objects, matchers);
        }
    }

    fn alertmanager_config(&self, report: &mut Report<'_>, slots: &Routes, objects: &[Value]) {
        let config = objects
            .iter()
            .find(|o| o["kind"] == "AlertmanagerConfig" && o["metadata"]["name"] == "redis");
        let Some(config) = config else {
            return report.fail_batch("an object is missing", "no AlertmanagerConfig redis");
        };
        let spec = &config["spec"];
        self.channels(report, slots, spec, "AlertmanagerConfig", "slackConfigs");
        for (&i, route) in slots {
            let got = &spec["route"]["routes"][route.index - 1]["matchers"];
            let want = json!([{ "name": route.label, "value": route.value, "matchType": "=" }]);
            if *got != want {
                let detail = format!("AlertmanagerConfig route {} matchers: {got}", route.index);
                report.fail(i, "accepted, but arrives changed", detail);
            }
        }
    }

    fn standalone(
        &self,
        report: &mut Report<'_>,
        slots: &Routes,
        objects: &[Value],
        matchers: &BTreeMap<usize, Value>,
    ) {
        let Some(text) = embedded_config(objects) else {
            return report.fail_batch("an object is missing", "no ConfigMap alertmanager");
        };
        let file = self.root.join("standalone-alertmanager.yml");
        std::fs::write(&file, &text).unwrap();
        let embedded = match self.tools.yaml11(&[file], false).remove(0) {
            Ok(mut docs) if docs.len() == 1 => docs.remove(0),
            other => {
                let detail = format!("ConfigMap alertmanager: {other:?}");
                return report.fail_batch("YAML 1.1 reads another value than YAML 1.2", detail);
            }
        };
        let place = "ConfigMap alertmanager: alertmanager.yml";
        self.channels(report, slots, &embedded, place, "slack_configs");
        for (&i, route) in slots {
            let got = &embedded["route"]["routes"][route.index - 1]["matchers"];
            if matchers.get(&i) != Some(got) {
                let detail = format!("{place} route {} matchers: {got}", route.index);
                report.fail(i, "accepted, but arrives changed", detail);
            }
        }
    }
}
