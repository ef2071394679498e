//! The vocabulary of the generated rule tests' input series: which side of the threshold a
//! scenario sits on, where its samples fall, and series text (selectors, values, numbers) in
//! the notation promtool reads. The catalogue's entries (`super`) build their scenarios from it.

use super::{Labels, MINUTE};

/// Which side of the threshold a scenario's series sit on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Bad,
    Safe,
}

impl Level {
    /// `bad` for a scenario on the bad side of the threshold, `safe` for one on the safe side.
    pub(crate) fn pick<T>(self, bad: T, safe: T) -> T {
        match self {
            Level::Bad => bad,
            Level::Safe => safe,
        }
    }
}

/// One input series of a rule test.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Series {
    pub series: String,
    pub values: String,
}

/// Where the samples of a stretch of a scenario sit, in milliseconds: `count` of them, `step`
/// apart, the first at `start`. Only series that follow the clock (a timestamp) read `start`
/// and `step`; the others are the same wherever they sit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Samples {
    pub start: u64,
    pub step: u64,
    pub count: u64,
}

impl Samples {
    /// `count` samples a minute apart from time 0.
    pub(crate) fn minutes(count: u64) -> Self {
        Self {
            start: 0,
            step: MINUTE,
            count,
        }
    }
}

/// The input series of a scenario at a level, for a stretch of samples, of one subject.
pub(super) type Scenario = Box<dyn Fn(Level, Samples, &Labels) -> Vec<Series>>;

/// A series selector: `metric{label="value",…}`, values escaped as PromQL reads them. The
/// exporter's own labels (`extra`) win over a target label of the same name, as
/// `honor_labels` has them win in the scrape.
pub(crate) fn labelled(metric: &str, extra: &[(&str, &str)], labels: &Labels) -> String {
    let mut labels = labels.clone();
    for (name, value) in extra {
        labels.insert(name.to_string(), value.to_string());
    }
    let pairs: Vec<String> = labels
        .iter()
        .map(|(name, value)| format!("{name}={}", quoted(value)))
        .collect();
    format!("{metric}{{{}}}", pairs.join(","))
}

/// A PromQL string literal: `"` and `\` escaped, and every character past ASCII written as a
/// `\u` or `\U` escape, which PromQL reads back as that character (promtool's series parser
/// refuses a raw U+FFFD as an invalid rune).
fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            ' '..='~' => out.push(c),
            c if (c as u32) <= 0xFFFF => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

pub(super) fn constant(value: impl std::fmt::Display, samples: u64) -> String {
    format!("{value}x{}", samples - 1)
}

pub(super) fn counter(per_minute: f64, samples: u64) -> String {
    format!("0+{}x{}", number(per_minute), samples - 1)
}

/// Numbers as PromQL and promtool read them: the shortest decimal that reads back as exactly
/// this `f64`, so that no threshold moves (rounding turned 1e-10 into `> 0`, always firing).
pub(crate) fn number(value: f64) -> String {
    format!("{value}")
}

/// `value` to 12 significant digits: what float arithmetic adds past them (`1 - 99.9 / 100`
/// is 0.0009999999999999432) is noise a reader of the rules should not see.
pub(crate) fn rounded(value: f64) -> f64 {
    format!("{value:.11e}").parse().unwrap_or(value)
}

/// A gauge that is `bad` or `safe` from the first sample.
pub(super) fn gauge(metric: &'static str, bad: f64, safe: f64) -> Scenario {
    Box::new(move |level, Samples { count: n, .. }, labels| {
        let value = level.pick(bad, safe);
        vec![Series {
            series: labelled(metric, &[], labels),
            values: constant(number(value), n),
        }]
    })
}

/// A counter that grows by `per_minute` (bad) or stays at zero (safe).
pub(super) fn increasing(
    metric: &'static str,
    extra: &'static [(&'static str, &'static str)],
    per_minute: f64,
) -> Scenario {
    Box::new(move |level, Samples { count: n, .. }, labels| {
        let per_minute = level.pick(per_minute, 0.0);
        vec![Series {
            series: labelled(metric, extra, labels),
            values: counter(per_minute, n),
        }]
    })
}

/// Gauges of one target, each `(metric, bad, safe)`.
pub(super) fn gauges(list: &'static [(&'static str, f64, f64)]) -> Scenario {
    Box::new(move |level, Samples { count: n, .. }, labels| {
        list.iter()
            .map(|&(metric, bad, safe)| Series {
                series: labelled(metric, &[], labels),
                values: constant(number(level.pick(bad, safe)), n),
            })
            .collect()
    })
}
