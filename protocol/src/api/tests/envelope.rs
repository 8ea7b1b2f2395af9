use super::rejects;
use crate::api::user::{GetUsersInfoResp, UserOnlineStatus};
use crate::api::{ApiError, ApiResponse, Empty};
use crate::error::ErrorCode;

#[test]
fn success_without_data_is_omitted_and_decodes_to_empty() {
    let resp = ApiResponse::ok(Empty);
    assert_eq!(
        serde_json::to_string(&resp).unwrap(),
        r#"{"errCode":0,"errMsg":"","errDlt":""}"#
    );
    let decoded: ApiResponse<Empty> =
        serde_json::from_str(r#"{"errCode":0,"errMsg":"","errDlt":""}"#).unwrap();
    assert_eq!(decoded.into_result(), Ok(Empty));
}

#[test]
fn success_with_data_is_present() {
    let resp = ApiResponse::ok(GetUsersInfoResp::default());
    assert_eq!(
        serde_json::to_string(&resp).unwrap(),
        r#"{"errCode":0,"errMsg":"","errDlt":"","data":{"usersInfo":null}}"#
    );
}

#[test]
fn empty_list_reply_is_written_as_null_data() {
    let resp = ApiResponse::ok(Vec::<UserOnlineStatus>::new());
    assert_eq!(
        serde_json::to_string(&resp).unwrap(),
        r#"{"errCode":0,"errMsg":"","errDlt":"","data":null}"#
    );
    let resp = ApiResponse::ok(vec![UserOnlineStatus::default()]);
    assert!(
        serde_json::to_string(&resp)
            .unwrap()
            .contains(r#""data":[{"#)
    );
}

#[test]
fn null_data_array_becomes_empty_vec() {
    let decoded: ApiResponse<Vec<UserOnlineStatus>> =
        serde_json::from_str(r#"{"errCode":0,"errMsg":"","errDlt":"","data":null}"#).unwrap();
    assert_eq!(decoded.data, None);
    assert_eq!(decoded.into_result(), Ok(Vec::new()));
}

#[test]
fn error_envelope_converts_to_api_error() {
    let decoded: ApiResponse<GetUsersInfoResp> = serde_json::from_str(
        r#"{"errCode":1004,"errMsg":"RecordNotFoundError","errDlt":"user not found"}"#,
    )
    .unwrap();
    assert!(!decoded.is_success());
    let err = decoded.into_result().unwrap_err();
    assert_eq!(err.code, 1004);
    assert_eq!(err.error_code(), ErrorCode::RecordNotFoundError);
    assert_eq!(err.name(), Some("RecordNotFoundError"));
    assert_eq!(err.msg, "RecordNotFoundError");
    assert_eq!(err.dlt, "user not found");
    assert_eq!(
        err.to_string(),
        "OpenIM API error 1004 RecordNotFoundError: user not found"
    );
    assert!(!err.is_token_error());
}

#[test]
fn unknown_error_code_keeps_number_and_message() {
    let err = ApiError::new(5001, "blocked by webhook", "");
    assert_eq!(err.name(), None);
    assert_eq!(err.to_string(), "OpenIM API error 5001 blocked by webhook");
    let resp: ApiResponse<Empty> = ApiResponse::from_error(err.clone());
    assert_eq!(
        serde_json::to_string(&resp).unwrap(),
        r#"{"errCode":5001,"errMsg":"blocked by webhook","errDlt":""}"#
    );
    assert_eq!(resp.into_result(), Err(err));
}

#[test]
fn token_errors_are_recognised() {
    assert!(ApiError::new(1506, "TokenKickedError", "").is_token_error());
    assert!(ApiError::new(1501, "TokenExpiredError", "").is_token_error());
}

#[test]
fn missing_messages_default_to_empty_and_null_is_accepted() {
    let decoded: ApiResponse<Empty> =
        serde_json::from_str(r#"{"errCode":0,"errMsg":null}"#).unwrap();
    assert_eq!(decoded.err_msg, "");
    assert_eq!(decoded.err_dlt, "");
}

#[test]
fn malformed_envelopes_are_errors() {
    // errCode is required, must be a number (the JS client also rejects "0").
    rejects::<ApiResponse<Empty>>(r#"{"errMsg":"","errDlt":""}"#);
    rejects::<ApiResponse<Empty>>(r#"{"errCode":"0"}"#);
    rejects::<ApiResponse<Empty>>(r#"{"errCode":1.5}"#);
    rejects::<ApiResponse<Empty>>(r#"[]"#);
    rejects::<ApiResponse<Empty>>(r#""#);
    rejects::<ApiResponse<Empty>>(r#"{"errCode":0,"errMsg":7}"#);
    // data of the wrong shape
    rejects::<ApiResponse<GetUsersInfoResp>>(r#"{"errCode":0,"data":[1,2]}"#);
    rejects::<ApiResponse<GetUsersInfoResp>>(r#"{"errCode":0,"data":{"usersInfo":{}}}"#);
    rejects::<ApiResponse<Empty>>(r#"{"errCode":0,"data":5}"#);
}

#[test]
fn empty_accepts_objects_and_null_only() {
    assert_eq!(serde_json::from_str::<Empty>("{}").unwrap(), Empty);
    assert_eq!(
        serde_json::from_str::<Empty>(r#"{"x":[1]}"#).unwrap(),
        Empty
    );
    assert_eq!(serde_json::from_str::<Empty>("null").unwrap(), Empty);
    rejects::<Empty>("1");
    rejects::<Empty>(r#""""#);
    assert_eq!(serde_json::to_string(&Empty).unwrap(), "{}");
}
