//! The library's one error type and the exit codes of `diff(1)`: 0 nothing to report,
//! 1 found something, 2 could not run. Only `main` turns them into a process exit.

use std::path::PathBuf;

use crate::model::Diagnostic;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is wrong, at these places.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Input(Vec<Diagnostic>),
    /// A file could not be read or written.
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A generated file failed validation (a template override is usually at fault).
    #[error("{file} is not valid (rendered from {template}): {message}")]
    Generated {
        file: String,
        template: String,
        message: String,
    },
    /// Anything else that stops the command from running.
    #[error("{0}")]
    Message(String),
}

impl Error {
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |error| Self::Io { path, error }
    }
}

impl From<Diagnostic> for Error {
    fn from(diagnostic: Diagnostic) -> Self {
        Self::Input(vec![diagnostic])
    }
}

impl From<Vec<Diagnostic>> for Error {
    fn from(diagnostics: Vec<Diagnostic>) -> Self {
        Self::Input(diagnostics)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How a command that ran ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to report.
    Clean,
    /// The command ran and found something: a diff, a lint error, an unhealthy service.
    Found,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Clean => 0,
            Self::Found => 1,
        }
    }
}

/// The exit code of a command that could not run.
pub const EXIT_ERROR: u8 = 2;
