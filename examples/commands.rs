//! Commands with typed arguments: integers, durations, @-mentions, optional arguments and the
//! rest of the line, with the generated `/help` and usage errors.
//!
//! Try: `/add 2 40`, `/roll`, `/roll 20`, `/remind 10m stretch your legs`, `/whois @alice`,
//! `/add two 3` (usage error), `/help`, `/help remind`. Configured by `OPENIM_*` (see `echo`).

use openim_bot::prelude::*;

/// Calculator and utility commands.
#[derive(Default)]
pub struct Commands;

#[openim_bot::handler(prefix = "/")]
impl Commands {
    /// Adds two integers.
    ///
    /// Example: `/add 2 40`
    #[command(aliases("plus", "sum"))]
    async fn add(&self, ctx: &Context, a: i64, b: i64) -> HandlerResult {
        match a.checked_add(b) {
            Some(sum) => ctx.reply(format!("{a} + {b} = {sum}")).await?,
            None => ctx.reply("That sum is too large.").await?,
        };
        Ok(())
    }

    /// Rolls a die (6 sides unless you say otherwise).
    #[command]
    async fn roll(&self, ctx: &Context, msg: &Message, sides: Option<u32>) -> HandlerResult {
        let sides = sides.unwrap_or(6).max(1);
        // Deterministic "roll" from the message so the example is testable.
        let value = (msg.send_time.unsigned_abs() % u64::from(sides)) + 1;
        ctx.reply(format!("🎲 {value} (d{sides})")).await?;
        Ok(())
    }

    /// Sets a reminder: `/remind 10m stretch your legs`.
    #[command(cooldown = "2s")]
    async fn remind(&self, ctx: &Context, after: Duration, what: Rest) -> HandlerResult {
        if what.is_empty() {
            ctx.reply("Remind you of what? Usage: /remind <after> <what...>")
                .await?;
            return Ok(());
        }
        ctx.reply(format!(
            "OK, I will remind you in {} to {}.",
            humanize(after),
            what
        ))
        .await?;
        Ok(())
    }

    /// Shows the user ID of a mentioned user.
    #[command(group_only)]
    async fn whois(&self, ctx: &Context, user: Mention) -> HandlerResult {
        ctx.reply(format!("That is user {}.", user.user_id()))
            .await?;
        Ok(())
    }
}

fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        _ => format!("{}h{}m", s / 3600, (s % 3600) / 60),
    }
}

/// The bot's setup, shared with the tests.
pub fn configure(builder: BotBuilder) -> BotBuilder {
    builder.handler(Commands)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let bot = configure(Bot::builder(SessionConfig::from_env()?)).build()?;
    println!("{}", bot.routes());
    bot.run().await?;
    Ok(())
}
