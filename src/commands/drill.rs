//! `stackgen drill [SCENARIO…]`: load and failure tests against the running stack of a profile,
//! reported as a table or JSON, and charted with `--report`. Refuses a prod-policy profile
//! without `--allow-prod`, before it connects to anything. Whatever happens — success, failure,
//! Ctrl-C — everything the drill changed is restored and every drill key removed, and the
//! output says so.

use std::cell::RefCell;
use std::time::Duration;

use super::stack::Running;
use crate::alerts::AlertKind;
use crate::docker::Engine;
use crate::drill::alerts::{Alerts, Setting};
use crate::drill::timeline::Recorder;
use crate::drill::timing::Timing;
use crate::drill::undo::{Change, Journal, Stack};
use crate::drill::{
    DrillOptions, Endpoints, Report, alerts, baseline, capacity, chart, induce, load, pressure,
    quick, recovery, table, throughput,
};
use crate::error::{Error, Outcome, Result};
use crate::model::raw::Appendfsync;
use crate::model::raw::PolicyLevel;
use crate::model::stack::REDIS_PASSWORD;
use crate::{Options, Printer};

/// The scenarios there are, in the order they run.
pub const SCENARIOS: [&str; 6] = [
    "baseline",
    "capacity",
    "pressure",
    "recovery",
    "throughput",
    "alerts",
];

/// The scenarios that fill Redis towards `maxmemory`, where other keys could be evicted.
const FILLING: [&str; 2] = ["capacity", "pressure"];

/// How long `throughput` loads Redis when `--duration` does not say.
const THROUGHPUT: Duration = Duration::from_secs(60);

/// The rendered rules file, which `--quick` copies and restores.
const RULES: &str = "prometheus/rules/redis-alerts.yml";

/// What the command line asked for.
#[derive(Debug, Clone)]
pub struct DrillArgs {
    pub scenarios: Vec<String>,
    /// `--duration`, when given.
    pub duration: Option<String>,
    pub clients: usize,
    pub pipeline: usize,
    pub value_size: usize,
    pub json: bool,
    pub allow_prod: bool,
    pub allow_eviction: bool,
    pub quick: bool,
    pub report: Option<std::path::PathBuf>,
}

/// What every scenario runs against.
struct Drill<'a, 'p> {
    running: &'a Running,
    args: &'a DrillArgs,
    options: DrillOptions,
    stack: Stack<'a>,
    journal: Journal,
    settings: Vec<Setting>,
    printer: &'a Printer<'p>,
    /// Each finished scenario's result, kept outside the run so that an interrupted run still
    /// reports them.
    results: RefCell<Vec<serde_json::Value>>,
    /// Drill keys removed so far.
    removed: std::cell::Cell<u64>,
}

pub fn run(options: &Options, args: &DrillArgs, printer: &Printer<'_>) -> Result<Outcome> {
    let (_, drill_options) = drill_options(args)?;
    let running = Running::load(options, false)?;
    let stack = &running.stack;
    if stack.policy.level == PolicyLevel::Error && !args.allow_prod {
        return Err(Error::DrillRefused {
            profile: running.profile.clone(),
            why: "its policy is prod's (`level = \"error\"`): a drill loads Redis and writes \
                  keys; pass --allow-prod to run it anyway"
                .into(),
        });
    }
    let endpoints = endpoints(&running, args.quick)?;
    let rendered_rules = running.tree.get(RULES).cloned().unwrap_or_default();
    // The engine's runtime: one thread, as redis-benchmark has; on a small machine the other
    // cores stay Redis'.
    let engine = Engine::connect()?;
    let client = crate::health::redis::client(
        &endpoints.redis_host,
        endpoints.redis_port,
        endpoints.redis_password.as_deref(),
    )
    .map_err(|e| drill_error(&running.profile, format!("Redis: {e}")))?;
    let recorder = args
        .report
        .as_ref()
        .map(|_| Recorder::new(memory_threshold(stack).map(|p| p.threshold_percent)));
    let drill = Drill {
        running: &running,
        args,
        options: drill_options,
        stack: Stack {
            docker: &engine.docker,
            client: &client,
            endpoints: &endpoints,
            rendered_rules: &rendered_rules,
        },
        journal: Journal::default(),
        settings: settings(stack),
        printer,
        results: RefCell::new(Vec::new()),
        removed: std::cell::Cell::new(0),
    };
    let report = engine.block_on(drive(&drill, recorder.as_ref()))?;
    if let (Some(path), Some(recorder)) = (&args.report, &recorder) {
        let title = format!(
            "stackgen drill on profile {}: {}",
            running.profile,
            chosen(args).join(", ")
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

fn chosen(args: &DrillArgs) -> Vec<&str> {
    if args.scenarios.is_empty() {
        SCENARIOS.to_vec()
    } else {
        args.scenarios.iter().map(String::as_str).collect()
    }
}

/// Runs the scenarios (sampling for the chart alongside) until they end or the user stops
/// the drill; then restores what is left changed and removes the drill keys.
async fn drive(drill: &Drill<'_, '_>, recorder: Option<&Recorder>) -> Result<Report> {
    let profile = &drill.running.profile;
    let sampling = async {
        match recorder {
            Some(recorder) => {
                recorder
                    .record(drill.stack.client, drill.stack.endpoints)
                    .await
            }
            None => std::future::pending().await,
        }
    };
    let outcome = tokio::select! {
        outcome = scenarios(drill, recorder) => Some(outcome),
        () = sampling => None,
        () = interrupted() => None,
    };
    let interrupted = outcome.is_none();
    if interrupted {
        drill
            .printer
            .note("interrupted: restoring what the drill changed…")?;
        let done = drill.results.borrow().len();
        if let Some(name) = chosen(drill.args).get(done) {
            drill.results.borrow_mut().push(serde_json::json!({
                "name": name, "ok": false, "error": "interrupted",
            }));
        }
    }
    let failed: Vec<String> = drill
        .journal
        .undo_all(&drill.stack)
        .await
        .into_iter()
        .filter_map(std::result::Result::err)
        .collect();
    let restored = drill.journal.restored();
    // Whatever happened above, no drill key stays.
    let removed = load::clean(drill.stack.client)
        .await
        .map_err(|e| drill_error(profile, format!("removing drill keys: {e}")))?;
    if !failed.is_empty() {
        return Err(drill_error(profile, failed.join("; ")));
    }
    if let Some(Err(why)) = outcome {
        return Err(drill_error(profile, why));
    }
    let scenarios = drill.results.take();
    Ok(Report {
        profile: profile.clone(),
        ok: !interrupted && scenarios.iter().all(|s| s["ok"] == true),
        interrupted,
        scenarios,
        restored,
        drill_keys_removed: drill.removed.get() + removed,
    })
}

/// Ctrl-C, or a termination request.
async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The scenarios, one after another, each result kept as it comes. An error here means the
/// drill could not run at all.
async fn scenarios(
    drill: &Drill<'_, '_>,
    recorder: Option<&Recorder>,
) -> std::result::Result<(), String> {
    let chosen = chosen(drill.args);
    let mut eviction_unsafe = None;
    if chosen
        .iter()
        .any(|name| FILLING.contains(name) || *name == "alerts")
        && !drill.args.allow_eviction
        && let Err(why) = no_other_keys(drill.stack.client).await
    {
        if chosen.iter().any(|name| FILLING.contains(name)) {
            return Err(why);
        }
        eviction_unsafe = Some(why);
    }
    if drill.args.quick {
        drill
            .printer
            .note("loading the drill's `for: 0s` rules into Prometheus…")
            .ok();
        drill.journal.record(Change::QuickRules);
        quick::load(
            drill.stack.docker,
            drill.stack.endpoints,
            drill.stack.rendered_rules,
        )
        .await?;
    }
    for name in &chosen {
        drill
            .printer
            .note(&format!(
                "drill {name} ({} where it loads)…",
                drill.args.duration.as_deref().unwrap_or("10s")
            ))
            .ok();
        if let Some(recorder) = recorder {
            recorder.mark(name);
        }
        let mark = drill.journal.mark();
        if FILLING.contains(name) {
            induce::no_forks(&drill.stack, &drill.journal).await?;
        }
        let result = one(drill, name, eviction_unsafe.clone(), recorder).await;
        if FILLING.contains(name) {
            // The drill keys first: the settings that allow forks come back on an empty buffer.
            load::clean(drill.stack.client)
                .await
                .map_err(|e| e.to_string())?;
            for line in drill.journal.undo_since(&drill.stack, mark).await {
                line?;
            }
        }
        drill.results.borrow_mut().push(
            result.unwrap_or_else(
                |why| serde_json::json!({ "name": name, "ok": false, "error": why }),
            ),
        );
    }
    Ok(())
}

/// One scenario's result.
async fn one(
    drill: &Drill<'_, '_>,
    name: &str,
    eviction_unsafe: Option<String>,
    recorder: Option<&Recorder>,
) -> std::result::Result<serde_json::Value, String> {
    let (client, endpoints) = (drill.stack.client, drill.stack.endpoints);
    let stack = &drill.running.stack;
    let options = &drill.options;
    match name {
        "baseline" => baseline::run(client, endpoints, options, thresholds(stack)).await,
        "capacity" => match &memory_threshold(stack) {
            Some(pressure) => capacity::run(client, endpoints, pressure).await,
            None => Err("the memory_pressure alert is off: no threshold to fill to".into()),
        },
        "pressure" => {
            let kind = AlertKind::BufferOverflow;
            let evicts = stack.redis.maxmemory_policy != "noeviction";
            pressure::run(client, endpoints, evicts, kind).await
        }
        "throughput" => {
            let alert = AlertKind::LowThroughput.name();
            let threshold = thresholds(stack).low_throughput_ops;
            // Sustained: a minute unless --duration says otherwise.
            let mut options = options.clone();
            if drill.args.duration.is_none() {
                options.duration = THROUGHPUT;
            }
            throughput::run(client, endpoints, &options, threshold, alert).await
        }
        "recovery" => {
            let durability = recovery::Durability {
                appendonly: stack.redis.appendonly,
                everysec: stack.redis.appendfsync == Appendfsync::Everysec,
            };
            let container = &endpoints.redis_container;
            let docker = drill.stack.docker;
            let (duration, journal) = (options.duration, &drill.journal);
            recovery::run(
                client, docker, container, duration, durability, journal, recorder,
            )
            .await
        }
        "alerts" => {
            let progress = |line: &str| {
                drill.printer.note(line).ok();
            };
            let scenario = Alerts {
                stack: Stack { ..drill.stack },
                journal: &drill.journal,
                settings: drill.settings.clone(),
                evicts: stack.redis.maxmemory_policy != "noeviction",
                eviction_unsafe,
                shape: options.shape,
                progress: &progress,
            };
            alerts::run(&scenario).await
        }
        other => Err(format!("no scenario `{other}`")),
    }
}

/// Every alert of the catalogue as the stack renders it.
fn settings(stack: &crate::model::Stack) -> Vec<Setting> {
    stack
        .alerts
        .iter()
        .map(|a| Setting {
            kind: a.kind,
            enabled: a.enabled,
            threshold: a.threshold,
        })
        .collect()
}

/// The options, checked: a duration of at least a second, and no zero in the load's shape.
fn drill_options(args: &DrillArgs) -> Result<(crate::model::units::Duration, DrillOptions)> {
    let duration: crate::model::units::Duration = args
        .duration
        .as_deref()
        .unwrap_or("10s")
        .parse()
        .map_err(|message| Error::Usage {
            option: "--duration",
            message,
        })?;
    if duration.millis() < 1000 {
        return Err(usage("--duration", "a drill runs for at least 1s"));
    }
    if args.clients == 0 || args.pipeline == 0 || args.value_size == 0 {
        return Err(usage(
            "--clients/--pipeline/--value-size",
            "each must be at least 1",
        ));
    }
    let options = DrillOptions {
        duration: Duration::from_millis(duration.millis()),
        shape: load::Shape {
            clients: args.clients,
            pipeline: args.pipeline,
            value_size: args.value_size,
            keys: 1000,
        },
    };
    Ok((duration, options))
}

/// The memory threshold `capacity` fills to, when its alert is on.
fn memory_threshold(stack: &crate::model::Stack) -> Option<capacity::Pressure> {
    stack
        .alerts
        .iter()
        .find(|a| a.kind == AlertKind::MemoryPressure && a.enabled)
        .and_then(|a| a.threshold)
        .map(|threshold_percent| capacity::Pressure {
            threshold_percent,
            kind: AlertKind::MemoryPressure,
        })
}

/// Filling Redis could evict keys that are not the drill's: there must be none.
async fn no_other_keys(client: &redis::Client) -> std::result::Result<(), String> {
    let others = load::other_keys(client)
        .await
        .map_err(|e| format!("Redis: {e}"))?;
    if others > 0 {
        return Err(format!(
            "Redis holds {others} keys that are not the drill's, which filling it could evict; \
             pass --allow-eviction to fill it anyway"
        ));
    }
    Ok(())
}

/// The thresholds of the alerts the figures are compared with, where those alerts are on.
fn thresholds(stack: &crate::model::Stack) -> baseline::Thresholds {
    let threshold = |kind: AlertKind| {
        stack
            .alerts
            .iter()
            .find(|a| a.kind == kind && a.enabled)
            .and_then(|a| a.threshold)
    };
    baseline::Thresholds {
        low_throughput_ops: threshold(AlertKind::LowThroughput),
        high_latency_ms: threshold(AlertKind::HighLatency),
    }
}

fn usage(option: &'static str, message: &str) -> Error {
    Error::Usage {
        option,
        message: message.into(),
    }
}

fn drill_error(profile: &str, why: String) -> Error {
    Error::DrillRefused {
        profile: profile.into(),
        why,
    }
}

/// Redis and Prometheus as published by the profile's running stack.
fn endpoints(running: &Running, quick: bool) -> Result<Endpoints> {
    let stack = &running.stack;
    let of = |service: &str| {
        running
            .spec
            .containers
            .iter()
            .find(|c| c.service == service)
    };
    let published = |service: &str| {
        let (host, port) = of(service)?.published()?;
        Some((host.to_string(), port))
    };
    let container = |service: &str| of(service).map(|c| c.name.clone()).unwrap_or_default();
    let refuse = |why: &str| drill_error(&running.profile, why.to_string());
    let (redis_host, redis_port) =
        published("redis").ok_or_else(|| refuse("a drill loads the managed Redis: it is off"))?;
    let (prometheus_host, prometheus_port) = published("prometheus")
        .ok_or_else(|| refuse("a drill checks its figures against Prometheus: it is off"))?;
    let redis_password = if stack.redis.auth {
        Some(
            crate::docker::secrets::value(&running.spec, REDIS_PASSWORD)
                .ok_or_else(|| refuse("the Redis password secret cannot be read"))?,
        )
    } else {
        None
    };
    let target = stack
        .targets
        .iter()
        .find(|t| t.managed)
        .map(|t| t.name.clone())
        .unwrap_or_default();
    Ok(Endpoints {
        redis_host,
        redis_port,
        redis_password,
        prometheus_host,
        prometheus_port,
        target,
        redis_container: container("redis"),
        prometheus_container: container("prometheus"),
        exporter_container: container("redis-exporter"),
        alertmanager_container: container("alertmanager"),
        alertmanager: published("alertmanager"),
        slack: stack.alertmanager.service.enabled && stack.alertmanager.slack.is_some(),
        timing: Timing::new(stack, quick),
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
    for line in &report.restored {
        printer.note(&format!("restored: {line}"))?;
    }
    printer.note(&format!(
        "{} drill keys removed; nothing else was changed.",
        report.drill_keys_removed
    ))
}
