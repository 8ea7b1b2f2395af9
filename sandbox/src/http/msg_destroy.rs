//! Physical deletion of stored messages, for everyone: `/msg/delete_msg_phsical_by_seq` (the
//! route name is misspelt upstream, and only that spelling exists) and `/msg/delete_msg_physical`.
//!
//! Upstream keeps messages in documents of 100 seqs per conversation (seqs `100k+1..=100k+100`);
//! a destroyed message reads back as the `{seq, status 4}` placeholder, like one deleted
//! for its reader, and no notification is sent.

use openim_protocol::api::msg::{DeleteMsgPhysicalBySeqReq, DeleteMsgPhysicalReq};

use super::{Ctx, HResult, Reply, parse};
use crate::state::ConvSeqs;

/// Seqs per upstream message document.
const DOC_SEQS: i64 = 100;

/// `/msg/delete_msg_phsical_by_seq`: destroys the listed seqs of one conversation.
///
/// Upstream v3.8.3 checks nothing beyond a valid token (any user may destroy any
/// conversation's messages), and an unknown conversation or seq is no error.
pub(crate) fn by_seq(ctx: &Ctx, body: &[u8]) -> HResult {
    let r: DeleteMsgPhysicalBySeqReq = parse(body)?;
    let mut st = ctx.inner.state.lock();
    if let Some(conv) = st.seqs.get_mut(&r.conversation_id) {
        for seq in r.seqs.iter().filter(|s| **s > 0) {
            conv.msgs.remove(seq);
        }
    }
    Ok(Reply::Empty)
}

/// `/msg/delete_msg_physical` (admin): destroys whole 100-seq documents, of every
/// conversation (`conversationIDs` is ignored upstream), whose stored messages all have a
/// `sendTime` not after `now_in_seconds - timestamp`, and raises the conversation's min seq
/// past each destroyed document.
///
/// Upstream compares that seconds value with millisecond send times, so a timestamp meant
/// as "older than N seconds" destroys nothing; only a negative one around `-now_in_ms`
/// reaches real messages. Kept as is.
pub(crate) fn older_than(ctx: &Ctx, body: &[u8]) -> HResult {
    ctx.admin_only()?;
    let r: DeleteMsgPhysicalReq = parse(body)?;
    let now_s = crate::state::now_ms() / 1000;
    let threshold = now_s.wrapping_sub(r.timestamp);
    let mut st = ctx.inner.state.lock();
    for conv in st.seqs.values_mut() {
        destroy_docs_before(conv, threshold);
    }
    Ok(Reply::Empty)
}

/// Destroys the documents of `conv` whose stored messages were all sent at or before
/// `threshold`, and raises the min seq past each destroyed document. It is never lowered:
/// upstream's `commonMsgDatabase.SetMinSeq` (v3.8.3) keeps a higher stored min seq, so a
/// conversation cleared for everyone stays cleared when an older document goes.
fn destroy_docs_before(conv: &mut ConvSeqs, threshold: i64) {
    let mut doc_max: std::collections::BTreeMap<i64, (i64, bool)> = Default::default();
    for (seq, stored) in &conv.msgs {
        let doc = doc_max.entry((seq - 1) / DOC_SEQS).or_insert((0, true));
        doc.0 = doc.0.max(*seq);
        doc.1 &= stored.send_time() <= threshold;
    }
    for (doc, (max_seq, old)) in doc_max {
        if !old {
            continue;
        }
        let first = doc * DOC_SEQS + 1;
        conv.msgs
            .retain(|seq, _| !(first..first + DOC_SEQS).contains(seq));
        conv.min_seq = conv.min_seq.max(max_seq + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::StoredMsg;
    use crate::wire::MsgData;

    fn conv_with(times: &[(i64, i64)]) -> ConvSeqs {
        let mut c = ConvSeqs::default();
        for &(seq, send_time) in times {
            c.max_seq = c.max_seq.max(seq);
            c.msgs.insert(
                seq,
                StoredMsg::new(&MsgData {
                    seq,
                    send_time,
                    ..Default::default()
                }),
            );
        }
        c
    }

    #[test]
    fn destroys_whole_old_documents_only() {
        // Document 0 (seqs 1..=100) is old; document 1 (101..) holds one recent message.
        let mut times: Vec<(i64, i64)> = (1..=100).map(|s| (s, 1_000)).collect();
        times.extend([(101, 1_000), (102, 5_000)]);
        let mut c = conv_with(&times);
        destroy_docs_before(&mut c, 2_000);
        let left: Vec<i64> = c.msgs.keys().copied().collect();
        assert_eq!(
            left,
            vec![101, 102],
            "a document with a newer message stays whole"
        );
        assert_eq!(c.min_seq, 101);
        assert_eq!(c.max_seq, 102, "seqs go on");
        // A partly filled old document: destroyed, min seq past its last message.
        let mut c = conv_with(&[(1, 10), (2, 10), (3, 10)]);
        destroy_docs_before(&mut c, 10);
        assert!(c.msgs.is_empty());
        assert_eq!(c.min_seq, 4);
        // Nothing old: nothing changes.
        let mut c = conv_with(&[(1, 10)]);
        destroy_docs_before(&mut c, 9);
        assert_eq!((c.msgs.len(), c.min_seq), (1, 0));
        // A higher min seq (a clear for everyone) stays.
        let mut c = conv_with(&[(1, 10), (2, 10), (101, 50)]);
        c.min_seq = 102;
        destroy_docs_before(&mut c, 10);
        assert_eq!((c.msgs.len(), c.min_seq), (1, 102));
    }
}
