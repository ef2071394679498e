//! Which alerts the alerts scenario induces, and in what order; the others it lists, each with
//! the reason (`alerts/listed.rs`).

use crate::alerts::AlertKind;

/// The alerts induced one after another, in this order.
pub(crate) const ORDER: [AlertKind; 9] = [
    AlertKind::BufferOverflow,
    AlertKind::MemoryPressure,
    AlertKind::HighErrorRate,
    AlertKind::RejectedConnections,
    AlertKind::TooManyConnections,
    AlertKind::NoMaxmemory,
    AlertKind::ExporterDown,
    AlertKind::RedisDown,
    AlertKind::AlertmanagerDown,
];

/// The alerts induced last, once the steady load stops.
pub(crate) const LAST: [AlertKind; 2] = [AlertKind::LowThroughput, AlertKind::HighLatency];

/// Whether the alerts scenario induces this alert.
pub(crate) fn induced(kind: AlertKind) -> bool {
    ORDER.contains(&kind) || LAST.contains(&kind)
}
