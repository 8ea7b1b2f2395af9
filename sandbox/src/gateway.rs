//! The WebSocket gateway: connect parameters and token checks, the JSON envelope (optionally
//! gzip'd), text and WS heartbeats, one request at a time per connection, and request handlers
//! 1001–1007, 2003–2005.

use std::collections::HashMap;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use futures::{SinkExt, StreamExt};
use prost::Message as _;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::Inner;
use crate::error::CodeError;
use crate::push::{Conn, Frame, Out, WsResp};
use crate::state::{ConvSeqs, State as SrvState, user_seq_bounds};
use crate::wire::*;

/// Largest incoming frame accepted (upstream `maxMessageSize`).
pub(crate) const MAX_FRAME: usize = 51200;
/// Bytes read from a connection's socket at a time.
const READ_CHUNK: usize = 16 * 1024;
const READ_DEADLINE: Duration = Duration::from_secs(30);
const PING_PERIOD: Duration = Duration::from_secs(27);

pub(crate) fn router(inner: Arc<Inner>) -> Router {
    Router::new().fallback(connect).with_state(inner)
}

fn json_error(e: &CodeError) -> Response {
    let body = json!({"errCode": e.code, "errMsg": e.msg, "errDlt": e.dlt});
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )],
        body.to_string(),
    )
        .into_response()
}

fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

async fn connect(
    State(inner): State<Arc<Inner>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let args_err = |why: &str| {
        json_error(&CodeError::with_msg(
            1602,
            "args err, need token, sendID, platformID",
            why,
        ))
    };
    let send_id = q.get("sendID").cloned().unwrap_or_default();
    inner.faults.count_ws_attempt(&send_id);
    let token = q.get("token").cloned().unwrap_or_default();
    if token.is_empty() {
        return args_err("token is empty");
    }
    if send_id.is_empty() {
        return args_err("sendID is empty");
    }
    let Some(platform_id) = q.get("platformID").and_then(|p| p.parse::<i32>().ok()) else {
        return args_err("platformID is not int");
    };
    match q.get("sdkType").map(String::as_str).unwrap_or("") {
        "js" => {}
        "" | "go" => {
            return args_err(
                "sdkType go (gob framing) is not supported by the sandbox; use sdkType=js",
            );
        }
        _ => return args_err("sdkType is invalid"),
    }
    let is_msg_resp = q
        .get("isMsgResp")
        .and_then(|v| parse_bool(v))
        .unwrap_or(false);
    let gzip = q.get("compression").map(String::as_str) == Some("gzip")
        || headers.get("compression").and_then(|v| v.to_str().ok()) == Some("gzip");
    let checked = crate::http::auth::check_token(&inner, &token).and_then(|claims| {
        if claims.user_id != send_id || claims.platform_id != platform_id {
            Err(CodeError::new(
                1502,
                format!(
                    "token uid {} != userID {} or platform mismatch",
                    claims.user_id, send_id
                ),
            ))
        } else {
            Ok(claims)
        }
    });
    let ws = match ws {
        // tungstenite zero-fills `read_buffer_size` bytes before every socket read: the 128 KiB
        // default cost more than handling a request; gateway frames are a few KiB
        Ok(ws) => ws
            .max_message_size(MAX_FRAME)
            .max_frame_size(MAX_FRAME)
            .read_buffer_size(READ_CHUNK),
        Err(_) => {
            return match checked {
                Err(e) => json_error(&e),
                Ok(_) => (axum::http::StatusCode::BAD_REQUEST, "Bad Request").into_response(),
            };
        }
    };
    match checked {
        Err(e) => {
            if is_msg_resp {
                let text = json!({"errCode": e.code, "errMsg": e.msg, "errDlt": e.dlt}).to_string();
                ws.on_upgrade(move |mut socket| async move {
                    let _ = socket.send(Message::Text(text.into())).await;
                    drop(socket);
                })
            } else {
                json_error(&e)
            }
        }
        Ok(_) => {
            tracing::debug!(user = %send_id, platform_id, %peer, "gateway connect");
            ws.on_upgrade(move |socket| {
                run(
                    socket,
                    inner,
                    send_id,
                    platform_id,
                    token,
                    gzip,
                    is_msg_resp,
                )
            })
        }
    }
}

fn gunzip_bytes(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .take(8 * 1024 * 1024)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

/// Most frames written before one flush (one socket write for a burst of pushes).
const WRITE_BATCH: usize = 64;

/// What the writer does after writing one item.
enum Step {
    Go,
    Stop,
}

/// RFC 6455 close code 1009: a message too big to process.
const CLOSE_TOO_BIG: u16 = 1009;

/// True if a read failed because a frame or message exceeded [`MAX_FRAME`].
fn is_over_limit(e: axum::Error) -> bool {
    e.into_inner()
        .downcast_ref::<tungstenite::Error>()
        .is_some_and(|e| matches!(e, tungstenite::Error::Capacity(_)))
}

/// An item a connection's writer holds back: the sender's own echo until its time, or a frame
/// queued behind a held echo (see [`Writer`]).
struct HeldOut {
    frame: Arc<Frame>,
    /// An echo: not before this instant (nor within `push_latency` of the last answer written).
    /// `None`: as soon as what is ahead is written.
    due: Option<tokio::time::Instant>,
}

/// Writes one connection's frames in their order, but for the sender's own echoes and the
/// pushes of other conversations.
///
/// An echo (the push of a message back to the connection that sent it, or for an HTTP call to
/// the caller's connections) is held until `push_latency` after the answer to its send: on the
/// real server pushes pass through a queue and never overtake that answer, and the JS SDK drops
/// its own echo only when it comes after it (even starved of CPU, hence a delay rather than a
/// mere order). What follows it on the connection waits behind it, in order (answers too: a
/// client sending in a row is paced at one message per `push_latency`, and the JS SDK 0.0.14,
/// given the first messages of a new conversation a few ms apart, loses one from its unread
/// count; the conformance suite's burst of 30 did so in 2 runs of 6 when answers went first),
/// but for the pushes of conversations nothing held is of, which go out at once (each
/// conversation's pushes keep their order, which is what clients rely on; before, a bot that had
/// just replied got every new message `push_latency` later), and kicks and closes, at once as
/// upstream's.
struct Writer<S> {
    sink: S,
    gzip: bool,
    latency: Duration,
    held: std::collections::VecDeque<HeldOut>,
    /// When the last answer was written.
    last_reply: tokio::time::Instant,
}

impl<S: futures::Sink<Message> + Unpin> Writer<S> {
    /// When the first held item is due, if one is held: an echo `latency` after the last
    /// answer at the earliest (an answer queued behind an earlier echo is written just before
    /// it), so load can delay an answer and its echo but never merge them into one read.
    fn due(&self) -> Option<tokio::time::Instant> {
        let first = self.held.front()?;
        Some(match first.due {
            Some(due) => due.max(self.last_reply + self.latency),
            None => tokio::time::Instant::now(),
        })
    }

    /// Takes one item of the connection's queue: queues it on the sink, or holds it.
    async fn take(&mut self, out: Out) -> Step {
        match out {
            Out::Delayed(frame, due) => {
                self.held.push_back(HeldOut {
                    frame,
                    due: Some(due),
                });
                Step::Go
            }
            Out::Frame(frame) if self.held.is_empty() || self.overtakes(&frame) => {
                self.write(Out::Frame(frame)).await
            }
            Out::Frame(frame) => {
                self.held.push_back(HeldOut { frame, due: None });
                Step::Go
            }
            // Text answers (pongs), and kicks and closes: at once (the connection ends; what
            // is held goes with it, as a client that is kicked or closed would not read it).
            out => self.write(out).await,
        }
    }

    /// Whether a frame may go out before the held items: it is the push of a message of a
    /// conversation none of them is of.
    fn overtakes(&self, frame: &Frame) -> bool {
        frame
            .conversation()
            .is_some_and(|c| self.held.iter().all(|h| h.frame.conversation() != Some(c)))
    }

    /// Queues the held items that are due on the sink, in order (all of them if `all`).
    async fn release(&mut self, all: bool) -> Step {
        while self
            .due()
            .is_some_and(|due| all || due <= tokio::time::Instant::now())
        {
            let Some(first) = self.held.pop_front() else {
                break;
            };
            if let Step::Stop = self.write(Out::Frame(first.frame)).await {
                return Step::Stop;
            }
        }
        Step::Go
    }

    /// Queues one item on the sink (flushed by the caller).
    async fn write(&mut self, out: Out) -> Step {
        let r = match out {
            Out::Frame(frame) | Out::Delayed(frame, _) => {
                let is_reply = frame.is_reply();
                let r = self
                    .sink
                    .feed(Message::Binary(frame.into_bytes(self.gzip)))
                    .await;
                if is_reply {
                    self.last_reply = tokio::time::Instant::now();
                }
                r
            }
            Out::Text(t) => self.sink.feed(Message::Text(t.into())).await,
            Out::Kick => {
                let kick = Frame::new(&WsResp::new(2002, "", "", None));
                let _ = self
                    .sink
                    .feed(Message::Binary(kick.into_bytes(self.gzip)))
                    .await;
                return Step::Stop;
            }
            Out::Close => return Step::Stop,
            Out::CloseWith(code) => {
                let frame = CloseFrame {
                    code,
                    reason: "".into(),
                };
                let _ = self.sink.feed(Message::Close(Some(frame))).await;
                return Step::Stop;
            }
        };
        if r.is_err() { Step::Stop } else { Step::Go }
    }
}

async fn run(
    socket: WebSocket,
    inner: Arc<Inner>,
    user_id: String,
    platform_id: i32,
    token: String,
    gzip: bool,
    is_msg_resp: bool,
) {
    let (mut sink, mut stream) = socket.split();
    // Registered before the connect answer is written, so a push, kick or token re-issue that
    // follows the answer always finds this connection (it is queued and written after the
    // answer, by the writer task below).
    let (tx, mut rx) = mpsc::unbounded_channel::<Out>();
    let conn_id = inner.registry.next_id();
    inner.registry.register(
        &user_id,
        Conn {
            id: conn_id,
            platform_id,
            token: token.clone(),
            tx: tx.clone(),
            subs: Default::default(),
        },
    );
    if is_msg_resp {
        let ok = r#"{"errCode":0,"errMsg":"","errDlt":""}"#;
        if sink.send(Message::Text(ok.into())).await.is_err() {
            inner.registry.unregister(&user_id, conn_id);
            return;
        }
    }
    let stop = CancellationToken::new();
    let writer_stop = stop.clone();
    let server_stop = inner.shutdown.clone();
    let latency = inner.config.push_latency;
    let writer = tokio::spawn(async move {
        let mut w = Writer {
            sink,
            gzip,
            latency,
            held: Default::default(),
            last_reply: tokio::time::Instant::now(),
        };
        let mut ping = tokio::time::interval(PING_PERIOD);
        ping.tick().await;
        loop {
            let due = w.due();
            tokio::select! {
                _ = writer_stop.cancelled() => break,
                _ = server_stop.cancelled() => break,
                _ = ping.tick(), if platform_id == 5 => {
                    if w.sink.send(Message::Ping(Vec::new().into())).await.is_err() { break; }
                }
                _ = tokio::time::sleep_until(due.unwrap_or_else(tokio::time::Instant::now)),
                    if due.is_some() =>
                {
                    let step = w.release(false).await;
                    let flushed = w.sink.flush().await;
                    if matches!(step, Step::Stop) || flushed.is_err() { break; }
                }
                out = rx.recv() => {
                    let Some(out) = out else {
                        // The reader is done: what is held goes out now, then the close.
                        if let Step::Go = w.release(true).await {
                            let _ = w.sink.flush().await;
                        }
                        break;
                    };
                    // a burst of queued frames (e.g. released pushes) leaves in one write
                    let mut taken = 0;
                    let mut step = w.take(out).await;
                    while matches!(step, Step::Go) && taken + 1 < WRITE_BATCH {
                        let Ok(next) = rx.try_recv() else { break };
                        step = w.take(next).await;
                        taken += 1;
                    }
                    let flushed = w.sink.flush().await;
                    if matches!(step, Step::Stop) || flushed.is_err() { break; }
                }
            }
        }
        let mut sink = w.sink;
        let _ = sink.close().await;
        writer_stop.cancel();
    });
    loop {
        let next = tokio::select! {
            _ = stop.cancelled() => break,
            n = tokio::time::timeout(READ_DEADLINE, stream.next()) => n,
        };
        let msg = match next {
            Err(_) => break,   // read deadline
            Ok(None) => break, // closed
            Ok(Some(Err(e))) => {
                // Upstream's gorilla/websocket answers a frame over its read limit with close
                // code 1009 (message too big) before dropping the connection; other protocol
                // errors just end it.
                if is_over_limit(e) {
                    let _ = tx.send(Out::CloseWith(CLOSE_TOO_BIG));
                }
                break;
            }
            Ok(Some(Ok(m))) => m,
        };
        match msg {
            Message::Text(t) => {
                #[derive(Deserialize)]
                struct Heartbeat {
                    #[serde(rename = "type")]
                    kind: String,
                    body: Option<Box<serde_json::value::RawValue>>,
                }
                let Ok(hb) = serde_json::from_str::<Heartbeat>(t.as_str()) else {
                    break;
                };
                match hb.kind.as_str() {
                    "ping" => {
                        let body = hb
                            .body
                            .map(|b| b.get().to_string())
                            .unwrap_or_else(|| "null".to_string());
                        let compact = serde_json::from_str::<Value>(&body)
                            .map(|v| v.to_string())
                            .unwrap_or(body);
                        let _ =
                            tx.send(Out::Text(format!(r#"{{"type":"pong","body":{compact}}}"#)));
                    }
                    "pong" => {}
                    _ => break,
                }
            }
            Message::Binary(b) => {
                let unzipped;
                let raw: &[u8] = if gzip {
                    match gunzip_bytes(&b) {
                        Some(r) => {
                            unzipped = r;
                            &unzipped
                        }
                        None => break,
                    }
                } else {
                    &b
                };
                let Ok(req) = serde_json::from_slice::<WsReq>(raw) else {
                    break;
                };
                if req.send_id != user_id {
                    break;
                }
                let data = match req.data.as_deref() {
                    None | Some("") => Vec::new(),
                    Some(d) => match base64::engine::general_purpose::STANDARD.decode(d) {
                        Ok(v) => v,
                        Err(_) => break,
                    },
                };
                let ctx = ReqCtx {
                    inner: &inner,
                    user_id: &user_id,
                    conn_id,
                };
                let handled = handle(&ctx, &req, &data).await;
                // stall fault: the request was handled, its answer is withheld
                inner
                    .faults
                    .pass(crate::faults::Gate::Answers, &user_id)
                    .await;
                match handled {
                    Handled::Reply(resp) => {
                        let _ = tx.send(Out::Frame(Frame::new(&resp)));
                    }
                    Handled::ReplyThenPush(resp, deliveries) => {
                        let _ = tx.send(Out::Frame(Frame::new(&resp)));
                        crate::push::deliver(
                            &inner,
                            deliveries,
                            &crate::push::Origin::Conn(conn_id),
                        );
                    }
                    Handled::ReplyThenClose(resp) => {
                        let _ = tx.send(Out::Frame(Frame::new(&resp)));
                        let _ = tx.send(Out::Close);
                        break;
                    }
                    Handled::Close => break,
                }
            }
            Message::Ping(_) | Message::Pong(_) => {}
            Message::Close(_) => break,
        }
    }
    inner.registry.unregister(&user_id, conn_id);
    drop(tx);
    // let the writer flush what is queued (e.g. a 2003 reply), then stop it
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        stop.cancelled().await;
    })
    .await;
    stop.cancel();
    let _ = writer.await;
}

/// The request envelope (JSON keys matched as the JS client sends them).
#[derive(Deserialize)]
struct WsReq {
    #[serde(rename = "reqIdentifier")]
    req_identifier: i32,
    #[serde(rename = "sendID", default)]
    send_id: String,
    #[serde(rename = "operationID", default)]
    operation_id: String,
    #[serde(rename = "msgIncr", default)]
    msg_incr: String,
    #[serde(default)]
    data: Option<String>,
}

struct ReqCtx<'a> {
    inner: &'a Arc<Inner>,
    user_id: &'a str,
    conn_id: u64,
}

enum Handled {
    Reply(WsResp),
    /// Reply first, then deliver the pushes (so the sender's echo follows the 1003 answer).
    ReplyThenPush(WsResp, Vec<crate::state::Delivery>),
    ReplyThenClose(WsResp),
    Close,
}

fn err_resp(req: &WsReq, e: CodeError) -> WsResp {
    WsResp {
        req_identifier: req.req_identifier,
        msg_incr: req.msg_incr.clone(),
        operation_id: req.operation_id.clone(),
        err_code: e.code,
        err_msg: e.msg,
        data: None,
    }
}

fn decode<T: prost::Message + Default>(data: &[u8]) -> Result<T, CodeError> {
    T::decode(data)
        .map_err(|e| CodeError::with_msg(500, "ServerInternalError", format!("proto decode: {e}")))
}

async fn handle(ctx: &ReqCtx<'_>, req: &WsReq, data: &[u8]) -> Handled {
    let needs_validation = matches!(req.req_identifier, 1002 | 1005 | 1006 | 2004);
    if needs_validation && (req.operation_id.is_empty() || req.msg_incr.is_empty()) {
        return Handled::Reply(err_resp(
            req,
            CodeError::with_msg(500, "ServerInternalError", "envelope validation failed"),
        ));
    }
    if let Some(code) = ctx.inner.faults.take_request_failure(req.req_identifier) {
        return Handled::Reply(err_resp(
            req,
            CodeError::with_msg(code, "ServerInternalError", "injected failure"),
        ));
    }
    let ok = |bytes: Option<Vec<u8>>| {
        WsResp::new(req.req_identifier, &req.msg_incr, &req.operation_id, bytes)
    };
    let result: Result<Option<Vec<u8>>, CodeError> = match req.req_identifier {
        1001 => decode::<GetMaxSeqReq>(data).and_then(|r| get_newest_seq(ctx, r).map(Some)),
        1002 => decode::<PullMessageBySeqsReq>(data).map(|r| Some(pull_by_range(ctx, r))),
        1003 => {
            let sent = match decode::<MsgData>(data) {
                Ok(msg) => {
                    crate::http::msg::send_message(ctx.inner, msg, &req.operation_id, ctx.user_id)
                        .await
                }
                Err(e) => Err(e),
            };
            return match sent {
                Ok((resp, deliveries)) => {
                    Handled::ReplyThenPush(ok(Some(resp.encode_to_vec())), deliveries)
                }
                Err(e) => Handled::Reply(err_resp(req, e)),
            };
        }
        1004 => Err(CodeError::args("signal messages are not supported")),
        1005 => decode::<GetSeqMessageReq>(data).map(|r| Some(pull_by_seqs(ctx, r))),
        1006 => decode::<GetConversationsHasReadAndMaxSeqReq>(data)
            .map(|r| Some(has_read_and_max(ctx, r))),
        1007 => decode::<GetLastMessageReq>(data).map(|r| Some(last_messages(ctx, r))),
        2003 => {
            return match decode::<DelUserPushTokenReq>(data) {
                Ok(_) => Handled::ReplyThenClose(ok(Some(Vec::new()))),
                Err(e) => Handled::Reply(err_resp(req, e)),
            };
        }
        2004 => decode::<SetAppBackgroundStatusReq>(data).map(|_| None),
        2005 => decode::<SubUserOnlineStatus>(data).map(|r| {
            let subs = ctx.inner.registry.subscribe(
                ctx.user_id,
                ctx.conn_id,
                &r.subscribe_user_id,
                &r.unsubscribe_user_id,
            );
            Some(SubUserOnlineStatusTips { subscribers: subs }.encode_to_vec())
        }),
        _ => return Handled::Close,
    };
    match result {
        Ok(bytes) => Handled::Reply(ok(bytes)),
        Err(e) => Handled::Reply(err_resp(req, e)),
    }
}

/// 1001: max seqs of the user's conversations, their notification twins and `n_uid_uid` (zeros dropped).
pub(crate) fn newest_seqs(st: &SrvState, user_id: &str) -> std::collections::BTreeMap<String, i64> {
    let mut out = std::collections::BTreeMap::new();
    let global = |id: &str| st.seqs.get(id).map_or(0, |s| s.max_seq);
    let add = |out: &mut std::collections::BTreeMap<String, i64>, id: &str, max: i64| {
        if max > 0 {
            out.insert(id.to_owned(), max);
        }
    };
    // the twin's name is built in one reused buffer: most twins do not exist, and a login
    // allocated two strings per conversation for them
    let mut twin = String::new();
    if let Some(convs) = st.user_convs.get(user_id) {
        for (id, user) in convs {
            let max = if id.starts_with("n_") {
                global(id)
            } else {
                user_seq_bounds(st.seqs.get(id.as_str()), Some(user)).1
            };
            add(&mut out, id, max);
            twin.clear();
            twin.push_str("n_");
            twin.push_str(id.split_once('_').map_or(id.as_str(), |(_, rest)| rest));
            add(&mut out, &twin, global(&twin));
        }
    }
    let own = format!("n_{user_id}_{user_id}");
    add(&mut out, &own, global(&own));
    out
}

fn get_newest_seq(ctx: &ReqCtx<'_>, r: GetMaxSeqReq) -> Result<Vec<u8>, CodeError> {
    if r.user_id != ctx.user_id && !ctx.inner.is_admin(ctx.user_id) {
        return Err(CodeError::no_permission("userID is not the caller"));
    }
    let st = ctx.inner.state.lock();
    Ok(GetMaxSeqResp {
        max_seqs: newest_seqs(&st, &r.user_id),
        min_seqs: Default::default(),
    }
    .encode_to_vec())
}

/// One conversation's part of a pull answer, with messages as `M` (decoded [`MsgData`] for the
/// JSON API, encoded bytes for the gateway).
pub(crate) struct Pulled<M> {
    pub notification: bool,
    pub conversation_id: String,
    pub entry: PullEntry<M>,
}

/// Messages of one conversation and where the pull ended.
pub(crate) struct PullEntry<M> {
    pub msgs: Vec<M>,
    pub is_end: bool,
    pub end_seq: i64,
}

impl<M> Default for PullEntry<M> {
    fn default() -> Self {
        PullEntry {
            msgs: Vec::new(),
            is_end: false,
            end_seq: 0,
        }
    }
}

/// A pull answer with decoded messages.
pub(crate) fn decoded_answer(pulled: Vec<Pulled<MsgData>>) -> PushMessages {
    let mut out = PushMessages::default();
    for p in pulled {
        let e = p.entry;
        out.insert_conversation(
            p.notification,
            p.conversation_id,
            PullMsgs {
                msgs: e.msgs,
                is_end: e.is_end,
                end_seq: e.end_seq,
            },
        );
    }
    out
}

/// A pull answer assembled from encoded messages, encoded.
fn encoded_answer(pulled: Vec<Pulled<std::borrow::Cow<'_, [u8]>>>) -> Vec<u8> {
    let mut out = EncodedPush::default();
    for p in pulled {
        let e = p.entry;
        out.insert_conversation(
            p.notification,
            p.conversation_id,
            EncodedPullMsgs {
                msgs: e.msgs,
                is_end: e.is_end,
                end_seq: e.end_seq,
            },
        );
    }
    out.encode_to_vec()
}

/// 1002 / `pull_msg_by_seq`: range pull with the upstream clamping rules, each message as
/// `view` shows it to the user ([`SrvState::view_in`] or [`SrvState::view_encoded_in`]).
pub(crate) fn pull_ranges<'a, M>(
    st: &'a SrvState,
    user_id: &str,
    ranges: &[SeqRange],
    order: i32,
    view: impl Fn(&'a SrvState, &str, &str, Option<&'a ConvSeqs>, i64) -> M,
) -> Vec<Pulled<M>> {
    let mut out = Vec::with_capacity(ranges.len());
    for r in ranges {
        let cid = &r.conversation_id;
        let is_n = cid.starts_with("n_");
        // Each map looked up once per range; a notification stream has no user row.
        let conv = st.seqs.get(cid);
        let user = if is_n {
            None
        } else {
            let Some(user) = st.user_conv(user_id, cid) else {
                continue;
            };
            Some(user)
        };
        let (min, max) = user_seq_bounds(conv, user);
        if min > r.end {
            continue;
        }
        let begin = r.begin.max(min).max(1);
        let end = r.end.min(max);
        if end < begin {
            continue;
        }
        let seqs = if is_n {
            begin..=end
        } else {
            if r.num < 1 {
                continue;
            }
            if end - begin < r.num {
                begin..=end
            } else {
                end - r.num + 1..=end
            }
        };
        let msgs: Vec<M> = seqs.map(|s| view(st, user_id, cid, conv, s)).collect();
        if msgs.is_empty() {
            continue;
        }
        let is_end = if order == 1 {
            r.begin <= min
        } else {
            max <= r.end
        };
        out.push(Pulled {
            notification: is_n,
            conversation_id: cid.clone(),
            entry: PullEntry {
                msgs,
                is_end,
                end_seq: 0,
            },
        });
    }
    out
}

fn pull_by_range(ctx: &ReqCtx<'_>, r: PullMessageBySeqsReq) -> Vec<u8> {
    // one copy of each stored message's bytes, straight into the answer (under the lock: a
    // reference count per message to copy them after it cost more than the copy)
    let st = ctx.inner.state.lock();
    encoded_answer(pull_ranges(
        &st,
        ctx.user_id,
        &r.seq_ranges,
        r.order,
        SrvState::view_encoded_in,
    ))
}

/// 1005: explicit seqs; an entry for every requested conversation.
pub(crate) fn pull_seqs<'a, M>(
    st: &'a SrvState,
    user_id: &str,
    r: &GetSeqMessageReq,
    view: impl Fn(&'a SrvState, &str, &str, Option<&'a ConvSeqs>, i64) -> M,
) -> Vec<Pulled<M>> {
    let mut out = Vec::with_capacity(r.conversations.len());
    for c in &r.conversations {
        let cid = &c.conversation_id;
        let is_n = cid.starts_with("n_");
        // Each map looked up once per conversation; a notification stream has no user row.
        let conv = st.seqs.get(cid);
        let user = if is_n {
            None
        } else {
            st.user_conv(user_id, cid)
        };
        let (min, max) = user_seq_bounds(conv, user);
        let mut entry = PullEntry::default();
        for &s in &c.seqs {
            if s <= 0 {
                continue;
            }
            if s < min {
                if r.order == 1 {
                    entry.is_end = true;
                    entry.end_seq = min;
                }
                continue;
            }
            if s > max {
                if r.order == 0 {
                    entry.is_end = true;
                    entry.end_seq = max;
                }
                continue;
            }
            entry.msgs.push(view(st, user_id, cid, conv, s));
        }
        out.push(Pulled {
            notification: is_n,
            conversation_id: cid.clone(),
            entry,
        });
    }
    out
}

fn pull_by_seqs(ctx: &ReqCtx<'_>, r: GetSeqMessageReq) -> Vec<u8> {
    let st = ctx.inner.state.lock();
    encoded_answer(pull_seqs(&st, ctx.user_id, &r, SrvState::view_encoded_in))
}

/// 1006 / `get_conversations_has_read_and_max_seq`.
pub(crate) fn has_read_and_max_seqs(
    st: &SrvState,
    user_id: &str,
    ids: &[String],
) -> HashMap<String, Seqs> {
    let ids: Vec<String> = if ids.is_empty() {
        st.user_convs
            .get(user_id)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    } else {
        ids.to_vec()
    };
    let mut out = HashMap::new();
    for id in ids {
        let max_seq = st.user_max_seq(user_id, &id);
        let has_read_seq = st
            .user_conv(user_id, &id)
            .map(|u| u.has_read_seq)
            .unwrap_or(0);
        let max_seq_time = st.seqs.get(&id).map(|s| s.max_seq_time).unwrap_or(0);
        out.insert(
            id,
            Seqs {
                max_seq,
                has_read_seq,
                max_seq_time,
            },
        );
    }
    out
}

fn has_read_and_max(ctx: &ReqCtx<'_>, r: GetConversationsHasReadAndMaxSeqReq) -> Vec<u8> {
    let st = ctx.inner.state.lock();
    let seqs = has_read_and_max_seqs(&st, ctx.user_id, &r.conversation_ids)
        .into_iter()
        .collect();
    GetConversationsHasReadAndMaxSeqResp {
        seqs,
        ..Default::default()
    }
    .encode_to_vec()
}

fn last_messages(ctx: &ReqCtx<'_>, r: GetLastMessageReq) -> Vec<u8> {
    let st = ctx.inner.state.lock();
    let mut msgs = std::collections::BTreeMap::new();
    for cid in &r.conversation_ids {
        let max = if cid.starts_with("n_") {
            st.seqs.get(cid).map(|s| s.max_seq).unwrap_or(0)
        } else {
            st.user_max_seq(ctx.user_id, cid)
        };
        if max > 0 && st.seqs.get(cid).is_some_and(|s| s.msgs.contains_key(&max)) {
            msgs.insert(cid.clone(), st.view_msg(ctx.user_id, cid, max));
        }
    }
    GetLastMessageResp { msgs }.encode_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Notif, notification_twin, single_conversation_id};

    fn note(st: &mut SrvState, to: &str) {
        st.notify(
            Notif {
                content_type: 1201,
                session_type: 1,
                send_id: "a".into(),
                recv_id: to.into(),
                tips: serde_json::json!({}),
                is_send_msg: false,
                reliable: true,
                extra: vec![],
            },
            "op",
        );
    }

    #[test]
    fn newest_seqs_cover_conversations_their_twins_and_the_own_notifications() {
        let mut st = SrvState::default();
        for (from, to) in [("a", "b"), ("b", "a"), ("c", "a")] {
            st.route_message(
                MsgData {
                    send_id: from.into(),
                    recv_id: to.into(),
                    session_type: 1,
                    content_type: 101,
                    ..Default::default()
                },
                "op",
                &[],
            );
        }
        note(&mut st, "b"); // n_a_b
        note(&mut st, "a"); // n_a_a
        let ab = single_conversation_id("a", "b");
        let ac = single_conversation_id("a", "c");
        assert_eq!(notification_twin(&ab), "n_a_b");
        let got = newest_seqs(&st, "a");
        let want: std::collections::BTreeMap<String, i64> = [
            (ab.clone(), 2),
            (ac.clone(), 1),
            ("n_a_b".to_string(), 1),
            ("n_a_a".to_string(), 1),
        ]
        .into_iter()
        .collect();
        assert_eq!(got, want);
        // a user without conversations: the own notifications only (none here)
        assert!(newest_seqs(&st, "nobody").is_empty());
    }
}
