"""OpenIM v3.8 wire schema (this project's own transcription).

Each message: ("message", Name, doc, [(protoName, type, tag, doc[, rustName]), ...]).
Types: string int32 int64 uint32 uint64 bool bytes, "rep T", "map<K,V>", "enum E",
or a message name ("mod::Name" for another module).
"""

S = "sdkws"

GROUP_REF = "sdkws::GroupInfo"
MEMBER_REF = "sdkws::GroupMemberFullInfo"


def v(tag_field_doc):
    return tag_field_doc


VERSION_FIELDS = lambda a, b: [
    ("groupMemberVersion", "uint64", a, "Group-member version after the change (incremental sync)."),
    ("groupMemberVersionID", "string", b, "ID of the group-member version log."),
]

sdkws = {"items": [
    ("enum", "PullOrder", "Pull direction of `PullMessageBySeqsReq` / `GetSeqMessageReq` (affects only `isEnd`).", [
        ("Asc", 0, "`PullOrderAsc`: ascending (reading newer messages)."),
        ("Desc", 1, "`PullOrderDesc`: descending (reading older messages)."),
    ]),
    ("message", "GetMaxSeqReq", "1001 `GetNewestSeq` request.", [
        ("userID", "string", 1, "The caller (must be the connection's user)."),
    ]),
    ("message", "GetMaxSeqResp", "1001 `GetNewestSeq` response.", [
        ("maxSeqs", "map<string,int64>", 1, "conversationID -> max seq (conversations with max seq 0 are omitted)."),
        ("minSeqs", "map<string,int64>", 2, "Unused by the server (always empty)."),
    ]),
    ("message", "SeqRange", "One seq range of a `PullMessageBySeqsReq`.", [
        ("conversationID", "string", 1, "Conversation to pull from."),
        ("begin", "int64", 2, "First seq wanted (0 allowed; the server clamps it)."),
        ("end", "int64", 3, "Last seq wanted (inclusive)."),
        ("num", "int64", 4, "Max number of messages for chat conversations (the newest `num` of the range); ignored for `n_` conversations; must be >= 1."),
    ]),
    ("message", "PullMessageBySeqsReq", "1002 `PullMsgByRange` request.", [
        ("userID", "string", 1, "The caller."),
        ("seqRanges", "rep SeqRange", 2, "Ranges to pull."),
        ("order", "enum PullOrder", 3, "Pull order (`PullOrder`); affects only `isEnd`."),
    ]),
    ("message", "PullMsgs", "Messages of one conversation inside a pull response or a push.", [
        ("Msgs", "rep MsgData", 1, "The messages, ascending by seq (note the capital `M` in the JSON/proto name)."),
        ("isEnd", "bool", 2, "No more messages in the pull direction."),
        ("endSeq", "int64", 3, "Boundary seq (1005 only)."),
    ]),
    ("message", "PullMessageBySeqsResp", "1002 `PullMsgByRange` response.", [
        ("msgs", "map<string,PullMsgs>", 1, "Chat conversations (conversationID -> messages)."),
        ("notificationMsgs", "map<string,PullMsgs>", 2, "Notification conversations (`n_...`)."),
    ]),
    ("message", "PushMessages", "2001 `PushMsg` payload (server -> client). Exactly one message per frame in practice.", [
        ("msgs", "map<string,PullMsgs>", 1, "Chat conversations (conversationID -> messages)."),
        ("notificationMsgs", "map<string,PullMsgs>", 2, "Notification conversations (`n_...`)."),
    ]),
    ("message", "OfflinePushInfo", "Title/description used for offline (APNs/FCM) pushes.", [
        ("title", "string", 1, "Push title."),
        ("desc", "string", 2, "Push description."),
        ("ex", "string", 3, "Extension."),
        ("iOSPushSound", "string", 4, "iOS push sound."),
        ("iOSBadgeCount", "bool", 5, "Whether to bump the iOS badge count."),
        ("signalInfo", "string", 6, "Signalling info (legacy)."),
    ]),
    ("message", "MsgData", "`sdkws.MsgData`: one message, as sent (1003 request) and received (pushes, pulls).", [
        ("sendID", "string", 1, "Sender user ID."),
        ("recvID", "string", 2, "Receiver user ID (single / notification chat); empty for groups."),
        ("groupID", "string", 3, "Group ID for group messages, else empty."),
        ("clientMsgID", "string", 4, "Client-generated unique ID (dedupe key)."),
        ("serverMsgID", "string", 5, "Server-generated ID (always overwritten by the server)."),
        ("senderPlatformID", "int32", 6, "Platform of the sending device."),
        ("senderNickname", "string", 7, "Sender display-name snapshot."),
        ("senderFaceURL", "string", 8, "Sender avatar snapshot."),
        ("sessionType", "int32", 9, "Session type (1 single, 3 group, 4 notification)."),
        ("msgFrom", "int32", 10, "100 user, 200 system."),
        ("contentType", "int32", 11, "Content type (see `constants::ContentType`)."),
        ("content", "bytes", 12, "UTF-8 JSON of the content element; for notifications `{\"detail\":\"<json>\"}`."),
        ("seq", "int64", 14, "Per-conversation sequence number; 0 = not stored (online only)."),
        ("sendTime", "int64", 15, "Send time, ms (filled by the server when 0)."),
        ("createTime", "int64", 16, "Creation time on the client, ms."),
        ("status", "int32", 17, "Message status (1 sending, 2 success, 3 failed, 4 deleted, 5 filtered)."),
        ("isRead", "bool", 18, "Single-chat read flag."),
        ("options", "map<string,bool>", 19, "Behaviour switches; a missing key means `true` (see `constants::options`)."),
        ("offlinePushInfo", "OfflinePushInfo", 20, "Offline push title/description."),
        ("atUserIDList", "rep string", 21, "Mentioned user IDs (may contain `AtAllTag`)."),
        ("attachedInfo", "string", 22, "JSON string of the SDK's `AttachedInfoElem`, or empty."),
        ("ex", "string", 23, "Free-form extension."),
    ]),
    ("message", "NotificationElem", "Notification content element: `detail` is the JSON text of a tips message. Only its JSON form appears on the wire.", [
        ("detail", "string", 1, "JSON text of the tips structure."),
    ]),
    ("message", "TipsComm", "Legacy tips wrapper (unused by v3.8).", [
        ("detail", "bytes", 1, "Serialized detail."),
        ("defaultTips", "string", 2, "Default tips text."),
        ("jsonDetail", "string", 3, "JSON detail."),
    ]),
    ("message", "ProcessUserCommand", "A user command entry (REST `process_user_command_*`).", [
        ("userID", "string", 1, "Owner."),
        ("type", "int32", 2, "Command type (JSON `type`).", "command_type"),
        ("createTime", "int64", 3, "Creation time, ms."),
        ("uuid", "string", 4, "Command UUID."),
        ("value", "string", 5, "Command value."),
    ]),
    ("message", "RequestPagination", "Pagination of REST list routes (`pageNumber` is 1-based).", [
        ("pageNumber", "int32", 1, "Page number, 1-based."),
        ("showNumber", "int32", 2, "Page size."),
    ]),
    ("message", "UserSendMsgResp", "1003 `SendMsg` response as clients decode it (wire-compatible with `msg::SendMsgResp`).", [
        ("serverMsgID", "string", 1, "Server-generated message ID."),
        ("clientMsgID", "string", 2, "Echo of the request's clientMsgID."),
        ("sendTime", "int64", 3, "Send time, ms."),
    ]),
    ("message", "SetAppBackgroundStatusReq", "2004 `SetBackgroundStatus` request.", [
        ("userID", "string", 1, "The caller."),
        ("isBackground", "bool", 2, "Whether the app went to the background."),
    ]),
    ("message", "SetAppBackgroundStatusResp", "2004 response (empty; the server actually sends `data: null`).", []),
    ("message", "SubUserOnlineStatus", "2005 request: (un)subscribe to other users' online status.", [
        ("subscribeUserID", "rep string", 1, "Users to subscribe to."),
        ("unsubscribeUserID", "rep string", 2, "Users to unsubscribe from."),
    ]),
    ("message", "SubUserOnlineStatusElem", "Online platforms of one user.", [
        ("userID", "string", 1, "The user."),
        ("onlinePlatformIDs", "rep int32", 2, "Platforms the user is online on (empty = offline)."),
    ]),
    ("message", "SubUserOnlineStatusTips", "2005 response and unsolicited 2005 push.", [
        ("subscribers", "rep SubUserOnlineStatusElem", 1, "Online status of each (subscribed) user."),
    ]),
    # ---- shared sub-messages ----
    ("message", "GroupInfo", "Group profile.", [
        ("groupID", "string", 1, "Group ID."),
        ("groupName", "string", 2, "Group name."),
        ("notification", "string", 3, "Announcement text."),
        ("introduction", "string", 4, "Introduction."),
        ("faceURL", "string", 5, "Avatar URL."),
        ("ownerUserID", "string", 6, "Owner user ID."),
        ("createTime", "int64", 7, "Creation time, ms."),
        ("memberCount", "uint32", 8, "Number of members."),
        ("ex", "string", 9, "Extension."),
        ("status", "int32", 10, "Group status (0 ok, 1 ban-chat, 2 dismissed, 3 muted)."),
        ("creatorUserID", "string", 11, "Creator user ID."),
        ("groupType", "int32", 12, "Group type (always 2, working group, in v3)."),
        ("needVerification", "int32", 13, "Join verification mode."),
        ("lookMemberInfo", "int32", 14, "1 = members may not view others' info."),
        ("applyMemberFriend", "int32", 15, "1 = members may not add each other as friends."),
        ("notificationUpdateTime", "int64", 16, "Announcement update time, ms."),
        ("notificationUserID", "string", 17, "Who set the announcement."),
    ]),
    ("message", "GroupMemberFullInfo", "A group member.", [
        ("groupID", "string", 1, "Group ID."),
        ("userID", "string", 2, "Member user ID."),
        ("roleLevel", "int32", 3, "100 owner, 60 admin, 20 member."),
        ("joinTime", "int64", 4, "Join time, ms."),
        ("nickname", "string", 5, "Group nickname."),
        ("faceURL", "string", 6, "Avatar URL."),
        ("appMangerLevel", "int32", 7, "App-manager level of the user (sic: `appMangerLevel`)."),
        ("joinSource", "int32", 8, "How the member joined (1 admin, 2 invitation, 3 search, 4 QR code)."),
        ("operatorUserID", "string", 9, "Operator user ID."),
        ("ex", "string", 10, "Extension."),
        ("muteEndTime", "int64", 11, "Muted until (ms); muted while > now."),
        ("inviterUserID", "string", 12, "Inviter user ID."),
    ]),
    ("message", "PublicUserInfo", "Public part of a user profile.", [
        ("userID", "string", 1, "User ID."),
        ("nickname", "string", 2, "Nickname."),
        ("faceURL", "string", 3, "Avatar URL."),
        ("ex", "string", 4, "Extension."),
    ]),
    ("message", "UserInfo", "User profile.", [
        ("userID", "string", 1, "User ID."),
        ("nickname", "string", 2, "Nickname."),
        ("faceURL", "string", 3, "Avatar URL."),
        ("ex", "string", 4, "Extension."),
        ("createTime", "int64", 5, "Creation time, ms."),
        ("appMangerLevel", "int32", 6, "App-manager level (sic: `appMangerLevel`)."),
        ("globalRecvMsgOpt", "int32", 7, "Global receive-message option (0 receive, 1 not, 2 silently)."),
    ]),
    ("message", "FriendInfo", "A friend relation with the friend's profile.", [
        ("ownerUserID", "string", 1, "Owner of the friend list."),
        ("remark", "string", 2, "Remark."),
        ("createTime", "int64", 3, "Creation time (seconds in most REST replies)."),
        ("friendUser", "UserInfo", 4, "The friend's profile."),
        ("addSource", "int32", 5, "1 imported by admin, 2 via application."),
        ("operatorUserID", "string", 6, "Operator user ID."),
        ("ex", "string", 7, "Extension."),
        ("isPinned", "bool", 8, "Pinned friend."),
    ]),
    ("message", "BlackInfo", "A blacklist entry.", [
        ("ownerUserID", "string", 1, "Owner of the blacklist."),
        ("createTime", "int64", 2, "Creation time."),
        ("blackUserInfo", "PublicUserInfo", 3, "The blocked user."),
        ("addSource", "int32", 4, "Add source."),
        ("operatorUserID", "string", 5, "Operator user ID."),
        ("ex", "string", 6, "Extension."),
    ]),
    ("message", "FromToUserID", "A (from, to) user pair used by friend/relation tips.", [
        ("fromUserID", "string", 1, "From user."),
        ("toUserID", "string", 2, "To user."),
    ]),
    ("message", "GroupRequest", "A group join application (embedded in tips since protocol 0.0.73).", [
        ("userInfo", "PublicUserInfo", 1, "The applicant."),
        ("groupInfo", "GroupInfo", 2, "The group."),
        ("handleResult", "int32", 3, "0 pending, 1 accepted, -1 refused."),
        ("reqMsg", "string", 4, "Application message."),
        ("handleMsg", "string", 5, "Handling message."),
        ("reqTime", "int64", 6, "Application time, ms."),
        ("handleUserID", "string", 7, "Handler user ID."),
        ("handleTime", "int64", 8, "Handling time, ms."),
        ("ex", "string", 9, "Extension."),
        ("joinSource", "int32", 10, "Join source."),
        ("inviterUserID", "string", 11, "Inviter user ID."),
    ]),
    ("message", "FriendRequest", "A friend application (embedded in tips since protocol 0.0.73).", [
        ("fromUserID", "string", 1, "Applicant."),
        ("fromNickname", "string", 2, "Applicant nickname."),
        ("fromFaceURL", "string", 3, "Applicant avatar."),
        ("toUserID", "string", 4, "Target user."),
        ("toNickname", "string", 5, "Target nickname."),
        ("toFaceURL", "string", 6, "Target avatar."),
        ("handleResult", "int32", 7, "0 pending, 1 agreed, -1 refused."),
        ("reqMsg", "string", 8, "Application message."),
        ("createTime", "int64", 9, "Creation time, ms."),
        ("handlerUserID", "string", 10, "Handler user ID."),
        ("handleMsg", "string", 11, "Handling message."),
        ("handleTime", "int64", 12, "Handling time, ms."),
        ("ex", "string", 13, "Extension."),
    ]),
    # ---- tips: friend / relation ----
    ("message", "FriendApplicationTips", "1203 friend application.", [
        ("fromToUserID", "FromToUserID", 1, "from = applicant, to = target."),
        ("request", "FriendRequest", 2, "The application (protocol 0.0.73+)."),
    ]),
    ("message", "FriendApplicationApprovedTips", "1201 friend application approved (v3.8.3 also uses this shape for 1202).", [
        ("fromToUserID", "FromToUserID", 1, "from = applicant, to = responder."),
        ("handleMsg", "string", 2, "Handling message."),
        ("friendVersion", "uint64", 3, "Friend version after the change."),
        ("friendVersionID", "string", 4, "Friend version-log ID."),
        ("request", "FriendRequest", 5, "The application (protocol 0.0.73+)."),
    ]),
    ("message", "FriendApplicationRejectedTips", "1202 friend application rejected.", [
        ("fromToUserID", "FromToUserID", 1, "from = applicant, to = responder."),
        ("handleMsg", "string", 2, "Handling message."),
        ("request", "FriendRequest", 3, "The application (protocol 0.0.73+)."),
    ]),
    ("message", "FriendAddedTips", "1204 friend added (defined, never sent by v3.8.3).", [
        ("friend", "FriendInfo", 1, "The new friend."),
        ("operationTime", "int64", 2, "Operation time, ms."),
        ("opUser", "PublicUserInfo", 3, "Operator."),
        ("friendVersion", "uint64", 4, "Friend version."),
        ("friendVersionID", "string", 5, "Friend version-log ID."),
    ]),
    ("message", "FriendDeletedTips", "1205 friend deleted.", [
        ("fromToUserID", "FromToUserID", 1, "from = owner, to = deleted friend."),
        ("friendVersion", "uint64", 2, "Friend version."),
        ("friendVersionID", "string", 3, "Friend version-log ID."),
    ]),
    ("message", "BlackAddedTips", "1207 user blacklisted.", [
        ("fromToUserID", "FromToUserID", 1, "from = owner, to = blocked user."),
    ]),
    ("message", "BlackDeletedTips", "1208 user removed from blacklist.", [
        ("fromToUserID", "FromToUserID", 1, "from = owner, to = unblocked user."),
    ]),
    ("message", "FriendInfoChangedTips", "1206 friend remark (or other friend info) changed.", [
        ("fromToUserID", "FromToUserID", 1, "from = owner, to = friend."),
        ("friendVersion", "uint64", 2, "Friend version."),
        ("friendVersionID", "string", 3, "Friend version-log ID."),
        ("friendSortVersion", "uint64", 4, "Friend sort version."),
    ]),
    ("message", "FriendsInfoUpdateTips", "1210 friends' info updated.", [
        ("fromToUserID", "FromToUserID", 1, "to = owner."),
        ("friendIDs", "rep string", 2, "Changed friends."),
        ("friendVersion", "uint64", 3, "Friend version."),
        ("friendVersionID", "string", 4, "Friend version-log ID."),
    ]),
    # ---- tips: user ----
    ("message", "UserInfoUpdatedTips", "1303 (and 1209) user profile changed.", [
        ("userID", "string", 1, "The user whose profile changed."),
    ]),
    ("message", "UserStatusChangeTips", "1304 user online status changed.", [
        ("fromUserID", "string", 1, "From user."),
        ("toUserID", "string", 2, "To user."),
        ("status", "int32", 3, "1 online, 0 offline."),
        ("platformID", "int32", 4, "Platform."),
    ]),
    ("message", "UserCommandAddTips", "1305 user command added.", [
        ("fromUserID", "string", 1, "From user."),
        ("toUserID", "string", 2, "To user."),
    ]),
    ("message", "UserCommandUpdateTips", "1307 user command updated.", [
        ("fromUserID", "string", 1, "From user."),
        ("toUserID", "string", 2, "To user."),
    ]),
    ("message", "UserCommandDeleteTips", "1306 user command deleted.", [
        ("fromUserID", "string", 1, "From user."),
        ("toUserID", "string", 2, "To user."),
    ]),
    # ---- tips: group ----
    ("message", "GroupCreatedTips", "1501 group created.", [
        ("group", "GroupInfo", 1, "The group."),
        ("opUser", "GroupMemberFullInfo", 2, "Operator."),
        ("memberList", "rep GroupMemberFullInfo", 3, "Initial members."),
        ("operationTime", "int64", 4, "Operation time, ms."),
        ("groupOwnerUser", "GroupMemberFullInfo", 5, "The owner."),
    ] + VERSION_FIELDS(6, 7)),
    ("message", "GroupInfoSetTips", "1502 group info changed.", [
        ("opUser", "GroupMemberFullInfo", 1, "Operator."),
        ("muteTime", "int64", 2, "Mute time."),
        ("group", "GroupInfo", 3, "The group after the change."),
    ] + VERSION_FIELDS(4, 5)),
    ("message", "GroupInfoSetNameTips", "1520 group name changed.", [
        ("opUser", "GroupMemberFullInfo", 1, "Operator."),
        ("group", "GroupInfo", 2, "The group after the change."),
    ] + VERSION_FIELDS(3, 4)),
    ("message", "GroupInfoSetAnnouncementTips", "1519 group announcement changed.", [
        ("opUser", "GroupMemberFullInfo", 1, "Operator."),
        ("group", "GroupInfo", 2, "The group after the change."),
    ] + VERSION_FIELDS(3, 4)),
    ("message", "JoinGroupApplicationTips", "1503 join-group application.", [
        ("group", "GroupInfo", 1, "The group."),
        ("applicant", "PublicUserInfo", 2, "The applicant."),
        ("reqMsg", "string", 3, "Application message."),
        ("uuid", "string", 4, "Application UUID (protocol 0.0.73+)."),
        ("request", "GroupRequest", 5, "The application (protocol 0.0.73+)."),
    ]),
    ("message", "MemberQuitTips", "1504 member quit.", [
        ("group", "GroupInfo", 1, "The group."),
        ("quitUser", "GroupMemberFullInfo", 2, "The member who quit."),
        ("operationTime", "int64", 3, "Operation time, ms."),
    ] + VERSION_FIELDS(4, 5)),
    ("message", "GroupApplicationAcceptedTips", "1505 group application accepted (no field #3).", [
        ("group", "GroupInfo", 1, "The group."),
        ("opUser", "GroupMemberFullInfo", 2, "Operator."),
        ("handleMsg", "string", 4, "Handling message."),
        ("receiverAs", "int32", 5, "0 = you are the applicant, 1 = you are an admin."),
        ("uuid", "string", 6, "Application UUID (protocol 0.0.73+)."),
        ("request", "GroupRequest", 7, "The application (protocol 0.0.73+)."),
    ]),
    ("message", "GroupApplicationRejectedTips", "1506 group application rejected (no field #3).", [
        ("group", "GroupInfo", 1, "The group."),
        ("opUser", "GroupMemberFullInfo", 2, "Operator."),
        ("handleMsg", "string", 4, "Handling message."),
        ("receiverAs", "int32", 5, "0 = you are the applicant, 1 = you are an admin."),
        ("uuid", "string", 6, "Application UUID (protocol 0.0.73+)."),
        ("request", "GroupRequest", 7, "The application (protocol 0.0.73+)."),
    ]),
    ("message", "GroupOwnerTransferredTips", "1507 group owner transferred.", [
        ("group", "GroupInfo", 1, "The group."),
        ("opUser", "GroupMemberFullInfo", 2, "Operator."),
        ("newGroupOwner", "GroupMemberFullInfo", 3, "The new owner."),
        ("oldGroupOwner", "string", 4, "The old owner's user ID."),
        ("operationTime", "int64", 5, "Operation time, ms."),
        ("oldGroupOwnerInfo", "GroupMemberFullInfo", 6, "The old owner."),
    ] + VERSION_FIELDS(7, 8)),
    ("message", "MemberKickedTips", "1508 members kicked.", [
        ("group", "GroupInfo", 1, "The group."),
        ("opUser", "GroupMemberFullInfo", 2, "Operator."),
        ("kickedUserList", "rep GroupMemberFullInfo", 3, "Kicked members."),
        ("operationTime", "int64", 4, "Operation time, ms."),
    ] + VERSION_FIELDS(5, 6)),
    ("message", "MemberInvitedTips", "1509 members invited (also used when a join application is approved).", [
        ("group", "GroupInfo", 1, "The group."),
        ("opUser", "GroupMemberFullInfo", 2, "Operator."),
        ("invitedUserList", "rep GroupMemberFullInfo", 3, "Invited members."),
        ("operationTime", "int64", 4, "Operation time, ms."),
    ] + VERSION_FIELDS(5, 6) + [
        ("inviterUser", "GroupMemberFullInfo", 7, "Inviter."),
    ]),
    ("message", "MemberEnterTips", "1510 member entered (no field #4).", [
        ("group", "GroupInfo", 1, "The group."),
        ("entrantUser", "GroupMemberFullInfo", 2, "The member who entered."),
        ("operationTime", "int64", 3, "Operation time, ms."),
    ] + VERSION_FIELDS(5, 6)),
    ("message", "GroupDismissedTips", "1511 group dismissed.", [
        ("group", "GroupInfo", 1, "The group."),
        ("opUser", "GroupMemberFullInfo", 2, "Operator."),
        ("operationTime", "int64", 3, "Operation time, ms."),
    ]),
    ("message", "GroupMemberMutedTips", "1512 member muted.", [
        ("group", "GroupInfo", 1, "The group."),
        ("opUser", "GroupMemberFullInfo", 2, "Operator."),
        ("operationTime", "int64", 3, "Operation time, ms."),
        ("mutedUser", "GroupMemberFullInfo", 4, "The muted member."),
        ("mutedSeconds", "uint32", 5, "Mute duration, seconds."),
    ] + VERSION_FIELDS(6, 7)),
    ("message", "GroupMemberCancelMutedTips", "1513 member unmuted.", [
        ("group", "GroupInfo", 1, "The group."),
        ("opUser", "GroupMemberFullInfo", 2, "Operator."),
        ("operationTime", "int64", 3, "Operation time, ms."),
        ("mutedUser", "GroupMemberFullInfo", 4, "The unmuted member."),
    ] + VERSION_FIELDS(5, 6)),
    ("message", "GroupMutedTips", "1514 whole group muted.", [
        ("group", "GroupInfo", 1, "The group."),
        ("opUser", "GroupMemberFullInfo", 2, "Operator."),
        ("operationTime", "int64", 3, "Operation time, ms."),
    ] + VERSION_FIELDS(4, 5)),
    ("message", "GroupCancelMutedTips", "1515 whole-group mute lifted.", [
        ("group", "GroupInfo", 1, "The group."),
        ("opUser", "GroupMemberFullInfo", 2, "Operator."),
        ("operationTime", "int64", 3, "Operation time, ms."),
    ] + VERSION_FIELDS(4, 5)),
    ("message", "GroupMemberInfoSetTips", "1516 member info changed (also 1517 set to admin, 1518 set to ordinary member).", [
        ("group", "GroupInfo", 1, "The group."),
        ("opUser", "GroupMemberFullInfo", 2, "Operator."),
        ("operationTime", "int64", 3, "Operation time, ms."),
        ("changedUser", "GroupMemberFullInfo", 4, "The changed member."),
    ] + VERSION_FIELDS(5, 6) + [
        ("groupSortVersion", "uint64", 7, "Group sort version."),
    ]),
    # ---- tips: conversation / message ----
    ("message", "ConversationUpdateTips", "1300 conversation changed.", [
        ("userID", "string", 1, "Owner of the conversations."),
        ("conversationIDList", "rep string", 2, "Changed conversations."),
    ]),
    ("message", "ConversationSetPrivateTips", "1701 private (burn-after-reading) chat switched.", [
        ("recvID", "string", 1, "Receiver."),
        ("sendID", "string", 2, "Sender."),
        ("isPrivate", "bool", 3, "Private chat on/off."),
        ("conversationID", "string", 4, "Conversation."),
    ]),
    ("message", "ConversationHasReadTips", "1702 conversation unread count changed (read pointer moved).", [
        ("userID", "string", 1, "The reader."),
        ("conversationID", "string", 2, "Conversation."),
        ("hasReadSeq", "int64", 3, "New read seq."),
        ("unreadCountTime", "int64", 4, "Time, ms."),
    ]),
    ("message", "ConversationDeleteTips", "1704 conversations deleted (protocol >= 0.0.73-alpha.17 only).", [
        ("userID", "string", 1, "Owner."),
        ("conversationIDs", "rep string", 2, "Deleted conversations."),
    ]),
    ("message", "RevokeMsgTips", "2101 live revoke event.", [
        ("revokerUserID", "string", 1, "Who revoked."),
        ("clientMsgID", "string", 2, "Revoked message's clientMsgID."),
        ("revokeTime", "int64", 3, "Revoke time, ms."),
        ("sesstionType", "int32", 5, "Session type (sic: the wire name is `sesstionType`).", "session_type"),
        ("seq", "int64", 6, "Revoked message's seq."),
        ("conversationID", "string", 7, "Conversation."),
        ("isAdminRevoke", "bool", 8, "Revoked by a group admin/owner (not the sender)."),
    ]),
    ("message", "MessageRevokedContent", "Detail of a revoked message as returned by pulls (content type 2101).", [
        ("revokerID", "string", 1, "Who revoked."),
        ("revokerRole", "int32", 2, "Revoker's group role."),
        ("clientMsgID", "string", 3, "Revoked message's clientMsgID."),
        ("revokerNickname", "string", 4, "Revoker's nickname."),
        ("revokeTime", "int64", 5, "Revoke time, ms."),
        ("sourceMessageSendTime", "int64", 6, "Original send time, ms."),
        ("sourceMessageSendID", "string", 7, "Original sender."),
        ("sourceMessageSenderNickname", "string", 8, "Original sender's nickname."),
        ("sessionType", "int32", 10, "Session type."),
        ("seq", "int64", 11, "Seq."),
        ("ex", "string", 12, "Extension."),
    ]),
    ("message", "MarkAsReadTips", "2200 has-read receipt.", [
        ("markAsReadUserID", "string", 1, "The reader."),
        ("conversationID", "string", 2, "Conversation."),
        ("seqs", "rep int64", 3, "Seqs marked as read."),
        ("hasReadSeq", "int64", 4, "New read seq."),
    ]),
    ("message", "DeleteMsgsTips", "2102 messages deleted.", [
        ("userID", "string", 1, "Who deleted."),
        ("conversationID", "string", 2, "Conversation."),
        ("seqs", "rep int64", 3, "Deleted seqs."),
    ]),
    ("message", "ClearConversationTips", "1703 conversations cleared.", [
        ("userID", "string", 1, "Owner."),
        ("conversationIDs", "rep string", 2, "Cleared conversations."),
    ]),
    ("message", "DeleteMessageTips", "Legacy delete-message tips.", [
        ("opUserID", "string", 1, "Operator."),
        ("userID", "string", 2, "User."),
        ("seqs", "rep int64", 3, "Seqs."),
    ]),
    ("message", "StreamMsgTips", "2300 stream message (protocol 0.0.72 only).", [
        ("conversationID", "string", 1, "Conversation."),
        ("clientMsgID", "string", 2, "Message."),
        ("startIndex", "int64", 3, "Start index."),
        ("packets", "rep string", 4, "Packets."),
        ("end", "bool", 5, "Stream finished."),
    ]),
    ("raw", "pub use super::msg::{ConversationSeqs, GetSeqMessageReq, GetSeqMessageResp};"),
]}

msg = {"items": [
    ("message", "ConversationSeqs", "Explicit seqs of one conversation (numbering starts at 2).", [
        ("conversationID", "string", 2, "Conversation."),
        ("seqs", "rep int64", 3, "Seqs wanted."),
    ]),
    ("message", "GetSeqMessageReq", "1005 `PullMsgBySeqList` request (explicit seqs).", [
        ("userID", "string", 1, "The caller."),
        ("conversations", "rep ConversationSeqs", 2, "Seqs per conversation."),
        ("order", "enum sdkws::PullOrder", 3, "Pull order."),
    ]),
    ("message", "GetSeqMessageResp", "1005 response.", [
        ("msgs", "map<string,sdkws::PullMsgs>", 1, "Chat conversations."),
        ("notificationMsgs", "map<string,sdkws::PullMsgs>", 2, "Notification conversations (`n_...`)."),
    ]),
    ("message", "GetConversationsHasReadAndMaxSeqReq", "1006 `GetConvMaxReadSeq` request.", [
        ("userID", "string", 1, "The caller."),
        ("conversationIDs", "rep string", 2, "Conversations (empty = all of the user's)."),
        ("returnPinned", "bool", 3, "Protocol 0.0.73+; not acted upon by the server."),
    ]),
    ("message", "Seqs", "Max seq, read seq and max-seq time of one conversation.", [
        ("maxSeq", "int64", 1, "Max seq."),
        ("hasReadSeq", "int64", 2, "The user's read pointer."),
        ("maxSeqTime", "int64", 3, "When the max seq was allocated, ms."),
    ]),
    ("message", "GetConversationsHasReadAndMaxSeqResp", "1006 response.", [
        ("seqs", "map<string,Seqs>", 1, "conversationID -> seqs."),
        ("pinnedConversationIDs", "rep string", 2, "Protocol 0.0.73+; not filled."),
    ]),
    ("message", "GetLastMessageReq", "1007 `PullConvLastMessage` request.", [
        ("userID", "string", 1, "The caller."),
        ("conversationIDs", "rep string", 2, "Conversations."),
    ]),
    ("message", "GetLastMessageResp", "1007 response.", [
        ("msgs", "map<string,sdkws::MsgData>", 1, "conversationID -> last message."),
    ]),
    ("message", "SendMsgReq", "Internal RPC wrapper (not used on the WebSocket; 1003 carries a bare `MsgData`).", [
        ("msgData", "sdkws::MsgData", 3, "The message."),
    ]),
    ("message", "SendMsgResp", "1003 `SendMsg` response.", [
        ("serverMsgID", "string", 1, "Server-generated message ID."),
        ("clientMsgID", "string", 2, "Echo of the request's clientMsgID."),
        ("sendTime", "int64", 3, "Send time, ms."),
        ("modify", "sdkws::MsgData", 4, "Message as modified by a webhook (protocol 0.0.73+, server main only)."),
    ]),
]}

push = {"items": [
    ("message", "DelUserPushTokenReq", "2003 `Logout` request.", [
        ("userID", "string", 1, "The caller."),
        ("platformID", "int32", 2, "Platform whose push token is dropped."),
    ]),
    ("message", "DelUserPushTokenResp", "2003 response (empty).", []),
]}

conversation = {"items": [
    ("message", "Conversation", "Server-side conversation record of one user.", [
        ("ownerUserID", "string", 1, "Owner."),
        ("conversationID", "string", 2, "Conversation ID."),
        ("recvMsgOpt", "int32", 3, "Receive option (0 receive, 1 not, 2 silently)."),
        ("conversationType", "int32", 4, "1 single, 3 group, 4 notification."),
        ("userID", "string", 5, "Peer (single chat)."),
        ("groupID", "string", 6, "Group (group chat)."),
        ("isPinned", "bool", 7, "Pinned."),
        ("attachedInfo", "string", 8, "Attached info."),
        ("isPrivateChat", "bool", 9, "Burn-after-reading chat."),
        ("groupAtType", "int32", 10, "0 none, 1 @me, 2 @all, 3 @all+@me, 4 group announcement."),
        ("ex", "string", 11, "Extension."),
        ("burnDuration", "int32", 12, "Burn duration, seconds."),
        ("minSeq", "int64", 13, "Min visible seq."),
        ("maxSeq", "int64", 14, "Max visible seq (0 = unlimited)."),
        ("msgDestructTime", "int64", 15, "Message destruct time, seconds."),
        ("latestMsgDestructTime", "int64", 16, "Latest destruct time, ms."),
        ("isMsgDestruct", "bool", 17, "Message destruction on."),
    ]),
]}

relation = {"items": [
    ("message", "FriendInfoOnly", "A friend relation without the friend's profile.", [
        ("ownerUserID", "string", 1, "Owner."),
        ("friendUserID", "string", 2, "Friend."),
        ("remark", "string", 3, "Remark."),
        ("createTime", "int64", 4, "Creation time, ms."),
        ("addSource", "int32", 5, "Add source."),
        ("operatorUserID", "string", 6, "Operator."),
        ("ex", "string", 7, "Extension."),
        ("isPinned", "bool", 8, "Pinned."),
    ]),
]}

jssdk = {"items": [
    ("message", "GetActiveConversationsReq", "`/jssdk/get_active_conversations` request.", [
        ("ownerUserID", "string", 1, "Owner (replaced by the token's user)."),
        ("count", "int64", 2, "Max conversations (<= 0 or > 500 means 100)."),
    ]),
    ("message", "GetConversationsReq", "`/jssdk/get_conversations` request.", [
        ("ownerUserID", "string", 1, "Owner (replaced by the token's user)."),
        ("conversationIDs", "rep string", 2, "Conversations."),
    ]),
    ("message", "ConversationMsg", "One conversation with its last message and peer info.", [
        ("conversation", "conversation::Conversation", 1, "The conversation record."),
        ("lastMsg", "sdkws::MsgData", 2, "Its last message."),
        ("user", "sdkws::UserInfo", 3, "Peer profile (single chat)."),
        ("friend", "relation::FriendInfoOnly", 4, "Friend relation (single chat, null if not a friend)."),
        ("group", "sdkws::GroupInfo", 5, "Group (group chat)."),
        ("maxSeq", "int64", 6, "Max seq."),
        ("readSeq", "int64", 7, "The user's read seq."),
    ]),
    ("message", "GetActiveConversationsResp", "`/jssdk/get_active_conversations` response.", [
        ("unreadCount", "int64", 1, "Total unread count."),
        ("conversations", "rep ConversationMsg", 2, "Conversations."),
    ]),
    ("message", "GetConversationsResp", "`/jssdk/get_conversations` response.", [
        ("unreadCount", "int64", 1, "Total unread count."),
        ("conversations", "rep ConversationMsg", 2, "Conversations."),
    ]),
]}

MODULES = {
    "sdkws": sdkws,
    "msg": msg,
    "push": push,
    "conversation": conversation,
    "relation": relation,
    "jssdk": jssdk,
}
