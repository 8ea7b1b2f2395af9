//! Routing-rate benchmark: N senders each send M texts over the gateway (1003) to their own
//! receiver; measures messages/s until every receiver got every push.
//!
//! `cargo run -p openim-sandbox --release --example routing_bench -- [pairs] [messages-per-sender]`

use std::time::Instant;

use base64::Engine;
use futures::{SinkExt, StreamExt};
use openim_sandbox::wire::{MsgData, PushMessages};
use openim_sandbox::{Sandbox, SandboxConfig};
use prost::Message as _;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(sb: &Sandbox, user: &str, token: &str) -> Result<Ws, Box<dyn std::error::Error>> {
    let url = format!(
        "{}/?sendID={user}&token={token}&platformID=5&operationID=bench&isBackground=false&isMsgResp=true&sdkType=js",
        sb.ws_url()
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
    let _answer = ws.next().await;
    Ok(ws)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let pairs = args.first().copied().unwrap_or(10);
    let per_sender = args.get(1).copied().unwrap_or(500);
    let mut config = SandboxConfig::default();
    config.push_latency = std::time::Duration::ZERO;
    let sb = Sandbox::start(config).await?;
    let mut senders = Vec::new();
    let mut receivers = Vec::new();
    for i in 0..pairs {
        let (s, r) = (format!("s{i}"), format!("r{i}"));
        sb.register_user(&s, &s).await?;
        sb.register_user(&r, &r).await?;
        let ts = sb.user_token(&s, 5).await?;
        let tr = sb.user_token(&r, 5).await?;
        senders.push((s.clone(), r.clone(), connect(&sb, &s, &ts).await?));
        receivers.push(connect(&sb, &r, &tr).await?);
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for mut ws in receivers {
        tasks.push(tokio::spawn(async move {
            let mut got = 0;
            while got < per_sender {
                let Some(Ok(Message::Binary(b))) = ws.next().await else {
                    break;
                };
                let v: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
                if v["reqIdentifier"] == 2001 {
                    let data = base64::engine::general_purpose::STANDARD
                        .decode(v["data"].as_str().unwrap_or(""))
                        .unwrap_or_default();
                    if let Ok(pm) = PushMessages::decode(data.as_slice()) {
                        got += pm.msgs.len();
                    }
                }
            }
            got
        }));
    }
    for (s, r, mut ws) in senders {
        tasks.push(tokio::spawn(async move {
            for n in 0..per_sender {
                let msg = MsgData {
                    send_id: s.clone(),
                    recv_id: r.clone(),
                    client_msg_id: format!("{s}-{n}"),
                    session_type: 1,
                    msg_from: 100,
                    content_type: 101,
                    content: json!({"content": format!("m{n}")}).to_string().into_bytes(),
                    status: 1,
                    ..Default::default()
                };
                let env = json!({"reqIdentifier": 1003, "sendID": s, "operationID": format!("op{n}"), "msgIncr": n.to_string(),
                    "data": base64::engine::general_purpose::STANDARD.encode(msg.encode_to_vec())});
                if ws.send(Message::Binary(env.to_string().into_bytes().into())).await.is_err() {
                    break;
                }
                // one request at a time: wait for the answer (skip the echo pushes)
                loop {
                    match ws.next().await {
                        Some(Ok(Message::Binary(b))) => {
                            let v: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
                            if v["reqIdentifier"] == 1003 {
                                break;
                            }
                        }
                        Some(Ok(_)) => {}
                        _ => return 0,
                    }
                }
            }
            0
        }));
    }
    let mut delivered = 0;
    for t in tasks {
        delivered += t.await.unwrap_or(0);
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "pairs={pairs} messages={} delivered={delivered} elapsed={secs:.3}s rate={:.0} msg/s",
        pairs * per_sender,
        delivered as f64 / secs
    );
    sb.shutdown().await;
    Ok(())
}
