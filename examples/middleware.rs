//! Middleware: a custom before/after middleware (statistics and a keyword block that
//! short-circuits), the built-in anti-flood with a notice, bot-wide permissions, the outgoing
//! throttle, and a handler that panics without taking the bot down.
//!
//! Order: tracing (built-in) → Stats → NoSpoilers → AntiFlood → Permissions → handlers.
//! Configured by `OPENIM_*` (see `echo`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use openim_bot::prelude::*;

/// Counts events before and after the handlers.
#[derive(Default, Clone)]
pub struct Stats {
    /// Events that entered.
    pub seen: Arc<AtomicU64>,
    /// Events whose inner chain completed.
    pub completed: Arc<AtomicU64>,
}

#[async_trait]
impl Middleware for Stats {
    fn name(&self) -> &'static str {
        "stats"
    }

    async fn before(&self, _ctx: &Context, _event: &Event) -> Result<Flow, FrameworkError> {
        self.seen.fetch_add(1, Ordering::Relaxed);
        Ok(Flow::Continue)
    }

    async fn after(&self, _ctx: &Context, _event: &Event, _outcome: &Result<(), FrameworkError>) {
        self.completed.fetch_add(1, Ordering::Relaxed);
    }
}

/// Swallows messages containing "spoiler" and says so once.
pub struct NoSpoilers;

#[async_trait]
impl Middleware for NoSpoilers {
    fn name(&self) -> &'static str {
        "no_spoilers"
    }

    async fn before(&self, ctx: &Context, event: &Event) -> Result<Flow, FrameworkError> {
        if let Event::NewMessage(m) = event
            && !m.is_self
            && m.text()
                .is_some_and(|t| t.to_lowercase().contains("spoiler"))
        {
            ctx.reply("No spoilers here, please.").await?;
            return Ok(Flow::Stop);
        }
        Ok(Flow::Continue)
    }
}

/// The handler behind the middleware.
pub struct Chatty;

#[openim_bot::handler]
impl Chatty {
    /// Answers pong.
    #[command]
    async fn ping(&self, ctx: &Context) -> HandlerResult {
        ctx.reply("pong").await?;
        Ok(())
    }

    /// Panics on purpose: the panic is reported and the bot goes on.
    #[command(hidden)]
    async fn crash(&self, _ctx: &Context) -> HandlerResult {
        panic!("crash requested");
    }

    #[on_error]
    async fn errors(&self, ctx: &Context, error: FrameworkError) -> Result<(), FrameworkError> {
        if let FrameworkError::Panic { .. } = &error {
            ctx.reply("Oops, something broke. I'm still here.").await?;
            return Ok(());
        }
        Err(error)
    }
}

/// The bot's setup, shared with the tests.
pub fn configure(builder: BotBuilder, stats: Stats) -> BotBuilder {
    builder
        .handler(Chatty)
        .middleware(stats)
        .middleware(NoSpoilers)
        .middleware(
            AntiFlood::new()
                .per_user(Rate::new(5, Duration::from_secs(10)))
                .per_group(Rate::new(30, Duration::from_secs(10)))
                .notice("You are sending too fast; wait {wait}."),
        )
        .middleware(Permissions::new().deny_users(["blocked_user"]))
        .throttle(
            Throttle::new()
                .per_conversation(Rate::per_second(5))
                .global(Rate::per_second(50)),
        )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let bot = configure(Bot::builder(SessionConfig::from_env()?), Stats::default()).build()?;
    println!("{}", bot.routes());
    bot.run().await?;
    Ok(())
}
