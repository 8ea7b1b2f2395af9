//! Incremental ("version") sync bookkeeping: the stored `(versionID, version)` of every
//! version-logged list (friends, joined groups, the members of each group, conversations) and
//! the deferred write of the changes derived from one sync.
//!
//! Relation changes are turned into events by comparing them with the store; the store and the
//! new version are written only after those events were emitted ([`Commit::apply`]). A crash in
//! between leaves the old rows and the old version, so the next connect fetches the same changes
//! again and reports them again (at least once), while a change already in the store is never
//! reported twice.

use serde::{Deserialize, Serialize};

use crate::model::{Conversation, GroupMember};
use crate::store::{Store, StoreError, trees};

/// Keys of the version-logged lists in the `sync_versions` tree.
pub(crate) mod lists {
    /// The bot's friends.
    pub const FRIENDS: &str = "friends";
    /// The groups the bot is in.
    pub const JOINED_GROUPS: &str = "joined_groups";
    /// The bot's conversations (server-side settings).
    pub const CONVERSATIONS: &str = "conversations";

    /// The members of one group.
    pub fn members(group_id: &str) -> String {
        format!("members/{group_id}")
    }
}

/// A stored sync position: the log ID and the version last applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SyncVersion {
    /// Log ID (24 hex characters).
    #[serde(rename = "versionID")]
    pub version_id: String,
    /// Last applied version.
    pub version: u64,
}

impl SyncVersion {
    /// The position to send for `stored` (`""`/0 when nothing is stored: the server then
    /// answers `full` with its head).
    pub(crate) fn request(stored: Option<&SyncVersion>) -> (&str, u64) {
        stored.map_or(("", 0), |s| (s.version_id.as_str(), s.version))
    }

    /// True if an incremental answer `(version_id, full)` can be applied on top of `stored`:
    /// something was stored, the server did not ask for a full resync, and the log is the same.
    pub(crate) fn continues(stored: Option<&SyncVersion>, version_id: &str, full: bool) -> bool {
        matches!(stored, Some(s) if !full && !s.version_id.is_empty() && s.version_id == version_id)
    }
}

/// One pending write.
#[derive(Debug)]
enum Op {
    Put {
        tree: &'static str,
        key: String,
        value: Vec<u8>,
    },
    Remove {
        tree: &'static str,
        key: String,
    },
}

/// Store writes collected during one sync, applied after its events were emitted.
#[derive(Debug, Default)]
pub(crate) struct Commit {
    ops: Vec<Op>,
    conversations: Vec<Conversation>,
}

impl Commit {
    /// Writes `value` under `tree/key`.
    pub(crate) fn put<T: Serialize>(&mut self, tree: &'static str, key: &str, value: &T) {
        match serde_json::to_vec(value) {
            Ok(value) => self.ops.push(Op::Put {
                tree,
                key: key.to_owned(),
                value,
            }),
            // Plain data structs always serialise; keep going if one ever does not.
            Err(e) => tracing::error!(tree, key, error = %e, "store row not serialisable"),
        }
    }

    /// Writes a group member row (compact encoding, see [`member_row`]).
    pub(crate) fn put_member(&mut self, m: &GroupMember) {
        self.ops.push(Op::Put {
            tree: trees::MEMBERS,
            key: member_row::key(&m.group_id, &m.user_id),
            value: member_row::encode(m),
        });
    }

    /// Removes `tree/key`.
    pub(crate) fn remove(&mut self, tree: &'static str, key: &str) {
        self.ops.push(Op::Remove {
            tree,
            key: key.to_owned(),
        });
    }

    /// Records the new sync position of `list`.
    pub(crate) fn version(&mut self, list: &str, version_id: &str, version: u64) {
        self.put(
            trees::VERSIONS,
            list,
            &SyncVersion {
                version_id: version_id.to_owned(),
                version,
            },
        );
    }

    /// Forgets the sync position of `list` (its rows are gone).
    pub(crate) fn forget_version(&mut self, list: &str) {
        self.remove(trees::VERSIONS, list);
    }

    /// Writes a conversation row (through [`Store::put_conversation`], which keeps the unread
    /// total in step).
    pub(crate) fn conversation(&mut self, c: crate::model::Conversation) {
        self.conversations.push(c);
    }

    /// Pending row writes.
    pub(crate) fn len(&self) -> usize {
        self.ops.len() + self.conversations.len()
    }

    /// Appends `other`'s writes after these.
    pub(crate) fn extend(&mut self, other: Commit) {
        self.ops.extend(other.ops);
        self.conversations.extend(other.conversations);
    }

    /// Applies everything in order: conversation rows, then the other rows (one atomic sled
    /// batch per tree), then the versions (one batch), so a stored version never runs ahead of
    /// the rows it describes. Atomicity across trees is not needed: rows written without their
    /// version are found again at the next sync and compared with the store (no event).
    pub(crate) fn apply(self, store: &Store) -> Result<(), StoreError> {
        for c in &self.conversations {
            store.put_conversation(&c.conversation_id, c)?;
        }
        let (data, versions): (Vec<Op>, Vec<Op>) = self.ops.into_iter().partition(|op| {
            !matches!(op, Op::Put { tree, .. } | Op::Remove { tree, .. } if *tree == trees::VERSIONS)
        });
        let mut batches: Vec<(&'static str, sled::Batch)> = Vec::new();
        for op in data.into_iter().chain(versions) {
            let tree = match &op {
                Op::Put { tree, .. } | Op::Remove { tree, .. } => *tree,
            };
            // A new batch whenever the tree changes keeps the order of the writes.
            if batches.last().is_none_or(|(t, _)| *t != tree) {
                batches.push((tree, sled::Batch::default()));
            }
            if let Some((_, batch)) = batches.last_mut() {
                match op {
                    Op::Put { key, value, .. } => batch.insert(key.as_bytes(), value),
                    Op::Remove { key, .. } => batch.remove(key.as_bytes()),
                }
            }
        }
        for (tree, batch) in batches {
            store.raw_tree(tree)?.apply_batch(batch)?;
        }
        Ok(())
    }
}

/// The stored form of a group member: `groupID/userID` → a compact binary row.
///
/// A large group sync writes one row per member (100,000 for 1,000 groups of 100) and sled
/// keeps what it wrote in memory, so the row size is most of the store's resident size. JSON
/// rows repeated every field name and both IDs (~230 bytes); this row leaves out the IDs (they
/// are in the key) and encodes the rest as tagged varints and length-prefixed strings
/// (~40 bytes for a typical member). Rows written as JSON by older versions are still read.
pub(crate) mod member_row {
    use crate::compact::{Reader, put_int, put_uint};
    use crate::model::GroupMember;

    /// First byte of a compact row (a JSON row starts with `{`).
    const TAG: u8 = 1;

    /// The row key of `user_id` in `group_id`.
    pub(crate) fn key(group_id: &str, user_id: &str) -> String {
        format!("{group_id}/{user_id}")
    }

    /// Encodes `m` (its IDs excepted).
    pub(crate) fn encode(m: &GroupMember) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            16 + m.nickname.len()
                + m.face_url.len()
                + m.inviter_user_id.len()
                + m.operator_user_id.len()
                + m.ex.len(),
        );
        out.push(TAG);
        put_str(&mut out, &m.nickname);
        put_str(&mut out, &m.face_url);
        put_int(&mut out, i64::from(m.role_level));
        put_int(&mut out, m.join_time);
        put_int(&mut out, i64::from(m.join_source));
        put_str(&mut out, &m.inviter_user_id);
        put_int(&mut out, m.mute_end_time);
        put_str(&mut out, &m.operator_user_id);
        put_str(&mut out, &m.ex);
        out
    }

    /// Decodes the row of `user_id` in `group_id` (compact or JSON).
    pub(crate) fn decode(
        group_id: &str,
        user_id: &str,
        row: &[u8],
    ) -> Result<GroupMember, serde_json::Error> {
        if row.first() != Some(&TAG) {
            return serde_json::from_slice(row);
        }
        fields(group_id, user_id, &mut Reader::new(&row[1..])).map_err(bad)
    }

    fn fields(
        group_id: &str,
        user_id: &str,
        r: &mut Reader<'_>,
    ) -> Result<GroupMember, &'static str> {
        let m = GroupMember {
            group_id: group_id.to_owned(),
            user_id: user_id.to_owned(),
            nickname: read_str(r)?,
            face_url: read_str(r)?,
            role_level: r.int32()?,
            join_time: r.int()?,
            join_source: r.int32()?,
            inviter_user_id: read_str(r)?,
            mute_end_time: r.int()?,
            operator_user_id: read_str(r)?,
            ex: read_str(r)?,
        };
        if !r.is_empty() {
            return Err("trailing bytes");
        }
        Ok(m)
    }

    fn put_str(out: &mut Vec<u8>, s: &str) {
        put_uint(out, s.len() as u64);
        out.extend_from_slice(s.as_bytes());
    }

    fn bad(what: &str) -> serde_json::Error {
        <serde_json::Error as serde::de::Error>::custom(format!("member row: {what}"))
    }

    fn read_str(r: &mut Reader<'_>) -> Result<String, &'static str> {
        let len = r.uint()?;
        r.str(len).map(str::to_owned)
    }
}

impl Store {
    /// The stored sync position of `list` (`None` if never synced, or unreadable: a full
    /// resync follows either way).
    pub(crate) fn sync_version(&self, list: &str) -> Option<SyncVersion> {
        match self.get::<SyncVersion>(trees::VERSIONS, list) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(list, error = %e, "stored sync version unreadable; full resync");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Friend;

    #[test]
    fn continues_only_on_the_same_log_without_full() {
        let s = SyncVersion {
            version_id: "a".repeat(24),
            version: 3,
        };
        assert!(SyncVersion::continues(Some(&s), &"a".repeat(24), false));
        assert!(!SyncVersion::continues(Some(&s), &"a".repeat(24), true));
        assert!(!SyncVersion::continues(Some(&s), &"b".repeat(24), false));
        assert!(!SyncVersion::continues(None, &"a".repeat(24), false));
        assert_eq!(SyncVersion::request(None), ("", 0));
        assert_eq!(SyncVersion::request(Some(&s)).1, 3);
    }

    fn member(user_id: &str) -> GroupMember {
        GroupMember {
            group_id: "3001".into(),
            user_id: user_id.into(),
            nickname: "Zoë 🦀".into(),
            face_url: "https://example.com/a.png".into(),
            role_level: 60,
            join_time: 1_764_000_000_123,
            join_source: 2,
            inviter_user_id: "owner".into(),
            mute_end_time: -1,
            operator_user_id: "admin/1".into(),
            ex: "{\"k\":1}".into(),
        }
    }

    #[test]
    fn member_rows_round_trip_compactly() {
        let m = member("u1");
        let row = member_row::encode(&m);
        assert_eq!(member_row::decode("3001", "u1", &row).unwrap(), m);
        let json = serde_json::to_vec(&m).unwrap();
        assert!(
            row.len() * 2 < json.len(),
            "{} vs {}",
            row.len(),
            json.len()
        );
        for extreme in [i64::MIN, i64::MAX, 0] {
            let m = GroupMember {
                group_id: "g".into(),
                user_id: "u".into(),
                join_time: extreme,
                mute_end_time: extreme,
                role_level: i32::MIN,
                join_source: i32::MAX,
                ..Default::default()
            };
            assert_eq!(
                member_row::decode("g", "u", &member_row::encode(&m)).unwrap(),
                m
            );
        }
        // Rows written as JSON by older versions are still read.
        assert_eq!(member_row::decode("3001", "u1", &json).unwrap(), m);
    }

    #[test]
    fn damaged_member_rows_are_errors_not_panics() {
        let row = member_row::encode(&member("u1"));
        for cut in 1..row.len() {
            assert!(
                member_row::decode("g", "u", &row[..cut]).is_err(),
                "cut {cut}"
            );
        }
        let mut longer = row.clone();
        longer.push(0);
        assert!(member_row::decode("g", "u", &longer).is_err());
        assert!(
            member_row::decode(
                "g",
                "u",
                &[
                    1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
                ]
            )
            .is_err()
        );
        assert!(member_row::decode("g", "u", &[1, 2, 0xc3, 0x28]).is_err());
        assert!(member_row::decode("g", "u", &[]).is_err());
    }

    #[test]
    fn store_reads_compact_and_json_member_rows() {
        let store = Store::temporary().unwrap();
        let old = member("old");
        store
            .put(trees::MEMBERS, &member_row::key("3001", "old"), &old)
            .unwrap();
        let mut c = Commit::default();
        c.put_member(&member("new"));
        c.put_member(&GroupMember {
            group_id: "30011".into(),
            user_id: "other-group".into(),
            ..Default::default()
        });
        c.apply(&store).unwrap();
        assert_eq!(store.member("3001", "new").unwrap(), Some(member("new")));
        assert_eq!(store.member("3001", "old").unwrap(), Some(old.clone()));
        assert_eq!(store.member("3001", "absent").unwrap(), None);
        assert_eq!(store.members("3001").unwrap(), vec![member("new"), old]);
        store
            .raw_tree(trees::MEMBERS)
            .unwrap()
            .insert(member_row::key("3001", "bad"), &[1u8, 9][..])
            .unwrap();
        assert!(matches!(
            store.member("3001", "bad"),
            Err(StoreError::Corrupt { .. })
        ));
    }

    #[test]
    fn commit_writes_rows_and_version_together() {
        let store = Store::temporary().unwrap();
        let f = Friend {
            user_id: "u1".into(),
            ..Default::default()
        };
        store.put(trees::FRIENDS, "gone", &f).unwrap();
        let mut c = Commit::default();
        c.version(lists::FRIENDS, "v1", 7);
        c.put(trees::FRIENDS, "u1", &f);
        c.remove(trees::FRIENDS, "gone");
        c.conversation(Conversation {
            conversation_id: "si_a_b".into(),
            ..Default::default()
        });
        c.apply(&store).unwrap();
        assert_eq!(store.friend("u1").unwrap(), Some(f));
        assert_eq!(store.friend("gone").unwrap(), None);
        assert_eq!(
            store.sync_version(lists::FRIENDS),
            Some(SyncVersion {
                version_id: "v1".into(),
                version: 7
            })
        );
        assert!(store.conversation("si_a_b").unwrap().is_some());
        let mut c = Commit::default();
        c.forget_version(lists::FRIENDS);
        c.apply(&store).unwrap();
        assert_eq!(store.sync_version(lists::FRIENDS), None);
    }
}
