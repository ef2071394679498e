//! `stackgen down [--volumes]`: remove the project's containers and network, found by label.
//! Volumes, and with them Redis' data, stay unless `--volumes`.

use super::stack::Running;
use crate::docker::{self, Engine};
use crate::error::{Outcome, Result};
use crate::{Options, Printer};

pub fn run(options: &Options, volumes: bool, printer: &Printer<'_>) -> Result<Outcome> {
    let running = Running::load(options, false)?;
    let engine = Engine::connect()?;
    let report = engine.block_on(docker::down(&engine.docker, &running.stack.name, volumes))?;
    // The runtime copies of secrets go with the containers that read them.
    docker::secrets::remove_all(&running.project.dir.join(".stackgen"));
    printer.note(&report.summary(&running.stack.name))?;
    Ok(Outcome::Clean)
}
