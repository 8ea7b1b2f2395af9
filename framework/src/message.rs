//! Received messages as handlers see them.

use serde::Serialize;

pub use crate::content::Content;
pub use openim_protocol::SharedStr;
use openim_protocol::pb::received::ReceivedMsg;

/// Session type: single chat.
pub const SESSION_SINGLE: i32 = 1;
/// Session type: working group chat.
pub const SESSION_GROUP: i32 = 3;
/// Session type: notification chat (system account → user).
pub const SESSION_NOTIFICATION: i32 = 4;

/// The `AtAllTag` user ID in an @-mention list: mentions everybody.
pub const AT_ALL_TAG: &str = "AtAllTag";

/// A message received (or sent by the bot from elsewhere) in a chat conversation.
///
/// The strings a conversation's messages repeat (conversation, sender, receiver and group IDs,
/// sender nickname and avatar) are [`SharedStr`]s: the messages of one pull answer or push
/// share one allocation per distinct value. A `SharedStr` reads like a `&str` (`&*m.send_id`,
/// `m.send_id.as_str()`, any `str` method), compares with `&str` and `String` (`m.send_id ==
/// "alice"`), and becomes a `String` with `.to_string()` or `String::from`. Collections of
/// `String` are queried with its `&str`:
///
/// ```
/// # use std::collections::{HashMap, HashSet};
/// # use openim_bot::{Message, SharedStr};
/// fn route(m: &Message, admins: &HashSet<String>, muted: &[String], names: &HashMap<String, u32>) {
///     let from_admin = admins.contains(m.send_id.as_str());
///     let is_muted = muted.iter().any(|u| m.send_id == *u);
///     let room = names.get(&*m.conversation_id);
///     let in_g1 = m.group_id.as_deref() == Some("g1");
///     let owned: String = m.sender_nickname.to_string();
///     let shared: SharedStr = m.conversation_id.clone(); // no copy of the text
///     # let _ = (from_admin, is_muted, room, in_g1, owned, shared);
/// }
/// ```
///
/// `(conversation_id, seq)` is the idempotency key of a stored message: after a crash, only
/// messages that were in flight (delivered but not acknowledged) can be delivered again, with
/// the same key.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// Conversation ID (`si_a_b`, `sg_g`, `sn_a_b`).
    #[serde(rename = "conversationID")]
    pub conversation_id: SharedStr,
    /// Sequence number in the conversation (0 for online-only messages).
    pub seq: i64,
    /// Client-generated message ID.
    #[serde(rename = "clientMsgID")]
    pub client_msg_id: String,
    /// Server-generated message ID.
    #[serde(rename = "serverMsgID")]
    pub server_msg_id: String,
    /// Sender's user ID.
    #[serde(rename = "sendID")]
    pub send_id: SharedStr,
    /// Receiver (peer user for single chats; usually empty for groups).
    #[serde(rename = "recvID")]
    pub recv_id: SharedStr,
    /// Group ID for group messages.
    #[serde(rename = "groupID", skip_serializing_if = "Option::is_none")]
    pub group_id: Option<SharedStr>,
    /// 1 single, 3 group, 4 notification chat.
    pub session_type: i32,
    /// 100 user message, 200 system message.
    pub msg_from: i32,
    /// Content type number (101 text, 106 @text, 114 quote, 110 custom, 1xxx notifications…).
    pub content_type: i32,
    /// Parsed content (serialized as the element's JSON object).
    #[serde(serialize_with = "serialize_content")]
    pub content: Content,
    /// Sender platform ID.
    #[serde(rename = "senderPlatformID")]
    pub sender_platform_id: i32,
    /// Sender nickname as the sender's client put it.
    pub sender_nickname: SharedStr,
    /// Sender avatar.
    pub sender_face_url: SharedStr,
    /// Server send time (ms).
    pub send_time: i64,
    /// Client creation time (ms).
    pub create_time: i64,
    /// Mentioned user IDs (`AtAllTag` = everyone).
    #[serde(rename = "atUserIDList")]
    pub at_user_ids: Vec<String>,
    /// Extension field.
    pub ex: String,
    /// True if the bot's own account sent it (from another device, an admin API or a clone).
    pub is_self: bool,
}

fn serialize_content<S: serde::Serializer>(c: &Content, s: S) -> Result<S::Ok, S::Error> {
    crate::content::to_json(c).serialize(s)
}

impl Message {
    /// The text of text, @text, quote, advanced and markdown text messages.
    pub fn text(&self) -> Option<&str> {
        self.content.as_text()
    }

    /// The message in wire form (e.g. to quote it).
    pub fn to_msg_data(&self) -> openim_protocol::pb::sdkws::MsgData {
        openim_protocol::pb::sdkws::MsgData {
            send_id: self.send_id.to_string(),
            recv_id: self.recv_id.to_string(),
            group_id: self.group_id.as_deref().unwrap_or_default().to_owned(),
            client_msg_id: self.client_msg_id.clone(),
            server_msg_id: self.server_msg_id.clone(),
            sender_platform_id: self.sender_platform_id,
            sender_nickname: self.sender_nickname.to_string(),
            sender_face_url: self.sender_face_url.to_string(),
            session_type: self.session_type,
            msg_from: self.msg_from,
            content_type: self.content_type,
            content: self.content.to_bytes(),
            seq: self.seq,
            send_time: self.send_time,
            create_time: self.create_time,
            status: 2,
            at_user_id_list: self.at_user_ids.clone(),
            ex: self.ex.clone(),
            ..Default::default()
        }
    }

    /// True if `user_id` is mentioned by name or everybody is mentioned.
    pub fn mentions(&self, user_id: &str) -> bool {
        self.at_user_ids
            .iter()
            .any(|id| id == user_id || id == AT_ALL_TAG)
    }

    /// True for group messages.
    pub fn is_group(&self) -> bool {
        self.session_type == SESSION_GROUP || self.session_type == 2
    }

    /// The idempotency key `"conversationID:seq"` (or `"conversationID:clientMsgID"` for
    /// online-only messages).
    pub fn idempotency_key(&self) -> String {
        if self.seq > 0 {
            format!("{}:{}", self.conversation_id, self.seq)
        } else {
            format!("{}:{}", self.conversation_id, self.client_msg_id)
        }
    }
}

impl Message {
    /// Builds a message from the wire form it consumes (its strings are moved, not copied);
    /// `conversation_id` is the key the server filed it under.
    #[cfg(test)]
    pub(crate) fn from_wire_owned(
        conversation_id: &str,
        m: openim_protocol::pb::sdkws::MsgData,
        self_id: &str,
    ) -> Message {
        let content = crate::content::parse_lossless(m.content_type, &m.content);
        let m = ReceivedMsg::from_msg_data(conversation_id, m);
        Message::from_wire_with_content(conversation_id, m, content, self_id)
    }

    /// Builds a message from the received form it consumes (its strings are moved or shared,
    /// not copied), with the content already parsed (by [`crate::content::parse_lossless`] of
    /// the same message); `conversation_id` is the key the server filed it under.
    pub(crate) fn from_wire_with_content(
        conversation_id: &str,
        m: ReceivedMsg,
        content: Content,
        self_id: &str,
    ) -> Message {
        // Clients put the mentions in both places; trust the element when the list is missing.
        let at_user_ids = match &content {
            Content::AtText(e) if m.at_user_id_list.is_empty() => e.at_user_list.clone(),
            _ => m.at_user_id_list,
        };
        let is_self = m.send_id == self_id;
        // The decoder filed the message under the same key (shared by the batch's messages).
        let conversation_id = if m.conversation_id == conversation_id {
            m.conversation_id
        } else {
            SharedStr::from(conversation_id)
        };
        Message {
            conversation_id,
            seq: m.seq,
            client_msg_id: m.client_msg_id,
            server_msg_id: m.server_msg_id,
            send_id: m.send_id,
            recv_id: m.recv_id,
            group_id: (!m.group_id.is_empty()).then_some(m.group_id),
            session_type: m.session_type,
            msg_from: m.msg_from,
            content_type: m.content_type,
            content,
            sender_platform_id: m.sender_platform_id,
            sender_nickname: m.sender_nickname,
            sender_face_url: m.sender_face_url,
            send_time: m.send_time,
            create_time: m.create_time,
            at_user_ids,
            ex: m.ex,
            is_self,
        }
    }

    /// Builds a message from a borrowed wire form (copies every string): the reference the
    /// moving conversions are tested against.
    #[cfg(test)]
    pub(crate) fn from_wire(
        conversation_id: &str,
        m: &openim_protocol::pb::sdkws::MsgData,
        self_id: &str,
    ) -> Message {
        let content = crate::content::parse_lossless(m.content_type, &m.content);
        // Clients put the mentions in both places; trust the element when the list is missing.
        let at_user_ids = match &content {
            Content::AtText(e) if m.at_user_id_list.is_empty() => e.at_user_list.clone(),
            _ => m.at_user_id_list.clone(),
        };
        Message {
            conversation_id: conversation_id.into(),
            seq: m.seq,
            client_msg_id: m.client_msg_id.clone(),
            server_msg_id: m.server_msg_id.clone(),
            send_id: m.send_id.as_str().into(),
            recv_id: m.recv_id.as_str().into(),
            group_id: (!m.group_id.is_empty()).then(|| m.group_id.as_str().into()),
            session_type: m.session_type,
            msg_from: m.msg_from,
            content_type: m.content_type,
            content,
            sender_platform_id: m.sender_platform_id,
            sender_nickname: m.sender_nickname.as_str().into(),
            sender_face_url: m.sender_face_url.as_str().into(),
            send_time: m.send_time,
            create_time: m.create_time,
            at_user_ids,
            ex: m.ex.clone(),
            is_self: m.send_id == self_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openim_protocol::pb::sdkws::MsgData;

    #[test]
    fn owned_and_borrowed_wire_conversions_agree() {
        let at = Content::at_text("@bot hi", vec!["bot".into()]);
        for (content_type, content, at_list, group) in [
            (101, Content::text("hi").to_bytes(), vec![], ""),
            (106, at.to_bytes(), vec![], "g1"),
            (106, at.to_bytes(), vec!["u9".to_owned()], "g1"),
            (101, b"not json".to_vec(), vec![], ""),
        ] {
            let m = MsgData {
                send_id: "u1".into(),
                recv_id: "bot".into(),
                group_id: group.into(),
                client_msg_id: "c1".into(),
                server_msg_id: "s1".into(),
                sender_nickname: "U".into(),
                sender_face_url: "f".into(),
                session_type: if group.is_empty() { 1 } else { 3 },
                msg_from: 100,
                content_type,
                content,
                seq: 7,
                send_time: 5,
                create_time: 4,
                at_user_id_list: at_list,
                ex: "x".into(),
                ..Default::default()
            };
            let a = Message::from_wire("si_bot_u1", &m, "bot");
            let b = Message::from_wire_owned("si_bot_u1", m, "bot");
            assert_eq!(
                serde_json::to_value(&a).unwrap(),
                serde_json::to_value(&b).unwrap()
            );
            assert_eq!(a.group_id, b.group_id);
            assert!(!b.is_self);
        }
        let own = MsgData {
            send_id: "bot".into(),
            ..Default::default()
        };
        assert!(Message::from_wire_owned("si_bot_u1", own, "bot").is_self);
    }

    #[test]
    fn messages_keep_the_decoders_shared_strings() {
        // Longer than a SharedStr holds in place (equal short texts are `ptr_eq` anyway).
        const CONV: &str = "si_bot_user-with-a-long-id";
        let conv = SharedStr::from(CONV);
        let sender = SharedStr::from("user-with-a-long-id");
        let received = ReceivedMsg {
            conversation_id: conv.clone(),
            send_id: sender.clone(),
            group_id: SharedStr::new(),
            seq: 3,
            ..Default::default()
        };
        let m = Message::from_wire_with_content(CONV, received.clone(), Content::text("x"), "bot");
        assert!(m.conversation_id.ptr_eq(&conv) && m.send_id.ptr_eq(&sender));
        assert_eq!(m.group_id, None);
        // Filed under another key than the caller's: the caller's key wins.
        let other =
            Message::from_wire_with_content("si_bot_u2", received, Content::text("x"), "bot");
        assert_eq!(other.conversation_id, "si_bot_u2");
    }
}
