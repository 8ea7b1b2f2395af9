//! Regression inputs for the decoders the fuzz targets in `fuzz/` cover, run on every
//! `cargo test`. The fuzz runs documented in docs/reliability.md found no crash; each input
//! here is a known-hard case (resource exhaustion, recursion, overflow, truncation) checked
//! through the public API: a typed error or a sane value, never a panic. A crash found by a
//! future fuzz run goes here with its artifact bytes.

use std::io::Write;
use std::time::Duration;

use openim_bot::runtime::{Args, FromArg, Mention, Rest, parse_duration};
use openim_protocol::content::Content;
use openim_protocol::envelope::{ServerTextFrame, WsRequest, WsResponse};
use openim_protocol::error::ProtocolError;
use openim_protocol::pb::sdkws::{MsgData, PushMessages};
use openim_protocol::tips::Tips;
use prost::Message as _;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

#[test]
fn gzip_bomb_frame_is_refused_not_inflated_without_bound() {
    // 80 MiB of zeros compress to ~80 KB: above the 64 MiB inflate cap.
    let bomb = gzip(&vec![0u8; 80 * 1024 * 1024]);
    assert!(bomb.len() < 200 * 1024);
    let err = WsResponse::decode_frame(&bomb, true).expect_err("bomb refused");
    println!("FUZZ-REGRESSION gzip bomb ({} bytes) -> {err}", bomb.len());
    let err = WsRequest::decode_frame(&bomb, true).expect_err("bomb refused");
    assert!(!err.to_string().is_empty());
}

#[test]
fn deeply_nested_json_is_an_error_not_a_stack_overflow() {
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let envelope = format!(
        r#"{{"reqIdentifier":2001,"data":null,"errMsg":{}}}"#,
        deep(100_000)
    );
    assert!(WsResponse::from_json(envelope.as_bytes()).is_err());
    assert!(
        ServerTextFrame::parse(&format!(r#"{{"type":"ping","body":{}}}"#, deep(100_000))).is_err()
    );
    let content = format!(r#"{{"text":"hi","quoteMessage":{}}}"#, deep(100_000));
    assert!(Content::parse(114, content.as_bytes()).is_err());
    let custom = format!(r#"{{"data":{}}}"#, deep(100_000));
    assert!(Content::parse(110, custom.as_bytes()).is_err());
    let tips = serde_json::json!({ "detail": deep(100_000) }).to_string();
    assert!(Tips::parse(1501, tips.as_bytes()).is_err());
    // The framework never fails: undecodable content is kept raw.
    let kept = openim_bot::content::parse_lossless(114, content.as_bytes());
    assert!(matches!(kept, Content::Unknown { .. }));
}

#[test]
fn protobuf_with_lying_lengths_or_truncation_is_a_decode_error() {
    // A length prefix of 2^63 for the first string field.
    let lying = [0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
    assert!(MsgData::decode(&lying[..]).is_err());
    assert!(PushMessages::decode(&lying[..]).is_err());
    // Truncated varint.
    assert!(MsgData::decode(&[0x70, 0xff][..]).is_err());
    // PushMessages map entry whose value announces more bytes than present.
    assert!(PushMessages::decode(&[0x0a, 0x05, 0x0a, 0x01, b'c', 0x12, 0x40][..]).is_err());
    // Unknown fields with every wire type are skipped, not fatal.
    let mut unknown = vec![0xf8, 0x7f, 0x01]; // field 2047 varint
    unknown.extend([0xfd, 0x7f, 1, 2, 3, 4]); // field 2047 fixed32
    assert!(MsgData::decode(&unknown[..]).is_ok());
    // Through the envelope helper: a typed protobuf error.
    let resp = WsResponse {
        data: lying.to_vec(),
        ..Default::default()
    };
    let err = resp.payload::<PushMessages>().expect_err("lying length");
    assert!(matches!(err, ProtocolError::Protobuf { .. }), "{err:?}");
}

#[test]
fn command_arguments_with_edge_cases_parse_or_fail_typed() {
    let mut args = Args::with_mentions(r#""unclosed quote"#, vec![]);
    assert!(String::from_args(&mut args).is_err());
    // Multi-byte and Unicode whitespace do not split inside a char.
    let mut args = Args::with_mentions("ünï\u{3000}cødé\u{00a0}x", vec![]);
    while let Ok(Some(w)) = args.next_word() {
        assert!(!w.is_empty());
    }
    // A lone "@" with no mention list is not a user.
    let mut args = Args::with_mentions("@", vec![]);
    let m = Mention::from_args(&mut args);
    assert!(m.is_err() || m.is_ok_and(|m| !m.user_id().is_empty()));
    // Numbers that overflow.
    let mut args = Args::with_mentions("99999999999999999999999999999999999999999", vec![]);
    assert!(i64::from_args(&mut args).is_err());
    let mut args = Args::with_mentions("256", vec![]);
    assert!(u8::from_args(&mut args).is_err());
    // Durations that overflow are refused, not wrapped.
    for d in [
        "99999999999999999999d",
        "18446744073709551615s 1s",
        "1e308s",
        "-1s",
    ] {
        assert_eq!(parse_duration(d), None, "{d}");
    }
    assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
    let mut args = Args::with_mentions("   ", vec![]);
    assert_eq!(Rest::from_args(&mut args).map(|r| r.0), Ok(String::new()));
}

#[test]
fn huge_numbers_and_types_in_session_config_are_typed_errors() {
    use figment::Figment;
    use figment::providers::{Format, Toml};
    let base = "api_addr='http://h'\nws_addr='ws://h'\nuser_id='b'\ntoken='t'\n";
    for extra in [
        "platform=99999999999999999999",
        "request_timeout_ms=-5",
        "channel_capacity=1e9",
        "data_dir=[1,2]",
        "user_id=''",
    ] {
        let r = openim_bot::SessionConfig::from_figment(
            Figment::new().merge(Toml::string(&format!("{base}{extra}"))),
        );
        assert!(r.is_err(), "{extra}: {r:?}");
    }
}

#[test]
fn client_frame_decoder_refuses_bombs_deep_json_and_lying_payloads() {
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let decode = openim_bot::__fuzz_decode_frame;
    // The decoder the connection runs (fuzz target `client_frame`).
    let bomb = gzip(&vec![b' '; 80 * 1024 * 1024]);
    let deep = format!(
        r#"{{"reqIdentifier":2001,"errMsg":{}{},"data":""}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let lying_push = format!(
        r#"{{"reqIdentifier":2001,"msgIncr":"","data":"{}"}}"#,
        b64(&[0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])
    );
    let cases: [(&str, &[u8]); 5] = [
        ("80 MiB gzip bomb", &bomb),
        ("100,000-deep JSON", deep.as_bytes()),
        ("push with a 2^63 protobuf length", lying_push.as_bytes()),
        (
            "push with invalid base64",
            br#"{"reqIdentifier":2001,"data":"%%%"}"#,
        ),
        ("truncated gzip", &[0x1f, 0x8b, 8, 0, 0]),
    ];
    for (what, frame) in cases {
        let ok = decode(frame);
        println!("FUZZ-REGRESSION client frame: {what} -> decoded={ok}");
        assert!(!ok, "{what} must not decode");
    }
    let good = format!(
        r#"{{"reqIdentifier":1001,"msgIncr":"1","errCode":0,"data":"{}"}}"#,
        b64(b"")
    );
    assert!(decode(good.as_bytes()));
    assert!(decode(&gzip(good.as_bytes())));
}
