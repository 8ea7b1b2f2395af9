use super::{rejects, round_trip};
use crate::api::common::Base64Bytes;
use crate::api::jssdk::{self, ConversationsMsgResp, GetActiveConversationsReq};
use crate::api::third::*;
use crate::api::{ApiResponse, ApiRoute};

#[test]
fn upload_flow_bodies() {
    round_trip::<PartSizeReq>(r#"{"size":1048576}"#);
    round_trip::<PartSizeResp>(r#"{"size":5242880}"#);
    round_trip::<InitiateMultipartUploadReq>(
        r#"{"hash":"abc","size":10,"partSize":10,"maxParts":1,"cause":"","name":"alice/a.png",
            "contentType":"image/png","urlPrefix":""}"#,
    );
    let resp: InitiateMultipartUploadResp = round_trip(
        r#"{"url":"","upload":{"uploadID":"u1","partSize":10,"sign":{"url":"http://s3/x",
            "query":[{"key":"X-Amz","values":["1"]}],"header":null,"parts":[{"partNumber":1,
            "url":"http://s3/x?part=1","query":null,"header":null}]},"expireTime":1700000000000}}"#,
    );
    assert_eq!(resp.upload.unwrap().sign.unwrap().parts[0].part_number, 1);
    round_trip::<InitiateMultipartUploadResp>(
        r#"{"url":"http://h/object/alice/a.png","upload":null}"#,
    );
    round_trip::<CompleteMultipartUploadReq>(
        r#"{"uploadID":"u1","parts":["md5"],"name":"alice/a.png","contentType":"image/png",
            "cause":"","urlPrefix":""}"#,
    );
    round_trip::<ObjectUrlResp>(r#"{"url":"http://h/object/alice/a.png"}"#);
    round_trip::<AccessUrlReq>(r#"{"name":"a","query":{"type":"image","width":"100"}}"#);
    round_trip::<InitiateFormDataResp>(
        r#"{"id":"i","url":"u","file":"file","header":null,"formData":{"k":"v"},"expires":1,
            "successCodes":[200,204]}"#,
    );
    round_trip::<UploadLogsReq>(
        r#"{"platform":5,"fileURLs":[{"filename":"a.log","URL":"http://x"}],"appFramework":"",
            "version":"1","ex":""}"#,
    );
    rejects::<PartSizeReq>(r#"{"size":"1"}"#);
}

#[test]
fn jssdk_json_mode_and_protobuf_envelope() {
    let req: GetActiveConversationsReq = round_trip(r#"{"ownerUserID":"a","count":20}"#);
    assert_eq!(req.count, 20);
    // JSON mode replies are built in the API process: empty lists are [].
    let resp: ConversationsMsgResp = round_trip(r#"{"unreadCount":0,"conversations":[]}"#);
    assert!(resp.conversations.is_empty());
    // protobuf mode: data is a base64 string of the binary response
    let env: ApiResponse<Base64Bytes> =
        serde_json::from_str(r#"{"errCode":0,"errMsg":"","errDlt":"","data":"CAE="}"#).unwrap();
    assert_eq!(env.into_result().unwrap().0, vec![0x08, 0x01]);
    let empty: ApiResponse<Base64Bytes> =
        serde_json::from_str(r#"{"errCode":0,"errMsg":"","errDlt":"","data":""}"#).unwrap();
    assert!(empty.into_result().unwrap().0.is_empty());
    assert!(jssdk::is_protobuf_content_type("application/x-protobuf"));
    assert!(jssdk::is_protobuf_content_type(
        "application/protobuf; charset=x"
    ));
    assert!(jssdk::is_json_content_type(""));
    assert!(jssdk::is_json_content_type(
        "application/json;charset=utf-8"
    ));
    assert!(!jssdk::is_json_content_type("text/plain"));
    assert_eq!(
        jssdk::GetActiveConversations::PATH,
        "/jssdk/get_active_conversations"
    );
}
