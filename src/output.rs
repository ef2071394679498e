//! The output step shared by `render`, `render --check` and `diff`: compare the rendered trees
//! with `generated/` on disk, then write (atomically, only what changed), report, or diff.
//! It only ever touches the contract's paths under `generated/<profile>/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::render::{Tree, all_paths};

/// One file whose bytes on disk differ from what render produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    /// Relative to the project folder, with `/` separators: `generated/dev/compose.yaml`.
    pub path: String,
    /// What is on disk now, if anything.
    pub old: Option<Vec<u8>>,
    /// What render produces, if anything.
    pub new: Option<String>,
}

/// What a change does to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChangeKind {
    /// Render produces a file that is not on disk.
    Created,
    /// The file on disk differs from what render produces.
    Updated,
    /// A file on disk that render no longer produces.
    Removed,
}

impl Change {
    pub(crate) fn kind(&self) -> ChangeKind {
        match (&self.old, &self.new) {
            (None, _) => ChangeKind::Created,
            (_, None) => ChangeKind::Removed,
            _ => ChangeKind::Updated,
        }
    }
}

/// Every difference between the rendered trees and `generated/`, sorted by path.
pub(crate) fn changes(project_dir: &Path, trees: &BTreeMap<String, Tree>) -> Result<Vec<Change>> {
    let mut changes = Vec::new();
    for (profile, tree) in trees {
        for file in all_paths() {
            let path = format!("generated/{profile}/{file}");
            let on_disk = project_dir.join(&path);
            let old = match std::fs::read(&on_disk) {
                Ok(bytes) => Some(bytes),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(Error::io(on_disk)(e)),
            };
            let new = tree.get(file).cloned();
            if old.as_deref() != new.as_deref().map(str::as_bytes) {
                changes.push(Change { path, old, new });
            }
        }
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(changes)
}

/// Carries the changes out: each new file written to a temporary file beside it and renamed
/// into place; files no longer produced are removed, with folders they leave empty.
pub(crate) fn apply(project_dir: &Path, changes: &[Change]) -> Result<()> {
    for change in changes {
        let target = project_dir.join(&change.path);
        match &change.new {
            Some(text) => write_atomic(&target, text.as_bytes())?,
            None => {
                std::fs::remove_file(&target).map_err(Error::io(&target))?;
                remove_empty_parents(project_dir, &target);
            }
        }
    }
    Ok(())
}

fn write_atomic(target: &Path, bytes: &[u8]) -> Result<()> {
    let dir = target.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    let temporary: PathBuf = dir.join(format!(".{name}.stackgen-tmp"));
    std::fs::write(&temporary, bytes).map_err(Error::io(&temporary))?;
    std::fs::rename(&temporary, target).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        Error::io(target)(e)
    })
}

fn remove_empty_parents(project_dir: &Path, file: &Path) {
    let generated = project_dir.join("generated");
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == generated || !d.starts_with(&generated) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}
