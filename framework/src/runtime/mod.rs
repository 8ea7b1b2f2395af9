//! The bot runtime: handlers, generated routing, middleware, dialogues, dispatcher.
//!
//! ```text
//! Session ─▶ dispatcher (lane per conversation) ─▶ middleware ─▶ handlers (router) ─▶ ack
//! ```
//!
//! - [`EventHandler`]: one default no-op method per event (generated from the event list) plus
//!   the catch-all `on_event`.
//! - [`macro@handler`] (`#[openim_bot::handler]`): on an impl block, generates the
//!   `EventHandler` with commands, matchers, filters and policy.
//! - [`Context`]: reply, send, client, store, identity, dialogue state, shutdown.
//! - [`Middleware`] with [`TracingLayer`], [`AntiFlood`], [`Permissions`]; outgoing
//!   [`Throttle`]; panic isolation is always on.
//! - [`Dialogue`]s persisted behind [`DialogueStorage`] (sled by default).
//! - [`Bot`]: builder, `run()`, routing table. Ordering, concurrency and acknowledgement are
//!   described in [`bot`].
//! - [`FrameworkError`]: one error type, routed handler hook → global hook → default.
//!
//! # The `#[handler]` macro
//!
//! ```
//! use std::time::Duration;
//! use openim_bot::prelude::*;
//!
//! struct Moderator;
//!
//! #[openim_bot::handler(prefix = "/")]
//! impl Moderator {
//!     /// Mute a member for a while.
//!     ///
//!     /// Example: `/mute @bob 10m`
//!     #[command(aliases("m"), group_only, role = "admin", cooldown = "2s")]
//!     async fn mute(&self, ctx: &Context, user: Mention, duration: Duration) -> HandlerResult {
//!         ctx.reply(format!("muting {user} for {duration:?}")).await?;
//!         Ok(())
//!     }
//!
//!     /// Adds two numbers: `12 + 30`.
//!     #[regex(r"^\s*(-?\d+)\s*\+\s*(-?\d+)\s*$")]
//!     async fn add(&self, ctx: &Context, a: i64, b: i64) -> HandlerResult {
//!         ctx.reply((a + b).to_string()).await?;
//!         Ok(())
//!     }
//!
//!     #[contains("thank you", ignore_case, cooldown = "1m")]
//!     async fn welcome(&self, ctx: &Context) -> HandlerResult {
//!         ctx.reply("You're welcome!").await?;
//!         Ok(())
//!     }
//!
//!     #[on(GroupMemberEntered)]
//!     async fn greet(&self, ctx: &Context, event: &GroupMemberEvent) -> HandlerResult {
//!         let group = Target::group(&event.member.group_id);
//!         ctx.send(group, format!("Welcome, {}!", event.member.nickname)).await?;
//!         Ok(())
//!     }
//!
//!     #[on_error]
//!     async fn errors(&self, _ctx: &Context, error: FrameworkError) -> Result<(), FrameworkError> {
//!         Err(error) // pass on to the global hook and the default reply
//!     }
//! }
//! ```
//!
//! Route attributes:
//!
//! | attribute | matches |
//! |---|---|
//! | `#[command]`, `#[command("name")]`, `#[command(name = "…", aliases("a", "b"), description = "…", hidden)]` | `/name args…` (prefix from `#[handler(prefix = "…")]`, default `/`); help text from the doc comment |
//! | `#[regex("…")]` | the text matches; capture groups become arguments (a named group fills the parameter of its name, unnamed groups the others in order; a parameter left to a named group is a compile error) |
//! | `#[contains("a", "b")]`, `#[starts_with("…")]`, `#[equals("…")]` (+ `ignore_case`) | substring / prefix / whole text (trimmed) |
//! | `#[mentions_me]` | the message @-mentions the bot (or everybody) |
//! | `#[on(EventVariant)]` | any event; the method takes `(&self, ctx: &Context, event: &Payload)` |
//! | `#[on_error]` | this handler's error hook: `(&self, ctx: &Context, error: FrameworkError) -> Result<(), FrameworkError>` |
//!
//! Policy options, in any message route attribute: `group_only`, `private_only`,
//! `role = "admin"` (owner or admin) / `role = "owner"`, `users("id", …)`, `groups("id", …)`,
//! `cooldown = "10s"` (per user), `allow_self` (also messages sent by the bot; off by default).
//! A command whose policy refuses the sender reports a [`FrameworkError`] (answered
//! helpfully by default); a matcher whose policy refuses is silently skipped.
//!
//! Method parameters: `&self`, then in any order `ctx: &Context`, `msg: &Message`, and for
//! commands and regexes typed arguments ([`FromArg`]: `String`, integers, `f64`, `bool`,
//! `Duration`, [`Mention`], [`Rest`], `Option<T>`). Return `()` or `Result<(), E>`.
//!
//! Routing: `#[on]` routes run for every matching event (an error in one ends that handler's
//! turn for the event and goes to its error hook). For a new message, commands are tried
//! first (by name), then the matchers in declaration order; the first route that matches (and
//! whose policy passes) runs and the others of that handler are skipped. Messages sent by the
//! bot itself are ignored by message routes unless `allow_self`. Every handler of a bot sees
//! every event.
//!
//! A route cannot decline a message it matched, and `users(..)`/`groups(..)` take literals. To
//! take messages away from the routes on a condition known only at run time (a support desk
//! relaying a customer's chat to an agent, a user list from configuration), use a
//! [`Middleware`] that returns [`Flow::Stop`] for them: examples/helpdesk.rs does this.

//!
//! # Guarantees
//!
//! - **Order**: events of one conversation reach the handlers one at a time, in the order the
//!   session delivered them (seq order); different conversations run concurrently, at most
//!   [`BotBuilder::max_concurrency`] events at once.
//! - **Bounded memory**: every conversation lane has a bounded queue; when it is full the
//!   dispatcher stops reading from the session (backpressure).
//! - **Acknowledgement**: a delivery is acknowledged after all middleware and handlers
//!   finished, also when one failed or panicked (reported, not retried). Events not started
//!   when the bot stops stay unacknowledged and are delivered again after a restart.
//! - **Isolation**: a panicking handler (or middleware) is caught, reported as
//!   [`FrameworkError::Panic`] and the bot goes on; the other handlers still see the event.
//! - **Outgoing order**: with a [`Throttle`], messages to one conversation leave in the order
//!   they were sent.
//!
//! See [`bot`] for the details.

pub mod args;
pub mod bot;
pub mod context;
pub mod dialogue;
pub mod error;
pub mod handler;
pub mod help;
pub mod middleware;
pub mod outbox;
pub mod policy;
pub mod prelude;
mod router;

#[doc(hidden)]
pub mod __private {
    pub use super::private::*;
}
mod private;

pub use args::{ArgError, Args, FromArg, Mention, Rest, parse_duration};
pub use async_trait::async_trait;
pub use bot::{
    Bot, BotBuilder, BotError, EventSource, ReadyHandle, RoutingTable, SessionEnd, ShutdownHandle,
};
pub use context::Context;
pub use dialogue::{
    Dialogue, DialogueError, DialogueKey, DialogueRecord, DialogueState, DialogueStorage,
    MemoryDialogueStorage, SledDialogueStorage,
};
pub use error::{Denied, ErrorHook, FrameworkError, HandlerError, HandlerResult};
pub use handler::{CommandInfo, EventHandler, IntoHandlerResult, RouteInfo};
pub use middleware::{AntiFlood, Flow, MarkRead, Middleware, Next, Permissions, TracingLayer};
pub use openim_bot_macros::handler;
pub use outbox::{MessageSender, Rate, Throttle, Throttled};
pub use policy::RequiredRole;
