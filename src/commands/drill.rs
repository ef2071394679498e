//! `stackgen drill [SCENARIO…]`: load and failure tests against the running stack of a profile,
//! reported as a table or JSON, and charted with `--report`. Glue: the options checked, the
//! running stack loaded, the drill (`crate::drill`: its safety rules, its engine) run on the
//! engine's runtime, its report printed. A drill that cannot run, or cannot restore what it
//! changed, fails as `drill on profile …: why`.

use std::path::PathBuf;
use std::time::Duration;

use super::stack::Running;
use crate::docker::Engine;
use crate::drill::capacity::Threshold;
use crate::drill::run::Drill;
use crate::drill::site::Site;
use crate::drill::timeline::Recorder;
use crate::drill::undo::Live;
use crate::drill::{DrillOptions, Scenario, chart, failover, load, quick, report::Report};
use crate::drill::{safety, table};
use crate::error::{Error, Outcome, Result};
use crate::{Options, Printer};

/// How long each load runs when `--duration` does not say.
const DURATION: &str = "10s";
/// How long `throughput` loads when `--duration` does not say.
const SUSTAINED: Duration = Duration::from_secs(60);

/// What the command line asked for.
#[derive(Debug, Clone)]
pub struct DrillArgs {
    /// The scenarios to run, in order; all when empty.
    pub scenarios: Vec<Scenario>,
    /// `--duration`, when given.
    pub duration: Option<String>,
    pub clients: usize,
    pub pipeline: usize,
    pub value_size: usize,
    pub json: bool,
    pub allow_prod: bool,
    pub allow_eviction: bool,
    pub quick: bool,
    pub report: Option<PathBuf>,
}

pub(crate) fn run(options: &Options, args: &DrillArgs, printer: &Printer<'_>) -> Result<Outcome> {
    let drill_options = drill_options(args)?;
    let running = Running::load(options, false)?;
    let stack = &running.stack;
    let refused = |error: crate::drill::Error| Error::DrillRefused {
        profile: running.profile.clone(),
        why: error.to_string(),
    };
    safety::prod_policy(stack, args.allow_prod).map_err(refused)?;
    let scenarios = match args.scenarios.is_empty() {
        true => Scenario::ALL.to_vec(),
        false => args.scenarios.clone(),
    };
    safety::failover(stack, &scenarios).map_err(refused)?;
    // `slo` shortens the SLO's windows as `--quick` shortens `for`s: it runs as a quick drill.
    let quick = args.quick || scenarios.contains(&Scenario::Slo);
    let site = Site::new(stack, &running.spec, quick).map_err(refused)?;
    let rendered_rules = running
        .tree
        .get(quick::RENDERED)
        .cloned()
        .unwrap_or_default();
    // The engine's runtime: one thread, as redis-benchmark has; on a small machine the other
    // cores stay Redis'.
    let engine = Engine::connect()?;
    // Under Sentinel, the drill loads the primary the Sentinels name now.
    let site = match engine.block_on(failover::primary_now(&site)) {
        Some(primary) if stack.redis.sentinel.is_some() => site.at(&primary).map_err(refused)?,
        _ => site,
    };
    let client = site.addresses.redis_client().map_err(refused)?;
    let recorder = (args.report.as_ref())
        .map(|_| Recorder::new(Threshold::of(stack).map(|threshold| threshold.percent)));
    let drill = Drill {
        profile: &running.profile,
        stack,
        live: Live {
            docker: &engine.docker,
            client: &client,
            site: &site,
            rendered_rules: &rendered_rules,
        },
        scenarios: &scenarios,
        options: &drill_options,
        printer,
    };
    let report = engine
        .block_on(drill.run(recorder.as_ref()))
        .map_err(refused)?;
    if let (Some(path), Some(recorder)) = (&args.report, &recorder) {
        let names: Vec<&str> = scenarios.iter().map(|s| s.name()).collect();
        let title = format!(
            "stackgen drill on profile {}: {}",
            running.profile,
            names.join(", ")
        );
        let svg = chart::svg(&recorder.timeline.borrow(), &title);
        std::fs::write(path, svg).map_err(Error::io(path))?;
    }
    print(&report, args.json, printer)?;
    Ok(if report.ok {
        Outcome::Clean
    } else {
        Outcome::Found
    })
}

/// The options, checked: a duration of at least a second, and no zero in the load's shape.
fn drill_options(args: &DrillArgs) -> Result<DrillOptions> {
    let usage = |option: &'static str, message: String| Error::Usage { option, message };
    let given = args.duration.as_deref();
    let duration: crate::model::units::Duration =
        (given.unwrap_or(DURATION).parse()).map_err(|message| usage("--duration", message))?;
    if duration.millis() < 1000 {
        return Err(usage("--duration", "a drill runs for at least 1s".into()));
    }
    if args.clients == 0 || args.pipeline == 0 || args.value_size == 0 {
        let message = "each must be at least 1".into();
        return Err(usage("--clients/--pipeline/--value-size", message));
    }
    let duration = Duration::from_millis(duration.millis());
    Ok(DrillOptions {
        duration,
        sustained: given.map_or(SUSTAINED, |_| duration),
        shape: load::Shape {
            clients: args.clients,
            pipeline: args.pipeline,
            value_size: args.value_size,
            keys: 1000,
        },
        allow_eviction: args.allow_eviction,
    })
}

/// The report as JSON or a table, and what was restored and cleaned up.
fn print(report: &Report, json: bool, printer: &Printer<'_>) -> Result<()> {
    let text = if json {
        let mut text = serde_json::to_string_pretty(report).expect("a report serializes");
        text.push('\n');
        text
    } else {
        table::table(report)
    };
    printer.print(&text)?;
    for line in report.restored_once() {
        printer.note(&format!("restored: {line}"))?;
    }
    let removed = usize::try_from(report.drill_keys_removed).unwrap_or(usize::MAX);
    printer.note(&format!(
        "{} removed; nothing else was changed.",
        crate::printer::plural(removed, "drill key")
    ))
}
