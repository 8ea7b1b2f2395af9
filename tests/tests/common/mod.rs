//! Shared helpers of the reliability tests: an in-process sandbox, fast admin sends, sessions,
//! and a WebSocket proxy that sits between a session and the sandbox gateway to inject
//! malformed frames (the sandbox itself counts connection attempts and stalls: see
//! `Sandbox::faults`).
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use openim_bot::event::{Event, EventKind};
use openim_bot::{Session, SessionConfig};
use openim_sandbox::{Sandbox, SandboxConfig};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

/// Default wait for one event.
pub const WAIT: Duration = Duration::from_secs(20);

/// Installs a test log writer once (RUST_LOG controls it; default warn).
pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_test_writer()
        .try_init();
}

/// A number from the environment, or `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Starts an in-memory sandbox on loopback port 0.
pub async fn sandbox() -> Arc<Sandbox> {
    init_logs();
    Arc::new(
        Sandbox::start(SandboxConfig::default())
            .await
            .expect("sandbox starts"),
    )
}

/// Shuts a shared sandbox down once every other handle is gone.
pub async fn shutdown(sb: Arc<Sandbox>) {
    if let Ok(sb) = Arc::try_unwrap(sb) {
        sb.shutdown().await;
    }
}

/// Registers users in one admin call.
pub async fn register(sb: &Sandbox, admin: &str, users: &[String]) {
    let list: Vec<_> = users
        .iter()
        .map(|u| json!({"userID": u, "nickname": format!("{u} nick"), "faceURL": ""}))
        .collect();
    sb.call("/user/user_register", admin, json!({ "users": list }))
        .await
        .expect("users registered");
}

/// Sends a single-chat text `from` → `to` with an admin token already obtained.
pub async fn send(sb: &Sandbox, admin: &str, from: &str, to: &str, text: &str) {
    let body = json!({
        "sendID": from, "recvID": to, "sessionType": 1, "contentType": 101,
        "content": {"content": text}, "senderNickname": from,
    });
    let mut tries = 0;
    loop {
        match sb.call("/msg/send_msg", admin, body.clone()).await {
            Ok(_) => return,
            Err(e) if tries < 3 => {
                tries += 1;
                tracing::warn!(error = %e, "send failed, retrying");
            }
            Err(e) => panic!("send {from} -> {to} failed: {e}"),
        }
    }
}

/// A session config with the admin secret.
pub fn config(
    api: &str,
    ws: &str,
    user: &str,
    secret: &str,
    dir: &std::path::Path,
) -> SessionConfig {
    SessionConfig::with_secret(api, ws, dir, user, secret)
}

/// Starts a session and waits for its first sync to finish (acknowledging everything on the way).
pub async fn start_session(config: SessionConfig) -> Session {
    let mut s = Session::start(config).await.expect("session starts");
    wait_for(&mut s, "first sync", |e| {
        e.kind() == EventKind::SyncServerFinish
    })
    .await;
    s
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

// ------------------------------------------------------------------------------------------
// WebSocket proxy

/// Per-connection controls.
struct Conn {
    inject: mpsc::UnboundedSender<WsMessage>,
    kill: watch::Sender<bool>,
}

struct ProxyState {
    upstream: String,
    conns: Mutex<Vec<Conn>>,
}

impl ProxyState {
    fn conns(&self) -> std::sync::MutexGuard<'_, Vec<Conn>> {
        // A panicking test task must not hide the real error behind a poisoned lock.
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A WebSocket proxy in front of a gateway (`ws://` URL): the session connects to
/// [`WsProxy::url`]. It injects frames to clients as if the server had sent them, and can
/// drop every connection.
pub struct WsProxy {
    url: String,
    state: Arc<ProxyState>,
    task: tokio::task::JoinHandle<()>,
}

impl WsProxy {
    /// Starts a proxy on loopback port 0 forwarding to `upstream` (e.g. `sandbox.ws_url()`).
    pub async fn start(upstream: &str) -> WsProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy binds");
        let addr = listener.local_addr().expect("proxy addr");
        let state = Arc::new(ProxyState {
            upstream: upstream.trim_end_matches('/').to_owned(),
            conns: Mutex::new(Vec::new()),
        });
        let st = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                tokio::spawn(serve(st.clone(), tcp));
            }
        });
        WsProxy {
            url: format!("ws://{addr}"),
            state,
            task,
        }
    }

    /// The URL clients dial.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Closes every proxied connection (TCP level, no close frame).
    pub fn drop_all(&self) -> usize {
        let conns: Vec<Conn> = self.state.conns().drain(..).collect();
        for c in &conns {
            let _ = c.kill.send(true);
        }
        conns.len()
    }

    /// Sends `frame` to every connected client, as if the server had sent it.
    pub fn inject(&self, frame: WsMessage) -> usize {
        let mut conns = self.state.conns();
        conns.retain(|c| !c.inject.is_closed());
        conns
            .iter()
            .filter(|c| c.inject.send(frame.clone()).is_ok())
            .count()
    }
}

impl Drop for WsProxy {
    fn drop(&mut self) {
        self.task.abort();
        self.drop_all();
    }
}

// The handshake callback's error type is tungstenite's (a full HTTP response).
#[allow(clippy::result_large_err)]
async fn serve(state: Arc<ProxyState>, tcp: TcpStream) {
    let mut path = String::from("/");
    let client = tokio_tungstenite::accept_hdr_async(tcp, |req: &Request, resp: Response| {
        path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into());
        Ok(resp)
    })
    .await;
    let Ok(client) = client else { return };
    let Ok((server, _)) =
        tokio_tungstenite::connect_async(format!("{}{}", state.upstream, path)).await
    else {
        return;
    };
    let (inject_tx, mut inject_rx) = mpsc::unbounded_channel();
    let (kill_tx, mut kill_rx) = watch::channel(false);
    state.conns().push(Conn {
        inject: inject_tx,
        kill: kill_tx,
    });
    let (mut client_tx, mut client_rx) = client.split();
    let (mut server_tx, mut server_rx) = server.split();
    let up = async {
        while let Some(Ok(m)) = client_rx.next().await {
            if server_tx.send(m).await.is_err() {
                break;
            }
        }
    };
    let down = async {
        loop {
            tokio::select! {
                m = server_rx.next() => {
                    let Some(Ok(m)) = m else { break };
                    if client_tx.send(m).await.is_err() {
                        break;
                    }
                }
                m = inject_rx.recv() => {
                    let Some(m) = m else { break };
                    if client_tx.send(m).await.is_err() {
                        break;
                    }
                }
            }
        }
    };
    tokio::select! {
        _ = up => {}
        _ = down => {}
        _ = kill_rx.changed() => {}
    }
}
