//! The catalogue's scenarios replayed at the exporter's scrape interval, for the rendered rules
//! and another rule file together (`stackgen drill --quick`'s copies): the same series, a
//! sample every scrape as Prometheus has them, and each scenario checked for both. Past its
//! threshold, the copy (label `drill="quick"`, no `for`) fires as soon as the rule is pending,
//! and both fire once the rule's `for` has passed; short of its threshold, neither ever does.

use serde::Serialize;

use super::{
    Check, Expected, RuleTest, active, alert_labels, entry, expected, rule, target_labels,
};
use crate::alerts::AlertKind;
use crate::alerts::promql::{Level, MINUTE, Samples, Series, Subject};
use crate::model::Stack;
use crate::model::units::Duration;

/// A `promtool test rules` file: the rule files it loads, and its tests.
#[derive(Debug, Serialize)]
pub(crate) struct Replay {
    pub rule_files: Vec<String>,
    pub evaluation_interval: Duration,
    pub tests: Vec<RuleTest>,
}

/// The scenarios of the active alerts among `kinds`, on the managed Redis' series (or the job
/// an alert watches), sampled every `step` milliseconds, checked for the rendered rule and its
/// copy labelled `label`; `rule_files`: the rendered rules and the copies.
pub(crate) fn replay(
    stack: &Stack,
    kinds: &[AlertKind],
    step: u64,
    label: (&str, &str),
    rule_files: Vec<String>,
) -> Result<Replay, String> {
    let managed = stack.targets.iter().find(|t| t.managed).map(target_labels);
    let mut tests = Vec::new();
    for settings in active(stack).filter(|a| kinds.contains(&a.kind)) {
        let e = entry(stack, settings);
        let rule = rule(stack, settings, &e);
        let labels = match e.subject {
            Subject::Job(job) => job.labels(),
            _ => managed
                .clone()
                .ok_or("the stack runs no Redis of its own")?,
        };
        // Evaluated every minute: pending at the first minute at or past the onset, firing
        // `for` later.
        let pending_at = e.onset.div_ceil(MINUTE);
        let fire_at = pending_at + settings.r#for.millis().div_ceil(MINUTE);
        let minutes = Samples::minutes(fire_at + 2);
        let at = |minute: u64| Duration::from_millis(minute * MINUTE);
        let alert_labels = alert_labels(e.subject, &labels);
        let real = expected(&rule, alert_labels.clone());
        let mut copy = expected(&rule, alert_labels);
        copy.exp_labels.insert(label.0.into(), label.1.into());
        let check = |minute: u64, exp_alerts: Vec<Expected>| Check {
            eval_time: at(minute),
            alertname: rule.alert,
            exp_alerts,
        };
        let mut checks = Vec::new();
        if fire_at > pending_at {
            checks.push(check(pending_at, vec![copy.clone()]));
        }
        checks.push(check(fire_at, vec![real, copy]));
        let sampled = |level| resampled(e.series(level, minutes, &labels), step);
        tests.push(RuleTest {
            name: format!("{}: the copy fires where the rule does", rule.alert),
            interval: Duration::from_millis(step),
            input_series: sampled(Level::Bad)?,
            alert_rule_test: checks,
            promql_expr_test: vec![],
        });
        tests.push(RuleTest {
            name: format!("{}: neither fires short of the threshold", rule.alert),
            interval: Duration::from_millis(step),
            input_series: sampled(Level::Safe)?,
            alert_rule_test: vec![check(pending_at, vec![]), check(fire_at, vec![])],
            promql_expr_test: vec![],
        });
    }
    Ok(Replay {
        rule_files,
        evaluation_interval: Duration::from_millis(MINUTE),
        tests,
    })
}

/// Series sampled every minute, sampled every `step` milliseconds instead: between two minutes,
/// on the straight line from one to the next (a counter grows evenly, a gauge that holds stays).
fn resampled(series: Vec<Series>, step: u64) -> Result<Vec<Series>, String> {
    series
        .into_iter()
        .map(|s| {
            let minutes = expanded(&s.values)?;
            let last = (minutes.len() as u64 - 1) * MINUTE;
            let values: Vec<String> = (0..=last / step)
                .map(|i| {
                    let t = i * step;
                    let (m, into) = ((t / MINUTE) as usize, (t % MINUTE) as f64 / MINUTE as f64);
                    let value = match (minutes[m], minutes.get(m + 1).copied().flatten()) {
                        (Some(a), Some(b)) => Some(a + (b - a) * into),
                        (Some(a), None) if into == 0.0 => Some(a),
                        _ => None,
                    };
                    value.map_or("_".into(), crate::alerts::promql::number)
                })
                .collect();
            Ok(Series {
                series: s.series,
                values: values.join(" "),
            })
        })
        .collect()
}

/// promtool's series notation (`1`, `_`, `1x3`, `0+5x3`, `9-1x2`, `_x2`), one value (or none)
/// per sample.
fn expanded(values: &str) -> Result<Vec<Option<f64>>, String> {
    let number = |text: &str| {
        text.parse::<f64>()
            .map_err(|e| format!("`{text}` in `{values}`: {e}"))
    };
    let mut out = Vec::new();
    for token in values.split_whitespace() {
        let (head, times) = match token.split_once('x') {
            Some((head, times)) => (head, number(times)? as usize),
            None => (token, 0),
        };
        if head == "_" {
            out.extend(std::iter::repeat_n(None, times + 1));
            continue;
        }
        // `a+b` or `a-b` (the sign after the first character), or a lone number.
        let split = head[1..].find(['+', '-']).map(|i| i + 1);
        let (start, by) = match split {
            Some(i) => (number(&head[..i])?, number(&head[i..])?),
            None => (number(head)?, 0.0),
        };
        out.extend((0..=times).map(|k| Some(start + by * k as f64)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notation_expands_and_resamples_on_straight_lines() {
        let v = expanded("0+60x2 _ 5x1 9-1x1").unwrap();
        assert_eq!(
            v,
            [
                Some(0.0),
                Some(60.0),
                Some(120.0),
                None,
                Some(5.0),
                Some(5.0),
                Some(9.0),
                Some(8.0)
            ]
        );
        let series = |values: &str| Series {
            series: "x".into(),
            values: values.into(),
        };
        let every_20s = resampled(vec![series("0+60x2")], 20_000).unwrap();
        assert_eq!(every_20s[0].values, "0 20 40 60 80 100 120");
        let gap = resampled(vec![series("1 _ 3")], 30_000).unwrap();
        assert_eq!(gap[0].values, "1 _ _ _ 3");
        assert!(expanded("1+").is_err());
    }
}
