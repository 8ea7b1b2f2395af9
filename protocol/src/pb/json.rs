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
