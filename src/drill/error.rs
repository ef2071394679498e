//! What can stop a drill or fail one of its scenarios, a variant per kind of failure. The text
//! is what the user reads: after `drill on profile …: ` when the drill could not run, in a
//! scenario's `error` when that scenario failed. The command turns it into the crate's error;
//! nothing here knows about exit codes.

/// Why a drill, a scenario or a step of one failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// Redis could not be reached, or failed a command: what the drill was doing, and why.
    #[error("{doing}: {error}")]
    Redis {
        doing: String,
        error: redis::RedisError,
    },
    /// Redis answered, but not as the drill needs: no `maxmemory`, a snapshot still being
    /// written, no answer after a restart.
    #[error("{0}")]
    RedisState(String),
    /// The load generator failed.
    #[error("the load failed: {0}")]
    Load(redis::RedisError),
    /// Prometheus could not be asked, or did not answer what the drill needs.
    #[error("{0}")]
    Prometheus(String),
    /// Alertmanager did not hold or send an alert as it should, or did not answer.
    #[error("{0}")]
    Alertmanager(String),
    /// The engine refused or failed a request about a container: what, and why.
    #[error("{doing}: {error}")]
    Engine {
        doing: String,
        error: bollard::errors::Error,
    },
    /// Prometheus could not be told to reload its rules.
    #[error("{0}")]
    Reload(Box<crate::error::Error>),
    /// The drill's `for: 0s` copy of the rendered rules cannot be made.
    #[error("{0}")]
    QuickRules(String),
    /// Other traffic kept the rate window too busy for slow commands to lift its average.
    #[error(
        "the {window} window stayed too busy ({commands:.0} commands) for slow commands to lift \
         its average"
    )]
    TooBusy { window: String, commands: f64 },
    /// The drill does not run (against this stack, or this scenario), and why.
    #[error("{why}")]
    Refused { why: String },
    /// A change the drill made could not be undone: what undoing it does, and why it failed.
    #[error("could not undo ({restoring}): {error}")]
    Undo {
        restoring: String,
        error: Box<Error>,
    },
    /// Changes the drill made that could not be undone, each with why.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    NotRestored(Vec<Error>),
    /// The user stopped the drill (Ctrl-C, or a termination request).
    #[error("interrupted")]
    Interrupted,
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// For `map_err`: Redis failed while the drill was `doing` this.
    pub(crate) fn redis(doing: impl Into<String>) -> impl FnOnce(redis::RedisError) -> Self {
        let doing = doing.into();
        move |error| Self::Redis { doing, error }
    }

    /// For `map_err`: the engine failed while the drill was `doing` this.
    pub(crate) fn engine(doing: impl Into<String>) -> impl FnOnce(bollard::errors::Error) -> Self {
        let doing = doing.into();
        move |error| Self::Engine { doing, error }
    }

    pub(crate) fn refused(why: impl Into<String>) -> Self {
        Self::Refused { why: why.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_failed_comes_first_then_why() {
        let redis = redis::RedisError::from((redis::ErrorKind::Io, "connection refused"));
        let said = redis.to_string();
        let failed = Error::redis("CONFIG SET maxclients 10")(redis);
        assert_eq!(
            failed.to_string(),
            format!("CONFIG SET maxclients 10: {said}")
        );
        let undo = Error::Undo {
            restoring: "started redis again".into(),
            error: Box::new(Error::RedisState("Redis does not answer".into())),
        };
        let both = Error::NotRestored(vec![undo, Error::refused("no")]);
        assert_eq!(
            both.to_string(),
            "could not undo (started redis again): Redis does not answer; no"
        );
        assert_eq!(Error::Interrupted.to_string(), "interrupted");
    }
}
