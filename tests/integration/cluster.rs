//! A Redis Cluster on the real engine: six nodes (three primaries, a replica each) started by
//! the test on the stack's network, monitored from one seed. `up` finds every node; a primary
//! stopped with its replica fires the cluster's state and slots alerts, which resolve when the
//! two return.

use serde_json::Value;

use crate::e2e::{Stack, docker, docker_ready, percent_encode};
use crate::support::*;

const CLUSTER_PASSWORD: &str = "cl\"uster pa$$";

/// The test's cluster nodes, removed when it ends.
struct Nodes(Vec<(String, String)>);

impl Drop for Nodes {
    fn drop(&mut self) {
        for (name, _) in &self.0 {
            let _ = std::process::Command::new("docker")
                .args(["rm", "-f", name])
                .output();
        }
    }
}

/// Six Redis nodes in cluster mode on the stack's network (not of the project: `up` would
/// remove them).
fn start_nodes(stack: &Stack) -> Nodes {
    let network = format!("{}_default", stack.name);
    let nodes = (1..=6)
        .map(|i| {
            let name = format!("{}-node-{i}", stack.name);
            docker(&[
                "run",
                "-d",
                "--name",
                &name,
                "--network",
                &network,
                "stackgen-test/redis:7.0",
                "redis-server",
                "--port",
                "6379",
                "--cluster-enabled",
                "yes",
                "--cluster-node-timeout",
                "2000",
                "--requirepass",
                CLUSTER_PASSWORD,
                "--masterauth",
                CLUSTER_PASSWORD,
                "--save",
                "",
                "--appendonly",
                "no",
            ]);
            let format =
                format!("{{{{(index .NetworkSettings.Networks \"{network}\").IPAddress}}}}");
            let ip = docker(&["inspect", "-f", &format, &name])
                .trim()
                .to_string();
            (name, ip)
        })
        .collect::<Vec<_>>();
    Nodes(nodes)
}

/// `redis-cli` in the first node's container, logged in.
fn cli(node: &str, args: &[&str]) -> String {
    let mut all = vec!["exec", "-e", "REDISCLI_AUTH", node, "redis-cli"];
    all.extend_from_slice(args);
    let output = std::process::Command::new("docker")
        .args(&all)
        .env("REDISCLI_AUTH", CLUSTER_PASSWORD)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn firing(stack: &Stack, alert: &str) -> bool {
    let alerts = stack.prometheus("/api/v1/alerts")["data"]["alerts"].clone();
    alerts.as_array().into_iter().flatten().any(|a| {
        a["labels"]["alertname"] == alert
            && a["state"] == "firing"
            && a["labels"]["cluster"] == "shop"
    })
}

fn nodes_up(stack: &Stack) -> usize {
    let query = percent_encode("redis_up{kind=\"cluster\"} == 1");
    let answer = stack.prometheus(&format!("/api/v1/query?query={query}"));
    answer["data"]["result"].as_array().map_or(0, Vec::len)
}

#[test]
fn a_six_node_cluster_is_found_from_one_seed_and_its_failing_slots_alert() {
    if !docker_ready() {
        return;
    }
    let alerts =
        "\n[alerts.cluster_down]\nfor = \"5s\"\n[alerts.cluster_slots_failing]\nfor = \"5s\"\n";
    let stack = Stack::new("cluster", alerts);
    stack
        .project
        .secret("secrets/cluster.txt", &format!("{CLUSTER_PASSWORD}\n"));
    stack.edit(|toml| {
        format!(
            "{toml}\n[[targets]]\nname = \"shop\"\nkind = \"cluster\"\n\
             seeds = [\"redis://{}-node-1:6379\"]\npassword = {{ file = \"secrets/cluster.txt\" }}\n\
             labels = {{ team = \"shop\" }}\n",
            stack.name
        )
    });
    // No cluster yet: `up` says so and goes on.
    let up = stack.up();
    assert!(
        up.contains("warning: cluster `shop`: no seed answers"),
        "{up}"
    );
    let started = start_nodes(&stack);
    let nodes = &started.0;
    let addresses: Vec<String> = nodes.iter().map(|(_, ip)| format!("{ip}:6379")).collect();
    let mut create = vec!["--cluster", "create"];
    create.extend(addresses.iter().map(String::as_str));
    create.extend(["--cluster-replicas", "1", "--cluster-yes"]);
    let created = cli(&nodes[0].0, &create);
    assert!(created.contains("All 16384 slots covered"), "{created}");
    assert!(
        eventually(30, || cli(&nodes[0].0, &["cluster", "info"])
            .contains("cluster_state:ok")),
        "the cluster is not ok"
    );

    // `up` asks the seed and every node is scraped, with the cluster's password.
    stack.up();
    assert!(
        eventually(90, || nodes_up(&stack) == 6),
        "{} nodes up",
        nodes_up(&stack)
    );
    let status = stack.run(&["status"]).success();
    assert!(status.stdout.contains("shop/"), "{}", status.stdout);

    // A primary and its replica stop: the cluster fails, and its alerts fire.
    let table = cli(&nodes[0].0, &["cluster", "nodes"]);
    let line_of = |ip: &str| {
        table
            .lines()
            .find(|l| {
                l.split_whitespace()
                    .nth(1)
                    .is_some_and(|a| a.starts_with(&format!("{ip}:")))
            })
            .unwrap_or_default()
            .to_string()
    };
    let (primary, primary_ip) = nodes[1..]
        .iter()
        .find(|(_, ip)| line_of(ip).contains("master"))
        .expect("a primary besides the seed");
    let primary_id = line_of(primary_ip)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let (replica, _) = nodes
        .iter()
        .find(|(_, ip)| line_of(ip).split_whitespace().nth(3) == Some(primary_id.as_str()))
        .expect("its replica");
    docker(&["stop", primary, replica]);
    for alert in ["RedisClusterDown", "RedisClusterSlotsFailing"] {
        assert!(
            eventually(120, || firing(&stack, alert)),
            "{alert} did not fire: {}",
            stack.prometheus("/api/v1/alerts")
        );
    }
    docker(&["start", primary, replica]);
    for alert in ["RedisClusterDown", "RedisClusterSlotsFailing"] {
        assert!(
            eventually(120, || !firing(&stack, alert)),
            "{alert} did not resolve: {}",
            stack.prometheus("/api/v1/alerts")
        );
    }
    let received: Value = stack.prometheus("/api/v1/targets");
    assert!(received.to_string().contains("shop/"));
}
