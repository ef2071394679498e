//! The HTTP client every check uses: hyper's client over the engine's async runtime, one
//! request at a time with a whole-request time limit, to a service's published port on this
//! machine. It never blocks the runtime, and basic auth is the only credential it sends.

use std::time::Duration;

use base64::Engine as _;
use http_body_util::{BodyExt, Empty};
pub(crate) use hyper::Method;
use hyper::Request;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// How long a request may take, from connecting to the body's last byte.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(3);

/// What an HTTP server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) body: String,
}

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    #[error("no answer in {} s", TIMEOUT.as_secs())]
    Timeout,
    #[error("{0}")]
    Request(String),
}

/// The address to reach a port published on `bind` from this machine.
pub(crate) fn reach(bind: &str) -> &str {
    match bind {
        "0.0.0.0" | "" => "127.0.0.1",
        "::" => "::1",
        other => other,
    }
}

/// `GET path` of `host:port`.
pub(crate) async fn get(host: &str, port: u16, path: &str) -> Result<Response, HttpError> {
    request(Method::GET, host, port, path, None).await
}

/// One request, with basic auth when `auth` is given, and the whole answer.
pub(crate) async fn request(
    method: Method,
    host: &str,
    port: u16,
    path: &str,
    auth: Option<(&str, &str)>,
) -> Result<Response, HttpError> {
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let mut builder = Request::builder()
        .method(method)
        .uri(format!("http://{host}:{port}{path}"))
        .header(hyper::header::ACCEPT, "application/json");
    if let Some((user, password)) = auth {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        builder = builder.header(hyper::header::AUTHORIZATION, format!("Basic {token}"));
    }
    let request = builder
        .body(Empty::<Bytes>::new())
        .map_err(|e| HttpError::Request(e.to_string()))?;
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(Some(TIMEOUT));
    connector.set_nodelay(true);
    let client = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build::<_, Empty<Bytes>>(connector);
    let answer = async {
        let response = client.request(request).await.map_err(describe)?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| HttpError::Request(e.to_string()))?
            .to_bytes();
        Ok(Response {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    };
    tokio::time::timeout(TIMEOUT, answer)
        .await
        .map_err(|_| HttpError::Timeout)?
}

/// The innermost cause of a failed request (`connection refused`), which is what an operator
/// acts on; hyper's outer layers only say that the request failed.
fn describe(error: hyper_util::client::legacy::Error) -> HttpError {
    let mut cause: &dyn std::error::Error = &error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    HttpError::Request(cause.to_string())
}

/// What a query parameter's value keeps as it is: RFC 3986's unreserved characters.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A URL query parameter's value, percent-encoded.
pub(crate) fn encode_query(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// Answers one connection with `answer`, and hands back the request it read.
    async fn serve_once(answer: &'static str) -> (u16, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let served = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = vec![0; 4096];
            let read = stream.read(&mut request).await.unwrap();
            stream.write_all(answer.as_bytes()).await.unwrap();
            String::from_utf8_lossy(&request[..read]).into_owned()
        });
        (port, served)
    }

    #[tokio::test]
    async fn a_request_carries_basic_auth_and_reads_a_close_delimited_body() {
        let (port, served) = serve_once("HTTP/1.0 200 OK\r\n\r\n{\"ok\":true}").await;
        let answer = request(
            Method::GET,
            "127.0.0.1",
            port,
            "/x?a=1",
            Some(("ops", "s3cret")),
        )
        .await
        .unwrap();
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (200, "{\"ok\":true}")
        );
        let seen = served.await.unwrap();
        assert!(seen.starts_with("GET /x?a=1 HTTP/1.1\r\n"), "{seen}");
        // "ops:s3cret" in base64, as RFC 7617 has it.
        assert!(
            seen.contains("authorization: Basic b3BzOnMzY3JldA==\r\n"),
            "{seen}"
        );
    }

    #[tokio::test]
    async fn a_closed_port_says_connection_refused_and_a_silent_one_times_out() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let closed = listener.local_addr().unwrap().port();
        drop(listener);
        let refused = get("127.0.0.1", closed, "/").await.unwrap_err().to_string();
        assert!(refused.contains("refused"), "{refused}");

        let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = silent.local_addr().unwrap().port();
        let started = std::time::Instant::now();
        let error = get("127.0.0.1", port, "/").await.unwrap_err();
        assert!(matches!(error, HttpError::Timeout), "{error}");
        assert!(started.elapsed() < TIMEOUT + Duration::from_secs(2));
    }

    #[test]
    fn query_values_keep_only_unreserved_characters() {
        assert_eq!(
            encode_query("redis://[::1]:6379 a+b/ü"),
            "redis%3A%2F%2F%5B%3A%3A1%5D%3A6379%20a%2Bb%2F%C3%BC"
        );
        assert_eq!(encode_query("A-z_0.9~"), "A-z_0.9~");
        assert_eq!(reach("0.0.0.0"), "127.0.0.1");
        assert_eq!(reach("::"), "::1");
        assert_eq!(reach("127.0.0.2"), "127.0.0.2");
    }
}
