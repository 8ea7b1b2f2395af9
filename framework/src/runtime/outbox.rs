//! Outgoing messages: the [`MessageSender`] the [`Context`](crate::runtime::Context) sends
//! through, and the [`Throttle`] that paces it.
//!
//! By default the bot sends with its [`Client`]. [`BotBuilder::sender`] replaces that (tests,
//! a recording sender, a proxy); [`BotBuilder::throttle`] wraps whatever sender is used.
//!
//! [`BotBuilder::sender`]: crate::runtime::BotBuilder::sender
//! [`BotBuilder::throttle`]: crate::runtime::BotBuilder::throttle

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use async_trait::async_trait;
use parking_lot::Mutex;

use crate::client::{Client, ClientError, SentMessage, Target};
use crate::content::Content;

/// Sends message content somewhere.
#[async_trait]
pub trait MessageSender: Send + Sync + 'static {
    /// Sends `content` to `target` and returns the server's acknowledgement.
    async fn send(&self, target: Target, content: Content) -> Result<SentMessage, ClientError>;
}

#[async_trait]
impl MessageSender for Client {
    async fn send(&self, target: Target, content: Content) -> Result<SentMessage, ClientError> {
        self.send_content(target, content).await
    }
}

#[async_trait]
impl<S: MessageSender + ?Sized> MessageSender for Arc<S> {
    async fn send(&self, target: Target, content: Content) -> Result<SentMessage, ClientError> {
        (**self).send(target, content).await
    }
}

/// A rate: at most `count` messages per `period` (bursts up to `count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Messages per period (≥ 1).
    pub count: u32,
    /// The period.
    pub period: Duration,
}

impl Rate {
    /// `count` per `period`.
    pub fn new(count: u32, period: Duration) -> Rate {
        Rate {
            count: count.max(1),
            period,
        }
    }

    /// `count` per second.
    pub fn per_second(count: u32) -> Rate {
        Rate::new(count, Duration::from_secs(1))
    }

    /// `count` per minute.
    pub fn per_minute(count: u32) -> Rate {
        Rate::new(count, Duration::from_secs(60))
    }
}

/// A token bucket that hands out reservations (waits), so callers queue in arrival order.
#[derive(Debug)]
pub(crate) struct Bucket {
    rate: Rate,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    pub(crate) fn new(rate: Rate, now: Instant) -> Bucket {
        Bucket {
            rate,
            tokens: f64::from(rate.count),
            last: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        let per_token = self.rate.period.as_secs_f64() / f64::from(self.rate.count);
        if per_token <= 0.0 {
            self.tokens = f64::from(self.rate.count);
        } else {
            self.tokens = (self.tokens + elapsed / per_token).min(f64::from(self.rate.count));
        }
        self.last = now;
    }

    /// Takes a token, possibly in advance: returns how long to wait before using it.
    pub(crate) fn reserve(&mut self, now: Instant) -> Duration {
        self.refill(now);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            let per_token = self.rate.period.as_secs_f64() / f64::from(self.rate.count);
            Duration::from_secs_f64(-self.tokens * per_token)
        }
    }

    /// Takes a token only if one is available now; else returns the time until one is.
    pub(crate) fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let per_token = self.rate.period.as_secs_f64() / f64::from(self.rate.count);
            Err(Duration::from_secs_f64((1.0 - self.tokens) * per_token))
        }
    }

    /// True if the bucket is full again (can be forgotten).
    pub(crate) fn is_idle(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.tokens >= f64::from(self.rate.count)
    }
}

/// Outgoing throttle (teloxide's `Throttle`, for OpenIM): paces sends per conversation and
/// globally, and keeps the order of sends within one conversation.
///
/// Sends to one target are serialised in call order (a FIFO lock per target), then wait for a
/// per-conversation token and a global token. A slow conversation never delays the order of
/// another, only the global rate is shared.
///
/// ```
/// use std::time::Duration;
/// use openim_bot::runtime::{Rate, Throttle};
///
/// let throttle = Throttle::new()
///     .per_conversation(Rate::per_second(1))
///     .global(Rate::new(20, Duration::from_secs(1)));
/// # let _ = throttle;
/// ```
#[derive(Debug, Clone, Default)]
pub struct Throttle {
    per_conversation: Option<Rate>,
    global: Option<Rate>,
}

impl Throttle {
    /// No limits yet.
    pub fn new() -> Throttle {
        Throttle::default()
    }

    /// Limit per target conversation.
    pub fn per_conversation(mut self, rate: Rate) -> Throttle {
        self.per_conversation = Some(rate);
        self
    }

    /// Limit over all conversations.
    pub fn global(mut self, rate: Rate) -> Throttle {
        self.global = Some(rate);
        self
    }

    /// Wraps `sender`.
    pub fn wrap(self, sender: Arc<dyn MessageSender>) -> Throttled {
        Throttled {
            inner: sender,
            config: self,
            global: Mutex::new(None),
            lanes: Mutex::new(HashMap::new()),
        }
    }

    /// Description for the routing table.
    pub(crate) fn describe(&self) -> String {
        let f = |r: &Option<Rate>| match r {
            Some(r) => format!("{}/{:?}", r.count, r.period),
            None => "unlimited".into(),
        };
        format!(
            "per conversation {}, global {}",
            f(&self.per_conversation),
            f(&self.global)
        )
    }
}

struct Lane {
    order: Arc<tokio::sync::Mutex<()>>,
    bucket: Option<Bucket>,
}

/// A [`MessageSender`] paced by a [`Throttle`].
pub struct Throttled {
    inner: Arc<dyn MessageSender>,
    config: Throttle,
    global: Mutex<Option<Bucket>>,
    lanes: Mutex<HashMap<Target, Lane>>,
}

impl std::fmt::Debug for Throttled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttled")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Throttled {
    fn lane_lock(&self, target: &Target) -> Arc<tokio::sync::Mutex<()>> {
        let mut lanes = self.lanes.lock();
        if lanes.len() > 4096 {
            let now = Instant::now();
            lanes.retain(|_, lane| {
                Arc::strong_count(&lane.order) > 1
                    || lane.bucket.as_mut().is_some_and(|b| !b.is_idle(now))
            });
        }
        lanes
            .entry(target.clone())
            .or_insert_with(|| Lane {
                order: Arc::new(tokio::sync::Mutex::new(())),
                bucket: None,
            })
            .order
            .clone()
    }

    fn reserve_lane(&self, target: &Target, now: Instant) -> Duration {
        let Some(rate) = self.config.per_conversation else {
            return Duration::ZERO;
        };
        let mut lanes = self.lanes.lock();
        match lanes.get_mut(target) {
            Some(lane) => lane
                .bucket
                .get_or_insert_with(|| Bucket::new(rate, now))
                .reserve(now),
            None => Duration::ZERO,
        }
    }

    fn reserve_global(&self, now: Instant) -> Duration {
        let Some(rate) = self.config.global else {
            return Duration::ZERO;
        };
        self.global
            .lock()
            .get_or_insert_with(|| Bucket::new(rate, now))
            .reserve(now)
    }
}

#[async_trait]
impl MessageSender for Throttled {
    async fn send(&self, target: Target, content: Content) -> Result<SentMessage, ClientError> {
        let order = self.lane_lock(&target);
        // FIFO: tokio's mutex wakes waiters in the order they queued.
        let _turn = order.lock().await;
        let wait = self.reserve_lane(&target, Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        let wait = self.reserve_global(Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        self.inner.send(target, content).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_reserves_in_order() {
        let t0 = Instant::now();
        let mut b = Bucket::new(Rate::new(2, Duration::from_secs(1)), t0);
        assert_eq!(b.reserve(t0), Duration::ZERO);
        assert_eq!(b.reserve(t0), Duration::ZERO);
        let w3 = b.reserve(t0);
        let w4 = b.reserve(t0);
        assert!((w3.as_millis() as i64 - 500).abs() <= 1, "{w3:?}");
        assert!((w4.as_millis() as i64 - 1000).abs() <= 1, "{w4:?}");
        // after 2 s everything is refilled
        assert!(b.is_idle(t0 + Duration::from_secs(3)));
    }

    #[test]
    fn try_take_refuses_when_empty() {
        let t0 = Instant::now();
        let mut b = Bucket::new(Rate::new(1, Duration::from_secs(10)), t0);
        assert!(b.try_take(t0).is_ok());
        let wait = b.try_take(t0 + Duration::from_secs(4)).unwrap_err();
        assert!((wait.as_secs_f64() - 6.0).abs() < 0.01, "{wait:?}");
        assert!(b.try_take(t0 + Duration::from_secs(10)).is_ok());
    }
}
