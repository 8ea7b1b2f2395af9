//! The protobuf payloads the sandbox speaks, re-exported from [`openim_protocol::pb`] under the
//! names the sandbox uses, plus small helpers.
//!
//! The protocol crate's map-bearing responses (`PushMessages`, `GetSeqMessageResp`, 1006 seqs …)
//! always encode map values, as Go does: the JS client drops map keys without a value.

pub use openim_protocol::pb::conversation::Conversation as PbConversation;
pub use openim_protocol::pb::jssdk::{
    ConversationMsg, GetActiveConversationsReq, GetActiveConversationsResp, GetConversationsReq,
};
pub use openim_protocol::pb::msg::{
    ConversationSeqs, GetConversationsHasReadAndMaxSeqReq, GetConversationsHasReadAndMaxSeqResp,
    GetLastMessageReq, GetLastMessageResp, GetSeqMessageReq, GetSeqMessageResp, SendMsgResp, Seqs,
};
pub use openim_protocol::pb::push::DelUserPushTokenReq;
pub use openim_protocol::pb::relation::FriendInfoOnly as PbFriendInfoOnly;
pub use openim_protocol::pb::sdkws::{
    GetMaxSeqReq, GetMaxSeqResp, GroupInfo as PbGroupInfo, MsgData, OfflinePushInfo,
    PullMessageBySeqsReq, PullMsgs, PushMessages, SeqRange, SetAppBackgroundStatusReq,
    SubUserOnlineStatus, SubUserOnlineStatusElem, SubUserOnlineStatusTips, UserInfo as PbUserInfo,
};

/// The jssdk conversation responses share one layout; the sandbox builds this one for both routes.
pub type ConversationsResp = GetActiveConversationsResp;

/// Helpers on [`PushMessages`] (also used for the identical 1002/1005 reply layouts).
pub trait PushMessagesExt {
    /// Adds a chat (`notification` false) or notification (`n_…`) conversation entry.
    fn insert_conversation(&mut self, notification: bool, conversation_id: String, value: PullMsgs);
    /// Looks up a conversation in `msgs` or `notification_msgs`.
    fn conversation(&self, conversation_id: &str) -> Option<&PullMsgs>;
}

impl PushMessagesExt for PushMessages {
    fn insert_conversation(
        &mut self,
        notification: bool,
        conversation_id: String,
        value: PullMsgs,
    ) {
        if notification {
            self.notification_msgs.insert(conversation_id, value);
        } else {
            self.msgs.insert(conversation_id, value);
        }
    }
    fn conversation(&self, conversation_id: &str) -> Option<&PullMsgs> {
        self.msgs
            .get(conversation_id)
            .or_else(|| self.notification_msgs.get(conversation_id))
    }
}

/// Messages of one conversation in an answer or push, each already protobuf-encoded: the
/// [`PullMsgs`] layout.
#[derive(Debug, Clone, Default)]
pub struct EncodedPullMsgs<B = bytes::Bytes> {
    /// Encoded [`MsgData`] messages, ascending by seq.
    pub msgs: Vec<B>,
    /// No more messages in the pull direction.
    pub is_end: bool,
    /// Boundary seq (1005 only).
    pub end_seq: i64,
}

impl<B: AsRef<[u8]>> EncodedPullMsgs<B> {
    fn encoded_len(&self) -> usize {
        use prost::encoding::{encoded_len_varint, key_len};
        let msgs: usize = self
            .msgs
            .iter()
            .map(|m| {
                let len = m.as_ref().len();
                key_len(1) + encoded_len_varint(len as u64) + len
            })
            .sum();
        let is_end = if self.is_end { key_len(2) + 1 } else { 0 };
        let end_seq = if self.end_seq != 0 {
            key_len(3) + encoded_len_varint(self.end_seq as u64)
        } else {
            0
        };
        msgs + is_end + end_seq
    }

    fn encode_raw(&self, buf: &mut Vec<u8>) {
        use prost::encoding::{WireType, encode_key, encode_varint};
        for m in &self.msgs {
            let m = m.as_ref();
            encode_key(1, WireType::LengthDelimited, buf);
            encode_varint(m.len() as u64, buf);
            buf.extend_from_slice(m);
        }
        if self.is_end {
            encode_key(2, WireType::Varint, buf);
            buf.push(1);
        }
        if self.end_seq != 0 {
            encode_key(3, WireType::Varint, buf);
            encode_varint(self.end_seq as u64, buf);
        }
    }
}

/// A [`PushMessages`] payload (also the layout of the 1002 and 1005 answers) assembled from
/// messages that are already encoded: the same bytes as encoding the decoded messages, with
/// every map entry written with key and value (as Go does; see [`openim_protocol::pb::wire`]).
///
/// Stored messages keep their encoding, so an answer of a hundred messages is a hundred copies
/// rather than a hundred clones and encodings.
#[derive(Debug, Clone)]
pub struct EncodedPush<B = bytes::Bytes> {
    /// Chat conversations (conversationID -> messages).
    pub msgs: std::collections::BTreeMap<String, EncodedPullMsgs<B>>,
    /// Notification conversations (`n_…`).
    pub notification_msgs: std::collections::BTreeMap<String, EncodedPullMsgs<B>>,
}

impl<B> Default for EncodedPush<B> {
    fn default() -> Self {
        EncodedPush {
            msgs: Default::default(),
            notification_msgs: Default::default(),
        }
    }
}

impl<B: AsRef<[u8]>> EncodedPush<B> {
    /// Adds a chat (`notification` false) or notification (`n_…`) conversation entry (a later
    /// entry for the same conversation replaces an earlier one).
    pub fn insert_conversation(
        &mut self,
        notification: bool,
        conversation_id: String,
        value: EncodedPullMsgs<B>,
    ) {
        if notification {
            self.notification_msgs.insert(conversation_id, value);
        } else {
            self.msgs.insert(conversation_id, value);
        }
    }

    /// The protobuf encoding.
    pub fn encode_to_vec(&self) -> Vec<u8> {
        use prost::encoding::{WireType, encode_key, encode_varint, encoded_len_varint, key_len};
        let entry_lens = |map: &std::collections::BTreeMap<String, EncodedPullMsgs<B>>| {
            map.iter()
                .map(|(k, v)| {
                    let value = v.encoded_len();
                    let entry = key_len(1)
                        + encoded_len_varint(k.len() as u64)
                        + k.len()
                        + key_len(2)
                        + encoded_len_varint(value as u64)
                        + value;
                    (entry, value)
                })
                .collect::<Vec<_>>()
        };
        let (chats, notes) = (entry_lens(&self.msgs), entry_lens(&self.notification_msgs));
        let total: usize = [(1u32, &chats), (2, &notes)]
            .iter()
            .flat_map(|(tag, lens)| {
                lens.iter()
                    .map(move |(e, _)| key_len(*tag) + encoded_len_varint(*e as u64) + e)
            })
            .sum();
        let mut buf = Vec::with_capacity(total);
        for (tag, map, lens) in [
            (1u32, &self.msgs, &chats),
            (2, &self.notification_msgs, &notes),
        ] {
            for ((key, value), (entry_len, value_len)) in map.iter().zip(lens) {
                encode_key(tag, WireType::LengthDelimited, &mut buf);
                encode_varint(*entry_len as u64, &mut buf);
                encode_key(1, WireType::LengthDelimited, &mut buf);
                encode_varint(key.len() as u64, &mut buf);
                buf.extend_from_slice(key.as_bytes());
                encode_key(2, WireType::LengthDelimited, &mut buf);
                encode_varint(*value_len as u64, &mut buf);
                value.encode_raw(&mut buf);
            }
        }
        buf
    }
}

/// The value of string/bytes field `tag` in a message encoded by prost (fields in ascending
/// tag order, each at most once, as every stored message is): empty when absent, `None` when
/// the bytes do not parse.
///
/// Reads one field of a stored message without decoding the rest (no allocation); the scan
/// stops at the first field past `tag`.
pub fn bytes_field(mut buf: &[u8], tag: u32) -> Option<&[u8]> {
    use prost::encoding::decode_varint;
    let tag = u64::from(tag);
    while !buf.is_empty() {
        let key = decode_varint(&mut buf).ok()?;
        let (field, wire_type) = (key >> 3, key & 7);
        if field > tag {
            break;
        }
        match wire_type {
            0 => {
                decode_varint(&mut buf).ok()?;
            }
            1 => buf = buf.get(8..)?,
            2 => {
                let len = usize::try_from(decode_varint(&mut buf).ok()?).ok()?;
                let value = buf.get(..len)?;
                if field == tag {
                    return Some(value);
                }
                buf = &buf[len..];
            }
            5 => buf = buf.get(4..)?,
            _ => return None,
        }
    }
    Some(&[])
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    fn msg(seq: i64, text: &str) -> MsgData {
        let mut options = std::collections::BTreeMap::new();
        options.insert("history".to_string(), true);
        options.insert("unreadCount".to_string(), false);
        MsgData {
            send_id: "alice".into(),
            recv_id: "bob".into(),
            client_msg_id: format!("c{seq}"),
            session_type: 1,
            content_type: 101,
            content: text.as_bytes().to_vec(),
            seq,
            send_time: 1_700_000_000_000 + seq,
            status: 2,
            options,
            ..Default::default()
        }
    }

    #[test]
    fn encoded_push_matches_the_decoded_encoding() {
        let long = "x".repeat(300);
        /// (notification, conversation, messages, is_end, end_seq)
        type Entry<'a> = (bool, &'a str, Vec<MsgData>, bool, i64);
        let cases: Vec<Vec<Entry>> = vec![
            vec![],
            vec![(false, "si_alice_bob", vec![msg(1, "hi")], false, 0)],
            vec![
                (false, "si_b", vec![msg(1, "a"), msg(2, &long)], true, 0),
                (false, "si_a", vec![], false, 0),
                (true, "n_a", vec![msg(7, "n")], true, 7),
                (true, "n_b", vec![], true, -3),
                (false, &long, vec![msg(3, "")], false, 1 << 40),
                // a later entry for the same conversation replaces the earlier one
                (false, "si_a", vec![msg(9, "again")], false, 0),
            ],
        ];
        for case in cases {
            let mut decoded = PushMessages::default();
            let mut encoded = EncodedPush::default();
            for (notification, cid, msgs, is_end, end_seq) in case {
                encoded.insert_conversation(
                    notification,
                    cid.to_string(),
                    EncodedPullMsgs {
                        msgs: msgs
                            .iter()
                            .map(|m| bytes::Bytes::from(m.encode_to_vec()))
                            .collect(),
                        is_end,
                        end_seq,
                    },
                );
                decoded.insert_conversation(
                    notification,
                    cid.to_string(),
                    PullMsgs {
                        msgs,
                        is_end,
                        end_seq,
                    },
                );
            }
            let bytes = encoded.encode_to_vec();
            assert_eq!(bytes, decoded.encode_to_vec());
            assert_eq!(bytes.capacity(), bytes.len(), "sized exactly");
            assert_eq!(PushMessages::decode(&bytes[..]).expect("decodes"), decoded);
        }
    }

    #[test]
    fn bytes_field_reads_one_field_of_an_encoded_message() {
        let m = msg(5, "hello");
        let bytes = m.encode_to_vec();
        assert_eq!(bytes_field(&bytes, 1), Some(&b"alice"[..]));
        assert_eq!(bytes_field(&bytes, 2), Some(&b"bob"[..]));
        assert_eq!(bytes_field(&bytes, 12), Some(&b"hello"[..]));
        assert_eq!(bytes_field(&bytes, 3), Some(&b""[..]), "absent: empty");
        assert_eq!(
            bytes_field(&MsgData::default().encode_to_vec(), 1),
            Some(&b""[..]),
            "an empty message"
        );
        // truncated or malformed input: None, never a panic
        for cut in 0..bytes.len() {
            let r = bytes_field(&bytes[..cut], 1);
            assert!(r.is_none() || r.is_some_and(|v| v.is_empty() || v == b"alice"));
        }
        assert_eq!(
            bytes_field(&[0x0b], 1),
            None,
            "wire type 3 (groups) is not used"
        );
        assert_eq!(bytes_field(&[0x0a, 0x05, b'a'], 1), None);
    }
}
