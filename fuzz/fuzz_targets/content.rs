//! Message content parsing for every content type, in openim-protocol (`Content::parse`,
//! typed elements) and in openim-bot (`content::parse_lossless`, never fails).
//! Invariants: never panics; parsed content re-encodes to bytes that parse again, with the same
//! content type and text.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// Content types worth hitting often: every element type, a notification, a revoke, unknowns.
const TYPES: &[i32] = &[
    101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 113, 114, 115, 117, 118, 119, 120, 121,
    1201, 1303, 1501, 1509, 2101, 2200, 0, -1, 999, 5001,
];

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let ct = if data[0] == 0xff {
        i32::from_le_bytes([data[1], data[0], data[0], data[1]])
    } else {
        TYPES[data[0] as usize % TYPES.len()]
    };
    let bytes = &data[2..];

    if let Ok(c) = openim_protocol::content::Content::parse(ct, bytes) {
        let text = c.as_text().map(str::to_owned);
        let again = openim_protocol::content::Content::parse(ct, &c.to_bytes())
            .expect("re-encoded content parses");
        assert_eq!(again.content_type(), c.content_type());
        assert_eq!(again.as_text().map(str::to_owned), text);
        let _ = c.is_notification();
    }

    // The framework's view: never fails; undecodable content is kept raw, byte for byte.
    let c = openim_bot::content::parse_lossless(ct, bytes);
    let _ = openim_bot::content::to_json(&c);
    let again = openim_bot::content::parse_lossless(ct, &c.to_bytes());
    assert_eq!(again.content_type(), c.content_type());
    assert_eq!(again.as_text(), c.as_text());
    if let openim_bot::content::Content::Unknown { raw, .. } = &c {
        assert_eq!(raw.as_slice(), bytes, "unknown content kept raw");
    }
});
