//! A dialogue: a small order form as a per (user, conversation) state machine. The state is
//! persisted in the bot's sled store, so an order in progress survives a restart, and it is
//! forgotten after 10 minutes without an answer.
//!
//! Try: `/order`, then answer the questions; `/cancel` at any time.
//! Configured by `OPENIM_*` (see `echo`).

use openim_bot::prelude::*;
use serde::{Deserialize, Serialize};

/// The steps of the order form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OrderStep {
    /// Waiting for the pizza size.
    ChoosingSize,
    /// Waiting for the number of pizzas.
    ChoosingCount {
        /// Chosen size.
        size: String,
    },
    /// Waiting for the delivery address.
    GivingAddress {
        /// Chosen size.
        size: String,
        /// How many.
        count: u32,
    },
}

/// The order form.
pub struct PizzaOrder;

#[openim_bot::handler]
impl PizzaOrder {
    /// Starts a new order.
    #[command]
    async fn order(&self, ctx: &Context) -> HandlerResult {
        ctx.dialogue()?.set(&OrderStep::ChoosingSize).await?;
        ctx.reply("Which size: small, medium or large?").await?;
        Ok(())
    }

    /// Cancels the order in progress.
    #[command]
    async fn cancel(&self, ctx: &Context) -> HandlerResult {
        let dialogue = ctx.dialogue()?;
        if dialogue.get::<OrderStep>().await?.is_some() {
            dialogue.finish().await?;
            ctx.reply("Order cancelled.").await?;
        } else {
            ctx.reply("There is no order in progress.").await?;
        }
        Ok(())
    }

    /// Any other text: the answer to the current step, if an order is in progress.
    #[regex(r"(?s)^([^/].*)$")]
    async fn answer(&self, ctx: &Context, text: String) -> HandlerResult {
        let dialogue = ctx.dialogue()?;
        let Some(step) = dialogue.get::<OrderStep>().await? else {
            return Ok(());
        };
        let answer = text.trim().to_string();
        let text = answer.to_lowercase();
        match step {
            OrderStep::ChoosingSize => {
                if ["small", "medium", "large"].contains(&text.as_str()) {
                    dialogue
                        .set(&OrderStep::ChoosingCount { size: text })
                        .await?;
                    ctx.reply("How many?").await?;
                } else {
                    ctx.reply("Please answer small, medium or large.").await?;
                }
            }
            OrderStep::ChoosingCount { size } => match text.parse::<u32>() {
                Ok(count) if (1..=20).contains(&count) => {
                    dialogue
                        .set(&OrderStep::GivingAddress { size, count })
                        .await?;
                    ctx.reply("Where should we deliver?").await?;
                }
                _ => {
                    ctx.reply("Please answer a number from 1 to 20.").await?;
                }
            },
            OrderStep::GivingAddress { size, count } => {
                dialogue.finish().await?;
                ctx.reply(format!(
                    "Ordered {count} {size} pizza(s) to {answer}. Thank you!"
                ))
                .await?;
            }
        }
        Ok(())
    }
}

/// The bot's setup, shared with the tests.
pub fn configure(builder: BotBuilder) -> BotBuilder {
    builder
        .handler(PizzaOrder)
        .dialogue_timeout(Some(Duration::from_secs(600)))
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
