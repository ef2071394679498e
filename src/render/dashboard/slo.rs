//! A row per `[[slo]]`: its SLI against the objective, the error budget left, and the burn
//! rates its alerts judge, from the recording rules `render::slo` writes.

use super::{CHOSEN, Grid, Kind, Panel, Target};
use crate::alerts::promql::number;
use crate::model::Stack;
use crate::model::raw::{SliKind, SloScope};
use crate::model::stack::Slo;
use crate::render::slo::{REMAINING, ratio, spelled};

/// The long windows of the burn-rate alerts, fastest first.
const BURN_WINDOWS: [&str; 4] = ["1h", "6h", "1d", "3d"];

/// The panels of every SLO, numbered from `id`, placed from `y` down.
pub(super) fn panels(stack: &Stack, mut id: u32, mut y: u32) -> Vec<Panel> {
    let mut panels = Vec::new();
    for slo in &stack.slos {
        let mut next = |panel: Panel| {
            panels.push(Panel { id, ..panel });
            id += 1;
        };
        next(row(slo, y));
        for (i, panel) in [sli(slo), budget(slo), burn(slo)].into_iter().enumerate() {
            let grid = Grid {
                x: i as u32 * 8,
                y: y + 1,
                w: 8,
                h: 8,
            };
            next(Panel { grid, ..panel });
        }
        y += 9;
    }
    panels
}

/// The selector of an SLO's series: its name, and the chosen targets when it is per target
/// (a replication group's series have no `target`).
fn selector(slo: &Slo) -> String {
    match slo.per {
        SloScope::Target => format!("{{slo=\"{}\", {CHOSEN}}}", slo.name),
        SloScope::ReplicationGroup => format!("{{slo=\"{}\"}}", slo.name),
    }
}

/// What a series of the SLO is about, in a legend.
fn subject(slo: &Slo) -> &'static str {
    match slo.per {
        SloScope::Target => "{{target}}",
        SloScope::ReplicationGroup => "{{replication_group}}",
    }
}

fn target(ref_id: usize, expr: String, legend: String) -> Target {
    Target {
        ref_id: char::from(b'A' + ref_id as u8).to_string(),
        expr,
        legend,
        instant: false,
    }
}

fn panel(title: String, description: String, kind: Kind, unit: &'static str) -> Panel {
    Panel {
        id: 0,
        title,
        description,
        kind: kind.as_str(),
        unit,
        targets: Vec::new(),
        grid: Grid {
            x: 0,
            y: 0,
            w: 24,
            h: 1,
        },
    }
}

fn row(slo: &Slo, y: u32) -> Panel {
    let title = format!("SLO {}", slo.name);
    let grid = Grid {
        x: 0,
        y,
        w: 24,
        h: 1,
    };
    Panel {
        grid,
        ..panel(title, String::new(), Kind::Row, "none")
    }
}

fn sli(slo: &Slo) -> Panel {
    let sel = selector(slo);
    let window = spelled(slo.window);
    let good = match slo.sli {
        SliKind::Availability => "scrapes (Redis up)",
        SliKind::Errors => "commands (neither failed nor rejected)",
        SliKind::Latency => "evaluations (average latency under the threshold)",
    };
    let description = format!(
        "The share of good {good} over the last 5 minutes and over the SLO's {window}; the \
         objective is {}%.",
        number(slo.objective)
    );
    let targets = vec![
        target(
            0,
            format!("1 - {}{sel}", ratio("5m")),
            format!("{} 5m", subject(slo)),
        ),
        target(
            1,
            format!("1 - {}{sel}", ratio(&window)),
            format!("{} {window}", subject(slo)),
        ),
    ];
    Panel {
        targets,
        ..panel(
            format!("SLO {} · SLI", slo.name),
            description,
            Kind::Timeseries,
            "percentunit",
        )
    }
}

fn budget(slo: &Slo) -> Panel {
    let description = format!(
        "The share of the error budget ({}% of the {}) not yet spent.",
        number(slo.budget() * 100.0),
        spelled(slo.window)
    );
    let expr = format!("{REMAINING}{}", selector(slo));
    Panel {
        targets: vec![target(0, expr, subject(slo).into())],
        ..panel(
            format!("SLO {} · error budget remaining", slo.name),
            description,
            Kind::Timeseries,
            "percentunit",
        )
    }
}

fn burn(slo: &Slo) -> Panel {
    let sel = selector(slo);
    let budget = number(slo.budget());
    let targets = (BURN_WINDOWS.iter().enumerate())
        .map(|(i, w)| {
            let expr = format!("{}{sel} / {budget}", ratio(w));
            target(i, expr, format!("{} {w}", subject(slo)))
        })
        .collect();
    Panel {
        targets,
        ..panel(
            format!("SLO {} · burn rate", slo.name),
            "How many times faster than the window allows the budget burns, over each long \
             window of the burn-rate alerts: they page at 14.4× (1h) and 6× (6h), make a \
             ticket at 3× (1d) and 1× (3d)."
                .into(),
            Kind::Timeseries,
            "none",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::panels as all_panels;

    #[test]
    fn each_slo_has_its_row_below_the_rest_with_no_panel_over_another() {
        let text = "[stack]\nname = \"t\"\n[[targets]]\nname = \"a\"\naddress = \"redis://a\"\n\
                    labels = { replication_group = \"g\" }\n\
                    [[slo]]\nname = \"up\"\nobjective = 99.9\nsli = \"availability\"\n\
                    [[slo]]\nname = \"errs\"\nobjective = 99.5\nsli = \"errors\"\n\
                    per = \"replication_group\"\n";
        let stack = crate::model::resolve::tests::from_text(text).unwrap();
        let panels = all_panels(&stack);
        let rows: Vec<_> = panels.iter().filter(|p| p.kind == "row").collect();
        assert_eq!(
            rows.iter().map(|p| p.title.as_str()).collect::<Vec<_>>(),
            ["SLO up", "SLO errs"]
        );
        let first_row = rows[0].grid.y;
        let others = panels.iter().filter(|p| !p.title.starts_with("SLO "));
        assert!(others.into_iter().all(|p| p.grid.y + p.grid.h <= first_row));
        // Ids are unique, and no two panels share a cell of the grid.
        let mut cells = std::collections::BTreeSet::new();
        for (i, p) in panels.iter().enumerate() {
            assert_eq!(p.id, i as u32 + 1);
            for x in p.grid.x..p.grid.x + p.grid.w {
                for y in p.grid.y..p.grid.y + p.grid.h {
                    assert!(cells.insert((x, y)), "{} overlaps at {x},{y}", p.title);
                }
            }
        }
        let exprs = |title: &str| -> Vec<String> {
            let panel = panels.iter().find(|p| p.title == title).unwrap();
            panel.targets.iter().map(|t| t.expr.clone()).collect()
        };
        // Per target, the chosen targets; per replication group (no `target` label), all.
        assert_eq!(
            exprs("SLO up · error budget remaining"),
            ["slo:error_budget:remaining{slo=\"up\", target=~\"$target\"}"]
        );
        assert_eq!(
            exprs("SLO errs · burn rate")[0],
            "slo:sli_error:ratio_rate1h{slo=\"errs\"} / 0.005"
        );
        assert_eq!(
            exprs("SLO up · SLI"),
            [
                "1 - slo:sli_error:ratio_rate5m{slo=\"up\", target=~\"$target\"}",
                "1 - slo:sli_error:ratio_rate30d{slo=\"up\", target=~\"$target\"}"
            ]
        );
    }
}
