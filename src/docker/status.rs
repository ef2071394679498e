//! `status`: each service's container state and health, and the check `up` waits for, asked
//! from the host the way an operator would (see [`super::checks`]). A target Prometheus has not
//! scraped yet is pending, with when its first scrape is due, not a failure; an engine health
//! check still `starting` while the service already answers its check is not a failure either.
//! It only looks: nothing here starts, changes or writes anything, and a secret it logs in with
//! never appears in what it reports.

use serde::Serialize;

use super::spec::StackSpec;
use crate::error::Result;
use crate::health::{Checks, PendingTarget, Started, TargetStatus};
use crate::model::Stack;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ServiceStatus {
    pub service: String,
    pub container: String,
    pub state: String,
    pub health: String,
    pub ok: bool,
    pub probe: String,
    /// Targets Prometheus has not scraped yet (Prometheus only).
    pub pending: Vec<PendingTarget>,
    /// Every Redis target as the exporter reports it (the exporter only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<TargetStatus>,
}

pub(crate) async fn status(
    docker: &bollard::Docker,
    spec: &StackSpec,
    stack: &Stack,
) -> Result<Vec<ServiceStatus>> {
    let checks = checks(spec, stack, false);
    let mut seen_all = Vec::new();
    for container in &spec.containers {
        seen_all.push(super::observe::inspect(docker, &container.name).await?);
    }
    let started = started(spec, &seen_all);
    let mut rows = Vec::new();
    for (container, seen) in spec.containers.iter().zip(seen_all) {
        // Words, never a dash: the engine's health while it runs (`none` without a health
        // check); a stopped or removed container is `not running`, whatever its last check said.
        let health = match (&seen.health, seen.running) {
            (_, false) => "not running".to_string(),
            (Some(health), true) => health.clone(),
            (None, true) => "none".to_string(),
        };
        let row = |ok, probe, pending| ServiceStatus {
            service: container.service.clone(),
            container: container.name.clone(),
            state: seen.status.clone(),
            health: health.clone(),
            ok,
            probe,
            pending,
            targets: Vec::new(),
        };
        rows.push(if !seen.running {
            row(false, "not running".to_string(), vec![])
        } else if health == "unhealthy" {
            let why = "the engine's health check reports it unhealthy";
            row(false, why.to_string(), vec![])
        } else {
            let at = container.published().ok_or("no published port to probe");
            let checked = match at {
                Ok(at) => checks.check(&container.service, at, &started).await,
                Err(why) => Err(why.to_string()),
            };
            match checked {
                Ok(passed) => row(true, passed.detail, passed.pending),
                Err(why) => row(false, why, vec![]),
            }
        });
        // The fleet, through the exporter, when it answers.
        if container.service == "redis-exporter"
            && seen.running
            && let Some((host, port)) = container.published()
        {
            let asked = checks.targets(host, port).await;
            rows.last_mut().expect("pushed above").targets = asked;
        }
    }
    Ok(rows)
}

/// When each running service's container started, from what the engine said of each.
pub(crate) fn started(spec: &StackSpec, seen: &[super::observe::Seen]) -> Started {
    let services = spec.containers.iter().map(|c| c.service.clone());
    services
        .zip(seen)
        .filter_map(|(service, seen)| Some((service, seen.started?)))
        .collect()
}

/// The checks of `stack`'s services, with the passwords they log in with read from their
/// secrets (a secret that cannot be read is the check's to report).
pub(crate) fn checks<'a>(spec: &StackSpec, stack: &'a Stack, wait_scrape: bool) -> Checks<'a> {
    let secret =
        |wanted: bool, name: &str| wanted.then(|| super::secrets::value(spec, name)).flatten();
    Checks {
        stack,
        wait_scrape,
        redis_password: secret(stack.redis.auth, "redis_password"),
        grafana_password: secret(stack.grafana.admin_password, "grafana_admin_password"),
    }
}
