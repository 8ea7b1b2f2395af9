//! One test per event kind the sandbox can provoke, through another user, asserting the payload.

mod session_support;

use openim_bot::Target;
use openim_bot::event::{Event, EventKind};
use session_support::*;

#[tokio::test]
async fn connection_and_sync_events_on_start() {
    let sb = sandbox().await;
    sb.register_user("bot1", "Bot").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut s = openim_bot::Session::start(config(&sb, "bot1", dir.path()))
        .await
        .unwrap();
    let events = collect_until(&mut s, "sync finish", |e| {
        e.kind() == EventKind::SyncServerFinish
    })
    .await;
    let kinds: Vec<_> = events.iter().map(|e| e.name()).collect();
    assert_eq!(kinds[0], "initialized");
    assert!(matches!(&events[0], Event::Initialized(i) if i.fresh && i.user_id == "bot1"));
    let pos = |k: &str| {
        kinds
            .iter()
            .position(|x| *x == k)
            .unwrap_or_else(|| panic!("{k} missing in {kinds:?}"))
    };
    assert!(pos("connecting") < pos("connect_success"));
    assert!(pos("connect_success") < pos("sync_server_start"));
    assert!(pos("sync_server_start") < pos("sync_server_finish"));
    assert!(
        matches!(events[pos("sync_server_start")], Event::SyncServerStart(ref x) if x.reinstalled)
    );
    assert!(kinds.contains(&"sync_server_progress"));
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

#[tokio::test]
async fn new_message_new_conversation_and_unread() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = bot(&sb, "bot2", dir.path()).await;
    let alice = peer(&sb, "alice2").await;
    sb.send_text(&alice.user_id, "bot2", false, "hello bot")
        .await
        .unwrap();
    let e = wait_kind(&mut s, EventKind::NewMessage).await;
    let Event::NewMessage(m) = e else {
        unreachable!()
    };
    assert_eq!(m.text(), Some("hello bot"));
    assert_eq!(m.send_id, "alice2");
    assert_eq!(m.conversation_id, "si_alice2_bot2");
    assert_eq!(m.seq, 1);
    assert!(!m.is_self && !m.is_group());
    let e = wait_kind(&mut s, EventKind::NewConversation).await;
    let Event::NewConversation(c) = e else {
        unreachable!()
    };
    assert_eq!(c.conversations[0].conversation_id, "si_alice2_bot2");
    assert_eq!(c.conversations[0].unread_count, 1);
    let e = wait_kind(&mut s, EventKind::TotalUnreadCountChanged).await;
    assert!(matches!(e, Event::TotalUnreadCountChanged(t) if t.total_unread_count == 1));
    // A second message changes the conversation.
    sb.send_text(&alice.user_id, "bot2", false, "again")
        .await
        .unwrap();
    let e = wait_kind(&mut s, EventKind::ConversationChanged).await;
    let Event::ConversationChanged(c) = e else {
        unreachable!()
    };
    assert_eq!(c.conversations[0].unread_count, 2);
    assert_eq!(
        c.conversations[0]
            .latest_msg
            .as_ref()
            .and_then(|l| l.text.as_deref()),
        Some("again")
    );
    // Mark read: unread back to 0.
    s.client().mark_read("si_alice2_bot2").await.unwrap();
    let e = wait_for(
        &mut s,
        "unread 0",
        |e| matches!(e, Event::TotalUnreadCountChanged(t) if t.total_unread_count == 0),
    )
    .await;
    assert_eq!(e.kind(), EventKind::TotalUnreadCountChanged);
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

#[tokio::test]
async fn bot_sends_text_and_its_echo_is_not_a_new_message() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = bot(&sb, "bot3", dir.path()).await;
    let _alice = peer(&sb, "alice3").await;
    let client = s.client();
    let sent = client
        .send_text(Target::user("alice3"), "hi alice")
        .await
        .unwrap();
    assert_eq!(sent.conversation_id, "si_alice3_bot3");
    assert!(!sent.server_msg_id.is_empty());
    sb.send_text("alice3", "bot3", false, "reply")
        .await
        .unwrap();
    let e = wait_kind(&mut s, EventKind::NewMessage).await;
    let Event::NewMessage(m) = e else {
        unreachable!()
    };
    assert_eq!(m.text(), Some("reply"), "own echo must not be reported");
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}
