//! One module per command: glue between the options and the library's pipeline.

pub(crate) mod clusters;
pub(crate) mod diff;
pub(crate) mod down;
pub(crate) mod drill;
pub(crate) mod init;
pub(crate) mod lint;
mod meaning;
pub(crate) mod render;
pub(crate) mod schema;
pub(crate) mod stack;
pub(crate) mod status;
pub(crate) mod templates;
pub(crate) mod up;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::error::{Outcome, Result};
use crate::printer::Printer;
use crate::project::Project;
use crate::render::Tree;

/// Options every command shares.
#[derive(Debug, Clone)]
pub struct Options {
    pub file: PathBuf,
    pub profile: Option<String>,
    pub color: bool,
    pub quiet: bool,
    pub verbose: bool,
}

/// What to do.
#[derive(Debug, Clone)]
pub enum Command {
    Init {
        dir: PathBuf,
    },
    Render {
        check: bool,
    },
    Diff(diff::DiffOptions),
    Lint(lint::LintArgs),
    Schema,
    Templates {
        export: Option<PathBuf>,
        paths: Vec<String>,
    },
    Up {
        timeout: String,
        dry_run: bool,
        wait_scrape: bool,
    },
    Down {
        volumes: bool,
    },
    Status {
        json: bool,
    },
    Drill(drill::DrillArgs),
    /// Text the command line made (a completion script), for stdout.
    Print(String),
    /// Files the command line made (man pages), written into `dir`, each replaced if there.
    Write {
        dir: PathBuf,
        files: Vec<(String, Vec<u8>)>,
    },
}

/// Runs one command.
pub fn run(options: &Options, command: &Command, printer: &Printer<'_>) -> Result<Outcome> {
    match command {
        Command::Init { dir } => init::run(dir, printer),
        Command::Render { check } => render::run(options, *check, printer),
        Command::Diff(diff) => diff::run(options, diff, printer),
        Command::Lint(args) => lint::run(options, args, printer),
        Command::Schema => schema::run(printer),
        Command::Templates { export, paths } => templates::run(export.as_deref(), paths, printer),
        Command::Up {
            timeout,
            dry_run,
            wait_scrape,
        } => up::run(options, timeout, *dry_run, *wait_scrape, printer),
        Command::Down { volumes } => down::run(options, *volumes, printer),
        Command::Status { json } => status::run(options, *json, printer),
        Command::Drill(args) => drill::run(options, args, printer),
        Command::Print(text) => {
            printer.print(text)?;
            Ok(Outcome::Clean)
        }
        Command::Write { dir, files } => {
            use crate::error::Error;
            std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
            for (name, bytes) in files {
                let path = dir.join(name);
                std::fs::write(&path, bytes).map_err(Error::io(&path))?;
                printer.note(&format!("wrote {}", path.display()))?;
            }
            Ok(Outcome::Clean)
        }
    }
}

/// Loads the project and renders the profiles asked for, all in memory and validated.
pub(crate) fn render_trees(options: &Options) -> Result<(Project, BTreeMap<String, Tree>)> {
    let project = Project::load(&options.file)?;
    // Templates first: a broken override stops every profile alike.
    project.renderer()?;
    let mut trees = BTreeMap::new();
    let mut errors = Vec::new();
    for profile in project.select_profiles(options.profile.as_deref())? {
        match project.render(&profile) {
            Ok(rendered) => {
                trees.insert(profile, rendered.tree);
            }
            Err(crate::error::Error::Input(found)) => errors.extend(found),
            Err(other) => return Err(other),
        }
    }
    if !errors.is_empty() {
        errors.sort();
        errors.dedup();
        return Err(crate::error::Error::Input(errors));
    }
    Ok((project, trees))
}

/// Writes new files, or none when any of them exists: `init` and `templates --export` never
/// overwrite. Says each file it created.
fn write_new_files<T: AsRef<str>>(
    files: &[(std::path::PathBuf, T)],
    printer: &Printer<'_>,
) -> Result<()> {
    use crate::error::Error;
    let existing: Vec<String> = files
        .iter()
        .filter(|(path, _)| path.exists())
        .map(|(path, _)| path.display().to_string())
        .collect();
    if !existing.is_empty() {
        return Err(Error::WouldOverwrite { paths: existing });
    }
    for (path, text) in files {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
        }
        std::fs::write(path, text.as_ref()).map_err(Error::io(path))?;
        printer.note(&format!("created {}", path.display()))?;
    }
    Ok(())
}
