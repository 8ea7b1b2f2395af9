//! Gateway framing: the JSON request/response envelopes of binary frames (`sdkType=js`),
//! optional gzip, the `isMsgResp` connect-result text frame, and text heartbeats.
//!
//! ```
//! use openim_protocol::constants::ReqIdentifier;
//! use openim_protocol::envelope::{WsRequest, WsResponse};
//! use openim_protocol::pb::sdkws::{GetMaxSeqReq, GetMaxSeqResp};
//!
//! let req = WsRequest::new(ReqIdentifier::GetNewestSeq, "u1", "op-1", "u1_1",
//!     &GetMaxSeqReq { user_id: "u1".into() });
//! assert_eq!(
//!     String::from_utf8(req.to_json()).unwrap(),
//!     r#"{"reqIdentifier":1001,"token":"","sendID":"u1","operationID":"op-1","msgIncr":"u1_1","data":"CgJ1MQ=="}"#
//! );
//! let frame = req.encode_frame(true).unwrap();            // gzip'd binary frame
//! let back = WsRequest::decode_frame(&frame, true).unwrap();
//! assert_eq!(back.payload::<GetMaxSeqReq>().unwrap().user_id, "u1");
//!
//! let resp = WsResponse::reply(&back, &GetMaxSeqResp::default());
//! assert_eq!(resp.req_identifier, ReqIdentifier::GetNewestSeq);
//! assert_eq!(resp.msg_incr, "u1_1");
//! ```

use std::io::{Read, Write};

use prost::Message;
use serde::{Deserialize, Serialize};

use crate::constants::ReqIdentifier;
use crate::error::{ErrorCode, ProtocolError, decode_message};
use crate::pb::{msg, push, sdkws};

/// Largest accepted decompressed frame (protects against gzip bombs).
pub const MAX_DECOMPRESSED_FRAME_BYTES: usize = 64 * 1024 * 1024;

/// Request envelope, client -> server (ws-gateway §2.3). Keys: `reqIdentifier`, `token`,
/// `sendID`, `operationID`, `msgIncr`, `data` (padded standard base64 of the protobuf
/// request; `null`/absent = empty). `Debug` redacts `token`.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WsRequest {
    /// Operation code.
    #[serde(rename = "reqIdentifier")]
    pub req_identifier: ReqIdentifier,
    /// Ignored by the server (clients send empty or omit it).
    #[serde(rename = "token")]
    pub token: String,
    /// Must equal the connection's user ID.
    #[serde(rename = "sendID")]
    pub send_id: String,
    /// Trace ID, echoed back.
    #[serde(rename = "operationID")]
    pub operation_id: String,
    /// Correlation ID, echoed back; unique among in-flight requests.
    #[serde(rename = "msgIncr")]
    pub msg_incr: String,
    /// Protobuf request payload.
    #[serde(rename = "data", with = "crate::pb::json::base64_bytes")]
    pub data: Vec<u8>,
}

impl Default for ReqIdentifier {
    fn default() -> Self {
        ReqIdentifier::Other(0)
    }
}

impl std::fmt::Debug for WsRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsRequest")
            .field("req_identifier", &self.req_identifier)
            .field(
                "token",
                &if self.token.is_empty() {
                    ""
                } else {
                    "<redacted>"
                },
            )
            .field("send_id", &self.send_id)
            .field("operation_id", &self.operation_id)
            .field("msg_incr", &self.msg_incr)
            .field("data", &format_args!("<{} bytes>", self.data.len()))
            .finish()
    }
}

impl WsRequest {
    /// Builds a request with the protobuf-encoded `payload`.
    pub fn new(
        req_identifier: ReqIdentifier,
        send_id: impl Into<String>,
        operation_id: impl Into<String>,
        msg_incr: impl Into<String>,
        payload: &impl prost::Message,
    ) -> Self {
        WsRequest {
            req_identifier,
            token: String::new(),
            send_id: send_id.into(),
            operation_id: operation_id.into(),
            msg_incr: msg_incr.into(),
            data: payload.encode_to_vec(),
        }
    }

    /// The JSON text of the envelope (keys in Go struct order).
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising plain strings/numbers/bytes cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses the JSON text of an envelope (must be a JSON object).
    pub fn from_json(bytes: &[u8]) -> Result<Self, ProtocolError> {
        from_json_object(bytes, "request envelope")
    }

    /// Binary frame bytes: the JSON, gzip'd when `gzip` (connection negotiated `compression=gzip`).
    pub fn encode_frame(&self, gzip: bool) -> Result<Vec<u8>, ProtocolError> {
        let json = self.to_json();
        if gzip {
            gzip_compress(&json, "request envelope")
        } else {
            Ok(json)
        }
    }

    /// Parses a binary frame (gunzip first when `gzip`).
    pub fn decode_frame(frame: &[u8], gzip: bool) -> Result<Self, ProtocolError> {
        if gzip {
            Self::from_json(&gzip_decompress(frame, "request envelope")?)
        } else {
            Self::from_json(frame)
        }
    }

    /// Decodes `data` as the protobuf message `M`.
    pub fn payload<M: prost::Message + Default>(&self) -> Result<M, ProtocolError> {
        decode_message(&self.data)
    }
}

/// Response / push envelope, server -> client (ws-gateway §2.4). Keys, in order:
/// `reqIdentifier`, `msgIncr`, `operationID`, `errCode`, `errMsg`, `data`
/// (base64, or `null` when empty). There is no `errDlt` in envelopes.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WsResponse {
    /// Echo of the request's operation code, or 2001/2002/2005 for server-initiated frames.
    #[serde(rename = "reqIdentifier")]
    pub req_identifier: ReqIdentifier,
    /// Echo of the request's msgIncr; `""` for server-initiated frames.
    #[serde(rename = "msgIncr")]
    pub msg_incr: String,
    /// Echo of the request's operationID; for pushes, the operationID of the originating request.
    #[serde(rename = "operationID")]
    pub operation_id: String,
    /// 0 = success, else an [`ErrorCode`].
    #[serde(rename = "errCode")]
    pub err_code: i32,
    /// Short error name; `""` on success.
    #[serde(rename = "errMsg")]
    pub err_msg: String,
    /// Protobuf response payload (empty = none).
    #[serde(rename = "data", with = "crate::pb::json::base64_bytes")]
    pub data: Vec<u8>,
}

impl WsResponse {
    /// A successful reply to `request` carrying `payload`.
    pub fn reply(request: &WsRequest, payload: &impl prost::Message) -> Self {
        WsResponse {
            req_identifier: request.req_identifier,
            msg_incr: request.msg_incr.clone(),
            operation_id: request.operation_id.clone(),
            err_code: 0,
            err_msg: String::new(),
            data: payload.encode_to_vec(),
        }
    }

    /// A successful reply to `request` without payload (`data: null`, e.g. 2004).
    pub fn reply_empty(request: &WsRequest) -> Self {
        WsResponse {
            req_identifier: request.req_identifier,
            msg_incr: request.msg_incr.clone(),
            operation_id: request.operation_id.clone(),
            ..Default::default()
        }
    }

    /// An error reply to `request` (`data: null`); `err_msg` is usually
    /// [`ErrorCode::server_err_msg`].
    pub fn reply_error(request: &WsRequest, code: ErrorCode, err_msg: impl Into<String>) -> Self {
        WsResponse {
            req_identifier: request.req_identifier,
            msg_incr: request.msg_incr.clone(),
            operation_id: request.operation_id.clone(),
            err_code: code.as_i32(),
            err_msg: err_msg.into(),
            data: Vec::new(),
        }
    }

    /// A server-initiated frame (2001 push, 2005 status push): empty `msgIncr`.
    pub fn push(
        req_identifier: ReqIdentifier,
        operation_id: impl Into<String>,
        payload: &impl prost::Message,
    ) -> Self {
        WsResponse {
            req_identifier,
            operation_id: operation_id.into(),
            data: payload.encode_to_vec(),
            ..Default::default()
        }
    }

    /// The 2002 kick frame: everything empty, `data: null`.
    pub fn kick() -> Self {
        WsResponse {
            req_identifier: ReqIdentifier::KickOnlineMsg,
            ..Default::default()
        }
    }

    /// The error code as an [`ErrorCode`].
    pub fn error_code(&self) -> ErrorCode {
        ErrorCode::from_i32(self.err_code)
    }

    /// Whether `errCode` is 0.
    pub fn is_success(&self) -> bool {
        self.err_code == 0
    }

    /// The JSON text of the envelope.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses the JSON text of an envelope (must be a JSON object).
    pub fn from_json(bytes: &[u8]) -> Result<Self, ProtocolError> {
        from_json_object(bytes, "response envelope")
    }

    /// Binary frame bytes (gzip'd when `gzip`).
    pub fn encode_frame(&self, gzip: bool) -> Result<Vec<u8>, ProtocolError> {
        let json = self.to_json();
        if gzip {
            gzip_compress(&json, "response envelope")
        } else {
            Ok(json)
        }
    }

    /// Parses a binary frame (gunzip first when `gzip`).
    pub fn decode_frame(frame: &[u8], gzip: bool) -> Result<Self, ProtocolError> {
        if gzip {
            Self::from_json(&gzip_decompress(frame, "response envelope")?)
        } else {
            Self::from_json(frame)
        }
    }

    /// Decodes `data` as the protobuf message `M` (empty data = `M::default()`).
    pub fn payload<M: prost::Message + Default>(&self) -> Result<M, ProtocolError> {
        decode_message(&self.data)
    }
}

/// A request's `data` decoded by its `reqIdentifier` (ws-gateway §3.1).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
// Decoded once per frame and moved; boxing the large variants would only add allocations.
#[allow(clippy::large_enum_variant)]
pub enum RequestPayload {
    /// 1001 `GetMaxSeqReq`.
    GetNewestSeq(sdkws::GetMaxSeqReq),
    /// 1002 `PullMessageBySeqsReq`.
    PullMsgByRange(sdkws::PullMessageBySeqsReq),
    /// 1003 a bare `MsgData`.
    SendMsg(sdkws::MsgData),
    /// 1004 legacy signalling (payload ignored by the server).
    SendSignalMsg(Vec<u8>),
    /// 1005 `GetSeqMessageReq`.
    PullMsgBySeqList(msg::GetSeqMessageReq),
    /// 1006 `GetConversationsHasReadAndMaxSeqReq`.
    GetConvMaxReadSeq(msg::GetConversationsHasReadAndMaxSeqReq),
    /// 1007 `GetLastMessageReq`.
    PullConvLastMessage(msg::GetLastMessageReq),
    /// 2003 `DelUserPushTokenReq`.
    Logout(push::DelUserPushTokenReq),
    /// 2004 `SetAppBackgroundStatusReq`.
    SetBackgroundStatus(sdkws::SetAppBackgroundStatusReq),
    /// 2005 `SubUserOnlineStatus`.
    SubUserOnlineStatus(sdkws::SubUserOnlineStatus),
    /// Any other reqIdentifier (the server closes the connection on these).
    Unknown {
        /// The reqIdentifier.
        req_identifier: ReqIdentifier,
        /// The raw payload.
        data: Vec<u8>,
    },
}

impl RequestPayload {
    /// Decodes `request.data` according to `request.req_identifier`.
    pub fn decode(request: &WsRequest) -> Result<RequestPayload, ProtocolError> {
        let data = &request.data;
        Ok(match request.req_identifier {
            ReqIdentifier::GetNewestSeq => Self::GetNewestSeq(decode_message(data)?),
            ReqIdentifier::PullMsgByRange => Self::PullMsgByRange(decode_message(data)?),
            ReqIdentifier::SendMsg => Self::SendMsg(decode_message(data)?),
            ReqIdentifier::SendSignalMsg => Self::SendSignalMsg(data.clone()),
            ReqIdentifier::PullMsgBySeqList => Self::PullMsgBySeqList(decode_message(data)?),
            ReqIdentifier::GetConvMaxReadSeq => Self::GetConvMaxReadSeq(decode_message(data)?),
            ReqIdentifier::PullConvLastMessage => Self::PullConvLastMessage(decode_message(data)?),
            ReqIdentifier::LogoutMsg => Self::Logout(decode_message(data)?),
            ReqIdentifier::SetBackgroundStatus => Self::SetBackgroundStatus(decode_message(data)?),
            ReqIdentifier::SubUserOnlineStatus => Self::SubUserOnlineStatus(decode_message(data)?),
            other => Self::Unknown {
                req_identifier: other,
                data: data.clone(),
            },
        })
    }

    /// The reqIdentifier this payload is sent with.
    pub fn req_identifier(&self) -> ReqIdentifier {
        match self {
            Self::GetNewestSeq(_) => ReqIdentifier::GetNewestSeq,
            Self::PullMsgByRange(_) => ReqIdentifier::PullMsgByRange,
            Self::SendMsg(_) => ReqIdentifier::SendMsg,
            Self::SendSignalMsg(_) => ReqIdentifier::SendSignalMsg,
            Self::PullMsgBySeqList(_) => ReqIdentifier::PullMsgBySeqList,
            Self::GetConvMaxReadSeq(_) => ReqIdentifier::GetConvMaxReadSeq,
            Self::PullConvLastMessage(_) => ReqIdentifier::PullConvLastMessage,
            Self::Logout(_) => ReqIdentifier::LogoutMsg,
            Self::SetBackgroundStatus(_) => ReqIdentifier::SetBackgroundStatus,
            Self::SubUserOnlineStatus(_) => ReqIdentifier::SubUserOnlineStatus,
            Self::Unknown { req_identifier, .. } => *req_identifier,
        }
    }

    /// The protobuf bytes for `WsRequest.data`.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::GetNewestSeq(m) => m.encode_to_vec(),
            Self::PullMsgByRange(m) => m.encode_to_vec(),
            Self::SendMsg(m) => m.encode_to_vec(),
            Self::SendSignalMsg(d) => d.clone(),
            Self::PullMsgBySeqList(m) => m.encode_to_vec(),
            Self::GetConvMaxReadSeq(m) => m.encode_to_vec(),
            Self::PullConvLastMessage(m) => m.encode_to_vec(),
            Self::Logout(m) => m.encode_to_vec(),
            Self::SetBackgroundStatus(m) => m.encode_to_vec(),
            Self::SubUserOnlineStatus(m) => m.encode_to_vec(),
            Self::Unknown { data, .. } => data.clone(),
        }
    }
}

/// A response's or push's `data` decoded by its `reqIdentifier`, as the JS SDK chooses
/// decoders (CLIENT-SURFACE §4.4). Decode only successful frames (`errCode == 0`); error
/// replies carry no payload.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)]
pub enum ResponsePayload {
    /// 1001 `GetMaxSeqResp`.
    GetNewestSeq(sdkws::GetMaxSeqResp),
    /// 1002 `PullMessageBySeqsResp`.
    PullMsgByRange(sdkws::PullMessageBySeqsResp),
    /// 1003 `SendMsgResp` (clients read it as `UserSendMsgResp`; `modify` is filled by server main only).
    SendMsg(msg::SendMsgResp),
    /// 1005 `GetSeqMessageResp`.
    PullMsgBySeqList(msg::GetSeqMessageResp),
    /// 1006 `GetConversationsHasReadAndMaxSeqResp`.
    GetConvMaxReadSeq(msg::GetConversationsHasReadAndMaxSeqResp),
    /// 1007 `GetLastMessageResp`.
    PullConvLastMessage(msg::GetLastMessageResp),
    /// 2001 push of one new message.
    PushMsg(sdkws::PushMessages),
    /// 2002 kicked offline (no payload).
    KickOnline,
    /// 2003 logout reply (empty).
    Logout,
    /// 2004 background-status reply (no payload).
    SetBackgroundStatus,
    /// 2005 online status (reply, or unsolicited push when `msgIncr` is empty).
    SubUserOnlineStatus(sdkws::SubUserOnlineStatusTips),
    /// Any other reqIdentifier.
    Unknown {
        /// The reqIdentifier.
        req_identifier: ReqIdentifier,
        /// The raw payload.
        data: Vec<u8>,
    },
}

impl ResponsePayload {
    /// Decodes `response.data` according to `response.req_identifier`.
    pub fn decode(response: &WsResponse) -> Result<ResponsePayload, ProtocolError> {
        let data = &response.data;
        Ok(match response.req_identifier {
            ReqIdentifier::GetNewestSeq => Self::GetNewestSeq(decode_message(data)?),
            ReqIdentifier::PullMsgByRange => Self::PullMsgByRange(decode_message(data)?),
            ReqIdentifier::SendMsg => Self::SendMsg(decode_message(data)?),
            ReqIdentifier::PullMsgBySeqList => Self::PullMsgBySeqList(decode_message(data)?),
            ReqIdentifier::GetConvMaxReadSeq => Self::GetConvMaxReadSeq(decode_message(data)?),
            ReqIdentifier::PullConvLastMessage => Self::PullConvLastMessage(decode_message(data)?),
            ReqIdentifier::PushMsg => Self::PushMsg(decode_message(data)?),
            ReqIdentifier::KickOnlineMsg => Self::KickOnline,
            ReqIdentifier::LogoutMsg => Self::Logout,
            ReqIdentifier::SetBackgroundStatus => Self::SetBackgroundStatus,
            ReqIdentifier::SubUserOnlineStatus => Self::SubUserOnlineStatus(decode_message(data)?),
            other => Self::Unknown {
                req_identifier: other,
                data: data.clone(),
            },
        })
    }
}

/// Deserialises a JSON object (serde would also accept the array form of a struct, which
/// Go rejects).
fn from_json_object<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    what: &'static str,
) -> Result<T, ProtocolError> {
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        return Err(ProtocolError::Json {
            what,
            source: <serde_json::Error as serde::de::Error>::custom("expected a JSON object"),
        });
    }
    serde_json::from_slice(bytes).map_err(|source| ProtocolError::Json { what, source })
}

/// gzip-compresses `bytes` (RFC 1952 member, default level).
pub fn gzip_compress(bytes: &[u8], what: &'static str) -> Result<Vec<u8>, ProtocolError> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes)
        .and_then(|()| enc.finish())
        .map_err(|source| ProtocolError::Gzip {
            operation: "compression",
            what,
            source,
        })
}

/// gunzips `bytes`, refusing output larger than [`MAX_DECOMPRESSED_FRAME_BYTES`].
pub fn gzip_decompress(bytes: &[u8], what: &'static str) -> Result<Vec<u8>, ProtocolError> {
    let limit = MAX_DECOMPRESSED_FRAME_BYTES;
    let mut out = Vec::new();
    let mut reader = flate2::read::GzDecoder::new(bytes).take(limit as u64 + 1);
    reader
        .read_to_end(&mut out)
        .map_err(|source| ProtocolError::Gzip {
            operation: "decompression",
            what,
            source,
        })?;
    if out.len() > limit {
        return Err(ProtocolError::TooLarge {
            what: "decompressed frame",
            limit,
        });
    }
    Ok(out)
}

/// The `isMsgResp` connect result, sent by the server as the first **text** frame (and the
/// body of HTTP-200 connect errors): `{"errCode":0,"errMsg":"","errDlt":""}`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectResult {
    /// 0 = connected; else an [`ErrorCode`] (1501..=1507 are fatal).
    #[serde(rename = "errCode")]
    pub err_code: i32,
    /// Short error name.
    #[serde(rename = "errMsg")]
    pub err_msg: String,
    /// Error detail (may be empty).
    #[serde(rename = "errDlt")]
    pub err_dlt: String,
}

impl ConnectResult {
    /// The success frame.
    pub fn success() -> Self {
        Self::default()
    }

    /// A failure with the server's errMsg for `code`.
    pub fn failure(code: ErrorCode, err_dlt: impl Into<String>) -> Self {
        ConnectResult {
            err_code: code.as_i32(),
            err_msg: code.server_err_msg().to_string(),
            err_dlt: err_dlt.into(),
        }
    }

    /// The error code.
    pub fn error_code(&self) -> ErrorCode {
        ErrorCode::from_i32(self.err_code)
    }

    /// JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses the JSON text (must be a JSON object).
    pub fn from_json(text: &str) -> Result<Self, ProtocolError> {
        from_json_object(text.as_bytes(), "connect result")
    }
}

/// A text heartbeat `{"type":"ping"|"pong","body":...}` (ws-gateway §2.7).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Heartbeat {
    /// `{"type":"ping"}` with an optional body.
    Ping {
        /// The `body` value (raw JSON), if any.
        body: Option<serde_json::Value>,
    },
    /// `{"type":"pong","body":...}`.
    Pong {
        /// The echoed `body` (`None` = `null`).
        body: Option<serde_json::Value>,
    },
}

#[derive(Serialize, Deserialize)]
struct HeartbeatJson {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<serde_json::Value>,
}

impl Heartbeat {
    /// The JS SDK's ping text: `{"type":"ping"}`.
    pub const PING_TEXT: &'static str = r#"{"type":"ping"}"#;

    /// The pong answering this ping (`body` echoed, `null` if absent); `None` for a pong.
    pub fn pong_for(&self) -> Option<Heartbeat> {
        match self {
            Heartbeat::Ping { body } => Some(Heartbeat::Pong { body: body.clone() }),
            Heartbeat::Pong { .. } => None,
        }
    }

    /// JSON text. A pong always carries `body` (`null` when absent), as the Go server writes it.
    pub fn to_text(&self) -> String {
        let json = match self {
            Heartbeat::Ping { body } => HeartbeatJson {
                kind: "ping".into(),
                body: body.clone(),
            },
            Heartbeat::Pong { body } => {
                return format!(
                    r#"{{"type":"pong","body":{}}}"#,
                    body.as_ref()
                        .map(|b| serde_json::to_string(b).unwrap_or_else(|_| "null".into()))
                        .unwrap_or_else(|| "null".into())
                );
            }
        };
        serde_json::to_string(&json).unwrap_or_default()
    }

    /// Parses a heartbeat text frame; any other `type` is an error (the server closes the
    /// connection on it).
    pub fn from_text(text: &str) -> Result<Heartbeat, ProtocolError> {
        let json: HeartbeatJson =
            serde_json::from_str(text).map_err(|source| ProtocolError::Json {
                what: "heartbeat text frame",
                source,
            })?;
        let body = json.body.filter(|b| !b.is_null());
        match json.kind.as_str() {
            "ping" => Ok(Heartbeat::Ping { body }),
            "pong" => Ok(Heartbeat::Pong { body }),
            other => Err(ProtocolError::UnexpectedTextFrame {
                reason: format!("unknown heartbeat type {other:?}"),
            }),
        }
    }
}

/// A text frame as seen by a client: the connect result or a heartbeat.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ServerTextFrame {
    /// The `isMsgResp` connect result.
    ConnectResult(ConnectResult),
    /// A heartbeat (normally a pong).
    Heartbeat(Heartbeat),
}

impl ServerTextFrame {
    /// Classifies a text frame received by a client.
    pub fn parse(text: &str) -> Result<ServerTextFrame, ProtocolError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|source| ProtocolError::Json {
                what: "text frame",
                source,
            })?;
        let Some(obj) = value.as_object() else {
            return Err(ProtocolError::UnexpectedTextFrame {
                reason: "not a JSON object".into(),
            });
        };
        if obj.contains_key("type") {
            Heartbeat::from_text(text).map(ServerTextFrame::Heartbeat)
        } else if obj.contains_key("errCode") {
            ConnectResult::from_json(text).map(ServerTextFrame::ConnectResult)
        } else {
            Err(ProtocolError::UnexpectedTextFrame {
                reason: "neither a heartbeat nor a connect result".into(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb::msg::GetConversationsHasReadAndMaxSeqReq;

    #[test]
    fn request_json_matches_the_spec_example() {
        let req = WsRequest::from_json(
            br#"{"reqIdentifier":1001,"sendID":"u1","operationID":"op-1","msgIncr":"u1_1","data":"CgJ1MQ=="}"#,
        )
        .unwrap();
        assert_eq!(req.req_identifier, ReqIdentifier::GetNewestSeq);
        assert_eq!(req.data, [0x0A, 0x02, b'u', b'1']);
        assert_eq!(req.token, "");
    }

    #[test]
    fn null_and_missing_data_are_empty() {
        for text in [
            r#"{"reqIdentifier":2004,"msgIncr":"1","operationID":"o","errCode":0,"errMsg":"","data":null}"#,
            r#"{"reqIdentifier":2004,"msgIncr":"1","operationID":"o","errCode":0,"errMsg":""}"#,
        ] {
            let resp = WsResponse::from_json(text.as_bytes()).unwrap();
            assert!(resp.data.is_empty());
            assert!(resp.is_success());
        }
        let kick = WsResponse::kick();
        assert_eq!(
            String::from_utf8(kick.to_json()).unwrap(),
            r#"{"reqIdentifier":2002,"msgIncr":"","operationID":"","errCode":0,"errMsg":"","data":null}"#
        );
    }

    #[test]
    fn response_key_order_and_error_reply() {
        let req = WsRequest::new(
            ReqIdentifier::GetConvMaxReadSeq,
            "u1",
            "op",
            "m1",
            &GetConversationsHasReadAndMaxSeqReq::default(),
        );
        let resp = WsResponse::reply_error(
            &req,
            ErrorCode::NoPermissionError,
            ErrorCode::NoPermissionError.server_err_msg(),
        );
        assert_eq!(
            String::from_utf8(resp.to_json()).unwrap(),
            r#"{"reqIdentifier":1006,"msgIncr":"m1","operationID":"op","errCode":1002,"errMsg":"NoPermissionError","data":null}"#
        );
        assert_eq!(resp.error_code(), ErrorCode::NoPermissionError);
    }

    #[test]
    fn strict_base64_like_go() {
        // Unpadded and URL-safe base64 are rejected by Go's decoder, and by ours.
        for bad in [r#""CgJ1MQ""#, r#""-_-_""#, r#""%%%""#, "5"] {
            let text = format!(r#"{{"reqIdentifier":1001,"data":{bad}}}"#);
            let err = WsRequest::from_json(text.as_bytes()).unwrap_err();
            assert!(
                matches!(
                    err,
                    ProtocolError::Json {
                        what: "request envelope",
                        ..
                    }
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn wrongly_typed_json_is_a_typed_error() {
        for bad in [
            &br#"{"reqIdentifier":"1001"}"#[..],
            br#"{"reqIdentifier":1001.5}"#,
            br#"[]"#,
            b"",
            b"\xff\xfe",
        ] {
            assert!(WsRequest::from_json(bad).is_err());
            assert!(WsResponse::from_json(bad).is_err());
        }
    }

    #[test]
    fn gzip_round_trip_and_garbage() {
        let resp = WsResponse::push(
            ReqIdentifier::PushMsg,
            "op-send-7",
            &GetConversationsHasReadAndMaxSeqReq {
                user_id: "u".into(),
                ..Default::default()
            },
        );
        let frame = resp.encode_frame(true).unwrap();
        assert_eq!(&frame[..2], &[0x1f, 0x8b]);
        assert_eq!(WsResponse::decode_frame(&frame, true).unwrap(), resp);
        let err = WsResponse::decode_frame(b"not gzip", true).unwrap_err();
        assert!(matches!(
            err,
            ProtocolError::Gzip {
                operation: "decompression",
                ..
            }
        ));
        let truncated = &frame[..frame.len() - 4];
        assert!(WsResponse::decode_frame(truncated, true).is_err());
    }

    #[test]
    fn payload_decode_errors_name_the_message() {
        let resp = WsResponse {
            data: vec![0x0A, 0x05, b'a'],
            ..Default::default()
        };
        match resp.payload::<crate::pb::sdkws::GetMaxSeqResp>() {
            Err(ProtocolError::Protobuf { message, .. }) => assert_eq!(message, "GetMaxSeqResp"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn debug_redacts_the_token() {
        let req = WsRequest {
            token: "eyJhbGciOiJIUzI1NiJ9.secret".into(),
            ..Default::default()
        };
        let text = format!("{req:?}");
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("<redacted>"));
    }

    #[test]
    fn typed_payloads() {
        let msg = sdkws::MsgData {
            send_id: "u1".into(),
            content_type: 101,
            ..Default::default()
        };
        let req = WsRequest::new(ReqIdentifier::SendMsg, "u1", "o", "m", &msg);
        let payload = RequestPayload::decode(&req).unwrap();
        assert_eq!(payload, RequestPayload::SendMsg(msg.clone()));
        assert_eq!(payload.req_identifier(), ReqIdentifier::SendMsg);
        assert_eq!(payload.encode(), req.data);
        let odd = WsRequest {
            req_identifier: ReqIdentifier::from_i32(4242),
            data: vec![1, 2],
            ..Default::default()
        };
        assert_eq!(
            RequestPayload::decode(&odd).unwrap(),
            RequestPayload::Unknown {
                req_identifier: ReqIdentifier::Other(4242),
                data: vec![1, 2]
            }
        );
        let bad = WsRequest {
            req_identifier: ReqIdentifier::GetNewestSeq,
            data: vec![0x0A, 0x09],
            ..Default::default()
        };
        assert!(matches!(
            RequestPayload::decode(&bad),
            Err(ProtocolError::Protobuf {
                message: "GetMaxSeqReq",
                ..
            })
        ));

        let resp = WsResponse::reply(
            &req,
            &sdkws::UserSendMsgResp {
                server_msg_id: "s".into(),
                client_msg_id: "c".into(),
                send_time: 5,
            },
        );
        match ResponsePayload::decode(&resp).unwrap() {
            ResponsePayload::SendMsg(r) => {
                assert_eq!((r.server_msg_id.as_str(), r.send_time), ("s", 5))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            ResponsePayload::decode(&WsResponse::kick()).unwrap(),
            ResponsePayload::KickOnline
        );
        let push = WsResponse::push(ReqIdentifier::PushMsg, "o", &sdkws::PushMessages::default());
        assert_eq!(
            ResponsePayload::decode(&push).unwrap(),
            ResponsePayload::PushMsg(sdkws::PushMessages::default())
        );
    }

    #[test]
    fn heartbeats() {
        let ping = Heartbeat::from_text(Heartbeat::PING_TEXT).unwrap();
        assert_eq!(ping, Heartbeat::Ping { body: None });
        assert_eq!(
            ping.pong_for().unwrap().to_text(),
            r#"{"type":"pong","body":null}"#
        );
        let ping = Heartbeat::from_text(r#"{"type":"ping","body":"op-1"}"#).unwrap();
        assert_eq!(
            ping.pong_for().unwrap().to_text(),
            r#"{"type":"pong","body":"op-1"}"#
        );
        assert!(matches!(
            Heartbeat::from_text(r#"{"type":"hello"}"#),
            Err(ProtocolError::UnexpectedTextFrame { .. })
        ));
        assert!(Heartbeat::from_text("{").is_err());
    }

    #[test]
    fn connect_result_frames() {
        assert_eq!(
            ConnectResult::success().to_json(),
            r#"{"errCode":0,"errMsg":"","errDlt":""}"#
        );
        let fail = ConnectResult::failure(ErrorCode::ConnArgsErr, "token is empty");
        assert_eq!(fail.err_msg, "args err, need token, sendID, platformID");
        match ServerTextFrame::parse(&fail.to_json()).unwrap() {
            ServerTextFrame::ConnectResult(c) => assert_eq!(c.error_code(), ErrorCode::ConnArgsErr),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            ServerTextFrame::parse(r#"{"type":"pong","body":null}"#).unwrap(),
            ServerTextFrame::Heartbeat(Heartbeat::Pong { body: None })
        ));
        assert!(ServerTextFrame::parse("WS CONN Success").is_err());
        assert!(ServerTextFrame::parse("[]").is_err());
        assert!(ServerTextFrame::parse("{}").is_err());
        assert!(ConnectResult::from_json("[]").is_err());
        assert!(ConnectResult::from_json(r#"{"errCode":"0"}"#).is_err());
    }
}
