//! Hand-written protobuf encoding of message-valued maps.
//!
//! prost leaves out a map entry's value when it equals the default message; Go always writes
//! key and value, and the JS decoder (`@openim/protocol`) drops entries whose value is
//! missing. For `1006` responses with a zero `Seqs`, or `1005` responses with an empty
//! `PullMsgs` (the JS SDK requires an entry per requested conversation), the entry must
//! survive, so these maps are encoded here, always with both fields.

use std::collections::BTreeMap;

use prost::Message;
use prost::bytes::{Buf, BufMut};
use prost::encoding::{
    DecodeContext, WireType, btree_map, check_wire_type, decode_key, decode_varint, encode_key,
    encode_varint, encoded_len_varint, key_len, message, skip_field, string,
};

use crate::pb::sdkws::{MsgData, PullMsgs};

fn entry_len<V: prost::Message>(key: &str, value: &V) -> usize {
    key_len(1) + encoded_len_varint(key.len() as u64) + key.len() + message::encoded_len(2, value)
}

/// Encodes `map<string, V>` field `tag`, always writing key and value of every entry.
pub fn encode_message_map<V: prost::Message>(
    tag: u32,
    map: &BTreeMap<String, V>,
    buf: &mut impl BufMut,
) {
    for (key, value) in map {
        encode_key(tag, WireType::LengthDelimited, buf);
        encode_varint(entry_len(key, value) as u64, buf);
        string::encode(1, key, buf);
        message::encode(2, value, buf);
    }
}

/// Encoded length of [`encode_message_map`]'s output.
pub fn message_map_encoded_len<V: prost::Message>(tag: u32, map: &BTreeMap<String, V>) -> usize {
    map.iter()
        .map(|(key, value)| {
            let len = entry_len(key, value);
            key_len(tag) + encoded_len_varint(len as u64) + len
        })
        .sum()
}

/// Merges one entry of a `map<string, V>` field (entries without key or value get defaults).
pub fn merge_message_map<V: prost::Message + Default>(
    wire_type: WireType,
    map: &mut BTreeMap<String, V>,
    buf: &mut impl Buf,
    ctx: DecodeContext,
) -> Result<(), prost::DecodeError> {
    check_wire_type(WireType::LengthDelimited, wire_type)?;
    btree_map::merge(string::merge, message::merge, map, buf, ctx)
}

/// `prost::Message` for a message whose fields are `msgs` #1 and `notification_msgs` #2, both
/// `map<string, PullMsgs>` (pull answers and pushes): decoded with [`merge_pull_msgs_map`].
macro_rules! conversation_msgs_message {
    ($name:ident) => {
        impl ::prost::Message for $name {
            fn encode_raw(&self, buf: &mut impl ::prost::bytes::BufMut) {
                crate::pb::wire::encode_message_map(1, &self.msgs, buf);
                crate::pb::wire::encode_message_map(2, &self.notification_msgs, buf);
            }

            fn merge_field(
                &mut self,
                tag: u32,
                wire_type: ::prost::encoding::WireType,
                buf: &mut impl ::prost::bytes::Buf,
                ctx: ::prost::encoding::DecodeContext,
            ) -> ::core::result::Result<(), ::prost::DecodeError> {
                let (map, field) = match tag {
                    1 => (&mut self.msgs, "msgs"),
                    2 => (&mut self.notification_msgs, "notification_msgs"),
                    _ => return ::prost::encoding::skip_field(wire_type, tag, buf, ctx),
                };
                crate::pb::wire::merge_pull_msgs_map(wire_type, map, buf, ctx).map_err(|mut e| {
                    e.push(stringify!($name), field);
                    e
                })
            }

            fn encoded_len(&self) -> usize {
                crate::pb::wire::message_map_encoded_len(1, &self.msgs)
                    + crate::pb::wire::message_map_encoded_len(2, &self.notification_msgs)
            }

            fn clear(&mut self) {
                self.msgs.clear();
                self.notification_msgs.clear();
            }
        }
    };
}
pub(crate) use conversation_msgs_message;

/// Merges one entry of a `map<string, PullMsgs>` field (pull answers and pushes) with the
/// semantics of [`merge_message_map`], decoding the entry from one contiguous slice: the
/// entry's messages are counted first so their list is allocated once at its final size
/// (a 100-message pull answer otherwise regrows it 6 times, moving ~40 KB), and every
/// message's `content` is copied once (prost's `bytes` merge copies it twice).
pub fn merge_pull_msgs_map(
    wire_type: WireType,
    map: &mut BTreeMap<String, PullMsgs>,
    buf: &mut impl Buf,
    ctx: DecodeContext,
) -> Result<(), prost::DecodeError> {
    check_wire_type(WireType::LengthDelimited, wire_type)?;
    let len = length(buf)?;
    let (key, value) = if buf.chunk().len() >= len {
        let entry = pull_msgs_entry(&buf.chunk()[..len], ctx)?;
        buf.advance(len);
        entry
    } else {
        // A buffer in pieces (never the case for a slice): one copy, then the same decoder.
        let owned = buf.copy_to_bytes(len);
        pull_msgs_entry(&owned, ctx)?
    };
    map.insert(key, value);
    Ok(())
}

/// A length prefix that fits in what is left of `buf`.
pub(super) fn length(buf: &mut impl Buf) -> Result<usize, prost::DecodeError> {
    let len = decode_varint(buf)?;
    if len > buf.remaining() as u64 {
        return Err(prost::DecodeError::new("buffer underflow"));
    }
    Ok(len as usize)
}

/// One map entry: key #1, value #2 (missing ones are defaults; a repeated value merges).
fn pull_msgs_entry(
    mut entry: &[u8],
    ctx: DecodeContext,
) -> Result<(String, PullMsgs), prost::DecodeError> {
    let (mut key, mut value) = (String::new(), PullMsgs::default());
    while !entry.is_empty() {
        let (tag, wire_type) = decode_key(&mut entry)?;
        match tag {
            1 => string::merge(wire_type, &mut key, &mut entry, ctx.clone())?,
            2 => {
                check_wire_type(WireType::LengthDelimited, wire_type)?;
                let len = length(&mut entry)?;
                let (body, rest) = entry.split_at(len);
                merge_pull_msgs(&mut value, body, ctx.clone())?;
                entry = rest;
            }
            _ => skip_field(wire_type, tag, &mut entry, ctx.clone())?,
        }
    }
    Ok((key, value))
}

/// Merges an encoded `PullMsgs` (exactly `body`) into `value`.
fn merge_pull_msgs(
    value: &mut PullMsgs,
    body: &[u8],
    ctx: DecodeContext,
) -> Result<(), prost::DecodeError> {
    let n = count_messages(body, &ctx);
    value.msgs.reserve_exact(n);
    let mut body = body;
    while !body.is_empty() {
        let (tag, wire_type) = decode_key(&mut body)?;
        if tag == 1 {
            check_wire_type(WireType::LengthDelimited, wire_type)?;
            let len = length(&mut body)?;
            let (msg, rest) = body.split_at(len);
            // Decoded in its slot of the list (a message is ~460 bytes: no copy of it from the
            // stack); on error the whole answer is dropped, the half-decoded message with it.
            value.msgs.push(MsgData::default());
            if let Some(m) = value.msgs.last_mut() {
                merge_msg_data(m, msg, &ctx).map_err(|mut e| {
                    e.push("PullMsgs", "msgs");
                    e
                })?;
            }
            body = rest;
        } else {
            value.merge_field(tag, wire_type, &mut body, ctx.clone())?;
        }
    }
    Ok(())
}

/// Number of `msgs` (#1) fields in an encoded `PullMsgs`; stops at the first malformed field
/// (the decoder then reports it).
pub(super) fn count_messages(mut body: &[u8], ctx: &DecodeContext) -> usize {
    let mut n = 0;
    while !body.is_empty() {
        let Ok((tag, wire_type)) = decode_key(&mut body) else {
            break;
        };
        n += usize::from(tag == 1 && wire_type == WireType::LengthDelimited);
        if skip_field(wire_type, tag, &mut body, ctx.clone()).is_err() {
            break;
        }
    }
    n
}

/// The string field of `MsgData` with number `tag`, if it is one.
fn msg_data_string(m: &mut MsgData, tag: u32) -> Option<&mut String> {
    Some(match tag {
        1 => &mut m.send_id,
        2 => &mut m.recv_id,
        3 => &mut m.group_id,
        4 => &mut m.client_msg_id,
        5 => &mut m.server_msg_id,
        7 => &mut m.sender_nickname,
        8 => &mut m.sender_face_url,
        22 => &mut m.attached_info,
        23 => &mut m.ex,
        _ => return None,
    })
}

/// Merges an encoded `MsgData` (exactly `body`) into `m`: `content` (#12) and the string
/// fields are copied once straight from the slice (the last occurrence wins, as in prost);
/// every other field, and any field of an unexpected wire type, goes through the derived
/// decoder.
fn merge_msg_data(
    m: &mut MsgData,
    mut body: &[u8],
    ctx: &DecodeContext,
) -> Result<(), prost::DecodeError> {
    while !body.is_empty() {
        let (tag, wire_type) = decode_key(&mut body)?;
        if wire_type == WireType::LengthDelimited
            && let Some(field) = msg_data_string(m, tag)
        {
            let len = length(&mut body)?;
            let (bytes, rest) = body.split_at(len);
            let text = std::str::from_utf8(bytes).map_err(|_| {
                prost::DecodeError::new("invalid string value: data is not UTF-8 encoded")
            })?;
            field.clear();
            field.push_str(text);
            body = rest;
        } else if tag == 12 {
            check_wire_type(WireType::LengthDelimited, wire_type).map_err(|mut e| {
                e.push("MsgData", "content");
                e
            })?;
            let len = length(&mut body)?;
            let (content, rest) = body.split_at(len);
            m.content.clear();
            m.content.extend_from_slice(content);
            body = rest;
        } else {
            m.merge_field(tag, wire_type, &mut body, ctx.clone())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb::sdkws::PullMessageBySeqsResp;

    fn msg(seq: i64) -> MsgData {
        MsgData {
            send_id: format!("u{seq}"),
            client_msg_id: format!("c{seq}"),
            content: br#"{"content":"hi"}"#.to_vec(),
            seq,
            ..Default::default()
        }
    }

    #[test]
    fn pull_answers_decode_as_encoded_with_their_lists_sized_once() {
        let answer = PullMessageBySeqsResp {
            msgs: [(
                "si_a_b".to_owned(),
                PullMsgs {
                    msgs: (1..=5).map(msg).collect(),
                    is_end: true,
                    ..Default::default()
                },
            )]
            .into(),
            ..Default::default()
        };
        let back = PullMessageBySeqsResp::decode(answer.encode_to_vec().as_slice())
            .expect("a valid answer decodes");
        assert_eq!(back, answer);
        let list = &back.msgs["si_a_b"].msgs;
        assert_eq!(list.capacity(), list.len());
    }
}
