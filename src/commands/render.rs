//! `stackgen render [--check]`.

use super::Options;
use crate::error::{Outcome, Result};
use crate::output::{self, ChangeKind};
use crate::printer::Printer;

pub(crate) fn run(options: &Options, check: bool, printer: &Printer<'_>) -> Result<Outcome> {
    let (project, trees) = super::render_trees(options)?;
    let changes = output::changes(&project.dir, &trees)?;
    if check {
        for change in &changes {
            let what = match change.kind() {
                ChangeKind::Created => "missing",
                ChangeKind::Removed => "no longer generated",
                ChangeKind::Updated => "out of date",
            };
            printer.note(&format!("{}: {what}", change.path))?;
        }
        return Ok(if changes.is_empty() {
            printer.note("generated/ is up to date.")?;
            Outcome::Clean
        } else {
            printer.note(&format!(
                "{} would change; run `stackgen render`.",
                crate::printer::plural(changes.len(), "file")
            ))?;
            Outcome::Found
        });
    }
    output::apply(&project.dir, &changes)?;
    if options.verbose {
        for (profile, tree) in &trees {
            for path in tree.keys() {
                let path = format!("generated/{profile}/{path}");
                if !changes.iter().any(|c| c.path == path) {
                    printer.note(&format!("unchanged {path}"))?;
                }
            }
        }
    }
    if changes.is_empty() {
        printer.note("generated/ is up to date.")?;
    } else {
        for change in &changes {
            let verb = match change.kind() {
                ChangeKind::Created => "created",
                ChangeKind::Removed => "removed",
                ChangeKind::Updated => "updated",
            };
            printer.note(&format!("{verb} {}", change.path))?;
        }
        printer.note(&format!(
            "{} changed.",
            crate::printer::plural(changes.len(), "file")
        ))?;
    }
    Ok(Outcome::Clean)
}
