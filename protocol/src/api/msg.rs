//! `/msg/...`: admin sends, revoke, read marks, seqs and pulls, deletion (http-api.md §5.4).

use std::collections::BTreeMap;

use super::Empty;
pub use super::common::{MsgData, OfflinePushInfo, Pagination, PullMsgs};
use super::route::api_routes;
use super::serde_util::json_struct;

json_struct! { @request;
    /// `/msg/send_msg` request (admin token; sends **as** `sendID`).
    ///
    /// `content` is the element JSON object of the content type, e.g. `{"content":"hi"}` for text.
    pub struct SendMsgReq {
        /// Recipient (required for sessionType 1 and 4).
        #[serde(rename = "recvID")]
        pub recv_id: String,
        /// The account the message is sent as (required).
        #[serde(rename = "sendID")]
        pub send_id: String,
        /// Group (required for sessionType 3).
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Copied verbatim into the message.
        pub sender_nickname: String,
        /// Copied verbatim into the message.
        #[serde(rename = "senderFaceURL")]
        pub sender_face_url: String,
        /// Sender platform (0 if absent).
        #[serde(rename = "senderPlatformID")]
        pub sender_platform_id: i32,
        /// The element JSON object (required).
        pub content: serde_json::Value,
        /// Content type (required, non-zero): 101 text, 106 @text, 110 custom, 1400 OA …
        pub content_type: i32,
        /// 1 single, 3 group, 4 notification chat (required).
        pub session_type: i32,
        /// Not stored, not synced, no conversation update.
        pub is_online_only: bool,
        /// No offline push.
        pub not_offline_push: bool,
        /// Send time, ms (0 = server time).
        pub send_time: i64,
        /// Offline push settings.
        pub offline_push_info: Option<OfflinePushInfo>,
        /// Extension data.
        pub ex: String,
    }
}

impl SendMsgReq {
    /// A single-chat (sessionType 1) message from `send_id` to `recv_id`.
    pub fn single(
        send_id: impl Into<String>,
        recv_id: impl Into<String>,
        content_type: i32,
        content: serde_json::Value,
    ) -> Self {
        Self {
            send_id: send_id.into(),
            recv_id: recv_id.into(),
            content_type,
            content,
            session_type: 1,
            ..Self::default()
        }
    }

    /// A group-chat (sessionType 3) message from `send_id` to `group_id`.
    pub fn group(
        send_id: impl Into<String>,
        group_id: impl Into<String>,
        content_type: i32,
        content: serde_json::Value,
    ) -> Self {
        Self {
            send_id: send_id.into(),
            group_id: group_id.into(),
            content_type,
            content,
            session_type: 3,
            ..Self::default()
        }
    }
}

json_struct! { @reply;
    /// Reply of `send_msg`, `send_business_notification` and `send_simple_msg`.
    pub struct SendMsgResp {
        /// Server message ID (32 hex chars; empty when the recipient's option dropped it).
        #[serde(rename = "serverMsgID")]
        pub server_msg_id: String,
        /// Client message ID (32 hex chars).
        #[serde(rename = "clientMsgID")]
        pub client_msg_id: String,
        /// Send time, ms.
        pub send_time: i64,
        /// `null` in the baseline; on `[main]` (omitted when empty) a map of MsgData fields changed
        /// by the `beforeMsgModify` webhook. Kept as raw JSON.
        pub modify: Option<serde_json::Value>,
    }
}

json_struct! { @request;
    /// `/msg/batch_send_msg` request: the send_msg fields without `recvID`, plus the recipients.
    pub struct BatchSendMsgReq {
        /// The account the message is sent as.
        #[serde(rename = "sendID")]
        pub send_id: String,
        /// Group (sessionType 3).
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Copied into the message.
        pub sender_nickname: String,
        /// Copied into the message.
        #[serde(rename = "senderFaceURL")]
        pub sender_face_url: String,
        /// Sender platform.
        #[serde(rename = "senderPlatformID")]
        pub sender_platform_id: i32,
        /// Element JSON object.
        pub content: serde_json::Value,
        /// Content type.
        pub content_type: i32,
        /// Session type for every recipient.
        pub session_type: i32,
        /// Not stored.
        pub is_online_only: bool,
        /// No offline push.
        pub not_offline_push: bool,
        /// Send time, ms (0 = now).
        pub send_time: i64,
        /// Offline push settings.
        pub offline_push_info: Option<OfflinePushInfo>,
        /// Extension data.
        pub ex: String,
        /// Send to every registered user.
        pub is_send_all: bool,
        /// Recipients (must be non-null even with `isSendAll`).
        #[serde(rename = "recvIDs")]
        pub recv_ids: Vec<String>,
    }
}

json_struct! { @reply;
    /// One delivered copy in `/msg/batch_send_msg`.
    pub struct BatchSendResult {
        /// Server message ID.
        #[serde(rename = "serverMsgID")]
        pub server_msg_id: String,
        /// Client message ID (the same for every recipient).
        #[serde(rename = "clientMsgID")]
        pub client_msg_id: String,
        /// Send time, ms.
        pub send_time: i64,
        /// Recipient.
        #[serde(rename = "recvID")]
        pub recv_id: String,
    }
}

json_struct! { @reply;
    /// `/msg/batch_send_msg` reply.
    pub struct BatchSendMsgResp {
        /// Successful sends.
        pub results: Vec<BatchSendResult>,
        /// Recipients that failed.
        #[serde(rename = "failedUserIDs")]
        pub failed_user_ids: Vec<String>,
    }
}

json_struct! { @request;
    /// `/msg/send_business_notification` request (content type 2001, online-only in the baseline).
    pub struct SendBusinessNotificationReq {
        /// Business key.
        pub key: String,
        /// Business payload.
        pub data: String,
        /// Sender (required).
        #[serde(rename = "sendUserID")]
        pub send_user_id: String,
        /// Recipient user.
        #[serde(rename = "recvUserID")]
        pub recv_user_id: String,
        /// `[main]`: recipient group instead of a user.
        #[serde(rename = "recvGroupID", skip_serializing_if = "Option::is_none")]
        pub recv_group_id: Option<String>,
        /// `[main]`: also send as a message.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub send_msg: Option<bool>,
        /// `[main]`: reliability level (default 1 = online-only).
        #[serde(skip_serializing_if = "Option::is_none")]
        pub reliability_level: Option<i32>,
    }
}

json_struct! { @request;
    /// `/msg/send_simple_msg?key=…` body (`[main]`): a markdown reply using a webhook's `key`.
    pub struct SendSimpleMsgReq {
        /// Sender (required for group replies).
        #[serde(rename = "sendID")]
        pub send_id: String,
        /// Markdown text (required).
        pub content: String,
        /// Offline push settings.
        pub offline_push_info: Option<OfflinePushInfo>,
        /// Extension data.
        pub ex: String,
    }
}

json_struct! { @request;
    /// The reply handle of `/msg/send_simple_msg?key=…` (`[main]`): the triggering message's
    /// `{sendID, recvID, groupID}`, which the server appends (base64 JSON) to the URLs of the
    /// afterSendSingleMsg / afterSendGroupMsg / afterMsgSaveDB webhooks.
    pub struct SimpleMsgKey {
        /// Sender of the message replied to.
        #[serde(rename = "sendID")]
        pub send_id: String,
        /// Its recipient (single chat); the reply is sent from this user.
        #[serde(rename = "recvID")]
        pub recv_id: String,
        /// Its group (group chat).
        #[serde(rename = "groupID")]
        pub group_id: String,
    }
}

impl SimpleMsgKey {
    /// The `key` query value: standard base64 of the JSON (URL-encode it when building a URL).
    pub fn encode(&self) -> String {
        use base64::Engine as _;
        // Serialising a struct of strings cannot fail.
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::STANDARD.encode(json)
    }

    /// Parses a `key` query value (already URL-decoded).
    pub fn decode(key: &str) -> Result<Self, crate::ProtocolError> {
        use base64::Engine as _;
        let json = base64::engine::general_purpose::STANDARD
            .decode(key.as_bytes())
            .map_err(|source| crate::ProtocolError::Base64 {
                what: "send_simple_msg key",
                source,
            })?;
        serde_json::from_slice(&json).map_err(|source| crate::ProtocolError::Json {
            what: "send_simple_msg key",
            source,
        })
    }
}

json_struct! { @request;
    /// `/msg/revoke_msg` request.
    pub struct RevokeMsgReq {
        /// Conversation of the message.
        #[serde(rename = "conversationID")]
        pub conversation_id: String,
        /// Seq of the message (>= 1).
        pub seq: i64,
        /// The revoker.
        #[serde(rename = "userID")]
        pub user_id: String,
    }
}

json_struct! { @request;
    /// `/msg/mark_msgs_as_read` request.
    pub struct MarkMsgsAsReadReq {
        /// Conversation.
        #[serde(rename = "conversationID")]
        pub conversation_id: String,
        /// Seqs to mark (non-empty, no 0).
        pub seqs: Vec<i64>,
        /// The reader.
        #[serde(rename = "userID")]
        pub user_id: String,
    }
}

json_struct! { @request;
    /// `/msg/mark_conversation_as_read` request.
    pub struct MarkConversationAsReadReq {
        /// Conversation.
        #[serde(rename = "conversationID")]
        pub conversation_id: String,
        /// The reader.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// New has-read seq (>= 1).
        pub has_read_seq: i64,
        /// Extra seqs to mark read.
        pub seqs: Vec<i64>,
    }
}

json_struct! { @request;
    /// `/msg/set_conversation_has_read_seq` request.
    pub struct SetConversationHasReadSeqReq {
        /// Conversation.
        #[serde(rename = "conversationID")]
        pub conversation_id: String,
        /// The reader.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// New has-read seq (may lower it).
        pub has_read_seq: i64,
        /// Ignored upstream.
        pub no_notification: bool,
    }
}

json_struct! { @request;
    /// `/msg/get_conversations_has_read_and_max_seq` request.
    pub struct GetConversationsHasReadAndMaxSeqReq {
        /// The user.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Conversations (empty = all of the user's).
        #[serde(rename = "conversationIDs")]
        pub conversation_ids: Vec<String>,
        /// Also return pinned IDs (ignored by the baseline).
        pub return_pinned: bool,
    }
}

json_struct! { @reply;
    /// Seq state of one conversation (`msg.Seqs`).
    pub struct Seqs {
        /// Highest seq (or the user's cap).
        pub max_seq: i64,
        /// The user's has-read seq.
        pub has_read_seq: i64,
        /// Send time of the max-seq message, ms.
        pub max_seq_time: i64,
    }
}

json_struct! { @reply;
    /// `/msg/get_conversations_has_read_and_max_seq` reply.
    pub struct GetConversationsHasReadAndMaxSeqResp {
        /// conversationID → seqs.
        pub seqs: BTreeMap<String, Seqs>,
        /// Pinned conversation IDs (`null` in the baseline).
        #[serde(rename = "pinnedConversationIDs")]
        pub pinned_conversation_ids: Vec<String>,
    }
}

json_struct! { @request;
    /// A request carrying only a `userID` (`/msg/newest_seq`).
    pub struct UserIdReq {
        /// The user.
        #[serde(rename = "userID")]
        pub user_id: String,
    }
}

json_struct! { @reply;
    /// `/msg/newest_seq` reply (`sdkws.GetMaxSeqResp`).
    pub struct NewestSeqResp {
        /// conversationID → max seq (non-zero entries only).
        pub max_seqs: BTreeMap<String, i64>,
        /// Always `null` on this route.
        pub min_seqs: BTreeMap<String, i64>,
    }
}

json_struct! { @request;
    /// A seq range of one conversation (`sdkws.SeqRange`).
    pub struct SeqRange {
        /// Conversation (`n_…` IDs are notification conversations).
        #[serde(rename = "conversationID")]
        pub conversation_id: String,
        /// First seq.
        pub begin: i64,
        /// Last seq.
        pub end: i64,
        /// At most this many messages (ignored for `n_…`).
        pub num: i64,
    }
}

json_struct! { @request;
    /// `/msg/pull_msg_by_seq` request (`sdkws.PullMessageBySeqsReq`).
    pub struct PullMsgBySeqReq {
        /// The user.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Ranges to pull.
        pub seq_ranges: Vec<SeqRange>,
        /// 0 ascending, 1 descending.
        pub order: i32,
    }
}

json_struct! { @reply;
    /// `/msg/pull_msg_by_seq` reply (`sdkws.PullMessageBySeqsResp`).
    pub struct PullMsgBySeqResp {
        /// Chat conversations.
        pub msgs: BTreeMap<String, PullMsgs>,
        /// Notification (`n_…`) conversations.
        pub notification_msgs: BTreeMap<String, PullMsgs>,
    }
}

json_struct! { @request;
    /// `/msg/search_msg` request.
    pub struct SearchMsgReq {
        /// Sender filter.
        #[serde(rename = "sendID")]
        pub send_id: String,
        /// Recipient or group filter.
        #[serde(rename = "recvID")]
        pub recv_id: String,
        /// Content-type filter.
        pub content_type: i32,
        /// Day filter, `YYYY-MM-DD`.
        pub send_time: String,
        /// Session-type filter.
        pub session_type: i32,
        /// Page.
        pub pagination: Option<Pagination>,
    }
}

json_struct! { @reply;
    /// A stored message as the admin search shows it (`msg.ChatLog`).
    pub struct ChatLog {
        /// Server message ID.
        #[serde(rename = "serverMsgID")]
        pub server_msg_id: String,
        /// Client message ID.
        #[serde(rename = "clientMsgID")]
        pub client_msg_id: String,
        /// Sender.
        #[serde(rename = "sendID")]
        pub send_id: String,
        /// Recipient (the groupID for group messages).
        #[serde(rename = "recvID")]
        pub recv_id: String,
        /// Group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Recipient's nickname.
        pub recv_nickname: String,
        /// Sender platform.
        #[serde(rename = "senderPlatformID")]
        pub sender_platform_id: i32,
        /// Sender nickname.
        pub sender_nickname: String,
        /// Sender avatar (the group's avatar for group messages: upstream quirk).
        #[serde(rename = "senderFaceURL")]
        pub sender_face_url: String,
        /// Group name.
        pub group_name: String,
        /// Session type.
        pub session_type: i32,
        /// 100 user, 200 system.
        pub msg_from: i32,
        /// Content type.
        pub content_type: i32,
        /// Content as a string.
        pub content: String,
        /// Message status.
        pub status: i32,
        /// Send time, ms.
        pub send_time: i64,
        /// Creation time, ms.
        pub create_time: i64,
        /// Extension data.
        pub ex: String,
        /// Group avatar (left empty upstream).
        #[serde(rename = "groupFaceURL")]
        pub group_face_url: String,
        /// Group member count.
        pub group_member_count: u32,
        /// Seq.
        pub seq: i64,
        /// Group owner.
        pub group_owner: String,
        /// Group type.
        pub group_type: i32,
    }
}

json_struct! { @reply;
    /// One hit of `/msg/search_msg`.
    pub struct SearchChatLog {
        /// The message.
        pub chat_log: Option<ChatLog>,
        /// It was revoked.
        pub is_revoked: bool,
    }
}

json_struct! { @reply;
    /// `/msg/search_msg` reply.
    pub struct SearchMsgResp {
        /// Hits.
        pub chat_logs: Vec<SearchChatLog>,
        /// Total hits.
        pub chat_logs_num: i32,
    }
}

json_struct! { @request;
    /// Who else learns about a deletion (`msg.DeleteSyncOpt`; capitalised keys on the wire).
    pub struct DeleteSyncOpt {
        /// Notify the user's own other devices.
        #[serde(rename = "IsSyncSelf", alias = "isSyncSelf")]
        pub is_sync_self: bool,
        /// Delete for everyone and notify the peer/group.
        #[serde(rename = "IsSyncOther", alias = "isSyncOther")]
        pub is_sync_other: bool,
    }
}

json_struct! { @request;
    /// `/msg/clear_conversation_msg` request.
    pub struct ClearConversationMsgReq {
        /// Conversations to clear (non-null).
        #[serde(rename = "conversationIDs")]
        pub conversation_ids: Vec<String>,
        /// The user.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Sync options.
        pub delete_sync_opt: Option<DeleteSyncOpt>,
    }
}

json_struct! { @request;
    /// `/msg/user_clear_all_msg` request.
    pub struct UserClearAllMsgReq {
        /// The user.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Sync options.
        pub delete_sync_opt: Option<DeleteSyncOpt>,
    }
}

json_struct! { @request;
    /// `/msg/delete_msgs` request.
    pub struct DeleteMsgsReq {
        /// Conversation.
        #[serde(rename = "conversationID")]
        pub conversation_id: String,
        /// Seqs to delete (non-null).
        pub seqs: Vec<i64>,
        /// The user.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Sync options.
        pub delete_sync_opt: Option<DeleteSyncOpt>,
    }
}

json_struct! { @request;
    /// `/msg/delete_msg_phsical_by_seq` (sic) request.
    pub struct DeleteMsgPhysicalBySeqReq {
        /// Conversation.
        #[serde(rename = "conversationID")]
        pub conversation_id: String,
        /// Seqs to destroy.
        pub seqs: Vec<i64>,
    }
}

json_struct! { @request;
    /// `/msg/delete_msg_physical` request (maintenance).
    pub struct DeleteMsgPhysicalReq {
        /// Conversations (non-null).
        #[serde(rename = "conversationIDs")]
        pub conversation_ids: Vec<String>,
        /// Destroy messages older than this, ms.
        pub timestamp: i64,
    }
}

json_struct! { @reply;
    /// `/msg/check_msg_is_send_success` reply.
    pub struct CheckMsgIsSendSuccessResp {
        /// Status recorded under the request's operationID: 0 unknown, 1 sending, 2 success, 3 failed.
        pub status: i32,
    }
}

json_struct! { @reply;
    /// `/msg/get_server_time` reply.
    pub struct GetServerTimeResp {
        /// Server time, ms.
        pub server_time: i64,
    }
}

api_routes! {
    /// Sends a message as any account (admin only; users send over the WebSocket).
    SendMsg {
        path: SEND_MSG = "/msg/send_msg",
        access: Admin,
        req: SendMsgReq,
        resp: SendMsgResp,
    }
    /// Sends one message to many users.
    BatchSendMsg {
        path: BATCH_SEND_MSG = "/msg/batch_send_msg",
        access: Admin,
        req: BatchSendMsgReq,
        resp: BatchSendMsgResp,
    }
    /// Sends a business notification (content type 2001).
    SendBusinessNotification {
        path: SEND_BUSINESS_NOTIFICATION = "/msg/send_business_notification",
        access: Admin,
        req: SendBusinessNotificationReq,
        resp: SendMsgResp,
    }
    /// Markdown reply using a webhook `?key=` handle (append the query yourself).
    SendSimpleMsg {
        path: SEND_SIMPLE_MSG = "/msg/send_simple_msg",
        access: Any,
        req: SendSimpleMsgReq,
        resp: SendMsgResp,
        since: Main,
    }
    /// Revokes a message.
    RevokeMsg {
        path: REVOKE_MSG = "/msg/revoke_msg",
        access: SelfOrAdmin { field: "userID" },
        req: RevokeMsgReq,
        resp: Empty,
    }
    /// Marks given seqs read.
    MarkMsgsAsRead {
        path: MARK_MSGS_AS_READ = "/msg/mark_msgs_as_read",
        access: SelfOrAdmin { field: "userID" },
        req: MarkMsgsAsReadReq,
        resp: Empty,
    }
    /// Marks a conversation read up to a seq.
    MarkConversationAsRead {
        path: MARK_CONVERSATION_AS_READ = "/msg/mark_conversation_as_read",
        access: SelfOrAdmin { field: "userID" },
        req: MarkConversationAsReadReq,
        resp: Empty,
    }
    /// Sets the has-read seq.
    SetConversationHasReadSeq {
        path: SET_CONVERSATION_HAS_READ_SEQ = "/msg/set_conversation_has_read_seq",
        access: SelfOrAdmin { field: "userID" },
        req: SetConversationHasReadSeqReq,
        resp: Empty,
    }
    /// Max and has-read seqs per conversation.
    GetConversationsHasReadAndMaxSeq {
        path: GET_CONVERSATIONS_HAS_READ_AND_MAX_SEQ = "/msg/get_conversations_has_read_and_max_seq",
        access: SelfOrAdmin { field: "userID" },
        req: GetConversationsHasReadAndMaxSeqReq,
        resp: GetConversationsHasReadAndMaxSeqResp,
    }
    /// Max seqs of all the user's conversations.
    NewestSeq {
        path: NEWEST_SEQ = "/msg/newest_seq",
        access: SelfOrAdmin { field: "userID" },
        req: UserIdReq,
        resp: NewestSeqResp,
    }
    /// Pulls messages by seq ranges.
    PullMsgBySeq {
        path: PULL_MSG_BY_SEQ = "/msg/pull_msg_by_seq",
        access: SelfOrAdmin { field: "userID" },
        req: PullMsgBySeqReq,
        resp: PullMsgBySeqResp,
    }
    /// Admin-console message search.
    SearchMsg {
        path: SEARCH_MSG = "/msg/search_msg",
        access: Any,
        req: SearchMsgReq,
        resp: SearchMsgResp,
    }
    /// Clears conversations' messages.
    ClearConversationMsg {
        path: CLEAR_CONVERSATION_MSG = "/msg/clear_conversation_msg",
        access: SelfOrAdmin { field: "userID" },
        req: ClearConversationMsgReq,
        resp: Empty,
    }
    /// Clears all the user's messages.
    UserClearAllMsg {
        path: USER_CLEAR_ALL_MSG = "/msg/user_clear_all_msg",
        access: SelfOrAdmin { field: "userID" },
        req: UserClearAllMsgReq,
        resp: Empty,
    }
    /// Deletes messages.
    DeleteMsgs {
        path: DELETE_MSGS = "/msg/delete_msgs",
        access: SelfOrAdmin { field: "userID" },
        req: DeleteMsgsReq,
        resp: Empty,
    }
    /// Destroys messages by seq (path misspelt upstream; v3.8.3 checks no more than a valid token).
    DeleteMsgPhysicalBySeq {
        path: DELETE_MSG_PHSICAL_BY_SEQ = "/msg/delete_msg_phsical_by_seq",
        access: Any,
        req: DeleteMsgPhysicalBySeqReq,
        resp: Empty,
    }
    /// Destroys old messages.
    DeleteMsgPhysical {
        path: DELETE_MSG_PHYSICAL = "/msg/delete_msg_physical",
        access: Admin,
        req: DeleteMsgPhysicalReq,
        resp: Empty,
    }
    /// Send status recorded under the request's operationID.
    CheckMsgIsSendSuccess {
        path: CHECK_MSG_IS_SEND_SUCCESS = "/msg/check_msg_is_send_success",
        access: Any,
        req: Empty,
        resp: CheckMsgIsSendSuccessResp,
    }
    /// Server time.
    GetServerTime {
        path: GET_SERVER_TIME = "/msg/get_server_time",
        access: Any,
        req: Empty,
        resp: GetServerTimeResp,
    }
}
