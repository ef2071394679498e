//! One module per command: glue between the options and the library's pipeline.

pub mod diff;
pub mod down;
pub mod drill;
pub mod init;
pub mod lint;
pub mod render;
pub mod schema;
pub mod stack;
pub mod status;
pub mod templates;
pub mod up;

use std::collections::BTreeMap;

use crate::error::Result;
use crate::model::Project;
use crate::render::Tree;

/// Loads the project and renders the profiles asked for, all in memory and validated.
pub fn render_trees(options: &crate::Options) -> Result<(Project, BTreeMap<String, Tree>)> {
    let project = Project::load(&options.file)?;
    // Templates first: a broken override stops every profile alike.
    project.renderer()?;
    let mut trees = BTreeMap::new();
    let mut errors = Vec::new();
    for profile in project.select_profiles(options.profile.as_deref())? {
        match project.render(&profile) {
            Ok(rendered) => {
                trees.insert(profile, rendered.tree);
            }
            Err(crate::Error::Input(found)) => errors.extend(found),
            Err(other) => return Err(other),
        }
    }
    if !errors.is_empty() {
        errors.sort();
        errors.dedup();
        return Err(crate::Error::Input(errors));
    }
    Ok((project, trees))
}

/// Writes new files, or none when any of them exists: `init` and `templates --export` never
/// overwrite. Says each file it created.
fn write_new_files<T: AsRef<str>>(
    files: &[(std::path::PathBuf, T)],
    printer: &crate::Printer<'_>,
) -> Result<()> {
    use crate::error::Error;
    let existing: Vec<String> = files
        .iter()
        .filter(|(path, _)| path.exists())
        .map(|(path, _)| path.display().to_string())
        .collect();
    if !existing.is_empty() {
        return Err(Error::WouldOverwrite { paths: existing });
    }
    for (path, text) in files {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
        }
        std::fs::write(path, text.as_ref()).map_err(Error::io(path))?;
        printer.note(&format!("created {}", path.display()))?;
    }
    Ok(())
}
