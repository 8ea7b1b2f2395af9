//! Fault injection: dropped connections, stalled/delayed/duplicated pushes, seq gaps, route
//! failures, expired and kicked tokens.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

#[tokio::test]
async fn push_faults() {
    let sb = start().await;
    let t = users(&sb, &["alice", "bob"]).await;
    let mut b = Client::connect(&sb, "bob", &t[1]).await;
    // duplicate: the same push twice
    sb.faults().duplicate_next_push("bob");
    sb.send_text("alice", "bob", false, "one").await.unwrap();
    let (_, m1) = b.message_with_text("one").await;
    let (_, m2) = b.message_with_text("one").await;
    assert_eq!(m1.seq, m2.seq);
    // skip: the next stored push is dropped, the following one shows the gap
    sb.faults().skip_next_seq("bob");
    sb.send_text("alice", "bob", false, "two").await.unwrap();
    sb.send_text("alice", "bob", false, "three").await.unwrap();
    let (_, m3) = b.message_with_text("three").await;
    assert_eq!(m3.seq, m1.seq + 2, "seq of 'two' was skipped in pushes");
    // stall then release: nothing arrives while stalled, everything in order after release
    sb.faults().stall_pushes("bob");
    sb.send_text("alice", "bob", false, "four").await.unwrap();
    sb.send_text("alice", "bob", false, "five").await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(200), b.next_frame())
            .await
            .is_err(),
        "stalled"
    );
    sb.faults().release_pushes("bob");
    let (_, m4) = b.message_with_text("four").await;
    let (_, m5) = b.message_with_text("five").await;
    assert_eq!(m5.seq, m4.seq + 1);
    // released by a task of a given runtime: the same frames, in the same order
    sb.faults().stall_pushes("bob");
    sb.send_text("alice", "bob", false, "four b").await.unwrap();
    sb.send_text("alice", "bob", false, "five b").await.unwrap();
    sb.faults()
        .release_pushes_on("bob", &tokio::runtime::Handle::current())
        .await
        .unwrap();
    let (_, m4b) = b.message_with_text("four b").await;
    let (_, m5b) = b.message_with_text("five b").await;
    assert_eq!((m4b.seq, m5b.seq), (m5.seq + 1, m5.seq + 2));
    // delay
    sb.faults().delay_pushes("bob", Duration::from_millis(50));
    let started = std::time::Instant::now();
    sb.send_text("alice", "bob", false, "six").await.unwrap();
    b.message_with_text("six").await;
    assert!(started.elapsed() >= Duration::from_millis(50));
    sb.faults().delay_pushes("bob", Duration::ZERO);
    // drop: the connection closes, the user can reconnect with the same token
    assert_eq!(sb.faults().drop_connections("bob"), 1);
    assert!(b.next_frame().await.is_none());
    let _b = Client::connect(&sb, "bob", &t[1]).await;
    sb.shutdown().await;
}

#[tokio::test]
async fn route_and_token_faults() {
    let sb = start().await;
    let t = users(&sb, &["alice"]).await;
    sb.faults().fail_route("/user/get_users_info", 2, 500);
    for _ in 0..2 {
        let v = post(
            &sb,
            "/user/get_users_info",
            Some(&t[0]),
            json!({"userIDs": ["alice"]}),
        )
        .await;
        assert_eq!(code(&v), 500);
    }
    let v = post(
        &sb,
        "/user/get_users_info",
        Some(&t[0]),
        json!({"userIDs": ["alice"]}),
    )
    .await;
    assert_eq!(code(&v), 0);
    // kick: connection gets 2002, token answers 1506
    let mut c = Client::connect(&sb, "alice", &t[0]).await;
    sb.faults().kick("alice", 5);
    assert_eq!(c.next_frame().await.map(|f| f.req_identifier), Some(2002));
    let v = post(
        &sb,
        "/user/get_users_info",
        Some(&t[0]),
        json!({"userIDs": ["alice"]}),
    )
    .await;
    assert_eq!(code(&v), 1506);
    // expire: 1501
    let t2 = sb.user_token("alice", 5).await.unwrap();
    sb.faults().expire_token(&t2);
    let v = post(
        &sb,
        "/user/get_users_info",
        Some(&t2),
        json!({"userIDs": ["alice"]}),
    )
    .await;
    assert_eq!(code(&v), 1501);
    sb.shutdown().await;
}

/// `jump_seq` only moves a counter forward, and unread sums over conversations whose seqs it
/// moved near `i64::MAX` saturate (they overflowed: a panic in a debug build).
#[tokio::test]
async fn jumped_seqs_move_forward_and_their_unread_sums_saturate() {
    let sb = start().await;
    let t = users(&sb, &["jalice", "jbob", "jcarol"]).await;
    for peer in ["jalice", "jcarol"] {
        sb.send_text(peer, "jbob", false, "hi").await.unwrap();
    }
    let convs = ["si_jalice_jbob", "si_jbob_jcarol"];
    for conv in convs {
        sb.faults().jump_seq(conv, i64::MAX - 10);
        sb.faults().jump_seq(conv, 5); // backwards: no effect
    }
    // Each conversation then holds ~i64::MAX unread seqs (only with the jump held: a counter
    // moved back to 5 would leave a handful), and their sum saturates.
    for peer in ["jalice", "jcarol"] {
        sb.send_text(peer, "jbob", false, "far").await.unwrap();
    }
    let active = post(
        &sb,
        "/jssdk/get_active_conversations",
        Some(&t[1]),
        json!({"count": 10}),
    )
    .await;
    assert_eq!(code(&active), 0, "{active}");
    assert_eq!(active["data"]["unreadCount"], json!(i64::MAX));
    let listed = post(
        &sb,
        "/jssdk/get_conversations",
        Some(&t[1]),
        json!({"conversationIDs": convs}),
    )
    .await;
    assert_eq!(code(&listed), 0, "{listed}");
    assert_eq!(listed["data"]["unreadCount"], json!(i64::MAX));
}
