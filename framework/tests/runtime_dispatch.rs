//! The dispatcher: ordering per conversation, concurrency across conversations, bounds,
//! acknowledgement, panic isolation, error hooks, middleware order, shutdown. In-memory source.

mod runtime_common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use openim_bot::prelude::*;
use openim_bot::{Ack, Delivery};
use parking_lot::Mutex;
use runtime_common::*;
use tokio::sync::{Notify, Semaphore, mpsc};

const TIMEOUT: Duration = Duration::from_secs(10);

fn delivery(m: Message, acks: &mpsc::UnboundedSender<String>) -> Delivery {
    let key = format!("{}:{}", m.conversation_id, m.text().unwrap_or(""));
    let acks = acks.clone();
    Delivery {
        event: Event::NewMessage(m),
        ack: Ack::from_fn(move || {
            let _ = acks.send(key);
        }),
    }
}

async fn recv<T>(rx: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(TIMEOUT, rx.recv())
        .await
        .expect("timed out")
        .expect("channel open")
}

/// Records the order of texts per conversation, yielding in between to invite interleaving.
struct Recording {
    log: Arc<Mutex<Vec<(String, String)>>>,
    active: AtomicUsize,
    max_active: AtomicUsize,
}

#[async_trait]
impl EventHandler for Recording {
    async fn on_new_message(&self, _ctx: &Context, msg: &Message) -> HandlerResult {
        let now = self.active.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_active.fetch_max(now, Ordering::SeqCst);
        for _ in 0..5 {
            tokio::task::yield_now().await;
        }
        self.log.lock().push((
            msg.conversation_id.to_string(),
            msg.text().unwrap_or("").to_string(),
        ));
        self.active.fetch_sub(1, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_of_one_conversation_stay_in_order_and_concurrency_is_bounded() {
    let (b, tx, _rec) = builder();
    let log = Arc::new(Mutex::new(Vec::new()));
    let handler = Arc::new(Recording {
        log: log.clone(),
        active: AtomicUsize::new(0),
        max_active: AtomicUsize::new(0),
    });
    let bot = b
        .handler_arc(handler.clone())
        .help(false)
        .max_concurrency(3)
        .lane_capacity(2)
        .build()
        .unwrap();
    let (ack_tx, mut ack_rx) = mpsc::unbounded_channel();
    let run = tokio::spawn(bot.run());
    let users = ["a", "b", "c", "d", "e", "f"];
    for i in 0..20 {
        for u in users {
            tx.send(delivery(private(u, &i.to_string()), &ack_tx))
                .await
                .unwrap();
        }
    }
    for _ in 0..(20 * users.len()) {
        recv(&mut ack_rx).await;
    }
    drop(tx);
    tokio::time::timeout(TIMEOUT, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let log = log.lock();
    for u in users {
        let conv = format!("si_{BOT}_{u}");
        let seen: Vec<String> = log
            .iter()
            .filter(|(c, _)| *c == conv)
            .map(|(_, t)| t.clone())
            .collect();
        let expected: Vec<String> = (0..20).map(|i| i.to_string()).collect();
        assert_eq!(seen, expected, "order in {conv}");
    }
    assert!(handler.max_active.load(Ordering::SeqCst) <= 3);
}

/// Blocks conversation A until conversation B was handled.
struct CrossWait {
    b_done: Arc<Notify>,
    log: Arc<Mutex<Vec<String>>>,
}

#[async_trait]
impl EventHandler for CrossWait {
    async fn on_new_message(&self, _ctx: &Context, msg: &Message) -> HandlerResult {
        if msg.send_id == "a" {
            tokio::time::timeout(TIMEOUT, self.b_done.notified()).await?;
            self.log.lock().push("a".into());
        } else {
            self.log.lock().push("b".into());
            self.b_done.notify_one();
        }
        Ok(())
    }
}

#[tokio::test]
async fn different_conversations_run_concurrently() {
    let (b, tx, _rec) = builder();
    let log = Arc::new(Mutex::new(Vec::new()));
    let bot = b
        .handler(CrossWait {
            b_done: Arc::new(Notify::new()),
            log: log.clone(),
        })
        .build()
        .unwrap();
    let (ack_tx, mut ack_rx) = mpsc::unbounded_channel();
    let run = tokio::spawn(bot.run());
    tx.send(delivery(private("a", "first"), &ack_tx))
        .await
        .unwrap();
    tx.send(delivery(private("b", "second"), &ack_tx))
        .await
        .unwrap();
    recv(&mut ack_rx).await;
    recv(&mut ack_rx).await;
    assert_eq!(*log.lock(), vec!["b", "a"]);
    drop(tx);
    tokio::time::timeout(TIMEOUT, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

/// Fails or panics on request; records the hook calls.
struct Faulty {
    finished: Arc<AtomicUsize>,
}

#[openim_bot::handler]
impl Faulty {
    #[equals("fail")]
    async fn fail(&self) -> HandlerResult {
        self.finished.fetch_add(1, Ordering::SeqCst);
        Err("it broke".into())
    }

    #[equals("panic")]
    async fn boom(&self) -> HandlerResult {
        self.finished.fetch_add(1, Ordering::SeqCst);
        panic!("kaboom");
    }

    #[on_error]
    async fn hook(&self, ctx: &Context, error: FrameworkError) -> Result<(), FrameworkError> {
        if let FrameworkError::Handler { .. } = &error {
            ctx.reply(format!("handler hook: {error}")).await?;
            return Ok(());
        }
        Err(error)
    }
}

struct After {
    seen: Arc<AtomicUsize>,
}

#[async_trait]
impl EventHandler for After {
    async fn on_new_message(&self, _ctx: &Context, _msg: &Message) -> HandlerResult {
        self.seen.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test]
async fn errors_and_panics_are_routed_and_events_still_acked() {
    let (b, tx, rec) = builder();
    let finished = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(AtomicUsize::new(0));
    let global = Arc::new(Mutex::new(Vec::new()));
    let global2 = global.clone();
    let bot = b
        .handler(Faulty {
            finished: finished.clone(),
        })
        .handler(After { seen: seen.clone() })
        .on_error(move |_ctx: Context, error: FrameworkError| {
            let global = global2.clone();
            async move {
                global.lock().push(error.to_string());
                Ok(())
            }
        })
        .build()
        .unwrap();
    let (ack_tx, mut ack_rx) = mpsc::unbounded_channel();
    let run = tokio::spawn(bot.run());
    let finished2 = finished.clone();
    // the ack runs only after the handler finished
    let m = private("u", "fail");
    tx.send(Delivery {
        event: Event::NewMessage(m),
        ack: Ack::from_fn({
            let ack_tx = ack_tx.clone();
            move || {
                let _ = ack_tx.send(format!(
                    "fail acked after {}",
                    finished2.load(Ordering::SeqCst)
                ));
            }
        }),
    })
    .await
    .unwrap();
    assert_eq!(recv(&mut ack_rx).await, "fail acked after 1");
    tx.send(delivery(private("u", "panic"), &ack_tx))
        .await
        .unwrap();
    assert_eq!(recv(&mut ack_rx).await, format!("si_{BOT}_u:panic"));
    // the bot goes on after the panic
    tx.send(delivery(private("u", "fail"), &ack_tx))
        .await
        .unwrap();
    recv(&mut ack_rx).await;
    drop(tx);
    tokio::time::timeout(TIMEOUT, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    // the handler's hook handled the error; the panic went to the global hook
    assert_eq!(
        rec.texts(),
        vec![
            "handler hook: handler Faulty::fail failed: it broke",
            "handler hook: handler Faulty::fail failed: it broke"
        ]
    );
    assert_eq!(
        *global.lock(),
        vec!["handler Faulty panicked: kaboom".to_string()]
    );
    // the second handler ran for every event, including the one whose first handler panicked
    assert_eq!(seen.load(Ordering::SeqCst), 3);
}

/// Middleware that logs its before/after and stops on "stop".
struct Tag(&'static str, Arc<Mutex<Vec<String>>>);

#[async_trait]
impl Middleware for Tag {
    async fn before(&self, _ctx: &Context, event: &Event) -> Result<Flow, FrameworkError> {
        self.1.lock().push(format!("{} before", self.0));
        if let Event::NewMessage(m) = event
            && m.text() == Some("stop")
            && self.0 == "inner"
        {
            return Ok(Flow::Stop);
        }
        Ok(Flow::Continue)
    }
    async fn after(&self, _ctx: &Context, _event: &Event, _outcome: &Result<(), FrameworkError>) {
        self.1.lock().push(format!("{} after", self.0));
    }
}

struct LogHandler(Arc<Mutex<Vec<String>>>);

#[async_trait]
impl EventHandler for LogHandler {
    async fn on_event(&self, _ctx: &Context, event: &Event) -> HandlerResult {
        self.0.lock().push(format!("on_event {}", event.name()));
        Ok(())
    }
    async fn on_new_message(&self, _ctx: &Context, _msg: &Message) -> HandlerResult {
        self.0.lock().push("handler".into());
        Ok(())
    }
}

#[tokio::test]
async fn middleware_run_in_order_and_can_short_circuit() {
    let (b, _tx, _rec) = builder();
    let log = Arc::new(Mutex::new(Vec::new()));
    let bot = b
        .middleware(Tag("outer", log.clone()))
        .middleware(Tag("inner", log.clone()))
        .handler(LogHandler(log.clone()))
        .help(false)
        .build()
        .unwrap();
    bot.handle(ev(private("u", "go"))).await.unwrap();
    assert_eq!(
        std::mem::take(&mut *log.lock()),
        vec![
            "outer before",
            "inner before",
            "on_event new_message",
            "handler",
            "inner after",
            "outer after"
        ]
    );
    bot.handle(ev(private("u", "stop"))).await.unwrap();
    assert_eq!(
        std::mem::take(&mut *log.lock()),
        vec!["outer before", "inner before", "outer after"]
    );
}

/// Blocks every event until released.
struct Gate {
    started: Arc<Notify>,
    release: Arc<Semaphore>,
}

#[async_trait]
impl EventHandler for Gate {
    async fn on_new_message(&self, _ctx: &Context, _msg: &Message) -> HandlerResult {
        self.started.notify_one();
        let permit = tokio::time::timeout(TIMEOUT, self.release.acquire()).await??;
        permit.forget();
        Ok(())
    }
}

#[tokio::test]
async fn shutdown_finishes_running_handlers_and_leaves_queued_events_unacked() {
    let (b, tx, _rec) = builder();
    let started = Arc::new(Notify::new());
    let release = Arc::new(Semaphore::new(0));
    let bot = b
        .handler(Gate {
            started: started.clone(),
            release: release.clone(),
        })
        .build()
        .unwrap();
    let stop = bot.shutdown_handle();
    let (ack_tx, mut ack_rx) = mpsc::unbounded_channel();
    let run = tokio::spawn(bot.run());
    tx.send(delivery(private("u", "1"), &ack_tx)).await.unwrap();
    tokio::time::timeout(TIMEOUT, started.notified())
        .await
        .unwrap();
    tx.send(delivery(private("u", "2"), &ack_tx)).await.unwrap();
    tx.send(delivery(private("u", "3"), &ack_tx)).await.unwrap();
    stop.shutdown();
    release.add_permits(10);
    tokio::time::timeout(TIMEOUT, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    drop(ack_tx);
    let mut acked = Vec::new();
    while let Some(k) = ack_rx.recv().await {
        acked.push(k);
    }
    assert_eq!(acked, vec![format!("si_{BOT}_u:1")]);
}

#[tokio::test]
async fn context_shutdown_stops_the_bot() {
    struct Stopper;
    #[openim_bot::handler]
    impl Stopper {
        #[command]
        async fn stop(&self, ctx: &Context) {
            ctx.shutdown();
        }
    }
    let (b, tx, _rec) = builder();
    let bot = b.handler(Stopper).build().unwrap();
    let run = tokio::spawn(bot.run());
    tx.send(Delivery::unacked(ev(private("u", "/stop"))))
        .await
        .unwrap();
    tokio::time::timeout(TIMEOUT, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn duplicate_commands_across_handlers_are_refused() {
    struct A;
    #[openim_bot::handler]
    impl A {
        #[command]
        async fn go(&self) {}
    }
    struct B;
    #[openim_bot::handler]
    impl B {
        #[command(aliases("go"))]
        async fn run(&self) {}
    }
    let (b, _tx, _rec) = builder();
    let err = b.handler(A).handler(B).build().unwrap_err();
    assert!(err.to_string().contains("/go is defined twice"), "{err}");
}

#[tokio::test]
async fn anti_flood_drops_and_notifies_once() {
    let (b, _tx, rec) = builder();
    struct Count(Arc<AtomicUsize>);
    #[async_trait]
    impl EventHandler for Count {
        async fn on_new_message(&self, _ctx: &Context, _m: &Message) -> HandlerResult {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }
    let n = Arc::new(AtomicUsize::new(0));
    let bot = b
        .middleware(
            AntiFlood::new()
                .per_user(Rate::new(2, Duration::from_secs(3600)))
                .notice("Too fast; wait {wait}."),
        )
        .handler(Count(n.clone()))
        .build()
        .unwrap();
    for _ in 0..5 {
        bot.handle(ev(private("spammer", "x"))).await.unwrap();
    }
    bot.handle(ev(private("calm", "x"))).await.unwrap();
    assert_eq!(n.load(Ordering::SeqCst), 3);
    let texts = rec.texts();
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].starts_with("Too fast; wait 30m"), "{}", texts[0]);
}

#[tokio::test]
async fn anti_flood_per_group() {
    let (b, _tx, _rec) = builder();
    let n = Arc::new(AtomicUsize::new(0));
    struct Count(Arc<AtomicUsize>);
    #[async_trait]
    impl EventHandler for Count {
        async fn on_new_message(&self, _ctx: &Context, _m: &Message) -> HandlerResult {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }
    let bot = b
        .middleware(AntiFlood::new().per_group(Rate::new(3, Duration::from_secs(3600))))
        .handler(Count(n.clone()))
        .build()
        .unwrap();
    for u in ["a", "b", "c", "d", "e"] {
        bot.handle(ev(group("g", u, "hi", &[]))).await.unwrap();
    }
    bot.handle(ev(group("other", "a", "hi", &[])))
        .await
        .unwrap();
    assert_eq!(n.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn permissions_middleware_filters_senders() {
    let (b, _tx, rec) = builder();
    struct Echo;
    #[async_trait]
    impl EventHandler for Echo {
        async fn on_new_message(&self, ctx: &Context, m: &Message) -> HandlerResult {
            ctx.reply(m.text().unwrap_or("")).await?;
            Ok(())
        }
    }
    let bot = b
        .middleware(
            Permissions::new()
                .deny_users(["bad"])
                .allow_groups(["g_ok"])
                .reply_denied(true),
        )
        .handler(Echo)
        .build()
        .unwrap();
    bot.handle(ev(private("bad", "1"))).await.unwrap();
    bot.handle(ev(private("good", "2"))).await.unwrap();
    bot.handle(ev(group("g_other", "good", "3", &[])))
        .await
        .unwrap();
    bot.handle(ev(group("g_ok", "good", "4", &[])))
        .await
        .unwrap();
    assert_eq!(
        rec.texts(),
        vec![
            "You cannot use this bot: you are not on its list of allowed users.",
            "2",
            "You cannot use this bot: it is not enabled in this group.",
            "4"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn throttle_paces_and_keeps_order_per_conversation() {
    let (b, _tx, rec) = builder();
    struct Burst;
    #[openim_bot::handler]
    impl Burst {
        #[command]
        async fn burst(&self, ctx: &Context) -> HandlerResult {
            for i in 0..4 {
                ctx.reply(i.to_string()).await?;
            }
            Ok(())
        }
    }
    let bot = b
        .handler(Burst)
        .throttle(
            Throttle::new()
                .per_conversation(Rate::per_second(2))
                .global(Rate::per_second(100)),
        )
        .build()
        .unwrap();
    let t0 = tokio::time::Instant::now();
    bot.handle(ev(private("u", "/burst"))).await.unwrap();
    let elapsed = t0.elapsed();
    assert_eq!(rec.texts(), vec!["0", "1", "2", "3"]);
    // 2 immediately (burst), then one every 500 ms
    assert!(elapsed >= Duration::from_millis(1000), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1100), "{elapsed:?}");
}

#[tokio::test]
async fn full_lanes_push_back_on_the_source() {
    let (tx, rx) = mpsc::channel(1);
    let started = Arc::new(Notify::new());
    let release = Arc::new(Semaphore::new(0));
    let client = openim_bot::Client::detached(BOT, openim_bot::Store::temporary().unwrap());
    let bot = openim_bot::runtime::BotBuilder::from_source(rx, client)
        .sender(Recorder::default())
        .dialogue_storage(openim_bot::runtime::MemoryDialogueStorage::new())
        .handle_ctrl_c(false)
        .lane_capacity(1)
        .handler(Gate {
            started: started.clone(),
            release: release.clone(),
        })
        .build()
        .unwrap();
    let (ack_tx, mut ack_rx) = mpsc::unbounded_channel();
    let run = tokio::spawn(bot.run());
    // 1 runs (blocked), 2 waits in the lane queue, 3 is held by the dispatcher, 4 in the source
    tx.send(delivery(private("u", "1"), &ack_tx)).await.unwrap();
    tokio::time::timeout(TIMEOUT, started.notified())
        .await
        .unwrap();
    tx.send(delivery(private("u", "2"), &ack_tx)).await.unwrap();
    tx.send(delivery(private("u", "3"), &ack_tx)).await.unwrap();
    // once the dispatcher holds 3, the source channel accepts exactly one more
    tokio::time::timeout(TIMEOUT, tx.reserve())
        .await
        .unwrap()
        .unwrap()
        .send(delivery(private("u", "4"), &ack_tx));
    let full = tx.try_send(delivery(private("u", "5"), &ack_tx));
    assert!(
        matches!(full, Err(mpsc::error::TrySendError::Full(_))),
        "the source must be pushed back"
    );
    release.add_permits(10);
    for i in 1..=4 {
        assert_eq!(recv(&mut ack_rx).await, format!("si_{BOT}_u:{i}"));
    }
    drop(tx);
    tokio::time::timeout(TIMEOUT, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_conversations_are_all_handled_in_order() {
    let (b, tx, _rec) = builder();
    let log = Arc::new(Mutex::new(Vec::new()));
    let bot = b
        .handler(Recording {
            log: log.clone(),
            active: AtomicUsize::new(0),
            max_active: AtomicUsize::new(0),
        })
        .build()
        .unwrap();
    let (ack_tx, mut ack_rx) = mpsc::unbounded_channel();
    let run = tokio::spawn(bot.run());
    // more conversations than the idle-lane pruning threshold (1024), twice over
    for round in 0..2 {
        for u in 0..1500 {
            tx.send(delivery(
                private(&format!("u{u}"), &round.to_string()),
                &ack_tx,
            ))
            .await
            .unwrap();
        }
    }
    for _ in 0..3000 {
        recv(&mut ack_rx).await;
    }
    drop(tx);
    tokio::time::timeout(TIMEOUT, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let log = log.lock();
    assert_eq!(log.len(), 3000);
    let mut last: std::collections::HashMap<&str, &str> = Default::default();
    for (conv, text) in log.iter() {
        if let Some(prev) = last.insert(conv, text) {
            assert_eq!((prev, text.as_str()), ("0", "1"), "order in {conv}");
        }
    }
}

/// The server ending the session (kicked, a token that cannot be renewed) makes `run` fail
/// with the reason; a source that just ends, or a renewed token, does not.
#[tokio::test]
async fn a_session_ended_by_the_server_is_an_error_of_run() {
    use openim_bot::event::{KickedOffline, UserTokenExpired, UserTokenInvalid};
    use openim_bot::runtime::{BotError, SessionEnd};
    let run_with = |events: Vec<Event>| async move {
        let (tx, rx) = mpsc::channel(8);
        let client = openim_bot::Client::detached(BOT, openim_bot::Store::temporary().unwrap());
        let bot = openim_bot::runtime::BotBuilder::from_source(rx, client)
            .sender(Recorder::default())
            .dialogue_storage(openim_bot::runtime::MemoryDialogueStorage::new())
            .handle_ctrl_c(false)
            .build()
            .unwrap();
        for event in events {
            let ack = Ack::noop();
            tx.send(Delivery { event, ack }).await.unwrap();
        }
        drop(tx);
        tokio::time::timeout(TIMEOUT, bot.run()).await.unwrap()
    };
    assert!(matches!(
        run_with(vec![Event::KickedOffline(KickedOffline { by_frame: true })]).await,
        Err(BotError::SessionEnded(SessionEnd::KickedOffline))
    ));
    assert!(matches!(
        run_with(vec![Event::UserTokenExpired(UserTokenExpired {
            renewed: false
        })])
        .await,
        Err(BotError::SessionEnded(SessionEnd::TokenExpired))
    ));
    let refused = run_with(vec![Event::UserTokenInvalid(UserTokenInvalid {
        err_code: 1507,
        err_msg: "token not exist".into(),
        renewed: false,
    })])
    .await;
    match refused {
        Err(e @ BotError::SessionEnded(SessionEnd::TokenInvalid { code: 1507, .. })) => {
            assert!(
                e.to_string().contains("errCode 1507: token not exist"),
                "{e}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(
        run_with(vec![Event::UserTokenExpired(UserTokenExpired {
            renewed: true
        })])
        .await
        .is_ok(),
        "a renewed token goes on"
    );
    assert!(
        run_with(vec![Event::NewMessage(private("u", "hi"))])
            .await
            .is_ok(),
        "the source just ended"
    );
}
