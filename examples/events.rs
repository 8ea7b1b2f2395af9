//! Prints every event of a bot session as one JSON line: `{"event": NAME, ...payload}`.
//!
//! Configured from the environment: OPENIM_API_ADDR, OPENIM_WS_ADDR, OPENIM_PLATFORM,
//! OPENIM_USER_ID, OPENIM_TOKEN or OPENIM_SECRET, OPENIM_DATA_DIR.
//!
//! ```text
//! OPENIM_API_ADDR=http://127.0.0.1:10002 OPENIM_WS_ADDR=ws://127.0.0.1:10001 \
//! OPENIM_USER_ID=bot OPENIM_SECRET=openIM123 cargo run -p openim-bot --example events
//! ```

use std::io::Write;

use openim_bot::{Session, SessionConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = SessionConfig::from_env()?;
    let mut session = Session::start(config).await?;
    let stdout = std::io::stdout();
    loop {
        tokio::select! {
            delivery = session.next() => {
                let Some(delivery) = delivery else { break };
                let line = delivery.event.to_json().to_string();
                {
                    let mut out = stdout.lock();
                    writeln!(out, "{line}")?;
                    out.flush()?;
                }
                delivery.ack.ack();
            }
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    session.shutdown().await?;
    Ok(())
}
