//! The [`EventHandler`] trait, generated from the one event list ([`for_each_event!`]).
//!
//! Adding an event to `framework/src/event.rs` adds its `on_*` method here: nothing else to
//! edit. Each method has a default no-op body, so a handler implements only what it needs.
//!
//! [`for_each_event!`]: crate::for_each_event

use std::fmt;

use async_trait::async_trait;

use crate::event::Event;
use crate::runtime::context::Context;
use crate::runtime::error::{FrameworkError, HandlerError, HandlerResult};

/// One route of a handler, for the routing table ([`Bot::routes`](crate::runtime::Bot::routes)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteInfo {
    /// The event the route listens to (variant name, e.g. `NewMessage`), or `error`.
    pub event: &'static str,
    /// How it matches (`command /ban | /b`, `regex("…")`, `on(GroupMemberKicked)`).
    pub matcher: &'static str,
    /// Filters and policy (`group_only, role=admin, cooldown=5000ms`), empty if none.
    pub filters: &'static str,
    /// The method that runs.
    pub method: &'static str,
}

/// A command, for the generated help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandInfo {
    /// Name without prefix.
    pub name: &'static str,
    /// Other names.
    pub aliases: &'static [&'static str],
    /// The prefix (`/`).
    pub prefix: &'static str,
    /// One line: the first line of the doc comment (or `description = "…"`).
    pub description: &'static str,
    /// The whole doc comment.
    pub help: &'static str,
    /// Usage line: `/ban <user> <duration> [reason...]`.
    pub usage: &'static str,
    /// Left out of the help list.
    pub hidden: bool,
    /// Only in groups.
    pub group_only: bool,
    /// Only in private chats.
    pub private_only: bool,
    /// Needs the owner or admin role.
    pub admin_only: bool,
}

impl CommandInfo {
    /// True if `name` is this command's name or one of its aliases.
    pub fn answers_to(&self, name: &str) -> bool {
        self.name == name || self.aliases.contains(&name)
    }
}

/// What a handler method may return: `()`, or `Result<(), E>` for any error type `E`.
#[diagnostic::on_unimplemented(
    message = "handler methods must return `()` or `Result<(), E>` where `E` converts into a boxed error; found `{Self}`",
    label = "unsupported return type",
    note = "use `openim_bot::runtime::HandlerResult` (= `Result<(), HandlerError>`) when in doubt"
)]
pub trait IntoHandlerResult {
    /// Converts into the uniform result.
    fn into_handler_result(self) -> HandlerResult;
}

impl IntoHandlerResult for () {
    fn into_handler_result(self) -> HandlerResult {
        Ok(())
    }
}

impl<E: Into<HandlerError>> IntoHandlerResult for Result<(), E> {
    fn into_handler_result(self) -> HandlerResult {
        self.map_err(Into::into)
    }
}

/// Wraps a handler method's outcome as a [`FrameworkError::Handler`]; an error that already is
/// a `FrameworkError` (e.g. from `ctx.reply(..).await?`) is passed on as it is.
pub fn wrap_handler_error(
    result: HandlerResult,
    handler: &'static str,
    route: &'static str,
) -> Result<(), FrameworkError> {
    match result {
        Ok(()) => Ok(()),
        Err(error) => match error.downcast::<FrameworkError>() {
            Ok(framework) => Err(*framework),
            Err(source) => Err(FrameworkError::Handler {
                handler,
                route,
                source,
            }),
        },
    }
}

macro_rules! define_event_handler {
    ($( $(#[$meta:meta])* $variant:ident($payload:ty) => $method:ident ),* $(,)?) => {
        /// Reacts to events. Every method has a default that does nothing.
        ///
        /// Implement it by hand (one `on_*` method per event, plus the catch-all
        /// [`on_event`](EventHandler::on_event)), or let `#[openim_bot::handler]` generate it
        /// from an impl block with commands and matchers.
        ///
        /// The runtime calls [`dispatch`](EventHandler::dispatch) once per event. Its default
        /// calls `on_event` and then the event's own method; `#[handler]` replaces it with the
        /// generated router.
        ///
        /// ```
        /// use openim_bot::prelude::*;
        ///
        /// struct Greeter;
        ///
        /// #[async_trait]
        /// impl EventHandler for Greeter {
        ///     async fn on_new_message(&self, ctx: &Context, msg: &Message) -> HandlerResult {
        ///         if msg.text() == Some("hi") && !msg.is_self {
        ///             ctx.reply("hello!").await?;
        ///         }
        ///         Ok(())
        ///     }
        /// }
        /// ```
        #[async_trait]
        pub trait EventHandler: Send + Sync + 'static {
            /// Name shown in logs and the routing table.
            fn name(&self) -> &'static str {
                let full = std::any::type_name::<Self>();
                full.rsplit("::").next().unwrap_or(full)
            }

            /// The routes (for the routing table); `#[handler]` fills it in.
            fn routes(&self) -> &'static [RouteInfo] {
                &[]
            }

            /// The commands (for the generated help); `#[handler]` fills it in.
            fn commands(&self) -> &'static [CommandInfo] {
                &[]
            }

            /// Catch-all: called for every event, before the event's own method.
            async fn on_event(&self, ctx: &Context, event: &Event) -> HandlerResult {
                let _ = (ctx, event);
                Ok(())
            }

            $(
                $(#[$meta])*
                async fn $method(&self, ctx: &Context, event: &$payload) -> HandlerResult {
                    let _ = (ctx, event);
                    Ok(())
                }
            )*

            /// Routes one event to this handler's methods.
            async fn dispatch(&self, ctx: &Context, event: &Event) -> Result<(), FrameworkError> {
                wrap_handler_error(self.on_event(ctx, event).await, self.name(), "on_event")?;
                match event {
                    $( Event::$variant(payload) => wrap_handler_error(
                        self.$method(ctx, payload).await,
                        self.name(),
                        stringify!($method),
                    ), )*
                    #[allow(unreachable_patterns)]
                    _ => Ok(()),
                }
            }

            /// This handler's error hook: return `Err(error)` to pass the error on to the bot's
            /// global hook (the default), `Ok(())` when handled.
            async fn on_error(&self, ctx: &Context, error: FrameworkError) -> Result<(), FrameworkError> {
                let _ = ctx;
                Err(error)
            }
        }
    };
}

crate::for_each_event!(define_event_handler);

impl fmt::Debug for dyn EventHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventHandler")
            .field("name", &self.name())
            .finish()
    }
}
