//! The part of the compose format stackgen generates, read back from `compose.yaml` and turned
//! into container specifications for the engine. `up` runs what the compose file says (template
//! overrides included), so `docker compose` and `stackgen up` start the same stack. A key
//! outside this subset is an error that says so, never silently dropped.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::compose_hash;

/// What [`StackSpec::from_compose`] reads `compose.yaml` into.
pub use super::spec::StackSpec;
use super::spec::{
    ConfigBind, ContainerSpec, Dependency, Hardening, Health, Port, SecretSource, VolumeMount,
    VolumeSpec,
};
use crate::error::{Error, Result};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComposeFile {
    pub name: String,
    pub services: BTreeMap<String, ComposeService>,
    #[serde(default)]
    pub volumes: BTreeMap<String, Option<ComposeVolume>>,
    #[serde(default)]
    pub secrets: BTreeMap<String, ComposeSecret>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComposeService {
    pub image: String,
    pub container_name: Option<String>,
    pub restart: Option<String>,
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    #[serde(default)]
    pub ports: Vec<String>,
    #[serde(default)]
    pub volumes: Vec<String>,
    #[serde(default)]
    pub secrets: Vec<String>,
    pub mem_limit: Option<i64>,
    pub cpus: Option<f64>,
    #[serde(default)]
    pub security_opt: Vec<String>,
    #[serde(default)]
    pub cap_drop: Vec<String>,
    #[serde(default)]
    pub cap_add: Vec<String>,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub tmpfs: Vec<String>,
    pub user: Option<String>,
    pub healthcheck: Option<ComposeHealth>,
    #[serde(default)]
    pub depends_on: BTreeMap<String, DependsOn>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComposeHealth {
    pub test: Vec<String>,
    pub interval: Option<String>,
    pub timeout: Option<String>,
    pub retries: Option<i64>,
    pub start_period: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DependsOn {
    pub condition: super::spec::Condition,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComposeVolume {
    pub driver: Option<String>,
    #[serde(default)]
    pub driver_opts: BTreeMap<String, String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComposeSecret {
    pub file: Option<String>,
    pub environment: Option<String>,
}

/// Compose interpolation: `$$` is a literal `$`; stackgen does not substitute variables.
fn unescape(text: &str, what: &str) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' {
            if chars.peek() == Some(&'$') {
                chars.next();
            } else {
                return Err(Error::Compose(format!(
                    "{what}: variable interpolation (`$…`) is not supported by `stackgen up`; \
                     write `$$` for a literal `$`"
                )));
            }
        }
        out.push(c);
    }
    Ok(out)
}

/// Compose durations (`5s`, `1m30s`) in nanoseconds.
fn nanos(text: &Option<String>, default: &str) -> Result<i64> {
    let text = text.as_deref().unwrap_or(default);
    let duration: crate::model::units::Duration = text
        .parse()
        .map_err(|e| Error::Compose(format!("healthcheck: {e}")))?;
    Ok(duration.millis() as i64 * 1_000_000)
}

fn parse_port(text: &str, service: &str) -> Result<Port> {
    let bad = || {
        Error::Compose(format!(
            "service {service}: port `{text}` is not `IP:HOST_PORT:CONTAINER_PORT`"
        ))
    };
    let (ip, rest) = if let Some(inner) = text.strip_prefix('[') {
        let (ip, rest) = inner.split_once("]:").ok_or_else(bad)?;
        (ip.to_string(), rest)
    } else {
        let (ip, rest) = text.split_once(':').ok_or_else(bad)?;
        (ip.to_string(), rest)
    };
    let (host, container) = rest.split_once(':').ok_or_else(bad)?;
    Ok(Port {
        host_ip: ip,
        host_port: host.parse().map_err(|_| bad())?,
        container_port: container
            .trim_end_matches("/tcp")
            .parse()
            .map_err(|_| bad())?,
    })
}

/// Where one entry of a service's `volumes:` goes.
enum ServiceMount {
    Config(ConfigBind),
    Volume(VolumeMount),
}

/// A `SOURCE:TARGET[:ro]` entry: a relative path is a generated config file, anything else
/// must be a volume the file declares.
fn parse_mount(
    entry: &str,
    what: &str,
    file: &ComposeFile,
    tree_dir: &Path,
) -> Result<ServiceMount> {
    let parts: Vec<&str> = entry.split(':').collect();
    let (source, target, read_only) = match parts.as_slice() {
        [source, target] => (*source, *target, false),
        [source, target, "ro"] => (*source, *target, true),
        [source, target, "rw"] => (*source, *target, false),
        _ => {
            return Err(Error::Compose(format!(
                "{what}: volume `{entry}` is not `SOURCE:TARGET[:ro]`"
            )));
        }
    };
    let target = target.to_string();
    if source.starts_with("./") || source.starts_with("../") {
        Ok(ServiceMount::Config(ConfigBind {
            source: tree_dir.join(source),
            target,
            read_only,
        }))
    } else if file.volumes.contains_key(source) {
        Ok(ServiceMount::Volume(VolumeMount {
            volume: format!("{}_{source}", file.name),
            target,
            read_only,
        }))
    } else {
        Err(Error::Compose(format!(
            "{what}: volume `{source}` is neither a relative path nor a declared volume"
        )))
    }
}

fn parse_health(health: &ComposeHealth, what: &str) -> Result<Health> {
    Ok(Health {
        test: health
            .test
            .iter()
            .map(|t| unescape(t, what))
            .collect::<Result<_>>()?,
        interval: nanos(&health.interval, "30s")?,
        timeout: nanos(&health.timeout, "30s")?,
        retries: health.retries.unwrap_or(3),
        start_period: nanos(&health.start_period, "0s")?,
    })
}

fn parse_volumes(file: &ComposeFile) -> Vec<VolumeSpec> {
    file.volumes
        .iter()
        .map(|(name, volume)| {
            let volume = volume.as_ref();
            VolumeSpec {
                name: format!("{}_{name}", file.name),
                driver: volume
                    .and_then(|v| v.driver.clone())
                    .unwrap_or_else(|| "local".into()),
                driver_opts: volume.map(|v| v.driver_opts.clone()).unwrap_or_default(),
                labels: volume.map(|v| v.labels.clone()).unwrap_or_default(),
            }
        })
        .collect()
}

fn parse_secrets(file: &ComposeFile, tree_dir: &Path) -> Result<BTreeMap<String, SecretSource>> {
    let mut secrets = BTreeMap::new();
    for (name, secret) in &file.secrets {
        let source = match (&secret.file, &secret.environment) {
            // Lexically: `generated/<profile>/` need not exist yet (a dry run writes nothing).
            (Some(path), None) => SecretSource::File(
                compose_hash::clean(&tree_dir.join(path).to_string_lossy()).into(),
            ),
            (None, Some(variable)) => SecretSource::Env(variable.clone()),
            _ => {
                return Err(Error::Compose(format!(
                    "secret {name}: give exactly one of `file` or `environment`"
                )));
            }
        };
        secrets.insert(name.clone(), source);
    }
    Ok(secrets)
}

/// One service of the file as a container; `secrets` are the file's declared secrets.
fn parse_service(
    service: &str,
    s: &ComposeService,
    file: &ComposeFile,
    secrets: &BTreeMap<String, SecretSource>,
    tree_dir: &Path,
) -> Result<ContainerSpec> {
    let what = format!("service {service}");
    let list = |items: &Option<Vec<String>>| -> Result<Option<Vec<String>>> {
        items
            .as_ref()
            .map(|v| v.iter().map(|i| unescape(i, &what)).collect())
            .transpose()
    };
    let mut config_binds = Vec::new();
    let mut volumes = Vec::new();
    for entry in &s.volumes {
        match parse_mount(entry, &what, file, tree_dir)? {
            ServiceMount::Config(bind) => config_binds.push(bind),
            ServiceMount::Volume(mount) => volumes.push(mount),
        }
    }
    if let Some(secret) = s.secrets.iter().find(|name| !secrets.contains_key(*name)) {
        return Err(Error::Compose(format!(
            "{what}: secret `{secret}` is not declared"
        )));
    }
    let health = s
        .healthcheck
        .as_ref()
        .map(|h| parse_health(h, &what))
        .transpose()?;
    Ok(ContainerSpec {
        service: service.to_string(),
        name: s
            .container_name
            .clone()
            .unwrap_or_else(|| format!("{}-{service}", file.name)),
        image: s.image.clone(),
        entrypoint: list(&s.entrypoint)?,
        cmd: list(&s.command)?,
        env: s
            .environment
            .iter()
            .map(|(k, v)| Ok(format!("{k}={}", unescape(v, &what)?)))
            .collect::<Result<_>>()?,
        labels: s.labels.clone(),
        ports: s
            .ports
            .iter()
            .map(|p| parse_port(p, service))
            .collect::<Result<_>>()?,
        config_binds,
        secrets: s.secrets.clone(),
        volumes,
        memory: s.mem_limit,
        user: s.user.clone(),
        health,
        depends_on: s
            .depends_on
            .iter()
            .map(|(service, d)| Dependency {
                service: service.clone(),
                condition: d.condition,
            })
            .collect(),
        restart: s.restart.as_deref() != Some("no"),
        hardening: Hardening {
            security_opt: s.security_opt.clone(),
            cap_drop: s.cap_drop.clone(),
            cap_add: s.cap_add.clone(),
            read_only: s.read_only,
            tmpfs: s.tmpfs.clone(),
            nano_cpus: s.cpus.map(|c| (c * 1e9).round() as i64),
        },
        compose_hash: String::new(),
    })
}

impl StackSpec {
    /// Reads `compose.yaml` of `tree_dir` (a `generated/<profile>/` folder); relative paths
    /// in it are relative to that folder, as for `docker compose`.
    pub fn from_compose(text: &str, tree_dir: &Path) -> Result<Self> {
        let file: ComposeFile = crate::yaml::from_str(text).map_err(|e| {
            Error::Compose(format!(
                "compose.yaml: {e} (stackgen up reads the subset of compose that stackgen \
                 generates)"
            ))
        })?;
        let secrets = parse_secrets(&file, tree_dir)?;
        let raw: serde_json::Value = crate::yaml::from_str(text)
            .map_err(|e| Error::Compose(format!("compose.yaml: {e}")))?;
        let containers = file
            .services
            .iter()
            .map(|(service, s)| {
                let mut spec = parse_service(service, s, &file, &secrets, tree_dir)?;
                spec.compose_hash = compose_hash::service_hash(&raw["services"][service], tree_dir)
                    .map_err(|e| Error::Compose(format!("compose.yaml: service {service}: {e}")))?;
                Ok(spec)
            })
            .collect::<Result<_>>()?;
        let spec = Self {
            network: format!("{}_default", file.name),
            volumes: parse_volumes(&file),
            project: file.name,
            containers,
            secrets,
        };
        // A cycle or a missing service in depends_on stops `up` before anything changes.
        spec.waves()?;
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn reads_the_generated_example() {
        let text = include_str!("../../generated/prod/compose.yaml");
        let spec = StackSpec::from_compose(text, Path::new("/p/generated/prod")).unwrap();
        assert_eq!(
            (spec.project.as_str(), spec.network.as_str()),
            ("bluesky", "bluesky_default")
        );
        let waves: Vec<Vec<&str>> = spec
            .waves()
            .unwrap()
            .iter()
            .map(|w| w.iter().map(|c| c.service.as_str()).collect())
            .collect();
        assert_eq!(
            waves,
            [
                vec!["alertmanager", "prometheus", "redis"],
                vec!["grafana", "redis-exporter"]
            ]
        );
        let redis = spec
            .containers
            .iter()
            .find(|c| c.service == "redis")
            .unwrap();
        assert_eq!(redis.name, "bluesky-redis");
        assert_eq!(
            redis.ports,
            [Port {
                host_ip: "127.0.0.1".into(),
                host_port: 6379,
                container_port: 6379
            }]
        );
        assert_eq!(redis.memory, Some(2 << 30));
        // compose's `$$` reaches the container as `$`.
        assert!(redis.cmd.as_ref().unwrap()[2].contains("sg_conf \"$sg_value\""));
        assert_eq!(redis.secrets, ["redis_password"]);
        assert!(redis.volumes.contains(&VolumeMount {
            volume: "bluesky_redis-data".into(),
            target: "/data".into(),
            read_only: false
        }));
        assert!(redis.config_binds.contains(&ConfigBind {
            source: PathBuf::from("/p/generated/prod/./redis/redis.conf"),
            target: "/usr/local/etc/redis/redis.conf".into(),
            read_only: true
        }));
        assert_eq!(
            spec.secrets["redis_password"],
            SecretSource::File("/p/secrets/redis_password.txt".into())
        );
        assert_eq!(
            spec.secrets["slack_webhook_url"],
            SecretSource::Env("SLACK_WEBHOOK_URL".into())
        );
        let auth = spec
            .volumes
            .iter()
            .find(|v| v.name == "bluesky_redis-exporter-map")
            .unwrap();
        assert_eq!(auth.driver_opts["type"], "tmpfs");
        let health = redis.health.as_ref().unwrap();
        assert_eq!((health.interval, health.retries), (2_000_000_000, 30));
    }

    #[test]
    fn ports_and_escapes() {
        assert_eq!(
            parse_port("[::1]:9090:9090", "p").unwrap(),
            Port {
                host_ip: "::1".into(),
                host_port: 9090,
                container_port: 9090
            }
        );
        assert_eq!(
            parse_port("127.0.0.1:6379:6379", "r").unwrap().host_port,
            6379
        );
        assert!(parse_port("6379", "r").is_err());
        assert_eq!(unescape("a=$$(cat x)", "t").unwrap(), "a=$(cat x)");
        assert!(unescape("${HOME}", "t").is_err());
    }
}
