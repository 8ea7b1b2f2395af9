//! `/conversation/...`: conversation settings, lists and version sync (http-api.md §5.5).
//!
//! Access: the baseline checks no ownership on these routes; `[main]` requires self/admin on the
//! owner field, which is the rule given here.

use super::Empty;
pub use super::common::{
    Conversation, ConversationReq, FullIdsUserReq, IncrementalUserReq, Pagination,
};
use super::route::api_routes;
use super::serde_util::json_struct;

json_struct! { @request;
    /// `/conversation/get_sorted_conversation_list` request.
    pub struct GetSortedConversationListReq {
        /// The owner (required).
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Restrict to these (empty = all).
        #[serde(rename = "conversationIDs")]
        pub conversation_ids: Vec<String>,
        /// Page (required).
        pub pagination: Option<Pagination>,
    }
}

json_struct! { @reply;
    /// Latest-message summary in a sorted conversation list (`conversation.MsgInfo`).
    pub struct ConversationMsgInfo {
        /// Server message ID.
        #[serde(rename = "serverMsgID")]
        pub server_msg_id: String,
        /// Client message ID.
        #[serde(rename = "clientMsgID")]
        pub client_msg_id: String,
        /// Session type.
        pub session_type: i32,
        /// Sender.
        #[serde(rename = "sendID")]
        pub send_id: String,
        /// Recipient.
        #[serde(rename = "recvID")]
        pub recv_id: String,
        /// Sender's nickname.
        pub sender_name: String,
        /// Sender's avatar.
        #[serde(rename = "faceURL")]
        pub face_url: String,
        /// Group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Group name.
        pub group_name: String,
        /// Group avatar.
        #[serde(rename = "groupFaceURL")]
        pub group_face_url: String,
        /// Group type.
        pub group_type: i32,
        /// Group member count.
        pub group_member_count: u32,
        /// Latest message time, ms (capitalised key on the wire).
        #[serde(rename = "LatestMsgRecvTime", alias = "latestMsgRecvTime")]
        pub latest_msg_recv_time: i64,
        /// 100 user, 200 system.
        pub msg_from: i32,
        /// Content type.
        pub content_type: i32,
        /// Content as a string.
        pub content: String,
        /// Extension data.
        pub ex: String,
    }
}

json_struct! { @reply;
    /// One element of a sorted conversation list (`conversation.ConversationElem`).
    pub struct ConversationElem {
        /// Conversation ID.
        #[serde(rename = "conversationID")]
        pub conversation_id: String,
        /// Receive option.
        pub recv_msg_opt: i32,
        /// maxSeq - hasReadSeq.
        pub unread_count: i64,
        /// Pinned (capitalised key on the wire).
        #[serde(rename = "IsPinned", alias = "isPinned")]
        pub is_pinned: bool,
        /// Latest message, if any.
        pub msg_info: Option<ConversationMsgInfo>,
    }
}

json_struct! { @reply;
    /// `/conversation/get_sorted_conversation_list` reply.
    pub struct GetSortedConversationListResp {
        /// Conversations that have messages.
        pub conversation_total: i64,
        /// Total unread.
        pub unread_total: i64,
        /// This page: pinned first, then latest message time descending.
        pub conversation_elems: Vec<ConversationElem>,
    }
}

json_struct! { @request;
    /// `/conversation/get_all_conversations` request.
    pub struct OwnerReq {
        /// The owner (required).
        #[serde(rename = "ownerUserID")]
        pub owner_user_id: String,
    }
}

json_struct! { @reply;
    /// Reply listing conversations (`get_all_conversations`, `get_conversations`).
    pub struct ConversationsResp {
        /// The conversations.
        pub conversations: Vec<Conversation>,
    }
}

json_struct! { @request;
    /// `/conversation/get_conversation` request.
    pub struct GetConversationReq {
        /// Conversation (required).
        #[serde(rename = "conversationID")]
        pub conversation_id: String,
        /// Owner (required).
        #[serde(rename = "ownerUserID")]
        pub owner_user_id: String,
    }
}

json_struct! { @reply;
    /// `/conversation/get_conversation` reply.
    pub struct GetConversationResp {
        /// The conversation.
        pub conversation: Option<Conversation>,
    }
}

json_struct! { @request;
    /// `/conversation/get_conversations` request.
    pub struct GetConversationsReq {
        /// Owner.
        #[serde(rename = "ownerUserID")]
        pub owner_user_id: String,
        /// Conversations (non-null; missing ones omitted).
        #[serde(rename = "conversationIDs")]
        pub conversation_ids: Vec<String>,
    }
}

json_struct! { @request;
    /// `/conversation/get_owner_conversation` request.
    pub struct GetOwnerConversationReq {
        /// Owner.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Page.
        pub pagination: Option<Pagination>,
    }
}

json_struct! { @reply;
    /// `/conversation/get_owner_conversation` reply.
    pub struct GetOwnerConversationResp {
        /// Total conversations.
        pub total: i64,
        /// This page.
        pub conversations: Vec<Conversation>,
    }
}

json_struct! { @request;
    /// A request carrying only a `userID` (`get_not_notify_conversation_ids`,
    /// `get_pinned_conversation_ids`).
    pub struct UserIdReq {
        /// Owner.
        #[serde(rename = "userID")]
        pub user_id: String,
    }
}

json_struct! { @reply;
    /// Reply listing conversation IDs.
    pub struct ConversationIdsResp {
        /// Conversation IDs (may be `null`).
        #[serde(rename = "conversationIDs")]
        pub conversation_ids: Vec<String>,
    }
}

json_struct! { @reply;
    /// `/conversation/get_full_conversation_ids` reply (http-api.md §6.3).
    pub struct GetFullConversationIdsResp {
        /// Current log version.
        pub version: u64,
        /// Current log ID.
        #[serde(rename = "versionID")]
        pub version_id: String,
        /// The hash matched (`conversationIDs` then null).
        pub equal: bool,
        /// Conversation IDs.
        #[serde(rename = "conversationIDs")]
        pub conversation_ids: Vec<String>,
    }
}

json_struct! { @reply;
    /// `/conversation/get_incremental_conversations` reply (http-api.md §6.2).
    pub struct GetIncrementalConversationsResp {
        /// Current log version.
        pub version: u64,
        /// Current log ID.
        #[serde(rename = "versionID")]
        pub version_id: String,
        /// Client must discard its list and resync.
        pub full: bool,
        /// Deleted conversation IDs.
        pub delete: Vec<String>,
        /// New conversations.
        pub insert: Vec<Conversation>,
        /// Changed conversations.
        pub update: Vec<Conversation>,
    }
}

json_struct! { @request;
    /// `/conversation/set_conversations` request.
    pub struct SetConversationsReq {
        /// Users whose conversation is upserted (non-null).
        #[serde(rename = "userIDs")]
        pub user_ids: Vec<String>,
        /// The fields to set (required).
        pub conversation: Option<ConversationReq>,
    }
}

json_struct! { @request;
    /// `/conversation/get_conversation_offline_push_user_ids` request.
    pub struct GetConversationOfflinePushUserIdsReq {
        /// Conversation.
        #[serde(rename = "conversationID")]
        pub conversation_id: String,
        /// Candidate users.
        #[serde(rename = "userIDs")]
        pub user_ids: Vec<String>,
    }
}

json_struct! { @reply;
    /// `/conversation/get_conversation_offline_push_user_ids` reply.
    pub struct GetConversationOfflinePushUserIdsResp {
        /// Users that did not mute the conversation.
        #[serde(rename = "userIDs")]
        pub user_ids: Vec<String>,
    }
}

api_routes! {
    /// Conversations sorted for display, with latest messages.
    GetSortedConversationList {
        path: GET_SORTED_CONVERSATION_LIST = "/conversation/get_sorted_conversation_list",
        access: SelfOrAdmin { field: "userID" },
        req: GetSortedConversationListReq,
        resp: GetSortedConversationListResp,
    }
    /// All conversations of an owner.
    GetAllConversations {
        path: GET_ALL_CONVERSATIONS = "/conversation/get_all_conversations",
        access: SelfOrAdmin { field: "ownerUserID" },
        req: OwnerReq,
        resp: ConversationsResp,
    }
    /// One conversation (1004 when missing).
    GetConversation {
        path: GET_CONVERSATION = "/conversation/get_conversation",
        access: SelfOrAdmin { field: "ownerUserID" },
        req: GetConversationReq,
        resp: GetConversationResp,
    }
    /// Selected conversations.
    GetConversations {
        path: GET_CONVERSATIONS = "/conversation/get_conversations",
        access: SelfOrAdmin { field: "ownerUserID" },
        req: GetConversationsReq,
        resp: ConversationsResp,
    }
    /// Conversations of an owner, paged.
    GetOwnerConversation {
        path: GET_OWNER_CONVERSATION = "/conversation/get_owner_conversation",
        access: SelfOrAdmin { field: "userID" },
        req: GetOwnerConversationReq,
        resp: GetOwnerConversationResp,
    }
    /// Conversations with recvMsgOpt 2.
    GetNotNotifyConversationIds {
        path: GET_NOT_NOTIFY_CONVERSATION_IDS = "/conversation/get_not_notify_conversation_ids",
        access: SelfOrAdmin { field: "userID" },
        req: UserIdReq,
        resp: ConversationIdsResp,
    }
    /// Pinned conversations.
    GetPinnedConversationIds {
        path: GET_PINNED_CONVERSATION_IDS = "/conversation/get_pinned_conversation_ids",
        access: SelfOrAdmin { field: "userID" },
        req: UserIdReq,
        resp: ConversationIdsResp,
    }
    /// All conversation IDs with the version head.
    GetFullConversationIds {
        path: GET_FULL_CONVERSATION_IDS = "/conversation/get_full_conversation_ids",
        access: SelfOrAdmin { field: "userID" },
        req: FullIdsUserReq,
        resp: GetFullConversationIdsResp,
    }
    /// Conversation changes since a version.
    GetIncrementalConversations {
        path: GET_INCREMENTAL_CONVERSATIONS = "/conversation/get_incremental_conversations",
        access: SelfOrAdmin { field: "userID" },
        req: IncrementalUserReq,
        resp: GetIncrementalConversationsResp,
    }
    /// Upserts a conversation's settings for users.
    SetConversations {
        path: SET_CONVERSATIONS = "/conversation/set_conversations",
        access: SelfOrAdmin { field: "userIDs" },
        req: SetConversationsReq,
        resp: Empty,
    }
    /// Users that did not mute a conversation (baseline only).
    GetConversationOfflinePushUserIds {
        path: GET_CONVERSATION_OFFLINE_PUSH_USER_IDS = "/conversation/get_conversation_offline_push_user_ids",
        access: Any,
        req: GetConversationOfflinePushUserIdsReq,
        resp: GetConversationOfflinePushUserIdsResp,
    }
}
