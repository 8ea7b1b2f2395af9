//! `/auth/...`: tokens (http-api.md §2).
//!
//! Tokens and the admin secret are redacted in `Debug` output.

use std::fmt;

use super::Empty;
use super::route::api_routes;
use super::serde_util::json_struct;

const REDACTED: &str = "<redacted>";

json_struct! { @request, secret;
    /// `/auth/get_admin_token` request.
    pub struct GetAdminTokenReq {
        /// The server's shared secret (`share.yml secret`).
        pub secret: String,
        /// An app administrator's userID (e.g. `imAdmin`).
        #[serde(rename = "userID")]
        pub user_id: String,
    }
}

impl fmt::Debug for GetAdminTokenReq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetAdminTokenReq")
            .field("secret", &REDACTED)
            .field("user_id", &self.user_id)
            .finish()
    }
}

json_struct! { @request;
    /// `/auth/get_user_token` request (admin token).
    pub struct GetUserTokenReq {
        /// Platform the token is for (1..11, not 10 Admin).
        #[serde(rename = "platformID")]
        pub platform_id: i32,
        /// The user.
        #[serde(rename = "userID")]
        pub user_id: String,
    }
}

json_struct! { @reply, secret;
    /// Reply of `get_admin_token` and `get_user_token`.
    pub struct UserTokenResp {
        /// The JWT.
        pub token: String,
        /// Token **lifetime** in seconds (not an absolute time).
        pub expire_time_seconds: i64,
    }
}

impl fmt::Debug for UserTokenResp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserTokenResp")
            .field("token", &REDACTED)
            .field("expire_time_seconds", &self.expire_time_seconds)
            .finish()
    }
}

json_struct! { @request, secret;
    /// `/auth/parse_token` request.
    pub struct ParseTokenReq {
        /// The JWT to inspect.
        pub token: String,
    }
}

impl fmt::Debug for ParseTokenReq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParseTokenReq")
            .field("token", &REDACTED)
            .finish()
    }
}

json_struct! { @reply;
    /// `/auth/parse_token` reply.
    pub struct ParseTokenResp {
        /// The token's user.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// The token's platform.
        #[serde(rename = "platformID")]
        pub platform_id: i32,
        /// **Absolute** expiry, Unix seconds.
        pub expire_time_seconds: i64,
    }
}

json_struct! { @request;
    /// `/auth/force_logout` request.
    pub struct ForceLogoutReq {
        /// Platform to log out (1..10).
        #[serde(rename = "platformID")]
        pub platform_id: i32,
        /// The user.
        #[serde(rename = "userID")]
        pub user_id: String,
    }
}

api_routes! {
    /// Admin token from the shared secret (platform 10, no `token` header needed).
    GetAdminToken {
        path: GET_ADMIN_TOKEN = "/auth/get_admin_token",
        access: Public,
        req: GetAdminTokenReq,
        resp: UserTokenResp,
    }
    /// Issues a user token; kicks older tokens of that user on that platform.
    GetUserToken {
        path: GET_USER_TOKEN = "/auth/get_user_token",
        access: Admin,
        req: GetUserTokenReq,
        resp: UserTokenResp,
    }
    /// Decodes and validates a token (no `token` header needed).
    ParseToken {
        path: PARSE_TOKEN = "/auth/parse_token",
        access: Public,
        req: ParseTokenReq,
        resp: ParseTokenResp,
    }
    /// Kicks a user's connections on one platform and invalidates its tokens.
    ForceLogout {
        path: FORCE_LOGOUT = "/auth/force_logout",
        access: Admin,
        req: ForceLogoutReq,
        resp: Empty,
    }
}
