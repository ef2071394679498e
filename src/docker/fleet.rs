//! Each Redis target as the exporter sees it, asked through its multi-target endpoint
//! (`/scrape?target=<address>`) the way Prometheus asks: up or down, and what it is. A stack
//! of many targets is asked a few at a time in parallel. No password is involved here: the
//! exporter holds them.

use std::collections::BTreeMap;

use serde::Serialize;

use super::probe;
use crate::model::stack::Target;

/// Targets asked at once.
const PARALLEL: usize = 16;

/// One target as the exporter reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetStatus {
    pub name: String,
    pub address: String,
    pub labels: BTreeMap<String, String>,
    pub up: bool,
    /// Its role, memory and clients when up; why not, when down.
    pub detail: String,
}

/// Every target, in the stack's order.
pub fn scrape_all(host: &str, port: u16, targets: &[Target]) -> Vec<TargetStatus> {
    let mut found = Vec::with_capacity(targets.len());
    for chunk in targets.chunks(PARALLEL) {
        std::thread::scope(|scope| {
            let asked: Vec<_> = chunk
                .iter()
                .map(|target| scope.spawn(move || scrape(host, port, target)))
                .collect();
            found.extend(
                asked
                    .into_iter()
                    .map(|h| h.join().expect("a probe never panics")),
            );
        });
    }
    found
}

/// One target.
pub fn scrape(host: &str, port: u16, target: &Target) -> TargetStatus {
    let path = format!("/scrape?target={}", probe::encode_query(&target.address));
    let (up, detail) = match probe::get(host, port, &path) {
        Ok(response) if response.status == 200 => judge(&response.body),
        Ok(response) => (false, format!("the exporter answered {}", response.status)),
        Err(e) => (false, format!("the exporter did not answer: {e}")),
    };
    TargetStatus {
        name: target.name.clone(),
        address: target.address.clone(),
        labels: target.labels.clone(),
        up,
        detail,
    }
}

/// Up or down from a scrape's text, with what an operator looks at first.
fn judge(metrics: &str) -> (bool, String) {
    let value = |name: &str| {
        metrics.lines().find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            (series == name)
                .then(|| value.parse::<f64>().ok())
                .flatten()
        })
    };
    if value("redis_up") != Some(1.0) {
        return (
            false,
            "redis_up 0: the exporter cannot reach or log in to it".into(),
        );
    }
    let role = metrics
        .lines()
        .find(|l| l.starts_with("redis_instance_info{"))
        .and_then(|l| l.split("role=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("?");
    let role = if role == "slave" { "replica" } else { role };
    let used = value("redis_memory_used_bytes").unwrap_or_default();
    let max = value("redis_memory_max_bytes").unwrap_or_default();
    let memory = if max > 0.0 {
        format!("{:.0}% of maxmemory", used / max * 100.0)
    } else {
        format!("{:.1} MiB used, no maxmemory", used / 1048576.0)
    };
    let clients = value("redis_connected_clients").unwrap_or_default();
    (true, format!("{role}, {memory}, {clients} clients"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scrape_is_judged_by_redis_up() {
        let up = "redis_up 1\nredis_instance_info{role=\"slave\",x=\"y\"} 1\n\
                  redis_memory_used_bytes 512\nredis_memory_max_bytes 1024\n\
                  redis_connected_clients 3\n";
        assert_eq!(
            judge(up),
            (true, "replica, 50% of maxmemory, 3 clients".into())
        );
        assert!(!judge("redis_up 0\n").0);
        assert!(!judge("redis_uptime_in_seconds 1\n").0);
        assert_eq!(
            probe::encode_query("redis://[::1]:6379"),
            "redis%3A%2F%2F%5B%3A%3A1%5D%3A6379"
        );
    }
}
