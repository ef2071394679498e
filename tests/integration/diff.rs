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

#[test]
fn a_threshold_change_diffs_only_the_rule_and_its_tests_and_applies_cleanly() {
    let dir = rendered_example();
    let copy = tempfile::tempdir().unwrap();
    for (path, text) in texts(dir.path()) {
        let target = copy.path().join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, text).unwrap();
    }
    let stack = example_stack().replace("threshold_percent = 90", "threshold_percent = 95");
    assert_ne!(stack, example_stack());
    std::fs::write(dir.path().join("stack.toml"), &stack).unwrap();

    let (code, patch, stderr) = run(stackgen(dir.path()).arg("diff"));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stderr.trim(), "4 files would change.");
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
    assert_eq!(run(stackgen(dir.path()).arg("render")).0, 0);
    assert_eq!(
        texts(&copy.path().join("generated")),
        texts(&dir.path().join("generated"))
    );

    let (code, stdout, stderr) = run(stackgen(dir.path()).arg("diff"));
    assert_eq!(
        (code, stdout.as_str(), stderr.trim()),
        (0, "", "No differences.")
    );
}

#[test]
fn added_and_removed_files_apply_too() {
    // From nothing: every file is new.
    let dir = project(&example_stack());
    let (code, patch, _) = run(stackgen(dir.path()).arg("diff"));
    assert_eq!(code, 1);
    assert_eq!(patch.matches("--- /dev/null").count(), 20, "{patch}");
    let copy = project(&example_stack());
    git_apply(copy.path(), &patch);
    assert_eq!(run(stackgen(dir.path()).arg("render")).0, 0);
    assert_eq!(
        texts(&copy.path().join("generated")),
        texts(&dir.path().join("generated"))
    );

    // Grafana off: its files go.
    let stack = example_stack().replace("[grafana]\nenabled = true", "[grafana]\nenabled = false");
    std::fs::write(dir.path().join("stack.toml"), &stack).unwrap();
    let (code, patch, stderr) = run(stackgen(dir.path()).args(["diff", "-p", "prod"]));
    assert_eq!(code, 1, "{stderr}");
    assert!(patch.contains("deleted file mode 100644\n--- a/generated/prod/grafana/dashboards/redis.json\n+++ /dev/null"), "{patch}");
    git_apply(copy.path(), &patch);
    assert_eq!(
        run(stackgen(dir.path()).args(["render", "-p", "prod"])).0,
        0
    );
    assert_eq!(
        texts(&copy.path().join("generated")),
        texts(&dir.path().join("generated"))
    );
}

#[test]
fn stat_exit_zero_and_colour() {
    let dir = rendered_example();
    let stack = example_stack().replace("threshold_ms = 10", "threshold_ms = 25");
    std::fs::write(dir.path().join("stack.toml"), stack).unwrap();
    let (code, stdout, _) = run(stackgen(dir.path()).args(["diff", "--stat"]));
    assert_eq!(code, 1);
    assert_eq!(stdout.lines().count(), 4, "{stdout}");
    assert!(
        stdout.contains(" generated/dev/prometheus/rules/redis-alerts.yml | 4 ++--"),
        "{stdout}"
    );
    let (code, _, _) = run(stackgen(dir.path()).args(["diff", "--exit-zero"]));
    assert_eq!(code, 0);
    let (_, coloured, _) = run(stackgen(dir.path()).args(["diff", "--color", "always"]));
    assert!(coloured.contains("\x1b[32m+"), "{coloured}");
    // Input errors stop diff as they stop render.
    std::fs::write(
        dir.path().join("stack.toml"),
        "[stack]\nname = \"x\"\nbogus = 1\n",
    )
    .unwrap();
    let (code, _, stderr) = run(stackgen(dir.path()).arg("diff"));
    assert_eq!(code, 2);
    assert!(stderr.contains("stack.toml:3:1"), "{stderr}");
}

#[test]
fn diff_honours_template_overrides() {
    let dir = rendered_example();
    std::fs::create_dir_all(dir.path().join("templates/redis")).unwrap();
    let own = std::fs::read_to_string(Path::new(ROOT).join("templates/redis/redis.conf")).unwrap()
        + "# ours\n";
    std::fs::write(dir.path().join("templates/redis/redis.conf"), own).unwrap();
    let (code, patch, _) = run(stackgen(dir.path()).arg("diff"));
    assert_eq!(code, 1);
    assert!(patch.contains("+# ours"), "{patch}");
    assert_eq!(patch.matches("diff --git").count(), 2, "{patch}");
}
