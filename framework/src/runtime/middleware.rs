//! Middleware: code around every event, before the handlers (aiogram's outer middleware,
//! axum's layers).
//!
//! # Order
//! Middleware run in the order they were added to the [`BotBuilder`]: the first added is the
//! outermost. For one event: `m1.before → m2.before → handlers → m2.after → m1.after`. A
//! middleware whose `before` returns [`Flow::Stop`] (or an error) short-circuits: the inner
//! middleware and the handlers do not run, the outer `after`s still do. The built-in
//! [`TracingLayer`] is added first (outermost) unless disabled with
//! [`BotBuilder::tracing`]. Inside the handlers step every handler runs in registration order,
//! each isolated: a panic or error in one is reported to its error hook and the next handler
//! still runs (panic isolation is always on).
//!
//! Per-route policy (group_only, role, cooldown …) is not middleware: it lives in the route
//! attribute and is checked by the generated router.
//!
//! [`BotBuilder`]: crate::runtime::BotBuilder
//! [`BotBuilder::tracing`]: crate::runtime::BotBuilder::tracing

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use async_trait::async_trait;
use dashmap::DashMap;
use tracing::Instrument;

use crate::event::Event;
use crate::runtime::context::Context;
use crate::runtime::error::{Denied, FrameworkError, human_duration};
use crate::runtime::outbox::{Bucket, Rate};
use crate::runtime::router::Router;

/// What `before` decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Flow {
    /// Go on to the next middleware and the handlers.
    Continue,
    /// Stop here: the event counts as handled (it is acknowledged).
    Stop,
}

/// The rest of the chain after a middleware.
pub struct Next<'a> {
    pub(crate) middleware: &'a [Arc<dyn Middleware>],
    pub(crate) router: &'a Router,
}

impl std::fmt::Debug for Next<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Next")
            .field("remaining_middleware", &self.middleware.len())
            .finish_non_exhaustive()
    }
}

impl<'a> Next<'a> {
    /// Runs the inner middleware and the handlers. The result is the inner middleware's:
    /// handlers' errors go to the error hooks, not here.
    pub async fn run(self, ctx: &Context, event: &Event) -> Result<(), FrameworkError> {
        match self.middleware.split_first() {
            Some((first, rest)) => {
                first
                    .handle(
                        ctx,
                        event,
                        Next {
                            middleware: rest,
                            router: self.router,
                        },
                    )
                    .await
            }
            None => {
                self.router.route(ctx, event).await;
                Ok(())
            }
        }
    }
}

/// Code around every event. Implement `before`/`after`, or `handle` for full control
/// (e.g. to wrap the rest in a span or a timeout).
///
/// ```
/// use openim_bot::prelude::*;
///
/// /// Ignores everything from one user.
/// struct Mute(&'static str);
///
/// #[async_trait]
/// impl Middleware for Mute {
///     async fn before(&self, _ctx: &Context, event: &Event) -> Result<Flow, FrameworkError> {
///         match event {
///             Event::NewMessage(m) if m.send_id == self.0 => Ok(Flow::Stop),
///             _ => Ok(Flow::Continue),
///         }
///     }
/// }
/// ```
#[async_trait]
pub trait Middleware: Send + Sync + 'static {
    /// Name in logs and the routing table.
    fn name(&self) -> &'static str {
        let full = std::any::type_name::<Self>();
        full.rsplit("::").next().unwrap_or(full)
    }

    /// One line for the routing table (default: the name).
    fn describe(&self) -> String {
        self.name().to_string()
    }

    /// Runs before the inner chain; [`Flow::Stop`] or an error short-circuits.
    async fn before(&self, ctx: &Context, event: &Event) -> Result<Flow, FrameworkError> {
        let _ = (ctx, event);
        Ok(Flow::Continue)
    }

    /// Runs after the inner chain (not when `before` stopped). `outcome` is the inner
    /// middleware's: a handler's error or panic goes to the error hooks
    /// ([`crate::runtime::BotBuilder::on_error`]) and leaves it `Ok` (each handler is isolated,
    /// and the next one still runs).
    async fn after(&self, ctx: &Context, event: &Event, outcome: &Result<(), FrameworkError>) {
        let _ = (ctx, event, outcome);
    }

    /// The whole step: `before`, the rest of the chain, `after`.
    async fn handle(
        &self,
        ctx: &Context,
        event: &Event,
        next: Next<'_>,
    ) -> Result<(), FrameworkError> {
        if self.before(ctx, event).await? == Flow::Stop {
            return Ok(());
        }
        let outcome = next.run(ctx, event).await;
        self.after(ctx, event, &outcome).await;
        outcome
    }
}

/// Built-in: one `tracing` span per event (`event`, `conversation`, `kind`), with its
/// duration logged at debug level.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingLayer;

#[async_trait]
impl Middleware for TracingLayer {
    fn name(&self) -> &'static str {
        "tracing"
    }

    async fn handle(
        &self,
        ctx: &Context,
        event: &Event,
        next: Next<'_>,
    ) -> Result<(), FrameworkError> {
        let span = tracing::info_span!(
            "event",
            event = event.name(),
            conversation = event.conversation_id().unwrap_or("-"),
            key = tracing::field::Empty,
        );
        // The key is built only when the span is recorded (it is a formatted string).
        if !span.is_disabled()
            && let Some(key) = event.idempotency_key()
        {
            span.record("key", key.as_str());
        }
        let started = Instant::now();
        let outcome = next.run(ctx, event).instrument(span.clone()).await;
        span.in_scope(|| {
            tracing::debug!(
                elapsed_us = started.elapsed().as_micros() as u64,
                ok = outcome.is_ok(),
                "event handled"
            );
        });
        outcome
    }
}

struct FloodState {
    bucket: Bucket,
    noticed: bool,
}

/// Built-in: incoming anti-flood. Drops messages from a user (or in a group) that exceed a
/// rate, optionally answering once with a notice (`{wait}` is replaced by the time to wait).
/// Messages sent by the bot itself are never limited.
///
/// ```
/// use std::time::Duration;
/// use openim_bot::runtime::{AntiFlood, Rate};
///
/// let flood = AntiFlood::new()
///     .per_user(Rate::new(5, Duration::from_secs(10)))
///     .per_group(Rate::new(30, Duration::from_secs(10)))
///     .notice("Slow down, please: try again in {wait}.");
/// # let _ = flood;
/// ```
#[derive(Default)]
pub struct AntiFlood {
    per_user: Option<Rate>,
    per_group: Option<Rate>,
    notice: Option<String>,
    users: DashMap<String, FloodState>,
    groups: DashMap<String, FloodState>,
}

impl std::fmt::Debug for AntiFlood {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AntiFlood")
            .field("per_user", &self.per_user)
            .field("per_group", &self.per_group)
            .field("notice", &self.notice)
            .finish_non_exhaustive()
    }
}

impl AntiFlood {
    /// No limits yet.
    pub fn new() -> AntiFlood {
        AntiFlood::default()
    }

    /// Limit per sender (over all conversations).
    pub fn per_user(mut self, rate: Rate) -> AntiFlood {
        self.per_user = Some(rate);
        self
    }

    /// Limit per group (all senders together).
    pub fn per_group(mut self, rate: Rate) -> AntiFlood {
        self.per_group = Some(rate);
        self
    }

    /// Answer once per flood with this text (`{wait}` = time until allowed again).
    pub fn notice(mut self, text: impl Into<String>) -> AntiFlood {
        self.notice = Some(text.into());
        self
    }

    /// Takes a token for `key`; `Err((wait, first_refusal))` when over the rate.
    fn take(
        map: &DashMap<String, FloodState>,
        key: &str,
        rate: Rate,
        now: Instant,
    ) -> Result<(), (Duration, bool)> {
        if map.len() > 10_000 {
            map.retain(|_, s| !s.bucket.is_idle(now));
        }
        let mut state = map.entry(key.to_string()).or_insert_with(|| FloodState {
            bucket: Bucket::new(rate, now),
            noticed: false,
        });
        match state.bucket.try_take(now) {
            Ok(()) => {
                state.noticed = false;
                Ok(())
            }
            Err(wait) => {
                let first = !state.noticed;
                state.noticed = true;
                Err((wait, first))
            }
        }
    }
}

#[async_trait]
impl Middleware for AntiFlood {
    fn name(&self) -> &'static str {
        "anti_flood"
    }

    fn describe(&self) -> String {
        format!(
            "anti_flood(per_user {:?}, per_group {:?}, notice {})",
            self.per_user.map(|r| (r.count, r.period)),
            self.per_group.map(|r| (r.count, r.period)),
            self.notice.is_some()
        )
    }

    async fn before(&self, ctx: &Context, event: &Event) -> Result<Flow, FrameworkError> {
        let Event::NewMessage(msg) = event else {
            return Ok(Flow::Continue);
        };
        if msg.is_self {
            return Ok(Flow::Continue);
        }
        let now = Instant::now();
        let mut refused = None;
        if let Some(rate) = self.per_user
            && let Err(r) = Self::take(&self.users, &msg.send_id, rate, now)
        {
            refused = Some(r);
        }
        if refused.is_none()
            && let Some(rate) = self.per_group
            && let Some(group) = msg.group_id.as_deref().filter(|g| !g.is_empty())
            && let Err(r) = Self::take(&self.groups, group, rate, now)
        {
            refused = Some(r);
        }
        let Some((wait, first)) = refused else {
            return Ok(Flow::Continue);
        };
        tracing::debug!(user = %msg.send_id, conversation = %msg.conversation_id, "flood: message dropped");
        if first && let Some(notice) = &self.notice {
            let text = notice.replace("{wait}", &human_duration(wait));
            if let Err(e) = ctx.reply(text).await {
                tracing::warn!(error = %e, "could not send the flood notice");
            }
        }
        Ok(Flow::Stop)
    }
}

/// Built-in: bot-wide permission checks on messages (allow/deny lists of users and groups).
/// Refused messages are dropped silently, or answered when [`Permissions::reply_denied`] is set.
/// Other events pass.
#[derive(Debug, Clone, Default)]
pub struct Permissions {
    allow_users: Vec<String>,
    deny_users: Vec<String>,
    allow_groups: Vec<String>,
    reply_denied: bool,
}

impl Permissions {
    /// Everybody allowed.
    pub fn new() -> Permissions {
        Permissions::default()
    }

    /// Only these senders (others are refused).
    pub fn allow_users<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        users: I,
    ) -> Permissions {
        self.allow_users.extend(users.into_iter().map(Into::into));
        self
    }

    /// Never these senders.
    pub fn deny_users<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        users: I,
    ) -> Permissions {
        self.deny_users.extend(users.into_iter().map(Into::into));
        self
    }

    /// Only in these groups (private chats unaffected).
    pub fn allow_groups<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        groups: I,
    ) -> Permissions {
        self.allow_groups.extend(groups.into_iter().map(Into::into));
        self
    }

    /// Answer refused messages (through the error hooks) instead of dropping them silently.
    pub fn reply_denied(mut self, yes: bool) -> Permissions {
        self.reply_denied = yes;
        self
    }

    fn refusal(&self, event: &Event) -> Option<Denied> {
        let Event::NewMessage(msg) = event else {
            return None;
        };
        if msg.is_self {
            return None;
        }
        if self.deny_users.iter().any(|u| msg.send_id == *u)
            || (!self.allow_users.is_empty() && !self.allow_users.iter().any(|u| msg.send_id == *u))
        {
            return Some(Denied::User);
        }
        if let Some(g) = msg.group_id.as_deref().filter(|g| !g.is_empty())
            && !self.allow_groups.is_empty()
            && !self.allow_groups.iter().any(|a| a == g)
        {
            return Some(Denied::Group);
        }
        None
    }
}

#[async_trait]
impl Middleware for Permissions {
    fn name(&self) -> &'static str {
        "permissions"
    }

    fn describe(&self) -> String {
        format!(
            "permissions(allow_users {}, deny_users {}, allow_groups {})",
            self.allow_users.len(),
            self.deny_users.len(),
            self.allow_groups.len()
        )
    }

    async fn before(&self, _ctx: &Context, event: &Event) -> Result<Flow, FrameworkError> {
        match self.refusal(event) {
            None => Ok(Flow::Continue),
            Some(denied) if self.reply_denied => Err(FrameworkError::Permission {
                route: "this bot".into(),
                denied,
            }),
            Some(_) => Ok(Flow::Stop),
        }
    }
}

/// Built-in: marks each message read once it is handled, as a person reading it would. Its
/// sender then sees it read (a single chat's peer gets `OnRecvC2CReadReceipt`, the read flag in
/// their history), and the bot account's unread counts, which its other clients show, go back
/// to zero. Without it the bot reads nothing: OpenIM counts every message to it as unread (the
/// bot's own reply moves its read position, but tells the peer nothing).
///
/// One request per conversation per `delay` (default 1 s) covers every message handled there
/// meanwhile: a busy conversation costs one request a second, not one a message.
///
/// ```
/// use std::time::Duration;
/// use openim_bot::runtime::MarkRead;
///
/// let mark_read = MarkRead::new().delay(Duration::from_millis(500));
/// # let _ = mark_read;
/// ```
#[derive(Debug, Clone)]
pub struct MarkRead {
    delay: Duration,
    /// The handled messages (seqs) of each conversation whose mark is due (one task each).
    due: Arc<DashMap<String, Vec<i64>>>,
}

impl Default for MarkRead {
    fn default() -> Self {
        MarkRead {
            delay: Duration::from_secs(1),
            due: Arc::default(),
        }
    }
}

impl MarkRead {
    /// Marks after one second.
    pub fn new() -> MarkRead {
        MarkRead::default()
    }

    /// How long after a message is handled it is marked read (the messages of its
    /// conversation handled meanwhile share the request).
    pub fn delay(mut self, delay: Duration) -> MarkRead {
        self.delay = delay;
        self
    }
}

#[async_trait]
impl Middleware for MarkRead {
    fn name(&self) -> &'static str {
        "mark_read"
    }

    fn describe(&self) -> String {
        format!("mark_read(after {})", human_duration(self.delay))
    }

    async fn handle(
        &self,
        ctx: &Context,
        event: &Event,
        next: Next<'_>,
    ) -> Result<(), FrameworkError> {
        let outcome = next.run(ctx, event).await;
        if let Event::NewMessage(m) = event
            && !m.is_self
            && m.seq > 0
        {
            let conversation = m.conversation_id.to_string();
            let first = {
                let mut seqs = self.due.entry(conversation.clone()).or_default();
                seqs.push(m.seq);
                seqs.len() == 1
            };
            if first {
                let client = ctx.client().clone();
                let due = self.due.clone();
                let delay = self.delay;
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    // Out first: a message handled while the mark is on its way gets its own.
                    let Some((_, seqs)) = due.remove(&conversation) else {
                        return;
                    };
                    if let Err(e) = client.mark_messages_read(&conversation, &seqs).await {
                        tracing::warn!(conversation, error = %e, "cannot mark messages read");
                    }
                });
            }
        }
        outcome
    }
}
