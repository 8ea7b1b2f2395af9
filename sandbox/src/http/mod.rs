//! The HTTP API: envelope, header checks (operationID, token), CORS, route dispatch.

pub(crate) mod auth;
pub(crate) mod chat_log;
pub(crate) mod conversation;
pub(crate) mod friend;
pub(crate) mod group;
pub(crate) mod logs;
pub(crate) mod msg;
pub(crate) mod msg_destroy;
pub(crate) mod object;
pub(crate) mod statistics;
pub(crate) mod user;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::Inner;
use crate::error::CodeError;

/// Per-request context.
pub(crate) struct Ctx {
    pub inner: Arc<Inner>,
    pub op: String,
    /// The caller (token user); empty on the two token-less routes.
    pub user: String,
    pub admin: bool,
    pub protobuf: bool,
    /// `http(s)://<Host header>`: the base of URLs handed back to the caller (uploads).
    pub base_url: String,
}

impl Ctx {
    /// Caller must be `owner` or an admin (1002 otherwise).
    pub fn self_or_admin(&self, owner: &str) -> Result<(), CodeError> {
        if self.admin || self.user == owner {
            Ok(())
        } else {
            Err(CodeError::no_permission(format!(
                "{} is not {owner} or admin",
                self.user
            )))
        }
    }
    /// Caller must be an admin.
    pub fn admin_only(&self) -> Result<(), CodeError> {
        if self.admin {
            Ok(())
        } else {
            Err(CodeError::no_permission("only app admin"))
        }
    }
}

/// What a handler produced: JSON data, the same already serialised, or no data (field omitted).
pub(crate) enum Reply {
    Data(Value),
    /// `data` serialised by [`data_from`].
    Raw(Box<serde_json::value::RawValue>),
    Empty,
}

pub(crate) type HResult = Result<Reply, CodeError>;

/// Parses a request body (Go `encoding/json` semantics as far as practical).
pub(crate) fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, CodeError> {
    if body.is_empty() {
        return Err(CodeError::with_msg(
            1001,
            "Error: unexpected end of JSON input",
            "",
        ));
    }
    if body.trim_ascii() == b"null" {
        return serde_json::from_slice(b"{}")
            .map_err(|e| CodeError::with_msg(1001, format!("Error: {e}"), ""));
    }
    serde_json::from_slice(body).map_err(|e| CodeError::with_msg(1001, format!("Error: {e}"), ""))
}

/// Serialises to a JSON value (lists serialise as given).
pub(crate) fn to_value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// A list as the Go server writes it: `null` when empty.
pub(crate) fn list<T: Serialize>(v: &[T]) -> Value {
    if v.is_empty() {
        Value::Null
    } else {
        to_value(&v)
    }
}

/// `Ok(Reply::Data(v))`.
pub(crate) fn data(v: Value) -> HResult {
    Ok(Reply::Data(v))
}

/// A reply whose `data` is serialised straight from `v`, in its fields' order, without the
/// [`Value`] tree [`data`] takes: for a list of a thousand conversations that tree was some
/// 25,000 small map entries, built and dropped at every login.
pub(crate) fn data_from<T: Serialize>(v: &T) -> HResult {
    serde_json::value::to_raw_value(v)
        .map(Reply::Raw)
        .map_err(|e| CodeError::internal(format!("serialising the reply: {e}")))
}

/// A list as the Go server writes it, for [`data_from`] replies: `None` (`null`) when empty.
pub(crate) fn nullable<T>(v: &[T]) -> Option<&[T]> {
    (!v.is_empty()).then_some(v)
}

pub(crate) use openim_protocol::api::common::Pagination;

/// Server-side paging with the upstream rules.
pub(crate) trait Paginate {
    /// Validates (pageNumber ≥ 1) and slices; showNumber ≤ 0 gives an empty page.
    fn apply<T: Clone>(&self, items: &[T]) -> Result<Vec<T>, CodeError>;
}

impl Paginate for Pagination {
    fn apply<T: Clone>(&self, items: &[T]) -> Result<Vec<T>, CodeError> {
        if self.page_number < 1 {
            return Err(CodeError::args("pageNumber is invalid"));
        }
        if self.show_number <= 0 {
            return Ok(Vec::new());
        }
        let start = (self.page_number as usize - 1).saturating_mul(self.show_number as usize);
        Ok(items
            .iter()
            .skip(start)
            .take(self.show_number as usize)
            .cloned()
            .collect())
    }
}

/// Calls per route path, for tests that check which routes a client used
/// ([`crate::Sandbox::route_hits`]).
#[derive(Debug, Default)]
pub(crate) struct RouteHits(parking_lot::Mutex<std::collections::HashMap<String, u64>>);

impl RouteHits {
    fn hit(&self, path: &str) {
        let mut hits = self.0.lock();
        match hits.get_mut(path) {
            Some(n) => *n += 1,
            None => {
                hits.insert(path.to_owned(), 1);
            }
        }
    }

    /// Calls of `path` so far.
    pub(crate) fn get(&self, path: &str) -> u64 {
        self.0.lock().get(path).copied().unwrap_or(0)
    }
}

pub(crate) fn router(inner: Arc<Inner>) -> Router {
    Router::new().fallback(entry).with_state(inner)
}

fn cors(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert("Access-Control-Allow-Origin", HeaderValue::from_static("*"));
    h.insert(
        "Access-Control-Allow-Methods",
        HeaderValue::from_static("*"),
    );
    h.insert(
        "Access-Control-Allow-Headers",
        HeaderValue::from_static("*"),
    );
    h.insert("Access-Control-Max-Age", HeaderValue::from_static("172800"));
    h.insert(
        "Access-Control-Allow-Credentials",
        HeaderValue::from_static("false"),
    );
}

fn envelope(result: HResult, status: StatusCode) -> Response {
    use openim_protocol::api::ApiResponse;
    let body: ApiResponse<Value> = match result {
        Ok(Reply::Raw(raw)) => {
            // the envelope ApiResponse writes, around data serialised already
            const HEAD: &str = r#"{"errCode":0,"errMsg":"","errDlt":"","data":"#;
            let raw = raw.get();
            let mut text = String::with_capacity(HEAD.len() + raw.len() + 1);
            text.push_str(HEAD);
            text.push_str(raw);
            text.push('}');
            return json_response(status, text);
        }
        Ok(Reply::Data(d)) => ApiResponse::ok(d),
        Ok(Reply::Empty) => ApiResponse {
            err_code: 0,
            err_msg: String::new(),
            err_dlt: String::new(),
            data: None,
        },
        Err(e) => ApiResponse::error(e.code, e.msg, e.dlt),
    };
    let text = serde_json::to_string(&body).unwrap_or_else(|_| {
        r#"{"errCode":500,"errMsg":"ServerInternalError","errDlt":""}"#.to_string()
    });
    json_response(status, text)
}

fn json_response(status: StatusCode, text: String) -> Response {
    let mut resp = (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        text,
    )
        .into_response();
    cors(&mut resp);
    resp
}

/// Largest request body outside part uploads (axum's default).
const DEFAULT_BODY_LIMIT: usize = 2 * 1024 * 1024;

const STRICT_ROUTES: &[&str] = &[
    "/msg/send_msg",
    "/msg/batch_send_msg",
    "/msg/send_business_notification",
    "/user/get_users_online_token_detail",
];

async fn entry(
    State(inner): State<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    if method == Method::OPTIONS {
        let mut r = (StatusCode::OK, "\"Options Request!\"").into_response();
        cors(&mut r);
        return r;
    }
    // A signed part URL takes a whole 5 MiB part; everything else keeps axum's 2 MB default.
    let limit = if method == Method::PUT && uri.path().starts_with(object::UPLOAD_PATH) {
        usize::try_from(object::PART_SIZE).unwrap_or(usize::MAX)
    } else {
        DEFAULT_BODY_LIMIT
    };
    let body: Bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Failed to buffer the request body: length limit exceeded",
            )
                .into_response();
        }
    };
    // The object store's signed part URLs and object URLs need no token (like presigned URLs).
    if method == Method::PUT && uri.path().starts_with(object::UPLOAD_PATH) {
        let mut r = object::put_part(&inner.objects, uri.path(), uri.query().unwrap_or(""), body);
        cors(&mut r);
        return r;
    }
    if method == Method::GET && uri.path().starts_with(object::DOWNLOAD_PATH) {
        let query = uri.query().unwrap_or("");
        let mut r = object::download_object(&inner.objects, uri.path(), query);
        cors(&mut r);
        return r;
    }
    if method == Method::GET && uri.path().starts_with(object::OBJECT_PATH) {
        let base_url = base_url(&inner, &headers);
        let query = uri.query().unwrap_or("");
        let mut r = object::redirect_object(&inner.objects, &base_url, uri.path(), query);
        cors(&mut r);
        return r;
    }
    if method != Method::POST {
        return (StatusCode::NOT_FOUND, "404 page not found").into_response();
    }
    let path = uri.path().to_string();
    inner.route_hits.hit(&path);
    let op = headers
        .get("operationID")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if op.is_empty() {
        return envelope(
            Err(CodeError::args("header must have operationID")),
            StatusCode::OK,
        );
    }
    let whitelisted =
        path.starts_with("/auth/get_admin_token") || path.starts_with("/auth/parse_token");
    let mut user = String::new();
    let mut admin = false;
    if !whitelisted {
        let token = headers
            .get("token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if token.is_empty() {
            return envelope(
                Err(CodeError::args("header must have token")),
                StatusCode::OK,
            );
        }
        match auth::check_token(&inner, token) {
            Ok(c) => {
                admin = inner.is_admin(&c.user_id);
                user = c.user_id;
            }
            Err(e) => return envelope(Err(e), StatusCode::OK),
        }
    }
    inner.faults.pass(crate::faults::Gate::Http, &user).await;
    if let Some(code) = inner.faults.take_route_failure(&path) {
        return envelope(
            Err(CodeError::new(code, "injected failure")),
            StatusCode::OK,
        );
    }
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let protobuf = ct.contains("application/x-protobuf") || ct.contains("application/protobuf");
    if path.starts_with("/jssdk/")
        && !protobuf
        && !ct.is_empty()
        && !ct.contains("application/json")
    {
        return envelope(
            Err(CodeError::args("unsupported content type")),
            StatusCode::OK,
        );
    }
    let ctx = Ctx {
        base_url: base_url(&inner, &headers),
        inner: inner.clone(),
        op,
        user,
        admin,
        protobuf,
    };
    // with a data dir, a change is seen by nobody before it is saved: its pushes are held until
    // then (and so still follow the answer's by the push latency for the caller)
    let hold = inner.saved.is_some() && waits_for_save(&path);
    let (result, held) = if hold {
        crate::push::holding(dispatch(&ctx, &path, &body)).await
    } else {
        (dispatch(&ctx, &path, &body).await, Vec::new())
    };
    if result.is_ok() {
        let change = inner.mark_dirty();
        if hold {
            inner.saved(change).await;
        }
    }
    for (deliveries, origin) in held {
        crate::push::deliver(&inner, deliveries, &origin);
    }
    let status = match &result {
        Err(e)
            if e.code == 1001
                && STRICT_ROUTES.contains(&path.as_str())
                && e.msg.starts_with("Error:") =>
        {
            StatusCode::BAD_REQUEST
        }
        _ => StatusCode::OK,
    };
    if matches!(result, Err(ref e) if e.code == 404) {
        return (StatusCode::NOT_FOUND, "404 page not found").into_response();
    }
    envelope(result, status)
}

/// `http(s)://<Host header>`: where the caller reached this server (object URLs point there).
fn base_url(inner: &Inner, headers: &HeaderMap) -> String {
    let scheme = if inner.config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("{scheme}://{host}")
}

/// Whether a successful call to `path` is answered only once the state it changed is saved
/// (with a data dir; [`Inner::saved`]): every route that changes state except the sends, whose
/// messages are in the message log before they are answered. A hard kill then loses nothing
/// that was answered: no user, token, friend or group change, and no version of a sync log is
/// handed out twice (a client holding it would miss the change that reused it).
fn waits_for_save(path: &str) -> bool {
    const SENDS: &[&str] = &[
        "/msg/send_msg",
        "/msg/batch_send_msg",
        "/msg/send_business_notification",
    ];
    // mint tokens, which are stored
    const MINTING_GETS: &[&str] = &["/auth/get_user_token", "/auth/get_admin_token"];
    const READS: &[&str] = &[
        "newest_seq",
        "pull_msg_by_seq",
        "account_check",
        "parse_token",
        "part_limit",
        "part_size",
        "access_url",
        "auth_sign",
        "process_user_command_get",
    ];
    if SENDS.contains(&path) || path.starts_with("/statistics/") || path.starts_with("/jssdk/") {
        return false;
    }
    if MINTING_GETS.contains(&path) {
        return true;
    }
    let name = path.rsplit('/').next().unwrap_or("");
    let read = ["get_", "search", "is_", "check_"]
        .iter()
        .any(|p| name.starts_with(p))
        || READS.contains(&name);
    !read
}

async fn dispatch(ctx: &Ctx, path: &str, body: &[u8]) -> HResult {
    let (area, _) = path
        .trim_start_matches('/')
        .split_once('/')
        .unwrap_or(("", ""));
    match area {
        "auth" => auth::dispatch(ctx, path, body).await,
        "user" => user::dispatch(ctx, path, body).await,
        "friend" => friend::dispatch(ctx, path, body).await,
        "group" => group::dispatch(ctx, path, body).await,
        "msg" => msg::dispatch(ctx, path, body).await,
        "conversation" | "jssdk" => conversation::dispatch(ctx, path, body).await,
        "object" => object::dispatch(ctx, path, body),
        "statistics" => statistics::dispatch(ctx, path, body),
        "third" => match path {
            "/third/fcm_update_token" | "/third/set_app_badge" => Ok(Reply::Empty),
            "/third/logs/upload" | "/third/logs/delete" | "/third/logs/search" => {
                logs::dispatch(ctx, path, body)
            }
            _ => Err(CodeError::with_msg(404, "not found", "")),
        },
        _ => Err(CodeError::with_msg(404, "not found", "")),
    }
}

/// Unknown route inside a known area.
pub(crate) fn not_found() -> HResult {
    Err(CodeError::with_msg(404, "not found", ""))
}

#[cfg(test)]
mod tests {
    use super::waits_for_save;

    #[test]
    fn changes_wait_for_their_save_reads_and_logged_sends_do_not() {
        for change in [
            "/user/user_register",
            "/auth/get_user_token",
            "/auth/get_admin_token",
            "/auth/force_logout",
            "/friend/add_friend",
            "/friend/import_friend",
            "/group/create_group",
            "/group/mute_group_member",
            "/conversation/set_conversations",
            "/msg/mark_conversation_as_read",
            "/msg/revoke_msg",
            "/msg/clear_conversation_msg",
            "/user/update_user_info_ex",
        ] {
            assert!(waits_for_save(change), "{change}");
        }
        for no_wait in [
            "/msg/send_msg",
            "/msg/batch_send_msg",
            "/msg/send_business_notification",
            "/msg/newest_seq",
            "/msg/pull_msg_by_seq",
            "/msg/search_msg",
            "/msg/check_msg_is_send_success",
            "/friend/get_friend_list",
            "/friend/is_friend",
            "/group/get_groups_info",
            "/conversation/get_incremental_conversations",
            "/jssdk/get_conversations",
            "/user/account_check",
            "/auth/parse_token",
            "/statistics/user/register",
            "/third/logs/search",
        ] {
            assert!(!waits_for_save(no_wait), "{no_wait}");
        }
    }
}
