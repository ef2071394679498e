//! Carrying out a [`Plan`]: the network and volumes first, then the containers that leave or are
//! replaced, then wave by wave in dependency order: act on each container of the wave, wait until
//! it is ready, and record in `applied.json` what it now runs with, so that a later failure
//! does not lose what an earlier wave did. It decides nothing: every action comes from the plan,
//! and every line it adds to the [`UpReport`] says what was done.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::models::{NetworkCreateRequest, VolumeCreateRequest};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, KillContainerOptionsBuilder, RestartContainerOptionsBuilder,
    StartContainerOptions,
};

use super::applied::{self, AppliedState};
use super::container::create_body;
use super::down::{STOP_GRACE_SECONDS, remove_container};
use super::engine::engine_error;
use super::plan::{self, Action, Desired, Plan, Step};
use super::secrets::{Copies, Secrets};
use super::spec::{ContainerSpec, StackSpec, VolumeSpec};
use super::up::UpReport;
use super::{observe, probe, ready};
use crate::Printer;
use crate::error::{Error, Result};

/// What carrying out a plan needs, all decided before anything changes.
pub struct Execution<'a> {
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
    pub async fn create_network(&self, report: &mut UpReport) -> Result<()> {
        if let Some(network) = &self.plan.create_network {
            self.docker
                .create_network(network_request(&self.spec.project, network))
                .await
                .map_err(engine_error(network))?;
            report.lines.push(format!("network {network}: created"));
        }
        Ok(())
    }

    pub async fn create_volumes(&self, report: &mut UpReport) -> Result<()> {
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
    pub async fn remove_leaving(&self, report: &mut UpReport) -> Result<()> {
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

    /// Wave by wave: act, wait until ready, record. Stops after the first wave with a service
    /// that is not ready or refused a reload, and says so in `report.unhealthy`.
    pub async fn waves(
        &self,
        mut applied: AppliedState,
        timeout: Duration,
        printer: &Printer<'_>,
        report: &mut UpReport,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        for wave in self.spec.waves()? {
            if let Some(refused) = self.act_wave(&wave, report).await? {
                report.unhealthy = Some(refused);
                return applied::write(self.runtime_dir, &applied);
            }
            self.wait_wave(&wave, deadline, printer, report).await;
            self.record_wave(&wave, &mut applied).await?;
            if report.unhealthy.is_some() {
                return Ok(());
            }
        }
        Ok(())
    }

    fn want(&self, service: &str) -> &Desired {
        let found = self.desired.iter().find(|d| d.spec.service == service);
        found.expect("every service of a wave is desired")
    }

    fn step(&self, service: &str) -> &Step {
        self.plan.step(service).expect("every service is planned")
    }

    /// Acts on every container of a wave at once; why a reload was refused, if one was.
    async fn act_wave(
        &self,
        wave: &[&ContainerSpec],
        report: &mut UpReport,
    ) -> Result<Option<String>> {
        let acts = wave.iter().map(|c| async {
            let step = self.step(&c.service);
            Ok::<_, Error>((step, self.act(self.want(&c.service), step).await?))
        });
        for (step, refused) in futures_util::future::try_join_all(acts).await? {
            if let Some(why) = refused {
                return Ok(Some(refused_reload(
                    &step.service,
                    &self.secrets.redact(&why),
                )));
            }
            report.lines.extend(done(step));
        }
        Ok(None)
    }

    /// Carries out one step; `Some(reason)` when the service refused a reload.
    async fn act(&self, want: &Desired, step: &Step) -> Result<Option<String>> {
        let docker = self.docker;
        let name = &want.spec.name;
        match step.action {
            Action::Create | Action::Recreate => {
                let body = create_body(want, &self.spec.network, &self.copies.dir(&step.service));
                let options = CreateContainerOptionsBuilder::new().name(name).build();
                docker
                    .create_container(Some(options), body)
                    .await
                    .map_err(engine_error(name))?;
                docker
                    .start_container(name, None::<StartContainerOptions>)
                    .await
                    .map_err(engine_error(name))?;
            }
            Action::Start => docker
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
            Action::Reload => return reload(docker, &want.spec).await,
            Action::Keep | Action::Remove => {}
        }
        Ok(None)
    }

    /// Waits for every container of a wave at once; the first failure goes to the report.
    async fn wait_wave(
        &self,
        wave: &[&ContainerSpec],
        deadline: Instant,
        printer: &Printer<'_>,
        report: &mut UpReport,
    ) {
        let names: Vec<&str> = wave.iter().map(|c| c.service.as_str()).collect();
        printer.progress(&format!("waiting for {} to be healthy…", names.join(", ")));
        let waits = wave.iter().map(|c| async move {
            (
                &c.service,
                ready::wait(self.docker, c, deadline, self.secrets).await,
            )
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
    }

    /// What the containers of this wave run with now, kept even if a later wave fails.
    async fn record_wave(&self, wave: &[&ContainerSpec], applied: &mut AppliedState) -> Result<()> {
        let now = observe::containers(self.docker, &self.spec.project).await?;
        applied::record(applied, &now, wave, |service| {
            self.want(service).now.clone()
        });
        applied::write(self.runtime_dir, applied)
    }
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
    NetworkCreateRequest {
        name: network.to_string(),
        driver: Some("bridge".into()),
        labels: Some(HashMap::from([(
            plan::PROJECT_LABEL.to_string(),
            project.to_string(),
        )])),
        ..Default::default()
    }
}

fn volume_request(project: &str, volume: &VolumeSpec) -> VolumeCreateRequest {
    let mut labels: HashMap<String, String> = volume.labels.clone().into_iter().collect();
    labels.insert(plan::PROJECT_LABEL.into(), project.to_string());
    VolumeCreateRequest {
        name: Some(volume.name.clone()),
        driver: Some(volume.driver.clone()),
        driver_opts: Some(volume.driver_opts.clone().into_iter().collect()),
        labels: Some(labels),
        ..Default::default()
    }
}

/// Reloads a service in place: `POST /-/reload` on its published port, which answers only once
/// the new configuration is loaded, or refuses it; SIGHUP when it publishes none.
/// `Some(reason)` when refused.
async fn reload(docker: &Docker, spec: &ContainerSpec) -> Result<Option<String>> {
    let Some(port) = spec.ports.first() else {
        let options = KillContainerOptionsBuilder::new().signal("SIGHUP").build();
        docker
            .kill_container(&spec.name, Some(options))
            .await
            .map_err(engine_error(&spec.name))?;
        return Ok(None);
    };
    let host = probe::reach(&port.host_ip).to_string();
    Ok(refusal(probe::http(
        "POST",
        &host,
        port.host_port,
        "/-/reload",
        None,
    )))
}

/// Why a reload's answer is a refusal; `None` when it succeeded.
fn refusal(answer: std::io::Result<probe::Response>) -> Option<String> {
    match answer {
        Ok(response) if response.status == 200 => None,
        Ok(response) => Some(format!(
            "HTTP {}: {}",
            response.status,
            response.body.trim()
        )),
        Err(e) => Some(e.to_string()),
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

    fn response(status: u16, body: &str) -> probe::Response {
        probe::Response {
            status,
            body: body.into(),
        }
    }

    #[test]
    fn a_reload_is_refused_unless_it_answers_200() {
        let cases = [
            (Ok(response(200, "ok")), None),
            (Ok(response(500, " bad rule\n")), Some("HTTP 500: bad rule")),
            (
                Err(std::io::Error::other("connection refused")),
                Some("connection refused"),
            ),
        ];
        for (answer, expected) in cases {
            assert_eq!(refusal(answer).as_deref(), expected);
        }
        assert_eq!(
            refused_reload("prometheus", "HTTP 500: bad rule"),
            "prometheus: the reload was refused, so it keeps running its previous \
             configuration: HTTP 500: bad rule"
        );
    }

    #[test]
    fn networks_and_volumes_carry_the_project_label() {
        let network = network_request("p", "p_default");
        assert_eq!(network.labels.unwrap()[plan::PROJECT_LABEL], "p");
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
                labels[plan::PROJECT_LABEL].as_str(),
                labels["keep"].as_str()
            ),
            ("p", "yes")
        );
        assert_eq!(request.driver_opts.unwrap()["type"], "tmpfs");
    }
}
