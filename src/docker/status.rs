//! `status`: each service's container state and health, and a real probe from the host the
//! way an operator checks it: Redis PING with and without AUTH, the exporter's `redis_up`,
//! Prometheus' targets and rules, Alertmanager's readiness and receivers, Grafana's health,
//! datasource and dashboard.

use serde::Serialize;
use serde_json::Value;

use super::compose::{ContainerSpec, StackSpec};
use super::probe;
use crate::error::Result;
use crate::model::Stack;

#[derive(Debug, Clone, Serialize)]
pub struct ServiceStatus {
    pub service: String,
    pub container: String,
    pub state: String,
    pub health: String,
    pub ok: bool,
    pub probe: String,
}

fn address(spec: &ContainerSpec) -> Option<(String, u16)> {
    spec.ports
        .first()
        .map(|p| (probe::reach(&p.host_ip).to_string(), p.host_port))
}

fn json(
    host: &str,
    port: u16,
    path: &str,
    auth: Option<(&str, &str)>,
) -> std::result::Result<Value, String> {
    let (status, body) =
        probe::http("GET", host, port, path, auth).map_err(|e| format!("{path}: {e}"))?;
    if status != 200 {
        return Err(format!("{path} answered {status}"));
    }
    serde_json::from_str(&body).map_err(|e| format!("{path}: {e}"))
}

fn probe_service(
    spec: &ContainerSpec,
    stack_spec: &StackSpec,
    stack: &Stack,
) -> std::result::Result<String, String> {
    let (host, port) = address(spec).ok_or("no published port to probe")?;
    match spec.service.as_str() {
        "redis" => {
            let password = stack
                .redis
                .auth
                .then(|| super::secret_value(stack_spec, "redis_password"))
                .flatten();
            if stack.redis.auth && password.is_none() {
                return Err("the Redis password secret cannot be read".into());
            }
            let (without, with) =
                probe::redis_ping(&host, port, password.as_deref()).map_err(|e| e.to_string())?;
            match with {
                None if without == "+PONG" => {
                    Ok("PING answers PONG (no password configured)".into())
                }
                Some(with) if without.starts_with("-NOAUTH") && with == "+PONG" => {
                    Ok("PING: NOAUTH without the password, PONG with it".into())
                }
                other => Err(format!(
                    "PING answered {without:?} without the password and {other:?} with it"
                )),
            }
        }
        "redis-exporter" => {
            let (status, body) = probe::get(&host, port, "/metrics").map_err(|e| e.to_string())?;
            if status == 200 && body.lines().any(|l| l == "redis_up 1") {
                Ok("redis_up 1".into())
            } else {
                Err(format!("/metrics answered {status} without `redis_up 1`"))
            }
        }
        "prometheus" => {
            let targets = json(&host, port, "/api/v1/targets", None)?;
            let active = targets["data"]["activeTargets"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let down: Vec<String> = active
                .iter()
                .filter(|t| t["health"] != "up")
                .map(|t| {
                    format!(
                        "{} ({})",
                        t["labels"]["job"].as_str().unwrap_or("?"),
                        t["health"].as_str().unwrap_or("?")
                    )
                })
                .collect();
            let rules = json(&host, port, "/api/v1/rules", None)?;
            let count: usize = rules["data"]["groups"]
                .as_array()
                .map(|groups| {
                    groups
                        .iter()
                        .map(|g| g["rules"].as_array().map_or(0, Vec::len))
                        .sum()
                })
                .unwrap_or(0);
            if active.is_empty() || !down.is_empty() {
                Err(format!(
                    "targets not up: {}",
                    if down.is_empty() {
                        "none found".into()
                    } else {
                        down.join(", ")
                    }
                ))
            } else if count == 0 {
                Err("no alert rules loaded".into())
            } else {
                Ok(format!("{} targets up, {count} rules loaded", active.len()))
            }
        }
        "alertmanager" => {
            let (status, _) = probe::get(&host, port, "/-/ready").map_err(|e| e.to_string())?;
            if status != 200 {
                return Err(format!("/-/ready answered {status}"));
            }
            let config = json(&host, port, "/api/v2/status", None)?;
            let original = config["config"]["original"].as_str().unwrap_or_default();
            let parsed: Value = crate::yaml::from_str(original).unwrap_or_default();
            let receivers: Vec<&str> = parsed["receivers"]
                .as_array()
                .map(|r| r.iter().filter_map(|r| r["name"].as_str()).collect())
                .unwrap_or_default();
            if stack.alertmanager.slack.is_some() && !original.contains("slack_configs") {
                return Err(format!("ready, but no Slack receiver among {receivers:?}"));
            }
            Ok(format!("ready, receivers: {}", receivers.join(", ")))
        }
        "grafana" => {
            let health = json(&host, port, "/api/health", None)?;
            if health["database"] != "ok" {
                return Err(format!("/api/health: {health}"));
            }
            let password = if stack.grafana.admin_password {
                super::secret_value(stack_spec, "grafana_admin_password")
                    .ok_or("the Grafana admin password secret cannot be read")?
            } else {
                "admin".to_string()
            };
            let auth = Some((stack.grafana.admin_user.as_str(), password.as_str()));
            json(
                &host,
                port,
                "/api/datasources/uid/stackgen-prometheus",
                auth,
            )?;
            json(&host, port, "/api/dashboards/uid/stackgen-redis", auth)?;
            Ok("healthy, datasource and dashboard provisioned".into())
        }
        other => Err(format!("no probe for service `{other}`")),
    }
}

pub async fn status(
    docker: &bollard::Docker,
    spec: &StackSpec,
    stack: &Stack,
) -> Result<Vec<ServiceStatus>> {
    let mut rows = Vec::new();
    for container in &spec.containers {
        let seen = super::inspect(docker, &container.name).await?;
        let health = seen.health.clone().unwrap_or_else(|| "-".into());
        let healthy = seen.running && seen.health.as_deref().is_none_or(|h| h == "healthy");
        let (ok, probe) = if !seen.running {
            (false, "not running".to_string())
        } else {
            match probe_service(container, spec, stack) {
                Ok(detail) => (healthy, detail),
                Err(detail) => (false, detail),
            }
        };
        rows.push(ServiceStatus {
            service: container.service.clone(),
            container: container.name.clone(),
            state: seen.status,
            health,
            ok,
            probe,
        });
    }
    Ok(rows)
}
