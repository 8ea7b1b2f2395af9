//! Notification tips samples shaped exactly as the Go server writes them
//! (golden/tips/tips_samples.json, produced by golden/tips/make_samples.py from an
//! independent transcription of ws-gateway §4.4/§4.5): every sample decodes into its tips
//! type, and re-encoding reproduces the Go bytes exactly (key order, nulls, escapes).

use openim_protocol::content::Content;
use openim_protocol::tips::{self, Tips};
use serde::Deserialize;

#[derive(Deserialize)]
struct Sample {
    #[serde(rename = "contentType")]
    content_type: i32,
    tips: String,
    detail: String,
    content: String,
}

fn samples() -> Vec<Sample> {
    let text = include_str!("../golden/tips/tips_samples.json");
    serde_json::from_str(text).expect("tips_samples.json is valid")
}

#[test]
fn every_sample_decodes_and_reencodes_byte_for_byte() {
    let samples = samples();
    assert!(samples.len() >= 40);
    for s in &samples {
        let parsed = Tips::parse(s.content_type, s.content.as_bytes())
            .unwrap_or_else(|e| panic!("{} ({}): {e}", s.tips, s.content_type));
        assert!(
            !matches!(parsed, Tips::Unknown { .. }),
            "{} decoded as Unknown",
            s.tips
        );
        assert_eq!(parsed.content_type().as_i32(), s.content_type, "{}", s.tips);
        // The Content layer sees the notification element with the same detail.
        match Content::parse(s.content_type, s.content.as_bytes()).unwrap() {
            Content::Notification { elem, .. } => assert_eq!(elem.detail, s.detail),
            other => panic!("{}: {other:?}", s.tips),
        }
        if s.tips.starts_with("FriendApplicationApprovedTips (") {
            // v3.8.3 writes the 1202 notification with the Approved structure: it must still
            // decode as FriendApplicationRejectedTips, but re-encodes with that struct's keys.
            let Tips::FriendApplicationRejected(t) = &parsed else {
                panic!("1202: {parsed:?}")
            };
            assert_eq!(t.handle_msg, "no");
            assert_eq!(t.from_to_user_id.as_ref().unwrap().from_user_id, "alice");
            continue;
        }
        assert_eq!(parsed.to_detail(), s.detail, "{} detail", s.tips);
        assert_eq!(
            String::from_utf8(parsed.to_content()).unwrap(),
            s.content,
            "{} content",
            s.tips
        );
    }
}

#[test]
fn typed_fields_match_the_samples() {
    let samples = samples();
    let get = |ct: i32, name: &str| {
        let s = samples
            .iter()
            .find(|s| s.content_type == ct && s.tips == name)
            .unwrap_or_else(|| panic!("sample {ct} {name}"));
        Tips::parse(ct, s.content.as_bytes()).unwrap()
    };
    let Tips::GroupCreated(t) = get(1501, "GroupCreatedTips") else {
        panic!()
    };
    let g = t.group.unwrap();
    assert_eq!(g.group_name, "Bots <&> Friends");
    assert_eq!(
        (g.member_count, g.group_type, g.create_time),
        (3, 2, 1736841600000)
    );
    assert_eq!(t.member_list.len(), 2);
    assert_eq!(t.member_list[1].user_id, "bot");
    assert_eq!(t.op_user.unwrap().role_level, 100);
    assert_eq!(t.group_member_version_id, "gv1");

    let Tips::RevokeMsg(r) = get(2101, "RevokeMsgTips") else {
        panic!()
    };
    assert_eq!((r.session_type, r.seq), (3, 17));
    assert_eq!(r.conversation_id, "sg_g1");
    let Tips::MessageRevoked(m) = get(2101, "MessageRevokedContent") else {
        panic!()
    };
    assert_eq!((m.revoker_role, m.session_type), (20, 3));

    let Tips::FriendsInfoUpdate(f) = get(1210, "FriendsInfoUpdateTips") else {
        panic!()
    };
    assert_eq!(f.friend_version, u64::MAX);
    assert_eq!(f.friend_ids, ["alice", "bob"]);

    let Tips::HasReadReceipt(h) = get(2200, "MarkAsReadTips") else {
        panic!()
    };
    assert!(h.seqs.is_empty());
    assert_eq!(h.has_read_seq, 12);

    let Tips::GroupMemberMuted(mm) = get(1512, "GroupMemberMutedTips") else {
        panic!()
    };
    assert_eq!(mm.muted_seconds, 3600);
    assert_eq!(mm.muted_user.unwrap().mute_end_time, 1736845207000);

    let Tips::GroupApplicationAccepted(a) = get(1505, "GroupApplicationAcceptedTips") else {
        panic!()
    };
    assert_eq!(a.receiver_as, 1);
    let req = a.request.unwrap();
    assert_eq!(req.user_info.unwrap().face_url, "http://x/a.png?a=1&b=2");
    assert_eq!(req.handle_result, 1);

    let Tips::Business(b) = get(2001, "BusinessNotification") else {
        panic!()
    };
    assert_eq!((b.key.as_str(), b.data.as_str()), ("order", r#"{"id":1}"#));

    assert!(matches!(
        get(1517, "GroupMemberInfoSetTips"),
        Tips::GroupMemberSetToAdmin(_)
    ));
    assert!(matches!(
        get(1518, "GroupMemberInfoSetTips"),
        Tips::GroupMemberSetToOrdinaryUser(_)
    ));
    assert!(matches!(
        get(1209, "UserInfoUpdatedTips"),
        Tips::FriendInfoUpdated(_)
    ));
    assert!(matches!(
        get(1303, "UserInfoUpdatedTips"),
        Tips::UserInfoUpdated(_)
    ));
}

#[test]
fn decode_content_helper_reads_the_double_encoding() {
    let s = samples()
        .into_iter()
        .find(|s| s.content_type == 1504)
        .unwrap();
    let t: openim_protocol::pb::sdkws::MemberQuitTips =
        tips::decode_content(1504, s.content.as_bytes()).unwrap();
    assert_eq!(t.quit_user.unwrap().user_id, "alice");
}
