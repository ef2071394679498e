//! `stackgen templates [--export DIR [PATH…]]`: the built-in templates, listed, or copied to
//! start an override from (`templates/<same path>` in a project replaces the built-in one).
//! It never overwrites a file.

use std::path::{Path, PathBuf};

use crate::Printer;
use crate::error::{Error, Outcome, Result};
use crate::render::FILES;

pub fn run(export: Option<&Path>, paths: &[String], printer: &Printer<'_>) -> Result<Outcome> {
    let unknown: Vec<&String> = paths
        .iter()
        .filter(|p| !FILES.iter().any(|f| f.path == p.as_str()))
        .collect();
    if let Some(path) = unknown.first() {
        return Err(Error::Usage {
            option: "PATH",
            message: format!("no built-in template `{path}`; `stackgen templates` lists them"),
        });
    }
    let chosen = FILES
        .iter()
        .filter(|f| paths.is_empty() || paths.iter().any(|p| p == f.path));
    let Some(dir) = export else {
        let text: String = chosen
            .map(|f| format!("{:50} {}\n", f.path, f.service))
            .collect();
        printer.print(&text)?;
        printer.note(
            "Copy one with `stackgen templates --export templates PATH`, then edit it: \
             templates/PATH replaces the built-in template.",
        )?;
        return Ok(Outcome::Clean);
    };
    let files: Vec<(PathBuf, &str)> = chosen.map(|f| (dir.join(f.path), f.template)).collect();
    super::write_new_files(&files, printer)?;
    printer.note(
        "An override replaces its built-in template and no longer follows stackgen's updates \
         of it: keep only the ones you change.",
    )?;
    Ok(Outcome::Clean)
}
