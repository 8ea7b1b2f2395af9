//! Dispatch cost per event through the whole chain (context, middleware chain, generated
//! router with 50 routes, panic isolation, error routing), in memory.
//!
//! `cargo bench -p openim-bot --bench dispatch`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use openim_bot::content::Content;
use openim_bot::event::Typing;
use openim_bot::prelude::*;
use openim_bot::runtime::{BotBuilder, MemoryDialogueStorage, MessageSender};
use openim_bot::{ClientError, SentMessage, Store};

/// 50 routes: 40 commands, 5 regexes, 5 keyword matchers.
struct Fifty;

#[openim_bot::handler]
impl Fifty {
    /// Command number 0.
    #[command]
    async fn cmd0(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 1.
    #[command]
    async fn cmd1(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 2.
    #[command]
    async fn cmd2(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 3.
    #[command]
    async fn cmd3(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 4.
    #[command]
    async fn cmd4(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 5.
    #[command]
    async fn cmd5(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 6.
    #[command]
    async fn cmd6(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 7.
    #[command]
    async fn cmd7(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 8.
    #[command]
    async fn cmd8(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 9.
    #[command]
    async fn cmd9(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 10.
    #[command]
    async fn cmd10(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 11.
    #[command]
    async fn cmd11(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 12.
    #[command]
    async fn cmd12(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 13.
    #[command]
    async fn cmd13(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 14.
    #[command]
    async fn cmd14(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 15.
    #[command]
    async fn cmd15(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 16.
    #[command]
    async fn cmd16(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 17.
    #[command]
    async fn cmd17(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 18.
    #[command]
    async fn cmd18(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 19.
    #[command]
    async fn cmd19(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 20.
    #[command]
    async fn cmd20(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 21.
    #[command]
    async fn cmd21(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 22.
    #[command]
    async fn cmd22(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 23.
    #[command]
    async fn cmd23(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 24.
    #[command]
    async fn cmd24(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 25.
    #[command]
    async fn cmd25(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 26.
    #[command]
    async fn cmd26(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 27.
    #[command]
    async fn cmd27(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 28.
    #[command]
    async fn cmd28(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 29.
    #[command]
    async fn cmd29(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 30.
    #[command]
    async fn cmd30(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 31.
    #[command]
    async fn cmd31(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 32.
    #[command]
    async fn cmd32(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 33.
    #[command]
    async fn cmd33(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 34.
    #[command]
    async fn cmd34(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 35.
    #[command]
    async fn cmd35(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 36.
    #[command]
    async fn cmd36(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 37.
    #[command]
    async fn cmd37(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 38.
    #[command]
    async fn cmd38(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    /// Command number 39.
    #[command]
    async fn cmd39(&self, ctx: &Context, n: i64) {
        black_box((ctx, n));
    }

    #[regex(r"^order (\d+) of item0$")]
    async fn re0(&self, ctx: &Context, n: u32) {
        black_box((ctx, n));
    }

    #[regex(r"^order (\d+) of item1$")]
    async fn re1(&self, ctx: &Context, n: u32) {
        black_box((ctx, n));
    }

    #[regex(r"^order (\d+) of item2$")]
    async fn re2(&self, ctx: &Context, n: u32) {
        black_box((ctx, n));
    }

    #[regex(r"^order (\d+) of item3$")]
    async fn re3(&self, ctx: &Context, n: u32) {
        black_box((ctx, n));
    }

    #[regex(r"^order (\d+) of item4$")]
    async fn re4(&self, ctx: &Context, n: u32) {
        black_box((ctx, n));
    }

    #[contains("keyword0", ignore_case)]
    async fn kw0(&self, ctx: &Context) {
        black_box(ctx);
    }

    #[contains("keyword1", ignore_case)]
    async fn kw1(&self, ctx: &Context) {
        black_box(ctx);
    }

    #[contains("keyword2", ignore_case)]
    async fn kw2(&self, ctx: &Context) {
        black_box(ctx);
    }

    #[contains("keyword3", ignore_case)]
    async fn kw3(&self, ctx: &Context) {
        black_box(ctx);
    }

    #[contains("keyword4", ignore_case)]
    async fn kw4(&self, ctx: &Context) {
        black_box(ctx);
    }
}

/// Drops everything (no route in this benchmark sends).
struct NullSender;

#[async_trait]
impl MessageSender for NullSender {
    async fn send(&self, _t: Target, _c: Content) -> Result<SentMessage, ClientError> {
        Err(ClientError::NotConnected)
    }
}

fn message(text: &str) -> Event {
    Event::NewMessage(Message {
        conversation_id: "si_bot_alice".into(),
        seq: 7,
        client_msg_id: "c".into(),
        server_msg_id: "s".into(),
        send_id: "alice".into(),
        recv_id: "bot".into(),
        group_id: None,
        session_type: 1,
        msg_from: 100,
        content_type: 101,
        content: Content::text(text),
        sender_platform_id: 5,
        sender_nickname: "Alice".into(),
        sender_face_url: Default::default(),
        send_time: 1,
        create_time: 1,
        at_user_ids: Vec::new(),
        ex: String::new(),
        is_self: false,
    })
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let (_tx, rx) = tokio::sync::mpsc::channel(1);
    let client = Client::detached("bot", Store::temporary().expect("store"));
    let bot = BotBuilder::from_source(rx, client)
        .handler(Fifty)
        .sender(NullSender)
        .dialogue_storage(MemoryDialogueStorage::new())
        .tracing(false)
        .help(false)
        .handle_ctrl_c(false)
        .build()
        .expect("bot");
    let mut group = c.benchmark_group("dispatch_50_routes");
    let cases = [
        ("first_command", message("/cmd0 5")),
        ("last_command", message("/cmd39 5")),
        ("last_regex", message("order 3 of item4")),
        ("last_keyword", message("this has KEYWORD4 in it")),
        ("no_match", message("just chatting, nothing for the bot")),
        (
            "other_event",
            Event::Typing(Typing {
                conversation_id: "si_bot_alice".into(),
                user_id: "alice".into(),
                platform_ids: vec![5],
            }),
        ),
    ];
    for (name, event) in cases {
        group.bench_function(name, |b| {
            b.to_async(&rt)
                .iter(|| async { bot.handle(black_box(event.clone())).await.expect("handled") })
        });
    }
    group.finish();
}

/// End to end through `Bot::run`: in-memory source → lanes (10 conversations) → chain → ack.
/// Reported per event.
fn bench_lanes(c: &mut Criterion) {
    const EVENTS: u64 = 1000;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let store = Store::temporary().expect("store");
    let events: Vec<Event> = (0..EVENTS)
        .map(|i| {
            let mut e = message(&format!("/cmd{} {i}", i % 40));
            if let Event::NewMessage(m) = &mut e {
                m.conversation_id = format!("si_bot_user{}", i % 10).into();
                m.send_id = format!("user{}", i % 10).into();
            }
            e
        })
        .collect();
    let mut group = c.benchmark_group("dispatcher_lanes");
    group.throughput(criterion::Throughput::Elements(EVENTS));
    group.bench_function("1000_events_10_conversations", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let store = store.clone();
            let events = events.clone();
            async move {
                let mut total = std::time::Duration::ZERO;
                for _ in 0..iters {
                    let (tx, rx) = tokio::sync::mpsc::channel(256);
                    let bot = BotBuilder::from_source(rx, Client::detached("bot", store.clone()))
                        .handler(Fifty)
                        .sender(NullSender)
                        .dialogue_storage(MemoryDialogueStorage::new())
                        .tracing(false)
                        .help(false)
                        .handle_ctrl_c(false)
                        .build()
                        .expect("bot");
                    let started = std::time::Instant::now();
                    let run = tokio::spawn(bot.run());
                    for e in events.iter().cloned() {
                        tx.send(openim_bot::Delivery::unacked(e))
                            .await
                            .expect("send");
                    }
                    drop(tx);
                    run.await.expect("join").expect("run");
                    total += started.elapsed();
                }
                total
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench, bench_lanes);
criterion_main!(benches);
