//! `/object/*`: the multipart upload the JS client uses for pictures, voice, video and
//! files (http-api.md §5.6), with an object store standing in for MinIO.
//!
//! Flow: `part_size` → `initiate_multipart_upload` (answers the signed part URLs, or at
//! once the URL of identical content already stored, by hash) → one `PUT` per part to
//! the signed URL (no token, as with a presigned URL) → `complete_multipart_upload`
//! (parts given as their MD5 hex digests, checked) → `GET /object/<name>` answers 302 to a
//! signed download URL (`/object-download/<name>?expires=…&signature=…`, as upstream redirects
//! to MinIO's presigned URL; `/object/access_url` answers the same URL), which serves it.
//! Parts are 5 MiB, as MinIO's part size for anything under 48 GiB (the request's own
//! `partSize` is ignored, as upstream does). Differences from upstream, on purpose: objects
//! are limited to 64 MiB, and an image's `type=image&width=…` query is not turned into a
//! thumbnail (the object itself is served). The signing key is the process's own, so download
//! URLs handed out before a restart stop working after it, like presigned URLs under a
//! rotated key; `/object/<name>` keeps working.
//!
//! With a data dir, completed objects are kept in its database (a tree of their own, written
//! before `complete_multipart_upload` answers) and served from there after a restart, like
//! MinIO's bucket; without one they live in memory. Uploads in progress are never kept.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use md5::{Digest, Md5};
use serde_json::{Value, json};

use super::{Ctx, HResult, data, parse};
use crate::error::CodeError;
use crate::state::now_ms;

/// Size of every part but the last (MinIO's minimum part size, its answer below 48 GiB).
pub(crate) const PART_SIZE: i64 = 5 * 1024 * 1024;
/// Largest part a client may be told to use (as upstream reports it).
const MAX_PART_SIZE: i64 = 5 * 1024 * 1024 * 1024;
/// Most parts per upload.
const MAX_PARTS: i64 = 10_000;
/// Largest object the sandbox keeps.
const MAX_OBJECT_SIZE: i64 = 64 * 1024 * 1024;
/// All objects together, so a client cannot exhaust the sandbox's memory.
const MAX_STORED_BYTES: usize = 256 * 1024 * 1024;
/// Path prefix of the signed part URLs.
pub(crate) const UPLOAD_PATH: &str = "/object-upload/";
/// Path prefix of stored objects (answered with a redirect to a signed download URL).
pub(crate) const OBJECT_PATH: &str = "/object/";
/// Path prefix of the signed download URLs.
pub(crate) const DOWNLOAD_PATH: &str = "/object-download/";
/// How long a signed download URL is valid, ms.
const DOWNLOAD_EXPIRY_MS: i64 = 24 * 60 * 60 * 1000;
/// How long an upload may take, ms.
const UPLOAD_EXPIRY_MS: i64 = 24 * 60 * 60 * 1000;

/// Uploads in progress and stored objects, and the key that signs download URLs.
pub(crate) struct ObjectStore(parking_lot::Mutex<Objects>, SigningKey);

impl Default for ObjectStore {
    fn default() -> ObjectStore {
        ObjectStore(parking_lot::Mutex::default(), SigningKey::random())
    }
}

/// Signs download URLs (HMAC-SHA256 of the object name and the expiry); random per process.
struct SigningKey([u8; 32]);

impl SigningKey {
    fn random() -> SigningKey {
        SigningKey(rand::random())
    }

    /// The hex signature of `name` valid until `expires` (ms).
    fn sign(&self, name: &str, expires: i64) -> String {
        use hmac::{Hmac, Mac};
        // A 32-byte key is always accepted; the fallback only keeps this total.
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(&self.0) else {
            return String::new();
        };
        mac.update(name.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// Whether `signature` is this key's for `name` and `expires` (compared in constant time).
    fn verify(&self, name: &str, expires: i64, signature: &str) -> bool {
        let expected = self.sign(name, expires);
        !expected.is_empty()
            && expected.len() == signature.len()
            && expected
                .bytes()
                .zip(signature.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

impl ObjectStore {
    /// A store persisting completed objects in `tree` (the data dir's database), with the
    /// objects already there. A record that does not decode is skipped with a warning.
    pub(crate) fn open(tree: sled::Tree) -> ObjectStore {
        let mut o = Objects::default();
        for entry in tree.iter() {
            let (key, value) = match entry {
                Ok(kv) => kv,
                Err(e) => {
                    tracing::warn!(error = %e, "reading the stored objects failed");
                    break;
                }
            };
            let name = String::from_utf8_lossy(&key).into_owned();
            let Some((meta, data)) = decode_record(&value) else {
                tracing::warn!(object = %name, "skipping a stored object that does not decode");
                continue;
            };
            o.stored_bytes += data.len();
            let size = i64::try_from(data.len()).unwrap_or(i64::MAX);
            o.by_hash.insert((meta.hash.clone(), size), name.clone());
            o.objects.insert(
                name,
                Object {
                    content_type: meta.content_type,
                    size: data.len(),
                    data: None,
                },
            );
        }
        o.disk = Some(tree);
        ObjectStore(parking_lot::Mutex::new(o), SigningKey::random())
    }

    /// Lets go of the database (at shutdown, so that the data dir can be opened again);
    /// objects completed afterwards stay in memory.
    pub(crate) fn detach(&self) {
        self.0.lock().disk = None;
    }
}

/// What is stored with an object's bytes.
#[derive(serde::Serialize, serde::Deserialize)]
struct ObjectMeta {
    #[serde(rename = "contentType")]
    content_type: String,
    hash: String,
}

/// A persisted object: the metadata's JSON length (4 bytes, big-endian), the JSON, the bytes.
fn encode_record(meta: &ObjectMeta, data: &[u8]) -> Vec<u8> {
    let head = serde_json::to_vec(meta).unwrap_or_default();
    let mut out = Vec::with_capacity(4 + head.len() + data.len());
    out.extend_from_slice(&u32::try_from(head.len()).unwrap_or(0).to_be_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(data);
    out
}

fn decode_record(record: &[u8]) -> Option<(ObjectMeta, &[u8])> {
    let len = u32::from_be_bytes(record.get(..4)?.try_into().ok()?) as usize;
    let head = record.get(4..4usize.checked_add(len)?)?;
    let meta = serde_json::from_slice(head).ok()?;
    Some((meta, &record[4 + len..]))
}

impl std::fmt::Debug for ObjectStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let o = self.0.lock();
        f.debug_struct("ObjectStore")
            .field("uploads", &o.uploads.len())
            .field("objects", &o.objects.len())
            .field("bytes", &o.stored_bytes)
            .finish()
    }
}

#[derive(Default)]
struct Objects {
    uploads: HashMap<String, Upload>,
    objects: HashMap<String, Object>,
    /// (content hash, size) → object name, for deduplicated uploads.
    by_hash: HashMap<(String, i64), String>,
    stored_bytes: usize,
    /// Where completed objects are kept (the data dir's database); `None`: in memory.
    disk: Option<sled::Tree>,
}

struct Upload {
    name: String,
    content_type: String,
    hash: String,
    size: i64,
    part_count: u32,
    parts: BTreeMap<u32, Bytes>,
    expires_at: i64,
}

struct Object {
    content_type: String,
    size: usize,
    /// The bytes, when kept in memory (`None`: read from the database on `GET`).
    data: Option<Bytes>,
}

/// Number of parts of `size` bytes.
fn part_count(size: i64) -> i64 {
    ((size + PART_SIZE - 1) / PART_SIZE).max(1)
}

fn field_str(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn field_i64(v: &Value, key: &str) -> i64 {
    v.get(key)
        .and_then(|x| {
            x.as_i64()
                .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
        })
        .unwrap_or_default()
}

/// Percent-encodes an object name for a URL path (`/` kept).
fn encode_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes a percent-encoded URL path; `None` if malformed or not UTF-8.
fn decode_name(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The `/object/*` JSON routes (token required, checked by the caller).
pub(crate) fn dispatch(ctx: &Ctx, path: &str, body: &[u8]) -> HResult {
    let store = &ctx.inner.objects;
    match path {
        "/object/part_limit" => data(json!({
            "minPartSize": PART_SIZE,
            "maxPartSize": MAX_PART_SIZE,
            "maxNumSize": MAX_PARTS,
        })),
        "/object/part_size" => {
            let v: Value = parse(body)?;
            let size = field_i64(&v, "size");
            if size <= 0 {
                return Err(CodeError::args("size must be greater than 0"));
            }
            if size > MAX_OBJECT_SIZE {
                return Err(CodeError::args(format!(
                    "size {size} is over the sandbox's limit of {MAX_OBJECT_SIZE} bytes"
                )));
            }
            data(json!({"size": PART_SIZE}))
        }
        "/object/initiate_multipart_upload" => {
            let v: Value = parse(body)?;
            let (name, hash) = (field_str(&v, "name"), field_str(&v, "hash"));
            let size = field_i64(&v, "size");
            check_name(ctx, &name)?;
            if size <= 0 || size > MAX_OBJECT_SIZE {
                return Err(CodeError::args(format!("size {size} is invalid")));
            }
            let mut o = store.0.lock();
            let now = now_ms();
            o.uploads.retain(|_, u| u.expires_at > now);
            if let Some(existing) = o.by_hash.get(&(hash.clone(), size))
                && o.objects.contains_key(existing)
            {
                let url = format!("{}{OBJECT_PATH}{}", ctx.base_url, encode_name(existing));
                return data(json!({"url": url, "upload": null}));
            }
            let upload_id = crate::state::random_hex32();
            let count = part_count(size);
            let parts: Vec<Value> = (1..=count)
                .map(|n| json!({"partNumber": n, "url": "", "query": [{"key": "partNumber", "values": [n.to_string()]}], "header": null}))
                .collect();
            let expires_at = now + UPLOAD_EXPIRY_MS;
            o.uploads.insert(
                upload_id.clone(),
                Upload {
                    name,
                    content_type: field_str(&v, "contentType"),
                    hash,
                    size,
                    part_count: u32::try_from(count).unwrap_or(u32::MAX),
                    parts: BTreeMap::new(),
                    expires_at,
                },
            );
            data(json!({
                "url": "",
                "upload": {
                    "uploadID": upload_id,
                    "partSize": PART_SIZE,
                    "sign": {
                        "url": format!("{}{UPLOAD_PATH}{upload_id}", ctx.base_url),
                        "query": null,
                        "header": null,
                        "parts": parts,
                    },
                    "expireTime": expires_at,
                },
            }))
        }
        "/object/auth_sign" => {
            let v: Value = parse(body)?;
            let upload_id = field_str(&v, "uploadID");
            if !store.0.lock().uploads.contains_key(&upload_id) {
                return Err(CodeError::not_found("upload not found"));
            }
            let numbers: Vec<i64> = v
                .get("partNumbers")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_i64).collect())
                .unwrap_or_default();
            let parts: Vec<Value> = numbers
                .iter()
                .map(|n| json!({"partNumber": n, "url": "", "query": [{"key": "partNumber", "values": [n.to_string()]}], "header": null}))
                .collect();
            data(json!({
                "url": format!("{}{UPLOAD_PATH}{upload_id}", ctx.base_url),
                "query": null,
                "header": null,
                "parts": parts,
            }))
        }
        "/object/complete_multipart_upload" => {
            let v: Value = parse(body)?;
            let upload_id = field_str(&v, "uploadID");
            let digests: Vec<String> = v
                .get("parts")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_ascii_lowercase)
                        .collect()
                })
                .unwrap_or_default();
            let mut o = store.0.lock();
            let Some(upload) = o.uploads.get(&upload_id) else {
                return Err(CodeError::not_found("upload not found"));
            };
            check_name(ctx, &upload.name)?;
            if digests.len() != upload.part_count as usize {
                return Err(CodeError::args(format!(
                    "{} parts listed, the upload has {}",
                    digests.len(),
                    upload.part_count
                )));
            }
            let mut joined = Vec::with_capacity(usize::try_from(upload.size).unwrap_or(0));
            for (i, digest) in digests.iter().enumerate() {
                let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
                let Some(part) = upload.parts.get(&number) else {
                    return Err(CodeError::args(format!("part {number} was not uploaded")));
                };
                if hex(&Md5::digest(part)) != *digest {
                    return Err(CodeError::args(format!(
                        "part {number}: MD5 does not match"
                    )));
                }
                joined.extend_from_slice(part);
            }
            if i64::try_from(joined.len()).unwrap_or(i64::MAX) != upload.size {
                return Err(CodeError::new(90007, "upload size mismatch"));
            }
            if o.stored_bytes + joined.len() > MAX_STORED_BYTES {
                return Err(CodeError::args("the sandbox's object store is full"));
            }
            let Some(upload) = o.uploads.remove(&upload_id) else {
                return Err(CodeError::not_found("upload not found"));
            };
            let content_type = match field_str(&v, "contentType") {
                t if t.is_empty() => upload.content_type,
                t => t,
            };
            let size = joined.len();
            let kept = match &o.disk {
                Some(tree) => {
                    let meta = ObjectMeta {
                        content_type: content_type.clone(),
                        hash: upload.hash.clone(),
                    };
                    let record = encode_record(&meta, &joined);
                    let written = tree
                        .insert(upload.name.as_bytes(), record)
                        .and_then(|_| tree.flush().map(|_| ()));
                    if let Err(e) = written {
                        tracing::error!(error = %e, object = %upload.name, "storing an uploaded object failed");
                        return Err(CodeError::internal(format!(
                            "storing the object failed: {e}"
                        )));
                    }
                    None
                }
                None => Some(Bytes::from(joined)),
            };
            o.stored_bytes += size;
            if let Some(old) = o.objects.insert(
                upload.name.clone(),
                Object {
                    content_type,
                    size,
                    data: kept,
                },
            ) {
                o.stored_bytes = o.stored_bytes.saturating_sub(old.size);
            }
            o.by_hash
                .insert((upload.hash, upload.size), upload.name.clone());
            let url = format!("{}{OBJECT_PATH}{}", ctx.base_url, encode_name(&upload.name));
            data(json!({"url": url}))
        }
        "/object/access_url" => {
            let v: Value = parse(body)?;
            let name = field_str(&v, "name");
            check_query_type(v.pointer("/query/type").and_then(Value::as_str))?;
            if !store.0.lock().objects.contains_key(&name) {
                return Err(CodeError::not_found("object not found"));
            }
            let (url, expires) = store.download_url(&ctx.base_url, &name);
            data(json!({"url": url, "expireTime": expires}))
        }
        _ => super::not_found(),
    }
}

/// An access query's `type`: none or `image` (upstream then makes a thumbnail URL; the sandbox
/// serves the object itself); anything else is refused as upstream does.
fn check_query_type(kind: Option<&str>) -> Result<(), CodeError> {
    match kind {
        None | Some("" | "image") => Ok(()),
        Some(_) => Err(CodeError::args("invalid query type")),
    }
}

/// The value of `key` in a URL query (`a=1&b=2`), as written (not percent-decoded).
fn query_param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

/// Object names are `<callerUserID>/...` (admins may use any), never absolute.
fn check_name(ctx: &Ctx, name: &str) -> Result<(), CodeError> {
    if name.is_empty() || name.starts_with('/') {
        return Err(CodeError::args("name is invalid"));
    }
    if !ctx.admin && !name.starts_with(&format!("{}/", ctx.user)) {
        return Err(CodeError::no_permission(format!(
            "object names must start with {}/",
            ctx.user
        )));
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `PUT /object-upload/<uploadID>?partNumber=N`: one part (the signed URL needs no token).
pub(crate) fn put_part(store: &ObjectStore, path: &str, query: &str, body: Bytes) -> Response {
    let upload_id = path.trim_start_matches(UPLOAD_PATH);
    let number = query_param(query, "partNumber").and_then(|v| v.parse::<u32>().ok());
    let mut o = store.0.lock();
    let Some(upload) = o.uploads.get_mut(upload_id) else {
        return (StatusCode::NOT_FOUND, "upload not found").into_response();
    };
    let Some(number) = number.filter(|n| (1..=upload.part_count).contains(n)) else {
        return (StatusCode::BAD_REQUEST, "partNumber is invalid").into_response();
    };
    let expected = if number < upload.part_count {
        PART_SIZE
    } else {
        upload.size - PART_SIZE * i64::from(upload.part_count - 1)
    };
    if i64::try_from(body.len()).unwrap_or(i64::MAX) != expected {
        return (
            StatusCode::BAD_REQUEST,
            format!("part {number} must be {expected} bytes"),
        )
            .into_response();
    }
    let etag = format!("\"{}\"", hex(&Md5::digest(&body)));
    upload.parts.insert(number, body);
    let mut resp = StatusCode::OK.into_response();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        resp.headers_mut().insert("ETag", v);
    }
    resp
}

impl ObjectStore {
    /// A signed download URL of `name` under `base_url` and its expiry (ms).
    fn download_url(&self, base_url: &str, name: &str) -> (String, i64) {
        let expires = now_ms() + DOWNLOAD_EXPIRY_MS;
        let signature = self.1.sign(name, expires);
        let url = format!(
            "{base_url}{DOWNLOAD_PATH}{}?expires={expires}&signature={signature}",
            encode_name(name)
        );
        (url, expires)
    }
}

/// `GET /object/<name>`: 302 to a signed download URL of the object (upstream redirects to
/// the storage's presigned URL), or 400/404 with a plain-text body.
pub(crate) fn redirect_object(
    store: &ObjectStore,
    base_url: &str,
    path: &str,
    query: &str,
) -> Response {
    let Some(name) = decode_name(path.trim_start_matches(OBJECT_PATH)) else {
        return (StatusCode::BAD_REQUEST, "bad object name").into_response();
    };
    if name.is_empty() {
        return (StatusCode::BAD_REQUEST, "name is empty").into_response();
    }
    // The URL's query is the access query (`type=image&width=…`), as upstream reads it.
    let kind = query_param(query, "type");
    if let Err(e) = check_query_type(kind) {
        return (StatusCode::BAD_REQUEST, e.msg).into_response();
    }
    if !store.0.lock().objects.contains_key(&name) {
        return (StatusCode::NOT_FOUND, "object not found").into_response();
    }
    let (url, _) = store.download_url(base_url, &name);
    match HeaderValue::from_str(&url) {
        Ok(location) => {
            let mut resp = StatusCode::FOUND.into_response();
            resp.headers_mut()
                .insert(axum::http::header::LOCATION, location);
            resp
        }
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "bad download URL").into_response(),
    }
}

/// `GET /object-download/<name>?expires=…&signature=…`: the stored bytes with their content
/// type, if the URL is signed by this sandbox and not expired (403 otherwise, as storage
/// answers a bad presigned URL).
pub(crate) fn download_object(store: &ObjectStore, path: &str, query: &str) -> Response {
    let Some(name) = decode_name(path.trim_start_matches(DOWNLOAD_PATH)) else {
        return (StatusCode::BAD_REQUEST, "bad object name").into_response();
    };
    let param = |key| query_param(query, key);
    let expires = param("expires").and_then(|v| v.parse::<i64>().ok());
    let signed = match (expires, param("signature")) {
        (Some(expires), Some(signature)) => store.1.verify(&name, expires, signature),
        _ => false,
    };
    if !signed {
        return (StatusCode::FORBIDDEN, "signature does not match").into_response();
    }
    if expires.is_some_and(|e| e < now_ms()) {
        return (StatusCode::FORBIDDEN, "request has expired").into_response();
    }
    let (content_type, data, disk) = {
        let o = store.0.lock();
        match o.objects.get(&name) {
            Some(obj) => (obj.content_type.clone(), obj.data.clone(), o.disk.clone()),
            None => return (StatusCode::NOT_FOUND, "object not found").into_response(),
        }
    };
    let data = match (data, disk) {
        (Some(bytes), _) => bytes,
        (None, Some(tree)) => match tree.get(name.as_bytes()) {
            Ok(Some(record)) => match decode_record(&record) {
                Some((_, bytes)) => Bytes::copy_from_slice(bytes),
                None => {
                    return (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "stored object is corrupt",
                    )
                        .into_response();
                }
            },
            Ok(None) => return (StatusCode::NOT_FOUND, "object not found").into_response(),
            Err(e) => {
                tracing::error!(error = %e, object = %name, "reading a stored object failed");
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "reading the object failed",
                )
                    .into_response();
            }
        },
        // Detached at shutdown: the bytes are no longer reachable.
        (None, None) => {
            return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
        }
    };
    let ct = HeaderValue::from_str(&content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let mut resp = (StatusCode::OK, data).into_response();
    resp.headers_mut()
        .insert(axum::http::header::CONTENT_TYPE, ct);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_urls_expire_and_are_bound_to_the_key() {
        let store = ObjectStore::default();
        store.0.lock().objects.insert(
            "u1/a.png".into(),
            Object {
                content_type: "image/png".into(),
                size: 3,
                data: Some(Bytes::from_static(b"png")),
            },
        );
        let path = format!("{DOWNLOAD_PATH}u1/a.png");
        let query = |expires: i64, key: &SigningKey| {
            format!(
                "expires={expires}&signature={}",
                key.sign("u1/a.png", expires)
            )
        };
        let fresh = now_ms() + 60_000;
        assert_eq!(
            download_object(&store, &path, &query(fresh, &store.1)).status(),
            StatusCode::OK
        );
        // Signed, but past its expiry.
        let past = now_ms() - 1;
        assert_eq!(
            download_object(&store, &path, &query(past, &store.1)).status(),
            StatusCode::FORBIDDEN
        );
        // Another process's key (a URL from before a restart).
        assert_eq!(
            download_object(&store, &path, &query(fresh, &SigningKey::random())).status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            download_object(&store, &path, "expires=x&signature=").status(),
            StatusCode::FORBIDDEN
        );
    }

    #[test]
    fn names_round_trip_through_urls() {
        for name in ["u1/a.png", "u1/with space & ü.txt", "u1/x%y"] {
            assert_eq!(decode_name(&encode_name(name)).as_deref(), Some(name));
        }
        assert_eq!(encode_name("u1/a b.png"), "u1/a%20b.png");
        assert_eq!(decode_name("u1/%zz"), None);
    }

    #[test]
    fn records_round_trip_and_bad_ones_are_refused() {
        let meta = ObjectMeta {
            content_type: "image/png".into(),
            hash: "abc".into(),
        };
        let record = encode_record(&meta, b"\x00\x01bytes");
        let (back, data) = decode_record(&record).expect("decodes");
        assert_eq!(
            (back.content_type.as_str(), back.hash.as_str()),
            ("image/png", "abc")
        );
        assert_eq!(data, b"\x00\x01bytes");
        assert!(decode_record(b"").is_none());
        assert!(
            decode_record(&[0, 0, 0, 200, b'{']).is_none(),
            "length past the end"
        );
        assert!(decode_record(&[0, 0, 0, 1, b'{']).is_none(), "not JSON");
    }

    #[test]
    fn parts_cover_the_size() {
        assert_eq!(part_count(1), 1);
        assert_eq!(part_count(PART_SIZE), 1);
        assert_eq!(part_count(PART_SIZE + 1), 2);
    }
}
