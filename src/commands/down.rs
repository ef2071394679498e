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
    let mut summary = format!(
        "Removed {} and {} of {}.",
        crate::plural(report.containers.len(), "container"),
        crate::plural(report.networks.len(), "network"),
        running.stack.name
    );
    if !report.volumes_removed.is_empty() {
        summary.push_str(&format!(
            " Removed volumes: {}.",
            report.volumes_removed.join(", ")
        ));
    }
    if !report.volumes_kept.is_empty() {
        summary.push_str(&format!(
            " Kept volumes (data): {} — `down --volumes` removes them.",
            report.volumes_kept.join(", ")
        ));
    }
    printer.note(&summary)?;
    Ok(Outcome::Clean)
}
