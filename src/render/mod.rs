//! Render is pure: a resolved [`Stack`] in, every generated file's bytes out, keyed by its
//! path under `generated/<profile>/`. Templates are compiled into the binary; a project's own
//! `templates/<same path>` replaces one of them. Everything rendered is validated (`validate`)
//! before any caller may write it.

pub(crate) mod dashboard;
mod json;
pub(crate) mod kubernetes;
pub(crate) mod rules;
mod secret_shell;
pub(crate) mod slo;
pub(crate) mod validate;
pub(crate) mod watchdog;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tera::{Context, Kwargs, State, Tera, Value};

use crate::alerts::AlertKind;
use crate::error::{Error, Result};
use crate::model::Stack;

/// A generated file, the service whose configuration it is, and its built-in template.
pub(crate) struct FileSpec {
    pub path: &'static str,
    /// The service it configures, or `stack` for the file of the whole stack.
    pub service: &'static str,
    pub template: &'static str,
}

macro_rules! files {
    ($($path:literal => $service:literal,)*) => {
        /// Every file stackgen generates, by its path under `generated/<profile>/`.
        pub(crate) const FILES: &[FileSpec] = &[
            $(FileSpec {
                path: $path,
                service: $service,
                template: include_str!(concat!("../../templates/", $path)),
            },)*
        ];
    };
}

files! {
    "compose.yaml" => "stack",
    "redis/redis.conf" => "redis",
    "prometheus/prometheus.yml" => "prometheus",
    "prometheus/targets/redis.json" => "prometheus",
    "prometheus/rules/redis-alerts.yml" => "prometheus",
    "prometheus/rules/redis-alerts.test.yml" => "prometheus",
    "prometheus/rules/slo.test.yml" => "prometheus",
    "alertmanager/alertmanager.yml" => "alertmanager",
    "alertmanager/templates/slack.tmpl" => "alertmanager",
    "grafana/provisioning/datasources/prometheus.yml" => "grafana",
    "grafana/provisioning/dashboards/dashboards.yml" => "grafana",
    "grafana/dashboards/redis.json" => "grafana",
}

/// Every path any profile may generate, compose and Kubernetes targets alike.
pub(crate) fn all_paths() -> impl Iterator<Item = &'static str> {
    FILES
        .iter()
        .map(|f| f.path)
        .chain(kubernetes::OBJECTS.iter().map(|o| o.path))
}

/// The rendered files of one profile: path under `generated/<profile>/` → contents.
pub(crate) type Tree = BTreeMap<String, String>;

/// A profile's resolved stack and its rendered, validated files.
pub(crate) struct Rendered {
    pub stack: Stack,
    pub tree: Tree,
    /// For a Kubernetes profile, the configuration files inside its objects as the compose
    /// target lays them out (rules, rule tests, prometheus.yml, alertmanager.yml), which the
    /// checkers read; never written. Empty for a compose profile.
    pub configs: Tree,
}

pub(crate) struct Renderer {
    tera: Tera,
    /// Where each template came from, for error messages.
    origins: BTreeMap<&'static str, String>,
}

/// Quotes any value for YAML or JSON: a JSON scalar is also a valid YAML flow scalar.
fn quote(value: Value, _: Kwargs, _: &State) -> tera::TeraResult<String> {
    serde_json::to_string(&value)
        .map(|text| escape_unprintable(&text))
        .map_err(|e| tera::Error::message(e.to_string()))
}

/// JSON text with every character that YAML 1.1 cannot carry raw written as a `\u` escape,
/// which JSON and both YAML versions read alike: C1 controls and DEL (refused by YAML 1.1
/// readers), U+0085, U+2028 and U+2029 (line breaks to YAML 1.1, even inside quotes), the BOM
/// and the non-characters U+FFFE and U+FFFF. Only inside strings: JSON has these nowhere else.
pub(crate) fn escape_unprintable(json: &str) -> String {
    let unprintable = |c: char| {
        matches!(
            c,
            '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        )
    };
    if !json.contains(unprintable) {
        return json.to_string();
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if unprintable(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Any value as block YAML, its lines after the first indented by `indent`: a mapping or list
/// nested where the filter stands.
fn nest(value: Value, kwargs: Kwargs, _: &State) -> tera::TeraResult<String> {
    let indent: usize = kwargs.get("indent")?.unwrap_or(0);
    let json: serde_json::Value =
        serde_json::to_value(&value).map_err(|e| tera::Error::message(e.to_string()))?;
    let text = crate::yaml::to_string(&json).map_err(tera::Error::message)?;
    Ok(indented(text.trim_end(), indent, false))
}

/// Text as a YAML literal block (`|`), its lines indented by `indent`.
fn block(value: Value, kwargs: Kwargs, _: &State) -> tera::TeraResult<String> {
    let indent: usize = kwargs.get("indent")?.unwrap_or(0);
    let text = value
        .as_str()
        .ok_or_else(|| tera::Error::message("`block` takes text"))?;
    Ok(format!("|\n{}", indented(text.trim_end(), indent, true)))
}

fn indented(text: &str, indent: usize, first: bool) -> String {
    let pad = " ".repeat(indent);
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            if (i > 0 || first) && !line.is_empty() {
                format!("{pad}{line}")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Quotes a value for compose.yaml, where `$` starts a variable unless doubled.
fn quote_compose(value: Value, kwargs: Kwargs, state: &State) -> tera::TeraResult<String> {
    quote(value, kwargs, state).map(|text| text.replace('$', "$$"))
}

impl Renderer {
    /// The built-in templates, each replaced by `<templates_dir>/<path>` where that exists.
    pub(crate) fn new(templates_dir: &Path) -> Result<Self> {
        Self::with_overrides(Some(templates_dir))
    }

    /// The built-in templates alone: what an override is compared with.
    pub(crate) fn builtin() -> Result<Self> {
        Self::with_overrides(None)
    }

    fn with_overrides(templates_dir: Option<&Path>) -> Result<Self> {
        let mut tera = Tera::new();
        tera.autoescape_on(Vec::<&str>::new());
        tera.register_filter("json", quote);
        tera.register_filter("yaml", quote);
        tera.register_filter("compose", quote_compose);
        tera.register_filter("nest", nest);
        tera.register_filter("block", block);
        let mut origins = BTreeMap::new();
        // Each template by its path under `templates/`; its origin by the output path.
        let compose = FILES
            .iter()
            .map(|f| (f.path.to_string(), f.path, f.template));
        let objects = kubernetes::OBJECTS
            .iter()
            .map(|o| (kubernetes_template(o.path), o.path, o.template));
        for (name, output, builtin) in compose.chain(objects) {
            let own = templates_dir.map(|dir| dir.join(&name));
            let (origin, text) = if let Some(own) = own.filter(|own| own.is_file()) {
                let text = std::fs::read_to_string(&own).map_err(Error::io(&own))?;
                (own.display().to_string(), text)
            } else {
                (format!("<built-in>/templates/{name}"), builtin.to_string())
            };
            tera.add_raw_template(&name, &text)
                .map_err(|e| Error::Template {
                    origin: origin.clone(),
                    message: e.to_string(),
                })?;
            origins.insert(output, origin);
        }
        if let Some(dir) = templates_dir {
            check_strays(dir)?;
        }
        Ok(Self { tera, origins })
    }

    /// Renders every file the stack needs.
    pub(crate) fn render(&self, stack: &Stack) -> Result<Tree> {
        self.render_all(stack).map(|(tree, _)| tree)
    }

    /// Renders every file the stack needs, and for a Kubernetes profile the configuration
    /// files its objects hold.
    pub(crate) fn render_all(&self, stack: &Stack) -> Result<(Tree, Tree)> {
        let mut context = Context::new();
        context.insert("stack", stack);
        context.insert("rules", &rules::rules(stack));
        let mut rule_tests = rules::rule_tests(stack);
        let watchdog = watchdog::watchdog(stack);
        if let Some(w) = &watchdog {
            let step = rule_tests.evaluation_interval.millis();
            rule_tests.tests.push(watchdog::test(w, step));
        }
        context.insert("rule_tests", &rule_tests);
        context.insert("watchdog", &watchdog);
        context.insert("slo_groups", &slo::groups(stack));
        context.insert("slo_tests", &slo::tests(stack));
        context.insert("panels", &dashboard::panels(stack));
        context.insert("secret_shell", &secret_shell::forms());
        context.insert("receivers", &receivers(stack));
        // The dashboard's datasource: the one stackgen provisions, or under kube-prometheus-stack
        // (whose Grafana has its own) a variable that picks one.
        let datasource = if kubernetes::operator(stack) {
            "${datasource}"
        } else {
            "stackgen-prometheus"
        };
        context.insert("dashboard_datasource", datasource);
        // Alert names by key, for templates that refer to one (inhibition, routing).
        let names: BTreeMap<&str, &str> = AlertKind::ALL
            .iter()
            .map(|kind| (kind.key(), kind.name()))
            .collect();
        context.insert("alert_names", &names);
        context.insert(
            "header",
            &format!(
                "Generated by stackgen from stack.toml (profile {}). Do not edit: change stack.toml and run `stackgen render`.",
                stack.profile
            ),
        );
        // `stack`: the file of the whole stack, always there.
        let enabled = |service: &str| {
            service == "stack"
                || stack
                    .services()
                    .iter()
                    .any(|s| s.name == service && s.enabled)
        };
        let mut tree = Tree::new();
        if stack.kubernetes.is_some() {
            return self.render_kubernetes(stack, context, &enabled);
        }
        for spec in FILES.iter().filter(|spec| enabled(spec.service)) {
            let text = self
                .tera
                .render(spec.path, &context)
                .map_err(|e| Error::Template {
                    origin: self.origins[spec.path].clone(),
                    message: e.to_string(),
                })?;
            tree.insert(spec.path.to_string(), normalize(&text));
        }
        validate::tree(&tree).map_err(|(path, message)| Error::Generated {
            file: format!("generated/{}/{path}", stack.profile),
            template: self.origins[path.as_str()].clone(),
            message,
        })?;
        Ok((tree, Tree::new()))
    }
}

impl Renderer {
    /// The Kubernetes target: the configuration files the compose target would write, rendered
    /// the same way, then one file per object holding them.
    fn render_kubernetes(
        &self,
        stack: &Stack,
        mut context: Context,
        enabled: &dyn Fn(&str) -> bool,
    ) -> Result<(Tree, Tree)> {
        let mut configs = BTreeMap::new();
        for spec in FILES
            .iter()
            .filter(|s| s.service != "stack" && enabled(s.service))
        {
            let text = self.render_one(spec.path, spec.path, &context)?;
            configs.insert(spec.path, text);
        }
        let groups = rule_groups(&configs)?;
        context.insert("configs", &configs);
        context.insert("rule_groups", &groups);
        context.insert("k8s", &kubernetes::context(stack));
        context.insert("checksums", &kubernetes::checksums(&configs));
        let mut tree = Tree::new();
        for object in kubernetes::objects(stack) {
            let name = kubernetes_template(object.path);
            let text = self.render_one(&name, object.path, &context)?;
            tree.insert(object.path.to_string(), text);
        }
        validate::kubernetes(&tree).map_err(|(path, message)| Error::Generated {
            file: format!("generated/{}/{path}", stack.profile),
            template: self.origins[path.as_str()].clone(),
            message,
        })?;
        let configs = configs
            .into_iter()
            .map(|(path, text)| (path.to_string(), text))
            .collect();
        Ok((tree, configs))
    }

    fn render_one(&self, template: &str, path: &str, context: &Context) -> Result<String> {
        self.tera
            .render(template, context)
            .map(|text| normalize(&text))
            .map_err(|e| Error::Template {
                origin: self.origins[path].clone(),
                message: e.to_string(),
            })
    }
}

/// Every template's path under `templates/`: a project's own file there replaces it.
pub(crate) fn template_paths() -> impl Iterator<Item = String> {
    FILES.iter().map(|f| f.path.to_string()).chain(
        kubernetes::OBJECTS
            .iter()
            .map(|o| kubernetes_template(o.path)),
    )
}

/// The template of a Kubernetes object file, under `templates/`.
pub(crate) fn kubernetes_template(path: &str) -> String {
    format!("kubernetes/{path}")
}

/// The rule groups of the compose target's rules file, for a PrometheusRule (the catalogue
/// leaves out, under the operator, the alerts about what kube-prometheus-stack watches itself).
fn rule_groups(configs: &BTreeMap<&str, String>) -> Result<serde_json::Value> {
    let Some(rules) = configs.get("prometheus/rules/redis-alerts.yml") else {
        return Ok(serde_json::Value::Array(Vec::new()));
    };
    let mut file: serde_json::Value =
        crate::yaml::from_str(rules).map_err(|message| Error::Generated {
            file: "prometheus/rules/redis-alerts.yml".into(),
            template: "<built-in>".into(),
            message,
        })?;
    Ok(file["groups"].take())
}

/// A Slack receiver of Alertmanager: its name and channel.
#[derive(serde::Serialize)]
struct Receiver {
    name: String,
    channel: String,
}

/// The receivers: critical and the rest for the default channel, then for each route's.
fn receivers(stack: &Stack) -> Vec<Receiver> {
    let Some(slack) = &stack.alertmanager.slack else {
        return Vec::new();
    };
    let routes = stack.alertmanager.routes.iter().enumerate();
    let channels = std::iter::once(("slack".to_string(), &slack.channel))
        .chain(routes.map(|(i, route)| (format!("route-{}", i + 1), &route.channel)));
    channels
        .flat_map(|(prefix, channel)| {
            ["critical", "warning"].map(|severity| Receiver {
                name: format!("{prefix}-{severity}"),
                channel: channel.clone(),
            })
        })
        .collect()
}

/// `\n` line endings, no trailing blanks, exactly one final newline.
fn normalize(text: &str) -> String {
    let mut out: String = text
        .replace("\r\n", "\n")
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n");
    let trimmed = out.trim_end_matches('\n').len();
    out.truncate(trimmed);
    out.push('\n');
    out
}

/// A file under `templates/` that replaces no generated file is a mistake worth stopping for.
fn check_strays(templates_dir: &Path) -> Result<()> {
    if !templates_dir.is_dir() {
        return Ok(());
    }
    let mut pending = vec![templates_dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).map_err(Error::io(&dir))? {
            let path: PathBuf = entry.map_err(Error::io(&dir))?.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path.strip_prefix(templates_dir).unwrap_or(&path);
            let relative = relative.to_string_lossy().replace('\\', "/");
            if !template_paths().any(|known| known == relative) {
                return Err(Error::StrayTemplate {
                    path,
                    known: template_paths().collect(),
                });
            }
        }
    }
    Ok(())
}
