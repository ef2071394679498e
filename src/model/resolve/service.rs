//! Every service's fixed facts and defaults, and the keys every service table shares:
//! image, bind, port, memory and CPU limits.

use std::net::IpAddr;

use super::{Collector, DEFAULT_BIND};
use crate::diagnostic::Code;
use crate::model::stack::Service;
use crate::model::units::{Cpus, Size};

/// A service's fixed facts and defaults.
pub(crate) struct ServiceDefaults {
    /// Its name in the compose file and in container names.
    pub name: &'static str,
    /// The `stack.toml` table that configures it.
    pub table: &'static str,
    pub image: &'static str,
    /// The port it listens on in its container, and the default published port.
    pub port: u16,
    /// Its container's default memory and CPU limits.
    pub memory_limit: Size,
    pub cpus: Cpus,
}

pub(crate) const REDIS: ServiceDefaults = ServiceDefaults {
    name: "redis",
    table: "redis",
    image: "redis:7.2",
    port: 6379,
    memory_limit: Size::gib(2),
    cpus: Cpus(1.0),
};
pub(crate) const REDIS_EXPORTER: ServiceDefaults = ServiceDefaults {
    name: "redis-exporter",
    table: "redis_exporter",
    image: "oliver006/redis_exporter:v1.62.0",
    port: 9121,
    memory_limit: Size::mib(128),
    cpus: Cpus(0.5),
};
pub(crate) const PROMETHEUS: ServiceDefaults = ServiceDefaults {
    name: "prometheus",
    table: "prometheus",
    image: "prom/prometheus:v2.53.0",
    port: 9090,
    memory_limit: Size::gib(2),
    cpus: Cpus(1.0),
};
pub(crate) const ALERTMANAGER: ServiceDefaults = ServiceDefaults {
    name: "alertmanager",
    table: "alertmanager",
    image: "prom/alertmanager:v0.27.0",
    port: 9093,
    memory_limit: Size::mib(256),
    cpus: Cpus(0.5),
};
pub(crate) const GRAFANA: ServiceDefaults = ServiceDefaults {
    name: "grafana",
    table: "grafana",
    image: "grafana/grafana:11.1.0",
    port: 3000,
    memory_limit: Size::mib(512),
    cpus: Cpus(1.0),
};

/// A service's container and how it is published, from its table's common keys.
/// What every service table sets besides its own keys.
pub(super) struct ServiceKeys {
    pub enabled: Option<bool>,
    pub image: Option<String>,
    pub bind: Option<String>,
    pub port: Option<u16>,
    pub memory_limit: Option<Size>,
    pub cpus: Option<Cpus>,
}

pub(super) fn service(
    c: &mut Collector<'_>,
    defaults: &ServiceDefaults,
    keys: ServiceKeys,
) -> Service {
    let ServiceKeys {
        enabled,
        image,
        bind,
        port,
        memory_limit,
        cpus,
    } = keys;
    let table = defaults.table;
    let image = image.unwrap_or_else(|| defaults.image.to_string());
    if let Err(why) = crate::model::grammar::image(&image) {
        c.error(Code::InvalidValue, &format!("{table}.image"), why);
    }
    let bind = bind.unwrap_or_else(|| DEFAULT_BIND.to_string());
    if bind.parse::<IpAddr>().is_err() {
        c.error(
            Code::InvalidValue,
            &format!("{table}.bind"),
            format!("`bind` must be an IP address such as `127.0.0.1` or `0.0.0.0`, not `{bind}`"),
        );
    }
    let port = port.unwrap_or(defaults.port);
    if port == 0 {
        c.error(
            Code::InvalidValue,
            &format!("{table}.port"),
            "`port` must be between 1 and 65535",
        );
    }
    let host = if bind.contains(':') {
        format!("[{bind}]")
    } else {
        bind.clone()
    };
    Service {
        name: defaults.name,
        table,
        enabled: enabled.unwrap_or(true),
        image,
        publish: format!("{host}:{port}:{}", defaults.port),
        bind,
        port,
        container_port: defaults.port,
        memory_limit: limit_memory(c, table, memory_limit.unwrap_or(defaults.memory_limit)),
        memory_limit_bytes: memory_limit.unwrap_or(defaults.memory_limit).bytes(),
        cpus: limit_cpus(c, table, cpus.unwrap_or(defaults.cpus)),
    }
}

/// The smallest memory limit the engine accepts; below it (`0B` among them) there would be no
/// limit at all, or a container that cannot start.
pub(crate) const MIN_MEMORY_LIMIT: Size = Size::mib(6);
/// The smallest CPU share the engine accepts; below it the limit is dropped.
pub(crate) const MIN_CPUS: f64 = 0.01;
pub(crate) const MAX_CPUS: f64 = 1024.0;

/// A memory limit the engine accepts.
pub(super) fn limit_memory(c: &mut Collector<'_>, table: &str, limit: Size) -> Size {
    if limit < MIN_MEMORY_LIMIT {
        c.error(
            Code::InvalidValue,
            &format!("{table}.memory_limit"),
            format!(
                "`memory_limit` must be at least {MIN_MEMORY_LIMIT}, the engine's smallest \
                 limit, not {limit}"
            ),
        );
    }
    limit
}

/// A CPU limit the engine accepts: from 0.01 to 1024 cores.
fn limit_cpus(c: &mut Collector<'_>, table: &str, cpus: Cpus) -> Cpus {
    if !(MIN_CPUS..=MAX_CPUS).contains(&cpus.0) {
        c.error(
            Code::InvalidValue,
            &format!("{table}.cpus"),
            format!(
                "`cpus` must be a number of cores from {MIN_CPUS} to {MAX_CPUS}, such as 0.5 or \
                 2, not {cpus}"
            ),
        );
    }
    cpus
}
