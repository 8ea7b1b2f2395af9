//! The JSON types agree with the protobuf messages: same data after conversion, and the same JSON
//! when both are serialised (a cross-check of field names against `crate::pb`).

use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

use crate::api::common::*;
use crate::api::msg::{GetConversationsHasReadAndMaxSeqResp, NewestSeqResp, PullMsgBySeqResp};
use crate::pb;

#[track_caller]
fn agrees<A, P>(json: &str)
where
    A: Serialize + DeserializeOwned + Clone + PartialEq + std::fmt::Debug + From<P>,
    P: Serialize + DeserializeOwned + From<A>,
{
    let expected: Value = serde_json::from_str(json).unwrap();
    let api: A = serde_json::from_str(json).unwrap();
    let proto: P = api.clone().into();
    assert_eq!(
        serde_json::to_value(&proto).unwrap(),
        expected,
        "pb JSON differs"
    );
    assert_eq!(
        serde_json::to_value(&api).unwrap(),
        expected,
        "api JSON differs"
    );
    let back: A = proto.into();
    assert_eq!(back, api);
    // and the pb type reads the same JSON into the same data
    let from_pb_json: P = serde_json::from_str(json).unwrap();
    assert_eq!(A::from(from_pb_json), api);
}

const USER: &str = r#"{"userID":"alice","nickname":"Alice","faceURL":"f","ex":"e",
    "createTime":1700000000000,"appMangerLevel":1,"globalRecvMsgOpt":2}"#;
const GROUP: &str = r#"{"groupID":"g1","groupName":"G","notification":"n","introduction":"i",
    "faceURL":"f","ownerUserID":"o","createTime":1,"memberCount":3,"ex":"e","status":3,
    "creatorUserID":"c","groupType":2,"needVerification":1,"lookMemberInfo":1,
    "applyMemberFriend":1,"notificationUpdateTime":2,"notificationUserID":"o"}"#;

#[test]
fn users_and_friends() {
    agrees::<UserInfo, pb::sdkws::UserInfo>(USER);
    agrees::<PublicUserInfo, pb::sdkws::PublicUserInfo>(
        r#"{"userID":"a","nickname":"A","faceURL":"","ex":""}"#,
    );
    agrees::<FriendInfo, pb::sdkws::FriendInfo>(&format!(
        r#"{{"ownerUserID":"o","remark":"r","createTime":1700000000,"friendUser":{USER},
            "addSource":2,"operatorUserID":"o","ex":"","isPinned":true}}"#
    ));
    agrees::<FriendInfo, pb::sdkws::FriendInfo>(
        r#"{"ownerUserID":"o","remark":"","createTime":1,"friendUser":null,"addSource":1,
            "operatorUserID":"","ex":"","isPinned":false}"#,
    );
    agrees::<FriendInfoOnly, pb::relation::FriendInfoOnly>(
        r#"{"ownerUserID":"o","friendUserID":"f","remark":"r","createTime":1,"addSource":2,
            "operatorUserID":"o","ex":"","isPinned":false}"#,
    );
    agrees::<BlackInfo, pb::sdkws::BlackInfo>(
        r#"{"ownerUserID":"o","createTime":1,"blackUserInfo":{"userID":"b","nickname":"B",
            "faceURL":"","ex":""},"addSource":0,"operatorUserID":"o","ex":""}"#,
    );
    agrees::<FriendRequest, pb::sdkws::FriendRequest>(
        r#"{"fromUserID":"a","fromNickname":"A","fromFaceURL":"","toUserID":"b","toNickname":"B",
            "toFaceURL":"","handleResult":-1,"reqMsg":"hi","createTime":1,"handlerUserID":"b",
            "handleMsg":"no","handleTime":2,"ex":""}"#,
    );
}

#[test]
fn groups_and_conversations() {
    agrees::<GroupInfo, pb::sdkws::GroupInfo>(GROUP);
    agrees::<GroupMemberFullInfo, pb::sdkws::GroupMemberFullInfo>(
        r#"{"groupID":"g1","userID":"a","roleLevel":100,"joinTime":1,"nickname":"A","faceURL":"",
            "appMangerLevel":0,"joinSource":2,"operatorUserID":"o","ex":"","muteEndTime":5,
            "inviterUserID":"o"}"#,
    );
    agrees::<GroupRequest, pb::sdkws::GroupRequest>(&format!(
        r#"{{"userInfo":{{"userID":"a","nickname":"A","faceURL":"","ex":""}},"groupInfo":{GROUP},
            "handleResult":1,"reqMsg":"r","handleMsg":"h","reqTime":1,"handleUserID":"",
            "handleTime":0,"ex":"","joinSource":3,"inviterUserID":"a"}}"#
    ));
    agrees::<Conversation, pb::conversation::Conversation>(
        r#"{"ownerUserID":"a","conversationID":"sg_g1","recvMsgOpt":2,"conversationType":3,
            "userID":"","groupID":"g1","isPinned":true,"attachedInfo":"x","isPrivateChat":false,
            "groupAtType":1,"ex":"","burnDuration":30,"minSeq":1,"maxSeq":0,"msgDestructTime":1,
            "latestMsgDestructTime":-62135596800000,"isMsgDestruct":false}"#,
    );
    agrees::<Pagination, pb::sdkws::RequestPagination>(r#"{"pageNumber":1,"showNumber":100}"#);
}

#[test]
fn messages_and_seqs() {
    let msg = r#"{"sendID":"a","recvID":"b","groupID":"","clientMsgID":"c","serverMsgID":"s",
        "senderPlatformID":5,"senderNickname":"A","senderFaceURL":"","sessionType":1,"msgFrom":100,
        "contentType":101,"content":"eyJjb250ZW50IjoiaGkifQ==","seq":3,"sendTime":1,
        "createTime":1,"status":2,"isRead":false,"options":{"history":false},
        "offlinePushInfo":{"title":"t","desc":"d","ex":"","iOSPushSound":"s",
        "iOSBadgeCount":true,"signalInfo":""},"atUserIDList":["b"],"attachedInfo":"","ex":""}"#;
    agrees::<MsgData, pb::sdkws::MsgData>(msg);
    agrees::<PullMsgBySeqResp, pb::sdkws::PullMessageBySeqsResp>(&format!(
        r#"{{"msgs":{{"si_a_b":{{"Msgs":[{msg}],"isEnd":true,"endSeq":0}}}},"notificationMsgs":null}}"#
    ));
    agrees::<NewestSeqResp, pb::sdkws::GetMaxSeqResp>(r#"{"maxSeqs":{"si_a_b":3},"minSeqs":null}"#);
    agrees::<GetConversationsHasReadAndMaxSeqResp, pb::msg::GetConversationsHasReadAndMaxSeqResp>(
        r#"{"seqs":{"si_a_b":{"maxSeq":3,"hasReadSeq":1,"maxSeqTime":5}},"pinnedConversationIDs":null}"#,
    );
}
