//! Recognising a message delivered again after a crash.
//!
//! The framework's delivery ledger reaches the disk every ~100 ms, so after a hard crash
//! (kill -9, power loss) the last messages a bot handled can be delivered again. Each bot keeps,
//! per conversation, the position of the last message it handled, written (and flushed, when
//! it is about to act) *before* it acts. A message at or before that position is a redelivery.
//!
//! The position is the message's seq *and* its server send time: a conversation whose seqs
//! start again (the bot's data dir reused against a server whose data was reset) has later
//! send times, so its messages are not mistaken for redeliveries.

use serde::{Deserialize, Serialize};

use crate::action::MessageView;
use crate::state::{StateError, StateExt, StateStore};

/// The last handled message of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Its seq.
    pub seq: i64,
    /// Its server send time (ms).
    pub time_ms: i64,
}

/// What a position key may hold: the current form, or a bare seq (older stores).
#[derive(Deserialize)]
#[serde(untagged)]
enum Stored {
    Position(Position),
    Seq(i64),
}

impl Position {
    /// The position of `view`.
    pub fn of(view: &MessageView) -> Self {
        Self {
            seq: view.seq,
            time_ms: view.send_time_ms,
        }
    }
}

/// Whether `view` is at or before the position stored under `key` (a redelivery).
/// Messages without a seq are never considered redelivered.
pub fn is_redelivery(
    state: &dyn StateStore,
    key: &str,
    view: &MessageView,
) -> Result<bool, StateError> {
    if view.seq <= 0 {
        return Ok(false);
    }
    Ok(match state.get_json::<Stored>(key)? {
        None => false,
        Some(Stored::Seq(seq)) => view.seq <= seq,
        Some(Stored::Position(p)) => view.seq <= p.seq && view.send_time_ms <= p.time_ms,
    })
}

/// Stores `view` as the last handled message under `key` (messages of a conversation come in
/// seq order). Not flushed: call [`StateStore::flush`] before acting on it.
pub fn record(state: &dyn StateStore, key: &str, view: &MessageView) -> Result<(), StateError> {
    if view.seq <= 0 {
        return Ok(());
    }
    state.put_json(key, &Position::of(view))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::MemoryState;

    fn msg(seq: i64, time_ms: i64) -> MessageView {
        MessageView {
            conversation_id: "si_a_b".into(),
            seq,
            send_time_ms: time_ms,
            ..Default::default()
        }
    }

    #[test]
    fn redeliveries_are_recognised() {
        let st = MemoryState::new();
        assert!(!is_redelivery(&st, "k", &msg(5, 500)).unwrap());
        record(&st, "k", &msg(5, 500)).unwrap();
        assert!(is_redelivery(&st, "k", &msg(5, 500)).unwrap());
        assert!(is_redelivery(&st, "k", &msg(4, 400)).unwrap());
        assert!(!is_redelivery(&st, "k", &msg(6, 600)).unwrap());
        // No seq: never a redelivery, never recorded.
        assert!(!is_redelivery(&st, "k", &msg(0, 100)).unwrap());
        record(&st, "k", &msg(0, 900)).unwrap();
        assert!(is_redelivery(&st, "k", &msg(5, 500)).unwrap());
    }

    #[test]
    fn a_reset_server_is_not_a_redelivery() {
        let st = MemoryState::new();
        record(&st, "k", &msg(40, 1_000)).unwrap();
        // Seqs start again on a fresh server, with later send times.
        assert!(!is_redelivery(&st, "k", &msg(1, 2_000)).unwrap());
    }

    #[test]
    fn a_bare_seq_from_an_older_store_still_counts() {
        let st = MemoryState::new();
        st.put_json("k", &7i64).unwrap();
        assert!(is_redelivery(&st, "k", &msg(7, i64::MAX)).unwrap());
        assert!(!is_redelivery(&st, "k", &msg(8, 0)).unwrap());
    }
}
