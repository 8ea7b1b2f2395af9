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

// ------------------------------------------------ received batches vs a prost-derived mirror

/// A prost-derived mirror of `PullMsgs` (the crate's own decoder is hand-written).
#[derive(Clone, PartialEq, prost::Message)]
struct MirrorPullMsgs {
    #[prost(message, repeated, tag = "1")]
    msgs: Vec<MsgData>,
    #[prost(bool, tag = "2")]
    is_end: bool,
    #[prost(int64, tag = "3")]
    end_seq: i64,
}

/// A prost-derived mirror of `PullMessageBySeqsResp` / `PushMessages`.
#[derive(Clone, PartialEq, prost::Message)]
struct MirrorBatch {
    #[prost(btree_map = "string, message", tag = "1")]
    msgs: std::collections::BTreeMap<String, MirrorPullMsgs>,
    #[prost(btree_map = "string, message", tag = "2")]
    notification_msgs: std::collections::BTreeMap<String, MirrorPullMsgs>,
}

/// xorshift64*: a fixed, dependency-free random sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes_field(out: &mut Vec<u8>, tag: u32, bytes: &[u8]) {
    put_varint(out, u64::from(tag << 3 | 2));
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

const USERS: &[&str] = &["u1", "u2", "bot", "", "ünï_名", "a_b"];
const GROUPS: &[&str] = &["", "g1", "g2"];
const NAMES: &[&str] = &["", "Alice", "Bob", "名前"];
const FACES: &[&str] = &["", "http://x/a.png"];
const KEYS: &[&str] = &["si_u1_u2", "sg_g1", "n_u1_u2", "", "si_bot_u1", "sn_a_b"];

fn random_msg(rng: &mut Rng) -> MsgData {
    let mut m = MsgData {
        send_id: rng.pick(USERS).into(),
        recv_id: rng.pick(USERS).into(),
        group_id: rng.pick(GROUPS).into(),
        client_msg_id: format!("{:x}", rng.next()),
        server_msg_id: if rng.chance(50) {
            format!("{:x}", rng.next())
        } else {
            String::new()
        },
        sender_platform_id: rng.below(12) as i32 - 1,
        sender_nickname: rng.pick(NAMES).into(),
        sender_face_url: rng.pick(FACES).into(),
        session_type: [1, 3, 4, 0][rng.below(4)],
        msg_from: [100, 200][rng.below(2)],
        content_type: [101, 1501, 2101, 0, 110][rng.below(5)],
        content: format!("{{\"content\":\"t{}\"}}", rng.next()).into_bytes(),
        seq: [1, 2, 3, 0, -1, i64::MAX, rng.next() as i64][rng.below(7)],
        send_time: rng.next() as i64 >> 20,
        create_time: rng.next() as i64 >> 20,
        status: rng.below(4) as i32,
        is_read: rng.chance(30),
        ..MsgData::default()
    };
    for _ in 0..rng.below(3) {
        m.options.insert(
            rng.pick(&["history", "unreadCount", "offlinePush"]).into(),
            rng.chance(50),
        );
    }
    for _ in 0..rng.below(3) {
        m.at_user_id_list.push(rng.pick(USERS).into());
    }
    if rng.chance(20) {
        m.offline_push_info = Some(openim_protocol::pb::sdkws::OfflinePushInfo {
            title: "t".into(),
            ..Default::default()
        });
    }
    if rng.chance(20) {
        m.ex = "ex".into();
        m.attached_info = "{}".into();
    }
    m
}

/// One encoded `MsgData`, sometimes followed by fields that repeat or extend it (the last
/// string wins, lists and maps accumulate, unknown fields are skipped).
fn encoded_msg(rng: &mut Rng) -> Vec<u8> {
    let mut out = random_msg(rng).encode_to_vec();
    for _ in 0..rng.below(3) {
        match rng.below(7) {
            0 => put_bytes_field(&mut out, 1, rng.pick(USERS).as_bytes()),
            1 => put_bytes_field(&mut out, 3, rng.pick(GROUPS).as_bytes()),
            2 => put_bytes_field(&mut out, 7, rng.pick(NAMES).as_bytes()),
            3 => put_bytes_field(&mut out, 21, rng.pick(USERS).as_bytes()),
            4 => put_bytes_field(&mut out, 99, b"unknown"),
            5 => {
                put_varint(&mut out, 14 << 3);
                put_varint(&mut out, rng.next() >> 1);
            }
            _ => put_bytes_field(&mut out, 12, b"{\"content\":\"again\"}"),
        }
    }
    out
}

fn encoded_pull_msgs(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.below(6) {
        put_bytes_field(&mut out, 1, &encoded_msg(rng));
        if rng.chance(15) {
            out.extend_from_slice(&[0x10, 1]); // is_end between messages
        }
    }
    if rng.chance(50) {
        put_varint(&mut out, 3 << 3);
        put_varint(&mut out, rng.next() >> 1);
    }
    out
}

/// One map entry: key and value in any order, sometimes a value or key twice, or missing.
fn encoded_entry(rng: &mut Rng) -> Vec<u8> {
    let key = rng.pick(KEYS);
    let mut out = Vec::new();
    match rng.below(8) {
        0 => put_bytes_field(&mut out, 2, &encoded_pull_msgs(rng)), // no key
        1 => put_bytes_field(&mut out, 1, key.as_bytes()),          // no value
        2 => {
            put_bytes_field(&mut out, 2, &encoded_pull_msgs(rng));
            put_bytes_field(&mut out, 1, key.as_bytes()); // key after value
        }
        3 => {
            put_bytes_field(&mut out, 1, rng.pick(KEYS).as_bytes());
            put_bytes_field(&mut out, 2, &encoded_pull_msgs(rng));
            put_bytes_field(&mut out, 1, key.as_bytes()); // a second key
            put_bytes_field(&mut out, 2, &encoded_pull_msgs(rng)); // a second value merges
        }
        _ => {
            put_bytes_field(&mut out, 1, key.as_bytes());
            put_bytes_field(&mut out, 2, &encoded_pull_msgs(rng));
        }
    }
    out
}

fn encoded_batch(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.below(6) {
        let field = if rng.chance(70) { 1 } else { 2 };
        put_bytes_field(&mut out, field, &encoded_entry(rng));
    }
    out
}

fn same_map(
    ours: &openim_protocol::pb::received::ByConversation,
    mirror: &std::collections::BTreeMap<String, MirrorPullMsgs>,
) -> Result<(), String> {
    let ours_keys: Vec<&str> = ours.keys().map(|k| k.as_str()).collect();
    let mirror_keys: Vec<&str> = mirror.keys().map(String::as_str).collect();
    if ours_keys != mirror_keys {
        return Err(format!("keys {ours_keys:?} vs {mirror_keys:?}"));
    }
    for ((key, o), m) in ours.iter().zip(mirror.values()) {
        if (o.is_end, o.end_seq, o.msgs.len()) != (m.is_end, m.end_seq, m.msgs.len()) {
            return Err(format!("{key:?}: header or count differs"));
        }
        for (i, (a, b)) in o.msgs.iter().zip(&m.msgs).enumerate() {
            if a.to_msg_data() != *b {
                return Err(format!("{key:?} #{i}: {:?} vs {b:?}", a.to_msg_data()));
            }
            if a.conversation_id != *key {
                return Err(format!("{key:?} #{i}: filed as {:?}", a.conversation_id));
            }
        }
    }
    Ok(())
}

/// Every outcome of decoding `bytes` as a received batch agrees with the prost-derived
/// mirror: both fail, or both give the same messages, each filed under its entry's key. A
/// push decoded into a recycled batch (which earlier cases left entries and lists in) is
/// the same as one decoded afresh.
fn check_against_mirror(bytes: &[u8]) -> Result<bool, String> {
    use openim_protocol::pb::received::{ReceivedBatch, decode_boxed, recycle_boxed};
    let ours = ReceivedBatch::decode(bytes);
    let mirror = MirrorBatch::decode(bytes);
    let recycled = decode_boxed(bytes);
    if recycled.as_deref().ok() != ours.as_ref().ok() {
        return Err(format!(
            "recycled {:?} vs fresh {:?}",
            recycled.as_deref().ok(),
            ours.as_ref().ok()
        ));
    }
    if let Ok(batch) = recycled {
        recycle_boxed([batch]);
    }
    match (ours, mirror) {
        (Ok(o), Ok(m)) => {
            same_map(&o.msgs, &m.msgs)?;
            same_map(&o.notification_msgs, &m.notification_msgs)?;
            Ok(true)
        }
        (Err(_), Err(_)) => Ok(false),
        (o, m) => Err(format!(
            "ours {:?} vs mirror {:?}",
            o.map(|_| ()),
            m.map(|_| ())
        )),
    }
}

#[test]
fn received_batches_decode_as_the_derived_protobuf_does() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let (mut valid, mut invalid) = (0, 0);
    for case in 0..3000 {
        let mut bytes = encoded_batch(&mut rng);
        if rng.chance(30) {
            // two encodings one after the other merge (a repeated key: the later entry wins)
            bytes.extend_from_slice(&encoded_batch(&mut rng));
        }
        if rng.chance(25) && !bytes.is_empty() {
            let cut = rng.below(bytes.len());
            bytes.truncate(cut);
        }
        match check_against_mirror(&bytes) {
            Ok(true) => valid += 1,
            Ok(false) => invalid += 1,
            Err(e) => panic!("case {case}: {e}\ninput {bytes:02x?}"),
        }
    }
    println!("received batches: {valid} valid, {invalid} rejected by both");
    assert!(
        valid > 1000 && invalid > 100,
        "{valid} valid, {invalid} invalid"
    );
}
