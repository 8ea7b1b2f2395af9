//! Friends and groups: notifications (content type, tips, recipients), version logs, permissions.

mod common;

use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn friend_application_accept_refuse_and_version_sync() {
    let sb = start().await;
    let t = users(&sb, &["alice", "bob", "carol"]).await;
    let mut a = Client::connect(&sb, "alice", &t[0]).await;
    let mut b = Client::connect(&sb, "bob", &t[1]).await;
    // baseline friend version of alice
    let v = post(
        &sb,
        "/friend/get_incremental_friends",
        Some(&t[0]),
        json!({"userID": "alice", "version": 0, "versionID": ""}),
    )
    .await;
    assert_eq!(v["data"]["full"], true);
    let (ver0, vid) = (
        v["data"]["version"].as_u64().unwrap(),
        v["data"]["versionID"].as_str().unwrap().to_string(),
    );
    assert_eq!(vid.len(), 24);
    // self-add, unknown user
    let v = post(
        &sb,
        "/friend/add_friend",
        Some(&t[0]),
        json!({"fromUserID": "alice", "toUserID": "alice"}),
    )
    .await;
    assert_eq!(code(&v), 1301);
    let v = post(
        &sb,
        "/friend/add_friend",
        Some(&t[0]),
        json!({"fromUserID": "bob", "toUserID": "carol"}),
    )
    .await;
    assert_eq!(code(&v), 1002, "fromUserID must be the caller");
    let v = post(
        &sb,
        "/friend/add_friend",
        Some(&t[0]),
        json!({"fromUserID": "alice", "toUserID": "bob", "reqMsg": "hi"}),
    )
    .await;
    assert_eq!(code(&v), 0);
    let (m, tips) = b.notification(1203).await;
    assert_eq!(
        (m.send_id.as_str(), m.recv_id.as_str(), m.seq),
        ("alice", "bob", 0)
    );
    assert_eq!(
        tips["fromToUserID"],
        json!({"fromUserID": "alice", "toUserID": "bob"})
    );
    assert_eq!(tips["request"]["reqMsg"], "hi");
    // either direction lookup
    let v = post(
        &sb,
        "/friend/get_designated_friend_apply",
        Some(&t[1]),
        json!({"fromUserID": "bob", "toUserID": "alice"}),
    )
    .await;
    assert_eq!(v["data"]["friendRequests"][0]["fromUserID"], "alice");
    let v = post(
        &sb,
        "/friend/get_friend_apply_list",
        Some(&t[1]),
        json!({"userID": "bob", "pagination": {"pageNumber": 1, "showNumber": 10}}),
    )
    .await;
    assert_eq!(v["data"]["FriendRequests"][0]["toUserID"], "bob");
    // accept: 1201 to the applicant (+ chat copy), friends both ways, log inserts
    let v = post(
        &sb,
        "/friend/add_friend_response",
        Some(&t[1]),
        json!({"fromUserID": "alice", "toUserID": "bob", "handleResult": 1, "handleMsg": "ok"}),
    )
    .await;
    assert_eq!(code(&v), 0);
    let (m, tips) = a.notification(1201).await;
    assert_eq!(
        (m.send_id.as_str(), tips["handleMsg"].as_str()),
        ("bob", Some("ok"))
    );
    assert_eq!(tips["fromToUserID"]["fromUserID"], "alice");
    let v = post(
        &sb,
        "/friend/add_friend_response",
        Some(&t[1]),
        json!({"fromUserID": "alice", "toUserID": "bob", "handleResult": 1}),
    )
    .await;
    assert_eq!(code(&v), 1001, "already handled");
    let v = post(
        &sb,
        "/friend/get_incremental_friends",
        Some(&t[0]),
        json!({"userID": "alice", "version": ver0, "versionID": vid}),
    )
    .await;
    assert_eq!(v["data"]["full"], false);
    assert_eq!(v["data"]["insert"][0]["friendUser"]["userID"], "bob");
    assert_eq!(v["data"]["delete"], Value::Null);
    let ver1 = v["data"]["version"].as_u64().unwrap();
    let v = post(
        &sb,
        "/friend/is_friend",
        Some(&t[0]),
        json!({"userID1": "alice", "userID2": "bob"}),
    )
    .await;
    assert_eq!(
        (
            v["data"]["inUser1Friends"].as_bool(),
            v["data"]["inUser2Friends"].as_bool()
        ),
        (Some(true), Some(true))
    );
    let v = post(
        &sb,
        "/friend/add_friend",
        Some(&t[0]),
        json!({"fromUserID": "alice", "toUserID": "bob"}),
    )
    .await;
    assert_eq!(code(&v), 1304);
    // remark → update entry; bob's profile change → update, not insert
    let v = post(
        &sb,
        "/friend/set_friend_remark",
        Some(&t[0]),
        json!({"ownerUserID": "alice", "friendUserID": "bob", "remark": "B"}),
    )
    .await;
    assert_eq!(code(&v), 0);
    let v = post(
        &sb,
        "/user/update_user_info_ex",
        Some(&t[1]),
        json!({"userInfo": {"userID": "bob", "nickname": "Robert"}}),
    )
    .await;
    assert_eq!(code(&v), 0);
    let (_, tips) = a.notification(1209).await;
    assert_eq!(tips["userID"], "bob");
    let v = post(
        &sb,
        "/friend/get_incremental_friends",
        Some(&t[0]),
        json!({"userID": "alice", "version": ver1, "versionID": vid}),
    )
    .await;
    assert_eq!(v["data"]["insert"], Value::Null);
    assert_eq!(v["data"]["update"][0]["remark"], "B");
    assert_eq!(v["data"]["update"][0]["friendUser"]["nickname"], "Robert");
    // full-ID route
    let v = post(
        &sb,
        "/friend/get_full_friend_user_ids",
        Some(&t[0]),
        json!({"userID": "alice", "idHash": 0}),
    )
    .await;
    assert_eq!(v["data"]["userIDs"], json!(["bob"]));
    // delete is one-sided; 1205
    let v = post(
        &sb,
        "/friend/delete_friend",
        Some(&t[0]),
        json!({"ownerUserID": "alice", "friendUserID": "bob"}),
    )
    .await;
    assert_eq!(code(&v), 0);
    let (_, tips) = b.notification(1205).await;
    assert_eq!(tips["fromToUserID"]["toUserID"], "bob");
    let v = post(
        &sb,
        "/friend/is_friend",
        Some(&t[0]),
        json!({"userID1": "alice", "userID2": "bob"}),
    )
    .await;
    assert_eq!(
        (
            v["data"]["inUser1Friends"].as_bool(),
            v["data"]["inUser2Friends"].as_bool()
        ),
        (Some(false), Some(true))
    );
    // refuse: 1202, second refuse 1305
    let v = post(
        &sb,
        "/friend/add_friend",
        Some(&t[2]),
        json!({"fromUserID": "carol", "toUserID": "alice"}),
    )
    .await;
    assert_eq!(code(&v), 0);
    let v = post(
        &sb,
        "/friend/add_friend_response",
        Some(&t[0]),
        json!({"fromUserID": "carol", "toUserID": "alice", "handleResult": -1}),
    )
    .await;
    assert_eq!(code(&v), 0);
    let v = post(
        &sb,
        "/friend/add_friend_response",
        Some(&t[0]),
        json!({"fromUserID": "carol", "toUserID": "alice", "handleResult": -1}),
    )
    .await;
    assert_eq!(code(&v), 1305);
    // blacklist notifications
    let v = post(
        &sb,
        "/friend/add_black",
        Some(&t[0]),
        json!({"ownerUserID": "alice", "blackUserID": "bob"}),
    )
    .await;
    assert_eq!(code(&v), 0);
    let (_, tips) = a.notification(1207).await;
    assert_eq!(tips["fromToUserID"]["toUserID"], "bob");
    let v = post(
        &sb,
        "/friend/get_black_list",
        Some(&t[0]),
        json!({"userID": "alice", "pagination": {"pageNumber": 1, "showNumber": 10}}),
    )
    .await;
    assert_eq!(v["data"]["blacks"][0]["blackUserInfo"]["userID"], "bob");
    sb.shutdown().await;
}

#[tokio::test]
async fn version_log_goes_full_past_the_threshold() {
    let sb = start().await;
    let t = users(&sb, &["owner"]).await;
    let admin = sb.admin_token().await.unwrap();
    let ids: Vec<String> = (0..205).map(|i| format!("f{i}")).collect();
    let list: Vec<Value> = ids
        .iter()
        .map(|i| json!({"userID": i, "nickname": i}))
        .collect();
    assert_eq!(
        code(
            &post(
                &sb,
                "/user/user_register",
                Some(&admin),
                json!({"users": list})
            )
            .await
        ),
        0
    );
    let v = post(
        &sb,
        "/friend/get_incremental_friends",
        Some(&t[0]),
        json!({"userID": "owner", "version": 0, "versionID": ""}),
    )
    .await;
    let (ver, vid) = (
        v["data"]["version"].as_u64().unwrap(),
        v["data"]["versionID"].as_str().unwrap().to_string(),
    );
    let v = post(
        &sb,
        "/friend/import_friend",
        Some(&admin),
        json!({"ownerUserID": "owner", "friendUserIDs": ids}),
    )
    .await;
    assert_eq!(code(&v), 0);
    let v = post(
        &sb,
        "/friend/get_incremental_friends",
        Some(&t[0]),
        json!({"userID": "owner", "version": ver, "versionID": vid}),
    )
    .await;
    assert_eq!(v["data"]["full"], true, "205 changes > 200 → full");
    assert_eq!(v["data"]["insert"], Value::Null);
    sb.shutdown().await;
}

#[tokio::test]
async fn group_lifecycle_notifications_and_permissions() {
    let sb = start().await;
    let t = users(&sb, &["owner", "m1", "m2", "out"]).await;
    let mut o = Client::connect(&sb, "owner", &t[0]).await;
    let mut m1 = Client::connect(&sb, "m1", &t[1]).await;
    let mut x = Client::connect(&sb, "out", &t[3]).await;
    // create (owner may create for itself; not for others)
    let v = post(
        &sb,
        "/group/create_group",
        Some(&t[1]),
        json!({"ownerUserID": "owner", "memberUserIDs": [], "groupInfo": {"groupType": 2}}),
    )
    .await;
    assert_eq!(code(&v), 1002);
    let v = post(&sb, "/group/create_group", Some(&t[0]), json!({"ownerUserID": "owner", "memberUserIDs": ["m1"], "groupInfo": {"groupID": "g", "groupName": "G", "groupType": 2}})).await;
    assert_eq!(v["data"]["groupInfo"]["memberCount"], 2);
    let v = post(&sb, "/group/create_group", Some(&t[0]), json!({"ownerUserID": "owner", "memberUserIDs": [], "groupInfo": {"groupID": "g", "groupType": 2}})).await;
    assert_eq!(code(&v), 1202);
    let (msg, tips) = m1.notification(1501).await;
    assert_eq!((msg.session_type, msg.group_id.as_str()), (3, "g"));
    assert_eq!(tips["group"]["groupID"], "g");
    assert!(
        tips["groupMemberVersionID"]
            .as_str()
            .is_some_and(|s| s.len() == 24)
    );
    // group text reaches members, outsider refused with 1203
    m1.send_text("g", true, "hello all", "op-g1").await;
    let (f, m) = o.message_with_text("hello all").await;
    assert_eq!(
        (f.operation_id.as_str(), m.group_id.as_str(), m.session_type),
        ("op-g1", "g", 3)
    );
    assert_eq!(
        x.send_text("g", true, "let me", "op-x").await.err_code,
        1203
    );
    // invite m2 → 1509
    let v = post(
        &sb,
        "/group/invite_user_to_group",
        Some(&t[1]),
        json!({"groupID": "g", "invitedUserIDs": ["m2"], "reason": ""}),
    )
    .await;
    assert_eq!(code(&v), 0);
    let (_, tips) = o.notification(1509).await;
    assert_eq!(tips["invitedUserList"][0]["userID"], "m2");
    // mute m1: member cannot mute, owner can; muted member → 1402
    let v = post(
        &sb,
        "/group/mute_group_member",
        Some(&t[1]),
        json!({"groupID": "g", "userID": "m2", "mutedSeconds": 60}),
    )
    .await;
    assert_eq!(code(&v), 1002);
    let v = post(
        &sb,
        "/group/mute_group_member",
        Some(&t[0]),
        json!({"groupID": "g", "userID": "m1", "mutedSeconds": 60}),
    )
    .await;
    assert_eq!(code(&v), 0);
    let (_, tips) = m1.notification(1512).await;
    assert_eq!(
        (
            tips["mutedUser"]["userID"].as_str(),
            tips["mutedSeconds"].as_i64()
        ),
        (Some("m1"), Some(60))
    );
    assert_eq!(
        m1.send_text("g", true, "muted", "op-m").await.err_code,
        1402
    );
    assert_eq!(
        code(
            &post(
                &sb,
                "/group/cancel_mute_group_member",
                Some(&t[0]),
                json!({"groupID": "g", "userID": "m1"})
            )
            .await
        ),
        0
    );
    // whole-group mute → 1403 for members, owner still sends
    assert_eq!(
        code(
            &post(
                &sb,
                "/group/mute_group",
                Some(&t[0]),
                json!({"groupID": "g"})
            )
            .await
        ),
        0
    );
    assert_eq!(m1.send_text("g", true, "x", "op-m2").await.err_code, 1403);
    assert_eq!(
        o.send_text("g", true, "owner speaks", "op-o")
            .await
            .err_code,
        0
    );
    assert_eq!(
        code(
            &post(
                &sb,
                "/group/cancel_mute_group",
                Some(&t[0]),
                json!({"groupID": "g"})
            )
            .await
        ),
        0
    );
    // set admin role → 1517; member info
    let v = post(
        &sb,
        "/group/set_group_member_info",
        Some(&t[0]),
        json!({"members": [{"groupID": "g", "userID": "m1", "roleLevel": 60}]}),
    )
    .await;
    assert_eq!(code(&v), 0);
    let (_, tips) = m1.notification(1517).await;
    assert_eq!(tips["changedUser"]["roleLevel"], 60);
    // join with approval: application to managers, accept adds the member (1505 + 1510)
    let v = post(
        &sb,
        "/group/join_group",
        Some(&t[3]),
        json!({"groupID": "g", "reqMessage": "pls", "joinSource": 3, "inviterUserID": "out"}),
    )
    .await;
    assert_eq!(code(&v), 0);
    let (_, tips) = o.notification(1503).await;
    assert_eq!(
        (
            tips["applicant"]["userID"].as_str(),
            tips["reqMsg"].as_str()
        ),
        (Some("out"), Some("pls"))
    );
    let v = post(
        &sb,
        "/group/group_application_response",
        Some(&t[0]),
        json!({"groupID": "g", "fromUserID": "out", "handledMsg": "ok", "handleResult": 1}),
    )
    .await;
    assert_eq!(code(&v), 0);
    let (_, tips) = x.notification(1505).await;
    assert_eq!(tips["receiverAs"], 0);
    let v = post(
        &sb,
        "/group/group_application_response",
        Some(&t[0]),
        json!({"groupID": "g", "fromUserID": "out", "handleResult": 1}),
    )
    .await;
    assert_eq!(code(&v), 1206);
    // kick → 1508, also pushed to the kicked user; kicked user no longer a member
    let v = post(
        &sb,
        "/group/kick_group",
        Some(&t[0]),
        json!({"groupID": "g", "kickedUserIDs": ["out"], "reason": "bye"}),
    )
    .await;
    assert_eq!(code(&v), 0);
    let (_, tips) = x.notification(1508).await;
    assert_eq!(tips["kickedUserList"][0]["userID"], "out");
    assert_eq!(
        x.send_text("g", true, "still here?", "op-x2")
            .await
            .err_code,
        1203
    );
    // quit: owner cannot; transfer then dismiss
    assert_eq!(
        code(
            &post(
                &sb,
                "/group/quit_group",
                Some(&t[0]),
                json!({"groupID": "g"})
            )
            .await
        ),
        1002
    );
    let v = post(
        &sb,
        "/group/transfer_group",
        Some(&t[0]),
        json!({"groupID": "g", "oldOwnerUserID": "owner", "newOwnerUserID": "m1"}),
    )
    .await;
    assert_eq!(code(&v), 0);
    let (_, tips) = o.notification(1507).await;
    assert_eq!(tips["newGroupOwner"]["userID"], "m1");
    assert_eq!(
        code(
            &post(
                &sb,
                "/group/dismiss_group",
                Some(&t[0]),
                json!({"groupID": "g"})
            )
            .await
        ),
        1002
    );
    assert_eq!(
        code(
            &post(
                &sb,
                "/group/dismiss_group",
                Some(&t[1]),
                json!({"groupID": "g"})
            )
            .await
        ),
        0
    );
    let (_, tips) = o.notification(1511).await;
    assert_eq!(tips["group"]["groupID"], "g");
    assert_eq!(
        o.send_text("g", true, "gone?", "op-o2").await.err_code,
        1204
    );
    // joined-group log of owner shows the deletion
    let v = post(
        &sb,
        "/group/get_full_join_group_ids",
        Some(&t[0]),
        json!({"userID": "owner", "idHash": 0}),
    )
    .await;
    assert_eq!(
        (v["data"]["equal"].as_bool(), &v["data"]["groupIDs"]),
        (Some(true), &Value::Null)
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn member_batch_sync_and_direct_join() {
    let sb = start().await;
    let t = users(&sb, &["owner", "joiner"]).await;
    let v = post(&sb, "/group/create_group", Some(&t[0]), json!({"ownerUserID": "owner", "memberUserIDs": [], "groupInfo": {"groupID": "open", "groupType": 2, "needVerification": 2}})).await;
    assert_eq!(code(&v), 0);
    let v = post(
        &sb,
        "/group/get_incremental_group_members_batch",
        Some(&t[0]),
        json!({"userID": "owner", "reqList": [{"groupID": "open", "version": 0, "versionID": ""}]}),
    )
    .await;
    let r = &v["data"]["respList"]["open"];
    assert_eq!(r["full"], true);
    let (ver, vid) = (
        r["version"].as_u64().unwrap(),
        r["versionID"].as_str().unwrap().to_string(),
    );
    let mut o = Client::connect(&sb, "owner", &t[0]).await;
    let v = post(
        &sb,
        "/group/join_group",
        Some(&t[1]),
        json!({"groupID": "open", "joinSource": 3, "inviterUserID": "joiner"}),
    )
    .await;
    assert_eq!(code(&v), 0);
    let (_, tips) = o.notification(1510).await;
    assert_eq!(tips["entrantUser"]["userID"], "joiner");
    assert_eq!(tips["groupMemberVersionID"], vid.as_str());
    let v = post(&sb, "/group/get_incremental_group_members_batch", Some(&t[0]), json!({"userID": "owner", "reqList": [{"groupID": "open", "version": ver, "versionID": vid}]})).await;
    let r = &v["data"]["respList"]["open"];
    assert_eq!(
        (r["full"].as_bool(), r["insert"][0]["userID"].as_str()),
        (Some(false), Some("joiner"))
    );
    assert_eq!(r["group"]["memberCount"], 2);
    // get_group_member_list with a keyword (v3.8.3): an exact user ID or nickname (the group
    // nickname, else the profile's), paged among the matches
    let list = |kw: &str| json!({"groupID": "open", "keyword": kw, "pagination": {"pageNumber": 1, "showNumber": 10}});
    // (an empty page is `null`, as upstream's nil slice)
    let ids = |v: &Value| -> Vec<String> {
        v["data"]["members"]
            .as_array()
            .map(|ms| {
                ms.iter()
                    .map(|m| m["userID"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let v = post(&sb, "/group/get_group_member_list", Some(&t[0]), list("")).await;
    assert_eq!(
        (ids(&v), v["data"]["total"].as_u64()),
        (vec!["owner".to_string(), "joiner".to_string()], Some(2))
    );
    let v = post(
        &sb,
        "/group/get_group_member_list",
        Some(&t[0]),
        list("joiner"),
    )
    .await;
    assert_eq!(
        (ids(&v), v["data"]["total"].as_u64()),
        (vec!["joiner".to_string()], Some(1))
    );
    let v = post(
        &sb,
        "/group/get_group_member_list",
        Some(&t[0]),
        list("OWNER"),
    )
    .await;
    assert_eq!(ids(&v), ["owner"], "the profile nickname");
    let v = post(
        &sb,
        "/group/get_group_member_list",
        Some(&t[0]),
        list("join"),
    )
    .await;
    assert_eq!(
        (ids(&v), v["data"]["total"].as_u64()),
        (Vec::<String>::new(), Some(0)),
        "exact, not a substring"
    );
    // a non-member asking for the batch of a group fails the whole batch
    let t3 = users(&sb, &["stranger"]).await;
    let v = post(&sb, "/group/get_incremental_group_members_batch", Some(&t3[0]), json!({"userID": "stranger", "reqList": [{"groupID": "open", "version": 0, "versionID": ""}]})).await;
    assert_eq!(code(&v), 1002);
    sb.shutdown().await;
}

#[tokio::test]
async fn at_mentions_set_group_at_type_and_notify() {
    let sb = start().await;
    let t = users(&sb, &["owner", "m1", "m2"]).await;
    let gid = sb.create_group("owner", &["m1", "m2"], "G").await.unwrap();
    let mut m1 = Client::connect(&sb, "m1", &t[1]).await;
    let admin = sb.admin_token().await.unwrap();
    let v = post(
        &sb,
        "/msg/send_msg",
        Some(&admin),
        json!({"sendID": "owner", "groupID": gid, "sessionType": 3, "contentType": 106,
        "content": {"text": "@m1 hi", "atUserList": ["m1"]}}),
    )
    .await;
    assert_eq!(code(&v), 0);
    let (_, tips) = m1.notification(1300).await;
    assert_eq!(tips["conversationIDList"], json!([format!("sg_{gid}")]));
    let v = post(
        &sb,
        "/conversation/get_conversation",
        Some(&t[1]),
        json!({"ownerUserID": "m1", "conversationID": format!("sg_{gid}")}),
    )
    .await;
    assert_eq!(v["data"]["conversation"]["groupAtType"], 1);
    let v = post(
        &sb,
        "/conversation/get_conversation",
        Some(&t[2]),
        json!({"ownerUserID": "m2", "conversationID": format!("sg_{gid}")}),
    )
    .await;
    assert_eq!(v["data"]["conversation"]["groupAtType"], 0);
    sb.shutdown().await;
}

#[tokio::test]
async fn the_set_member_role_helper_promotes_and_demotes_a_member() {
    let sb = openim_sandbox::Sandbox::start(
        openim_sandbox::SandboxConfig::default().push_latency(std::time::Duration::ZERO),
    )
    .await
    .unwrap();
    let t = users(&sb, &["owner", "m1"]).await;
    let gid = sb.create_group("owner", &["m1"], "G").await.unwrap();
    for level in [60, 20] {
        sb.set_member_role(&gid, "m1", level).await.unwrap();
        let v = post(
            &sb,
            "/group/get_group_members_info",
            Some(&t[0]),
            json!({"groupID": gid, "userIDs": ["m1"]}),
        )
        .await;
        assert_eq!(v["data"]["members"][0]["roleLevel"], level, "{v}");
    }
    sb.shutdown().await;
}
