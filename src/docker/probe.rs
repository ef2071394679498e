//! Small clients for checking services the way an operator would: HTTP GET with optional
//! basic auth, and Redis' protocol for PING with and without AUTH. Blocking, with timeouts,
//! loopback or published ports only.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(3);

fn connect(host: &str, port: u16) -> std::io::Result<TcpStream> {
    let addr: SocketAddr = (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other("no address"))?;
    let stream = TcpStream::connect_timeout(&addr, TIMEOUT)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    Ok(stream)
}

/// The address to reach a port published on `bind` from this host.
pub fn reach(bind: &str) -> &str {
    match bind {
        "0.0.0.0" | "" => "127.0.0.1",
        "::" => "::1",
        other => other,
    }
}

fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// What an HTTP server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

/// An HTTP/1.0 request.
pub fn http(
    method: &str,
    host: &str,
    port: u16,
    path: &str,
    auth: Option<(&str, &str)>,
) -> std::io::Result<Response> {
    let mut stream = connect(host, port)?;
    let mut request = format!(
        "{method} {path} HTTP/1.0\r\nHost: {host}:{port}\r\nAccept: application/json\r\n\
         Content-Length: 0\r\n"
    );
    if let Some((user, password)) = auth {
        request.push_str(&format!(
            "Authorization: Basic {}\r\n",
            base64(format!("{user}:{password}").as_bytes())
        ));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP response"))?;
    Ok(Response {
        status,
        body: body.to_string(),
    })
}

pub fn get(host: &str, port: u16, path: &str) -> std::io::Result<Response> {
    http("GET", host, port, path, None)
}

/// Sends one command in Redis' protocol and reads the one-line reply.
fn command(reader: &mut BufReader<TcpStream>, args: &[&str]) -> std::io::Result<String> {
    let mut request = format!("*{}\r\n", args.len());
    for arg in args {
        request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    reader.get_mut().write_all(request.as_bytes())?;
    let mut line = String::new();
    reader.read_line(&mut line)?;
    Ok(line.trim_end().to_string())
}

/// Redis' replies to PING on two connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pings {
    /// Without AUTH.
    pub without: String,
    /// After AUTH with the password, when there is one: PING's reply, or AUTH's if it failed.
    pub with: Option<String>,
}

/// PING without a password, then AUTH and PING.
pub fn redis_ping(host: &str, port: u16, password: Option<&str>) -> std::io::Result<Pings> {
    let mut anonymous = BufReader::new(connect(host, port)?);
    let without = command(&mut anonymous, &["PING"])?;
    let with = match password {
        None => None,
        Some(password) => {
            let mut reader = BufReader::new(connect(host, port)?);
            let auth = command(&mut reader, &["AUTH", password])?;
            Some(if auth == "+OK" {
                command(&mut reader, &["PING"])?
            } else {
                auth
            })
        }
    };
    Ok(Pings { without, with })
}

/// A URL query parameter's value, percent-encoded.
pub fn encode_query(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_the_rfc() {
        assert_eq!(super::base64(b"admin:admin"), "YWRtaW46YWRtaW4=");
        assert_eq!(super::base64(b"ab"), "YWI=");
        assert_eq!(super::base64(b"abc"), "YWJj");
    }
}
