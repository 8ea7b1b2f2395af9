use std::collections::HashSet;

use serde_json::json;

use super::{rejects, round_trip};
use crate::api::webhook::*;

#[test]
fn before_send_single_msg_example_from_the_spec() {
    // http-api.md §8.4 example body.
    let body = r#"{"sendID":"alice","callbackCommand":"callbackBeforeSendSingleMsgCommand",
        "serverMsgID":"4be","clientMsgID":"7c1","operationID":"1700000000000","senderPlatformID":5,
        "senderNickname":"Alice","sessionType":1,"msgFrom":100,"contentType":101,"status":0,
        "sendTime":1700000000123,"createTime":1700000000100,"content":"{\"content\":\"hello bot\"}",
        "seq":0,"atUserList":null,"faceURL":"","ex":"","recvID":"bot_1"}"#;
    let req: MsgCallbackReq = round_trip(body);
    assert_eq!(req.callback_command, commands::BEFORE_SEND_SINGLE_MSG);
    assert_eq!(req.recv_id.as_deref(), Some("bot_1"));
    assert_eq!(req.group_id, None);
    assert_eq!(req.content, r#"{"content":"hello bot"}"#);
    // the group variant carries groupID and no recvID
    let group = MsgCallbackReq {
        group_id: Some("g1".into()),
        ..MsgCallbackReq::default()
    };
    let value = serde_json::to_value(&group).unwrap();
    assert_eq!(value["groupID"], "g1");
    assert!(value.get("recvID").is_none());
    assert_eq!(value["atUserList"], json!(null));
}

#[test]
fn replies_allow_and_reject() {
    let allow: CallbackResp = serde_json::from_str(r#"{"actionCode":0,"nextCode":0}"#).unwrap();
    assert!(!allow.is_reject());
    assert_eq!(allow, CallbackResp::allow());
    let reject: CallbackResp =
        serde_json::from_str(r#"{"actionCode":0,"nextCode":1,"errCode":5001,"errMsg":"blocked"}"#)
            .unwrap();
    assert!(reject.is_reject());
    assert_eq!(reject.reject_code(), 5001);
    assert_eq!(reject, CallbackResp::reject(5001, "blocked"));
    let weird: CallbackResp = serde_json::from_str(r#"{"actionCode":1,"nextCode":1}"#).unwrap();
    assert!(!weird.is_reject());
    let zero = CallbackResp::reject(0, "x");
    assert_eq!(zero.reject_code(), 500);
    // an empty object is a valid "allow"; wrong types make the body unparsable (server: 90007)
    assert!(
        !serde_json::from_str::<CallbackResp>("{}")
            .unwrap()
            .is_reject()
    );
    rejects::<CallbackResp>(r#"{"nextCode":"0"}"#);
    rejects::<CallbackResp>("");
    rejects::<CallbackResp>("<html>");
}

#[test]
fn msg_modify_reply() {
    let resp: MsgModifyResp = serde_json::from_str(
        r#"{"actionCode":0,"nextCode":0,"content":"{\"content\":\"***\"}","ex":null}"#,
    )
    .unwrap();
    assert_eq!(resp.content.as_deref(), Some(r#"{"content":"***"}"#));
    assert_eq!(resp.ex, None);
    assert!(!resp.common().is_reject());
}

#[test]
fn friend_callbacks_keep_upstream_quirks() {
    let agree: AddFriendAgreeCallbackReq = round_trip(
        r#"{"callbackCommand":"callbackBeforeAddFriendAgreeCommand","fromUserID":"alice",
            "blackUserID":"bot_1","HandleResult":1,"HandleMsg":"welcome"}"#,
    );
    assert_eq!(agree.to_user_id, "bot_1");
    let add: AddFriendCallbackReq = round_trip(
        r#"{"callbackCommand":"callbackBeforeAddFriendCommand","fromUserID":"a","toUserID":"b",
            "reqMsg":"hi","ex":""}"#,
    );
    assert_eq!(add.ex.as_deref(), Some(""));
    round_trip::<AddFriendCallbackReq>(
        r#"{"callbackCommand":"callbackAfterAddFriendCommand","fromUserID":"a","toUserID":"b","reqMsg":"hi"}"#,
    );
    round_trip::<ImportFriendsCallbackReq>(
        r#"{"callbackCommand":"callbackBeforeImportFriendsCommand","ownerUserID":"a","friendUserIDs":["b"]}"#,
    );
    round_trip::<SingleMsgReadCallbackReq>(
        r#"{"callbackCommand":"callbackAfterSingleMsgReadCommand","conversationID":"si_a_b",
            "userID":"a","Seqs":[1,2],"contentType":1}"#,
    );
}

#[test]
fn group_callbacks() {
    let create: CreateGroupCallbackReq = round_trip(
        r#"{"operationID":"op","callbackCommand":"callbackBeforeCreateGroupCommand","groupID":"",
            "groupName":"g","notification":"","introduction":"","faceURL":"","ownerUserID":"a",
            "createTime":0,"memberCount":0,"ex":"","status":0,"creatorUserID":"a","groupType":2,
            "needVerification":0,"lookMemberInfo":0,"applyMemberFriend":0,
            "notificationUpdateTime":0,"notificationUserID":"",
            "initMemberList":[{"userID":"a","roleLevel":100},{"userID":"b","roleLevel":20}]}"#,
    );
    assert_eq!(create.init_member_list[0].role_level, 100);
    let dismiss: DismissGroupCallbackReq = round_trip(
        r#"{"callbackCommand":"callbackAfterDisMissGroupCommand","groupID":"g1","ownerID":"a",
            "groupType":"\u0002","membersID":null}"#,
    );
    assert_eq!(dismiss.group_type, group_type_string(2));
    assert_eq!(group_type_string(2), "\u{2}");
    assert_eq!(group_type_string(-1), "\u{fffd}");
    round_trip::<JoinGroupCallbackReq>(
        r#"{"callbackCommand":"callbackBeforeJoinGroupCommand","groupID":"g1","groupType":"\u0002",
            "applyID":"b","reqMessage":"hi","ex":""}"#,
    );
    let join_resp: MembersJoinGroupCallbackResp = serde_json::from_str(
        r#"{"actionCode":0,"nextCode":0,"memberCallbackList":[{"userID":"b","roleLevel":60}]}"#,
    )
    .unwrap();
    assert_eq!(join_resp.member_callback_list[0].role_level, Some(60));
    let set: SetGroupInfoCallbackReq = round_trip(
        r#"{"callbackCommand":"callbackBeforeSetGroupInfoExCommand","operationID":"","groupID":"g1",
            "groupName":"new","notification":null,"introduction":null,"faceURL":null,"ex":null,
            "needVerification":null,"lookMemberInfo":null,"applyMemberFriend":null}"#,
    );
    assert_eq!(set.group_name.as_deref(), Some("new"));
    round_trip::<SetGroupMemberInfoCallbackReq>(
        r#"{"callbackCommand":"callbackBeforeSetGroupMemberInfoCommand","groupID":"g1",
            "userID":"b","nickName":null,"faceURL":null,"roleLevel":60,"ex":null}"#,
    );
}

#[test]
fn push_and_status_callbacks() {
    // no offlinePushInfo: its flattened keys are absent
    let push: PushCallbackReq = round_trip(
        r#"{"callbackCommand":"callbackBeforeOnlinePushCommand","operationID":"op","platformID":5,
            "platform":"Web","userIDList":["b"],"clientMsgID":"c","sendID":"a","groupID":"",
            "contentType":101,"sessionType":1,"atUserIDList":null,"content":"{\"content\":\"hi\"}"}"#,
    );
    assert_eq!(push.title, None);
    let with_info: PushCallbackReq = round_trip(
        r#"{"callbackCommand":"callbackBeforeOfflinePushCommand","operationID":"op","platformID":5,
            "platform":"Web","userIDList":["b"],"title":"t","desc":"d","ex":"","iOSPushSound":"",
            "iOSBadgeCount":true,"signalInfo":"","clientMsgID":"c","sendID":"a","groupID":"",
            "contentType":101,"sessionType":1,"atUserIDList":null,"content":""}"#,
    );
    assert_eq!(with_info.ios_badge_count, Some(true));
    let online: UserStatusCallbackReq = round_trip(
        r#"{"callbackCommand":"callbackAfterUserOnlineCommand","operationID":"op","platformID":5,
            "platform":"Web","userID":"a","seq":1700000000000,"isAppBackground":false,"connID":"c1"}"#,
    );
    assert_eq!(online.conn_id.as_deref(), Some("c1"));
}

#[test]
fn callback_table_is_complete_and_unique() {
    // 47 baseline commands (afterGroupMsgRevoke has none) + afterMsgSaveDB ([main]).
    assert_eq!(CALLBACKS.len(), 48);
    let keys: HashSet<_> = CALLBACKS.iter().map(|c| c.config_key).collect();
    let commands: HashSet<_> = CALLBACKS.iter().map(|c| c.command).collect();
    assert_eq!(keys.len(), CALLBACKS.len());
    assert_eq!(commands.len(), CALLBACKS.len());
    for spec in CALLBACKS {
        let expected = if spec.config_key.starts_with("before") {
            CallbackKind::Before
        } else {
            CallbackKind::After
        };
        assert_eq!(spec.kind, expected, "{}", spec.config_key);
        assert!(spec.command.starts_with("callback") && spec.command.ends_with("Command"));
    }
    assert_eq!(
        find_callback("afterRevokeMsg").unwrap().command,
        "callbackBeforeAfterMsgCommand"
    );
    assert_eq!(
        find_callback("callbackBeforeInviteJoinGroupCommand")
            .unwrap()
            .config_key,
        "beforeInviteUserToGroup"
    );
    assert_eq!(find_callback("nope"), None);
}
