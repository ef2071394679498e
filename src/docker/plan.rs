//! The plan of `up`, computed with no I/O from what should run and what runs: which
//! containers to create, recreate, start, restart, reload, keep or remove. A container's
//! `io.stackgen.spec-hash` label decides recreate-or-keep; a change of only the config files it
//! mounts restarts it, or reloads it when it is labelled `io.stackgen.reload: SIGHUP`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::compose::ContainerSpec;

pub const PROJECT_LABEL: &str = "io.stackgen.project";
pub const SERVICE_LABEL: &str = "io.stackgen.service";
pub const SPEC_HASH_LABEL: &str = "io.stackgen.spec-hash";
pub const CONFIG_HASH_LABEL: &str = "io.stackgen.config-hash";
pub const RELOAD_LABEL: &str = "io.stackgen.reload";

/// A container that should run, with the fingerprints of its definition and its config files.
#[derive(Debug, Clone)]
pub struct Desired {
    pub spec: ContainerSpec,
    pub spec_hash: String,
    pub config_hash: String,
    /// A secret it mounts has a new value (or lost its runtime copy): only a restart shows it.
    pub secrets_changed: bool,
}

/// A container of the project as the engine reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub id: String,
    pub name: String,
    pub service: String,
    pub running: bool,
    pub spec_hash: String,
    pub config_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Create,
    Recreate,
    Start,
    Restart,
    Reload,
    Keep,
    Remove,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub service: String,
    pub container: String,
    pub action: Action,
    pub why: &'static str,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub create_network: Option<String>,
    pub create_volumes: Vec<String>,
    pub steps: Vec<Step>,
}

impl Plan {
    /// Nothing to create, change or remove.
    pub fn is_noop(&self) -> bool {
        self.create_network.is_none()
            && self.create_volumes.is_empty()
            && self.steps.iter().all(|s| s.action == Action::Keep)
    }

    pub fn step(&self, service: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.service == service)
    }
}

/// Compares what should run with what runs. `applied` holds, by container id, the config hash
/// a container was last restarted or reloaded with, which its immutable label cannot record.
pub fn plan(
    desired: &[Desired],
    observed: &[Observed],
    applied: &BTreeMap<String, String>,
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
            [have] if have.spec_hash != want.spec_hash => {
                (Action::Recreate, "its definition changed")
            }
            [have] => {
                let loaded = applied.get(&have.id).unwrap_or(&have.config_hash);
                let config_changed = *loaded != want.config_hash;
                let reloads = want
                    .spec
                    .labels
                    .get(RELOAD_LABEL)
                    .is_some_and(|s| s == "SIGHUP");
                match (have.running, want.secrets_changed, config_changed, reloads) {
                    (false, ..) => (Action::Start, "stopped"),
                    (true, true, ..) => (Action::Restart, "a secret it reads changed"),
                    (true, false, false, _) => (Action::Keep, "up to date"),
                    (true, false, true, true) => (Action::Reload, "its config files changed"),
                    (true, false, true, false) => (Action::Restart, "its config files changed"),
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
        if !desired.iter().any(|d| d.spec.name == have.name) {
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

/// FNV-1a, 64 bits: a stable fingerprint across runs and Rust versions.
pub fn fingerprint(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::compose::ContainerSpec;

    fn spec(service: &str, reload: bool) -> ContainerSpec {
        let mut labels = BTreeMap::new();
        if reload {
            labels.insert(RELOAD_LABEL.to_string(), "SIGHUP".to_string());
        }
        ContainerSpec {
            service: service.into(),
            name: format!("p-{service}"),
            image: "img:1".into(),
            entrypoint: None,
            cmd: None,
            env: vec![],
            labels,
            ports: vec![],
            config_binds: vec![],
            secrets: vec![],
            volumes: vec![],
            memory: None,
            user: None,
            health: None,
            depends_on: vec![],
            restart: true,
        }
    }

    fn desired(service: &str, reload: bool, spec_hash: &str, config_hash: &str) -> Desired {
        Desired {
            spec: spec(service, reload),
            spec_hash: spec_hash.into(),
            config_hash: config_hash.into(),
            secrets_changed: false,
        }
    }

    fn observed(service: &str, running: bool, spec_hash: &str, config_hash: &str) -> Observed {
        Observed {
            id: format!("id-{service}"),
            name: format!("p-{service}"),
            service: service.into(),
            running,
            spec_hash: spec_hash.into(),
            config_hash: config_hash.into(),
        }
    }

    fn actions(plan: &Plan) -> Vec<(String, Action)> {
        plan.steps
            .iter()
            .map(|s| (s.service.clone(), s.action.clone()))
            .collect()
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
        ];
        let have = [
            observed("redis", true, "s1", "c1"),
            observed("prometheus", true, "s2", "c2"),
            observed("grafana", true, "s3", "c3"),
            observed("exporter", true, "s4", "c4"),
            observed("alertmanager", false, "s5", "c5"),
            observed("gone", true, "s7", "c7"),
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
                ("gone".into(), Action::Remove),
            ]
        );
        assert_eq!(plan.create_network, None);
        assert_eq!(plan.create_volumes, ["p_data"]);
        assert!(!plan.is_noop());
    }

    #[test]
    fn a_reload_is_remembered_and_a_second_plan_keeps_everything() {
        let want = [desired("prometheus", true, "s", "new")];
        let have = [observed("prometheus", true, "s", "old")];
        let applied = BTreeMap::from([("id-prometheus".to_string(), "new".to_string())]);
        let volumes = BTreeSet::from(["v".to_string()]);
        let plan = plan(
            &want,
            &have,
            &applied,
            ("n", true),
            (&["v".to_string()], &volumes),
        );
        assert!(plan.is_noop(), "{plan}");
    }

    #[test]
    fn a_changed_secret_restarts_even_a_reloadable_service() {
        let mut want = desired("alertmanager", true, "s", "c");
        want.secrets_changed = true;
        let have = [observed("alertmanager", true, "s", "c")];
        let plan = plan(
            &[want],
            &have,
            &BTreeMap::new(),
            ("n", true),
            (&[], &BTreeSet::new()),
        );
        assert_eq!(actions(&plan), [("alertmanager".into(), Action::Restart)]);
    }

    #[test]
    fn fingerprints_are_stable() {
        assert_eq!(fingerprint(b""), "cbf29ce484222325");
        assert_eq!(fingerprint(b"a"), "af63dc4c8601ec8c");
    }
}
