//! What the session hands to its consumer: an event plus its acknowledgement.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::event::Event;
use crate::ledger::{Ledger, Slot};

/// One event delivered by the session, with the [`Ack`] to call once it has been handled.
#[derive(Debug)]
pub struct Delivery {
    /// The event.
    pub event: Event,
    /// Acknowledge after the handlers finished: advances the conversation's ledger watermark.
    /// Dropping it without acknowledging means "not handled": the message is redelivered after a
    /// restart.
    pub ack: Ack,
}

impl Delivery {
    /// A delivery whose ack does nothing (tests, synthetic events).
    pub fn unacked(event: Event) -> Delivery {
        Delivery {
            event,
            ack: Ack::noop(),
        }
    }
}

type AckFn = Box<dyn FnOnce() + Send + 'static>;

/// Acknowledgement of a [`Delivery`]; consumed by [`Ack::ack`].
#[must_use = "call .ack() once the event has been handled, or it is redelivered after a restart"]
pub struct Ack {
    kind: AckKind,
}

/// What acknowledging does. The ledger variants exist so that the per-message ack costs a few
/// reference-count increments instead of a boxed closure and a copied conversation ID.
enum AckKind {
    Noop,
    Fn(AckFn),
    /// Acknowledges `seq` of a conversation (its ledger slot) in the ledger.
    Ledger {
        ledger: Arc<Ledger>,
        slot: Slot,
        seq: i64,
    },
    /// One of several events derived from one stored item: the last ack of the group
    /// acknowledges the item.
    Shared(Arc<SharedAck>),
}

/// The ledger entry shared by the acks of several events derived from one stored item.
pub(crate) struct SharedAck {
    remaining: AtomicUsize,
    ledger: Arc<Ledger>,
    slot: Slot,
    seq: i64,
}

fn ledger_ack(ledger: &Ledger, slot: Slot, seq: i64) {
    if let Err(e) = ledger.ack_slot(slot, seq) {
        tracing::error!(error = %e, seq, "ledger write failed");
    }
}

impl Ack {
    /// An ack that does nothing.
    pub fn noop() -> Ack {
        Ack {
            kind: AckKind::Noop,
        }
    }

    /// An ack that runs `f` when acknowledged.
    pub fn from_fn(f: impl FnOnce() + Send + 'static) -> Ack {
        Ack {
            kind: AckKind::Fn(Box::new(f)),
        }
    }

    /// An ack that records `seq` of the conversation of `slot` in the ledger (no-op for
    /// `seq <= 0`).
    pub(crate) fn ledger(ledger: &Arc<Ledger>, slot: Slot, seq: i64) -> Ack {
        if seq <= 0 {
            return Ack::noop();
        }
        Ack {
            kind: AckKind::Ledger {
                ledger: ledger.clone(),
                slot,
                seq,
            },
        }
    }

    /// `n` acks of which the last one acknowledged records `seq` in the ledger.
    pub(crate) fn shared(ledger: &Arc<Ledger>, slot: Slot, seq: i64, n: usize) -> Vec<Ack> {
        if seq <= 0 || n == 0 {
            return (0..n).map(|_| Ack::noop()).collect();
        }
        if n == 1 {
            return vec![Ack::ledger(ledger, slot, seq)];
        }
        let shared = Arc::new(SharedAck {
            remaining: AtomicUsize::new(n),
            ledger: ledger.clone(),
            slot,
            seq,
        });
        (0..n)
            .map(|_| Ack {
                kind: AckKind::Shared(shared.clone()),
            })
            .collect()
    }

    /// Marks the event handled.
    pub fn ack(self) {
        match self.kind {
            AckKind::Noop => {}
            AckKind::Fn(f) => f(),
            AckKind::Ledger { ledger, slot, seq } => ledger_ack(&ledger, slot, seq),
            AckKind::Shared(shared) => {
                if shared.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
                    ledger_ack(&shared.ledger, shared.slot, shared.seq);
                }
            }
        }
    }
}

impl fmt::Debug for Ack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ack")
            .field("pending", &!matches!(self.kind, AckKind::Noop))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_fn_runs_once_on_ack_and_not_on_drop() {
        let n = Arc::new(AtomicUsize::new(0));
        let n2 = n.clone();
        Ack::from_fn(move || {
            n2.fetch_add(1, Ordering::SeqCst);
        })
        .ack();
        assert_eq!(n.load(Ordering::SeqCst), 1);
        let n3 = n.clone();
        drop(Ack::from_fn(move || {
            n3.fetch_add(1, Ordering::SeqCst);
        }));
        assert_eq!(n.load(Ordering::SeqCst), 1);
        Ack::noop().ack();
    }

    #[test]
    fn ledger_acks_advance_the_watermark() {
        let ledger = Arc::new(Ledger::open(None).unwrap());
        let conv = ledger.slot("si_a_b");
        Ack::ledger(&ledger, conv, 1).ack();
        drop(Ack::ledger(&ledger, conv, 2));
        assert_eq!(
            ledger.watermark("si_a_b"),
            1,
            "a dropped ack is not handled"
        );
        Ack::ledger(&ledger, conv, 2).ack();
        assert_eq!(ledger.watermark("si_a_b"), 2);
        assert!(matches!(Ack::ledger(&ledger, conv, 0).kind, AckKind::Noop));
    }

    #[test]
    fn shared_ack_counts_once_every_part_is_acked() {
        let ledger = Arc::new(Ledger::open(None).unwrap());
        let conv = ledger.slot("n_a");
        let mut acks = Ack::shared(&ledger, conv, 1, 3);
        assert_eq!(acks.len(), 3);
        acks.pop().unwrap().ack();
        acks.pop().unwrap().ack();
        assert_eq!(ledger.watermark("n_a"), 0, "one part still in flight");
        acks.pop().unwrap().ack();
        assert_eq!(ledger.watermark("n_a"), 1);
        assert!(Ack::shared(&ledger, conv, 2, 0).is_empty());
    }
}
