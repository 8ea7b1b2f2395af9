//! Sending messages over the gateway (1003).

use openim_protocol::pb::msg::SendMsgResp;
use openim_protocol::pb::sdkws::MsgData;

use crate::client::{Client, ClientError, SentMessage, Target};
use crate::content::Content;
use crate::gateway::{GatewayHandle, req};

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// How long the IDs of our own sends are remembered (to recognise their echo). Echoes arrive
/// within seconds, and a re-pull after a crash or a long outage within days; a week bounds the
/// tree for a bot that runs for months.
pub(crate) const SENT_ID_RETENTION_MS: i64 = 7 * 24 * 3600 * 1000;

/// First byte of a journal key of the own-send tree (never the first byte of an ID key of
/// older stores, which are printable ASCII).
const JOURNAL: u8 = 0xFF;

/// Longest span of create times in one journal entry: a lookup after a restart scans the
/// entries from `create_time - MAX_SPAN_MS`, so this bounds the scan.
const MAX_SPAN_MS: i64 = 1_000;

/// Own sends remembered in memory at most (those whose echo never came, e.g. while
/// disconnected); beyond it the oldest minute is forgotten from memory (not from the journal).
const LIVE_MAX: usize = 100_000;

/// The IDs of the bot's own sends, to recognise their echo (the server pushes every message
/// back to its sender) and not report it as a new message — also after a restart, when the
/// messages not yet acknowledged are pulled again.
///
/// In memory: every send of this process until its echo is seen (the echo check is a hash
/// lookup). On disk: a journal in the `sent_client_msg_ids` tree, written behind in batches
/// ([`crate::ledger::PERSIST_DELAY`] after the first unwritten send, like the ledger's acks):
/// one sled entry per batch (key `0xFF`, the batch's first create time and a number; value:
/// the IDs) instead of one keyed insert per send, which cost as much as the rest of the send
/// path. A crash can lose the last ~120 ms of IDs (persist delay + sled flush interval) — the
/// same bound as the ledger's acknowledgements, whose persistence decides whether an echo is
/// pulled again at all. After a restart, an own message that is not in memory is looked up in
/// the journal entries around its create time (which the server keeps as the sender set it),
/// then by key (stores of older versions).
pub(crate) struct OwnSends {
    tree: Option<sled::Tree>,
    /// Creation time of this instance: a message created since, and not in memory, is not ours.
    started_ms: i64,
    state: parking_lot::Mutex<OwnState>,
    /// Weak self, for the write-behind timer.
    me: std::sync::Weak<OwnSends>,
}

#[derive(Default)]
struct OwnState {
    /// Sends of this process whose echo was not seen yet: ID → create time.
    live: std::collections::HashMap<String, i64>,
    /// Messages created before this are looked up on disk when not in memory (entries older
    /// than this may have been forgotten from `live`).
    forgotten_before: i64,
    /// Journal entry being built: `(length, id)*`, one-byte lengths.
    unwritten: Vec<u8>,
    first_ms: i64,
    last_ms: i64,
    /// Number of the next journal entry.
    next_entry: u64,
    /// A write-behind timer is pending.
    timer: bool,
    /// IDs read back from journal entries during a restart's catch-up, and those entries.
    recovered: std::collections::HashSet<String>,
    scanned: std::collections::HashSet<Vec<u8>>,
}

fn journal_key(time_ms: i64, n: u64) -> [u8; 17] {
    let mut k = [0u8; 17];
    k[0] = JOURNAL;
    k[1..9].copy_from_slice(&(time_ms.max(0) as u64).to_be_bytes());
    k[9..].copy_from_slice(&n.to_be_bytes());
    k
}

/// The IDs of a journal entry's value (`(len, id)*`); a truncated tail is ignored.
fn journal_ids(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = value;
    std::iter::from_fn(move || {
        let (&len, tail) = rest.split_first()?;
        let id = tail.get(..len as usize)?;
        rest = &tail[len as usize..];
        Some(id)
    })
}

impl OwnSends {
    /// On the own-send tree of a store.
    pub(crate) fn open(tree: sled::Tree) -> Result<std::sync::Arc<OwnSends>, sled::Error> {
        let next_entry = match tree.scan_prefix([JOURNAL]).keys().next_back() {
            Some(k) => {
                let k = k?;
                let n: [u8; 8] = k
                    .get(9..17)
                    .and_then(|b| b.try_into().ok())
                    .unwrap_or([0; 8]);
                u64::from_be_bytes(n).wrapping_add(1)
            }
            None => 0,
        };
        Ok(Self::build(Some(tree), next_entry))
    }

    /// In memory only (a detached client).
    pub(crate) fn memory() -> std::sync::Arc<OwnSends> {
        Self::build(None, 0)
    }

    fn build(tree: Option<sled::Tree>, next_entry: u64) -> std::sync::Arc<OwnSends> {
        let started_ms = now_ms();
        std::sync::Arc::new_cyclic(|me| OwnSends {
            tree,
            started_ms,
            state: parking_lot::Mutex::new(OwnState {
                next_entry,
                forgotten_before: started_ms,
                ..Default::default()
            }),
            me: me.clone(),
        })
    }

    /// Remembers a send about to be written (`create_time` as in the message).
    pub(crate) fn record(&self, id: &str, create_time: i64) {
        let mut st = self.state.lock();
        if st.live.len() >= LIVE_MAX {
            // What is evicted must be findable on disk: write the pending IDs first.
            self.write(&mut st);
            let newest = st.live.values().copied().max().unwrap_or(create_time);
            let mut cutoff = newest - 60_000;
            st.live.retain(|_, t| *t >= cutoff);
            if st.live.len() >= LIVE_MAX {
                cutoff = newest + 1;
                st.live.clear();
            }
            st.forgotten_before = st.forgotten_before.max(cutoff);
        }
        st.live.insert(id.to_owned(), create_time);
        let Ok(len) = u8::try_from(id.len()) else {
            // Not an ID of ours (they are 32 characters); kept in memory only.
            return;
        };
        if !st.unwritten.is_empty()
            && (create_time - st.first_ms > MAX_SPAN_MS || create_time < st.first_ms)
        {
            self.write(&mut st);
        }
        if st.unwritten.is_empty() {
            st.first_ms = create_time;
            st.last_ms = create_time;
        }
        st.last_ms = st.last_ms.max(create_time);
        st.unwritten.push(len);
        st.unwritten.extend_from_slice(id.as_bytes());
        if !st.timer {
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    st.timer = true;
                    let me = self.me.clone();
                    rt.spawn(async move {
                        tokio::time::sleep(crate::ledger::PERSIST_DELAY).await;
                        if let Some(me) = me.upgrade() {
                            me.persist();
                        }
                    });
                }
                Err(_) => self.write(&mut st),
            }
        }
    }

    /// Forgets a send that cannot have reached the server (no echo will come).
    pub(crate) fn forget(&self, id: &str) {
        self.state.lock().live.remove(id);
    }

    /// Writes the unwritten IDs (the write-behind timer and session shutdown call this).
    pub(crate) fn persist(&self) {
        let mut st = self.state.lock();
        st.timer = false;
        self.write(&mut st);
    }

    fn write(&self, st: &mut OwnState) {
        if st.unwritten.is_empty() {
            return;
        }
        let key = journal_key(st.first_ms, st.next_entry);
        st.next_entry = st.next_entry.wrapping_add(1);
        let value = std::mem::take(&mut st.unwritten);
        if let Some(tree) = &self.tree
            && let Err(e) = tree.insert(key, value)
        {
            tracing::error!(error = %e, "own-send IDs not written");
        }
    }

    /// Whether a message with `send_id` = the bot is one of its own sends (consumed: each echo is
    /// recognised once). `create_time` is the message's, as the sender set it.
    pub(crate) fn is_own(&self, id: &str, create_time: i64) -> bool {
        let mut st = self.state.lock();
        if st.live.remove(id).is_some() {
            return true;
        }
        if create_time >= st.forgotten_before.max(self.started_ms) {
            // Sent since this process started and not by it: another device of the account.
            return false;
        }
        if st.recovered.remove(id) {
            return true;
        }
        let Some(tree) = &self.tree else {
            return false;
        };
        // Stores of older versions: one key per ID.
        if matches!(tree.get(id), Ok(Some(_))) {
            return true;
        }
        // The journal entries whose first create time is at most MAX_SPAN_MS before it.
        let from = journal_key(create_time.saturating_sub(MAX_SPAN_MS + 1), 0);
        let to = journal_key(create_time.saturating_add(1), u64::MAX);
        let mut found = false;
        for entry in tree.range(from..=to) {
            let Ok((key, value)) = entry else {
                break;
            };
            if !st.scanned.insert(key.to_vec()) {
                continue;
            }
            for other in journal_ids(&value) {
                if other == id.as_bytes() {
                    found = true;
                } else if let Ok(other) = std::str::from_utf8(other) {
                    st.recovered.insert(other.to_owned());
                }
            }
        }
        found
    }
}

/// Forgets the own-send IDs recorded before `cutoff_ms` (called at every session start, so the
/// tree holds at most the sends of the retention window): journal entries by their key's time,
/// ID keys of older versions by their value. Returns how many entries were removed.
pub(crate) fn prune_sent_ids(tree: &sled::Tree, cutoff_ms: i64) -> Result<usize, sled::Error> {
    let mut stale = sled::Batch::default();
    let mut removed = 0;
    for entry in tree.range(..[JOURNAL].as_slice()) {
        let (key, value) = entry?;
        // A value that is not 8 bytes comes from no version of ours: drop it too.
        let sent_at = <[u8; 8]>::try_from(value.as_ref())
            .map(i64::from_be_bytes)
            .unwrap_or(i64::MIN);
        if sent_at < cutoff_ms {
            stale.remove(key);
            removed += 1;
        }
    }
    for key in tree
        .range(journal_key(0, 0)..journal_key(cutoff_ms, 0))
        .keys()
    {
        stale.remove(key?);
        removed += 1;
    }
    if removed > 0 {
        tree.apply_batch(stale)?;
    }
    Ok(removed)
}

/// A fresh client message ID (32 lowercase hex chars, like the official SDKs).
pub(crate) fn client_msg_id() -> String {
    crate::gateway::random_id()
}

/// Conversation ID of a target, seen from `self_id`.
pub(crate) fn conversation_id(self_id: &str, target: &Target) -> String {
    match target {
        Target::User(peer) => openim_protocol::conversation_id::single(self_id, peer),
        Target::Group(g) => openim_protocol::conversation_id::group(g),
    }
}

pub(crate) fn build_msg(client: &Client, target: &Target, content: &Content, id: &str) -> MsgData {
    let me = client.store().self_info().ok().flatten();
    let (recv_id, group_id, session_type) = match target {
        Target::User(u) => (u.clone(), String::new(), 1),
        Target::Group(g) => (String::new(), g.clone(), 3),
    };
    let at_user_id_list = match content {
        Content::AtText(e) => e.at_user_list.clone(),
        _ => Vec::new(),
    };
    // Typing is online-only: not stored, no conversation update, no unread (SDK behaviour; the
    // server only forces these options when the client sent some).
    let options = if content.content_type().as_i32() == crate::content::content_type::TYPING {
        openim_protocol::constants::options::online_only()
    } else {
        Default::default()
    };
    MsgData {
        options,
        send_id: client.user_id().to_owned(),
        recv_id,
        group_id,
        client_msg_id: id.to_owned(),
        sender_platform_id: client.inner.platform,
        sender_nickname: me.as_ref().map(|m| m.nickname.clone()).unwrap_or_default(),
        sender_face_url: me.map(|m| m.face_url).unwrap_or_default(),
        session_type,
        msg_from: 100,
        content_type: content.content_type().as_i32(),
        content: content.to_bytes(),
        create_time: now_ms(),
        status: 1,
        at_user_id_list,
        ..Default::default()
    }
}

pub(crate) async fn send(
    client: &Client,
    gateway: &GatewayHandle,
    target: Target,
    content: Content,
) -> Result<SentMessage, ClientError> {
    let id = client_msg_id();
    let msg = build_msg(client, &target, &content, &id);
    // Remembered before sending, so the server's echo is recognised as our own. Typing is not:
    // the engine handles typing before it looks at the sender.
    let own = &client.inner.own_sends;
    let remembered = msg.content_type != crate::content::content_type::TYPING;
    if remembered {
        own.record(&id, msg.create_time);
    }
    let resp: SendMsgResp = match gateway.call(req::SEND_MSG, &msg).await {
        Ok(resp) => resp,
        Err(e) => {
            // Not written, or refused by the server: no echo will come. A timeout or a lost
            // connection may still have stored it: remembered.
            let unsent = match &e {
                ClientError::NotConnected | ClientError::Invalid(_) => true,
                ClientError::Gateway { code, .. } => {
                    *code != crate::gateway::NETWORK_ERROR
                        && *code != crate::gateway::NETWORK_TIMEOUT
                }
                _ => false,
            };
            if remembered && unsent {
                own.forget(&id);
            }
            return Err(e);
        }
    };
    if resp.server_msg_id.is_empty() {
        if remembered {
            own.forget(&id);
        }
        // v3.8.3 answers an empty response when the receiver's options drop the message.
        return Err(ClientError::Gateway {
            req_identifier: req::SEND_MSG,
            code: 1001,
            message: "message was not sent (dropped by the receiver's settings)".into(),
        });
    }
    Ok(SentMessage {
        conversation_id: conversation_id(client.user_id(), &target),
        client_msg_id: id,
        server_msg_id: resp.server_msg_id,
        send_time: resp.send_time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::trees;

    #[test]
    fn conversation_ids_sort_user_ids() {
        assert_eq!(conversation_id("b", &Target::user("a")), "si_a_b");
        assert_eq!(conversation_id("a", &Target::user("b")), "si_a_b");
        assert_eq!(conversation_id("a", &Target::group("g1")), "sg_g1");
    }

    #[test]
    fn old_own_send_ids_are_pruned_and_recent_ones_kept() {
        let store = crate::store::Store::temporary().unwrap();
        let tree = store.raw_tree(trees::SENT).unwrap();
        let now = now_ms();
        tree.insert("old", &(now - SENT_ID_RETENTION_MS - 1).to_be_bytes())
            .unwrap();
        tree.insert("recent", &now.to_be_bytes()).unwrap();
        tree.insert("garbage", b"x".as_slice()).unwrap();
        let removed = prune_sent_ids(&tree, now - SENT_ID_RETENTION_MS).unwrap();
        assert_eq!(removed, 2);
        assert!(tree.get("old").unwrap().is_none());
        assert!(tree.get("garbage").unwrap().is_none());
        assert!(tree.get("recent").unwrap().is_some());
    }

    fn journal_entries(tree: &sled::Tree) -> usize {
        tree.scan_prefix([JOURNAL]).count()
    }

    #[test]
    fn an_own_send_is_recognised_once_and_a_foreign_one_not_at_all() {
        let store = crate::store::Store::temporary().unwrap();
        let tree = store.raw_tree(trees::SENT).unwrap();
        let own = OwnSends::open(tree.clone()).unwrap();
        let now = now_ms();
        own.record("a1", now);
        own.record("a2", now);
        assert!(own.is_own("a1", now));
        assert!(!own.is_own("a1", now), "an echo is recognised once");
        // Created since this instance started and never recorded: another device's.
        assert!(!own.is_own("other", now));
        own.record("a3", now);
        own.forget("a3");
        assert!(
            !own.is_own("a3", now),
            "a send that never left is forgotten"
        );
        assert!(own.is_own("a2", now));
        // Outside a runtime every record is written at once: one journal entry each.
        assert_eq!(journal_entries(&tree), 3);
    }

    #[tokio::test]
    async fn ids_not_yet_written_are_still_recognised_after_an_eviction() {
        let store = crate::store::Store::temporary().unwrap();
        let tree = store.raw_tree(trees::SENT).unwrap();
        let own = OwnSends::open(tree.clone()).unwrap();
        let now = now_ms();
        // Inside a runtime the write waits for the timer: "e1" is pending.
        own.record("e1", now);
        {
            let mut st = own.state.lock();
            for i in 0..LIVE_MAX {
                st.live.insert(format!("f{i}"), now);
            }
        }
        // The memory is full of recent sends: all of them are evicted.
        own.record("e2", now + 1);
        assert!(own.is_own("e1", now), "found in the journal");
        assert!(own.is_own("e2", now + 1));
    }

    #[test]
    fn sends_of_an_earlier_process_are_found_in_the_journal_after_a_restart() {
        let store = crate::store::Store::temporary().unwrap();
        let tree = store.raw_tree(trees::SENT).unwrap();
        let t0 = now_ms() - 10_000;
        let before = OwnSends::open(tree.clone()).unwrap();
        {
            // one batch: the entries of one write-behind interval
            let mut st = before.state.lock();
            for (i, id) in ["x1", "x2", "x3"].iter().enumerate() {
                st.live.insert((*id).to_owned(), t0 + i as i64);
                st.unwritten.push(id.len() as u8);
                st.unwritten.extend_from_slice(id.as_bytes());
            }
            st.first_ms = t0;
        }
        before.persist();
        // a later batch, more than MAX_SPAN_MS after the first: a second entry
        before.record("y1", t0 + MAX_SPAN_MS + 500);
        assert_eq!(journal_entries(&tree), 2);
        drop(before);
        // An older version's key per ID.
        tree.insert("legacy", &t0.to_be_bytes()).unwrap();

        let after = OwnSends::open(tree.clone()).unwrap();
        assert!(after.is_own("x2", t0 + 1));
        assert!(
            after.is_own("x3", t0 + 2),
            "read back with the first lookup"
        );
        assert!(after.is_own("x1", t0));
        assert!(after.is_own("y1", t0 + MAX_SPAN_MS + 500));
        assert!(after.is_own("legacy", t0));
        assert!(!after.is_own("z9", t0 + 1), "not in the journal");
        assert!(
            !after.is_own("x1", t0 + 10 * MAX_SPAN_MS),
            "outside its window"
        );
        // New entries continue the numbering.
        after.record("n1", now_ms());
        let keys: Vec<_> = tree
            .scan_prefix([JOURNAL])
            .keys()
            .map(|k| k.unwrap())
            .collect();
        assert_eq!(keys.len(), 3);
        assert!(keys.windows(2).all(|w| w[0][9..] < w[1][9..]), "{keys:?}");
    }

    #[test]
    fn old_journal_entries_are_pruned_and_recent_ones_kept() {
        let store = crate::store::Store::temporary().unwrap();
        let tree = store.raw_tree(trees::SENT).unwrap();
        let now = now_ms();
        let own = OwnSends::open(tree.clone()).unwrap();
        own.record("old", now - SENT_ID_RETENTION_MS - 10);
        own.record("new", now);
        assert_eq!(journal_entries(&tree), 2);
        assert_eq!(
            prune_sent_ids(&tree, now - SENT_ID_RETENTION_MS).unwrap(),
            1
        );
        let after = OwnSends::open(tree.clone()).unwrap();
        assert!(after.is_own("new", now - 1));
        assert!(!after.is_own("old", now - SENT_ID_RETENTION_MS - 10));
    }

    #[test]
    fn memory_stays_bounded_when_echoes_never_come() {
        let own = OwnSends::memory();
        let t0 = now_ms();
        for i in 0..LIVE_MAX + 10 {
            own.record(&format!("m{i}"), t0 + (i as i64) / 1000);
        }
        let st = own.state.lock();
        assert!(st.live.len() <= LIVE_MAX, "{}", st.live.len());
    }

    #[test]
    fn builds_at_text_with_mentions() {
        let c = Client::detached("bot", crate::store::Store::temporary().unwrap());
        let content = Content::at_text("@x hi", vec!["x".into()]);
        let m = build_msg(&c, &Target::group("g"), &content, "id1");
        assert_eq!(m.session_type, 3);
        assert_eq!(m.content_type, 106);
        assert_eq!(m.at_user_id_list, vec!["x".to_owned()]);
        assert_eq!(m.group_id, "g");
    }
}
