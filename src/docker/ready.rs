//! When a container that `up` started is ready: healthy by its health check, or, without one,
//! running and serving on its first published port from the host. Waiting ends early when the
//! container crashes, and at the deadline; either way the message says what was seen, with the
//! health-check output and the last log lines, redacted. The judgement is pure; only the
//! waiting loop asks the engine and the port.

use std::time::{Duration, Instant};

use bollard::Docker;

use super::observe::{Seen, inspect, logs_tail};
use super::probe;
use super::secrets::Secrets;
use super::spec::{ContainerSpec, Port};

/// How many of a failed container's last log lines are shown.
const LOG_LINES: usize = 20;
const POLL: Duration = Duration::from_millis(200);

/// Where a container stands, from what the engine says of it.
#[derive(Debug, PartialEq, Eq)]
enum Readiness<'a> {
    Ready,
    Waiting,
    /// Gone, or being restarted by its restart policy.
    Crashed,
    /// Running without a health check: ready once it serves on this port.
    Serves(&'a Port),
}

fn readiness<'a>(spec: &'a ContainerSpec, seen: &Seen) -> Readiness<'a> {
    match (&spec.health, seen.running) {
        (_, false) if matches!(seen.status.as_str(), "exited" | "dead" | "restarting") => {
            Readiness::Crashed
        }
        (_, false) => Readiness::Waiting,
        (Some(_), true) if seen.health.as_deref() == Some("healthy") => Readiness::Ready,
        (Some(_), true) => Readiness::Waiting,
        (None, true) => spec
            .ports
            .first()
            .map_or(Readiness::Ready, Readiness::Serves),
    }
}

/// An exporter is ready when it serves metrics and does not report its target down.
fn serves_metrics(response: &probe::Response) -> bool {
    response.status == 200 && !response.body.lines().any(|l| l == "redis_up 0")
}

fn crashed(spec: &ContainerSpec, seen: &Seen, logs: &str) -> String {
    format!(
        "{} exited with code {}\nlast {LOG_LINES} log lines:\n{logs}",
        spec.service, seen.exit_code
    )
}

/// `check`: the last health-check output, already redacted.
fn late(spec: &ContainerSpec, seen: &Seen, check: &str, logs: &str) -> String {
    let check = if check.is_empty() { "(none)" } else { check };
    format!(
        "{} is not healthy in time (state {}, health {})\nhealth-check output: {check}\n\
         last {LOG_LINES} log lines:\n{logs}",
        spec.service,
        seen.status,
        seen.health.as_deref().unwrap_or("none"),
    )
}

/// Waits until `spec`'s container is ready; how long it took, or why it is not.
pub async fn wait(
    docker: &Docker,
    spec: &ContainerSpec,
    deadline: Instant,
    secrets: &Secrets,
) -> Result<Duration, String> {
    let started = Instant::now();
    let logs =
        move || async move { secrets.redact(&logs_tail(docker, &spec.name, LOG_LINES).await) };
    loop {
        let seen = inspect(docker, &spec.name)
            .await
            .map_err(|e| e.to_string())?;
        let ready = match readiness(spec, &seen) {
            Readiness::Ready => true,
            Readiness::Waiting => false,
            Readiness::Crashed => return Err(crashed(spec, &seen, &logs().await)),
            Readiness::Serves(port) => {
                probe::get(probe::reach(&port.host_ip), port.host_port, "/metrics")
                    .is_ok_and(|response| serves_metrics(&response))
            }
        };
        if ready {
            return Ok(started.elapsed());
        }
        if Instant::now() >= deadline {
            let check = secrets.redact(&seen.health_output);
            return Err(late(spec, &seen, &check, &logs().await));
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::spec::Health;

    fn seen(status: &str, health: Option<&str>) -> Seen {
        Seen {
            status: status.into(),
            running: status == "running",
            health: health.map(Into::into),
            health_output: String::new(),
            exit_code: 1,
        }
    }

    #[test]
    fn readiness_follows_state_health_and_ports() {
        let mut checked = ContainerSpec::bare("redis", "p-redis", "redis:7.0");
        checked.health = Some(Health::passing());
        let quiet = ContainerSpec::bare("job", "p-job", "busybox");
        let mut exporter = ContainerSpec::bare("redis-exporter", "p-e", "exporter:1");
        exporter.ports = vec![Port {
            host_ip: "0.0.0.0".into(),
            host_port: 9121,
            container_port: 9121,
        }];
        let port = &exporter.ports[0];
        let cases = [
            (&checked, seen("running", Some("healthy")), Readiness::Ready),
            (
                &checked,
                seen("running", Some("starting")),
                Readiness::Waiting,
            ),
            (&checked, seen("created", None), Readiness::Waiting),
            (&checked, seen("restarting", None), Readiness::Crashed),
            (&quiet, seen("exited", None), Readiness::Crashed),
            (&quiet, seen("dead", None), Readiness::Crashed),
            (&quiet, seen("running", None), Readiness::Ready),
            (&exporter, seen("running", None), Readiness::Serves(port)),
        ];
        for (spec, seen, expected) in cases {
            assert_eq!(
                readiness(spec, &seen),
                expected,
                "{} {seen:?}",
                spec.service
            );
        }
    }

    #[test]
    fn an_exporter_serves_when_its_target_is_not_down() {
        let cases = [
            (200, "redis_up 1\n", true),
            (200, "# HELP x\n", true),
            (200, "redis_up 0\n", false),
            (503, "", false),
        ];
        for (status, body, expected) in cases {
            let response = probe::Response {
                status,
                body: body.into(),
            };
            assert_eq!(serves_metrics(&response), expected, "{response:?}");
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
             health-check output: (none)\nlast 20 log lines:\nlog\n"
        );
        assert_eq!(
            late(&spec, &seen("created", None), "refused", ""),
            "redis is not healthy in time (state created, health none)\n\
             health-check output: refused\nlast 20 log lines:\n"
        );
    }
}
