//! The WebSocket gateway connection (internal): `sdkType=js` JSON envelopes, optional gzip,
//! heartbeats, pipelined requests (any number outstanding, matched to their answers by `msgIncr`,
//! each with its own timeout, all failed when the connection ends), reconnect with exponential
//! backoff and jitter. Kicks and token errors stop the dial loop until the engine decides.
//!
//! The server answers the requests of one connection one at a time, in order; pipelining saves
//! the client's share of each round trip (the next request is already queued at the server).

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::io::{Read, Write};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use base64::Engine as _;
use futures::{SinkExt, StreamExt};
use parking_lot::Mutex;
use serde::Deserialize;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};

use crate::client::ClientError;
use openim_protocol::pb::received::{self, ReceivedBatch};

/// Request identifiers used by the client.
pub(crate) mod req {
    pub const GET_NEWEST_SEQ: i32 = 1001;
    pub const PULL_BY_RANGE: i32 = 1002;
    pub const SEND_MSG: i32 = 1003;
    pub const GET_CONV_MAX_READ_SEQ: i32 = 1006;
    pub const PUSH: i32 = 2001;
    pub const KICK: i32 = 2002;
    pub const SUB_ONLINE_STATUS: i32 = 2005;
}

/// Client-side error code: network error.
pub(crate) const NETWORK_ERROR: i32 = 10000;
/// Client-side error code: request timeout.
pub(crate) const NETWORK_TIMEOUT: i32 = 10001;

/// Heartbeat interval (the server drops connections silent for 30 s).
const PING_EVERY: Duration = Duration::from_secs(20);
/// A connection silent for this long is considered dead.
const READ_DEADLINE: Duration = Duration::from_secs(45);
/// Largest frame the server reads (open-im-server v3.8.3 `maxMessageSize`, counted after gzip):
/// a larger one makes it close the connection.
pub(crate) const MAX_REQUEST_FRAME: usize = 51200;
/// Max time to wait for the `isMsgResp` connect answer.
const CONNECT_ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// A response or push envelope, borrowed from the frame: strings without JSON escapes (every
/// `msgIncr` we send, every base64 `data`) are not copied.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct WsResp<'a> {
    #[serde(default)]
    req_identifier: i32,
    #[serde(default, borrow)]
    msg_incr: Cow<'a, str>,
    #[serde(default)]
    err_code: i32,
    #[serde(default, borrow)]
    err_msg: Cow<'a, str>,
    #[serde(default, borrow, deserialize_with = "borrowed_opt_str")]
    data: Option<Cow<'a, str>>,
}

/// `Option<Cow<str>>` that borrows: serde's own `Option<Cow<str>>` always copies (its borrow
/// only applies to a bare `Cow`), which cost a copy of every push's and every pull answer's
/// base64 `data` (tens of KB for a pull).
fn borrowed_opt_str<'de: 'a, 'a, D>(d: D) -> Result<Option<Cow<'a, str>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct OptStr;
    impl<'de> serde::de::Visitor<'de> for OptStr {
        type Value = Option<Cow<'de, str>>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string or null")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(self)
        }
        fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Borrowed(v)))
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v.to_owned())))
        }
        fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v)))
        }
    }
    d.deserialize_option(OptStr)
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct ConnectAnswer {
    #[serde(default)]
    err_code: i32,
    #[serde(default)]
    err_msg: String,
    #[serde(default)]
    err_dlt: String,
}

/// What the connection reports to the engine.
#[derive(Debug)]
pub(crate) enum GatewayEvent {
    Connecting {
        attempt: u32,
    },
    Connected {
        reconnect: bool,
    },
    ConnectFailed {
        code: i32,
        msg: String,
        retry_in: Duration,
    },
    /// A push, decoded by the reader (count it handled with [`GatewayHandle::pushes_handled`]
    /// once its box went back to the decoder).
    Push(Box<ReceivedBatch>),
    /// A push's protobuf payload, left for the engine to decode ([`GatewayHandle::decode_push`])
    /// because [`DECODE_AHEAD`] decoded pushes were waiting already.
    PushBytes(Vec<u8>),
    /// Kicked (2002 frame, or 1506 at connect). The loop has stopped.
    Kicked {
        by_frame: bool,
    },
    /// The reader dropped pushes, the queue to the engine being full
    /// ([`SessionConfig::push_queue_limit`] pushes or [`SessionConfig::push_queue_bytes`] bytes):
    /// sent when the run of drops ends (the queue has drained to half of both, or the connection
    /// ended), after its last drop. The engine pulls each
    /// conversation up to the newest seq its dropped pushes carried. Every seq up to that one
    /// was readable on the server when the push was written, which a pull up to the server's
    /// newest seqs would not guarantee. ([`GatewayHandle::dropped_pushes`] counts the pushes.)
    ///
    /// [`SessionConfig::push_queue_limit`]: crate::config::SessionConfig::push_queue_limit
    /// [`SessionConfig::push_queue_bytes`]: crate::config::SessionConfig::push_queue_bytes
    PushesDropped {
        /// Conversation ID → the newest seq among the run's dropped pushes.
        newest: HashMap<String, i64>,
    },
    /// Token rejected at connect (1501–1505, 1507). The loop waits for `resume()` or `stop()`.
    TokenError {
        code: i32,
        msg: String,
    },
}

/// The answer to one request: its protobuf bytes (borrowed from the reader's buffer), or the
/// error code and message.
type Answer<'a> = Result<&'a [u8], (i32, String)>;
/// Takes a request's answer to whoever waits for it. The reader task calls it, so the answer
/// is decoded there, next to the frame, not on the (busier) task that awaits it.
type Pending = Box<dyn FnOnce(Answer<'_>) + Send>;

/// Message of the error every outstanding request gets when its connection ends.
const CLOSED_BEFORE_RESPONSE: &str = "connection closed before the response";

struct Shared {
    user_id: String,
    /// `user_id` as a JSON string literal (quotes included), for the request envelope.
    send_id_json: String,
    /// Random per handle, so `msgIncr`s of two sessions of one account never look alike.
    incr_salt: u32,
    platform: i32,
    ws_addr: String,
    compression: bool,
    token: Arc<dyn Fn() -> Option<String> + Send + Sync>,
    tls: Option<Arc<rustls::ClientConfig>>,
    writer: Mutex<Option<mpsc::UnboundedSender<WsMessage>>>,
    /// Requests waiting for their answer, by `msgIncr`. Any number may be outstanding.
    pending: Mutex<HashMap<String, Pending>>,
    counter: AtomicU64,
    timeout: Duration,
    undecodable: AtomicU64,
    control: Mutex<Option<mpsc::UnboundedSender<Control>>>,
    /// Pushes the reader decoded and the engine has not handed back yet.
    decoded_waiting: AtomicUsize,
    /// How many may be waiting before the reader passes payloads undecoded ([`DECODE_AHEAD`];
    /// tests lower it).
    decode_ahead: AtomicUsize,
    /// Payload buffers of [`GatewayEvent::PushBytes`] handed back by the engine, for the
    /// reader's next ones (so neither side allocates or frees one per push).
    spare_payloads: Mutex<Vec<Vec<u8>>>,
    /// Pushes sent to the engine ([`GatewayEvent::Push`], [`GatewayEvent::PushBytes`]) and not
    /// taken by it yet ([`GatewayHandle::pushes_taken`]).
    queued_pushes: AtomicUsize,
    /// How many may be queued before the reader drops the next ones
    /// ([`crate::config::SessionConfig::push_queue_limit`]; tests lower it).
    push_queue_limit: AtomicUsize,
    /// Bytes held by the payloads of the queued [`GatewayEvent::PushBytes`] (their buffers'
    /// capacity). Decoded pushes waiting are not counted: at most [`Shared::decode_ahead`] of
    /// them, each of a payload of at most [`DECODE_AHEAD_MAX_PAYLOAD`].
    queued_bytes: AtomicUsize,
    /// How many may be queued before the reader drops the next pushes
    /// ([`crate::config::SessionConfig::push_queue_bytes`]; tests lower it).
    push_queue_bytes: AtomicUsize,
    /// Pushes dropped so far because the queue was full.
    dropped_pushes: AtomicU64,
    /// The reader is dropping pushes: it drops every one until the queue has drained to half
    /// of both bounds (so that runs of drops, and the pulls after them, are few).
    dropping: AtomicBool,
    /// Wakes a dropping reader once the engine has taken the queue down to half of both bounds.
    drained: tokio::sync::Notify,
    /// The current run's newest dropped seq per conversation (the reader's only).
    dropped_newest: Mutex<HashMap<String, i64>>,
}

impl Shared {
    /// The queue has reached either bound: the reader starts a run of drops.
    fn queue_full(&self) -> bool {
        self.queued_pushes.load(Ordering::Acquire) >= self.push_queue_limit.load(Ordering::Relaxed)
            || self.queued_bytes.load(Ordering::Acquire)
                >= self.push_queue_bytes.load(Ordering::Relaxed)
    }

    /// Whether a queue of `pushes` pushes of `bytes` bytes is down to half of both bounds, where
    /// a dropping reader queues pushes again.
    fn drained_at(&self, pushes: usize, bytes: usize) -> bool {
        pushes <= self.push_queue_limit.load(Ordering::Relaxed) / 2
            && bytes <= self.push_queue_bytes.load(Ordering::Relaxed) / 2
    }

    /// Counts and logs a push whose payload does not decode (the push is skipped), wherever it
    /// was decoded: by the reader, or by the engine past the reader's decode-ahead.
    fn undecodable_push(&self, e: &dyn std::fmt::Display) {
        let n = self.undecodable.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::warn!(error = %e, count = n, "undecodable push ignored");
    }
}

/// Decoded pushes that may wait for the engine before the reader passes the next ones as their
/// payload, decoded by the engine just before it handles them.
///
/// Why: released at once, a queue of pushes was all decoded long before the engine reached it
/// (~1 KB of boxes, lists and strings each, 100,000 pushes in the scaling bench). The recycled
/// boxes' pool was empty meanwhile, so each push's container grew the reader's heap (page
/// faults, `mprotect`), and what the engine read of it was out of cache again. Below the pool's
/// size ([`received::recycle_boxed`] keeps 512), so every box handed back is reused.
pub(crate) const DECODE_AHEAD: usize = 256;

/// A push whose payload is larger than this is not decoded ahead ([`DECODE_AHEAD`]) but queued
/// as its payload, counted in [`crate::config::SessionConfig::push_queue_bytes`]: the decoded
/// pushes waiting (not counted in bytes) then hold at most `DECODE_AHEAD` times this.
pub(crate) const DECODE_AHEAD_MAX_PAYLOAD: usize = 16 * 1024;

/// Payload buffers kept for [`GatewayEvent::PushBytes`] (a [`DECODE_AHEAD`]'s worth is plenty:
/// the engine hands them back a round of pushes at a time).
const MAX_SPARE_PAYLOADS: usize = 256;
/// A payload buffer with more room than this is freed rather than kept (a push is a few
/// hundred bytes).
const SPARE_PAYLOAD_ROOM: usize = 16 * 1024;

#[derive(Debug)]
enum Control {
    Resume,
    Stop,
    Reconnect,
}

/// Handle to send requests over the current gateway connection.
#[derive(Clone)]
pub(crate) struct GatewayHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for GatewayHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayHandle")
            .field("user_id", &self.shared.user_id)
            .finish_non_exhaustive()
    }
}

/// Settings of the gateway connection.
pub(crate) struct GatewaySettings {
    pub user_id: String,
    pub platform: i32,
    pub ws_addr: String,
    pub compression: bool,
    pub timeout: Duration,
    pub token: Arc<dyn Fn() -> Option<String> + Send + Sync>,
    /// TLS settings for `wss://` (None = the built-in web PKI roots).
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Pushes queued for the engine past which the reader drops them
    /// ([`crate::config::SessionConfig::push_queue_limit`]).
    pub push_queue_limit: usize,
    /// ([`crate::config::SessionConfig::push_queue_bytes`]).
    pub push_queue_bytes: usize,
}

/// A rustls client config trusting exactly the certificates of `pem`.
pub(crate) fn tls_config(pem: &[u8]) -> Result<Arc<rustls::ClientConfig>, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| format!("bad PEM: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("bad certificate: {e}"))?;
    }
    if roots.is_empty() {
        return Err("no certificate in the PEM file".into());
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

impl GatewayHandle {
    /// Starts the dial loop; events go to `events`.
    pub(crate) fn spawn(
        settings: GatewaySettings,
        events: mpsc::UnboundedSender<GatewayEvent>,
    ) -> GatewayHandle {
        let (control_tx, control_rx) = mpsc::unbounded_channel();
        let send_id_json =
            serde_json::to_string(&settings.user_id).unwrap_or_else(|_| "\"\"".to_owned());
        let shared = Arc::new(Shared {
            send_id_json,
            incr_salt: rand::random(),
            user_id: settings.user_id,
            platform: settings.platform,
            ws_addr: settings.ws_addr,
            compression: settings.compression,
            token: settings.token,
            tls: settings.tls,
            writer: Mutex::new(None),
            pending: Mutex::new(HashMap::new()),
            counter: AtomicU64::new(0),
            timeout: settings.timeout,
            undecodable: AtomicU64::new(0),
            control: Mutex::new(Some(control_tx)),
            decoded_waiting: AtomicUsize::new(0),
            decode_ahead: AtomicUsize::new(DECODE_AHEAD),
            spare_payloads: Mutex::new(Vec::new()),
            queued_pushes: AtomicUsize::new(0),
            push_queue_limit: AtomicUsize::new(settings.push_queue_limit.max(1)),
            queued_bytes: AtomicUsize::new(0),
            push_queue_bytes: AtomicUsize::new(settings.push_queue_bytes.max(1)),
            dropped_pushes: AtomicU64::new(0),
            dropping: AtomicBool::new(false),
            drained: tokio::sync::Notify::new(),
            dropped_newest: Mutex::new(HashMap::new()),
        });
        tokio::spawn(dial_loop(shared.clone(), events, control_rx));
        GatewayHandle { shared }
    }

    /// Number of frames that could not be decoded so far.
    pub(crate) fn undecodable_frames(&self) -> u64 {
        self.shared.undecodable.load(Ordering::Relaxed)
    }

    /// Counts `n` pushes of [`GatewayEvent::Push`] handled (their boxes handed back to the
    /// decoder): the reader decodes as many more ahead of the engine.
    pub(crate) fn pushes_handled(&self, n: usize) {
        if n > 0 {
            let _ = self.shared.decoded_waiting.fetch_update(
                Ordering::AcqRel,
                Ordering::Acquire,
                |w| Some(w.saturating_sub(n)),
            );
        }
    }

    /// Counts `n` pushes ([`GatewayEvent::Push`] or [`GatewayEvent::PushBytes`]) taken from the
    /// queue, and `bytes` payload bytes of `PushBytes` handled: the reader queues as many more
    /// before it drops any. (The engine counts a round's pushes when it takes them, and their
    /// payloads' bytes as it handles them; its single-push arms, which a burst leaves
    /// unreachable, count both when the push is taken.)
    pub(crate) fn pushes_taken(&self, n: usize, bytes: usize) {
        if n == 0 && bytes == 0 {
            return;
        }
        let shared = &self.shared;
        // SeqCst here and where the reader starts dropping: either this load sees the reader
        // dropping, or the reader's check after it sees these counts (no run left without its
        // wake-up). A dropping reader queues nothing, so what these leave is what is queued.
        // A count not changed is only read: a value read before one of the reader's adds
        // understates the queue, which costs at most a wake-up that the reader checks.
        let take = |count: &AtomicUsize, n: usize| {
            if n == 0 {
                return count.load(Ordering::SeqCst);
            }
            count
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |q| {
                    Some(q.saturating_sub(n))
                })
                .unwrap_or(0)
                .saturating_sub(n)
        };
        let pushes = take(&shared.queued_pushes, n);
        let bytes = take(&shared.queued_bytes, bytes);
        if shared.dropping.load(Ordering::SeqCst) && shared.drained_at(pushes, bytes) {
            shared.drained.notify_one();
        }
    }

    /// Pushes the reader dropped so far because the engine had
    /// [`crate::config::SessionConfig::push_queue_limit`] pushes or
    /// [`crate::config::SessionConfig::push_queue_bytes`] bytes queued.
    pub(crate) fn dropped_pushes(&self) -> u64 {
        self.shared.dropped_pushes.load(Ordering::Acquire)
    }

    /// Decodes a [`GatewayEvent::PushBytes`] payload (counted and logged as the reader does
    /// when it does not decode: then `None`); the buffer goes back to the reader.
    pub(crate) fn decode_push(&self, mut payload: Vec<u8>) -> Option<Box<ReceivedBatch>> {
        let push = received::decode_boxed(&payload);
        payload.clear();
        if payload.capacity() <= SPARE_PAYLOAD_ROOM {
            let mut spare = self.shared.spare_payloads.lock();
            if spare.len() < MAX_SPARE_PAYLOADS {
                spare.push(payload);
            }
        }
        match push {
            Ok(p) => Some(p),
            Err(e) => {
                self.shared.undecodable_push(&e);
                None
            }
        }
    }

    /// Lets at most `n` decoded pushes wait (tests: 0 has the engine decode every push).
    #[cfg(test)]
    pub(crate) fn set_decode_ahead(&self, n: usize) {
        self.shared.decode_ahead.store(n, Ordering::Relaxed);
    }

    /// Decoded pushes not counted handled, and payload buffers handed back (tests).
    #[cfg(test)]
    pub(crate) fn push_counts(&self) -> (usize, usize) {
        (
            self.shared.decoded_waiting.load(Ordering::Acquire),
            self.shared.spare_payloads.lock().len(),
        )
    }

    /// Lets at most `n` pushes be queued for the engine before the reader drops them (tests).
    #[cfg(test)]
    pub(crate) fn set_push_queue_limit(&self, n: usize) {
        self.shared.push_queue_limit.store(n, Ordering::Relaxed);
    }

    /// Lets at most `n` payload bytes be queued for the engine before the reader drops pushes
    /// (tests).
    #[cfg(test)]
    pub(crate) fn set_push_queue_bytes(&self, n: usize) {
        self.shared.push_queue_bytes.store(n, Ordering::Relaxed);
    }

    /// Pushes queued for the engine and not taken yet, and their payload bytes (tests).
    #[cfg(test)]
    pub(crate) fn queued_pushes(&self) -> (usize, usize) {
        (
            self.shared.queued_pushes.load(Ordering::Acquire),
            self.shared.queued_bytes.load(Ordering::Acquire),
        )
    }

    /// Lets the dial loop go on after a token error (new token available).
    pub(crate) fn resume(&self) {
        self.control(Control::Resume);
    }

    /// Stops the dial loop and closes the connection.
    pub(crate) fn stop(&self) {
        self.control(Control::Stop);
    }

    /// Drops the current connection; the loop reconnects (tests, network change).
    pub(crate) fn reconnect(&self) {
        self.control(Control::Reconnect);
    }

    fn control(&self, c: Control) {
        if let Some(tx) = self.shared.control.lock().as_ref() {
            let _ = tx.send(c);
        }
    }

    /// True while a connection is established.
    pub(crate) fn is_connected(&self) -> bool {
        self.shared.writer.lock().is_some()
    }

    /// Writes a request now and returns its pending answer.
    ///
    /// Any number of requests may be outstanding on the connection: each is matched to its
    /// answer by `msgIncr` (the server answers in order, but the match does not rely on it).
    /// Frames are written in call order, so requests started one after the other reach the
    /// server in that order. The answer must arrive within the request timeout, counted from
    /// now; when the connection ends first, every outstanding request fails with code 10000.
    /// Dropping the returned value forgets the request. The answer is decoded as `R` by the
    /// connection's reader task (straight from its frame buffer), so a caller that is busy
    /// meanwhile (the engine, delivering the previous pull) does not pay for it.
    pub(crate) fn start_call<M: prost::Message, R: prost::Message + Default + Send + 'static>(
        &self,
        req_identifier: i32,
        msg: &M,
    ) -> Result<PendingCall<R>, ClientError> {
        let shared = &self.shared;
        let n = shared.counter.fetch_add(1, Ordering::Relaxed);
        let msg_incr = format!("{:08x}_{n}", shared.incr_salt);
        let operation_id = random_id();
        let json = encode_request(shared, req_identifier, &msg_incr, &operation_id, msg);
        let frame = if shared.compression {
            gzip(&json).map_err(|e| ClientError::Gateway {
                req_identifier,
                code: NETWORK_ERROR,
                message: format!("gzip: {e}"),
            })?
        } else {
            json
        };
        if frame.len() > MAX_REQUEST_FRAME {
            // The server would close the connection (and fail every outstanding request).
            return Err(ClientError::Invalid(format!(
                "request {req_identifier} too large: a {}-byte gateway frame, the server accepts \
                 at most {MAX_REQUEST_FRAME} bytes",
                frame.len()
            )));
        }
        let (tx, rx) = oneshot::channel();
        let deliver: Pending = Box::new(move |answer: Answer<'_>| {
            let decoded = answer.and_then(|bytes| {
                R::decode(bytes).map_err(|e| (NETWORK_ERROR, format!("undecodable response: {e}")))
            });
            let _ = tx.send(decoded);
        });
        // Registered before the frame is queued: the answer may come back at once.
        shared.pending.lock().insert(msg_incr.clone(), deliver);
        let sent = match shared.writer.lock().as_ref() {
            Some(w) => w.send(WsMessage::Binary(frame.into())).is_ok(),
            None => false,
        };
        if !sent {
            shared.pending.lock().remove(&msg_incr);
            return Err(ClientError::NotConnected);
        }
        Ok(PendingCall {
            shared: shared.clone(),
            req_identifier,
            msg_incr,
            rx,
            timer: Box::pin(tokio::time::sleep(shared.timeout)),
            finished: false,
        })
    }

    /// Sends a request and decodes the response.
    pub(crate) async fn call<M: prost::Message, R: prost::Message + Default + Send + 'static>(
        &self,
        req_identifier: i32,
        msg: &M,
    ) -> Result<R, ClientError> {
        self.start_call(req_identifier, msg)?.await
    }

    /// Number of requests waiting for their answer.
    #[cfg(test)]
    pub(crate) fn outstanding(&self) -> usize {
        self.shared.pending.lock().len()
    }
}

/// A request written to the gateway, waiting for its answer (see
/// [`GatewayHandle::start_call`]). Resolves to the answer decoded as `R`, or to
/// [`ClientError::Gateway`] with the server's error code, 10001 after the request timeout or
/// 10000 when the connection ended first or the answer did not decode.
pub(crate) struct PendingCall<R> {
    shared: Arc<Shared>,
    req_identifier: i32,
    msg_incr: String,
    rx: oneshot::Receiver<Result<R, (i32, String)>>,
    timer: Pin<Box<tokio::time::Sleep>>,
    finished: bool,
}

impl<R> std::fmt::Debug for PendingCall<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingCall")
            .field("req_identifier", &self.req_identifier)
            .field("msg_incr", &self.msg_incr)
            .finish_non_exhaustive()
    }
}

impl<R> PendingCall<R> {
    fn error(&self, code: i32, message: String) -> ClientError {
        ClientError::Gateway {
            req_identifier: self.req_identifier,
            code,
            message,
        }
    }
}

impl<R> Future for PendingCall<R> {
    type Output = Result<R, ClientError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if this.finished {
            return Poll::Ready(Err(
                this.error(NETWORK_ERROR, "request polled after it finished".into())
            ));
        }
        let result = match Pin::new(&mut this.rx).poll(cx) {
            Poll::Ready(Ok(Ok(data))) => Ok(data),
            Poll::Ready(Ok(Err((code, message)))) => Err(this.error(code, message)),
            Poll::Ready(Err(_)) => Err(this.error(NETWORK_ERROR, CLOSED_BEFORE_RESPONSE.into())),
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.shared.pending.lock().remove(&this.msg_incr);
                    Err(this.error(
                        NETWORK_TIMEOUT,
                        format!("no response within {:?}", this.shared.timeout),
                    ))
                }
                Poll::Pending => return Poll::Pending,
            },
        };
        this.finished = true;
        Poll::Ready(result)
    }
}

impl<R> Drop for PendingCall<R> {
    fn drop(&mut self) {
        if !self.finished {
            // Abandoned by the caller: its answer, if it ever comes, is ignored.
            self.shared.pending.lock().remove(&self.msg_incr);
        }
    }
}

/// The request envelope as JSON, written straight into one buffer (no intermediate strings):
/// `{"reqIdentifier":…,"sendID":…,"operationID":…,"msgIncr":…,"data":"<base64 protobuf>"}`.
/// `operation_id` and `msg_incr` are generated by us and need no JSON escaping.
fn encode_request<M: prost::Message>(
    shared: &Shared,
    req_identifier: i32,
    msg_incr: &str,
    operation_id: &str,
    msg: &M,
) -> Vec<u8> {
    ENCODE_SCRATCH.with(|scratch| {
        let mut payload = scratch.take();
        payload.clear();
        // Encoding into a Vec cannot fail (it grows as needed).
        let _ = msg.encode(&mut payload);
        let b64_len = payload.len().div_ceil(3) * 4;
        let mut out = Vec::with_capacity(
            96 + shared.send_id_json.len() + operation_id.len() + msg_incr.len() + b64_len,
        );
        out.extend_from_slice(b"{\"reqIdentifier\":");
        out.extend_from_slice(req_identifier.to_string().as_bytes());
        out.extend_from_slice(b",\"sendID\":");
        out.extend_from_slice(shared.send_id_json.as_bytes());
        out.extend_from_slice(b",\"operationID\":\"");
        out.extend_from_slice(operation_id.as_bytes());
        out.extend_from_slice(b"\",\"msgIncr\":\"");
        out.extend_from_slice(msg_incr.as_bytes());
        out.extend_from_slice(b"\",\"data\":\"");
        let at = out.len();
        out.resize(at + b64_len, 0);
        let written = base64::engine::general_purpose::STANDARD
            .encode_slice(&payload, &mut out[at..])
            .unwrap_or(0);
        out.truncate(at + written);
        out.extend_from_slice(b"\"}");
        if payload.capacity() <= SCRATCH_KEEP {
            scratch.set(payload);
        }
        out
    })
}

/// Scratch buffers larger than this are not kept between frames (memory follows the usual
/// frame size, not the largest one ever seen).
const SCRATCH_KEEP: usize = 256 * 1024;

thread_local! {
    /// Protobuf encoding buffer of [`encode_request`], reused by the requests of one thread.
    static ENCODE_SCRATCH: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data)?;
    enc.finish()
}

/// A random 32-hex-digit ID (a v4 UUID, the format of the SDKs' operation and message IDs),
/// from the thread-local generator: `Uuid::new_v4` asks the kernel (a `getrandom` system
/// call) for every ID, and there are one or two per message sent.
pub(crate) fn random_id() -> String {
    uuid::Builder::from_random_bytes(rand::random())
        .into_uuid()
        .simple()
        .to_string()
}

/// Largest decompressed frame accepted (the server's own limit is far lower).
const MAX_INFLATED: u64 = 64 * 1024 * 1024;

/// Decompresses a gzip frame into `out` (cleared first).
fn gunzip_into(data: &[u8], out: &mut Vec<u8>) -> std::io::Result<()> {
    out.clear();
    flate2::read::GzDecoder::new(data)
        .take(MAX_INFLATED)
        .read_to_end(out)?;
    Ok(())
}

/// Buffers of the read loop, reused from frame to frame.
#[derive(Default)]
struct FrameBuffers {
    /// Decompressed envelope (gzip frames only).
    plain: Vec<u8>,
    /// base64-decoded `data` of a push or an answer.
    payload: Vec<u8>,
}

impl FrameBuffers {
    /// Drops buffers a rare huge frame left behind.
    fn trim(&mut self) {
        for b in [&mut self.plain, &mut self.payload] {
            if b.capacity() > SCRATCH_KEEP {
                *b = Vec::new();
            }
        }
    }
}

/// Decodes one binary frame (gzip if it starts with the gzip magic) into an envelope that
/// borrows from `bytes` or from `plain`.
fn decode_frame<'a>(bytes: &'a [u8], plain: &'a mut Vec<u8>) -> Result<WsResp<'a>, String> {
    let json: &'a [u8] = if bytes.starts_with(&[0x1f, 0x8b]) {
        gunzip_into(bytes, plain).map_err(|e| format!("gzip: {e}"))?;
        plain
    } else {
        bytes
    };
    serde_json::from_slice(json).map_err(|e| format!("json: {e}"))
}

/// Decodes the base64 `data` of an envelope, appending to `out` (`null`/absent/"" = empty).
fn decode_data_into(data: Option<&str>, out: &mut Vec<u8>) -> Result<(), String> {
    match data {
        None | Some("") => Ok(()),
        Some(s) => base64::engine::general_purpose::STANDARD
            .decode_vec(s, out)
            .map_err(|e| format!("base64: {e}")),
    }
}

/// Decodes the base64 `data` of an envelope into a new buffer.
#[cfg(test)]
fn decode_data(data: Option<&str>) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    decode_data_into(data, &mut out)?;
    Ok(out)
}

/// Fuzzing entry point (not API): runs one binary frame through the decoder the connection
/// uses (gzip detection, borrowed envelope, base64 `data` into a reused buffer, protobuf of
/// a push). Returns whether the frame decoded; must never panic.
#[doc(hidden)]
pub fn fuzz_decode_frame(bytes: &[u8]) -> bool {
    let mut buffers = FrameBuffers::default();
    let FrameBuffers { plain, payload } = &mut buffers;
    let Ok(resp) = decode_frame(bytes, plain) else {
        return false;
    };
    if decode_data_into(resp.data.as_deref(), payload).is_err() {
        return false;
    }
    resp.req_identifier != req::PUSH
        || received::decode_boxed(payload.as_slice())
            .map(|push| received::recycle_boxed([push]))
            .is_ok()
}

/// Exponential backoff with jitter: 1, 2, 4, 8, 16, 30 s (cap), ±25 %.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let base_ms = 1000u64.saturating_mul(1u64 << attempt.saturating_sub(1).min(5));
    let base_ms = base_ms.min(30_000);
    let jitter = rand::random::<f64>() * 0.5 - 0.25;
    Duration::from_millis(((base_ms as f64) * (1.0 + jitter)) as u64)
}

enum DialError {
    /// No HTTP answer / transport failure.
    Network(String),
    /// The server answered with an error code.
    Refused { code: i32, msg: String },
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn connect_url(shared: &Shared, token: &str) -> String {
    let sep = if shared.ws_addr.contains('?') {
        '&'
    } else {
        '?'
    };
    // A bare `ws://host:port` gets the path `/` (some servers reject an empty request path).
    let base = match shared.ws_addr.split_once("://") {
        Some((_, rest)) if !rest.contains('/') && !rest.contains('?') => {
            format!("{}/", shared.ws_addr)
        }
        _ => shared.ws_addr.clone(),
    };
    let mut url = format!(
        "{}{}sendID={}&token={}&platformID={}&operationID={}&isBackground=false&isMsgResp=true&sdkType=js",
        base,
        sep,
        urlencode(&shared.user_id),
        urlencode(token),
        shared.platform,
        crate::api::operation_id()
    );
    if shared.compression {
        url.push_str("&compression=gzip");
    }
    url
}

fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Bytes read from the socket at most per read call. tungstenite zero-fills this much of its
/// read buffer before every read (128 KiB by default: 7 % of the echo benchmark's CPU);
/// gateway frames are mostly well under 2 KiB, and a large pull answer simply takes a few
/// more reads.
const READ_CHUNK: usize = 16 * 1024;

/// WebSocket settings of the gateway connection.
fn ws_config() -> tungstenite::protocol::WebSocketConfig {
    tungstenite::protocol::WebSocketConfig::default().read_buffer_size(READ_CHUNK)
}

async fn dial(shared: &Shared) -> Result<(Ws, Vec<WsMessage>), DialError> {
    let Some(token) = (shared.token)() else {
        return Err(DialError::Refused {
            code: 1507,
            msg: "no token".into(),
        });
    };
    let url = connect_url(shared, &token);
    let connector = shared
        .tls
        .as_ref()
        .map(|tls| tokio_tungstenite::Connector::Rustls(tls.clone()));
    // TCP_NODELAY (like Go's dialer): frames are small and written in batches already; Nagle's
    // algorithm would hold a request back until the previous segment is acknowledged.
    let connecting = tokio_tungstenite::connect_async_tls_with_config(
        url.as_str(),
        Some(ws_config()),
        true,
        connector,
    )
    .await;
    let (mut ws, _resp) = match connecting {
        Ok(ok) => ok,
        Err(tungstenite::Error::Http(resp)) => {
            let body = resp.body().as_deref().unwrap_or_default();
            return match serde_json::from_slice::<ConnectAnswer>(body) {
                Ok(a) if a.err_code != 0 => Err(DialError::Refused {
                    code: a.err_code,
                    msg: format!("{} {}", a.err_msg, a.err_dlt).trim().to_owned(),
                }),
                _ => Err(DialError::Network(format!(
                    "HTTP {} from the gateway",
                    resp.status()
                ))),
            };
        }
        Err(e) => return Err(DialError::Network(e.to_string())),
    };
    // isMsgResp=true: the first text frame tells the result. Binary frames arriving before it
    // (servers that do not send it) are kept and processed after.
    let mut early = Vec::new();
    let deadline = Instant::now() + CONNECT_ANSWER_TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, ws.next()).await {
            Err(_) => {
                return Err(DialError::Network(
                    "no connect answer from the gateway".into(),
                ));
            }
            Ok(None) => return Err(DialError::Network("closed during connect".into())),
            Ok(Some(Err(e))) => return Err(DialError::Network(e.to_string())),
            Ok(Some(Ok(WsMessage::Text(text)))) => {
                match serde_json::from_str::<ConnectAnswer>(text.as_str()) {
                    Ok(a) if a.err_code == 0 => return Ok((ws, early)),
                    Ok(a) => {
                        return Err(DialError::Refused {
                            code: a.err_code,
                            msg: format!("{} {}", a.err_msg, a.err_dlt).trim().to_owned(),
                        });
                    }
                    Err(_) => continue,
                }
            }
            Ok(Some(Ok(m @ WsMessage::Binary(_)))) => {
                early.push(m);
                return Ok((ws, early));
            }
            Ok(Some(Ok(_))) => continue,
        }
    }
}

async fn dial_loop(
    shared: Arc<Shared>,
    events: mpsc::UnboundedSender<GatewayEvent>,
    mut control: mpsc::UnboundedReceiver<Control>,
) {
    let mut attempt: u32 = 0;
    let mut connected_before = false;
    loop {
        // Drain control messages that arrived while disconnected.
        while let Ok(c) = control.try_recv() {
            if matches!(c, Control::Stop) {
                return;
            }
        }
        attempt += 1;
        if events.send(GatewayEvent::Connecting { attempt }).is_err() {
            return;
        }
        match dial(&shared).await {
            Ok((ws, early)) => {
                attempt = 0;
                let reconnect = connected_before;
                connected_before = true;
                let end =
                    run_connection(&shared, ws, early, &events, &mut control, reconnect).await;
                match end {
                    ConnectionEnd::Lost => {
                        tracing::info!("gateway connection lost, reconnecting");
                        continue;
                    }
                    ConnectionEnd::Kicked => {
                        let _ = events.send(GatewayEvent::Kicked { by_frame: true });
                        return;
                    }
                    ConnectionEnd::Stopped => return,
                }
            }
            Err(DialError::Refused { code: 1506, .. }) => {
                let _ = events.send(GatewayEvent::Kicked { by_frame: false });
                return;
            }
            Err(DialError::Refused { code, msg }) if (1501..=1507).contains(&code) => {
                if events.send(GatewayEvent::TokenError { code, msg }).is_err() {
                    return;
                }
                match control.recv().await {
                    Some(Control::Resume) | Some(Control::Reconnect) => {
                        attempt = 0;
                        continue;
                    }
                    Some(Control::Stop) | None => return,
                }
            }
            Err(err) => {
                let (code, msg) = match err {
                    DialError::Network(m) => (NETWORK_ERROR, m),
                    DialError::Refused { code, msg } => (code, msg),
                };
                let wait = backoff(attempt);
                // The configured address (the URL dialled adds the token, which is never logged).
                tracing::warn!(addr = %shared.ws_addr, code, %msg, ?wait, "gateway connect failed");
                if events
                    .send(GatewayEvent::ConnectFailed {
                        code,
                        msg,
                        retry_in: wait,
                    })
                    .is_err()
                {
                    return;
                }
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    c = control.recv() => {
                        if matches!(c, Some(Control::Stop) | None) { return; }
                    }
                }
            }
        }
    }
}

enum ConnectionEnd {
    Lost,
    Kicked,
    Stopped,
}

async fn run_connection(
    shared: &Arc<Shared>,
    ws: Ws,
    early: Vec<WsMessage>,
    events: &mpsc::UnboundedSender<GatewayEvent>,
    control: &mut mpsc::UnboundedReceiver<Control>,
    reconnect: bool,
) -> ConnectionEnd {
    let (sink, mut stream) = ws.split();
    let (out_tx, out_rx) = mpsc::unbounded_channel::<WsMessage>();
    *shared.writer.lock() = Some(out_tx.clone());
    let writer = tokio::spawn(write_frames(sink, out_rx));
    let _ = events.send(GatewayEvent::Connected { reconnect });
    let mut buffers = FrameBuffers::default();
    for m in early {
        if let Some(end) = handle_frame(shared, m, events, &mut buffers) {
            return finish(shared, events, writer, end).await;
        }
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut last_seen = Instant::now();
    let end = loop {
        tokio::select! {
            frame = stream.next() => match frame {
                None => break ConnectionEnd::Lost,
                Some(Err(e)) => {
                    tracing::info!(error = %e, "gateway read failed");
                    break ConnectionEnd::Lost;
                }
                Some(Ok(m)) => {
                    last_seen = Instant::now();
                    if let Some(end) = handle_frame(shared, m, events, &mut buffers) {
                        break end;
                    }
                }
            },
            _ = ping.tick() => {
                if last_seen.elapsed() > READ_DEADLINE {
                    tracing::info!("gateway silent too long, reconnecting");
                    break ConnectionEnd::Lost;
                }
                buffers.trim();
                let _ = out_tx.send(WsMessage::Ping(crate::api::operation_id().into_bytes().into()));
            }
            c = control.recv() => match c {
                Some(Control::Stop) | None => break ConnectionEnd::Stopped,
                Some(Control::Reconnect) => break ConnectionEnd::Lost,
                Some(Control::Resume) => {}
            },
            // The engine has taken the queue down to half: the run of drops ends without
            // waiting for the next push.
            _ = shared.drained.notified(), if shared.dropping.load(Ordering::Acquire) => {
                end_run_if_drained(shared, events);
            }
        }
    };
    finish(shared, events, writer, end).await
}

/// Writes queued frames. Everything queued at the moment is written before one flush, so a
/// burst of requests costs one socket write, not one per frame.
async fn write_frames(
    mut sink: futures::stream::SplitSink<Ws, WsMessage>,
    mut queue: mpsc::UnboundedReceiver<WsMessage>,
) {
    'frames: while let Some(first) = queue.recv().await {
        let mut next = Some(first);
        while let Some(m) = next.take() {
            let close = matches!(m, WsMessage::Close(_));
            if sink.feed(m).await.is_err() || close {
                break 'frames;
            }
            next = queue.try_recv().ok();
        }
        if sink.flush().await.is_err() {
            break;
        }
    }
    let _ = sink.close().await;
}

async fn finish(
    shared: &Arc<Shared>,
    events: &mpsc::UnboundedSender<GatewayEvent>,
    writer: tokio::task::JoinHandle<()>,
    end: ConnectionEnd,
) -> ConnectionEnd {
    // A run of drops ends with the connection (the next one starts with an empty record).
    end_drop_run(shared, events);
    if let Some(w) = shared.writer.lock().take() {
        let _ = w.send(WsMessage::Close(None));
    }
    // Fail every request still waiting on this connection.
    let pending: Vec<_> = shared.pending.lock().drain().collect();
    for (_, deliver) in pending {
        deliver(Err((NETWORK_ERROR, CLOSED_BEFORE_RESPONSE.into())));
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    end
}

/// Drops the push of `payload` (true) while the queue to the engine is full: from the moment it
/// holds [`Shared::push_queue_limit`] pushes or [`Shared::push_queue_bytes`] bytes until it has
/// drained to half of both ([`Shared::drained_at`]), when the run ends ([`end_drop_run`]). A
/// dropped push is recorded ([`record_dropped`]).
///
/// Why drop rather than stop reading: open-im-server closes a connection whose socket blocks
/// one of its writes for 10 s, so a reader that waits for a stuck handler gets the bot
/// disconnected. Dropped pushes are cheap to get back: their messages are stored by seq, and
/// the engine pulls them.
fn drop_push(
    shared: &Shared,
    payload: &[u8],
    events: &mpsc::UnboundedSender<GatewayEvent>,
) -> bool {
    if shared.dropping.load(Ordering::Relaxed) {
        if end_run_if_drained(shared, events) {
            return false;
        }
        record_dropped(shared, payload);
        return true;
    }
    if !shared.queue_full() {
        return false;
    }
    shared.dropping.store(true, Ordering::SeqCst);
    let dropped = record_dropped(shared, payload);
    tracing::warn!(
        limit = shared.push_queue_limit.load(Ordering::Relaxed),
        limit_bytes = shared.push_queue_bytes.load(Ordering::Relaxed),
        dropped,
        "push queue full: dropping pushes until the engine has taken half, then pulling them by seq"
    );
    // The engine wakes a dropping reader only, and may have taken the queue down before it
    // could see this run: then it ends at once.
    end_run_if_drained(shared, events);
    true
}

/// Ends the run of drops (true) if the queue has drained to half.
fn end_run_if_drained(shared: &Shared, events: &mpsc::UnboundedSender<GatewayEvent>) -> bool {
    // SeqCst with the engine's side (`GatewayHandle::pushes_taken`): either it sees a run this
    // reader has just started, or these loads see its counts.
    let drained = shared.drained_at(
        shared.queued_pushes.load(Ordering::SeqCst),
        shared.queued_bytes.load(Ordering::SeqCst),
    );
    if drained {
        end_drop_run(shared, events);
    }
    drained
}

/// Counts a dropped push and records the newest seq of each conversation it carried; returns
/// the count. Messages without a seq (online-only ones, typing) cannot be pulled: they are lost,
/// as while the bot is offline.
fn record_dropped(shared: &Shared, payload: &[u8]) -> u64 {
    let dropped = shared.dropped_pushes.fetch_add(1, Ordering::AcqRel) + 1;
    // Scanned for its seqs only: a full decode of every dropped push cost the reader more
    // than the pushes it queued.
    let mut newest = shared.dropped_newest.lock();
    let scanned = received::newest_seqs(payload, |conv, seq| match newest.get_mut(conv) {
        Some(at) => *at = (*at).max(seq),
        None => {
            newest.insert(conv.to_owned(), seq);
        }
    });
    drop(newest);
    // Counted as it would have been if queued (what it named before the fault is pulled).
    if let Err(e) = scanned {
        shared.undecodable_push(&e);
    }
    dropped
}

/// Ends a run of drops: hands the engine the run's record, after its last drop
/// ([`GatewayEvent::PushesDropped`]).
fn end_drop_run(shared: &Shared, events: &mpsc::UnboundedSender<GatewayEvent>) {
    if shared.dropping.swap(false, Ordering::AcqRel) {
        let newest = std::mem::take(&mut *shared.dropped_newest.lock());
        let _ = events.send(GatewayEvent::PushesDropped { newest });
    }
}

/// Handles one frame; returns Some when the connection must end.
fn handle_frame(
    shared: &Arc<Shared>,
    m: WsMessage,
    events: &mpsc::UnboundedSender<GatewayEvent>,
    buffers: &mut FrameBuffers,
) -> Option<ConnectionEnd> {
    match m {
        WsMessage::Binary(bytes) => {
            let FrameBuffers { plain, payload } = buffers;
            let resp = match decode_frame(&bytes, plain) {
                Ok(r) => r,
                Err(e) => {
                    let n = shared.undecodable.fetch_add(1, Ordering::Relaxed) + 1;
                    tracing::warn!(error = %e, count = n, "undecodable gateway frame ignored");
                    return None;
                }
            };
            match resp.req_identifier {
                req::PUSH => {
                    payload.clear();
                    if let Err(e) = decode_data_into(resp.data.as_deref(), payload) {
                        shared.undecodable_push(&e);
                        return None;
                    }
                    if drop_push(shared, payload, events) {
                        return None;
                    }
                    let waiting = shared.decoded_waiting.load(Ordering::Acquire);
                    if waiting >= shared.decode_ahead.load(Ordering::Relaxed)
                        || payload.len() > DECODE_AHEAD_MAX_PAYLOAD
                    {
                        // The engine decodes it (see DECODE_AHEAD); the buffer is swapped for
                        // one it handed back. Counted by capacity: what it holds.
                        let spare = shared.spare_payloads.lock().pop().unwrap_or_default();
                        let bytes = std::mem::replace(payload, spare);
                        shared.queued_pushes.fetch_add(1, Ordering::AcqRel);
                        shared
                            .queued_bytes
                            .fetch_add(bytes.capacity(), Ordering::AcqRel);
                        let _ = events.send(GatewayEvent::PushBytes(bytes));
                        return None;
                    }
                    // Into a push the engine handed back (no allocation for its container).
                    match received::decode_boxed(payload.as_slice()) {
                        Ok(p) => {
                            shared.decoded_waiting.fetch_add(1, Ordering::AcqRel);
                            shared.queued_pushes.fetch_add(1, Ordering::AcqRel);
                            let _ = events.send(GatewayEvent::Push(p));
                        }
                        Err(e) => shared.undecodable_push(&e),
                    }
                    None
                }
                req::KICK => Some(ConnectionEnd::Kicked),
                _ => {
                    let Some(deliver) = shared.pending.lock().remove(resp.msg_incr.as_ref()) else {
                        if resp.req_identifier != req::SUB_ONLINE_STATUS {
                            tracing::debug!(
                                req = resp.req_identifier,
                                "response without a waiting request"
                            );
                        }
                        return None;
                    };
                    if resp.err_code != 0 {
                        deliver(Err((resp.err_code, resp.err_msg.into_owned())));
                    } else {
                        payload.clear();
                        match decode_data_into(resp.data.as_deref(), payload) {
                            Ok(()) => deliver(Ok(payload)),
                            Err(e) => deliver(Err((NETWORK_ERROR, e))),
                        }
                    }
                    None
                }
            }
        }
        WsMessage::Text(text) => {
            if let Ok(a) = serde_json::from_str::<ConnectAnswer>(text.as_str())
                && a.err_code == 1506
            {
                return Some(ConnectionEnd::Kicked);
            }
            None
        }
        WsMessage::Close(_) => Some(ConnectionEnd::Lost),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 1..20 {
            let d = backoff(attempt);
            assert!(d <= Duration::from_millis(37_500), "{attempt}: {d:?}");
            assert!(d >= Duration::from_millis(750));
        }
        assert!(backoff(5) > backoff(1));
    }

    #[test]
    fn frames_decode_plain_and_gzip_and_garbage_is_an_error() {
        let json = br#"{"reqIdentifier":1001,"msgIncr":"a","operationID":"o","errCode":0,"errMsg":"","data":"CgJ1MQ=="}"#;
        let mut plain = Vec::new();
        let r = decode_frame(json, &mut plain).unwrap();
        assert_eq!(r.req_identifier, 1001);
        assert_eq!(
            decode_data(r.data.as_deref()).unwrap(),
            vec![0x0a, 2, b'u', b'1']
        );
        let zipped = gzip(json).unwrap();
        let r = decode_frame(&zipped, &mut plain).unwrap();
        assert_eq!(r.msg_incr, "a");
        assert!(decode_frame(b"\x1f\x8bxx", &mut plain).is_err());
        assert!(decode_frame(b"{", &mut plain).is_err());
        assert!(decode_data(Some("!!")).is_err());
    }

    #[test]
    fn tls_config_rejects_files_without_certificates() {
        assert!(tls_config(b"").is_err());
        assert!(tls_config(b"not a pem").is_err());
        assert!(
            tls_config(b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n").is_err()
        );
    }

    #[test]
    fn random_ids_are_32_hex_digits_and_distinct() {
        let a = random_id();
        assert_eq!(a.len(), 32);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_ne!(a, random_id());
    }

    #[test]
    fn fuzz_entry_accepts_good_frames_and_refuses_garbage() {
        let push = openim_protocol::pb::sdkws::PushMessages::default().encode_to_vec();
        let frame = format!(
            r#"{{"reqIdentifier":2001,"msgIncr":"","errCode":0,"errMsg":"","data":"{}"}}"#,
            base64::engine::general_purpose::STANDARD.encode(push)
        );
        assert!(fuzz_decode_frame(frame.as_bytes()));
        assert!(fuzz_decode_frame(&gzip(frame.as_bytes()).unwrap()));
        assert!(!fuzz_decode_frame(b"\x1f\x8b\x08garbage"));
        assert!(!fuzz_decode_frame(br#"{"reqIdentifier":2001,"data":"!!"}"#));
        assert!(!fuzz_decode_frame(
            br#"{"reqIdentifier":2001,"data":"/w=="}"#
        ));
    }

    #[test]
    fn urlencodes_tokens() {
        assert_eq!(urlencode("a b+c"), "a%20b%2Bc");
    }

    use openim_protocol::pb::sdkws::{GetMaxSeqReq, GetMaxSeqResp};
    use serde_json::{Value, json};
    use tokio::net::TcpListener;

    /// A scripted gateway: accepts one connection, answers the connect with success and hands
    /// the socket to the test.
    struct FakeGateway {
        ws: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    }

    impl FakeGateway {
        /// The next request envelope (JSON), skipping pings.
        async fn next_request(&mut self) -> Value {
            loop {
                match self.ws.next().await.expect("open").expect("frame") {
                    WsMessage::Binary(b) => return serde_json::from_slice(&b).expect("json"),
                    WsMessage::Ping(_) | WsMessage::Pong(_) => continue,
                    other => panic!("unexpected frame {other:?}"),
                }
            }
        }

        /// Answers `req` with `data` (protobuf bytes) or an error code.
        async fn answer(&mut self, req: &Value, data: Result<Vec<u8>, i32>) {
            let (code, data) = match data {
                Ok(d) => (
                    0,
                    json!(base64::engine::general_purpose::STANDARD.encode(d)),
                ),
                Err(code) => (code, Value::Null),
            };
            let frame = json!({
                "reqIdentifier": req["reqIdentifier"], "msgIncr": req["msgIncr"],
                "operationID": req["operationID"], "errCode": code,
                "errMsg": if code == 0 { "" } else { "Nope" }, "data": data,
            });
            self.ws
                .send(WsMessage::Binary(frame.to_string().into_bytes().into()))
                .await
                .expect("send");
        }
    }

    /// Starts a gateway handle against a fake server; returns both once connected.
    async fn connect(timeout: Duration) -> (GatewayHandle, FakeGateway) {
        let (handle, server, _events) = connect_with_events(timeout, usize::MAX).await;
        (handle, server)
    }

    /// Like [`connect`], with a push queue limit, and the events after `Connected`.
    async fn connect_with_events(
        timeout: Duration,
        push_queue_limit: usize,
    ) -> (
        GatewayHandle,
        FakeGateway,
        mpsc::UnboundedReceiver<GatewayEvent>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (events_tx, mut events) = mpsc::unbounded_channel();
        let handle = GatewayHandle::spawn(
            GatewaySettings {
                user_id: "bot \"one\"".into(),
                platform: 7,
                ws_addr: format!("ws://{addr}"),
                compression: false,
                timeout,
                token: Arc::new(|| Some("t".to_owned())),
                tls: None,
                push_queue_limit,
                push_queue_bytes: usize::MAX,
            },
            events_tx,
        );
        let (tcp, _) = listener.accept().await.expect("accept");
        let mut ws = tokio_tungstenite::accept_async(tcp).await.expect("upgrade");
        ws.send(WsMessage::Text(
            r#"{"errCode":0,"errMsg":"","errDlt":""}"#.into(),
        ))
        .await
        .expect("connect answer");
        loop {
            match events.recv().await.expect("gateway events") {
                GatewayEvent::Connected { .. } => break,
                GatewayEvent::Connecting { .. } => continue,
                other => panic!("unexpected {other:?}"),
            }
        }
        (handle, FakeGateway { ws }, events)
    }

    /// A dropping reader ends its run once the engine has taken the queue down to half, with
    /// no further push: `PushesDropped` follows the last dropped push.
    #[tokio::test]
    async fn a_run_of_drops_ends_when_the_engine_drains_the_queue() {
        let (gw, mut server, mut events) = connect_with_events(Duration::from_secs(30), 2).await;
        let call = gw
            .start_call::<_, GetMaxSeqResp>(req::GET_NEWEST_SEQ, &req_for(0))
            .expect("written");
        let request = server.next_request().await;
        for i in 0..5 {
            server.ws.send(push_frame(i)).await.expect("send");
        }
        // Answered after the pushes: once the answer is back, the reader has read them all.
        server.answer(&request, Ok(Vec::new())).await;
        call.await.expect("answered");
        async fn next(events: &mut mpsc::UnboundedReceiver<GatewayEvent>) -> GatewayEvent {
            tokio::time::timeout(Duration::from_secs(10), events.recv())
                .await
                .expect("an event in time")
                .expect("gateway running")
        }
        for _ in 0..2 {
            match next(&mut events).await {
                GatewayEvent::Push(p) => received::recycle_boxed([p]),
                other => panic!("a push, got {other:?}"),
            }
        }
        assert_eq!(gw.dropped_pushes(), 3);
        assert!(
            events.try_recv().is_err(),
            "no report while the queue is full"
        );
        gw.pushes_taken(1, 0);
        match next(&mut events).await {
            GatewayEvent::PushesDropped { newest } => assert_eq!(
                newest,
                (2..5).map(|i| (format!("si_bot_u{i}"), i)).collect(),
                "each dropped push's conversation, up to its seq"
            ),
            other => panic!("the run's end, got {other:?}"),
        }
        gw.stop();
    }

    /// A run that starts after the engine has taken the queue down (it could not see the run
    /// to wake the reader) ends at once, with the push that started it.
    #[test]
    fn a_run_started_on_a_drained_queue_ends_at_once() {
        let TestReader {
            shared,
            events,
            mut rx,
            ..
        } = TestReader::new(|shared| shared.push_queue_limit.store(4, Ordering::Relaxed));
        // The reader saw a full queue (`drop_push`'s first load); the engine has taken it all
        // since.
        shared.dropping.store(true, Ordering::SeqCst);
        record_dropped(&shared, &push_payload(3));
        assert!(end_run_if_drained(&shared, &events));
        match rx.try_recv() {
            Ok(GatewayEvent::PushesDropped { newest }) => {
                assert_eq!(newest, [("si_bot_u3".to_owned(), 3)].into());
            }
            other => panic!("the run's end at once, got {other:?}"),
        }
        assert!(!shared.dropping.load(Ordering::SeqCst));
        // With the queue still full, the run goes on.
        shared.queued_pushes.store(4, Ordering::SeqCst);
        shared.dropping.store(true, Ordering::SeqCst);
        assert!(!end_run_if_drained(&shared, &events));
        assert!(rx.try_recv().is_err());
    }

    fn req_for(i: usize) -> GetMaxSeqReq {
        GetMaxSeqReq {
            user_id: format!("req-{i}"),
        }
    }

    #[tokio::test]
    async fn many_requests_outstanding_answers_out_of_order_are_matched() {
        let (gw, mut server) = connect(Duration::from_secs(30)).await;
        const N: usize = 20;
        let calls: Vec<PendingCall<GetMaxSeqResp>> = (0..N)
            .map(|i| {
                gw.start_call(req::GET_NEWEST_SEQ, &req_for(i))
                    .expect("written")
            })
            .collect();
        assert_eq!(gw.outstanding(), N);
        // Every request reaches the server before any answer, in call order.
        let mut reqs = Vec::new();
        for i in 0..N {
            let r = server.next_request().await;
            let data = base64::engine::general_purpose::STANDARD
                .decode(r["data"].as_str().expect("data"))
                .expect("base64");
            assert_eq!(
                GetMaxSeqReq::decode(data.as_slice()).expect("pb"),
                req_for(i)
            );
            assert_eq!(r["reqIdentifier"], 1001);
            assert_eq!(r["sendID"], "bot \"one\"");
            assert!(r.get("token").is_none());
            reqs.push(r);
        }
        let incrs: std::collections::HashSet<_> =
            reqs.iter().map(|r| r["msgIncr"].to_string()).collect();
        assert_eq!(incrs.len(), N, "msgIncr unique");
        // Answer in reverse order; request 7 fails with a server code, request 5's answer
        // does not decode (a length past its end).
        for (i, r) in reqs.iter().enumerate().rev() {
            let answer = if i == 7 {
                Err(1302)
            } else if i == 5 {
                Ok(vec![0x0a, 0x05])
            } else {
                Ok(GetMaxSeqResp {
                    min_seqs: [(format!("req-{i}"), i as i64)].into(),
                    ..Default::default()
                }
                .encode_to_vec())
            };
            server.answer(r, answer).await;
        }
        for (i, call) in calls.into_iter().enumerate() {
            match call.await {
                Ok(resp) => {
                    assert!(i != 7 && i != 5);
                    assert_eq!(resp.min_seqs.get(&format!("req-{i}")), Some(&(i as i64)));
                }
                Err(ClientError::Gateway {
                    req_identifier,
                    code,
                    message,
                }) => {
                    if i == 5 {
                        assert_eq!((req_identifier, code), (1001, NETWORK_ERROR));
                        assert!(message.starts_with("undecodable response"), "{message}");
                        continue;
                    }
                    assert_eq!((i, req_identifier, code), (7, 1001, 1302));
                    assert_eq!(message, "Nope");
                }
                Err(e) => panic!("request {i}: {e}"),
            }
        }
        assert_eq!(gw.outstanding(), 0);
        gw.stop();
    }

    #[tokio::test]
    async fn a_request_times_out_with_a_typed_error_and_a_late_answer_is_ignored() {
        let (gw, mut server) = connect(Duration::from_millis(200)).await;
        let slow = gw
            .start_call::<_, GetMaxSeqResp>(req::GET_NEWEST_SEQ, &req_for(1))
            .expect("written");
        let r = server.next_request().await;
        let err = slow.await.expect_err("no answer: timeout");
        assert!(
            matches!(
                err,
                ClientError::Gateway {
                    code: NETWORK_TIMEOUT,
                    req_identifier: 1001,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(gw.outstanding(), 0, "a timed-out request is forgotten");
        // The late answer is ignored; the connection keeps working.
        server
            .answer(&r, Ok(GetMaxSeqResp::default().encode_to_vec()))
            .await;
        let next = gw
            .start_call::<_, GetMaxSeqResp>(req::GET_NEWEST_SEQ, &req_for(2))
            .expect("written");
        let r2 = server.next_request().await;
        server
            .answer(&r2, Ok(GetMaxSeqResp::default().encode_to_vec()))
            .await;
        next.await.expect("answered");
        assert_eq!(gw.undecodable_frames(), 0);
        gw.stop();
    }

    #[tokio::test]
    async fn a_disconnect_fails_every_outstanding_request() {
        let (gw, mut server) = connect(Duration::from_secs(30)).await;
        let calls: Vec<PendingCall<GetMaxSeqResp>> = (0..5)
            .map(|i| {
                gw.start_call(req::GET_NEWEST_SEQ, &req_for(i))
                    .expect("written")
            })
            .collect();
        for _ in 0..5 {
            server.next_request().await;
        }
        drop(server);
        for call in calls {
            let err = call.await.expect_err("connection lost");
            match err {
                ClientError::Gateway { code, message, .. } => {
                    assert_eq!(code, NETWORK_ERROR);
                    assert_eq!(message, CLOSED_BEFORE_RESPONSE);
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(gw.outstanding(), 0);
        gw.stop();
    }

    #[tokio::test]
    async fn a_dropped_pending_request_is_forgotten() {
        let (gw, mut server) = connect(Duration::from_secs(30)).await;
        let call = gw
            .start_call::<_, GetMaxSeqResp>(req::GET_NEWEST_SEQ, &req_for(0))
            .expect("written");
        assert_eq!(gw.outstanding(), 1);
        drop(call);
        assert_eq!(gw.outstanding(), 0);
        let r = server.next_request().await;
        server
            .answer(&r, Ok(GetMaxSeqResp::default().encode_to_vec()))
            .await;
        gw.stop();
    }

    #[test]
    fn a_request_without_a_connection_is_refused_at_once() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let (events_tx, _events) = mpsc::unbounded_channel();
            let gw = GatewayHandle::spawn(
                GatewaySettings {
                    user_id: "bot".into(),
                    platform: 7,
                    ws_addr: "ws://127.0.0.1:9".into(),
                    compression: false,
                    timeout: Duration::from_secs(30),
                    token: Arc::new(|| Some("t".to_owned())),
                    tls: None,
                    push_queue_limit: usize::MAX,
                    push_queue_bytes: usize::MAX,
                },
                events_tx,
            );
            let r = gw.start_call::<_, GetMaxSeqResp>(req::GET_NEWEST_SEQ, &req_for(0));
            assert!(matches!(r, Err(ClientError::NotConnected)), "{r:?}");
            assert_eq!(gw.outstanding(), 0);
            gw.stop();
        });
    }

    /// A connection's shared state, never connected.
    fn offline_shared(user_id: &str) -> Shared {
        Shared {
            send_id_json: serde_json::to_string(user_id).unwrap(),
            incr_salt: 1,
            user_id: user_id.to_owned(),
            platform: 7,
            ws_addr: String::new(),
            compression: false,
            token: Arc::new(|| None),
            tls: None,
            writer: Mutex::new(None),
            pending: Mutex::new(HashMap::new()),
            counter: AtomicU64::new(0),
            timeout: Duration::from_secs(1),
            undecodable: AtomicU64::new(0),
            control: Mutex::new(None),
            decoded_waiting: AtomicUsize::new(0),
            decode_ahead: AtomicUsize::new(DECODE_AHEAD),
            spare_payloads: Mutex::new(Vec::new()),
            queued_pushes: AtomicUsize::new(0),
            push_queue_limit: AtomicUsize::new(usize::MAX),
            queued_bytes: AtomicUsize::new(0),
            push_queue_bytes: AtomicUsize::new(usize::MAX),
            dropped_pushes: AtomicU64::new(0),
            dropping: AtomicBool::new(false),
            drained: tokio::sync::Notify::new(),
            dropped_newest: Mutex::new(HashMap::new()),
        }
    }

    /// The protobuf payload of a push of one message (seq `i`, from `u<i>`).
    fn push_payload(i: i64) -> Vec<u8> {
        use openim_protocol::pb::sdkws::{MsgData, PullMsgs, PushMessages};
        let msg = MsgData {
            seq: i,
            send_id: format!("u{i}"),
            client_msg_id: format!("c{i}"),
            ..Default::default()
        };
        let pulled = PullMsgs {
            msgs: vec![msg],
            ..Default::default()
        };
        PushMessages {
            msgs: [(format!("si_bot_u{i}"), pulled)].into(),
            ..Default::default()
        }
        .encode_to_vec()
    }

    /// The gateway frame of [`push_payload`]`(i)`.
    fn push_frame(i: i64) -> WsMessage {
        frame_of_push(&push_payload(i))
    }

    /// The gateway frame (2001) of a push's protobuf `payload`.
    fn frame_of_push(payload: &[u8]) -> WsMessage {
        let json = format!(
            r#"{{"reqIdentifier":2001,"msgIncr":"","errCode":0,"errMsg":"","data":"{}"}}"#,
            base64::engine::general_purpose::STANDARD.encode(payload)
        );
        WsMessage::Binary(json.into_bytes().into())
    }

    /// A reader's frame handling over an offline connection, for the tests of its queue.
    struct TestReader {
        shared: Arc<Shared>,
        gw: GatewayHandle,
        events: mpsc::UnboundedSender<GatewayEvent>,
        rx: mpsc::UnboundedReceiver<GatewayEvent>,
        buffers: FrameBuffers,
    }

    impl TestReader {
        fn new(configure: impl FnOnce(&Shared)) -> TestReader {
            let shared = Arc::new(offline_shared("bot"));
            configure(&shared);
            let (events, rx) = mpsc::unbounded_channel();
            TestReader {
                gw: GatewayHandle {
                    shared: shared.clone(),
                },
                shared,
                events,
                rx,
                buffers: FrameBuffers::default(),
            }
        }

        /// Handles the push frames `from..to`, then describes what was queued: `push [seqs]`
        /// (decoded), `payload [seqs]` (decoded here, its buffer handed back), `dropped {...}`
        /// (a run's end).
        fn feed(&mut self, from: i64, to: i64) -> Vec<String> {
            for i in from..to {
                self.handle(push_frame(i));
            }
            let seqs = |p: &ReceivedBatch| {
                let seqs = p.msgs.iter().flat_map(|(_, m)| &m.msgs).map(|m| m.seq);
                seqs.collect::<Vec<_>>()
            };
            let mut got = Vec::new();
            while let Ok(ev) = self.rx.try_recv() {
                got.push(match ev {
                    GatewayEvent::Push(p) => {
                        let text = format!("push {:?}", seqs(&p));
                        received::recycle_boxed([p]);
                        text
                    }
                    GatewayEvent::PushBytes(bytes) => {
                        let p = self.gw.decode_push(bytes).expect("decodes");
                        let text = format!("payload {:?}", seqs(&p));
                        received::recycle_boxed([p]);
                        text
                    }
                    GatewayEvent::PushesDropped { newest } => {
                        let newest: std::collections::BTreeMap<_, _> = newest.into_iter().collect();
                        format!("dropped {newest:?}")
                    }
                    other => panic!("unexpected {other:?}"),
                });
            }
            got
        }

        /// Handles one frame, which must not end the connection.
        fn handle(&mut self, frame: WsMessage) {
            let handled = handle_frame(&self.shared, frame, &self.events, &mut self.buffers);
            assert!(handled.is_none());
        }

        /// The pushes queued and their bytes.
        fn queued(&self) -> (usize, usize) {
            self.gw.queued_pushes()
        }

        /// Whether the engine's taking woke the reader (since the last call).
        fn woken(&self) -> bool {
            use futures::FutureExt as _;
            self.shared.drained.notified().now_or_never().is_some()
        }
    }

    /// With the engine's queue full, pushes are dropped unread and counted until it has drained
    /// to half; the run then ends with one `PushesDropped`, after its last drop and before the
    /// next push queued, and the engine's taking wakes a dropping reader.
    #[test]
    fn pushes_are_dropped_from_a_full_queue_until_it_drains_to_half() {
        let mut r = TestReader::new(|shared| shared.push_queue_limit.store(4, Ordering::Relaxed));
        assert_eq!(
            r.feed(0, 6),
            ["push [0]", "push [1]", "push [2]", "push [3]"]
        );
        assert_eq!((r.gw.dropped_pushes(), r.queued().0), (2, 4));
        r.gw.pushes_taken(1, 0);
        assert!(!r.woken(), "3 queued: above half");
        assert_eq!(
            r.feed(6, 7),
            Vec::<String>::new(),
            "still dropping below the limit"
        );
        r.gw.pushes_taken(1, 0);
        assert!(r.woken(), "2 queued: the reader is woken");
        assert_eq!(
            r.feed(7, 8),
            [
                r#"dropped {"si_bot_u4": 4, "si_bot_u5": 5, "si_bot_u6": 6}"#,
                "push [7]"
            ],
            "the run ends before the push, with each conversation's newest dropped seq"
        );
        assert_eq!((r.gw.dropped_pushes(), r.queued().0), (3, 3));
        assert_eq!(r.feed(8, 10), ["push [8]"], "a new run at the limit");
        r.gw.pushes_taken(4, 0);
        assert!(r.woken());
        end_drop_run(&r.shared, &r.events);
        assert_eq!(r.feed(10, 11), [r#"dropped {"si_bot_u9": 9}"#, "push [10]"]);
        assert_eq!(r.feed(11, 12), ["push [11]"], "one report per run");
        assert_eq!(r.gw.dropped_pushes(), 4);
        assert_eq!(
            r.gw.undecodable_frames(),
            0,
            "dropped pushes are not errors"
        );
    }

    /// The queue's bytes bound it too: payloads past the decoded ones allowed to wait are
    /// dropped from the moment they hold the byte bound, with far fewer pushes than the push
    /// limit queued, until the engine has taken them down to half of it.
    #[test]
    fn pushes_are_dropped_from_a_queue_full_of_bytes_until_half_are_taken() {
        // Every push queued as its payload, each as long as the others (one-digit seqs), in a
        // buffer of the same capacity (what the queue counts).
        let mut buffer = Vec::new();
        let data = base64::engine::general_purpose::STANDARD.encode(push_payload(1));
        decode_data_into(Some(&data), &mut buffer).unwrap();
        let cap = buffer.capacity();
        let mut r = TestReader::new(|shared| {
            shared.decode_ahead.store(0, Ordering::Relaxed);
            shared.push_queue_bytes.store(4 * cap, Ordering::Relaxed);
        });
        assert_eq!(
            r.feed(1, 7),
            ["payload [1]", "payload [2]", "payload [3]", "payload [4]"]
        );
        assert_eq!(
            r.gw.dropped_pushes(),
            2,
            "4 pushes, far below the push limit"
        );
        assert_eq!(r.queued(), (4, 4 * cap));
        r.gw.pushes_taken(1, cap);
        assert!(!r.woken(), "3 payloads queued: above half the bytes");
        assert_eq!(r.feed(7, 8), Vec::<String>::new(), "still dropping");
        r.gw.pushes_taken(1, cap);
        assert!(r.woken(), "half the bytes: the reader is woken");
        assert_eq!(
            r.feed(8, 9),
            [
                r#"dropped {"si_bot_u5": 5, "si_bot_u6": 6, "si_bot_u7": 7}"#,
                "payload [8]"
            ]
        );
        assert_eq!((r.gw.dropped_pushes(), r.queued()), (3, (3, 3 * cap)));
        r.gw.pushes_taken(3, 3 * cap);
        assert_eq!(r.queued(), (0, 0), "every byte counted back");
    }

    /// A push larger than DECODE_AHEAD_MAX_PAYLOAD is queued as its payload, counted in bytes,
    /// though decoded pushes may still wait: pushes decoded ahead hold a bounded amount.
    #[test]
    fn large_pushes_are_queued_as_payloads_counted_in_bytes() {
        use openim_protocol::pb::sdkws::{MsgData, PullMsgs, PushMessages};
        let mut r = TestReader::new(|_| {});
        let large = PushMessages {
            msgs: [(
                "si_bot_u1".to_owned(),
                PullMsgs {
                    msgs: vec![MsgData {
                        seq: 1,
                        content: vec![b'x'; DECODE_AHEAD_MAX_PAYLOAD],
                        ..Default::default()
                    }],
                    ..Default::default()
                },
            )]
            .into(),
            ..Default::default()
        }
        .encode_to_vec();
        r.handle(push_frame(0));
        r.handle(frame_of_push(&large));
        match r.rx.try_recv() {
            Ok(GatewayEvent::Push(p)) => received::recycle_boxed([p]),
            other => panic!("the small push decoded ahead, got {other:?}"),
        }
        match r.rx.try_recv() {
            Ok(GatewayEvent::PushBytes(bytes)) => {
                assert_eq!(bytes, large);
                assert_eq!(
                    r.shared.queued_bytes.load(Ordering::Acquire),
                    bytes.capacity(),
                    "counted by what its buffer holds"
                );
            }
            other => panic!("the large push as its payload, got {other:?}"),
        }
        assert_eq!(r.shared.queued_pushes.load(Ordering::Acquire), 2);
    }

    /// Past the decoded pushes allowed to wait, the reader passes payloads, which the engine
    /// decodes into the same batches; pushes counted handled let the reader decode again; the
    /// payload buffers handed back carry later pushes; a malformed payload is counted as an
    /// undecodable frame.
    #[test]
    fn past_the_decoded_pushes_allowed_to_wait_payloads_are_passed_undecoded() {
        let wire = push_payload;
        let frame = push_frame;
        let shared = Arc::new(offline_shared("bot"));
        shared.decode_ahead.store(2, Ordering::Relaxed);
        let gw = GatewayHandle {
            shared: shared.clone(),
        };
        let (events, mut rx) = mpsc::unbounded_channel();
        let mut buffers = FrameBuffers::default();
        let mut next = |i: i64| {
            assert!(handle_frame(&shared, frame(i), &events, &mut buffers).is_none());
            rx.try_recv().expect("an event per push")
        };
        let decoded = |i: i64| ReceivedBatch::decode(wire(i).as_slice()).unwrap();
        let mut handed_back = Vec::new();
        let check = |i: i64, ev: GatewayEvent, waiting: bool, handed_back: &mut Vec<_>| match ev {
            GatewayEvent::Push(p) if !waiting => {
                assert_eq!(*p, decoded(i), "push {i}");
                received::recycle_boxed([p]);
            }
            GatewayEvent::PushBytes(bytes) if waiting => {
                assert_eq!(bytes, wire(i), "push {i}");
                let ptr = bytes.as_ptr();
                let p = gw.decode_push(bytes).expect("decodes");
                assert_eq!(*p, decoded(i), "push {i}");
                received::recycle_boxed([p]);
                handed_back.push(ptr);
            }
            other => panic!("push {i} (past the limit: {waiting}): {other:?}"),
        };
        for i in 0..2 {
            check(i, next(i), false, &mut handed_back);
        }
        for i in 2..4 {
            check(i, next(i), true, &mut handed_back);
        }
        // Still two waiting (not counted handled): the buffers handed back carry these.
        let (a, b) = (next(4), next(5));
        let reused = [&a, &b]
            .iter()
            .filter(
                |ev| matches!(ev, GatewayEvent::PushBytes(b) if handed_back.contains(&b.as_ptr())),
            )
            .count();
        assert!(reused >= 1, "a handed-back buffer is reused");
        check(4, a, true, &mut handed_back);
        check(5, b, true, &mut handed_back);
        gw.pushes_handled(2);
        check(6, next(6), false, &mut handed_back);
        assert_eq!(gw.undecodable_frames(), 0);
        assert!(gw.decode_push(vec![0xff]).is_none());
        assert_eq!(gw.undecodable_frames(), 1);
    }

    #[test]
    fn request_envelopes_are_valid_json_with_escaped_ids() {
        let user_id = "u\"\\\u{1}é".to_owned();
        let shared = offline_shared(&user_id);
        for len in [0usize, 1, 2, 3, 4, 100, 1000] {
            let msg = GetMaxSeqReq {
                user_id: "x".repeat(len),
            };
            let bytes = encode_request(&shared, 1001, "0000_1", "op", &msg);
            let v: Value = serde_json::from_slice(&bytes).expect("valid JSON");
            assert_eq!(v["reqIdentifier"], 1001);
            assert_eq!(v["sendID"], user_id.as_str());
            assert_eq!(v["operationID"], "op");
            assert_eq!(v["msgIncr"], "0000_1");
            let data = base64::engine::general_purpose::STANDARD
                .decode(v["data"].as_str().unwrap())
                .unwrap();
            assert_eq!(GetMaxSeqReq::decode(data.as_slice()).unwrap(), msg);
        }
    }

    #[test]
    fn escaped_strings_in_frames_still_decode() {
        let json = br#"{"reqIdentifier":1001,"msgIncr":"a\u0062","errCode":5,"errMsg":"x\ny","data":"CgJ1\/Q=="}"#;
        let mut plain = Vec::new();
        let r = decode_frame(json, &mut plain).unwrap();
        assert_eq!(r.msg_incr, "ab");
        assert_eq!(r.err_msg, "x\ny");
        assert_eq!(r.data.as_deref(), Some("CgJ1/Q=="));
    }

    #[test]
    fn unescaped_envelope_strings_are_borrowed_and_null_or_absent_data_is_none() {
        let json = br#"{"reqIdentifier":2001,"msgIncr":"m1","data":"CgJ1/Q=="}"#;
        let mut plain = Vec::new();
        let r = decode_frame(json, &mut plain).unwrap();
        assert!(
            matches!(r.data, Some(Cow::Borrowed("CgJ1/Q=="))),
            "{:?}",
            r.data
        );
        assert!(matches!(r.msg_incr, Cow::Borrowed("m1")));
        for json in [
            &br#"{"reqIdentifier":2001,"data":null}"#[..],
            br#"{"reqIdentifier":2001}"#,
        ] {
            assert!(decode_frame(json, &mut plain).unwrap().data.is_none());
        }
        assert!(decode_frame(br#"{"reqIdentifier":2001,"data":5}"#, &mut plain).is_err());
    }
}
