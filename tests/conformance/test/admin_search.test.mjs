// What an admin console (or a bot with the admin token) finds after real
// clients talked: the chat-log search (/msg/search_msg), the group search
// (/group/get_groups), who is online with which tokens
// (/user/get_users_online_token_detail), and the physical message deletions
// (/msg/delete_msg_phsical_by_seq, /msg/delete_msg_physical) as the clients then
// see them. Spec references: http-api.md §5.3 (get_groups), §5.4 (search_msg:
// filters, newest first, revoked messages as 2101, group quirks); open-im-server
// v3.8.3 internal/api/router.go, user.go, internal/rpc/msg/delete.go, clear.go.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIO, scenario, nicknameOf } from '../lib/world.mjs';
import { CbEvents, messageText, singleConversationID, until } from '../lib/client.mjs';

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

test(
  'get_users_online_token_detail: online users with their tokens per platform, offline ones left out, nothing for a non-admin',
  SCENARIO,
  scenario(async (w) => {
    const [web] = await w.login('otalice');
    const desktop = await (await w.client('otalice', { platformID: 3, label: 'otalice#desktop' })).login();
    await w.register('otbob');
    const detail = () => w.sandbox.adminPost('/user/get_users_online_token_detail', { userIDs: ['otbob', 'otalice', 'nobody'] });
    const got = await detail();
    assert.ok(Array.isArray(got), `data is an array: ${JSON.stringify(got)}`);
    assert.deepEqual(got.map((u) => [u.userID, u.status]), [['otalice', 1]], 'only online users, status 1');
    const byPlatform = Object.fromEntries(got[0].singlePlatformToken.map((p) => [p.platformID, p]));
    assert.deepEqual(Object.keys(byPlatform).sort(), ['3', '5']);
    assert.deepEqual(byPlatform[5], { platformID: 5, total: 1, token: [web.token] }, 'the web client\'s token');
    assert.deepEqual(byPlatform[3], { platformID: 3, total: 1, token: [desktop.token] });
    // get_users_online_status: every user asked for, with each connection's token.
    const status = await w.sandbox.adminPost('/user/get_users_online_status', { userIDs: ['otalice', 'otbob'] });
    assert.deepEqual(status[1], { userID: 'otbob' }, 'offline: status 0 and no connections, left out as Go does');
    assert.equal(status[0].status, 1);
    assert.deepEqual(status[0].detailPlatformStatus.map((d) => [d.platformID, d.token]).sort(), [[3, desktop.token], [5, web.token]]);
    assert.ok(status[0].detailPlatformStatus.every((d) => /^[0-9a-f]{32}$/.test(d.connID)), 'connection IDs');
    await assert.rejects(w.sandbox.post('/user/get_users_online_status', { userIDs: ['otalice'] }, { token: web.token }), (e) => e.errCode === 1002);
    // Upstream skips a gateway that refuses a non-admin: success without data, not 1002.
    assert.equal(await w.sandbox.post('/user/get_users_online_token_detail', { userIDs: ['otalice'] }, { token: web.token }), null);
    // Once both devices logged out, nobody is online: data null.
    await web.close();
    await desktop.close();
    await until(async () => (await detail()) === null, { what: 'otalice offline in get_users_online_token_detail' });
  }),
);

test(
  'physical deletion: destroyed seqs vanish from every later history, old documents go whole, the conversation goes on',
  SCENARIO,
  scenario(async (w) => {
    const [alice, bob] = await w.login('pdalice', 'pdbob');
    const conv = singleConversationID('pdalice', 'pdbob');
    // The seqs as the receiver got them (a send's own result may not carry one yet).
    const seqs = [];
    for (const text of ['one', 'two', 'three']) {
      const m = await alice.sendText('pdbob', text);
      const ev = await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: m.clientMsgID });
      seqs.push(ev.data.find((x) => x.clientMsgID === m.clientMsgID).seq);
    }
    assert.deepEqual(seqs, [1, 2, 3]);
    const history = async (label) => {
      const fresh = await (await w.client('pdbob', { label })).login();
      const page = await fresh.call('getAdvancedHistoryMessageList', { conversationID: conv, count: 20, startClientMsgID: '' });
      return { fresh, texts: page.messageList.filter((m) => m.status !== 4).map((m) => messageText(m)) };
    };

    // Only the misspelt route exists upstream.
    await assert.rejects(w.sandbox.adminPost('/msg/delete_msg_physical_by_seq', { conversationID: conv, seqs: [2] }), /HTTP 404/);
    await w.sandbox.adminPost('/msg/delete_msg_phsical_by_seq', { conversationID: conv, seqs: [2] });
    let { texts } = await history('pdbob#after-by-seq');
    assert.deepEqual(texts, ['one', 'three'], 'seq 2 destroyed for everyone');
    // Unknown conversations and seqs are no error; v3.8.3 checks no more than the token.
    await w.sandbox.post('/msg/delete_msg_phsical_by_seq', { conversationID: 'si_no_one', seqs: [1, 99] }, { token: alice.token });

    // delete_msg_physical: admin only.
    await assert.rejects(w.sandbox.post('/msg/delete_msg_physical', { conversationIDs: [], timestamp: 0 }, { token: alice.token }), (e) => e.errCode === 1002);
    // v3.8.3 compares now-in-seconds minus `timestamp` with millisecond send times: a
    // timestamp of 0 ("older than now") destroys nothing.
    await w.sandbox.adminPost('/msg/delete_msg_physical', { conversationIDs: [conv], timestamp: 0 });
    ({ texts } = await history('pdbob#after-noop'));
    assert.deepEqual(texts, ['one', 'three'], 'timestamp 0 destroys nothing');
    // A timestamp of minus a millisecond clock reading puts the bound past every send time.
    await w.sandbox.adminPost('/msg/delete_msg_physical', { conversationIDs: [], timestamp: -2 * Date.now() });
    const last = await history('pdbob#after-destruct');
    assert.deepEqual(last.texts, [], 'the whole document destroyed');
    // Seqs go on after the destroyed document.
    const next = await alice.sendText('pdbob', 'four');
    const got = await last.fresh.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: next.clientMsgID });
    assert.equal(got.data.find((x) => x.clientMsgID === next.clientMsgID).seq, 4);
    const page = await last.fresh.call('getAdvancedHistoryMessageList', { conversationID: conv, count: 20, startClientMsgID: '' });
    assert.deepEqual(page.messageList.filter((m) => m.status !== 4).map((m) => messageText(m)), ['four'], `after the destruct: ${JSON.stringify(got)}`);
  }),
);
