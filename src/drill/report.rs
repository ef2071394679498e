//! What a drill reports: a result per scenario run, and what was restored and removed at the
//! end. `--format json` prints it as it serializes here, so the serialization is a contract:
//! the keys of each scenario's result come in alphabetical order (as they always have) and an
//! absent figure is `null`, never left out. The tests below pin every shape.

use serde::{Serialize, Serializer};

use super::Scenario;
use super::alerts::Alerts;
use super::baseline::Baseline;
use super::capacity::Capacity;
use super::failover::Failover;
use super::pressure::Pressure;
use super::recovery::Recovery;
use super::slo::SloDrill;
use super::throughput::Throughput;

/// The whole run, as `--format json` prints it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Report {
    pub(crate) profile: String,
    pub(crate) ok: bool,
    pub(crate) scenarios: Vec<ScenarioReport>,
    /// The user stopped the drill (Ctrl-C) before it ended.
    pub(crate) interrupted: bool,
    /// What was restored at the end, a line each.
    pub(crate) restored: Vec<String>,
    /// Drill keys removed at the end.
    pub(crate) drill_keys_removed: u64,
}

impl Report {
    /// What was restored, each line once, with how often when more than once: the same
    /// change is undone again when several scenarios make it (each filling scenario stops
    /// Redis' forks and restores them).
    pub(crate) fn restored_once(&self) -> Vec<String> {
        let mut seen: Vec<(&str, usize)> = Vec::new();
        for line in &self.restored {
            match seen.iter_mut().find(|(known, _)| known == line) {
                Some((_, count)) => *count += 1,
                None => seen.push((line, 1)),
            }
        }
        let times = |count: usize| match count {
            1 => String::new(),
            n => format!(" ({n} times)"),
        };
        seen.into_iter()
            .map(|(line, count)| format!("{line}{}", times(count)))
            .collect()
    }
}

/// One scenario's result: its figures, or why it failed before it had them.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub(crate) enum ScenarioReport {
    Baseline(Baseline),
    Capacity(Capacity),
    Pressure(Pressure),
    Recovery(Recovery),
    Throughput(Throughput),
    Alerts(Alerts),
    Failover(Failover),
    Slo(SloDrill),
    Failed(Failed),
}

impl ScenarioReport {
    pub(crate) fn name(&self) -> Scenario {
        match self {
            Self::Baseline(r) => r.name,
            Self::Capacity(r) => r.name,
            Self::Pressure(r) => r.name,
            Self::Recovery(r) => r.name,
            Self::Throughput(r) => r.name,
            Self::Alerts(r) => r.name,
            Self::Failover(r) => r.name,
            Self::Slo(r) => r.name,
            Self::Failed(r) => r.name,
        }
    }

    pub(crate) fn ok(&self) -> bool {
        match self {
            Self::Baseline(r) => r.ok,
            Self::Capacity(r) => r.ok,
            Self::Pressure(r) => r.ok,
            Self::Recovery(r) => r.ok,
            Self::Throughput(r) => r.ok,
            Self::Alerts(r) => r.ok,
            Self::Failover(r) => r.ok,
            Self::Slo(r) => r.ok,
            Self::Failed(_) => false,
        }
    }
}

/// A scenario that failed before it had figures (or was interrupted): `ok` is always false.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failed {
    pub(crate) name: Scenario,
    /// Why, as the user reads it.
    pub(crate) error: String,
}

impl Failed {
    pub(crate) fn new(name: Scenario, error: &super::Error) -> Self {
        Self {
            name,
            error: error.to_string(),
        }
    }
}

impl Serialize for Failed {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut failed = serializer.serialize_struct("Failed", 3)?;
        failed.serialize_field("error", &self.error)?;
        failed.serialize_field("name", &self.name)?;
        failed.serialize_field("ok", &false)?;
        failed.end()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    //! Each scenario's result, built by hand, against the JSON the report has always printed for
    //! it: the text is compared, so a key renamed, dropped or moved fails.

    use super::*;
    use crate::drill::alerts::Proof;

    /// The pretty JSON of one scenario's result.
    fn json(report: ScenarioReport) -> String {
        serde_json::to_string_pretty(&report).unwrap()
    }

    pub(crate) fn baseline() -> Baseline {
        Baseline {
            above_low_throughput: Some(true),
            clients: 50,
            commands: 1_200_000,
            duration_s: 10.0,
            errors: 0,
            high_latency_threshold_ms: None,
            low_throughput_threshold_ops_per_sec: Some(1000.0),
            max_ms: 7.25,
            name: Scenario::Baseline,
            ok: true,
            ops_per_sec: 120_000.0,
            ops_per_sec_by_second: vec![120_000, 119_000],
            p50_ms: 0.42,
            p50_within_high_latency: None,
            p99_ms: 1.5,
            pipeline: 16,
            prometheus_agreement_percent: 1.6,
            prometheus_ops_per_sec: 118_000.5,
            value_size: 256,
        }
    }

    #[test]
    fn baseline_json_is_pinned() {
        let expected = r#"{
  "above_low_throughput": true,
  "clients": 50,
  "commands": 1200000,
  "duration_s": 10.0,
  "errors": 0,
  "high_latency_threshold_ms": null,
  "low_throughput_threshold_ops_per_sec": 1000.0,
  "max_ms": 7.25,
  "name": "baseline",
  "ok": true,
  "ops_per_sec": 120000.0,
  "ops_per_sec_by_second": [
    120000,
    119000
  ],
  "p50_ms": 0.42,
  "p50_within_high_latency": null,
  "p99_ms": 1.5,
  "pipeline": 16,
  "prometheus_agreement_percent": 1.6,
  "prometheus_ops_per_sec": 118000.5,
  "value_size": 256
}"#;
        assert_eq!(json(ScenarioReport::Baseline(baseline())), expected);
    }

    pub(crate) fn capacity() -> Capacity {
        Capacity {
            alert: "RedisMemoryPressure",
            alert_state: "pending".into(),
            bytes_at_threshold: 8_500_000,
            exporter_agreement_percent: 0.25,
            exporter_used_memory: 9_000_100,
            info_used_memory: 9_000_000,
            keys_at_threshold: 2048,
            maxmemory: 10_485_760,
            name: Scenario::Capacity,
            ok: false,
            seconds_to_alert: None,
            threshold_percent: 80.0,
            used_memory: 9_000_000,
        }
    }

    #[test]
    fn capacity_json_is_pinned() {
        let expected = r#"{
  "alert": "RedisMemoryPressure",
  "alert_state": "pending",
  "bytes_at_threshold": 8500000,
  "exporter_agreement_percent": 0.25,
  "exporter_used_memory": 9000100,
  "info_used_memory": 9000000,
  "keys_at_threshold": 2048,
  "maxmemory": 10485760,
  "name": "capacity",
  "ok": false,
  "seconds_to_alert": null,
  "threshold_percent": 80.0,
  "used_memory": 9000000
}"#;
        assert_eq!(json(ScenarioReport::Capacity(capacity())), expected);
    }

    pub(crate) fn pressure() -> Pressure {
        Pressure {
            accepted_writes: 2816,
            alert: "RedisBufferOverflow",
            alert_state: "firing".into(),
            evicted_keys: 300,
            exporter_evicted_keys: Some(300),
            maxmemory: 10_485_760,
            name: Scenario::Pressure,
            ok: true,
            policy_evicts: true,
            rejected_writes: 0,
            seconds_to_alert: Some(12.5),
            written_bytes: 11_534_336,
        }
    }

    #[test]
    fn pressure_json_is_pinned() {
        let expected = r#"{
  "accepted_writes": 2816,
  "alert": "RedisBufferOverflow",
  "alert_state": "firing",
  "evicted_keys": 300,
  "exporter_evicted_keys": 300,
  "maxmemory": 10485760,
  "name": "pressure",
  "ok": true,
  "policy_evicts": true,
  "rejected_writes": 0,
  "seconds_to_alert": 12.5,
  "written_bytes": 11534336
}"#;
        assert_eq!(json(ScenarioReport::Pressure(pressure())), expected);
    }

    pub(crate) fn recovery() -> Recovery {
        Recovery {
            acked: 4096,
            killed_after_s: 10.0,
            lost: 16,
            lost_seconds_allowed: Some(1.0),
            lost_seconds_of_writes: 0.02,
            name: Scenario::Recovery,
            ok: true,
            recovery_s: 1.75,
            survived: 4080,
        }
    }

    #[test]
    fn recovery_json_is_pinned() {
        let expected = r#"{
  "acked": 4096,
  "killed_after_s": 10.0,
  "lost": 16,
  "lost_seconds_allowed": 1.0,
  "lost_seconds_of_writes": 0.02,
  "name": "recovery",
  "ok": true,
  "recovery_s": 1.75,
  "survived": 4080
}"#;
        assert_eq!(json(ScenarioReport::Recovery(recovery())), expected);
    }

    pub(crate) fn failover() -> crate::drill::failover::Failover {
        crate::drill::failover::Failover {
            acked: 20000,
            alerts: vec![],
            killed_after_s: 10.0,
            lost: 3,
            lost_seconds_of_writes: 0.001,
            name: Scenario::Failover,
            new_primary: "redis-replica-1".into(),
            ok: true,
            old_primary: "redis".into(),
            promotion_s: 6.1,
            rejoined_s: None,
            writes_back_s: 6.2,
        }
    }

    pub(crate) fn slo() -> crate::drill::slo::SloDrill {
        crate::drill::slo::SloDrill {
            alert: crate::drill::alerts::Proof::default(),
            burned_by: "downtime",
            name: Scenario::Slo,
            ok: false,
            scale: 15.0,
            slo: "up".into(),
        }
    }

    #[test]
    fn slo_json_is_pinned() {
        let json = json(ScenarioReport::Slo(slo()));
        let keys: Vec<&str> = json
            .lines()
            .filter_map(|l| l.strip_prefix("  \""))
            .collect();
        let keys: Vec<&str> = keys.iter().map(|k| k.split('"').next().unwrap()).collect();
        assert_eq!(keys, ["alert", "burned_by", "name", "ok", "scale", "slo"]);
        assert!(json.contains("\"name\": \"slo\""), "{json}");
    }

    #[test]
    fn failover_json_is_pinned() {
        let expected = r#"{
  "acked": 20000,
  "alerts": [],
  "killed_after_s": 10.0,
  "lost": 3,
  "lost_seconds_of_writes": 0.001,
  "name": "failover",
  "new_primary": "redis-replica-1",
  "ok": true,
  "old_primary": "redis",
  "promotion_s": 6.1,
  "rejoined_s": null,
  "writes_back_s": 6.2
}"#;
        assert_eq!(json(ScenarioReport::Failover(failover())), expected);
    }

    pub(crate) fn throughput() -> Throughput {
        Throughput {
            alert: "RedisLowThroughput",
            alert_state: "inactive".into(),
            duration_s: 60.0,
            errors: 0,
            low_throughput_threshold_ops_per_sec: None,
            name: Scenario::Throughput,
            ok: true,
            ops_per_sec_by_second: vec![118_000, 110_000],
            ops_per_sec_median: 118_000.0,
            ops_per_sec_min: 110_000.0,
        }
    }

    #[test]
    fn throughput_json_is_pinned() {
        let expected = r#"{
  "alert": "RedisLowThroughput",
  "alert_state": "inactive",
  "duration_s": 60.0,
  "errors": 0,
  "low_throughput_threshold_ops_per_sec": null,
  "name": "throughput",
  "ok": true,
  "ops_per_sec_by_second": [
    118000,
    110000
  ],
  "ops_per_sec_median": 118000.0,
  "ops_per_sec_min": 110000.0
}"#;
        assert_eq!(json(ScenarioReport::Throughput(throughput())), expected);
    }

    pub(crate) fn alerts() -> Alerts {
        let down = Proof {
            alert: "RedisDown",
            delivered: None,
            error: None,
            fired: true,
            how: "stopped x".into(),
            in_alertmanager: Some(true),
            induced: true,
            resolved: true,
            seconds_to_fire: Some(31.0),
            seconds_to_resolve: Some(20.5),
        };
        let listed = Proof {
            alert: "RedisPersistenceFailing",
            how: "not induced: why".into(),
            ..Proof::default()
        };
        Alerts {
            alerts: vec![down, listed],
            name: Scenario::Alerts,
            ok: true,
        }
    }

    #[test]
    fn alerts_json_is_pinned() {
        let expected = r#"{
  "alerts": [
    {
      "alert": "RedisDown",
      "delivered": null,
      "error": null,
      "fired": true,
      "how": "stopped x",
      "in_alertmanager": true,
      "induced": true,
      "resolved": true,
      "seconds_to_fire": 31.0,
      "seconds_to_resolve": 20.5
    },
    {
      "alert": "RedisPersistenceFailing",
      "delivered": null,
      "error": null,
      "fired": false,
      "how": "not induced: why",
      "in_alertmanager": null,
      "induced": false,
      "resolved": false,
      "seconds_to_fire": null,
      "seconds_to_resolve": null
    }
  ],
  "name": "alerts",
  "ok": true
}"#;
        assert_eq!(json(ScenarioReport::Alerts(alerts())), expected);
    }

    #[test]
    fn a_failed_scenario_and_the_report_are_pinned() {
        let failed = Failed::new(Scenario::Capacity, &crate::drill::Error::Interrupted);
        let report = Report {
            profile: "dev".into(),
            ok: false,
            scenarios: vec![ScenarioReport::Failed(failed)],
            interrupted: true,
            restored: vec!["started x again".into()],
            drill_keys_removed: 12,
        };
        let expected = r#"{
  "profile": "dev",
  "ok": false,
  "scenarios": [
    {
      "error": "interrupted",
      "name": "capacity",
      "ok": false
    }
  ],
  "interrupted": true,
  "restored": [
    "started x again"
  ],
  "drill_keys_removed": 12
}"#;
        assert_eq!(serde_json::to_string_pretty(&report).unwrap(), expected);
    }

    #[test]
    fn each_result_says_its_scenario_and_whether_it_passed() {
        let all = [
            ScenarioReport::Baseline(baseline()),
            ScenarioReport::Capacity(capacity()),
            ScenarioReport::Pressure(pressure()),
            ScenarioReport::Recovery(recovery()),
            ScenarioReport::Throughput(throughput()),
            ScenarioReport::Alerts(alerts()),
            ScenarioReport::Failover(failover()),
            ScenarioReport::Slo(slo()),
        ];
        let names: Vec<Scenario> = all.iter().map(ScenarioReport::name).collect();
        assert_eq!(names, Scenario::OFFERED);
        let ok: Vec<bool> = all.iter().map(ScenarioReport::ok).collect();
        assert_eq!(ok, [true, false, true, true, true, true, true, false]);
    }

    #[test]
    fn each_restored_line_is_said_once() {
        let report = Report {
            profile: "dev".into(),
            ok: true,
            scenarios: vec![],
            interrupted: false,
            restored: [
                "save \"3600 1\"",
                "appendonly yes",
                "save \"3600 1\"",
                "the rules",
            ]
            .map(String::from)
            .to_vec(),
            drill_keys_removed: 0,
        };
        assert_eq!(
            report.restored_once(),
            ["save \"3600 1\" (2 times)", "appendonly yes", "the rules"]
        );
    }
}
