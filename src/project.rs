//! A project on disk: `stack.toml`, its profiles (the project's own `profiles/` folder, or the
//! built-in dev and prod), its templates, and the folder everything else is relative to; the
//! one way from a profile's name to its resolved stack and rendered, validated files. It sits
//! above `model` and `render` and joins them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use std::cell::OnceCell;

use crate::diagnostic::{Code, Diagnostic};
use crate::error::{Error, Result};
use crate::model::collect::Sources;
use crate::model::raw::{ProfileFile, StackFile};
use crate::model::resolve::resolve;
use crate::model::source::Source;
use crate::model::stack::Stack;
use crate::render::{Rendered, Renderer};

/// The profiles compiled into the binary, used when a project has no `profiles/` folder.
pub(crate) const BUILTIN_PROFILES: [(&str, &str); 2] = [
    ("dev", include_str!("../profiles/dev.toml")),
    ("prod", include_str!("../profiles/prod.toml")),
];

pub(crate) struct Profile {
    pub source: Source,
    pub file: ProfileFile,
}

pub(crate) struct Project {
    /// The folder of `stack.toml`; secrets, `profiles/`, `templates/` and `generated/` are
    /// relative to it.
    pub dir: PathBuf,
    pub source: Source,
    pub file: StackFile,
    pub profiles: BTreeMap<String, Profile>,
    /// The templates, built-in or overridden, compiled on first use.
    renderer: OnceCell<Renderer>,
}

impl Project {
    pub(crate) fn load(stack_path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(stack_path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                Error::NoProject {
                    path: stack_path.to_path_buf(),
                }
            } else {
                Error::io(stack_path)(source)
            }
        })?;
        let source = Source::parse(stack_path.display().to_string(), text)?;
        let file = source.deserialize::<StackFile>()?;
        let dir = stack_path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let profiles = load_profiles(&dir, stack_path)?;
        let project = Self {
            dir,
            source,
            file,
            profiles,
            renderer: OnceCell::new(),
        };
        project.active_profile(None)?;
        Ok(project)
    }

    pub(crate) fn templates_dir(&self) -> PathBuf {
        self.dir.join("templates")
    }

    /// The profiles a command works on: the one asked for, or every profile.
    pub(crate) fn select_profiles(&self, asked: Option<&str>) -> Result<Vec<String>> {
        match asked {
            Some(name) => {
                self.check_profile(name, None)?;
                Ok(vec![name.to_string()])
            }
            None => Ok(self.profiles.keys().cloned().collect()),
        }
    }

    /// The profile a command that runs one stack uses: `--profile`, else `stack.profile`.
    pub(crate) fn active_profile(&self, asked: Option<&str>) -> Result<String> {
        let from_file = self.file.stack.as_ref().and_then(|s| s.profile.clone());
        let name = asked
            .map(str::to_string)
            .or(from_file)
            .unwrap_or_else(|| "dev".into());
        let key = asked.is_none().then_some("stack.profile");
        self.check_profile(&name, key)?;
        Ok(name)
    }

    fn check_profile(&self, name: &str, key: Option<&str>) -> Result<()> {
        if self.profiles.contains_key(name) {
            return Ok(());
        }
        let unknown = Error::UnknownProfile {
            name: name.to_string(),
            known: self.profiles.keys().cloned().collect(),
        };
        Err(match key {
            Some(key) => Diagnostic::error(
                self.source.locate_nearest(key),
                Code::InvalidValue,
                unknown.to_string(),
            )
            .into(),
            None => unknown,
        })
    }

    /// The documents a profile's stack is resolved from, to locate its keys.
    pub(crate) fn sources(&self, profile: &str) -> Sources<'_> {
        Sources {
            stack: &self.source,
            profile: &self.profiles[profile].source,
        }
    }

    pub(crate) fn resolve(&self, profile: &str) -> Result<Stack> {
        let overlay = &self.profiles[profile].file;
        Ok(resolve(
            &self.file,
            profile,
            overlay,
            self.sources(profile),
        )?)
    }

    /// The project's templates: the built-in ones, each replaced by `templates/<same path>`.
    pub(crate) fn renderer(&self) -> Result<&Renderer> {
        if let Some(renderer) = self.renderer.get() {
            return Ok(renderer);
        }
        let renderer = Renderer::new(&self.templates_dir())?;
        Ok(self.renderer.get_or_init(|| renderer))
    }

    /// The one way from a profile to its files: resolve its stack, then render and validate
    /// every file, in memory.
    pub(crate) fn render(&self, profile: &str) -> Result<Rendered> {
        let stack = self.resolve(profile)?;
        let (tree, configs) = self.renderer()?.render_all(&stack)?;
        Ok(Rendered {
            stack,
            tree,
            configs,
        })
    }
}

fn load_profiles(dir: &Path, stack_path: &Path) -> Result<BTreeMap<String, Profile>> {
    let folder = dir.join("profiles");
    let mut found = Vec::new();
    if folder.is_dir() {
        let entries = std::fs::read_dir(&folder).map_err(Error::io(&folder))?;
        for entry in entries {
            let path = entry.map_err(Error::io(&folder))?.path();
            if path.extension().is_some_and(|e| e == "toml") {
                let name = path
                    .file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .to_string();
                // The name becomes `generated/<name>/`: `..` or `.` would write elsewhere.
                if !crate::model::grammar::is_profile_name(&name) {
                    return Err(Error::ProfileName {
                        path,
                        name,
                        grammar: crate::model::grammar::PROFILE_NAME,
                    });
                }
                let text = std::fs::read_to_string(&path).map_err(Error::io(&path))?;
                let shown = stack_path
                    .parent()
                    .unwrap_or(Path::new(""))
                    .join("profiles")
                    .join(path.file_name().unwrap_or_default());
                found.push((name, shown.display().to_string(), text));
            }
        }
    }
    if found.is_empty() {
        found = BUILTIN_PROFILES
            .iter()
            .map(|(name, text)| {
                (
                    name.to_string(),
                    format!("<built-in>/profiles/{name}.toml"),
                    text.to_string(),
                )
            })
            .collect();
    }
    let mut profiles = BTreeMap::new();
    for (name, shown, text) in found {
        let source = Source::parse(shown, text)?;
        let file = source.deserialize::<ProfileFile>()?;
        profiles.insert(name, Profile { source, file });
    }
    Ok(profiles)
}
