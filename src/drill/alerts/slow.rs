//! `RedisHighLatency`: slow commands once the rate window is quiet enough for them to lift its
//! average latency, kept up until Alertmanager has had the alert.

use std::time::{Duration, Instant};

use super::{Context, Proof, Setting, delivered, news_to_alertmanager};
use crate::drill::timing::spelled;
use crate::drill::{Error, Result, induce, notify, prometheus};

/// Slow commands, once the commands in the window are few enough for them to lift the
/// average above the threshold within a minute.
pub(super) async fn slow(a: &Context<'_, '_>, setting: &Setting) -> Proof {
    let mut proof = Proof {
        alert: setting.kind.name(),
        induced: true,
        ..Proof::default()
    };
    let threshold_ms = setting.threshold.unwrap_or_default();
    let each_ms = 4.0 * threshold_ms;
    if each_ms > 4000.0 {
        return Proof::listed(
            setting.kind,
            "not induced: each slow command would block Redis for more than 4 s".into(),
        );
    }
    let needed = match quiet_enough(a, threshold_ms / 1000.0, each_ms / 1000.0).await {
        Ok(seconds) => seconds,
        Err(why) => {
            proof.error = Some(why.to_string());
            return proof;
        }
    };
    // A quiet window's average is at the mercy of a few commands: a slow INFO may have fired
    // the alert while the drill waited.
    if let Err(why) = news_to_alertmanager(a, proof.alert).await {
        proof.error = Some(why.to_string());
        return proof;
    }
    proof.how = format!(
        "commands of {each_ms:.0} ms each (a Lua loop), about {:.0} s of them expected, \
         until it fired and Alertmanager had it",
        needed.as_secs_f64()
    );
    let site = a.live.site;
    let started = Instant::now();
    let timeout = site.timing.slow_fires(needed, setting.kind);
    // The slow commands go on until Alertmanager has had the alert: stopped as soon as it
    // fires, the window's average can fall back under the threshold within Alertmanager's
    // group wait, and Alertmanager rightly sends nothing for an alert that resolved meanwhile.
    let proving = async {
        let mut watch = notify::Watch::new(site, setting.kind);
        proof.seconds_to_fire = watch
            .until_firing(timeout)
            .await
            .map(|_| started.elapsed().as_secs_f64());
        proof.fired = proof.seconds_to_fire.is_some();
        delivered(a, &mut proof, watch.before).await;
    };
    let failed = tokio::select! {
        slowing = induce::slow_commands(&a.live, each_ms) => slowing.err(),
        () = proving => None,
    };
    if let Some(why) = failed {
        proof.error = Some(why.to_string());
    } else if !proof.fired {
        // What the window held when the drill gave up, for the post-mortem.
        let seen = match window_load(a).await {
            Ok((n, d)) if n > 0.0 => format!(
                "{n:.0} commands taking {d:.1} s, {:.2} ms on average",
                d / n * 1000.0
            ),
            Ok(_) => "no commands".into(),
            Err(why) => why.to_string(),
        };
        proof.error = Some(format!(
            "it did not fire within {} of slow commands; the {} window held {seen} \
             (threshold {threshold_ms} ms)",
            spelled(timeout),
            spelled(a.live.site.timing.window())
        ));
    }
    proof
}

/// Waits (see [`super::timing::Timing::quiet_within`]) until slow commands of `each` seconds
/// would lift the window's average latency above `threshold` seconds within a minute of
/// running; how long they need to run. Other traffic sets the length: the window's command
/// time must pass `threshold` times its commands.
async fn quiet_enough(a: &Context<'_, '_>, threshold: f64, each: f64) -> Result<Duration> {
    let timing = &a.live.site.timing;
    let deadline = Instant::now() + timing.quiet_within();
    loop {
        let (n, d) = window_load(a).await?;
        if let Some(needed) = timing.slow_run(n, d, threshold, each) {
            return Ok(needed);
        }
        if Instant::now() > deadline {
            return Err(Error::TooBusy {
                window: spelled(a.live.site.timing.window()),
                commands: n,
            });
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
}

/// The commands in the rate window on the drill's target, and the seconds they took together,
/// as Prometheus has them now.
async fn window_load(a: &Context<'_, '_>) -> Result<(f64, f64)> {
    let site = a.live.site;
    let selector = format!("{{job=\"redis\",target=\"{}\"}}", site.target);
    let window = spelled(site.timing.window());
    let commands = format!("increase(redis_commands_processed_total{selector}[{window}])");
    let busy = format!("sum(increase(redis_commands_duration_seconds_total{selector}[{window}]))");
    let n = prometheus::value(site, &commands).await?;
    let d = prometheus::value(site, &busy).await?;
    Ok((n.unwrap_or_default(), d.unwrap_or_default()))
}
