//! The generated files, checked by the real tools that read them: promtool, amtool,
//! redis-server and redis_exporter, and the compose and Grafana dashboard schemas.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::*;

const PROFILES: [&str; 2] = ["dev", "prod"];

fn yaml(path: &Path) -> serde_json::Value {
    stackgen::yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn promtool_accepts_config_and_rules_and_passes_the_rule_tests() {
    let promtool = tool("promtool");
    let project = Project::rendered_example();
    // The example's trees and the golden cases' (noeviction, `for` of 0s and 90s, the
    // topologies with their two groups or clusters side by side, …).
    let mut trees: Vec<_> = PROFILES
        .iter()
        .map(|p| project.path().join("generated").join(p))
        .collect();
    for case in [
        "minimal",
        "noeviction",
        "replication",
        "sentinel",
        "cluster",
        "cluster-only",
        "slo",
    ] {
        for profile in PROFILES {
            trees.push(
                Path::new(ROOT)
                    .join("tests/fixtures")
                    .join(case)
                    .join("generated")
                    .join(profile),
            );
        }
    }
    for tree in trees {
        let prometheus = tree.join("prometheus");
        check_tool(
            Command::new(&promtool)
                .arg("check")
                .arg("config")
                .arg(prometheus.join("prometheus.yml")),
        );
        let out = check_tool(
            Command::new(&promtool)
                .args(["check", "rules"])
                .arg(prometheus.join("rules/redis-alerts.yml")),
        );
        assert!(out.contains("SUCCESS"), "{out}");
        for tests in ["redis-alerts.test.yml", "slo.test.yml"] {
            let out = check_tool(
                Command::new(&promtool)
                    .args(["test", "rules"])
                    .arg(prometheus.join("rules").join(tests)),
            );
            assert!(out.contains("SUCCESS"), "{out}");
        }
    }
}

/// The generated unit tests are worth something only if they fail when a rule drifts.
#[test]
fn the_rule_tests_fail_when_a_threshold_or_for_drifts() {
    let promtool = tool("promtool");
    let project = Project::rendered_example();
    let rules_dir = project.path().join("generated/dev/prometheus/rules");
    let rules_path = rules_dir.join("redis-alerts.yml");
    let original = std::fs::read_to_string(&rules_path).unwrap();
    // Each threshold a little up and a little down, each kind of `for` a minute either way.
    let drifts = [
        ("* 1000 > 10\"", "* 1000 > 11.5\""),
        ("* 1000 > 10\"", "* 1000 > 8.5\""),
        ("* 100 > 90 and", "* 100 > 92 and"),
        ("* 100 > 90 and", "* 100 > 88 and"),
        ("[5m]) < 1000 and", "[5m]) < 1500 and"),
        ("[5m]) < 1000 and", "[5m]) < 600 and"),
        (
            "redis_total_error_replies[5m]) > 1\"",
            "redis_total_error_replies[5m]) > 1.25\"",
        ),
        (
            "redis_total_error_replies[5m]) > 1\"",
            "redis_total_error_replies[5m]) > 0.8\"",
        ),
        (
            "* 1000 > 10\"\n        for: \"5m\"",
            "* 1000 > 10\"\n        for: \"6m\"",
        ),
        (
            "* 1000 > 10\"\n        for: \"5m\"",
            "* 1000 > 10\"\n        for: \"4m\"",
        ),
        (
            "redis_up == 1\"\n        for: \"10m\"",
            "redis_up == 1\"\n        for: \"9m\"",
        ),
        ("== 0\"\n        for: \"1m\"", "== 0\"\n        for: \"3m\""),
        ("for: \"2m\"", "for: \"0s\""),
    ];
    for (from, to) in drifts {
        assert!(
            original.contains(from),
            "the rules no longer contain {from:?}"
        );
        std::fs::write(&rules_path, original.replacen(from, to, 1)).unwrap();
        let output = Command::new(&promtool)
            .args(["test", "rules"])
            .arg(rules_dir.join("redis-alerts.test.yml"))
            .output()
            .unwrap();
        assert!(
            !output.status.success(),
            "promtool test rules still passes after {from:?} → {to:?}"
        );
    }
}

#[test]
fn amtool_accepts_the_config_and_the_slack_templates() {
    let amtool = tool("amtool");
    let project = Project::rendered_example();
    for profile in PROFILES {
        let am = project
            .path()
            .join("generated")
            .join(profile)
            .join("alertmanager");
        check_tool(
            Command::new(&amtool)
                .arg("check-config")
                .arg(am.join("alertmanager.yml")),
        );
        // The same config with the template glob pointing at the generated templates, so
        // amtool parses slack.tmpl too.
        let text = std::fs::read_to_string(am.join("alertmanager.yml")).unwrap();
        let local = text.replace(
            "/etc/alertmanager/templates/",
            &format!("{}/", am.join("templates").display()),
        );
        let copy = project.path().join(format!("alertmanager-{profile}.yml"));
        std::fs::write(&copy, local).unwrap();
        let out = check_tool(Command::new(&amtool).arg("check-config").arg(&copy));
        assert!(out.contains("1 templates"), "{out}");
        let broken = project.path().join("broken.tmpl");
        std::fs::write(&broken, "{{ define \"x\" }}{{ .Foo ").unwrap();
        let text = std::fs::read_to_string(&copy).unwrap().replace(
            &format!("{}/*.tmpl", am.join("templates").display()),
            broken.to_str().unwrap(),
        );
        std::fs::write(&copy, text).unwrap();
        let status = Command::new(&amtool)
            .arg("check-config")
            .arg(&copy)
            .output()
            .unwrap()
            .status;
        assert!(
            !status.success(),
            "amtool does not parse the templates, so the check above proves nothing"
        );
    }
}

#[test]
fn redis_server_runs_the_generated_config() {
    let redis_server = tool("redis-server");
    let redis_cli = tool("redis-cli");
    let project = Project::rendered_example();
    for profile in PROFILES {
        let data = tempfile::tempdir().unwrap();
        let conf = local_redis_conf(
            &project
                .path()
                .join("generated")
                .join(profile)
                .join("redis/redis.conf"),
            data.path(),
        );
        let port = free_port();
        let _server = Child(
            Command::new(&redis_server)
                .arg(&conf)
                .args(["--port", &port.to_string()])
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let get = |key: &str| {
            let out = Command::new(&redis_cli)
                .args(["-p", &port.to_string(), "config", "get", key])
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .nth(1)
                .unwrap_or_default()
                .to_string()
        };
        assert!(
            eventually(10, || get("maxmemory") == "1610612736"),
            "{profile}: maxmemory is {:?}",
            get("maxmemory")
        );
        assert_eq!(get("maxmemory-policy"), "allkeys-lru");
        assert_eq!(get("appendonly"), "yes");
        assert_eq!(get("appendfsync"), "everysec");
        assert_eq!(get("protected-mode"), "yes");
    }
}

/// Runs the Redis start-up script of `compose.yaml` for real, with the container's paths
/// moved into a temporary folder: Redis must demand the password read from the secret file,
/// and the exporter must log in with the password map the script writes.
#[test]
fn the_redis_start_script_hands_the_secret_to_redis_and_the_exporter() {
    let redis_server = tool("redis-server");
    let exporter = tool("prometheus-redis-exporter");
    let project = Project::rendered_example();
    let compose = yaml(&project.path().join("generated/prod/compose.yaml"));
    let script = compose["services"]["redis"]["command"][2]
        .as_str()
        .unwrap()
        .to_string();

    let work = tempfile::tempdir().unwrap();
    let password = r#"p@ss "quoted" back\slash $HOME 'single'"#;
    std::fs::write(work.path().join("redis_password"), format!("{password}\n")).unwrap();
    std::fs::create_dir(work.path().join("auth")).unwrap();
    let port = free_port();
    let conf = local_redis_conf(
        &project.path().join("generated/prod/redis/redis.conf"),
        work.path(),
    );
    let script = script
        .replace("$$", "$")
        .replace(
            "/run/secrets/redis_password",
            work.path().join("redis_password").to_str().unwrap(),
        )
        .replace(
            "/run/redis-exporter-map",
            work.path().join("auth").to_str().unwrap(),
        )
        .replace(
            "exec redis-server /usr/local/etc/redis/redis.conf -",
            &format!(
                "exec {} {} --port {port} -",
                redis_server.display(),
                conf.display()
            ),
        );
    let server = Child(
        Command::new("sh")
            .arg("-c")
            .arg(&script)
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );

    let ping = |auth: Option<&str>| redis_cli(port, auth, &["ping"]);
    assert!(
        eventually(10, || ping(Some(password)) == "PONG"),
        "the password from the secret file does not log in: {}",
        ping(Some(password))
    );
    assert!(ping(None).starts_with("NOAUTH"), "{}", ping(None));
    assert!(
        ping(Some("wrong")).starts_with("NOAUTH"),
        "{}",
        ping(Some("wrong"))
    );

    // Neither redis-server's argv nor its environment holds the password.
    let pid = server.0.id();
    for file in ["cmdline", "environ"] {
        let bytes = std::fs::read(format!("/proc/{pid}/{file}")).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains("back\\slash"),
            "the password is in redis-server's {file}"
        );
    }

    let map_path = work.path().join("auth/password-map.json");
    let map: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&map_path).unwrap()).unwrap();
    assert_eq!(map["redis://redis:6379"], password);
    // Readable by its owner (Redis' user) and its group (the exporter's, from the volume's
    // setgid folder), by no one else.
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&map_path).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o640);
    // The exporter reaches this Redis under another address, so its map is re-keyed.
    let local_map = work.path().join("local-map.json");
    std::fs::write(
        &local_map,
        serde_json::json!({ format!("redis://127.0.0.1:{port}"): map["redis://redis:6379"] })
            .to_string(),
    )
    .unwrap();
    let metrics_port = free_port();
    let _exporter = Child(
        Command::new(&exporter)
            // Multi-target mode, as compose.yaml runs it.
            .arg("-redis.addr=")
            .arg(format!("-redis.password-file={}", local_map.display()))
            .arg(format!("-web.listen-address=127.0.0.1:{metrics_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let scrape = format!("/scrape?target=redis%3A%2F%2F127.0.0.1%3A{port}");
    let up =
        || http_get(metrics_port, &scrape).is_some_and(|m| m.lines().any(|l| l == "redis_up 1"));
    assert!(
        eventually(10, up),
        "redis_exporter cannot log in with the generated password map"
    );
}

/// A copy of a generated `redis.conf` whose data folder, the container's `/data`, is `data`.
fn local_redis_conf(conf: &Path, data: &Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(conf).unwrap();
    assert!(
        text.contains("\ndir /data\n"),
        "redis.conf does not set the data folder"
    );
    let copy = data.join("redis.conf");
    std::fs::write(
        &copy,
        text.replace("\ndir /data\n", &format!("\ndir {}\n", data.display())),
    )
    .unwrap();
    copy
}

#[test]
fn compose_and_dashboard_follow_their_published_schemas() {
    let compose_schema = jsonschema::validator_for(&published_schema("compose-spec.json")).unwrap();
    let dashboard_schema =
        jsonschema::validator_for(&published_schema("grafana-dashboard.schema.json")).unwrap();
    let target_schema =
        jsonschema::validator_for(&published_schema("grafana-prometheus.schema.json")).unwrap();
    let project = Project::rendered_example();
    // The SLO fixture's dashboard too: its rows of SLO panels (the golden test keeps it fresh).
    let slo =
        Path::new(ROOT).join("tests/fixtures/slo/generated/prod/grafana/dashboards/redis.json");
    let slo: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(slo).unwrap()).unwrap();
    let errors: Vec<_> = dashboard_schema
        .iter_errors(&slo)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "the SLO fixture's redis.json: {errors:?}"
    );
    let rows = slo["panels"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == "row");
    assert_eq!(rows.count(), 3);
    for profile in PROFILES {
        let g = project.path().join("generated").join(profile);
        let compose = yaml(&g.join("compose.yaml"));
        let errors: Vec<_> = compose_schema
            .iter_errors(&compose)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{profile}/compose.yaml: {errors:?}");
        let dashboard: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(g.join("grafana/dashboards/redis.json")).unwrap(),
        )
        .unwrap();
        let errors: Vec<_> = dashboard_schema
            .iter_errors(&dashboard)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{profile}/redis.json: {errors:?}");
        assert_eq!(dashboard["refresh"], "5s");
        let datasource = yaml(&g.join("grafana/provisioning/datasources/prometheus.yml"));
        let uid = datasource["datasources"][0]["uid"].as_str().unwrap();
        let panels = dashboard["panels"].as_array().unwrap();
        let titles: Vec<&str> = panels
            .iter()
            .map(|p| p["title"].as_str().unwrap())
            .collect();
        for needed in [
            "Commands per second",
            "Connected clients",
            "Total keys",
            "Memory used vs maxmemory",
            "Memory fragmentation",
            "Redis up",
            "Command latency",
            "Error replies per second",
            "Evicted keys per second",
            "Rejected connections per second",
        ] {
            assert!(
                titles.contains(&needed),
                "no panel {needed:?} in {titles:?}"
            );
        }
        for panel in panels {
            assert_eq!(
                panel["datasource"]["uid"], uid,
                "panel {} uses another datasource",
                panel["title"]
            );
            for target in panel["targets"].as_array().unwrap() {
                assert_eq!(target["datasource"]["uid"], uid);
                let errors: Vec<_> = target_schema
                    .iter_errors(target)
                    .map(|e| e.to_string())
                    .collect();
                assert!(errors.is_empty(), "{}: {errors:?}", panel["title"]);
            }
        }
    }
}

#[test]
fn the_prod_tree_publishes_on_loopback_and_closes_grafana() {
    let project = Project::rendered_example();
    let compose = yaml(&project.path().join("generated/prod/compose.yaml"));
    let services = compose["services"].as_object().unwrap();
    assert_eq!(services.len(), 5);
    for (name, service) in services {
        for port in service["ports"].as_array().unwrap() {
            assert!(
                port.as_str().unwrap().starts_with("127.0.0.1:"),
                "{name} publishes {port}"
            );
        }
    }
    let env = &services["grafana"]["environment"];
    assert_eq!(env["GF_USERS_ALLOW_SIGN_UP"], "false");
    assert_eq!(env["GF_AUTH_ANONYMOUS_ENABLED"], "false");
    assert_eq!(
        env["GF_SECURITY_ADMIN_PASSWORD__FILE"],
        "/run/secrets/grafana_admin_password"
    );
    assert_eq!(services["redis"]["mem_limit"], 2147483648u64);
    let prometheus = services["prometheus"]["command"].as_array().unwrap();
    assert!(
        prometheus.contains(&"--storage.tsdb.retention.time=200h".into()),
        "{prometheus:?}"
    );
    assert!(
        prometheus.contains(&"--storage.tsdb.retention.size=10GB".into()),
        "{prometheus:?}"
    );
    let am = yaml(
        &project
            .path()
            .join("generated/prod/alertmanager/alertmanager.yml"),
    );
    let receiver = |name: &str| {
        let receivers = am["receivers"].as_array().unwrap().iter();
        receivers
            .clone()
            .find(|r| r["name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        receiver("slack-critical")["slack_configs"][0]["api_url_file"],
        "/run/secrets/slack_webhook_url"
    );
    assert_eq!(
        receiver("heartbeat")["webhook_configs"][0]["url_file"],
        "/run/secrets/heartbeat_url"
    );
}
