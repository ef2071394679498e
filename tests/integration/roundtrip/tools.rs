//! The tools the families read the output with: promtool, amtool, `kubectl kustomize`, the YAML
//! 1.1 loader (PyYAML) beside stackgen's own YAML 1.2 reading, and Go's text/template as
//! Alertmanager runs it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::Report;
use crate::support::*;

/// The first `n` lines of `text`, each cut at 400 characters.
pub fn first_lines(text: &str, n: usize) -> String {
    let cut = |line: &str| match line.char_indices().nth(400) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    };
    text.lines().take(n).map(cut).collect::<Vec<_>>().join("\n")
}

/// Every alert but RedisDown, to turn off where one rule and its two tests are enough and keep
/// `promtool test rules` short. From the schema, so that a new alert is turned off too.
pub fn other_alerts() -> Vec<String> {
    let schema = Project::empty().run(["schema"]).success();
    let schema: Value = serde_json::from_str(&schema.stdout).unwrap();
    let defs = schema.get("definitions").or(schema.get("$defs")).unwrap();
    let alerts = defs["AlertsTable"]["properties"].as_object().unwrap();
    alerts
        .keys()
        .filter(|k| !matches!(k.as_str(), "redis_down" | "runbook_base_url"))
        .cloned()
        .collect()
}

/// The tools that read the output, found once per test.
pub struct Tools {
    pub promtool: PathBuf,
    pub amtool: PathBuf,
    pub kubectl: PathBuf,
    /// `python3` with PyYAML, the YAML 1.1 loader.
    pub python: PathBuf,
}

impl Tools {
    /// The tools; `None` (after saying why) when the YAML 1.1 loader is missing and
    /// STACKGEN_REQUIRE_DOCKER is not 1.
    pub fn find() -> Option<Self> {
        // The interpreter itself: `python3` on PATH may be a shim that costs a start of its own
        // on every run.
        let found = Command::new(tool("python3"))
            .args(["-c", "import sys, yaml; print(sys.executable)"])
            .output()
            .ok()
            .filter(|o| o.status.success());
        let Some(found) = found else {
            let why =
                "no PyYAML, the YAML 1.1 loader (pip install pyyaml, or Debian's python3-yaml)";
            if std::env::var("STACKGEN_REQUIRE_DOCKER").is_ok_and(|v| v == "1") {
                panic!("STACKGEN_REQUIRE_DOCKER=1 but {why}");
            }
            eprintln!("skipping a round-trip test: {why}");
            return None;
        };
        let python = PathBuf::from(String::from_utf8_lossy(&found.stdout).trim());
        Some(Self {
            promtool: tool("promtool"),
            amtool: tool("amtool"),
            kubectl: tool("kubectl"),
            python,
        })
    }

    /// Each file's documents as PyYAML's `safe_load_all` (YAML 1.1, libyaml's parser where
    /// PyYAML has it) reads them, as JSON: keys that are not strings, and values JSON has no
    /// form for (timestamps, NaN), become `"!type:repr"` so that they differ from any string.
    /// `kustomized`: the output of `kubectl kustomize`, which writes `=` and `<<` plain where
    /// they are values; PyYAML types them (YAML 1.1's `value` and `merge` types) where Go's
    /// YAML readers, which read that output, see strings, so they are read as strings.
    pub fn yaml11(&self, files: &[PathBuf], kustomized: bool) -> Vec<Result<Vec<Value>, String>> {
        const SCRIPT: &str = r#"
import json, math, sys, yaml
class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    pass
if sys.argv[1] == "kustomized":
    for tag in ("value", "merge"):
        Loader.add_constructor("tag:yaml.org,2002:" + tag, lambda l, n: l.construct_scalar(n))
def norm(x):
    if isinstance(x, dict):
        return {(k if isinstance(k, str) else "!%s:%r" % (type(k).__name__, k)): norm(v)
                for k, v in x.items()}
    if isinstance(x, list):
        return [norm(v) for v in x]
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return "!float:%r" % x
    if x is None or isinstance(x, (str, bool, int, float)):
        return x
    return "!%s:%r" % (type(x).__name__, x)
out = []
for path in sys.argv[2:]:
    try:
        with open(path, encoding="utf-8") as f:
            out.append({"ok": [norm(d) for d in yaml.load_all(f, Loader=Loader)]})
    except Exception as e:
        out.append({"error": "%s: %s" % (type(e).__name__, e)})
print(json.dumps(out))
"#;
        if files.is_empty() {
            return Vec::new();
        }
        let output = Command::new(&self.python)
            .arg("-c")
            .arg(SCRIPT)
            .arg(if kustomized {
                "kustomized"
            } else {
                "generated"
            })
            .args(files)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "PyYAML: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let all: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
        all.into_iter()
            .map(|r| match r.get("ok") {
                Some(Value::Array(docs)) => Ok(docs.clone()),
                _ => Err(r["error"].as_str().unwrap_or("?").to_string()),
            })
            .collect()
    }

    /// Every YAML file under `root` (every profile's tree) read by the YAML 1.1 loader, which
    /// must read what the YAML 1.2 reading (stackgen's) reads: path under `root` → its one
    /// document.
    pub fn same_in_yaml_11_and_12(
        &self,
        report: &mut Report<'_>,
        root: &Path,
    ) -> BTreeMap<String, Value> {
        let files: Vec<PathBuf> = snapshot(root)
            .into_keys()
            .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
            .collect();
        let paths: Vec<PathBuf> = files.iter().map(|f| root.join(f)).collect();
        let mut out = BTreeMap::new();
        for (file, read) in files.iter().zip(self.yaml11(&paths, false)) {
            let name = file.to_string_lossy().into_owned();
            let text = std::fs::read_to_string(root.join(file)).unwrap();
            let v12: Result<Value, String> = stackgen::yaml::from_str(&text);
            match (read, v12) {
                (Ok(mut docs), Ok(v12)) if docs.len() == 1 => {
                    let v11 = docs.remove(0);
                    if let Some(diff) = difference(&v11, &v12, "") {
                        report.fail_batch(
                            "YAML 1.1 reads another value than YAML 1.2",
                            format!("{name}: {diff}"),
                        );
                    }
                    out.insert(name, v11);
                }
                (read, v12) => report.fail_batch(
                    "YAML 1.1 reads another value than YAML 1.2",
                    format!("{name}: YAML 1.1 {read:?}; YAML 1.2 {v12:?}"),
                ),
            }
        }
        out
    }

    /// Go's text/template as Alertmanager runs it (`amtool template render`), for text with a
    /// `{{`; text without one is literal text to text/template, whose lexer starts an action
    /// only at its left delimiter.
    pub fn go_template(&self, dir: &Path, text: &str) -> Result<String, String> {
        if !text.contains("{{") {
            return Ok(text.to_string());
        }
        if text.contains('\0') {
            return Err("amtool cannot be given a NUL in an argument".into());
        }
        let glob = dir.join("empty.tmpl");
        std::fs::write(&glob, "").unwrap();
        let output = Command::new(&self.amtool)
            .arg("template")
            .arg("render")
            .arg(format!("--template.glob={}", glob.display()))
            .arg(format!("--template.text={text}"))
            .output()
            .unwrap();
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
        }
    }

    /// `kubectl kustomize` of each tree, its objects read by the YAML 1.1 loader; the output
    /// is kept beside each tree as `<tree>.kustomized.yaml`.
    pub fn kustomize(&self, dirs: &[PathBuf]) -> Vec<Result<Vec<Value>, String>> {
        let built = parallel(dirs, |dir| {
            let output = Command::new(&self.kubectl)
                .arg("kustomize")
                .arg(dir)
                .output()
                .unwrap();
            // Beside `generated/`, not in it.
            let name = dir.file_name().unwrap().to_string_lossy();
            let out = dir
                .parent()
                .unwrap()
                .with_file_name(format!("{name}.kustomized.yaml"));
            std::fs::write(&out, &output.stdout).unwrap();
            // kubectl prints the whole object it failed on before the reason: the reason.
            let stderr = String::from_utf8_lossy(&output.stderr);
            let stderr = match stderr.trim().rsplit_once("}: ") {
                Some((_, why)) => format!("kubectl kustomize: {}", why.trim_end_matches('"')),
                None => first_lines(&stderr, 8),
            };
            (out, output.status.success().then_some(()).ok_or(stderr))
        });
        let files: Vec<PathBuf> = built.iter().map(|(out, _)| out.clone()).collect();
        let read = self.yaml11(&files, true);
        built
            .into_iter()
            .zip(read)
            .map(|((_, built), read)| built.and(read))
            .collect()
    }

    /// Why `kubectl kustomize` (or the YAML 1.1 loader) refuses each tree, if it does.
    pub fn kustomize_refusals(&self, dirs: &[PathBuf]) -> Vec<Option<String>> {
        self.kustomize(dirs).into_iter().map(Result::err).collect()
    }
}

/// Runs `cmd`; its output, or the failure with its output.
pub fn run_tool(cmd: &mut Command) -> Result<String, String> {
    let output = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.status.success() {
        Ok(text)
    } else {
        Err(format!("{cmd:?} failed:\n{}", first_lines(&text, 20)))
    }
}

/// The first place two JSON values differ, as `path: a vs b`.
pub fn difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| match (x.get(k), y.get(k)) {
                (Some(p), Some(q)) => difference(p, q, &format!("{path}.{k}")),
                (p, q) => Some(format!("{path}.{k}: {p:?} vs {q:?}")),
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| difference(p, q, &format!("{path}[{i}]"))),
        (Value::Number(x), Value::Number(y)) if x.as_f64() == y.as_f64() => None,
        _ if a == b => None,
        _ => Some(format!("{path}: {a} vs {b}")),
    }
}

/// Runs `f` over `items` on two threads (the machine's cores), in order of the items.
pub fn parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let half = items.len().div_ceil(2);
    std::thread::scope(|s| {
        let chunks: Vec<_> = items
            .chunks(half.max(1))
            .map(|chunk| s.spawn(|| chunk.iter().map(&f).collect::<Vec<_>>()))
            .collect();
        chunks.into_iter().flat_map(|h| h.join().unwrap()).collect()
    })
}

/// The compose v2 binary the tests pin (found by `support::compose_binary`, which says why and
/// skips, or fails under STACKGEN_REQUIRE_DOCKER=1, when it is missing), run directly.
pub fn compose() -> Option<PathBuf> {
    compose_binary().map(direct)
}

/// The compose binary itself: `docker-compose` on PATH may be a script (a pyenv shim, a Python
/// launcher) that costs a Python start on every run; the package's own binary is beside its
/// module.
fn direct(found: PathBuf) -> PathBuf {
    let script = std::fs::read(&found).is_ok_and(|bytes| bytes.starts_with(b"#!"));
    let code = "import compose, os; print(os.path.dirname(compose.__file__))";
    let beside = || {
        let output = Command::new("python3").args(["-c", code]).output().ok()?;
        let dir = String::from_utf8(output.stdout).ok()?;
        Some(Path::new(dir.trim()).join("docker-compose")).filter(|p| p.is_file())
    };
    match script.then(beside).flatten() {
        Some(binary) => binary,
        None => found,
    }
}

/// `docker compose -f FILE config --format json`: the model compose reads from the file, its
/// values as the engine gets them. Its warnings (an unset variable: a `$` that was not escaped)
/// are not part of it.
pub fn compose_config(compose: &Path, file: &Path) -> Result<Value, String> {
    let mut cmd = Command::new(compose);
    cmd.arg("-f").arg(file).args(["config", "--format", "json"]);
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("{cmd:?} failed:\n{}", first_lines(&stderr, 20)));
    }
    let json = serde_json::from_slice(&output.stdout);
    let json = json.map_err(|e| format!("compose config: {e}; {}", first_lines(&stderr, 4)))?;
    Ok(unescape_dollars(json))
}

/// `docker compose config` prints every `$` of a value as `$$`, so that its output reads
/// back as a compose file: the values themselves have one.
fn unescape_dollars(value: Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.replace("$$", "$")),
        Value::Array(items) => Value::Array(items.into_iter().map(unescape_dollars).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k.replace("$$", "$"), unescape_dollars(v)))
                .collect(),
        ),
        other => other,
    }
}

/// `path` without `.` and `..` components, as compose resolves a relative path.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}
