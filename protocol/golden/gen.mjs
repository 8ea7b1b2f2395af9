// Writes sample messages encoded by the official @openim/protocol encoders into <outdir>:
// one <id>.bin per sample and manifest.json [{id, type, file, expected}], where `expected`
// holds every field value of the sample (bytes as base64).
// Usage: node gen.mjs <outdir>
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PbCoder, make, toJson } from "./common.mjs";

const utf8 = (s) => new TextEncoder().encode(s);

const offlinePush = () =>
  make("OfflinePushInfo", {
    title: "New message",
    desc: "Alice: héllo <3",
    ex: "{\"k\":1}",
    iOSPushSound: "default.caf",
    iOSBadgeCount: true,
    signalInfo: "sig",
  });

const fullMsg = (over = {}) =>
  make("MsgData", {
    sendID: "alice",
    recvID: "bot_1",
    groupID: "g_42",
    clientMsgID: "0f3c2a9b8d7e6f5a4b3c2d1e0f9a8b7c",
    serverMsgID: "a1b2c3d4e5f60718293a4b5c6d7e8f90",
    senderPlatformID: 5,
    senderNickname: "Alice ✨",
    senderFaceURL: "https://cdn.example/a.png?x=1&y=2",
    sessionType: 3,
    msgFrom: 100,
    contentType: 106,
    content: utf8('{"text":"@bot hi 你好","atUserList":["bot_1","AtAllTag"],"isAtSelf":false}'),
    seq: 9007199254740,
    sendTime: 1736841600123,
    createTime: 1736841599000,
    status: 2,
    isRead: true,
    options: { history: true, persistent: false, offlinePush: false, unreadCount: true, isNotNotification: true, senderSync: false },
    offlinePushInfo: offlinePush(),
    atUserIDList: ["bot_1", "AtAllTag"],
    attachedInfo: '{"isPrivateChat":false,"burnDuration":0}',
    ex: "extension",
    ...over,
  });

const notif = (seq) =>
  make("MsgData", {
    sendID: "owner",
    recvID: "g_42",
    groupID: "g_42",
    clientMsgID: `n${seq}`,
    serverMsgID: `sn${seq}`,
    sessionType: 3,
    msgFrom: 200,
    contentType: 1504,
    content: utf8('{"detail":"{\\"group\\":null}"}'),
    seq,
    sendTime: 1736841600000 + seq,
    createTime: 1736841600000,
    status: 2,
    options: { isNotNotification: false, isSendMsg: true, history: false },
  });

const pullMsgs = (msgs, isEnd) => make("PullMsgs", { Msgs: msgs, isEnd });

const conversation = () =>
  make("Conversation", {
    ownerUserID: "bot_1",
    conversationID: "si_alice_bot_1",
    recvMsgOpt: 2,
    conversationType: 1,
    userID: "alice",
    groupID: "g_none",
    isPinned: true,
    attachedInfo: "ai",
    isPrivateChat: true,
    groupAtType: 3,
    ex: "cex",
    burnDuration: 30,
    minSeq: 2,
    maxSeq: 99,
    msgDestructTime: 604800,
    latestMsgDestructTime: -62135596800000,
    isMsgDestruct: true,
  });

const userInfo = () =>
  make("UserInfo", {
    userID: "alice",
    nickname: "Alice",
    faceURL: "f.png",
    ex: "uex",
    createTime: 1736841600000,
    appMangerLevel: 2,
    globalRecvMsgOpt: 1,
  });

const friendInfoOnly = () =>
  make("FriendInfoOnly", {
    ownerUserID: "bot_1",
    friendUserID: "alice",
    remark: "best friend",
    createTime: 1736841600000,
    addSource: 2,
    operatorUserID: "bot_1",
    ex: "fex",
    isPinned: true,
  });

const groupInfo = () =>
  make("GroupInfo", {
    groupID: "g_42",
    groupName: "The answer",
    notification: "be nice",
    introduction: "intro",
    faceURL: "g.png",
    ownerUserID: "owner",
    createTime: 1736841600000,
    memberCount: 4294967295,
    ex: "gex",
    status: 3,
    creatorUserID: "creator",
    groupType: 2,
    needVerification: 1,
    lookMemberInfo: 1,
    applyMemberFriend: 1,
    notificationUpdateTime: 1736841600999,
    notificationUserID: "owner",
  });

const conversationMsg = () =>
  make("ConversationMsg", {
    conversation: conversation(),
    lastMsg: fullMsg({ contentType: 101, content: utf8('{"content":"last"}') }),
    user: userInfo(),
    friend: friendInfoOnly(),
    group: groupInfo(),
    maxSeq: 99,
    readSeq: 97,
  });

const samples = [
  ["msgdata_full", "MsgData", fullMsg()],
  ["msgdata_negative_and_empty", "MsgData", fullMsg({ status: -1, senderPlatformID: -7, options: {}, atUserIDList: [], offlinePushInfo: undefined, content: new Uint8Array() })],
  ["msgdata_defaults", "MsgData", make("MsgData")],
  ["msgdata_js_only_fields", "MsgData", fullMsg({ keyVersion: 3, dstUserIDs: ["x", "y"] })],
  ["offline_push_info", "OfflinePushInfo", offlinePush()],
  [
    "push_messages_both_maps",
    "PushMessages",
    make("PushMessages", {
      msgs: {
        si_alice_bot_1: pullMsgs([fullMsg({ sessionType: 1, groupID: "", seq: 1 }), fullMsg({ sessionType: 1, groupID: "", seq: 2, clientMsgID: "second" })], false),
        sg_g_42: pullMsgs([fullMsg({ seq: 0 })], true),
      },
      notificationMsgs: { n_g_42: pullMsgs([notif(7), notif(8)], true) },
    }),
  ],
  ["push_messages_single", "PushMessages", make("PushMessages", { msgs: { "si_a_b": pullMsgs([fullMsg({ seq: 12 })], false) } })],
  ["pull_msgs", "PullMsgs", pullMsgs([fullMsg(), notif(3)], true)],
  ["seq_range", "SeqRange", make("SeqRange", { conversationID: "sg_g_42", begin: 1, end: 1099511627776, num: 100 })],
  [
    "pull_message_by_seqs_req",
    "PullMessageBySeqsReq",
    make("PullMessageBySeqsReq", {
      userID: "bot_1",
      seqRanges: [
        make("SeqRange", { conversationID: "si_alice_bot_1", begin: 0, end: 57, num: 10 }),
        make("SeqRange", { conversationID: "n_g_42", begin: 3, end: 9, num: 1 }),
      ],
      order: 1,
    }),
  ],
  [
    "pull_message_by_seqs_resp",
    "PullMessageBySeqsResp",
    make("PullMessageBySeqsResp", {
      msgs: {
        si_alice_bot_1: pullMsgs([fullMsg({ seq: 56 }), make("MsgData", { seq: 57, status: 4 })], true),
        sg_g_42: pullMsgs([], false),
      },
      notificationMsgs: { n_g_42: pullMsgs([notif(3), notif(4)], true) },
    }),
  ],
  [
    "get_max_seq_resp",
    "GetMaxSeqResp",
    make("GetMaxSeqResp", {
      maxSeqs: { si_alice_bot_1: 57, sg_g_42: 1099511627776, n_bot_1_bot_1: 3 },
      minSeqs: { sg_g_42: 2 },
    }),
  ],
  ["user_send_msg_resp", "UserSendMsgResp", make("UserSendMsgResp", { serverMsgID: "a1b2c3d4e5f60718293a4b5c6d7e8f90", clientMsgID: "0f3c2a9b8d7e6f5a4b3c2d1e0f9a8b7c", sendTime: 1736841600123 })],
  ["get_conversations_has_read_and_max_seq_req", "GetConversationsHasReadAndMaxSeqReq", make("GetConversationsHasReadAndMaxSeqReq", { userID: "bot_1", conversationIDs: ["si_alice_bot_1", "sg_g_42"] })],
  ["get_conversations_has_read_and_max_seq_req_empty", "GetConversationsHasReadAndMaxSeqReq", make("GetConversationsHasReadAndMaxSeqReq", { userID: "u1" })],
  [
    "get_conversations_has_read_and_max_seq_resp",
    "GetConversationsHasReadAndMaxSeqResp",
    make("GetConversationsHasReadAndMaxSeqResp", {
      seqs: {
        si_alice_bot_1: make("Seqs", { maxSeq: 57, hasReadSeq: 55, maxSeqTime: 1736841600123 }),
        sg_g_42: make("Seqs", { maxSeq: 0, hasReadSeq: 0, maxSeqTime: 0 }),
        sn_bot_1_oa: make("Seqs", { maxSeq: 1099511627776, hasReadSeq: 1, maxSeqTime: 1 }),
      },
    }),
  ],
  ["seqs", "Seqs", make("Seqs", { maxSeq: 3, hasReadSeq: 2, maxSeqTime: 1736841600123 })],
  ["conversation_seqs", "ConversationSeqs", make("ConversationSeqs", { conversationID: "sg_g_42", seqs: [1, 2, 300, 1099511627776] })],
  [
    "get_seq_message_req",
    "GetSeqMessageReq",
    make("GetSeqMessageReq", {
      userID: "bot_1",
      conversations: [
        make("ConversationSeqs", { conversationID: "sg_g_42", seqs: [5, 6, 7] }),
        make("ConversationSeqs", { conversationID: "n_g_42", seqs: [1] }),
      ],
    }),
  ],
  [
    "get_seq_message_resp",
    "GetSeqMessageResp",
    make("GetSeqMessageResp", {
      msgs: { sg_g_42: pullMsgs([fullMsg({ seq: 5 }), make("MsgData", { seq: 6, status: 4 })], true), si_x_y: pullMsgs([], false) },
      notificationMsgs: { n_g_42: pullMsgs([notif(1)], false) },
    }),
  ],
  ["sub_user_online_status", "SubUserOnlineStatus", make("SubUserOnlineStatus", { subscribeUserID: ["alice", "bob"], unsubscribeUserID: ["carol"] })],
  ["sub_user_online_status_elem", "SubUserOnlineStatusElem", make("SubUserOnlineStatusElem", { userID: "alice", onlinePlatformIDs: [1, 5, 11] })],
  [
    "sub_user_online_status_tips",
    "SubUserOnlineStatusTips",
    make("SubUserOnlineStatusTips", {
      subscribers: [
        make("SubUserOnlineStatusElem", { userID: "alice", onlinePlatformIDs: [5] }),
        make("SubUserOnlineStatusElem", { userID: "bob", onlinePlatformIDs: [] }),
      ],
    }),
  ],
  ["set_app_background_status_resp", "SetAppBackgroundStatusResp", make("SetAppBackgroundStatusResp")],
  ["get_active_conversations_req", "GetActiveConversationsReq", make("GetActiveConversationsReq", { ownerUserID: "bot_1", count: 500 })],
  ["get_conversations_req", "GetConversationsReq", make("GetConversationsReq", { ownerUserID: "bot_1", conversationIDs: ["si_alice_bot_1", "sg_g_42"] })],
  ["conversation", "Conversation", conversation()],
  ["user_info", "UserInfo", userInfo()],
  ["friend_info_only", "FriendInfoOnly", friendInfoOnly()],
  ["group_info", "GroupInfo", groupInfo()],
  ["group_info_js_only_field", "GroupInfo", make("GroupInfo", { ...groupInfo(), displayIsRead: true })],
  ["conversation_msg", "ConversationMsg", conversationMsg()],
  ["get_active_conversations_resp", "GetActiveConversationsResp", make("GetActiveConversationsResp", { unreadCount: 2, conversations: [conversationMsg(), make("ConversationMsg", { maxSeq: 1 })] })],
  ["get_conversations_resp", "GetConversationsResp", make("GetConversationsResp", { unreadCount: 7, conversations: [conversationMsg()] })],
  [
    "group_member_full_info",
    "GroupMemberFullInfo",
    make("GroupMemberFullInfo", {
      groupID: "g_42",
      userID: "alice",
      roleLevel: 60,
      joinTime: 1736841600000,
      nickname: "Al",
      faceURL: "a.png",
      appMangerLevel: 1,
      joinSource: 4,
      operatorUserID: "owner",
      ex: "mex",
      muteEndTime: 1736845200000,
      inviterUserID: "owner",
    }),
  ],
  ["public_user_info", "PublicUserInfo", make("PublicUserInfo", { userID: "alice", nickname: "Alice", faceURL: "a.png", ex: "pex" })],
];

const outdir = process.argv[2];
if (!outdir) {
  console.error("usage: node gen.mjs <outdir>");
  process.exit(2);
}
mkdirSync(outdir, { recursive: true });
const manifest = [];
for (const [id, type, message] of samples) {
  const bytes = PbCoder[type].encode(message).finish();
  const file = `${id}.bin`;
  writeFileSync(join(outdir, file), bytes);
  manifest.push({ id, type, file, expected: toJson(message) });
}
writeFileSync(join(outdir, "manifest.json"), JSON.stringify(manifest, null, 1));
console.log(`wrote ${manifest.length} samples to ${outdir}`);
