//! What the session hands to its consumer: an event plus its acknowledgement.

use std::fmt;

use crate::event::Event;

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
    on_ack: Option<AckFn>,
}

impl Ack {
    /// An ack that does nothing.
    pub fn noop() -> Ack {
        Ack { on_ack: None }
    }

    /// An ack that runs `f` when acknowledged.
    pub fn from_fn(f: impl FnOnce() + Send + 'static) -> Ack {
        Ack {
            on_ack: Some(Box::new(f)),
        }
    }

    /// Marks the event handled.
    pub fn ack(mut self) {
        if let Some(f) = self.on_ack.take() {
            f();
        }
    }
}

impl fmt::Debug for Ack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ack")
            .field("pending", &self.on_ack.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

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
}
