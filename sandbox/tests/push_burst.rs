//! Bursts of pushes: a connection's writer sends many queued frames per socket write, and a
//! push to several connections is encoded once. Every frame must still arrive, once, in order,
//! on plain and gzip connections alike.

mod common;

use std::io::Read;

use common::*;
use futures::StreamExt;
use openim_sandbox::wire::PushMessages;
use prost::Message as _;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

/// Reads the next binary frame of a gzip connection as JSON.
async fn next_gzip_json(ws: &mut Ws) -> Value {
    loop {
        let m = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("frame in time")
            .expect("open")
            .expect("ok");
        if let Message::Binary(b) = m {
            let mut out = String::new();
            flate2::read::GzDecoder::new(&b[..])
                .read_to_string(&mut out)
                .expect("gzip frame");
            return serde_json::from_str(&out).expect("json");
        }
    }
}

fn texts(pm: &PushMessages) -> Vec<(i64, String)> {
    pm.msgs
        .values()
        .flat_map(|p| p.msgs.iter())
        .map(|m| (m.seq, text_of(m)))
        .collect()
}

#[tokio::test]
async fn a_released_burst_arrives_complete_and_in_order_on_plain_and_gzip_connections() {
    const N: usize = 300; // several write batches
    let sb = start().await;
    let t = users(&sb, &["alice", "bob"]).await;
    let mut plain = Client::connect(&sb, "bob", &t[1]).await;
    // a second connection of bob, on another platform, with compression
    let token2 = sb.user_token("bob", 2).await.expect("token");
    let (mut zipped, _) =
        tokio_tungstenite::connect_async(url(&sb, "bob", &token2, 2) + "&compression=gzip")
            .await
            .expect("ws connect");
    let _answer = zipped.next().await;
    sb.faults().stall_pushes("bob");
    for i in 0..N {
        sb.send_text("alice", "bob", false, &format!("m{i}"))
            .await
            .expect("send");
    }
    sb.faults().release_pushes("bob");
    let mut seen_plain = Vec::new();
    while seen_plain.len() < N {
        let (f, pm) = plain.push().await;
        assert_eq!(f.req_identifier, 2001);
        seen_plain.extend(texts(&pm));
    }
    let mut seen_zipped = Vec::new();
    while seen_zipped.len() < N {
        let v = next_gzip_json(&mut zipped).await;
        if v["reqIdentifier"] != 2001 {
            continue;
        }
        let data = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            v["data"].as_str().expect("data"),
        )
        .expect("base64");
        seen_zipped.extend(texts(&PushMessages::decode(&data[..]).expect("push")));
    }
    let expected: Vec<String> = (0..N).map(|i| format!("m{i}")).collect();
    let plain_texts: Vec<String> = seen_plain.iter().map(|(_, t)| t.clone()).collect();
    assert_eq!(plain_texts, expected, "every push once, in order (plain)");
    assert_eq!(
        seen_plain, seen_zipped,
        "same pushes on the gzip connection"
    );
    assert!(
        seen_plain.windows(2).all(|w| w[1].0 == w[0].0 + 1),
        "consecutive seqs"
    );
    sb.shutdown().await;
}
