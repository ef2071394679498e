//! What a scrape says of a node's place in its topology: a data node's current role beside the
//! one it was rendered in, and what a Sentinel sees of each primary it watches. Roles are
//! Sentinel's to change: a difference is told, never counted as a failure.

use crate::model::raw::TargetKind;
use crate::model::stack::Target;

/// Every series of `name` in a scrape's text: its labels and its value.
pub(crate) fn series<'a>(metrics: &'a str, name: &str) -> Vec<(Vec<(&'a str, &'a str)>, f64)> {
    let prefix = format!("{name}{{");
    metrics
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(&prefix)?;
            let (labels, value) = rest.rsplit_once("} ")?;
            Some((labels_of(labels), value.parse().ok()?))
        })
        .collect()
}

/// `a="x",b="y"` as pairs; the exporter's values here (roles, addresses, names) hold no quote.
fn labels_of(text: &str) -> Vec<(&str, &str)> {
    text.split("\",")
        .filter_map(|pair| {
            let (name, value) = pair.split_once("=\"")?;
            Some((name, value.trim_end_matches('"')))
        })
        .collect()
}

fn label<'a>(labels: &[(&'a str, &'a str)], name: &str) -> &'a str {
    labels
        .iter()
        .find_map(|&(n, v)| (n == name).then_some(v))
        .unwrap_or("")
}

/// The role a reader knows: `replica` for Redis' `slave`.
pub(crate) fn spoken(role: &str) -> &str {
    if role == "slave" { "replica" } else { role }
}

/// A target's role now, as its scrape tells, and the rendered one when it differs.
pub(crate) fn role(metrics: &str, target: &Target) -> String {
    if target.kind == TargetKind::Sentinel {
        return sentinel(metrics);
    }
    let info = series(metrics, "redis_instance_info");
    let now = info
        .first()
        .map_or("?", |(labels, _)| label(labels, "role"));
    match target.rendered_role {
        Some(rendered) if rendered != now => format!(
            "{} (rendered as {}: Sentinel changed it)",
            spoken(now),
            spoken(rendered)
        ),
        _ => spoken(now).to_string(),
    }
}

/// What a Sentinel sees of each primary it watches: where it is, whether it is ok, and how
/// many Sentinels and replicas it counts as working.
fn sentinel(metrics: &str) -> String {
    let count = |name: &str, master: &str| {
        series(metrics, name)
            .into_iter()
            .find(|(labels, _)| label(labels, "master_name") == master)
            .map_or(0.0, |(_, value)| value)
    };
    let masters: Vec<String> = series(metrics, "redis_sentinel_master_status")
        .into_iter()
        .map(|(labels, _)| {
            let master = label(&labels, "master_name");
            format!(
                "sentinel: {master} at {} is {}, {} Sentinels and {} replicas ok",
                label(&labels, "master_address"),
                label(&labels, "master_status"),
                count("redis_sentinel_master_ok_sentinels", master),
                count("redis_sentinel_master_ok_slaves", master),
            )
        })
        .collect();
    if masters.is_empty() {
        "sentinel: watches no primary".into()
    } else {
        masters.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn target(kind: TargetKind, rendered_role: Option<&'static str>) -> Target {
        Target {
            name: "n".into(),
            address: "redis://n:6379".into(),
            host: "n".into(),
            tls: false,
            password: None,
            labels: BTreeMap::new(),
            managed: true,
            kind,
            rendered_role,
        }
    }

    #[test]
    fn a_role_sentinel_changed_is_told_beside_the_rendered_one() {
        let primary =
            "redis_instance_info{redis_mode=\"standalone\",role=\"master\",tcp_port=\"6379\"} 1\n";
        let replica = primary.replace("master", "slave");
        let slave = Some("slave");
        assert_eq!(
            role(primary, &target(TargetKind::Redis, Some("master"))),
            "master"
        );
        assert_eq!(role(&replica, &target(TargetKind::Redis, slave)), "replica");
        assert_eq!(role(primary, &target(TargetKind::Redis, None)), "master");
        assert_eq!(
            role(primary, &target(TargetKind::Redis, slave)),
            "master (rendered as replica: Sentinel changed it)"
        );
    }

    #[test]
    fn a_sentinel_tells_each_primary_it_watches() {
        let ours = "master_address=\"redis-replica-2:6379\",master_name=\"redis\"";
        let theirs = "master_address=\"10.0.0.9:6379\",master_name=\"cache\"";
        let metrics = [
            format!("redis_sentinel_master_status{{{ours},master_status=\"ok\"}} 1"),
            format!("redis_sentinel_master_ok_sentinels{{{ours}}} 3"),
            format!("redis_sentinel_master_ok_slaves{{{ours}}} 2"),
            format!("redis_sentinel_master_status{{{theirs},master_status=\"odown\"}} 0"),
            format!("redis_sentinel_master_ok_sentinels{{{theirs}}} 1"),
        ]
        .join("\n");
        let metrics = metrics.as_str();
        assert_eq!(
            role(metrics, &target(TargetKind::Sentinel, Some("sentinel"))),
            "sentinel: redis at redis-replica-2:6379 is ok, 3 Sentinels and 2 replicas ok; \
             sentinel: cache at 10.0.0.9:6379 is odown, 1 Sentinels and 0 replicas ok"
        );
        assert_eq!(
            role("", &target(TargetKind::Sentinel, None)),
            "sentinel: watches no primary"
        );
    }
}
