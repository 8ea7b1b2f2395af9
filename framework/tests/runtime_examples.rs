//! The examples' handlers, exercised in memory and against the in-process sandbox.
//!
//! Each example exposes `configure(BotBuilder) -> BotBuilder`; the tests include the example
//! file as a module and run exactly that setup.

mod runtime_common;

#[allow(dead_code)]
#[path = "../../examples/commands.rs"]
mod commands_example;
#[allow(dead_code)]
#[path = "../../examples/dialogue.rs"]
mod dialogue_example;
#[allow(dead_code)]
#[path = "../../examples/echo.rs"]
mod echo_example;
#[allow(dead_code)]
#[path = "../../examples/helpdesk.rs"]
mod helpdesk_example;
#[allow(dead_code)]
#[path = "../../examples/middleware.rs"]
mod middleware_example;
#[allow(dead_code)]
#[path = "../../examples/regex.rs"]
mod regex_example;

use std::sync::atomic::Ordering;
use std::time::Duration;

use openim_bot::prelude::*;
use openim_bot::runtime::{BotBuilder, ShutdownHandle};
use openim_bot::{Session, Store};
use openim_sandbox::{Sandbox, SandboxConfig};
use runtime_common::*;

// ---------------------------------------------------------------- in memory

#[tokio::test]
async fn echo_in_memory() {
    let (b, _tx, rec) = builder();
    let bot = echo_example::configure(b).build().unwrap();
    bot.handle(ev(private("alice", "hello there")))
        .await
        .unwrap();
    bot.handle(ev(private("alice", "/help"))).await.unwrap();
    bot.handle(ev(group("g1", "alice", "not for the bot", &[])))
        .await
        .unwrap();
    bot.handle(ev(group("g1", "alice", "@bot hi", &[BOT])))
        .await
        .unwrap();
    bot.handle(ev(private(BOT, "my own message")))
        .await
        .unwrap();
    assert_eq!(rec.texts(), vec!["hello there", "/help", "@bot hi"]);
    assert_eq!(rec.sent()[2].0, Target::group("g1"));
}

#[tokio::test]
async fn commands_in_memory() {
    let (b, _tx, rec) = builder();
    let bot = commands_example::configure(b).build().unwrap();
    for text in [
        "/add 2 40",
        "/sum 1 x",
        "/roll 1",
        "/remind 90m stretch your legs",
        "/remind 1m again",
        "/whois @alice",
    ] {
        bot.handle(ev(private("u1", text))).await.unwrap();
    }
    bot.handle(ev(group("g", "u1", "/whois @Alice", &["u_alice"])))
        .await
        .unwrap();
    let t = rec.texts();
    assert_eq!(t[0], "2 + 40 = 42");
    assert!(
        t[1].contains("`x` is not an integer") && t[1].contains("Usage: /add <a> <b>"),
        "{}",
        t[1]
    );
    assert_eq!(t[2], "🎲 1 (d1)");
    assert_eq!(t[3], "OK, I will remind you in 1h30m to stretch your legs.");
    assert!(t[4].starts_with("Please wait"), "{}", t[4]);
    assert_eq!(t[5], "You cannot use /whois: it only works in group chats.");
    assert_eq!(t[6], "That is user u_alice.");
}

#[tokio::test]
async fn regex_in_memory() {
    let (b, _tx, rec) = builder();
    let bot = regex_example::configure(b).build().unwrap();
    for text in [
        "12 * 3",
        "7 / 0",
        "convert 10 km to miles",
        "Good morning!",
        "THANKS",
        "thanks",
    ] {
        bot.handle(ev(private("u1", text))).await.unwrap();
    }
    assert_eq!(
        rec.texts(),
        vec![
            "12 * 3 = 36",
            "I cannot compute that.",
            "10 km = 6.21 miles",
            "Good morning, u1!",
            "You're welcome!"
        ]
    );
}

#[tokio::test]
async fn middleware_in_memory() {
    let (b, _tx, rec) = builder();
    let stats = middleware_example::Stats::default();
    let bot = middleware_example::configure(b, stats.clone())
        .build()
        .unwrap();
    bot.handle(ev(private("u1", "/ping"))).await.unwrap();
    bot.handle(ev(private("u1", "big spoiler ahead")))
        .await
        .unwrap();
    bot.handle(ev(private("u1", "/crash"))).await.unwrap();
    bot.handle(ev(private("blocked_user", "/ping")))
        .await
        .unwrap();
    for _ in 0..4 {
        bot.handle(ev(private("u1", "/ping"))).await.unwrap();
    }
    // u1's sixth message through the anti-flood within 10 s is refused (the spoiler was
    // stopped earlier in the chain and does not count)
    let t = rec.texts();
    assert_eq!(
        &t[..6],
        &[
            "pong",
            "No spoilers here, please.",
            "Oops, something broke. I'm still here.",
            "pong",
            "pong",
            "pong"
        ]
    );
    assert!(t[6].starts_with("You are sending too fast; wait"), "{t:?}");
    assert_eq!(t.len(), 7, "{t:?}");
    assert_eq!(stats.seen.load(Ordering::SeqCst), 8);
    // Stats is outermost: its after() ran for every event, also those stopped further in.
    assert_eq!(stats.completed.load(Ordering::SeqCst), 8);
    let table = bot.routes().to_string();
    assert!(
        table.contains("stats → no_spoilers → anti_flood"),
        "{table}"
    );
}

/// A bot on the store in `dir`. Opened with `open_waiting`: the store of a bot dropped just
/// before may still hold the directory's lock for a moment (sled lets it go from its own I/O
/// threads), which a loaded machine made long enough to fail a plain `open` (seen in CI once).
async fn sled_builder(dir: &std::path::Path) -> (BotBuilder, Recorder) {
    let (_tx, rx) = tokio::sync::mpsc::channel(1);
    let client = Client::detached(BOT, Store::open_waiting(dir).await.unwrap());
    let rec = Recorder::default();
    let b = BotBuilder::from_source(rx, client)
        .sender(rec.clone())
        .handle_ctrl_c(false);
    (b, rec)
}

#[tokio::test]
async fn dialogue_state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (b, rec) = sled_builder(dir.path()).await;
        let bot = dialogue_example::configure(b).build().unwrap();
        bot.handle(ev(private("u1", "/order"))).await.unwrap();
        bot.handle(ev(private("u1", "huge"))).await.unwrap();
        bot.handle(ev(private("u1", "large"))).await.unwrap();
        // another user's dialogue is separate
        bot.handle(ev(private("u2", "large"))).await.unwrap();
        assert_eq!(
            rec.texts(),
            vec![
                "Which size: small, medium or large?",
                "Please answer small, medium or large.",
                "How many?"
            ]
        );
    }
    // "restart": a new bot on the same store
    let (b, rec) = sled_builder(dir.path()).await;
    let bot = dialogue_example::configure(b).build().unwrap();
    bot.handle(ev(private("u1", "2"))).await.unwrap();
    bot.handle(ev(private("u1", "1 Main Street")))
        .await
        .unwrap();
    bot.handle(ev(private("u1", "/cancel"))).await.unwrap();
    assert_eq!(
        rec.texts(),
        vec![
            "Where should we deliver?",
            "Ordered 2 large pizza(s) to 1 Main Street. Thank you!",
            "There is no order in progress."
        ]
    );
}

#[tokio::test]
async fn dialogue_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let (b, rec) = sled_builder(dir.path()).await;
    let bot = dialogue_example::configure(b)
        .dialogue_timeout(Some(Duration::ZERO))
        .build()
        .unwrap();
    bot.handle(ev(private("u1", "/order"))).await.unwrap();
    bot.handle(ev(private("u1", "large"))).await.unwrap(); // expired: ignored
    bot.handle(ev(private("u1", "/cancel"))).await.unwrap();
    assert_eq!(
        rec.texts(),
        vec![
            "Which size: small, medium or large?",
            "There is no order in progress."
        ]
    );
}

// ---------------------------------------------------------------- sandbox

const WAIT: Duration = Duration::from_secs(20);

struct World {
    sandbox: Sandbox,
    dir: tempfile::TempDir,
}

impl World {
    async fn start(users: &[&str]) -> World {
        let sandbox = Sandbox::start(SandboxConfig::default())
            .await
            .expect("sandbox");
        for u in users {
            sandbox.register_user(u, u).await.expect("register");
        }
        World {
            sandbox,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn config(&self, user: &str) -> SessionConfig {
        SessionConfig::with_secret(
            self.sandbox.api_url(),
            self.sandbox.ws_url(),
            self.dir.path().join(user),
            user,
            self.sandbox.secret(),
        )
    }

    /// Starts the bot with an example's setup; returns once its first sync finished.
    async fn bot(
        &self,
        user: &str,
        configure: impl FnOnce(BotBuilder) -> BotBuilder,
    ) -> (
        ShutdownHandle,
        tokio::task::JoinHandle<Result<(), openim_bot::runtime::BotError>>,
    ) {
        let session = Session::start(self.config(user))
            .await
            .expect("bot session");
        let bot = configure(BotBuilder::from_session(session).handle_ctrl_c(false))
            .build()
            .expect("build");
        let stop = bot.shutdown_handle();
        let mut ready = bot.ready_handle();
        assert!(!ready.is_ready());
        let task = tokio::spawn(bot.run());
        assert!(
            tokio::time::timeout(WAIT, ready.wait())
                .await
                .expect("bot synced"),
            "the bot stopped before its first sync"
        );
        (stop, task)
    }

    async fn human(&self, user: &str) -> Human {
        let mut session = Session::start(self.config(user))
            .await
            .expect("human session");
        loop {
            let d = tokio::time::timeout(WAIT, session.next())
                .await
                .expect("human sync")
                .expect("session open");
            let done = matches!(d.event, Event::SyncServerFinish(_));
            d.ack.ack();
            if done {
                break;
            }
        }
        Human { session }
    }
}

struct Human {
    session: Session,
}

impl Human {
    fn client(&self) -> Client {
        self.session.client()
    }

    /// The next text message from `from` (other events are acknowledged and skipped).
    async fn text_from(&mut self, from: &str) -> (String, Message) {
        loop {
            let d = tokio::time::timeout(WAIT, self.session.next())
                .await
                .unwrap_or_else(|_| panic!("timed out waiting for a message from {from}"))
                .expect("session open");
            let found = match &d.event {
                Event::NewMessage(m) if m.send_id == from => {
                    Some((m.text().unwrap_or("").to_string(), m.clone()))
                }
                _ => None,
            };
            d.ack.ack();
            if let Some(found) = found {
                return found;
            }
        }
    }
}

async fn stop(
    stop: ShutdownHandle,
    task: tokio::task::JoinHandle<Result<(), openim_bot::runtime::BotError>>,
) {
    stop.shutdown();
    tokio::time::timeout(WAIT, task)
        .await
        .expect("bot stops")
        .expect("bot task")
        .expect("bot run ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mark_read_marks_handled_conversations_read_for_their_senders() {
    let world = World::start(&["reader_bot", "dora"]).await;
    let (handle, task) = world
        .bot("reader_bot", |b| {
            b.middleware(MarkRead::new().delay(Duration::from_millis(20)))
        })
        .await;
    let mut dora = world.human("dora").await;
    for text in ["one", "two", "three"] {
        dora.client()
            .send_text(Target::user("reader_bot"), text)
            .await
            .expect("dora sends");
    }
    // Dora's client is told the bot read up to her third message (seqs 1..3 of a new chat).
    loop {
        let d = tokio::time::timeout(WAIT, dora.session.next())
            .await
            .expect("a read receipt for all three")
            .expect("session open");
        let read = match &d.event {
            Event::C2cReadReceipt(r) if r.user_id == "reader_bot" => r.has_read_seq,
            _ => 0,
        };
        d.ack.ack();
        if read >= 3 {
            break;
        }
    }
    stop(handle, task).await;
    world.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_against_the_sandbox() {
    let world = World::start(&["echo_bot", "alice", "bob"]).await;
    let (handle, task) = world.bot("echo_bot", echo_example::configure).await;
    let mut alice = world.human("alice").await;

    alice
        .client()
        .send_text(Target::user("echo_bot"), "hello bot")
        .await
        .expect("alice sends");
    let (text, msg) = alice.text_from("echo_bot").await;
    assert_eq!(text, "hello bot");
    assert!(!msg.is_group());

    let group_id = world
        .sandbox
        .create_group("alice", &["echo_bot", "bob"], "echo test")
        .await
        .expect("group");
    // not mentioned: no echo; mentioned: echo
    alice
        .client()
        .send_text(Target::group(&group_id), "talking among humans")
        .await
        .unwrap();
    alice
        .client()
        .send_at_text(
            &group_id,
            "@echo_bot ping in group",
            vec!["echo_bot".into()],
        )
        .await
        .unwrap();
    let (text, msg) = alice.text_from("echo_bot").await;
    assert_eq!(text, "@echo_bot ping in group");
    assert_eq!(msg.group_id.as_deref(), Some(group_id.as_str()));

    stop(handle, task).await;
    world.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_regex_dialogue_against_the_sandbox() {
    let world = World::start(&["helper_bot", "carol"]).await;
    let (handle, task) = world
        .bot("helper_bot", |b| {
            // three examples' handlers on one bot
            let b = commands_example::configure(b);
            let b = regex_example::configure(b);
            dialogue_example::configure(b)
        })
        .await;
    let mut carol = world.human("carol").await;
    let carol_client = carol.client();
    let ask = |text: &'static str| {
        let c = carol_client.clone();
        async move {
            c.send_text(Target::user("helper_bot"), text)
                .await
                .expect("carol sends")
        }
    };

    ask("/add 20 22").await;
    assert_eq!(carol.text_from("helper_bot").await.0, "20 + 22 = 42");
    ask("/add twenty 22").await;
    let (usage, _) = carol.text_from("helper_bot").await;
    assert!(usage.contains("Usage: /add <a> <b>"), "{usage}");
    ask("6 * 7").await;
    assert_eq!(carol.text_from("helper_bot").await.0, "6 * 7 = 42");
    ask("/order").await;
    assert_eq!(
        carol.text_from("helper_bot").await.0,
        "Which size: small, medium or large?"
    );
    ask("small").await;
    assert_eq!(carol.text_from("helper_bot").await.0, "How many?");
    ask("/cancel").await;
    assert_eq!(carol.text_from("helper_bot").await.0, "Order cancelled.");
    ask("/help").await;
    let (help, _) = carol.text_from("helper_bot").await;
    assert!(help.contains("/remind <after> [what...]"), "{help}");
    assert!(help.contains("/order — Starts a new order."), "{help}");

    stop(handle, task).await;
    world.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn middleware_against_the_sandbox() {
    let world = World::start(&["guard_bot", "dave"]).await;
    let stats = middleware_example::Stats::default();
    let stats2 = stats.clone();
    let (handle, task) = world
        .bot("guard_bot", move |b| {
            middleware_example::configure(b, stats2)
        })
        .await;
    let mut dave = world.human("dave").await;
    let client = dave.client();
    let ask = |text: &'static str| {
        let c = client.clone();
        async move {
            c.send_text(Target::user("guard_bot"), text)
                .await
                .expect("dave sends")
        }
    };
    ask("/ping").await;
    assert_eq!(dave.text_from("guard_bot").await.0, "pong");
    ask("the butler did it, spoiler").await;
    assert_eq!(
        dave.text_from("guard_bot").await.0,
        "No spoilers here, please."
    );
    ask("/crash").await;
    assert_eq!(
        dave.text_from("guard_bot").await.0,
        "Oops, something broke. I'm still here."
    );
    for _ in 0..4 {
        ask("/ping").await;
    }
    for _ in 0..3 {
        assert_eq!(dave.text_from("guard_bot").await.0, "pong");
    }
    let (notice, _) = dave.text_from("guard_bot").await;
    assert!(
        notice.starts_with("You are sending too fast; wait"),
        "{notice}"
    );
    assert!(stats.seen.load(Ordering::SeqCst) >= 7);

    stop(handle, task).await;
    world.sandbox.shutdown().await;
}

/// A moderation command restricted to group owners/admins (role looked up in the store, or
/// through the API when the store does not know the member yet).
struct Moderation;

#[openim_bot::handler]
impl Moderation {
    /// Announces something to the group.
    #[command(group_only, role = "admin")]
    async fn announce(&self, ctx: &Context, text: openim_bot::runtime::Rest) -> HandlerResult {
        ctx.reply(format!("📢 {text}")).await?;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_policy_against_the_sandbox() {
    let world = World::start(&["mod_bot", "owner", "member"]).await;
    let group_id = world
        .sandbox
        .create_group("owner", &["mod_bot", "member"], "roles")
        .await
        .expect("group");
    let (handle, task) = world.bot("mod_bot", |b| b.handler(Moderation)).await;
    let mut owner = world.human("owner").await;
    let mut member = world.human("member").await;

    member
        .client()
        .send_text(Target::group(&group_id), "/announce free pizza")
        .await
        .unwrap();
    let (refusal, _) = member.text_from("mod_bot").await;
    assert_eq!(
        refusal,
        "You cannot use /announce: it requires the group role admin."
    );
    owner
        .client()
        .send_text(Target::group(&group_id), "/announce meeting at 10")
        .await
        .unwrap();
    // the owner sees the bot's refusal to the member first (same group), then the announcement
    loop {
        let (text, _) = owner.text_from("mod_bot").await;
        if text.starts_with("📢") {
            assert_eq!(text, "📢 meeting at 10");
            break;
        }
    }

    stop(handle, task).await;
    world.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helpdesk_against_the_sandbox() {
    let world = World::start(&["desk_bot", "agent_ann", "cora", "spammer"]).await;
    let group_id = world
        .sandbox
        .create_group("desk_bot", &["cora", "spammer"], "support")
        .await
        .expect("group");
    let (handle, task) = world
        .bot("desk_bot", |b| helpdesk_example::configure(b, "agent_ann"))
        .await;
    let mut agent = world.human("agent_ann").await;
    let mut cora = world.human("cora").await;
    let mut spammer = world.human("spammer").await;
    let to_bot = Target::user("desk_bot");

    // keyword reply
    cora.client()
        .send_text(to_bot.clone(), "What are your Opening Hours?")
        .await
        .unwrap();
    assert_eq!(
        cora.text_from("desk_bot").await.0,
        "We are open Monday to Friday, 9:00-17:00."
    );

    // hand-off: the agent is told, the customer's next text is relayed instead of answered
    cora.client()
        .send_text(to_bot.clone(), "/human")
        .await
        .unwrap();
    assert_eq!(
        cora.text_from("desk_bot").await.0,
        "An agent will answer you here shortly."
    );
    let (notice, _) = agent.text_from("desk_bot").await;
    assert!(
        notice.starts_with("cora (cora) asks for a human."),
        "{notice}"
    );
    cora.client()
        .send_text(to_bot.clone(), "what is the price of a refund?")
        .await
        .unwrap();
    assert_eq!(
        agent.text_from("desk_bot").await.0,
        "cora (cora): what is the price of a refund?"
    );
    let agent_client = agent.client();
    agent_client
        .send_text(to_bot.clone(), "/answer cora Refunds are free.")
        .await
        .unwrap();
    // the next thing cora gets is the agent's answer, not the price list
    assert_eq!(
        cora.text_from("desk_bot").await.0,
        "Agent: Refunds are free."
    );
    agent_client
        .send_text(to_bot.clone(), "/close cora")
        .await
        .unwrap();
    assert_eq!(agent.text_from("desk_bot").await.0, "Closed cora.");
    assert!(
        cora.text_from("desk_bot")
            .await
            .0
            .starts_with("The agent closed")
    );
    agent_client
        .send_text(to_bot.clone(), "/answer cora still there?")
        .await
        .unwrap();
    assert_eq!(
        agent.text_from("desk_bot").await.0,
        "cora has no open hand-off."
    );
    // after the hand-off, keywords are answered again
    cora.client()
        .send_text(to_bot.clone(), "price?")
        .await
        .unwrap();
    assert!(
        cora.text_from("desk_bot")
            .await
            .0
            .starts_with("Our price list")
    );

    // moderation: revoked, muted, told
    let spam = spammer
        .client()
        .send_text(Target::group(&group_id), "FREE MONEY at example.org")
        .await
        .unwrap();
    // the bot mutes before it warns: the mute's notification (a tips message from the bot,
    // no text) comes first
    let warning = loop {
        let (text, msg) = spammer.text_from("desk_bot").await;
        if msg.text().is_some() {
            break text;
        }
    };
    assert_eq!(
        warning,
        "@spammer advertising is not allowed here: muted for 10 minutes."
    );
    loop {
        let d = tokio::time::timeout(WAIT, cora.session.next())
            .await
            .expect("revoke seen")
            .expect("session open");
        let revoked =
            matches!(&d.event, Event::MessageRevoked(r) if r.client_msg_id == spam.client_msg_id);
        d.ack.ack();
        if revoked {
            break;
        }
    }
    let muted = spammer
        .client()
        .send_text(Target::group(&group_id), "let me talk")
        .await;
    assert!(muted.is_err(), "a muted member can still send: {muted:?}");

    stop(handle, task).await;
    world.sandbox.shutdown().await;
}
