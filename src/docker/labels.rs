//! The labels Docker Compose v2 finds its objects by, written on what `up` creates so that
//! `docker compose -f generated/<profile>/compose.yaml ps`, `up` and `down` see stackgen's
//! containers, network and volumes as their own; and read back so that `up` adopts what compose
//! started. The container's `config-hash` is compose's own hash of the service (see
//! [`super::compose_hash`]), so compose keeps a container stackgen made, and stackgen keeps one
//! compose made, when nothing differs. Volumes get no hash label: a stale one makes compose
//! offer to recreate the volume, data and all.

use std::collections::BTreeMap;
use std::path::Path;

use super::compose_hash;
use super::spec::{Condition, ContainerSpec};

/// stackgen's own labels: which project, service and profile a container or volume belongs
/// to, and the fingerprints `up` plans by.
pub(crate) const PROJECT_LABEL: &str = "io.stackgen.project";
pub(crate) const SERVICE_LABEL: &str = "io.stackgen.service";
pub(crate) const SPEC_HASH_LABEL: &str = "io.stackgen.spec-hash";
pub(crate) const CONFIG_HASH_LABEL: &str = "io.stackgen.config-hash";
pub(crate) const RELOAD_LABEL: &str = "io.stackgen.reload";
/// The profile whose stack a container or volume belongs to (in compose.yaml's labels, so
/// that compose's containers carry it too).
pub(crate) const PROFILE_LABEL: &str = "io.stackgen.profile";

pub(crate) const COMPOSE_PROJECT: &str = "com.docker.compose.project";
pub(crate) const COMPOSE_SERVICE: &str = "com.docker.compose.service";
pub(crate) const COMPOSE_CONFIG_HASH: &str = "com.docker.compose.config-hash";
pub(crate) const COMPOSE_IMAGE: &str = "com.docker.compose.image";
const ONEOFF: &str = "com.docker.compose.oneoff";
const CONTAINER_NUMBER: &str = "com.docker.compose.container-number";
const VERSION: &str = "com.docker.compose.version";
const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
const DEPENDS_ON: &str = "com.docker.compose.depends_on";
const NETWORK: &str = "com.docker.compose.network";
const VOLUME: &str = "com.docker.compose.volume";

/// The Docker Compose release whose labels and hash these are.
pub(crate) const COMPOSE_VERSION: &str = "2.40.3";

/// Compose's labels of one service's container: `hash` is compose's hash of the service,
/// `image_id` the id of the image it runs, `tree_dir` the folder of `compose.yaml`.
pub(crate) fn container(
    project: &str,
    spec: &ContainerSpec,
    hash: &str,
    image_id: &str,
    tree_dir: &Path,
) -> BTreeMap<String, String> {
    let depends_on: Vec<String> = spec
        .depends_on
        .iter()
        .map(|d| {
            let condition = match d.condition {
                Condition::ServiceStarted => "service_started",
                Condition::ServiceHealthy => "service_healthy",
            };
            format!("{}:{condition}:false", d.service)
        })
        .collect();
    let pairs = [
        (COMPOSE_PROJECT, project.to_string()),
        (COMPOSE_SERVICE, spec.service.clone()),
        (ONEOFF, "False".to_string()),
        (CONTAINER_NUMBER, "1".to_string()),
        (COMPOSE_CONFIG_HASH, hash.to_string()),
        (COMPOSE_IMAGE, image_id.to_string()),
        (VERSION, COMPOSE_VERSION.to_string()),
        (WORKING_DIR, tree_dir.display().to_string()),
        (
            CONFIG_FILES,
            tree_dir.join("compose.yaml").display().to_string(),
        ),
        (DEPENDS_ON, depends_on.join(",")),
    ];
    owned(pairs)
}

/// Compose's labels of the project's default network, with its exact hash.
pub(crate) fn network(project: &str) -> BTreeMap<String, String> {
    let pairs = [
        (COMPOSE_PROJECT, project.to_string()),
        (NETWORK, "default".to_string()),
        (VERSION, COMPOSE_VERSION.to_string()),
        (COMPOSE_CONFIG_HASH, compose_hash::network_hash(project)),
    ];
    owned(pairs)
}

/// Compose's labels of a volume, `<project>_<key>`, without a hash.
pub(crate) fn volume(project: &str, name: &str) -> BTreeMap<String, String> {
    let key = name
        .strip_prefix(&format!("{project}_"))
        .unwrap_or(name)
        .to_string();
    let pairs = [
        (COMPOSE_PROJECT, project.to_string()),
        (VOLUME, key),
        (VERSION, COMPOSE_VERSION.to_string()),
    ];
    owned(pairs)
}

fn owned<const N: usize>(pairs: [(&str, String); N]) -> BTreeMap<String, String> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::spec::Dependency;

    #[test]
    fn a_container_carries_what_compose_lists_and_keeps_it_by() {
        let mut spec = ContainerSpec::bare("redis-exporter", "p-redis-exporter", "exporter:1");
        spec.depends_on = vec![Dependency {
            service: "redis".into(),
            condition: Condition::ServiceHealthy,
        }];
        let labels = container("p", &spec, "abc", "sha256:1", Path::new("/w/generated/dev"));
        let get = |k: &str| labels[k].as_str();
        assert_eq!(get(COMPOSE_PROJECT), "p");
        assert_eq!(get(COMPOSE_SERVICE), "redis-exporter");
        assert_eq!(get(ONEOFF), "False");
        assert_eq!(get(COMPOSE_CONFIG_HASH), "abc");
        assert_eq!(get(COMPOSE_IMAGE), "sha256:1");
        assert_eq!(get(CONFIG_FILES), "/w/generated/dev/compose.yaml");
        assert_eq!(get(DEPENDS_ON), "redis:service_healthy:false");
    }

    #[test]
    fn networks_and_volumes_are_compose_s_by_their_key() {
        let network = network("p");
        assert_eq!(network[NETWORK], "default");
        assert_eq!(network[COMPOSE_PROJECT], "p");
        let volume = volume("p", "p_redis-data");
        assert_eq!(volume[VOLUME], "redis-data");
        assert!(!volume.contains_key(COMPOSE_CONFIG_HASH));
    }
}
