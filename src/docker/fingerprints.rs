//! The fingerprints `up` compares to decide what to recreate, restart or reload: a container's
//! definition (its spec-hash label), the generated files it mounts, the values of the secrets
//! it reads, and the identity of the host folders it mounts. Every one is stable across runs
//! and Rust versions, because containers and `applied.json` written by one version are read by
//! the next. Only [`mounts`] looks at the file system, and nothing here talks to the engine.

use std::path::{Component, Path};

use super::spec::ContainerSpec;
use crate::render::Tree;

/// FNV-1a, 64 bits: a stable fingerprint across runs and Rust versions.
pub(crate) fn fingerprint(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// A container's definition: its spec as `up` runs it (labels included), the id of the image
/// its tag points at now, and the network it joins. Any change recreates it. The spec's `Debug`
/// text is what is hashed, so the labels of running containers pin that text's format.
pub(crate) fn spec(spec: &ContainerSpec, image_id: &str, network: &str) -> String {
    fingerprint(format!("{spec:?}|{image_id}|{network}").as_bytes())
}

/// Every generated file a container mounts, from the rendered tree: a file bound on its own,
/// or each file below a bound folder, with the target it is mounted at.
pub(crate) fn config(spec: &ContainerSpec, tree: &Tree, tree_dir: &Path) -> String {
    let mut bytes = Vec::new();
    for bind in &spec.config_binds {
        let relative = tree_path(bind.source.strip_prefix(tree_dir).unwrap_or(&bind.source));
        let folder = format!("{relative}/");
        for (path, text) in tree {
            if *path == relative || path.starts_with(&folder) {
                bytes.extend_from_slice(bind.target.as_bytes());
                bytes.extend_from_slice(path.as_bytes());
                bytes.extend_from_slice(text.as_bytes());
            }
        }
    }
    fingerprint(&bytes)
}

/// A path as the rendered tree names it: `/`-separated, without `./`.
fn tree_path(relative: &Path) -> String {
    relative
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// The values of the secrets a container reads, with their names, in the container's order.
pub(crate) fn secrets<'a>(values: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut bytes = Vec::new();
    for (name, value) in values {
        bytes.extend_from_slice(name.as_bytes());
        bytes.push(0);
        bytes.extend_from_slice(value);
        bytes.push(0);
    }
    fingerprint(&bytes)
}

/// The identity (device, inode) of the host paths a container bind-mounts: a bind mount keeps
/// the folder it was started with even after `generated/` is deleted and written anew.
pub(crate) fn mounts(spec: &ContainerSpec) -> String {
    use std::os::unix::fs::MetadataExt;
    let ids: Vec<String> = spec
        .config_binds
        .iter()
        .map(|bind| {
            std::fs::metadata(&bind.source)
                .map_or_else(|_| "missing".into(), |m| format!("{}:{}", m.dev(), m.ino()))
        })
        .collect();
    fingerprint(ids.join(",").as_bytes())
}

#[cfg(test)]
mod tests {
    //! The values pinned here were computed by the versions that started today's containers and
    //! wrote today's `applied.json`: a change to any of them makes the next `up` recreate or
    //! restart every container of every user.

    use std::path::PathBuf;

    use super::*;
    use crate::docker::spec::{Condition, ConfigBind, Dependency, Health, Port, VolumeMount};

    fn bind(source: &str, target: &str) -> ConfigBind {
        ConfigBind {
            source: PathBuf::from(source),
            target: target.into(),
            read_only: true,
        }
    }

    #[test]
    fn fingerprints_are_stable() {
        assert_eq!(fingerprint(b""), "cbf29ce484222325");
        assert_eq!(fingerprint(b"a"), "af63dc4c8601ec8c");
    }

    #[test]
    fn a_spec_hashes_as_it_always_did() {
        let mut spec = ContainerSpec::bare("redis", "p-redis", "redis:7.0");
        spec.config_binds = vec![bind(
            "/p/gen/./redis/redis.conf",
            "/usr/local/etc/redis/redis.conf",
        )];
        spec.volumes = vec![VolumeMount {
            volume: "p_data".into(),
            target: "/data".into(),
            read_only: false,
        }];
        spec.depends_on = vec![Dependency {
            service: "alertmanager".into(),
            condition: Condition::ServiceHealthy,
        }];
        spec.secrets = vec!["redis_password".into()];
        spec.ports = vec![Port {
            host_ip: "127.0.0.1".into(),
            host_port: 6379,
            container_port: 6379,
        }];
        spec.health = Some(Health {
            test: vec!["CMD".into(), "true".into()],
            interval: 5_000_000_000,
            timeout: 1_000_000_000,
            retries: 3,
            start_period: 0,
        });
        spec.labels
            .insert("io.stackgen.profile".into(), "dev".into());
        // Changed on purpose when containers gained compose's labels and the spec its hash, and
        // again with hardening: containers from before are recreated once, to carry them.
        assert_eq!(
            super::spec(&spec, "sha256:abc", "p_default"),
            "d89f439d56860d4e"
        );
    }

    #[test]
    fn config_hashes_cover_bound_files_and_folders() {
        let tree: Tree = [
            ("redis/redis.conf", "maxmemory 1gb\n"),
            ("prometheus/prometheus.yml", "x"),
            ("prometheus/rules/a.yml", "y"),
            ("prometheus.yml", "z"),
        ]
        .into_iter()
        .map(|(path, text)| (path.to_string(), text.to_string()))
        .collect();
        let cases = [
            (vec![], "cbf29ce484222325"),
            (
                vec![bind(
                    "/p/gen/./redis/redis.conf",
                    "/usr/local/etc/redis/redis.conf",
                )],
                "d6a25f4ad2d9a179",
            ),
            // The folder takes the files below it, not `prometheus.yml` beside it.
            (
                vec![bind("/p/gen/./prometheus", "/etc/prometheus")],
                "f1b43d20c7708353",
            ),
        ];
        for (binds, expected) in cases {
            let mut spec = ContainerSpec::bare("s", "p-s", "img:1");
            spec.config_binds = binds;
            assert_eq!(
                config(&spec, &tree, Path::new("/p/gen")),
                expected,
                "{spec:?}"
            );
        }
        assert_eq!(tree_path(Path::new("./a/./b")), "a/b");
    }

    #[test]
    fn secret_hashes_separate_names_and_values() {
        let hash = |pairs: &[(&'static str, &'static [u8])]| secrets(pairs.iter().copied());
        assert_eq!(
            hash(&[("a", b"x"), ("b", b"yz")]),
            fingerprint(b"a\0x\0b\0yz\0")
        );
        assert_ne!(hash(&[("a", b"xb")]), hash(&[("a", b"x"), ("b", b"")]));
    }

    #[test]
    fn a_mount_hash_follows_the_file_not_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("redis.conf");
        let mut spec = ContainerSpec::bare("s", "p-s", "img:1");
        spec.config_binds = vec![bind(path.to_str().unwrap(), "/etc/redis.conf")];
        assert_eq!(mounts(&spec), fingerprint(b"missing"));
        std::fs::write(&path, "a").unwrap();
        let first = mounts(&spec);
        std::fs::write(dir.path().join("new"), "a").unwrap();
        std::fs::rename(dir.path().join("new"), &path).unwrap();
        assert_ne!(mounts(&spec), first);
    }
}
