//! stackgen: one typed `stack.toml` in, a complete Redis monitoring stack out. The pipeline is
//! `model` (parse, overlay, resolve) → `render` (pure, validated) → `output` (write, check,
//! diff). `commands` glue these to the command line; `main.rs` only maps results to exit codes.

pub mod cli;
pub mod commands;
pub mod error;
pub mod model;
pub mod output;
pub mod render;
pub mod yaml;

use std::io::Write;
use std::path::PathBuf;

pub use error::{EXIT_ERROR, Error, Outcome, Result};

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
    Init { dir: PathBuf },
    Render { check: bool },
    Schema,
}

/// Where a command writes: results to `out`, summaries and progress to `err`.
pub struct Printer<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub color: bool,
    pub quiet: bool,
}

impl Printer<'_> {
    /// A one-line summary on stderr, unless `--quiet`.
    pub fn note(&mut self, line: &str) -> Result<()> {
        if !self.quiet {
            writeln!(self.err, "{line}").map_err(Error::io("<stderr>"))?;
        }
        Ok(())
    }
}

/// Runs one command.
pub fn run(options: &Options, command: &Command, printer: &mut Printer<'_>) -> Result<Outcome> {
    match command {
        Command::Init { dir } => commands::init::run(dir, printer),
        Command::Render { check } => commands::render::run(options, *check, printer),
        Command::Schema => commands::schema::run(printer),
    }
}
