//! The `openim-sandbox` binary: runs the sandbox server until Ctrl-C / SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use openim_sandbox::{Sandbox, SandboxConfig, TlsSource};

/// An embedded, protocol-faithful OpenIM-compatible server for testing bots.
#[derive(Parser, Debug)]
#[command(name = "openim-sandbox", version)]
struct Args {
    /// HTTP API listen address.
    #[arg(long, default_value = "127.0.0.1:10002")]
    api_addr: SocketAddr,
    /// WebSocket gateway listen address.
    #[arg(long, default_value = "127.0.0.1:10001")]
    ws_addr: SocketAddr,
    /// Admin secret (token key and /auth/get_admin_token password).
    #[arg(
        long,
        env = "OPENIM_SANDBOX_SECRET",
        default_value = "openIM123",
        hide_env_values = true
    )]
    secret: String,
    /// Persist state in this directory (default: in memory).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Webhook base URL (POST <url>/<command>).
    #[arg(long)]
    webhook_url: Option<String>,
    /// Require friendship for single-chat messages.
    #[arg(long)]
    friend_verify: bool,
    /// Serve https (API) and wss (gateway) with a self-signed certificate for
    /// localhost/127.0.0.1/::1, generated at start (kept in --data-dir when given), or with
    /// --tls-cert/--tls-key.
    #[arg(long)]
    tls: bool,
    /// TLS certificate chain (PEM); implies --tls. Needs --tls-key.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM); implies --tls. Needs --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Where to write the certificate clients must trust (PEM). Default: `tls-cert.pem` in
    /// --data-dir, else `openim-sandbox-cert.pem` in the system temp directory.
    #[arg(long)]
    tls_cert_out: Option<PathBuf>,
}

/// Registers the SIGINT/SIGTERM handlers now (before the ready line is printed) and returns a
/// future that completes on the first of them.
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

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OPENIM_SANDBOX_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    for (name, addr) in [("api", args.api_addr), ("ws", args.ws_addr)] {
        if !addr.ip().is_loopback() {
            eprintln!(
                "WARNING: the sandbox {name} listener is bound to non-loopback address {addr}; \
                 it has no real security (default secret, test server). Do not expose it."
            );
        }
    }
    let mut config = SandboxConfig::default()
        .api_addr(args.api_addr)
        .ws_addr(args.ws_addr)
        .secret(args.secret);
    config.friend_verify = args.friend_verify;
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsSource::Files { cert, key }),
        _ if args.tls => Some(TlsSource::SelfSigned),
        _ => None,
    };
    let cert_out = match (&args.tls_cert_out, &args.data_dir) {
        (Some(path), _) => path.clone(),
        (None, Some(dir)) => dir.join(openim_sandbox::tls::CERT_FILE),
        (None, None) => std::env::temp_dir().join("openim-sandbox-cert.pem"),
    };
    if let Some(source) = tls {
        config = config.tls(source);
    }
    if let Some(dir) = args.data_dir {
        config = config.data_dir(dir);
    }
    if let Some(url) = args.webhook_url {
        config = config.webhook_url(url);
    }
    let sandbox = match Sandbox::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("openim-sandbox: {e}");
            std::process::exit(1);
        }
    };
    if let Some(pem) = sandbox.tls_cert_pem() {
        // Written before the ready line, so a client may read it as soon as it sees that line.
        if let Err(e) = std::fs::write(&cert_out, pem) {
            eprintln!(
                "openim-sandbox: cannot write the TLS certificate to {}: {e}",
                cert_out.display()
            );
            sandbox.shutdown().await;
            std::process::exit(1);
        }
        eprintln!(
            "openim-sandbox: serving TLS; trust the certificate {} (e.g. OPENIM_TLS_CA={})",
            cert_out.display(),
            cert_out.display()
        );
    }
    let stop = shutdown_signal();
    println!("ready api={} ws={}", sandbox.api_url(), sandbox.ws_url());
    stop.await;
    eprintln!("openim-sandbox: shutting down");
    sandbox.shutdown().await;
}
