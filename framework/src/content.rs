//! Message content: the protocol crate's [`Content`] (every content type, unknown kept raw),
//! re-exported, plus helpers the framework needs.

pub use openim_protocol::content::*;

/// Content type numbers the framework itself looks at.
pub mod content_type {
    /// Plain text.
    pub const TEXT: i32 = 101;
    /// @-mention text.
    pub const AT_TEXT: i32 = 106;
    /// Custom data.
    pub const CUSTOM: i32 = 110;
    /// Typing indicator.
    pub const TYPING: i32 = 113;
    /// Quote (reply).
    pub const QUOTE: i32 = 114;
    /// Revoked message placeholder / revoke notification.
    pub const REVOKE: i32 = 2101;
}

/// Parses wire content; never fails: content that does not match its element is kept as
/// [`Content::Unknown`].
pub fn parse_lossless(content_type: i32, bytes: &[u8]) -> Content {
    Content::parse(content_type, bytes).unwrap_or_else(|e| {
        tracing::debug!(content_type, error = %e, "content kept raw");
        Content::Unknown {
            content_type,
            raw: bytes.to_vec(),
        }
    })
}

/// [`parse_lossless`] of bytes it consumes (a received message's content): plain text keeps
/// the buffer as its string, so it is neither copied nor freed here ([`Content::parse_vec`]).
pub(crate) fn parse_lossless_vec(content_type: i32, bytes: Vec<u8>) -> Content {
    Content::parse_vec(content_type, bytes).unwrap_or_else(|(e, raw)| {
        tracing::debug!(content_type, error = %e, "content kept raw");
        Content::Unknown { content_type, raw }
    })
}

/// The content as a JSON value (the element object; raw text for undecodable content).
pub fn to_json(content: &Content) -> serde_json::Value {
    let bytes = content.to_bytes();
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_text_and_keeps_unknown_and_bad_json() {
        assert_eq!(
            parse_lossless(101, br#"{"content":"hi"}"#).as_text(),
            Some("hi")
        );
        for (ct, bytes) in [
            (101, br#"{"content":"hi"}"#.as_slice()),
            (101, b"not json"),
            (9999, b"\xff\x00"),
            (106, br#"{"text":"@b hi","atUserList":["b"]}"#),
        ] {
            assert_eq!(
                parse_lossless_vec(ct, bytes.to_vec()),
                parse_lossless(ct, bytes)
            );
        }
        assert!(matches!(
            parse_lossless(9999, b"\xff\x00"),
            Content::Unknown {
                content_type: 9999,
                ..
            }
        ));
        assert!(matches!(
            parse_lossless(101, b"not json"),
            Content::Unknown {
                content_type: 101,
                ..
            }
        ));
        assert_eq!(to_json(&Content::text("x"))["content"], "x");
    }

    #[test]
    fn roundtrips_at_text() {
        let c = Content::at_text("@bot hi", vec!["bot".into()]);
        assert_eq!(parse_lossless(106, &c.to_bytes()), c);
    }
}
