//! `--quick`: the drill does not wait out each alert's `for`. Prometheus gets a drill-only rule
//! file — the rendered alerts, same expressions, `for: 0s` and the label `drill="quick"` — in
//! its own volume, at the path the rendered `prometheus.yml` lists for it
//! (`/prometheus/drill/*.yml`), and reloads; afterwards the file is emptied, Prometheus reloads
//! again, and its rules API must show only the rendered rules, each with its rendered `for`.

use std::time::Duration;

use bollard::Docker;
use bollard::query_parameters::UploadToContainerOptionsBuilder;
use serde_json::Value;

use super::Endpoints;
use crate::docker::probe;

/// Where the drill's rules go, in Prometheus' data volume.
const FOLDER: &str = "/prometheus";
const FILE: &str = "drill/quick.yml";
/// The label every drill copy of an alert carries.
pub const LABEL: (&str, &str) = ("drill", "quick");

/// The drill's rule file for the rendered rules file `rendered`: every rule, `for: 0s`,
/// labelled as the drill's.
pub fn rules(rendered: &str) -> Result<String, String> {
    let mut file: Value = crate::yaml::from_str(rendered)?;
    let groups = file["groups"]
        .as_array_mut()
        .ok_or("the rendered rules file has no groups")?;
    for group in groups {
        let name = group["name"].as_str().unwrap_or("redis");
        group["name"] = Value::from(format!("stackgen-drill-quick-{name}"));
        for rule in group["rules"].as_array_mut().into_iter().flatten() {
            rule["for"] = Value::from("0s");
            rule["labels"][LABEL.0] = Value::from(LABEL.1);
        }
    }
    let text = crate::yaml::to_string(&file)?;
    Ok(format!(
        "# Loaded by `stackgen drill --quick` for the length of a drill; emptied after it.\n{text}"
    ))
}

/// The rendered `for` of every alert in `rendered`, in seconds.
pub fn rendered_fors(rendered: &str) -> Result<Vec<(String, f64)>, String> {
    let file: Value = crate::yaml::from_str(rendered)?;
    let mut fors = Vec::new();
    for group in file["groups"].as_array().into_iter().flatten() {
        for rule in group["rules"].as_array().into_iter().flatten() {
            let name = rule["alert"].as_str().unwrap_or_default().to_string();
            let text = rule["for"].as_str().unwrap_or("0s");
            let duration: crate::model::units::Duration = text.parse()?;
            fors.push((name, duration.seconds()));
        }
    }
    Ok(fors)
}

/// Puts `text` in the drill's rule file and has Prometheus reload; refused reloads are errors.
pub async fn install(docker: &Docker, endpoints: &Endpoints, text: &str) -> Result<(), String> {
    let options = UploadToContainerOptionsBuilder::default()
        .path(FOLDER)
        .build();
    let archive = tar(&[("drill/", None), (FILE, Some(text.as_bytes()))]);
    let container = &endpoints.prometheus_container;
    docker
        .upload_to_container(container, Some(options), bollard::body_full(archive.into()))
        .await
        .map_err(|e| format!("writing the drill's rules into {container}: {e}"))?;
    let host = &endpoints.prometheus_host;
    match crate::docker::execute::hangup_and_verify(
        docker,
        container,
        host,
        endpoints.prometheus_port,
    )
    .await
    {
        Ok(None) => Ok(()),
        Ok(Some(refused)) => Err(format!("Prometheus did not reload: {refused}")),
        Err(e) => Err(e.to_string()),
    }
}

/// The rules Prometheus evaluates now: `(alert, for in seconds, from the drill's file)`.
pub fn loaded(endpoints: &Endpoints) -> Result<Vec<(String, f64, bool)>, String> {
    let host = &endpoints.prometheus_host;
    let answer = probe::get(host, endpoints.prometheus_port, "/api/v1/rules?type=alert")
        .map_err(|e| format!("Prometheus: {e}"))?;
    let answer: Value = serde_json::from_str(&answer.body).map_err(|e| e.to_string())?;
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

/// Loads the drill's rules and proves it: every rendered alert has a drill copy with `for: 0s`.
pub async fn load(docker: &Docker, endpoints: &Endpoints, rendered: &str) -> Result<(), String> {
    install(docker, endpoints, &rules(rendered)?).await?;
    let wanted = rendered_fors(rendered)?;
    let loaded = settled(endpoints, |rules| {
        wanted
            .iter()
            .all(|(name, _)| rules.iter().any(|r| &r.0 == name && r.2 && r.1 == 0.0))
    })
    .await?;
    if !loaded {
        return Err(
            "Prometheus reloaded, but its rules API does not show the drill's rules".into(),
        );
    }
    Ok(())
}

/// Empties the drill's rule file and proves through the rules API that Prometheus evaluates
/// the rendered rules only, each with its rendered `for`. What it saw, for the report.
pub async fn restore(
    docker: &Docker,
    endpoints: &Endpoints,
    rendered: &str,
) -> Result<Vec<(String, f64)>, String> {
    install(
        docker,
        endpoints,
        "# Emptied by `stackgen drill` after a --quick drill.\ngroups: []\n",
    )
    .await?;
    let wanted = rendered_fors(rendered)?;
    let restored = settled(endpoints, |rules| {
        rules.iter().all(|r| !r.2)
            && wanted
                .iter()
                .all(|(name, s)| rules.iter().any(|r| &r.0 == name && r.1 == *s))
    })
    .await?;
    if !restored {
        return Err("Prometheus' rules API still does not show the rendered rules".into());
    }
    Ok(wanted)
}

/// Waits (briefly: a reload has already been seen) until the rules API satisfies `done`.
async fn settled(
    endpoints: &Endpoints,
    done: impl Fn(&[(String, f64, bool)]) -> bool,
) -> Result<bool, String> {
    for _ in 0..20 {
        if done(&loaded(endpoints)?) {
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
mod tests {
    use super::*;

    const RENDERED: &str = r#"groups:
  - name: redis
    rules:
      - alert: "RedisDown"
        expr: "redis_up == 0"
        for: "1m"
        labels:
          severity: "critical"
      - alert: "RedisHighLatency"
        expr: "x > 10"
        for: "5m"
        labels:
          severity: "warning"
"#;

    #[test]
    fn the_drill_rules_keep_expressions_and_drop_the_for() {
        let rules: Value = crate::yaml::from_str(&super::rules(RENDERED).unwrap()).unwrap();
        let group = &rules["groups"][0];
        assert_eq!(group["name"], "stackgen-drill-quick-redis");
        assert_eq!(group["rules"][0]["expr"], "redis_up == 0");
        assert_eq!(group["rules"][0]["for"], "0s");
        assert_eq!(group["rules"][0]["labels"]["severity"], "critical");
        assert_eq!(group["rules"][1]["labels"]["drill"], "quick");
        assert_eq!(
            rendered_fors(RENDERED).unwrap(),
            [
                ("RedisDown".into(), 60.0),
                ("RedisHighLatency".into(), 300.0)
            ]
        );
    }

    #[test]
    fn the_archive_is_one_tar_stream_that_tar_reads() {
        let archive = tar(&[("drill/", None), ("drill/quick.yml", Some(b"groups: []\n"))]);
        assert_eq!(archive.len() % 512, 0);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.tar");
        std::fs::write(&path, &archive).unwrap();
        let listed = std::process::Command::new("tar")
            .args(["-tvf"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(listed.status.success(), "{listed:?}");
        let text = String::from_utf8_lossy(&listed.stdout);
        assert!(text.contains("drill/quick.yml"), "{text}");
        assert!(text.contains("-rw-r--r--"), "{text}");
    }
}
