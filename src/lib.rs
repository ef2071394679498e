//! stackgen: one typed `stack.toml` in, a complete Redis monitoring stack out. The pipeline is
//! `model` (parse, overlay, resolve) → `render` (pure, validated) → `output` (write, check,
//! diff). `commands` glue these to the command line; `main.rs` only maps results to exit codes.

pub mod alerts;
pub mod cli;
pub(crate) mod commands;
pub(crate) mod diagnostic;
pub mod docker;
pub(crate) mod drill;
pub(crate) mod error;
pub(crate) mod health;
pub(crate) mod lint;
pub(crate) mod model;
pub(crate) mod output;
pub(crate) mod printer;
pub(crate) mod project;
pub(crate) mod render;
pub mod yaml;

pub use commands::{Command, Options, run};
pub use error::{EXIT_ERROR, Error, Outcome, Result};
pub use printer::{Printer, Style, plural};
