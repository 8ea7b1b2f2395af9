//! [`SharedStr`]: an immutable string whose clones share one allocation.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

/// An immutable, cheaply clonable string (`Arc<str>`-backed; the empty string allocates
/// nothing).
///
/// Received messages carry their per-conversation strings (conversation, sender and receiver
/// IDs, group ID, sender nickname and avatar) as `SharedStr`: the decoder makes one per distinct
/// value in a pull answer or push, and every message of it shares that one, where a `String` per
/// message and field would be allocated by the connection's task and freed by the handler's.
///
/// It reads like a `&str` (it derefs to `str`), compares with `str`, `&str` and `String` in both
/// directions, hashes and orders like its text (so a `HashMap<SharedStr, _>` is looked up with a
/// `&str`), displays and (de)serializes as a plain string, and converts from and into `String`.
///
/// Collections of `String` are queried with its `&str` (a `String` cannot borrow as a
/// `SharedStr`): `set.contains(id.as_str())`, `map.get(&*id)`, `list.iter().any(|u| id == *u)`;
/// an `Option<SharedStr>` compares as `opt.as_deref() == Some("g1")`:
///
/// ```
/// use std::collections::{HashMap, HashSet};
/// use openim_protocol::SharedStr;
///
/// let id = SharedStr::from("u1");
/// let set: HashSet<String> = ["u1".to_string()].into();
/// let map: HashMap<String, u32> = [("u1".to_string(), 7)].into();
/// let list = vec!["u0".to_string(), "u1".to_string()];
/// assert!(set.contains(id.as_str()));
/// assert_eq!(map.get(&*id), Some(&7));
/// assert!(list.iter().any(|u| id == *u));
/// assert!(id == "u1" && "u1" == id && id == list[1] && list[1] == id);
/// let group: Option<SharedStr> = Some("g1".into());
/// assert_eq!(group.as_deref(), Some("g1"));
/// let owned: String = id.clone().into();
/// assert_eq!(owned, id.to_string());
/// ```
///
/// ```
/// use openim_protocol::SharedStr;
///
/// let id = SharedStr::from("si_alice_bob");
/// let copy = id.clone(); // no new allocation
/// assert_eq!(copy, "si_alice_bob");
/// assert!(id.starts_with("si_"));
/// assert_eq!(format!("{id}"), "si_alice_bob");
/// let owned: String = id.into();
/// assert_eq!(owned, copy);
/// ```
#[derive(Clone, Default)]
pub struct SharedStr(Option<Arc<str>>);

impl SharedStr {
    /// The empty string (no allocation).
    pub const fn new() -> SharedStr {
        SharedStr(None)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        self.0.as_deref().unwrap_or("")
    }

    /// True if both share one allocation (or both are empty): a clone of the other.
    pub fn ptr_eq(&self, other: &SharedStr) -> bool {
        match (&self.0, &other.0) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        }
    }
}

impl Deref for SharedStr {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for SharedStr {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for SharedStr {
    fn as_ref(&self) -> &[u8] {
        self.as_str().as_bytes()
    }
}

impl AsRef<std::ffi::OsStr> for SharedStr {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.as_str().as_ref()
    }
}

impl Borrow<str> for SharedStr {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for SharedStr {
    fn eq(&self, other: &SharedStr) -> bool {
        self.ptr_eq(other) || self.as_str() == other.as_str()
    }
}

impl Eq for SharedStr {}

impl Hash for SharedStr {
    // As `str` hashes (required by `Borrow<str>`).
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl PartialOrd for SharedStr {
    fn partial_cmp(&self, other: &SharedStr) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SharedStr {
    fn cmp(&self, other: &SharedStr) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

macro_rules! eq_with {
    ($($other:ty),*) => {$(
        impl PartialEq<$other> for SharedStr {
            fn eq(&self, other: &$other) -> bool {
                self.as_str() == AsRef::<str>::as_ref(other)
            }
        }
        impl PartialEq<SharedStr> for $other {
            fn eq(&self, other: &SharedStr) -> bool {
                AsRef::<str>::as_ref(self) == other.as_str()
            }
        }
    )*};
}
eq_with!(str, &str, String, &String, std::borrow::Cow<'_, str>);

impl From<&str> for SharedStr {
    fn from(s: &str) -> SharedStr {
        if s.is_empty() {
            SharedStr(None)
        } else {
            SharedStr(Some(Arc::from(s)))
        }
    }
}

impl From<&String> for SharedStr {
    fn from(s: &String) -> SharedStr {
        SharedStr::from(s.as_str())
    }
}

impl From<String> for SharedStr {
    fn from(s: String) -> SharedStr {
        SharedStr::from(s.as_str())
    }
}

impl From<Box<str>> for SharedStr {
    fn from(s: Box<str>) -> SharedStr {
        SharedStr::from(&*s)
    }
}

impl From<std::borrow::Cow<'_, str>> for SharedStr {
    fn from(s: std::borrow::Cow<'_, str>) -> SharedStr {
        SharedStr::from(&*s)
    }
}

impl From<Arc<str>> for SharedStr {
    fn from(s: Arc<str>) -> SharedStr {
        if s.is_empty() {
            SharedStr(None)
        } else {
            SharedStr(Some(s))
        }
    }
}

impl From<SharedStr> for String {
    fn from(s: SharedStr) -> String {
        s.as_str().to_owned()
    }
}

impl From<&SharedStr> for String {
    fn from(s: &SharedStr) -> String {
        s.as_str().to_owned()
    }
}

impl From<SharedStr> for Arc<str> {
    fn from(s: SharedStr) -> Arc<str> {
        s.0.unwrap_or_else(|| Arc::from(""))
    }
}

impl std::str::FromStr for SharedStr {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<SharedStr, Self::Err> {
        Ok(SharedStr::from(s))
    }
}

impl serde::Serialize for SharedStr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for SharedStr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SharedStr, D::Error> {
        d.deserialize_str(SharedStrVisitor)
    }
}

/// Copies the deserializer's text straight into the shared allocation (no `String` first,
/// when the format hands out a `&str`).
struct SharedStrVisitor;

impl serde::de::Visitor<'_> for SharedStrVisitor {
    type Value = SharedStr;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<SharedStr, E> {
        Ok(SharedStr::from(v))
    }

    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<SharedStr, E> {
        std::str::from_utf8(v)
            .map(SharedStr::from)
            .map_err(|_| E::invalid_value(serde::de::Unexpected::Bytes(v), &self))
    }
}

/// Hands out one [`SharedStr`] per distinct value among the last few seen, so that the messages
/// of one decoded answer share their repeated strings.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    recent: [SharedStr; Interner::SLOTS],
    next: usize,
}

impl Interner {
    /// How many distinct values are remembered (a single chat alternates two senders; a
    /// group's recent senders are a handful).
    const SLOTS: usize = 4;

    /// The shared string equal to `text`: one remembered, or a new one (then remembered in
    /// place of the oldest).
    pub(crate) fn get(&mut self, text: &str) -> SharedStr {
        if text.is_empty() {
            return SharedStr::new();
        }
        if let Some(s) = self.recent.iter().find(|s| s.as_str() == text) {
            return s.clone();
        }
        let s = SharedStr::from(text);
        self.recent[self.next] = s.clone();
        self.next = (self.next + 1) % Self::SLOTS;
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};

    #[test]
    fn compares_hashes_and_orders_like_its_text() {
        let a = SharedStr::from("abc");
        assert_eq!(a, "abc");
        assert_eq!("abc", a);
        assert_eq!(a, *"abc");
        assert_eq!(*"abc", a);
        assert_eq!(a, "abc".to_string());
        assert_eq!("abc".to_string(), a);
        assert_eq!(a, &"abc".to_string());
        assert_ne!(a, "abd");
        let b = SharedStr::from("abd");
        assert!(a < b);
        assert_eq!(b.cmp(&a), Ordering::Greater);
        let mut map = HashMap::new();
        map.insert(a.clone(), 1);
        assert_eq!(map.get("abc"), Some(&1));
        let mut tree = BTreeMap::new();
        tree.insert(a.clone(), 2);
        assert_eq!(tree.get("abc"), Some(&2));
        assert_eq!(SharedStr::new(), "");
        assert_eq!(SharedStr::from(""), SharedStr::default());
        assert_eq!(SharedStr::from(String::new()), SharedStr::new());
        assert_eq!(format!("{a}|{a:?}"), "abc|\"abc\"");
        assert_eq!(a.len(), 3);
        assert_eq!(String::from(a.clone()), "abc");
        assert_eq!(Arc::<str>::from(SharedStr::new()).as_ref(), "");
    }

    #[test]
    fn serializes_as_a_plain_string() {
        let a = SharedStr::from("x\"y");
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, serde_json::to_string("x\"y").unwrap());
        let back: SharedStr = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a);
        let empty: SharedStr = serde_json::from_str("\"\"").unwrap();
        assert!(empty.is_empty());
        assert!(serde_json::from_str::<SharedStr>("5").is_err());
        let escaped: SharedStr = serde_json::from_str(r#""a\u00e9""#).unwrap();
        assert_eq!(escaped, "a\u{e9}");
    }

    #[test]
    fn clones_share_and_the_interner_reuses_recent_values() {
        let a = SharedStr::from("u1");
        assert!(a.clone().ptr_eq(&a));
        assert!(!SharedStr::from("u1").ptr_eq(&a));
        let mut interner = Interner::default();
        let first = interner.get("u1");
        let other = interner.get("u2");
        assert!(interner.get("u1").ptr_eq(&first));
        assert!(interner.get("u2").ptr_eq(&other));
        assert!(interner.get("").ptr_eq(&SharedStr::new()));
        // Beyond the remembered values a new one is made (still equal).
        for i in 0..Interner::SLOTS {
            interner.get(&format!("x{i}"));
        }
        let again = interner.get("u1");
        assert_eq!(again, first);
        assert!(!again.ptr_eq(&first));
    }
}
