//! `/third/...` and `/object/...`: push tokens, badges, client logs and object upload
//! (http-api.md §5.6).
//!
//! Multipart upload flow: `part_limit` → `part_size` → `initiate_multipart_upload` (if the reply's
//! `url` is non-empty the content already exists) → `PUT` each part to its signed URL →
//! `complete_multipart_upload`. Object names must start with `<callerUserID>/` unless admin.

use std::collections::BTreeMap;

use super::Empty;
pub use super::common::Pagination;
use super::route::api_routes;
use super::serde_util::json_struct;

json_struct! { @request;
    /// `/third/fcm_update_token` request.
    pub struct FcmUpdateTokenReq {
        /// Platform (1..10).
        #[serde(rename = "platformID")]
        pub platform_id: i32,
        /// FCM token (required).
        pub fcm_token: String,
        /// The user (required).
        pub account: String,
        /// Expiry.
        pub expire_time: i64,
    }
}

json_struct! { @request;
    /// `/third/set_app_badge` request.
    pub struct SetAppBadgeReq {
        /// The user (required).
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Badge count.
        pub app_unread_count: i32,
    }
}

json_struct! { @request;
    /// One uploaded log file.
    pub struct LogFileUrl {
        /// File name.
        pub filename: String,
        /// Its URL (capitalised key on the wire).
        #[serde(rename = "URL", alias = "url")]
        pub url: String,
    }
}

json_struct! { @request;
    /// `/third/logs/upload` request.
    pub struct UploadLogsReq {
        /// Platform ID.
        pub platform: i32,
        /// Files.
        #[serde(rename = "fileURLs")]
        pub file_urls: Vec<LogFileUrl>,
        /// App framework.
        pub app_framework: String,
        /// App version.
        pub version: String,
        /// Extension data.
        pub ex: String,
    }
}

json_struct! { @request;
    /// `/third/logs/delete` request.
    pub struct DeleteLogsReq {
        /// Log IDs.
        #[serde(rename = "logIDs")]
        pub log_ids: Vec<String>,
    }
}

json_struct! { @request;
    /// `/third/logs/search` request.
    pub struct SearchLogsReq {
        /// Keyword.
        pub keyword: String,
        /// From, ms.
        pub start_time: i64,
        /// To, ms.
        pub end_time: i64,
        /// Page.
        pub pagination: Option<Pagination>,
    }
}

json_struct! { @reply;
    /// One client log.
    pub struct LogInfo {
        /// Uploader.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Platform name.
        pub platform: String,
        /// File URL.
        pub url: String,
        /// Upload time, ms.
        pub create_time: i64,
        /// Uploader's nickname.
        pub nickname: String,
        /// Log ID.
        #[serde(rename = "logID")]
        pub log_id: String,
        /// File name.
        pub filename: String,
        /// System type.
        pub system_type: String,
        /// Extension data.
        pub ex: String,
        /// App version.
        pub version: String,
    }
}

json_struct! { @reply;
    /// `/third/logs/search` reply.
    pub struct SearchLogsResp {
        /// Hits.
        pub logs_infos: Vec<LogInfo>,
        /// Total hits.
        pub total: u32,
    }
}

json_struct! { @reply;
    /// `/object/part_limit` reply.
    pub struct PartLimitResp {
        /// Minimum part size, bytes.
        pub min_part_size: i64,
        /// Maximum part size, bytes.
        pub max_part_size: i64,
        /// Maximum number of parts.
        pub max_num_size: i32,
    }
}

json_struct! { @request;
    /// `/object/part_size` request.
    pub struct PartSizeReq {
        /// Total object size, bytes.
        pub size: i64,
    }
}

json_struct! { @reply;
    /// `/object/part_size` reply.
    pub struct PartSizeResp {
        /// Part size to use, bytes.
        pub size: i64,
    }
}

json_struct! { @request;
    /// `/object/initiate_multipart_upload` request.
    pub struct InitiateMultipartUploadReq {
        /// Content hash (JS client: md5 hex of the comma-joined part md5s).
        pub hash: String,
        /// Total size, bytes.
        pub size: i64,
        /// Part size, bytes.
        pub part_size: i64,
        /// Maximum parts.
        pub max_parts: i32,
        /// Free-form cause.
        pub cause: String,
        /// Object name (`<userID>/…` for non-admins).
        pub name: String,
        /// MIME type.
        pub content_type: String,
        /// Set by the API process from `X-Request-Api`.
        pub url_prefix: String,
    }
}

json_struct! { @reply;
    /// A signed-request key with its values.
    pub struct KeyValues {
        /// Key.
        pub key: String,
        /// Values.
        pub values: Vec<String>,
    }
}

json_struct! { @reply;
    /// A signed URL for one part.
    pub struct SignPart {
        /// 1-based part number.
        pub part_number: i32,
        /// URL to `PUT` the part to.
        pub url: String,
        /// Extra query parameters.
        pub query: Vec<KeyValues>,
        /// Extra headers.
        pub header: Vec<KeyValues>,
    }
}

json_struct! { @reply;
    /// Signed part uploads (`third.AuthSignParts`, also the `/object/auth_sign` reply).
    pub struct AuthSignParts {
        /// Base URL.
        pub url: String,
        /// Common query parameters.
        pub query: Vec<KeyValues>,
        /// Common headers.
        pub header: Vec<KeyValues>,
        /// Per-part URLs.
        pub parts: Vec<SignPart>,
    }
}

json_struct! { @reply;
    /// An upload in progress.
    pub struct UploadInfo {
        /// Upload ID.
        #[serde(rename = "uploadID")]
        pub upload_id: String,
        /// Part size, bytes.
        pub part_size: i64,
        /// Signed part URLs.
        pub sign: Option<AuthSignParts>,
        /// Expiry, ms.
        pub expire_time: i64,
    }
}

json_struct! { @reply;
    /// `/object/initiate_multipart_upload` reply.
    pub struct InitiateMultipartUploadResp {
        /// Non-empty when the content already exists (upload done).
        pub url: String,
        /// The upload to perform otherwise.
        pub upload: Option<UploadInfo>,
    }
}

json_struct! { @request;
    /// `/object/auth_sign` request (re-sign parts).
    pub struct AuthSignReq {
        /// Upload ID.
        #[serde(rename = "uploadID")]
        pub upload_id: String,
        /// Parts to sign.
        pub part_numbers: Vec<i32>,
    }
}

json_struct! { @request;
    /// `/object/complete_multipart_upload` request.
    pub struct CompleteMultipartUploadReq {
        /// Upload ID.
        #[serde(rename = "uploadID")]
        pub upload_id: String,
        /// md5 hex per part.
        pub parts: Vec<String>,
        /// Object name.
        pub name: String,
        /// MIME type.
        pub content_type: String,
        /// Free-form cause.
        pub cause: String,
        /// Set by the API process from `X-Request-Api`.
        pub url_prefix: String,
    }
}

json_struct! { @reply;
    /// Reply carrying an object URL (`complete_multipart_upload`, `complete_form_data`).
    pub struct ObjectUrlResp {
        /// `<prefix>/object/<name>`.
        pub url: String,
    }
}

json_struct! { @request;
    /// `/object/access_url` request.
    pub struct AccessUrlReq {
        /// Object name.
        pub name: String,
        /// Options such as `type: image`, `format`, `width`, `height`.
        pub query: BTreeMap<String, String>,
    }
}

json_struct! { @reply;
    /// `/object/access_url` reply.
    pub struct AccessUrlResp {
        /// Presigned URL.
        pub url: String,
        /// Expiry, ms.
        pub expire_time: i64,
    }
}

json_struct! { @request;
    /// `/object/initiate_form_data` request.
    pub struct InitiateFormDataReq {
        /// Object name.
        pub name: String,
        /// Size, bytes.
        pub size: i64,
        /// MIME type.
        pub content_type: String,
        /// Object group.
        pub group: String,
        /// Validity, ms.
        pub millisecond: i64,
        /// Absolute name.
        pub absolute: bool,
    }
}

json_struct! { @reply;
    /// `/object/initiate_form_data` reply.
    pub struct InitiateFormDataResp {
        /// Upload ID.
        pub id: String,
        /// Form target URL.
        pub url: String,
        /// File form-field name.
        pub file: String,
        /// Headers to send.
        pub header: Vec<KeyValues>,
        /// Form fields.
        pub form_data: BTreeMap<String, String>,
        /// Expiry, ms.
        pub expires: i64,
        /// HTTP codes meaning success.
        pub success_codes: Vec<i32>,
    }
}

json_struct! { @request;
    /// `/object/complete_form_data` request.
    pub struct CompleteFormDataReq {
        /// Upload ID.
        pub id: String,
        /// Set by the API process from `X-Request-Api`.
        pub url_prefix: String,
    }
}

api_routes! {
    /// Registers an FCM push token.
    FcmUpdateToken {
        path: FCM_UPDATE_TOKEN = "/third/fcm_update_token",
        access: Any,
        req: FcmUpdateTokenReq,
        resp: Empty,
    }
    /// Sets the app badge count.
    SetAppBadge {
        path: SET_APP_BADGE = "/third/set_app_badge",
        access: SelfOrAdmin { field: "userID" },
        req: SetAppBadgeReq,
        resp: Empty,
    }
    /// Records uploaded client logs.
    UploadLogs {
        path: LOGS_UPLOAD = "/third/logs/upload",
        access: Any,
        req: UploadLogsReq,
        resp: Empty,
    }
    /// Deletes client logs.
    DeleteLogs {
        path: LOGS_DELETE = "/third/logs/delete",
        access: Any,
        req: DeleteLogsReq,
        resp: Empty,
    }
    /// Searches client logs.
    SearchLogs {
        path: LOGS_SEARCH = "/third/logs/search",
        access: Any,
        req: SearchLogsReq,
        resp: SearchLogsResp,
    }
    /// Part size limits.
    PartLimit {
        path: OBJECT_PART_LIMIT = "/object/part_limit",
        access: Any,
        req: Empty,
        resp: PartLimitResp,
    }
    /// Part size to use for an object size.
    PartSize {
        path: OBJECT_PART_SIZE = "/object/part_size",
        access: Any,
        req: PartSizeReq,
        resp: PartSizeResp,
    }
    /// Starts a multipart upload.
    InitiateMultipartUpload {
        path: OBJECT_INITIATE_MULTIPART_UPLOAD = "/object/initiate_multipart_upload",
        access: Any,
        req: InitiateMultipartUploadReq,
        resp: InitiateMultipartUploadResp,
    }
    /// Re-signs part URLs.
    AuthSign {
        path: OBJECT_AUTH_SIGN = "/object/auth_sign",
        access: Any,
        req: AuthSignReq,
        resp: AuthSignParts,
    }
    /// Completes a multipart upload.
    CompleteMultipartUpload {
        path: OBJECT_COMPLETE_MULTIPART_UPLOAD = "/object/complete_multipart_upload",
        access: Any,
        req: CompleteMultipartUploadReq,
        resp: ObjectUrlResp,
    }
    /// Presigned access URL.
    AccessUrl {
        path: OBJECT_ACCESS_URL = "/object/access_url",
        access: Any,
        req: AccessUrlReq,
        resp: AccessUrlResp,
    }
    /// Starts a form upload.
    InitiateFormData {
        path: OBJECT_INITIATE_FORM_DATA = "/object/initiate_form_data",
        access: Any,
        req: InitiateFormDataReq,
        resp: InitiateFormDataResp,
    }
    /// Completes a form upload.
    CompleteFormData {
        path: OBJECT_COMPLETE_FORM_DATA = "/object/complete_form_data",
        access: Any,
        req: CompleteFormDataReq,
        resp: ObjectUrlResp,
    }
}
