//! The gateway frame decoder the client's connection really runs (`openim_bot::__fuzz_decode_frame`:
//! gzip detection and bounded gunzip into a reused buffer, the borrowed envelope, base64 `data`,
//! the PushMessages protobuf of a 2001 push), fed raw binary frames.
//! Invariants: never panics; deterministic; a plain frame decodes exactly when its gzip does
//! (compression changes nothing but the bytes on the wire).
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let decoded = openim_bot::__fuzz_decode_frame(data);
    assert_eq!(decoded, openim_bot::__fuzz_decode_frame(data), "deterministic");
    if !data.starts_with(&[0x1f, 0x8b]) {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        if gz.write_all(data).is_ok()
            && let Ok(compressed) = gz.finish()
        {
            assert_eq!(
                decoded,
                openim_bot::__fuzz_decode_frame(&compressed),
                "gzip changes nothing"
            );
        }
    }
});
