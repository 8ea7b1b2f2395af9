//! Typed client of the OpenIM HTTP API (`apiAddr`, default port 10002).
//!
//! Every call is a `POST` with a JSON body, an `operationID` header (fresh per call) and the
//! `token` header; answers are `{errCode, errMsg, errDlt, data}` envelopes. A non-zero `errCode`
//! becomes [`ApiError::Server`] carrying the OpenIM code and its name.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Errors of the HTTP API client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The server answered with a non-zero `errCode`.
    #[error("{route}: OpenIM error {code} {name} ({detail})")]
    Server {
        /// Route called.
        route: String,
        /// OpenIM error code.
        code: i32,
        /// Error name (`errMsg`).
        name: String,
        /// Detail (`errDlt`).
        detail: String,
    },
    /// Transport failure (connect, timeout, HTTP status).
    #[error("{route}: HTTP transport error: {source}")]
    Transport {
        /// Route called.
        route: String,
        /// Cause.
        source: reqwest::Error,
    },
    /// The answer is not the expected JSON.
    #[error("{route}: undecodable answer: {source}")]
    Decode {
        /// Route called.
        route: String,
        /// Cause.
        source: serde_json::Error,
    },
    /// No token is available yet.
    #[error("{route}: no token")]
    NoToken {
        /// Route called.
        route: String,
    },
}

impl ApiError {
    /// The OpenIM error code, if the server answered with one.
    pub fn code(&self) -> Option<i32> {
        match self {
            ApiError::Server { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// True for the token errors 1501–1507.
    pub fn is_token_error(&self) -> bool {
        matches!(self.code(), Some(1501..=1507))
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "errCode", default)]
    err_code: i32,
    #[serde(rename = "errMsg", default)]
    err_msg: String,
    #[serde(rename = "errDlt", default)]
    err_dlt: String,
    #[serde(default)]
    data: Option<serde_json::Value>,
}

/// A fresh operationID (unique per call).
pub fn operation_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Typed HTTP API client; cheap to clone (shares the connection pool and the token).
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: Arc<str>,
    token: Arc<RwLock<Option<String>>>,
}

impl fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiClient")
            .field("base", &self.base)
            .field("token", &self.token.read().as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl ApiClient {
    /// A client for `api_addr` (e.g. `http://127.0.0.1:10002`), without a token yet.
    pub fn new(api_addr: &str) -> ApiClient {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        ApiClient {
            http,
            base: Arc::from(api_addr.trim_end_matches('/')),
            token: Arc::new(RwLock::new(None)),
        }
    }

    /// Sets the token used for the `token` header.
    pub fn set_token(&self, token: impl Into<String>) {
        *self.token.write() = Some(token.into());
    }

    /// The current token (for the gateway).
    pub fn token(&self) -> Option<String> {
        self.token.read().clone()
    }

    /// Calls `route` with `req`, returning `data` decoded as `T` (`null`/absent data decodes
    /// from `{}` or `null`).
    pub async fn call<Req: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        route: &str,
        req: &Req,
    ) -> Result<T, ApiError> {
        let token = self.token();
        self.call_with(route, req, token.as_deref()).await
    }

    async fn call_with<Req: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        route: &str,
        req: &Req,
        token: Option<&str>,
    ) -> Result<T, ApiError> {
        let url = format!("{}{}", self.base, route);
        let mut builder = self
            .http
            .post(url)
            .header("operationID", operation_id())
            .json(req);
        if let Some(token) = token {
            builder = builder.header("token", token);
        }
        let transport = |source| ApiError::Transport {
            route: route.into(),
            source,
        };
        let response = builder.send().await.map_err(transport)?;
        let bytes = response.bytes().await.map_err(transport)?;
        let decode = |source| ApiError::Decode {
            route: route.into(),
            source,
        };
        let envelope: Envelope = serde_json::from_slice(&bytes).map_err(decode)?;
        if envelope.err_code != 0 {
            return Err(ApiError::Server {
                route: route.into(),
                code: envelope.err_code,
                name: envelope.err_msg,
                detail: envelope.err_dlt,
            });
        }
        let data = match envelope.data {
            None | Some(serde_json::Value::Null) => serde_json::Value::Object(Default::default()),
            Some(v) => v,
        };
        serde_json::from_value(data).map_err(decode)
    }

    /// `/auth/get_admin_token`: an admin token from the secret (no token header).
    pub async fn get_admin_token(
        &self,
        secret: &str,
        admin_user_id: &str,
    ) -> Result<String, ApiError> {
        #[derive(Deserialize)]
        struct Resp {
            #[serde(default)]
            token: String,
        }
        let resp: Resp = self
            .call_with(
                "/auth/get_admin_token",
                &serde_json::json!({"secret": secret, "userID": admin_user_id}),
                None,
            )
            .await?;
        Ok(resp.token)
    }

    /// `/auth/get_user_token` (admin token required): a user token for `user_id` on `platform`.
    pub async fn get_user_token(
        &self,
        admin_token: &str,
        user_id: &str,
        platform: i32,
    ) -> Result<String, ApiError> {
        #[derive(Deserialize)]
        struct Resp {
            #[serde(default)]
            token: String,
        }
        let resp: Resp = self
            .call_with(
                "/auth/get_user_token",
                &serde_json::json!({"userID": user_id, "platformID": platform}),
                Some(admin_token),
            )
            .await?;
        Ok(resp.token)
    }
}

impl ApiClient {
    /// `/group/get_group_members_info`: selected members of a group.
    pub async fn get_group_members_info(
        &self,
        group_id: &str,
        user_ids: &[&str],
    ) -> Result<Vec<crate::model::GroupMember>, ApiError> {
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct Resp {
            members: Option<Vec<crate::model::GroupMember>>,
        }
        let resp: Resp = self
            .call(
                "/group/get_group_members_info",
                &serde_json::json!({"groupID": group_id, "userIDs": user_ids}),
            )
            .await?;
        Ok(resp.members.unwrap_or_default())
    }
}
