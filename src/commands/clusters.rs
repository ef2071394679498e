//! Redis Clusters' nodes, found when `up` and `status` run: each cluster's seeds are asked in
//! turn for its nodes (`CLUSTER NODES`), from this machine, by name or, for a container of the
//! stack's network, at its address there. The nodes become Prometheus' file-discovery targets
//! under the runtime folder (`.stackgen/<profile>/discovered/clusters.json`, mounted into
//! Prometheus, which re-reads it), and targets of the stack for this run: the exporter's
//! password map holds their password, and `status` lists them. A member added to a cluster is
//! scraped after the next `up` or `status`, with no edit of `stack.toml`. When no seed answers,
//! the nodes found last time stay, so that their alerts can fire.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use serde_json::{Value, json};

use super::stack::Running;
use crate::docker::Engine;
use crate::docker::secrets;
use crate::error::{Error, Result};
use crate::health::cluster::{self, ClusterNode};
use crate::model::raw::TargetKind;
use crate::model::resolve::topology::{CLUSTER_LABEL, KIND_LABEL};
use crate::model::stack::{Cluster, Target};
use crate::printer::Printer;

/// The folder under the runtime folder, and the file in it.
pub(crate) const FOLDER: &str = "discovered";
pub(crate) const FILE: &str = "clusters.json";

/// Finds every cluster's nodes, writes them for Prometheus and adds them to the stack's
/// targets. A cluster none of whose seeds answers is a warning, not an error.
pub(crate) fn discover(
    running: &mut Running,
    engine: &Engine,
    printer: &Printer<'_>,
) -> Result<()> {
    if running.stack.clusters.is_empty() {
        return Ok(());
    }
    let network = running.spec.network.clone();
    let hosts = engine
        .block_on(crate::docker::observe::network_hosts(
            &engine.docker,
            &network,
        ))
        .unwrap_or_default();
    let path = running.runtime_dir.join(FOLDER).join(FILE);
    let before = last_found(&path);
    let mut groups = Vec::new();
    let mut targets = Vec::new();
    for c in &running.stack.clusters {
        let password =
            match &c.password {
                Some(p) => Some(secrets::read(&running.source(&p.source)).map_err(|why| {
                    Error::Secret {
                        name: format!("password of cluster {}", c.name),
                        key: running.key(&p.key),
                        why,
                    }
                })?),
                None => None,
            };
        let nodes = match engine.block_on(ask(c, password.as_deref(), &hosts)) {
            Ok(nodes) => nodes,
            Err(why) => {
                printer.note(&format!(
                    "warning: cluster `{}`: {why}; its nodes as last found stay scraped",
                    c.name
                ))?;
                before.get(&c.name).cloned().unwrap_or_default()
            }
        };
        for node in &nodes {
            let target = target(c, node);
            groups.push(json!({"targets": [target.address], "labels": labels(&target)}));
            targets.push(target);
        }
    }
    write(&path, &Value::Array(groups))?;
    running.stack.targets.extend(targets);
    Ok(())
}

/// The nodes `up` found last, as targets of the stack for this run (`status` reads them; it
/// asks no seed and writes nothing).
pub(crate) fn known(running: &mut Running) {
    let found = last_found(&running.runtime_dir.join(FOLDER).join(FILE));
    let targets: Vec<Target> = (running.stack.clusters.iter())
        .flat_map(|c| {
            found
                .get(&c.name)
                .into_iter()
                .flatten()
                .map(|n| target(c, n))
        })
        .collect();
    running.stack.targets.extend(targets);
}

/// The first seed's answer; why none answered, each seed's reason.
async fn ask(
    c: &Cluster,
    password: Option<&str>,
    hosts: &BTreeMap<String, IpAddr>,
) -> std::result::Result<Vec<ClusterNode>, String> {
    let mut reasons = Vec::new();
    for seed in &c.seeds {
        let Some((host, port)) = seed
            .strip_prefix("redis://")
            .and_then(|rest| rest.rsplit_once(':'))
            .and_then(|(host, port)| Some((host.trim_matches(['[', ']']), port.parse().ok()?)))
        else {
            continue;
        };
        let mut reached = cluster::nodes(host, port, password).await;
        if reached.is_err()
            && let Some(ip) = hosts.get(host)
        {
            reached = cluster::nodes(&ip.to_string(), port, password).await;
        }
        match reached {
            Ok(nodes) if !nodes.is_empty() => return Ok(nodes),
            Ok(_) => reasons.push(format!("{seed} knows no node")),
            Err(why) => reasons.push(format!("{seed}: {why}")),
        }
    }
    Err(format!("no seed answers ({})", reasons.join("; ")))
}

/// A node as a target: `<cluster>/<host:port>`, with the cluster's labels.
fn target(c: &Cluster, node: &ClusterNode) -> Target {
    let mut labels = c.labels.clone();
    labels.insert(CLUSTER_LABEL.into(), c.name.clone());
    labels.insert(KIND_LABEL.into(), TargetKind::Cluster.as_str().into());
    Target {
        name: format!("{}/{}", c.name, node.address),
        address: format!("redis://{}", node.address),
        host: node
            .address
            .rsplit_once(':')
            .map_or("", |(h, _)| h)
            .to_string(),
        tls: false,
        password: c.password.clone(),
        labels,
        managed: false,
        kind: TargetKind::Cluster,
        rendered_role: None,
    }
}

/// A target's labels in the file Prometheus reads: its name as `target`, and its own.
fn labels(target: &Target) -> Value {
    let mut labels: BTreeMap<&str, &str> = target
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    labels.insert("target", &target.name);
    json!(labels)
}

/// Each cluster's nodes in the file written last time, by cluster.
fn last_found(path: &Path) -> BTreeMap<String, Vec<ClusterNode>> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let groups: Vec<Value> = serde_json::from_str(&text).unwrap_or_default();
    let mut found: BTreeMap<String, Vec<ClusterNode>> = BTreeMap::new();
    for group in groups {
        let cluster = group["labels"][CLUSTER_LABEL].as_str().unwrap_or_default();
        let address = group["targets"][0].as_str().unwrap_or_default();
        if let Some(address) = address.strip_prefix("redis://") {
            found
                .entry(cluster.to_string())
                .or_default()
                .push(ClusterNode {
                    address: address.to_string(),
                    role: "master",
                });
        }
    }
    found
}

/// The file, readable by Prometheus (it holds no secret), replaced whole.
fn write(path: &Path, groups: &Value) -> Result<()> {
    let dir = path.parent().expect("the file is in a folder");
    std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    let mut text = serde_json::to_string_pretty(groups).expect("JSON serializes");
    text.push('\n');
    let partial = path.with_extension("json.new");
    std::fs::write(&partial, text).map_err(Error::io(&partial))?;
    std::fs::rename(&partial, path).map_err(Error::io(path))
}
