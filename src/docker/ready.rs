//! When a container that `up` started is ready: running, and answering its own check (see
//! [`crate::health::checks`]), polled every [`POLL`] — not the engine's health-check
//! schedule, whose first check comes a whole interval after the start. Waiting ends early
//! when the container crashes, and at the deadline; either way the message says what was seen,
//! with the last check's answer and the last log lines, redacted. The judgement is pure; only
//! the waiting loop asks the engine and the service.

use std::time::{Duration, Instant};

use bollard::Docker;

use super::observe::{Seen, inspect, logs_tail};
use super::secrets::Secrets;
use super::spec::{ContainerSpec, StackSpec};
use crate::health::{Checks, Started};

/// How many of a failed container's last log lines are shown.
const LOG_LINES: usize = 20;
/// How often a starting service is asked again.
pub(crate) const POLL: Duration = Duration::from_millis(50);

/// Where a container stands, from what the engine says of it.
#[derive(Debug, PartialEq, Eq)]
enum Readiness {
    /// Running: ready once it answers its check.
    Check,
    Waiting,
    /// Gone, or being restarted by its restart policy.
    Crashed,
}

fn readiness(seen: &Seen) -> Readiness {
    match seen.status.as_str() {
        _ if seen.running => Readiness::Check,
        "exited" | "dead" | "restarting" | "missing" => Readiness::Crashed,
        _ => Readiness::Waiting,
    }
}

fn crashed(spec: &ContainerSpec, seen: &Seen, logs: &str) -> String {
    format!(
        "{} exited with code {}\nlast {LOG_LINES} log lines:\n{logs}",
        spec.service, seen.exit_code
    )
}

/// `check`: the last check's answer, already redacted.
fn late(spec: &ContainerSpec, seen: &Seen, check: &str, logs: &str) -> String {
    let check = if check.is_empty() { "(none)" } else { check };
    format!(
        "{} is not healthy in time (state {}, health {})\nlast check: {check}\n\
         last {LOG_LINES} log lines:\n{logs}",
        spec.service,
        seen.status,
        seen.health.as_deref().unwrap_or("none"),
    )
}

/// Waits until `spec`'s container is ready; how long it took, or why it is not. A container
/// `up` just changed is not asked once the deadline has passed; one it kept is asked at least
/// once.
pub(crate) async fn wait(
    docker: &Docker,
    stack: &StackSpec,
    spec: &ContainerSpec,
    deadline: Instant,
    changed: bool,
    secrets: &Secrets,
    checks: &Checks<'_>,
) -> Result<Duration, String> {
    let since = Instant::now();
    let logs =
        move || async move { secrets.redact(&logs_tail(docker, &spec.name, LOG_LINES).await) };
    let mut asked = false;
    loop {
        let seen = inspect(docker, &spec.name)
            .await
            .map_err(|e| e.to_string())?;
        let late_now = Instant::now() >= deadline;
        let last = match readiness(&seen) {
            Readiness::Crashed => return Err(crashed(spec, &seen, &logs().await)),
            Readiness::Waiting => format!("the container is {}", seen.status),
            // Past the deadline (a restart can outlast a short `--timeout`), it is not asked.
            Readiness::Check if late_now && (changed || asked) => String::new(),
            Readiness::Check => {
                asked = true;
                let running = started(docker, stack, spec).await?;
                let at = spec.published().ok_or("no published port to probe")?;
                match checks.check(&spec.service, at, &running).await {
                    Ok(_) => return Ok(since.elapsed()),
                    Err(why) => why,
                }
            }
        };
        if late_now {
            return Err(late(spec, &seen, &secrets.redact(&last), &logs().await));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// When each service of the stack started, for Prometheus' check to tell a fresh scrape from
/// one of a container `up` replaced; only Prometheus' check reads it.
async fn started(
    docker: &Docker,
    stack: &StackSpec,
    spec: &ContainerSpec,
) -> Result<Started, String> {
    if spec.service != "prometheus" {
        return Ok(Started::new());
    }
    let mut seen = Vec::new();
    for container in &stack.containers {
        seen.push(
            inspect(docker, &container.name)
                .await
                .map_err(|e| e.to_string())?,
        );
    }
    Ok(super::status::started(stack, &seen))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(status: &str, health: Option<&str>) -> Seen {
        Seen {
            status: status.into(),
            running: status == "running",
            health: health.map(Into::into),
            health_output: String::new(),
            exit_code: 1,
            started: None,
        }
    }

    #[test]
    fn a_running_container_is_asked_and_a_stopped_one_has_crashed() {
        let cases = [
            (seen("running", Some("starting")), Readiness::Check),
            (seen("running", None), Readiness::Check),
            (seen("created", None), Readiness::Waiting),
            (seen("restarting", None), Readiness::Crashed),
            (seen("exited", None), Readiness::Crashed),
            (seen("dead", None), Readiness::Crashed),
            (seen("missing", None), Readiness::Crashed),
        ];
        for (seen, expected) in cases {
            assert_eq!(readiness(&seen), expected, "{seen:?}");
        }
    }

    #[test]
    fn failures_say_what_was_seen() {
        let spec = ContainerSpec::bare("redis", "p-redis", "redis:7.0");
        assert_eq!(
            crashed(&spec, &seen("exited", None), "boom\n"),
            "redis exited with code 1\nlast 20 log lines:\nboom\n"
        );
        assert_eq!(
            late(&spec, &seen("running", Some("starting")), "", "log\n"),
            "redis is not healthy in time (state running, health starting)\n\
             last check: (none)\nlast 20 log lines:\nlog\n"
        );
        assert_eq!(
            late(&spec, &seen("created", None), "connection refused", ""),
            "redis is not healthy in time (state created, health none)\n\
             last check: connection refused\nlast 20 log lines:\n"
        );
    }
}
