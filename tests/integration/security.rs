//! The generated stack as an external security linter sees it: compose-lint 0.36.2 (OWASP
//! Docker cheat sheet, CIS Docker Benchmark) on every rendered compose file finds nothing but
//! images pinned by tag (CL-0019), and nothing at all once the images are pinned by digest.
//! Without compose-lint the test prints why and skips; with STACKGEN_REQUIRE_DOCKER=1 it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::*;

const COMPOSE_LINT_VERSION: &str = "0.36.2";

/// `compose-lint` of the pinned version, or `None` after saying why it is missing.
fn compose_lint() -> Option<PathBuf> {
    let found = Command::new("compose-lint").arg("--version").output();
    let why = match found {
        Ok(out) if String::from_utf8_lossy(&out.stdout).contains(COMPOSE_LINT_VERSION) => {
            return Some(PathBuf::from("compose-lint"));
        }
        Ok(out) => format!(
            "compose-lint is {}",
            String::from_utf8_lossy(&out.stdout).trim()
        ),
        Err(_) => format!("no compose-lint (pip install compose-lint=={COMPOSE_LINT_VERSION})"),
    };
    if std::env::var("STACKGEN_REQUIRE_DOCKER").is_ok_and(|v| v == "1") {
        panic!("STACKGEN_REQUIRE_DOCKER=1 but {why}");
    }
    eprintln!("skipping a compose-lint test: {why}");
    None
}

/// compose-lint's findings on one file: (rule, severity, service).
fn findings(lint: &Path, file: &Path) -> Vec<(String, String, String)> {
    let output = Command::new(lint)
        .args(["check", "--format", "json", "--fail-on", "critical"])
        .arg(file)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{}: {e}: {output:?}", file.display()));
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let text = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (text("rule_id"), text("severity"), text("service"))
        })
        .collect()
}

#[test]
fn compose_lint_finds_only_tag_pins_and_nothing_once_images_have_digests() {
    let Some(lint) = compose_lint() else {
        return;
    };
    let files = rendered_compose_files();
    for file in &files {
        for finding in findings(&lint, file) {
            assert_eq!(finding.0, "CL-0019", "{}: {finding:?}", file.display());
        }
    }
    let prod = findings(&lint, &files[1]);
    assert_eq!(prod.len(), 5, "{prod:?}");

    // The example with every image pinned by digest: no finding at all.
    let digest = format!("@sha256:{}", "0123456789abcdef".repeat(4));
    let project = Project::example();
    let mut stack = project.read("stack.toml");
    for image in [
        "redis:7.2",
        "oliver006/redis_exporter:v1.62.0",
        "prom/prometheus:v2.53.0",
    ]
    .into_iter()
    .chain(["prom/alertmanager:v0.27.0", "grafana/grafana:11.1.0"])
    {
        let quoted = format!("\"{image}\"");
        assert!(stack.contains(&quoted), "{image}");
        stack = stack.replace(&quoted, &format!("\"{image}{digest}\""));
    }
    project.file("stack.toml", &stack);
    project.run(["render"]).success();
    let pinned = project.path().join("generated/prod/compose.yaml");
    assert!(
        project
            .read("generated/prod/compose.yaml")
            .contains(&digest)
    );
    assert_eq!(findings(&lint, &pinned), vec![]);
}
