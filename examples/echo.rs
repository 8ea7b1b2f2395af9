//! Echo bot: replies to every private text with the same text, and in groups when the bot is
//! @-mentioned.
//!
//! Configured by the `OPENIM_*` environment variables (see `SessionConfig::from_env`), e.g.
//! against a local sandbox:
//!
//! ```sh
//! OPENIM_API_ADDR=http://127.0.0.1:10002 OPENIM_WS_ADDR=ws://127.0.0.1:10001 \
//! OPENIM_USER_ID=echo_bot OPENIM_SECRET=openIM123 cargo run -p openim-bot --example echo
//! ```

use openim_bot::prelude::*;

/// The echo handler.
pub struct Echo;

#[openim_bot::handler]
impl Echo {
    /// Any private text: send it back.
    #[regex(r"(?s)^(.+)$", private_only)]
    async fn private_text(&self, ctx: &Context, text: String) -> HandlerResult {
        ctx.reply(text).await?;
        Ok(())
    }

    /// A group message that @-mentions the bot: send its text back to the group.
    #[mentions_me(group_only)]
    async fn mentioned(&self, ctx: &Context, msg: &Message) -> HandlerResult {
        if let Some(text) = msg.text().filter(|t| !t.is_empty()) {
            ctx.reply(text).await?;
        }
        Ok(())
    }
}

/// The bot's setup, shared with the tests: the echo handler, no `/help` (every text is echoed).
pub fn configure(builder: BotBuilder) -> BotBuilder {
    builder.handler(Echo).help(false)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = SessionConfig::from_env()?;
    let bot = configure(Bot::builder(config)).build()?;
    println!("{}", bot.routes());
    bot.run().await?;
    Ok(())
}
