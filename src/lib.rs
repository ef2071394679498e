//! stackgen: one typed `stack.toml` in, a complete Redis monitoring stack out. The pipeline is
//! `model` (parse, overlay, resolve) → `render` (pure, validated) → `output` (write, check,
//! diff). `commands` glue these to the command line; `main.rs` only maps results to exit codes.

pub mod alerts;
pub mod cli;
pub mod commands;
pub mod diagnostic;
pub mod docker;
pub mod drill;
pub mod error;
pub(crate) mod health;
pub mod lint;
pub mod model;
pub mod output;
pub mod printer;
pub mod project;
pub mod render;
pub mod yaml;

pub use commands::{Command, Options, run};
pub use error::{EXIT_ERROR, Error, Outcome, Result};
pub use printer::{Printer, Style, plural};
