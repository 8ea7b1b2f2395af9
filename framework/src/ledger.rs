//! The durable delivery ledger: per conversation, the highest seq up to which every message has
//! been handled (acknowledged). Acks may arrive out of order; the watermark only advances over a
//! contiguous run of acknowledged seqs. A restart resumes from the watermarks, so only messages
//! that were in flight (delivered, not acknowledged) are delivered again.
//!
//! Durability and cost: an ack only updates memory and marks the conversation dirty (the first
//! ack after a persist wakes the engine through [`Ledger::dirty_notify`]). The engine writes
//! every dirty watermark in one sled batch at most [`PERSIST_DELAY`] later ([`Ledger::persist`]),
//! so a burst of acks costs one write per conversation instead of one per message; sled then
//! makes it durable with its periodic flush (`store::FLUSH_EVERY_MS`, 100 ms) and on shutdown.
//! A hard crash may therefore repeat the messages acknowledged in the last ~120 ms (persist
//! delay + sled flush interval: at-least-once), never lose one. With `durable` every advance is
//! written and flushed at once.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use parking_lot::Mutex;

use crate::store::StoreError;

/// Longest time an acknowledged watermark stays in memory only (before the sled write).
pub(crate) const PERSIST_DELAY: Duration = Duration::from_millis(20);

#[derive(Default)]
struct State {
    watermark: HashMap<String, i64>,
    /// Acknowledged seqs above a gap, per conversation.
    above: HashMap<String, BTreeSet<i64>>,
    /// Conversations whose watermark changed since the last [`Ledger::persist`].
    dirty: HashSet<String>,
}

impl State {
    fn mark_dirty(&mut self, conversation_id: &str) -> bool {
        let was_clean = self.dirty.is_empty();
        if !self.dirty.contains(conversation_id) {
            self.dirty.insert(conversation_id.to_owned());
        }
        was_clean
    }
}

/// The ledger (cheap to share behind an `Arc`).
pub(crate) struct Ledger {
    state: Mutex<State>,
    tree: Option<sled::Tree>,
    durable: bool,
    /// Signalled when the first change after a persist is recorded.
    dirty: tokio::sync::Notify,
    /// Serialises [`Ledger::persist`] calls so that batches reach sled in the order their
    /// values were read (a watermark is never overwritten by an older one).
    persisting: Mutex<()>,
}

fn decode(v: &[u8]) -> i64 {
    let mut b = [0u8; 8];
    if v.len() == 8 {
        b.copy_from_slice(v);
    }
    i64::from_be_bytes(b)
}

impl Ledger {
    /// A ledger persisted in `tree` (loaded now), or in memory only with `None`.
    pub(crate) fn open(tree: Option<sled::Tree>) -> Result<Ledger, StoreError> {
        let mut state = State::default();
        if let Some(t) = &tree {
            for item in t.iter() {
                let (k, v) = item?;
                state
                    .watermark
                    .insert(String::from_utf8_lossy(&k).into_owned(), decode(&v));
            }
        }
        Ok(Ledger {
            state: Mutex::new(state),
            tree,
            durable: false,
            dirty: tokio::sync::Notify::new(),
            persisting: Mutex::new(()),
        })
    }

    /// Write and flush to disk on every watermark advance.
    pub(crate) fn durable(mut self, on: bool) -> Ledger {
        self.durable = on;
        self
    }

    /// True if nothing was ever recorded (fresh data dir).
    pub(crate) fn is_empty(&self) -> bool {
        self.state.lock().watermark.is_empty()
    }

    /// The watermark of a conversation (0 if unknown).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn watermark(&self, conversation_id: &str) -> i64 {
        self.state
            .lock()
            .watermark
            .get(conversation_id)
            .copied()
            .unwrap_or(0)
    }

    /// Every known watermark.
    pub(crate) fn watermarks(&self) -> HashMap<String, i64> {
        self.state.lock().watermark.clone()
    }

    /// True if the conversation has an entry.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn knows(&self, conversation_id: &str) -> bool {
        self.state.lock().watermark.contains_key(conversation_id)
    }

    /// Resolves when changes wait for [`Ledger::persist`] (a permit is stored if nobody waits).
    pub(crate) fn dirty_notify(&self) -> &tokio::sync::Notify {
        &self.dirty
    }

    /// After a change: persist now (durable mode) or wake the engine's persist timer.
    fn changed(&self, was_clean: bool) -> Result<(), StoreError> {
        if self.durable {
            self.flush()?;
        } else if was_clean {
            self.dirty.notify_one();
        }
        Ok(())
    }

    /// Raises the watermark to at least `seq` (messages that will never be delivered: history
    /// before the first start, seqs below the server's min seq). A new entry (`seq` 0 included)
    /// is recorded too: it marks the conversation as seen.
    pub(crate) fn set_floor(&self, conversation_id: &str, seq: i64) -> Result<(), StoreError> {
        let was_clean = {
            let mut s = self.state.lock();
            let known = s.watermark.get(conversation_id).copied();
            if known.is_some_and(|w| w >= seq) {
                return Ok(());
            }
            let mut w = known.unwrap_or(0).max(seq);
            if let Some(above) = s.above.get_mut(conversation_id) {
                above.retain(|&x| x > w);
                while above.remove(&(w + 1)) {
                    w += 1;
                }
                if above.is_empty() {
                    s.above.remove(conversation_id);
                }
            }
            s.watermark.insert(conversation_id.to_owned(), w);
            s.mark_dirty(conversation_id)
        };
        self.changed(was_clean)
    }

    /// Records that `seq` was handled; returns the (possibly unchanged) watermark.
    pub(crate) fn ack(&self, conversation_id: &str, seq: i64) -> Result<i64, StoreError> {
        let (new, was_clean) = {
            let mut s = self.state.lock();
            let old = s.watermark.get(conversation_id).copied().unwrap_or(0);
            if seq <= old {
                return Ok(old);
            }
            let new = if seq == old + 1 && !s.above.contains_key(conversation_id) {
                // In-order ack (the common case): no gap bookkeeping, no allocation.
                seq
            } else {
                let above = s.above.entry(conversation_id.to_owned()).or_default();
                above.insert(seq);
                let mut w = old;
                while above.remove(&(w + 1)) {
                    w += 1;
                }
                if above.is_empty() {
                    s.above.remove(conversation_id);
                }
                w
            };
            if new == old {
                return Ok(old);
            }
            match s.watermark.get_mut(conversation_id) {
                Some(w) => *w = new,
                None => {
                    s.watermark.insert(conversation_id.to_owned(), new);
                }
            }
            (new, s.mark_dirty(conversation_id))
        };
        self.changed(was_clean)?;
        Ok(new)
    }

    /// True if some change was not written to sled yet.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn has_dirty(&self) -> bool {
        !self.state.lock().dirty.is_empty()
    }

    /// Writes every changed watermark to sled in one batch; returns how many were written.
    pub(crate) fn persist(&self) -> Result<usize, StoreError> {
        let _order = self.persisting.lock();
        let mut batch = sled::Batch::default();
        let n = {
            let mut s = self.state.lock();
            let dirty = std::mem::take(&mut s.dirty);
            for conv in &dirty {
                if let Some(w) = s.watermark.get(conv) {
                    batch.insert(conv.as_bytes(), &w.to_be_bytes());
                }
            }
            dirty.len()
        };
        // The batch is applied outside the state lock: acks keep flowing meanwhile; a watermark
        // that advances again is dirty again and written by the next persist, which `persisting`
        // keeps behind this one.
        if n > 0
            && let Some(t) = &self.tree
        {
            t.apply_batch(batch)?;
        }
        Ok(n)
    }

    /// Persists pending changes and flushes to disk.
    pub(crate) fn flush(&self) -> Result<(), StoreError> {
        self.persist()?;
        if let Some(t) = &self.tree {
            t.flush()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advances_contiguously_with_out_of_order_acks() {
        let l = Ledger::open(None).unwrap();
        assert_eq!(l.ack("c", 2).unwrap(), 0);
        assert_eq!(l.ack("c", 3).unwrap(), 0);
        assert_eq!(l.ack("d", 1).unwrap(), 1);
        assert_eq!(l.ack("c", 1).unwrap(), 3);
        assert_eq!(l.ack("c", 1).unwrap(), 3, "duplicate ack is harmless");
        assert_eq!(l.watermark("c"), 3);
        assert_eq!(l.watermark("d"), 1);
    }

    #[test]
    fn floor_skips_history_and_absorbs_pending_acks() {
        let l = Ledger::open(None).unwrap();
        l.ack("c", 12).unwrap();
        l.set_floor("c", 10).unwrap();
        assert_eq!(l.watermark("c"), 10);
        l.ack("c", 11).unwrap();
        assert_eq!(l.watermark("c"), 12);
        l.set_floor("c", 5).unwrap();
        assert_eq!(l.watermark("c"), 12);
        l.set_floor("z", 0).unwrap();
        assert!(l.knows("z"));
    }

    #[test]
    fn survives_reopen() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let t = db.open_tree("ledger").unwrap();
        let l = Ledger::open(Some(t.clone())).unwrap();
        assert!(l.is_empty());
        l.ack("c", 1).unwrap();
        l.ack("c", 3).unwrap();
        l.flush().unwrap();
        drop(l);
        let l = Ledger::open(Some(t)).unwrap();
        assert_eq!(l.watermark("c"), 1, "unacked 2 keeps 3 from counting");
    }

    #[test]
    fn acks_are_coalesced_into_one_write_per_conversation() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let t = db.open_tree("ledger").unwrap();
        let l = Ledger::open(Some(t.clone())).unwrap();
        for seq in 1..=50 {
            l.ack("a", seq).unwrap();
            l.ack("b", seq).unwrap();
        }
        assert!(l.has_dirty());
        assert!(t.is_empty(), "acks alone do not write to sled");
        assert_eq!(l.persist().unwrap(), 2, "one write per conversation");
        assert!(!l.has_dirty());
        assert_eq!(l.persist().unwrap(), 0, "nothing left");
        assert_eq!(t.get("a").unwrap().map(|v| decode(&v)), Some(50));
        assert_eq!(t.get("b").unwrap().map(|v| decode(&v)), Some(50));
        // An unchanged watermark (duplicate or gapped ack) is not dirty.
        l.ack("a", 50).unwrap();
        l.ack("a", 52).unwrap();
        assert!(!l.has_dirty());
        l.ack("a", 51).unwrap();
        assert_eq!(l.watermark("a"), 52);
        assert_eq!(l.persist().unwrap(), 1);
        assert_eq!(t.get("a").unwrap().map(|v| decode(&v)), Some(52));
    }

    #[tokio::test]
    async fn first_change_after_a_persist_wakes_the_persister() {
        let l = Ledger::open(None).unwrap();
        l.ack("a", 1).unwrap();
        l.ack("a", 2).unwrap();
        // The permit stored by the first ack is there even though nobody was waiting.
        tokio::time::timeout(Duration::from_secs(5), l.dirty_notify().notified())
            .await
            .expect("notified");
        l.persist().unwrap();
        l.set_floor("b", 0).unwrap();
        assert!(l.has_dirty(), "a new entry is a change too");
        tokio::time::timeout(Duration::from_secs(5), l.dirty_notify().notified())
            .await
            .expect("notified");
    }

    #[test]
    fn durable_mode_writes_every_advance_at_once() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let t = db.open_tree("ledger").unwrap();
        let l = Ledger::open(Some(t.clone())).unwrap().durable(true);
        l.ack("a", 1).unwrap();
        assert!(!l.has_dirty());
        assert_eq!(t.get("a").unwrap().map(|v| decode(&v)), Some(1));
    }
}
