//! Webhooks: before-callbacks reject with the webhook's code or rewrite content; after-callbacks carry
//! the upstream bodies; an unreachable hook yields 90004.

mod common;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use common::*;
use openim_sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};
use tokio::sync::mpsc;

type Seen = mpsc::UnboundedSender<(String, Value)>;

async fn hook(State(tx): State<Arc<Seen>>, Path(cmd): Path<String>, body: String) -> String {
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let _ = tx.send((cmd.clone(), v.clone()));
    let content = v["content"].as_str().unwrap_or("");
    match cmd.as_str() {
        "callbackBeforeSendSingleMsgCommand" if content.contains("forbidden") => {
            json!({"actionCode": 0, "nextCode": 1, "errCode": 5001, "errMsg": "blocked by hook", "errDlt": "policy"}).to_string()
        }
        "callbackBeforeMsgModifyCommand" if content.contains("rewrite") => {
            json!({"actionCode": 0, "nextCode": 0, "content": "{\"content\":\"rewritten\"}"}).to_string()
        }
        "callbackBeforeAddFriendCommand" => json!({"actionCode": 0, "nextCode": 1, "errCode": 5002, "errMsg": "no friends"}).to_string(),
        "callbackBeforeUserRegisterCommand" => "not json".to_string(),
        _ => json!({"actionCode": 0, "nextCode": 0}).to_string(),
    }
}

async fn hook_server() -> (String, mpsc::UnboundedReceiver<(String, Value)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = Router::new()
        .route("/hooks/{cmd}", axum::routing::post(hook))
        .with_state(Arc::new(tx));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    (format!("http://{addr}/hooks"), rx)
}

async fn wait_for(rx: &mut mpsc::UnboundedReceiver<(String, Value)>, cmd: &str) -> Value {
    loop {
        let (c, v) = tokio::time::timeout(WAIT, rx.recv())
            .await
            .expect("webhook call in time")
            .expect("open");
        if c == cmd {
            return v;
        }
    }
}

#[tokio::test]
async fn before_send_reject_modify_and_after_bodies() {
    let (url, rx) = hook_server().await;
    let sb = Sandbox::start(SandboxConfig::default().webhook_url(url))
        .await
        .unwrap();
    let admin = sb.admin_token().await.unwrap();
    // beforeUserRegister answering garbage → 90007
    let v = post(
        &sb,
        "/user/user_register",
        Some(&admin),
        json!({"users": [{"userID": "alice", "nickname": "A"}]}),
    )
    .await;
    assert_eq!(code(&v), 90007);
    sb.shutdown().await;

    // users are registered with hooks off, then the same data dir is served with hooks on
    let dir = tempfile::tempdir().unwrap();
    let plain = Sandbox::start(SandboxConfig::default().data_dir(dir.path()))
        .await
        .unwrap();
    let t = users(&plain, &["alice", "bob"]).await;
    plain.shutdown().await;
    let (url, mut rx2) = hook_server().await;
    let sb = Sandbox::start(
        SandboxConfig::default()
            .data_dir(dir.path())
            .webhook_url(url),
    )
    .await
    .unwrap();
    let mut a = Client::connect(&sb, "alice", &t[0]).await;
    let mut b = Client::connect(&sb, "bob", &t[1]).await;
    // reject with the webhook's own code and message
    let f = a.send_text("bob", false, "forbidden words", "op-rej").await;
    assert_eq!((f.err_code, f.err_msg.as_str()), (5001, "blocked by hook"));
    let body = wait_for(&mut rx2, "callbackBeforeSendSingleMsgCommand").await;
    assert_eq!(
        (
            body["sendID"].as_str(),
            body["recvID"].as_str(),
            body["callbackCommand"].as_str()
        ),
        (
            Some("alice"),
            Some("bob"),
            Some("callbackBeforeSendSingleMsgCommand")
        )
    );
    // rewrite via beforeMsgModify
    let f = a.send_text("bob", false, "please rewrite", "op-mod").await;
    assert_eq!(f.err_code, 0);
    let (_, m) = b.message_with_text("rewritten").await;
    assert_eq!(m.send_id, "alice");
    let after = wait_for(&mut rx2, "callbackAfterSendSingleMsgCommand").await;
    assert_eq!(after["content"], "{\"content\":\"rewritten\"}");
    // before add friend rejects
    let v = post(
        &sb,
        "/friend/add_friend",
        Some(&t[0]),
        json!({"fromUserID": "alice", "toUserID": "bob"}),
    )
    .await;
    assert_eq!((code(&v), v["errMsg"].as_str()), (5002, Some("no friends")));
    sb.shutdown().await;
    drop(rx);
}

#[tokio::test]
async fn unreachable_webhook_fails_with_90004() {
    let dir = tempfile::tempdir().unwrap();
    let plain = Sandbox::start(SandboxConfig::default().data_dir(dir.path()))
        .await
        .unwrap();
    let t = users(&plain, &["alice", "bob"]).await;
    plain.shutdown().await;
    // a port nobody listens on
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/x", l.local_addr().unwrap());
    drop(l);
    let sb = Sandbox::start(
        SandboxConfig::default()
            .data_dir(dir.path())
            .webhook_url(url),
    )
    .await
    .unwrap();
    let mut a = Client::connect(&sb, "alice", &t[0]).await;
    let f = a.send_text("bob", false, "hi", "op").await;
    assert_eq!(f.err_code, 90004);
    sb.shutdown().await;
}
