//! A fleet on a real engine: the managed Redis and more Redis containers of the test's own on
//! the stack's network, each with its own ACL password and labels, all scraped through the
//! one exporter; a stopped one fires RedisDown for itself alone, with its labels, to its
//! route's channel; a stack without a managed Redis monitors only its targets.

use serde_json::Value;

use crate::e2e::{Stack, docker, docker_ready, percent_encode};
use crate::support::*;

/// The Redis containers the test runs besides the managed one.
const FLEET: usize = 21;
/// The one whose password holds every character that needs escaping somewhere.
const STOPPED: usize = 6;

fn name(i: usize) -> String {
    format!("fleet-{i:02}")
}

/// The monitoring user's password on target `i`: the default user has another, so only the
/// ACL user logs in.
fn password(i: usize) -> String {
    if i == STOPPED {
        format!("pw-{i} \"q\" \\ $x 'y'")
    } else {
        format!("pw-{i}")
    }
}

fn env_of(i: usize) -> &'static str {
    if i.is_multiple_of(2) {
        "prod"
    } else {
        "staging"
    }
}

fn region_of(i: usize) -> &'static str {
    if i.is_multiple_of(3) { "eu" } else { "us" }
}

/// `[[targets]]` for the fleet (passwords in files, the first in a variable), and a route per
/// environment.
fn targets_toml(count: usize) -> String {
    let mut text = String::new();
    for i in 0..count {
        let password = if i == 0 {
            "{ env = \"SGE2E_FLEET_00\" }".to_string()
        } else {
            format!("{{ file = \"secrets/{}.txt\" }}", name(i))
        };
        text.push_str(&format!(
            "\n[[targets]]\nname = \"{0}\"\naddress = \"redis://{0}:6379\"\nusername = \
             \"monitor\"\npassword = {password}\nlabels = {{ env = \"{1}\", region = \"{2}\", \
             role = \"buffer\" }}\n",
            name(i),
            env_of(i),
            region_of(i)
        ));
    }
    text.push_str(
        "\n[[alertmanager.routes]]\nmatch = { env = \"prod\" }\nchannel = \"#prod-redis\"\n\
         \n[[alertmanager.routes]]\nmatch = { env = \"staging\" }\nchannel = \"#staging-redis\"\n",
    );
    text
}

/// A Redis string in double quotes, as its config file reads it.
fn conf_quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Starts the test's Redis `i` on the stack's network, its passwords in a config file (never
/// in its argv). It is not stackgen's: no project label, so `up` and `down` leave it alone, and
/// the returned guard removes it.
#[must_use]
pub fn start_target(stack: &Stack, i: usize) -> Removed {
    let conf = format!(
        "save \"\"\nappendonly no\nmaxmemory 64mb\nrequirepass {}\nuser monitor on {} ~* &* \
         +@all\n",
        conf_quoted(&format!("default-{i}")),
        conf_quoted(&format!(">{}", password(i)))
    );
    let rel = format!("fleet/{}.conf", name(i));
    stack.project.file(&rel, &conf);
    let mount = format!(
        "{}:/etc/fleet.conf:ro",
        stack.project.path().join(&rel).display()
    );
    docker(&[
        "run",
        "-d",
        "--name",
        &format!("{}-{}", stack.name, name(i)),
        "--network",
        &format!("{}_default", stack.name),
        "--network-alias",
        &name(i),
        "-v",
        &mount,
        // Its data in memory: no anonymous volume for the image's /data outlives the test.
        "--tmpfs",
        "/data",
        "stackgen-test/redis:7.0",
        "redis-server",
        "/etc/fleet.conf",
    ]);
    Removed(format!("{}-{}", stack.name, name(i)))
}

/// Removes a container the test started, however the test ends; declared after the stack, it
/// goes first, so that the stack's `down` finds its network free.
pub struct Removed(pub String);

impl Drop for Removed {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["rm", "-f", &self.0])
            .output();
    }
}

/// A fleet stack: the e2e stack with `count` targets, their secrets and routes.
fn fleet_stack(test: &str, count: usize, extra: &str) -> Stack {
    // A minute: the test starts its 20 targets one by one after `up`, which takes longer than
    // 30 s on a busy machine (the tests run side by side).
    let alerts = format!(
        "\n[alerts.redis_down]\nfor = \"60s\"\n{extra}{}",
        targets_toml(count)
    );
    let mut stack = Stack::new(test, &alerts);
    for i in 1..count {
        stack.project.secret(
            &format!("secrets/{}.txt", name(i)),
            &format!("{}\n", password(i)),
        );
    }
    stack.env.push(("SGE2E_FLEET_00".into(), password(0)));
    stack
}

/// `redis_up` per target, from Prometheus.
fn redis_up(stack: &Stack) -> Vec<Value> {
    let answer = stack.prometheus(&format!(
        "/api/v1/query?query={}",
        percent_encode("redis_up")
    ));
    answer["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn all_up(stack: &Stack, count: usize) -> bool {
    let up = redis_up(stack);
    up.len() == count && up.iter().all(|s| s["value"][1] == "1")
}

#[test]
fn a_fleet_is_scraped_and_a_stopped_target_alerts_alone_to_its_route() {
    if !docker_ready() {
        return;
    }
    let stack = fleet_stack("fleet", FLEET, "");
    // The targets are not there yet: `up` says so for each, and exits 1.
    stack
        .run(&["up"])
        .code(1)
        .stderr_has(&format!(
            "{FLEET} of {} Redis targets down after the exporter's first scrape",
            FLEET + 1
        ))
        .stderr_has("  fleet-20: unreachable: no host `fleet-20` is known");
    let _targets: Vec<Removed> = (0..FLEET).map(|i| start_target(&stack, i)).collect();
    stack.up();
    let webhook = stack.webhook();
    let received = || docker(&["logs", &webhook]);

    // 1. Every target, the managed one too, is up in Prometheus with its labels.
    assert!(
        eventually(120, || all_up(&stack, FLEET + 1)),
        "not every target is up: {:?}",
        redis_up(&stack)
    );
    for series in redis_up(&stack) {
        let labels = &series["metric"];
        let target = labels["target"].as_str().unwrap();
        assert_eq!(labels["instance"], target, "{labels}");
        assert_eq!(labels["job"], "redis");
        if let Some(i) = target.strip_prefix("fleet-") {
            let i: usize = i.parse().unwrap();
            assert_eq!(labels["env"], env_of(i), "{labels}");
            assert_eq!(labels["region"], region_of(i), "{labels}");
        }
    }
    // The exporter's password map is in the runtime folder, not under generated/.
    let map = stack
        .project
        .path()
        .join(".stackgen/prod/secrets/password-map.json");
    assert!(map.is_file());
    let generated = stack.project.path().join("generated");
    let tree = std::process::Command::new("grep")
        .args(["-rlF", &password(3)])
        .arg(&generated)
        .output()
        .unwrap();
    assert!(tree.stdout.is_empty(), "a password is under generated/");

    // 2. status probes each target through the exporter.
    let status = stack.run(&["status"]).success();
    assert!(
        status
            .stderr
            .contains(&format!("All {} Redis targets up", FLEET + 1)),
        "{}",
        status.stderr
    );
    assert!(status.stdout.contains("fleet-20  up"), "{}", status.stdout);

    // 3. The stack is quiet once the fleet is up (the targets were down before they started,
    //    shorter than RedisDown's `for`).
    assert!(
        eventually(60, || active_alerts(&stack).is_empty()),
        "alerts with the whole fleet up: {:?}",
        active_alerts(&stack)
    );
    assert!(!received().contains("FIRING"), "{}", received());

    // 4. One target stops: RedisDown for it alone, with its labels, to its route's channel.
    let stopped = name(STOPPED);
    docker(&["stop", &format!("{}-{stopped}", stack.name)]);
    let title = format!("[FIRING:1] RedisDown on {stopped}");
    assert!(
        eventually(150, || received().contains(&title)),
        "no RedisDown for {stopped} reached the webhook:\n{}",
        received()
    );
    let message = message_with(&received(), &title);
    assert_eq!(message["channel"], "#prod-redis", "{message}");
    let text = message["attachments"][0]["text"]
        .as_str()
        .unwrap_or_default();
    let labels = [
        format!("`env={}`", env_of(STOPPED)),
        format!("`region={}`", region_of(STOPPED)),
        "`role=buffer`".to_string(),
        format!("`target={stopped}`"),
    ];
    for label in labels {
        assert!(text.contains(&label), "{label} missing from {text}");
    }
    let firing = active_alerts(&stack);
    assert!(
        firing
            .iter()
            .all(|a| a["labels"]["target"] == stopped.as_str()),
        "another target alerts too: {firing:?}"
    );
    let failing = stack.run(&["status"]).code(1);
    assert!(
        failing.stdout.contains(&format!("{stopped}  DOWN")),
        "{}",
        failing.stdout
    );

    // 5. It starts again: resolved, and nothing else was ever sent.
    docker(&["start", &format!("{}-{stopped}", stack.name)]);
    let resolved = format!("[RESOLVED] RedisDown on {stopped}");
    assert!(
        eventually(150, || received().contains(&resolved)),
        "no resolved message for {stopped}:\n{}",
        received()
    );
    let log = received();
    let firing_titles: Vec<&str> = received_titles(&log)
        .into_iter()
        .filter(|t| t.starts_with("[FIRING"))
        .collect();
    assert_eq!(firing_titles, [title.as_str()], "{log}");
}

#[test]
fn without_a_managed_redis_the_stack_monitors_only_its_targets() {
    if !docker_ready() {
        return;
    }
    let stack = fleet_stack("external", 2, "");
    stack.edit(|toml| toml.replacen("[redis]\n", "[redis]\nenabled = false\n", 1));
    for secret in ["secrets/redis_password.txt", "secrets/slack_webhook_url"] {
        let text = stack.project.read(secret);
        stack.project.secret(secret, &text);
    }
    // Clean under the prod policy: no error, and no warning but those about the test's own
    // webhook receiver, which is not Slack's, and the heartbeat it has none of.
    let lint = stack.run(&["lint"]).success();
    let findings: Vec<&str> = lint
        .stdout
        .lines()
        .filter(|l| l.contains("error[") || l.contains("warning["))
        .collect();
    assert!(
        (findings.iter()).all(|l| l.contains("warning[SG205]") || l.contains("warning[SG116]")),
        "{}",
        lint.stdout
    );
    stack.run(&["render"]).success();
    let compose = stack.project.read("generated/prod/compose.yaml");
    assert!(!compose.contains("\n  redis:\n"), "{compose}");
    stack.run(&["up"]).code(1);
    let _targets: Vec<Removed> = (0..2).map(|i| start_target(&stack, i)).collect();
    // A wrong password: `up` names that target and why, and exits 1; the other is fine.
    let right = stack.project.read("secrets/fleet-01.txt");
    stack.project.secret("secrets/fleet-01.txt", "wrong\n");
    let wrong = stack.run(&["up"]).code(1).stderr_has(
        "  fleet-01: redis://fleet-01:6379 answers, but the exporter's login is refused \
         (WRONGPASS)",
    );
    assert!(!wrong.stderr.contains("fleet-00:"), "{wrong}");
    stack.project.secret("secrets/fleet-01.txt", &right);
    stack.up();
    assert!(
        eventually(120, || all_up(&stack, 2)),
        "the targets are not up: {:?}",
        redis_up(&stack)
    );
    let status = stack.run(&["status"]).success();
    assert!(
        status.stderr.contains("All 2 Redis targets up"),
        "{}",
        status.stderr
    );
    let names: Vec<String> = docker(&["ps", "--format", "{{.Names}}"])
        .lines()
        .filter(|n| n.starts_with(&stack.name))
        .map(String::from)
        .collect();
    assert!(
        !names.contains(&format!("{}-redis", stack.name)),
        "a managed Redis runs: {names:?}"
    );
}

/// The alerts Prometheus has pending or firing.
fn active_alerts(stack: &Stack) -> Vec<Value> {
    stack.prometheus("/api/v1/alerts")["data"]["alerts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The Slack messages the webhook got, by title.
fn received_titles(log: &str) -> Vec<&str> {
    log.lines()
        .filter_map(|line| line.split("\"title\":\"").nth(1)?.split('"').next())
        .collect()
}

fn message_with(log: &str, title: &str) -> Value {
    let line = log.lines().find(|l| l.contains(title)).unwrap();
    serde_json::from_str(line).unwrap()
}
