//! `stackgen init [DIR]`: a starter project. It never overwrites a file.

use std::path::{Path, PathBuf};

use crate::Printer;
use crate::error::{Error, Outcome, Result};
use crate::model::project::BUILTIN_PROFILES;

const STARTER: &str = include_str!("../../stack.toml");
const GITIGNORE: &str = "# Secret values stay out of git; stackgen only ever references them.
secrets/
# The private runtime copies of the secrets that `stackgen up` mounts.
.stackgen/
";

/// A project name from the folder name, in the characters compose allows.
fn project_name(dir: &Path) -> String {
    let folder = std::path::absolute(dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().to_lowercase()))
        .unwrap_or_default();
    let name: String = folder
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_start_matches(['-', '_']).to_string();
    if name.is_empty() {
        "redis-stack".into()
    } else {
        name
    }
}

pub fn run(dir: &Path, printer: &Printer<'_>) -> Result<Outcome> {
    let name = project_name(dir);
    let stack = STARTER.replace("name = \"bluesky\"", &format!("name = {name:?}"));
    let mut files: Vec<(PathBuf, String)> = vec![
        (dir.join("stack.toml"), stack),
        (dir.join("stack.schema.json"), super::schema::text()),
    ];
    for (profile, text) in BUILTIN_PROFILES {
        files.push((
            dir.join("profiles").join(format!("{profile}.toml")),
            text.to_string(),
        ));
    }
    let existing: Vec<String> = files
        .iter()
        .filter(|(path, _)| path.exists())
        .map(|(path, _)| path.display().to_string())
        .collect();
    if !existing.is_empty() {
        return Err(Error::WouldOverwrite { paths: existing });
    }
    for (path, text) in &files {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
        }
        std::fs::write(path, text).map_err(Error::io(path))?;
        printer.note(&format!("created {}", path.display()))?;
    }
    // An existing .gitignore (init in a repository) gets the missing entries appended.
    let gitignore = dir.join(".gitignore");
    match std::fs::read_to_string(&gitignore) {
        Ok(mut text) => {
            let missing: Vec<&str> = ["secrets/", ".stackgen/"]
                .into_iter()
                .filter(|entry| {
                    !text
                        .lines()
                        .any(|l| l.trim() == *entry || l.trim() == format!("/{entry}"))
                })
                .collect();
            if !missing.is_empty() {
                if !text.is_empty() && !text.ends_with('\n') {
                    text.push('\n');
                }
                text.push_str(
                    "# stackgen: secret values and their runtime copies stay out of git.\n",
                );
                for entry in &missing {
                    text.push_str(entry);
                    text.push('\n');
                }
                std::fs::write(&gitignore, text).map_err(Error::io(&gitignore))?;
                printer.note(&format!(
                    "added {} to {}",
                    missing.join(" and "),
                    gitignore.display()
                ))?;
            }
        }
        Err(_) => {
            std::fs::write(&gitignore, GITIGNORE).map_err(Error::io(&gitignore))?;
            printer.note(&format!("created {}", gitignore.display()))?;
        }
    }
    printer.note(&format!(
        "Next: put the Redis password in {}, then run `stackgen render`.",
        dir.join("secrets/redis_password.txt").display()
    ))?;
    Ok(Outcome::Clean)
}
