//! Redis as a check and the drill reach it: a client of the `redis` crate that logs in with a
//! password handed over in a structure (never a URL or a message), and `PING` with and
//! without that password, time-limited.

use std::fmt;
use std::time::Duration;

/// How long connecting and `PING` may take together.
const TIMEOUT: Duration = Duration::from_secs(3);

/// A client of Redis at `host:port`, logging in with `password` when there is one.
pub(crate) fn client(
    host: &str,
    port: u16,
    password: Option<&str>,
) -> redis::RedisResult<redis::Client> {
    use redis::IntoConnectionInfo;
    // Redis before 7.2 answers the `CLIENT SETINFO` the crate sends on connect with an error:
    // the drill's own connections would count as error replies, and a check's connection
    // without a password would fail before its PING.
    let mut settings = redis::RedisConnectionInfo::default().set_skip_set_lib_name();
    if let Some(password) = password {
        settings = settings.set_password(password);
    }
    // TCP_NODELAY, as hiredis and redis-benchmark set it: a pipeline goes out at once instead
    // of waiting for the previous one's acknowledgement.
    let tcp = redis::io::tcp::TcpSettings::default().set_nodelay(true);
    let info = redis::ConnectionAddr::Tcp(host.into(), port)
        .into_connection_info()?
        .set_redis_settings(settings)
        .set_tcp_settings(tcp);
    redis::Client::open(info)
}

/// What Redis answered a `PING` (or the login before it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    Pong,
    /// An error reply: its code (`NOAUTH`, `WRONGPASS`) and the whole message.
    Refused {
        code: String,
        message: String,
    },
}

impl Answer {
    pub(crate) fn refused_with(&self, wanted: &str) -> bool {
        matches!(self, Self::Refused { code, .. } if code == wanted)
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pong => f.write_str("PONG"),
            Self::Refused { message, .. } => f.write_str(message),
        }
    }
}

/// `PING`, after logging in with `password` when there is one. An error reply is an
/// [`Answer`]; no answer at all (nothing listens, no reply in time) is an error.
pub(crate) async fn ping(host: &str, port: u16, password: Option<&str>) -> Result<Answer, String> {
    let client = client(host, port, password).map_err(|e| e.to_string())?;
    let answer = async {
        let mut connection = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
    };
    match tokio::time::timeout(TIMEOUT, answer).await {
        Err(_) => Err(format!("no answer in {} s", TIMEOUT.as_secs())),
        Ok(Ok(_)) => Ok(Answer::Pong),
        Ok(Err(e)) if e.is_io_error() || e.is_connection_refusal() => Err(e.to_string()),
        Ok(Err(e)) => Ok(refused(&e)),
    }
}

/// An error reply as Redis wrote it (`-NOAUTH Authentication required.`); a refused login
/// the crate reports in its own words.
fn refused(error: &redis::RedisError) -> Answer {
    match (error.code(), error.detail()) {
        (Some(code), Some(detail)) => Answer::Refused {
            code: code.into(),
            message: format!("-{code} {detail}"),
        },
        _ => Answer::Refused {
            code: format!("{:?}", error.kind()),
            message: error.to_string(),
        },
    }
}

/// What a Sentinel knows of the primary it watches by `name` (`SENTINEL MASTER`): each field
/// by its name (`ip`, `flags`, `num-slaves`, `num-other-sentinels`, …).
pub(crate) async fn sentinel_master(
    host: &str,
    port: u16,
    password: Option<&str>,
    name: &str,
) -> Result<std::collections::BTreeMap<String, String>, String> {
    let client = client(host, port, password).map_err(|e| e.to_string())?;
    let answer = async {
        let mut connection = client.get_multiplexed_async_connection().await?;
        redis::cmd("SENTINEL")
            .arg("MASTER")
            .arg(name)
            .query_async::<Vec<String>>(&mut connection)
            .await
    };
    match tokio::time::timeout(TIMEOUT, answer).await {
        Err(_) => Err(format!("no answer in {} s", TIMEOUT.as_secs())),
        Ok(Err(e)) => Err(refused(&e).to_string()),
        Ok(Ok(fields)) => Ok(fields
            .chunks(2)
            .filter_map(|pair| Some((pair.first()?.clone(), pair.get(1)?.clone())))
            .collect()),
    }
}
