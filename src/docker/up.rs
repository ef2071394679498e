//! `up` as a sequence of named phases: images → secrets → desired → observe → plan (a dry run
//! stops here) → preflight → write secrets → leftovers of an interrupted `up` → network and
//! volumes → create new and replacement containers → remove leaving → name replacements →
//! start each service once what it depends on is ready.
//! Everything that can refuse the stack (a failed pull, an unreadable secret, a busy port) is
//! checked before the first change. Each phase is a function here or in the module that owns
//! its part; this file only orders them and hands what one phase learnt to the next.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use bollard::Docker;

use super::applied::{self, Applied, AppliedState};
use super::execute::{Execution, UpReport};
use super::fingerprints;
use super::images::{self, Image};
use super::labels;
use super::observe::{Existing, Observed};
use super::password_map::{self, MapEntry};
use super::plan::{self, Action, Desired, Plan};
use super::secrets::{Copies, Secrets};
use super::spec::{ContainerSpec, Port, StackSpec};
use crate::error::{Error, Result};
use crate::health::fleet;
use crate::model::Stack;
use crate::printer::Printer;
use crate::render::Tree;

/// How `up` should behave.
pub(crate) struct UpOptions {
    pub timeout: Duration,
    pub dry_run: bool,
    /// Also wait until Prometheus has scraped every target once.
    pub wait_scrape: bool,
}

/// Facts about the stack that the engine layer needs from `stack.toml`.
pub(crate) struct Context<'a> {
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
    /// The resolved stack, for the services' checks.
    pub stack: &'a Stack,
    /// The exporter's password map, when `up` assembles it.
    pub password_map: Option<PasswordMapPlan>,
}

/// The exporter's password map to assemble: its entries, the secret it is, and the source
/// file `compose.yaml` declares for that secret.
pub(crate) struct PasswordMapPlan {
    pub entries: Vec<MapEntry>,
    pub secret: String,
    pub source: std::path::PathBuf,
}

/// Converges the engine to the stack: observe, plan, then (unless a dry run) execute. What it
/// did is in `report` even when it stops with an error.
pub(crate) async fn up(
    docker: &Docker,
    spec: &StackSpec,
    context: &Context<'_>,
    options: &UpOptions,
    printer: &Printer<'_>,
    report: &mut UpReport,
) -> Result<()> {
    let images =
        images::ensure(docker, spec, &context.image_keys, options.dry_run, printer).await?;
    let (secrets, assembled, mut problems) = read_secrets(spec, context);
    if !options.dry_run
        && let Some(error) = Error::from_many(std::mem::take(&mut problems))
    {
        return Err(error);
    }
    let copies = Copies::new(context.runtime_dir);
    let wanted = desired(spec, context, &images, &secrets, &copies);
    let existing = Existing::read(docker, &spec.project).await?;
    // One profile never takes over another's containers or volumes.
    if let Some(running) = existing.other_profile(context.profile) {
        return Err(Error::OtherProfile {
            project: spec.project.clone(),
            running,
            asked: context.profile.to_string(),
        });
    }
    let applied = applied::read(context.runtime_dir);
    let plan = plan_of(spec, &wanted, &existing, &applied);
    report.plan = plan.clone();
    let busy = busy_ports(
        docker,
        &plan,
        &wanted,
        &existing.containers,
        &context.port_keys,
    )
    .await;
    if options.dry_run {
        problems.extend(images::unpullable(docker, spec, &images, &context.image_keys).await);
        problems.extend(busy);
        report.problems = problems.iter().map(ToString::to_string).collect();
        return Ok(());
    }
    if let Some(error) = Error::from_many(busy) {
        return Err(error);
    }
    write_secrets(&wanted, &images, &secrets, &copies)?;
    if let Some((map, assembled)) = &assembled
        && let Some(exporter) = spec
            .containers
            .iter()
            .find(|c| c.secrets.contains(&map.secret))
    {
        let user = images::user_of(exporter, &images[&exporter.service]);
        password_map::write_source(&map.source, assembled, &user)?;
    }
    let execution = Execution {
        docker,
        spec,
        plan: &plan,
        desired: &wanted.containers,
        secrets: &secrets,
        copies: &copies,
        runtime_dir: context.runtime_dir,
    };
    execution
        .remove_leftover_replacements(&existing.containers)
        .await?;
    execution.create_network(report).await?;
    execution.create_volumes(report).await?;
    execution.create_containers(report).await?;
    execution.remove_leaving(report).await?;
    execution.name_replacements().await?;
    let checks = super::status::checks(spec, context.stack, options.wait_scrape);
    execution
        .start_in_order(applied, &checks, options.timeout, printer, report)
        .await?;
    if report.unhealthy.is_none() {
        report.unhealthy = fleet_down(docker, spec, context.stack, printer).await?;
    }
    Ok(())
}

/// Every target's first scrape through the exporter, once the stack is healthy: the targets it
/// reports down, each with why (a direct look tells an address nobody answers at from a login
/// the target refuses). A target still starting gets one more scrape interval.
async fn fleet_down(
    docker: &Docker,
    spec: &StackSpec,
    stack: &Stack,
    printer: &Printer<'_>,
) -> Result<Option<String>> {
    let exporter = spec
        .containers
        .iter()
        .find(|c| c.service == "redis-exporter");
    let (Some(exporter), false) = (exporter, stack.targets.iter().all(|t| t.managed)) else {
        return Ok(None);
    };
    let Some((host, port)) = exporter.published() else {
        return Ok(None);
    };
    printer.progress(&format!(
        "asking the exporter for {}…",
        crate::printer::plural(stack.targets.len(), "target")
    ));
    let first = fleet::scrape_all(host, port, &stack.targets).await;
    let down: Vec<_> = stack
        .targets
        .iter()
        .zip(&first)
        .filter(|(_, seen)| !seen.up)
        .map(|(target, _)| target.clone())
        .collect();
    if down.is_empty() {
        return Ok(None);
    }
    tokio::time::sleep(Duration::from_millis(
        stack.redis_exporter.scrape_interval.millis(),
    ))
    .await;
    let again = fleet::scrape_all(host, port, &down).await;
    let still: Vec<_> = down
        .into_iter()
        .zip(&again)
        .filter(|(_, seen)| !seen.up)
        .map(|(target, _)| target)
        .collect();
    if still.is_empty() {
        return Ok(None);
    }
    let hosts = super::observe::network_hosts(docker, &spec.network).await?;
    let mut why = Vec::new();
    for target in &still {
        let reached = fleet::look(target, &hosts).await;
        why.push(format!(
            "  {}: {}",
            target.name,
            fleet::why_down(target, &reached)
        ));
    }
    Ok(Some(format!(
        "{} of {} Redis targets down after the exporter's first scrape:\n{}",
        why.len(),
        stack.targets.len(),
        why.join("\n")
    )))
}

/// Every secret's value, the exporter's password map when `up` assembles it (a secret whose
/// value it made), and every secret that cannot be read, each once.
fn read_secrets<'c>(
    spec: &StackSpec,
    context: &'c Context<'_>,
) -> (
    Secrets,
    Option<(&'c PasswordMapPlan, password_map::Assembled)>,
    Vec<Error>,
) {
    let mut problems = Vec::new();
    let mut given = BTreeMap::new();
    let assembled = context.password_map.as_ref().map(|map| {
        let (assembled, unreadable) = password_map::assemble(&map.entries);
        problems.extend(unreadable);
        let value = (assembled.text.clone(), assembled.values.clone());
        given.insert(map.secret.clone(), value);
        (map, assembled)
    });
    let (secrets, read_problems) = Secrets::read_all(spec, &context.secret_keys, given);
    // One message per secret: the managed Redis' password is also an entry of the map, read
    // from the same `stack.toml` key.
    problems.retain(|p| !read_problems.iter().any(|r| same_secret(p, r)));
    problems.extend(read_problems);
    (secrets, assembled, problems)
}

/// Two problems about the secret declared at one `stack.toml` key.
fn same_secret(a: &Error, b: &Error) -> bool {
    matches!((a, b), (Error::Secret { key: x, .. }, Error::Secret { key: y, .. }) if x == y)
}

/// What should run, and which secret copies are out of date.
struct Wanted {
    containers: Vec<Desired>,
    /// Service → the secrets whose runtime copies must be (re)written.
    stale_copies: BTreeMap<String, Vec<String>>,
}

/// Each container as it should run: labelled with the profile, and fingerprinted.
fn desired(
    spec: &StackSpec,
    context: &Context<'_>,
    images: &BTreeMap<String, Image>,
    secrets: &Secrets,
    copies: &Copies,
) -> Wanted {
    let mut wanted = Wanted {
        containers: Vec::new(),
        stale_copies: BTreeMap::new(),
    };
    for container in &spec.containers {
        let stale = copies.stale(container, secrets);
        let image = &images[&container.service].id;
        let mut labelled = container.clone();
        labelled
            .labels
            .insert(labels::PROFILE_LABEL.into(), context.profile.to_string());
        labelled.labels.extend(labels::container(
            &spec.project,
            container,
            &container.compose_hash,
            image,
            context.tree_dir,
        ));
        let values = container
            .secrets
            .iter()
            .map(|name| (name.as_str(), secrets.get(name)));
        wanted.containers.push(Desired {
            spec_hash: fingerprints::spec(&labelled, image, &spec.network),
            spec: labelled,
            image: image.clone(),
            now: Applied {
                config: fingerprints::config(container, context.tree, context.tree_dir),
                secrets: fingerprints::secrets(values),
                mounts: fingerprints::mounts(container),
            },
            secrets_stale: !stale.is_empty(),
            secrets_unreadable: container
                .secrets
                .iter()
                .any(|name| secrets.get(name).is_empty()),
        });
        if !stale.is_empty() {
            wanted.stale_copies.insert(container.service.clone(), stale);
        }
    }
    wanted
}

fn plan_of(spec: &StackSpec, wanted: &Wanted, existing: &Existing, applied: &AppliedState) -> Plan {
    let volumes: Vec<String> = spec.volumes.iter().map(|v| v.name.clone()).collect();
    plan::plan(
        &wanted.containers,
        &existing.containers,
        applied,
        (&spec.network, existing.networks.contains_key(&spec.network)),
        (&volumes, &existing.volumes.keys().cloned().collect()),
    )
}

/// A host port a container is about to publish.
struct Claim<'a> {
    container: &'a ContainerSpec,
    port: &'a Port,
}

/// The host ports that new and replaced containers publish and the project does not hold
/// now: a port the project publishes is freed when its container is replaced.
fn ports_to_claim<'a>(plan: &Plan, wanted: &'a Wanted, observed: &[Observed]) -> Vec<Claim<'a>> {
    let ours: Vec<u16> = observed
        .iter()
        .flat_map(|o| o.ports.iter().copied())
        .collect();
    let created = wanted.containers.iter().filter(|want| {
        let step = plan.step(&want.spec.service);
        step.is_some_and(|s| matches!(s.action, Action::Create | Action::Recreate))
    });
    created
        .flat_map(|want| {
            let container = &want.spec;
            container
                .ports
                .iter()
                .map(move |port| Claim { container, port })
        })
        .filter(|claim| !ours.contains(&claim.port.host_port))
        .collect()
}

/// Preflight: every host port to claim that is taken, with who holds it when that can be told.
async fn busy_ports(
    docker: &Docker,
    plan: &Plan,
    wanted: &Wanted,
    observed: &[Observed],
    port_keys: &BTreeMap<String, String>,
) -> Vec<Error> {
    let mut busy = Vec::new();
    for Claim { container, port } in taken(plan, wanted, observed) {
        busy.push(Error::PortInUse {
            address: format!("{}:{}", port.host_ip, port.host_port),
            service: container.service.clone(),
            key: port_keys
                .get(&container.service)
                .cloned()
                .unwrap_or_default(),
            held_by: super::observe::port_holder(docker, port.host_port).await,
        });
    }
    busy
}

/// The claims whose host port cannot be bound now.
fn taken<'a>(plan: &Plan, wanted: &'a Wanted, observed: &[Observed]) -> Vec<Claim<'a>> {
    let free = |port: &Port| std::net::TcpListener::bind((port.host_ip.as_str(), port.host_port));
    let claims = ports_to_claim(plan, wanted, observed);
    claims
        .into_iter()
        .filter(|c| free(c.port).is_err())
        .collect()
}

/// Rewrites the stale secret copies, each readable by its container's user only.
fn write_secrets(
    wanted: &Wanted,
    images: &BTreeMap<String, Image>,
    secrets: &Secrets,
    copies: &Copies,
) -> Result<()> {
    for want in &wanted.containers {
        let service = &want.spec.service;
        if let Some(stale) = wanted.stale_copies.get(service) {
            let user = images::user_of(&want.spec, &images[service]);
            copies.write(service, stale, secrets, &user)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::plan::Step;

    fn want(service: &str, ports: &[u16]) -> Desired {
        let mut spec = ContainerSpec::bare(service, &format!("p-{service}"), "img:1");
        spec.ports = ports
            .iter()
            .map(|&port| Port {
                host_ip: "127.0.0.1".into(),
                host_port: port,
                container_port: port,
            })
            .collect();
        Desired {
            spec,
            spec_hash: String::new(),
            image: String::new(),
            now: Applied::default(),
            secrets_stale: false,
            secrets_unreadable: false,
        }
    }

    fn step(service: &str, action: Action) -> Step {
        Step {
            service: service.into(),
            container: format!("p-{service}"),
            action,
            why: "",
        }
    }

    #[test]
    fn only_new_ports_of_new_and_replaced_containers_are_claimed() {
        let wanted = Wanted {
            containers: vec![
                want("redis", &[6379]),
                want("prometheus", &[9090, 9091]),
                want("grafana", &[3000]),
                want("alertmanager", &[9093]),
            ],
            stale_copies: BTreeMap::new(),
        };
        let plan = Plan {
            steps: vec![
                step("redis", Action::Keep),
                step("prometheus", Action::Recreate),
                step("grafana", Action::Create),
                step("alertmanager", Action::Restart),
            ],
            ..Plan::default()
        };
        // Prometheus holds 9090 now; its replacement takes it over.
        let held = Observed {
            id: "id".into(),
            name: "p-prometheus".into(),
            service: "prometheus".into(),
            state: "running".into(),
            spec_hash: String::new(),
            config_hash: String::new(),
            compose_hash: String::new(),
            image: String::new(),
            ports: vec![9090],
            profile: String::new(),
        };
        let claimed: Vec<(&str, u16)> = ports_to_claim(&plan, &wanted, &[held])
            .into_iter()
            .map(|claim| (claim.container.service.as_str(), claim.port.host_port))
            .collect();
        assert_eq!(claimed, [("prometheus", 9091), ("grafana", 3000)]);
    }

    #[test]
    fn a_busy_port_names_its_service_and_key() {
        let busy = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = busy.local_addr().unwrap().port();
        let wanted = Wanted {
            containers: vec![want("grafana", &[port])],
            stale_copies: BTreeMap::new(),
        };
        let plan = Plan {
            steps: vec![step("grafana", Action::Create)],
            ..Plan::default()
        };
        let taken: Vec<(&str, u16)> = taken(&plan, &wanted, &[])
            .into_iter()
            .map(|claim| (claim.container.service.as_str(), claim.port.host_port))
            .collect();
        assert_eq!(taken, [("grafana", port)]);
        let error = Error::PortInUse {
            address: format!("127.0.0.1:{port}"),
            service: "grafana".into(),
            key: "`grafana.port` at s:1:1".into(),
            held_by: " by process `nc` (pid 7)".into(),
        };
        assert_eq!(
            error.to_string(),
            format!(
                "host port 127.0.0.1:{port} for grafana is already in use by process `nc` (pid 7) \
                 (set by `grafana.port` at s:1:1)"
            )
        );
    }
}
