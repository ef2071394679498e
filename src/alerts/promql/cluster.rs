//! The alerts of Redis Cluster: each aggregates `by (cluster)`, the label every node of a
//! cluster carries, never across clusters (the generated tests put two side by side), or
//! reads one node. The metrics are redis_exporter's from `CLUSTER INFO` (1.45 on).

use super::series::{Samples, Series, constant, gauge, labelled, number};
use super::{Entry, LOOKBACK, Subject};

/// A cluster's label.
const C: &str = "cluster";
/// Every slot of a Redis Cluster.
const SLOTS: f64 = 16384.0;

pub(super) fn down() -> Entry {
    Entry {
        expr: format!("min by ({C}) (redis_cluster_state{{{C}!=\"\"}}) == 0"),
        summary: "Redis Cluster {{ $labels.cluster }} is down",
        description: "A node of Redis Cluster {{ $labels.cluster }} reports the cluster's \
                      state as failed: it refuses commands (slots without a working primary, \
                      or the node cut off from the majority)."
            .into(),
        subject: Subject::Cluster,
        onset: 0,
        lookback: LOOKBACK,
        holds: None,
        series: gauge("redis_cluster_state", 0.0, 1.0),
    }
}

pub(super) fn slots_failing() -> Entry {
    Entry {
        expr: format!(
            "max by ({C}) (redis_cluster_slots_fail{{{C}!=\"\"}} \
             + redis_cluster_slots_pfail{{{C}!=\"\"}}) > 0"
        ),
        summary: "Redis Cluster {{ $labels.cluster }} has slots failing",
        description: "A node of Redis Cluster {{ $labels.cluster }} sees slots whose primary \
                      is failing (fail or pfail): their keys are unavailable until a replica \
                      takes over."
            .into(),
        subject: Subject::Cluster,
        onset: 0,
        lookback: LOOKBACK,
        holds: None,
        series: Box::new(|level, Samples { count: n, .. }, labels| {
            let fail = level.pick(5461.0, 0.0);
            vec![
                Series {
                    series: labelled("redis_cluster_slots_fail", &[], labels),
                    values: constant(number(fail), n),
                },
                Series {
                    series: labelled("redis_cluster_slots_pfail", &[], labels),
                    values: constant(0, n),
                },
            ]
        }),
    }
}

pub(super) fn slots_unassigned() -> Entry {
    Entry {
        expr: format!("min by ({C}) (redis_cluster_slots_assigned{{{C}!=\"\"}}) < 16384"),
        summary: "Redis Cluster {{ $labels.cluster }} has slots unassigned",
        description: "A node of Redis Cluster {{ $labels.cluster }} sees fewer than all \
                      16384 slots assigned: keys in the others cannot be stored."
            .into(),
        subject: Subject::Cluster,
        onset: 0,
        lookback: LOOKBACK,
        holds: None,
        series: gauge("redis_cluster_slots_assigned", SLOTS - 1.0, SLOTS),
    }
}

pub(super) fn node_missing() -> Entry {
    Entry {
        expr: "redis_up{kind=\"cluster\"} == 0".into(),
        summary: "Node {{ $labels.instance }} of Redis Cluster {{ $labels.cluster }} is down",
        description: "The exporter cannot reach or log in to {{ $labels.instance }}, a node of \
                      Redis Cluster {{ $labels.cluster }} when `stackgen up` last asked it."
            .into(),
        subject: Subject::ClusterNode,
        onset: 0,
        lookback: LOOKBACK,
        holds: None,
        series: gauge("redis_up", 0.0, 1.0),
    }
}
