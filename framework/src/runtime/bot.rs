//! [`Bot`]: builder, dispatcher and `run()`.
//!
//! # Concurrency and ordering
//! - Every event has a lane: its conversation ([`Event::conversation_id`]); events without a
//!   conversation share one global lane. Events of one lane are handled one after the other,
//!   in the order the session delivered them (per conversation: seq order).
//! - Different lanes run concurrently, at most [`BotBuilder::max_concurrency`] events at once.
//! - Each lane has a bounded queue ([`BotBuilder::lane_capacity`]). When a lane's queue is
//!   full the dispatcher waits and stops reading from the session, whose own bounded channel
//!   then fills: backpressure instead of unbounded memory.
//!
//! # Acknowledgement
//! A [`Delivery`] is acknowledged after its whole chain (middleware and every handler)
//! finished — also when a handler failed or panicked: the error is reported to the hooks and
//! not retried, so one poisonous message cannot block its conversation forever. Events that
//! were queued but not started when the bot stops are not acknowledged: the session delivers
//! them again after a restart (each carries its idempotency key).
//!
//! # Shutdown
//! [`Bot::run`] returns after Ctrl-C or SIGTERM (unless disabled), [`ShutdownHandle::shutdown`],
//! [`Context::shutdown`] or the end of the event source. Running handlers finish first; then
//! the session is shut down (ledger flushed).

use std::collections::HashMap;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures::FutureExt;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::client::Client;
use crate::config::SessionConfig;
use crate::delivery::Delivery;
use crate::event::Event;
use crate::runtime::context::{Context, Shared};
use crate::runtime::dialogue::{DialogueError, DialogueStorage, SledDialogueStorage};
use crate::runtime::error::{ErrorHook, FrameworkError};
use crate::runtime::handler::{CommandInfo, EventHandler};
use crate::runtime::help::HelpHandler;
use crate::runtime::middleware::{Middleware, Next, TracingLayer};
use crate::runtime::outbox::{MessageSender, Throttle};
use crate::runtime::router::{Router, panic_message};
use crate::session::{Session, SessionError};

/// Where events come from: the [`Session`], or anything else (tests, replays).
#[async_trait]
pub trait EventSource: Send + 'static {
    /// The next delivery, `None` when the source ended.
    async fn next(&mut self) -> Option<Delivery>;

    /// Called once when the bot stops (flush, close).
    async fn close(&mut self) -> Result<(), BotError> {
        Ok(())
    }
}

#[async_trait]
impl EventSource for mpsc::Receiver<Delivery> {
    async fn next(&mut self) -> Option<Delivery> {
        self.recv().await
    }
}

struct SessionSource(Option<Session>);

#[async_trait]
impl EventSource for SessionSource {
    async fn next(&mut self) -> Option<Delivery> {
        match &mut self.0 {
            Some(s) => s.next().await,
            None => None,
        }
    }

    async fn close(&mut self) -> Result<(), BotError> {
        if let Some(session) = self.0.take() {
            session.shutdown().await?;
        }
        Ok(())
    }
}

/// Errors of building or running a bot.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BotError {
    /// The session failed to start or stop.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The default dialogue storage could not be opened.
    #[error(transparent)]
    Dialogue(#[from] DialogueError),
    /// Invalid builder settings.
    #[error("invalid bot configuration: {0}")]
    Config(String),
    /// [`Bot::handle`] needs a bot built from a session or source (its client is known).
    #[error("the bot has no client yet: it is built from a config and starts its session in run()")]
    NotStarted,
    /// The server ended the session ([`Bot::run`] stops: the SDKs stay offline then too). A
    /// supervisor that restarts on failure should see it as one.
    #[error("the server ended the session: {0}")]
    SessionEnded(SessionEnd),
}

/// Why the server ended a bot's session ([`BotError::SessionEnded`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionEnd {
    /// Another client logged in as the bot's user on the same platform, or an admin forced
    /// it offline ([`Event::KickedOffline`]).
    KickedOffline,
    /// The token expired and was not renewed (no admin secret, or the renewal failed;
    /// [`Event::UserTokenExpired`]).
    TokenExpired,
    /// The server refused the token and it could not be renewed ([`Event::UserTokenInvalid`]).
    TokenInvalid {
        /// OpenIM error code (1502..=1507).
        code: i32,
        /// The server's message.
        message: String,
    },
}

impl SessionEnd {
    /// The end an event announces, if it ends the session.
    fn of(event: &Event) -> Option<SessionEnd> {
        match event {
            Event::KickedOffline(_) => Some(SessionEnd::KickedOffline),
            Event::UserTokenExpired(e) if !e.renewed => Some(SessionEnd::TokenExpired),
            Event::UserTokenInvalid(e) if !e.renewed => Some(SessionEnd::TokenInvalid {
                code: e.err_code,
                message: e.err_msg.clone(),
            }),
            _ => None,
        }
    }
}

impl fmt::Display for SessionEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionEnd::KickedOffline => f.write_str(
                "kicked offline (another client logged in as this user on the same platform, or \
                 an admin forced a logout)",
            ),
            SessionEnd::TokenExpired => f.write_str(
                "the token expired and was not renewed (renewing needs the admin secret; with \
                 one, the renewal failed: see the log)",
            ),
            SessionEnd::TokenInvalid { code, message } => {
                write!(f, "the token was refused (errCode {code}: {message})")
            }
        }
    }
}

enum SourceSpec {
    Config(Box<SessionConfig>),
    Ready {
        source: Box<dyn EventSource>,
        client: Client,
    },
}

/// Builds a [`Bot`]. Defaults: tracing on, help command `/help` on, Ctrl-C handled,
/// max concurrency 64, lane capacity 64, dialogue timeout 30 min, dialogues in the sled store.
pub struct BotBuilder {
    source: SourceSpec,
    handlers: Vec<Arc<dyn EventHandler>>,
    middleware: Vec<Arc<dyn Middleware>>,
    tracing: bool,
    help: bool,
    ctrl_c: bool,
    throttle: Option<Throttle>,
    sender: Option<Arc<dyn MessageSender>>,
    dialogue_storage: Option<Arc<dyn DialogueStorage>>,
    dialogue_timeout: Option<Duration>,
    max_concurrency: usize,
    lane_capacity: usize,
    on_error: Option<Arc<dyn ErrorHook>>,
}

impl fmt::Debug for BotBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BotBuilder")
            .field("handlers", &self.handlers.len())
            .field("middleware", &self.middleware.len())
            .finish_non_exhaustive()
    }
}

impl BotBuilder {
    fn new(source: SourceSpec) -> BotBuilder {
        BotBuilder {
            source,
            handlers: Vec::new(),
            middleware: Vec::new(),
            tracing: true,
            help: true,
            ctrl_c: true,
            throttle: None,
            sender: None,
            dialogue_storage: None,
            dialogue_timeout: Some(Duration::from_secs(30 * 60)),
            max_concurrency: 64,
            lane_capacity: 64,
            on_error: None,
        }
    }

    /// A bot on an already started session.
    pub fn from_session(session: Session) -> BotBuilder {
        let client = session.client();
        BotBuilder::new(SourceSpec::Ready {
            source: Box::new(SessionSource(Some(session))),
            client,
        })
    }

    /// A bot on any event source; `client` is used for actions and the store.
    pub fn from_source(source: impl EventSource, client: Client) -> BotBuilder {
        BotBuilder::new(SourceSpec::Ready {
            source: Box::new(source),
            client,
        })
    }

    /// Adds a handler. Every handler sees every event, in the order they were added.
    pub fn handler(mut self, handler: impl EventHandler) -> BotBuilder {
        self.handlers.push(Arc::new(handler));
        self
    }

    /// Adds a shared handler.
    pub fn handler_arc(mut self, handler: Arc<dyn EventHandler>) -> BotBuilder {
        self.handlers.push(handler);
        self
    }

    /// Adds a middleware; the first added is the outermost (see [`middleware`](crate::runtime::middleware)).
    pub fn middleware(mut self, middleware: impl Middleware) -> BotBuilder {
        self.middleware.push(Arc::new(middleware));
        self
    }

    /// Enables or disables the built-in [`TracingLayer`] (on by default, outermost).
    pub fn tracing(mut self, on: bool) -> BotBuilder {
        self.tracing = on;
        self
    }

    /// Enables or disables the generated `/help` command (on by default; a handler's own
    /// `help` command takes precedence).
    pub fn help(mut self, on: bool) -> BotBuilder {
        self.help = on;
        self
    }

    /// Stop on Ctrl-C and, on Unix, SIGTERM (on by default).
    pub fn handle_ctrl_c(mut self, on: bool) -> BotBuilder {
        self.ctrl_c = on;
        self
    }

    /// Paces outgoing messages (per conversation and global rates, order kept per conversation).
    pub fn throttle(mut self, throttle: Throttle) -> BotBuilder {
        self.throttle = Some(throttle);
        self
    }

    /// Sends through `sender` instead of the client (tests, proxies). The throttle still applies.
    pub fn sender(mut self, sender: impl MessageSender) -> BotBuilder {
        self.sender = Some(Arc::new(sender));
        self
    }

    /// Where dialogue states live (default: the `dialogues` tree of the sled store).
    pub fn dialogue_storage(mut self, storage: impl DialogueStorage) -> BotBuilder {
        self.dialogue_storage = Some(Arc::new(storage));
        self
    }

    /// Dialogues without activity for this long are forgotten (`None` = never; default 30 min).
    pub fn dialogue_timeout(mut self, timeout: Option<Duration>) -> BotBuilder {
        self.dialogue_timeout = timeout;
        self
    }

    /// At most this many events are handled at the same time (default 64).
    pub fn max_concurrency(mut self, n: usize) -> BotBuilder {
        self.max_concurrency = n;
        self
    }

    /// Queue length per conversation lane (default 64).
    pub fn lane_capacity(mut self, n: usize) -> BotBuilder {
        self.lane_capacity = n;
        self
    }

    /// The global error hook: gets what the handlers' hooks pass on. A closure takes the
    /// context by value (give the parameters' types: the compiler cannot infer them here);
    /// returning the error passes it on to the default handler, which answers users' mistakes
    /// and logs the rest.
    ///
    /// ```no_run
    /// use openim_bot::prelude::*;
    ///
    /// # fn configure(builder: BotBuilder) -> BotBuilder {
    /// builder.on_error(|ctx: Context, error: FrameworkError| async move {
    ///     eprintln!("in {:?}: {error}", ctx.conversation());
    ///     Err(error)
    /// })
    /// # }
    /// ```
    pub fn on_error(mut self, hook: impl ErrorHook) -> BotBuilder {
        self.on_error = Some(Arc::new(hook));
        self
    }

    /// Checks the settings and builds the bot.
    pub fn build(self) -> Result<Bot, BotError> {
        if self.max_concurrency == 0 {
            return Err(BotError::Config(
                "max_concurrency must be at least 1".into(),
            ));
        }
        if self.lane_capacity == 0 {
            return Err(BotError::Config("lane_capacity must be at least 1".into()));
        }
        let mut commands: Vec<CommandInfo> = Vec::new();
        for h in &self.handlers {
            for c in h.commands() {
                for name in std::iter::once(&c.name).chain(c.aliases.iter()) {
                    if let Some(other) = commands
                        .iter()
                        .find(|o| o.prefix == c.prefix && o.answers_to(name))
                    {
                        return Err(BotError::Config(format!(
                            "command {}{name} is defined twice (also {}{})",
                            c.prefix, other.prefix, other.name
                        )));
                    }
                }
                commands.push(*c);
            }
        }
        let mut handlers = self.handlers;
        let has_help = commands.iter().any(|c| c.answers_to("help"));
        if self.help && !has_help {
            handlers.push(Arc::new(HelpHandler));
        }
        let mut middleware: Vec<Arc<dyn Middleware>> = Vec::new();
        if self.tracing {
            middleware.push(Arc::new(TracingLayer));
        }
        middleware.extend(self.middleware);
        let chain = Arc::new(Chain {
            middleware,
            router: Router {
                handlers,
                global_hook: self.on_error,
            },
        });
        let settings = Settings {
            throttle: self.throttle,
            sender: self.sender,
            dialogue_storage: self.dialogue_storage,
            dialogue_timeout: self.dialogue_timeout,
            max_concurrency: self.max_concurrency,
            lane_capacity: self.lane_capacity,
            ctrl_c: self.ctrl_c,
            commands,
        };
        let shutdown = CancellationToken::new();
        let mut bot = Bot {
            source: Some(self.source),
            chain,
            settings,
            shutdown,
            shared: None,
            ready: tokio::sync::watch::Sender::new(false),
        };
        if let Some(SourceSpec::Ready { client, .. }) = &bot.source {
            let client = client.clone();
            bot.shared = Some(bot.make_shared(client)?);
        }
        Ok(bot)
    }
}

struct Settings {
    throttle: Option<Throttle>,
    sender: Option<Arc<dyn MessageSender>>,
    dialogue_storage: Option<Arc<dyn DialogueStorage>>,
    dialogue_timeout: Option<Duration>,
    max_concurrency: usize,
    lane_capacity: usize,
    ctrl_c: bool,
    commands: Vec<CommandInfo>,
}

struct Chain {
    middleware: Vec<Arc<dyn Middleware>>,
    router: Router,
}

impl Chain {
    async fn run(&self, ctx: &Context, event: &Event) {
        let next = Next {
            middleware: &self.middleware,
            router: &self.router,
        };
        match AssertUnwindSafe(next.run(ctx, event)).catch_unwind().await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => self.router.global_error(ctx, error).await,
            Err(payload) => {
                let error = FrameworkError::Panic {
                    handler: "middleware".into(),
                    message: panic_message(&*payload),
                };
                self.router.global_error(ctx, error).await;
            }
        }
    }
}

/// Stops a running bot from anywhere.
#[derive(Debug, Clone)]
pub struct ShutdownHandle(CancellationToken);

impl ShutdownHandle {
    /// Requests the stop: no new events start, running handlers finish, `run()` returns.
    pub fn shutdown(&self) {
        self.0.cancel();
    }

    /// True once requested.
    pub fn is_shutdown(&self) -> bool {
        self.0.is_cancelled()
    }
}

/// Waits for a running bot's first sync (see [`Bot::ready_handle`]).
#[derive(Debug, Clone)]
pub struct ReadyHandle(tokio::sync::watch::Receiver<bool>);

impl ReadyHandle {
    /// Resolves once the bot's first sync with the server finished (its first
    /// [`Event::SyncServerFinish`] reached it): a message sent from then on reaches the
    /// handlers. One sent before may not: on a first start the history is not replayed (see
    /// EVENTS.md). Returns `false` if the bot stopped first. A test awaits this before it
    /// sends the bot anything.
    pub async fn wait(&mut self) -> bool {
        self.0.wait_for(|ready| *ready).await.is_ok()
    }

    /// Whether the first sync finished.
    pub fn is_ready(&self) -> bool {
        *self.0.borrow()
    }
}

/// A bot: handlers and middleware on an event source. See the module docs for ordering,
/// concurrency, acknowledgement and shutdown.
///
/// ```no_run
/// use openim_bot::prelude::*;
///
/// struct Ping;
///
/// #[openim_bot::handler]
/// impl Ping {
///     /// Answers pong.
///     #[command]
///     async fn ping(&self, ctx: &Context) -> HandlerResult {
///         ctx.reply("pong").await?;
///         Ok(())
///     }
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let bot = Bot::builder(SessionConfig::from_env()?).handler(Ping).build()?;
/// println!("{}", bot.routes());
/// bot.run().await?;
/// # Ok(()) }
/// ```
pub struct Bot {
    source: Option<SourceSpec>,
    chain: Arc<Chain>,
    settings: Settings,
    shutdown: CancellationToken,
    shared: Option<Arc<Shared>>,
    /// Set when the first sync finished (see [`ReadyHandle`]).
    ready: tokio::sync::watch::Sender<bool>,
}

impl fmt::Debug for Bot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bot")
            .field("handlers", &self.chain.router.handlers.len())
            .field("middleware", &self.chain.middleware.len())
            .finish_non_exhaustive()
    }
}

struct Lane {
    tx: mpsc::Sender<Delivery>,
    in_flight: Arc<AtomicUsize>,
}

impl Bot {
    /// A builder for a bot that starts its own session from `config` in [`run`](Bot::run).
    pub fn builder(config: SessionConfig) -> BotBuilder {
        BotBuilder::new(SourceSpec::Config(Box::new(config)))
    }

    fn make_shared(&self, client: Client) -> Result<Arc<Shared>, BotError> {
        let base: Arc<dyn MessageSender> = match &self.settings.sender {
            Some(s) => s.clone(),
            None => Arc::new(client.clone()),
        };
        let sender: Arc<dyn MessageSender> = match &self.settings.throttle {
            Some(t) => Arc::new(t.clone().wrap(base)),
            None => base,
        };
        let dialogues: Arc<dyn DialogueStorage> = match &self.settings.dialogue_storage {
            Some(s) => s.clone(),
            None => Arc::new(SledDialogueStorage::from_store(client.store())?),
        };
        Ok(Arc::new(Shared {
            client,
            sender,
            dialogues,
            dialogue_timeout: self.settings.dialogue_timeout,
            cooldowns: Default::default(),
            shutdown: self.shutdown.clone(),
            commands: self.settings.commands.clone(),
        }))
    }

    /// A handle to stop the running bot.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.shutdown.clone())
    }

    /// A handle to await the running bot's first sync ([`ReadyHandle::wait`]).
    ///
    /// ```no_run
    /// # async fn f(bot: openim_bot::runtime::Bot) {
    /// let mut ready = bot.ready_handle();
    /// let running = tokio::spawn(bot.run());
    /// if ready.wait().await {
    ///     // the bot receives what is sent from now on
    /// }
    /// # let _ = running.await;
    /// # }
    /// ```
    pub fn ready_handle(&self) -> ReadyHandle {
        ReadyHandle(self.ready.subscribe())
    }

    /// The routing table: for every route, event → filters → middleware → handler.
    pub fn routes(&self) -> RoutingTable {
        let middleware: Vec<String> = self.chain.middleware.iter().map(|m| m.describe()).collect();
        let mut rows = Vec::new();
        for h in &self.chain.router.handlers {
            let routes = h.routes();
            if routes.is_empty() {
                rows.push(RouteRow {
                    event: "*".into(),
                    matcher: "every event (EventHandler methods)".into(),
                    filters: String::new(),
                    handler: format!("{}::dispatch", h.name()),
                });
            }
            for r in routes {
                rows.push(RouteRow {
                    event: r.event.into(),
                    matcher: r.matcher.into(),
                    filters: r.filters.into(),
                    handler: format!("{}::{}", h.name(), r.method),
                });
            }
        }
        let dialogues = match (&self.settings.dialogue_storage, &self.shared) {
            (Some(s), _) => s.name(),
            (None, Some(s)) => s.dialogues.name(),
            (None, None) => "sled",
        };
        RoutingTable {
            rows,
            middleware,
            throttle: self.settings.throttle.as_ref().map(Throttle::describe),
            dialogues,
            max_concurrency: self.settings.max_concurrency,
            lane_capacity: self.settings.lane_capacity,
        }
    }

    /// Handles one event through the whole chain, inline (tests, benchmarks, replays). Needs a
    /// bot built with [`BotBuilder::from_source`] or [`BotBuilder::from_session`].
    pub async fn handle(&self, event: Event) -> Result<(), BotError> {
        let shared = self.shared.clone().ok_or(BotError::NotStarted)?;
        let event = Arc::new(event);
        let ctx = Context::new(shared, event.clone());
        self.chain.run(&ctx, &event).await;
        Ok(())
    }

    /// Runs until Ctrl-C, a shutdown request or the end of the source. Running handlers finish
    /// before it returns; then the session is shut down.
    pub async fn run(mut self) -> Result<(), BotError> {
        let (mut source, shared) = match self.source.take() {
            Some(SourceSpec::Config(config)) => {
                let session = Session::start(*config).await?;
                let client = session.client();
                let shared = self.make_shared(client)?;
                let source: Box<dyn EventSource> = Box::new(SessionSource(Some(session)));
                (source, shared)
            }
            Some(SourceSpec::Ready { source, client }) => {
                let shared = match self.shared.clone() {
                    Some(s) => s,
                    None => self.make_shared(client)?,
                };
                (source, shared)
            }
            None => return Err(BotError::Config("run() called twice".into())),
        };
        tracing::info!(bot = %shared.client.user_id(), routes = self.routes().len(), "bot running");
        tracing::debug!("{}", self.routes());
        let token = self.shutdown.clone();
        let semaphore = Arc::new(Semaphore::new(self.settings.max_concurrency));
        // Conversation lanes by conversation ID; events without a conversation share `global`.
        let mut lanes: HashMap<String, Lane> = HashMap::new();
        let mut global: Option<Lane> = None;
        let mut tasks = JoinSet::new();
        let mut prune_at = 1024usize;
        let ctrl_c = self.settings.ctrl_c;
        let ctrl_c_signal = async {
            if ctrl_c {
                stop_signal().await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::pin!(ctrl_c_signal);
        // Set by the event that announced the end of the session, if it ended that way.
        let mut ended = None;
        let mut source_ended = false;

        loop {
            let delivery = tokio::select! {
                biased;
                _ = token.cancelled() => break,
                _ = &mut ctrl_c_signal => {
                    tracing::info!("stop signal: finishing running handlers");
                    token.cancel();
                    break;
                }
                next = source.next() => match next {
                    Some(d) => d,
                    None => {
                        source_ended = true;
                        break;
                    }
                },
            };
            if matches!(delivery.event, Event::SyncServerFinish(_)) {
                self.ready.send_replace(true);
            }
            if let Some(end) = SessionEnd::of(&delivery.event) {
                tracing::error!(reason = %end, "the server ended the session");
                ended = Some(end);
            }
            let mut new_lane = || {
                let (tx, rx) = mpsc::channel(self.settings.lane_capacity);
                let in_flight = Arc::new(AtomicUsize::new(0));
                tasks.spawn(lane_task(
                    rx,
                    in_flight.clone(),
                    self.chain.clone(),
                    shared.clone(),
                    semaphore.clone(),
                    token.clone(),
                ));
                Lane { tx, in_flight }
            };
            // Looked up by &str first: no key allocation for a conversation already running.
            let lane = match delivery.event.conversation_id() {
                None => global.get_or_insert_with(new_lane),
                Some(conv) => {
                    if !lanes.contains_key(conv) {
                        lanes.insert(conv.to_owned(), new_lane());
                    }
                    match lanes.get_mut(conv) {
                        Some(lane) => lane,
                        None => {
                            // Cannot happen (inserted just above); never drop silently.
                            tracing::error!(conv, "lane missing; event not handled");
                            continue;
                        }
                    }
                }
            };
            lane.in_flight.fetch_add(1, Ordering::SeqCst);
            // Room in the lane's queue (the usual case): no waiting, so no select on the stop
            // token either.
            let delivery = match lane.tx.try_send(delivery) {
                Ok(()) => None,
                Err(mpsc::error::TrySendError::Full(d)) => Some(d),
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    tracing::error!("lane task ended unexpectedly; event not handled");
                    None
                }
            };
            if let Some(delivery) = delivery {
                let tx = lane.tx.clone();
                tokio::select! {
                    sent = tx.send(delivery) => {
                        if sent.is_err() {
                            tracing::error!("lane task ended unexpectedly; event not handled");
                        }
                    }
                    _ = token.cancelled() => break,
                }
            }
            // Forget idle lanes (nothing queued or running) so memory follows the active
            // conversations only.
            if lanes.len() >= prune_at {
                lanes.retain(|_, lane| lane.in_flight.load(Ordering::SeqCst) > 0);
                prune_at = (lanes.len() * 2).max(1024);
            }
            while let Some(done) = tasks.try_join_next() {
                if let Err(e) = done {
                    tracing::error!(error = %e, "lane task failed");
                }
            }
        }
        drop(lanes);
        drop(global);
        while let Some(done) = tasks.join_next().await {
            if let Err(e) = done {
                tracing::error!(error = %e, "lane task failed");
            }
        }
        source.close().await?;
        if let (true, Some(end)) = (source_ended, ended) {
            return Err(BotError::SessionEnded(end));
        }
        tracing::info!("bot stopped");
        Ok(())
    }
}

/// Ctrl-C, or on Unix also SIGTERM (containers, CI). Never resolves if no handler can be
/// installed.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                r = tokio::signal::ctrl_c() => {
                    if r.is_err() {
                        term.recv().await;
                    }
                }
                _ = term.recv() => {}
            }
            return;
        }
    }
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn lane_task(
    mut rx: mpsc::Receiver<Delivery>,
    in_flight: Arc<AtomicUsize>,
    chain: Arc<Chain>,
    shared: Arc<Shared>,
    semaphore: Arc<Semaphore>,
    token: CancellationToken,
) {
    while let Some(Delivery { event, ack }) = rx.recv().await {
        if token.is_cancelled() {
            // Not started: left unacknowledged, so it is delivered again after a restart.
            drop(ack);
            in_flight.fetch_sub(1, Ordering::SeqCst);
            continue;
        }
        let permit = semaphore.acquire().await;
        let event = Arc::new(event);
        let ctx = Context::new(shared.clone(), event.clone());
        chain.run(&ctx, &event).await;
        ack.ack();
        drop(permit);
        in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

struct RouteRow {
    event: String,
    matcher: String,
    filters: String,
    handler: String,
}

/// The printable routing table of a bot ([`Bot::routes`]): one line per route,
/// `event → matcher [filters] → middleware → handler::method`.
pub struct RoutingTable {
    rows: Vec<RouteRow>,
    middleware: Vec<String>,
    throttle: Option<String>,
    dialogues: &'static str,
    max_concurrency: usize,
    lane_capacity: usize,
}

impl RoutingTable {
    /// Number of routes.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True without routes.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl fmt::Debug for RoutingTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for RoutingTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let middleware = if self.middleware.is_empty() {
            "(no middleware)".to_string()
        } else {
            self.middleware.join(" → ")
        };
        writeln!(
            f,
            "routing table ({} routes; lanes: per conversation, capacity {}, max {} concurrent; dialogues: {}; outgoing throttle: {})",
            self.rows.len(),
            self.lane_capacity,
            self.max_concurrency,
            self.dialogues,
            self.throttle.as_deref().unwrap_or("none"),
        )?;
        let ew = self.rows.iter().map(|r| r.event.len()).max().unwrap_or(0);
        let mw = self
            .rows
            .iter()
            .map(|r| {
                r.matcher.len()
                    + if r.filters.is_empty() {
                        0
                    } else {
                        r.filters.len() + 3
                    }
            })
            .max()
            .unwrap_or(0);
        for r in &self.rows {
            let matcher = if r.filters.is_empty() {
                r.matcher.clone()
            } else {
                format!("{} [{}]", r.matcher, r.filters)
            };
            writeln!(
                f,
                "  {:ew$} → {:mw$} → {} → panic isolation → {}",
                r.event, matcher, middleware, r.handler
            )?;
        }
        Ok(())
    }
}
