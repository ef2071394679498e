//! The human report: a line per scenario, and under `alerts` a line per alert. A figure the
//! scenario does not have (no threshold, no exporter count) reads `-`.

use std::fmt::Display;

use super::alerts::{Alerts, Proof};
use super::failover::Failover;
use super::report::{Report, ScenarioReport};
use crate::alerts::AlertKind;

/// The human report: one block per scenario.
pub(crate) fn table(report: &Report) -> String {
    let mut text = format!("{:10}  {:4}  RESULT\n", "SCENARIO", "OK");
    for scenario in &report.scenarios {
        let ok = if scenario.ok() { "ok" } else { "FAIL" };
        let name = scenario.name().name();
        let detail = detail(scenario);
        text.push_str(&format!("{name:10}  {ok:4}  {detail}\n"));
    }
    text
}

/// What a scenario found, on its line.
fn detail(scenario: &ScenarioReport) -> String {
    match scenario {
        ScenarioReport::Failed(failed) => failed.error.clone(),
        ScenarioReport::Baseline(b) => format!(
            "{:.0} ops/s (Prometheus {:.0}, {:.1} % apart), p50 {:.2} ms, p99 {:.2} ms, max \
             {:.2} ms, {} errors",
            b.ops_per_sec,
            b.prometheus_ops_per_sec,
            b.prometheus_agreement_percent,
            b.p50_ms,
            b.p99_ms,
            b.max_ms,
            b.errors,
        ),
        ScenarioReport::Capacity(c) => format!(
            "{} keys, {} bytes at {}% of maxmemory; exporter {:.1} % from INFO; {} {}",
            c.keys_at_threshold,
            c.bytes_at_threshold,
            c.threshold_percent,
            c.exporter_agreement_percent,
            c.alert,
            c.alert_state,
        ),
        ScenarioReport::Pressure(p) => format!(
            "{} bytes written against {} maxmemory: {} evicted (exporter {}), {} rejected; {} {}",
            p.written_bytes,
            p.maxmemory,
            p.evicted_keys,
            or_dash(p.exporter_evicted_keys),
            p.rejected_writes,
            p.alert,
            p.alert_state,
        ),
        ScenarioReport::Throughput(t) => format!(
            "{:.0} ops/s median, {:.0} at the slowest second (threshold {}); {} {}",
            t.ops_per_sec_median,
            t.ops_per_sec_min,
            or_dash(t.low_throughput_threshold_ops_per_sec),
            t.alert,
            t.alert_state,
        ),
        ScenarioReport::Recovery(r) => format!(
            "{} acked, {} survived, {} lost ({:.2} s of writes), up again after {:.1} s",
            r.acked, r.survived, r.lost, r.lost_seconds_of_writes, r.recovery_s,
        ),
        ScenarioReport::Alerts(a) => alerts(a),
        ScenarioReport::Failover(f) => failover(f),
        ScenarioReport::Slo(s) => format!(
            "SLO {}: budget burned by {} (windows divided by {}){}",
            s.slo,
            s.burned_by,
            s.scale,
            alert_line(&s.alert)
        ),
    }
}

/// The `failover` summary line, then a line per alert.
fn failover(f: &Failover) -> String {
    let mut text = format!(
        "{} → {}: promoted after {:.1} s, writes back after {:.1} s; {} acked, {} lost \
         ({:.2} s of writes); old primary a replica after {} s",
        f.old_primary,
        f.new_primary,
        f.promotion_s,
        f.writes_back_s,
        f.acked,
        f.lost,
        f.lost_seconds_of_writes,
        or_dash(f.rejoined_s.map(|s| format!("{s:.1}"))),
    );
    for proof in &f.alerts {
        text.push_str(&alert_line(proof));
    }
    text
}

fn or_dash(value: Option<impl Display>) -> String {
    value.map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// The `alerts` summary line, then a line per alert.
fn alerts(scenario: &Alerts) -> String {
    let alerts = &scenario.alerts;
    let induced: Vec<&Proof> = alerts.iter().filter(|a| a.induced).collect();
    let count = |yes: fn(&Proof) -> bool| induced.iter().filter(|a| yes(a)).count();
    let mut text = format!(
        "{} induced: {} fired, {} delivered, {} resolved; {} not induced",
        induced.len(),
        count(|a| a.fired),
        count(|a| a.delivered == Some(true)),
        count(|a| a.resolved),
        alerts.len() - induced.len()
    );
    for alert in alerts {
        text.push_str(&alert_line(alert));
    }
    text
}

/// A line under a scenario about one alert: what became of it, or why it was not induced.
fn alert_line(alert: &Proof) -> String {
    let line = if alert.induced {
        let yes = |seen: Option<bool>| match seen {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "-",
        };
        let error = (alert.error.as_ref())
            .map(|e| format!("; {e}"))
            .unwrap_or_default();
        let seconds =
            (alert.seconds_to_fire).map_or_else(|| "-".to_string(), |s| format!("{s:.0} s"));
        // The failover notice resolves on its own, long after the drill.
        let waited = alert.resolved || alert.alert != AlertKind::Failover.name();
        format!(
            "fired {} ({seconds}), delivered {}, resolved {}: {}{error}",
            yes(Some(alert.fired)),
            yes(alert.delivered),
            yes(waited.then_some(alert.resolved)),
            alert.how,
        )
    } else {
        alert.how.clone()
    };
    format!("\n{:16}  {:28} {line}", "", alert.alert)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drill::Scenario;
    use crate::drill::report::tests::{alerts, baseline, capacity, pressure, recovery, throughput};
    use crate::drill::report::{Failed, ScenarioReport as S};

    /// Every kind of line; a figure the scenario does not have reads `-`.
    #[test]
    fn a_line_per_scenario_and_one_per_alert() {
        let mut evicting = pressure();
        evicting.exporter_evicted_keys = None;
        let report = Report {
            profile: "dev".into(),
            ok: false,
            scenarios: vec![
                S::Baseline(baseline()),
                S::Capacity(capacity()),
                S::Pressure(evicting),
                S::Recovery(recovery()),
                S::Throughput(throughput()),
                S::Alerts(alerts()),
                S::Failed(Failed::new(
                    Scenario::Capacity,
                    &crate::drill::Error::Interrupted,
                )),
            ],
            interrupted: true,
            restored: Vec::new(),
            drill_keys_removed: 0,
        };
        let expected = "\
SCENARIO    OK    RESULT
baseline    ok    120000 ops/s (Prometheus 118000, 1.6 % apart), p50 0.42 ms, p99 1.50 ms, \
max 7.25 ms, 0 errors
capacity    FAIL  2048 keys, 8500000 bytes at 80% of maxmemory; exporter 0.2 % from INFO; \
RedisMemoryPressure pending
pressure    ok    11534336 bytes written against 10485760 maxmemory: 300 evicted (exporter -), \
0 rejected; RedisBufferOverflow firing
recovery    ok    4096 acked, 4080 survived, 16 lost (0.02 s of writes), up again after 1.8 s
throughput  ok    118000 ops/s median, 110000 at the slowest second (threshold -); \
RedisLowThroughput inactive
alerts      ok    1 induced: 1 fired, 0 delivered, 1 resolved; 1 not induced
                  RedisDown                    fired yes (31 s), delivered -, resolved yes: \
stopped x
                  RedisPersistenceFailing      not induced: why
capacity    FAIL  interrupted
";
        assert_eq!(table(&report), expected);
    }
}
