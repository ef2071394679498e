//! The Kubernetes tree's own checks: the security defaults on every workload (whatever template
//! rendered it), NetworkPolicies around Redis and the exporter under the prod policy, and the
//! kustomization built by `kubectl kustomize` when kubectl is on PATH.

use std::process::Command;

use serde_json::Value;

use super::generated_location;
use super::level;
use super::tools::which;
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::error::{Error, Result};
use crate::model::raw::PolicyLevel;
use crate::model::{Collector, Stack};
use crate::render::Tree;

/// The pods the prod policy fences in with a NetworkPolicy.
const FENCED: [&str; 2] = ["redis", "redis-exporter"];

pub(super) fn kubernetes(c: &mut Collector<'_>, stack: &Stack, tree: &Tree) -> Result<()> {
    let objects: Vec<(&String, Value)> = tree
        .iter()
        .filter(|(path, _)| path.as_str() != "kustomization.yaml")
        .filter_map(|(path, text)| Some((path, crate::yaml::from_str(text).ok()?)))
        .collect();
    let severity = level(stack.policy.level);
    for (path, object) in &objects {
        for problem in workload_problems(object) {
            finding(c, stack, path, Code::UnsafeWorkload, severity, problem);
        }
    }
    if stack.policy.level == PolicyLevel::Error {
        for name in FENCED {
            let workload = objects.iter().find(|(_, o)| {
                matches!(o["kind"].as_str(), Some("StatefulSet" | "Deployment"))
                    && o["metadata"]["name"] == name
            });
            let Some((path, workload)) = workload else {
                continue;
            };
            let labels = &workload["spec"]["template"]["metadata"]["labels"];
            let fenced = objects.iter().any(|(_, o)| {
                o["kind"] == "NetworkPolicy" && selects(&o["spec"]["podSelector"], labels)
            });
            if !fenced {
                let problem = format!("no NetworkPolicy selects the pods of {name}");
                finding(c, stack, path, Code::NoNetworkPolicy, severity, problem);
            }
        }
    }
    kustomize(c, stack, tree)
}

fn finding(
    c: &mut Collector<'_>,
    stack: &Stack,
    path: &str,
    code: Code,
    severity: Severity,
    message: String,
) {
    c.push(Diagnostic {
        location: generated_location(&format!("generated/{}/{path}", stack.profile)),
        code,
        severity,
        message,
        hint: "stackgen's templates set these; a template override took them away".into(),
    });
}

/// What a workload's pod lacks of the security defaults and limits.
fn workload_problems(object: &Value) -> Vec<String> {
    if !matches!(object["kind"].as_str(), Some("StatefulSet" | "Deployment")) {
        return Vec::new();
    }
    let name = object["metadata"]["name"].as_str().unwrap_or("?");
    let pod = &object["spec"]["template"]["spec"];
    let mut problems = Vec::new();
    let security = &pod["securityContext"];
    if security["runAsNonRoot"] != true {
        problems.push(format!("{name}: the pod may run as root (runAsNonRoot)"));
    }
    if security["seccompProfile"]["type"] != "RuntimeDefault" {
        problems.push(format!(
            "{name}: the pod has no RuntimeDefault seccomp profile"
        ));
    }
    let containers = ["initContainers", "containers"]
        .iter()
        .flat_map(|key| pod[key].as_array().into_iter().flatten());
    for container in containers {
        let which = format!("{name}/{}", container["name"].as_str().unwrap_or("?"));
        let security = &container["securityContext"];
        if security["allowPrivilegeEscalation"] != false {
            problems.push(format!("{which}: privilege escalation is allowed"));
        }
        if security["readOnlyRootFilesystem"] != true {
            problems.push(format!("{which}: the root filesystem is writable"));
        }
        let drops_all = security["capabilities"]["drop"]
            .as_array()
            .is_some_and(|d| d.iter().any(|c| c == "ALL"));
        if !drops_all {
            problems.push(format!("{which}: capabilities are not all dropped"));
        }
        let limits = &container["resources"]["limits"];
        if limits["memory"].is_null() || limits["cpu"].is_null() {
            problems.push(format!("{which}: no memory or CPU limit"));
        }
    }
    problems
}

/// Whether a `podSelector` selects pods with these labels.
fn selects(selector: &Value, labels: &Value) -> bool {
    selector["matchLabels"]
        .as_object()
        .is_some_and(|wanted| wanted.iter().all(|(k, v)| &labels[k] == v))
}

/// `kubectl kustomize` over the tree, when kubectl is there; a note when it is not.
fn kustomize(c: &mut Collector<'_>, stack: &Stack, tree: &Tree) -> Result<()> {
    let location = generated_location(&format!("generated/{}/kustomization.yaml", stack.profile));
    let Some(kubectl) = which("kubectl") else {
        c.push(Diagnostic {
            location,
            code: Code::CheckerMissing,
            severity: Severity::Note,
            message: "kubectl is not on PATH: the kustomization was not built".into(),
            hint: "apt-get install kubernetes-client".into(),
        });
        return Ok(());
    };
    let dir = super::tools::write_tree(tree)?;
    let output = Command::new(kubectl)
        .arg("kustomize")
        .arg(dir.path())
        .output()
        .map_err(Error::io(dir.path()))?;
    if !output.status.success() {
        let said = String::from_utf8_lossy(&output.stderr);
        c.push(Diagnostic {
            location,
            code: Code::KustomizeFails,
            severity: Severity::Error,
            message: format!("kubectl kustomize: {}", said.trim().replace('\n', " | ")),
            hint: "a template override is the usual cause".into(),
        });
    }
    Ok(())
}
