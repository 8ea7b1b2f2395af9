// History and message management beyond the basics: paging through a long
// history (getAdvancedHistoryMessageList with startClientMsgID, served by WS
// 1005 pulls), revoking in groups (owner / admin / plain member rules), and
// deleting all of one's messages. Spec references: CLIENT-SURFACE.md §4.3
// (1005), §7 (2101); http-api.md §5.4 (revoke_msg, user_clear_all_msg).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIO, scenario } from '../lib/world.mjs';
import { CbEvents, messageText, singleConversationID, groupConversationID, until } from '../lib/client.mjs';

async function historyPage(client, conversationID, count, startClientMsgID = '') {
  return client.call('getAdvancedHistoryMessageList', { conversationID, count, startClientMsgID });
}

test(
  'history paging: 25 messages read back 10 at a time, oldest page ends the history',
  SCENARIO,
  scenario(async (w) => {
    const [alice] = await w.login('hpalice');
    await w.register('hpbob');
    const conv = singleConversationID('hpalice', 'hpbob');
    const N = 25;
    const sent = [];
    for (let i = 0; i < N; i++) sent.push(await alice.sendText('hpbob', `history ${i}`));

    // hpbob logs in afterwards: nothing is cached, every page comes from the server.
    const [bob] = await w.login('hpbob');
    const seen = [];
    let start = '';
    let pages = 0;
    for (;;) {
      const page = await historyPage(bob, conv, 10, start);
      pages += 1;
      assert.ok(pages <= 5, `paging does not end: ${JSON.stringify(seen)}`);
      const texts = page.messageList.map((m) => messageText(m));
      // Each page is in ascending order (oldest first) and ends where the previous one started.
      const seqs = page.messageList.map((m) => m.seq);
      for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], `page not ascending: ${seqs}`);
      seen.unshift(...texts);
      if (page.isEnd || page.messageList.length === 0) break;
      start = page.messageList[0].clientMsgID;
    }
    assert.deepEqual(
      seen,
      sent.map((_, i) => `history ${i}`),
      'all 25 messages, each once, in order',
    );
    assert.equal(pages, 3, 'pages of 10, 10 and 5');

    // The first page alone: the newest 10, not the end.
    const newest = await historyPage(bob, conv, 10);
    assert.deepEqual(
      newest.messageList.map((m) => messageText(m)),
      sent.slice(N - 10).map((_, i) => `history ${N - 10 + i}`),
    );
    assert.equal(newest.isEnd, false);
    for (const m of newest.messageList) {
      assert.equal(m.sendID, 'hpalice');
      assert.equal(m.recvID, 'hpbob');
      assert.equal(m.sessionType, 1);
      assert.equal(m.status, 2);
      assert.ok(m.serverMsgID, 'history messages carry their serverMsgID');
    }
  }),
);

test(
  'group revoke: the owner revokes a member\'s message, an admin revokes a member\'s, a member cannot revoke another\'s',
  SCENARIO,
  scenario(async (w) => {
    const [owner, admin, member] = await w.login('growner', 'gradmin', 'grmember');
    const group = await owner.call('createGroup', { memberUserIDs: ['grmember'], adminUserIDs: ['gradmin'], groupInfo: { groupName: 'Revoke Group', groupType: 2 } });
    const { groupID } = group;
    const conv = groupConversationID(groupID);
    await member.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });
    await admin.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });
    const roles = Object.fromEntries((await owner.call('getGroupMemberList', { groupID, offset: 0, count: 10, filter: 0 })).map((m) => [m.userID, m.roleLevel]));
    assert.deepEqual(roles, { growner: 100, gradmin: 60, grmember: 20 }, 'adminUserIDs of createGroup become admins (60)');

    const m1 = await member.sendGroupText(groupID, 'spam 1');
    const m2 = await member.sendGroupText(groupID, 'spam 2');
    const fromAdmin = await admin.sendGroupText(groupID, 'admin says');
    for (const m of [m1, m2, fromAdmin]) {
      await owner.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: m.clientMsgID }, { consume: false });
    }
    await until(async () => (await historyPage(admin, conv, 20)).messageList.some((m) => m.clientMsgID === m2.clientMsgID && m.seq > 0), {
      what: 'the admin holding m2 with its seq',
    });
    await until(async () => (await historyPage(member, conv, 20)).messageList.some((m) => m.clientMsgID === fromAdmin.clientMsgID && m.seq > 0), {
      what: 'the member holding the admin message with its seq',
    });

    // A plain member cannot revoke someone else's message (1002 NoPermission on the server).
    await assert.rejects(member.call('revokeMessage', { conversationID: conv, clientMsgID: fromAdmin.clientMsgID }));
    // The owner revokes a member's message: every member hears it.
    await owner.call('revokeMessage', { conversationID: conv, clientMsgID: m1.clientMsgID });
    for (const c of [owner, admin, member]) {
      const ev = await c.waitFor(CbEvents.OnNewRecvMessageRevoked, { clientMsgID: m1.clientMsgID });
      assert.equal(ev.data.revokerID, 'growner');
      assert.equal(ev.data.sourceMessageSendID, 'grmember');
      assert.equal(ev.data.sessionType, 3);
    }
    // An admin revokes a member's message.
    await admin.call('revokeMessage', { conversationID: conv, clientMsgID: m2.clientMsgID });
    const ev2 = await member.waitFor(CbEvents.OnNewRecvMessageRevoked, { clientMsgID: m2.clientMsgID });
    assert.equal(ev2.data.revokerID, 'gradmin');
    // Revoking twice fails (1404 on the server).
    await assert.rejects(admin.call('revokeMessage', { conversationID: conv, clientMsgID: m2.clientMsgID }));

    // A fresh login sees the revoked messages as revoke notices (2101), the other one intact.
    const fresh = await (await w.client('grmember', { label: 'grmember#fresh' })).login();
    const page = await historyPage(fresh, conv, 50);
    const byID = new Map(page.messageList.map((m) => [m.clientMsgID, m]));
    assert.equal(byID.get(m1.clientMsgID)?.contentType, 2101, `revoked m1 in history: ${JSON.stringify(byID.get(m1.clientMsgID))}`);
    assert.equal(byID.get(m2.clientMsgID)?.contentType, 2101);
    assert.equal(messageText(byID.get(fromAdmin.clientMsgID)), 'admin says');
  }),
);

test(
  'single chat: only the sender may revoke its message',
  SCENARIO,
  scenario(async (w) => {
    const [alice, bob] = await w.login('sralice', 'srbob');
    const conv = singleConversationID('sralice', 'srbob');
    const m = await alice.sendText('srbob', 'mine');
    const pushed = (await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: m.clientMsgID })).data.find((x) => x.clientMsgID === m.clientMsgID);
    // The SDK refuses locally (10002): the message is not bob's.
    await assert.rejects(bob.call('revokeMessage', { conversationID: conv, clientMsgID: m.clientMsgID }), (e) => e.errCode === 10002);
    // The server refuses too, for a client that asks anyway (1002 NoPermission).
    await assert.rejects(w.sandbox.post('/msg/revoke_msg', { conversationID: conv, seq: pushed.seq, userID: 'srbob' }, { token: bob.token }), (e) => {
      assert.equal(e.errCode, 1002, `revoking the peer's message: ${e.message}`);
      return true;
    });
    // Nor may bob revoke in alice's name.
    await assert.rejects(w.sandbox.post('/msg/revoke_msg', { conversationID: conv, seq: pushed.seq, userID: 'sralice' }, { token: bob.token }), (e) => e.errCode === 1002);
    const page = await until(
      async () => {
        const p = await historyPage(alice, conv, 10);
        return p.messageList.some((x) => x.clientMsgID === m.clientMsgID && x.seq === pushed.seq) && p;
      },
      { what: "sralice's SDK holding her message with its seq" },
    );
    assert.equal(messageText(page.messageList.find((x) => x.clientMsgID === m.clientMsgID)), 'mine');
    assert.equal(alice.seen(CbEvents.OnNewRecvMessageRevoked).length + bob.seen(CbEvents.OnNewRecvMessageRevoked).length, 0, 'a refused revoke must not be announced');
  }),
);

test(
  'delete all my messages: gone from my server-side history, the peer keeps them',
  SCENARIO,
  scenario(async (w) => {
    const [alice, bob] = await w.login('daalice', 'dabob');
    const conv = singleConversationID('daalice', 'dabob');
    const a = await alice.sendText('dabob', 'one');
    const b = await bob.sendText('daalice', 'two');
    await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: a.clientMsgID });
    await alice.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: b.clientMsgID });

    await bob.call('deleteAllMsgFromLocalAndSvr');
    const fresh = await (await w.client('dabob', { label: 'dabob#fresh' })).login();
    const page = await historyPage(fresh, conv, 20);
    assert.deepEqual(
      page.messageList.filter((m) => m.status !== 4).map((m) => messageText(m)),
      [],
      `bob's history after deleting everything: ${JSON.stringify(page.messageList.map((m) => [m.seq, m.status, messageText(m)]))}`,
    );
    assert.equal(await fresh.call('getTotalUnreadMsgCount'), 0, 'cleared messages are not unread');
    const alicePage = await historyPage(alice, conv, 20);
    assert.deepEqual(
      alicePage.messageList.map((m) => messageText(m)),
      ['one', 'two'],
    );
    // The conversation still works afterwards.
    const c = await alice.sendText('dabob', 'three');
    await fresh.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: c.clientMsgID });
  }),
);
