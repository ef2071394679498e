//! `--report FILE.svg`: the run as one SVG chart — ops/s; used memory against `maxmemory` and
//! the memory threshold; and a lane per alert that left `inactive`, pending in amber, firing
//! in red, a green tick where it resolved. Scenarios are marked along the time axis.

use std::fmt::Write;

use super::timeline::Timeline;

const WIDTH: f64 = 960.0;
const LEFT: f64 = 190.0;
const RIGHT: f64 = 20.0;
const PANEL: f64 = 150.0;
const LANE: f64 = 18.0;
/// About the width of a character of the 12px labels.
const CHAR_WIDTH: f64 = 7.0;

/// A line over time: `(seconds, value)`, no value where there was none.
type Series = Vec<(f64, Option<f64>)>;

pub fn svg(timeline: &Timeline, title: &str) -> String {
    let end = timeline.points.last().map_or(1.0, |p| p.t).max(
        timeline
            .alerts
            .values()
            .flatten()
            .map(|(t, _)| *t)
            .fold(1.0, f64::max),
    );
    let x = |t: f64| LEFT + (t / end) * (WIDTH - LEFT - RIGHT);
    let lanes: Vec<_> = timeline
        .alerts
        .iter()
        .filter(|(_, states)| states.iter().any(|(_, s)| s != "inactive"))
        .collect();
    let ops_top = 108.0;
    let memory_top = ops_top + PANEL + 40.0;
    let lanes_top = memory_top + PANEL + 40.0;
    let axis_y = lanes_top + LANE * lanes.len() as f64 + 10.0;
    let height = axis_y + 40.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{LEFT}" y="24" font-size="16" font-weight="bold">{}</text>"#,
        escape(title)
    );
    // Scenario marks across every panel, each name on the first of five rows where it does not
    // run into the name before it (short scenarios sit close together).
    let mut row_ends = [f64::MIN; 5];
    for (t, name) in &timeline.marks {
        let mx = x(*t);
        let row = (0..row_ends.len())
            .find(|&r| row_ends[r] < mx)
            .unwrap_or_else(|| {
                (0..row_ends.len())
                    .min_by(|&a, &b| row_ends[a].total_cmp(&row_ends[b]))
                    .unwrap_or_default()
            });
        row_ends[row] = mx + 3.0 + CHAR_WIDTH * name.chars().count() as f64 + 4.0;
        let ty = ops_top - 68.0 + 12.0 * row as f64;
        let _ = writeln!(
            svg,
            r##"<line x1="{mx:.1}" y1="{:.1}" x2="{mx:.1}" y2="{axis_y}" stroke="#999" stroke-dasharray="2,3"/><text x="{:.1}" y="{ty:.1}" fill="#555">{}</text>"##,
            ty - 10.0,
            mx + 3.0,
            escape(name)
        );
    }
    let ops: Series = timeline
        .points
        .iter()
        .map(|p| (p.t, p.ops_per_sec))
        .collect();
    let ops_max = nice(ops.iter().filter_map(|(_, v)| *v).fold(1.0, f64::max));
    panel(
        &mut svg,
        ops_top,
        "ops/s",
        ops_max,
        &x,
        &[(&ops, "#1f77b4", "")],
    );
    memory_panel(&mut svg, timeline, memory_top, &x);
    alert_lanes(&mut svg, &lanes, lanes_top, end, &x);
    let _ = writeln!(
        svg,
        r##"<text x="{LEFT}" y="{}" fill="#333">alerts: pending (amber), firing (red), resolved (green)</text>"##,
        lanes_top - 6.0
    );
    axis(&mut svg, axis_y, end, &x);
    svg.push_str("</svg>\n");
    svg
}

/// Used memory against `maxmemory` and the memory threshold.
fn memory_panel(svg: &mut String, timeline: &Timeline, memory_top: f64, x: &dyn Fn(f64) -> f64) {
    let used: Series = timeline
        .points
        .iter()
        .map(|p| (p.t, p.used_memory))
        .collect();
    let max: Series = timeline
        .points
        .iter()
        .map(|p| (p.t, p.maxmemory.filter(|m| *m > 0.0)))
        .collect();
    let threshold: Series = match timeline.memory_threshold_percent {
        Some(percent) => max
            .iter()
            .map(|(t, m)| (*t, m.map(|m| m * percent / 100.0)))
            .collect(),
        None => Vec::new(),
    };
    let memory_max = nice(
        used.iter()
            .chain(&max)
            .filter_map(|(_, v)| *v)
            .fold(1.0, f64::max),
    );
    panel(
        svg,
        memory_top,
        "used memory (MiB)",
        memory_max,
        x,
        &[
            (&used, "#2ca02c", ""),
            (&max, "#333", "6,4"),
            (&threshold, "#ff7f0e", "2,3"),
        ],
    );
    let _ = writeln!(
        svg,
        r##"<text x="{}" y="{}" fill="#333">maxmemory - - -   threshold · · ·</text>"##,
        WIDTH - RIGHT - 230.0,
        memory_top - 6.0
    );
}

/// A lane per alert: pending in amber, firing in red, a green tick where firing resolved.
fn alert_lanes(
    svg: &mut String,
    lanes: &[(&String, &super::timeline::States)],
    lanes_top: f64,
    end: f64,
    x: &dyn Fn(f64) -> f64,
) {
    for (lane, (name, states)) in lanes.iter().enumerate() {
        let y = lanes_top + LANE * lane as f64;
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 8.0,
            y + LANE - 5.0,
            escape(name)
        );
        for (i, (t, state)) in states.iter().enumerate() {
            let until = states.get(i + 1).map_or(end, |(t, _)| *t);
            let color = match state.as_str() {
                "pending" => "#f0ad4e",
                "firing" => "#d9534f",
                _ => continue,
            };
            let _ = writeln!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{}" fill="{color}"><title>{} {state}</title></rect>"#,
                x(*t),
                y + 2.0,
                (x(until) - x(*t)).max(1.0),
                LANE - 4.0,
                escape(name)
            );
            if state == "firing" && states.get(i + 1).is_some_and(|(_, s)| s == "inactive") {
                let _ = writeln!(
                    svg,
                    r##"<rect x="{:.1}" y="{:.1}" width="3" height="{}" fill="#5cb85c"><title>{} resolved</title></rect>"##,
                    x(until),
                    y + 2.0,
                    LANE - 4.0,
                    escape(name)
                );
            }
        }
    }
}

/// A panel of lines `(points, colour, dash)` scaled to `top_value`.
fn panel(
    svg: &mut String,
    top: f64,
    label: &str,
    top_value: f64,
    x: &dyn Fn(f64) -> f64,
    lines: &[(&Series, &str, &str)],
) {
    let mib = label.contains("MiB");
    let y = |v: f64| top + PANEL - (v / top_value) * PANEL;
    let _ = writeln!(
        svg,
        r##"<rect x="{LEFT}" y="{top}" width="{}" height="{PANEL}" fill="none" stroke="#ccc"/><text x="{LEFT}" y="{}" fill="#333">{label}</text>"##,
        WIDTH - LEFT - RIGHT,
        top - 6.0
    );
    for fraction in [0.0, 0.5, 1.0] {
        let value = top_value * fraction;
        let shown = if mib { value / 1048576.0 } else { value };
        let _ = writeln!(
            svg,
            r##"<text x="{}" y="{:.1}" text-anchor="end" fill="#555">{}</text>"##,
            LEFT - 8.0,
            y(value) + 4.0,
            human(shown)
        );
    }
    for (points, color, dash) in lines {
        // A line per stretch of known values: gaps where Redis did not answer.
        let mut path = String::new();
        let mut pen_down = false;
        for (t, value) in points.iter() {
            match value {
                Some(v) => {
                    let _ = write!(
                        path,
                        "{}{:.1},{:.1} ",
                        if pen_down { "L" } else { "M" },
                        x(*t),
                        y(*v)
                    );
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        if !path.is_empty() {
            let _ = writeln!(
                svg,
                r#"<path d="{}" fill="none" stroke="{color}" stroke-width="1.5" stroke-dasharray="{dash}"/>"#,
                path.trim_end()
            );
        }
    }
}

/// The time axis, in seconds since the drill started.
fn axis(svg: &mut String, y: f64, end: f64, x: &dyn Fn(f64) -> f64) {
    let step = nice(end / 8.0);
    let _ = writeln!(
        svg,
        r##"<line x1="{LEFT}" y1="{y}" x2="{}" y2="{y}" stroke="#333"/>"##,
        WIDTH - RIGHT
    );
    let mut t = 0.0;
    while t <= end {
        let _ = writeln!(
            svg,
            r##"<line x1="{0:.1}" y1="{y}" x2="{0:.1}" y2="{1}" stroke="#333"/><text x="{0:.1}" y="{2}" text-anchor="middle">{3}s</text>"##,
            x(t),
            y + 4.0,
            y + 18.0,
            t
        );
        t += step;
    }
}

/// The smallest of 1, 2, 5 × 10ⁿ at or above `value`.
fn nice(value: f64) -> f64 {
    let magnitude = 10f64.powf(value.max(1e-9).log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|v| *v >= value)
        .unwrap_or(10.0 * magnitude)
}

fn human(value: f64) -> String {
    if value >= 1e6 {
        format!("{:.1}M", value / 1e6)
    } else if value >= 1e3 {
        format!("{:.0}k", value / 1e3)
    } else {
        format!("{value:.0}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::super::timeline::Point;
    use super::*;

    #[test]
    fn the_chart_has_the_lines_the_lanes_and_the_marks() {
        let mut timeline = Timeline {
            memory_threshold_percent: Some(90.0),
            ..Timeline::default()
        };
        for t in 0..10 {
            timeline.points.push(Point {
                t: f64::from(t),
                ops_per_sec: (t != 4).then_some(1000.0 * f64::from(t)),
                used_memory: Some(1e6 * f64::from(t)),
                maxmemory: Some(2e7),
            });
        }
        timeline.marks.push((0.0, "baseline".into()));
        timeline.alerts.insert(
            "RedisDown".into(),
            vec![(2.0, "firing".into()), (5.0, "inactive".into())],
        );
        timeline
            .alerts
            .insert("Quiet<>".into(), vec![(1.0, "inactive".into())]);
        let svg = svg(&timeline, "drill of dev");
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains(">baseline</text>"));
        assert!(svg.contains("RedisDown firing"));
        assert!(svg.contains("RedisDown resolved"));
        assert!(!svg.contains("Quiet"), "an alert never active has no lane");
        // The gap where Redis did not answer starts a new stretch of the ops/s line.
        let ops = svg.lines().find(|l| l.contains("#1f77b4")).unwrap();
        assert_eq!(ops.matches('M').count(), 2, "{ops}");
        assert_eq!(nice(7.0), 10.0);
        assert_eq!(nice(1500.0), 2000.0);
    }

    #[test]
    fn names_of_scenarios_close_together_do_not_run_into_each_other() {
        let mut timeline = Timeline::default();
        let close = [
            (0.0, "baseline"),
            (15.0, "capacity"),
            (33.0, "pressure"),
            (42.0, "recovery"),
            (48.0, "alerts"),
        ];
        for (t, name) in close {
            timeline.marks.push((t, name.into()));
        }
        timeline.marks.push((870.0, "throughput".into()));
        for t in [0.0, 900.0] {
            timeline.points.push(Point {
                t,
                ops_per_sec: Some(1.0),
                used_memory: Some(1.0),
                maxmemory: None,
            });
        }
        let svg = svg(&timeline, "drill");
        // (row y, start x, end x) of each name, from its <text> element.
        let names: Vec<(f64, f64, f64)> = svg
            .lines()
            .filter(|l| l.contains("stroke-dasharray=\"2,3\""))
            .map(|l| {
                let text = &l[l.find("<text").unwrap()..];
                let attr = |key: &str| -> f64 {
                    let from = text.find(&format!("{key}=\"")).unwrap() + key.len() + 2;
                    let len = text[from..].find('"').unwrap();
                    text[from..from + len].parse().unwrap()
                };
                let name = &text[text.find('>').unwrap() + 1..text.find("</").unwrap()];
                let start = attr("x");
                (attr("y"), start, start + CHAR_WIDTH * name.len() as f64)
            })
            .collect();
        assert_eq!(names.len(), 6, "{svg}");
        for (i, a) in names.iter().enumerate() {
            for b in &names[i + 1..] {
                let apart = a.0 != b.0 || a.2 <= b.1 || b.2 <= a.1;
                assert!(apart, "{a:?} and {b:?} overlap");
            }
        }
        // The last one has room on the first row.
        assert_eq!(names[5].0, names[0].0);
    }
}
