//! # openim-protocol — OpenIM v3.8 wire types
//!
//! Everything that travels between an OpenIM v3.8 client and server, as plain data types
//! with encoders and decoders, and nothing else (no I/O, no state). It is shared by the bot
//! framework (client side) and the sandbox server, which never share logic beyond these
//! types. Targets open-im-server v3.8.3 and the `@openim/client-sdk` 0.0.14 /
//! `@openim/protocol` 0.0.7 JavaScript client.
//!
//! | module | what |
//! |---|---|
//! | [`pb`] | protobuf messages of the WebSocket gateway and `/jssdk` routes (prost), also serde in the Go JSON shape |
//! | [`connect`] | the connect URL's query parameters: build (client), parse and validate per server version |
//! | [`envelope`] | JSON request/response envelopes of binary frames, gzip, connect-result and heartbeat text frames |
//! | [`constants`] | request identifiers, content/session types, platforms, statuses, option keys, group enums |
//! | [`error`] | every OpenIM error code ([`error::ErrorCode`]) and this crate's typed [`ProtocolError`] |
//! | [`conversation_id`] | `si_` / `sg_` / `sn_` / `n_` conversation IDs |
//! | [`content`] | typed message content ([`content::Content`]) parsed from `MsgData.content` |
//! | [`tips`] | notification tips, read and written exactly as the Go server double-encodes them |
//! | [`api`] | HTTP API request/response types and route table |
//!
//! Decoding never panics: malformed input gives a [`ProtocolError`] naming what failed;
//! unknown enum values, content types and notification types are preserved.
//!
//! ## Example: send a text message (1003) and read a push (2001)
//!
//! ```
//! use openim_protocol::constants::{ContentType, MsgFrom, MsgStatus, ReqIdentifier, SessionType};
//! use openim_protocol::content::Content;
//! use openim_protocol::envelope::{WsRequest, WsResponse};
//! use openim_protocol::pb::sdkws::{MsgData, PullMsgs, PushMessages, UserSendMsgResp};
//! use openim_protocol::{ProtocolError, conversation_id};
//!
//! # fn main() -> Result<(), ProtocolError> {
//! // Client: a text message from u1 to u2, sent as request 1003 in a binary frame.
//! let content = Content::text("hi");
//! let msg = MsgData {
//!     send_id: "u1".into(),
//!     recv_id: "u2".into(),
//!     client_msg_id: "0f3c0f3c0f3c0f3c0f3c0f3c0f3c0f3c".into(),
//!     sender_platform_id: 7,
//!     session_type: SessionType::Single.as_i32(),
//!     msg_from: MsgFrom::User.as_i32(),
//!     content_type: content.content_type().as_i32(),
//!     content: content.to_bytes(),
//!     create_time: 1_736_841_600_000,
//!     status: MsgStatus::Sending.as_i32(),
//!     ..Default::default()
//! };
//! let request = WsRequest::new(ReqIdentifier::SendMsg, "u1", "op-42", "u1_42", &msg);
//! let frame: Vec<u8> = request.encode_frame(false)?; // `true` when `compression=gzip`
//!
//! // Server: decode the request, answer it, and push the stored message to u2.
//! let received = WsRequest::decode_frame(&frame, false)?;
//! let mut stored: MsgData = received.payload()?;
//! stored.server_msg_id = "deadbeefdeadbeefdeadbeefdeadbeef".into();
//! stored.seq = 1;
//! stored.status = MsgStatus::SendSuccess.as_i32();
//! let reply = WsResponse::reply(&received, &UserSendMsgResp {
//!     server_msg_id: stored.server_msg_id.clone(),
//!     client_msg_id: stored.client_msg_id.clone(),
//!     send_time: 1_736_841_600_100,
//! });
//! assert_eq!(reply.msg_incr, "u1_42");
//! let conv = conversation_id::of_message(&stored).expect("known session type");
//! assert_eq!(conv, "si_u1_u2");
//! let mut push = PushMessages::default();
//! push.msgs.insert(conv, PullMsgs { msgs: vec![stored], ..Default::default() });
//! let push_frame = WsResponse::push(ReqIdentifier::PushMsg, &received.operation_id, &push)
//!     .encode_frame(false)?;
//!
//! // Client: decode the push and its content.
//! let frame = WsResponse::decode_frame(&push_frame, false)?;
//! assert_eq!(frame.req_identifier, ReqIdentifier::PushMsg);
//! let push: PushMessages = frame.payload()?;
//! for (conversation, pulled) in &push.msgs {
//!     for m in &pulled.msgs {
//!         let content = Content::from_msg(m)?;
//!         assert_eq!(content.content_type(), ContentType::Text);
//!         println!("{conversation} #{}: {}", m.seq, content.as_text().unwrap_or(""));
//!     }
//! }
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod lenient;
mod open_enum;

pub mod api;
pub mod connect;
pub mod constants;
pub mod content;
pub mod conversation_id;
pub mod envelope;
pub mod error;
pub mod pb;
mod shared_str;
pub mod tips;

pub use error::{ErrorCode, ProtocolError};
pub use shared_str::SharedStr;
