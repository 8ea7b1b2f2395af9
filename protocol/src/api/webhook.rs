//! Webhook (callback) bodies: the server POSTs JSON to `<url>/<callbackCommand>` with an
//! `operationID` header (http-api.md §8).
//!
//! Requests (server → your endpoint) are written the Go way: every field present, `null` for nil
//! lists and unset values. Replies ([`CallbackResp`] plus modification fields) may omit any field but
//! must use the right JSON types; a body that does not decode makes the server fail the operation
//! with 90007. `actionCode == 0 && nextCode == 1` rejects a before-callback.
//!
//! Use the command names of [`commands`] (from `pkg/callbackstruct`), not the similarly named
//! constants of the protocol repository.

use std::collections::BTreeMap;

use super::common::{OfflinePushInfo, UserInfo};
use super::serde_util::json_struct;

/// The `callbackCommand` values, also the last URL path segment.
pub mod commands {
    /// beforeSendSingleMsg.
    pub const BEFORE_SEND_SINGLE_MSG: &str = "callbackBeforeSendSingleMsgCommand";
    /// afterSendSingleMsg.
    pub const AFTER_SEND_SINGLE_MSG: &str = "callbackAfterSendSingleMsgCommand";
    /// beforeSendGroupMsg.
    pub const BEFORE_SEND_GROUP_MSG: &str = "callbackBeforeSendGroupMsgCommand";
    /// afterSendGroupMsg.
    pub const AFTER_SEND_GROUP_MSG: &str = "callbackAfterSendGroupMsgCommand";
    /// beforeMsgModify.
    pub const BEFORE_MSG_MODIFY: &str = "callbackBeforeMsgModifyCommand";
    /// afterSingleMsgRead.
    pub const AFTER_SINGLE_MSG_READ: &str = "callbackAfterSingleMsgReadCommand";
    /// afterGroupMsgRead.
    pub const AFTER_GROUP_MSG_READ: &str = "callbackAfterGroupMsgReadCommand";
    /// afterRevokeMsg (sic: the upstream value).
    pub const AFTER_REVOKE_MSG: &str = "callbackBeforeAfterMsgCommand";
    /// `[main]` afterMsgSaveDB.
    pub const AFTER_MSG_SAVE_DB: &str = "callbackAfterMsgSaveDBCommand";
    /// beforeOnlinePush.
    pub const BEFORE_ONLINE_PUSH: &str = "callbackBeforeOnlinePushCommand";
    /// beforeOfflinePush.
    pub const BEFORE_OFFLINE_PUSH: &str = "callbackBeforeOfflinePushCommand";
    /// beforeGroupOnlinePush.
    pub const BEFORE_GROUP_ONLINE_PUSH: &str = "callbackBeforeGroupOnlinePushCommand";
    /// afterUserOnline.
    pub const AFTER_USER_ONLINE: &str = "callbackAfterUserOnlineCommand";
    /// afterUserOffline.
    pub const AFTER_USER_OFFLINE: &str = "callbackAfterUserOfflineCommand";
    /// afterUserKickOff (configurable, never fired in 3.8).
    pub const AFTER_USER_KICK_OFF: &str = "callbackAfterUserKickOffCommand";
    /// beforeUserRegister.
    pub const BEFORE_USER_REGISTER: &str = "callbackBeforeUserRegisterCommand";
    /// afterUserRegister.
    pub const AFTER_USER_REGISTER: &str = "callbackAfterUserRegisterCommand";
    /// beforeUpdateUserInfo.
    pub const BEFORE_UPDATE_USER_INFO: &str = "callbackBeforeUpdateUserInfoCommand";
    /// afterUpdateUserInfo.
    pub const AFTER_UPDATE_USER_INFO: &str = "callbackAfterUpdateUserInfoCommand";
    /// beforeUpdateUserInfoEx.
    pub const BEFORE_UPDATE_USER_INFO_EX: &str = "callbackBeforeUpdateUserInfoExCommand";
    /// afterUpdateUserInfoEx.
    pub const AFTER_UPDATE_USER_INFO_EX: &str = "callbackAfterUpdateUserInfoExCommand";
    /// beforeAddFriend.
    pub const BEFORE_ADD_FRIEND: &str = "callbackBeforeAddFriendCommand";
    /// afterAddFriend.
    pub const AFTER_ADD_FRIEND: &str = "callbackAfterAddFriendCommand";
    /// beforeAddFriendAgree.
    pub const BEFORE_ADD_FRIEND_AGREE: &str = "callbackBeforeAddFriendAgreeCommand";
    /// afterAddFriendAgree.
    pub const AFTER_ADD_FRIEND_AGREE: &str = "callbackAfterAddFriendAgreeCommand";
    /// afterDeleteFriend.
    pub const AFTER_DELETE_FRIEND: &str = "callbackAfterDeleteFriendCommand";
    /// beforeImportFriends.
    pub const BEFORE_IMPORT_FRIENDS: &str = "callbackBeforeImportFriendsCommand";
    /// afterImportFriends.
    pub const AFTER_IMPORT_FRIENDS: &str = "callbackAfterImportFriendsCommand";
    /// beforeSetFriendRemark.
    pub const BEFORE_SET_FRIEND_REMARK: &str = "callbackBeforeSetFriendRemarkCommand";
    /// afterSetFriendRemark.
    pub const AFTER_SET_FRIEND_REMARK: &str = "callbackAfterSetFriendRemarkCommand";
    /// beforeAddBlack.
    pub const BEFORE_ADD_BLACK: &str = "callbackBeforeAddBlackCommand";
    /// afterRemoveBlack.
    pub const AFTER_REMOVE_BLACK: &str = "callbackAfterRemoveBlackCommand";
    /// beforeCreateGroup.
    pub const BEFORE_CREATE_GROUP: &str = "callbackBeforeCreateGroupCommand";
    /// afterCreateGroup.
    pub const AFTER_CREATE_GROUP: &str = "callbackAfterCreateGroupCommand";
    /// beforeMemberJoinGroup.
    pub const BEFORE_MEMBERS_JOIN_GROUP: &str = "callbackBeforeMembersJoinGroupCommand";
    /// beforeSetGroupMemberInfo.
    pub const BEFORE_SET_GROUP_MEMBER_INFO: &str = "callbackBeforeSetGroupMemberInfoCommand";
    /// afterSetGroupMemberInfo.
    pub const AFTER_SET_GROUP_MEMBER_INFO: &str = "callbackAfterSetGroupMemberInfoCommand";
    /// afterQuitGroup.
    pub const AFTER_QUIT_GROUP: &str = "callbackAfterQuitGroupCommand";
    /// afterKickGroupMember.
    pub const AFTER_KICK_GROUP: &str = "callbackAfterKickGroupCommand";
    /// afterDismissGroup (sic capitalisation).
    pub const AFTER_DISMISS_GROUP: &str = "callbackAfterDisMissGroupCommand";
    /// beforeApplyJoinGroup.
    pub const BEFORE_JOIN_GROUP: &str = "callbackBeforeJoinGroupCommand";
    /// afterJoinGroup.
    pub const AFTER_JOIN_GROUP: &str = "callbackAfterJoinGroupCommand";
    /// beforeInviteUserToGroup.
    pub const BEFORE_INVITE_JOIN_GROUP: &str = "callbackBeforeInviteJoinGroupCommand";
    /// afterTransferGroupOwner.
    pub const AFTER_TRANSFER_GROUP_OWNER: &str = "callbackAfterTransferGroupOwnerCommand";
    /// beforeSetGroupInfo.
    pub const BEFORE_SET_GROUP_INFO: &str = "callbackBeforeSetGroupInfoCommand";
    /// afterSetGroupInfo.
    pub const AFTER_SET_GROUP_INFO: &str = "callbackAfterSetGroupInfoCommand";
    /// beforeSetGroupInfoEx.
    pub const BEFORE_SET_GROUP_INFO_EX: &str = "callbackBeforeSetGroupInfoExCommand";
    /// afterSetGroupInfoEx.
    pub const AFTER_SET_GROUP_INFO_EX: &str = "callbackAfterSetGroupInfoExCommand";
}

/// Whether the triggering operation waits for the callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallbackKind {
    /// Synchronous; may reject or modify (http-api.md §8.3).
    Before,
    /// Queued; the reply is ignored.
    After,
}

/// One webhook: its `webhooks.yml` key, its command and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallbackSpec {
    /// Key in `config/webhooks.yml` (e.g. `beforeSendSingleMsg`).
    pub config_key: &'static str,
    /// `callbackCommand` value and URL suffix.
    pub command: &'static str,
    /// Before or after.
    pub kind: CallbackKind,
}

macro_rules! callback_table {
    ($($key:literal => $cmd:ident, $kind:ident;)*) => {
        /// Every baseline webhook that has a command (http-api.md §8.1 config keys; the configurable
        /// `afterGroupMsgRevoke` has none and never fires), plus `afterMsgSaveDB` (`[main]`).
        pub const CALLBACKS: &[CallbackSpec] = &[
            $(CallbackSpec { config_key: $key, command: commands::$cmd, kind: CallbackKind::$kind },)*
        ];
    };
}

callback_table! {
    "beforeSendSingleMsg" => BEFORE_SEND_SINGLE_MSG, Before;
    "afterSendSingleMsg" => AFTER_SEND_SINGLE_MSG, After;
    "beforeSendGroupMsg" => BEFORE_SEND_GROUP_MSG, Before;
    "afterSendGroupMsg" => AFTER_SEND_GROUP_MSG, After;
    "beforeMsgModify" => BEFORE_MSG_MODIFY, Before;
    "afterSingleMsgRead" => AFTER_SINGLE_MSG_READ, After;
    "afterGroupMsgRead" => AFTER_GROUP_MSG_READ, After;
    "afterRevokeMsg" => AFTER_REVOKE_MSG, After;
    "afterMsgSaveDB" => AFTER_MSG_SAVE_DB, After;
    "beforeOnlinePush" => BEFORE_ONLINE_PUSH, Before;
    "beforeOfflinePush" => BEFORE_OFFLINE_PUSH, Before;
    "beforeGroupOnlinePush" => BEFORE_GROUP_ONLINE_PUSH, Before;
    "afterUserOnline" => AFTER_USER_ONLINE, After;
    "afterUserOffline" => AFTER_USER_OFFLINE, After;
    "afterUserKickOff" => AFTER_USER_KICK_OFF, After;
    "beforeUserRegister" => BEFORE_USER_REGISTER, Before;
    "afterUserRegister" => AFTER_USER_REGISTER, After;
    "beforeUpdateUserInfo" => BEFORE_UPDATE_USER_INFO, Before;
    "afterUpdateUserInfo" => AFTER_UPDATE_USER_INFO, After;
    "beforeUpdateUserInfoEx" => BEFORE_UPDATE_USER_INFO_EX, Before;
    "afterUpdateUserInfoEx" => AFTER_UPDATE_USER_INFO_EX, After;
    "beforeAddFriend" => BEFORE_ADD_FRIEND, Before;
    "afterAddFriend" => AFTER_ADD_FRIEND, After;
    "beforeAddFriendAgree" => BEFORE_ADD_FRIEND_AGREE, Before;
    "afterAddFriendAgree" => AFTER_ADD_FRIEND_AGREE, After;
    "afterDeleteFriend" => AFTER_DELETE_FRIEND, After;
    "beforeImportFriends" => BEFORE_IMPORT_FRIENDS, Before;
    "afterImportFriends" => AFTER_IMPORT_FRIENDS, After;
    "beforeSetFriendRemark" => BEFORE_SET_FRIEND_REMARK, Before;
    "afterSetFriendRemark" => AFTER_SET_FRIEND_REMARK, After;
    "beforeAddBlack" => BEFORE_ADD_BLACK, Before;
    "afterRemoveBlack" => AFTER_REMOVE_BLACK, After;
    "beforeCreateGroup" => BEFORE_CREATE_GROUP, Before;
    "afterCreateGroup" => AFTER_CREATE_GROUP, After;
    "beforeMemberJoinGroup" => BEFORE_MEMBERS_JOIN_GROUP, Before;
    "beforeSetGroupMemberInfo" => BEFORE_SET_GROUP_MEMBER_INFO, Before;
    "afterSetGroupMemberInfo" => AFTER_SET_GROUP_MEMBER_INFO, After;
    "afterQuitGroup" => AFTER_QUIT_GROUP, After;
    "afterKickGroupMember" => AFTER_KICK_GROUP, After;
    "afterDismissGroup" => AFTER_DISMISS_GROUP, After;
    "beforeApplyJoinGroup" => BEFORE_JOIN_GROUP, Before;
    "afterJoinGroup" => AFTER_JOIN_GROUP, After;
    "beforeInviteUserToGroup" => BEFORE_INVITE_JOIN_GROUP, Before;
    "afterTransferGroupOwner" => AFTER_TRANSFER_GROUP_OWNER, After;
    "beforeSetGroupInfo" => BEFORE_SET_GROUP_INFO, Before;
    "afterSetGroupInfo" => AFTER_SET_GROUP_INFO, After;
    "beforeSetGroupInfoEx" => BEFORE_SET_GROUP_INFO_EX, Before;
    "afterSetGroupInfoEx" => AFTER_SET_GROUP_INFO_EX, After;
}

/// The spec of a webhook by config key or command name.
pub fn find_callback(key_or_command: &str) -> Option<&'static CallbackSpec> {
    CALLBACKS
        .iter()
        .find(|spec| spec.config_key == key_or_command || spec.command == key_or_command)
}

json_struct! { @reply;
    /// The common reply of every callback (`CommonCallbackResp`). After-callback replies are ignored.
    pub struct CallbackResp {
        /// 0 = the webhook handled the call.
        pub action_code: i32,
        /// Error code returned to the caller on reject (<= 0 becomes 500).
        pub err_code: i32,
        /// Error message on reject.
        pub err_msg: String,
        /// Error detail on reject.
        pub err_dlt: String,
        /// 1 = stop (reject) when `actionCode` is 0.
        pub next_code: i32,
    }
}

impl CallbackResp {
    /// Lets the operation proceed: `{"actionCode":0,"nextCode":0}`.
    pub fn allow() -> Self {
        Self::default()
    }

    /// Rejects the operation; the caller receives `code`/`msg` (pick a code outside the server's
    /// ranges, e.g. 5001).
    pub fn reject(code: i32, msg: impl Into<String>) -> Self {
        Self {
            err_code: code,
            err_msg: msg.into(),
            next_code: 1,
            ..Self::default()
        }
    }

    /// True when this reply rejects a before-callback (`actionCode == 0 && nextCode == 1`).
    pub fn is_reject(&self) -> bool {
        self.action_code == 0 && self.next_code == 1
    }

    /// The error code the server returns on reject: `errCode`, or 500 when it is <= 0.
    pub fn reject_code(&self) -> i32 {
        if self.err_code <= 0 {
            500
        } else {
            self.err_code
        }
    }
}

json_struct! { @reply;
    /// Message callbacks (`CommonCallbackReq` + `recvID` or `groupID`): before/after send single and
    /// group message, beforeMsgModify (neither target key) and `[main]` afterMsgSaveDB.
    pub struct MsgCallbackReq {
        /// Sender.
        #[serde(rename = "sendID")]
        pub send_id: String,
        /// The command.
        pub callback_command: String,
        /// Server message ID.
        #[serde(rename = "serverMsgID")]
        pub server_msg_id: String,
        /// Client message ID.
        #[serde(rename = "clientMsgID")]
        pub client_msg_id: String,
        /// Operation ID of the triggering request.
        #[serde(rename = "operationID")]
        pub operation_id: String,
        /// Sender platform.
        #[serde(rename = "senderPlatformID")]
        pub sender_platform_id: i32,
        /// Sender nickname.
        pub sender_nickname: String,
        /// Session type.
        pub session_type: i32,
        /// 100 user, 200 system.
        pub msg_from: i32,
        /// Content type.
        pub content_type: i32,
        /// Always 0.
        pub status: i32,
        /// Send time, ms.
        pub send_time: i64,
        /// Creation time, ms.
        pub create_time: i64,
        /// Content as a string (`""` for notification types 1000–5000).
        pub content: String,
        /// 0 in send callbacks (assigned later); the real seq in afterMsgSaveDB.
        pub seq: u32,
        /// Mentioned users (= MsgData.atUserIDList; note the key).
        #[serde(rename = "atUserList")]
        pub at_user_list: Vec<String>,
        /// Sender avatar.
        #[serde(rename = "faceURL")]
        pub face_url: String,
        /// Extension data.
        pub ex: String,
        /// Recipient (single-chat callbacks only).
        #[serde(rename = "recvID", skip_serializing_if = "Option::is_none")]
        pub recv_id: Option<String>,
        /// Group (group callbacks only).
        #[serde(rename = "groupID", skip_serializing_if = "Option::is_none")]
        pub group_id: Option<String>,
    }
}

json_struct! { @reply;
    /// beforeMsgModify reply: non-null fields replace the message's.
    pub struct MsgModifyResp {
        /// 0 = handled.
        pub action_code: i32,
        /// Error code on reject.
        pub err_code: i32,
        /// Error message on reject.
        pub err_msg: String,
        /// Error detail on reject.
        pub err_dlt: String,
        /// 1 = reject.
        pub next_code: i32,
        /// New content (a string; replaces the content bytes).
        pub content: Option<String>,
        /// New recipient.
        #[serde(rename = "recvID")]
        pub recv_id: Option<String>,
        /// New group.
        #[serde(rename = "groupID")]
        pub group_id: Option<String>,
        /// New client message ID.
        #[serde(rename = "clientMsgID")]
        pub client_msg_id: Option<String>,
        /// New server message ID.
        #[serde(rename = "serverMsgID")]
        pub server_msg_id: Option<String>,
        /// New sender platform.
        #[serde(rename = "senderPlatformID")]
        pub sender_platform_id: Option<i32>,
        /// New sender nickname.
        pub sender_nickname: Option<String>,
        /// New sender avatar.
        #[serde(rename = "senderFaceURL")]
        pub sender_face_url: Option<String>,
        /// New session type.
        pub session_type: Option<i32>,
        /// New msgFrom.
        pub msg_from: Option<i32>,
        /// New content type.
        pub content_type: Option<i32>,
        /// New status.
        pub status: Option<i32>,
        /// New options.
        pub options: Option<BTreeMap<String, bool>>,
        /// New offline push info (baseline: only if the message had one).
        pub offline_push_info: Option<OfflinePushInfo>,
        /// New mentions.
        #[serde(rename = "atUserIDList")]
        pub at_user_id_list: Option<Vec<String>>,
        /// Ignored by the server.
        pub msg_data_list: Option<String>,
        /// New attached info.
        pub attached_info: Option<String>,
        /// New extension data.
        pub ex: Option<String>,
    }
}

impl MsgModifyResp {
    /// The common part of the reply.
    pub fn common(&self) -> CallbackResp {
        CallbackResp {
            action_code: self.action_code,
            err_code: self.err_code,
            err_msg: self.err_msg.clone(),
            err_dlt: self.err_dlt.clone(),
            next_code: self.next_code,
        }
    }
}

json_struct! { @reply;
    /// afterSingleMsgRead body.
    pub struct SingleMsgReadCallbackReq {
        /// The command.
        pub callback_command: String,
        /// Conversation.
        #[serde(rename = "conversationID")]
        pub conversation_id: String,
        /// The reader.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Seqs read (capitalised key).
        #[serde(rename = "Seqs", alias = "seqs")]
        pub seqs: Vec<i64>,
        /// The conversation type.
        pub content_type: i32,
    }
}

json_struct! { @reply;
    /// afterGroupMsgRead body.
    pub struct GroupMsgReadCallbackReq {
        /// The command.
        pub callback_command: String,
        /// The reader.
        #[serde(rename = "sendID")]
        pub send_id: String,
        /// The reader.
        #[serde(rename = "receiveID")]
        pub receive_id: String,
        /// The new has-read seq.
        pub unread_msg_num: i64,
        /// 3.
        pub content_type: i64,
    }
}

json_struct! { @reply;
    /// afterRevokeMsg body.
    pub struct RevokeMsgCallbackReq {
        /// The command.
        pub callback_command: String,
        /// Conversation.
        #[serde(rename = "conversationID")]
        pub conversation_id: String,
        /// Revoked seq.
        pub seq: i64,
        /// The revoker.
        #[serde(rename = "userID")]
        pub user_id: String,
    }
}

json_struct! { @reply;
    /// beforeOnlinePush / beforeOfflinePush body. The OfflinePushInfo keys are flattened and absent
    /// when the message has none.
    pub struct PushCallbackReq {
        /// The command.
        pub callback_command: String,
        /// Operation ID.
        #[serde(rename = "operationID")]
        pub operation_id: String,
        /// Sender's platform ID.
        #[serde(rename = "platformID")]
        pub platform_id: i32,
        /// Sender's platform name.
        pub platform: String,
        /// Push targets.
        #[serde(rename = "userIDList")]
        pub user_id_list: Vec<String>,
        /// Push title.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub title: Option<String>,
        /// Push body.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub desc: Option<String>,
        /// Push extension data (`OfflinePushInfo.ex`).
        #[serde(skip_serializing_if = "Option::is_none")]
        pub ex: Option<String>,
        /// iOS sound.
        #[serde(rename = "iOSPushSound", skip_serializing_if = "Option::is_none")]
        pub ios_push_sound: Option<String>,
        /// iOS badge.
        #[serde(rename = "iOSBadgeCount", skip_serializing_if = "Option::is_none")]
        pub ios_badge_count: Option<bool>,
        /// Signalling payload.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub signal_info: Option<String>,
        /// Client message ID.
        #[serde(rename = "clientMsgID")]
        pub client_msg_id: String,
        /// Sender.
        #[serde(rename = "sendID")]
        pub send_id: String,
        /// Group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Content type.
        pub content_type: i32,
        /// Session type.
        pub session_type: i32,
        /// Mentioned users.
        #[serde(rename = "atUserIDList")]
        pub at_user_id_list: Vec<String>,
        /// Content (the `detail` string for notifications).
        pub content: String,
    }
}

json_struct! { @reply;
    /// beforeGroupOnlinePush body.
    pub struct GroupPushCallbackReq {
        /// The command.
        pub callback_command: String,
        /// Operation ID.
        #[serde(rename = "operationID")]
        pub operation_id: String,
        /// Sender's platform ID.
        #[serde(rename = "platformID")]
        pub platform_id: i32,
        /// Sender's platform name.
        pub platform: String,
        /// Client message ID.
        #[serde(rename = "clientMsgID")]
        pub client_msg_id: String,
        /// Sender.
        #[serde(rename = "sendID")]
        pub send_id: String,
        /// Group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Content type.
        pub content_type: i32,
        /// Session type.
        pub session_type: i32,
        /// Mentioned users.
        #[serde(rename = "atUserIDList")]
        pub at_user_id_list: Vec<String>,
        /// Content.
        pub content: String,
        /// Seq.
        pub seq: i64,
    }
}

json_struct! { @reply;
    /// Reply of the push callbacks.
    pub struct PushCallbackResp {
        /// 0 = handled.
        pub action_code: i32,
        /// Error code on reject.
        pub err_code: i32,
        /// Error message on reject.
        pub err_msg: String,
        /// Error detail on reject.
        pub err_dlt: String,
        /// 1 = reject (not pushed).
        pub next_code: i32,
        /// Non-empty replaces the push targets.
        #[serde(rename = "userIDList")]
        pub user_id_list: Vec<String>,
        /// Replaces the offline push info (beforeOfflinePush).
        pub offline_push_info: Option<OfflinePushInfo>,
    }
}

json_struct! { @reply;
    /// afterUserOnline / afterUserOffline / afterUserKickOff body.
    pub struct UserStatusCallbackReq {
        /// The command.
        pub callback_command: String,
        /// Operation ID.
        #[serde(rename = "operationID")]
        pub operation_id: String,
        /// Platform ID.
        #[serde(rename = "platformID")]
        pub platform_id: i32,
        /// Platform name (`IOS`, `Android`, `Web` …).
        pub platform: String,
        /// The user.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Event time, ms.
        pub seq: i64,
        /// afterUserOnline only: app in background.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub is_app_background: Option<bool>,
        /// Connection ID (online/offline).
        #[serde(rename = "connID", skip_serializing_if = "Option::is_none")]
        pub conn_id: Option<String>,
    }
}

json_struct! { @reply;
    /// before/afterUserRegister body (before: the reply's non-empty `users` replaces the list).
    pub struct UserRegisterCallback {
        /// The command (absent in replies).
        pub callback_command: String,
        /// The users.
        pub users: Vec<UserInfo>,
    }
}

json_struct! { @reply;
    /// beforeUserRegister reply.
    pub struct UserRegisterCallbackResp {
        /// 0 = handled.
        pub action_code: i32,
        /// Error code on reject.
        pub err_code: i32,
        /// Error message on reject.
        pub err_msg: String,
        /// Error detail on reject.
        pub err_dlt: String,
        /// 1 = reject.
        pub next_code: i32,
        /// Non-empty replaces the users to register.
        pub users: Vec<UserInfo>,
    }
}

json_struct! { @reply;
    /// before/afterUpdateUserInfo and before/afterUpdateUserInfoEx body (`None` = not changed; the
    /// after-callback of the deprecated route sends `""` instead of null).
    pub struct UpdateUserInfoCallback {
        /// The command.
        pub callback_command: String,
        /// The user.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Nickname (note the key `nickName`).
        pub nick_name: Option<String>,
        /// Avatar.
        #[serde(rename = "faceURL")]
        pub face_url: Option<String>,
        /// Extension data (always null in before-callbacks).
        pub ex: Option<String>,
    }
}

json_struct! { @reply;
    /// beforeUpdateUserInfo(Ex) reply: non-null values replace the update (Ex: only for fields that
    /// were non-null in the request).
    pub struct UpdateUserInfoCallbackResp {
        /// 0 = handled.
        pub action_code: i32,
        /// Error code on reject.
        pub err_code: i32,
        /// Error message on reject.
        pub err_msg: String,
        /// Error detail on reject.
        pub err_dlt: String,
        /// 1 = reject.
        pub next_code: i32,
        /// New nickname.
        pub nick_name: Option<String>,
        /// New avatar.
        #[serde(rename = "faceURL")]
        pub face_url: Option<String>,
        /// New extension data.
        pub ex: Option<String>,
    }
}

json_struct! { @reply;
    /// beforeAddFriend / afterAddFriend body (`ex` only in the before-callback).
    pub struct AddFriendCallbackReq {
        /// The command.
        pub callback_command: String,
        /// Applicant.
        #[serde(rename = "fromUserID")]
        pub from_user_id: String,
        /// Recipient.
        #[serde(rename = "toUserID")]
        pub to_user_id: String,
        /// Application message.
        pub req_msg: String,
        /// Extension data (before only).
        #[serde(skip_serializing_if = "Option::is_none")]
        pub ex: Option<String>,
    }
}

json_struct! { @reply;
    /// before/afterAddFriendAgree body (quirks: the recipient is under `blackUserID`, and
    /// `HandleResult`/`HandleMsg` are capitalised).
    pub struct AddFriendAgreeCallbackReq {
        /// The command.
        pub callback_command: String,
        /// Applicant.
        #[serde(rename = "fromUserID")]
        pub from_user_id: String,
        /// The recipient who agreed.
        #[serde(rename = "blackUserID")]
        pub to_user_id: String,
        /// 1.
        #[serde(rename = "HandleResult")]
        pub handle_result: i32,
        /// Answer message.
        #[serde(rename = "HandleMsg")]
        pub handle_msg: String,
    }
}

json_struct! { @reply;
    /// afterDeleteFriend body.
    pub struct DeleteFriendCallbackReq {
        /// The command.
        pub callback_command: String,
        /// List owner.
        #[serde(rename = "ownerUserID")]
        pub owner_user_id: String,
        /// Removed friend.
        #[serde(rename = "friendUserID")]
        pub friend_user_id: String,
    }
}

json_struct! { @reply;
    /// before/afterImportFriends body.
    pub struct ImportFriendsCallbackReq {
        /// The command.
        pub callback_command: String,
        /// List owner.
        #[serde(rename = "ownerUserID")]
        pub owner_user_id: String,
        /// Friends to import.
        #[serde(rename = "friendUserIDs")]
        pub friend_user_ids: Vec<String>,
    }
}

json_struct! { @reply;
    /// beforeImportFriends reply.
    pub struct ImportFriendsCallbackResp {
        /// 0 = handled.
        pub action_code: i32,
        /// Error code on reject.
        pub err_code: i32,
        /// Error message on reject.
        pub err_msg: String,
        /// Error detail on reject.
        pub err_dlt: String,
        /// 1 = reject.
        pub next_code: i32,
        /// Non-empty replaces the list.
        #[serde(rename = "friendUserIDs")]
        pub friend_user_ids: Vec<String>,
    }
}

json_struct! { @reply;
    /// before/afterSetFriendRemark body.
    pub struct SetFriendRemarkCallbackReq {
        /// The command.
        pub callback_command: String,
        /// List owner.
        #[serde(rename = "ownerUserID")]
        pub owner_user_id: String,
        /// The friend.
        #[serde(rename = "friendUserID")]
        pub friend_user_id: String,
        /// New remark.
        pub remark: String,
    }
}

json_struct! { @reply;
    /// beforeSetFriendRemark reply.
    pub struct SetFriendRemarkCallbackResp {
        /// 0 = handled.
        pub action_code: i32,
        /// Error code on reject.
        pub err_code: i32,
        /// Error message on reject.
        pub err_msg: String,
        /// Error detail on reject.
        pub err_dlt: String,
        /// 1 = reject.
        pub next_code: i32,
        /// Non-empty replaces the remark.
        pub remark: String,
    }
}

json_struct! { @reply;
    /// beforeAddBlack / afterRemoveBlack body.
    pub struct BlackCallbackReq {
        /// The command.
        pub callback_command: String,
        /// Blacklist owner.
        #[serde(rename = "ownerUserID")]
        pub owner_user_id: String,
        /// The blocked/unblocked user.
        #[serde(rename = "blackUserID")]
        pub black_user_id: String,
    }
}

json_struct! { @reply;
    /// An initial member in the create-group callbacks.
    pub struct InitMember {
        /// The member.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// 100 owner, 60 admin, 20 member.
        pub role_level: i32,
    }
}

json_struct! { @reply;
    /// before/afterCreateGroup body: the GroupInfo fields flattened (`operationID` only in before).
    pub struct CreateGroupCallbackReq {
        /// Operation ID (before only).
        #[serde(rename = "operationID", skip_serializing_if = "Option::is_none")]
        pub operation_id: Option<String>,
        /// The command.
        pub callback_command: String,
        /// Group ID.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Name.
        pub group_name: String,
        /// Announcement.
        pub notification: String,
        /// Introduction.
        pub introduction: String,
        /// Avatar.
        #[serde(rename = "faceURL")]
        pub face_url: String,
        /// Owner.
        #[serde(rename = "ownerUserID")]
        pub owner_user_id: String,
        /// Creation time, ms.
        pub create_time: i64,
        /// Member count.
        pub member_count: u32,
        /// Extension data.
        pub ex: String,
        /// Status.
        pub status: i32,
        /// Creator.
        #[serde(rename = "creatorUserID")]
        pub creator_user_id: String,
        /// Group type.
        pub group_type: i32,
        /// Verification mode.
        pub need_verification: i32,
        /// Member-info visibility.
        pub look_member_info: i32,
        /// Member-friend flag.
        pub apply_member_friend: i32,
        /// Announcement time, ms.
        pub notification_update_time: i64,
        /// Announcement author.
        #[serde(rename = "notificationUserID")]
        pub notification_user_id: String,
        /// Owner (100), admins (60), members (20); after: every participant again with 20 (quirk).
        pub init_member_list: Vec<InitMember>,
    }
}

json_struct! { @reply;
    /// beforeCreateGroup reply: non-null fields replace the group's.
    pub struct CreateGroupCallbackResp {
        /// 0 = handled.
        pub action_code: i32,
        /// Error code on reject.
        pub err_code: i32,
        /// Error message on reject.
        pub err_msg: String,
        /// Error detail on reject.
        pub err_dlt: String,
        /// 1 = reject.
        pub next_code: i32,
        /// Group ID.
        #[serde(rename = "groupID")]
        pub group_id: Option<String>,
        /// Name.
        pub group_name: Option<String>,
        /// Announcement.
        pub notification: Option<String>,
        /// Introduction.
        pub introduction: Option<String>,
        /// Avatar.
        #[serde(rename = "faceURL")]
        pub face_url: Option<String>,
        /// Owner field (not the real owner).
        #[serde(rename = "ownerUserID")]
        pub owner_user_id: Option<String>,
        /// Extension data.
        pub ex: Option<String>,
        /// Status.
        pub status: Option<i32>,
        /// Creator.
        #[serde(rename = "creatorUserID")]
        pub creator_user_id: Option<String>,
        /// Group type.
        pub group_type: Option<i32>,
        /// Verification mode.
        pub need_verification: Option<i32>,
        /// Member-info visibility.
        pub look_member_info: Option<i32>,
        /// Ignored by the server.
        pub apply_member_friend: Option<i32>,
    }
}

json_struct! { @reply;
    /// A joining member in beforeMemberJoinGroup.
    pub struct CallbackGroupMember {
        /// The user.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Extension data.
        pub ex: String,
    }
}

json_struct! { @reply;
    /// beforeMemberJoinGroup body.
    pub struct MembersJoinGroupCallbackReq {
        /// The command.
        pub callback_command: String,
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Joining members.
        pub member_list: Vec<CallbackGroupMember>,
        /// The group's extension data.
        pub group_ex: String,
    }
}

json_struct! { @reply;
    /// Per-member override in the beforeMemberJoinGroup reply.
    pub struct MemberJoinOverride {
        /// The member (required).
        #[serde(rename = "userID")]
        pub user_id: Option<String>,
        /// Group nickname.
        pub nickname: Option<String>,
        /// Group avatar.
        #[serde(rename = "faceURL")]
        pub face_url: Option<String>,
        /// Role.
        pub role_level: Option<i32>,
        /// Mute end, ms.
        pub mute_end_time: Option<i64>,
        /// Extension data.
        pub ex: Option<String>,
    }
}

json_struct! { @reply;
    /// beforeMemberJoinGroup reply.
    pub struct MembersJoinGroupCallbackResp {
        /// 0 = handled.
        pub action_code: i32,
        /// Error code on reject.
        pub err_code: i32,
        /// Error message on reject.
        pub err_msg: String,
        /// Error detail on reject.
        pub err_dlt: String,
        /// 1 = reject.
        pub next_code: i32,
        /// Overrides per member.
        pub member_callback_list: Vec<MemberJoinOverride>,
    }
}

json_struct! { @reply;
    /// before/afterSetGroupMemberInfo body (`None` = not being changed).
    pub struct SetGroupMemberInfoCallbackReq {
        /// The command.
        pub callback_command: String,
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// The member.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Group nickname (key `nickName`).
        pub nick_name: Option<String>,
        /// Group avatar.
        #[serde(rename = "faceURL")]
        pub face_url: Option<String>,
        /// Role.
        pub role_level: Option<i32>,
        /// Extension data.
        pub ex: Option<String>,
    }
}

json_struct! { @reply;
    /// beforeSetGroupMemberInfo reply: non-null values replace the update.
    pub struct SetGroupMemberInfoCallbackResp {
        /// 0 = handled.
        pub action_code: i32,
        /// Error code on reject.
        pub err_code: i32,
        /// Error message on reject.
        pub err_msg: String,
        /// Error detail on reject.
        pub err_dlt: String,
        /// 1 = reject.
        pub next_code: i32,
        /// Extension data.
        pub ex: Option<String>,
        /// Group nickname.
        pub nick_name: Option<String>,
        /// Group avatar.
        #[serde(rename = "faceURL")]
        pub face_url: Option<String>,
        /// Role.
        pub role_level: Option<i32>,
    }
}

json_struct! { @reply;
    /// afterQuitGroup body.
    pub struct QuitGroupCallbackReq {
        /// The command.
        pub callback_command: String,
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// The leaver.
        #[serde(rename = "userID")]
        pub user_id: String,
    }
}

json_struct! { @reply;
    /// afterKickGroupMember body.
    pub struct KickGroupCallbackReq {
        /// The command.
        pub callback_command: String,
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Kicked members.
        #[serde(rename = "kickedUserIDs")]
        pub kicked_user_ids: Vec<String>,
        /// Reason.
        pub reason: String,
    }
}

json_struct! { @reply;
    /// afterDismissGroup body (usually sent twice, the second time with `membersID` null).
    pub struct DismissGroupCallbackReq {
        /// The command.
        pub callback_command: String,
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// The owner.
        #[serde(rename = "ownerID")]
        pub owner_id: String,
        /// Quirk: one character whose code point is the group type (`"\u0002"`); see
        /// [`group_type_string`].
        pub group_type: String,
        /// Members at dismissal.
        #[serde(rename = "membersID")]
        pub members_id: Vec<String>,
    }
}

/// The `groupType` string of the group webhooks: the character with that code point (Go's
/// `string(rune(t))`), e.g. 2 → `"\u{2}"`. Invalid code points give U+FFFD, as in Go.
pub fn group_type_string(group_type: i32) -> String {
    u32::try_from(group_type)
        .ok()
        .and_then(char::from_u32)
        .unwrap_or(char::REPLACEMENT_CHARACTER)
        .to_string()
}

json_struct! { @reply;
    /// beforeApplyJoinGroup body.
    pub struct JoinGroupCallbackReq {
        /// The command.
        pub callback_command: String,
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Group type as a one-character string (see [`group_type_string`]).
        pub group_type: String,
        /// The applicant.
        #[serde(rename = "applyID")]
        pub apply_id: String,
        /// Application message.
        pub req_message: String,
        /// Extension data.
        pub ex: String,
    }
}

json_struct! { @reply;
    /// afterJoinGroup body (direct-join groups only).
    pub struct AfterJoinGroupCallbackReq {
        /// The command.
        pub callback_command: String,
        /// Operation ID.
        #[serde(rename = "operationID")]
        pub operation_id: String,
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Application message.
        pub req_message: String,
        /// Join source.
        pub join_source: i32,
        /// The joiner.
        #[serde(rename = "inviterUserID")]
        pub inviter_user_id: String,
    }
}

json_struct! { @reply;
    /// beforeInviteUserToGroup body.
    pub struct InviteUserToGroupCallbackReq {
        /// The command.
        pub callback_command: String,
        /// Operation ID.
        #[serde(rename = "operationID")]
        pub operation_id: String,
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Reason.
        pub reason: String,
        /// Invitees.
        #[serde(rename = "invitedUserIDs")]
        pub invited_user_ids: Vec<String>,
    }
}

json_struct! { @reply;
    /// afterTransferGroupOwner body.
    pub struct TransferGroupOwnerCallbackReq {
        /// The command.
        pub callback_command: String,
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Previous owner.
        #[serde(rename = "oldOwnerUserID")]
        pub old_owner_user_id: String,
        /// New owner.
        #[serde(rename = "newOwnerUserID")]
        pub new_owner_user_id: String,
    }
}

json_struct! { @reply;
    /// before/afterSetGroupInfo and before/afterSetGroupInfoEx body. `operationID` is `""`.
    ///
    /// beforeSetGroupInfo sends plain values (`""`/0 when unset) where the others send `null`; this
    /// type reads both (a `None` is written as `null`).
    pub struct SetGroupInfoCallbackReq {
        /// The command.
        pub callback_command: String,
        /// Always `""` upstream.
        #[serde(rename = "operationID")]
        pub operation_id: String,
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Name.
        pub group_name: Option<String>,
        /// Announcement.
        pub notification: Option<String>,
        /// Introduction.
        pub introduction: Option<String>,
        /// Avatar.
        #[serde(rename = "faceURL")]
        pub face_url: Option<String>,
        /// Extension data.
        pub ex: Option<String>,
        /// Verification mode.
        pub need_verification: Option<i32>,
        /// Member-info visibility.
        pub look_member_info: Option<i32>,
        /// Member-friend flag.
        pub apply_member_friend: Option<i32>,
    }
}

json_struct! { @reply;
    /// beforeSetGroupInfo(Ex) reply. beforeSetGroupInfo always copies back groupID, name,
    /// introduction and face URL (echo them!); beforeSetGroupInfoEx replaces every field with the
    /// returned value (absent = cancelled change).
    pub struct SetGroupInfoCallbackResp {
        /// 0 = handled.
        pub action_code: i32,
        /// Error code on reject.
        pub err_code: i32,
        /// Error message on reject.
        pub err_msg: String,
        /// Error detail on reject.
        pub err_dlt: String,
        /// 1 = reject.
        pub next_code: i32,
        /// The group (must be echoed).
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Name.
        pub group_name: Option<String>,
        /// Announcement (ignored).
        pub notification: Option<String>,
        /// Introduction.
        pub introduction: Option<String>,
        /// Avatar.
        #[serde(rename = "faceURL")]
        pub face_url: Option<String>,
        /// Extension data.
        pub ex: Option<String>,
        /// Verification mode.
        pub need_verification: Option<i32>,
        /// Member-info visibility.
        pub look_member_info: Option<i32>,
        /// Member-friend flag.
        pub apply_member_friend: Option<i32>,
    }
}
