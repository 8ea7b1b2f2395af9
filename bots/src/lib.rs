//! # openim-bots
//!
//! Ready-made bots for OpenIM, built on the `openim-bot` framework, and the `openim-bots`
//! command line (`demo`, `run`, `check-config`, `routes`, and `sandbox`: the embedded
//! OpenIM-compatible server standalone, to try a bot without deploying OpenIM).
//!
//! | bot | what it does |
//! |---|---|
//! | [`friend_gate`] | answers friend applications (everyone, by regex on the request message, by allow-list; block-list refused), also those received while offline; greets new friends |
//! | [`moderator`] | banned words, links, flooding, repeated messages → revoke, warn, mute, kick (strikes persisted); join applications by answer regex; welcome; `/warn /mute /unmute /kick /strikes` for owner and admins, `/rules` for everyone |
//! | [`autoreply`] | keyword and regex rules → templated replies (nickname, captures), per-conversation cooldown |
//! | [`support`] | FAQ, numbered tickets, out-of-hours notice, hand-off to an agents group (`/claim N`, relay both ways, `/close`), satisfaction rating; all state persisted |
//!
//! Each bot's decisions are plain Rust over wire-free views ([`action::MessageView`] …) that
//! return [`action::Action`]s, with their state behind [`state::StateStore`]; [`handlers`]
//! connects them to the runtime and [`app`] puts them on a session. [`config`] reads the TOML
//! file (see `bots.example.toml`) with `OPENIM_*` environment overrides.
//!
//! ## Deciding, without a server
//! ```
//! use openim_bots::action::{Action, FriendRequestView};
//! use openim_bots::friend_gate::{AcceptMode, Decision, FriendGate, FriendGateSettings};
//!
//! let gate = FriendGate::from_settings(&FriendGateSettings {
//!     accept: AcceptMode::Matching,
//!     request_pattern: Some("(?i)hello".into()),
//!     block_list: vec!["spammer".into()],
//!     ..Default::default()
//! })?;
//! let request = FriendRequestView {
//!     from_user_id: "alice".into(),
//!     from_nickname: "Alice".into(),
//!     request_message: "Hello there".into(),
//! };
//! let (decision, actions) = gate.on_application(&request);
//! assert_eq!(decision, Decision::Accept("request message matches"));
//! assert!(matches!(&actions[..], [Action::AnswerFriend { accept: true, .. }]));
//! # Ok::<(), openim_bots::settings::Invalid>(())
//! ```
//!
//! ## Running the configured bots
//! ```no_run
//! use openim_bots::app::{SyncProgress, build};
//! use openim_bots::config::Config;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::load("bots.toml".as_ref())?; // names the key of any mistake
//! let bot = build(&config, SyncProgress::new(), None)?;
//! println!("{}", bot.routes());
//! bot.run().await?; // until Ctrl-C; in-flight handlers finish, the ledger is flushed
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod action;
pub mod app;
pub mod autoreply;
pub mod config;
pub mod demo;
pub mod friend_gate;
pub mod handlers;
pub mod moderator;
pub mod replay;
pub mod settings;
pub mod state;
pub mod support;
pub mod template;
