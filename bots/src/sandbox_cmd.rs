//! `openim-bots sandbox`: the embedded OpenIM-compatible sandbox server, standalone.
//!
//! "Test your bot without deploying OpenIM": the same server the `openim-sandbox` binary runs
//! (same flags, same `ready api=… ws=…` line on stdout), shipped inside `openim-bots` so that a
//! user who installed only the bots can point `openim-bots run` (or any OpenIM client SDK) at it.
//! `--user ID[:Nickname]` registers accounts at start, e.g. the bot's, so a configuration with
//! `secret = "openIM123"` logs in without any other setup.

use clap::Args;
use openim_sandbox::SandboxError;
use openim_sandbox::cli::{self, ServeArgs};

/// Flags of `openim-bots sandbox` (the `openim-sandbox` binary's, plus `--user`).
#[derive(Debug, Args)]
pub struct SandboxArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// Register this account at start: `ID` or `ID:Nickname` (repeatable).
    #[arg(long = "user", value_name = "ID[:NICKNAME]")]
    users: Vec<String>,
}

/// Why the sandbox could not be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The server did not start (address in use, unreadable data dir, TLS files, …).
    #[error(transparent)]
    Start(#[from] cli::ServeError),
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

/// Runs the sandbox until SIGINT/SIGTERM; prints `ready api=<url> ws=<url>` once it listens
/// and the `--user` accounts exist.
pub async fn serve(args: SandboxArgs) -> Result<(), ServeError> {
    let users = args
        .users
        .iter()
        .map(|u| parse_user(u))
        .collect::<Result<Vec<_>, _>>()?;
    let sandbox = cli::start(&args.serve).await?;
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
    cli::serve_until_signal(sandbox).await;
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
