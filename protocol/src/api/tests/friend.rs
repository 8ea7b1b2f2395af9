use serde_json::json;

use super::{keys, rejects, round_trip};
use crate::api::friend::*;

const FRIEND_REQUEST: &str = r#"{"fromUserID":"alice","fromNickname":"Alice","fromFaceURL":"",
    "toUserID":"bot_1","toNickname":"Bot","toFaceURL":"","handleResult":0,"reqMsg":"hi",
    "createTime":1700000000000,"handlerUserID":"","handleMsg":"","handleTime":0,"ex":""}"#;

#[test]
fn add_friend_and_response_requests() {
    let req = AddFriendReq {
        from_user_id: "bot_1".into(),
        to_user_id: "alice".into(),
        req_msg: "hello".into(),
        ex: String::new(),
    };
    assert_eq!(
        serde_json::to_value(&req).unwrap(),
        json!({"fromUserID":"bot_1","toUserID":"alice","reqMsg":"hello","ex":""})
    );
    let resp: AddFriendResponseReq = round_trip(
        r#"{"fromUserID":"alice","toUserID":"bot_1","handleResult":-1,"handleMsg":"no"}"#,
    );
    assert_eq!(resp.handle_result, -1);
}

#[test]
fn received_apply_list_uses_capital_f() {
    let json = format!(r#"{{"FriendRequests":[{FRIEND_REQUEST}],"total":1}}"#);
    let resp: GetFriendApplyListResp = round_trip(&json);
    assert_eq!(resp.friend_requests[0].from_user_id, "alice");
    assert_eq!(resp.friend_requests[0].create_time, 1_700_000_000_000);
    // the lower-case spelling is accepted too
    let lower: GetFriendApplyListResp =
        serde_json::from_str(&json.replace("FriendRequests", "friendRequests")).unwrap();
    assert_eq!(lower, resp);
    // the self list uses lower case
    let json = format!(r#"{{"friendRequests":[{FRIEND_REQUEST}],"total":1}}"#);
    let own: GetSelfFriendApplyListResp = round_trip(&json);
    assert_eq!(own.total, 1);
    round_trip::<GetFriendApplyListResp>(r#"{"FriendRequests":null,"total":0}"#);
    round_trip::<GetFriendApplyListReq>(
        r#"{"userID":"bot_1","pagination":{"pageNumber":1,"showNumber":100},"handleResults":[0]}"#,
    );
}

#[test]
fn designated_apply() {
    let json = format!(r#"{{"friendRequests":[{FRIEND_REQUEST}]}}"#);
    let resp: GetDesignatedFriendApplyResp = round_trip(&json);
    assert_eq!(
        keys(&serde_json::to_value(&resp.friend_requests[0]).unwrap()),
        [
            "createTime",
            "ex",
            "fromFaceURL",
            "fromNickname",
            "fromUserID",
            "handleMsg",
            "handleResult",
            "handleTime",
            "handlerUserID",
            "reqMsg",
            "toFaceURL",
            "toNickname",
            "toUserID"
        ]
    );
}

#[test]
fn friend_list_with_nested_user() {
    let resp: GetFriendListResp = round_trip(
        r#"{"friendsInfo":[{"ownerUserID":"bot_1","remark":"","createTime":1700000000,
            "friendUser":{"userID":"alice","nickname":"Alice","faceURL":"","ex":"","createTime":0,
            "appMangerLevel":0,"globalRecvMsgOpt":0},"addSource":2,"operatorUserID":"bot_1","ex":"",
            "isPinned":false}],"total":1}"#,
    );
    let friend = &resp.friends_info[0];
    assert_eq!(friend.friend_user.as_ref().unwrap().nickname, "Alice");
    assert_eq!(friend.create_time, 1_700_000_000);
    round_trip::<GetFriendListResp>(r#"{"friendsInfo":null,"total":0}"#);
}

#[test]
fn specified_friends_info_with_nulls() {
    let resp: GetSpecifiedFriendsInfoResp = round_trip(
        r#"{"infos":[{"userInfo":{"userID":"alice","nickname":"A","faceURL":"","ex":"",
            "createTime":1,"appMangerLevel":0,"globalRecvMsgOpt":0},"friendInfo":null,
            "blackInfo":{"ownerUserID":"bot_1","createTime":1700000000000,"blackUserInfo":
            {"userID":"alice","nickname":"A","faceURL":"","ex":""},"addSource":0,
            "operatorUserID":"bot_1","ex":""}}]}"#,
    );
    assert!(resp.infos[0].friend_info.is_none());
    assert!(resp.infos[0].black_info.is_some());
}

#[test]
fn blacklist_and_misc() {
    round_trip::<AddBlackReq>(r#"{"ownerUserID":"a","blackUserID":"b","ex":""}"#);
    round_trip::<RemoveBlackReq>(r#"{"ownerUserID":"a","blackUserID":"b"}"#);
    round_trip::<GetBlackListResp>(r#"{"blacks":null,"total":0}"#);
    round_trip::<IsFriendResp>(r#"{"inUser1Friends":true,"inUser2Friends":false}"#);
    round_trip::<IsFriendReq>(r#"{"userID1":"a","userID2":"b"}"#);
    round_trip::<GetFriendIdResp>(r#"{"friendIDs":["a"]}"#);
    let update: UpdateFriendsReq = round_trip(
        r#"{"ownerUserID":"a","friendUserIDs":["b"],"isPinned":true,"remark":null,"ex":null}"#,
    );
    assert_eq!(update.is_pinned, Some(true));
    round_trip::<ImportFriendReq>(r#"{"ownerUserID":"a","friendUserIDs":["b","c"]}"#);
    round_trip::<UnhandledCountResp>(r#"{"count":3}"#);
}

#[test]
fn incremental_friends_and_full_ids() {
    let req: IncrementalUserReq = round_trip(r#"{"userID":"bot_1","versionID":"","version":0}"#);
    assert_eq!(req.version, 0);
    let full: GetIncrementalFriendsResp = round_trip(
        r#"{"version":1,"versionID":"6561f0a2b3c4d5e6f7a8b9c0","full":true,"delete":null,
            "insert":null,"update":null,"sortVersion":0}"#,
    );
    assert!(full.full);
    // versions are u64 and may exceed 2^53
    let big: GetIncrementalFriendsResp = round_trip(
        r#"{"version":18446744073709551615,"versionID":"x","full":false,"delete":["bob"],
            "insert":null,"update":null,"sortVersion":9007199254740993}"#,
    );
    assert_eq!(big.version, u64::MAX);
    assert_eq!(big.sort_version, 9_007_199_254_740_993);
    let ids: GetFullFriendUserIdsResp =
        round_trip(r#"{"version":3,"versionID":"v","equal":false,"userIDs":["alice","bob"]}"#);
    assert_eq!(ids.user_ids, ["alice", "bob"]);
    let hash: FullIdsUserReq = round_trip(r#"{"idHash":18446744073709551615,"userID":"bot_1"}"#);
    assert_eq!(hash.id_hash, u64::MAX);
}

#[test]
fn wrong_types_are_errors() {
    rejects::<AddFriendReq>(r#"{"fromUserID":1}"#);
    rejects::<AddFriendResponseReq>(r#"{"handleResult":"1"}"#);
    rejects::<GetIncrementalFriendsResp>(r#"{"version":-1}"#);
    rejects::<GetIncrementalFriendsResp>(r#"{"version":1.0e30}"#);
    rejects::<GetIncrementalFriendsResp>(r#"{"insert":[{"friendUser":"alice"}]}"#);
    rejects::<GetFriendApplyListResp>(r#"{"FriendRequests":{}}"#);
    rejects::<IsFriendResp>(r#"{"inUser1Friends":1}"#);
    rejects::<UpdateFriendsReq>(r#"{"isPinned":{"value":true}}"#);
}
