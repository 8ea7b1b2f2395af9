//! Stored entities, serialised with the exact JSON names of the OpenIM API (Go `encoding/json` of
//! the protobuf structs: every field present).

use serde::{Deserialize, Serialize};

pub use openim_protocol::api::common::{
    Conversation, FriendRequest, GroupInfo, GroupMemberFullInfo as GroupMember, PublicUserInfo,
    UserInfo,
};

/// The public part of a user's profile.
pub fn public_info(u: &UserInfo) -> PublicUserInfo {
    PublicUserInfo {
        user_id: u.user_id.clone(),
        nickname: u.nickname.clone(),
        face_url: u.face_url.clone(),
        ex: u.ex.clone(),
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
