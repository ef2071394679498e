//! Defaults that depend on another key follow it: a complete, valid input never fails
//! because of a default, and an explicit contradiction still does.

use super::*;
use crate::model::source::Source;

/// The dev profile's stack of a `stack.toml` text, with no profile overlay: the errors when it
/// does not resolve. For the unit tests of every part that takes a `Stack`.
pub(crate) fn from_text(text: &str) -> Result<Stack, Vec<Diagnostic>> {
    let source = Source::parse("stack.toml", text).unwrap();
    let profile = Source::parse("profile.toml", "").unwrap();
    let sources = Sources {
        stack: &source,
        profile: &profile,
    };
    let file: StackFile = source.deserialize().unwrap();
    resolve(&file, "dev", &profile.deserialize().unwrap(), sources)
}

fn resolve_text(text: &str) -> Result<Stack, Vec<Diagnostic>> {
    from_text(&format!("[stack]\nname = \"t\"\n{text}"))
}

fn codes(text: &str) -> Vec<&'static str> {
    match resolve_text(text) {
        Ok(_) => vec![],
        Err(found) => found.iter().map(|d| d.code.as_str()).collect(),
    }
}

#[test]
fn the_scrape_timeout_follows_a_short_scrape_interval() {
    let stack = resolve_text("[prometheus]\nscrape_interval = \"5s\"\n").unwrap();
    assert_eq!(stack.prometheus.scrape_timeout.to_string(), "5s");
    assert_eq!(stack.redis_exporter.scrape_timeout.to_string(), "5s");
    let stack = resolve_text("[prometheus]\nscrape_interval = \"1m\"\n").unwrap();
    assert_eq!(stack.prometheus.scrape_timeout.to_string(), "10s");
    // Said explicitly, a timeout above the interval is still an error.
    let bad = "[prometheus]\nscrape_interval = \"5s\"\nscrape_timeout = \"10s\"\n";
    assert_eq!(codes(bad), ["SG004"]);
}

#[test]
fn the_evaluation_interval_follows_the_scrape_interval() {
    let stack = resolve_text("[prometheus]\nscrape_interval = \"30s\"\n").unwrap();
    assert_eq!(stack.prometheus.evaluation_interval.to_string(), "30s");
    let stack = resolve_text("").unwrap();
    assert_eq!(stack.prometheus.evaluation_interval.to_string(), "15s");
    let set = "[prometheus]\nscrape_interval = \"30s\"\nevaluation_interval = \"1m\"\n";
    assert_eq!(
        resolve_text(set)
            .unwrap()
            .prometheus
            .evaluation_interval
            .to_string(),
        "1m"
    );
}

#[test]
fn maxmemory_and_the_memory_limit_follow_each_other() {
    let memory = |text: &str| {
        let redis = resolve_text(text).unwrap().redis;
        (redis.memory_limit.to_string(), redis.maxmemory.to_string())
    };
    assert_eq!(memory(""), ("2GiB".into(), "1536MiB".into()));
    let limit = "[redis]\nmemory_limit = \"1GiB\"\n";
    assert_eq!(memory(limit), ("1GiB".into(), "768MiB".into()));
    let max = "[redis]\nmaxmemory = \"3GiB\"\n";
    assert_eq!(memory(max), ("4GiB".into(), "3GiB".into()));
    let odd = "[redis]\nmemory_limit = \"1000MiB\"\n";
    assert_eq!(memory(odd), ("1000MiB".into(), "750MiB".into()));
    // Both given and contradictory: still an error.
    let both = "[redis]\nmemory_limit = \"1GiB\"\nmaxmemory = \"1GiB\"\n";
    assert_eq!(codes(both), ["SG002"]);
}
