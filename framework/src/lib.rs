//! openim-bot: bots and automation for OpenIM.
//!
//! A [`Session`] logs a bot account in exactly as an OpenIM client SDK does
//! (platform, API address, WS address, data dir), keeps a local store, syncs by sequence number
//! and turns every SDK listener callback into a typed [`Event`].
//!
//! # Delivery guarantee
//! - Per conversation: in seq order, each message to handlers at least once; exactly once while
//!   the process lives; after a crash only the messages that were in flight can be seen again,
//!   and each carries an idempotency key (conversationID, seq).
//! - Across conversations: concurrent, no ordering promise.
//!
//! # Example
//! ```no_run
//! use openim_bot::{Session, SessionConfig, event::Event, client::Target};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = SessionConfig::from_env()?;
//! let mut session = Session::start(config).await?;
//! let client = session.client();
//! while let Some(delivery) = session.next().await {
//!     if let Event::NewMessage(message) = &delivery.event {
//!         if message.text() == Some("ping") && !message.is_self {
//!             client.send_text(Target::user(&message.send_id), "pong").await?;
//!         }
//!     }
//!     delivery.ack.ack();
//! }
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

pub mod api;
pub mod client;
mod compact;
pub mod config;
pub mod content;
pub mod delivery;
mod engine;
pub mod event;
mod gateway;
#[doc(hidden)]
pub use gateway::fuzz_decode_frame as __fuzz_decode_frame;
mod ledger;
pub mod message;
pub mod model;
mod prefetch;
mod relations;
pub mod runtime;
mod send;
pub mod session;
pub mod store;
mod sync;
#[cfg(test)]
mod test_rng;
mod version;

pub use client::{Client, ClientError, SentMessage, Target};
pub use config::{ConfigError, Credentials, SessionConfig};
pub use delivery::{Ack, Delivery};
pub use event::{Event, EventKind};
pub use message::{Message, SharedStr};
pub use session::{Session, SessionError};
pub use store::{Store, StoreError};

pub use openim_bot_macros::handler;
/// The wire types this crate speaks (`openim-protocol`), re-exported so a bot needs no second
/// dependency (and no version to keep in step) for content types, constants, error codes or
/// [`conversation_id`](openim_protocol::conversation_id) helpers.
pub use openim_protocol as protocol;
pub use runtime::prelude;

/// The README's Rust example, compiled as a doctest so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
