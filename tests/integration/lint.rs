//! `stackgen lint`: one case per rule that triggers it, a clean project that triggers none,
//! the prod/dev policy split, JSON output, and no secret value in any finding.

use std::path::Path;

use serde_json::Value;

use crate::support::*;

const WEBHOOK: &str = "https://hooks.slack.com/services/T000/B000/XXXXXXXX";

/// The example project with every secret in place and private.
fn clean_project(stack: &str) -> Project {
    let project = Project::new(stack);
    project
        .secret("secrets/redis_password.txt", "s3cret-redis")
        .secret("secrets/grafana_admin_password.txt", "s3cret-grafana");
    project
}

/// Runs `lint --format FORMAT` with the Slack webhook and the heartbeat set.
fn lint_as(project: &Project, format: &str, args: &[&str]) -> Run {
    Run::of(
        project
            .command()
            .args(["lint", "--format", format])
            .args(args)
            .env("SLACK_WEBHOOK_URL", WEBHOOK)
            .env(
                "HEARTBEAT_URL",
                "https://hc-ping.com/0f9a6d1e-2b3c-4d5e-8f70-123456789abc",
            ),
    )
}

/// Runs `lint --format json` with the Slack webhook and the heartbeat set; the run and its
/// findings.
fn lint(project: &Project, args: &[&str]) -> (Run, Vec<Value>) {
    let run = lint_as(project, "json", args);
    let findings = json_findings(&run);
    (run, findings)
}

/// The findings of a `--format json` run.
fn json_findings(run: &Run) -> Vec<Value> {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run}"))
}

fn codes(findings: &[Value]) -> Vec<String> {
    findings
        .iter()
        .map(|f| {
            format!(
                "{}:{}",
                f["code"].as_str().unwrap(),
                f["severity"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn the_shipped_example_passes_for_dev_and_prod() {
    // As shipped, in a fresh clone: secrets are not there yet, which only warns.
    for profile in ["dev", "prod"] {
        let run = run_in(Path::new(ROOT), ["lint", "-p", profile]).success();
        assert!(!run.stdout.contains("error["), "{}", run.stdout);
    }
    // With its secrets in place, no finding at all, in prod or dev: it binds to loopback.
    let project = clean_project(&example_stack());
    // (Only notes, which never fail lint: its five images are pinned by tag, not digest.)
    let (run, findings) = lint(&project, &["-p", "prod", "--strict", "--deny-warnings"]);
    assert_eq!(
        (run.code, codes(&findings)),
        (0, vec!["SG108:note".to_string(); 5]),
        "{run}"
    );
    let (run, findings) = lint(&project, &["-p", "dev", "--strict"]);
    run.success();
    assert_eq!(codes(&findings), Vec::<String>::new());
}

/// (code, severity, what to change in the example, profile, extra arguments).
type Case = (
    &'static str,
    &'static str,
    fn(&Path) -> String,
    &'static str,
    &'static [&'static str],
);

fn edit(from: &'static str, to: &'static str) -> impl Fn(&Path) -> String {
    move |_| {
        let stack = example_stack();
        assert!(
            stack.contains(from),
            "the example no longer contains {from:?}"
        );
        stack.replacen(from, to, 1)
    }
}

macro_rules! case {
    ($code:literal, $severity:literal, $from:literal => $to:literal, $profile:literal $(, $arg:literal)*) => {
        ($code, $severity, |dir: &Path| { let _ = dir; edit($from, $to)(dir) }, $profile, &[$($arg),*])
    };
}

const CASES: &[Case] = &[
    case!("SG001", "error", "[redis]\n" => "[redis]\nmaxmem = 1\n", "prod"),
    case!("SG002", "error", "maxmemory = \"1536MiB\"" => "maxmemory = \"2GiB\"", "prod"),
    case!("SG003", "warning", "maxmemory = \"1536MiB\"" => "maxmemory = \"1900MiB\"", "prod"),
    case!("SG004", "error", "evaluation_interval = \"15s\"" => "evaluation_interval = \"15s\"\nscrape_timeout = \"20s\"", "prod"),
    case!("SG005", "warning", "evaluation_interval = \"15s\"" => "evaluation_interval = \"5s\"", "prod"),
    case!("SG005", "warning", "for = \"1m\"" => "for = \"5s\"", "prod"),
    case!("SG005", "warning", "evaluation_interval = \"15s\"" => "evaluation_interval = \"2m\"", "prod"),
    case!("SG006", "error", "scrape_interval = \"10s\"" => "scrape_interval = \"2m\"", "prod"),
    case!("SG007", "error", "port = 9121" => "port = 9090", "prod"),
    case!("SG008", "error", "threshold_percent = 90" => "threshold_percent = 100", "prod"),
    case!("SG010", "error", "retention_time = \"200h\"" => "retention_time = \"0\"", "prod"),
    case!("SG011", "error", "bind = \"127.0.0.1\"" => "bind = \"localhost\"", "dev"),
    case!("SG012", "error", "[redis]\n" => "[[targets]]\nname = \"a\"\naddress = \"redis://a:6379\"\n[[targets]]\nname = \"a\"\naddress = \"redis://b:6379\"\n\n[redis]\n", "dev"),
    case!("SG012", "error", "[redis]\n" => "[[targets]]\nname = \"a\"\naddress = \"redis://a\"\n[[targets]]\nname = \"b\"\naddress = \"redis://a:6379\"\n\n[redis]\n", "dev"),
    case!("SG013", "error", "[redis]\n" => "[[targets]]\nname = \"a\"\naddress = \"redis://a:6379\"\nlabels = { instance = \"x\" }\n\n[redis]\n", "dev"),
    case!("SG014", "error", "[redis]\n" => "[[targets]]\nname = \"a\"\naddress = \"redis://a:6379\"\nusername = \"u1\"\n[[targets]]\nname = \"b\"\naddress = \"redis://b:6379\"\nusername = \"u2\"\n\n[redis]\n", "dev"),
    case!("SG015", "note", "image = \"redis:7.2\"" => "image = \"redis:6.2-alpine\"", "dev"),
    case!("SG016", "error", "image = \"prom/alertmanager:v0.27.0\"" => "image = \"prom/alertmanager:v0.25.0\"", "prod"),
    case!("SG402", "error", "port = 9090" => "port = 9", "dev", "--live"),
    case!("SG101", "warning", "bind = \"127.0.0.1\"\nport = 9121" => "bind = \"0.0.0.0\"\nport = 9121", "dev"),
    case!("SG102", "error", "password = { file = \"secrets/redis_password.txt\" }" => "", "prod"),
    case!("SG102", "warning", "password = { file = \"secrets/redis_password.txt\" }" => "", "dev"),
    case!("SG103", "error", "admin_password = { file = \"secrets/grafana_admin_password.txt\" }" => "", "prod"),
    case!("SG104", "error", "admin_user = \"admin\"" => "admin_user = \"admin\"\nallow_sign_up = true", "prod"),
    case!("SG104", "error", "admin_user = \"admin\"" => "admin_user = \"admin\"\nanonymous_access = true", "prod"),
    case!("SG105", "error", "image = \"redis:7.2\"" => "image = \"redis\"", "prod"),
    case!("SG105", "error", "image = \"prom/prometheus:v2.53.0\"" => "image = \"prom/prometheus:latest\"", "prod"),
    case!("SG106", "error", "webhook_url = { env = \"SLACK_WEBHOOK_URL\" }" => "", "prod"),
    case!("SG106", "error", "[alertmanager]\n" => "[alertmanager]\nenabled = false\n", "prod"),
    case!("SG107", "error", "retention_size = \"10GiB\"" => "", "prod"),
    case!("SG108", "note", "image = \"redis:7.2\"" => "image = \"redis:7.2.4\"", "prod"),
    case!("SG110", "error", "[redis]\n" => "[[targets]]\nname = \"a\"\naddress = \"redis://a.example.com:6379\"\npassword = { file = \"secrets/redis_password.txt\" }\n\n[redis]\n", "prod"),
    case!("SG111", "warning", "[redis]\n" => "[[targets]]\nname = \"a\"\naddress = \"rediss://a.example.com\"\npassword = { file = \"secrets/redis_password.txt\" }\nlabels = { env = \"prod\" }\n[[alertmanager.routes]]\nmatch = { env = \"qa\" }\nchannel = \"#qa\"\n\n[redis]\n", "prod"),
    case!("SG201", "warning", "secrets/redis_password.txt" => "secrets/nope.txt", "prod"),
    case!("SG201", "error", "secrets/redis_password.txt" => "secrets/nope.txt", "prod", "--strict"),
    case!("SG201", "warning", "{ env = \"SLACK_WEBHOOK_URL\" }" => "{ env = \"STACKGEN_UNSET_VARIABLE\" }", "prod"),
    case!("SG202", "error", "secrets/redis_password.txt" => "../outside.txt", "prod"),
    case!("SG202", "error", "secrets/redis_password.txt" => "secrets", "prod"),
];

#[test]
fn every_rule_triggers_at_its_place() {
    let mut failures = Vec::new();
    for (code, severity, make, profile, args) in CASES {
        let project = clean_project(&example_stack());
        project.file("stack.toml", &make(project.path()));
        let mut all = vec!["-p", profile];
        all.extend(args.iter());
        let (run, findings) = lint(&project, &all);
        let hit = findings
            .iter()
            .find(|f| f["code"] == *code && f["severity"] == *severity);
        let expected_exit = if *severity == "error" { 1 } else { 0 };
        match hit {
            Some(f)
                if run.code == expected_exit
                    && f["file"] == "stack.toml"
                    && f["line"].as_u64().unwrap() > 1 => {}
            _ => failures.push(format!(
                "{code} ({severity}, {profile} {args:?}): exit {}, found {:?}\n{}",
                run.code,
                codes(&findings),
                run.stderr
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn secret_file_rules() {
    // SG202: a line break inside; empty; SG203: readable by others; SG204: Grafana `admin`.
    let project = clean_project(&example_stack());
    project.secret(
        "secrets/redis_password.txt",
        "CANARY-first\nCANARY-second\n",
    );
    let (run, findings) = lint(&project, &["-p", "prod"]);
    run.code(1);
    let broken = findings
        .iter()
        .find(|f| f["code"] == "SG202")
        .expect("SG202");
    assert!(
        broken["message"]
            .as_str()
            .unwrap()
            .contains("holds a line break"),
        "{broken}"
    );
    assert!(!serde_json::to_string(&findings).unwrap().contains("CANARY"));
    project.secret("secrets/redis_password.txt", "\n");
    // Readable by others.
    project.file("secrets/grafana_admin_password.txt", "admin\n");
    let (run, findings) = lint(&project, &["-p", "prod"]);
    run.code(1);
    let found = codes(&findings);
    for expected in ["SG202:error", "SG203:error", "SG204:error"] {
        assert!(
            found.contains(&expected.to_string()),
            "{expected} not in {found:?}"
        );
    }
    let (_, findings) = lint(&project, &["-p", "dev"]);
    let found = codes(&findings);
    for expected in ["SG202:error", "SG203:warning", "SG204:warning"] {
        assert!(
            found.contains(&expected.to_string()),
            "dev: {expected} not in {found:?}"
        );
    }
    project.secret("secrets/grafana_admin_password.txt", "not-admin\n");
    let (_, findings) = lint(&project, &["-p", "prod"]);
    let found = codes(&findings);
    assert!(
        !found
            .iter()
            .any(|c| c.starts_with("SG203") || c.starts_with("SG204")),
        "{found:?}"
    );

    // SG205: a webhook that is not a Slack one only warns.
    let project = clean_project(&example_stack());
    Run::of(
        project
            .command()
            .args(["lint", "-p", "prod", "--format", "json"])
            .env("SLACK_WEBHOOK_URL", "http://example.com/hook"),
    )
    .success()
    .stdout_has("SG205");

    // SG206: a heartbeat URL that is not a whole http(s) URL, a placeholder too, is an error;
    // its value is never shown.
    for bad in [
        "hc-ping.com/CANARY",
        "https://hc-ping.com/…CANARY",
        "https:// CANARY",
    ] {
        let run = Run::of(
            project
                .command()
                .args(["lint", "-p", "dev", "--format", "json"])
                .env("SLACK_WEBHOOK_URL", WEBHOOK)
                .env("HEARTBEAT_URL", bad),
        );
        let run = run.code(1);
        let findings = json_findings(&run);
        assert!(
            codes(&findings).contains(&"SG206:error".to_string()),
            "{bad}: {run}"
        );
        assert!(!run.stdout.contains("CANARY") && !run.stderr.contains("CANARY"));
    }
}

/// SG116: without a heartbeat the prod policy warns, at the policy key that asks for it; the
/// dev policy does not.
#[test]
fn prod_warns_without_a_heartbeat() {
    let without = example_stack().replace(
        "[alertmanager.heartbeat]\nurl = { env = \"HEARTBEAT_URL\" }\n",
        "",
    );
    assert_ne!(without, example_stack());
    let project = clean_project(&without);
    let (run, findings) = lint(&project, &["-p", "prod"]);
    run.success();
    let found = findings
        .iter()
        .find(|f| f["code"] == "SG116")
        .expect("SG116");
    assert_eq!(found["severity"], "warning");
    assert_eq!(found["file"], "<built-in>/profiles/prod.toml");
    let (_, findings) = lint(&project, &["-p", "dev"]);
    assert!(!codes(&findings).iter().any(|c| c.starts_with("SG116")));
}

/// Template overrides are where generated-output checks earn their keep.
#[test]
fn generated_output_rules() {
    let overrides: [(&str, &str, &str, &str); 5] = [
        (
            "SG301",
            "prometheus/prometheus.yml",
            "global:\n  a: 1\n  a: 2\n",
            "",
        ),
        (
            "SG302",
            "prometheus/prometheus.yml",
            "global:\n  scrape_interval: 1m\n  scrape_timeout: 2m\n",
            "",
        ),
        ("SG304", "prometheus/rules/redis-alerts.yml", "", ""),
        (
            "SG305",
            "alertmanager/alertmanager.yml",
            "route:\n  receiver: nobody\nreceivers:\n  - name: somebody\n",
            "",
        ),
        (
            "SG009",
            "prometheus/rules/redis-alerts.yml",
            "",
            "maxmemory_policy = \"noeviction\"",
        ),
    ];
    for (code, path, text, policy) in overrides {
        let stack = if policy.is_empty() {
            example_stack()
        } else {
            example_stack().replace("maxmemory_policy = \"allkeys-lru\"", policy)
        };
        let project = clean_project(&stack);
        let text = if text.is_empty() {
            // The built-in rules, with the latency threshold or the overflow metric changed.
            let built_in =
                std::fs::read_to_string(Path::new(ROOT).join("templates").join(path)).unwrap();
            let rules = built_in.replace("{{ rule.expr | yaml }}", "{{ rule.expr | replace(from=\"* 1000 > \", to=\"* 1000 > 1\") | replace(from=\"redis_errors_total{err=\\\"OOM\\\"}\", to=\"redis_evicted_keys_total\") | yaml }}");
            assert_ne!(rules, built_in);
            rules
        } else {
            text.to_string()
        };
        project.file(&format!("templates/{path}"), &text);
        let (run, findings) = lint(&project, &["-p", "prod"]);
        let found = codes(&findings);
        assert_eq!(run.code, 1, "{code}: {found:?} {run}");
        assert!(
            found.contains(&format!("{code}:error")),
            "{code} not in {found:?}"
        );
        if code != "SG009" {
            let finding = findings.iter().find(|f| f["code"] == code).unwrap();
            assert!(
                finding["file"]
                    .as_str()
                    .unwrap()
                    .starts_with("generated/prod/"),
                "{finding}"
            );
        }
        if code == "SG304" {
            let finding = findings.iter().find(|f| f["code"] == code).unwrap();
            assert!(
                finding["message"]
                    .as_str()
                    .unwrap()
                    .contains("RedisHighLatency is configured at stack.toml:"),
                "{finding}"
            );
        }
    }
}

#[test]
fn a_missing_checker_is_a_note_or_with_strict_an_error() {
    let project = clean_project(&example_stack());
    // A PATH without promtool and amtool.
    let empty = tempfile::tempdir().unwrap();
    for (strict, exit, finding) in [
        (&[][..], 0, "SG306:note"),
        (&["--strict"], 1, "SG306:error"),
    ] {
        let run = Run::of(
            project
                .command()
                .args(["lint", "-p", "prod", "--format", "json"])
                .args(strict)
                .env("PATH", empty.path())
                .env("SLACK_WEBHOOK_URL", WEBHOOK),
        );
        let findings = json_findings(&run);
        run.code(exit);
        let checkers: Vec<String> = codes(&findings)
            .into_iter()
            .filter(|c| c.starts_with("SG306"))
            .collect();
        assert_eq!(checkers, [finding, finding]);
    }
}

/// Done-when 3 and 4 of the issue: an unsafe stack fails prod, passes dev with warnings, and
/// the JSON output carries the same findings as the text.
#[test]
fn an_unsafe_stack_fails_prod_and_only_warns_in_dev() {
    let stack = "[stack]\nname = \"unsafe\"\n\n[redis]\nbind = \"0.0.0.0\"\npassword = { file = \"secrets/redis_password.txt\" }\n\n[prometheus]\nimage = \"prom/prometheus\"\nbind = \"0.0.0.0\"\n\n[grafana]\nbind = \"0.0.0.0\"\nadmin_user = \"admin\"\n";
    let project = Project::new(stack);
    project.secret("secrets/redis_password.txt", "pw");
    // The project's own profiles: policy only, so its binds stay as written.
    for name in ["prod.toml", "dev.toml"] {
        let built_in =
            std::fs::read_to_string(Path::new(ROOT).join("profiles").join(name)).unwrap();
        let policy_only = &built_in[built_in.find("\n[policy]").unwrap()..];
        project.file(&format!("profiles/{name}"), policy_only);
    }

    // No Slack variable: stackgen() removes it from every run.
    let text = project.run(["lint", "-p", "prod"]).code(1).stdout;
    for expected in [
        "stack.toml:5:1: error[SG101]: redis publishes port 6379 on 0.0.0.0",
        "stack.toml:9:1: error[SG105]: image `prom/prometheus` of prometheus is not pinned",
        "stack.toml:10:1: error[SG101]: prometheus publishes port 9090 on 0.0.0.0",
        "stack.toml:12:2: error[SG103]: Grafana's admin `admin` keeps the default password `admin`",
        "stack.toml:13:1: error[SG101]: grafana publishes port 3000 on 0.0.0.0",
        "stack.toml:8:2: error[SG107]: retention is bounded by time only",
        "stack.toml:1:1: error[SG106]: no Slack webhook: alerts reach no one",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    // Sorted by place.
    let places: Vec<(u64, u64)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("stack.toml:"))
        .map(|l| {
            let mut parts = l.split(':');
            (
                parts.next().unwrap().parse().unwrap(),
                parts.next().unwrap().parse().unwrap(),
            )
        })
        .collect();
    assert!(places.windows(2).all(|w| w[0] <= w[1]), "{places:?}");

    let findings = json_findings(
        &project
            .run(["lint", "-p", "prod", "--format", "json"])
            .code(1),
    );
    let from_json: Vec<String> = findings
        .iter()
        .map(|f| {
            format!(
                "{}:{}:{}: {}[{}]: {}",
                f["file"].as_str().unwrap(),
                f["line"],
                f["column"],
                f["severity"].as_str().unwrap(),
                f["code"].as_str().unwrap(),
                f["message"].as_str().unwrap()
            )
        })
        .collect();
    let from_text: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("    hint:"))
        .collect();
    assert_eq!(from_json, from_text);

    let text = project.run(["lint", "-p", "dev"]).success().stdout;
    assert!(
        text.contains("warning[SG101]")
            && text.contains("warning[SG105]")
            && text.contains("warning[SG103]"),
        "{text}"
    );
    assert!(!text.contains("error["), "{text}");
    project
        .run(["lint", "-p", "dev", "--deny-warnings"])
        .code(1);
}

#[test]
fn explain_describes_a_rule() {
    let stdout = run_in(Path::new(ROOT), ["lint", "--explain", "SG003"])
        .success()
        .stdout;
    assert!(
        stdout.starts_with("SG003: maxmemory is above 80 % of memory_limit"),
        "{stdout}"
    );
    run_in(Path::new(ROOT), ["lint", "--explain", "SG999"])
        .code(2)
        .stderr_has("no rule `SG999`");
}

#[test]
fn no_finding_shows_a_secret_value() {
    // Readable by others, so that lint looks at them.
    let project = Project::example();
    project
        .file("secrets/redis_password.txt", "CANARY-redis-1")
        .file("secrets/grafana_admin_password.txt", "CANARY-grafana-2");
    let webhook = "http://CANARY-webhook-3.example.com/";
    let mut output = String::new();
    for format in ["human", "json"] {
        for profile in ["dev", "prod"] {
            let run = Run::of(
                project
                    .command()
                    .args(["lint", "-p", profile, "--format", format, "--strict"])
                    .env("SLACK_WEBHOOK_URL", webhook),
            );
            output.push_str(&run.stdout);
            output.push_str(&run.stderr);
        }
    }
    assert!(
        output.contains("SG205") && output.contains("SG203"),
        "the canaries were looked at: {output}"
    );
    assert!(
        !output.contains("CANARY"),
        "a secret value was shown:\n{output}"
    );
    let run = Run::of(
        project
            .command()
            .arg("diff")
            .env("SLACK_WEBHOOK_URL", webhook),
    );
    assert!(!run.stdout.contains("CANARY") && !run.stderr.contains("CANARY"));
}

/// SG109: only a template override can take a service's limits away; prod warns, dev does not.
#[test]
fn a_service_without_limits_warns_under_prod() {
    let project = clean_project(&example_stack());
    let template = include_str!("../../templates/compose.yaml");
    let limits = "    mem_limit: {{ e.memory_limit_bytes | compose }}\n    cpus: {{ e.cpus }}\n";
    assert!(template.contains(limits));
    project.file("templates/compose.yaml", &template.replace(limits, ""));
    let (run, findings) = lint(&project, &["-p", "prod"]);
    run.success();
    let found: Vec<&Value> = findings.iter().filter(|f| f["code"] == "SG109").collect();
    assert_eq!(found.len(), 1, "{findings:?}");
    assert_eq!(found[0]["severity"], "warning");
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("redis-exporter runs without mem_limit and cpus"),
        "{found:?}"
    );
    let (_, findings) = lint(&project, &["-p", "dev"]);
    assert!(
        findings.iter().all(|f| f["code"] != "SG109"),
        "{findings:?}"
    );
}

/// `--format sarif` is a SARIF 2.1.0 log its schema accepts, with a result per finding at its
/// place; `--format github` prints one workflow command per finding, in the commands' grammar.
/// Exit codes as with the other formats.
#[test]
fn sarif_and_github_formats_carry_every_finding() {
    let stack = example_stack()
        .replacen("image = \"redis:7.2\"", "image = \"redis\"", 1)
        .replacen("retention_size = \"10GiB\"", "", 1);
    let project = clean_project(&stack);
    let (run, json) = lint(&project, &["-p", "prod"]);
    run.code(1);
    let sarif = lint_as(&project, "sarif", &["-p", "prod"]).code(1);
    let log: Value = serde_json::from_str(&sarif.stdout).unwrap();
    // The rtm.5 schema's patterns of `language` have a stray `]` that the validator's check of
    // the schema itself refuses; the final OASIS schema reads as below. The log sets no
    // `language`; the vendored file stays as published.
    let published = published_schema("sarif-2.1.0.json").to_string();
    let stray = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#.replace('\\', "\\\\");
    assert_eq!(published.matches(&stray).count(), 2);
    let fixed = published.replace(&stray, r#""^[a-zA-Z]{2}$|^[a-zA-Z]{2}-[a-zA-Z]{2}$""#);
    let sarif_schema: Value = serde_json::from_str(&fixed).unwrap();
    let schema = jsonschema::validator_for(&sarif_schema).unwrap();
    let errors: Vec<String> = schema.iter_errors(&log).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), json.len());
    let unpinned = results.iter().find(|r| r["ruleId"] == "SG105").unwrap();
    assert_eq!(unpinned["level"], "error");
    let place = &unpinned["locations"][0]["physicalLocation"];
    assert_eq!(place["artifactLocation"]["uri"], "stack.toml");
    let expected = json.iter().find(|f| f["code"] == "SG105").unwrap();
    assert_eq!(place["region"]["startLine"], expected["line"]);

    let github = lint_as(&project, "github", &["-p", "prod"]).code(1);
    let lines: Vec<&str> = github.stdout.lines().collect();
    assert_eq!(lines.len(), json.len(), "{github}");
    for (line, finding) in lines.iter().zip(&json) {
        let (command, rest) = line
            .strip_prefix("::")
            .and_then(|l| l.split_once(' '))
            .unwrap_or_else(|| panic!("not a workflow command: {line}"));
        let level = match finding["severity"].as_str().unwrap() {
            "note" => "notice",
            other => other,
        };
        assert_eq!(command, level, "{line}");
        let (properties, message) = rest.split_once("::").unwrap();
        assert!(!message.is_empty() && !message.contains('\n'));
        for pair in properties.split(',') {
            let (key, value) = pair.split_once('=').unwrap_or_else(|| panic!("{line}"));
            assert!(["file", "line", "col", "title"].contains(&key), "{line}");
            assert!(!value.contains(':') && !value.is_empty(), "{line}");
        }
        if finding["file"] == "stack.toml" {
            let at = format!(
                "file=stack.toml,line={},col={},",
                finding["line"], finding["column"]
            );
            assert!(properties.starts_with(&at), "{line}");
        }
    }
    // A clean run: exit 0, and an empty log's results.
    let clean = clean_project(&example_stack());
    let sarif = lint_as(&clean, "sarif", &["-p", "dev"]).success();
    let log: Value = serde_json::from_str(&sarif.stdout).unwrap();
    assert!(schema.is_valid(&log));
}
