// What an admin console (or a bot with the admin token) finds after real
// clients talked: the chat-log search (/msg/search_msg) and the group search
// (/group/get_groups). Spec references: http-api.md §5.3 (get_groups), §5.4
// (search_msg: filters, newest first, revoked messages as 2101, group quirks).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIO, scenario, nicknameOf } from '../lib/world.mjs';
import { CbEvents, singleConversationID, until } from '../lib/client.mjs';

const today = () => new Date().toISOString().slice(0, 10);

test(
  'search_msg: filters by sender, recipient, group, content type and day; newest first; revoked shown as 2101',
  SCENARIO,
  scenario(async (w) => {
    const [alice, bob, carol] = await w.login('smalice', 'smbob', 'smcarol');
    const m1 = await alice.sendText('smbob', 'first to bob');
    const m2 = await alice.sendText('smbob', 'second to bob');
    const m3 = await bob.sendText('smalice', 'bob answers');
    const custom = await alice.call('createCustomMessage', { data: '{"k":1}', extension: '', description: '' });
    const m4 = await alice.call('sendMessage', { recvID: 'smcarol', groupID: '', message: custom });
    const group = await carol.call('createGroup', { memberUserIDs: ['smalice'], adminUserIDs: [], groupInfo: { groupName: 'Search Group', groupType: 2, faceURL: 'https://img.example/sg.png' } });
    await alice.waitFor(CbEvents.OnJoinedGroupAdded, { groupID: group.groupID });
    const g1 = await alice.sendGroupText(group.groupID, 'in the group');
    for (const [c, m] of [[bob, m1], [bob, m2], [alice, m3], [carol, m4], [carol, g1]]) await c.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: m.clientMsgID });

    const search = (filter, page = { pageNumber: 1, showNumber: 50 }) =>
      w.sandbox.adminPost('/msg/search_msg', { sendID: '', recvID: '', contentType: 0, sendTime: '', sessionType: 0, ...filter, pagination: page });

    // By sender, all kinds: newest first.
    const fromAlice = await search({ sendID: 'smalice' });
    const ids = fromAlice.chatLogs.map((l) => l.chatLog.clientMsgID);
    for (const m of [m1, m2, m4, g1]) assert.ok(ids.includes(m.clientMsgID), `alice's ${m.clientMsgID} missing: ${JSON.stringify(ids)}`);
    assert.ok(!ids.includes(m3.clientMsgID), 'only alice as sender');
    const times = fromAlice.chatLogs.map((l) => l.chatLog.sendTime);
    assert.deepEqual(times, [...times].sort((a, b) => b - a), 'newest first');
    assert.equal(fromAlice.chatLogsNum, fromAlice.chatLogs.length);

    // By recipient + content type, single chat: the two texts to bob.
    const toBob = await search({ recvID: 'smbob', contentType: 101, sessionType: 1 });
    assert.deepEqual(
      toBob.chatLogs.map((l) => l.chatLog.clientMsgID),
      [m2.clientMsgID, m1.clientMsgID],
    );
    const log = toBob.chatLogs[0].chatLog;
    assert.equal(log.sendID, 'smalice');
    assert.equal(log.recvID, 'smbob');
    assert.equal(log.recvNickname, nicknameOf('smbob'));
    assert.equal(log.senderNickname, nicknameOf('smalice'));
    assert.equal(log.sessionType, 1);
    assert.equal(log.contentType, 101);
    assert.equal(JSON.parse(log.content).content, 'second to bob');
    assert.equal(log.serverMsgID, m2.serverMsgID);
    assert.ok(log.seq > 0);
    assert.equal(toBob.chatLogs[0].isRevoked, false);

    // A custom message by content type.
    const customs = await search({ contentType: 110 });
    assert.deepEqual(
      customs.chatLogs.map((l) => l.chatLog.clientMsgID),
      [m4.clientMsgID],
    );

    // Group messages: found by the groupID as recipient, with the group's details.
    const inGroup = await search({ recvID: group.groupID, contentType: 101 });
    assert.deepEqual(
      inGroup.chatLogs.map((l) => l.chatLog.clientMsgID),
      [g1.clientMsgID],
    );
    const glog = inGroup.chatLogs[0].chatLog;
    assert.equal(glog.groupID, group.groupID);
    assert.equal(glog.recvID, group.groupID, 'upstream reports the groupID as recvID');
    assert.equal(glog.groupName, 'Search Group');
    assert.equal(glog.groupMemberCount, 2);
    assert.equal(glog.groupOwner, 'smcarol');
    assert.equal(glog.sessionType, 3);

    // Paging and the day filter.
    const page1 = await search({ sendID: 'smalice', contentType: 101, sessionType: 1 }, { pageNumber: 1, showNumber: 1 });
    const page2 = await search({ sendID: 'smalice', contentType: 101, sessionType: 1 }, { pageNumber: 2, showNumber: 1 });
    assert.equal(page1.chatLogsNum, 2);
    assert.deepEqual([page1.chatLogs[0].chatLog.clientMsgID, page2.chatLogs[0].chatLog.clientMsgID], [m2.clientMsgID, m1.clientMsgID]);
    assert.equal((await search({ sendID: 'smalice', sendTime: today() })).chatLogsNum, fromAlice.chatLogsNum);
    assert.equal((await search({ sendID: 'smalice', sendTime: '2001-01-01' })).chatLogsNum, 0);
    await assert.rejects(search({ sendTime: 'yesterday' }), (e) => e.errCode === 1001);

    // Revoked: listed as a 2101 revoke notice.
    await until(
      async () => (await alice.call('getAdvancedHistoryMessageList', { conversationID: singleConversationID('smalice', 'smbob'), count: 10, startClientMsgID: '' })).messageList.some((m) => m.clientMsgID === m1.clientMsgID && m.seq > 0),
      { what: 'alice holding m1 with its seq' },
    );
    await alice.call('revokeMessage', { conversationID: singleConversationID('smalice', 'smbob'), clientMsgID: m1.clientMsgID });
    await bob.waitFor(CbEvents.OnNewRecvMessageRevoked, { clientMsgID: m1.clientMsgID });
    const after = await search({ recvID: 'smbob', sessionType: 1, sendID: 'smalice' });
    const revoked = after.chatLogs.find((l) => l.chatLog.clientMsgID === m1.clientMsgID);
    assert.equal(revoked?.isRevoked, true, `revoked hit: ${JSON.stringify(revoked)}`);
    assert.equal(revoked.chatLog.contentType, 2101);
    assert.equal(JSON.parse(JSON.parse(revoked.chatLog.content).detail).revokerID, 'smalice');
  }),
);

test(
  'get_groups: the admin console finds groups by name or ID, with their owner',
  SCENARIO,
  scenario(async (w) => {
    const [owner] = await w.login('ggowner');
    await w.register('ggm1');
    const a = await owner.call('createGroup', { memberUserIDs: ['ggm1'], adminUserIDs: [], groupInfo: { groupName: 'Rust Lovers', groupType: 2 } });
    const b = await owner.call('createGroup', { memberUserIDs: [], adminUserIDs: [], groupInfo: { groupName: 'Rust Beginners', groupType: 2 } });
    const c = await owner.call('createGroup', { memberUserIDs: [], adminUserIDs: [], groupInfo: { groupName: 'Go Gophers', groupType: 2 } });
    const get = (filter, page = { pageNumber: 1, showNumber: 20 }) => w.sandbox.adminPost('/group/get_groups', { groupName: '', groupID: '', ...filter, pagination: page });

    // The name is matched as MongoDB does it upstream: a case-sensitive regular expression.
    assert.equal((await get({ groupName: 'rust' })).total, 0);
    const rust = await get({ groupName: 'Rust' });
    assert.equal(rust.total, 2);
    assert.deepEqual(rust.groups.map((g) => g.groupInfo.groupID).sort(), [a.groupID, b.groupID].sort());
    const lovers = rust.groups.find((g) => g.groupInfo.groupID === a.groupID);
    assert.equal(lovers.groupOwnerUserID, 'ggowner');
    assert.equal(lovers.groupOwnerUserName, nicknameOf('ggowner'));
    assert.equal(lovers.groupInfo.memberCount, 2);
    assert.equal(lovers.groupInfo.ownerUserID, 'ggowner');

    const byID = await get({ groupID: c.groupID });
    assert.equal(byID.total, 1);
    assert.equal(byID.groups[0].groupInfo.groupName, 'Go Gophers');
    const all = await get({});
    assert.equal(all.total, 3);
    const created = all.groups.map((g) => g.groupInfo.createTime);
    assert.deepEqual(created, [...created].sort((x, y) => y - x), 'newest first');
    // A dismissed group is no longer found by name.
    await owner.call('dismissGroup', c.groupID);
    assert.equal((await get({ groupName: 'Go' })).total, 0);
    const page = await get({ groupName: 'Rust' }, { pageNumber: 2, showNumber: 1 });
    assert.equal(page.groups.length, 1);
    assert.equal(page.total, 2);
    assert.equal(page.groups[0].groupInfo.groupName, 'Rust Lovers');
  }),
);
