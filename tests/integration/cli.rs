//! The command-line contract: exit codes, `render --check`, what render may remove, `schema`,
//! `init`, profiles and template overrides.

use std::path::Path;

use crate::support::*;

#[test]
fn render_check_reports_missing_and_hand_edited_files() {
    let project = Project::example();
    project
        .run(["render", "--check"])
        .code(1)
        .stderr_has("generated/dev/compose.yaml: missing");
    assert!(
        !project.path().join("generated").exists(),
        "--check wrote files"
    );

    project.run(["render"]).success();
    project.run(["render", "--check"]).success();

    let edited = "generated/prod/redis/redis.conf";
    let text = project.read(edited) + "maxmemory 1\n";
    project.file(edited, &text);
    project
        .run(["render", "--check"])
        .code(1)
        .stderr_has("generated/prod/redis/redis.conf: out of date");
    assert_eq!(project.read(edited), text, "--check rewrote the file");

    project
        .run(["render"])
        .success()
        .stderr_has("updated generated/prod/redis/redis.conf")
        .stderr_has("1 file changed");
}

#[test]
fn disabling_a_service_removes_only_its_generated_files() {
    let project = Project::example();
    project.run(["render"]).success();
    project.file("generated/dev/grafana/notes.txt", "mine\n");

    let stack = example_stack().replace("[grafana]\nenabled = true", "[grafana]\nenabled = false");
    project.file("stack.toml", &stack);
    project
        .run(["render", "-p", "dev"])
        .success()
        .stderr_has("removed generated/dev/grafana/dashboards/redis.json");
    let dir = project.path();
    assert!(!dir.join("generated/dev/grafana/dashboards").exists());
    assert!(!dir.join("generated/dev/grafana/provisioning").exists());
    assert_eq!(
        project.read("generated/dev/grafana/notes.txt"),
        "mine\n",
        "a file stackgen did not write was touched"
    );
    // --profile limits the work to one tree.
    assert!(
        dir.join("generated/prod/grafana/dashboards/redis.json")
            .exists()
    );
    let compose = project.read("generated/dev/compose.yaml");
    assert!(!compose.contains("grafana"), "{compose}");
}

#[test]
fn schema_command_matches_the_committed_schema() {
    let stdout = run_in(Path::new(ROOT), ["schema"]).success().stdout;
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
    let project = Project::empty();
    let target = project.path().join("My Stack");
    project.run(["init", "My Stack"]).success();
    for file in [
        "stack.toml",
        "stack.schema.json",
        ".gitignore",
        "profiles/dev.toml",
        "profiles/prod.toml",
    ] {
        assert!(target.join(file).is_file(), "init did not write {file}");
    }
    let stack = project.read("My Stack/stack.toml");
    assert!(stack.contains("name = \"my-stack\""), "{stack}");
    let gitignore = project.read("My Stack/.gitignore");
    assert!(
        gitignore.contains("\nsecrets/\n") && gitignore.contains("\n.stackgen/\n"),
        "{gitignore}"
    );
    run_in(&target, ["render"]).success();

    let before = snapshot(&target);
    project
        .run(["init", "My Stack"])
        .code(2)
        .stderr_has("not overwriting");
    assert_eq!(before, snapshot(&target));
}

#[test]
fn a_project_profiles_folder_replaces_the_built_in_profiles() {
    let project = Project::new("[stack]\nname = \"p\"\nprofile = \"staging\"\n");
    project.file(
        "profiles/staging.toml",
        "[redis]\nmaxmemory = \"1GiB\"\n[policy]\nlevel = \"error\"\n",
    );
    project.run(["render"]).success();
    let conf = project.read("generated/staging/redis/redis.conf");
    assert!(conf.contains("maxmemory 1073741824\n"), "{conf}");
    assert!(!project.path().join("generated/dev").exists());

    project
        .run(["render", "-p", "prod"])
        .code(2)
        .stderr_has("unknown profile `prod`");
}

#[test]
fn the_profile_overlay_wins_over_stack_toml() {
    let project = Project::example();
    let stack = project.read("stack.toml");
    let open = "[prometheus]\nimage = \"prom/prometheus:v2.53.0\"\nbind = \"0.0.0.0\"";
    project.file(
        "stack.toml",
        &stack.replace(&open.replace("0.0.0.0", "127.0.0.1"), open),
    );
    project.run(["render"]).success();
    let dev = project.read("generated/dev/compose.yaml");
    let prod = project.read("generated/prod/compose.yaml");
    assert!(dev.contains("\"0.0.0.0:9090:9090\""), "{dev}");
    assert!(prod.contains("\"127.0.0.1:9090:9090\""), "{prod}");
}

#[test]
fn a_template_override_replaces_one_file() {
    let project = Project::example();
    project.file(
        "templates/redis/redis.conf",
        "# custom for {{ stack.name }}\nmaxmemory {{ stack.redis.maxmemory_bytes }}\n",
    );
    project.run(["render", "-p", "dev"]).success();
    let conf = project.read("generated/dev/redis/redis.conf");
    assert_eq!(conf, "# custom for bluesky\nmaxmemory 1610612736\n");
    let compose = project.read("generated/dev/compose.yaml");
    assert!(
        compose.contains("bluesky-redis"),
        "the other files keep the built-in templates"
    );
}

#[test]
fn template_errors_exit_2_name_the_template_and_write_nothing() {
    let project = Project::example();
    project.file(
        "templates/prometheus/prometheus.yml",
        "global:\n  scrape_interval: {{ stack.prometheus.no_such_key }}\n",
    );
    let run = project
        .run(["render"])
        .code(2)
        .stderr_has("templates/prometheus/prometheus.yml");
    assert!(
        run.stderr.contains(":2:"),
        "the error gives the template line: {run}"
    );
    assert!(!project.path().join("generated").exists());

    // An override whose output is not valid YAML is caught before anything is written.
    project.file("templates/prometheus/prometheus.yml", "a: 1\na: 2\n");
    project
        .run(["render"])
        .code(2)
        .stderr_has("generated/dev/prometheus/prometheus.yml is not valid");
    assert!(!project.path().join("generated").exists());

    // A file that overrides nothing is a typo worth stopping for.
    std::fs::remove_file(project.path().join("templates/prometheus/prometheus.yml")).unwrap();
    project.file("templates/prometheus/prometheus.yaml", "x");
    project
        .run(["render"])
        .code(2)
        .stderr_has("replaces no generated file");
}

#[test]
fn go_template_text_survives_rendering() {
    let project = Project::rendered_example();
    let rules = project.read("generated/dev/prometheus/rules/redis-alerts.yml");
    assert!(
        rules.contains("\"Redis is down on {{ $labels.instance }}\""),
        "{rules}"
    );
    let slack = project.read("generated/dev/alertmanager/templates/slack.tmpl");
    assert!(
        slack.contains("{{ define \"stackgen.slack.title\" -}}"),
        "{slack}"
    );
    assert!(slack.contains("{{ range .Alerts -}}"), "{slack}");
    let am = project.read("generated/dev/alertmanager/alertmanager.yml");
    assert!(
        am.contains("'{{ template \"stackgen.slack.text\" . }}'"),
        "{am}"
    );
}

#[test]
fn a_missing_stack_file_exits_2() {
    Project::empty()
        .run(["render"])
        .code(2)
        .stderr_has("stack.toml: not found")
        .stderr_has("stackgen init");
}

#[test]
fn quiet_and_verbose() {
    let project = Project::example();
    let run = project.run(["render", "-q"]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "")
    );
    project
        .run(["render", "-v"])
        .success()
        .stderr_has("unchanged generated/prod/redis/redis.conf")
        .stderr_has("generated/ is up to date.");
}

#[test]
fn init_in_a_repository_appends_to_its_gitignore() {
    let project = Project::empty();
    project.file(".gitignore", "/target\nsecrets/");
    project.run(["init"]).success();
    let text = project.read(".gitignore");
    assert_eq!(text.matches("secrets/").count(), 1, "{text}");
    assert!(
        text.starts_with("/target\nsecrets/\n") && text.ends_with("\n.stackgen/\n"),
        "{text}"
    );
    assert!(project.path().join("stack.toml").is_file());
}

#[test]
fn a_dollar_sign_reaches_compose_escaped() {
    let stack = example_stack().replace("admin_user = \"admin\"", "admin_user = \"ops$admin\"");
    let project = Project::new(&stack);
    project.run(["render", "-p", "prod"]).success();
    let compose = project.read("generated/prod/compose.yaml");
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

#[test]
fn templates_are_listed_and_exported_to_start_an_override() {
    let project = Project::rendered_example();
    let listed = project.run(["templates"]).success().stdout;
    assert!(listed.contains("prometheus/prometheus.yml"), "{listed}");
    assert_eq!(listed.lines().count(), 34, "{listed}");
    project
        .run([
            "templates",
            "--export",
            "templates",
            "prometheus/prometheus.yml",
        ])
        .success()
        .stderr_has("created templates/prometheus/prometheus.yml");
    let copy = project.read("templates/prometheus/prometheus.yml");
    assert_eq!(
        copy,
        include_str!("../../templates/prometheus/prometheus.yml")
    );
    // The copy is an override that renders as the built-in one did; a second export refuses.
    project.run(["render", "--check"]).success();
    project
        .run([
            "templates",
            "--export",
            "templates",
            "prometheus/prometheus.yml",
        ])
        .code(2)
        .stderr_has("not overwriting existing files");
    project
        .run(["templates", "--export", "t", "nope.yml"])
        .code(2)
        .stderr_has("no built-in template `nope.yml`");
}

#[test]
fn quiet_lint_prints_errors_only_and_help_lists_only_used_options() {
    let project = Project::example();
    let stack = project.read("stack.toml");
    let stack = stack.replace(
        "bind = \"127.0.0.1\"\nport = 9121",
        "bind = \"0.0.0.0\"\nport = 9121",
    );
    project.file(
        "stack.toml",
        &stack.replace("retention_size = \"10GiB\"\n", ""),
    );
    // prod: an error (SG107) and warnings (secrets not there yet); only the error shows.
    let run = project.run(["lint", "-q", "-p", "prod"]).code(1);
    assert!(run.stdout.contains("error[SG107]"), "{}", run.stdout);
    assert!(!run.stdout.contains("warning["), "{}", run.stdout);
    // dev: only warnings (SG101 among them), so nothing at all.
    let run = project.run(["lint", "-q", "-p", "dev"]).success();
    assert_eq!(run.stdout, "");
    let run = project.run(["lint", "-p", "dev"]).success();
    assert!(run.stdout.contains("warning[SG101]"), "{}", run.stdout);
    for command in ["init", "schema", "templates"] {
        let help = project.run([command, "--help"]).success().stdout;
        assert!(
            !help.contains("--file") && !help.contains("--profile"),
            "{help}"
        );
    }
    let help = project.run(["up", "--help"]).success().stdout;
    assert!(
        help.contains("--file") && help.contains("--profile"),
        "{help}"
    );
}

/// `completions`: bash's script parses (`bash -n`), and zsh's and fish's name every command;
/// `man`: a page per command, each rendered by groff without a warning.
#[test]
fn completions_parse_and_every_command_has_a_man_page() {
    let dir = tempfile::tempdir().unwrap();
    let commands = [
        "init",
        "render",
        "diff",
        "lint",
        "schema",
        "templates",
        "up",
        "down",
        "drill",
        "status",
        "completions",
        "man",
    ];
    let bash = run_in(dir.path(), ["completions", "bash"]).success();
    let script = dir.path().join("stackgen.bash");
    std::fs::write(&script, &bash.stdout).unwrap();
    let parsed = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        parsed.status.success(),
        "{}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = run_in(dir.path(), ["completions", shell]).success();
        for command in commands {
            assert!(run.stdout.contains(command), "{shell} lacks {command}");
        }
    }
    run_in(dir.path(), ["completions", "tcsh"]).code(2);

    let man = dir.path().join("man/man1");
    run_in(dir.path(), ["man", man.to_str().unwrap()]).success();
    let mut pages: Vec<String> = std::fs::read_dir(&man)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    pages.sort();
    let mut expected: Vec<String> = commands.iter().map(|c| format!("stackgen-{c}.1")).collect();
    expected.push("stackgen.1".into());
    expected.sort();
    assert_eq!(pages, expected);
    for page in &pages {
        let rendered = std::process::Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .arg(man.join(page))
            .output()
            .expect("groff is installed");
        assert!(
            rendered.status.success() && rendered.stderr.is_empty(),
            "{page}: {}",
            String::from_utf8_lossy(&rendered.stderr)
        );
    }
    // A second run replaces the pages.
    run_in(dir.path(), ["man", man.to_str().unwrap()]).success();
}

/// `.pre-commit-hooks.yaml`: each hook's entry, run as pre-commit runs it (in the project's
/// folder, no file names), passes on a rendered, clean project and fails when what it guards
/// is broken.
#[test]
fn the_pre_commit_hooks_pass_a_clean_project_and_catch_a_broken_one() {
    let text = std::fs::read_to_string(Path::new(ROOT).join(".pre-commit-hooks.yaml")).unwrap();
    let hooks: serde_json::Value = stackgen::yaml::from_str(&text).unwrap();
    let hooks = hooks.as_array().unwrap();
    let ids: Vec<&str> = hooks.iter().map(|h| h["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["stackgen-render-check", "stackgen-lint"]);
    let project = Project::rendered_example();
    project
        .secret("secrets/redis_password.txt", "s3cret-redis\n")
        .secret("secrets/grafana_admin_password.txt", "s3cret-grafana\n");
    let hook = |id: &str| -> Run {
        let hook = hooks.iter().find(|h| h["id"] == id).unwrap();
        assert_eq!(hook["pass_filenames"], false);
        let entry: Vec<&str> = hook["entry"].as_str().unwrap().split(' ').collect();
        assert_eq!(entry[0], "stackgen");
        Run::of(
            stackgen(project.path())
                .args(&entry[1..])
                .env(
                    "SLACK_WEBHOOK_URL",
                    "https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcDEF123ghiJKL456mno",
                )
                .env("HEARTBEAT_URL", "https://hc-ping.com/0f9a6d1e"),
        )
    };
    hook("stackgen-render-check").success();
    hook("stackgen-lint").success();
    // A threshold changed without `render`: the check fails; an unpinned image: lint fails.
    let stack = project.read("stack.toml");
    project.file(
        "stack.toml",
        &stack.replacen("threshold_ms = 10", "threshold_ms = 20", 1),
    );
    hook("stackgen-render-check").code(1);
    project.file(
        "stack.toml",
        &stack.replacen("image = \"redis:7.2\"", "image = \"redis\"", 1),
    );
    hook("stackgen-lint").code(1);
}

/// Each command's `--help` lists the flags it takes and no other, says what `-p` means for it,
/// and ends with examples; `-f` and `-p` work before the command too, and only for the commands
/// that read a stack.toml.
#[test]
fn every_help_fits_its_command_and_has_examples() {
    let dir = tempfile::tempdir().unwrap();
    let global = ["--color", "--quiet", "--verbose", "--help"];
    let project = ["--file", "--profile"];
    let own: &[(&str, &[&str])] = &[
        ("init", &[]),
        ("render", &["--check"]),
        ("diff", &["--stat", "--exit-zero", "--format", "--impact"]),
        (
            "lint",
            &[
                "--format",
                "--deny-warnings",
                "--strict",
                "--live",
                "--explain",
            ],
        ),
        ("schema", &[]),
        ("templates", &["--export"]),
        ("up", &["--timeout", "--dry-run", "--wait-scrape"]),
        ("down", &["--volumes"]),
        (
            "drill",
            &[
                "--duration",
                "--clients",
                "--pipeline",
                "--value-size",
                "--format",
                "--allow-prod",
                "--allow-eviction",
                "--quick",
                "--report",
            ],
        ),
        ("status", &["--format"]),
        ("completions", &[]),
        ("man", &[]),
    ];
    let reads_project = ["render", "diff", "lint", "up", "down", "drill", "status"];
    for (command, flags) in own {
        let help = run_in(dir.path(), [*command, "--help"]).success().stdout;
        let listed: Vec<String> = help
            .lines()
            .filter_map(|l| l.trim_start().split("--").nth(1))
            .map(|rest| format!("--{}", rest.split([' ', ',']).next().unwrap()))
            .filter(|f| f.len() > 2)
            .collect();
        let mut allowed: Vec<&str> = global.iter().chain(flags.iter()).copied().collect();
        if reads_project.contains(command) {
            allowed.extend(project);
            assert!(help.contains("-p, --profile"), "{command}: {help}");
        } else {
            assert!(!help.contains("--profile"), "{command}: {help}");
        }
        for flag in &listed {
            // Examples and descriptions may name flags of the same command only.
            assert!(
                allowed.contains(&flag.as_str()),
                "{command} --help names {flag}:\n{help}"
            );
        }
        for flag in flags.iter() {
            assert!(
                listed.iter().any(|l| l == flag),
                "{command} --help lacks {flag}"
            );
        }
        let examples = help
            .split("Examples:")
            .nth(1)
            .unwrap_or_else(|| panic!("{command}"));
        let lines = examples
            .lines()
            .filter(|l| l.trim_start().starts_with("stackgen"));
        assert!((1..=3).contains(&lines.count()), "{command}: {examples}");
        assert!(!help.contains("the plan of `up`"), "{command}");
    }
    let render = run_in(dir.path(), ["render", "--help"]).success().stdout;
    assert!(render.contains("[default: every profile]"), "{render}");
    let up = run_in(dir.path(), ["up", "--help"]).success().stdout;
    assert!(!up.contains("every profile"), "{up}");

    // -f and -p before the command.
    let project = Project::example();
    let sub = project.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let file = project.path().join("stack.toml");
    let before = run_in(
        &sub,
        [
            "-f",
            file.to_str().unwrap(),
            "-p",
            "dev",
            "render",
            "--check",
        ],
    );
    before.code(1).stderr_has("generated/dev");
    run_in(&sub, ["-p", "dev", "schema"]).code(2);
}
