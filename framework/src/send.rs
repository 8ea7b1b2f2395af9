//! Sending messages over the gateway (1003).

use openim_protocol::pb::msg::SendMsgResp;
use openim_protocol::pb::sdkws::MsgData;

use crate::client::{Client, ClientError, SentMessage, Target};
use crate::content::Content;
use crate::gateway::{GatewayHandle, req};
use crate::store::trees;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// How long the IDs of our own sends are remembered (to recognise their echo). Echoes arrive
/// within seconds, and a re-pull after a crash or a long outage within days; a week bounds the
/// tree for a bot that runs for months.
pub(crate) const SENT_ID_RETENTION_MS: i64 = 7 * 24 * 3600 * 1000;

/// Forgets the own-send IDs recorded before `cutoff_ms` (called at every session start, so the
/// tree holds at most the sends of the retention window). Returns how many were removed.
pub(crate) fn prune_sent_ids(tree: &sled::Tree, cutoff_ms: i64) -> Result<usize, sled::Error> {
    let mut stale = sled::Batch::default();
    let mut removed = 0;
    for entry in tree.iter() {
        let (key, value) = entry?;
        // A value that is not 8 bytes comes from no version of ours: drop it too.
        let sent_at = <[u8; 8]>::try_from(value.as_ref())
            .map(i64::from_be_bytes)
            .unwrap_or(i64::MIN);
        if sent_at < cutoff_ms {
            stale.remove(key);
            removed += 1;
        }
    }
    if removed > 0 {
        tree.apply_batch(stale)?;
    }
    Ok(removed)
}

/// A fresh client message ID (32 lowercase hex chars, like the official SDKs).
pub(crate) fn client_msg_id() -> String {
    crate::gateway::random_id()
}

/// Conversation ID of a target, seen from `self_id`.
pub(crate) fn conversation_id(self_id: &str, target: &Target) -> String {
    match target {
        Target::User(peer) => openim_protocol::conversation_id::single(self_id, peer),
        Target::Group(g) => openim_protocol::conversation_id::group(g),
    }
}

pub(crate) fn build_msg(client: &Client, target: &Target, content: &Content, id: &str) -> MsgData {
    let me = client.store().self_info().ok().flatten();
    let (recv_id, group_id, session_type) = match target {
        Target::User(u) => (u.clone(), String::new(), 1),
        Target::Group(g) => (String::new(), g.clone(), 3),
    };
    let at_user_id_list = match content {
        Content::AtText(e) => e.at_user_list.clone(),
        _ => Vec::new(),
    };
    // Typing is online-only: not stored, no conversation update, no unread (SDK behaviour; the
    // server only forces these options when the client sent some).
    let options = if content.content_type().as_i32() == crate::content::content_type::TYPING {
        openim_protocol::constants::options::online_only()
    } else {
        Default::default()
    };
    MsgData {
        options,
        send_id: client.user_id().to_owned(),
        recv_id,
        group_id,
        client_msg_id: id.to_owned(),
        sender_platform_id: client.inner.platform,
        sender_nickname: me.as_ref().map(|m| m.nickname.clone()).unwrap_or_default(),
        sender_face_url: me.map(|m| m.face_url).unwrap_or_default(),
        session_type,
        msg_from: 100,
        content_type: content.content_type().as_i32(),
        content: content.to_bytes(),
        create_time: now_ms(),
        status: 1,
        at_user_id_list,
        ..Default::default()
    }
}

pub(crate) async fn send(
    client: &Client,
    gateway: &GatewayHandle,
    target: Target,
    content: Content,
) -> Result<SentMessage, ClientError> {
    let id = client_msg_id();
    let msg = build_msg(client, &target, &content, &id);
    // Remember the ID before sending, so the server's echo is recognised as our own.
    client
        .store()
        .raw_tree(trees::SENT)?
        .insert(id.as_bytes(), &now_ms().to_be_bytes())
        .map_err(crate::store::StoreError::from)?;
    let resp: SendMsgResp = gateway.call(req::SEND_MSG, &msg).await?;
    if resp.server_msg_id.is_empty() {
        // v3.8.3 answers an empty response when the receiver's options drop the message.
        return Err(ClientError::Gateway {
            req_identifier: req::SEND_MSG,
            code: 1001,
            message: "message was not sent (dropped by the receiver's settings)".into(),
        });
    }
    Ok(SentMessage {
        conversation_id: conversation_id(client.user_id(), &target),
        client_msg_id: id,
        server_msg_id: resp.server_msg_id,
        send_time: resp.send_time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversation_ids_sort_user_ids() {
        assert_eq!(conversation_id("b", &Target::user("a")), "si_a_b");
        assert_eq!(conversation_id("a", &Target::user("b")), "si_a_b");
        assert_eq!(conversation_id("a", &Target::group("g1")), "sg_g1");
    }

    #[test]
    fn old_own_send_ids_are_pruned_and_recent_ones_kept() {
        let store = crate::store::Store::temporary().unwrap();
        let tree = store.raw_tree(trees::SENT).unwrap();
        let now = now_ms();
        tree.insert("old", &(now - SENT_ID_RETENTION_MS - 1).to_be_bytes())
            .unwrap();
        tree.insert("recent", &now.to_be_bytes()).unwrap();
        tree.insert("garbage", b"x".as_slice()).unwrap();
        let removed = prune_sent_ids(&tree, now - SENT_ID_RETENTION_MS).unwrap();
        assert_eq!(removed, 2);
        assert!(tree.get("old").unwrap().is_none());
        assert!(tree.get("garbage").unwrap().is_none());
        assert!(tree.get("recent").unwrap().is_some());
    }

    #[test]
    fn builds_at_text_with_mentions() {
        let c = Client::detached("bot", crate::store::Store::temporary().unwrap());
        let content = Content::at_text("@x hi", vec!["x".into()]);
        let m = build_msg(&c, &Target::group("g"), &content, "id1");
        assert_eq!(m.session_type, 3);
        assert_eq!(m.content_type, 106);
        assert_eq!(m.at_user_id_list, vec!["x".to_owned()]);
        assert_eq!(m.group_id, "g");
    }
}
