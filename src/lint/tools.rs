//! Runs the real checkers over a rendered tree, in a private temporary folder: promtool
//! (`check config`, `check rules`, `test rules`) and amtool (`check-config`, with the Slack
//! templates parsed too). A tool that is not installed is reported, not faked.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::diagnostic::Code;
use crate::error::{Error, Result};
use crate::render::Tree;

/// A check that failed or could not run.
pub struct ToolFailure {
    /// The generated file it is about: `generated/<profile>/…`.
    pub file: String,
    pub code: Code,
    /// What the tool said, on one line.
    pub output: String,
}

pub type Failures = Vec<ToolFailure>;

/// Finds a program on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

pub struct TempDir(PathBuf);

impl TempDir {
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs every checker whose input the tree has.
pub fn check(profile: &str, tree: &Tree) -> Result<Failures> {
    let dir = write_tree(tree)?;
    let shown = |path: &str| format!("generated/{profile}/{path}");
    let mut failures = Failures::new();
    if tree.contains_key(PROMETHEUS_CONFIG) {
        promtool(&dir.0, &shown, &mut failures);
    }
    if let Some(text) = tree.get(ALERTMANAGER_CONFIG) {
        amtool(&dir.0, text, &shown, &mut failures)?;
    }
    Ok(failures)
}

const PROMETHEUS_CONFIG: &str = "prometheus/prometheus.yml";
const ALERTMANAGER_CONFIG: &str = "alertmanager/alertmanager.yml";

/// The tree in a private temporary folder, removed when dropped.
pub fn write_tree(tree: &Tree) -> Result<TempDir> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!("stackgen-lint-{}-{nanos}", std::process::id());
    let dir = TempDir(std::env::temp_dir().join(name));
    for (path, text) in tree {
        let target = dir.0.join(path);
        let parent = target.parent().unwrap_or(&dir.0);
        std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
        std::fs::write(&target, text).map_err(Error::io(&target))?;
    }
    Ok(dir)
}

/// A promtool check: the file it is about, its code, where it runs and its arguments.
struct Check {
    file: &'static str,
    code: Code,
    cwd: &'static str,
    args: &'static [&'static str],
}

const PROMTOOL_CHECKS: [Check; 3] = [
    Check {
        file: PROMETHEUS_CONFIG,
        code: Code::PromtoolConfig,
        cwd: "prometheus",
        args: &["check", "config", "prometheus.yml"],
    },
    Check {
        file: "prometheus/rules/redis-alerts.yml",
        code: Code::PromtoolRules,
        cwd: "prometheus",
        args: &["check", "rules", "rules/redis-alerts.yml"],
    },
    Check {
        file: "prometheus/rules/redis-alerts.test.yml",
        code: Code::PromtoolTests,
        cwd: "prometheus/rules",
        args: &["test", "rules", "redis-alerts.test.yml"],
    },
];

fn promtool(dir: &Path, shown: &dyn Fn(&str) -> String, failures: &mut Failures) {
    let Some(promtool) = which("promtool") else {
        failures.push(ToolFailure {
            file: shown(PROMETHEUS_CONFIG),
            code: Code::CheckerMissing,
            output: "promtool is not on PATH: the Prometheus config and rules were not checked \
                     by it"
                .into(),
        });
        return;
    };
    for check in &PROMTOOL_CHECKS {
        let mut command = Command::new(&promtool);
        command.args(check.args).current_dir(dir.join(check.cwd));
        if let Some(output) = run(&mut command) {
            failures.push(ToolFailure {
                file: shown(check.file),
                code: check.code,
                output: format!("promtool {}: {output}", check.args[..2].join(" ")),
            });
        }
    }
}

fn amtool(
    dir: &Path,
    config: &str,
    shown: &dyn Fn(&str) -> String,
    failures: &mut Failures,
) -> Result<()> {
    let Some(amtool) = which("amtool") else {
        failures.push(ToolFailure {
            file: shown(ALERTMANAGER_CONFIG),
            code: Code::CheckerMissing,
            output: "amtool is not on PATH: the Alertmanager config was not checked by it".into(),
        });
        return Ok(());
    };
    // Point the template glob at the rendered templates, so they are parsed too.
    let templates = dir.join("alertmanager/templates");
    let local = config.replace(
        "/etc/alertmanager/templates/",
        &format!("{}/", templates.display()),
    );
    let path = dir.join("alertmanager/alertmanager.local.yml");
    std::fs::write(&path, local).map_err(Error::io(&path))?;
    if let Some(output) = run(Command::new(&amtool).arg("check-config").arg(&path)) {
        let output = output.replace(
            &dir.join("alertmanager").display().to_string(),
            &shown("alertmanager"),
        );
        failures.push(ToolFailure {
            file: shown(ALERTMANAGER_CONFIG),
            code: Code::AmtoolConfig,
            output: format!("amtool check-config: {output}"),
        });
    }
    Ok(())
}

/// Runs a checker; `None` when it passes, else the end of what it said, on one line.
fn run(command: &mut Command) -> Option<String> {
    let output = match command.output() {
        Ok(output) => output,
        Err(e) => return Some(format!("could not run: {e}")),
    };
    if output.status.success() {
        return None;
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    Some(lines[lines.len().saturating_sub(8)..].join(" | "))
}
