//! The managed topology on the real engine: a primary, two replicas and three Sentinels come
//! up with a password that needs escaping everywhere, beside a second replication group, and
//! nothing is raised; `status` tells the roles; `drill
//! failover` kills the primary, Sentinel promotes a replica, the alerts reach a webhook and
//! the old primary rejoins as a replica; `up` then changes nothing, and RedisFailover names the
//! new primary.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::e2e::{PASSWORD, Stack, docker, docker_ready, percent_encode};
use crate::fleet::Removed;
use crate::support::*;

/// A port whose next two are free too: the primary's, then each replica's.
fn three_free_ports() -> u16 {
    loop {
        let port = free_port();
        let free = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
        if port < 65000 && free(port + 1) && free(port + 2) {
            return port;
        }
    }
}

/// A second replication group, `orders`: a primary and its replica the test runs.
const ORDERS: &str = "\n[[targets]]\nname = \"orders-1\"\naddress = \"redis://orders-1:6379\"\n\
                      labels = { replication_group = \"orders\" }\n\
                      \n[[targets]]\nname = \"orders-2\"\naddress = \"redis://orders-2:6379\"\n\
                      labels = { replication_group = \"orders\" }\n";

/// A server of the `orders` group on the stack's network; not stackgen's, removed by the guard.
fn start_orders(stack: &Stack, name: &str, extra: &[&str]) -> Removed {
    let container = format!("{}-{name}", stack.name);
    let network = format!("{}_default", stack.name);
    let mut args = vec![
        "run",
        "-d",
        "--name",
        &container,
        "--network",
        &network,
        "--network-alias",
        name,
        "--tmpfs",
        "/data",
        "stackgen-test/redis:7.0",
        "redis-server",
        "--save",
        "",
        "--appendonly",
        "no",
        "--maxmemory",
        "64mb",
    ];
    args.extend_from_slice(extra);
    docker(&args);
    Removed(container)
}

/// The roles Prometheus sees in the `orders` group, sorted.
fn group_roles(stack: &Stack) -> Vec<String> {
    let query = percent_encode("redis_instance_info{replication_group=\"orders\"}");
    let answer = stack.prometheus(&format!("/api/v1/query?query={query}"));
    let mut roles: Vec<String> = (answer["data"]["result"].as_array().into_iter().flatten())
        .map(|s| s["metric"]["role"].as_str().unwrap_or_default().to_string())
        .collect();
    roles.sort();
    roles
}

/// `ROLE`'s first line on a published port.
fn role(port: u16) -> String {
    let reply = redis_cli(port, Some(PASSWORD), &["role"]);
    reply.lines().next().unwrap_or_default().to_string()
}

fn firing(stack: &Stack, alert: &str) -> Vec<Value> {
    let alerts = stack.prometheus("/api/v1/alerts")["data"]["alerts"].clone();
    let alerts = alerts.as_array().cloned().unwrap_or_default();
    alerts
        .into_iter()
        .filter(|a| a["labels"]["alertname"] == alert && a["state"] == "firing")
        .collect()
}

#[test]
fn a_sentinel_topology_comes_up_fails_over_and_up_keeps_what_sentinel_made() {
    if !docker_ready() {
        return;
    }
    let port = three_free_ports();
    let sentinel_port = three_free_ports();
    let alerts = "\n[alerts.failover]\nfor = \"5s\"\n[alerts.redis_down]\nfor = \"10s\"\n";
    let stack = Stack::new("topology", alerts);
    stack.edit(|toml| {
        let toml = toml.replacen("[redis]\n", "[redis]\nreplicas = 2\n", 1);
        let toml = toml.replacen(
            &format!("port = {}\n", stack.ports[0]),
            &format!("port = {port}\n"),
            1,
        );
        format!(
            "{toml}\n[redis.sentinel]\nenabled = true\ndown_after = \"2s\"\nport = {sentinel_port}\n\
             {ORDERS}"
        )
    });
    // The other group's servers join the stack's network once `up` has made it.
    stack.run(&["up"]).code(1);
    let _orders = [
        start_orders(&stack, "orders-1", &[]),
        start_orders(&stack, "orders-2", &["--replicaof", "orders-1", "6379"]),
    ];
    stack.up();

    // Every node answers with the password, in its rendered role.
    assert_eq!(role(port), "master");
    assert_eq!(role(port + 1), "slave");
    assert_eq!(role(port + 2), "slave");
    let status = stack.run(&["status"]).success();
    for line in [
        "redis-replica-1   up    replica,",
        "redis-sentinel-3  up    sentinel: redis at redis:6379 is ok, 3 Sentinels and 2 \
         replicas ok",
    ] {
        assert!(status.stdout.contains(line), "{line}\n{}", status.stdout);
    }
    // Two replication groups side by side, each healthy: nothing is raised, not even pending.
    assert!(
        eventually(60, || group_roles(&stack) == ["master", "slave"]),
        "the orders group is not seen: {:?}",
        group_roles(&stack)
    );
    std::thread::sleep(std::time::Duration::from_secs(20));
    let raised = stack.prometheus("/api/v1/alerts")["data"]["alerts"].clone();
    assert_eq!(
        raised,
        serde_json::json!([]),
        "two healthy groups raised alerts"
    );

    // The password reaches no container's argv or environment.
    for id in stack.container_ids() {
        let inspect = docker(&["inspect", &id]);
        assert!(
            !inspect.contains("pa$$"),
            "{id}: the password in its inspect"
        );
    }

    // `drill failover` kills the primary under a stream of acknowledged writes: Sentinel
    // promotes a replica, writes succeed again, the alerts reach the webhook, and the old
    // primary rejoins as a replica.
    let before: BTreeSet<String> = stack.container_ids().into_iter().collect();
    let webhook = stack.webhook();
    let drill = stack.run(&["drill", "failover", "--allow-prod", "--format", "json"]);
    let report: Value =
        serde_json::from_str(&drill.stdout).unwrap_or_else(|e| panic!("{e}: {drill}"));
    let failover = &report["scenarios"][0];
    assert_eq!(failover["ok"], true, "{drill}");
    assert_eq!(failover["old_primary"], "redis", "{drill}");
    let promoted = failover["new_primary"].as_str().unwrap().to_string();
    assert!(promoted.starts_with("redis-replica-"), "{drill}");
    let promotion = failover["promotion_s"].as_f64().unwrap();
    assert!(promotion > 1.0 && promotion < 30.0, "{drill}");
    assert!(failover["acked"].as_u64().unwrap() > 100, "{drill}");
    for alert in failover["alerts"].as_array().unwrap() {
        assert_eq!(alert["fired"], true, "{alert}");
        assert_eq!(alert["delivered"], true, "{alert}");
    }
    let received = docker(&["logs", &webhook]);
    assert!(received.contains("RedisFailover"), "{received}");
    assert!(received.contains("RedisDown"), "{received}");
    assert_eq!(role(port), "slave");
    assert_eq!(
        role(if promoted.ends_with('1') {
            port + 1
        } else {
            port + 2
        }),
        "master"
    );

    // `up` after the failover changes nothing: roles are Sentinel's.
    let up = stack.up();
    assert!(!up.contains("created") && !up.contains("started"), "{up}");
    let mut after: BTreeSet<String> = stack.container_ids().into_iter().collect();
    after.retain(|id| !docker(&["inspect", "-f", "{{.Name}}", id]).contains("webhook"));
    assert_eq!(before, after, "up replaced containers");
    let status = stack.run(&["status"]).success();
    assert!(
        status
            .stdout
            .contains("replica (rendered as master: Sentinel changed it)"),
        "{}",
        status.stdout
    );
    assert!(
        status.stdout.contains(&format!("at {promoted}:6379 is ok")),
        "{}",
        status.stdout
    );

    // Every panel of the topology row returns data from the real Prometheus.
    assert_eq!(stack.dashboard_has_data("Topology"), 6);

    // RedisFailover names the new primary; RedisSplitBrain never fires.
    let address = format!("{promoted}:6379");
    assert!(
        eventually(120, || firing(&stack, "RedisFailover")
            .iter()
            .any(|a| a["labels"]["master_address"] == address.as_str())),
        "RedisFailover did not fire for {address}: {}",
        stack.prometheus("/api/v1/alerts")
    );
    assert!(firing(&stack, "RedisSplitBrain").is_empty());
}
