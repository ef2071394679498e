//! `down`: removes the project's containers and networks, found by label, whoever created them;
//! its volumes, and with them Redis' data, only when asked; a network that other containers
//! (the application) are attached to stays, and the report names them. Also how one container
//! of the project is removed, gracefully, which `up` uses for containers that leave or are
//! replaced. Something already gone counts as removed. It leaves the secret copies to the
//! command, and never touches what the project's label does not mark.

use bollard::Docker;
use bollard::errors::Error as DockerError;
use bollard::query_parameters::{
    RemoveContainerOptionsBuilder, RemoveVolumeOptionsBuilder, StopContainerOptionsBuilder,
};

use super::engine::{engine_error, is_not_found};
use super::observe;
use crate::error::Result;
use crate::printer::plural;

/// Seconds a container is given to stop on SIGTERM before it is killed.
pub(crate) const STOP_GRACE_SECONDS: i32 = 10;

/// What `down` removed and kept.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct DownReport {
    pub containers: Vec<String>,
    pub networks: Vec<String>,
    pub volumes_removed: Vec<String>,
    pub volumes_kept: Vec<String>,
    /// Networks left in place because containers stackgen did not create are attached:
    /// network → those containers' names.
    pub networks_left: Vec<(String, Vec<String>)>,
}

impl DownReport {
    fn new(
        mut containers: Vec<String>,
        networks: Vec<String>,
        volumes: Vec<String>,
        volumes_removed: bool,
    ) -> Self {
        containers.sort();
        let (volumes_removed, volumes_kept) = if volumes_removed {
            (volumes, Vec::new())
        } else {
            (Vec::new(), volumes)
        };
        Self {
            containers,
            networks,
            volumes_removed,
            volumes_kept,
            networks_left: Vec::new(),
        }
    }

    /// Whether `down` left something of the stack in place.
    pub(crate) fn left_anything(&self) -> bool {
        !self.networks_left.is_empty()
    }

    /// What was left, and how to finish: one line per network.
    pub(crate) fn left(&self) -> Vec<String> {
        self.networks_left
            .iter()
            .map(|(network, attached)| {
                let disconnect: Vec<String> = attached
                    .iter()
                    .map(|c| format!("`docker network disconnect {network} {c}`"))
                    .collect();
                format!(
                    "left network {network}: {} not created by stackgen {} attached to it ({}); \
                     to finish, {}, then `stackgen down` again",
                    plural(attached.len(), "container"),
                    if attached.len() == 1 { "is" } else { "are" },
                    attached.join(", "),
                    disconnect.join(" and ")
                )
            })
            .collect()
    }

    /// One line for the user about the project `name`.
    pub(crate) fn summary(&self, name: &str) -> String {
        let mut summary = format!(
            "Removed {} and {} of {name}.",
            plural(self.containers.len(), "container"),
            plural(self.networks.len(), "network"),
        );
        if !self.volumes_removed.is_empty() {
            summary.push_str(&format!(
                " Removed volumes: {}.",
                self.volumes_removed.join(", ")
            ));
        }
        if !self.volumes_kept.is_empty() {
            summary.push_str(&format!(
                " Kept volumes (data): {} — `down --volumes` removes them.",
                self.volumes_kept.join(", ")
            ));
        }
        summary
    }
}

/// Removes the project's containers, found by label; its volumes when asked; then its
/// network, unless containers stackgen did not create are attached to it (the application):
/// those it never touches, and the report names them.
pub(crate) async fn down(
    docker: &Docker,
    project: &str,
    remove_volumes: bool,
) -> Result<DownReport> {
    let containers = observe::containers(docker, project).await?;
    futures_util::future::try_join_all(containers.iter().map(|c| remove_container(docker, &c.id)))
        .await?;
    let volumes: Vec<String> = observe::volumes(docker, project)
        .await?
        .into_iter()
        .collect();
    if remove_volumes {
        for volume in &volumes {
            remove_volume(docker, volume).await?;
        }
    }
    let mut removed = Vec::new();
    let mut left = Vec::new();
    for (name, id) in observe::networks(docker, project).await? {
        let attached = observe::attached(docker, &id).await?;
        if attached.is_empty() {
            gone(docker.remove_network(&id).await, &name)?;
            removed.push(name);
        } else {
            left.push((name, attached));
        }
    }
    let mut report = DownReport::new(
        containers.into_iter().map(|c| c.name).collect(),
        removed,
        volumes,
        remove_volumes,
    );
    report.networks_left = left;
    Ok(report)
}

/// Stops a container, then removes it. The graceful stop matters: Redis flushes its
/// append-only file on SIGTERM.
pub(crate) async fn remove_container(docker: &Docker, name: &str) -> Result<()> {
    let stop = StopContainerOptionsBuilder::new()
        .t(STOP_GRACE_SECONDS)
        .build();
    gone(docker.stop_container(name, Some(stop)).await, name)?;
    let remove = RemoveContainerOptionsBuilder::new().force(true).build();
    gone(docker.remove_container(name, Some(remove)).await, name)
}

async fn remove_volume(docker: &Docker, volume: &str) -> Result<()> {
    let options = RemoveVolumeOptionsBuilder::new().force(true).build();
    gone(docker.remove_volume(volume, Some(options)).await, volume)
}

/// A removal (or stop) of `what` that found it already gone has done its job.
fn gone(result: std::result::Result<(), DockerError>, what: &str) -> Result<()> {
    match result {
        Err(e) if !is_not_found(&e) => Err(engine_error(what)(e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn volumes_stay_unless_asked_and_the_summary_says_so() {
        let cases = [
            (
                DownReport::new(
                    names(&["p-redis", "p-grafana"]),
                    names(&["p_default"]),
                    names(&["p_data"]),
                    false,
                ),
                "Removed 2 containers and 1 network of p. Kept volumes (data): p_data — \
                 `down --volumes` removes them.",
            ),
            (
                DownReport::new(
                    names(&["p-redis"]),
                    names(&[]),
                    names(&["p_a", "p_b"]),
                    true,
                ),
                "Removed 1 container and 0 networks of p. Removed volumes: p_a, p_b.",
            ),
            (
                DownReport::new(names(&[]), names(&[]), names(&[]), true),
                "Removed 0 containers and 0 networks of p.",
            ),
        ];
        for (report, summary) in cases {
            assert_eq!(report.summary("p"), summary);
        }
        let mut left = DownReport::new(names(&[]), names(&[]), names(&[]), false);
        left.networks_left = vec![("p_default".into(), names(&["app"]))];
        assert_eq!(
            left.left(),
            [
                "left network p_default: 1 container not created by stackgen is attached to it \
              (app); to finish, `docker network disconnect p_default app`, then `stackgen down` \
              again"
            ]
        );
        let kept = DownReport::new(names(&["b", "a"]), names(&[]), names(&["v"]), false);
        assert_eq!(
            (kept.containers, kept.volumes_kept),
            (names(&["a", "b"]), names(&["v"]))
        );
    }
}
