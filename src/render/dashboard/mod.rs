//! The Redis dashboard's panels: every metric an operator of a write buffer looks at, laid
//! out on Grafana's grid. The dashboard template lays these out; it does not invent them.

use serde::Serialize;

use crate::alerts::GROUP_LABEL;
use crate::model::Stack;
use crate::model::raw::TargetKind;

mod slo;

/// A dashboard panel and its queries.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Panel {
    pub id: u32,
    pub title: String,
    pub description: String,
    pub kind: &'static str,
    pub unit: &'static str,
    pub targets: Vec<Target>,
    pub grid: Grid,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Target {
    pub ref_id: String,
    pub expr: String,
    pub legend: String,
    /// One value per series now, as a table row (the fleet overview).
    pub instant: bool,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Grid {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// A panel as the table below declares it.
struct PanelSpec {
    title: &'static str,
    kind: Kind,
    unit: &'static str,
    description: &'static str,
    queries: &'static [Query],
}

struct Query {
    expr: &'static str,
    legend: &'static str,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A single number, in the top row.
    Stat,
    /// A graph, two to a row below.
    Timeseries,
    /// A table across the top: one row per target.
    Table,
    /// A row's title across the dashboard, above its panels.
    Row,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Stat => "stat",
            Self::Timeseries => "timeseries",
            Self::Table => "table",
            Self::Row => "row",
        }
    }
}

/// The selector every query carries: the targets chosen in the dashboard's `target` variable.
pub(super) const CHOSEN: &str = "target=~\"$target\"";

/// The Redis dashboard: a fleet overview, then every metric an operator of a write buffer
/// looks at, per target. `{T}` in a query stands for the chosen targets' selector (`{T, …}`
/// for it and more matchers).
const PANELS: &[PanelSpec] = &[
    PanelSpec {
        title: "Fleet overview",
        kind: Kind::Table,
        unit: "none",
        description: "Every chosen target: up, commands per second, memory in percent of \
                      maxmemory (empty without maxmemory), evictions per second.",
        queries: &[
            Query {
                expr: "max by (target) (redis_up{T})",
                legend: "up",
            },
            Query {
                expr: "sum by (target) (rate(redis_commands_processed_total{T}[$__rate_interval]))",
                legend: "ops/s",
            },
            Query {
                expr: "max by (target) \
                       (redis_memory_used_bytes{T} / (redis_memory_max_bytes{T} > 0) * 100)",
                legend: "memory %",
            },
            Query {
                expr: "sum by (target) (rate(redis_evicted_keys_total{T}[$__rate_interval]))",
                legend: "evictions/s",
            },
        ],
    },
    PanelSpec {
        title: "Redis up",
        kind: Kind::Stat,
        unit: "none",
        description: "1 when redis_exporter reaches Redis.",
        queries: &[Query {
            expr: "redis_up{T}",
            legend: "{{instance}}",
        }],
    },
    PanelSpec {
        title: "Connected clients",
        kind: Kind::Stat,
        unit: "none",
        description: "Clients connected now.",
        queries: &[Query {
            expr: "redis_connected_clients{T}",
            legend: "{{instance}}",
        }],
    },
    PanelSpec {
        title: "Total keys",
        kind: Kind::Stat,
        unit: "none",
        description: "Keys across all databases.",
        queries: &[Query {
            expr: "sum by (instance) (redis_db_keys{T})",
            legend: "{{instance}}",
        }],
    },
    PanelSpec {
        title: "Memory fragmentation",
        kind: Kind::Stat,
        unit: "none",
        description: "RSS divided by used memory; far above 1 wastes memory.",
        queries: &[Query {
            expr: "redis_mem_fragmentation_ratio{T}",
            legend: "{{instance}}",
        }],
    },
    PanelSpec {
        title: "Commands per second",
        kind: Kind::Timeseries,
        unit: "ops",
        description: "Commands processed per second.",
        queries: &[Query {
            expr: "sum by (instance) (rate(redis_commands_processed_total{T}[$__rate_interval]))",
            legend: "{{instance}}",
        }],
    },
    PanelSpec {
        title: "Memory used vs maxmemory",
        kind: Kind::Timeseries,
        unit: "bytes",
        description: "Used memory against the maxmemory limit.",
        queries: &[
            Query {
                expr: "redis_memory_used_bytes{T}",
                legend: "used {{instance}}",
            },
            Query {
                expr: "redis_memory_max_bytes{T}",
                legend: "maxmemory {{instance}}",
            },
        ],
    },
    PanelSpec {
        title: "Command latency",
        kind: Kind::Timeseries,
        unit: "ms",
        description: "Average command latency.",
        queries: &[Query {
            expr: "sum by (instance) \
                       (rate(redis_commands_duration_seconds_total{T}[$__rate_interval])) \
                       / sum by (instance) \
                       (rate(redis_commands_processed_total{T}[$__rate_interval])) * 1000",
            legend: "{{instance}}",
        }],
    },
    PanelSpec {
        title: "Error replies per second",
        kind: Kind::Timeseries,
        unit: "ops",
        description: "Error replies sent to clients per second.",
        queries: &[Query {
            expr: "sum by (instance) (rate(redis_total_error_replies{T}[$__rate_interval]))",
            legend: "{{instance}}",
        }],
    },
    PanelSpec {
        title: "Evicted keys per second",
        kind: Kind::Timeseries,
        unit: "ops",
        description: "Keys evicted to stay under maxmemory.",
        queries: &[Query {
            expr: "sum by (instance) (rate(redis_evicted_keys_total{T}[$__rate_interval]))",
            legend: "{{instance}}",
        }],
    },
    PanelSpec {
        title: "Rejected connections per second",
        kind: Kind::Timeseries,
        unit: "ops",
        description: "Connections refused, usually at maxclients.",
        queries: &[Query {
            expr: "sum by (instance) (rate(redis_rejected_connections_total{T}[$__rate_interval]))",
            legend: "{{instance}}",
        }],
    },
];

/// The topology row, on a stack with replicas or Sentinels: roles, replication lag, full
/// resyncs, and the primary and quorum as the Sentinels see them.
const TOPOLOGY: &[PanelSpec] = &[
    PanelSpec {
        title: "Topology · roles",
        kind: Kind::Timeseries,
        unit: "none",
        description: "Each node's role as it reports it now: a failover shows as a target \
                      changing role.",
        queries: &[Query {
            expr: "max by (target, role) (redis_instance_info{T, role!=\"\"})",
            legend: "{{target}}: {{role}}",
        }],
    },
    PanelSpec {
        title: "Topology · replica lag",
        kind: Kind::Timeseries,
        unit: "s",
        description: "Seconds since each primary's slowest replica acknowledged the stream.",
        queries: &[Query {
            expr: "max by (instance) (redis_connected_slave_lag_seconds{T})",
            legend: "{{instance}}",
        }],
    },
    PanelSpec {
        title: "Topology · replica lag in bytes",
        kind: Kind::Timeseries,
        unit: "bytes",
        description: "How far each primary's slowest replica is behind in the replication \
                      stream.",
        queries: &[Query {
            expr: "max by (instance) (redis_master_repl_offset{T} - on (instance, job) \
                   group_right redis_connected_slave_offset_bytes{T})",
            legend: "{{instance}}",
        }],
    },
    PanelSpec {
        title: "Topology · full resyncs",
        kind: Kind::Timeseries,
        unit: "none",
        description: "Full resynchronizations each primary made: replicas copying the whole \
                      dataset again.",
        queries: &[Query {
            expr: "sum by (instance) (increase(redis_replica_resyncs_full{T}[$__rate_interval]))",
            legend: "{{instance}}",
        }],
    },
    PanelSpec {
        title: "Topology · primary as Sentinel sees it",
        kind: Kind::Timeseries,
        unit: "none",
        description: "Per replication group, the primary its Sentinels name (1 while they \
                      see it ok): a failover shows as a new address.",
        queries: &[Query {
            expr: "max by (replication_group, master_address) \
                   (redis_sentinel_master_status{T})",
            legend: "{{replication_group}}: {{master_address}}",
        }],
    },
    PanelSpec {
        title: "Topology · Sentinel quorum",
        kind: Kind::Timeseries,
        unit: "none",
        description: "Per replication group, the fewest Sentinels any of them sees working, \
                      and whether one can reach the quorum that authorizes a failover (1).",
        queries: &[
            Query {
                expr: "min by (replication_group) (redis_sentinel_master_ok_sentinels{T})",
                legend: "{{replication_group}}: Sentinels ok",
            },
            Query {
                expr: "max by (replication_group) \
                       (redis_sentinel_master_ckquorum_status{T})",
                legend: "{{replication_group}}: quorum reachable",
            },
        ],
    },
];

/// The dashboard's panels, placed: the fleet table across the top, stats in a row of four
/// below it, graphs two to a row below those, the topology's when the stack has one, and a row
/// per SLO last.
pub(crate) fn panels(stack: &Stack) -> Vec<Panel> {
    let (mut stats, mut graphs) = (0, 0);
    let top = if PANELS.iter().any(|p| p.kind == Kind::Table) {
        8
    } else {
        0
    };
    let topology = stack
        .targets
        .iter()
        .any(|t| t.labels.contains_key(GROUP_LABEL) || t.kind == TargetKind::Sentinel);
    let specs = PANELS.iter().chain(TOPOLOGY.iter().filter(|_| topology));
    let mut panels: Vec<Panel> = specs
        .enumerate()
        .map(|(i, spec)| {
            let grid = match spec.kind {
                Kind::Table => Grid {
                    x: 0,
                    y: 0,
                    w: 24,
                    h: 8,
                },
                Kind::Stat => {
                    stats += 1;
                    Grid {
                        x: (stats - 1) * 6,
                        y: top,
                        w: 6,
                        h: 4,
                    }
                }
                Kind::Row => unreachable!("the tables above declare no row"),
                Kind::Timeseries => {
                    graphs += 1;
                    Grid {
                        x: ((graphs - 1) % 2) * 12,
                        y: top + 4 + ((graphs - 1) / 2) * 8,
                        w: 12,
                        h: 8,
                    }
                }
            };
            Panel {
                id: i as u32 + 1,
                title: spec.title.into(),
                description: spec.description.into(),
                kind: spec.kind.as_str(),
                unit: spec.unit,
                targets: spec
                    .queries
                    .iter()
                    .enumerate()
                    .map(|(j, query)| Target {
                        ref_id: char::from(b'A' + j as u8).to_string(),
                        expr: (query.expr.replace("{T}", &format!("{{{CHOSEN}}}")))
                            .replace("{T, ", &format!("{{{CHOSEN}, ")),
                        legend: query.legend.into(),
                        instant: spec.kind == Kind::Table,
                    })
                    .collect(),
                grid,
            }
        })
        .collect();
    let bottom = panels
        .iter()
        .map(|p| p.grid.y + p.grid.h)
        .max()
        .unwrap_or(0);
    panels.extend(slo::panels(stack, panels.len() as u32 + 1, bottom));
    panels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_is_filtered_by_the_chosen_targets() {
        let text =
            "[stack]\nname = \"t\"\n[redis]\nreplicas = 1\n[redis.sentinel]\nenabled = true\n";
        let stack = crate::model::resolve::tests::from_text(text).unwrap();
        let all = panels(&stack);
        assert_eq!(all.len(), PANELS.len() + TOPOLOGY.len());
        for panel in all {
            for target in &panel.targets {
                assert!(!target.expr.contains("{T}"), "{}", target.expr);
                let selectors = target.expr.matches("redis_").count();
                let chosen = target.expr.matches(CHOSEN).count();
                assert_eq!(selectors, chosen, "{}: {}", panel.title, target.expr);
            }
        }
    }
}
