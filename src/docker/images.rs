//! The images a stack runs: which image id each service's tag points at now (part of its spec
//! hash, so a re-tagged image recreates the container) and the user the image runs as (whom its
//! secret copies must belong to). A missing image is pulled; a failed pull names the
//! `stack.toml` key that set it. It never removes or re-tags an image.

use std::collections::BTreeMap;

use bollard::Docker;
use bollard::query_parameters::CreateImageOptionsBuilder;
use futures_util::StreamExt;

use super::engine::{engine_error, engine_message, is_not_found};
use super::spec::{ContainerSpec, StackSpec};
use crate::error::{Error, Result};
use crate::printer::Printer;

/// An image as the engine has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Image {
    pub id: String,
    /// The user its configuration runs as; empty for root.
    pub user: String,
}

impl Image {
    /// What a dry run assumes of an image it would pull.
    fn to_pull() -> Self {
        Self {
            id: "(to pull)".into(),
            user: String::new(),
        }
    }
}

/// The image of every service, by service, pulling the missing ones unless `dry_run`.
/// `keys`: service → where `stack.toml` sets its image.
pub(crate) async fn ensure(
    docker: &Docker,
    spec: &StackSpec,
    keys: &BTreeMap<String, String>,
    dry_run: bool,
    printer: &Printer<'_>,
) -> Result<BTreeMap<String, Image>> {
    let mut images = BTreeMap::new();
    // Every image that cannot be had is reported, not just the first.
    let mut failures = Vec::new();
    for container in &spec.containers {
        let image = match inspect(docker, &container.image).await? {
            Some(image) => image,
            None if dry_run => Image::to_pull(),
            None => {
                printer.progress(&format!("pulling {}…", container.image));
                let failed = |message: String| Error::Pull {
                    image: container.image.clone(),
                    key: keys.get(&container.service).cloned().unwrap_or_default(),
                    message,
                };
                let pulled = match pull(docker, &container.image).await {
                    Ok(()) => inspect(docker, &container.image).await?,
                    Err(message) => {
                        failures.push(failed(message));
                        continue;
                    }
                };
                match pulled {
                    Some(image) => image,
                    None => {
                        failures.push(failed("the image is still missing after the pull".into()));
                        continue;
                    }
                }
            }
        };
        images.insert(container.service.clone(), image);
    }
    match Error::from_many(failures) {
        Some(error) => Err(error),
        None => Ok(images),
    }
}

/// The user a container runs as: its own `user`, or else its image's.
pub(crate) fn user_of(container: &ContainerSpec, image: &Image) -> String {
    container.user.clone().unwrap_or_else(|| image.user.clone())
}

async fn inspect(docker: &Docker, image: &str) -> Result<Option<Image>> {
    match docker.inspect_image(image).await {
        Ok(found) => Ok(Some(Image {
            id: found.id.unwrap_or_default(),
            user: found.config.and_then(|c| c.user).unwrap_or_default(),
        })),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(engine_error(image)(e)),
    }
}

/// Pulls an image; what the engine or registry said when it cannot.
async fn pull(docker: &Docker, image: &str) -> std::result::Result<(), String> {
    let (name, tag) = name_and_tag(image);
    let options = CreateImageOptionsBuilder::new()
        .from_image(name)
        .tag(tag)
        .build();
    let mut stream = docker.create_image(Some(options), None, None);
    while let Some(item) = stream.next().await {
        item.map_err(engine_message)?;
    }
    Ok(())
}

/// For a dry run: each image that is not local and that its registry does not offer (asked
/// without pulling), as the error the real `up` would stop with.
pub(crate) async fn unpullable(
    docker: &Docker,
    spec: &StackSpec,
    images: &BTreeMap<String, Image>,
    keys: &BTreeMap<String, String>,
) -> Vec<Error> {
    let mut problems = Vec::new();
    for container in &spec.containers {
        if images[&container.service] != Image::to_pull() {
            continue;
        }
        if let Err(e) = docker.inspect_registry_image(&container.image, None).await {
            problems.push(Error::Pull {
                image: container.image.clone(),
                key: keys.get(&container.service).cloned().unwrap_or_default(),
                message: engine_message(e),
            });
        }
    }
    problems
}

/// `name:tag` split where the engine wants it; an untagged name means `latest`, and a colon
/// before a `/` belongs to a registry's port. A digest (`name:tag@sha256:…`) is what is
/// pulled, by the name without its tag.
fn name_and_tag(image: &str) -> (&str, &str) {
    if let Some((named, digest)) = image.split_once('@') {
        return (name_and_tag(named).0, digest);
    }
    match image.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, tag),
        _ => (image, "latest"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_into_name_and_tag() {
        let cases = [
            ("redis:7.2", ("redis", "7.2")),
            ("redis", ("redis", "latest")),
            ("prom/prometheus:v2.53.0", ("prom/prometheus", "v2.53.0")),
            ("registry:5000/redis", ("registry:5000/redis", "latest")),
            ("registry:5000/redis:7", ("registry:5000/redis", "7")),
            ("redis:7.2@sha256:ab12", ("redis", "sha256:ab12")),
            (
                "registry:5000/redis@sha256:ab12",
                ("registry:5000/redis", "sha256:ab12"),
            ),
        ];
        for (image, expected) in cases {
            assert_eq!(name_and_tag(image), expected, "{image}");
        }
    }

    #[test]
    fn a_container_runs_as_its_own_user_or_else_its_images() {
        let image = Image {
            id: "sha256:1".into(),
            user: "nobody".into(),
        };
        let mut container = ContainerSpec::bare("grafana", "p-grafana", "grafana/grafana:11");
        assert_eq!(user_of(&container, &image), "nobody");
        container.user = Some("472".into());
        assert_eq!(user_of(&container, &image), "472");
    }
}
