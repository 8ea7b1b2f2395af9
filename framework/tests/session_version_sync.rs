//! Incremental ("version") sync of friends, joined groups, group members and conversations:
//! which routes a reconnecting bot uses (counted by the sandbox), and that every change made
//! while it was offline is reported exactly once, whether it arrives through the incremental
//! routes or through the full-list fallback (log truncated, versionID changed).

mod session_support;

use openim_bot::api::{ApiClient, GroupInfoChanges, MemberInfoChanges};
use openim_bot::event::{Event, EventKind};
use openim_bot::{Session, SessionConfig};
use openim_sandbox::{Sandbox, SandboxConfig};
use session_support::*;

/// Full-list routes the incremental sync replaces.
const FULL_ROUTES: &[&str] = &[
    "/friend/get_friend_list",
    "/group/get_joined_group_list",
    "/group/get_group_member_list",
    "/conversation/get_all_conversations",
];

const INCREMENTAL_ROUTES: &[&str] = &[
    "/friend/get_incremental_friends",
    "/group/get_incremental_join_groups",
    "/group/get_incremental_group_members_batch",
    "/conversation/get_incremental_conversations",
];

fn hits(sb: &Sandbox, routes: &[&str]) -> Vec<u64> {
    routes.iter().map(|r| sb.route_hits(r)).collect()
}

/// Events that describe a relation change (what must never repeat).
fn relation_events(events: &[Event]) -> Vec<&Event> {
    events
        .iter()
        .filter(|e| {
            matches!(
                e.kind(),
                EventKind::FriendAdded
                    | EventKind::FriendDeleted
                    | EventKind::FriendInfoChanged
                    | EventKind::JoinedGroupAdded
                    | EventKind::JoinedGroupDeleted
                    | EventKind::GroupInfoChanged
                    | EventKind::GroupMemberEntered
                    | EventKind::GroupMemberInvited
                    | EventKind::GroupMemberKicked
                    | EventKind::GroupMemberLeft
                    | EventKind::GroupMemberInfoChanged
                    | EventKind::BlacklistAdded
                    | EventKind::BlacklistDeleted
            ) || matches!(e, Event::ConversationChanged(c) if c.conversations.iter().any(|c| c.recv_msg_opt == 2))
        })
        .collect()
}

async fn until_synced(s: &mut Session) -> Vec<Event> {
    collect_until(s, "sync finish", |e| {
        e.kind() == EventKind::SyncServerFinish
    })
    .await
}

async fn start(sb: &Sandbox, user: &str, dir: &std::path::Path) -> (Session, Vec<Event>) {
    let mut s = Session::start(config(sb, user, dir))
        .await
        .expect("session starts");
    let events = until_synced(&mut s).await;
    (s, events)
}

/// An API client with the admin token (acts on behalf of anyone).
async fn admin(sb: &Sandbox) -> ApiClient {
    let api = ApiClient::new(&sb.api_url());
    api.set_token(sb.admin_token().await.expect("admin token"));
    api
}

/// After a reconnect and after a restart on the same data dir, no relation event repeats and
/// no full list is fetched.
/// Registers `n` users `<prefix>_000`… (nicknames `m0`…) and returns their IDs.
async fn register_many(admin: &ApiClient, prefix: &str, n: usize) -> Vec<String> {
    let users: Vec<(String, String)> = (0..n)
        .map(|i| (format!("{prefix}_{i:03}"), format!("m{i}")))
        .collect();
    let refs: Vec<(&str, &str)> = users
        .iter()
        .map(|(u, n)| (u.as_str(), n.as_str()))
        .collect();
    admin.user_register(&refs).await.unwrap();
    users.into_iter().map(|(u, _)| u).collect()
}

async fn assert_quiet_afterwards(sb: &Sandbox, user: &str, dir: &std::path::Path, mut s: Session) {
    let before = hits(sb, FULL_ROUTES);
    s.client().reconnect();
    let events = until_synced(&mut s).await;
    assert!(
        relation_events(&events).is_empty(),
        "repeated after reconnect: {events:#?}"
    );
    s.shutdown().await.unwrap();
    let (s, events) = start(sb, user, dir).await;
    assert!(
        relation_events(&events).is_empty(),
        "repeated after restart: {events:#?}"
    );
    assert_eq!(hits(sb, FULL_ROUTES), before, "full lists fetched again");
    s.shutdown().await.unwrap();
}

#[tokio::test]
async fn reconnect_without_changes_uses_only_incremental_routes() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let alice = peer(&sb, "valice1").await;
    let _ = peer(&sb, "vcarol1").await;
    let _ = sb.register_user("vbot1", "Bot").await;
    sb.make_friends("vbot1", "valice1").await.unwrap();
    alice
        .api
        .create_group("valice1", &["vbot1", "vcarol1"], "G")
        .await
        .unwrap();
    // First start: everything is fetched in full (nothing stored yet).
    let (s, _) = start(&sb, "vbot1", dir.path()).await;
    assert!(hits(&sb, FULL_ROUTES).iter().all(|n| *n >= 1));
    s.shutdown().await.unwrap();

    let full = hits(&sb, FULL_ROUTES);
    let incremental = hits(&sb, INCREMENTAL_ROUTES);
    let (mut s, events) = start(&sb, "vbot1", dir.path()).await;
    assert!(relation_events(&events).is_empty(), "{events:#?}");
    assert_eq!(hits(&sb, FULL_ROUTES), full, "no full list on a reconnect");
    let after = hits(&sb, INCREMENTAL_ROUTES);
    for ((route, b), a) in INCREMENTAL_ROUTES.iter().zip(&incremental).zip(&after) {
        assert!(a > b, "{route} not called ({b} → {a})");
    }

    // Live changes, then a reconnect and a restart: reported once, live.
    admin(&sb)
        .await
        .set_friend_remark("vbot1", "valice1", "pal")
        .await
        .unwrap();
    let e = wait_kind(&mut s, EventKind::FriendInfoChanged).await;
    assert!(matches!(e, Event::FriendInfoChanged(f) if f.remark == "pal"));
    let _ = sb.register_user("vdave1", "Dave").await;
    let gid = s.client().store().groups().unwrap()[0].group_id.clone();
    alice
        .api
        .invite_to_group(&gid, &["vdave1"], "")
        .await
        .unwrap();
    // Member events first, then the group's info (member count).
    let events = collect_until(
        &mut s,
        "member count 4",
        |e| matches!(e, Event::GroupInfoChanged(g) if g.member_count == 4),
    )
    .await;
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Event::GroupMemberInvited(m) if m.member.user_id == "vdave1"))
            .count(),
        1,
        "{events:#?}"
    );
    assert_eq!(
        hits(&sb, FULL_ROUTES),
        full,
        "live change synced incrementally"
    );
    assert_quiet_afterwards(&sb, "vbot1", dir.path(), s).await;
    sb.shutdown().await;
}

#[tokio::test]
async fn offline_changes_are_reported_once_through_the_incremental_routes() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let bot = "vbot2";
    let alice = peer(&sb, "valice2").await;
    for u in ["vbob2", "vcarol2", "vdave2", "verin2", "vfrank2"] {
        let _ = peer(&sb, u).await;
    }
    let _ = sb.register_user(bot, "Bot").await;
    sb.make_friends(bot, "valice2").await.unwrap();
    sb.make_friends(bot, "vbob2").await.unwrap();
    let create = |name: &'static str, members: Vec<&'static str>| {
        let api = alice.api.clone();
        async move {
            api.create_group("valice2", &members, name)
                .await
                .unwrap()
                .group_id
        }
    };
    let g1 = create("G1", vec![bot, "vcarol2", "vdave2"]).await;
    let g2 = create("G2", vec![bot]).await;
    let g3 = create("G3", vec![bot]).await;

    // First start (silent), then a message so the single chat is a visible conversation.
    let (mut s, _) = start(&sb, bot, dir.path()).await;
    sb.send_text("valice2", bot, false, "hi").await.unwrap();
    wait_for(
        &mut s,
        "hi",
        |e| matches!(e, Event::NewMessage(m) if m.text() == Some("hi")),
    )
    .await;
    s.shutdown().await.unwrap();

    // Offline changes.
    let admin = admin(&sb).await;
    sb.make_friends(bot, "verin2").await.unwrap();
    admin.delete_friend(bot, "vbob2").await.unwrap();
    admin
        .set_friend_remark(bot, "valice2", "best")
        .await
        .unwrap();
    let g4 = create("G4", vec![bot]).await;
    alice.api.kick_group_members(&g2, &[bot], "").await.unwrap();
    alice.api.dismiss_group(&g3).await.unwrap();
    alice
        .api
        .invite_to_group(&g1, &["vfrank2"], "")
        .await
        .unwrap();
    let dave = peer(&sb, "vdave2").await;
    dave.api.quit_group(&g1, "vdave2").await.unwrap();
    alice
        .api
        .set_group_member_info(
            &g1,
            "vcarol2",
            &MemberInfoChanges {
                role_level: Some(60),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    alice
        .api
        .set_group_info(
            &g1,
            &GroupInfoChanges {
                group_name: Some("Renamed".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let single = format!("si_{bot}_valice2");
    let single = if bot < "valice2" {
        single
    } else {
        format!("si_valice2_{bot}")
    };
    admin
        .call::<_, serde_json::Value>(
            "/conversation/set_conversations",
            &serde_json::json!({"userIDs": [bot], "conversation": {
                "conversationID": single, "conversationType": 1, "userID": "valice2", "recvMsgOpt": 2}}),
        )
        .await
        .unwrap();

    let full = hits(&sb, FULL_ROUTES);
    let (s, events) = start(&sb, bot, dir.path()).await;
    let count = |pred: &dyn Fn(&Event) -> bool| events.iter().filter(|e| pred(e)).count();
    assert_eq!(
        count(&|e| matches!(e, Event::FriendAdded(f) if f.user_id == "verin2")),
        1,
        "{events:#?}"
    );
    assert_eq!(
        count(&|e| matches!(e, Event::FriendDeleted(f) if f.user_id == "vbob2")),
        1,
        "{events:#?}"
    );
    assert_eq!(
        count(
            &|e| matches!(e, Event::FriendInfoChanged(f) if f.user_id == "valice2" && f.remark == "best")
        ),
        1,
        "{events:#?}"
    );
    assert_eq!(
        count(&|e| matches!(e, Event::JoinedGroupAdded(j) if j.group.group_id == g4)),
        1,
        "{events:#?}"
    );
    assert_eq!(
        count(&|e| matches!(e, Event::JoinedGroupDeleted(j) if j.group.group_id == g2)),
        1,
        "{events:#?}"
    );
    assert_eq!(
        count(&|e| matches!(e, Event::JoinedGroupDeleted(j) if j.group.group_id == g3)),
        1,
        "{events:#?}"
    );
    assert_eq!(
        count(
            &|e| matches!(e, Event::GroupMemberInvited(m) | Event::GroupMemberEntered(m)
            if m.member.user_id == "vfrank2" && m.member.group_id == g1)
        ),
        1,
        "{events:#?}"
    );
    assert_eq!(
        count(
            &|e| matches!(e, Event::GroupMemberLeft(m) if m.member.user_id == "vdave2" && m.member.group_id == g1)
        ),
        1,
        "{events:#?}"
    );
    assert_eq!(
        count(
            &|e| matches!(e, Event::GroupMemberInfoChanged(m) if m.member.user_id == "vcarol2" && m.member.role_level == 60)
        ),
        1,
        "{events:#?}"
    );
    assert_eq!(
        count(&|e| matches!(e, Event::GroupInfoChanged(g) if g.group_id == g1)),
        1,
        "{events:#?}"
    );
    assert!(events.iter().any(
        |e| matches!(e, Event::GroupInfoChanged(g) if g.group_id == g1 && g.group_name == "Renamed")
    ));
    assert_eq!(
        count(&|e| matches!(e, Event::ConversationChanged(c)
            if c.conversations.iter().any(|c| c.conversation_id == single && c.recv_msg_opt == 2))),
        1,
        "{events:#?}"
    );
    // Only the newly joined group's members were listed in full (copied silently).
    let now = hits(&sb, FULL_ROUTES);
    assert_eq!(now[0], full[0], "friend list fetched in full");
    assert_eq!(now[1], full[1], "joined groups fetched in full");
    assert_eq!(now[2], full[2] + 1, "member lists: only the new group's");
    assert_eq!(now[3], full[3], "conversations fetched in full");
    // The store follows.
    let client = s.client();
    let store = client.store();
    assert!(store.friend("vbob2").unwrap().is_none());
    assert!(store.group(&g2).unwrap().is_none());
    assert!(store.members(&g3).unwrap().is_empty());
    assert!(store.member(&g1, "vdave2").unwrap().is_none());
    assert_eq!(
        store.member(&g1, "vcarol2").unwrap().unwrap().role_level,
        60
    );
    assert_eq!(store.group(&g1).unwrap().unwrap().group_name, "Renamed");
    assert_eq!(store.members(&g4).unwrap().len(), 2);
    drop(client);
    assert_quiet_afterwards(&sb, bot, dir.path(), s).await;
    sb.shutdown().await;
}

#[tokio::test]
async fn truncated_member_log_falls_back_to_the_full_list_once() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let bot = "vbot3";
    let alice = peer(&sb, "valice3").await;
    let _ = sb.register_user(bot, "Bot").await;
    let gid = alice
        .api
        .create_group("valice3", &[bot], "Big")
        .await
        .unwrap()
        .group_id;
    let (s, _) = start(&sb, bot, dir.path()).await;
    s.shutdown().await.unwrap();
    // 201 members join in one operation: more changes than the log serves (200) → `full`.
    let admin = admin(&sb).await;
    let users = register_many(&admin, "vm3", 201).await;
    let ids: Vec<&str> = users.iter().map(String::as_str).collect();
    alice.api.invite_to_group(&gid, &ids, "").await.unwrap();
    let full_members = sb.route_hits("/group/get_group_member_list");
    let (s, events) = start(&sb, bot, dir.path()).await;
    let joined: std::collections::BTreeSet<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::GroupMemberInvited(m) | Event::GroupMemberEntered(m) => {
                Some(m.member.user_id.clone())
            }
            _ => None,
        })
        .collect();
    let total = events
        .iter()
        .filter(|e| {
            matches!(
                e.kind(),
                EventKind::GroupMemberInvited | EventKind::GroupMemberEntered
            )
        })
        .count();
    assert_eq!(joined.len(), 201);
    assert_eq!(total, 201, "each member once");
    assert!(
        sb.route_hits("/group/get_group_member_list") > full_members,
        "full member list fetched"
    );
    assert_eq!(s.client().store().members(&gid).unwrap().len(), 203);
    assert_quiet_afterwards(&sb, bot, dir.path(), s).await;
    sb.shutdown().await;
}

#[tokio::test]
async fn a_member_sync_written_in_steps_reports_every_change_once() {
    // 12 groups × 201 offline joins: more rows than one write step (500) and more than the
    // steps between store flushes (4): events and rows are handed over part-way, in order.
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let bot = "vbot9";
    let alice = peer(&sb, "valice9").await;
    let _ = sb.register_user(bot, "Bot").await;
    let mut groups = Vec::new();
    for g in 0..12 {
        let gid = alice
            .api
            .create_group("valice9", &[bot], &format!("Big {g}"))
            .await
            .unwrap()
            .group_id;
        groups.push(gid);
    }
    let (s, _) = start(&sb, bot, dir.path()).await;
    s.shutdown().await.unwrap();
    let admin = admin(&sb).await;
    let users = register_many(&admin, "vm9", 201).await;
    let ids: Vec<&str> = users.iter().map(String::as_str).collect();
    for gid in &groups {
        alice.api.invite_to_group(gid, &ids, "").await.unwrap();
    }
    let (s, events) = start(&sb, bot, dir.path()).await;
    let mut joined = std::collections::BTreeSet::new();
    for e in &events {
        if let Event::GroupMemberInvited(m) | Event::GroupMemberEntered(m) = e {
            assert!(
                joined.insert((m.member.group_id.clone(), m.member.user_id.clone())),
                "reported twice: {m:?}"
            );
        }
    }
    assert_eq!(joined.len(), 12 * 201);
    for gid in &groups {
        assert_eq!(s.client().store().members(gid).unwrap().len(), 203);
    }
    assert_quiet_afterwards(&sb, bot, dir.path(), s).await;
    sb.shutdown().await;
}

#[tokio::test]
async fn a_new_server_changes_the_version_id_and_falls_back_to_the_full_lists() {
    let dir = tempfile::tempdir().unwrap();
    let bot = "vbot4";
    let sb = sandbox().await;
    let alice = peer(&sb, "valice4").await;
    let _ = sb.register_user(bot, "Bot").await;
    sb.make_friends(bot, "valice4").await.unwrap();
    let gid = alice
        .api
        .create_group("valice4", &[bot], "Old")
        .await
        .unwrap()
        .group_id;
    let (s, _) = start(&sb, bot, dir.path()).await;
    assert!(s.client().store().friend("valice4").unwrap().is_some());
    s.shutdown().await.unwrap();
    sb.shutdown().await;

    // Another server (fresh state, new version logs), same data dir: erin is the only friend.
    let sb = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let _ = sb.register_user(bot, "Bot").await;
    let _ = sb.register_user("valice4", "valice4 nick").await;
    let _ = sb.register_user("verin4", "Erin").await;
    sb.make_friends(bot, "verin4").await.unwrap();
    let cfg = SessionConfig::with_secret(sb.api_url(), sb.ws_url(), dir.path(), bot, sb.secret());
    let mut s = Session::start(cfg).await.unwrap();
    let events = until_synced(&mut s).await;
    let count = |pred: &dyn Fn(&Event) -> bool| events.iter().filter(|e| pred(e)).count();
    assert_eq!(
        count(&|e| matches!(e, Event::FriendDeleted(f) if f.user_id == "valice4")),
        1,
        "{events:#?}"
    );
    assert_eq!(
        count(&|e| matches!(e, Event::FriendAdded(f) if f.user_id == "verin4")),
        1,
        "{events:#?}"
    );
    assert_eq!(
        count(&|e| matches!(e, Event::JoinedGroupDeleted(j) if j.group.group_id == gid)),
        1,
        "{events:#?}"
    );
    assert!(
        sb.route_hits("/friend/get_friend_list") >= 1,
        "full friend list"
    );
    assert!(
        sb.route_hits("/group/get_joined_group_list") >= 1,
        "full group list"
    );
    assert_quiet_afterwards(&sb, bot, dir.path(), s).await;
    sb.shutdown().await;
}

#[tokio::test]
async fn failing_incremental_routes_fall_back_and_still_report_once() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let bot = "vbot5";
    let alice = peer(&sb, "valice5").await;
    let _ = peer(&sb, "vcarol5").await;
    let _ = sb.register_user(bot, "Bot").await;
    let gid = alice
        .api
        .create_group("valice5", &[bot], "G")
        .await
        .unwrap()
        .group_id;
    let (s, _) = start(&sb, bot, dir.path()).await;
    s.shutdown().await.unwrap();
    // Offline: a new friend, a new member.
    sb.make_friends(bot, "valice5").await.unwrap();
    alice
        .api
        .invite_to_group(&gid, &["vcarol5"], "")
        .await
        .unwrap();
    // The incremental friend route fails (full list instead); the member batch fails (asked
    // per group instead).
    sb.faults()
        .fail_route("/friend/get_incremental_friends", 1, 500);
    sb.faults()
        .fail_route("/group/get_incremental_group_members_batch", 1, 500);
    let friends_full = sb.route_hits("/friend/get_friend_list");
    let single = sb.route_hits("/group/get_incremental_group_members");
    let (s, events) = start(&sb, bot, dir.path()).await;
    let count = |pred: &dyn Fn(&Event) -> bool| events.iter().filter(|e| pred(e)).count();
    assert_eq!(
        count(&|e| matches!(e, Event::FriendAdded(f) if f.user_id == "valice5")),
        1,
        "{events:#?}"
    );
    assert_eq!(
        count(&|e| matches!(e, Event::GroupMemberInvited(m) if m.member.user_id == "vcarol5")),
        1,
        "{events:#?}"
    );
    assert!(sb.route_hits("/friend/get_friend_list") > friends_full);
    assert!(sb.route_hits("/group/get_incremental_group_members") > single);
    assert_quiet_afterwards(&sb, bot, dir.path(), s).await;
    sb.shutdown().await;
}

#[tokio::test]
async fn a_restarted_server_keeps_its_logs_and_the_sync_stays_incremental() {
    let dir = tempfile::tempdir().unwrap();
    let server_dir = tempfile::tempdir().unwrap();
    let bot = "vbot6";
    let sb = Sandbox::start(SandboxConfig::default().data_dir(server_dir.path()))
        .await
        .unwrap();
    let _ = sb.register_user(bot, "Bot").await;
    let _ = sb.register_user("valice6", "Alice").await;
    let (s, _) = start(&sb, bot, dir.path()).await;
    s.shutdown().await.unwrap();
    sb.shutdown().await;

    // Same server state (persisted version logs, same versionIDs) on new ports.
    let sb = Sandbox::start(SandboxConfig::default().data_dir(server_dir.path()))
        .await
        .unwrap();
    sb.make_friends(bot, "valice6").await.unwrap();
    let (s, events) = start(&sb, bot, dir.path()).await;
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Event::FriendAdded(f) if f.user_id == "valice6"))
            .count(),
        1,
        "{events:#?}"
    );
    assert_eq!(
        hits(&sb, FULL_ROUTES),
        vec![0, 0, 0, 0],
        "no full list after a server restart"
    );
    assert_quiet_afterwards(&sb, bot, dir.path(), s).await;
    sb.shutdown().await;
}

#[tokio::test]
async fn a_crash_before_the_write_redelivers_the_changes() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let bot = "vbot7";
    let friends = ["vf7_a", "vf7_b", "vf7_c", "vf7_d"];
    for f in friends {
        let _ = sb.register_user(f, f).await;
    }
    let _ = sb.register_user(bot, "Bot").await;
    let (s, _) = start(&sb, bot, dir.path()).await;
    s.shutdown().await.unwrap();
    for f in friends {
        sb.make_friends(bot, f).await.unwrap();
    }
    // A consumer that takes one friend event and dies: with a one-slot channel the session is
    // still handing over the others, so nothing of this sync was written.
    let mut cfg = config(&sb, bot, dir.path());
    cfg.channel_capacity = 1;
    let mut s = Session::start(cfg).await.unwrap();
    wait_kind(&mut s, EventKind::FriendAdded).await;
    drop(s);
    // The restart finds the same changes and reports every one of them.
    let (s, events) = start(&sb, bot, dir.path()).await;
    let added: std::collections::BTreeSet<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::FriendAdded(f) => Some(f.user_id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(added.len(), friends.len(), "{events:#?}");
    assert_quiet_afterwards(&sb, bot, dir.path(), s).await;
    sb.shutdown().await;
}

#[tokio::test]
async fn many_groups_reconnect_with_a_few_batch_calls() {
    const GROUPS: usize = 150;
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let bot = "vbot8";
    let alice = peer(&sb, "valice8").await;
    let _ = peer(&sb, "vcarol8").await;
    let _ = sb.register_user(bot, "Bot").await;
    for i in 0..GROUPS {
        alice
            .api
            .create_group("valice8", &[bot, "vcarol8"], &format!("G{i}"))
            .await
            .unwrap();
    }
    let members_full = sb.route_hits("/group/get_group_member_list");
    let started = std::time::Instant::now();
    let (s, _) = start(&sb, bot, dir.path()).await;
    let first = started.elapsed();
    let first_member_lists = sb.route_hits("/group/get_group_member_list") - members_full;
    assert!(first_member_lists >= GROUPS as u64);
    s.shutdown().await.unwrap();

    let before = (
        sb.route_hits("/group/get_group_member_list"),
        sb.route_hits("/group/get_incremental_group_members_batch"),
        sb.route_hits("/group/get_incremental_group_members"),
    );
    let started = std::time::Instant::now();
    let (s, events) = start(&sb, bot, dir.path()).await;
    let again = started.elapsed();
    assert!(relation_events(&events).is_empty(), "{events:#?}");
    let after = (
        sb.route_hits("/group/get_group_member_list"),
        sb.route_hits("/group/get_incremental_group_members_batch"),
        sb.route_hits("/group/get_incremental_group_members"),
    );
    assert_eq!(after.0, before.0, "no member list on a reconnect");
    assert_eq!(after.1, before.1 + 2, "150 groups: two batch calls of 100");
    assert_eq!(after.2, before.2, "no per-group call");
    eprintln!(
        "{GROUPS} groups: first start {first:?} ({first_member_lists} member-list calls), reconnect {again:?} (2 batch calls)"
    );
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}

#[tokio::test]
async fn api_client_version_routes() {
    use openim_bot::api::MemberVersion;
    let sb = sandbox().await;
    let alice = peer(&sb, "valice9").await;
    let _ = peer(&sb, "vbob9").await;
    let api = &alice.api;
    // Initial position: `full` with the head.
    let d = api.get_incremental_friends("valice9", "", 0).await.unwrap();
    assert!(d.full && d.version_id.len() == 24);
    let head = (d.version_id.clone(), d.version);
    let d = api
        .get_incremental_friends("valice9", &head.0, head.1)
        .await
        .unwrap();
    assert!(d.is_empty(), "{d:?}");
    sb.make_friends("valice9", "vbob9").await.unwrap();
    let d = api
        .get_incremental_friends("valice9", &head.0, head.1)
        .await
        .unwrap();
    assert!(!d.full && d.version > head.1);
    assert_eq!(d.inserted.len(), 1);
    assert_eq!(d.inserted[0].user_id, "vbob9");
    assert_eq!(
        api.get_full_friend_user_ids("valice9").await.unwrap().ids,
        ["vbob9"]
    );
    // Joined groups and members (batch keyed by group).
    let j = api
        .get_incremental_join_groups("valice9", "", 0)
        .await
        .unwrap();
    let g1 = api
        .create_group("valice9", &["vbob9"], "A")
        .await
        .unwrap()
        .group_id;
    let g2 = api
        .create_group("valice9", &[], "B")
        .await
        .unwrap()
        .group_id;
    let d = api
        .get_incremental_join_groups("valice9", &j.version_id, j.version)
        .await
        .unwrap();
    let mut joined: Vec<String> = d.inserted.iter().map(|g| g.group_id.clone()).collect();
    joined.sort();
    let mut expected = vec![g1.clone(), g2.clone()];
    expected.sort();
    assert_eq!(joined, expected);
    let mut ids = api.get_full_join_group_ids("valice9").await.unwrap().ids;
    ids.sort();
    assert_eq!(ids, expected);
    let batch = api
        .get_incremental_group_members_batch(
            "valice9",
            &[
                MemberVersion {
                    group_id: g1.clone(),
                    ..Default::default()
                },
                MemberVersion {
                    group_id: g2.clone(),
                    ..Default::default()
                },
            ],
        )
        .await
        .unwrap();
    assert_eq!(batch.len(), 2);
    let m1 = &batch[&g1];
    assert!(m1.members.full && m1.group.as_ref().map(|g| g.member_count) == Some(2));
    let d = api
        .get_incremental_group_members(&g1, &m1.members.version_id, m1.members.version)
        .await
        .unwrap();
    assert!(d.members.is_empty() && d.group.is_none(), "{d:?}");
    let ids = api.get_full_group_member_user_ids(&g1).await.unwrap().ids;
    assert_eq!(ids, ["valice9", "vbob9"], "owner first");
    // Conversations.
    let c = api
        .get_incremental_conversations("valice9", "", 0)
        .await
        .unwrap();
    assert!(c.full);
    let ids = api.get_full_conversation_ids("valice9").await.unwrap().ids;
    assert!(ids.contains(&format!("sg_{g1}")), "{ids:?}");
    sb.shutdown().await;
}

#[tokio::test]
async fn a_reaction_during_the_first_sync_is_not_taken_in_silently() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let bot = "vbot10";
    let alice = peer(&sb, "valice10").await;
    let _ = sb.register_user(bot, "Bot").await;
    // Many groups, so the member stage takes a while; the bot owns the last one.
    let admin = admin(&sb).await;
    for i in 0..30 {
        admin
            .create_group(bot, &[], &format!("filler {i}"))
            .await
            .unwrap();
    }
    let gid = admin.create_group(bot, &[], "Club").await.unwrap().group_id;
    alice
        .api
        .join_group(&gid, "valice10", "let me in")
        .await
        .unwrap();
    // First start: the pending application is reported; the bot accepts it at once.
    let mut s = Session::start(config(&sb, bot, dir.path())).await.unwrap();
    wait_for(
        &mut s,
        "application",
        |e| matches!(e, Event::GroupApplicationAdded(a) if a.user_id == "valice10"),
    )
    .await;
    s.client()
        .api()
        .respond_group_application(&gid, "valice10", true, "welcome")
        .await
        .unwrap();
    // The new member is reported (the member lists were read before the application was
    // handed over, so the join is a change, not part of the first snapshot).
    wait_for(&mut s, "alice entered", |e| {
        matches!(e, Event::GroupMemberEntered(m) | Event::GroupMemberInvited(m)
            if m.member.user_id == "valice10" && m.member.group_id == gid)
    })
    .await;
    s.shutdown().await.unwrap();
    sb.shutdown().await;
}
