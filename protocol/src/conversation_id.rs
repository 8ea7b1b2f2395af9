//! Conversation IDs (ws-gateway §5.6).
//!
//! | prefix | built from | used for |
//! |---|---|---|
//! | `si_` | the two user IDs sorted (byte order), joined with `_` | single chat |
//! | `sg_` | group ID | group chat (session type 3) |
//! | `g_`  | group ID | legacy session type 2 |
//! | `sn_` | sorted (sendID, recvID) | notification chat (session type 4) |
//! | `n_`  | sorted user IDs (types 1, 4) or group ID (types 2, 3) | notification stream (`isNotNotification=false`) |
//!
//! ```
//! use openim_protocol::conversation_id;
//! assert_eq!(conversation_id::single("u2", "u1"), "si_u1_u2");
//! assert_eq!(conversation_id::group("g1"), "sg_g1");
//! assert_eq!(conversation_id::notification_twin("si_u1_u2"), "n_u1_u2");
//! assert_eq!(conversation_id::notification_twin("sg_g1"), "n_g1");
//! ```

use crate::constants::{SessionType, options};
use crate::pb::sdkws::MsgData;

fn sorted_pair(prefix: &str, a: &str, b: &str) -> String {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    format!("{prefix}{lo}_{hi}")
}

/// `si_{min}_{max}`: the single chat between two users.
pub fn single(user_a: &str, user_b: &str) -> String {
    sorted_pair("si_", user_a, user_b)
}

/// `sg_{groupID}`: a group chat.
pub fn group(group_id: &str) -> String {
    format!("sg_{group_id}")
}

/// `g_{groupID}`: a legacy (session type 2) group.
pub fn legacy_group(group_id: &str) -> String {
    format!("g_{group_id}")
}

/// `sn_{min}_{max}`: the notification chat (session type 4) between an account and a user
/// (server form, sorted).
pub fn notification_chat(user_a: &str, user_b: &str) -> String {
    sorted_pair("sn_", user_a, user_b)
}

/// `n_{min}_{max}`: the notification stream between two users (session types 1 and 4).
pub fn notification_single(user_a: &str, user_b: &str) -> String {
    sorted_pair("n_", user_a, user_b)
}

/// `n_{groupID}`: the notification stream of a group (session types 2 and 3).
pub fn notification_group(group_id: &str) -> String {
    format!("n_{group_id}")
}

/// `n_{uid}_{uid}`: a user's notifications about themselves.
pub fn self_notification(user_id: &str) -> String {
    format!("n_{user_id}_{user_id}")
}

/// The notification twin of a chat conversation: the first `_`-separated element is
/// replaced by `n` (`si_a_b` -> `n_a_b`, `sg_g` -> `n_g`, `sn_a_b` -> `n_a_b`).
/// An ID without `_` gets `n_` prepended.
pub fn notification_twin(conversation_id: &str) -> String {
    match conversation_id.split_once('_') {
        Some((_, rest)) => format!("n_{rest}"),
        None => format!("n_{conversation_id}"),
    }
}

/// Whether the ID is a notification stream (`n_` prefix).
pub fn is_notification(conversation_id: &str) -> bool {
    conversation_id.starts_with("n_")
}

/// The kind of conversation an ID names, by prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConversationKind {
    /// `si_`
    Single,
    /// `sg_`
    Group,
    /// `g_`
    LegacyGroup,
    /// `sn_`
    NotificationChat,
    /// `n_`
    Notification,
    /// Anything else.
    Unknown,
}

/// Classifies an ID by its prefix.
pub fn kind(conversation_id: &str) -> ConversationKind {
    if conversation_id.starts_with("si_") {
        ConversationKind::Single
    } else if conversation_id.starts_with("sg_") {
        ConversationKind::Group
    } else if conversation_id.starts_with("g_") {
        ConversationKind::LegacyGroup
    } else if conversation_id.starts_with("sn_") {
        ConversationKind::NotificationChat
    } else if conversation_id.starts_with("n_") {
        ConversationKind::Notification
    } else {
        ConversationKind::Unknown
    }
}

/// The chat conversation ID for a session type (ignores `isNotNotification`); `None` for an
/// unknown session type. `group_id` is used for group types (falling back to `recv_id` when
/// empty, as server notifications into groups put the group ID there).
pub fn chat_id(session_type: i32, send_id: &str, recv_id: &str, group_id: &str) -> Option<String> {
    let gid = if group_id.is_empty() {
        recv_id
    } else {
        group_id
    };
    match SessionType::from_i32(session_type) {
        SessionType::Single => Some(single(send_id, recv_id)),
        SessionType::WriteGroup => Some(legacy_group(gid)),
        SessionType::ReadGroup => Some(group(gid)),
        SessionType::Notification => Some(notification_chat(send_id, recv_id)),
        _ => None,
    }
}

/// The notification-stream ID for a session type; `None` for an unknown session type.
pub fn notification_id(
    session_type: i32,
    send_id: &str,
    recv_id: &str,
    group_id: &str,
) -> Option<String> {
    let gid = if group_id.is_empty() {
        recv_id
    } else {
        group_id
    };
    match SessionType::from_i32(session_type) {
        SessionType::Single | SessionType::Notification => {
            Some(notification_single(send_id, recv_id))
        }
        SessionType::WriteGroup | SessionType::ReadGroup => Some(notification_group(gid)),
        _ => None,
    }
}

/// The conversation a message belongs to, by the server's rule: `n_...` when
/// `options.isNotNotification` is explicitly false, else the chat ID of its session type.
/// `None` for an unknown session type.
pub fn of_message(msg: &MsgData) -> Option<String> {
    if options::is_notification(&msg.options) {
        notification_id(msg.session_type, &msg.send_id, &msg.recv_id, &msg.group_id)
    } else {
        chat_id(msg.session_type, &msg.send_id, &msg.recv_id, &msg.group_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_ids_are_sorted_bytewise() {
        assert_eq!(single("b", "a"), "si_a_b");
        assert_eq!(single("a", "b"), "si_a_b");
        assert_eq!(single("U1", "u1"), "si_U1_u1");
        assert_eq!(notification_single("u9", "u10"), "n_u10_u9");
        assert_eq!(notification_chat("sys", "alice"), "sn_alice_sys");
        assert_eq!(self_notification("u1"), "n_u1_u1");
    }

    #[test]
    fn twins_and_kinds() {
        assert_eq!(notification_twin("si_a_b"), "n_a_b");
        assert_eq!(notification_twin("sn_a_b"), "n_a_b");
        assert_eq!(notification_twin("sg_g_1"), "n_g_1");
        assert_eq!(kind("si_a_b"), ConversationKind::Single);
        assert_eq!(kind("sg_g"), ConversationKind::Group);
        assert_eq!(kind("g_g"), ConversationKind::LegacyGroup);
        assert_eq!(kind("sn_a_b"), ConversationKind::NotificationChat);
        assert_eq!(kind("n_g"), ConversationKind::Notification);
        assert_eq!(kind("x"), ConversationKind::Unknown);
        assert!(is_notification("n_a_b"));
    }

    #[test]
    fn message_routing() {
        let mut m = MsgData {
            send_id: "u2".into(),
            recv_id: "u1".into(),
            session_type: 1,
            ..Default::default()
        };
        assert_eq!(of_message(&m).as_deref(), Some("si_u1_u2"));
        m.options.insert("isNotNotification".into(), true);
        assert_eq!(of_message(&m).as_deref(), Some("si_u1_u2"));
        m.options.insert("isNotNotification".into(), false);
        assert_eq!(of_message(&m).as_deref(), Some("n_u1_u2"));

        let mut g = MsgData {
            send_id: "op".into(),
            recv_id: "g1".into(),
            session_type: 3,
            ..Default::default()
        };
        assert_eq!(of_message(&g).as_deref(), Some("sg_g1"));
        g.group_id = "g2".into();
        assert_eq!(of_message(&g).as_deref(), Some("sg_g2"));
        g.options.insert("isNotNotification".into(), false);
        assert_eq!(of_message(&g).as_deref(), Some("n_g2"));

        let n = MsgData {
            send_id: "oa".into(),
            recv_id: "a".into(),
            session_type: 4,
            ..Default::default()
        };
        assert_eq!(of_message(&n).as_deref(), Some("sn_a_oa"));
        let bad = MsgData {
            session_type: 9,
            ..Default::default()
        };
        assert_eq!(of_message(&bad), None);
    }
}
