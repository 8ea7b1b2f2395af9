//! Protobuf payloads carried on the gateway and the `/jssdk` routes.
//!
//! Field numbers follow the OpenIM protocol (sdkws/msg/push/jssdk/conversation packages).
//! These are private to the sandbox until `openim_protocol::pb` provides the same messages.

use std::collections::HashMap;

/// `sdkws.OfflinePushInfo`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct OfflinePushInfo {
    #[prost(string, tag = "1")]
    pub title: String,
    #[prost(string, tag = "2")]
    pub desc: String,
    #[prost(string, tag = "3")]
    pub ex: String,
    #[prost(string, tag = "4")]
    pub i_os_push_sound: String,
    #[prost(bool, tag = "5")]
    pub i_os_badge_count: bool,
    #[prost(string, tag = "6")]
    pub signal_info: String,
}

/// `sdkws.MsgData`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MsgData {
    #[prost(string, tag = "1")]
    pub send_id: String,
    #[prost(string, tag = "2")]
    pub recv_id: String,
    #[prost(string, tag = "3")]
    pub group_id: String,
    #[prost(string, tag = "4")]
    pub client_msg_id: String,
    #[prost(string, tag = "5")]
    pub server_msg_id: String,
    #[prost(int32, tag = "6")]
    pub sender_platform_id: i32,
    #[prost(string, tag = "7")]
    pub sender_nickname: String,
    #[prost(string, tag = "8")]
    pub sender_face_url: String,
    #[prost(int32, tag = "9")]
    pub session_type: i32,
    #[prost(int32, tag = "10")]
    pub msg_from: i32,
    #[prost(int32, tag = "11")]
    pub content_type: i32,
    #[prost(bytes = "vec", tag = "12")]
    pub content: Vec<u8>,
    #[prost(int64, tag = "14")]
    pub seq: i64,
    #[prost(int64, tag = "15")]
    pub send_time: i64,
    #[prost(int64, tag = "16")]
    pub create_time: i64,
    #[prost(int32, tag = "17")]
    pub status: i32,
    #[prost(bool, tag = "18")]
    pub is_read: bool,
    #[prost(map = "string, bool", tag = "19")]
    pub options: HashMap<String, bool>,
    #[prost(message, optional, tag = "20")]
    pub offline_push_info: Option<OfflinePushInfo>,
    #[prost(string, repeated, tag = "21")]
    pub at_user_id_list: Vec<String>,
    #[prost(string, tag = "22")]
    pub attached_info: String,
    #[prost(string, tag = "23")]
    pub ex: String,
}

/// `sdkws.PullMsgs`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PullMsgs {
    #[prost(message, repeated, tag = "1")]
    pub msgs: Vec<MsgData>,
    #[prost(bool, tag = "2")]
    pub is_end: bool,
    #[prost(int64, tag = "3")]
    pub end_seq: i64,
}

/// One `map<string, PullMsgs>` entry. Encoded as an explicit entry message so that an empty
/// `PullMsgs` value is still written (`12 00`), as Go does; the JS client drops keys without a value.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PullMsgsEntry {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(message, optional, tag = "2")]
    pub value: Option<PullMsgs>,
}

/// `sdkws.PushMessages`, `sdkws.PullMessageBySeqsResp` and `msg.GetSeqMessageResp` share this layout.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PushMessages {
    #[prost(message, repeated, tag = "1")]
    pub msgs: Vec<PullMsgsEntry>,
    #[prost(message, repeated, tag = "2")]
    pub notification_msgs: Vec<PullMsgsEntry>,
}

impl PushMessages {
    /// Adds a chat (`notification` false) or notification conversation entry.
    pub fn insert(&mut self, notification: bool, conversation_id: String, value: PullMsgs) {
        let entry = PullMsgsEntry {
            key: conversation_id,
            value: Some(value),
        };
        if notification {
            self.notification_msgs.push(entry);
        } else {
            self.msgs.push(entry);
        }
    }
    /// Looks up an entry in `msgs` or `notification_msgs`.
    pub fn get(&self, conversation_id: &str) -> Option<&PullMsgs> {
        self.msgs
            .iter()
            .chain(self.notification_msgs.iter())
            .find(|e| e.key == conversation_id)
            .and_then(|e| e.value.as_ref())
    }
}

/// `sdkws.GetMaxSeqReq`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetMaxSeqReq {
    #[prost(string, tag = "1")]
    pub user_id: String,
}

/// `sdkws.GetMaxSeqResp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetMaxSeqResp {
    #[prost(map = "string, int64", tag = "1")]
    pub max_seqs: HashMap<String, i64>,
    #[prost(map = "string, int64", tag = "2")]
    pub min_seqs: HashMap<String, i64>,
}

/// `sdkws.SeqRange`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SeqRange {
    #[prost(string, tag = "1")]
    pub conversation_id: String,
    #[prost(int64, tag = "2")]
    pub begin: i64,
    #[prost(int64, tag = "3")]
    pub end: i64,
    #[prost(int64, tag = "4")]
    pub num: i64,
}

/// `sdkws.PullMessageBySeqsReq`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PullMessageBySeqsReq {
    #[prost(string, tag = "1")]
    pub user_id: String,
    #[prost(message, repeated, tag = "2")]
    pub seq_ranges: Vec<SeqRange>,
    #[prost(int32, tag = "3")]
    pub order: i32,
}

/// `msg.ConversationSeqs` (numbering starts at 2).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ConversationSeqs {
    #[prost(string, tag = "2")]
    pub conversation_id: String,
    #[prost(int64, repeated, tag = "3")]
    pub seqs: Vec<i64>,
}

/// `msg.GetSeqMessageReq`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetSeqMessageReq {
    #[prost(string, tag = "1")]
    pub user_id: String,
    #[prost(message, repeated, tag = "2")]
    pub conversations: Vec<ConversationSeqs>,
    #[prost(int32, tag = "3")]
    pub order: i32,
}

/// `msg.GetConversationsHasReadAndMaxSeqReq`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetConversationsHasReadAndMaxSeqReq {
    #[prost(string, tag = "1")]
    pub user_id: String,
    #[prost(string, repeated, tag = "2")]
    pub conversation_ids: Vec<String>,
    #[prost(bool, tag = "3")]
    pub return_pinned: bool,
}

/// `msg.Seqs`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Seqs {
    #[prost(int64, tag = "1")]
    pub max_seq: i64,
    #[prost(int64, tag = "2")]
    pub has_read_seq: i64,
    #[prost(int64, tag = "3")]
    pub max_seq_time: i64,
}

/// One `map<string, Seqs>` entry (value always written, see [`PullMsgsEntry`]).
#[derive(Clone, PartialEq, prost::Message)]
pub struct SeqsEntry {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(message, optional, tag = "2")]
    pub value: Option<Seqs>,
}

/// `msg.GetConversationsHasReadAndMaxSeqResp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetConversationsHasReadAndMaxSeqResp {
    #[prost(message, repeated, tag = "1")]
    pub seqs: Vec<SeqsEntry>,
}

/// `msg.GetLastMessageReq`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetLastMessageReq {
    #[prost(string, tag = "1")]
    pub user_id: String,
    #[prost(string, repeated, tag = "2")]
    pub conversation_ids: Vec<String>,
}

/// `msg.GetLastMessageResp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetLastMessageResp {
    #[prost(map = "string, message", tag = "1")]
    pub msgs: HashMap<String, MsgData>,
}

/// `msg.SendMsgResp` / `sdkws.UserSendMsgResp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SendMsgResp {
    #[prost(string, tag = "1")]
    pub server_msg_id: String,
    #[prost(string, tag = "2")]
    pub client_msg_id: String,
    #[prost(int64, tag = "3")]
    pub send_time: i64,
}

/// `push.DelUserPushTokenReq`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DelUserPushTokenReq {
    #[prost(string, tag = "1")]
    pub user_id: String,
    #[prost(int32, tag = "2")]
    pub platform_id: i32,
}

/// `sdkws.SetAppBackgroundStatusReq`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SetAppBackgroundStatusReq {
    #[prost(string, tag = "1")]
    pub user_id: String,
    #[prost(bool, tag = "2")]
    pub is_background: bool,
}

/// `sdkws.SubUserOnlineStatus`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SubUserOnlineStatus {
    #[prost(string, repeated, tag = "1")]
    pub subscribe_user_id: Vec<String>,
    #[prost(string, repeated, tag = "2")]
    pub unsubscribe_user_id: Vec<String>,
}

/// `sdkws.SubUserOnlineStatusElem`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SubUserOnlineStatusElem {
    #[prost(string, tag = "1")]
    pub user_id: String,
    #[prost(int32, repeated, tag = "2")]
    pub online_platform_ids: Vec<i32>,
}

/// `sdkws.SubUserOnlineStatusTips`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SubUserOnlineStatusTips {
    #[prost(message, repeated, tag = "1")]
    pub subscribers: Vec<SubUserOnlineStatusElem>,
}

/// `conversation.Conversation`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PbConversation {
    #[prost(string, tag = "1")]
    pub owner_user_id: String,
    #[prost(string, tag = "2")]
    pub conversation_id: String,
    #[prost(int32, tag = "3")]
    pub recv_msg_opt: i32,
    #[prost(int32, tag = "4")]
    pub conversation_type: i32,
    #[prost(string, tag = "5")]
    pub user_id: String,
    #[prost(string, tag = "6")]
    pub group_id: String,
    #[prost(bool, tag = "7")]
    pub is_pinned: bool,
    #[prost(string, tag = "8")]
    pub attached_info: String,
    #[prost(bool, tag = "9")]
    pub is_private_chat: bool,
    #[prost(int32, tag = "10")]
    pub group_at_type: i32,
    #[prost(string, tag = "11")]
    pub ex: String,
    #[prost(int32, tag = "12")]
    pub burn_duration: i32,
    #[prost(int64, tag = "13")]
    pub min_seq: i64,
    #[prost(int64, tag = "14")]
    pub max_seq: i64,
    #[prost(int64, tag = "15")]
    pub msg_destruct_time: i64,
    #[prost(int64, tag = "16")]
    pub latest_msg_destruct_time: i64,
    #[prost(bool, tag = "17")]
    pub is_msg_destruct: bool,
}

/// `sdkws.UserInfo`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PbUserInfo {
    #[prost(string, tag = "1")]
    pub user_id: String,
    #[prost(string, tag = "2")]
    pub nickname: String,
    #[prost(string, tag = "3")]
    pub face_url: String,
    #[prost(string, tag = "4")]
    pub ex: String,
    #[prost(int64, tag = "5")]
    pub create_time: i64,
    #[prost(int32, tag = "6")]
    pub app_manger_level: i32,
    #[prost(int32, tag = "7")]
    pub global_recv_msg_opt: i32,
}

/// `relation.FriendInfoOnly`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PbFriendInfoOnly {
    #[prost(string, tag = "1")]
    pub owner_user_id: String,
    #[prost(string, tag = "2")]
    pub friend_user_id: String,
    #[prost(string, tag = "3")]
    pub remark: String,
    #[prost(int64, tag = "4")]
    pub create_time: i64,
    #[prost(int32, tag = "5")]
    pub add_source: i32,
    #[prost(string, tag = "6")]
    pub operator_user_id: String,
    #[prost(string, tag = "7")]
    pub ex: String,
    #[prost(bool, tag = "8")]
    pub is_pinned: bool,
}

/// `sdkws.GroupInfo`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PbGroupInfo {
    #[prost(string, tag = "1")]
    pub group_id: String,
    #[prost(string, tag = "2")]
    pub group_name: String,
    #[prost(string, tag = "3")]
    pub notification: String,
    #[prost(string, tag = "4")]
    pub introduction: String,
    #[prost(string, tag = "5")]
    pub face_url: String,
    #[prost(string, tag = "6")]
    pub owner_user_id: String,
    #[prost(int64, tag = "7")]
    pub create_time: i64,
    #[prost(uint32, tag = "8")]
    pub member_count: u32,
    #[prost(string, tag = "9")]
    pub ex: String,
    #[prost(int32, tag = "10")]
    pub status: i32,
    #[prost(string, tag = "11")]
    pub creator_user_id: String,
    #[prost(int32, tag = "12")]
    pub group_type: i32,
    #[prost(int32, tag = "13")]
    pub need_verification: i32,
    #[prost(int32, tag = "14")]
    pub look_member_info: i32,
    #[prost(int32, tag = "15")]
    pub apply_member_friend: i32,
    #[prost(int64, tag = "16")]
    pub notification_update_time: i64,
    #[prost(string, tag = "17")]
    pub notification_user_id: String,
}

/// `jssdk.ConversationMsg`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ConversationMsg {
    #[prost(message, optional, tag = "1")]
    pub conversation: Option<PbConversation>,
    #[prost(message, optional, tag = "2")]
    pub last_msg: Option<MsgData>,
    #[prost(message, optional, tag = "3")]
    pub user: Option<PbUserInfo>,
    #[prost(message, optional, tag = "4")]
    pub friend: Option<PbFriendInfoOnly>,
    #[prost(message, optional, tag = "5")]
    pub group: Option<PbGroupInfo>,
    #[prost(int64, tag = "6")]
    pub max_seq: i64,
    #[prost(int64, tag = "7")]
    pub read_seq: i64,
}

/// `jssdk.GetActiveConversationsReq`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetActiveConversationsReq {
    #[prost(string, tag = "1")]
    pub owner_user_id: String,
    #[prost(int64, tag = "2")]
    pub count: i64,
}

/// `jssdk.GetConversationsReq`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetConversationsReq {
    #[prost(string, tag = "1")]
    pub owner_user_id: String,
    #[prost(string, repeated, tag = "2")]
    pub conversation_ids: Vec<String>,
}

/// `jssdk.GetActiveConversationsResp` / `jssdk.GetConversationsResp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ConversationsResp {
    #[prost(int64, tag = "1")]
    pub unread_count: i64,
    #[prost(message, repeated, tag = "2")]
    pub conversations: Vec<ConversationMsg>,
}
