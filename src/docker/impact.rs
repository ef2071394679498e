//! What `up` would do with a change, offline: the plan `up` computes, between the containers
//! as the committed `generated/` defines them (taken as running) and as the new render does,
//! with the same fingerprints (definition, config files) and the same rules (recreate, restart,
//! reload). No engine is asked: an image's tag is its identity here, and a secret's value is
//! never read (a changed secret shows only at `up`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::applied::Applied;
use super::fingerprints;
use super::observe::Observed;
use super::plan::{self, Action, Desired, Step};
use super::spec::StackSpec;
use crate::error::Result;
use crate::render::Tree;

/// A service's step, and what it puts at risk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Impact {
    pub step: Step,
    /// For a Redis server restarted, recreated or removed.
    pub risk: Option<&'static str>,
}

/// Each service's step from `old` (the profile's tree on disk, if any) to `new`, in `dir`.
pub(crate) fn impact(old: Option<&Tree>, new: &Tree, dir: &Path) -> Result<Vec<Impact>> {
    let spec = |tree: &Tree| -> Result<Option<StackSpec>> {
        tree.get("compose.yaml")
            .map(|text| StackSpec::from_compose(text, dir))
            .transpose()
    };
    let (Some(want), have) = (spec(new)?, old.map(spec).transpose()?.flatten()) else {
        return Ok(Vec::new());
    };
    let observed: Vec<Observed> = (have.iter())
        .flat_map(|have| {
            let old = old.expect("a spec comes from a tree");
            have.containers.iter().map(move |c| Observed {
                id: c.name.clone(),
                name: c.name.clone(),
                service: c.service.clone(),
                state: "running".into(),
                spec_hash: fingerprints::spec(c, &c.image, &have.network),
                config_hash: fingerprints::config(c, old, dir),
                compose_hash: String::new(),
                image: c.image.clone(),
                ports: Vec::new(),
                profile: String::new(),
            })
        })
        .collect();
    let desired: Vec<Desired> = (want.containers.iter())
        .map(|c| Desired {
            spec: c.clone(),
            spec_hash: fingerprints::spec(c, &c.image, &want.network),
            image: c.image.clone(),
            now: Applied {
                config: fingerprints::config(c, new, dir),
                ..Applied::default()
            },
            secrets_stale: false,
            // Offline, no secret is read: none is claimed changed.
            secrets_unreadable: true,
        })
        .collect();
    let none = BTreeMap::new();
    let plan = plan::plan(
        &desired,
        &observed,
        &none,
        (&want.network, true),
        (&[], &BTreeSet::new()),
    );
    Ok(plan.steps.into_iter().map(with_risk).collect())
}

fn with_risk(step: Step) -> Impact {
    let redis = step.service == "redis" || step.service.starts_with("redis-replica");
    let risk = match step.action {
        Action::Restart | Action::Recreate if redis => Some(
            "Redis restarts: clients reconnect, and it keeps only what its AOF or RDB file \
             holds",
        ),
        Action::Remove if redis => Some("Redis is removed: its data stays in its volume"),
        _ => None,
    };
    Impact { step, risk }
}

/// An action as the report says it.
pub(crate) fn verb(action: &Action) -> &'static str {
    match action {
        Action::Create => "create",
        Action::Recreate => "recreate",
        Action::Start => "start",
        Action::Restart => "restart",
        Action::Reload => "reload",
        Action::Keep => "nothing for",
        Action::Remove => "remove",
    }
}
