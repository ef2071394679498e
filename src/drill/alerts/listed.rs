//! The alerts the drill lists without inducing them, each with the reason.

use super::Setting;
use crate::alerts::AlertKind;

/// Alerts that are never induced, and why.
pub(super) fn not_inducible(setting: &Setting) -> Option<String> {
    let why = match setting.kind {
        AlertKind::PersistenceFailing => {
            "not induced: it needs a failing disk or a refused fork, which cannot be made \
             safely on a running Redis"
                .to_string()
        }
        AlertKind::ReplicaLinkDown
        | AlertKind::ReplicasLost
        | AlertKind::NoPrimary
        | AlertKind::ReplicaLag
        | AlertKind::ReplicaLagBytes
        | AlertKind::FullResyncs
        | AlertKind::SplitBrain => "not induced: it needs replication cut, slowed or split, or a \
                                    primary demoted, which the drill never does to a running \
                                    Redis"
            .to_string(),
        AlertKind::SentinelDown
        | AlertKind::SentinelTilt
        | AlertKind::SentinelQuorumLost
        | AlertKind::SentinelPrimaryDown
        | AlertKind::Failover => "not induced: it needs Sentinels stopped or a failover, which \
                                  the alerts scenario never does"
            .to_string(),
        AlertKind::ClusterDown
        | AlertKind::ClusterSlotsFailing
        | AlertKind::ClusterSlotsUnassigned
        | AlertKind::ClusterNodeMissing => "not induced: the drill loads the managed Redis, \
                                            and never touches a Redis Cluster it monitors"
            .to_string(),
        AlertKind::TailLatency => "not induced: Redis' percentiles count from its start, so \
                                   slow commands would keep it firing after the drill"
            .to_string(),
        AlertKind::SlowFork
        | AlertKind::Fragmentation
        | AlertKind::MemoryForecast
        | AlertKind::AofRewriteSlow => "not induced: it needs gigabytes of data, or hours of \
                                        growth, on the drill's Redis"
            .to_string(),
        AlertKind::SlowlogGrowing | AlertKind::LowHitRatio | AlertKind::BlockedClients => {
            "not induced: it needs its cause held for ten minutes or more".to_string()
        }
        AlertKind::LastSaveTooOld => format!(
            "not induced: it needs {} hours of changes without a save",
            setting.threshold.unwrap_or_default()
        ),
        _ => return None,
    };
    Some(why)
}
