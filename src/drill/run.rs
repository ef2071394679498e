//! The drill's engine: the scenarios one after another, each result kept as it comes (an
//! interrupted run still reports them), the chart sampled alongside, Ctrl-C caught. Whatever
//! happens — success, failure, Ctrl-C — everything the drill changed is restored and every
//! drill key removed before it returns, and the report says what was restored.

use std::cell::RefCell;

use super::alerts::{self, Setting};
use super::baseline::{self, Thresholds};
use super::capacity::{self, Threshold};
use super::recovery;
use super::report::{Failed, Report, ScenarioReport};
use super::timeline::Recorder;
use super::timing::spelled;
use super::undo::{Change, Journal, Live};
use super::{DrillOptions, Error, Result, Scenario, failover, induce, load, pressure, quick};
use super::{route, safety, slo, throughput};
use crate::alerts::AlertKind;
use crate::model::Stack;
use crate::model::raw::Appendfsync;
use crate::printer::Printer;

/// A drill, ready to run against the live stack.
pub(crate) struct Drill<'a, 'p> {
    /// The profile whose stack it is, for the report.
    pub(crate) profile: &'a str,
    /// That stack, resolved: its alerts, their thresholds, its Redis settings.
    pub(crate) stack: &'a Stack,
    pub(crate) live: Live<'a>,
    /// The scenarios to run, in order.
    pub(crate) scenarios: &'a [Scenario],
    pub(crate) options: &'a DrillOptions,
    /// Where the progress lines and bars go.
    pub(crate) printer: &'a Printer<'p>,
}

/// A drill while it runs: the changes it has to undo, and what it has found so far.
struct Underway<'d, 'a, 'p> {
    drill: &'d Drill<'a, 'p>,
    journal: Journal,
    /// Each finished scenario's result, kept outside the scenarios' future so that an
    /// interrupted run still reports them.
    results: RefCell<Vec<ScenarioReport>>,
}

impl Drill<'_, '_> {
    /// A progress line; a line that cannot be written is no reason to stop a drill.
    pub(crate) fn say(&self, line: &str) {
        self.printer.note(line).ok();
    }

    /// Runs the scenarios (sampling for the chart alongside) until they end or the user stops
    /// the drill; then restores what is left changed and removes the drill keys. An error: the
    /// drill could not run, or what it changed could not all be restored.
    pub(crate) async fn run(&self, recorder: Option<&Recorder>) -> Result<Report> {
        let running = Underway {
            drill: self,
            journal: Journal::default(),
            results: RefCell::default(),
        };
        let sampling = async {
            match recorder {
                Some(recorder) => recorder.record(self.live.client, self.live.site).await,
                None => std::future::pending().await,
            }
        };
        let outcome = tokio::select! {
            outcome = running.scenarios(recorder) => Some(outcome),
            () = sampling => None,
            () = interrupted() => None,
        };
        if let Some(recorder) = recorder {
            recorder.last_states(self.live.site).await;
        }
        let interrupted = outcome.is_none();
        if interrupted {
            self.say("Interrupted: restoring what the drill changed.");
            let done = running.results.borrow().len();
            if let Some(&scenario) = self.scenarios.get(done) {
                let failed = Failed::new(scenario, &Error::Interrupted);
                running
                    .results
                    .borrow_mut()
                    .push(ScenarioReport::Failed(failed));
            }
        }
        let undone = running.journal.undo_all(&self.live).await;
        let failed: Vec<Error> = undone.into_iter().filter_map(Result::err).collect();
        let restored = running.journal.restored();
        // Whatever happened above, no drill key stays: on the primary, which a failover moved.
        let moved = match self.scenarios.contains(&Scenario::Failover) {
            true => failover::primary_client(self.live.site).await,
            false => None,
        };
        let removed = load::clean(moved.as_ref().unwrap_or(self.live.client)).await?;
        if !failed.is_empty() {
            return Err(Error::NotRestored(failed));
        }
        if let Some(Err(error)) = outcome {
            return Err(error);
        }
        let scenarios = running.results.take();
        Ok(Report {
            profile: self.profile.to_string(),
            ok: !interrupted && scenarios.iter().all(ScenarioReport::ok),
            interrupted,
            scenarios,
            restored,
            drill_keys_removed: removed,
        })
    }
}

impl Underway<'_, '_, '_> {
    /// The scenarios, one after another, each result kept as it comes. An error here means the
    /// drill could not run at all.
    async fn scenarios(&self, recorder: Option<&Recorder>) -> Result<()> {
        let drill = self.drill;
        let (live, options) = (&drill.live, drill.options);
        let eviction_unsafe =
            safety::eviction_guard(live.client, drill.scenarios, options.allow_eviction).await?;
        if live.site.timing.quick() {
            drill.say("Loading the drill's `for: 0s` copies of the alert rules into Prometheus.");
            self.journal.record(Change::QuickRules);
            let extra = match drill.scenarios.contains(&Scenario::Slo) {
                true => {
                    let (slo, scale) = (slo::chosen(drill.stack)?, live.site.timing.scale());
                    slo::copies(live.rendered_rules, slo, scale, &live.site.target)?
                }
                false => Vec::new(),
            };
            quick::load(live.docker, live.site, live.rendered_rules, extra).await?;
            if let Some(drilled) = route::drilled(live.site)? {
                drill.say(
                    "Adding the drill's Alertmanager route: its copies are sent at once, and \
                     their changes every 5s.",
                );
                self.journal.record(Change::DrillRoute {
                    path: drilled.path.clone(),
                    original: drilled.original.clone(),
                });
                route::add(live.site, &drilled).await?;
            }
        }
        for &scenario in drill.scenarios {
            let loads = spelled(options.duration);
            drill.say(&format!(
                "Running the {scenario} scenario (where it loads Redis, for {loads})."
            ));
            if let Some(recorder) = recorder {
                recorder.mark(scenario.name());
            }
            let mark = self.journal.mark();
            if scenario.fills() {
                induce::no_forks(live, &self.journal).await?;
            }
            let result = self.one(scenario, eviction_unsafe.as_ref(), recorder).await;
            if scenario.fills() {
                // The drill keys first: the settings that allow forks come back on an empty
                // buffer.
                load::clean(live.client).await?;
                for line in self.journal.undo_since(live, mark).await {
                    line?;
                }
            }
            let report = result
                .unwrap_or_else(|error| ScenarioReport::Failed(Failed::new(scenario, &error)));
            self.results.borrow_mut().push(report);
        }
        Ok(())
    }

    /// One scenario's result; `eviction_unsafe`: why `alerts` must not induce evictions, if it
    /// must not.
    async fn one(
        &self,
        scenario: Scenario,
        eviction_unsafe: Option<&Error>,
        recorder: Option<&Recorder>,
    ) -> Result<ScenarioReport> {
        let drill = self.drill;
        let (live, stack, options) = (&drill.live, drill.stack, drill.options);
        let (client, site) = (live.client, live.site);
        let evicts = stack.redis.maxmemory_policy != "noeviction";
        Ok(match scenario {
            Scenario::Baseline => {
                let thresholds = Thresholds::of(stack);
                ScenarioReport::Baseline(baseline::run(client, site, options, thresholds).await?)
            }
            Scenario::Capacity => {
                let threshold = Threshold::of(stack).ok_or_else(|| {
                    Error::refused("the memory_pressure alert is off: no threshold to fill to")
                })?;
                ScenarioReport::Capacity(capacity::run(client, site, &threshold).await?)
            }
            Scenario::Pressure => {
                let kind = AlertKind::BufferOverflow;
                ScenarioReport::Pressure(pressure::run(client, site, evicts, kind).await?)
            }
            Scenario::Recovery => {
                let durability = recovery::Durability {
                    appendonly: stack.redis.appendonly,
                    everysec: stack.redis.appendfsync == Appendfsync::Everysec,
                };
                let (docker, container) = (live.docker, &site.containers.redis);
                let (duration, journal) = (options.duration, &self.journal);
                let recovery = recovery::run(
                    client, docker, container, duration, durability, journal, recorder,
                );
                ScenarioReport::Recovery(recovery.await?)
            }
            Scenario::Throughput => {
                let threshold = Thresholds::of(stack).low_throughput_ops;
                ScenarioReport::Throughput(throughput::run(client, site, options, threshold).await?)
            }
            Scenario::Failover => {
                let on = |kind: AlertKind| {
                    let enabled = stack.alerts.iter().any(|a| a.kind == kind && a.enabled);
                    enabled && crate::render::rules::source_enabled(stack, kind)
                };
                let (docker, journal) = (live.docker, &self.journal);
                let failover = failover::run(site, docker, options.duration, journal, recorder, on);
                ScenarioReport::Failover(failover.await?)
            }
            Scenario::Slo => {
                let (slo, scale) = (slo::chosen(stack)?, site.timing.scale());
                ScenarioReport::Slo(slo::run(live, &self.journal, slo, scale).await?)
            }
            Scenario::Alerts => {
                let context = alerts::Context {
                    live: *live,
                    journal: &self.journal,
                    settings: Setting::all(stack),
                    evicts,
                    eviction_unsafe,
                    shape: options.shape,
                    printer: drill.printer,
                };
                ScenarioReport::Alerts(alerts::run(&context).await?)
            }
        })
    }
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
