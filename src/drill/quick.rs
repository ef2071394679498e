//! `--quick`: the drill does not wait out each alert's `for`, nor its rate window. Prometheus
//! gets a drill-only rule file — the rendered alerts, `for: 0s` and every range divided by the
//! timing's scale where the drill induces them (the 5-minute window becomes four scrapes; a
//! promtool test of the catalogue's scenarios on both proves that the copies fire where the
//! rules do, see the tests), the label `drill="quick"`, and expressions that watch the drill's
//! target only (a quick drill must not page about another server of the fleet) — in its own
//! volume, at the path the rendered `prometheus.yml` lists for it (`/prometheus/drill/*.yml`),
//! and reloads; afterwards the file is emptied, Prometheus reloads again, and its rules API
//! must show only the rendered rules, each with its rendered `for`.

use std::time::Duration;

use bollard::Docker;
use bollard::query_parameters::UploadToContainerOptionsBuilder;
use promql_parser::label::{MatchOp, Matcher};
use promql_parser::parser::{self, Expr, VectorSelector};
use serde_json::Value;

use super::site::Site;
use super::{Error, Result};
use crate::alerts::promql::{self, Inputs, Subject};
use crate::alerts::{AlertKind, GROUP_LABEL};
use crate::model::resolve::topology::CLUSTER_LABEL;

/// Where the drill's rules go, in Prometheus' data volume.
const FOLDER: &str = "/prometheus";
const FILE: &str = "drill/quick.yml";
/// The rendered rules file, which the drill copies and restores.
pub(crate) const RENDERED: &str = "prometheus/rules/redis-alerts.yml";
/// The label every drill copy of an alert carries.
pub(crate) const LABEL: (&str, &str) = ("drill", "quick");
/// The label that names the Redis target a series (and an alert on it) is about.
pub(crate) const TARGET_LABEL: &str = "target";

/// The group of the catalogue's alerts in the rendered rules file; the SLOs' groups (records
/// and burn-rate alerts) are not the drill's.
const CATALOGUE_GROUP: &str = "redis";

/// The drill's rule file for the rendered rules file `rendered`: every rule of the catalogue,
/// labelled as the drill's, its expression narrowed to the drill's `target`, with `for: 0s`
/// and its ranges divided by `scale` where the drill induces the alert (the others keep their
/// `for` and windows: the drill's load must not fire, in seconds, alerts it never proves).
/// `extra`: groups after them (the SLO drill's shortened copies).
pub(crate) fn rules_with(
    rendered: &str,
    target: &str,
    scale: f64,
    extra: Vec<Value>,
) -> Result<String> {
    let mut file: Value = crate::yaml::from_str(rendered).map_err(Error::QuickRules)?;
    let groups = file["groups"]
        .as_array_mut()
        .ok_or_else(|| Error::QuickRules("the rendered rules file has no groups".into()))?;
    groups.retain(|group| group["name"] == CATALOGUE_GROUP);
    for group in groups.iter_mut() {
        let name = group["name"].as_str().unwrap_or("redis");
        group["name"] = Value::from(format!("stackgen-drill-quick-{name}"));
        for rule in group["rules"].as_array_mut().into_iter().flatten() {
            let alert = rule["alert"].as_str().unwrap_or_default().to_string();
            let mut expr = rule["expr"].as_str().unwrap_or_default().to_string();
            if kind(&alert).is_ok_and(super::order::induced) {
                rule["for"] = Value::from("0s");
                expr = shortened(&expr, scale)?;
            }
            rule["expr"] = Value::from(only_target(&expr, subject(&alert)?, target)?);
            rule["labels"][LABEL.0] = Value::from(LABEL.1);
        }
    }
    groups.extend(extra);
    let text = crate::yaml::to_string(&file).map_err(Error::QuickRules)?;
    Ok(format!(
        "# Loaded by `stackgen drill --quick` for the length of a drill; emptied after it.\n{text}"
    ))
}

/// The catalogue's alert of that name.
fn kind(alert: &str) -> Result<AlertKind> {
    AlertKind::ALL
        .iter()
        .find(|kind| kind.name() == alert)
        .copied()
        .ok_or_else(|| {
            Error::QuickRules(format!(
                "the rendered rules have an alert `{alert}` stackgen does not know"
            ))
        })
}

/// Whose series the alert watches, from the catalogue (which does not depend on the stack's
/// thresholds or sizes).
fn subject(alert: &str) -> Result<Subject> {
    Ok(promql::entry(kind(alert)?, Inputs::NEUTRAL).subject)
}

/// The `for` of the drill's copy of an alert whose rendered `for` is `rendered` seconds.
fn copied_for(alert: &str, rendered: f64) -> f64 {
    match kind(alert).is_ok_and(super::order::induced) {
        true => 0.0,
        false => rendered,
    }
}

/// `expr` narrowed to the series of the drill's target. An alert per target gets the matcher
/// on every selector; one per replication group is kept to the group the target is in (a
/// matcher inside its count would change what it counts); one on a job of the stack's own
/// (the exporter, Alertmanager) reads series about no target, and stays as it is.
fn only_target(expr: &str, subject: Subject, target: &str) -> Result<String> {
    let matcher = Matcher::new(MatchOp::Equal, TARGET_LABEL, target);
    let mut narrowed = match subject {
        Subject::Job(_) => return Ok(expr.to_string()),
        Subject::Redis | Subject::Command | Subject::Sentinel => {
            let mut parsed = parse(expr)?;
            each_selector(&mut parsed, &mut |selector, _| {
                let matchers = &mut selector.matchers;
                if matchers.or_matchers.is_empty() {
                    matchers.matchers.push(matcher.clone());
                }
                for alternative in &mut matchers.or_matchers {
                    alternative.push(matcher.clone());
                }
            });
            parsed
        }
        // Matcher's Display escapes the value for PromQL's string grammar.
        Subject::Group | Subject::SentinelGroup(_) => parse(&format!(
            "({expr}) and on ({GROUP_LABEL}) redis_up{{{matcher}}}"
        ))?,
        // The drill's target is in no cluster: the copy stays silent.
        Subject::Cluster | Subject::ClusterNode => parse(&format!(
            "({expr}) and on ({CLUSTER_LABEL}) redis_up{{{matcher}}}"
        ))?,
    };
    let text = narrowed.to_string();
    // What is written must read back as what was meant (the printer sorts the matchers).
    let mut read_back = parse(&text)?;
    for expr in [&mut narrowed, &mut read_back] {
        each_selector(expr, &mut |selector, _| {
            let matchers = &mut selector.matchers;
            let order = |m: &Matcher| m.to_string();
            matchers.matchers.sort_by_key(order);
            for alternative in &mut matchers.or_matchers {
                alternative.sort_by_key(order);
            }
        });
    }
    if read_back != narrowed {
        return Err(Error::QuickRules(format!(
            "the drill's copy of `{expr}` does not read back: `{text}`"
        )));
    }
    Ok(text)
}

/// `range` divided by `scale`, in whole seconds, at least one (Prometheus refuses a zero range).
pub(super) fn scaled(range: Duration, scale: f64) -> Duration {
    Duration::from_secs_f64((range.as_secs_f64() / scale).round().max(1.0))
}

/// `expr` with the range of every range vector divided by `scale`. A subquery's range and step
/// stay: they say how far back the alert looks (RedisLowThroughput's busy hour), not how long a
/// rate averages.
fn shortened(expr: &str, scale: f64) -> Result<String> {
    let mut parsed = parse(expr)?;
    each_selector(&mut parsed, &mut |_, range| {
        if let Some(range) = range {
            *range = scaled(*range, scale);
        }
    });
    Ok(parsed.to_string())
}

pub(super) fn parse(expr: &str) -> Result<Expr> {
    parser::parse(expr)
        .map_err(|e| Error::QuickRules(format!("PromQL `{expr}` does not parse: {e}")))
}

/// A visitor of selectors: each selector, and the range when it is a range's.
pub(super) type Visit<'v> = dyn FnMut(&mut VectorSelector, Option<&mut Duration>) + 'v;

/// Calls `visit` on every selector of `expr`, a range's too (with its range).
pub(super) fn each_selector(expr: &mut Expr, visit: &mut Visit<'_>) {
    match expr {
        Expr::VectorSelector(selector) => visit(selector, None),
        Expr::MatrixSelector(matrix) => visit(&mut matrix.vs, Some(&mut matrix.range)),
        Expr::Aggregate(aggregate) => {
            each_selector(&mut aggregate.expr, visit);
            if let Some(param) = aggregate.param.as_mut() {
                each_selector(param, visit);
            }
        }
        Expr::Binary(binary) => {
            each_selector(&mut binary.lhs, visit);
            each_selector(&mut binary.rhs, visit);
        }
        Expr::Unary(unary) => each_selector(&mut unary.expr, visit),
        Expr::Paren(paren) => each_selector(&mut paren.expr, visit),
        Expr::Subquery(subquery) => each_selector(&mut subquery.expr, visit),
        Expr::Call(call) => {
            for arg in &mut call.args.args {
                each_selector(arg, visit);
            }
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}

/// The rendered `for` of every alert of the catalogue in `rendered`, in seconds.
pub(crate) fn rendered_fors(rendered: &str) -> Result<Vec<(String, f64)>> {
    let file: Value = crate::yaml::from_str(rendered).map_err(Error::QuickRules)?;
    let mut fors = Vec::new();
    let groups = file["groups"].as_array().into_iter().flatten();
    for group in groups.filter(|group| group["name"] == CATALOGUE_GROUP) {
        for rule in group["rules"].as_array().into_iter().flatten() {
            let name = rule["alert"].as_str().unwrap_or_default().to_string();
            let text = rule["for"].as_str().unwrap_or("0s");
            let duration: crate::model::units::Duration =
                text.parse().map_err(Error::QuickRules)?;
            fors.push((name, duration.seconds()));
        }
    }
    Ok(fors)
}

/// Puts `text` in the drill's rule file and has Prometheus reload; refused reloads are errors.
pub(crate) async fn install(docker: &Docker, site: &Site, text: &str) -> Result<()> {
    let options = UploadToContainerOptionsBuilder::default()
        .path(FOLDER)
        .build();
    let archive = tar(&[("drill/", None), (FILE, Some(text.as_bytes()))]);
    let container = &site.containers.prometheus;
    docker
        .upload_to_container(container, Some(options), bollard::body_full(archive.into()))
        .await
        .map_err(Error::engine(format!(
            "writing the drill's rules into {container}"
        )))?;
    let prometheus = &site.addresses.prometheus;
    let reloaded = crate::docker::reload::hangup_and_verify(
        docker,
        container,
        &prometheus.host,
        prometheus.port,
    );
    match reloaded.await {
        Ok(None) => alertmanager_again(site).await,
        Ok(Some(refused)) => Err(Error::Prometheus(format!(
            "Prometheus did not reload: {refused}"
        ))),
        Err(e) => Err(Error::Reload(Box::new(e))),
    }
}

/// Waits until Prometheus, reloaded, knows its Alertmanager again (when the stack has one): a
/// reload forgets it for a few seconds, and an alert meanwhile would reach no one — nor would
/// `status` right after the drill find the stack as it was.
async fn alertmanager_again(site: &Site) -> Result<()> {
    if site.containers.alertmanager.is_none() {
        return Ok(());
    }
    let prometheus = &site.addresses.prometheus;
    let within = site.timing.rediscovered_within();
    let started = std::time::Instant::now();
    loop {
        let found =
            crate::health::checks::alertmanager_discovered(&prometheus.host, prometheus.port);
        if found.await.map_err(Error::Prometheus)? {
            return Ok(());
        }
        if started.elapsed() > within {
            return Err(Error::Prometheus(format!(
                "Prometheus has not found its Alertmanager again {} s after its reload",
                within.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The rules Prometheus evaluates now: `(alert, for in seconds, from the drill's file)`.
pub(crate) async fn loaded(site: &Site) -> Result<Vec<(String, f64, bool)>> {
    let answer = super::prometheus::alert_rules(site).await?;
    let mut rules = Vec::new();
    for group in answer["data"]["groups"].as_array().into_iter().flatten() {
        let drill = group["file"].as_str().unwrap_or_default().ends_with(FILE);
        for rule in group["rules"].as_array().into_iter().flatten() {
            let name = rule["name"].as_str().unwrap_or_default().to_string();
            rules.push((name, rule["duration"].as_f64().unwrap_or(-1.0), drill));
        }
    }
    Ok(rules)
}

/// Loads the drill's rules and proves it: every rendered alert has a drill copy, with `for: 0s`
/// where the drill induces it.
pub(crate) async fn load(
    docker: &Docker,
    site: &Site,
    rendered: &str,
    extra: Vec<Value>,
) -> Result<()> {
    let text = rules_with(rendered, &site.target, site.timing.scale(), extra)?;
    install(docker, site, &text).await?;
    let wanted = rendered_fors(rendered)?;
    let loaded = settled(site, |rules| {
        wanted.iter().all(|(name, s)| {
            rules
                .iter()
                .any(|r| &r.0 == name && r.2 && r.1 == copied_for(name, *s))
        })
    })
    .await?;
    if !loaded {
        return Err(Error::Prometheus(
            "Prometheus reloaded, but its rules API does not show the drill's rules".into(),
        ));
    }
    Ok(())
}

/// Empties the drill's rule file and proves through the rules API that Prometheus evaluates
/// the rendered rules only, each with its rendered `for`. What it saw, for the report.
pub(crate) async fn restore(
    docker: &Docker,
    site: &Site,
    rendered: &str,
) -> Result<Vec<(String, f64)>> {
    install(
        docker,
        site,
        "# Emptied by `stackgen drill` after a --quick drill.\ngroups: []\n",
    )
    .await?;
    let wanted = rendered_fors(rendered)?;
    let restored = settled(site, |rules| {
        rules.iter().all(|r| !r.2)
            && wanted
                .iter()
                .all(|(name, s)| rules.iter().any(|r| &r.0 == name && r.1 == *s))
    })
    .await?;
    if !restored {
        return Err(Error::Prometheus(
            "Prometheus' rules API still does not show the rendered rules".into(),
        ));
    }
    Ok(wanted)
}

/// Waits (briefly: a reload has already been seen) until the rules API satisfies `done`.
async fn settled(site: &Site, done: impl Fn(&[(String, f64, bool)]) -> bool) -> Result<bool> {
    for _ in 0..20 {
        if done(&loaded(site).await?) {
            return Ok(true);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(false)
}

/// A tar archive of folders (`None`) and files, readable by everyone, as the engine's archive
/// API takes it.
fn tar(entries: &[(&str, Option<&[u8]>)]) -> Vec<u8> {
    let mut archive = Vec::new();
    for (name, content) in entries {
        let mut header = [0u8; 512];
        let field = |header: &mut [u8; 512], at: usize, text: &str| {
            header[at..at + text.len()].copy_from_slice(text.as_bytes());
        };
        field(&mut header, 0, name);
        let (mode, kind, size) = match content {
            Some(bytes) => ("0000644", b'0', bytes.len()),
            None => ("0000755", b'5', 0),
        };
        field(&mut header, 100, mode);
        field(&mut header, 108, "0000000");
        field(&mut header, 116, "0000000");
        field(&mut header, 124, &format!("{size:011o}"));
        field(&mut header, 136, &format!("{:011o}", super::now() as u64));
        header[156] = kind;
        field(&mut header, 257, "ustar\u{0}00");
        // The checksum is computed with its own field as spaces.
        header[148..156].fill(b' ');
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        field(&mut header, 148, &format!("{sum:06o}\u{0} "));
        archive.extend_from_slice(&header);
        if let Some(bytes) = content {
            archive.extend_from_slice(bytes);
            archive.resize(archive.len().div_ceil(512) * 512, 0);
        }
    }
    archive.resize(archive.len() + 1024, 0);
    archive
}

#[cfg(test)]
mod tests;
