//! What a drill changed on the running stack and has not put back yet. Every change is
//! recorded before it is made and undone through [`Journal::undo`] on the [`Live`] stack;
//! whatever is still recorded when the drill ends — it succeeded, failed or was interrupted —
//! is undone then, newest first, and each undo is reported.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bollard::Docker;

use super::site::Site;
use super::{Error, Result};

/// One change to the running stack.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Change {
    /// A container the drill stopped.
    Stopped(String),
    /// A Redis setting the drill changed, with the value to put back.
    Config { key: String, value: String },
    /// The drill's `for: 0s` rules are loaded in Prometheus.
    QuickRules,
    /// Alertmanager runs with the drill's route: its file, and the file as it was.
    DrillRoute {
        path: std::path::PathBuf,
        original: String,
    },
}

impl Change {
    /// What undoing it does, for the output.
    pub(crate) fn restoring(&self) -> String {
        match self {
            Change::Stopped(container) => format!("started {container} again"),
            Change::Config { key, value } => format!("set Redis' {key} back to {value}"),
            Change::QuickRules => {
                "removed the drill's rules: Prometheus evaluates the rendered rules, each with \
                 its rendered `for` (seen in its rules API)"
                    .into()
            }
            Change::DrillRoute { path, .. } => format!(
                "removed the drill's Alertmanager route: {} is as it was, and Alertmanager runs \
                 it (seen in its status API)",
                path.display()
            ),
        }
    }
}

/// What Redis answers a connection past `maxclients`.
const FULL: &str = "max number of clients reached";
/// How long a connection turned away for that asks again.
const FULL_RETRY: Duration = Duration::from_secs(1);

/// The running stack as the drill acts on it (and undoing needs it): the engine, a client of
/// the managed Redis, where everything answers, and the rendered rules to restore.
#[derive(Clone, Copy)]
pub(crate) struct Live<'a> {
    pub(crate) docker: &'a Docker,
    pub(crate) client: &'a redis::Client,
    pub(crate) site: &'a Site,
    pub(crate) rendered_rules: &'a str,
}

impl Live<'_> {
    /// A connection to the managed Redis, patient with slow replies (see [`super::load::patient`]).
    /// Turned away because `maxclients` is reached (an alert induced beside this one lowered it
    /// for a moment), it asks again, for a second.
    pub(crate) async fn connection(&self) -> Result<redis::aio::MultiplexedConnection> {
        let started = Instant::now();
        loop {
            match super::load::patient(self.client).await {
                Err(e) if e.to_string().contains(FULL) && started.elapsed() < FULL_RETRY => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                answer => return answer.map_err(Error::redis("Redis")),
            }
        }
    }
}

/// The changes not undone yet, oldest first, and what undoing did so far. Cloned handles
/// share one journal; a [`Journal::scope`] shares it too, and knows its own changes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Journal {
    changes: Rc<RefCell<Vec<Change>>>,
    restored: Rc<RefCell<Vec<String>>>,
    /// A scope's own changes not undone yet; `None` for the drill's whole journal.
    own: Option<Rc<RefCell<Vec<Change>>>>,
}

impl Journal {
    pub(crate) fn record(&self, change: Change) {
        if let Some(own) = &self.own {
            own.borrow_mut().push(change.clone());
        }
        self.changes.borrow_mut().push(change);
    }

    /// A handle on this journal that also knows which changes were recorded through it, for
    /// an alert induced beside others: [`Journal::undo_own`] undoes those only.
    pub(crate) fn scope(&self) -> Journal {
        Journal {
            own: Some(Rc::default()),
            ..self.clone()
        }
    }

    /// Undoes the changes recorded through this scope and still recorded, newest first.
    pub(crate) async fn undo_own(&self, live: &Live<'_>) -> Vec<Result<String>> {
        let mut lines = Vec::new();
        let last = || {
            self.own
                .as_ref()
                .and_then(|own| own.borrow().last().cloned())
        };
        while let Some(change) = last() {
            lines.push(self.undo_line(live, change).await);
        }
        lines
    }

    pub(crate) fn pending(&self) -> Vec<Change> {
        self.changes.borrow().clone()
    }

    /// Every undo done so far, a line each, in order.
    pub(crate) fn restored(&self) -> Vec<String> {
        self.restored.borrow().clone()
    }

    /// Undoes `change` and forgets it; it stays recorded when undoing fails.
    pub(crate) async fn undo(&self, live: &Live<'_>, change: &Change) -> Result<()> {
        apply(live, change).await?;
        self.forget(change);
        self.restored.borrow_mut().push(change.restoring());
        Ok(())
    }

    /// Where the journal stands, for [`Journal::undo_since`].
    pub(crate) fn mark(&self) -> usize {
        self.changes.borrow().len()
    }

    /// Forgets `change` without undoing it: something else did.
    pub(crate) fn forget(&self, change: &Change) {
        let lists = std::iter::once(&self.changes).chain(&self.own);
        for list in lists {
            let mut changes = list.borrow_mut();
            if let Some(at) = changes.iter().rposition(|c| c == change) {
                changes.remove(at);
            }
        }
    }

    /// Undoes everything still recorded, newest first: a line for each, and why one failed.
    pub(crate) async fn undo_all(&self, live: &Live<'_>) -> Vec<Result<String>> {
        self.undo_since(live, 0).await
    }

    /// Undoes what was recorded after `mark` and is still recorded, newest first.
    pub(crate) async fn undo_since(&self, live: &Live<'_>, mark: usize) -> Vec<Result<String>> {
        let mut lines = Vec::new();
        while let Some(change) = self.pending().get(mark..).and_then(|c| c.last().cloned()) {
            lines.push(self.undo_line(live, change).await);
        }
        lines
    }

    /// Undoes `change`, which is forgotten even when undoing it fails: a line, or why.
    async fn undo_line(&self, live: &Live<'_>, change: Change) -> Result<String> {
        match self.undo(live, &change).await {
            Ok(()) => Ok(change.restoring()),
            Err(error) => {
                self.forget(&change);
                Err(Error::Undo {
                    restoring: change.restoring(),
                    error: Box::new(error),
                })
            }
        }
    }
}

/// How long a restarted container may take to answer again.
const RESTART: Duration = Duration::from_secs(60);

async fn apply(live: &Live<'_>, change: &Change) -> Result<()> {
    match change {
        Change::Stopped(container) => {
            live.docker
                .start_container(container, None)
                .await
                .or_else(|e| match e {
                    // Already running (a restart policy, or the user): nothing to do.
                    bollard::errors::Error::DockerResponseServerError {
                        status_code: 304, ..
                    } => Ok(()),
                    e => Err(Error::engine(format!("starting {container}"))(e)),
                })?;
            if container == &live.site.containers.redis {
                redis_answers(live.client).await?;
            }
            Ok(())
        }
        Change::Config { key, value } => {
            config_set(&mut live.connection().await?, key, value).await
        }
        Change::QuickRules => super::quick::restore(live.docker, live.site, live.rendered_rules)
            .await
            .map(|_| ()),
        Change::DrillRoute { path, original } => {
            super::route::restore(live.site, path, original).await
        }
    }
}

/// `CONFIG SET key value` on `connection`.
pub(crate) async fn config_set(
    connection: &mut redis::aio::MultiplexedConnection,
    key: &str,
    value: &str,
) -> Result<()> {
    redis::cmd("CONFIG")
        .arg("SET")
        .arg(key)
        .arg(value)
        .query_async::<()>(connection)
        .await
        .map_err(Error::redis(format!("CONFIG SET {key} {value}")))
}

/// Waits until Redis answers PING (it loads its data before it does).
pub(crate) async fn redis_answers(client: &redis::Client) -> Result<()> {
    let started = Instant::now();
    while !answers(client).await {
        if started.elapsed() > RESTART {
            return Err(Error::RedisState(format!(
                "Redis does not answer {}s after its start",
                RESTART.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// Whether Redis answers PING now, within two seconds.
pub(crate) async fn answers(client: &redis::Client) -> bool {
    let answer = async {
        let mut connection = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), answer).await,
        Ok(Ok(_))
    )
}
