//! The exporter's password map when targets other than the managed Redis take passwords: one
//! JSON object, `{"redis://host:port": "password", …}`, assembled by `up` from every target's
//! secret. It reaches the exporter as a secret of its own (a runtime copy, like any other), and
//! its source is written under the private runtime folder, so that plain `docker compose`
//! finds it there too; never under `generated/`. When the managed Redis is the only target with
//! a password, its start script writes the map instead, with the same rule for the secret and
//! the same JSON (`render::secret_shell`).

use std::collections::BTreeMap;
use std::path::Path;

use super::secrets;
use super::spec::SecretSource;
use crate::error::{Error, Result};

/// One target's entry: its address, and where its password comes from.
pub(crate) struct MapEntry {
    pub address: String,
    /// The secret as errors name it: `password of target buffer-eu-1`.
    pub name: String,
    /// Where `stack.toml` declares it, for errors.
    pub key: String,
    pub source: SecretSource,
}

/// The map, assembled: its text, and every password in it (for redaction).
pub(crate) struct Assembled {
    pub text: Vec<u8>,
    pub values: Vec<Vec<u8>>,
}

/// Reads every entry's password; the problems of all that cannot be read, together.
pub(crate) fn assemble(entries: &[MapEntry]) -> (Assembled, Vec<Error>) {
    let mut map = BTreeMap::new();
    let mut values = Vec::new();
    let mut problems = Vec::new();
    for entry in entries {
        match secrets::read(&entry.source) {
            Ok(password) => {
                values.push(password.clone().into_bytes());
                map.insert(entry.address.as_str(), password);
            }
            Err(why) => problems.push(Error::Secret {
                name: entry.name.clone(),
                key: entry.key.clone(),
                why,
            }),
        }
    }
    let text = serde_json::to_vec(&map).expect("a map of strings serializes");
    (Assembled { text, values }, problems)
}

/// Writes the map's source where `compose.yaml` declares it, readable by the exporter's user
/// alone.
pub(crate) fn write_source(path: &Path, assembled: &Assembled, user: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        secrets::private_dir(dir)?;
    }
    secrets::write_file(path, &assembled.text, user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_holds_every_password_by_address_and_names_what_is_missing() {
        let dir = std::env::temp_dir().join(format!("stackgen-map-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a"), "pa\"ss\r\n").unwrap();
        std::fs::write(dir.join("c"), "t\tab\\\u{1}\u{7f}é\n").unwrap();
        let entry = |address: &str, source| MapEntry {
            address: address.into(),
            name: format!("password of target {address}"),
            key: "targets.0.password".into(),
            source,
        };
        let (assembled, problems) = assemble(&[
            entry("redis://a:6379", SecretSource::File(dir.join("a"))),
            entry("redis://b:6379", SecretSource::File(dir.join("missing"))),
            entry("redis://c:6379", SecretSource::File(dir.join("c"))),
        ]);
        // Control characters escaped: the exporter's JSON decoder refuses them raw.
        assert_eq!(
            String::from_utf8(assembled.text).unwrap(),
            "{\"redis://a:6379\":\"pa\\\"ss\",\"redis://c:6379\":\"t\\tab\\\\\\u0001\u{7f}é\"}"
        );
        assert_eq!(
            assembled.values,
            [
                b"pa\"ss".to_vec(),
                "t\tab\\\u{1}\u{7f}é".as_bytes().to_vec()
            ]
        );
        assert_eq!(problems.len(), 1);
        assert!(problems[0].to_string().contains("redis://b:6379"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
