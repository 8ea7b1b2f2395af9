//! Protocol constants as enums with their wire numbers.
//!
//! Every enum keeps unknown values (`Other(i32)`) so that a newer server never makes
//! decoding fail; compare with the named variants (`Other(101) == ContentType::Text`).

use crate::open_enum::open_enum;

open_enum! {
    /// Envelope `reqIdentifier`: the WebSocket operation code (ws-gateway §3.1).
    pub enum ReqIdentifier {
        /// 1001: max seq of every conversation (`GetMaxSeqReq` -> `GetMaxSeqResp`).
        GetNewestSeq = 1001 => "WSGetNewestSeq",
        /// 1002: pull by seq ranges (`PullMessageBySeqsReq` -> `PullMessageBySeqsResp`).
        PullMsgByRange = 1002 => "WSPullMsgBySeqList",
        /// 1003: send a message (bare `MsgData` -> `UserSendMsgResp`).
        SendMsg = 1003 => "WSSendMsg",
        /// 1004: legacy signalling (always fails).
        SendSignalMsg = 1004 => "WSSendSignalMsg",
        /// 1005: pull by explicit seqs (`GetSeqMessageReq` -> `GetSeqMessageResp`).
        PullMsgBySeqList = 1005 => "WSPullMsg",
        /// 1006: has-read and max seqs (`GetConversationsHasReadAndMaxSeqReq` -> `...Resp`).
        GetConvMaxReadSeq = 1006 => "WSGetConvMaxReadSeq",
        /// 1007: last message per conversation (`GetLastMessageReq` -> `GetLastMessageResp`).
        PullConvLastMessage = 1007 => "WsPullConvLastMessage",
        /// 2001: server push of one new message (`PushMessages`).
        PushMsg = 2001 => "WSPushMsg",
        /// 2002: kicked offline (no payload); the server closes the connection.
        KickOnlineMsg = 2002 => "WSKickOnlineMsg",
        /// 2003: logout (`DelUserPushTokenReq` -> `DelUserPushTokenResp`); the server then closes.
        LogoutMsg = 2003 => "WsLogoutMsg",
        /// 2004: app background status (`SetAppBackgroundStatusReq`; reply `data: null`).
        SetBackgroundStatus = 2004 => "WsSetBackgroundStatus",
        /// 2005: online-status subscription (`SubUserOnlineStatus` -> `SubUserOnlineStatusTips`), also pushed.
        SubUserOnlineStatus = 2005 => "WsSubUserOnlineStatus",
        /// 2100: declared by the JS SDK only; not implemented by the server.
        ServerConfigMsg = 2100 => "WSServerConfigMsg",
        /// 3001: defined, never sent.
        DataError = 3001 => "WSDataError",
    }
}

open_enum! {
    /// `MsgData.contentType` (ws-gateway §5.1).
    pub enum ContentType {
        /// 101 plain text (`TextElem`).
        Text = 101 => "Text",
        /// 102 picture (`PictureElem`).
        Picture = 102 => "Picture",
        /// 103 voice (`SoundElem`).
        Sound = 103 => "Voice",
        /// 104 video (`VideoElem`).
        Video = 104 => "Video",
        /// 105 file (`FileElem`).
        File = 105 => "File",
        /// 106 text with @-mentions (`AtTextElem`).
        AtText = 106 => "AtText",
        /// 107 forwarded bundle (`MergeElem`).
        Merger = 107 => "Merger",
        /// 108 user card (`CardElem`).
        Card = 108 => "Card",
        /// 109 location (`LocationElem`).
        Location = 109 => "Location",
        /// 110 custom (`CustomElem`).
        Custom = 110 => "Custom",
        /// 111 legacy revoke.
        Revoke = 111 => "Revoke",
        /// 113 typing (`TypingElem`), online only.
        Typing = 113 => "Typing",
        /// 114 quote / reply (`QuoteElem`).
        Quote = 114 => "Quote",
        /// 115 face / sticker (`FaceElem`).
        Face = 115 => "Face",
        /// 117 advanced text (`AdvancedTextElem`).
        AdvancedText = 117 => "AdvancedText",
        /// 118 markdown text (protocol 0.0.73+).
        MarkdownText = 118 => "MarkdownText",
        /// 119 custom message that does not update the conversation list.
        CustomNotTriggerConversation = 119 => "CustomNotTriggerConversation",
        /// 120 custom online-only message.
        CustomOnlineOnly = 120 => "CustomOnlineOnly",
        /// 121 legacy reaction modifier.
        ReactionMessageModifier = 121 => "ReactionMessageModifier",
        /// 122 legacy reaction deleter.
        ReactionMessageDeleter = 122 => "ReactionMessageDeleter",
        /// 123 stream (protocol 0.0.72 only).
        Stream = 123 => "Stream",
        /// 200 legacy push text.
        Common = 200 => "Common",
        /// 201 legacy group message.
        GroupMsg = 201 => "GroupMsg",
        /// 202 legacy signalling.
        SignalMsg = 202 => "SignalMsg",
        /// 203 legacy custom notification.
        CustomNotification = 203 => "CustomNotification",
        /// 1000 notification range start (marker).
        NotificationBegin = 1000 => "NotificationBegin",
        /// 1201 friend application approved (`FriendApplicationApprovedTips`).
        FriendApplicationApprovedNotification = 1201 => "FriendApplicationApprovedNotification",
        /// 1202 friend application rejected (`FriendApplicationRejectedTips`).
        FriendApplicationRejectedNotification = 1202 => "FriendApplicationRejectedNotification",
        /// 1203 friend application (`FriendApplicationTips`).
        FriendApplicationNotification = 1203 => "FriendApplicationNotification",
        /// 1204 friend added (`FriendAddedTips`; not sent by v3.8.3).
        FriendAddedNotification = 1204 => "FriendAddedNotification",
        /// 1205 friend deleted (`FriendDeletedTips`).
        FriendDeletedNotification = 1205 => "FriendDeletedNotification",
        /// 1206 friend remark set (`FriendInfoChangedTips`).
        FriendRemarkSetNotification = 1206 => "FriendRemarkSetNotification",
        /// 1207 blacklist add (`BlackAddedTips`).
        BlackAddedNotification = 1207 => "BlackAddedNotification",
        /// 1208 blacklist remove (`BlackDeletedTips`).
        BlackDeletedNotification = 1208 => "BlackDeletedNotification",
        /// 1209 a friend's profile changed (`UserInfoUpdatedTips`).
        FriendInfoUpdatedNotification = 1209 => "FriendInfoUpdatedNotification",
        /// 1210 friends' info updated (`FriendsInfoUpdateTips`).
        FriendsInfoUpdateNotification = 1210 => "FriendsInfoUpdateNotification",
        /// 1300 conversation changed (`ConversationUpdateTips`).
        ConversationChangeNotification = 1300 => "ConversationChangeNotification",
        /// 1301 user notification range start (marker).
        UserNotificationBegin = 1301 => "UserNotificationBegin",
        /// 1303 user profile changed (`UserInfoUpdatedTips`).
        UserInfoUpdatedNotification = 1303 => "UserInfoUpdatedNotification",
        /// 1304 user status changed (`UserStatusChangeTips`).
        UserStatusChangeNotification = 1304 => "UserStatusChangeNotification",
        /// 1305 user command added (`UserCommandAddTips`).
        UserCommandAddNotification = 1305 => "UserCommandAddNotification",
        /// 1306 user command deleted (`UserCommandDeleteTips`).
        UserCommandDeleteNotification = 1306 => "UserCommandDeleteNotification",
        /// 1307 user command updated (`UserCommandUpdateTips`).
        UserCommandUpdateNotification = 1307 => "UserCommandUpdateNotification",
        /// 1308 online-status subscription (defined only).
        UserSubscribeOnlineStatusNotification = 1308 => "UserSubscribeOnlineStatusNotification",
        /// 1399 user notification range end (marker).
        UserNotificationEnd = 1399 => "UserNotificationEnd",
        /// 1400 OA notification (OA JSON detail).
        OaNotification = 1400 => "OANotification",
        /// 1500 group notification range start (marker).
        GroupNotificationBegin = 1500 => "GroupNotificationBegin",
        /// 1501 group created (`GroupCreatedTips`).
        GroupCreatedNotification = 1501 => "GroupCreatedNotification",
        /// 1502 group info set (`GroupInfoSetTips`).
        GroupInfoSetNotification = 1502 => "GroupInfoSetNotification",
        /// 1503 join-group application (`JoinGroupApplicationTips`).
        JoinGroupApplicationNotification = 1503 => "JoinGroupApplicationNotification",
        /// 1504 member quit (`MemberQuitTips`).
        MemberQuitNotification = 1504 => "MemberQuitNotification",
        /// 1505 group application accepted (`GroupApplicationAcceptedTips`).
        GroupApplicationAcceptedNotification = 1505 => "GroupApplicationAcceptedNotification",
        /// 1506 group application rejected (`GroupApplicationRejectedTips`).
        GroupApplicationRejectedNotification = 1506 => "GroupApplicationRejectedNotification",
        /// 1507 group owner transferred (`GroupOwnerTransferredTips`).
        GroupOwnerTransferredNotification = 1507 => "GroupOwnerTransferredNotification",
        /// 1508 members kicked (`MemberKickedTips`).
        MemberKickedNotification = 1508 => "MemberKickedNotification",
        /// 1509 members invited (`MemberInvitedTips`).
        MemberInvitedNotification = 1509 => "MemberInvitedNotification",
        /// 1510 member entered (`MemberEnterTips`).
        MemberEnterNotification = 1510 => "MemberEnterNotification",
        /// 1511 group dismissed (`GroupDismissedTips`).
        GroupDismissedNotification = 1511 => "GroupDismissedNotification",
        /// 1512 member muted (`GroupMemberMutedTips`).
        GroupMemberMutedNotification = 1512 => "GroupMemberMutedNotification",
        /// 1513 member unmuted (`GroupMemberCancelMutedTips`).
        GroupMemberCancelMutedNotification = 1513 => "GroupMemberCancelMutedNotification",
        /// 1514 group muted (`GroupMutedTips`).
        GroupMutedNotification = 1514 => "GroupMutedNotification",
        /// 1515 group unmuted (`GroupCancelMutedTips`).
        GroupCancelMutedNotification = 1515 => "GroupCancelMutedNotification",
        /// 1516 member info set (`GroupMemberInfoSetTips`).
        GroupMemberInfoSetNotification = 1516 => "GroupMemberInfoSetNotification",
        /// 1517 member set to admin (`GroupMemberInfoSetTips`).
        GroupMemberSetToAdminNotification = 1517 => "GroupMemberSetToAdminNotification",
        /// 1518 member set to ordinary user (`GroupMemberInfoSetTips`).
        GroupMemberSetToOrdinaryUserNotification = 1518 => "GroupMemberSetToOrdinaryUserNotification",
        /// 1519 announcement set (`GroupInfoSetAnnouncementTips`).
        GroupInfoSetAnnouncementNotification = 1519 => "GroupInfoSetAnnouncementNotification",
        /// 1520 group name set (`GroupInfoSetNameTips`).
        GroupInfoSetNameNotification = 1520 => "GroupInfoSetNameNotification",
        /// 1599 group notification range end (marker).
        GroupNotificationEnd = 1599 => "GroupNotificationEnd",
        /// 1600 signalling range start (RTC add-on).
        SignalingNotificationBegin = 1600 => "SignalingNotificationBegin",
        /// 1601 signalling notification (RTC add-on).
        SignalingNotification = 1601 => "SignalingNotification",
        /// 1602 RTC room participants connected.
        RoomParticipantsConnectedNotification = 1602 => "RoomParticipantsConnectedNotification",
        /// 1603 RTC room participants disconnected.
        RoomParticipantsDisconnectedNotification = 1603 => "RoomParticipantsDisconnectedNotification",
        /// 1604 RTC stream changed.
        StreamChangedNotification = 1604 => "StreamChangedNotification",
        /// 1605 RTC custom signal.
        CustomSignalNotification = 1605 => "CustomSignalNotification",
        /// 1650 legacy super-group range start.
        SuperGroupNotificationBegin = 1650 => "SuperGroupNotificationBegin",
        /// 1651 legacy super-group update.
        SuperGroupUpdateNotification = 1651 => "SuperGroupUpdateNotification",
        /// 1652 legacy message delete.
        MsgDeleteNotification = 1652 => "MsgDeleteNotification",
        /// 1699 legacy super-group / signalling range end.
        SuperGroupNotificationEnd = 1699 => "SuperGroupNotificationEnd",
        /// 1701 private chat switched (`ConversationSetPrivateTips`).
        ConversationPrivateChatNotification = 1701 => "ConversationPrivateChatNotification",
        /// 1702 unread changed (`ConversationHasReadTips`).
        ConversationUnreadNotification = 1702 => "ConversationUnreadNotification",
        /// 1703 conversations cleared (`ClearConversationTips`).
        ClearConversationNotification = 1703 => "ClearConversationNotification",
        /// 1704 conversations deleted (`ConversationDeleteTips`; newer servers only).
        ConversationDeleteNotification = 1704 => "ConversationDeleteNotification",
        /// 2000 business notification range start.
        BusinessNotificationBegin = 2000 => "BusinessNotificationBegin",
        /// 2001 business notification (`{"key","data"}` detail).
        BusinessNotification = 2001 => "BusinessNotification",
        /// 2099 business notification range end.
        BusinessNotificationEnd = 2099 => "BusinessNotificationEnd",
        /// 2101 revoke (`RevokeMsgTips` live; `MessageRevokedContent` in pulls).
        MsgRevokeNotification = 2101 => "MsgRevokeNotification",
        /// 2102 messages deleted (`DeleteMsgsTips`).
        DeleteMsgsNotification = 2102 => "DeleteMsgsNotification",
        /// 2200 has-read receipt (`MarkAsReadTips`).
        HasReadReceipt = 2200 => "HasReadReceipt",
        /// 2300 stream message notification (protocol 0.0.72 only).
        StreamMsgNotification = 2300 => "StreamMsgNotification",
        /// 5000 notification range end (marker).
        NotificationEnd = 5000 => "NotificationEnd",
    }
}

impl ContentType {
    /// Whether the value lies in the notification range 1000..=5000 (content is
    /// `{"detail": "<json>"}`).
    pub const fn is_notification(self) -> bool {
        let v = self.as_i32();
        v >= 1000 && v <= 5000
    }

    /// Friend notifications handled by the SDK's friend module (1201..=1298).
    pub const fn is_friend_notification(self) -> bool {
        let v = self.as_i32();
        v > 1200 && v < 1299
    }

    /// User notifications handled by the SDK's user module (1302..=1398).
    pub const fn is_user_notification(self) -> bool {
        let v = self.as_i32();
        v > 1301 && v < 1399
    }

    /// Group notifications handled by the SDK's group module (1501..=1598).
    pub const fn is_group_notification(self) -> bool {
        let v = self.as_i32();
        v > 1500 && v < 1599
    }
}

open_enum! {
    /// `MsgData.sessionType` (ws-gateway §5.2).
    pub enum SessionType {
        /// 1 one-to-one chat.
        Single = 1 => "SingleChatType",
        /// 2 legacy write-diffusion group (rejected by v3 servers).
        WriteGroup = 2 => "WriteGroupChatType",
        /// 3 group chat (all v3 groups).
        ReadGroup = 3 => "ReadGroupChatType",
        /// 4 notification chat (system / OA account -> user).
        Notification = 4 => "NotificationChatType",
    }
}

open_enum! {
    /// Login platform IDs (ws-gateway §1.7).
    pub enum PlatformId {
        /// 1 iOS (class Mobile).
        Ios = 1 => "IOS",
        /// 2 Android (class Mobile).
        Android = 2 => "Android",
        /// 3 Windows (class PC).
        Windows = 3 => "Windows",
        /// 4 macOS (class PC).
        Osx = 4 => "OSX",
        /// 5 Web (class Web; the server pings it every 27 s).
        Web = 5 => "Web",
        /// 6 mini program (class MiniWeb).
        MiniWeb = 6 => "MiniWeb",
        /// 7 Linux (class PC).
        Linux = 7 => "Linux",
        /// 8 Android pad (class Pad).
        APad = 8 => "APad",
        /// 9 iPad (class Pad).
        IPad = 9 => "IPad",
        /// 10 admin (class Admin).
        Admin = 10 => "Admin",
        /// 11 HarmonyOS (protocol 0.0.73+ only).
        HarmonyOs = 11 => "HarmonyOS",
    }
}

/// Platform class used by the multi-login policies (ws-gateway §1.7, §1.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PlatformClass {
    /// iOS, Android.
    Mobile,
    /// Windows, OSX, Linux.
    Pc,
    /// Web.
    Web,
    /// Mini program.
    MiniWeb,
    /// Android pad, iPad.
    Pad,
    /// Admin.
    Admin,
    /// HarmonyOS.
    HarmonyOs,
}

impl PlatformId {
    /// The platform class, `None` for unknown platforms.
    pub const fn class(self) -> Option<PlatformClass> {
        match self.as_i32() {
            1 | 2 => Some(PlatformClass::Mobile),
            3 | 4 | 7 => Some(PlatformClass::Pc),
            5 => Some(PlatformClass::Web),
            6 => Some(PlatformClass::MiniWeb),
            8 | 9 => Some(PlatformClass::Pad),
            10 => Some(PlatformClass::Admin),
            11 => Some(PlatformClass::HarmonyOs),
            _ => None,
        }
    }
}

open_enum! {
    /// `MsgData.status` (ws-gateway §5.3).
    pub enum MsgStatus {
        /// 1 sending (what clients submit).
        Sending = 1 => "MsgStatusSending",
        /// 2 sent successfully (the server turns 1 into 2).
        SendSuccess = 2 => "MsgStatusSendSuccess",
        /// 3 send failed.
        SendFailed = 3 => "MsgStatusSendFailed",
        /// 4 deleted for this user, or a seq placeholder.
        HasDeleted = 4 => "MsgStatusHasDeleted",
        /// 5 filtered duplicate (client side).
        Filtered = 5 => "MsgStatusFiltered",
    }
}

open_enum! {
    /// `MsgData.msgFrom`.
    pub enum MsgFrom {
        /// 100 sent by a user.
        User = 100 => "UserMsgType",
        /// 200 generated by the system (notifications, admin sends).
        System = 200 => "SysMsgType",
    }
}

open_enum! {
    /// Receive-message option (`recvMsgOpt`, `globalRecvMsgOpt`).
    pub enum RecvMsgOpt {
        /// 0 receive normally.
        ReceiveMessage = 0 => "ReceiveMessage",
        /// 1 do not receive.
        NotReceiveMessage = 1 => "NotReceiveMessage",
        /// 2 receive without offline push.
        ReceiveNotNotifyMessage = 2 => "ReceiveNotNotifyMessage",
    }
}

open_enum! {
    /// `GroupInfo.status`.
    pub enum GroupStatus {
        /// 0 normal.
        Ok = 0 => "GroupOk",
        /// 1 legacy ban-chat.
        BanChat = 1 => "GroupBanChat",
        /// 2 dismissed.
        Dismissed = 2 => "GroupStatusDismissed",
        /// 3 muted (only owner/admins may speak).
        Muted = 3 => "GroupStatusMuted",
    }
}

open_enum! {
    /// `GroupInfo.groupType`.
    pub enum GroupType {
        /// 0 legacy normal group.
        Normal = 0 => "NormalGroup",
        /// 1 legacy super group.
        Super = 1 => "SuperGroup",
        /// 2 working group (the only type v3 accepts).
        Working = 2 => "WorkingGroup",
    }
}

open_enum! {
    /// `GroupMemberFullInfo.roleLevel`.
    pub enum GroupRoleLevel {
        /// 100 owner.
        Owner = 100 => "GroupOwner",
        /// 60 admin.
        Admin = 60 => "GroupAdmin",
        /// 20 ordinary member.
        Ordinary = 20 => "GroupOrdinaryUsers",
    }
}

open_enum! {
    /// `GroupMemberFullInfo.joinSource` / `GroupRequest.joinSource`.
    pub enum JoinSource {
        /// 1 added by an admin.
        ByAdmin = 1 => "JoinByAdmin",
        /// 2 by invitation.
        ByInvitation = 2 => "JoinByInvitation",
        /// 3 by search.
        BySearch = 3 => "JoinBySearch",
        /// 4 by QR code.
        ByQrCode = 4 => "JoinByQRCode",
    }
}

open_enum! {
    /// `GroupInfo.needVerification`.
    pub enum GroupVerification {
        /// 0 applications need approval; invitations join directly.
        ApplyNeedVerificationInviteDirectly = 0 => "ApplyNeedVerificationInviteDirectly",
        /// 1 everyone needs approval except invitations by owner/admin.
        AllNeedVerification = 1 => "AllNeedVerification",
        /// 2 join directly.
        Directly = 2 => "Directly",
    }
}

open_enum! {
    /// Friend / group application `handleResult`.
    pub enum HandleResult {
        /// 0 not handled yet.
        Pending = 0 => "Pending",
        /// 1 agreed / accepted.
        Agree = 1 => "Agree",
        /// -1 refused.
        Refuse = -1 => "Refuse",
    }
}

open_enum! {
    /// `FriendInfo.addSource`.
    pub enum FriendAddSource {
        /// 1 imported by an admin.
        ImportedByAdmin = 1 => "BecomeFriendByImport",
        /// 2 via an application.
        Application = 2 => "BecomeFriendByApply",
    }
}

open_enum! {
    /// `appMangerLevel` (sic) of a user.
    pub enum AppManagerLevel {
        /// 0 IM ordinary user.
        ImOrdinaryUser = 0 => "IMOrdinaryUser",
        /// 1 app ordinary user.
        AppOrdinaryUser = 1 => "AppOrdinaryUsers",
        /// 2 app admin.
        AppAdmin = 2 => "AppAdmin",
        /// 3 app notification admin (notification account).
        AppNotificationAdmin = 3 => "AppNotificationAdmin",
        /// 4 app robot admin.
        AppRobotAdmin = 4 => "AppRobotAdmin",
    }
}

open_enum! {
    /// Conversation `groupAtType`.
    pub enum GroupAtType {
        /// 0 nothing special.
        AtNormal = 0 => "AtNormal",
        /// 1 someone mentioned me.
        AtMe = 1 => "AtMe",
        /// 2 someone mentioned everyone.
        AtAll = 2 => "AtAll",
        /// 3 everyone and me.
        AtAllAtMe = 3 => "AtAllAtMe",
        /// 4 group announcement.
        GroupNotification = 4 => "GroupNotification",
    }
}

open_enum! {
    /// Conversation `conversationType` (same numbers as [`SessionType`]).
    pub enum ConversationType {
        /// 1 single chat.
        Single = 1 => "SingleChatType",
        /// 2 legacy group.
        WriteGroup = 2 => "WriteGroupChatType",
        /// 3 group chat.
        ReadGroup = 3 => "ReadGroupChatType",
        /// 4 notification chat.
        Notification = 4 => "NotificationChatType",
    }
}

open_enum! {
    /// Online status values (`UserStatusChangeTips.status`, REST online status).
    pub enum OnlineStatus {
        /// 0 offline.
        Offline = 0 => "Offline",
        /// 1 online.
        Online = 1 => "Online",
    }
}

open_enum! {
    /// Token status kept by the server (Redis), used to derive 1505/1506/1507.
    pub enum TokenStatus {
        /// 0 valid.
        Normal = 0 => "NormalToken",
        /// 1 invalid.
        Invalid = 1 => "InValidToken",
        /// 2 kicked.
        Kicked = 2 => "KickedToken",
        /// 3 expired.
        Expired = 3 => "ExpiredToken",
    }
}

open_enum! {
    /// Multi-login policy (`share.yml: multiLogin.policy`).
    pub enum MultiLoginPolicy {
        /// 0 nobody is kicked (sic `DefalutNotKick`).
        DefaultNotKick = 0 => "DefalutNotKick",
        /// 1 same user on the same platform ID is kicked.
        AllLoginButSameTermKick = 1 => "AllLoginButSameTermKick",
        /// 4 same user in the same platform class is kicked.
        AllLoginButSameClassKick = 4 => "AllLoginButSameClassKick",
        /// 5 PC logins kick nobody; others like policy 1.
        PcAndOther = 5 => "PCAndOther",
    }
}

open_enum! {
    /// Notification reliability level.
    pub enum NotificationReliability {
        /// 1 online only (seq 0).
        Unreliable = 1 => "UnreliableNotification",
        /// 2 stored with a seq.
        ReliableNoMsg = 2 => "ReliableNotificationNoMsg",
        /// 3 declared; treated like 1.
        ReliableMsg = 3 => "ReliableNotificationMsg",
    }
}

open_enum! {
    /// User gender.
    pub enum Gender {
        /// 1 male.
        Male = 1 => "Male",
        /// 2 female.
        Female = 2 => "Female",
    }
}

/// The "@everyone" marker in `MsgData.atUserIDList` / `AtTextElem.atUserList`.
pub const AT_ALL_TAG: &str = "AtAllTag";

/// Max size of one incoming WebSocket frame accepted by the server (bytes, before gunzip).
pub const MAX_INCOMING_FRAME_BYTES: usize = 51_200;

/// Server read deadline: no frame for this long drops the connection (seconds).
pub const SERVER_PONG_WAIT_SECS: u64 = 30;

/// Server -> Web-client WS ping interval (seconds).
pub const SERVER_PING_PERIOD_SECS: u64 = 27;

/// `MsgData.options` keys. **A missing key means `true`**: only an explicit `false`
/// switches a behaviour off.
pub mod options {
    use std::collections::BTreeMap;

    /// Store the message (gets a seq); false = online only.
    pub const HISTORY: &str = "history";
    /// Persist to long-term storage.
    pub const PERSISTENT: &str = "persistent";
    /// Allow offline (APNs/FCM) push.
    pub const OFFLINE_PUSH: &str = "offlinePush";
    /// Counts toward unread.
    pub const UNREAD_COUNT: &str = "unreadCount";
    /// Updates the recipient's conversation list.
    pub const CONVERSATION_UPDATE: &str = "conversationUpdate";
    /// Also push to the sender's own devices.
    pub const SENDER_SYNC: &str = "senderSync";
    /// false = burn-after-reading message.
    pub const NOT_PRIVATE: &str = "notPrivate";
    /// Updates the sender's conversation list.
    pub const SENDER_CONVERSATION_UPDATE: &str = "senderConversationUpdate";
    /// Legacy.
    pub const SENDER_NOTIFICATION_PUSH: &str = "senderNotificationPush";
    /// Legacy.
    pub const REACTION_FROM_CACHE: &str = "reactionFromCache";
    /// true/missing = normal chat message; false = notification (routed to `n_`).
    pub const IS_NOT_NOTIFICATION: &str = "isNotNotification";
    /// For notifications: also store a chat-visible copy.
    pub const IS_SEND_MSG: &str = "isSendMsg";

    /// Every known option key.
    pub const ALL: &[&str] = &[
        HISTORY,
        PERSISTENT,
        OFFLINE_PUSH,
        UNREAD_COUNT,
        CONVERSATION_UPDATE,
        SENDER_SYNC,
        NOT_PRIVATE,
        SENDER_CONVERSATION_UPDATE,
        SENDER_NOTIFICATION_PUSH,
        REACTION_FROM_CACHE,
        IS_NOT_NOTIFICATION,
        IS_SEND_MSG,
    ];

    /// The value of option `key`, applying the rule "absent = true".
    pub fn is_enabled(options: &BTreeMap<String, bool>, key: &str) -> bool {
        options.get(key).copied().unwrap_or(true)
    }

    /// Whether a message with these options is a notification (explicit `isNotNotification=false`).
    pub fn is_notification(options: &BTreeMap<String, bool>) -> bool {
        !is_enabled(options, IS_NOT_NOTIFICATION)
    }

    /// The keys the SDKs switch off for an online-only send (typing, content type 120):
    /// history, persistent, senderSync, conversationUpdate, senderConversationUpdate,
    /// unreadCount, offlinePush.
    pub const ONLINE_ONLY_OFF: &[&str] = &[
        HISTORY,
        PERSISTENT,
        SENDER_SYNC,
        CONVERSATION_UPDATE,
        SENDER_CONVERSATION_UPDATE,
        UNREAD_COUNT,
        OFFLINE_PUSH,
    ];

    /// Options of an online-only send (see [`ONLINE_ONLY_OFF`]).
    pub fn online_only() -> BTreeMap<String, bool> {
        ONLINE_ONLY_OFF
            .iter()
            .map(|k| (k.to_string(), false))
            .collect()
    }
}
