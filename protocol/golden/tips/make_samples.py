#!/usr/bin/env python3
"""Writes tips_samples.json: notification tips shaped exactly as the Go server writes them.

Independent hand transcription of ws-gateway.md §4.4/§4.5 (not generated from the Rust
schema): Go encoding/json of the generated protobuf structs -> keys in proto declaration
order, every field present, null for unset messages and nil lists, numbers as numbers,
HTML characters escaped (\\u003c \\u003e \\u0026). Each sample carries the full
MsgData.content bytes ({"detail":"<tips JSON>"}) as Go double-encodes them.
"""
import json
import os


def go_json(v):
    s = json.dumps(v, separators=(",", ":"), ensure_ascii=False)
    return (s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
             .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def group(gid="g1", name="Bots <&> Friends", status=0, count=3):
    return {"groupID": gid, "groupName": name, "notification": "", "introduction": "hello",
            "faceURL": "", "ownerUserID": "owner", "createTime": 1736841600000, "memberCount": count,
            "ex": "", "status": status, "creatorUserID": "owner", "groupType": 2,
            "needVerification": 0, "lookMemberInfo": 0, "applyMemberFriend": 0,
            "notificationUpdateTime": 0, "notificationUserID": ""}


def member(uid, role=20, gid="g1", mute=0):
    return {"groupID": gid, "userID": uid, "roleLevel": role, "joinTime": 1736841600123,
            "nickname": uid.capitalize(), "faceURL": "", "appMangerLevel": 0, "joinSource": 2,
            "operatorUserID": "owner", "ex": "", "muteEndTime": mute, "inviterUserID": ""}


def public(uid):
    return {"userID": uid, "nickname": uid.capitalize(), "faceURL": "http://x/a.png?a=1&b=2", "ex": ""}


def fromto(a, b):
    return {"fromUserID": a, "toUserID": b}


def friend_request(frm, to, result=0):
    return {"fromUserID": frm, "fromNickname": frm.capitalize(), "fromFaceURL": "", "toUserID": to,
            "toNickname": to.capitalize(), "toFaceURL": "", "handleResult": result, "reqMsg": "hi, add me",
            "createTime": 1736841600000, "handlerUserID": "", "handleMsg": "", "handleTime": 0, "ex": ""}


def group_request(uid, result=0):
    return {"userInfo": public(uid), "groupInfo": group(), "handleResult": result, "reqMsg": "let me in",
            "handleMsg": "", "reqTime": 1736841600000, "handleUserID": "", "handleTime": 0, "ex": "",
            "joinSource": 3, "inviterUserID": ""}


SAMPLES = [
    (1201, "FriendApplicationApprovedTips", {"fromToUserID": fromto("alice", "bot"), "handleMsg": "welcome",
        "friendVersion": 7, "friendVersionID": "6790f1a2b3c4d5e6f7a8b9c0", "request": None}),
    (1202, "FriendApplicationApprovedTips (v3.8.3 builds 1202 with the Approved struct)", {"fromToUserID": fromto("alice", "bot"),
        "handleMsg": "no", "friendVersion": 0, "friendVersionID": "", "request": None}),
    (1203, "FriendApplicationTips", {"fromToUserID": fromto("alice", "bot"), "request": friend_request("alice", "bot")}),
    (1205, "FriendDeletedTips", {"fromToUserID": fromto("bot", "alice"), "friendVersion": 8, "friendVersionID": "v8"}),
    (1206, "FriendInfoChangedTips", {"fromToUserID": fromto("bot", "alice"), "friendVersion": 9, "friendVersionID": "v9",
        "friendSortVersion": 2}),
    (1207, "BlackAddedTips", {"fromToUserID": fromto("bot", "spammer")}),
    (1208, "BlackDeletedTips", {"fromToUserID": fromto("bot", "spammer")}),
    (1209, "UserInfoUpdatedTips", {"userID": "alice"}),
    (1210, "FriendsInfoUpdateTips", {"fromToUserID": fromto("", "bot"), "friendIDs": ["alice", "bob"],
        "friendVersion": 18446744073709551615, "friendVersionID": "vmax"}),
    (1300, "ConversationUpdateTips", {"userID": "bot", "conversationIDList": None}),
    (1303, "UserInfoUpdatedTips", {"userID": "bot"}),
    (1304, "UserStatusChangeTips", {"fromUserID": "alice", "toUserID": "bot", "status": 1, "platformID": 5}),
    (1501, "GroupCreatedTips", {"group": group(), "opUser": member("owner", 100),
        "memberList": [member("alice"), member("bot")], "operationTime": 1736841600456,
        "groupOwnerUser": member("owner", 100), "groupMemberVersion": 1, "groupMemberVersionID": "gv1"}),
    (1502, "GroupInfoSetTips", {"opUser": member("owner", 100), "muteTime": 0, "group": group(name="Renamed"),
        "groupMemberVersion": 0, "groupMemberVersionID": ""}),
    (1503, "JoinGroupApplicationTips", {"group": group(), "applicant": public("carol"), "reqMsg": "let me in",
        "uuid": "", "request": group_request("carol")}),
    (1504, "MemberQuitTips", {"group": group(), "quitUser": member("alice"), "operationTime": 1736841601000,
        "groupMemberVersion": 3, "groupMemberVersionID": "gv3"}),
    (1505, "GroupApplicationAcceptedTips", {"group": group(), "opUser": member("owner", 100), "handleMsg": "ok",
        "receiverAs": 1, "uuid": "", "request": group_request("carol", 1)}),
    (1506, "GroupApplicationRejectedTips", {"group": group(), "opUser": member("owner", 100), "handleMsg": "no",
        "receiverAs": 0, "uuid": "", "request": None}),
    (1507, "GroupOwnerTransferredTips", {"group": group(), "opUser": member("owner", 100),
        "newGroupOwner": member("alice", 100), "oldGroupOwner": "owner", "operationTime": 1736841602000,
        "oldGroupOwnerInfo": member("owner", 20), "groupMemberVersion": 4, "groupMemberVersionID": "gv4"}),
    (1508, "MemberKickedTips", {"group": group(), "opUser": member("owner", 100), "kickedUserList": [member("spammer")],
        "operationTime": 1736841603000, "groupMemberVersion": 5, "groupMemberVersionID": "gv5"}),
    (1509, "MemberInvitedTips", {"group": group(), "opUser": member("owner", 100), "invitedUserList": [member("bot")],
        "operationTime": 1736841604000, "groupMemberVersion": 6, "groupMemberVersionID": "gv6", "inviterUser": None}),
    (1510, "MemberEnterTips", {"group": group(), "entrantUser": member("dave"), "operationTime": 1736841605000,
        "groupMemberVersion": 7, "groupMemberVersionID": "gv7"}),
    (1511, "GroupDismissedTips", {"group": group(status=0), "opUser": member("owner", 100), "operationTime": 1736841606000}),
    (1512, "GroupMemberMutedTips", {"group": group(), "opUser": member("owner", 100), "operationTime": 1736841607000,
        "mutedUser": member("alice", mute=1736845207000), "mutedSeconds": 3600, "groupMemberVersion": 8,
        "groupMemberVersionID": "gv8"}),
    (1513, "GroupMemberCancelMutedTips", {"group": group(), "opUser": member("owner", 100), "operationTime": 1736841608000,
        "mutedUser": member("alice"), "groupMemberVersion": 9, "groupMemberVersionID": "gv9"}),
    (1514, "GroupMutedTips", {"group": group(status=3), "opUser": member("owner", 100), "operationTime": 1736841609000,
        "groupMemberVersion": 0, "groupMemberVersionID": ""}),
    (1515, "GroupCancelMutedTips", {"group": group(), "opUser": member("owner", 100), "operationTime": 1736841610000,
        "groupMemberVersion": 0, "groupMemberVersionID": ""}),
    (1516, "GroupMemberInfoSetTips", {"group": group(), "opUser": member("owner", 100), "operationTime": 1736841611000,
        "changedUser": member("alice"), "groupMemberVersion": 10, "groupMemberVersionID": "gv10", "groupSortVersion": 0}),
    (1517, "GroupMemberInfoSetTips", {"group": group(), "opUser": member("owner", 100), "operationTime": 1736841612000,
        "changedUser": member("alice", 60), "groupMemberVersion": 11, "groupMemberVersionID": "gv11", "groupSortVersion": 1}),
    (1518, "GroupMemberInfoSetTips", {"group": group(), "opUser": member("owner", 100), "operationTime": 1736841613000,
        "changedUser": member("alice", 20), "groupMemberVersion": 12, "groupMemberVersionID": "gv12", "groupSortVersion": 2}),
    (1519, "GroupInfoSetAnnouncementTips", {"opUser": member("owner", 100), "group": group(),
        "groupMemberVersion": 0, "groupMemberVersionID": ""}),
    (1520, "GroupInfoSetNameTips", {"opUser": member("owner", 100), "group": group(name="New name"),
        "groupMemberVersion": 0, "groupMemberVersionID": ""}),
    (1701, "ConversationSetPrivateTips", {"recvID": "alice", "sendID": "bot", "isPrivate": True,
        "conversationID": "si_alice_bot"}),
    (1702, "ConversationHasReadTips", {"userID": "bot", "conversationID": "sg_g1", "hasReadSeq": 42,
        "unreadCountTime": 1736841614000}),
    (1703, "ClearConversationTips", {"userID": "bot", "conversationIDs": ["si_alice_bot"]}),
    (1704, "ConversationDeleteTips", {"userID": "bot", "conversationIDs": ["sg_g1", "si_alice_bot"]}),
    (2001, "BusinessNotification", {"key": "order", "data": "{\"id\":1}"}),
    (2101, "RevokeMsgTips", {"revokerUserID": "alice", "clientMsgID": "0f3c2a9b8d7e6f5a4b3c2d1e0f9a8b7c",
        "revokeTime": 1736841615000, "sesstionType": 3, "seq": 17, "conversationID": "sg_g1", "isAdminRevoke": False}),
    (2101, "MessageRevokedContent", {"revokerID": "alice", "revokerRole": 20,
        "clientMsgID": "0f3c2a9b8d7e6f5a4b3c2d1e0f9a8b7c", "revokerNickname": "Alice", "revokeTime": 1736841615000,
        "sourceMessageSendTime": 1736841600000, "sourceMessageSendID": "alice", "sourceMessageSenderNickname": "Alice",
        "sessionType": 3, "seq": 17, "ex": ""}),
    (2102, "DeleteMsgsTips", {"userID": "bot", "conversationID": "si_alice_bot", "seqs": [3, 4, 5]}),
    (2200, "MarkAsReadTips", {"markAsReadUserID": "alice", "conversationID": "si_alice_bot", "seqs": None,
        "hasReadSeq": 12}),
]


def main():
    out = []
    for ct, name, tips in SAMPLES:
        detail = go_json(tips)
        content = go_json({"detail": detail})
        out.append({"contentType": ct, "tips": name, "detail": detail, "content": content})
    path = os.path.join(os.path.dirname(__file__), "tips_samples.json")
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    print("wrote", len(out), "samples to", path)


if __name__ == "__main__":
    main()
