//! Sandbox configuration.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::tls::TlsSource;

/// How the sandbox is started.
#[derive(Clone)]
#[non_exhaustive]
pub struct SandboxConfig {
    /// HTTP API listen address (port 0 = any free port).
    pub api_addr: SocketAddr,
    /// WebSocket gateway listen address (port 0 = any free port).
    pub ws_addr: SocketAddr,
    /// Token signing key and `/auth/get_admin_token` password (OpenIM default `openIM123`).
    pub secret: String,
    /// IM admin user IDs (default `imAdmin`).
    pub admin_user_ids: Vec<String>,
    /// Persist state to a sled database in this directory (None = in memory): a snapshot of
    /// the whole state within 200 ms of a change and at [`crate::Sandbox::shutdown`]; every
    /// message stored in a history is appended to a log (`msglog/`) before its send is
    /// answered, and every other request that changes state is answered once a snapshot
    /// holding its change is written. So a process killed hard (SIGKILL) loses nothing it
    /// answered and hands no seq or version out twice. A power loss may lose more (the message
    /// log is not synced per message).
    pub data_dir: Option<PathBuf>,
    /// Webhook base URL; commands are POSTed to `<url>/<command>`.
    pub webhook_url: Option<String>,
    /// Per-webhook timeout.
    pub webhook_timeout: Duration,
    /// Require friendship for single-chat messages (`friendVerify`, default false).
    pub friend_verify: bool,
    /// Token lifetime in seconds (default 90 days).
    pub token_expire_secs: i64,
    /// Delay applied only to the pushes going back to the originator of a request (its own
    /// echo), default 100 ms (enough for a client starved of CPU to read the answer first), 0 = off.
    /// On the real server pushes pass through a queue and never
    /// overtake the answer to the request that caused them; the JS SDK relies on that to suppress
    /// its own echo. Other recipients get pushes immediately; what follows the echo on the
    /// originator's connection waits behind it, but for other conversations' pushes.
    pub push_latency: Duration,
    /// Serve https on the API port and wss on the gateway port (None = plain http/ws, the
    /// default). See [`crate::tls`].
    pub tls: Option<TlsSource>,
}

impl std::fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("api_addr", &self.api_addr)
            .field("ws_addr", &self.ws_addr)
            .field("secret", &"<redacted>")
            .field("admin_user_ids", &self.admin_user_ids)
            .field("data_dir", &self.data_dir)
            .field("webhook_url", &self.webhook_url)
            .field("friend_verify", &self.friend_verify)
            .field("tls", &self.tls)
            .finish()
    }
}

impl Default for SandboxConfig {
    /// Loopback, port 0 for both listeners, in memory, secret `openIM123`, admin `imAdmin`.
    fn default() -> Self {
        SandboxConfig {
            api_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            ws_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            secret: "openIM123".to_string(),
            admin_user_ids: vec!["imAdmin".to_string()],
            data_dir: None,
            webhook_url: None,
            webhook_timeout: Duration::from_secs(5),
            friend_verify: false,
            token_expire_secs: 90 * 86400,
            push_latency: Duration::from_millis(100),
            tls: None,
        }
    }
}

impl SandboxConfig {
    /// Sets the API address.
    pub fn api_addr(mut self, addr: SocketAddr) -> Self {
        self.api_addr = addr;
        self
    }
    /// Sets the gateway address.
    pub fn ws_addr(mut self, addr: SocketAddr) -> Self {
        self.ws_addr = addr;
        self
    }
    /// Sets the secret.
    pub fn secret(mut self, secret: impl Into<String>) -> Self {
        self.secret = secret.into();
        self
    }
    /// Persists state in `dir`.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }
    /// Enables webhooks to `url`.
    pub fn webhook_url(mut self, url: impl Into<String>) -> Self {
        self.webhook_url = Some(url.into());
        self
    }
    /// Holds a sender's own echo back this long (the field of this name says why); 0 turns
    /// it off, which suits tests of bots built on this framework (its session does not need
    /// the hold, and a reply then reaches its test without the 100 ms).
    pub fn push_latency(mut self, latency: Duration) -> Self {
        self.push_latency = latency;
        self
    }
    /// Serves TLS (https/wss) with a certificate from `source`.
    pub fn tls(mut self, source: TlsSource) -> Self {
        self.tls = Some(source);
        self
    }
    /// Serves TLS with a generated self-signed certificate for `localhost`/`127.0.0.1`/`::1`.
    pub fn tls_self_signed(self) -> Self {
        self.tls(TlsSource::SelfSigned)
    }
    /// Enables friend verification for single chats.
    pub fn friend_verify(mut self, on: bool) -> Self {
        self.friend_verify = on;
        self
    }
}
