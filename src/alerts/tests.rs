//! The catalogue's own checks: unique names, threshold ranges, the README's table, the runbooks.

use super::*;

#[test]
fn keys_and_names_are_unique() {
    let mut keys: Vec<_> = AlertKind::ALL.iter().map(|k| k.key()).collect();
    let mut names: Vec<_> = AlertKind::ALL.iter().map(|k| k.name()).collect();
    keys.sort();
    keys.dedup();
    names.sort();
    names.dedup();
    assert_eq!(keys.len(), AlertKind::ALL.len());
    assert_eq!(names.len(), AlertKind::ALL.len());
}

#[test]
fn thresholds_check_their_range() {
    let memory = AlertKind::MemoryPressure.threshold().unwrap();
    assert_eq!(memory.key, "threshold_percent");
    assert!(memory.check(90.0).is_ok());
    assert_eq!(
        memory.check(100.0).unwrap_err(),
        "`threshold_percent` must be between 0 and 100, exclusive, not 100"
    );
    let latency = AlertKind::HighLatency.threshold().unwrap();
    assert_eq!(
        latency.check(0.0).unwrap_err(),
        "`threshold_ms` must be between 0 and 3600000, exclusive, not 0"
    );
    assert!(latency.check(f64::INFINITY).is_err());
    assert!(latency.check(f64::NAN).is_err());
    assert!(latency.check(1e300).is_err());
    assert!(latency.check(1e-10).is_ok(), "tiny, and written exactly");
    assert_eq!(AlertKind::RedisDown.threshold(), None);
}

#[test]
fn the_readme_lists_the_catalogue() {
    // The whole section after the prose, up to the next heading, is the table: nothing
    // pasted after it goes unnoticed.
    let readme = include_str!("../../README.md");
    let table = markdown_table();
    let start = readme
        .find("| key | alert |")
        .expect("README.md has the alert table");
    let end = readme[start..]
        .find("\n#")
        .map_or(readme.len(), |end| start + end);
    assert_eq!(
        readme[start..end].trim_end(),
        table.trim_end(),
        "README.md's alert table, up to the next heading, differs from the catalogue"
    );
}

#[test]
fn every_alert_has_a_runbook() {
    let runbooks = include_str!("../../docs/runbooks.md");
    for kind in AlertKind::ALL {
        let heading = format!("\n## {}\n", kind.name());
        assert!(
            runbooks.contains(&heading),
            "docs/runbooks.md lacks {}",
            kind.name()
        );
    }
}
