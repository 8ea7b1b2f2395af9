//! `open_enum!`: integer enums that keep unknown wire values.

/// Defines a `#[non_exhaustive]` enum over known `i32` wire values plus `Other(i32)` for
/// values this crate does not know, with `from_i32`, `as_i32`, `name`, conversions, and
/// serde as a bare JSON number. Equality, ordering and hashing compare the numeric value,
/// so `Other(101)` equals the named variant for 101.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $num:literal => $wire_name:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug)]
        #[non_exhaustive]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this crate does not know (kept as received).
            Other(i32),
        }

        impl $name {
            /// Every named variant, in declaration order.
            pub const ALL: &'static [$name] = &[$( $name::$variant, )*];

            /// Maps a wire value to a variant (unknown values become `Other`).
            pub const fn from_i32(value: i32) -> Self {
                match value {
                    $( $num => Self::$variant, )*
                    other => Self::Other(other),
                }
            }

            /// The wire value.
            pub const fn as_i32(self) -> i32 {
                match self {
                    $( Self::$variant => $num, )*
                    Self::Other(value) => value,
                }
            }

            /// The upstream constant name, or `None` for an unknown value.
            pub const fn name(self) -> Option<&'static str> {
                match Self::from_i32(self.as_i32()) {
                    $( Self::$variant => Some($wire_name), )*
                    Self::Other(_) => None,
                }
            }

            /// Whether the value is one this crate knows.
            pub const fn is_known(self) -> bool {
                self.name().is_some()
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.as_i32() == other.as_i32()
            }
        }
        impl Eq for $name {}
        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<::core::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for $name {
            fn cmp(&self, other: &Self) -> ::core::cmp::Ordering {
                self.as_i32().cmp(&other.as_i32())
            }
        }
        impl ::core::hash::Hash for $name {
            fn hash<H: ::core::hash::Hasher>(&self, state: &mut H) {
                self.as_i32().hash(state)
            }
        }
        impl From<i32> for $name {
            fn from(value: i32) -> Self {
                Self::from_i32(value)
            }
        }
        impl From<$name> for i32 {
            fn from(value: $name) -> i32 {
                value.as_i32()
            }
        }
        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                match self.name() {
                    Some(name) => write!(f, "{} ({})", name, self.as_i32()),
                    None => write!(f, "unknown ({})", self.as_i32()),
                }
            }
        }
        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_i32(self.as_i32())
            }
        }
        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <i32 as ::serde::Deserialize>::deserialize(d).map(Self::from_i32)
            }
        }
    };
}

pub(crate) use open_enum;
