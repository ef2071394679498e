//! A TOML document with its name and an index from dotted key paths to their places, so
//! that every error and finding can point at `file:line:col`. It owns no semantics.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::de::{DeTable, DeValue};

use crate::diagnostic::{Code, Diagnostic, Location};

#[derive(Debug, Clone)]
pub(crate) struct Source {
    /// The name errors use: the path as the user gave it, or `<built-in>/…`.
    pub name: String,
    pub text: String,
    /// Dotted key path → the span of its key.
    keys: BTreeMap<String, Range<usize>>,
}

impl Source {
    /// Parses the document and its key index; a syntax error comes back located.
    pub(crate) fn parse(
        name: impl Into<String>,
        text: impl Into<String>,
    ) -> Result<Self, Diagnostic> {
        let mut source = Self {
            name: name.into(),
            text: text.into(),
            keys: BTreeMap::new(),
        };
        let table = DeTable::parse(&source.text).map_err(|e| source.toml_error(&e))?;
        let mut keys = BTreeMap::new();
        index(table.get_ref(), "", &mut keys);
        source.keys = keys;
        Ok(source)
    }

    /// Deserializes the document into its typed form.
    pub(crate) fn deserialize<T: DeserializeOwned>(&self) -> Result<T, Diagnostic> {
        toml::from_str(&self.text).map_err(|e| self.toml_error(&e))
    }

    fn toml_error(&self, error: &toml::de::Error) -> Diagnostic {
        let offset = error.span().map_or(0, |span| span.start);
        // The message alone: toml's own rendering quotes the source line, which may hold a
        // secret the user typed by mistake.
        let message = error.message().trim_end().replace('\n', " ");
        let message = humane(&message, self.key_at(offset));
        Diagnostic::error(self.at(offset), Code::Schema, message)
    }

    /// The key of the `key = value` line that holds a byte offset.
    fn key_at(&self, offset: usize) -> Option<&str> {
        let offset = offset.min(self.text.len());
        let start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line = self.text[start..].lines().next()?;
        let (key, _) = line.split_once('=')?;
        let key = key.trim().trim_matches('"');
        key.rsplit('.').next().filter(|k| !k.is_empty())
    }

    /// The location of a byte offset.
    pub(crate) fn at(&self, offset: usize) -> Location {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Location {
            file: self.name.clone(),
            line,
            column: self.text[line_start..offset].chars().count() + 1,
        }
    }

    /// Where a dotted key path (`redis.maxmemory`) is set, if this document sets it.
    pub(crate) fn locate(&self, path: &str) -> Option<Location> {
        self.keys.get(path).map(|span| self.at(span.start))
    }

    /// Where a key path is set, or failing that its nearest enclosing table.
    pub(crate) fn locate_nearest(&self, path: &str) -> Location {
        let mut path = path;
        loop {
            if let Some(location) = self.locate(path) {
                return location;
            }
            match path.rfind('.') {
                Some(dot) => path = &path[..dot],
                None => return self.at(0),
            }
        }
    }
}

fn index(table: &DeTable<'_>, prefix: &str, keys: &mut BTreeMap<String, Range<usize>>) {
    for (key, value) in table.iter() {
        let path = if prefix.is_empty() {
            key.get_ref().to_string()
        } else {
            format!("{prefix}.{}", key.get_ref())
        };
        match value.get_ref() {
            DeValue::Table(inner) => index(inner, &path, keys),
            // `[[targets]]`: each table of the array at `targets.<i>`.
            DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let DeValue::Table(inner) = item.get_ref() {
                        let item_path = format!("{path}.{i}");
                        keys.insert(item_path.clone(), item.span());
                        index(inner, &item_path, keys);
                    }
                }
            }
            _ => {}
        }
        keys.insert(path, key.span());
    }
}

/// A type error of the TOML library in the product's words: which key, what it takes, an
/// example; never the library's type names.
fn humane(message: &str, key: Option<&str>) -> String {
    const SIZES: &[&str] = &["memory_limit", "maxmemory", "retention_size"];
    if let Some(unknown) = unknown_key(message) {
        return unknown;
    }
    let parsed = ["invalid type: ", "invalid value: "]
        .iter()
        .find_map(|p| message.strip_prefix(p))
        .and_then(|rest| rest.rsplit_once(", expected "));
    let (Some(key), Some((found, expected))) = (key, parsed) else {
        return message.to_string();
    };
    let found = match found.split_once(' ') {
        Some(("integer" | "floating", rest)) => rest
            .trim_start_matches("point ")
            .trim_matches('`')
            .to_string(),
        Some(("boolean", rest)) => rest.trim_matches('`').to_string(),
        Some(("string", rest)) => format!("{rest} (in quotes)"),
        _ if found == "sequence" => "a list".to_string(),
        _ if found == "map" => "a table".to_string(),
        _ => found.to_string(),
    };
    let max = match expected {
        "u8" => Some("255"),
        "u16" => Some("65535"),
        "u32" => Some("4294967295"),
        "u64" | "i64" | "usize" => Some("18446744073709551615"),
        _ => None,
    };
    if let Some(max) = max {
        return if key == "port" || key.ends_with("_port") {
            format!(
                "`{key}` must be a port number from 1 to 65535, not {found}: e.g. `{key} = 6379`"
            )
        } else {
            format!("`{key}` must be a whole number from 0 to {max}, not {found}")
        };
    }
    match expected {
        "a string" if SIZES.contains(&key) => format!(
            "`{key}` is a size with an IEC unit, written as a string, not {found}: \
             e.g. `{key} = \"2GiB\"` (units B, KiB, MiB, GiB, TiB)"
        ),
        "a string" => format!("`{key}` takes a string in quotes, not {found}"),
        "a boolean" => format!("`{key}` is true or false, not {found}"),
        "f64" | "f32" => format!("`{key}` takes a number, not {found}"),
        "a map" => format!("`{key}` takes a table (`{{ name = \"value\" }}`), not {found}"),
        "a sequence" => format!("`{key}` takes a list (`[ … ]`), not {found}"),
        other => format!("`{key}` takes {other}, not {found}"),
    }
}

/// serde's "unknown field `maxmemroy`, expected one of `a`, `b`" as a suggestion: the closest
/// key the table takes when one is close (at most a third of its letters apart), else the
/// list.
fn unknown_key(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (unknown, expected) = rest.split_once("`, expected ")?;
    let expected = expected.strip_prefix("one of ").unwrap_or(expected);
    let keys: Vec<&str> = expected
        .split(", ")
        .map(|k| k.trim_matches('`'))
        .filter(|k| !k.is_empty())
        .collect();
    let closest = keys
        .iter()
        .map(|k| (strsim::damerau_levenshtein(unknown, k), *k))
        .min()
        .filter(|(distance, key)| *distance <= key.len().max(unknown.len()).div_ceil(3));
    Some(match closest {
        Some((_, key)) => format!("unknown key `{unknown}`: did you mean `{key}`?"),
        None => {
            let listed: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
            format!(
                "unknown key `{unknown}`: this table takes {}",
                listed.join(", ")
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_key_gets_the_closest_known_one_or_the_list() {
        let serde = "unknown field `maxmemroy`, expected one of `image`, `maxmemory`, `port`";
        assert_eq!(
            humane(serde, None),
            "unknown key `maxmemroy`: did you mean `maxmemory`?"
        );
        let far = "unknown field `colour`, expected `url`";
        assert_eq!(
            humane(far, None),
            "unknown key `colour`: this table takes `url`"
        );
        let table = "invalid type: integer `5`, expected a map";
        assert_eq!(
            humane(table, Some("labels")),
            "`labels` takes a table (`{ name = \"value\" }`), not 5"
        );
        let number = "invalid type: string \"ten\", expected f64";
        assert_eq!(
            humane(number, Some("threshold_ms")),
            "`threshold_ms` takes a number, not \"ten\" (in quotes)"
        );
    }

    #[test]
    fn locates_keys_in_headers_and_inline_tables() {
        let text = "[stack]\nname = \"x\"\n\n[redis]\npassword = { file = \"p\" }\n";
        let source = Source::parse("stack.toml", text).unwrap();
        assert_eq!(
            source.locate("stack.name").unwrap().to_string(),
            "stack.toml:2:1"
        );
        assert_eq!(
            source.locate("redis.password.file").unwrap().to_string(),
            "stack.toml:5:14"
        );
        assert_eq!(
            source.locate_nearest("redis.port").to_string(),
            "stack.toml:4:2"
        );
        assert!(source.locate("redis.port").is_none());
    }

    #[test]
    fn locates_keys_in_arrays_of_tables() {
        let text =
            "[[targets]]\nname = \"a\"\n\n[[targets]]\nname = \"b\"\nlabels = { env = \"x\" }\n";
        let source = Source::parse("stack.toml", text).unwrap();
        assert_eq!(
            source.locate("targets.1.name").unwrap().to_string(),
            "stack.toml:5:1"
        );
        assert_eq!(
            source.locate("targets.1.labels.env").unwrap().to_string(),
            "stack.toml:6:12"
        );
        assert_eq!(
            source.locate_nearest("targets.0.address").line,
            source.locate("targets.0").unwrap().line
        );
    }
}
