//! A secret on its way into the containers, without Docker: the rendered scripts of the
//! Kubernetes objects and of `compose.yaml` (Redis' start script and health check, the
//! exporter's init container) run for real under dash, and busybox ash when it is installed,
//! with the containers' paths moved into a temporary folder; the real redis-server must take
//! the password they give it, and the real redis_exporter log in with the map they write, for
//! passwords that hold every kind of troublesome byte. And secret files stackgen refuses before
//! anything blocks or grows: a FIFO, a huge sparse file, text that is not UTF-8.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use stackgen::docker::secrets;
use stackgen::docker::spec::SecretSource;

use crate::support::*;

/// The managed Redis with a password, and an ACL user the exporter logs in as; a compose
/// profile and a Kubernetes one.
const STACK: &str = r#"[stack]
name = "maps"
profile = "compose"

[redis]
password = { file = "secrets/redis_password.txt" }

[[targets]]
name = "other"
address = "redis://other.internal:6379"
username = "monitor"
"#;

const KUBERNETES: &str = r#"[stack]
target = "kubernetes"

[kubernetes]
namespace = "maps"
mode = "standalone"

[redis]
password = { secret = "redis-auth", key = "password" }
"#;

/// The address the managed Redis has in the map, which the tests move to loopback.
const MANAGED: &str = "redis://redis:6379";

fn rendered() -> Project {
    let project = Project::new(STACK);
    project
        .file("profiles/compose.toml", "")
        .file("profiles/k8s.toml", KUBERNETES);
    project.run(["render"]).success();
    project
}

fn yaml(project: &Project, rel: &str) -> Value {
    stackgen::yaml::from_str(&project.read(rel)).unwrap()
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not text: {value}"))
        .to_string()
}

/// What the containers run, as rendered.
struct Scripts {
    /// Starts Redis: ends by `exec`ing redis-server with the password on stdin.
    redis: String,
    /// Exits 0 when Redis answers PING given the password.
    probe: String,
    /// Writes the exporter's password map; empty when the Redis script writes it.
    map: String,
    exporter: Vec<String>,
    conf: String,
}

impl Scripts {
    fn kubernetes(project: &Project) -> Self {
        let redis = yaml(project, "generated/k8s/statefulset-redis.yaml");
        let redis = &redis["spec"]["template"]["spec"]["containers"][0];
        let exporter = yaml(project, "generated/k8s/deployment-redis-exporter.yaml");
        let pod = &exporter["spec"]["template"]["spec"];
        let config = yaml(project, "generated/k8s/configmap-redis.yaml");
        Self {
            redis: text(&redis["command"][2]),
            probe: text(&redis["readinessProbe"]["exec"]["command"][2]),
            map: text(&pod["initContainers"][0]["command"][2]),
            exporter: pod["containers"][0]["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(text)
                .collect(),
            conf: text(&config["data"]["redis.conf"]),
        }
    }

    /// compose.yaml's, `$$` read as compose reads it.
    fn compose(project: &Project) -> Self {
        let compose = yaml(project, "generated/compose/compose.yaml");
        let services = &compose["services"];
        let health = &services["redis"]["healthcheck"]["test"];
        assert_eq!(health[0], "CMD-SHELL");
        let unescape = |value: &Value| text(value).replace("$$", "$");
        Self {
            redis: unescape(&services["redis"]["command"][2]),
            probe: unescape(&health[1]),
            map: String::new(),
            exporter: services["redis-exporter"]["command"]
                .as_array()
                .unwrap()
                .iter()
                .map(unescape)
                .collect(),
            conf: project.read("generated/compose/redis/redis.conf"),
        }
    }
}

/// A temporary folder standing for the containers' paths, and a free loopback port for Redis.
struct Place {
    work: tempfile::TempDir,
    port: u16,
}

impl Place {
    /// A place whose secret file (Redis' and the map's first target's) holds `secret`.
    fn new(secret: &[u8], conf: &str) -> Self {
        let work = tempfile::tempdir().unwrap();
        let dir = work.path();
        std::fs::create_dir_all(dir.join("targets")).unwrap();
        std::fs::create_dir_all(dir.join("auth")).unwrap();
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::write(dir.join("redis_password"), secret).unwrap();
        std::fs::write(dir.join("targets/0"), secret).unwrap();
        assert!(
            conf.contains("\ndir /data\n"),
            "redis.conf sets no data folder"
        );
        let conf = conf.replace(
            "\ndir /data\n",
            &format!("\ndir {}\n", dir.join("data").display()),
        );
        std::fs::write(dir.join("redis.conf"), conf).unwrap();
        Self {
            work,
            port: free_port(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.work.path().join(rel)
    }

    /// `script` with the containers' paths moved here and Redis on this place's port.
    fn localize(&self, script: &str) -> String {
        let dir = self.work.path().display().to_string();
        let server = format!(
            "exec {} {}/redis.conf --port {} --bind 127.0.0.1 -",
            tool("redis-server").display(),
            dir,
            self.port
        );
        let script = script
            .replace(
                "/run/secrets/redis_password",
                &format!("{dir}/redis_password"),
            )
            .replace("/run/secrets/targets/", &format!("{dir}/targets/"))
            .replace("/run/redis-exporter-map/", &format!("{dir}/auth/"))
            .replace(MANAGED, &format!("redis://127.0.0.1:{}", self.port))
            .replace(
                "exec redis-server /usr/local/etc/redis/redis.conf -",
                &server,
            )
            .replace("redis-cli -p 6379 ping", "redis-cli ping")
            .replace(
                "redis-cli ping",
                &format!("redis-cli -p {} ping", self.port),
            );
        if is_root() {
            script
        } else {
            script.replace("chown 59000:59000", "true")
        }
    }

    fn map(&self) -> Option<Vec<u8>> {
        std::fs::read(self.path("auth/password-map.json")).ok()
    }
}

/// The shells the scripts must run in: dash (Debian's `sh`, and the Debian-based Redis image's),
/// and busybox ash (the Alpine-based images') when it is installed.
fn shells() -> Vec<Vec<&'static str>> {
    let mut shells = vec![vec!["/bin/sh"]];
    let busybox = Command::new("busybox").arg("true").status();
    if busybox.is_ok_and(|s| s.success()) {
        shells.push(vec!["busybox", "sh"]);
    } else if std::env::var("STACKGEN_REQUIRE_DOCKER").is_ok_and(|v| v == "1") {
        panic!("STACKGEN_REQUIRE_DOCKER=1 but busybox is not installed (apt-get install busybox)");
    } else {
        eprintln!("not running the scripts under busybox ash: busybox is not installed");
    }
    shells
}

fn shell(shell: &[&str], script: &str) -> Command {
    let mut cmd = Command::new(shell[0]);
    cmd.args(&shell[1..]).arg("-c").arg(script);
    cmd
}

/// Runs a script to its end, for at most 20 s: whether it succeeded, and what it said.
fn finish(mut cmd: Command) -> (bool, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "{cmd:?} did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
    (output.status.success(), said.into_owned())
}

/// Passwords as their secret files hold them: the bytes of JSON, redis.conf, the shell and Go
/// templates, line endings, Unicode line separators, a long value.
fn secrets_table() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("tab, quote and crlf", b"tab\there \"quoted\"\r\n".to_vec()),
        ("crlf", b"crlf-password\r\n".to_vec()),
        ("quotes", br#"a"b'c""#.to_vec()),
        ("backslashes", br#"\\a\"b\x41\n\"#.to_vec()),
        ("dollar", b"$x ${HOME} $(id) $$\n".to_vec()),
        ("backticks", b"`id` `\n".to_vec()),
        ("go template", b"{{ .x }} {{\n".to_vec()),
        ("spaces and hash", b" # not a comment \t\n".to_vec()),
        ("control characters", b"a\x01b\x1bc\x7fd\x1f\n".to_vec()),
        ("unicode", "é\u{85}\u{2028}\u{2029}😀\n".as_bytes().to_vec()),
        (
            "200 characters",
            "aB3$\"\\\t{".repeat(25).as_bytes().to_vec(),
        ),
    ]
}

/// The value stackgen reads from `secret`, by its own rule.
fn stackgen_reads(secret: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret");
    std::fs::write(&path, secret).unwrap();
    secrets::read(&SecretSource::File(path)).unwrap()
}

/// Starts Redis with the rendered script, writes the map (with the Redis script, or the init
/// container's), and checks that Redis, the health check and the map agree with stackgen's
/// reading of `secret`. Redis keeps running until the returned child is dropped.
fn start(scripts: &Scripts, sh: &[&str], name: &str, secret: &[u8]) -> (Place, Child, String) {
    let expected = stackgen_reads(secret);
    let place = Place::new(secret, &scripts.conf);
    if !scripts.map.is_empty() {
        let (ok, said) = finish(shell(sh, &place.localize(&scripts.map)));
        assert!(ok, "{sh:?} {name}: the init container failed: {said}");
    }
    let server = Child(
        shell(sh, &place.localize(&scripts.redis))
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let ping = |args: &[&str]| redis_cli(place.port, Some(&expected), args);
    assert!(
        eventually(10, || ping(&["ping"]) == "PONG"),
        "{sh:?} {name}: Redis does not take the password: {}",
        ping(&["ping"])
    );
    assert!(redis_cli(place.port, None, &["ping"]).starts_with("NOAUTH"));
    assert_eq!(
        ping(&["--user", "monitor", "ping"]),
        "PONG",
        "{sh:?} {name}: ACL user"
    );

    let map = place.map().expect("the map is written");
    let map: serde_json::Map<String, Value> = serde_json::from_slice(&map)
        .unwrap_or_else(|e| panic!("{sh:?} {name}: the map is not JSON ({e})"));
    let address = format!("redis://127.0.0.1:{}", place.port);
    assert_eq!(map.len(), 1, "{sh:?} {name}");
    assert_eq!(map[&address], expected, "{sh:?} {name}: the map's password");

    let (ok, said) = finish(shell(sh, &place.localize(&scripts.probe)));
    assert!(ok, "{sh:?} {name}: the health check fails: {said}");
    (place, server, expected)
}

/// The exporter, run with the rendered arguments, logs in with the map and reports `redis_up 1`.
fn exporter_logs_in(scripts: &Scripts, place: &Place) {
    let metrics = free_port();
    let args: Vec<String> = scripts
        .exporter
        .iter()
        .map(|arg| {
            let arg = arg.replace(
                "/run/redis-exporter-map/",
                &format!("{}/", place.path("auth").display()),
            );
            if arg.starts_with("--web.listen-address=") {
                format!("--web.listen-address=127.0.0.1:{metrics}")
            } else {
                arg
            }
        })
        .collect();
    assert!(
        args.iter().any(|a| a.starts_with("--redis.password-file=")),
        "{args:?}"
    );
    let _exporter = Child(
        Command::new(tool("prometheus-redis-exporter"))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let scrape = format!("/scrape?target=redis%3A%2F%2F127.0.0.1%3A{}", place.port);
    let up = || http_get(metrics, &scrape).is_some_and(|m| m.lines().any(|l| l == "redis_up 1"));
    assert!(
        eventually(10, up),
        "redis_exporter cannot log in with the map: {:?}",
        http_get(metrics, &scrape).map(|m| m
            .lines()
            .filter(|l| l.starts_with("redis_up") || l.contains("error"))
            .collect::<Vec<_>>()
            .join("\n"))
    );
}

/// The Redis image promises `sh`, `redis-server` and `redis-cli` alone: none of the tools that
/// read or escaped a secret before.
fn runs_no_other_program(script: &str) {
    let words = script.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'));
    for word in words {
        assert!(
            !["cat", "sed", "tr", "od", "grep", "awk", "head", "cut"].contains(&word),
            "`{word}` in {script}"
        );
    }
}

#[test]
fn kubernetes_redis_its_probe_and_the_exporters_map_agree_on_every_password() {
    let project = rendered();
    let scripts = Scripts::kubernetes(&project);
    for script in [&scripts.redis, &scripts.probe, &scripts.map] {
        runs_no_other_program(script);
    }
    for sh in shells() {
        for (name, secret) in secrets_table() {
            let (place, _redis, _) = start(&scripts, &sh, name, &secret);
            if name == "tab, quote and crlf" {
                exporter_logs_in(&scripts, &place);
            }
        }
    }
}

#[test]
fn the_compose_start_script_and_health_check_agree_with_the_exporters_map() {
    let project = rendered();
    let scripts = Scripts::compose(&project);
    for script in [&scripts.redis, &scripts.probe] {
        runs_no_other_program(script);
    }
    for sh in shells() {
        for (name, secret) in secrets_table() {
            let (place, _redis, _) = start(&scripts, &sh, name, &secret);
            if name == "tab, quote and crlf" {
                exporter_logs_in(&scripts, &place);
            }
        }
    }
}

/// A secret with a line break inside stops Redis' start and the init container, with a message
/// that names the file and not the value; no map is written.
#[test]
fn a_secret_with_a_line_break_inside_is_refused_in_the_containers_too() {
    let project = rendered();
    let kubernetes = Scripts::kubernetes(&project);
    let compose = Scripts::compose(&project);
    let refused: [&[u8]; 3] = [b"CANARY-1\nCANARY-2\n", b"CANARY\rCANARY\r\n", b"\r\n"];
    for sh in shells() {
        for secret in refused {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("secret");
            std::fs::write(&path, secret).unwrap();
            let why = secrets::read(&SecretSource::File(path)).unwrap_err();
            for script in [&kubernetes.map, &kubernetes.redis, &compose.redis] {
                let place = Place::new(secret, &compose.conf);
                let (ok, said) = finish(shell(&sh, &place.localize(script)));
                assert!(
                    !ok,
                    "{sh:?}: a script took {secret:?}, which stackgen refuses ({why})"
                );
                assert!(said.contains("stackgen: the secret in"), "{said}");
                assert!(
                    said.contains(&place.work.path().display().to_string()),
                    "{said}"
                );
                assert!(!said.contains("CANARY"), "the value is shown: {said}");
                assert!(
                    place.map().is_none_or(|m| m.is_empty()),
                    "{sh:?}: half a map was written"
                );
            }
        }
    }
}

/// A project whose secrets stackgen must refuse without blocking or reading them whole: the
/// Redis password is a FIFO, Grafana's a 300 MiB sparse file, the Slack webhook not UTF-8.
fn refused_project() -> Project {
    let project = Project::example();
    let fifo = project.path().join("secrets/redis_password.txt");
    std::fs::create_dir_all(fifo.parent().unwrap()).unwrap();
    let made = Command::new("mkfifo")
        .arg("-m")
        .arg("600")
        .arg(&fifo)
        .status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    let sparse = project.path().join("secrets/grafana_admin_password.txt");
    let file = std::fs::File::create(&sparse).unwrap();
    file.set_len(300 << 20).unwrap();
    project
}

/// `stackgen ARGS` with a webhook that is not UTF-8, stopped after `limit`: a secret read that
/// blocked would never end.
fn run_refused(project: &Project, args: &[&str], limit: Duration) -> Run {
    use std::os::unix::ffi::OsStrExt;
    let started = Instant::now();
    let run = Run::of(
        project
            .command()
            .args(args)
            .env(
                "SLACK_WEBHOOK_URL",
                std::ffi::OsStr::from_bytes(b"https://hooks.slack.com/caf\xe9"),
            )
            .timeout(limit),
    );
    assert!(
        started.elapsed() < limit,
        "`stackgen {}` took {:?}",
        args.join(" "),
        started.elapsed()
    );
    run
}

#[test]
fn lint_refuses_a_fifo_a_huge_file_and_non_utf8_without_blocking() {
    let project = refused_project();
    let run = run_refused(
        &project,
        &["lint", "--format", "json"],
        Duration::from_secs(60),
    )
    .code(1);
    let findings: Vec<Value> = serde_json::from_str(&run.stdout).unwrap();
    let message = |needle: &str| {
        findings
            .iter()
            .filter(|f| f["code"] == "SG202")
            .map(|f| f["message"].as_str().unwrap().to_string())
            .find(|m| m.contains(needle))
            .unwrap_or_else(|| panic!("no SG202 about {needle}: {run}"))
    };
    let fifo = message("secrets/redis_password.txt");
    assert!(fifo.contains("not a regular file"), "{fifo}");
    let sparse = message("secrets/grafana_admin_password.txt");
    assert!(sparse.contains("holds more than 64 KiB"), "{sparse}");
    let webhook = message("slack_webhook_url");
    assert!(webhook.contains("not UTF-8"), "{webhook}");
    assert!(!run.stdout.contains("caf"), "the value is shown: {run}");
}

/// `up --dry-run` reads the secrets as `up` does; with a FIFO among them it must still end, and
/// name each refused file. It needs an engine to get that far.
#[test]
fn a_dry_run_names_a_fifo_a_huge_file_and_non_utf8_without_blocking() {
    let engine = Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|o| o.status.success());
    let project = refused_project();
    // Missing images are looked up in their registry: more time than lint.
    let run = run_refused(&project, &["up", "--dry-run"], Duration::from_secs(120));
    if !engine {
        if std::env::var("STACKGEN_REQUIRE_DOCKER").is_ok_and(|v| v == "1") {
            panic!("STACKGEN_REQUIRE_DOCKER=1 but no Docker engine answers");
        }
        eprintln!("skipping the dry run's secrets: no Docker engine answers (`docker info` fails)");
        return;
    }
    let fifo = project.path().join("secrets/redis_password.txt");
    let sparse = project.path().join("secrets/grafana_admin_password.txt");
    // Like every problem `up` would stop on, the refusals are listed and the dry run exits 1.
    run.code(1)
        .stderr_has(&format!(
            "its file `{}` is a FIFO, not a regular file",
            fifo.display()
        ))
        .stderr_has(&format!(
            "its file `{}` holds more than 64 KiB",
            sparse.display()
        ))
        .stderr_has("secret `slack_webhook_url`")
        .stderr_has("it is not UTF-8 text")
        .stderr_lacks("caf");
}
