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
