// One-to-one messaging: text both ways, conversations and unread counts,
// revoke, mark as read. Spec references: CLIENT-SURFACE.md §6.1 (send),
// §6.3 (push), §6.6 (conversation list), §6.8 (mark read), §7 (2101, 2150).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIO, scenario, nicknameOf } from '../lib/world.mjs';
import { CbEvents, messageText, singleConversationID, until } from '../lib/client.mjs';

function assertSent(sent, { sendID, recvID, text }) {
  assert.equal(sent.status, 2, `sent message status must be 2 (ok), got ${sent.status}`);
  assert.ok(sent.serverMsgID, 'the 1003 answer must carry a serverMsgID');
  assert.ok(sent.sendTime > 0, 'the 1003 answer must carry a sendTime');
  assert.equal(sent.sendID, sendID);
  assert.equal(sent.recvID, recvID);
  assert.equal(messageText(sent), text);
}

function latestMsgOf(conv) {
  try {
    return conv.latestMsg ? JSON.parse(conv.latestMsg) : null;
  } catch {
    return null;
  }
}

test(
  'two users exchange 1:1 text both ways with the right conversations and unread counts',
  SCENARIO,
  scenario(async (w) => {
    const [alice, bob] = await w.login('alice', 'bob');
    const conv = singleConversationID('alice', 'bob');

    // alice -> bob
    const m1 = await alice.sendText('bob', 'hello bob 1');
    assertSent(m1, { sendID: 'alice', recvID: 'bob', text: 'hello bob 1' });
    const got1 = (await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: m1.clientMsgID })).data.find((m) => m.clientMsgID === m1.clientMsgID);
    assert.equal(got1.sendID, 'alice');
    assert.equal(got1.recvID, 'bob');
    assert.equal(got1.sessionType, 1);
    assert.equal(got1.contentType, 101);
    assert.equal(got1.groupID, '');
    assert.equal(messageText(got1), 'hello bob 1');
    assert.equal(got1.serverMsgID, m1.serverMsgID, 'the pushed message must carry the serverMsgID of the send answer');
    assert.equal(got1.senderNickname, nicknameOf('alice'));
    assert.ok(got1.seq >= 1, `pushed message needs a seq, got ${got1.seq}`);
    const newConv = await bob.waitFor(CbEvents.OnNewConversation, { conversationID: conv });
    const bobConv = newConv.data.find((c) => c.conversationID === conv);
    assert.equal(bobConv.conversationType, 1);
    assert.equal(bobConv.userID, 'alice');
    assert.equal(bobConv.unreadCount, 1, 'first message: unread 1');
    assert.equal(latestMsgOf(bobConv)?.clientMsgID, m1.clientMsgID, 'latestMsg must be the message just received');

    // bob -> alice
    const m2 = await bob.sendText('alice', 'hello alice');
    assertSent(m2, { sendID: 'bob', recvID: 'alice', text: 'hello alice' });
    const got2 = (await alice.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: m2.clientMsgID })).data.find((m) => m.clientMsgID === m2.clientMsgID);
    assert.equal(got2.sendID, 'bob');
    assert.equal(got2.recvID, 'alice');
    assert.equal(got2.sessionType, 1);
    assert.equal(messageText(got2), 'hello alice');
    assert.ok(got2.seq > got1.seq, `seqs are per conversation and increase: ${got1.seq} then ${got2.seq}`);
    // By now alice's echo of m1 has long arrived: it must have been recognised
    // as her own send (CLIENT-SURFACE.md §6.1 step 7: the echo push carries the
    // send's operationID and comes after the 1003 answer).
    assert.equal(
      alice.seen(CbEvents.OnRecvNewMessages, { clientMsgID: m1.clientMsgID }).length,
      0,
      'alice received her own message as new: the echo push must come after the 1003 answer, not in the same socket read ' +
        '(see "[same socket read …]" in the traffic below; under extreme CPU starvation of this client that can also happen ' +
        'with a well-behaved server)',
    );
    await alice.waitFor([CbEvents.OnNewConversation, CbEvents.OnConversationChanged], (data) =>
      data.some((c) => c.conversationID === conv && c.unreadCount === 1 && latestMsgOf(c)?.clientMsgID === m2.clientMsgID),
    );

    // alice -> bob again: bob's unread grows to 2.
    const m3 = await alice.sendText('bob', 'hello bob 2');
    await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: m3.clientMsgID });
    await bob.waitFor(CbEvents.OnConversationChanged, (data) =>
      data.some((c) => c.conversationID === conv && c.unreadCount === 2 && latestMsgOf(c)?.clientMsgID === m3.clientMsgID),
    );

    // Neither side saw its own messages as new.
    assert.equal(alice.seen(CbEvents.OnRecvNewMessages, { sendID: 'alice' }).length, 0, 'alice must not receive her own messages as new (echo suppression needs the send operationID on the echo push)');
    assert.equal(bob.seen(CbEvents.OnRecvNewMessages, { sendID: 'bob' }).length, 0, 'bob must not receive his own message as new');

    // Conversation lists on both sides.
    const aliceList = await alice.conversations();
    const bobList = await bob.conversations();
    const a = aliceList.find((c) => c.conversationID === conv);
    const b = bobList.find((c) => c.conversationID === conv);
    assert.ok(a, `alice's list lacks ${conv}: ${JSON.stringify(aliceList.map((c) => c.conversationID))}`);
    assert.ok(b, `bob's list lacks ${conv}: ${JSON.stringify(bobList.map((c) => c.conversationID))}`);
    assert.equal(aliceList.length, 1);
    assert.equal(bobList.length, 1);
    assert.equal(a.unreadCount, 1);
    assert.equal(b.unreadCount, 2);
    assert.equal(a.userID, 'bob');
    assert.equal(b.userID, 'alice');
    assert.equal(a.showName, nicknameOf('bob'));
    assert.equal(b.showName, nicknameOf('alice'));
  }),
);

test(
  'revoke: both sides get OnNewRecvMessageRevoked',
  SCENARIO,
  scenario(async (w) => {
    const [alice, bob] = await w.login('ralice', 'rbob');
    const conv = singleConversationID('ralice', 'rbob');
    const sent = await alice.sendText('rbob', 'to be revoked');
    const pushed = (await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: sent.clientMsgID })).data.find((m) => m.clientMsgID === sent.clientMsgID);

    // The SDK can revoke only a message it holds with its seq, which it learns
    // from the echo push of its own send (no event is raised for it).
    await until(
      async () => {
        const page = await alice.call('getAdvancedHistoryMessageList', { conversationID: conv, count: 20, startClientMsgID: '' });
        return page.messageList.some((m) => m.clientMsgID === sent.clientMsgID && m.seq === pushed.seq);
      },
      { what: `ralice's SDK holding its sent message with seq ${pushed.seq} (from the echo push)` },
    );
    await alice.call('revokeMessage', { conversationID: conv, clientMsgID: sent.clientMsgID });
    const own = await alice.waitFor(CbEvents.OnNewRecvMessageRevoked, { clientMsgID: sent.clientMsgID });
    assert.equal(own.data.revokerID, 'ralice');
    assert.equal(own.data.seq, pushed.seq, 'the revoker must know the seq of its own message (from the echo push)');
    const peer = await bob.waitFor(CbEvents.OnNewRecvMessageRevoked, { clientMsgID: sent.clientMsgID });
    assert.equal(peer.data.revokerID, 'ralice');
    assert.equal(peer.data.seq, pushed.seq);
    assert.equal(peer.data.sourceMessageSendID, 'ralice');
    assert.equal(peer.data.sessionType, 1);
    assert.ok(peer.data.revokeTime > 0);
  }),
);

test(
  'mark as read: the reader is reset to 0 unread and the sender gets the read receipt',
  SCENARIO,
  scenario(async (w) => {
    const [alice, bob] = await w.login('malice', 'mbob');
    const conv = singleConversationID('malice', 'mbob');
    // One message at a time: the SDK builds a new conversation from the
    // server's current state, so a second message stored meanwhile would be
    // counted twice (a client race, not a server property).
    const m1 = await alice.sendText('mbob', 'read me 1');
    await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: m1.clientMsgID });
    await bob.waitFor(CbEvents.OnNewConversation, (data) => data.some((c) => c.conversationID === conv && c.unreadCount === 1));
    const m2 = await alice.sendText('mbob', 'read me 2');
    await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: m2.clientMsgID });
    await bob.waitFor(CbEvents.OnConversationChanged, (data) => data.some((c) => c.conversationID === conv && c.unreadCount === 2));

    const since = bob.mark();
    await bob.call('markConversationMessageAsRead', conv);
    await bob.waitFor(CbEvents.OnConversationChanged, (data) => data.some((c) => c.conversationID === conv && c.unreadCount === 0), { since });

    const receipt = await alice.waitFor(CbEvents.OnRecvC2CReadReceipt, (data) => Array.isArray(data) && data.some((r) => r.userID === 'mbob'));
    const r = receipt.data.find((x) => x.userID === 'mbob');
    assert.equal(r.sessionType, 1);
    assert.equal(r.groupID, '');
    assert.ok(Array.isArray(r.msgIDList), `msgIDList must list the read messages: ${JSON.stringify(r)}`);
    for (const m of [m1, m2]) assert.ok(r.msgIDList.includes(m.clientMsgID), `receipt lacks ${m.clientMsgID}: ${JSON.stringify(r.msgIDList)}`);

    const list = await bob.conversations();
    assert.equal(list.find((c) => c.conversationID === conv)?.unreadCount, 0);
    // Nothing left to read: the SDK itself refuses a second mark (10002).
    await assert.rejects(bob.call('markConversationMessageAsRead', conv), (e) => e.errCode === 10002);
    // The read pointer is stored on the server: a fresh login has nothing unread.
    const fresh = await (await w.client('mbob', { label: 'mbob#fresh' })).login();
    assert.equal((await fresh.conversations()).find((c) => c.conversationID === conv)?.unreadCount, 0);
    assert.equal(await fresh.call('getTotalUnreadMsgCount'), 0);
  }),
);

test(
  'offline delivery: a user who logs in later sees the conversation, its unread count and its history',
  SCENARIO,
  scenario(async (w) => {
    const [alice] = await w.login('oalice');
    await w.register('obob');
    const conv = singleConversationID('oalice', 'obob');
    const m1 = await alice.sendText('obob', 'while you were away 1');
    const m2 = await alice.sendText('obob', 'while you were away 2');

    // obob logs in only now: the initial sync (1006 seqs, /jssdk/get_active_conversations)
    // must reveal the conversation (CLIENT-SURFACE.md §5 A, §6.6).
    const [bob] = await w.login('obob');
    const list = await bob.conversations();
    const c = list.find((x) => x.conversationID === conv);
    assert.ok(c, `the conversation list after login lacks ${conv}: ${JSON.stringify(list.map((x) => x.conversationID))}`);
    assert.equal(c.conversationType, 1);
    assert.equal(c.userID, 'oalice');
    assert.equal(c.unreadCount, 2);
    assert.equal(c.showName, nicknameOf('oalice'));
    assert.equal(latestMsgOf(c)?.clientMsgID, m2.clientMsgID, 'latestMsg must be the last message sent');
    assert.equal(await bob.call('getTotalUnreadMsgCount'), 2);

    // History comes from the server (1005 pull by seq).
    const page = await bob.call('getAdvancedHistoryMessageList', { conversationID: conv, count: 20, startClientMsgID: '' });
    const ids = page.messageList.map((m) => m.clientMsgID);
    assert.deepEqual(ids, [m1.clientMsgID, m2.clientMsgID], `history: ${JSON.stringify(page.messageList.map((m) => [m.seq, messageText(m)]))}`);
    assert.deepEqual(
      page.messageList.map((m) => messageText(m)),
      ['while you were away 1', 'while you were away 2'],
    );
  }),
);

test(
  'content fidelity: unicode, a long text and a quote round-trip unchanged',
  SCENARIO,
  scenario(async (w) => {
    const [alice, bob] = await w.login('ualice', 'ubob');
    const texts = ['héllo 👋 中文 — “quotes” & <tags> \\ "json"', 'x'.repeat(8000) + ' end'];
    for (const text of texts) {
      const sent = await alice.sendText('ubob', text);
      const got = (await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: sent.clientMsgID })).data.find((m) => m.clientMsgID === sent.clientMsgID);
      assert.equal(messageText(got), text);
    }
    // Quote (114): bob quotes alice's first message.
    const [first] = bob.seen(CbEvents.OnRecvNewMessages).flatMap((e) => e.data).filter((m) => messageText(m) === texts[0]);
    const quote = await bob.call('createQuoteMessage', { text: 'agreed', message: JSON.stringify(first) });
    const sentQuote = await bob.call('sendMessage', { recvID: 'ualice', groupID: '', message: quote });
    const gotQuote = (await alice.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: sentQuote.clientMsgID })).data.find((m) => m.clientMsgID === sentQuote.clientMsgID);
    assert.equal(gotQuote.contentType, 114);
    assert.equal(gotQuote.quoteElem?.text, 'agreed');
    assert.equal(gotQuote.quoteElem?.quoteMessage?.clientMsgID, first.clientMsgID);
    assert.equal(messageText(gotQuote.quoteElem?.quoteMessage), texts[0]);
  }),
);

test(
  'a burst of 30 messages arrives complete, in order, once each, with consecutive seqs',
  SCENARIO,
  scenario(async (w) => {
    const [alice, bob] = await w.login('balice', 'bbob');
    const N = 30;
    // Fired without awaiting each: the SDK queues sends and the server must keep the order.
    const sends = [];
    for (let i = 0; i < N; i++) sends.push(alice.sendText('bbob', `burst ${i}`));
    const sent = await Promise.all(sends);
    for (const s of sent) await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: s.clientMsgID }, { consume: false });

    const received = bob.seen(CbEvents.OnRecvNewMessages).flatMap((e) => e.data).filter((m) => m.sendID === 'balice');
    assert.equal(received.length, N, `each message exactly once: got ${received.length} deliveries for ${N} messages`);
    assert.deepEqual(
      received.map((m) => messageText(m)),
      sent.map((_, i) => `burst ${i}`),
      'delivery order = send order',
    );
    const seqs = received.map((m) => m.seq);
    for (let i = 1; i < N; i++) assert.equal(seqs[i], seqs[i - 1] + 1, `consecutive seqs: ${seqs.join(',')}`);
    const c = (await bob.conversations()).find((x) => x.conversationID === singleConversationID('balice', 'bbob'));
    assert.equal(c.unreadCount, N);
  }),
);

test(
  'delete a message: gone from the deleter\'s history only',
  SCENARIO,
  scenario(async (w) => {
    const [alice, bob] = await w.login('dalice', 'dbob');
    const conv = singleConversationID('dalice', 'dbob');
    const keep = await alice.sendText('dbob', 'keep me');
    const drop = await alice.sendText('dbob', 'delete me');
    await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: keep.clientMsgID });
    await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: drop.clientMsgID });

    await bob.call('deleteMessage', { conversationID: conv, clientMsgID: drop.clientMsgID });
    // The deletion is stored on the server for bob: a fresh login of bob no longer sees it.
    const fresh = await (await w.client('dbob', { label: 'dbob#fresh' })).login();
    const page = await fresh.call('getAdvancedHistoryMessageList', { conversationID: conv, count: 20, startClientMsgID: '' });
    const visible = page.messageList.filter((m) => m.status !== 4).map((m) => messageText(m));
    assert.deepEqual(visible, ['keep me'], `bob's history after delete: ${JSON.stringify(page.messageList.map((m) => [m.seq, m.status, messageText(m)]))}`);
    // alice still has both.
    await until(
      async () => {
        const p = await alice.call('getAdvancedHistoryMessageList', { conversationID: conv, count: 20, startClientMsgID: '' });
        return p.messageList.length === 2;
      },
      { what: "alice's history holding both messages" },
    );
  }),
);
