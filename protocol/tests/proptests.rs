//! Property tests: every wire message round-trips (protobuf and Go-shaped JSON), envelopes
//! and gzip round-trip, and decoding arbitrary input (protobuf, envelope JSON, base64, gzip,
//! content, tips, text frames) never panics and fails with a typed [`ProtocolError`].

#[path = "generated/arb.rs"]
mod arb;

use arb::*;
use openim_protocol::constants::ReqIdentifier;
use openim_protocol::content::Content;
use openim_protocol::envelope::{
    ConnectResult, Heartbeat, RequestPayload, ResponsePayload, ServerTextFrame, WsRequest,
    WsResponse, gzip_compress, gzip_decompress,
};
use openim_protocol::error::{ProtocolError, decode_message};
use openim_protocol::tips::{self, Tips};
use proptest::prelude::*;
use prost::Message;

/// 64 cases per property (many properties x 90 message types); `PROPTEST_CASES` overrides.
fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 64;
    }
    config
}

macro_rules! round_trip_tests {
    ($module:ident, $name:ident, $arb:ident) => {
        #[allow(non_snake_case)]
        mod $arb {
            use super::*;
            proptest! {
                #![proptest_config(config())]

                #[test]
                fn protobuf_round_trip(msg in $arb()) {
                    let bytes = msg.encode_to_vec();
                    prop_assert_eq!(bytes.len(), msg.encoded_len());
                    let back = openim_protocol::pb::$module::$name::decode(bytes.as_slice()).unwrap();
                    prop_assert_eq!(&back, &msg);
                }

                #[test]
                fn json_round_trip(msg in $arb()) {
                    let text = tips::to_go_json(&msg);
                    let back: openim_protocol::pb::$module::$name = serde_json::from_str(&text).unwrap();
                    prop_assert_eq!(&back, &msg);
                }

                #[test]
                fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..96)) {
                    match decode_message::<openim_protocol::pb::$module::$name>(&bytes) {
                        Ok(msg) => {
                            // Whatever decodes re-encodes to something that decodes the same.
                            let again = openim_protocol::pb::$module::$name::decode(msg.encode_to_vec().as_slice()).unwrap();
                            prop_assert_eq!(again, msg);
                        }
                        Err(e) => prop_assert!(matches!(e, ProtocolError::Protobuf { .. }), "unexpected error: {:?}", e),
                    }
                }

                #[test]
                fn arbitrary_json_never_panics(value in arb_json()) {
                    let text = value.to_string();
                    let _ = serde_json::from_str::<openim_protocol::pb::$module::$name>(&text);
                }
            }
        }
    };
}

/// Arbitrary JSON values (bounded depth) with keys that often hit real field names.
fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let key = prop_oneof![
        Just("content".to_string()),
        Just("text".to_string()),
        Just("detail".to_string()),
        Just("userID".to_string()),
        Just("group".to_string()),
        Just("Msgs".to_string()),
        Just("msgs".to_string()),
        Just("seqs".to_string()),
        Just("data".to_string()),
        Just("atUserList".to_string()),
        Just("quoteMessage".to_string()),
        Just("sourcePicture".to_string()),
        "[a-zA-Z]{1,6}",
    ];
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        arb_string().prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map(key.clone(), inner, 0..5)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

openim_protocol_for_each_message!();

macro_rules! openim_protocol_for_each_message {
    () => {
        for_each_message!(round_trip_tests);
    };
}
use openim_protocol_for_each_message;

// ---------- envelopes, gzip, text frames ----------

/// serde_json does not round-trip every f64 exactly (no `float_roundtrip` feature).
fn has_float(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Number(n) => n.is_f64(),
        serde_json::Value::Array(a) => a.iter().any(has_float),
        serde_json::Value::Object(o) => o.values().any(has_float),
        _ => false,
    }
}

fn arb_req_id() -> impl Strategy<Value = ReqIdentifier> {
    prop_oneof![
        proptest::sample::select(ReqIdentifier::ALL.to_vec()),
        any::<i32>().prop_map(ReqIdentifier::from_i32),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn request_envelope_round_trip(
        req_identifier in arb_req_id(),
        send_id in arb_string(),
        operation_id in arb_string(),
        msg_incr in arb_string(),
        token in arb_string(),
        data in proptest::collection::vec(any::<u8>(), 0..64),
        gzip in any::<bool>(),
    ) {
        let req = WsRequest { req_identifier, token, send_id, operation_id, msg_incr, data };
        let frame = req.encode_frame(gzip).unwrap();
        prop_assert_eq!(WsRequest::decode_frame(&frame, gzip).unwrap(), req);
    }

    #[test]
    fn response_envelope_round_trip(
        req_identifier in arb_req_id(),
        msg_incr in arb_string(),
        operation_id in arb_string(),
        err_code in any::<i32>(),
        err_msg in arb_string(),
        data in proptest::collection::vec(any::<u8>(), 0..64),
        gzip in any::<bool>(),
    ) {
        let resp = WsResponse { req_identifier, msg_incr, operation_id, err_code, err_msg, data };
        let frame = resp.encode_frame(gzip).unwrap();
        prop_assert_eq!(WsResponse::decode_frame(&frame, gzip).unwrap(), resp);
    }

    #[test]
    fn push_of_any_message_round_trips(msg in arb_sdkws_PushMessages(), op in arb_string()) {
        let resp = WsResponse::push(ReqIdentifier::PushMsg, op, &msg);
        let back = WsResponse::from_json(&resp.to_json()).unwrap();
        prop_assert_eq!(back.payload::<openim_protocol::pb::sdkws::PushMessages>().unwrap(), msg);
    }

    #[test]
    fn arbitrary_frames_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..128), gzip in any::<bool>()) {
        for r in [
            WsRequest::decode_frame(&bytes, gzip).map(|_| ()),
            WsResponse::decode_frame(&bytes, gzip).map(|_| ()),
        ] {
            if let Err(e) = r {
                prop_assert!(matches!(e, ProtocolError::Json { .. } | ProtocolError::Gzip { .. } | ProtocolError::TooLarge { .. }), "unexpected error: {:?}", e);
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    #[test]
    fn typed_payload_decoding_never_panics(req_identifier in arb_req_id(), data in proptest::collection::vec(any::<u8>(), 0..96)) {
        let req = WsRequest { req_identifier, data: data.clone(), ..Default::default() };
        match RequestPayload::decode(&req) {
            Ok(p) => {
                prop_assert_eq!(p.req_identifier(), req_identifier);
                let again = WsRequest { data: p.encode(), ..req };
                prop_assert_eq!(RequestPayload::decode(&again).unwrap(), p);
            }
            Err(e) => prop_assert!(matches!(e, ProtocolError::Protobuf { .. }), "unexpected error: {:?}", e),
        }
        let resp = WsResponse { req_identifier, data, ..Default::default() };
        if let Err(e) = ResponsePayload::decode(&resp) {
            prop_assert!(matches!(e, ProtocolError::Protobuf { .. }), "unexpected error: {:?}", e);
        }
    }

    #[test]
    fn arbitrary_data_strings_never_panic(data in arb_string(), id in any::<i64>()) {
        // Arbitrary (mostly invalid) base64 and numbers in an otherwise valid envelope.
        let text = serde_json::json!({"reqIdentifier": id, "sendID": "u", "data": data}).to_string();
        if let Err(e) = WsRequest::from_json(text.as_bytes()) {
            prop_assert!(matches!(e, ProtocolError::Json { .. }), "unexpected error: {:?}", e);
        }
    }

    #[test]
    fn gzip_round_trip_and_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let packed = gzip_compress(&bytes, "test").unwrap();
        prop_assert_eq!(gzip_decompress(&packed, "test").unwrap(), bytes.clone());
        if let Err(e) = gzip_decompress(&bytes, "test") {
            prop_assert!(matches!(e, ProtocolError::Gzip { .. }), "unexpected error: {:?}", e);
        }
        // Flipping a byte of valid gzip must not panic either.
        let mut corrupt = packed.clone();
        let i = bytes.len() % corrupt.len();
        corrupt[i] ^= 0x5a;
        let _ = gzip_decompress(&corrupt, "test");
    }

    #[test]
    fn text_frames_never_panic(text in arb_string(), value in arb_json()) {
        let _ = Heartbeat::from_text(&text);
        let _ = ServerTextFrame::parse(&text);
        let _ = ConnectResult::from_json(&text);
        let v = value.to_string();
        let _ = Heartbeat::from_text(&v);
        let _ = ServerTextFrame::parse(&v);
        let _ = ConnectResult::from_json(&v);
    }

    #[test]
    fn heartbeat_round_trip(body in proptest::option::of(arb_json().prop_filter("no floats", |v| !has_float(v)))) {
        let body = body.filter(|b| !b.is_null());
        let ping = Heartbeat::Ping { body: body.clone() };
        prop_assert_eq!(Heartbeat::from_text(&ping.to_text()).unwrap(), ping.clone());
        let pong = ping.pong_for().unwrap();
        prop_assert_eq!(Heartbeat::from_text(&pong.to_text()).unwrap(), Heartbeat::Pong { body });
    }
}

// ---------- content ----------

const KNOWN_CONTENT_TYPES: &[i32] = &[
    101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 113, 114, 115, 117, 118, 119, 120, 1201,
    1501, 1509, 2101, 2200,
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn content_parse_never_panics(ct in any::<i32>(), bytes in proptest::collection::vec(any::<u8>(), 0..96)) {
        // The consuming parse says the same, and hands the bytes back on error.
        match (Content::parse(ct, &bytes), Content::parse_vec(ct, bytes.clone())) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(_), Err((_, back))) => prop_assert_eq!(&back, &bytes),
            (a, b) => prop_assert!(false, "parse {:?} vs parse_vec {:?}", a, b),
        }
        match Content::parse(ct, &bytes) {
            Ok(Content::Unknown { content_type, raw }) => {
                prop_assert_eq!(content_type, ct);
                prop_assert_eq!(raw, bytes);
            }
            Ok(c) => {
                // Anything that parses re-serialises into something that parses the same.
                prop_assert_eq!(Content::parse(ct, &c.to_bytes()).unwrap(), c);
            }
            Err(e) => prop_assert!(matches!(e, ProtocolError::Content { .. }), "unexpected error: {:?}", e),
        }
    }

    #[test]
    fn content_from_arbitrary_json(ct in proptest::sample::select(KNOWN_CONTENT_TYPES), value in arb_json()) {
        let bytes = value.to_string().into_bytes();
        match Content::parse(ct, &bytes) {
            Ok(c) => {
                prop_assert_eq!(c.content_type().as_i32(), ct);
                prop_assert_eq!(Content::parse(ct, &c.to_bytes()).unwrap(), c);
            }
            Err(e) => prop_assert!(matches!(e, ProtocolError::Content { content_type, .. } if content_type == ct), "unexpected error: {:?}", e),
        }
    }

    #[test]
    fn text_builders_round_trip(text in arb_string(), ids in proptest::collection::vec(arb_string(), 0..3)) {
        let c = Content::text(text.clone());
        let parsed = Content::parse(101, &c.to_bytes()).unwrap();
        prop_assert_eq!(parsed.as_text(), Some(text.as_str()));
        let at = Content::at_text(text.clone(), ids.clone());
        prop_assert_eq!(Content::parse(106, &at.to_bytes()).unwrap(), at);
        let custom = Content::custom(text.clone(), text.clone(), text.clone());
        prop_assert_eq!(Content::parse(110, &custom.to_bytes()).unwrap(), custom);
    }

    #[test]
    fn quote_builder_round_trips(quoted in arb_sdkws_MsgData(), text in arb_string()) {
        let q = Content::quote(text, &quoted);
        let back = Content::parse(114, &q.to_bytes()).unwrap();
        prop_assert_eq!(back, q);
    }
}

// ---------- tips ----------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn tips_parse_never_panics(ct in 1000..5001i32, bytes in proptest::collection::vec(any::<u8>(), 0..96)) {
        if let Err(e) = Tips::parse(ct, &bytes) {
            prop_assert!(matches!(e, ProtocolError::Content { .. } | ProtocolError::Tips { .. }), "unexpected error: {:?}", e);
        }
    }

    #[test]
    fn tips_from_arbitrary_detail(ct in 1200..2300i32, value in arb_json()) {
        let content = tips::content_from_detail(&value.to_string());
        match Tips::parse(ct, &content) {
            Ok(t) => {
                // What parses re-encodes into something that parses identically.
                prop_assert_eq!(Tips::parse(ct, &t.to_content()).unwrap(), t);
            }
            Err(e) => prop_assert!(matches!(e, ProtocolError::Tips { content_type, .. } if content_type == ct), "unexpected error: {:?}", e),
        }
    }

    #[test]
    fn group_tips_round_trip(t in arb_sdkws_GroupCreatedTips()) {
        let content = tips::encode_content(&t);
        prop_assert_eq!(Tips::parse(1501, &content).unwrap(), Tips::GroupCreated(t));
    }

    #[test]
    fn revoke_tips_round_trip(t in arb_sdkws_RevokeMsgTips(), m in arb_sdkws_MessageRevokedContent()) {
        prop_assert_eq!(Tips::parse(2101, &tips::encode_content(&t)).unwrap(), Tips::RevokeMsg(t));
        prop_assert_eq!(Tips::parse(2101, &tips::encode_content(&m)).unwrap(), Tips::MessageRevoked(m));
    }

    #[test]
    fn member_tips_round_trip(t in arb_sdkws_MemberInvitedTips(), k in arb_sdkws_MemberKickedTips(), r in arb_sdkws_MarkAsReadTips()) {
        prop_assert_eq!(Tips::parse(1509, &tips::encode_content(&t)).unwrap(), Tips::MemberInvited(t));
        prop_assert_eq!(Tips::parse(1508, &tips::encode_content(&k)).unwrap(), Tips::MemberKicked(k));
        prop_assert_eq!(Tips::parse(2200, &tips::encode_content(&r)).unwrap(), Tips::HasReadReceipt(r));
    }
}

// ---------- constants and conversation IDs ----------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn open_enums_keep_every_value(v in any::<i32>()) {
        use openim_protocol::constants::*;
        use openim_protocol::ErrorCode;
        prop_assert_eq!(ContentType::from_i32(v).as_i32(), v);
        prop_assert_eq!(SessionType::from_i32(v).as_i32(), v);
        prop_assert_eq!(PlatformId::from_i32(v).as_i32(), v);
        prop_assert_eq!(ReqIdentifier::from_i32(v).as_i32(), v);
        prop_assert_eq!(MsgStatus::from_i32(v).as_i32(), v);
        prop_assert_eq!(GroupRoleLevel::from_i32(v).as_i32(), v);
        prop_assert_eq!(ErrorCode::from_i32(v).as_i32(), v);
        prop_assert_eq!(ContentType::Other(v), ContentType::from_i32(v));
        let json = serde_json::to_string(&ContentType::from_i32(v)).unwrap();
        prop_assert_eq!(json.clone(), v.to_string());
        prop_assert_eq!(serde_json::from_str::<ContentType>(&json).unwrap(), ContentType::from_i32(v));
    }

    #[test]
    fn single_conversation_ids_are_symmetric(a in arb_string(), b in arb_string()) {
        use openim_protocol::conversation_id::*;
        prop_assert_eq!(single(&a, &b), single(&b, &a));
        prop_assert_eq!(notification_single(&a, &b), notification_single(&b, &a));
        prop_assert_eq!(notification_twin(&single(&a, &b)), notification_single(&a, &b));
        prop_assert_eq!(notification_twin(&group(&a)), notification_group(&a));
        prop_assert_eq!(kind(&single(&a, &b)), ConversationKind::Single);
        prop_assert!(is_notification(&notification_twin(&a)));
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn connect_params_round_trip_and_never_panic(
        send_id in "[^\\x00]{1,8}",
        token in "[^\\x00]{1,12}",
        platform_id in 1..12i32,
        operation_id in "[^\\x00]{1,8}",
        gzip in any::<bool>(),
        is_msg_resp in any::<bool>(),
        junk in arb_string(),
    ) {
        use openim_protocol::connect::{ConnectParams, ConnectRules};
        let mut p = ConnectParams::new(send_id, token, platform_id, operation_id);
        p.gzip = gzip;
        p.is_msg_resp = is_msg_resp;
        prop_assert_eq!(ConnectParams::parse(&p.to_query(), ConnectRules::Patch).unwrap(), p.clone());
        prop_assert_eq!(ConnectParams::parse(&p.to_query(), ConnectRules::V383).unwrap(), p);
        let _ = ConnectParams::parse(&junk, ConnectRules::Patch);
        let _ = ConnectParams::parse(&junk, ConnectRules::V383);
        let _ = ConnectParams::parse(&format!("v={junk}"), ConnectRules::Patch);
    }
}

/// A one-message push decodes into a message list of exactly one slot (prost's default first
/// reservation of four `MsgData` is a block past the allocator's thread cache, per message),
/// and lists of several messages still decode whole; default fields are not encoded.
#[test]
fn pushed_message_lists_are_sized_exactly_and_defaults_are_not_encoded() {
    use openim_protocol::pb::sdkws::{MsgData, PullMsgs, PushMessages};
    let msg = |seq| MsgData {
        seq,
        client_msg_id: format!("c{seq}"),
        ..Default::default()
    };
    let mut push = PushMessages::default();
    push.msgs.insert(
        "si_a_b".into(),
        PullMsgs {
            msgs: vec![msg(1)],
            ..Default::default()
        },
    );
    let decoded = PushMessages::decode(push.encode_to_vec().as_slice()).unwrap();
    assert_eq!(decoded, push);
    assert_eq!(decoded.msgs["si_a_b"].msgs.capacity(), 1);
    let many = PullMsgs {
        msgs: (1..=5).map(msg).collect(),
        is_end: true,
        end_seq: 5,
    };
    assert_eq!(
        PullMsgs::decode(many.encode_to_vec().as_slice()).unwrap(),
        many
    );
    assert!(PullMsgs::default().encode_to_vec().is_empty());
    assert_eq!(
        PullMsgs {
            end_seq: 1,
            ..Default::default()
        }
        .encode_to_vec(),
        vec![0x18, 0x01]
    );
}

/// Pull answers and pushes as prost's generic map/message decoding reads them: the reference
/// the slice decoder of `map<string, PullMsgs>` fields (`pb::wire::merge_pull_msgs_map`) is
/// checked against.
#[derive(Debug, Default, Clone, PartialEq)]
struct GenericPull(openim_protocol::pb::sdkws::PullMessageBySeqsResp);

impl Message for GenericPull {
    fn encode_raw(&self, buf: &mut impl prost::bytes::BufMut) {
        self.0.encode_raw(buf)
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: prost::encoding::WireType,
        buf: &mut impl prost::bytes::Buf,
        ctx: prost::encoding::DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        use openim_protocol::pb::wire::merge_message_map;
        match tag {
            1 => merge_message_map(wire_type, &mut self.0.msgs, buf, ctx),
            2 => merge_message_map(wire_type, &mut self.0.notification_msgs, buf, ctx),
            _ => prost::encoding::skip_field(wire_type, tag, buf, ctx),
        }
    }

    fn encoded_len(&self) -> usize {
        self.0.encoded_len()
    }

    fn clear(&mut self) {
        self.0.clear()
    }
}

/// Hand-built encodings of the cases round trips never produce: a repeated key (the later
/// entry wins), a value given twice in one entry (merged), `content` and a string field given
/// twice (the last wins), unknown fields, a string field that is not UTF-8.
fn odd_pull_encodings() -> Vec<Vec<u8>> {
    use openim_protocol::pb::sdkws::{MsgData, PullMsgs};
    let msg = |seq: i64, content: &[u8]| {
        MsgData {
            seq,
            client_msg_id: format!("c{seq}"),
            content: content.to_vec(),
            ..Default::default()
        }
        .encode_to_vec()
    };
    let field = |tag: u8, body: &[u8]| {
        let mut out = vec![(tag << 3) | 2];
        prost::encoding::encode_varint(body.len() as u64, &mut out);
        out.extend_from_slice(body);
        out
    };
    let entry = |key: &str, values: &[Vec<u8>]| {
        let mut e = field(1, key.as_bytes());
        for v in values {
            e.extend(field(2, v));
        }
        e
    };
    let list = |msgs: &[Vec<u8>]| {
        let mut l: Vec<u8> = msgs.iter().flat_map(|m| field(1, m)).collect();
        l.extend([0x10, 0x01]); // isEnd
        l
    };
    let mut twice_content = msg(3, b"first");
    twice_content.extend(field(12, b"second"));
    twice_content.extend([0xf8, 0x07, 0x2a]); // unknown varint field 127
    twice_content.extend(field(4, b"c3-again")); // clientMsgID again: the last wins
    let mut bad_text = msg(5, b"w");
    bad_text.extend(field(7, &[0x61, 0xff])); // senderNickname not UTF-8: an error
    let a = entry("si_a", &[list(&[msg(1, b"x"), msg(2, b"y")])]);
    let b = entry(
        "si_a",
        &[list(&[twice_content.clone()]), list(&[msg(4, b"z")])],
    );
    let notification = entry("n_a", &[PullMsgs::default().encode_to_vec()]);
    vec![
        [field(1, &a), field(1, &b), field(2, &notification)].concat(),
        [field(1, &a), vec![0x18, 0x05], field(1, &entry("", &[]))].concat(),
        field(1, &entry("si_b", &[list(&[twice_content])])),
        field(1, &entry("si_c", &[list(&[bad_text])])),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// The slice decoder reads every input as prost's generic decoding does: the same value,
    /// or an error for the same inputs (valid encodings, hand-built odd ones, and each of them
    /// truncated or with one byte changed).
    #[test]
    fn pull_lists_decode_as_prost_generic_decoding(
        resp in arb_sdkws_PullMessageBySeqsResp(),
        cut in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        use openim_protocol::pb::msg::GetSeqMessageResp;
        use openim_protocol::pb::received::ReceivedBatch;
        use openim_protocol::pb::sdkws::{PullMessageBySeqsResp, PushMessages};
        let mut inputs = odd_pull_encodings();
        inputs.push(resp.encode_to_vec());
        for bytes in inputs {
            let mut variants = vec![bytes.clone()];
            if !bytes.is_empty() {
                variants.push(bytes[..cut.index(bytes.len())].to_vec());
                let mut changed = bytes.clone();
                changed[flip.index(bytes.len())] = byte;
                variants.push(changed);
            }
            for v in variants {
                let fast = PullMessageBySeqsResp::decode(v.as_slice());
                let generic = GenericPull::decode(v.as_slice()).map(|g| g.0);
                prop_assert_eq!(fast.is_ok(), generic.is_ok(), "{:?} vs {:?}", fast, generic);
                // The client's decoding (shared strings) reads the same messages, each filed
                // under its entry's key.
                let received = ReceivedBatch::decode(v.as_slice());
                prop_assert_eq!(received.is_ok(), generic.is_ok(), "{:?} vs {:?}", received, generic);
                if let (Ok(received), Ok(generic)) = (&received, &generic) {
                    for (ours, theirs) in [
                        (&received.msgs, &generic.msgs),
                        (&received.notification_msgs, &generic.notification_msgs),
                    ] {
                        prop_assert_eq!(ours.len(), theirs.len());
                        for ((key, list), (wire_key, wire)) in ours.iter().zip(theirs) {
                            prop_assert_eq!(key, wire_key);
                            prop_assert_eq!((list.is_end, list.end_seq), (wire.is_end, wire.end_seq));
                            let msgs: Vec<_> = list.msgs.iter().map(|m| m.to_msg_data()).collect();
                            prop_assert_eq!(&msgs, &wire.msgs);
                            prop_assert!(list.msgs.iter().all(|m| m.conversation_id == *key));
                        }
                    }
                }
                if let (Ok(fast), Ok(generic)) = (fast, generic) {
                    for list in fast.msgs.values().chain(fast.notification_msgs.values()) {
                        prop_assert_eq!(list.msgs.capacity(), list.msgs.len());
                    }
                    let push = PushMessages::decode(v.as_slice()).unwrap();
                    prop_assert_eq!(&push.msgs, &generic.msgs);
                    let seq = GetSeqMessageResp::decode(v.as_slice()).unwrap();
                    prop_assert_eq!(&seq.notification_msgs, &generic.notification_msgs);
                    prop_assert_eq!(fast, generic);
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// Text content read by the shortcut for plain `{"content":"…"}` is what the JSON reader
    /// makes of the same bytes, for any text between the quotes (escapes, quotes, control
    /// characters, invalid UTF-8 included).
    #[test]
    fn text_content_reads_as_json_does(
        text in arb_string(),
        // bytes that matter to a JSON string: quote, backslash and escape letters, a control
        // character, DEL, a 2-byte UTF-8 sequence and its halves, a byte never valid in UTF-8
        raw in proptest::collection::vec(
            prop::sample::select(vec![b'a', b' ', b'"', b'\\', b'n', b'u', b'0', 0x01, 0x7f, 0xc3, 0xa9, 0xff]),
            0..12,
        ),
        json in any::<bool>(),
    ) {
        use openim_protocol::content::TextElem;
        let inner = if json {
            serde_json::to_string(&text).unwrap().into_bytes()
        } else {
            [b"\"".as_slice(), &raw, b"\""].concat()
        };
        let bytes = [br#"{"content":"#.as_slice(), &inner, b"}"].concat();
        let by_json = serde_json::from_slice::<TextElem>(&bytes).ok().map(Content::Text);
        prop_assert_eq!(Content::parse(101, &bytes).ok(), by_json.clone());
        prop_assert_eq!(Content::parse_vec(101, bytes).ok(), by_json);
    }
}

/// A decoded batch shares one string per distinct repeated value (sender, receiver, nickname,
/// avatar, group, conversation ID) among its messages, across its entries, and re-encodes as
/// the wire form it came from.
#[test]
fn received_batches_share_repeated_strings() {
    // IDs longer than a SharedStr holds in place (equal short texts are `ptr_eq` anyway).
    const BOT: &str = "the-bot-with-a-long-id";
    use openim_protocol::pb::received::{ReceivedBatch, ReceivedMsg, recycle_list};
    use openim_protocol::pb::sdkws::{MsgData, PullMessageBySeqsResp, PullMsgs};
    let msg = |seq: i64, from: &str, to: &str| MsgData {
        seq,
        send_id: from.into(),
        recv_id: to.into(),
        sender_nickname: format!("nick {from}"),
        sender_face_url: String::new(),
        client_msg_id: format!("c{seq}"),
        content: br#"{"content":"hi"}"#.to_vec(),
        ..Default::default()
    };
    let list = |conv: &str, peer: &str| {
        (
            conv.to_owned(),
            PullMsgs {
                msgs: (1..=6)
                    .map(|seq| {
                        if seq % 2 == 0 {
                            msg(seq, BOT, peer)
                        } else {
                            msg(seq, peer, BOT)
                        }
                    })
                    .collect(),
                is_end: true,
                end_seq: 6,
            },
        )
    };
    let answer = PullMessageBySeqsResp {
        msgs: [
            list("si_bot_user-number-one-1", "user-number-one-1"),
            list("si_bot_user-number-two-2", "user-number-two-2"),
        ]
        .into(),
        notification_msgs: [list("sn_administrator_bot", "administrator-of-it")].into(),
    };
    let bytes = answer.encode_to_vec();
    for _ in 0..3 {
        let batch = ReceivedBatch::decode(bytes.as_slice()).unwrap();
        let all: Vec<&ReceivedMsg> = batch
            .msgs
            .values()
            .chain(batch.notification_msgs.values())
            .flat_map(|l| &l.msgs)
            .collect();
        assert_eq!(all.len(), 18);
        let bot = &all[1].send_id;
        assert_eq!(bot, BOT);
        for m in &all {
            let (bot_side, peer) = if m.seq % 2 == 0 {
                (&m.send_id, &m.recv_id)
            } else {
                (&m.recv_id, &m.send_id)
            };
            assert!(bot_side.ptr_eq(bot), "one \"bot\" for the whole batch");
            let first = all
                .iter()
                .find(|o| o.conversation_id == m.conversation_id)
                .unwrap();
            assert!(m.conversation_id.ptr_eq(&first.conversation_id));
            assert!(peer.ptr_eq(&first.send_id));
            assert!(m.sender_face_url.is_empty());
        }
        let back = PullMessageBySeqsResp::decode(batch.encode_to_vec().as_slice()).unwrap();
        assert_eq!(back, answer);
        assert_eq!(batch.encoded_len(), bytes.len());
        for (_, list) in batch.msgs {
            recycle_list(list.msgs);
        }
    }
}
