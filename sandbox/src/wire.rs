//! The protobuf payloads the sandbox speaks, re-exported from [`openim_protocol::pb`] under the
//! names the sandbox uses, plus small helpers.
//!
//! The protocol crate's map-bearing responses (`PushMessages`, `GetSeqMessageResp`, 1006 seqs …)
//! always encode map values, as Go does: the JS client drops map keys without a value.

pub use openim_protocol::pb::conversation::Conversation as PbConversation;
pub use openim_protocol::pb::jssdk::{
    ConversationMsg, GetActiveConversationsReq, GetActiveConversationsResp, GetConversationsReq,
};
pub use openim_protocol::pb::msg::{
    ConversationSeqs, GetConversationsHasReadAndMaxSeqReq, GetConversationsHasReadAndMaxSeqResp,
    GetLastMessageReq, GetLastMessageResp, GetSeqMessageReq, GetSeqMessageResp, SendMsgResp, Seqs,
};
pub use openim_protocol::pb::push::DelUserPushTokenReq;
pub use openim_protocol::pb::relation::FriendInfoOnly as PbFriendInfoOnly;
pub use openim_protocol::pb::sdkws::{
    GetMaxSeqReq, GetMaxSeqResp, GroupInfo as PbGroupInfo, MsgData, OfflinePushInfo,
    PullMessageBySeqsReq, PullMsgs, PushMessages, SeqRange, SetAppBackgroundStatusReq,
    SubUserOnlineStatus, SubUserOnlineStatusElem, SubUserOnlineStatusTips, UserInfo as PbUserInfo,
};

/// The jssdk conversation responses share one layout; the sandbox builds this one for both routes.
pub type ConversationsResp = GetActiveConversationsResp;

/// Helpers on [`PushMessages`] (also used for the identical 1002/1005 reply layouts).
pub trait PushMessagesExt {
    /// Adds a chat (`notification` false) or notification (`n_…`) conversation entry.
    fn insert_conversation(&mut self, notification: bool, conversation_id: String, value: PullMsgs);
    /// Looks up a conversation in `msgs` or `notification_msgs`.
    fn conversation(&self, conversation_id: &str) -> Option<&PullMsgs>;
}

impl PushMessagesExt for PushMessages {
    fn insert_conversation(
        &mut self,
        notification: bool,
        conversation_id: String,
        value: PullMsgs,
    ) {
        if notification {
            self.notification_msgs.insert(conversation_id, value);
        } else {
            self.msgs.insert(conversation_id, value);
        }
    }
    fn conversation(&self, conversation_id: &str) -> Option<&PullMsgs> {
        self.msgs
            .get(conversation_id)
            .or_else(|| self.notification_msgs.get(conversation_id))
    }
}
