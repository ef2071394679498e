//! The typed configuration pipeline: raw documents (`raw`) → profile overlay merged by
//! `Combine` → a resolved [`Stack`] (`resolve`, into the types of `stack`), its errors gathered
//! by a `Collector` at the keys that cause them. `project` finds the files on disk and is the
//! one entry point from a profile's name to its rendered files. Nothing here talks to Docker.

pub mod collect;
pub(crate) mod grammar;
pub mod project;
pub mod raw;
pub mod resolve;
pub mod source;
pub mod stack;
pub mod units;

pub use crate::diagnostic::{Diagnostic, Location};
pub use collect::{Collector, Sources};
pub use project::Project;
pub use source::Source;
pub use stack::Stack;
