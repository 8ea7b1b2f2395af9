//! Gateway envelopes: binary frames (plain or gzip) into `WsRequest` / `WsResponse`, their
//! payloads, and the text frames a client can receive (connect result, heartbeats).
//! Invariants: never panics; a decoded envelope re-encodes and decodes to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openim_protocol::envelope::{ConnectResult, Heartbeat, ServerTextFrame, WsRequest, WsResponse};
use openim_protocol::pb::sdkws::{PullMessageBySeqsResp, PushMessages};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, frame)) = data.split_first() else {
        return;
    };
    let gzip = mode & 1 == 1;
    if let Ok(req) = WsRequest::decode_frame(frame, gzip) {
        let again = WsRequest::from_json(&req.to_json()).expect("re-encoded request decodes");
        assert_eq!(again, req);
        let _ = req.payload::<openim_protocol::pb::sdkws::MsgData>();
    }
    if let Ok(resp) = WsResponse::decode_frame(frame, gzip) {
        let again = WsResponse::from_json(&resp.to_json()).expect("re-encoded response decodes");
        assert_eq!(again, resp);
        let _ = resp.payload::<PushMessages>();
        let _ = resp.payload::<PullMessageBySeqsResp>();
        let _ = resp.error_code();
    }
    if let Ok(text) = std::str::from_utf8(frame) {
        let _ = ServerTextFrame::parse(text);
        let _ = ConnectResult::from_json(text);
        if let Ok(hb) = Heartbeat::from_text(text) {
            let _ = hb.pong_for().map(|p| p.to_text());
            let _ = Heartbeat::from_text(&hb.to_text()).expect("heartbeat re-encodes");
        }
    }
});
