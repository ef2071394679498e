//! The typed configuration pipeline: raw documents (`raw`) → profile overlay merged by
//! `Combine` → a resolved [`Stack`] (`resolve`, into the types of `stack`), its errors gathered
//! by a `Collector` at the keys that cause them. Nothing here reads a project's files (see
//! [`crate::project`]), renders or talks to Docker.

pub mod collect;
pub(crate) mod combine;
pub(crate) mod grammar;
pub mod raw;
pub mod resolve;
pub mod source;
pub mod stack;
pub mod units;

pub use crate::diagnostic::{Diagnostic, Location};
pub use collect::{Collector, Sources};
pub use source::Source;
pub use stack::Stack;
