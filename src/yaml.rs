//! The one door to YAML: every YAML the tool reads back goes through here, so the library
//! behind it (serde-saphyr, the maintained successor of serde_yaml) is swapped in one place.
//! Duplicate keys are errors.

use serde::de::DeserializeOwned;

pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_saphyr::from_str(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn duplicate_keys_are_errors() {
        let err = super::from_str::<serde_json::Value>("a: 1\na: 2\n").unwrap_err();
        assert!(err.to_lowercase().contains("duplicate"), "{err}");
        let ok: serde_json::Value = super::from_str("a: [1, \"x\"]\n").unwrap();
        assert_eq!(ok, serde_json::json!({"a": [1, "x"]}));
    }
}
