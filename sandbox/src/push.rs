//! Connection registry and push delivery (2001 pushes, 2002 kicks, 2005 status changes).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use base64::Engine;
use bytes::Bytes;
use parking_lot::Mutex;
use prost::Message;
use tokio::sync::mpsc::UnboundedSender;

use crate::Inner;
use crate::faults::PushAction;
use crate::state::Delivery;
use crate::wire::{EncodedPullMsgs, EncodedPush, SubUserOnlineStatusElem, SubUserOnlineStatusTips};

/// The gateway response/push envelope (JSON keys in upstream order).
#[derive(Debug, Clone)]
pub(crate) struct WsResp {
    pub req_identifier: i32,
    pub msg_incr: String,
    pub operation_id: String,
    pub err_code: i32,
    pub err_msg: String,
    /// The protobuf payload (base64 in the JSON); `None` is written as `null`.
    pub data: Option<Vec<u8>>,
}

impl WsResp {
    pub(crate) fn new(
        req_identifier: i32,
        msg_incr: &str,
        operation_id: &str,
        data: Option<Vec<u8>>,
    ) -> Self {
        WsResp {
            req_identifier,
            msg_incr: msg_incr.to_string(),
            operation_id: operation_id.to_string(),
            err_code: 0,
            err_msg: String::new(),
            data,
        }
    }

    /// The JSON envelope `{"reqIdentifier":…,"msgIncr":…,"operationID":…,"errCode":…,"errMsg":…,"data":…}`,
    /// written in one buffer with the payload base64-encoded in place (no intermediate string).
    pub(crate) fn to_json(&self) -> Vec<u8> {
        use std::io::Write;
        let b64 = base64::engine::general_purpose::STANDARD;
        let data_len = self
            .data
            .as_ref()
            .map_or(4, |d| d.len().div_ceil(3) * 4 + 2);
        let mut out = Vec::with_capacity(
            96 + self.msg_incr.len() + self.operation_id.len() + self.err_msg.len() + data_len,
        );
        // writes into a Vec cannot fail
        let _ = write!(
            out,
            r#"{{"reqIdentifier":{},"msgIncr":"#,
            self.req_identifier
        );
        let _ = serde_json::to_writer(&mut out, &self.msg_incr);
        out.extend_from_slice(br#","operationID":"#);
        let _ = serde_json::to_writer(&mut out, &self.operation_id);
        let _ = write!(out, r#","errCode":{},"errMsg":"#, self.err_code);
        let _ = serde_json::to_writer(&mut out, &self.err_msg);
        out.extend_from_slice(br#","data":"#);
        match &self.data {
            // the base64 alphabet needs no JSON escaping
            Some(d) => {
                out.push(b'"');
                let start = out.len();
                out.resize(start + d.len().div_ceil(3) * 4, 0);
                let written = b64.encode_slice(d, &mut out[start..]).unwrap_or(0);
                out.truncate(start + written);
                out.push(b'"');
            }
            None => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
        out
    }
}

/// A server → client envelope serialised to JSON once and gzip'd at most once, shared by every
/// connection that writes it (a push to N connections costs one encoding, not N).
#[derive(Debug)]
pub(crate) struct Frame {
    json: Bytes,
    gzip: OnceLock<Bytes>,
    is_reply: bool,
    /// A message push: a hash of its conversation's ID (see [`Frame::conversation`]).
    conversation: Option<u64>,
}

impl Frame {
    /// Serialises an envelope.
    pub(crate) fn new(resp: &WsResp) -> Arc<Frame> {
        Frame::serialise(resp, None)
    }

    /// Serialises an envelope; `conversation` is the [`conversation_key`] of a message push's
    /// conversation, if known (see [`Frame::conversation`]).
    fn serialise(resp: &WsResp, conversation: Option<u64>) -> Arc<Frame> {
        Arc::new(Frame {
            // From an exact-size buffer, `Bytes` keeps no reference count of its own until a
            // clone needs one: a frame written to one connection (most pushes) is moved out
            // whole by `into_bytes`, never counted.
            json: Bytes::from(resp.to_json().into_boxed_slice()),
            gzip: OnceLock::new(),
            is_reply: !resp.msg_incr.is_empty(),
            conversation,
        })
    }

    /// The bytes of the binary WS frame for a connection with or without `compression=gzip`.
    pub(crate) fn bytes(&self, gzip: bool) -> Bytes {
        if gzip {
            self.gzip.get_or_init(|| zipped(&self.json)).clone()
        } else {
            self.json.clone()
        }
    }

    /// [`Frame::bytes`], taking them without a copy or a reference count when this was the
    /// frame's last holder.
    ///
    /// With a backlog of held pushes every frame is cold by the time it is written; a clone
    /// of its shared bytes wrote to one more cold cache line (the count) per push, which was
    /// most of the gateway writer's cost per frame after the socket write itself.
    pub(crate) fn into_bytes(self: Arc<Self>, gzip: bool) -> Bytes {
        match Arc::try_unwrap(self) {
            Ok(frame) if gzip => match frame.gzip.into_inner() {
                Some(zipped) => zipped,
                None => zipped(&frame.json),
            },
            Ok(frame) => frame.json,
            Err(shared) => shared.bytes(gzip),
        }
    }

    /// Whether this answers a request (a non-empty `msgIncr`), as opposed to a server push.
    pub(crate) fn is_reply(&self) -> bool {
        self.is_reply
    }

    /// For the push of a message, its conversation (a hash of its ID: two conversations
    /// with the same hash are only kept in order with one another, which is safe).
    pub(crate) fn conversation(&self) -> Option<u64> {
        self.conversation
    }
}

/// A conversation ID's hash, as [`Frame::conversation`] keeps it.
pub(crate) fn conversation_key(conversation_id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    conversation_id.hash(&mut h);
    h.finish()
}

/// The gzip'd bytes of a frame's JSON, in an exact-size buffer (see [`Frame::new`]).
fn zipped(json: &[u8]) -> Bytes {
    Bytes::from(gzip_member(json).into_boxed_slice())
}

/// Wraps `data` in one standard gzip member (RFC 1952: 10-byte header, raw deflate, CRC-32 and
/// size trailer), as upstream's `compress/gzip` writer does.
///
/// Deflate runs at level 1 with a compressor reused per thread: the level is invisible to clients
/// (any conforming inflater reads any level), while a fresh default-level compressor per frame
/// (allocating and clearing its ~300 KB state each time) cost more than everything else the
/// gateway does for a push. Upstream pools its writers for the same reason.
pub(crate) fn gzip_member(data: &[u8]) -> Vec<u8> {
    thread_local! {
        static DEFLATE: RefCell<flate2::Compress> =
            RefCell::new(flate2::Compress::new(flate2::Compression::fast(), false));
    }
    // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=4 (fastest) OS=255 (unknown)
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 0xff]);
    DEFLATE.with_borrow_mut(|c| {
        c.reset();
        loop {
            let consumed = c.total_in() as usize;
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(1024));
            }
            match c.compress_vec(
                data.get(consumed..).unwrap_or_default(),
                &mut out,
                flate2::FlushCompress::Finish,
            ) {
                Ok(flate2::Status::StreamEnd) => break,
                Ok(_) => {}
                Err(e) => {
                    // cannot happen with a valid compressor; an empty frame makes the client
                    // close and reconnect rather than read garbage
                    tracing::error!(error = %e, "deflate failed");
                    out.clear();
                    return;
                }
            }
        }
    });
    if out.is_empty() {
        return out;
    }
    let mut crc = flate2::Crc::new();
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// A push ready to be written: the shared frame and the seq it carries (for fault decisions).
#[derive(Debug, Clone)]
pub(crate) struct PushFrame {
    pub seq: i64,
    pub frame: Arc<Frame>,
}

/// What a connection's writer task is asked to do.
#[derive(Debug)]
pub(crate) enum Out {
    /// Write a binary envelope.
    Frame(Arc<Frame>),
    /// Write a text frame.
    Text(String),
    /// Write a 2002 kick frame, then close.
    Kick,
    /// Write a binary envelope, but not before the instant (what follows waits behind it, but
    /// for other conversations' pushes: see `gateway::Writer`).
    Delayed(Arc<Frame>, tokio::time::Instant),
    /// Close without a frame.
    Close,
    /// Close with a close frame carrying this code (RFC 6455 §7.4).
    CloseWith(u16),
}

pub(crate) struct Conn {
    pub id: u64,
    pub platform_id: i32,
    pub token: String,
    pub tx: UnboundedSender<Out>,
    pub subs: HashSet<String>,
}

/// All open gateway connections, by user.
#[derive(Default)]
pub(crate) struct Registry {
    conns: Mutex<HashMap<String, Vec<Conn>>>,
    next_id: AtomicU64,
}

impl Registry {
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Registers a connection, applying multi-login policy 1 (same user + platform, other token → kicked).
    pub(crate) fn register(&self, user_id: &str, conn: Conn) {
        let mut g = self.conns.lock();
        let list = g.entry(user_id.to_string()).or_default();
        list.retain(|c| {
            if c.platform_id == conn.platform_id && c.token != conn.token {
                let _ = c.tx.send(Out::Kick);
                false
            } else {
                true
            }
        });
        list.push(conn);
        drop(g);
        self.status_changed(user_id);
    }

    pub(crate) fn unregister(&self, user_id: &str, id: u64) {
        let mut g = self.conns.lock();
        let mut removed = false;
        if let Some(list) = g.get_mut(user_id) {
            let before = list.len();
            list.retain(|c| c.id != id);
            removed = list.len() != before;
            if list.is_empty() {
                g.remove(user_id);
            }
        }
        drop(g);
        if removed {
            self.status_changed(user_id);
        }
    }

    pub(crate) fn count(&self, user_id: &str) -> usize {
        self.conns.lock().get(user_id).map(Vec::len).unwrap_or(0)
    }

    pub(crate) fn platforms(&self, user_id: &str) -> Vec<i32> {
        let mut v: Vec<i32> = self
            .conns
            .lock()
            .get(user_id)
            .map(|l| l.iter().map(|c| c.platform_id).collect())
            .unwrap_or_default();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// `(connection id, platform, token)` of each of a user's open connections, in
    /// connection order (`/user/get_users_online_token_detail`, `get_users_online_status`).
    pub(crate) fn connections(&self, user_id: &str) -> Vec<(u64, i32, String)> {
        self.conns
            .lock()
            .get(user_id)
            .map(|l| {
                l.iter()
                    .map(|c| (c.id, c.platform_id, c.token.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Kicks (2002 + close) a user's connections on a platform.
    pub(crate) fn kick(&self, user_id: &str, platform_id: i32) -> usize {
        let mut g = self.conns.lock();
        let mut n = 0;
        if let Some(list) = g.get_mut(user_id) {
            list.retain(|c| {
                if c.platform_id == platform_id {
                    let _ = c.tx.send(Out::Kick);
                    n += 1;
                    false
                } else {
                    true
                }
            });
        }
        drop(g);
        if n > 0 {
            self.status_changed(user_id);
        }
        n
    }

    /// Closes every connection of a user without a kick frame.
    pub(crate) fn drop_user(&self, user_id: &str) -> usize {
        let list = self.conns.lock().remove(user_id).unwrap_or_default();
        for c in &list {
            let _ = c.tx.send(Out::Close);
        }
        if !list.is_empty() {
            self.status_changed(user_id);
        }
        list.len()
    }

    pub(crate) fn close_all(&self) {
        let all: Vec<Conn> = self.conns.lock().drain().flat_map(|(_, v)| v).collect();
        for c in all {
            let _ = c.tx.send(Out::Close);
        }
    }

    /// Writes a push to every connection of a user (no fault handling).
    pub(crate) fn send_push(&self, user_id: &str, frame: PushFrame) {
        let g = self.conns.lock();
        if let Some(list) = g.get(user_id) {
            for c in list {
                let _ = c.tx.send(Out::Frame(frame.frame.clone()));
            }
        }
    }

    /// Writes a push to every connection of a user; the originator's copies are delayed until `due`.
    pub(crate) fn send_push_from(
        &self,
        user_id: &str,
        frame: PushFrame,
        origin: &Origin,
        due: Option<tokio::time::Instant>,
    ) {
        let g = self.conns.lock();
        if let Some(list) = g.get(user_id) {
            for c in list {
                let delayed = match origin {
                    Origin::Conn(id) => c.id == *id,
                    Origin::User(u) => u == user_id,
                };
                let out = match (delayed, due) {
                    (true, Some(due)) => Out::Delayed(frame.frame.clone(), due),
                    _ => Out::Frame(frame.frame.clone()),
                };
                let _ = c.tx.send(out);
            }
        }
    }

    /// Updates a connection's online-status subscriptions; returns the current status of the subscribed users.
    pub(crate) fn subscribe(
        &self,
        user_id: &str,
        conn_id: u64,
        sub: &[String],
        unsub: &[String],
    ) -> Vec<SubUserOnlineStatusElem> {
        {
            let mut g = self.conns.lock();
            if let Some(c) = g
                .get_mut(user_id)
                .and_then(|l| l.iter_mut().find(|c| c.id == conn_id))
            {
                for u in unsub {
                    c.subs.remove(u);
                }
                for u in sub {
                    c.subs.insert(u.clone());
                }
            }
        }
        sub.iter()
            .map(|u| SubUserOnlineStatusElem {
                user_id: u.clone(),
                online_platform_ids: self.platforms(u),
            })
            .collect()
    }

    /// Sends an unsolicited 2005 to every connection subscribed to `user_id`.
    fn status_changed(&self, user_id: &str) {
        let platforms = self.platforms(user_id);
        let tips = SubUserOnlineStatusTips {
            subscribers: vec![SubUserOnlineStatusElem {
                user_id: user_id.to_string(),
                online_platform_ids: platforms,
            }],
        };
        let frame = Frame::new(&WsResp::new(2005, "", "", Some(tips.encode_to_vec())));
        let g = self.conns.lock();
        for list in g.values() {
            for c in list {
                if c.subs.contains(user_id) {
                    let _ = c.tx.send(Out::Frame(frame.clone()));
                }
            }
        }
    }
}

/// Builds the 2001 frame of a delivery (one message per push, as upstream), consuming it; with
/// `keyed`, the frame knows its conversation (a writer holding an echo needs it; with no push
/// latency nothing is ever held, and the hash is not worth its cost per push).
pub(crate) fn push_frame(d: Delivery, keyed: bool) -> (Vec<String>, PushFrame) {
    let seq = d.msg.seq;
    let mut pm = EncodedPush::default();
    let entry = EncodedPullMsgs {
        msgs: vec![d.encoded],
        is_end: false,
        end_seq: 0,
    };
    let notification = d.conversation_id.starts_with("n_");
    let conversation = keyed.then(|| conversation_key(&d.conversation_id));
    pm.insert_conversation(notification, d.conversation_id, entry);
    let frame = Frame::serialise(
        &WsResp::new(2001, "", &d.operation_id, Some(pm.encode_to_vec())),
        conversation,
    );
    (d.user_ids, PushFrame { seq, frame })
}

/// Who caused a batch of pushes: their copies to the originator are held back by the push latency.
#[derive(Debug, Clone)]
pub(crate) enum Origin {
    /// A gateway connection (WS 1003): its own echo is delayed.
    Conn(u64),
    /// An HTTP caller: pushes to that user's connections are delayed.
    User(String),
}

/// Delivers pushes to every connection of their recipients, honouring injected faults.
///
/// The copies going back to the originator are written only after `push_latency`: on the real
/// server pushes pass through a queue and never overtake the answer to the request that caused
/// them, and the JS SDK relies on that to suppress its own echo. Everyone else gets them at once.
/// Pushes held inside a [`holding`] scope: (deliveries, origin) in delivery order.
type Held = Vec<(Vec<Delivery>, Origin)>;

tokio::task_local! {
    /// The pushes of a request that waits for its save, delivered once its change is on disk
    /// (the HTTP entry), so that no client sees a change a hard kill could still lose.
    static HELD: std::cell::RefCell<Held>;
}

/// Runs `f`, holding back every push it delivers (in its own task); returns its output and the
/// held pushes, to [`deliver`] later in the same order.
pub(crate) async fn holding<F: std::future::Future>(f: F) -> (F::Output, Held) {
    HELD.scope(std::cell::RefCell::new(Vec::new()), async move {
        let out = f.await;
        let held = HELD.with(|h| h.take());
        (out, held)
    })
    .await
}

pub(crate) fn deliver(inner: &std::sync::Arc<Inner>, deliveries: Vec<Delivery>, origin: &Origin) {
    let mut pending = Some(deliveries);
    // inside a `holding` scope: kept for later
    let _ = HELD.try_with(|held| {
        if let Some(d) = pending.take() {
            held.borrow_mut().push((d, origin.clone()));
        }
    });
    let Some(deliveries) = pending else {
        return;
    };
    let keyed = !inner.config.push_latency.is_zero();
    for d in deliveries {
        let (user_ids, frame) = push_frame(d, keyed);
        for user in &user_ids {
            match inner.faults.on_push(user, &frame) {
                PushAction::Hold => {}
                PushAction::Send { times, delay } => match delay {
                    None => {
                        let due = (!inner.config.push_latency.is_zero())
                            .then(|| tokio::time::Instant::now() + inner.config.push_latency);
                        for _ in 0..times {
                            inner
                                .registry
                                .send_push_from(user, frame.clone(), origin, due);
                        }
                    }
                    Some(delay) => {
                        let inner = inner.clone();
                        let user = user.clone();
                        let frame = frame.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(delay).await;
                            for _ in 0..times {
                                inner.registry.send_push(&user, frame.clone());
                            }
                        });
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn gunzip(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(data)
            .read_to_end(&mut out)
            .expect("a valid gzip member");
        out
    }

    #[test]
    fn gzip_member_round_trips_any_size_with_a_reused_compressor() {
        let big: Vec<u8> = (0..300_000u32)
            .flat_map(|i| (i.wrapping_mul(2_654_435_761) >> 13).to_le_bytes())
            .collect();
        for data in [
            &b""[..],
            &b"{\"reqIdentifier\":2001}"[..],
            &[b'a'; 100_000][..],
            &big[..],
        ] {
            // twice: the second run reuses the thread's compressor after a reset
            for _ in 0..2 {
                let z = gzip_member(data);
                assert_eq!(&z[..3], &[0x1f, 0x8b, 8]);
                assert_eq!(gunzip(&z), data);
            }
        }
    }

    #[test]
    fn the_envelope_is_the_upstream_json_object_in_key_order() {
        let mut r = WsResp::new(1003, "m\"1", "op\\x", Some((0u8..=255).collect()));
        r.err_code = 1302;
        r.err_msg = "blocked \u{1} by peer".into();
        let expected = serde_json::json!({
            "reqIdentifier": 1003, "msgIncr": "m\"1", "operationID": "op\\x", "errCode": 1302,
            "errMsg": "blocked \u{1} by peer",
            "data": base64::engine::general_purpose::STANDARD.encode((0u8..=255).collect::<Vec<u8>>()),
        });
        let json = r.to_json();
        let parsed: serde_json::Value = serde_json::from_slice(&json).expect("valid JSON");
        assert_eq!(parsed, expected);
        let text = String::from_utf8(json).expect("utf8");
        let keys = [
            "reqIdentifier",
            "msgIncr",
            "operationID",
            "errCode",
            "errMsg",
            "data",
        ];
        let pos: Vec<usize> = keys
            .iter()
            .map(|k| text.find(&format!("\"{k}\":")).expect("key present"))
            .collect();
        assert!(
            pos.windows(2).all(|w| w[0] < w[1]),
            "upstream key order: {text}"
        );
        for len in 0..5 {
            let r = WsResp::new(2001, "", "", Some(vec![7; len]));
            let v: serde_json::Value = serde_json::from_slice(&r.to_json()).expect("JSON");
            assert_eq!(
                v["data"],
                base64::engine::general_purpose::STANDARD.encode(vec![7; len])
            );
        }
        let none = WsResp::new(2002, "", "", None).to_json();
        assert_eq!(
            std::str::from_utf8(&none).expect("utf8"),
            r#"{"reqIdentifier":2002,"msgIncr":"","operationID":"","errCode":0,"errMsg":"","data":null}"#
        );
    }

    #[test]
    fn a_frame_is_encoded_once_and_shared() {
        let frame = Frame::new(&WsResp::new(2001, "", "op", Some(vec![1, 2, 3])));
        assert!(!frame.is_reply());
        let json: serde_json::Value =
            serde_json::from_slice(&frame.bytes(false)).expect("JSON envelope");
        assert_eq!(json["data"], "AQID");
        let a = frame.bytes(true);
        let b = frame.bytes(true);
        assert_eq!(a.as_ptr(), b.as_ptr(), "gzip'd once, then shared");
        assert_eq!(gunzip(&a), frame.bytes(false));
    }

    /// The writer takes a frame's bytes: moved out (the same buffer) from its last holder,
    /// shared from a frame other connections still hold, gzip'd then if it was not yet.
    #[test]
    fn a_frames_last_holder_takes_its_bytes_without_a_copy() {
        let frame = Frame::new(&WsResp::new(2001, "", "op", Some(vec![1, 2, 3])));
        let json = frame.bytes(false);
        let other = Arc::clone(&frame);
        let shared = frame.into_bytes(false);
        assert_eq!(shared, json);
        assert_eq!(shared.as_ptr(), json.as_ptr(), "shared, not copied");
        let zipped = other.bytes(true);
        let last = other.into_bytes(true);
        assert_eq!(last.as_ptr(), zipped.as_ptr(), "the gzip'd bytes moved out");
        assert_eq!(gunzip(&last), json);

        let unique = Frame::new(&WsResp::new(2001, "", "op", Some(vec![4, 5])));
        let plain = unique.json.as_ptr();
        assert_eq!(unique.into_bytes(false).as_ptr(), plain, "moved out");
        let fresh = Frame::new(&WsResp::new(2001, "", "op", Some(vec![4, 5])));
        let expected = fresh.bytes(false);
        assert_eq!(
            gunzip(&fresh.into_bytes(true)),
            expected,
            "gzip'd on the way out"
        );
    }
}
