//! Carrying out a [`Plan`]: the network and volumes first, then every new and replacement
//! container created (stopped), then the containers that leave or are replaced removed, then
//! each service brought up as soon as what it depends on is ready: act, wait until it answers
//! its check, and record in `applied.json` what it now runs with, so that a later failure does
//! not lose what was done. It decides nothing: every action comes from the plan,
//! and every line it adds to the [`UpReport`] says what was done.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::models::{NetworkCreateRequest, VolumeCreateRequest};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, RenameContainerOptionsBuilder, RestartContainerOptionsBuilder,
    StartContainerOptions,
};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::applied::{self, AppliedState};
use super::container::create_body;
use super::down::{STOP_GRACE_SECONDS, remove_container};
use super::engine::engine_error;
use super::plan::{self, Action, Desired, Plan, Step};
use super::secrets::{Copies, Secrets};
use super::spec::{ContainerSpec, StackSpec, VolumeSpec};
use super::{labels, observe, ready};
use crate::error::Result;
use crate::health::Checks;
use crate::printer::Printer;

/// What `up` did, filled in as it goes: the command shows it even when `up` stops half-way.
#[derive(Default)]
pub(crate) struct UpReport {
    pub plan: Plan,
    pub lines: Vec<String>,
    /// Set when a service did not become healthy in time, or refused a reload: what happened,
    /// its health output and logs.
    pub unhealthy: Option<String>,
    /// With `--dry-run`: everything the real `up` would stop on.
    pub problems: Vec<String>,
}

/// What carrying out a plan needs, all decided before anything changes.
pub(crate) struct Execution<'a> {
    pub docker: &'a Docker,
    pub spec: &'a StackSpec,
    pub plan: &'a Plan,
    pub desired: &'a [Desired],
    pub secrets: &'a Secrets,
    pub copies: &'a Copies,
    /// `.stackgen/<profile>`, where `applied.json` is kept.
    pub runtime_dir: &'a Path,
}

impl Execution<'_> {
    /// Removes replacement containers an interrupted `up` left behind.
    pub(crate) async fn remove_leftover_replacements(
        &self,
        observed: &[observe::Observed],
    ) -> Result<()> {
        let leftovers = observed
            .iter()
            .filter(|o| plan::is_leftover_replacement(&o.name));
        futures_util::future::try_join_all(
            leftovers.map(|o| remove_container(self.docker, &o.name)),
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn create_network(&self, report: &mut UpReport) -> Result<()> {
        if let Some(network) = &self.plan.create_network {
            self.docker
                .create_network(network_request(&self.spec.project, network))
                .await
                .map_err(engine_error(network))?;
            report.lines.push(format!("network {network}: created"));
        }
        Ok(())
    }

    pub(crate) async fn create_volumes(&self, report: &mut UpReport) -> Result<()> {
        let created = self.spec.volumes.iter();
        for volume in created.filter(|v| self.plan.create_volumes.contains(&v.name)) {
            self.docker
                .create_volume(volume_request(&self.spec.project, volume))
                .await
                .map_err(engine_error(&volume.name))?;
            report
                .lines
                .push(format!("volume {}: created", volume.name));
        }
        Ok(())
    }

    /// Removes the containers that go or are replaced; a service that goes takes its secret
    /// copies along.
    pub(crate) async fn remove_leaving(&self, report: &mut UpReport) -> Result<()> {
        let leaving = self
            .plan
            .steps
            .iter()
            .filter(|s| matches!(s.action, Action::Remove | Action::Recreate));
        futures_util::future::try_join_all(
            leaving.map(|s| remove_container(self.docker, &s.container)),
        )
        .await?;
        for step in self
            .plan
            .steps
            .iter()
            .filter(|s| s.action == Action::Remove)
        {
            self.copies.remove(&step.service);
            report
                .lines
                .push(format!("{}: removed ({})", step.service, step.why));
        }
        Ok(())
    }

    /// Creates, stopped, every container the plan creates or replaces, before anything is
    /// removed: a request the engine refuses stops `up` while the old containers still run. A
    /// replacement takes a temporary name until its predecessor is gone.
    pub(crate) async fn create_containers(&self, report: &mut UpReport) -> Result<()> {
        let creates = self.plan.steps.iter().filter_map(|step| {
            let (name, what) = match step.action {
                Action::Create => (step.container.clone(), step.container.clone()),
                Action::Recreate => (
                    plan::replacement_name(&step.container),
                    format!(
                        "{} (its new container; the running one is kept)",
                        step.service
                    ),
                ),
                _ => return None,
            };
            let want = self.want(&step.service);
            let body = create_body(want, &self.spec.network, &self.copies.dir(&step.service));
            Some(async move {
                let options = CreateContainerOptionsBuilder::new().name(&name).build();
                self.docker
                    .create_container(Some(options), body)
                    .await
                    .map_err(engine_error(&what))
            })
        });
        futures_util::future::try_join_all(creates).await?;
        let replaced = self
            .plan
            .steps
            .iter()
            .filter(|s| s.action == Action::Recreate);
        if replaced.clone().next().is_some() {
            report.lines.push(format!(
                "replacements created for {}",
                replaced
                    .map(|s| s.service.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(())
    }

    /// Gives each replacement its service's container name, once its predecessor is gone.
    pub(crate) async fn name_replacements(&self) -> Result<()> {
        let replaced = self
            .plan
            .steps
            .iter()
            .filter(|s| s.action == Action::Recreate);
        for step in replaced {
            let temporary = plan::replacement_name(&step.container);
            let options = RenameContainerOptionsBuilder::new()
                .name(&step.container)
                .build();
            self.docker
                .rename_container(&temporary, options)
                .await
                .map_err(engine_error(&step.container))?;
        }
        Ok(())
    }

    /// Brings each service up as soon as every service it depends on is ready: act, wait until
    /// it answers its check, record what it runs with in `applied.json`. After the first
    /// service that is not ready or refused a reload, nothing more starts, and
    /// `report.unhealthy` says why.
    pub(crate) async fn start_in_order(
        &self,
        mut applied: AppliedState,
        checks: &Checks<'_>,
        timeout: Duration,
        printer: &Printer<'_>,
        report: &mut UpReport,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let mut ready: BTreeSet<&str> = BTreeSet::new();
        let mut launched: BTreeSet<&str> = BTreeSet::new();
        let mut running = FuturesUnordered::new();
        let mut failure = None;
        loop {
            if report.unhealthy.is_none() && failure.is_none() {
                for container in &self.spec.containers {
                    let service = container.service.as_str();
                    let deps = &container.depends_on;
                    if !launched.contains(service)
                        && deps.iter().all(|d| ready.contains(d.service.as_str()))
                    {
                        launched.insert(service);
                        printer.progress(&format!("waiting for {service} to be healthy…"));
                        running.push(self.bring_up(container, deadline, checks));
                    }
                }
            }
            let Some((container, result)) = running.next().await else {
                break;
            };
            match result {
                Err(error) => {
                    failure.get_or_insert(error);
                }
                Ok(Brought::Refused(why)) => {
                    report.unhealthy.get_or_insert(why);
                }
                Ok(Brought::NotReady(why)) => {
                    // It was acted on; only waiting for it failed.
                    report.lines.extend(done(self.step(&container.service)));
                    report.unhealthy.get_or_insert(why);
                    self.record(container, &mut applied).await?;
                }
                Ok(Brought::Ready(took)) => {
                    let step = self.step(&container.service);
                    report.lines.extend(done(step));
                    printer.progress(&format!(
                        "{}: healthy after {:.1}s",
                        container.service,
                        took.as_secs_f64()
                    ));
                    self.record(container, &mut applied).await?;
                    ready.insert(container.service.as_str());
                }
            }
        }
        applied::write(self.runtime_dir, &applied)?;
        failure.map_or(Ok(()), Err)
    }

    fn want(&self, service: &str) -> &Desired {
        let found = self.desired.iter().find(|d| d.spec.service == service);
        found.expect("every service brought up is desired")
    }

    fn step(&self, service: &str) -> &Step {
        self.plan.step(service).expect("every service is planned")
    }

    /// Acts on one container and waits until it is ready.
    async fn bring_up<'c>(
        &self,
        container: &'c ContainerSpec,
        deadline: Instant,
        checks: &Checks<'_>,
    ) -> (&'c ContainerSpec, Result<Brought>) {
        let step = self.step(&container.service);
        let changed = step.action != Action::Keep;
        let result = match self.act(self.want(&container.service), step).await {
            Err(error) => Err(error),
            Ok(Some(why)) => Ok(Brought::Refused(refused_reload(
                &step.service,
                &self.secrets.redact(&why),
            ))),
            Ok(None) => Ok(
                match ready::wait(
                    self.docker,
                    self.spec,
                    container,
                    deadline,
                    changed,
                    self.secrets,
                    checks,
                )
                .await
                {
                    Ok(took) => Brought::Ready(took),
                    Err(why) => Brought::NotReady(why),
                },
            ),
        };
        (container, result)
    }

    /// Carries out one step; `Some(reason)` when the service refused a reload.
    async fn act(&self, want: &Desired, step: &Step) -> Result<Option<String>> {
        let docker = self.docker;
        let name = &want.spec.name;
        match step.action {
            Action::Create | Action::Recreate | Action::Start => docker
                .start_container(name, None::<StartContainerOptions>)
                .await
                .map_err(engine_error(name))?,
            Action::Restart => {
                let options = RestartContainerOptionsBuilder::new().t(STOP_GRACE_SECONDS);
                docker
                    .restart_container(name, Some(options.build()))
                    .await
                    .map_err(engine_error(name))?;
            }
            Action::Reload => return super::reload::reload(docker, &want.spec).await,
            Action::Keep | Action::Remove => {}
        }
        Ok(None)
    }

    /// What this container runs with now, kept even if a later service fails.
    async fn record(&self, container: &ContainerSpec, applied: &mut AppliedState) -> Result<()> {
        let now = observe::containers(self.docker, &self.spec.project).await?;
        applied::record(applied, &now, &[container], |service| {
            self.want(service).now.clone()
        });
        applied::write(self.runtime_dir, applied)
    }
}

/// How bringing one service up ended, short of an engine error.
enum Brought {
    Ready(Duration),
    /// Not ready in time, or crashed: what was seen.
    NotReady(String),
    /// It refused a reload and keeps its previous configuration.
    Refused(String),
}

/// The report's line for a step that changed something.
fn done(step: &Step) -> Option<String> {
    let verb = match step.action {
        Action::Create => "created",
        Action::Recreate => "recreated",
        Action::Start => "started",
        Action::Restart => "restarted",
        Action::Reload => "reloaded",
        Action::Keep | Action::Remove => return None,
    };
    Some(format!("{}: {verb} ({})", step.service, step.why))
}

/// `why`: what the service answered, already redacted.
fn refused_reload(service: &str, why: &str) -> String {
    format!(
        "{service}: the reload was refused, so it keeps running its previous configuration: \
         {why}"
    )
}

fn network_request(project: &str, network: &str) -> NetworkCreateRequest {
    let mut labels: HashMap<String, String> = labels::network(project).into_iter().collect();
    labels.insert(labels::PROJECT_LABEL.to_string(), project.to_string());
    NetworkCreateRequest {
        name: network.to_string(),
        driver: Some("bridge".into()),
        labels: Some(labels),
        ..Default::default()
    }
}

fn volume_request(project: &str, volume: &VolumeSpec) -> VolumeCreateRequest {
    let mut labels: HashMap<String, String> = volume.labels.clone().into_iter().collect();
    labels.insert(labels::PROJECT_LABEL.into(), project.to_string());
    labels.extend(labels::volume(project, &volume.name));
    VolumeCreateRequest {
        name: Some(volume.name.clone()),
        driver: Some(volume.driver.clone()),
        driver_opts: Some(volume.driver_opts.clone().into_iter().collect()),
        labels: Some(labels),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn each_change_gets_a_line_and_keeping_gets_none() {
        let step = |action| Step {
            service: "prometheus".into(),
            container: "p-prometheus".into(),
            action,
            why: "its config files changed",
        };
        let cases = [
            (
                Action::Create,
                Some("prometheus: created (its config files changed)"),
            ),
            (
                Action::Recreate,
                Some("prometheus: recreated (its config files changed)"),
            ),
            (
                Action::Start,
                Some("prometheus: started (its config files changed)"),
            ),
            (
                Action::Restart,
                Some("prometheus: restarted (its config files changed)"),
            ),
            (
                Action::Reload,
                Some("prometheus: reloaded (its config files changed)"),
            ),
            (Action::Keep, None),
            (Action::Remove, None),
        ];
        for (action, line) in cases {
            assert_eq!(done(&step(action)).as_deref(), line);
        }
    }

    #[test]
    fn a_refused_reload_says_the_service_keeps_its_configuration() {
        assert_eq!(
            refused_reload("prometheus", "HTTP 500: bad rule"),
            "prometheus: the reload was refused, so it keeps running its previous \
             configuration: HTTP 500: bad rule"
        );
    }

    #[test]
    fn networks_and_volumes_carry_the_project_label() {
        let network = network_request("p", "p_default");
        assert_eq!(network.labels.unwrap()[labels::PROJECT_LABEL], "p");
        assert_eq!(network.driver.as_deref(), Some("bridge"));
        let volume = VolumeSpec {
            name: "p_auth".into(),
            driver: "local".into(),
            driver_opts: BTreeMap::from([("type".into(), "tmpfs".into())]),
            labels: BTreeMap::from([("keep".into(), "yes".into())]),
        };
        let request = volume_request("p", &volume);
        let labels = request.labels.unwrap();
        assert_eq!(
            (
                labels[labels::PROJECT_LABEL].as_str(),
                labels["keep"].as_str()
            ),
            ("p", "yes")
        );
        assert_eq!(request.driver_opts.unwrap()["type"], "tmpfs");
    }
}
