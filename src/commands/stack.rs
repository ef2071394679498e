//! What `up`, `down` and `status` share: the project, its active profile's stack, and the
//! container specification read from that profile's `compose.yaml`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::Options;
use crate::docker::PasswordMapPlan;
use crate::docker::password_map::MapEntry;
use crate::docker::spec::{SecretSource, StackSpec};
use crate::error::{Error, Result};
use crate::model::Stack;
use crate::model::stack::{PASSWORD_MAP, PasswordMap, REDIS_PASSWORD, password_map_path};
use crate::model::units::Secret;
use crate::output;
use crate::project::Project;
use crate::render::{Rendered, Tree};

pub(crate) struct Running {
    pub project: Project,
    pub profile: String,
    pub stack: Stack,
    pub tree: Tree,
    pub spec: StackSpec,
    pub runtime_dir: PathBuf,
    pub tree_dir: PathBuf,
}

impl Running {
    /// Loads and renders the active profile; with `write`, renders every profile into
    /// `generated/` as `render` does, so that `up` leaves no profile's files stale.
    pub(crate) fn load(options: &Options, write: bool) -> Result<Self> {
        let project = Project::load(&options.file)?;
        let profile = project.active_profile(options.profile.as_deref())?;
        let Rendered { stack, tree, .. } = project.render(&profile)?;
        if stack.kubernetes.is_some() {
            return Err(Error::KubernetesTarget { profile });
        }
        if write {
            let all = super::Options {
                profile: None,
                ..options.clone()
            };
            let (_, trees) = super::render_trees(&all)?;
            let changes = output::changes(&project.dir, &trees)?;
            output::apply(&project.dir, &changes)?;
        }
        let dir = std::path::absolute(&project.dir).map_err(Error::io(&project.dir))?;
        let tree_dir = dir.join("generated").join(&profile);
        let spec = StackSpec::from_compose(&tree["compose.yaml"], &tree_dir)?;
        let runtime_dir = dir.join(".stackgen").join(&profile);
        Ok(Self {
            project,
            profile,
            stack,
            tree,
            spec,
            runtime_dir,
            tree_dir,
        })
    }

    /// `table.key at file:line:col` for error messages.
    pub(crate) fn key(&self, path: &str) -> String {
        format!(
            "`{path}` at {}",
            self.project.sources(&self.profile).locate(path)
        )
    }

    pub(crate) fn context(&self) -> crate::docker::Context<'_> {
        let services = self.stack.services();
        let by_service = |key: &str| -> BTreeMap<String, String> {
            services
                .iter()
                .map(|s| (s.name.to_string(), self.key(&format!("{}.{key}", s.table))))
                .collect()
        };
        // The managed topology's nodes: from the Redis image, each on a port of its own.
        let redis = &self.stack.redis;
        let replicas = redis.nodes.iter().skip(1).map(|n| (n, "redis.port"));
        let sentinels = redis.sentinel.iter().flat_map(|s| &s.nodes);
        let nodes: Vec<_> = replicas
            .chain(sentinels.map(|n| (n, "redis.sentinel.port")))
            .collect();
        let mut image_keys = by_service("image");
        let mut port_keys = by_service("port");
        for (node, port) in nodes {
            image_keys.insert(node.name.clone(), self.key("redis.image"));
            port_keys.insert(node.name.clone(), self.key(port));
        }
        crate::docker::Context {
            image_keys,
            port_keys,
            secret_keys: self
                .stack
                .secrets
                .iter()
                .map(|(name, s)| (name.clone(), self.key(s.key)))
                .collect(),
            runtime_dir: &self.runtime_dir,
            tree: &self.tree,
            tree_dir: &self.tree_dir,
            profile: &self.profile,
            stack: &self.stack,
            password_map: self.password_map(),
        }
    }

    /// Where a secret of `stack.toml` is read from, its path from the project's folder.
    pub(crate) fn source(&self, secret: &Secret) -> SecretSource {
        let root = self.runtime_dir.parent().and_then(std::path::Path::parent);
        let dir = root.unwrap_or(&self.project.dir);
        // A compose profile refuses Kubernetes secret references when it resolves.
        match secret {
            Secret::File(path) => SecretSource::File(dir.join(path)),
            Secret::Env(variable) => SecretSource::Env(variable.clone()),
            Secret::Kubernetes { secret, .. } => SecretSource::Env(secret.clone()),
        }
    }

    /// The exporter's password map `up` assembles: every target's password by address.
    fn password_map(&self) -> Option<PasswordMapPlan> {
        if self.stack.redis_exporter.password_map != PasswordMap::Assembled {
            return None;
        }
        let dir = self.runtime_dir.parent()?.parent()?;
        let source = |secret: &Secret| self.source(secret);
        let managed_password = self.stack.secrets.get(REDIS_PASSWORD);
        let entries = self
            .stack
            .targets
            .iter()
            .filter_map(|target| {
                let (key, secret) = match (&target.password, managed_password) {
                    (Some(password), _) => (password.key.as_str(), &password.source),
                    (None, Some(managed)) if target.managed => (managed.key, &managed.source),
                    _ => return None,
                };
                Some(MapEntry {
                    address: target.address.clone(),
                    name: format!("password of target {}", target.name),
                    key: self.key(key),
                    source: source(secret),
                })
            })
            .collect();
        Some(PasswordMapPlan {
            entries,
            secret: PASSWORD_MAP.into(),
            source: dir.join(password_map_path(&self.profile)),
        })
    }
}
