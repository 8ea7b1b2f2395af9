// Reconnect: the server restarts (same addresses, state kept in --data-dir);
// the SDK reconnects by itself ~5 s later and re-syncs; messaging works again,
// and nothing sent before or during the outage is lost. Spec references:
// CLIENT-SURFACE.md §8.3 (reconnect), http-api.md §5.4 (/msg/send_msg).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCENARIO, scenario } from '../lib/world.mjs';
import { CbEvents, messageText, singleConversationID } from '../lib/client.mjs';

const dataDir = mkdtempSync(join(tmpdir(), 'oim-conformance-'));
process.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));

// SDK 0.0.14 bug, independent of the server: its reconnect catch-up builds the
// 1002 ranges with `[].concat(map.entries())`, which does not spread the
// iterator, and throws "Cannot read properties of undefined (reading '0')"
// in pullMsgBySeqRange whenever a conversation's maxSeq grew while it was
// away. So messages missed during the outage are not raised as events; the
// test checks them through a fresh login instead.
const RECONNECT_CATCH_UP_BUG = /pullMsgBySeqRange/;

test(
  'reconnect after a server restart: re-sync, live messaging again, nothing lost',
  SCENARIO,
  scenario(
    async (w) => {
      const conv = singleConversationID('ralice', 'rbob');
      const [alice, bob] = await w.login('ralice', 'rbob');
      const before = await bob.sendText('ralice', 'before the restart');
      await alice.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: before.clientMsgID });
      // Let the SDK finish fetching the new conversation first: a request cut
      // by the restart would reject inside the SDK (it never catches them).
      await alice.waitFor(CbEvents.OnNewConversation, { conversationID: conv });

      const aliceMark = alice.mark();
      const bobMark = bob.mark();
      const sandbox = await w.restartSandbox();

      // While the clients wait for their reconnect timer, bob "sends" through
      // the admin API, as a bot backend would.
      const during = await sandbox.adminPost('/msg/send_msg', {
        sendID: 'rbob',
        recvID: 'ralice',
        senderNickname: 'Nick-rbob',
        senderFaceURL: '',
        senderPlatformID: 5,
        content: { content: 'while you were reconnecting' },
        contentType: 101,
        sessionType: 1,
        isOnlineOnly: false,
        notOfflinePush: false,
      });
      assert.ok(during && during.serverMsgID, `/msg/send_msg must answer serverMsgID: ${JSON.stringify(during)}`);

      for (const [c, since] of [
        [alice, aliceMark],
        [bob, bobMark],
      ]) {
        await c.waitFor(CbEvents.OnConnecting, null, { since, timeoutMs: 20000 });
        await c.waitFor(CbEvents.OnConnectSuccess, null, { since, timeoutMs: 30000 });
        const outcome = await c.waitForOneOf([CbEvents.OnSyncServerFinish, CbEvents.OnSyncServerFailed], { since, timeoutMs: 30000, what: 're-sync' });
        assert.equal(outcome.event, CbEvents.OnSyncServerFinish, `${c.label}: re-sync failed: ${outcome.errCode} ${outcome.errMsg}`);
        for (const bad of [CbEvents.OnKickedOffline, CbEvents.OnUserTokenInvalid, CbEvents.OnUserTokenExpired]) {
          assert.equal(c.seen(bad).length, 0, `${c.label}: ${bad} — the token must survive the restart (--data-dir)`);
        }
      }

      // Live traffic works again, both ways.
      const back = await alice.sendText('rbob', 'back online');
      await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: back.clientMsgID });
      const welcome = await bob.sendText('ralice', 'welcome back');
      await alice.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: welcome.clientMsgID });

      // A fresh login of alice sees the whole conversation, in seq order.
      const fresh = await (await w.client('ralice', { label: 'ralice#fresh' })).login();
      const list = await fresh.conversations();
      const c = list.find((x) => x.conversationID === conv);
      assert.ok(c, `${conv} missing after a fresh login: ${JSON.stringify(list.map((x) => x.conversationID))}`);
      const page = await fresh.call('getAdvancedHistoryMessageList', { conversationID: conv, count: 20, startClientMsgID: '' });
      assert.deepEqual(
        page.messageList.map((m) => messageText(m)),
        ['before the restart', 'while you were reconnecting', 'back online', 'welcome back'],
        `history after restart: ${JSON.stringify(page.messageList.map((m) => [m.seq, messageText(m)]))}`,
      );
      const seqs = page.messageList.map((m) => m.seq);
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
      assert.equal(new Set(seqs).size, seqs.length, `seqs must be unique across the restart: ${seqs}`);
    },
    { dataDir, knownSdkBugs: [RECONNECT_CATCH_UP_BUG] },
  ),
);

// What changed while a client was away reaches it through the incremental sync of its
// reconnect (CLIENT-SURFACE.md §8.3 step 5: the friend, joined-group, group-member and
// conversation versions it holds are compared with the server's): a friend imported by
// the admin, a group renamed, a member invited, its own nickname changed, each raises its
// event once the SDK is back. (The group exists before the login: a group the client
// creates itself is cached without its joined-group version, so the SDK would report it
// as joined again, the same against OpenIM.)
const dataDir2 = mkdtempSync(join(tmpdir(), 'oim-conformance-'));
process.on('exit', () => rmSync(dataDir2, { recursive: true, force: true }));

test(
  'reconnect: changes made while the client was away raise their events after the re-sync',
  SCENARIO,
  scenario(
    async (w) => {
      await w.register('ralice2', 'rbob2', 'rcarol2', 'rdave2');
      const created = await w.sandbox.adminPost('/group/create_group', {
        memberUserIDs: ['rbob2'],
        adminUserIDs: [],
        ownerUserID: 'ralice2',
        groupInfo: { groupID: 'rgroup2', groupName: 'before', groupType: 2 },
      });
      assert.equal(created.groupInfo.groupID, 'rgroup2');
      const [alice] = await w.login('ralice2');
      const since = alice.mark();
      const sandbox = await w.restartSandbox();

      await sandbox.adminPost('/friend/import_friend', { ownerUserID: 'ralice2', friendUserIDs: ['rcarol2'] });
      await sandbox.adminPost('/group/set_group_info_ex', { groupID: 'rgroup2', groupName: 'after' });
      await sandbox.adminPost('/group/invite_user_to_group', { groupID: 'rgroup2', invitedUserIDs: ['rdave2'], reason: '' });
      await sandbox.adminPost('/user/update_user_info_ex', { userInfo: { userID: 'ralice2', nickname: 'Alice again' } });

      await alice.waitFor(CbEvents.OnConnectSuccess, null, { since, timeoutMs: 30000 });
      const outcome = await alice.waitForOneOf([CbEvents.OnSyncServerFinish, CbEvents.OnSyncServerFailed], { since, timeoutMs: 30000, what: 're-sync' });
      assert.equal(outcome.event, CbEvents.OnSyncServerFinish, `re-sync failed: ${outcome.errCode} ${outcome.errMsg}`);
      await alice.waitFor(CbEvents.OnFriendAdded, { userID: 'rcarol2', ownerUserID: 'ralice2' }, { since });
      await alice.waitFor(CbEvents.OnGroupInfoChanged, { groupID: 'rgroup2', groupName: 'after', memberCount: 3 }, { since });
      await alice.waitFor(CbEvents.OnGroupMemberAdded, { groupID: 'rgroup2', userID: 'rdave2', roleLevel: 20 }, { since });
      await alice.waitFor(CbEvents.OnSelfInfoUpdated, { userID: 'ralice2', nickname: 'Alice again' }, { since });
      assert.equal(alice.seen(CbEvents.OnJoinedGroupAdded, null, { since }).length, 0, 'a group joined before is not reported as joined again');
      assert.deepEqual(
        (await alice.call('getFriendListPage', { offset: 0, count: 10 })).map((f) => f.userID),
        ['rcarol2'],
      );
      const members = await alice.call('getGroupMemberList', { groupID: 'rgroup2', offset: 0, count: 10, filter: 0 });
      assert.deepEqual(members.map((m) => m.userID).sort(), ['ralice2', 'rbob2', 'rdave2']);
    },
    { dataDir: dataDir2, knownSdkBugs: [RECONNECT_CATCH_UP_BUG] },
  ),
);

// A hard kill of the server (SIGKILL: no shutdown, no final save) right after a login and
// sends. Messages are logged before their send is answered and other changes saved before
// their request is answered, so the accounts, tokens and sends survive the kill, and the seqs
// the sends took are not handed out again (a client that had received seq N would skip a new
// message with the same seq as already seen). Before, everything of the last 200 ms was lost
// and the seqs reused (review-s8 F4, review-s9 F5).
const dataDir3 = mkdtempSync(join(tmpdir(), 'oim-conformance-'));
process.on('exit', () => rmSync(dataDir3, { recursive: true, force: true }));

test(
  'a hard kill of the server right after sends loses no acknowledged message and reuses no seq',
  SCENARIO,
  scenario(
    async (w) => {
      const conv = singleConversationID('kalice', 'kbob');
      const [alice, bob] = await w.login('kalice', 'kbob');
      const sent = [];
      for (const text of ['one', 'two', 'three']) {
        const m = await bob.sendText('kalice', text);
        sent.push(m);
        await alice.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: m.clientMsgID });
      }
      // Out of the way before the kill: their reconnect attempts are not what this checks.
      await alice.close();
      await bob.close();

      const sandbox = await w.killAndRestartSandbox();
      const after = await sandbox.adminPost('/msg/send_msg', {
        sendID: 'kbob',
        recvID: 'kalice',
        senderNickname: 'Nick-kbob',
        senderFaceURL: '',
        senderPlatformID: 5,
        content: { content: 'after the kill' },
        contentType: 101,
        sessionType: 1,
        isOnlineOnly: false,
        notOfflinePush: false,
      });
      const fresh = await (await w.client('kalice', { label: 'kalice#fresh' })).login();
      const page = await fresh.call('getAdvancedHistoryMessageList', { conversationID: conv, count: 20, startClientMsgID: '' });
      assert.deepEqual(
        page.messageList.map((m) => [m.seq, messageText(m)]),
        [
          [1, 'one'],
          [2, 'two'],
          [3, 'three'],
          [4, 'after the kill'],
        ],
        'every acknowledged message kept across the kill, the next one at the next seq',
      );
      assert.equal(page.messageList[3].clientMsgID, after.clientMsgID);
      assert.equal((await fresh.conversations()).find((c) => c.conversationID === conv)?.unreadCount, 4);
      // Live delivery goes on.
      const bobAgain = await (await w.client('kbob', { label: 'kbob#fresh' })).login();
      const live = await bobAgain.sendText('kalice', 'live again');
      const got = await fresh.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: live.clientMsgID });
      assert.equal(got.data.find((m) => m.clientMsgID === live.clientMsgID).seq, 5);
    },
    { dataDir: dataDir3 },
  ),
);
