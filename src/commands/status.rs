//! `stackgen status [--format human|json]`: per service, state, health and a real probe.

use super::Options;
use super::stack::Running;
use crate::docker::status::ServiceStatus;
use crate::docker::{Engine, observe, status};
use crate::error::{Outcome, Result};
use crate::health::TargetStatus;
use crate::printer::Printer;

pub(crate) fn run(options: &Options, json: bool, printer: &Printer<'_>) -> Result<Outcome> {
    let mut running = Running::load(options, false)?;
    super::clusters::known(&mut running);
    let engine = Engine::connect()?;
    let (name, profile) = (&running.stack.name, &running.profile);
    let existing = engine.block_on(observe::Existing::read(&engine.docker, name))?;
    if let Some(other) = existing.other_profile(profile) {
        printer.error(&format!(
            "stack `{name}` is running as profile `{other}`, not `{profile}`: \
             `stackgen status -p {other}` checks it"
        ))?;
        return Ok(Outcome::Found);
    }
    let rows = engine.block_on(status::status(
        &engine.docker,
        &running.spec,
        &running.stack,
    ))?;
    let targets: Vec<&TargetStatus> = rows.iter().flat_map(|r| &r.targets).collect();
    let ok = rows.iter().all(|r| r.ok) && targets.iter().all(|t| t.up);
    let text = if json {
        let report = serde_json::json!({
            "stack": name,
            "profile": profile,
            "ok": ok,
            "services": rows,
        });
        let mut text = serde_json::to_string_pretty(&report).expect("rows serialize");
        text.push('\n');
        text
    } else {
        // Each column as wide as its widest value, whatever the states.
        let widest = |header: &str, of: &dyn Fn(&ServiceStatus) -> &str| {
            rows.iter()
                .map(|r| of(r).len())
                .chain([header.len()])
                .max()
                .unwrap_or(0)
        };
        let service = widest("SERVICE", &|r| &r.service);
        let state = widest("STATE", &|r| &r.state);
        let health = widest("HEALTH", &|r| &r.health);
        let mut text = format!(
            "Stack {name}, profile {profile}.\n\n{:service$}  {:state$}  {:health$}  {:4}  \
             PROBE\n",
            "SERVICE", "STATE", "HEALTH", "OK"
        );
        for row in &rows {
            let ok = if row.ok { "ok" } else { "FAIL" };
            text.push_str(&format!(
                "{:service$}  {:state$}  {:health$}  {:4}  {}\n",
                row.service, row.state, row.health, ok, row.probe
            ));
        }
        text.push_str(&fleet_table(&targets));
        text
    };
    printer.print(&text)?;
    let failing = rows.iter().filter(|r| !r.ok).count();
    let down = targets.iter().filter(|t| !t.up).count();
    let fleet = match (targets.len(), down) {
        (0, _) => String::new(),
        (1, 0) => " The only Redis target is up.".into(),
        (1, _) => " The only Redis target is down.".into(),
        (n, 0) => format!(" All {n} Redis targets up."),
        (n, _) => format!(" {down} of {n} Redis targets down."),
    };
    let services = match (rows.len(), failing) {
        (1, 0) => "The only service is healthy.".to_string(),
        (1, _) => "The only service is unhealthy.".to_string(),
        (n, 0) => format!("All {n} services healthy."),
        (n, _) => format!("{failing} of {n} services unhealthy."),
    };
    printer.note(&format!("{services}{fleet}"))?;
    Ok(if ok { Outcome::Clean } else { Outcome::Found })
}

/// The targets as the exporter reports them, one line each, after the services.
fn fleet_table(targets: &[&TargetStatus]) -> String {
    if targets.is_empty() {
        return String::new();
    }
    let width = targets
        .iter()
        .map(|t| t.name.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut text = format!("\n{:width$}  {:4}  PROBE\n", "TARGET", "UP");
    for target in targets {
        let up = if target.up { "up" } else { "DOWN" };
        text.push_str(&format!(
            "{:width$}  {:4}  {} ({})\n",
            target.name, up, target.detail, target.address
        ));
    }
    text
}
