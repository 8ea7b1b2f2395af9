use serde_json::json;

use super::{keys, rejects, round_trip};
use crate::api::common::Base64Bytes;
use crate::api::msg::*;

#[test]
fn send_msg_example_from_the_spec() {
    // http-api.md §5.4 example request.
    let req: SendMsgReq = serde_json::from_str(
        r#"{"sendID":"bot_1","recvID":"alice","senderNickname":"Bot","senderPlatformID":5,
            "content":{"content":"hi"},"contentType":101,"sessionType":1,"isOnlineOnly":false,
            "notOfflinePush":false}"#,
    )
    .unwrap();
    assert_eq!(req.content, json!({"content": "hi"}));
    assert_eq!(req.session_type, 1);
    let built = SendMsgReq {
        sender_nickname: "Bot".into(),
        sender_platform_id: 5,
        ..SendMsgReq::single("bot_1", "alice", 101, json!({"content": "hi"}))
    };
    assert_eq!(built, req);
    let value = serde_json::to_value(&built).unwrap();
    assert_eq!(value["recvID"], "alice");
    assert_eq!(value["groupID"], "");
    assert_eq!(value["offlinePushInfo"], json!(null));
    assert_eq!(keys(&value).len(), 14);

    let group = SendMsgReq::group("bot_1", "g1", 101, json!({"content": "yo"}));
    assert_eq!(group.session_type, 3);
    assert_eq!(group.group_id, "g1");

    // the reply, baseline shape
    let resp: SendMsgResp = round_trip(
        r#"{"serverMsgID":"9f86d081884c7d659a2feaa0c55ad015","clientMsgID":"c3fcd3d76192e4007dfb496cca67e13b",
            "sendTime":1700000000123,"modify":null}"#,
    );
    assert_eq!(resp.send_time, 1_700_000_000_123);
    assert_eq!(resp.modify, None);
    // [main]: modify omitted or a map
    let main: SendMsgResp = serde_json::from_str(
        r#"{"serverMsgID":"a","clientMsgID":"b","sendTime":1,"modify":{"content":"{\"content\":\"x\"}"}}"#,
    )
    .unwrap();
    assert!(main.modify.is_some());
}

#[test]
fn batch_send() {
    let req: BatchSendMsgReq = serde_json::from_str(
        r#"{"sendID":"bot_1","content":{"content":"hi"},"contentType":101,"sessionType":1,
            "isSendAll":false,"recvIDs":["a","b"]}"#,
    )
    .unwrap();
    assert_eq!(req.recv_ids, ["a", "b"]);
    assert_eq!(
        serde_json::to_value(&req).unwrap()["recvIDs"],
        json!(["a", "b"])
    );
    let resp: BatchSendMsgResp = round_trip(
        r#"{"results":[{"serverMsgID":"s","clientMsgID":"c","sendTime":1,"recvID":"a"}],
            "failedUserIDs":null}"#,
    );
    assert_eq!(resp.results[0].recv_id, "a");
}

#[test]
fn business_notification_omits_main_only_fields() {
    let req = SendBusinessNotificationReq {
        key: "k".into(),
        data: "d".into(),
        send_user_id: "bot_1".into(),
        recv_user_id: "alice".into(),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&req).unwrap(),
        json!({"key":"k","data":"d","sendUserID":"bot_1","recvUserID":"alice"})
    );
}

#[test]
fn read_and_revoke_requests() {
    round_trip::<RevokeMsgReq>(r#"{"conversationID":"si_alice_bot_1","seq":7,"userID":"bot_1"}"#);
    round_trip::<MarkMsgsAsReadReq>(r#"{"conversationID":"si_a_b","seqs":[1,2],"userID":"a"}"#);
    // the JS client's mark_conversation_as_read body
    round_trip::<MarkConversationAsReadReq>(
        r#"{"conversationID":"si_a_b","userID":"a","hasReadSeq":9,"seqs":[8,9]}"#,
    );
    round_trip::<SetConversationHasReadSeqReq>(
        r#"{"conversationID":"sg_g1","userID":"a","hasReadSeq":3,"noNotification":false}"#,
    );
}

#[test]
fn seqs_and_pull() {
    let resp: GetConversationsHasReadAndMaxSeqResp = round_trip(
        r#"{"seqs":{"si_a_b":{"maxSeq":10,"hasReadSeq":8,"maxSeqTime":1700000000000}},
            "pinnedConversationIDs":null}"#,
    );
    assert_eq!(resp.seqs["si_a_b"].has_read_seq, 8);
    round_trip::<GetConversationsHasReadAndMaxSeqResp>(
        r#"{"seqs":null,"pinnedConversationIDs":null}"#,
    );
    round_trip::<GetConversationsHasReadAndMaxSeqReq>(
        r#"{"userID":"a","conversationIDs":[],"returnPinned":false}"#,
    );
    let newest: NewestSeqResp = round_trip(r#"{"maxSeqs":{"si_a_b":10,"n_a_a":2},"minSeqs":null}"#);
    assert_eq!(newest.max_seqs["n_a_a"], 2);

    let pull_req: PullMsgBySeqReq = round_trip(
        r#"{"userID":"a","seqRanges":[{"conversationID":"si_a_b","begin":1,"end":10,"num":10}],"order":0}"#,
    );
    assert_eq!(pull_req.seq_ranges[0].end, 10);
    let pull: PullMsgBySeqResp = round_trip(
        r#"{"msgs":{"si_a_b":{"Msgs":[{"sendID":"b","recvID":"a","groupID":"","clientMsgID":"c1",
            "serverMsgID":"s1","senderPlatformID":5,"senderNickname":"B","senderFaceURL":"",
            "sessionType":1,"msgFrom":100,"contentType":101,"content":"eyJjb250ZW50IjoiaGkifQ==",
            "seq":1,"sendTime":1700000000000,"createTime":1700000000000,"status":2,"isRead":false,
            "options":{"history":true},"offlinePushInfo":null,"atUserIDList":null,
            "attachedInfo":"","ex":""}],"isEnd":true,"endSeq":0}},"notificationMsgs":null}"#,
    );
    let msg = &pull.msgs["si_a_b"].msgs[0];
    assert_eq!(msg.content, Base64Bytes(br#"{"content":"hi"}"#.to_vec()));
    assert!(msg.options["history"]);
    assert!(pull.notification_msgs.is_empty());
}

#[test]
fn delete_and_clear_use_capitalised_sync_opt() {
    let req: ClearConversationMsgReq = round_trip(
        r#"{"conversationIDs":["si_a_b"],"userID":"a","deleteSyncOpt":{"IsSyncSelf":true,"IsSyncOther":false}}"#,
    );
    assert!(req.delete_sync_opt.unwrap().is_sync_self);
    // the JS client sends no deleteSyncOpt
    let js: DeleteMsgsReq =
        serde_json::from_str(r#"{"conversationID":"si_a_b","seqs":[3],"userID":"a"}"#).unwrap();
    assert_eq!(js.delete_sync_opt, None);
    round_trip::<UserClearAllMsgReq>(r#"{"userID":"a","deleteSyncOpt":null}"#);
    round_trip::<DeleteMsgPhysicalBySeqReq>(r#"{"conversationID":"si_a_b","seqs":[1]}"#);
    round_trip::<DeleteMsgPhysicalReq>(r#"{"conversationIDs":["si_a_b"],"timestamp":1}"#);
}

#[test]
fn search_and_time() {
    round_trip::<SearchMsgResp>(
        r#"{"chatLogs":[{"chatLog":{"serverMsgID":"s","clientMsgID":"c","sendID":"a","recvID":"g1",
            "groupID":"g1","recvNickname":"","senderPlatformID":5,"senderNickname":"A",
            "senderFaceURL":"","groupName":"G","sessionType":3,"msgFrom":100,"contentType":101,
            "content":"{\"content\":\"hi\"}","status":2,"sendTime":1,"createTime":1,"ex":"",
            "groupFaceURL":"","groupMemberCount":3,"seq":4,"groupOwner":"a","groupType":2},
            "isRevoked":false}],"chatLogsNum":1}"#,
    );
    let time: GetServerTimeResp = round_trip(r#"{"serverTime":1700000000000}"#);
    assert_eq!(time.server_time, 1_700_000_000_000);
    round_trip::<CheckMsgIsSendSuccessResp>(r#"{"status":2}"#);
}

#[test]
fn wrong_types_are_errors() {
    rejects::<SendMsgReq>(r#"{"contentType":"101"}"#);
    rejects::<SendMsgReq>(r#"{"isOnlineOnly":"false"}"#);
    rejects::<PullMsgBySeqResp>(r#"{"msgs":{"si":{"Msgs":[{"content":"not base64!"}]}}}"#);
    rejects::<PullMsgBySeqResp>(r#"{"msgs":{"si":{"Msgs":[{"content":5}]}}}"#);
    rejects::<PullMsgBySeqResp>(r#"{"msgs":{"si":{"Msgs":[{"options":{"history":1}}]}}}"#);
    rejects::<NewestSeqResp>(r#"{"maxSeqs":{"a":"1"}}"#);
    rejects::<MarkMsgsAsReadReq>(r#"{"seqs":[1.5]}"#);
    rejects::<ClearConversationMsgReq>(r#"{"deleteSyncOpt":{"IsSyncSelf":"yes"}}"#);
}

#[test]
fn simple_msg_key_round_trips_and_rejects_garbage() {
    let key = SimpleMsgKey {
        send_id: "alice".into(),
        recv_id: "bot_1".into(),
        group_id: String::new(),
    };
    let encoded = key.encode();
    assert_eq!(SimpleMsgKey::decode(&encoded).unwrap(), key);
    // what the server builds: base64 of {"sendID","recvID","groupID"}
    use base64::Engine as _;
    let server = base64::engine::general_purpose::STANDARD
        .encode(br#"{"sendID":"alice","recvID":"bot_1","groupID":""}"#);
    assert_eq!(SimpleMsgKey::decode(&server).unwrap(), key);
    assert!(matches!(
        SimpleMsgKey::decode("%%%"),
        Err(crate::ProtocolError::Base64 { .. })
    ));
    let not_json = base64::engine::general_purpose::STANDARD.encode(b"[1]");
    assert!(matches!(
        SimpleMsgKey::decode(&not_json),
        Err(crate::ProtocolError::Json { .. })
    ));
}
