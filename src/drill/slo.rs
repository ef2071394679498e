//! `slo`: burns an SLO's error budget on purpose until its page alert fires and reaches
//! Slack, then undoes it. As `--quick` shortens `for`s, the drill shortens the SLO's windows:
//! its rules are copied into the drill's rule file with every range divided by the timing's
//! scale (the 5-minute window becomes four scrapes of the exporter, at least 20 s), records and
//! alerts labelled as the drill's, reading the drill's target only. An availability SLO burns
//! by downtime (Redis stopped, then started), an errors SLO by commands that fail (`INCR` of a
//! key that holds no number). Nothing else of the stack changes, and the copies go when the
//! drill ends.

use std::time::{Duration, Instant};

use promql_parser::label::{MatchOp, Matcher};
use serde::Serialize;
use serde_json::Value;

use super::alerts::Proof;
use super::load::PREFIX;
use super::quick::{LABEL, TARGET_LABEL, each_selector, parse, scaled};
use super::undo::{Journal, Live};
use super::{Error, Result, Scenario, induce, notify};
use crate::model::Stack;
use crate::model::raw::{SliKind, SloScope};
use crate::model::stack::Slo;

/// The alert the drill proves: the fastest page (14.4× over 1h and 5m).
pub(crate) const PAGE: &str = "RedisSLOBurn1h";
/// How long the page may take to fire once the budget burns, and to resolve once it stops.
const FIRE_TIMEOUT: Duration = Duration::from_secs(180);
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(180);
/// The rendered groups of the SLOs' rules are named `slo:<name>`.
const GROUP_PREFIX: &str = "slo:";

/// What `slo` found (the keys of its JSON, in their order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct SloDrill {
    pub(crate) alert: Proof,
    /// How the budget burned: `downtime` or `errors`.
    pub(crate) burned_by: &'static str,
    pub(crate) name: Scenario,
    pub(crate) ok: bool,
    /// What every window of the SLO's rules was divided by.
    pub(crate) scale: f64,
    pub(crate) slo: String,
}

/// The SLO the drill burns: the first availability or errors SLO per target (a latency one
/// would need Redis slowed for minutes).
pub(crate) fn chosen(stack: &Stack) -> Result<&Slo> {
    let burnable = |slo: &&Slo| slo.sli != SliKind::Latency;
    stack.slos.iter().find(burnable).ok_or_else(|| {
        Error::refused(
            "`drill slo` burns an availability or errors [[slo]]: the stack has none (a \
             latency SLO is not drilled)",
        )
    })
}

/// The drill's copy of the rendered group of `slo`: its ranges divided by `scale`, its records
/// and alerts labelled as the drill's and reading the drill's records only, its Redis series
/// those of `target` (per target).
pub(crate) fn copies(rendered: &str, slo: &Slo, scale: f64, target: &str) -> Result<Vec<Value>> {
    let file: Value = crate::yaml::from_str(rendered).map_err(Error::QuickRules)?;
    let name = format!("{GROUP_PREFIX}{}", slo.name);
    let groups = file["groups"].as_array().into_iter().flatten();
    let mut group = (groups.into_iter().find(|g| g["name"] == name.as_str()))
        .cloned()
        .ok_or_else(|| Error::QuickRules(format!("the rendered rules have no group `{name}`")))?;
    group["name"] = Value::from(format!("stackgen-drill-quick-{name}"));
    let drill = Matcher::new(MatchOp::Equal, LABEL.0, LABEL.1);
    let only = Matcher::new(MatchOp::Equal, TARGET_LABEL, target);
    for rule in group["rules"].as_array_mut().into_iter().flatten() {
        let mut expr = parse(rule["expr"].as_str().unwrap_or_default())?;
        each_selector(&mut expr, &mut |selector, range| {
            let name = selector.name.as_deref().unwrap_or_default();
            if name.starts_with(GROUP_PREFIX) {
                selector.matchers.matchers.push(drill.clone());
            } else if slo.per == SloScope::Target {
                selector.matchers.matchers.push(only.clone());
            }
            if let Some(range) = range {
                *range = scaled(*range, scale);
            }
        });
        rule["expr"] = Value::from(expr.to_string());
        rule["labels"][LABEL.0] = Value::from(LABEL.1);
    }
    Ok(vec![group])
}

/// Burns the budget of `slo` until the drill's copy of its page alert fires and Alertmanager
/// sends it on, undoes the burn, and waits for the alert to resolve.
pub(crate) async fn run(
    live: &Live<'_>,
    journal: &Journal,
    slo: &Slo,
    scale: f64,
) -> Result<SloDrill> {
    let site = live.site;
    let before = match site.slack {
        true => notify::slack_notifications(site).await,
        false => None,
    };
    let mark = journal.mark();
    let burned_by = match slo.sli {
        SliKind::Availability => "downtime",
        _ => "errors",
    };
    let started = Instant::now();
    let fired = match slo.sli {
        SliKind::Availability => {
            induce::stop(live, journal, &site.containers.redis).await?;
            let firing = notify::until(site, PAGE, FIRE_TIMEOUT, notify::is_firing);
            firing.await
        }
        _ => failing_commands(live).await?,
    };
    let mut alert = Proof {
        alert: PAGE,
        induced: true,
        how: match slo.sli {
            SliKind::Availability => "Redis stopped until the page fired, then started again",
            _ => "INCR of a key that holds no number, until the page fired",
        }
        .into(),
        fired: fired.is_some(),
        seconds_to_fire: fired.map(|_| started.elapsed().as_secs_f64()),
        ..Proof::default()
    };
    if alert.fired && site.addresses.alertmanager.is_some() {
        let (held, sent) = notify::delivery(site, PAGE, before).await;
        alert.in_alertmanager = Some(held);
        alert.delivered = sent.as_ref().map(Result::is_ok);
        if let Some(Err(why)) = sent {
            alert.error = Some(why.to_string());
        }
    }
    for line in journal.undo_since(live, mark).await {
        line?;
    }
    let stopped = Instant::now();
    let resolved = notify::until(site, PAGE, RESOLVE_TIMEOUT, notify::is_inactive).await;
    alert.resolved = resolved.is_some();
    alert.seconds_to_resolve = resolved.map(|_| stopped.elapsed().as_secs_f64());
    Ok(SloDrill {
        ok: alert.ok(),
        alert,
        burned_by,
        name: Scenario::Slo,
        scale,
        slo: slo.name.clone(),
    })
}

/// Failing commands, pipelined, until the page fires or the time is up: the seconds it took.
async fn failing_commands(live: &Live<'_>) -> Result<Option<f64>> {
    let mut connection = live.connection().await?;
    let key = format!("{PREFIX}slo-errors");
    induce::not_a_number(&mut connection, &key).await?;
    let started = Instant::now();
    let mut fired = None;
    while started.elapsed() < FIRE_TIMEOUT {
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for _ in 0..100 {
            pipe.cmd("INCR").arg(&key);
        }
        let _: Vec<redis::RedisResult<redis::Value>> = pipe
            .query_async(&mut connection)
            .await
            .map_err(Error::redis("Redis"))?;
        if notify::is_firing(notify::alert_now(live.site, PAGE).await.as_deref()) {
            fired = Some(started.elapsed().as_secs_f64());
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    redis::cmd("DEL")
        .arg(&key)
        .query_async::<()>(&mut connection)
        .await
        .map_err(Error::redis("Redis"))?;
    Ok(fired)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STACK: &str = "[stack]\nname = \"t\"\n[redis_exporter]\nscrape_interval = \"5s\"\n\
                         [[slo]]\nname = \"up\"\nobjective = 99.9\nsli = \"availability\"\n";

    #[test]
    fn the_copy_reads_the_drill_target_and_records_over_shortened_windows() {
        let stack = crate::model::resolve::tests::from_text(STACK).unwrap();
        let slo = chosen(&stack).unwrap();
        assert_eq!(
            super::super::timing::Timing::new(&stack, true).scale(),
            15.0
        );
        let renderer = crate::render::Renderer::builtin().unwrap();
        let tree = renderer.render(&stack).unwrap();
        let rendered = &tree[super::super::quick::RENDERED];
        let groups = copies(rendered, slo, 15.0, "redis").unwrap();
        let rules = groups[0]["rules"].as_array().unwrap();
        let expr = |record: &str| {
            let rule = rules.iter().find(|r| r["record"] == record).unwrap();
            assert_eq!(rule["labels"]["drill"], "quick");
            rule["expr"].as_str().unwrap().to_string()
        };
        assert_eq!(
            expr("slo:sli_error:ratio_rate1h"),
            "1 - avg_over_time(redis_up{kind!=\"sentinel\",target=\"redis\"}[4m])"
        );
        let page = rules.iter().find(|r| r["alert"] == PAGE).unwrap();
        let page = page["expr"].as_str().unwrap();
        assert!(
            page.contains("slo:sli_error:ratio_rate1h{drill=\"quick\",slo=\"up\"}"),
            "{page}"
        );
        // The whole copy is loaded by promtool as a rule file.
        let text = super::super::quick::rules_with(rendered, "redis", 15.0, groups).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("quick.yml");
        std::fs::write(&path, text).unwrap();
        let out = std::process::Command::new("promtool")
            .args(["check", "rules"])
            .arg(&path)
            .output()
            .expect("promtool is installed");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }

    #[test]
    fn a_stack_with_only_a_latency_slo_has_nothing_to_burn() {
        let text = "[stack]\nname = \"t\"\n[[slo]]\nname = \"fast\"\nobjective = 99\n\
                    sli = \"latency\"\nlatency_threshold = \"2ms\"\n";
        let stack = crate::model::resolve::tests::from_text(text).unwrap();
        assert!(chosen(&stack).unwrap_err().to_string().contains("has none"));
    }
}
