//! Cross-implementation golden tests against the official `@openim/protocol` 0.0.7 encoders
//! (the package `@openim/client-sdk` uses), run with Node from `protocol/golden/`.
//!
//! * Node -> Rust: `golden/gen.mjs` encodes samples of every WebSocket payload type with the
//!   official encoders and writes the field values it encoded; we decode each sample with our
//!   types and compare every field.
//! * Rust -> Node: we encode samples and write our field values; `golden/check.mjs` decodes
//!   them with the official decoders and compares every field (exit code checked).
//!
//! `npm ci` runs in `protocol/golden` when `node_modules` is missing (once, under a file
//! lock). Requires `node` and `npm` on PATH.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use openim_protocol::pb::{conversation, jssdk, msg, relation, sdkws};
use prost::Message;
use serde_json::Value;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("golden")
}

/// Runs `npm ci` once (per process, and serialised across processes by a file lock) when
/// the official package is not installed yet.
fn ensure_node_modules() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        let dir = golden_dir();
        let marker = dir.join("node_modules/@openim/protocol/package.json");
        let lock_file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(".npm-ci.lock"))
            .expect("create golden/.npm-ci.lock");
        lock_file.lock().expect("lock golden/.npm-ci.lock");
        if !marker.exists() {
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir)
                .status()
                .expect("run `npm ci` in protocol/golden (is npm installed?)");
            assert!(
                status.success(),
                "`npm ci` in protocol/golden failed: {status}"
            );
        }
        lock_file.unlock().expect("unlock golden/.npm-ci.lock");
        assert!(
            marker.exists(),
            "@openim/protocol not installed in protocol/golden"
        );
    });
}

fn run_node(script: &str, arg: &Path) -> std::process::Output {
    ensure_node_modules();
    Command::new("node")
        .arg(golden_dir().join(script))
        .arg(arg)
        .current_dir(golden_dir())
        .output()
        .expect("run node (is Node.js installed?)")
}

// ---------- comparison (same rules as golden/common.mjs) ----------

const JS_ONLY_KEYS: &[&str] = &["keyVersion", "dstUserIDs", "displayIsRead"];

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn is_default(v: &Value) -> bool {
    is_empty(v) || v == &Value::from(0) || v == &Value::Bool(false)
}

fn numbers_equal(a: &Value, b: &Value) -> bool {
    match (a.as_i64(), b.as_i64(), a.as_u64(), b.as_u64()) {
        (Some(x), Some(y), _, _) => x == y,
        (_, _, Some(x), Some(y)) => x == y,
        _ => a.as_f64() == b.as_f64(),
    }
}

fn compare(actual: &Value, expected: &Value, path: &str, diffs: &mut Vec<String>) {
    if is_empty(actual) && is_empty(expected) {
        return;
    }
    match (actual, expected) {
        (Value::Array(a), Value::Array(e)) if a.len() == e.len() => {
            for (i, (x, y)) in a.iter().zip(e).enumerate() {
                compare(x, y, &format!("{path}[{i}]"), diffs);
            }
        }
        (Value::Object(a), Value::Object(e)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(e.keys()).collect();
            for k in keys {
                match (a.get(k), e.get(k)) {
                    (Some(x), Some(y)) => compare(x, y, &format!("{path}.{k}"), diffs),
                    (Some(v), None) | (None, Some(v)) => {
                        if !JS_ONLY_KEYS.contains(&k.as_str()) && !is_default(v) {
                            diffs.push(format!("{path}.{k}: present on one side only ({v})"));
                        }
                    }
                    (None, None) => {}
                }
            }
        }
        (Value::Number(_), Value::Number(_)) if numbers_equal(actual, expected) => {}
        _ if actual == expected => {}
        _ => diffs.push(format!("{path}: expected {expected}, got {actual}")),
    }
}

// ---------- type table ----------

fn decode_as<T: Message + Default + PartialEq + serde::Serialize>(
    bytes: &[u8],
) -> Result<Value, String> {
    let msg = T::decode(bytes).map_err(|e| format!("decode: {e}"))?;
    // Our own re-encoding must decode to the same message.
    let again = T::decode(msg.encode_to_vec().as_slice()).map_err(|e| format!("re-decode: {e}"))?;
    if again != msg {
        return Err("re-encoding changed the message".into());
    }
    serde_json::to_value(&msg).map_err(|e| format!("to json: {e}"))
}

fn decode_json(ty: &str, bytes: &[u8]) -> Result<Value, String> {
    match ty {
        "MsgData" => decode_as::<sdkws::MsgData>(bytes),
        "OfflinePushInfo" => decode_as::<sdkws::OfflinePushInfo>(bytes),
        "PushMessages" => decode_as::<sdkws::PushMessages>(bytes),
        "PullMsgs" => decode_as::<sdkws::PullMsgs>(bytes),
        "SeqRange" => decode_as::<sdkws::SeqRange>(bytes),
        "PullMessageBySeqsReq" => decode_as::<sdkws::PullMessageBySeqsReq>(bytes),
        "PullMessageBySeqsResp" => decode_as::<sdkws::PullMessageBySeqsResp>(bytes),
        "GetMaxSeqResp" => decode_as::<sdkws::GetMaxSeqResp>(bytes),
        "UserSendMsgResp" => decode_as::<sdkws::UserSendMsgResp>(bytes),
        "GetConversationsHasReadAndMaxSeqReq" => {
            decode_as::<msg::GetConversationsHasReadAndMaxSeqReq>(bytes)
        }
        "GetConversationsHasReadAndMaxSeqResp" => {
            decode_as::<msg::GetConversationsHasReadAndMaxSeqResp>(bytes)
        }
        "Seqs" => decode_as::<msg::Seqs>(bytes),
        "ConversationSeqs" => decode_as::<msg::ConversationSeqs>(bytes),
        "GetSeqMessageReq" => decode_as::<msg::GetSeqMessageReq>(bytes),
        "GetSeqMessageResp" => decode_as::<msg::GetSeqMessageResp>(bytes),
        "SubUserOnlineStatus" => decode_as::<sdkws::SubUserOnlineStatus>(bytes),
        "SubUserOnlineStatusElem" => decode_as::<sdkws::SubUserOnlineStatusElem>(bytes),
        "SubUserOnlineStatusTips" => decode_as::<sdkws::SubUserOnlineStatusTips>(bytes),
        "SetAppBackgroundStatusResp" => decode_as::<sdkws::SetAppBackgroundStatusResp>(bytes),
        "GetActiveConversationsReq" => decode_as::<jssdk::GetActiveConversationsReq>(bytes),
        "GetConversationsReq" => decode_as::<jssdk::GetConversationsReq>(bytes),
        "GetActiveConversationsResp" => decode_as::<jssdk::GetActiveConversationsResp>(bytes),
        "GetConversationsResp" => decode_as::<jssdk::GetConversationsResp>(bytes),
        "ConversationMsg" => decode_as::<jssdk::ConversationMsg>(bytes),
        "Conversation" => decode_as::<conversation::Conversation>(bytes),
        "UserInfo" => decode_as::<sdkws::UserInfo>(bytes),
        "FriendInfoOnly" => decode_as::<relation::FriendInfoOnly>(bytes),
        "GroupInfo" => decode_as::<sdkws::GroupInfo>(bytes),
        "GroupMemberFullInfo" => decode_as::<sdkws::GroupMemberFullInfo>(bytes),
        "PublicUserInfo" => decode_as::<sdkws::PublicUserInfo>(bytes),
        other => Err(format!("no Rust type mapped for {other}")),
    }
}

#[derive(serde::Deserialize, serde::Serialize)]
struct ManifestEntry {
    id: String,
    #[serde(rename = "type")]
    ty: String,
    file: String,
    expected: Value,
}

// ---------- Node -> Rust ----------

#[test]
fn official_encodings_decode_field_for_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run_node("gen.mjs", dir.path());
    assert!(
        out.status.success(),
        "gen.mjs failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest: Vec<ManifestEntry> =
        serde_json::from_slice(&fs::read(dir.path().join("manifest.json")).unwrap()).unwrap();
    let types: std::collections::BTreeSet<&str> = manifest.iter().map(|m| m.ty.as_str()).collect();
    for required in [
        "MsgData",
        "PushMessages",
        "PullMessageBySeqsReq",
        "PullMessageBySeqsResp",
        "GetMaxSeqResp",
        "GetConversationsHasReadAndMaxSeqResp",
        "UserSendMsgResp",
        "GetSeqMessageReq",
        "GetSeqMessageResp",
        "SubUserOnlineStatusTips",
        "GetActiveConversationsResp",
    ] {
        assert!(types.contains(required), "no golden sample of {required}");
    }
    let mut failures = Vec::new();
    for entry in &manifest {
        let bytes = fs::read(dir.path().join(&entry.file)).unwrap();
        match decode_json(&entry.ty, &bytes) {
            Ok(actual) => {
                let mut diffs = Vec::new();
                compare(&actual, &entry.expected, &entry.id, &mut diffs);
                if !diffs.is_empty() {
                    failures.push(format!(
                        "{} ({}):\n  {}",
                        entry.id,
                        entry.ty,
                        diffs.join("\n  ")
                    ));
                }
            }
            Err(e) => failures.push(format!("{} ({}): {e}", entry.id, entry.ty)),
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatches:\n{}",
        failures.join("\n")
    );
    assert!(
        manifest.len() >= 30,
        "expected >= 30 samples, got {}",
        manifest.len()
    );
}

#[test]
fn official_send_response_decodes_as_msg_send_msg_resp() {
    // 1003 replies are `msg.SendMsgResp` on the server and `UserSendMsgResp` in clients.
    let official = sdkws::UserSendMsgResp {
        server_msg_id: "s".into(),
        client_msg_id: "c".into(),
        send_time: 1_736_841_600_123,
    };
    let resp = msg::SendMsgResp::decode(official.encode_to_vec().as_slice()).unwrap();
    assert_eq!(
        (
            resp.server_msg_id.as_str(),
            resp.client_msg_id.as_str(),
            resp.send_time,
            resp.modify
        ),
        ("s", "c", 1_736_841_600_123, None)
    );
}

// ---------- Rust -> Node ----------

fn text(s: &str) -> Vec<u8> {
    format!(r#"{{"content":"{s}"}}"#).into_bytes()
}

fn full_msg(seq: i64) -> sdkws::MsgData {
    sdkws::MsgData {
        send_id: "bot_1".into(),
        recv_id: "alice".into(),
        group_id: "g_7".into(),
        client_msg_id: "c0ffee00c0ffee00c0ffee00c0ffee00".into(),
        server_msg_id: "deadbeefdeadbeefdeadbeefdeadbeef".into(),
        sender_platform_id: 7,
        sender_nickname: "Bot 🤖".into(),
        sender_face_url: "https://x/b.png?a=1&b=<2>".into(),
        session_type: 1,
        msg_from: 100,
        content_type: 101,
        content: text("hi from rust ü"),
        seq,
        send_time: 1_736_841_600_321,
        create_time: 1_736_841_600_000,
        status: -3,
        is_read: true,
        options: BTreeMap::from([
            ("history".to_string(), false),
            ("unreadCount".to_string(), true),
            ("isNotNotification".to_string(), false),
            ("senderSync".to_string(), false),
        ]),
        offline_push_info: Some(sdkws::OfflinePushInfo {
            title: "t".into(),
            desc: "d".into(),
            ex: "e".into(),
            ios_push_sound: "s".into(),
            ios_badge_count: true,
            signal_info: "si".into(),
        }),
        at_user_id_list: vec!["alice".into(), "AtAllTag".into()],
        attached_info: r#"{"isPrivateChat":true}"#.into(),
        ex: "x".into(),
    }
}

fn pull(msgs: Vec<sdkws::MsgData>, is_end: bool) -> sdkws::PullMsgs {
    sdkws::PullMsgs {
        msgs,
        is_end,
        end_seq: 0,
    }
}

fn conversation_msg() -> jssdk::ConversationMsg {
    jssdk::ConversationMsg {
        conversation: Some(conversation::Conversation {
            owner_user_id: "bot_1".into(),
            conversation_id: "sg_g_7".into(),
            recv_msg_opt: 1,
            conversation_type: 3,
            user_id: "u".into(),
            group_id: "g_7".into(),
            is_pinned: true,
            attached_info: "a".into(),
            is_private_chat: true,
            group_at_type: 2,
            ex: "e".into(),
            burn_duration: 5,
            min_seq: 1,
            max_seq: 1_099_511_627_776,
            msg_destruct_time: 604_800,
            latest_msg_destruct_time: -62_135_596_800_000,
            is_msg_destruct: true,
        }),
        last_msg: Some(full_msg(9)),
        user: Some(sdkws::UserInfo {
            user_id: "u".into(),
            nickname: "n".into(),
            face_url: "f".into(),
            ex: "e".into(),
            create_time: 1,
            app_manger_level: 4,
            global_recv_msg_opt: 2,
        }),
        friend: Some(relation::FriendInfoOnly {
            owner_user_id: "bot_1".into(),
            friend_user_id: "u".into(),
            remark: "r".into(),
            create_time: 2,
            add_source: 1,
            operator_user_id: "o".into(),
            ex: "e".into(),
            is_pinned: true,
        }),
        group: Some(sdkws::GroupInfo {
            group_id: "g_7".into(),
            group_name: "n".into(),
            notification: "no".into(),
            introduction: "i".into(),
            face_url: "f".into(),
            owner_user_id: "o".into(),
            create_time: 3,
            member_count: u32::MAX,
            ex: "e".into(),
            status: 2,
            creator_user_id: "c".into(),
            group_type: 2,
            need_verification: 2,
            look_member_info: 1,
            apply_member_friend: 1,
            notification_update_time: 4,
            notification_user_id: "nu".into(),
        }),
        max_seq: 9,
        read_seq: 8,
    }
}

fn sample<T: Message + serde::Serialize>(id: &str, ty: &str, msg: &T) -> (ManifestEntry, Vec<u8>) {
    (
        ManifestEntry {
            id: id.into(),
            ty: ty.into(),
            file: format!("{id}.bin"),
            expected: serde_json::to_value(msg).unwrap(),
        },
        msg.encode_to_vec(),
    )
}

fn rust_samples() -> Vec<(ManifestEntry, Vec<u8>)> {
    let two_maps = |a: &str, b: &str| {
        (
            BTreeMap::from([
                (a.to_string(), pull(vec![full_msg(1), full_msg(2)], false)),
                ("si_x_y".to_string(), pull(vec![], true)),
                // An all-default value: must still reach the JS decoder as an entry.
                ("si_empty".to_string(), sdkws::PullMsgs::default()),
            ]),
            BTreeMap::from([(b.to_string(), pull(vec![full_msg(3)], true))]),
        )
    };
    let (m1, n1) = two_maps("si_alice_bot_1", "n_alice_bot_1");
    let (m2, n2) = two_maps("sg_g_7", "n_g_7");
    let (m3, n3) = two_maps("sg_g_8", "n_g_8");
    vec![
        sample("msgdata_full", "MsgData", &full_msg(42)),
        sample("msgdata_defaults", "MsgData", &sdkws::MsgData::default()),
        sample(
            "push_messages_both_maps",
            "PushMessages",
            &sdkws::PushMessages {
                msgs: m1,
                notification_msgs: n1,
            },
        ),
        sample("pull_msgs", "PullMsgs", &pull(vec![full_msg(5)], true)),
        sample(
            "pull_message_by_seqs_req",
            "PullMessageBySeqsReq",
            &sdkws::PullMessageBySeqsReq {
                user_id: "bot_1".into(),
                seq_ranges: vec![
                    sdkws::SeqRange {
                        conversation_id: "sg_g_7".into(),
                        begin: 0,
                        end: 1_099_511_627_776,
                        num: 100,
                    },
                    sdkws::SeqRange {
                        conversation_id: "n_g_7".into(),
                        begin: 5,
                        end: 9,
                        num: 1,
                    },
                ],
                order: sdkws::PullOrder::Desc as i32,
            },
        ),
        sample(
            "pull_message_by_seqs_resp",
            "PullMessageBySeqsResp",
            &sdkws::PullMessageBySeqsResp {
                msgs: m2,
                notification_msgs: n2,
            },
        ),
        sample(
            "get_max_seq_resp",
            "GetMaxSeqResp",
            &sdkws::GetMaxSeqResp {
                max_seqs: BTreeMap::from([
                    ("sg_g_7".to_string(), 1_099_511_627_776),
                    ("n_bot_1_bot_1".to_string(), 3),
                ]),
                min_seqs: BTreeMap::from([("sg_g_7".to_string(), 2)]),
            },
        ),
        sample(
            "user_send_msg_resp",
            "UserSendMsgResp",
            &sdkws::UserSendMsgResp {
                server_msg_id: "deadbeef".into(),
                client_msg_id: "c0ffee".into(),
                send_time: 1_736_841_600_321,
            },
        ),
        // What the server sends for 1003 (msg.SendMsgResp without `modify`) read by clients
        // as UserSendMsgResp.
        sample(
            "send_msg_resp",
            "UserSendMsgResp",
            &msg::SendMsgResp {
                server_msg_id: "deadbeef".into(),
                client_msg_id: "c0ffee".into(),
                send_time: 1_736_841_600_321,
                modify: None,
            },
        ),
        sample(
            "get_conversations_has_read_and_max_seq_req",
            "GetConversationsHasReadAndMaxSeqReq",
            &msg::GetConversationsHasReadAndMaxSeqReq {
                user_id: "bot_1".into(),
                conversation_ids: vec!["sg_g_7".into(), "si_alice_bot_1".into()],
                return_pinned: false,
            },
        ),
        sample(
            "get_conversations_has_read_and_max_seq_resp",
            "GetConversationsHasReadAndMaxSeqResp",
            &msg::GetConversationsHasReadAndMaxSeqResp {
                seqs: BTreeMap::from([
                    (
                        "sg_g_7".to_string(),
                        msg::Seqs {
                            max_seq: 57,
                            has_read_seq: 50,
                            max_seq_time: 1_736_841_600_321,
                        },
                    ),
                    ("si_x_y".to_string(), msg::Seqs::default()),
                ]),
                pinned_conversation_ids: vec![],
            },
        ),
        sample(
            "seqs",
            "Seqs",
            &msg::Seqs {
                max_seq: 1,
                has_read_seq: 2,
                max_seq_time: 3,
            },
        ),
        sample(
            "get_seq_message_req",
            "GetSeqMessageReq",
            &msg::GetSeqMessageReq {
                user_id: "bot_1".into(),
                conversations: vec![msg::ConversationSeqs {
                    conversation_id: "sg_g_7".into(),
                    seqs: vec![1, 2, 1_099_511_627_776],
                }],
                order: 0,
            },
        ),
        sample(
            "get_seq_message_resp",
            "GetSeqMessageResp",
            &msg::GetSeqMessageResp {
                msgs: m3,
                notification_msgs: n3,
            },
        ),
        sample(
            "sub_user_online_status",
            "SubUserOnlineStatus",
            &sdkws::SubUserOnlineStatus {
                subscribe_user_id: vec!["a".into(), "b".into()],
                unsubscribe_user_id: vec!["c".into()],
            },
        ),
        sample(
            "sub_user_online_status_tips",
            "SubUserOnlineStatusTips",
            &sdkws::SubUserOnlineStatusTips {
                subscribers: vec![
                    sdkws::SubUserOnlineStatusElem {
                        user_id: "a".into(),
                        online_platform_ids: vec![1, 5, 11],
                    },
                    sdkws::SubUserOnlineStatusElem {
                        user_id: "b".into(),
                        online_platform_ids: vec![],
                    },
                ],
            },
        ),
        sample(
            "set_app_background_status_resp",
            "SetAppBackgroundStatusResp",
            &sdkws::SetAppBackgroundStatusResp {},
        ),
        sample(
            "get_active_conversations_req",
            "GetActiveConversationsReq",
            &jssdk::GetActiveConversationsReq {
                owner_user_id: "bot_1".into(),
                count: 100,
            },
        ),
        sample(
            "get_conversations_req",
            "GetConversationsReq",
            &jssdk::GetConversationsReq {
                owner_user_id: "bot_1".into(),
                conversation_ids: vec!["sg_g_7".into()],
            },
        ),
        sample(
            "get_active_conversations_resp",
            "GetActiveConversationsResp",
            &jssdk::GetActiveConversationsResp {
                unread_count: 3,
                conversations: vec![conversation_msg(), jssdk::ConversationMsg::default()],
            },
        ),
        sample(
            "get_conversations_resp",
            "GetConversationsResp",
            &jssdk::GetConversationsResp {
                unread_count: 1,
                conversations: vec![conversation_msg()],
            },
        ),
        sample(
            "group_member_full_info",
            "GroupMemberFullInfo",
            &sdkws::GroupMemberFullInfo {
                group_id: "g".into(),
                user_id: "u".into(),
                role_level: 100,
                join_time: 1,
                nickname: "n".into(),
                face_url: "f".into(),
                app_manger_level: 3,
                join_source: 1,
                operator_user_id: "o".into(),
                ex: "e".into(),
                mute_end_time: 2,
                inviter_user_id: "i".into(),
            },
        ),
        sample(
            "public_user_info",
            "PublicUserInfo",
            &sdkws::PublicUserInfo {
                user_id: "u".into(),
                nickname: "n".into(),
                face_url: "f".into(),
                ex: "e".into(),
            },
        ),
    ]
}

#[test]
fn rust_encodings_decode_field_for_field_with_the_official_decoder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let samples = rust_samples();
    let mut manifest = Vec::new();
    for (entry, bytes) in samples {
        fs::write(dir.path().join(&entry.file), bytes).unwrap();
        manifest.push(entry);
    }
    fs::write(
        dir.path().join("manifest.json"),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    let out = run_node("check.mjs", dir.path());
    assert!(
        out.status.success(),
        "official decoder disagrees with openim-protocol:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("checked {} samples, 0 failed", manifest.len())),
        "unexpected check.mjs output: {stdout}"
    );
}

#[test]
fn comparison_rules_catch_differences() {
    // The comparator must not be vacuous.
    let mut diffs = Vec::new();
    compare(
        &serde_json::json!({"a": 1, "b": [1, 2], "c": null}),
        &serde_json::json!({"a": 1, "b": [1, 2], "c": []}),
        "x",
        &mut diffs,
    );
    assert!(diffs.is_empty(), "{diffs:?}");
    for (actual, expected) in [
        (serde_json::json!({"a": 1}), serde_json::json!({"a": 2})),
        (
            serde_json::json!({"a": [1]}),
            serde_json::json!({"a": [1, 2]}),
        ),
        (serde_json::json!({}), serde_json::json!({"a": "x"})),
        (
            serde_json::json!({"m": {"k": 1}}),
            serde_json::json!({"m": {"j": 1}}),
        ),
    ] {
        let mut diffs = Vec::new();
        compare(&actual, &expected, "x", &mut diffs);
        assert!(!diffs.is_empty(), "{actual} vs {expected}");
    }
}
