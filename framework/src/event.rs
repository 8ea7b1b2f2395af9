//! Typed events: every OpenIM SDK listener callback (v2 names and their v3.8 meaning).
//!
//! The list lives in ONE macro, [`for_each_event!`](crate::for_each_event), which generates
//! [`Event`], [`EventKind`] and (in the runtime) the `EventHandler` trait. `framework/EVENTS.md`
//! maps each of the 33 v2 callbacks to these events.
//!
//! Every payload serializes as a JSON object; [`Event::to_json`] gives the one-line form
//! `{"event": NAME, ...payload}`.

use serde::Serialize;

pub use crate::message::Message;
pub use crate::model::{
    Blacklisted, Conversation, Friend, FriendApplication, GroupApplication, GroupInfo, GroupMember,
    LatestMessage, UserInfo,
};

/// Calls `$callback!` with the full event list:
/// `{ $( $(#[$meta])* $Variant($Payload) => $method ),* }`.
///
/// The method name without its `on_` prefix is the event's name ([`EventKind::name`]).
///
/// ```
/// macro_rules! count_events {
///     ($( $(#[$meta:meta])* $variant:ident($payload:ty) => $method:ident ),* $(,)?) => {
///         const METHODS: &[&str] = &[$(stringify!($method)),*];
///     };
/// }
/// openim_bot::for_each_event!(count_events);
/// assert_eq!(METHODS.len(), openim_bot::event::EventKind::ALL.len());
/// assert!(METHODS.contains(&"on_new_message"));
/// ```
#[macro_export]
macro_rules! for_each_event {
    ($callback:path) => {
        $callback! {
            // ---- connection (v2 init listener) ----
            /// The session was initialised: data dir opened, ready to log in (v2 `initStatus`).
            Initialized($crate::event::Initialized) => on_initialized,
            /// A connection attempt starts (v2 `onConnecting`).
            Connecting($crate::event::Connecting) => on_connecting,
            /// The gateway accepted the connection (v2 `onConnectSuccess`).
            ConnectSuccess($crate::event::ConnectSuccess) => on_connect_success,
            /// A connection attempt failed at the network level; the session retries
            /// (v2 `onConnectFailed`).
            ConnectFailed($crate::event::ConnectFailed) => on_connect_failed,
            /// The account logged in elsewhere or was forced offline; the session stops
            /// (v2 `onKickedOffline`).
            KickedOffline($crate::event::KickedOffline) => on_kicked_offline,
            /// The token expired (v2 `onUserTokenExpired`). With an admin secret the session
            /// obtains a new token and goes on; otherwise it stops.
            UserTokenExpired($crate::event::UserTokenExpired) => on_user_token_expired,
            /// The token is invalid, malformed or unknown (v3.8 `OnUserTokenInvalid`).
            UserTokenInvalid($crate::event::UserTokenInvalid) => on_user_token_invalid,
            /// The bot's own profile changed (v2 `onSelfInfoUpdated`).
            SelfInfoUpdated($crate::event::UserInfo) => on_self_info_updated,

            // ---- conversation ----
            /// Synchronisation with the server starts (v2 `onSyncServerStart`).
            SyncServerStart($crate::event::SyncServerStart) => on_sync_server_start,
            /// Synchronisation progress in percent (v3.8 `OnSyncServerProgress`).
            SyncServerProgress($crate::event::SyncServerProgress) => on_sync_server_progress,
            /// Synchronisation finished: everything missed has been delivered
            /// (v2 `onSyncServerFinish`).
            SyncServerFinish($crate::event::SyncServerFinish) => on_sync_server_finish,
            /// Synchronisation failed; retried at the next connect (v2 `onSyncServerFailed`).
            SyncServerFailed($crate::event::SyncServerFailed) => on_sync_server_failed,
            /// Conversations appeared in the list (v2 `onNewConversation`).
            NewConversation($crate::event::Conversations) => on_new_conversation,
            /// Conversations changed: unread count, latest message, settings
            /// (v2 `onConversationChanged`).
            ConversationChanged($crate::event::Conversations) => on_conversation_changed,
            /// The total unread count changed (v2 `onTotalUnreadMessageCountChanged`).
            TotalUnreadCountChanged($crate::event::TotalUnreadCount) => on_total_unread_count_changed,
            /// Someone started or stopped typing (v3.8 `OnConversationUserInputStatusChanged`).
            Typing($crate::event::Typing) => on_typing,

            // ---- message ----
            /// A new message (v2 `onRecvNewMessage`).
            NewMessage($crate::event::Message) => on_new_message,
            /// A message that is not stored on the server (`history=false`, seq 0)
            /// (v3.8 `OnRecvOnlineOnlyMessage`).
            OnlineOnlyMessage($crate::event::Message) => on_online_only_message,
            /// A message was revoked (v2 `onRecvMessageRevoked`).
            MessageRevoked($crate::event::MessageRevoked) => on_message_revoked,
            /// The peer of a single chat read messages (v2 `onRecvC2CReadReceipt`).
            C2cReadReceipt($crate::event::ReadReceipt) => on_c2c_read_receipt,
            /// Messages were deleted for the bot (v3.8 `OnMsgDeleted`).
            MessageDeleted($crate::event::MessageDeleted) => on_message_deleted,
            /// A business notification (v3.8 `OnRecvCustomBusinessMessage`).
            BusinessNotification($crate::event::BusinessNotification) => on_business_notification,

            // ---- group ----
            /// The bot joined a group: created with it, invited, entered or application accepted
            /// (v2 `onGroupCreated`; the `reason` tells which).
            JoinedGroupAdded($crate::event::JoinedGroupAdded) => on_joined_group_added,
            /// The bot is no longer in a group: left, kicked or dismissed
            /// (v3.8 `OnJoinedGroupDeleted`; the `reason` tells which).
            JoinedGroupDeleted($crate::event::JoinedGroupDeleted) => on_joined_group_deleted,
            /// Group info changed (v2 `onGroupInfoChanged`).
            GroupInfoChanged($crate::event::GroupInfo) => on_group_info_changed,
            /// The group was dismissed (v3.8 `OnGroupDismissed`).
            GroupDismissed($crate::event::GroupInfo) => on_group_dismissed,
            /// Another user entered a group by themselves: joined directly or application
            /// accepted (v2 `onMemberEnter`).
            GroupMemberEntered($crate::event::GroupMemberEvent) => on_group_member_entered,
            /// Another user was invited into a group (v2 `onMemberInvited`).
            GroupMemberInvited($crate::event::GroupMemberEvent) => on_group_member_invited,
            /// Another member was kicked out (v2 `onMemberKicked`).
            GroupMemberKicked($crate::event::GroupMemberEvent) => on_group_member_kicked,
            /// Another member left by themselves (v2 `onMemberLeave`).
            GroupMemberLeft($crate::event::GroupMemberEvent) => on_group_member_left,
            /// A member's info changed: role, mute, nickname (v3.8 `OnGroupMemberInfoChanged`).
            GroupMemberInfoChanged($crate::event::GroupMemberEvent) => on_group_member_info_changed,
            /// A join application arrived (v2 `onReceiveJoinApplication`).
            GroupApplicationAdded($crate::event::GroupApplication) => on_group_application_added,
            /// A join application was accepted (v2 `onApplicationProcessed`, accepted).
            GroupApplicationAccepted($crate::event::GroupApplication) => on_group_application_accepted,
            /// A join application was refused (v2 `onApplicationProcessed`, rejected).
            GroupApplicationRejected($crate::event::GroupApplication) => on_group_application_rejected,

            // ---- friend ----
            /// A friend application was made, to or by the bot (v2 `onFriendApplicationListAdded`).
            FriendApplicationAdded($crate::event::FriendApplication) => on_friend_application_added,
            /// A friend application was accepted (v2 `onFriendApplicationListAccept`).
            FriendApplicationAccepted($crate::event::FriendApplication) => on_friend_application_accepted,
            /// A friend application was refused (v2 `onFriendApplicationListReject`).
            FriendApplicationRejected($crate::event::FriendApplication) => on_friend_application_rejected,
            /// A friend application left the pending list (v2 `onFriendApplicationListDeleted`).
            FriendApplicationDeleted($crate::event::FriendApplication) => on_friend_application_deleted,
            /// A friend was added (v2 `onFriendListAdded`).
            FriendAdded($crate::event::Friend) => on_friend_added,
            /// A friend was removed (v2 `onFriendListDeleted`).
            FriendDeleted($crate::event::Friend) => on_friend_deleted,
            /// A friend's info changed (v2 `onFriendInfoChanged`).
            FriendInfoChanged($crate::event::Friend) => on_friend_info_changed,
            /// A user was added to the bot's blacklist (v2 `onBlackListAdd`).
            BlacklistAdded($crate::event::Blacklisted) => on_blacklist_added,
            /// A user was removed from the bot's blacklist (v2 `onBlackListDeleted`).
            BlacklistDeleted($crate::event::Blacklisted) => on_blacklist_deleted,
        }
    };
}

/// Payload of `initialized`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Initialized {
    /// The bot's user ID.
    #[serde(rename = "userID")]
    pub user_id: String,
    /// True if the data dir was empty (first start).
    pub fresh: bool,
}

/// Payload of `connecting`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Connecting {
    /// Attempt number since the last success (1 = first).
    pub attempt: u32,
}

/// Payload of `connect_success`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectSuccess {
    /// True if this is a reconnect after a lost connection.
    pub reconnect: bool,
}

/// Payload of `connect_failed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectFailed {
    /// 10000 for network errors, else the server's error code.
    pub err_code: i32,
    /// What went wrong.
    pub err_msg: String,
    /// Delay before the next attempt (ms).
    pub retry_in_ms: u64,
}

/// Payload of `kicked_offline`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KickedOffline {
    /// True if a 2002 frame was received, false if a reconnect failed with 1506.
    pub by_frame: bool,
}

/// Payload of `user_token_expired`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserTokenExpired {
    /// True if the session obtained a new token with the admin secret and goes on.
    pub renewed: bool,
}

/// Payload of `user_token_invalid`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserTokenInvalid {
    /// OpenIM error code (1502, 1503, 1504, 1505, 1507).
    pub err_code: i32,
    /// The server's error message.
    pub err_msg: String,
    /// True if the session obtained a new token with the admin secret and goes on.
    pub renewed: bool,
}

/// Payload of `sync_server_start`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncServerStart {
    /// True on the first sync of a fresh data dir.
    pub reinstalled: bool,
}

/// Payload of `sync_server_progress`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncServerProgress {
    /// Percent, 0–100.
    pub progress: u32,
}

/// Payload of `sync_server_finish`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncServerFinish {
    /// True on the first sync of a fresh data dir.
    pub reinstalled: bool,
}

/// Payload of `sync_server_failed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncServerFailed {
    /// True on the first sync of a fresh data dir.
    pub reinstalled: bool,
    /// What failed.
    pub reason: String,
}

/// Payload of `new_conversation` and `conversation_changed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversations {
    /// The conversations (full rows after the change).
    pub conversations: Vec<Conversation>,
}

/// Payload of `total_unread_count_changed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TotalUnreadCount {
    /// Σ unread over visible conversations with recvMsgOpt < 2.
    pub total_unread_count: i32,
}

/// Payload of `typing`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Typing {
    /// Conversation.
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    /// Who is typing.
    #[serde(rename = "userID")]
    pub user_id: String,
    /// Platforms on which the user is typing now (empty = stopped).
    #[serde(rename = "platformIDs")]
    pub platform_ids: Vec<i32>,
}

/// Payload of `message_revoked` (SDK `MessageRevoked`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRevoked {
    /// Conversation of the revoked message.
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    /// Who revoked it.
    #[serde(rename = "revokerID")]
    pub revoker_id: String,
    /// Revoker's group role (0 in single chats).
    pub revoker_role: i32,
    /// Revoker's nickname.
    pub revoker_nickname: String,
    /// Client ID of the revoked message.
    #[serde(rename = "clientMsgID")]
    pub client_msg_id: String,
    /// Revoke time (ms).
    pub revoke_time: i64,
    /// Send time of the revoked message (ms).
    pub source_message_send_time: i64,
    /// Sender of the revoked message.
    #[serde(rename = "sourceMessageSendID")]
    pub source_message_send_id: String,
    /// Sender nickname of the revoked message.
    pub source_message_sender_nickname: String,
    /// Session type.
    pub session_type: i32,
    /// Seq of the revoked message.
    pub seq: i64,
    /// Revoked by an app admin.
    pub is_admin_revoke: bool,
}

/// Payload of `c2c_read_receipt`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadReceipt {
    /// Conversation.
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    /// Who read.
    #[serde(rename = "userID")]
    pub user_id: String,
    /// Client IDs of read messages known locally.
    #[serde(rename = "msgIDList")]
    pub msg_id_list: Vec<String>,
    /// Seqs that were read.
    pub seqs: Vec<i64>,
    /// Has-read seq of the reader.
    pub has_read_seq: i64,
    /// When (ms).
    pub read_time: i64,
    /// Session type (1).
    pub session_type: i32,
}

/// Payload of `message_deleted`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageDeleted {
    /// Conversation.
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    /// Deleted seqs.
    pub seqs: Vec<i64>,
}

/// Payload of `business_notification`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BusinessNotification {
    /// The raw `detail` text (normally `{"key":…,"data":…}`).
    pub detail: String,
}

/// Why the bot is in a new group (`joined_group_added`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum JoinReason {
    /// The group was created with the bot in it (v2 onGroupCreated).
    Created,
    /// The bot was invited.
    Invited,
    /// The bot entered (joined directly).
    Entered,
    /// The bot's application was accepted.
    ApplicationAccepted,
    /// Found by the joined-group sync on connect (happened while offline).
    Sync,
}

/// Payload of `joined_group_added`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinedGroupAdded {
    /// The group.
    pub group: GroupInfo,
    /// Why.
    pub reason: JoinReason,
    /// Who caused it (creator, inviter, approver), if known.
    #[serde(rename = "operatorUserID")]
    pub operator_user_id: String,
}

/// Why the bot left a group (`joined_group_deleted`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LeaveReason {
    /// The bot quit.
    Left,
    /// The bot was kicked.
    Kicked,
    /// The group was dismissed.
    Dismissed,
    /// Found missing by the joined-group sync on connect (happened while offline).
    Sync,
}

/// Payload of `joined_group_deleted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinedGroupDeleted {
    /// The group as it was stored (member count 0).
    pub group: GroupInfo,
    /// Why.
    pub reason: LeaveReason,
    /// Who caused it, if known.
    #[serde(rename = "operatorUserID")]
    pub operator_user_id: String,
}

/// Payload of the group member events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupMemberEvent {
    /// The member (new values; for removals the stored row).
    pub member: GroupMember,
    /// Who caused it (inviter, kicker, admin), empty if unknown.
    #[serde(rename = "operatorUserID")]
    pub operator_user_id: String,
}

/// Lane of an event: the conversation it belongs to (for ordering), `None` = global lane.
pub trait EventLane {
    /// The conversation ID whose ordering this event follows.
    fn lane(&self) -> Option<&str> {
        None
    }
}

macro_rules! no_lane {
    ($($t:ty),*) => { $(impl EventLane for $t {})* };
}
no_lane!(
    Initialized,
    Connecting,
    ConnectSuccess,
    ConnectFailed,
    KickedOffline,
    UserTokenExpired,
    UserTokenInvalid,
    UserInfo,
    SyncServerStart,
    SyncServerProgress,
    SyncServerFinish,
    SyncServerFailed,
    Conversations,
    TotalUnreadCount,
    BusinessNotification,
    JoinedGroupAdded,
    JoinedGroupDeleted,
    GroupInfo,
    GroupMemberEvent,
    GroupApplication,
    FriendApplication,
    Friend,
    Blacklisted
);

impl EventLane for Message {
    fn lane(&self) -> Option<&str> {
        Some(&self.conversation_id)
    }
}
impl EventLane for Typing {
    fn lane(&self) -> Option<&str> {
        Some(&self.conversation_id)
    }
}
impl EventLane for MessageRevoked {
    fn lane(&self) -> Option<&str> {
        Some(&self.conversation_id)
    }
}
impl EventLane for ReadReceipt {
    fn lane(&self) -> Option<&str> {
        Some(&self.conversation_id)
    }
}
impl EventLane for MessageDeleted {
    fn lane(&self) -> Option<&str> {
        Some(&self.conversation_id)
    }
}

macro_rules! define_events {
    ($( $(#[$meta:meta])* $variant:ident($payload:ty) => $method:ident ),* $(,)?) => {
        /// One event of the session (see `framework/EVENTS.md`).
        #[derive(Debug, Clone)]
        #[non_exhaustive]
        pub enum Event {
            $( $(#[$meta])* $variant($payload), )*
        }

        /// The kind of an [`Event`], without payload.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum EventKind {
            $( $(#[$meta])* $variant, )*
        }

        impl EventKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [EventKind] = &[$(EventKind::$variant),*];

            /// The event's name as in `framework/EVENTS.md` (snake_case, e.g. `new_message`).
            pub fn name(self) -> &'static str {
                match self {
                    $( EventKind::$variant => {
                        let method: &'static str = stringify!($method);
                        method.strip_prefix("on_").unwrap_or(method)
                    } )*
                }
            }

            /// The kind with this name.
            pub fn from_name(name: &str) -> Option<EventKind> {
                Self::ALL.iter().copied().find(|k| k.name() == name)
            }
        }

        impl Event {
            /// The kind of this event.
            pub fn kind(&self) -> EventKind {
                match self {
                    $( Event::$variant(_) => EventKind::$variant, )*
                }
            }

            /// The ordering lane: the conversation this event belongs to, `None` = global.
            pub fn conversation_id(&self) -> Option<&str> {
                match self {
                    $( Event::$variant(payload) => EventLane::lane(payload), )*
                }
            }

            /// The payload as a JSON value.
            pub fn payload_json(&self) -> serde_json::Value {
                let value = match self {
                    $( Event::$variant(payload) => serde_json::to_value(payload), )*
                };
                value.unwrap_or(serde_json::Value::Null)
            }
        }
    };
}

crate::for_each_event!(define_events);

impl Event {
    /// The name of the event (`self.kind().name()`).
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// One JSON object: `{"event": NAME, ...payload}`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut object = match self.payload_json() {
            serde_json::Value::Object(map) => map,
            other => {
                let mut map = serde_json::Map::new();
                map.insert("payload".into(), other);
                map
            }
        };
        object.insert("event".into(), serde_json::Value::from(self.name()));
        serde_json::Value::Object(object)
    }

    /// Idempotency key for stored messages: `"conversationID:seq"`.
    pub fn idempotency_key(&self) -> Option<String> {
        match self {
            Event::NewMessage(m) | Event::OnlineOnlyMessage(m) => Some(m.idempotency_key()),
            _ => None,
        }
    }
}

impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_snake_case() {
        let mut names: Vec<_> = EventKind::ALL.iter().map(|k| k.name()).collect();
        assert!(names.iter().all(|n| {
            !n.starts_with("on_")
                && n.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
        }));
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
        assert_eq!(
            EventKind::from_name("new_message"),
            Some(EventKind::NewMessage)
        );
    }

    #[test]
    fn json_line_has_event_name() {
        let e = Event::SyncServerStart(SyncServerStart { reinstalled: true });
        let v = e.to_json();
        assert_eq!(v["event"], "sync_server_start");
        assert_eq!(v["reinstalled"], true);
        assert_eq!(e.conversation_id(), None);
    }
}
