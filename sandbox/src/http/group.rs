//! `/group/*` routes: lifecycle, membership, applications, roles, mutes, incremental sync.

use std::collections::HashMap;

use openim_protocol::api::common::{FullIdsUserReq, IncrementalUserReq};
use openim_protocol::api::group::{
    BatchIncrementalGroupMembersReq, CreateGroupReq, DismissGroupReq, FullGroupMemberIdsReq,
    GetGroupMemberListReq, GetGroupMembersInfoReq, GetGroupUsersReqApplicationListReq,
    GetGroupsReq, GetJoinedGroupListReq, GetRecvGroupApplicationListReq,
    GetUserReqGroupApplicationListReq, GroupApplicationResponseReq, GroupIdReq, GroupIdsReq,
    GroupMemberReq, IncrementalGroupMembersReq, InviteUserToGroupReq, JoinGroupReq, KickGroupReq,
    MuteGroupMemberReq, QuitGroupReq, SetGroupInfoExReq, SetGroupMemberInfoReq, TransferGroupReq,
    UnhandledCountReq,
};
use serde_json::{Map, Value, json};

use super::{Ctx, HResult, Paginate, Reply, data, list, not_found, parse, to_value};
use crate::error::CodeError;
use crate::model::{GroupInfo, GroupMember, GroupRequestRow};
use crate::push::deliver;
use crate::state::{
    Delivery, Group, Incremental, LOG_DELETE, LOG_INSERT, LOG_UPDATE, Notif, SORT_MARKER, State,
    now_ms,
};

fn member_key(g: &str, u: &str) -> String {
    format!("{g}\t{u}")
}

/// Whether a group notification type is also stored as a chat message by default.
fn default_send_msg(ct: i32) -> bool {
    matches!(ct, 1501 | 1504 | 1507..=1515 | 1519 | 1520)
}

/// The operator as a member (or a synthetic entry for app admins outside the group).
fn op_user(st: &State, gid: &str, uid: &str) -> GroupMember {
    st.member(gid, uid).unwrap_or_else(|| GroupMember {
        group_id: gid.to_string(),
        user_id: uid.to_string(),
        nickname: st.nickname(uid),
        face_url: st.face(uid),
        app_manger_level: st.users.get(uid).map(|u| u.app_manger_level).unwrap_or(0),
        ..Default::default()
    })
}

#[allow(clippy::too_many_arguments)]
fn group_notify(
    st: &mut State,
    ct: i32,
    gid: &str,
    op: &str,
    tips: Value,
    send_msg: Option<bool>,
    extra: Vec<String>,
    op_id: &str,
) -> Vec<Delivery> {
    st.notify(
        Notif {
            content_type: ct,
            session_type: 3,
            send_id: op.to_string(),
            recv_id: gid.to_string(),
            tips,
            is_send_msg: send_msg.unwrap_or_else(|| default_send_msg(ct)),
            reliable: false,
            extra,
        },
        op_id,
    )
}

fn single_notify(
    st: &mut State,
    ct: i32,
    from: &str,
    to: &str,
    tips: Value,
    op_id: &str,
) -> Vec<Delivery> {
    st.notify(
        Notif {
            content_type: ct,
            session_type: 1,
            send_id: from.to_string(),
            recv_id: to.to_string(),
            tips,
            is_send_msg: false,
            reliable: false,
            extra: vec![],
        },
        op_id,
    )
}

/// Adds a member (logs, conversation record); returns false if already a member.
fn add_member(
    st: &mut State,
    gid: &str,
    uid: &str,
    role: i32,
    join_source: i32,
    inviter: &str,
    operator: &str,
) -> bool {
    if st
        .groups
        .get(gid)
        .is_none_or(|g| g.members.contains_key(uid))
    {
        return false;
    }
    let order = st.next_order();
    if let Some(g) = st.groups.get_mut(gid) {
        g.members.insert(
            uid.to_string(),
            GroupMember {
                group_id: gid.to_string(),
                user_id: uid.to_string(),
                role_level: role,
                join_time: now_ms(),
                join_source,
                operator_user_id: operator.to_string(),
                inviter_user_id: inviter.to_string(),
                ..Default::default()
            },
        );
        g.orders.insert(uid.to_string(), order);
    }
    st.log_write(&format!("join:{uid}"), &[(gid.to_string(), LOG_INSERT)]);
    let cid = format!("sg_{gid}");
    if !st.ensure_conversation(uid, &cid, 3, "", gid) {
        if let Some(uc) = st.user_convs.get_mut(uid).and_then(|m| m.get_mut(&cid)) {
            uc.conv.max_seq = 0;
        }
        st.log_write(&format!("conv:{uid}"), &[(cid, LOG_UPDATE)]);
    }
    true
}

/// Removes a member: join log delete, the leaver's conversation capped at the current max seq.
fn remove_member(st: &mut State, gid: &str, uid: &str) -> Option<GroupMember> {
    let m = st.groups.get_mut(gid).and_then(|g| {
        g.orders.remove(uid);
        g.members.remove(uid)
    })?;
    st.log_write(&format!("join:{uid}"), &[(gid.to_string(), LOG_DELETE)]);
    let cid = format!("sg_{gid}");
    let max = st.seqs.get(&cid).map(|s| s.max_seq).unwrap_or(0);
    if let Some(uc) = st.user_convs.get_mut(uid).and_then(|c| c.get_mut(&cid)) {
        uc.conv.max_seq = max.max(1);
        st.log_write(&format!("conv:{uid}"), &[(cid, LOG_UPDATE)]);
    }
    Some(m)
}

/// What open-im-server v3.8.3 does for members who quit or were kicked once their 1504/1508
/// chat tip is stored (the push handler's `DeleteMemberAndSetConversationSeq`, after the group
/// RPC's own): each leaver's conversation is capped at the group's current max seq, their own
/// tip included, and each gets a 1300 so a live client resyncs that conversation. (Upstream
/// sends the 1300 once from the group RPC and again per pushed copy of the tip; one carries
/// the same change.)
fn cap_leavers(st: &mut State, gid: &str, leavers: &[String], op_id: &str) -> Vec<Delivery> {
    let cid = format!("sg_{gid}");
    let max = st.seqs.get(&cid).map(|s| s.max_seq).unwrap_or(0);
    let mut out = Vec::new();
    for uid in leavers {
        if let Some(uc) = st.user_convs.get_mut(uid).and_then(|c| c.get_mut(&cid)) {
            uc.conv.max_seq = max.max(1);
            st.log_write(&format!("conv:{uid}"), &[(cid.clone(), LOG_UPDATE)]);
        }
        out.extend(st.notify_conversation_changed(uid, &cid, op_id));
    }
    out
}

fn request_json(st: &State, r: &GroupRequestRow) -> Value {
    let user = st.users.get(&r.user_id).map(crate::model::public_info);
    json!({
        "userInfo": user, "groupInfo": st.group_info(&r.group_id), "handleResult": r.handle_result,
        "reqMsg": r.req_msg, "handleMsg": r.handle_msg, "reqTime": r.req_time, "handleUserID": "",
        "handleTime": 0, "ex": r.ex, "joinSource": r.join_source, "inviterUserID": r.inviter_user_id,
    })
}

fn get_group<'a>(st: &'a State, gid: &str) -> Result<&'a Group, CodeError> {
    st.groups
        .get(gid)
        .ok_or_else(|| CodeError::not_found(format!("group {gid} not found")))
}

fn alive(st: &State, gid: &str) -> Result<(), CodeError> {
    if get_group(st, gid)?.info.status == 2 {
        return Err(CodeError::new(1204, "group dismissed"));
    }
    Ok(())
}

/// Caller's role in a group (app admins count as 100; non-members 0).
fn role_of(ctx: &Ctx, st: &State, gid: &str) -> i32 {
    if ctx.admin {
        return 1000;
    }
    st.groups
        .get(gid)
        .and_then(|g| g.members.get(&ctx.user))
        .map(|m| m.role_level)
        .unwrap_or(0)
}

fn need_manager(ctx: &Ctx, st: &State, gid: &str) -> Result<i32, CodeError> {
    let role = role_of(ctx, st, gid);
    if role == 0 {
        return Err(CodeError::not_found("op user not in group"));
    }
    if role < 60 {
        return Err(CodeError::no_permission("no permission"));
    }
    Ok(role)
}

fn need_member(ctx: &Ctx, st: &State, gid: &str) -> Result<(), CodeError> {
    if role_of(ctx, st, gid) == 0 {
        return Err(CodeError::no_permission("op user not in group"));
    }
    Ok(())
}

fn unique(ids: &[String]) -> bool {
    let mut seen = std::collections::HashSet::new();
    ids.iter().all(|i| seen.insert(i.clone()))
}

fn incr_members_json(st: &mut State, gid: &str, inc: &Incremental) -> Value {
    let get = |st: &State, ids: &[String]| -> Vec<GroupMember> {
        ids.iter().filter_map(|id| st.member(gid, id)).collect()
    };
    let (ins, upd) = (get(st, &inc.insert), get(st, &inc.update));
    let with_group = inc.full
        || inc.group_marker
        || !inc.insert.is_empty()
        || !inc.update.is_empty()
        || !inc.delete.is_empty();
    json!({
        "version": inc.version, "versionID": inc.version_id, "full": inc.full, "delete": list(&inc.delete),
        "insert": list(&ins), "update": list(&upd),
        "group": if with_group { to_value(&st.group_info(gid)) } else { Value::Null },
        "sortVersion": inc.sort_version,
    })
}

fn apply_join_request(
    ctx: &Ctx,
    st: &mut State,
    gid: &str,
    applicant: &str,
    accept: bool,
    handled_msg: &str,
    out: &mut Vec<Delivery>,
) -> Result<(), CodeError> {
    let k = member_key(gid, applicant);
    let Some(req) = st.group_requests.get(&k).cloned() else {
        return Err(CodeError::not_found("group request not found"));
    };
    if req.handle_result != 0 {
        return Err(CodeError::new(1206, "group request handled"));
    }
    if let Some(r) = st.group_requests.get_mut(&k) {
        r.handle_result = if accept { 1 } else { -1 };
        r.handle_msg = handled_msg.to_string();
    }
    let mut joined = false;
    if accept {
        joined = add_member(
            st,
            gid,
            applicant,
            20,
            req.join_source,
            &req.inviter_user_id,
            &ctx.user,
        );
        if joined {
            st.log_write(
                &format!("member:{gid}"),
                &[(applicant.to_string(), LOG_INSERT)],
            );
        }
    }
    let req_row = st.group_requests.get(&k).cloned().unwrap_or_default();
    let request = request_json(st, &req_row);
    let g = get_group(st, gid)?;
    let mut receivers = g.managers();
    receivers.push(applicant.to_string());
    receivers.dedup();
    let ct = if accept { 1505 } else { 1506 };
    let opu = op_user(st, gid, &ctx.user);
    let ginfo = st.group_info(gid);
    for rcv in receivers {
        let tips = json!({"group": ginfo, "opUser": opu, "handleMsg": handled_msg, "receiverAs": if rcv == applicant {0} else {1},
            "uuid": crate::state::random_hex32(), "request": request});
        out.extend(single_notify(st, ct, &ctx.user, &rcv, tips, &ctx.op));
    }
    if joined {
        let (v, vid) = st.log_head(&format!("member:{gid}"));
        let entrant = st.member(gid, applicant);
        let ginfo = st.group_info(gid);
        if req.inviter_user_id.is_empty() || req.inviter_user_id == applicant {
            let tips = json!({"group": ginfo, "entrantUser": entrant, "operationTime": now_ms(), "groupMemberVersion": v, "groupMemberVersionID": vid});
            out.extend(group_notify(
                st,
                1510,
                gid,
                &ctx.user,
                tips,
                None,
                vec![],
                &ctx.op,
            ));
        } else {
            let inviter = st.member(gid, &req.inviter_user_id);
            let tips = json!({"group": ginfo, "opUser": opu, "invitedUserList": [entrant], "operationTime": now_ms(),
                "groupMemberVersion": v, "groupMemberVersionID": vid, "inviterUser": inviter});
            out.extend(group_notify(
                st,
                1509,
                gid,
                &ctx.user,
                tips,
                None,
                vec![],
                &ctx.op,
            ));
        }
    }
    Ok(())
}

pub(crate) async fn dispatch(ctx: &Ctx, path: &str, body: &[u8]) -> HResult {
    let inner = &ctx.inner;
    let mut out: Vec<Delivery> = Vec::new();
    let result = match path {
        "/group/create_group" => {
            let r: CreateGroupReq = parse(body)?;
            if r.owner_user_id.is_empty() {
                return Err(CodeError::args("ownerUserID is empty"));
            }
            let Some(mut info) = r.group_info.clone() else {
                return Err(CodeError::args("groupInfo is empty"));
            };
            ctx.self_or_admin(&r.owner_user_id)?;
            if info.group_type != 2 {
                return Err(CodeError::args("group type only supports 2"));
            }
            let members = r.member_user_ids.clone();
            let admins = r.admin_user_ids.clone();
            if members.len() > 1000 {
                return Err(CodeError::args("too many members"));
            }
            let mut all: Vec<String> = vec![r.owner_user_id.clone()];
            all.extend(admins.iter().cloned());
            all.extend(members.iter().cloned());
            if !unique(&all) {
                return Err(CodeError::args("group member repeated"));
            }
            let init: Vec<Value> =
                std::iter::once(json!({"userID": r.owner_user_id, "roleLevel": 100}))
                    .chain(admins.iter().map(|a| json!({"userID": a, "roleLevel": 60})))
                    .chain(
                        members
                            .iter()
                            .map(|m| json!({"userID": m, "roleLevel": 20})),
                    )
                    .collect();
            let mut cb = to_value(&info);
            cb["operationID"] = json!(ctx.op);
            cb["initMemberList"] = json!(init);
            if let Some(reply) = inner
                .webhook
                .before("callbackBeforeCreateGroupCommand", &ctx.op, cb)
                .await?
            {
                let s = |k: &str| reply.get(k).and_then(Value::as_str).map(str::to_string);
                let i = |k: &str| reply.get(k).and_then(Value::as_i64).map(|v| v as i32);
                if let Some(v) = s("groupID") {
                    info.group_id = v;
                }
                if let Some(v) = s("groupName") {
                    info.group_name = v;
                }
                if let Some(v) = s("notification") {
                    info.notification = v;
                }
                if let Some(v) = s("introduction") {
                    info.introduction = v;
                }
                if let Some(v) = s("faceURL") {
                    info.face_url = v;
                }
                if let Some(v) = s("ex") {
                    info.ex = v;
                }
                if let Some(v) = s("creatorUserID") {
                    info.creator_user_id = v;
                }
                if let Some(v) = i("needVerification") {
                    info.need_verification = v;
                }
                if let Some(v) = i("lookMemberInfo") {
                    info.look_member_info = v;
                }
                if let Some(v) = i("status") {
                    info.status = v;
                }
            }
            let mut st = inner.state.lock();
            if all.iter().any(|u| !st.users.contains_key(u)) {
                return Err(CodeError::new(1101, "user not found"));
            }
            if info.group_id.is_empty() {
                loop {
                    let id = rand::random::<u32>().max(1_000_000).to_string();
                    if !st.groups.contains_key(&id) {
                        info.group_id = id;
                        break;
                    }
                }
            } else if st.groups.contains_key(&info.group_id) {
                return Err(CodeError::new(1202, "group id existed"));
            }
            let gid = info.group_id.clone();
            info.create_time = now_ms();
            info.owner_user_id = String::new();
            info.member_count = 0;
            st.groups.insert(
                gid.clone(),
                Group {
                    info: info.clone(),
                    ..Default::default()
                },
            );
            add_member(
                &mut st,
                &gid,
                &r.owner_user_id,
                100,
                2,
                &ctx.user,
                &ctx.user,
            );
            for a in &admins {
                add_member(&mut st, &gid, a, 60, 2, &ctx.user, &ctx.user);
            }
            for m in &members {
                add_member(&mut st, &gid, m, 20, 2, &ctx.user, &ctx.user);
            }
            let changes: Vec<(String, u8)> = all.iter().map(|u| (u.clone(), LOG_INSERT)).collect();
            let (v, vid) = st.log_write(&format!("member:{gid}"), &changes);
            let ginfo = st.group_info(&gid);
            let member_list: Vec<GroupMember> = st
                .groups
                .get(&gid)
                .map(|g| g.sorted_member_ids())
                .unwrap_or_default()
                .iter()
                .filter_map(|u| st.member(&gid, u))
                .collect();
            let tips = json!({"group": ginfo, "opUser": op_user(&st, &gid, &ctx.user), "memberList": list(&member_list),
                "operationTime": now_ms(), "groupOwnerUser": st.member(&gid, &r.owner_user_id),
                "groupMemberVersion": v, "groupMemberVersionID": vid});
            out.extend(group_notify(
                &mut st,
                1501,
                &gid,
                &ctx.user,
                tips,
                r.send_message,
                vec![],
                &ctx.op,
            ));
            if !info.notification.is_empty() {
                let tips = json!({"opUser": op_user(&st, &gid, &ctx.user), "group": st.group_info(&gid), "groupMemberVersion": v, "groupMemberVersionID": vid});
                out.extend(group_notify(
                    &mut st,
                    1519,
                    &gid,
                    &ctx.user,
                    tips,
                    None,
                    vec![],
                    &ctx.op,
                ));
            }
            let mut after = to_value(&ginfo);
            after["initMemberList"] = json!(init);
            inner
                .webhook
                .after("callbackAfterCreateGroupCommand", &ctx.op, after);
            let mut gi = st.group_info(&gid).unwrap_or_default();
            if !all.contains(&ctx.user) {
                gi.member_count += 1;
            }
            data(json!({"groupInfo": gi}))
        }
        "/group/set_group_info" | "/group/set_group_info_ex" => {
            let ex_route = path.ends_with("_ex");
            // normalise both shapes into optional fields
            let (g_id, name, notif, intro, face, ex, need_ver, look, apply) = if ex_route {
                let r: SetGroupInfoExReq = parse(body)?;
                (
                    r.group_id.clone(),
                    r.group_name.clone(),
                    r.notification.clone(),
                    r.introduction.clone(),
                    r.face_url.clone(),
                    r.ex.clone(),
                    r.need_verification,
                    r.look_member_info,
                    r.apply_member_friend,
                )
            } else {
                let v: Value = parse(body)?;
                let Some(s) = v.get("groupInfoForSet").cloned().filter(Value::is_object) else {
                    return Err(CodeError::args("groupInfoForSet is empty"));
                };
                let st = |k: &str| {
                    s.get(k)
                        .and_then(Value::as_str)
                        .filter(|v| !v.is_empty())
                        .map(str::to_string)
                };
                let it = |k: &str| s.get(k).and_then(Value::as_i64).map(|v| v as i32);
                (
                    st("groupID").unwrap_or_default(),
                    st("groupName"),
                    st("notification"),
                    st("introduction"),
                    st("faceURL"),
                    s.get("ex").and_then(Value::as_str).map(str::to_string),
                    it("needVerification"),
                    it("lookMemberInfo"),
                    it("applyMemberFriend"),
                )
            };
            if g_id.is_empty() {
                return Err(CodeError::args("groupID is empty"));
            }
            if ex_route && name.as_deref().is_some_and(|n| n.trim().is_empty()) {
                return Ok(Reply::Empty);
            }
            let cmd = if ex_route {
                "callbackBeforeSetGroupInfoExCommand"
            } else {
                "callbackBeforeSetGroupInfoCommand"
            };
            inner.webhook.before(cmd, &ctx.op, json!({"operationID": "", "groupID": g_id, "groupName": name, "notification": notif,
                "introduction": intro, "faceURL": face, "ex": ex, "needVerification": need_ver, "lookMemberInfo": look, "applyMemberFriend": apply})).await?;
            let mut st = inner.state.lock();
            alive(&st, &g_id)?;
            need_manager(ctx, &st, &g_id)?;
            let now = now_ms();
            let mut other = false;
            let notif = notif.map(|n| n.trim().to_string());
            if let Some(g) = st.groups.get_mut(&g_id) {
                let i = &mut g.info;
                if let Some(v) = &name {
                    i.group_name = v.clone();
                }
                if let Some(v) = &notif {
                    i.notification = v.clone();
                    i.notification_update_time = now;
                    i.notification_user_id = ctx.user.clone();
                }
                if let Some(v) = &intro {
                    i.introduction = v.clone();
                    other = true;
                }
                if let Some(v) = &face {
                    i.face_url = v.clone();
                    other = true;
                }
                if let Some(v) = &ex {
                    i.ex = v.clone();
                    other = true;
                }
                if let Some(v) = need_ver {
                    i.need_verification = v;
                    other = true;
                }
                if let Some(v) = look {
                    i.look_member_info = v;
                    other = true;
                }
                if let Some(v) = apply {
                    i.apply_member_friend = v;
                    other = true;
                }
            }
            let (v, vid) = st.log_write(&format!("member:{g_id}"), &[(String::new(), LOG_UPDATE)]);
            let opu = op_user(&st, &g_id, &ctx.user);
            let ginfo = st.group_info(&g_id);
            if let Some(n) = &notif {
                if !n.is_empty() {
                    let members = st
                        .groups
                        .get(&g_id)
                        .map(|g| g.member_ids())
                        .unwrap_or_default();
                    // Like upstream's SetConversations(groupAtType 4) for every member: only
                    // changed conversations get a version update, and each such member a 1300,
                    // so live clients resync the conversation and see the announcement mention.
                    let cid = format!("sg_{g_id}");
                    for m in members {
                        let changed = st
                            .user_convs
                            .get_mut(&m)
                            .and_then(|c| c.get_mut(&cid))
                            .is_some_and(|uc| {
                                let was = uc.conv.group_at_type;
                                uc.conv.group_at_type = 4;
                                was != 4
                            });
                        if changed {
                            st.log_write(&format!("conv:{m}"), &[(cid.clone(), LOG_UPDATE)]);
                            out.extend(st.notify_conversation_changed(&m, &cid, &ctx.op));
                        }
                    }
                }
                let tips = json!({"opUser": opu, "group": ginfo, "groupMemberVersion": v, "groupMemberVersionID": vid});
                let send = if n.is_empty() { Some(false) } else { None };
                out.extend(group_notify(
                    &mut st,
                    1519,
                    &g_id,
                    &ctx.user,
                    tips,
                    send,
                    vec![],
                    &ctx.op,
                ));
            }
            if name.is_some() {
                let tips = json!({"opUser": opu, "group": ginfo, "groupMemberVersion": v, "groupMemberVersionID": vid});
                out.extend(group_notify(
                    &mut st,
                    1520,
                    &g_id,
                    &ctx.user,
                    tips,
                    None,
                    vec![],
                    &ctx.op,
                ));
            }
            if other {
                let tips = json!({"opUser": opu, "muteTime": 0, "group": ginfo, "groupMemberVersion": v, "groupMemberVersionID": vid});
                out.extend(group_notify(
                    &mut st,
                    1502,
                    &g_id,
                    &ctx.user,
                    tips,
                    None,
                    vec![],
                    &ctx.op,
                ));
            }
            let cmd = if ex_route {
                "callbackAfterSetGroupInfoExCommand"
            } else {
                "callbackAfterSetGroupInfoCommand"
            };
            inner.webhook.after(cmd, &ctx.op, json!({"groupID": g_id, "groupName": name, "notification": notif, "introduction": intro, "faceURL": face}));
            Ok(Reply::Empty)
        }
        "/group/join_group" => {
            let r: JoinGroupReq = parse(body)?;
            let gid = r.group_id.clone();
            if gid.is_empty() || !(1..=4).contains(&r.join_source) {
                return Err(CodeError::args("groupID and joinSource are required"));
            }
            let applicant = if r.inviter_user_id.is_empty() {
                ctx.user.clone()
            } else {
                r.inviter_user_id.clone()
            };
            let ex = r.ex.clone();
            inner.webhook.before("callbackBeforeJoinGroupCommand", &ctx.op, json!({"groupID": gid, "groupType": "\u{2}", "applyID": applicant, "reqMessage": r.req_message, "ex": ex})).await?;
            let mut st = inner.state.lock();
            if !st.users.contains_key(&applicant) {
                return Err(CodeError::not_found("user not found"));
            }
            alive(&st, &gid)?;
            let g = get_group(&st, &gid)?;
            if g.members.contains_key(&applicant) {
                return Err(CodeError::args("already in group"));
            }
            if g.info.need_verification == 2 {
                add_member(&mut st, &gid, &applicant, 20, 0, &applicant, &ctx.user);
                let (v, vid) =
                    st.log_write(&format!("member:{gid}"), &[(applicant.clone(), LOG_INSERT)]);
                let tips = json!({"group": st.group_info(&gid), "entrantUser": st.member(&gid, &applicant), "operationTime": now_ms(),
                    "groupMemberVersion": v, "groupMemberVersionID": vid});
                out.extend(group_notify(
                    &mut st,
                    1510,
                    &gid,
                    &ctx.user,
                    tips,
                    None,
                    vec![],
                    &ctx.op,
                ));
                inner.webhook.after("callbackAfterJoinGroupCommand", &ctx.op, json!({"operationID": ctx.op, "groupID": gid, "reqMessage": r.req_message, "joinSource": r.join_source, "inviterUserID": applicant}));
            } else {
                let row = GroupRequestRow {
                    group_id: gid.clone(),
                    user_id: applicant.clone(),
                    req_msg: r.req_message.clone(),
                    req_time: now_ms(),
                    ex,
                    join_source: r.join_source,
                    ..Default::default()
                };
                st.group_requests
                    .insert(member_key(&gid, &applicant), row.clone());
                let mut receivers = get_group(&st, &gid)?.managers();
                receivers.push(applicant.clone());
                receivers.push(ctx.user.clone());
                let mut seen = std::collections::HashSet::new();
                receivers.retain(|x| seen.insert(x.clone()));
                let request = request_json(&st, &row);
                let applicant_info = st.users.get(&applicant).map(crate::model::public_info);
                let ginfo = st.group_info(&gid);
                let uuid = crate::state::random_hex32();
                for rcv in receivers {
                    let tips = json!({"group": ginfo, "applicant": applicant_info, "reqMsg": r.req_message, "uuid": uuid, "request": request});
                    out.extend(single_notify(&mut st, 1503, &ctx.user, &rcv, tips, &ctx.op));
                }
            }
            Ok(Reply::Empty)
        }
        "/group/quit_group" => {
            let r: QuitGroupReq = parse(body)?;
            let gid = r.group_id.clone();
            let uid = if r.user_id.is_empty() {
                ctx.user.clone()
            } else {
                r.user_id.clone()
            };
            ctx.self_or_admin(&uid)?;
            let mut st = inner.state.lock();
            let g = get_group(&st, &gid)?;
            let Some(m) = g.members.get(&uid) else {
                return Err(CodeError::not_found("not in group"));
            };
            if m.role_level == 100 {
                return Err(CodeError::no_permission("group owner can't quit"));
            }
            let quit = st.member(&gid, &uid);
            remove_member(&mut st, &gid, &uid);
            let (v, vid) = st.log_write(&format!("member:{gid}"), &[(uid.clone(), LOG_DELETE)]);
            let tips = json!({"group": st.group_info(&gid), "quitUser": quit, "operationTime": now_ms(), "groupMemberVersion": v, "groupMemberVersionID": vid});
            out.extend(group_notify(
                &mut st,
                1504,
                &gid,
                &uid,
                tips,
                None,
                vec![uid.clone()],
                &ctx.op,
            ));
            out.extend(cap_leavers(
                &mut st,
                &gid,
                std::slice::from_ref(&uid),
                &ctx.op,
            ));
            inner.webhook.after(
                "callbackAfterQuitGroupCommand",
                &ctx.op,
                json!({"groupID": gid, "userID": uid}),
            );
            Ok(Reply::Empty)
        }
        "/group/group_application_response" => {
            let r: GroupApplicationResponseReq = parse(body)?;
            let gid = r.group_id.clone();
            if gid.is_empty() || r.from_user_id.is_empty() {
                return Err(CodeError::args("groupID and fromUserID are required"));
            }
            if r.handle_result != 1 && r.handle_result != -1 {
                return Err(CodeError::args("handleResult must be 1 or -1"));
            }
            let mut st = inner.state.lock();
            get_group(&st, &gid)?;
            need_manager(ctx, &st, &gid)?;
            apply_join_request(
                ctx,
                &mut st,
                &gid,
                &r.from_user_id,
                r.handle_result == 1,
                &r.handled_msg,
                &mut out,
            )?;
            Ok(Reply::Empty)
        }
        "/group/transfer_group" => {
            let r: TransferGroupReq = parse(body)?;
            let gid = r.group_id.clone();
            if gid.is_empty() || r.old_owner_user_id.is_empty() || r.new_owner_user_id.is_empty() {
                return Err(CodeError::args(
                    "groupID, oldOwnerUserID and newOwnerUserID are required",
                ));
            }
            if r.old_owner_user_id == r.new_owner_user_id {
                return Err(CodeError::args("same owner"));
            }
            let mut st = inner.state.lock();
            alive(&st, &gid)?;
            let g = get_group(&st, &gid)?;
            let (Some(old), Some(new)) = (
                g.members.get(&r.old_owner_user_id).cloned(),
                g.members.get(&r.new_owner_user_id).cloned(),
            ) else {
                return Err(CodeError::args("not a member"));
            };
            if old.role_level != 100 || (!ctx.admin && ctx.user != r.old_owner_user_id) {
                return Err(CodeError::no_permission("only the owner can transfer"));
            }
            if new.mute_end_time > now_ms() {
                if let Some(m) = st
                    .groups
                    .get_mut(&gid)
                    .and_then(|g| g.members.get_mut(&r.new_owner_user_id))
                {
                    m.mute_end_time = 0;
                }
                let (v, vid) = st.log_write(
                    &format!("member:{gid}"),
                    &[(r.new_owner_user_id.clone(), LOG_UPDATE)],
                );
                let tips = json!({"group": st.group_info(&gid), "opUser": op_user(&st, &gid, &ctx.user), "operationTime": now_ms(),
                    "mutedUser": st.member(&gid, &r.new_owner_user_id), "groupMemberVersion": v, "groupMemberVersionID": vid});
                out.extend(group_notify(
                    &mut st,
                    1513,
                    &gid,
                    &ctx.user,
                    tips,
                    None,
                    vec![],
                    &ctx.op,
                ));
            }
            if let Some(g) = st.groups.get_mut(&gid) {
                if let Some(m) = g.members.get_mut(&r.old_owner_user_id) {
                    m.role_level = new.role_level;
                }
                if let Some(m) = g.members.get_mut(&r.new_owner_user_id) {
                    m.role_level = 100;
                }
            }
            let (v, vid) = st.log_write(
                &format!("member:{gid}"),
                &[
                    (r.old_owner_user_id.clone(), LOG_UPDATE),
                    (r.new_owner_user_id.clone(), LOG_UPDATE),
                    (SORT_MARKER.to_string(), LOG_UPDATE),
                ],
            );
            let tips = json!({"group": st.group_info(&gid), "opUser": op_user(&st, &gid, &ctx.user), "newGroupOwner": st.member(&gid, &r.new_owner_user_id),
                "oldGroupOwner": r.old_owner_user_id, "operationTime": now_ms(), "oldGroupOwnerInfo": st.member(&gid, &r.old_owner_user_id),
                "groupMemberVersion": v, "groupMemberVersionID": vid});
            out.extend(group_notify(
                &mut st,
                1507,
                &gid,
                &ctx.user,
                tips,
                None,
                vec![],
                &ctx.op,
            ));
            inner.webhook.after("callbackAfterTransferGroupOwnerCommand", &ctx.op, json!({"groupID": gid, "oldOwnerUserID": r.old_owner_user_id, "newOwnerUserID": r.new_owner_user_id}));
            Ok(Reply::Empty)
        }
        "/group/kick_group" => {
            let r: KickGroupReq = parse(body)?;
            let gid = r.group_id.clone();
            let kicked = r.kicked_user_ids.clone();
            if gid.is_empty() || kicked.is_empty() || kicked.len() > 1000 || !unique(&kicked) {
                return Err(CodeError::args("kickedUserIDs is invalid"));
            }
            let mut st = inner.state.lock();
            alive(&st, &gid)?;
            let g = get_group(&st, &gid)?;
            let owner = g.owner();
            if kicked.contains(&ctx.user) || kicked.contains(&owner) {
                return Err(CodeError::args("cannot kick yourself or the owner"));
            }
            let my_role = role_of(ctx, &st, &gid);
            for k in &kicked {
                let Some(m) = g.members.get(k) else {
                    return Err(CodeError::new(1101, format!("{k} not in group")));
                };
                let allowed = my_role >= 100 || (my_role == 60 && m.role_level == 20);
                if !allowed {
                    return Err(CodeError::no_permission("no permission to kick"));
                }
            }
            let list_before: Vec<GroupMember> =
                kicked.iter().filter_map(|k| st.member(&gid, k)).collect();
            for k in &kicked {
                remove_member(&mut st, &gid, k);
            }
            let changes: Vec<(String, u8)> =
                kicked.iter().map(|k| (k.clone(), LOG_DELETE)).collect();
            let (v, vid) = st.log_write(&format!("member:{gid}"), &changes);
            let tips = json!({"group": st.group_info(&gid), "opUser": op_user(&st, &gid, &ctx.user), "kickedUserList": list_before,
                "operationTime": now_ms(), "groupMemberVersion": v, "groupMemberVersionID": vid});
            out.extend(group_notify(
                &mut st,
                1508,
                &gid,
                &ctx.user,
                tips,
                r.send_message,
                kicked.clone(),
                &ctx.op,
            ));
            out.extend(cap_leavers(&mut st, &gid, &kicked, &ctx.op));
            inner.webhook.after(
                "callbackAfterKickGroupCommand",
                &ctx.op,
                json!({"groupID": gid, "kickedUserIDs": kicked, "reason": r.reason}),
            );
            Ok(Reply::Empty)
        }
        "/group/invite_user_to_group" => {
            let r: InviteUserToGroupReq = parse(body)?;
            let gid = r.group_id.clone();
            let invited = r.invited_user_ids.clone();
            if gid.is_empty() || invited.is_empty() || invited.len() > 1000 || !unique(&invited) {
                return Err(CodeError::args("invitedUserIDs is invalid"));
            }
            inner.webhook.before("callbackBeforeInviteJoinGroupCommand", &ctx.op, json!({"operationID": ctx.op, "groupID": gid, "reason": r.reason, "invitedUserIDs": invited})).await?;
            let mut st = inner.state.lock();
            alive(&st, &gid)?;
            need_member(ctx, &st, &gid)?;
            if invited.iter().any(|u| !st.users.contains_key(u)) {
                return Err(CodeError::not_found("user not found"));
            }
            let g = get_group(&st, &gid)?;
            if invited.iter().any(|u| g.members.contains_key(u)) {
                return Err(CodeError::internal("duplicate key: already a member"));
            }
            let role = role_of(ctx, &st, &gid);
            if g.info.need_verification == 1 && role < 60 {
                let managers = g.managers();
                // v3.8.3 keeps no request message for these (the invitation's `reason` is
                // dropped, in the stored request and in the 1503 tips alike).
                for u in &invited {
                    let row = GroupRequestRow {
                        group_id: gid.clone(),
                        user_id: u.clone(),
                        req_time: now_ms(),
                        join_source: 2,
                        inviter_user_id: ctx.user.clone(),
                        ..Default::default()
                    };
                    st.group_requests.insert(member_key(&gid, u), row.clone());
                    let request = request_json(&st, &row);
                    let applicant = st.users.get(&ctx.user).map(crate::model::public_info);
                    let ginfo = st.group_info(&gid);
                    let mut receivers = managers.clone();
                    receivers.push(ctx.user.clone());
                    receivers.dedup();
                    for rcv in receivers {
                        let tips = json!({"group": ginfo, "applicant": applicant, "reqMsg": "", "uuid": crate::state::random_hex32(), "request": request});
                        out.extend(single_notify(&mut st, 1503, &ctx.user, &rcv, tips, &ctx.op));
                    }
                }
            } else {
                for chunk in invited.chunks(50) {
                    for u in chunk {
                        add_member(&mut st, &gid, u, 20, 2, &ctx.user, &ctx.user);
                    }
                    let changes: Vec<(String, u8)> =
                        chunk.iter().map(|u| (u.clone(), LOG_INSERT)).collect();
                    let (v, vid) = st.log_write(&format!("member:{gid}"), &changes);
                    let members: Vec<GroupMember> =
                        chunk.iter().filter_map(|u| st.member(&gid, u)).collect();
                    let opu = op_user(&st, &gid, &ctx.user);
                    let tips = json!({"group": st.group_info(&gid), "opUser": opu, "invitedUserList": members, "operationTime": now_ms(),
                        "groupMemberVersion": v, "groupMemberVersionID": vid, "inviterUser": opu});
                    out.extend(group_notify(
                        &mut st,
                        1509,
                        &gid,
                        &ctx.user,
                        tips,
                        r.send_message,
                        vec![],
                        &ctx.op,
                    ));
                }
            }
            Ok(Reply::Empty)
        }
        "/group/dismiss_group" => {
            let r: DismissGroupReq = parse(body)?;
            let gid = r.group_id.clone();
            let mut st = inner.state.lock();
            let g = get_group(&st, &gid)?;
            if g.info.status == 2 && !r.delete_member {
                return Err(CodeError::new(1204, "group dismissed"));
            }
            if !ctx.admin && g.owner() != ctx.user {
                return Err(CodeError::no_permission("only the owner can dismiss"));
            }
            let members = g.member_ids();
            let owner = g.owner();
            // v3.8.3 DismissGroup takes the group before DismissGroup sets status 2: the 1511
            // tips carry the status as it was (0, or 3 when muted), which the SDK reports in
            // OnGroupInfoChanged and OnGroupDismissed.
            let before = st.group_info(&gid);
            if let Some(g) = st.groups.get_mut(&gid) {
                g.info.status = 2;
            }
            if !r.delete_member {
                let tips = json!({"group": before, "opUser": op_user(&st, &gid, &ctx.user), "operationTime": now_ms()});
                out.extend(group_notify(
                    &mut st,
                    1511,
                    &gid,
                    &ctx.user,
                    tips,
                    r.send_message,
                    vec![],
                    &ctx.op,
                ));
            }
            for m in &members {
                remove_member(&mut st, &gid, m);
            }
            st.log_drop(&format!("member:{gid}"));
            inner.webhook.after("callbackAfterDisMissGroupCommand", &ctx.op, json!({"groupID": gid, "ownerID": owner, "groupType": "\u{2}", "membersID": members}));
            Ok(Reply::Empty)
        }
        "/group/mute_group_member" | "/group/cancel_mute_group_member" => {
            let r: MuteGroupMemberReq = parse(body)?;
            let gid = r.group_id.clone();
            let mute = path == "/group/mute_group_member";
            if mute && r.muted_seconds == 0 {
                return Err(CodeError::args("mutedSeconds must be > 0"));
            }
            let mut st = inner.state.lock();
            alive(&st, &gid)?;
            let my = role_of(ctx, &st, &gid);
            if my == 0 {
                return Err(CodeError::not_found("op user not in group"));
            }
            let Some(target) = get_group(&st, &gid)?.members.get(&r.user_id).cloned() else {
                return Err(CodeError::not_found("member not found"));
            };
            let allowed = my >= 1000
                || (my == 100 && target.role_level < 100)
                || (my == 60 && target.role_level == 20);
            if !allowed {
                return Err(CodeError::no_permission("no permission to mute"));
            }
            if let Some(m) = st
                .groups
                .get_mut(&gid)
                .and_then(|g| g.members.get_mut(&r.user_id))
            {
                m.mute_end_time = if mute {
                    now_ms() + i64::from(r.muted_seconds) * 1000
                } else {
                    0
                };
            }
            let (v, vid) =
                st.log_write(&format!("member:{gid}"), &[(r.user_id.clone(), LOG_UPDATE)]);
            let mut tips = json!({"group": st.group_info(&gid), "opUser": op_user(&st, &gid, &ctx.user), "operationTime": now_ms(),
                "mutedUser": st.member(&gid, &r.user_id), "groupMemberVersion": v, "groupMemberVersionID": vid});
            if mute {
                tips["mutedSeconds"] = json!(r.muted_seconds);
            }
            out.extend(group_notify(
                &mut st,
                if mute { 1512 } else { 1513 },
                &gid,
                &ctx.user,
                tips,
                None,
                vec![],
                &ctx.op,
            ));
            Ok(Reply::Empty)
        }
        "/group/mute_group" | "/group/cancel_mute_group" => {
            let r: GroupIdReq = parse(body)?;
            let gid = r.group_id.clone();
            let mute = path == "/group/mute_group";
            let mut st = inner.state.lock();
            alive(&st, &gid)?;
            need_manager(ctx, &st, &gid)?;
            if let Some(g) = st.groups.get_mut(&gid) {
                g.info.status = if mute { 3 } else { 0 };
            }
            let (v, vid) = st.log_write(&format!("member:{gid}"), &[(String::new(), LOG_UPDATE)]);
            let tips = json!({"group": st.group_info(&gid), "opUser": op_user(&st, &gid, &ctx.user), "operationTime": now_ms(), "groupMemberVersion": v, "groupMemberVersionID": vid});
            out.extend(group_notify(
                &mut st,
                if mute { 1514 } else { 1515 },
                &gid,
                &ctx.user,
                tips,
                None,
                vec![],
                &ctx.op,
            ));
            Ok(Reply::Empty)
        }
        "/group/set_group_member_info" => {
            let r: SetGroupMemberInfoReq = parse(body)?;
            let members = r.members.clone();
            if members.is_empty() || members.len() > 1000 {
                return Err(CodeError::args("members is invalid"));
            }
            let mut st = inner.state.lock();
            for m in &members {
                alive(&st, &m.group_id)?;
                let my = role_of(ctx, &st, &m.group_id);
                if my == 0 {
                    return Err(CodeError::no_permission("op user not in group"));
                }
                let Some(target) = st
                    .groups
                    .get(&m.group_id)
                    .and_then(|g| g.members.get(&m.user_id))
                    .cloned()
                else {
                    return Err(CodeError::args("member not in group"));
                };
                if let Some(rl) = m.role_level {
                    if rl == 100 {
                        return Err(CodeError::no_permission("cannot set owner role"));
                    }
                    if rl != 60 && rl != 20 {
                        return Err(CodeError::args("roleLevel invalid"));
                    }
                }
                if my < 1000 {
                    let is_self = m.user_id == ctx.user;
                    if my == 100 && is_self && m.role_level.is_some() {
                        // v3.8.3: "group owner can not change own role level" is an ErrArgs
                        return Err(CodeError::args("group owner can not change own role level"));
                    }
                    let ok = match my {
                        // Its own role was refused above.
                        100 => true,
                        60 => is_self || target.role_level == 20,
                        _ => is_self && m.role_level.is_none_or(|rl| rl <= target.role_level),
                    };
                    if !ok {
                        return Err(CodeError::no_permission("no permission to set member info"));
                    }
                }
            }
            for m in &members {
                // v3.8.3 SetGroupMemberInfo sends 1517/1518 for every member whose request
                // carries a roleLevel, changed or not (each SDK then raises
                // OnGroupMemberInfoChanged); only a real change moves the member sort order.
                let mut role_changed = false;
                if let Some(t) = st
                    .groups
                    .get_mut(&m.group_id)
                    .and_then(|g| g.members.get_mut(&m.user_id))
                {
                    if let Some(v) = &m.nickname {
                        t.nickname = v.clone();
                    }
                    if let Some(v) = &m.face_url {
                        t.face_url = v.clone();
                    }
                    if let Some(v) = &m.ex {
                        t.ex = v.clone();
                    }
                    if let Some(rl) = m.role_level
                        && rl != t.role_level
                    {
                        t.role_level = rl;
                        role_changed = true;
                    }
                }
                let mut changes = vec![(m.user_id.clone(), LOG_UPDATE)];
                if role_changed {
                    changes.push((SORT_MARKER.to_string(), LOG_UPDATE));
                }
                let (v, vid) = st.log_write(&format!("member:{}", m.group_id), &changes);
                let tips = json!({"group": st.group_info(&m.group_id), "opUser": op_user(&st, &m.group_id, &ctx.user), "operationTime": now_ms(),
                    "changedUser": st.member(&m.group_id, &m.user_id), "groupMemberVersion": v, "groupMemberVersionID": vid, "groupSortVersion": 0});
                if let Some(rl) = m.role_level {
                    out.extend(group_notify(
                        &mut st,
                        if rl == 60 { 1517 } else { 1518 },
                        &m.group_id,
                        &ctx.user,
                        tips.clone(),
                        Some(false),
                        vec![],
                        &ctx.op,
                    ));
                }
                if m.nickname.is_some() || m.face_url.is_some() || m.ex.is_some() {
                    out.extend(group_notify(
                        &mut st,
                        1516,
                        &m.group_id,
                        &ctx.user,
                        tips,
                        None,
                        vec![],
                        &ctx.op,
                    ));
                }
            }
            Ok(Reply::Empty)
        }
        "/group/get_groups_info" => {
            let r: GroupIdsReq = parse(body)?;
            let ids = r.group_ids.clone();
            if ids.is_empty() {
                return Err(CodeError::args("groupIDs is empty"));
            }
            let st = inner.state.lock();
            let infos: Vec<GroupInfo> = ids.iter().filter_map(|g| st.group_info(g)).collect();
            data(json!({"groupInfos": list(&infos)}))
        }
        "/group/get_groups" => {
            // The admin-console search: one group by ID, or (case-sensitive) name matches,
            // newest first, dismissed groups left out, each with its owner.
            let r: GetGroupsReq = parse(body)?;
            let st = inner.state.lock();
            let page = r.pagination.unwrap_or_default();
            let (total, infos): (usize, Vec<GroupInfo>) = if r.group_id.is_empty() {
                let mut found: Vec<GroupInfo> = st
                    .groups
                    .keys()
                    .filter_map(|g| st.group_info(g))
                    .filter(|g| g.status != 2 && g.group_name.contains(&r.group_name))
                    .collect();
                found.sort_by(|a, b| {
                    b.create_time
                        .cmp(&a.create_time)
                        .then_with(|| b.group_id.cmp(&a.group_id))
                });
                (found.len(), page.apply(&found)?)
            } else {
                let found: Vec<GroupInfo> = st.group_info(&r.group_id).into_iter().collect();
                (found.len(), found)
            };
            let groups: Vec<Value> = infos
                .into_iter()
                .map(|g| {
                    let owner = st.member(&g.group_id, &g.owner_user_id);
                    json!({
                        "groupInfo": g,
                        "groupOwnerUserName": owner.as_ref().map(|m| m.nickname.clone()).unwrap_or_default(),
                        "groupOwnerUserID": g.owner_user_id,
                    })
                })
                .collect();
            data(json!({"total": total, "groups": list(&groups)}))
        }
        "/group/get_group_members_info" => {
            let r: GetGroupMembersInfoReq = parse(body)?;
            let gid = r.group_id.clone();
            let ids = r.user_ids.clone();
            if gid.is_empty() || ids.is_empty() {
                return Err(CodeError::args("groupID and userIDs are required"));
            }
            let st = inner.state.lock();
            get_group(&st, &gid)?;
            need_member(ctx, &st, &gid)?;
            let ms: Vec<GroupMember> = ids.iter().filter_map(|u| st.member(&gid, u)).collect();
            data(json!({"members": list(&ms)}))
        }
        "/group/get_group_member_list" => {
            let r: GetGroupMemberListReq = parse(body)?;
            let gid = r.group_id.clone();
            let st = inner.state.lock();
            let g = get_group(&st, &gid)?;
            need_member(ctx, &st, &gid)?;
            // v3.8.3: a keyword keeps the members whose user ID or (group nickname, else
            // profile nickname) equals it, exactly; the page is taken from those
            let all: Vec<GroupMember> = g
                .sorted_member_ids()
                .iter()
                .filter_map(|u| st.member(&gid, u))
                .filter(|m| {
                    r.keyword.is_empty() || m.user_id == r.keyword || m.nickname == r.keyword
                })
                .collect();
            let page = r.pagination.unwrap_or_default().apply(&all)?;
            data(json!({"total": all.len(), "members": list(&page)}))
        }
        "/group/get_group_member_user_id" => {
            let r: GroupIdReq = parse(body)?;
            let gid = r.group_id.clone();
            let st = inner.state.lock();
            let g = get_group(&st, &gid)?;
            need_member(ctx, &st, &gid)?;
            data(json!({"userIDs": list(&g.sorted_member_ids())}))
        }
        "/group/get_joined_group_list" => {
            let r: GetJoinedGroupListReq = parse(body)?;
            ctx.self_or_admin(&r.from_user_id)?;
            let st = inner.state.lock();
            let groups = joined_groups(&st, &r.from_user_id);
            let page = r.pagination.unwrap_or_default().apply(&groups)?;
            data(json!({"total": groups.len(), "groups": list(&page)}))
        }
        "/group/get_recv_group_applicationList" | "/group/get_user_req_group_applicationList" => {
            let recv = path.contains("recv");
            let (who, filter_groups, filter_results, pagination) = if recv {
                let r: GetRecvGroupApplicationListReq = parse(body)?;
                (
                    r.from_user_id,
                    r.group_ids,
                    r.handle_results,
                    r.pagination.unwrap_or_default(),
                )
            } else {
                let r: GetUserReqGroupApplicationListReq = parse(body)?;
                (
                    r.user_id,
                    r.group_ids,
                    r.handle_results,
                    r.pagination.unwrap_or_default(),
                )
            };
            if who.is_empty() {
                return Err(CodeError::args("user is required"));
            }
            ctx.self_or_admin(&who)?;
            let st = inner.state.lock();
            let mut rows: Vec<&GroupRequestRow> = st
                .group_requests
                .values()
                .filter(|q| {
                    if recv {
                        st.groups.get(&q.group_id).is_some_and(|g| {
                            g.members.get(&who).is_some_and(|m| m.role_level >= 60)
                        })
                    } else {
                        q.user_id == who
                    }
                })
                .filter(|q| filter_groups.is_empty() || filter_groups.contains(&q.group_id))
                .filter(|q| filter_results.is_empty() || filter_results.contains(&q.handle_result))
                .collect();
            rows.sort_by_key(|q| -q.req_time);
            let all: Vec<Value> = rows.iter().map(|q| request_json(&st, q)).collect();
            let page = pagination.apply(&all)?;
            data(json!({"total": all.len(), "groupRequests": list(&page)}))
        }
        "/group/get_specified_user_group_request_info" => {
            let r: GroupMemberReq = parse(body)?;
            let gid = r.group_id.clone();
            let st = inner.state.lock();
            if ctx.user != r.user_id && role_of(ctx, &st, &gid) < 60 {
                return Err(CodeError::no_permission("no permission"));
            }
            let rows: Vec<Value> = st
                .group_requests
                .get(&member_key(&gid, &r.user_id))
                .map(|q| vec![request_json(&st, q)])
                .unwrap_or_default();
            data(json!({"total": rows.len(), "groupRequests": list(&rows)}))
        }
        "/group/get_group_users_req_application_list" => {
            let r: GetGroupUsersReqApplicationListReq = parse(body)?;
            let gid = r.group_id.clone();
            let st = inner.state.lock();
            need_manager(ctx, &st, &gid)?;
            let rows: Vec<Value> = r
                .user_ids
                .clone()
                .iter()
                .filter_map(|u| st.group_requests.get(&member_key(&gid, u)))
                .map(|q| {
                    let mut v = request_json(&st, q);
                    v["userInfo"] = Value::Null;
                    v
                })
                .collect();
            data(json!({"total": rows.len(), "groupRequests": list(&rows)}))
        }
        "/group/get_group_application_unhandled_count" => {
            let r: UnhandledCountReq = parse(body)?;
            ctx.self_or_admin(&r.user_id)?;
            let st = inner.state.lock();
            let n = st
                .group_requests
                .values()
                .filter(|q| q.handle_result == 0 && q.req_time > r.time)
                .filter(|q| {
                    st.groups.get(&q.group_id).is_some_and(|g| {
                        g.members
                            .get(&r.user_id)
                            .is_some_and(|m| m.role_level >= 60)
                    })
                })
                .count();
            data(json!({"count": n}))
        }
        "/group/get_group_abstract_info" => {
            let r: GroupIdsReq = parse(body)?;
            let ids = r.group_ids.clone();
            if ids.is_empty() || !unique(&ids) {
                return Err(CodeError::args("groupIDs is invalid"));
            }
            let st = inner.state.lock();
            let mut v = Vec::new();
            for g in &ids {
                let grp = get_group(&st, g)?;
                need_member(ctx, &st, g)?;
                let mids = grp.sorted_member_ids();
                v.push(json!({"groupID": g, "groupMemberNumber": mids.len(), "groupMemberListHash": super::conversation::id_hash(&mids)}));
            }
            data(json!({"groupAbstractInfos": v}))
        }
        "/group/get_incremental_join_groups" => {
            let r: IncrementalUserReq = parse(body)?;
            ctx.self_or_admin(&r.user_id)?;
            let mut st = inner.state.lock();
            let inc = st.incremental(&format!("join:{}", r.user_id), &r.version_id, r.version);
            let get = |st: &State, ids: &[String]| -> Vec<GroupInfo> {
                ids.iter().filter_map(|g| st.group_info(g)).collect()
            };
            let (ins, upd) = (get(&st, &inc.insert), get(&st, &inc.update));
            data(
                json!({"version": inc.version, "versionID": inc.version_id, "full": inc.full, "delete": list(&inc.delete),
                "insert": list(&ins), "update": list(&upd), "sortVersion": 0}),
            )
        }
        "/group/get_full_join_group_ids" => {
            let r: FullIdsUserReq = parse(body)?;
            if r.user_id.is_empty() {
                return Err(CodeError::args("userID is empty"));
            }
            ctx.self_or_admin(&r.user_id)?;
            let mut st = inner.state.lock();
            let ids: Vec<String> = joined_groups(&st, &r.user_id)
                .into_iter()
                .map(|g| g.group_id)
                .collect();
            data(super::conversation::full_ids(
                &mut st,
                &format!("join:{}", r.user_id),
                ids,
                r.id_hash,
                "groupIDs",
            ))
        }
        "/group/get_full_group_member_user_ids" => {
            let r: FullGroupMemberIdsReq = parse(body)?;
            let gid = r.group_id.clone();
            let mut st = inner.state.lock();
            let g = get_group(&st, &gid)?;
            if role_of(ctx, &st, &gid) == 0 {
                return Err(CodeError::no_permission("op user not in group"));
            }
            let ids = g.sorted_member_ids();
            data(super::conversation::full_ids(
                &mut st,
                &format!("member:{gid}"),
                ids,
                r.id_hash,
                "userIDs",
            ))
        }
        "/group/get_incremental_group_members" => {
            let r: IncrementalGroupMembersReq = parse(body)?;
            let gid = r.group_id.clone();
            let mut st = inner.state.lock();
            alive(&st, &gid)?;
            need_member(ctx, &st, &gid)?;
            let inc = st.incremental(&format!("member:{gid}"), &r.version_id, r.version);
            data(incr_members_json(&mut st, &gid, &inc))
        }
        "/group/get_incremental_group_members_batch" => {
            let r: BatchIncrementalGroupMembersReq = parse(body)?;
            ctx.self_or_admin(&r.user_id)?;
            let mut st = inner.state.lock();
            let mut resp = Map::new();
            let mut seen: HashMap<String, ()> = HashMap::new();
            let mut total = 0usize;
            for item in r.req_list.clone() {
                if seen.insert(item.group_id.clone(), ()).is_some() {
                    continue;
                }
                let Some(g) = st.groups.get(&item.group_id) else {
                    continue;
                };
                if g.info.status == 2 {
                    continue;
                }
                if !ctx.admin && !g.members.contains_key(&r.user_id) {
                    return Err(CodeError::no_permission("not in group"));
                }
                if total >= 500 {
                    break;
                }
                let inc = st.incremental(
                    &format!("member:{}", item.group_id),
                    &item.version_id,
                    item.version,
                );
                total += inc.insert.len() + inc.update.len() + inc.delete.len();
                resp.insert(
                    item.group_id.clone(),
                    incr_members_json(&mut st, &item.group_id, &inc),
                );
            }
            data(json!({"respList": Value::Object(resp)}))
        }
        _ => not_found(),
    };
    deliver(inner, out, &crate::push::Origin::User(ctx.user.clone()));
    result
}

/// Groups a user belongs to, in join order.
fn joined_groups(st: &State, uid: &str) -> Vec<GroupInfo> {
    let mut v: Vec<(u64, GroupInfo)> = st
        .groups
        .iter()
        .filter_map(|(id, g)| {
            g.orders
                .get(uid)
                .map(|o| (*o, st.group_info(id).unwrap_or_default()))
        })
        .collect();
    v.sort_by_key(|(o, _)| *o);
    v.into_iter().map(|(_, g)| g).collect()
}
