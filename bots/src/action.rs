//! What bots decide to do, and what they look at, independent of the wire.
//!
//! Bot logic takes plain views ([`MessageView`], [`FriendRequestView`], [`JoinRequestView`]) and
//! returns [`Action`]s; an adapter turns views out of framework events and executes the actions
//! through the framework's client. That keeps every decision unit-testable.

use std::fmt;
use std::time::Duration;

use openim_bot::message::Content;
use openim_bot::protocol::constants::ContentType;

/// Where a text goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Target {
    /// A one-to-one chat with this user.
    User(String),
    /// A group chat.
    Group(String),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::User(u) => write!(f, "user {u}"),
            Target::Group(g) => write!(f, "group {g}"),
        }
    }
}

/// The role of a group member, as far as permissions go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Role {
    /// An ordinary member (role level 20) or unknown.
    #[default]
    Member,
    /// A group administrator (role level 60).
    Admin,
    /// The group owner (role level 100).
    Owner,
}

impl Role {
    /// Maps an OpenIM `roleLevel` (100 owner, 60 admin, anything else member).
    pub fn from_role_level(level: i32) -> Self {
        match level {
            100 => Role::Owner,
            60 => Role::Admin,
            _ => Role::Member,
        }
    }

    /// Owner or admin.
    pub fn is_privileged(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

/// A received message, reduced to what bot logic needs: text (text, @text, quote, advanced and
/// markdown text) or an [`Attachment`] (picture, voice, video, file, sticker, contact card,
/// location, forwarded chat history).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessageView {
    /// Conversation ID (`si_…`, `sg_…`).
    pub conversation_id: String,
    /// Sequence number inside the conversation (the idempotency key with the conversation).
    pub seq: i64,
    /// The group, for group messages.
    pub group_id: Option<String>,
    /// Sender's user ID.
    pub sender_id: String,
    /// Sender's display name (falls back to the user ID when empty).
    pub sender_nickname: String,
    /// Sender's role in the group (Member for private chats).
    pub sender_role: Role,
    /// The text (text, @text or quote text); empty for an attachment.
    pub text: String,
    /// The picture, file, sticker… of a non-text message (`None` for text).
    pub attachment: Option<Attachment>,
    /// Users mentioned with @, other than the bot itself (see `mentions_bot`) and @all
    /// (`AtAllTag`, see `mentions_all`).
    pub at_user_ids: Vec<String>,
    /// How the mentions are spelt in `text` (each `@` + the group nickname the sender's client
    /// wrote, which may hold spaces), where the message says so; empty otherwise.
    pub at_names: Vec<String>,
    /// Whether the message @-mentions everyone (@all).
    pub mentions_all: bool,
    /// Whether the message @-mentions the bot.
    pub mentions_bot: bool,
    /// Whether the message is a reply quoting one of the bot's messages (which addresses the
    /// bot as a mention does).
    pub replies_to_bot: bool,
    /// Server send time, milliseconds since the Unix epoch.
    pub send_time_ms: i64,
}

impl MessageView {
    /// The name to address the sender with.
    pub fn display_name(&self) -> &str {
        if self.sender_nickname.is_empty() {
            &self.sender_id
        } else {
            &self.sender_nickname
        }
    }

    /// Where a reply to this message goes.
    pub fn reply_target(&self) -> Target {
        match &self.group_id {
            Some(g) => Target::Group(g.clone()),
            None => Target::User(self.sender_id.clone()),
        }
    }
}

/// The content of a non-text message, kept as the sender's client encoded it so a bot can pass
/// it on unchanged (a customer's screenshot to the agent) or recognise it again (the same
/// sticker sent over and over).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Attachment {
    /// The OpenIM content type (102 picture, 103 voice, 104 video, 105 file, 107 chat history,
    /// 108 contact card, 109 location, 110 custom, 115 sticker).
    pub content_type: i32,
    /// The element's JSON, as received.
    pub content: Vec<u8>,
    /// A short text for places that only show text: `[picture]`, `[file: report.pdf]`.
    pub summary: String,
}

impl Attachment {
    /// The attachment of a message's content; `None` for text, typing, notifications, unknown
    /// content types and the custom kinds that are signals rather than messages (119, which
    /// leaves the conversation list alone, and 120, online only). A custom message (110) is the
    /// app's own kind of message (an order, a product card): passed on as it is, the app on the
    /// other side shows it; its summary is its description.
    pub fn of(content: &Content) -> Option<Attachment> {
        let (content_type, summary) = match content {
            Content::Picture(_) => (102, "[picture]".to_owned()),
            Content::Sound(_) => (103, "[voice message]".to_owned()),
            Content::Video(_) => (104, "[video]".to_owned()),
            Content::File(f) => (105, labelled("file", &f.file_name)),
            Content::Merge(m) => (107, labelled("chat history", &m.title)),
            Content::Card(c) => (108, labelled("contact card", &c.nickname)),
            Content::Location(l) => (109, labelled("location", &l.description)),
            Content::Face(_) => (115, "[sticker]".to_owned()),
            Content::Custom {
                content_type: ContentType::Custom,
                elem,
            } => (110, labelled("custom message", &elem.description)),
            _ => return None,
        };
        Some(Attachment {
            content_type,
            content: content.to_bytes(),
            summary,
        })
    }

    /// The content to send again.
    pub fn to_content(&self) -> Content {
        openim_bot::content::parse_lossless(self.content_type, &self.content)
    }
}

/// `[what: name]`, or `[what]` without a name (names are cut at 60 characters).
fn labelled(what: &str, name: &str) -> String {
    let name = name.trim();
    if name.is_empty() {
        return format!("[{what}]");
    }
    let short: String = name.chars().take(60).collect();
    let ellipsis = if short.len() < name.len() { "…" } else { "" };
    format!("[{what}: {short}{ellipsis}]")
}

/// A friend application addressed to the bot.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FriendRequestView {
    /// The applicant.
    pub from_user_id: String,
    /// The applicant's nickname, if known.
    pub from_nickname: String,
    /// The request message (`reqMsg`).
    pub request_message: String,
}

/// An application to join a group the bot administers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JoinRequestView {
    /// The group.
    pub group_id: String,
    /// The applicant.
    pub user_id: String,
    /// The applicant's nickname, if known.
    pub nickname: String,
    /// The application message (`reqMsg`): the answer to the group's question.
    pub request_message: String,
}

/// One thing a bot wants done.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Send a text message.
    Send {
        /// Recipient.
        to: Target,
        /// Text.
        text: String,
    },
    /// Send a group text that @-mentions users.
    Mention {
        /// The group.
        group_id: String,
        /// Text (should contain the `@name` the clients show).
        text: String,
        /// Mentioned user IDs.
        user_ids: Vec<String>,
    },
    /// Revoke (recall) a message.
    Revoke {
        /// Conversation of the message.
        conversation_id: String,
        /// Its seq.
        seq: i64,
    },
    /// Mute a group member.
    Mute {
        /// The group.
        group_id: String,
        /// The member.
        user_id: String,
        /// For how long.
        duration: Duration,
    },
    /// Lift a member's mute.
    Unmute {
        /// The group.
        group_id: String,
        /// The member.
        user_id: String,
    },
    /// Remove a member from a group.
    Kick {
        /// The group.
        group_id: String,
        /// The member.
        user_id: String,
        /// Shown reason.
        reason: String,
    },
    /// Answer a friend application.
    AnswerFriend {
        /// The applicant.
        user_id: String,
        /// Accept (true) or refuse (false).
        accept: bool,
        /// The handle message.
        message: String,
    },
    /// Send an attachment (a picture, file, sticker…) as it was received.
    Forward {
        /// Recipient.
        to: Target,
        /// What to send.
        attachment: Attachment,
    },
    /// Answer a group join application.
    AnswerJoin {
        /// The group.
        group_id: String,
        /// The applicant.
        user_id: String,
        /// Accept (true) or refuse (false).
        accept: bool,
        /// The handle message.
        message: String,
    },
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Send { to, text } => write!(f, "send to {to}: {text:?}"),
            Action::Forward { to, attachment } => {
                write!(f, "forward {} to {to}", attachment.summary)
            }
            Action::Mention {
                group_id,
                text,
                user_ids,
            } => {
                write!(
                    f,
                    "send to group {group_id} mentioning {user_ids:?}: {text:?}"
                )
            }
            Action::Revoke {
                conversation_id,
                seq,
            } => {
                write!(f, "revoke message {conversation_id}#{seq}")
            }
            Action::Mute {
                group_id,
                user_id,
                duration,
            } => write!(
                f,
                "mute {user_id} in group {group_id} for {}",
                humantime::format_duration(*duration)
            ),
            Action::Unmute { group_id, user_id } => {
                write!(f, "unmute {user_id} in group {group_id}")
            }
            Action::Kick {
                group_id,
                user_id,
                reason,
            } => {
                write!(f, "kick {user_id} from group {group_id} ({reason})")
            }
            Action::AnswerFriend {
                user_id,
                accept,
                message,
            } => write!(
                f,
                "{} friend application of {user_id} ({message:?})",
                if *accept { "accept" } else { "refuse" }
            ),
            Action::AnswerJoin {
                group_id,
                user_id,
                accept,
                message,
            } => write!(
                f,
                "{} join application of {user_id} to group {group_id} ({message:?})",
                if *accept { "accept" } else { "refuse" }
            ),
        }
    }
}

/// Shorthand for a text action.
pub fn send(to: Target, text: impl Into<String>) -> Action {
    Action::Send {
        to,
        text: text.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(ct: i32, json: &str) -> Content {
        openim_bot::content::parse_lossless(ct, json.as_bytes())
    }

    #[test]
    fn attachments_are_summarised_and_sent_again_unchanged() {
        let file = parse(
            105,
            r#"{"sourceUrl":"http://x/r.pdf","fileName":"report.pdf","fileSize":9}"#,
        );
        let a = Attachment::of(&file).unwrap();
        assert_eq!(
            (a.content_type, a.summary.as_str()),
            (105, "[file: report.pdf]")
        );
        assert_eq!(a.to_content(), file);
        let long = "n".repeat(100);
        let card = parse(108, &format!(r#"{{"userID":"u","nickname":"{long}"}}"#));
        assert_eq!(
            Attachment::of(&card).unwrap().summary,
            format!("[contact card: {}…]", "n".repeat(60))
        );
        let face = parse(115, r#"{"index":3,"data":"x"}"#);
        assert_eq!(Attachment::of(&face).unwrap().summary, "[sticker]");
        // An app's own message kind is passed on as it is; its signals are not.
        let order = parse(
            110,
            r#"{"data":"{\"order\":7}","description":"Order #7","extension":"e"}"#,
        );
        let a110 = Attachment::of(&order).unwrap();
        assert_eq!(
            (a110.content_type, a110.summary.as_str()),
            (110, "[custom message: Order #7]")
        );
        assert_eq!(a110.to_content(), order);
        assert_eq!(
            Attachment::of(&parse(110, r#"{"data":"{}"}"#))
                .unwrap()
                .summary,
            "[custom message]"
        );
        for not_one in [
            parse(101, r#"{"content":"hi"}"#),
            parse(119, r#"{"data":"{}"}"#),
            parse(120, r#"{"data":"{}"}"#),
            parse(1501, r#"{"detail":"{}"}"#),
            parse(777, "raw"),
        ] {
            assert_eq!(Attachment::of(&not_one), None, "{not_one:?}");
        }
        assert_eq!(
            Action::Forward {
                to: Target::User("u".into()),
                attachment: a
            }
            .to_string(),
            "forward [file: report.pdf] to user u"
        );
    }
}
