//! WebSocket gateway: connect answers, framing, heartbeats, requests 1001–1007/2003–2005, bad input.

mod common;

use common::*;
use futures::{SinkExt, StreamExt};
use openim_sandbox::wire::*;
use prost::Message as _;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn connect_answer_and_text_heartbeat() {
    let sb = start().await;
    let t = users(&sb, &["alice"]).await;
    let mut c = Client::connect(&sb, "alice", &t[0]).await;
    c.ws.send(Message::Text(r#"{"type":"ping"}"#.into()))
        .await
        .unwrap();
    let pong = tokio::time::timeout(WAIT, c.ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(pong, Message::Text(r#"{"type":"pong","body":null}"#.into()));
    c.ws.send(Message::Text(r#"{"type":"ping","body": {"a" : 1}}"#.into()))
        .await
        .unwrap();
    let pong = tokio::time::timeout(WAIT, c.ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        pong,
        Message::Text(r#"{"type":"pong","body":{"a":1}}"#.into())
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn token_errors_are_reported_as_text_frame_or_http_json() {
    let sb = start().await;
    let t = users(&sb, &["alice"]).await;
    // malformed token with isMsgResp: upgrade, text frame 1503, close
    let (mut ws, _) = tokio_tungstenite::connect_async(url(&sb, "alice", "not-a-jwt", 5))
        .await
        .unwrap();
    let m = ws.next().await.unwrap().unwrap();
    let v: Value = serde_json::from_str(m.to_text().unwrap()).unwrap();
    assert_eq!(v["errCode"], 1503);
    // token user != sendID → 1502
    let (mut ws, _) = tokio_tungstenite::connect_async(url(&sb, "bob", &t[0], 5))
        .await
        .unwrap();
    let v: Value =
        serde_json::from_str(ws.next().await.unwrap().unwrap().to_text().unwrap()).unwrap();
    assert_eq!(v["errCode"], 1502);
    // missing token → HTTP 200 JSON 1602 (no upgrade)
    let body = reqwest::get(format!(
        "{}/?sendID=alice&platformID=5&sdkType=js",
        sb.ws_url().replace("ws://", "http://")
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["errCode"], 1602);
    // the re-issued token kicks the old one: 1506
    let _new = sb.user_token("alice", 5).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::connect_async(url(&sb, "alice", &t[0], 5))
        .await
        .unwrap();
    let v: Value =
        serde_json::from_str(ws.next().await.unwrap().unwrap().to_text().unwrap()).unwrap();
    assert_eq!(v["errCode"], 1506);
    sb.shutdown().await;
}

/// A sender's own echo is held back (`push_latency`); what follows it on the connection waits
/// behind it (answers, the later pushes of its conversation), but the pushes of other
/// conversations do not.
#[tokio::test]
async fn other_conversations_overtake_a_held_echo() {
    // Far longer than the requests below take: whatever waited behind the echo comes after it.
    let sb = start_with_push_latency(std::time::Duration::from_secs(2)).await;
    let t = users(&sb, &["alice", "bob", "carol"]).await;
    let mut a = Client::connect(&sb, "alice", &t[0]).await;
    let mut b = Client::connect(&sb, "bob", &t[1]).await;
    let mut c = Client::connect(&sb, "carol", &t[2]).await;
    let r = a.send_text("bob", false, "one", "op-1").await;
    assert_eq!(r.err_code, 0);
    assert!(a.pushes.is_empty(), "the echo after the answer");
    // A second send's answer waits behind the first's echo.
    let r = a.send_text("bob", false, "two", "op-2").await;
    assert_eq!(r.err_code, 0);
    let early: Vec<&str> = a.pushes.iter().map(|f| f.operation_id.as_str()).collect();
    assert_eq!(early, ["op-1"], "the first echo before the second answer");
    // Bob answers in the held echo's conversation, then Carol writes in another one.
    let r = b.send_text("alice", false, "from bob", "op-b").await;
    assert_eq!(r.err_code, 0);
    let r = c.send_text("alice", false, "from carol", "op-c").await;
    assert_eq!(r.err_code, 0);
    let mut order = Vec::new();
    while order.len() < 4 {
        let (_, pm) = a.push().await;
        for pull in pm.msgs.values() {
            order.extend(pull.msgs.iter().map(text_of));
        }
    }
    assert_eq!(order, ["one", "from carol", "two", "from bob"]);
    sb.shutdown().await;
}

/// A kick goes out at once, as upstream's, not after the echo held back on the connection.
#[tokio::test]
async fn a_kick_does_not_wait_behind_a_held_echo() {
    let sb = start_with_push_latency(std::time::Duration::from_secs(3)).await;
    let t = users(&sb, &["alice", "bob"]).await;
    let mut old = Client::connect(&sb, "alice", &t[0]).await;
    let r = old.send_text("bob", false, "one", "op-1").await;
    assert_eq!(r.err_code, 0);
    // A new login on the same platform kicks the old connection while its echo is held.
    let t2 = sb.user_token("alice", 5).await.unwrap();
    let _new = Client::connect(&sb, "alice", &t2).await;
    let f = old.next_frame().await.expect("kick frame");
    assert_eq!(f.req_identifier, 2002, "the kick first, not the echo");
    assert_closed(&mut old).await;
    sb.shutdown().await;
}

#[tokio::test]
async fn send_push_echo_and_pulls() {
    let sb = start().await;
    let t = users(&sb, &["alice", "bob"]).await;
    let mut a = Client::connect(&sb, "alice", &t[0]).await;
    let mut b = Client::connect(&sb, "bob", &t[1]).await;
    let r = a.send_text("bob", false, "hello", "op-send-1").await;
    assert_eq!(r.err_code, 0);
    let resp = SendMsgResp::decode(r.data.as_slice()).unwrap();
    assert_eq!(resp.server_msg_id.len(), 32);
    // receiver gets the push with the sender's operationID, seq 1, status 2
    let (f, pm) = b.push().await;
    assert_eq!(f.operation_id, "op-send-1");
    let m = &pm
        .conversation("si_alice_bob")
        .expect("conversation key")
        .msgs[0];
    assert_eq!((m.seq, m.status, text_of(m).as_str()), (1, 2, "hello"));
    // sender echo arrives after the 1003 answer
    let (f, _) = a.push().await;
    assert_eq!(f.operation_id, "op-send-1");
    // 1006: bob has 1 unread
    let req = GetConversationsHasReadAndMaxSeqReq {
        user_id: "bob".into(),
        ..Default::default()
    };
    let f = b.request(1006, "op-1006", &req.encode_to_vec()).await;
    let resp = GetConversationsHasReadAndMaxSeqResp::decode(f.data.as_slice()).unwrap();
    let s = resp.seqs.get("si_alice_bob").cloned().unwrap();
    assert_eq!((s.max_seq, s.has_read_seq), (1, 0));
    // 1001 newest seq
    let f = b
        .request(
            1001,
            "op-1001",
            &GetMaxSeqReq {
                user_id: "bob".into(),
            }
            .encode_to_vec(),
        )
        .await;
    assert_eq!(
        GetMaxSeqResp::decode(f.data.as_slice())
            .unwrap()
            .max_seqs
            .get("si_alice_bob"),
        Some(&1)
    );
    // 1001 for someone else → 1002
    let f = b
        .request(
            1001,
            "op-1001b",
            &GetMaxSeqReq {
                user_id: "alice".into(),
            }
            .encode_to_vec(),
        )
        .await;
    assert_eq!(f.err_code, 1002);
    // 1002 range pull
    let req = PullMessageBySeqsReq {
        user_id: "bob".into(),
        seq_ranges: vec![SeqRange {
            conversation_id: "si_alice_bob".into(),
            begin: 0,
            end: 5,
            num: 10,
        }],
        order: 0,
    };
    let f = b.request(1002, "op-1002", &req.encode_to_vec()).await;
    let pm = PushMessages::decode(f.data.as_slice()).unwrap();
    let got = pm.conversation("si_alice_bob").unwrap();
    assert_eq!(got.msgs.len(), 1);
    assert!(got.is_end);
    // 1005 explicit seqs: the entry exists even for an empty result, placeholders for missing seqs
    let req = GetSeqMessageReq {
        user_id: "bob".into(),
        conversations: vec![
            ConversationSeqs {
                conversation_id: "si_alice_bob".into(),
                seqs: vec![1],
            },
            ConversationSeqs {
                conversation_id: "si_nobody_x".into(),
                seqs: vec![0],
            },
        ],
        order: 0,
    };
    let f = b.request(1005, "op-1005", &req.encode_to_vec()).await;
    let pm = PushMessages::decode(f.data.as_slice()).unwrap();
    assert_eq!(
        text_of(&pm.conversation("si_alice_bob").unwrap().msgs[0]),
        "hello"
    );
    assert!(
        pm.conversation("si_nobody_x").is_some(),
        "every requested conversation has an entry"
    );
    // 1007 last message
    let req = GetLastMessageReq {
        user_id: "bob".into(),
        conversation_ids: vec!["si_alice_bob".into()],
    };
    let f = b.request(1007, "op-1007", &req.encode_to_vec()).await;
    assert_eq!(
        GetLastMessageResp::decode(f.data.as_slice()).unwrap().msgs["si_alice_bob"].seq,
        1
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn impersonation_and_bad_payloads_get_error_answers() {
    let sb = start().await;
    let t = users(&sb, &["alice", "bob"]).await;
    let mut a = Client::connect(&sb, "alice", &t[0]).await;
    let forged = text_msg("bob", "alice", false, "forged");
    let f = a.request(1003, "op-forge", &forged.encode_to_vec()).await;
    assert_eq!(f.err_code, 1002);
    let f = a.request(1003, "op-garbage", &[0xff, 0xff, 0xff]).await;
    assert_eq!(f.err_code, 500);
    let mut bad_session = text_msg("alice", "bob", false, "x");
    bad_session.session_type = 2;
    let f = a.request(1003, "op-st", &bad_session.encode_to_vec()).await;
    assert_eq!(f.err_code, 1001);
    // 1006 without msgIncr-style validation fields still answered; connection stays open
    let f = a
        .request(
            2004,
            "op-bg",
            &SetAppBackgroundStatusReq {
                user_id: "alice".into(),
                is_background: true,
            }
            .encode_to_vec(),
        )
        .await;
    assert_eq!((f.err_code, f.data.len()), (0, 0));
    sb.shutdown().await;
}

async fn assert_closed(c: &mut Client) {
    assert!(c.next_frame().await.is_none(), "connection must be closed");
}

#[tokio::test]
async fn protocol_violations_close_the_connection() {
    let sb = start().await;
    let t = users(&sb, &["alice"]).await;
    // unknown reqIdentifier
    let mut c = Client::connect(&sb, "alice", &t[0]).await;
    c.send_raw(4242, "op", b"").await;
    assert_closed(&mut c).await;
    // malformed JSON envelope
    let mut c = Client::connect(&sb, "alice", &t[0]).await;
    c.ws.send(Message::Binary(b"{not json".to_vec().into()))
        .await
        .unwrap();
    assert_closed(&mut c).await;
    // envelope sendID mismatch
    let mut c = Client::connect(&sb, "alice", &t[0]).await;
    c.user = "mallory".into();
    c.send_raw(1001, "op", b"").await;
    assert_closed(&mut c).await;
    // non-heartbeat text frame
    let mut c = Client::connect(&sb, "alice", &t[0]).await;
    c.ws.send(Message::Text(r#"{"type":"hello"}"#.into()))
        .await
        .unwrap();
    assert_closed(&mut c).await;
    // oversized frame (> 51200 bytes): closed with code 1009, as upstream's gorilla/websocket
    let mut c = Client::connect(&sb, "alice", &t[0]).await;
    let _ = c.ws.send(Message::Binary(vec![b'a'; 60_000].into())).await;
    let close = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Some(m) = c.ws.next().await {
            match m {
                Ok(Message::Close(frame)) => return frame.map(|f| u16::from(f.code)),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
        None
    })
    .await
    .expect("the server closes the connection");
    assert_eq!(close, Some(1009), "close code of an oversized frame");
    // the server is still healthy
    let c = Client::connect(&sb, "alice", &t[0]).await;
    drop(c);
    sb.shutdown().await;
}

#[tokio::test]
async fn new_token_login_kicks_old_connection_and_logout_closes() {
    let sb = start().await;
    let t = users(&sb, &["alice"]).await;
    let mut old = Client::connect(&sb, "alice", &t[0]).await;
    let t2 = sb.user_token("alice", 5).await.unwrap();
    let mut new = Client::connect(&sb, "alice", &t2).await;
    let f = old.next_frame().await.expect("kick frame");
    assert_eq!(f.req_identifier, 2002);
    assert_closed(&mut old).await;
    // 2003 logout: answered, then closed
    let f = new
        .request(
            2003,
            "op-logout",
            &DelUserPushTokenReq {
                user_id: "alice".into(),
                platform_id: 5,
            }
            .encode_to_vec(),
        )
        .await;
    assert_eq!(f.err_code, 0);
    assert_closed(&mut new).await;
    sb.shutdown().await;
}

#[tokio::test]
async fn gzip_frames_both_ways() {
    use std::io::{Read, Write};
    let sb = start().await;
    let t = users(&sb, &["alice"]).await;
    let u = url(&sb, "alice", &t[0], 5) + "&compression=gzip";
    let (mut ws, _) = tokio_tungstenite::connect_async(u).await.unwrap();
    let _answer = ws.next().await.unwrap().unwrap();
    let env = serde_json::json!({"reqIdentifier": 1001, "sendID": "alice", "operationID": "op", "msgIncr": "1",
        "data": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, GetMaxSeqReq { user_id: "alice".into() }.encode_to_vec())});
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(env.to_string().as_bytes()).unwrap();
    ws.send(Message::Binary(enc.finish().unwrap().into()))
        .await
        .unwrap();
    let Message::Binary(b) = tokio::time::timeout(WAIT, ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap()
    else {
        panic!("binary")
    };
    let mut out = String::new();
    flate2::read::GzDecoder::new(&b[..])
        .read_to_string(&mut out)
        .unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (
            v["reqIdentifier"].as_i64(),
            v["msgIncr"].as_str(),
            v["errCode"].as_i64()
        ),
        (Some(1001), Some("1"), Some(0))
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn online_status_subscription() {
    let sb = start().await;
    let t = users(&sb, &["alice", "bob"]).await;
    let mut a = Client::connect(&sb, "alice", &t[0]).await;
    let req = SubUserOnlineStatus {
        subscribe_user_id: vec!["bob".into()],
        unsubscribe_user_id: vec![],
    };
    let f = a.request(2005, "op-sub", &req.encode_to_vec()).await;
    let tips = SubUserOnlineStatusTips::decode(f.data.as_slice()).unwrap();
    assert!(tips.subscribers[0].online_platform_ids.is_empty());
    let _b = Client::connect(&sb, "bob", &t[1]).await;
    let f = loop {
        let f = a.next_frame().await.expect("status push");
        if f.req_identifier == 2005 {
            break f;
        }
    };
    assert_eq!(f.msg_incr, "");
    let tips = SubUserOnlineStatusTips::decode(f.data.as_slice()).unwrap();
    assert_eq!(tips.subscribers[0].online_platform_ids, vec![5]);
    sb.shutdown().await;
}
