//! stackgen: one typed `stack.toml` in, a complete Redis monitoring stack out. The pipeline is
//! `model` (parse, overlay, resolve) → `render` (pure, validated) → `output` (write, check,
//! diff). `commands` glue these to the command line; `main.rs` only maps results to exit codes.

pub mod alerts;
pub mod cli;
pub mod commands;
pub mod diagnostic;
pub mod docker;
pub mod drill;
pub mod error;
pub(crate) mod health;
pub mod lint;
pub mod model;
pub mod output;
pub mod printer;
pub mod render;
pub mod yaml;

use std::path::PathBuf;

pub use error::{EXIT_ERROR, Error, Outcome, Result};
pub use printer::{Printer, Style, plural};

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
    Diff(commands::diff::DiffOptions),
    Lint(commands::lint::LintArgs),
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
    Drill(commands::drill::DrillArgs),
}

/// Runs one command.
pub fn run(options: &Options, command: &Command, printer: &Printer<'_>) -> Result<Outcome> {
    match command {
        Command::Init { dir } => commands::init::run(dir, printer),
        Command::Render { check } => commands::render::run(options, *check, printer),
        Command::Diff(diff) => commands::diff::run(options, diff, printer),
        Command::Lint(args) => commands::lint::run(options, args, printer),
        Command::Schema => commands::schema::run(printer),
        Command::Templates { export, paths } => {
            commands::templates::run(export.as_deref(), paths, printer)
        }
        Command::Up {
            timeout,
            dry_run,
            wait_scrape,
        } => commands::up::run(options, timeout, *dry_run, *wait_scrape, printer),
        Command::Down { volumes } => commands::down::run(options, *volumes, printer),
        Command::Status { json } => commands::status::run(options, *json, printer),
        Command::Drill(args) => commands::drill::run(options, args, printer),
    }
}
