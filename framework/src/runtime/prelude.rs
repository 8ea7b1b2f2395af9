//! Everything a bot author needs: `use openim_bot::prelude::*;`.

pub use std::time::Duration;

pub use crate::client::{Client, SentMessage, Target};
pub use crate::config::SessionConfig;
pub use crate::content::Content;
pub use crate::event::{
    Event, EventKind, FriendApplication, GroupApplication, GroupMemberEvent, JoinedGroupAdded,
    JoinedGroupDeleted,
};
pub use crate::message::Message;
pub use crate::runtime::{
    AntiFlood, Bot, BotBuilder, Context, Dialogue, DialogueKey, EventHandler, Flow, FrameworkError,
    FromArg, HandlerResult, MarkRead, Mention, Middleware, Next, Permissions, Rate, Rest, Throttle,
    async_trait, handler,
};
