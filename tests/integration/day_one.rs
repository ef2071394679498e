//! A new user's first day on the real engine (stand-in images, Grafana off): a Redis image with
//! nothing but sh, redis-server and redis-cli runs; `up` leaves no profile's files stale; two
//! profiles of one project never take over each other's stack; the first password-protected
//! target leaves the managed Redis as it was; `down` finishes what it can while the application
//! is attached to the stack's network, touching nothing it did not create; and a missing secret
//! is one message naming its file.

use serde_json::Value;

use crate::e2e::{IMAGES, Stack, docker, docker_ready};
use crate::fleet::{Removed, start_target};
use crate::support::*;

/// `stackgen ARGS -p PROFILE` in the stack's project.
fn run(stack: &Stack, profile: &str, args: &[&str]) -> Run {
    Run::of(
        stack
            .project
            .command()
            .args(args)
            .args(["-p", profile])
            .envs(stack.env.iter().cloned()),
    )
}

#[test]
fn profiles_keep_to_their_own_stack_and_down_leaves_only_what_the_app_holds() {
    if !docker_ready() {
        return;
    }
    let stack = Stack::new("profiles", "").with_profile("dev");
    // A Redis image with nothing but sh, redis-server and redis-cli: no gosu, no cat.
    stack.edit(|toml| toml.replace(IMAGES[0], "stackgen-test/redis-minimal:7.0"));
    stack.up();
    let ids = stack.container_ids();
    assert_eq!(ids.len(), 4);
    // `up -p dev` rendered every profile, as `render` does: CI's `render --check` stays green.
    stack.project.run(["render", "--check"]).success();

    // 1. prod while dev runs: refused before any change, naming dev and the ways out.
    run(&stack, "prod", &["up"])
        .code(2)
        .stderr_has(&format!(
            "stack `{}` is running as profile `dev`, not `prod`",
            stack.name
        ))
        .stderr_has("`stackgen down -p dev` first")
        .stderr_has("give profile `prod` a `[stack] name` of its own");
    run(&stack, "prod", &["up", "--dry-run"]).code(2);
    assert_eq!(stack.container_ids(), ids, "prod's up changed containers");
    run(&stack, "prod", &["status"])
        .code(1)
        .stderr_has("is running as profile `dev`, not `prod`");
    run(&stack, "prod", &["down", "--volumes"])
        .code(1)
        .stderr_has("nothing removed; `stackgen down -p dev` removes it");
    assert_eq!(
        stack.container_ids(),
        ids,
        "prod's down touched dev's stack"
    );
    let status = run(&stack, "dev", &["status", "--format", "json"]).success();
    let report: Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(report["profile"], "dev", "{status}");

    // 2. The first target with a password: the exporter now reads a map `up` assembles,
    //    and the managed Redis is neither recreated nor restarted; no volume is left behind.
    let redis_id = || {
        docker(&[
            "inspect",
            "--format",
            "{{.Id}} {{.State.StartedAt}}",
            &format!("{}-redis", stack.name),
        ])
    };
    let before = redis_id();
    let volumes = || {
        docker(&[
            "volume",
            "ls",
            "-q",
            "--filter",
            &format!("label=io.stackgen.project={}", stack.name),
        ])
    };
    let volumes_before = volumes();
    let target = start_target(&stack, 1);
    stack.project.secret("secrets/fleet-01.txt", "default-1\n");
    stack.edit(|toml| {
        toml + "\n[[targets]]\nname = \"fleet-01\"\naddress = \"redis://fleet-01:6379\"\n\
                password = { file = \"secrets/fleet-01.txt\" }\n"
    });
    let up = run(&stack, "dev", &["up"]).success();
    assert_eq!(redis_id(), before, "the managed Redis was touched: {up}");
    assert_eq!(volumes(), volumes_before, "{up}");
    run(&stack, "dev", &["status"])
        .success()
        .stderr_has("All 2 Redis targets up");
    drop(target);

    // 3. The application, a container stackgen did not create, on the stack's network.
    let network = format!("{}_default", stack.name);
    let app = format!("{}-app", stack.name);
    docker(&[
        "run",
        "-d",
        "--name",
        &app,
        "--network",
        &network,
        "stackgen-test/base:bookworm",
        "sleep",
        "600",
    ]);
    let cleanup = Removed(app.clone());
    let secrets = stack.project.path().join(".stackgen/dev/secrets");
    assert!(secrets.exists());
    let down = run(&stack, "dev", &["down", "--volumes"])
        .code(1)
        .stderr_has(&format!(
            "left network {network}: 1 container not created by stackgen is attached to it ({app})"
        ))
        .stderr_has(&format!("`docker network disconnect {network} {app}`"));
    assert!(stack.container_ids().is_empty(), "{down}");
    let volumes = docker(&[
        "volume",
        "ls",
        "-q",
        "--filter",
        &format!("label=io.stackgen.project={}", stack.name),
    ]);
    assert_eq!(volumes.trim(), "", "volumes left: {down}");
    assert!(!secrets.exists(), "secret copies left: {down}");
    let state = docker(&["inspect", "--format", "{{.State.Running}}", &app]);
    assert_eq!(state.trim(), "true", "down touched the application");

    // 4. Once the application is disconnected, `down` finishes: the network goes.
    docker(&["network", "disconnect", &network, &app]);
    run(&stack, "dev", &["down"]).success();
    let networks = docker(&[
        "network",
        "ls",
        "-q",
        "--filter",
        &format!("name={network}"),
    ]);
    assert_eq!(networks.trim(), "");
    drop(cleanup);
}

/// A missing secret is one message, naming its file, the same in lint, `up --dry-run` and
/// `up` — also when the exporter's password map reads it a second time — and the plan does
/// not call it a change.
#[test]
fn a_missing_secret_is_one_message_with_its_file() {
    if !docker_ready() {
        return;
    }
    let stack = Stack::new("missing", "");
    stack.edit(|toml| {
        toml + "\n[[targets]]\nname = \"eu\"\naddress = \"redis://eu:6379\"\n\
                password = { file = \"secrets/eu.txt\" }\n"
    });
    stack.project.secret("secrets/eu.txt", "pw\n");
    std::fs::remove_file(stack.project.path().join("secrets/redis_password.txt")).unwrap();
    let file = "secrets/redis_password.txt";
    let lint = stack.run(&["lint"]);
    assert!(lint.stdout.contains(file), "{lint}");
    for args in [&["up", "--dry-run"][..], &["up"][..]] {
        let run = stack.run(args);
        assert!(run.code != 0, "{run}");
        let said = run.stderr.matches(file).count();
        assert_eq!(said, 1, "one message naming {file}: {run}");
        assert!(!run.stdout.contains("a secret it reads changed"), "{run}");
    }
    assert!(stack.container_ids().is_empty());
}
