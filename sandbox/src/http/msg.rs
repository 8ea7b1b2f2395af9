//! Sending (shared by WS 1003 and the admin REST routes) and the `/msg/*` routes.

use std::sync::Arc;

use base64::Engine;
use openim_protocol::api::msg::{
    BatchSendMsgReq, ClearConversationMsgReq, DeleteMsgsReq, GetConversationsHasReadAndMaxSeqReq,
    MarkConversationAsReadReq, PullMsgBySeqReq, RevokeMsgReq, SendMsgReq, UserIdReq,
};
use serde_json::{Map, Value, json};

use super::{Ctx, HResult, Reply, data, list, not_found, parse};
use crate::Inner;
use crate::error::CodeError;
use crate::push::deliver;
use crate::state::{
    LOG_UPDATE, Notif, State, conversation_id_of, detail_content, now_ms, random_hex32,
};
use crate::wire::{MsgData, OfflinePushInfo, PushMessages, SendMsgResp};

/// MsgData as the Go server writes it in JSON (content base64, empty lists null).
pub(crate) fn msg_json(m: &MsgData) -> Value {
    let b64 = base64::engine::general_purpose::STANDARD;
    json!({
        "sendID": m.send_id, "recvID": m.recv_id, "groupID": m.group_id, "clientMsgID": m.client_msg_id,
        "serverMsgID": m.server_msg_id, "senderPlatformID": m.sender_platform_id, "senderNickname": m.sender_nickname,
        "senderFaceURL": m.sender_face_url, "sessionType": m.session_type, "msgFrom": m.msg_from,
        "contentType": m.content_type, "content": b64.encode(&m.content), "seq": m.seq, "sendTime": m.send_time,
        "createTime": m.create_time, "status": m.status, "isRead": m.is_read,
        "options": if m.options.is_empty() { Value::Null } else { json!(m.options) },
        "offlinePushInfo": m.offline_push_info.as_ref().map(|o| json!({
            "title": o.title, "desc": o.desc, "ex": o.ex, "iOSPushSound": o.ios_push_sound,
            "iOSBadgeCount": o.ios_badge_count, "signalInfo": o.signal_info})),
        "atUserIDList": list(&m.at_user_id_list), "attachedInfo": m.attached_info, "ex": m.ex,
    })
}

/// PushMessages / PullMessageBySeqsResp as JSON.
pub(crate) fn pull_json(p: &PushMessages) -> Value {
    let conv = |m: &std::collections::BTreeMap<String, crate::wire::PullMsgs>| -> Value {
        if m.is_empty() {
            return Value::Null;
        }
        let mut o = Map::new();
        for (k, v) in m {
            let msgs: Vec<Value> = v.msgs.iter().map(msg_json).collect();
            o.insert(
                k.clone(),
                json!({"Msgs": list(&msgs), "isEnd": v.is_end, "endSeq": v.end_seq}),
            );
        }
        Value::Object(o)
    };
    json!({"msgs": conv(&p.msgs), "notificationMsgs": conv(&p.notification_msgs)})
}

fn common_callback(m: &MsgData, op: &str) -> Value {
    let content = if (1000..=5000).contains(&m.content_type) {
        String::new()
    } else {
        String::from_utf8_lossy(&m.content).to_string()
    };
    json!({
        "sendID": m.send_id, "serverMsgID": m.server_msg_id, "clientMsgID": m.client_msg_id, "operationID": op,
        "senderPlatformID": m.sender_platform_id, "senderNickname": m.sender_nickname, "sessionType": m.session_type,
        "msgFrom": m.msg_from, "contentType": m.content_type, "status": 0, "sendTime": m.send_time,
        "createTime": m.create_time, "content": content, "seq": 0, "atUserList": list(&m.at_user_id_list),
        "faceURL": m.sender_face_url, "ex": m.ex,
    })
}

enum Verdict {
    Send,
    Dropped,
}

/// Verification of §7.3 (membership, mute, blacklist, friendship, receive options).
fn verify(st: &State, inner: &Inner, msg: &mut MsgData) -> Result<Verdict, CodeError> {
    let sender_admin = inner.is_admin(&msg.send_id);
    let notification = (1000..=5000).contains(&msg.content_type);
    match msg.session_type {
        1 => {
            if !sender_admin && !notification {
                if st.is_black(&msg.recv_id, &msg.send_id) {
                    return Err(CodeError::new(1302, "blocked by peer"));
                }
                if inner.config.friend_verify && !st.is_friend(&msg.send_id, &msg.recv_id) {
                    return Err(CodeError::new(1303, "not peer's friend"));
                }
            }
            if !notification {
                let Some(recv) = st.users.get(&msg.recv_id) else {
                    return Err(CodeError::not_found(format!(
                        "user {} not found",
                        msg.recv_id
                    )));
                };
                match recv.global_recv_msg_opt {
                    1 => return Ok(Verdict::Dropped),
                    2 => {
                        msg.options.insert("offlinePush".to_string(), false);
                        return Ok(Verdict::Send);
                    }
                    _ => {}
                }
                let cid = conversation_id_of(msg);
                match st
                    .user_conv(&msg.recv_id, &cid)
                    .map(|u| u.conv.recv_msg_opt)
                {
                    Some(1) if msg.content_type != 2200 => return Ok(Verdict::Dropped),
                    Some(2) => {
                        msg.options.insert("offlinePush".to_string(), false);
                    }
                    _ => {}
                }
            }
            Ok(Verdict::Send)
        }
        3 => {
            let Some(g) = st.groups.get(&msg.group_id) else {
                return Err(CodeError::not_found(format!(
                    "group {} not found",
                    msg.group_id
                )));
            };
            if g.info.status == 2 && msg.content_type != 1511 {
                return Err(CodeError::new(1204, "group dismissed"));
            }
            if sender_admin || notification {
                return Ok(Verdict::Send);
            }
            let Some(m) = g.members.get(&msg.send_id) else {
                return Err(CodeError::new(1203, "you are not in group"));
            };
            if m.role_level == 100 {
                return Ok(Verdict::Send);
            }
            if m.mute_end_time >= now_ms() {
                return Err(CodeError::new(1402, "you are muted"));
            }
            if g.info.status == 3 && m.role_level < 60 {
                return Err(CodeError::new(1403, "group is muted"));
            }
            Ok(Verdict::Send)
        }
        4 => Ok(Verdict::Send),
        _ => Err(CodeError::args("unknown sessionType")),
    }
}

/// Sends a message as `caller` (WS 1003 or REST): checks, webhooks, storage, pushes.
/// The pushes are returned, not delivered, so the WS caller can write its 1003 answer first.
pub(crate) async fn send_message(
    inner: &Arc<Inner>,
    mut msg: MsgData,
    op: &str,
    caller: &str,
) -> Result<(SendMsgResp, Vec<crate::state::Delivery>), CodeError> {
    if !matches!(msg.session_type, 1 | 3 | 4) {
        return Err(CodeError::args("unknown sessionType"));
    }
    if msg.send_id != caller && !inner.is_admin(caller) {
        return Err(CodeError::no_permission("sendID is not the caller"));
    }
    if !msg.options.is_empty() {
        match msg.content_type {
            113 => {
                for k in [
                    "history",
                    "persistent",
                    "senderSync",
                    "conversationUpdate",
                    "senderConversationUpdate",
                    "unreadCount",
                    "offlinePush",
                ] {
                    msg.options.insert(k.to_string(), false);
                }
            }
            111 => {
                msg.options.insert("unreadCount".to_string(), false);
                msg.options.insert("offlinePush".to_string(), false);
            }
            2200 => {
                for k in [
                    "conversationUpdate",
                    "senderConversationUpdate",
                    "unreadCount",
                    "offlinePush",
                ] {
                    msg.options.insert(k.to_string(), false);
                }
            }
            _ => {}
        }
    }
    msg.server_msg_id = random_hex32();
    if msg.send_time == 0 {
        msg.send_time = now_ms();
    }
    let verdict = {
        let st = inner.state.lock();
        verify(&st, inner, &mut msg)?
    };
    if let Verdict::Dropped = verdict {
        return Ok((SendMsgResp::default(), Vec::new()));
    }
    let notification = (1000..=5000).contains(&msg.content_type);
    let sender_admin = inner.is_admin(&msg.send_id);
    if inner.webhook.enabled() && msg.content_type != 113 {
        if msg.session_type == 1 && !sender_admin && !notification {
            let mut body = common_callback(&msg, op);
            body["recvID"] = json!(msg.recv_id);
            inner
                .webhook
                .before("callbackBeforeSendSingleMsgCommand", op, body)
                .await?;
        }
        if msg.session_type == 3 && !notification {
            let mut body = common_callback(&msg, op);
            body["groupID"] = json!(msg.group_id);
            inner
                .webhook
                .before("callbackBeforeSendGroupMsgCommand", op, body)
                .await?;
        }
        if msg.content_type == 101
            && let Some(reply) = inner
                .webhook
                .before(
                    "callbackBeforeMsgModifyCommand",
                    op,
                    common_callback(&msg, op),
                )
                .await?
        {
            apply_modify(&mut msg, &reply);
        }
    }
    let resp = SendMsgResp {
        server_msg_id: msg.server_msg_id.clone(),
        client_msg_id: msg.client_msg_id.clone(),
        send_time: msg.send_time,
        ..Default::default()
    };
    let at_mentions = msg.session_type == 3 && msg.content_type == 106;
    let after_webhook = inner.webhook.enabled() && msg.content_type != 113;
    // the message moves into storage and its push; a copy only when something reads it after
    let kept = (at_mentions || after_webhook).then(|| msg.clone());
    let deliveries = {
        let mut st = inner.state.lock();
        st.send_status.insert(op, 2);
        let mut out = st.route_message(msg, op, &[]);
        if let Some(msg) = kept.as_ref().filter(|_| at_mentions) {
            out.extend(apply_at(&mut st, msg, op));
        }
        out
    };
    inner.mark_dirty();
    if let Some(msg) = kept.as_ref().filter(|_| after_webhook) {
        if msg.session_type == 3 {
            let mut body = common_callback(msg, op);
            body["groupID"] = json!(msg.group_id);
            inner
                .webhook
                .after("callbackAfterSendGroupMsgCommand", op, body);
        } else {
            let mut body = common_callback(msg, op);
            body["recvID"] = json!(msg.recv_id);
            inner
                .webhook
                .after("callbackAfterSendSingleMsgCommand", op, body);
        }
    }
    Ok((resp, deliveries))
}

fn apply_modify(msg: &mut MsgData, r: &Value) {
    if let Some(c) = r.get("content").and_then(Value::as_str) {
        msg.content = c.as_bytes().to_vec();
    }
    let s = |k: &str| r.get(k).and_then(Value::as_str).map(str::to_string);
    let i = |k: &str| r.get(k).and_then(Value::as_i64).map(|v| v as i32);
    if let Some(v) = s("recvID") {
        msg.recv_id = v;
    }
    if let Some(v) = s("groupID") {
        msg.group_id = v;
    }
    if let Some(v) = s("senderNickname") {
        msg.sender_nickname = v;
    }
    if let Some(v) = s("senderFaceURL") {
        msg.sender_face_url = v;
    }
    if let Some(v) = s("attachedInfo") {
        msg.attached_info = v;
    }
    if let Some(v) = s("ex") {
        msg.ex = v;
    }
    if let Some(v) = i("contentType") {
        msg.content_type = v;
    }
    if let Some(v) = i("senderPlatformID") {
        msg.sender_platform_id = v;
    }
    if let Some(o) = r.get("options").and_then(Value::as_object) {
        for (k, v) in o {
            if let Some(b) = v.as_bool() {
                msg.options.insert(k.clone(), b);
            }
        }
    }
    if let Some(a) = r.get("atUserIDList").and_then(Value::as_array) {
        msg.at_user_id_list = a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect();
    }
}

/// @-mentions: the mentioned members' group conversations get groupAtType 1/2/3.
fn apply_at(st: &mut State, msg: &MsgData, op: &str) -> Vec<crate::state::Delivery> {
    let mut out = Vec::new();
    let cid = format!("sg_{}", msg.group_id);
    let members = st
        .groups
        .get(&msg.group_id)
        .map(|g| g.member_ids())
        .unwrap_or_default();
    let all = msg.at_user_id_list.iter().any(|u| u == "AtAllTag");
    for m in members {
        if m == msg.send_id {
            continue;
        }
        let me = msg.at_user_id_list.contains(&m);
        let t = match (all, me) {
            (true, true) => 3,
            (true, false) => 2,
            (false, true) => 1,
            _ => continue,
        };
        st.ensure_conversation(&m, &cid, 3, "", &msg.group_id);
        if let Some(uc) = st.user_convs.get_mut(&m).and_then(|c| c.get_mut(&cid)) {
            uc.conv.group_at_type = t;
        }
        st.log_write(&format!("conv:{m}"), &[(cid.clone(), LOG_UPDATE)]);
        out.extend(st.notify_conversation_changed(&m, &cid, op));
    }
    out
}

fn require_str(c: &Value, k: &str) -> Result<(), CodeError> {
    match c.get(k) {
        Some(Value::String(s)) if !s.is_empty() => Ok(()),
        _ => Err(CodeError::internal(format!("{k} is required"))),
    }
}

/// Builds the MsgData of a REST send (content validated per type).
fn build_rest_msg(st: &State, r: &SendMsgReq) -> Result<MsgData, CodeError> {
    if r.send_id.is_empty() || r.content_type == 0 || r.session_type == 0 {
        return Err(CodeError::with_msg(
            1001,
            "Error: Key: 'SendMsg.SendID/ContentType/SessionType' failed on the 'required' tag",
            "",
        ));
    }
    let Some(content) = Some(&r.content).filter(|c| c.is_object()) else {
        return Err(CodeError::with_msg(
            1001,
            "Error: Key: 'SendMsgReq.Content' failed on the 'required' tag",
            "",
        ));
    };
    let mut session_type = r.session_type;
    let mut at_users: Vec<String> = Vec::new();
    let bytes = match r.content_type {
        101 => {
            require_str(content, "content")?;
            serde_json::to_vec(content).unwrap_or_default()
        }
        102..=105 => serde_json::to_vec(content).unwrap_or_default(),
        106 => {
            let Some(list) = content.get("atUserList").and_then(Value::as_array) else {
                return Err(CodeError::internal("atUserList is required"));
            };
            at_users = list
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            serde_json::to_vec(content).unwrap_or_default()
        }
        110 => {
            require_str(content, "data")?;
            serde_json::to_vec(content).unwrap_or_default()
        }
        1400 => {
            require_str(content, "notificationName")?;
            require_str(content, "text")?;
            let lvl = st.users.get(&r.send_id).map(|u| u.app_manger_level);
            match lvl {
                None => return Err(CodeError::new(1101, "notification account not found")),
                Some(l) if l != 2 && l < 3 => {
                    return Err(CodeError::no_permission("not a notification account"));
                }
                _ => {}
            }
            session_type = 4;
            detail_content(content)
        }
        _ => return Err(CodeError::args("unsupported content type")),
    };
    if !matches!(session_type, 1 | 3 | 4) {
        return Err(CodeError::args("unknown sessionType"));
    }
    let mut options = std::collections::BTreeMap::new();
    if r.is_online_only {
        for k in ["history", "persistent", "senderSync", "conversationUpdate"] {
            options.insert(k.to_string(), false);
        }
    }
    if r.not_offline_push {
        options.insert("offlinePush".to_string(), false);
    }
    let opi = r.offline_push_info.as_ref().map(|o| OfflinePushInfo {
        title: o.title.clone(),
        desc: o.desc.clone(),
        ex: o.ex.clone(),
        ios_push_sound: o.ios_push_sound.clone(),
        ios_badge_count: o.ios_badge_count,
        signal_info: o.signal_info.clone(),
    });
    Ok(MsgData {
        send_id: r.send_id.clone(),
        recv_id: if session_type == 3 {
            String::new()
        } else {
            r.recv_id.clone()
        },
        group_id: if session_type == 3 {
            r.group_id.clone()
        } else {
            String::new()
        },
        client_msg_id: random_hex32(),
        sender_platform_id: r.sender_platform_id,
        sender_nickname: r.sender_nickname.clone(),
        sender_face_url: r.sender_face_url.clone(),
        session_type,
        msg_from: 200,
        content_type: r.content_type,
        content: bytes,
        send_time: r.send_time,
        create_time: now_ms(),
        status: 1,
        options,
        offline_push_info: opi,
        at_user_id_list: at_users,
        ex: r.ex.clone(),
        ..Default::default()
    })
}

fn send_resp_json(r: &SendMsgResp) -> Value {
    json!({"serverMsgID": r.server_msg_id, "clientMsgID": r.client_msg_id, "sendTime": r.send_time, "modify": null})
}

/// The (session type, receiver) of a notification addressed to "the other side" of a conversation.
fn other_side(st: &State, user: &str, cid: &str) -> Option<(i32, String)> {
    let uc = st.user_conv(user, cid)?;
    match uc.conv.conversation_type {
        3 => Some((3, uc.conv.group_id.clone())),
        _ => Some((1, uc.conv.user_id.clone())),
    }
}

/// Marks a conversation read for `user` up to `has_read` and produces the 2200 receipt.
pub(crate) fn mark_read(
    st: &mut State,
    user: &str,
    cid: &str,
    has_read: i64,
    extra_seqs: &[i64],
    op: &str,
) -> Result<Vec<crate::state::Delivery>, CodeError> {
    let Some(uc) = st.user_conv(user, cid) else {
        return Err(CodeError::not_found("conversation not found"));
    };
    let old = uc.has_read_seq;
    let conv_type = uc.conv.conversation_type;
    let peer = uc.conv.user_id.clone();
    let max = st.user_max_seq(user, cid);
    let new = has_read.min(max).max(old);
    st.set_has_read(user, cid, new);
    let mut seqs: Vec<i64> = ((old + 1)..=new).collect();
    for s in extra_seqs {
        if !seqs.contains(s) && *s > 0 && *s <= max {
            seqs.push(*s);
        }
    }
    seqs.sort_unstable();
    let tips = json!({"markAsReadUserID": user, "conversationID": cid, "seqs": list(&seqs), "hasReadSeq": new});
    let n = if conv_type == 1 && !peer.is_empty() {
        Notif {
            content_type: 2200,
            session_type: 1,
            send_id: user.to_string(),
            recv_id: peer,
            tips,
            is_send_msg: false,
            reliable: true,
            extra: vec![],
        }
    } else {
        Notif {
            content_type: 2200,
            session_type: 1,
            send_id: user.to_string(),
            recv_id: user.to_string(),
            tips,
            is_send_msg: false,
            reliable: false,
            extra: vec![],
        }
    };
    Ok(st.notify(n, op))
}

pub(crate) async fn dispatch(ctx: &Ctx, path: &str, body: &[u8]) -> HResult {
    let inner = &ctx.inner;
    match path {
        "/msg/send_msg" => {
            ctx.admin_only()?;
            let r: SendMsgReq = parse(body)?;
            let msg = {
                let st = inner.state.lock();
                build_rest_msg(&st, &r)?
            };
            let (resp, deliveries) = send_message(inner, msg, &ctx.op, &ctx.user).await?;
            deliver(
                inner,
                deliveries,
                &crate::push::Origin::User(ctx.user.clone()),
            );
            data(send_resp_json(&resp))
        }
        "/msg/batch_send_msg" => {
            ctx.admin_only()?;
            let r: BatchSendMsgReq = parse(body)?;
            let recv_ids = r.recv_ids.clone();
            let all = r.is_send_all;
            let single = SendMsgReq {
                recv_id: String::new(),
                send_id: r.send_id,
                group_id: r.group_id,
                sender_nickname: r.sender_nickname,
                sender_face_url: r.sender_face_url,
                sender_platform_id: r.sender_platform_id,
                content: r.content,
                content_type: r.content_type,
                session_type: r.session_type,
                is_online_only: r.is_online_only,
                not_offline_push: r.not_offline_push,
                send_time: r.send_time,
                offline_push_info: r.offline_push_info,
                ex: r.ex,
            };
            let (template, targets) = {
                let st = inner.state.lock();
                let template = build_rest_msg(&st, &single)?;
                let targets: Vec<String> = if all {
                    st.users.keys().cloned().collect()
                } else {
                    recv_ids
                };
                (template, targets)
            };
            let mut results = Vec::new();
            let mut failed = Vec::new();
            for t in targets {
                let mut m = template.clone();
                m.recv_id = t.clone();
                match send_message(inner, m, &ctx.op, &ctx.user).await {
                    Ok((resp, deliveries)) => {
                        deliver(
                            inner,
                            deliveries,
                            &crate::push::Origin::User(ctx.user.clone()),
                        );
                        results.push(json!({"serverMsgID": resp.server_msg_id, "clientMsgID": resp.client_msg_id, "sendTime": resp.send_time, "recvID": t}));
                    }
                    Err(_) => failed.push(t),
                }
            }
            data(json!({"results": list(&results), "failedUserIDs": list(&failed)}))
        }
        "/msg/send_business_notification" => {
            ctx.admin_only()?;
            let v: Value = parse(body)?;
            let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let (send, recv) = (s("sendUserID"), s("recvUserID"));
            if send.is_empty() || recv.is_empty() {
                return Err(CodeError::with_msg(
                    1001,
                    "Error: sendUserID and recvUserID are required",
                    "",
                ));
            }
            let deliveries = {
                let mut st = inner.state.lock();
                let tips = json!({"key": s("key"), "data": s("data")});
                st.notify(
                    Notif {
                        content_type: 2001,
                        session_type: 1,
                        send_id: send,
                        recv_id: recv,
                        tips,
                        is_send_msg: false,
                        reliable: false,
                        extra: vec![],
                    },
                    &ctx.op,
                )
            };
            let resp = deliveries.first().map(|d| json!({"serverMsgID": d.msg.server_msg_id, "clientMsgID": d.msg.client_msg_id, "sendTime": d.msg.send_time, "modify": null}));
            deliver(
                inner,
                deliveries,
                &crate::push::Origin::User(ctx.user.clone()),
            );
            data(resp.unwrap_or(Value::Null))
        }
        "/msg/revoke_msg" => {
            let r: RevokeMsgReq = parse(body)?;
            if r.conversation_id.is_empty() || r.user_id.is_empty() || r.seq < 1 {
                return Err(CodeError::args(
                    "conversationID, userID and seq are required",
                ));
            }
            ctx.self_or_admin(&r.user_id)?;
            let deliveries = {
                let mut st = inner.state.lock();
                let Some(stored) = st
                    .seqs
                    .get(&r.conversation_id)
                    .and_then(|c| c.msgs.get(&r.seq))
                    .cloned()
                else {
                    return Err(CodeError::not_found("message not found"));
                };
                if stored.revoked().is_some() {
                    return Err(CodeError::new(1404, "msg already revoked"));
                }
                let m = stored.msg();
                let revoker_admin = inner.is_admin(&r.user_id);
                let mut role = 0;
                if m.session_type == 3 {
                    let g = st.groups.get(&m.group_id);
                    let my = g
                        .and_then(|g| g.members.get(&r.user_id))
                        .map(|x| x.role_level)
                        .unwrap_or(0);
                    let theirs = g
                        .and_then(|g| g.members.get(&m.send_id))
                        .map(|x| x.role_level)
                        .unwrap_or(20);
                    role = my;
                    let ok = revoker_admin
                        || m.send_id == r.user_id
                        || my == 100
                        || (my == 60 && theirs == 20);
                    if !ok {
                        return Err(CodeError::no_permission("no permission to revoke"));
                    }
                } else if !revoker_admin && m.send_id != r.user_id {
                    return Err(CodeError::no_permission("only the sender can revoke"));
                }
                let now = now_ms();
                let content = json!({
                    "revokerID": r.user_id, "revokerRole": role, "clientMsgID": m.client_msg_id,
                    "revokerNickname": st.nickname(&r.user_id), "revokeTime": now, "sourceMessageSendTime": m.send_time,
                    "sourceMessageSendID": m.send_id, "sourceMessageSenderNickname": m.sender_nickname,
                    "sessionType": m.session_type, "seq": m.seq, "ex": "",
                });
                if let Some(s) = st
                    .seqs
                    .get_mut(&r.conversation_id)
                    .and_then(|c| c.msgs.get_mut(&r.seq))
                {
                    s.set_revoked(content);
                }
                let recv = if m.session_type == 3 {
                    m.group_id.clone()
                } else if m.recv_id == r.user_id {
                    m.send_id.clone()
                } else {
                    m.recv_id.clone()
                };
                let tips = json!({
                    "revokerUserID": r.user_id, "clientMsgID": m.client_msg_id, "revokeTime": now,
                    "sesstionType": m.session_type, "seq": m.seq, "conversationID": r.conversation_id,
                    "isAdminRevoke": revoker_admin,
                });
                let session = if m.session_type == 3 { 3 } else { 1 };
                st.notify(
                    Notif {
                        content_type: 2101,
                        session_type: session,
                        send_id: r.user_id.clone(),
                        recv_id: recv,
                        tips,
                        is_send_msg: false,
                        reliable: true,
                        extra: vec![],
                    },
                    &ctx.op,
                )
            };
            deliver(
                inner,
                deliveries,
                &crate::push::Origin::User(ctx.user.clone()),
            );
            inner.webhook.after(
                "callbackBeforeAfterMsgCommand",
                &ctx.op,
                json!({"conversationID": r.conversation_id, "seq": r.seq, "userID": r.user_id}),
            );
            Ok(Reply::Empty)
        }
        "/msg/mark_conversation_as_read"
        | "/msg/mark_msgs_as_read"
        | "/msg/set_conversation_has_read_seq" => {
            let r: MarkConversationAsReadReq = parse(body)?;
            if r.conversation_id.is_empty() || r.user_id.is_empty() {
                return Err(CodeError::args("conversationID and userID are required"));
            }
            ctx.self_or_admin(&r.user_id)?;
            let seqs = r.seqs.clone();
            let (deliveries, group) = {
                let mut st = inner.state.lock();
                let max = st.user_max_seq(&r.user_id, &r.conversation_id);
                let target = match path {
                    "/msg/mark_msgs_as_read" => {
                        if seqs.is_empty() || seqs.contains(&0) {
                            return Err(CodeError::args("seqs is invalid"));
                        }
                        let last = seqs.iter().copied().max().unwrap_or(0);
                        if last > max {
                            return Err(CodeError::args("seq is greater than max seq"));
                        }
                        last
                    }
                    "/msg/set_conversation_has_read_seq" => {
                        if r.has_read_seq < 1 || r.has_read_seq > max {
                            return Err(CodeError::args("hasReadSeq is invalid"));
                        }
                        st.set_has_read(&r.user_id, &r.conversation_id, r.has_read_seq);
                        let tips = json!({"markAsReadUserID": r.user_id, "conversationID": r.conversation_id, "seqs": null, "hasReadSeq": r.has_read_seq});
                        let d = st.notify(
                            Notif {
                                content_type: 2200,
                                session_type: 1,
                                send_id: r.user_id.clone(),
                                recv_id: r.user_id.clone(),
                                tips,
                                is_send_msg: false,
                                reliable: false,
                                extra: vec![],
                            },
                            &ctx.op,
                        );
                        drop(st);
                        deliver(inner, d, &crate::push::Origin::User(ctx.user.clone()));
                        return Ok(Reply::Empty);
                    }
                    _ => {
                        if r.has_read_seq < 1 {
                            return Err(CodeError::args("hasReadSeq is invalid"));
                        }
                        r.has_read_seq
                    }
                };
                let group = r.conversation_id.starts_with("sg_");
                (
                    mark_read(
                        &mut st,
                        &r.user_id,
                        &r.conversation_id,
                        target,
                        &seqs,
                        &ctx.op,
                    )?,
                    group,
                )
            };
            deliver(
                inner,
                deliveries,
                &crate::push::Origin::User(ctx.user.clone()),
            );
            if group {
                inner.webhook.after("callbackAfterGroupMsgReadCommand", &ctx.op, json!({"sendID": r.user_id, "receiveID": r.user_id, "unreadMsgNum": r.has_read_seq, "contentType": 3}));
            } else {
                inner.webhook.after("callbackAfterSingleMsgReadCommand", &ctx.op, json!({"conversationID": r.conversation_id, "userID": r.user_id, "Seqs": seqs, "contentType": 1}));
            }
            Ok(Reply::Empty)
        }
        "/msg/get_conversations_has_read_and_max_seq" => {
            let r: GetConversationsHasReadAndMaxSeqReq = parse(body)?;
            if r.user_id.is_empty() {
                return Err(CodeError::args("userID is empty"));
            }
            ctx.self_or_admin(&r.user_id)?;
            let st = inner.state.lock();
            let seqs = crate::gateway::has_read_and_max_seqs(&st, &r.user_id, &r.conversation_ids);
            let mut o = Map::new();
            for (k, v) in seqs {
                o.insert(k, json!({"maxSeq": v.max_seq, "hasReadSeq": v.has_read_seq, "maxSeqTime": v.max_seq_time}));
            }
            data(
                json!({"seqs": if o.is_empty() { Value::Null } else { Value::Object(o) }, "pinnedConversationIDs": null}),
            )
        }
        "/msg/newest_seq" => {
            let r: UserIdReq = parse(body)?;
            ctx.self_or_admin(&r.user_id)?;
            let st = inner.state.lock();
            let m = crate::gateway::newest_seqs(&st, &r.user_id);
            data(
                json!({"maxSeqs": if m.is_empty() { Value::Null } else { json!(m) }, "minSeqs": null}),
            )
        }
        "/msg/pull_msg_by_seq" => {
            let r: PullMsgBySeqReq = parse(body)?;
            ctx.self_or_admin(&r.user_id)?;
            let ranges: Vec<crate::wire::SeqRange> = r
                .seq_ranges
                .into_iter()
                .map(|x| crate::wire::SeqRange {
                    conversation_id: x.conversation_id,
                    begin: x.begin,
                    end: x.end,
                    num: x.num,
                })
                .collect();
            let st = inner.state.lock();
            data(pull_json(&crate::gateway::decoded_answer(
                crate::gateway::pull_ranges(&st, &r.user_id, &ranges, r.order, State::view_in),
            )))
        }
        "/msg/get_server_time" => data(json!({"serverTime": now_ms()})),
        "/msg/search_msg" => super::chat_log::search(ctx, body),
        "/msg/check_msg_is_send_success" => {
            let st = inner.state.lock();
            data(json!({"status": st.send_status.get(&ctx.op).unwrap_or(0)}))
        }
        "/msg/delete_msg_phsical_by_seq" => super::msg_destroy::by_seq(ctx, body),
        "/msg/delete_msg_physical" => super::msg_destroy::older_than(ctx, body),
        "/msg/delete_msgs" => {
            let r: DeleteMsgsReq = parse(body)?;
            ctx.self_or_admin(&r.user_id)?;
            let seqs = r.seqs.clone();
            if seqs.is_empty() {
                return Err(CodeError::args("seqs is empty"));
            }
            let sync = r.delete_sync_opt.clone().unwrap_or_default();
            let deliveries = {
                let mut st = inner.state.lock();
                let tips = json!({"userID": r.user_id, "conversationID": r.conversation_id, "seqs": list(&seqs)});
                if sync.is_sync_other {
                    if let Some(c) = st.seqs.get_mut(&r.conversation_id) {
                        for s in &seqs {
                            c.msgs.remove(s);
                        }
                    }
                    match other_side(&st, &r.user_id, &r.conversation_id) {
                        Some((session, recv)) => st.notify(
                            Notif {
                                content_type: 2102,
                                session_type: session,
                                send_id: r.user_id.clone(),
                                recv_id: recv,
                                tips,
                                is_send_msg: false,
                                reliable: true,
                                extra: vec![],
                            },
                            &ctx.op,
                        ),
                        None => Vec::new(),
                    }
                } else {
                    if let Some(c) = st.seqs.get_mut(&r.conversation_id) {
                        for s in &seqs {
                            if let Some(m) = c.msgs.get_mut(s) {
                                m.delete_for(r.user_id.clone());
                            }
                        }
                    }
                    if sync.is_sync_self {
                        st.notify(
                            Notif {
                                content_type: 2102,
                                session_type: 1,
                                send_id: r.user_id.clone(),
                                recv_id: r.user_id.clone(),
                                tips,
                                is_send_msg: false,
                                reliable: true,
                                extra: vec![],
                            },
                            &ctx.op,
                        )
                    } else {
                        Vec::new()
                    }
                }
            };
            deliver(
                inner,
                deliveries,
                &crate::push::Origin::User(ctx.user.clone()),
            );
            Ok(Reply::Empty)
        }
        "/msg/clear_conversation_msg" | "/msg/user_clear_all_msg" => {
            let r: ClearConversationMsgReq = parse(body)?;
            ctx.self_or_admin(&r.user_id)?;
            let sync = r.delete_sync_opt.clone().unwrap_or_default();
            let deliveries = {
                let mut st = inner.state.lock();
                let ids: Vec<String> = match r.conversation_ids.clone() {
                    ids if path.ends_with("clear_conversation_msg") => {
                        if ids.is_empty() {
                            return Err(CodeError::args("conversationIDs is empty"));
                        }
                        ids
                    }
                    _ => st
                        .user_convs
                        .get(&r.user_id)
                        .map(|m| m.keys().cloned().collect())
                        .unwrap_or_default(),
                };
                let mut out = Vec::new();
                for id in &ids {
                    let max = st.user_max_seq(&r.user_id, id);
                    if sync.is_sync_other
                        && let Some(c) = st.seqs.get_mut(id)
                    {
                        c.min_seq = max + 1;
                    }
                    if let Some(uc) = st
                        .user_convs
                        .get_mut(&r.user_id)
                        .and_then(|m| m.get_mut(id))
                    {
                        uc.conv.min_seq = max + 1;
                        uc.has_read_seq = max;
                        st.log_write(&format!("conv:{}", r.user_id), &[(id.clone(), LOG_UPDATE)]);
                    }
                    if sync.is_sync_other
                        && let Some((session, recv)) = other_side(&st, &r.user_id, id)
                    {
                        let tips = json!({"userID": r.user_id, "conversationIDs": [id]});
                        out.extend(st.notify(
                            Notif {
                                content_type: 1703,
                                session_type: session,
                                send_id: r.user_id.clone(),
                                recv_id: recv,
                                tips,
                                is_send_msg: false,
                                reliable: false,
                                extra: vec![],
                            },
                            &ctx.op,
                        ));
                    }
                }
                if sync.is_sync_self && !sync.is_sync_other {
                    let tips = json!({"userID": r.user_id, "conversationIDs": list(&ids)});
                    out.extend(st.notify(
                        Notif {
                            content_type: 1703,
                            session_type: 1,
                            send_id: r.user_id.clone(),
                            recv_id: r.user_id.clone(),
                            tips,
                            is_send_msg: false,
                            reliable: false,
                            extra: vec![],
                        },
                        &ctx.op,
                    ));
                }
                out
            };
            deliver(
                inner,
                deliveries,
                &crate::push::Origin::User(ctx.user.clone()),
            );
            Ok(Reply::Empty)
        }
        _ => not_found(),
    }
}
