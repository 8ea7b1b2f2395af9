//! The sandbox's command line, shared by the `openim-sandbox` binary and `openim-bots sandbox`:
//! the flags, the config they make, and serving until SIGINT/SIGTERM with the `ready` line.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::{Sandbox, SandboxConfig, SandboxError, TlsSource};

/// Flags of a standalone sandbox server (flatten into a clap parser).
#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// HTTP API listen address (port 0 = any free port).
    #[arg(long, default_value = "127.0.0.1:10002")]
    pub api_addr: SocketAddr,
    /// WebSocket gateway listen address (port 0 = any free port).
    #[arg(long, default_value = "127.0.0.1:10001")]
    pub ws_addr: SocketAddr,
    /// Admin secret (token key and /auth/get_admin_token password).
    #[arg(
        long,
        env = "OPENIM_SANDBOX_SECRET",
        default_value = "openIM123",
        hide_env_values = true
    )]
    pub secret: String,
    /// Persist state in this directory (default: in memory). Messages are logged before their
    /// send is answered, other changes saved before their request is answered (and all at
    /// shutdown): a hard kill (SIGKILL) loses nothing that was answered and reuses no seq.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Webhook base URL (POST `<url>/<command>`).
    #[arg(long)]
    pub webhook_url: Option<String>,
    /// Require friendship for single-chat messages.
    #[arg(long)]
    pub friend_verify: bool,
    /// Serve https (API) and wss (gateway) with a self-signed certificate for
    /// localhost/127.0.0.1/::1, generated at start (kept in --data-dir when given), or with
    /// --tls-cert/--tls-key.
    #[arg(long)]
    pub tls: bool,
    /// TLS certificate chain (PEM); implies --tls. Needs --tls-key.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM); implies --tls. Needs --tls-cert.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Where to write the certificate clients must trust (PEM). Default: `tls-cert.pem` in
    /// --data-dir, else `openim-sandbox-cert.pem` in the system temp directory.
    #[arg(long)]
    pub tls_cert_out: Option<PathBuf>,
    /// Delay (ms) of a client's own echo: the push of a message back to the connection that
    /// sent it (for an HTTP call, to the caller's connections) leaves this long after the
    /// answer to the send, so that it never arrives before it (the JS SDK relies on that to drop
    /// its own echo, even starved of CPU). What follows it on the connection waits behind it
    /// (other conversations' pushes do not), so a reply to the sender comes at least this late
    /// and a client sending in a row gets an answer per this delay; 0 = off, for latency
    /// measurements with clients that do not need it.
    #[arg(long, default_value_t = 100, value_name = "MS")]
    pub push_latency_ms: u64,
}

/// Why a standalone sandbox could not be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The server did not start (address in use, unreadable data dir, bad TLS files, …).
    #[error("cannot start the sandbox: {0}")]
    Start(#[source] SandboxError),
    /// The certificate clients must trust could not be written.
    #[error("cannot write the TLS certificate to {path}: {source}")]
    WriteCert {
        /// Where it was to be written.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl ServeArgs {
    /// The server configuration these flags describe.
    pub fn config(&self) -> SandboxConfig {
        let mut config = SandboxConfig::default()
            .api_addr(self.api_addr)
            .ws_addr(self.ws_addr)
            .secret(self.secret.clone())
            .friend_verify(self.friend_verify);
        config.push_latency = std::time::Duration::from_millis(self.push_latency_ms);
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(TlsSource::Files {
                cert: cert.clone(),
                key: key.clone(),
            }),
            _ if self.tls => Some(TlsSource::SelfSigned),
            _ => None,
        };
        if let Some(source) = tls {
            config = config.tls(source);
        }
        if let Some(dir) = &self.data_dir {
            config = config.data_dir(dir.clone());
        }
        if let Some(url) = &self.webhook_url {
            config = config.webhook_url(url.clone());
        }
        config
    }

    /// Where the certificate clients must trust is written when serving TLS.
    pub fn cert_out(&self) -> PathBuf {
        match (&self.tls_cert_out, &self.data_dir) {
            (Some(path), _) => path.clone(),
            (None, Some(dir)) => dir.join(crate::tls::CERT_FILE),
            (None, None) => std::env::temp_dir().join("openim-sandbox-cert.pem"),
        }
    }
}

/// Starts the server these flags describe and, when it serves TLS, writes the certificate
/// clients must trust (before any `ready` line, so a client may read it as soon as it sees it).
/// A non-loopback listener is warned about loudly on stderr.
pub async fn start(args: &ServeArgs) -> Result<Sandbox, ServeError> {
    for (name, addr) in [("api", args.api_addr), ("ws", args.ws_addr)] {
        if !addr.ip().is_loopback() {
            eprintln!(
                "WARNING: the sandbox {name} listener is bound to non-loopback address {addr}; \
                 it has no real security (default secret, test server). Do not expose it."
            );
        }
    }
    let sandbox = Sandbox::start(args.config())
        .await
        .map_err(ServeError::Start)?;
    if let Some(pem) = sandbox.tls_cert_pem() {
        let path = args.cert_out();
        if let Err(source) = std::fs::write(&path, pem) {
            sandbox.shutdown().await;
            return Err(ServeError::WriteCert { path, source });
        }
        eprintln!(
            "serving TLS; trust the certificate {} (e.g. OPENIM_TLS_CA={})",
            path.display(),
            path.display()
        );
    }
    Ok(sandbox)
}

/// Prints `ready api=<url> ws=<url>` on stdout, serves until SIGINT or SIGTERM, then shuts the
/// server down. The signal handlers are registered before the line is printed, so a supervisor
/// that stops the server right after reading it is never ignored.
pub async fn serve_until_signal(sandbox: Sandbox) {
    let stop = shutdown_signal();
    println!("ready api={} ws={}", sandbox.api_url(), sandbox.ws_url());
    stop.await;
    tracing::info!("sandbox shutting down");
    sandbox.shutdown().await;
}

/// Registers the SIGINT/SIGTERM handlers now and returns a future that completes on the first.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async move {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
