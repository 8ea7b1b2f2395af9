//! # openim-sandbox
//!
//! An embedded, protocol-faithful OpenIM-compatible server (open-im-server v3.8.3 semantics) for
//! testing bots and clients without deploying OpenIM: the JSON HTTP API (default port 10002) and
//! the WebSocket gateway (default port 10001) in one process, with an in-memory or sled-backed
//! state, notifications, version logs for incremental sync, webhooks and fault injection.
//!
//! ```no_run
//! use openim_sandbox::{Sandbox, SandboxConfig};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let sandbox = Sandbox::start(SandboxConfig::default()).await?;
//! sandbox.register_user("alice", "Alice").await?;
//! sandbox.register_user("bob", "Bob").await?;
//! let token = sandbox.user_token("alice", 5).await?;
//! println!("api={} ws={} token={}", sandbox.api_url(), sandbox.ws_url(), token.len());
//! let group_id = sandbox.create_group("alice", &["bob"], "Friends").await?;
//! assert!(!group_id.is_empty());
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cli;
pub mod config;
pub mod error;
pub mod faults;
mod gateway;
mod http;
pub mod model;
mod msglog;
mod persist;
mod push;
pub mod state;
pub mod tls;
pub mod token;
mod webhook;
pub mod wire;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::serve::ListenerExt;
use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use config::SandboxConfig;
pub use error::{CodeError, SandboxError};
pub use faults::Faults;
pub use tls::TlsSource;

use crate::push::Registry;
use crate::state::State;

/// Shared server internals.
pub(crate) struct Inner {
    pub(crate) config: SandboxConfig,
    pub(crate) state: Mutex<State>,
    pub(crate) registry: Registry,
    pub(crate) faults: Faults,
    /// Changes of the state so far ([`Inner::mark_dirty`]): the persist task saves when it moved.
    pub(crate) changes: std::sync::atomic::AtomicU64,
    /// With a data dir: the number of changes the newest snapshot on disk holds.
    pub(crate) saved: Option<tokio::sync::watch::Sender<u64>>,
    /// Asks the persist task for a snapshot now rather than at its next tick.
    pub(crate) save_now: tokio::sync::Notify,
    pub(crate) webhook: webhook::Webhooks,
    pub(crate) shutdown: CancellationToken,
    pub(crate) route_hits: http::RouteHits,
    pub(crate) objects: http::object::ObjectStore,
}

impl Inner {
    pub(crate) fn is_admin(&self, user_id: &str) -> bool {
        self.config.admin_user_ids.iter().any(|a| a == user_id)
    }
    /// Records a change of the state (made before this call, its lock released): the next
    /// snapshot saves it. Returns the change's number, for [`Inner::saved`].
    pub(crate) fn mark_dirty(&self) -> u64 {
        self.changes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1
    }

    /// With a data dir: waits until a snapshot holding change `change` ([`Inner::mark_dirty`])
    /// is on disk, asking for one at once, so that a request is answered only once what it
    /// changed survives a hard kill (messages are in the message log already: sends do not
    /// wait; the request's pushes are held until then by the HTTP entry). Bounded: if snapshots
    /// keep failing (logged), the request is answered anyway after [`SAVE_WAIT`]; at shutdown at
    /// once (the final save holds the change).
    pub(crate) async fn saved(&self, change: u64) {
        let Some(saved) = &self.saved else {
            return;
        };
        let mut saved = saved.subscribe();
        self.save_now.notify_one();
        tokio::select! {
            r = tokio::time::timeout(SAVE_WAIT, saved.wait_for(|&s| s >= change)) => {
                if r.is_err() {
                    tracing::warn!(
                        change,
                        "the state was not saved in time; answering the request anyway"
                    );
                }
            }
            // the persist task has stopped; the final save at shutdown holds the change
            _ = self.shutdown.cancelled() => {}
        }
    }
}

/// Longest wait of a request for the snapshot holding its change ([`Inner::saved`]).
const SAVE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// A running sandbox server (HTTP API + WebSocket gateway).
pub struct Sandbox {
    inner: Arc<Inner>,
    api_addr: SocketAddr,
    ws_addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
    http: reqwest::Client,
    store: Option<persist::Store>,
    /// The certificate clients must trust (PEM), when serving TLS.
    tls_cert_pem: Option<String>,
    /// TLS handshakes that failed or timed out, both listeners.
    tls_failures: Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("api", &self.api_addr)
            .field("ws", &self.ws_addr)
            .field("tls", &self.tls_cert_pem.is_some())
            .finish()
    }
}

impl Sandbox {
    /// Starts the server: binds both listeners (port 0 allowed) and serves until [`Sandbox::shutdown`].
    pub async fn start(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        let (store, mut state) = match &config.data_dir {
            Some(dir) => {
                let store = persist::Store::open(dir)?;
                let mut state = store.load()?;
                // messages acknowledged after the last snapshot, before a hard kill
                let (log, logged) = store.open_log()?;
                let replayed = state.replay_logged(logged);
                if replayed > 0 {
                    tracing::info!(replayed, "messages restored from the message log");
                }
                state.msg_log = Some(log);
                (Some(store), state)
            }
            None => (None, State::default()),
        };
        let now = state::now_ms();
        for admin in &config.admin_user_ids {
            state
                .users
                .entry(admin.clone())
                .or_insert_with(|| model::UserInfo {
                    user_id: admin.clone(),
                    nickname: admin.clone(),
                    create_time: now,
                    app_manger_level: 3,
                    ..Default::default()
                });
        }
        for (what, addr) in [("api", config.api_addr), ("ws", config.ws_addr)] {
            if !addr.ip().is_loopback() {
                tracing::warn!(
                    listener = what,
                    %addr,
                    "the sandbox is bound to a non-loopback address: it is a test server \
                     (known default secret); do not expose it"
                );
            }
        }
        let tls = match &config.tls {
            Some(source) => Some(tls::material(source, config.data_dir.as_deref())?),
            None => None,
        };
        // The test helpers call the API through the same scheme, trusting the certificate
        // (built before anything is spawned: nothing to undo if it fails).
        let mut http = reqwest::Client::builder();
        if let Some(m) = &tls {
            let cert = reqwest::Certificate::from_pem(m.cert_pem.as_bytes())
                .map_err(|e| SandboxError::Tls(format!("helper client: {e}")))?;
            http = http.add_root_certificate(cert);
        }
        let http = http
            .build()
            .map_err(|e| SandboxError::Tls(format!("helper client: {e}")))?;
        let api_listener = tokio::net::TcpListener::bind(config.api_addr)
            .await
            .map_err(|e| SandboxError::Bind {
                what: "api",
                addr: config.api_addr.to_string(),
                source: e,
            })?;
        let ws_listener = tokio::net::TcpListener::bind(config.ws_addr)
            .await
            .map_err(|e| SandboxError::Bind {
                what: "ws",
                addr: config.ws_addr.to_string(),
                source: e,
            })?;
        let api_addr = api_listener.local_addr().map_err(|e| SandboxError::Bind {
            what: "api",
            addr: config.api_addr.to_string(),
            source: e,
        })?;
        let ws_addr = ws_listener.local_addr().map_err(|e| SandboxError::Bind {
            what: "ws",
            addr: config.ws_addr.to_string(),
            source: e,
        })?;
        let shutdown = CancellationToken::new();
        let inner = Arc::new(Inner {
            webhook: webhook::Webhooks::new(config.webhook_url.clone(), config.webhook_timeout),
            config,
            state: Mutex::new(state),
            registry: Registry::default(),
            faults: Faults::default(),
            changes: std::sync::atomic::AtomicU64::new(0),
            saved: store.as_ref().map(|_| tokio::sync::watch::Sender::new(0)),
            save_now: tokio::sync::Notify::new(),
            shutdown: shutdown.clone(),
            route_hits: Default::default(),
            objects: match &store {
                Some(store) => http::object::ObjectStore::open(store.tree("objects")?),
                None => Default::default(),
            },
        });
        let tls_failures = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let listen = |listener, addr| match &tls {
            Some(m) => tls::SandboxListener::tls(
                listener,
                addr,
                m.acceptor.clone(),
                tls_failures.clone(),
                shutdown.clone(),
            ),
            None => tls::SandboxListener::plain(listener, addr),
        };
        let (api_listener, ws_listener) =
            (listen(api_listener, api_addr), listen(ws_listener, ws_addr));
        let mut tasks = Vec::new();
        let api_router = http::router(inner.clone());
        let sd = shutdown.clone();
        tasks.push(tokio::spawn(async move {
            let r = axum::serve(api_listener, api_router)
                .with_graceful_shutdown(async move { sd.cancelled().await })
                .await;
            if let Err(e) = r {
                tracing::error!(error = %e, "api server stopped");
            }
        }));
        let ws_router = gateway::router(inner.clone());
        let sd = shutdown.clone();
        tasks.push(tokio::spawn(async move {
            // TCP_NODELAY is set by the listener; the tap gives access to the peer address.
            let listener = ws_listener.tap_io(|_| {});
            let r = axum::serve(
                listener,
                ws_router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move { sd.cancelled().await })
            .await;
            if let Err(e) = r {
                tracing::error!(error = %e, "ws server stopped");
            }
        }));
        if let Some(store) = &store {
            let store = store.clone();
            let inner2 = inner.clone();
            let sd = shutdown.clone();
            tasks.push(tokio::spawn(async move {
                let mut tick = tokio::time::interval(std::time::Duration::from_millis(200));
                // The changes the last snapshot written holds (none yet: the first tick saves).
                let mut written = None;
                loop {
                    tokio::select! {
                        _ = sd.cancelled() => break,
                        _ = tick.tick() => {}
                        _ = inner2.save_now.notified() => {}
                    }
                    if written == Some(inner2.changes.load(std::sync::atomic::Ordering::SeqCst)) {
                        continue;
                    }
                    // encoded under the state lock, written and flushed after it on a
                    // blocking thread (requests are not held up by the disk)
                    let (encoded, holds) = {
                        let mut st = inner2.state.lock();
                        // every change counted so far was made before this lock was taken
                        let holds = inner2.changes.load(std::sync::atomic::Ordering::SeqCst);
                        (store.encode(&mut st), holds)
                    };
                    let store = store.clone();
                    let r = match encoded {
                        Ok(encoded) => tokio::task::spawn_blocking(move || store.write(encoded))
                            .await
                            .unwrap_or_else(|e| {
                                Err(error::SandboxError::Store {
                                    path: String::new(),
                                    message: format!("persist task failed: {e}"),
                                })
                            }),
                        Err(e) => Err(e),
                    };
                    match r {
                        Ok(()) => {
                            written = Some(holds);
                            if let Some(saved) = &inner2.saved {
                                saved.send_if_modified(|s| {
                                    let newer = holds > *s;
                                    *s = (*s).max(holds);
                                    newer
                                });
                            }
                        }
                        Err(e) => {
                            // tried again at the next tick (`written` did not move)
                            tracing::error!(error = %e, "persisting sandbox state failed");
                        }
                    }
                }
            }));
        }
        tracing::info!(%api_addr, %ws_addr, tls = tls.is_some(), "openim-sandbox listening");
        let tls_cert_pem = tls.map(|m| m.cert_pem);
        Ok(Sandbox {
            inner,
            api_addr,
            ws_addr,
            tasks,
            http,
            store,
            tls_cert_pem,
            tls_failures,
        })
    }

    /// The HTTP API base URL, e.g. `http://127.0.0.1:10002` (`https://` when serving TLS).
    pub fn api_url(&self) -> String {
        let scheme = if self.tls_cert_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.api_addr)
    }

    /// The WebSocket gateway URL, e.g. `ws://127.0.0.1:10001` (`wss://` when serving TLS).
    pub fn ws_url(&self) -> String {
        let scheme = if self.tls_cert_pem.is_some() {
            "wss"
        } else {
            "ws"
        };
        format!("{scheme}://{}", self.ws_addr)
    }

    /// The certificate (PEM) clients must trust when the sandbox serves TLS
    /// ([`SandboxConfig::tls`]); `None` for plain http/ws.
    pub fn tls_cert_pem(&self) -> Option<&str> {
        self.tls_cert_pem.as_deref()
    }

    /// TLS handshakes that failed or timed out so far (untrusting clients, plaintext or
    /// garbage sent to a TLS port).
    pub fn tls_handshake_failures(&self) -> u64 {
        self.tls_failures.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The bound API address.
    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    /// The bound gateway address.
    pub fn ws_addr(&self) -> SocketAddr {
        self.ws_addr
    }

    /// The configured admin secret.
    pub fn secret(&self) -> &str {
        &self.inner.config.secret
    }

    /// Fault injection controls.
    pub fn faults(&self) -> FaultControl<'_> {
        FaultControl { sandbox: self }
    }

    /// How many HTTP requests for `path` (e.g. `/friend/get_friend_list`) reached the API so far
    /// (lets tests check which routes a client used).
    pub fn route_hits(&self, path: &str) -> u64 {
        self.inner.route_hits.get(path)
    }

    /// Number of open gateway connections of a user.
    pub fn connection_count(&self, user_id: &str) -> usize {
        self.inner.registry.count(user_id)
    }

    /// Stops both servers, closes every connection and flushes the store.
    pub async fn shutdown(mut self) {
        self.inner.faults.open_all_gates();
        self.inner.registry.close_all();
        self.inner.shutdown.cancel();
        // graceful first (in-flight HTTP requests finish), then abort whatever still lingers
        // (idle keep-alive or half-closed connections must not keep the process alive)
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
        for mut t in self.tasks.drain(..) {
            if tokio::time::timeout_at(deadline, &mut t).await.is_err() {
                t.abort();
            }
        }
        self.inner.objects.detach();
        if let Some(store) = self.store.take() {
            let encoded = {
                let mut st = self.inner.state.lock();
                store.encode(&mut st)
            };
            // numbered after any periodic save still running: that one cannot overwrite it
            if let Err(e) = encoded.and_then(|encoded| store.write(encoded)) {
                tracing::error!(error = %e, "final persist failed");
            }
        }
    }

    // ---------- test helpers (through the real HTTP API) ----------

    /// Calls an API route with a token and returns `data` (or `Null`), failing on a non-zero errCode.
    pub async fn call(&self, route: &str, token: &str, body: Value) -> Result<Value, SandboxError> {
        let resp = self
            .http
            .post(format!("{}{}", self.api_url(), route))
            .header("operationID", format!("sandbox-{}", state::random_hex32()))
            .header("token", token)
            .json(&body)
            .send()
            .await
            .map_err(|e| SandboxError::Api {
                route: route.to_string(),
                error: e.to_string(),
            })?;
        let v: Value = resp.json().await.map_err(|e| SandboxError::Api {
            route: route.to_string(),
            error: e.to_string(),
        })?;
        let code = v.get("errCode").and_then(Value::as_i64).unwrap_or(-1);
        if code != 0 {
            return Err(SandboxError::Api {
                route: route.to_string(),
                error: format!(
                    "{} {} {}",
                    code,
                    v["errMsg"].as_str().unwrap_or(""),
                    v["errDlt"].as_str().unwrap_or("")
                ),
            });
        }
        Ok(v.get("data").cloned().unwrap_or(Value::Null))
    }

    /// Gets an admin token via `/auth/get_admin_token`.
    pub async fn admin_token(&self) -> Result<String, SandboxError> {
        let admin = self
            .inner
            .config
            .admin_user_ids
            .first()
            .cloned()
            .unwrap_or_default();
        let data = self
            .call(
                "/auth/get_admin_token",
                "",
                json!({"secret": self.inner.config.secret, "userID": admin}),
            )
            .await?;
        Ok(data["token"].as_str().unwrap_or_default().to_string())
    }

    /// Registers a user via `/user/user_register`.
    pub async fn register_user(&self, user_id: &str, nickname: &str) -> Result<(), SandboxError> {
        let admin = self.admin_token().await?;
        self.call(
            "/user/user_register",
            &admin,
            json!({"users": [{"userID": user_id, "nickname": nickname, "faceURL": ""}]}),
        )
        .await?;
        Ok(())
    }

    /// Mints a user token via `/auth/get_user_token` (kicks older tokens of that platform).
    pub async fn user_token(
        &self,
        user_id: &str,
        platform_id: i32,
    ) -> Result<String, SandboxError> {
        let admin = self.admin_token().await?;
        let data = self
            .call(
                "/auth/get_user_token",
                &admin,
                json!({"userID": user_id, "platformID": platform_id}),
            )
            .await?;
        Ok(data["token"].as_str().unwrap_or_default().to_string())
    }

    /// Creates a group via `/group/create_group` (owner + members) and returns its ID.
    pub async fn create_group(
        &self,
        owner: &str,
        members: &[&str],
        name: &str,
    ) -> Result<String, SandboxError> {
        let admin = self.admin_token().await?;
        let data = self
            .call(
                "/group/create_group",
                &admin,
                json!({
                    "ownerUserID": owner,
                    "memberUserIDs": members,
                    "adminUserIDs": [],
                    "groupInfo": {"groupName": name, "groupType": 2},
                }),
            )
            .await?;
        Ok(data["groupInfo"]["groupID"]
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// Sets a member's role in a group via `/group/set_group_member_info` (as the admin): 60
    /// admin, 20 ordinary member (the owner changes by `/group/transfer_group`).
    pub async fn set_member_role(
        &self,
        group_id: &str,
        user_id: &str,
        role_level: i32,
    ) -> Result<(), SandboxError> {
        let admin = self.admin_token().await?;
        self.call(
            "/group/set_group_member_info",
            &admin,
            json!({"members": [{"groupID": group_id, "userID": user_id, "roleLevel": role_level}]}),
        )
        .await?;
        Ok(())
    }

    /// Makes two users friends via `/friend/import_friend`.
    pub async fn make_friends(&self, a: &str, b: &str) -> Result<(), SandboxError> {
        let admin = self.admin_token().await?;
        self.call(
            "/friend/import_friend",
            &admin,
            json!({"ownerUserID": a, "friendUserIDs": [b]}),
        )
        .await?;
        Ok(())
    }

    /// Sends a text message as `send_id` via the admin `/msg/send_msg` (single chat if `to` is a user,
    /// group chat if `group` is true).
    pub async fn send_text(
        &self,
        send_id: &str,
        to: &str,
        group: bool,
        text: &str,
    ) -> Result<Value, SandboxError> {
        let admin = self.admin_token().await?;
        let body = if group {
            json!({"sendID": send_id, "groupID": to, "sessionType": 3, "contentType": 101, "content": {"content": text}, "senderNickname": send_id})
        } else {
            json!({"sendID": send_id, "recvID": to, "sessionType": 1, "contentType": 101, "content": {"content": text}, "senderNickname": send_id})
        };
        self.call("/msg/send_msg", &admin, body).await
    }
}

/// Sends a user's held pushes, in order.
fn release_held(inner: &Inner, user_id: &str) {
    for push in inner.faults.release(user_id) {
        inner.registry.send_push(user_id, push);
    }
}

/// Fault injection for tests (see [`Sandbox::faults`]).
#[derive(Debug)]
pub struct FaultControl<'a> {
    sandbox: &'a Sandbox,
}

impl FaultControl<'_> {
    /// Drops (closes without a kick frame) every gateway connection of a user.
    pub fn drop_connections(&self, user_id: &str) -> usize {
        self.sandbox.inner.registry.drop_user(user_id)
    }
    /// Holds every push to a user until [`FaultControl::release_pushes`].
    pub fn stall_pushes(&self, user_id: &str) {
        self.sandbox.inner.faults.stall(user_id);
    }
    /// Releases held pushes (delivered in order).
    pub fn release_pushes(&self, user_id: &str) {
        release_held(&self.sandbox.inner, user_id);
    }
    /// Releases held pushes from a task spawned on `runtime` (delivered in order) and returns
    /// at once: queueing many thousands of frames is the sandbox's work, so a caller that
    /// accounts CPU by thread (the benchmark) runs it on the sandbox's own runtime.
    pub fn release_pushes_on(
        &self,
        user_id: &str,
        runtime: &tokio::runtime::Handle,
    ) -> JoinHandle<()> {
        let inner = Arc::clone(&self.sandbox.inner);
        let user_id = user_id.to_string();
        runtime.spawn(async move { release_held(&inner, &user_id) })
    }
    /// Delays every push to a user by `delay` (zero to disable).
    pub fn delay_pushes(&self, user_id: &str, delay: std::time::Duration) {
        self.sandbox.inner.faults.set_delay(user_id, delay);
    }
    /// Sends the next push to a user twice.
    pub fn duplicate_next_push(&self, user_id: &str) {
        self.sandbox.inner.faults.duplicate_next(user_id);
    }
    /// Drops the next stored (seq > 0) push to a user, so the client sees a seq gap.
    pub fn skip_next_seq(&self, user_id: &str) {
        self.sandbox.inner.faults.skip_next_seq(user_id);
    }
    /// Moves a conversation's seq counter forward to `max_seq`, as a broken or hostile server
    /// might: its next message gets seq `max_seq + 1` (`i64::MAX` is the last seq: messages
    /// past it share it). The seqs jumped over hold no message: a pull answers them as deleted
    /// (status 4). A `max_seq` below the counter changes nothing (stored seqs are never
    /// reused).
    pub fn jump_seq(&self, conversation_id: &str, max_seq: i64) {
        {
            let mut state = self.sandbox.inner.state.lock();
            let seqs = state.seqs.entry(conversation_id.to_string()).or_default();
            seqs.max_seq = seqs.max_seq.max(max_seq);
        }
        self.sandbox.inner.mark_dirty();
    }
    /// Makes the next `n` calls of an HTTP route fail with `code`.
    pub fn fail_route(&self, route: &str, n: u32, code: i32) {
        self.sandbox.inner.faults.fail_route(route, n, code);
    }
    /// Makes the next `n` gateway requests with `req_identifier` (1002: a pull) fail with
    /// `code`, answered with that error and no data.
    pub fn fail_requests(&self, req_identifier: i32, n: u32, code: i32) {
        self.sandbox
            .inner
            .faults
            .fail_requests(req_identifier, n, code);
    }
    /// Marks a token expired: later checks answer 1501.
    pub fn expire_token(&self, token: &str) {
        self.sandbox.inner.faults.expire_token(token);
    }
    /// Gateway connection attempts of a user (by the `sendID` of the upgrade request, counted
    /// before any token check), since the sandbox started.
    pub fn ws_connect_attempts(&self, user_id: &str) -> u64 {
        self.sandbox.inner.faults.ws_attempts(user_id)
    }
    /// Stalls the gateway's answers to a user: its requests are read and handled, but each
    /// answer is withheld (and the connection reads nothing more) until
    /// [`FaultControl::release_answers`].
    pub fn stall_answers(&self, user_id: &str) {
        self.sandbox
            .inner
            .faults
            .set_gate(faults::Gate::Answers, user_id, true);
    }
    /// Lets the withheld gateway answers go.
    pub fn release_answers(&self, user_id: &str) {
        self.sandbox
            .inner
            .faults
            .set_gate(faults::Gate::Answers, user_id, false);
    }
    /// Makes HTTP API requests made with a user's token hang (after the token check) until
    /// [`FaultControl::release_http`].
    pub fn stall_http(&self, user_id: &str) {
        self.sandbox
            .inner
            .faults
            .set_gate(faults::Gate::Http, user_id, true);
    }
    /// Lets the held HTTP requests proceed.
    pub fn release_http(&self, user_id: &str) {
        self.sandbox
            .inner
            .faults
            .set_gate(faults::Gate::Http, user_id, false);
    }
    /// A stalled server as seen by one user: gateway answers, pushes and HTTP requests are
    /// all held until [`FaultControl::release_server`].
    pub fn stall_server(&self, user_id: &str) {
        self.stall_answers(user_id);
        self.stall_pushes(user_id);
        self.stall_http(user_id);
    }
    /// Ends [`FaultControl::stall_server`]: held answers, pushes (in order) and HTTP requests go.
    pub fn release_server(&self, user_id: &str) {
        self.release_http(user_id);
        self.release_answers(user_id);
        self.release_pushes(user_id);
    }
    /// Kicks a user's platform: tokens marked kicked (1506), connections get 2002 and are closed.
    pub fn kick(&self, user_id: &str, platform_id: i32) {
        http::auth::kick_platform(&self.sandbox.inner, user_id, platform_id);
    }
}
