//! The one place findings about the input are gathered: resolving a stack reports its errors
//! here, and lint adds its warnings and notes to the same collector. Each finding is placed
//! at the key it is about, in the profile file when the profile sets that key, else in
//! `stack.toml`.

use crate::diagnostic::{Code, Diagnostic, Location, Severity};

use super::source::Source;

/// The documents a stack is resolved from, for locating its keys.
#[derive(Clone, Copy)]
pub(crate) struct Sources<'a> {
    pub stack: &'a Source,
    pub profile: &'a Source,
}

impl Sources<'_> {
    /// Where a key's value comes from: the profile when it sets the key, else `stack.toml`.
    pub(crate) fn locate(&self, path: &str) -> Location {
        self.profile
            .locate(path)
            .unwrap_or_else(|| self.stack.locate_nearest(path))
    }

    /// The first of these keys that either document sets, else the first: where an error
    /// about their combination is best shown.
    pub(crate) fn first_set<'p>(&self, paths: &[&'p str]) -> &'p str {
        paths.iter().find(|p| self.is_set(p)).unwrap_or(&paths[0])
    }

    /// Whether the profile or `stack.toml` sets the key.
    pub(crate) fn is_set(&self, path: &str) -> bool {
        self.profile.locate(path).is_some() || self.stack.locate(path).is_some()
    }
}

/// Findings, each at its key.
pub(crate) struct Collector<'a> {
    pub sources: Sources<'a>,
    found: Vec<Diagnostic>,
}

impl<'a> Collector<'a> {
    pub(crate) fn new(sources: Sources<'a>) -> Self {
        Self {
            sources,
            found: Vec::new(),
        }
    }

    /// An error at `key`, with its rule's hint.
    pub(crate) fn error(&mut self, code: Code, key: &str, message: impl Into<String>) {
        let location = self.sources.locate(key);
        self.push(Diagnostic::error(location, code, message.into()));
    }

    /// A finding at `key`, with a hint of its own.
    pub(crate) fn at(
        &mut self,
        code: Code,
        severity: Severity,
        key: &str,
        message: String,
        hint: &str,
    ) {
        let location = self.sources.locate(key);
        self.push(Diagnostic {
            location,
            code,
            severity,
            message,
            hint: hint.to_string(),
        });
    }

    pub(crate) fn push(&mut self, diagnostic: Diagnostic) {
        self.found.push(diagnostic);
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.found.iter().any(|d| d.severity == Severity::Error)
    }

    /// Everything found, sorted by place and without repeats.
    pub(crate) fn finish(self) -> Vec<Diagnostic> {
        let mut found = self.found;
        found.sort();
        found.dedup();
        found
    }
}
