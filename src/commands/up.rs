//! `stackgen up`: render, then converge the engine to the stack and wait until it is healthy.

use std::time::Duration;

use super::Options;
use super::stack::Running;
use crate::docker::{self, Engine, UpOptions};
use crate::error::{Error, Outcome, Result};
use crate::printer::Printer;

pub(crate) fn run(
    options: &Options,
    timeout: &str,
    dry_run: bool,
    wait_scrape: bool,
    printer: &Printer<'_>,
) -> Result<Outcome> {
    let timeout: crate::model::units::Duration =
        timeout.parse().map_err(|message| Error::Usage {
            option: "--timeout",
            message,
        })?;
    let mut running = Running::load(options, !dry_run)?;
    let engine = Engine::connect()?;
    if !dry_run {
        super::clusters::discover(&mut running, &engine, printer)?;
    }
    let up = UpOptions {
        timeout: Duration::from_millis(timeout.millis()),
        dry_run,
        wait_scrape,
    };
    let mut report = docker::UpReport::default();
    let result = engine.block_on(docker::up(
        &engine.docker,
        &running.spec,
        &running.context(),
        &up,
        printer,
        &mut report,
    ));
    // What was done before an error is shown before it.
    if result.is_err() {
        for line in &report.lines {
            printer.note(line)?;
        }
    }
    result?;
    let name = format!("{} ({})", running.stack.name, running.profile);
    if dry_run {
        printer.print(&report.plan.to_string())?;
        for problem in &report.problems {
            printer.error(problem)?;
        }
        if !report.problems.is_empty() {
            printer.note(&format!(
                "Dry run for {name}: nothing was changed; `up` would stop on {}.",
                crate::printer::plural(report.problems.len(), "problem")
            ))?;
            return Ok(Outcome::Found);
        }
        printer.note(&format!("Dry run for {name}: nothing was changed."))?;
        return Ok(Outcome::Clean);
    }
    if options.verbose {
        printer.note(&format!("plan:\n{}", report.plan.to_string().trim_end()))?;
    }
    for line in &report.lines {
        printer.note(line)?;
    }
    if let Some(why) = report.unhealthy {
        printer.error(&why)?;
        return Ok(Outcome::Found);
    }
    let count = running.spec.containers.len();
    if report.plan.is_noop() {
        printer.note(&format!(
            "{name} is up to date: nothing to change, {count} services healthy."
        ))?;
    } else {
        printer.note(&format!("{name} is up: {count} services healthy."))?;
    }
    Ok(Outcome::Clean)
}
