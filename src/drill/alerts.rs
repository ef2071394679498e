//! `alerts`: every alert that can be induced safely on a running stack is induced, must fire
//! (in Prometheus, then held by Alertmanager and sent to Slack when it is configured), is
//! undone and must resolve. An alert that cannot be induced safely is listed with why.
//!
//! The order follows the rate windows (the quick copies' under `--quick`) and what each cause
//! touches ([`super::order`]). While the lanes of alerts whose causes do not touch each other
//! are induced together, each lane one alert after another, and then the outages one by one
//! (each alert waits until it is quiet: one still active from an earlier scenario proves
//! nothing), a steady load keeps the rate above `RedisLowThroughput`'s threshold, so that it
//! cannot fire among them. The load stops, the rate falls out of the window and
//! it fires; slow commands follow once the window is quiet — they can only raise the average
//! latency of a quiet window. Alerts on a windowed counter (errors, rejections, evictions)
//! resolve when their burst leaves the window: they are waited for last, together.

use std::time::{Duration, Instant};

use serde::Serialize;

use futures_util::future::join_all;

use super::order::{LANES, OUTAGES, induced};
use super::timing::spelled;
use super::undo::{Journal, Live};
use super::{Error, Result, Scenario, capacity, induce, load, notify, pressure, prometheus};
use crate::alerts::AlertKind;
use crate::printer::{Printer, Steps};
use listed::not_inducible;
use slow::slow;

mod listed;
mod slow;

/// An alert as the stack renders it.
#[derive(Debug, Clone)]
pub(crate) struct Setting {
    pub(crate) kind: AlertKind,
    pub(crate) enabled: bool,
    pub(crate) threshold: Option<f64>,
}

impl Setting {
    /// Every alert of the catalogue as `stack` renders it.
    pub(crate) fn all(stack: &crate::model::Stack) -> Vec<Self> {
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
}

/// What the scenario works with.
pub(crate) struct Context<'a, 'p> {
    pub(crate) live: Live<'a>,
    pub(crate) journal: &'a Journal,
    pub(crate) settings: Vec<Setting>,
    pub(crate) evicts: bool,
    /// Why inducing evictions would be unsafe (keys that are not the drill's), if it would.
    pub(crate) eviction_unsafe: Option<&'a Error>,
    pub(crate) shape: load::Shape,
    pub(crate) printer: &'a Printer<'p>,
}

impl Context<'_, '_> {
    /// A progress line; a line that cannot be written is no reason to stop a drill.
    fn say(&self, line: &str) {
        self.printer.note(line).ok();
    }

    /// The alert's setting, when it is on.
    fn on(&self, kind: AlertKind) -> Option<&Setting> {
        self.settings.iter().find(|s| s.kind == kind && s.enabled)
    }
}

/// What `alerts` found: a proof per alert of the catalogue (the keys of its JSON, in their
/// order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Alerts {
    pub(crate) alerts: Vec<Proof>,
    pub(crate) name: Scenario,
    pub(crate) ok: bool,
}

/// One alert's proof (the keys of its JSON, in their order).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct Proof {
    pub(crate) alert: &'static str,
    pub(crate) delivered: Option<bool>,
    /// What went wrong, when something did.
    pub(crate) error: Option<String>,
    pub(crate) fired: bool,
    /// How it was induced, or why it was not.
    pub(crate) how: String,
    pub(crate) in_alertmanager: Option<bool>,
    pub(crate) induced: bool,
    pub(crate) resolved: bool,
    pub(crate) seconds_to_fire: Option<f64>,
    pub(crate) seconds_to_resolve: Option<f64>,
}

impl Proof {
    fn listed(kind: AlertKind, why: String) -> Self {
        Self {
            alert: kind.name(),
            how: why,
            ..Self::default()
        }
    }

    pub(crate) fn ok(&self) -> bool {
        !self.induced
            || (self.error.is_none()
                && self.fired
                && self.in_alertmanager != Some(false)
                && self.delivered != Some(false)
                && self.resolved)
    }
}

/// One alert's proof, and when it fired when it resolves only once its burst has left the
/// window (it is waited for last).
type Proven = (Proof, Option<Instant>);

pub(crate) async fn run(a: &Context<'_, '_>) -> Result<Alerts> {
    let site = a.live.site;
    a.say(&format!("alerts: the stack {}.", site.timing));
    if let Some((sent, _)) = notify::slack_notifications(site).await {
        site.claims.begin(sent);
    }
    // A burst before the target's first scrape would be in its first sample: no rate.
    prometheus::wait_for_scrape(site, "redis_up").await?;
    let mut proofs: Vec<Proof> = Vec::new();
    for setting in &a.settings {
        if !setting.enabled {
            proofs.push(Proof::listed(setting.kind, "off in stack.toml".into()));
        } else if let Some(why) = not_inducible(setting) {
            proofs.push(Proof::listed(setting.kind, why));
        }
    }
    let low_throughput = a.on(AlertKind::LowThroughput).and_then(|s| s.threshold);
    let total = AlertKind::ALL
        .iter()
        .filter(|kind| induced(**kind) && a.on(**kind).is_some());
    let steps = a.printer.steps("alerts", total.count() as u64);
    let lanes_then_outages = async {
        let lanes = LANES.iter().map(|kinds| lane(a, kinds, &steps));
        let mut proven: Vec<Proven> = join_all(lanes).await.into_iter().flatten().collect();
        proven.extend(lane(a, &OUTAGES, &steps).await);
        // The load stops only once a new RedisLowThroughput would be news to Alertmanager.
        if low_throughput.is_some() {
            let _ = news_to_alertmanager(a, AlertKind::LowThroughput.name()).await;
        }
        proven
    };
    let window = site.timing.window().as_secs_f64();
    let proven = if let Some(threshold) = low_throughput {
        a.say(&format!(
            "alerts: a steady {:.0} commands a second run meanwhile, so that RedisLowThroughput \
             has a rate to fall from.",
            STEADY * threshold
        ));
        let steady = induce::steady(&a.live, STEADY * threshold, window);
        tokio::select! {
            proven = lanes_then_outages => proven,
            never = steady => match never {},
        }
    } else {
        lanes_then_outages.await
    };
    let latency = a.on(AlertKind::HighLatency);
    let throughput = a.on(AlertKind::LowThroughput);
    let mut last = drop_and_slow(a, throughput, latency, &steps).await;
    let resolving = last.iter().filter(|p| p.fired).count();
    if resolving > 0 {
        a.say("alerts: loading Redis again, so that throughput and latency recover.");
        steps.doing("recovering");
        let threshold = low_throughput.unwrap_or_default();
        induce::burst(&a.live, a.shape, past_rate(threshold, window).max(50_000.0)).await?;
        for proof in last.iter_mut().filter(|p| p.fired) {
            resolve(a, proof, Duration::ZERO).await;
        }
    }
    for (mut proof, fired_at) in proven {
        if let Some(fired_at) = fired_at {
            a.say(&format!(
                "alerts: waiting for {} to resolve once its burst leaves the {} window.",
                proof.alert,
                spelled(site.timing.window())
            ));
            steps.doing(&format!("{} resolving", proof.alert));
            let left = site.timing.window_left(fired_at.elapsed());
            resolve(a, &mut proof, left).await;
        }
        proofs.push(proof);
    }
    proofs.extend(last);
    still_windowed(a).await;
    Ok(Alerts {
        ok: proofs.iter().all(Proof::ok),
        alerts: proofs,
        name: Scenario::Alerts,
    })
}

/// The alerts of `kinds` that are on, one after another.
async fn lane(a: &Context<'_, '_>, kinds: &[AlertKind], steps: &Steps<'_, '_>) -> Vec<Proven> {
    let mut proven = Vec::new();
    for &kind in kinds {
        let Some(setting) = a.on(kind) else { continue };
        a.say(&format!(
            "alerts: inducing {}, then proving it fires, reaches Alertmanager and resolves.",
            kind.name()
        ));
        steps.doing(kind.name());
        let proof = prove(a, setting).await;
        steps.done("");
        let fired_at = (WINDOWED.contains(&kind) && proof.fired).then(Instant::now);
        proven.push((proof, fired_at));
    }
    proven
}

/// Says which of the rendered rules still fire for a burst the drill made: they keep their 5m
/// windows, and resolve once the burst leaves them, without the drill waiting for it.
async fn still_windowed(a: &Context<'_, '_>) {
    let site = a.live.site;
    if !site.timing.quick() {
        return;
    }
    let Ok(firing) = notify::rendered_firing(site).await else {
        return;
    };
    let windowed: Vec<&String> = firing
        .iter()
        .filter(|name| WINDOWED.iter().any(|kind| kind.name() == name.as_str()))
        .collect();
    if !windowed.is_empty() {
        let names: Vec<&str> = windowed.iter().map(|n| n.as_str()).collect();
        a.say(&format!(
            "alerts: {} (the rendered rules, on {}) fire for the drill's bursts until each \
             leaves the rendered rules' window ({}).",
            names.join(", "),
            site.target,
            spelled(super::timing::RATE_WINDOW)
        ));
    }
}

/// Those on a windowed counter, which resolve only when their burst has left the window.
const WINDOWED: [AlertKind; 3] = [
    AlertKind::BufferOverflow,
    AlertKind::HighErrorRate,
    AlertKind::RejectedConnections,
];

/// The steady load while the other alerts are induced, as a multiple of `RedisLowThroughput`'s
/// threshold: twice, so that the rate stays above it across an outage of up to half the
/// window, and falls below it half a window after the load stops.
const STEADY: f64 = 2.0;

/// Events (commands, error replies) enough in one rate window of `window` seconds for their
/// rate to pass `threshold` a second, with a margin.
fn past_rate(threshold: f64, window: f64) -> f64 {
    threshold * window * 1.3
}

/// Induces one alert, waits for it to fire and be delivered, undoes it, and (unless its
/// counter is windowed) waits for it to resolve.
async fn prove(a: &Context<'_, '_>, setting: &Setting) -> Proof {
    let mut proof = Proof {
        alert: setting.kind.name(),
        induced: true,
        ..Proof::default()
    };
    // An alert still active from before (an earlier scenario's evictions in the window) would
    // prove nothing, nor would a notification sent for it then: it must be quiet first.
    let site = a.live.site;
    let settle = site.timing.settles();
    if notify::until(site, proof.alert, settle, notify::is_inactive)
        .await
        .is_none()
    {
        proof.error = Some("it stayed active from before the drill could induce it".into());
        return proof;
    }
    // Nor would it be news to Alertmanager before it sent that it resolved.
    if let Err(why) = news_to_alertmanager(a, proof.alert).await {
        proof.error = Some(why.to_string());
        return proof;
    }
    // Its own changes, apart from those of the alerts induced beside it.
    let journal = a.journal.scope();
    let result = induce_and_undo(a, &journal, setting, &mut proof).await;
    // Whatever failed, nothing this alert changed stays changed.
    for line in journal.undo_own(&a.live).await {
        if let Err(why) = line {
            proof.error.get_or_insert(why.to_string());
        }
    }
    if let Err(why) = result {
        proof.error.get_or_insert(why.to_string());
        let _ = load::clean(a.live.client).await;
    }
    proof
}

async fn induce_and_undo(
    a: &Context<'_, '_>,
    journal: &Journal,
    s: &Setting,
    proof: &mut Proof,
) -> Result<()> {
    let live = &a.live;
    let site = live.site;
    let threshold = s.threshold.unwrap_or_default();
    match s.kind {
        AlertKind::MemoryPressure => {
            induce::no_forks(live, journal).await?;
            let (mut connection, maxmemory) = capacity::with_maxmemory(live.client).await?;
            let goal = maxmemory * (threshold + 2.0).min(99.0) / 100.0;
            let (keys, _) = capacity::fill(&mut connection, goal).await?;
            proof.how = format!("filled {keys} drill keys past {threshold}% of maxmemory");
            fired(a, s, proof).await;
            load::clean(live.client).await?;
            resolve(a, proof, Duration::ZERO).await;
        }
        AlertKind::BufferOverflow => {
            if let (true, Some(why)) = (a.evicts, a.eviction_unsafe) {
                *proof = Proof::listed(s.kind, format!("not induced: {why}"));
                return Ok(());
            }
            induce::no_forks(live, journal).await?;
            let (mut connection, maxmemory) = capacity::with_maxmemory(live.client).await?;
            let mut watch = notify::Watch::new(site, s.kind);
            let (writes, seconds) =
                pressure::overflow(&mut connection, maxmemory, &mut watch).await?;
            proof.how = format!(
                "wrote drill keys to 110% of maxmemory ({} rejected with OOM)",
                writes.rejected
            );
            proof.fired = seconds.is_some();
            proof.seconds_to_fire = seconds;
            delivered(a, proof, watch.before).await;
            load::clean(live.client).await?;
        }
        AlertKind::HighErrorRate => {
            let window = site.timing.window().as_secs_f64();
            let count = past_rate(threshold, window).ceil() as u64 + 20;
            let errors = induce::error_replies(live, count).await?;
            proof.how = format!("{errors} error replies (failed AUTH and INCR on text)");
            fired(a, s, proof).await;
        }
        AlertKind::RejectedConnections => {
            let rejected = induce::rejected_connections(live, journal).await?;
            proof.how = format!("maxclients lowered for a moment: {rejected} connections refused");
            fired(a, s, proof).await;
        }
        AlertKind::TooManyConnections => {
            let (held, change) = induce::many_connections(live, journal, threshold).await?;
            proof.how = format!("maxclients lowered and {} connections held", held.len());
            fired(a, s, proof).await;
            drop(held);
            journal.undo(live, &change).await?;
            resolve(a, proof, Duration::ZERO).await;
        }
        AlertKind::NoMaxmemory => {
            let change = induce::config_set(live, journal, "maxmemory", "0").await?;
            proof.how = "maxmemory set to 0 (no limit)".into();
            fired(a, s, proof).await;
            journal.undo(live, &change).await?;
            resolve(a, proof, Duration::ZERO).await;
        }
        AlertKind::ExporterDown | AlertKind::RedisDown | AlertKind::AlertmanagerDown => {
            let containers = &site.containers;
            let container = match s.kind {
                AlertKind::ExporterDown => containers.exporter.as_ref(),
                AlertKind::RedisDown => Some(&containers.redis),
                _ => containers.alertmanager.as_ref(),
            };
            let Some(container) = container else {
                *proof = Proof::listed(s.kind, "not induced: its service is off".into());
                return Ok(());
            };
            if s.kind == AlertKind::AlertmanagerDown {
                // What the earlier alerts' resolution owes (sent at their group's next
                // interval) goes out before Alertmanager stops: a restart forgets it.
                tokio::time::sleep(site.timing.flushed_after(true)).await;
            }
            let change = induce::stop(live, journal, container).await?;
            proof.how = format!("stopped {container}");
            if s.kind == AlertKind::AlertmanagerDown {
                // Alertmanager is what is down: Prometheus alone can show it.
                let mut watch = notify::Watch::new(site, s.kind);
                proof.seconds_to_fire = watch.fires().await;
                proof.fired = proof.seconds_to_fire.is_some();
            } else {
                fired(a, s, proof).await;
            }
            journal.undo(live, &change).await?;
            resolve(a, proof, Duration::ZERO).await;
        }
        _ => {}
    }
    Ok(())
}

/// Waits until the alert has not fired for one of Alertmanager's group intervals (see
/// [`notify::forgotten`]), or says why it could not.
async fn news_to_alertmanager(a: &Context<'_, '_>, alert: &str) -> Result<()> {
    match notify::forgotten(a.live.site, alert).await {
        Some(_) => Ok(()),
        None => Err(Error::Alertmanager(
            "Alertmanager still had it firing from before".into(),
        )),
    }
}

/// Waits for the alert to fire, then for Alertmanager to hold and deliver it.
async fn fired(a: &Context<'_, '_>, setting: &Setting, proof: &mut Proof) {
    let mut watch = notify::Watch::new(a.live.site, setting.kind);
    proof.seconds_to_fire = watch.fires().await;
    proof.fired = proof.seconds_to_fire.is_some();
    if proof.fired {
        delivered(a, proof, watch.before).await;
    }
}

/// Whether Alertmanager held and sent the fired alert; `before`: its Slack counts from before
/// it could have the alert (see [`notify::Watch`]).
async fn delivered(a: &Context<'_, '_>, proof: &mut Proof, before: Option<notify::Counts>) {
    let site = a.live.site;
    if site.addresses.alertmanager.is_some() && proof.fired {
        let (held, sent) = notify::delivery(site, proof.alert, before).await;
        proof.in_alertmanager = Some(held);
        proof.delivered = sent.as_ref().map(Result::is_ok);
        if let Some(Err(why)) = sent {
            proof.error.get_or_insert(why.to_string());
        }
    }
}

/// Waits for the alert to leave Prometheus' active alerts, `wait` and a margin at most.
async fn resolve(a: &Context<'_, '_>, proof: &mut Proof, wait: Duration) {
    let site = a.live.site;
    let timeout = site.timing.resolves_within(wait);
    proof.seconds_to_resolve = notify::until(site, proof.alert, timeout, notify::is_inactive).await;
    proof.resolved = proof.seconds_to_resolve.is_some();
}

/// The throughput drop (the steady load's rate falls out of the window) and slow commands
/// (once the window is quiet enough for them to raise the average), together: slow commands
/// are too few to lift the rate. Both are undone by load.
async fn drop_and_slow(
    a: &Context<'_, '_>,
    throughput: Option<&Setting>,
    latency: Option<&Setting>,
    steps: &Steps<'_, '_>,
) -> Vec<Proof> {
    let falling = async {
        let setting = throughput?;
        a.say(&format!(
            "alerts: stopping the steady load; RedisLowThroughput fires once it has left the {} \
             window.",
            spelled(a.live.site.timing.window())
        ));
        steps.doing(setting.kind.name());
        let site = a.live.site;
        let timeout = site.timing.falls_within(setting.kind);
        let mut watch = notify::Watch::new(site, setting.kind);
        let seconds = watch.until_firing(timeout).await;
        let mut proof = Proof {
            alert: setting.kind.name(),
            induced: true,
            how: format!(
                "{STEADY}× its threshold in commands a second while the other alerts were \
                 induced, then none"
            ),
            fired: seconds.is_some(),
            seconds_to_fire: seconds,
            ..Proof::default()
        };
        delivered(a, &mut proof, watch.before).await;
        steps.done("");
        Some(proof)
    };
    let slowing = async {
        let setting = latency?;
        a.say(
            "alerts: inducing RedisHighLatency with slow commands, once the window is quiet \
             enough for them to lift its average.",
        );
        steps.doing(setting.kind.name());
        let proof = slow(a, setting).await;
        steps.done("");
        Some(proof)
    };
    let (fell, slowed) = tokio::join!(falling, slowing);
    fell.into_iter().chain(slowed).collect()
}
