//! The typed configuration pipeline: raw documents (`raw`) → profile overlay merged by
//! `Combine` → a resolved [`Stack`] (`resolve`). `project` finds the files on disk. Nothing
//! here renders or talks to Docker.

pub mod project;
pub mod raw;
pub mod resolve;
pub mod source;
pub mod units;

pub use project::Project;
pub use resolve::Stack;
pub use source::{Diagnostic, Location, Source};
