//! The response envelope `{errCode, errMsg, errDlt, data}` (http-api.md §1.4) and its error type.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::serde_util::null_default;
use crate::error::ErrorCode;

/// Request header names (http-api.md §1.3).
pub mod headers {
    /// Trace ID header, required on every `POST` (missing → errCode 1001).
    pub const OPERATION_ID: &str = "operationID";
    /// Token header (raw JWT, no `Bearer`), required on every `POST` except
    /// `/auth/get_admin_token` and `/auth/parse_token`.
    pub const TOKEN: &str = "token";
    /// Informational header sent by the JS client; ignored by the server.
    pub const REQ_FUNC_NAME: &str = "reqFuncName";
    /// Optional base-URL override for object upload replies.
    pub const X_REQUEST_API: &str = "X-Request-Api";
}

/// The envelope of every HTTP API reply: HTTP 200 with `errCode` 0 on success, the error otherwise.
///
/// `data` is `None` when the server omitted it (reply types without fields, e.g. `user_register`)
/// or sent `null` (a nil list reply such as `get_users_online_status` with nobody asked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(
    serialize = "T: Serialize + ApiReply",
    deserialize = "T: Deserialize<'de>"
))]
pub struct ApiResponse<T> {
    /// 0 on success, otherwise an OpenIM error code (http-api.md §9). Required when decoding.
    #[serde(rename = "errCode")]
    pub err_code: i32,
    /// Short error name (e.g. `ArgsError`), `""` on success.
    #[serde(rename = "errMsg", default, deserialize_with = "null_default")]
    pub err_msg: String,
    /// Free-form error detail; not stable, log only.
    #[serde(rename = "errDlt", default, deserialize_with = "null_default")]
    pub err_dlt: String,
    /// The reply; omitted from the JSON when `None`, written as `null` when it is an empty list
    /// (a Go nil slice).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_data"
    )]
    pub data: Option<T>,
}

fn serialize_data<T, S>(data: &Option<T>, serializer: S) -> Result<S::Ok, S::Error>
where
    T: Serialize + ApiReply,
    S: Serializer,
{
    match data {
        Some(value) if !value.is_null_in_envelope() => value.serialize(serializer),
        _ => serializer.serialize_none(),
    }
}

impl<T: ApiReply> ApiResponse<T> {
    /// A success envelope as the Go server writes it: `data` is omitted for field-less replies
    /// ([`Empty`]), otherwise present.
    pub fn ok(data: T) -> Self {
        let data = if data.omit_from_envelope() {
            None
        } else {
            Some(data)
        };
        Self {
            err_code: 0,
            err_msg: String::new(),
            err_dlt: String::new(),
            data,
        }
    }
}

impl<T> ApiResponse<T> {
    /// An error envelope (no `data`). `code` must be non-zero.
    pub fn error(code: i32, msg: impl Into<String>, dlt: impl Into<String>) -> Self {
        Self {
            err_code: code,
            err_msg: msg.into(),
            err_dlt: dlt.into(),
            data: None,
        }
    }

    /// An error envelope from an [`ApiError`].
    pub fn from_error(error: ApiError) -> Self {
        Self::error(error.code, error.msg, error.dlt)
    }

    /// True when `errCode` is 0.
    pub fn is_success(&self) -> bool {
        self.err_code == 0
    }

    /// `Ok(data)` when `errCode` is 0 (an absent or `null` `data` becomes `T::default()`, which is
    /// how clients must treat nil replies), otherwise `Err` with the code, name and detail.
    pub fn into_result(self) -> Result<T, ApiError>
    where
        T: Default,
    {
        if self.err_code == 0 {
            Ok(self.data.unwrap_or_default())
        } else {
            Err(ApiError {
                code: self.err_code,
                msg: self.err_msg,
                dlt: self.err_dlt,
            })
        }
    }
}

/// A non-zero `errCode` reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ApiError {
    /// The OpenIM error code (http-api.md §9), e.g. 1001 ArgsError, 1004 RecordNotFoundError.
    pub code: i32,
    /// `errMsg`: usually the code's name, sometimes a webhook- or JWT-supplied message.
    pub msg: String,
    /// `errDlt`: free-form detail, not stable.
    pub dlt: String,
}

impl ApiError {
    /// Builds an error from its parts.
    pub fn new(code: i32, msg: impl Into<String>, dlt: impl Into<String>) -> Self {
        Self {
            code,
            msg: msg.into(),
            dlt: dlt.into(),
        }
    }

    /// The code as a typed [`ErrorCode`] (unknown codes kept as `ErrorCode::Other`).
    pub fn error_code(&self) -> ErrorCode {
        ErrorCode::from_i32(self.code)
    }

    /// The upstream name of the code (e.g. `RecordNotFoundError`), `None` for unknown codes.
    pub fn name(&self) -> Option<&'static str> {
        self.error_code().name()
    }

    /// True for the token errors that mean "log in again" (1501 expired … 1507 not exist).
    pub fn is_token_error(&self) -> bool {
        (1501..=1507).contains(&self.code)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OpenIM API error {}", self.code)?;
        if let Some(name) = self.name().filter(|name| *name != self.msg) {
            write!(f, " ({name})")?;
        }
        if !self.msg.is_empty() {
            write!(f, " {}", self.msg)?;
        }
        if !self.dlt.is_empty() {
            write!(f, ": {}", self.dlt)?;
        }
        Ok(())
    }
}

/// Reply payload types: how the Go server writes them as the envelope's `data`.
pub trait ApiReply {
    /// True for replies without fields, whose `data` key the server leaves out.
    fn omit_from_envelope(&self) -> bool {
        false
    }

    /// True when the server writes this reply as `data: null` (an empty list reply).
    fn is_null_in_envelope(&self) -> bool {
        false
    }
}

impl<T> ApiReply for Vec<T> {
    fn is_null_in_envelope(&self) -> bool {
        self.is_empty()
    }
}

impl ApiReply for serde_json::Value {}

/// The empty body: `{}` in requests without fields, and the reply of routes that return no data
/// (the envelope then has no `data` key). Decodes from `{…}` (keys ignored) or `null`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Empty;

impl ApiReply for Empty {
    fn omit_from_envelope(&self) -> bool {
        true
    }
}

impl Serialize for Empty {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        serializer.serialize_map(Some(0))?.end()
    }
}

impl<'de> Deserialize<'de> for Empty {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<std::collections::BTreeMap<String, serde::de::IgnoredAny>>::deserialize(
            deserializer,
        )?;
        Ok(Empty)
    }
}

impl super::serde_util::GoNil for Empty {}

/// Decodes a request body the way the Go server does (`encoding/json.Unmarshal` into the request
/// struct): the body must be one JSON value; `null` means "all fields zero"; unknown keys are
/// ignored. An empty body is an error (`unexpected end of JSON input` upstream, errCode 1001).
pub fn decode_body<T>(body: &[u8]) -> Result<T, serde_json::Error>
where
    T: serde::de::DeserializeOwned + Default,
{
    Ok(serde_json::from_slice::<Option<T>>(body)?.unwrap_or_default())
}
