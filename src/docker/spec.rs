//! The stack as the engine should run it: containers with their images, commands, ports,
//! mounts, secrets, health checks and dependencies; named volumes; where each secret's value
//! comes from. [`compose`](super::compose) reads it from `compose.yaml`; `up` runs it and
//! `status` probes it. Plain records: nothing here reads a file or talks to the engine.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

use crate::error::{Error, Result};

/// When a service may start after one it depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    ServiceStarted,
    ServiceHealthy,
}

/// A published port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Port {
    pub host_ip: String,
    pub host_port: u16,
    pub container_port: u16,
}

/// A healthcheck, durations in nanoseconds as the engine wants them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Health {
    pub test: Vec<String>,
    pub interval: i64,
    pub timeout: i64,
    pub retries: i64,
    pub start_period: i64,
}

#[cfg(test)]
impl Health {
    /// A check that always passes, for tests where only its presence matters.
    pub fn passing() -> Self {
        Self {
            test: vec!["CMD".into(), "true".into()],
            interval: 1,
            timeout: 1,
            retries: 1,
            start_period: 0,
        }
    }
}

/// A named volume: its engine name (`<project>_<name>`), driver and options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeSpec {
    pub name: String,
    pub driver: String,
    pub driver_opts: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

/// Where a secret's value comes from, for the runtime copy `up` mounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    File(PathBuf),
    Env(String),
}

/// A generated config file or folder bind-mounted into a container.
#[derive(Clone, PartialEq, Eq)]
pub struct ConfigBind {
    pub source: PathBuf,
    pub target: String,
    pub read_only: bool,
}

/// A named volume mounted into a container.
#[derive(Clone, PartialEq, Eq)]
pub struct VolumeMount {
    /// The engine's name of the volume, `<project>_<name>`.
    pub volume: String,
    pub target: String,
    pub read_only: bool,
}

/// A service this one starts after.
#[derive(Clone, PartialEq, Eq)]
pub struct Dependency {
    pub service: String,
    pub condition: Condition,
}

// These three print as the tuples they once were: a container's spec-hash label fingerprints
// the `Debug` text of its spec, and containers that earlier versions started must keep
// matching it, or the next `up` would recreate them all.
impl fmt::Debug for ConfigBind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (&self.source, &self.target, self.read_only).fmt(f)
    }
}

impl fmt::Debug for VolumeMount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (&self.volume, &self.target, self.read_only).fmt(f)
    }
}

impl fmt::Debug for Dependency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (&self.service, self.condition).fmt(f)
    }
}

/// One container as the engine should run it. Its `Debug` text is what the spec-hash label
/// fingerprints (see [`super::fingerprints::spec`]), so a field's name or type is part of that
/// label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSpec {
    pub service: String,
    pub name: String,
    pub image: String,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub env: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub ports: Vec<Port>,
    /// `./host:container[:ro]` binds of generated config files.
    pub config_binds: Vec<ConfigBind>,
    /// Secrets by name, mounted read-only at `/run/secrets/<name>`.
    pub secrets: Vec<String>,
    pub volumes: Vec<VolumeMount>,
    pub memory: Option<i64>,
    pub user: Option<String>,
    pub health: Option<Health>,
    pub depends_on: Vec<Dependency>,
    pub restart: bool,
    /// What the container may do and use.
    pub hardening: Hardening,
    /// Docker Compose's hash of the service, which its `config-hash` label carries.
    pub compose_hash: String,
}

impl ContainerSpec {
    /// A container of `service` that runs `image` with nothing else set.
    pub fn bare(service: &str, name: &str, image: &str) -> Self {
        Self {
            service: service.into(),
            name: name.into(),
            image: image.into(),
            entrypoint: None,
            cmd: None,
            env: vec![],
            labels: BTreeMap::new(),
            ports: vec![],
            config_binds: vec![],
            secrets: vec![],
            volumes: vec![],
            memory: None,
            user: None,
            health: None,
            depends_on: vec![],
            restart: true,
            hardening: Hardening::default(),
            compose_hash: String::new(),
        }
    }

    /// Where this machine reaches the service: its first published port.
    pub fn published(&self) -> Option<(&str, u16)> {
        let port = self.ports.first()?;
        Some((crate::health::http::reach(&port.host_ip), port.host_port))
    }
}

/// Least privilege and limits: security options, capabilities, a read-only root filesystem
/// with its tmpfs folders, a CPU limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hardening {
    pub security_opt: Vec<String>,
    pub cap_drop: Vec<String>,
    pub cap_add: Vec<String>,
    pub read_only: bool,
    pub tmpfs: Vec<String>,
    /// CPU limit in billionths of a core.
    pub nano_cpus: Option<i64>,
}

/// The whole stack as the engine should run it.
#[derive(Debug, Clone)]
pub struct StackSpec {
    pub project: String,
    pub network: String,
    pub containers: Vec<ContainerSpec>,
    pub volumes: Vec<VolumeSpec>,
    pub secrets: BTreeMap<String, SecretSource>,
}

impl StackSpec {
    /// Services in an order where every dependency comes first, grouped in waves that can
    /// start together.
    pub fn waves(&self) -> Result<Vec<Vec<&ContainerSpec>>> {
        let mut done: Vec<&str> = Vec::new();
        let mut waves = Vec::new();
        while done.len() < self.containers.len() {
            let wave: Vec<&ContainerSpec> = self
                .containers
                .iter()
                .filter(|c| !done.contains(&c.service.as_str()))
                .filter(|c| {
                    c.depends_on
                        .iter()
                        .all(|d| done.contains(&d.service.as_str()))
                })
                .collect();
            if wave.is_empty() {
                return Err(Error::Compose(
                    "compose.yaml: depends_on has a cycle or names a missing service".into(),
                ));
            }
            done.extend(wave.iter().map(|c| c.service.as_str()));
            waves.push(wave);
        }
        Ok(waves)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_and_dependencies_print_as_the_tuples_they_were() {
        let bind = ConfigBind {
            source: "/p/./redis".into(),
            target: "/etc/redis".into(),
            read_only: true,
        };
        let volume = VolumeMount {
            volume: "p_data".into(),
            target: "/data".into(),
            read_only: false,
        };
        let dependency = Dependency {
            service: "redis".into(),
            condition: Condition::ServiceHealthy,
        };
        let cases = [
            (
                format!("{bind:?}"),
                format!("{:?}", (PathBuf::from("/p/./redis"), "/etc/redis", true)),
            ),
            (
                format!("{volume:?}"),
                format!("{:?}", ("p_data", "/data", false)),
            ),
            (
                format!("{dependency:?}"),
                format!("{:?}", ("redis", Condition::ServiceHealthy)),
            ),
            (
                format!("{bind:#?}"),
                format!("{:#?}", (PathBuf::from("/p/./redis"), "/etc/redis", true)),
            ),
        ];
        for (record, tuple) in cases {
            assert_eq!(record, tuple);
        }
    }
}
