//! The library's one error type and the exit codes of `diff(1)`: 0 nothing to report,
//! 1 found something, 2 could not run. Only `main` turns them into a process exit. Each
//! variant is a kind of failure a caller or a test can tell apart; its text is the message the
//! user reads after `error: `.

use std::path::PathBuf;

use crate::diagnostic::Diagnostic;

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
    /// There is no `stack.toml` where the command looked.
    #[error("{}: not found (run `stackgen init` to start a project)", path.display())]
    NoProject { path: PathBuf },
    /// `--profile` names a profile the project does not have.
    #[error("unknown profile `{name}`; the profiles are: {}", known.join(", "))]
    UnknownProfile { name: String, known: Vec<String> },
    /// A template does not compile or render.
    #[error("{}: `{name}` is not a profile name: {grammar}", path.display())]
    ProfileName {
        path: PathBuf,
        name: String,
        /// What a profile name is made of.
        grammar: &'static str,
    },

    #[error(
        "stack `{project}` is running as profile `{running}`, not `{asked}`: `stackgen down -p \
         {running}` first, or give profile `{asked}` a `[stack] name` of its own"
    )]
    OtherProfile {
        project: String,
        running: String,
        asked: String,
    },

    #[error("template {origin}: {message}")]
    Template { origin: String, message: String },
    /// A file under `templates/` has no generated file of its path.
    #[error(
        "{}: replaces no generated file; a template override must have the path of one of: {}",
        path.display(),
        known.join(", ")
    )]
    StrayTemplate { path: PathBuf, known: Vec<String> },
    /// A generated file failed validation (a template override is usually at fault).
    #[error("{file} is not valid (rendered from {template}): {message}")]
    Generated {
        file: String,
        template: String,
        message: String,
    },
    /// `init` would overwrite these files.
    #[error("not overwriting existing files: {}", paths.join(", "))]
    WouldOverwrite { paths: Vec<String> },
    /// `up`, `down` or `status` on a profile that renders for Kubernetes.
    #[error(
        "profile `{profile}` renders Kubernetes manifests, which stackgen does not apply: run \
         `kubectl apply -k generated/{profile}` or let Argo CD or Flux apply that folder"
    )]
    KubernetesTarget { profile: String },
    /// `drill` cannot run against this profile's stack.
    #[error("drill on profile `{profile}`: {why}")]
    DrillRefused { profile: String, why: String },
    /// A command-line value is wrong.
    #[error("{option}: {message}")]
    Usage {
        option: &'static str,
        message: String,
    },
    /// No Docker engine answers.
    #[error(
        "no Docker engine answers ({detail}); start dockerd, or point DOCKER_HOST at one \
         (e.g. unix:///var/run/docker.sock)"
    )]
    NoEngine { detail: String },
    /// The engine is older than the API stackgen is written against.
    #[error("the Docker engine speaks API {api}; stackgen needs {needed} or newer (Docker 20.10+)")]
    EngineTooOld { api: String, needed: &'static str },
    /// The engine refused or failed a request about `what`.
    #[error("{what}: {message}")]
    Engine { what: String, message: String },
    /// `compose.yaml` uses something outside the subset `stackgen up` runs.
    #[error("{0}")]
    Compose(String),
    /// An image is missing and cannot be pulled.
    #[error("cannot pull image `{image}` (set by {key}): {message}")]
    Pull {
        image: String,
        key: String,
        message: String,
    },
    /// A secret cannot be read, or its value is unusable; the value is never part of it.
    #[error("secret `{name}` ({key}): {why}")]
    Secret {
        name: String,
        key: String,
        why: String,
    },
    /// A host port a new container needs is taken.
    #[error("host port {address} for {service} is already in use{held_by} (set by {key})")]
    PortInUse {
        address: String,
        service: String,
        key: String,
        /// ` by container `x`` or ` by process `nc` (pid 12)`, when known.
        held_by: String,
    },
    /// Several problems found together, so that one run reports them all.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Several(Vec<Error>),
}

impl Error {
    /// None, one, or several errors as one.
    pub fn from_many(mut errors: Vec<Error>) -> Option<Error> {
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(Error::Several(errors)),
        }
    }
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
