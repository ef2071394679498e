//! Value types of `stack.toml` with a grammar of their own: IEC sizes, Prometheus durations
//! and secret references. Each parses strictly, keeps the text the user wrote for output, and
//! never echoes a secret value in an error.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

const IEC_UNITS: [(&str, u64); 5] = [
    ("TiB", 1 << 40),
    ("GiB", 1 << 30),
    ("MiB", 1 << 20),
    ("KiB", 1 << 10),
    ("B", 1),
];

/// A byte size written with an IEC unit (`512MiB`, `2GiB`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Size(u64);

impl Size {
    pub(crate) const fn from_bytes(bytes: u64) -> Self {
        Self(bytes)
    }

    pub(crate) const fn mib(count: u64) -> Self {
        Self(count << 20)
    }

    pub(crate) const fn gib(count: u64) -> Self {
        Self(count << 30)
    }

    pub(crate) fn bytes(self) -> u64 {
        self.0
    }

    /// The size in Prometheus' unit grammar, whose `GB` means 2^30 bytes.
    pub(crate) fn prometheus(self) -> String {
        self.spelled(["TB", "GB", "MB", "KB", "B"])
    }

    /// The size in the largest binary unit that holds it whole, the units (TiB down to bytes)
    /// named by `names`: the one place Display, Prometheus and Kubernetes spellings come from.
    fn spelled(self, names: [&str; 5]) -> String {
        for ((_, factor), name) in IEC_UNITS.iter().zip(names) {
            if self.0 >= *factor && self.0.is_multiple_of(*factor) {
                return format!("{}{name}", self.0 / factor);
            }
        }
        format!("0{}", names[4])
    }
}

impl Size {
    /// The size as a Kubernetes quantity in the largest binary unit that holds it whole
    /// (`2Gi`, `1536Mi`, `1000`): integers only, which the API server keeps as written.
    pub(crate) fn kubernetes(self) -> String {
        self.spelled(["Ti", "Gi", "Mi", "Ki", ""])
    }

    /// This size and a share of it more (`percent` of it), rounded up to whole MiB.
    pub(crate) fn with_headroom(self, percent: u64) -> Self {
        const MIB: u128 = 1 << 20;
        let bytes = u128::from(self.0) * (100 + u128::from(percent)) / 100;
        Self(u64::try_from(bytes.div_ceil(MIB) * MIB).unwrap_or(u64::MAX))
    }
}

impl std::str::FromStr for Size {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let digits = text.chars().take_while(char::is_ascii_digit).count();
        let (number, unit) = text.split_at(digits);
        let Ok(number) = number.parse::<u64>() else {
            return Err(format!(
                "invalid size `{text}`: expected a whole number and an IEC unit, e.g. `512MiB` or `2GiB`"
            ));
        };
        if let Some((_, factor)) = IEC_UNITS.iter().find(|(u, _)| *u == unit) {
            return number
                .checked_mul(*factor)
                .map(Size)
                .ok_or_else(|| format!("size `{text}` is too large"));
        }
        let suggestion = match unit.to_ascii_lowercase().trim_end_matches('b') {
            "k" | "ki" => Some("KiB"),
            "m" | "mi" => Some("MiB"),
            "g" | "gi" => Some("GiB"),
            "t" | "ti" => Some("TiB"),
            "" => Some("B"),
            _ => None,
        };
        Err(match suggestion {
            Some(unit) => format!(
                "invalid size `{text}`: sizes use IEC units only; did you mean `{number}{unit}`?"
            ),
            None => {
                format!("invalid size `{text}`: use one of the IEC units B, KiB, MiB, GiB, TiB")
            }
        })
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spelled(IEC_UNITS.map(|(unit, _)| unit)))
    }
}

/// A duration in Prometheus' grammar: `30s`, `5m`, `200h`, `1h30m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration {
    millis: u64,
}

const DURATION_UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

impl Duration {
    pub const fn from_millis(millis: u64) -> Self {
        Self { millis }
    }

    pub const fn from_secs(seconds: u64) -> Self {
        Self::from_millis(seconds * 1_000)
    }

    pub const fn from_mins(minutes: u64) -> Self {
        Self::from_secs(minutes * 60)
    }

    pub const fn from_hours(hours: u64) -> Self {
        Self::from_mins(hours * 60)
    }

    pub fn millis(self) -> u64 {
        self.millis
    }

    pub fn seconds(self) -> f64 {
        self.millis as f64 / 1000.0
    }
}

impl std::str::FromStr for Duration {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let invalid = || {
            format!(
                "invalid duration `{text}`: use Prometheus' grammar, whole numbers with units \
                 y, w, d, h, m, s, ms from largest to smallest (e.g. `90m` or `1h30m`)"
            )
        };
        if text == "0" {
            return Ok(Self { millis: 0 });
        }
        let mut rest = text;
        let mut millis: u64 = 0;
        let mut next_unit = 0;
        while !rest.is_empty() {
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            if digits == 0 {
                return Err(invalid());
            }
            let number: u64 = rest[..digits].parse().map_err(|_| invalid())?;
            rest = &rest[digits..];
            // `ms` must be tried before `m`.
            let found = (next_unit..DURATION_UNITS.len())
                .filter(|&i| rest.starts_with(DURATION_UNITS[i].0))
                .max_by_key(|&i| DURATION_UNITS[i].0.len());
            let Some(index) = found else {
                return Err(invalid());
            };
            let (unit, factor) = DURATION_UNITS[index];
            if rest[unit.len()..].starts_with(|c: char| c.is_ascii_alphabetic()) {
                return Err(invalid());
            }
            rest = &rest[unit.len()..];
            millis = number
                .checked_mul(factor)
                .and_then(|m| millis.checked_add(m))
                .ok_or_else(invalid)?;
            next_unit = index + 1;
        }
        if text.is_empty() {
            return Err(invalid());
        }
        // Prometheus and Alertmanager hold durations in Go's `time.Duration`: nanoseconds in
        // an i64, about 292 years. A longer one renders, and then the service refuses to start.
        if u128::from(millis) * 1_000_000 > i64::MAX as u128 {
            return Err(format!(
                "duration `{text}` is longer than Prometheus and Alertmanager can hold (292 years)"
            ));
        }
        Ok(Self { millis })
    }
}

impl fmt::Display for Duration {
    /// A canonical spelling in hours, minutes, seconds and milliseconds (`200h`, `1h30m`):
    /// days, weeks and years are left out because their lengths surprise people.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.millis == 0 {
            return write!(f, "0s");
        }
        let mut rest = self.millis;
        for (unit, factor) in &DURATION_UNITS[3..] {
            if rest >= *factor {
                write!(f, "{}{unit}", rest / factor)?;
                rest %= *factor;
            }
        }
        Ok(())
    }
}

macro_rules! string_value {
    ($ty:ty, $name:literal, $pattern:literal, $description:literal) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(de::Error::custom)
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                $name.into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "string",
                    "pattern": $pattern,
                    "description": $description,
                })
            }
        }
    };
}

string_value!(
    Size,
    "Size",
    "^[0-9]+(B|KiB|MiB|GiB|TiB)$",
    "A size with an IEC unit: `512MiB`, `2GiB`."
);
string_value!(
    Duration,
    "Duration",
    "^(0|([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?)$",
    "A duration in Prometheus' grammar: `30s`, `5m`, `200h`, `1h30m`."
);

/// A CPU limit in cores: `0.5`, `1`, `2`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub(crate) struct Cpus(pub f64);

impl fmt::Display for Cpus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<'de> Deserialize<'de> for Cpus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Number {
            Whole(i64),
            Fraction(f64),
        }
        match Number::deserialize(deserializer) {
            Ok(Number::Whole(n)) => Ok(Cpus(n as f64)),
            Ok(Number::Fraction(x)) => Ok(Cpus(x)),
            Err(_) => Err(de::Error::custom(
                "`cpus` is a number of cores, such as 0.5 or 2 (without quotes)",
            )),
        }
    }
}

impl Serialize for Cpus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.0)
    }
}

impl JsonSchema for Cpus {
    fn schema_name() -> Cow<'static, str> {
        "Cpus".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "number",
            "exclusiveMinimum": 0,
            "description": "A CPU limit in cores: `0.5`, `1`, `2`.",
        })
    }
}

/// Where a secret's value comes from. The value itself never enters stackgen's model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Secret {
    /// A file, relative to the directory of `stack.toml`.
    File(String),
    /// An environment variable.
    Env(String),
    /// A key of a Kubernetes Secret, in a profile whose target is Kubernetes.
    Kubernetes { secret: String, key: String },
}

impl Secret {
    /// How the secret is written, for messages: `file`, `env` or `{ secret, key }`.
    pub(crate) fn form(&self) -> &'static str {
        match self {
            Self::File(_) => "`file`",
            Self::Env(_) => "`env`",
            Self::Kubernetes { .. } => "`{ secret, key }`",
        }
    }
}

const SECRET_HELP: &str = "a secret must be `{ file = \"path\" }` or `{ env = \"NAME\" }`, \
                           or in a Kubernetes profile `{ secret = \"name\", key = \"key\" }`";

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecretVisitor;

        /// Refuses any literal without showing it: the literal may be the secret itself.
        fn literal<E: de::Error>(kind: &str) -> E {
            E::custom(format!(
                "a literal {kind} is not allowed here (value not shown): {SECRET_HELP}"
            ))
        }

        impl<'de> Visitor<'de> for SecretVisitor {
            type Value = Secret;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(SECRET_HELP)
            }

            fn visit_str<E: de::Error>(self, _: &str) -> Result<Secret, E> {
                Err(literal("string"))
            }

            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Secret, E> {
                Err(literal("number"))
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Secret, E> {
                Err(literal("number"))
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Secret, E> {
                Err(literal("number"))
            }

            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Secret, E> {
                Err(literal("boolean"))
            }

            fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Secret, A::Error> {
                Err(literal("array"))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Secret, A::Error> {
                let mut keys = std::collections::BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value: String = match key.as_str() {
                        "file" | "env" | "secret" | "key" => map.next_value()?,
                        _ => {
                            return Err(de::Error::custom(format!(
                                "unknown key `{key}` in a secret: {SECRET_HELP}"
                            )));
                        }
                    };
                    if value.trim().is_empty() {
                        return Err(de::Error::custom(format!("`{key}` must not be empty")));
                    }
                    keys.insert(key, value);
                }
                let mut take = |key: &str| keys.remove(key);
                let found = match (take("file"), take("env"), take("secret"), take("key")) {
                    (Some(file), None, None, None) => Secret::File(file),
                    (None, Some(env), None, None) => Secret::Env(env),
                    (None, None, Some(secret), Some(key)) => Secret::Kubernetes { secret, key },
                    (None, None, None, None) => return Err(de::Error::custom(SECRET_HELP)),
                    _ => {
                        return Err(de::Error::custom(format!(
                            "a secret takes exactly one of `file`, `env` or `secret` with `key`: \
                             {SECRET_HELP}"
                        )));
                    }
                };
                Ok(found)
            }
        }

        deserializer.deserialize_any(SecretVisitor)
    }
}

impl JsonSchema for Secret {
    fn schema_name() -> Cow<'static, str> {
        "Secret".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A secret is never a literal: read it from a file (relative to stack.toml) or an environment variable, or in a Kubernetes profile name a Secret and its key.",
            "oneOf": [
                {
                    "type": "object",
                    "properties": { "file": { "type": "string", "minLength": 1 } },
                    "required": ["file"],
                    "additionalProperties": false
                },
                {
                    "type": "object",
                    "properties": { "env": { "type": "string", "minLength": 1 } },
                    "required": ["env"],
                    "additionalProperties": false
                },
                {
                    "type": "object",
                    "description": "A key of a Kubernetes Secret (profiles whose target is kubernetes).",
                    "properties": {
                        "secret": { "type": "string", "minLength": 1 },
                        "key": { "type": "string", "minLength": 1 }
                    },
                    "required": ["secret", "key"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_iec_only() {
        assert_eq!("2GiB".parse::<Size>().unwrap().bytes(), 2 << 30);
        assert_eq!("1536MiB".parse::<Size>().unwrap().to_string(), "1536MiB");
        assert_eq!("1024MiB".parse::<Size>().unwrap().to_string(), "1GiB");
        let err = "2gb".parse::<Size>().unwrap_err();
        assert!(err.contains("did you mean `2GiB`"), "{err}");
        assert!("2.5GiB".parse::<Size>().is_err());
        assert!("GiB".parse::<Size>().is_err());
        assert_eq!("10GiB".parse::<Size>().unwrap().prometheus(), "10GB");
    }

    #[test]
    fn sizes_become_kubernetes_quantities_in_whole_units() {
        let cases = [
            ("2GiB", "2Gi", "2458Mi"),
            ("1GiB", "1Gi", "1229Mi"),
            ("1536MiB", "1536Mi", "1844Mi"),
            ("10GiB", "10Gi", "12Gi"),
            ("1TiB", "1Ti", "1258292Mi"),
            ("6MiB", "6Mi", "8Mi"),
            ("1000B", "1000", "1Mi"),
            ("3KiB", "3Ki", "1Mi"),
        ];
        for (size, quantity, with_a_fifth) in cases {
            let size: Size = size.parse().unwrap();
            assert_eq!(size.kubernetes(), quantity, "{size}");
            assert_eq!(size.with_headroom(20).kubernetes(), with_a_fifth, "{size}");
        }
    }

    #[test]
    fn durations_follow_prometheus() {
        let ms = |t: &str| t.parse::<Duration>().map(Duration::millis);
        assert_eq!(ms("30s"), Ok(30_000));
        assert_eq!(ms("1h30m"), Ok(5_400_000));
        assert_eq!(ms("250ms"), Ok(250));
        assert_eq!(ms("1m500ms"), Ok(60_500));
        assert_eq!(ms("0"), Ok(0));
        for bad in [
            "1.5h", "", "30", "5 m", "30m1h", "1mm", "1s1s", "-1s", "1hour", "300y", "293y",
        ] {
            assert!(ms(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!("90m".parse::<Duration>().unwrap().to_string(), "1h30m");
        assert_eq!("200h".parse::<Duration>().unwrap().to_string(), "200h");
        assert_eq!("1w".parse::<Duration>().unwrap().to_string(), "168h");
        assert!(ms("292y").is_ok(), "Go's time.Duration holds 292 years");
    }
}
