//! `/user/...`: registration, profiles, online status, user commands, notification accounts
//! (http-api.md §5.1).

use std::fmt;

use super::Empty;
pub use super::common::{Pagination, PublicUserInfo, UserInfo, UserInfoWithEx};
use super::route::api_routes;
use super::serde_util::json_struct;

json_struct! { @request;
    /// `/user/user_register` request.
    pub struct UserRegisterReq {
        /// Users to create (userID, nickname required; faceURL, ex, appMangerLevel,
        /// globalRecvMsgOpt stored).
        pub users: Vec<UserInfo>,
    }
}

json_struct! { @request;
    /// `/user/update_user_info_ex` request.
    pub struct UpdateUserInfoExReq {
        /// The update (`None` fields unchanged).
        pub user_info: Option<UserInfoWithEx>,
    }
}

json_struct! { @request;
    /// `/user/update_user_info` request (deprecated: only non-empty strings / non-zero ints written).
    pub struct UpdateUserInfoReq {
        /// The update.
        pub user_info: Option<UserInfo>,
    }
}

json_struct! { @request;
    /// `/user/set_global_msg_recv_opt` request.
    pub struct SetGlobalMsgRecvOptReq {
        /// The user.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// 0 receive, 1 do not receive, 2 receive silently.
        pub global_recv_msg_opt: i32,
    }
}

json_struct! { @request;
    /// `/user/get_users_info` request.
    pub struct GetUsersInfoReq {
        /// Users to look up (unknown IDs are silently omitted from the reply).
        #[serde(rename = "userIDs")]
        pub user_ids: Vec<String>,
    }
}

json_struct! { @reply;
    /// `/user/get_users_info` reply.
    pub struct GetUsersInfoResp {
        /// Found users, order not guaranteed.
        pub users_info: Vec<UserInfo>,
    }
}

json_struct! { @request;
    /// `/user/get_all_users_uid` request.
    pub struct GetAllUsersUidReq {
        /// Page.
        pub pagination: Option<Pagination>,
    }
}

json_struct! { @reply;
    /// `/user/get_all_users_uid` reply.
    pub struct GetAllUsersUidResp {
        /// Total number of users.
        pub total: i32,
        /// This page's user IDs.
        #[serde(rename = "userIDs")]
        pub user_ids: Vec<String>,
    }
}

json_struct! { @request;
    /// `/user/account_check` request.
    pub struct AccountCheckReq {
        /// IDs to check (no duplicates).
        #[serde(rename = "checkUserIDs")]
        pub check_user_ids: Vec<String>,
    }
}

json_struct! { @reply;
    /// One result of `/user/account_check`.
    pub struct AccountCheckResult {
        /// The user ID.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// 1 registered, 0 not registered.
        pub account_status: i32,
    }
}

json_struct! { @reply;
    /// `/user/account_check` reply.
    pub struct AccountCheckResp {
        /// One result per requested ID, in request order.
        pub results: Vec<AccountCheckResult>,
    }
}

json_struct! { @request;
    /// `/user/get_users` request (with both filters empty: all ordinary users).
    pub struct GetUsersReq {
        /// Page.
        pub pagination: Option<Pagination>,
        /// Filter by user ID.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Filter by nickname.
        pub nick_name: String,
    }
}

json_struct! { @reply;
    /// `/user/get_users` reply.
    pub struct GetUsersResp {
        /// Total matches.
        pub total: i32,
        /// This page.
        pub users: Vec<UserInfo>,
    }
}

json_struct! { @request;
    /// Request of `/user/get_users_online_status` and `/user/get_users_online_token_detail`.
    pub struct GetUsersOnlineStatusReq {
        /// Users to query.
        #[serde(rename = "userIDs")]
        pub user_ids: Vec<String>,
    }
}

json_struct! { @reply, secret;
    /// One connection in an online-status reply.
    pub struct PlatformOnlineDetail {
        /// Platform of the connection.
        #[serde(rename = "platformID")]
        pub platform_id: i32,
        /// Gateway connection ID.
        #[serde(rename = "connID")]
        pub conn_id: String,
        /// App in background.
        pub is_background: bool,
        /// The connection's token (redacted in `Debug`).
        pub token: String,
    }
}

impl fmt::Debug for PlatformOnlineDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlatformOnlineDetail")
            .field("platform_id", &self.platform_id)
            .field("conn_id", &self.conn_id)
            .field("is_background", &self.is_background)
            .field("token", &"<redacted>")
            .finish()
    }
}

json_struct! { @reply;
    /// One element of the `/user/get_users_online_status` reply (the reply `data` is a JSON array).
    pub struct UserOnlineStatus {
        /// The user.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// 1 online, 0 offline.
        pub status: i32,
        /// Connections (`null` when offline).
        pub detail_platform_status: Vec<PlatformOnlineDetail>,
    }
}

json_struct! { @reply, secret;
    /// Tokens of one platform in `/user/get_users_online_token_detail`.
    pub struct SinglePlatformToken {
        /// Platform.
        #[serde(rename = "platformID")]
        pub platform_id: i32,
        /// Number of tokens.
        pub total: i32,
        /// The tokens (redacted in `Debug`).
        pub token: Vec<String>,
    }
}

impl fmt::Debug for SinglePlatformToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SinglePlatformToken")
            .field("platform_id", &self.platform_id)
            .field("total", &self.total)
            .field("token", &format_args!("<{} redacted>", self.token.len()))
            .finish()
    }
}

json_struct! { @reply;
    /// One element of the `/user/get_users_online_token_detail` reply (a JSON array).
    pub struct UserOnlineTokenDetail {
        /// The user.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Always 1 (only online users are listed).
        pub status: i32,
        /// Tokens per platform.
        pub single_platform_token: Vec<SinglePlatformToken>,
    }
}

json_struct! { @reply;
    /// A user's online state (`user.onlineStatus`).
    pub struct OnlineStatus {
        /// The user.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// 1 online, 0 offline.
        pub status: i32,
        /// Online platforms.
        #[serde(rename = "platformIDs")]
        pub platform_ids: Vec<i32>,
    }
}

json_struct! { @request;
    /// `/user/get_users_status` request.
    pub struct GetUsersStatusReq {
        /// The caller.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Users to query (non-empty).
        #[serde(rename = "userIDs")]
        pub user_ids: Vec<String>,
    }
}

json_struct! { @reply;
    /// Reply of `get_users_status`, `subscribe_users_status`, `get_subscribe_users_status`.
    pub struct UsersStatusResp {
        /// One entry per user (`null` from the 3.8 subscription stubs).
        pub status_list: Vec<OnlineStatus>,
    }
}

json_struct! { @request;
    /// `/user/subscribe_users_status` request.
    pub struct SubscribeUsersStatusReq {
        /// The subscriber.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Users to (un)subscribe.
        #[serde(rename = "userIDs")]
        pub user_ids: Vec<String>,
        /// 1 subscribe, 2 unsubscribe.
        pub genre: i32,
    }
}

json_struct! { @request;
    /// A request carrying only a `userID` (`get_subscribe_users_status`, `process_user_command_get_all`).
    pub struct UserIdReq {
        /// The user.
        #[serde(rename = "userID")]
        pub user_id: String,
    }
}

json_struct! { @request;
    /// `/user/process_user_command_add` and `_update` request.
    pub struct ProcessUserCommandReq {
        /// The owner.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Command type (non-zero).
        #[serde(rename = "type")]
        pub command_type: i32,
        /// Entry key (non-empty).
        pub uuid: String,
        /// Value.
        pub value: Option<String>,
        /// Extension data (stored into `value` on add: upstream bug).
        pub ex: Option<String>,
    }
}

json_struct! { @request;
    /// `/user/process_user_command_delete` request.
    pub struct ProcessUserCommandDeleteReq {
        /// The owner.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Command type.
        #[serde(rename = "type")]
        pub command_type: i32,
        /// Entry key.
        pub uuid: String,
    }
}

json_struct! { @request;
    /// `/user/process_user_command_get` request.
    pub struct ProcessUserCommandGetReq {
        /// The owner.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Command type (non-zero).
        #[serde(rename = "type")]
        pub command_type: i32,
    }
}

json_struct! { @reply;
    /// One stored user command.
    pub struct CommandInfo {
        /// Command type.
        #[serde(rename = "type")]
        pub command_type: i32,
        /// Creation time, seconds (Unix), as v3.8.3 stores it.
        pub create_time: i64,
        /// Entry key.
        pub uuid: String,
        /// Value.
        pub value: String,
        /// Extension data.
        pub ex: String,
    }
}

json_struct! { @reply;
    /// Reply of `process_user_command_get` and `_get_all`.
    pub struct ProcessUserCommandGetResp {
        /// The entries (capitalised key on the wire).
        #[serde(rename = "CommandResp", alias = "commandResp")]
        pub command_resp: Vec<CommandInfo>,
    }
}

json_struct! { @request;
    /// `/user/add_notification_account` request.
    pub struct AddNotificationAccountReq {
        /// Wanted ID ("" = server generates 10 digits).
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Name (required).
        pub nick_name: String,
        /// Avatar.
        #[serde(rename = "faceURL")]
        pub face_url: String,
        /// Must be >= 3.
        pub app_manger_level: i32,
    }
}

json_struct! { @reply;
    /// A notification account.
    pub struct NotificationAccountInfo {
        /// Account ID.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Avatar.
        #[serde(rename = "faceURL")]
        pub face_url: String,
        /// Name.
        pub nick_name: String,
        /// Level (>= 3).
        pub app_manger_level: i32,
    }
}

json_struct! { @request;
    /// `/user/update_notification_account` request.
    pub struct UpdateNotificationAccountReq {
        /// Account ID.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// New avatar.
        #[serde(rename = "faceURL")]
        pub face_url: String,
        /// New name.
        pub nick_name: String,
    }
}

json_struct! { @request;
    /// `/user/search_notification_account` request.
    pub struct SearchNotificationAccountReq {
        /// Exact userID or nickname.
        pub keyword: String,
        /// Level filter (ignored by the baseline).
        pub app_manager_level: Option<i32>,
        /// Page.
        pub pagination: Option<Pagination>,
    }
}

json_struct! { @reply;
    /// `/user/search_notification_account` reply.
    pub struct SearchNotificationAccountResp {
        /// Total matches.
        pub total: i64,
        /// This page.
        pub notification_accounts: Vec<NotificationAccountInfo>,
    }
}

api_routes! {
    /// Registers users (1102 if any exists).
    UserRegister {
        path: USER_REGISTER = "/user/user_register",
        access: Admin,
        req: UserRegisterReq,
        resp: Empty,
    }
    /// Updates a profile with "unchanged" markers (used by the SDKs).
    UpdateUserInfoEx {
        path: UPDATE_USER_INFO_EX = "/user/update_user_info_ex",
        access: SelfOrAdmin { field: "userInfo.userID" },
        req: UpdateUserInfoExReq,
        resp: Empty,
    }
    /// Updates a profile (deprecated).
    UpdateUserInfo {
        path: UPDATE_USER_INFO = "/user/update_user_info",
        access: SelfOrAdmin { field: "userInfo.userID" },
        req: UpdateUserInfoReq,
        resp: Empty,
    }
    /// Sets the global receive option (ownership not enforced upstream).
    SetGlobalMsgRecvOpt {
        path: SET_GLOBAL_MSG_RECV_OPT = "/user/set_global_msg_recv_opt",
        access: Any,
        req: SetGlobalMsgRecvOptReq,
        resp: Empty,
    }
    /// Profiles by ID.
    GetUsersInfo {
        path: GET_USERS_INFO = "/user/get_users_info",
        access: Any,
        req: GetUsersInfoReq,
        resp: GetUsersInfoResp,
    }
    /// All user IDs, paged.
    GetAllUsersUid {
        path: GET_ALL_USERS_UID = "/user/get_all_users_uid",
        access: Any,
        req: GetAllUsersUidReq,
        resp: GetAllUsersUidResp,
    }
    /// Which IDs are registered.
    AccountCheck {
        path: ACCOUNT_CHECK = "/user/account_check",
        access: Admin,
        req: AccountCheckReq,
        resp: AccountCheckResp,
    }
    /// Users, paged and filtered.
    GetUsers {
        path: GET_USERS = "/user/get_users",
        access: Any,
        req: GetUsersReq,
        resp: GetUsersResp,
    }
    /// Online state and connections (reply `data` is an array).
    GetUsersOnlineStatus {
        path: GET_USERS_ONLINE_STATUS = "/user/get_users_online_status",
        access: Admin,
        req: GetUsersOnlineStatusReq,
        resp: Vec<UserOnlineStatus>,
    }
    /// Tokens of online users (reply `data` is an array).
    GetUsersOnlineTokenDetail {
        path: GET_USERS_ONLINE_TOKEN_DETAIL = "/user/get_users_online_token_detail",
        access: Admin,
        req: GetUsersOnlineStatusReq,
        resp: Vec<UserOnlineTokenDetail>,
    }
    /// Online platforms of users.
    GetUsersStatus {
        path: GET_USERS_STATUS = "/user/get_users_status",
        access: Any,
        req: GetUsersStatusReq,
        resp: UsersStatusResp,
    }
    /// Status subscription (a stub in 3.8: `statusList` null).
    SubscribeUsersStatus {
        path: SUBSCRIBE_USERS_STATUS = "/user/subscribe_users_status",
        access: Any,
        req: SubscribeUsersStatusReq,
        resp: UsersStatusResp,
    }
    /// Subscribed statuses (a stub in 3.8).
    GetSubscribeUsersStatus {
        path: GET_SUBSCRIBE_USERS_STATUS = "/user/get_subscribe_users_status",
        access: Any,
        req: UserIdReq,
        resp: UsersStatusResp,
    }
    /// Adds a user command entry.
    ProcessUserCommandAdd {
        path: PROCESS_USER_COMMAND_ADD = "/user/process_user_command_add",
        access: SelfOrAdmin { field: "userID" },
        req: ProcessUserCommandReq,
        resp: Empty,
    }
    /// Updates a user command entry.
    ProcessUserCommandUpdate {
        path: PROCESS_USER_COMMAND_UPDATE = "/user/process_user_command_update",
        access: SelfOrAdmin { field: "userID" },
        req: ProcessUserCommandReq,
        resp: Empty,
    }
    /// Deletes a user command entry.
    ProcessUserCommandDelete {
        path: PROCESS_USER_COMMAND_DELETE = "/user/process_user_command_delete",
        access: SelfOrAdmin { field: "userID" },
        req: ProcessUserCommandDeleteReq,
        resp: Empty,
    }
    /// User command entries of one type.
    ProcessUserCommandGet {
        path: PROCESS_USER_COMMAND_GET = "/user/process_user_command_get",
        access: SelfOrAdmin { field: "userID" },
        req: ProcessUserCommandGetReq,
        resp: ProcessUserCommandGetResp,
    }
    /// All user command entries.
    ProcessUserCommandGetAll {
        path: PROCESS_USER_COMMAND_GET_ALL = "/user/process_user_command_get_all",
        access: SelfOrAdmin { field: "userID" },
        req: UserIdReq,
        resp: ProcessUserCommandGetResp,
    }
    /// Creates a notification (system/OA) account.
    AddNotificationAccount {
        path: ADD_NOTIFICATION_ACCOUNT = "/user/add_notification_account",
        access: Admin,
        req: AddNotificationAccountReq,
        resp: NotificationAccountInfo,
    }
    /// Updates a notification account.
    UpdateNotificationAccount {
        path: UPDATE_NOTIFICATION_ACCOUNT = "/user/update_notification_account",
        access: Admin,
        req: UpdateNotificationAccountReq,
        resp: Empty,
    }
    /// Searches notification accounts.
    SearchNotificationAccount {
        path: SEARCH_NOTIFICATION_ACCOUNT = "/user/search_notification_account",
        access: Admin,
        req: SearchNotificationAccountReq,
        resp: SearchNotificationAccountResp,
    }
}
