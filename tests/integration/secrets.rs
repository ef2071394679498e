//! Canary secrets: values planted in secret files and variables must appear nowhere under
//! `generated/` and in no output.

use crate::support::*;

#[test]
fn planted_canaries_appear_nowhere() {
    let stack = example_stack().replace(
        "webhook_url = { env = \"SLACK_WEBHOOK_URL\" }",
        "webhook_url = { env = \"STACKGEN_TEST_WEBHOOK\" }",
    );
    let project = Project::new(&stack);
    let canaries = [
        ("secrets/redis_password.txt", "CANARY-redis-7f3a"),
        ("secrets/grafana_admin_password.txt", "CANARY-grafana-91bc"),
    ];
    for (path, value) in canaries {
        project.secret(path, value);
    }
    let webhook = "https://hooks.slack.com/services/T0/B0/CANARY-webhook-55d1";
    let mut outputs = String::new();
    for args in [vec!["render"], vec!["render", "--check"], vec!["schema"]] {
        let run = Run::of(
            project
                .command()
                .args(&args)
                .env("STACKGEN_TEST_WEBHOOK", webhook),
        )
        .success();
        outputs.push_str(&run.stdout);
        outputs.push_str(&run.stderr);
    }
    let generated = texts(&project.path().join("generated"));
    assert!(generated.len() >= 20, "both profiles rendered");
    for value in canaries.iter().map(|c| c.1).chain([webhook, "CANARY"]) {
        for (path, text) in &generated {
            assert!(
                !text.contains(value),
                "generated/{path} holds a secret value"
            );
        }
        assert!(!outputs.contains(value), "the output holds a secret value");
    }
    // The compose file only says where each secret comes from.
    let compose = &generated["dev/compose.yaml"];
    assert!(
        compose.contains("file: \"../../secrets/redis_password.txt\""),
        "{compose}"
    );
    assert!(
        compose.contains("environment: \"STACKGEN_TEST_WEBHOOK\""),
        "{compose}"
    );
}
