//! Whose series each alert's generated tests feed.

use std::collections::BTreeMap;

use super::target_labels;
use crate::alerts::GROUP_LABEL;
use crate::alerts::promql::{Labels, REDIS_JOB, Subject};
use crate::model::Stack;
use crate::model::raw::TargetKind;
use crate::model::resolve::topology::{CLUSTER_LABEL, KIND_LABEL};

/// Whose series the tests of an alert feed: the first (and, past it, the second) of the
/// stack's targets of its kind for an alert per target (a cluster's nodes, in a stack of
/// clusters only, for an alert per Redis), or the one job it watches. For an
/// alert per replication group, two groups side by side: each target alone in a group named
/// after it, and a twin of the first when the stack has one target of the kind. The first is
/// the one that goes bad.
pub(super) fn subjects(stack: &Stack, subject: Subject) -> Vec<Labels> {
    let targets = |kind: TargetKind| -> Vec<Labels> {
        let of_kind = stack.targets.iter().filter(|t| t.kind == kind);
        of_kind.take(2).map(target_labels).collect()
    };
    match subject {
        Subject::Redis | Subject::Command => match targets(TargetKind::Redis) {
            none if none.is_empty() => cluster_subjects(stack),
            redis => redis,
        },
        Subject::Sentinel => targets(TargetKind::Sentinel),
        Subject::Group => grouped(targets(TargetKind::Redis)),
        Subject::SentinelGroup(_) => grouped(targets(TargetKind::Sentinel)),
        Subject::Job(job) => vec![job.labels()],
        Subject::Cluster | Subject::ClusterNode => cluster_subjects(stack),
    }
}

/// Targets as members of a replication group each: a lone target gets a twin, so that two
/// groups stand side by side.
fn grouped(mut targets: Vec<Labels>) -> Vec<Labels> {
    if let [only] = &targets[..] {
        let mut twin = only.clone();
        for name in ["instance", "target"] {
            twin.insert(name.into(), format!("{}-twin", only[name]));
        }
        targets.push(twin);
    }
    for labels in &mut targets {
        labels.insert(GROUP_LABEL.into(), labels["target"].clone());
    }
    targets
}

/// A node of each of the stack's first two clusters, as `up` labels the nodes it finds, and
/// a twin cluster when the stack has one: two clusters side by side.
fn cluster_subjects(stack: &Stack) -> Vec<Labels> {
    let node = |name: &str, labels: &BTreeMap<String, String>| {
        let mut labels: Labels = labels.clone();
        let target = format!("{name}/10.0.0.1:6379");
        labels.insert(CLUSTER_LABEL.into(), name.into());
        labels.insert(KIND_LABEL.into(), TargetKind::Cluster.as_str().into());
        labels.insert("instance".into(), target.clone());
        labels.insert("job".into(), REDIS_JOB.into());
        labels.insert("target".into(), target);
        labels
    };
    let mut subjects: Vec<Labels> = (stack.clusters.iter().take(2))
        .map(|c| node(&c.name, &c.labels))
        .collect();
    if let [only] = &stack.clusters[..] {
        subjects.push(node(&format!("{}-twin", only.name), &only.labels));
    }
    subjects
}
