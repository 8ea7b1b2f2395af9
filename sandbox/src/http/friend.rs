//! `/friend/*` routes: applications, friends, blacklist, incremental sync.

use openim_protocol::api::common::{FullIdsUserReq, IncrementalUserReq};
use openim_protocol::api::friend::{
    AddBlackReq, AddFriendReq, AddFriendResponseReq, DeleteFriendReq, GetBlackListReq,
    GetDesignatedFriendApplyReq, GetDesignatedFriendsReq, GetFriendApplyListReq, GetFriendListReq,
    GetSpecifiedBlacksReq, GetSpecifiedFriendsInfoReq, ImportFriendReq, IsFriendReq,
    RemoveBlackReq, SetFriendRemarkReq, UnhandledCountReq, UpdateFriendsReq, UserIdReq,
};
use serde_json::{Value, json};

use super::{Ctx, HResult, Paginate, Reply, data, list, not_found, parse};
use crate::error::CodeError;
use crate::model::{Black, Friend, FriendRequest};
use crate::push::deliver;
use crate::state::{
    Delivery, LOG_DELETE, LOG_INSERT, LOG_UPDATE, Notif, SORT_MARKER, State, now_ms,
};

fn key(from: &str, to: &str) -> String {
    format!("{from}\t{to}")
}

/// FriendInfo JSON (createTime in seconds, friendUser with the public fields).
pub(crate) fn friend_json(st: &State, f: &Friend, millis: bool) -> Value {
    let u = st.users.get(&f.friend).cloned().unwrap_or_default();
    json!({
        "ownerUserID": f.owner, "remark": f.remark,
        "createTime": if millis { f.create_time } else { f.create_time / 1000 },
        "friendUser": {"userID": u.user_id, "nickname": u.nickname, "faceURL": u.face_url, "ex": u.ex,
            "createTime": u.create_time, "appMangerLevel": u.app_manger_level, "globalRecvMsgOpt": u.global_recv_msg_opt},
        "addSource": f.add_source, "operatorUserID": f.operator, "ex": f.ex, "isPinned": f.is_pinned,
    })
}

fn black_json(st: &State, b: &Black, millis: bool) -> Value {
    let u = st
        .users
        .get(&b.black)
        .map(crate::model::public_info)
        .unwrap_or_default();
    json!({
        "ownerUserID": b.owner, "createTime": if millis { b.create_time } else { b.create_time / 1000 },
        "blackUserInfo": u, "addSource": b.add_source, "operatorUserID": b.operator, "ex": b.ex,
    })
}

/// Friends of `owner`, pinned first then insertion order.
fn sorted_friends(st: &State, owner: &str) -> Vec<Friend> {
    let mut v: Vec<Friend> = st
        .friends
        .get(owner)
        .map(|m| m.values().cloned().collect())
        .unwrap_or_default();
    v.sort_by_key(|f| (!f.is_pinned, f.order));
    v
}

/// Creates the friend rows missing in either direction; returns the deliveries of nothing (logs only).
fn befriend(st: &mut State, a: &str, b: &str, add_source: i32, operator: &str) {
    for (o, f) in [(a, b), (b, a)] {
        if st.is_friend(o, f) {
            continue;
        }
        let order = st.next_order();
        st.friends.entry(o.to_string()).or_default().insert(
            f.to_string(),
            Friend {
                owner: o.to_string(),
                friend: f.to_string(),
                remark: String::new(),
                create_time: now_ms(),
                add_source,
                operator: operator.to_string(),
                ex: String::new(),
                is_pinned: false,
                order,
            },
        );
        st.log_write(&format!("friend:{o}"), &[(f.to_string(), LOG_INSERT)]);
    }
}

fn single(content_type: i32, from: &str, to: &str, tips: Value, is_send_msg: bool) -> Notif {
    Notif {
        content_type,
        session_type: 1,
        send_id: from.to_string(),
        recv_id: to.to_string(),
        tips,
        is_send_msg,
        reliable: false,
        extra: vec![],
    }
}

fn check_ids(ids: &[String], what: &str) -> Result<Vec<String>, CodeError> {
    if ids.len() > 1000 {
        return Err(CodeError::args(format!("{what} too long")));
    }
    let mut seen = std::collections::HashSet::new();
    if !ids.iter().all(|i| seen.insert(i.clone())) {
        return Err(CodeError::args(format!("{what} has duplicates")));
    }
    Ok(ids.to_vec())
}

pub(crate) async fn dispatch(ctx: &Ctx, path: &str, body: &[u8]) -> HResult {
    let inner = &ctx.inner;
    let mut deliveries: Vec<Delivery> = Vec::new();
    let result = match path {
        "/friend/add_friend" => {
            let r: AddFriendReq = parse(body)?;
            if r.from_user_id.is_empty() || r.to_user_id.is_empty() {
                return Err(CodeError::args("fromUserID and toUserID are required"));
            }
            ctx.self_or_admin(&r.from_user_id)?;
            if r.from_user_id == r.to_user_id {
                return Err(CodeError::new(1301, "can not add yourself"));
            }
            let ex = r.ex.clone();
            inner
                .webhook
                .before("callbackBeforeAddFriendCommand", &ctx.op, json!({"fromUserID": r.from_user_id, "toUserID": r.to_user_id, "reqMsg": r.req_msg, "ex": ex}))
                .await?;
            let mut st = inner.state.lock();
            let (Some(from), Some(to)) = (
                st.users.get(&r.from_user_id).cloned(),
                st.users.get(&r.to_user_id).cloned(),
            ) else {
                return Err(CodeError::not_found("user not found"));
            };
            if st.is_friend(&r.from_user_id, &r.to_user_id)
                && st.is_friend(&r.to_user_id, &r.from_user_id)
            {
                return Err(CodeError::new(1304, "already friends"));
            }
            let req = FriendRequest {
                from_user_id: from.user_id.clone(),
                from_nickname: from.nickname.clone(),
                from_face_url: from.face_url.clone(),
                to_user_id: to.user_id.clone(),
                to_nickname: to.nickname.clone(),
                to_face_url: to.face_url.clone(),
                handle_result: 0,
                req_msg: r.req_msg.clone(),
                create_time: now_ms(),
                ex,
                ..Default::default()
            };
            st.friend_requests
                .insert(key(&r.from_user_id, &r.to_user_id), req.clone());
            let tips = json!({"fromToUserID": {"fromUserID": r.from_user_id, "toUserID": r.to_user_id}, "request": req});
            deliveries.extend(st.notify(
                single(1203, &r.from_user_id, &r.to_user_id, tips, false),
                &ctx.op,
            ));
            inner.webhook.after("callbackAfterAddFriendCommand", &ctx.op, json!({"fromUserID": r.from_user_id, "toUserID": r.to_user_id, "reqMsg": r.req_msg}));
            Ok(Reply::Empty)
        }
        "/friend/add_friend_response" => {
            let r: AddFriendResponseReq = parse(body)?;
            if r.from_user_id.is_empty() || r.to_user_id.is_empty() {
                return Err(CodeError::args("fromUserID and toUserID are required"));
            }
            ctx.self_or_admin(&r.to_user_id)?;
            if r.handle_result != 1 && r.handle_result != -1 {
                return Err(CodeError::args("handleResult must be 1 or -1"));
            }
            let cb = json!({"fromUserID": r.from_user_id, "blackUserID": r.to_user_id, "HandleResult": r.handle_result, "HandleMsg": r.handle_msg});
            if r.handle_result == 1 {
                inner
                    .webhook
                    .before("callbackBeforeAddFriendAgreeCommand", &ctx.op, cb.clone())
                    .await?;
            }
            let mut st = inner.state.lock();
            let k = key(&r.from_user_id, &r.to_user_id);
            let Some(req) = st.friend_requests.get(&k).cloned() else {
                return Err(CodeError::not_found("friend request not found"));
            };
            if req.handle_result != 0 {
                return Err(if r.handle_result == 1 {
                    CodeError::args("the friend request has been processed")
                } else {
                    CodeError::new(1305, "the friend request has been processed")
                });
            }
            let now = now_ms();
            let mut handled = req;
            handled.handle_result = r.handle_result;
            handled.handle_msg = r.handle_msg.clone();
            handled.handler_user_id = ctx.user.clone();
            handled.handle_time = now;
            st.friend_requests.insert(k, handled.clone());
            let ft = json!({"fromUserID": r.from_user_id, "toUserID": r.to_user_id});
            if r.handle_result == 1 {
                if let Some(rev) = st
                    .friend_requests
                    .get_mut(&key(&r.to_user_id, &r.from_user_id))
                    && rev.handle_result == 0
                {
                    rev.handle_result = 1;
                    rev.handle_time = now;
                    rev.handler_user_id = ctx.user.clone();
                }
                befriend(&mut st, &r.from_user_id, &r.to_user_id, 2, &ctx.user);
                let tips = json!({"fromToUserID": ft, "handleMsg": r.handle_msg, "friendVersion": 0, "friendVersionID": "", "request": handled});
                deliveries.extend(st.notify(
                    single(1201, &r.to_user_id, &r.from_user_id, tips, true),
                    &ctx.op,
                ));
                inner
                    .webhook
                    .after("callbackAfterAddFriendAgreeCommand", &ctx.op, cb);
            } else {
                let tips =
                    json!({"fromToUserID": ft, "handleMsg": r.handle_msg, "request": handled});
                deliveries.extend(st.notify(
                    single(1202, &r.to_user_id, &r.from_user_id, tips, false),
                    &ctx.op,
                ));
            }
            Ok(Reply::Empty)
        }
        "/friend/delete_friend" => {
            let r: DeleteFriendReq = parse(body)?;
            ctx.self_or_admin(&r.owner_user_id)?;
            let mut st = inner.state.lock();
            let removed = st
                .friends
                .get_mut(&r.owner_user_id)
                .and_then(|m| m.remove(&r.friend_user_id))
                .is_some();
            if removed {
                let (v, vid) = st.log_write(
                    &format!("friend:{}", r.owner_user_id),
                    &[(r.friend_user_id.clone(), LOG_DELETE)],
                );
                let tips = json!({"fromToUserID": {"fromUserID": r.owner_user_id, "toUserID": r.friend_user_id}, "friendVersion": v, "friendVersionID": vid});
                deliveries.extend(st.notify(
                    single(1205, &r.owner_user_id, &r.friend_user_id, tips, false),
                    &ctx.op,
                ));
            }
            inner.webhook.after(
                "callbackAfterDeleteFriendCommand",
                &ctx.op,
                json!({"ownerUserID": r.owner_user_id, "friendUserID": r.friend_user_id}),
            );
            Ok(Reply::Empty)
        }
        "/friend/get_friend_apply_list" | "/friend/get_self_friend_apply_list" => {
            let r: GetFriendApplyListReq = parse(body)?;
            ctx.self_or_admin(&r.user_id)?;
            let recv = path == "/friend/get_friend_apply_list";
            let st = inner.state.lock();
            let filter = r.handle_results.clone();
            let mut reqs: Vec<FriendRequest> = st
                .friend_requests
                .values()
                .filter(|q| {
                    if recv {
                        q.to_user_id == r.user_id
                    } else {
                        q.from_user_id == r.user_id
                    }
                })
                .filter(|q| filter.is_empty() || filter.contains(&q.handle_result))
                .cloned()
                .collect();
            reqs.sort_by_key(|q| -q.create_time);
            let page = r.pagination.unwrap_or_default().apply(&reqs)?;
            let k = if recv {
                "FriendRequests"
            } else {
                "friendRequests"
            };
            let mut o = json!({"total": reqs.len()});
            o[k] = list(&page);
            data(o)
        }
        "/friend/get_designated_friend_apply" => {
            let r: GetDesignatedFriendApplyReq = parse(body)?;
            if r.from_user_id.is_empty() || r.to_user_id.is_empty() {
                return Err(CodeError::args("fromUserID and toUserID are required"));
            }
            if !ctx.admin && ctx.user != r.from_user_id && ctx.user != r.to_user_id {
                return Err(CodeError::no_permission("not a party of the request"));
            }
            let st = inner.state.lock();
            let reqs: Vec<FriendRequest> = [
                key(&r.from_user_id, &r.to_user_id),
                key(&r.to_user_id, &r.from_user_id),
            ]
            .iter()
            .filter_map(|k| st.friend_requests.get(k).cloned())
            .collect();
            data(json!({"friendRequests": list(&reqs)}))
        }
        "/friend/get_friend_list" => {
            let r: GetFriendListReq = parse(body)?;
            ctx.self_or_admin(&r.user_id)?;
            let st = inner.state.lock();
            let all = sorted_friends(&st, &r.user_id);
            let page = r.pagination.unwrap_or_default().apply(&all)?;
            let infos: Vec<Value> = page.iter().map(|f| friend_json(&st, f, false)).collect();
            data(json!({"friendsInfo": list(&infos), "total": all.len()}))
        }
        "/friend/get_designated_friends" => {
            let r: GetDesignatedFriendsReq = parse(body)?;
            ctx.self_or_admin(&r.owner_user_id)?;
            let ids = check_ids(&r.friend_user_ids, "friendUserIDs")?;
            let st = inner.state.lock();
            let infos: Vec<Value> = ids
                .iter()
                .filter_map(|id| st.friends.get(&r.owner_user_id).and_then(|m| m.get(id)))
                .map(|f| friend_json(&st, f, false))
                .collect();
            data(json!({"friendsInfo": list(&infos)}))
        }
        "/friend/get_specified_friends_info" => {
            let r: GetSpecifiedFriendsInfoReq = parse(body)?;
            ctx.self_or_admin(&r.owner_user_id)?;
            let ids = check_ids(&r.user_id_list, "userIDList")?;
            if ids.is_empty() {
                return Err(CodeError::args("userIDList is empty"));
            }
            let st = inner.state.lock();
            let infos: Vec<Value> = ids
                .iter()
                .filter_map(|id| st.users.get(id).map(|u| (id, u.clone())))
                .map(|(id, u)| {
                    let friend = st
                        .friends
                        .get(&r.owner_user_id)
                        .and_then(|m| m.get(id))
                        .map(|f| {
                            let mut v = friend_json(&st, f, true);
                            v["friendUser"] = Value::Null;
                            v
                        });
                    let black = st
                        .blacks
                        .get(&r.owner_user_id)
                        .and_then(|m| m.get(id))
                        .map(|b| black_json(&st, b, true));
                    json!({"userInfo": u, "friendInfo": friend, "blackInfo": black})
                })
                .collect();
            data(json!({"infos": list(&infos)}))
        }
        "/friend/get_friend_id" => {
            let r: UserIdReq = parse(body)?;
            ctx.self_or_admin(&r.user_id)?;
            let st = inner.state.lock();
            let ids: Vec<String> = sorted_friends(&st, &r.user_id)
                .into_iter()
                .map(|f| f.friend)
                .collect();
            data(json!({"friendIDs": list(&ids)}))
        }
        "/friend/is_friend" => {
            let r: IsFriendReq = parse(body)?;
            if r.user_id1.is_empty() || r.user_id2.is_empty() {
                return Err(CodeError::args("userID1 and userID2 are required"));
            }
            if !ctx.admin && ctx.user != r.user_id1 && ctx.user != r.user_id2 {
                return Err(CodeError::no_permission("not one of the two users"));
            }
            let st = inner.state.lock();
            data(
                json!({"inUser1Friends": st.is_friend(&r.user_id1, &r.user_id2), "inUser2Friends": st.is_friend(&r.user_id2, &r.user_id1)}),
            )
        }
        "/friend/set_friend_remark" => {
            let r: SetFriendRemarkReq = parse(body)?;
            let mut remark = r.remark.clone();
            if let Some(reply) = inner
                .webhook
                .before("callbackBeforeSetFriendRemarkCommand", &ctx.op, json!({"ownerUserID": r.owner_user_id, "friendUserID": r.friend_user_id, "remark": remark}))
                .await?
                && let Some(rm) = reply.get("remark").and_then(Value::as_str).filter(|s| !s.is_empty()) {
                    remark = rm.to_string();
                }
            ctx.self_or_admin(&r.owner_user_id)?;
            let mut st = inner.state.lock();
            let Some(f) = st
                .friends
                .get_mut(&r.owner_user_id)
                .and_then(|m| m.get_mut(&r.friend_user_id))
            else {
                return Err(CodeError::not_found("not friends"));
            };
            f.remark = remark.clone();
            let (v, vid) = st.log_write(
                &format!("friend:{}", r.owner_user_id),
                &[(r.friend_user_id.clone(), LOG_UPDATE)],
            );
            let tips = json!({"fromToUserID": {"fromUserID": r.owner_user_id, "toUserID": r.friend_user_id}, "friendVersion": v, "friendVersionID": vid, "friendSortVersion": 0});
            deliveries.extend(st.notify(
                single(1206, &r.owner_user_id, &r.friend_user_id, tips, false),
                &ctx.op,
            ));
            inner.webhook.after("callbackAfterSetFriendRemarkCommand", &ctx.op, json!({"ownerUserID": r.owner_user_id, "friendUserID": r.friend_user_id, "remark": remark}));
            Ok(Reply::Empty)
        }
        "/friend/update_friends" => {
            let r: UpdateFriendsReq = parse(body)?;
            ctx.self_or_admin(&r.owner_user_id)?;
            let ids = check_ids(&r.friend_user_ids, "friendUserIDs")?;
            if ids.is_empty() {
                return Err(CodeError::args("friendUserIDs is empty"));
            }
            let mut st = inner.state.lock();
            let mut changed = Vec::new();
            for id in &ids {
                if let Some(f) = st
                    .friends
                    .get_mut(&r.owner_user_id)
                    .and_then(|m| m.get_mut(id))
                {
                    if let Some(p) = r.is_pinned {
                        f.is_pinned = p;
                    }
                    if let Some(rm) = &r.remark {
                        f.remark = rm.clone();
                    }
                    if let Some(ex) = &r.ex {
                        f.ex = ex.clone();
                    }
                    changed.push((id.clone(), LOG_UPDATE));
                }
            }
            if r.is_pinned.is_some() {
                changed.push((SORT_MARKER.to_string(), LOG_UPDATE));
            }
            let (v, vid) = st.log_write(&format!("friend:{}", r.owner_user_id), &changed);
            let tips = json!({"fromToUserID": {"fromUserID": "", "toUserID": r.owner_user_id}, "friendIDs": ids, "friendVersion": v, "friendVersionID": vid});
            deliveries.extend(st.notify(
                single(1210, &r.owner_user_id, &r.owner_user_id, tips, false),
                &ctx.op,
            ));
            Ok(Reply::Empty)
        }
        "/friend/import_friend" => {
            let r: ImportFriendReq = parse(body)?;
            ctx.admin_only()?;
            let mut ids = check_ids(&r.friend_user_ids, "friendUserIDs")?;
            if ids.contains(&r.owner_user_id) {
                return Err(CodeError::new(1301, "can not add yourself"));
            }
            if let Some(reply) = inner
                .webhook
                .before(
                    "callbackBeforeImportFriendsCommand",
                    &ctx.op,
                    json!({"ownerUserID": r.owner_user_id, "friendUserIDs": ids}),
                )
                .await?
                && let Some(a) = reply
                    .get("friendUserIDs")
                    .and_then(Value::as_array)
                    .filter(|a| !a.is_empty())
            {
                ids = a
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect();
            }
            let mut st = inner.state.lock();
            if !st.users.contains_key(&r.owner_user_id)
                || ids.iter().any(|i| !st.users.contains_key(i))
            {
                return Err(CodeError::not_found("user not found"));
            }
            for f in &ids {
                befriend(&mut st, &r.owner_user_id, f, 1, &ctx.user);
                let tips = json!({"fromToUserID": {"fromUserID": f, "toUserID": r.owner_user_id}, "handleMsg": "", "friendVersion": 0, "friendVersionID": "", "request": null});
                deliveries
                    .extend(st.notify(single(1201, f, &r.owner_user_id, tips, true), &ctx.op));
            }
            inner.webhook.after(
                "callbackAfterImportFriendsCommand",
                &ctx.op,
                json!({"ownerUserID": r.owner_user_id, "friendUserIDs": ids}),
            );
            Ok(Reply::Empty)
        }
        "/friend/add_black" => {
            let r: AddBlackReq = parse(body)?;
            ctx.self_or_admin(&r.owner_user_id)?;
            inner
                .webhook
                .before(
                    "callbackBeforeAddBlackCommand",
                    &ctx.op,
                    json!({"ownerUserID": r.owner_user_id, "blackUserID": r.black_user_id}),
                )
                .await?;
            let mut st = inner.state.lock();
            // v3.8.3 CheckUser([owner, black]): the lookup de-duplicates the IDs, so blocking
            // oneself finds one user for two IDs and fails like an unknown user.
            if !st.users.contains_key(&r.owner_user_id)
                || !st.users.contains_key(&r.black_user_id)
                || r.owner_user_id == r.black_user_id
            {
                return Err(CodeError::not_found("user not found"));
            }
            if st.is_black(&r.owner_user_id, &r.black_user_id) {
                return Err(CodeError::internal("duplicate key error"));
            }
            let order = st.next_order();
            st.blacks
                .entry(r.owner_user_id.clone())
                .or_default()
                .insert(
                    r.black_user_id.clone(),
                    Black {
                        owner: r.owner_user_id.clone(),
                        black: r.black_user_id.clone(),
                        create_time: now_ms(),
                        add_source: 0,
                        operator: ctx.user.clone(),
                        ex: r.ex.clone(),
                        order,
                    },
                );
            let tips = json!({"fromToUserID": {"fromUserID": r.owner_user_id, "toUserID": r.black_user_id}});
            deliveries.extend(st.notify(
                single(1207, &r.owner_user_id, &r.black_user_id, tips, false),
                &ctx.op,
            ));
            Ok(Reply::Empty)
        }
        "/friend/remove_black" => {
            let r: RemoveBlackReq = parse(body)?;
            ctx.self_or_admin(&r.owner_user_id)?;
            let mut st = inner.state.lock();
            if let Some(m) = st.blacks.get_mut(&r.owner_user_id) {
                m.remove(&r.black_user_id);
            }
            // v3.8.3 RemoveBlack: a DeleteMany that matches nothing is no error, and the
            // 1208 goes out either way (both SDKs then raise OnBlackDeleted).
            let tips = json!({"fromToUserID": {"fromUserID": r.owner_user_id, "toUserID": r.black_user_id}});
            deliveries.extend(st.notify(
                single(1208, &r.owner_user_id, &r.black_user_id, tips, false),
                &ctx.op,
            ));
            inner.webhook.after(
                "callbackAfterRemoveBlackCommand",
                &ctx.op,
                json!({"ownerUserID": r.owner_user_id, "blackUserID": r.black_user_id}),
            );
            Ok(Reply::Empty)
        }
        "/friend/get_black_list" => {
            let r: GetBlackListReq = parse(body)?;
            ctx.self_or_admin(&r.user_id)?;
            let st = inner.state.lock();
            let mut all: Vec<Black> = st
                .blacks
                .get(&r.user_id)
                .map(|m| m.values().cloned().collect())
                .unwrap_or_default();
            all.sort_by_key(|b| b.order);
            let page = r.pagination.unwrap_or_default().apply(&all)?;
            let v: Vec<Value> = page.iter().map(|b| black_json(&st, b, false)).collect();
            data(json!({"blacks": list(&v), "total": all.len()}))
        }
        "/friend/get_specified_blacks" => {
            let r: GetSpecifiedBlacksReq = parse(body)?;
            ctx.self_or_admin(&r.owner_user_id)?;
            let ids = check_ids(&r.user_id_list, "userIDList")?;
            if ids.is_empty() {
                return Err(CodeError::args("userIDList is empty"));
            }
            let st = inner.state.lock();
            let v: Vec<Value> = ids
                .iter()
                .filter_map(|id| st.blacks.get(&r.owner_user_id).and_then(|m| m.get(id)))
                .map(|b| black_json(&st, b, true))
                .collect();
            data(json!({"blacks": list(&v), "total": v.len()}))
        }
        "/friend/get_incremental_friends" => {
            let r: IncrementalUserReq = parse(body)?;
            ctx.self_or_admin(&r.user_id)?;
            let mut st = inner.state.lock();
            let inc = st.incremental(&format!("friend:{}", r.user_id), &r.version_id, r.version);
            let get = |ids: &[String]| -> Vec<Value> {
                ids.iter()
                    .filter_map(|id| st.friends.get(&r.user_id).and_then(|m| m.get(id)))
                    .map(|f| friend_json(&st, f, false))
                    .collect()
            };
            let (ins, upd) = (get(&inc.insert), get(&inc.update));
            data(
                json!({"version": inc.version, "versionID": inc.version_id, "full": inc.full,
                "delete": list(&inc.delete), "insert": list(&ins), "update": list(&upd), "sortVersion": inc.sort_version}),
            )
        }
        "/friend/get_full_friend_user_ids" => {
            let r: FullIdsUserReq = parse(body)?;
            if r.user_id.is_empty() {
                return Err(CodeError::args("userID is empty"));
            }
            ctx.self_or_admin(&r.user_id)?;
            let mut st = inner.state.lock();
            let ids: Vec<String> = sorted_friends(&st, &r.user_id)
                .into_iter()
                .map(|f| f.friend)
                .collect();
            data(super::conversation::full_ids(
                &mut st,
                &format!("friend:{}", r.user_id),
                ids,
                r.id_hash,
                "userIDs",
            ))
        }
        "/friend/get_self_unhandled_apply_count" => {
            let r: UnhandledCountReq = parse(body)?;
            ctx.self_or_admin(&r.user_id)?;
            let st = inner.state.lock();
            let n = st
                .friend_requests
                .values()
                .filter(|q| {
                    q.to_user_id == r.user_id && q.handle_result == 0 && q.create_time > r.time
                })
                .count();
            data(json!({"count": n}))
        }
        "/friend/get_incremental_blacks" => Err(CodeError::with_msg(
            12,
            "unknown method GetIncrementalBlacks",
            "",
        )),
        _ => not_found(),
    };
    deliver(
        inner,
        deliveries,
        &crate::push::Origin::User(ctx.user.clone()),
    );
    result
}
