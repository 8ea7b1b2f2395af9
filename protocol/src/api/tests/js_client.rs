//! The HTTP bodies the JS client `@openim/client-sdk` 0.0.14 was observed sending
//! (CLIENT-SURFACE.md §5, §6 and §12) decode into the route's request type without losing a key.

use std::fmt::Debug;

use serde_json::Value;

use crate::api::route::RouteVisitor;
use crate::api::{ApiRoute, decode_body, routes};

const OBSERVED: &[(&str, &str)] = &[
    (
        "/friend/get_incremental_friends",
        r#"{"userID":"u1","version":0,"versionID":""}"#,
    ),
    (
        "/friend/get_full_friend_user_ids",
        r#"{"idHash":0,"userID":"u1"}"#,
    ),
    (
        "/group/get_incremental_join_groups",
        r#"{"userID":"u1","version":0,"versionID":""}"#,
    ),
    (
        "/group/get_full_join_group_ids",
        r#"{"idHash":0,"userID":"u1"}"#,
    ),
    ("/user/get_users_info", r#"{"userIDs":["u1"]}"#),
    (
        "/conversation/get_incremental_conversations",
        r#"{"userID":"u1","version":0,"versionID":""}"#,
    ),
    (
        "/conversation/get_not_notify_conversation_ids",
        r#"{"userID":"u1"}"#,
    ),
    (
        "/group/get_incremental_group_members_batch",
        r#"{"userID":"u1","reqList":[{"groupID":"g1","version":0,"versionID":""}]}"#,
    ),
    (
        "/friend/get_designated_friends",
        r#"{"ownerUserID":"u1","friendUserIDs":["bot"]}"#,
    ),
    (
        "/friend/add_friend",
        r#"{"fromUserID":"u1","toUserID":"u3","reqMsg":"hi","ex":""}"#,
    ),
    (
        "/friend/get_designated_friend_apply",
        r#"{"fromUserID":"u1","toUserID":"u3"}"#,
    ),
    (
        "/friend/add_friend_response",
        r#"{"fromUserID":"u2","toUserID":"u1","handleResult":1,"handleMsg":"ok"}"#,
    ),
    (
        "/group/join_group",
        r#"{"groupID":"g2","reqMessage":"let me in","joinSource":3,"inviterUserID":"u1","ex":""}"#,
    ),
    (
        "/group/get_specified_user_group_request_info",
        r#"{"groupID":"g2","userID":"u1"}"#,
    ),
    (
        "/msg/mark_conversation_as_read",
        r#"{"conversationID":"si_bot_u1","seqs":[2],"hasReadSeq":2,"userID":"u1"}"#,
    ),
    ("/friend/is_friend", r#"{"userID1":"u1","userID2":"u2"}"#),
    (
        "/friend/delete_friend",
        r#"{"ownerUserID":"u1","friendUserID":"u2"}"#,
    ),
    (
        "/friend/get_friend_list",
        r#"{"userID":"u1","pagination":{"pageNumber":1,"showNumber":100}}"#,
    ),
    (
        "/friend/add_black",
        r#"{"ownerUserID":"u1","blackUserID":"u9","ex":""}"#,
    ),
    (
        "/group/create_group",
        r#"{"ownerUserID":"u1","memberUserIDs":["u2"],"adminUserIDs":[],
            "groupInfo":{"groupName":"g","groupType":2,"creatorUserID":"u1"}}"#,
    ),
    (
        "/group/invite_user_to_group",
        r#"{"groupID":"g1","reason":"","invitedUserIDs":["u3"]}"#,
    ),
    (
        "/group/get_joined_group_list",
        r#"{"fromUserID":"u1","pagination":{"pageNumber":1,"showNumber":100}}"#,
    ),
    (
        "/group/group_application_response",
        r#"{"groupID":"g1","fromUserID":"u2","handledMsg":"ok","handleResult":1}"#,
    ),
    (
        "/group/get_group_member_list",
        r#"{"filter":0,"keyword":"","groupID":"g1","pagination":{"pageNumber":1,"showNumber":100}}"#,
    ),
    (
        "/group/set_group_member_info",
        r#"{"members":[{"groupID":"g1","userID":"u2","roleLevel":60}]}"#,
    ),
    (
        "/group/kick_group",
        r#"{"reason":"","groupID":"g1","kickedUserIDs":["u2"]}"#,
    ),
    (
        "/group/transfer_group",
        r#"{"groupID":"g1","oldOwnerUserID":"u1","newOwnerUserID":"u2"}"#,
    ),
    (
        "/group/dismiss_group",
        r#"{"groupID":"g1","deleteMember":false}"#,
    ),
    ("/group/quit_group", r#"{"groupID":"g1","userID":"u1"}"#),
    (
        "/user/update_user_info_ex",
        r#"{"userInfo":{"userID":"u1","nickname":"One"}}"#,
    ),
    (
        "/msg/revoke_msg",
        r#"{"conversationID":"si_bot_u1","seq":3,"userID":"u1"}"#,
    ),
    (
        "/msg/delete_msgs",
        r#"{"conversationID":"si_bot_u1","seqs":[3],"userID":"u1"}"#,
    ),
    (
        "/msg/clear_conversation_msg",
        r#"{"conversationIDs":["si_bot_u1"],"userID":"u1"}"#,
    ),
    (
        "/conversation/set_conversations",
        r#"{"userIDs":["u1"],"conversation":{"conversationID":"si_bot_u1","conversationType":1,
            "userID":"bot","groupID":"","recvMsgOpt":2}}"#,
    ),
];

struct Observed {
    matched: usize,
}

/// Every key of `sample` is in `encoded` with the same value (objects compared recursively).
fn contains(encoded: &Value, sample: &Value, path: &str) {
    match (encoded, sample) {
        (Value::Object(have), Value::Object(want)) => {
            for (key, value) in want {
                let got = have
                    .get(key)
                    .unwrap_or_else(|| panic!("{path}: key {key} lost"));
                contains(got, value, path);
            }
        }
        (Value::Array(have), Value::Array(want)) => {
            assert_eq!(have.len(), want.len(), "{path}");
            for (got, value) in have.iter().zip(want) {
                contains(got, value, path);
            }
        }
        _ => assert_eq!(encoded, sample, "{path}"),
    }
}

impl RouteVisitor for Observed {
    fn visit<R>(&mut self)
    where
        R: ApiRoute,
        R::Req: PartialEq + Debug + Default + Clone,
        R::Resp: PartialEq + Debug + Clone,
    {
        for (path, body) in OBSERVED.iter().filter(|(path, _)| *path == R::PATH) {
            let req: R::Req =
                decode_body(body.as_bytes()).unwrap_or_else(|e| panic!("{path}: {e}"));
            let encoded = serde_json::to_value(&req).unwrap();
            let sample: Value = serde_json::from_str(body).unwrap();
            contains(&encoded, &sample, path);
            self.matched += 1;
        }
    }
}

#[test]
fn observed_js_client_bodies_decode_without_losing_keys() {
    let mut observed = Observed { matched: 0 };
    routes::visit_all(&mut observed);
    assert_eq!(
        observed.matched,
        OBSERVED.len(),
        "some sample paths are not routes"
    );
}
