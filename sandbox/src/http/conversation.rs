//! `/conversation/*` and `/jssdk/*` routes.

use base64::Engine;
use md5::{Digest, Md5};
use openim_protocol::api::common::{FullIdsUserReq, IncrementalUserReq};
use openim_protocol::api::conversation::{
    GetConversationOfflinePushUserIdsReq, GetConversationReq,
    GetConversationsReq as GetConversationsJsonReq, GetOwnerConversationReq, OwnerReq,
    SetConversationsReq, UserIdReq,
};
use prost::Message;
use serde_json::{Value, json};

use serde::Serialize;

use super::{
    Ctx, HResult, Paginate, Reply, data, data_from, list, not_found, nullable, parse, to_value,
};
use crate::error::CodeError;
use crate::model::Conversation;
use crate::push::deliver;
use crate::state::{LOG_UPDATE, Notif, State, UserConv};
use crate::wire::{
    self, ConversationMsg, ConversationsResp, GetActiveConversationsReq, GetConversationsReq,
};

/// `idHash` of an ID list: first 8 bytes (big-endian) of MD5 over its JSON array text; 0 when empty.
pub(crate) fn id_hash(ids: &[String]) -> u64 {
    if ids.is_empty() {
        return 0;
    }
    let text = serde_json::to_string(ids).unwrap_or_default();
    let d = Md5::digest(text.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_be_bytes(b)
}

/// The full-ID reply shape. As in v3.8.3, `version` carries the list's ID hash (not the log
/// version; clients read only the IDs) and `versionID` the log's ID.
pub(crate) fn full_ids(
    st: &mut State,
    log_key: &str,
    ids: Vec<String>,
    req_hash: u64,
    key: &str,
) -> Value {
    let (_, version_id) = st.log_head(log_key);
    let hash = id_hash(&ids);
    let equal = hash == req_hash;
    let mut o = json!({"version": hash, "versionID": version_id, "equal": equal});
    o[key] = if equal { Value::Null } else { list(&ids) };
    o
}

fn conv_list(st: &State, owner: &str) -> Vec<Conversation> {
    conv_refs(st, owner).into_iter().cloned().collect()
}

/// The user's conversation records in creation order.
fn conv_refs<'a>(st: &'a State, owner: &str) -> Vec<&'a Conversation> {
    let mut v: Vec<&UserConv> = st
        .user_convs
        .get(owner)
        .map(|m| m.values().collect())
        .unwrap_or_default();
    v.sort_by_key(|u| u.order);
    v.into_iter().map(|u| &u.conv).collect()
}

/// Reply bodies serialised without a `Value` tree ([`data_from`]).
mod json_list {
    use serde::Serialize;

    use crate::model::Conversation;

    /// `{"conversations": [...] | null}`.
    #[derive(Serialize)]
    pub(super) struct Conversations<'a> {
        pub conversations: Option<&'a [&'a Conversation]>,
    }
}

fn pb_conv(c: &Conversation) -> wire::PbConversation {
    wire::PbConversation {
        owner_user_id: c.owner_user_id.clone(),
        conversation_id: c.conversation_id.clone(),
        recv_msg_opt: c.recv_msg_opt,
        conversation_type: c.conversation_type,
        user_id: c.user_id.clone(),
        group_id: c.group_id.clone(),
        is_pinned: c.is_pinned,
        attached_info: c.attached_info.clone(),
        is_private_chat: c.is_private_chat,
        group_at_type: c.group_at_type,
        ex: c.ex.clone(),
        burn_duration: c.burn_duration,
        min_seq: c.min_seq,
        max_seq: c.max_seq,
        msg_destruct_time: c.msg_destruct_time,
        latest_msg_destruct_time: c.latest_msg_destruct_time,
        is_msg_destruct: c.is_msg_destruct,
    }
}

/// Builds a jssdk ConversationMsg (None if the conversation has no loadable last message).
fn conversation_msg(st: &State, owner: &str, cid: &str) -> Option<ConversationMsg> {
    let uc = st.user_conv(owner, cid)?;
    let max = st.user_max_seq(owner, cid);
    if max == 0 {
        return None;
    }
    let min = st.user_min_seq(owner, cid);
    let mut last = None;
    let mut s = max;
    while s >= min && s > 0 {
        let m = st.view_msg(owner, cid, s);
        if m.status != 4 {
            last = Some(m);
            break;
        }
        s -= 1;
    }
    let last = last?;
    let c = &uc.conv;
    let mut out = ConversationMsg {
        conversation: Some(pb_conv(c)),
        last_msg: Some(last),
        max_seq: max,
        read_seq: uc.has_read_seq,
        ..Default::default()
    };
    if c.conversation_type == 3 {
        out.group = st.group_info(&c.group_id).map(|g| wire::PbGroupInfo {
            group_id: g.group_id,
            group_name: g.group_name,
            notification: g.notification,
            introduction: g.introduction,
            face_url: g.face_url,
            owner_user_id: g.owner_user_id,
            create_time: g.create_time,
            member_count: g.member_count,
            ex: g.ex,
            status: g.status,
            creator_user_id: g.creator_user_id,
            group_type: g.group_type,
            need_verification: g.need_verification,
            look_member_info: g.look_member_info,
            apply_member_friend: g.apply_member_friend,
            notification_update_time: g.notification_update_time,
            notification_user_id: g.notification_user_id,
        });
    } else {
        out.user = st.users.get(&c.user_id).map(|u| wire::PbUserInfo {
            user_id: u.user_id.clone(),
            nickname: u.nickname.clone(),
            face_url: u.face_url.clone(),
            ex: u.ex.clone(),
            create_time: u.create_time,
            app_manger_level: u.app_manger_level,
            global_recv_msg_opt: u.global_recv_msg_opt,
        });
        out.friend = st
            .friends
            .get(owner)
            .and_then(|m| m.get(&c.user_id))
            .map(|f| wire::PbFriendInfoOnly {
                owner_user_id: f.owner.clone(),
                friend_user_id: f.friend.clone(),
                remark: f.remark.clone(),
                create_time: f.create_time,
                add_source: f.add_source,
                operator_user_id: f.operator.clone(),
                ex: f.ex.clone(),
                is_pinned: f.is_pinned,
            });
    }
    Some(out)
}

fn conversation_msg_json(m: &ConversationMsg) -> Value {
    json!({
        "conversation": m.conversation.as_ref().map(|c| json!({
            "ownerUserID": c.owner_user_id, "conversationID": c.conversation_id, "recvMsgOpt": c.recv_msg_opt,
            "conversationType": c.conversation_type, "userID": c.user_id, "groupID": c.group_id, "isPinned": c.is_pinned,
            "attachedInfo": c.attached_info, "isPrivateChat": c.is_private_chat, "groupAtType": c.group_at_type, "ex": c.ex,
            "burnDuration": c.burn_duration, "minSeq": c.min_seq, "maxSeq": c.max_seq, "msgDestructTime": c.msg_destruct_time,
            "latestMsgDestructTime": c.latest_msg_destruct_time, "isMsgDestruct": c.is_msg_destruct})),
        "lastMsg": m.last_msg.as_ref().map(super::msg::msg_json),
        "maxSeq": m.max_seq, "readSeq": m.read_seq,
    })
}

fn jssdk_reply(ctx: &Ctx, resp: &ConversationsResp) -> HResult {
    if ctx.protobuf {
        let bytes = resp.encode_to_vec();
        data(Value::String(
            base64::engine::general_purpose::STANDARD.encode(bytes),
        ))
    } else {
        let convs: Vec<Value> = resp
            .conversations
            .iter()
            .map(conversation_msg_json)
            .collect();
        data(json!({"unreadCount": resp.unread_count, "conversations": convs}))
    }
}

pub(crate) async fn dispatch(ctx: &Ctx, path: &str, body: &[u8]) -> HResult {
    let inner = &ctx.inner;
    match path {
        "/jssdk/get_active_conversations" => {
            let req = if ctx.protobuf {
                GetActiveConversationsReq::decode(body)
                    .map_err(|e| CodeError::args(format!("protobuf: {e}")))?
            } else {
                let v: Value = parse(body)?;
                GetActiveConversationsReq {
                    owner_user_id: String::new(),
                    count: v.get("count").and_then(Value::as_i64).unwrap_or(0),
                }
            };
            let count = if req.count <= 0 || req.count > 500 {
                100
            } else {
                req.count as usize
            };
            let st = inner.state.lock();
            let mut items: Vec<ConversationMsg> = conv_list(&st, &ctx.user)
                .iter()
                .filter_map(|c| conversation_msg(&st, &ctx.user, &c.conversation_id))
                .collect();
            // Saturating: seqs near i64::MAX (`FaultControl::jump_seq`) overflowed the sum.
            let unread = items.iter().fold(0i64, |sum, m| {
                sum.saturating_add(m.max_seq.saturating_sub(m.read_seq).max(0))
            });
            items.sort_by_key(|m| {
                let pinned = m.conversation.as_ref().is_some_and(|c| c.is_pinned);
                let t = m.last_msg.as_ref().map(|l| l.send_time).unwrap_or(0);
                (!pinned, -t)
            });
            items.truncate(count);
            jssdk_reply(
                ctx,
                &ConversationsResp {
                    unread_count: unread,
                    conversations: items,
                },
            )
        }
        "/jssdk/get_conversations" => {
            let req = if ctx.protobuf {
                GetConversationsReq::decode(body)
                    .map_err(|e| CodeError::args(format!("protobuf: {e}")))?
            } else {
                let v: Value = parse(body)?;
                let ids = v
                    .get("conversationIDs")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                GetConversationsReq {
                    owner_user_id: String::new(),
                    conversation_ids: ids,
                }
            };
            let st = inner.state.lock();
            let items: Vec<ConversationMsg> = req
                .conversation_ids
                .iter()
                .filter_map(|id| conversation_msg(&st, &ctx.user, id))
                .collect();
            let unread = req
                .conversation_ids
                .iter()
                .filter_map(|id| {
                    st.user_conv(&ctx.user, id).map(|u| {
                        st.user_max_seq(&ctx.user, id)
                            .saturating_sub(u.has_read_seq)
                            .max(0)
                    })
                })
                .fold(0i64, i64::saturating_add);
            jssdk_reply(
                ctx,
                &ConversationsResp {
                    unread_count: unread,
                    conversations: items,
                },
            )
        }
        "/conversation/get_incremental_conversations" => {
            let r: IncrementalUserReq = parse(body)?;
            ctx.self_or_admin(&r.user_id)?;
            let mut st = inner.state.lock();
            let inc = st.incremental(&format!("conv:{}", r.user_id), &r.version_id, r.version);
            let get = |ids: &[String]| -> Vec<&Conversation> {
                ids.iter()
                    .filter_map(|id| st.user_conv(&r.user_id, id).map(|u| &u.conv))
                    .collect()
            };
            let (ins, upd) = (get(&inc.insert), get(&inc.update));
            #[derive(Serialize)]
            struct IncrementalReply<'a> {
                version: u64,
                #[serde(rename = "versionID")]
                version_id: &'a str,
                full: bool,
                delete: Option<&'a [String]>,
                insert: Option<&'a [&'a Conversation]>,
                update: Option<&'a [&'a Conversation]>,
            }
            data_from(&IncrementalReply {
                version: inc.version,
                version_id: &inc.version_id,
                full: inc.full,
                delete: nullable(&inc.delete),
                insert: nullable(&ins),
                update: nullable(&upd),
            })
        }
        "/conversation/get_full_conversation_ids" => {
            let r: FullIdsUserReq = parse(body)?;
            ctx.self_or_admin(&r.user_id)?;
            let mut st = inner.state.lock();
            let ids: Vec<String> = conv_list(&st, &r.user_id)
                .into_iter()
                .map(|c| c.conversation_id)
                .collect();
            data(full_ids(
                &mut st,
                &format!("conv:{}", r.user_id),
                ids,
                r.id_hash,
                "conversationIDs",
            ))
        }
        "/conversation/get_not_notify_conversation_ids"
        | "/conversation/get_pinned_conversation_ids" => {
            let r: UserIdReq = parse(body)?;
            ctx.self_or_admin(&r.user_id)?;
            let st = inner.state.lock();
            let pinned = path.contains("pinned");
            let ids: Vec<String> = conv_list(&st, &r.user_id)
                .into_iter()
                .filter(|c| {
                    if pinned {
                        c.is_pinned
                    } else {
                        c.recv_msg_opt == 2
                    }
                })
                .map(|c| c.conversation_id)
                .collect();
            data(json!({"conversationIDs": list(&ids)}))
        }
        "/conversation/get_conversation_offline_push_user_ids" => {
            // Baseline route (no ownership check): the candidates minus those who set the
            // conversation to anything but "receive" (recvMsgOpt 1 or 2).
            let r: GetConversationOfflinePushUserIdsReq = parse(body)?;
            if r.conversation_id.is_empty() {
                return Err(CodeError::args("conversationID is empty"));
            }
            let st = inner.state.lock();
            let mut seen = std::collections::HashSet::new();
            let ids: Vec<String> = r
                .user_ids
                .iter()
                .filter(|u| seen.insert(u.as_str()))
                .filter(|u| {
                    st.user_conv(u, &r.conversation_id)
                        .is_none_or(|uc| uc.conv.recv_msg_opt == 0)
                })
                .cloned()
                .collect();
            data(json!({"userIDs": list(&ids)}))
        }
        "/conversation/get_all_conversations" => {
            let r: OwnerReq = parse(body)?;
            ctx.self_or_admin(&r.owner_user_id)?;
            let st = inner.state.lock();
            data_from(&json_list::Conversations {
                conversations: nullable(&conv_refs(&st, &r.owner_user_id)),
            })
        }
        "/conversation/get_conversation" => {
            let r: GetConversationReq = parse(body)?;
            ctx.self_or_admin(&r.owner_user_id)?;
            let st = inner.state.lock();
            match st.user_conv(&r.owner_user_id, &r.conversation_id) {
                Some(u) => data(json!({"conversation": to_value(&u.conv)})),
                None => Err(CodeError::not_found("conversation not found")),
            }
        }
        "/conversation/get_conversations" => {
            let r: GetConversationsJsonReq = parse(body)?;
            ctx.self_or_admin(&r.owner_user_id)?;
            let st = inner.state.lock();
            let convs: Vec<&Conversation> = r
                .conversation_ids
                .iter()
                .filter_map(|id| st.user_conv(&r.owner_user_id, id).map(|u| &u.conv))
                .collect();
            data_from(&json_list::Conversations {
                conversations: nullable(&convs),
            })
        }
        "/conversation/get_owner_conversation" => {
            let r: GetOwnerConversationReq = parse(body)?;
            ctx.self_or_admin(&r.user_id)?;
            let st = inner.state.lock();
            let all = conv_list(&st, &r.user_id);
            let page = r.pagination.unwrap_or_default().apply(&all)?;
            data(json!({"total": all.len(), "conversations": list(&page)}))
        }
        "/conversation/set_conversations" => {
            let r: SetConversationsReq = parse(body)?;
            let users = r.user_ids;
            let Some(c) = r.conversation else {
                return Err(CodeError::args("conversation is empty"));
            };
            if c.conversation_type == 0
                || (c.conversation_type == 1 && c.user_id.is_empty())
                || (c.conversation_type == 3 && c.group_id.is_empty())
            {
                return Err(CodeError::args("conversation is invalid"));
            }
            for u in &users {
                ctx.self_or_admin(u)?;
            }
            let any = c.recv_msg_opt.is_some()
                || c.attached_info.is_some()
                || c.ex.is_some()
                || c.is_pinned.is_some()
                || c.group_at_type.is_some()
                || c.msg_destruct_time.is_some()
                || c.is_msg_destruct.is_some()
                || c.burn_duration.is_some();
            let deliveries = {
                let mut st = inner.state.lock();
                let mut out = Vec::new();
                if any || c.is_private_chat.is_some() {
                    for u in &users {
                        let created = st.ensure_conversation(
                            u,
                            &c.conversation_id,
                            c.conversation_type,
                            &c.user_id,
                            &c.group_id,
                        );
                        let Some(uc) = st
                            .user_convs
                            .get_mut(u)
                            .and_then(|m| m.get_mut(&c.conversation_id))
                        else {
                            continue;
                        };
                        let before = uc.conv.clone();
                        let cv = &mut uc.conv;
                        if let Some(v) = c.recv_msg_opt {
                            cv.recv_msg_opt = v;
                        }
                        if let Some(v) = c.is_pinned {
                            cv.is_pinned = v;
                        }
                        if let Some(v) = &c.attached_info {
                            cv.attached_info = v.clone();
                        }
                        if let Some(v) = c.is_private_chat {
                            cv.is_private_chat = v;
                        }
                        if let Some(v) = &c.ex {
                            cv.ex = v.clone();
                        }
                        if let Some(v) = c.burn_duration {
                            cv.burn_duration = v;
                        }
                        if let Some(v) = c.group_at_type {
                            cv.group_at_type = v;
                        }
                        if let Some(v) = c.msg_destruct_time {
                            cv.msg_destruct_time = v;
                        }
                        if let Some(v) = c.is_msg_destruct {
                            cv.is_msg_destruct = v;
                        }
                        let changed = before != *cv;
                        if changed && !created {
                            st.log_write(
                                &format!("conv:{u}"),
                                &[(c.conversation_id.clone(), LOG_UPDATE)],
                            );
                        }
                        if changed || created {
                            out.extend(st.notify_conversation_changed(
                                u,
                                &c.conversation_id,
                                &ctx.op,
                            ));
                        }
                        // Private chat is a property of the pair: like upstream's
                        // SyncPeerUserPrivateConversationTx, the peer's conversation
                        // follows (created if missing), so its client sees the change
                        // on the incremental sync that the 1701 triggers.
                        if let (Some(p), 1) = (c.is_private_chat, c.conversation_type)
                            && !c.user_id.is_empty()
                            && c.user_id != *u
                        {
                            let peer = c.user_id.as_str();
                            let peer_created =
                                st.ensure_conversation(peer, &c.conversation_id, 1, u, "");
                            let peer_changed = st
                                .user_convs
                                .get_mut(peer)
                                .and_then(|m| m.get_mut(&c.conversation_id))
                                .is_some_and(|pc| {
                                    let was = pc.conv.is_private_chat;
                                    pc.conv.is_private_chat = p;
                                    was != p
                                });
                            if peer_changed && !peer_created {
                                st.log_write(
                                    &format!("conv:{peer}"),
                                    &[(c.conversation_id.clone(), LOG_UPDATE)],
                                );
                            }
                        }
                        if let (Some(p), 1) = (c.is_private_chat, c.conversation_type)
                            && before.is_private_chat != p
                        {
                            out.extend(st.notify(Notif { content_type: 1701, session_type: 1, send_id: u.clone(), recv_id: c.user_id.clone(),
                                    tips: json!({"recvID": c.user_id, "sendID": u, "isPrivate": p, "conversationID": c.conversation_id}),
                                    is_send_msg: true, reliable: false, extra: vec![] }, &ctx.op));
                        }
                    }
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
        "/conversation/get_sorted_conversation_list" => {
            let v: Value = parse(body)?;
            let user = v
                .get("userID")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            ctx.self_or_admin(&user)?;
            let st = inner.state.lock();
            let convs = conv_list(&st, &user);
            if convs.is_empty() {
                return Err(CodeError::not_found("no conversations"));
            }
            let mut unread_total = 0;
            let mut elems = Vec::new();
            for c in &convs {
                let max = st.user_max_seq(&user, &c.conversation_id);
                let read = st
                    .user_conv(&user, &c.conversation_id)
                    .map(|u| u.has_read_seq)
                    .unwrap_or(0);
                let unread = (max - read).max(0);
                unread_total += unread;
                elems.push(json!({"conversationID": c.conversation_id, "recvMsgOpt": c.recv_msg_opt, "unreadCount": unread, "IsPinned": c.is_pinned, "msgInfo": null}));
            }
            data(
                json!({"conversationTotal": convs.len(), "unreadTotal": unread_total, "conversationElems": list(&elems)}),
            )
        }
        _ => not_found(),
    }
}
