//! What the engine has of a project, found by its `io.stackgen.project` label whoever created
//! it (`stackgen up` or `docker compose`): containers, networks and volumes, and one container's
//! state, health and logs. It only reads; the engine's answers are turned into this layer's own
//! records by pure functions, so that the rest never sees bollard's optional fields.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::SystemTime;

use bollard::Docker;
use bollard::models::{
    ContainerInspectResponse, ContainerStateStatusEnum, ContainerSummary, HealthStatusEnum,
};
use bollard::query_parameters::{
    InspectContainerOptions, ListContainersOptionsBuilder, ListNetworksOptionsBuilder,
    ListVolumesOptionsBuilder, LogsOptionsBuilder,
};
use futures_util::TryStreamExt;

use super::engine::{engine_error, is_not_found};
use super::labels::{self, COMPOSE_CONFIG_HASH, COMPOSE_IMAGE, COMPOSE_PROJECT};
use crate::error::Result;

/// A container of the project as the engine reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Observed {
    pub id: String,
    pub name: String,
    pub service: String,
    /// The engine's state: running, restarting, exited, created…
    pub state: String,
    pub spec_hash: String,
    pub config_hash: String,
    /// Docker Compose's hash of its service and the id of its image, from compose's labels.
    pub compose_hash: String,
    pub image: String,
    /// Host ports it publishes.
    pub ports: Vec<u16>,
    /// The profile it was started for; empty when it carries no such label.
    pub profile: String,
}

/// Everything of a project the engine has, for the plan.
pub(crate) struct Existing {
    pub containers: Vec<Observed>,
    /// Network name → id.
    pub networks: BTreeMap<String, String>,
    /// Volume name → the profile it was made for ("" when it does not say).
    pub volumes: BTreeMap<String, String>,
}

impl Existing {
    pub(crate) async fn read(docker: &Docker, project: &str) -> Result<Self> {
        Ok(Self {
            containers: containers(docker, project).await?,
            networks: networks(docker, project).await?,
            volumes: volumes_with_profiles(docker, project).await?,
        })
    }

    /// The profile the project's containers or volumes were made for, when it is not
    /// `profile`: that stack holds the names, and its data.
    pub(crate) fn other_profile(&self, profile: &str) -> Option<String> {
        other_profile(
            self.containers.iter().map(|c| c.profile.as_str()),
            self.volumes.values().map(String::as_str),
            profile,
        )
    }
}

/// The first profile among the containers' and volumes' that is set and is not `profile`.
/// Objects without the label (made before it existed) belong to no profile in particular.
fn other_profile<'a>(
    containers: impl Iterator<Item = &'a str>,
    volumes: impl Iterator<Item = &'a str>,
    profile: &str,
) -> Option<String> {
    containers
        .chain(volumes)
        .find(|p| !p.is_empty() && *p != profile)
        .map(str::to_string)
}

fn project_filter(project: &str) -> HashMap<&'static str, Vec<String>> {
    HashMap::from([(
        "label",
        vec![format!("{}={project}", labels::PROJECT_LABEL)],
    )])
}

/// The containers of a project, running or not.
pub(crate) async fn containers(docker: &Docker, project: &str) -> Result<Vec<Observed>> {
    let filter = project_filter(project);
    let options = ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filter)
        .build();
    let list = docker
        .list_containers(Some(options))
        .await
        .map_err(engine_error("list containers"))?;
    Ok(list.into_iter().map(observed).collect())
}

fn observed(c: ContainerSummary) -> Observed {
    let labels = c.labels.unwrap_or_default();
    let label = |key: &str| labels.get(key).cloned().unwrap_or_default();
    Observed {
        id: c.id.unwrap_or_default(),
        name: c
            .names
            .unwrap_or_default()
            .first()
            .map(|n| n.trim_start_matches('/').to_string())
            .unwrap_or_default(),
        service: label(labels::SERVICE_LABEL),
        state: c.state.map(|s| s.to_string()).unwrap_or_default(),
        spec_hash: label(labels::SPEC_HASH_LABEL),
        config_hash: label(labels::CONFIG_HASH_LABEL),
        compose_hash: label(COMPOSE_CONFIG_HASH),
        image: label(COMPOSE_IMAGE),
        ports: c
            .ports
            .unwrap_or_default()
            .iter()
            .filter_map(|p| p.public_port)
            .collect(),
        profile: label(labels::PROFILE_LABEL),
    }
}

/// The project's networks by name → id: `<project>_default` by its exact name, whoever made it
/// (`docker compose` labels it only with its own labels), and any other carrying either
/// project label. The engine matches a name filter by substring, so names are compared here.
pub(crate) async fn networks(docker: &Docker, project: &str) -> Result<BTreeMap<String, String>> {
    let default = format!("{project}_default");
    let filters = [
        HashMap::from([("name", vec![default.clone()])]),
        project_filter(project),
        HashMap::from([("label", vec![format!("{COMPOSE_PROJECT}={project}")])]),
    ];
    let mut found = BTreeMap::new();
    for filter in &filters {
        let options = ListNetworksOptionsBuilder::new().filters(filter).build();
        let list = docker
            .list_networks(Some(options))
            .await
            .map_err(engine_error("list networks"))?;
        for network in list {
            let name = network.name.unwrap_or_default();
            let labels = network.labels.unwrap_or_default();
            let ours = labels.get(labels::PROJECT_LABEL).map(String::as_str) == Some(project)
                || labels.get(COMPOSE_PROJECT).map(String::as_str) == Some(project);
            if name == default || ours {
                found.insert(name, network.id.unwrap_or_default());
            }
        }
    }
    Ok(found)
}

/// The containers attached to a network, by id, as the engine reports them; none when the
/// network is gone.
async fn endpoints(
    docker: &Docker,
    network: &str,
) -> Result<BTreeMap<String, bollard::models::EndpointResource>> {
    let options = None::<bollard::query_parameters::InspectNetworkOptions>;
    match docker.inspect_network(network, options).await {
        Err(e) if is_not_found(&e) => Ok(BTreeMap::new()),
        other => Ok(other
            .map_err(engine_error("inspect network"))?
            .containers
            .unwrap_or_default()
            .into_iter()
            .collect()),
    }
}

/// The names of the containers attached to a network.
pub(crate) async fn attached(docker: &Docker, network: &str) -> Result<Vec<String>> {
    let mut names: Vec<String> = endpoints(docker, network)
        .await?
        .into_values()
        .filter_map(|endpoint| endpoint.name)
        .collect();
    names.sort();
    Ok(names)
}

/// The containers on a network by name and by every alias they have there → their address on
/// it: how this machine reaches a target that is a container of the stack's network.
pub(crate) async fn network_hosts(
    docker: &Docker,
    network: &str,
) -> Result<BTreeMap<String, std::net::IpAddr>> {
    let mut hosts = BTreeMap::new();
    for (id, endpoint) in endpoints(docker, network).await? {
        let address = endpoint.ipv4_address.unwrap_or_default();
        let Ok(ip) = address.split('/').next().unwrap_or_default().parse() else {
            continue;
        };
        let container = docker
            .inspect_container(&id, None::<InspectContainerOptions>)
            .await;
        let aliases = container
            .ok()
            .and_then(|c| c.network_settings?.networks?.remove(network)?.aliases)
            .unwrap_or_default();
        for name in endpoint.name.into_iter().chain(aliases) {
            hosts.insert(name, ip);
        }
    }
    Ok(hosts)
}

/// The names of the project's volumes.
pub(crate) async fn volumes(docker: &Docker, project: &str) -> Result<BTreeSet<String>> {
    Ok(volumes_with_profiles(docker, project)
        .await?
        .into_keys()
        .collect())
}

/// The project's volumes by name → the profile they were made for ("" when unlabelled).
async fn volumes_with_profiles(docker: &Docker, project: &str) -> Result<BTreeMap<String, String>> {
    let filter = project_filter(project);
    let options = ListVolumesOptionsBuilder::new().filters(&filter).build();
    let list = docker
        .list_volumes(Some(options))
        .await
        .map_err(engine_error("list volumes"))?;
    Ok(list
        .volumes
        .unwrap_or_default()
        .into_iter()
        .map(|v| {
            let profile = v
                .labels
                .get(labels::PROFILE_LABEL)
                .cloned()
                .unwrap_or_default();
            (v.name, profile)
        })
        .collect())
}

/// Who holds a host port, when it can be told: ` by container `name`` for a container that
/// publishes it, ` by process `comm` (pid N)` for a local process listening on it, else "".
pub(crate) async fn port_holder(docker: &Docker, port: u16) -> String {
    let options = ListContainersOptionsBuilder::new().build();
    if let Ok(list) = docker.list_containers(Some(options)).await {
        for container in list {
            let publishes = container
                .ports
                .iter()
                .flatten()
                .any(|p| p.public_port == Some(port));
            if publishes {
                let names = container.names.unwrap_or_default();
                let name = names.first().map_or("", |n| n.trim_start_matches('/'));
                return format!(" by container `{name}`");
            }
        }
    }
    listening_process(port)
        .map(|(pid, comm)| format!(" by process `{comm}` (pid {pid})"))
        .unwrap_or_default()
}

/// The local process listening on TCP `port`, from /proc, when this user may see it.
fn listening_process(port: u16) -> Option<(u32, String)> {
    let inodes: Vec<String> = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .flat_map(|table| listening_inodes(&table, port))
        .collect();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            let target = std::fs::read_link(fd.path()).unwrap_or_default();
            let target = target.to_string_lossy();
            if inodes.iter().any(|i| target == format!("socket:[{i}]")) {
                let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
                return Some((pid, comm.trim().to_string()));
            }
        }
    }
    None
}

/// The socket inodes listening on `port` in a /proc/net/tcp table.
fn listening_inodes(table: &str, port: u16) -> Vec<String> {
    let hex = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let listening = fields.get(3) == Some(&"0A");
            let local = fields.get(1)?;
            (listening && local.ends_with(&hex)).then(|| fields.get(9).map(|i| i.to_string()))?
        })
        .collect()
}

/// A service's state, health and the engine's last health-check output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Seen {
    pub status: String,
    pub running: bool,
    pub health: Option<String>,
    pub health_output: String,
    pub exit_code: i64,
    /// When the running container started; `None` when it is not running.
    pub started: Option<SystemTime>,
}

impl Seen {
    /// A container the engine does not have.
    fn missing() -> Self {
        Self {
            status: "missing".into(),
            running: false,
            health: None,
            health_output: String::new(),
            exit_code: 0,
            started: None,
        }
    }
}

/// One container by name; a missing one is [`Seen`] as `missing`, not an error.
pub(crate) async fn inspect(docker: &Docker, name: &str) -> Result<Seen> {
    match docker
        .inspect_container(name, None::<InspectContainerOptions>)
        .await
    {
        Ok(c) => Ok(seen(c)),
        Err(e) if is_not_found(&e) => Ok(Seen::missing()),
        Err(e) => Err(engine_error(name)(e)),
    }
}

fn seen(c: ContainerInspectResponse) -> Seen {
    let state = c.state.unwrap_or_default();
    let health = state.health.clone();
    let running = state.status == Some(ContainerStateStatusEnum::RUNNING);
    Seen {
        status: state.status.map(|s| s.to_string()).unwrap_or_default(),
        running,
        health: health
            .as_ref()
            .and_then(|h| h.status)
            .filter(|s| *s != HealthStatusEnum::EMPTY && *s != HealthStatusEnum::NONE)
            .map(|s| s.to_string()),
        health_output: health
            .and_then(|h| h.log)
            .and_then(|log| log.last().and_then(|r| r.output.clone()))
            .unwrap_or_default()
            .trim()
            .to_string(),
        exit_code: state.exit_code.unwrap_or_default(),
        started: running
            .then(|| {
                state
                    .started_at
                    .as_deref()
                    .and_then(crate::health::targets::parse_time)
            })
            .flatten(),
    }
}

/// The last `lines` lines a container wrote, stdout and stderr; why there are none otherwise.
/// They may hold secrets: redact them before showing them.
pub(crate) async fn logs_tail(docker: &Docker, name: &str, lines: usize) -> String {
    let options = LogsOptionsBuilder::new()
        .stdout(true)
        .stderr(true)
        .tail(&lines.to_string())
        .build();
    match docker
        .logs(name, Some(options))
        .try_collect::<Vec<_>>()
        .await
    {
        Ok(chunks) => chunks.iter().map(ToString::to_string).collect(),
        Err(e) => format!("(no logs: {e})"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn another_profiles_containers_or_volumes_hold_the_stack() {
        let other = |containers: &[&'static str], volumes: &[&'static str]| {
            super::other_profile(containers.iter().copied(), volumes.iter().copied(), "prod")
        };
        assert_eq!(other(&[], &[]), None);
        assert_eq!(other(&["prod", "prod"], &["prod"]), None);
        assert_eq!(other(&["", "prod"], &[""]), None, "unlabelled: anyone's");
        assert_eq!(other(&["dev", "prod"], &[]), Some("dev".into()));
        assert_eq!(other(&[], &["dev"]), Some("dev".into()), "dev's data");
    }

    use bollard::models::{
        ContainerState, ContainerSummaryStateEnum, Health, HealthcheckResult, PortSummary,
    };

    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn a_listening_socket_is_found_by_its_port() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1\n   1: 0100007F:1F91 0100007F:A000 01 00000000:00000000 00:00000000 00000000     0        0 4343 1\n";
        assert_eq!(listening_inodes(table, 8080), ["4242"]);
        assert!(listening_inodes(table, 8081).is_empty());
        let busy = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = busy.local_addr().unwrap().port();
        let (pid, _) = listening_process(port).expect("this test's own listener");
        assert_eq!(pid, std::process::id());
    }

    #[test]
    fn a_listed_container_reads_as_observed() {
        let labels = HashMap::from([
            (labels::SERVICE_LABEL.to_string(), "redis".to_string()),
            (labels::SPEC_HASH_LABEL.to_string(), "s1".to_string()),
            (labels::CONFIG_HASH_LABEL.to_string(), "c1".to_string()),
            (labels::PROFILE_LABEL.to_string(), "dev".to_string()),
        ]);
        let port = |public_port| PortSummary {
            private_port: 6379,
            public_port,
            ..Default::default()
        };
        let summary = ContainerSummary {
            id: Some("abc".into()),
            names: Some(vec!["/p-redis".into()]),
            state: Some(ContainerSummaryStateEnum::RESTARTING),
            labels: Some(labels),
            ports: Some(vec![port(Some(6379)), port(None)]),
            ..Default::default()
        };
        let expected = Observed {
            id: "abc".into(),
            name: "p-redis".into(),
            service: "redis".into(),
            state: "restarting".into(),
            spec_hash: "s1".into(),
            config_hash: "c1".into(),
            compose_hash: String::new(),
            image: String::new(),
            ports: vec![6379],
            profile: "dev".into(),
        };
        assert_eq!(observed(summary), expected);
        // One created by hand, without stackgen's labels, has empty ones.
        let bare = observed(ContainerSummary::default());
        assert_eq!((bare.name.as_str(), bare.service.as_str()), ("", ""));
    }

    #[test]
    fn an_inspected_container_reads_as_seen() {
        let inspected = |status, health: Option<HealthStatusEnum>| ContainerInspectResponse {
            state: Some(ContainerState {
                status: Some(status),
                exit_code: Some(1),
                started_at: Some("2026-12-07T03:45:29.123456789Z".into()),
                health: health.map(|status| Health {
                    status: Some(status),
                    log: Some(vec![HealthcheckResult {
                        output: Some(" first \n".into()),
                        ..Default::default()
                    }]),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        use ContainerStateStatusEnum::{EXITED, RUNNING};
        let cases = [
            (
                inspected(RUNNING, Some(HealthStatusEnum::HEALTHY)),
                true,
                Some("healthy"),
            ),
            (inspected(RUNNING, Some(HealthStatusEnum::NONE)), true, None),
            (inspected(RUNNING, None), true, None),
            (
                inspected(EXITED, Some(HealthStatusEnum::UNHEALTHY)),
                false,
                Some("unhealthy"),
            ),
        ];
        for (response, running, health) in cases {
            let seen = seen(response);
            assert_eq!((seen.running, seen.health.as_deref()), (running, health));
            assert_eq!(seen.exit_code, 1);
            // Since when it runs, to the nanosecond; a stopped one does not run.
            let since = UNIX_EPOCH + Duration::new(1_796_615_129, 123_456_789);
            assert_eq!(seen.started, running.then_some(since));
        }
        let last = seen(inspected(RUNNING, Some(HealthStatusEnum::STARTING)));
        assert_eq!(
            (last.status.as_str(), last.health_output.as_str()),
            ("running", "first")
        );
    }
}
