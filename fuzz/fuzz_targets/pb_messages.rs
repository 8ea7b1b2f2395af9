//! Protobuf payloads the client decodes: MsgData, PushMessages (2001), PullMessageBySeqsResp
//! (1002), GetMaxSeqResp (1001), UserSendMsgResp (1003), GetSeqMessageResp (1005),
//! GetConversationsHasReadAndMaxSeqResp (1006).
//! Invariants: never panics; decode(encode(decode(x))) == decode(x); the Go-shaped JSON form
//! round-trips too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openim_protocol::pb::msg::{GetConversationsHasReadAndMaxSeqResp, GetSeqMessageResp};
use openim_protocol::pb::sdkws::{
    GetMaxSeqResp, MsgData, PullMessageBySeqsResp, PushMessages, UserSendMsgResp,
};
use prost::Message;

fn round_trip<M>(bytes: &[u8])
where
    M: Message
        + Default
        + PartialEq
        + std::fmt::Debug
        + serde::Serialize
        + serde::de::DeserializeOwned,
{
    let Ok(m) = M::decode(bytes) else { return };
    let again = M::decode(m.encode_to_vec().as_slice()).expect("re-encoded message decodes");
    assert_eq!(again, m, "protobuf round trip");
    let json = serde_json::to_vec(&m).expect("serialises");
    let back: M = serde_json::from_slice(&json).expect("own JSON decodes");
    assert_eq!(back, m, "JSON round trip");
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    match which % 7 {
        0 => round_trip::<MsgData>(bytes),
        1 => round_trip::<PushMessages>(bytes),
        2 => round_trip::<PullMessageBySeqsResp>(bytes),
        3 => round_trip::<GetMaxSeqResp>(bytes),
        4 => round_trip::<UserSendMsgResp>(bytes),
        5 => round_trip::<GetSeqMessageResp>(bytes),
        _ => round_trip::<GetConversationsHasReadAndMaxSeqResp>(bytes),
    }
    if let Ok(m) = MsgData::decode(bytes) {
        let _ = openim_protocol::conversation_id::of_message(&m);
        let _ = openim_protocol::content::Content::from_msg(&m);
    }
});
