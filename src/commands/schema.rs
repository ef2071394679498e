//! `stackgen schema`: the JSON Schema (draft-07) of `stack.toml`, which the repository keeps
//! as `stack.schema.json` for editors.

use schemars::generate::SchemaSettings;

use crate::error::{Outcome, Result};
use crate::model::raw::StackFile;
use crate::printer::Printer;

/// The schema text, exactly as `stack.schema.json` holds it.
pub(crate) fn text() -> String {
    let generator = SchemaSettings::draft07().into_generator();
    let mut schema = generator.into_root_schema_for::<StackFile>();
    schema.insert("title".into(), "stackgen stack.toml".into());
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    text
}

pub(crate) fn run(printer: &Printer<'_>) -> Result<Outcome> {
    printer.print(&text())?;
    Ok(Outcome::Clean)
}
