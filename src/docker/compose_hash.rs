//! Docker Compose's `com.docker.compose.config-hash`, computed without compose: the sha256 of a
//! service as compose v2.40.3 (compose-go v2.9.1) loads it, in Go's compact `encoding/json`.
//! A container labelled with it is one that `docker compose up` keeps; a compose-made container
//! that carries it was made from the same definition. Only the keys and forms stackgen's
//! template writes are understood: anything else is an error naming it, never a hash that
//! might be wrong. Nothing here reads files, the environment or the engine.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use go::{Go, obj, obj_some};
use units::{go_duration, parse_duration, ram_in_bytes};

mod go;
mod units;

/// The service keys understood. `depends_on` is read past: compose clears it before hashing,
/// as it never hashes `x-*` extensions.
const KEYS: &str = "cap_add cap_drop command container_name cpus depends_on entrypoint environment \
                    healthcheck image labels mem_limit pids_limit ports read_only restart secrets \
                    security_opt tmpfs user volumes";

/// The `healthcheck` keys, in the order compose-go's `HealthCheckConfig` declares them.
const HEALTH_KEYS: &str = "test timeout interval retries start_period start_interval disable";

/// The config-hash of one entry of `services:` of a compose file, parsed as
/// `crate::yaml::from_str::<Value>`. `compose_dir` is the absolute folder of the compose file:
/// bind-mount sources resolve against it, so the hash depends on where the file lives.
pub fn service_hash(service: &Value, compose_dir: &Path) -> Result<String, String> {
    Ok(sha256_hex(&service_json(service, compose_dir)?))
}

/// The config-hash compose gives the project's implicit `default` network.
pub fn network_hash(project: &str) -> String {
    let network = obj([
        ("name", Go::Str(format!("{project}_default"))),
        ("ipam", obj([])),
    ]);
    sha256_hex(&network.to_json())
}

/// The exact text compose hashes for a service.
fn service_json(service: &Value, compose_dir: &Path) -> Result<String, String> {
    let map = service.as_object().ok_or("a service must be a mapping")?;
    known_keys(map, KEYS, "service")?;
    let dir = compose_dir
        .to_str()
        .filter(|d| d.starts_with('/'))
        .ok_or_else(|| format!("{}: not an absolute UTF-8 path", compose_dir.display()))?;
    Ok(service_fields(map, dir)?.to_json())
}

/// An error naming the first key of `map` that is neither in `known` nor an `x-` extension.
fn known_keys(map: &Map<String, Value>, known: &str, what: &str) -> Result<(), String> {
    let is_known = |key: &str| known.split_whitespace().any(|k| k == key);
    match map.keys().find(|k| !is_known(k) && !k.starts_with("x-")) {
        Some(key) => Err(format!(
            "{what} key `{key}` is not supported by the compose config-hash"
        )),
        None => Ok(()),
    }
}

/// The hashed fields, in compose-go's `ServiceConfig` order. Go leaves out empty values
/// (`omitempty`), except `command` and `entrypoint`, which are `null` when unset; `networks`
/// is always the implicit default network.
fn service_fields(map: &Map<String, Value>, dir: &str) -> Result<Go, String> {
    let get = |key: &str| map.get(key).filter(|v| !v.is_null());
    let string = |key: &str| get(key).map(|v| text(v, key).map(Go::Str)).transpose();
    let image = string("image")?.ok_or("a service needs an `image`")?;
    let words = |key: &str| command(get(key), key).map(Some);
    let scalar = |key: &str, read: fn(&Value) -> Result<Option<Go>, String>| {
        get(key).map(read).transpose().map(Option::flatten)
    };
    let caps = |key: &str| capabilities(get(key), key);
    let fields = [
        ("cap_add", caps("cap_add")?),
        ("cap_drop", caps("cap_drop")?),
        ("cpus", scalar("cpus", cpus)?),
        ("command", words("command")?),
        ("container_name", string("container_name")?),
        ("entrypoint", words("entrypoint")?),
        ("environment", mapping(get("environment"), "environment")?),
        (
            "healthcheck",
            get("healthcheck").map(healthcheck).transpose()?,
        ),
        ("image", Some(image)),
        ("labels", mapping(get("labels"), "labels")?),
        ("mem_limit", scalar("mem_limit", mem_limit)?),
        ("networks", Some(obj([("default", Go::Null)]))),
        ("pids_limit", scalar("pids_limit", pids_limit)?),
        ("ports", list(get("ports"), "ports", port)?),
        ("read_only", scalar("read_only", read_only)?),
        ("restart", string("restart")?),
        ("secrets", list(get("secrets"), "secrets", secret)?),
        ("security_opt", security_opt(get("security_opt"))?),
        ("tmpfs", tmpfs(get("tmpfs"))?),
        ("user", string("user")?),
        (
            "volumes",
            list(get("volumes"), "volumes", |v| volume(v, dir))?,
        ),
    ];
    let kept = |key: &str, value: &Go| !value.is_empty() || matches!(key, "command" | "entrypoint");
    Ok(obj_some(
        fields.map(|(key, value)| (key, value.filter(|v| kept(key, v)))),
    ))
}

/// A string value, with compose's interpolation applied.
fn text(value: &Value, what: &str) -> Result<String, String> {
    match value {
        Value::String(s) => interpolate(s, what),
        _ => Err(format!("`{what}` must be a string")),
    }
}

/// Compose substitutes `${VAR}` in every value from its own environment and `.env`, which a
/// hash computed elsewhere cannot see; so `$$`, which means `$`, is the only form accepted.
fn interpolate(s: &str, what: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '$' && chars.next() != Some('$') {
            return Err(format!(
                "`{what}` has a variable (`$` not written `$$`), which the config-hash cannot resolve"
            ));
        }
        out.push(c);
    }
    Ok(out)
}

/// `command` or `entrypoint`: a list kept as is, or a string split into words as compose does.
fn command(value: Option<&Value>, key: &str) -> Result<Go, String> {
    let words = match value {
        None => return Ok(Go::Null),
        Some(Value::String(s)) => shell_words(&interpolate(s, key)?, key)?,
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| text(v, key))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(format!("`{key}` must be a string or a list of strings")),
    };
    Ok(Go::List(words.into_iter().map(Go::Str).collect()))
}

/// The words of a string command as go-shellwords splits it (no variable or backtick
/// expansion). Where it parts from a POSIX shell (it stops at an operator, and its escapes
/// differ between versions) the string is refused: a list says the same without doubt.
fn shell_words(s: &str, key: &str) -> Result<Vec<String>, String> {
    let refuse = |why: &str| Err(format!("`{key}` string has {why}; write it as a list"));
    let (mut words, mut word, mut started) = (Vec::new(), String::new(), false);
    let mut quote = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => word.push(c),
            (_, '\\') => match chars.next() {
                Some(n @ ('\\' | '"' | '\'' | '$' | ' ')) => word.push(n),
                _ => return refuse("a backslash escape that shell parsers read differently"),
            },
            (_, '`') => return refuse("a backtick"),
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => quote = Some(c),
            (None, ' ' | '\t' | '\r' | '\n') => {
                if started {
                    words.push(std::mem::take(&mut word));
                }
                started = false;
                continue;
            }
            (None, ';' | '&' | '|' | '<' | '>' | '(' | ')') => return refuse("a shell operator"),
            (None, c) => word.push(c),
        }
        started = true;
    }
    if quote.is_some() {
        return refuse("an unclosed quote");
    }
    if started {
        words.push(word);
    }
    Ok(words)
}

/// `environment` or `labels`: a mapping, or a list of `KEY=VALUE`, emitted with sorted keys.
/// A key without a value would be read from compose's environment, so it is refused.
fn mapping(value: Option<&Value>, key: &str) -> Result<Option<Go>, String> {
    let mut map = BTreeMap::new();
    let mut insert = |k: &str, v: String| match map.insert(k.to_string(), Go::Str(v)) {
        Some(_) => Err(format!("`{key}` has `{k}` twice")),
        None => Ok(()),
    };
    match value {
        None => {}
        Some(Value::Object(entries)) => {
            for (k, v) in entries {
                let v = match v {
                    Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
                    Value::String(_) => text(v, key)?,
                    _ => return Err(format!("`{key}.{k}` must be a string or a whole number")),
                };
                insert(k, v)?;
            }
        }
        Some(Value::Array(items)) => {
            for item in items {
                let item = text(item, key)?;
                let (k, v) = item
                    .split_once('=')
                    .ok_or_else(|| format!("`{key}` entry `{item}` has no `=VALUE`"))?;
                insert(k, v.to_string())?;
            }
        }
        Some(_) => return Err(format!("`{key}` must be a mapping or a list")),
    }
    Ok(Some(Go::Obj(map.into_iter().collect())))
}

/// A non-empty list, each entry converted by `entry`.
fn list(
    value: Option<&Value>,
    key: &str,
    entry: impl Fn(&Value) -> Result<Go, String>,
) -> Result<Option<Go>, String> {
    match value {
        None => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(entry)
            .collect::<Result<_, _>>()
            .map(|items| Some(Go::List(items))),
        Some(_) => Err(format!("`{key}` must be a list")),
    }
}

/// `healthcheck`, its fields in compose-go's order; durations as Go prints them.
fn healthcheck(value: &Value) -> Result<Go, String> {
    let map = value
        .as_object()
        .filter(|m| !m.is_empty())
        .ok_or("`healthcheck` must be a non-empty mapping")?;
    known_keys(map, HEALTH_KEYS, "healthcheck")?;
    let mut fields = Vec::new();
    for key in HEALTH_KEYS.split_whitespace() {
        let Some(value) = map.get(key).filter(|v| !v.is_null()) else {
            continue;
        };
        let what = format!("healthcheck.{key}");
        let go = match (key, value) {
            ("test", Value::String(s)) => Go::List(vec![
                Go::Str("CMD-SHELL".into()),
                Go::Str(interpolate(s, &what)?),
            ]),
            ("test", _) => command(Some(value), &what)?,
            ("retries", _) => Go::Int(
                value
                    .as_u64()
                    .and_then(|n| i64::try_from(n).ok())
                    .ok_or(format!("`{what}` must be a whole number"))?,
            ),
            ("disable", Value::Bool(true)) => Go::Bool(true),
            ("disable", Value::Bool(false)) => continue,
            ("disable", _) => return Err(format!("`{what}` must be true or false")),
            _ => Go::Str(go_duration(parse_duration(&text(value, &what)?)?)),
        };
        if go.is_empty() {
            return Err(format!("`{what}` is empty"));
        }
        fields.push((key.to_string(), go));
    }
    Ok(Go::Obj(fields))
}

/// `mem_limit` as compose hashes it: a decimal string of bytes; a size like `2g` is in binary
/// multiples (docker/go-units `RAMInBytes`). Zero means unset, so it is left out.
fn mem_limit(value: &Value) -> Result<Option<Go>, String> {
    let bytes = match value {
        Value::Number(n) => n
            .as_u64()
            .ok_or("`mem_limit` must be a whole number of bytes")?,
        _ => ram_in_bytes(&text(value, "mem_limit")?)?,
    };
    Ok((bytes != 0).then(|| Go::Str(bytes.to_string())))
}

/// `cpus`, which compose-go keeps as a float32. A YAML number is read as a float64 and then
/// narrowed, a string is parsed straight to float32: as in Go, the two can differ in the last
/// digit. Zero means unset, so it is left out.
fn cpus(value: &Value) -> Result<Option<Go>, String> {
    let bad = || format!("`cpus` must be a number like `0.5` or `\"1.5\"`, not `{value}`");
    let decimal = |s: &str| s.bytes().all(|b| b.is_ascii_digit() || b".+-".contains(&b));
    let cpus = match value {
        Value::Number(n) => n.as_f64().ok_or_else(bad)? as f32,
        Value::String(s) if decimal(s) => s.parse::<f32>().map_err(|_| bad())?,
        _ => return Err(bad()),
    };
    if !cpus.is_finite() {
        return Err(bad());
    }
    Ok((cpus != 0.0).then_some(Go::F32(cpus)))
}

/// `pids_limit`, an int64 (`-1` for no limit). Zero means unset, so it is left out. Compose
/// would cut `1.5` to `1`; a fraction is refused.
fn pids_limit(value: &Value) -> Result<Option<Go>, String> {
    let limit = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    let limit = limit.ok_or("`pids_limit` must be a whole number (`-1` for no limit)")?;
    Ok((limit != 0).then_some(Go::Int(limit)))
}

/// `read_only`: `true`, or left out when `false`.
fn read_only(value: &Value) -> Result<Option<Go>, String> {
    match value {
        Value::Bool(read_only) => Ok(read_only.then_some(Go::Bool(true))),
        _ => Err("`read_only` must be true or false".into()),
    }
}

/// `cap_add` or `cap_drop`, as written: compose changes no case or `CAP_` prefix, but it drops
/// a capability listed again.
fn capabilities(value: Option<&Value>, key: &str) -> Result<Option<Go>, String> {
    let mut caps = strings(value, key)?;
    let mut seen = BTreeSet::new();
    caps.retain(|cap| seen.insert(cap.clone()));
    Ok(string_list(caps))
}

/// `security_opt`, as written; compose's schema refuses an option listed twice.
fn security_opt(value: Option<&Value>) -> Result<Option<Go>, String> {
    let opts = strings(value, "security_opt")?;
    let twice = (1..opts.len()).find(|&i| opts[..i].contains(&opts[i]));
    match twice {
        Some(i) => Err(format!("`security_opt` has `{}` twice", opts[i])),
        None => Ok(string_list(opts)),
    }
}

/// `tmpfs`: one `PATH[:OPTIONS]` or a list of them, as written (compose does not parse the
/// options). Compose drops an entry listed again and refuses two different ones for one path.
fn tmpfs(value: Option<&Value>) -> Result<Option<Go>, String> {
    let mounts = match value {
        Some(one @ Value::String(_)) => vec![text(one, "tmpfs")?],
        _ => strings(value, "tmpfs")?,
    };
    let path = |mount: &str| clean(mount.split(':').next().unwrap_or_default());
    let mut kept: Vec<String> = Vec::new();
    for mount in mounts {
        match kept.iter().find(|k| path(k) == path(&mount)) {
            None => kept.push(mount),
            Some(same) if *same == mount => {}
            Some(other) => {
                return Err(format!(
                    "`tmpfs` mounts one path twice: `{other}`, `{mount}`"
                ));
            }
        }
    }
    Ok(string_list(kept))
}

/// A list of strings, with compose's interpolation applied.
fn strings(value: Option<&Value>, key: &str) -> Result<Vec<String>, String> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(|v| text(v, key)).collect(),
        Some(_) => Err(format!("`{key}` must be a list of strings")),
    }
}

/// A list of strings as Go writes a `[]string`; left out when empty.
fn string_list(items: Vec<String>) -> Option<Go> {
    (!items.is_empty()).then(|| Go::List(items.into_iter().map(Go::Str).collect()))
}

/// A short-form port, `[IP:][PUBLISHED:]TARGET[/PROTOCOL]`, in compose's long form.
fn port(value: &Value) -> Result<Go, String> {
    let spec = match value {
        Value::Number(n) => n.to_string(),
        Value::String(_) => text(value, "ports")?,
        _ => return Err("`ports` entries must be strings like `127.0.0.1:80:80`".into()),
    };
    let bad = || format!("port `{spec}` is not in a form the compose config-hash supports");
    let (rest, protocol) = match spec.rsplit_once('/') {
        Some((rest, p @ ("tcp" | "udp" | "sctp"))) => (rest, p),
        Some(_) => return Err(bad()),
        None => (spec.as_str(), "tcp"),
    };
    let has_ip = rest.starts_with('[') || rest.matches(':').count() == 2;
    let (ip, rest) = match rest.strip_prefix('[') {
        Some(r) => r.split_once("]:").ok_or_else(bad)?,
        None if has_ip => rest.split_once(':').ok_or_else(bad)?,
        None => ("", rest),
    };
    let (published, target) = rest
        .split_once(':')
        .map_or((None, rest), |(p, t)| (Some(p), t));
    let number = |s: &str| s.parse::<u16>().ok().filter(|_| !s.starts_with(['0', '+']));
    let target = number(target).ok_or_else(bad)?;
    let bad_ip = has_ip && (ip.is_empty() || published.is_none());
    if bad_ip || published.is_some_and(|p| number(p).is_none()) {
        return Err(bad());
    }
    let str = |s: &str| Go::Str(s.into());
    Ok(obj_some([
        ("mode", Some(str("ingress"))),
        ("host_ip", has_ip.then(|| str(ip))),
        ("target", Some(Go::Int(target.into()))),
        ("published", published.map(str)),
        ("protocol", Some(str(protocol))),
    ]))
}

/// A short-form secret: its name, mounted at `/run/secrets/<name>`. Its file is not hashed.
fn secret(value: &Value) -> Result<Go, String> {
    let name = match value {
        Value::String(_) => text(value, "secrets")?,
        _ => return Err("`secrets` entries must be names (the long form is not supported)".into()),
    };
    let target = format!("/run/secrets/{name}");
    Ok(obj([
        ("source", Go::Str(name)),
        ("target", Go::Str(target)),
    ]))
}

/// A short-form volume, `SOURCE:TARGET[:OPTIONS]`, in compose's long form. A relative bind
/// source is joined to the compose folder and cleaned; an absolute one is kept as written.
fn volume(value: &Value, dir: &str) -> Result<Go, String> {
    let spec = match value {
        Value::String(_) => text(value, "volumes")?,
        _ => return Err("`volumes` entries must be strings like `data:/data:ro`".into()),
    };
    let bad = |why: &str| Err(format!("volume `{spec}`: {why}"));
    let (source, target, options) = match spec.split(':').collect::<Vec<_>>()[..] {
        [source, target] => (source, target, Vec::new()),
        [source, target, options] => (source, target, options.split(',').collect()),
        _ => return bad("not SOURCE:TARGET[:OPTIONS]"),
    };
    // A one-letter source reads as a Windows drive; `~` would need the home folder.
    let drive = source.len() == 1 && source.as_bytes()[0].is_ascii_alphabetic();
    if drive || source.is_empty() || target.is_empty() || source.starts_with('~') {
        return bad("this source or target is not supported by the compose config-hash");
    }
    let has = |o: &str| options.contains(&o);
    let known = ["ro", "rw", "nocopy"];
    if options.iter().any(|o| !known.contains(o)) || (has("ro") && has("rw")) {
        return bad("options other than `ro`, `rw` and `nocopy` are not supported");
    }
    let is_bind = source.starts_with(['.', '/']);
    if is_bind && has("nocopy") {
        return bad("`nocopy` is for named volumes");
    }
    let (kind, source, extra) = if is_bind {
        let source = if source.starts_with('/') {
            source.to_string()
        } else {
            clean(&format!("{dir}/{source}"))
        };
        ("bind", source, obj([("create_host_path", Go::Bool(true))]))
    } else {
        let nocopy = has("nocopy").then(|| ("nocopy".into(), Go::Bool(true)));
        (
            "volume",
            source.to_string(),
            Go::Obj(nocopy.into_iter().collect()),
        )
    };
    Ok(obj_some([
        ("type", Some(Go::Str(kind.into()))),
        ("source", Some(Go::Str(source))),
        ("target", Some(Go::Str(clean(target)))),
        ("read_only", has("ro").then_some(Go::Bool(true))),
        (kind, Some(extra)),
    ]))
}

/// Go's `path.Clean`: lexical, `/`-separated.
pub fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if rooted => {}
            _ => parts.push(part),
        }
    }
    match (rooted, parts.join("/")) {
        (true, joined) => format!("/{joined}"),
        (false, joined) if joined.is_empty() => ".".into(),
        (false, joined) => joined,
    }
}

fn sha256_hex(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests;
