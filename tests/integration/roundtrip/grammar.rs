//! The strings the cases are built from: atoms that mean something to a reader on the way,
//! each alone and embedded in a word, whitespace around words, long strings and seeded
//! combinations (deterministic: the same cases on every run), and the subset each key gets.

use std::collections::HashSet;

use super::{Case, Field};

/// Strings with a meaning to YAML 1.1 or 1.2, JSON, Go templates, compose interpolation,
/// PromQL strings, Alertmanager matchers, shells or Unicode line breaking.
#[rustfmt::skip]
const ATOMS: &[&str] = &[
    // YAML 1.1 booleans, nulls, numbers, the merge key, the value key, timestamps.
    "on", "On", "ON", "off", "yes", "Yes", "no", "NO", "y", "Y", "n", "N", "true", "False",
    "~", "null", "Null", "NULL", "0x1F", "1e3", "1E3", "0o17", "012", "0b101", "1_000",
    "190:20:30", "+1", ".5", ".inf", "-.Inf", ".NaN", "=", "<<", "2001-12-14",
    // YAML indicators.
    "- ", "-", "- x", ": ", ":", "x: y", "? ", "? x", "#", " #", "# x", "x #y", "&a", "*a",
    "!!str", "!x", "|", ">", "%x", "@x", "`x", ",", "[", "]", "{", "}", "[a, b]", "{a: b}",
    // Quotes and escapes.
    "\"", "'", "''", "\\", "\\n", "\\u0085", "\\\"",
    // Go templates, compose interpolation, Tera.
    "{{", "}}", "{{ .Foo", "{{ .Status }}", "{{/* c */}}", "{{ \"{{\" }}", "${", "${X}", "$X",
    "$", "$$", "$${X}", "{%", "%}", "{#",
    // Line breaks (YAML 1.1 breaks on U+0085, U+2028, U+2029 too) and spaces.
    "\n", "\r\n", "\r", "\u{85}", "\u{2028}", "\u{2029}", "\t", " ", "\u{a0}", "\u{3000}",
    // Other Unicode and controls.
    "é", "日本", "🚀", "\u{feff}", "\u{200b}", "\u{7f}", "\u{9f}", "\u{1}", "\u{1b}", "\u{0}",
    "\u{fffd}", "",
];

/// Plain words the atoms are embedded in and combined with.
const WORDS: &[&str] = &["prod", "eu-1", "a", "Buffer_2", "x.y", "ops"];

/// For keys with one value per profile (a profile costs a render and a compose run): the atoms
/// every reader on the way gives a meaning to, and every `STRIDE`-th other one.
#[rustfmt::skip]
const CORE: &[&str] = &[
    "on", "yes", "null", "~", "0x1F", "1e3", "012", "<<", "=", "- x", ": ", "? x", "#", " #", "\"",
    "'", "\\", "{{", "{{ .Foo", "${", "${X}", "$X", "$", "$$", "$${X}", "\n", "\r\n", "\u{85}",
    "\u{2028}", "\t", " ", "\u{0}", "\u{7f}", "\u{feff}", "",
];
const STRIDE: usize = 6;
const COMBINATIONS: usize = 40;

/// The strings of the grammar: every atom; every atom inside a word; whitespace around a word;
/// long strings; seeded combinations of atoms and words.
pub fn strings() -> Vec<String> {
    let mut out = Vec::new();
    out.extend(ATOMS.iter().map(|a| a.to_string()));
    out.extend(ATOMS.iter().map(|a| format!("a{a}z")));
    out.extend(spaced());
    out.extend(long());
    out.extend(combinations());
    unique(out)
}

/// The core atoms, every `STRIDE`-th atom from `offset`, leading and trailing whitespace and
/// some combinations: for keys with one value per profile.
pub fn sample(offset: usize) -> Vec<String> {
    let mut out: Vec<String> = CORE.iter().map(|a| a.to_string()).collect();
    out.extend(
        ATOMS
            .iter()
            .skip(offset)
            .step_by(STRIDE)
            .map(|a| a.to_string()),
    );
    out.extend(spaced().into_iter().take(3));
    out.extend(combinations().into_iter().skip(offset).step_by(8));
    unique(out)
}

fn spaced() -> Vec<String> {
    [" prod", "prod ", "\tprod", "prod\t", "  ", "\t", " prod "]
        .map(String::from)
        .to_vec()
}

fn long() -> Vec<String> {
    let mixed: String = ATOMS.iter().cycle().take(300).copied().collect();
    vec!["x".repeat(300), "é".repeat(1000), mixed]
}

/// splitmix64: a fixed sequence, so that every run builds the same cases.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

/// Two to four parts, atoms and words, seeded.
fn combinations() -> Vec<String> {
    let mut rng = Seeded(20);
    (0..COMBINATIONS)
        .map(|_| {
            let parts = 2 + rng.next() % 3;
            (0..parts)
                .map(|_| {
                    if rng.next().is_multiple_of(3) {
                        rng.pick(WORDS)
                    } else {
                        rng.pick(ATOMS)
                    }
                })
                .collect()
        })
        .collect()
}

fn unique(strings: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    strings
        .into_iter()
        .filter(|s| seen.insert(s.clone()))
        .collect()
}

fn cases(field: Field, values: impl IntoIterator<Item = String>) -> Vec<Case> {
    values
        .into_iter()
        .map(|value| Case { field, value })
        .collect()
}

fn owned(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| v.to_string()).collect()
}

/// Names that are identifiers to Prometheus and booleans, nulls or numbers to YAML 1.1, and
/// names that are not identifiers at all.
#[rustfmt::skip]
const LABEL_NAMES: &[&str] = &[
    "on", "On", "yes", "Yes", "no", "NO", "off", "y", "Y", "n", "N", "true", "False", "null",
    "Null", "NULL", "_", "_on", "x1e3", "a", "", "1e3", "0x1F", ".inf", "~", "<<", "=", "a b",
    "a-b", "a.b", "a:b", "é", "a\nb", "a\u{85}b", "__x", "__name__", "target", "instance", "job",
];

/// Names for targets: its grammar's letters, digits, `.`, `_`, `-` and `:` spell YAML 1.1
/// specials too.
#[rustfmt::skip]
const TARGET_NAMES: &[&str] = &[
    "on", "yes", "no", "off", "y", "n", "Y", "true", "null", "NULL", "1e3", "0x1F", "012", "0o17",
    "0b101", "1_000", "190:20:30", "2001-12-14", "x:y", "x.y", "x-y", "_x", ".inf", "-x", "~", "",
    "a b", "é", "a\nb", "x#y", "x{{y", "x$y", "<<", "=",
];

/// The labels of the fleet: every string of the grammar as a value, and the names.
pub fn fleet() -> Vec<Case> {
    let mut out = cases(Field::LabelValue, strings());
    out.extend(cases(Field::LabelName, owned(LABEL_NAMES)));
    out.extend(cases(Field::TargetName, owned(TARGET_NAMES)));
    let long = "a".repeat(128);
    out.extend(cases(Field::TargetName, [long.clone(), format!("{long}b")]));
    out.extend(cases(Field::LabelName, ["l".repeat(200)]));
    out
}

#[rustfmt::skip]
const CHANNELS: &[&str] = &[
    "#alerts", "@oncall", "C0123ABCD", "#on", "#yes", "#1e3", "#a.b-c_d", "on", "null",
];

/// The routes: matcher values (each one an `amtool` run: the atoms, whitespace, a long string
/// and some combinations), matcher names, and channels (every other atom after a name).
pub fn routes() -> Vec<Case> {
    let mut values: Vec<String> = ATOMS.iter().map(|a| a.to_string()).collect();
    values.extend(spaced().into_iter().take(3));
    values.extend(long().into_iter().last());
    values.extend(combinations().into_iter().step_by(4));
    let mut out = cases(Field::MatchValue, unique(values));
    out.extend(cases(Field::MatchName, owned(LABEL_NAMES)));
    out.extend(cases(Field::RouteChannel, owned(CHANNELS)));
    let long = ["x".repeat(79), "x".repeat(80)].map(|x| format!("#{x}"));
    out.extend(cases(Field::RouteChannel, long));
    let atoms = ATOMS.iter().step_by(2).map(|a| format!("#ops{a}"));
    out.extend(cases(Field::RouteChannel, atoms));
    out
}

#[rustfmt::skip]
const IMAGES: &[&str] = &[
    "redis:7.2", "localhost:5000/team/redis:7.2", "on", "yes", "1e3", "redis:on", "redis:7.2 ",
    " redis:7.2", "redis:$X", "redis:${X}", "redis:{{x}}", "redis:7.2\n", "redis:7.2#x",
    "REDIS:7.2", "redis :7.2", "",
];

#[rustfmt::skip]
const PROJECT_NAMES: &[&str] = &[
    "bluesky", "on", "yes", "no", "y", "n", "null", "012", "1e3", "0o17", "0x1f", "a-", "a_", "-a",
    "_a", "A", "a b", "é", "a.b", "", "a$b", "a{{b", "a\nb",
];

#[rustfmt::skip]
const SECRET_FILES: &[&str] = &[
    "secrets/redis_password.txt", "secrets/on", "secrets/a b", "secrets/$X", "secrets/${X}",
    "secrets/$$", "secrets/#x", "secrets/x\"y", "secrets/x'y", "secrets/x\\y", "secrets/{{x}}",
    "secrets/é", "secrets/x\ny", "secrets/x\u{85}y", "secrets/ x", "/run/outside", "",
];

/// Keys with one value per compose profile.
pub fn singles() -> Vec<Case> {
    let mut out = cases(Field::AdminUser, ["admin".to_string()]);
    out.extend(cases(Field::AdminUser, sample(0)));
    out.extend(cases(
        Field::SlackChannel,
        owned(&["#alerts", "#on", "@yes"]),
    ));
    let channels = sample(1).into_iter().map(|s| format!("#r{s}"));
    out.extend(cases(Field::SlackChannel, channels));
    let base = "https://runbooks.example.com/redis";
    let runbooks = [
        base.to_string(),
        format!("{base}#"),
        format!("{base}/on"),
        String::new(),
    ];
    out.extend(cases(Field::RunbookBaseUrl, runbooks));
    let runbooks = sample(2)
        .into_iter()
        .map(|s| format!("https://runbooks.example.com/{s}"));
    out.extend(cases(Field::RunbookBaseUrl, runbooks));
    out.extend(cases(Field::Image, owned(IMAGES)));
    let tags = ["x".repeat(128), "x".repeat(129)].map(|tag| format!("redis:{tag}"));
    let digest = format!("redis@sha256:{}", "0123456789abcdef".repeat(4));
    out.extend(cases(Field::Image, tags.into_iter().chain([digest])));
    out.extend(cases(Field::StackName, owned(PROJECT_NAMES)));
    out.extend(cases(Field::StackName, ["a".repeat(63), "a".repeat(70)]));
    out.extend(cases(Field::SecretFile, owned(SECRET_FILES)));
    out
}

#[rustfmt::skip]
const NAMESPACES: &[&str] = &[
    "redis-buffer", "on", "yes", "no", "y", "null", "012", "1e3", "0x1f", "a-", "-a", "A", "a.b",
    "a_b", "a b", "", "a{{b",
];

#[rustfmt::skip]
const RELEASES: &[&str] = &[
    "kube-prometheus-stack", "on", "yes", "no", "Y", "null", "012", "1e3", "0x1F", "0o17", "a-",
    "-a", "a.b", "a_b", "A", "a b", "", " x", "x{{y", "a\nb", "a$b",
];

#[rustfmt::skip]
const STORAGE_CLASSES: &[&str] = &[
    "fast-ssd", "on", "yes", "no", "null", "1e3", "0x1f", "a.b", "a..b", "A", "Fast SSD", "", "a-",
    "-a", "a_b", "a\nb",
];

/// Keys of the Kubernetes target, each with names at and past its length limits.
pub fn kubernetes() -> Vec<Case> {
    let mut out = cases(Field::Namespace, owned(NAMESPACES));
    out.extend(cases(Field::Namespace, ["a".repeat(63), "a".repeat(64)]));
    out.extend(cases(Field::Release, owned(RELEASES)));
    out.extend(cases(Field::Release, ["a".repeat(63), "a".repeat(64)]));
    out.extend(cases(Field::StorageClass, owned(STORAGE_CLASSES)));
    let long = ["a".repeat(64), "a".repeat(253), "a".repeat(254)];
    out.extend(cases(Field::StorageClass, long));
    let names = ["bluesky", "on", "yes", "012", "1e3", "a_b", "a-"];
    out.extend(cases(Field::KubernetesName, owned(&names)));
    let long = ["a".repeat(63), "a".repeat(64), "a".repeat(70)];
    out.extend(cases(Field::KubernetesName, long));
    out
}

/// `text` as a TOML basic string: controls, C1 controls and the invisible or line-breaking
/// characters escaped, so that the file reads back exactly `text`.
pub fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control()
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{200b}') =>
            {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
