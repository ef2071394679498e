//! Which alerts the alerts scenario induces, in what order, and which together; the others it
//! lists, each with the reason (`alerts/listed.rs`).
//!
//! Alerts whose causes do not touch each other are induced together, in lanes: within a lane,
//! one after another. The memory lane holds what `maxmemory` and the drill's fill decide (a
//! fill past the threshold, then past `maxmemory`, then no `maxmemory` at all); the clients
//! lane holds error replies and `maxclients` (lowered for a moment, then held near its
//! threshold with room for the other lane's connections and the exporter's). Neither stops
//! anything. The outages stop what every other alert needs — the exporter that scrapes
//! Redis, Redis itself, the Alertmanager that delivers — and each is induced alone, after the
//! lanes. The rate alerts come last, once the steady load that keeps the rate up stops.

use crate::alerts::AlertKind;

/// The lanes induced together, each one alert after another, in this order.
pub(crate) const LANES: [&[AlertKind]; 2] = [
    &[
        AlertKind::MemoryPressure,
        AlertKind::BufferOverflow,
        AlertKind::NoMaxmemory,
    ],
    &[
        AlertKind::HighErrorRate,
        AlertKind::RejectedConnections,
        AlertKind::TooManyConnections,
    ],
];

/// The outages, induced alone one after another once the lanes are done.
pub(crate) const OUTAGES: [AlertKind; 3] = [
    AlertKind::ExporterDown,
    AlertKind::RedisDown,
    AlertKind::AlertmanagerDown,
];

/// The alerts induced last, once the steady load stops.
pub(crate) const LAST: [AlertKind; 2] = [AlertKind::LowThroughput, AlertKind::HighLatency];

/// Whether the alerts scenario induces this alert.
pub(crate) fn induced(kind: AlertKind) -> bool {
    LANES.iter().any(|lane| lane.contains(&kind)) || OUTAGES.contains(&kind) || LAST.contains(&kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every alert the drill induces is in exactly one place, and the lanes hold no outage.
    #[test]
    fn each_induced_alert_has_one_place() {
        let mut all: Vec<AlertKind> = LANES.iter().flat_map(|lane| lane.iter().copied()).collect();
        all.extend(OUTAGES);
        all.extend(LAST);
        let mut unique = all.clone();
        unique.sort_by_key(|kind| kind.name());
        unique.dedup();
        assert_eq!(unique.len(), all.len(), "{all:?}");
        assert_eq!(all.len(), 11);
        for kind in AlertKind::ALL {
            assert_eq!(induced(*kind), all.contains(kind), "{kind:?}");
        }
    }
}
