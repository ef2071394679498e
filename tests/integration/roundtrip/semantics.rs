//! What a consumer does with a value beyond reading it, where no tool on this machine shows it:
//! the grammars Kubernetes' API server (k8s.io/apimachinery `validation`) and the Docker
//! engine (distribution's `reference`) check, and Alertmanager's matcher syntax for the label
//! sets given to `amtool config routes test`.

/// A DNS-1123 label (namespace names): at most 63 of `a-z`, `0-9` and `-`, alphanumeric at
/// both ends.
pub fn dns1123_label(s: &str) -> bool {
    (1..=63).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A DNS-1123 subdomain (storage class names): at most 253 characters, DNS-1123 labels (of
/// any length) joined by dots.
pub fn dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        })
}

/// A label value: at most 63 of letters, digits, `-`, `_` and `.`, alphanumeric at both ends;
/// or empty.
pub fn label_value(s: &str) -> bool {
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    s.is_empty()
        || (s.len() <= 63
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && alnum(s.chars().next())
            && alnum(s.chars().last()))
}

/// An image reference the engine parses: `[domain/]path[:tag][@digest]`, the path lower-case.
pub fn image_reference(s: &str) -> bool {
    let (rest, digest) = match s.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (s, None),
    };
    if let Some(digest) = digest
        && !is_digest(digest)
    {
        return false;
    }
    let slash = rest.rfind('/');
    let (name, tag) = match rest.rfind(':') {
        Some(i) if slash.is_none_or(|j| i > j) => (&rest[..i], Some(&rest[i + 1..])),
        _ => (rest, None),
    };
    if let Some(tag) = tag
        && !is_tag(tag)
    {
        return false;
    }
    if name.is_empty() || name.len() > 255 {
        return false;
    }
    let parts: Vec<&str> = name.split('/').collect();
    let all_paths = |parts: &[&str]| parts.iter().all(|p| is_path_component(p));
    all_paths(&parts) || (parts.len() > 1 && is_domain(parts[0]) && all_paths(&parts[1..]))
}

/// `[a-z0-9]+` joined by `.`, `_`, `__` or dashes.
fn is_path_component(s: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    s.starts_with(alnum)
        && s.ends_with(alnum)
        && s.split(alnum)
            .filter(|separator| !separator.is_empty())
            .all(|separator| {
                matches!(separator, "." | "_" | "__") || separator.chars().all(|c| c == '-')
            })
}

/// `host[:port]`, the host DNS components joined by dots, or an IPv6 address in brackets.
fn is_domain(s: &str) -> bool {
    let (host, port) = match s.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') && !host.is_empty() => (host, Some(port)),
        _ => (s, None),
    };
    if port.is_some_and(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_digit())) {
        return false;
    }
    if let Some(ip) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return ip.parse::<std::net::Ipv6Addr>().is_ok();
    }
    host.split('.').all(|part| {
        !part.is_empty()
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !part.starts_with('-')
            && !part.ends_with('-')
    })
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`
fn is_tag(s: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    (1..=128).contains(&s.len())
        && s.starts_with(word)
        && s.chars().all(|c| word(c) || c == '.' || c == '-')
}

/// `algorithm:hex`, the hex part at least 32 digits.
fn is_digest(s: &str) -> bool {
    let Some((algorithm, hex)) = s.split_once(':') else {
        return false;
    };
    !algorithm.is_empty()
        && algorithm.starts_with(|c: char| c.is_ascii_alphabetic())
        && algorithm
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '.'))
        && hex.len() >= 32
        && hex.chars().all(|c| c.is_ascii_hexdigit())
}

/// `name="value"` in Alertmanager's matcher syntax (`labels.ParseMatcher`): in double quotes,
/// with `\\`, `\"` and `\n` its only escapes, so that amtool's label set holds `value` exactly.
pub fn matcher_label(name: &str, value: &str) -> String {
    let escaped = value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    format!("{name}=\"{escaped}\"")
}

#[test]
fn the_grammars_are_kubernetes_and_the_engines() {
    for ok in [
        "redis",
        "redis:7.2",
        "localhost:5000/team/redis:7.2",
        "a.b/c__d-e:x",
    ] {
        assert!(image_reference(ok), "{ok}");
    }
    let digest = format!("redis@sha256:{}", "0123456789abcdef".repeat(4));
    assert!(image_reference(&digest));
    for bad in [
        "",
        "REDIS:7.2",
        "redis:7.2 ",
        "redis :7.2",
        "redis:{{x}}",
        "redis:",
        "-a",
        "a-",
    ] {
        assert!(!image_reference(bad), "{bad:?}");
    }
    assert!(dns1123_label("a-1") && !dns1123_label("a.b") && !dns1123_label(&"a".repeat(64)));
    assert!(dns1123_subdomain("a.b-c") && !dns1123_subdomain("a..b") && !dns1123_subdomain("A"));
    assert!(label_value("") && label_value("a_b.c") && !label_value("a-") && !label_value(" x"));
}
