//! Tests of the HTTP API types against JSON written as the Go server writes it.

mod auth_user;
mod conversation;
mod convert;
mod envelope;
mod every_route;
mod friend;
mod group;
mod js_client;
mod msg;
mod routes;
mod third_jssdk;
mod typed;
mod webhook;

use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

/// Decodes `json` into `T`, encodes it back and checks the result equals `json` as a JSON value
/// (same keys, same values, same `null`s). Returns the decoded value.
#[track_caller]
pub(crate) fn round_trip<T: Serialize + DeserializeOwned>(json: &str) -> T {
    let expected: Value = serde_json::from_str(json).expect("test JSON is valid");
    let decoded: T = serde_json::from_str(json).expect("decodes");
    let encoded = serde_json::to_value(&decoded).expect("encodes");
    assert_eq!(encoded, expected, "re-encoded JSON differs");
    decoded
}

/// Asserts that decoding `json` as `T` fails with a serde error (and does not panic).
#[track_caller]
pub(crate) fn rejects<T: DeserializeOwned + std::fmt::Debug>(json: &str) {
    let result = serde_json::from_str::<T>(json);
    assert!(
        result.is_err(),
        "expected a decode error for {json}, got {result:?}"
    );
}

/// The sorted key set of a JSON object.
pub(crate) fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .expect("a JSON object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}
