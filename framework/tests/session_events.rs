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

#[tokio::test]
async fn friend_application_added_accepted_deleted_and_friend_events() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = bot(&sb, "bot4", dir.path()).await;
    let alice = peer(&sb, "alice4").await;
    alice
        .api
        .add_friend("alice4", "bot4", "hi, add me")
        .await
        .unwrap();
    let e = wait_kind(&mut s, EventKind::FriendApplicationAdded).await;
    let Event::FriendApplicationAdded(a) = e else {
        unreachable!()
    };
    assert_eq!(
        (a.from_user_id.as_str(), a.to_user_id.as_str()),
        ("alice4", "bot4")
    );
    assert_eq!(a.req_msg, "hi, add me");
    assert_eq!(a.handle_result, 0);
    s.client()
        .accept_friend_application("alice4", "welcome")
        .await
        .unwrap();
    let events = collect_until(&mut s, "friend added", |e| {
        e.kind() == EventKind::FriendAdded
    })
    .await;
    let accepted = events.iter().find_map(|e| match e {
        Event::FriendApplicationAccepted(a) => Some(a.clone()),
        _ => None,
    });
    let mut rest = Vec::new();
    if accepted.is_none() {
        rest = collect_until(&mut s, "accepted", |e| {
            e.kind() == EventKind::FriendApplicationAccepted
        })
        .await;
    }
    let all: Vec<_> = events.iter().chain(rest.iter()).collect();
    let accepted = all
        .iter()
        .find_map(|e| match e {
            Event::FriendApplicationAccepted(a) => Some(a.clone()),
            _ => None,
        })
        .expect("accepted");
    assert_eq!(accepted.handle_result, 1);
    assert_eq!(accepted.from_user_id, "alice4");
    let Some(Event::FriendAdded(f)) = all
        .iter()
        .find(|e| e.kind() == EventKind::FriendAdded)
        .cloned()
        .cloned()
    else {
        unreachable!()
    };
    assert_eq!(f.user_id, "alice4");
    assert_eq!(f.owner_user_id, "bot4");
    assert_eq!(f.nickname, "alice4 nick");
    let has_deleted = all
        .iter()
        .any(|e| e.kind() == EventKind::FriendApplicationDeleted);
    if !has_deleted {
        wait_kind(&mut s, EventKind::FriendApplicationDeleted).await;
    }
    // The accepting side also hears about each change once: no second friend_added.
    s.client().delete_friend("alice4").await.unwrap();
    let e = wait_for(&mut s, "friend deleted", |e| {
        assert_ne!(
            e.kind(),
            EventKind::FriendAdded,
            "friend_added reported twice"
        );
        e.kind() == EventKind::FriendDeleted
    })
    .await;
    assert!(matches!(e, Event::FriendDeleted(f) if f.user_id == "alice4"));
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

#[tokio::test]
async fn friend_application_rejected() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = bot(&sb, "bot5", dir.path()).await;
    let alice = peer(&sb, "alice5").await;
    alice
        .api
        .add_friend("alice5", "bot5", "please")
        .await
        .unwrap();
    wait_kind(&mut s, EventKind::FriendApplicationAdded).await;
    s.client()
        .refuse_friend_application("alice5", "no")
        .await
        .unwrap();
    let e = wait_kind(&mut s, EventKind::FriendApplicationRejected).await;
    let Event::FriendApplicationRejected(a) = e else {
        unreachable!()
    };
    assert_eq!(a.handle_result, -1);
    assert_eq!(a.from_user_id, "alice5");
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

#[tokio::test]
async fn blacklist_added_and_deleted() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = bot(&sb, "bot6", dir.path()).await;
    let _alice = peer(&sb, "alice6").await;
    s.client().blacklist_add("alice6").await.unwrap();
    let e = wait_kind(&mut s, EventKind::BlacklistAdded).await;
    assert!(
        matches!(e, Event::BlacklistAdded(b) if b.user_id == "alice6" && b.owner_user_id == "bot6")
    );
    assert_eq!(s.client().store().blacklist().unwrap().len(), 1);
    s.client().blacklist_remove("alice6").await.unwrap();
    let e = wait_kind(&mut s, EventKind::BlacklistDeleted).await;
    assert!(matches!(e, Event::BlacklistDeleted(b) if b.user_id == "alice6"));
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

#[tokio::test]
async fn friend_info_changed_and_self_info_updated() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    sb.register_user("alice7", "Alice").await.unwrap();
    sb.register_user("bot7", "Bot").await.unwrap();
    sb.make_friends("bot7", "alice7").await.unwrap();
    let mut s = bot(&sb, "bot7", dir.path()).await;
    let alice = peer(&sb, "alice7").await;
    alice
        .api
        .update_user_info("alice7", Some("Alice Renamed"), None)
        .await
        .unwrap();
    let e = wait_kind(&mut s, EventKind::FriendInfoChanged).await;
    assert!(
        matches!(e, Event::FriendInfoChanged(f) if f.user_id == "alice7" && f.nickname == "Alice Renamed")
    );
    s.client()
        .api()
        .update_user_info("bot7", Some("Bot Renamed"), None)
        .await
        .unwrap();
    let e = wait_kind(&mut s, EventKind::SelfInfoUpdated).await;
    assert!(
        matches!(e, Event::SelfInfoUpdated(u) if u.user_id == "bot7" && u.nickname == "Bot Renamed")
    );
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

fn find(events: &[Event], kind: EventKind) -> &Event {
    events.iter().find(|e| e.kind() == kind).unwrap_or_else(|| {
        panic!(
            "{} missing in {:?}",
            kind.name(),
            events.iter().map(|e| e.name()).collect::<Vec<_>>()
        )
    })
}

#[tokio::test]
async fn group_lifecycle_events() {
    use openim_bot::api::{GroupInfoChanges, MemberInfoChanges};
    use openim_bot::event::{JoinReason, LeaveReason};
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = bot(&sb, "bot8", dir.path()).await;
    let alice = peer(&sb, "alice8").await;
    let carol = peer(&sb, "carol8").await;
    let dave = peer(&sb, "dave8").await;

    // alice creates a group with the bot in it
    let g = alice
        .api
        .create_group("alice8", &["bot8"], "Team")
        .await
        .unwrap();
    let e = wait_kind(&mut s, EventKind::JoinedGroupAdded).await;
    let Event::JoinedGroupAdded(j) = e else {
        unreachable!()
    };
    assert_eq!(j.group.group_id, g.group_id);
    assert_eq!(j.reason, JoinReason::Created);
    assert_eq!(s.client().store().members(&g.group_id).unwrap().len(), 2);
    let gid = g.group_id.clone();

    // invited
    alice
        .api
        .invite_to_group(&gid, &["carol8"], "join us")
        .await
        .unwrap();
    let e = wait_kind(&mut s, EventKind::GroupMemberInvited).await;
    let Event::GroupMemberInvited(m) = e else {
        unreachable!()
    };
    assert_eq!(m.member.user_id, "carol8");
    assert_eq!(m.operator_user_id, "alice8");

    // entered (group open to everyone)
    alice
        .api
        .set_group_info(
            &gid,
            &GroupInfoChanges {
                need_verification: Some(2),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    wait_for(
        &mut s,
        "need_verification 2",
        |e| matches!(e, Event::GroupInfoChanged(g) if g.need_verification == 2),
    )
    .await;
    dave.api.join_group(&gid, "dave8", "hello").await.unwrap();
    let e = wait_kind(&mut s, EventKind::GroupMemberEntered).await;
    assert!(matches!(e, Event::GroupMemberEntered(ref m) if m.member.user_id == "dave8"));

    // member info changed (muted)
    alice
        .api
        .mute_group_member(&gid, "dave8", 600)
        .await
        .unwrap();
    let e = wait_kind(&mut s, EventKind::GroupMemberInfoChanged).await;
    assert!(
        matches!(e, Event::GroupMemberInfoChanged(ref m) if m.member.user_id == "dave8" && m.member.mute_end_time > 0)
    );
    alice
        .api
        .set_group_member_info(
            &gid,
            "carol8",
            &MemberInfoChanges {
                nickname: Some("Caro".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let e = wait_kind(&mut s, EventKind::GroupMemberInfoChanged).await;
    assert!(
        matches!(e, Event::GroupMemberInfoChanged(ref m) if m.member.user_id == "carol8" && m.member.nickname == "Caro")
    );

    // kicked vs left
    alice
        .api
        .kick_group_members(&gid, &["carol8"], "bye")
        .await
        .unwrap();
    let e = wait_kind(&mut s, EventKind::GroupMemberKicked).await;
    assert!(
        matches!(e, Event::GroupMemberKicked(ref m) if m.member.user_id == "carol8" && m.operator_user_id == "alice8")
    );
    dave.api.quit_group(&gid, "dave8").await.unwrap();
    let e = wait_kind(&mut s, EventKind::GroupMemberLeft).await;
    assert!(matches!(e, Event::GroupMemberLeft(ref m) if m.member.user_id == "dave8"));
    let _ = carol;

    // group message from alice
    sb.send_text("alice8", &gid, true, "hello group")
        .await
        .unwrap();
    let e = wait_for(
        &mut s,
        "group text",
        |e| matches!(e, Event::NewMessage(m) if m.text() == Some("hello group")),
    )
    .await;
    let Event::NewMessage(m) = e else {
        unreachable!()
    };
    assert!(m.is_group());
    assert_eq!(m.group_id.as_deref(), Some(gid.as_str()));
    assert_eq!(m.conversation_id, format!("sg_{gid}"));

    // dismissed
    alice.api.dismiss_group(&gid).await.unwrap();
    let events = collect_until(&mut s, "joined group deleted", |e| {
        e.kind() == EventKind::JoinedGroupDeleted
    })
    .await;
    assert!(
        matches!(find(&events, EventKind::GroupDismissed), Event::GroupDismissed(g) if g.group_id == gid)
    );
    assert!(
        matches!(find(&events, EventKind::JoinedGroupDeleted), Event::JoinedGroupDeleted(d) if d.reason == LeaveReason::Dismissed && d.group.group_id == gid)
    );
    assert!(s.client().store().group(&gid).unwrap().is_none());
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

#[tokio::test]
async fn bot_kicked_from_group_and_quits_another() {
    use openim_bot::event::LeaveReason;
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = bot(&sb, "bot9", dir.path()).await;
    let alice = peer(&sb, "alice9").await;
    let g1 = alice
        .api
        .create_group("alice9", &["bot9"], "G1")
        .await
        .unwrap()
        .group_id;
    wait_kind(&mut s, EventKind::JoinedGroupAdded).await;
    let g2 = alice
        .api
        .create_group("alice9", &["bot9"], "G2")
        .await
        .unwrap()
        .group_id;
    wait_kind(&mut s, EventKind::JoinedGroupAdded).await;
    alice
        .api
        .kick_group_members(&g1, &["bot9"], "out")
        .await
        .unwrap();
    let e = wait_kind(&mut s, EventKind::JoinedGroupDeleted).await;
    assert!(
        matches!(e, Event::JoinedGroupDeleted(ref d) if d.group.group_id == g1 && d.reason == LeaveReason::Kicked && d.operator_user_id == "alice9")
    );
    s.client().api().quit_group(&g2, "bot9").await.unwrap();
    let e = wait_kind(&mut s, EventKind::JoinedGroupDeleted).await;
    assert!(
        matches!(e, Event::JoinedGroupDeleted(ref d) if d.group.group_id == g2 && d.reason == LeaveReason::Left)
    );
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

#[tokio::test]
async fn group_applications_added_accepted_rejected() {
    use openim_bot::event::JoinReason;
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = bot(&sb, "bot10", dir.path()).await;
    let eve = peer(&sb, "eve10").await;
    let frank = peer(&sb, "frank10").await;
    let g = s
        .client()
        .api()
        .create_group("bot10", &[], "Bot's group")
        .await
        .unwrap()
        .group_id;
    let e = wait_kind(&mut s, EventKind::JoinedGroupAdded).await;
    assert!(matches!(e, Event::JoinedGroupAdded(ref j) if j.reason == JoinReason::Created));
    eve.api.join_group(&g, "eve10", "let me in").await.unwrap();
    let e = wait_kind(&mut s, EventKind::GroupApplicationAdded).await;
    let Event::GroupApplicationAdded(a) = e else {
        unreachable!()
    };
    assert_eq!(
        (a.group_id.as_str(), a.user_id.as_str(), a.req_msg.as_str()),
        (g.as_str(), "eve10", "let me in")
    );
    s.client()
        .accept_group_application(&g, "eve10", "ok")
        .await
        .unwrap();
    let e = wait_kind(&mut s, EventKind::GroupApplicationAccepted).await;
    assert!(
        matches!(e, Event::GroupApplicationAccepted(ref a) if a.user_id == "eve10" && a.handle_result == 1)
    );
    let e = wait_kind(&mut s, EventKind::GroupMemberEntered).await;
    assert!(matches!(e, Event::GroupMemberEntered(ref m) if m.member.user_id == "eve10"));
    frank.api.join_group(&g, "frank10", "me too").await.unwrap();
    wait_kind(&mut s, EventKind::GroupApplicationAdded).await;
    s.client()
        .refuse_group_application(&g, "frank10", "no")
        .await
        .unwrap();
    let e = wait_kind(&mut s, EventKind::GroupApplicationRejected).await;
    assert!(
        matches!(e, Event::GroupApplicationRejected(ref a) if a.user_id == "frank10" && a.handle_result == -1)
    );
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

#[tokio::test]
async fn revoke_and_read_receipt() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = bot(&sb, "bot11", dir.path()).await;
    let alice = peer(&sb, "alice11").await;
    sb.send_text("alice11", "bot11", false, "oops")
        .await
        .unwrap();
    let Event::NewMessage(m) = wait_kind(&mut s, EventKind::NewMessage).await else {
        unreachable!()
    };
    alice
        .api
        .revoke_msg("alice11", &m.conversation_id, m.seq)
        .await
        .unwrap();
    let e = wait_kind(&mut s, EventKind::MessageRevoked).await;
    let Event::MessageRevoked(r) = e else {
        unreachable!()
    };
    assert_eq!(r.conversation_id, m.conversation_id);
    assert_eq!(r.seq, m.seq);
    assert_eq!(r.revoker_id, "alice11");
    assert_eq!(r.client_msg_id, m.client_msg_id);
    assert_eq!(r.source_message_send_id, "alice11");
    // The bot writes, alice reads.
    let sent = s
        .client()
        .send_text(Target::user("alice11"), "read me")
        .await
        .unwrap();
    let conv = sent.conversation_id.clone();
    // wait until the echo made it into the store, so the receipt can name the message
    let seq = loop {
        let seq = s
            .client()
            .store()
            .conversation(&conv)
            .unwrap()
            .map(|c| c.max_seq)
            .unwrap_or(0);
        if seq >= 2 {
            break seq;
        }
        let _ = tokio::time::timeout(std::time::Duration::from_millis(50), s.next()).await;
    };
    alice
        .api
        .mark_conversation_as_read("alice11", &conv, seq, &[seq])
        .await
        .unwrap();
    let e = wait_kind(&mut s, EventKind::C2cReadReceipt).await;
    let Event::C2cReadReceipt(r) = e else {
        unreachable!()
    };
    assert_eq!(r.user_id, "alice11");
    assert_eq!(r.conversation_id, conv);
    assert_eq!(r.has_read_seq, seq);
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

#[tokio::test]
async fn online_only_typing_business_and_deleted() {
    use serde_json::json;
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = bot(&sb, "bot12", dir.path()).await;
    let _alice = peer(&sb, "alice12").await;
    let admin = sb.admin_token().await.unwrap();
    // online-only message
    sb.call(
        "/msg/send_msg",
        &admin,
        json!({"sendID": "alice12", "recvID": "bot12", "sessionType": 1, "contentType": 101,
               "content": {"content": "ephemeral"}, "isOnlineOnly": true, "senderNickname": "alice12"}),
    )
    .await
    .unwrap();
    let e = wait_kind(&mut s, EventKind::OnlineOnlyMessage).await;
    let Event::OnlineOnlyMessage(m) = e else {
        unreachable!()
    };
    assert_eq!(m.text(), Some("ephemeral"));
    assert_eq!(m.seq, 0);
    // typing, sent by alice's own session over the gateway
    let alice_dir = tempfile::tempdir().unwrap();
    let alice_session = bot(&sb, "alice12", alice_dir.path()).await;
    alice_session
        .client()
        .send_typing("bot12", true)
        .await
        .unwrap();
    let e = wait_kind(&mut s, EventKind::Typing).await;
    assert!(
        matches!(e, Event::Typing(ref t) if t.user_id == "alice12" && t.platform_ids == [7] && t.conversation_id == "si_alice12_bot12"),
        "{e:?}"
    );
    alice_session
        .client()
        .send_typing("bot12", false)
        .await
        .unwrap();
    let e = wait_kind(&mut s, EventKind::Typing).await;
    assert!(matches!(e, Event::Typing(ref t) if t.platform_ids.is_empty()));
    // typing is online-only: it never creates a conversation on the receiving side
    assert!(
        s.client()
            .store()
            .conversation("si_alice12_bot12")
            .unwrap()
            .is_none()
    );
    alice_session.shutdown().await.unwrap();
    // business notification
    sb.call(
        "/msg/send_business_notification",
        &admin,
        json!({"key": "order", "data": "42", "sendUserID": "alice12", "recvUserID": "bot12"}),
    )
    .await
    .unwrap();
    let e = wait_kind(&mut s, EventKind::BusinessNotification).await;
    let Event::BusinessNotification(b) = e else {
        unreachable!()
    };
    let detail: serde_json::Value = serde_json::from_str(&b.detail).unwrap();
    assert_eq!(detail["key"], "order");
    // deleted for the bot, synced to its devices (2102 to itself)
    sb.send_text("alice12", "bot12", false, "delete me")
        .await
        .unwrap();
    let Event::NewMessage(m) = wait_kind(&mut s, EventKind::NewMessage).await else {
        unreachable!()
    };
    let token = s.client().api().token().unwrap();
    sb.call(
        "/msg/delete_msgs",
        &token,
        json!({"conversationID": m.conversation_id, "seqs": [m.seq], "userID": "bot12",
               "deleteSyncOpt": {"IsSyncSelf": true, "IsSyncOther": false}}),
    )
    .await
    .unwrap();
    let e = wait_kind(&mut s, EventKind::MessageDeleted).await;
    assert!(
        matches!(e, Event::MessageDeleted(ref d) if d.conversation_id == m.conversation_id && d.seqs == [m.seq]),
        "{e:?}"
    );
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

#[tokio::test]
async fn group_at_text_mentions_the_bot() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = bot(&sb, "bot13", dir.path()).await;
    let alice = peer(&sb, "alice13").await;
    let g = alice
        .api
        .create_group("alice13", &["bot13"], "G")
        .await
        .unwrap()
        .group_id;
    wait_kind(&mut s, EventKind::JoinedGroupAdded).await;
    let admin = sb.admin_token().await.unwrap();
    sb.call(
        "/msg/send_msg",
        &admin,
        serde_json::json!({"sendID": "alice13", "groupID": g, "sessionType": 3, "contentType": 106,
            "content": {"text": "@bot13 hi", "atUserList": ["bot13"]}, "senderNickname": "alice13"}),
    )
    .await
    .unwrap();
    let e = wait_for(
        &mut s,
        "at text",
        |e| matches!(e, Event::NewMessage(m) if m.content_type == 106),
    )
    .await;
    let Event::NewMessage(m) = e else {
        unreachable!()
    };
    assert_eq!(m.text(), Some("@bot13 hi"));
    assert!(m.content.as_text().is_some());
    assert!(m.mentions("bot13"));
    // Conversation settings changed on the server (1300) reach the store and are reported.
    let token = s.client().api().token().unwrap();
    sb.call(
        "/conversation/set_conversations",
        &token,
        serde_json::json!({"userIDs": ["bot13"], "conversation": {
            "conversationID": format!("sg_{g}"), "conversationType": 3, "groupID": g, "isPinned": true}}),
    )
    .await
    .unwrap();
    wait_for(&mut s, "pinned", |e| {
        matches!(e, Event::ConversationChanged(c) if c.conversations.iter().any(|c| c.is_pinned))
    })
    .await;
    assert!(
        s.client()
            .store()
            .conversation(&format!("sg_{g}"))
            .unwrap()
            .unwrap()
            .is_pinned
    );
    // The bot answers with an @-mention back.
    let sent = s
        .client()
        .send_at_text(&g, "@alice13 hello", vec!["alice13".into()])
        .await
        .unwrap();
    assert_eq!(sent.conversation_id, format!("sg_{g}"));
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

#[tokio::test]
async fn connect_failed_is_reported_and_retried() {
    let sb = sandbox().await;
    sb.register_user("bot14", "Bot").await.unwrap();
    let token = sb.user_token("bot14", 7).await.unwrap();
    // Nothing listens on this port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let config = openim_bot::SessionConfig::with_token(
        sb.api_url(),
        format!("ws://127.0.0.1:{port}"),
        dir.path(),
        "bot14",
        token,
    );
    let mut s = openim_bot::Session::start(config).await.unwrap();
    let e = wait_kind(&mut s, EventKind::ConnectFailed).await;
    assert!(matches!(e, Event::ConnectFailed(ref f) if f.err_code == 10000 && f.retry_in_ms > 0));
    let e = wait_kind(&mut s, EventKind::Connecting).await;
    assert!(matches!(e, Event::Connecting(ref c) if c.attempt == 2));
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

#[tokio::test]
async fn invalid_token_is_reported_and_ends_the_session() {
    let sb = sandbox().await;
    sb.register_user("bot15", "Bot").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = openim_bot::SessionConfig::with_token(
        sb.api_url(),
        sb.ws_url(),
        dir.path(),
        "bot15",
        "not-a-jwt",
    );
    let mut s = openim_bot::Session::start(config).await.unwrap();
    let e = wait_kind(&mut s, EventKind::UserTokenInvalid).await;
    assert!(
        matches!(e, Event::UserTokenInvalid(ref t) if !t.renewed && (1502..=1507).contains(&t.err_code)),
        "{e:?}"
    );
    let end = tokio::time::timeout(WAIT, async {
        while let Some(d) = s.next().await {
            d.ack.ack();
        }
    })
    .await;
    assert!(end.is_ok());
    sb.shutdown().await;
}

#[tokio::test]
async fn typing_expires_without_a_repeated_yes() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = bot(&sb, "bot16", dir.path()).await;
    let alice_dir = tempfile::tempdir().unwrap();
    let alice = bot(&sb, "alice16", alice_dir.path()).await;
    alice.client().send_typing("bot16", true).await.unwrap();
    let e = wait_kind(&mut s, EventKind::Typing).await;
    assert!(matches!(e, Event::Typing(ref t) if t.platform_ids == [7]));
    let started = std::time::Instant::now();
    // No "no" is sent: the state expires by itself (10 s, checked every 5 s).
    let e = wait_kind(&mut s, EventKind::Typing).await;
    assert!(
        matches!(e, Event::Typing(ref t) if t.user_id == "alice16" && t.platform_ids.is_empty())
    );
    assert!(started.elapsed() >= std::time::Duration::from_secs(9));
    alice.shutdown().await.unwrap();
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

#[tokio::test]
async fn api_client_admin_register_and_errors_carry_codes() {
    let sb = sandbox().await;
    let api = openim_bot::api::ApiClient::new(&sb.api_url());
    let admin = api.get_admin_token(sb.secret(), "imAdmin").await.unwrap();
    api.set_token(admin);
    api.user_register(&[("reg1", "Reg One")]).await.unwrap();
    let users = api.get_users_info(&["reg1"]).await.unwrap();
    assert_eq!(users[0].nickname, "Reg One");
    let err = api.user_register(&[("reg1", "Again")]).await.unwrap_err();
    assert_eq!(err.code(), Some(1102), "{err}");
    let err = api
        .get_admin_token("wrong-secret", "imAdmin")
        .await
        .unwrap_err();
    assert!(err.code().is_some(), "{err}");
    sb.shutdown().await;
}
