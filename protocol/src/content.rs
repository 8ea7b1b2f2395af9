//! Typed message content: the JSON element carried in `MsgData.content`, chosen by
//! `contentType` (ws-gateway §9, sdk-events §3.7/§4.1).
//!
//! [`Content::parse`] never fails on an unknown content type (it is kept raw in
//! [`Content::Unknown`]); a known content type whose JSON does not match gives a typed
//! [`ProtocolError::Content`]. Serialisation follows the Go SDK: keys marked "omit" are left
//! out when empty, the others are always written. Reading is tolerant (missing keys,
//! `null`, numbers written as strings or floats).
//!
//! ```
//! use openim_protocol::content::Content;
//! use openim_protocol::constants::ContentType;
//!
//! let hello = Content::text("hello");
//! assert_eq!(hello.content_type(), ContentType::Text);
//! assert_eq!(hello.to_bytes(), br#"{"content":"hello"}"#);
//! let back = Content::parse(101, br#"{"content":"hello"}"#).unwrap();
//! assert_eq!(back.as_text(), Some("hello"));
//! // Unknown content types are kept, never an error:
//! assert!(matches!(Content::parse(777, b"\x00"), Ok(Content::Unknown { content_type: 777, .. })));
//! ```

use serde::{Deserialize, Serialize};

use crate::constants::ContentType;
use crate::error::ProtocolError;
use crate::pb::sdkws::{MsgData, NotificationElem};

/// 101 `TextElem`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TextElem {
    /// The text.
    #[serde(rename = "content", deserialize_with = "crate::lenient::string_any")]
    pub content: String,
}

/// One picture variant (`PictureBaseInfo`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PictureBaseInfo {
    /// Upload UUID (omit when empty).
    #[serde(
        rename = "uuid",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub uuid: String,
    /// MIME type (omit when empty).
    #[serde(
        rename = "type",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub kind: String,
    /// Size in bytes.
    #[serde(rename = "size", deserialize_with = "crate::lenient::i64_any")]
    pub size: i64,
    /// Width in pixels.
    #[serde(rename = "width", deserialize_with = "crate::lenient::i32_any")]
    pub width: i32,
    /// Height in pixels.
    #[serde(rename = "height", deserialize_with = "crate::lenient::i32_any")]
    pub height: i32,
    /// URL (omit when empty).
    #[serde(
        rename = "url",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub url: String,
}

/// 102 `PictureElem`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PictureElem {
    /// Local source path (omit when empty).
    #[serde(
        rename = "sourcePath",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub source_path: String,
    /// Original picture.
    #[serde(rename = "sourcePicture")]
    pub source_picture: Option<PictureBaseInfo>,
    /// Large picture.
    #[serde(rename = "bigPicture")]
    pub big_picture: Option<PictureBaseInfo>,
    /// Thumbnail (omit when absent).
    #[serde(rename = "snapshotPicture", skip_serializing_if = "Option::is_none")]
    pub snapshot_picture: Option<PictureBaseInfo>,
}

/// 103 `SoundElem`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SoundElem {
    /// Upload UUID (omit when empty).
    #[serde(
        rename = "uuid",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub uuid: String,
    /// Local path (omit when empty).
    #[serde(
        rename = "soundPath",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub sound_path: String,
    /// URL (omit when empty).
    #[serde(
        rename = "sourceUrl",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub source_url: String,
    /// Size in bytes.
    #[serde(rename = "dataSize", deserialize_with = "crate::lenient::i64_any")]
    pub data_size: i64,
    /// Duration in seconds.
    #[serde(rename = "duration", deserialize_with = "crate::lenient::i64_any")]
    pub duration: i64,
    /// Format (omit when empty).
    #[serde(
        rename = "soundType",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub sound_type: String,
}

/// 104 `VideoElem`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VideoElem {
    /// Local path (omit when empty).
    #[serde(
        rename = "videoPath",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub video_path: String,
    /// Upload UUID (omit when empty).
    #[serde(
        rename = "videoUUID",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub video_uuid: String,
    /// URL (omit when empty).
    #[serde(
        rename = "videoUrl",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub video_url: String,
    /// Format (omit when empty).
    #[serde(
        rename = "videoType",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub video_type: String,
    /// Size in bytes.
    #[serde(rename = "videoSize", deserialize_with = "crate::lenient::i64_any")]
    pub video_size: i64,
    /// Duration in seconds.
    #[serde(rename = "duration", deserialize_with = "crate::lenient::i64_any")]
    pub duration: i64,
    /// Snapshot local path (omit when empty).
    #[serde(
        rename = "snapshotPath",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub snapshot_path: String,
    /// Snapshot UUID (omit when empty).
    #[serde(
        rename = "snapshotUUID",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub snapshot_uuid: String,
    /// Snapshot size in bytes.
    #[serde(rename = "snapshotSize", deserialize_with = "crate::lenient::i64_any")]
    pub snapshot_size: i64,
    /// Snapshot URL (omit when empty).
    #[serde(
        rename = "snapshotUrl",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub snapshot_url: String,
    /// Snapshot width.
    #[serde(rename = "snapshotWidth", deserialize_with = "crate::lenient::i32_any")]
    pub snapshot_width: i32,
    /// Snapshot height.
    #[serde(
        rename = "snapshotHeight",
        deserialize_with = "crate::lenient::i32_any"
    )]
    pub snapshot_height: i32,
    /// Snapshot format (omit when empty).
    #[serde(
        rename = "snapshotType",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub snapshot_type: String,
}

/// 105 `FileElem`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FileElem {
    /// Local path (omit when empty).
    #[serde(
        rename = "filePath",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub file_path: String,
    /// Upload UUID (omit when empty).
    #[serde(
        rename = "uuid",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub uuid: String,
    /// URL (omit when empty).
    #[serde(
        rename = "sourceUrl",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub source_url: String,
    /// File name (omit when empty).
    #[serde(
        rename = "fileName",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub file_name: String,
    /// Size in bytes.
    #[serde(rename = "fileSize", deserialize_with = "crate::lenient::i64_any")]
    pub file_size: i64,
    /// Type (omit when empty).
    #[serde(
        rename = "fileType",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub file_type: String,
}

/// One mentioned user inside an `AtTextElem`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AtInfo {
    /// Mentioned user (omit when empty).
    #[serde(
        rename = "atUserID",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub at_user_id: String,
    /// Their group nickname (omit when empty).
    #[serde(
        rename = "groupNickname",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub group_nickname: String,
}

/// 106 `AtTextElem`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AtTextElem {
    /// The text (omit when empty).
    #[serde(
        rename = "text",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub text: String,
    /// Mentioned user IDs; `AtAllTag` = everyone (omit when empty).
    #[serde(
        rename = "atUserList",
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::lenient::vec_any"
    )]
    pub at_user_list: Vec<String>,
    /// Mentioned users with nicknames (omit when empty).
    #[serde(
        rename = "atUsersInfo",
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::lenient::vec_any"
    )]
    pub at_users_info: Vec<AtInfo>,
    /// Quoted message (omit when absent).
    #[serde(rename = "quoteMessage", skip_serializing_if = "Option::is_none")]
    pub quote_message: Option<Box<MessageObject>>,
    /// Whether the receiver is mentioned (whatever the sender wrote; normally false).
    #[serde(rename = "isAtSelf", deserialize_with = "crate::lenient::bool_any")]
    pub is_at_self: bool,
}

/// A text entity (`MessageEntity`) of advanced text.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MessageEntity {
    /// Entity type (omit when empty).
    #[serde(
        rename = "type",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub kind: String,
    /// Offset.
    #[serde(rename = "offset", deserialize_with = "crate::lenient::i32_any")]
    pub offset: i32,
    /// Length.
    #[serde(rename = "length", deserialize_with = "crate::lenient::i32_any")]
    pub length: i32,
    /// URL (omit when empty).
    #[serde(
        rename = "url",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub url: String,
    /// Extension (omit when empty).
    #[serde(
        rename = "ex",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub ex: String,
}

/// 107 `MergeElem` (forwarded bundle).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MergeElem {
    /// Title (omit when empty).
    #[serde(
        rename = "title",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub title: String,
    /// Summary lines (omit when empty).
    #[serde(
        rename = "abstractList",
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::lenient::vec_any"
    )]
    pub abstract_list: Vec<String>,
    /// The forwarded messages (omit when empty).
    #[serde(
        rename = "multiMessage",
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::lenient::vec_any"
    )]
    pub multi_message: Vec<MessageObject>,
    /// Entities (omit when empty).
    #[serde(
        rename = "messageEntityList",
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::lenient::vec_any"
    )]
    pub message_entity_list: Vec<MessageEntity>,
}

/// 108 `CardElem` (user card).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CardElem {
    /// User ID.
    #[serde(rename = "userID", deserialize_with = "crate::lenient::string_any")]
    pub user_id: String,
    /// Nickname.
    #[serde(rename = "nickname", deserialize_with = "crate::lenient::string_any")]
    pub nickname: String,
    /// Avatar URL.
    #[serde(rename = "faceURL", deserialize_with = "crate::lenient::string_any")]
    pub face_url: String,
    /// Extension.
    #[serde(rename = "ex", deserialize_with = "crate::lenient::string_any")]
    pub ex: String,
}

/// 109 `LocationElem`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LocationElem {
    /// Description (omit when empty).
    #[serde(
        rename = "description",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub description: String,
    /// Longitude.
    #[serde(rename = "longitude", deserialize_with = "crate::lenient::f64_any")]
    pub longitude: f64,
    /// Latitude.
    #[serde(rename = "latitude", deserialize_with = "crate::lenient::f64_any")]
    pub latitude: f64,
}

/// 110 / 119 / 120 `CustomElem`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomElem {
    /// Payload, usually itself JSON (omit when empty).
    #[serde(
        rename = "data",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub data: String,
    /// Description (omit when empty).
    #[serde(
        rename = "description",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub description: String,
    /// Extension (omit when empty).
    #[serde(
        rename = "extension",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub extension: String,
}

/// 113 `TypingElem`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TypingElem {
    /// `"yes"` / `"no"` or free text (omit when empty).
    #[serde(
        rename = "msgTips",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub msg_tips: String,
}

/// 114 `QuoteElem` (reply).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QuoteElem {
    /// Reply text (omit when empty).
    #[serde(
        rename = "text",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub text: String,
    /// The quoted message (omit when absent).
    #[serde(rename = "quoteMessage", skip_serializing_if = "Option::is_none")]
    pub quote_message: Option<Box<MessageObject>>,
    /// Entities (omit when empty).
    #[serde(
        rename = "messageEntityList",
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::lenient::vec_any"
    )]
    pub message_entity_list: Vec<MessageEntity>,
}

/// 115 `FaceElem` (sticker).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaceElem {
    /// Sticker index.
    #[serde(rename = "index", deserialize_with = "crate::lenient::i64_any")]
    pub index: i64,
    /// Sticker data (omit when empty).
    #[serde(
        rename = "data",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub data: String,
}

/// 117 `AdvancedTextElem`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdvancedTextElem {
    /// Text (omit when empty).
    #[serde(
        rename = "text",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub text: String,
    /// Entities (omit when empty).
    #[serde(
        rename = "messageEntityList",
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::lenient::vec_any"
    )]
    pub message_entity_list: Vec<MessageEntity>,
}

/// 118 `MarkdownTextElem` (protocol 0.0.73+, SDK main).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MarkdownTextElem {
    /// Markdown source.
    #[serde(rename = "content", deserialize_with = "crate::lenient::string_any")]
    pub content: String,
}

/// The "message object" embedded in quotes, merges and @-quotes (the SDK's `MsgStruct`, not
/// the protobuf `MsgData`). Known scalar keys are typed; everything else (the element key
/// such as `textElem`, `offlinePush`, `attachedInfoElem`, ...) is preserved in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MessageObject {
    /// Client message ID.
    #[serde(
        rename = "clientMsgID",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub client_msg_id: String,
    /// Server message ID.
    #[serde(
        rename = "serverMsgID",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub server_msg_id: String,
    /// Creation time, ms.
    #[serde(rename = "createTime", deserialize_with = "crate::lenient::i64_any")]
    pub create_time: i64,
    /// Send time, ms.
    #[serde(rename = "sendTime", deserialize_with = "crate::lenient::i64_any")]
    pub send_time: i64,
    /// Session type.
    #[serde(rename = "sessionType", deserialize_with = "crate::lenient::i32_any")]
    pub session_type: i32,
    /// Sender.
    #[serde(rename = "sendID", deserialize_with = "crate::lenient::string_any")]
    pub send_id: String,
    /// Receiver.
    #[serde(rename = "recvID", deserialize_with = "crate::lenient::string_any")]
    pub recv_id: String,
    /// 100 user / 200 system.
    #[serde(rename = "msgFrom", deserialize_with = "crate::lenient::i32_any")]
    pub msg_from: i32,
    /// Content type.
    #[serde(rename = "contentType", deserialize_with = "crate::lenient::i32_any")]
    pub content_type: i32,
    /// Sender platform.
    #[serde(
        rename = "senderPlatformID",
        deserialize_with = "crate::lenient::i32_any"
    )]
    pub sender_platform_id: i32,
    /// Sender nickname.
    #[serde(
        rename = "senderNickname",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub sender_nickname: String,
    /// Sender avatar (note the spelling `senderFaceUrl`).
    #[serde(
        rename = "senderFaceUrl",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub sender_face_url: String,
    /// Group ID.
    #[serde(rename = "groupID", deserialize_with = "crate::lenient::string_any")]
    pub group_id: String,
    /// Raw content (omit when empty; the SDK clears it after parsing).
    #[serde(
        rename = "content",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string_any"
    )]
    pub content: String,
    /// Seq.
    #[serde(rename = "seq", deserialize_with = "crate::lenient::i64_any")]
    pub seq: i64,
    /// Read flag.
    #[serde(rename = "isRead", deserialize_with = "crate::lenient::bool_any")]
    pub is_read: bool,
    /// Status.
    #[serde(rename = "status", deserialize_with = "crate::lenient::i32_any")]
    pub status: i32,
    /// Other keys (element, `offlinePush`, `attachedInfo`, `ex`, ...), kept as received.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl MessageObject {
    /// Builds the message object of a received/sent `MsgData`, with its element under the
    /// element key (`textElem`, ...), as the SDKs embed it in quotes.
    pub fn from_msg_data(msg: &MsgData) -> Self {
        let mut obj = MessageObject {
            client_msg_id: msg.client_msg_id.clone(),
            server_msg_id: msg.server_msg_id.clone(),
            create_time: msg.create_time,
            send_time: msg.send_time,
            session_type: msg.session_type,
            send_id: msg.send_id.clone(),
            recv_id: msg.recv_id.clone(),
            msg_from: msg.msg_from,
            content_type: msg.content_type,
            sender_platform_id: msg.sender_platform_id,
            sender_nickname: msg.sender_nickname.clone(),
            sender_face_url: msg.sender_face_url.clone(),
            group_id: msg.group_id.clone(),
            content: String::new(),
            seq: msg.seq,
            is_read: msg.is_read,
            status: msg.status,
            extra: serde_json::Map::new(),
        };
        if let (Some(key), Ok(value)) = (
            element_key(msg.content_type),
            serde_json::from_slice::<serde_json::Value>(&msg.content),
        ) {
            obj.extra.insert(key.to_string(), value);
        }
        if !msg.ex.is_empty() {
            obj.extra.insert("ex".into(), msg.ex.clone().into());
        }
        obj
    }

    /// The typed element of this object: from its element key, or from `content` when the
    /// key is absent. `None` when neither is present.
    pub fn element(&self) -> Option<Result<Content, ProtocolError>> {
        if let Some(value) = element_key(self.content_type).and_then(|k| self.extra.get(k)) {
            let bytes = serde_json::to_vec(value).unwrap_or_default();
            return Some(Content::parse(self.content_type, &bytes));
        }
        if self.content.is_empty() {
            None
        } else {
            Some(Content::parse(self.content_type, self.content.as_bytes()))
        }
    }
}

/// The `MsgStruct` key holding the element of a content type (`textElem`, ...).
pub fn element_key(content_type: i32) -> Option<&'static str> {
    let ct = ContentType::from_i32(content_type);
    Some(match ct {
        ContentType::Text => "textElem",
        ContentType::Picture => "pictureElem",
        ContentType::Sound => "soundElem",
        ContentType::Video => "videoElem",
        ContentType::File => "fileElem",
        ContentType::AtText => "atTextElem",
        ContentType::Merger => "mergeElem",
        ContentType::Card => "cardElem",
        ContentType::Location => "locationElem",
        ContentType::Custom
        | ContentType::CustomNotTriggerConversation
        | ContentType::CustomOnlineOnly => "customElem",
        ContentType::Typing => "typingElem",
        ContentType::Quote => "quoteElem",
        ContentType::Face => "faceElem",
        ContentType::AdvancedText => "advancedTextElem",
        ContentType::MarkdownText => "markdownTextElem",
        _ if ct.is_notification() => "notificationElem",
        _ => return None,
    })
}

/// A message's typed content.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Content {
    /// 101 text.
    Text(TextElem),
    /// 102 picture.
    Picture(PictureElem),
    /// 103 voice.
    Sound(SoundElem),
    /// 104 video.
    Video(VideoElem),
    /// 105 file.
    File(FileElem),
    /// 106 text with @-mentions.
    AtText(AtTextElem),
    /// 107 forwarded bundle.
    Merge(MergeElem),
    /// 108 user card.
    Card(CardElem),
    /// 109 location.
    Location(LocationElem),
    /// 110 custom, 119 custom-not-trigger-conversation, 120 custom online-only.
    Custom {
        /// 110, 119 or 120.
        content_type: ContentType,
        /// The element.
        elem: CustomElem,
    },
    /// 113 typing.
    Typing(TypingElem),
    /// 114 quote / reply.
    Quote(QuoteElem),
    /// 115 face / sticker.
    Face(FaceElem),
    /// 117 advanced text.
    AdvancedText(AdvancedTextElem),
    /// 118 markdown text.
    MarkdownText(MarkdownTextElem),
    /// A notification (1000..=5000): `{"detail": "<tips JSON>"}`; parse the detail with
    /// [`crate::tips::Tips::parse`].
    Notification {
        /// The content type.
        content_type: ContentType,
        /// The element (its `detail` is the tips JSON text).
        elem: NotificationElem,
    },
    /// Any other content type (legacy 111/121/122/123/200–203, future types), kept raw.
    Unknown {
        /// The content type.
        content_type: i32,
        /// The raw `content` bytes.
        raw: Vec<u8>,
    },
}

fn parse_json<T: serde::de::DeserializeOwned>(
    content_type: i32,
    bytes: &[u8],
) -> Result<T, ProtocolError> {
    serde_json::from_slice(bytes).map_err(|source| ProtocolError::Content {
        content_type,
        source,
    })
}

/// What a text element written by a client starts with (see [`plain_text`]).
const PLAIN_TEXT_PREFIX: &[u8] = br#"{"content":""#;

/// The text of a text element written exactly `{"content":"…"}` with nothing to unescape
/// (what clients send), read without the JSON machinery; `None` for any other shape, which
/// then goes through [`parse_json`] (the result is the same either way).
fn plain_text(bytes: &[u8]) -> Option<&str> {
    let text = bytes
        .strip_prefix(PLAIN_TEXT_PREFIX)?
        .strip_suffix(br#""}"#)?;
    // A quote or backslash needs the JSON reader; control characters are invalid JSON.
    if text.iter().any(|&b| b == b'"' || b == b'\\' || b < 0x20) {
        return None;
    }
    std::str::from_utf8(text).ok()
}

impl Content {
    /// Parses `MsgData.content` for `content_type`. Unknown content types are kept raw;
    /// a known type with JSON that does not match its element is a [`ProtocolError::Content`].
    pub fn parse(content_type: i32, bytes: &[u8]) -> Result<Content, ProtocolError> {
        let ct = ContentType::from_i32(content_type);
        Ok(match ct {
            ContentType::Text => Content::Text(match plain_text(bytes) {
                Some(content) => TextElem {
                    content: content.to_owned(),
                },
                None => parse_json(content_type, bytes)?,
            }),
            ContentType::Picture => Content::Picture(parse_json(content_type, bytes)?),
            ContentType::Sound => Content::Sound(parse_json(content_type, bytes)?),
            ContentType::Video => Content::Video(parse_json(content_type, bytes)?),
            ContentType::File => Content::File(parse_json(content_type, bytes)?),
            ContentType::AtText => Content::AtText(parse_json(content_type, bytes)?),
            ContentType::Merger => Content::Merge(parse_json(content_type, bytes)?),
            ContentType::Card => Content::Card(parse_json(content_type, bytes)?),
            ContentType::Location => Content::Location(parse_json(content_type, bytes)?),
            ContentType::Custom
            | ContentType::CustomNotTriggerConversation
            | ContentType::CustomOnlineOnly => Content::Custom {
                content_type: ct,
                elem: parse_json(content_type, bytes)?,
            },
            ContentType::Typing => Content::Typing(parse_json(content_type, bytes)?),
            ContentType::Quote => Content::Quote(parse_json(content_type, bytes)?),
            ContentType::Face => Content::Face(parse_json(content_type, bytes)?),
            ContentType::AdvancedText => Content::AdvancedText(parse_json(content_type, bytes)?),
            ContentType::MarkdownText => Content::MarkdownText(parse_json(content_type, bytes)?),
            _ if ct.is_notification() => Content::Notification {
                content_type: ct,
                elem: parse_json(content_type, bytes)?,
            },
            _ => Content::Unknown {
                content_type,
                raw: bytes.to_vec(),
            },
        })
    }

    /// [`Content::parse`] of bytes it consumes (e.g. `MsgData.content` taken out of a received
    /// message): a plain text element becomes its string in the same allocation (the text is
    /// moved to the front of the buffer), so the most common message costs no allocation here
    /// and no free of the buffer it came in. The result is the same as [`Content::parse`]'s; on
    /// error the bytes come back beside the error (e.g. to keep them as raw content).
    pub fn parse_vec(
        content_type: i32,
        mut bytes: Vec<u8>,
    ) -> Result<Content, (ProtocolError, Vec<u8>)> {
        if matches!(ContentType::from_i32(content_type), ContentType::Text)
            && let Some(len) = plain_text(&bytes).map(str::len)
        {
            let start = PLAIN_TEXT_PREFIX.len();
            bytes.copy_within(start..start + len, 0);
            bytes.truncate(len);
            // Checked by `plain_text`; the lossy copy is never taken.
            let content = String::from_utf8(bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
            return Ok(Content::Text(TextElem { content }));
        }
        match Content::parse(content_type, &bytes) {
            Ok(Content::Unknown { content_type, .. }) => Ok(Content::Unknown {
                content_type,
                raw: bytes,
            }),
            Ok(content) => Ok(content),
            Err(e) => Err((e, bytes)),
        }
    }

    /// Parses the content of a message.
    pub fn from_msg(msg: &MsgData) -> Result<Content, ProtocolError> {
        Content::parse(msg.content_type, &msg.content)
    }

    /// The content type to put in `MsgData.contentType`.
    pub fn content_type(&self) -> ContentType {
        match self {
            Content::Text(_) => ContentType::Text,
            Content::Picture(_) => ContentType::Picture,
            Content::Sound(_) => ContentType::Sound,
            Content::Video(_) => ContentType::Video,
            Content::File(_) => ContentType::File,
            Content::AtText(_) => ContentType::AtText,
            Content::Merge(_) => ContentType::Merger,
            Content::Card(_) => ContentType::Card,
            Content::Location(_) => ContentType::Location,
            Content::Custom { content_type, .. } => *content_type,
            Content::Typing(_) => ContentType::Typing,
            Content::Quote(_) => ContentType::Quote,
            Content::Face(_) => ContentType::Face,
            Content::AdvancedText(_) => ContentType::AdvancedText,
            Content::MarkdownText(_) => ContentType::MarkdownText,
            Content::Notification { content_type, .. } => *content_type,
            Content::Unknown { content_type, .. } => ContentType::from_i32(*content_type),
        }
    }

    /// The bytes for `MsgData.content` (the element's JSON; raw bytes for `Unknown`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let json = match self {
            Content::Text(e) => serde_json::to_vec(e),
            Content::Picture(e) => serde_json::to_vec(e),
            Content::Sound(e) => serde_json::to_vec(e),
            Content::Video(e) => serde_json::to_vec(e),
            Content::File(e) => serde_json::to_vec(e),
            Content::AtText(e) => serde_json::to_vec(e),
            Content::Merge(e) => serde_json::to_vec(e),
            Content::Card(e) => serde_json::to_vec(e),
            Content::Location(e) => serde_json::to_vec(e),
            Content::Custom { elem, .. } => serde_json::to_vec(elem),
            Content::Typing(e) => serde_json::to_vec(e),
            Content::Quote(e) => serde_json::to_vec(e),
            Content::Face(e) => serde_json::to_vec(e),
            Content::AdvancedText(e) => serde_json::to_vec(e),
            Content::MarkdownText(e) => serde_json::to_vec(e),
            Content::Notification { elem, .. } => serde_json::to_vec(elem),
            Content::Unknown { raw, .. } => return raw.clone(),
        };
        // Element structs only hold strings, numbers, lists and JSON values: never fails
        // except for non-finite floats, which JSON cannot carry (written as null by serde_json).
        json.unwrap_or_default()
    }

    /// The readable text: text, @text, quote, advanced and markdown text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Content::Text(e) => Some(&e.content),
            Content::AtText(e) => Some(&e.text),
            Content::Quote(e) => Some(&e.text),
            Content::AdvancedText(e) => Some(&e.text),
            Content::MarkdownText(e) => Some(&e.content),
            _ => None,
        }
    }

    /// Whether this is a notification (content type 1000..=5000).
    pub fn is_notification(&self) -> bool {
        matches!(self, Content::Notification { .. })
    }

    /// Builder: 101 text.
    pub fn text(text: impl Into<String>) -> Content {
        Content::Text(TextElem {
            content: text.into(),
        })
    }

    /// Builder: 106 text mentioning `at_user_ids` (use [`crate::constants::AT_ALL_TAG`] for
    /// everyone). Also put the IDs in `MsgData.atUserIDList`.
    pub fn at_text(text: impl Into<String>, at_user_ids: Vec<String>) -> Content {
        Content::AtText(AtTextElem {
            text: text.into(),
            at_user_list: at_user_ids,
            ..Default::default()
        })
    }

    /// Builder: 114 reply quoting `quoted`.
    pub fn quote(text: impl Into<String>, quoted: &MsgData) -> Content {
        Content::Quote(QuoteElem {
            text: text.into(),
            quote_message: Some(Box::new(MessageObject::from_msg_data(quoted))),
            message_entity_list: Vec::new(),
        })
    }

    /// Builder: 102 picture already on a server (what the SDK's `createImageMessageByURL`
    /// sends): `picture` as the original, the large picture and the thumbnail.
    pub fn picture(picture: PictureBaseInfo) -> Content {
        Content::Picture(PictureElem {
            source_path: String::new(),
            source_picture: Some(picture.clone()),
            big_picture: Some(picture.clone()),
            snapshot_picture: Some(picture),
        })
    }

    /// Builder: 110 custom message.
    pub fn custom(
        data: impl Into<String>,
        description: impl Into<String>,
        extension: impl Into<String>,
    ) -> Content {
        Content::Custom {
            content_type: ContentType::Custom,
            elem: CustomElem {
                data: data.into(),
                description: description.into(),
                extension: extension.into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picture_builder_fills_every_variant_and_round_trips() {
        let info = PictureBaseInfo {
            url: "https://x/a.png".into(),
            kind: "image/png".into(),
            width: 640,
            height: 480,
            ..Default::default()
        };
        let c = Content::picture(info.clone());
        let Content::Picture(p) = Content::parse(102, &c.to_bytes()).unwrap() else {
            panic!("not a picture");
        };
        assert_eq!(
            (p.source_picture, p.big_picture, p.snapshot_picture),
            (Some(info.clone()), Some(info.clone()), Some(info))
        );
    }

    #[test]
    fn text_round_trip_and_accessors() {
        let c = Content::parse(101, br#"{"content":"hi <b>"}"#).unwrap();
        assert_eq!(c.as_text(), Some("hi <b>"));
        assert_eq!(c.content_type(), ContentType::Text);
        assert_eq!(Content::parse(101, &c.to_bytes()).unwrap(), c);
    }

    #[test]
    fn parse_vec_keeps_the_buffer_of_plain_text_and_unknown_types() {
        let bytes = br#"{"content":"hi <b>"}"#.to_vec();
        let at = bytes.as_ptr();
        let Ok(Content::Text(t)) = Content::parse_vec(101, bytes) else {
            panic!("not text")
        };
        assert_eq!((t.content.as_str(), t.content.as_ptr()), ("hi <b>", at));
        let raw = b"\xff\x00".to_vec();
        let at = raw.as_ptr();
        let Ok(Content::Unknown { raw, .. }) = Content::parse_vec(999, raw) else {
            panic!("not unknown")
        };
        assert_eq!(raw.as_ptr(), at);
        // Text with an escape goes through the JSON reader; bad JSON comes back whole.
        let escaped = Content::parse_vec(101, br#"{"content":"a\"b"}"#.to_vec());
        assert_eq!(
            escaped
                .ok()
                .and_then(|c| c.as_text().map(str::to_owned))
                .as_deref(),
            Some("a\"b")
        );
        let Err((e, back)) = Content::parse_vec(101, b"{not json".to_vec()) else {
            panic!("parsed")
        };
        assert!(matches!(
            e,
            ProtocolError::Content {
                content_type: 101,
                ..
            }
        ));
        assert_eq!(back, b"{not json");
    }

    #[test]
    fn at_text_as_the_go_sdk_writes_it() {
        let raw = br#"{"text":"@bot hello","atUserList":["bot","AtAllTag"],"atUsersInfo":[{"atUserID":"bot","groupNickname":"Bot"}],"isAtSelf":false}"#;
        let c = Content::parse(106, raw).unwrap();
        let Content::AtText(e) = &c else {
            panic!("not at-text: {c:?}")
        };
        assert_eq!(e.text, "@bot hello");
        assert_eq!(e.at_user_list, ["bot", "AtAllTag"]);
        assert_eq!(e.at_users_info[0].group_nickname, "Bot");
        assert!(!e.is_at_self);
        assert_eq!(c.to_bytes(), raw.to_vec());
        let built = Content::at_text("@bot hello", vec!["bot".into()]);
        assert_eq!(
            String::from_utf8(built.to_bytes()).unwrap(),
            r#"{"text":"@bot hello","atUserList":["bot"],"isAtSelf":false}"#
        );
    }

    #[test]
    fn picture_keeps_always_present_keys() {
        let raw = br#"{"sourcePicture":{"uuid":"u","type":"image/png","size":10,"width":2,"height":3,"url":"http://x"},"bigPicture":null,"snapshotPicture":{"size":1,"width":1,"height":1}}"#;
        let c = Content::parse(102, raw).unwrap();
        let Content::Picture(p) = &c else { panic!() };
        assert_eq!(p.source_picture.as_ref().unwrap().width, 2);
        assert!(p.big_picture.is_none());
        assert_eq!(c.to_bytes(), raw.to_vec());
    }

    #[test]
    fn lenient_numbers_and_nulls() {
        let c = Content::parse(
            104,
            br#"{"videoUrl":"v","videoSize":"12","duration":3.9,"snapshotWidth":null,"snapshotHeight":7}"#,
        )
        .unwrap();
        let Content::Video(v) = c else { panic!() };
        assert_eq!(
            (
                v.video_size,
                v.duration,
                v.snapshot_width,
                v.snapshot_height
            ),
            (12, 3, 0, 7)
        );
        let loc = Content::parse(109, br#"{"longitude":"1.5","latitude":2}"#).unwrap();
        assert_eq!(
            loc,
            Content::Location(LocationElem {
                description: String::new(),
                longitude: 1.5,
                latitude: 2.0
            })
        );
    }

    #[test]
    fn every_known_type_parses_its_element() {
        let samples: &[(i32, &str)] = &[
            (
                103,
                r#"{"uuid":"a","sourceUrl":"u","dataSize":5,"duration":2}"#,
            ),
            (105, r#"{"sourceUrl":"u","fileName":"f.txt","fileSize":9}"#),
            (
                107,
                r#"{"title":"t","abstractList":["a: hi"],"multiMessage":[{"clientMsgID":"c1","contentType":101,"textElem":{"content":"hi"}}]}"#,
            ),
            (
                108,
                r#"{"userID":"u","nickname":"n","faceURL":"f","ex":""}"#,
            ),
            (
                110,
                r#"{"data":"{\"k\":1}","description":"d","extension":"e"}"#,
            ),
            (119, r#"{"data":"x"}"#),
            (120, r#"{"data":"y"}"#),
            (113, r#"{"msgTips":"yes"}"#),
            (115, r#"{"index":3,"data":"smile"}"#),
            (
                117,
                r#"{"text":"t","messageEntityList":[{"type":"url","offset":0,"length":1,"url":"http://x"}]}"#,
            ),
            (118, r#"{"content":"**b**"}"#),
            (1501, r#"{"detail":"{}"}"#),
        ];
        for (ct, raw) in samples {
            let c = Content::parse(*ct, raw.as_bytes()).unwrap();
            assert_eq!(c.content_type().as_i32(), *ct);
            assert!(!matches!(c, Content::Unknown { .. }), "{ct}");
            let again = Content::parse(*ct, &c.to_bytes()).unwrap();
            assert_eq!(again, c, "{ct}");
        }
        let Content::Merge(m) = Content::parse(107, samples[2].1.as_bytes()).unwrap() else {
            panic!()
        };
        let inner = m.multi_message[0].element().unwrap().unwrap();
        assert_eq!(inner.as_text(), Some("hi"));
    }

    #[test]
    fn unknown_types_are_kept_raw_and_bad_json_is_typed() {
        for ct in [0, 111, 200, 999, 6000, -5] {
            let c = Content::parse(ct, b"\xff\x00garbage").unwrap();
            assert_eq!(
                c,
                Content::Unknown {
                    content_type: ct,
                    raw: b"\xff\x00garbage".to_vec()
                }
            );
            assert_eq!(c.to_bytes(), b"\xff\x00garbage");
        }
        let err = Content::parse(101, b"{not json").unwrap_err();
        assert!(matches!(
            err,
            ProtocolError::Content {
                content_type: 101,
                ..
            }
        ));
        let err = Content::parse(101, br#"{"content":5}"#).unwrap_err();
        assert!(err.to_string().contains("content type 101"), "{err}");
    }

    #[test]
    fn quote_embeds_the_message_object() {
        let quoted = MsgData {
            send_id: "u1".into(),
            recv_id: "u2".into(),
            client_msg_id: "c1".into(),
            session_type: 1,
            content_type: 101,
            content: br#"{"content":"original"}"#.to_vec(),
            seq: 4,
            ..Default::default()
        };
        let q = Content::quote("reply", &quoted);
        let bytes = q.to_bytes();
        let back = Content::parse(114, &bytes).unwrap();
        let Content::Quote(e) = &back else { panic!() };
        assert_eq!(e.text, "reply");
        let obj = e.quote_message.as_ref().unwrap();
        assert_eq!(obj.client_msg_id, "c1");
        assert_eq!(obj.seq, 4);
        assert_eq!(obj.element().unwrap().unwrap().as_text(), Some("original"));
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(json["quoteMessage"]["textElem"]["content"], "original");
        assert_eq!(json["quoteMessage"]["senderFaceUrl"], "");
    }

    #[test]
    fn custom_builder() {
        let c = Content::custom(r#"{"a":1}"#, "", "");
        assert_eq!(c.content_type(), ContentType::Custom);
        assert_eq!(c.to_bytes(), br#"{"data":"{\"a\":1}"}"#);
    }

    #[test]
    fn element_keys() {
        assert_eq!(element_key(101), Some("textElem"));
        assert_eq!(element_key(120), Some("customElem"));
        assert_eq!(element_key(1509), Some("notificationElem"));
        assert_eq!(element_key(2101), Some("notificationElem"));
        assert_eq!(element_key(111), None);
    }
}
