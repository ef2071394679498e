//! Runs the real checkers over a rendered tree, in a private temporary folder: promtool
//! (`check config`, `check rules`, `test rules`) and amtool (`check-config`, with the Slack
//! templates parsed too). A tool that is not installed is reported, not faked; one that runs
//! past [`TIME_LIMIT`] is stopped and reported, so that lint never hangs on a checker.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::diagnostic::Code;
use crate::error::{Error, Result};
use crate::render::Tree;

/// A check that failed or could not run.
pub(super) struct ToolFailure {
    /// The generated file it is about: `generated/<profile>/…`.
    pub file: String,
    pub code: Code,
    /// What the tool said, on one line.
    pub output: String,
}

pub(super) type Failures = Vec<ToolFailure>;

/// Finds a program on PATH.
pub(super) fn which(program: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

pub(super) struct TempDir(PathBuf);

impl TempDir {
    pub(super) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// How long one run of a checker may take. The generated rule tests take promtool a few
/// seconds whatever the stack (`render::rules::EVALUATIONS`); a run past this is stopped and
/// is a finding about the file it checks.
pub(super) const TIME_LIMIT: Duration = Duration::from_secs(60);

/// Runs every checker whose input the tree has.
pub(super) fn check(profile: &str, tree: &Tree) -> Result<Failures> {
    let dir = write_tree(tree)?;
    let shown = |path: &str| format!("generated/{profile}/{path}");
    let mut failures = Failures::new();
    if tree.contains_key(PROMETHEUS_CONFIG) {
        match which("promtool") {
            Some(promtool) => promtool_checks(&promtool, &dir.0, &shown, TIME_LIMIT, &mut failures),
            None => failures.push(ToolFailure {
                file: shown(PROMETHEUS_CONFIG),
                code: Code::CheckerMissing,
                output: "promtool is not on PATH: the Prometheus config and rules were not \
                         checked by it"
                    .into(),
            }),
        }
    }
    if let Some(text) = tree.get(ALERTMANAGER_CONFIG) {
        amtool(&dir.0, text, &shown, &mut failures)?;
    }
    Ok(failures)
}

const PROMETHEUS_CONFIG: &str = "prometheus/prometheus.yml";
const ALERTMANAGER_CONFIG: &str = "alertmanager/alertmanager.yml";

/// The tree in a private temporary folder, removed when dropped.
pub(super) fn write_tree(tree: &Tree) -> Result<TempDir> {
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

const PROMTOOL_CHECKS: [Check; 4] = [
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
    Check {
        file: "prometheus/rules/slo.test.yml",
        code: Code::PromtoolTests,
        cwd: "prometheus/rules",
        args: &["test", "rules", "slo.test.yml"],
    },
];

fn promtool_checks(
    promtool: &Path,
    dir: &Path,
    shown: &dyn Fn(&str) -> String,
    limit: Duration,
    failures: &mut Failures,
) {
    for check in &PROMTOOL_CHECKS {
        let mut command = Command::new(promtool);
        command.args(check.args).current_dir(dir.join(check.cwd));
        if let Some(output) = run(&mut command, limit) {
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
    let mut command = Command::new(&amtool);
    command.arg("check-config").arg(&path);
    if let Some(output) = run(&mut command, TIME_LIMIT) {
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

/// Runs a checker for at most `limit`; `None` when it passes, else the end of what it said,
/// on one line, or that it did not finish.
fn run(command: &mut Command, limit: Duration) -> Option<String> {
    let spawned = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => return Some(format!("could not run: {e}")),
    };
    // Read both pipes as the tool writes, so that it never blocks on a full one.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = match wait_within(&mut child, limit) {
        Ok(Some(status)) => status,
        // The readers are left behind: whatever else holds the pipes may keep them open.
        Ok(None) => {
            return Some(format!(
                "did not finish within {} s, and was stopped",
                limit.as_secs_f64()
            ));
        }
        Err(e) => return Some(format!("could not wait for it: {e}")),
    };
    if status.success() {
        return None;
    }
    let text = [stdout, stderr]
        .map(|reader| reader.join().unwrap_or_default())
        .concat();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    Some(lines[lines.len().saturating_sub(8)..].join(" | "))
}

/// Everything a pipe gives until it closes, read on its own thread.
fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// Waits for the child until `limit` has passed; then kills it, reaps it and says `None`.
fn wait_within(child: &mut Child, limit: Duration) -> std::io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + limit;
    // Short naps first: most checks end within a second.
    let mut nap = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let now = Instant::now();
        if now >= deadline {
            // It may have exited in between: killing a reaped-to-be child is harmless.
            let _ = child.kill();
            child.wait()?;
            return Ok(None);
        }
        std::thread::sleep(nap.min(deadline - now));
        nap = (nap * 2).min(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A limit far below the real one, for checkers that never end.
    const SHORT: Duration = Duration::from_millis(300);

    #[test]
    fn a_checker_past_its_time_limit_is_stopped_and_reaped() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id();
        let started = Instant::now();
        assert!(wait_within(&mut child, SHORT).unwrap().is_none());
        assert!(started.elapsed() < Duration::from_secs(5));
        // Reaped, not a zombie: the process is gone from /proc.
        assert!(!Path::new(&format!("/proc/{pid}")).exists());
        // One that ends in time is waited for, whatever it exits with.
        let mut child = Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap();
        let status = wait_within(&mut child, Duration::from_secs(30)).unwrap();
        assert_eq!(status.and_then(|s| s.code()), Some(3));
    }

    #[test]
    fn a_run_past_the_limit_says_so_and_a_failing_one_says_what_it_printed() {
        let started = Instant::now();
        let output = run(Command::new("sleep").arg("30"), SHORT);
        assert_eq!(
            output.as_deref(),
            Some("did not finish within 0.3 s, and was stopped")
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        let mut command = Command::new("sh");
        command.args(["-c", "echo checking; echo bad rule >&2; exit 1"]);
        let output = run(&mut command, SHORT);
        assert_eq!(output.as_deref(), Some("checking | bad rule"));
        assert_eq!(run(&mut Command::new("true"), SHORT), None);
    }

    /// A promtool that hangs gives one finding per check, each about its file, in about the
    /// time limit each.
    #[test]
    fn a_hanging_promtool_is_a_finding_for_each_file_it_checks() {
        use std::os::unix::fs::PermissionsExt;
        let tree: Tree = [
            "prometheus/prometheus.yml",
            "prometheus/rules/redis-alerts.yml",
            "prometheus/rules/redis-alerts.test.yml",
            "prometheus/rules/slo.test.yml",
            "bin/promtool",
        ]
        .into_iter()
        .map(|path| (path.to_string(), String::new()))
        .collect();
        let dir = write_tree(&tree).unwrap();
        let fake = dir.path().join("bin/promtool");
        std::fs::write(
            &fake,
            "#!/bin/sh\n[ \"$1\" = ready ] && exit 0\nexec sleep 30\n",
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        // Another test's fork may hold the file open for writing a moment (ETXTBSY).
        for _ in 0..100 {
            if Command::new(&fake).arg("ready").status().is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let shown = |path: &str| format!("generated/dev/{path}");
        let mut failures = Failures::new();
        let started = Instant::now();
        promtool_checks(&fake, dir.path(), &shown, SHORT, &mut failures);
        assert!(started.elapsed() < Duration::from_secs(10));
        let found: Vec<(&str, Code, &str)> = failures
            .iter()
            .map(|f| (f.file.as_str(), f.code, f.output.as_str()))
            .collect();
        let stopped = "did not finish within 0.3 s, and was stopped";
        assert_eq!(
            found,
            [
                (
                    "generated/dev/prometheus/prometheus.yml",
                    Code::PromtoolConfig,
                    &*format!("promtool check config: {stopped}")
                ),
                (
                    "generated/dev/prometheus/rules/redis-alerts.yml",
                    Code::PromtoolRules,
                    &*format!("promtool check rules: {stopped}")
                ),
                (
                    "generated/dev/prometheus/rules/redis-alerts.test.yml",
                    Code::PromtoolTests,
                    &*format!("promtool test rules: {stopped}")
                ),
                (
                    "generated/dev/prometheus/rules/slo.test.yml",
                    Code::PromtoolTests,
                    &*format!("promtool test rules: {stopped}")
                ),
            ]
        );
    }
}
