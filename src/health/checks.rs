//! What each service must answer to count as ready and wired, asked from the host the way an
//! operator would: Redis answers PING with its password (and refuses it without), the exporter
//! answers and reports the managed Redis up (`redis_up 1` from `/scrape`), Prometheus is ready
//! with its rule groups loaded, every target and Alertmanager discovered and no target down,
//! Alertmanager is ready with its receivers, Grafana is healthy with its datasource and
//! dashboard. `up` polls these to decide when a service is ready; `status` shows them. A target
//! Prometheus has not scraped yet is pending, not failed (see [`super::targets`]). Async calls
//! with short time limits; a secret used to log in never appears in what a check reports.

use std::time::SystemTime;

use serde_json::Value;

use super::http::{self, Method};
use super::targets::{PendingTarget, Started, Targets};
use super::{fleet, redis};
use crate::model::Stack;
use crate::model::raw::TargetKind;
use crate::printer::plural;

/// What a check needs besides the service's address: the stack, the passwords it logs in
/// with, and whether targets that Prometheus has not scraped yet count as ready.
pub(crate) struct Checks<'a> {
    pub(crate) stack: &'a Stack,
    /// Unscraped targets are failures rather than pending (`up --wait-scrape`).
    pub(crate) wait_scrape: bool,
    /// The Redis password, when `stack.toml` sets one and its secret can be read.
    pub(crate) redis_password: Option<String>,
    /// Grafana's admin password, when `stack.toml` sets one and its secret can be read.
    pub(crate) grafana_password: Option<String>,
}

/// A passed check: what it found, and the targets still waiting for their first scrape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Passed {
    pub(crate) detail: String,
    pub(crate) pending: Vec<PendingTarget>,
}

impl From<String> for Passed {
    fn from(detail: String) -> Self {
        Self {
            detail,
            pending: Vec::new(),
        }
    }
}

type Checked = Result<Passed, String>;

impl Checks<'_> {
    /// The check of one service, published at `host:port` on this machine; what it found, or
    /// why it failed. `started` says which services run, and since when, for Prometheus to
    /// tell fresh scrapes from stale ones.
    pub(crate) async fn check(
        &self,
        service: &str,
        (host, port): (&str, u16),
        started: &Started,
    ) -> Checked {
        // The managed Redis' nodes (the primary, each replica, each Sentinel) are answered alike;
        // a Sentinel is ready once it watches the whole group.
        let node = |kind: TargetKind| {
            self.stack
                .targets
                .iter()
                .any(|t| t.managed && t.name == service && t.kind == kind)
        };
        match service {
            _ if node(TargetKind::Sentinel) => self.sentinel(host, port).await.map(Passed::from),
            _ if node(TargetKind::Redis) => self.redis(host, port).await.map(Passed::from),
            "redis-exporter" => self.exporter(host, port).await.map(Passed::from),
            "prometheus" => self.prometheus(host, port, started).await,
            "alertmanager" => self.alertmanager(host, port).await.map(Passed::from),
            "grafana" => self.grafana(host, port).await.map(Passed::from),
            other => Err(format!("no probe for service `{other}`")),
        }
    }

    /// PING without the password must be refused and PING with it answered, when there is one.
    async fn redis(&self, host: &str, port: u16) -> Result<String, String> {
        let password = match (self.stack.redis.auth, &self.redis_password) {
            (false, _) => None,
            (true, Some(password)) => Some(password.as_str()),
            (true, None) => return Err("the Redis password secret cannot be read".into()),
        };
        let without = redis::ping(host, port, None).await?;
        let Some(password) = password else {
            return match without {
                redis::Answer::Pong => Ok("PING answers PONG (no password configured)".into()),
                other => Err(format!("PING answered {other} (no password configured)")),
            };
        };
        let with = redis::ping(host, port, Some(password)).await?;
        if without.refused_with("NOAUTH") && with == redis::Answer::Pong {
            Ok("PING: NOAUTH without the password, PONG with it".into())
        } else {
            Err(format!(
                "PING answered {without} without the password and {with} with it"
            ))
        }
    }

    /// A Sentinel answers as Redis does, and is ready once it sees the primary ok, every
    /// replica and every other Sentinel: only then can it take part in a failover.
    async fn sentinel(&self, host: &str, port: u16) -> Result<String, String> {
        let ping = self.redis(host, port).await?;
        let Some(sentinel) = &self.stack.redis.sentinel else {
            return Ok(ping);
        };
        let password = self
            .redis_password
            .as_deref()
            .filter(|_| self.stack.redis.auth);
        let master = redis::sentinel_master(host, port, password, sentinel.master_name).await?;
        let field = |name: &str| master.get(name).map_or("?", String::as_str);
        let replicas = (self.stack.redis.nodes.len() - 1).to_string();
        let sentinels = (sentinel.nodes.len() - 1).to_string();
        let seen = format!(
            "primary {} ({}), {} of {replicas} replicas, {} of {sentinels} other Sentinels",
            field("name"),
            field("flags"),
            field("num-slaves"),
            field("num-other-sentinels"),
        );
        let ready = field("flags") == "master"
            && field("num-slaves") == replicas
            && field("num-other-sentinels") == sentinels;
        if ready {
            Ok(seen)
        } else {
            Err(format!("sees {seen}"))
        }
    }

    /// The exporter answers for itself, and reports the managed Redis up when there is one;
    /// other targets are `status`'s to report, and alerts', not a reason to wait.
    async fn exporter(&self, host: &str, port: u16) -> Result<String, String> {
        let metrics = http::get(host, port, "/metrics")
            .await
            .map_err(|e| e.to_string())?;
        if metrics.status != 200 || !metrics.body.contains("redis_exporter_build_info") {
            return Err(format!("/metrics answered {}", metrics.status));
        }
        let targets = plural(self.stack.targets.len(), "target");
        match self.stack.targets.iter().find(|t| t.managed) {
            Some(managed) => {
                let seen = fleet::scrape(host, port, managed).await;
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
    pub(crate) async fn targets(&self, host: &str, port: u16) -> Vec<fleet::TargetStatus> {
        fleet::scrape_all(host, port, &self.stack.targets).await
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
    async fn prometheus(&self, host: &str, port: u16, started: &Started) -> Checked {
        ready(host, port).await?;
        let rules = json(host, port, "/api/v1/rules", None).await?;
        let (groups, count) = rule_count(&rules);
        if groups == 0 {
            return Err("no rule groups loaded".into());
        }
        let targets = json(host, port, "/api/v1/targets", None).await?;
        let found = Targets::read(&targets, &self.jobs(), SystemTime::now(), started)?;
        if self.wait_scrape && !found.pending.is_empty() {
            let jobs: Vec<&str> = found.pending.iter().map(|p| p.job.as_str()).collect();
            return Err(format!("not scraped yet: {}", jobs.join(", ")));
        }
        let mut detail = format!("{} up", plural(found.up, "target"));
        if let Some(due) = found.pending.iter().map(|p| &p.first_scrape_due).max() {
            detail.push_str(&format!(
                ", {} pending (first scrape due by {due})",
                found.pending.len(),
            ));
        }
        detail.push_str(&format!(
            ", {} in {} loaded",
            plural(count, "rule"),
            plural(groups, "group")
        ));
        if self.stack.alertmanager.service.enabled {
            if !alertmanager_discovered(host, port).await? {
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
    async fn alertmanager(&self, host: &str, port: u16) -> Result<String, String> {
        ready(host, port).await?;
        let config = json(host, port, "/api/v2/status", None).await?;
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
    async fn grafana(&self, host: &str, port: u16) -> Result<String, String> {
        let grafana = &self.stack.grafana;
        let password = match (grafana.admin_password, &self.grafana_password) {
            (false, _) => "admin",
            (true, Some(password)) => password.as_str(),
            (true, None) => return Err("the Grafana admin password secret cannot be read".into()),
        };
        let health = json(host, port, "/api/health", None).await?;
        if health["database"] != "ok" {
            return Err(format!("/api/health: {health}"));
        }
        let auth = Some((grafana.admin_user.as_str(), password));
        json(host, port, "/api/datasources/uid/stackgen-prometheus", auth).await?;
        json(host, port, "/api/dashboards/uid/stackgen-redis", auth).await?;
        Ok("healthy, datasource and dashboard provisioned".into())
    }
}

/// Whether Prometheus at `host:port` has an Alertmanager to send to. After a configuration
/// reload it has none until its discovery hands the configured one over again.
pub(crate) async fn alertmanager_discovered(host: &str, port: u16) -> Result<bool, String> {
    let found = json(host, port, "/api/v1/alertmanagers", None).await?;
    let active = found["data"]["activeAlertmanagers"].as_array();
    Ok(active.is_some_and(|found| !found.is_empty()))
}

/// Prometheus' and Alertmanager's `/-/ready` answers 200.
async fn ready(host: &str, port: u16) -> Result<(), String> {
    let ready = http::get(host, port, "/-/ready")
        .await
        .map_err(|e| e.to_string())?;
    if ready.status != 200 {
        return Err(format!("/-/ready answered {}", ready.status));
    }
    Ok(())
}

async fn json(
    host: &str,
    port: u16,
    path: &str,
    auth: Option<(&str, &str)>,
) -> Result<Value, String> {
    let response = http::request(Method::GET, host, port, path, auth)
        .await
        .map_err(|e| format!("{path}: {e}"))?;
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

#[cfg(test)]
mod tests {
    //! Grafana has no image on this machine, so its check is run against a small stand-in of
    //! Grafana's HTTP API on loopback: the real client, requests and auth, a fake server. The
    //! Redis check runs against a real `redis-server`.

    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::process::{Child, Command, Stdio};

    use super::*;

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
                    request.push_str(&line.to_ascii_lowercase());
                }
                let wanted = format!("authorization: basic {}\r\n", auth.to_ascii_lowercase());
                let authorized = request.contains(&wanted);
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

    fn stack(text: &str) -> Stack {
        crate::model::resolve::tests::from_text(text).unwrap()
    }

    #[tokio::test]
    async fn the_grafana_check_logs_in_and_finds_the_datasource_and_dashboard() {
        let stack = stack(
            "[stack]\nname = \"t\"\n[grafana]\nadmin_user = \"ops\"\n\
             admin_password = { file = \"secrets/pw\" }\n",
        );
        let mut checks = Checks {
            stack: &stack,
            wait_scrape: false,
            redis_password: None,
            grafana_password: Some("s3cret".into()),
        };
        // "ops:s3cret" in base64: the user of stack.toml, the password from its secret.
        let port = fake_grafana(3, "b3BzOnMzY3JldA==");
        let at = ("127.0.0.1", port);
        let passed = checks.check("grafana", at, &Started::new()).await.unwrap();
        assert_eq!(
            passed.detail,
            "healthy, datasource and dashboard provisioned"
        );

        // A server that wants other credentials fails the check, naming what failed.
        let port = fake_grafana(2, "b3RoZXI6b3RoZXI=");
        let at = ("127.0.0.1", port);
        let error = checks.check("grafana", at, &Started::new()).await;
        let error = error.unwrap_err();
        assert!(
            error.contains("/api/datasources/uid/stackgen-prometheus answered 401"),
            "{error}"
        );
        assert!(!error.contains("s3cret"));

        // An unreadable secret is named, and nothing is asked with a made-up password.
        checks.grafana_password = None;
        let error = checks.check("grafana", at, &Started::new()).await;
        assert_eq!(
            error.unwrap_err(),
            "the Grafana admin password secret cannot be read"
        );
    }

    /// A `redis-server` on a free loopback port, with `requirepass` when given; killed on drop.
    struct Server(Child, u16);

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn redis_server(password: Option<&str>) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut config = format!("port {port}\nbind 127.0.0.1\nsave \"\"\nappendonly no\n");
        if let Some(password) = password {
            let quoted = password.replace('\\', "\\\\").replace('"', "\\\"");
            config.push_str(&format!("requirepass \"{quoted}\"\n"));
        }
        let mut child = Command::new("redis-server")
            .arg("-")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server runs (apt-get install redis-server)");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(config.as_bytes())
            .unwrap();
        Server(child, port)
    }

    #[tokio::test]
    async fn the_redis_check_wants_noauth_without_the_password_and_pong_with_it() {
        let with_auth =
            stack("[stack]\nname = \"t\"\n[redis]\npassword = { file = \"secrets/redis.txt\" }\n");
        assert!(with_auth.redis.auth);
        let checks = |password: Option<&str>| Checks {
            stack: &with_auth,
            wait_scrape: false,
            redis_password: password.map(String::from),
            grafana_password: None,
        };
        let server = redis_server(Some("pa ss\"word"));
        let at = ("127.0.0.1", server.1);
        let started = Started::new();
        let mut answer = Err(String::new());
        for _ in 0..100 {
            answer = checks(Some("pa ss\"word"))
                .check("redis", at, &started)
                .await;
            if answer.is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let passed = answer.unwrap();
        assert_eq!(
            passed.detail,
            "PING: NOAUTH without the password, PONG with it"
        );

        let wrong = checks(Some("wrong")).check("redis", at, &started).await;
        let wrong = wrong.unwrap_err();
        assert!(
            wrong
                .starts_with("PING answered -NOAUTH Authentication required. without the password")
                && wrong.contains("authentication failed"),
            "{wrong}"
        );
        assert!(!wrong.contains("pa ss"), "{wrong}");
        let unread = checks(None).check("redis", at, &started).await;
        assert_eq!(
            unread.unwrap_err(),
            "the Redis password secret cannot be read"
        );

        // A Redis without a password fails a stack that wants one.
        let open = redis_server(None);
        let at = ("127.0.0.1", open.1);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let error = checks(Some("pa ss\"word"))
            .check("redis", at, &started)
            .await;
        assert!(error.unwrap_err().contains("PONG without the password"));
        drop(server);
        let gone = checks(Some("x"))
            .check("redis", at_closed(), &started)
            .await;
        assert!(gone.is_err());
    }

    fn at_closed() -> (&'static str, u16) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        ("127.0.0.1", port)
    }
}
