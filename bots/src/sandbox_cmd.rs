//! `openim-bots sandbox`: the embedded OpenIM-compatible sandbox server, standalone.
//!
//! "Test your bot without deploying OpenIM": the same server the `openim-sandbox` binary runs
//! (same flags, same `ready api=… ws=…` line on stdout), shipped inside `openim-bots` so that a
//! user who installed only the bots can point `openim-bots run` (or any OpenIM client SDK) at it.
//! `--user ID[:Nickname]` registers accounts at start, e.g. the bot's, so a configuration with
//! `secret = "openIM123"` logs in without any other setup.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use openim_sandbox::{Sandbox, SandboxConfig, SandboxError};

/// Flags of `openim-bots sandbox` (the `openim-sandbox` binary's, plus `--user`).
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// HTTP API listen address (port 0 = any free port).
    #[arg(long, default_value = "127.0.0.1:10002")]
    api_addr: SocketAddr,
    /// WebSocket gateway listen address (port 0 = any free port).
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
    /// Register this account at start: `ID` or `ID:Nickname` (repeatable).
    #[arg(long = "user", value_name = "ID[:NICKNAME]")]
    users: Vec<String>,
}

/// Why the sandbox could not be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The server did not start (address in use, unreadable data dir, …).
    #[error("cannot start the sandbox: {0}")]
    Start(#[source] SandboxError),
    /// A `--user` account could not be registered.
    #[error("cannot register user {user:?}: {source}")]
    Register {
        /// The user ID.
        user: String,
        /// The server's answer.
        #[source]
        source: SandboxError,
    },
    /// A `--user` value is malformed.
    #[error("--user {0:?}: expected ID or ID:Nickname with a non-empty ID")]
    BadUser(String),
}

/// Splits `ID[:Nickname]`; the nickname defaults to the ID.
fn parse_user(spec: &str) -> Result<(String, String), ServeError> {
    let (id, nick) = spec.split_once(':').unwrap_or((spec, spec));
    let (id, nick) = (id.trim(), nick.trim());
    if id.is_empty() {
        return Err(ServeError::BadUser(spec.to_owned()));
    }
    let nick = if nick.is_empty() { id } else { nick };
    Ok((id.to_owned(), nick.to_owned()))
}

/// Resolves on SIGINT or SIGTERM. Registered before the ready line is printed, so a
/// supervisor that stops the server right after reading it is never ignored.
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

/// Runs the sandbox until SIGINT/SIGTERM; prints `ready api=<url> ws=<url>` once it listens.
pub async fn serve(args: SandboxArgs) -> Result<(), ServeError> {
    let users = args
        .users
        .iter()
        .map(|u| parse_user(u))
        .collect::<Result<Vec<_>, _>>()?;
    for (name, addr) in [("api", args.api_addr), ("ws", args.ws_addr)] {
        if !addr.ip().is_loopback() {
            tracing::warn!(
                listener = name,
                %addr,
                "the sandbox listens on a non-loopback address; it is a test server with no real security: do not expose it"
            );
        }
    }
    let mut config = SandboxConfig::default()
        .api_addr(args.api_addr)
        .ws_addr(args.ws_addr)
        .secret(args.secret)
        .friend_verify(args.friend_verify);
    if let Some(dir) = args.data_dir {
        config = config.data_dir(dir);
    }
    if let Some(url) = args.webhook_url {
        config = config.webhook_url(url);
    }
    let sandbox = Sandbox::start(config).await.map_err(ServeError::Start)?;
    for (id, nick) in &users {
        if let Err(source) = sandbox.register_user(id, nick).await {
            // With --data-dir the account may exist from an earlier run (errCode 1102).
            if source.to_string().contains("registered already") {
                tracing::info!(user = %id, "already registered");
                continue;
            }
            sandbox.shutdown().await;
            return Err(ServeError::Register {
                user: id.clone(),
                source,
            });
        }
        tracing::info!(user = %id, "registered");
    }
    let stop = shutdown_signal();
    println!("ready api={} ws={}", sandbox.api_url(), sandbox.ws_url());
    stop.await;
    tracing::info!("sandbox shutting down");
    sandbox.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_specs() {
        assert_eq!(
            parse_user("bot").unwrap(),
            ("bot".to_owned(), "bot".to_owned())
        );
        assert_eq!(
            parse_user("bot:Helper Bot").unwrap(),
            ("bot".to_owned(), "Helper Bot".to_owned())
        );
        assert_eq!(
            parse_user("bot:").unwrap(),
            ("bot".to_owned(), "bot".to_owned())
        );
        assert!(matches!(parse_user(":x"), Err(ServeError::BadUser(_))));
    }
}
