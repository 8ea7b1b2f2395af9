//! Notification "tips": the structures carried, double-JSON-encoded, in the `detail` of a
//! notification's content (ws-gateway §4.5/§4.6).
//!
//! `MsgData.content` of a notification is `{"detail":"<tips JSON>"}` where the tips JSON is
//! Go `encoding/json` of the generated protobuf struct: every field present, `null` for
//! unset sub-messages and empty lists, proto field names verbatim (`sesstionType`,
//! `appMangerLevel`), HTML characters escaped as `\u003c`... The tips structs are the
//! [`crate::pb::sdkws`] messages, whose serde form reproduces exactly that shape.
//!
//! ```
//! use openim_protocol::pb::sdkws::{MemberQuitTips, GroupInfo};
//! use openim_protocol::tips::{Tips, encode_content};
//!
//! let tips = MemberQuitTips {
//!     group: Some(GroupInfo { group_id: "g1".into(), ..Default::default() }),
//!     ..Default::default()
//! };
//! let content = encode_content(&tips);
//! assert!(content.starts_with(br#"{"detail":"{\"group\":{\"groupID\":\"g1\""#));
//! match Tips::parse(1504, &content).unwrap() {
//!     Tips::MemberQuit(t) => assert_eq!(t.group.unwrap().group_id, "g1"),
//!     other => panic!("unexpected {other:?}"),
//! }
//! ```

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::constants::ContentType;
use crate::content::{FileElem, PictureElem, SoundElem, VideoElem};
use crate::error::{ProtocolError, short_type_name};
use crate::pb::sdkws::{self, NotificationElem};

/// Rewrites JSON text the way Go's `encoding/json` escapes strings: `<`, `>`, `&`, U+2028 and
/// U+2029 become `\u003c`, `\u003e`, `\u0026`, `\u2028`, `\u2029`. These characters can
/// only occur inside JSON strings, so the replacement is safe on the whole text.
pub fn go_html_escape(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Go-style JSON text of a value (serde_json + [`go_html_escape`]).
pub fn to_go_json<T: Serialize + ?Sized>(value: &T) -> String {
    go_html_escape(&serde_json::to_string(value).unwrap_or_default())
}

/// The tips JSON text (`detail`) of a tips value, as the Go server writes it.
pub fn encode_detail<T: Serialize + ?Sized>(tips: &T) -> String {
    to_go_json(tips)
}

/// The full notification content bytes `{"detail":"<tips JSON>"}` for `MsgData.content`.
pub fn encode_content<T: Serialize + ?Sized>(tips: &T) -> Vec<u8> {
    content_from_detail(&encode_detail(tips))
}

/// `{"detail": detail}` as Go writes it.
pub fn content_from_detail(detail: &str) -> Vec<u8> {
    to_go_json(&NotificationElem {
        detail: detail.to_string(),
    })
    .into_bytes()
}

/// Extracts the `detail` string from notification content bytes.
pub fn detail_of(content_type: i32, content: &[u8]) -> Result<String, ProtocolError> {
    let elem: NotificationElem =
        serde_json::from_slice(content).map_err(|source| ProtocolError::Content {
            content_type,
            source,
        })?;
    Ok(elem.detail)
}

/// Decodes the tips structure `T` from notification content bytes (double JSON parse).
pub fn decode_content<T: DeserializeOwned>(
    content_type: i32,
    content: &[u8],
) -> Result<T, ProtocolError> {
    decode_detail(content_type, &detail_of(content_type, content)?)
}

/// Decodes the tips structure `T` from a `detail` string.
pub fn decode_detail<T: DeserializeOwned>(
    content_type: i32,
    detail: &str,
) -> Result<T, ProtocolError> {
    serde_json::from_str(detail).map_err(|source| ProtocolError::Tips {
        content_type,
        tips: short_type_name::<T>(),
        source,
    })
}

/// 2001 business notification detail: `{"key": ..., "data": ...}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BusinessNotificationTips {
    /// Business key.
    #[serde(rename = "key", deserialize_with = "crate::lenient::string_any")]
    pub key: String,
    /// Business data (usually JSON text).
    #[serde(rename = "data", deserialize_with = "crate::lenient::string_any")]
    pub data: String,
}

/// 1400 OA notification detail.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OaNotificationTips {
    /// Notification name.
    #[serde(
        rename = "notificationName",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub notification_name: String,
    /// Notification avatar.
    #[serde(
        rename = "notificationFaceURL",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub notification_face_url: String,
    /// Notification type.
    #[serde(
        rename = "notificationType",
        deserialize_with = "crate::lenient::i32_any"
    )]
    pub notification_type: i32,
    /// Text.
    #[serde(rename = "text", deserialize_with = "crate::lenient::string_any")]
    pub text: String,
    /// Link.
    #[serde(rename = "url", deserialize_with = "crate::lenient::string_any")]
    pub url: String,
    /// Mixed content kind.
    #[serde(rename = "mixType", deserialize_with = "crate::lenient::i32_any")]
    pub mix_type: i32,
    /// Attached picture.
    #[serde(rename = "pictureElem")]
    pub picture_elem: Option<PictureElem>,
    /// Attached sound.
    #[serde(rename = "soundElem")]
    pub sound_elem: Option<SoundElem>,
    /// Attached video.
    #[serde(rename = "videoElem")]
    pub video_elem: Option<VideoElem>,
    /// Attached file.
    #[serde(rename = "fileElem")]
    pub file_elem: Option<FileElem>,
    /// Extension.
    #[serde(rename = "ex", deserialize_with = "crate::lenient::string_any")]
    pub ex: String,
}

macro_rules! tips_enum {
    ( $( $(#[$m:meta])* $variant:ident ( $ty:ty ) = [ $($ct:literal),+ ] ),* $(,)? ) => {
        /// A decoded notification, by content type.
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        pub enum Tips {
            $( $(#[$m])* $variant($ty), )*
            /// 2101 `RevokeMsgTips` (live revoke event).
            RevokeMsg(sdkws::RevokeMsgTips),
            /// 2101 revoked message as rewritten by pulls (`MessageRevokedContent`).
            MessageRevoked(sdkws::MessageRevokedContent),
            /// 1517 member set to admin (`GroupMemberInfoSetTips`).
            GroupMemberSetToAdmin(sdkws::GroupMemberInfoSetTips),
            /// 1518 member set to ordinary user (`GroupMemberInfoSetTips`).
            GroupMemberSetToOrdinaryUser(sdkws::GroupMemberInfoSetTips),
            /// 1209 a friend's profile changed (`UserInfoUpdatedTips`).
            FriendInfoUpdated(sdkws::UserInfoUpdatedTips),
            /// A notification content type without a known tips structure; `detail` kept raw.
            Unknown {
                /// The content type.
                content_type: i32,
                /// The raw `detail` text.
                detail: String,
            },
        }

        impl Tips {
            /// Parses the tips of a notification from its content bytes. A content type
            /// without a known tips structure gives [`Tips::Unknown`].
            pub fn parse(content_type: i32, content: &[u8]) -> Result<Tips, ProtocolError> {
                let detail = detail_of(content_type, content)?;
                Tips::parse_detail(content_type, &detail)
            }

            /// Parses the tips from a `detail` string.
            pub fn parse_detail(content_type: i32, detail: &str) -> Result<Tips, ProtocolError> {
                Ok(match content_type {
                    2101 => {
                        // Live revoke events carry RevokeMsgTips; pulled revoked messages
                        // carry MessageRevokedContent (key `revokerID`).
                        let value: serde_json::Value = decode_detail(content_type, detail)?;
                        if value.get("revokerID").is_some() && value.get("revokerUserID").is_none() {
                            Tips::MessageRevoked(decode_detail(content_type, detail)?)
                        } else {
                            Tips::RevokeMsg(decode_detail(content_type, detail)?)
                        }
                    }
                    1517 => Tips::GroupMemberSetToAdmin(decode_detail(content_type, detail)?),
                    1518 => Tips::GroupMemberSetToOrdinaryUser(decode_detail(content_type, detail)?),
                    1209 => Tips::FriendInfoUpdated(decode_detail(content_type, detail)?),
                    $( $($ct)|+ => Tips::$variant(decode_detail(content_type, detail)?), )*
                    _ => Tips::Unknown { content_type, detail: detail.to_string() },
                })
            }

            /// The `detail` JSON text, as the Go server writes it.
            pub fn to_detail(&self) -> String {
                match self {
                    $( Tips::$variant(t) => encode_detail(t), )*
                    Tips::RevokeMsg(t) => encode_detail(t),
                    Tips::MessageRevoked(t) => encode_detail(t),
                    Tips::GroupMemberSetToAdmin(t) => encode_detail(t),
                    Tips::GroupMemberSetToOrdinaryUser(t) => encode_detail(t),
                    Tips::FriendInfoUpdated(t) => encode_detail(t),
                    Tips::Unknown { detail, .. } => detail.clone(),
                }
            }

            /// The content bytes `{"detail":"..."}` for `MsgData.content`.
            pub fn to_content(&self) -> Vec<u8> {
                content_from_detail(&self.to_detail())
            }

            /// The content type this tips value is sent with.
            pub fn content_type(&self) -> ContentType {
                match self {
                    $( Tips::$variant(_) => ContentType::from_i32(tips_enum!(@first $($ct),+)), )*
                    Tips::RevokeMsg(_) | Tips::MessageRevoked(_) => ContentType::MsgRevokeNotification,
                    Tips::GroupMemberSetToAdmin(_) => ContentType::GroupMemberSetToAdminNotification,
                    Tips::GroupMemberSetToOrdinaryUser(_) => ContentType::GroupMemberSetToOrdinaryUserNotification,
                    Tips::FriendInfoUpdated(_) => ContentType::FriendInfoUpdatedNotification,
                    Tips::Unknown { content_type, .. } => ContentType::from_i32(*content_type),
                }
            }
        }
    };
    (@first $first:literal $(, $rest:literal)*) => { $first };
}

tips_enum! {
    /// 1201 `FriendApplicationApprovedTips`.
    FriendApplicationApproved(sdkws::FriendApplicationApprovedTips) = [1201],
    /// 1202 `FriendApplicationRejectedTips` (v3.8.3 writes the Approved shape; compatible).
    FriendApplicationRejected(sdkws::FriendApplicationRejectedTips) = [1202],
    /// 1203 `FriendApplicationTips`.
    FriendApplication(sdkws::FriendApplicationTips) = [1203],
    /// 1204 `FriendAddedTips`.
    FriendAdded(sdkws::FriendAddedTips) = [1204],
    /// 1205 `FriendDeletedTips`.
    FriendDeleted(sdkws::FriendDeletedTips) = [1205],
    /// 1206 `FriendInfoChangedTips` (remark set).
    FriendRemarkSet(sdkws::FriendInfoChangedTips) = [1206],
    /// 1207 `BlackAddedTips`.
    BlackAdded(sdkws::BlackAddedTips) = [1207],
    /// 1208 `BlackDeletedTips`.
    BlackDeleted(sdkws::BlackDeletedTips) = [1208],
    /// 1210 `FriendsInfoUpdateTips`.
    FriendsInfoUpdate(sdkws::FriendsInfoUpdateTips) = [1210],
    /// 1300 `ConversationUpdateTips`.
    ConversationChange(sdkws::ConversationUpdateTips) = [1300],
    /// 1303 `UserInfoUpdatedTips`.
    UserInfoUpdated(sdkws::UserInfoUpdatedTips) = [1303],
    /// 1304 `UserStatusChangeTips`.
    UserStatusChange(sdkws::UserStatusChangeTips) = [1304],
    /// 1305 `UserCommandAddTips`.
    UserCommandAdd(sdkws::UserCommandAddTips) = [1305],
    /// 1306 `UserCommandDeleteTips`.
    UserCommandDelete(sdkws::UserCommandDeleteTips) = [1306],
    /// 1307 `UserCommandUpdateTips`.
    UserCommandUpdate(sdkws::UserCommandUpdateTips) = [1307],
    /// 1400 OA notification.
    Oa(OaNotificationTips) = [1400],
    /// 1501 `GroupCreatedTips`.
    GroupCreated(sdkws::GroupCreatedTips) = [1501],
    /// 1502 `GroupInfoSetTips`.
    GroupInfoSet(sdkws::GroupInfoSetTips) = [1502],
    /// 1503 `JoinGroupApplicationTips`.
    JoinGroupApplication(sdkws::JoinGroupApplicationTips) = [1503],
    /// 1504 `MemberQuitTips`.
    MemberQuit(sdkws::MemberQuitTips) = [1504],
    /// 1505 `GroupApplicationAcceptedTips`.
    GroupApplicationAccepted(sdkws::GroupApplicationAcceptedTips) = [1505],
    /// 1506 `GroupApplicationRejectedTips`.
    GroupApplicationRejected(sdkws::GroupApplicationRejectedTips) = [1506],
    /// 1507 `GroupOwnerTransferredTips`.
    GroupOwnerTransferred(sdkws::GroupOwnerTransferredTips) = [1507],
    /// 1508 `MemberKickedTips`.
    MemberKicked(sdkws::MemberKickedTips) = [1508],
    /// 1509 `MemberInvitedTips`.
    MemberInvited(sdkws::MemberInvitedTips) = [1509],
    /// 1510 `MemberEnterTips`.
    MemberEnter(sdkws::MemberEnterTips) = [1510],
    /// 1511 `GroupDismissedTips`.
    GroupDismissed(sdkws::GroupDismissedTips) = [1511],
    /// 1512 `GroupMemberMutedTips`.
    GroupMemberMuted(sdkws::GroupMemberMutedTips) = [1512],
    /// 1513 `GroupMemberCancelMutedTips`.
    GroupMemberCancelMuted(sdkws::GroupMemberCancelMutedTips) = [1513],
    /// 1514 `GroupMutedTips`.
    GroupMuted(sdkws::GroupMutedTips) = [1514],
    /// 1515 `GroupCancelMutedTips`.
    GroupCancelMuted(sdkws::GroupCancelMutedTips) = [1515],
    /// 1516 `GroupMemberInfoSetTips`.
    GroupMemberInfoSet(sdkws::GroupMemberInfoSetTips) = [1516],
    /// 1519 `GroupInfoSetAnnouncementTips`.
    GroupInfoSetAnnouncement(sdkws::GroupInfoSetAnnouncementTips) = [1519],
    /// 1520 `GroupInfoSetNameTips`.
    GroupInfoSetName(sdkws::GroupInfoSetNameTips) = [1520],
    /// 1701 `ConversationSetPrivateTips`.
    ConversationPrivateChat(sdkws::ConversationSetPrivateTips) = [1701],
    /// 1702 `ConversationHasReadTips`.
    ConversationUnread(sdkws::ConversationHasReadTips) = [1702],
    /// 1703 `ClearConversationTips`.
    ClearConversation(sdkws::ClearConversationTips) = [1703],
    /// 1704 `ConversationDeleteTips`.
    ConversationDelete(sdkws::ConversationDeleteTips) = [1704],
    /// 2001 business notification.
    Business(BusinessNotificationTips) = [2001],
    /// 2102 `DeleteMsgsTips`.
    DeleteMsgs(sdkws::DeleteMsgsTips) = [2102],
    /// 2200 `MarkAsReadTips`.
    HasReadReceipt(sdkws::MarkAsReadTips) = [2200],
    /// 2300 `StreamMsgTips`.
    StreamMsg(sdkws::StreamMsgTips) = [2300],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerant_reading_of_detail() {
        // Missing keys, [] instead of null, unknown keys: all accepted.
        let detail = r#"{"group":{"groupID":"g1"},"kickedUserList":[],"extraKey":1}"#;
        let Tips::MemberKicked(t) = Tips::parse_detail(1508, detail).unwrap() else {
            panic!()
        };
        assert_eq!(t.group.unwrap().group_id, "g1");
        assert!(t.kicked_user_list.is_empty());
        assert!(t.op_user.is_none());
    }

    #[test]
    fn unset_fields_are_written_as_go_does() {
        let t = sdkws::ConversationUpdateTips::default();
        assert_eq!(
            encode_detail(&t),
            r#"{"userID":"","conversationIDList":null}"#
        );
        let t = sdkws::GroupDismissedTips::default();
        assert_eq!(
            encode_detail(&t),
            r#"{"group":null,"opUser":null,"operationTime":0}"#
        );
    }

    #[test]
    fn go_escaping_in_both_layers() {
        let t = sdkws::UserInfoUpdatedTips {
            user_id: "<a&b>".into(),
        };
        assert_eq!(encode_detail(&t), r#"{"userID":"\u003ca\u0026b\u003e"}"#);
        assert_eq!(
            String::from_utf8(encode_content(&t)).unwrap(),
            r#"{"detail":"{\"userID\":\"\\u003ca\\u0026b\\u003e\"}"}"#
        );
        let back: sdkws::UserInfoUpdatedTips = decode_content(1303, &encode_content(&t)).unwrap();
        assert_eq!(back.user_id, "<a&b>");
    }

    #[test]
    fn errors_name_what_failed() {
        let err = Tips::parse(1501, b"not json").unwrap_err();
        assert!(matches!(
            err,
            ProtocolError::Content {
                content_type: 1501,
                ..
            }
        ));
        let err = Tips::parse(1501, br#"{"detail":"{\"group\":5}"}"#).unwrap_err();
        match err {
            ProtocolError::Tips {
                content_type, tips, ..
            } => {
                assert_eq!(content_type, 1501);
                assert_eq!(tips, "GroupCreatedTips");
            }
            other => panic!("{other:?}"),
        }
        let err = Tips::parse(2101, br#"{"detail":"[1,2"}"#).unwrap_err();
        assert!(matches!(
            err,
            ProtocolError::Tips {
                content_type: 2101,
                ..
            }
        ));
    }

    #[test]
    fn unknown_notification_types_are_kept() {
        let content = content_from_detail(r#"{"x":1}"#);
        let t = Tips::parse(1651, &content).unwrap();
        assert_eq!(
            t,
            Tips::Unknown {
                content_type: 1651,
                detail: r#"{"x":1}"#.into()
            }
        );
        assert_eq!(t.to_content(), content);
        assert_eq!(t.content_type().as_i32(), 1651);
    }
}
