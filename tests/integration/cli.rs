//! The command-line contract: exit codes, `render --check`, what render may remove, `schema`,
//! `init`, profiles and template overrides.

use std::path::Path;

use crate::support::*;

#[test]
fn render_check_reports_missing_and_hand_edited_files() {
    let dir = project(&example_stack());
    let (code, _, stderr) = run(stackgen(dir.path()).args(["render", "--check"]));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("generated/dev/compose.yaml: missing"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("generated").exists(),
        "--check wrote files"
    );

    assert_eq!(run(stackgen(dir.path()).arg("render")).0, 0);
    let (code, _, stderr) = run(stackgen(dir.path()).args(["render", "--check"]));
    assert_eq!(code, 0, "{stderr}");

    let edited = dir.path().join("generated/prod/redis/redis.conf");
    let mut text = std::fs::read_to_string(&edited).unwrap();
    text.push_str("maxmemory 1\n");
    std::fs::write(&edited, &text).unwrap();
    let (code, _, stderr) = run(stackgen(dir.path()).args(["render", "--check"]));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("generated/prod/redis/redis.conf: out of date"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&edited).unwrap(),
        text,
        "--check rewrote the file"
    );

    let (code, _, stderr) = run(stackgen(dir.path()).arg("render"));
    assert_eq!(code, 0);
    assert!(
        stderr.contains("updated generated/prod/redis/redis.conf"),
        "{stderr}"
    );
    assert!(stderr.contains("1 file changed"), "{stderr}");
}

#[test]
fn disabling_a_service_removes_only_its_generated_files() {
    let dir = project(&example_stack());
    assert_eq!(run(stackgen(dir.path()).arg("render")).0, 0);
    let own = dir.path().join("generated/dev/grafana/notes.txt");
    std::fs::write(&own, "mine\n").unwrap();

    let stack = example_stack().replace("[grafana]\nenabled = true", "[grafana]\nenabled = false");
    std::fs::write(dir.path().join("stack.toml"), stack).unwrap();
    let (code, _, stderr) = run(stackgen(dir.path()).args(["render", "-p", "dev"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("removed generated/dev/grafana/dashboards/redis.json"),
        "{stderr}"
    );
    assert!(!dir.path().join("generated/dev/grafana/dashboards").exists());
    assert!(
        !dir.path()
            .join("generated/dev/grafana/provisioning")
            .exists()
    );
    assert_eq!(
        std::fs::read_to_string(&own).unwrap(),
        "mine\n",
        "a file stackgen did not write was touched"
    );
    // --profile limits the work to one tree.
    assert!(
        dir.path()
            .join("generated/prod/grafana/dashboards/redis.json")
            .exists()
    );
    let compose = std::fs::read_to_string(dir.path().join("generated/dev/compose.yaml")).unwrap();
    assert!(!compose.contains("grafana"), "{compose}");
}

#[test]
fn schema_command_matches_the_committed_schema() {
    let (code, stdout, _) = run(stackgen(Path::new(ROOT)).arg("schema"));
    assert_eq!(code, 0);
    let committed = std::fs::read_to_string(Path::new(ROOT).join("stack.schema.json")).unwrap();
    assert!(
        stdout == committed,
        "stack.schema.json drifted: run `cargo run -- schema > stack.schema.json`\n{}",
        diff(&committed, &stdout)
    );
    let schema: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    // The example validates against it, and a typo does not.
    let validator = jsonschema::validator_for(&schema).unwrap();
    let example: serde_json::Value = toml::from_str(&example_stack()).unwrap();
    assert!(
        validator.is_valid(&example),
        "the example does not follow the schema"
    );
    let typo: serde_json::Value = toml::from_str("[redis]\nmaxmem = \"1GiB\"\n").unwrap();
    assert!(!validator.is_valid(&typo));
}

#[test]
fn init_writes_a_project_that_renders_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("My Stack");
    let (code, _, stderr) = run(stackgen(dir.path()).args(["init", "My Stack"]));
    assert_eq!(code, 0, "{stderr}");
    for file in [
        "stack.toml",
        "stack.schema.json",
        ".gitignore",
        "profiles/dev.toml",
        "profiles/prod.toml",
    ] {
        assert!(target.join(file).is_file(), "init did not write {file}");
    }
    let stack = std::fs::read_to_string(target.join("stack.toml")).unwrap();
    assert!(stack.contains("name = \"my-stack\""), "{stack}");
    let gitignore = std::fs::read_to_string(target.join(".gitignore")).unwrap();
    assert!(
        gitignore.contains("\nsecrets/\n") && gitignore.contains("\n.stackgen/\n"),
        "{gitignore}"
    );
    let (code, _, stderr) = run(stackgen(&target).arg("render"));
    assert_eq!(code, 0, "{stderr}");

    let before = snapshot(&target);
    let (code, _, stderr) = run(stackgen(dir.path()).args(["init", "My Stack"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("not overwriting"), "{stderr}");
    assert_eq!(before, snapshot(&target));
}

#[test]
fn a_project_profiles_folder_replaces_the_built_in_profiles() {
    let dir = project("[stack]\nname = \"p\"\nprofile = \"staging\"\n");
    std::fs::create_dir(dir.path().join("profiles")).unwrap();
    std::fs::write(
        dir.path().join("profiles/staging.toml"),
        "[redis]\nmaxmemory = \"1GiB\"\n[policy]\nlevel = \"error\"\n",
    )
    .unwrap();
    let (code, _, stderr) = run(stackgen(dir.path()).arg("render"));
    assert_eq!(code, 0, "{stderr}");
    let conf =
        std::fs::read_to_string(dir.path().join("generated/staging/redis/redis.conf")).unwrap();
    assert!(conf.contains("maxmemory 1073741824\n"), "{conf}");
    assert!(!dir.path().join("generated/dev").exists());

    let (code, _, stderr) = run(stackgen(dir.path()).args(["render", "-p", "prod"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown profile `prod`"), "{stderr}");
}

#[test]
fn the_profile_overlay_wins_over_stack_toml() {
    let dir = project(&example_stack());
    assert_eq!(run(stackgen(dir.path()).arg("render")).0, 0);
    let dev = std::fs::read_to_string(dir.path().join("generated/dev/compose.yaml")).unwrap();
    let prod = std::fs::read_to_string(dir.path().join("generated/prod/compose.yaml")).unwrap();
    assert!(dev.contains("\"0.0.0.0:9090:9090\""), "{dev}");
    assert!(prod.contains("\"127.0.0.1:9090:9090\""), "{prod}");
}

#[test]
fn a_template_override_replaces_one_file() {
    let dir = project(&example_stack());
    std::fs::create_dir_all(dir.path().join("templates/redis")).unwrap();
    std::fs::write(
        dir.path().join("templates/redis/redis.conf"),
        "# custom for {{ stack.name }}\nmaxmemory {{ stack.redis.maxmemory_bytes }}\n",
    )
    .unwrap();
    let (code, _, stderr) = run(stackgen(dir.path()).args(["render", "-p", "dev"]));
    assert_eq!(code, 0, "{stderr}");
    let conf = std::fs::read_to_string(dir.path().join("generated/dev/redis/redis.conf")).unwrap();
    assert_eq!(conf, "# custom for bluesky\nmaxmemory 1610612736\n");
    let compose = std::fs::read_to_string(dir.path().join("generated/dev/compose.yaml")).unwrap();
    assert!(
        compose.contains("bluesky-redis"),
        "the other files keep the built-in templates"
    );
}

#[test]
fn template_errors_exit_2_name_the_template_and_write_nothing() {
    let dir = project(&example_stack());
    std::fs::create_dir_all(dir.path().join("templates/prometheus")).unwrap();
    std::fs::write(
        dir.path().join("templates/prometheus/prometheus.yml"),
        "global:\n  scrape_interval: {{ stack.prometheus.no_such_key }}\n",
    )
    .unwrap();
    let (code, _, stderr) = run(stackgen(dir.path()).arg("render"));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("templates/prometheus/prometheus.yml"),
        "{stderr}"
    );
    assert!(
        stderr.contains(":2:"),
        "the error gives the template line: {stderr}"
    );
    assert!(!dir.path().join("generated").exists());

    // An override whose output is not valid YAML is caught before anything is written.
    std::fs::write(
        dir.path().join("templates/prometheus/prometheus.yml"),
        "a: 1\na: 2\n",
    )
    .unwrap();
    let (code, _, stderr) = run(stackgen(dir.path()).arg("render"));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("generated/dev/prometheus/prometheus.yml is not valid"),
        "{stderr}"
    );
    assert!(!dir.path().join("generated").exists());

    // A file that overrides nothing is a typo worth stopping for.
    std::fs::remove_file(dir.path().join("templates/prometheus/prometheus.yml")).unwrap();
    std::fs::write(dir.path().join("templates/prometheus/prometheus.yaml"), "x").unwrap();
    let (code, _, stderr) = run(stackgen(dir.path()).arg("render"));
    assert_eq!(code, 2);
    assert!(stderr.contains("replaces no generated file"), "{stderr}");
}

#[test]
fn go_template_text_survives_rendering() {
    let dir = project(&example_stack());
    assert_eq!(run(stackgen(dir.path()).arg("render")).0, 0);
    let g = dir.path().join("generated/dev");
    let rules = std::fs::read_to_string(g.join("prometheus/rules/redis-alerts.yml")).unwrap();
    assert!(
        rules.contains("\"Redis is down on {{ $labels.instance }}\""),
        "{rules}"
    );
    let slack = std::fs::read_to_string(g.join("alertmanager/templates/slack.tmpl")).unwrap();
    assert!(
        slack.contains("{{ define \"stackgen.slack.title\" -}}"),
        "{slack}"
    );
    assert!(slack.contains("{{ range .Alerts -}}"), "{slack}");
    let am = std::fs::read_to_string(g.join("alertmanager/alertmanager.yml")).unwrap();
    assert!(
        am.contains("'{{ template \"stackgen.slack.text\" . }}'"),
        "{am}"
    );
}

#[test]
fn a_missing_stack_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(stackgen(dir.path()).arg("render"));
    assert_eq!(code, 2);
    assert!(stderr.contains("stack.toml: not found"), "{stderr}");
    assert!(stderr.contains("stackgen init"), "{stderr}");
}

#[test]
fn quiet_and_verbose() {
    let dir = project(&example_stack());
    let (code, stdout, stderr) = run(stackgen(dir.path()).args(["render", "-q"]));
    assert_eq!((code, stdout.as_str(), stderr.as_str()), (0, "", ""));
    let (code, _, stderr) = run(stackgen(dir.path()).args(["render", "-v"]));
    assert_eq!(code, 0);
    assert!(
        stderr.contains("unchanged generated/prod/redis/redis.conf"),
        "{stderr}"
    );
    assert!(stderr.contains("generated/ is up to date."), "{stderr}");
}

#[test]
fn init_in_a_repository_appends_to_its_gitignore() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".gitignore"), "/target\nsecrets/").unwrap();
    let (code, _, stderr) = run(stackgen(dir.path()).arg("init"));
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read_to_string(dir.path().join(".gitignore")).unwrap();
    assert_eq!(text.matches("secrets/").count(), 1, "{text}");
    assert!(
        text.starts_with("/target\nsecrets/\n") && text.ends_with("\n.stackgen/\n"),
        "{text}"
    );
    assert!(dir.path().join("stack.toml").is_file());
}

#[test]
fn a_dollar_sign_reaches_compose_escaped() {
    let stack = example_stack().replace("admin_user = \"admin\"", "admin_user = \"ops$admin\"");
    let dir = project(&stack);
    assert_eq!(
        run(stackgen(dir.path()).args(["render", "-p", "prod"])).0,
        0
    );
    let compose = std::fs::read_to_string(dir.path().join("generated/prod/compose.yaml")).unwrap();
    assert!(
        compose.contains("GF_SECURITY_ADMIN_USER: \"ops$$admin\""),
        "{compose}"
    );
    // What `docker compose` and `stackgen up` read back is the name as written.
    let spec =
        stackgen::docker::compose::StackSpec::from_compose(&compose, Path::new("/x")).unwrap();
    let grafana = spec
        .containers
        .iter()
        .find(|c| c.service == "grafana")
        .unwrap();
    assert!(
        grafana
            .env
            .contains(&"GF_SECURITY_ADMIN_USER=ops$admin".to_string()),
        "{:?}",
        grafana.env
    );
}
