//! The plan of `up`, computed with no I/O from what should run and what runs: which
//! containers to create, recreate, start, restart, reload, keep or remove. A container's
//! `io.stackgen.spec-hash` label decides recreate-or-keep; a change of only the config files it
//! mounts restarts it, or reloads it when it is labelled `io.stackgen.reload`; a changed secret
//! restarts it. What a container last started or reloaded with is kept in [`Applied`], because
//! its labels cannot change and must not hold anything derived from a secret.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::applied::Applied;
use super::labels::RELOAD_LABEL;
use super::observe::Observed;
use super::spec::ContainerSpec;

/// What marks the temporary name of a replacement container, created before its predecessor
/// is removed and renamed once it is gone.
const REPLACEMENT_SUFFIX: &str = ".replacement";

/// The temporary name of the container that replaces `name`.
pub(crate) fn replacement_name(name: &str) -> String {
    format!("{name}{REPLACEMENT_SUFFIX}")
}

/// A replacement left behind by an interrupted `up`: removed before anything else, never planned.
pub(crate) fn is_leftover_replacement(name: &str) -> bool {
    name.ends_with(REPLACEMENT_SUFFIX)
}

/// A container that should run, with the fingerprints of its definition and its config files.
#[derive(Debug, Clone)]
pub(crate) struct Desired {
    pub spec: ContainerSpec,
    pub spec_hash: String,
    /// The id of the image it runs.
    pub image: String,
    /// What it should run with now: config files, secret values, the folders it mounts.
    pub now: Applied,
    /// Its secrets' runtime copies differ from their sources (or are missing).
    pub secrets_stale: bool,
    /// A secret it reads cannot be read now: `up` stops on that before any change, so the
    /// plan claims no secret changed (a dry run lists the secret among its problems).
    pub secrets_unreadable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    Create,
    Recreate,
    Start,
    Restart,
    Reload,
    Keep,
    Remove,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Step {
    pub service: String,
    pub container: String,
    pub action: Action,
    pub why: &'static str,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    pub create_network: Option<String>,
    pub create_volumes: Vec<String>,
    pub steps: Vec<Step>,
}

impl Plan {
    /// Nothing to create, change or remove.
    pub(crate) fn is_noop(&self) -> bool {
        self.create_network.is_none()
            && self.create_volumes.is_empty()
            && self.steps.iter().all(|s| s.action == Action::Keep)
    }

    pub(crate) fn step(&self, service: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.service == service)
    }
}

/// Compares what should run with what runs; `applied` is what each container (by id) last
/// started or reloaded with.
pub(crate) fn plan(
    desired: &[Desired],
    observed: &[Observed],
    applied: &BTreeMap<String, Applied>,
    network: (&str, bool),
    volumes: (&[String], &BTreeSet<String>),
) -> Plan {
    let mut plan = Plan {
        create_network: (!network.1).then(|| network.0.to_string()),
        create_volumes: volumes
            .0
            .iter()
            .filter(|v| !volumes.1.contains(*v))
            .cloned()
            .collect(),
        steps: Vec::new(),
    };
    for want in desired {
        let existing: Vec<&Observed> = observed
            .iter()
            .filter(|o| o.name == want.spec.name)
            .collect();
        let (action, why) = match existing.as_slice() {
            [] => (Action::Create, "new"),
            [have] if !same_definition(have, want) => (Action::Recreate, "its definition changed"),
            [have] => {
                let before = applied.get(&have.id);
                // One that `docker compose` started is taken as running what its definition
                // says: compose mounted the config files and secrets themselves.
                let adopted = have.spec_hash.is_empty();
                let config = before.map_or(&have.config_hash, |a| &a.config);
                let config_changed = !(adopted && before.is_none()) && *config != want.now.config;
                let secrets_changed = !want.secrets_unreadable
                    && before.map_or(want.secrets_stale && !adopted, |a| {
                        a.secrets != want.now.secrets
                    });
                let mounts_moved = before.is_some_and(|a| a.mounts != want.now.mounts);
                let reloads = want.spec.labels.contains_key(RELOAD_LABEL);
                match have.state.as_str() {
                    "restarting" => (Action::Restart, "it keeps crashing"),
                    "running" if secrets_changed => (Action::Restart, "a secret it reads changed"),
                    "running" if config_changed && reloads && !mounts_moved => {
                        (Action::Reload, "its config files changed")
                    }
                    "running" if config_changed || mounts_moved => {
                        (Action::Restart, "its config files changed")
                    }
                    "running" => (Action::Keep, "up to date"),
                    _ => (Action::Start, "stopped"),
                }
            }
            _ => (Action::Recreate, "several containers have its name"),
        };
        plan.steps.push(Step {
            service: want.spec.service.clone(),
            container: want.spec.name.clone(),
            action,
            why,
        });
    }
    for have in observed {
        if !desired.iter().any(|d| d.spec.name == have.name) && !is_leftover_replacement(&have.name)
        {
            plan.steps.push(Step {
                service: have.service.clone(),
                container: have.name.clone(),
                action: Action::Remove,
                why: "no longer in the stack",
            });
        }
    }
    plan
}

/// Whether a container runs `want`'s definition: by stackgen's spec hash when stackgen made
/// it; by compose's hash of the service and the image id when `docker compose` did.
fn same_definition(have: &Observed, want: &Desired) -> bool {
    if have.spec_hash.is_empty() {
        !want.spec.compose_hash.is_empty()
            && have.compose_hash == want.spec.compose_hash
            && have.image == want.image
    } else {
        have.spec_hash == want.spec_hash
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(network) = &self.create_network {
            writeln!(f, "network {network}: create")?;
        }
        for volume in &self.create_volumes {
            writeln!(f, "volume {volume}: create")?;
        }
        for step in &self.steps {
            let action = format!("{:?}", step.action).to_lowercase();
            writeln!(
                f,
                "{} ({}): {action} ({})",
                step.service, step.container, step.why
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::spec::ContainerSpec;

    fn spec(service: &str, reload: bool) -> ContainerSpec {
        let mut spec = ContainerSpec::bare(service, &format!("p-{service}"), "img:1");
        if reload {
            spec.labels
                .insert(RELOAD_LABEL.to_string(), "POST /-/reload".to_string());
        }
        spec
    }

    fn applied(config: &str) -> Applied {
        Applied {
            config: config.into(),
            secrets: "sec".into(),
            mounts: "m".into(),
        }
    }

    fn desired(service: &str, reload: bool, spec_hash: &str, config: &str) -> Desired {
        Desired {
            spec: spec(service, reload),
            spec_hash: spec_hash.into(),
            image: String::new(),
            now: applied(config),
            secrets_stale: false,
            secrets_unreadable: false,
        }
    }

    fn observed(service: &str, state: &str, spec_hash: &str, config_hash: &str) -> Observed {
        Observed {
            id: format!("id-{service}"),
            name: format!("p-{service}"),
            service: service.into(),
            state: state.into(),
            spec_hash: spec_hash.into(),
            config_hash: config_hash.into(),
            compose_hash: String::new(),
            profile: String::new(),
            image: String::new(),
            ports: vec![],
        }
    }

    fn actions(plan: &Plan) -> Vec<(String, Action)> {
        plan.steps
            .iter()
            .map(|s| (s.service.clone(), s.action.clone()))
            .collect()
    }

    fn plan_of(want: &[Desired], have: &[Observed], state: &BTreeMap<String, Applied>) -> Plan {
        plan(
            want,
            have,
            state,
            ("p_default", true),
            (&[], &BTreeSet::new()),
        )
    }

    #[test]
    fn plans_each_kind_of_change() {
        let want = [
            desired("redis", false, "s1", "c1"),
            desired("prometheus", true, "s2", "c2-new"),
            desired("grafana", false, "s3", "c3-new"),
            desired("exporter", false, "s4-new", "c4"),
            desired("alertmanager", true, "s5", "c5"),
            desired("fresh", false, "s6", "c6"),
            desired("looping", false, "s8", "c8"),
        ];
        let have = [
            observed("redis", "running", "s1", "c1"),
            observed("prometheus", "running", "s2", "c2"),
            observed("grafana", "running", "s3", "c3"),
            observed("exporter", "running", "s4", "c4"),
            observed("alertmanager", "exited", "s5", "c5"),
            observed("gone", "running", "s7", "c7"),
            observed("looping", "restarting", "s8", "c8"),
        ];
        let volumes = vec!["p_data".to_string()];
        let plan = plan(
            &want,
            &have,
            &BTreeMap::new(),
            ("p_default", true),
            (&volumes, &BTreeSet::new()),
        );
        assert_eq!(
            actions(&plan),
            [
                ("redis".into(), Action::Keep),
                ("prometheus".into(), Action::Reload),
                ("grafana".into(), Action::Restart),
                ("exporter".into(), Action::Recreate),
                ("alertmanager".into(), Action::Start),
                ("fresh".into(), Action::Create),
                ("looping".into(), Action::Restart),
                ("gone".into(), Action::Remove),
            ]
        );
        assert_eq!(plan.create_network, None);
        assert_eq!(plan.create_volumes, ["p_data"]);
        assert!(!plan.is_noop());
    }

    #[test]
    fn what_a_container_last_applied_decides_over_its_label() {
        let want = [desired("prometheus", true, "s", "new")];
        let have = [observed("prometheus", "running", "s", "old")];
        let state = BTreeMap::from([("id-prometheus".to_string(), applied("new"))]);
        assert!(plan_of(&want, &have, &state).is_noop());

        // A secret value other than the one it started with restarts it, even when its
        // runtime copy is already current (an earlier `up` wrote it, then failed).
        let mut changed = state.clone();
        changed.get_mut("id-prometheus").unwrap().secrets = "old secret".into();
        assert_eq!(
            actions(&plan_of(&want, &have, &changed)),
            [("prometheus".into(), Action::Restart)]
        );

        // Config files that moved (generated/ deleted and written anew): a reload would read
        // the old folder, so it restarts.
        let mut moved = BTreeMap::from([("id-prometheus".to_string(), applied("old"))]);
        moved.get_mut("id-prometheus").unwrap().mounts = "elsewhere".into();
        assert_eq!(
            actions(&plan_of(&want, &have, &moved)),
            [("prometheus".into(), Action::Restart)]
        );
    }

    #[test]
    fn stale_secret_copies_restart_a_container_with_no_record() {
        let mut want = desired("alertmanager", true, "s", "c");
        want.secrets_stale = true;
        let have = [observed("alertmanager", "running", "s", "c")];
        assert_eq!(
            actions(&plan_of(&[want], &have, &BTreeMap::new())),
            [("alertmanager".into(), Action::Restart)]
        );
    }

    /// A secret that cannot be read is a problem `up` stops on, not a change: the plan does
    /// not say "a secret it reads changed" for it.
    #[test]
    fn an_unreadable_secret_is_no_secret_change() {
        let mut want = desired("alertmanager", true, "s", "c");
        want.secrets_stale = true;
        want.now.secrets = "missing".into();
        want.secrets_unreadable = true;
        let have = [observed("alertmanager", "running", "s", "c")];
        let state = BTreeMap::from([("id-alertmanager".to_string(), applied("c"))]);
        let plan = plan_of(&[want], &have, &state);
        assert_eq!(plan.steps[0].action, Action::Keep);
        assert_eq!(plan.steps[0].why, "up to date");
    }
}
