//! Regex and keyword matchers: captures become typed arguments.
//!
//! Try: `12 * 3`, `convert 10 km to miles`, `Good morning!`, `thanks`.
//! Configured by `OPENIM_*` (see `echo`).

use openim_bot::prelude::*;

/// Arithmetic and small talk by pattern.
pub struct Patterns;

#[openim_bot::handler]
impl Patterns {
    /// `a op b` with op one of + - * /.
    #[regex(r"^\s*(-?\d+)\s*([-+*/])\s*(-?\d+)\s*$")]
    async fn arithmetic(&self, ctx: &Context, a: i64, op: String, b: i64) -> HandlerResult {
        let result = match op.as_str() {
            "+" => a.checked_add(b),
            "-" => a.checked_sub(b),
            "*" => a.checked_mul(b),
            _ => a.checked_div(b),
        };
        match result {
            Some(r) => ctx.reply(format!("{a} {op} {b} = {r}")).await?,
            None => ctx.reply("I cannot compute that.").await?,
        };
        Ok(())
    }

    /// `convert 10 km to miles` (named groups fill the parameters of the same name).
    #[regex(r"(?i)^convert (?P<amount>\d+(?:\.\d+)?) ?(?P<from>km|mi)\b.*$")]
    async fn convert(&self, ctx: &Context, from: String, amount: f64) -> HandlerResult {
        let text = match from.to_lowercase().as_str() {
            "km" => format!("{amount} km = {:.2} miles", amount * 0.621_371),
            _ => format!("{amount} miles = {:.2} km", amount / 0.621_371),
        };
        ctx.reply(text).await?;
        Ok(())
    }

    #[starts_with("good morning", "morning", ignore_case)]
    async fn morning(&self, ctx: &Context, msg: &Message) -> HandlerResult {
        ctx.reply(format!("Good morning, {}!", msg.sender_nickname))
            .await?;
        Ok(())
    }

    #[equals("thanks", "thank you", ignore_case, cooldown = "30s")]
    async fn thanks(&self, ctx: &Context) -> HandlerResult {
        ctx.reply("You're welcome!").await?;
        Ok(())
    }
}

/// The bot's setup, shared with the tests.
pub fn configure(builder: BotBuilder) -> BotBuilder {
    builder.handler(Patterns)
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
