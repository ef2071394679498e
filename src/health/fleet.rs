//! Each Redis target as the exporter sees it, asked through its multi-target endpoint
//! (`/scrape?target=<address>`) the way Prometheus asks: up or down, and what it is. A stack
//! of many targets is asked a few at a time in parallel. No password is involved here: the
//! exporter holds them.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use futures_util::StreamExt;
use serde::Serialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::{http, roles};
use crate::model::raw::TargetKind;
use crate::model::stack::Target;

/// Targets asked at once.
const PARALLEL: usize = 16;

/// One target as the exporter reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct TargetStatus {
    pub(crate) name: String,
    pub(crate) address: String,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) up: bool,
    /// Its role, memory and clients when up; why not, when down.
    pub(crate) detail: String,
}

/// Every target, in the stack's order.
pub(crate) async fn scrape_all(host: &str, port: u16, targets: &[Target]) -> Vec<TargetStatus> {
    futures_util::stream::iter(targets)
        .map(|target| scrape(host, port, target))
        .buffered(PARALLEL)
        .collect()
        .await
}

/// One target.
pub(crate) async fn scrape(host: &str, port: u16, target: &Target) -> TargetStatus {
    let path = format!("/scrape?target={}", http::encode_query(&target.address));
    let (up, detail) = match http::get(host, port, &path).await {
        Ok(response) if response.status == 200 => judge(&response.body, target),
        Ok(response) => (false, format!("the exporter answered {}", response.status)),
        Err(e) => (false, format!("the exporter did not answer: {e}")),
    };
    TargetStatus {
        name: target.name.clone(),
        address: target.address.clone(),
        labels: target.labels.clone(),
        up,
        detail,
    }
}

/// Up or down from a scrape's text, with what an operator looks at first.
fn judge(metrics: &str, target: &Target) -> (bool, String) {
    let value = |name: &str| {
        metrics.lines().find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            (series == name)
                .then(|| value.parse::<f64>().ok())
                .flatten()
        })
    };
    if value("redis_up") != Some(1.0) {
        return (
            false,
            "redis_up 0: the exporter cannot reach or log in to it".into(),
        );
    }
    let role = roles::role(metrics, target);
    if target.kind == TargetKind::Sentinel {
        let clients = value("redis_connected_clients").unwrap_or_default();
        return (true, format!("{role}, {clients} clients"));
    }
    let used = value("redis_memory_used_bytes").unwrap_or_default();
    let max = value("redis_memory_max_bytes").unwrap_or_default();
    let memory = if max > 0.0 {
        format!("{:.0}% of maxmemory", used / max * 100.0)
    } else {
        format!("{:.1} MiB used, no maxmemory", used / 1048576.0)
    };
    let clients = value("redis_connected_clients").unwrap_or_default();
    (true, format!("{role}, {memory}, {clients} clients"))
}

/// What a direct look at a target's address found, when the exporter reports it down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reached {
    /// Its host name resolves neither on this machine nor on the stack's network.
    NoSuchHost,
    /// Nothing listens there.
    Refused,
    /// No answer in time.
    Silent,
    /// It took the connection and answered `PING` with this line (empty: nothing, or TLS).
    Answered(String),
}

/// How long a direct look waits to connect, and then for the answer to `PING`.
const LOOK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Connects to a target as the exporter would, from this machine, and sends `PING` without a
/// password: enough to tell an address nobody answers at from a login the target refuses,
/// with no secret sent. `stack_hosts` are the stack network's containers by name and alias,
/// which this machine reaches by address.
pub(crate) async fn look(target: &Target, stack_hosts: &BTreeMap<String, IpAddr>) -> Reached {
    let port = target
        .address
        .rsplit(':')
        .next()
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(6379);
    let bare = target.host.trim_start_matches('[').trim_end_matches(']');
    let address = match stack_hosts.get(bare) {
        Some(ip) => Some(SocketAddr::new(*ip, port)),
        None => tokio::net::lookup_host((bare, port))
            .await
            .ok()
            .and_then(|mut found| found.next()),
    };
    let Some(address) = address else {
        return Reached::NoSuchHost;
    };
    let mut stream = match timeout(LOOK_TIMEOUT, TcpStream::connect(address)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            return Reached::Refused;
        }
        Ok(Err(_)) | Err(_) => return Reached::Silent,
    };
    if target.tls {
        return Reached::Answered(String::new());
    }
    let answer = async {
        stream.write_all(b"PING\r\n").await?;
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).await?;
        Ok::<_, std::io::Error>(line)
    };
    let line = timeout(LOOK_TIMEOUT, answer).await;
    Reached::Answered(
        line.ok()
            .and_then(Result::ok)
            .unwrap_or_default()
            .trim_end()
            .into(),
    )
}

/// Why a target the exporter reports down is down, in an operator's words.
pub(crate) fn why_down(target: &Target, reached: &Reached) -> String {
    let at = target.address.as_str();
    match reached {
        Reached::NoSuchHost => format!("unreachable: no host `{}` is known", target.host),
        Reached::Refused => format!("unreachable: nothing listens at {at}"),
        Reached::Silent => format!("unreachable: {at} does not answer"),
        Reached::Answered(_) if target.tls => {
            format!("{at} takes connections, but the exporter's TLS handshake or login fails")
        }
        Reached::Answered(line)
            if line.starts_with("-NOAUTH") || line.starts_with("-WRONGPASS") =>
        {
            let what = if target.password.is_some() {
                "the exporter's login is refused (WRONGPASS): check the user and password"
            } else {
                "it asks for a password (NOAUTH), and the target has none in stack.toml"
            };
            format!("{at} answers, but {what}")
        }
        Reached::Answered(line) if line == "+PONG" && target.password.is_some() => {
            format!("{at} answers without a login, and refuses the password the exporter sends")
        }
        Reached::Answered(line) => format!(
            "{at} takes connections, but the exporter cannot read it (it answered PING with \
             {line:?})"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_down_target_says_whether_it_is_unreachable_or_refuses_the_login() {
        let target = |password: bool, tls: bool| Target {
            kind: TargetKind::Redis,
            rendered_role: None,
            name: "eu".into(),
            address: "redis://eu:6379".into(),
            host: "eu".into(),
            tls,
            password: password.then(|| crate::model::stack::TargetSecret {
                key: "targets.0.password".into(),
                source: crate::model::units::Secret::Env("P".into()),
            }),
            labels: BTreeMap::new(),
            managed: false,
        };
        let answered = |line: &str| Reached::Answered(line.into());
        let cases = [
            (
                target(true, false),
                Reached::NoSuchHost,
                "unreachable: no host `eu` is known",
            ),
            (
                target(true, false),
                Reached::Refused,
                "unreachable: nothing listens at redis://eu:6379",
            ),
            (
                target(true, false),
                Reached::Silent,
                "unreachable: redis://eu:6379 does not answer",
            ),
            (
                target(true, false),
                answered("-NOAUTH Authentication required."),
                "redis://eu:6379 answers, but the exporter's login is refused (WRONGPASS): check \
                 the user and password",
            ),
            (
                target(false, false),
                answered("-NOAUTH Authentication required."),
                "redis://eu:6379 answers, but it asks for a password (NOAUTH), and the target has \
                 none in stack.toml",
            ),
            (
                target(true, false),
                answered("+PONG"),
                "redis://eu:6379 answers without a login, and refuses the password the exporter \
                 sends",
            ),
            (
                target(true, true),
                answered(""),
                "redis://eu:6379 takes connections, but the exporter's TLS handshake or login fails",
            ),
        ];
        for (target, reached, why) in cases {
            assert_eq!(why_down(&target, &reached), why, "{reached:?}");
        }
    }

    #[tokio::test]
    async fn a_look_at_a_real_listener_tells_refused_from_answered() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 6];
            conn.read_exact(&mut buf).unwrap();
            assert_eq!(&buf, b"PING\r\n");
            conn.write_all(b"-NOAUTH Authentication required.\r\n")
                .unwrap();
        });
        let target = |port: u16| Target {
            kind: TargetKind::Redis,
            rendered_role: None,
            name: "t".into(),
            address: format!("redis://127.0.0.1:{port}"),
            host: "127.0.0.1".into(),
            tls: false,
            password: None,
            labels: BTreeMap::new(),
            managed: false,
        };
        let hosts = BTreeMap::new();
        assert_eq!(
            look(&target(port), &hosts).await,
            Reached::Answered("-NOAUTH Authentication required.".into())
        );
        server.join().unwrap();
        // The same port, closed now.
        assert_eq!(look(&target(port), &hosts).await, Reached::Refused);
    }

    fn plain() -> Target {
        Target {
            name: "eu".into(),
            address: "redis://eu:6379".into(),
            host: "eu".into(),
            tls: false,
            password: None,
            labels: BTreeMap::new(),
            managed: false,
            kind: TargetKind::Redis,
            rendered_role: None,
        }
    }

    #[test]
    fn a_scrape_is_judged_by_redis_up() {
        let up = "redis_up 1\nredis_instance_info{role=\"slave\",x=\"y\"} 1\n\
                  redis_memory_used_bytes 512\nredis_memory_max_bytes 1024\n\
                  redis_connected_clients 3\n";
        assert_eq!(
            judge(up, &plain()),
            (true, "replica, 50% of maxmemory, 3 clients".into())
        );
        assert!(!judge("redis_up 0\n", &plain()).0);
        assert!(!judge("redis_uptime_in_seconds 1\n", &plain()).0);
        assert_eq!(
            http::encode_query("redis://[::1]:6379"),
            "redis%3A%2F%2F%5B%3A%3A1%5D%3A6379"
        );
    }
}
