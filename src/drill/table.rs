//! The human report: a line per scenario, and under `alerts` a line per alert.

use super::Report;

/// The human report: one block per scenario.
pub fn table(report: &Report) -> String {
    let mut text = format!("{:10}  {:4}  RESULT\n", "SCENARIO", "OK");
    for scenario in &report.scenarios {
        let ok = if scenario["ok"] == true { "ok" } else { "FAIL" };
        let name = scenario["name"].as_str().unwrap_or("?");
        let number = |key: &str| scenario[key].as_f64().unwrap_or_default();
        let detail = match (scenario.get("error"), name) {
            (Some(error), _) => error.as_str().unwrap_or_default().to_string(),
            (None, "capacity") => format!(
                "{} keys, {} bytes at {}% of maxmemory; exporter {:.1} % from INFO; {} {}",
                scenario["keys_at_threshold"],
                scenario["bytes_at_threshold"],
                scenario["threshold_percent"],
                number("exporter_agreement_percent"),
                scenario["alert"].as_str().unwrap_or_default(),
                scenario["alert_state"].as_str().unwrap_or_default(),
            ),
            (None, "pressure") => format!(
                "{} bytes written against {} maxmemory: {} evicted (exporter {}), {} rejected; \
                 {} {}",
                scenario["written_bytes"],
                scenario["maxmemory"],
                scenario["evicted_keys"],
                scenario["exporter_evicted_keys"],
                scenario["rejected_writes"],
                scenario["alert"].as_str().unwrap_or_default(),
                scenario["alert_state"].as_str().unwrap_or_default(),
            ),
            (None, "throughput") => format!(
                "{:.0} ops/s median, {:.0} at the slowest second (threshold {}); {} {}",
                number("ops_per_sec_median"),
                number("ops_per_sec_min"),
                scenario["low_throughput_threshold_ops_per_sec"],
                scenario["alert"].as_str().unwrap_or_default(),
                scenario["alert_state"].as_str().unwrap_or_default(),
            ),
            (None, "recovery") => format!(
                "{} acked, {} survived, {} lost ({:.2} s of writes), up again after {:.1} s",
                scenario["acked"],
                scenario["survived"],
                scenario["lost"],
                number("lost_seconds_of_writes"),
                number("recovery_s"),
            ),
            (None, "alerts") => alerts(scenario),
            (None, _) => format!(
                "{:.0} ops/s (Prometheus {:.0}, {:.1} % apart), p50 {:.2} ms, p99 {:.2} ms, max \
                 {:.2} ms, {} errors",
                number("ops_per_sec"),
                number("prometheus_ops_per_sec"),
                number("prometheus_agreement_percent"),
                number("p50_ms"),
                number("p99_ms"),
                number("max_ms"),
                scenario["errors"],
            ),
        };
        text.push_str(&format!("{name:10}  {ok:4}  {detail}\n"));
    }
    text
}

/// The `alerts` summary line, then a line per alert.
fn alerts(scenario: &serde_json::Value) -> String {
    let alerts = scenario["alerts"].as_array().cloned().unwrap_or_default();
    let induced: Vec<_> = alerts.iter().filter(|a| a["induced"] == true).collect();
    let count = |key: &str| induced.iter().filter(|a| a[key] == true).count();
    let mut text = format!(
        "{} induced: {} fired, {} delivered, {} resolved; {} not induced",
        induced.len(),
        count("fired"),
        count("delivered"),
        count("resolved"),
        alerts.len() - induced.len()
    );
    for alert in &alerts {
        let name = alert["alert"].as_str().unwrap_or_default();
        let how = alert["how"].as_str().unwrap_or_default();
        let line = if alert["induced"] == true {
            let yes = |key: &str| match &alert[key] {
                serde_json::Value::Bool(true) => "yes",
                serde_json::Value::Bool(false) => "NO",
                _ => "-",
            };
            let error = alert["error"]
                .as_str()
                .map(|e| format!("; {e}"))
                .unwrap_or_default();
            let seconds = alert["seconds_to_fire"]
                .as_f64()
                .map_or_else(|| "-".to_string(), |s| format!("{s:.0} s"));
            format!(
                "fired {} ({seconds}), delivered {}, resolved {}: {how}{error}",
                yes("fired"),
                yes("delivered"),
                yes("resolved"),
            )
        } else {
            how.to_string()
        };
        text.push_str(&format!("\n{:16}  {name:28} {line}", ""));
    }
    text
}
