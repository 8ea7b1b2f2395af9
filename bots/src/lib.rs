//! Ready-made OpenIM bots.
#![warn(missing_docs)]

pub mod action;
pub mod app;
pub mod autoreply;
pub mod config;
pub mod demo;
pub mod friend_gate;
pub mod handlers;
pub mod moderator;
pub mod settings;
pub mod state;
pub mod support;
pub mod template;
