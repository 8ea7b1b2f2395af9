//! The WebSocket gateway connection (internal): `sdkType=js` JSON envelopes, gzip, heartbeats,
//! request/response matching by `msgIncr` with timeouts, reconnect with exponential backoff and
//! jitter. Kicks and token errors stop the dial loop until the engine decides.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use futures::{SinkExt, StreamExt};
use parking_lot::Mutex;
use prost::Message as _;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};

use crate::client::ClientError;
use openim_protocol::pb::sdkws::PushMessages;

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
/// Max time to wait for the `isMsgResp` connect answer.
const CONNECT_ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WsReq<'a> {
    req_identifier: i32,
    token: &'a str,
    #[serde(rename = "sendID")]
    send_id: &'a str,
    #[serde(rename = "operationID")]
    operation_id: &'a str,
    msg_incr: &'a str,
    data: String,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct WsResp {
    #[serde(default)]
    req_identifier: i32,
    #[serde(default)]
    msg_incr: String,
    #[serde(default)]
    err_code: i32,
    #[serde(default)]
    err_msg: String,
    #[serde(default)]
    data: Option<String>,
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
    Push(Box<PushMessages>),
    /// Kicked (2002 frame, or 1506 at connect). The loop has stopped.
    Kicked {
        by_frame: bool,
    },
    /// Token rejected at connect (1501–1505, 1507). The loop waits for `resume()` or `stop()`.
    TokenError {
        code: i32,
        msg: String,
    },
}

type Pending = oneshot::Sender<Result<Vec<u8>, (i32, String)>>;

struct Shared {
    user_id: String,
    platform: i32,
    ws_addr: String,
    compression: bool,
    token: Arc<dyn Fn() -> Option<String> + Send + Sync>,
    tls: Option<Arc<rustls::ClientConfig>>,
    writer: Mutex<Option<mpsc::UnboundedSender<WsMessage>>>,
    pending: Mutex<HashMap<String, Pending>>,
    counter: AtomicU64,
    timeout: Duration,
    undecodable: AtomicU64,
    control: Mutex<Option<mpsc::UnboundedSender<Control>>>,
}

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
        let shared = Arc::new(Shared {
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
        });
        tokio::spawn(dial_loop(shared.clone(), events, control_rx));
        GatewayHandle { shared }
    }

    /// Number of frames that could not be decoded so far.
    pub(crate) fn undecodable_frames(&self) -> u64 {
        self.shared.undecodable.load(Ordering::Relaxed)
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

    /// Sends a request and waits for the response with the same msgIncr.
    pub(crate) async fn request<M: prost::Message>(
        &self,
        req_identifier: i32,
        msg: &M,
    ) -> Result<Vec<u8>, ClientError> {
        let shared = &self.shared;
        let n = shared.counter.fetch_add(1, Ordering::Relaxed);
        let msg_incr = format!("{}_{}_{}", shared.user_id, n, rand::random::<u32>());
        let operation_id = crate::api::operation_id();
        let envelope = WsReq {
            req_identifier,
            token: "",
            send_id: &shared.user_id,
            operation_id: &operation_id,
            msg_incr: &msg_incr,
            data: base64::engine::general_purpose::STANDARD.encode(msg.encode_to_vec()),
        };
        let json = serde_json::to_vec(&envelope).map_err(|e| ClientError::Gateway {
            req_identifier,
            code: NETWORK_ERROR,
            message: format!("encode: {e}"),
        })?;
        let frame = if shared.compression {
            gzip(&json).map_err(|e| ClientError::Gateway {
                req_identifier,
                code: NETWORK_ERROR,
                message: format!("gzip: {e}"),
            })?
        } else {
            json
        };
        let (tx, rx) = oneshot::channel();
        shared.pending.lock().insert(msg_incr.clone(), tx);
        let sent = match shared.writer.lock().as_ref() {
            Some(w) => w.send(WsMessage::Binary(frame.into())).is_ok(),
            None => false,
        };
        if !sent {
            shared.pending.lock().remove(&msg_incr);
            return Err(ClientError::NotConnected);
        }
        match tokio::time::timeout(shared.timeout, rx).await {
            Ok(Ok(Ok(data))) => Ok(data),
            Ok(Ok(Err((code, message)))) => Err(ClientError::Gateway {
                req_identifier,
                code,
                message,
            }),
            Ok(Err(_)) => Err(ClientError::Gateway {
                req_identifier,
                code: NETWORK_ERROR,
                message: "connection closed before the response".into(),
            }),
            Err(_) => {
                shared.pending.lock().remove(&msg_incr);
                Err(ClientError::Gateway {
                    req_identifier,
                    code: NETWORK_TIMEOUT,
                    message: format!("no response within {:?}", shared.timeout),
                })
            }
        }
    }

    /// Sends a request and decodes the response.
    pub(crate) async fn call<M: prost::Message, R: prost::Message + Default>(
        &self,
        req_identifier: i32,
        msg: &M,
    ) -> Result<R, ClientError> {
        let bytes = self.request(req_identifier, msg).await?;
        R::decode(bytes.as_slice()).map_err(|e| ClientError::Gateway {
            req_identifier,
            code: NETWORK_ERROR,
            message: format!("undecodable response: {e}"),
        })
    }
}

fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data)?;
    enc.finish()
}

fn gunzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .take(64 * 1024 * 1024)
        .read_to_end(&mut out)?;
    Ok(out)
}

/// Decodes one binary frame (gzip if it starts with the gzip magic) into an envelope.
fn decode_frame(bytes: &[u8]) -> Result<WsResp, String> {
    let plain;
    let json = if bytes.starts_with(&[0x1f, 0x8b]) {
        plain = gunzip(bytes).map_err(|e| format!("gzip: {e}"))?;
        &plain[..]
    } else {
        bytes
    };
    serde_json::from_slice(json).map_err(|e| format!("json: {e}"))
}

fn decode_data(data: &Option<String>) -> Result<Vec<u8>, String> {
    match data.as_deref() {
        None | Some("") => Ok(Vec::new()),
        Some(s) => base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(|e| format!("base64: {e}")),
    }
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

async fn dial(shared: &Shared) -> Result<(Ws, Vec<WsMessage>), DialError> {
    let Some(token) = (shared.token)() else {
        return Err(DialError::Refused {
            code: 1507,
            msg: "no token".into(),
        });
    };
    let url = connect_url(shared, &token);
    let connecting = match &shared.tls {
        Some(tls) => {
            tokio_tungstenite::connect_async_tls_with_config(
                url.as_str(),
                None,
                false,
                Some(tokio_tungstenite::Connector::Rustls(tls.clone())),
            )
            .await
        }
        None => tokio_tungstenite::connect_async(url.as_str()).await,
    };
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
                tracing::warn!(code, %msg, ?wait, "gateway connect failed");
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
    let (mut sink, mut stream) = ws.split();
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<WsMessage>();
    *shared.writer.lock() = Some(out_tx.clone());
    let writer = tokio::spawn(async move {
        while let Some(m) = out_rx.recv().await {
            let close = matches!(m, WsMessage::Close(_));
            if sink.send(m).await.is_err() || close {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let _ = events.send(GatewayEvent::Connected { reconnect });
    for m in early {
        if let Some(end) = handle_frame(shared, m, events) {
            return finish(shared, writer, end).await;
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
                    if let Some(end) = handle_frame(shared, m, events) {
                        break end;
                    }
                }
            },
            _ = ping.tick() => {
                if last_seen.elapsed() > READ_DEADLINE {
                    tracing::info!("gateway silent too long, reconnecting");
                    break ConnectionEnd::Lost;
                }
                let _ = out_tx.send(WsMessage::Ping(crate::api::operation_id().into_bytes().into()));
            }
            c = control.recv() => match c {
                Some(Control::Stop) | None => break ConnectionEnd::Stopped,
                Some(Control::Reconnect) => break ConnectionEnd::Lost,
                Some(Control::Resume) => {}
            },
        }
    };
    finish(shared, writer, end).await
}

async fn finish(
    shared: &Arc<Shared>,
    writer: tokio::task::JoinHandle<()>,
    end: ConnectionEnd,
) -> ConnectionEnd {
    if let Some(w) = shared.writer.lock().take() {
        let _ = w.send(WsMessage::Close(None));
    }
    // Fail every request still waiting on this connection.
    let pending: Vec<_> = shared.pending.lock().drain().collect();
    for (_, tx) in pending {
        let _ = tx.send(Err((NETWORK_ERROR, "connection closed".into())));
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    end
}

/// Handles one frame; returns Some when the connection must end.
fn handle_frame(
    shared: &Arc<Shared>,
    m: WsMessage,
    events: &mpsc::UnboundedSender<GatewayEvent>,
) -> Option<ConnectionEnd> {
    match m {
        WsMessage::Binary(bytes) => {
            let resp = match decode_frame(&bytes) {
                Ok(r) => r,
                Err(e) => {
                    let n = shared.undecodable.fetch_add(1, Ordering::Relaxed) + 1;
                    tracing::warn!(error = %e, count = n, "undecodable gateway frame ignored");
                    return None;
                }
            };
            match resp.req_identifier {
                req::PUSH => {
                    let push = decode_data(&resp.data).and_then(|d| {
                        PushMessages::decode(d.as_slice()).map_err(|e| e.to_string())
                    });
                    match push {
                        Ok(p) => {
                            let _ = events.send(GatewayEvent::Push(Box::new(p)));
                        }
                        Err(e) => {
                            let n = shared.undecodable.fetch_add(1, Ordering::Relaxed) + 1;
                            tracing::warn!(error = %e, count = n, "undecodable push ignored");
                        }
                    }
                    None
                }
                req::KICK => Some(ConnectionEnd::Kicked),
                _ => {
                    let Some(tx) = shared.pending.lock().remove(&resp.msg_incr) else {
                        if resp.req_identifier != req::SUB_ONLINE_STATUS {
                            tracing::debug!(
                                req = resp.req_identifier,
                                "response without a waiting request"
                            );
                        }
                        return None;
                    };
                    let result = if resp.err_code != 0 {
                        Err((resp.err_code, resp.err_msg))
                    } else {
                        decode_data(&resp.data).map_err(|e| (NETWORK_ERROR, e))
                    };
                    let _ = tx.send(result);
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
        let r = decode_frame(json).unwrap();
        assert_eq!(r.req_identifier, 1001);
        assert_eq!(decode_data(&r.data).unwrap(), vec![0x0a, 2, b'u', b'1']);
        let r = decode_frame(&gzip(json).unwrap()).unwrap();
        assert_eq!(r.msg_incr, "a");
        assert!(decode_frame(b"\x1f\x8bxx").is_err());
        assert!(decode_frame(b"{").is_err());
        assert!(decode_data(&Some("!!".into())).is_err());
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
    fn urlencodes_tokens() {
        assert_eq!(urlencode("a b+c"), "a%20b%2Bc");
    }
}
