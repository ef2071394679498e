//! `stackgen down [--volumes]`: remove the profile's containers, then (with `--volumes`) its
//! volumes, then the private secret copies, then the network unless the application is still
//! attached to it. Another profile's stack is left alone: `down` says whose it is.

use super::Options;
use super::stack::Running;
use crate::docker::{self, Engine};
use crate::error::{Outcome, Result};
use crate::printer::Printer;

pub(crate) fn run(options: &Options, volumes: bool, printer: &Printer<'_>) -> Result<Outcome> {
    let running = Running::load(options, false)?;
    let engine = Engine::connect()?;
    let name = &running.stack.name;
    let existing = engine.block_on(docker::observe::Existing::read(&engine.docker, name))?;
    if let Some(other) = existing.other_profile(&running.profile) {
        printer.error(&format!(
            "stack `{name}` is running as profile `{other}`, not `{}`: nothing removed; \
             `stackgen down -p {other}` removes it",
            running.profile
        ))?;
        return Ok(Outcome::Found);
    }
    let report = engine.block_on(docker::down(&engine.docker, name, volumes))?;
    // The runtime copies of this profile's secrets go with the containers that read them.
    let _ = std::fs::remove_dir_all(running.runtime_dir.join("secrets"));
    printer.note(&report.summary(name))?;
    for line in report.left() {
        printer.error(&line)?;
    }
    Ok(if report.left_anything() {
        Outcome::Found
    } else {
        Outcome::Clean
    })
}
