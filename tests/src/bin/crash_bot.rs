//! A minimal bot process for the crash-restart test (`tests/tests/faults.rs`): runs a
//! [`Session`] on a data dir, appends every handled message as `conversationID seq unix_ms text` to a
//! record file, then acknowledges it. The test SIGKILLs it mid-stream and restarts it on the same
//! data dir.
//!
//! Configuration (environment): `CRASH_BOT_API`, `CRASH_BOT_WS`, `CRASH_BOT_DIR`,
//! `CRASH_BOT_USER`, `CRASH_BOT_SECRET`, `CRASH_BOT_RECORD`; `CRASH_BOT_DURABLE_ACKS` (non-empty =
//! `SessionConfig::durable_acks`); `CRASH_BOT_TRACE` prints every other
//! event to stderr.
//! Stdout: `ready` once the first sync finished, then one `handled` line per message.

use std::io::Write;

use openim_bot::event::Event;
use openim_bot::{Session, SessionConfig};

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        eprintln!("crash_bot: {name} is not set");
        std::process::exit(64)
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let config = SessionConfig::with_secret(
        var("CRASH_BOT_API"),
        var("CRASH_BOT_WS"),
        var("CRASH_BOT_DIR"),
        var("CRASH_BOT_USER"),
        var("CRASH_BOT_SECRET"),
    );
    let mut config = config;
    config.durable_acks = std::env::var("CRASH_BOT_DURABLE_ACKS").is_ok_and(|v| !v.is_empty());
    let mut record = match std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(var("CRASH_BOT_RECORD"))
    {
        Ok(f) => f,
        Err(e) => {
            eprintln!("crash_bot: cannot open the record file: {e}");
            std::process::exit(65)
        }
    };
    let mut session = match Session::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("crash_bot: session failed to start: {e}");
            std::process::exit(66)
        }
    };
    let mut stdout = std::io::stdout();
    let mut ready = false;
    let trace = std::env::var("CRASH_BOT_TRACE").is_ok_and(|v| !v.is_empty());
    while let Some(delivery) = session.next().await {
        if trace && !matches!(delivery.event, Event::NewMessage(_)) {
            eprintln!("crash_bot event: {}", delivery.event.to_json());
        }
        match &delivery.event {
            Event::NewMessage(m) => {
                // One write per line: a SIGKILL leaves whole lines (or a torn last line, which
                // the test ignores).
                let at_ms = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis())
                    .unwrap_or(0);
                let line = format!(
                    "{} {} {at_ms} {}\n",
                    m.conversation_id,
                    m.seq,
                    m.text().unwrap_or_default()
                );
                if let Err(e) = record.write_all(line.as_bytes()) {
                    eprintln!("crash_bot: record write failed: {e}");
                    std::process::exit(67)
                }
                let _ = stdout.write_all(b"handled\n");
                let _ = stdout.flush();
            }
            Event::SyncServerFinish(_) if !ready => {
                ready = true;
                if std::env::var("CRASH_BOT_FLUSH_READY").is_ok_and(|v| !v.is_empty()) {
                    // Diagnosis aid: make the first sync's state durable before going on.
                    if let Err(e) = session.client().store().flush() {
                        eprintln!("crash_bot: flush failed: {e}");
                    }
                }
                let _ = stdout.write_all(b"ready\n");
                let _ = stdout.flush();
            }
            _ => {}
        }
        delivery.ack.ack();
    }
    eprintln!("crash_bot: session ended");
    std::process::exit(2)
}
