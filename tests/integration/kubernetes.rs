//! The Kubernetes target: the same stack.toml as manifests, validated against Kubernetes' and
//! the operator's schemas, built by the real `kubectl kustomize`, with the compose target's
//! rules checked by the real promtool; `up`, `down` and `status` refuse it.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::*;

/// One stack.toml with a compose profile and Kubernetes profiles of both modes: the profiles
/// switch the target and name Secrets instead of files.
const STACK: &str = r#"[stack]
name = "buffer"
profile = "compose"

[redis]
image = "redis:7.2.4"
password = { file = "secrets/redis_password.txt" }

[alertmanager.slack]
webhook_url = { env = "SLACK_WEBHOOK_URL" }

[grafana]
admin_password = { file = "secrets/grafana_admin_password.txt" }

[[targets]]
name = "buffer-eu-1"
address = "rediss://redis-eu-1.example.internal:6380"
password = { file = "secrets/buffer-eu-1.txt" }
labels = { env = "prod", region = "eu", replication_group = "eu" }
"#;

fn kubernetes_profile(mode: &str) -> String {
    format!(
        r#"[stack]
target = "kubernetes"

[kubernetes]
namespace = "redis-buffer"
mode = "{mode}"

[redis]
password = {{ secret = "redis-auth", key = "password" }}

[alertmanager.slack]
webhook_url = {{ secret = "slack", key = "webhook-url" }}

[grafana]
admin_password = {{ secret = "grafana", key = "admin-password" }}

[[targets]]
name = "buffer-eu-1"
address = "rediss://redis-eu-1.example.internal:6380"
password = {{ secret = "buffer-eu-1", key = "password" }}
labels = {{ env = "prod", region = "eu", replication_group = "eu" }}

[policy]
level = "error"
"#
    )
}

fn project() -> Project {
    let project = Project::new(STACK);
    project
        .file("profiles/compose.toml", "")
        .file("profiles/operator.toml", &kubernetes_profile("operator"))
        .file(
            "profiles/standalone.toml",
            &kubernetes_profile("standalone"),
        );
    project.run(["render"]).success();
    project
}

fn yaml(text: &str) -> Value {
    stackgen::yaml::from_str(text).unwrap()
}

/// The rules of a rules file's groups, by alert name.
fn rules_of(groups: &Value) -> BTreeMap<String, Value> {
    groups
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap().clone())
        .map(|rule| (rule["alert"].as_str().unwrap().to_string(), rule))
        .collect()
}

#[test]
fn the_rules_are_the_compose_rules_and_select_jobs_that_exist() {
    let project = project();
    let compose = yaml(&project.read("generated/compose/prometheus/rules/redis-alerts.yml"));
    let compose = rules_of(&compose["groups"]);
    assert!(compose.contains_key("AlertmanagerDown") && compose.contains_key("RedisNoPrimary"));

    // Operator: the PrometheusRule holds the same rules, without AlertmanagerDown.
    let rule = yaml(&project.read("generated/operator/prometheusrule-redis.yaml"));
    let operator = rules_of(&rule["spec"]["groups"]);
    let mut expected = compose.clone();
    expected.remove("AlertmanagerDown");
    assert_eq!(operator, expected);

    // Standalone: the ConfigMap holds the compose target's rules, every one.
    let map = yaml(&project.read("generated/standalone/configmap-prometheus.yaml"));
    let standalone = yaml(map["data"]["redis-alerts.yml"].as_str().unwrap());
    assert_eq!(rules_of(&standalone["groups"]), compose);

    // Every job a rule selects is one the operator-mode scrape objects produce.
    let monitor = yaml(&project.read("generated/operator/servicemonitor-redis-exporter.yaml"));
    let scrape = yaml(&project.read("generated/operator/scrapeconfig-redis.yaml"));
    let job = |relabelings: &Value| {
        relabelings
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["targetLabel"] == "job")
            .map(|r| r["replacement"].as_str().unwrap().to_string())
            .unwrap()
    };
    let jobs = [
        job(&monitor["spec"]["endpoints"][0]["relabelings"]),
        job(&scrape["spec"]["relabelings"]),
    ];
    assert_eq!(jobs, ["redis-exporter", "redis"]);
    for (alert, rule) in &operator {
        let expr = rule["expr"].as_str().unwrap();
        for selected in expr.split("job=\"").skip(1) {
            let selected = selected.split('"').next().unwrap();
            assert!(
                jobs.iter().any(|j| j == selected),
                "{alert} selects job {selected}"
            );
        }
    }
    // The operator routes an AlertmanagerConfig's alerts by `namespace`: every Redis series
    // gets the stack's.
    let namespace = scrape["spec"]["relabelings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["targetLabel"] == "namespace")
        .expect("a namespace relabelling");
    assert_eq!(namespace["replacement"], "redis-buffer");
    // The dashboard picks the cluster's Prometheus through a datasource variable.
    let dashboard = yaml(&project.read("generated/operator/configmap-grafana-dashboard.yaml"));
    let dashboard: Value =
        serde_json::from_str(dashboard["data"]["redis.json"].as_str().unwrap()).unwrap();
    assert_eq!(dashboard["templating"]["list"][0]["type"], "datasource");
    assert_eq!(dashboard["panels"][0]["datasource"]["uid"], "${datasource}");
    // Each target is a static target of the ScrapeConfig, with its labels.
    let groups = scrape["spec"]["staticConfigs"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[1]["labels"]["target"], "buffer-eu-1");
    assert_eq!(groups[1]["labels"]["region"], "eu");
}

#[test]
fn kubectl_kustomize_builds_every_object_once_and_no_secret() {
    let kubectl = tool("kubectl");
    let project = project();
    for profile in ["operator", "standalone"] {
        let dir = project.path().join("generated").join(profile);
        let output = Command::new(&kubectl)
            .arg("kustomize")
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let built = String::from_utf8(output.stdout).unwrap();
        let mut objects: Vec<String> = built
            .split("\n---\n")
            .map(|doc| {
                let object = yaml(doc);
                assert_eq!(object["metadata"]["namespace"], "redis-buffer");
                assert_eq!(
                    object["metadata"]["labels"]["app.kubernetes.io/managed-by"],
                    "stackgen"
                );
                format!(
                    "{}/{}",
                    object["kind"].as_str().unwrap(),
                    object["metadata"]["name"].as_str().unwrap()
                )
            })
            .collect();
        let count = objects.len();
        objects.sort();
        objects.dedup();
        assert_eq!(
            objects.len(),
            count,
            "{profile}: an object twice: {objects:?}"
        );
        let files = std::fs::read_dir(&dir).unwrap().count() - 1;
        assert_eq!(count, files, "{profile}: {objects:?}");
        assert!(
            !objects.iter().any(|o| o.starts_with("Secret/")),
            "{objects:?}"
        );
        // Secrets are references: a Secret's name and key, never a value.
        assert!(built.contains("secretName: redis-auth") || built.contains("name: redis-auth"));
    }
    let operator = project.read("generated/operator/kustomization.yaml");
    assert!(
        operator.contains("  - prometheusrule-redis.yaml\n"),
        "{operator}"
    );
}

#[test]
fn the_rules_pass_promtool_and_lint_checks_the_tree() {
    let promtool = tool("promtool");
    let project = project();
    let rule = yaml(&project.read("generated/operator/prometheusrule-redis.yaml"));
    let groups = serde_json::json!({ "groups": rule["spec"]["groups"] });
    project.file("rules.yml", &serde_json::to_string(&groups).unwrap());
    let output = Command::new(promtool)
        .args(["check", "rules"])
        .arg(project.path().join("rules.yml"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    // lint runs promtool (rules and their generated tests), amtool and kubectl kustomize.
    for profile in ["operator", "standalone"] {
        let run = project.run(["lint", "--strict", "-p", profile]).success();
        assert!(!run.stdout.contains("warning["), "{run}");
    }
}

#[test]
fn an_unknown_field_in_an_override_is_refused_naming_the_object_and_the_field() {
    let project = project();
    let before = snapshot(&project.path().join("generated"));
    let template = include_str!("../../templates/kubernetes/statefulset-redis.yaml").replace(
        "          readinessProbe:",
        "          readinessProbez: {}\n          readinessProbe:",
    );
    project.file("templates/kubernetes/statefulset-redis.yaml", &template);
    project
        .run(["render"])
        .code(2)
        .stderr_has("generated/operator/statefulset-redis.yaml is not valid")
        .stderr_has("object StatefulSet/redis does not follow the schema of StatefulSet")
        .stderr_has("'readinessProbez' was unexpected");
    assert_eq!(before, snapshot(&project.path().join("generated")));

    // An override that drops the security defaults renders, and lint names what is missing.
    let weak = include_str!("../../templates/kubernetes/statefulset-redis.yaml").replace(
        "          securityContext:\n            {{ k8s.container_security | nest(indent=12) }}\n",
        "",
    );
    project.file("templates/kubernetes/statefulset-redis.yaml", &weak);
    project.run(["render"]).success();
    project
        .run(["lint", "-p", "operator"])
        .code(1)
        .stdout_has("error[SG112]")
        .stdout_has("redis/redis: privilege escalation is allowed");
}

#[test]
fn secrets_take_the_form_of_their_target() {
    let project = Project::new(STACK);
    project.file("profiles/compose.toml", "");
    // A Kubernetes profile that keeps a file secret.
    let keeps_file = kubernetes_profile("operator").replace(
        "[grafana]\nadmin_password = { secret = \"grafana\", key = \"admin-password\" }\n",
        "",
    );
    project.file("profiles/operator.toml", &keeps_file);
    project
        .run(["render", "-p", "operator"])
        .code(2)
        .stderr_has("a Kubernetes profile reads secrets from Secrets")
        .stderr_has("stack.toml:13:");
    // A compose profile that names a Kubernetes Secret.
    project.file(
        "profiles/compose.toml",
        "[redis]\npassword = { secret = \"redis-auth\", key = \"password\" }\n",
    );
    project
        .run(["render", "-p", "compose"])
        .code(2)
        .stderr_has("profiles/compose.toml:2:")
        .stderr_has("names a Kubernetes Secret");
    assert!(!project.path().join("generated").exists());
}

#[test]
fn up_down_and_status_refuse_a_kubernetes_profile_in_one_line() {
    let project = project();
    let before = snapshot(&project.path().join("generated"));
    for command in ["up", "down", "status"] {
        let run = project.run([command, "-p", "operator"]).code(2);
        assert_eq!(run.stderr.trim().lines().count(), 1, "{run}");
        assert!(
            run.stderr.contains("kubectl apply -k generated/operator"),
            "{run}"
        );
    }
    assert_eq!(before, snapshot(&project.path().join("generated")));
    assert!(!Path::new(&project.path().join(".stackgen")).exists());
}

#[test]
fn the_vendored_kubernetes_schemas_are_the_published_ones() {
    let dir = Path::new(ROOT).join("vendor/schemas/kubernetes");
    let mut checked = 0;
    for folder in ["v1.33.0-local-strict", "monitoring.coreos.com"] {
        for entry in std::fs::read_dir(dir.join(folder)).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            published_schema(&format!("kubernetes/{folder}/{name}"));
            checked += 1;
        }
    }
    assert_eq!(checked, 10);
}

/// Sizes reach the objects as Kubernetes quantities in whole units: a retention size whose
/// fifth more is no whole number of bytes (1GiB) renders, and `kubectl kustomize` takes it.
#[test]
fn sizes_are_quantities_in_whole_units() {
    let project = Project::new(STACK);
    project.file("profiles/compose.toml", "").file(
        "profiles/operator.toml",
        &kubernetes_profile("standalone").replace(
            "[policy]",
            "[prometheus]\nretention_size = \"1GiB\"\n\n[policy]",
        ),
    );
    project.run(["render"]).success();
    let prometheus = yaml(&project.read("generated/operator/statefulset-prometheus.yaml"));
    let claim = &prometheus["spec"]["volumeClaimTemplates"][0]["spec"]["resources"];
    assert_eq!(claim["requests"]["storage"], "1229Mi");
    let container = &prometheus["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["resources"]["limits"]["memory"], "2Gi");
    let redis = yaml(&project.read("generated/operator/statefulset-redis.yaml"));
    let claim = &redis["spec"]["volumeClaimTemplates"][0]["spec"]["resources"];
    assert_eq!(claim["requests"]["storage"], "4Gi");
    check_tool(
        Command::new(tool("kubectl"))
            .args(["kustomize"])
            .arg(project.path().join("generated/operator")),
    );
}

/// The README's Kubernetes profile, added to the starter `init` writes: it carries a policy,
/// lint holds it to that policy with the Secret hint, and the README's `kubectl create secret`
/// lines read the files the starter's secrets are in.
#[test]
fn the_readme_kubernetes_profile_fits_the_starter() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let start = readme.find("# profiles/k8s.toml\n").unwrap();
    let end = start + readme[start..].find("```").unwrap();
    let profile = &readme[start..end];
    assert!(profile.contains("[policy]"), "{profile}");
    let root = tempfile::tempdir().unwrap();
    run_in(root.path(), ["init", "starter"]).success();
    let dir = root.path().join("starter");
    std::fs::write(dir.join("profiles/k8s.toml"), profile).unwrap();
    let run = run_in(&dir, ["lint", "-p", "k8s"]);
    assert!(!run.stdout.contains("SG115"), "{run}");
    for line in readme.lines().filter(|l| l.contains("--from-file=")) {
        let file = line.rsplit('=').next().unwrap();
        let mentioned = std::fs::read_to_string(dir.join("stack.toml")).unwrap();
        assert!(
            mentioned.contains(file),
            "{file} is not a secret of the starter"
        );
    }
    // Without a policy, lint says so (a note) instead of passing silently.
    let bare = profile[..profile.find("[policy]").unwrap()].to_string();
    std::fs::write(dir.join("profiles/k8s.toml"), bare).unwrap();
    run_in(&dir, ["lint", "-p", "k8s"]).stdout_has("note[SG115]: profile k8s has no [policy]");
    // Redis without a password on Kubernetes: the hint names a Secret reference.
    let text = std::fs::read_to_string(dir.join("profiles/k8s.toml")).unwrap();
    let open = text.replace(
        "[redis]\npassword = { secret = \"redis-auth\", key = \"password\" }   # a key of a Kubernetes Secret\n",
        "",
    );
    assert_ne!(open, text);
    std::fs::write(
        dir.join("profiles/k8s.toml"),
        format!("{open}\n[policy]\nlevel = \"error\"\nrequire_redis_auth = true\n"),
    )
    .unwrap();
    let starter = std::fs::read_to_string(dir.join("stack.toml")).unwrap();
    let starter = starter.replace("password = { file = \"secrets/redis_password.txt\" }\n", "");
    std::fs::write(dir.join("stack.toml"), starter).unwrap();
    run_in(&dir, ["lint", "-p", "k8s"])
        .code(1)
        .stdout_has("set `redis.password = { secret = \"redis-auth\", key = \"password\" }`");
}

/// stack.toml's fleet, with a password from a variable, under a Kubernetes profile: the error
/// says the profile lists its own targets.
#[test]
fn a_stack_toml_target_password_points_the_kubernetes_profile_at_its_own_targets() {
    let project = Project::new(
        "[stack]\nname = \"t\"\n[[targets]]\nname = \"a\"\naddress = \"redis://a:6379\"\n\
         password = { env = \"A_PASSWORD\" }\n",
    );
    project.file("profiles/dev.toml", "").file(
        "profiles/k8s.toml",
        "[stack]\ntarget = \"kubernetes\"\n[redis]\nenabled = false\n",
    );
    project
        .run(["render", "-p", "k8s"])
        .code(2)
        .stderr_has("stack.toml:6:1: a Kubernetes profile reads secrets from Secrets")
        .stderr_has(
            "a Kubernetes profile lists its own `[[targets]]`, whose passwords name Secrets",
        );
}
