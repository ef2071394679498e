//! `stackgen templates [--export DIR [PATH…]]`: the built-in templates, listed, or copied to
//! start an override from (`templates/<same path>` in a project replaces the built-in one).
//! It never overwrites a file.

use std::path::{Path, PathBuf};

use crate::error::{Error, Outcome, Result};
use crate::printer::Printer;
use crate::render::{FILES, kubernetes, kubernetes_template};

/// A built-in template: its path under `templates/`, what it configures, its text.
struct Template {
    path: String,
    of: &'static str,
    text: &'static str,
}

fn templates() -> Vec<Template> {
    let compose = FILES.iter().map(|f| Template {
        path: f.path.to_string(),
        of: f.service,
        text: f.template,
    });
    let objects = kubernetes::OBJECTS.iter().map(|o| Template {
        path: kubernetes_template(o.path),
        of: "kubernetes",
        text: o.template,
    });
    compose.chain(objects).collect()
}

pub(crate) fn run(
    export: Option<&Path>,
    paths: &[String],
    printer: &Printer<'_>,
) -> Result<Outcome> {
    let all = templates();
    let unknown: Vec<&String> = paths
        .iter()
        .filter(|p| !all.iter().any(|t| &t.path == *p))
        .collect();
    if let Some(path) = unknown.first() {
        return Err(Error::Usage {
            option: "PATH",
            message: format!("no built-in template `{path}`; `stackgen templates` lists them"),
        });
    }
    let chosen = all
        .iter()
        .filter(|t| paths.is_empty() || paths.contains(&t.path));
    let Some(dir) = export else {
        let text: String = chosen
            .map(|t| format!("{:50} {}\n", t.path, t.of))
            .collect();
        printer.print(&text)?;
        printer.note(
            "Copy one with `stackgen templates --export templates PATH`, then edit it: \
             templates/PATH replaces the built-in template.",
        )?;
        return Ok(Outcome::Clean);
    };
    let files: Vec<(PathBuf, &str)> = chosen.map(|t| (dir.join(&t.path), t.text)).collect();
    super::write_new_files(&files, printer)?;
    printer.note(
        "An override replaces its built-in template and no longer follows stackgen's updates \
         of it: keep only the ones you change.",
    )?;
    Ok(Outcome::Clean)
}
