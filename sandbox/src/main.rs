//! The `openim-sandbox` binary: runs the sandbox server until Ctrl-C / SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use openim_sandbox::{Sandbox, SandboxConfig};

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
    let stop = shutdown_signal();
    println!("ready api={} ws={}", sandbox.api_url(), sandbox.ws_url());
    stop.await;
    eprintln!("openim-sandbox: shutting down");
    sandbox.shutdown().await;
}
