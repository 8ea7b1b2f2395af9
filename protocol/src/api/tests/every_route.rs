//! The same checks for every route's request and reply type, driven by the route table.

use std::fmt::Debug;

use proptest::prelude::*;
use serde::{Serialize, de::DeserializeOwned};

use crate::api::route::RouteVisitor;
use crate::api::{ApiReply, ApiResponse, ApiRoute, decode_body, routes};

/// Request side: `{}` and `null` bodies are all-zero requests, the zero request survives a round
/// trip, and non-object bodies are errors.
struct RequestChecks {
    visited: usize,
}

impl RouteVisitor for RequestChecks {
    fn visit<R>(&mut self)
    where
        R: ApiRoute,
        R::Req: PartialEq + Debug + Default + Clone,
        R::Resp: PartialEq + Debug + Clone,
    {
        self.visited += 1;
        let from_empty: R::Req = decode_body(b"{}").unwrap_or_else(|e| panic!("{}: {e}", R::PATH));
        assert_eq!(from_empty, R::Req::default(), "{}", R::PATH);
        let from_null: R::Req = decode_body(b"null").unwrap();
        assert_eq!(from_null, R::Req::default(), "{}", R::PATH);
        let json = serde_json::to_vec(&R::Req::default()).unwrap();
        let back: R::Req = decode_body(&json).unwrap();
        assert_eq!(back, R::Req::default(), "{}", R::PATH);
        for bad in [
            &b""[..],
            b"[]",
            b"1",
            b"\"x\"",
            b"true",
            b"{",
            b"{\"a\":}",
            b"{} {}",
        ] {
            assert!(
                decode_body::<R::Req>(bad).is_err(),
                "{} accepted {:?}",
                R::PATH,
                String::from_utf8_lossy(bad)
            );
        }
    }
}

/// Reply side: the zero reply survives the envelope round trip, and a field-less reply has no
/// `data` key.
struct ReplyChecks {
    visited: usize,
}

impl RouteVisitor for ReplyChecks {
    fn visit<R>(&mut self)
    where
        R: ApiRoute,
        R::Req: PartialEq + Debug + Default + Clone,
        R::Resp: PartialEq + Debug + Clone,
    {
        self.visited += 1;
        let envelope = ApiResponse::ok(R::Resp::default());
        let text = serde_json::to_string(&envelope).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["errCode"], 0);
        let omitted = R::Resp::default().omit_from_envelope();
        assert_eq!(value.get("data").is_none(), omitted, "{}: {text}", R::PATH);
        if R::Resp::default().is_null_in_envelope() {
            assert_eq!(value["data"], serde_json::Value::Null, "{}", R::PATH);
        }
        let back: ApiResponse<R::Resp> = serde_json::from_str(&text).unwrap();
        assert_eq!(
            back.into_result().unwrap(),
            R::Resp::default(),
            "{}",
            R::PATH
        );
        let error: ApiResponse<R::Resp> =
            serde_json::from_str(r#"{"errCode":1002,"errMsg":"NoPermissionError","errDlt":""}"#)
                .unwrap();
        assert_eq!(error.into_result().unwrap_err().code, 1002);
    }
}

#[test]
fn every_request_type_follows_the_go_body_rules() {
    let mut checks = RequestChecks { visited: 0 };
    routes::visit_all(&mut checks);
    assert_eq!(checks.visited, routes::all().count());
}

#[test]
fn every_reply_type_round_trips_through_the_envelope() {
    let mut checks = ReplyChecks { visited: 0 };
    routes::visit_all(&mut checks);
    assert_eq!(checks.visited, routes::all().count());
}

/// Decodes `input` as every request and reply type; must never panic.
struct NeverPanics<'a> {
    input: &'a [u8],
}

impl RouteVisitor for NeverPanics<'_> {
    fn visit<R>(&mut self)
    where
        R: ApiRoute,
        R::Req: PartialEq + Debug + Default + Clone,
        R::Resp: PartialEq + Debug + Clone,
    {
        decode_any::<R::Req>(self.input);
        decode_any::<R::Resp>(self.input);
        decode_any::<ApiResponse<R::Resp>>(self.input);
    }
}

fn decode_any<T: DeserializeOwned + Serialize>(input: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<T>(input) {
        // whatever decodes also encodes
        serde_json::to_vec(&value).expect("a decoded value encodes");
    }
}

/// JSON-ish values: objects with API-like keys, arrays, numbers at the i64/u64 edges, strings.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    let key = prop_oneof![
        Just("userID".to_string()),
        Just("groupID".to_string()),
        Just("version".to_string()),
        Just("data".to_string()),
        Just("errCode".to_string()),
        Just("users".to_string()),
        Just("pagination".to_string()),
        Just("Msgs".to_string()),
        Just("respList".to_string()),
        Just("content".to_string()),
        "[a-zA-Z]{1,12}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,16}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        routes::visit_all(&mut NeverPanics { input: &bytes });
    }

    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        let text = serde_json::to_vec(&value).unwrap();
        routes::visit_all(&mut NeverPanics { input: &text });
        let envelope = serde_json::to_vec(&serde_json::json!({"errCode": 0, "data": value})).unwrap();
        routes::visit_all(&mut NeverPanics { input: &envelope });
    }
}
