//! A container as the engine creates it: a [`Desired`] container turned into the engine's create
//! body, with the spec-hash and config-hash labels, its config binds, secret copies and
//! volumes as mounts, published ports, health check, memory limit, restart policy and its
//! service name as an alias on the project's network. Pure: it creates nothing, and what it
//! leaves out a container does not get.

use std::collections::HashMap;
use std::path::Path;

use bollard::models::{
    ContainerCreateBody, EndpointSettings, HealthConfig, HostConfig, Mount, MountType,
    NetworkingConfig, PortBinding, RestartPolicy, RestartPolicyNameEnum,
};

use super::labels;
use super::plan::Desired;
use super::spec::{ContainerSpec, Health};

/// The engine refuses a start period under this, and compose's default of 0 means "none".
const MIN_START_PERIOD: i64 = 1_000_000_000 / 10;

/// The create body of `want`, on `network`, mounting its secret copies from `secret_dir`.
pub(crate) fn create_body(want: &Desired, network: &str, secret_dir: &Path) -> ContainerCreateBody {
    let spec = &want.spec;
    let port_bindings = port_bindings(spec);
    ContainerCreateBody {
        image: Some(spec.image.clone()),
        entrypoint: spec.entrypoint.clone(),
        cmd: spec.cmd.clone(),
        env: Some(spec.env.clone()),
        labels: Some(labels(want)),
        user: spec.user.clone(),
        exposed_ports: Some(port_bindings.keys().cloned().collect()),
        healthcheck: spec.health.as_ref().map(health),
        host_config: Some(HostConfig {
            port_bindings: Some(port_bindings),
            mounts: Some(mounts(spec, secret_dir)),
            memory: spec.memory,
            nano_cpus: spec.hardening.nano_cpus,
            security_opt: listed(&spec.hardening.security_opt),
            cap_drop: listed(&spec.hardening.cap_drop),
            cap_add: listed(&spec.hardening.cap_add),
            readonly_rootfs: Some(spec.hardening.read_only),
            tmpfs: (!spec.hardening.tmpfs.is_empty()).then(|| tmpfs(&spec.hardening.tmpfs)),
            restart_policy: Some(RestartPolicy {
                name: Some(if spec.restart {
                    RestartPolicyNameEnum::UNLESS_STOPPED
                } else {
                    RestartPolicyNameEnum::NO
                }),
                maximum_retry_count: None,
            }),
            network_mode: Some(network.to_string()),
            ..Default::default()
        }),
        networking_config: Some(NetworkingConfig {
            endpoints_config: Some(HashMap::from([(
                network.to_string(),
                EndpointSettings {
                    aliases: Some(vec![spec.service.clone()]),
                    ..Default::default()
                },
            )])),
        }),
        ..Default::default()
    }
}

fn labels(want: &Desired) -> HashMap<String, String> {
    let mut labels: HashMap<String, String> = want.spec.labels.clone().into_iter().collect();
    labels.insert(labels::SPEC_HASH_LABEL.into(), want.spec_hash.clone());
    labels.insert(labels::CONFIG_HASH_LABEL.into(), want.now.config.clone());
    labels
}

/// Config binds, then secret copies at `/run/secrets/<name>`, then named volumes.
fn mounts(spec: &ContainerSpec, secret_dir: &Path) -> Vec<Mount> {
    let mount = |typ, source: String, target: String, read_only| Mount {
        typ: Some(typ),
        source: Some(source),
        target: Some(target),
        read_only: Some(read_only),
        ..Default::default()
    };
    let binds = spec.config_binds.iter().map(|bind| {
        let source = bind.source.display().to_string();
        mount(MountType::BIND, source, bind.target.clone(), bind.read_only)
    });
    let secrets = spec.secrets.iter().map(|name| {
        let source = secret_dir.join(name).display().to_string();
        mount(
            MountType::BIND,
            source,
            format!("/run/secrets/{name}"),
            true,
        )
    });
    let volumes = spec.volumes.iter().map(|volume| {
        let (source, target) = (volume.volume.clone(), volume.target.clone());
        mount(MountType::VOLUME, source, target, volume.read_only)
    });
    binds.chain(secrets).chain(volumes).collect()
}

/// A list the engine gets only when it has something, as compose sends it.
fn listed(items: &[String]) -> Option<Vec<String>> {
    (!items.is_empty()).then(|| items.to_vec())
}

/// Compose's `tmpfs` entries (`/tmp` or `/tmp:size=16m`) as the engine's folder → options.
fn tmpfs(entries: &[String]) -> HashMap<String, String> {
    entries
        .iter()
        .map(|entry| match entry.split_once(':') {
            Some((folder, options)) => (folder.to_string(), options.to_string()),
            None => (entry.clone(), String::new()),
        })
        .collect()
}

/// `<container port>/tcp` → the host addresses it is published on.
fn port_bindings(spec: &ContainerSpec) -> HashMap<String, Option<Vec<PortBinding>>> {
    let mut bindings = HashMap::new();
    for port in &spec.ports {
        bindings
            .entry(format!("{}/tcp", port.container_port))
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: Some(port.host_ip.clone()),
                host_port: Some(port.host_port.to_string()),
            });
    }
    bindings
}

fn health(health: &Health) -> HealthConfig {
    HealthConfig {
        test: Some(health.test.clone()),
        interval: Some(health.interval),
        timeout: Some(health.timeout),
        retries: Some(health.retries),
        start_period: Some(health.start_period.max(MIN_START_PERIOD)),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::applied::Applied;
    use crate::docker::spec::{ConfigBind, Port, VolumeMount};

    fn desired() -> Desired {
        let mut spec = ContainerSpec::bare("redis", "p-redis", "redis:7.0");
        spec.labels
            .insert(labels::SERVICE_LABEL.into(), "redis".into());
        spec.config_binds = vec![ConfigBind {
            source: "/p/gen/./redis/redis.conf".into(),
            target: "/etc/redis.conf".into(),
            read_only: true,
        }];
        spec.secrets = vec!["redis_password".into()];
        spec.volumes = vec![VolumeMount {
            volume: "p_data".into(),
            target: "/data".into(),
            read_only: false,
        }];
        let port = |host_ip: &str| Port {
            host_ip: host_ip.into(),
            host_port: 6379,
            container_port: 6379,
        };
        spec.ports = vec![port("127.0.0.1"), port("::1")];
        spec.health = Some(Health::passing());
        Desired {
            spec,
            spec_hash: "s1".into(),
            image: String::new(),
            now: Applied {
                config: "c1".into(),
                secrets: "never in a label".into(),
                mounts: "m".into(),
            },
            secrets_stale: false,
            secrets_unreadable: false,
        }
    }

    #[test]
    fn the_body_carries_hashes_mounts_ports_and_health() {
        let body = create_body(&desired(), "p_default", Path::new("/rt/secrets/redis"));
        let labels = body.labels.clone().unwrap();
        assert_eq!(labels[labels::SPEC_HASH_LABEL], "s1");
        assert_eq!(labels[labels::CONFIG_HASH_LABEL], "c1");
        assert!(!labels.values().any(|v| v == "never in a label"));

        let host = body.host_config.unwrap();
        let mounts: Vec<(Option<MountType>, &str, &str, bool)> = host
            .mounts
            .as_ref()
            .unwrap()
            .iter()
            .map(|m| {
                let source = m.source.as_deref().unwrap_or_default();
                let target = m.target.as_deref().unwrap_or_default();
                (m.typ, source, target, m.read_only.unwrap())
            })
            .collect();
        assert_eq!(
            mounts,
            [
                (
                    Some(MountType::BIND),
                    "/p/gen/./redis/redis.conf",
                    "/etc/redis.conf",
                    true
                ),
                (
                    Some(MountType::BIND),
                    "/rt/secrets/redis/redis_password",
                    "/run/secrets/redis_password",
                    true
                ),
                (Some(MountType::VOLUME), "p_data", "/data", false),
            ]
        );
        let published = host.port_bindings.unwrap()["6379/tcp"].clone().unwrap();
        let ips: Vec<_> = published
            .iter()
            .map(|b| b.host_ip.as_deref().unwrap())
            .collect();
        assert_eq!(ips, ["127.0.0.1", "::1"]);
        assert_eq!(
            host.restart_policy.unwrap().name,
            Some(RestartPolicyNameEnum::UNLESS_STOPPED)
        );
        assert_eq!(host.network_mode.as_deref(), Some("p_default"));

        let health = body.healthcheck.unwrap();
        assert_eq!(health.start_period, Some(MIN_START_PERIOD));
        let aliases = &body.networking_config.unwrap().endpoints_config.unwrap()["p_default"];
        assert_eq!(aliases.aliases.as_deref(), Some(&["redis".to_string()][..]));
    }

    #[test]
    fn a_service_that_must_not_restart_gets_no_policy() {
        let mut want = desired();
        want.spec.restart = false;
        let body = create_body(&want, "p_default", Path::new("/rt"));
        let policy = body.host_config.unwrap().restart_policy.unwrap();
        assert_eq!(policy.name, Some(RestartPolicyNameEnum::NO));
    }
}
