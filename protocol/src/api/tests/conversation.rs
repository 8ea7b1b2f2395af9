use super::{keys, rejects, round_trip};
use crate::api::conversation::*;

const CONVERSATION: &str = r#"{"ownerUserID":"a","conversationID":"si_a_b","recvMsgOpt":0,
    "conversationType":1,"userID":"b","groupID":"","isPinned":false,"attachedInfo":"",
    "isPrivateChat":false,"groupAtType":0,"ex":"","burnDuration":0,"minSeq":0,"maxSeq":0,
    "msgDestructTime":604800,"latestMsgDestructTime":-62135596800000,"isMsgDestruct":false}"#;

#[test]
fn conversation_schema() {
    let resp: ConversationsResp = round_trip(&format!(r#"{{"conversations":[{CONVERSATION}]}}"#));
    let conv = &resp.conversations[0];
    assert_eq!(conv.latest_msg_destruct_time, -62_135_596_800_000);
    assert_eq!(keys(&serde_json::to_value(conv).unwrap()).len(), 17);
    round_trip::<GetConversationResp>(&format!(r#"{{"conversation":{CONVERSATION}}}"#));
    round_trip::<GetOwnerConversationResp>(&format!(
        r#"{{"total":1,"conversations":[{CONVERSATION}]}}"#
    ));
}

#[test]
fn sorted_list_uses_capitalised_keys() {
    let resp: GetSortedConversationListResp = round_trip(
        r#"{"conversationTotal":1,"unreadTotal":2,"conversationElems":[{"conversationID":"si_a_b",
            "recvMsgOpt":0,"unreadCount":2,"IsPinned":true,"msgInfo":{"serverMsgID":"s",
            "clientMsgID":"c","sessionType":1,"sendID":"b","recvID":"a","senderName":"B",
            "faceURL":"","groupID":"","groupName":"","groupFaceURL":"","groupType":0,
            "groupMemberCount":0,"LatestMsgRecvTime":1700000000000,"msgFrom":100,
            "contentType":101,"content":"{\"content\":\"hi\"}","ex":""}},
            {"conversationID":"si_a_c","recvMsgOpt":0,"unreadCount":0,"IsPinned":false,
            "msgInfo":null}]}"#,
    );
    assert!(resp.conversation_elems[0].is_pinned);
    assert_eq!(
        resp.conversation_elems[0]
            .msg_info
            .as_ref()
            .unwrap()
            .latest_msg_recv_time,
        1_700_000_000_000
    );
    assert!(resp.conversation_elems[1].msg_info.is_none());
}

#[test]
fn set_conversations_as_the_js_client_sends_it() {
    // JS: only the changed wrapper fields are present.
    let req: SetConversationsReq = serde_json::from_str(
        r#"{"userIDs":["a"],"conversation":{"conversationID":"si_a_b","conversationType":1,
            "userID":"b","groupID":"","isPinned":true}}"#,
    )
    .unwrap();
    let conv = req.conversation.unwrap();
    assert_eq!(conv.is_pinned, Some(true));
    assert_eq!(conv.recv_msg_opt, None);
    assert_eq!(conv.ex, None);
    round_trip::<SetConversationsReq>(
        r#"{"userIDs":["a"],"conversation":{"conversationID":"sg_g1","conversationType":3,
            "userID":"","groupID":"g1","recvMsgOpt":2,"isPinned":null,"attachedInfo":null,
            "isPrivateChat":null,"ex":"x","burnDuration":null,"minSeq":null,"maxSeq":null,
            "groupAtType":0,"msgDestructTime":null,"isMsgDestruct":null}}"#,
    );
}

#[test]
fn version_sync_routes() {
    let resp: GetIncrementalConversationsResp = round_trip(&format!(
        r#"{{"version":4,"versionID":"6561f0a2b3c4d5e6f7a8b9c0","full":false,"delete":null,
            "insert":null,"update":[{CONVERSATION}]}}"#
    ));
    assert_eq!(resp.update[0].conversation_id, "si_a_b");
    round_trip::<GetFullConversationIdsResp>(
        r#"{"version":4,"versionID":"v","equal":false,"conversationIDs":["si_a_b"]}"#,
    );
    round_trip::<ConversationIdsResp>(r#"{"conversationIDs":null}"#);
    round_trip::<GetSortedConversationListReq>(
        r#"{"userID":"a","conversationIDs":[],"pagination":{"pageNumber":1,"showNumber":20}}"#,
    );
}

#[test]
fn wrong_types_are_errors() {
    rejects::<ConversationsResp>(r#"{"conversations":[{"isPinned":"true"}]}"#);
    rejects::<ConversationsResp>(r#"{"conversations":[{"maxSeq":"1"}]}"#);
    rejects::<SetConversationsReq>(r#"{"conversation":{"recvMsgOpt":{"value":1}}}"#);
    rejects::<GetSortedConversationListResp>(r#"{"conversationElems":[{"IsPinned":0}]}"#);
}
