//! Host ports: no two services, and no replica or Sentinel, publish the same one on addresses
//! that overlap. Each clash is an error at the key that moves it.

use super::Collector;
use crate::diagnostic::Code;
use crate::model::grammar;
use crate::model::stack::{Service, Stack};

fn is_wildcard(bind: &str) -> bool {
    grammar::Reach::of(bind) == Some(grammar::Reach::Everywhere)
}

fn binds_overlap(a: &str, b: &str) -> bool {
    a == b || is_wildcard(a) || is_wildcard(b)
}

/// Two enabled services cannot publish the same host port on overlapping addresses.
pub(super) fn services(c: &mut Collector<'_>, services: &[&Service]) {
    for (i, later) in services.iter().enumerate() {
        let clash = services[..i].iter().find(|earlier| {
            earlier.enabled
                && later.enabled
                && earlier.port == later.port
                && binds_overlap(&earlier.bind, &later.bind)
        });
        if let Some(earlier) = clash {
            let later_key = format!("{}.port", later.table);
            let earlier_key = format!("{}.port", earlier.table);
            let key = c.sources.first_set(&[&later_key, &earlier_key]).to_string();
            c.error(
                Code::PortClash,
                &key,
                format!(
                    "host port {} is already published by `{}`; two services cannot share one \
                     host port",
                    later.port, earlier.table
                ),
            );
        }
    }
}

/// Each replica and Sentinel publishes its own host port: none may be another service's.
pub(super) fn topology(c: &mut Collector<'_>, stack: &Stack) {
    let redis = &stack.redis;
    let replicas = redis.nodes.iter().skip(1).map(|n| (n, "redis.replicas"));
    let sentinels = redis.sentinel.iter().flat_map(|s| &s.nodes);
    let nodes: Vec<_> = replicas
        .chain(sentinels.map(|n| (n, "redis.sentinel.port")))
        .collect();
    for (node, key) in &nodes {
        let clash = stack.services().into_iter().find(|s| {
            s.enabled && s.port == node.port && binds_overlap(&s.bind, &redis.service.bind)
        });
        if let Some(service) = clash {
            c.error(
                Code::PortClash,
                key,
                format!(
                    "`{}` publishes host port {}, which `{}` publishes already: move `{}.port`",
                    node.name, node.port, service.table, service.table
                ),
            );
        }
    }
}
