//! Relation state (self, friends, applications, blacklist, groups, members, conversation
//! settings), brought up to date on every connect and on every friend/group/conversation
//! notification, and turned into events.
//!
//! Friends, joined groups, the members of each group and the conversations are version-logged
//! by the server: with a stored sync position only the changes since then are fetched
//! (`get_incremental_*`); without one, or when the server answers `full` or a different
//! versionID, the full list is fetched instead (the safety net). Either way each change is
//! compared with the store before it becomes an event, so it is reported once whether it
//! arrived incrementally, through the full list, or after a live notification. Applications
//! and the blacklist have no version log in 3.8 and are always compared in full.
//!
//! Events are emitted before the store and the new positions are written (see
//! [`crate::version`]).

use std::collections::{BTreeMap, BTreeSet};

use crate::api::{MemberDelta, MemberVersion, VersionDelta};
use crate::engine::{Engine, str_at};
use crate::event::*;
use crate::model::{handle_result, role_level};
use crate::store::trees;
use crate::sync::diff;
use crate::version::{Commit, SyncVersion, lists, member_set};

/// What a notification says about the change, to tell apart what a list diff cannot
/// (invited vs entered, kicked vs left, created vs joined).
#[derive(Debug, Clone, Default)]
pub(crate) struct GroupHint {
    pub content_type: i32,
    pub group_id: String,
    pub operator: String,
}

/// Events for friend applications: `old` = stored, `new` = fetched; `baseline` = the store held
/// a previous state (otherwise only pending applications are reported).
pub(crate) fn friend_application_events(
    old: &[FriendApplication],
    new: &[FriendApplication],
    baseline: bool,
) -> Vec<Event> {
    let d = diff(old, new, FriendApplication::key);
    let mut out = Vec::new();
    for a in d.added {
        match a.handle_result {
            handle_result::PENDING => out.push(Event::FriendApplicationAdded(a)),
            handle_result::ACCEPTED if baseline => out.push(Event::FriendApplicationAccepted(a)),
            handle_result::REFUSED if baseline => out.push(Event::FriendApplicationRejected(a)),
            _ => {}
        }
    }
    for (o, n) in d.changed {
        let was_pending = o.handle_result == handle_result::PENDING;
        match n.handle_result {
            handle_result::PENDING if !was_pending || o.create_time != n.create_time => {
                out.push(Event::FriendApplicationAdded(n))
            }
            handle_result::ACCEPTED if was_pending || o.handle_time != n.handle_time => {
                out.push(Event::FriendApplicationAccepted(n.clone()));
                if was_pending {
                    out.push(Event::FriendApplicationDeleted(n));
                }
            }
            handle_result::REFUSED if was_pending || o.handle_time != n.handle_time => {
                out.push(Event::FriendApplicationRejected(n.clone()));
                if was_pending {
                    out.push(Event::FriendApplicationDeleted(n));
                }
            }
            _ => {}
        }
    }
    for o in d.removed {
        if o.handle_result == handle_result::PENDING {
            out.push(Event::FriendApplicationDeleted(o));
        }
    }
    out
}

/// Events for group applications (same rules as friend applications; v3.8 has no "deleted").
pub(crate) fn group_application_events(
    old: &[GroupApplication],
    new: &[GroupApplication],
    baseline: bool,
) -> Vec<Event> {
    let d = diff(old, new, GroupApplication::key);
    let mut out = Vec::new();
    for a in d.added {
        match a.handle_result {
            handle_result::PENDING => out.push(Event::GroupApplicationAdded(a)),
            handle_result::ACCEPTED if baseline => out.push(Event::GroupApplicationAccepted(a)),
            handle_result::REFUSED if baseline => out.push(Event::GroupApplicationRejected(a)),
            _ => {}
        }
    }
    for (o, n) in d.changed {
        let was_pending = o.handle_result == handle_result::PENDING;
        match n.handle_result {
            handle_result::PENDING if !was_pending || o.req_time != n.req_time => {
                out.push(Event::GroupApplicationAdded(n))
            }
            handle_result::ACCEPTED if was_pending => out.push(Event::GroupApplicationAccepted(n)),
            handle_result::REFUSED if was_pending => out.push(Event::GroupApplicationRejected(n)),
            _ => {}
        }
    }
    out
}

/// Member events of one group: `hint` tells invited/entered and kicked/left apart.
pub(crate) fn member_events(
    old: &[GroupMember],
    new: &[GroupMember],
    hint: Option<&GroupHint>,
) -> Vec<Event> {
    let d = diff(old, new, |m: &GroupMember| m.user_id.clone());
    let ct = hint.map(|h| h.content_type).unwrap_or(0);
    let op = hint.map(|h| h.operator.clone()).unwrap_or_default();
    let mut out = Vec::new();
    for m in d.added {
        let invited = ct == 1509 || (ct != 1510 && m.join_source == 2);
        let operator = if op.is_empty() {
            if invited {
                m.inviter_user_id.clone()
            } else {
                m.operator_user_id.clone()
            }
        } else {
            op.clone()
        };
        let ev = GroupMemberEvent {
            member: m,
            operator_user_id: operator,
        };
        out.push(if invited {
            Event::GroupMemberInvited(ev)
        } else {
            Event::GroupMemberEntered(ev)
        });
    }
    for m in d.removed {
        let ev = GroupMemberEvent {
            member: m,
            operator_user_id: op.clone(),
        };
        out.push(if ct == 1508 {
            Event::GroupMemberKicked(ev)
        } else {
            Event::GroupMemberLeft(ev)
        });
    }
    for (_, n) in d.changed {
        out.push(Event::GroupMemberInfoChanged(GroupMemberEvent {
            operator_user_id: op.clone(),
            member: n,
        }));
    }
    out
}

/// Events found by one relation sync and the store writes behind them: the events are emitted
/// first, then the writes are applied ([`Commit::apply`]), so a crash in between re-delivers
/// instead of losing.
#[derive(Default)]
struct RelationUpdate {
    events: Vec<Event>,
    commit: Commit,
    /// An intermediate flush failed: the sync stopped part-way.
    aborted: bool,
}

/// Members changed by a delta, as `(old rows, new rows)` restricted to the touched user IDs;
/// `stored` answers the stored members among sorted user IDs.
fn member_delta_rows(
    stored: impl FnOnce(&[&str]) -> Vec<GroupMember>,
    delta: &VersionDelta<GroupMember>,
) -> (Vec<GroupMember>, Vec<GroupMember>) {
    let mut touched: Vec<&str> = delta.deleted.iter().map(String::as_str).collect();
    touched.extend(
        delta
            .inserted
            .iter()
            .chain(&delta.updated)
            .map(|m| m.user_id.as_str()),
    );
    touched.sort_unstable();
    touched.dedup();
    let old = stored(&touched);
    let mut new: BTreeMap<String, GroupMember> = old
        .iter()
        .filter(|m| !delta.deleted.contains(&m.user_id))
        .map(|m| (m.user_id.clone(), m.clone()))
        .collect();
    for m in delta.inserted.iter().chain(&delta.updated) {
        new.insert(m.user_id.clone(), m.clone());
    }
    (old, new.into_values().collect())
}

/// Intermediate member flushes after which the store is flushed to disk. sled frees its written
/// log buffers only through epoch-deferred garbage, which piles up (hundreds of MB on a busy
/// machine) when 100,000 member rows are written in one go; waiting for the writes every
/// ~2,000 rows bounds it (memory bench: peak 120-177 MB -> 59-80 MB, same sync time).
const STORE_FLUSH_EVERY: usize = 4;

/// Groups per batch request of member deltas.
const MEMBER_BATCH: usize = 100;

/// Pending row writes after which the member sync emits and writes what it has so far, so
/// memory stays bounded by this much (not by every member of every group) on a full sync.
const FLUSH_OPS: usize = 500;

impl Engine {
    fn baseline(&self) -> bool {
        self.store
            .raw_tree(trees::META)
            .ok()
            .and_then(|t| t.get("relations").ok().flatten())
            .is_some()
    }

    fn replace_tree<T: serde::Serialize>(&self, tree: &str, items: &[(String, T)]) {
        let Ok(t) = self.store.raw_tree(tree) else {
            return;
        };
        let _ = t.clear();
        for (k, v) in items {
            let _ = self.store.put(tree, k, v);
        }
    }

    /// Emits the events, then applies the writes; false if the consumer is gone (nothing was
    /// written, so a restart finds the same changes again) or the write failed.
    async fn finish(&mut self, update: RelationUpdate) -> bool {
        if update.aborted {
            return false;
        }
        if self.emit_all(update.events).await.is_err() {
            return false;
        }
        match update.commit.apply(&self.store) {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %e, "writing the relation sync failed");
                false
            }
        }
    }

    /// Emits and writes what `update` holds so far, leaving it empty (or marked aborted).
    async fn flush(&mut self, update: &mut RelationUpdate) -> bool {
        let ok = self.finish(std::mem::take(update)).await;
        update.aborted = !ok;
        ok
    }

    /// Full relation sync (connect, or after a local action): every list is brought up to date
    /// (incrementally where a sync position is stored). The events are emitted here, before the
    /// store is written; the returned list is empty.
    pub(crate) async fn sync_relations(&mut self, hint: Option<GroupHint>) -> Vec<Event> {
        let mut update = RelationUpdate::default();
        if let Some(e) = self.sync_self_info().await {
            update.events.push(e);
        }
        self.friends_into(&mut update, true, true, true).await;
        self.groups_into(&mut update, hint.as_ref(), None).await;
        // The baseline (later differences are events) exists only once the rows are written.
        if self.finish(update).await
            && let Ok(meta) = self.store.raw_tree(trees::META)
        {
            let _ = meta.insert("relations", "1");
        }
        Vec::new()
    }

    pub(crate) async fn sync_self_info(&mut self) -> Option<Event> {
        let fetched = match self.api.get_users_info(&[self.user_id.as_str()]).await {
            Ok(mut v) => v.pop()?,
            Err(e) => {
                tracing::warn!(error = %e, "self info sync failed");
                return None;
            }
        };
        let stored = self.store.self_info().ok().flatten();
        let _ = self.store.put(trees::META, "self", &fetched);
        match stored {
            Some(old) if old != fetched => Some(Event::SelfInfoUpdated(fetched)),
            _ => None,
        }
    }

    /// Friends, friend applications and blacklist (emitted here; the returned list is empty).
    pub(crate) async fn sync_friends(
        &mut self,
        friends: bool,
        applications: bool,
        blacklist: bool,
    ) -> Vec<Event> {
        let mut update = RelationUpdate::default();
        self.friends_into(&mut update, friends, applications, blacklist)
            .await;
        self.finish(update).await;
        Vec::new()
    }

    async fn friends_into(
        &mut self,
        update: &mut RelationUpdate,
        friends: bool,
        applications: bool,
        blacklist: bool,
    ) {
        let baseline = self.baseline();
        let out = &mut update.events;
        if applications {
            let received = self.api.get_friend_apply_list(&self.user_id).await;
            let sent = self.api.get_self_friend_apply_list(&self.user_id).await;
            match (received, sent) {
                (Ok(mut r), Ok(s)) => {
                    r.extend(s);
                    r.sort_by_key(FriendApplication::key);
                    r.dedup_by_key(|a| a.key());
                    let old = self.store.friend_applications().unwrap_or_default();
                    out.extend(friend_application_events(&old, &r, baseline));
                    let items: Vec<_> = r.iter().map(|a| (a.key(), a.clone())).collect();
                    self.replace_tree(trees::FRIEND_APPS, &items);
                }
                (Err(e), _) | (_, Err(e)) => {
                    tracing::warn!(error = %e, "friend application sync failed")
                }
            }
        }
        if friends {
            self.friend_list_into(update, baseline).await;
        }
        let out = &mut update.events;
        if blacklist {
            // No incremental route for the blacklist in 3.8 (errCode 12): always the full list.
            match self.api.get_black_list(&self.user_id).await {
                Ok(list) => {
                    let old = self.store.blacklist().unwrap_or_default();
                    if baseline {
                        let d = diff(&old, &list, |b: &Blacklisted| b.user_id.clone());
                        out.extend(d.added.into_iter().map(Event::BlacklistAdded));
                        out.extend(d.removed.into_iter().map(Event::BlacklistDeleted));
                    }
                    let items: Vec<_> = list
                        .iter()
                        .map(|b| (b.user_id.clone(), b.clone()))
                        .collect();
                    self.replace_tree(trees::BLACKLIST, &items);
                }
                Err(e) => tracing::warn!(error = %e, "blacklist sync failed"),
            }
        }
    }

    /// The friend list: the changes since the stored version, or (no usable version) the full
    /// list compared with the store.
    async fn friend_list_into(&mut self, update: &mut RelationUpdate, baseline: bool) {
        let stored = self.store.sync_version(lists::FRIENDS).filter(|_| baseline);
        let (vid, v) = SyncVersion::request(stored.as_ref());
        let head = match self
            .api
            .get_incremental_friends(&self.user_id, vid, v)
            .await
        {
            Ok(d) if SyncVersion::continues(stored.as_ref(), &d.version_id, d.full) => {
                tracing::debug!(
                    from = v,
                    to = d.version,
                    inserted = d.inserted.len(),
                    updated = d.updated.len(),
                    deleted = d.deleted.len(),
                    "friends: incremental"
                );
                let mut added = Vec::new();
                let mut removed = Vec::new();
                let mut changed = Vec::new();
                for f in d.inserted.iter().chain(&d.updated) {
                    match self.store.friend(&f.user_id).ok().flatten() {
                        None => added.push(Event::FriendAdded(f.clone())),
                        Some(old) if old != *f => changed.push(Event::FriendInfoChanged(f.clone())),
                        Some(_) => {}
                    }
                    update.commit.put(trees::FRIENDS, &f.user_id, f);
                }
                for id in &d.deleted {
                    if let Some(old) = self.store.friend(id).ok().flatten() {
                        removed.push(Event::FriendDeleted(old));
                    }
                    update.commit.remove(trees::FRIENDS, id);
                }
                update.events.extend(added);
                update.events.extend(removed);
                update.events.extend(changed);
                update
                    .commit
                    .version(lists::FRIENDS, &d.version_id, d.version);
                return;
            }
            Ok(d) => {
                tracing::debug!(
                    full = d.full,
                    stored = stored.is_some(),
                    "friends: full resync"
                );
                Some((d.version_id, d.version))
            }
            Err(e) => {
                tracing::warn!(error = %e, "incremental friend sync failed; full resync");
                None
            }
        };
        match self.api.get_friend_list(&self.user_id).await {
            Ok(list) => {
                let old = self.store.friends().unwrap_or_default();
                let d = diff(&old, &list, |f: &Friend| f.user_id.clone());
                if baseline {
                    update
                        .events
                        .extend(d.added.iter().cloned().map(Event::FriendAdded));
                    update
                        .events
                        .extend(d.removed.iter().cloned().map(Event::FriendDeleted));
                    update.events.extend(
                        d.changed
                            .iter()
                            .map(|(_, n)| Event::FriendInfoChanged(n.clone())),
                    );
                }
                for f in &d.removed {
                    update.commit.remove(trees::FRIENDS, &f.user_id);
                }
                for f in d.added.iter().chain(d.changed.iter().map(|(_, n)| n)) {
                    update.commit.put(trees::FRIENDS, &f.user_id, f);
                }
                if let Some((vid, v)) = head {
                    update.commit.version(lists::FRIENDS, &vid, v);
                }
            }
            Err(e) => tracing::warn!(error = %e, "friend sync failed"),
        }
    }

    /// A friend notification (1201–1299): refresh what it can have changed.
    pub(crate) async fn sync_friend_side(
        &mut self,
        ct: i32,
        _tips: &serde_json::Value,
    ) -> Vec<Event> {
        match ct {
            1201 => self.sync_friends(true, true, false).await,
            1202 | 1203 => self.sync_friends(false, true, false).await,
            1207 | 1208 => self.sync_friends(false, false, true).await,
            _ => self.sync_friends(true, false, false).await,
        }
    }

    /// The joined-group list as (stored groups, current groups, sync head to store): the changes
    /// since the stored version, or the full list. `None` if neither could be fetched.
    async fn joined_groups_now(
        &mut self,
        baseline: bool,
    ) -> Option<(
        BTreeMap<String, GroupInfo>,
        BTreeMap<String, GroupInfo>,
        Option<(String, u64)>,
    )> {
        let old: BTreeMap<String, GroupInfo> = self
            .store
            .groups()
            .unwrap_or_default()
            .into_iter()
            .map(|g| (g.group_id.clone(), g))
            .collect();
        let stored = self
            .store
            .sync_version(lists::JOINED_GROUPS)
            .filter(|_| baseline);
        let (vid, v) = SyncVersion::request(stored.as_ref());
        let head = match self
            .api
            .get_incremental_join_groups(&self.user_id, vid, v)
            .await
        {
            Ok(d) if SyncVersion::continues(stored.as_ref(), &d.version_id, d.full) => {
                tracing::debug!(
                    from = v,
                    to = d.version,
                    inserted = d.inserted.len(),
                    updated = d.updated.len(),
                    deleted = d.deleted.len(),
                    "joined groups: incremental"
                );
                let mut now = old.clone();
                for id in &d.deleted {
                    now.remove(id);
                }
                for g in d.inserted.into_iter().chain(d.updated) {
                    now.insert(g.group_id.clone(), g);
                }
                return Some((old, now, Some((d.version_id, d.version))));
            }
            Ok(d) => {
                tracing::debug!(
                    full = d.full,
                    stored = stored.is_some(),
                    "joined groups: full resync"
                );
                Some((d.version_id, d.version))
            }
            Err(e) => {
                tracing::warn!(error = %e, "incremental joined-group sync failed; full resync");
                None
            }
        };
        match self.api.get_joined_groups(&self.user_id).await {
            Ok(list) => {
                let now = list.into_iter().map(|g| (g.group_id.clone(), g)).collect();
                Some((old, now, head))
            }
            Err(e) => {
                tracing::warn!(error = %e, "joined group sync failed");
                None
            }
        }
    }

    /// Member changes of `groups` (stored position or `""`/0 each), through the batch route;
    /// groups the batch did not answer are asked one by one. Groups without an answer are absent.
    async fn member_deltas(&mut self, groups: Vec<MemberVersion>) -> BTreeMap<String, MemberDelta> {
        let mut out = BTreeMap::new();
        for chunk in groups.chunks(MEMBER_BATCH) {
            let mut left: Vec<MemberVersion> = chunk.to_vec();
            while !left.is_empty() {
                match self
                    .api
                    .get_incremental_group_members_batch(&self.user_id, &left)
                    .await
                {
                    Ok(answers) => {
                        let before = left.len();
                        left.retain(|g| !answers.contains_key(&g.group_id));
                        for (gid, d) in answers {
                            out.entry(gid).or_insert(d);
                        }
                        // The server stops after its change budget: ask again for the rest,
                        // unless it answered none of them (dismissed groups are skipped).
                        if left.len() == before {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "member batch sync failed; asking per group");
                        break;
                    }
                }
            }
            for g in left {
                match self
                    .api
                    .get_incremental_group_members(&g.group_id, &g.version_id, g.version)
                    .await
                {
                    Ok(d) => {
                        out.insert(g.group_id, d);
                    }
                    Err(e) => {
                        tracing::debug!(group = %g.group_id, error = %e, "member sync: no incremental answer")
                    }
                }
            }
        }
        out
    }

    async fn groups_into(
        &mut self,
        update: &mut RelationUpdate,
        hint: Option<&GroupHint>,
        focus: Option<&str>,
    ) {
        let baseline = self.baseline();
        let Some((old_groups, mut groups, join_head)) = self.joined_groups_now(baseline).await
        else {
            return;
        };
        // Applications first: they tell whether a new group comes from an accepted application.
        let old_apps = self.store.group_applications().unwrap_or_default();
        let recv = self.api.get_recv_group_applications(&self.user_id).await;
        let own = self.api.get_self_group_applications(&self.user_id).await;
        match (recv, own) {
            (Ok(mut r), Ok(o)) => {
                r.extend(o);
                r.sort_by_key(GroupApplication::key);
                r.dedup_by_key(|a| a.key());
                update
                    .events
                    .extend(group_application_events(&old_apps, &r, baseline));
                let items: Vec<_> = r.iter().map(|a| (a.key(), a.clone())).collect();
                self.replace_tree(trees::GROUP_APPS, &items);
            }
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(error = %e, "group application sync failed")
            }
        }

        let old_list: Vec<GroupInfo> = old_groups.values().cloned().collect();
        let new_list: Vec<GroupInfo> = groups.values().cloned().collect();
        let d = diff(&old_list, &new_list, |g: &GroupInfo| g.group_id.clone());
        let hint_for = |gid: &str| hint.filter(|h| h.group_id == gid);
        let mut group_events_out = Vec::new();
        // Written with the group events, after every member change.
        let mut tail = Commit::default();
        for g in &d.added {
            let h = hint_for(&g.group_id);
            let applied = old_apps
                .iter()
                .any(|a| a.group_id == g.group_id && a.user_id == self.user_id);
            let reason = match h.map(|h| h.content_type) {
                Some(1501) => JoinReason::Created,
                Some(1509) => JoinReason::Invited,
                Some(1505) => JoinReason::ApplicationAccepted,
                Some(1510) if applied => JoinReason::ApplicationAccepted,
                Some(1510) => JoinReason::Entered,
                _ if applied => JoinReason::ApplicationAccepted,
                _ => JoinReason::Sync,
            };
            if baseline {
                group_events_out.push(Event::JoinedGroupAdded(JoinedGroupAdded {
                    group: g.clone(),
                    reason,
                    operator_user_id: h.map(|h| h.operator.clone()).unwrap_or_default(),
                }));
            }
        }
        for g in &d.removed {
            let h = hint_for(&g.group_id);
            let reason = match h.map(|h| h.content_type) {
                Some(1504) => LeaveReason::Left,
                Some(1508) => LeaveReason::Kicked,
                Some(1511) => LeaveReason::Dismissed,
                _ => LeaveReason::Sync,
            };
            tail.remove_members(&g.group_id);
            tail.remove(trees::GROUPS, &g.group_id);
            tail.forget_version(&lists::members(&g.group_id));
            let mut group = g.clone();
            group.member_count = 0;
            group_events_out.push(Event::JoinedGroupDeleted(JoinedGroupDeleted {
                group,
                reason,
                operator_user_id: h.map(|h| h.operator.clone()).unwrap_or_default(),
            }));
        }
        // Group info as last reported: the joined-group list, then the members answers.
        let mut reported: BTreeMap<String, GroupInfo> = old_groups.clone();
        for (o, n) in &d.changed {
            group_events_out.push(Event::GroupInfoChanged(n.clone()));
            reported.insert(o.group_id.clone(), n.clone());
        }

        // Members: the newly joined groups (copied silently) and, for the others, `focus` or all.
        let added: BTreeSet<&str> = d.added.iter().map(|g| g.group_id.as_str()).collect();
        let targets: Vec<MemberVersion> = groups
            .keys()
            .filter(|gid| added.contains(gid.as_str()) || focus.is_none_or(|f| f == *gid))
            .map(|gid| {
                let stored = if added.contains(gid.as_str()) || !baseline {
                    None
                } else {
                    self.store.sync_version(&lists::members(gid))
                };
                let (vid, v) = SyncVersion::request(stored.as_ref());
                MemberVersion {
                    group_id: gid.clone(),
                    version_id: vid.to_owned(),
                    version: v,
                }
            })
            .collect();
        // What was found before the member stage (self, friends, applications, a dismissal) is
        // handed over after it: a handler reacting to it (accepting an application) must not
        // change the server while member lists are still being read, or the change would be
        // taken in silently on a first sync. Member events (and rows) are handed over early
        // only when a large sync needs to bound its memory.
        let held = std::mem::take(update);
        let mut flushes = 0usize;
        for chunk in targets.chunks(MEMBER_BATCH) {
            let mut answers = self.member_deltas(chunk.to_vec()).await;
            for target in chunk {
                if update.commit.len() >= FLUSH_OPS {
                    if !self.flush(update).await {
                        return;
                    }
                    flushes += 1;
                    if flushes.is_multiple_of(STORE_FLUSH_EVERY)
                        && let Err(e) = self.store.flush()
                    {
                        tracing::warn!(error = %e, "store flush during the member sync failed");
                    }
                }
                let gid = target.group_id.as_str();
                let silent = added.contains(gid) || !baseline;
                let stored = (!target.version_id.is_empty()).then(|| SyncVersion {
                    version_id: target.version_id.clone(),
                    version: target.version,
                });
                let answer = answers.remove(gid);
                let group_now = answer.as_ref().and_then(|a| a.group.clone());
                match answer {
                    Some(a)
                        if SyncVersion::continues(
                            stored.as_ref(),
                            &a.members.version_id,
                            a.members.full,
                        ) =>
                    {
                        let (old, new) = member_delta_rows(
                            |users| {
                                member_set::members_among(&self.store, gid, users)
                                    .unwrap_or_default()
                            },
                            &a.members,
                        );
                        if !silent {
                            update
                                .events
                                .extend(member_events(&old, &new, hint_for(gid)));
                        }
                        for id in &a.members.deleted {
                            update.commit.remove_member(gid, id);
                        }
                        for m in a.members.inserted.iter().chain(&a.members.updated) {
                            update.commit.put_member(m);
                        }
                        update.commit.version(
                            &lists::members(gid),
                            &a.members.version_id,
                            a.members.version,
                        );
                    }
                    other => {
                        let members = match self.api.get_group_members(gid).await {
                            Ok(m) => m,
                            Err(e) => {
                                tracing::warn!(group = %gid, error = %e, "member sync failed");
                                continue;
                            }
                        };
                        tracing::debug!(group = %gid, answered = other.is_some(), "members: full resync");
                        let old = self.store.members(gid).unwrap_or_default();
                        if !silent {
                            update
                                .events
                                .extend(member_events(&old, &members, hint_for(gid)));
                        }
                        let md = diff(&old, &members, |m: &GroupMember| m.user_id.clone());
                        for m in &md.removed {
                            update.commit.remove_member(gid, &m.user_id);
                        }
                        for m in md.added.iter().chain(md.changed.iter().map(|(_, n)| n)) {
                            update.commit.put_member(m);
                        }
                        if let Some(a) = other {
                            update.commit.version(
                                &lists::members(gid),
                                &a.members.version_id,
                                a.members.version,
                            );
                        }
                    }
                }
                // The group's info came with the members answer (info or member count changed).
                if let Some(info) = group_now.filter(|g| g.group_id == gid) {
                    if !silent && reported.get(gid).is_some_and(|r| *r != info) {
                        group_events_out.push(Event::GroupInfoChanged(info.clone()));
                    }
                    reported.insert(gid.to_owned(), info.clone());
                    groups.insert(gid.to_owned(), info);
                }
            }
        }
        let members = std::mem::take(update);
        update.aborted = members.aborted;
        update.events = held.events;
        update.events.extend(members.events);
        update.commit = held.commit;
        update.commit.extend(members.commit);
        update.commit.extend(tail);
        for (gid, g) in &groups {
            if old_groups.get(gid) != Some(g) {
                update.commit.put(trees::GROUPS, gid, g);
            }
        }
        if let Some((vid, v)) = join_head {
            update.commit.version(lists::JOINED_GROUPS, &vid, v);
        }
        // SDK order: member callbacks (handed over above) before the group's info change.
        update.events.extend(group_events_out);
    }

    /// A group notification (1501–1599); emitted here, the returned list is empty.
    pub(crate) async fn sync_group_side(
        &mut self,
        ct: i32,
        tips: &serde_json::Value,
    ) -> Vec<Event> {
        let group_id = {
            let g = str_at(tips, &["group", "groupID"]);
            if g.is_empty() {
                str_at(tips, &["request", "groupInfo", "groupID"])
            } else {
                g
            }
        };
        let operator = [
            &["opUser", "userID"][..],
            &["inviterUser", "userID"][..],
            &["entrantUser", "userID"][..],
            &["quitUser", "userID"][..],
        ]
        .iter()
        .map(|p| str_at(tips, p))
        .find(|s| !s.is_empty())
        .unwrap_or_default();
        let hint = GroupHint {
            content_type: ct,
            group_id: group_id.clone(),
            operator,
        };
        let mut update = RelationUpdate::default();
        if ct == 1511
            && let Some(g) = tips.get("group")
            && let Ok(group) = serde_json::from_value::<GroupInfo>(g.clone())
        {
            update.events.push(Event::GroupDismissed(group));
        }
        let focus = if group_id.is_empty() {
            None
        } else {
            Some(group_id.as_str())
        };
        self.groups_into(&mut update, Some(&hint), focus).await;
        self.finish(update).await;
        Vec::new()
    }
}

impl Engine {
    /// Server-side conversation settings (recvMsgOpt, pin, private chat, @-type…): the rows
    /// changed since the stored version (or all rows) are applied to the stored conversations;
    /// changed visible rows are reported (SDK: conversation sync after 1300/1701 and at
    /// connect). Emitted here; the returned list is empty.
    pub(crate) async fn sync_conversation_settings(&mut self) -> Vec<Event> {
        let stored = self.store.sync_version(lists::CONVERSATIONS);
        let (vid, v) = SyncVersion::request(stored.as_ref());
        let mut update = RelationUpdate::default();
        let (rows, head) = match self
            .api
            .get_incremental_conversations(&self.user_id, vid, v)
            .await
        {
            Ok(d) if SyncVersion::continues(stored.as_ref(), &d.version_id, d.full) => {
                tracing::debug!(
                    from = v,
                    to = d.version,
                    changed = d.inserted.len() + d.updated.len(),
                    "conversations: incremental"
                );
                let rows = d
                    .inserted
                    .iter()
                    .chain(&d.updated)
                    .filter_map(|c| serde_json::to_value(c).ok())
                    .collect();
                (rows, Some((d.version_id, d.version)))
            }
            other => {
                let head = match other {
                    Ok(d) => Some((d.version_id, d.version)),
                    Err(e) => {
                        tracing::warn!(error = %e, "incremental conversation sync failed; full resync");
                        None
                    }
                };
                match self.api.get_all_conversations(&self.user_id).await {
                    Ok(l) => (l, head),
                    Err(e) => {
                        tracing::warn!(error = %e, "conversation sync failed");
                        return Vec::new();
                    }
                }
            }
        };
        let changed = self.conversation_rows(rows, &mut update.commit);
        if !changed.is_empty() {
            update
                .events
                .push(Event::ConversationChanged(Conversations {
                    conversations: changed,
                }));
        }
        if let Some((vid, v)) = head {
            update.commit.version(lists::CONVERSATIONS, &vid, v);
        }
        self.finish(update).await;
        Vec::new()
    }

    /// Applies server conversation rows to the stored ones (written through `commit`); returns
    /// the visible rows that changed.
    fn conversation_rows(
        &self,
        list: Vec<serde_json::Value>,
        commit: &mut Commit,
    ) -> Vec<crate::model::Conversation> {
        let mut changed = Vec::new();
        for v in list {
            let id = str_at(&v, &["conversationID"]);
            if id.is_empty() || id.starts_with("n_") {
                continue;
            }
            let int = |k: &str| v.get(k).and_then(|x| x.as_i64()).unwrap_or(0);
            let boolean = |k: &str| v.get(k).and_then(|x| x.as_bool()).unwrap_or(false);
            let Ok(row) = self.store.conversation(&id) else {
                continue;
            };
            let exists = row.is_some();
            let mut c = row.unwrap_or_else(|| crate::model::Conversation {
                conversation_id: id.as_str().into(),
                conversation_type: int("conversationType") as i32,
                user_id: str_at(&v, &["userID"]).into(),
                group_id: str_at(&v, &["groupID"]).into(),
                ..Default::default()
            });
            let before = c.clone();
            c.recv_msg_opt = int("recvMsgOpt") as i32;
            c.is_pinned = boolean("isPinned");
            c.is_private_chat = boolean("isPrivateChat");
            c.group_at_type = int("groupAtType") as i32;
            c.burn_duration = int("burnDuration") as i32;
            c.ex = str_at(&v, &["ex"]).into();
            c.attached_info = str_at(&v, &["attachedInfo"]).into();
            if !exists || before != c {
                if exists && c.latest_msg_send_time > 0 {
                    changed.push(c.clone());
                }
                commit.conversation(c);
            }
        }
        changed
    }
}

/// True if `role` may manage a group (owner or admin).
#[allow(dead_code)]
pub(crate) fn is_manager(role: i32) -> bool {
    role == role_level::OWNER || role == role_level::ADMIN
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(from: &str, result: i32, time: i64) -> FriendApplication {
        FriendApplication {
            from_user_id: from.into(),
            to_user_id: "bot".into(),
            handle_result: result,
            create_time: time,
            ..Default::default()
        }
    }

    fn names(events: &[Event]) -> Vec<&'static str> {
        events.iter().map(|e| e.name()).collect()
    }

    #[test]
    fn friend_applications_are_reported_once_each() {
        let a = app("a", 0, 1);
        // offline application found at connect
        let e = friend_application_events(&[], std::slice::from_ref(&a), true);
        assert_eq!(names(&e), ["friend_application_added"]);
        // first start: pending ones still reported, handled ones not
        let e = friend_application_events(&[], &[a.clone(), app("b", 1, 1)], false);
        assert_eq!(names(&e), ["friend_application_added"]);
        // nothing changed: nothing reported
        assert!(
            friend_application_events(std::slice::from_ref(&a), std::slice::from_ref(&a), true)
                .is_empty()
        );
        // accepted: accepted + deleted (left the pending list)
        let e = friend_application_events(std::slice::from_ref(&a), &[app("a", 1, 1)], true);
        assert_eq!(
            names(&e),
            ["friend_application_accepted", "friend_application_deleted"]
        );
        let e = friend_application_events(std::slice::from_ref(&a), &[app("a", -1, 1)], true);
        assert_eq!(
            names(&e),
            ["friend_application_rejected", "friend_application_deleted"]
        );
        // re-applied after refusal
        let e = friend_application_events(&[app("a", -1, 1)], &[app("a", 0, 2)], true);
        assert_eq!(names(&e), ["friend_application_added"]);
        // withdrawn
        let e = friend_application_events(&[a], &[], true);
        assert_eq!(names(&e), ["friend_application_deleted"]);
    }

    #[test]
    fn member_events_tell_invited_entered_kicked_left_apart() {
        let m = |u: &str, src: i32| GroupMember {
            group_id: "g".into(),
            user_id: u.into(),
            join_source: src,
            role_level: 20,
            ..Default::default()
        };
        let hint = |ct| GroupHint {
            content_type: ct,
            group_id: "g".into(),
            operator: "op".into(),
        };
        let e = member_events(&[], &[m("x", 3)], Some(&hint(1509)));
        assert_eq!(names(&e), ["group_member_invited"]);
        let e = member_events(&[], &[m("x", 2)], Some(&hint(1510)));
        assert_eq!(names(&e), ["group_member_entered"]);
        let e = member_events(&[], &[m("x", 2)], None);
        assert_eq!(names(&e), ["group_member_invited"]);
        let e = member_events(&[m("x", 2)], &[], Some(&hint(1508)));
        assert_eq!(names(&e), ["group_member_kicked"]);
        let e = member_events(&[m("x", 2)], &[], Some(&hint(1504)));
        assert_eq!(names(&e), ["group_member_left"]);
        let mut muted = m("x", 2);
        muted.mute_end_time = 99;
        let e = member_events(&[m("x", 2)], &[muted], None);
        assert_eq!(names(&e), ["group_member_info_changed"]);
    }

    #[test]
    fn member_deltas_become_the_same_events_as_the_list_diff() {
        let m = |u: &str, role: i32| GroupMember {
            group_id: "g".into(),
            user_id: u.into(),
            join_source: 2,
            role_level: role,
            ..Default::default()
        };
        let stored = [m("a", 20), m("b", 20), m("gone", 20)];
        let lookup = |us: &[&str]| {
            let found = stored.iter().filter(|x| us.contains(&x.user_id.as_str()));
            found.cloned().collect()
        };
        let delta = VersionDelta::<GroupMember> {
            deleted: vec!["gone".into(), "never-stored".into()],
            // "b" re-inserted unchanged (already applied before a crash): no event.
            inserted: vec![m("new", 20), m("b", 20)],
            updated: vec![m("a", 60)],
            ..Default::default()
        };
        let (old, new) = member_delta_rows(lookup, &delta);
        let mut e = names(&member_events(&old, &new, None));
        e.sort_unstable();
        assert_eq!(
            e,
            [
                "group_member_info_changed",
                "group_member_invited",
                "group_member_left"
            ]
        );
        // Applying the same delta on top of the result reports nothing.
        let after: Vec<GroupMember> = vec![m("a", 60), m("b", 20), m("new", 20)];
        let lookup = |us: &[&str]| {
            let found = after.iter().filter(|x| us.contains(&x.user_id.as_str()));
            found.cloned().collect()
        };
        let (old, new) = member_delta_rows(lookup, &delta);
        assert!(member_events(&old, &new, None).is_empty());
    }

    #[test]
    fn group_applications_accept_and_reject() {
        let a = |r| GroupApplication {
            group_id: "g".into(),
            user_id: "u".into(),
            handle_result: r,
            ..Default::default()
        };
        assert_eq!(
            names(&group_application_events(&[], &[a(0)], true)),
            ["group_application_added"]
        );
        assert_eq!(
            names(&group_application_events(&[a(0)], &[a(1)], true)),
            ["group_application_accepted"]
        );
        assert_eq!(
            names(&group_application_events(&[a(0)], &[a(-1)], true)),
            ["group_application_rejected"]
        );
        assert!(group_application_events(&[a(1)], &[a(1)], true).is_empty());
    }
}
