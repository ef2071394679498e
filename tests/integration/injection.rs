//! Crafted input (issue: injection-proof output): every string that cannot reach its generated
//! file intact is refused at its `stack.toml:line:col` with exit 2 and nothing written; what is
//! accepted arrives exactly (thresholds to the last digit, label names YAML 1.1 reads as
//! strings); profiles never write outside `generated/<profile>/`; lint judges binds by the
//! address and catches overrides that weaken a container.

use crate::support::*;

const BASE: &str = "[stack]\nname = \"t\"\n";

/// A stack with a Slack webhook, so that routes and channels are rendered.
fn with_slack(rest: &str) -> String {
    format!(
        "[stack]\nname = \"t\"\n[alertmanager.slack]\nwebhook_url = {{ env = \"HOOK\" }}\n{rest}"
    )
}

/// (what is wrong, the stack.toml, the message expected, where).
fn cases() -> Vec<(&'static str, String, &'static str, &'static str)> {
    let target = |extra: &str| {
        format!("{BASE}[[targets]]\nname = \"a\"\naddress = \"redis://a:6379\"\n{extra}")
    };
    let kubernetes = |table: &str| format!("{BASE}target = \"kubernetes\"\n[kubernetes]\n{table}");
    vec![
        (
            "a route channel holding a newline (a catch-all route once in a comment)",
            with_slack(
                "[[alertmanager.routes]]\nmatch = { env = \"prod\" }\nchannel = \"#p\\n    - receiver: slack-warning\"\n",
            ),
            "is not a Slack channel",
            "stack.toml:7:1",
        ),
        (
            "a Slack channel Alertmanager would read as a Go template",
            with_slack("channel = \"#ops-{{ .Foo\"\n"),
            "is not a Slack channel",
            "stack.toml:5:1",
        ),
        (
            "a route channel with a template action",
            with_slack(
                "[[alertmanager.routes]]\nmatch = { env = \"prod\" }\nchannel = \"#{{ .X }}\"\n",
            ),
            "is not a Slack channel",
            "stack.toml:7:1",
        ),
        (
            "a runbook URL with a template action",
            format!("{BASE}[alerts]\nrunbook_base_url = \"https://x/{{{{ .Labels }}}}\"\n"),
            "is not a URL stackgen can link to",
            "stack.toml:4:1",
        ),
        (
            "an image reference that carries YAML",
            format!("{BASE}[redis]\nimage = \"redis:7\\nprivileged: true\"\n"),
            "is not an image reference",
            "stack.toml:4:1",
        ),
        (
            "a memory limit of 0B (no limit at all)",
            format!("{BASE}[prometheus]\nmemory_limit = \"0B\"\n"),
            "`memory_limit` must be at least 6MiB",
            "stack.toml:4:1",
        ),
        (
            "a Redis memory limit under the engine's minimum",
            format!("{BASE}[redis]\nmemory_limit = \"5MiB\"\nmaxmemory = \"1MiB\"\n"),
            "`memory_limit` must be at least 6MiB",
            "stack.toml:4:1",
        ),
        (
            "a CPU limit the engine drops",
            format!("{BASE}[redis]\ncpus = 1e-10\n"),
            "`cpus` must be a number of cores from 0.01 to 1024",
            "stack.toml:4:1",
        ),
        (
            "a latency threshold past its range",
            format!("{BASE}[alerts.high_latency]\nthreshold_ms = 1e300\n"),
            "`threshold_ms` must be between 0 and 3600000",
            "stack.toml:4:1",
        ),
        (
            "a duration past Prometheus' range",
            format!("{BASE}[prometheus]\nretention_time = \"300y\"\n"),
            "longer than Prometheus and Alertmanager can hold",
            "stack.toml:4:18",
        ),
        (
            "an empty target label value",
            target("labels = { env = \"\" }\n"),
            "label `env` is empty",
            "stack.toml:6:12",
        ),
        (
            "a label value YAML 1.1 and kustomize break at U+0085",
            target("labels = { env = \"pro\\u0085d\" }\n"),
            "cannot hold control characters other than tab and line breaks",
            "stack.toml:6:12",
        ),
        (
            "a Grafana admin user an environment variable cannot hold",
            format!("{BASE}[grafana]\nadmin_user = \"ad\\u0000min\"\n"),
            "`admin_user` must not hold control characters",
            "stack.toml:4:1",
        ),
        (
            "an empty project name, at its own line",
            "[stack]\nname = \"\"\n".to_string(),
            "invalid project name ``",
            "stack.toml:2:1",
        ),
        (
            "an empty route matcher value (routes nearly everything)",
            with_slack("[[alertmanager.routes]]\nmatch = { env = \"\" }\nchannel = \"#p\"\n"),
            "would match every alert without the label",
            "stack.toml:6:11",
        ),
        (
            "a host of dots",
            format!("{BASE}[[targets]]\nname = \"a\"\naddress = \"redis://...:6379\"\n"),
            "`address` has no usable host",
            "stack.toml:5:1",
        ),
        (
            "a host that reads as an option",
            format!("{BASE}[[targets]]\nname = \"a\"\naddress = \"redis://-h\"\n"),
            "`address` has no usable host",
            "stack.toml:5:1",
        ),
        (
            "one Redis in two spellings",
            format!(
                "{BASE}[[targets]]\nname = \"a\"\naddress = \"redis://CACHE\"\n\
                 [[targets]]\nname = \"b\"\naddress = \"redis://cache\"\n"
            ),
            "has the address of target `a`",
            "stack.toml:8:1",
        ),
        (
            "a Kubernetes release with spaces",
            kubernetes("release = \"kube prometheus\"\n"),
            "is not a Kubernetes label value",
            "stack.toml:5:1",
        ),
        (
            "an 80-character Kubernetes release",
            kubernetes(&format!("release = \"{}\"\n", "r".repeat(80))),
            "is not a Kubernetes label value",
            "stack.toml:5:1",
        ),
        (
            "a storage class with a space",
            kubernetes("storage_class = \"Fast SSD\"\n"),
            "is not a Kubernetes name",
            "stack.toml:5:1",
        ),
        (
            "a 70-character project name on Kubernetes",
            format!(
                "[stack]\nname = \"{}\"\ntarget = \"kubernetes\"\n",
                "p".repeat(70)
            ),
            "is not a Kubernetes label value",
            "stack.toml:2:1",
        ),
        (
            "a project name ending in `-` on Kubernetes",
            "[stack]\nname = \"buffer-\"\ntarget = \"kubernetes\"\n".to_string(),
            "is not a Kubernetes label value",
            "stack.toml:2:1",
        ),
    ]
}

#[test]
fn crafted_strings_and_numbers_are_refused_at_their_place() {
    let mut failures = Vec::new();
    let cases = cases();
    for (what, stack, message, place) in &cases {
        let project = Project::new(BASE);
        project.run(["render"]).success();
        let before = snapshot(&project.path().join("generated"));
        project.file("stack.toml", stack);
        let run = Run::of(
            project
                .command()
                .env("HOOK", "https://hooks.slack.com/x")
                .arg("render"),
        );
        let expected = format!("error: {place}: ");
        let found = run
            .stderr
            .lines()
            .any(|l| l.starts_with(&expected) && l.contains(message));
        if run.code != 2 || !found {
            failures.push(format!("{what}: expected `{place}: …{message}…`: {run}"));
        }
        if snapshot(&project.path().join("generated")) != before {
            failures.push(format!("{what}: generated/ changed"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// Files planted around `generated/`: in the project, in `generated/` itself, and in another
/// profile's folder. A profile named `..` or `.` is refused, and none of them changes.
#[test]
fn profile_names_never_leave_generated() {
    for name in ["..", ".", "Prod", "a.b", "-x"] {
        let project = Project::new(BASE);
        project
            .file("README.md", "the user's own\n")
            .file("compose.yaml", "the user's own\n")
            .file("generated/compose.yaml", "planted\n")
            .file("generated/keep/compose.yaml", "planted\n")
            .file("profiles/dev.toml", "")
            .file(&format!("profiles/{name}.toml"), "");
        let before = snapshot(project.path());
        project
            .run(["render"])
            .code(2)
            .stderr_has(&format!("`{name}` is not a profile name"));
        project.run(["diff"]).code(2);
        assert_eq!(snapshot(project.path()), before, "profile {name:?}");
    }
}

/// Rendered text of one generated file.
fn rendered(stack: &str, file: &str) -> String {
    let project = Project::new(stack);
    project.run(["render", "-p", "dev"]).success();
    project.read(&format!("generated/dev/{file}"))
}

#[test]
fn thresholds_reach_the_rules_to_the_last_digit() {
    let rules = rendered(
        &format!(
            "{BASE}[alerts.high_latency]\nthreshold_ms = 1e-10\n\
             [alerts.memory_pressure]\nthreshold_percent = 99.9999999999\n"
        ),
        "prometheus/rules/redis-alerts.yml",
    );
    // Rounded to nine decimals these read `> 0` (always firing) and `> 100` (never).
    assert!(rules.contains("* 1000 > 0.0000000001\""), "{rules}");
    assert!(
        rules.contains("* 100 > 99.9999999999 and on (instance, job)"),
        "{rules}"
    );
}

#[test]
fn yaml_1_1_readers_see_no_booleans_and_no_line_breaks() {
    let project = Project::new(
        "[stack]\nname = \"t\"\nprofile = \"k\"\n[redis]\nenabled = false\n\
         [[targets]]\nname = \"a\"\naddress = \"redis://a\"\n\
         labels = { on = \"yes\", env = \"pro\u{2029}d\", region = \"e\u{2028}u\" }\n",
    );
    project.file(
        "profiles/k.toml",
        "[stack]\ntarget = \"kubernetes\"\n[kubernetes]\nnamespace = \"n\"\n",
    );
    project.file("profiles/dev.toml", "");
    project.run(["render"]).success();
    let scrape = project.read("generated/k/scrapeconfig-redis.yaml");
    assert!(scrape.contains("\"on\": \"yes\""), "{scrape}");
    for (path, text) in texts(&project.path().join("generated")) {
        for c in ['\u{2029}', '\u{2028}'] {
            assert!(!text.contains(c), "{path} holds {c:?} raw");
        }
    }
    let targets = project.read("generated/dev/prometheus/targets/redis.json");
    let targets: serde_json::Value = serde_json::from_str(&targets).unwrap();
    assert_eq!(targets[0]["labels"]["env"], "pro\u{2029}d");
}

/// A prod profile's lint of one stack: its findings as text.
fn prod_lint(stack: &str, files: &[(&str, &str)]) -> Run {
    let project = Project::new(stack);
    for (path, text) in files {
        project.file(path, text);
    }
    project.run(["lint", "-p", "prod"])
}

#[test]
fn lint_judges_binds_by_the_address() {
    for (bind, reach) in [
        ("::ffff:0.0.0.0", "every interface"),
        ("0:0:0:0:0:0:0:0", "every interface"),
        ("192.168.1.10", "a private network address"),
        ("203.0.113.7", "an address routable on the internet"),
    ] {
        let profile = format!(
            "[policy]\nlevel = \"error\"\nallow_public_binds = false\n[prometheus]\nbind = \"{bind}\"\n"
        );
        prod_lint(
            BASE,
            &[("profiles/prod.toml", &profile), ("profiles/dev.toml", "")],
        )
        .code(1)
        .stdout_has(&format!(
            "error[SG101]: prometheus publishes port 9090 on {bind} ({reach}"
        ));
    }
    let profile = "[policy]\nlevel = \"error\"\nallow_public_binds = false\n[prometheus]\nbind = \"::ffff:127.0.0.1\"\n";
    let run = prod_lint(
        BASE,
        &[("profiles/prod.toml", profile), ("profiles/dev.toml", "")],
    );
    assert!(!run.stdout.contains("SG101"), "{run}");
}

#[test]
fn lint_refuses_overrides_that_weaken_a_container_or_leak_a_secret() {
    let builtin = include_str!("../../templates/compose.yaml");
    let weakened = builtin
        .replace(
            "    restart: unless-stopped\n    # Runs as nobody (the image's user), needs no capability, and writes only to its volumes.\n    security_opt:",
            "    restart: unless-stopped\n    privileged: true\n    cap_add: [SYS_ADMIN]\n    environment:\n      HOOK: ${SLACK_WEBHOOK_URL}\n    security_opt:",
        );
    assert_ne!(weakened, builtin, "the override's anchor moved");
    let stack = with_slack("").replace("HOOK", "SLACK_WEBHOOK_URL");
    let profile = "[policy]\nlevel = \"error\"\n";
    let run = prod_lint(
        &stack,
        &[
            ("templates/compose.yaml", &weakened),
            ("profiles/prod.toml", profile),
            ("profiles/dev.toml", ""),
        ],
    )
    .code(1);
    for finding in [
        "error[SG114]: service `prometheus` runs privileged",
        "error[SG114]: service `prometheus` adds capabilities: SYS_ADMIN",
        "error[SG114]: `${SLACK_WEBHOOK_URL}` puts a secret's value into a container",
    ] {
        assert!(run.stdout.contains(finding), "{finding}: {run}");
    }
    // The built-in template itself is clean.
    let clean = prod_lint(
        &stack,
        &[
            ("templates/compose.yaml", builtin),
            ("profiles/prod.toml", profile),
            ("profiles/dev.toml", ""),
        ],
    );
    assert!(!clean.stdout.contains("SG114"), "{clean}");
}
