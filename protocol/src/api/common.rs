//! Shared object schemas of the HTTP API (http-api.md §3), as the Go server writes them.
//!
//! Times are Unix milliseconds unless a field says otherwise (http-api.md §1.5 time table).

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::serde_util::{GoNil, json_struct};

json_struct! { @request;
    /// Page selector (`sdkws.RequestPagination`): `pageNumber` is 1-based.
    pub struct Pagination {
        /// 1-based page number (`< 1` → 1001 on routes that check it).
        pub page_number: i32,
        /// Page size (`<= 0` → empty page; no upper cap).
        pub show_number: i32,
    }
}

impl Pagination {
    /// Page `page_number` (1-based) of `show_number` entries.
    pub fn new(page_number: i32, show_number: i32) -> Self {
        Self {
            page_number,
            show_number,
        }
    }
}

json_struct! { @reply;
    /// A user's full profile (`sdkws.UserInfo`).
    pub struct UserInfo {
        /// User ID (letters, digits and `_` only).
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Display name.
        pub nickname: String,
        /// Avatar URL.
        #[serde(rename = "faceURL")]
        pub face_url: String,
        /// Free-form extension data.
        pub ex: String,
        /// Registration time, ms.
        pub create_time: i64,
        /// (sic) 0/1 ordinary, 2 app admin, 3 notification account, 4 robot admin.
        pub app_manger_level: i32,
        /// 0 receive, 1 do not receive, 2 receive without notification.
        pub global_recv_msg_opt: i32,
    }
}

json_struct! { @reply;
    /// The public part of a profile (`sdkws.PublicUserInfo`).
    pub struct PublicUserInfo {
        /// User ID.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Display name.
        pub nickname: String,
        /// Avatar URL.
        #[serde(rename = "faceURL")]
        pub face_url: String,
        /// Extension data.
        pub ex: String,
    }
}

json_struct! { @request;
    /// Profile update with "unchanged" markers (`sdkws.UserInfoWithEx`): `None` = leave as is.
    pub struct UserInfoWithEx {
        /// The user to update (required).
        #[serde(rename = "userID")]
        pub user_id: String,
        /// New display name.
        pub nickname: Option<String>,
        /// New avatar URL.
        #[serde(rename = "faceURL")]
        pub face_url: Option<String>,
        /// New extension data.
        pub ex: Option<String>,
        /// New global receive option (0..2).
        pub global_recv_msg_opt: Option<i32>,
    }
}

json_struct! { @reply;
    /// A friend as seen by its owner (`sdkws.FriendInfo`).
    pub struct FriendInfo {
        /// The list owner.
        #[serde(rename = "ownerUserID")]
        pub owner_user_id: String,
        /// The owner's remark for this friend.
        pub remark: String,
        /// When the friendship was created: **seconds** in list replies, ms in
        /// `get_specified_friends_info`.
        pub create_time: i64,
        /// The friend's profile (only userID, nickname, faceURL, ex filled); `None` where the server
        /// sends `null`.
        pub friend_user: Option<UserInfo>,
        /// 1 imported by admin, 2 via application.
        pub add_source: i32,
        /// Who created the relation.
        #[serde(rename = "operatorUserID")]
        pub operator_user_id: String,
        /// Extension data.
        pub ex: String,
        /// Pinned in the owner's list.
        pub is_pinned: bool,
    }
}

json_struct! { @reply;
    /// A friend relation without the nested profile (`relation.FriendInfoOnly`).
    pub struct FriendInfoOnly {
        /// The list owner.
        #[serde(rename = "ownerUserID")]
        pub owner_user_id: String,
        /// The friend.
        #[serde(rename = "friendUserID")]
        pub friend_user_id: String,
        /// The owner's remark.
        pub remark: String,
        /// Creation time, ms.
        pub create_time: i64,
        /// 1 imported by admin, 2 via application.
        pub add_source: i32,
        /// Who created the relation.
        #[serde(rename = "operatorUserID")]
        pub operator_user_id: String,
        /// Extension data.
        pub ex: String,
        /// Pinned in the owner's list.
        pub is_pinned: bool,
    }
}

json_struct! { @reply;
    /// A blacklist entry (`sdkws.BlackInfo`).
    pub struct BlackInfo {
        /// The blacklist owner.
        #[serde(rename = "ownerUserID")]
        pub owner_user_id: String,
        /// Seconds in `get_black_list`, ms in `get_specified_blacks`.
        pub create_time: i64,
        /// The blocked user.
        pub black_user_info: Option<PublicUserInfo>,
        /// How the entry was added.
        pub add_source: i32,
        /// Who added it.
        #[serde(rename = "operatorUserID")]
        pub operator_user_id: String,
        /// Extension data.
        pub ex: String,
    }
}

json_struct! { @reply;
    /// A friend application (`sdkws.FriendRequest`).
    pub struct FriendRequest {
        /// Applicant.
        #[serde(rename = "fromUserID")]
        pub from_user_id: String,
        /// Applicant's nickname.
        pub from_nickname: String,
        /// Applicant's avatar.
        #[serde(rename = "fromFaceURL")]
        pub from_face_url: String,
        /// Recipient.
        #[serde(rename = "toUserID")]
        pub to_user_id: String,
        /// Recipient's nickname.
        pub to_nickname: String,
        /// Recipient's avatar.
        #[serde(rename = "toFaceURL")]
        pub to_face_url: String,
        /// 0 pending, 1 agreed, -1 refused.
        pub handle_result: i32,
        /// Application message.
        pub req_msg: String,
        /// Creation time, ms.
        pub create_time: i64,
        /// Who handled it.
        #[serde(rename = "handlerUserID")]
        pub handler_user_id: String,
        /// Handling message.
        pub handle_msg: String,
        /// Handling time, ms (0 if never handled).
        pub handle_time: i64,
        /// Extension data.
        pub ex: String,
    }
}

json_struct! { @reply;
    /// A group (`sdkws.GroupInfo`).
    pub struct GroupInfo {
        /// Group ID (server-generated numeric string when created without one).
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Name.
        pub group_name: String,
        /// Announcement.
        pub notification: String,
        /// Introduction.
        pub introduction: String,
        /// Avatar URL.
        #[serde(rename = "faceURL")]
        pub face_url: String,
        /// Current owner (the member with roleLevel 100).
        #[serde(rename = "ownerUserID")]
        pub owner_user_id: String,
        /// Creation time, ms.
        pub create_time: i64,
        /// Member count.
        pub member_count: u32,
        /// Extension data.
        pub ex: String,
        /// 0 normal, 1 banned, 2 dismissed, 3 muted.
        pub status: i32,
        /// Creator as supplied at creation.
        #[serde(rename = "creatorUserID")]
        pub creator_user_id: String,
        /// Group type (2 = working group, the only one accepted).
        pub group_type: i32,
        /// 0 applications need approval, 1 all need approval unless invited by a manager, 2 join directly.
        pub need_verification: i32,
        /// Member-info visibility flag.
        pub look_member_info: i32,
        /// Whether members may add each other as friends.
        pub apply_member_friend: i32,
        /// When the announcement was last set, ms.
        pub notification_update_time: i64,
        /// Who last set the announcement.
        #[serde(rename = "notificationUserID")]
        pub notification_user_id: String,
    }
}

json_struct! { @request;
    /// Group update for `/group/set_group_info` (`group.GroupInfoForSet`): empty strings and `None`
    /// mean "unchanged".
    pub struct GroupInfoForSet {
        /// The group (required).
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// New name ("" = unchanged).
        pub group_name: String,
        /// New announcement ("" = unchanged).
        pub notification: String,
        /// New introduction ("" = unchanged).
        pub introduction: String,
        /// New avatar ("" = unchanged).
        #[serde(rename = "faceURL")]
        pub face_url: String,
        /// New extension data.
        pub ex: Option<String>,
        /// New verification mode.
        pub need_verification: Option<i32>,
        /// New member-info visibility.
        pub look_member_info: Option<i32>,
        /// New member-friend flag.
        pub apply_member_friend: Option<i32>,
    }
}

json_struct! { @reply;
    /// A group member (`sdkws.GroupMemberFullInfo`).
    pub struct GroupMemberFullInfo {
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// The member.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// 100 owner, 60 admin, 20 member.
        pub role_level: i32,
        /// Join time, ms.
        pub join_time: i64,
        /// Group nickname (falls back to the user's nickname).
        pub nickname: String,
        /// Group avatar (falls back to the user's avatar).
        #[serde(rename = "faceURL")]
        pub face_url: String,
        /// Always 0 in API replies.
        pub app_manger_level: i32,
        /// 1 by admin, 2 invitation, 3 search, 4 QR code.
        pub join_source: i32,
        /// Who added the member.
        #[serde(rename = "operatorUserID")]
        pub operator_user_id: String,
        /// Extension data.
        pub ex: String,
        /// Mute end time, ms (0 = not muted).
        pub mute_end_time: i64,
        /// Who invited the member.
        #[serde(rename = "inviterUserID")]
        pub inviter_user_id: String,
    }
}

json_struct! { @reply;
    /// A group application (`sdkws.GroupRequest`).
    pub struct GroupRequest {
        /// The applicant.
        pub user_info: Option<PublicUserInfo>,
        /// The group.
        pub group_info: Option<GroupInfo>,
        /// 0 pending, 1 accepted, -1 refused.
        pub handle_result: i32,
        /// Application message.
        pub req_msg: String,
        /// Handling message.
        pub handle_msg: String,
        /// Application time, ms.
        pub req_time: i64,
        /// Never filled by the server.
        #[serde(rename = "handleUserID")]
        pub handle_user_id: String,
        /// Never filled by the server.
        pub handle_time: i64,
        /// Extension data.
        pub ex: String,
        /// How the applicant wants to join (1..4).
        pub join_source: i32,
        /// Inviter (for invitation requests).
        #[serde(rename = "inviterUserID")]
        pub inviter_user_id: String,
    }
}

json_struct! { @reply;
    /// A user's conversation settings (`conversation.Conversation`).
    pub struct Conversation {
        /// The user this row belongs to.
        #[serde(rename = "ownerUserID")]
        pub owner_user_id: String,
        /// `si_…`, `sg_…`, `sn_…` or `n_…`.
        #[serde(rename = "conversationID")]
        pub conversation_id: String,
        /// 0 receive, 1 do not receive, 2 receive silently.
        pub recv_msg_opt: i32,
        /// 1 single, 3 group, 4 notification.
        pub conversation_type: i32,
        /// Peer (single chat).
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Group (group chat).
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Pinned.
        pub is_pinned: bool,
        /// Client-defined attachment.
        pub attached_info: String,
        /// Private (burn-after-reading) chat.
        pub is_private_chat: bool,
        /// 0 none, 1 @me, 2 @all, 3 @all+@me, 4 announcement.
        pub group_at_type: i32,
        /// Extension data.
        pub ex: String,
        /// Burn duration, seconds.
        pub burn_duration: i32,
        /// Lowest visible seq.
        pub min_seq: i64,
        /// Highest visible seq (0 = unlimited).
        pub max_seq: i64,
        /// Message destruct period, seconds.
        pub msg_destruct_time: i64,
        /// Last destruct run, ms (`-62135596800000` when never set).
        pub latest_msg_destruct_time: i64,
        /// Messages self-destruct.
        pub is_msg_destruct: bool,
    }
}

json_struct! { @request;
    /// Conversation update for `/conversation/set_conversations` (`conversation.ConversationReq`):
    /// `None` = unchanged.
    pub struct ConversationReq {
        /// Conversation ID.
        #[serde(rename = "conversationID")]
        pub conversation_id: String,
        /// 1 single, 3 group, 4 notification (required, non-zero).
        pub conversation_type: i32,
        /// Peer (required for type 1).
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Group (required for type 3).
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Receive option.
        pub recv_msg_opt: Option<i32>,
        /// Pinned.
        pub is_pinned: Option<bool>,
        /// Client attachment.
        pub attached_info: Option<String>,
        /// Private chat.
        pub is_private_chat: Option<bool>,
        /// Extension data.
        pub ex: Option<String>,
        /// Burn duration, seconds.
        pub burn_duration: Option<i32>,
        /// Ignored by set_conversations.
        pub min_seq: Option<i64>,
        /// Ignored by set_conversations.
        pub max_seq: Option<i64>,
        /// @-state.
        pub group_at_type: Option<i32>,
        /// Destruct period, seconds.
        pub msg_destruct_time: Option<i64>,
        /// Self-destruct flag.
        pub is_msg_destruct: Option<bool>,
    }
}

json_struct! { @reply;
    /// Offline push settings of a message (`sdkws.OfflinePushInfo`).
    pub struct OfflinePushInfo {
        /// Push title.
        pub title: String,
        /// Push body.
        pub desc: String,
        /// Extension data.
        pub ex: String,
        /// iOS sound name.
        #[serde(rename = "iOSPushSound")]
        pub ios_push_sound: String,
        /// iOS badge.
        #[serde(rename = "iOSBadgeCount")]
        pub ios_badge_count: bool,
        /// Signalling payload.
        pub signal_info: String,
    }
}

/// A protobuf `bytes` field in JSON: standard base64 with padding; empty → `null` (Go nil slice).
#[derive(Clone, PartialEq, Eq, Default, Hash)]
pub struct Base64Bytes(pub Vec<u8>);

impl std::fmt::Debug for Base64Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match std::str::from_utf8(&self.0) {
            Ok(text) => write!(f, "Base64Bytes({text:?})"),
            Err(_) => write!(f, "Base64Bytes({} bytes)", self.0.len()),
        }
    }
}

impl From<Vec<u8>> for Base64Bytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl super::ApiReply for Base64Bytes {}

impl GoNil for Base64Bytes {
    fn is_go_nil(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Base64Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Base64Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Option::<String>::deserialize(deserializer)?.unwrap_or_default();
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map(Base64Bytes)
            .map_err(|e| serde::de::Error::custom(format_args!("invalid base64 bytes: {e}")))
    }
}

json_struct! { @reply;
    /// A message in JSON form (`sdkws.MsgData`), as carried by `/msg/pull_msg_by_seq` replies.
    pub struct MsgData {
        /// Sender.
        #[serde(rename = "sendID")]
        pub send_id: String,
        /// Recipient user (single/notification chat).
        #[serde(rename = "recvID")]
        pub recv_id: String,
        /// Group (group chat).
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Client-generated message ID.
        #[serde(rename = "clientMsgID")]
        pub client_msg_id: String,
        /// Server-generated message ID.
        #[serde(rename = "serverMsgID")]
        pub server_msg_id: String,
        /// Sender's platform.
        #[serde(rename = "senderPlatformID")]
        pub sender_platform_id: i32,
        /// Sender's nickname.
        pub sender_nickname: String,
        /// Sender's avatar.
        #[serde(rename = "senderFaceURL")]
        pub sender_face_url: String,
        /// 1 single, 3 group, 4 notification.
        pub session_type: i32,
        /// 100 user, 200 system.
        pub msg_from: i32,
        /// Content type (http-api.md §4.2).
        pub content_type: i32,
        /// The element JSON bytes (base64 in JSON).
        pub content: Base64Bytes,
        /// Sequence number in the conversation.
        pub seq: i64,
        /// Send time, ms.
        pub send_time: i64,
        /// Creation time, ms.
        pub create_time: i64,
        /// 1 sending, 2 success, 3 failed, 4 deleted, 5 filtered.
        pub status: i32,
        /// Read flag.
        pub is_read: bool,
        /// Option flags (a missing key means `true`).
        pub options: BTreeMap<String, bool>,
        /// Offline push settings.
        pub offline_push_info: Option<OfflinePushInfo>,
        /// Mentioned users.
        #[serde(rename = "atUserIDList")]
        pub at_user_id_list: Vec<String>,
        /// Client attachment.
        pub attached_info: String,
        /// Extension data.
        pub ex: String,
    }
}

json_struct! { @reply;
    /// Messages of one conversation in a pull reply (`sdkws.PullMsgs`).
    pub struct PullMsgs {
        /// The messages (capitalised key on the wire).
        #[serde(rename = "Msgs", alias = "msgs")]
        pub msgs: Vec<MsgData>,
        /// No more messages in the pull direction.
        pub is_end: bool,
        /// Always 0 on `/msg/pull_msg_by_seq`.
        pub end_seq: i64,
    }
}

json_struct! { @request;
    /// Incremental-sync request keyed by a user (`get_incremental_friends`,
    /// `get_incremental_join_groups`, `get_incremental_conversations`): the version the client last
    /// stored (`""`/`0` initially), http-api.md §6.2.
    pub struct IncrementalUserReq {
        /// The user whose list is synchronised.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Stored version log ID (24 hex chars), `""` initially.
        #[serde(rename = "versionID")]
        pub version_id: String,
        /// Stored version, 0 initially.
        pub version: u64,
    }
}

json_struct! { @request;
    /// Full-ID request keyed by a user (`get_full_friend_user_ids`, `get_full_join_group_ids`,
    /// `get_full_conversation_ids`), http-api.md §6.3.
    pub struct FullIdsUserReq {
        /// Hash of the client's ID list (SDKs always send 0).
        pub id_hash: u64,
        /// The user.
        #[serde(rename = "userID")]
        pub user_id: String,
    }
}
