//! `stackgen status [--format human|json]`: per service, state, health and a real probe.

use super::stack::Running;
use crate::docker::{Engine, status};
use crate::error::{Outcome, Result};
use crate::{Options, Printer};

pub fn run(options: &Options, json: bool, printer: &Printer<'_>) -> Result<Outcome> {
    let running = Running::load(options, false)?;
    let engine = Engine::connect()?;
    let rows = engine.block_on(status::status(
        &engine.docker,
        &running.spec,
        &running.stack,
    ))?;
    let text = if json {
        let mut text = serde_json::to_string_pretty(&rows).expect("rows serialize");
        text.push('\n');
        text
    } else {
        let width = rows
            .iter()
            .map(|r| r.service.len())
            .max()
            .unwrap_or(7)
            .max(7);
        let mut text = format!(
            "{:width$}  {:8}  {:9}  {:4}  PROBE\n",
            "SERVICE", "STATE", "HEALTH", "OK"
        );
        for row in &rows {
            let ok = if row.ok { "ok" } else { "FAIL" };
            text.push_str(&format!(
                "{:width$}  {:8}  {:9}  {:4}  {}\n",
                row.service, row.state, row.health, ok, row.probe
            ));
        }
        text
    };
    printer.print(&text)?;
    let failing = rows.iter().filter(|r| !r.ok).count();
    if failing > 0 {
        printer.note(&format!("{failing} of {} services unhealthy.", rows.len()))?;
        Ok(Outcome::Found)
    } else {
        printer.note(&format!("All {} services healthy.", rows.len()))?;
        Ok(Outcome::Clean)
    }
}
