//! Typed client of the OpenIM HTTP API (`apiAddr`, default port 10002).
//!
//! Every call is a `POST` with a JSON body, an `operationID` header (fresh per call) and the
//! `token` header; answers are `{errCode, errMsg, errDlt, data}` envelopes. A non-zero `errCode`
//! becomes [`ApiError::Server`] carrying the OpenIM code and its name.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use openim_protocol::api::{ApiResponse, friend, group, msg, routes};
use parking_lot::RwLock;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::model::{
    Blacklisted, Friend, FriendApplication, GroupApplication, GroupInfo, GroupMember, UserInfo,
};

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
    #[error("{route}: HTTP transport error: {}", error_chain(.source))]
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
    /// The answer body is larger than [`MAX_RESPONSE_BYTES`]; reading stopped at the limit.
    #[error("{route}: answer body larger than {limit} bytes, refused")]
    TooLarge {
        /// Route called.
        route: String,
        /// The limit in bytes.
        limit: usize,
    },
}

/// Largest HTTP answer body the client reads (32 MiB): a hostile or broken server cannot make
/// it buffer more. OpenIM answers are far smaller (a page of 1,000 group members is < 1 MiB).
pub const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// Reads an answer body chunk by chunk, refusing it as soon as it exceeds `limit` bytes
/// (a declared `Content-Length` over the limit is refused before reading anything).
async fn read_body_limited(
    mut response: reqwest::Response,
    route: &str,
    limit: usize,
) -> Result<Vec<u8>, ApiError> {
    let too_large = || ApiError::TooLarge {
        route: route.into(),
        limit,
    };
    let declared = response.content_length().unwrap_or(0);
    if declared > limit as u64 {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(declared as usize);
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|source| ApiError::Transport {
            route: route.into(),
            source,
        })?
    {
        if body.len() + chunk.len() > limit {
            tracing::warn!(route, limit, "HTTP answer over the size limit refused");
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `error: cause: cause…` (reqwest hides TLS and connect causes in its source chain).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = c.source();
    }
    out
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

/// A fresh operationID (unique per call).
pub fn operation_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Timeout of one HTTP API call when none is set with [`ApiClient::with_timeout`].
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Typed HTTP API client; cheap to clone (shares the connection pool and the token).
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: Arc<str>,
    token: Arc<RwLock<Option<String>>>,
    timeout: Duration,
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
        Self::with_root_ca(api_addr, None)
    }

    /// Like [`ApiClient::new`], also trusting the PEM root CA `ca_pem` (if given and valid).
    pub fn with_root_ca(api_addr: &str, ca_pem: Option<&[u8]>) -> ApiClient {
        let mut builder = reqwest::Client::builder();
        if let Some(pem) = ca_pem {
            match reqwest::Certificate::from_pem(pem) {
                Ok(cert) => builder = builder.add_root_certificate(cert),
                Err(e) => tracing::warn!(error = %e, "TLS root CA ignored by the API client"),
            }
        }
        let http = builder.build().unwrap_or_else(|_| reqwest::Client::new());
        ApiClient {
            http,
            base: Arc::from(api_addr.trim_end_matches('/')),
            token: Arc::new(RwLock::new(None)),
            timeout: DEFAULT_HTTP_TIMEOUT,
        }
    }

    /// The same client with `timeout` for every call (connect to end of body); the default is
    /// [`DEFAULT_HTTP_TIMEOUT`]. A session sets its `request_timeout_ms` here, so a stalled
    /// server fails HTTP calls as fast as gateway requests.
    pub fn with_timeout(mut self, timeout: Duration) -> ApiClient {
        self.timeout = timeout;
        self
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
            .timeout(self.timeout)
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
        let bytes = read_body_limited(response, route, MAX_RESPONSE_BYTES).await?;
        let decode = |source| ApiError::Decode {
            route: route.into(),
            source,
        };
        let envelope: ApiResponse<serde_json::Value> =
            serde_json::from_slice(&bytes).map_err(decode)?;
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
        let req = openim_protocol::api::auth::GetAdminTokenReq {
            secret: secret.to_owned(),
            user_id: admin_user_id.to_owned(),
        };
        let resp: openim_protocol::api::auth::UserTokenResp = self
            .call_with(openim_protocol::api::routes::GET_ADMIN_TOKEN, &req, None)
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
        let req = openim_protocol::api::auth::GetUserTokenReq {
            platform_id: platform,
            user_id: user_id.to_owned(),
        };
        let resp: openim_protocol::api::auth::UserTokenResp = self
            .call_with(
                openim_protocol::api::routes::GET_USER_TOKEN,
                &req,
                Some(admin_token),
            )
            .await?;
        Ok(resp.token)
    }
}

// ---- conversions from the protocol's HTTP schemas (openim_protocol::api) ----

use openim_protocol::api::common as wire;

impl From<wire::FriendInfo> for Friend {
    fn from(w: wire::FriendInfo) -> Friend {
        let u = w.friend_user.unwrap_or_default();
        Friend {
            owner_user_id: w.owner_user_id,
            user_id: u.user_id,
            remark: w.remark,
            create_time: w.create_time,
            add_source: w.add_source,
            operator_user_id: w.operator_user_id,
            nickname: u.nickname,
            face_url: u.face_url,
            ex: w.ex,
            is_pinned: w.is_pinned,
        }
    }
}

impl From<wire::BlackInfo> for Blacklisted {
    fn from(w: wire::BlackInfo) -> Blacklisted {
        let u = w.black_user_info.unwrap_or_default();
        Blacklisted {
            owner_user_id: w.owner_user_id,
            user_id: u.user_id,
            nickname: u.nickname,
            face_url: u.face_url,
            create_time: w.create_time,
            add_source: w.add_source,
            operator_user_id: w.operator_user_id,
            ex: w.ex,
        }
    }
}

impl From<wire::FriendRequest> for FriendApplication {
    fn from(w: wire::FriendRequest) -> FriendApplication {
        FriendApplication {
            from_user_id: w.from_user_id,
            from_nickname: w.from_nickname,
            from_face_url: w.from_face_url,
            to_user_id: w.to_user_id,
            to_nickname: w.to_nickname,
            to_face_url: w.to_face_url,
            handle_result: w.handle_result,
            req_msg: w.req_msg,
            create_time: w.create_time,
            handler_user_id: w.handler_user_id,
            handle_msg: w.handle_msg,
            handle_time: w.handle_time,
            ex: w.ex,
        }
    }
}

impl From<wire::GroupInfo> for GroupInfo {
    fn from(w: wire::GroupInfo) -> GroupInfo {
        GroupInfo {
            group_id: w.group_id,
            group_name: w.group_name,
            notification: w.notification,
            introduction: w.introduction,
            face_url: w.face_url,
            create_time: w.create_time,
            status: w.status,
            creator_user_id: w.creator_user_id,
            group_type: w.group_type,
            owner_user_id: w.owner_user_id,
            member_count: i64::from(w.member_count),
            ex: w.ex,
            need_verification: w.need_verification,
            look_member_info: w.look_member_info,
            apply_member_friend: w.apply_member_friend,
            notification_update_time: w.notification_update_time,
            notification_user_id: w.notification_user_id,
        }
    }
}

impl From<wire::GroupMemberFullInfo> for GroupMember {
    fn from(w: wire::GroupMemberFullInfo) -> GroupMember {
        GroupMember {
            group_id: w.group_id,
            user_id: w.user_id,
            nickname: w.nickname,
            face_url: w.face_url,
            role_level: w.role_level,
            join_time: w.join_time,
            join_source: w.join_source,
            inviter_user_id: w.inviter_user_id,
            mute_end_time: w.mute_end_time,
            operator_user_id: w.operator_user_id,
            ex: w.ex,
        }
    }
}

impl From<wire::UserInfo> for UserInfo {
    fn from(w: wire::UserInfo) -> UserInfo {
        UserInfo {
            user_id: w.user_id,
            nickname: w.nickname,
            face_url: w.face_url,
            create_time: w.create_time,
            ex: w.ex,
            global_recv_msg_opt: w.global_recv_msg_opt,
        }
    }
}

impl From<wire::GroupRequest> for GroupApplication {
    fn from(w: wire::GroupRequest) -> GroupApplication {
        let u = w.user_info.unwrap_or_default();
        let g = w.group_info.unwrap_or_default();
        GroupApplication {
            group_id: g.group_id,
            group_name: g.group_name,
            group_face_url: g.face_url,
            owner_user_id: g.owner_user_id,
            member_count: i64::from(g.member_count),
            user_id: u.user_id,
            nickname: u.nickname,
            user_face_url: u.face_url,
            handle_result: w.handle_result,
            req_msg: w.req_msg,
            handled_msg: w.handle_msg,
            req_time: w.req_time,
            handle_user_id: w.handle_user_id,
            handled_time: w.handle_time,
            ex: w.ex,
            join_source: w.join_source,
            inviter_user_id: w.inviter_user_id,
        }
    }
}

/// Converts the protobuf tips form of a group request into the framework's type.
impl From<openim_protocol::pb::sdkws::GroupRequest> for GroupApplication {
    fn from(r: openim_protocol::pb::sdkws::GroupRequest) -> GroupApplication {
        let v = serde_json::to_value(&r).unwrap_or_default();
        serde_json::from_value::<wire::GroupRequest>(v)
            .unwrap_or_default()
            .into()
    }
}

/// Decodes a list of protocol schema items and converts them.
fn convert<W, T: From<W>>(items: Vec<W>) -> Vec<T> {
    items.into_iter().map(T::from).collect()
}

/// Page size for list routes.
const PAGE: i32 = 100;

impl ApiClient {
    /// Fetches every page of a paginated list route; `key` is the list's JSON key.
    async fn all_pages<Req: Serialize, T: DeserializeOwned>(
        &self,
        route: &str,
        make: impl Fn(Option<wire::Pagination>) -> Req,
        key: &str,
    ) -> Result<Vec<T>, ApiError> {
        let mut out = Vec::new();
        for n in 1..=10_000 {
            let body = make(Some(wire::Pagination {
                page_number: n,
                show_number: PAGE,
            }));
            let mut data: serde_json::Map<String, serde_json::Value> =
                self.call(route, &body).await?;
            let list = match data.remove(key) {
                Some(serde_json::Value::Array(items)) => items,
                _ => Vec::new(),
            };
            let len = list.len();
            for item in list {
                out.push(
                    serde_json::from_value(item).map_err(|source| ApiError::Decode {
                        route: route.into(),
                        source,
                    })?,
                );
            }
            if len < PAGE as usize {
                break;
            }
        }
        Ok(out)
    }

    // ---- user ----

    /// `/user/get_users_info`.
    pub async fn get_users_info(&self, user_ids: &[&str]) -> Result<Vec<UserInfo>, ApiError> {
        let r: openim_protocol::api::user::GetUsersInfoResp = self
            .call(
                routes::GET_USERS_INFO,
                &openim_protocol::api::user::GetUsersInfoReq {
                    user_ids: user_ids.iter().map(|u| u.to_string()).collect(),
                },
            )
            .await?;
        Ok(convert(r.users_info))
    }

    /// `/user/update_user_info_ex`: changes the nickname and/or avatar of `user_id`.
    pub async fn update_user_info(
        &self,
        user_id: &str,
        nickname: Option<&str>,
        face_url: Option<&str>,
    ) -> Result<(), ApiError> {
        let req = openim_protocol::api::user::UpdateUserInfoExReq {
            user_info: Some(wire::UserInfoWithEx {
                user_id: user_id.into(),
                nickname: nickname.map(str::to_owned),
                face_url: face_url.map(str::to_owned),
                ex: None,
                global_recv_msg_opt: None,
            }),
        };
        self.call::<_, serde_json::Value>(routes::UPDATE_USER_INFO_EX, &req)
            .await
            .map(|_| ())
    }

    /// `/user/user_register` (admin token): registers users.
    pub async fn user_register(&self, users: &[(&str, &str)]) -> Result<(), ApiError> {
        let req = openim_protocol::api::user::UserRegisterReq {
            users: users
                .iter()
                .map(|(id, nick)| wire::UserInfo {
                    user_id: (*id).to_owned(),
                    nickname: (*nick).to_owned(),
                    ..Default::default()
                })
                .collect(),
        };
        self.call::<_, serde_json::Value>(routes::USER_REGISTER, &req)
            .await
            .map(|_| ())
    }

    // ---- friend ----

    /// `/friend/get_friend_list`: all friends of `user_id`.
    pub async fn get_friend_list(&self, user_id: &str) -> Result<Vec<Friend>, ApiError> {
        let list: Vec<wire::FriendInfo> = self
            .all_pages(
                "/friend/get_friend_list",
                |pagination| friend::GetFriendListReq {
                    pagination,
                    user_id: user_id.into(),
                },
                "friendsInfo",
            )
            .await?;
        Ok(convert(list))
    }

    /// `/friend/get_friend_apply_list`: applications received by `user_id` (all states).
    pub async fn get_friend_apply_list(
        &self,
        user_id: &str,
    ) -> Result<Vec<FriendApplication>, ApiError> {
        let list: Vec<wire::FriendRequest> = self
            .all_pages(
                "/friend/get_friend_apply_list",
                |pagination| friend::GetFriendApplyListReq {
                    user_id: user_id.into(),
                    pagination,
                    handle_results: Vec::new(),
                },
                "FriendRequests",
            )
            .await?;
        let mut v: Vec<FriendApplication> = convert(list);
        v.retain(|a| !a.from_user_id.is_empty());
        Ok(v)
    }

    /// `/friend/get_self_friend_apply_list`: applications sent by `user_id` (all states).
    pub async fn get_self_friend_apply_list(
        &self,
        user_id: &str,
    ) -> Result<Vec<FriendApplication>, ApiError> {
        let list: Vec<wire::FriendRequest> = self
            .all_pages(
                "/friend/get_self_friend_apply_list",
                |pagination| friend::GetFriendApplyListReq {
                    user_id: user_id.into(),
                    pagination,
                    handle_results: Vec::new(),
                },
                "friendRequests",
            )
            .await?;
        Ok(convert(list))
    }

    /// `/friend/add_friend`: applies to become friends with `to_user_id`.
    pub async fn add_friend(
        &self,
        from_user_id: &str,
        to_user_id: &str,
        req_msg: &str,
    ) -> Result<(), ApiError> {
        self.call::<_, serde_json::Value>(
            routes::ADD_FRIEND,
            &friend::AddFriendReq {
                from_user_id: from_user_id.into(),
                to_user_id: to_user_id.into(),
                req_msg: req_msg.into(),
                ex: String::new(),
            },
        )
        .await
        .map(|_| ())
    }

    /// `/friend/add_friend_response`: accepts (`accept = true`) or refuses the application
    /// from `from_user_id` to `to_user_id`.
    pub async fn respond_friend_application(
        &self,
        from_user_id: &str,
        to_user_id: &str,
        accept: bool,
        handle_msg: &str,
    ) -> Result<(), ApiError> {
        self.call::<_, serde_json::Value>(
            routes::ADD_FRIEND_RESPONSE,
            &friend::AddFriendResponseReq {
                from_user_id: from_user_id.into(),
                to_user_id: to_user_id.into(),
                handle_result: if accept { 1 } else { -1 },
                handle_msg: handle_msg.into(),
            },
        )
        .await
        .map(|_| ())
    }

    /// `/friend/delete_friend`.
    pub async fn delete_friend(
        &self,
        owner_user_id: &str,
        friend_user_id: &str,
    ) -> Result<(), ApiError> {
        self.call::<_, serde_json::Value>(
            routes::DELETE_FRIEND,
            &friend::DeleteFriendReq {
                owner_user_id: owner_user_id.into(),
                friend_user_id: friend_user_id.into(),
            },
        )
        .await
        .map(|_| ())
    }

    /// `/friend/set_friend_remark`.
    pub async fn set_friend_remark(
        &self,
        owner_user_id: &str,
        friend_user_id: &str,
        remark: &str,
    ) -> Result<(), ApiError> {
        self.call::<_, serde_json::Value>(
            routes::SET_FRIEND_REMARK,
            &friend::SetFriendRemarkReq {
                owner_user_id: owner_user_id.into(),
                friend_user_id: friend_user_id.into(),
                remark: remark.into(),
            },
        )
        .await
        .map(|_| ())
    }

    /// `/friend/add_black`.
    pub async fn add_black(
        &self,
        owner_user_id: &str,
        black_user_id: &str,
    ) -> Result<(), ApiError> {
        self.call::<_, serde_json::Value>(
            routes::ADD_BLACK,
            &friend::AddBlackReq {
                owner_user_id: owner_user_id.into(),
                black_user_id: black_user_id.into(),
                ex: String::new(),
            },
        )
        .await
        .map(|_| ())
    }

    /// `/friend/remove_black`.
    pub async fn remove_black(
        &self,
        owner_user_id: &str,
        black_user_id: &str,
    ) -> Result<(), ApiError> {
        self.call::<_, serde_json::Value>(
            routes::REMOVE_BLACK,
            &friend::RemoveBlackReq {
                owner_user_id: owner_user_id.into(),
                black_user_id: black_user_id.into(),
            },
        )
        .await
        .map(|_| ())
    }

    /// `/friend/get_black_list`: the blacklist of `user_id`.
    pub async fn get_black_list(&self, user_id: &str) -> Result<Vec<Blacklisted>, ApiError> {
        let list: Vec<wire::BlackInfo> = self
            .all_pages(
                "/friend/get_black_list",
                |pagination| friend::GetBlackListReq {
                    user_id: user_id.into(),
                    pagination,
                },
                "blacks",
            )
            .await?;
        Ok(convert(list))
    }

    // ---- group ----

    /// `/group/create_group`: creates a working group; returns it.
    pub async fn create_group(
        &self,
        owner_user_id: &str,
        member_user_ids: &[&str],
        group_name: &str,
    ) -> Result<GroupInfo, ApiError> {
        let r: openim_protocol::api::group::CreateGroupResp = self
            .call(
                "/group/create_group",
                &group::CreateGroupReq {
                    member_user_ids: member_user_ids.iter().map(|u| u.to_string()).collect(),
                    group_info: Some(wire::GroupInfo {
                        group_name: group_name.into(),
                        group_type: 2,
                        ..Default::default()
                    }),
                    admin_user_ids: Vec::new(),
                    owner_user_id: owner_user_id.into(),
                    send_message: None,
                },
            )
            .await?;
        Ok(r.group_info.map(GroupInfo::from).unwrap_or_default())
    }

    /// `/group/get_joined_group_list`: groups `user_id` is in.
    pub async fn get_joined_groups(&self, user_id: &str) -> Result<Vec<GroupInfo>, ApiError> {
        let list: Vec<wire::GroupInfo> = self
            .all_pages(
                "/group/get_joined_group_list",
                |pagination| group::GetJoinedGroupListReq {
                    pagination,
                    from_user_id: user_id.into(),
                },
                "groups",
            )
            .await?;
        Ok(convert(list))
    }

    /// `/group/get_groups_info`.
    pub async fn get_groups_info(&self, group_ids: &[&str]) -> Result<Vec<GroupInfo>, ApiError> {
        let r: openim_protocol::api::group::GetGroupsInfoResp = self
            .call(
                routes::GET_GROUPS_INFO,
                &group::GroupIdsReq {
                    group_ids: group_ids.iter().map(|g| g.to_string()).collect(),
                },
            )
            .await?;
        Ok(convert(r.group_infos))
    }

    /// `/group/get_group_member_list`: every member of a group.
    pub async fn get_group_members(&self, group_id: &str) -> Result<Vec<GroupMember>, ApiError> {
        let list: Vec<wire::GroupMemberFullInfo> = self
            .all_pages(
                "/group/get_group_member_list",
                |pagination| group::GetGroupMemberListReq {
                    pagination,
                    group_id: group_id.into(),
                    filter: 0,
                    keyword: String::new(),
                },
                "members",
            )
            .await?;
        Ok(convert(list))
    }

    /// `/group/get_group_members_info`: selected members of a group.
    pub async fn get_group_members_info(
        &self,
        group_id: &str,
        user_ids: &[&str],
    ) -> Result<Vec<GroupMember>, ApiError> {
        let resp: openim_protocol::api::group::GetGroupMembersInfoResp = self
            .call(
                routes::GET_GROUP_MEMBERS_INFO,
                &group::GetGroupMembersInfoReq {
                    group_id: group_id.into(),
                    user_ids: user_ids.iter().map(|u| u.to_string()).collect(),
                },
            )
            .await?;
        Ok(convert(resp.members))
    }

    /// `/group/join_group`: applies to join (or joins directly, depending on the group).
    pub async fn join_group(
        &self,
        group_id: &str,
        applicant: &str,
        req_msg: &str,
    ) -> Result<(), ApiError> {
        self.call::<_, serde_json::Value>(
            routes::JOIN_GROUP,
            &group::JoinGroupReq {
                group_id: group_id.into(),
                req_message: req_msg.into(),
                join_source: 3,
                inviter_user_id: applicant.into(),
                ex: String::new(),
            },
        )
        .await
        .map(|_| ())
    }

    /// `/group/quit_group`.
    pub async fn quit_group(&self, group_id: &str, user_id: &str) -> Result<(), ApiError> {
        self.call::<_, serde_json::Value>(
            routes::QUIT_GROUP,
            &group::QuitGroupReq {
                group_id: group_id.into(),
                user_id: user_id.into(),
            },
        )
        .await
        .map(|_| ())
    }

    /// `/group/group_application_response`: accepts or refuses `from_user_id`'s application.
    pub async fn respond_group_application(
        &self,
        group_id: &str,
        from_user_id: &str,
        accept: bool,
        handled_msg: &str,
    ) -> Result<(), ApiError> {
        self.call::<_, serde_json::Value>(
            routes::GROUP_APPLICATION_RESPONSE,
            &group::GroupApplicationResponseReq {
                group_id: group_id.into(),
                from_user_id: from_user_id.into(),
                handled_msg: handled_msg.into(),
                handle_result: if accept { 1 } else { -1 },
            },
        )
        .await
        .map(|_| ())
    }

    /// `/group/kick_group`.
    pub async fn kick_group_members(
        &self,
        group_id: &str,
        user_ids: &[&str],
        reason: &str,
    ) -> Result<(), ApiError> {
        self.call::<_, serde_json::Value>(
            routes::KICK_GROUP,
            &group::KickGroupReq {
                group_id: group_id.into(),
                kicked_user_ids: user_ids.iter().map(|u| u.to_string()).collect(),
                reason: reason.into(),
                send_message: None,
            },
        )
        .await
        .map(|_| ())
    }

    /// `/group/invite_user_to_group`.
    pub async fn invite_to_group(
        &self,
        group_id: &str,
        user_ids: &[&str],
        reason: &str,
    ) -> Result<(), ApiError> {
        self.call::<_, serde_json::Value>(
            routes::INVITE_USER_TO_GROUP,
            &group::InviteUserToGroupReq {
                group_id: group_id.into(),
                reason: reason.into(),
                invited_user_ids: user_ids.iter().map(|u| u.to_string()).collect(),
                send_message: None,
            },
        )
        .await
        .map(|_| ())
    }

    /// `/group/mute_group_member`: mutes `user_id` for `seconds`.
    pub async fn mute_group_member(
        &self,
        group_id: &str,
        user_id: &str,
        seconds: u32,
    ) -> Result<(), ApiError> {
        self.call::<_, serde_json::Value>(
            routes::MUTE_GROUP_MEMBER,
            &group::MuteGroupMemberReq {
                group_id: group_id.into(),
                user_id: user_id.into(),
                muted_seconds: seconds,
            },
        )
        .await
        .map(|_| ())
    }

    /// `/group/cancel_mute_group_member`.
    pub async fn unmute_group_member(&self, group_id: &str, user_id: &str) -> Result<(), ApiError> {
        self.call::<_, serde_json::Value>(
            routes::CANCEL_MUTE_GROUP_MEMBER,
            &group::GroupMemberReq {
                group_id: group_id.into(),
                user_id: user_id.into(),
            },
        )
        .await
        .map(|_| ())
    }

    /// `/group/mute_group` / `/group/cancel_mute_group`.
    pub async fn set_group_muted(&self, group_id: &str, muted: bool) -> Result<(), ApiError> {
        let route = if muted {
            "/group/mute_group"
        } else {
            "/group/cancel_mute_group"
        };
        self.call::<_, serde_json::Value>(
            route,
            &group::GroupIdReq {
                group_id: group_id.into(),
            },
        )
        .await
        .map(|_| ())
    }

    /// `/group/set_group_info_ex`: only the `Some` fields change.
    pub async fn set_group_info(
        &self,
        group_id: &str,
        changes: &GroupInfoChanges,
    ) -> Result<(), ApiError> {
        let req = group::SetGroupInfoExReq {
            group_id: group_id.into(),
            group_name: changes.group_name.clone(),
            notification: changes.notification.clone(),
            introduction: changes.introduction.clone(),
            face_url: changes.face_url.clone(),
            ex: changes.ex.clone(),
            need_verification: changes.need_verification,
            look_member_info: None,
            apply_member_friend: None,
        };
        self.call::<_, serde_json::Value>(routes::SET_GROUP_INFO_EX, &req)
            .await
            .map(|_| ())
    }

    /// `/group/set_group_member_info`: only the `Some` fields change.
    pub async fn set_group_member_info(
        &self,
        group_id: &str,
        user_id: &str,
        changes: &MemberInfoChanges,
    ) -> Result<(), ApiError> {
        let req = group::SetGroupMemberInfoReq {
            members: vec![group::MemberInfoForSet {
                group_id: group_id.into(),
                user_id: user_id.into(),
                nickname: changes.nickname.clone(),
                face_url: changes.face_url.clone(),
                role_level: changes.role_level,
                ex: changes.ex.clone(),
            }],
        };
        self.call::<_, serde_json::Value>(routes::SET_GROUP_MEMBER_INFO, &req)
            .await
            .map(|_| ())
    }

    /// `/group/dismiss_group`.
    pub async fn dismiss_group(&self, group_id: &str) -> Result<(), ApiError> {
        self.call::<_, serde_json::Value>(
            routes::DISMISS_GROUP,
            &group::DismissGroupReq {
                group_id: group_id.into(),
                delete_member: false,
                send_message: None,
            },
        )
        .await
        .map(|_| ())
    }

    /// `/group/transfer_group`.
    pub async fn transfer_group(
        &self,
        group_id: &str,
        old_owner: &str,
        new_owner: &str,
    ) -> Result<(), ApiError> {
        self.call::<_, serde_json::Value>(
            routes::TRANSFER_GROUP,
            &group::TransferGroupReq {
                group_id: group_id.into(),
                old_owner_user_id: old_owner.into(),
                new_owner_user_id: new_owner.into(),
            },
        )
        .await
        .map(|_| ())
    }

    /// `/group/get_recv_group_applicationList`: applications to groups `user_id` manages.
    pub async fn get_recv_group_applications(
        &self,
        user_id: &str,
    ) -> Result<Vec<GroupApplication>, ApiError> {
        let list: Vec<wire::GroupRequest> = self
            .all_pages(
                "/group/get_recv_group_applicationList",
                |pagination| group::GetRecvGroupApplicationListReq {
                    pagination,
                    from_user_id: user_id.into(),
                    group_ids: Vec::new(),
                    handle_results: Vec::new(),
                },
                "groupRequests",
            )
            .await?;
        Ok(convert(list))
    }

    /// `/group/get_user_req_group_applicationList`: applications made by `user_id`.
    pub async fn get_self_group_applications(
        &self,
        user_id: &str,
    ) -> Result<Vec<GroupApplication>, ApiError> {
        let list: Vec<wire::GroupRequest> = self
            .all_pages(
                "/group/get_user_req_group_applicationList",
                |pagination| group::GetUserReqGroupApplicationListReq {
                    pagination,
                    user_id: user_id.into(),
                    group_ids: Vec::new(),
                    handle_results: Vec::new(),
                },
                "groupRequests",
            )
            .await?;
        Ok(convert(list))
    }

    // ---- msg / conversation ----

    /// `/msg/revoke_msg`: revokes the message `seq` of `conversation_id` as `user_id`.
    pub async fn revoke_msg(
        &self,
        user_id: &str,
        conversation_id: &str,
        seq: i64,
    ) -> Result<(), ApiError> {
        self.call::<_, serde_json::Value>(
            routes::REVOKE_MSG,
            &msg::RevokeMsgReq {
                conversation_id: conversation_id.into(),
                seq,
                user_id: user_id.into(),
            },
        )
        .await
        .map(|_| ())
    }

    /// `/msg/mark_conversation_as_read`: sets the has-read seq of `user_id` in a conversation.
    pub async fn mark_conversation_as_read(
        &self,
        user_id: &str,
        conversation_id: &str,
        has_read_seq: i64,
        seqs: &[i64],
    ) -> Result<(), ApiError> {
        self.call::<_, serde_json::Value>(
            routes::MARK_CONVERSATION_AS_READ,
            &msg::MarkConversationAsReadReq {
                conversation_id: conversation_id.into(),
                user_id: user_id.into(),
                has_read_seq,
                seqs: seqs.to_vec(),
            },
        )
        .await
        .map(|_| ())
    }

    /// `/msg/send_msg` (admin token): sends a message as `send_id` (tests, system messages).
    pub async fn admin_send_text(
        &self,
        send_id: &str,
        recv_id: Option<&str>,
        group_id: Option<&str>,
        text: &str,
    ) -> Result<serde_json::Value, ApiError> {
        let session_type = if group_id.is_some() { 3 } else { 1 };
        self.call(
            "/msg/send_msg",
            &serde_json::json!({
                "sendID": send_id, "recvID": recv_id.unwrap_or(""), "groupID": group_id.unwrap_or(""),
                "senderNickname": send_id, "senderFaceURL": "", "senderPlatformID": 0,
                "content": {"content": text}, "contentType": 101, "sessionType": session_type,
                "isOnlineOnly": false, "notOfflinePush": false, "sendTime": 0, "ex": ""
            }),
        )
        .await
    }

    /// `/conversation/get_all_conversations`: the server-side conversation settings of `owner`.
    pub async fn get_all_conversations(
        &self,
        owner_user_id: &str,
    ) -> Result<Vec<serde_json::Value>, ApiError> {
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct Resp {
            conversations: Option<Vec<serde_json::Value>>,
        }
        let r: Resp = self
            .call(
                "/conversation/get_all_conversations",
                &openim_protocol::api::conversation::OwnerReq {
                    owner_user_id: owner_user_id.into(),
                },
            )
            .await?;
        Ok(r.conversations.unwrap_or_default())
    }
}

/// Changes for [`ApiClient::set_group_info`] (`None` = unchanged).
#[derive(Debug, Clone, Default)]
pub struct GroupInfoChanges {
    /// New name.
    pub group_name: Option<String>,
    /// New announcement.
    pub notification: Option<String>,
    /// New introduction.
    pub introduction: Option<String>,
    /// New avatar URL.
    pub face_url: Option<String>,
    /// New extension.
    pub ex: Option<String>,
    /// New verification policy (0, 1, 2).
    pub need_verification: Option<i32>,
}

/// Changes for [`ApiClient::set_group_member_info`] (`None` = unchanged).
#[derive(Debug, Clone, Default)]
pub struct MemberInfoChanges {
    /// New group nickname.
    pub nickname: Option<String>,
    /// New group avatar.
    pub face_url: Option<String>,
    /// New role (60 admin or 20 member).
    pub role_level: Option<i32>,
    /// New extension.
    pub ex: Option<String>,
}

// ---- incremental ("version") sync (http-api.md §6) ----

/// What a version-logged list changed since a stored `(versionID, version)` (the answer of a
/// `get_incremental_*` route).
///
/// `version_id`/`version` are always the server's current head; store them once the changes are
/// applied. With `full` the lists are empty and the client must resync from the full list (the
/// log was reset, truncated, or the stored state did not match).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct VersionDelta<T> {
    /// The log's ID (24 hex characters); a different ID than the stored one means a new log.
    pub version_id: String,
    /// The log's current version.
    pub version: u64,
    /// The client must discard its copy and resync from the full list.
    pub full: bool,
    /// IDs of removed elements.
    pub deleted: Vec<String>,
    /// Elements added since the stored version.
    pub inserted: Vec<T>,
    /// Elements changed since the stored version.
    pub updated: Vec<T>,
    /// Non-zero when the list's order changed (friends, members).
    pub sort_version: u64,
}

impl<T> VersionDelta<T> {
    /// True if nothing changed and no resync is needed.
    pub fn is_empty(&self) -> bool {
        !self.full && self.deleted.is_empty() && self.inserted.is_empty() && self.updated.is_empty()
    }

    fn from_wire<W>(
        version_id: String,
        version: u64,
        full: bool,
        deleted: Vec<String>,
        inserted: Vec<W>,
        updated: Vec<W>,
        sort_version: u64,
    ) -> VersionDelta<T>
    where
        T: From<W>,
    {
        VersionDelta {
            version_id,
            version,
            full,
            deleted,
            inserted: convert(inserted),
            updated: convert(updated),
            sort_version,
        }
    }
}

/// Changes of one group's member list (`/group/get_incremental_group_members` and each entry of
/// the batch route).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct MemberDelta {
    /// Member changes (element IDs are user IDs).
    pub members: VersionDelta<GroupMember>,
    /// The group's current info, sent when `full`, when the group info changed (the log's `""`
    /// marker) or when members changed; `None` otherwise.
    pub group: Option<GroupInfo>,
}

impl From<group::GetIncrementalGroupMembersResp> for MemberDelta {
    fn from(r: group::GetIncrementalGroupMembersResp) -> MemberDelta {
        MemberDelta {
            members: VersionDelta::from_wire(
                r.version_id,
                r.version,
                r.full,
                r.delete,
                r.insert,
                r.update,
                r.sort_version,
            ),
            group: r.group.map(GroupInfo::from),
        }
    }
}

/// A stored sync position of one group's member list, for the batch route.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberVersion {
    /// The group.
    pub group_id: String,
    /// Stored log ID (`""` if none).
    pub version_id: String,
    /// Stored version (0 if none).
    pub version: u64,
}

impl ApiClient {
    /// `/friend/get_incremental_friends`: friend-list changes of `user_id` since
    /// `(version_id, version)` (send `""`/0 to learn the head; the answer is then `full`).
    pub async fn get_incremental_friends(
        &self,
        user_id: &str,
        version_id: &str,
        version: u64,
    ) -> Result<VersionDelta<Friend>, ApiError> {
        let r: friend::GetIncrementalFriendsResp = self
            .call(
                routes::GET_INCREMENTAL_FRIENDS,
                &wire::IncrementalUserReq {
                    user_id: user_id.into(),
                    version_id: version_id.into(),
                    version,
                },
            )
            .await?;
        Ok(VersionDelta::from_wire(
            r.version_id,
            r.version,
            r.full,
            r.delete,
            r.insert,
            r.update,
            r.sort_version,
        ))
    }

    /// `/group/get_incremental_join_groups`: joined-group changes of `user_id` since
    /// `(version_id, version)`. Group info changes are not logged here (see the member log's
    /// `group`).
    pub async fn get_incremental_join_groups(
        &self,
        user_id: &str,
        version_id: &str,
        version: u64,
    ) -> Result<VersionDelta<GroupInfo>, ApiError> {
        let r: group::GetIncrementalJoinGroupsResp = self
            .call(
                routes::GET_INCREMENTAL_JOIN_GROUPS,
                &wire::IncrementalUserReq {
                    user_id: user_id.into(),
                    version_id: version_id.into(),
                    version,
                },
            )
            .await?;
        Ok(VersionDelta::from_wire(
            r.version_id,
            r.version,
            r.full,
            r.delete,
            r.insert,
            r.update,
            r.sort_version,
        ))
    }

    /// `/group/get_incremental_group_members`: member changes of one group since
    /// `(version_id, version)`. A dismissed group answers 1204.
    pub async fn get_incremental_group_members(
        &self,
        group_id: &str,
        version_id: &str,
        version: u64,
    ) -> Result<MemberDelta, ApiError> {
        let r: group::GetIncrementalGroupMembersResp = self
            .call(
                routes::GET_INCREMENTAL_GROUP_MEMBERS,
                &group::IncrementalGroupMembersReq {
                    group_id: group_id.into(),
                    version_id: version_id.into(),
                    version,
                },
            )
            .await?;
        Ok(r.into())
    }

    /// `/group/get_incremental_group_members_batch`: member changes of several groups in one
    /// call, keyed by group ID. The server stops once about 500 changes are collected (200 in
    /// plain v3.8.3) and skips dismissed groups: groups absent from the answer must be asked
    /// again. A group `user_id` is not in fails the whole call.
    pub async fn get_incremental_group_members_batch(
        &self,
        user_id: &str,
        groups: &[MemberVersion],
    ) -> Result<std::collections::BTreeMap<String, MemberDelta>, ApiError> {
        let r: group::BatchIncrementalGroupMembersResp = self
            .call(
                routes::GET_INCREMENTAL_GROUP_MEMBERS_BATCH,
                &group::BatchIncrementalGroupMembersReq {
                    user_id: user_id.into(),
                    req_list: groups
                        .iter()
                        .map(|g| group::IncrementalGroupMembersReq {
                            group_id: g.group_id.clone(),
                            version_id: g.version_id.clone(),
                            version: g.version,
                        })
                        .collect(),
                },
            )
            .await?;
        Ok(r.resp_list
            .into_iter()
            .map(|(group_id, delta)| (group_id, MemberDelta::from(delta)))
            .collect())
    }

    /// `/conversation/get_incremental_conversations`: server-side conversation rows of
    /// `user_id` (settings: recvMsgOpt, pin, private chat, @-type…) changed since
    /// `(version_id, version)`.
    pub async fn get_incremental_conversations(
        &self,
        user_id: &str,
        version_id: &str,
        version: u64,
    ) -> Result<VersionDelta<wire::Conversation>, ApiError> {
        let r: openim_protocol::api::conversation::GetIncrementalConversationsResp = self
            .call(
                routes::GET_INCREMENTAL_CONVERSATIONS,
                &wire::IncrementalUserReq {
                    user_id: user_id.into(),
                    version_id: version_id.into(),
                    version,
                },
            )
            .await?;
        Ok(VersionDelta::from_wire(
            r.version_id,
            r.version,
            r.full,
            r.delete,
            r.insert,
            r.update,
            0,
        ))
    }
}

/// The complete ID list of a version-logged list (`get_full_*_ids` routes), in server order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FullIds {
    /// The log's ID.
    pub version_id: String,
    /// What the server put in `version`: in v3.8.3 the list's ID hash, not the log version, so
    /// it is no sync position.
    pub version: u64,
    /// The IDs (friends: pinned first, then by insertion; members: role descending, then join
    /// order).
    pub ids: Vec<String>,
}

impl ApiClient {
    /// `/friend/get_full_friend_user_ids`: every friend ID of `user_id`.
    pub async fn get_full_friend_user_ids(&self, user_id: &str) -> Result<FullIds, ApiError> {
        let r: friend::GetFullFriendUserIdsResp = self
            .call(
                routes::GET_FULL_FRIEND_USER_IDS,
                &wire::FullIdsUserReq {
                    id_hash: 0,
                    user_id: user_id.into(),
                },
            )
            .await?;
        Ok(FullIds {
            version_id: r.version_id,
            version: r.version,
            ids: r.user_ids,
        })
    }

    /// `/group/get_full_join_group_ids`: every group ID `user_id` is in.
    pub async fn get_full_join_group_ids(&self, user_id: &str) -> Result<FullIds, ApiError> {
        let r: group::GetFullJoinGroupIdsResp = self
            .call(
                routes::GET_FULL_JOIN_GROUP_IDS,
                &wire::FullIdsUserReq {
                    id_hash: 0,
                    user_id: user_id.into(),
                },
            )
            .await?;
        Ok(FullIds {
            version_id: r.version_id,
            version: r.version,
            ids: r.group_ids,
        })
    }

    /// `/group/get_full_group_member_user_ids`: every member ID of a group.
    pub async fn get_full_group_member_user_ids(
        &self,
        group_id: &str,
    ) -> Result<FullIds, ApiError> {
        let r: group::GetFullGroupMemberUserIdsResp = self
            .call(
                routes::GET_FULL_GROUP_MEMBER_USER_IDS,
                &group::FullGroupMemberIdsReq {
                    id_hash: 0,
                    group_id: group_id.into(),
                },
            )
            .await?;
        Ok(FullIds {
            version_id: r.version_id,
            version: r.version,
            ids: r.user_ids,
        })
    }

    /// `/conversation/get_full_conversation_ids`: every conversation ID of `user_id`.
    pub async fn get_full_conversation_ids(&self, user_id: &str) -> Result<FullIds, ApiError> {
        let r: openim_protocol::api::conversation::GetFullConversationIdsResp = self
            .call(
                routes::GET_FULL_CONVERSATION_IDS,
                &wire::FullIdsUserReq {
                    id_hash: 0,
                    user_id: user_id.into(),
                },
            )
            .await?;
        Ok(FullIds {
            version_id: r.version_id,
            version: r.version,
            ids: r.conversation_ids,
        })
    }
}

#[cfg(test)]
mod upstream_shape_tests {
    //! Request bodies checked against the JSON names of open-im-server v3.8.3 (protocol
    //! v0.0.72-alpha.71: the Go request types' `json` tags, which are the proto field names).

    use super::*;
    use std::collections::BTreeMap;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// One recorded call: route, headers (lower-cased names), JSON body.
    #[derive(Debug, Clone)]
    struct Recorded {
        route: String,
        headers: BTreeMap<String, String>,
        body: serde_json::Value,
    }

    /// A minimal HTTP/1.1 server answering every POST with an empty success envelope and
    /// recording what it got.
    async fn recording_server() -> (String, tokio::sync::mpsc::UnboundedReceiver<Recorded>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    loop {
                        let mut chunk = [0u8; 4096];
                        let Ok(n) = sock.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                            continue;
                        };
                        let head = String::from_utf8_lossy(&buf[..end]).to_string();
                        let mut lines = head.split("\r\n");
                        let route = lines
                            .next()
                            .and_then(|l| l.split(' ').nth(1))
                            .unwrap_or_default()
                            .to_owned();
                        let headers: BTreeMap<String, String> = lines
                            .filter_map(|l| l.split_once(':'))
                            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                            .collect();
                        let len: usize = headers
                            .get("content-length")
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0);
                        if buf.len() < end + 4 + len {
                            continue;
                        }
                        let body = serde_json::from_slice(&buf[end + 4..end + 4 + len])
                            .unwrap_or(serde_json::Value::Null);
                        buf.drain(..end + 4 + len);
                        let _ = tx.send(Recorded {
                            route,
                            headers,
                            body,
                        });
                        let answer = br#"{"errCode":0,"errMsg":"","errDlt":"","data":{}}"#;
                        let reply = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                            answer.len()
                        );
                        if sock.write_all(reply.as_bytes()).await.is_err()
                            || sock.write_all(answer).await.is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        (format!("http://{addr}"), rx)
    }

    /// Upstream JSON names of each route's request (protocol v0.0.72-alpha.71 / apistruct),
    /// plus fields of newer protocol versions that v3.8.3 ignores (Go's decoder skips unknown
    /// keys) after a `|`.
    const UPSTREAM_FIELDS: &[(&str, &str)] = &[
        ("/auth/get_admin_token", "secret userID"),
        ("/auth/get_user_token", "platformID userID"),
        ("/user/get_users_info", "userIDs"),
        ("/user/update_user_info_ex", "userInfo"),
        ("/user/user_register", "users"),
        ("/friend/get_friend_list", "pagination userID"),
        (
            "/friend/get_friend_apply_list",
            "userID pagination | handleResults",
        ),
        (
            "/friend/get_self_friend_apply_list",
            "userID pagination | handleResults",
        ),
        ("/friend/add_friend", "fromUserID toUserID reqMsg ex"),
        (
            "/friend/add_friend_response",
            "fromUserID toUserID handleResult handleMsg",
        ),
        ("/friend/delete_friend", "ownerUserID friendUserID"),
        (
            "/friend/set_friend_remark",
            "ownerUserID friendUserID remark",
        ),
        ("/friend/add_black", "ownerUserID blackUserID ex"),
        ("/friend/remove_black", "ownerUserID blackUserID"),
        ("/friend/get_black_list", "userID pagination"),
        (
            "/group/create_group",
            "memberUserIDs groupInfo adminUserIDs ownerUserID | sendMessage",
        ),
        ("/group/get_joined_group_list", "pagination fromUserID"),
        ("/group/get_groups_info", "groupIDs"),
        (
            "/group/get_group_member_list",
            "pagination groupID filter keyword",
        ),
        ("/group/get_group_members_info", "groupID userIDs"),
        (
            "/group/join_group",
            "groupID reqMessage joinSource inviterUserID ex",
        ),
        ("/group/quit_group", "groupID userID"),
        (
            "/group/group_application_response",
            "groupID fromUserID handledMsg handleResult",
        ),
        (
            "/group/kick_group",
            "groupID kickedUserIDs reason | sendMessage",
        ),
        (
            "/group/invite_user_to_group",
            "groupID reason invitedUserIDs | sendMessage",
        ),
        ("/group/mute_group_member", "groupID userID mutedSeconds"),
        ("/group/cancel_mute_group_member", "groupID userID"),
        ("/group/mute_group", "groupID"),
        (
            "/group/set_group_info_ex",
            "groupID groupName notification introduction faceURL ex needVerification lookMemberInfo applyMemberFriend",
        ),
        ("/group/set_group_member_info", "members"),
        ("/group/dismiss_group", "groupID deleteMember | sendMessage"),
        (
            "/group/transfer_group",
            "groupID oldOwnerUserID newOwnerUserID",
        ),
        (
            "/group/get_recv_group_applicationList",
            "pagination fromUserID | groupIDs handleResults",
        ),
        (
            "/group/get_user_req_group_applicationList",
            "pagination userID | groupIDs handleResults",
        ),
        ("/msg/revoke_msg", "conversationID seq userID"),
        (
            "/msg/mark_conversation_as_read",
            "conversationID userID hasReadSeq seqs",
        ),
        (
            "/msg/send_msg",
            "recvID sendID groupID senderNickname senderFaceURL senderPlatformID content contentType sessionType isOnlineOnly notOfflinePush sendTime offlinePushInfo ex",
        ),
        ("/conversation/get_all_conversations", "ownerUserID"),
        (
            "/friend/get_incremental_friends",
            "userID versionID version",
        ),
        (
            "/group/get_incremental_join_groups",
            "userID versionID version",
        ),
        (
            "/group/get_incremental_group_members",
            "groupID versionID version",
        ),
        (
            "/group/get_incremental_group_members_batch",
            "userID reqList",
        ),
        (
            "/conversation/get_incremental_conversations",
            "userID versionID version",
        ),
        ("/friend/get_full_friend_user_ids", "idHash userID"),
        ("/group/get_full_join_group_ids", "idHash userID"),
        ("/group/get_full_group_member_user_ids", "idHash groupID"),
        ("/conversation/get_full_conversation_ids", "idHash userID"),
    ];

    /// Every route the client calls sends only upstream JSON names (a misspelt key would be
    /// silently dropped by the real server), the upstream field values that matter, the
    /// `operationID` header on every call and the `token` header on every call but the admin
    /// token request.
    #[tokio::test]
    async fn every_request_body_uses_upstream_json_names() {
        let (base, mut rx) = recording_server().await;
        let api = ApiClient::new(&base);
        api.get_admin_token("s", "imAdmin").await.unwrap();
        api.set_token("t");
        api.get_user_token("t", "u", 5).await.unwrap();
        api.get_users_info(&["u"]).await.unwrap();
        api.update_user_info("u", Some("n"), None).await.unwrap();
        api.user_register(&[("u", "n")]).await.unwrap();
        api.get_friend_list("u").await.unwrap();
        api.get_friend_apply_list("u").await.unwrap();
        api.get_self_friend_apply_list("u").await.unwrap();
        api.add_friend("a", "b", "m").await.unwrap();
        api.respond_friend_application("a", "b", true, "ok")
            .await
            .unwrap();
        api.delete_friend("a", "b").await.unwrap();
        api.set_friend_remark("a", "b", "r").await.unwrap();
        api.add_black("a", "b").await.unwrap();
        api.remove_black("a", "b").await.unwrap();
        api.get_black_list("a").await.unwrap();
        api.create_group("o", &["m"], "g").await.unwrap();
        api.get_joined_groups("u").await.unwrap();
        api.get_groups_info(&["g"]).await.unwrap();
        api.get_group_members("g").await.unwrap();
        api.get_group_members_info("g", &["u"]).await.unwrap();
        api.join_group("g", "u", "m").await.unwrap();
        api.quit_group("g", "u").await.unwrap();
        api.respond_group_application("g", "u", false, "no")
            .await
            .unwrap();
        api.kick_group_members("g", &["u"], "r").await.unwrap();
        api.invite_to_group("g", &["u"], "r").await.unwrap();
        api.mute_group_member("g", "u", 60).await.unwrap();
        api.unmute_group_member("g", "u").await.unwrap();
        api.set_group_muted("g", true).await.unwrap();
        let changes = GroupInfoChanges {
            group_name: Some("n".into()),
            need_verification: Some(1),
            ..Default::default()
        };
        api.set_group_info("g", &changes).await.unwrap();
        let member = MemberInfoChanges {
            nickname: Some("n".into()),
            role_level: Some(60),
            ..Default::default()
        };
        api.set_group_member_info("g", "u", &member).await.unwrap();
        api.dismiss_group("g").await.unwrap();
        api.transfer_group("g", "a", "b").await.unwrap();
        api.get_recv_group_applications("u").await.unwrap();
        api.get_self_group_applications("u").await.unwrap();
        api.revoke_msg("u", "si_a_b", 3).await.unwrap();
        api.mark_conversation_as_read("u", "si_a_b", 3, &[3])
            .await
            .unwrap();
        api.admin_send_text("a", Some("b"), None, "hi")
            .await
            .unwrap();
        api.get_all_conversations("u").await.unwrap();
        api.get_incremental_friends("u", "v", 1).await.unwrap();
        api.get_incremental_join_groups("u", "v", 1).await.unwrap();
        api.get_incremental_group_members("g", "v", 1)
            .await
            .unwrap();
        let versions = [MemberVersion {
            group_id: "g".into(),
            version_id: "v".into(),
            version: 1,
        }];
        api.get_incremental_group_members_batch("u", &versions)
            .await
            .unwrap();
        api.get_incremental_conversations("u", "v", 1)
            .await
            .unwrap();
        api.get_full_friend_user_ids("u").await.unwrap();
        api.get_full_join_group_ids("u").await.unwrap();
        api.get_full_group_member_user_ids("g").await.unwrap();
        api.get_full_conversation_ids("u").await.unwrap();

        let mut seen = BTreeMap::new();
        while let Ok(r) = rx.try_recv() {
            seen.insert(r.route.clone(), r);
        }
        for (route, names) in UPSTREAM_FIELDS {
            let r = seen
                .get(*route)
                .unwrap_or_else(|| panic!("{route} was not called"));
            let (known, newer) = names.split_once('|').unwrap_or((names, ""));
            let allowed: Vec<&str> = known
                .split_whitespace()
                .chain(newer.split_whitespace())
                .collect();
            let body = r
                .body
                .as_object()
                .unwrap_or_else(|| panic!("{route}: body not an object"));
            for key in body.keys() {
                assert!(
                    allowed.contains(&key.as_str()),
                    "{route}: {key:?} is no upstream field"
                );
            }
            assert!(
                r.headers.get("operationid").is_some_and(|v| !v.is_empty()),
                "{route}: operationID header"
            );
            let wants_token = *route != "/auth/get_admin_token";
            assert_eq!(
                r.headers.contains_key("token"),
                wants_token,
                "{route}: token header"
            );
        }
        assert_eq!(
            seen.len(),
            UPSTREAM_FIELDS.len(),
            "a called route is missing from the table"
        );
        // Values whose meaning upstream fixes.
        let body = |route: &str| seen[route].body.clone();
        assert_eq!(body("/friend/add_friend_response")["handleResult"], 1);
        assert_eq!(
            body("/group/group_application_response")["handleResult"],
            -1
        );
        assert_eq!(
            body("/group/group_application_response")["handledMsg"],
            "no"
        );
        assert_eq!(body("/group/mute_group_member")["mutedSeconds"], 60);
        // Wrapper fields (openim.protobuf.StringValue/Int32Value) are plain JSON values in
        // v3.8.3 (custom UnmarshalJSON), `null` when unchanged.
        let info = body("/group/set_group_info_ex");
        assert_eq!(
            (info["groupName"].clone(), info["needVerification"].clone()),
            (serde_json::json!("n"), serde_json::json!(1))
        );
        assert!(info["notification"].is_null());
        let m = body("/group/set_group_member_info");
        assert_eq!(
            (
                m["members"][0]["nickname"].clone(),
                m["members"][0]["roleLevel"].clone()
            ),
            (serde_json::json!("n"), serde_json::json!(60))
        );
        assert_eq!(
            body("/user/update_user_info_ex")["userInfo"]["nickname"],
            "n"
        );
        // apistruct.SendMsgReq: content is an object ({"content": text} for 101).
        let send = body("/msg/send_msg");
        assert_eq!(
            (send["contentType"].clone(), send["sessionType"].clone()),
            (serde_json::json!(101), serde_json::json!(1))
        );
        assert_eq!(send["content"]["content"], "hi");
        assert_eq!(
            body("/friend/get_friend_list")["pagination"],
            serde_json::json!({"pageNumber": 1, "showNumber": 100})
        );
    }
}
