//! What each service must answer to count as ready and wired, asked from the host the way an
//! operator would: Redis answers PING with its password (and refuses it without), the exporter
//! answers and reports the managed Redis up (`redis_up 1` from `/scrape`), Prometheus is ready
//! with its rule groups loaded, every target and Alertmanager discovered and no target down,
//! Alertmanager is ready with its receivers, Grafana is healthy with its datasource and
//! dashboard. `up` polls these to decide when a service is ready; `status` shows them. A target
//! Prometheus has not scraped yet is pending, not failed. Blocking HTTP and Redis calls with
//! short timeouts; a secret used to log in never appears in what a check reports.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::Value;

use super::observe::parse_time;
use super::spec::{ContainerSpec, StackSpec};
use super::{fleet, probe};
use crate::model::Stack;
use crate::printer::plural;

/// What a check needs besides the container: the stack and its secrets, and whether targets
/// that Prometheus has not scraped yet count as ready.
pub struct Checks<'a> {
    pub spec: &'a StackSpec,
    pub stack: &'a Stack,
    /// Unscraped targets are failures rather than pending (`up --wait-scrape`).
    pub wait_scrape: bool,
}

/// A passed check: what it found, and the targets still waiting for their first scrape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Passed {
    pub detail: String,
    pub pending: Vec<PendingTarget>,
}

/// A target Prometheus knows but has not scraped yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingTarget {
    pub job: String,
    /// The latest time its first scrape (of the container that runs now) is due (UTC,
    /// RFC 3339): Prometheus scrapes a new
    /// target within one scrape interval.
    pub first_scrape_due: String,
}

impl From<String> for Passed {
    fn from(detail: String) -> Self {
        Self {
            detail,
            pending: Vec::new(),
        }
    }
}

type Checked = std::result::Result<Passed, String>;

/// When each service's running container started, by service; a service not running is absent.
pub type Started = BTreeMap<String, SystemTime>;

/// How long after its container starts a service may fail a scrape for starting: every service
/// of the stack answers within seconds, so a scrape that failed earlier is about the start.
const STARTING: Duration = Duration::from_secs(10);

/// The service whose container answers a Prometheus job's scrapes: the exporter answers for
/// every Redis target.
fn scraped_service(job: &str) -> &str {
    match job {
        "redis" => "redis-exporter",
        other => other,
    }
}

impl Checks<'_> {
    /// The check of one service; what it found, or why it failed. `started` says which
    /// services run, and since when, for Prometheus to tell fresh scrapes from stale ones.
    pub fn check(&self, container: &ContainerSpec, started: &Started) -> Checked {
        let port = container
            .ports
            .first()
            .ok_or("no published port to probe")?;
        let host = probe::reach(&port.host_ip);
        let port = port.host_port;
        match container.service.as_str() {
            "redis" => self.redis(host, port).map(Passed::from),
            "redis-exporter" => self.exporter(host, port).map(Passed::from),
            "prometheus" => self.prometheus(host, port, started),
            "alertmanager" => self.alertmanager(host, port).map(Passed::from),
            "grafana" => self.grafana(host, port).map(Passed::from),
            other => Err(format!("no probe for service `{other}`")),
        }
    }

    /// PING without the password must be refused and PING with it answered, when there is one.
    fn redis(&self, host: &str, port: u16) -> std::result::Result<String, String> {
        let auth = self.stack.redis.auth;
        let password = auth
            .then(|| super::secrets::value(self.spec, "redis_password"))
            .flatten();
        if auth && password.is_none() {
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

    /// The exporter answers for itself, and reports the managed Redis up when there is one;
    /// other targets are `status`'s to report, and alerts', not a reason to wait.
    fn exporter(&self, host: &str, port: u16) -> std::result::Result<String, String> {
        let metrics = probe::get(host, port, "/metrics").map_err(|e| e.to_string())?;
        if metrics.status != 200 || !metrics.body.contains("redis_exporter_build_info") {
            return Err(format!("/metrics answered {}", metrics.status));
        }
        let targets = plural(self.stack.targets.len(), "target");
        match self.stack.targets.iter().find(|t| t.managed) {
            Some(managed) => {
                let seen = fleet::scrape(host, port, managed);
                if seen.up {
                    Ok(format!("{targets}; {}: redis_up 1", managed.name))
                } else {
                    Err(format!("{}: {}", managed.name, seen.detail))
                }
            }
            None => Ok(format!("answers, {targets}")),
        }
    }

    /// Every target through the exporter published at `host:port`.
    pub fn targets(&self, host: &str, port: u16) -> Vec<fleet::TargetStatus> {
        fleet::scrape_all(host, port, &self.stack.targets)
    }

    /// The jobs Prometheus scrapes, as `prometheus.yml` declares them.
    fn jobs(&self) -> Vec<&'static str> {
        let mut jobs = vec!["prometheus"];
        if self.stack.redis_exporter.service.enabled {
            jobs.push("redis");
            jobs.push("redis-exporter");
        }
        if self.stack.alertmanager.service.enabled {
            jobs.push("alertmanager");
        }
        jobs
    }

    /// Ready, rules loaded, every job's target discovered and none down, Alertmanager found.
    fn prometheus(&self, host: &str, port: u16, started: &Started) -> Checked {
        let ready = probe::get(host, port, "/-/ready").map_err(|e| e.to_string())?;
        if ready.status != 200 {
            return Err(format!("/-/ready answered {}", ready.status));
        }
        let rules = json(host, port, "/api/v1/rules", None)?;
        let (groups, count) = rule_count(&rules);
        if groups == 0 {
            return Err("no rule groups loaded".into());
        }
        let targets = json(host, port, "/api/v1/targets", None)?;
        let found = Targets::read(&targets, &self.jobs(), SystemTime::now(), started)?;
        if self.wait_scrape && !found.pending.is_empty() {
            let jobs: Vec<&str> = found.pending.iter().map(|p| p.job.as_str()).collect();
            return Err(format!("not scraped yet: {}", jobs.join(", ")));
        }
        let mut detail = format!("{} up", plural(found.up, "target"));
        if !found.pending.is_empty() {
            let due = found.pending.iter().map(|p| &p.first_scrape_due).max();
            detail.push_str(&format!(
                ", {} pending (first scrape due by {})",
                found.pending.len(),
                due.expect("pending is not empty")
            ));
        }
        detail.push_str(&format!(
            ", {} in {} loaded",
            plural(count, "rule"),
            plural(groups, "group")
        ));
        if self.stack.alertmanager.service.enabled {
            let found = json(host, port, "/api/v1/alertmanagers", None)?;
            let active = found["data"]["activeAlertmanagers"].as_array();
            if active.is_none_or(Vec::is_empty) {
                return Err("Alertmanager not discovered yet".into());
            }
            detail.push_str(", Alertmanager discovered");
        }
        Ok(Passed {
            detail,
            pending: found.pending,
        })
    }

    /// Ready, and with a Slack receiver when `stack.toml` configures one.
    fn alertmanager(&self, host: &str, port: u16) -> std::result::Result<String, String> {
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
        if self.stack.alertmanager.slack.is_some() && !original.contains("slack_configs") {
            return Err(format!("ready, but no Slack receiver among {receivers:?}"));
        }
        Ok(format!("ready, receivers: {}", receivers.join(", ")))
    }

    /// Healthy, and the admin sees the provisioned datasource and dashboard.
    fn grafana(&self, host: &str, port: u16) -> std::result::Result<String, String> {
        let health = json(host, port, "/api/health", None)?;
        if health["database"] != "ok" {
            return Err(format!("/api/health: {health}"));
        }
        let grafana = &self.stack.grafana;
        let password = if grafana.admin_password {
            super::secrets::value(self.spec, "grafana_admin_password")
                .ok_or("the Grafana admin password secret cannot be read")?
        } else {
            "admin".to_string()
        };
        let auth = Some((grafana.admin_user.as_str(), password.as_str()));
        json(host, port, "/api/datasources/uid/stackgen-prometheus", auth)?;
        json(host, port, "/api/dashboards/uid/stackgen-redis", auth)?;
        Ok("healthy, datasource and dashboard provisioned".into())
    }
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

/// Rule groups, and rules in them, of `/api/v1/rules`.
fn rule_count(rules: &Value) -> (usize, usize) {
    let groups = rules["data"]["groups"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let count = groups
        .iter()
        .map(|g| g["rules"].as_array().map_or(0, Vec::len))
        .sum();
    (groups.len(), count)
}

/// Prometheus' active targets, judged: how many are up, which are pending.
#[derive(Debug, PartialEq, Eq)]
struct Targets {
    up: usize,
    pending: Vec<PendingTarget>,
}

impl Targets {
    /// An error when a job has no target yet or a scraped target is down. A target whose
    /// container does not run, or whose last scrape predates its container or failed while it
    /// was starting, is pending: that scrape is about another container, or about its start.
    fn read(
        targets: &Value,
        jobs: &[&str],
        now: SystemTime,
        started: &Started,
    ) -> std::result::Result<Self, String> {
        let active = targets["data"]["activeTargets"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let job = |t: &Value| t["labels"]["job"].as_str().unwrap_or("?").to_string();
        let missing: Vec<&str> = jobs
            .iter()
            .filter(|j| !active.iter().any(|t| job(t) == **j))
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "targets not discovered yet: {}",
                missing.join(", ")
            ));
        }
        let stale = |t: &Value| {
            let Some(since) = started.get(scraped_service(&job(t))) else {
                return true;
            };
            let last = t["lastScrape"].as_str().and_then(parse_time);
            let last = last.unwrap_or(UNIX_EPOCH);
            last < *since || (t["health"] == "down" && last < *since + STARTING)
        };
        let down: Vec<String> = active
            .iter()
            .filter(|t| t["health"] == "down" && !stale(t))
            .map(|t| {
                let error = t["lastError"].as_str().unwrap_or_default();
                format!("{} ({error})", job(t))
            })
            .collect();
        if !down.is_empty() {
            return Err(format!("targets down: {}", down.join(", ")));
        }
        let pending = active
            .iter()
            .filter(|t| t["health"] != "up" || stale(t))
            .map(|t| {
                let interval = t["scrapeInterval"].as_str().unwrap_or("1m");
                PendingTarget {
                    job: job(t),
                    first_scrape_due: rfc3339(now + parse_interval(interval)),
                }
            })
            .collect::<Vec<_>>();
        Ok(Self {
            up: active.len() - pending.len(),
            pending,
        })
    }
}

/// A Prometheus duration such as `15s`, `1m30s` or `500ms`; a minute when unreadable.
fn parse_interval(text: &str) -> Duration {
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let Ok(n) = rest[..digits].parse::<u64>() else {
            return Duration::from_secs(60);
        };
        rest = &rest[digits..];
        let unit = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        total += match &rest[..unit] {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n * 60),
            "h" => Duration::from_secs(n * 3600),
            "d" => Duration::from_secs(n * 86_400),
            _ => return Duration::from_secs(60),
        };
        rest = &rest[unit..];
    }
    total
}

/// `time` as `2026-11-26T01:02:03Z`.
fn rfc3339(time: SystemTime) -> String {
    let time = chrono::DateTime::<chrono::Utc>::from(time);
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    //! Grafana has no image on this machine, so its probe is checked against a small stand-in
    //! of Grafana's HTTP API on loopback: the real client, requests and auth, a fake server.

    use std::collections::BTreeMap;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    use super::*;
    use crate::docker::spec::{Port, SecretSource, StackSpec};
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
        let checks = Checks {
            spec: &spec,
            stack: &stack,
            wait_scrape: false,
        };
        let passed = checks.check(&container, &Started::new()).unwrap();
        assert_eq!(
            passed.detail,
            "healthy, datasource and dashboard provisioned"
        );

        // A server that wants other credentials fails the probe, naming what failed.
        let port = fake_grafana(2, "b3RoZXI6b3RoZXI=");
        container.ports[0].host_port = port;
        let error = checks.check(&container, &Started::new()).unwrap_err();
        assert!(
            error.contains("/api/datasources/uid/stackgen-prometheus answered 401"),
            "{error}"
        );
        assert!(!error.contains("s3cret"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A target of `/api/v1/targets`, last scraped `scraped` seconds after the test's epoch.
    fn target(job: &str, health: &str, error: &str, scraped: u64) -> Value {
        let scraped = UNIX_EPOCH + Duration::from_secs(1_795_000_000 + scraped);
        serde_json::json!({
            "labels": {"job": job},
            "health": health,
            "lastError": error,
            "lastScrape": if health == "unknown" {
                "0001-01-01T00:00:00Z".to_string()
            } else {
                rfc3339(scraped).replace('Z', ".123456789Z")
            },
            "scrapeInterval": "15s",
        })
    }

    #[test]
    fn unscraped_and_stale_targets_are_pending_and_scraped_down_ones_fail() {
        let epoch = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let now = epoch + Duration::from_secs(100);
        let jobs = ["prometheus", "redis", "redis-exporter"];
        let answer = |targets: Vec<Value>| serde_json::json!({"data": {"activeTargets": targets}});
        // Every container started at 50 s, unless a case says otherwise.
        let at = |exporter: Option<u64>| {
            let mut started = Started::from([("prometheus".to_string(), epoch)]);
            if let Some(secs) = exporter {
                started.insert("redis-exporter".into(), epoch + Duration::from_secs(secs));
            }
            started
        };
        let up = || target("prometheus", "up", "", 90);
        let redis = || target("redis", "up", "", 90);
        let due = "2026-11-18T11:08:35Z";
        let pending = |job: &str| Targets {
            up: 2,
            pending: vec![PendingTarget {
                job: job.into(),
                first_scrape_due: due.into(),
            }],
        };
        // (exporter target, when the exporter's container started, what is judged)
        let cases: [(Value, Option<u64>, Result<Targets, &str>); 6] = [
            // Not scraped yet.
            (
                target("redis-exporter", "unknown", "", 0),
                Some(50),
                Ok(pending("redis-exporter")),
            ),
            // Scraped, up, after the start.
            (
                target("redis-exporter", "up", "", 80),
                Some(50),
                Ok(Targets {
                    up: 3,
                    pending: vec![],
                }),
            ),
            // Down well after its start: a failure.
            (
                target("redis-exporter", "down", "connection refused", 80),
                Some(50),
                Err("targets down: redis-exporter (connection refused)"),
            ),
            // Down before `up` replaced its container (no such host in between): stale.
            (
                target("redis-exporter", "down", "no such host", 45),
                Some(50),
                Ok(pending("redis-exporter")),
            ),
            // Down within seconds of the start: about the start.
            (
                target("redis-exporter", "down", "connection refused", 52),
                Some(50),
                Ok(pending("redis-exporter")),
            ),
            // Up, but the container does not run now: not judged yet.
            (
                target("redis-exporter", "up", "", 80),
                None,
                Ok(Targets {
                    up: 1,
                    pending: vec![
                        PendingTarget {
                            job: "redis".into(),
                            first_scrape_due: due.into(),
                        },
                        PendingTarget {
                            job: "redis-exporter".into(),
                            first_scrape_due: due.into(),
                        },
                    ],
                }),
            ),
        ];
        for (exporter, started, expected) in cases {
            let found = Targets::read(
                &answer(vec![up(), redis(), exporter.clone()]),
                &jobs,
                now,
                &at(started),
            );
            assert_eq!(
                found,
                expected.map_err(String::from),
                "{exporter} started {started:?}"
            );
        }
        let early = answer(vec![target("prometheus", "unknown", "", 0)]);
        assert_eq!(
            Targets::read(&early, &jobs, now, &at(Some(50))).unwrap_err(),
            "targets not discovered yet: redis, redis-exporter"
        );
    }

    #[test]
    fn intervals_and_times_read_and_print_as_prometheus_and_rfc_3339_do() {
        let cases = [
            ("15s", 15_000),
            ("1m30s", 90_000),
            ("500ms", 500),
            ("2h", 7_200_000),
        ];
        for (text, millis) in cases {
            assert_eq!(
                parse_interval(text),
                Duration::from_millis(millis),
                "{text}"
            );
        }
        assert_eq!(parse_interval("soon"), Duration::from_secs(60));
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400 + 86_399);
        assert_eq!(rfc3339(leap), "2000-02-29T23:59:59Z");
    }
}
