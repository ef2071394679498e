//! End to end, on a real Docker engine with real containers: the stand-in images that
//! `.ci/images/build.sh` builds from Debian's packages (Grafana is disabled: it has none). A test
//! that finds no engine prints why and skips; with STACKGEN_REQUIRE_DOCKER=1 it fails.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::support::*;

pub const IMAGES: [&str; 4] = [
    "stackgen-test/redis:7.0",
    "stackgen-test/redis-exporter:1.45",
    "stackgen-test/prometheus:2.42",
    "stackgen-test/alertmanager:0.28",
];
pub const PASSWORD: &str = "e2e pa$$ \"w0rd\" \\ 'x'";

/// Whether the engine and the stand-in images are there; panics when they must be.
pub fn docker_ready() -> bool {
    let engine = Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|o| o.status.success());
    let images = engine
        && IMAGES.iter().all(|image| {
            Command::new("docker")
                .args(["image", "inspect", image])
                .output()
                .is_ok_and(|o| o.status.success())
        });
    let why = if !engine {
        "no Docker engine answers (`docker info` fails)"
    } else if !images {
        "the stand-in images are missing (run .ci/images/build.sh)"
    } else {
        return true;
    };
    if std::env::var("STACKGEN_REQUIRE_DOCKER").is_ok_and(|v| v == "1") {
        panic!("STACKGEN_REQUIRE_DOCKER=1 but {why}");
    }
    eprintln!("skipping an end-to-end test: {why}");
    false
}

pub fn docker(args: &[&str]) -> String {
    let output = Command::new("docker").args(args).output().unwrap();
    assert!(
        output.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A project on the engine, taken down with its volumes when the test ends, however it ends.
pub struct Stack {
    pub project: Project,
    pub name: String,
    pub ports: [u16; 4],
    /// Environment variables every `stackgen` run of this stack gets.
    pub env: Vec<(String, String)>,
    /// The profile every run uses: `prod` unless [`Stack::with_profile`] says otherwise.
    pub profile: &'static str,
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self
            .project
            .command()
            .args(["down", "--volumes", "-p", self.profile])
            .output();
    }
}

impl Stack {
    pub fn new(test: &str, alerts: &str) -> Self {
        let name = format!("sge2e-{test}-{}", std::process::id());
        let ports = free_ports::<4>();
        let [redis, exporter, prometheus, alertmanager] = ports;
        let stack = format!(
            r##"[stack]
name = "{name}"

[redis]
image = "{}"
port = {redis}
password = {{ file = "secrets/redis_password.txt" }}

[redis_exporter]
image = "{}"
bind = "0.0.0.0"
port = {exporter}
scrape_interval = "5s"

[prometheus]
image = "{}"
bind = "0.0.0.0"
port = {prometheus}
scrape_interval = "5s"
scrape_timeout = "5s"
evaluation_interval = "5s"
retention_size = "1GiB"

[alertmanager]
image = "{}"
bind = "0.0.0.0"
port = {alertmanager}
group_wait = "5s"
group_interval = "10s"
repeat_interval = "1h"

[alertmanager.slack]
webhook_url = {{ file = "secrets/slack_webhook_url" }}
channel = "#e2e"

[grafana]
enabled = false
{alerts}"##,
            IMAGES[0], IMAGES[1], IMAGES[2], IMAGES[3]
        );
        let project = Project::new(&stack);
        project
            .file("secrets/redis_password.txt", &format!("{PASSWORD}\n"))
            .file(
                "secrets/slack_webhook_url",
                "http://webhook:8080/services/E2E/HOOK\n",
            );
        Self {
            project,
            name,
            ports,
            env: Vec::new(),
            profile: "prod",
        }
    }

    /// The same stack, run with another of the shipped profiles.
    pub fn with_profile(mut self, profile: &'static str) -> Self {
        self.profile = profile;
        self
    }

    /// `stackgen ARGS -p prod` with the stack's variables.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::of(
            self.project
                .command()
                .args(args)
                .args(["-p", self.profile])
                .envs(self.env.iter().cloned()),
        )
    }

    /// `up`, which must succeed; what it reported.
    #[track_caller]
    pub fn up(&self) -> String {
        self.run(&["up"]).success().stderr
    }

    /// Replaces `stack.toml` with what `edit` makes of it.
    pub fn edit(&self, edit: impl FnOnce(String) -> String) {
        self.project
            .file("stack.toml", &edit(self.project.read("stack.toml")));
    }

    pub fn container_ids(&self) -> Vec<String> {
        let filter = format!("label=io.stackgen.project={}", self.name);
        let mut ids: Vec<String> = docker(&["ps", "-a", "-q", "--no-trunc", "--filter", &filter])
            .lines()
            .map(String::from)
            .collect();
        ids.sort();
        ids
    }

    fn redis_cli(&self, password: Option<&str>, args: &[&str]) -> String {
        redis_cli(self.ports[0], password, args)
    }

    /// The webhook receiver: a container of the project, on its network as `webhook`, that
    /// logs each request's line (`> POST /path HTTP/1.1`), then its body on a line. Its name.
    pub fn webhook(&self) -> String {
        let server = r#"use IO::Socket::INET; $|=1; my $s = IO::Socket::INET->new(LocalPort => 8080, Listen => 10, ReuseAddr => 1) or die "listen: $!"; while (my $c = $s->accept) { my $len = 0; my $r = <$c>; $r =~ s/\r?\n$//; print "> $r\n"; while (defined(my $l = <$c>)) { $len = $1 if $l =~ /^Content-Length:\s*(\d+)/i; last if $l =~ /^\r?\n$/ } my $body = ""; read($c, $body, $len) if $len; print "$body\n"; print $c "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"; close $c }"#;
        let webhook = format!("{}-webhook", self.name);
        docker(&[
            "run",
            "-d",
            "--name",
            &webhook,
            "--network",
            &format!("{}_default", self.name),
            "--network-alias",
            "webhook",
            "--label",
            &format!("io.stackgen.project={}", self.name),
            "stackgen-test/base:bookworm",
            "perl",
            "-e",
            server,
        ]);
        webhook
    }

    pub fn prometheus(&self, path: &str) -> Value {
        let body = http_get(self.ports[2], path)
            .unwrap_or_else(|| panic!("Prometheus does not answer {path}"));
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
    }

    /// Asks the running Prometheus every query of the dashboard's panels whose title starts
    /// with `titled` (the dashboard rendered with Grafana on, the stack otherwise the same),
    /// and fails on the first that returns no data. Returns the number of panels asked.
    pub fn dashboard_has_data(&self, titled: &str) -> usize {
        let stack = self.project.read("stack.toml");
        let with_grafana =
            Project::new(&stack.replace("[grafana]\nenabled = false", "[grafana]\nenabled = true"));
        with_grafana.run(["render", "-p", "prod"]).success();
        let dashboard: Value = serde_json::from_str(
            &with_grafana.read("generated/prod/grafana/dashboards/redis.json"),
        )
        .unwrap();
        let panels = dashboard["panels"].as_array().unwrap().iter();
        // A row holds no query.
        let panels: Vec<&Value> = panels
            .filter(|p| p["type"] != "row" && p["title"].as_str().unwrap().starts_with(titled))
            .collect();
        for panel in &panels {
            for target in panel["targets"].as_array().unwrap() {
                let expr = (target["expr"].as_str().unwrap())
                    .replace("$__rate_interval", "1m")
                    .replace("$target", ".*");
                let answer =
                    self.prometheus(&format!("/api/v1/query?query={}", percent_encode(&expr)));
                let result = answer["data"]["result"].as_array().cloned();
                assert!(
                    !result.unwrap_or_default().is_empty(),
                    "panel {} query {expr:?} returns no data: {answer}",
                    panel["title"]
                );
            }
        }
        panels.len()
    }
}

pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One stack in the prod profile through its life: up, status, secrets, idempotence, reloads,
/// data across down and up, refused changes, a new password, and down --volumes.
#[test]
fn up_status_idempotence_reload_data_and_down() {
    if !docker_ready() {
        return;
    }
    let mut stack = Stack::new("life", "");
    // The webhook from an environment variable this time (the alert test reads it from a file).
    stack.edit(|text| {
        text.replace(
            "webhook_url = { file = \"secrets/slack_webhook_url\" }",
            "webhook_url = { env = \"SGE2E_WEBHOOK\" }",
        )
    });
    stack.env.push((
        "SGE2E_WEBHOOK".into(),
        "http://webhook:8080/services/E2E/HOOK".into(),
    ));

    // 1. From nothing to healthy, and status agrees.
    let out = stack.up();
    assert!(out.contains("is up: 4 services healthy"), "{out}");
    let stdout = stack.run(&["status", "--format", "json"]).success().stdout;
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (&report["profile"], &report["ok"]),
        (&"prod".into(), &true.into())
    );
    let rows = report["services"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r["ok"] == true), "{stdout}");
    // Health in words (`none` without a health check), never a dash.
    let words = ["healthy", "none"];
    assert!(
        rows.iter()
            .all(|r| words.contains(&r["health"].as_str().unwrap())),
        "{stdout}"
    );
    let table = stack
        .run(&["status"])
        .success()
        .stdout_has("PING: NOAUTH without the password, PONG with it")
        .stdout_has(&format!("Stack {}, profile prod.", stack.name))
        .stdout;
    assert!(
        table.contains("redis_up 1") && table.contains("rules in 1 group loaded"),
        "{table}"
    );

    // 2. The prod profile publishes every port on 127.0.0.1 only (stack.toml says 0.0.0.0).
    for id in stack.container_ids() {
        let bindings: Value = serde_json::from_str(&docker(&[
            "inspect",
            "--format",
            "{{json .HostConfig.PortBindings}}",
            &id,
        ]))
        .unwrap();
        for (port, hosts) in bindings.as_object().unwrap() {
            for host in hosts.as_array().unwrap() {
                assert_eq!(host["HostIp"], "127.0.0.1", "{port} of {id}");
            }
        }
    }

    // 2b. Every container runs hardened: no new privileges, every capability dropped (Redis
    // gets back only what its start-up needs), memory and CPU limits, a read-only root.
    for id in stack.container_ids() {
        let host: Value = serde_json::from_str(&docker(&[
            "inspect",
            "--format",
            "{{json .HostConfig}}",
            &id,
        ]))
        .unwrap();
        let name = docker(&["inspect", "--format", "{{.Name}}", &id]);
        assert_eq!(
            host["SecurityOpt"],
            serde_json::json!(["no-new-privileges:true"]),
            "{name}"
        );
        assert_eq!(host["CapDrop"], serde_json::json!(["ALL"]), "{name}");
        // None gets a capability back, Redis included: it runs as its user from the start.
        assert_eq!(host["CapAdd"], Value::Null, "{name}");
        assert!(
            host["Memory"].as_i64().unwrap() > 0,
            "{name}: no memory limit"
        );
        assert!(
            host["NanoCpus"].as_i64().unwrap() > 0,
            "{name}: no CPU limit"
        );
        assert_eq!(host["ReadonlyRootfs"], true, "{name}");
    }
    // Prometheus has no lifecycle API: a POST to /-/quit stops nothing.
    let code = {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", stack.ports[2])).unwrap();
        write!(stream, "POST /-/quit HTTP/1.0\r\nContent-Length: 0\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_string()
    };
    assert_ne!(code, "200", "Prometheus accepted /-/quit");
    std::thread::sleep(Duration::from_millis(500));
    stack.run(&["status"]).success();

    // 3. Redis wants the password; no secret in any container's environment, command or labels.
    assert!(stack.redis_cli(None, &["ping"]).starts_with("NOAUTH"));
    assert_eq!(stack.redis_cli(Some(PASSWORD), &["ping"]), "PONG");
    for id in stack.container_ids() {
        let config = docker(&["inspect", "--format", "{{json .Config}}", &id]);
        assert!(
            !config.contains("w0rd"),
            "the Redis password is in the config of {id}"
        );
        assert!(
            !config.contains("services/E2E/HOOK"),
            "the webhook URL is in the config of {id}"
        );
    }
    // The secret from the environment reaches Alertmanager as a private file.
    {
        use std::os::unix::fs::MetadataExt;
        let secrets = stack.project.path().join(".stackgen/prod/secrets");
        assert_eq!(std::fs::metadata(&secrets).unwrap().mode() & 0o777, 0o700);
        let copy = std::fs::metadata(secrets.join("alertmanager/slack_webhook_url")).unwrap();
        if is_root() {
            assert_eq!((copy.uid(), copy.mode() & 0o777), (65534, 0o400));
        }
        let inside = docker(&[
            "exec",
            &format!("{}-alertmanager", stack.name),
            "cat",
            "/run/secrets/slack_webhook_url",
        ]);
        assert_eq!(inside, "http://webhook:8080/services/E2E/HOOK");
    }

    // 4. A second up changes nothing.
    let ids = stack.container_ids();
    let out = stack.up();
    assert!(out.contains("is up to date: nothing to change"), "{out}");
    assert_eq!(stack.container_ids(), ids);

    // 5. A threshold change reloads Prometheus only, and its rules show the new threshold.
    let started = |id: &str| docker(&["inspect", "--format", "{{.State.StartedAt}}", id]);
    let starts: Vec<String> = ids.iter().map(|id| started(id)).collect();
    stack.edit(|text| text + "\n[alerts.memory_pressure]\nthreshold_percent = 75\n");
    let out = stack.up();
    let changed: Vec<&str> = out.lines().filter(|l| !l.contains(" is up")).collect();
    assert_eq!(
        changed,
        ["prometheus: reloaded (its config files changed)"],
        "{out}"
    );
    assert_eq!(stack.container_ids(), ids);
    assert_eq!(
        ids.iter().map(|id| started(id)).collect::<Vec<_>>(),
        starts,
        "a container restarted"
    );
    let reloaded = eventually(20, || {
        let rules = stack.prometheus("/api/v1/rules");
        rules
            .to_string()
            .contains("redis_memory_max_bytes * 100 > 75")
    });
    assert!(
        reloaded,
        "Prometheus' rules API does not show the new threshold"
    );

    // 6. Data survives down and up (AOF on a named volume).
    let loaded = stack.redis_cli(
        Some(PASSWORD),
        &[
            "eval",
            "for i=1,10000 do redis.call('set','key:'..i,i) end return 1",
            "0",
        ],
    );
    assert_eq!(loaded, "1");
    stack.run(&["down"]).success().stderr_has("Kept volumes");
    assert!(stack.container_ids().is_empty());
    // After `down`, each service is not running, in columns that stay aligned.
    let down = stack.run(&["status"]).code(1).stdout;
    let lines: Vec<&str> = down
        .lines()
        .skip_while(|l| !l.starts_with("SERVICE"))
        .collect();
    let ok_at = lines[0].find("OK").unwrap();
    for line in &lines[1..5] {
        assert!(line.contains("not running"), "{down}");
        assert_eq!(line.get(ok_at..ok_at + 4), Some("FAIL"), "{down}");
    }
    stack.up();
    assert_eq!(stack.redis_cli(Some(PASSWORD), &["dbsize"]), "10000");
    assert_eq!(
        stack.redis_cli(Some(PASSWORD), &["get", "key:9999"]),
        "9999"
    );

    // 7. A service disabled in stack.toml is removed.
    stack.edit(|text| text.replace("[alertmanager]\n", "[alertmanager]\nenabled = false\n"));
    let out = stack.up();
    assert!(
        out.contains("alertmanager: removed (no longer in the stack)"),
        "{out}"
    );
    assert_eq!(stack.container_ids().len(), 3);

    // 8. A prometheus.yml change reaches the running Prometheus through its reload.
    stack.edit(|text| {
        let text = text.replace(
            "scrape_interval = \"5s\"\nscrape_timeout",
            "scrape_interval = \"6s\"\nscrape_timeout",
        );
        assert!(text.contains("scrape_interval = \"6s\""));
        text
    });
    let out = stack.up();
    assert!(
        out.contains("prometheus: reloaded (its config files changed)"),
        "{out}"
    );
    let applied = eventually(20, || {
        stack
            .prometheus("/api/v1/status/config")
            .to_string()
            .contains("scrape_interval: 6s")
    });
    assert!(applied, "Prometheus still runs its old prometheus.yml");

    // 9. A config Prometheus refuses on reload: `up` says so, exits 1, and Prometheus keeps
    // running what it had.
    stack.project.file(
        "templates/prometheus/rules/redis-alerts.yml",
        "groups:\n  - name: broken\n    rules:\n      - alert: Broken\n        expr: vector(1) > 2\n        annotations:\n          summary: \"{% raw %}{{ $value | nosuchfunc }}{% endraw %}\"\n",
    );
    stack.run(&["up"]).code(1).stderr_has(
        "error: prometheus: the reload was refused, so it keeps running its previous configuration",
    );
    assert!(
        stack
            .prometheus("/api/v1/rules")
            .to_string()
            .contains("RedisDown")
    );
    std::fs::remove_dir_all(stack.project.path().join("templates")).unwrap();
    assert!(
        stack.up().contains("nothing to change"),
        "Prometheus runs what it ran before"
    );

    // 10. A port taken by someone else stops a replacement before the old container goes.
    let busy = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let busy_port = busy.local_addr().unwrap().port();
    let good = stack.project.read("stack.toml");
    stack.project.file(
        "stack.toml",
        &good.replace(
            &format!("port = {}", stack.ports[2]),
            &format!("port = {busy_port}"),
        ),
    );
    let before = stack.container_ids();
    stack.run(&["up"]).code(2).stderr_has(&format!(
        "host port 127.0.0.1:{busy_port} for prometheus is already in use"
    ));
    assert_eq!(stack.container_ids(), before);
    stack.project.file("stack.toml", &good);
    drop(busy);

    // 11. A new Redis password restarts Redis and the exporter, and both use it, even when the
    // `up` that restarted Redis failed before it reached the exporter.
    let new_password = "another secret";
    stack
        .project
        .file("secrets/redis_password.txt", new_password);
    let run = stack.run(&["up", "--timeout", "1ms"]);
    assert_eq!(
        run.code, 1,
        "Redis cannot be restarted and healthy within 1 ms: {run}"
    );
    run.stderr_has("redis: restarted (a secret it reads changed)")
        .stderr_lacks("redis-exporter: restarted");
    let out = stack.up();
    assert!(!out.contains("redis: restarted"), "{out}");
    assert!(
        out.contains("redis-exporter: restarted (a secret it reads changed)"),
        "{out}"
    );
    assert_eq!(stack.redis_cli(Some(new_password), &["ping"]), "PONG");
    assert!(
        stack
            .redis_cli(Some(PASSWORD), &["ping"])
            .starts_with("NOAUTH")
    );
    let healthy = eventually(30, || stack.run(&["status"]).code == 0);
    assert!(healthy, "{}", stack.run(&["status"]).stdout);
    assert!(stack.up().contains("nothing to change"));

    // 12. down --volumes leaves nothing with the project's label; twice is fine.
    for _ in 0..2 {
        stack.run(&["down", "--volumes"]).success();
    }
    let label = format!("label=io.stackgen.project={}", stack.name);
    assert_eq!(docker(&["ps", "-a", "-q", "--filter", &label]), "");
    assert_eq!(docker(&["network", "ls", "-q", "--filter", &label]), "");
    assert_eq!(docker(&["volume", "ls", "-q", "--filter", &label]), "");
}

/// An idle stack fires nothing, every dashboard query returns data (its SLO rows' too), `lint
/// --live` finds what the rules read, RedisDown reaches a Slack webhook receiver, then
/// resolves, slow scripts fire RedisTailLatency, and `drill slo` pages through the webhook.
#[test]
fn alerts_reach_slack_and_the_dashboard_has_data() {
    if !docker_ready() {
        return;
    }
    let alerts = "\n[alerts.redis_down]\nfor = \"10s\"\n\
                  \n[alerts.tail_latency]\nthreshold_ms = 40\nfor = \"10s\"\n\
                  \n[[slo]]\nname = \"up\"\nobjective = 99.9\nsli = \"availability\"\n\
                  \n[[slo]]\nname = \"errors\"\nobjective = 99\nsli = \"errors\"\n\
                  \n[[slo]]\nname = \"fast\"\nobjective = 99\nsli = \"latency\"\n\
                  latency_threshold = \"2ms\"\n";
    let stack = Stack::new("alerts", alerts);
    stack.up();
    let webhook = stack.webhook();
    let received = || docker(&["logs", &webhook]);

    // 1. Idle and healthy for two minutes: no alert fires, nothing is sent.
    let idle_until = std::time::Instant::now() + Duration::from_secs(120);
    while std::time::Instant::now() < idle_until {
        let alerts = stack.prometheus("/api/v1/alerts");
        // Not even pending.
        let active = alerts["data"]["alerts"].as_array().unwrap();
        assert!(active.is_empty(), "an idle stack has alerts: {active:?}");
        std::thread::sleep(Duration::from_secs(10));
    }
    assert_eq!(
        received().trim(),
        "",
        "the webhook got messages from an idle stack"
    );

    // 2. Every panel query of the dashboard, rendered with Grafana on, returns data: the SLO
    // rows' too (three panels for each of the three SLOs).
    assert!(stack.dashboard_has_data("") >= 10);
    assert_eq!(stack.dashboard_has_data("SLO "), 9);

    // 3. `lint --live`: every rule reads what the running Prometheus holds, or (a note) what
    // shows only with replicas; a rule an override adds on a metric the exporter lacks is a
    // warning. (The test's secrets and webhook draw other findings from the prod policy.)
    let live = stack.run(&["lint", "--live", "--format", "json"]);
    let findings: Vec<Value> = serde_json::from_str(&live.stdout).unwrap();
    let live_findings: Vec<&Value> = findings
        .iter()
        .filter(|f| f["code"].as_str().unwrap().starts_with("SG4"))
        .collect();
    assert!(
        live_findings.iter().all(|f| f["severity"] == "note"),
        "{live_findings:?}"
    );
    assert!(
        live_findings.iter().any(|f| f["message"]
            .as_str()
            .unwrap()
            .contains("redis_connected_slave_lag_seconds")),
        "{live_findings:?}"
    );
    let rules = "templates/prometheus/rules/redis-alerts.yml";
    let built_in = std::fs::read_to_string(Path::new(ROOT).join(rules)).unwrap();
    let extra = "    rules:\n      - alert: RedisShardsLost\n        \
                 expr: redis_made_up_shards_lost_total > 0\n";
    stack
        .project
        .file(rules, &built_in.replacen("    rules:\n", extra, 1));
    let broken = stack.run(&["lint", "--live", "--format", "json"]);
    std::fs::remove_file(stack.project.path().join(rules)).unwrap();
    let findings: Vec<Value> = serde_json::from_str(&broken.stdout).unwrap();
    let found = findings
        .iter()
        .find(|f| f["code"] == "SG401" && f["severity"] == "warning");
    let message = found
        .map(|f| f["message"].as_str().unwrap())
        .unwrap_or_default();
    assert!(
        message.starts_with("RedisShardsLost reads redis_made_up_shards_lost_total"),
        "{findings:?} {broken}"
    );

    // 4. Redis stops: RedisDown reaches Slack naming the instance; it starts: resolved.
    docker(&["stop", &format!("{}-redis", stack.name)]);
    let fired = eventually(120, || received().contains("[FIRING:1] RedisDown on redis"));
    assert!(
        fired,
        "no RedisDown message reached the webhook:\n{}",
        received()
    );
    let message: Value = serde_json::from_str(
        received()
            .lines()
            .find(|l| l.contains("RedisDown"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(message["channel"], "#e2e");
    // Its links lead to the services' published addresses, not to a container id.
    let [_, _, prometheus, alertmanager] = stack.ports;
    let title_link = message["attachments"][0]["title_link"].as_str().unwrap();
    assert!(
        title_link.starts_with(&format!("http://127.0.0.1:{alertmanager}/#/alerts")),
        "{title_link}"
    );
    let held: Value =
        serde_json::from_str(&http_get(alertmanager, "/api/v2/alerts").unwrap()).unwrap();
    let source = held
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["labels"]["alertname"] == "RedisDown")
        .map(|a| a["generatorURL"].as_str().unwrap().to_string())
        .unwrap();
    assert!(
        source.starts_with(&format!("http://127.0.0.1:{prometheus}/graph")),
        "{source}"
    );
    docker(&["start", &format!("{}-redis", stack.name)]);
    let resolved = eventually(120, || received().contains("[RESOLVED] RedisDown on redis"));
    assert!(
        resolved,
        "no resolved message reached the webhook:\n{}",
        received()
    );

    // 5. Slow Lua scripts: the 99th percentile of EVAL passes 40 ms, and RedisTailLatency
    // fires for that command. (At 5 ms, a busy machine running the tests side by side lifted
    // the exporter's own CONFIG GET past it on the idle stack.)
    let slow = "local i = 0 while i < 15000000 do i = i + 1 end return i";
    for _ in 0..20 {
        assert_eq!(
            stack.redis_cli(Some(PASSWORD), &["eval", slow, "0"]),
            "15000000"
        );
    }
    let tail = || {
        let alerts = stack.prometheus("/api/v1/alerts");
        alerts["data"]["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| {
                a["labels"]["alertname"] == "RedisTailLatency"
                    && a["labels"]["cmd"] == "eval"
                    && a["state"] == "firing"
            })
    };
    assert!(
        eventually(120, tail),
        "RedisTailLatency did not fire: {}",
        stack.prometheus("/api/v1/alerts")
    );

    // 6. `drill slo` burns the availability SLO's budget (Redis stopped, the SLO's windows
    // shortened) until its page reaches the webhook, then starts Redis again; the page
    // resolves, and Prometheus is left with the rendered rules only.
    let drill = stack.run(&["drill", "slo", "--allow-prod", "--format", "json"]);
    let report: Value =
        serde_json::from_str(&drill.stdout).unwrap_or_else(|e| panic!("{e}: {drill}"));
    let slo = &report["scenarios"][0];
    assert_eq!(
        (slo["name"].as_str(), slo["ok"].as_bool()),
        (Some("slo"), Some(true)),
        "{drill}"
    );
    assert_eq!(slo["slo"], "up", "{drill}");
    assert_eq!(slo["burned_by"], "downtime", "{drill}");
    assert_eq!(slo["alert"]["delivered"], true, "{drill}");
    assert_eq!(slo["alert"]["resolved"], true, "{drill}");
    // The copy may join the rendered alert's group (alert name and instance) when that fires
    // too, after step 4's downtime: then the message counts both.
    let paged = received()
        .lines()
        .any(|l| l.contains("] RedisSLOBurn1h on redis") && l.contains("`drill=quick`"));
    assert!(paged, "no page reached the webhook:\n{}", received());
    let rules = stack.prometheus("/api/v1/rules");
    let groups = rules["data"]["groups"].as_array().unwrap();
    assert!(
        groups
            .iter()
            .all(|g| !g["name"].as_str().unwrap().starts_with("stackgen-drill")),
        "{rules}"
    );
    assert_eq!(stack.redis_cli(Some(PASSWORD), &["ping"]), "PONG");
}

#[test]
fn up_stops_before_any_change_on_a_bad_image_a_busy_port_a_missing_secret_or_a_refused_create() {
    if !docker_ready() {
        return;
    }
    let stack = Stack::new("refuse", "");
    let good = stack.project.read("stack.toml");

    // 1. Images that cannot be pulled: every one is reported, not the first alone.
    stack.project.file(
        "stack.toml",
        &good
            .replace(IMAGES[2], "stackgen-test/no-such-image:1")
            .replace(IMAGES[3], "stackgen-test/no-such-image:2"),
    );
    stack
        .run(&["up"])
        .code(2)
        .stderr_has(
            "cannot pull image `stackgen-test/no-such-image:1` (set by `prometheus.image` at \
             stack.toml:",
        )
        .stderr_has(
            "cannot pull image `stackgen-test/no-such-image:2` (set by `alertmanager.image` at \
             stack.toml:",
        );
    assert!(stack.container_ids().is_empty());

    // 2. A host port already in use.
    stack.project.file("stack.toml", &good);
    let busy = std::net::TcpListener::bind(("127.0.0.1", stack.ports[0])).unwrap();
    stack.run(&["up"]).code(2).stderr_has(&format!(
        "host port 127.0.0.1:{} for redis is already in use by process `{}` (pid {}) \
         (set by `redis.port` at stack.toml:",
        stack.ports[0],
        std::fs::read_to_string("/proc/self/comm").unwrap().trim(),
        std::process::id()
    ));
    assert!(stack.container_ids().is_empty());
    drop(busy);

    // 3. A secret file that is not there.
    std::fs::remove_file(stack.project.path().join("secrets/slack_webhook_url")).unwrap();
    stack
        .run(&["up"])
        .code(2)
        .stderr_has("secret `slack_webhook_url` (`alertmanager.slack.webhook_url` at stack.toml:");
    assert!(stack.container_ids().is_empty());

    // 4. --dry-run prints the plan and creates nothing.
    stack
        .project
        .file("secrets/slack_webhook_url", "http://webhook:8080/x\n");
    let stdout = stack.run(&["up", "--dry-run"]).success().stdout;
    assert!(
        stdout.contains("redis (") && stdout.contains("): create (new)"),
        "{stdout}"
    );
    assert!(stack.container_ids().is_empty());

    // 5. A change the engine refuses to create leaves the running stack as it was: the
    // replacement is created before its predecessor is removed.
    stack.up();
    let running = stack.container_ids();
    // (More cores than this machine has: render cannot know, the engine refuses.)
    stack.edit(|text| text.replace("[redis]\n", "[redis]\ncpus = 1000\n"));
    stack
        .run(&["up"])
        .code(2)
        .stderr_has("redis (its new container; the running one is kept)")
        .stderr_has("Range of CPUs is from 0.01");
    assert_eq!(stack.container_ids(), running);
    assert_eq!(stack.redis_cli(Some(PASSWORD), &["ping"]), "PONG");
    // Back to the good file: nothing is recreated. (Redis restarts: the refused `up` had
    // already rendered, and replaced the redis.conf its container binds.)
    stack.project.file("stack.toml", &good);
    let out = stack.up();
    assert!(!out.contains("recreated"), "{out}");
    assert_eq!(stack.container_ids(), running);
}

#[test]
fn an_unhealthy_service_exits_1_with_its_logs() {
    if !docker_ready() {
        return;
    }
    let stack = Stack::new("sick", "");
    // 1. A redis.conf that Redis refuses: up exits 1 and shows Redis' last words.
    let conf = std::fs::read_to_string(Path::new(ROOT).join("templates/redis/redis.conf")).unwrap();
    stack.project.file(
        "templates/redis/redis.conf",
        &(conf + "no-such-directive yes\n"),
    );
    stack
        .run(&["up", "--timeout", "60s"])
        .code(1)
        .stderr_has("error: redis exited with code 1")
        .stderr_has("last 20 log lines:")
        .stderr_has("no-such-directive");
    // 2. The fix, and `up` brings the crash-looping container back.
    std::fs::remove_dir_all(stack.project.path().join("templates")).unwrap();
    let out = stack.up();
    assert!(
        out.contains("redis: restarted") || out.contains("redis: started"),
        "{out}"
    );
}

#[test]
fn no_engine_exits_2_with_a_hint() {
    let project = Project::new("[stack]\nname = \"noengine\"\n");
    let run = Run::of(
        project
            .command()
            .arg("status")
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock"),
    )
    .code(2)
    .stderr_has("no Docker engine answers")
    .stderr_has("DOCKER_HOST");
    assert_eq!(run.stderr.lines().count(), 1, "{run}");
}
