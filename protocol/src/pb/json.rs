//! serde helpers reproducing Go `encoding/json` output of generated protobuf structs.
//!
//! Used through `#[serde(with = "...")]` by the generated messages; public so that other
//! modules (and the HTTP API types) can reuse the same rules.

/// `Vec<T>`: serialised as `null` when empty (Go nil slice); `null`/absent/`[]` decode to empty.
pub mod nullable_vec {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Serialises an empty vector as `null`, otherwise as a JSON array.
    pub fn serialize<T: Serialize, S: Serializer>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
        if v.is_empty() {
            s.serialize_none()
        } else {
            v.serialize(s)
        }
    }

    /// Accepts `null` or an array.
    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<T>, D::Error> {
        Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
    }
}

/// `BTreeMap<K, V>`: serialised as `null` when empty; `null`/absent/`{}` decode to empty.
pub mod nullable_map {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    /// Serialises an empty map as `null`, otherwise as a JSON object.
    pub fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        m: &BTreeMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        if m.is_empty() {
            s.serialize_none()
        } else {
            m.serialize(s)
        }
    }

    /// Accepts `null` or an object.
    pub fn deserialize<'de, K, V, D>(d: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Option::<BTreeMap<K, V>>::deserialize(d)?.unwrap_or_default())
    }
}

/// `bytes`: padded standard base64 string; empty is written as `null` (Go nil slice after a
/// protobuf hop); `null`/absent decode to empty. Unpadded or URL-safe input is rejected, as Go does.
pub mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    /// Serialises bytes as padded standard base64 (`null` when empty).
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        if v.is_empty() {
            s.serialize_none()
        } else {
            s.serialize_str(&STANDARD.encode(v))
        }
    }

    /// Accepts `null` or a padded standard base64 string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(Vec::new()),
            Some(text) => STANDARD
                .decode(text.as_bytes())
                .map_err(|e| D::Error::custom(format!("invalid base64 in bytes field: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pb::sdkws::{MsgData, PullMsgs};

    #[test]
    fn msg_data_json_is_go_shaped() {
        let empty = serde_json::to_string(&MsgData::default()).unwrap();
        assert_eq!(
            empty,
            concat!(
                r#"{"sendID":"","recvID":"","groupID":"","clientMsgID":"","serverMsgID":"","#,
                r#""senderPlatformID":0,"senderNickname":"","senderFaceURL":"","sessionType":0,"#,
                r#""msgFrom":0,"contentType":0,"content":null,"seq":0,"sendTime":0,"createTime":0,"#,
                r#""status":0,"isRead":false,"options":null,"offlinePushInfo":null,"#,
                r#""atUserIDList":null,"attachedInfo":"","ex":""}"#
            )
        );
        let msg = MsgData {
            content: br#"{"content":"hi"}"#.to_vec(),
            ..Default::default()
        };
        let json = serde_json::to_value(&msg).unwrap();
        assert_eq!(json["content"], "eyJjb250ZW50IjoiaGkifQ==");
        let back: MsgData = serde_json::from_value(json).unwrap();
        assert_eq!(back, msg);
        // Tolerant reading: missing keys, [] and {} for empty.
        let read: MsgData =
            serde_json::from_str(r#"{"sendID":"u","atUserIDList":[],"options":{}}"#).unwrap();
        assert_eq!(read.send_id, "u");
        let pulled: PullMsgs = serde_json::from_str(r#"{"Msgs":null,"isEnd":true}"#).unwrap();
        assert!(pulled.msgs.is_empty() && pulled.is_end);
    }

    #[test]
    fn bytes_reject_unpadded_base64() {
        assert!(serde_json::from_str::<MsgData>(r#"{"content":"eyJ9"}"#).is_ok());
        assert!(serde_json::from_str::<MsgData>(r#"{"content":"eyJ"}"#).is_err());
        assert!(serde_json::from_str::<MsgData>(r#"{"content":5}"#).is_err());
    }
}
