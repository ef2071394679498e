//! `stackgen lint`: semantic, policy, secret and generated-output checks of one profile's
//! stack. Every finding has a stable code, a severity and a place, and is gathered by the same
//! [`Collector`] that resolving the stack reports its errors to. Secret values are read only
//! to be judged (present, non-empty, not `admin`, shaped like a webhook), never shown.

mod fleet;
mod generated;
mod kubernetes;
mod live;
mod policy;
mod secrets;
mod tools;

use crate::diagnostic::{Code, Diagnostic, Location, Severity};
use crate::error::{Error, Result};
use crate::model::Collector;
use crate::model::raw::PolicyLevel;
use crate::project::Project;
use crate::render::{Rendered, Renderer};

/// A lint finding is a diagnostic: place, code, severity, message and hint.
pub(crate) type Finding = Diagnostic;

pub(crate) struct LintOptions {
    /// Missing secrets and missing checking tools are errors.
    pub strict: bool,
    /// Ask the profile's running Prometheus for the metrics the rules and panels read.
    pub live: bool,
}

/// Lints one profile of a project. Input that does not even resolve comes back as findings.
pub(crate) fn lint(
    project: &Project,
    profile: &str,
    options: &LintOptions,
) -> Result<Vec<Finding>> {
    // A generated file that fails validation is a finding; the stack it came from is still
    // checked.
    let (stack, tree, configs) = match project.render(profile) {
        Ok(Rendered {
            stack,
            tree,
            configs,
        }) => (stack, Ok(tree), configs),
        Err(Error::Input(diagnostics)) => return Ok(diagnostics),
        Err(invalid @ Error::Generated { .. }) => {
            (project.resolve(profile)?, Err(invalid), Default::default())
        }
        Err(other) => return Err(other),
    };
    let mut c = Collector::new(project.sources(profile));
    policy::semantic(&mut c, &stack);
    policy::policy(&mut c, &stack);
    fleet::fleet(&mut c, &stack);
    secrets::secrets(&mut c, &stack, &project.dir, options.strict);
    match tree {
        Ok(tree) => {
            // A Kubernetes tree's configuration files are inside its objects: the checkers
            // read them as the compose target lays them out.
            let checked = if stack.kubernetes.is_some() {
                kubernetes::kubernetes(&mut c, &stack, &tree)?;
                &configs
            } else {
                &tree
            };
            generated::rendered_rules(&mut c, &stack, checked);
            generated::limits(&mut c, &stack, &tree);
            if project.templates_dir().join("compose.yaml").is_file() {
                let builtin = Renderer::builtin()?.render(&stack)?;
                generated::overrides(&mut c, &stack, &tree, &builtin);
            }
            for failure in tools::check(&stack.profile, checked)? {
                generated::tool_finding(&mut c, &stack, failure, options.strict);
            }
            if options.live {
                live::live(&mut c, &stack, checked);
            }
        }
        Err(Error::Generated {
            file,
            template,
            message,
        }) => c.push(Diagnostic {
            location: generated_location(&file),
            code: Code::GeneratedInvalid,
            severity: Severity::Error,
            message: format!("{message} (rendered from {template})"),
            hint: "fix the template override, or remove it to use the built-in one".into(),
        }),
        Err(other) => return Err(other),
    }
    Ok(c.finish())
}

/// The first line of a generated file, for findings about it as a whole.
fn generated_location(file: &str) -> Location {
    Location {
        file: file.to_string(),
        line: 1,
        column: 1,
    }
}

/// The severity of a policy finding under the profile's policy level.
fn level(level: PolicyLevel) -> Severity {
    match level {
        PolicyLevel::Error => Severity::Error,
        PolicyLevel::Warning => Severity::Warning,
    }
}

/// `image` is pinned when it names a tag other than `latest`, or a digest.
pub(crate) fn is_pinned(image: &str) -> bool {
    if image.contains("@sha256:") {
        return true;
    }
    image_tag(image).is_some_and(|tag| !tag.is_empty() && tag != "latest")
}

/// The tag an image names, if it names one (`redis:7.2@sha256:…` → `7.2`; a registry's
/// port is not a tag).
pub(crate) fn image_tag(image: &str) -> Option<&str> {
    let reference = image.split('@').next().unwrap_or(image);
    let name = reference.rsplit('/').next().unwrap_or(reference);
    name.rsplit_once(':').map(|(_, tag)| tag)
}
