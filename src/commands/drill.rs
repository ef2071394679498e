//! `stackgen drill [SCENARIO…]`: load and failure tests against the running stack of a profile,
//! reported as a table or JSON. Refuses a prod-policy profile without `--allow-prod`, before it
//! connects to anything; removes every drill key at the end, whatever happened.

use std::time::Duration;

use super::stack::Running;
use crate::alerts::AlertKind;
use crate::docker::Engine;
use crate::docker::probe;
use crate::drill::{
    DrillOptions, Endpoints, Report, baseline, capacity, load, pressure, recovery, throughput,
};
use crate::error::{Error, Outcome, Result};
use crate::model::raw::Appendfsync;
use crate::model::raw::PolicyLevel;
use crate::model::stack::REDIS_PASSWORD;
use crate::{Options, Printer};

/// The scenarios there are, in the order they run.
pub const SCENARIOS: [&str; 5] = ["baseline", "capacity", "pressure", "recovery", "throughput"];

/// The scenarios that fill Redis towards `maxmemory`, where other keys could be evicted.
const FILLING: [&str; 2] = ["capacity", "pressure"];

/// What the command line asked for.
#[derive(Debug, Clone)]
pub struct DrillArgs {
    pub scenarios: Vec<String>,
    pub duration: String,
    pub clients: usize,
    pub pipeline: usize,
    pub value_size: usize,
    pub json: bool,
    pub allow_prod: bool,
    pub allow_eviction: bool,
}

pub fn run(options: &Options, args: &DrillArgs, printer: &Printer<'_>) -> Result<Outcome> {
    let (duration, drill_options) = drill_options(args)?;
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
    let endpoints = endpoints(&running)?;
    let options = drill_options;
    let thresholds = thresholds(stack);
    let chosen: Vec<&str> = if args.scenarios.is_empty() {
        SCENARIOS.to_vec()
    } else {
        args.scenarios.iter().map(String::as_str).collect()
    };
    // The engine's runtime: one thread, as redis-benchmark has; on a small machine the other
    // cores stay Redis'.
    let engine = Engine::connect()?;
    let durability = recovery::Durability {
        appendonly: stack.redis.appendonly,
        everysec: stack.redis.appendfsync == Appendfsync::Everysec,
    };
    let pressure = memory_threshold(stack);
    let evicts = stack.redis.maxmemory_policy != "noeviction";
    let report = engine.block_on(async {
        let client = load::client(
            &endpoints.redis_host,
            endpoints.redis_port,
            endpoints.redis_password.as_deref(),
        )
        .map_err(|e| drill_error(&running.profile, format!("Redis: {e}")))?;
        if chosen.iter().any(|name| FILLING.contains(name)) && !args.allow_eviction {
            no_other_keys(&client)
                .await
                .map_err(|why| drill_error(&running.profile, why))?;
        }
        let mut scenarios = Vec::new();
        for name in &chosen {
            printer.note(&format!("drill {name} ({duration} where it loads)…"))?;
            let result = match *name {
                "baseline" => baseline::run(&client, &endpoints, &options, thresholds).await,
                "capacity" => match &pressure {
                    Some(pressure) => capacity::run(&client, &endpoints, pressure).await,
                    None => Err("the memory_pressure alert is off: no threshold to fill to".into()),
                },
                "pressure" => {
                    let alert = AlertKind::BufferOverflow.name();
                    pressure::run(&client, &endpoints, evicts, alert).await
                }
                "throughput" => {
                    let alert = AlertKind::LowThroughput.name();
                    let threshold = thresholds.low_throughput_ops;
                    throughput::run(&client, &endpoints, &options, threshold, alert).await
                }
                "recovery" => {
                    let container = &endpoints.redis_container;
                    recovery::run(
                        &client,
                        &engine.docker,
                        container,
                        options.duration,
                        durability,
                    )
                    .await
                }
                other => Err(format!("no scenario `{other}`")),
            };
            scenarios.push(result.unwrap_or_else(
                |why| serde_json::json!({ "name": name, "ok": false, "error": why }),
            ));
        }
        // Whatever happened above, no drill key stays.
        let removed = load::clean(&client)
            .await
            .map_err(|e| drill_error(&running.profile, format!("removing drill keys: {e}")))?;
        let ok = scenarios.iter().all(|s| s["ok"] == true);
        Ok::<_, Error>(Report {
            profile: running.profile.clone(),
            ok,
            scenarios,
            drill_keys_removed: removed,
        })
    })?;
    print(&report, args.json, printer)?;
    Ok(if report.ok {
        Outcome::Clean
    } else {
        Outcome::Found
    })
}

/// The options, checked: a duration of at least a second, and no zero in the load's shape.
fn drill_options(args: &DrillArgs) -> Result<(crate::model::units::Duration, DrillOptions)> {
    let duration: crate::model::units::Duration =
        args.duration.parse().map_err(|message| Error::Usage {
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
            alert: AlertKind::MemoryPressure.name(),
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
fn endpoints(running: &Running) -> Result<Endpoints> {
    let stack = &running.stack;
    let published = |service: &str| {
        running
            .spec
            .containers
            .iter()
            .find(|c| c.service == service)
            .and_then(|c| c.ports.first())
            .map(|p| (probe::reach(&p.host_ip).to_string(), p.host_port))
    };
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
        scrape_interval: Duration::from_millis(stack.redis_exporter.scrape_interval.millis()),
        redis_container: running
            .spec
            .containers
            .iter()
            .find(|c| c.service == "redis")
            .map(|c| c.name.clone())
            .unwrap_or_default(),
    })
}

/// The report as JSON or a table, and what was cleaned up.
fn print(report: &Report, json: bool, printer: &Printer<'_>) -> Result<()> {
    let text = if json {
        let mut text = serde_json::to_string_pretty(report).expect("a report serializes");
        text.push('\n');
        text
    } else {
        table(report)
    };
    printer.print(&text)?;
    printer.note(&format!(
        "{} drill keys removed; nothing else was changed.",
        report.drill_keys_removed
    ))
}

/// The human report: one block per scenario.
fn table(report: &Report) -> String {
    let mut text = format!("{:10}  {:4}  RESULT\n", "SCENARIO", "OK");
    for scenario in &report.scenarios {
        let ok = if scenario["ok"] == true { "ok" } else { "FAIL" };
        let name = scenario["name"].as_str().unwrap_or("?");
        let number = |key: &str| scenario[key].as_f64().unwrap_or_default();
        let detail = match (scenario.get("error"), name) {
            (Some(error), _) => error.as_str().unwrap_or_default().to_string(),
            (None, "capacity") => format!(
                "{} keys, {} bytes at {}% of maxmemory; exporter {:.1} % from INFO; {} {}",
                scenario["keys_at_threshold"],
                scenario["bytes_at_threshold"],
                scenario["threshold_percent"],
                number("exporter_agreement_percent"),
                scenario["alert"].as_str().unwrap_or_default(),
                scenario["alert_state"].as_str().unwrap_or_default(),
            ),
            (None, "pressure") => format!(
                "{} bytes written against {} maxmemory: {} evicted (exporter {}), {} rejected; \
                 {} {}",
                scenario["written_bytes"],
                scenario["maxmemory"],
                scenario["evicted_keys"],
                scenario["exporter_evicted_keys"],
                scenario["rejected_writes"],
                scenario["alert"].as_str().unwrap_or_default(),
                scenario["alert_state"].as_str().unwrap_or_default(),
            ),
            (None, "throughput") => format!(
                "{:.0} ops/s median, {:.0} at the slowest second (threshold {}); {} {}",
                number("ops_per_sec_median"),
                number("ops_per_sec_min"),
                scenario["low_throughput_threshold_ops_per_sec"],
                scenario["alert"].as_str().unwrap_or_default(),
                scenario["alert_state"].as_str().unwrap_or_default(),
            ),
            (None, "recovery") => format!(
                "{} acked, {} survived, {} lost ({:.2} s of writes), up again after {:.1} s",
                scenario["acked"],
                scenario["survived"],
                scenario["lost"],
                number("lost_seconds_of_writes"),
                number("recovery_s"),
            ),
            (None, _) => format!(
                "{:.0} ops/s (Prometheus {:.0}, {:.1} % apart), p50 {:.2} ms, p99 {:.2} ms, max \
                 {:.2} ms, {} errors",
                number("ops_per_sec"),
                number("prometheus_ops_per_sec"),
                number("prometheus_agreement_percent"),
                number("p50_ms"),
                number("p99_ms"),
                number("max_ms"),
                scenario["errors"],
            ),
        };
        text.push_str(&format!("{name:10}  {ok:4}  {detail}\n"));
    }
    text
}
