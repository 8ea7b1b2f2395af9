//! The local store (sled): what the bot knows about itself, its conversations, friends, groups
//! and applications, plus keyed trees for the runtime (dialogue state, cooldowns).
//!
//! Keys and values are versioned: values are JSON documents and the schema version is kept under
//! `meta/schema`, so another backend can be added behind the same queries.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::model::{
    Blacklisted, Conversation, Friend, FriendApplication, GroupApplication, GroupInfo, GroupMember,
    UserInfo,
};

/// sled's background flush interval: acknowledged watermarks and rows written up to this long
/// before a hard crash may be lost (their messages are then delivered again).
pub(crate) const FLUSH_EVERY_MS: u64 = 100;

/// Schema version of the stored documents.
pub const SCHEMA_VERSION: u32 = 1;

/// Errors of the local store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// sled failed.
    #[error("local store: {0}")]
    Sled(#[from] sled::Error),
    /// A stored document does not decode.
    #[error("local store: corrupt document in {tree}/{key}: {source}")]
    Corrupt {
        /// Tree name.
        tree: String,
        /// Key.
        key: String,
        /// JSON error.
        source: serde_json::Error,
    },
    /// The store was written by an incompatible version.
    #[error("local store: schema version {found} is not supported (expected {SCHEMA_VERSION})")]
    Schema {
        /// Version found.
        found: u32,
    },
}

pub(crate) mod trees {
    pub const META: &str = "meta";
    pub const CONVERSATIONS: &str = "conversations";
    pub const FRIENDS: &str = "friends";
    pub const FRIEND_APPS: &str = "friend_applications";
    pub const BLACKLIST: &str = "blacklist";
    pub const GROUPS: &str = "groups";
    pub const MEMBERS: &str = "group_members";
    pub const GROUP_APPS: &str = "group_applications";
    pub const LEDGER: &str = "ledger";
    pub const MESSAGES: &str = "message_ids";
    pub const SENT: &str = "sent_client_msg_ids";
    pub const REVOKED: &str = "revoked";
    /// Incremental-sync positions `(versionID, version)` per version-logged list
    /// (`friends`, `joined_groups`, `members/<groupID>`, `conversations`).
    pub const VERSIONS: &str = "sync_versions";
}

/// Handle on the local store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    /// Per-conversation contribution to the total unread count, built on first use and kept up
    /// to date by [`Store::put_conversation`], so the total costs O(1) per message instead of a
    /// scan of every conversation.
    unread: std::sync::Arc<parking_lot::Mutex<Option<UnreadIndex>>>,
}

/// Cached contributions to the total unread count.
#[derive(Default)]
struct UnreadIndex {
    per_conversation: std::collections::HashMap<String, i32>,
    total: i64,
}

/// What a conversation adds to the total unread count (SDK rule: visible conversations whose
/// recvMsgOpt is below 2).
fn unread_contribution(c: &Conversation) -> i32 {
    if c.recv_msg_opt < 2 && c.latest_msg_send_time > 0 {
        c.unread_count.max(0)
    } else {
        0
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl From<sled::Error> for crate::session::SessionError {
    fn from(e: sled::Error) -> Self {
        crate::session::SessionError::Store(StoreError::Sled(e))
    }
}

impl Store {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Store, StoreError> {
        let db = sled::Config::new()
            .path(dir.as_ref().join("store"))
            // The crash bound of the delivery guarantee: what sled holds in memory reaches the
            // disk within this interval (sled's default is 500 ms).
            .flush_every_ms(Some(FLUSH_EVERY_MS))
            // The page cache keeps sled's default (1 GB upper bound, filled only by pages
            // actually touched). Measured with openim-bench: bounding it to 8, 32 or 128 MB made
            // the per-event cost with 100,000 conversations 1.5-2.5x higher (leaf pages evicted
            // and rebuilt) without lowering the memory row's peak, which comes from elsewhere.
            .open()?;
        Self::init(db)
    }

    /// Like [`Store::open`], but waits up to 5 s while another handle (a session still shutting
    /// down) holds the directory's lock.
    pub async fn open_waiting(dir: impl AsRef<Path>) -> Result<Store, StoreError> {
        let mut tries = 0;
        loop {
            match Self::open(dir.as_ref()) {
                Err(StoreError::Sled(sled::Error::Io(e)))
                    if tries < 50 && e.to_string().contains("could not acquire lock") =>
                {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                other => return other,
            }
        }
    }

    /// A throwaway in-memory store (tests).
    pub fn temporary() -> Result<Store, StoreError> {
        let db = sled::Config::new().temporary(true).open()?;
        Self::init(db)
    }

    fn init(db: sled::Db) -> Result<Store, StoreError> {
        let store = Store {
            db,
            unread: Default::default(),
        };
        let meta = store.db.open_tree(trees::META)?;
        match meta.get("schema")? {
            Some(v) => {
                let found = std::str::from_utf8(&v)
                    .ok()
                    .and_then(|s| s.parse::<u32>().ok())
                    .unwrap_or(0);
                if found != SCHEMA_VERSION {
                    return Err(StoreError::Schema { found });
                }
            }
            None => {
                meta.insert("schema", SCHEMA_VERSION.to_string().as_bytes())?;
            }
        }
        Ok(store)
    }

    /// A named key-value tree for the runtime's own state (prefixed `user:` internally, so it
    /// never collides with the session's trees).
    pub fn tree(&self, name: &str) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(format!("user:{name}"))?)
    }

    pub(crate) fn raw_tree(&self, name: &str) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(name)?)
    }

    /// Writes everything to disk.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    pub(crate) fn get<T: DeserializeOwned>(
        &self,
        tree: &str,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        let t = self.db.open_tree(tree)?;
        match t.get(key)? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|source| StoreError::Corrupt {
                    tree: tree.into(),
                    key: key.into(),
                    source,
                }),
        }
    }

    pub(crate) fn put<T: Serialize>(
        &self,
        tree: &str,
        key: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        let t = self.db.open_tree(tree)?;
        let bytes = serde_json::to_vec(value).map_err(|source| StoreError::Corrupt {
            tree: tree.into(),
            key: key.into(),
            source,
        })?;
        t.insert(key, bytes)?;
        Ok(())
    }

    // Relation writes now go through `version::Commit`; kept for single-row removals.
    #[allow(dead_code)]
    pub(crate) fn remove(&self, tree: &str, key: &str) -> Result<(), StoreError> {
        self.db.open_tree(tree)?.remove(key)?;
        Ok(())
    }

    pub(crate) fn list<T: DeserializeOwned>(
        &self,
        tree: &str,
        prefix: &str,
    ) -> Result<Vec<T>, StoreError> {
        let t = self.db.open_tree(tree)?;
        let mut out = Vec::new();
        for item in t.scan_prefix(prefix) {
            let (k, v) = item?;
            let value = serde_json::from_slice(&v).map_err(|source| StoreError::Corrupt {
                tree: tree.into(),
                key: String::from_utf8_lossy(&k).into_owned(),
                source,
            })?;
            out.push(value);
        }
        Ok(out)
    }

    /// The bot's own profile, once synced.
    pub fn self_info(&self) -> Result<Option<UserInfo>, StoreError> {
        self.get(trees::META, "self")
    }

    /// All known conversations.
    pub fn conversations(&self) -> Result<Vec<Conversation>, StoreError> {
        self.list(trees::CONVERSATIONS, "")
    }

    /// One conversation.
    pub fn conversation(&self, conversation_id: &str) -> Result<Option<Conversation>, StoreError> {
        self.get(trees::CONVERSATIONS, conversation_id)
    }

    /// Writes a conversation row and keeps the cached unread total in step.
    pub(crate) fn put_conversation(&self, key: &str, c: &Conversation) -> Result<(), StoreError> {
        self.put(trees::CONVERSATIONS, key, c)?;
        if let Some(index) = self.unread.lock().as_mut() {
            let new = unread_contribution(c);
            let old = index
                .per_conversation
                .insert(key.to_owned(), new)
                .unwrap_or(0);
            index.total += i64::from(new) - i64::from(old);
        }
        Ok(())
    }

    /// Writes several conversation rows (keyed by their conversation ID) in one sled batch and
    /// keeps the cached unread total in step: a burst of messages costs one write per
    /// conversation instead of one per message.
    pub(crate) fn put_conversations<'a>(
        &self,
        rows: impl IntoIterator<Item = &'a Conversation>,
    ) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        let mut contributions = Vec::new();
        for c in rows {
            let bytes = serde_json::to_vec(c).map_err(|source| StoreError::Corrupt {
                tree: trees::CONVERSATIONS.into(),
                key: c.conversation_id.clone(),
                source,
            })?;
            batch.insert(c.conversation_id.as_bytes(), bytes);
            contributions.push((c.conversation_id.as_str(), unread_contribution(c)));
        }
        self.db
            .open_tree(trees::CONVERSATIONS)?
            .apply_batch(batch)?;
        if let Some(index) = self.unread.lock().as_mut() {
            for (key, new) in contributions {
                let old = match index.per_conversation.get_mut(key) {
                    Some(slot) => std::mem::replace(slot, new),
                    None => {
                        index.per_conversation.insert(key.to_owned(), new);
                        0
                    }
                };
                index.total += i64::from(new) - i64::from(old);
            }
        }
        Ok(())
    }

    /// Writes pre-encoded entries into `tree` in one sled batch.
    pub(crate) fn put_raw_batch(
        &self,
        tree: &str,
        entries: impl IntoIterator<Item = (String, Vec<u8>)>,
    ) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (k, v) in entries {
            batch.insert(k.as_bytes(), v);
        }
        self.db.open_tree(tree)?.apply_batch(batch)?;
        Ok(())
    }

    /// Σ unread over visible conversations with recvMsgOpt < 2 (SDK rule).
    pub fn total_unread(&self) -> Result<i32, StoreError> {
        let mut guard = self.unread.lock();
        if guard.is_none() {
            let mut index = UnreadIndex::default();
            for c in self.conversations()? {
                let n = unread_contribution(&c);
                index.total += i64::from(n);
                index.per_conversation.insert(c.conversation_id, n);
            }
            *guard = Some(index);
        }
        let total = guard.as_ref().map_or(0, |index| index.total);
        Ok(total.clamp(0, i64::from(i32::MAX)) as i32)
    }

    /// All friends.
    pub fn friends(&self) -> Result<Vec<Friend>, StoreError> {
        self.list(trees::FRIENDS, "")
    }

    /// One friend.
    pub fn friend(&self, user_id: &str) -> Result<Option<Friend>, StoreError> {
        self.get(trees::FRIENDS, user_id)
    }

    /// Pending friend applications (received and sent).
    pub fn friend_applications(&self) -> Result<Vec<FriendApplication>, StoreError> {
        self.list(trees::FRIEND_APPS, "")
    }

    /// The bot's blacklist.
    pub fn blacklist(&self) -> Result<Vec<Blacklisted>, StoreError> {
        self.list(trees::BLACKLIST, "")
    }

    /// Groups the bot is in.
    pub fn groups(&self) -> Result<Vec<GroupInfo>, StoreError> {
        self.list(trees::GROUPS, "")
    }

    /// One joined group.
    pub fn group(&self, group_id: &str) -> Result<Option<GroupInfo>, StoreError> {
        self.get(trees::GROUPS, group_id)
    }

    /// Known members of a group.
    pub fn members(&self, group_id: &str) -> Result<Vec<GroupMember>, StoreError> {
        self.list(trees::MEMBERS, &format!("{group_id}/"))
    }

    /// One member of a group.
    pub fn member(&self, group_id: &str, user_id: &str) -> Result<Option<GroupMember>, StoreError> {
        self.get(trees::MEMBERS, &format!("{group_id}/{user_id}"))
    }

    /// Pending group applications (to groups the bot administers and the bot's own).
    pub fn group_applications(&self) -> Result<Vec<GroupApplication>, StoreError> {
        self.list(trees::GROUP_APPS, "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation(id: &str, unread: i32, recv_msg_opt: i32) -> Conversation {
        Conversation {
            conversation_id: id.into(),
            unread_count: unread,
            recv_msg_opt,
            latest_msg_send_time: 1,
            ..Default::default()
        }
    }

    fn scanned_total(s: &Store) -> i32 {
        s.conversations()
            .unwrap()
            .iter()
            .map(unread_contribution)
            .sum()
    }

    #[test]
    fn cached_unread_total_follows_every_write() {
        let s = Store::temporary().unwrap();
        // Rows written before the cache exists are counted when it is built.
        s.put_conversation("si_a_b", &conversation("si_a_b", 3, 0))
            .unwrap();
        assert_eq!(s.total_unread().unwrap(), 3);
        s.put_conversation("sg_g1", &conversation("sg_g1", 5, 0))
            .unwrap();
        // Not notified (recvMsgOpt 2): not counted.
        s.put_conversation("sg_g2", &conversation("sg_g2", 7, 2))
            .unwrap();
        assert_eq!(s.total_unread().unwrap(), 8);
        // Read: the row's contribution is replaced, not added.
        s.put_conversation("si_a_b", &conversation("si_a_b", 0, 0))
            .unwrap();
        assert_eq!(s.total_unread().unwrap(), 5);
        assert_eq!(s.total_unread().unwrap(), scanned_total(&s));
        // A second handle on the same store shares the cache.
        let other = s.clone();
        other
            .put_conversation("sg_g2", &conversation("sg_g2", 7, 0))
            .unwrap();
        assert_eq!(s.total_unread().unwrap(), 12);
        assert_eq!(s.total_unread().unwrap(), scanned_total(&s));
    }

    #[test]
    fn batched_conversation_writes_keep_the_unread_total() {
        let s = Store::temporary().unwrap();
        s.put_conversation("si_a_b", &conversation("si_a_b", 2, 0))
            .unwrap();
        assert_eq!(s.total_unread().unwrap(), 2);
        let rows = [
            conversation("si_a_b", 4, 0),
            conversation("sg_g1", 3, 0),
            conversation("sg_g2", 9, 2),
        ];
        s.put_conversations(&rows).unwrap();
        assert_eq!(
            s.total_unread().unwrap(),
            7,
            "replaced 2 by 4, added 3, 9 not counted"
        );
        assert_eq!(s.total_unread().unwrap(), scanned_total(&s));
        assert_eq!(s.conversation("sg_g1").unwrap().as_ref(), Some(&rows[1]));
        s.put_raw_batch(trees::MESSAGES, [("c/1".to_owned(), b"{}".to_vec())])
            .unwrap();
        assert!(
            s.raw_tree(trees::MESSAGES)
                .unwrap()
                .get("c/1")
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn stores_and_lists_members_by_group() {
        let s = Store::temporary().unwrap();
        let m = GroupMember {
            group_id: "g1".into(),
            user_id: "u1".into(),
            ..Default::default()
        };
        s.put(trees::MEMBERS, "g1/u1", &m).unwrap();
        s.put(trees::MEMBERS, "g10/u1", &m).unwrap();
        assert_eq!(s.members("g1").unwrap().len(), 1);
        assert_eq!(s.member("g1", "u1").unwrap(), Some(m));
        let t = s.tree("cooldowns").unwrap();
        t.insert("k", "v").unwrap();
        assert!(s.tree("cooldowns").unwrap().get("k").unwrap().is_some());
    }

    #[test]
    fn corrupt_documents_are_typed_errors() {
        let s = Store::temporary().unwrap();
        s.raw_tree(trees::FRIENDS)
            .unwrap()
            .insert("x", "{nope")
            .unwrap();
        assert!(matches!(s.friends(), Err(StoreError::Corrupt { .. })));
    }
}
