// Per-user settings the JS client writes to the server: conversation options
// (recvMsgOpt, private chat, ex, burn duration), friend remarks and pins,
// deleting a friend, friend verification. Spec references: CLIENT-SURFACE.md
// §7 (1205, 1206, 1300, 1701), Appendix A; http-api.md §5.2 (update_friends,
// delete_friend), §5.4 (send_msg checks 1303, recvMsgOpt), §5.5 (set_conversations).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIO, scenario, nicknameOf } from '../lib/world.mjs';
import { CbEvents, messageText, singleConversationID, befriend } from '../lib/client.mjs';

test(
  'conversation receive options: "no notify" is listed and kept, "do not receive" drops messages until switched back',
  SCENARIO,
  scenario(async (w) => {
    const [alice, bob] = await w.login('rcalice', 'rcbob');
    const conv = singleConversationID('rcalice', 'rcbob');
    const hello = await alice.sendText('rcbob', 'hello');
    await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: hello.clientMsgID });

    // 2 = receive without notification.
    let since = bob.mark();
    await bob.call('setConversation', { conversationID: conv, recvMsgOpt: 2 });
    await bob.waitFor(CbEvents.OnConversationChanged, (d) => d.some((c) => c.conversationID === conv && c.recvMsgOpt === 2), { since });
    const notNotify = await w.sandbox.post('/conversation/get_not_notify_conversation_ids', { userID: 'rcbob' }, { token: bob.token });
    assert.deepEqual(notNotify.conversationIDs, [conv]);
    const quiet = await alice.sendText('rcbob', 'quietly');
    await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: quiet.clientMsgID });
    // Stored on the server: another device of bob's (platform 3, no kick) sees it at login.
    const desktop = await (await w.client('rcbob', { label: 'rcbob#desktop', platformID: 3 })).login();
    assert.equal((await desktop.call('getOneConversation', { sourceID: 'rcalice', sessionType: 1 })).recvMsgOpt, 2, 'the option is stored on the server');
    await desktop.close();

    // 1 = do not receive: the server drops the peer's messages for bob.
    since = bob.mark();
    await bob.call('setConversation', { conversationID: conv, recvMsgOpt: 1 });
    await bob.waitFor(CbEvents.OnConversationChanged, (d) => d.some((c) => c.conversationID === conv && c.recvMsgOpt === 1), { since });
    // OpenIM 3.8 answers such a send with an empty success (no serverMsgID, sendTime 0: an empty
    // UserSendMsgResp, so an empty 1003 payload), which SDK 0.0.14 turns into a 10006 TypeError.
    await alice.sendText('rcbob', 'you will not see this').then(
      (m) => assert.fail(`a dropped message must not look sent: ${JSON.stringify(m)}`),
      (e) => assert.equal(e.errCode, 10006, `dropped send: ${e.message}`),
    );
    since = bob.mark();
    await bob.call('setConversation', { conversationID: conv, recvMsgOpt: 0 });
    await bob.waitFor(CbEvents.OnConversationChanged, (d) => d.some((c) => c.conversationID === conv && c.recvMsgOpt === 0), { since });
    const back = await alice.sendText('rcbob', 'back');
    await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: back.clientMsgID });
    assert.equal(bob.seen(CbEvents.OnRecvNewMessages, (d) => d.some((m) => messageText(m) === 'you will not see this')).length, 0, 'recvMsgOpt 1 must drop the message');
    const page = await bob.call('getAdvancedHistoryMessageList', { conversationID: conv, count: 20, startClientMsgID: '' });
    assert.deepEqual(
      page.messageList.map((m) => messageText(m)),
      ['hello', 'quietly', 'back'],
    );
  }),
);

test(
  'conversation options: private chat reaches the peer (1701), ex and burn duration are stored',
  SCENARIO,
  scenario(async (w) => {
    const [alice, bob] = await w.login('pcalice', 'pcbob');
    const conv = singleConversationID('pcalice', 'pcbob');
    const hello = await alice.sendText('pcbob', 'hello');
    await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: hello.clientMsgID });

    let since = alice.mark();
    await alice.call('setConversation', { conversationID: conv, isPrivateChat: true, burnDuration: 60 });
    await alice.waitFor(CbEvents.OnConversationChanged, (d) => d.some((c) => c.conversationID === conv && c.isPrivateChat === true && c.burnDuration === 60), { since });
    // The peer's conversation turns private as well.
    await bob.waitFor(CbEvents.OnConversationChanged, (d) => d.some((c) => c.conversationID === conv && c.isPrivateChat === true));

    since = alice.mark();
    await alice.call('setConversation', { conversationID: conv, ex: '{"tag":"work"}' });
    await alice.waitFor(CbEvents.OnConversationChanged, (d) => d.some((c) => c.conversationID === conv && c.ex === '{"tag":"work"}'), { since });
    const fresh = await (await w.client('pcalice', { label: 'pcalice#fresh' })).login();
    const c = await fresh.call('getOneConversation', { sourceID: 'pcbob', sessionType: 1 });
    assert.equal(c.conversationID, conv);
    assert.equal(c.isPrivateChat, true);
    assert.equal(c.burnDuration, 60);
    assert.equal(c.ex, '{"tag":"work"}');
    assert.equal(c.showName, nicknameOf('pcbob'));
  }),
);

test(
  'friend remark and pin: OnFriendInfoChanged, remark used as the conversation name; delete friend: OnFriendDeleted',
  SCENARIO,
  scenario(async (w) => {
    const [me, pal] = await w.login('frme', 'frpal');
    await befriend(me, pal);

    await me.call('updateFriends', { friendUserIDs: ['frpal'], remark: 'Best Pal' });
    await me.waitFor(CbEvents.OnFriendInfoChanged, { userID: 'frpal', remark: 'Best Pal' });
    await me.call('updateFriends', { friendUserIDs: ['frpal'], isPinned: true, ex: 'x1' });
    await me.waitFor(CbEvents.OnFriendInfoChanged, { userID: 'frpal', isPinned: true, ex: 'x1', remark: 'Best Pal' });
    const [info] = await me.call('getSpecifiedFriendsInfo', ['frpal']);
    assert.equal(info?.remark, 'Best Pal', `getSpecifiedFriendsInfo: ${JSON.stringify(info)}`);
    assert.equal(info?.nickname, nicknameOf('frpal'));
    assert.equal(info?.isPinned, true);
    // The remark names the conversation (ConversationMsg.friend.remark of /jssdk/get_*_conversations).
    const m = await pal.sendText('frme', 'hi me');
    await me.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: m.clientMsgID });
    const desktop = await (await w.client('frme', { label: 'frme#desktop', platformID: 3 })).login();
    const conv = (await desktop.conversations()).find((c) => c.conversationID === singleConversationID('frme', 'frpal'));
    assert.equal(conv?.showName, 'Best Pal', `conversation after a remark: ${JSON.stringify(conv)}`);
    await desktop.close();
    // The remark is private: the friend sees nothing about it.
    assert.equal(pal.seen(CbEvents.OnFriendInfoChanged, { remark: 'Best Pal' }).length, 0);

    // Delete (one direction, like OpenIM): gone from my list, the pal's list keeps me.
    await me.call('deleteFriend', 'frpal');
    await me.waitFor(CbEvents.OnFriendDeleted, { userID: 'frpal' });
    assert.deepEqual(await me.call('getFriendListPage', { offset: 0, count: 10 }), []);
    const palList = await pal.call('getFriendListPage', { offset: 0, count: 10 });
    assert.deepEqual(
      palList.map((f) => f.userID),
      ['frme'],
    );
    const check = await me.call('checkFriend', ['frpal']);
    assert.equal(check[0]?.result, 0);
  }),
);

test(
  'friend verification on: a non-friend\'s message fails with 1303, friends talk',
  SCENARIO,
  scenario(
    async (w) => {
      const [alice, bob] = await w.login('fvalice', 'fvbob');
      await assert.rejects(alice.sendText('fvbob', 'strangers talk?'), (e) => {
        assert.equal(e.errCode, 1303, `a message to a non-friend with friend verification on must fail with 1303 NotPeersFriend, got ${e.errCode}: ${e.errMsg}`);
        return true;
      });
      await befriend(alice, bob);
      const ok = await alice.sendText('fvbob', 'friends now');
      await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: ok.clientMsgID });
      const reply = await bob.sendText('fvalice', 'yes');
      await alice.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: reply.clientMsgID });
      assert.equal(bob.seen(CbEvents.OnRecvNewMessages, (d) => d.some((m) => messageText(m) === 'strangers talk?')).length, 0);
    },
    { extraArgs: ['--friend-verify'] },
  ),
);

test(
  'get_conversation_offline_push_user_ids leaves out members who muted or blocked the conversation',
  SCENARIO,
  scenario(async (w) => {
    const [owner, quiet, deaf] = await w.login('oppowner', 'oppquiet', 'oppdeaf');
    await w.register('oppnever');
    const group = await owner.call('createGroup', { memberUserIDs: ['oppquiet', 'oppdeaf'], adminUserIDs: [], groupInfo: { groupName: 'Push Group', groupType: 2 } });
    const conv = `sg_${group.groupID}`;
    await quiet.waitFor(CbEvents.OnJoinedGroupAdded, { groupID: group.groupID });
    await deaf.waitFor(CbEvents.OnJoinedGroupAdded, { groupID: group.groupID });
    for (const [c, opt] of [
      [quiet, 2],
      [deaf, 1],
    ]) {
      const since = c.mark();
      await c.call('setConversation', { conversationID: conv, recvMsgOpt: opt });
      await c.waitFor(CbEvents.OnConversationChanged, (d) => d.some((x) => x.conversationID === conv && x.recvMsgOpt === opt), { since });
    }
    const res = await w.sandbox.post(
      '/conversation/get_conversation_offline_push_user_ids',
      { conversationID: conv, userIDs: ['oppowner', 'oppquiet', 'oppdeaf', 'oppnever'] },
      { token: owner.token },
    );
    assert.deepEqual([...res.userIDs].sort(), ['oppnever', 'oppowner'], `offline push candidates: ${JSON.stringify(res)}`);
    await assert.rejects(w.sandbox.post('/conversation/get_conversation_offline_push_user_ids', { conversationID: '', userIDs: ['oppowner'] }, { token: owner.token }), (e) => e.errCode === 1001);
  }),
);
