//! Where and how the drill reaches the running stack: the addresses its services are published
//! at, the containers it may stop, kill or write into, the timing it waits by, and what the
//! stack is set up with. Made once, from the resolved stack and its container specification,
//! before the drill connects to anything; only read after that.

use super::error::{Error, Result};
use super::timing::Timing;
use crate::docker::spec::{ContainerSpec, StackSpec};
use crate::model::Stack;
use crate::model::stack::REDIS_PASSWORD;

/// A service's port as published on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Published {
    pub(crate) host: String,
    pub(crate) port: u16,
}

/// The published addresses of the services the drill talks to.
#[derive(Clone)]
pub(crate) struct Addresses {
    /// The managed Redis.
    pub(crate) redis: Published,
    /// Its password, when it asks for one.
    pub(crate) redis_password: Option<String>,
    pub(crate) prometheus: Published,
    /// Alertmanager's, when it runs and is published.
    pub(crate) alertmanager: Option<Published>,
}

impl Addresses {
    /// A client of the managed Redis, logged in when it asks for a password.
    pub(crate) fn redis_client(&self) -> Result<redis::Client> {
        let password = self.redis_password.as_deref();
        self.client(password)
    }

    /// A client of the managed Redis that never logs in.
    pub(crate) fn anonymous_client(&self) -> Result<redis::Client> {
        self.client(None)
    }

    fn client(&self, password: Option<&str>) -> Result<redis::Client> {
        crate::health::redis::client(&self.redis.host, self.redis.port, password)
            .map_err(Error::redis("Redis"))
    }
}

/// The stack's containers, by name, that the drill acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Containers {
    /// The managed Redis, which `recovery` kills and `alerts` stops.
    pub(crate) redis: String,
    /// Prometheus, which `--quick` writes its rules into.
    pub(crate) prometheus: String,
    /// The exporter and Alertmanager, which `alerts` stops: none when the service is off.
    pub(crate) exporter: Option<String>,
    pub(crate) alertmanager: Option<String>,
}

/// A node of the managed topology: its service (the name Sentinel knows it by), its published
/// address and its container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    pub(crate) service: String,
    pub(crate) address: Published,
    pub(crate) container: String,
}

/// Everything the drill knows about the running stack.
#[derive(Clone)]
pub(crate) struct Site {
    pub(crate) addresses: Addresses,
    pub(crate) containers: Containers,
    /// The managed Redis' data nodes (the primary and its replicas as rendered) and Sentinels.
    pub(crate) nodes: Vec<Node>,
    pub(crate) sentinels: Vec<Node>,
    /// How long the drill waits for what the stack does, and whether it is `--quick`.
    pub(crate) timing: Timing,
    /// The managed Redis' `target` label.
    pub(crate) target: String,
    /// Whether Alertmanager sends to Slack.
    pub(crate) slack: bool,
    /// The Slack notifications the drill's alerts counted as delivered.
    pub(crate) claims: super::claims::Claims,
    /// Alertmanager's configuration file on this machine (bind-mounted into its container),
    /// where `--quick` adds the drill's route for the drill's length.
    pub(crate) alertmanager_config: Option<std::path::PathBuf>,
}

impl Site {
    /// The running stack of `stack`, as `spec` publishes it; refused when the managed Redis or
    /// Prometheus is off, or the Redis password cannot be read.
    pub(crate) fn new(stack: &Stack, spec: &StackSpec, quick: bool) -> Result<Self> {
        let container = |service: &str| spec.containers.iter().find(|c| c.service == service);
        let published = |service: &str| {
            let container = container(service)?;
            let (host, port) = container.published()?;
            let address = Published {
                host: host.to_string(),
                port,
            };
            Some((address, container.name.clone()))
        };
        let name = |service: &str| container(service).map(|c| c.name.clone());
        let (redis, redis_container) = published("redis")
            .ok_or_else(|| Error::refused("a drill loads the managed Redis: it is off"))?;
        let (prometheus, prometheus_container) = published("prometheus").ok_or_else(|| {
            Error::refused("a drill checks its figures against Prometheus: it is off")
        })?;
        let redis_password = match stack.redis.auth {
            true => Some(
                crate::docker::secrets::value(spec, REDIS_PASSWORD)
                    .ok_or_else(|| Error::refused("the Redis password secret cannot be read"))?,
            ),
            false => None,
        };
        let target = stack
            .targets
            .iter()
            .find(|t| t.managed)
            .map(|t| t.name.clone())
            .unwrap_or_default();
        let node = |name: &String| {
            let (address, container) = published(name)?;
            Some(Node {
                service: name.clone(),
                address,
                container,
            })
        };
        let sentinels = stack.redis.sentinel.iter().flat_map(|s| &s.nodes);
        Ok(Self {
            nodes: stack
                .redis
                .nodes
                .iter()
                .filter_map(|n| node(&n.name))
                .collect(),
            sentinels: sentinels.filter_map(|n| node(&n.name)).collect(),
            addresses: Addresses {
                redis,
                redis_password,
                prometheus,
                alertmanager: published("alertmanager").map(|(address, _)| address),
            },
            containers: Containers {
                redis: redis_container,
                prometheus: prometheus_container,
                exporter: name("redis-exporter"),
                alertmanager: name("alertmanager"),
            },
            timing: Timing::new(stack, quick),
            target,
            slack: stack.alertmanager.service.enabled && stack.alertmanager.slack.is_some(),
            claims: Default::default(),
            alertmanager_config: container("alertmanager").and_then(config_file),
        })
    }
}

/// The file on this machine a container's `--config.file` names, through its config binds.
fn config_file(container: &ContainerSpec) -> Option<std::path::PathBuf> {
    let mut args = container.cmd.iter().flatten();
    let file = args.find_map(|arg| arg.strip_prefix("--config.file="))?;
    container.config_binds.iter().find_map(|bind| {
        let inside = std::path::Path::new(file).strip_prefix(&bind.target).ok()?;
        // `generated/dev/./alertmanager` as `generated/dev/alertmanager`.
        let source: std::path::PathBuf = bind.source.components().collect();
        Some(match inside.as_os_str().is_empty() {
            true => source,
            false => source.join(inside),
        })
    })
}

impl Site {
    /// The site with `service`, a data node of the managed topology, as the Redis the drill
    /// loads, kills and names: the primary Sentinel reports now.
    pub(crate) fn at(mut self, service: &str) -> Result<Self> {
        let node = self
            .nodes
            .iter()
            .find(|n| n.service == service)
            .ok_or_else(|| {
                Error::RedisState(format!("the primary `{service}` is no node of the stack"))
            })?;
        self.addresses.redis = node.address.clone();
        self.containers.redis = node.container.clone();
        self.target = node.service.clone();
        Ok(self)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The dev stack of `text`, and the files it renders.
    pub(crate) fn stack_and_tree(text: &str) -> (Stack, crate::render::Tree) {
        let stack =
            crate::model::resolve::tests::from_text(text).unwrap_or_else(|e| panic!("{e:?}"));
        let tree = crate::render::Renderer::builtin()
            .unwrap()
            .render(&stack)
            .unwrap();
        (stack, tree)
    }

    /// The dev stack of `text`, and its container specification as `up` reads it.
    pub(crate) fn rendered(text: &str, dir: &std::path::Path) -> (Stack, StackSpec) {
        let (stack, tree) = stack_and_tree(text);
        let spec = StackSpec::from_compose(&tree["compose.yaml"], dir).unwrap();
        (stack, spec)
    }

    #[test]
    fn the_site_is_what_the_stack_publishes() {
        let dir = tempfile::tempdir().unwrap();
        let (stack, spec) = rendered("[stack]\nname = \"t\"\n", dir.path());
        let site = Site::new(&stack, &spec, true).unwrap();
        let name = |service: &str| {
            let container = spec.containers.iter().find(|c| c.service == service);
            container.map(|c| c.name.clone())
        };
        assert_eq!(
            site.containers,
            Containers {
                redis: name("redis").unwrap(),
                prometheus: name("prometheus").unwrap(),
                exporter: name("redis-exporter"),
                alertmanager: name("alertmanager"),
            }
        );
        let published = |service: &str| {
            let container = spec.containers.iter().find(|c| c.service == service)?;
            let (host, port) = container.published()?;
            Some(Published {
                host: host.into(),
                port,
            })
        };
        assert_eq!(Some(&site.addresses.redis), published("redis").as_ref());
        assert_eq!(
            Some(&site.addresses.prometheus),
            published("prometheus").as_ref()
        );
        assert_eq!(site.addresses.alertmanager, published("alertmanager"));
        assert_eq!(site.addresses.redis_password.is_some(), stack.redis.auth);
        assert_eq!(site.target, "redis");
        assert!(site.timing.quick());
        // Alertmanager's configuration, as its container reads it from the generated folder.
        assert_eq!(
            site.alertmanager_config,
            Some(dir.path().join("alertmanager/alertmanager.yml"))
        );
    }

    #[test]
    fn a_drill_needs_redis_and_prometheus() {
        let dir = tempfile::tempdir().unwrap();
        let (stack, mut spec) = rendered("[stack]\nname = \"t\"\n", dir.path());
        spec.containers.retain(|c| c.service != "prometheus");
        let refused = Site::new(&stack, &spec, false).err().unwrap();
        assert_eq!(
            refused.to_string(),
            "a drill checks its figures against Prometheus: it is off"
        );
        spec.containers.retain(|c| c.service != "redis");
        let refused = Site::new(&stack, &spec, false).err().unwrap();
        assert_eq!(
            refused.to_string(),
            "a drill loads the managed Redis: it is off"
        );
    }
}
