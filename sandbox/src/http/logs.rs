//! `/third/logs/*`: client log files (the SDKs' "upload logs": the files go to the object
//! store, their URLs are recorded here), searched and deleted by the admin console.

use openim_protocol::api::third::{DeleteLogsReq, LogInfo, SearchLogsReq, UploadLogsReq};
use serde_json::{Value, json};

use super::{Ctx, HResult, Paginate, Reply, data, not_found, parse};
use crate::error::CodeError;
use crate::state::now_ms;

/// 2019-01-01T00:00:00Z, ms: where a search without a time range starts (as upstream).
const SEARCH_FROM_MS: i64 = 1_546_300_800_000;

/// Platform names as upstream records them (protocol `PlatformID2Name`; unknown IDs: "").
fn platform_name(id: i32) -> &'static str {
    match id {
        1 => "IOS",
        2 => "Android",
        3 => "Windows",
        4 => "OSX",
        5 => "Web",
        6 => "MiniWeb",
        7 => "Linux",
        8 => "APad",
        9 => "IPad",
        10 => "Admin",
        _ => "",
    }
}

/// A random 10-digit log ID that does not start with 0.
fn log_id() -> String {
    let first = rand::random::<u8>() % 9 + 1;
    let mut id = first.to_string();
    for _ in 0..9 {
        id.push(char::from(b'0' + rand::random::<u8>() % 10));
    }
    id
}

/// A log as Go writes it (zero fields left out).
fn log_json(l: &LogInfo, nickname: &str) -> Value {
    let mut v = serde_json::Map::new();
    for (key, value) in [
        ("userID", l.user_id.as_str()),
        ("platform", &l.platform),
        ("url", &l.url),
        ("nickname", nickname),
        ("logID", &l.log_id),
        ("filename", &l.filename),
        ("systemType", &l.system_type),
        ("ex", &l.ex),
        ("version", &l.version),
    ] {
        if !value.is_empty() {
            v.insert(key.into(), json!(value));
        }
    }
    if l.create_time != 0 {
        v.insert("createTime".into(), json!(l.create_time));
    }
    Value::Object(v)
}

pub(crate) fn dispatch(ctx: &Ctx, path: &str, body: &[u8]) -> HResult {
    let inner = &ctx.inner;
    match path {
        // Any user: one record per file, under the caller's ID (the app framework is kept
        // upstream but never shown; the system type is never set).
        "/third/logs/upload" => {
            let r: UploadLogsReq = parse(body)?;
            let mut st = inner.state.lock();
            for file in &r.file_urls {
                let mut id = log_id();
                while st.client_logs.iter().any(|l| l.log_id == id) {
                    id = log_id();
                }
                st.client_logs.push(LogInfo {
                    user_id: ctx.user.clone(),
                    platform: platform_name(r.platform).to_owned(),
                    url: file.url.clone(),
                    create_time: now_ms(),
                    nickname: String::new(),
                    log_id: id,
                    filename: file.filename.clone(),
                    system_type: String::new(),
                    ex: r.ex.clone(),
                    version: r.version.clone(),
                });
            }
            Ok(Reply::Empty)
        }
        // Admin: every listed ID must exist (1004 naming none deleted otherwise).
        "/third/logs/delete" => {
            ctx.admin_only()?;
            let r: DeleteLogsReq = parse(body)?;
            let mut st = inner.state.lock();
            let missing: Vec<&String> = r
                .log_ids
                .iter()
                .filter(|id| !st.client_logs.iter().any(|l| &l.log_id == *id))
                .collect();
            if !missing.is_empty() {
                return Err(CodeError::not_found(format!(
                    "logIDs not found: {missing:?}"
                )));
            }
            st.client_logs.retain(|l| !r.log_ids.contains(&l.log_id));
            Ok(Reply::Empty)
        }
        // Admin: by upload time (both 0: since 2019), the keyword matched within the
        // uploader's ID (upstream: a regex), newest first, with the uploader's nickname.
        "/third/logs/search" => {
            ctx.admin_only()?;
            let r: SearchLogsReq = parse(body)?;
            if r.start_time > r.end_time {
                return Err(CodeError::args("startTime>endTime"));
            }
            let (from, to) = if r.start_time == 0 && r.end_time == 0 {
                (SEARCH_FROM_MS, now_ms())
            } else {
                (r.start_time, r.end_time)
            };
            let st = inner.state.lock();
            let mut hits: Vec<&LogInfo> = st
                .client_logs
                .iter()
                .rev() // the later upload first within one millisecond
                .filter(|l| (from..=to).contains(&l.create_time))
                .filter(|l| r.keyword.is_empty() || l.user_id.contains(&r.keyword))
                .collect();
            hits.sort_by_key(|l| std::cmp::Reverse(l.create_time));
            let total = hits.len();
            let page = match &r.pagination {
                Some(p) => p.apply(&hits)?,
                None => hits,
            };
            let infos: Vec<Value> = page
                .iter()
                .map(|l| log_json(l, &st.nickname(&l.user_id)))
                .collect();
            let mut out = serde_json::Map::new();
            if !infos.is_empty() {
                out.insert("logsInfos".into(), Value::Array(infos));
            }
            if total != 0 {
                out.insert("total".into(), json!(total));
            }
            data(Value::Object(out))
        }
        _ => not_found(),
    }
}
