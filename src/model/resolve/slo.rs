//! `[[slo]]`: each objective checked and given its defaults.

use std::collections::BTreeSet;

use super::super::collect::Collector;
use super::super::raw::{SliKind, SloScope, SloTable};
use super::super::stack::{Slo, Stack};
use super::super::units::Duration;
use crate::alerts::{GROUP_LABEL, Severity};
use crate::diagnostic::Code;

/// The longest window a burn-rate alert reads: the SLO's window may not be shorter.
pub(crate) const LONGEST_ALERT_WINDOW: Duration = Duration::from_hours(72);
/// The highest objective the generated tests can prove a short blip does not page at.
pub(crate) const HIGHEST_OBJECTIVE: f64 = 99.99;
const DEFAULT_WINDOW: Duration = Duration::from_hours(720);

pub(super) fn slos(c: &mut Collector<'_>, tables: Vec<SloTable>) -> Vec<Slo> {
    let mut names = BTreeSet::new();
    let mut slos = Vec::new();
    for (i, table) in tables.into_iter().enumerate() {
        let key = |field: &str| format!("slo.{i}.{field}");
        let name = name(c, i, table.name.clone(), &mut names);
        let objective = table.objective.unwrap_or(f64::NAN);
        if table.objective.is_none() {
            c.error(
                Code::InvalidValue,
                &format!("slo.{i}"),
                format!("SLO `{name}` needs an `objective`, in percent"),
            );
        } else if !(objective > 50.0 && objective <= HIGHEST_OBJECTIVE) {
            c.error(
                Code::ThresholdOutOfDomain,
                &key("objective"),
                format!(
                    "`objective` must be above 50 and at most {HIGHEST_OBJECTIVE} (percent), \
                     not {objective}"
                ),
            );
        }
        let window = table.window.unwrap_or(DEFAULT_WINDOW);
        if window < LONGEST_ALERT_WINDOW {
            c.error(
                Code::InvalidValue,
                &key("window"),
                format!(
                    "`window` must be at least {LONGEST_ALERT_WINDOW}, the longest window of \
                     the burn-rate alerts, not {window}"
                ),
            );
        }
        let Some(sli) = table.sli else {
            c.error(
                Code::InvalidValue,
                &format!("slo.{i}"),
                format!("SLO `{name}` needs an `sli`: availability, errors or latency"),
            );
            continue;
        };
        let latency_threshold = match (sli, table.latency_threshold) {
            (SliKind::Latency, Some(t)) if t.millis() > 0 => Some(t),
            (SliKind::Latency, Some(_)) => {
                c.error(
                    Code::NotAboveZero,
                    &key("latency_threshold"),
                    "`latency_threshold` must be above zero",
                );
                None
            }
            (SliKind::Latency, None) => {
                c.error(
                    Code::InvalidValue,
                    &format!("slo.{i}"),
                    format!("SLO `{name}` has `sli = \"latency\"` and needs a `latency_threshold`"),
                );
                None
            }
            (_, Some(_)) => {
                c.error(
                    Code::InvalidValue,
                    &key("latency_threshold"),
                    "`latency_threshold` is for `sli = \"latency\"` only",
                );
                None
            }
            (_, None) => None,
        };
        slos.push(Slo {
            name,
            objective,
            window,
            sli,
            latency_threshold,
            per: table.per.unwrap_or(SloScope::Target),
            page_severity: table.page_severity.unwrap_or(Severity::Critical),
            ticket_severity: table.ticket_severity.unwrap_or(Severity::Warning),
        });
    }
    slos
}

/// The SLO's name, checked: present, usable as a label value as it is, and unique.
fn name(
    c: &mut Collector<'_>,
    i: usize,
    name: Option<String>,
    names: &mut BTreeSet<String>,
) -> String {
    let key = |field: &str| format!("slo.{i}.{field}");
    let missing_name = name.is_none();
    let name = name.unwrap_or_default();
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if missing_name {
        c.error(
            Code::InvalidValue,
            &format!("slo.{i}"),
            "an SLO needs a `name`",
        );
    } else if !valid {
        c.error(
            Code::InvalidValue,
            &key("name"),
            format!(
                "SLO name `{}` is not usable: 1 to 64 lower-case letters, digits and `-`, \
                 starting with a letter",
                name.escape_debug()
            ),
        );
    } else if !names.insert(name.clone()) {
        c.error(
            Code::InvalidValue,
            &key("name"),
            format!("two SLOs are named `{name}`"),
        );
    }
    name
}

/// An SLO per replication group needs a target in one.
pub(super) fn scopes(c: &mut Collector<'_>, stack: &Stack) {
    let grouped = stack
        .targets
        .iter()
        .any(|t| t.labels.contains_key(GROUP_LABEL));
    for (i, slo) in stack.slos.iter().enumerate() {
        if slo.per == SloScope::ReplicationGroup && !grouped {
            c.error(
                Code::InvalidValue,
                &format!("slo.{i}.per"),
                format!(
                    "SLO `{}` is per replication group, and no target has a `{GROUP_LABEL}` \
                     label",
                    slo.name
                ),
            );
        }
    }
}
