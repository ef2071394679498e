//! Reloading a service in place when only its configuration files changed: `SIGHUP` through
//! the engine and Prometheus' own verdict from its metrics, or `POST /-/reload` on the
//! service's published port. A refusal is the service's answer, reported; the service keeps
//! running its previous configuration.

use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::query_parameters::KillContainerOptionsBuilder;

use super::engine::engine_error;
use super::labels;
use super::spec::ContainerSpec;
use crate::error::Result;
use crate::health::http::{self, HttpError, Method};

/// Reloads a service in place, as its `io.stackgen.reload` label says: `SIGHUP` through the
/// engine, then Prometheus' own verdict from its metrics (no lifecycle API needed); or
/// `POST /-/reload` on its published port, which answers once the new configuration is loaded
/// or refused. `Some(reason)` when refused.
pub(crate) async fn reload(docker: &Docker, spec: &ContainerSpec) -> Result<Option<String>> {
    let how = spec.labels.get(labels::RELOAD_LABEL).map(String::as_str);
    let address = spec
        .ports
        .first()
        .map(|p| (http::reach(&p.host_ip).to_string(), p.host_port));
    match (how, address) {
        (Some("SIGHUP"), Some((host, port))) => {
            hangup_and_verify(docker, &spec.name, &host, port).await
        }
        (_, Some((host, port))) => {
            let answer = http::request(Method::POST, &host, port, "/-/reload", None).await;
            Ok(refusal(answer))
        }
        (_, None) => hangup(docker, &spec.name).await.map(|()| None),
    }
}

/// SIGHUP through the engine, then Prometheus' verdict from its metrics: a refusal, or the
/// last successful load's timestamp moving past what it was before the signal.
pub(crate) async fn hangup_and_verify(
    docker: &Docker,
    name: &str,
    host: &str,
    port: u16,
) -> Result<Option<String>> {
    let before = reloads(host, port).await;
    // The verdict's timestamp counts whole seconds: a reload within the second of the last one
    // would not show.
    if let Ok(Reloads { last_success, .. }) = before {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        if now < last_success + 1.0 {
            tokio::time::sleep(Duration::from_secs_f64(last_success + 1.0 - now)).await;
        }
    }
    hangup(docker, name).await?;
    let deadline = Instant::now() + RELOAD_VERDICT;
    loop {
        match (reloads(host, port).await, &before) {
            (Ok(now), _) if !now.successful => {
                return Ok(Some(
                    "prometheus_config_last_reload_successful is 0: it refused the new \
                     configuration (its log says why)"
                        .into(),
                ));
            }
            (Ok(now), Ok(then)) if now.last_success > then.last_success => return Ok(None),
            _ if Instant::now() >= deadline => {
                return Ok(Some("no reload seen in its metrics in time".into()));
            }
            _ => tokio::time::sleep(super::ready::POLL).await,
        }
    }
}

/// How long a reload may take to show in the service's metrics.
const RELOAD_VERDICT: Duration = Duration::from_secs(30);

async fn hangup(docker: &Docker, name: &str) -> Result<()> {
    let options = KillContainerOptionsBuilder::new().signal("SIGHUP").build();
    docker
        .kill_container(name, Some(options))
        .await
        .map_err(engine_error(name))
}

/// Prometheus' account of its configuration reloads.
#[derive(Debug, PartialEq)]
struct Reloads {
    successful: bool,
    /// Unix seconds of the last successful load.
    last_success: f64,
}

async fn reloads(host: &str, port: u16) -> std::result::Result<Reloads, String> {
    let metrics = http::get(host, port, "/metrics")
        .await
        .map_err(|e| e.to_string())?;
    parse_reloads(&metrics.body).ok_or_else(|| "no reload metrics".into())
}

fn parse_reloads(metrics: &str) -> Option<Reloads> {
    let value = |name: &str| {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    Some(Reloads {
        successful: value("prometheus_config_last_reload_successful")? == 1.0,
        last_success: value("prometheus_config_last_reload_success_timestamp_seconds")?,
    })
}

/// Why a reload's answer is a refusal; `None` when it succeeded.
fn refusal(answer: std::result::Result<http::Response, HttpError>) -> Option<String> {
    match answer {
        Ok(response) if response.status == 200 => None,
        Ok(response) => Some(format!(
            "HTTP {}: {}",
            response.status,
            response.body.trim()
        )),
        Err(e) => Some(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> http::Response {
        http::Response {
            status,
            body: body.into(),
        }
    }

    #[test]
    fn a_reload_is_refused_unless_it_answers_200() {
        let cases = [
            (Ok(response(200, "ok")), None),
            (Ok(response(500, " bad rule\n")), Some("HTTP 500: bad rule")),
            (
                Err(HttpError::Request("connection refused".into())),
                Some("connection refused"),
            ),
        ];
        for (answer, expected) in cases {
            assert_eq!(refusal(answer).as_deref(), expected);
        }
    }

    #[test]
    fn prometheus_tells_its_reloads_in_its_metrics() {
        let metrics = "# HELP x\nprometheus_config_last_reload_successful 0\n\
                       prometheus_config_last_reload_success_timestamp_seconds 1.764121543e+09\n";
        assert_eq!(
            parse_reloads(metrics),
            Some(Reloads {
                successful: false,
                last_success: 1_764_121_543.0
            })
        );
        assert_eq!(parse_reloads("up 1\n"), None);
    }
}
