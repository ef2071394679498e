//! The chart's SVG text, from timelines built by hand: a one-Redis run, a fleet's, and the
//! scales and units on their own.

use super::super::timeline::{Lane, Point};
use super::*;

const MIB: f64 = 1048576.0;

fn lane(alert: &str, about: &str) -> Lane {
    Lane {
        alert: alert.into(),
        about: about.into(),
    }
}

fn states(changes: &[(f64, &str)]) -> States {
    changes.iter().map(|(t, s)| (*t, s.to_string())).collect()
}

/// The `(x, y)` of each point of the path drawn in `color`.
fn path_points(svg: &str, color: &str) -> Vec<(f64, f64)> {
    let line = svg
        .lines()
        .find(|l| l.starts_with("<path") && l.contains(color))
        .unwrap();
    let d = &line[line.find("d=\"").unwrap() + 3..];
    d[..d.find('"').unwrap()]
        .split(' ')
        .map(|point| {
            let (x, y) = point[1..].split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect()
}

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
        lane("RedisDown", "redis"),
        states(&[(2.0, "firing"), (5.0, "inactive")]),
    );
    timeline
        .alerts
        .insert(lane("Quiet<>", "redis"), states(&[(1.0, "inactive")]));
    let svg = svg(&timeline, "drill of dev");
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains(">baseline</text>"));
    assert!(svg.contains("RedisDown · redis firing"));
    assert!(svg.contains("RedisDown · redis resolved at 5.0s"));
    assert!(!svg.contains("Quiet"), "an alert never active has no lane");
    // The gap where Redis did not answer starts a new stretch of the ops/s line.
    let ops = svg.lines().find(|l| l.contains("#1f77b4")).unwrap();
    assert_eq!(ops.matches('M').count(), 2, "{ops}");
    assert_eq!(nice(7.0), 10.0);
    assert_eq!(nice(1500.0), 2000.0);
}

/// A drill of the managed Redis in a fleet: a steady 2,000 ops/s with one 500k spike, memory
/// towards a 256MiB `maxmemory`, the kill and restart of `recovery`, and alerts about the
/// drill's Redis and about other targets of the fleet.
fn fleet_timeline() -> Timeline {
    let mut timeline = Timeline {
        memory_threshold_percent: Some(90.0),
        ..Timeline::default()
    };
    for t in 0..300 {
        let t = f64::from(t);
        let down = (120.0..123.0).contains(&t);
        timeline.points.push(Point {
            t,
            ops_per_sec: (!down).then_some(if t == 100.0 { 500_000.0 } else { 2000.0 }),
            used_memory: (!down).then_some(t / 300.0 * 240.0 * MIB),
            maxmemory: (!down).then_some(256.0 * MIB),
        });
    }
    timeline.marks.push((0.0, "baseline".into()));
    timeline.marks.push((118.0, "recovery".into()));
    timeline.events.push((120.0, Event::Kill));
    timeline.events.push((123.0, Event::Restart));
    let alerts = [
        (
            lane("RedisDown", "redis"),
            states(&[(121.0, "firing"), (150.0, "inactive")]),
        ),
        (lane("RedisDown", "fleet-01"), states(&[(10.0, "firing")])),
        (
            lane("RedisMemoryPressure", "redis"),
            states(&[
                (200.0, "pending"),
                (210.0, "firing"),
                (250.0, "inactive"),
                (260.0, "firing"),
                (280.0, "inactive"),
            ]),
        ),
        (
            lane("RedisLowThroughput", "fleet-02"),
            states(&[(30.0, "pending"), (40.0, "inactive")]),
        ),
        (
            lane("RedisExporterDown", "redis-exporter"),
            states(&[(60.0, "firing"), (70.0, "inactive")]),
        ),
    ];
    timeline.alerts.extend(alerts);
    timeline
}

#[test]
fn a_fleet_drill_names_each_alert_target_and_ticks_each_resolve() {
    let svg = svg(&fleet_timeline(), "drill of dev");
    for name in [
        "RedisDown · redis",
        "RedisDown · fleet-01",
        "RedisMemoryPressure · redis",
        "RedisLowThroughput · fleet-02",
        "RedisExporterDown · redis-exporter",
    ] {
        assert!(
            svg.contains(&format!("<title>{name}</title>{name}</text>")),
            "{name}"
        );
    }
    let resolved: Vec<&str> = svg
        .lines()
        .filter(|l| l.contains(" resolved at "))
        .map(|l| &l[l.find("<title>").unwrap() + 7..l.find("</title>").unwrap()])
        .collect();
    assert_eq!(
        resolved,
        [
            "RedisDown · redis resolved at 150.0s",
            "RedisExporterDown · redis-exporter resolved at 70.0s",
            "RedisMemoryPressure · redis resolved at 250.0s",
            "RedisMemoryPressure · redis resolved at 280.0s",
        ],
        "one tick per resolve; none for an alert still firing or one that never fired"
    );
}

#[test]
fn memory_reads_in_binary_units_and_its_limits_carry_their_values() {
    let svg = svg(&fleet_timeline(), "drill of dev");
    // 256MiB and head room: a 320MiB axis in quarters.
    for tick in ["0B", "80MiB", "160MiB", "240MiB", "320MiB"] {
        assert!(
            svg.contains(&format!("fill=\"#555\">{tick}</text>")),
            "{tick}"
        );
    }
    assert!(svg.contains(">maxmemory 256MiB</text>"), "{svg}");
    assert!(svg.contains(">threshold 90% · 230.4MiB</text>"), "{svg}");
    assert!(svg.contains(">used memory</text>"));
    assert_eq!(bytes(1.5 * 1024.0 * MIB), "1.5GiB");
    assert_eq!(bytes(2.0 * 1024.0 * MIB), "2GiB");
    assert_eq!(bytes(512.0), "512B");
    assert_eq!(memory_top(256.0 * MIB), 256.0 * MIB);
    assert_eq!(memory_top(257.0 * MIB), 320.0 * MIB);
    assert_eq!(memory_top(0.0), MIB);
}

#[test]
fn the_recovery_marks_the_kill_and_the_restart() {
    let timeline = fleet_timeline();
    let svg = svg(&timeline, "drill of dev");
    let lanes: Vec<(&Lane, &States)> = timeline.alerts.iter().collect();
    let frame = frame(&timeline, &lanes);
    for (t, label, color) in [
        (120.0, "Redis killed", KILL_COLOR),
        (123.0, "Redis back", RESTART_COLOR),
    ] {
        let x = frame.x(t);
        let line = format!("<line x1=\"{x:.1}\" y1=\"108\" x2=\"{x:.1}\"");
        let marker = svg
            .lines()
            .find(|l| l.starts_with(&line))
            .unwrap_or_else(|| panic!("{line}\n{svg}"));
        assert!(marker.contains(&format!("stroke=\"{color}\"")), "{marker}");
        assert!(marker.contains(&format!(">{label}</text>")), "{marker}");
    }
}

#[test]
fn a_steady_load_is_not_flattened_by_one_spike() {
    let svg = svg(&fleet_timeline(), "drill of dev");
    let points = path_points(&svg, "#1f77b4");
    let bottom = 108.0 + PANEL;
    let (steady, spike) = (
        points[0].1,
        points.iter().map(|p| p.1).fold(bottom, f64::min),
    );
    assert!(
        bottom - steady > PANEL / 3.0,
        "2,000 ops/s sits at y {steady}, the axis bottom is {bottom}"
    );
    assert!(
        spike < steady - PANEL / 5.0,
        "the spike stands out: {spike}"
    );
    assert!(svg.contains("fill=\"#555\">1k</text>"));
    assert!(svg.contains("fill=\"#555\">1M</text>"));
    // Idle: the axis still reaches 1k, and nothing falls off its bottom.
    assert_eq!(Scale::Log { low: 0, high: 3 }.fraction(0.0), 0.0);
}

#[test]
fn a_long_target_name_widens_the_margin_up_to_a_bound() {
    let mut timeline = fleet_timeline();
    let long = "x".repeat(100);
    timeline
        .alerts
        .insert(lane("RedisDown", &long), states(&[(5.0, "firing")]));
    let svg = svg(&timeline, "drill");
    let full = format!("RedisDown · {long}");
    let lanes: Vec<(&Lane, &States)> = timeline.alerts.iter().collect();
    assert_eq!(frame(&timeline, &lanes).left, LEFT_MAX);
    let label = svg
        .lines()
        .find(|l| l.contains(&format!("<title>{full}</title>")))
        .unwrap();
    let shown = &label[label.find("</title>").unwrap() + 8..label.find("</text>").unwrap()];
    assert!(shown.ends_with('…'), "{shown}");
    assert!(
        shown.chars().count() as f64 * CHAR_WIDTH <= LEFT_MAX - 16.0,
        "{shown}"
    );
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
