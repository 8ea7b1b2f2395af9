//! Typed views of the raw `i32` wire fields, using the enums of [`crate::constants`] (unknown
//! values are kept as `Other(n)`, never an error).

use super::common::{
    Conversation, FriendInfo, FriendRequest, GroupInfo, GroupMemberFullInfo, GroupRequest, MsgData,
    UserInfo,
};
use super::msg::SendMsgReq;
use crate::constants::{
    AppManagerLevel, ContentType, ConversationType, FriendAddSource, GroupAtType, GroupRoleLevel,
    GroupStatus, GroupType, GroupVerification, HandleResult, JoinSource, MsgFrom, MsgStatus,
    PlatformId, RecvMsgOpt, SessionType,
};
use crate::content::Content;

impl UserInfo {
    /// `globalRecvMsgOpt` as a [`RecvMsgOpt`].
    pub fn recv_msg_opt(&self) -> RecvMsgOpt {
        RecvMsgOpt::from_i32(self.global_recv_msg_opt)
    }

    /// `appMangerLevel` as an [`AppManagerLevel`].
    pub fn manager_level(&self) -> AppManagerLevel {
        AppManagerLevel::from_i32(self.app_manger_level)
    }
}

impl FriendInfo {
    /// `addSource` as a [`FriendAddSource`].
    pub fn source(&self) -> FriendAddSource {
        FriendAddSource::from_i32(self.add_source)
    }
}

impl FriendRequest {
    /// `handleResult` as a [`HandleResult`].
    pub fn result(&self) -> HandleResult {
        HandleResult::from_i32(self.handle_result)
    }
}

impl GroupRequest {
    /// `handleResult` as a [`HandleResult`].
    pub fn result(&self) -> HandleResult {
        HandleResult::from_i32(self.handle_result)
    }

    /// `joinSource` as a [`JoinSource`].
    pub fn source(&self) -> JoinSource {
        JoinSource::from_i32(self.join_source)
    }
}

impl GroupInfo {
    /// `status` as a [`GroupStatus`].
    pub fn group_status(&self) -> GroupStatus {
        GroupStatus::from_i32(self.status)
    }

    /// `groupType` as a [`GroupType`].
    pub fn kind(&self) -> GroupType {
        GroupType::from_i32(self.group_type)
    }

    /// `needVerification` as a [`GroupVerification`].
    pub fn verification(&self) -> GroupVerification {
        GroupVerification::from_i32(self.need_verification)
    }
}

impl GroupMemberFullInfo {
    /// `roleLevel` as a [`GroupRoleLevel`].
    pub fn role(&self) -> GroupRoleLevel {
        GroupRoleLevel::from_i32(self.role_level)
    }

    /// `joinSource` as a [`JoinSource`].
    pub fn source(&self) -> JoinSource {
        JoinSource::from_i32(self.join_source)
    }

    /// True when `muteEndTime` is after `now_ms` (Unix ms).
    pub fn is_muted_at(&self, now_ms: i64) -> bool {
        self.mute_end_time > now_ms
    }
}

impl Conversation {
    /// `conversationType` as a [`ConversationType`].
    pub fn kind(&self) -> ConversationType {
        ConversationType::from_i32(self.conversation_type)
    }

    /// `recvMsgOpt` as a [`RecvMsgOpt`].
    pub fn recv_opt(&self) -> RecvMsgOpt {
        RecvMsgOpt::from_i32(self.recv_msg_opt)
    }

    /// `groupAtType` as a [`GroupAtType`].
    pub fn at_type(&self) -> GroupAtType {
        GroupAtType::from_i32(self.group_at_type)
    }
}

impl MsgData {
    /// `sessionType` as a [`SessionType`].
    pub fn session(&self) -> SessionType {
        SessionType::from_i32(self.session_type)
    }

    /// `contentType` as a [`ContentType`].
    pub fn kind(&self) -> ContentType {
        ContentType::from_i32(self.content_type)
    }

    /// `msgFrom` as a [`MsgFrom`].
    pub fn from_kind(&self) -> MsgFrom {
        MsgFrom::from_i32(self.msg_from)
    }

    /// `status` as a [`MsgStatus`].
    pub fn msg_status(&self) -> MsgStatus {
        MsgStatus::from_i32(self.status)
    }

    /// `senderPlatformID` as a [`PlatformId`].
    pub fn platform(&self) -> PlatformId {
        PlatformId::from_i32(self.sender_platform_id)
    }
}

impl SendMsgReq {
    /// `sessionType` as a [`SessionType`].
    pub fn session(&self) -> SessionType {
        SessionType::from_i32(self.session_type)
    }

    /// `contentType` as a [`ContentType`].
    pub fn kind(&self) -> ContentType {
        ContentType::from_i32(self.content_type)
    }

    /// Sets `contentType` and the `content` element object from a typed [`Content`].
    ///
    /// Fails when the element does not serialise to a JSON object (send_msg requires one).
    pub fn set_content(&mut self, content: &Content) -> Result<(), serde_json::Error> {
        let value: serde_json::Value = serde_json::from_slice(&content.to_bytes())?;
        if !value.is_object() {
            return Err(serde::de::Error::custom(
                "send_msg content must be a JSON object",
            ));
        }
        self.content_type = content.content_type().as_i32();
        self.content = value;
        Ok(())
    }
}
