//! The grammars of the strings `stack.toml` hands to other tools: each function says whether a
//! value can reach its place in a generated file unchanged, or why not. Values that pass are
//! still escaped where they land (YAML, JSON, PromQL, compose); these checks refuse what no
//! escaping can carry: a Slack channel Alertmanager would read as a Go template, a profile name
//! that leaves `generated/`, a Kubernetes name the API server refuses. Pure: no I/O, no
//! `Collector`; the resolvers report at the key.

/// A profile's name, which becomes the folder `generated/<name>/` and the runtime folder
/// `.stackgen/<name>/`: lower-case letters, digits, `_` and `-`, starting with a letter or
/// digit, so that it can never be `.`, `..` or a path.
pub(crate) fn is_profile_name(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

pub(crate) const PROFILE_NAME: &str =
    "lower-case letters, digits, `_` and `-`, starting with a letter or digit, at most 63";

/// A Slack channel as Alertmanager's `channel` takes it: `#name`, a user `@name` or a
/// channel id (`C024BE91L`). Slack's names are letters, digits, `-`, `_` and `.`; nothing
/// else is let through, since Alertmanager expands the field as a Go template (`{{`) and
/// YAML 1.1 readers break lines at U+0085.
pub(crate) fn slack_channel(channel: &str) -> Result<(), String> {
    let name = channel
        .strip_prefix('#')
        .or_else(|| channel.strip_prefix('@'))
        .unwrap_or(channel);
    let allowed = |c: char| c.is_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.is_empty() || name.chars().count() > 80 || !name.chars().all(allowed) {
        return Err(format!(
            "`{}` is not a Slack channel: `#name`, `@user` or a channel id, with letters, digits, \
             `-`, `_` and `.` only, at most 80",
            channel.escape_debug()
        ));
    }
    Ok(())
}

/// An absolute `http`/`https` URL written with the characters RFC 3986 allows, so that it
/// reaches a Go template (Prometheus' annotations, Slack messages) as plain text: no `{`, `}`,
/// quotes, spaces or control characters.
pub(crate) fn url(text: &str) -> Result<(), String> {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or_default());
    // RFC 3986's unreserved and reserved characters and `%`, less `'` (which Slack's
    // markdown and shell quoting both trip on).
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&()*+,;=%".contains(c);
    match host {
        Some(host) if !host.is_empty() && text.chars().all(allowed) => Ok(()),
        _ => Err(format!(
            "`{}` is not a URL stackgen can link to: `http://` or `https://`, a host, and only \
             the characters a URL allows (percent-encode the rest)",
            text.escape_debug()
        )),
    }
}

/// A Kubernetes object name or namespace (RFC 1123 label): lower-case letters, digits and
/// `-`, starting and ending with a letter or digit, at most `max` characters.
pub(crate) fn dns_label(text: &str, max: usize) -> Result<(), String> {
    let valid = (1..=max).contains(&text.len())
        && text.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && text.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a Kubernetes name: lower-case letters, digits and `-`, starting and \
             ending with a letter or digit, at most {max} characters",
            text.escape_debug()
        ))
    }
}

/// A Kubernetes object name that may hold dots (RFC 1123 subdomain), such as a StorageClass.
pub(crate) fn dns_subdomain(text: &str) -> Result<(), String> {
    let valid =
        (1..=253).contains(&text.len()) && text.split('.').all(|part| dns_label(part, 63).is_ok());
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a Kubernetes name: lower-case letters, digits, `-` and `.`, each part \
             starting and ending with a letter or digit, at most 253 characters",
            text.escape_debug()
        ))
    }
}

/// A Kubernetes label value: empty, or at most 63 letters, digits, `-`, `_` and `.`, starting
/// and ending with a letter or digit.
pub(crate) fn label_value(text: &str) -> Result<(), String> {
    let edge = |c: char| c.is_ascii_alphanumeric();
    let valid = text.is_empty()
        || (text.len() <= 63
            && text.starts_with(edge)
            && text.ends_with(edge)
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a Kubernetes label value: at most 63 letters, digits, `-`, `_` and `.`, \
             starting and ending with a letter or digit",
            text.escape_debug()
        ))
    }
}

/// A host of a `redis://` address: a DNS name (labels of letters, digits, `-` and `_`, not
/// starting or ending with `-`), an IPv4 address, or an IPv6 address in brackets.
pub(crate) fn is_host(host: &str) -> bool {
    if let Some(ip) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return ip.parse::<std::net::Ipv6Addr>().is_ok();
    }
    let label = |part: &str| {
        (1..=63).contains(&part.len())
            && !part.starts_with('-')
            && !part.ends_with('-')
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    let name = host.strip_suffix('.').unwrap_or(host);
    (1..=253).contains(&name.len()) && name.split('.').all(label)
}

/// An image reference as the engine and compose parse it (distribution's reference grammar):
/// `[host[:port]/]path[:tag][@algorithm:hex]`, the path lower-case components joined by `/`.
pub(crate) fn image(text: &str) -> Result<(), String> {
    let bad = || {
        format!(
            "`{}` is not an image reference: `[registry/]name[:tag][@sha256:digest]`, the name \
             in lower case",
            text.escape_debug()
        )
    };
    let (rest, digest) = match text.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (text, None),
    };
    if let Some(digest) = digest {
        let (algorithm, hex) = digest.split_once(':').ok_or_else(bad)?;
        let algorithm_ok = !algorithm.is_empty()
            && algorithm
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+._-".contains(c));
        if !algorithm_ok || hex.len() < 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad());
        }
    }
    // A tag follows the last `:` that comes after the last `/`.
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(tag) = tag {
        let tag_ok = (1..=128).contains(&tag.len())
            && tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            && tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !tag_ok {
            return Err(bad());
        }
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    // A first part with a `.` or `:`, or `localhost`, is a registry host.
    if parts.len() > 1 && (parts[0].contains(['.', ':']) || parts[0] == "localhost") {
        let host = parts.remove(0);
        let (host, port) = host.split_once(':').unwrap_or((host, "0"));
        let host_ok = host.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
        if !host_ok || port.parse::<u16>().is_err() {
            return Err(bad());
        }
    }
    let component = |part: &str| {
        let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
        !part.is_empty()
            && part.starts_with(alnum)
            && part.ends_with(alnum)
            && part.chars().all(|c| alnum(c) || "._-".contains(c))
            && !part.contains("..")
    };
    if name.len() > 255 || parts.is_empty() || !parts.iter().all(|p| component(p)) {
        return Err(bad());
    }
    Ok(())
}

/// Who can reach a port published on a bind address, decided by the address, not by how it is
/// spelt: `::ffff:0.0.0.0` is every interface, as `0.0.0.0` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// Loopback: this machine only.
    Local,
    /// A private, link-local or unique-local address: the networks the host is on.
    Private,
    /// An address routable on the internet.
    Public,
    /// The unspecified address: every interface of the host.
    Everywhere,
}

impl Reach {
    pub(crate) fn of(bind: &str) -> Option<Self> {
        let ip = bind.parse::<std::net::IpAddr>().ok()?.to_canonical();
        Some(match ip {
            ip if ip.is_unspecified() => Self::Everywhere,
            ip if ip.is_loopback() => Self::Local,
            std::net::IpAddr::V4(v4) => {
                let [a, b, ..] = v4.octets();
                let shared = a == 100 && (64..128).contains(&b);
                if v4.is_private() || v4.is_link_local() || shared {
                    Self::Private
                } else {
                    Self::Public
                }
            }
            std::net::IpAddr::V6(v6) => {
                let first = v6.segments()[0];
                let unique_local = first & 0xfe00 == 0xfc00;
                let link_local = first & 0xffc0 == 0xfe80;
                if unique_local || link_local {
                    Self::Private
                } else {
                    Self::Public
                }
            }
        })
    }

    /// How a message says it.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::Local => "this machine only",
            Self::Private => "a private network address, reachable from that network",
            Self::Public => "an address routable on the internet",
            Self::Everywhere => "every interface",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names_cannot_be_paths() {
        for good in ["dev", "prod", "eu-1", "a_b", "0"] {
            assert!(is_profile_name(good), "{good}");
        }
        for bad in [
            "", ".", "..", "...", "Prod", "-x", "_x", "a/b", "a.b", "a b", "é",
        ] {
            assert!(!is_profile_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn slack_channels_are_plain_names() {
        for good in [
            "#redis-alerts",
            "#ops_eu.1",
            "@oncall",
            "C024BE91L",
            "#日本語",
        ] {
            assert!(slack_channel(good).is_ok(), "{good}");
        }
        let long = format!("#{}", "a".repeat(81));
        for bad in [
            "",
            "#",
            "#ops-{{ .Foo",
            "#a b",
            "#a\nb",
            "#a\u{85}b",
            "#a\u{2028}",
            "#a\"b",
            "#${X}",
            "##x",
            long.as_str(),
        ] {
            assert!(slack_channel(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn urls_are_plain_text_for_go_templates() {
        for good in [
            "https://runbooks.example.com/redis",
            "http://wiki:8080/a?b=c&d=%20#x",
        ] {
            assert!(url(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "runbooks.example.com",
            "ftp://x",
            "https://",
            "https://x/{{ .Labels }}",
            "https://x/a b",
            "https://x/\"",
            "https://x/'",
            "https://x/\u{85}",
        ] {
            assert!(url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn kubernetes_names_follow_rfc_1123() {
        assert!(dns_label("stackgen", 63).is_ok());
        for bad in ["", "Fast", "a b", "a-", "-a", "a.b", &"a".repeat(64)] {
            assert!(dns_label(bad, 63).is_err(), "{bad:?}");
        }
        assert!(dns_subdomain("fast-ssd.storage.k8s.io").is_ok());
        for bad in ["Fast SSD", "a..b", ".a", "a_b"] {
            assert!(dns_subdomain(bad).is_err(), "{bad:?}");
        }
        for good in ["", "prod", "eu.1_a-b"] {
            assert!(label_value(good).is_ok(), "{good:?}");
        }
        for bad in ["-a", "a-", "a b", "on\u{85}", &"a".repeat(64)] {
            assert!(label_value(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn images_follow_the_reference_grammar() {
        let digest = format!("redis:7.2@sha256:{}", "a".repeat(64));
        for good in [
            "redis",
            "redis:7.2",
            "redis:7.2-alpine",
            "oliver006/redis_exporter:v1.62.0",
            "ghcr.io/org/redis:7",
            "localhost:5000/redis",
            "registry.example.com:5000/a/b-c/d__e:latest",
            "stackgen-test/redis:7.0",
            digest.as_str(),
        ] {
            assert!(image(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Redis:7",
            "redis:",
            "redis:7 2",
            "redis:7\nprivileged: true",
            "redis:${TAG}",
            "redis@sha256:xyz",
            "-redis",
            "redis/",
            "/redis",
            "a..b",
            "redis:-7",
        ] {
            assert!(image(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn binds_are_judged_by_the_address() {
        let cases = [
            ("127.0.0.1", Reach::Local),
            ("127.1.2.3", Reach::Local),
            ("::1", Reach::Local),
            ("::ffff:127.0.0.1", Reach::Local),
            ("0.0.0.0", Reach::Everywhere),
            ("::", Reach::Everywhere),
            ("::ffff:0.0.0.0", Reach::Everywhere),
            ("0:0:0:0:0:0:0:0", Reach::Everywhere),
            ("192.168.1.10", Reach::Private),
            ("10.1.2.3", Reach::Private),
            ("172.16.0.1", Reach::Private),
            ("169.254.1.1", Reach::Private),
            ("100.64.0.1", Reach::Private),
            ("fd00::1", Reach::Private),
            ("fe80::1", Reach::Private),
            ("::ffff:192.168.1.10", Reach::Private),
            ("203.0.113.7", Reach::Public),
            ("2001:db8::1", Reach::Public),
            ("::ffff:8.8.8.8", Reach::Public),
        ];
        for (bind, reach) in cases {
            assert_eq!(Reach::of(bind), Some(reach), "{bind}");
        }
        assert_eq!(Reach::of("localhost"), None);
    }

    #[test]
    fn hosts_are_names_or_addresses() {
        for good in [
            "redis",
            "redis-eu-1.internal",
            "10.0.0.5",
            "[::1]",
            "a_b.local.",
        ] {
            assert!(is_host(good), "{good}");
        }
        for bad in ["", "..", "...", "-h", "a..b", "a-.b", "[zz]", "a b", "a/b"] {
            assert!(!is_host(bad), "{bad:?}");
        }
    }
}
