//! Relation state (self, friends, applications, blacklist, groups, members): fetched from the
//! HTTP API on every connect and on every friend/group notification, diffed against the local
//! store, and turned into events. Because every change is found by comparing with the store,
//! each one is reported once, whether it happened online (notification) or offline (catch-up).

use std::collections::HashMap;

use crate::engine::{Engine, str_at};
use crate::event::*;
use crate::model::{handle_result, role_level};
use crate::store::trees;
use crate::sync::diff;

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

    /// Full relation sync (connect, or after a local action): every list is compared.
    pub(crate) async fn sync_relations(&mut self, hint: Option<GroupHint>) -> Vec<Event> {
        let mut out = Vec::new();
        out.extend(self.sync_self_info().await);
        out.extend(self.sync_friends(true, true, true).await);
        out.extend(self.sync_groups(hint.as_ref(), None).await);
        if let Ok(meta) = self.store.raw_tree(trees::META) {
            let _ = meta.insert("relations", "1");
        }
        out
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

    /// Friends, friend applications and blacklist.
    pub(crate) async fn sync_friends(
        &mut self,
        friends: bool,
        applications: bool,
        blacklist: bool,
    ) -> Vec<Event> {
        let baseline = self.baseline();
        let mut out = Vec::new();
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
            match self.api.get_friend_list(&self.user_id).await {
                Ok(list) => {
                    let old = self.store.friends().unwrap_or_default();
                    if baseline {
                        let d = diff(&old, &list, |f: &Friend| f.user_id.clone());
                        out.extend(d.added.into_iter().map(Event::FriendAdded));
                        out.extend(d.removed.into_iter().map(Event::FriendDeleted));
                        out.extend(
                            d.changed
                                .into_iter()
                                .map(|(_, n)| Event::FriendInfoChanged(n)),
                        );
                    }
                    let items: Vec<_> = list
                        .iter()
                        .map(|f| (f.user_id.clone(), f.clone()))
                        .collect();
                    self.replace_tree(trees::FRIENDS, &items);
                }
                Err(e) => tracing::warn!(error = %e, "friend sync failed"),
            }
        }
        if blacklist {
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
        out
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

    /// Joined groups (and the members of `focus`, or of every group when `focus` is None) and
    /// group applications.
    pub(crate) async fn sync_groups(
        &mut self,
        hint: Option<&GroupHint>,
        focus: Option<&str>,
    ) -> Vec<Event> {
        let baseline = self.baseline();
        let mut out = Vec::new();
        let old_groups = self.store.groups().unwrap_or_default();
        let groups = match self.api.get_joined_groups(&self.user_id).await {
            Ok(g) => g,
            Err(e) => {
                tracing::warn!(error = %e, "joined group sync failed");
                return out;
            }
        };
        // Applications first: they tell whether a new group comes from an accepted application.
        let old_apps = self.store.group_applications().unwrap_or_default();
        let recv = self.api.get_recv_group_applications(&self.user_id).await;
        let own = self.api.get_self_group_applications(&self.user_id).await;
        let mut app_events = Vec::new();
        match (recv, own) {
            (Ok(mut r), Ok(o)) => {
                r.extend(o);
                r.sort_by_key(GroupApplication::key);
                r.dedup_by_key(|a| a.key());
                app_events = group_application_events(&old_apps, &r, baseline);
                let items: Vec<_> = r.iter().map(|a| (a.key(), a.clone())).collect();
                self.replace_tree(trees::GROUP_APPS, &items);
            }
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(error = %e, "group application sync failed")
            }
        }
        out.extend(app_events);

        let d = diff(&old_groups, &groups, |g: &GroupInfo| g.group_id.clone());
        let hint_for = |gid: &str| hint.filter(|h| h.group_id == gid);
        let mut member_events_out = Vec::new();
        let mut group_events_out = Vec::new();
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
            // Members of a newly joined group are copied silently.
            if let Ok(members) = self.api.get_group_members(&g.group_id).await {
                let items: Vec<_> = members
                    .iter()
                    .map(|m| (format!("{}/{}", m.group_id, m.user_id), m.clone()))
                    .collect();
                for (k, v) in items {
                    let _ = self.store.put(trees::MEMBERS, &k, &v);
                }
            }
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
            for m in self.store.members(&g.group_id).unwrap_or_default() {
                let _ = self
                    .store
                    .remove(trees::MEMBERS, &format!("{}/{}", m.group_id, m.user_id));
            }
            let mut group = g.clone();
            group.member_count = 0;
            group_events_out.push(Event::JoinedGroupDeleted(JoinedGroupDeleted {
                group,
                reason,
                operator_user_id: h.map(|h| h.operator.clone()).unwrap_or_default(),
            }));
        }
        for (_, n) in &d.changed {
            group_events_out.push(Event::GroupInfoChanged(n.clone()));
        }
        // Members of groups that were already joined.
        let added: Vec<&str> = d.added.iter().map(|g| g.group_id.as_str()).collect();
        for g in &groups {
            if added.contains(&g.group_id.as_str()) || focus.is_some_and(|f| f != g.group_id) {
                continue;
            }
            let members = match self.api.get_group_members(&g.group_id).await {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(group = %g.group_id, error = %e, "member sync failed");
                    continue;
                }
            };
            let old = self.store.members(&g.group_id).unwrap_or_default();
            if baseline {
                member_events_out.extend(member_events(&old, &members, hint_for(&g.group_id)));
            }
            let new_keys: HashMap<String, ()> =
                members.iter().map(|m| (m.user_id.clone(), ())).collect();
            for m in &old {
                if !new_keys.contains_key(&m.user_id) {
                    let _ = self
                        .store
                        .remove(trees::MEMBERS, &format!("{}/{}", m.group_id, m.user_id));
                }
            }
            for m in &members {
                let _ = self
                    .store
                    .put(trees::MEMBERS, &format!("{}/{}", m.group_id, m.user_id), m);
            }
        }
        for g in &groups {
            let _ = self.store.put(trees::GROUPS, &g.group_id, g);
        }
        for g in &d.removed {
            let _ = self.store.remove(trees::GROUPS, &g.group_id);
        }
        // SDK order: member callbacks before the group's info change.
        out.extend(member_events_out);
        out.extend(group_events_out);
        out
    }

    /// A group notification (1501–1599).
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
        let mut out = Vec::new();
        if ct == 1511
            && let Some(g) = tips.get("group")
            && let Ok(group) = serde_json::from_value::<GroupInfo>(g.clone())
        {
            out.push(Event::GroupDismissed(group));
        }
        let focus = if group_id.is_empty() {
            None
        } else {
            Some(group_id.as_str())
        };
        out.extend(self.sync_groups(Some(&hint), focus).await);
        out
    }
}

impl Engine {
    /// Server-side conversation settings (recvMsgOpt, pin, private chat, @-type…): applied to the
    /// stored rows; changed visible rows are reported (SDK: conversation sync after 1300/1701
    /// and at connect).
    pub(crate) async fn sync_conversation_settings(&mut self) -> Vec<Event> {
        let list = match self.api.get_all_conversations(&self.user_id).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "conversation sync failed");
                return Vec::new();
            }
        };
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
                conversation_id: id.clone(),
                conversation_type: int("conversationType") as i32,
                user_id: str_at(&v, &["userID"]),
                group_id: str_at(&v, &["groupID"]),
                ..Default::default()
            });
            let before = c.clone();
            c.recv_msg_opt = int("recvMsgOpt") as i32;
            c.is_pinned = boolean("isPinned");
            c.is_private_chat = boolean("isPrivateChat");
            c.group_at_type = int("groupAtType") as i32;
            c.burn_duration = int("burnDuration") as i32;
            c.ex = str_at(&v, &["ex"]);
            c.attached_info = str_at(&v, &["attachedInfo"]);
            if !exists || before != c {
                let _ = self.store.put_conversation(&id, &c);
                if exists && c.latest_msg_send_time > 0 {
                    changed.push(c);
                }
            }
        }
        if changed.is_empty() {
            Vec::new()
        } else {
            vec![Event::ConversationChanged(Conversations {
                conversations: changed,
            })]
        }
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
