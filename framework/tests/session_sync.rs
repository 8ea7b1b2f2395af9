//! Sync guarantees against the sandbox: no loss and no duplicate across disconnects, gaps,
//! duplicate pushes and restarts; token expiry; kick; offline catch-up.

mod session_support;

use std::collections::HashMap;

use openim_bot::event::{Event, EventKind};
use openim_bot::{Session, SessionConfig};
use openim_sandbox::Sandbox;
use session_support::*;

/// Receives `n` new messages of `conv`, acking each; asserts seq order and no duplicate.
async fn receive_texts(s: &mut Session, conv: &str, n: usize) -> Vec<String> {
    let mut texts = Vec::new();
    let mut last_seq = 0;
    while texts.len() < n {
        let e = wait_for(
            s,
            &format!("message {} of {n}", texts.len() + 1),
            |e| matches!(e, Event::NewMessage(m) if m.conversation_id == conv),
        )
        .await;
        let Event::NewMessage(m) = e else {
            unreachable!()
        };
        assert!(m.seq > last_seq, "seq order: {} after {}", m.seq, last_seq);
        last_seq = m.seq;
        texts.push(m.text().unwrap_or_default().to_owned());
    }
    texts
}

fn expected(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

#[tokio::test]
async fn forced_disconnects_mid_stream_lose_and_repeat_nothing() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = bot(&sb, "sbot1", dir.path()).await;
    let _alice = peer(&sb, "salice1").await;
    let conv = "si_salice1_sbot1";
    let n = 40;
    for i in 0..n {
        sb.send_text("salice1", "sbot1", false, &format!("m{i}"))
            .await
            .unwrap();
        if i % 10 == 5 {
            sb.faults().drop_connections("sbot1");
        }
    }
    let texts = receive_texts(&mut s, conv, n).await;
    assert_eq!(texts, expected("m", n));
    // Nothing else arrives for that conversation: no duplicates.
    sb.send_text("salice1", "sbot1", false, "end")
        .await
        .unwrap();
    let texts = receive_texts(&mut s, conv, 1).await;
    assert_eq!(texts, ["end"]);
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

#[tokio::test]
async fn seq_gaps_and_duplicate_pushes_are_repaired() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = bot(&sb, "sbot2", dir.path()).await;
    let _alice = peer(&sb, "salice2").await;
    let conv = "si_salice2_sbot2";
    sb.send_text("salice2", "sbot2", false, "g0").await.unwrap();
    sb.faults().skip_next_seq("sbot2");
    sb.send_text("salice2", "sbot2", false, "g1").await.unwrap();
    sb.faults().duplicate_next_push("sbot2");
    sb.send_text("salice2", "sbot2", false, "g2").await.unwrap();
    sb.send_text("salice2", "sbot2", false, "g3").await.unwrap();
    let texts = receive_texts(&mut s, conv, 4).await;
    assert_eq!(texts, expected("g", 4));
    sb.send_text("salice2", "sbot2", false, "end")
        .await
        .unwrap();
    assert_eq!(receive_texts(&mut s, conv, 1).await, ["end"]);
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

#[tokio::test]
async fn restart_from_the_same_data_dir_resumes_from_the_ledger() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let _alice = peer(&sb, "salice3").await;
    let conv = "si_salice3_sbot3";
    let mut s = bot(&sb, "sbot3", dir.path()).await;
    for i in 0..5 {
        sb.send_text("salice3", "sbot3", false, &format!("r{i}"))
            .await
            .unwrap();
    }
    // Handle (ack) r0..r2; r3 and r4 are delivered but never acknowledged (in flight at the
    // "crash").
    let mut seen = Vec::new();
    while seen.len() < 5 {
        let d = tokio::time::timeout(WAIT, s.next()).await.unwrap().unwrap();
        match &d.event {
            Event::NewMessage(m) if m.conversation_id == conv => {
                let text = m.text().unwrap_or_default().to_owned();
                if seen.len() < 3 {
                    d.ack.ack();
                } else {
                    drop(d.ack);
                }
                seen.push(text);
            }
            _ => d.ack.ack(),
        }
    }
    assert_eq!(seen, expected("r", 5));
    drop(s); // crash: no shutdown, no flush
    // Sent while the bot is down.
    for i in 5..8 {
        sb.send_text("salice3", "sbot3", false, &format!("r{i}"))
            .await
            .unwrap();
    }
    let mut s = Session::start(config(&sb, "sbot3", dir.path()))
        .await
        .unwrap();
    let texts = receive_texts(&mut s, conv, 5).await;
    assert_eq!(texts, ["r3", "r4", "r5", "r6", "r7"]);
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

#[tokio::test]
async fn kick_ends_the_session() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = bot(&sb, "sbot4", dir.path()).await;
    sb.faults()
        .kick("sbot4", openim_bot::config::DEFAULT_PLATFORM);
    let e = wait_kind(&mut s, EventKind::KickedOffline).await;
    assert_eq!(e.kind(), EventKind::KickedOffline);
    // The session stops: the stream ends, no reconnect attempt follows.
    let rest = tokio::time::timeout(WAIT, async {
        let mut kinds = Vec::new();
        while let Some(d) = s.next().await {
            kinds.push(d.event.kind());
            d.ack.ack();
        }
        kinds
    })
    .await
    .expect("stream ends");
    assert!(!rest.contains(&EventKind::ConnectSuccess), "{rest:?}");
    sb.shutdown().await;
}

#[tokio::test]
async fn expired_token_without_secret_ends_the_session() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    sb.register_user("sbot5", "Bot").await.unwrap();
    let token = sb.user_token("sbot5", 7).await.unwrap();
    let config = SessionConfig::with_token(sb.api_url(), sb.ws_url(), dir.path(), "sbot5", &token);
    let mut s = Session::start(config).await.unwrap();
    wait_kind(&mut s, EventKind::SyncServerFinish).await;
    sb.faults().expire_token(&token);
    sb.faults().drop_connections("sbot5");
    let e = wait_kind(&mut s, EventKind::UserTokenExpired).await;
    assert!(matches!(e, Event::UserTokenExpired(ref x) if !x.renewed));
    let ended = tokio::time::timeout(WAIT, async {
        while let Some(d) = s.next().await {
            d.ack.ack();
        }
    })
    .await;
    assert!(ended.is_ok(), "session must end");
    sb.shutdown().await;
}

#[tokio::test]
async fn expired_token_with_secret_is_renewed_and_nothing_is_lost() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = bot(&sb, "sbot6", dir.path()).await;
    let _alice = peer(&sb, "salice6").await;
    let token = s.client().api().token().unwrap();
    // The sandbox mints a distinct token on every re-issue, so the renewed one differs.
    sb.faults().expire_token(&token);
    sb.faults().drop_connections("sbot6");
    let e = wait_kind(&mut s, EventKind::UserTokenExpired).await;
    assert!(matches!(e, Event::UserTokenExpired(ref x) if x.renewed));
    sb.send_text("salice6", "sbot6", false, "after renewal")
        .await
        .unwrap();
    let texts = receive_texts(&mut s, "si_salice6_sbot6", 1).await;
    assert_eq!(texts, ["after renewal"]);
    assert_ne!(s.client().api().token().unwrap(), token);
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

#[tokio::test]
async fn offline_friend_and_group_applications_are_caught_up_once() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let alice = peer(&sb, "salice7").await;
    let s = bot(&sb, "sbot7", dir.path()).await;
    let group = s
        .client()
        .api()
        .create_group("sbot7", &[], "Bot group")
        .await
        .unwrap()
        .group_id;
    s.shutdown().await.unwrap();
    // While the bot is offline: a friend application, a group application, a message.
    alice
        .api
        .add_friend("salice7", "sbot7", "offline hello")
        .await
        .unwrap();
    alice
        .api
        .join_group(&group, "salice7", "offline join")
        .await
        .unwrap();
    sb.send_text("salice7", "sbot7", false, "while you were away")
        .await
        .unwrap();
    let mut s = Session::start(config(&sb, "sbot7", dir.path()))
        .await
        .unwrap();
    let events = collect_until(&mut s, "sync finish", |e| {
        e.kind() == EventKind::SyncServerFinish
    })
    .await;
    let count = |k: EventKind| events.iter().filter(|e| e.kind() == k).count();
    assert_eq!(count(EventKind::FriendApplicationAdded), 1, "{events:?}");
    assert_eq!(count(EventKind::GroupApplicationAdded), 1, "{events:#?}");
    let away = |events: &[Event]| {
        events
            .iter()
            .filter(
                |e| matches!(e, Event::NewMessage(m) if m.text() == Some("while you were away")),
            )
            .count()
    };
    assert_eq!(away(&events), 1);
    let fa = events.iter().find_map(|e| match e {
        Event::FriendApplicationAdded(a) => Some(a.clone()),
        _ => None,
    });
    assert_eq!(fa.map(|a| a.req_msg), Some("offline hello".to_owned()));
    let ga = events.iter().find_map(|e| match e {
        Event::GroupApplicationAdded(a) => Some(a.clone()),
        _ => None,
    });
    assert_eq!(
        ga.map(|a| (a.group_id, a.user_id)),
        Some((group.clone(), "salice7".to_owned()))
    );
    // A reconnect does not report them again.
    s.client().reconnect();
    let events = collect_until(&mut s, "sync finish", |e| {
        e.kind() == EventKind::SyncServerFinish
    })
    .await;
    assert!(
        !events.iter().any(|e| matches!(
            e.kind(),
            EventKind::FriendApplicationAdded | EventKind::GroupApplicationAdded
        )) && away(&events) == 0,
        "{events:?}"
    );
    s.shutdown().await.unwrap();
    // Nor does a restart.
    let mut s = Session::start(config(&sb, "sbot7", dir.path()))
        .await
        .unwrap();
    let events = collect_until(&mut s, "sync finish", |e| {
        e.kind() == EventKind::SyncServerFinish
    })
    .await;
    assert!(
        !events.iter().any(|e| matches!(
            e.kind(),
            EventKind::FriendApplicationAdded | EventKind::GroupApplicationAdded
        )) && away(&events) == 0,
        "{events:?}"
    );
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

#[tokio::test]
async fn offline_relation_changes_are_caught_up() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let alice = peer(&sb, "salice8").await;
    let _carol = peer(&sb, "scarol8").await;
    let s = bot(&sb, "sbot8", dir.path()).await;
    let g = alice
        .api
        .create_group("salice8", &["sbot8"], "G")
        .await
        .unwrap()
        .group_id;
    let mut s = s;
    wait_kind(&mut s, EventKind::JoinedGroupAdded).await;
    s.shutdown().await.unwrap();
    // Offline: alice becomes a friend, carol is invited, the bot is made admin.
    sb.make_friends("sbot8", "salice8").await.unwrap();
    alice
        .api
        .invite_to_group(&g, &["scarol8"], "")
        .await
        .unwrap();
    let mut s = Session::start(config(&sb, "sbot8", dir.path()))
        .await
        .unwrap();
    let events = collect_until(&mut s, "sync finish", |e| {
        e.kind() == EventKind::SyncServerFinish
    })
    .await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::FriendAdded(f) if f.user_id == "salice8")),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::GroupMemberInvited(m) if m.member.user_id == "scarol8")),
        "{events:?}"
    );
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

#[test]
fn unused_helpers_are_fine() {
    let _ = HashMap::<u8, u8>::new();
}

#[tokio::test]
async fn durable_acks_restart_repeats_only_in_flight() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let _alice = peer(&sb, "salice9").await;
    let conv = "si_salice9_sbot9";
    let mut cfg = config(&sb, "sbot9", dir.path());
    let _ = sb.register_user("sbot9", "Bot").await;
    cfg.durable_acks = true;
    let mut s = Session::start(cfg.clone()).await.unwrap();
    wait_kind(&mut s, EventKind::SyncServerFinish).await;
    for i in 0..4 {
        sb.send_text("salice9", "sbot9", false, &format!("d{i}"))
            .await
            .unwrap();
    }
    assert_eq!(receive_texts(&mut s, conv, 3).await, expected("d", 3));
    drop(s); // crash right after the acks
    let mut s = Session::start(cfg).await.unwrap();
    assert_eq!(receive_texts(&mut s, conv, 1).await, ["d3"]);
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

/// Pushes queued behind each other (held by the sandbox, then released at once) are handled as
/// bursts: every message once and in seq order, and the conversation rows written behind at the
/// end of each burst are exactly what the last conversation events reported.
#[tokio::test]
async fn released_push_burst_is_delivered_once_in_order_and_rows_are_written_behind() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = bot(&sb, "sbot9", dir.path()).await;
    let senders = ["salice9", "sbob9"];
    for p in senders {
        let _ = peer(&sb, p).await;
    }
    let n = 30;
    sb.faults().stall_pushes("sbot9");
    for i in 0..n {
        for p in senders {
            sb.send_text(p, "sbot9", false, &format!("{p}-{i}"))
                .await
                .unwrap();
        }
    }
    sb.faults().release_pushes("sbot9");
    let mut texts: HashMap<String, Vec<String>> = HashMap::new();
    let mut last_row = HashMap::new();
    let mut messages = 0;
    let events = collect_until(
        &mut s,
        "total unread of the whole burst",
        |e| matches!(e, Event::TotalUnreadCountChanged(t) if t.total_unread_count == 2 * n as i32),
    )
    .await;
    for e in &events {
        match e {
            Event::NewMessage(m) => {
                messages += 1;
                texts
                    .entry(m.conversation_id.to_string())
                    .or_default()
                    .push(m.text().unwrap_or_default().to_owned());
            }
            Event::NewConversation(c) | Event::ConversationChanged(c) => {
                for row in &c.conversations {
                    last_row.insert(row.conversation_id.to_string(), row.clone());
                }
            }
            _ => {}
        }
    }
    assert_eq!(messages, 2 * n, "every message exactly once");
    for p in senders {
        let conv = format!("si_{p}_sbot9");
        let prefix = format!("{p}-");
        assert_eq!(texts[&conv], expected(&prefix, n), "order in {conv}");
        let row = &last_row[&conv];
        assert_eq!(row.unread_count, n as i32);
        let latest = row.latest_msg.as_ref().expect("latest message");
        assert_eq!(
            latest.text.as_deref(),
            Some(format!("{p}-{}", n - 1).as_str())
        );
        let stored = s.client().store().conversation(&conv).unwrap();
        assert_eq!(stored.as_ref(), Some(row), "the reported row was written");
    }
    assert_eq!(
        s.client().store().total_unread().unwrap(),
        2 * n as i32,
        "cached total follows the batched writes"
    );
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

/// The bot's own sends are never reported as new messages, also when they are pulled again
/// after a restart (an unacknowledged message before them holds the watermark back): the
/// own-send record survives the restart.
#[tokio::test]
async fn own_sends_pulled_again_after_a_restart_are_not_reported() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let _alice = peer(&sb, "salice10").await;
    let conv = "si_salice10_sbot10";
    let mut s = bot(&sb, "sbot10", dir.path()).await;
    sb.send_text("salice10", "sbot10", false, "q0")
        .await
        .unwrap();
    // q0 is delivered and never acknowledged: everything after it is pulled again later.
    loop {
        let d = tokio::time::timeout(WAIT, s.next()).await.unwrap().unwrap();
        match &d.event {
            Event::NewMessage(m) if m.conversation_id == conv => {
                assert_eq!(m.text(), Some("q0"));
                drop(d.ack);
                break;
            }
            _ => d.ack.ack(),
        }
    }
    s.client()
        .send_text(openim_bot::Target::user("salice10"), "own1")
        .await
        .unwrap();
    sb.send_text("salice10", "sbot10", false, "q1")
        .await
        .unwrap();
    // The echo of own1 came before q1 (seq order) and was not reported.
    assert_eq!(receive_texts(&mut s, conv, 1).await, ["q1"]);
    s.shutdown().await.unwrap();

    let mut s = Session::start(config(&sb, "sbot10", dir.path()))
        .await
        .unwrap();
    // q0 and q1 again (the watermark stayed before q0), own1 not.
    assert_eq!(receive_texts(&mut s, conv, 2).await, ["q0", "q1"]);
    sb.send_text("salice10", "sbot10", false, "end")
        .await
        .unwrap();
    assert_eq!(receive_texts(&mut s, conv, 1).await, ["end"]);
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

/// Registers `n` peers named `{prefix}00`, `{prefix}01`, ... and returns their user IDs.
async fn peers_named(sb: &Sandbox, prefix: &str, n: usize) -> Vec<String> {
    let ids: Vec<String> = (0..n).map(|i| format!("{prefix}{i:02}")).collect();
    for id in &ids {
        let _ = peer(sb, id).await;
    }
    ids
}

/// One text `{peer}-{round}` from every peer to the bot.
async fn send_round(sb: &Sandbox, peers: &[String], bot_id: &str, round: usize) {
    for p in peers {
        sb.send_text(p, bot_id, false, &format!("{p}-{round}"))
            .await
            .unwrap();
    }
}

/// A released burst spread over many conversations (each touched twice, the burst's journal
/// entries cut into several pieces) is delivered exactly once in order per conversation, and a
/// restart from the same data dir repeats none of it and reads every row back as reported.
#[tokio::test]
async fn burst_over_many_conversations_survives_a_restart_without_repeats() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let bot_id = "sbot11";
    let mut s = bot(&sb, bot_id, dir.path()).await;
    let peers = peers_named(&sb, "smany", 60).await;
    sb.faults().stall_pushes(bot_id);
    for round in 0..2 {
        send_round(&sb, &peers, bot_id, round).await;
    }
    sb.faults().release_pushes(bot_id);
    let total = 2 * peers.len();
    let events = collect_until(
        &mut s,
        "total unread of the whole burst",
        |e| matches!(e, Event::TotalUnreadCountChanged(t) if t.total_unread_count == total as i32),
    )
    .await;
    let (texts, last_row) = texts_and_last_rows(&events);
    assert_eq!(
        texts.values().map(Vec::len).sum::<usize>(),
        total,
        "each once"
    );
    for p in &peers {
        let conv = single_chat(p, bot_id);
        assert_eq!(
            texts[&conv],
            [format!("{p}-0"), format!("{p}-1")],
            "order in {conv}"
        );
        assert_eq!(last_row[&conv].unread_count, 2);
    }
    s.shutdown().await.unwrap();

    let mut s = Session::start(config(&sb, bot_id, dir.path()))
        .await
        .unwrap();
    let first = &peers[0];
    sb.send_text(first, bot_id, false, "after restart")
        .await
        .unwrap();
    let e = wait_for(&mut s, "the message sent after the restart", |e| {
        matches!(e, Event::NewMessage(_))
    })
    .await;
    let Event::NewMessage(m) = e else {
        unreachable!()
    };
    assert_eq!(
        m.text(),
        Some("after restart"),
        "nothing of the burst is repeated"
    );
    let client = s.client();
    let store = client.store();
    for p in &peers[1..] {
        let conv = single_chat(p, bot_id);
        let stored = store.conversation(&conv).unwrap();
        assert_eq!(stored.as_ref(), Some(&last_row[&conv]), "{conv} read back");
    }
    assert_eq!(store.total_unread().unwrap(), total as i32 + 1);
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

/// Two push bursts over the same conversations: the second reads each row the first wrote (the
/// engine keeps where the store put it) and reports it changed, with both messages counted.
#[tokio::test]
async fn second_burst_over_many_conversations_reads_the_rows_the_first_wrote() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let bot_id = "sbot13";
    let mut s = bot(&sb, bot_id, dir.path()).await;
    let peers = peers_named(&sb, "stwice", 50).await;
    let mut reported = Vec::new();
    for round in 0..2 {
        sb.faults().stall_pushes(bot_id);
        send_round(&sb, &peers, bot_id, round).await;
        sb.faults().release_pushes(bot_id);
        let total = (round + 1) * peers.len();
        let events = collect_until(
            &mut s,
            "total unread of the burst",
            |e| matches!(e, Event::TotalUnreadCountChanged(t) if t.total_unread_count == total as i32),
        )
        .await;
        reported.push(events);
    }
    let (texts, last_row) = texts_and_last_rows(&reported[1]);
    let changed: HashMap<String, bool> = reported[1]
        .iter()
        .filter_map(|e| match e {
            Event::NewConversation(c) => Some((c, false)),
            Event::ConversationChanged(c) => Some((c, true)),
            _ => None,
        })
        .flat_map(|(c, changed)| {
            c.conversations
                .iter()
                .map(move |row| (row.conversation_id.to_string(), changed))
        })
        .collect();
    let client = s.client();
    let store = client.store();
    for p in &peers {
        let conv = single_chat(p, bot_id);
        assert_eq!(
            texts[&conv],
            [format!("{p}-1")],
            "{conv}: the new message once"
        );
        assert_eq!(
            changed.get(&conv),
            Some(&true),
            "{conv} reported as changed"
        );
        let row = &last_row[&conv];
        assert_eq!(
            (row.unread_count, row.max_seq),
            (2, 2),
            "{conv} counts both"
        );
        let latest = row.latest_msg.as_ref().and_then(|m| m.text.as_deref());
        assert_eq!(latest, Some(format!("{p}-1").as_str()), "{conv} latest");
        assert_eq!(store.conversation(&conv).unwrap().as_ref(), Some(row));
    }
    assert_eq!(store.total_unread().unwrap(), 2 * peers.len() as i32);
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

#[tokio::test]
async fn offline_catch_up_over_many_conversations_reports_every_row_once_written() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let bot_id = "sbot12";
    let s = bot(&sb, bot_id, dir.path()).await;
    s.shutdown().await.unwrap();
    // Sent while the bot is down: the connect catch-up pulls one answer per conversation, and
    // answers already arrived are processed as one burst.
    let peers = peers_named(&sb, "scatch", 40).await;
    for p in &peers {
        for i in 0..3 {
            sb.send_text(p, bot_id, false, &format!("{p}-{i}"))
                .await
                .unwrap();
        }
    }
    let total = 3 * peers.len();
    let mut s = Session::start(config(&sb, bot_id, dir.path()))
        .await
        .unwrap();
    let events = collect_until(
        &mut s,
        "total unread of the whole catch-up",
        |e| matches!(e, Event::TotalUnreadCountChanged(t) if t.total_unread_count == total as i32),
    )
    .await;
    let (texts, last_row) = texts_and_last_rows(&events);
    let client = s.client();
    let store = client.store();
    for p in &peers {
        let conv = single_chat(p, bot_id);
        assert_eq!(
            texts[&conv],
            expected(&format!("{p}-"), 3),
            "{conv}: once, in order"
        );
        let row = &last_row[&conv];
        assert_eq!((row.unread_count, row.max_seq), (3, 3), "{conv} reported");
        let stored = store.conversation(&conv).unwrap();
        assert_eq!(stored.as_ref(), Some(row), "{conv} written as reported");
    }
    assert_eq!(
        texts.values().map(Vec::len).sum::<usize>(),
        total,
        "nothing else"
    );
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

/// The texts of the new messages per conversation, in delivery order, and the last row each
/// conversation event reported per conversation.
fn texts_and_last_rows(
    events: &[Event],
) -> (
    HashMap<String, Vec<String>>,
    HashMap<String, openim_bot::model::Conversation>,
) {
    let mut texts: HashMap<String, Vec<String>> = HashMap::new();
    let mut last_row = HashMap::new();
    for e in events {
        match e {
            Event::NewMessage(m) => texts
                .entry(m.conversation_id.to_string())
                .or_default()
                .push(m.text().unwrap_or_default().to_owned()),
            Event::NewConversation(c) | Event::ConversationChanged(c) => {
                for row in &c.conversations {
                    last_row.insert(row.conversation_id.to_string(), row.clone());
                }
            }
            _ => {}
        }
    }
    (texts, last_row)
}

/// The ID of the single chat between two users (`si_` + the two IDs in order).
fn single_chat(a: &str, b: &str) -> String {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    format!("si_{lo}_{hi}")
}

/// A read on another device of the bot, between two messages of one push burst, stays read: the
/// burst's pending row must not overwrite the row the read receipt wrote.
#[tokio::test]
async fn read_on_another_device_inside_a_push_burst_is_kept() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = bot(&sb, "rdbot", dir.path()).await;
    let _alice = peer(&sb, "rdalice").await;
    let conv = "si_rdalice_rdbot";
    sb.send_text("rdalice", "rdbot", false, "a0").await.unwrap();
    assert_eq!(receive_texts(&mut s, conv, 1).await, ["a0"]);
    sb.faults().stall_pushes("rdbot");
    sb.send_text("rdalice", "rdbot", false, "a1").await.unwrap();
    let admin = sb.admin_token().await.unwrap();
    sb.call(
        "/msg/mark_conversation_as_read",
        &admin,
        serde_json::json!({"conversationID": conv, "userID": "rdbot", "hasReadSeq": 2, "seqs": []}),
    )
    .await
    .unwrap();
    sb.send_text("rdalice", "rdbot", false, "a2").await.unwrap();
    sb.faults().release_pushes("rdbot");
    // The burst's row after a2 (seq 3): only a2 is unread.
    let e = wait_for(&mut s, "the row after a2", |e| {
        matches!(e, Event::ConversationChanged(c)
            if c.conversations.iter().any(|c| c.conversation_id == conv && c.max_seq == 3))
    })
    .await;
    let Event::ConversationChanged(c) = e else {
        unreachable!()
    };
    let row = c
        .conversations
        .iter()
        .find(|c| c.conversation_id == conv)
        .unwrap();
    assert_eq!((row.has_read_seq, row.unread_count), (2, 1), "reported row");
    let stored = s.client().store().conversation(conv).unwrap().unwrap();
    assert_eq!(
        (stored.has_read_seq, stored.unread_count),
        (2, 1),
        "stored row"
    );
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

/// Deterministic pseudo-random numbers for the fault schedule below (xorshift).
struct Schedule(u64);

impl Schedule {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Handles events until `got` holds as many texts per key as `sent`, checking each new one
/// against what was sent (seq order, no duplicate, no loss). Keys are senders, or "group" for
/// the group chat; with `rows`, the last reported row of every conversation is kept there too.
async fn receive_sent(
    s: &mut Session,
    sent: &HashMap<String, Vec<String>>,
    got: &mut HashMap<String, Vec<i64>>,
    mut rows: Option<&mut HashMap<String, openim_bot::model::Conversation>>,
) {
    let want: usize = sent.values().map(Vec::len).sum();
    while got.values().map(Vec::len).sum::<usize>() < want {
        let d = tokio::time::timeout(WAIT, s.next())
            .await
            .expect("every sent message arrives")
            .expect("session open");
        if let Some(rows) = rows.as_deref_mut() {
            note_rows(&d.event, rows);
        }
        if let Event::NewMessage(m) = &d.event
            && let Some(text) = m.text().filter(|t| t.starts_with("mc"))
        {
            let key = if m.conversation_id.starts_with("sg_") {
                "group".to_string()
            } else {
                m.send_id.to_string()
            };
            let seqs = got.entry(key.clone()).or_default();
            if let Some(last) = seqs.last() {
                assert!(m.seq > *last, "{key}: seq {} after {last}", m.seq);
            }
            seqs.push(m.seq);
            let n = seqs.len();
            assert_eq!(
                sent[&key].get(n - 1).map(String::as_str),
                Some(text),
                "{key} #{n}"
            );
        }
        d.ack.ack();
    }
}

/// Many conversations at once (24 single chats and a group) through dropped connections,
/// skipped and duplicated pushes, stalled-then-released bursts and restarts with messages sent
/// meanwhile: every message reaches the handler once, in seq order per conversation.
#[tokio::test]
async fn many_conversations_through_random_faults_and_restarts_are_exactly_once_in_order() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let bot_id = "mcbot";
    let mut s = bot(&sb, bot_id, dir.path()).await;
    let peers = peers_named(&sb, "mcp", 24).await;
    let members: Vec<&str> = peers.iter().map(String::as_str).collect();
    let group = sb.create_group(bot_id, &members, "mc").await.unwrap();
    let mut sent: HashMap<String, Vec<String>> = HashMap::new();
    let mut got: HashMap<String, Vec<i64>> = HashMap::new();
    let mut r = Schedule(0x2545_f491_4f6c_dd1d);
    let mut n = 0;
    for round in 0..12 {
        let stalled = r.below(3) == 0;
        if stalled {
            sb.faults().stall_pushes(bot_id);
        }
        // Then one message in every conversation: a skipped push is noticed at the next push
        // of its conversation.
        let tails = peers
            .iter()
            .map(|p| (p.clone(), false))
            .chain([(peers[0].clone(), true)]);
        let randoms: Vec<(String, bool)> = (0..60)
            .map(|_| {
                let p = peers[r.below(peers.len() as u64) as usize].clone();
                (p, r.below(4) == 0)
            })
            .collect();
        for (i, (p, in_group)) in randoms.into_iter().chain(tails).enumerate() {
            if i < 60 {
                match r.below(25) {
                    0 => {
                        sb.faults().drop_connections(bot_id);
                    }
                    // A stalled push does not use the skip up (it would hit a later one).
                    1 | 2 if !stalled => sb.faults().skip_next_seq(bot_id),
                    3 | 4 => sb.faults().duplicate_next_push(bot_id),
                    _ => {}
                }
            }
            n += 1;
            let text = format!("mc{n}");
            let (to, key) = if in_group {
                (group.as_str(), "group".to_string())
            } else {
                (bot_id, p.clone())
            };
            sb.send_text(&p, to, in_group, &text).await.unwrap();
            sent.entry(key).or_default().push(text);
        }
        if stalled {
            sb.faults().release_pushes(bot_id);
        }
        receive_sent(&mut s, &sent, &mut got, None).await;
        if round % 4 == 3 {
            s.shutdown().await.unwrap();
            for _ in 0..20 {
                let p = peers[r.below(peers.len() as u64) as usize].clone();
                n += 1;
                let text = format!("mc{n}");
                sb.send_text(&p, bot_id, false, &text).await.unwrap();
                sent.entry(p).or_default().push(text);
            }
            s = Session::start(config(&sb, bot_id, dir.path()))
                .await
                .unwrap();
        }
    }
    // One more message per peer: a duplicate still on its way would arrive before it.
    for p in &peers {
        n += 1;
        let text = format!("mc{n}");
        sb.send_text(p, bot_id, false, &text).await.unwrap();
        sent.entry(p.clone()).or_default().push(text);
    }
    receive_sent(&mut s, &sent, &mut got, None).await;
    for (key, texts) in &sent {
        assert_eq!(got[key].len(), texts.len(), "{key}");
    }
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

/// Reads on another device of the bot (`/msg/mark_conversation_as_read` for the bot: 2200 in its
/// notification stream) mixed into message traffic through dropped connections, duplicated
/// pushes, stalled-then-released bursts and restarts with messages and reads made while the bot is
/// down (a connect's catch-up then bursts chat and notification ranges together): every message
/// reaches the handler once, in seq order, and after each round every chat's last reported row and
/// its stored row say what the server says (max seq, read seq, unread, latest text).
///
/// No skipped pushes: a read of a message whose push was lost is ignored until the next connect
/// corrects it (sdk-events §6.9: a 2200 for a message not stored locally is ignored), so the rows
/// would only be right after a reconnect.
#[tokio::test]
async fn reads_on_another_device_through_faults_and_restarts_leave_every_row_right() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let bot_id = "rfbot";
    let mut s = bot(&sb, bot_id, dir.path()).await;
    let peers = peers_named(&sb, "rfp", 24).await;
    let admin = sb.admin_token().await.unwrap();
    let mut sent: HashMap<String, Vec<String>> = HashMap::new();
    let mut got: HashMap<String, Vec<i64>> = HashMap::new();
    let mut read: HashMap<String, i64> = HashMap::new();
    let mut rows = HashMap::new();
    let mut r = Schedule(0x9E37_79B9_7F4A_7C15);
    let mut n = 0;
    for round in 0..9 {
        let stalled = r.below(3) == 0;
        if stalled {
            sb.faults().stall_pushes(bot_id);
        }
        // 60 random sends and reads, then one message in every chat.
        let randoms: Vec<(String, bool)> = (0..60)
            .map(|_| {
                let p = peers[r.below(peers.len() as u64) as usize].clone();
                (p, r.below(5) == 0)
            })
            .collect();
        let tails = peers.iter().map(|p| (p.clone(), false));
        for (i, (p, is_read)) in randoms.into_iter().chain(tails).enumerate() {
            if is_read {
                mark_read(&sb, &admin, bot_id, &p, &sent, &mut read, &mut r).await;
                continue;
            }
            if i < 60 {
                match r.below(25) {
                    0 => {
                        sb.faults().drop_connections(bot_id);
                    }
                    1..=3 => sb.faults().duplicate_next_push(bot_id),
                    _ => {}
                }
            }
            n += 1;
            let text = format!("mc{n}");
            sb.send_text(&p, bot_id, false, &text).await.unwrap();
            sent.entry(p).or_default().push(text);
        }
        if stalled {
            sb.faults().release_pushes(bot_id);
        }
        receive_sent(&mut s, &sent, &mut got, Some(&mut rows)).await;
        await_rows(&mut s, bot_id, &sent, &read, &mut rows, round).await;
        if round % 3 == 2 {
            s.shutdown().await.unwrap();
            for p in &peers {
                for _ in 0..r.below(30) {
                    n += 1;
                    let text = format!("mc{n}");
                    sb.send_text(p, bot_id, false, &text).await.unwrap();
                    sent.entry(p.clone()).or_default().push(text);
                }
                if r.below(3) == 0 {
                    mark_read(&sb, &admin, bot_id, p, &sent, &mut read, &mut r).await;
                    for _ in 0..r.below(4) {
                        n += 1;
                        let text = format!("mc{n}");
                        sb.send_text(p, bot_id, false, &text).await.unwrap();
                        sent.entry(p.clone()).or_default().push(text);
                    }
                }
            }
            s = Session::start(config(&sb, bot_id, dir.path()))
                .await
                .unwrap();
            receive_sent(&mut s, &sent, &mut got, Some(&mut rows)).await;
            await_rows(&mut s, bot_id, &sent, &read, &mut rows, round).await;
        }
    }
    for (p, texts) in &sent {
        assert_eq!(got[p].len(), texts.len(), "{p}");
    }
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

/// The bot reads its chat with `peer` on another device, up to a random seq past what it read
/// before (nothing if everything sent is read already).
async fn mark_read(
    sb: &Sandbox,
    admin: &str,
    bot_id: &str,
    peer: &str,
    sent: &HashMap<String, Vec<String>>,
    read: &mut HashMap<String, i64>,
    r: &mut Schedule,
) {
    let max = sent.get(peer).map_or(0, |v| v.len() as i64);
    let from = read.get(peer).copied().unwrap_or(0);
    if max <= from {
        return;
    }
    let to = from + 1 + r.below((max - from) as u64) as i64;
    read.insert(peer.to_owned(), to);
    sb.call(
        "/msg/mark_conversation_as_read",
        admin,
        serde_json::json!({
            "conversationID": single_chat(peer, bot_id),
            "userID": bot_id,
            "hasReadSeq": to,
            "seqs": [],
        }),
    )
    .await
    .unwrap();
}

/// Keeps the last reported row of every conversation.
fn note_rows(e: &Event, rows: &mut HashMap<String, openim_bot::model::Conversation>) {
    if let Event::ConversationChanged(c) | Event::NewConversation(c) = e {
        for row in &c.conversations {
            rows.insert(row.conversation_id.to_string(), row.clone());
        }
    }
}

/// Handles events until every chat's last reported row and its stored row match the server
/// (messages are all in by now: another one is a duplicate).
async fn await_rows(
    s: &mut Session,
    bot_id: &str,
    sent: &HashMap<String, Vec<String>>,
    read: &HashMap<String, i64>,
    rows: &mut HashMap<String, openim_bot::model::Conversation>,
    round: usize,
) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let mut wrong = Vec::new();
        for (p, texts) in sent {
            let conv = single_chat(p, bot_id);
            let max = texts.len() as i64;
            let has_read = read.get(p).copied().unwrap_or(0);
            let want = (max, has_read, max - has_read, texts.last().cloned());
            let view = |c: &openim_bot::model::Conversation| {
                let text = c
                    .latest_msg
                    .as_ref()
                    .and_then(|m| m.text.as_deref().map(String::from));
                (c.max_seq, c.has_read_seq, i64::from(c.unread_count), text)
            };
            let reported = rows.get(&conv).map(view);
            let stored = s.client().store().conversation(&conv).unwrap();
            let stored = stored.as_ref().map(view);
            if reported.as_ref() != Some(&want) || stored.as_ref() != Some(&want) {
                wrong.push(format!(
                    "{conv}: server {want:?}, reported {reported:?}, stored {stored:?}"
                ));
            }
        }
        if wrong.is_empty() {
            return;
        }
        let d = match tokio::time::timeout_at(deadline, s.next()).await {
            Ok(Some(d)) => d,
            Ok(None) => panic!("session ended"),
            Err(_) => panic!("round {round}: rows still differ:\n{}", wrong.join("\n")),
        };
        note_rows(&d.event, rows);
        if let Event::NewMessage(m) = &d.event {
            assert!(
                !m.text().is_some_and(|t| t.starts_with("mc")),
                "a message twice: {:?} seq {}",
                m.text(),
                m.seq
            );
        }
        d.ack.ack();
    }
}

/// A crash (the session dropped: no shutdown, no flush, no compaction joined) right after a
/// push burst over many conversations whose acks are durable: the store's journals are files of
/// their own under `<data dir>/journal/`. The store opened as the crash left it (before any
/// session could rebuild anything) reads every row and the unread total back from them, and
/// the restarted session, which delivers nothing of the burst again, names a revoked message's
/// sender and send time from the message index replayed from them.
#[tokio::test]
async fn rows_and_message_index_survive_a_crash_through_the_journal_files() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let bot_id = "sbot40";
    let _ = sb.register_user(bot_id, "Bot").await;
    let mut cfg = config(&sb, bot_id, dir.path());
    // Acks durable when acked: after the crash nothing of the burst comes again, so nothing
    // is re-indexed or re-applied to the rows.
    cfg.durable_acks = true;
    let mut s = Session::start(cfg.clone()).await.unwrap();
    wait_kind(&mut s, EventKind::SyncServerFinish).await;
    let peers = peers_named(&sb, "sjrn", 30).await;
    sb.faults().stall_pushes(bot_id);
    send_round(&sb, &peers, bot_id, 0).await;
    sb.faults().release_pushes(bot_id);
    let total = peers.len();
    let events = collect_until(
        &mut s,
        "total unread of the burst",
        |e| matches!(e, Event::TotalUnreadCountChanged(t) if t.total_unread_count == total as i32),
    )
    .await;
    let (texts, last_row) = texts_and_last_rows(&events);
    assert_eq!(texts.len(), total);
    let sent: HashMap<String, (i64, i64)> = events
        .iter()
        .filter_map(|e| match e {
            Event::NewMessage(m) => Some((m.conversation_id.to_string(), (m.seq, m.send_time))),
            _ => None,
        })
        .collect();
    drop(s); // crash
    let names: Vec<String> = std::fs::read_dir(dir.path().join("journal"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for kind in ["rows-", "index-"] {
        assert!(
            names
                .iter()
                .any(|n| n.starts_with(kind) && n.ends_with(".log")),
            "{kind} journal file in {names:?}"
        );
    }
    {
        // (Waits while the dropped session's threads still hold the store.)
        let store = openim_bot::Store::open_waiting(dir.path()).await.unwrap();
        for p in &peers {
            let conv = single_chat(p, bot_id);
            let stored = store.conversation(&conv).unwrap();
            assert_eq!(stored.as_ref(), Some(&last_row[&conv]), "{conv} read back");
        }
        assert_eq!(store.total_unread().unwrap(), total as i32);
    }
    let mut s = Session::start(cfg).await.unwrap();
    let revoker = peer(&sb, &peers[7]).await;
    let conv = single_chat(&peers[7], bot_id);
    let (seq, send_time) = sent[&conv];
    revoker.api.revoke_msg(&peers[7], &conv, seq).await.unwrap();
    let events = collect_until(&mut s, "the revoke", |e| {
        matches!(e, Event::MessageRevoked(_))
    })
    .await;
    assert!(
        !events.iter().any(|e| matches!(e, Event::NewMessage(_))),
        "nothing of the burst is delivered again"
    );
    let Some(Event::MessageRevoked(r)) = events.last() else {
        unreachable!()
    };
    assert_eq!(
        (
            r.conversation_id.as_str(),
            r.seq,
            r.source_message_send_id.as_str(),
            r.source_message_send_time
        ),
        (conv.as_str(), seq, peers[7].as_str(), send_time),
        "the revoked message is found in the index"
    );
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

/// A crash in the middle of a push burst, with durable acks: every message the bot handled
/// (acknowledged, so not delivered again) has its conversation row on disk, and the rest of the
/// burst comes after the restart, once each. (Before, the burst's rows were appended at its end
/// while its first acks were already flushed: a crash in between left handled messages without
/// their rows.)
#[tokio::test]
async fn a_crash_inside_a_burst_leaves_no_handled_message_without_its_row() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let bot_id = "sbot41";
    let _ = sb.register_user(bot_id, "Bot").await;
    let mut cfg = config(&sb, bot_id, dir.path());
    cfg.durable_acks = true;
    // The engine waits for the bot after each event: the crash comes mid-burst.
    cfg.channel_capacity = 1;
    let mut s = Session::start(cfg.clone()).await.unwrap();
    wait_kind(&mut s, EventKind::SyncServerFinish).await;
    let peers = peers_named(&sb, "sbrst", 30).await;
    sb.faults().stall_pushes(bot_id);
    send_round(&sb, &peers, bot_id, 0).await;
    sb.faults().release_pushes(bot_id);
    let mut handled = HashMap::new();
    while handled.len() < 5 {
        if let Event::NewMessage(m) =
            wait_for(&mut s, "a message", |e| matches!(e, Event::NewMessage(_))).await
        {
            handled.insert(m.conversation_id.to_string(), m.seq);
        }
    }
    drop(s); // crash
    {
        let store = openim_bot::Store::open_waiting(dir.path()).await.unwrap();
        for (conv, seq) in &handled {
            let row = store.conversation(conv).unwrap();
            let latest = row.as_ref().and_then(|r| r.latest_msg.as_ref());
            assert_eq!(
                latest.map(|l| l.seq),
                Some(*seq),
                "{conv}: the handled message is the row's latest"
            );
        }
    }
    let mut s = Session::start(cfg).await.unwrap();
    let mut rest = HashMap::new();
    while handled.len() + rest.len() < peers.len() {
        if let Event::NewMessage(m) = wait_for(&mut s, "the rest of the burst", |e| {
            matches!(e, Event::NewMessage(_))
        })
        .await
        {
            let conv = m.conversation_id.to_string();
            assert!(!handled.contains_key(&conv), "{conv} handled twice");
            assert!(rest.insert(conv, m.seq).is_none(), "delivered twice");
        }
    }
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

#[tokio::test]
async fn a_server_whose_data_was_reset_has_its_new_messages_delivered_once() {
    let dir = tempfile::tempdir().unwrap();
    let conv = "si_sreset_a_sreset_bot";
    let old = sandbox().await;
    let _alice = peer(&old, "sreset_a").await;
    let mut s = bot(&old, "sreset_bot", dir.path()).await;
    // Seqs 1 and 2 are the bot's own (not in its message index), 3..6 the peer's.
    for text in ["hello", "how can I help?"] {
        s.client()
            .send_text(openim_bot::Target::user("sreset_a"), text)
            .await
            .unwrap();
    }
    for i in 0..4 {
        old.send_text("sreset_a", "sreset_bot", false, &format!("a{i}"))
            .await
            .unwrap();
    }
    assert_eq!(receive_texts(&mut s, conv, 4).await, expected("a", 4));
    s.shutdown().await.unwrap();
    old.shutdown().await;

    // The same data dir against a server that starts from nothing: it numbers the
    // conversation from 1 again, at seqs this store delivered already.
    let new = sandbox().await;
    let _alice = peer(&new, "sreset_a").await;
    let mut s = bot(&new, "sreset_bot", dir.path()).await;
    for i in 0..3 {
        new.send_text("sreset_a", "sreset_bot", false, &format!("b{i}"))
            .await
            .unwrap();
    }
    assert_eq!(receive_texts(&mut s, conv, 3).await, expected("b", 3));
    s.shutdown().await.unwrap();
    // A restart while the new seqs (1..3) are still below the old ones (6): none of them
    // again, and the next message (seq 4) comes.
    let mut s = bot(&new, "sreset_bot", dir.path()).await;
    new.send_text("sreset_a", "sreset_bot", false, "c")
        .await
        .unwrap();
    assert_eq!(receive_texts(&mut s, conv, 1).await, ["c"]);
    s.shutdown().await.unwrap();
    new.shutdown().await;
}
