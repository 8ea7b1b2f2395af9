// Presence and conversation state: typing (113, online only), online-status
// subscription (WS 2005), pinning a conversation (set_conversations + 1300).
// Spec references: CLIENT-SURFACE.md §4.3-§4.4 (2005), §6.3 (typing), §7 (1300);
// ws-gateway.md §3.11.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIO, scenario } from '../lib/world.mjs';
import { CbEvents, singleConversationID } from '../lib/client.mjs';

test(
  'typing: the peer gets OnConversationUserInputStatusChanged, and no message',
  SCENARIO,
  scenario(async (w) => {
    const [alice, bob] = await w.login('talice', 'tbob');
    const conv = singleConversationID('talice', 'tbob');
    const hello = await alice.sendText('tbob', 'hello');
    await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: hello.clientMsgID });

    await alice.call('changeInputStates', { conversationID: conv, focus: true });
    const on = await bob.waitFor(CbEvents.OnConversationUserInputStatusChanged, (d) => d.conversationID === conv && d.userID === 'talice' && d.platformIDs.includes(5));
    assert.deepEqual(on.data.platformIDs, [5]);
    // Stopping raises the event again (SDK 0.0.14 keeps reporting the platform
    // until its own typing timer expires, so only the event itself is checked).
    await alice.call('changeInputStates', { conversationID: conv, focus: false });
    await bob.waitFor(CbEvents.OnConversationUserInputStatusChanged, (d) => d.conversationID === conv && d.userID === 'talice');

    // Typing is online-only: no message, no unread, nothing in the history.
    assert.equal(bob.seen(CbEvents.OnRecvNewMessages, { contentType: 113 }).length, 0);
    const page = await bob.call('getAdvancedHistoryMessageList', { conversationID: conv, count: 20, startClientMsgID: '' });
    assert.deepEqual(
      page.messageList.map((m) => m.contentType),
      [101],
      'typing messages must not be stored',
    );
    const c = (await bob.conversations()).find((x) => x.conversationID === conv);
    assert.equal(c.unreadCount, 1);
  }),
);

test(
  'online status: subscribe answers the current platforms, changes are pushed (2005)',
  SCENARIO,
  scenario(async (w) => {
    const [watcher, online] = await w.login('swatcher', 'sonline');
    await w.register('soffline');
    const statuses = await watcher.call('subscribeUsersStatus', ['sonline', 'soffline']);
    const by = Object.fromEntries(statuses.map((s) => [s.userID, s]));
    assert.equal(by.sonline?.status, 1, `subscribe: ${JSON.stringify(statuses)}`);
    assert.deepEqual(by.sonline?.platformIDs, [5]);
    assert.equal(by.soffline?.status, 0, `subscribe: ${JSON.stringify(statuses)}`);

    // soffline comes online, sonline goes away.
    await w.login('soffline');
    await watcher.waitFor(CbEvents.OnUserStatusChanged, { userID: 'soffline', status: 1 });
    await online.close();
    await watcher.waitFor(CbEvents.OnUserStatusChanged, { userID: 'sonline', status: 0 });
  }),
);

test(
  'pin a conversation: OnConversationChanged with isPinned, pinned first in the list',
  SCENARIO,
  scenario(async (w) => {
    const [alice, bob, carol] = await w.login('palice', 'pbob', 'pcarol');
    const withBob = singleConversationID('palice', 'pbob');
    const withCarol = singleConversationID('palice', 'pcarol');
    const m1 = await bob.sendText('palice', 'older');
    await alice.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: m1.clientMsgID });
    const m2 = await carol.sendText('palice', 'newer');
    await alice.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: m2.clientMsgID });
    assert.deepEqual(
      (await alice.conversations()).map((c) => c.conversationID),
      [withCarol, withBob],
      'newest first before pinning',
    );

    const since = alice.mark();
    await alice.call('setConversation', { conversationID: withBob, isPinned: true });
    await alice.waitFor(CbEvents.OnConversationChanged, (d) => d.some((c) => c.conversationID === withBob && c.isPinned === true), { since });
    assert.deepEqual(
      (await alice.conversations()).map((c) => [c.conversationID, c.isPinned]),
      [
        [withBob, true],
        [withCarol, false],
      ],
      'pinned first',
    );
    // The pin is stored on the server: a fresh login sees it.
    const fresh = await (await w.client('palice', { label: 'palice#fresh' })).login();
    const again = await fresh.conversations();
    assert.deepEqual(
      again.map((c) => [c.conversationID, c.isPinned]),
      [
        [withBob, true],
        [withCarol, false],
      ],
    );
  }),
);
