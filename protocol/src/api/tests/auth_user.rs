use serde_json::json;

use super::{keys, rejects, round_trip};
use crate::api::auth::*;
use crate::api::user::*;

#[test]
fn admin_token_request_and_reply() {
    let req = GetAdminTokenReq {
        secret: "openIM123".into(),
        user_id: "imAdmin".into(),
    };
    assert_eq!(
        serde_json::to_value(&req).unwrap(),
        json!({"secret": "openIM123", "userID": "imAdmin"})
    );
    let resp: UserTokenResp =
        round_trip(r#"{"token":"eyJhbGciOiJIUzI1NiJ9.e30.x","expireTimeSeconds":7776000}"#);
    assert_eq!(resp.expire_time_seconds, 7_776_000);
}

#[test]
fn secrets_and_tokens_are_redacted_in_debug() {
    let req = GetAdminTokenReq {
        secret: "openIM123".into(),
        user_id: "imAdmin".into(),
    };
    let resp = UserTokenResp {
        token: "eyJ.secret.sig".into(),
        expire_time_seconds: 1,
    };
    let parse = ParseTokenReq {
        token: "eyJ.secret.sig".into(),
    };
    let online = PlatformOnlineDetail {
        token: "eyJ.secret.sig".into(),
        ..Default::default()
    };
    let tokens = SinglePlatformToken {
        token: vec!["eyJ.secret.sig".into()],
        ..Default::default()
    };
    for text in [
        format!("{req:?}"),
        format!("{resp:?}"),
        format!("{parse:?}"),
        format!("{online:?}"),
        format!("{tokens:?}"),
    ] {
        assert!(!text.contains("openIM123"), "{text}");
        assert!(!text.contains("secret.sig"), "{text}");
        assert!(text.contains("redacted"), "{text}");
    }
    assert!(format!("{req:?}").contains("imAdmin"));
}

#[test]
fn user_token_and_parse_token() {
    let req: GetUserTokenReq = round_trip(r#"{"platformID":5,"userID":"bot_1"}"#);
    assert_eq!(req.platform_id, 5);
    let parsed: ParseTokenResp =
        round_trip(r#"{"userID":"bot_1","platformID":5,"expireTimeSeconds":1707776000}"#);
    assert_eq!(parsed.user_id, "bot_1");
    round_trip::<ForceLogoutReq>(r#"{"platformID":1,"userID":"alice"}"#);
}

#[test]
fn user_register_request_as_in_the_spec() {
    let req: UserRegisterReq =
        serde_json::from_str(r#"{"users":[{"userID":"bot_1","nickname":"Bot"}]}"#).unwrap();
    assert_eq!(req.users[0].user_id, "bot_1");
    assert_eq!(req.users[0].nickname, "Bot");
    // All fields are written, zero values included.
    assert_eq!(
        keys(&serde_json::to_value(&req.users[0]).unwrap()),
        [
            "appMangerLevel",
            "createTime",
            "ex",
            "faceURL",
            "globalRecvMsgOpt",
            "nickname",
            "userID"
        ]
    );
}

#[test]
fn users_info_reply_from_the_go_server() {
    let resp: GetUsersInfoResp = round_trip(
        r#"{"usersInfo":[{"userID":"alice","nickname":"Alice","faceURL":"http://x/a.png","ex":"",
            "createTime":1700000000000,"appMangerLevel":0,"globalRecvMsgOpt":2}]}"#,
    );
    assert_eq!(resp.users_info[0].global_recv_msg_opt, 2);
    assert_eq!(resp.users_info[0].create_time, 1_700_000_000_000);
    let empty: GetUsersInfoResp = round_trip(r#"{"usersInfo":null}"#);
    assert!(empty.users_info.is_empty());
    // request lists are written as [] (the server's Check rejects null).
    assert_eq!(
        serde_json::to_string(&GetUsersInfoReq::default()).unwrap(),
        r#"{"userIDs":[]}"#
    );
}

#[test]
fn update_user_info_ex_wrappers_are_bare_values() {
    let req: UpdateUserInfoExReq = round_trip(
        r#"{"userInfo":{"userID":"bot_1","nickname":"Robo","faceURL":null,"ex":null,"globalRecvMsgOpt":1}}"#,
    );
    let info = req.user_info.unwrap();
    assert_eq!(info.nickname.as_deref(), Some("Robo"));
    assert_eq!(info.face_url, None);
    assert_eq!(info.global_recv_msg_opt, Some(1));
    // absent = unset
    let req: UpdateUserInfoExReq =
        serde_json::from_str(r#"{"userInfo":{"userID":"bot_1"}}"#).unwrap();
    assert_eq!(req.user_info.unwrap().nickname, None);
    // the object form of a wrapper is rejected, like the Go server does
    rejects::<UpdateUserInfoExReq>(r#"{"userInfo":{"userID":"u","nickname":{"value":"x"}}}"#);
}

#[test]
fn online_status_reply_is_an_array() {
    let resp: Vec<UserOnlineStatus> = round_trip(
        r#"[{"userID":"alice","status":1,"detailPlatformStatus":[{"platformID":5,"connID":"c1",
             "isBackground":false,"token":"t"}]},
            {"userID":"bob","status":0,"detailPlatformStatus":null}]"#,
    );
    assert_eq!(resp[0].detail_platform_status[0].platform_id, 5);
    assert!(resp[1].detail_platform_status.is_empty());
    round_trip::<Vec<UserOnlineTokenDetail>>(
        r#"[{"userID":"alice","status":1,"singlePlatformToken":[{"platformID":5,"total":1,"token":["t"]}]}]"#,
    );
}

#[test]
fn other_user_routes() {
    round_trip::<AccountCheckResp>(
        r#"{"results":[{"userID":"a","accountStatus":1},{"userID":"b","accountStatus":0}]}"#,
    );
    round_trip::<GetAllUsersUidResp>(r#"{"total":2,"userIDs":["a","b"]}"#);
    let req: GetUsersReq = round_trip(
        r#"{"pagination":{"pageNumber":1,"showNumber":200},"userID":"","nickName":"Al"}"#,
    );
    assert_eq!(req.pagination.unwrap().show_number, 200);
    round_trip::<UsersStatusResp>(
        r#"{"statusList":[{"userID":"a","status":1,"platformIDs":[5,1]}]}"#,
    );
    round_trip::<UsersStatusResp>(r#"{"statusList":null}"#);
    round_trip::<SubscribeUsersStatusReq>(r#"{"userID":"a","userIDs":["b"],"genre":1}"#);
    round_trip::<ProcessUserCommandReq>(
        r#"{"userID":"a","type":1,"uuid":"u1","value":"v","ex":null}"#,
    );
    let cmds: ProcessUserCommandGetResp = round_trip(
        r#"{"CommandResp":[{"type":1,"createTime":1700000000000,"uuid":"u1","value":"v","ex":""}]}"#,
    );
    assert_eq!(cmds.command_resp[0].command_type, 1);
    round_trip::<SearchNotificationAccountReq>(
        r#"{"keyword":"x","appManagerLevel":null,"pagination":{"pageNumber":1,"showNumber":10}}"#,
    );
    round_trip::<SearchNotificationAccountResp>(
        r#"{"total":1,"notificationAccounts":[{"userID":"1234567890","faceURL":"","nickName":"OA","appMangerLevel":3}]}"#,
    );
}

#[test]
fn wrong_types_are_errors() {
    rejects::<GetUserTokenReq>(r#"{"platformID":"5","userID":"a"}"#);
    rejects::<GetUsersInfoReq>(r#"{"userIDs":"a"}"#);
    rejects::<GetUsersInfoReq>(r#"{"userIDs":[1]}"#);
    rejects::<UserRegisterReq>(r#"{"users":[{"userID":5}]}"#);
    rejects::<GetUsersInfoResp>(r#"{"usersInfo":[{"createTime":"1700000000000"}]}"#);
    rejects::<GetUsersInfoResp>(r#"{"usersInfo":[{"createTime":1.5}]}"#);
    rejects::<ParseTokenResp>(r#"{"platformID":99999999999}"#);
    rejects::<UserRegisterReq>("[");
    rejects::<UserRegisterReq>("");
}

#[test]
fn null_body_and_unknown_keys_are_accepted() {
    let req: GetUsersInfoReq = serde_json::from_str(r#"{"userIDs":null,"extra":1}"#).unwrap();
    assert!(req.user_ids.is_empty());
    let req: UserRegisterReq = serde_json::from_str("{}").unwrap();
    assert!(req.users.is_empty());
}
