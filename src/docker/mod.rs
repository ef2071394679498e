//! The Docker layer: `up` (observe → plan → execute), `down` and `status`, through the
//! engine's API (bollard). It runs what `generated/<profile>/compose.yaml` says; secrets reach
//! containers as read-only files copied into a private runtime folder, never as argv or
//! environment text. Nothing here renders or parses `stack.toml`.

pub mod applied;
pub mod compose;
pub mod container;
pub mod down;
pub mod engine;
pub mod fingerprints;
pub mod images;
pub mod observe;
pub mod plan;
pub mod probe;
pub mod ready;
pub mod secrets;
pub mod spec;
pub mod status;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::models::{NetworkCreateRequest, VolumeCreateRequest};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, KillContainerOptionsBuilder, RestartContainerOptionsBuilder,
    StartContainerOptions,
};

use crate::Printer;
use crate::error::{Error, Result};
use crate::render::Tree;
pub use down::{DownReport, down};
pub use engine::Engine;
use engine::engine_error;

use applied::Applied;
use down::remove_container;
use observe::Existing;
use plan::{Action, Desired, Plan};
use secrets::{Copies, Secrets};
use spec::{ContainerSpec, StackSpec};

/// How `up` should behave.
pub struct UpOptions {
    pub timeout: Duration,
    pub dry_run: bool,
}

/// What `up` did, filled in as it goes, so that the command can show it even when `up` stops
/// with an error half-way.
#[derive(Default)]
pub struct UpReport {
    pub plan: Plan,
    pub lines: Vec<String>,
    /// Set when a service did not become healthy in time, or refused a reload: what happened,
    /// its health output and logs.
    pub unhealthy: Option<String>,
}

/// Facts about the stack that the engine layer needs from `stack.toml`.
pub struct Context<'a> {
    /// Service → where its image is set (`redis.image at stack.toml:10:1`), for pull errors.
    pub image_keys: BTreeMap<String, String>,
    /// Service → where its port is set, for port conflicts.
    pub port_keys: BTreeMap<String, String>,
    /// Secret name → where it is declared.
    pub secret_keys: BTreeMap<String, String>,
    /// `<project>/.stackgen/<profile>`: private runtime files (secrets, applied state).
    pub runtime_dir: &'a Path,
    /// The rendered tree of the profile and the folder it is written to.
    pub tree: &'a Tree,
    pub tree_dir: &'a Path,
    pub profile: &'a str,
}

/// Converges the engine to the stack: observe, plan, then (unless a dry run) execute. What it
/// did is in `report` even when it stops with an error.
pub async fn up(
    docker: &Docker,
    spec: &StackSpec,
    context: &Context<'_>,
    options: &UpOptions,
    printer: &Printer<'_>,
    report: &mut UpReport,
) -> Result<()> {
    // Images first: a missing one is pulled, and a failed pull stops everything before any change.
    let images =
        images::ensure(docker, spec, &context.image_keys, options.dry_run, printer).await?;

    // Secret values, read now so that a missing one stops everything before any change.
    let secret_values = Secrets::read(spec, &context.secret_keys)?;
    let copies = Copies::new(context.runtime_dir);
    let mut desired = Vec::new();
    // Service → the secrets whose runtime copies must be (re)written.
    let mut stale_copies: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for container in &spec.containers {
        let stale = copies.stale(container, &secret_values);
        let mut labelled = container.clone();
        labelled
            .labels
            .insert("io.stackgen.profile".into(), context.profile.to_string());
        let image = &images[&container.service].id;
        let spec_hash = fingerprints::spec(&labelled, image, &spec.network);
        desired.push(Desired {
            spec: labelled,
            spec_hash,
            now: Applied {
                config: fingerprints::config(container, context.tree, context.tree_dir),
                secrets: fingerprints::secrets(
                    container
                        .secrets
                        .iter()
                        .map(|name| (name.as_str(), secret_values.get(name))),
                ),
                mounts: fingerprints::mounts(container),
            },
            secrets_stale: !stale.is_empty(),
        });
        if !stale.is_empty() {
            stale_copies.insert(&container.service, stale);
        }
    }

    let existing = Existing::read(docker, &spec.project).await?;
    let observed = &existing.containers;
    let networks = &existing.networks;
    let existing_volumes = &existing.volumes;
    let mut applied = applied::read(context.runtime_dir);
    let wanted_volumes: Vec<String> = spec.volumes.iter().map(|v| v.name.clone()).collect();
    let plan = plan::plan(
        &desired,
        observed,
        &applied,
        (&spec.network, networks.contains_key(&spec.network)),
        (&wanted_volumes, existing_volumes),
    );
    report.plan = plan.clone();
    if options.dry_run {
        return Ok(());
    }

    // Host ports of new and replaced containers must be free before anything changes; a port
    // the project publishes now is freed when its container is replaced.
    let ours: Vec<u16> = observed
        .iter()
        .flat_map(|o| o.ports.iter().copied())
        .collect();
    for want in &desired {
        let step = plan.step(&want.spec.service);
        if step.is_some_and(|s| matches!(s.action, Action::Create | Action::Recreate)) {
            for port in want
                .spec
                .ports
                .iter()
                .filter(|p| !ours.contains(&p.host_port))
            {
                if std::net::TcpListener::bind((port.host_ip.as_str(), port.host_port)).is_err() {
                    let key = context
                        .port_keys
                        .get(&want.spec.service)
                        .cloned()
                        .unwrap_or_default();
                    return Err(Error::PortInUse {
                        address: format!("{}:{}", port.host_ip, port.host_port),
                        service: want.spec.service.clone(),
                        key,
                    });
                }
            }
        }
    }

    // Secrets: private copies, readable by the container's user only, rewritten when stale.
    for want in &desired {
        let Some(stale) = stale_copies.get(want.spec.service.as_str()) else {
            continue;
        };
        let user = images::user_of(&want.spec, &images[&want.spec.service]);
        copies.write(&want.spec.service, stale, &secret_values, &user)?;
    }

    if let Some(network) = &plan.create_network {
        let labels = HashMap::from([(plan::PROJECT_LABEL.to_string(), spec.project.clone())]);
        docker
            .create_network(NetworkCreateRequest {
                name: network.clone(),
                driver: Some("bridge".into()),
                labels: Some(labels),
                ..Default::default()
            })
            .await
            .map_err(engine_error(network))?;
        report.lines.push(format!("network {network}: created"));
    }
    for volume in spec
        .volumes
        .iter()
        .filter(|v| plan.create_volumes.contains(&v.name))
    {
        let mut labels: HashMap<String, String> = volume.labels.clone().into_iter().collect();
        labels.insert(plan::PROJECT_LABEL.into(), spec.project.clone());
        docker
            .create_volume(VolumeCreateRequest {
                name: Some(volume.name.clone()),
                driver: Some(volume.driver.clone()),
                driver_opts: Some(volume.driver_opts.clone().into_iter().collect()),
                labels: Some(labels),
                ..Default::default()
            })
            .await
            .map_err(engine_error(&volume.name))?;
        report
            .lines
            .push(format!("volume {}: created", volume.name));
    }

    // Containers that go, or are replaced; a service that goes takes its secret copies along.
    let leaving: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| matches!(s.action, Action::Remove | Action::Recreate))
        .collect();
    futures_util::future::try_join_all(
        leaving
            .iter()
            .map(|s| remove_container(docker, &s.container)),
    )
    .await?;
    for step in plan.steps.iter().filter(|s| s.action == Action::Remove) {
        copies.remove(&step.service);
        report
            .lines
            .push(format!("{}: removed ({})", step.service, step.why));
    }

    // Then wave by wave, in dependency order: act, wait until ready, remember what each
    // container now runs with.
    let deadline = Instant::now() + options.timeout;
    let by_service: BTreeMap<&str, &Desired> = desired
        .iter()
        .map(|d| (d.spec.service.as_str(), d))
        .collect();
    for wave in spec.waves()? {
        let acts = wave.iter().map(|c| async {
            let want = by_service[c.service.as_str()];
            let step = plan.step(&c.service).expect("every service is planned");
            let name = &want.spec.name;
            let refused = match step.action {
                Action::Create | Action::Recreate => {
                    let body = container::create_body(want, &spec.network, &copies.dir(&c.service));
                    docker
                        .create_container(
                            Some(CreateContainerOptionsBuilder::new().name(name).build()),
                            body,
                        )
                        .await
                        .map_err(engine_error(name))?;
                    docker
                        .start_container(name, None::<StartContainerOptions>)
                        .await
                        .map_err(engine_error(name))?;
                    None
                }
                Action::Start => {
                    docker
                        .start_container(name, None::<StartContainerOptions>)
                        .await
                        .map_err(engine_error(name))?;
                    None
                }
                Action::Restart => {
                    docker
                        .restart_container(
                            name,
                            Some(RestartContainerOptionsBuilder::new().t(10).build()),
                        )
                        .await
                        .map_err(engine_error(name))?;
                    None
                }
                Action::Reload => reload(docker, &want.spec).await?,
                Action::Keep | Action::Remove => None,
            };
            Ok::<_, Error>((step, refused))
        });
        for (step, refused) in futures_util::future::try_join_all(acts).await? {
            if let Some(why) = refused {
                report.unhealthy = Some(format!(
                    "{}: the reload was refused, so it keeps running its previous configuration: {}",
                    step.service,
                    secret_values.redact(&why)
                ));
                return applied::write(context.runtime_dir, &applied);
            }
            let verb = match step.action {
                Action::Create => "created",
                Action::Recreate => "recreated",
                Action::Start => "started",
                Action::Restart => "restarted",
                Action::Reload => "reloaded",
                Action::Keep | Action::Remove => continue,
            };
            report
                .lines
                .push(format!("{}: {verb} ({})", step.service, step.why));
        }
        let names: Vec<&str> = wave.iter().map(|c| c.service.as_str()).collect();
        printer.progress(&format!("waiting for {} to be healthy…", names.join(", ")));
        let waits = wave.iter().map(|c| {
            let secrets = &secret_values;
            async move {
                (
                    c.service.clone(),
                    ready::wait(docker, c, deadline, secrets).await,
                )
            }
        });
        for (service, result) in futures_util::future::join_all(waits).await {
            match result {
                Ok(took) => printer.progress(&format!(
                    "{service}: healthy after {:.1}s",
                    took.as_secs_f64()
                )),
                Err(why) => {
                    report.unhealthy.get_or_insert(why);
                }
            }
        }
        // What the containers of this wave run with now, kept even if a later wave fails.
        let now = observe::containers(docker, &spec.project).await?;
        applied::record(&mut applied, &now, &wave, |service| {
            by_service[service].now.clone()
        });
        applied::write(context.runtime_dir, &applied)?;
        if report.unhealthy.is_some() {
            return Ok(());
        }
    }
    Ok(())
}

/// Reloads a service in place: `POST /-/reload` on its published port, which answers only once
/// the new configuration is loaded, or refuses it. `Some(reason)` when refused.
async fn reload(docker: &Docker, spec: &ContainerSpec) -> Result<Option<String>> {
    let Some(port) = spec.ports.first() else {
        docker
            .kill_container(
                &spec.name,
                Some(KillContainerOptionsBuilder::new().signal("SIGHUP").build()),
            )
            .await
            .map_err(engine_error(&spec.name))?;
        return Ok(None);
    };
    let host = probe::reach(&port.host_ip).to_string();
    let answer = probe::http("POST", &host, port.host_port, "/-/reload", None);
    Ok(match answer {
        Ok((200, _)) => None,
        Ok((status, body)) => Some(format!("HTTP {status}: {}", body.trim())),
        Err(e) => Some(e.to_string()),
    })
}
