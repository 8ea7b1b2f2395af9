//! The generated `/help` command: lists every command of every handler (from their doc
//! comments), `/help <command>` shows one command's usage and full documentation.

use async_trait::async_trait;

use crate::event::Event;
use crate::runtime::context::Context;
use crate::runtime::error::FrameworkError;
use crate::runtime::handler::{CommandInfo, EventHandler, RouteInfo};
use crate::runtime::private::split_command;

pub(crate) struct HelpHandler;

static ROUTES: [RouteInfo; 1] = [RouteInfo {
    event: "NewMessage",
    matcher: "command /help [command]",
    filters: "",
    method: "help",
}];

/// Doc-comment text as a chat shows it: Markdown's code marks (`` ` ``) would show as they
/// are.
fn plain(doc: &str) -> String {
    doc.replace('`', "")
}

/// The restrictions of a command, as a list (empty when anyone may use it anywhere).
fn limits(c: &CommandInfo) -> Vec<&'static str> {
    let mut limits = Vec::new();
    if c.group_only {
        limits.push("groups only");
    }
    if c.private_only {
        limits.push("private chats only");
    }
    if c.admin_only {
        limits.push("group owner/admins only");
    }
    limits
}

/// The text of `/help` (all visible commands, each with its restrictions).
pub fn help_text(commands: &[CommandInfo]) -> String {
    let mut text = String::from("Commands:");
    for c in commands.iter().filter(|c| !c.hidden) {
        text.push_str(&format!("\n{}", c.usage));
        if !c.description.is_empty() {
            text.push_str(&format!(" — {}", plain(c.description)));
        }
        let limits = limits(c);
        if !limits.is_empty() {
            text.push_str(&format!(" ({})", limits.join(", ")));
        }
    }
    text.push_str("\n/help [command] — details about one command");
    text
}

/// The text of `/help <name>`, `None` if there is no such command.
pub fn command_help(commands: &[CommandInfo], name: &str) -> Option<String> {
    let c = commands.iter().find(|c| {
        let bare = name.strip_prefix(c.prefix).unwrap_or(name);
        c.answers_to(bare)
    })?;
    let mut text = format!("Usage: {}", c.usage);
    if !c.help.is_empty() {
        text.push_str(&format!("\n{}", plain(c.help)));
    }
    if !c.aliases.is_empty() {
        let aliases: Vec<String> = c
            .aliases
            .iter()
            .map(|a| format!("{}{a}", c.prefix))
            .collect();
        text.push_str(&format!("\nAliases: {}", aliases.join(", ")));
    }
    let limits = limits(c);
    if !limits.is_empty() {
        text.push_str(&format!("\nRestrictions: {}", limits.join(", ")));
    }
    Some(text)
}

#[async_trait]
impl EventHandler for HelpHandler {
    fn name(&self) -> &'static str {
        "help"
    }

    fn routes(&self) -> &'static [RouteInfo] {
        &ROUTES
    }

    async fn dispatch(&self, ctx: &Context, event: &Event) -> Result<(), FrameworkError> {
        let Event::NewMessage(msg) = event else {
            return Ok(());
        };
        if msg.is_self {
            return Ok(());
        }
        let Some(text) = msg.text() else {
            return Ok(());
        };
        let Some(("help", rest)) = split_command(text, "/", !msg.at_user_ids.is_empty(), ctx.me())
        else {
            return Ok(());
        };
        let rest = rest.trim();
        let reply = if rest.is_empty() {
            help_text(ctx.commands())
        } else {
            command_help(ctx.commands(), rest).unwrap_or_else(|| {
                format!("Unknown command {rest}. Send /help for the list of commands.")
            })
        };
        ctx.reply(reply).await?;
        Ok(())
    }
}
