//! End-to-end tests: every bot on a real session against the in-process sandbox, with
//! simulated users logged in through their own sessions.

use std::io::Write;

use openim_bot::Target;
use openim_bot::event::Event;
use openim_bots::action::Action;
use openim_bots::demo::{BOT, DemoError, World};
use serde_json::json;

/// Transcript lines through `print!`, so the test harness shows them when a test fails.
struct PrintOut;

impl Write for PrintOut {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        print!("{}", String::from_utf8_lossy(buf));
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// "alice" → "Alice".
fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

async fn world(users: &[&str]) -> Result<World, DemoError> {
    // RUST_LOG=openim_bots=debug shows what the bots do.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let mut w = World::start(PrintOut).await?;
    for u in users {
        w.login(u, &capitalized(u)).await?;
    }
    Ok(w)
}

async fn friends_of(w: &World, user: &str) -> Vec<String> {
    let data = w
        .admin_call(
            "/friend/get_friend_list",
            json!({"userID": user, "pagination": {"pageNumber": 1, "showNumber": 100}}),
        )
        .await
        .expect("friend list");
    data["friendsInfo"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["friendUser"]["userID"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn member_ids(w: &World, group: &str) -> Vec<String> {
    let data = w
        .admin_call(
            "/group/get_group_member_list",
            json!({"groupID": group, "pagination": {"pageNumber": 1, "showNumber": 100}}),
        )
        .await
        .expect("member list");
    data["members"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m["userID"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn mute_end(w: &World, group: &str, user: &str) -> i64 {
    let data = w
        .admin_call(
            "/group/get_group_members_info",
            json!({"groupID": group, "userIDs": [user]}),
        )
        .await
        .expect("members info");
    data["members"][0]["muteEndTime"].as_i64().unwrap_or(0)
}

const FRIEND_GATE: &str = r#"
[bots.friend_gate]
accept = "matching"
request_pattern = "(?i)\\bhello\\b"
allow_list = ["vip"]
block_list = ["mallory"]
otherwise = "refuse"
greeting = "Hi {nickname}, welcome aboard."
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn friend_gate_answers_applications_online_and_offline_and_greets() -> Result<(), DemoError> {
    let mut w = world(&["dave", "alice", "bob", "mallory", "vip", "zed"]).await?;
    // Made while the bot is offline: handled at start.
    w.client("dave")?
        .api()
        .add_friend("dave", BOT, "hello there")
        .await
        .expect("apply");
    w.client("bob")?
        .api()
        .add_friend("bob", BOT, "let me in")
        .await
        .expect("apply");
    let m = w.mark();
    w.start_bot(FRIEND_GATE).await?;
    assert_eq!(
        w.wait_private(m, "dave", "welcome aboard").await?,
        "Hi Dave, welcome aboard."
    );
    w.wait_action(0, "bob refused", |a| matches!(&a.action, Action::AnswerFriend { user_id, accept: false, .. } if user_id == "bob"))
        .await?;
    // Online.
    for (user, msg) in [
        ("alice", "Hello!"),
        ("mallory", "hello"),
        ("vip", "no greeting words"),
    ] {
        w.client(user)?
            .api()
            .add_friend(user, BOT, msg)
            .await
            .expect("apply");
    }
    w.wait_private(0, "alice", "welcome aboard").await?;
    w.wait_private(0, "vip", "welcome aboard").await?;
    w.wait(m, "mallory's application rejected", |s| {
        s.user == "mallory" && matches!(&s.event, Event::FriendApplicationRejected(_))
    })
    .await?;
    w.wait_action(0, "mallory refused", |a| {
        matches!(&a.action, Action::AnswerFriend { user_id, accept: false, .. } if user_id == "mallory")
    })
    .await?;
    let mut friends = friends_of(&w, BOT).await;
    friends.sort();
    assert_eq!(friends, ["alice", "dave", "vip"]);
    // Each friend is greeted once, even after a restart and re-sync.
    w.stop_bot().await?;
    w.start_bot(FRIEND_GATE).await?;
    // Friend and application events share one lane: once zed is greeted, any re-sync of the
    // older friends has been handled too.
    w.client("zed")?
        .api()
        .add_friend("zed", BOT, "hello")
        .await
        .expect("apply");
    w.wait_private(0, "zed", "welcome aboard").await?;
    // The message can reach zed before the bot has recorded its send as done.
    w.wait_action(0, "zed's greeting recorded", |a| {
        matches!(&a.action, Action::Send { to: openim_bots::action::Target::User(u), .. } if u == "zed")
    })
    .await?;
    let greetings = w
        .actions()
        .iter()
        .filter(|a| matches!(a.action, Action::Send { .. }))
        .count();
    assert_eq!(greetings, 4);
    assert!(
        w.actions().iter().all(|a| a.result.is_ok()),
        "{:?}",
        w.actions()
    );
    w.shutdown().await
}

const MODERATOR: &str = r#"
[bots.moderator]
groups = ["community"]
banned_words = ["(?i)\\bviagra\\b"]
allowed_domains = ["openim.io"]
mute_after = 2
mute_duration = "10m"
kick_after = 3
join_answer = "(?i)\\bopenim\\b"
welcome = "Welcome {nickname} to {group_id}!"
rules = "No spam."
[bots.moderator.flood]
max_messages = 3
window = "10s"
[bots.moderator.repeat]
max_repeats = 3
window = "1m"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderator_escalates_persists_strikes_handles_commands_and_joins() -> Result<(), DemoError>
{
    let mut w = world(&["alice", "bob", "eve", "neo", "trinity"]).await?;
    w.create_group("community", "Community", BOT, &["alice"], &["bob", "eve"])
        .await?;
    w.start_bot(MODERATOR).await?;
    let g = || Target::group("community");

    // Strike 1: banned word → revoke + warning.
    let m = w.mark();
    w.send("eve", g(), "cheap VIAGRA").await?;
    w.wait_group(m, "alice", "community", "strike 1/3").await?;
    w.wait(m, "alice sees the revoke", |s| {
        s.user == "alice" && matches!(&s.event, Event::MessageRevoked(_))
    })
    .await?;
    // Strike 2: link → revoke + mute.
    let m = w.mark();
    w.send("eve", g(), "see www.spam-shop.biz today").await?;
    w.wait_group(m, "alice", "community", "strike 2/3").await?;
    let now_ms = chrono::Utc::now().timestamp_millis();
    assert!(
        mute_end(&w, "community", "eve").await > now_ms + 9 * 60_000,
        "eve is muted for 10 minutes"
    );
    assert!(
        w.client("eve")?
            .send_text(g(), "still here?")
            .await
            .is_err(),
        "a muted member cannot speak"
    );

    // Restart: strikes are persisted.
    w.stop_bot().await?;
    w.start_bot(MODERATOR).await?;

    // Commands: permission, usage, unmute, strikes.
    let m = w.mark();
    w.send("bob", g(), "/kick @eve").await?;
    w.wait_group(
        m,
        "bob",
        "community",
        "only the group owner and admins can use /kick",
    )
    .await?;
    // The rules are for every member (the welcome and the warnings point members to them).
    let m = w.mark();
    w.send("bob", g(), "/rules").await?;
    w.wait_group(m, "bob", "community", "Rules: No spam.")
        .await?;
    for (bad, usage) in [
        ("/warn", "Usage: /warn"),
        ("/mute @eve forever", "Usage: /mute"),
        ("/strikes @eve now", "Usage: /strikes"),
    ] {
        let m = w.mark();
        w.send("alice", g(), bad).await?;
        w.wait_group(m, "alice", "community", usage).await?;
    }
    // A command on the owner is answered by the bot (the server would refuse it); one the
    // server refuses all the same (a mute past its limit) is answered, not dropped, and its
    // announcement is not sent.
    let m = w.mark();
    w.send("alice", g(), &format!("/kick @{BOT}")).await?;
    w.wait_group(
        m,
        "alice",
        "community",
        &format!("{BOT} is the group owner: /kick does not apply to them."),
    )
    .await?;
    let m = w.mark();
    w.send("alice", g(), "/mute @eve 100000d").await?;
    w.wait_group(m, "alice", "community", "Could not mute eve")
        .await?;
    let m = w.mark();
    w.send("alice", g(), "/unmute @eve").await?;
    w.wait_group(m, "alice", "community", "eve can speak again")
        .await?;
    assert_eq!(mute_end(&w, "community", "eve").await, 0);
    let m = w.mark();
    w.send("alice", g(), "/strikes @eve").await?;
    w.wait_group(m, "alice", "community", "eve has 2/3 strikes")
        .await?;

    // Admins are exempt from the filters (the /rules answer proves the earlier message was handled).
    let m = w.mark();
    w.send("alice", g(), "viagra is a banned word here").await?;
    w.send("alice", g(), "/rules").await?;
    w.wait_group(m, "alice", "community", "Rules: No spam.")
        .await?;
    assert!(
        !w.log_since(m)
            .iter()
            .any(|s| matches!(&s.event, Event::MessageRevoked(_)))
    );

    // Strike 3 (repeated message) → kick.
    let m = w.mark();
    for _ in 0..3 {
        w.send("eve", g(), "follow my channel").await?;
    }
    w.wait_group(m, "alice", "community", "strike 3/3").await?;
    w.wait_action(
        0,
        "eve kicked",
        |a| matches!(&a.action, Action::Kick { user_id, .. } if user_id == "eve"),
    )
    .await?;
    assert!(
        !member_ids(&w, "community")
            .await
            .contains(&"eve".to_owned())
    );

    // Flood: bob's fourth message within 10 s is one too many.
    let m = w.mark();
    for t in ["a", "b", "c", "d"] {
        w.send("bob", g(), t).await?;
    }
    w.wait_group(m, "alice", "community", "flooding").await?;

    // Join applications: the right answer is approved and welcomed, a wrong one refused.
    let m = w.mark();
    w.client("neo")?
        .api()
        .join_group("community", "neo", "OpenIM of course")
        .await
        .expect("apply");
    w.wait_group(m, "alice", "community", "Welcome Neo to community!")
        .await?;
    w.client("trinity")?
        .api()
        .join_group("community", "trinity", "no idea")
        .await
        .expect("apply");
    w.wait_action(0, "trinity refused", |a| {
        matches!(&a.action, Action::AnswerJoin { user_id, accept: false, .. } if user_id == "trinity")
    })
    .await?;
    let members = member_ids(&w, "community").await;
    assert!(
        members.contains(&"neo".to_owned()) && !members.contains(&"trinity".to_owned()),
        "{members:?}"
    );
    let failed: Vec<_> = w
        .actions()
        .into_iter()
        .filter(|a| a.result.is_err())
        .collect();
    assert!(
        matches!(&failed[..], [a] if matches!(&a.action, Action::Mute { user_id, .. } if user_id == "eve")),
        "only the mute past the limit failed (the kick of the owner was not tried): {failed:?}"
    );
    w.shutdown().await
}

const AUTOREPLY: &str = r#"
[bots.autoreply]
cooldown = "1h"
[[bots.autoreply.rules]]
keywords = ["hello", "hi"]
reply = "{0}, {nickname}!"
[[bots.autoreply.rules]]
pattern = "(?i)where is order #(?P<order>\\d+)"
reply = "Order {order} ships today, {nickname} ({user_id})."
scope = "private"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autoreply_templates_scopes_and_per_conversation_cooldown() -> Result<(), DemoError> {
    let mut w = world(&["ann", "ben"]).await?;
    w.create_group("lobby", "Lobby", BOT, &[], &["ann", "ben"])
        .await?;
    w.start_bot(AUTOREPLY).await?;
    // Private: regex with a named capture.
    let m = w.mark();
    w.send("ann", Target::user(BOT), "Where is order #981?")
        .await?;
    assert_eq!(
        w.wait_private(m, "ann", "Order").await?,
        "Order 981 ships today, Ann (ann)."
    );
    // Group: keyword rule; the private-only rule does not answer there.
    let m = w.mark();
    w.send("ben", Target::group("lobby"), "hello folks").await?;
    assert_eq!(w.wait_group(m, "ben", "lobby", "Ben").await?, "hello, Ben!");
    // Cooldown: the group is silent now, but ben's private chat is another conversation.
    let before = w.actions().len();
    let sent = w.send("ann", Target::group("lobby"), "hi ben").await?;
    w.wait_handled(&sent.client_msg_id).await?;
    assert_eq!(
        w.actions().len(),
        before,
        "no reply while #lobby cools down: {:?}",
        w.actions()
    );
    let m = w.mark();
    w.send("ben", Target::user(BOT), "hi bot").await?;
    assert_eq!(w.wait_private(m, "ben", "Ben").await?, "hi, Ben!");
    w.shutdown().await
}

const SUPPORT: &str = r#"
[bots.support]
agents_group = "agents"
[[bots.support.faq]]
pattern = "(?i)opening hours"
answer = "We answer around the clock."
"#;

/// No agents group on the server: the customer hears that no one got the message, instead of
/// waiting on a ticket no agent sees (review-s18-user 4); once the group exists with the bot in
/// it, what it missed is posted there, in order and marked late.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn support_tells_the_customer_when_the_agents_cannot_be_reached() -> Result<(), DemoError> {
    let mut w = world(&["cus", "sam"]).await?;
    w.start_bot(SUPPORT).await?;
    let m = w.mark();
    w.send("cus", Target::user(BOT), "I was charged twice")
        .await?;
    w.wait_private(m, "cus", "cannot reach our agents").await?;
    // The ticket's next message is relayed to the agents: it fails too, and is kept; the
    // customer was told already.
    let m = w.mark();
    let sent = w.send("cus", Target::user(BOT), "hello?").await?;
    w.wait_handled(&sent.client_msg_id).await?;
    let told_again = w
        .log_since(m)
        .iter()
        .filter(|s| s.user == "cus")
        .filter_map(|s| s.bot_private_text().map(str::to_owned))
        .collect::<Vec<_>>();
    assert!(told_again.is_empty(), "told once: {told_again:?}");
    // The group is made, with the bot in it: the ticket's notice and the relay reach it.
    let m = w.mark();
    w.create_group("agents", "Agents", BOT, &[], &["sam"])
        .await?;
    w.wait_group(
        m,
        "sam",
        "agents",
        "(late: the group was out of reach) New ticket #1 from Cus (cus): I was charged twice",
    )
    .await?;
    w.wait_group(m, "sam", "agents", "hello?").await?;
    let posted: Vec<String> = w
        .log_since(m)
        .iter()
        .filter(|s| s.user == "sam")
        .filter_map(|s| s.bot_group_text("agents").map(str::to_owned))
        .collect();
    assert_eq!(posted.len(), 2, "each once: {posted:?}");
    assert!(
        posted[0].contains("New ticket #1") && posted[1].contains("hello?"),
        "in order: {posted:?}"
    );
    assert!(
        posted
            .iter()
            .all(|p| p.starts_with("(late: the group was out of reach) ")),
        "marked late: {posted:?}"
    );
    w.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn support_ticket_survives_restarts_and_relays_both_ways() -> Result<(), DemoError> {
    let mut w = world(&["cus", "sam", "kim"]).await?;
    w.create_group("agents", "Agents", BOT, &[], &["sam", "kim"])
        .await?;
    w.start_bot(SUPPORT).await?;
    let bot = || Target::user(BOT);
    let agents = || Target::group("agents");

    let m = w.mark();
    w.send("cus", bot(), "what are your opening hours?").await?;
    w.wait_private(m, "cus", "around the clock").await?;
    let m = w.mark();
    w.send("cus", bot(), "I was charged twice").await?;
    w.wait_private(m, "cus", "ticket #1 is open").await?;
    w.wait_group(
        m,
        "sam",
        "agents",
        "New ticket #1 from Cus (cus): I was charged twice",
    )
    .await?;

    // Restart before the claim.
    w.stop_bot().await?;
    w.start_bot(SUPPORT).await?;
    let m = w.mark();
    w.send("sam", agents(), "/claim 1").await?;
    w.wait_private(m, "cus", "Sam from our team is now handling your ticket #1")
        .await?;
    let m = w.mark();
    w.send("kim", agents(), "/claim 1").await?;
    w.wait_group(m, "kim", "agents", "already handled by Sam")
        .await?;

    // The bot is down while the customer writes: the message is handled after the restart.
    w.stop_bot().await?;
    let m = w.mark();
    w.send("cus", bot(), "are you still there?").await?;
    w.start_bot(SUPPORT).await?;
    w.wait_group(m, "sam", "agents", "#1 Cus: are you still there?")
        .await?;

    // Agent → customer, from the group and privately.
    let m = w.mark();
    w.send("sam", agents(), "#1 Yes, refund on its way").await?;
    w.wait_private(m, "cus", "Sam (support): Yes, refund on its way")
        .await?;
    let m = w.mark();
    w.send("sam", bot(), "It should arrive tomorrow").await?;
    w.wait_private(m, "cus", "Sam (support): It should arrive tomorrow")
        .await?;

    // Close, satisfaction question, rating.
    let m = w.mark();
    w.send("sam", agents(), "/close 1").await?;
    w.wait_private(m, "cus", "How satisfied are you").await?;
    w.stop_bot().await?;
    w.start_bot(SUPPORT).await?;
    let m = w.mark();
    w.send("cus", bot(), "4").await?;
    w.wait_private(m, "cus", "Thank you for rating ticket #1 4/5")
        .await?;
    w.wait_group(m, "sam", "agents", "rated 4/5").await?;
    // Nothing was handled twice across the restarts.
    let opened = w.actions().iter().filter(|a| matches!(&a.action, Action::Send { text, .. } if text.contains("ticket #1 is open"))).count();
    assert_eq!(opened, 1);
    // A new question opens ticket #2.
    let m = w.mark();
    w.send("cus", bot(), "another problem").await?;
    w.wait_private(m, "cus", "ticket #2 is open").await?;
    w.shutdown().await
}

const ALL_BOTS: &str = r#"
[bots.moderator]
groups = ["g"]
[bots.support]
agents_group = "agents"
[bots.autoreply]
[[bots.autoreply.rules]]
keywords = ["ping"]
reply = "pong"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_messages_and_malformed_commands_never_break_the_bots() -> Result<(), DemoError> {
    let mut w = world(&["ann", "sam"]).await?;
    w.create_group("g", "G", BOT, &["ann"], &[]).await?;
    w.create_group("agents", "Agents", BOT, &[], &["sam"])
        .await?;
    w.start_bot(ALL_BOTS).await?;
    // Non-text content in every kind of conversation.
    for to in [
        Target::user(BOT),
        Target::group("g"),
        Target::group("agents"),
    ] {
        let sender = if to == Target::group("agents") {
            "sam"
        } else {
            "ann"
        };
        w.client(sender)?
            .send_custom(to, "{not json", "", "")
            .await
            .expect("custom message");
    }
    // Malformed commands get usage replies.
    for (user, to, cmd, usage) in [
        ("ann", Target::group("g"), "/mute", "Usage: /mute"),
        ("ann", Target::group("g"), "/kick", "Usage: /kick"),
        (
            "sam",
            Target::group("agents"),
            "/claim soon",
            "Usage: /claim N",
        ),
        ("sam", Target::group("agents"), "#x", "Usage: #N text"),
    ] {
        let m = w.mark();
        w.send(user, to.clone(), cmd).await?;
        let group = match &to {
            Target::Group(g) => g.clone(),
            _ => unreachable!(),
        };
        w.wait_group(m, user, &group, usage).await?;
    }
    // Still answering afterwards.
    let m = w.mark();
    w.send("ann", Target::group("g"), "ping").await?;
    w.wait_group(m, "ann", "g", "pong").await?;
    w.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_to_completion() {
    let summary = openim_bots::demo::run(PrintOut).await.expect("demo");
    assert!(summary.contains(", 0 failed. Demo complete."), "{summary}");
}
