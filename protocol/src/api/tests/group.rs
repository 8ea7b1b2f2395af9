use serde_json::json;

use super::{keys, rejects, round_trip};
use crate::api::group::*;

const GROUP_INFO: &str = r#"{"groupID":"3149382671","groupName":"bots","notification":"",
    "introduction":"","faceURL":"","ownerUserID":"bot_1","createTime":1700000000000,
    "memberCount":3,"ex":"","status":0,"creatorUserID":"bot_1","groupType":2,
    "needVerification":0,"lookMemberInfo":0,"applyMemberFriend":0,"notificationUpdateTime":0,
    "notificationUserID":""}"#;

const MEMBER: &str = r#"{"groupID":"3149382671","userID":"alice","roleLevel":20,
    "joinTime":1700000000000,"nickname":"Alice","faceURL":"","appMangerLevel":0,"joinSource":2,
    "operatorUserID":"bot_1","ex":"","muteEndTime":0,"inviterUserID":"bot_1"}"#;

#[test]
fn create_group_request_and_reply() {
    let req = CreateGroupReq {
        member_user_ids: vec!["alice".into()],
        group_info: Some(GroupInfo {
            group_name: "bots".into(),
            group_type: 2,
            ..GroupInfo::default()
        }),
        owner_user_id: "bot_1".into(),
        ..CreateGroupReq::default()
    };
    let value = serde_json::to_value(&req).unwrap();
    assert_eq!(
        keys(&value),
        [
            "adminUserIDs",
            "groupInfo",
            "memberUserIDs",
            "ownerUserID",
            "sendMessage"
        ]
    );
    assert_eq!(value["adminUserIDs"], json!([]));
    assert_eq!(value["sendMessage"], json!(null));
    assert_eq!(value["groupInfo"]["groupType"], json!(2));
    assert_eq!(keys(&value["groupInfo"]).len(), 17);

    let resp: CreateGroupResp = round_trip(&format!(r#"{{"groupInfo":{GROUP_INFO}}}"#));
    let info = resp.group_info.unwrap();
    assert_eq!(info.member_count, 3);
    assert_eq!(info.group_id, "3149382671");
}

#[test]
fn join_and_application_requests_use_upstream_names() {
    let join: JoinGroupReq = round_trip(
        r#"{"groupID":"g1","reqMessage":"let me in","joinSource":3,"inviterUserID":"alice","ex":""}"#,
    );
    assert_eq!(join.req_message, "let me in");
    let answer: GroupApplicationResponseReq =
        round_trip(r#"{"groupID":"g1","fromUserID":"alice","handledMsg":"ok","handleResult":1}"#);
    assert_eq!(answer.handled_msg, "ok");
    let list: GroupApplicationListResp = round_trip(&format!(
        r#"{{"total":1,"groupRequests":[{{"userInfo":{{"userID":"alice","nickname":"A",
            "faceURL":"","ex":""}},"groupInfo":{GROUP_INFO},"handleResult":0,"reqMsg":"hi",
            "handleMsg":"","reqTime":1700000000000,"handleUserID":"","handleTime":0,"ex":"",
            "joinSource":3,"inviterUserID":"alice"}}]}}"#
    ));
    assert_eq!(list.group_requests[0].join_source, 3);
    round_trip::<GetGroupUsersReqApplicationListResp>(
        r#"{"total":1,"groupRequests":[{"userInfo":null,"groupInfo":null,"handleResult":0,
            "reqMsg":"","handleMsg":"","reqTime":0,"handleUserID":"","handleTime":0,"ex":"",
            "joinSource":0,"inviterUserID":""}]}"#,
    );
    round_trip::<GetRecvGroupApplicationListReq>(
        r#"{"pagination":{"pageNumber":1,"showNumber":20},"fromUserID":"bot_1","groupIDs":[],
            "handleResults":[]}"#,
    );
}

#[test]
fn set_group_info_variants() {
    let ex: SetGroupInfoExReq = round_trip(
        r#"{"groupID":"g1","groupName":"new","notification":null,"introduction":"","faceURL":null,
            "ex":null,"needVerification":2,"lookMemberInfo":null,"applyMemberFriend":null}"#,
    );
    assert_eq!(ex.group_name.as_deref(), Some("new"));
    assert_eq!(ex.introduction.as_deref(), Some(""));
    assert_eq!(ex.notification, None);
    assert_eq!(ex.need_verification, Some(2));
    let set: SetGroupInfoReq = round_trip(
        r#"{"groupInfoForSet":{"groupID":"g1","groupName":"","notification":"hello all",
            "introduction":"","faceURL":"","ex":null,"needVerification":null,
            "lookMemberInfo":null,"applyMemberFriend":1}}"#,
    );
    assert_eq!(set.group_info_for_set.unwrap().apply_member_friend, Some(1));
}

#[test]
fn member_routes() {
    let list: GetGroupMemberListResp =
        round_trip(&format!(r#"{{"total":1,"members":[{MEMBER}]}}"#));
    assert_eq!(list.members[0].role_level, 20);
    round_trip::<GetGroupMembersInfoResp>(r#"{"members":null}"#);
    round_trip::<GetGroupMemberListReq>(
        r#"{"pagination":{"pageNumber":1,"showNumber":100},"groupID":"g1","filter":0,"keyword":""}"#,
    );
    let set: SetGroupMemberInfoReq = round_trip(
        r#"{"members":[{"groupID":"g1","userID":"alice","nickname":null,"faceURL":null,
            "roleLevel":60,"ex":null}]}"#,
    );
    assert_eq!(set.members[0].role_level, Some(60));
    round_trip::<KickGroupReq>(
        r#"{"groupID":"g1","kickedUserIDs":["alice"],"reason":"spam","sendMessage":false}"#,
    );
    round_trip::<InviteUserToGroupReq>(
        r#"{"groupID":"g1","reason":"","invitedUserIDs":["bob"],"sendMessage":null}"#,
    );
    round_trip::<MuteGroupMemberReq>(r#"{"groupID":"g1","userID":"alice","mutedSeconds":600}"#);
    round_trip::<GroupMemberReq>(r#"{"groupID":"g1","userID":"alice"}"#);
    round_trip::<GroupIdReq>(r#"{"groupID":"g1"}"#);
    round_trip::<TransferGroupReq>(
        r#"{"groupID":"g1","oldOwnerUserID":"bot_1","newOwnerUserID":"alice"}"#,
    );
    round_trip::<DismissGroupReq>(r#"{"groupID":"g1","deleteMember":false,"sendMessage":null}"#);
    round_trip::<QuitGroupReq>(r#"{"groupID":"g1","userID":"alice"}"#);
    round_trip::<GetGroupMemberUserIdResp>(r#"{"userIDs":["bot_1","alice"]}"#);
}

#[test]
fn group_lists() {
    round_trip::<GetJoinedGroupListResp>(&format!(r#"{{"total":1,"groups":[{GROUP_INFO}]}}"#));
    round_trip::<GetGroupsInfoResp>(r#"{"groupInfos":null}"#);
    round_trip::<GetGroupsResp>(&format!(
        r#"{{"total":1,"groups":[{{"groupInfo":{GROUP_INFO},"groupOwnerUserName":"Bot",
            "groupOwnerUserID":"bot_1"}}]}}"#
    ));
    round_trip::<GetGroupAbstractInfoResp>(
        r#"{"groupAbstractInfos":[{"groupID":"g1","groupMemberNumber":3,
            "groupMemberListHash":18446744073709551615}]}"#,
    );
}

#[test]
fn incremental_member_batch_is_a_map() {
    let req: BatchIncrementalGroupMembersReq =
        round_trip(r#"{"userID":"bot_1","reqList":[{"groupID":"g1","versionID":"","version":0}]}"#);
    assert_eq!(req.req_list[0].group_id, "g1");
    let resp: BatchIncrementalGroupMembersResp = round_trip(&format!(
        r#"{{"respList":{{"g1":{{"version":2,"versionID":"6561f0a2b3c4d5e6f7a8b9c0","full":false,
            "delete":null,"insert":[{MEMBER}],"update":null,"group":{GROUP_INFO},
            "sortVersion":0}}}}}}"#
    ));
    let g1 = &resp.resp_list["g1"];
    assert_eq!(g1.insert[0].user_id, "alice");
    assert!(g1.group.is_some());
    // empty map: null in the baseline, omitted on [main]; both read as empty
    let empty: BatchIncrementalGroupMembersResp = round_trip(r#"{"respList":null}"#);
    assert!(empty.resp_list.is_empty());
    let omitted: BatchIncrementalGroupMembersResp = serde_json::from_str("{}").unwrap();
    assert_eq!(omitted, empty);
    round_trip::<GetIncrementalJoinGroupsResp>(&format!(
        r#"{{"version":5,"versionID":"v","full":false,"delete":["g2"],"insert":[{GROUP_INFO}],
            "update":null,"sortVersion":0}}"#
    ));
    round_trip::<GetFullGroupMemberUserIdsResp>(
        r#"{"version":1,"versionID":"v","equal":true,"userIDs":null}"#,
    );
    round_trip::<GetFullJoinGroupIdsResp>(
        r#"{"version":1,"versionID":"v","equal":false,"groupIDs":["g1"]}"#,
    );
    round_trip::<FullGroupMemberIdsReq>(r#"{"idHash":0,"groupID":"g1"}"#);
}

#[test]
fn wrong_types_are_errors() {
    rejects::<GroupInfo>(r#"{"memberCount":-1}"#);
    rejects::<GroupInfo>(r#"{"groupType":"2"}"#);
    rejects::<MuteGroupMemberReq>(r#"{"mutedSeconds":-5}"#);
    rejects::<BatchIncrementalGroupMembersResp>(r#"{"respList":[]}"#);
    rejects::<BatchIncrementalGroupMembersResp>(r#"{"respList":{"g1":5}}"#);
    rejects::<CreateGroupReq>(r#"{"sendMessage":"true"}"#);
    rejects::<SetGroupInfoExReq>(r#"{"groupName":{"value":"x"}}"#);
}
