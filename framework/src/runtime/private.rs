//! Support code for the `#[handler]` macro's generated router. Not a public API: names and
//! signatures may change between versions.

use std::sync::OnceLock;

pub use crate::event::Event;
pub use crate::runtime::args::Args;
pub use crate::runtime::policy::{Policy, RequiredRole};
pub use async_trait::async_trait;

use crate::message::Message;
use crate::runtime::args::FromArg;
use crate::runtime::context::Context;
use crate::runtime::error::FrameworkError;
use crate::runtime::handler::{CommandInfo, IntoHandlerResult, wrap_handler_error};

/// A regex compiled on first use (the pattern was validated at compile time).
pub struct LazyRegex {
    pattern: &'static str,
    cell: OnceLock<regex::Regex>,
}

impl LazyRegex {
    /// Wraps `pattern`.
    pub const fn new(pattern: &'static str) -> LazyRegex {
        LazyRegex {
            pattern,
            cell: OnceLock::new(),
        }
    }

    /// The compiled regex.
    pub fn get(&self) -> &regex::Regex {
        self.cell.get_or_init(|| {
            regex::Regex::new(self.pattern).unwrap_or_else(|_| {
                // Validated by the macro with the same regex crate; an impossible pattern
                // degrades to one that never matches instead of panicking.
                regex::Regex::new(r"[^\s\S]").unwrap_or_else(|_| unreachable!())
            })
        })
    }
}

/// Lower-cased text, computed at most once per message (for `ignore_case` matchers).
pub struct LazyLower<'a> {
    text: &'a str,
    lower: OnceLock<String>,
}

impl<'a> LazyLower<'a> {
    /// Wraps `text`.
    pub fn new(text: &'a str) -> LazyLower<'a> {
        LazyLower {
            text,
            lower: OnceLock::new(),
        }
    }

    /// The lower-cased text.
    pub fn get(&self) -> &str {
        self.lower.get_or_init(|| self.text.to_lowercase())
    }
}

/// Which capture group an argument receives.
#[derive(Debug, Clone, Copy)]
pub enum Group {
    /// By position (1-based).
    Index(usize),
    /// By name.
    Name(&'static str),
}

/// Converts a method's return value.
pub fn handler_result<R: IntoHandlerResult>(
    result: R,
    handler: &'static str,
    route: &'static str,
) -> Result<(), FrameworkError> {
    wrap_handler_error(result.into_handler_result(), handler, route)
}

fn command_label(cmd: &CommandInfo) -> String {
    format!("{}{}", cmd.prefix, cmd.name)
}

/// Parses one command argument.
pub fn parse_arg<T: FromArg>(
    args: &mut Args<'_>,
    cmd: &'static CommandInfo,
    param: &'static str,
) -> Result<T, FrameworkError> {
    T::from_args(args).map_err(|source| FrameworkError::Argument {
        route: command_label(cmd),
        usage: Some(cmd.usage.to_string()),
        param: param.to_string(),
        source,
    })
}

/// Fails if words are left after the last argument.
pub fn finish_args(args: &Args<'_>, cmd: &'static CommandInfo) -> Result<(), FrameworkError> {
    args.finish_check()
        .map_err(|source| FrameworkError::Argument {
            route: command_label(cmd),
            usage: Some(cmd.usage.to_string()),
            param: "(end)".to_string(),
            source,
        })
}

/// Parses one regex capture.
pub fn parse_capture<T: FromArg>(
    caps: &regex::Captures<'_>,
    group: Group,
    msg: &Message,
    handler: &'static str,
    route: &'static str,
    param: &'static str,
) -> Result<T, FrameworkError> {
    let m = match group {
        Group::Index(i) => caps.get(i),
        Group::Name(n) => caps.name(n),
    };
    T::from_capture(m.map(|m| m.as_str()), msg).map_err(|source| FrameworkError::Argument {
        route: format!("{handler}::{route}"),
        usage: None,
        param: param.to_string(),
        source,
    })
}

/// Command policy but for the cooldown (errors are answered to the user by default).
pub async fn check_command_permission(
    ctx: &Context,
    msg: &Message,
    policy: &'static Policy,
    cmd: &'static CommandInfo,
) -> Result<(), FrameworkError> {
    crate::runtime::policy::check_permission(ctx, msg, policy, &command_label(cmd)).await
}

/// Starts a command's cooldown, once its arguments parsed (see
/// [`crate::runtime::policy::take_cooldown`]).
pub fn take_command_cooldown(
    ctx: &Context,
    msg: &Message,
    policy: &'static Policy,
    cmd: &'static CommandInfo,
) -> Result<(), FrameworkError> {
    crate::runtime::policy::take_cooldown(ctx, msg, policy, &command_label(cmd))
}

pub use crate::runtime::policy::{cooldown_allows, policy_permits};

/// True if the bot itself sent the message.
#[inline]
pub fn is_self(msg: &Message) -> bool {
    msg.is_self
}

/// The text of a message, if it has one.
#[inline]
pub fn message_text(msg: &Message) -> Option<&str> {
    msg.text()
}

/// True if the message mentions the bot.
#[inline]
pub fn mentions_me(msg: &Message, ctx: &Context) -> bool {
    msg.mentions(ctx.me())
}

/// Splits `"/name rest"` (after leading @-mentions when the message mentions someone) into
/// `("name", "rest")`.
pub fn command_parts<'t>(
    text: &'t str,
    prefix: &str,
    msg: &Message,
    ctx: &Context,
) -> Option<(&'t str, &'t str)> {
    split_command(text, prefix, !msg.at_user_ids.is_empty(), ctx.me())
}

/// [`command_parts`] without a context (tests, benchmarks).
pub fn split_command<'t>(
    text: &'t str,
    prefix: &str,
    has_mentions: bool,
    me: &str,
) -> Option<(&'t str, &'t str)> {
    let mut text = text.trim_start();
    if has_mentions {
        while let Some(after_at) = text.strip_prefix('@') {
            let end = after_at.find(char::is_whitespace).unwrap_or(after_at.len());
            text = after_at[end..].trim_start();
        }
    }
    let body = text.strip_prefix(prefix)?;
    let end = body.find(char::is_whitespace).unwrap_or(body.len());
    let mut name = &body[..end];
    // `/cmd@botid` addresses one bot explicitly.
    if let Some((n, target)) = name.split_once('@') {
        if target != me {
            return None;
        }
        name = n;
    }
    if name.is_empty() {
        return None;
    }
    Some((name, body[end..].trim_start()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_commands() {
        assert_eq!(
            split_command("/ban @x 10m", "/", false, "bot"),
            Some(("ban", "@x 10m"))
        );
        assert_eq!(
            split_command("  /help", "/", false, "bot"),
            Some(("help", ""))
        );
        assert_eq!(
            split_command("@bot /help me", "/", true, "bot"),
            Some(("help", "me"))
        );
        assert_eq!(split_command("@bot /help me", "/", false, "bot"), None);
        assert_eq!(
            split_command("/help@bot", "/", false, "bot"),
            Some(("help", ""))
        );
        assert_eq!(split_command("/help@other", "/", false, "bot"), None);
        assert_eq!(split_command("hello", "/", false, "bot"), None);
        assert_eq!(split_command("/", "/", false, "bot"), None);
        assert_eq!(
            split_command("!ping", "!", false, "bot"),
            Some(("ping", ""))
        );
    }
}
