//! What each running container last started or reloaded with, kept in
//! `.stackgen/<profile>/applied.json` beside the secret copies: a container's labels are fixed
//! when it is created and must not hold anything derived from a secret, so what changes after
//! that lives here. This module reads and writes that file and updates it after a wave; it
//! decides nothing (that is the plan's job) and a missing or unreadable file is an empty record.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::observe::Observed;
use super::secrets::private_dir;
use super::spec::ContainerSpec;
use crate::error::{Error, Result};

/// What a running container was last started or reloaded with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Applied {
    /// Fingerprint of the generated files it mounts.
    pub config: String,
    /// Fingerprint of the values of the secrets it mounts.
    pub secrets: String,
    /// Fingerprint of the identity (device and inode) of the folders and files it mounts: a
    /// bind mount keeps the old one when `generated/` is deleted and written anew, and then
    /// only a restart sees the new files.
    pub mounts: String,
}

/// Container id → what it last started or reloaded with.
pub(crate) type AppliedState = BTreeMap<String, Applied>;

fn path(runtime_dir: &Path) -> PathBuf {
    runtime_dir.join("applied.json")
}

/// The record of `runtime_dir`; empty when there is none or it cannot be read, which makes the
/// plan fall back on the containers' labels.
pub(crate) fn read(runtime_dir: &Path) -> AppliedState {
    std::fs::read_to_string(path(runtime_dir))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// Replaces the record, readable by its owner only.
pub(crate) fn write(runtime_dir: &Path, applied: &AppliedState) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    private_dir(runtime_dir)?;
    let path = path(runtime_dir);
    let text = serde_json::to_string_pretty(applied).expect("a map serializes");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .map_err(Error::io(&path))?;
    file.write_all(text.as_bytes()).map_err(Error::io(&path))
}

/// After a wave: forgets containers that are gone (`now` is what the engine reports), and
/// records for each container of `wave` what it runs with now.
pub(crate) fn record(
    applied: &mut AppliedState,
    now: &[Observed],
    wave: &[&ContainerSpec],
    running_with: impl Fn(&str) -> Applied,
) {
    applied.retain(|id, _| now.iter().any(|o| &o.id == id));
    for spec in wave {
        if let Some(container) = now.iter().find(|o| o.name == spec.name) {
            applied.insert(container.id.clone(), running_with(&spec.service));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(config: &str) -> Applied {
        Applied {
            config: config.into(),
            secrets: "s".into(),
            mounts: "m".into(),
        }
    }

    fn observed(id: &str, name: &str) -> Observed {
        Observed {
            id: id.into(),
            name: name.into(),
            service: name.trim_start_matches("p-").into(),
            state: "running".into(),
            spec_hash: String::new(),
            config_hash: String::new(),
            compose_hash: String::new(),
            image: String::new(),
            ports: vec![],
            profile: String::new(),
        }
    }

    #[test]
    fn a_wave_records_its_containers_and_forgets_the_gone() {
        let mut state = AppliedState::from([
            ("old-redis".to_string(), applied("r0")),
            ("id-grafana".to_string(), applied("g0")),
            ("id-gone".to_string(), applied("x")),
        ]);
        let now = [
            observed("new-redis", "p-redis"),
            observed("id-grafana", "p-grafana"),
        ];
        let redis = ContainerSpec::bare("redis", "p-redis", "redis:7.0");
        record(&mut state, &now, &[&redis], |service| {
            applied(&format!("{service}1"))
        });
        assert_eq!(
            state,
            AppliedState::from([
                ("id-grafana".to_string(), applied("g0")),
                ("new-redis".to_string(), applied("redis1")),
            ])
        );
    }

    #[test]
    fn the_record_is_private_and_reads_back() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let runtime = dir.path().join(".stackgen/dev");
        assert_eq!(read(&runtime), AppliedState::new());

        let state = AppliedState::from([("id".to_string(), applied("c"))]);
        write(&runtime, &state).unwrap();
        assert_eq!(read(&runtime), state);
        let text = std::fs::read_to_string(runtime.join("applied.json")).unwrap();
        let expected = r#"{
  "id": {
    "config": "c",
    "secrets": "s",
    "mounts": "m"
  }
}"#;
        assert_eq!(text, expected);
        let mode = std::fs::metadata(runtime.join("applied.json"))
            .unwrap()
            .mode();
        assert_eq!(mode & 0o777, 0o600);

        std::fs::write(runtime.join("applied.json"), "not json").unwrap();
        assert_eq!(read(&runtime), AppliedState::new());
    }
}
