//! Sync guarantees against the sandbox: no loss and no duplicate across disconnects, gaps,
//! duplicate pushes and restarts; token expiry; kick; offline catch-up.

mod session_support;

use std::collections::HashMap;

use openim_bot::event::{Event, EventKind};
use openim_bot::{Session, SessionConfig};
use session_support::*;

/// Receives `n` new messages of `conv`, acking each; asserts seq order and no duplicate.
async fn receive_texts(s: &mut Session, conv: &str, n: usize) -> Vec<String> {
    let mut texts = Vec::new();
    let mut last_seq = 0;
    while texts.len() < n {
        let e = wait_for(
            s,
            &format!("message {} of {n}", texts.len() + 1),
            |e| matches!(e, Event::NewMessage(m) if m.conversation_id == conv),
        )
        .await;
        let Event::NewMessage(m) = e else {
            unreachable!()
        };
        assert!(m.seq > last_seq, "seq order: {} after {}", m.seq, last_seq);
        last_seq = m.seq;
        texts.push(m.text().unwrap_or_default().to_owned());
    }
    texts
}

fn expected(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

#[tokio::test]
async fn forced_disconnects_mid_stream_lose_and_repeat_nothing() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = bot(&sb, "sbot1", dir.path()).await;
    let _alice = peer(&sb, "salice1").await;
    let conv = "si_salice1_sbot1";
    let n = 40;
    for i in 0..n {
        sb.send_text("salice1", "sbot1", false, &format!("m{i}"))
            .await
            .unwrap();
        if i % 10 == 5 {
            sb.faults().drop_connections("sbot1");
        }
    }
    let texts = receive_texts(&mut s, conv, n).await;
    assert_eq!(texts, expected("m", n));
    // Nothing else arrives for that conversation: no duplicates.
    sb.send_text("salice1", "sbot1", false, "end")
        .await
        .unwrap();
    let texts = receive_texts(&mut s, conv, 1).await;
    assert_eq!(texts, ["end"]);
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

#[tokio::test]
async fn seq_gaps_and_duplicate_pushes_are_repaired() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = bot(&sb, "sbot2", dir.path()).await;
    let _alice = peer(&sb, "salice2").await;
    let conv = "si_salice2_sbot2";
    sb.send_text("salice2", "sbot2", false, "g0").await.unwrap();
    sb.faults().skip_next_seq("sbot2");
    sb.send_text("salice2", "sbot2", false, "g1").await.unwrap();
    sb.faults().duplicate_next_push("sbot2");
    sb.send_text("salice2", "sbot2", false, "g2").await.unwrap();
    sb.send_text("salice2", "sbot2", false, "g3").await.unwrap();
    let texts = receive_texts(&mut s, conv, 4).await;
    assert_eq!(texts, expected("g", 4));
    sb.send_text("salice2", "sbot2", false, "end")
        .await
        .unwrap();
    assert_eq!(receive_texts(&mut s, conv, 1).await, ["end"]);
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

#[tokio::test]
async fn restart_from_the_same_data_dir_resumes_from_the_ledger() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let _alice = peer(&sb, "salice3").await;
    let conv = "si_salice3_sbot3";
    let mut s = bot(&sb, "sbot3", dir.path()).await;
    for i in 0..5 {
        sb.send_text("salice3", "sbot3", false, &format!("r{i}"))
            .await
            .unwrap();
    }
    // Handle (ack) r0..r2; r3 and r4 are delivered but never acknowledged (in flight at the
    // "crash").
    let mut seen = Vec::new();
    while seen.len() < 5 {
        let d = tokio::time::timeout(WAIT, s.next()).await.unwrap().unwrap();
        match &d.event {
            Event::NewMessage(m) if m.conversation_id == conv => {
                let text = m.text().unwrap_or_default().to_owned();
                if seen.len() < 3 {
                    d.ack.ack();
                } else {
                    drop(d.ack);
                }
                seen.push(text);
            }
            _ => d.ack.ack(),
        }
    }
    assert_eq!(seen, expected("r", 5));
    drop(s); // crash: no shutdown, no flush
    // Sent while the bot is down.
    for i in 5..8 {
        sb.send_text("salice3", "sbot3", false, &format!("r{i}"))
            .await
            .unwrap();
    }
    let mut s = Session::start(config(&sb, "sbot3", dir.path()))
        .await
        .unwrap();
    let texts = receive_texts(&mut s, conv, 5).await;
    assert_eq!(texts, ["r3", "r4", "r5", "r6", "r7"]);
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}
