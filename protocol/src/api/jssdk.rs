//! `/jssdk/...`: the two conversation helpers of `@openim/client-sdk` (http-api.md §5.8).
//!
//! The server replaces `ownerUserID` with the token's user. Two encodings:
//! * JSON (`Content-Type` empty or `application/json`): the types below.
//! * protobuf (`Content-Type` containing `application/x-protobuf` or `application/protobuf`, what
//!   the JS client uses): the body is the binary `pb::jssdk` request and the envelope's `data` is a
//!   base64 string of the binary response (`""` when empty): decode with
//!   `ApiResponse<`[`Base64Bytes`]`>`.
//!
//! These replies are assembled in the API process, so empty lists here are `[]`, not `null`.

pub use super::common::{Base64Bytes, Conversation, FriendInfoOnly, GroupInfo, MsgData, UserInfo};
use super::route::api_routes;
use super::serde_util::json_struct;

/// Content-Type of the protobuf mode.
pub const CONTENT_TYPE_PROTOBUF: &str = "application/x-protobuf";

/// True when the server would treat a request with this `Content-Type` as protobuf.
pub fn is_protobuf_content_type(content_type: &str) -> bool {
    content_type.contains("application/protobuf") || content_type.contains("application/x-protobuf")
}

/// True when the server would treat a request with this `Content-Type` as JSON (others → 1001).
pub fn is_json_content_type(content_type: &str) -> bool {
    content_type.is_empty() || content_type.contains("application/json")
}

json_struct! { @request;
    /// `/jssdk/get_active_conversations` request (JSON mode).
    pub struct GetActiveConversationsReq {
        /// Ignored (replaced by the token's user).
        #[serde(rename = "ownerUserID")]
        pub owner_user_id: String,
        /// How many (<= 0 or > 500 → 100).
        pub count: i64,
    }
}

json_struct! { @request;
    /// `/jssdk/get_conversations` request (JSON mode).
    pub struct GetConversationsReq {
        /// Ignored (replaced by the token's user).
        #[serde(rename = "ownerUserID")]
        pub owner_user_id: String,
        /// Conversations wanted.
        #[serde(rename = "conversationIDs")]
        pub conversation_ids: Vec<String>,
    }
}

json_struct! { @request;
    /// A conversation with its latest message and peer (`jssdk.ConversationMsg`).
    pub struct ConversationMsg {
        /// The conversation.
        pub conversation: Option<Conversation>,
        /// The latest (non-deleted) message.
        pub last_msg: Option<MsgData>,
        /// Peer profile (single chat).
        pub user: Option<UserInfo>,
        /// Friend relation with the peer, if any.
        pub friend: Option<FriendInfoOnly>,
        /// The group (group chat).
        pub group: Option<GroupInfo>,
        /// Conversation max seq.
        pub max_seq: i64,
        /// The user's has-read seq.
        pub read_seq: i64,
    }
}

json_struct! { @request;
    /// Reply of both `/jssdk` routes (JSON mode).
    pub struct ConversationsMsgResp {
        /// Sum of unread counts.
        pub unread_count: i64,
        /// The conversations.
        pub conversations: Vec<ConversationMsg>,
    }
}

api_routes! {
    /// The user's most recent conversations with their last messages.
    GetActiveConversations {
        path: JSSDK_GET_ACTIVE_CONVERSATIONS = "/jssdk/get_active_conversations",
        access: Any,
        req: GetActiveConversationsReq,
        resp: ConversationsMsgResp,
    }
    /// Selected conversations with their last messages.
    GetConversations {
        path: JSSDK_GET_CONVERSATIONS = "/jssdk/get_conversations",
        access: Any,
        req: GetConversationsReq,
        resp: ConversationsMsgResp,
    }
}
