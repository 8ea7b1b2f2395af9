//! Entity types kept in the local store and carried by events.
//!
//! They follow the OpenIM SDK v3.8 local tables (`LocalUser`, `LocalFriend`, `LocalGroup`, …):
//! Rust names are snake_case, the upstream JSON names are kept in serde attributes so that an
//! event printed as JSON reads like the SDK's callback payload.

use openim_protocol::SharedStr;
use serde::{Deserialize, Serialize};

/// The logged-in account's own profile (SDK `LocalUser`, payload of `self_info_updated`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UserInfo {
    /// User ID.
    #[serde(rename = "userID")]
    pub user_id: String,
    /// Nickname.
    pub nickname: String,
    /// Avatar URL.
    #[serde(rename = "faceURL")]
    pub face_url: String,
    /// Creation time (ms).
    pub create_time: i64,
    /// Free-form extension field.
    pub ex: String,
    /// Global receive option: 0 receive, 1 do not receive, 2 receive without notification.
    pub global_recv_msg_opt: i32,
}

/// A friend of the bot (SDK `LocalFriend`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Friend {
    /// The bot's user ID (owner of the relation).
    #[serde(rename = "ownerUserID")]
    pub owner_user_id: String,
    /// The friend's user ID.
    #[serde(rename = "userID")]
    pub user_id: String,
    /// Remark the owner gave this friend.
    pub remark: String,
    /// When the friendship was created (ms).
    pub create_time: i64,
    /// How the friend was added.
    pub add_source: i32,
    /// Who made the change.
    #[serde(rename = "operatorUserID")]
    pub operator_user_id: String,
    /// The friend's own nickname (never the remark).
    pub nickname: String,
    /// The friend's avatar URL.
    #[serde(rename = "faceURL")]
    pub face_url: String,
    /// Extension field.
    pub ex: String,
    /// Pinned in the friend list.
    pub is_pinned: bool,
}

/// Handling state of a friend or group application.
pub mod handle_result {
    /// Not handled yet.
    pub const PENDING: i32 = 0;
    /// Accepted.
    pub const ACCEPTED: i32 = 1;
    /// Refused.
    pub const REFUSED: i32 = -1;
}

/// A friend application (SDK `LocalFriendRequest`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FriendApplication {
    /// Applicant.
    #[serde(rename = "fromUserID")]
    pub from_user_id: String,
    /// Applicant's nickname.
    pub from_nickname: String,
    /// Applicant's avatar.
    #[serde(rename = "fromFaceURL")]
    pub from_face_url: String,
    /// Recipient.
    #[serde(rename = "toUserID")]
    pub to_user_id: String,
    /// Recipient's nickname.
    pub to_nickname: String,
    /// Recipient's avatar.
    #[serde(rename = "toFaceURL")]
    pub to_face_url: String,
    /// 0 pending, 1 accepted, -1 refused ([`handle_result`]).
    pub handle_result: i32,
    /// Message written by the applicant.
    pub req_msg: String,
    /// When the application was made (ms).
    pub create_time: i64,
    /// Who handled it.
    #[serde(rename = "handlerUserID")]
    pub handler_user_id: String,
    /// Message written by the handler.
    pub handle_msg: String,
    /// When it was handled (ms).
    pub handle_time: i64,
    /// Extension field.
    pub ex: String,
}

impl FriendApplication {
    /// Key identifying this application in the store: `from/to`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.from_user_id, self.to_user_id)
    }
}

/// A blacklist entry (SDK `LocalBlack`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Blacklisted {
    /// Owner of the blacklist (the bot).
    #[serde(rename = "ownerUserID")]
    pub owner_user_id: String,
    /// The blocked user.
    #[serde(rename = "userID")]
    pub user_id: String,
    /// Blocked user's nickname.
    pub nickname: String,
    /// Blocked user's avatar.
    #[serde(rename = "faceURL")]
    pub face_url: String,
    /// When the entry was created (ms).
    pub create_time: i64,
    /// How it was added.
    pub add_source: i32,
    /// Who added it.
    #[serde(rename = "operatorUserID")]
    pub operator_user_id: String,
    /// Extension field.
    pub ex: String,
}

/// A group (SDK `LocalGroup` / `sdkws.GroupInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GroupInfo {
    /// Group ID.
    #[serde(rename = "groupID")]
    pub group_id: String,
    /// Group name.
    pub group_name: String,
    /// Announcement text.
    pub notification: String,
    /// Introduction.
    pub introduction: String,
    /// Avatar URL.
    #[serde(rename = "faceURL")]
    pub face_url: String,
    /// Creation time (ms).
    pub create_time: i64,
    /// 0 ok, 1 banned, 2 dismissed, 3 muted.
    pub status: i32,
    /// Creator.
    #[serde(rename = "creatorUserID")]
    pub creator_user_id: String,
    /// Group type (2 = working group).
    pub group_type: i32,
    /// Owner.
    #[serde(rename = "ownerUserID")]
    pub owner_user_id: String,
    /// Number of members.
    pub member_count: i64,
    /// Extension field.
    pub ex: String,
    /// 0 apply needs approval / invite direct, 1 all need approval, 2 join directly.
    pub need_verification: i32,
    /// Whether members may look at each other's info.
    pub look_member_info: i32,
    /// Whether members may add each other as friends.
    pub apply_member_friend: i32,
    /// When the announcement was last changed (ms).
    pub notification_update_time: i64,
    /// Who last changed the announcement.
    #[serde(rename = "notificationUserID")]
    pub notification_user_id: String,
}

/// A member of a group (SDK `LocalGroupMember`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GroupMember {
    /// Group ID.
    #[serde(rename = "groupID")]
    pub group_id: String,
    /// Member's user ID.
    #[serde(rename = "userID")]
    pub user_id: String,
    /// Group nickname if set, else the user's nickname.
    pub nickname: String,
    /// Avatar URL.
    #[serde(rename = "faceURL")]
    pub face_url: String,
    /// 100 owner, 60 admin, 20 member.
    pub role_level: i32,
    /// When the member joined (ms).
    pub join_time: i64,
    /// 1 by admin, 2 invitation, 3 search, 4 QR code.
    pub join_source: i32,
    /// Who invited the member.
    #[serde(rename = "inviterUserID")]
    pub inviter_user_id: String,
    /// Muted until (ms); 0 = not muted.
    pub mute_end_time: i64,
    /// Who made the last change.
    #[serde(rename = "operatorUserID")]
    pub operator_user_id: String,
    /// Extension field.
    pub ex: String,
}

/// Group role levels (numbers of `openim_protocol::constants::GroupRoleLevel`).
pub mod role_level {
    use openim_protocol::constants::GroupRoleLevel;
    /// Group owner (100).
    pub const OWNER: i32 = GroupRoleLevel::Owner.as_i32();
    /// Group administrator (60).
    pub const ADMIN: i32 = GroupRoleLevel::Admin.as_i32();
    /// Ordinary member (20).
    pub const MEMBER: i32 = GroupRoleLevel::Ordinary.as_i32();
}

/// An application to join a group (SDK `LocalGroupRequest`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GroupApplication {
    /// Group ID.
    #[serde(rename = "groupID")]
    pub group_id: String,
    /// Group name.
    pub group_name: String,
    /// Group avatar.
    #[serde(rename = "groupFaceURL")]
    pub group_face_url: String,
    /// Group owner.
    #[serde(rename = "ownerUserID")]
    pub owner_user_id: String,
    /// Member count of the group.
    pub member_count: i64,
    /// The user who wants to join (the invitee for invitation requests).
    #[serde(rename = "userID")]
    pub user_id: String,
    /// That user's nickname.
    pub nickname: String,
    /// That user's avatar.
    #[serde(rename = "userFaceURL")]
    pub user_face_url: String,
    /// 0 pending, 1 accepted, -1 refused.
    pub handle_result: i32,
    /// Applicant's message.
    pub req_msg: String,
    /// Handler's message.
    pub handled_msg: String,
    /// When the application was made (ms).
    pub req_time: i64,
    /// Who handled it.
    #[serde(rename = "handleUserID")]
    pub handle_user_id: String,
    /// When it was handled (ms).
    pub handled_time: i64,
    /// Extension field.
    pub ex: String,
    /// 2 = invitation, 3 = search, 4 = QR code.
    pub join_source: i32,
    /// Inviter for invitation requests.
    #[serde(rename = "inviterUserID")]
    pub inviter_user_id: String,
}

impl GroupApplication {
    /// Key identifying this application in the store: `groupID/userID`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.group_id, self.user_id)
    }
}

/// Summary of a conversation's newest message, kept in [`Conversation::latest_msg`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LatestMessage {
    /// Client message ID.
    #[serde(rename = "clientMsgID")]
    pub client_msg_id: SharedStr,
    /// Sequence number.
    pub seq: i64,
    /// Sender.
    #[serde(rename = "sendID")]
    pub send_id: SharedStr,
    /// Content type number.
    pub content_type: i32,
    /// Server send time (ms).
    pub send_time: i64,
    /// Text of text-like messages.
    pub text: Option<SharedStr>,
}

/// A conversation (SDK `LocalConversation`).
///
/// Its text fields (and its [`LatestMessage`]'s) are [`SharedStr`]s: the store keeps every row
/// in this form, and the copy an event carries (or [`Store::conversation`] returns) shares the
/// stored strings instead of allocating its own.
///
/// [`Store::conversation`]: crate::Store::conversation
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Conversation {
    /// Conversation ID (`si_a_b`, `sg_g`, `sn_a_b`).
    #[serde(rename = "conversationID")]
    pub conversation_id: SharedStr,
    /// Session type: 1 single, 3 group, 4 notification.
    pub conversation_type: i32,
    /// Peer user (single / notification chats).
    #[serde(rename = "userID")]
    pub user_id: SharedStr,
    /// Group (group chats).
    #[serde(rename = "groupID")]
    pub group_id: SharedStr,
    /// Display name.
    pub show_name: SharedStr,
    /// Display avatar.
    #[serde(rename = "faceURL")]
    pub face_url: SharedStr,
    /// 0 receive, 1 do not receive, 2 receive without notification.
    pub recv_msg_opt: i32,
    /// Unread messages.
    pub unread_count: i32,
    /// 0 none, 1 @me, 2 @all, 3 @all+@me, 4 announcement.
    pub group_at_type: i32,
    /// Newest message.
    pub latest_msg: Option<LatestMessage>,
    /// Send time of the newest message; 0 = hidden.
    pub latest_msg_send_time: i64,
    /// Pinned.
    pub is_pinned: bool,
    /// Burn-after-reading chat.
    pub is_private_chat: bool,
    /// Burn duration (s).
    pub burn_duration: i32,
    /// Extension field.
    pub ex: SharedStr,
    /// Server attached info.
    pub attached_info: SharedStr,
    /// Server-side has-read seq as last known.
    pub has_read_seq: i64,
    /// Server max seq as last known.
    pub max_seq: i64,
}

/// A conversation row as the store keeps it decoded: every field of [`Conversation`] but its
/// ID (the store's key) and its latest message (kept in the binary row only: a message to the
/// conversation replaces it, and with many conversations the cached copy's strings, taken when
/// written and freed at the next message, were two atomic counts and two cache misses per
/// message). Apart, because with 100,000 conversations the rows do not stay in the caches:
/// a whole `Conversation` (240 bytes, 80 of them the empty latest-message slot) spread a
/// cached row over five or six cache lines, this (144 bytes) over three (see
/// `store::CachedRow`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[repr(C)]
pub(crate) struct RowFields {
    // Strings first: what a read clones, and what `store::prefetch_row_data` fetches.
    pub(crate) user_id: SharedStr,
    pub(crate) show_name: SharedStr,
    pub(crate) face_url: SharedStr,
    pub(crate) group_id: SharedStr,
    pub(crate) ex: SharedStr,
    pub(crate) attached_info: SharedStr,
    pub(crate) latest_msg_send_time: i64,
    pub(crate) has_read_seq: i64,
    pub(crate) max_seq: i64,
    pub(crate) conversation_type: i32,
    pub(crate) recv_msg_opt: i32,
    pub(crate) unread_count: i32,
    pub(crate) group_at_type: i32,
    pub(crate) burn_duration: i32,
    pub(crate) is_pinned: bool,
    pub(crate) is_private_chat: bool,
}

impl RowFields {
    /// Makes these the fields of `from` (but its ID and latest message), sharing its strings:
    /// a string already shared is left as it is (no count taken and dropped). The store
    /// updates its decoded copy of a row this way: with many conversations the row's strings
    /// (also counted by the copies events carry, on other threads) are cache misses each,
    /// and most of them (IDs, names) do not change.
    pub(crate) fn assign(&mut self, from: &Conversation) {
        fn text(to: &mut SharedStr, from: &SharedStr) {
            if !to.ptr_eq(from) {
                *to = from.clone();
            }
        }
        // Destructured: a field added to `Conversation` must be decided on here.
        let Conversation {
            // The store's key.
            conversation_id: _,
            conversation_type,
            user_id,
            group_id,
            show_name,
            face_url,
            recv_msg_opt,
            unread_count,
            group_at_type,
            // Kept encoded by the store.
            latest_msg: _,
            latest_msg_send_time,
            is_pinned,
            is_private_chat,
            burn_duration,
            ex,
            attached_info,
            has_read_seq,
            max_seq,
        } = from;
        self.conversation_type = *conversation_type;
        text(&mut self.user_id, user_id);
        text(&mut self.group_id, group_id);
        text(&mut self.show_name, show_name);
        text(&mut self.face_url, face_url);
        self.recv_msg_opt = *recv_msg_opt;
        self.unread_count = *unread_count;
        self.group_at_type = *group_at_type;
        self.latest_msg_send_time = *latest_msg_send_time;
        self.is_pinned = *is_pinned;
        self.is_private_chat = *is_private_chat;
        self.burn_duration = *burn_duration;
        text(&mut self.ex, ex);
        text(&mut self.attached_info, attached_info);
        self.has_read_seq = *has_read_seq;
        self.max_seq = *max_seq;
    }

    /// The row with ID `conversation_id` and no latest message, sharing these strings.
    pub(crate) fn to_conversation(&self, conversation_id: SharedStr) -> Conversation {
        let RowFields {
            user_id,
            show_name,
            face_url,
            group_id,
            ex,
            attached_info,
            latest_msg_send_time,
            has_read_seq,
            max_seq,
            conversation_type,
            recv_msg_opt,
            unread_count,
            group_at_type,
            burn_duration,
            is_pinned,
            is_private_chat,
        } = self;
        Conversation {
            conversation_id,
            conversation_type: *conversation_type,
            user_id: user_id.clone(),
            group_id: group_id.clone(),
            show_name: show_name.clone(),
            face_url: face_url.clone(),
            recv_msg_opt: *recv_msg_opt,
            unread_count: *unread_count,
            group_at_type: *group_at_type,
            latest_msg: None,
            latest_msg_send_time: *latest_msg_send_time,
            is_pinned: *is_pinned,
            is_private_chat: *is_private_chat,
            burn_duration: *burn_duration,
            ex: ex.clone(),
            attached_info: attached_info.clone(),
            has_read_seq: *has_read_seq,
            max_seq: *max_seq,
        }
    }

    /// Whether `c`'s fields encoded before its unread count (type, user and group ID, show
    /// name, face URL, receive option) are these: the same numbers, and strings shared with
    /// these or equal and held in place (`SharedStr::ptr_eq`: a shared text is not read).
    pub(crate) fn same_prefix(&self, c: &Conversation) -> bool {
        self.conversation_type == c.conversation_type
            && self.recv_msg_opt == c.recv_msg_opt
            && self.user_id.ptr_eq(&c.user_id)
            && self.group_id.ptr_eq(&c.group_id)
            && self.show_name.ptr_eq(&c.show_name)
            && self.face_url.ptr_eq(&c.face_url)
    }
}

/// Compact binary encoding of conversation rows (journal entries, cached rows and keyed rows
/// since schema 2). A row starts with [`ROW_TAG`](row_codec::ROW_TAG), which no JSON document starts with, so rows
/// written as JSON by older versions are still read (`store::decode_row`). The conversation ID is the
/// row's key and is not repeated inside. Integers are zigzag varints, strings are a varint length
/// and UTF-8 bytes; about a third of the JSON size.
pub(crate) mod row_codec {
    use super::{Conversation, LatestMessage, SharedStr};
    use crate::compact::{Reader, put_int as varint};

    /// First byte of a binary row.
    pub(crate) const ROW_TAG: u8 = 0xC2;

    /// A string: its length (zigzag) and its bytes.
    fn string(out: &mut Vec<u8>, s: &str) {
        varint(out, s.len() as i64);
        out.extend_from_slice(s.as_bytes());
    }

    fn read_string(r: &mut Reader<'_>) -> Option<SharedStr> {
        let len = u64::try_from(r.int().ok()?).ok()?;
        r.str(len).ok().map(SharedStr::from)
    }

    /// Appends the binary row of `c` (without its conversation ID) to `out`.
    pub(crate) fn encode(c: &Conversation, out: &mut Vec<u8>) {
        encode_from(c, None, out);
    }

    /// The start of a binary row that [`encode_from`] copies instead of encoding it again:
    /// every field before the unread count (tag, type, user ID, group ID, show name, face
    /// URL, receive option), which a message to the conversation leaves as they are.
    pub(crate) struct Prefix<'a> {
        bytes: &'a [u8],
        /// Where the user ID's encoding (length and text) is in `bytes`.
        user_id: std::ops::Range<usize>,
    }

    impl<'a> Prefix<'a> {
        /// The prefix of `row`, a binary row; `None` if it is malformed.
        pub(crate) fn of(row: &'a [u8]) -> Option<Prefix<'a>> {
            fn skip_string(r: &mut Reader<'_>) -> Option<()> {
                let len = u64::try_from(r.int().ok()?).ok()?;
                r.skip(len).ok()
            }
            let mut r = Reader::new(row);
            if r.byte().ok()? != ROW_TAG {
                return None;
            }
            r.int32().ok()?;
            let user_id = row.len() - r.remaining();
            skip_string(&mut r)?;
            let user_id = user_id..row.len() - r.remaining();
            for _ in 0..3 {
                skip_string(&mut r)?;
            }
            r.int32().ok()?;
            let end = row.len() - r.remaining();
            Some(Prefix {
                bytes: row.get(..end)?,
                user_id,
            })
        }
    }

    /// Appends the binary row of `c` (without its conversation ID) to `out`, its start copied
    /// from `prefix` if given. `prefix` must be that of a row whose fields there are `c`'s
    /// (the store knows it when they are the strings of its cached row: `RowFields::
    /// same_prefix`): those strings are then not read, and with many conversations each of
    /// them was a cache miss (allocated long ago, touched once per message).
    pub(crate) fn encode_from(c: &Conversation, prefix: Option<&Prefix<'_>>, out: &mut Vec<u8>) {
        match prefix {
            Some(p) => out.extend_from_slice(p.bytes),
            None => {
                out.push(ROW_TAG);
                varint(out, c.conversation_type.into());
                string(out, &c.user_id);
                string(out, &c.group_id);
                string(out, &c.show_name);
                string(out, &c.face_url);
                varint(out, c.recv_msg_opt.into());
            }
        }
        varint(out, c.unread_count.into());
        varint(out, c.group_at_type.into());
        match &c.latest_msg {
            None => out.push(0),
            Some(m) => {
                out.push(if m.text.is_some() { 2 } else { 1 });
                string(out, &m.client_msg_id);
                varint(out, m.seq);
                match prefix {
                    // Mostly the peer's ID, shared with the row's: copied from the prefix.
                    Some(p) if m.send_id.ptr_eq(&c.user_id) => {
                        out.extend_from_slice(p.bytes.get(p.user_id.clone()).unwrap_or_default())
                    }
                    _ => string(out, &m.send_id),
                }
                varint(out, m.content_type.into());
                varint(out, m.send_time);
                if let Some(t) = &m.text {
                    string(out, t);
                }
            }
        }
        varint(out, c.latest_msg_send_time);
        out.push(u8::from(c.is_pinned) | u8::from(c.is_private_chat) << 1);
        varint(out, c.burn_duration.into());
        string(out, &c.ex);
        string(out, &c.attached_info);
        varint(out, c.has_read_seq);
        varint(out, c.max_seq);
    }

    /// `s`, or `like` if it is the same text: a single chat's latest sender is mostly its peer,
    /// and a row kept decoded then holds one allocation for both.
    pub(crate) fn share(s: SharedStr, like: &SharedStr) -> SharedStr {
        if s == *like { like.clone() } else { s }
    }

    /// Decodes a binary row stored under `conversation_id`; `None` if it is malformed.
    pub(crate) fn decode(conversation_id: SharedStr, bytes: &[u8]) -> Option<Conversation> {
        let mut r = Reader::new(bytes);
        if r.byte().ok()? != ROW_TAG {
            return None;
        }
        let mut c = Conversation {
            conversation_id,
            conversation_type: r.int32().ok()?,
            user_id: read_string(&mut r)?,
            group_id: read_string(&mut r)?,
            show_name: read_string(&mut r)?,
            face_url: read_string(&mut r)?,
            recv_msg_opt: r.int32().ok()?,
            unread_count: r.int32().ok()?,
            group_at_type: r.int32().ok()?,
            ..Default::default()
        };
        c.latest_msg = match r.byte().ok()? {
            0 => None,
            kind @ (1 | 2) => Some(LatestMessage {
                client_msg_id: read_string(&mut r)?,
                seq: r.int().ok()?,
                send_id: share(read_string(&mut r)?, &c.user_id),
                content_type: r.int32().ok()?,
                send_time: r.int().ok()?,
                text: if kind == 2 {
                    Some(read_string(&mut r)?)
                } else {
                    None
                },
            }),
            _ => return None,
        };
        c.latest_msg_send_time = r.int().ok()?;
        let flags = r.byte().ok()?;
        c.is_pinned = flags & 1 != 0;
        c.is_private_chat = flags & 2 != 0;
        c.burn_duration = r.int32().ok()?;
        c.ex = read_string(&mut r)?;
        c.attached_info = read_string(&mut r)?;
        c.has_read_seq = r.int().ok()?;
        c.max_seq = r.int().ok()?;
        r.is_empty().then_some(c)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn assigning_a_row_shares_its_strings_and_keeps_those_it_has() {
            use crate::model::RowFields;
            // Longer than what a SharedStr holds in place: two of them are shared or not.
            const PEER: &str = "b, a peer ID held shared";
            let a = Conversation {
                conversation_id: "si_a_b".into(),
                user_id: PEER.into(),
                show_name: "B".into(),
                latest_msg_send_time: 5,
                ..Default::default()
            };
            let mut kept = RowFields::default();
            kept.assign(&a);
            assert_eq!(kept.to_conversation(a.conversation_id.clone()), a);
            assert!(kept.same_prefix(&a));
            // The same row with a latest message (left out) and another peer ID (equal text,
            // not shared).
            let b = Conversation {
                user_id: PEER.into(),
                max_seq: 7,
                latest_msg: Some(LatestMessage {
                    client_msg_id: "m2".into(),
                    seq: 7,
                    ..Default::default()
                }),
                ..a.clone()
            };
            assert!(!kept.same_prefix(&b), "equal text, not shared");
            let user_id = kept.user_id.clone();
            kept.assign(&b);
            let back = kept.to_conversation("si_a_b".into());
            assert_eq!(
                back,
                Conversation {
                    latest_msg: None,
                    ..b.clone()
                }
            );
            assert!(kept.show_name.ptr_eq(&a.show_name) && back.show_name.ptr_eq(&a.show_name));
            assert!(kept.user_id.ptr_eq(&b.user_id) && !kept.user_id.ptr_eq(&user_id));
            assert!(kept.same_prefix(&b));
            let other = Conversation {
                recv_msg_opt: 2,
                ..b.clone()
            };
            assert!(!kept.same_prefix(&other));
            // Short texts (held in place) that are equal count as the same.
            let short = Conversation {
                show_name: "B".into(),
                ..b.clone()
            };
            assert!(kept.same_prefix(&short));
        }

        /// Every field set to something not default (the latest message's sender `send_id`).
        fn full(send_id: &str) -> Conversation {
            Conversation {
                conversation_id: "si_a_b".into(),
                conversation_type: 1,
                user_id: "b".into(),
                group_id: "g".into(),
                show_name: "Bé ✓".into(),
                face_url: "http://x/y.png".into(),
                recv_msg_opt: 2,
                unread_count: 1_000_000,
                group_at_type: 3,
                latest_msg: Some(LatestMessage {
                    client_msg_id: "c1".into(),
                    seq: i64::MAX,
                    send_id: send_id.into(),
                    content_type: 101,
                    send_time: 1_700_000_000_000,
                    text: Some("hi".into()),
                }),
                latest_msg_send_time: 1_700_000_000_000,
                is_pinned: true,
                is_private_chat: true,
                burn_duration: -5,
                ex: "{}".into(),
                attached_info: "att".into(),
                has_read_seq: i64::MIN,
                max_seq: 42,
            }
        }

        #[test]
        fn a_row_encoded_from_an_earlier_rows_prefix_is_the_row_encoded_whole() {
            let before = full("x");
            let mut long = full("x");
            // Lengths over one varint byte.
            long.show_name = "n".repeat(300).into();
            long.face_url = "f".repeat(70).into();
            for earlier in [&before, &long] {
                let mut bytes = Vec::new();
                encode(earlier, &mut bytes);
                let prefix = Prefix::of(&bytes).unwrap();
                // The later rows share the earlier one's strings (as the store's do).
                let mut later = earlier.clone();
                later.unread_count = 0;
                later.max_seq = 43;
                let peer = later.user_id.clone();
                let other = SharedStr::from("b"); // the peer's text, another string
                let messages = [Some(peer), Some(other), Some("z".into()), None];
                for send_id in messages {
                    match (&send_id, later.latest_msg.as_mut()) {
                        (Some(id), Some(m)) => m.send_id = id.clone(),
                        _ => later.latest_msg = None,
                    }
                    let (mut whole, mut copied) = (Vec::new(), vec![7]);
                    encode(&later, &mut whole);
                    encode_from(&later, Some(&prefix), &mut copied);
                    assert_eq!(copied[1..], whole[..]);
                    assert_eq!(
                        decode(later.conversation_id.clone(), &whole),
                        Some(later.clone())
                    );
                }
            }
            // Not a binary row, or cut short of its unread count: no prefix.
            let mut bytes = Vec::new();
            encode(&before, &mut bytes);
            let end = Prefix::of(&bytes).unwrap().bytes.len();
            for cut in 0..end {
                assert!(Prefix::of(&bytes[..cut]).is_none());
            }
            assert!(Prefix::of(&bytes[..end]).is_some());
            assert!(Prefix::of(b"{}").is_none());
        }

        #[test]
        fn rows_round_trip_and_malformed_rows_are_rejected() {
            let full = Conversation {
                group_id: SharedStr::new(),
                ..full("b")
            };
            let mut no_text = full.clone();
            if let Some(m) = no_text.latest_msg.as_mut() {
                m.text = None;
            }
            let blank = Conversation {
                conversation_id: "sg_g".into(),
                ..Default::default()
            };
            for c in [&full, &no_text, &blank] {
                let mut bytes = Vec::new();
                encode(c, &mut bytes);
                let id = c.conversation_id.clone();
                assert_eq!(decode(id.clone(), &bytes).as_ref(), Some(c));
                let json = serde_json::to_vec(c).unwrap();
                assert!(
                    bytes.len() * 2 < json.len(),
                    "{} vs {}",
                    bytes.len(),
                    json.len()
                );
                // Every truncation and a trailing byte are rejected, never a panic.
                for cut in 0..bytes.len() {
                    assert_eq!(decode(id.clone(), &bytes[..cut]), None);
                }
                bytes.push(0);
                assert_eq!(decode(id, &bytes), None);
            }
            assert_eq!(decode("x".into(), b"{\"conversationID\":\"x\"}"), None);
        }
    }
}
