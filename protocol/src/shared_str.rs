//! [`SharedStr`]: an immutable string, short ones held in place, longer ones shared by its
//! clones in one allocation.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

/// An immutable, cheaply clonable string: up to 15 bytes (7 on 32-bit targets) held in place,
/// longer texts in one shared `Arc<str>` allocation; two words either way, as `Option<Arc<str>>`.
/// The empty string and short ones (OpenIM's user and group IDs, most nicknames) allocate
/// nothing.
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
pub struct SharedStr(Repr);

/// Bytes of a [`SharedStr`]: two words, as an `Arc<str>` (and `Option<Arc<str>>`) takes.
const SIZE: usize = 2 * std::mem::size_of::<usize>();

/// Longest text kept inline (15 bytes on 64-bit targets): the last byte is the tag.
const INLINE_MAX: usize = SIZE - 1;

/// Set in the last byte of an inline string (with its length in the low bits). A shared one
/// has its length there, little-endian: the top byte of a length no allocation reaches
/// (`<= isize::MAX`), so its top bit is clear.
const INLINE_TAG: u8 = 0x80;

/// A text of up to [`INLINE_MAX`] bytes in place (zero-padded: equal texts are equal bytes), or
/// the text of an `Arc<str>` (its address from [`Arc::into_raw`] and its length).
///
/// Why inline: OpenIM's user and group IDs (typically 10 digits), nicknames and short texts
/// fit. Held in place they cost no allocation when decoded, and cloning or dropping them
/// touches no shared count: with many conversations that count is a cache miss (and an atomic
/// operation) each time a row's copy is made for an event and dropped by its consumer.
#[derive(Clone, Copy)]
#[repr(C)]
union Repr {
    shared: Shared,
    inline: [u8; SIZE],
}

#[derive(Clone, Copy)]
#[repr(C)]
struct Shared {
    text: *const u8,
    /// The text's length, little-endian (see [`INLINE_TAG`]).
    len_le: usize,
}

// SAFETY: a SharedStr is an immutable text, inline or owned through a count of an `Arc<str>`,
// which is `Send` and `Sync`.
unsafe impl Send for SharedStr {}
// SAFETY: as for `Send`.
unsafe impl Sync for SharedStr {}

impl SharedStr {
    /// The empty string (no allocation).
    pub const fn new() -> SharedStr {
        let mut bytes = [0u8; SIZE];
        bytes[SIZE - 1] = INLINE_TAG;
        SharedStr(Repr { inline: bytes })
    }

    /// `text` in place; `None` if it is longer than [`INLINE_MAX`].
    fn inline(text: &str) -> Option<SharedStr> {
        if text.len() > INLINE_MAX {
            return None;
        }
        let mut bytes = [0u8; SIZE];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        // At most 15 (64-bit) or 7 (32-bit): it fits beside the tag.
        bytes[SIZE - 1] = INLINE_TAG | text.len() as u8;
        Some(SharedStr(Repr { inline: bytes }))
    }

    /// Takes over `arc`'s count (for a text longer than [`INLINE_MAX`]).
    fn shared(arc: Arc<str>) -> SharedStr {
        let len = arc.len();
        let text = Arc::into_raw(arc).cast::<u8>();
        SharedStr(Repr {
            shared: Shared {
                text,
                len_le: len.to_le(),
            },
        })
    }

    /// The shared form's address and length; `None` for an inline string.
    fn as_shared(&self) -> Option<(*const u8, usize)> {
        // SAFETY: each constructor initialises every byte of the union, and both fields are
        // plain data; the tag bit tells which one was written (see `INLINE_TAG`).
        unsafe {
            if self.0.inline[SIZE - 1] & INLINE_TAG != 0 {
                None
            } else {
                Some((self.0.shared.text, usize::from_le(self.0.shared.len_le)))
            }
        }
    }

    /// The `Arc<str>` pointer of a shared form (to rebuild the `Arc` or count it).
    fn arc_ptr(text: *const u8, len: usize) -> *const str {
        std::ptr::slice_from_raw_parts(text, len) as *const str
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        match self.as_shared() {
            // SAFETY: the address and length of a live `Arc<str>` this value holds a count of
            // (valid UTF-8).
            Some((text, len)) => unsafe {
                std::str::from_utf8_unchecked(std::slice::from_raw_parts(text, len))
            },
            // SAFETY: inline, the last byte is the tag with the length (at most INLINE_MAX),
            // and the bytes before it were copied from a `&str`.
            None => unsafe {
                let bytes = &self.0.inline;
                let len = usize::from(bytes[SIZE - 1] & !INLINE_TAG);
                std::str::from_utf8_unchecked(bytes.get_unchecked(..len))
            },
        }
    }

    /// True if both are known to hold the same text without comparing it: clones of one
    /// allocation, or both short enough to be held in place and equal (two words compared).
    /// Callers use it to skip work for a value that did not change.
    pub fn ptr_eq(&self, other: &SharedStr) -> bool {
        match (self.as_shared(), other.as_shared()) {
            (Some((a, _)), Some((b, _))) => std::ptr::eq(a, b),
            // SAFETY: both inline: every byte initialised (zero-padded).
            (None, None) => unsafe { self.0.inline == other.0.inline },
            _ => false,
        }
    }
}

impl Default for SharedStr {
    fn default() -> SharedStr {
        SharedStr::new()
    }
}

impl Clone for SharedStr {
    fn clone(&self) -> SharedStr {
        if let Some((text, len)) = self.as_shared() {
            // SAFETY: this value holds a count of that `Arc<str>`; the clone holds one more.
            unsafe { Arc::increment_strong_count(Self::arc_ptr(text, len)) };
        }
        SharedStr(self.0)
    }
}

impl Drop for SharedStr {
    fn drop(&mut self) {
        if let Some((text, len)) = self.as_shared() {
            // SAFETY: this value holds one count of that `Arc<str>` (from `Arc::into_raw` or
            // `increment_strong_count`), given back here, once.
            drop(unsafe { Arc::from_raw(Self::arc_ptr(text, len)) });
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
        SharedStr::inline(s).unwrap_or_else(|| SharedStr::shared(Arc::from(s)))
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
        SharedStr::inline(&s).unwrap_or_else(|| SharedStr::shared(s))
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
        match s.as_shared() {
            Some((text, len)) => {
                // Its count moves into the `Arc` (not given back by a drop).
                std::mem::forget(s);
                // SAFETY: the count this value held, of that `Arc<str>`.
                unsafe { Arc::from_raw(SharedStr::arc_ptr(text, len)) }
            }
            None => Arc::from(s.as_str()),
        }
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
        let a = SharedStr::from("a user ID longer than 15 bytes");
        assert!(a.clone().ptr_eq(&a));
        assert!(!SharedStr::from(a.as_str()).ptr_eq(&a));
        // Short texts are held in place: equal ones are "the same" without sharing.
        assert!(SharedStr::from("u1").ptr_eq(&SharedStr::from("u1")));
        assert!(!SharedStr::from("u1").ptr_eq(&SharedStr::from("u2")));
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
        let long = interner.get("a sender ID longer than 15 bytes");
        for i in 0..Interner::SLOTS {
            interner.get(&format!("x{i}"));
        }
        let long_again = interner.get("a sender ID longer than 15 bytes");
        assert_eq!(long_again, long);
        assert!(!long_again.ptr_eq(&long));
    }

    #[test]
    fn short_texts_are_held_in_place_and_long_ones_shared() {
        assert_eq!(std::mem::size_of::<SharedStr>(), SIZE);
        assert_eq!(
            std::mem::size_of::<SharedStr>(),
            std::mem::size_of::<Option<Arc<str>>>()
        );
        // Up to the limit in place (including multi-byte characters), then shared.
        let at_limit = "x".repeat(INLINE_MAX);
        let over = "x".repeat(INLINE_MAX + 1);
        let accents = "é".repeat(INLINE_MAX / 2); // 2 bytes each
        // An OpenIM user ID: in place on 64-bit targets only (7 bytes fit on 32-bit ones).
        let user_id = "3946258793";
        let texts = ["", "u1", user_id, at_limit.as_str(), accents.as_str()];
        for text in texts.into_iter().filter(|t| t.len() <= INLINE_MAX) {
            let s = SharedStr::from(text);
            assert!(s.as_shared().is_none(), "{text:?} in place");
            assert_eq!(s.as_str(), text);
            assert_eq!(s.len(), text.len());
            assert_eq!(s.clone(), text);
            assert_eq!(String::from(s.clone()), text);
            assert_eq!(&*Arc::<str>::from(s), text);
        }
        let s = SharedStr::from(over.as_str());
        assert!(s.as_shared().is_some());
        assert_eq!(s, over);
        // An `Arc<str>` of a short text becomes inline (its allocation is let go).
        let arc: Arc<str> = Arc::from("short");
        let s = SharedStr::from(arc.clone());
        assert_eq!(Arc::strong_count(&arc), 1);
        assert_eq!(s, "short");
    }

    #[test]
    fn a_shared_texts_count_follows_clones_drops_and_conversions() {
        let arc: Arc<str> = Arc::from("a conversation ID longer than 15 bytes");
        let s = SharedStr::from(arc.clone());
        assert_eq!(Arc::strong_count(&arc), 2);
        let copies: Vec<SharedStr> = (0..3).map(|_| s.clone()).collect();
        assert_eq!(Arc::strong_count(&arc), 5);
        assert!(copies.iter().all(|c| c.ptr_eq(&s) && c == &arc[..]));
        drop(copies);
        assert_eq!(Arc::strong_count(&arc), 2);
        // Into an `Arc<str>`: the same allocation, its count moved (not taken again).
        let back: Arc<str> = s.into();
        assert!(Arc::ptr_eq(&back, &arc));
        assert_eq!(Arc::strong_count(&arc), 2);
        drop(back);
        assert_eq!(Arc::strong_count(&arc), 1);
        // Clones on other threads share it and give their counts back.
        let s = SharedStr::from(arc.clone());
        let len = arc.len();
        std::thread::scope(|scope| {
            for _ in 0..4 {
                let c = s.clone();
                scope.spawn(move || assert_eq!(c.len(), len));
            }
        });
        drop(s);
        assert_eq!(Arc::strong_count(&arc), 1);
    }
}
