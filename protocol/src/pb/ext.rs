//! Convenience methods on generated messages (hand-written).

use crate::constants::{ContentType, MsgStatus, SessionType, options};
use crate::content::Content;
use crate::error::ProtocolError;
use crate::pb::sdkws::MsgData;

impl MsgData {
    /// Value of option `key` with the rule "absent = true" (see [`crate::constants::options`]).
    pub fn option(&self, key: &str) -> bool {
        options::is_enabled(&self.options, key)
    }

    /// Sets option `key` explicitly.
    pub fn set_option(&mut self, key: &str, value: bool) {
        self.options.insert(key.to_string(), value);
    }

    /// Whether the server routes this message to the notification stream (`n_...`):
    /// `isNotNotification` is explicitly false.
    pub fn is_notification_stream(&self) -> bool {
        options::is_notification(&self.options)
    }

    /// The conversation ID by the server's rule ([`crate::conversation_id::of_message`]).
    pub fn conversation_id(&self) -> Option<String> {
        crate::conversation_id::of_message(self)
    }

    /// The typed content ([`Content::from_msg`]).
    pub fn parsed_content(&self) -> Result<Content, ProtocolError> {
        Content::from_msg(self)
    }

    /// `contentType` as an enum.
    pub fn content_type_enum(&self) -> ContentType {
        ContentType::from_i32(self.content_type)
    }

    /// `sessionType` as an enum.
    pub fn session_type_enum(&self) -> SessionType {
        SessionType::from_i32(self.session_type)
    }

    /// `status` as an enum.
    pub fn status_enum(&self) -> MsgStatus {
        MsgStatus::from_i32(self.status)
    }

    /// A deleted message or a seq placeholder (status 4): nothing to show.
    pub fn is_deleted_or_placeholder(&self) -> bool {
        self.status == MsgStatus::HasDeleted.as_i32()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msg_helpers() {
        let mut m = MsgData {
            send_id: "b".into(),
            recv_id: "a".into(),
            session_type: 1,
            content_type: 101,
            content: br#"{"content":"x"}"#.to_vec(),
            status: 4,
            ..Default::default()
        };
        assert!(m.option(options::HISTORY));
        m.set_option(options::HISTORY, false);
        assert!(!m.option(options::HISTORY));
        assert!(!m.is_notification_stream());
        assert_eq!(m.conversation_id().as_deref(), Some("si_a_b"));
        m.set_option(options::IS_NOT_NOTIFICATION, false);
        assert!(m.is_notification_stream());
        assert_eq!(m.conversation_id().as_deref(), Some("n_a_b"));
        assert_eq!(m.parsed_content().unwrap().as_text(), Some("x"));
        assert_eq!(m.content_type_enum(), ContentType::Text);
        assert_eq!(m.session_type_enum(), SessionType::Single);
        assert_eq!(m.status_enum(), MsgStatus::HasDeleted);
        assert!(m.is_deleted_or_placeholder());
    }
}
