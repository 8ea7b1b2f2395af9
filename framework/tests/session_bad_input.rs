//! Bad input from the gateway: frames that do not decode are logged and counted, the connection
//! goes on, and nothing handler-facing panics.

mod session_support;

use std::io::{Read, Write};

use base64::Engine as _;
use futures::{SinkExt, StreamExt};
use openim_bot::event::{Event, EventKind};
use openim_protocol::pb::sdkws::{MsgData, PullMsgs, PushMessages};
use prost::Message as _;
use session_support::*;
use tokio_tungstenite::tungstenite::Message as WsMessage;

fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if b.starts_with(&[0x1f, 0x8b]) {
        flate2::read::GzDecoder::new(b)
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        b.to_vec()
    }
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn push_frame(seq: i64, text: &str) -> Vec<u8> {
    let mut push = PushMessages::default();
    push.msgs.insert(
        "si_peer_badbot".into(),
        PullMsgs {
            msgs: vec![MsgData {
                send_id: "peer".into(),
                recv_id: "badbot".into(),
                client_msg_id: format!("c{seq}"),
                server_msg_id: format!("s{seq}"),
                session_type: 1,
                msg_from: 100,
                content_type: 101,
                content: format!(r#"{{"content":"{text}"}}"#).into_bytes(),
                seq,
                // newer than the bot's first start: not history
                send_time: i64::MAX / 2,
                status: 2,
                ..Default::default()
            }],
            ..Default::default()
        },
    );
    let data = base64::engine::general_purpose::STANDARD.encode(push.encode_to_vec());
    serde_json::json!({"reqIdentifier": 2001, "msgIncr": "", "operationID": "op", "errCode": 0, "errMsg": "", "data": data})
        .to_string()
        .into_bytes()
}

/// A fake gateway: answers every request with an empty success, and sends garbage first.
async fn fake_gateway() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        ws.send(WsMessage::text(r#"{"errCode":0,"errMsg":"","errDlt":""}"#))
            .await
            .unwrap();
        let garbage: Vec<Vec<u8>> = vec![
            b"not json at all".to_vec(),
            vec![0x1f, 0x8b, 0x08, 0x00, 0x01], // broken gzip
            gzip(br#"{"reqIdentifier":2001,"data":"%%%not base64"}"#), // bad base64
            br#"{"reqIdentifier":2001,"data":"AAECAwQ="}"#.to_vec(), // bad protobuf
            br#"{"reqIdentifier":"2001"}"#.to_vec(), // wrong JSON types
            vec![0u8; 70_000],                  // big junk
        ];
        for g in garbage {
            ws.send(WsMessage::Binary(g.into())).await.unwrap();
        }
        ws.send(WsMessage::text("{\"type\":\"pong\"}"))
            .await
            .unwrap();
        ws.send(WsMessage::Binary(
            gzip(&push_frame(1, "still alive")).into(),
        ))
        .await
        .unwrap();
        while let Some(Ok(frame)) = ws.next().await {
            if let WsMessage::Binary(b) = frame {
                let req: serde_json::Value = serde_json::from_slice(&gunzip(&b)).unwrap();
                let reply = serde_json::json!({
                    "reqIdentifier": req["reqIdentifier"], "msgIncr": req["msgIncr"],
                    "operationID": req["operationID"], "errCode": 0, "errMsg": "", "data": ""
                });
                if ws
                    .send(WsMessage::Binary(reply.to_string().into_bytes().into()))
                    .await
                    .is_err()
                {
                    break;
                }
            }
        }
    });
    (format!("ws://{addr}"), task)
}

#[tokio::test]
async fn undecodable_frames_are_counted_and_the_connection_goes_on() {
    let (ws, server) = fake_gateway().await;
    let dir = tempfile::tempdir().unwrap();
    // The HTTP API is unreachable: relation syncs fail and are logged, the session goes on.
    let config =
        openim_bot::SessionConfig::with_token("http://127.0.0.1:9", ws, dir.path(), "badbot", "t");
    let mut s = openim_bot::Session::start(config).await.unwrap();
    let events = collect_until(&mut s, "the valid push", |e| {
        matches!(e, Event::NewMessage(_))
    })
    .await;
    let Some(Event::NewMessage(m)) = events.last() else {
        unreachable!()
    };
    assert_eq!(m.text(), Some("still alive"));
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind() == EventKind::Connecting)
            .count(),
        1,
        "no reconnect"
    );
    assert!(
        s.client().undecodable_frames() >= 5,
        "{}",
        s.client().undecodable_frames()
    );
    assert!(s.client().is_connected());
    s.shutdown().await.unwrap();
    server.abort();
}

/// A send larger than the server's 51,200-byte frame limit (open-im-server v3.8.3 and the
/// sandbox close the connection on such a frame) is refused before it is written: a typed
/// error, the connection stays up, the next send goes through.
#[tokio::test]
async fn oversized_send_is_refused_without_losing_the_connection() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let _peer = peer(&sb, "big_peer").await;
    let s = bot(&sb, "big_bot", dir.path()).await;
    let c = s.client();
    let to = openim_bot::client::Target::user("big_peer");
    let err = c
        .send_text(to.clone(), "x".repeat(45_000))
        .await
        .expect_err("a 45 KB text makes a frame over 51,200 bytes");
    assert!(
        matches!(&err, openim_bot::client::ClientError::Invalid(m) if m.contains("51200")),
        "{err:?}"
    );
    assert!(c.is_connected());
    let sent = c
        .send_text(to, "x".repeat(30_000))
        .await
        .expect("a 30 KB text fits");
    assert!(!sent.server_msg_id.is_empty());
    s.shutdown().await.unwrap();
}

/// A config the server would always refuse (secret login as the admin user, an unknown
/// platform) fails `Session::start` with a typed config error before any I/O: no data dir is
/// created and the server is never contacted.
#[tokio::test]
async fn start_refuses_an_invalid_config_before_any_io() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("never-created");
    let admin = openim_bot::SessionConfig::with_secret(
        format!("http://{addr}"),
        format!("ws://{addr}"),
        &data_dir,
        "imAdmin",
        "openIM123",
    );
    let mut unknown_platform = openim_bot::SessionConfig::with_token(
        format!("http://{addr}"),
        format!("ws://{addr}"),
        &data_dir,
        "bot",
        "t",
    );
    unknown_platform.platform = 12;
    for config in [admin, unknown_platform] {
        let err = openim_bot::Session::start(config)
            .await
            .expect_err("an invalid config must not start");
        assert!(
            matches!(err, openim_bot::SessionError::Config(_)),
            "{err:?}"
        );
    }
    assert!(!data_dir.exists(), "the data dir was created");
    // Any connection attempt would have completed (queued in the backlog) before start returned.
    match listener.accept() {
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock, "{e}"),
        Ok((_, peer)) => panic!("the server was contacted from {peer}"),
    }
}
