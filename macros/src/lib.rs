//! Procedural macros for openim-bot.
//!
//! The only macro is [`macro@handler`], re-exported as `openim_bot::handler`. It turns an impl
//! block whose methods carry route attributes into an implementation of
//! `openim_bot::runtime::EventHandler`. See the `openim_bot::runtime` documentation for the
//! full syntax; every misuse is reported at compile time with a message naming the problem.
#![warn(missing_docs)]

mod attrs;
mod expand;

use proc_macro::TokenStream;

/// Generates `EventHandler` routing for an impl block.
///
/// ```ignore
/// #[openim_bot::handler(prefix = "/")]
/// impl Moderator {
///     /// Mute a member for a while.
///     #[command(aliases("m"), group_only, role = "admin", cooldown = "5s")]
///     async fn mute(&self, ctx: &Context, user: Mention, duration: Duration) -> HandlerResult { .. }
///
///     #[regex(r"^(\d+)\s*\+\s*(\d+)$")]
///     async fn add(&self, ctx: &Context, a: i64, b: i64) -> HandlerResult { .. }
///
///     #[contains("hello", ignore_case)]
///     async fn hello(&self, ctx: &Context, msg: &Message) -> HandlerResult { .. }
///
///     #[on(GroupMemberEntered)]
///     async fn welcome(&self, ctx: &Context, event: &GroupMemberEvent) -> HandlerResult { .. }
///
///     #[on_error]
///     async fn errors(&self, ctx: &Context, err: FrameworkError) -> Result<(), FrameworkError> { Err(err) }
/// }
/// ```
#[proc_macro_attribute]
pub fn handler(attr: TokenStream, item: TokenStream) -> TokenStream {
    match expand::expand(attr.into(), item.into()) {
        Ok(tokens) => tokens.into(),
        Err(err) => err.to_compile_error().into(),
    }
}
