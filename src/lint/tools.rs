//! Runs the real checkers over a rendered tree, in a private temporary folder: promtool
//! (`check config`, `check rules`, `test rules`) and amtool (`check-config`, with the Slack
//! templates parsed too). A tool that is not installed is reported, not faked.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};
use crate::render::Tree;

/// (generated file, code, what the tool said) for every check that failed or could not run.
pub type Failures = Vec<(String, &'static str, String)>;

/// Finds a program on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn check(profile: &str, tree: &Tree) -> Result<Failures> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir =
        TempDir(std::env::temp_dir().join(format!("stackgen-lint-{}-{nanos}", std::process::id())));
    for (path, text) in tree {
        let target = dir.0.join(path);
        let parent = target.parent().unwrap_or(&dir.0);
        std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
        std::fs::write(&target, text).map_err(Error::io(&target))?;
    }
    let shown = |path: &str| format!("generated/{profile}/{path}");
    let mut failures = Failures::new();

    let prometheus_files = [
        "prometheus/prometheus.yml",
        "prometheus/rules/redis-alerts.yml",
    ];
    if tree.contains_key(prometheus_files[0]) {
        match which("promtool") {
            None => failures.push((
                shown(prometheus_files[0]),
                "SG306",
                "promtool is not on PATH: the Prometheus config and rules were not checked by it"
                    .into(),
            )),
            Some(promtool) => {
                let prometheus = dir.0.join("prometheus");
                let checks: [(&str, &'static str, &Path, &[&str]); 3] = [
                    (
                        "prometheus/prometheus.yml",
                        "SG302",
                        &prometheus,
                        &["check", "config", "prometheus.yml"],
                    ),
                    (
                        "prometheus/rules/redis-alerts.yml",
                        "SG303",
                        &prometheus,
                        &["check", "rules", "rules/redis-alerts.yml"],
                    ),
                    (
                        "prometheus/rules/redis-alerts.test.yml",
                        "SG304",
                        &prometheus.join("rules"),
                        &["test", "rules", "redis-alerts.test.yml"],
                    ),
                ];
                for (file, code, cwd, args) in checks {
                    if let Some(output) = run(Command::new(&promtool).args(args).current_dir(cwd)) {
                        failures.push((
                            shown(file),
                            code,
                            format!("promtool {}: {output}", args[..2].join(" ")),
                        ));
                    }
                }
            }
        }
    }

    let alertmanager = "alertmanager/alertmanager.yml";
    if let Some(text) = tree.get(alertmanager) {
        match which("amtool") {
            None => failures.push((
                shown(alertmanager),
                "SG306",
                "amtool is not on PATH: the Alertmanager config was not checked by it".into(),
            )),
            Some(amtool) => {
                // Point the template glob at the rendered templates, so they are parsed too.
                let templates = dir.0.join("alertmanager/templates");
                let local = text.replace(
                    "/etc/alertmanager/templates/",
                    &format!("{}/", templates.display()),
                );
                let config = dir.0.join("alertmanager/alertmanager.local.yml");
                std::fs::write(&config, local).map_err(Error::io(&config))?;
                if let Some(output) = run(Command::new(&amtool).arg("check-config").arg(&config)) {
                    let output = output.replace(
                        &dir.0.join("alertmanager").display().to_string(),
                        &shown("alertmanager"),
                    );
                    failures.push((
                        shown(alertmanager),
                        "SG305",
                        format!("amtool check-config: {output}"),
                    ));
                }
            }
        }
    }
    Ok(failures)
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
