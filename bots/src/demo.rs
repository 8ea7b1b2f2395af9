//! The `demo` subcommand, and the [`World`] it runs in (also used by the end-to-end tests).
//!
//! A [`World`] is an embedded [`Sandbox`] server, the bot account running every bundled bot on
//! a real [`Session`], and simulated users, each logged in with their own [`Session`] as an
//! OpenIM client would be. Users act through their own client (gateway sends, HTTP API calls);
//! what they receive is printed as a transcript and can be awaited ([`World::wait`]).

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{Datelike, Utc};
use openim_bot::event::Event;
use openim_bot::event::SyncServerFinish;
use openim_bot::message::Content;
use openim_bot::runtime::{Bot, BotError, EventHandler, HandlerResult, ShutdownHandle};
use openim_bot::{Client, SentMessage, Session, SessionConfig, Target};
use openim_sandbox::{Sandbox, SandboxConfig};
use serde_json::json;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

use crate::action::Action;
use crate::app::{SyncProgress, with_bots};
use crate::config::Config;
use crate::handlers::Observer;

/// The bot's user ID in the demo world.
pub const BOT: &str = "helper_bot";
/// How long [`World::wait`] waits by default.
pub const WAIT: Duration = Duration::from_secs(15);

/// Why the demo (or a world operation) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// The sandbox failed.
    #[error("sandbox: {0}")]
    Sandbox(String),
    /// A session (bot or user) failed.
    #[error("session of {user}: {error}")]
    Session {
        /// Whose session.
        user: String,
        /// What failed.
        error: String,
    },
    /// The bot's configuration was refused.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The bot failed to build or run.
    #[error("bot: {0}")]
    Bot(String),
    /// A user action failed.
    #[error("{user} could not {what}: {error}")]
    Action {
        /// Who acted.
        user: String,
        /// What they tried.
        what: String,
        /// The error.
        error: String,
    },
    /// Something expected did not happen in time.
    #[error("timed out after {0:?} waiting for: {1}")]
    Timeout(Duration, String),
    /// Writing the transcript or the data directory failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// One event received by a simulated user.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The user who received it.
    pub user: String,
    /// The event.
    pub event: Event,
}

impl Seen {
    /// The text of a message sent by `from` (any conversation), if this is one.
    pub fn text_from(&self, from: &str) -> Option<&str> {
        match &self.event {
            Event::NewMessage(m) | Event::OnlineOnlyMessage(m) if m.send_id == from => m.text(),
            _ => None,
        }
    }

    /// The text of a message from the bot in group `group` (as received by this user).
    pub fn bot_group_text(&self, group: &str) -> Option<&str> {
        match &self.event {
            Event::NewMessage(m) if m.send_id == BOT && m.group_id.as_deref() == Some(group) => {
                m.text()
            }
            _ => None,
        }
    }

    /// The text of a private message from the bot.
    pub fn bot_private_text(&self) -> Option<&str> {
        match &self.event {
            Event::NewMessage(m)
                if m.send_id == BOT && m.group_id.as_deref().is_none_or(str::is_empty) =>
            {
                m.text()
            }
            _ => None,
        }
    }
}

type Out = Arc<Mutex<Box<dyn Write + Send>>>;

struct SimUser {
    id: String,
    client: Client,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

struct RunningBot {
    shutdown: ShutdownHandle,
    task: JoinHandle<Result<(), BotError>>,
}

/// Runs after the bots: signals the end of the bot's first sync and records which messages
/// the bot has finished handling (by client message ID).
struct Probe {
    ready: Mutex<Option<oneshot::Sender<()>>>,
    handled: Arc<Mutex<HashSet<String>>>,
    notify: Arc<Notify>,
}

#[openim_bot::runtime::async_trait]
impl EventHandler for Probe {
    fn name(&self) -> &'static str {
        "demo_probe"
    }
    async fn on_sync_server_finish(
        &self,
        _: &openim_bot::runtime::Context,
        _: &SyncServerFinish,
    ) -> HandlerResult {
        if let Some(tx) = self.ready.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = tx.send(());
        }
        Ok(())
    }
    async fn on_new_message(
        &self,
        _: &openim_bot::runtime::Context,
        m: &openim_bot::Message,
    ) -> HandlerResult {
        self.handled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(m.client_msg_id.clone());
        self.notify.notify_waiters();
        Ok(())
    }
}

/// What bots did, as reported by the [`Observer`].
#[derive(Debug, Clone)]
pub struct DoneAction {
    /// Which bot.
    pub bot: &'static str,
    /// The action.
    pub action: Action,
    /// Its outcome (error text on failure).
    pub result: Result<(), String>,
}

/// The sandbox, the bot and the simulated users.
pub struct World {
    sandbox: Option<Sandbox>,
    dir: tempfile::TempDir,
    admin_token: String,
    bot_token: String,
    users: Vec<SimUser>,
    log: Arc<Mutex<Vec<Seen>>>,
    notify: Arc<Notify>,
    out: Out,
    printed: Arc<Mutex<HashSet<(String, i64)>>>,
    actions: Arc<Mutex<Vec<DoneAction>>>,
    handled: Arc<Mutex<HashSet<String>>>,
    bot: Option<RunningBot>,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("users", &self.users.len())
            .finish_non_exhaustive()
    }
}

/// How the transcript shows `user` sending `what` to `to`.
fn transcript_line(user: &str, to: &Target, what: &str) -> String {
    match to {
        Target::Group(g) => format!("{user} in #{g}: {what}"),
        Target::User(u) => format!("{user} → {u}: {what}"),
        _ => format!("{user}: {what}"),
    }
}

fn sandbox_err(e: impl std::fmt::Display) -> DemoError {
    DemoError::Sandbox(e.to_string())
}

impl World {
    /// Starts a sandbox and registers the bot account; transcript lines go to `out`.
    pub async fn start(out: impl Write + Send + 'static) -> Result<World, DemoError> {
        let sandbox = Sandbox::start(SandboxConfig::default())
            .await
            .map_err(sandbox_err)?;
        sandbox
            .register_user(BOT, "Helper Bot")
            .await
            .map_err(sandbox_err)?;
        let admin_token = sandbox.admin_token().await.map_err(sandbox_err)?;
        let bot_token = sandbox.user_token(BOT, 7).await.map_err(sandbox_err)?;
        Ok(World {
            sandbox: Some(sandbox),
            dir: tempfile::tempdir()?,
            admin_token,
            bot_token,
            users: Vec::new(),
            log: Arc::default(),
            notify: Arc::new(Notify::new()),
            out: Arc::new(Mutex::new(Box::new(out))),
            printed: Arc::default(),
            actions: Arc::default(),
            handled: Arc::default(),
            bot: None,
        })
    }

    /// The sandbox server.
    pub fn sandbox(&self) -> &Sandbox {
        // Present until `shutdown`, which consumes the world.
        self.sandbox
            .as_ref()
            .unwrap_or_else(|| unreachable!("sandbox taken before shutdown"))
    }

    /// Writes one transcript line.
    pub fn say(&self, line: impl AsRef<str>) {
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(out, "{}", line.as_ref());
        let _ = out.flush();
    }

    /// Calls an API route as the admin.
    pub async fn admin_call(
        &self,
        route: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, DemoError> {
        self.sandbox()
            .call(route, &self.admin_token, body)
            .await
            .map_err(sandbox_err)
    }

    /// Creates a group with a chosen ID (owner, admins, members).
    pub async fn create_group(
        &self,
        id: &str,
        name: &str,
        owner: &str,
        admins: &[&str],
        members: &[&str],
    ) -> Result<(), DemoError> {
        self.admin_call(
            "/group/create_group",
            json!({
                "ownerUserID": owner, "adminUserIDs": admins, "memberUserIDs": members,
                "groupInfo": {"groupID": id, "groupName": name, "groupType": 2, "needVerification": 0},
            }),
        )
        .await
        .map(|_| ())
    }

    /// Registers a user (not logged in).
    pub async fn register(&self, id: &str, nickname: &str) -> Result<(), DemoError> {
        self.sandbox()
            .register_user(id, nickname)
            .await
            .map_err(sandbox_err)
    }

    /// Registers (if needed) and logs in a simulated user with their own session.
    pub async fn login(&mut self, id: &str, nickname: &str) -> Result<(), DemoError> {
        let _ = self.register(id, nickname).await;
        let token = self
            .sandbox()
            .user_token(id, 5)
            .await
            .map_err(sandbox_err)?;
        let mut config = SessionConfig::with_token(
            self.sandbox().api_url(),
            self.sandbox().ws_url(),
            self.dir.path().join(format!("user-{id}")),
            id,
            token,
        );
        config.platform = 5;
        let mut session = Session::start(config)
            .await
            .map_err(|e| DemoError::Session {
                user: id.to_owned(),
                error: e.to_string(),
            })?;
        let client = session.client();
        let (stop_tx, mut stop_rx) = oneshot::channel();
        let (log, notify, out, printed) = (
            self.log.clone(),
            self.notify.clone(),
            self.out.clone(),
            self.printed.clone(),
        );
        let user = id.to_owned();
        let task = tokio::spawn(async move {
            loop {
                let delivery = tokio::select! {
                    _ = &mut stop_rx => break,
                    d = session.next() => match d { Some(d) => d, None => break },
                };
                let event = delivery.event;
                delivery.ack.ack();
                tracing::debug!(%user, event = ?event, "simulated user received");
                if let Event::NewMessage(m) = &event
                    && m.send_id == BOT
                    && let Some(text) = m
                        .text()
                        .map(str::to_owned)
                        .or_else(|| crate::action::Attachment::of(&m.content).map(|a| a.summary))
                    && printed
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert((m.conversation_id.to_string(), m.seq))
                {
                    let text = text.replace('\n', "\n    ");
                    let line = match m.group_id.as_deref().filter(|g| !g.is_empty()) {
                        Some(g) => format!("  {BOT} in #{g}: {text}"),
                        None => format!("  {BOT} → {user}: {text}"),
                    };
                    let mut o = out.lock().unwrap_or_else(|p| p.into_inner());
                    let _ = writeln!(o, "{line}");
                }
                log.lock().unwrap_or_else(|p| p.into_inner()).push(Seen {
                    user: user.clone(),
                    event,
                });
                notify.notify_waiters();
            }
            let _ = session.shutdown().await;
        });
        self.users.push(SimUser {
            id: id.to_owned(),
            client,
            stop: Some(stop_tx),
            task,
        });
        Ok(())
    }

    /// The client of a logged-in user.
    pub fn client(&self, user: &str) -> Result<&Client, DemoError> {
        self.users
            .iter()
            .find(|u| u.id == user)
            .map(|u| &u.client)
            .ok_or_else(|| DemoError::Action {
                user: user.to_owned(),
                what: "act".into(),
                error: "not logged in".into(),
            })
    }

    /// A position in the event log: [`wait`](World::wait) looks at events after it.
    pub fn mark(&self) -> usize {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Every event received by the simulated users after `mark`.
    pub fn log_since(&self, mark: usize) -> Vec<Seen> {
        self.log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .skip(mark)
            .cloned()
            .collect()
    }

    /// Waits until a user receives an event matching `pred` after `mark`; returns it.
    pub async fn wait(
        &self,
        mark: usize,
        what: &str,
        pred: impl Fn(&Seen) -> bool,
    ) -> Result<Seen, DemoError> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(s) = self
                .log
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .skip(mark)
                .find(|s| pred(s))
            {
                return Ok(s.clone());
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Err(DemoError::Timeout(WAIT, what.to_owned()));
            }
        }
    }

    /// Waits for a text from the bot to `user` (private) containing `needle`.
    pub async fn wait_private(
        &self,
        mark: usize,
        user: &str,
        needle: &str,
    ) -> Result<String, DemoError> {
        let s = self
            .wait(
                mark,
                &format!("a private message from the bot to {user} containing {needle:?}"),
                |s| s.user == user && s.bot_private_text().is_some_and(|t| t.contains(needle)),
            )
            .await?;
        Ok(s.bot_private_text().unwrap_or_default().to_owned())
    }

    /// Waits for a text from the bot in `group` (as received by `user`) containing `needle`.
    pub async fn wait_group(
        &self,
        mark: usize,
        user: &str,
        group: &str,
        needle: &str,
    ) -> Result<String, DemoError> {
        let s = self
            .wait(
                mark,
                &format!(
                    "a message from the bot in #{group} containing {needle:?} (seen by {user})"
                ),
                |s| s.user == user && s.bot_group_text(group).is_some_and(|t| t.contains(needle)),
            )
            .await?;
        Ok(s.bot_group_text(group).unwrap_or_default().to_owned())
    }

    /// `user` sends `text` (through their own session) and the line goes to the transcript.
    pub async fn send(&self, user: &str, to: Target, text: &str) -> Result<SentMessage, DemoError> {
        self.say(transcript_line(user, &to, text));
        self.client(user)?
            .send_text(to, text)
            .await
            .map_err(|e| DemoError::Action {
                user: user.to_owned(),
                what: format!("send {text:?}"),
                error: e.to_string(),
            })
    }

    /// `user` sends a picture that is already online (by URL), as the SDK's
    /// `createImageMessageByURL` does, and the line goes to the transcript.
    pub async fn send_picture(
        &self,
        user: &str,
        to: Target,
        url: &str,
    ) -> Result<SentMessage, DemoError> {
        self.say(transcript_line(user, &to, &format!("[picture] {url}")));
        let picture = openim_bot::protocol::content::PictureBaseInfo {
            url: url.to_owned(),
            kind: "image/png".to_owned(),
            width: 1080,
            height: 2340,
            ..Default::default()
        };
        self.client(user)?
            .send_content(to, Content::picture(picture))
            .await
            .map_err(|e| DemoError::Action {
                user: user.to_owned(),
                what: format!("send the picture {url}"),
                error: e.to_string(),
            })
    }

    /// Starts the bot with `config_toml` (the `[server]`, `[account]` and `[store]` tables are
    /// added here, pointing at the sandbox).
    pub async fn start_bot(&mut self, config_toml: &str) -> Result<(), DemoError> {
        let text = format!(
            "[server]\napi_addr = {:?}\nws_addr = {:?}\nplatform = 7\n[account]\nuser_id = {BOT:?}\ntoken = {:?}\n[store]\ndata_dir = {:?}\n{config_toml}",
            self.sandbox().api_url(),
            self.sandbox().ws_url(),
            self.bot_token,
            self.dir.path().join("bot").display().to_string(),
        );
        let config =
            Config::from_toml_and_env(&text, "demo config", Vec::<(String, String)>::new())?;
        let out = self.out.clone();
        let actions = self.actions.clone();
        let notify = self.notify.clone();
        let observer: Observer =
            Arc::new(move |bot, action: &Action, result: &Result<(), String>| {
                // Print first, then record and wake waiters, so the transcript stays in order.
                let visible_elsewhere = matches!(
                    action,
                    Action::Send { .. } | Action::Mention { .. } | Action::Forward { .. }
                );
                if !(visible_elsewhere && result.is_ok()) {
                    let mut o = out.lock().unwrap_or_else(|p| p.into_inner());
                    let _ = match result {
                        Ok(()) => writeln!(o, "    [{bot}] {action} ✓"),
                        Err(e) => writeln!(o, "    [{bot}] {action} ✗ {e}"),
                    };
                }
                actions
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(DoneAction {
                        bot,
                        action: action.clone(),
                        result: result.clone(),
                    });
                notify.notify_waiters();
            });
        let (ready_tx, ready_rx) = oneshot::channel();
        let builder = with_bots(
            Bot::builder(config.session_config()),
            &config,
            SyncProgress::log_only(),
            Some(observer),
        )
        .map_err(|e| DemoError::Bot(e.to_string()))?
        .handle_ctrl_c(false)
        .handler(Probe {
            ready: Mutex::new(Some(ready_tx)),
            handled: self.handled.clone(),
            notify: self.notify.clone(),
        });
        let bot = builder.build().map_err(|e| DemoError::Bot(e.to_string()))?;
        let shutdown = bot.shutdown_handle();
        let task = tokio::spawn(bot.run());
        self.bot = Some(RunningBot { shutdown, task });
        // Messages sent during the very first sync are history to the bot (as to any SDK
        // client on a fresh install): wait until it is live.
        match tokio::time::timeout(WAIT, ready_rx).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(DemoError::Timeout(
                WAIT,
                "the bot's first sync to finish".into(),
            )),
        }
    }

    /// Stops the bot: running handlers finish, its session is shut down (ledger flushed).
    pub async fn stop_bot(&mut self) -> Result<(), DemoError> {
        if let Some(bot) = self.bot.take() {
            bot.shutdown.shutdown();
            match bot.task.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(DemoError::Bot(e.to_string())),
                Err(e) => return Err(DemoError::Bot(format!("bot task failed: {e}"))),
            }
        }
        Ok(())
    }

    /// Waits until the bot has finished handling the message with this client message ID
    /// (every bot's handler has returned, so all their actions are in [`actions`](World::actions)).
    pub async fn wait_handled(&self, client_msg_id: &str) -> Result<(), DemoError> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self
                .handled
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains(client_msg_id)
            {
                return Ok(());
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Err(DemoError::Timeout(
                    WAIT,
                    format!("the bot to handle message {client_msg_id}"),
                ));
            }
        }
    }

    /// Every action the bots executed so far.
    pub fn actions(&self) -> Vec<DoneAction> {
        self.actions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Waits until the bots have executed an action matching `pred` (after `from` earlier ones).
    pub async fn wait_action(
        &self,
        from: usize,
        what: &str,
        pred: impl Fn(&DoneAction) -> bool,
    ) -> Result<DoneAction, DemoError> {
        // The observer wakes `notify` after recording each action.
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(a) = self.actions().into_iter().skip(from).find(|a| pred(a)) {
                return Ok(a);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Err(DemoError::Timeout(WAIT, what.to_owned()));
            }
        }
    }

    /// Stops the bot, every user session and the sandbox.
    pub async fn shutdown(mut self) -> Result<(), DemoError> {
        let r = self.stop_bot().await;
        for mut u in self.users.drain(..) {
            if let Some(stop) = u.stop.take() {
                let _ = stop.send(());
            }
            let _ = u.task.await;
        }
        if let Some(s) = self.sandbox.take() {
            s.shutdown().await;
        }
        r
    }
}

/// The configuration the demo runs the bots with.
pub fn demo_bots_toml() -> String {
    // Opening hours on a single weekday three days from now, so the desk is closed today and
    // the out-of-hours notice shows, whatever the day the demo runs.
    let day = (Utc::now().weekday().num_days_from_monday() + 3) % 7;
    let day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][day as usize];
    format!(
        r##"
[bots.friend_gate]
accept = "matching"
request_pattern = "(?i)\\bhello\\b"
block_list = ["mallory"]
otherwise = "refuse"
greeting = "Hi {{nickname}}! I'm the helper bot. Say hello in #community, or ask me for help here."

[bots.moderator]
groups = ["community"]
banned_words = ["(?i)\\bviagra\\b"]
allowed_domains = ["openim.io"]
mute_after = 2
mute_duration = "10m"
kick_after = 3
join_answer = "(?i)\\bopenim\\b"
join_refuse_message = "Wrong answer: which IM server is this group about?"
welcome = "Welcome {{nickname}}! Please read the /rules."
rules = "Be kind. No spam, no flooding, no links except openim.io."
[bots.moderator.flood]
max_messages = 4
window = "10s"
[bots.moderator.repeat]
max_repeats = 3
window = "1m"

[bots.autoreply]
cooldown = "30s"
[[bots.autoreply.rules]]
keywords = ["hello", "hi"]
reply = "{{0}} {{nickname}}! Nice to see you in here."
[[bots.autoreply.rules]]
pattern = "(?i)where is (?:my )?order #?(?P<order>\\d+)"
reply = "Order {{order}} left our warehouse yesterday, {{nickname}}."

[bots.support]
agents_group = "support_agents"
[bots.support.hours]
days = ["{day}"]
open = "09:00"
close = "17:00"
[[bots.support.faq]]
pattern = "(?i)\\b(price|cost|pricing)\\b"
answer = "OpenIM is open source: self-hosting is free."
"##
    )
}

fn header(w: &World, title: &str) {
    w.say(format!("\n=== {title} ==="));
}

/// Runs the whole demo, writing the transcript to `out`; returns a one-paragraph summary.
pub async fn run(out: impl Write + Send + 'static) -> Result<String, DemoError> {
    let mut w = World::start(out).await?;
    let result = scenarios(&mut w).await;
    let actions = w.actions();
    let shutdown = w.shutdown().await;
    result?;
    shutdown?;
    let failed = actions.iter().filter(|a| a.result.is_err()).count();
    let mut summary = String::from("\n=== summary ===\n");
    for bot in ["friend_gate", "moderator", "autoreply", "support"] {
        let n = actions.iter().filter(|a| a.bot == bot).count();
        let _ = writeln!(summary, "{bot:12} {n} actions");
    }
    let _ = write!(
        summary,
        "{} actions in all, {failed} failed. Demo complete.",
        actions.len()
    );
    Ok(summary)
}

async fn scenarios(w: &mut World) -> Result<(), DemoError> {
    let sandbox_line = format!(
        "openim-bots demo: sandbox at {} (gateway {}); bot account {BOT:?}",
        w.sandbox().api_url(),
        w.sandbox().ws_url()
    );
    w.say(sandbox_line);
    for (id, name) in [
        ("alice", "Alice"),
        ("bob", "Bob"),
        ("eve", "Eve"),
        ("mallory", "Mallory"),
        ("dave", "Dave"),
        ("neo", "Neo"),
        ("trinity", "Trinity"),
        ("carol", "Carol"),
        ("sam", "Sam"),
    ] {
        w.login(id, name).await?;
    }
    w.create_group("community", "Community", BOT, &["alice"], &["bob", "eve"])
        .await?;
    w.create_group("lounge", "Lounge", BOT, &[], &["bob", "neo"])
        .await?;
    w.create_group("support_agents", "Support agents", BOT, &[], &["sam"])
        .await?;
    w.say(
        "users alice bob eve mallory dave neo trinity carol sam are online; groups #community \
         (moderated; bot = owner, alice = admin), #lounge (bob, neo) and #support_agents (sam)",
    );

    header(
        w,
        "friend_gate, part 1: an application made while the bot is offline",
    );
    w.say("dave → helper_bot: friend application \"hello, I'm Dave\" (the bot is not running yet)");
    w.client("dave")?
        .api()
        .add_friend("dave", BOT, "hello, I'm Dave")
        .await
        .map_err(|e| DemoError::Action {
            user: "dave".into(),
            what: "apply for friendship".into(),
            error: e.to_string(),
        })?;
    let m = w.mark();
    w.say("(starting the bot: friend_gate, moderator, autoreply, support)");
    w.start_bot(&demo_bots_toml()).await?;
    w.wait_private(m, "dave", "Hi Dave").await?;

    header(w, "friend_gate, part 2: online applications");
    for (user, msg, accepted) in [
        ("alice", "hello bot!", true),
        ("bob", "let me in", false),
        ("mallory", "hello", false),
    ] {
        let m = w.mark();
        w.say(format!("{user} → helper_bot: friend application {msg:?}"));
        w.client(user)?
            .api()
            .add_friend(user, BOT, msg)
            .await
            .map_err(|e| DemoError::Action {
                user: user.into(),
                what: "apply for friendship".into(),
                error: e.to_string(),
            })?;
        if accepted {
            w.wait_private(m, user, "Hi ").await?;
        } else {
            let from = w.actions().len().saturating_sub(4);
            w.wait_action(from, &format!("the refusal of {user}'s application"), |a| {
                matches!(&a.action, Action::AnswerFriend { user_id, accept: false, .. } if user_id == user)
            })
            .await?;
        }
    }

    header(
        w,
        "moderator: banned words, links, mute, admin commands, flood, kick",
    );
    let g = || Target::group("community");
    let m = w.mark();
    w.send("eve", g(), "get cheap viagra here").await?;
    w.wait_group(m, "alice", "community", "strike 1/3").await?;
    let m = w.mark();
    w.send("eve", g(), "my shop: http://cheap-stuff.example.com")
        .await?;
    w.wait_group(m, "alice", "community", "strike 2/3").await?;
    match w.client("eve")?.send_text(g(), "am I muted?").await {
        Ok(_) => w.say("eve in #community: am I muted?  (delivered)"),
        Err(e) => w.say(format!(
            "eve in #community: am I muted?  → refused by the server: {e}"
        )),
    }
    let m = w.mark();
    w.send("bob", g(), "/kick @alice").await?;
    w.wait_group(m, "bob", "community", "only the group owner and admins")
        .await?;
    let m = w.mark();
    w.send("alice", g(), "/mute @bob").await?;
    w.wait_group(m, "alice", "community", "Usage: /mute")
        .await?;
    let m = w.mark();
    w.send("alice", g(), "/unmute @eve").await?;
    w.wait_group(m, "alice", "community", "eve can speak again")
        .await?;
    let m = w.mark();
    w.send("alice", g(), "/strikes @eve").await?;
    w.wait_group(m, "alice", "community", "2/3").await?;
    let m = w.mark();
    for text in ["one", "two", "three", "four", "five"] {
        w.send("eve", g(), text).await?;
    }
    w.wait_group(m, "alice", "community", "removed from the group")
        .await?;
    let from = w.actions().len().saturating_sub(6);
    w.wait_action(
        from,
        "eve's kick",
        |a| matches!(&a.action, Action::Kick { user_id, .. } if user_id == "eve"),
    )
    .await?;

    header(w, "moderator: join applications and welcome");
    let m = w.mark();
    w.say("neo → #community: join application \"I use OpenIM\"");
    w.client("neo")?
        .api()
        .join_group("community", "neo", "I use OpenIM")
        .await
        .map_err(|e| DemoError::Action {
            user: "neo".into(),
            what: "apply to join".into(),
            error: e.to_string(),
        })?;
    w.wait_group(m, "alice", "community", "Welcome Neo").await?;
    w.say("trinity → #community: join application \"no idea\"");
    let from = w.actions().len();
    w.client("trinity")?
        .api()
        .join_group("community", "trinity", "no idea")
        .await
        .map_err(|e| DemoError::Action {
            user: "trinity".into(),
            what: "apply to join".into(),
            error: e.to_string(),
        })?;
    w.wait_action(from, "the refusal of trinity's join application", |a| {
        matches!(&a.action, Action::AnswerJoin { user_id, accept: false, .. } if user_id == "trinity")
    })
    .await?;

    header(w, "autoreply: keyword and regex rules with templates");
    let m = w.mark();
    let from = w.actions().len();
    w.send("bob", g(), "hello everyone").await?;
    w.wait_group(m, "bob", "community", "hello Bob!").await?;
    // Bob can see the greeting before its send is acknowledged and recorded as an action:
    // count from after that record, or the greeting itself would look like a second one.
    w.wait_action(from, "bob's greeting", |a| a.bot == "autoreply")
        .await?;
    let before = w.actions().len();
    let sent = w.send("bob", g(), "hi again").await?;
    w.wait_handled(&sent.client_msg_id).await?;
    w.say(if w.actions().len() == before {
        "  (no second greeting for bob: #community is cooling down for 30s)"
    } else {
        "  (bob was greeted again: the cooldown did not hold)"
    });
    let m = w.mark();
    w.send("alice", g(), "/rules").await?;
    w.wait_group(m, "alice", "community", "Rules:").await?;
    let m = w.mark();
    w.send("neo", Target::group("lounge"), "where is my order #4711?")
        .await?;
    w.wait_group(m, "neo", "lounge", "Order 4711").await?;

    header(
        w,
        "support: FAQ, ticket, out of hours, claim, relay (text and a screenshot), restart, close, rating",
    );
    let bot = || Target::user(BOT);
    let agents = || Target::group("support_agents");
    let m = w.mark();
    w.send("carol", bot(), "how much does it cost?").await?;
    w.wait_private(m, "carol", "free").await?;
    let m = w.mark();
    w.send("carol", bot(), "my messages do not sync on my phone")
        .await?;
    w.wait_private(m, "carol", "ticket #1").await?;
    w.wait_group(m, "sam", "support_agents", "New ticket #1")
        .await?;
    let m = w.mark();
    w.send("sam", agents(), "/claim 1").await?;
    w.wait_private(m, "carol", "Sam from our team").await?;
    let m = w.mark();
    let from = w.actions().len();
    w.send_picture(
        "carol",
        bot(),
        "https://files.example.com/carol/sync-error.png",
    )
    .await?;
    // The agent gets the line, then the screenshot itself.
    w.wait(m, "the screenshot relayed to #support_agents", |s| {
        s.user == "sam"
            && matches!(&s.event, Event::NewMessage(msg)
                if msg.send_id == BOT && msg.content_type == 102
                    && msg.group_id.as_deref() == Some("support_agents"))
    })
    .await?;
    // Recorded before the restart, so the summary counts it.
    w.wait_action(from, "the screenshot's forward", |a| {
        matches!(a.action, Action::Forward { .. })
    })
    .await?;
    w.say("(restarting the bot in the middle of the conversation)");
    w.stop_bot().await?;
    w.start_bot(&demo_bots_toml()).await?;
    let m = w.mark();
    w.send("sam", agents(), "#1 Could you log out and in again?")
        .await?;
    w.wait_private(m, "carol", "log out and in again").await?;
    let m = w.mark();
    w.send("carol", bot(), "that fixed it, thanks!").await?;
    w.wait_group(m, "sam", "support_agents", "that fixed it")
        .await?;
    let m = w.mark();
    w.send("sam", agents(), "/close 1").await?;
    w.wait_private(m, "carol", "How satisfied").await?;
    w.wait_group(m, "sam", "support_agents", "closed by Sam")
        .await?;
    let m = w.mark();
    w.send("carol", bot(), "5").await?;
    w.wait_group(m, "sam", "support_agents", "rated 5/5")
        .await?;
    Ok(())
}
