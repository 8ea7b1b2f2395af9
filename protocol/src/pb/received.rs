//! Pull answers and pushes decoded for a client: [`ReceivedBatch`] of [`ReceivedMsg`].
//!
//! The wire form is that of [`PullMessageBySeqsResp`](super::sdkws::PullMessageBySeqsResp) and
//! [`PushMessages`](super::sdkws::PushMessages) (`map<string, PullMsgs>` #1 and #2); only the
//! decoded form differs from [`MsgData`]: the strings a conversation's messages repeat (sender,
//! receiver, group, sender nickname and avatar, and the conversation ID the answer files them
//! under) are [`SharedStr`]s, one per distinct value in the batch, shared by its messages.
//!
//! Why: a client decodes on its connection's task and hands the messages to the task that
//! handles them. A `String` per message and field is allocated by one thread and freed by
//! another; with glibc that is a locked, cache-missing path on both sides (a 100,000-message
//! catch-up spent most of its decoding and dropping time there). For the same reason a batch's
//! conversations are a [`ByConversation`] (a sorted list keyed by the shared conversation ID,
//! not a `BTreeMap` with a `String` key per entry), and a push decoded with [`decode_boxed`] goes
//! back to the decoder with [`recycle_boxed`] to carry the next one: a one-message push then
//! allocates nothing for its container.

use std::collections::BTreeMap;
use std::fmt;

use prost::bytes::{Buf, BufMut};
use prost::encoding::{
    DecodeContext, WireType, bool as pb_bool, btree_map, check_wire_type, decode_key, int32, int64,
    message, skip_field, string,
};

use super::sdkws::{MsgData, OfflinePushInfo, PullMsgs};
use super::wire::{count_messages, length};
use crate::shared_str::{Interner, SharedStr};

/// One message of a [`ReceivedBatch`]: [`MsgData`]'s fields, with the per-conversation strings
/// shared, plus the conversation it was filed under.
#[derive(Clone, PartialEq, Default, Debug)]
pub struct ReceivedMsg {
    /// The key of the batch's entry that carried the message (the conversation ID).
    pub conversation_id: SharedStr,
    /// Sender user ID (`sendID` #1).
    pub send_id: SharedStr,
    /// Receiver user ID (`recvID` #2); empty for groups.
    pub recv_id: SharedStr,
    /// Group ID (`groupID` #3); empty for non-group messages.
    pub group_id: SharedStr,
    /// Client-generated message ID (`clientMsgID` #4).
    pub client_msg_id: String,
    /// Server-generated message ID (`serverMsgID` #5).
    pub server_msg_id: String,
    /// Platform of the sending device (`senderPlatformID` #6).
    pub sender_platform_id: i32,
    /// Sender display-name snapshot (`senderNickname` #7).
    pub sender_nickname: SharedStr,
    /// Sender avatar snapshot (`senderFaceURL` #8).
    pub sender_face_url: SharedStr,
    /// Session type (`sessionType` #9).
    pub session_type: i32,
    /// `msgFrom` #10 (100 user, 200 system).
    pub msg_from: i32,
    /// Content type (`contentType` #11).
    pub content_type: i32,
    /// Content element JSON (`content` #12).
    pub content: Vec<u8>,
    /// Sequence number (`seq` #14).
    pub seq: i64,
    /// Server send time, ms (`sendTime` #15).
    pub send_time: i64,
    /// Client creation time, ms (`createTime` #16).
    pub create_time: i64,
    /// Message status (`status` #17).
    pub status: i32,
    /// `isRead` #18.
    pub is_read: bool,
    /// Option flags (`options` #19).
    pub options: BTreeMap<String, bool>,
    /// Offline push info (`offlinePushInfo` #20).
    pub offline_push_info: Option<OfflinePushInfo>,
    /// Mentioned user IDs (`atUserIDList` #21).
    pub at_user_id_list: Vec<String>,
    /// `attachedInfo` #22.
    pub attached_info: String,
    /// `ex` #23.
    pub ex: String,
}

impl ReceivedMsg {
    /// The received form of `m`, filed under `conversation_id` (tests, synthetic input).
    pub fn from_msg_data(conversation_id: &str, m: MsgData) -> ReceivedMsg {
        ReceivedMsg {
            conversation_id: conversation_id.into(),
            send_id: m.send_id.into(),
            recv_id: m.recv_id.into(),
            group_id: m.group_id.into(),
            client_msg_id: m.client_msg_id,
            server_msg_id: m.server_msg_id,
            sender_platform_id: m.sender_platform_id,
            sender_nickname: m.sender_nickname.into(),
            sender_face_url: m.sender_face_url.into(),
            session_type: m.session_type,
            msg_from: m.msg_from,
            content_type: m.content_type,
            content: m.content,
            seq: m.seq,
            send_time: m.send_time,
            create_time: m.create_time,
            status: m.status,
            is_read: m.is_read,
            options: m.options,
            offline_push_info: m.offline_push_info,
            at_user_id_list: m.at_user_id_list,
            attached_info: m.attached_info,
            ex: m.ex,
        }
    }

    /// The wire form (the conversation ID is not part of it).
    pub fn to_msg_data(&self) -> MsgData {
        MsgData {
            send_id: self.send_id.to_string(),
            recv_id: self.recv_id.to_string(),
            group_id: self.group_id.to_string(),
            client_msg_id: self.client_msg_id.clone(),
            server_msg_id: self.server_msg_id.clone(),
            sender_platform_id: self.sender_platform_id,
            sender_nickname: self.sender_nickname.to_string(),
            sender_face_url: self.sender_face_url.to_string(),
            session_type: self.session_type,
            msg_from: self.msg_from,
            content_type: self.content_type,
            content: self.content.clone(),
            seq: self.seq,
            send_time: self.send_time,
            create_time: self.create_time,
            status: self.status,
            is_read: self.is_read,
            options: self.options.clone(),
            offline_push_info: self.offline_push_info.clone(),
            at_user_id_list: self.at_user_id_list.clone(),
            attached_info: self.attached_info.clone(),
            ex: self.ex.clone(),
        }
    }

    /// True if option `key` is on (absent = on, as in [`MsgData::option`]).
    pub fn option(&self, key: &str) -> bool {
        self.options.get(key).copied().unwrap_or(true)
    }
}

/// The messages of one conversation in a [`ReceivedBatch`] (the wire's `PullMsgs`).
#[derive(Clone, PartialEq, Default, Debug)]
pub struct ReceivedMsgs {
    /// The messages, in wire order.
    pub msgs: Vec<ReceivedMsg>,
    /// No more messages in the pull direction (`isEnd` #2).
    pub is_end: bool,
    /// Boundary seq (`endSeq` #3).
    pub end_seq: i64,
}

/// One conversation of a [`ByConversation`]: its ID and its messages.
type Entry = (SharedStr, ReceivedMsgs);

/// A batch's conversations (the wire's `map<string, PullMsgs>`): each conversation ID once,
/// with its messages, in ID order (as a `BTreeMap` iterates).
///
/// Why not a map: a push carries one message of one conversation, and a map node, a key
/// `String` and a list were allocated by the decoding task for each push and freed by the
/// handling one (with glibc, a locked path of the other thread's arena). The key here is the
/// [`SharedStr`] the messages carry, and an emptied `ByConversation` keeps its entries, each
/// with its list's room, for the next batch decoded into it.
#[derive(Default)]
pub struct ByConversation {
    /// `entries[..live]`: the conversations, keys ascending and unique. `entries[live..]`:
    /// emptied ones kept for reuse (empty key and list, defaults elsewhere).
    entries: Vec<Entry>,
    live: usize,
}

/// Emptied entries a [`ByConversation`] keeps at most (a push has one conversation).
const MAX_SPARE_ENTRIES: usize = 4;
/// An emptied entry's list is kept only with room for at most this many messages.
const MAX_SPARE_ENTRY_ROOM: usize = 16;

impl ByConversation {
    /// No conversations.
    pub const fn new() -> ByConversation {
        ByConversation {
            entries: Vec::new(),
            live: 0,
        }
    }

    /// Number of conversations.
    pub fn len(&self) -> usize {
        self.live
    }

    /// True if there are no conversations.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries[..self.live].binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// The messages of conversation `key`.
    pub fn get(&self, key: &str) -> Option<&ReceivedMsgs> {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    /// The messages of conversation `key`, to change or take out.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut ReceivedMsgs> {
        self.find(key).ok().map(|i| &mut self.entries[i].1)
    }

    /// Files `value` under `key` (in its place by order); returns what it replaces.
    pub fn insert(
        &mut self,
        key: impl Into<SharedStr>,
        value: ReceivedMsgs,
    ) -> Option<ReceivedMsgs> {
        let key = key.into();
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                self.live += 1;
                None
            }
        }
    }

    /// Takes conversation `key` out (the others keep their order).
    pub fn remove(&mut self, key: &str) -> Option<ReceivedMsgs> {
        let i = self.find(key).ok()?;
        self.live -= 1;
        Some(self.entries.remove(i).1)
    }

    /// The conversations and their messages, in ID order.
    pub fn iter(
        &self,
    ) -> impl DoubleEndedIterator<Item = (&SharedStr, &ReceivedMsgs)> + ExactSizeIterator {
        self.entries[..self.live].iter().map(|(k, v)| (k, v))
    }

    /// The conversations and their messages (to change or take out), in ID order.
    pub fn iter_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = (&SharedStr, &mut ReceivedMsgs)> + ExactSizeIterator {
        self.entries[..self.live].iter_mut().map(|(k, v)| (&*k, v))
    }

    /// The conversation IDs, in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &SharedStr> + ExactSizeIterator {
        self.entries[..self.live].iter().map(|(k, _)| k)
    }

    /// The conversations' messages, in ID order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &ReceivedMsgs> + ExactSizeIterator {
        self.entries[..self.live].iter().map(|(_, v)| v)
    }

    /// Removes every conversation. A few entries are kept (each with its list's room, when
    /// not large) for the next batch decoded into this one.
    pub fn clear(&mut self) {
        self.entries.truncate(MAX_SPARE_ENTRIES);
        for (key, value) in &mut self.entries {
            *key = SharedStr::new();
            if value.msgs.capacity() > MAX_SPARE_ENTRY_ROOM {
                value.msgs = Vec::new();
            } else {
                value.msgs.clear();
            }
            value.is_end = false;
            value.end_seq = 0;
        }
        self.live = 0;
    }

    /// The entry the next decoded conversation goes to, empty (an emptied one when there is
    /// one, what a failed decoding left in it dropped); [`ByConversation::push_slot`] makes it
    /// part of the list.
    fn slot(&mut self) -> &mut Entry {
        if self.live == self.entries.len() {
            self.entries.push(Entry::default());
        }
        let (key, value) = &mut self.entries[self.live];
        *key = SharedStr::new();
        value.msgs.clear();
        value.is_end = false;
        value.end_seq = 0;
        &mut self.entries[self.live]
    }

    /// Makes the entry [`ByConversation::slot`] handed out the last conversation (see
    /// [`ByConversation::settle`]).
    fn push_slot(&mut self) {
        self.live = (self.live + 1).min(self.entries.len());
    }

    /// Puts the conversations in ID order, and keeps only the last of those with one ID
    /// (a repeated map key: the later entry wins, as in prost). Linear for what is already in
    /// order (a one-conversation push, an encoder that sorts).
    fn settle(&mut self) {
        let live = &mut self.entries[..self.live];
        if live.windows(2).all(|w| w[0].0 < w[1].0) {
            return;
        }
        // Stable: of one ID, the wire's last stays last.
        live.sort_by(|a, b| a.0.cmp(&b.0));
        // entries[..kept]: the survivors; entries[kept..read]: the ones dropped, emptied.
        let mut kept = 0;
        for read in 0..self.live {
            if read + 1 < self.live && self.entries[read].0 == self.entries[read + 1].0 {
                let (key, value) = &mut self.entries[read];
                *key = SharedStr::new();
                *value = ReceivedMsgs::default();
            } else {
                self.entries.swap(kept, read);
                kept += 1;
            }
        }
        self.live = kept;
    }
}

impl Clone for ByConversation {
    fn clone(&self) -> ByConversation {
        ByConversation {
            entries: self.entries[..self.live].to_vec(),
            live: self.live,
        }
    }
}

impl PartialEq for ByConversation {
    fn eq(&self, other: &ByConversation) -> bool {
        self.entries[..self.live] == other.entries[..other.live]
    }
}

impl fmt::Debug for ByConversation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Into<SharedStr>> FromIterator<(K, ReceivedMsgs)> for ByConversation {
    /// The conversations of `iter`; of those with one ID, the last.
    fn from_iter<I: IntoIterator<Item = (K, ReceivedMsgs)>>(iter: I) -> ByConversation {
        let entries: Vec<Entry> = iter.into_iter().map(|(k, v)| (k.into(), v)).collect();
        let mut all = ByConversation {
            live: entries.len(),
            entries,
        };
        all.settle();
        all.entries.truncate(all.live);
        all
    }
}

impl IntoIterator for ByConversation {
    type Item = (SharedStr, ReceivedMsgs);
    type IntoIter = std::vec::IntoIter<(SharedStr, ReceivedMsgs)>;

    /// The conversations and their messages, in ID order.
    fn into_iter(mut self) -> Self::IntoIter {
        self.entries.truncate(self.live);
        self.entries.into_iter()
    }
}

/// A pull answer (`1002`, `PullMessageBySeqsResp`) or a push (`2001`, `PushMessages`) as a
/// client decodes it: messages by conversation ID, regular and notification streams.
///
/// Encoding (which a client never does) writes the wire form, every entry with key and value.
/// Decode it with `decode` or `merge` (these put each stream's conversations in ID order);
/// a push, with [`decode_boxed`].
#[derive(Clone, PartialEq, Default, Debug)]
pub struct ReceivedBatch {
    /// Regular conversations' messages (`msgs` #1).
    pub msgs: ByConversation,
    /// Notification conversations' messages (`notification_msgs` #2).
    pub notification_msgs: ByConversation,
}

std::thread_local! {
    /// Shared strings handed out so far by the batch being decoded on this thread (their reuse
    /// spans the whole batch). Kept out of the batch so that a one-message push stays a small
    /// allocation (it is freed by another thread).
    static INTERNERS: std::cell::RefCell<Interners> = std::cell::RefCell::default();
}

/// One [`Interner`] per kind of repeated string, and the batch's message count so far.
#[derive(Debug, Default)]
struct Interners {
    user_ids: Interner,
    group_ids: Interner,
    nicknames: Interner,
    face_urls: Interner,
    messages: usize,
}

/// Most messages one batch (a pull answer or a push) may hold; more is a decode error.
///
/// Why: an empty message costs 2 bytes on the wire and ~500 bytes decoded, so a 16 MiB frame of
/// them would ask for gigabytes (and the list is reserved up front). A client asks for at most
/// 100 messages per pull and a server pushes a few at a time; this is far above both.
pub const MAX_BATCH_MESSAGES: usize = 100_000;

fn wire_map(map: &ByConversation) -> BTreeMap<String, PullMsgs> {
    map.iter()
        .map(|(k, v)| {
            let msgs = v.msgs.iter().map(ReceivedMsg::to_msg_data).collect();
            (
                k.to_string(),
                PullMsgs {
                    msgs,
                    is_end: v.is_end,
                    end_seq: v.end_seq,
                },
            )
        })
        .collect()
}

impl prost::Message for ReceivedBatch {
    /// prost's `merge`, then the decoder lets go of the batch's remembered strings: their
    /// reference counts drop here, on the decoding thread that made them, rather than on
    /// whichever thread drops the last message (a cache line fetched across cores otherwise).
    /// The conversations are put in ID order last (`merge_field` files them in wire order).
    fn merge(&mut self, mut buf: impl Buf) -> Result<(), prost::DecodeError> {
        let ctx = DecodeContext::default();
        let merged = (|| {
            while buf.has_remaining() {
                let (tag, wire_type) = decode_key(&mut buf)?;
                self.merge_field(tag, wire_type, &mut buf, ctx.clone())?;
            }
            Ok(())
        })();
        INTERNERS.with_borrow_mut(|interners| *interners = Interners::default());
        self.msgs.settle();
        self.notification_msgs.settle();
        merged
    }

    fn encode_raw(&self, buf: &mut impl BufMut) {
        super::wire::encode_message_map(1, &wire_map(&self.msgs), buf);
        super::wire::encode_message_map(2, &wire_map(&self.notification_msgs), buf);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        let (map, field) = match tag {
            1 => (&mut self.msgs, "msgs"),
            2 => (&mut self.notification_msgs, "notification_msgs"),
            _ => return skip_field(wire_type, tag, buf, ctx),
        };
        let merged =
            INTERNERS.with_borrow_mut(|interners| merge_entry(wire_type, map, interners, buf, ctx));
        merged.map_err(|mut e| {
            e.push("ReceivedBatch", field);
            e
        })
    }

    fn encoded_len(&self) -> usize {
        super::wire::message_map_encoded_len(1, &wire_map(&self.msgs))
            + super::wire::message_map_encoded_len(2, &wire_map(&self.notification_msgs))
    }

    fn clear(&mut self) {
        self.msgs.clear();
        self.notification_msgs.clear();
    }
}

/// Merges one map entry (key #1, value #2; a repeated key or value merges, as prost does; a
/// repeated key is the one the entry is filed under, as prost's last-wins). The entry is
/// added last; [`ByConversation::settle`] orders the whole map once decoded.
fn merge_entry(
    wire_type: WireType,
    map: &mut ByConversation,
    interners: &mut Interners,
    buf: &mut impl Buf,
    ctx: DecodeContext,
) -> Result<(), prost::DecodeError> {
    check_wire_type(WireType::LengthDelimited, wire_type)?;
    let len = length(buf)?;
    // On error the half-decoded entry is left out of the list (`clear` empties it).
    if buf.chunk().len() >= len {
        decode_entry(&buf.chunk()[..len], map.slot(), interners, ctx)?;
        buf.advance(len);
    } else {
        // A buffer in pieces (never the case for a slice): one copy, then the same decoder.
        let owned = buf.copy_to_bytes(len);
        decode_entry(&owned, map.slot(), interners, ctx)?;
    }
    map.push_slot();
    Ok(())
}

/// Decodes an entry into `slot` (an empty one).
fn decode_entry(
    mut entry: &[u8],
    slot: &mut Entry,
    interners: &mut Interners,
    ctx: DecodeContext,
) -> Result<(), prost::DecodeError> {
    let (key, value) = slot;
    while !entry.is_empty() {
        let (tag, wire_type) = decode_key(&mut entry)?;
        match tag {
            1 => {
                let text = str_field(wire_type, &mut entry)?;
                if *key != text {
                    *key = SharedStr::from(text);
                }
            }
            2 => {
                check_wire_type(WireType::LengthDelimited, wire_type)?;
                let len = length(&mut entry)?;
                let (body, rest) = entry.split_at(len);
                merge_msgs(value, body, key, interners, ctx.clone())?;
                entry = rest;
            }
            _ => skip_field(wire_type, tag, &mut entry, ctx.clone())?,
        }
    }
    // A key after its value (or a second key): every message is filed under the final key.
    if value.msgs.iter().any(|m| !m.conversation_id.ptr_eq(key)) {
        for m in &mut value.msgs {
            m.conversation_id = key.clone();
        }
    }
    Ok(())
}

/// Decoded pushes handed back by their receiver ([`recycle_boxed`]), each kept with its
/// entries and their lists' room, to carry a later push decoded by [`decode_boxed`].
///
/// Why: a push was a box, a map node, a key and a list allocated by the connection's task and
/// freed by the engine's, on another thread: with glibc, both threads then took the lock of the
/// decoding thread's arena for each push, and contended for it.
// Boxed: the box is what the pushes travel in (`decode_boxed`), kept with the rest.
#[allow(clippy::vec_box)]
static SPARE_BATCHES: std::sync::Mutex<Vec<Box<ReceivedBatch>>> = std::sync::Mutex::new(Vec::new());
/// At most this many spare batches are kept (about the pushes a handler takes at once).
const MAX_SPARE_BATCHES: usize = 512;

/// Decodes a batch (a push) into a box handed back earlier with [`recycle_boxed`] when there
/// is one: its container then costs no allocation.
pub fn decode_boxed(buf: &[u8]) -> Result<Box<ReceivedBatch>, prost::DecodeError> {
    let spare = SPARE_BATCHES.lock().ok().and_then(|mut spare| spare.pop());
    let mut batch = spare.unwrap_or_default();
    // `ReceivedBatch`'s own merge (a `Box`'s is prost's generic one).
    match prost::Message::merge(&mut *batch, buf) {
        Ok(()) => Ok(batch),
        Err(e) => {
            recycle_boxed([batch]);
            Err(e)
        }
    }
}

/// The newest seq of each conversation in an encoded push or pull answer (the wire form of
/// [`ReceivedBatch`]), without decoding its messages: `each(conversation_id, seq)` once per
/// conversation entry that holds a message with a positive seq, with the highest such seq.
///
/// Why: a client that drops a push (its queue full) keeps only this, to pull the messages by
/// seq later; a full decode of every dropped push cost it more than the pushes it kept.
/// Only the entries' keys are checked to be UTF-8; the rest is left to the pull. As the full
/// decode does, it refuses more than [`MAX_BATCH_MESSAGES`] messages (so that one push cannot
/// name millions of conversations).
pub fn newest_seqs(
    mut buf: &[u8],
    mut each: impl FnMut(&str, i64),
) -> Result<(), prost::DecodeError> {
    let ctx = DecodeContext::default();
    let mut messages = 0;
    while !buf.is_empty() {
        let (tag, wire_type) = decode_key(&mut buf)?;
        if tag != 1 && tag != 2 {
            skip_field(wire_type, tag, &mut buf, ctx.clone())?;
            continue;
        }
        let mut entry = length_delimited(wire_type, &mut buf)?;
        let (mut conversation_id, mut newest) = ("", 0);
        while !entry.is_empty() {
            let (tag, wire_type) = decode_key(&mut entry)?;
            match tag {
                1 => conversation_id = str_field(wire_type, &mut entry)?,
                2 => {
                    let value = length_delimited(wire_type, &mut entry)?;
                    newest = newest.max(newest_seq_in(value, &mut messages, &ctx)?);
                }
                _ => skip_field(wire_type, tag, &mut entry, ctx.clone())?,
            }
        }
        if newest > 0 {
            each(conversation_id, newest);
        }
    }
    Ok(())
}

/// The highest seq (`MsgData` #14) among the messages of an encoded `PullMsgs`; `messages`
/// counts them, up to [`MAX_BATCH_MESSAGES`] in all.
fn newest_seq_in(
    mut body: &[u8],
    messages: &mut usize,
    ctx: &DecodeContext,
) -> Result<i64, prost::DecodeError> {
    let mut newest = 0;
    while !body.is_empty() {
        let (tag, wire_type) = decode_key(&mut body)?;
        if tag != 1 {
            skip_field(wire_type, tag, &mut body, ctx.clone())?;
            continue;
        }
        *messages += 1;
        if *messages > MAX_BATCH_MESSAGES {
            return Err(too_many_messages());
        }
        let mut msg = length_delimited(wire_type, &mut body)?;
        let mut seq = 0;
        while !msg.is_empty() {
            let (tag, wire_type) = decode_key(&mut msg)?;
            if tag == 14 {
                int64::merge(wire_type, &mut seq, &mut msg, ctx.clone())?;
            } else {
                skip_field(wire_type, tag, &mut msg, ctx.clone())?;
            }
        }
        newest = newest.max(seq);
    }
    Ok(newest)
}

/// The error of a batch of more than [`MAX_BATCH_MESSAGES`] messages.
fn too_many_messages() -> prost::DecodeError {
    prost::DecodeError::new("more messages in one batch than MAX_BATCH_MESSAGES")
}

/// The body of a length-delimited field whose key was just read; `body` moves past it.
fn length_delimited<'a>(
    wire_type: WireType,
    body: &mut &'a [u8],
) -> Result<&'a [u8], prost::DecodeError> {
    check_wire_type(WireType::LengthDelimited, wire_type)?;
    let len = length(body)?;
    let (field, rest) = body.split_at(len);
    *body = rest;
    Ok(field)
}

/// Hands batches (pushes, their messages taken out) back to [`decode_boxed`]: each is emptied
/// (messages still in it are dropped) and kept, with a few of its entries, unless enough are.
pub fn recycle_boxed(batches: impl IntoIterator<Item = Box<ReceivedBatch>>) {
    let Ok(mut spare) = SPARE_BATCHES.lock() else {
        return;
    };
    for mut batch in batches {
        if spare.len() < MAX_SPARE_BATCHES {
            prost::Message::clear(&mut *batch);
            spare.push(batch);
        }
    }
}

/// Emptied message lists handed back by the receiver of decoded batches
/// ([`recycle_list`]), refilled by the next batch decoded here.
///
/// Why: a pull answer's list of ~100 messages is one ~40 KB allocation, made on the task that
/// decodes (the connection's reader) and freed on the one that consumes the messages. With
/// glibc, a request that large first consolidates the decoding thread's free lists: every
/// answer paid a walk of them, and the small allocations after it took the slow path.
static SPARE_LISTS: std::sync::Mutex<Vec<Vec<ReceivedMsg>>> = std::sync::Mutex::new(Vec::new());
/// At most this many spare lists are kept (about the pulls a client keeps in flight).
const MAX_SPARE_LISTS: usize = 8;
/// A list with room for more messages than this is dropped rather than kept.
const MAX_SPARE_CAPACITY: usize = 1024;
/// Lists for fewer messages than this are left to the allocator. One: a push's one-message
/// list (~450 bytes) is pooled too, as it was allocated by the reader and freed by the engine
/// for every push, and with many conversations that malloc took glibc's slow path (its heap
/// grown again) on the reader's side.
const MIN_POOLED_LEN: usize = 1;

/// Hands an emptied list of received messages (e.g. a pull answer's, after its messages were
/// taken out) back to the decoder, which fills it with a later batch instead of allocating a
/// new one. Messages still in it are dropped; a list too small or too large to be worth
/// keeping, or beyond the few kept, is freed.
pub fn recycle_list(mut list: Vec<ReceivedMsg>) {
    list.clear();
    if list.capacity() < MIN_POOLED_LEN || list.capacity() > MAX_SPARE_CAPACITY {
        return;
    }
    if let Ok(mut spare) = SPARE_LISTS.lock()
        && spare.len() < MAX_SPARE_LISTS
    {
        spare.push(list);
    }
}

/// An empty list with room for `n` messages: a recycled one when there is one.
fn list_for(n: usize) -> Vec<ReceivedMsg> {
    let spare = if n >= MIN_POOLED_LEN {
        SPARE_LISTS.lock().ok().and_then(|mut spare| spare.pop())
    } else {
        None
    };
    let mut list = spare.unwrap_or_default();
    list.reserve_exact(n);
    list
}

/// Merges an encoded `PullMsgs` (exactly `body`) into `value`.
fn merge_msgs(
    value: &mut ReceivedMsgs,
    mut body: &[u8],
    conversation: &SharedStr,
    interners: &mut Interners,
    ctx: DecodeContext,
) -> Result<(), prost::DecodeError> {
    // Room for all at once: a 100-message answer otherwise regrows the list 6 times.
    let n = count_messages(body, &ctx);
    interners.messages = interners.messages.saturating_add(n);
    if interners.messages > MAX_BATCH_MESSAGES {
        return Err(too_many_messages());
    }
    if value.msgs.capacity() == 0 {
        value.msgs = list_for(n);
    } else {
        value.msgs.reserve_exact(n);
    }
    while !body.is_empty() {
        let (tag, wire_type) = decode_key(&mut body)?;
        let field = match tag {
            1 => {
                check_wire_type(WireType::LengthDelimited, wire_type)?;
                let len = length(&mut body)?;
                let (msg, rest) = body.split_at(len);
                // Decoded in its slot of the list (no copy of a ~400-byte message); on error
                // the whole batch is dropped, the half-decoded message with it.
                value.msgs.push(ReceivedMsg {
                    conversation_id: conversation.clone(),
                    ..ReceivedMsg::default()
                });
                if let Some(m) = value.msgs.last_mut() {
                    merge_msg(m, msg, interners, &ctx)?;
                }
                body = rest;
                Ok(())
            }
            2 => pb_bool::merge(wire_type, &mut value.is_end, &mut body, ctx.clone()),
            3 => int64::merge(wire_type, &mut value.end_seq, &mut body, ctx.clone()),
            _ => skip_field(wire_type, tag, &mut body, ctx.clone()),
        };
        field.map_err(|mut e| {
            e.push("PullMsgs", "msgs");
            e
        })?;
    }
    Ok(())
}

/// A length-delimited UTF-8 string field's text.
fn str_field<'a>(wire_type: WireType, body: &mut &'a [u8]) -> Result<&'a str, prost::DecodeError> {
    std::str::from_utf8(length_delimited(wire_type, body)?)
        .map_err(|_| prost::DecodeError::new("invalid string value: data is not UTF-8 encoded"))
}

/// Merges an encoded `MsgData` (exactly `body`) into `m` (the last occurrence of a scalar or
/// string field wins, repeated and map fields accumulate, as in prost).
fn merge_msg(
    m: &mut ReceivedMsg,
    mut body: &[u8],
    interners: &mut Interners,
    ctx: &DecodeContext,
) -> Result<(), prost::DecodeError> {
    while !body.is_empty() {
        let (tag, wire_type) = decode_key(&mut body)?;
        let b = &mut body;
        let result = match tag {
            1 => str_field(wire_type, b).map(|s| m.send_id = interners.user_ids.get(s)),
            2 => str_field(wire_type, b).map(|s| m.recv_id = interners.user_ids.get(s)),
            3 => str_field(wire_type, b).map(|s| m.group_id = interners.group_ids.get(s)),
            4 => str_field(wire_type, b).map(|s| replace(&mut m.client_msg_id, s)),
            5 => str_field(wire_type, b).map(|s| replace(&mut m.server_msg_id, s)),
            6 => int32::merge(wire_type, &mut m.sender_platform_id, b, ctx.clone()),
            7 => str_field(wire_type, b).map(|s| m.sender_nickname = interners.nicknames.get(s)),
            8 => str_field(wire_type, b).map(|s| m.sender_face_url = interners.face_urls.get(s)),
            9 => int32::merge(wire_type, &mut m.session_type, b, ctx.clone()),
            10 => int32::merge(wire_type, &mut m.msg_from, b, ctx.clone()),
            11 => int32::merge(wire_type, &mut m.content_type, b, ctx.clone()),
            12 => check_wire_type(WireType::LengthDelimited, wire_type)
                .and_then(|()| length(b))
                .map(|len| {
                    let (content, rest) = b.split_at(len);
                    m.content.clear();
                    m.content.extend_from_slice(content);
                    *b = rest;
                }),
            14 => int64::merge(wire_type, &mut m.seq, b, ctx.clone()),
            15 => int64::merge(wire_type, &mut m.send_time, b, ctx.clone()),
            16 => int64::merge(wire_type, &mut m.create_time, b, ctx.clone()),
            17 => int32::merge(wire_type, &mut m.status, b, ctx.clone()),
            18 => pb_bool::merge(wire_type, &mut m.is_read, b, ctx.clone()),
            19 => btree_map::merge(
                string::merge,
                pb_bool::merge,
                &mut m.options,
                b,
                ctx.clone(),
            ),
            20 => message::merge(
                wire_type,
                m.offline_push_info.get_or_insert_with(Default::default),
                b,
                ctx.clone(),
            ),
            21 => string::merge_repeated(wire_type, &mut m.at_user_id_list, b, ctx.clone()),
            22 => str_field(wire_type, b).map(|s| replace(&mut m.attached_info, s)),
            23 => str_field(wire_type, b).map(|s| replace(&mut m.ex, s)),
            _ => skip_field(wire_type, tag, b, ctx.clone()),
        };
        result.map_err(|mut e| {
            e.push("MsgData", field_name(tag));
            e
        })?;
    }
    Ok(())
}

fn replace(field: &mut String, text: &str) {
    field.clear();
    field.push_str(text);
}

fn field_name(tag: u32) -> &'static str {
    match tag {
        1 => "send_id",
        2 => "recv_id",
        3 => "group_id",
        4 => "client_msg_id",
        5 => "server_msg_id",
        6 => "sender_platform_id",
        7 => "sender_nickname",
        8 => "sender_face_url",
        9 => "session_type",
        10 => "msg_from",
        11 => "content_type",
        12 => "content",
        14 => "seq",
        15 => "send_time",
        16 => "create_time",
        17 => "status",
        18 => "is_read",
        19 => "options",
        20 => "offline_push_info",
        21 => "at_user_id_list",
        22 => "attached_info",
        23 => "ex",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use prost::Message as _;

    use super::*;

    /// A batch with one conversation `c` holding `n` empty messages (2 bytes each).
    fn batch_of_empty_messages(n: usize) -> Vec<u8> {
        let mut msgs = Vec::new();
        for _ in 0..n {
            msgs.extend_from_slice(&[0x0a, 0x00]); // PullMsgs.msgs #1, length 0
        }
        let mut entry = vec![0x0a, 0x01, b'c', 0x12]; // key #1 "c", value #2
        prost::encoding::encode_varint(msgs.len() as u64, &mut entry);
        entry.extend_from_slice(&msgs);
        let mut batch = vec![0x0a]; // ReceivedBatch.msgs #1
        prost::encoding::encode_varint(entry.len() as u64, &mut batch);
        batch.extend_from_slice(&entry);
        batch
    }

    /// A map entry (`key`, then a `PullMsgs` of one message per seq) of stream `field`.
    fn entry(field: u32, key: &str, seqs: &[i64]) -> Vec<u8> {
        let mut value = Vec::new();
        for &seq in seqs {
            let msg = MsgData {
                seq,
                send_id: "u1".into(),
                client_msg_id: format!("c{seq}"),
                ..Default::default()
            };
            prost::encoding::message::encode(1, &msg, &mut value);
        }
        let mut entry = Vec::new();
        prost::encoding::string::encode(1, &key.to_string(), &mut entry);
        prost::encoding::bytes::encode(2, &value, &mut entry);
        let mut out = Vec::new();
        prost::encoding::bytes::encode(field, &entry, &mut out);
        out
    }

    #[test]
    fn newest_seqs_reads_each_conversations_highest_seq_without_decoding() {
        let mut wire = entry(1, "si_a_b", &[3, 7, 5]);
        wire.extend(entry(2, "n_a_b", &[2]));
        // Online-only messages (seq 0): nothing to pull.
        wire.extend(entry(1, "si_a_c", &[0, 0]));
        wire.extend(entry(1, "sg_g", &[]));
        // An unknown top-level field is skipped.
        prost::encoding::int64::encode(9, &4, &mut wire);
        let mut got = Vec::new();
        newest_seqs(&wire, |conv, seq| got.push((conv.to_owned(), seq))).unwrap();
        assert_eq!(got, [("si_a_b".to_owned(), 7), ("n_a_b".to_owned(), 2)]);
        // The same as a full decode finds.
        let batch = decode_boxed(&wire).unwrap();
        let decoded: Vec<(String, i64)> = batch
            .msgs
            .iter()
            .chain(batch.notification_msgs.iter())
            .filter_map(|(c, m)| Some((c.to_string(), m.msgs.iter().map(|m| m.seq).max()?)))
            .filter(|&(_, seq)| seq > 0)
            .collect();
        let mut sorted = got.clone();
        sorted.sort();
        let mut decoded_sorted = decoded;
        decoded_sorted.sort();
        assert_eq!(sorted, decoded_sorted);
        // Cut short, or a key that is not UTF-8: an error, not a panic.
        for cut in [1, wire.len() / 2, wire.len() - 1] {
            assert!(
                newest_seqs(&wire[..cut], |_, _| {}).is_err(),
                "cut at {cut}"
            );
        }
        let too_many = batch_of_empty_messages(MAX_BATCH_MESSAGES + 1);
        let err = newest_seqs(&too_many, |_, _| {}).unwrap_err();
        assert!(err.to_string().contains("MAX_BATCH_MESSAGES"), "{err}");
        assert!(newest_seqs(&batch_of_empty_messages(MAX_BATCH_MESSAGES), |_, _| {}).is_ok());
        let mut bad_key = entry(1, "k", &[1]);
        let at = bad_key.iter().position(|&b| b == b'k').unwrap();
        bad_key[at] = 0xff;
        assert!(newest_seqs(&bad_key, |_, _| {}).is_err());
    }

    fn keys(map: &ByConversation) -> Vec<&str> {
        map.keys().map(|k| k.as_str()).collect()
    }

    fn seqs(map: &ByConversation, key: &str) -> Option<Vec<i64>> {
        map.get(key).map(|l| l.msgs.iter().map(|m| m.seq).collect())
    }

    #[test]
    fn conversations_are_in_id_order_and_a_repeated_id_keeps_its_last_entry() {
        // IDs longer than a SharedStr holds in place (equal short texts are `ptr_eq` anyway).
        const A: &str = "si_a_a_long_conversation_id";
        const B: &str = "si_b_a_long_conversation_id";
        const C: &str = "si_c_a_long_conversation_id";
        let wire = [
            entry(1, B, &[1]),
            entry(1, A, &[2, 3]),
            entry(2, "n_x", &[4]),
            entry(1, B, &[5]),
            entry(1, C, &[6]),
        ]
        .concat();
        let batch = ReceivedBatch::decode(wire.as_slice()).expect("decodes");
        assert_eq!(keys(&batch.msgs), [A, B, C]);
        assert_eq!(seqs(&batch.msgs, B), Some(vec![5]));
        assert_eq!(seqs(&batch.msgs, A), Some(vec![2, 3]));
        assert_eq!(keys(&batch.notification_msgs), ["n_x"]);
        for (key, list) in batch.msgs.iter() {
            assert!(list.msgs.iter().all(|m| m.conversation_id.ptr_eq(key)));
        }
        // As prost's own map decoding has it, and the same bytes back (entries sorted).
        let generic = crate::pb::sdkws::PushMessages::decode(wire.as_slice()).expect("decodes");
        let again = crate::pb::sdkws::PushMessages::decode(batch.encode_to_vec().as_slice());
        assert_eq!(again.expect("decodes"), generic);

        let mut map: ByConversation = batch.msgs.clone().into_iter().collect();
        assert_eq!(map, batch.msgs);
        assert!(map.insert("si_0", ReceivedMsgs::default()).is_none());
        assert_eq!(map.remove(B).map(|l| l.msgs.len()), Some(1));
        assert_eq!(keys(&map), ["si_0", A, C]);
        map.clear();
        assert!(map.is_empty() && map.get(A).is_none());
        // The emptied entries are kept for a later batch, and not part of it.
        assert!(!map.entries.is_empty());
        assert_eq!(map, ByConversation::new());
        assert_eq!(format!("{map:?}"), "{}");
    }

    #[test]
    fn a_recycled_push_carries_the_next_without_allocating_its_container() {
        let first = entry(1, "si_bot_u1", &[7]);
        let next = entry(1, "si_bot_u2", &[8]);
        let batch = decode_boxed(&first).expect("decodes");
        let (boxed, list) = (
            &*batch as *const ReceivedBatch,
            batch.msgs.entries[0].1.msgs.as_ptr(),
        );
        recycle_boxed([batch]);
        let batch = decode_boxed(&next).expect("decodes");
        assert_eq!(&*batch as *const ReceivedBatch, boxed);
        assert_eq!(batch.msgs.entries[0].1.msgs.as_ptr(), list);
        assert_eq!(
            *batch,
            ReceivedBatch::decode(next.as_slice()).expect("decodes")
        );
        let filed = batch
            .msgs
            .values()
            .next()
            .map(|l| l.msgs[0].conversation_id.as_str());
        assert_eq!(filed, Some("si_bot_u2"));
        // A malformed push is an error, and its box still goes back.
        recycle_boxed([batch]);
        assert!(decode_boxed(&first[..first.len() - 1]).is_err());
        let batch = decode_boxed(&next).expect("decodes");
        assert_eq!(&*batch as *const ReceivedBatch, boxed);
        assert_eq!(keys(&batch.msgs), ["si_bot_u2"]);
        recycle_boxed([batch]);
    }

    #[test]
    fn a_batch_of_too_many_messages_is_an_error_not_an_allocation() {
        let ok = ReceivedBatch::decode(batch_of_empty_messages(100).as_slice())
            .expect("100 messages decode");
        assert_eq!(ok.msgs.get("c").map(|m| m.msgs.len()), Some(100));
        let err = ReceivedBatch::decode(batch_of_empty_messages(MAX_BATCH_MESSAGES + 1).as_slice())
            .expect_err("one message over the limit");
        assert!(err.to_string().contains("MAX_BATCH_MESSAGES"), "{err}");
        // The limit counts the whole batch, not one list: two halves over it fail too.
        let half = batch_of_empty_messages(MAX_BATCH_MESSAGES / 2 + 1);
        let twice = [half.as_slice(), half.as_slice()].concat();
        assert!(ReceivedBatch::decode(twice.as_slice()).is_err());
        // And the next batch on this thread starts from zero again.
        assert!(ReceivedBatch::decode(batch_of_empty_messages(100).as_slice()).is_ok());
    }
}
