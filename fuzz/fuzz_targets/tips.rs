//! Notification tips: the double-encoded JSON (`{"detail":"<tips JSON>"}`) of every
//! notification content type (friend, user, group, conversation, revoke, read receipts, …).
//! Invariants: never panics; a parsed tips value re-encodes (Go byte shape) and parses back
//! to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openim_protocol::tips::Tips;

const TYPES: &[i32] = &[
    1201, 1202, 1203, 1204, 1205, 1206, 1207, 1208, 1209, 1210, 1300, 1303, 1304, 1305, 1306, 1307,
    1400, 1501, 1502, 1503, 1504, 1505, 1506, 1507, 1508, 1509, 1510, 1511, 1512, 1513, 1514, 1515,
    1516, 1517, 1518, 1519, 1520, 1701, 1702, 1703, 1704, 2001, 2101, 2102, 2200, 2300, 1000, 4999,
];

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let ct = TYPES[which as usize % TYPES.len()];
    // Odd selector: the bytes are the whole content; even: they are the inner detail text.
    let parsed = if which & 0x80 == 0 {
        Tips::parse(ct, rest)
    } else {
        match std::str::from_utf8(rest) {
            Ok(detail) => Tips::parse_detail(ct, detail),
            Err(_) => return,
        }
    };
    if let Ok(tips) = parsed {
        let content = tips.to_content();
        let again = Tips::parse(ct, &content).expect("re-encoded tips parse");
        assert_eq!(again, tips, "tips round trip");
        let _ = tips.content_type();
    }
    let _ = openim_protocol::tips::detail_of(ct, rest);
});
