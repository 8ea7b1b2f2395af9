//! The durable delivery ledger: per conversation, the highest seq up to which every message has
//! been handled (acknowledged). Acks may arrive out of order; the watermark only advances over a
//! contiguous run of acknowledged seqs. A restart resumes from the watermarks, so only messages
//! that were in flight (delivered, not acknowledged) are delivered again.
//!
//! Durability: watermarks are written to sled on every advance; the store flushes to disk every
//! 100 ms and on shutdown, so a hard crash may repeat the messages acknowledged in the last
//! instant (at-least-once), never lose one. New entries (which decide whether history is
//! skipped) are flushed at once.

use std::collections::{BTreeSet, HashMap};

use parking_lot::Mutex;

use crate::store::StoreError;

#[derive(Default)]
struct State {
    watermark: HashMap<String, i64>,
    above: HashMap<String, BTreeSet<i64>>,
}

/// The ledger (cheap to share behind an `Arc`).
pub(crate) struct Ledger {
    state: Mutex<State>,
    tree: Option<sled::Tree>,
    durable: bool,
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
        })
    }

    /// Flush to disk on every watermark advance.
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
    pub(crate) fn knows(&self, conversation_id: &str) -> bool {
        self.state.lock().watermark.contains_key(conversation_id)
    }

    fn persist(&self, conversation_id: &str, seq: i64) -> Result<(), StoreError> {
        if let Some(t) = &self.tree {
            t.insert(conversation_id, &seq.to_be_bytes())?;
        }
        Ok(())
    }

    /// Raises the watermark to at least `seq` (messages that will never be delivered: history
    /// before the first start, seqs below the server's min seq).
    pub(crate) fn set_floor(&self, conversation_id: &str, seq: i64) -> Result<(), StoreError> {
        let created = !self.knows(conversation_id);
        let new = {
            let mut s = self.state.lock();
            let w = s.watermark.entry(conversation_id.to_owned()).or_insert(0);
            if *w >= seq && *w != 0 {
                return Ok(());
            }
            *w = (*w).max(seq);
            let mut w = *w;
            if let Some(above) = s.above.get_mut(conversation_id) {
                above.retain(|&x| x > w);
                while above.remove(&(w + 1)) {
                    w += 1;
                }
            }
            s.watermark.insert(conversation_id.to_owned(), w);
            w
        };
        self.persist(conversation_id, new)?;
        if created {
            // A new entry decides whether history is skipped: make it durable now (rare write).
            self.flush()?;
        }
        Ok(())
    }

    /// Records that `seq` was handled; returns the (possibly unchanged) watermark.
    pub(crate) fn ack(&self, conversation_id: &str, seq: i64) -> Result<i64, StoreError> {
        let (old, new) = {
            let mut s = self.state.lock();
            let old = s.watermark.get(conversation_id).copied().unwrap_or(0);
            if seq <= old {
                return Ok(old);
            }
            let mut w = old;
            let above = s.above.entry(conversation_id.to_owned()).or_default();
            above.insert(seq);
            while above.remove(&(w + 1)) {
                w += 1;
            }
            if above.is_empty() {
                s.above.remove(conversation_id);
            }
            s.watermark.insert(conversation_id.to_owned(), w);
            (old, w)
        };
        if new != old {
            self.persist(conversation_id, new)?;
            if self.durable {
                self.flush()?;
            }
        }
        Ok(new)
    }

    /// Flushes to disk.
    pub(crate) fn flush(&self) -> Result<(), StoreError> {
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
        drop(l);
        let l = Ledger::open(Some(t)).unwrap();
        assert_eq!(l.watermark("c"), 1, "unacked 2 keeps 3 from counting");
    }
}
