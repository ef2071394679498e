//! The typed configuration pipeline: raw documents (`raw`) → profile overlay merged by
//! `Combine` → a resolved [`Stack`] (`resolve`, into the types of `stack`), its errors gathered
//! by a `Collector` at the keys that cause them. Nothing here reads a project's files (see
//! [`crate::project`]), renders or talks to Docker.

pub(crate) mod collect;
pub(crate) mod combine;
pub(crate) mod grammar;
pub(crate) mod raw;
pub(crate) mod resolve;
pub(crate) mod source;
pub(crate) mod stack;
pub(crate) mod units;

pub(crate) use collect::Collector;
pub(crate) use stack::Stack;
