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

/// One pending change to a group's member set (see [`member_set`]).
#[derive(Debug)]
enum MemberOp {
    Put(GroupMember),
    Remove(String),
    Clear,
}

/// Store writes collected during one sync, applied after its events were emitted.
#[derive(Debug, Default)]
pub(crate) struct Commit {
    ops: Vec<Op>,
    conversations: Vec<Conversation>,
    /// `(groupID, change)`, in order.
    members: Vec<(String, MemberOp)>,
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

    /// Writes a group member (into its group's member set, see [`member_set`]).
    pub(crate) fn put_member(&mut self, m: &GroupMember) {
        self.members
            .push((m.group_id.clone(), MemberOp::Put(m.clone())));
    }

    /// Removes member `user_id` of `group_id`.
    pub(crate) fn remove_member(&mut self, group_id: &str, user_id: &str) {
        self.members
            .push((group_id.to_owned(), MemberOp::Remove(user_id.to_owned())));
    }

    /// Removes every member of `group_id` (the bot left the group).
    pub(crate) fn remove_members(&mut self, group_id: &str) {
        self.members.push((group_id.to_owned(), MemberOp::Clear));
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
        self.ops.len() + self.conversations.len() + self.members.len()
    }

    /// Appends `other`'s writes after these.
    pub(crate) fn extend(&mut self, other: Commit) {
        self.ops.extend(other.ops);
        self.conversations.extend(other.conversations);
        self.members.extend(other.members);
    }

    /// Applies everything in order: conversation rows, member sets, then the other rows (one
    /// atomic sled batch per tree), then the versions (one batch), so a stored version never runs ahead of
    /// the rows it describes. Atomicity across trees is not needed: rows written without their
    /// version are found again at the next sync and compared with the store (no event).
    pub(crate) fn apply(self, store: &Store) -> Result<(), StoreError> {
        for c in &self.conversations {
            store.put_conversation(&c.conversation_id, c)?;
        }
        member_set::apply(store, self.members)?;
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

    /// Encodes `m` (its IDs excepted) as a row of its own (the layout of earlier versions).
    #[cfg(test)]
    pub(crate) fn encode(m: &GroupMember) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            16 + m.nickname.len()
                + m.face_url.len()
                + m.inviter_user_id.len()
                + m.operator_user_id.len()
                + m.ex.len(),
        );
        out.push(TAG);
        put_fields(&mut out, m);
        out
    }

    /// Appends the fields of `m` (IDs excepted; self-delimiting, read by [`read_fields`]).
    pub(super) fn put_fields(out: &mut Vec<u8>, m: &GroupMember) {
        put_str(out, &m.nickname);
        put_str(out, &m.face_url);
        put_int(out, i64::from(m.role_level));
        put_int(out, m.join_time);
        put_int(out, i64::from(m.join_source));
        put_str(out, &m.inviter_user_id);
        put_int(out, m.mute_end_time);
        put_str(out, &m.operator_user_id);
        put_str(out, &m.ex);
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
        let mut r = Reader::new(&row[1..]);
        let m = read_fields(group_id, user_id, &mut r).map_err(bad)?;
        if !r.is_empty() {
            return Err(bad("trailing bytes"));
        }
        Ok(m)
    }

    /// Reads the fields written by [`put_fields`].
    pub(super) fn read_fields(
        group_id: &str,
        user_id: &str,
        r: &mut Reader<'_>,
    ) -> Result<GroupMember, &'static str> {
        Ok(GroupMember {
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
        })
    }

    /// Steps over the fields written by [`put_fields`] without building a member.
    pub(super) fn skip_fields(r: &mut Reader<'_>) -> Result<(), &'static str> {
        for _ in 0..2 {
            let len = r.uint()?;
            r.str(len)?;
        }
        for _ in 0..3 {
            r.int()?;
        }
        let len = r.uint()?;
        r.str(len)?;
        r.int()?;
        for _ in 0..2 {
            let len = r.uint()?;
            r.str(len)?;
        }
        Ok(())
    }

    pub(super) fn put_str(out: &mut Vec<u8>, s: &str) {
        put_uint(out, s.len() as u64);
        out.extend_from_slice(s.as_bytes());
    }

    pub(super) fn bad(what: &str) -> serde_json::Error {
        <serde_json::Error as serde::de::Error>::custom(format!("member row: {what}"))
    }

    pub(super) fn read_str(r: &mut Reader<'_>) -> Result<String, &'static str> {
        let len = r.uint()?;
        r.str(len).map(str::to_owned)
    }
}

/// The stored members of a group: ONE value per group (`groupID` → its member set) in the
/// `group_member_sets` tree.
///
/// sled keeps every value it wrote in memory, with a node entry and an allocation per key: at
/// one key per member (1,000 groups of 100) the member rows were ~12 MB of the bot's peak heap
/// (openim-bench memory row, heaptrack) and 100,000 scattered inserts on the first sync. A set
/// is a tag byte, then per member (sorted by user ID) the user ID and the fields of
/// [`member_row`]: ~40 bytes a member, one allocation a group. A change rewrites the group's set
/// (read, change, write back in [`Commit::apply`]).
///
/// Stores written by earlier versions have one row per member under `group_members`
/// (`groupID/userID`). They are read while a group has no set; the first write of a group's set
/// takes them in and removes them. Once a group has a set, its old rows are ignored (a crash
/// between the two writes leaves them behind, unread, and a write that empties the set removes
/// them).
pub(crate) mod member_set {
    use std::collections::BTreeMap;

    use super::{MemberOp, member_row};
    use crate::compact::Reader;
    use crate::model::GroupMember;
    use crate::store::{Store, StoreError, trees};

    /// The tree of member sets.
    pub(crate) const TREE: &str = "group_member_sets";

    /// First byte of a member set.
    const TAG: u8 = 2;

    /// Encodes `members` (keyed by user ID) as a set.
    pub(crate) fn encode(members: &BTreeMap<String, GroupMember>) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + members.len() * 48);
        out.push(TAG);
        for (user_id, m) in members {
            member_row::put_str(&mut out, user_id);
            member_row::put_fields(&mut out, m);
        }
        out
    }

    /// Decodes the members of the set of `group_id` that `wanted` accepts (by user ID; the
    /// others are stepped over), calling `each` per member until it returns false.
    fn decode(
        group_id: &str,
        set: &[u8],
        wanted: impl Fn(&str) -> bool,
        mut each: impl FnMut(GroupMember) -> bool,
    ) -> Result<(), StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt {
            tree: TREE.into(),
            key: group_id.into(),
            source: member_row::bad(what),
        };
        let Some((&TAG, body)) = set.split_first() else {
            return Err(corrupt("not a member set"));
        };
        let mut r = Reader::new(body);
        while !r.is_empty() {
            let len = r.uint().map_err(corrupt)?;
            let user_id = r.str(len).map_err(corrupt)?;
            if !wanted(user_id) {
                member_row::skip_fields(&mut r).map_err(corrupt)?;
                continue;
            }
            let m = member_row::read_fields(group_id, user_id, &mut r).map_err(corrupt)?;
            if !each(m) {
                break;
            }
        }
        Ok(())
    }

    /// Rows of `group_id` in the per-member tree of earlier versions, as `(key, member)`.
    #[allow(clippy::type_complexity)]
    fn old_rows(
        store: &Store,
        group_id: &str,
    ) -> Result<Vec<(sled::IVec, Result<GroupMember, StoreError>)>, StoreError> {
        let prefix = member_row::key(group_id, "");
        let mut out = Vec::new();
        for item in store.raw_tree(trees::MEMBERS)?.scan_prefix(&prefix) {
            let (k, v) = item?;
            let user_id = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
            let m =
                member_row::decode(group_id, &user_id, &v).map_err(|source| StoreError::Corrupt {
                    tree: trees::MEMBERS.into(),
                    key: member_row::key(group_id, &user_id),
                    source,
                });
            out.push((k, m));
        }
        Ok(out)
    }

    /// The members of a stored set whose user ID passes `keep`, by user ID.
    fn decode_kept(
        group_id: &str,
        set: &[u8],
        keep: impl Fn(&str) -> bool,
    ) -> Result<Vec<GroupMember>, StoreError> {
        let mut out = Vec::new();
        decode(group_id, set, keep, |m| {
            out.push(m);
            true
        })?;
        Ok(out)
    }

    /// Known members of `group_id`, by user ID.
    pub(crate) fn members(store: &Store, group_id: &str) -> Result<Vec<GroupMember>, StoreError> {
        match store.raw_tree(TREE)?.get(group_id)? {
            Some(set) => decode_kept(group_id, &set, |_| true),
            None => old_rows(store, group_id)?
                .into_iter()
                .map(|(_, m)| m)
                .collect(),
        }
    }

    /// Member `user_id` of `group_id`.
    pub(crate) fn member(
        store: &Store,
        group_id: &str,
        user_id: &str,
    ) -> Result<Option<GroupMember>, StoreError> {
        match store.raw_tree(TREE)?.get(group_id)? {
            Some(set) => {
                let mut found = None;
                decode(
                    group_id,
                    &set,
                    |u| u == user_id,
                    |m| {
                        found = Some(m);
                        false
                    },
                )?;
                Ok(found)
            }
            None => match store
                .raw_tree(trees::MEMBERS)?
                .get(member_row::key(group_id, user_id))?
            {
                Some(v) => member_row::decode(group_id, user_id, &v)
                    .map(Some)
                    .map_err(|source| StoreError::Corrupt {
                        tree: trees::MEMBERS.into(),
                        key: member_row::key(group_id, user_id),
                        source,
                    }),
                None => Ok(None),
            },
        }
    }

    /// The stored members of `group_id` among `user_ids` (sorted), by user ID: one pass over
    /// the group's set however many are asked for.
    pub(crate) fn members_among(
        store: &Store,
        group_id: &str,
        user_ids: &[&str],
    ) -> Result<Vec<GroupMember>, StoreError> {
        match store.raw_tree(TREE)?.get(group_id)? {
            Some(set) => decode_kept(group_id, &set, |u| user_ids.binary_search(&u).is_ok()),
            None => {
                let mut out = Vec::new();
                for u in user_ids {
                    out.extend(member(store, group_id, u)?);
                }
                Ok(out)
            }
        }
    }

    /// Applies `changes` in order: each touched group's set is read once, changed, and written
    /// back (one sled batch for all sets), then the old per-member rows taken in are removed.
    pub(super) fn apply(store: &Store, changes: Vec<(String, MemberOp)>) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let tree = store.raw_tree(TREE)?;
        let mut sets: BTreeMap<String, BTreeMap<String, GroupMember>> = BTreeMap::new();
        let mut old_keys = sled::Batch::default();
        for (group_id, change) in changes {
            let set = match sets.entry(group_id) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    let mut set = BTreeMap::new();
                    match tree.get(e.key())? {
                        Some(stored) => decode(
                            e.key(),
                            &stored,
                            |_| true,
                            |m| {
                                set.insert(m.user_id.clone(), m);
                                true
                            },
                        )?,
                        None => {
                            for (key, m) in old_rows(store, e.key())? {
                                old_keys.remove(key);
                                match m {
                                    Ok(m) => {
                                        set.insert(m.user_id.clone(), m);
                                    }
                                    // Dropped: the group's next full member sync brings it back.
                                    Err(e) => {
                                        tracing::warn!(error = %e, "old member row not taken in")
                                    }
                                }
                            }
                        }
                    }
                    e.insert(set)
                }
            };
            match change {
                MemberOp::Put(m) => {
                    set.insert(m.user_id.clone(), m);
                }
                MemberOp::Remove(user_id) => {
                    set.remove(&user_id);
                }
                MemberOp::Clear => set.clear(),
            }
        }
        let mut batch = sled::Batch::default();
        for (group_id, set) in &sets {
            if set.is_empty() {
                // Without a set the old rows are read again: any left by a crash between the
                // two batches of an earlier write would come back as members.
                for (key, _) in old_rows(store, group_id)? {
                    old_keys.remove(key);
                }
                batch.remove(group_id.as_bytes());
            } else {
                batch.insert(group_id.as_bytes(), encode(set));
            }
        }
        tree.apply_batch(batch)?;
        store.raw_tree(trees::MEMBERS)?.apply_batch(old_keys)?;
        Ok(())
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
    use std::collections::BTreeMap;

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
    fn member_sets_take_in_old_rows_and_keep_changes_in_order() {
        let store = Store::temporary().unwrap();
        let old = member("old");
        let gone = member("gone");
        // Rows of earlier versions: one per member, JSON or compact.
        store
            .put(trees::MEMBERS, &member_row::key("3001", "old"), &old)
            .unwrap();
        store
            .raw_tree(trees::MEMBERS)
            .unwrap()
            .insert(member_row::key("3001", "gone"), member_row::encode(&gone))
            .unwrap();
        let other = GroupMember {
            group_id: "30011".into(),
            user_id: "other-group".into(),
            ..Default::default()
        };
        store
            .raw_tree(trees::MEMBERS)
            .unwrap()
            .insert(
                member_row::key("30011", "other-group"),
                member_row::encode(&other),
            )
            .unwrap();
        // Read while the group has no set.
        assert_eq!(
            member_set::members_among(&store, "3001", &["absent", "old"]).unwrap(),
            vec![old.clone()]
        );
        assert_eq!(
            store.members("3001").unwrap(),
            vec![gone.clone(), old.clone()]
        );
        assert_eq!(store.member("3001", "old").unwrap(), Some(old.clone()));

        let mut c = Commit::default();
        c.put_member(&member("new"));
        c.remove_member("3001", "gone");
        let mut renamed = member("new");
        renamed.nickname = "renamed".into();
        c.put_member(&renamed);
        c.apply(&store).unwrap();
        assert_eq!(store.member("3001", "new").unwrap(), Some(renamed.clone()));
        assert_eq!(store.member("3001", "old").unwrap(), Some(old.clone()));
        assert_eq!(store.member("3001", "gone").unwrap(), None);
        assert_eq!(store.member("3001", "absent").unwrap(), None);
        assert_eq!(
            store.members("3001").unwrap(),
            vec![renamed.clone(), old.clone()]
        );
        assert_eq!(
            member_set::members_among(&store, "3001", &["absent", "new", "old"]).unwrap(),
            vec![renamed, old.clone()]
        );
        assert_eq!(
            member_set::members_among(&store, "3001", &["old"]).unwrap(),
            vec![old]
        );
        // The old rows of the written group are gone; another group's stay readable.
        let rows = store.raw_tree(trees::MEMBERS).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(store.members("30011").unwrap(), vec![other]);
        assert_eq!(store.raw_tree(member_set::TREE).unwrap().len(), 1);

        // Leaving groups: a set, and a group known only by old rows.
        let mut c = Commit::default();
        c.remove_members("3001");
        c.remove_members("30011");
        c.apply(&store).unwrap();
        assert_eq!(store.members("3001").unwrap(), Vec::new());
        assert_eq!(store.members("30011").unwrap(), Vec::new());
        assert_eq!(store.raw_tree(member_set::TREE).unwrap().len(), 0);
        assert_eq!(store.raw_tree(trees::MEMBERS).unwrap().len(), 0);
    }

    #[test]
    fn emptying_a_set_removes_old_rows_a_crash_left_behind() {
        let store = Store::temporary().unwrap();
        let mut c = Commit::default();
        c.put_member(&member("u1"));
        c.apply(&store).unwrap();
        // A crash between the set's batch and the removal of the old rows taken in.
        store
            .raw_tree(trees::MEMBERS)
            .unwrap()
            .insert(
                member_row::key("3001", "old"),
                member_row::encode(&member("old")),
            )
            .unwrap();
        assert_eq!(store.members("3001").unwrap(), vec![member("u1")]);
        let mut c = Commit::default();
        c.remove_members("3001");
        c.apply(&store).unwrap();
        assert_eq!(store.members("3001").unwrap(), Vec::new());
        assert_eq!(store.member("3001", "old").unwrap(), None);
        assert_eq!(store.raw_tree(trees::MEMBERS).unwrap().len(), 0);
    }

    #[test]
    fn damaged_member_sets_and_rows_are_typed_errors() {
        let store = Store::temporary().unwrap();
        store
            .raw_tree(trees::MEMBERS)
            .unwrap()
            .insert(member_row::key("3001", "bad"), &[1u8, 9][..])
            .unwrap();
        assert!(matches!(
            store.member("3001", "bad"),
            Err(StoreError::Corrupt { .. })
        ));
        assert!(matches!(
            store.members("3001"),
            Err(StoreError::Corrupt { .. })
        ));
        // Writing the group's set drops the unreadable old row instead of failing forever.
        let mut c = Commit::default();
        c.put_member(&member("u1"));
        c.apply(&store).unwrap();
        assert_eq!(store.members("3001").unwrap(), vec![member("u1")]);

        let mut set = BTreeMap::new();
        set.insert("u1".to_owned(), member("u1"));
        let good = member_set::encode(&set);
        let sets = store.raw_tree(member_set::TREE).unwrap();
        // (A set cut right after its tag is an empty set, not damage.)
        for cut in (0..good.len()).filter(|&c| c != 1) {
            sets.insert("3001", &good[..cut]).unwrap();
            assert!(
                matches!(store.members("3001"), Err(StoreError::Corrupt { .. })),
                "cut {cut}"
            );
        }
        sets.insert("3001", &[9u8, 1, 2][..]).unwrap();
        assert!(matches!(
            store.member("3001", "u1"),
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
