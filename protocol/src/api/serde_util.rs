//! Serde plumbing that reproduces Go `encoding/json` behaviour on the OpenIM HTTP API (http-api.md §1.5).
//!
//! * Decoding: an absent key or an explicit `null` leaves the field at its zero value, as Go does.
//! * Encoding of replies: empty lists, maps and byte strings are written as `null`, because every
//!   RPC-backed reply crosses a binary protobuf hop that cannot tell empty from absent.
//! * Encoding of requests: lists are written as `[]` (some server checks reject `null`).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Values that Go may encode as `null` when they are empty (nil slices, maps, bytes).
pub(crate) trait GoNil {
    /// True when the Go server writes this value as `null`.
    fn is_go_nil(&self) -> bool {
        false
    }
}

macro_rules! never_nil {
    ($($t:ty),*) => { $(impl GoNil for $t {})* };
}
never_nil!(String, bool, i32, i64, u32, u64, f64, serde_json::Value);

impl<T> GoNil for Option<T> {}

impl<T> GoNil for Vec<T> {
    fn is_go_nil(&self) -> bool {
        self.is_empty()
    }
}

impl<K, V> GoNil for BTreeMap<K, V> {
    fn is_go_nil(&self) -> bool {
        self.is_empty()
    }
}

impl<K, V, H> GoNil for HashMap<K, V, H> {
    fn is_go_nil(&self) -> bool {
        self.is_empty()
    }
}

/// A visitor accepting only a JSON object (or `null`-free map), which it hands to `T`'s derived
/// decoder.
pub(crate) struct ObjectOnly<T> {
    name: &'static str,
    marker: std::marker::PhantomData<T>,
}

impl<T> ObjectOnly<T> {
    /// A visitor for the type named `name` (used in error messages).
    pub(crate) fn new(name: &'static str) -> Self {
        Self {
            name,
            marker: std::marker::PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for ObjectOnly<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a JSON object ({})", self.name)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(FoldKeys { map })
    }
}

/// Feeds a JSON object to a derived struct decoder with Go's key matching: a key that is not
/// exactly a field name is matched to a field name case-insensitively (`UserID` → `userID`).
struct FoldKeys<A> {
    map: A,
}

impl<'de, A: serde::de::MapAccess<'de>> Deserializer<'de> for FoldKeys<A> {
    type Error = A::Error;

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        visitor.visit_map(FoldKeysAccess {
            map: self.map,
            fields,
        })
    }

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_map(self.map)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

struct FoldKeysAccess<A> {
    map: A,
    fields: &'static [&'static str],
}

impl<'de, A: serde::de::MapAccess<'de>> serde::de::MapAccess<'de> for FoldKeysAccess<A> {
    type Error = A::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        use serde::de::IntoDeserializer;
        let Some(key) = self.map.next_key::<String>()? else {
            return Ok(None);
        };
        let canonical = if self.fields.contains(&key.as_str()) {
            key.as_str()
        } else {
            self.fields
                .iter()
                .find(|field| field.eq_ignore_ascii_case(&key))
                .copied()
                .unwrap_or(key.as_str())
        };
        seed.deserialize(canonical.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// `deserialize_with`: absent or `null` → `T::default()`, like Go leaving the zero value.
pub(crate) fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// `serialize_with`: empty lists/maps/bytes → `null`, everything else as usual.
pub(crate) fn nil_if_empty<T, S>(value: &T, serializer: S) -> Result<S::Ok, S::Error>
where
    T: GoNil + Serialize,
    S: Serializer,
{
    if value.is_go_nil() {
        serializer.serialize_none()
    } else {
        value.serialize(serializer)
    }
}

/// Declares a JSON body struct with the Go decoding rules (absent/`null` = zero value, unknown keys
/// ignored) and `rename_all = "camelCase"`; fields whose proto name differs (`userID`, `faceURL`,
/// capitalised keys) carry their own `#[serde(rename = ..)]`.
///
/// * `@request` — lists and maps are encoded as `[]`/`{}`.
/// * `@reply` — empty lists and maps are encoded as `null` (Go server shape).
/// * a trailing `, secret` after the mode omits the derived `Debug` (write a redacting one).
macro_rules! json_struct {
    (@request, secret; $($rest:tt)*) => {
        $crate::api::serde_util::json_struct!(@impl [serde()] [] $($rest)*);
    };
    (@request; $($rest:tt)*) => {
        $crate::api::serde_util::json_struct!(@impl [serde()] [Debug] $($rest)*);
    };
    (@reply, secret; $($rest:tt)*) => {
        $crate::api::serde_util::json_struct!(
            @impl [serde(serialize_with = "crate::api::serde_util::nil_if_empty")] [] $($rest)*
        );
    };
    (@reply; $($rest:tt)*) => {
        $crate::api::serde_util::json_struct!(
            @impl [serde(serialize_with = "crate::api::serde_util::nil_if_empty")] [Debug] $($rest)*
        );
    };
    (@impl [$ser:meta] [$($debug:ident)?]
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                pub $field:ident : $ty:ty
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive($($debug,)? Clone, PartialEq, Default, ::serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            $(
                $(#[$fmeta])*
                #[$ser]
                pub $field: $ty,
            )*
        }

        // Decoding goes through a private twin so that only JSON objects are accepted (serde's
        // derive would also take arrays, which Go rejects).
        const _: () = {
            #[derive(::serde::Deserialize)]
            #[serde(rename_all = "camelCase")]
            struct Twin {
                $(
                    $(#[$fmeta])*
                    #[serde(default, deserialize_with = "crate::api::serde_util::null_default")]
                    $field: $ty,
                )*
            }

            impl<'de> ::serde::Deserialize<'de> for $name {
                fn deserialize<D: ::serde::Deserializer<'de>>(
                    deserializer: D,
                ) -> ::std::result::Result<Self, D::Error> {
                    #[allow(unused_variables)]
                    let twin: Twin = deserializer.deserialize_map(
                        $crate::api::serde_util::ObjectOnly::<Twin>::new(stringify!($name)),
                    )?;
                    Ok($name { $($field: twin.$field,)* })
                }
            }
        };

        impl $crate::api::serde_util::GoNil for $name {}
        impl $crate::api::ApiReply for $name {}
    };
}
pub(crate) use json_struct;
