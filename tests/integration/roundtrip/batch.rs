//! Batches of cases: a project laid out from some of a family's cases, rendered until `render`
//! accepts what is left (the refused cases dropped), each refused case then checked alone; and
//! the search for the cases a tool's refusal of a batch comes from.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::grammar::toml_string;
use super::tools::{Tools, first_lines};
use super::{Case, Report};
use crate::support::*;

/// A TOML file being written, with the line each case's value is on.
#[derive(Default)]
pub struct Toml {
    text: String,
    lines: usize,
    /// (case, line)
    pub marks: Vec<(usize, usize)>,
}

impl Toml {
    /// Appends lines as they are.
    pub fn raw(&mut self, text: &str) -> &mut Self {
        for line in text.lines() {
            self.text.push_str(line);
            self.text.push('\n');
            self.lines += 1;
        }
        self
    }

    /// `key = "value"`, the value of `case` when there is one.
    pub fn set(&mut self, key: &str, value: &str, case: Option<usize>) -> &mut Self {
        self.raw(&format!("{key} = {}", toml_string(value)));
        self.mark(case)
    }

    /// `key = { file = "value" }`
    pub fn set_file(&mut self, key: &str, value: &str, case: Option<usize>) -> &mut Self {
        self.raw(&format!("{key} = {{ file = {} }}", toml_string(value)));
        self.mark(case)
    }

    fn mark(&mut self, case: Option<usize>) -> &mut Self {
        if let Some(case) = case {
            self.marks.push((case, self.lines));
        }
        self
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

/// A project laid out from some of a family's cases: its files, where each case's value is
/// written, and where each case lands in the output (family-specific).
pub struct Layout<S> {
    pub files: Vec<(String, String)>,
    /// (case, file, line)
    pub marks: Vec<(usize, String, usize)>,
    pub slots: BTreeMap<usize, S>,
}

impl<S> Layout<S> {
    pub fn new() -> Self {
        Self {
            files: Vec::new(),
            marks: Vec::new(),
            slots: BTreeMap::new(),
        }
    }

    /// Adds a TOML file and the marks in it.
    pub fn toml(&mut self, path: &str, toml: Toml) {
        for (case, line) in &toml.marks {
            self.marks.push((*case, path.to_string(), *line));
        }
        self.files.push((path.to_string(), toml.text));
    }

    fn project(&self) -> Project {
        let project = Project::empty();
        for (path, text) in &self.files {
            project.file(path, text);
        }
        project
    }
}

/// A family's batch once `render` accepted it.
pub struct Settled<S> {
    pub project: Project,
    pub layout: Layout<S>,
    pub accepted: Vec<usize>,
    /// Each refused case, and the errors of the render that refused it.
    pub refused: Vec<(usize, String)>,
}

/// Renders the cases `pool` laid out by `layout`, dropping refused cases until `render`
/// accepts the rest. An error that points at a case's line drops that case; a refusal that
/// points at none is narrowed down to one case by halving.
pub fn settle<S>(cases: &[Case], layout: impl Fn(&[usize]) -> Layout<S>) -> Settled<S> {
    let mut pool: Vec<usize> = (0..cases.len()).collect();
    let mut refused = Vec::new();
    loop {
        let lay = layout(&pool);
        let project = lay.project();
        let run = project.run(["render"]);
        if run.code == 0 {
            keep(&project);
            return Settled {
                project,
                layout: lay,
                accepted: pool,
                refused,
            };
        }
        assert!(
            !pool.is_empty(),
            "the batch is refused with none of its cases: {run}"
        );
        let named: BTreeSet<usize> = lay
            .marks
            .iter()
            .filter(|(_, file, line)| run.stderr.contains(&format!("{file}:{line}:")))
            .map(|(case, _, _)| *case)
            .collect();
        let dropped = if named.is_empty() {
            BTreeSet::from([culprit(&pool, &layout)])
        } else {
            named
        };
        pool.retain(|case| !dropped.contains(case));
        refused.extend(dropped.into_iter().map(|case| (case, run.stderr.clone())));
    }
}

/// With STACKGEN_ROUNDTRIP_KEEP=DIR, a copy of the accepted batch's project under DIR, to
/// look at after the test.
fn keep(project: &Project) {
    if let Some(dir) = std::env::var_os("STACKGEN_ROUNDTRIP_KEEP") {
        std::fs::create_dir_all(&dir).unwrap();
        Command::new("cp")
            .arg("-a")
            .arg(project.path())
            .arg(&dir)
            .status()
            .unwrap();
        eprintln!(
            "kept {} in {}",
            project.path().display(),
            Path::new(&dir).display()
        );
    }
}

/// One case of `pool` whose batch `render` refuses, by halving.
fn culprit<S>(pool: &[usize], layout: &impl Fn(&[usize]) -> Layout<S>) -> usize {
    let mut set = pool.to_vec();
    while set.len() > 1 {
        let (first, second) = set.split_at(set.len() / 2);
        let refused = layout(first).project().run(["render"]).code != 0;
        set = if refused { first } else { second }.to_vec();
    }
    set[0]
}

/// A family's batch: [`settle`]d, then each refusal checked alone ([`check_refusals`]).
pub fn render_batch<S>(
    report: &mut Report<'_>,
    layout: impl Fn(&[usize]) -> Layout<S>,
    base: &[(&str, String)],
    alone: impl Fn(&Case) -> (String, usize),
) -> Settled<S> {
    let cases = report.cases();
    let settled = settle(cases, layout);
    report.phase("rendered");
    check_refusals(report, cases, &settled.refused, base, alone);
    report.phase("refusals checked");
    report.counts(settled.accepted.len(), settled.refused.len());
    settled
}

/// Checks each refusal alone: the case written into `stack.toml` of a project that rendered
/// `base` first must exit 2 with an error at `stack.toml:LINE:` of its value, and leave
/// `generated/` exactly as it was. `alone` gives the `stack.toml` with the case and its line.
pub fn check_refusals(
    report: &mut Report<'_>,
    cases: &[Case],
    refused: &[(usize, String)],
    base: &[(&str, String)],
    alone: impl Fn(&Case) -> (String, usize),
) {
    let project = Project::empty();
    let render_base = || {
        for (path, text) in base {
            project.file(path, text);
        }
        project.run(["render"]).success();
    };
    render_base();
    let generated = project.path().join("generated");
    for (case, batch) in refused {
        let (stack, line) = alone(&cases[*case]);
        project.file("stack.toml", &stack);
        let before = snapshot(&generated);
        let run = project.run(["render"]);
        let place = format!("stack.toml:{line}:");
        if run.code == 0 {
            report.fail(
                *case,
                "refused in a batch, accepted alone",
                format!("the batch's errors:\n{}", first_lines(batch, 6)),
            );
            render_base();
            continue;
        }
        if run.code != 2 {
            report.fail(
                *case,
                "refused with an exit code other than 2",
                run.to_string(),
            );
        }
        if !run.stderr.contains(&place) {
            report.fail(
                *case,
                "refused without an error at its stack.toml:LINE:COL",
                format!(
                    "expected `{place}COL`; stderr:\n{}",
                    first_lines(&run.stderr, 6)
                ),
            );
        }
        if snapshot(&generated) != before {
            report.fail(*case, "refused, but generated/ changed", run.to_string());
        }
    }
}

/// The cases a failure of the batch comes from: each found alone, or groups that fail only
/// together.
pub struct Narrowed {
    pub cases: Vec<(usize, String)>,
    pub together: Vec<(Vec<usize>, String)>,
}

/// Finds the cases that make a check fail, by rounds of group tests: each round splits every
/// failing group into up to eight parts and checks all the parts at once (`check` answers,
/// per part, its failure if any), until the parts that fail are single cases. A group none of
/// whose parts fails alone fails only together; a check that cannot run stops the search.
pub fn narrow(
    groups: Vec<Vec<usize>>,
    check: impl Fn(&[Vec<usize>]) -> Result<Vec<Option<String>>, String>,
) -> Narrowed {
    let mut found = Narrowed {
        cases: Vec::new(),
        together: Vec::new(),
    };
    let mut groups = groups;
    while !groups.is_empty() {
        let mut parts = Vec::new();
        let mut parents = Vec::new();
        for (g, group) in groups.iter().enumerate() {
            for part in group.chunks(group.len().div_ceil(8).max(1)) {
                parts.push(part.to_vec());
                parents.push(g);
            }
        }
        let results = match check(&parts) {
            Ok(results) => results,
            Err(why) => {
                found
                    .together
                    .extend(groups.into_iter().map(|g| (g, why.clone())));
                break;
            }
        };
        let mut failed = vec![false; groups.len()];
        let mut next = Vec::new();
        for ((part, g), result) in parts.into_iter().zip(parents).zip(results) {
            let Some(why) = result else { continue };
            failed[g] = true;
            match part[..] {
                [case] => found.cases.push((case, why)),
                _ => next.push(part),
            }
        }
        for (group, failed) in groups.into_iter().zip(failed) {
            if !failed {
                let why = "fails in the batch, not in any part of it alone".to_string();
                found.together.push((group, why));
            }
        }
        groups = next;
    }
    found
}

/// Renders a probe project (its `files`) and runs `check` on its `profiles`' trees: the
/// answers, in order; or why the probe cannot answer, when `render` refuses it.
pub fn probe<T>(
    files: &[(String, String)],
    profiles: &[String],
    check: impl FnOnce(&[PathBuf]) -> Vec<T>,
) -> Result<Vec<T>, String> {
    let project = Project::empty();
    for (path, text) in files {
        project.file(path, text);
    }
    let run = project.run(["render"]);
    if run.code != 0 {
        let why = first_lines(&run.stderr, 4);
        return Err(format!("a probe's render failed: {why}"));
    }
    let generated = project.path().join("generated");
    let dirs: Vec<PathBuf> = profiles.iter().map(|p| generated.join(p)).collect();
    Ok(check(&dirs))
}

/// The names of the profiles `q000`, `q001`… of a probe with `n` parts.
pub fn probe_profiles(n: usize) -> Vec<String> {
    (0..n).map(|k| format!("q{k:03}")).collect()
}

/// A batch `refuses` (a tool's verdict on trees: why it refuses each, if it does) fails with
/// `why`: finds which cases of `groups` make it fail, each in a probe of its own (`files` lays
/// out a probe of parts, one profile `q<k>` each), and reports them under `cause`. Returns the
/// cases blamed, a group that fails only together as a whole.
pub fn blame(
    report: &mut Report<'_>,
    cause: &'static str,
    why: &str,
    groups: Vec<Vec<usize>>,
    files: impl Fn(&[Vec<usize>]) -> Vec<(String, String)>,
    refuses: impl Fn(&[PathBuf]) -> Vec<Option<String>>,
) -> BTreeSet<usize> {
    let found = narrow(groups, |parts| {
        probe(&files(parts), &probe_profiles(parts.len()), &refuses)
    });
    let mut blamed = BTreeSet::new();
    for (i, alone) in found.cases {
        report.fail(i, cause, alone);
        blamed.insert(i);
    }
    for (group, together) in found.together {
        let detail = format!(
            "{} cases, {together}:\n{}",
            group.len(),
            first_lines(why, 8)
        );
        report.fail_batch(cause, detail);
        blamed.extend(group);
    }
    blamed
}

/// `accepted` without the cases `blamed`.
pub fn without(accepted: &[usize], blamed: &BTreeSet<usize>) -> Vec<usize> {
    let kept = accepted.iter().filter(|i| !blamed.contains(i));
    kept.copied().collect()
}

/// The objects `kubectl kustomize` builds from the one profile (`q000`) of a probe.
pub fn kustomize_probe(tools: &Tools, files: &[(String, String)]) -> Result<Vec<Value>, String> {
    let built = probe(files, &probe_profiles(1), |dirs| tools.kustomize(dirs));
    built.and_then(|mut built| built.remove(0))
}
