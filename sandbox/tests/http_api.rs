//! HTTP API: envelope and header rules, auth, users, admin-only routes, messages over REST.

mod common;

use common::*;
use openim_sandbox::Sandbox;
use serde_json::json;

#[tokio::test]
async fn headers_envelope_and_auth_rules() {
    let sb = start().await;
    // missing operationID → 1001
    let r = reqwest::Client::new()
        .post(format!("{}/user/get_users_info", sb.api_url()))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (code(&v), v["errDlt"].as_str()),
        (1001, Some("header must have operationID"))
    );
    // missing token → 1001
    let v = post(&sb, "/user/get_users_info", None, json!({"userIDs": []})).await;
    assert_eq!(code(&v), 1001);
    // wrong secret → 1002; non-admin user ID → 1001
    let v = post(
        &sb,
        "/auth/get_admin_token",
        None,
        json!({"secret": "nope", "userID": "imAdmin"}),
    )
    .await;
    assert_eq!(code(&v), 1002);
    let v = post(
        &sb,
        "/auth/get_admin_token",
        None,
        json!({"secret": "openIM123", "userID": "alice"}),
    )
    .await;
    assert_eq!(code(&v), 1001);
    let admin = sb.admin_token().await.unwrap();
    // register: success without data, duplicate → 1102, bad id → 1001
    let v = post(
        &sb,
        "/user/user_register",
        Some(&admin),
        json!({"users": [{"userID": "alice", "nickname": "Alice"}]}),
    )
    .await;
    assert_eq!(code(&v), 0);
    assert!(v.get("data").is_none(), "field-less replies omit data: {v}");
    let v = post(
        &sb,
        "/user/user_register",
        Some(&admin),
        json!({"users": [{"userID": "alice", "nickname": "A"}]}),
    )
    .await;
    assert_eq!(code(&v), 1102);
    let v = post(
        &sb,
        "/user/user_register",
        Some(&admin),
        json!({"users": [{"userID": "a:b", "nickname": "A"}]}),
    )
    .await;
    assert_eq!(code(&v), 1001);
    // malformed JSON and empty body → 1001
    let v = post(
        &sb,
        "/user/get_users_info",
        Some(&admin),
        serde_json::Value::Null,
    )
    .await;
    assert_eq!(code(&v), 1001);
    // user tokens: non-admin cannot mint or register; admin platform refused
    let alice = sb.user_token("alice", 5).await.unwrap();
    let v = post(
        &sb,
        "/auth/get_user_token",
        Some(&alice),
        json!({"userID": "alice", "platformID": 5}),
    )
    .await;
    assert_eq!(code(&v), 1002);
    let v = post(
        &sb,
        "/user/user_register",
        Some(&alice),
        json!({"users": [{"userID": "bob", "nickname": "B"}]}),
    )
    .await;
    assert_eq!(code(&v), 1002);
    let v = post(
        &sb,
        "/auth/get_user_token",
        Some(&admin),
        json!({"userID": "alice", "platformID": 10}),
    )
    .await;
    assert_eq!(code(&v), 1002);
    let v = post(
        &sb,
        "/auth/get_user_token",
        Some(&admin),
        json!({"userID": "ghost", "platformID": 5}),
    )
    .await;
    assert_eq!(code(&v), 1004);
    // parse_token
    let v = post(&sb, "/auth/parse_token", None, json!({"token": alice})).await;
    assert_eq!(
        (
            v["data"]["userID"].as_str(),
            v["data"]["platformID"].as_i64()
        ),
        (Some("alice"), Some(5))
    );
    // a re-issued token supersedes the old one on HTTP too (1506)
    let alice2 = sb.user_token("alice", 5).await.unwrap();
    let v = post(
        &sb,
        "/user/get_users_info",
        Some(&alice),
        json!({"userIDs": ["alice"]}),
    )
    .await;
    assert_eq!(code(&v), 1506);
    let v = post(
        &sb,
        "/user/get_users_info",
        Some(&alice2),
        json!({"userIDs": ["alice", "ghost"]}),
    )
    .await;
    assert_eq!(v["data"]["usersInfo"].as_array().map(Vec::len), Some(1));
    // force_logout kicks the token
    let v = post(
        &sb,
        "/auth/force_logout",
        Some(&admin),
        json!({"userID": "alice", "platformID": 5}),
    )
    .await;
    assert_eq!(code(&v), 0);
    let v = post(
        &sb,
        "/user/get_users_info",
        Some(&alice2),
        json!({"userIDs": ["alice"]}),
    )
    .await;
    assert_eq!(code(&v), 1506);
    // bad tokens
    let v = post(
        &sb,
        "/user/get_users_info",
        Some("garbage"),
        json!({"userIDs": []}),
    )
    .await;
    assert_eq!(code(&v), 1503);
    // unknown route → 404
    let r = reqwest::Client::new()
        .post(format!("{}/nope/route", sb.api_url()))
        .header("operationID", "x")
        .header("token", &admin)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    sb.shutdown().await;
}

#[tokio::test]
async fn rest_send_revoke_read_and_seqs() {
    let sb = start().await;
    let t = users(&sb, &["alice", "bob"]).await;
    let admin = sb.admin_token().await.unwrap();
    let mut b = Client::connect(&sb, "bob", &t[1]).await;
    let mut a = Client::connect(&sb, "alice", &t[0]).await;
    let sent = sb
        .send_text("alice", "bob", false, "via rest")
        .await
        .unwrap();
    assert_eq!(sent["serverMsgID"].as_str().map(str::len), Some(32));
    let (_, pm) = b.push().await;
    let m = pm.conversation("si_alice_bob").unwrap().msgs[0].clone();
    assert_eq!((m.msg_from, text_of(&m).as_str()), (200, "via rest"));
    // unsupported content type and invalid content
    let v = post(&sb, "/msg/send_msg", Some(&admin), json!({"sendID": "alice", "recvID": "bob", "sessionType": 1, "contentType": 999, "content": {}})).await;
    assert_eq!(code(&v), 1001);
    let v = post(&sb, "/msg/send_msg", Some(&admin), json!({"sendID": "alice", "recvID": "bob", "sessionType": 1, "contentType": 101, "content": {"content": ""}})).await;
    assert_eq!(code(&v), 500);
    // non-admin cannot use send_msg
    let v = post(&sb, "/msg/send_msg", Some(&t[0]), json!({"sendID": "alice", "recvID": "bob", "sessionType": 1, "contentType": 101, "content": {"content": "x"}})).await;
    assert_eq!(code(&v), 1002);
    // newest seq and has-read/max
    let v = post(
        &sb,
        "/msg/newest_seq",
        Some(&t[1]),
        json!({"userID": "bob"}),
    )
    .await;
    assert_eq!(v["data"]["maxSeqs"]["si_alice_bob"], 1);
    let v = post(
        &sb,
        "/msg/get_conversations_has_read_and_max_seq",
        Some(&t[1]),
        json!({"userID": "bob"}),
    )
    .await;
    assert_eq!(v["data"]["seqs"]["si_alice_bob"]["hasReadSeq"], 0);
    // pull by seq (JSON): content base64, capital Msgs
    let v = post(&sb, "/msg/pull_msg_by_seq", Some(&t[1]), json!({"userID": "bob", "seqRanges": [{"conversationID": "si_alice_bob", "begin": 1, "end": 1, "num": 1}], "order": 0})).await;
    assert_eq!(v["data"]["msgs"]["si_alice_bob"]["Msgs"][0]["seq"], 1);
    // mark read: 2200 receipt to alice, stored in n_alice_bob
    let v = post(
        &sb,
        "/msg/mark_conversation_as_read",
        Some(&t[1]),
        json!({"conversationID": "si_alice_bob", "userID": "bob", "hasReadSeq": 1, "seqs": [1]}),
    )
    .await;
    assert_eq!(code(&v), 0);
    let (m, tips) = a.notification(2200).await;
    assert_eq!((m.send_id.as_str(), m.seq), ("bob", 1));
    assert_eq!(
        (
            tips["markAsReadUserID"].as_str(),
            tips["hasReadSeq"].as_i64()
        ),
        (Some("bob"), Some(1))
    );
    // revoke by someone else is refused; by the sender works, 2101 to both, pulls show 2101
    let v = post(
        &sb,
        "/msg/revoke_msg",
        Some(&t[1]),
        json!({"conversationID": "si_alice_bob", "seq": 1, "userID": "bob"}),
    )
    .await;
    assert_eq!(code(&v), 1002);
    let v = post(
        &sb,
        "/msg/revoke_msg",
        Some(&t[0]),
        json!({"conversationID": "si_alice_bob", "seq": 1, "userID": "alice"}),
    )
    .await;
    assert_eq!(code(&v), 0);
    let (m, tips) = b.notification(2101).await;
    assert_eq!(
        (
            m.seq > 0,
            tips["seq"].as_i64(),
            tips["revokerUserID"].as_str()
        ),
        (true, Some(1), Some("alice"))
    );
    assert!(tips.get("sesstionType").is_some());
    let v = post(
        &sb,
        "/msg/revoke_msg",
        Some(&t[0]),
        json!({"conversationID": "si_alice_bob", "seq": 1, "userID": "alice"}),
    )
    .await;
    assert_eq!(code(&v), 1404);
    let v = post(&sb, "/msg/pull_msg_by_seq", Some(&t[1]), json!({"userID": "bob", "seqRanges": [{"conversationID": "si_alice_bob", "begin": 1, "end": 1, "num": 1}]})).await;
    assert_eq!(
        v["data"]["msgs"]["si_alice_bob"]["Msgs"][0]["contentType"],
        2101
    );
    let v = post(&sb, "/msg/get_server_time", Some(&t[0]), json!({})).await;
    assert!(v["data"]["serverTime"].as_i64().unwrap() > 0);
    sb.shutdown().await;
}

#[tokio::test]
async fn blacklist_friend_verify_and_receive_options() {
    let sb = openim_sandbox::Sandbox::start(
        openim_sandbox::SandboxConfig::default().friend_verify(true),
    )
    .await
    .unwrap();
    let t = users(&sb, &["alice", "bob"]).await;
    let mut a = Client::connect(&sb, "alice", &t[0]).await;
    // not friends → 1303
    assert_eq!(a.send_text("bob", false, "hi", "op1").await.err_code, 1303);
    sb.make_friends("alice", "bob").await.unwrap();
    assert_eq!(a.send_text("bob", false, "hi", "op2").await.err_code, 0);
    // bob blocks alice → 1302
    let v = post(
        &sb,
        "/friend/add_black",
        Some(&t[1]),
        json!({"ownerUserID": "bob", "blackUserID": "alice"}),
    )
    .await;
    assert_eq!(code(&v), 0);
    assert_eq!(a.send_text("bob", false, "hi", "op3").await.err_code, 1302);
    let v = post(
        &sb,
        "/friend/remove_black",
        Some(&t[1]),
        json!({"ownerUserID": "bob", "blackUserID": "alice"}),
    )
    .await;
    assert_eq!(code(&v), 0);
    // bob sets global receive option 1 → silently dropped (empty answer)
    let v = post(
        &sb,
        "/user/set_global_msg_recv_opt",
        Some(&t[1]),
        json!({"userID": "bob", "globalRecvMsgOpt": 1}),
    )
    .await;
    assert_eq!(code(&v), 0);
    let f = a.send_text("bob", false, "dropped", "op4").await;
    assert_eq!(f.err_code, 0);
    let resp =
        <openim_sandbox::wire::SendMsgResp as prost::Message>::decode(f.data.as_slice()).unwrap();
    assert!(resp.server_msg_id.is_empty());
    sb.shutdown().await;
}

#[tokio::test]
async fn delete_and_clear_with_sync_options() {
    let sb = start().await;
    let t = users(&sb, &["alice", "bob"]).await;
    let mut a = Client::connect(&sb, "alice", &t[0]).await;
    let mut b = Client::connect(&sb, "bob", &t[1]).await;
    sb.send_text("bob", "alice", false, "m1").await.unwrap();
    sb.send_text("bob", "alice", false, "m2").await.unwrap();
    // delete for self with IsSyncSelf → 2102 to self, stored; bob still sees it
    let v = post(&sb, "/msg/delete_msgs", Some(&t[0]), json!({"conversationID": "si_alice_bob", "seqs": [1], "userID": "alice", "deleteSyncOpt": {"IsSyncSelf": true}})).await;
    assert_eq!(code(&v), 0);
    let (m, tips) = a.notification(2102).await;
    assert_eq!(
        (m.recv_id.as_str(), m.seq > 0, tips["seqs"].clone()),
        ("alice", true, json!([1]))
    );
    let pull = |u: &str| json!({"userID": u, "seqRanges": [{"conversationID": "si_alice_bob", "begin": 1, "end": 2, "num": 10}]});
    let v = post(&sb, "/msg/pull_msg_by_seq", Some(&t[0]), pull("alice")).await;
    assert_eq!(v["data"]["msgs"]["si_alice_bob"]["Msgs"][0]["status"], 4);
    let v = post(&sb, "/msg/pull_msg_by_seq", Some(&t[1]), pull("bob")).await;
    assert_eq!(v["data"]["msgs"]["si_alice_bob"]["Msgs"][0]["status"], 2);
    // clear for everyone → 1703 to the peer
    let v = post(&sb, "/msg/clear_conversation_msg", Some(&t[0]), json!({"conversationIDs": ["si_alice_bob"], "userID": "alice", "deleteSyncOpt": {"IsSyncOther": true}})).await;
    assert_eq!(code(&v), 0);
    let (_, tips) = b.notification(1703).await;
    assert_eq!(tips["conversationIDs"], json!(["si_alice_bob"]));
    let v = post(&sb, "/msg/pull_msg_by_seq", Some(&t[1]), pull("bob")).await;
    assert_eq!(
        v["data"]["msgs"],
        serde_json::Value::Null,
        "cleared for everyone"
    );
    sb.shutdown().await;
}

/// Uploads `bytes` in one part the JS client's way: `initiate` (its `name` and
/// `contentType` are completed with), a PUT to the signed part URL, and the completion with
/// the part's MD5 digest; returns the completion's answer.
async fn upload_in_one_part(
    sb: &Sandbox,
    token: &str,
    initiate: &serde_json::Value,
    bytes: &[u8],
) -> serde_json::Value {
    use md5::{Digest, Md5};
    let v = post(
        sb,
        "/object/initiate_multipart_upload",
        Some(token),
        initiate.clone(),
    )
    .await;
    assert_eq!(code(&v), 0, "{v}");
    let upload = &v["data"]["upload"];
    let part_url = format!("{}?partNumber=1", upload["sign"]["url"].as_str().unwrap());
    let put = reqwest::Client::new()
        .put(&part_url)
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let digest: String = Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let v = post(
        sb,
        "/object/complete_multipart_upload",
        Some(token),
        json!({"uploadID": upload["uploadID"], "parts": [digest], "name": initiate["name"],
            "contentType": initiate["contentType"]}),
    )
    .await;
    assert_eq!(code(&v), 0, "{v}");
    v
}

/// `GET /object/<name>` answers 302 to a signed download URL (upstream redirects to the
/// storage's presigned URL), which serves the bytes; `/object/access_url` answers such a URL.
/// A changed name or signature is refused with 403, an unknown object with 404.
#[tokio::test]
async fn object_urls_redirect_to_a_signed_download() {
    let sb = Sandbox::start(openim_sandbox::SandboxConfig::default())
        .await
        .unwrap();
    let t = users(&sb, &["alice"]).await;
    let bytes = b"a picture, as far as anyone can tell".to_vec();
    for name in ["alice/pic.png", "alice/other.png"] {
        let initiate = json!({"hash": name, "size": bytes.len(), "partSize": 5242880,
            "maxParts": -1, "cause": "", "name": name, "contentType": "image/png"});
        upload_in_one_part(&sb, &t[0], &initiate, &bytes).await;
    }
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let api = sb.api_url();
    let got = http
        .get(format!("{api}/object/alice/pic.png?type=image&width=64"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 302);
    let location = got.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{api}/object-download/alice/pic.png?expires=")),
        "{location}"
    );
    let got = http.get(&location).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "image/png");
    assert_eq!(got.bytes().await.unwrap().as_ref(), bytes.as_slice());
    // The signature covers the name and the expiry.
    let other = location.replace("/pic.png?", "/other.png?");
    assert_eq!(http.get(&other).send().await.unwrap().status(), 403);
    let (start, signature) = location.rsplit_once("signature=").unwrap();
    let flipped = if signature.starts_with('0') { "1" } else { "0" };
    let tampered = format!("{start}signature={flipped}{}", &signature[1..]);
    assert_eq!(http.get(&tampered).send().await.unwrap().status(), 403);
    let later = location.replacen("expires=", "expires=9", 1);
    assert_eq!(http.get(&later).send().await.unwrap().status(), 403);
    let unsigned = location.split('?').next().unwrap().to_owned();
    assert_eq!(http.get(&unsigned).send().await.unwrap().status(), 403);
    // Unknown objects and empty names, as upstream's redirect answers them.
    let got = http
        .get(format!("{api}/object/alice/none.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 404);
    assert_eq!(
        http.get(format!("{api}/object/"))
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
    let got = http
        .get(format!("{api}/object/alice/pic.png?type=video"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 400);
    let v = post(
        &sb,
        "/object/access_url",
        Some(&t[0]),
        json!({"name": "alice/pic.png", "query": {"type": "video"}}),
    )
    .await;
    assert_eq!(code(&v), 1001, "{v}");
    // access_url answers a signed download URL too.
    let v = post(
        &sb,
        "/object/access_url",
        Some(&t[0]),
        json!({"name": "alice/other.png", "query": {"type": "image"}}),
    )
    .await;
    assert_eq!(code(&v), 0, "{v}");
    let url = v["data"]["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{api}/object-download/alice/other.png?")),
        "{url}"
    );
    assert!(v["data"]["expireTime"].as_i64().unwrap() > 0);
    let got = http.get(url).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), bytes.as_slice());
    sb.shutdown().await;
}

/// Uploads the JS client's way (initiate, PUT the signed part, complete); with a data dir the
/// object is kept in it: served again, byte for byte with its content type, after a restart,
/// and identical content is still answered at once. Without a data dir objects live in memory.
#[tokio::test]
async fn uploaded_objects_survive_a_restart_with_a_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let config = || openim_sandbox::SandboxConfig::default().data_dir(dir.path());
    let sb = openim_sandbox::Sandbox::start(config()).await.unwrap();
    let t = users(&sb, &["alice"]).await;
    let bytes: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
    let initiate = json!({"hash": "content-hash-1", "size": bytes.len(), "partSize": 5242880,
        "maxParts": -1, "cause": "", "name": "alice/kept.bin", "contentType": "application/x-kept"});
    let v = upload_in_one_part(&sb, &t[0], &initiate, &bytes).await;
    let http = reqwest::Client::new();
    let path = v["data"]["url"]
        .as_str()
        .unwrap()
        .trim_start_matches(&sb.api_url())
        .to_owned();
    assert_eq!(path, "/object/alice/kept.bin");
    // MinIO's part figures; a part may be 5 MiB, other requests stay within 2 MB.
    let v = post(&sb, "/object/part_limit", Some(&t[0]), json!({})).await;
    assert_eq!(
        v["data"],
        json!({"minPartSize": 5242880, "maxPartSize": 5368709120_i64, "maxNumSize": 10000})
    );
    let v = post(
        &sb,
        "/object/part_size",
        Some(&t[0]),
        json!({"size": 20_000_000}),
    )
    .await;
    assert_eq!(v["data"]["size"], 5242880);
    let big = reqwest::Client::new()
        .post(format!("{}/user/get_users_info", sb.api_url()))
        .header("operationID", "op")
        .header("token", &t[0])
        .body(vec![b' '; 3 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 413);
    sb.shutdown().await;

    let sb = openim_sandbox::Sandbox::start(config()).await.unwrap();
    let got = http
        .get(format!("{}{path}", sb.api_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(
        got.headers()["content-type"].to_str().unwrap(),
        "application/x-kept"
    );
    assert_eq!(got.bytes().await.unwrap().as_ref(), bytes.as_slice());
    // The same content again: answered with the kept object, nothing to upload.
    let token = sb.user_token("alice", 5).await.unwrap();
    let v = post(
        &sb,
        "/object/initiate_multipart_upload",
        Some(&token),
        initiate,
    )
    .await;
    assert_eq!(code(&v), 0, "{v}");
    assert!(v["data"]["upload"].is_null(), "{v}");
    assert_eq!(
        v["data"]["url"].as_str().unwrap(),
        format!("{}{path}", sb.api_url())
    );
    sb.shutdown().await;

    // Memory only: a sandbox without a data dir starts with no objects.
    let sb = start().await;
    let got = http
        .get(format!("{}{path}", sb.api_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 404);
    sb.shutdown().await;
}

/// `/user/process_user_command_*` as v3.8.3 answers them: append-only adds (the `ex` of an
/// add lands in `value`), first-match update and delete (1004 when none), self or admin only,
/// the protocol's request checks first, `CommandResp` left out when empty.
#[tokio::test]
async fn user_commands_keep_upstream_semantics() {
    let sb = start().await;
    let t = users(&sb, &["alice", "bob"]).await;
    let alice = Some(t[0].as_str());
    let call = |route: &'static str, token: Option<&str>, body: serde_json::Value| {
        let token = token.map(str::to_owned);
        let sb = &sb;
        async move { post(sb, route, token.as_deref(), body).await }
    };
    let add = "/user/process_user_command_add";
    for body in [
        json!({"userID": "alice", "type": 1, "uuid": "a", "value": "v1"}),
        json!({"userID": "alice", "type": 1, "uuid": "b", "value": "v2", "ex": "e2"}),
        json!({"userID": "alice", "type": 2, "uuid": "c", "value": null}),
    ] {
        let v = call(add, alice, body).await;
        assert_eq!(code(&v), 0, "{v}");
        assert!(v.get("data").is_none(), "{v}");
    }
    let v = call(
        "/user/process_user_command_get",
        alice,
        json!({"userID": "alice", "type": 1}),
    )
    .await;
    let list = v["data"]["CommandResp"]
        .as_array()
        .expect("CommandResp")
        .clone();
    let rows: Vec<(&str, &str, Option<&str>)> = list
        .iter()
        .map(|c| {
            (
                c["uuid"].as_str().unwrap(),
                c["value"].as_str().unwrap(),
                c["ex"].as_str(),
            )
        })
        .collect();
    assert_eq!(rows, [("a", "v1", None), ("b", "e2", None)], "{v}");
    let created = list[0]["createTime"].as_i64().unwrap();
    assert!(
        created > 1_600_000_000 && created < 100_000_000_000,
        "seconds: {created}"
    );
    let v = call(
        "/user/process_user_command_get_all",
        alice,
        json!({"userID": "alice"}),
    )
    .await;
    assert_eq!(v["data"]["CommandResp"].as_array().unwrap().len(), 3);
    assert!(
        v["data"]["CommandResp"][2].get("value").is_none(),
        "empty value left out: {v}"
    );

    let update = "/user/process_user_command_update";
    let v = call(
        update,
        alice,
        json!({"userID": "alice", "type": 1, "uuid": "a", "value": "v1b", "ex": "x"}),
    )
    .await;
    assert_eq!(code(&v), 0, "{v}");
    let v = call(
        update,
        alice,
        json!({"userID": "alice", "type": 1, "uuid": "zz", "value": "q"}),
    )
    .await;
    assert_eq!(code(&v), 1004, "{v}");
    let v = call(
        update,
        alice,
        json!({"userID": "alice", "type": 1, "uuid": "zz"}),
    )
    .await;
    assert_eq!(code(&v), 0, "nothing to set: no lookup");
    let del = "/user/process_user_command_delete";
    let v = call(
        del,
        alice,
        json!({"userID": "alice", "type": 1, "uuid": "b"}),
    )
    .await;
    assert_eq!(code(&v), 0, "{v}");
    let v = call(
        del,
        alice,
        json!({"userID": "alice", "type": 1, "uuid": "b"}),
    )
    .await;
    assert_eq!(code(&v), 1004, "{v}");
    let v = call(
        "/user/process_user_command_get",
        alice,
        json!({"userID": "alice", "type": 1}),
    )
    .await;
    let list = &v["data"]["CommandResp"];
    assert_eq!(
        (
            list.as_array().unwrap().len(),
            list[0]["value"].as_str(),
            list[0]["ex"].as_str()
        ),
        (1, Some("v1b"), Some("x"))
    );

    // Checks: the request first (1001), then self or admin (1002).
    let v = call(
        add,
        alice,
        json!({"userID": "alice", "type": 0, "uuid": "a"}),
    )
    .await;
    assert_eq!(code(&v), 1001, "{v}");
    let v = call(
        add,
        alice,
        json!({"userID": "alice", "type": 1, "uuid": ""}),
    )
    .await;
    assert_eq!(code(&v), 1001, "{v}");
    let v = call(
        "/user/process_user_command_get_all",
        Some(&t[1]),
        json!({"userID": "alice"}),
    )
    .await;
    assert_eq!(code(&v), 1002, "{v}");
    // Nobody's commands: success, no CommandResp.
    let v = call(
        "/user/process_user_command_get_all",
        Some(&t[1]),
        json!({"userID": "bob"}),
    )
    .await;
    assert_eq!((code(&v), v["data"].clone()), (0, json!({})), "{v}");
    sb.shutdown().await;
}

/// `/third/logs/*`: any user records log files (one record per file, a 10-digit ID, the
/// platform's name); the admin searches them (newest first, with nicknames, paged) and
/// deletes them (every ID must exist).
#[tokio::test]
async fn client_logs_upload_search_delete() {
    let sb = start().await;
    let t = users(&sb, &["alice", "bob"]).await;
    let admin = sb.admin_token().await.unwrap();
    let v = post(
        &sb,
        "/third/logs/upload",
        Some(&t[0]),
        json!({"platform": 5, "fileURLs": [{"filename": "a1.log", "URL": "http://x/a1"},
            {"filename": "a2.log", "URL": "http://x/a2"}], "appFramework": "js", "version": "1.0", "ex": ""}),
    )
    .await;
    assert_eq!(code(&v), 0, "{v}");
    let v = post(
        &sb,
        "/third/logs/upload",
        Some(&t[1]),
        json!({"platform": 99, "fileURLs": [{"filename": "b.log", "URL": "http://x/b"}]}),
    )
    .await;
    assert_eq!(code(&v), 0, "{v}");
    let search = |token: String, body: serde_json::Value| {
        let sb = &sb;
        async move { post(sb, "/third/logs/search", Some(&token), body).await }
    };
    let v = search(t[0].clone(), json!({"keyword": ""})).await;
    assert_eq!(code(&v), 1002, "admin only: {v}");
    let v = search(admin.clone(), json!({"keyword": "lic"})).await;
    let infos = v["data"]["logsInfos"]
        .as_array()
        .expect("logsInfos")
        .clone();
    assert_eq!(v["data"]["total"], 2, "{v}");
    let names: Vec<&str> = infos
        .iter()
        .map(|l| l["filename"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    for l in &infos {
        assert_eq!(
            (
                l["userID"].as_str(),
                l["platform"].as_str(),
                l["nickname"].as_str()
            ),
            (Some("alice"), Some("Web"), Some("ALICE"))
        );
        let id = l["logID"].as_str().unwrap();
        assert!(
            id.len() == 10 && id.bytes().all(|b| b.is_ascii_digit()) && !id.starts_with('0'),
            "{id}"
        );
    }
    let v = search(
        admin.clone(),
        json!({"keyword": "", "pagination": {"pageNumber": 1, "showNumber": 1}}),
    )
    .await;
    assert_eq!(
        (
            v["data"]["total"].as_i64(),
            v["data"]["logsInfos"].as_array().map(Vec::len)
        ),
        (Some(3), Some(1))
    );
    assert_eq!(v["data"]["logsInfos"][0]["userID"], "bob", "newest first");
    assert!(
        v["data"]["logsInfos"][0].get("platform").is_none(),
        "unknown platform: no name"
    );
    let v = search(admin.clone(), json!({"startTime": 5, "endTime": 1})).await;
    assert_eq!(code(&v), 1001);

    let alice_log = infos[0]["logID"].as_str().unwrap().to_owned();
    let v = post(
        &sb,
        "/third/logs/delete",
        Some(&admin),
        json!({"logIDs": [alice_log, "0000000000"]}),
    )
    .await;
    assert_eq!(code(&v), 1004, "{v}");
    let v = post(
        &sb,
        "/third/logs/delete",
        Some(&admin),
        json!({"logIDs": [alice_log]}),
    )
    .await;
    assert_eq!(code(&v), 0, "{v}");
    let v = search(admin.clone(), json!({"keyword": ""})).await;
    assert_eq!(v["data"]["total"], 2, "one deleted: {v}");
    sb.shutdown().await;
}

/// Alice (with her own token, so she is the operator of the group's tips) creates a group with
/// Bob; its ID.
async fn alice_creates_group_with_bob(sb: &Sandbox, alice: &str, name: &str) -> String {
    let v = post(
        sb,
        "/group/create_group",
        Some(alice),
        json!({"ownerUserID": "alice", "memberUserIDs": ["bob"], "adminUserIDs": [],
            "groupInfo": {"groupName": name, "groupType": 2}}),
    )
    .await;
    assert_eq!(code(&v), 0, "{v}");
    v["data"]["groupInfo"]["groupID"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// `/statistics/user/register` and `/statistics/group/create`: any token; totals, rows
/// created before `start`, per-UTC-day counts in `[start, end)`; `start > end` → 1001.
#[tokio::test]
async fn registration_and_group_creation_counts() {
    let sb = start().await;
    let t = users(&sb, &["alice", "bob"]).await;
    alice_creates_group_with_bob(&sb, &t[0], "g").await;
    let now = now_ms();
    let day = 86_400_000;
    let range = json!({"start": now - day, "end": now + day});
    let v = post(&sb, "/statistics/user/register", Some(&t[1]), range.clone()).await;
    assert_eq!(code(&v), 0, "{v}");
    // imAdmin (created at start) plus the two users.
    assert_eq!(v["data"]["total"], 3, "{v}");
    assert!(v["data"].get("before").is_none(), "nobody before: {v}");
    let per_day: i64 = v["data"]["count"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_i64().unwrap())
        .sum();
    assert_eq!(per_day, 3);
    let later = json!({"start": now + day, "end": now + 2 * day});
    let v = post(&sb, "/statistics/group/create", Some(&t[1]), later).await;
    assert_eq!(
        v["data"],
        json!({"total": 1, "before": 1}),
        "created before the range: {v}"
    );
    let v = post(
        &sb,
        "/statistics/group/create",
        Some(&t[1]),
        json!({"start": 2, "end": 1}),
    )
    .await;
    assert_eq!(code(&v), 1001, "{v}");
    sb.shutdown().await;
}

/// `/statistics/user/active` and `/statistics/group/active`: stored chat messages in the
/// range counted per sender (single chats, plus group chats with `group`) or per group, with
/// per-day counts; group tips count for their operator, as in v3.8.3's aggregation; the
/// ranking is cut from index `pageNumber - 1` (upstream's `$slice`), not by page.
#[tokio::test]
async fn active_users_and_groups() {
    let sb = start().await;
    let t = users(&sb, &["alice", "bob"]).await;
    let gid = alice_creates_group_with_bob(&sb, &t[0], "Busy").await;
    for (from, to, group) in [
        ("alice", "bob", false),
        ("alice", "bob", false),
        ("bob", "alice", false),
        ("alice", gid.as_str(), true),
    ] {
        sb.send_text(from, to, group, "counted").await.unwrap();
    }
    let now = now_ms();
    let range = |extra: serde_json::Value| {
        let mut body = json!({"start": now - 60_000, "end": now + 60_000,
            "pagination": {"pageNumber": 1, "showNumber": 10}});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let ranking = |v: &serde_json::Value, list: &str, item: &str, id: &str| -> Vec<(String, i64)> {
        v["data"][list]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        (
                            e[item][id].as_str().unwrap().to_owned(),
                            e["count"].as_i64().unwrap(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let active = "/statistics/user/active";
    let v = post(&sb, active, Some(&t[1]), range(json!({}))).await;
    assert_eq!(
        (
            v["data"]["msgCount"].as_i64(),
            v["data"]["userCount"].as_i64()
        ),
        (Some(3), Some(2)),
        "{v}"
    );
    assert_eq!(
        ranking(&v, "users", "user", "userID"),
        [("alice".to_owned(), 2), ("bob".to_owned(), 1)]
    );
    assert_eq!(v["data"]["users"][0]["user"]["nickname"], "ALICE");
    let days: i64 = v["data"]["dateCount"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_i64().unwrap())
        .sum();
    assert_eq!(days, 3);
    // With group chats: the group text and the creation tip (sent by its operator) count.
    let v = post(&sb, active, Some(&t[1]), range(json!({"group": true}))).await;
    assert_eq!(
        ranking(&v, "users", "user", "userID"),
        [("alice".to_owned(), 4), ("bob".to_owned(), 1)],
        "{v}"
    );
    let v = post(&sb, active, Some(&t[1]), range(json!({"ase": true}))).await;
    assert_eq!(ranking(&v, "users", "user", "userID")[0].0, "bob");
    // Page 2 of 2 starts at index 1, not 2.
    let v = post(
        &sb,
        active,
        Some(&t[1]),
        range(json!({"pagination": {"pageNumber": 2, "showNumber": 2}})),
    )
    .await;
    assert_eq!(
        ranking(&v, "users", "user", "userID"),
        [("bob".to_owned(), 1)]
    );
    let v = post(
        &sb,
        "/statistics/group/active",
        Some(&t[1]),
        range(json!({})),
    )
    .await;
    assert_eq!(v["data"]["groupCount"], 1, "{v}");
    assert_eq!(
        ranking(&v, "groups", "group", "groupName"),
        [("Busy".to_owned(), 2)]
    );
    // Nothing in range: success, no figures.
    let v = post(
        &sb,
        active,
        Some(&t[1]),
        json!({"start": 1, "end": 2, "pagination": {"pageNumber": 1, "showNumber": 10}}),
    )
    .await;
    assert_eq!((code(&v), v["data"].clone()), (0, json!({})), "{v}");
    let v = post(&sb, active, Some(&t[1]), json!({"start": 1, "end": 2})).await;
    assert_eq!(code(&v), 500, "no pagination: {v}");
    sb.shutdown().await;
}

#[tokio::test]
async fn conversation_lists_and_incremental_sync() {
    let sb = start().await;
    let t = users(&sb, &["alice", "bob", "carol"]).await;
    // no conversations yet: the lists are null, as Go writes a nil slice
    let v = post(
        &sb,
        "/conversation/get_all_conversations",
        Some(&t[0]),
        json!({"ownerUserID": "alice"}),
    )
    .await;
    assert_eq!(code(&v), 0, "{v}");
    assert_eq!(v["data"], json!({"conversations": null}));
    let v = post(
        &sb,
        "/conversation/get_incremental_conversations",
        Some(&t[0]),
        json!({"userID": "alice", "versionID": "", "version": 0}),
    )
    .await;
    assert_eq!(v["data"]["full"], true, "{v}");
    let (vid, version) = (
        v["data"]["versionID"].as_str().unwrap().to_string(),
        v["data"]["version"].as_u64().unwrap(),
    );
    for k in ["delete", "insert", "update"] {
        assert!(v["data"][k].is_null(), "{k}: {v}");
    }
    sb.send_text("alice", "bob", false, "one").await.unwrap();
    sb.send_text("carol", "alice", false, "two").await.unwrap();
    // creation order; every field under its JSON name
    let v = post(
        &sb,
        "/conversation/get_all_conversations",
        Some(&t[0]),
        json!({"ownerUserID": "alice"}),
    )
    .await;
    let convs = v["data"]["conversations"].as_array().expect("a list");
    let ids: Vec<&str> = convs
        .iter()
        .map(|c| c["conversationID"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["si_alice_bob", "si_alice_carol"]);
    assert_eq!(convs[0]["ownerUserID"], "alice");
    assert_eq!(convs[0]["userID"], "bob");
    assert_eq!(convs[0]["conversationType"], 1);
    assert_eq!(convs[0]["latestMsgDestructTime"], -62135596800000i64);
    // the same rows, one by one
    let v = post(
        &sb,
        "/conversation/get_conversations",
        Some(&t[0]),
        json!({"ownerUserID": "alice", "conversationIDs": ["si_alice_carol", "si_x_y"]}),
    )
    .await;
    assert_eq!(v["data"]["conversations"], json!([convs[1]]));
    // since the first version: two inserts, nothing deleted or updated
    let v = post(
        &sb,
        "/conversation/get_incremental_conversations",
        Some(&t[0]),
        json!({"userID": "alice", "versionID": vid, "version": version}),
    )
    .await;
    let d = &v["data"];
    assert_eq!(
        (d["full"].as_bool(), d["versionID"].as_str()),
        (Some(false), Some(vid.as_str()))
    );
    assert_eq!(d["version"], version + 2);
    assert_eq!(d["insert"], json!(convs));
    assert!(d["delete"].is_null() && d["update"].is_null(), "{v}");
}

/// Review s4 R7: deleting a command of a user who has none answers "not found" and leaves no
/// empty entry behind in the persisted state; deleting a user's last command drops the entry.
#[tokio::test]
async fn deleting_commands_leaves_no_empty_entries() {
    let dir = tempfile::tempdir().unwrap();
    let sb = Sandbox::start(openim_sandbox::SandboxConfig::default().data_dir(dir.path()))
        .await
        .unwrap();
    let t = users(&sb, &["alice", "bob"]).await;
    let delete = "/user/process_user_command_delete";
    let v = post(
        &sb,
        delete,
        Some(&t[1]),
        json!({"userID": "bob", "type": 1, "uuid": "nope"}),
    )
    .await;
    assert_eq!(code(&v), 1004, "{v}");
    let v = post(
        &sb,
        "/user/process_user_command_add",
        Some(&t[0]),
        json!({"userID": "alice", "type": 1, "uuid": "a", "value": "v"}),
    )
    .await;
    assert_eq!(code(&v), 0, "{v}");
    let v = post(
        &sb,
        delete,
        Some(&t[0]),
        json!({"userID": "alice", "type": 1, "uuid": "a"}),
    )
    .await;
    assert_eq!(code(&v), 0, "{v}");
    let v = post(
        &sb,
        "/user/process_user_command_get_all",
        Some(&t[0]),
        json!({"userID": "alice"}),
    )
    .await;
    assert_eq!(code(&v), 0, "{v}");
    assert!(
        v["data"]["CommandResp"]
            .as_array()
            .is_none_or(|l| l.is_empty()),
        "{v}"
    );
    sb.shutdown().await;
    let db = sled::open(dir.path()).unwrap();
    let snapshot: serde_json::Value =
        serde_json::from_slice(&db.get("state").unwrap().expect("a snapshot")).unwrap();
    assert_eq!(snapshot["user_commands"], json!({}), "no empty entries");
}

/// Review s4 R6: destroying an old message document (`/msg/delete_msg_physical`) never
/// lowers a conversation's min seq, as upstream v3.8.3's `SetMinSeq` keeps the higher one:
/// messages cleared for everyone stay cleared.
#[tokio::test]
async fn destroying_old_documents_never_lowers_the_min_seq() {
    // no push latency: each answer would otherwise wait behind the previous message's echo
    let mut config = openim_sandbox::SandboxConfig::default();
    config.push_latency = std::time::Duration::ZERO;
    let sb = Sandbox::start(config).await.unwrap();
    let t = users(&sb, &["alice", "bob"]).await;
    let admin = sb.admin_token().await.unwrap();
    let mut a = Client::connect(&sb, "alice", &t[0]).await;
    // seqs 1..=150 sent long ago (documents 1..=100 and 101..=200)
    for i in 1..=150 {
        let mut msg = text_msg("alice", "bob", false, &format!("old {i}"));
        msg.send_time = 1_000;
        let f = a
            .request(
                1003,
                &format!("op-{i}"),
                &prost::Message::encode_to_vec(&msg),
            )
            .await;
        assert_eq!(f.err_code, 0, "{}", f.err_msg);
    }
    // cleared for everyone: min seq 151
    let v = post(&sb, "/msg/clear_conversation_msg", Some(&t[0]), json!({"conversationIDs": ["si_alice_bob"], "userID": "alice", "deleteSyncOpt": {"IsSyncOther": true}})).await;
    assert_eq!(code(&v), 0, "{v}");
    // a recent message keeps the second document
    let f = a.send_text("bob", false, "new", "op-new").await;
    assert_eq!(f.err_code, 0, "{}", f.err_msg);
    // destroy documents whose messages were all sent at or before 5,000 (upstream compares
    // `now in seconds - timestamp` with send times in ms)
    let now_s = now_ms() / 1000;
    let v = post(
        &sb,
        "/msg/delete_msg_physical",
        Some(&admin),
        json!({"conversationIDs": [], "timestamp": now_s - 5_000}),
    )
    .await;
    assert_eq!(code(&v), 0, "{v}");
    let v = post(&sb, "/msg/pull_msg_by_seq", Some(&t[1]), json!({"userID": "bob", "seqRanges": [{"conversationID": "si_alice_bob", "begin": 1, "end": 151, "num": 200}]})).await;
    let seqs: Vec<i64> = v["data"]["msgs"]["si_alice_bob"]["Msgs"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [151], "seqs 101..=150 stay cleared");
    sb.shutdown().await;
}
