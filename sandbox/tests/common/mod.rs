//! Shared helpers for the sandbox integration tests: an HTTP caller and a raw gateway client.
#![allow(dead_code)]

use std::time::Duration;

use base64::Engine;
use futures::{SinkExt, StreamExt};
#[allow(unused_imports)]
pub use openim_sandbox::wire::PushMessagesExt;
use openim_sandbox::wire::{MsgData, PushMessages};
use openim_sandbox::{Sandbox, SandboxConfig};
use prost::Message as _;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

pub const WAIT: Duration = Duration::from_secs(5);

pub async fn start() -> Sandbox {
    Sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox starts")
}

/// A sandbox whose senders' own echoes are held back `latency` (see `SandboxConfig::push_latency`).
pub async fn start_with_push_latency(latency: Duration) -> Sandbox {
    let mut config = SandboxConfig::default();
    config.push_latency = latency;
    Sandbox::start(config).await.expect("sandbox starts")
}

/// Raw HTTP call returning the whole envelope.
pub async fn post(sb: &Sandbox, route: &str, token: Option<&str>, body: Value) -> Value {
    let mut req = reqwest::Client::new()
        .post(format!("{}{}", sb.api_url(), route))
        .header("operationID", "test-op");
    if let Some(t) = token {
        req = req.header("token", t);
    }
    let resp = req.body(body.to_string()).send().await.expect("http");
    resp.json().await.expect("json envelope")
}

pub fn code(v: &Value) -> i64 {
    v["errCode"].as_i64().expect("errCode is a number")
}

/// Registers users and returns their tokens (platform 5).
pub async fn users(sb: &Sandbox, ids: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for id in ids {
        sb.register_user(id, &id.to_uppercase())
            .await
            .expect("register");
        out.push(sb.user_token(id, 5).await.expect("token"));
    }
    out
}

/// A decoded server frame.
#[derive(Debug, Clone)]
pub struct Frame {
    pub req_identifier: i64,
    pub msg_incr: String,
    pub operation_id: String,
    pub err_code: i64,
    pub err_msg: String,
    pub data: Vec<u8>,
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct Client {
    pub ws: Ws,
    pub user: String,
    pub pushes: Vec<Frame>,
    incr: u64,
}

pub fn url(sb: &Sandbox, user: &str, token: &str, platform: i32) -> String {
    format!(
        "{}/?sendID={user}&token={token}&platformID={platform}&operationID=op-connect&isBackground=false&isMsgResp=true&sdkType=js",
        sb.ws_url()
    )
}

impl Client {
    /// Connects and waits for the success connect answer.
    pub async fn connect(sb: &Sandbox, user: &str, token: &str) -> Client {
        let (mut ws, _) = tokio_tungstenite::connect_async(url(sb, user, token, 5))
            .await
            .expect("ws connect");
        let first = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("connect answer in time")
            .expect("frame")
            .expect("ok");
        let Message::Text(t) = first else {
            panic!("expected text connect answer, got {first:?}")
        };
        let v: Value = serde_json::from_str(t.as_str()).expect("json");
        assert_eq!(v["errCode"], 0, "connect answer {v}");
        Client {
            ws,
            user: user.to_string(),
            pushes: Vec::new(),
            incr: 0,
        }
    }

    pub async fn send_raw(&mut self, req_identifier: i32, op: &str, data: &[u8]) -> String {
        self.incr += 1;
        let incr = format!("{}-{}", self.user, self.incr);
        let env = json!({
            "reqIdentifier": req_identifier, "sendID": self.user, "operationID": op, "msgIncr": incr,
            "data": base64::engine::general_purpose::STANDARD.encode(data),
        });
        self.ws
            .send(Message::Binary(env.to_string().into_bytes().into()))
            .await
            .expect("send");
        incr
    }

    /// Reads the next binary frame (pongs and pings skipped).
    pub async fn next_frame(&mut self) -> Option<Frame> {
        loop {
            let m = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .ok()??
                .ok()?;
            match m {
                Message::Binary(b) => {
                    let v: Value = serde_json::from_slice(&b).expect("json frame");
                    let data = v["data"]
                        .as_str()
                        .map(|d| {
                            base64::engine::general_purpose::STANDARD
                                .decode(d)
                                .expect("base64")
                        })
                        .unwrap_or_default();
                    return Some(Frame {
                        req_identifier: v["reqIdentifier"].as_i64().unwrap_or(0),
                        msg_incr: v["msgIncr"].as_str().unwrap_or("").to_string(),
                        operation_id: v["operationID"].as_str().unwrap_or("").to_string(),
                        err_code: v["errCode"].as_i64().unwrap_or(-1),
                        err_msg: v["errMsg"].as_str().unwrap_or("").to_string(),
                        data,
                    });
                }
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// Sends a request and waits for its response (pushes in between are kept in `pushes`).
    pub async fn request(&mut self, req_identifier: i32, op: &str, data: &[u8]) -> Frame {
        let incr = self.send_raw(req_identifier, op, data).await;
        loop {
            let f = self
                .next_frame()
                .await
                .expect("response before close/timeout");
            if f.msg_incr == incr {
                return f;
            }
            self.pushes.push(f);
        }
    }

    /// Waits for the next 2001 push (earlier buffered ones first).
    pub async fn push(&mut self) -> (Frame, PushMessages) {
        let f = if let Some(pos) = self.pushes.iter().position(|f| f.req_identifier == 2001) {
            self.pushes.remove(pos)
        } else {
            loop {
                let f = self.next_frame().await.expect("push before timeout");
                if f.req_identifier == 2001 {
                    break f;
                }
                self.pushes.push(f);
            }
        };
        let pm = PushMessages::decode(f.data.as_slice()).expect("PushMessages");
        (f, pm)
    }

    /// Waits for a notification push of a content type; returns the message and its parsed tips.
    pub async fn notification(&mut self, content_type: i32) -> (MsgData, Value) {
        loop {
            let (_, pm) = self.push().await;
            for pull in pm.notification_msgs.values().chain(pm.msgs.values()) {
                for m in &pull.msgs {
                    if m.content_type == content_type {
                        let outer: Value =
                            serde_json::from_slice(&m.content).expect("content json");
                        let tips: Value =
                            serde_json::from_str(outer["detail"].as_str().expect("detail"))
                                .expect("tips");
                        return (m.clone(), tips);
                    }
                }
            }
        }
    }

    /// Waits for a chat message (in `msgs`) whose text is `text`.
    pub async fn message_with_text(&mut self, text: &str) -> (Frame, MsgData) {
        loop {
            let (f, pm) = self.push().await;
            for pull in pm.msgs.values() {
                for m in &pull.msgs {
                    if m.content_type == 101 && text_of(m) == text {
                        return (f, m.clone());
                    }
                }
            }
        }
    }

    /// Sends a text message over 1003.
    pub async fn send_text(&mut self, to: &str, group: bool, text: &str, op: &str) -> Frame {
        let msg = text_msg(&self.user, to, group, text);
        self.request(1003, op, &msg.encode_to_vec()).await
    }
}

pub fn text_msg(from: &str, to: &str, group: bool, text: &str) -> MsgData {
    MsgData {
        send_id: from.to_string(),
        recv_id: if group { String::new() } else { to.to_string() },
        group_id: if group { to.to_string() } else { String::new() },
        client_msg_id: format!("c-{}-{}", from, text.len()),
        sender_platform_id: 5,
        session_type: if group { 3 } else { 1 },
        msg_from: 100,
        content_type: 101,
        content: json!({"content": text}).to_string().into_bytes(),
        create_time: 1,
        status: 1,
        ..Default::default()
    }
}

pub fn text_of(m: &MsgData) -> String {
    let v: Value = serde_json::from_slice(&m.content).unwrap_or(Value::Null);
    v["content"].as_str().unwrap_or("").to_string()
}
