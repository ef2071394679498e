//! Prometheus' view of its targets, judged the way `up` and `status` report it: discovered or
//! not, up, down or pending. A target whose container does not run, or whose last scrape
//! predates its container or failed while it was starting, is pending: that scrape is about
//! another container, or about its start, not about the one running now. Pure: the caller
//! hands in Prometheus' answer, the time and when each container started.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::Value;

/// A target Prometheus knows but has not scraped yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct PendingTarget {
    pub(crate) job: String,
    /// The latest time its first scrape (of the container that runs now) is due (UTC,
    /// RFC 3339): Prometheus scrapes a new
    /// target within one scrape interval.
    pub(crate) first_scrape_due: String,
}

/// When each service's running container started, by service; a service not running is absent.
pub(crate) type Started = BTreeMap<String, SystemTime>;

/// How long after its container starts a service may fail a scrape for starting: every service
/// of the stack answers within seconds, so a scrape that failed earlier is about the start.
const STARTING: Duration = Duration::from_secs(10);

/// The service whose container answers a Prometheus job's scrapes: the exporter answers for
/// every Redis target.
fn scraped_service(job: &str) -> &str {
    match job {
        "redis" => "redis-exporter",
        other => other,
    }
}

/// Prometheus' active targets, judged: how many are up, which are pending.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Targets {
    pub(crate) up: usize,
    pub(crate) pending: Vec<PendingTarget>,
}

impl Targets {
    /// An error when a job has no target yet or a scraped target is down. A target whose
    /// container does not run, or whose last scrape predates its container or failed while it
    /// was starting, is pending: that scrape is about another container, or about its start.
    pub(crate) fn read(
        targets: &Value,
        jobs: &[&str],
        now: SystemTime,
        started: &Started,
    ) -> std::result::Result<Self, String> {
        let active = targets["data"]["activeTargets"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let job = |t: &Value| t["labels"]["job"].as_str().unwrap_or("?").to_string();
        let missing: Vec<&str> = jobs
            .iter()
            .filter(|j| !active.iter().any(|t| job(t) == **j))
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "targets not discovered yet: {}",
                missing.join(", ")
            ));
        }
        let stale = |t: &Value| {
            let Some(since) = started.get(scraped_service(&job(t))) else {
                return true;
            };
            let last = t["lastScrape"].as_str().and_then(parse_time);
            let last = last.unwrap_or(UNIX_EPOCH);
            last < *since || (t["health"] == "down" && last < *since + STARTING)
        };
        let down: Vec<String> = active
            .iter()
            .filter(|t| t["health"] == "down" && !stale(t))
            .map(|t| {
                let error = t["lastError"].as_str().unwrap_or_default();
                format!("{} ({error})", job(t))
            })
            .collect();
        if !down.is_empty() {
            return Err(format!("targets down: {}", down.join(", ")));
        }
        let pending = active
            .iter()
            .filter(|t| t["health"] != "up" || stale(t))
            .map(|t| {
                let interval = t["scrapeInterval"].as_str().unwrap_or("1m");
                PendingTarget {
                    job: job(t),
                    first_scrape_due: rfc3339(now + parse_interval(interval)),
                }
            })
            .collect::<Vec<_>>();
        Ok(Self {
            up: active.len() - pending.len(),
            pending,
        })
    }
}

/// A Prometheus duration such as `15s`, `1m30s` or `500ms`; a minute when unreadable.
fn parse_interval(text: &str) -> Duration {
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let Ok(n) = rest[..digits].parse::<u64>() else {
            return Duration::from_secs(60);
        };
        rest = &rest[digits..];
        let unit = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        total += match &rest[..unit] {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n * 60),
            "h" => Duration::from_secs(n * 3600),
            "d" => Duration::from_secs(n * 86_400),
            _ => return Duration::from_secs(60),
        };
        rest = &rest[unit..];
    }
    total
}

/// `time` as `2026-11-26T01:02:03Z`.
fn rfc3339(time: SystemTime) -> String {
    let time = chrono::DateTime::<chrono::Utc>::from(time);
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// An RFC 3339 time as the engine and Prometheus write it (`2026-12-07T03:45:29.123456789Z`).
pub(crate) fn parse_time(text: &str) -> Option<SystemTime> {
    let time = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    Some(SystemTime::from(time.with_timezone(&chrono::Utc)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A target of `/api/v1/targets`, last scraped `scraped` seconds after the test's epoch.
    fn target(job: &str, health: &str, error: &str, scraped: u64) -> Value {
        let scraped = UNIX_EPOCH + Duration::from_secs(1_795_000_000 + scraped);
        serde_json::json!({
            "labels": {"job": job},
            "health": health,
            "lastError": error,
            "lastScrape": if health == "unknown" {
                "0001-01-01T00:00:00Z".to_string()
            } else {
                rfc3339(scraped).replace('Z', ".123456789Z")
            },
            "scrapeInterval": "15s",
        })
    }

    #[test]
    fn unscraped_and_stale_targets_are_pending_and_scraped_down_ones_fail() {
        let epoch = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let now = epoch + Duration::from_secs(100);
        let jobs = ["prometheus", "redis", "redis-exporter"];
        let answer = |targets: Vec<Value>| serde_json::json!({"data": {"activeTargets": targets}});
        // Every container started at 50 s, unless a case says otherwise.
        let at = |exporter: Option<u64>| {
            let mut started = Started::from([("prometheus".to_string(), epoch)]);
            if let Some(secs) = exporter {
                started.insert("redis-exporter".into(), epoch + Duration::from_secs(secs));
            }
            started
        };
        let up = || target("prometheus", "up", "", 90);
        let redis = || target("redis", "up", "", 90);
        let due = "2026-11-18T11:08:35Z";
        let pending = |job: &str| Targets {
            up: 2,
            pending: vec![PendingTarget {
                job: job.into(),
                first_scrape_due: due.into(),
            }],
        };
        // (exporter target, when the exporter's container started, what is judged)
        let cases: [(Value, Option<u64>, Result<Targets, &str>); 6] = [
            // Not scraped yet.
            (
                target("redis-exporter", "unknown", "", 0),
                Some(50),
                Ok(pending("redis-exporter")),
            ),
            // Scraped, up, after the start.
            (
                target("redis-exporter", "up", "", 80),
                Some(50),
                Ok(Targets {
                    up: 3,
                    pending: vec![],
                }),
            ),
            // Down well after its start: a failure.
            (
                target("redis-exporter", "down", "connection refused", 80),
                Some(50),
                Err("targets down: redis-exporter (connection refused)"),
            ),
            // Down before `up` replaced its container (no such host in between): stale.
            (
                target("redis-exporter", "down", "no such host", 45),
                Some(50),
                Ok(pending("redis-exporter")),
            ),
            // Down within seconds of the start: about the start.
            (
                target("redis-exporter", "down", "connection refused", 52),
                Some(50),
                Ok(pending("redis-exporter")),
            ),
            // Up, but the container does not run now: not judged yet.
            (
                target("redis-exporter", "up", "", 80),
                None,
                Ok(Targets {
                    up: 1,
                    pending: vec![
                        PendingTarget {
                            job: "redis".into(),
                            first_scrape_due: due.into(),
                        },
                        PendingTarget {
                            job: "redis-exporter".into(),
                            first_scrape_due: due.into(),
                        },
                    ],
                }),
            ),
        ];
        for (exporter, started, expected) in cases {
            let found = Targets::read(
                &answer(vec![up(), redis(), exporter.clone()]),
                &jobs,
                now,
                &at(started),
            );
            assert_eq!(
                found,
                expected.map_err(String::from),
                "{exporter} started {started:?}"
            );
        }
        let early = answer(vec![target("prometheus", "unknown", "", 0)]);
        assert_eq!(
            Targets::read(&early, &jobs, now, &at(Some(50))).unwrap_err(),
            "targets not discovered yet: redis, redis-exporter"
        );
    }

    #[test]
    fn intervals_and_times_read_and_print_as_prometheus_and_rfc_3339_do() {
        let cases = [
            ("15s", 15_000),
            ("1m30s", 90_000),
            ("500ms", 500),
            ("2h", 7_200_000),
        ];
        for (text, millis) in cases {
            assert_eq!(
                parse_interval(text),
                Duration::from_millis(millis),
                "{text}"
            );
        }
        assert_eq!(parse_interval("soon"), Duration::from_secs(60));
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400 + 86_399);
        assert_eq!(rfc3339(leap), "2000-02-29T23:59:59Z");
        let read = parse_time("2000-02-29T23:59:59.5+01:00");
        assert_eq!(read, Some(leap - Duration::from_millis(3_600_000 - 500)));
        assert_eq!(parse_time("soon"), None);
    }
}
