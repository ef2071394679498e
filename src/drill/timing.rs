//! How long the drill waits for what the stack does: one value built from the stack's intervals
//! (scrapes, evaluations, Alertmanager's grouping), the catalogue's rate window and each alert's
//! `for`, with every margin named. Each wait of the drill is a method here, so that the whole
//! timing is read, and tested, in one place. It is pure: it never sleeps nor asks anything.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::alerts::AlertKind;
use crate::alerts::promql::RATE_WINDOW_SECONDS;
use crate::model::Stack;

/// The window of every `rate()` and `increase()` in the catalogue: how long a burst counts.
pub(crate) const RATE_WINDOW: Duration = Duration::from_secs(RATE_WINDOW_SECONDS as u64);

/// Under `--quick`, the drill's Alertmanager route for its own copies of the alerts: a new
/// group is sent at once, and its changes every 5 s, whatever the user's route says.
pub(crate) const DRILL_GROUP_WAIT: Duration = Duration::ZERO;
pub(crate) const DRILL_GROUP_INTERVAL: Duration = Duration::from_secs(5);

/// Under `--quick`, the shortest rate window of the drill's copies: four scrapes make a rate
/// that survives a late one; fewer than 20 s is noise.
const QUICK_WINDOW_SCRAPES: u32 = 4;
const QUICK_WINDOW_LEAST: Duration = Duration::from_secs(20);

/// Past two scrapes and two evaluations, what a change may still take to show in an alert's
/// state: a slow scrape, and an answer from before the last evaluation.
const SHOW_SLACK: Duration = Duration::from_secs(15);

/// How often Alertmanager drops its emptied alert groups (its dispatcher's maintenance).
const GROUP_CLEANUP: Duration = Duration::from_secs(30);

/// Past a group interval, the clean-up and two evaluations, what Prometheus' `ALERTS` may still
/// take to show that an alert stopped firing.
const FORGET_SLACK: Duration = Duration::from_secs(5);

/// Prometheus' `--rules.alert.resend-delay`, which the stack leaves at its default: how long
/// an alert already firing may take to reach an Alertmanager that restarted.
const RESEND_DELAY: Duration = Duration::from_secs(60);

/// Past the resend delay and two evaluations, what Alertmanager's API may take to list an
/// alert it received.
const HOLD_SLACK: Duration = Duration::from_secs(10);

/// How long past its due time a flush may take to show in Alertmanager's metrics.
const FLUSH_MARGIN: Duration = Duration::from_secs(5);

/// Past a group wait and a group interval, what Slack's answer may take to be counted.
const SEND_SLACK: Duration = Duration::from_secs(10);

/// How many scrape intervals back the drill looks for a scrape, and waits for one: the last
/// may be late, and the one before may straddle the moment looked from.
const SCRAPES_BACK: u32 = 3;

/// Past the scrapes looked back over, what a scrape may take to be queryable.
const SCRAPE_SLACK: Duration = Duration::from_secs(5);

/// Past a whole rate window, how long the drill waits for other traffic to thin out before
/// slow commands can lift the window's average latency.
const QUIET_GRACE: Duration = Duration::from_secs(60);

/// The longest slow commands may have to run: Redis is blocked while they do.
const SLOW_RUN_LONGEST: Duration = Duration::from_secs(60);

/// How much longer than the arithmetic says slow commands run: the window slides meanwhile.
const SLOW_RUN_FACTOR: f64 = 1.2;

/// Past that, the scrape and evaluation that see the window's new average.
const SLOW_RUN_SLACK: Duration = Duration::from_secs(5);

/// How often at most Prometheus' discovery hands its targets on — Alertmanager's too, which a
/// configuration reload forgets until then.
const DISCOVERY_THROTTLE: Duration = Duration::from_secs(5);

/// Past that, the time for the notifier to take it up and the drill to ask.
const DISCOVERY_SLACK: Duration = Duration::from_secs(10);

/// The stack's timing, as the drill waits on it.
#[derive(Debug, Clone)]
pub(crate) struct Timing {
    /// How often Prometheus scrapes the exporter.
    scrape: Duration,
    /// How often Prometheus evaluates its rules.
    evaluation: Duration,
    /// Alertmanager's `group_wait`: how long it holds a new group's first alert before sending.
    group_wait: Duration,
    /// Alertmanager's `group_interval`: how long it may take to send a group's changes.
    group_interval: Duration,
    /// Alertmanager's `repeat_interval`: how often it sends a group that keeps firing again.
    repeat_interval: Duration,
    /// Each alert's rendered `for`.
    fors: BTreeMap<AlertKind, Duration>,
    /// `--quick`: the drill's `for: 0s` copies of the alerts are the ones that count.
    quick: bool,
    /// The rate window of the alerts the drill induces: the catalogue's, or the quick copies'.
    window: Duration,
}

fn std_duration(duration: crate::model::units::Duration) -> Duration {
    Duration::from_millis(duration.millis())
}

/// The quick copies' rate window for an exporter scraped every `scrape`: four scrapes, at
/// least 20 s, at most the catalogue's window; whole seconds, so that it divides evenly.
pub(crate) fn quick_window(scrape: Duration) -> Duration {
    let window = (QUICK_WINDOW_SCRAPES * scrape).max(QUICK_WINDOW_LEAST);
    Duration::from_secs(window.min(RATE_WINDOW).as_secs_f64().ceil() as u64)
}

/// A duration in Prometheus' grammar (`5m`, `6m5s`), for PromQL ranges and messages.
pub(crate) fn spelled(duration: Duration) -> String {
    let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    crate::model::units::Duration::from_millis(millis).to_string()
}

impl Timing {
    /// The timing of `stack`: the exporter's scrape interval (the series the alerts watch),
    /// Prometheus' evaluation interval, Alertmanager's intervals and each alert's `for`.
    /// Under `--quick`, Alertmanager's timings are those of the drill's own route.
    pub(crate) fn new(stack: &Stack, quick: bool) -> Self {
        let alertmanager = &stack.alertmanager;
        let scrape = std_duration(stack.redis_exporter.scrape_interval);
        let (group_wait, group_interval) = match quick {
            true => (DRILL_GROUP_WAIT, DRILL_GROUP_INTERVAL),
            false => (
                std_duration(alertmanager.group_wait),
                std_duration(alertmanager.group_interval),
            ),
        };
        Self {
            scrape,
            evaluation: std_duration(stack.prometheus.evaluation_interval),
            group_wait,
            group_interval,
            repeat_interval: std_duration(alertmanager.repeat_interval),
            fors: stack
                .alerts
                .iter()
                .map(|a| (a.kind, std_duration(a.r#for)))
                .collect(),
            quick,
            window: match quick {
                true => quick_window(scrape),
                false => RATE_WINDOW,
            },
        }
    }

    /// The rate window of the alerts the drill induces: the quick copies' under `--quick`.
    pub(crate) fn window(&self) -> Duration {
        self.window
    }

    /// What the quick copies divide the catalogue's rate windows by (1 when not quick).
    pub(crate) fn scale(&self) -> f64 {
        RATE_WINDOW.as_secs_f64() / self.window.as_secs_f64()
    }

    /// Whether the drill's `for: 0s` copies of the alerts are the ones that count.
    pub(crate) fn quick(&self) -> bool {
        self.quick
    }

    /// The `for` an alert is evaluated with: its rendered one, none under `--quick`.
    fn effective_for(&self, kind: AlertKind) -> Duration {
        if self.quick {
            Duration::ZERO
        } else {
            self.fors.get(&kind).copied().unwrap_or_default()
        }
    }

    /// Past an alert's `for`, how long a change in Redis may take to show in its state: two
    /// scrapes and two evaluations.
    pub(crate) fn shows(&self) -> Duration {
        2 * self.scrape + 2 * self.evaluation + SHOW_SLACK
    }

    /// How long an induced alert may take to fire: its `for`, then the time it takes to show.
    pub(crate) fn fires(&self, kind: AlertKind) -> Duration {
        self.effective_for(kind) + self.shows()
    }

    /// How long an alert still active from before may take to go: its burst leaves the window.
    pub(crate) fn settles(&self) -> Duration {
        self.window + self.shows()
    }

    /// How long an alert must not have fired for its next firing to be news to Alertmanager: a
    /// group interval (that it resolved is sent), the group's clean-up, two evaluations.
    pub(crate) fn forgotten_after(&self) -> Duration {
        self.group_interval + GROUP_CLEANUP + 2 * self.evaluation + FORGET_SLACK
    }

    /// How long the drill waits for that: the quiet itself, then the time it takes to show.
    pub(crate) fn forgotten_within(&self) -> Duration {
        self.forgotten_after() + self.shows()
    }

    /// How long a firing alert may take to be held by Alertmanager: Prometheus' resend delay
    /// (after Alertmanager restarted) and two evaluations.
    pub(crate) fn held_within(&self) -> Duration {
        RESEND_DELAY + 2 * self.evaluation + HOLD_SLACK
    }

    /// How long after Alertmanager holds an alert it sends its group: `group_wait` for a new
    /// group, `group_interval` for one already there (`shared`).
    pub(crate) fn flushed_after(&self, shared: bool) -> Duration {
        FLUSH_MARGIN
            + if shared {
                self.group_interval
            } else {
                self.group_wait
            }
    }

    /// How long the drill waits for a Slack notification once Alertmanager holds the alert: a
    /// group wait and a group interval, whichever group it joined.
    pub(crate) fn sent_within(&self) -> Duration {
        self.group_wait + self.group_interval + SEND_SLACK
    }

    /// How long an undone alert may take to resolve once `after` has passed: the time to show,
    /// and two evaluations more for Prometheus to drop it from its active alerts.
    pub(crate) fn resolves_within(&self, after: Duration) -> Duration {
        after + self.shows() + 2 * self.evaluation
    }

    /// How much longer a burst seen `since` ago counts in the rate window.
    pub(crate) fn window_left(&self, since: Duration) -> Duration {
        self.window.saturating_sub(since)
    }

    /// How long an alert on a falling rate may take once its load stops: the load leaves the
    /// window, then its `for`, then the time it takes to show.
    pub(crate) fn falls_within(&self, kind: AlertKind) -> Duration {
        self.window + self.effective_for(kind) + self.shows()
    }

    /// How long slow commands expected to need `needed` may take to fire `kind`: twice that
    /// (the window slides under them), its `for`, and twice the time to show.
    pub(crate) fn slow_fires(&self, needed: Duration, kind: AlertKind) -> Duration {
        2 * needed + self.effective_for(kind) + 2 * self.shows()
    }

    /// How long the drill waits for the window to be quiet enough for slow commands.
    pub(crate) fn quiet_within(&self) -> Duration {
        self.window + QUIET_GRACE
    }

    /// How long slow commands of `each` seconds must run to lift the window's average latency
    /// above `threshold` seconds, the window holding `commands` commands that took `busy`
    /// seconds; `None` when that is longer than Redis may be blocked.
    pub(crate) fn slow_run(
        &self,
        commands: f64,
        busy: f64,
        threshold: f64,
        each: f64,
    ) -> Option<Duration> {
        // (busy + t) / (commands + t / each) > threshold, for t seconds of slow commands.
        let t = ((threshold * commands - busy) / (1.0 - threshold / each)).max(0.0);
        let needed = t * SLOW_RUN_FACTOR + SLOW_RUN_SLACK.as_secs_f64();
        (needed <= SLOW_RUN_LONGEST.as_secs_f64()).then(|| Duration::from_secs_f64(needed))
    }

    /// How long Prometheus may take, after a reload, to know its Alertmanager again.
    pub(crate) fn rediscovered_within(&self) -> Duration {
        DISCOVERY_THROTTLE + DISCOVERY_SLACK
    }

    /// How long a scrape the drill waits for may take to be in Prometheus.
    pub(crate) fn scraped_within(&self) -> Duration {
        self.lookback() + SCRAPE_SLACK
    }

    /// How far back from a moment the drill looks for the scrape before it.
    pub(crate) fn lookback(&self) -> Duration {
        SCRAPES_BACK * self.scrape
    }
}

/// One line for the drill's progress: the stack's intervals and the longest waits they make.
impl fmt::Display for Timing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "scrapes every {}, evaluations every {}, rates over {}{}; Alertmanager groups \
             after {}, every {}{}, repeats every {}; an alert shows {} past its `for`{}, is news \
             again {} after it last fired, and is sent within {} of being held",
            spelled(self.scrape),
            spelled(self.evaluation),
            spelled(self.window),
            if self.quick {
                " (the quick copies')"
            } else {
                ""
            },
            spelled(self.group_wait),
            spelled(self.group_interval),
            if self.quick {
                " (the drill's route)"
            } else {
                ""
            },
            spelled(self.repeat_interval),
            spelled(self.shows()),
            if self.quick { " (none: --quick)" } else { "" },
            spelled(self.forgotten_after()),
            spelled(self.sent_within()),
        )
    }
}

#[cfg(test)]
mod tests;
