//! `stackgen diff`: a git-style unified diff that `git apply` turns into exactly what
//! `render` writes, with exit codes of diff(1).

use std::path::Path;
use std::process::Command;

use crate::support::*;

/// Applies a patch with `git apply` in `dir`.
fn git_apply(dir: &Path, patch: &str) {
    let path = dir.join("change.patch");
    std::fs::write(&path, patch).unwrap();
    check_tool(
        Command::new(tool("git"))
            .arg("apply")
            .arg("change.patch")
            .current_dir(dir),
    );
    std::fs::remove_file(path).unwrap();
}

/// Renders `args` in `project` and checks that its `generated/` now equals `copy`'s.
fn render_matches(project: &Project, args: &[&str], copy: &Project) {
    project.run(args).success();
    assert_eq!(
        texts(&copy.path().join("generated")),
        texts(&project.path().join("generated"))
    );
}

#[test]
fn a_threshold_change_diffs_only_the_rule_and_its_tests_and_applies_cleanly() {
    let project = Project::rendered_example();
    let copy = Project::empty();
    for (path, text) in texts(project.path()) {
        copy.file(&path, &text);
    }
    let stack = example_stack().replace("threshold_percent = 90", "threshold_percent = 95");
    assert_ne!(stack, example_stack());
    project.file("stack.toml", &stack);

    let run = project.run(["diff"]).code(1);
    // The summary, and what `up` would do, on stderr; stdout is the patch alone.
    assert_eq!(
        run.stderr.trim(),
        "4 files would change.\n\
         profile dev: `up` would reload prometheus (`diff --impact` says why)\n\
         profile prod: `up` would reload prometheus (`diff --impact` says why)"
    );
    let patch = run.stdout;
    let files: Vec<&str> = patch
        .lines()
        .filter_map(|l| l.strip_prefix("+++ b/"))
        .collect();
    assert_eq!(
        files,
        [
            "generated/dev/prometheus/rules/redis-alerts.test.yml",
            "generated/dev/prometheus/rules/redis-alerts.yml",
            "generated/prod/prometheus/rules/redis-alerts.test.yml",
            "generated/prod/prometheus/rules/redis-alerts.yml",
        ]
    );
    assert!(
        patch.contains(
            "+        expr: \"redis_memory_used_bytes / redis_memory_max_bytes * 100 > 95"
        ),
        "{patch}"
    );
    assert!(
        !patch.contains('\x1b'),
        "colour when stdout is not a terminal"
    );

    git_apply(copy.path(), &patch);
    render_matches(&project, &["render"], &copy);

    let run = project.run(["diff"]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.trim()),
        (0, "", "No differences.")
    );
}

#[test]
fn added_and_removed_files_apply_too() {
    // From nothing: every file is new.
    let project = Project::example();
    let patch = project.run(["diff"]).code(1).stdout;
    assert_eq!(patch.matches("--- /dev/null").count(), 24, "{patch}");
    let copy = Project::example();
    git_apply(copy.path(), &patch);
    render_matches(&project, &["render"], &copy);

    // Grafana off: its files go.
    let stack = example_stack().replace("[grafana]\nenabled = true", "[grafana]\nenabled = false");
    project.file("stack.toml", &stack);
    let patch = project.run(["diff", "-p", "prod"]).code(1).stdout;
    assert!(patch.contains("deleted file mode 100644\n--- a/generated/prod/grafana/dashboards/redis.json\n+++ /dev/null"), "{patch}");
    git_apply(copy.path(), &patch);
    render_matches(&project, &["render", "-p", "prod"], &copy);
}

#[test]
fn stat_exit_zero_and_colour() {
    let project = Project::rendered_example();
    let stack = example_stack().replace("threshold_ms = 10", "threshold_ms = 25");
    project.file("stack.toml", &stack);
    let stdout = project.run(["diff", "--stat"]).code(1).stdout;
    assert_eq!(stdout.lines().count(), 4, "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with(" generated/dev/prometheus/rules/redis-alerts.yml "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.ends_with("| 4 ++--"), "{stdout}");
    // The bars line up, as git's do.
    let bars: Vec<usize> = stdout.lines().map(|l| l.find('|').unwrap()).collect();
    assert!(bars.windows(2).all(|w| w[0] == w[1]), "{stdout}");
    project.run(["diff", "--exit-zero"]).success();
    // A pull-request comment: the same exit codes, a row and a folded diff per file.
    let comment = project.run(["diff", "--format", "markdown"]).code(1).stdout;
    assert!(
        comment.contains("| `generated/dev/prometheus/rules/redis-alerts.yml` | changed | +2 −2 |"),
        "{comment}"
    );
    assert_eq!(comment.matches("<details>").count(), 4, "{comment}");
    project
        .run(["diff", "--format", "markdown", "--exit-zero"])
        .success();
    project
        .run(["diff", "--format", "markdown", "--stat"])
        .code(2);
    project
        .run(["diff", "--color", "always"])
        .stdout_has("\x1b[32m+");
    // Input errors stop diff as they stop render.
    project.file("stack.toml", "[stack]\nname = \"x\"\nbogus = 1\n");
    project.run(["diff"]).code(2).stderr_has("stack.toml:3:1");
}

#[test]
fn diff_honours_template_overrides() {
    let project = Project::rendered_example();
    let own = std::fs::read_to_string(Path::new(ROOT).join("templates/redis/redis.conf")).unwrap()
        + "# ours\n";
    project.file("templates/redis/redis.conf", &own);
    let patch = project.run(["diff"]).code(1).stdout;
    assert!(patch.contains("+# ours"), "{patch}");
    assert_eq!(patch.matches("diff --git").count(), 2, "{patch}");
}

/// `diff --impact`: what `up` would do, offline, from the same plan: a threshold reloads
/// Prometheus, `maxmemory` restarts Redis (data at risk), a port recreates the exporter; a
/// first render creates every service. Then what the change means.
#[test]
fn impact_says_what_up_would_do_with_each_service() {
    let project = Project::rendered_example();
    let impact = |edit: (&str, &str)| -> String {
        project.file("stack.toml", &example_stack().replacen(edit.0, edit.1, 1));
        project
            .run(["diff", "--impact", "-p", "prod"])
            .code(1)
            .stdout
    };
    let threshold = impact(("threshold_ms = 10", "threshold_ms = 20"));
    assert!(
        threshold.contains("  reload prometheus: its config files changed"),
        "{threshold}"
    );
    assert!(
        threshold.contains("  nothing for alertmanager, grafana, redis, redis-exporter"),
        "{threshold}"
    );
    let maxmemory = impact(("maxmemory = \"1536MiB\"", "maxmemory = \"1GiB\""));
    assert!(
        maxmemory.contains("  restart redis: its config files changed (data at risk"),
        "{maxmemory}"
    );
    // And what it means: a threshold before → after, an alert gone, a port opened and closed.
    assert!(
        threshold.contains("    RedisHighLatency: `") && threshold.contains(" > 20`"),
        "{threshold}"
    );
    let port = impact(("port = 9121", "port = 19121"));
    assert!(
        port.contains("  recreate redis-exporter: its definition changed"),
        "{port}"
    );
    assert!(
        port.contains("    port opened: redis-exporter 127.0.0.1:19121"),
        "{port}"
    );
    assert!(
        port.contains("    port closed: redis-exporter 127.0.0.1:9121"),
        "{port}"
    );
    let off = impact(("threshold_ms = 10", "threshold_ms = 10\nenabled = false"));
    assert!(off.contains("    alert removed: RedisHighLatency"), "{off}");
    project.file("stack.toml", &example_stack());
    let same = project
        .run(["diff", "--impact", "-p", "prod"])
        .success()
        .stdout;
    assert!(
        same.contains("  nothing for alertmanager, grafana, prometheus, redis, redis-exporter"),
        "{same}"
    );
    // Before the first render, every service is created.
    let fresh = Project::example();
    let created = fresh.run(["diff", "--impact", "-p", "dev"]).code(1).stdout;
    for service in [
        "alertmanager",
        "grafana",
        "prometheus",
        "redis",
        "redis-exporter",
    ] {
        assert!(
            created.contains(&format!("  create {service}: new")),
            "{created}"
        );
    }
    fresh.run(["diff", "--impact", "--stat"]).code(2);
}
