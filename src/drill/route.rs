//! Under `--quick`, the drill's own Alertmanager route: its copies of the alerts (label
//! `drill="quick"`) go to the receivers the rendered routes choose, grouped as they are, but
//! sent at once (`group_wait` 0 s) and their changes every 5 s, whatever the user's timings. A
//! delivery is proven in seconds, never by waiting out the user's `group_interval`.
//!
//! Alertmanager reads one configuration file, bind-mounted from the generated folder: the
//! drill writes its version there (recorded in the journal first, with the file as it was),
//! has Alertmanager reload it, and puts the file back byte for byte when it ends, however it
//! ends. Both reloads are checked in Alertmanager's status API, which shows the file it runs.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::site::{Published, Site};
use super::timing::{DRILL_GROUP_INTERVAL, DRILL_GROUP_WAIT, spelled};
use super::{Error, Result, quick};
use crate::health::http::{self, Method};

/// The first line of the file while the drill's route is in it, for whoever reads it meanwhile.
const MARK: &str = "# With the route of `stackgen drill --quick`, for the length of a drill.";

/// `config` (Alertmanager's configuration) with the drill's route first under its root: it
/// takes the drill's copies, and below it a copy of the root's routes, without their timings,
/// chooses their receiver as the rendered routes would.
pub(crate) fn with_route(config: &str) -> Result<String> {
    let unreadable = |why: String| Error::Alertmanager(format!("Alertmanager's file: {why}"));
    let mut file: Value = crate::yaml::from_str(config).map_err(unreadable)?;
    let root = (file.get_mut("route").and_then(Value::as_object_mut))
        .ok_or_else(|| unreadable("it has no route".into()))?;
    let mut children = root.get("routes").cloned().unwrap_or_default();
    untimed(&mut children);
    let mut route = Map::new();
    let (label, value) = quick::LABEL;
    route.insert(
        "matchers".into(),
        vec![format!("{label}=\"{value}\"")].into(),
    );
    if let Some(receiver) = root.get("receiver") {
        route.insert("receiver".into(), receiver.clone());
    }
    route.insert("group_wait".into(), spelled(DRILL_GROUP_WAIT).into());
    route.insert(
        "group_interval".into(),
        spelled(DRILL_GROUP_INTERVAL).into(),
    );
    if children.as_array().is_some_and(|c| !c.is_empty()) {
        route.insert("routes".into(), children);
    }
    let routes = root
        .entry("routes")
        .or_insert_with(|| Value::Array(Vec::new()));
    let routes =
        (routes.as_array_mut()).ok_or_else(|| unreadable("its routes are no list".into()))?;
    routes.insert(0, Value::Object(route));
    let text = crate::yaml::to_string(&file).map_err(unreadable)?;
    Ok(format!("{MARK}\n{text}"))
}

/// `routes` without their own `group_wait` and `group_interval`, at every depth: under the
/// drill's route they take its timings.
fn untimed(routes: &mut Value) {
    for route in routes.as_array_mut().into_iter().flatten() {
        if let Some(route) = route.as_object_mut() {
            route.remove("group_wait");
            route.remove("group_interval");
            if let Some(children) = route.get_mut("routes") {
                untimed(children);
            }
        }
    }
}

/// Alertmanager's file as it is, and with the drill's route, when the stack runs Alertmanager.
pub(crate) struct Drilled {
    pub(crate) path: PathBuf,
    pub(crate) original: String,
    text: String,
}

/// What adding the drill's route writes, read from the file as it is now.
pub(crate) fn drilled(site: &Site) -> Result<Option<Drilled>> {
    let (Some(path), Some(_)) = (&site.alertmanager_config, &site.addresses.alertmanager) else {
        return Ok(None);
    };
    let original = std::fs::read_to_string(path).map_err(|e| io(path, &e))?;
    Ok(Some(Drilled {
        path: path.clone(),
        text: with_route(&original)?,
        original,
    }))
}

/// Adds the drill's route to the running Alertmanager: the caller has recorded the file as it
/// was.
pub(crate) async fn add(site: &Site, drilled: &Drilled) -> Result<()> {
    write(&drilled.path, &drilled.text)?;
    match &site.addresses.alertmanager {
        Some(address) => reload(address, true).await,
        None => Ok(()),
    }
}

/// Puts Alertmanager's file back as it was and has it reload.
pub(crate) async fn restore(site: &Site, path: &Path, original: &str) -> Result<()> {
    write(path, original)?;
    match &site.addresses.alertmanager {
        Some(address) => reload(address, false).await,
        None => Ok(()),
    }
}

fn io(path: &Path, error: &std::io::Error) -> Error {
    Error::Alertmanager(format!("{}: {error}", path.display()))
}

/// Replaces the file at once (a new file renamed over it), with the mode it had: Alertmanager
/// never reads half of it.
fn write(path: &Path, text: &str) -> Result<()> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let next = path.with_file_name(format!(".{name}.stackgen-drill"));
    let permissions = std::fs::metadata(path)
        .map_err(|e| io(path, &e))?
        .permissions();
    std::fs::write(&next, text).map_err(|e| io(&next, &e))?;
    std::fs::set_permissions(&next, permissions).map_err(|e| io(&next, &e))?;
    std::fs::rename(&next, path).map_err(|e| io(path, &e))
}

/// Whether a configuration, as Alertmanager's status API shows it (its own rendering, without
/// comments), has the drill's route.
fn runs_drill_route(config: &str) -> bool {
    let (label, value) = quick::LABEL;
    let matcher = format!("{label}=\"{value}\"");
    let config: Value = crate::yaml::from_str(config).unwrap_or_default();
    let routes = config["route"]["routes"].as_array().into_iter().flatten();
    routes
        .flat_map(|route| route["matchers"].as_array().into_iter().flatten())
        .any(|m| m.as_str() == Some(matcher.as_str()))
}

/// Has Alertmanager reload its file, and checks in its status API that it runs the drill's
/// route (`drilled`) or not.
async fn reload(address: &Published, drilled: bool) -> Result<()> {
    let (host, port) = (&address.host, address.port);
    let failed = |why: String| Error::Alertmanager(format!("reloading Alertmanager: {why}"));
    let answer = http::request(Method::POST, host, port, "/-/reload", None).await;
    let answer = answer.map_err(|e| failed(e.to_string()))?;
    if answer.status != 200 {
        return Err(failed(format!(
            "it refused the file: {}",
            answer.body.trim()
        )));
    }
    let status = http::get(host, port, "/api/v2/status").await;
    let status = status.map_err(|e| failed(e.to_string()))?;
    let status: Value = serde_json::from_str(&status.body).map_err(|e| failed(e.to_string()))?;
    let running = status["config"]["original"].as_str().unwrap_or_default();
    if runs_drill_route(running) != drilled {
        let what = match drilled {
            true => "without the drill's route",
            false => "with the drill's route still",
        };
        return Err(failed(format!("its status API shows it running {what}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The drill's route takes the drill's copies to the receivers the rendered routes choose,
    /// on its own timings, and leaves everything else as it was.
    #[test]
    fn the_route_takes_the_copies_first() {
        let (_, tree) = super::super::site::tests::stack_and_tree(
            "[stack]\nname = \"t\"\n[alertmanager.slack]\nwebhook_url = { env = \"S\" }\n\
             channel = \"#a\"\n",
        );
        let rendered = &tree["alertmanager/alertmanager.yml"];
        let text = with_route(rendered).unwrap();
        assert!(text.starts_with(MARK), "{text}");
        assert!(runs_drill_route(&text) && !runs_drill_route(rendered));
        let before: Value = crate::yaml::from_str(rendered).unwrap();
        let after: Value = crate::yaml::from_str(&text).unwrap();
        let drill = &after["route"]["routes"][0];
        assert_eq!(drill["matchers"][0], "drill=\"quick\"");
        assert_eq!(drill["group_wait"], "0s");
        assert_eq!(drill["group_interval"], "5s");
        assert_eq!(drill["receiver"], before["route"]["receiver"]);
        // Below it, the rendered routes with their receivers and matchers, without timings.
        let children = drill["routes"].as_array().unwrap();
        let rendered_routes = before["route"]["routes"].as_array().unwrap();
        assert_eq!(children.len(), rendered_routes.len());
        for (copy, route) in children.iter().zip(rendered_routes) {
            assert_eq!(copy["receiver"], route["receiver"]);
            assert_eq!(copy["matchers"], route["matchers"]);
            assert!(copy.get("group_wait").is_none() && copy.get("group_interval").is_none());
        }
        // Everything else as rendered.
        assert_eq!(
            &after["route"]["routes"].as_array().unwrap()[1..],
            rendered_routes
        );
        for key in ["receivers", "inhibit_rules", "templates"] {
            assert_eq!(after[key], before[key], "{key}");
        }
        assert_eq!(after["route"]["group_wait"], before["route"]["group_wait"]);
        // Alertmanager's own checker reads it.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("alertmanager.yml");
        std::fs::write(&path, &text).unwrap();
        let checked = std::process::Command::new("amtool")
            .args(["check-config"])
            .arg(&path)
            .output()
            .expect("amtool runs (see .ci/alertmanager.sh)");
        assert!(checked.status.success(), "{checked:?}");
    }
}
