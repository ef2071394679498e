//! A JSON value written exactly as Go's `encoding/json` writes compose-go's structs: compact,
//! object fields in the order they were built (struct order), Go's string escapes. It knows
//! nothing of compose; what is left out (`omitempty`) is decided by the caller.

use std::fmt::Write as _;

/// An object with these fields, in this order.
pub(super) fn obj<const N: usize>(fields: [(&str, Go); N]) -> Go {
    Go::Obj(fields.map(|(key, value)| (key.to_string(), value)).into())
}

/// An object with the fields that have a value, in this order.
pub(super) fn obj_some<const N: usize>(fields: [(&str, Option<Go>); N]) -> Go {
    let fields = fields
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_string(), v?)));
    Go::Obj(fields.collect())
}

/// A value as Go's `encoding/json` writes it; objects keep the order they were built in.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Go {
    Null,
    Bool(bool),
    Int(i64),
    /// A Go `float32`.
    F32(f32),
    Str(String),
    List(Vec<Go>),
    Obj(Vec<(String, Go)>),
}

impl Go {
    /// What Go's `omitempty` leaves out of a string, list or map. Numbers and booleans are the
    /// caller's to leave out: compose-go keeps a zero where it has a pointer (`retries`).
    pub(super) fn is_empty(&self) -> bool {
        match self {
            Go::Str(s) => s.is_empty(),
            Go::List(items) => items.is_empty(),
            Go::Obj(fields) => fields.is_empty(),
            Go::Null | Go::Bool(_) | Go::Int(_) | Go::F32(_) => false,
        }
    }

    pub(super) fn to_json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    /// Compact: no whitespace anywhere.
    fn write(&self, out: &mut String) {
        match self {
            Go::Null => out.push_str("null"),
            Go::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Go::Int(n) => out.push_str(&n.to_string()),
            Go::F32(x) => out.push_str(&go_float32(*x)),
            Go::Str(s) => write_string(s, out),
            Go::List(items) => write_seq(out, "[]", items, |out, item| item.write(out)),
            Go::Obj(fields) => write_seq(out, "{}", fields, |out, (key, value)| {
                write_string(key, out);
                out.push(':');
                value.write(out);
            }),
        }
    }
}

/// A float32 as Go writes it: the shortest digits that read back as the same float32, in
/// plain notation from 1e-6 up to 1e21 (`0.1`, `2`), in exponent notation outside it (`1e-7`,
/// `1e+21`). Rust's shortest digits are the same; only the exponent is spelt differently.
pub(super) fn go_float32(x: f32) -> String {
    if x == 0.0 || (1e-6..1e21).contains(&x.abs()) {
        return format!("{x}");
    }
    let exponent_form = format!("{x:e}");
    let (digits, exponent) = exponent_form
        .split_once('e')
        .unwrap_or((&exponent_form, "0"));
    let sign = if exponent.starts_with('-') { "" } else { "+" };
    format!("{digits}e{sign}{exponent}")
}

/// `items` between the two characters of `brackets`, separated by commas.
fn write_seq<T>(out: &mut String, brackets: &str, items: &[T], each: impl Fn(&mut String, &T)) {
    let (open, close) = brackets.split_at(1);
    out.push_str(open);
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        each(out, item);
    }
    out.push_str(close);
}

/// A string as Go escapes it: UTF-8 kept, but `<`, `>`, `&`, U+2028 and U+2029 as `\u` escapes
/// (HTML safety), control characters as short escapes or lower-case `\u00XX`.
fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' | '\0'..='\u{1f}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
