//! Conversions between the JSON schema types of [`super::common`] and the protobuf messages of
//! [`crate::pb`] (same fields, same names), so a server can store one and serve the other.

use super::common::{
    Base64Bytes, BlackInfo, Conversation, FriendInfo, FriendInfoOnly, FriendRequest, GroupInfo,
    GroupMemberFullInfo, GroupRequest, MsgData, OfflinePushInfo, Pagination, PublicUserInfo,
    PullMsgs, UserInfo,
};
use super::msg::{
    GetConversationsHasReadAndMaxSeqReq, GetConversationsHasReadAndMaxSeqResp, NewestSeqResp,
    PullMsgBySeqReq, PullMsgBySeqResp, SeqRange, Seqs,
};
use crate::pb;

/// `From` in both directions: `plain` fields are moved, `opt` fields are `Option`s of convertible
/// types, `vec` fields lists and `map` fields maps of convertible values, `into` fields convert
/// with `Into`.
macro_rules! convert {
    ($api:ident <=> $pb:path {
        $($plain:ident),* $(,)?
    } $(opt { $($opt:ident),* $(,)? })? $(vec { $($vec:ident),* $(,)? })?
      $(map { $($map:ident),* $(,)? })? $(into { $($into:ident),* $(,)? })?) => {
        impl From<$pb> for $api {
            fn from(value: $pb) -> Self {
                Self {
                    $($plain: value.$plain,)*
                    $($($opt: value.$opt.map(Into::into),)*)?
                    $($($vec: value.$vec.into_iter().map(Into::into).collect(),)*)?
                    $($($map: value.$map.into_iter().map(|(k, v)| (k, v.into())).collect(),)*)?
                    $($($into: value.$into.into(),)*)?
                }
            }
        }

        impl From<$api> for $pb {
            fn from(value: $api) -> Self {
                Self {
                    $($plain: value.$plain,)*
                    $($($opt: value.$opt.map(Into::into),)*)?
                    $($($vec: value.$vec.into_iter().map(Into::into).collect(),)*)?
                    $($($map: value.$map.into_iter().map(|(k, v)| (k, v.into())).collect(),)*)?
                    $($($into: value.$into.into(),)*)?
                }
            }
        }
    };
}

impl From<Base64Bytes> for Vec<u8> {
    fn from(bytes: Base64Bytes) -> Self {
        bytes.0
    }
}

convert!(Pagination <=> pb::sdkws::RequestPagination { page_number, show_number });

convert!(UserInfo <=> pb::sdkws::UserInfo {
    user_id, nickname, face_url, ex, create_time, app_manger_level, global_recv_msg_opt,
});

convert!(PublicUserInfo <=> pb::sdkws::PublicUserInfo { user_id, nickname, face_url, ex });

convert!(FriendInfo <=> pb::sdkws::FriendInfo {
    owner_user_id, remark, create_time, add_source, operator_user_id, ex, is_pinned,
} opt { friend_user });

convert!(FriendInfoOnly <=> pb::relation::FriendInfoOnly {
    owner_user_id, friend_user_id, remark, create_time, add_source, operator_user_id, ex,
    is_pinned,
});

convert!(BlackInfo <=> pb::sdkws::BlackInfo {
    owner_user_id, create_time, add_source, operator_user_id, ex,
} opt { black_user_info });

convert!(FriendRequest <=> pb::sdkws::FriendRequest {
    from_user_id, from_nickname, from_face_url, to_user_id, to_nickname, to_face_url,
    handle_result, req_msg, create_time, handler_user_id, handle_msg, handle_time, ex,
});

convert!(GroupInfo <=> pb::sdkws::GroupInfo {
    group_id, group_name, notification, introduction, face_url, owner_user_id, create_time,
    member_count, ex, status, creator_user_id, group_type, need_verification, look_member_info,
    apply_member_friend, notification_update_time, notification_user_id,
});

convert!(GroupMemberFullInfo <=> pb::sdkws::GroupMemberFullInfo {
    group_id, user_id, role_level, join_time, nickname, face_url, app_manger_level, join_source,
    operator_user_id, ex, mute_end_time, inviter_user_id,
});

convert!(GroupRequest <=> pb::sdkws::GroupRequest {
    handle_result, req_msg, handle_msg, req_time, handle_user_id, handle_time, ex, join_source,
    inviter_user_id,
} opt { user_info, group_info });

convert!(Conversation <=> pb::conversation::Conversation {
    owner_user_id, conversation_id, recv_msg_opt, conversation_type, user_id, group_id, is_pinned,
    attached_info, is_private_chat, group_at_type, ex, burn_duration, min_seq, max_seq,
    msg_destruct_time, latest_msg_destruct_time, is_msg_destruct,
});

convert!(OfflinePushInfo <=> pb::sdkws::OfflinePushInfo {
    title, desc, ex, ios_push_sound, ios_badge_count, signal_info,
});

convert!(MsgData <=> pb::sdkws::MsgData {
    send_id, recv_id, group_id, client_msg_id, server_msg_id, sender_platform_id, sender_nickname,
    sender_face_url, session_type, msg_from, content_type, seq, send_time, create_time, status,
    is_read, options, at_user_id_list, attached_info, ex,
} opt { offline_push_info } into { content });

convert!(PullMsgs <=> pb::sdkws::PullMsgs { is_end, end_seq } vec { msgs });

convert!(SeqRange <=> pb::sdkws::SeqRange { conversation_id, begin, end, num });

convert!(PullMsgBySeqReq <=> pb::sdkws::PullMessageBySeqsReq { user_id, order } vec { seq_ranges });

convert!(PullMsgBySeqResp <=> pb::sdkws::PullMessageBySeqsResp {} map { msgs, notification_msgs });

convert!(NewestSeqResp <=> pb::sdkws::GetMaxSeqResp { max_seqs, min_seqs });

convert!(Seqs <=> pb::msg::Seqs { max_seq, has_read_seq, max_seq_time });

convert!(GetConversationsHasReadAndMaxSeqReq <=> pb::msg::GetConversationsHasReadAndMaxSeqReq {
    user_id, conversation_ids, return_pinned,
});

convert!(GetConversationsHasReadAndMaxSeqResp <=> pb::msg::GetConversationsHasReadAndMaxSeqResp {
    pinned_conversation_ids,
} map { seqs });
