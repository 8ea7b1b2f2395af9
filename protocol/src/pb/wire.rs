//! Hand-written protobuf encoding of message-valued maps.
//!
//! prost leaves out a map entry's value when it equals the default message; Go always writes
//! key and value, and the JS decoder (`@openim/protocol`) drops entries whose value is
//! missing. For `1006` responses with a zero `Seqs`, or `1005` responses with an empty
//! `PullMsgs` (the JS SDK requires an entry per requested conversation), the entry must
//! survive, so these maps are encoded here, always with both fields.

use std::collections::BTreeMap;

use prost::bytes::{Buf, BufMut};
use prost::encoding::{
    DecodeContext, WireType, btree_map, check_wire_type, encode_key, encode_varint,
    encoded_len_varint, key_len, message, string,
};

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
