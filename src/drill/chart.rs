//! `--report FILE.svg`: the run as one SVG chart — ops/s on a log scale; used memory against
//! `maxmemory` and the memory threshold, each line labelled with its value; and a lane per
//! alert and what it is about (its target), pending in amber, firing in red, a green tick where
//! it resolved. Scenarios are marked along the time axis, and what the drill did to Redis (the
//! kill and the restart of `recovery`) across every panel. It only draws what the timeline
//! holds: nothing here samples Redis or asks Prometheus.

use std::fmt::Write;

use super::timeline::{Event, Lane, States, Timeline};
use crate::model::units::Size;

/// The width of the panels' plotting area.
const PLOT: f64 = 750.0;
/// The left margin holds the axes' values and the lanes' names: wider for long names, within
/// bounds (a longer name is shortened, and shown whole on hover).
const LEFT_MIN: f64 = 190.0;
const LEFT_MAX: f64 = 420.0;
const RIGHT: f64 = 20.0;
const PANEL: f64 = 150.0;
const LANE: f64 = 18.0;
/// About the width of a character of the 12px labels.
const CHAR_WIDTH: f64 = 7.0;
/// The ops/s axis reaches at least this power of ten, so that an idle run still reads as idle.
const OPS_DECADES_MIN: i32 = 3;
/// Head room above the highest memory value, so that `maxmemory` sits inside the panel.
const MEMORY_HEADROOM: f64 = 1.05;
const KILL_COLOR: &str = "#d62728";
const RESTART_COLOR: &str = "#2ca02c";
/// A white outline behind a label, so that it reads over the lines it sits on.
const HALO: &str = r#"paint-order="stroke" stroke="white" stroke-width="3""#;

/// A line over time: `(seconds, value)`, no value where there was none.
type Series = Vec<(f64, Option<f64>)>;

/// The time axis: where the plotting area starts, and how long the run was.
struct Frame {
    left: f64,
    end: f64,
}

impl Frame {
    fn x(&self, t: f64) -> f64 {
        self.left + (t / self.end) * PLOT
    }

    fn right(&self) -> f64 {
        self.left + PLOT
    }
}

/// How a panel's values map onto its height.
#[derive(Debug, Clone, Copy)]
enum Scale {
    /// From 0 to `top`.
    Linear { top: f64 },
    /// The decades from 10^`low` to 10^`high`; a value under 10^`low` (none at all: an idle
    /// second) sits on the bottom.
    Log { low: i32, high: i32 },
}

impl Scale {
    /// Where `value` sits, from 0 (the bottom) to 1 (the top).
    fn fraction(self, value: f64) -> f64 {
        let fraction = match self {
            Self::Linear { top } => value / top,
            Self::Log { low, high } => {
                let floor = 10f64.powi(low);
                (value.max(floor).log10() - f64::from(low)) / f64::from(high - low)
            }
        };
        fraction.clamp(0.0, 1.0)
    }
}

/// A panel: its top edge, title, scale and the values its axis names.
struct Panel<'a> {
    top: f64,
    title: &'a str,
    scale: Scale,
    ticks: Vec<(f64, String)>,
}

impl Panel<'_> {
    fn y(&self, value: f64) -> f64 {
        self.top + PANEL - self.scale.fraction(value) * PANEL
    }
}

pub(crate) fn svg(timeline: &Timeline, title: &str) -> String {
    let lanes: Vec<(&Lane, &States)> = timeline
        .alerts
        .iter()
        .filter(|(_, states)| states.iter().any(|(_, s)| s != "inactive"))
        .collect();
    let frame = frame(timeline, &lanes);
    let width = frame.right() + RIGHT;
    let ops_top = 108.0;
    let memory_top = ops_top + PANEL + 40.0;
    let lanes_top = memory_top + PANEL + 40.0;
    let axis_y = lanes_top + LANE * lanes.len() as f64 + 10.0;
    let height = axis_y + 40.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="24" font-size="16" font-weight="bold">{}</text>"#,
        frame.left,
        escape(title)
    );
    marks(&mut svg, timeline, &frame, ops_top, axis_y);
    ops_panel(&mut svg, timeline, &frame, ops_top);
    memory_panel(&mut svg, timeline, &frame, memory_top);
    events(&mut svg, timeline, &frame, ops_top, axis_y);
    let _ = writeln!(
        svg,
        r##"<text x="{}" y="{}" fill="#333">alerts, each with what it is about: pending (amber), firing (red), resolved (green)</text>"##,
        frame.left,
        lanes_top - 6.0
    );
    alert_lanes(&mut svg, &lanes, &frame, lanes_top);
    axis(&mut svg, &frame, axis_y);
    svg.push_str("</svg>\n");
    svg
}

/// The time axis of the run, and a left margin wide enough for the lanes' names.
fn frame(timeline: &Timeline, lanes: &[(&Lane, &States)]) -> Frame {
    let times = timeline.points.iter().map(|p| p.t);
    let alerts = timeline.alerts.values().flatten().map(|(t, _)| *t);
    let events = timeline.events.iter().map(|(t, _)| *t);
    let end = times.chain(alerts).chain(events).fold(1.0, f64::max);
    let longest = lanes
        .iter()
        .map(|(lane, _)| lane.to_string().chars().count())
        .max()
        .unwrap_or_default();
    let left = (longest as f64 * CHAR_WIDTH + 16.0).clamp(LEFT_MIN, LEFT_MAX);
    Frame { left, end }
}

/// Scenario marks across every panel, each name on the first of five rows where it does not
/// run into the name before it (short scenarios sit close together).
fn marks(svg: &mut String, timeline: &Timeline, frame: &Frame, ops_top: f64, axis_y: f64) {
    let mut row_ends = [f64::MIN; 5];
    for (t, name) in &timeline.marks {
        let mx = frame.x(*t);
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
}

/// Ops/s on a log scale. The drill's load runs from an idle Redis (a few commands a second)
/// through a steady load of thousands to a benchmark of hundreds of thousands: on a linear axis
/// the largest flattens the others to the bottom, and clipping it (a percentile axis) would
/// hide the very load `capacity` and `throughput` are about. A decade each, every one reads.
fn ops_panel(svg: &mut String, timeline: &Timeline, frame: &Frame, top: f64) {
    let ops: Series = timeline
        .points
        .iter()
        .map(|p| (p.t, p.ops_per_sec))
        .collect();
    let highest = ops.iter().filter_map(|(_, v)| *v).fold(1.0, f64::max);
    let high = (highest.log10().ceil() as i32).max(OPS_DECADES_MIN);
    let panel = Panel {
        top,
        title: "ops/s (log scale)",
        scale: Scale::Log { low: 0, high },
        ticks: (0..=high)
            .map(|decade| {
                let value = 10f64.powi(decade);
                (value, human(value))
            })
            .collect(),
    };
    draw(svg, frame, &panel, &[(&ops, "#1f77b4", "")]);
}

/// Used memory against `maxmemory` and the memory threshold, in the stack's units (MiB, GiB),
/// each limit labelled with its value.
fn memory_panel(svg: &mut String, timeline: &Timeline, frame: &Frame, top: f64) {
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
    let percent = timeline.memory_threshold_percent;
    let threshold: Series = match percent {
        Some(percent) => max
            .iter()
            .map(|(t, m)| (*t, m.map(|m| m * percent / 100.0)))
            .collect(),
        None => Vec::new(),
    };
    let highest = used
        .iter()
        .chain(&max)
        .filter_map(|(_, v)| *v)
        .fold(0.0, f64::max);
    let top_value = memory_top(highest * MEMORY_HEADROOM);
    let panel = Panel {
        top,
        title: "used memory",
        scale: Scale::Linear { top: top_value },
        ticks: (0..=4)
            .map(|quarter| {
                let value = top_value * f64::from(quarter) / 4.0;
                (value, bytes(value))
            })
            .collect(),
    };
    let lines = [
        (&used, "#2ca02c", ""),
        (&max, "#333", "6,4"),
        (&threshold, "#ff7f0e", "2,3"),
    ];
    draw(svg, frame, &panel, &lines);
    // The limit in effect at the end (the drill may lift it for a while).
    let Some(limit) = max.iter().rev().find_map(|(_, m)| *m) else {
        return;
    };
    let x = frame.right() - 4.0;
    let _ = writeln!(
        svg,
        r##"<text x="{x:.1}" y="{:.1}" text-anchor="end" fill="#333" {HALO}>maxmemory {}</text>"##,
        panel.y(limit) - 4.0,
        bytes(limit)
    );
    if let Some(percent) = percent {
        let value = limit * percent / 100.0;
        let _ = writeln!(
            svg,
            r##"<text x="{x:.1}" y="{:.1}" text-anchor="end" fill="#c05a00" {HALO}>threshold {}% · {}</text>"##,
            panel.y(value) + 14.0,
            human_number(percent),
            bytes(value)
        );
    }
}

/// The smallest size of 1, 1.25, 1.5 or 1.75 × 2ⁿ bytes at or above `value`, at least 1 MiB:
/// a limit that is a power of two (as `maxmemory` usually is) and its quarters read whole.
fn memory_top(value: f64) -> f64 {
    let mut power = f64::from(1u32 << 20);
    loop {
        if let Some(top) = [1.0, 1.25, 1.5, 1.75]
            .iter()
            .map(|m| m * power)
            .find(|top| *top >= value)
        {
            return top;
        }
        power *= 2.0;
    }
}

/// What the drill did to Redis: a line across every panel, the kill's name left of it and the
/// restart's right of it, so that the two read apart however close together they are.
fn events(svg: &mut String, timeline: &Timeline, frame: &Frame, ops_top: f64, axis_y: f64) {
    for (t, event) in &timeline.events {
        let mx = frame.x(*t);
        let (color, anchor, tx) = match event {
            Event::Kill => (KILL_COLOR, "end", mx - 3.0),
            Event::Restart => (RESTART_COLOR, "start", mx + 3.0),
        };
        let label = event.label();
        let _ = write!(
            svg,
            r#"<line x1="{mx:.1}" y1="{ops_top}" x2="{mx:.1}" y2="{axis_y}" stroke="{color}" stroke-width="1.5"><title>{label} at {t:.1}s</title></line>"#
        );
        let _ = writeln!(
            svg,
            r#"<text x="{tx:.1}" y="{:.1}" text-anchor="{anchor}" fill="{color}" font-weight="bold" {HALO}>{label}</text>"#,
            ops_top + 14.0
        );
    }
}

/// A lane per alert and what it is about: pending in amber, firing in red, a green tick
/// wherever firing resolved.
fn alert_lanes(svg: &mut String, lanes: &[(&Lane, &States)], frame: &Frame, lanes_top: f64) {
    let fits = ((frame.left - 16.0) / CHAR_WIDTH) as usize;
    for (lane, (name, states)) in lanes.iter().enumerate() {
        let y = lanes_top + LANE * lane as f64;
        let (shown, name) = (
            escape(&shortened(&name.to_string(), fits)),
            escape(&name.to_string()),
        );
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{:.1}" text-anchor="end"><title>{name}</title>{shown}</text>"#,
            frame.left - 8.0,
            y + LANE - 5.0,
        );
        for (i, (t, state)) in states.iter().enumerate() {
            let until = states.get(i + 1).map_or(frame.end, |(t, _)| *t);
            let color = match state.as_str() {
                "pending" => "#f0ad4e",
                "firing" => "#d9534f",
                _ => continue,
            };
            let _ = writeln!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{}" fill="{color}"><title>{name} {state}</title></rect>"#,
                frame.x(*t),
                y + 2.0,
                (frame.x(until) - frame.x(*t)).max(1.0),
                LANE - 4.0,
            );
            if state == "firing" && states.get(i + 1).is_some_and(|(_, s)| s == "inactive") {
                let _ = writeln!(
                    svg,
                    r##"<rect x="{:.1}" y="{:.1}" width="3" height="{}" fill="#5cb85c"><title>{name} resolved at {until:.1}s</title></rect>"##,
                    frame.x(until),
                    y + 2.0,
                    LANE - 4.0,
                );
            }
        }
    }
}

/// `text` in at most `fits` characters, its end replaced by `…` when it is longer.
fn shortened(text: &str, fits: usize) -> String {
    if text.chars().count() <= fits {
        return text.to_string();
    }
    let kept: String = text.chars().take(fits.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// A panel's frame, its axis values on light grid lines, and its lines `(points, colour,
/// dash)`.
fn draw(svg: &mut String, frame: &Frame, panel: &Panel<'_>, lines: &[(&Series, &str, &str)]) {
    let (left, top) = (frame.left, panel.top);
    let _ = writeln!(
        svg,
        r##"<rect x="{left}" y="{top}" width="{PLOT}" height="{PANEL}" fill="none" stroke="#ccc"/><text x="{left}" y="{}" fill="#333">{}</text>"##,
        top - 6.0,
        panel.title
    );
    for (value, text) in &panel.ticks {
        let y = panel.y(*value);
        let _ = writeln!(
            svg,
            r##"<line x1="{left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#eee"/><text x="{}" y="{:.1}" text-anchor="end" fill="#555">{text}</text>"##,
            frame.right(),
            left - 8.0,
            y + 4.0,
        );
    }
    for (points, color, dash) in lines {
        // A line per stretch of known values: gaps where Redis did not answer.
        let mut path = String::new();
        let mut pen_down = false;
        for (t, value) in points.iter() {
            match value {
                Some(v) => {
                    let pen = if pen_down { "L" } else { "M" };
                    let _ = write!(path, "{pen}{:.1},{:.1} ", frame.x(*t), panel.y(*v));
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
fn axis(svg: &mut String, frame: &Frame, y: f64) {
    let step = nice(frame.end / 8.0);
    let _ = writeln!(
        svg,
        r##"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#333"/>"##,
        frame.left,
        frame.right()
    );
    let mut t = 0.0;
    while t <= frame.end {
        let _ = writeln!(
            svg,
            r##"<line x1="{0:.1}" y1="{y}" x2="{0:.1}" y2="{1}" stroke="#333"/><text x="{0:.1}" y="{2}" text-anchor="middle">{3}s</text>"##,
            frame.x(t),
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
        format!("{}M", human_number(value / 1e6))
    } else if value >= 1e3 {
        format!("{}k", human_number(value / 1e3))
    } else {
        human_number(value)
    }
}

/// A number with at most two decimals, and none when it is whole.
fn human_number(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A size in its largest binary unit (`KiB` up to `TiB`): as the stack spells sizes when the
/// unit holds it whole (`256MiB`), otherwise to two decimals of that unit (`230.4MiB`).
fn bytes(value: f64) -> String {
    let Some((unit, factor)) = ["TiB", "GiB", "MiB", "KiB"]
        .iter()
        .zip([40, 30, 20, 10])
        .map(|(unit, shift)| (unit, (1u64 << shift) as f64))
        .find(|(_, factor)| value >= *factor)
    else {
        return Size::from_bytes(value.round() as u64).to_string();
    };
    let count = value / factor;
    let shown = human_number(count);
    if shown.contains('.') {
        format!("{shown}{unit}")
    } else {
        Size::from_bytes((count.round() * factor) as u64).to_string()
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests;
