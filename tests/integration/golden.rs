//! Golden trees: the repository's own `generated/` and the cases under `tests/fixtures/`.
//! `STACKGEN_BLESS=1 cargo test` rewrites the fixtures; a mismatch shows a unified diff.

use std::path::Path;

use crate::support::*;

#[test]
fn committed_example_output_is_current() {
    let run = run_in(Path::new(ROOT), ["render", "--check"]);
    assert_eq!(
        run.code, 0,
        "generated/ is stale: run `cargo run -- render`\n{run}"
    );
}

fn check_case(case: &str) {
    let fixture = Path::new(ROOT).join("tests/fixtures").join(case);
    let stack = std::fs::read_to_string(fixture.join("stack.toml")).unwrap();
    let project = Project::new(&stack);
    if let Ok(profiles) = std::fs::read_dir(fixture.join("profiles")) {
        for profile in profiles.flatten() {
            let name = profile.file_name().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(profile.path()).unwrap();
            project.file(&format!("profiles/{name}"), &text);
        }
    }
    project.run(["render"]).success();
    let actual = texts(&project.path().join("generated"));
    let expected_dir = fixture.join("generated");
    if std::env::var_os("STACKGEN_BLESS").is_some() {
        let _ = std::fs::remove_dir_all(&expected_dir);
        for (path, text) in &actual {
            let target = expected_dir.join(path);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::write(target, text).unwrap();
        }
        return;
    }
    let expected = texts(&expected_dir);
    let names =
        |m: &std::collections::BTreeMap<String, String>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&expected),
        names(&actual),
        "{case}: the set of generated files differs"
    );
    for (path, text) in &expected {
        assert!(
            &actual[path] == text,
            "{case}: generated/{path} differs from the golden file (bless with STACKGEN_BLESS=1):\n{}",
            diff(text, &actual[path])
        );
    }
}

/// Only `[stack] name`: every default, no secrets, so no auth plumbing.
#[test]
fn golden_minimal() {
    check_case("minimal");
}

/// `noeviction`, Grafana off, no Slack, some alerts off, thresholds changed.
#[test]
fn golden_noeviction() {
    check_case("noeviction");
}

#[test]
fn golden_replication() {
    check_case("replication");
}

#[test]
fn golden_cluster() {
    check_case("cluster");
}

/// A cluster and nothing else: no target of kind `redis` at all.
#[test]
fn golden_cluster_only() {
    check_case("cluster-only");
}

#[test]
fn golden_sentinel() {
    check_case("sentinel");
}

/// Three SLOs, one of each SLI, per target and per replication group.
#[test]
fn golden_slo() {
    check_case("slo");
}

/// The Kubernetes target: operator and standalone mode, each under the dev and the prod policy.
#[test]
fn golden_kubernetes() {
    check_case("kubernetes");
}

#[test]
fn rendering_is_deterministic_across_runs_and_working_directories() {
    let first = Project::rendered_example();
    let before = snapshot(&first.path().join("generated"));
    // A second run in place changes no byte and no modification time.
    first.run(["render"]).success().stderr_has("up to date");
    assert_eq!(before, snapshot(&first.path().join("generated")));

    // From another working directory, through -f: the same bytes.
    let outer = Project::empty();
    outer.file("deep/project/stack.toml", &example_stack());
    let inner = outer.path().join("deep/project");
    outer
        .run(["render", "-f", "deep/project/stack.toml"])
        .success();
    assert_eq!(
        texts(&first.path().join("generated")),
        texts(&inner.join("generated"))
    );

    // No absolute path of either project leaks into the output.
    for (path, text) in texts(&inner.join("generated")) {
        assert!(
            !text.contains(outer.path().to_str().unwrap()),
            "{path} holds an absolute path"
        );
        assert!(
            !text.contains(first.path().to_str().unwrap()),
            "{path} holds an absolute path"
        );
    }
}
