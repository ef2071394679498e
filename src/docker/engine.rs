//! The connection to a Docker engine: connecting through `DOCKER_HOST` or the default socket,
//! refusing an engine older than the API this layer is written against, and turning the
//! engine's failures into [`Error`]s that name what they were about. It asks the engine nothing
//! but its version; which containers, networks and volumes to touch is the other parts'
//! business.

use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error as DockerError;

use crate::error::{Error, Result};

/// The oldest engine API this layer is written against.
const MIN_API: (u32, u32) = (1, 41);
const MIN_API_TEXT: &str = "1.41";

/// How long a silent engine is given to answer before `up`, `down` or `status` gives up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A connected engine and the runtime its calls run on.
pub(crate) struct Engine {
    pub docker: Docker,
    runtime: tokio::runtime::Runtime,
}

impl Engine {
    /// Connects through `DOCKER_HOST` or the default socket and checks the API version.
    pub(crate) fn connect() -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::io("<async runtime>"))?;
        let docker = Docker::connect_with_defaults().map_err(no_engine)?;
        let version = runtime
            .block_on(async { tokio::time::timeout(CONNECT_TIMEOUT, docker.version()).await })
            .map_err(|_| no_engine("no answer within 5s"))?
            .map_err(no_engine)?;
        let api = version.api_version.unwrap_or_default();
        if !supported(&api) {
            return Err(Error::EngineTooOld {
                api,
                needed: MIN_API_TEXT,
            });
        }
        Ok(Self { docker, runtime })
    }

    pub(crate) fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

/// Whether an engine that speaks API `api` (`1.41`) is new enough.
fn supported(api: &str) -> bool {
    let parsed: Vec<u32> = api.split('.').filter_map(|p| p.parse().ok()).collect();
    parsed.len() >= 2 && (parsed[0], parsed[1]) >= MIN_API
}

fn no_engine(detail: impl std::fmt::Display) -> Error {
    Error::NoEngine {
        detail: detail.to_string(),
    }
}

/// Maps a failed request about `what` (a container, an image, `list containers`) to an error
/// that names it.
pub(crate) fn engine_error(what: &str) -> impl FnOnce(DockerError) -> Error + '_ {
    move |e| Error::Engine {
        what: what.to_string(),
        message: match e {
            DockerError::DockerResponseServerError {
                status_code,
                message,
            } => format!("the engine answered {status_code}: {}", message.trim()),
            other => other.to_string(),
        },
    }
}

/// The engine's own words for a failure, without the status code: what a registry said to a
/// pull, for instance.
pub(crate) fn engine_message(e: DockerError) -> String {
    match e {
        DockerError::DockerResponseServerError { message, .. } => message,
        other => other.to_string(),
    }
}

/// The thing asked about does not exist, which for a removal means it is already done.
pub(crate) fn is_not_found(e: &DockerError) -> bool {
    matches!(
        e,
        DockerError::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_from_api_1_41_on_are_supported() {
        let cases = [
            ("1.41", true),
            ("1.43", true),
            ("1.41.1", true),
            ("2.0", true),
            ("1.40", false),
            ("1.9", false),
            ("1", false),
            ("", false),
            ("x.y", false),
        ];
        for (api, expected) in cases {
            assert_eq!(supported(api), expected, "{api}");
        }
    }

    #[test]
    fn engine_failures_name_what_they_were_about() {
        let server = |status_code| DockerError::DockerResponseServerError {
            status_code,
            message: " No such container: p-redis\n".into(),
        };
        let cases = [
            (
                server(500),
                "p-redis: the engine answered 500: No such container: p-redis",
            ),
            (DockerError::RequestTimeoutError, "p-redis: Timeout error"),
        ];
        for (error, expected) in cases {
            assert_eq!(engine_error("p-redis")(error).to_string(), expected);
        }
        assert!(is_not_found(&server(404)));
        assert!(!is_not_found(&server(409)));
        assert_eq!(engine_message(server(404)), " No such container: p-redis\n");
    }
}
