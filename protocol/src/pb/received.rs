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
//! catch-up spent most of its decoding and dropping time there).

use std::collections::BTreeMap;

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

/// A pull answer (`1002`, `PullMessageBySeqsResp`) or a push (`2001`, `PushMessages`) as a
/// client decodes it: messages by conversation ID, regular and notification streams.
///
/// Encoding (which a client never does) writes the wire form, every entry with key and value.
#[derive(Clone, PartialEq, Default, Debug)]
pub struct ReceivedBatch {
    /// Regular conversations' messages (`msgs` #1).
    pub msgs: BTreeMap<String, ReceivedMsgs>,
    /// Notification conversations' messages (`notification_msgs` #2).
    pub notification_msgs: BTreeMap<String, ReceivedMsgs>,
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

fn wire_map(map: &BTreeMap<String, ReceivedMsgs>) -> BTreeMap<String, PullMsgs> {
    map.iter()
        .map(|(k, v)| {
            let msgs = v.msgs.iter().map(ReceivedMsg::to_msg_data).collect();
            (
                k.clone(),
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
/// repeated key is the one the entry is filed under, as prost's last-wins).
fn merge_entry(
    wire_type: WireType,
    map: &mut BTreeMap<String, ReceivedMsgs>,
    interners: &mut Interners,
    buf: &mut impl Buf,
    ctx: DecodeContext,
) -> Result<(), prost::DecodeError> {
    check_wire_type(WireType::LengthDelimited, wire_type)?;
    let len = length(buf)?;
    let entry = if buf.chunk().len() >= len {
        let (key, value) = decode_entry(&buf.chunk()[..len], interners, ctx)?;
        buf.advance(len);
        (key, value)
    } else {
        // A buffer in pieces (never the case for a slice): one copy, then the same decoder.
        let owned = buf.copy_to_bytes(len);
        decode_entry(&owned, interners, ctx)?
    };
    map.insert(entry.0, entry.1);
    Ok(())
}

fn decode_entry(
    mut entry: &[u8],
    interners: &mut Interners,
    ctx: DecodeContext,
) -> Result<(String, ReceivedMsgs), prost::DecodeError> {
    let (mut key, mut value) = (String::new(), ReceivedMsgs::default());
    let mut conversation = SharedStr::new();
    while !entry.is_empty() {
        let (tag, wire_type) = decode_key(&mut entry)?;
        match tag {
            1 => {
                string::merge(wire_type, &mut key, &mut entry, ctx.clone())?;
                conversation = SharedStr::from(key.as_str());
            }
            2 => {
                check_wire_type(WireType::LengthDelimited, wire_type)?;
                let len = length(&mut entry)?;
                let (body, rest) = entry.split_at(len);
                merge_msgs(&mut value, body, &conversation, interners, ctx.clone())?;
                entry = rest;
            }
            _ => skip_field(wire_type, tag, &mut entry, ctx.clone())?,
        }
    }
    // A key after its value (or a second key): every message is filed under the final key.
    if value.msgs.iter().any(|m| m.conversation_id != key) {
        for m in &mut value.msgs {
            m.conversation_id = conversation.clone();
        }
    }
    Ok((key, value))
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
        return Err(prost::DecodeError::new(
            "more messages in one batch than MAX_BATCH_MESSAGES",
        ));
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
    check_wire_type(WireType::LengthDelimited, wire_type)?;
    let len = length(body)?;
    let (bytes, rest) = body.split_at(len);
    *body = rest;
    std::str::from_utf8(bytes)
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
