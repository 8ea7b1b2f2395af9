//! Shared helpers of the session tests: an in-process sandbox, bots and peers.
#![allow(dead_code)]

use std::time::Duration;

use openim_bot::api::ApiClient;
use openim_bot::event::{Event, EventKind};
use openim_bot::{Session, SessionConfig};
use openim_sandbox::{Sandbox, SandboxConfig};

/// Default wait for one event.
pub const WAIT: Duration = Duration::from_secs(40);

pub async fn sandbox() -> Sandbox {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_test_writer()
        .try_init();
    Sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox starts")
}

pub fn config(sb: &Sandbox, user: &str, dir: &std::path::Path) -> SessionConfig {
    SessionConfig::with_secret(sb.api_url(), sb.ws_url(), dir, user, sb.secret())
}

/// Starts a session for `user` (registered if needed) and waits for the first sync to finish.
pub async fn bot(sb: &Sandbox, user: &str, dir: &std::path::Path) -> Session {
    let _ = sb.register_user(user, &format!("{user} nick")).await;
    let mut s = Session::start(config(sb, user, dir))
        .await
        .expect("session starts");
    wait_kind(&mut s, EventKind::SyncServerFinish).await;
    s
}

/// A user acting through the HTTP API with its own token.
pub struct Peer {
    pub user_id: String,
    pub api: ApiClient,
}

pub async fn peer(sb: &Sandbox, user: &str) -> Peer {
    let _ = sb.register_user(user, &format!("{user} nick")).await;
    let token = sb.user_token(user, 3).await.expect("token");
    let api = ApiClient::new(&sb.api_url());
    api.set_token(token);
    Peer {
        user_id: user.to_owned(),
        api,
    }
}

/// Waits for the first event matching `pred`, acknowledging everything on the way.
pub async fn wait_for(s: &mut Session, what: &str, mut pred: impl FnMut(&Event) -> bool) -> Event {
    let fut = async {
        loop {
            let Some(d) = s.next().await else {
                panic!("session ended while waiting for {what}");
            };
            let hit = pred(&d.event);
            let event = d.event.clone();
            d.ack.ack();
            if hit {
                return event;
            }
        }
    };
    match tokio::time::timeout(WAIT, fut).await {
        Ok(e) => e,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

pub async fn wait_kind(s: &mut Session, kind: EventKind) -> Event {
    wait_for(s, kind.name(), |e| e.kind() == kind).await
}

/// Collects the events up to (and including) the first one matching `pred`.
pub async fn collect_until(
    s: &mut Session,
    what: &str,
    mut pred: impl FnMut(&Event) -> bool,
) -> Vec<Event> {
    let mut out = Vec::new();
    wait_for(s, what, |e| {
        out.push(e.clone());
        pred(e)
    })
    .await;
    out
}
