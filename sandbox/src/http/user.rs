//! `/user/*` routes.

use openim_protocol::api::user::{
    AccountCheckReq, AddNotificationAccountReq, CommandInfo, GetAllUsersUidReq, GetUsersInfoReq,
    GetUsersOnlineStatusReq, GetUsersReq, ProcessUserCommandDeleteReq, ProcessUserCommandGetReq,
    ProcessUserCommandReq, SearchNotificationAccountReq, SetGlobalMsgRecvOptReq,
    UpdateNotificationAccountReq, UpdateUserInfoExReq, UserIdReq, UserRegisterReq,
};
use serde_json::{Value, json};

use super::{Ctx, HResult, Paginate, Reply, data, list, not_found, parse, to_value};
use crate::error::CodeError;
use crate::model::UserInfo;
use crate::push::deliver;
use crate::state::{LOG_UPDATE, Notif, State, now_ms};

fn valid_user_id(id: &str) -> bool {
    !id.is_empty() && id.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// Applies a profile change and produces the 1303 / 1209 / 1516 notifications.
pub(crate) fn apply_user_update(
    st: &mut State,
    op_user: &str,
    u: &UserInfoExChange,
    op: &str,
) -> Vec<crate::state::Delivery> {
    let mut out = Vec::new();
    let Some(user) = st.users.get_mut(&u.user_id) else {
        return out;
    };
    let mut profile_changed = false;
    if let Some(n) = &u.nickname {
        profile_changed |= *n != user.nickname;
        user.nickname = n.clone();
    }
    if let Some(f) = &u.face_url {
        profile_changed |= *f != user.face_url;
        user.face_url = f.clone();
    }
    if let Some(e) = &u.ex {
        user.ex = e.clone();
    }
    if let Some(o) = u.global_recv_msg_opt {
        user.global_recv_msg_opt = o;
    }
    let uid = u.user_id.clone();
    out.extend(st.notify(
        Notif {
            content_type: 1303,
            session_type: 1,
            send_id: op_user.to_string(),
            recv_id: uid.clone(),
            tips: json!({"userID": uid}),
            is_send_msg: false,
            reliable: false,
            extra: vec![],
        },
        op,
    ));
    if profile_changed {
        let owners: Vec<String> = st
            .friends
            .iter()
            .filter(|(_, fs)| fs.contains_key(&uid))
            .map(|(o, _)| o.clone())
            .collect();
        for owner in owners {
            st.log_write(&format!("friend:{owner}"), &[(uid.clone(), LOG_UPDATE)]);
            out.extend(st.notify(
                Notif {
                    content_type: 1209,
                    session_type: 1,
                    send_id: op_user.to_string(),
                    recv_id: owner.clone(),
                    tips: json!({"userID": uid}),
                    is_send_msg: false,
                    reliable: false,
                    extra: vec![],
                },
                op,
            ));
        }
        let groups: Vec<String> = st
            .groups
            .iter()
            .filter(|(_, g)| {
                g.members
                    .get(&uid)
                    .is_some_and(|m| m.nickname.is_empty() || m.face_url.is_empty())
            })
            .map(|(id, _)| id.clone())
            .collect();
        for gid in groups {
            let (v, vid) = st.log_write(&format!("member:{gid}"), &[(uid.clone(), LOG_UPDATE)]);
            let tips = json!({
                "group": st.group_info(&gid), "opUser": st.member(&gid, op_user),
                "operationTime": now_ms(), "changedUser": st.member(&gid, &uid),
                "groupMemberVersion": v, "groupMemberVersionID": vid, "groupSortVersion": 0,
            });
            out.extend(st.notify(
                Notif {
                    content_type: 1516,
                    session_type: 3,
                    send_id: op_user.to_string(),
                    recv_id: gid.clone(),
                    tips,
                    is_send_msg: false,
                    reliable: false,
                    extra: vec![],
                },
                op,
            ));
        }
    }
    out
}

/// A normalised profile change.
pub(crate) struct UserInfoExChange {
    pub user_id: String,
    pub nickname: Option<String>,
    pub face_url: Option<String>,
    pub ex: Option<String>,
    pub global_recv_msg_opt: Option<i32>,
}

pub(crate) async fn dispatch(ctx: &Ctx, path: &str, body: &[u8]) -> HResult {
    let inner = &ctx.inner;
    match path {
        "/user/user_register" => {
            ctx.admin_only()?;
            let r: UserRegisterReq = parse(body)?;
            let mut users = r.users;
            if users.is_empty() {
                return Err(CodeError::args("users is empty"));
            }
            for u in &users {
                if !valid_user_id(&u.user_id) {
                    return Err(CodeError::args(format!(
                        "userID {:?} is invalid",
                        u.user_id
                    )));
                }
                if u.nickname.is_empty() {
                    return Err(CodeError::args("nickname is empty"));
                }
            }
            let mut seen = std::collections::HashSet::new();
            if !users.iter().all(|u| seen.insert(u.user_id.clone())) {
                return Err(CodeError::args("userID repeated"));
            }
            if let Some(reply) = inner
                .webhook
                .before(
                    "callbackBeforeUserRegisterCommand",
                    &ctx.op,
                    json!({"users": users}),
                )
                .await?
                && let Some(replaced) = reply
                    .get("users")
                    .cloned()
                    .and_then(|v| serde_json::from_value::<Vec<UserInfo>>(v).ok())
                && !replaced.is_empty()
            {
                users = replaced;
            }
            {
                let mut st = inner.state.lock();
                if let Some(dup) = users.iter().find(|u| st.users.contains_key(&u.user_id)) {
                    return Err(CodeError::new(
                        1102,
                        format!("userID {} registered already", dup.user_id),
                    ));
                }
                let now = now_ms();
                for u in &users {
                    let mut u = u.clone();
                    u.create_time = now;
                    st.users.insert(u.user_id.clone(), u);
                }
            }
            inner.webhook.after(
                "callbackAfterUserRegisterCommand",
                &ctx.op,
                json!({"users": users}),
            );
            Ok(Reply::Empty)
        }
        "/user/update_user_info_ex" | "/user/update_user_info" => {
            let ex = path.ends_with("_ex");
            let change = if ex {
                let r: UpdateUserInfoExReq = parse(body)?;
                let Some(u) = r.user_info else {
                    return Err(CodeError::args("userInfo is empty"));
                };
                UserInfoExChange {
                    user_id: u.user_id,
                    nickname: u.nickname,
                    face_url: u.face_url,
                    ex: u.ex,
                    global_recv_msg_opt: u.global_recv_msg_opt,
                }
            } else {
                let v: Value = parse(body)?;
                let u = v.get("userInfo").cloned().unwrap_or(Value::Null);
                let s = |k: &str| {
                    u.get(k)
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                };
                UserInfoExChange {
                    user_id: s("userID").unwrap_or_default(),
                    nickname: s("nickname"),
                    face_url: s("faceURL"),
                    ex: s("ex"),
                    global_recv_msg_opt: u
                        .get("globalRecvMsgOpt")
                        .and_then(Value::as_i64)
                        .filter(|v| *v != 0)
                        .map(|v| v as i32),
                }
            };
            if change.user_id.is_empty() {
                return Err(CodeError::args("userID is empty"));
            }
            ctx.self_or_admin(&change.user_id)?;
            let cmd = if ex {
                "callbackBeforeUpdateUserInfoExCommand"
            } else {
                "callbackBeforeUpdateUserInfoCommand"
            };
            let mut change = change;
            if let Some(reply) = inner
                .webhook
                .before(cmd, &ctx.op, json!({"userID": change.user_id, "nickName": change.nickname, "faceURL": change.face_url, "ex": null}))
                .await?
            {
                if change.nickname.is_some()
                    && let Some(n) = reply.get("nickName").and_then(Value::as_str) {
                        change.nickname = Some(n.to_string());
                    }
                if change.face_url.is_some()
                    && let Some(n) = reply.get("faceURL").and_then(Value::as_str) {
                        change.face_url = Some(n.to_string());
                    }
            }
            let deliveries = {
                let mut st = inner.state.lock();
                if !st.users.contains_key(&change.user_id) {
                    return Err(CodeError::not_found("user not found"));
                }
                apply_user_update(&mut st, &ctx.user, &change, &ctx.op)
            };
            deliver(
                inner,
                deliveries,
                &crate::push::Origin::User(ctx.user.clone()),
            );
            let cmd = if ex {
                "callbackAfterUpdateUserInfoExCommand"
            } else {
                "callbackAfterUpdateUserInfoCommand"
            };
            inner.webhook.after(cmd, &ctx.op, json!({"userID": change.user_id, "nickName": change.nickname, "faceURL": change.face_url, "ex": change.ex}));
            Ok(Reply::Empty)
        }
        "/user/set_global_msg_recv_opt" => {
            let r: SetGlobalMsgRecvOptReq = parse(body)?;
            if r.user_id.is_empty() || !(0..=2).contains(&r.global_recv_msg_opt) {
                return Err(CodeError::args("userID or globalRecvMsgOpt invalid"));
            }
            let deliveries = {
                let mut st = inner.state.lock();
                if !st.users.contains_key(&r.user_id) {
                    return Err(CodeError::not_found("user not found"));
                }
                let change = UserInfoExChange {
                    user_id: r.user_id.clone(),
                    nickname: None,
                    face_url: None,
                    ex: None,
                    global_recv_msg_opt: Some(r.global_recv_msg_opt),
                };
                apply_user_update(&mut st, &ctx.user, &change, &ctx.op)
            };
            deliver(
                inner,
                deliveries,
                &crate::push::Origin::User(ctx.user.clone()),
            );
            Ok(Reply::Empty)
        }
        "/user/get_users_info" => {
            let r: GetUsersInfoReq = parse(body)?;
            let ids = r.user_ids;
            if ids.is_empty() {
                return Err(CodeError::args("userIDs is empty"));
            }
            let st = inner.state.lock();
            let users: Vec<UserInfo> = ids
                .iter()
                .filter_map(|id| st.users.get(id).cloned())
                .collect();
            data(json!({"usersInfo": list(&users)}))
        }
        "/user/get_all_users_uid" => {
            let r: GetAllUsersUidReq = parse(body)?;
            let pagination = r.pagination.unwrap_or_default();
            let st = inner.state.lock();
            let ids: Vec<String> = st.users.keys().cloned().collect();
            let page = pagination.apply(&ids)?;
            data(json!({"total": ids.len(), "userIDs": list(&page)}))
        }
        "/user/add_notification_account" => {
            ctx.admin_only()?;
            let r: AddNotificationAccountReq = parse(body)?;
            if r.nick_name.is_empty() {
                return Err(CodeError::args("nickName is empty"));
            }
            if r.app_manger_level < 3 {
                return Err(CodeError::args("appMangerLevel must be at least 3"));
            }
            let mut st = inner.state.lock();
            let user_id = if r.user_id.is_empty() {
                // Upstream generates a 10-digit numeric ID.
                loop {
                    let id = (1_000_000_000 + rand::random::<u64>() % 9_000_000_000).to_string();
                    if !st.users.contains_key(&id) {
                        break id;
                    }
                }
            } else if st.users.contains_key(&r.user_id) {
                return Err(CodeError::args(format!(
                    "userID {} already exists",
                    r.user_id
                )));
            } else {
                r.user_id.clone()
            };
            st.users.insert(
                user_id.clone(),
                UserInfo {
                    user_id: user_id.clone(),
                    nickname: r.nick_name.clone(),
                    face_url: r.face_url.clone(),
                    app_manger_level: r.app_manger_level,
                    create_time: now_ms(),
                    ..Default::default()
                },
            );
            data(
                json!({"userID": user_id, "faceURL": r.face_url, "nickName": r.nick_name, "appMangerLevel": r.app_manger_level}),
            )
        }
        "/user/update_notification_account" => {
            ctx.admin_only()?;
            let r: UpdateNotificationAccountReq = parse(body)?;
            if r.nick_name.is_empty() && r.face_url.is_empty() {
                return Err(CodeError::args("nickName and faceURL are both empty"));
            }
            let mut st = inner.state.lock();
            let Some(user) = st.users.get_mut(&r.user_id) else {
                return Err(CodeError::args(format!("userID {} not found", r.user_id)));
            };
            if !r.nick_name.is_empty() {
                user.nickname = r.nick_name.clone();
            }
            if !r.face_url.is_empty() {
                user.face_url = r.face_url.clone();
            }
            Ok(Reply::Empty)
        }
        "/user/search_notification_account" => {
            // Notification accounts only (appMangerLevel >= 3, configured admins left out); the
            // keyword is an exact userID, else an exact nickname; empty lists them all.
            ctx.admin_only()?;
            let r: SearchNotificationAccountReq = parse(body)?;
            let st = inner.state.lock();
            let accounts: Vec<&UserInfo> = st
                .users
                .values()
                .filter(|u| u.app_manger_level >= 3 && !inner.is_admin(&u.user_id))
                .collect();
            let found: Vec<&UserInfo> = if r.keyword.is_empty() {
                accounts
            } else {
                let by_id: Vec<&UserInfo> = accounts
                    .iter()
                    .copied()
                    .filter(|u| u.user_id == r.keyword)
                    .collect();
                if by_id.is_empty() {
                    accounts
                        .into_iter()
                        .filter(|u| u.nickname == r.keyword)
                        .collect()
                } else {
                    by_id
                }
            };
            let infos: Vec<Value> = found
                .iter()
                .map(|u| json!({"userID": u.user_id, "faceURL": u.face_url, "nickName": u.nickname, "appMangerLevel": u.app_manger_level}))
                .collect();
            let page = r.pagination.unwrap_or_default().apply(&infos)?;
            data(json!({"total": infos.len(), "notificationAccounts": list(&page)}))
        }
        "/user/account_check" => {
            ctx.admin_only()?;
            let r: AccountCheckReq = parse(body)?;
            let ids = r.check_user_ids;
            let mut seen = std::collections::HashSet::new();
            if !ids.iter().all(|i| seen.insert(i.clone())) {
                return Err(CodeError::args("userID repeated"));
            }
            let st = inner.state.lock();
            let results: Vec<Value> = ids
                .iter()
                .map(|id| json!({"userID": id, "accountStatus": if st.users.contains_key(id) {1} else {0}}))
                .collect();
            data(json!({"results": list(&results)}))
        }
        "/user/get_users" => {
            let r: GetUsersReq = parse(body)?;
            let pagination = r.pagination.unwrap_or_default();
            let st = inner.state.lock();
            let users: Vec<UserInfo> = st
                .users
                .values()
                .filter(|u| {
                    if r.user_id.is_empty() && r.nick_name.is_empty() {
                        u.app_manger_level <= 1
                    } else {
                        (!r.user_id.is_empty() && u.user_id == r.user_id)
                            || (!r.nick_name.is_empty() && u.nickname.contains(&r.nick_name))
                    }
                })
                .cloned()
                .collect();
            let page = pagination.apply(&users)?;
            data(json!({"total": users.len(), "users": list(&page)}))
        }
        "/user/get_users_online_status" => {
            ctx.admin_only()?;
            let r: GetUsersOnlineStatusReq =
                parse(body).map_err(|e| CodeError::with_msg(500, e.msg, e.dlt))?;
            let ids = r.user_ids;
            if ids.is_empty() {
                return data(Value::Null);
            }
            let out: Vec<Value> = ids
                .iter()
                .map(|id| {
                    let conns = inner.registry.connections(id);
                    if conns.is_empty() {
                        // Go's omitempty: status 0 and the empty list are left out.
                        return json!({"userID": id});
                    }
                    let detail: Vec<Value> = conns
                        .iter()
                        .map(|(conn, platform, token)| {
                            json!({"platformID": platform, "connID": conn_id(*conn), "token": token})
                        })
                        .collect();
                    json!({"userID": id, "status": 1, "detailPlatformStatus": detail})
                })
                .collect();
            data(to_value(&out))
        }
        "/user/get_users_online_token_detail" => {
            let r: GetUsersOnlineStatusReq = parse(body)?;
            // Upstream asks every gateway and skips a gateway that refuses (non-admin callers):
            // a non-admin gets success with no data rather than 1002.
            if !ctx.admin {
                return data(Value::Null);
            }
            let out: Vec<Value> = r
                .user_ids
                .iter()
                .filter_map(|id| online_token_detail(&inner.registry.connections(id), id))
                .collect();
            data(list(&out))
        }
        "/user/process_user_command_add"
        | "/user/process_user_command_update"
        | "/user/process_user_command_delete"
        | "/user/process_user_command_get"
        | "/user/process_user_command_get_all" => user_command(ctx, path, body),
        "/user/get_users_status" => {
            let v: Value = parse(body)?;
            let ids: Vec<String> = v
                .get("userIDs")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            if ids.is_empty() {
                return Err(CodeError::args("userIDs is empty"));
            }
            let out: Vec<Value> = ids
                .iter()
                .map(|id| {
                    let p = inner.registry.platforms(id);
                    json!({"userID": id, "status": if p.is_empty() {0} else {1}, "platformIDs": list(&p)})
                })
                .collect();
            data(json!({"statusList": list(&out)}))
        }
        "/user/subscribe_users_status" | "/user/get_subscribe_users_status" => {
            data(json!({"statusList": null}))
        }
        _ => not_found(),
    }
}

/// The gateway connection ID shown to admins (upstream: an MD5 of the remote address and
/// connect time; here of the connection's number, stable while it is open).
fn conn_id(conn: u64) -> String {
    use md5::{Digest, Md5};
    Md5::digest(format!("conn_{conn}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One online user of `/user/get_users_online_token_detail`: tokens grouped by platform
/// (platforms ascending; upstream's order is a Go map's). `None` when offline (left out).
fn online_token_detail(conns: &[(u64, i32, String)], user_id: &str) -> Option<Value> {
    if conns.is_empty() {
        return None;
    }
    let mut by_platform: std::collections::BTreeMap<i32, Vec<&str>> = Default::default();
    for (_, platform, token) in conns {
        by_platform.entry(*platform).or_default().push(token);
    }
    let platforms: Vec<Value> = by_platform
        .iter()
        .map(|(platform, tokens)| {
            json!({"platformID": platform, "total": tokens.len(), "token": tokens})
        })
        .collect();
    Some(json!({"userID": user_id, "status": 1, "singlePlatformToken": platforms}))
}

/// The request checks upstream's protocol runs before the service (1001 with its message).
fn check_command(
    user_id: &str,
    command_type: Option<i32>,
    uuid: Option<&str>,
) -> Result<(), CodeError> {
    if user_id.is_empty() {
        return Err(CodeError::args("userID is empty"));
    }
    if command_type == Some(0) {
        return Err(CodeError::args("type is not specified"));
    }
    if uuid == Some("") {
        return Err(CodeError::args("UUID is empty"));
    }
    Ok(())
}

/// A stored command as Go writes it (zero fields left out).
fn command_json(c: &CommandInfo) -> Value {
    let mut v = serde_json::Map::new();
    if c.command_type != 0 {
        v.insert("type".into(), json!(c.command_type));
    }
    if c.create_time != 0 {
        v.insert("createTime".into(), json!(c.create_time));
    }
    for (key, value) in [("uuid", &c.uuid), ("value", &c.value), ("ex", &c.ex)] {
        if !value.is_empty() {
            v.insert(key.into(), json!(value));
        }
    }
    Value::Object(v)
}

/// `/user/process_user_command_*`: a per-user list of `(type, uuid)` entries, as v3.8.3 keeps
/// them: add always appends (no uniqueness), and stores `ex` (when given) as the value with
/// an empty `ex`; update and delete touch the first match (1004 when none; an update with
/// neither value nor ex succeeds without looking); creation times are Unix seconds. The
/// 1305/1306/1307 notifications upstream attempts are never delivered there (no session
/// type for them), so none are sent.
fn user_command(ctx: &Ctx, path: &str, body: &[u8]) -> HResult {
    let inner = &ctx.inner;
    match path {
        "/user/process_user_command_add" | "/user/process_user_command_update" => {
            let r: ProcessUserCommandReq = parse(body)?;
            check_command(&r.user_id, Some(r.command_type), Some(&r.uuid))?;
            ctx.self_or_admin(&r.user_id)?;
            let mut st = inner.state.lock();
            if path.ends_with("_add") {
                let value = r.ex.clone().or(r.value.clone()).unwrap_or_default();
                st.user_commands
                    .entry(r.user_id.clone())
                    .or_default()
                    .push(CommandInfo {
                        command_type: r.command_type,
                        create_time: now_ms() / 1000,
                        uuid: r.uuid.clone(),
                        value,
                        ex: String::new(),
                    });
                return Ok(Reply::Empty);
            }
            if r.value.is_none() && r.ex.is_none() {
                return Ok(Reply::Empty);
            }
            let found = st.user_commands.get_mut(&r.user_id).and_then(|list| {
                list.iter_mut()
                    .find(|c| c.command_type == r.command_type && c.uuid == r.uuid)
            });
            let Some(c) = found else {
                return Err(CodeError::not_found("record not found"));
            };
            if let Some(v) = &r.value {
                c.value = v.clone();
            }
            if let Some(ex) = &r.ex {
                c.ex = ex.clone();
            }
            Ok(Reply::Empty)
        }
        "/user/process_user_command_delete" => {
            let r: ProcessUserCommandDeleteReq = parse(body)?;
            check_command(&r.user_id, Some(r.command_type), Some(&r.uuid))?;
            ctx.self_or_admin(&r.user_id)?;
            let mut st = inner.state.lock();
            // looked up, not created: deleting for a user without commands kept an empty
            // entry (in the snapshot too)
            let Some(list) = st.user_commands.get_mut(&r.user_id) else {
                return Err(CodeError::not_found("record not found"));
            };
            let Some(i) = list
                .iter()
                .position(|c| c.command_type == r.command_type && c.uuid == r.uuid)
            else {
                return Err(CodeError::not_found("record not found"));
            };
            list.remove(i);
            if list.is_empty() {
                st.user_commands.remove(&r.user_id);
            }
            Ok(Reply::Empty)
        }
        "/user/process_user_command_get" | "/user/process_user_command_get_all" => {
            let (user_id, command_type) = if path.ends_with("_get") {
                let r: ProcessUserCommandGetReq = parse(body)?;
                check_command(&r.user_id, Some(r.command_type), None)?;
                (r.user_id, Some(r.command_type))
            } else {
                let r: UserIdReq = parse(body)?;
                check_command(&r.user_id, None, None)?;
                (r.user_id, None)
            };
            ctx.self_or_admin(&user_id)?;
            let st = inner.state.lock();
            let out: Vec<Value> = st
                .user_commands
                .get(&user_id)
                .map(|list| {
                    list.iter()
                        .filter(|c| command_type.is_none_or(|t| c.command_type == t))
                        .map(command_json)
                        .collect()
                })
                .unwrap_or_default();
            if out.is_empty() {
                return data(json!({}));
            }
            data(json!({"CommandResp": out}))
        }
        _ => not_found(),
    }
}
