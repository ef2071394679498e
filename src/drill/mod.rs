//! `stackgen drill`: the stack's own load and failure tests, run against the stack `up` runs.
//! This part holds what every scenario shares: which scenarios there are, what the load looks
//! like and the clock Prometheus stamps by. [`run`] is the engine (the scenarios in order, the
//! interrupt, the final restore), [`safety`] its rules (no prod-policy profile without
//! `--allow-prod`, no filling a Redis that holds other keys without `--allow-eviction`), [`site`]
//! where the running stack answers, [`report`] what comes out. The command only wires them up.

pub(crate) mod alerts;
pub(crate) mod baseline;
pub(crate) mod capacity;
pub(crate) mod chart;
pub(crate) mod claims;
pub(crate) mod error;
pub(crate) mod failover;
pub(crate) mod induce;
pub(crate) mod load;
pub(crate) mod notify;
pub(crate) mod order;
pub(crate) mod pressure;
pub(crate) mod prometheus;
pub(crate) mod quick;
pub(crate) mod recovery;
pub(crate) mod report;
pub(crate) mod route;
pub(crate) mod run;
pub(crate) mod safety;
pub(crate) mod site;
pub(crate) mod slo;
pub(crate) mod table;
pub(crate) mod throughput;
pub(crate) mod timeline;
pub(crate) mod timing;
pub(crate) mod undo;

use std::fmt;
use std::time::Duration;

use serde::Serialize;

pub(crate) use error::{Error, Result};

/// A drill scenario. The command line offers them, and runs them all, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    Baseline,
    Capacity,
    Pressure,
    Recovery,
    Throughput,
    Alerts,
    /// Only when named: it changes which node is the primary.
    Failover,
    /// Only when named: it burns an SLO's budget until its page reaches Slack.
    Slo,
}

impl Scenario {
    /// Every scenario the command line offers.
    pub const OFFERED: [Scenario; 8] = [
        Scenario::Baseline,
        Scenario::Capacity,
        Scenario::Pressure,
        Scenario::Recovery,
        Scenario::Throughput,
        Scenario::Alerts,
        Scenario::Failover,
        Scenario::Slo,
    ];

    /// The scenarios a drill runs when none is named, in the order they run: all but
    /// `failover`, which a managed Sentinel stack runs when asked, and `slo`.
    pub const ALL: &[Scenario] = Scenario::OFFERED.split_at(6).0;

    /// The name the command line and the report use.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Baseline => "baseline",
            Scenario::Capacity => "capacity",
            Scenario::Pressure => "pressure",
            Scenario::Recovery => "recovery",
            Scenario::Throughput => "throughput",
            Scenario::Alerts => "alerts",
            Scenario::Failover => "failover",
            Scenario::Slo => "slo",
        }
    }

    /// Whether it fills Redis towards `maxmemory`, where keys that are not the drill's could
    /// be evicted.
    pub(crate) fn fills(self) -> bool {
        matches!(self, Scenario::Capacity | Scenario::Pressure)
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the drill's load looks like, and what it may do.
#[derive(Debug, Clone)]
pub(crate) struct DrillOptions {
    /// How long each load runs.
    pub(crate) duration: Duration,
    /// How long `throughput` loads: longer than the others unless `--duration` says otherwise.
    pub(crate) sustained: Duration,
    pub(crate) shape: load::Shape,
    /// Fill Redis even when it holds keys that are not the drill's.
    pub(crate) allow_eviction: bool,
}

/// Now, in Unix seconds, as Prometheus stamps samples.
pub(crate) fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The report names each scenario as the command line does.
    #[test]
    fn a_scenario_serializes_as_its_name() {
        for &scenario in Scenario::OFFERED.iter() {
            let json = serde_json::to_string(&scenario).unwrap();
            assert_eq!(json, format!("\"{scenario}\""));
        }
        let fill: Vec<_> = Scenario::ALL
            .iter()
            .copied()
            .filter(|s| s.fills())
            .collect();
        assert_eq!(fill, [Scenario::Capacity, Scenario::Pressure]);
    }
}
