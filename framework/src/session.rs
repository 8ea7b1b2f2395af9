//! The session: logs in like an OpenIM SDK, keeps the connection, syncs by seq, maintains the
//! local store and the ledger, and hands out an ordered stream of [`Delivery`]s.

pub use crate::delivery::{Ack, Delivery};

use crate::client::Client;
use crate::config::SessionConfig;

/// Errors of the session.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// Invalid configuration.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Login failed (token acquisition or API).
    #[error("login failed: {0}")]
    Login(#[from] crate::api::ApiError),
    /// The data dir could not be created.
    #[error("cannot create the data dir: {0}")]
    DataDir(std::io::Error),
    /// The TLS root CA could not be loaded.
    #[error("TLS root CA: {0}")]
    Tls(String),
    /// The session is not running.
    #[error("session closed")]
    Closed,
}

/// A logged-in session. See the crate docs for the delivery guarantee.
#[derive(Debug)]
pub struct Session {
    client: Client,
    events: tokio::sync::mpsc::Receiver<Delivery>,
    shutdown: crate::engine::ShutdownHandle,
}

impl Session {
    /// Checks the config ([`SessionConfig::validate`]: a login the server would always refuse
    /// fails here with [`SessionError::Config`], before any file or network I/O), then opens the
    /// data dir, logs in, connects and starts the sync.
    pub async fn start(config: SessionConfig) -> Result<Session, SessionError> {
        config.validate()?;
        let (client, events, shutdown) = crate::engine::start(config).await?;
        Ok(Session {
            client,
            events,
            shutdown,
        })
    }

    /// A handle for actions (cheap clone).
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// The next event, in order (per conversation: seq order). `None` once the session ended
    /// (kicked, token expired without secret, or shut down).
    pub async fn next(&mut self) -> Option<Delivery> {
        self.events.recv().await
    }

    /// Stops the session: closes the connection, flushes the ledger and the store.
    pub async fn shutdown(self) -> Result<(), SessionError> {
        drop(self.events);
        self.shutdown.shutdown().await
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use super::*;
    use crate::event::{Event, EventKind};

    const WAIT: Duration = Duration::from_secs(40);

    /// A sandbox with `bot` and `peers` registered, and a session of `bot` on it (its config
    /// changed by `configure` first), synced: its first `SyncServerFinish` taken. The directory
    /// holds the session's store.
    pub(crate) async fn synced_session(
        bot: &str,
        peers: &[String],
        configure: impl FnOnce(&mut SessionConfig),
    ) -> (openim_sandbox::Sandbox, tempfile::TempDir, Session) {
        let sb = openim_sandbox::Sandbox::start(openim_sandbox::SandboxConfig::default())
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        for user in std::iter::once(bot).chain(peers.iter().map(String::as_str)) {
            sb.register_user(user, user).await.unwrap();
        }
        let mut config =
            SessionConfig::with_secret(sb.api_url(), sb.ws_url(), dir.path(), bot, sb.secret());
        configure(&mut config);
        let mut s = Session::start(config).await.unwrap();
        next_of(&mut s, EventKind::SyncServerFinish).await;
        (sb, dir, s)
    }

    /// Acknowledges events until one of `kind` (within 40 s).
    pub(crate) async fn next_of(s: &mut Session, kind: EventKind) {
        tokio::time::timeout(WAIT, async {
            loop {
                let d = s.next().await.expect("session running");
                let hit = d.event.kind() == kind;
                d.ack.ack();
                if hit {
                    return;
                }
            }
        })
        .await
        .expect("event in time");
    }

    /// A failed append to the ledger's journal (a full disk): the session ends instead of
    /// handling on without persisting acks, and `shutdown` returns the error (review-s8 D1).
    #[tokio::test]
    async fn a_failed_ledger_write_ends_the_session_with_the_error() {
        let (sb, _dir, mut s) = synced_session("dbot", &["dpeer".into()], |_| {}).await;
        s.shutdown.ledger().fail_writes();
        sb.send_text("dpeer", "dbot", false, "hello").await.unwrap();
        next_of(&mut s, EventKind::NewMessage).await;
        // The ack's persist fails: the session ends.
        let ended = tokio::time::timeout(WAIT, async {
            while let Some(d) = s.next().await {
                assert!(
                    !matches!(d.event, Event::NewMessage(_)),
                    "nothing after the message"
                );
            }
        })
        .await;
        assert!(ended.is_ok(), "the session ended");
        match s.shutdown().await {
            Err(SessionError::Store(crate::store::StoreError::Io { source, .. })) => {
                assert_eq!(source.kind(), std::io::ErrorKind::StorageFull)
            }
            other => panic!("shutdown returns the failure: {other:?}"),
        }
        sb.shutdown().await;
    }
}
