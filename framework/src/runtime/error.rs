//! The one error type of the runtime and the hooks it is routed to.
//!
//! Every failure while handling an event becomes a [`FrameworkError`]. It goes first to the
//! handler's own hook (`#[on_error]` in a `#[handler]` impl, or [`EventHandler::on_error`]),
//! then, if that hook passes it on (returns `Err(error)`), to the bot's global hook
//! ([`BotBuilder::on_error`]), then to the default: user mistakes (bad arguments, cooldown,
//! missing permission) get a helpful reply in the conversation, everything else is logged.
//!
//! [`EventHandler::on_error`]: crate::runtime::EventHandler::on_error
//! [`BotBuilder::on_error`]: crate::runtime::BotBuilder::on_error

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use crate::client::{ClientError, Target};
use crate::runtime::args::ArgError;
use crate::runtime::context::Context;
use crate::runtime::dialogue::DialogueError;

/// A boxed error returned by handler code.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What handler methods return: `Ok(())` or any error (`?` converts it).
pub type HandlerResult = Result<(), HandlerError>;

/// Why a route refused a sender.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Denied {
    /// The route only works in groups.
    GroupOnly,
    /// The route only works in private chats.
    PrivateOnly,
    /// The sender lacks the group role (`"admin"` means owner or admin).
    Role {
        /// The role that is required.
        required: &'static str,
    },
    /// The sender is not in the route's allow-list of users.
    User,
    /// The group is not in the route's allow-list of groups.
    Group,
    /// A middleware refused the event.
    Middleware {
        /// Middleware name.
        middleware: String,
        /// Why.
        reason: String,
    },
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Denied::GroupOnly => f.write_str("it only works in group chats"),
            Denied::PrivateOnly => f.write_str("it only works in private chats"),
            Denied::Role { required } => write!(f, "it requires the group role {required}"),
            Denied::User => f.write_str("you are not on its list of allowed users"),
            Denied::Group => f.write_str("it is not enabled in this group"),
            Denied::Middleware { middleware, reason } => write!(f, "{middleware}: {reason}"),
        }
    }
}

/// Every error the runtime reports. Routed to the handler's hook, then the global hook, then
/// the default (see the module docs).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameworkError {
    /// A command argument (or regex capture) could not be parsed.
    #[error("{route}: argument `{param}`: {source}")]
    Argument {
        /// The command (`/ban`) or route method.
        route: String,
        /// Usage line of the command, if it is one.
        usage: Option<String>,
        /// Parameter name.
        param: String,
        /// What was wrong.
        #[source]
        source: ArgError,
    },
    /// The sender used the route again before its cooldown elapsed.
    #[error("{route}: on cooldown for another {remaining:?}")]
    Cooldown {
        /// The command or route.
        route: String,
        /// Time left.
        remaining: Duration,
    },
    /// The sender may not use the route here.
    #[error("{route}: permission denied: {denied}")]
    Permission {
        /// The command or route.
        route: String,
        /// Why.
        denied: Denied,
    },
    /// Handler code returned an error.
    #[error("handler {handler}::{route} failed: {source}")]
    Handler {
        /// Handler name.
        handler: &'static str,
        /// Route method.
        route: &'static str,
        /// The error.
        #[source]
        source: HandlerError,
    },
    /// Handler (or middleware) code panicked; the bot went on.
    #[error("handler {handler} panicked: {message}")]
    Panic {
        /// Handler (or middleware) name.
        handler: String,
        /// The panic message.
        message: String,
    },
    /// Sending a message failed.
    #[error("sending to {target:?} failed: {source}")]
    Send {
        /// Where it should have gone.
        target: Target,
        /// Why.
        #[source]
        source: ClientError,
    },
    /// Another client action (e.g. a role lookup) failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// Dialogue state could not be read or written.
    #[error(transparent)]
    Dialogue(#[from] DialogueError),
    /// The action needs a conversation but the event has none.
    #[error("this event has no conversation to reply to")]
    NoConversation,
}

impl FrameworkError {
    /// True for mistakes of the user who sent the message (arguments, cooldown, permission):
    /// the default hook answers them in the conversation.
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            FrameworkError::Argument { .. }
                | FrameworkError::Cooldown { .. }
                | FrameworkError::Permission { .. }
        )
    }

    /// The reply the default hook sends for user mistakes (`None` for other errors).
    pub fn user_message(&self) -> Option<String> {
        match self {
            FrameworkError::Argument {
                route,
                usage,
                param,
                source,
            } => {
                let mut text = format!("{route}: {param}: {source}.");
                if let Some(usage) = usage {
                    text.push_str(&format!("\nUsage: {usage}"));
                }
                Some(text)
            }
            FrameworkError::Cooldown { route, remaining } => Some(format!(
                "Please wait {} before using {route} again.",
                human_duration(*remaining)
            )),
            FrameworkError::Permission { route, denied } => {
                Some(format!("You cannot use {route}: {denied}."))
            }
            _ => None,
        }
    }
}

/// Formats a duration for people: `3s`, `1m 5s`, `2h`.
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs() + u64::from(d.subsec_millis() > 0);
    if secs < 60 {
        return format!("{secs}s");
    }
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let mut parts = Vec::new();
    if h > 0 {
        parts.push(format!("{h}h"));
    }
    if m > 0 {
        parts.push(format!("{m}m"));
    }
    if s > 0 {
        parts.push(format!("{s}s"));
    }
    parts.join(" ")
}

/// The bot-wide error hook ([`BotBuilder::on_error`](crate::runtime::BotBuilder::on_error)).
///
/// Return `Ok(())` when handled, or `Err(error)` to fall through to the default (helpful
/// reply for user mistakes, log for the rest). Closures
/// `Fn(Context, FrameworkError) -> impl Future<Output = Result<(), FrameworkError>>` implement it.
#[async_trait]
pub trait ErrorHook: Send + Sync + 'static {
    /// Handles an error that the handler's own hook passed on.
    async fn on_error(&self, ctx: &Context, error: FrameworkError) -> Result<(), FrameworkError>;
}

#[async_trait]
impl<F, Fut> ErrorHook for F
where
    F: Fn(Context, FrameworkError) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), FrameworkError>> + Send + 'static,
{
    async fn on_error(&self, ctx: &Context, error: FrameworkError) -> Result<(), FrameworkError> {
        (self)(ctx.clone(), error).await
    }
}

/// The default end of the error chain: replies helpfully to user mistakes, logs the rest.
pub async fn default_error_handler(ctx: &Context, error: FrameworkError) {
    if let Some(text) = error.user_message()
        && ctx.conversation().is_some()
    {
        tracing::debug!(error = %error, "replying to a user mistake");
        if let Err(send_error) = ctx.reply(text).await {
            tracing::warn!(error = %send_error, "could not send the error reply");
        }
        return;
    }
    match &error {
        FrameworkError::Panic { .. } => {
            tracing::error!(error = %error, "handler panicked; the bot goes on")
        }
        _ => tracing::error!(error = %error, "event handling failed"),
    }
}
