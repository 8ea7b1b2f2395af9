//! Stored entities, serialised with the exact JSON names of the OpenIM API (Go `encoding/json` of
//! the protobuf structs: every field present).

use serde::{Deserialize, Serialize};

/// `sdkws.UserInfo`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct UserInfo {
    /// User ID.
    #[serde(rename = "userID", default)]
    pub user_id: String,
    /// Nickname.
    #[serde(default)]
    pub nickname: String,
    /// Avatar URL.
    #[serde(rename = "faceURL", default)]
    pub face_url: String,
    /// Extension.
    #[serde(default)]
    pub ex: String,
    /// Registration time (ms).
    #[serde(rename = "createTime", default)]
    pub create_time: i64,
    /// App manager level (sic).
    #[serde(rename = "appMangerLevel", default)]
    pub app_manger_level: i32,
    /// Global receive option.
    #[serde(rename = "globalRecvMsgOpt", default)]
    pub global_recv_msg_opt: i32,
}

/// `sdkws.PublicUserInfo`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PublicUserInfo {
    /// User ID.
    #[serde(rename = "userID")]
    pub user_id: String,
    /// Nickname.
    pub nickname: String,
    /// Avatar URL.
    #[serde(rename = "faceURL")]
    pub face_url: String,
    /// Extension.
    pub ex: String,
}

impl From<&UserInfo> for PublicUserInfo {
    fn from(u: &UserInfo) -> Self {
        PublicUserInfo {
            user_id: u.user_id.clone(),
            nickname: u.nickname.clone(),
            face_url: u.face_url.clone(),
            ex: u.ex.clone(),
        }
    }
}

/// A friendship row (owner → friend).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Friend {
    /// Owner.
    pub owner: String,
    /// Friend.
    pub friend: String,
    /// Remark.
    pub remark: String,
    /// Creation time (ms).
    pub create_time: i64,
    /// 1 imported, 2 via application.
    pub add_source: i32,
    /// Operator.
    pub operator: String,
    /// Extension.
    pub ex: String,
    /// Pinned.
    pub is_pinned: bool,
    /// Insertion order.
    pub order: u64,
}

/// A blacklist row.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Black {
    /// Owner.
    pub owner: String,
    /// Blocked user.
    pub black: String,
    /// Creation time (ms).
    pub create_time: i64,
    /// Add source.
    pub add_source: i32,
    /// Operator.
    pub operator: String,
    /// Extension.
    pub ex: String,
    /// Insertion order.
    pub order: u64,
}

/// `sdkws.FriendRequest`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FriendRequest {
    /// Applicant.
    #[serde(rename = "fromUserID")]
    pub from_user_id: String,
    /// Applicant nickname.
    #[serde(rename = "fromNickname")]
    pub from_nickname: String,
    /// Applicant face.
    #[serde(rename = "fromFaceURL")]
    pub from_face_url: String,
    /// Target.
    #[serde(rename = "toUserID")]
    pub to_user_id: String,
    /// Target nickname.
    #[serde(rename = "toNickname")]
    pub to_nickname: String,
    /// Target face.
    #[serde(rename = "toFaceURL")]
    pub to_face_url: String,
    /// 0 pending, 1 agreed, -1 refused.
    #[serde(rename = "handleResult")]
    pub handle_result: i32,
    /// Request message.
    #[serde(rename = "reqMsg")]
    pub req_msg: String,
    /// Creation time (ms).
    #[serde(rename = "createTime")]
    pub create_time: i64,
    /// Handler.
    #[serde(rename = "handlerUserID")]
    pub handler_user_id: String,
    /// Handle message.
    #[serde(rename = "handleMsg")]
    pub handle_msg: String,
    /// Handle time (ms).
    #[serde(rename = "handleTime")]
    pub handle_time: i64,
    /// Extension.
    pub ex: String,
}

/// `sdkws.GroupInfo`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct GroupInfo {
    /// Group ID.
    #[serde(rename = "groupID", default)]
    pub group_id: String,
    /// Name.
    #[serde(rename = "groupName", default)]
    pub group_name: String,
    /// Announcement.
    #[serde(default)]
    pub notification: String,
    /// Introduction.
    #[serde(default)]
    pub introduction: String,
    /// Face URL.
    #[serde(rename = "faceURL", default)]
    pub face_url: String,
    /// Owner (computed).
    #[serde(rename = "ownerUserID", default)]
    pub owner_user_id: String,
    /// Creation time (ms).
    #[serde(rename = "createTime", default)]
    pub create_time: i64,
    /// Member count.
    #[serde(rename = "memberCount", default)]
    pub member_count: u32,
    /// Extension.
    #[serde(default)]
    pub ex: String,
    /// 0 ok, 2 dismissed, 3 muted.
    #[serde(default)]
    pub status: i32,
    /// Creator.
    #[serde(rename = "creatorUserID", default)]
    pub creator_user_id: String,
    /// Group type (2).
    #[serde(rename = "groupType", default)]
    pub group_type: i32,
    /// Verification mode.
    #[serde(rename = "needVerification", default)]
    pub need_verification: i32,
    /// Look member info.
    #[serde(rename = "lookMemberInfo", default)]
    pub look_member_info: i32,
    /// Apply member friend.
    #[serde(rename = "applyMemberFriend", default)]
    pub apply_member_friend: i32,
    /// Announcement update time.
    #[serde(rename = "notificationUpdateTime", default)]
    pub notification_update_time: i64,
    /// Announcement author.
    #[serde(rename = "notificationUserID", default)]
    pub notification_user_id: String,
}

/// `sdkws.GroupMemberFullInfo`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct GroupMember {
    /// Group.
    #[serde(rename = "groupID")]
    pub group_id: String,
    /// Member.
    #[serde(rename = "userID")]
    pub user_id: String,
    /// 100 owner, 60 admin, 20 member.
    #[serde(rename = "roleLevel")]
    pub role_level: i32,
    /// Join time (ms).
    #[serde(rename = "joinTime")]
    pub join_time: i64,
    /// Group nickname.
    pub nickname: String,
    /// Face URL.
    #[serde(rename = "faceURL")]
    pub face_url: String,
    /// App manager level.
    #[serde(rename = "appMangerLevel")]
    pub app_manger_level: i32,
    /// Join source.
    #[serde(rename = "joinSource")]
    pub join_source: i32,
    /// Operator.
    #[serde(rename = "operatorUserID")]
    pub operator_user_id: String,
    /// Extension.
    pub ex: String,
    /// Mute end (ms).
    #[serde(rename = "muteEndTime")]
    pub mute_end_time: i64,
    /// Inviter.
    #[serde(rename = "inviterUserID")]
    pub inviter_user_id: String,
}

/// A group join request as stored.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct GroupRequestRow {
    /// Group.
    pub group_id: String,
    /// Applicant.
    pub user_id: String,
    /// 0 pending, 1 accepted, -1 refused.
    pub handle_result: i32,
    /// Request message.
    pub req_msg: String,
    /// Handle message.
    pub handle_msg: String,
    /// Request time (ms).
    pub req_time: i64,
    /// Extension.
    pub ex: String,
    /// Join source.
    pub join_source: i32,
    /// Inviter.
    pub inviter_user_id: String,
}

/// A user's conversation record.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Conversation {
    /// Owner.
    #[serde(rename = "ownerUserID")]
    pub owner_user_id: String,
    /// Conversation ID.
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    /// Receive option.
    #[serde(rename = "recvMsgOpt")]
    pub recv_msg_opt: i32,
    /// 1 single, 3 group, 4 notification.
    #[serde(rename = "conversationType")]
    pub conversation_type: i32,
    /// Peer (single chat).
    #[serde(rename = "userID")]
    pub user_id: String,
    /// Group.
    #[serde(rename = "groupID")]
    pub group_id: String,
    /// Pinned.
    #[serde(rename = "isPinned")]
    pub is_pinned: bool,
    /// Attached info.
    #[serde(rename = "attachedInfo")]
    pub attached_info: String,
    /// Private chat.
    #[serde(rename = "isPrivateChat")]
    pub is_private_chat: bool,
    /// @ type.
    #[serde(rename = "groupAtType")]
    pub group_at_type: i32,
    /// Extension.
    pub ex: String,
    /// Burn duration (s).
    #[serde(rename = "burnDuration")]
    pub burn_duration: i32,
    /// Per-user min seq.
    #[serde(rename = "minSeq")]
    pub min_seq: i64,
    /// Per-user max seq cap (0 = none).
    #[serde(rename = "maxSeq")]
    pub max_seq: i64,
    /// Destruct time (s).
    #[serde(rename = "msgDestructTime")]
    pub msg_destruct_time: i64,
    /// Latest destruct time (ms).
    #[serde(rename = "latestMsgDestructTime")]
    pub latest_msg_destruct_time: i64,
    /// Destruct enabled.
    #[serde(rename = "isMsgDestruct")]
    pub is_msg_destruct: bool,
}
