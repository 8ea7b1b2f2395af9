//! Message content as the framework exposes it.
//!
//! The elements keep the upstream JSON names (`textElem` etc. content JSON). Unknown content
//! types are kept raw, never an error.

use serde::{Deserialize, Serialize};

/// Content type numbers the framework itself builds or reads.
pub mod content_type {
    /// Plain text.
    pub const TEXT: i32 = 101;
    /// Picture.
    pub const PICTURE: i32 = 102;
    /// @-mention text.
    pub const AT_TEXT: i32 = 106;
    /// Custom data.
    pub const CUSTOM: i32 = 110;
    /// Typing indicator.
    pub const TYPING: i32 = 113;
    /// Quote (reply).
    pub const QUOTE: i32 = 114;
    /// Text with entities.
    pub const ADVANCED_TEXT: i32 = 117;
    /// Revoked message placeholder / revoke notification.
    pub const REVOKE: i32 = 2101;
}

/// The parsed content of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Content {
    /// 101 text.
    Text {
        /// The text.
        content: String,
    },
    /// 106 @-mention text.
    AtText {
        /// The text.
        text: String,
        /// Mentioned user IDs (`AtAllTag` = everyone).
        #[serde(rename = "atUserList")]
        at_user_list: Vec<String>,
    },
    /// 114 quote (reply to an earlier message).
    Quote {
        /// The reply text.
        text: String,
        /// The quoted message as raw JSON (`MsgStruct`).
        #[serde(rename = "quoteMessage")]
        quote_message: Option<serde_json::Value>,
    },
    /// 117 advanced text.
    AdvancedText {
        /// The text.
        text: String,
    },
    /// 110 custom.
    Custom {
        /// Payload.
        data: String,
        /// Description.
        description: String,
        /// Extension.
        extension: String,
    },
    /// Notification content types (1000–5000, 2101): the tips JSON text.
    Notification {
        /// Content type number.
        content_type: i32,
        /// The `detail` JSON string.
        detail: String,
    },
    /// Any other content type, kept raw.
    Unknown {
        /// Content type number.
        content_type: i32,
        /// Raw content bytes as (lossy) UTF-8 text.
        raw: String,
    },
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawElem {
    content: Option<String>,
    text: Option<String>,
    #[serde(rename = "atUserList")]
    at_user_list: Option<Vec<String>>,
    #[serde(rename = "quoteMessage")]
    quote_message: Option<serde_json::Value>,
    data: Option<String>,
    description: Option<String>,
    extension: Option<String>,
    detail: Option<String>,
}

impl Content {
    /// Parses wire content; never fails (undecodable content becomes [`Content::Unknown`]).
    pub fn parse(content_type: i32, bytes: &[u8]) -> Content {
        let unknown = || Content::Unknown {
            content_type,
            raw: String::from_utf8_lossy(bytes).into_owned(),
        };
        let Ok(elem) = serde_json::from_slice::<RawElem>(bytes) else {
            return unknown();
        };
        match content_type {
            content_type::TEXT => match elem.content {
                Some(content) => Content::Text { content },
                None => unknown(),
            },
            content_type::AT_TEXT => Content::AtText {
                text: elem.text.unwrap_or_default(),
                at_user_list: elem.at_user_list.unwrap_or_default(),
            },
            content_type::QUOTE => Content::Quote {
                text: elem.text.unwrap_or_default(),
                quote_message: elem.quote_message,
            },
            content_type::ADVANCED_TEXT => Content::AdvancedText {
                text: elem.text.unwrap_or_default(),
            },
            content_type::CUSTOM | 119 | 120 => Content::Custom {
                data: elem.data.unwrap_or_default(),
                description: elem.description.unwrap_or_default(),
                extension: elem.extension.unwrap_or_default(),
            },
            1000..=5000 => Content::Notification {
                content_type,
                detail: elem.detail.unwrap_or_default(),
            },
            _ => unknown(),
        }
    }

    /// The text of text-like content.
    pub fn text(&self) -> Option<&str> {
        match self {
            Content::Text { content } => Some(content),
            Content::AtText { text, .. }
            | Content::Quote { text, .. }
            | Content::AdvancedText { text } => Some(text),
            _ => None,
        }
    }

    /// The content type number.
    pub fn content_type(&self) -> i32 {
        match self {
            Content::Text { .. } => content_type::TEXT,
            Content::AtText { .. } => content_type::AT_TEXT,
            Content::Quote { .. } => content_type::QUOTE,
            Content::AdvancedText { .. } => content_type::ADVANCED_TEXT,
            Content::Custom { .. } => content_type::CUSTOM,
            Content::Notification { content_type, .. } | Content::Unknown { content_type, .. } => {
                *content_type
            }
        }
    }

    /// Encodes the element JSON to put into `MsgData.content`.
    pub fn to_wire(&self) -> Vec<u8> {
        let value = match self {
            Content::Text { content } => serde_json::json!({ "content": content }),
            Content::AtText { text, at_user_list } => {
                serde_json::json!({ "text": text, "atUserList": at_user_list })
            }
            Content::Quote {
                text,
                quote_message,
            } => serde_json::json!({ "text": text, "quoteMessage": quote_message }),
            Content::AdvancedText { text } => serde_json::json!({ "text": text }),
            Content::Custom {
                data,
                description,
                extension,
            } => {
                serde_json::json!({ "data": data, "description": description, "extension": extension })
            }
            Content::Notification { detail, .. } => serde_json::json!({ "detail": detail }),
            Content::Unknown { raw, .. } => return raw.clone().into_bytes(),
        };
        value.to_string().into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_text_and_keeps_unknown() {
        assert_eq!(
            Content::parse(101, br#"{"content":"hi"}"#).text(),
            Some("hi")
        );
        let c = Content::parse(9999, b"\xff\x00");
        assert!(matches!(
            c,
            Content::Unknown {
                content_type: 9999,
                ..
            }
        ));
        let c = Content::parse(101, b"not json");
        assert!(matches!(c, Content::Unknown { .. }));
    }

    #[test]
    fn roundtrips_at_text() {
        let c = Content::AtText {
            text: "@bot hi".into(),
            at_user_list: vec!["bot".into()],
        };
        assert_eq!(Content::parse(106, &c.to_wire()), c);
    }
}
