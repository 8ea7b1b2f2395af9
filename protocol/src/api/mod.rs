//! OpenIM v3.8 HTTP API (port 10002): JSON bodies, the response envelope and the route table.
//!
//! Types only, no I/O: the bot framework's HTTP client and the sandbox server share them.
//!
//! * [`ApiResponse`] is the `{errCode, errMsg, errDlt, data}` envelope every route answers with
//!   (HTTP 200 even on errors); [`ApiResponse::into_result`] turns it into `Result<T, ApiError>`.
//! * One module per route family ([`auth`], [`user`], [`friend`], [`group`], [`msg`],
//!   [`conversation`], [`third`], [`jssdk`]) holds the request/response structs and one marker type
//!   per route implementing [`ApiRoute`]; [`routes`] lists them all with their access rule.
//! * Shared object schemas (http-api.md §3) live in [`common`]; [`webhook`] has the callback bodies.
//!
//! JSON follows the Go server (`encoding/json` on the protobuf structs, http-api.md §1.5): proto field
//! names verbatim, every field written, 64-bit integers as numbers, wrapper types (`StringValue` …)
//! as bare values or `null` (`Option<T>` here). Decoding treats an absent key and `null` as the zero
//! value, ignores unknown keys, accepts only JSON objects for structs, and matches keys like Go: exact
//! name first, otherwise case-insensitively (`UserID` reads as `userID`; a key given twice in different
//! cases is an error here, where Go keeps the last). Reply types write empty lists and maps as `null`
//! (the server shape); request types write `[]`. The capitalised keys of the wire (`FriendRequests`,
//! `Msgs`, `IsPinned` …) are written as the server writes them.
//!
//! ```
//! use openim_protocol::api::{ApiResponse, ApiRoute, user::{GetUsersInfo, GetUsersInfoReq}};
//!
//! let req = GetUsersInfoReq { user_ids: vec!["alice".into()] };
//! assert_eq!(serde_json::to_string(&req).unwrap(), r#"{"userIDs":["alice"]}"#);
//! assert_eq!(GetUsersInfo::PATH, "/user/get_users_info");
//!
//! let body = r#"{"errCode":0,"errMsg":"","errDlt":"","data":{"usersInfo":[{"userID":"alice",
//!     "nickname":"Alice","faceURL":"","ex":"","createTime":1700000000000,"appMangerLevel":0,
//!     "globalRecvMsgOpt":0}]}}"#;
//! let resp: ApiResponse<<GetUsersInfo as ApiRoute>::Resp> = serde_json::from_str(body).unwrap();
//! let data = resp.into_result().unwrap();
//! assert_eq!(data.users_info[0].nickname, "Alice");
//! ```
//!
//! Server side: look the route up, decode the body with the Go rules, answer with the envelope.
//!
//! ```
//! use openim_protocol::api::{self, Access, ApiResponse, Empty, routes, user::UserRegisterReq};
//!
//! let route = routes::find("/user/user_register").unwrap();
//! assert_eq!(route.access, Access::Admin);
//! let req: UserRegisterReq =
//!     api::decode_body(br#"{"users":[{"userID":"bot_1","nickname":"Bot"}]}"#).unwrap();
//! assert_eq!(req.users[0].user_id, "bot_1");
//! // field-less replies carry no `data` key, like the Go server
//! let body = serde_json::to_string(&ApiResponse::ok(Empty)).unwrap();
//! assert_eq!(body, r#"{"errCode":0,"errMsg":"","errDlt":""}"#);
//! let denied: ApiResponse<Empty> = ApiResponse::error(1002, "NoPermissionError", "not admin");
//! assert_eq!(denied.into_result().unwrap_err().name(), Some("NoPermissionError"));
//! ```
#![warn(missing_docs)]

pub(crate) mod serde_util;

mod convert;
mod envelope;
mod route;
mod typed;

pub mod auth;
pub mod common;
pub mod conversation;
pub mod friend;
pub mod group;
pub mod jssdk;
pub mod msg;
pub mod routes;
pub mod third;
pub mod user;
pub mod webhook;

pub use envelope::{ApiError, ApiReply, ApiResponse, Empty, decode_body, headers};
pub use route::{Access, ApiRoute, Availability, RouteInfo};

#[cfg(test)]
mod tests;
