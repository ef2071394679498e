//! `status`: each service's container state and health, and a real probe from the host the
//! way an operator checks it: Redis PING with and without AUTH, the exporter's `redis_up`,
//! Prometheus' targets and rules, Alertmanager's readiness and receivers, Grafana's health,
//! datasource and dashboard. It only looks: nothing here starts, changes or writes anything, and
//! a secret it logs in with never appears in what it reports.

use serde::Serialize;
use serde_json::Value;

use super::probe;
use super::spec::{ContainerSpec, StackSpec};
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
    let response =
        probe::http("GET", host, port, path, auth).map_err(|e| format!("{path}: {e}"))?;
    if response.status != 200 {
        return Err(format!("{path} answered {}", response.status));
    }
    serde_json::from_str(&response.body).map_err(|e| format!("{path}: {e}"))
}

/// The probe of one service; what it found, or why it failed.
fn probe_service(
    spec: &ContainerSpec,
    stack_spec: &StackSpec,
    stack: &Stack,
) -> std::result::Result<String, String> {
    let (host, port) = address(spec).ok_or("no published port to probe")?;
    match spec.service.as_str() {
        "redis" => probe_redis(&host, port, stack_spec, stack),
        "redis-exporter" => probe_exporter(&host, port),
        "prometheus" => probe_prometheus(&host, port),
        "alertmanager" => probe_alertmanager(&host, port, stack),
        "grafana" => probe_grafana(&host, port, stack_spec, stack),
        other => Err(format!("no probe for service `{other}`")),
    }
}

/// PING without the password must be refused and PING with it answered, when there is one.
fn probe_redis(
    host: &str,
    port: u16,
    stack_spec: &StackSpec,
    stack: &Stack,
) -> std::result::Result<String, String> {
    let password = stack
        .redis
        .auth
        .then(|| super::secrets::value(stack_spec, "redis_password"))
        .flatten();
    if stack.redis.auth && password.is_none() {
        return Err("the Redis password secret cannot be read".into());
    }
    let probe::Pings { without, with } =
        probe::redis_ping(host, port, password.as_deref()).map_err(|e| e.to_string())?;
    match with {
        None if without == "+PONG" => Ok("PING answers PONG (no password configured)".into()),
        Some(with) if without.starts_with("-NOAUTH") && with == "+PONG" => {
            Ok("PING: NOAUTH without the password, PONG with it".into())
        }
        other => Err(format!(
            "PING answered {without:?} without the password and {other:?} with it"
        )),
    }
}

fn probe_exporter(host: &str, port: u16) -> std::result::Result<String, String> {
    let metrics = probe::get(host, port, "/metrics").map_err(|e| e.to_string())?;
    if metrics.status == 200 && metrics.body.lines().any(|l| l == "redis_up 1") {
        Ok("redis_up 1".into())
    } else {
        Err(format!(
            "/metrics answered {} without `redis_up 1`",
            metrics.status
        ))
    }
}

/// Every target up and at least one rule loaded.
fn probe_prometheus(host: &str, port: u16) -> std::result::Result<String, String> {
    let targets = json(host, port, "/api/v1/targets", None)?;
    let active = targets["data"]["activeTargets"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let down: Vec<String> = active
        .iter()
        .filter(|t| t["health"] != "up")
        .map(|t| {
            let job = t["labels"]["job"].as_str().unwrap_or("?");
            format!("{job} ({})", t["health"].as_str().unwrap_or("?"))
        })
        .collect();
    let rules = json(host, port, "/api/v1/rules", None)?;
    let count: usize = rules["data"]["groups"]
        .as_array()
        .map(|groups| {
            let rules = groups
                .iter()
                .map(|g| g["rules"].as_array().map_or(0, Vec::len));
            rules.sum()
        })
        .unwrap_or(0);
    if active.is_empty() {
        Err("targets not up: none found".into())
    } else if !down.is_empty() {
        Err(format!("targets not up: {}", down.join(", ")))
    } else if count == 0 {
        Err("no alert rules loaded".into())
    } else {
        Ok(format!("{} targets up, {count} rules loaded", active.len()))
    }
}

/// Ready, and with a Slack receiver when `stack.toml` configures one.
fn probe_alertmanager(host: &str, port: u16, stack: &Stack) -> std::result::Result<String, String> {
    let ready = probe::get(host, port, "/-/ready").map_err(|e| e.to_string())?;
    if ready.status != 200 {
        return Err(format!("/-/ready answered {}", ready.status));
    }
    let config = json(host, port, "/api/v2/status", None)?;
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

/// Healthy, and the admin sees the provisioned datasource and dashboard.
fn probe_grafana(
    host: &str,
    port: u16,
    stack_spec: &StackSpec,
    stack: &Stack,
) -> std::result::Result<String, String> {
    let health = json(host, port, "/api/health", None)?;
    if health["database"] != "ok" {
        return Err(format!("/api/health: {health}"));
    }
    let password = if stack.grafana.admin_password {
        super::secrets::value(stack_spec, "grafana_admin_password")
            .ok_or("the Grafana admin password secret cannot be read")?
    } else {
        "admin".to_string()
    };
    let auth = Some((stack.grafana.admin_user.as_str(), password.as_str()));
    json(host, port, "/api/datasources/uid/stackgen-prometheus", auth)?;
    json(host, port, "/api/dashboards/uid/stackgen-redis", auth)?;
    Ok("healthy, datasource and dashboard provisioned".into())
}

pub async fn status(
    docker: &bollard::Docker,
    spec: &StackSpec,
    stack: &Stack,
) -> Result<Vec<ServiceStatus>> {
    let mut rows = Vec::new();
    for container in &spec.containers {
        let seen = super::observe::inspect(docker, &container.name).await?;
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

#[cfg(test)]
mod tests {
    //! Grafana has no image on this machine, so its probe is checked against a small stand-in
    //! of Grafana's HTTP API on loopback: the real client, requests and auth, a fake server.

    use std::collections::BTreeMap;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    use super::*;
    use crate::docker::spec::{Port, SecretSource};
    use crate::model::Source;
    use crate::model::Sources;
    use crate::model::raw::{ProfileFile, StackFile};
    use crate::model::resolve::resolve;

    /// Serves `requests` connections: 200 with `body` for a known path and the right auth.
    fn fake_grafana(requests: usize, auth: &'static str) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(requests) {
                let mut stream = stream.unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if line.trim().is_empty() {
                        break;
                    }
                    request.push_str(&line);
                }
                let authorized = request.contains(&format!("Authorization: Basic {auth}\r\n"));
                let (status, body) = match request.split_whitespace().nth(1).unwrap_or_default() {
                    "/api/health" => (200, r#"{"database":"ok","version":"11.1.0"}"#),
                    "/api/datasources/uid/stackgen-prometheus" if authorized => {
                        (200, r#"{"uid":"stackgen-prometheus"}"#)
                    }
                    "/api/dashboards/uid/stackgen-redis" if authorized => {
                        (200, r#"{"dashboard":{"uid":"stackgen-redis"}}"#)
                    }
                    _ if !authorized => (401, r#"{"message":"Unauthorized"}"#),
                    _ => (404, r#"{"message":"Not found"}"#),
                };
                let _ = write!(
                    stream,
                    "HTTP/1.0 {status} X\r\nContent-Type: application/json\r\n\r\n{body}"
                );
            }
        });
        port
    }

    fn grafana_stack(password_file: &str) -> (Stack, StackSpec, ContainerSpec) {
        let text = "[stack]\nname = \"t\"\n[grafana]\nadmin_user = \"ops\"\n\
                    admin_password = { file = \"secrets/pw\" }\n";
        let source = Source::parse("stack.toml", text).unwrap();
        let profile = Source::parse("profile.toml", "").unwrap();
        let file: StackFile = source.deserialize().unwrap();
        let overlay: ProfileFile = profile.deserialize().unwrap();
        let stack = resolve(
            &file,
            "dev",
            &overlay,
            Sources {
                stack: &source,
                profile: &profile,
            },
        )
        .unwrap();
        let spec = StackSpec {
            project: "t".into(),
            network: "t_default".into(),
            containers: vec![],
            volumes: vec![],
            secrets: BTreeMap::from([(
                "grafana_admin_password".to_string(),
                SecretSource::File(password_file.into()),
            )]),
        };
        let mut container = ContainerSpec::bare("grafana", "t-grafana", "grafana/grafana:11.1.0");
        container.secrets = vec!["grafana_admin_password".into()];
        (stack, spec, container)
    }

    #[test]
    fn the_grafana_probe_logs_in_and_finds_the_datasource_and_dashboard() {
        let dir = std::env::temp_dir().join(format!("stackgen-probe-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let password = dir.join("pw");
        std::fs::write(&password, "s3cret\n").unwrap();
        let (stack, spec, mut container) = grafana_stack(password.to_str().unwrap());

        // "ops:s3cret" in base64: the user of stack.toml, the password from its secret.
        let port = fake_grafana(3, "b3BzOnMzY3JldA==");
        container.ports = vec![Port {
            host_ip: "127.0.0.1".into(),
            host_port: port,
            container_port: 3000,
        }];
        let detail = probe_service(&container, &spec, &stack).unwrap();
        assert_eq!(detail, "healthy, datasource and dashboard provisioned");

        // A server that wants other credentials fails the probe, naming what failed.
        let port = fake_grafana(2, "b3RoZXI6b3RoZXI=");
        container.ports[0].host_port = port;
        let error = probe_service(&container, &spec, &stack).unwrap_err();
        assert!(
            error.contains("/api/datasources/uid/stackgen-prometheus answered 401"),
            "{error}"
        );
        assert!(!error.contains("s3cret"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
