//! The `#[handler]` macro's generated routing, run through a `Bot` on an in-memory source.

mod runtime_common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use openim_bot::prelude::*;
use runtime_common::*;

#[derive(Default)]
struct Tools {
    greeted: AtomicUsize,
}

#[openim_bot::handler]
impl Tools {
    /// Adds two integers.
    ///
    /// Example: `/add 2 3`
    #[command(aliases("plus"))]
    async fn add(&self, ctx: &Context, a: i64, b: i64) -> HandlerResult {
        ctx.reply(format!("{}", a + b)).await?;
        Ok(())
    }

    /// Mutes a user for a while.
    #[command(name = "mute")]
    async fn mute_user(
        &self,
        ctx: &Context,
        user: Mention,
        duration: Duration,
        reason: Rest,
    ) -> HandlerResult {
        ctx.reply(format!(
            "mute {} {}s [{}]",
            user,
            duration.as_secs(),
            reason
        ))
        .await?;
        Ok(())
    }

    /// Says something, optionally loud.
    #[command]
    async fn say(
        &self,
        ctx: &Context,
        msg: &Message,
        word: String,
        times: Option<u8>,
    ) -> HandlerResult {
        let n = times.unwrap_or(1) as usize;
        ctx.reply(format!("{} from {}", word.repeat(n), msg.send_id))
            .await?;
        Ok(())
    }

    /// Only in groups.
    #[command(group_only)]
    async fn groupy(&self, ctx: &Context) -> HandlerResult {
        ctx.reply("group!").await?;
        Ok(())
    }

    /// Only for alice.
    #[command(users("alice"), cooldown = "1h")]
    async fn secret(&self, ctx: &Context) -> HandlerResult {
        ctx.reply("secret").await?;
        Ok(())
    }

    /// Rolls a die of `sides` sides (rarely).
    #[command(cooldown = "1h")]
    async fn roll(&self, ctx: &Context, sides: u8) -> HandlerResult {
        ctx.reply(format!("rolled a d{sides}")).await?;
        Ok(())
    }

    #[regex(r"^snooze (\S+)$", cooldown = "1h")]
    async fn snooze(&self, ctx: &Context, period: Duration) -> HandlerResult {
        ctx.reply(format!("snoozed {}s", period.as_secs())).await?;
        Ok(())
    }

    #[regex(r"^(?P<x>-?\d+)\s*\*\s*(?P<y>-?\d+)$")]
    async fn times(&self, ctx: &Context, y: i64, x: i64) -> HandlerResult {
        ctx.reply(format!("{x}*{y}={}", x * y)).await?;
        Ok(())
    }

    #[regex(r"^remind me in (\S+) to (.+)$")]
    async fn remind(&self, ctx: &Context, after: Duration, what: String) -> HandlerResult {
        ctx.reply(format!("in {}s: {what}", after.as_secs()))
            .await?;
        Ok(())
    }

    #[equals("ping", ignore_case)]
    async fn ping(&self, ctx: &Context) {
        let _ = ctx.reply("pong").await;
    }

    #[starts_with("hello")]
    async fn hello(&self, ctx: &Context) -> HandlerResult {
        self.greeted.fetch_add(1, Ordering::SeqCst);
        ctx.reply("hi!").await?;
        Ok(())
    }

    #[contains("weather", "rain", private_only)]
    async fn weather(&self, ctx: &Context) -> HandlerResult {
        ctx.reply("sunny").await?;
        Ok(())
    }

    #[mentions_me(group_only)]
    async fn mentioned(&self, ctx: &Context, msg: &Message) -> HandlerResult {
        ctx.reply(format!("you said: {}", msg.text().unwrap_or("")))
            .await?;
        Ok(())
    }

    #[on(GroupMemberEntered)]
    async fn welcome(&self, ctx: &Context, event: &GroupMemberEvent) -> HandlerResult {
        ctx.send(
            Target::group(&event.member.group_id),
            format!("welcome {}", event.member.user_id),
        )
        .await?;
        Ok(())
    }
}

async fn run_one(bot: &Bot, event: Event) {
    bot.handle(event).await.expect("bot built from a source");
}

#[tokio::test]
async fn commands_parse_typed_arguments() {
    let (b, _tx, rec) = builder();
    let bot = b.handler(Tools::default()).build().unwrap();
    run_one(&bot, ev(private("u1", "/add 2 40"))).await;
    run_one(&bot, ev(private("u1", "/plus -1 1"))).await;
    run_one(&bot, ev(private("u1", "/mute @bob 10m being rude"))).await;
    run_one(&bot, ev(private("u1", "/say hey"))).await;
    run_one(&bot, ev(private("u1", "/say \"ho \" 3"))).await;
    assert_eq!(
        rec.texts(),
        vec![
            "42",
            "0",
            "mute bob 600s [being rude]",
            "hey from u1",
            "ho ho ho  from u1"
        ]
    );
}

#[tokio::test]
async fn mention_arguments_resolve_to_user_ids() {
    let (b, _tx, rec) = builder();
    let bot = b.handler(Tools::default()).build().unwrap();
    let m = group("g1", "u1", "@bot /mute @Bobby 1h spam", &[BOT, "u_bob"]);
    run_one(&bot, ev(m)).await;
    assert_eq!(rec.texts(), vec!["mute u_bob 3600s [spam]"]);
}

#[tokio::test]
async fn usage_errors_reply_with_the_usage_line() {
    let (b, _tx, rec) = builder();
    let bot = b.handler(Tools::default()).build().unwrap();
    run_one(&bot, ev(private("u1", "/add 2 x"))).await;
    run_one(&bot, ev(private("u1", "/add 2"))).await;
    run_one(&bot, ev(private("u1", "/add 1 2 3"))).await;
    let texts = rec.texts();
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert!(texts[0].contains("`x` is not an integer"), "{}", texts[0]);
    assert!(texts[0].contains("Usage: /add <a> <b>"), "{}", texts[0]);
    assert!(texts[1].contains("missing an integer"), "{}", texts[1]);
    assert!(
        texts[2].contains("unexpected extra text `3`"),
        "{}",
        texts[2]
    );
}

#[tokio::test]
async fn policy_refusals_and_cooldowns_are_explained() {
    let (b, _tx, rec) = builder();
    let bot = b.handler(Tools::default()).build().unwrap();
    run_one(&bot, ev(private("u1", "/groupy"))).await;
    run_one(&bot, ev(group("g1", "u1", "/groupy", &[]))).await;
    run_one(&bot, ev(private("mallory", "/secret"))).await;
    run_one(&bot, ev(private("alice", "/secret"))).await;
    run_one(&bot, ev(private("alice", "/secret"))).await;
    let texts = rec.texts();
    assert_eq!(
        texts[0],
        "You cannot use /groupy: it only works in group chats."
    );
    assert_eq!(texts[1], "group!");
    assert_eq!(
        texts[2],
        "You cannot use /secret: you are not on its list of allowed users."
    );
    assert_eq!(texts[3], "secret");
    assert!(texts[4].starts_with("Please wait "), "{}", texts[4]);
    assert!(
        texts[4].ends_with(" before using /secret again."),
        "{}",
        texts[4]
    );
    // replies go to the right conversation
    let sent = rec.sent();
    assert_eq!(sent[0].0, Target::user("u1"));
    assert_eq!(sent[1].0, Target::group("g1"));
}

#[tokio::test]
async fn a_usage_error_does_not_spend_the_cooldown() {
    let (b, _tx, rec) = builder();
    let bot = b.handler(Tools::default()).build().unwrap();
    for text in [
        "/roll lots",
        "/roll 6",
        "/roll 8",
        "snooze never",
        "snooze 5m",
        "snooze 9m",
    ] {
        run_one(&bot, ev(private("u1", text))).await;
    }
    let texts = rec.texts();
    assert!(texts[0].contains("/roll"), "the usage: {}", texts[0]);
    assert_eq!(texts[1], "rolled a d6", "the corrected command runs");
    assert!(texts[2].starts_with("Please wait "), "{}", texts[2]);
    // A matcher whose capture does not parse leaves its cooldown too.
    assert_eq!(texts[4..], ["snoozed 300s"], "{texts:?}");
}

#[tokio::test]
async fn matchers_capture_and_filter() {
    let (b, _tx, rec) = builder();
    let tools = Arc::new(Tools::default());
    let bot = b.handler_arc(tools.clone()).build().unwrap();
    run_one(&bot, ev(private("u1", "6 * 7"))).await;
    run_one(&bot, ev(private("u1", "remind me in 5m to stretch"))).await;
    run_one(&bot, ev(private("u1", "PING"))).await;
    run_one(&bot, ev(private("u1", "  hello there"))).await;
    run_one(&bot, ev(private("u1", "will it rain?"))).await;
    run_one(&bot, ev(group("g1", "u1", "will it rain?", &[]))).await; // private_only: skipped silently
    run_one(&bot, ev(group("g1", "u1", "@bot how are you", &[BOT]))).await;
    run_one(&bot, ev(group("g1", "u1", "@carol hi", &["carol"]))).await; // not me: nothing
    run_one(&bot, ev(private("u1", "nothing matches this"))).await;
    assert_eq!(
        rec.texts(),
        vec![
            "6*7=42",
            "in 300s: stretch",
            "pong",
            "hi!",
            "sunny",
            "you said: @bot how are you"
        ]
    );
    assert_eq!(tools.greeted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn bad_regex_capture_is_a_usage_error() {
    let (b, _tx, rec) = builder();
    let bot = b.handler(Tools::default()).build().unwrap();
    run_one(&bot, ev(private("u1", "remind me in soon to stretch"))).await;
    let texts = rec.texts();
    assert_eq!(texts.len(), 1);
    assert!(
        texts[0].contains("Tools::remind: after: `soon` is not a duration"),
        "{}",
        texts[0]
    );
}

#[tokio::test]
async fn messages_from_the_bot_itself_are_ignored() {
    let (b, _tx, rec) = builder();
    let bot = b.handler(Tools::default()).build().unwrap();
    run_one(&bot, ev(private(BOT, "ping"))).await;
    run_one(&bot, ev(private(BOT, "/add 1 1"))).await;
    assert!(rec.texts().is_empty());
}

#[tokio::test]
async fn on_routes_receive_their_event() {
    let (b, _tx, rec) = builder();
    let bot = b.handler(Tools::default()).build().unwrap();
    let member = openim_bot::model::GroupMember {
        group_id: "g9".into(),
        user_id: "newbie".into(),
        ..Default::default()
    };
    run_one(
        &bot,
        Event::GroupMemberEntered(GroupMemberEvent {
            member,
            operator_user_id: String::new(),
        }),
    )
    .await;
    assert_eq!(rec.texts(), vec!["welcome newbie"]);
    assert_eq!(rec.sent()[0].0, Target::group("g9"));
}

#[tokio::test]
async fn generated_help_lists_commands_from_doc_comments() {
    let (b, _tx, rec) = builder();
    let bot = b.handler(Tools::default()).build().unwrap();
    run_one(&bot, ev(private("u1", "/help"))).await;
    run_one(&bot, ev(private("u1", "/help plus"))).await;
    run_one(&bot, ev(private("u1", "/help nope"))).await;
    let texts = rec.texts();
    assert!(texts[0].starts_with("Commands:"), "{}", texts[0]);
    assert!(
        texts[0].contains("/add <a> <b> — Adds two integers."),
        "{}",
        texts[0]
    );
    assert!(
        texts[0].contains("/mute <user> <duration> [reason...] — Mutes a user for a while."),
        "{}",
        texts[0]
    );
    assert!(texts[0].contains("/say <word> [times]"), "{}", texts[0]);
    // Restrictions are shown in the list; /help's own argument is optional.
    assert!(
        texts[0].contains("/groupy — Only in groups. (groups only)"),
        "{}",
        texts[0]
    );
    assert!(
        texts[0].ends_with("\n/help [command] — details about one command"),
        "{}",
        texts[0]
    );
    assert!(texts[1].contains("Usage: /add <a> <b>"), "{}", texts[1]);
    // Doc comments' code marks are not shown to chat users.
    assert!(texts[1].contains("Example: /add 2 3"), "{}", texts[1]);
    assert!(texts[1].contains("Aliases: /plus"), "{}", texts[1]);
    assert_eq!(
        texts[2],
        "Unknown command nope. Send /help for the list of commands."
    );
}

#[tokio::test]
async fn routing_table_lists_every_route() {
    let (b, _tx, _rec) = builder();
    let bot = b
        .handler(Tools::default())
        .middleware(AntiFlood::new().per_user(Rate::per_second(5)))
        .build()
        .unwrap();
    let table = bot.routes().to_string();
    println!("{table}");
    assert!(table.contains("NewMessage"), "{table}");
    assert!(table.contains("command /add | /plus"), "{table}");
    assert!(table.contains("[group_only]"), "{table}");
    assert!(
        table.contains("[users(alice), cooldown=3600000ms]"),
        "{table}"
    );
    assert!(
        table.contains("GroupMemberEntered → on(GroupMemberEntered)"),
        "{table}"
    );
    assert!(table.contains("anti_flood"), "{table}");
    assert!(table.contains("Tools::times"), "{table}");
    assert!(table.contains("help::help"), "{table}");
}

struct Replies;

#[openim_bot::handler]
impl Replies {
    #[command]
    async fn quote(&self, ctx: &Context) -> HandlerResult {
        ctx.reply_quote("quoted").await?;
        Ok(())
    }

    #[command]
    async fn mention(&self, ctx: &Context) -> HandlerResult {
        ctx.reply_mention("hey").await?;
        Ok(())
    }

    #[command]
    async fn whoami(&self, ctx: &Context, msg: &Message) -> HandlerResult {
        let me = ctx.me().to_string();
        let kind = ctx.event().name();
        let same =
            ctx.message().map(|m| m.client_msg_id.clone()) == Some(msg.client_msg_id.clone());
        ctx.reply(format!("{me} {kind} {same}")).await?;
        Ok(())
    }
}

#[tokio::test]
async fn reply_variants_build_the_right_content() {
    let (b, _tx, rec) = builder();
    let bot = b.handler(Replies).build().unwrap();
    bot.handle(ev(group("g1", "u7", "/quote", &[])))
        .await
        .unwrap();
    bot.handle(ev(group("g1", "u7", "/mention", &[])))
        .await
        .unwrap();
    bot.handle(ev(private("u7", "/mention"))).await.unwrap();
    bot.handle(ev(private("u7", "/whoami"))).await.unwrap();
    let sent = rec.sent();
    assert!(
        matches!(&sent[0].1, Content::Quote(q) if q.text == "quoted" && q.quote_message.is_some()),
        "{:?}",
        sent[0].1
    );
    match &sent[1].1 {
        Content::AtText(at) => {
            assert_eq!(at.at_user_list, vec!["u7".to_string()]);
            assert_eq!(at.text, "@u7 hey");
        }
        other => panic!("expected @text, got {other:?}"),
    }
    assert_eq!(sent[1].0, Target::group("g1"));
    assert_eq!(sent[2].0, Target::user("u7"));
    assert_eq!(sent[2].1.as_text(), Some("hey"));
    assert_eq!(sent[3].1.as_text(), Some("bot new_message true"));
}
