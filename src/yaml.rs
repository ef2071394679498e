//! The one door to YAML: every YAML the tool reads back goes through here, so the library
//! behind it (serde-saphyr, the maintained successor of serde_yaml) is swapped in one place.
//! Duplicate keys are errors.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A value as block YAML.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, String> {
    serde_saphyr::to_string(value).map_err(|e| humane(&e.to_string()))
}

pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_saphyr::from_str(text).map_err(|e| humane(&e.to_string()))
}

/// The library's message in the product's words: its first line, without the library's advice
/// on its own options or its quoting of the source.
fn humane(message: &str) -> String {
    let first = message.lines().next().unwrap_or_default();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let first = first
        .split(", set DuplicateKeyPolicy")
        .next()
        .unwrap_or(first);
    match first.split_once("duplicate mapping key: ") {
        Some((place, key)) => format!("{place}the key `{key}` appears twice in one mapping"),
        None => first.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn duplicate_keys_are_errors() {
        let err = super::from_str::<serde_json::Value>("a: 1\na: 2\n").unwrap_err();
        assert_eq!(
            err,
            "line 2 column 1: the key `a` appears twice in one mapping"
        );
        let ok: serde_json::Value = super::from_str("a: [1, \"x\"]\n").unwrap();
        assert_eq!(ok, serde_json::json!({"a": [1, "x"]}));
    }
}
