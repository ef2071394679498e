//! The alerts of replication and Sentinel. Each reads one primary's series, or aggregates
//! within a `replication_group`, never across groups: two groups side by side, each healthy,
//! raise nothing (the generated tests prove it). Metric names are those of redis_exporter from
//! 1.45 on; the newer exporters keep them.

use super::series::{Level, Samples, Series, constant, gauge, labelled, number};
use super::{Entry, HOUR, LOOKBACK, Labels, MINUTE, Subject};
use crate::alerts::GROUP_LABEL;

/// How long a failover stays noticed: the window in which a group's Sentinels named more than
/// one primary.
const FAILOVER_WINDOW: &str = "10m";
/// The replica the failover scenario promotes, as the Sentinels name it.
const PROMOTED: &str = "redis-replica-1:6379";
/// The primary before it.
const DEMOTED: &str = "redis:6379";
/// The name Sentinel knows a primary by, in the scenarios.
const MASTER_NAME: (&str, &str) = ("master_name", "redis");

/// The labels of one replica's series on its primary.
const REPLICA: [(&str, &str); 3] = [
    ("slave_ip", "10.0.0.2"),
    ("slave_port", "6379"),
    ("slave_state", "online"),
];

pub(super) fn replica_link_down() -> Entry {
    Entry {
        expr: "redis_master_link_up == 0".into(),
        summary: "Replica {{ $labels.instance }} lost its primary",
        description: "The replica {{ $labels.instance }} has no link to its primary: it \
                      serves stale data and would lose writes in a failover."
            .into(),
        subject: Subject::Redis,
        onset: 0,
        lookback: LOOKBACK,
        holds: None,
        series: gauge("redis_master_link_up", 0.0, 1.0),
    }
}

pub(super) fn replicas_lost() -> Entry {
    Entry {
        // A primary only: one Sentinel demoted has no replicas any more, and lost none.
        expr: "redis_connected_slaves < max_over_time(redis_connected_slaves[1h]) \
               and on (instance, job) redis_instance_info{role=\"master\"}"
            .into(),
        summary: "Primary {{ $labels.instance }} lost replicas",
        description: "The primary {{ $labels.instance }} has fewer replicas connected than \
                      it had within the last hour."
            .into(),
        subject: Subject::Redis,
        // Two replicas for ten minutes, then (bad) one.
        onset: 10 * MINUTE,
        lookback: HOUR,
        // The last sample of two replicas, at 9m, leaves the hour after 68m.
        holds: Some(58 * MINUTE),
        series: Box::new(|level, Samples { count: n, .. }, labels| {
            let values = level.pick(format!("2x9 1x{}", n - 11), constant(2, n));
            vec![
                Series {
                    series: labelled("redis_connected_slaves", &[], labels),
                    values,
                },
                primary(labels, n),
            ]
        }),
    }
}

pub(super) fn no_primary() -> Entry {
    let g = GROUP_LABEL;
    Entry {
        expr: format!(
            "count by ({g}) (redis_up{{{g}!=\"\",kind!=\"sentinel\"}}) unless on ({g}) \
             count by ({g}) (redis_instance_info{{role=\"master\",{g}!=\"\"}})"
        ),
        summary: "Replication group {{ $labels.replication_group }} has no primary",
        description: "No target of replication group {{ $labels.replication_group }} is a \
                      primary: writes to the group fail."
            .into(),
        subject: Subject::Group,
        onset: 0,
        lookback: LOOKBACK,
        holds: None,
        series: Box::new(|level, Samples { count: n, .. }, labels| {
            let role = level.pick("slave", "master");
            vec![
                Series {
                    series: labelled("redis_up", &[], labels),
                    values: constant(1, n),
                },
                with_role(role, labels, n),
            ]
        }),
    }
}

/// The target's role, as the exporter reports it.
pub(super) fn with_role(role: &str, labels: &Labels, n: u64) -> Series {
    Series {
        series: labelled("redis_instance_info", &[("role", role)], labels),
        values: constant(1, n),
    }
}

/// The target is a primary.
pub(super) fn primary(labels: &Labels, n: u64) -> Series {
    with_role("master", labels, n)
}

pub(super) fn replica_lag(threshold: f64) -> Entry {
    let t = number(threshold);
    Entry {
        expr: format!(
            "max without (slave_ip, slave_port, slave_state) \
             (redis_connected_slave_lag_seconds{{slave_state=\"online\"}}) > {t}"
        ),
        summary: "A replica of {{ $labels.instance }} lags",
        description: format!(
            "A replica of {{{{ $labels.instance }}}} last acknowledged the replication stream \
             more than {t} s ago: it serves stale reads, and a failover to it loses writes."
        ),
        subject: Subject::Redis,
        onset: 0,
        lookback: LOOKBACK,
        holds: None,
        series: Box::new(move |level, Samples { count: n, .. }, labels| {
            let lag = level.pick(1.1, 0.9) * threshold;
            vec![Series {
                series: labelled("redis_connected_slave_lag_seconds", &REPLICA, labels),
                values: constant(number(lag), n),
            }]
        }),
    }
}

pub(super) fn replica_lag_bytes(threshold: f64) -> Entry {
    let t = number(threshold * 1048576.0);
    Entry {
        // One primary's offset less each of its replicas': one series per primary.
        expr: format!(
            "max without (slave_ip, slave_port, slave_state) (redis_master_repl_offset \
             - on (instance, job) group_right \
             redis_connected_slave_offset_bytes{{slave_state=\"online\"}}) > {t}"
        ),
        summary: "A replica of {{ $labels.instance }} is behind",
        description: format!(
            "A replica of {{{{ $labels.instance }}}} is more than {} MiB of the replication \
             stream behind its primary.",
            number(threshold)
        ),
        subject: Subject::Redis,
        onset: 0,
        lookback: LOOKBACK,
        holds: None,
        series: Box::new(move |level, Samples { count: n, .. }, labels| {
            let behind = level.pick(1.1, 0.9) * threshold * 1048576.0;
            let primary_offset = 1e12;
            vec![
                Series {
                    series: labelled("redis_master_repl_offset", &[], labels),
                    values: constant(number(primary_offset), n),
                },
                Series {
                    series: labelled("redis_connected_slave_offset_bytes", &REPLICA, labels),
                    values: constant(number((primary_offset - behind).floor()), n),
                },
            ]
        }),
    }
}

pub(super) fn full_resyncs(threshold: f64) -> Entry {
    let t = number(threshold);
    Entry {
        // The count now less the count an hour ago, or since Redis started when that is
        // less than an hour: exact, where increase() would extrapolate a young series' first
        // syncs past the threshold. A restart within the hour (the counter back to 0) is
        // not counted as syncs.
        expr: format!(
            "redis_replica_resyncs_full - (redis_replica_resyncs_full offset 1h \
             or redis_replica_resyncs_full * 0) > {t}"
        ),
        summary: "Replicas of {{ $labels.instance }} keep resynchronizing in full",
        description: format!(
            "The primary {{{{ $labels.instance }}}} made more than {t} full \
             resynchronizations within the last hour: replicas drop off and copy the whole \
             dataset again (a replication backlog or output buffer too small, or a flapping \
             link)."
        ),
        subject: Subject::Redis,
        onset: 0,
        lookback: HOUR + LOOKBACK,
        // The count an hour ago appears at 60m, and the difference falls to 0.
        holds: Some(58 * MINUTE),
        series: Box::new(move |level, Samples { count: n, .. }, labels| {
            let count = level.pick(1.1, 0.9) * threshold;
            vec![Series {
                series: labelled("redis_replica_resyncs_full", &[], labels),
                values: constant(number(count), n),
            }]
        }),
    }
}

pub(super) fn split_brain() -> Entry {
    let g = GROUP_LABEL;
    Entry {
        expr: format!("count by ({g}) (redis_instance_info{{role=\"master\",{g}!=\"\"}}) > 1"),
        summary: "Replication group {{ $labels.replication_group }} has more than one primary",
        description: "More than one target of replication group \
                      {{ $labels.replication_group }} is a primary: writes split between \
                      them, and those to the one demoted next are lost."
            .into(),
        subject: Subject::Group,
        onset: 0,
        lookback: LOOKBACK,
        holds: None,
        series: Box::new(|level, Samples { count: n, .. }, labels| {
            let second = level.pick("master", "slave");
            vec![
                primary(labels, n),
                with_role(second, &member(labels, "b"), n),
            ]
        }),
    }
}

/// Another target of the same group as `labels`: its name suffixed.
fn member(labels: &Labels, suffix: &str) -> Labels {
    let mut labels = labels.clone();
    for name in ["instance", "target"] {
        if let Some(value) = labels.get_mut(name) {
            value.push('-');
            value.push_str(suffix);
        }
    }
    labels
}

pub(super) fn sentinel_down() -> Entry {
    Entry {
        expr: "redis_up{kind=\"sentinel\"} == 0".into(),
        summary: "Sentinel {{ $labels.instance }} is down",
        description: "The exporter cannot reach or log in to the Sentinel \
                      {{ $labels.instance }}: one fewer to agree on a failover."
            .into(),
        subject: Subject::Sentinel,
        onset: 0,
        lookback: LOOKBACK,
        holds: None,
        series: gauge("redis_up", 0.0, 1.0),
    }
}

pub(super) fn sentinel_tilt() -> Entry {
    Entry {
        // Tilt lasts 30 s: the window keeps a short one seen.
        expr: "max_over_time(redis_sentinel_tilt[5m]) == 1".into(),
        summary: "Sentinel {{ $labels.instance }} entered tilt mode",
        description: "The Sentinel {{ $labels.instance }} entered tilt mode within the last \
                      five minutes (its clock jumped, or it was paused or starved): it takes \
                      no action while in tilt."
            .into(),
        subject: Subject::Sentinel,
        onset: 0,
        lookback: LOOKBACK,
        holds: None,
        series: gauge("redis_sentinel_tilt", 1.0, 0.0),
    }
}

/// A replication group's state as its Sentinels report it: `metric` bad or good.
fn sentinel_view(metric: &'static str, extra: &'static [(&str, &str)]) -> super::Scenario {
    Box::new(move |level, Samples { count: n, .. }, labels| {
        let value = level.pick(0, 1);
        let mut pairs = vec![MASTER_NAME, ("master_address", DEMOTED)];
        pairs.extend_from_slice(extra);
        vec![Series {
            series: labelled(metric, &pairs, labels),
            values: constant(value, n),
        }]
    })
}

pub(super) fn quorum_lost() -> Entry {
    let g = GROUP_LABEL;
    Entry {
        // Each Sentinel says whether the Sentinels it sees can authorize a failover: lost
        // when none can.
        expr: format!("max by ({g}) (redis_sentinel_master_ckquorum_status{{{g}!=\"\"}}) == 0"),
        summary: "Sentinels of {{ $labels.replication_group }} cannot reach their quorum",
        description: "No Sentinel of replication group {{ $labels.replication_group }} sees \
                      enough Sentinels to authorize a failover: if its primary fails now, no \
                      replica is promoted."
            .into(),
        subject: Subject::SentinelGroup(&[]),
        onset: 0,
        lookback: LOOKBACK,
        holds: None,
        series: sentinel_view(
            "redis_sentinel_master_ckquorum_status",
            &[("message", "OK 3 usable Sentinels")],
        ),
    }
}

pub(super) fn primary_down() -> Entry {
    let g = GROUP_LABEL;
    Entry {
        expr: format!("max by ({g}) (redis_sentinel_master_status{{{g}!=\"\"}}) == 0"),
        summary: "Sentinels of {{ $labels.replication_group }} see its primary down",
        description: "No Sentinel of replication group {{ $labels.replication_group }} sees \
                      its primary ok (subjectively or objectively down), and none has promoted \
                      a replica in its place."
            .into(),
        subject: Subject::SentinelGroup(&[]),
        onset: 0,
        lookback: LOOKBACK,
        holds: None,
        series: sentinel_view("redis_sentinel_master_status", &[("master_status", "ok")]),
    }
}

pub(super) fn failover() -> Entry {
    let g = GROUP_LABEL;
    let status = format!("redis_sentinel_master_status{{{g}!=\"\"}}");
    Entry {
        // The primary's address as the Sentinels name it now, while they named more than one
        // within the window. The old address goes stale at the first scrape after the
        // failover; the notice resolves once it has left the window.
        expr: format!(
            "max by ({g}, master_address) ({status}) and on ({g}) \
             count by ({g}) (count by ({g}, master_address) \
             (last_over_time({status}[{FAILOVER_WINDOW}]))) > 1"
        ),
        summary: "Failover in {{ $labels.replication_group }}: \
                  {{ $labels.master_address }} is the primary now",
        description: "Sentinel promoted {{ $labels.master_address }} to primary of \
                      replication group {{ $labels.replication_group }} within the last ten \
                      minutes. Clients that follow Sentinel have moved; `stackgen status` shows \
                      every node's role."
            .into(),
        subject: Subject::SentinelGroup(&[("master_address", PROMOTED)]),
        // The promoted primary appears at the second sample.
        onset: 2 * MINUTE,
        lookback: 10 * MINUTE,
        // The old primary's last sample, at 1m, leaves the window after 11m.
        holds: Some(8 * MINUTE),
        series: Box::new(|level, Samples { count: n, .. }, labels| {
            let at = |address| {
                labelled(
                    "redis_sentinel_master_status",
                    &[MASTER_NAME, ("master_address", address)],
                    labels,
                )
            };
            if level == Level::Safe {
                return vec![Series {
                    series: at(DEMOTED),
                    values: constant(1, n),
                }];
            }
            vec![
                Series {
                    series: at(DEMOTED),
                    values: "1 1 stale".into(),
                },
                Series {
                    series: at(PROMOTED),
                    values: format!("_ _ {}", constant(1, n - 2)),
                },
            ]
        }),
    }
}
