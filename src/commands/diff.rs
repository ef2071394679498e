//! `stackgen diff`: what `render` would change, as a git-style unified diff on stdout (apply
//! it with `git apply` from the project folder) and a one-line summary on stderr.

use similar::{ChangeTag, TextDiff};

use super::Options;
use crate::error::{Outcome, Result};
use crate::output::{self, Change, ChangeKind};
use crate::printer::{Printer, Style};

#[derive(Debug, Clone)]
pub struct DiffOptions {
    pub stat: bool,
    pub exit_zero: bool,
    /// A pull-request comment: a summary table, then each file's diff folded.
    pub markdown: bool,
    /// What `up` would do with the change, per profile and service, instead of the diff.
    pub impact: bool,
}

pub(crate) fn run(options: &Options, diff: &DiffOptions, printer: &Printer<'_>) -> Result<Outcome> {
    let (project, trees) = super::render_trees(options)?;
    let changes = output::changes(&project.dir, &trees)?;
    let mut text = String::new();
    // The default output's summary of it is a courtesy: a compose file `up` could not read
    // either (a template override's) leaves it out; `--impact` says why.
    let found = match diff.impact {
        true => impacts(&project.dir, &trees, &changes)?,
        false => impacts(&project.dir, &trees, &changes).unwrap_or_default(),
    };
    if diff.impact {
        text = impact(&found);
    } else if diff.markdown {
        text = markdown(&changes);
    } else if diff.stat {
        text = stat(&changes);
    } else {
        for change in &changes {
            text.push_str(&unified(change, printer));
        }
    }
    printer.print(&text)?;
    if changes.is_empty() {
        printer.note("No differences.")?;
        return Ok(Outcome::Clean);
    }
    printer.note(&format!(
        "{} would change.",
        crate::printer::plural(changes.len(), "file")
    ))?;
    if !diff.impact {
        for line in impact_lines(&found) {
            printer.note(&line)?;
        }
    }
    Ok(if diff.exit_zero {
        Outcome::Clean
    } else {
        Outcome::Found
    })
}

/// A profile's impact: each service's step (none for the Kubernetes target), and what the
/// change means.
struct ProfileImpact<'t> {
    profile: &'t str,
    steps: Vec<crate::docker::impact::Impact>,
    meaning: Vec<String>,
}

/// Per profile, what `up` would do with each service: from the tree on disk (what runs, as
/// far as stackgen knows offline) to the new render.
fn impacts<'t>(
    dir: &std::path::Path,
    trees: &'t std::collections::BTreeMap<String, crate::render::Tree>,
    changes: &[Change],
) -> Result<Vec<ProfileImpact<'t>>> {
    let mut found = Vec::new();
    for (profile, new) in trees {
        let prefix = format!("generated/{profile}/");
        let mut old = new.clone();
        let mut existed = true;
        for change in changes {
            let Some(path) = change.path.strip_prefix(&prefix) else {
                continue;
            };
            match &change.old {
                Some(bytes) => {
                    old.insert(path.into(), String::from_utf8_lossy(bytes).into_owned());
                }
                None => {
                    old.remove(path);
                    existed &= path != "compose.yaml";
                }
            }
        }
        let tree_dir = std::path::absolute(dir.join("generated").join(profile))
            .map_err(crate::error::Error::io(dir))?;
        let steps = crate::docker::impact::impact(existed.then_some(&old), new, &tree_dir)?;
        let meaning = match existed {
            true => super::meaning::meaning(&old, new),
            false => Vec::new(),
        };
        found.push(ProfileImpact {
            profile,
            steps,
            meaning,
        });
    }
    Ok(found)
}

/// `--impact`: per profile, each service's step and why, the services left as they are, and
/// what the change means.
fn impact(impacts: &[ProfileImpact<'_>]) -> String {
    use crate::docker::impact::verb;
    let mut text = String::new();
    for ProfileImpact {
        profile,
        steps,
        meaning,
    } in impacts
    {
        if steps.is_empty() {
            text.push_str(&format!("profile {profile}: no compose target, no plan\n"));
            continue;
        }
        text.push_str(&format!("profile {profile}: what `up` would do\n"));
        let mut unchanged = Vec::new();
        for impact in steps {
            let (step, action) = (&impact.step, verb(&impact.step.action));
            if step.action == crate::docker::plan::Action::Keep {
                unchanged.push(step.service.as_str());
                continue;
            }
            text.push_str(&format!("  {action} {}: {}", step.service, step.why));
            if let Some(risk) = impact.risk {
                text.push_str(&format!(" (data at risk: {risk})"));
            }
            text.push('\n');
        }
        if !unchanged.is_empty() {
            text.push_str(&format!("  nothing for {}\n", unchanged.join(", ")));
        }
        if !meaning.is_empty() {
            text.push_str("  what it means:\n");
            for line in meaning {
                text.push_str(&format!("    {line}\n"));
            }
        }
    }
    text
}

/// The same, in a line per profile that `up` would change, for the default output's summary.
fn impact_lines(impacts: &[ProfileImpact<'_>]) -> Vec<String> {
    use crate::docker::impact::verb;
    let mut lines = Vec::new();
    for ProfileImpact { profile, steps, .. } in impacts {
        let acts: Vec<String> = steps
            .iter()
            .filter(|i| i.step.action != crate::docker::plan::Action::Keep)
            .map(|i| format!("{} {}", verb(&i.step.action), i.step.service))
            .collect();
        if !acts.is_empty() {
            lines.push(format!(
                "profile {profile}: `up` would {} (`diff --impact` says why)",
                acts.join(", ")
            ));
        }
    }
    lines
}

fn texts(change: &Change) -> (String, String) {
    let old = change
        .old
        .as_deref()
        .map(String::from_utf8_lossy)
        .unwrap_or_default()
        .into_owned();
    (old, change.new.clone().unwrap_or_default())
}

/// The lines a change adds and removes.
fn counts(change: &Change) -> (usize, usize) {
    let (old, new) = texts(change);
    let diff = TextDiff::from_lines(&old, &new);
    let (mut added, mut removed) = (0, 0);
    for op in diff.iter_all_changes() {
        match op.tag() {
            ChangeTag::Insert => added += 1,
            ChangeTag::Delete => removed += 1,
            ChangeTag::Equal => {}
        }
    }
    (added, removed)
}

/// `git diff --stat`'s table: paths padded to the longest, counts right-aligned.
fn stat(changes: &[Change]) -> String {
    let rows: Vec<(&str, usize, usize)> = changes
        .iter()
        .map(|change| {
            let (added, removed) = counts(change);
            (change.path.as_str(), added, removed)
        })
        .collect();
    let path = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let count = rows
        .iter()
        .map(|r| (r.1 + r.2).to_string().len())
        .max()
        .unwrap_or(1);
    rows.iter()
        .map(|(name, added, removed)| {
            format!(
                " {name:path$} | {:>count$} {}{}\n",
                added + removed,
                "+".repeat((*added).min(40)),
                "-".repeat((*removed).min(40))
            )
        })
        .collect()
}

/// A pull-request comment in GitHub's Markdown: what would change, as a table of the files
/// and their counts, then each file's unified diff in a folded `<details>` block, fenced with
/// more backticks than the diff holds in a row.
fn markdown(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "**stackgen diff**: no differences: `generated/` is what stack.toml renders.\n"
            .into();
    }
    let mut text = format!(
        "**stackgen diff**: {} would change.\n\n| file | change | lines |\n|---|---|---|\n",
        crate::printer::plural(changes.len(), "file")
    );
    for change in changes {
        let (added, removed) = counts(change);
        let kind = match change.kind() {
            ChangeKind::Created => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Updated => "changed",
        };
        text.push_str(&format!(
            "| `{}` | {kind} | +{added} −{removed} |\n",
            change.path
        ));
    }
    for change in changes {
        let body = unified_text(change);
        let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
        let fence = "`".repeat(longest.max(2) + 1);
        text.push_str(&format!(
            "\n<details><summary><code>{}</code></summary>\n\n{fence}diff\n{body}{fence}\n\n\
             </details>\n",
            change.path
        ));
    }
    text
}

/// One file's diff, with the headers `git apply` needs to create or delete it.
fn unified(change: &Change, printer: &Printer<'_>) -> String {
    let out = unified_text(change);
    if !printer.color() {
        return out;
    }
    colored(&out, printer)
}

fn unified_text(change: &Change) -> String {
    let (old, new) = texts(change);
    let path = &change.path;
    let mut out = format!("diff --git a/{path} b/{path}\n");
    let (from, to) = match change.kind() {
        ChangeKind::Created => {
            out.push_str("new file mode 100644\n");
            ("/dev/null".to_string(), format!("b/{path}"))
        }
        ChangeKind::Removed => {
            out.push_str("deleted file mode 100644\n");
            (format!("a/{path}"), "/dev/null".to_string())
        }
        ChangeKind::Updated => (format!("a/{path}"), format!("b/{path}")),
    };
    let body = TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header(&from, &to)
        .to_string();
    out.push_str(&body);
    out
}

fn colored(out: &str, printer: &Printer<'_>) -> String {
    out.lines()
        .map(|line| {
            let style = match line.as_bytes().first() {
                _ if line.starts_with("diff ")
                    || line.starts_with("--- ")
                    || line.starts_with("+++ ") =>
                {
                    Some(Style::Header)
                }
                Some(b'+') => Some(Style::Added),
                Some(b'-') => Some(Style::Removed),
                Some(b'@') => Some(Style::Hunk),
                _ => None,
            };
            match style {
                Some(style) => format!("{}\n", printer.paint(style, line)),
                None => format!("{line}\n"),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_columns_line_up() {
        let change = |path: &str, old: &str, new: &str| Change {
            path: path.into(),
            old: Some(old.as_bytes().to_vec()),
            new: Some(new.into()),
        };
        let text = stat(&[
            change("generated/dev/compose.yaml", "a\n", "b\n"),
            change(
                "generated/dev/prometheus/rules/redis-alerts.yml",
                &"x\n".repeat(12),
                "y\n",
            ),
        ]);
        let bars: Vec<usize> = text.lines().map(|l| l.find('|').unwrap()).collect();
        assert_eq!(bars[0], bars[1], "{text}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].ends_with("|  2 +-"), "{text}");
        assert!(
            lines[1].ends_with(&format!("| 13 +{}", "-".repeat(12))),
            "{text}"
        );
    }
}

#[cfg(test)]
mod markdown_tests {
    use super::*;

    #[test]
    fn a_comment_has_a_table_and_a_folded_diff_per_file_fenced_past_any_backticks() {
        let change = Change {
            path: "generated/dev/alertmanager/templates/slack.tmpl".into(),
            old: Some(b"a\n".to_vec()),
            new: Some("```\nb\n".into()),
        };
        let text = markdown(&[change]);
        assert!(
            text.starts_with("**stackgen diff**: 1 file would change."),
            "{text}"
        );
        assert!(
            text.contains(
                "| `generated/dev/alertmanager/templates/slack.tmpl` | changed | +2 −1 |"
            ),
            "{text}"
        );
        assert_eq!(text.matches("<details>").count(), 1);
        // The diff holds three backticks in a row: the fence has four.
        assert!(
            text.contains("\n````diff\n") && text.contains("\n````\n"),
            "{text}"
        );
        assert!(markdown(&[]).contains("no differences"));
    }
}
