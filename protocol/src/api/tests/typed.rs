use serde_json::json;

use crate::api::common::*;
use crate::api::decode_body;
use crate::api::msg::SendMsgReq;
use crate::api::user::GetUsersInfoReq;
use crate::constants::{
    ContentType, GroupRoleLevel, GroupStatus, GroupType, HandleResult, SessionType,
};
use crate::content::Content;

#[test]
fn typed_views_of_wire_numbers() {
    let member = GroupMemberFullInfo {
        role_level: 100,
        mute_end_time: 2_000,
        ..Default::default()
    };
    assert_eq!(member.role(), GroupRoleLevel::Owner);
    assert!(member.is_muted_at(1_000));
    assert!(!member.is_muted_at(2_000));
    let group = GroupInfo {
        status: 3,
        group_type: 2,
        ..Default::default()
    };
    assert_eq!(group.group_status(), GroupStatus::Muted);
    assert_eq!(group.kind(), GroupType::Working);
    let request = FriendRequest {
        handle_result: -1,
        ..Default::default()
    };
    assert_eq!(request.result(), HandleResult::Refuse);
    // unknown values are kept, not rejected
    let odd = GroupMemberFullInfo {
        role_level: 7,
        ..Default::default()
    };
    assert_eq!(odd.role().as_i32(), 7);
    assert!(!odd.role().is_known());
    let msg = MsgData {
        session_type: 3,
        content_type: 106,
        ..Default::default()
    };
    assert_eq!(msg.session(), SessionType::ReadGroup);
    assert_eq!(msg.kind(), ContentType::AtText);
}

#[test]
fn send_msg_content_from_typed_element() {
    let mut req = SendMsgReq::single("bot_1", "alice", 0, json!(null));
    req.set_content(&Content::text("hello")).unwrap();
    assert_eq!(req.content_type, 101);
    assert_eq!(req.kind(), ContentType::Text);
    assert_eq!(req.content["content"], "hello");
    assert_eq!(req.session(), SessionType::Single);
}

#[test]
fn request_bodies_decode_like_go() {
    let req: GetUsersInfoReq = decode_body(br#"{"userIDs":["a"]}"#).unwrap();
    assert_eq!(req.user_ids, ["a"]);
    let null: GetUsersInfoReq = decode_body(b"null").unwrap();
    assert_eq!(null, GetUsersInfoReq::default());
    assert!(decode_body::<GetUsersInfoReq>(b"").is_err());
    assert!(decode_body::<GetUsersInfoReq>(b"   ").is_err());
    assert!(decode_body::<GetUsersInfoReq>(b"{} {}").is_err());
    assert!(decode_body::<GetUsersInfoReq>(b"[]").is_err());
    assert!(decode_body::<GetUsersInfoReq>(b"\xff\xfe").is_err());
    assert!(decode_body::<GetUsersInfoReq>(br#"{"userIDs":"a"}"#).is_err());
}

#[test]
fn arrays_are_not_objects() {
    // serde's derive would read a struct from an array; Go (and these types) do not.
    let err = serde_json::from_str::<GetUsersInfoReq>(r#"[["a"]]"#).unwrap_err();
    assert!(
        err.to_string().contains("a JSON object (GetUsersInfoReq)"),
        "{err}"
    );
    assert!(
        serde_json::from_str::<crate::api::user::UpdateUserInfoExReq>(r#"{"userInfo":["u"]}"#)
            .is_err()
    );
    assert!(serde_json::from_str::<GroupInfo>("[]").is_err());
    assert!(serde_json::from_str::<GroupInfo>("7").is_err());
    assert!(serde_json::from_str::<GroupInfo>(r#""x""#).is_err());
}

#[test]
fn keys_match_case_insensitively_like_go() {
    let req: GetUsersInfoReq = serde_json::from_str(r#"{"UserIDs":["a"]}"#).unwrap();
    assert_eq!(req.user_ids, ["a"]);
    let req: crate::api::user::UpdateUserInfoExReq =
        serde_json::from_str(r#"{"USERINFO":{"userid":"u","NickName":"N"}}"#).unwrap();
    let info = req.user_info.unwrap();
    assert_eq!(info.user_id, "u");
    assert_eq!(info.nickname.as_deref(), Some("N"));
    // capitalised wire keys read in any case
    let list: crate::api::friend::GetFriendApplyListResp =
        serde_json::from_str(r#"{"friendrequests":null,"TOTAL":3}"#).unwrap();
    assert_eq!(list.total, 3);
    // exact names still win and unknown keys are still ignored
    let req: GetUsersInfoReq = serde_json::from_str(r#"{"userIDs":["x"],"other":1}"#).unwrap();
    assert_eq!(req.user_ids, ["x"]);
    // a key given twice (in two cases) is rejected rather than silently merged
    assert!(
        serde_json::from_str::<GetUsersInfoReq>(r#"{"userIDs":["a"],"UserIDs":["b"]}"#).is_err()
    );
}
