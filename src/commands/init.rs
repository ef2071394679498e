//! `stackgen init [DIR]`: a starter project. It never overwrites a file.

use std::path::{Path, PathBuf};

use crate::error::{Error, Outcome, Result};
use crate::model::stack::HEARTBEAT_URL;
use crate::model::units::Secret;
use crate::printer::Printer;
use crate::project::BUILTIN_PROFILES;
use crate::project::Project;

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

pub(crate) fn run(dir: &Path, printer: &Printer<'_>) -> Result<Outcome> {
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
    super::write_new_files(&files, printer)?;
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
    let secrets = dir.join("secrets");
    std::fs::create_dir_all(&secrets).map_err(Error::io(&secrets))?;
    set_mode(&secrets, 0o700)?;
    printer.note(&format!(
        "created {}/ (only you can read it)",
        secrets.display()
    ))?;
    printer.note(&next_steps(dir)?)?;
    Ok(Outcome::Clean)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(Error::io(path))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> Result<()> {
    Ok(())
}

/// What to type next, as shell lines: into the folder, every secret the starter reads (files
/// filled with a random value readable by you alone, variables to export), then the commands.
fn next_steps(dir: &Path) -> Result<String> {
    let project = Project::load(&dir.join("stack.toml"))?;
    let profile = project.active_profile(None)?;
    let stack = project.render(&profile)?.stack;
    let mut lines = vec![
        "Next, in a shell:".to_string(),
        format!("  cd {}", shell_quote(&dir.display().to_string())),
    ];
    for (name, secret) in &stack.secrets {
        lines.push(match &secret.source {
            Secret::File(path) => format!(
                "  (umask 077; head -c 24 /dev/urandom | base64 > {})   # {name}",
                shell_quote(path)
            ),
            Secret::Env(variable) => {
                let example = match name.as_str() {
                    HEARTBEAT_URL => "https://hc-ping.com/…",
                    _ => "https://hooks.slack.com/services/…",
                };
                format!("  export {variable}='{example}'   # {name}: paste yours")
            }
            Secret::Kubernetes { secret, key } => format!(
                "  kubectl create secret generic {secret} --from-literal={key}=…   # {name}"
            ),
        });
    }
    lines.push("  stackgen render && stackgen lint --deny-warnings && stackgen up".into());
    Ok(lines.join("\n"))
}

/// `text` as one shell word.
fn shell_quote(text: &str) -> String {
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}
