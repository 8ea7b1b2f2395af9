//! Echo workload: raw gateway users (sdkType=js JSON envelopes, like the routing benchmark of the
//! sandbox) send texts to an echo bot built on the runtime and time the replies.

use std::time::{Duration, Instant};

use base64::Engine;
use futures::{SinkExt, StreamExt};
use openim_bot::prelude::*;
use openim_sandbox::wire::{MsgData, PushMessages};
use prost::Message as _;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::load::Res;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Replies with the same text; signals the first `SyncServerFinish`.
pub struct Echo(pub std::sync::Arc<tokio::sync::Notify>);

#[async_trait]
impl EventHandler for Echo {
    async fn on_new_message(&self, ctx: &Context, msg: &Message) -> HandlerResult {
        if !msg.is_self
            && let Some(text) = msg.text()
        {
            ctx.reply(text.to_string()).await?;
        }
        Ok(())
    }

    async fn on_sync_server_finish(
        &self,
        _ctx: &Context,
        _ev: &openim_bot::event::SyncServerFinish,
    ) -> HandlerResult {
        self.0.notify_one();
        Ok(())
    }
}

/// A user connected straight to the gateway.
pub struct RawUser {
    user: String,
    bot: String,
    ws: Ws,
    incr: u64,
}

/// The parts of a server envelope the load generator looks at (borrowed: no copies of `data`).
#[derive(serde::Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "reqIdentifier")]
    req_identifier: i32,
    #[serde(borrow, default)]
    data: Option<std::borrow::Cow<'a, str>>,
}

impl RawUser {
    /// Connects `user` (platform 5).
    pub async fn connect(ws_url: &str, user: &str, token: &str, bot: &str) -> Res<RawUser> {
        let url = format!(
            "{ws_url}/?sendID={user}&token={token}&platformID=5&operationID=bench-{user}&isBackground=false&isMsgResp=true&sdkType=js"
        );
        // like a client SDK: TCP_NODELAY (a 1003 must not wait behind an unacked segment) and a
        // small read chunk (tungstenite zero-fills the whole chunk before every read)
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .read_buffer_size(8 * 1024);
        let (mut ws, _) =
            tokio_tungstenite::connect_async_with_config(url, Some(config), true).await?;
        let _answer = ws.next().await;
        Ok(RawUser {
            user: user.to_string(),
            bot: bot.to_string(),
            ws,
            incr: 0,
        })
    }

    /// Sends one text and waits for its ack and the bot's reply; returns the time from just
    /// before the send to the reply push's arrival.
    pub async fn round_trip(&mut self, timeout: Duration) -> Res<Duration> {
        self.incr += 1;
        let n = self.incr;
        let msg = MsgData {
            send_id: self.user.clone(),
            recv_id: self.bot.clone(),
            client_msg_id: format!("{}-{n}", self.user),
            session_type: 1,
            msg_from: 100,
            content_type: 101,
            content: format!(r#"{{"content":"echo {n}"}}"#).into_bytes(),
            status: 1,
            ..Default::default()
        };
        // user IDs are plain ASCII identifiers here: no JSON escaping needed
        let env = format!(
            r#"{{"reqIdentifier":1003,"sendID":"{u}","operationID":"op-{u}-{n}","msgIncr":"{n}","data":"{d}"}}"#,
            u = self.user,
            d = base64::engine::general_purpose::STANDARD.encode(msg.encode_to_vec()),
        );
        let started = Instant::now();
        self.ws
            .send(WsMessage::Binary(env.into_bytes().into()))
            .await?;
        let (mut acked, mut replied) = (false, None);
        let deadline = tokio::time::Instant::now() + timeout;
        while !(acked && replied.is_some()) {
            let frame = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .map_err(|_| format!("{}: no echo within {timeout:?}", self.user))?;
            let Some(frame) = frame else {
                return Err(format!("{}: connection closed", self.user).into());
            };
            let WsMessage::Binary(b) = frame? else {
                continue;
            };
            let env: Envelope<'_> = serde_json::from_slice(&b)?;
            match env.req_identifier {
                1003 => acked = true,
                2001 if replied.is_none() => {
                    let at = started.elapsed();
                    let data = base64::engine::general_purpose::STANDARD
                        .decode(env.data.as_deref().unwrap_or(""))?;
                    let push = PushMessages::decode(data.as_slice())?;
                    if push
                        .msgs
                        .values()
                        .flat_map(|p| p.msgs.iter())
                        .any(|m| m.send_id == self.bot)
                    {
                        replied = Some(at);
                    }
                }
                _ => {}
            }
        }
        replied.ok_or_else(|| "no reply".into())
    }
}
