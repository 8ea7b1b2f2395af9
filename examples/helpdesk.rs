//! Help desk: keyword auto-replies, one group moderation rule and a hand-off to a human agent.
//!
//! - **Keywords** (any chat): "opening hours" and "price" get a canned answer.
//! - **Moderation** (groups where the bot is owner or admin): a message advertising a
//!   "crypto giveaway" or "free money" is revoked and its sender muted for 10 minutes.
//! - **Hand-off** (private chats): a customer sends `/human`; the agent (`OPENIM_AGENT_ID`) is
//!   told, and from then on everything the customer writes is relayed to the agent, who answers
//!   with `/answer <user> <text>` and ends the hand-off with `/close <user>`. The hand-off is a
//!   dialogue in the bot's store, so it survives a restart; a [`Middleware`] does the relaying,
//!   so the keyword replies stay quiet while a human is talking.
//!
//! Configured by `OPENIM_*` (see `echo`) plus `OPENIM_AGENT_ID`:
//!
//! ```sh
//! OPENIM_API_ADDR=http://127.0.0.1:10002 OPENIM_WS_ADDR=ws://127.0.0.1:10001 \
//! OPENIM_USER_ID=desk_bot OPENIM_SECRET=openIM123 OPENIM_AGENT_ID=agent_ann \
//! cargo run -p openim-bot --example helpdesk
//! ```

use openim_bot::prelude::*;
use serde::{Deserialize, Serialize};

/// How long a spammer stays muted.
pub const SPAM_MUTE: Duration = Duration::from_secs(600);

/// The state of a customer's hand-off, stored per (customer, private chat with the bot).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HandOff {
    /// A human agent is talking to the customer.
    WithAgent,
}

/// The help desk's commands and matchers.
pub struct HelpDesk {
    /// User ID of the human agent.
    pub agent: String,
}

impl HelpDesk {
    /// The dialogue of `customer` in their private chat with the bot.
    fn hand_off(ctx: &Context, customer: &str) -> Dialogue {
        let conversation = Target::user(customer).conversation_id(ctx.me());
        ctx.dialogue_for(DialogueKey::new(conversation, customer))
    }

    /// Whether `msg` comes from the agent (agent-only commands ignore everybody else).
    fn is_agent(&self, msg: &Message) -> bool {
        msg.send_id == self.agent
    }
}

#[openim_bot::handler(prefix = "/")]
impl HelpDesk {
    /// Talk to a human: everything you write next goes to an agent.
    #[command(private_only)]
    async fn human(&self, ctx: &Context, msg: &Message) -> HandlerResult {
        if self.is_agent(msg) {
            ctx.reply("You are the agent.").await?;
            return Ok(());
        }
        ctx.dialogue()?.set(&HandOff::WithAgent).await?;
        let who = &msg.send_id;
        ctx.send(
            Target::user(&self.agent),
            format!(
                "{} ({who}) asks for a human. Answer with /answer {who} <text>, end with /close {who}.",
                msg.sender_nickname
            ),
        )
        .await?;
        ctx.reply("An agent will answer you here shortly.").await?;
        Ok(())
    }

    /// (agent) Answers a customer: `/answer alice Your parcel left today.`
    #[command(private_only, hidden)]
    async fn answer(
        &self,
        ctx: &Context,
        msg: &Message,
        customer: String,
        text: Rest,
    ) -> HandlerResult {
        if !self.is_agent(msg) {
            return Ok(());
        }
        if Self::hand_off(ctx, &customer)
            .get::<HandOff>()
            .await?
            .is_none()
        {
            ctx.reply(format!("{customer} has no open hand-off."))
                .await?;
            return Ok(());
        }
        ctx.send(Target::user(&customer), format!("Agent: {text}"))
            .await?;
        Ok(())
    }

    /// (agent) Ends a hand-off: `/close alice`.
    #[command(private_only, hidden)]
    async fn close(&self, ctx: &Context, msg: &Message, customer: String) -> HandlerResult {
        if !self.is_agent(msg) {
            return Ok(());
        }
        Self::hand_off(ctx, &customer).finish().await?;
        ctx.send(
            Target::user(&customer),
            "The agent closed this conversation. Write /human to talk to someone again.",
        )
        .await?;
        ctx.reply(format!("Closed {customer}.")).await?;
        Ok(())
    }

    /// Group spam: revoke it and mute the sender.
    #[regex(r"(?i)crypto giveaway|free money", group_only)]
    async fn spam(&self, ctx: &Context, msg: &Message) -> HandlerResult {
        let Some(group) = msg.group_id.as_deref() else {
            return Ok(());
        };
        ctx.client().revoke(&msg.conversation_id, msg.seq).await?;
        ctx.client().mute(group, &msg.send_id, SPAM_MUTE).await?;
        ctx.reply_mention("advertising is not allowed here: muted for 10 minutes.")
            .await?;
        Ok(())
    }

    /// Opening hours.
    #[contains("opening hours", ignore_case)]
    async fn hours(&self, ctx: &Context) -> HandlerResult {
        ctx.reply("We are open Monday to Friday, 9:00-17:00.")
            .await?;
        Ok(())
    }

    /// Prices.
    #[contains("price", ignore_case)]
    async fn prices(&self, ctx: &Context) -> HandlerResult {
        ctx.reply("Our price list: https://example.com/prices (or /human to ask someone).")
            .await?;
        Ok(())
    }
}

/// Relays a customer's private messages to the agent while a hand-off is open, and stops them
/// there (no keyword reply). `/human` and other commands still go through.
pub struct Relay {
    /// User ID of the human agent.
    pub agent: String,
}

#[async_trait]
impl Middleware for Relay {
    async fn before(&self, ctx: &Context, event: &Event) -> Result<Flow, FrameworkError> {
        let Event::NewMessage(msg) = event else {
            return Ok(Flow::Continue);
        };
        if msg.is_self || msg.is_group() || msg.send_id == self.agent {
            return Ok(Flow::Continue);
        }
        let Some(text) = msg.text().filter(|t| !t.starts_with('/')) else {
            return Ok(Flow::Continue);
        };
        if ctx.dialogue()?.get::<HandOff>().await?.is_none() {
            return Ok(Flow::Continue);
        }
        ctx.send(
            Target::user(&self.agent),
            format!("{} ({}): {text}", msg.sender_nickname, msg.send_id),
        )
        .await?;
        Ok(Flow::Stop)
    }
}

/// The bot's setup, shared with the tests.
pub fn configure(builder: BotBuilder, agent: &str) -> BotBuilder {
    builder
        .middleware(Relay {
            agent: agent.to_string(),
        })
        .handler(HelpDesk {
            agent: agent.to_string(),
        })
        // a hand-off nobody answers for a day is forgotten
        .dialogue_timeout(Some(Duration::from_secs(24 * 3600)))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let agent = std::env::var("OPENIM_AGENT_ID").map_err(|_| "set OPENIM_AGENT_ID")?;
    let bot = configure(Bot::builder(SessionConfig::from_env()?), &agent).build()?;
    println!("{}", bot.routes());
    bot.run().await?;
    Ok(())
}
