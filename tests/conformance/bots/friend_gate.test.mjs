// friend_gate (bots/src/friend_gate.rs) driven by the real JS client: a
// running `openim-bots run` answers the friend applications JS users send it,
// greets new friends once, and answers applications sent while it was down.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIO } from '../lib/world.mjs';
import { CbEvents } from '../lib/client.mjs';
import { botScenario, from, receivedTexts, waitMessage } from '../lib/bots.mjs';

const GATE = String.raw`
[bots.friend_gate]
accept = "matching"
request_pattern = '(?i)\bhello\b'
allow_list = ["fgvip"]
block_list = ["fgspam"]
otherwise = "refuse"
greeting = "Hi {nickname}, welcome aboard."
accept_message = "Welcome!"
refuse_message = "Say hello first."
`;

async function friendIDs(client) {
  const list = await client.call('getFriendListPage', { offset: 0, count: 100 });
  return list.map((f) => f.userID).sort();
}

test(
  'friend_gate: a matching application is accepted and greeted once, a non-matching or blocked one refused',
  SCENARIO,
  botScenario(async (w) => {
    const bot = await w.startBot('gatebot', GATE, { nickname: 'Gate Bot' });
    const [ann, bob, spam, vip] = await w.login('fgann', 'fgbob', 'fgspam', 'fgvip');

    await ann.call('addFriend', { toUserID: 'gatebot', reqMsg: 'Hello there!', ex: '' });
    await ann.waitFor(CbEvents.OnFriendApplicationAccepted, { fromUserID: 'fgann', toUserID: 'gatebot', handleResult: 1, handleMsg: 'Welcome!' });
    await waitMessage(ann, from('gatebot', 'Hi Nick-fgann, welcome aboard.'));
    assert.deepEqual(await friendIDs(ann), ['gatebot']);

    await bob.call('addFriend', { toUserID: 'gatebot', reqMsg: 'let me in', ex: '' });
    await bob.waitFor(CbEvents.OnFriendApplicationRejected, { fromUserID: 'fgbob', toUserID: 'gatebot', handleResult: -1, handleMsg: 'Say hello first.' });
    // The block-list wins over a matching message; the allow-list over a non-matching one.
    await spam.call('addFriend', { toUserID: 'gatebot', reqMsg: 'hello', ex: '' });
    await spam.waitFor(CbEvents.OnFriendApplicationRejected, { fromUserID: 'fgspam', toUserID: 'gatebot', handleResult: -1 });
    await vip.call('addFriend', { toUserID: 'gatebot', reqMsg: 'it is me', ex: '' });
    await vip.waitFor(CbEvents.OnFriendApplicationAccepted, { fromUserID: 'fgvip', toUserID: 'gatebot', handleResult: 1 });
    // Friend events share the bot's global lane, in order: once vip is greeted,
    // anything the bot would do about ann's friendship has been done.
    await waitMessage(vip, from('gatebot', 'Hi Nick-fgvip, welcome aboard.'));

    assert.deepEqual(await friendIDs(bob), [], 'a refused applicant is no friend');
    // Applying again, this time saying hello: accepted.
    await bob.call('addFriend', { toUserID: 'gatebot', reqMsg: 'oh, hello then', ex: '' });
    await bob.waitFor(CbEvents.OnFriendApplicationAccepted, { fromUserID: 'fgbob', toUserID: 'gatebot', handleResult: 1 });
    await waitMessage(bob, from('gatebot', 'Hi Nick-fgbob, welcome aboard.'));
    assert.deepEqual(await friendIDs(spam), []);
    assert.deepEqual(receivedTexts(ann, from('gatebot')), ['Hi Nick-fgann, welcome aboard.'], 'exactly one greeting');
    assert.deepEqual(receivedTexts(bob, from('gatebot')), ['Hi Nick-fgbob, welcome aboard.'], 'greeted once, after the second application only');
    const failed = bot.actions().filter((r) => r.message !== 'action done');
    assert.deepEqual(failed, [], 'every action of the bot succeeded');
  }),
);

test(
  'friend_gate: applications sent while the bot is down are answered once it starts, once (also after kill -9)',
  SCENARIO,
  botScenario(async (w) => {
    const bot = await w.bot('gatebot2', GATE, { nickname: 'Gate Bot' });
    const [dan, eve, fay] = await w.login('fgdan', 'fgeve', 'fgfay');
    await dan.call('addFriend', { toUserID: 'gatebot2', reqMsg: 'hello, anyone?', ex: '' });
    await eve.call('addFriend', { toUserID: 'gatebot2', reqMsg: 'buy my stuff', ex: '' });
    await dan.waitFor(CbEvents.OnFriendApplicationAdded, { fromUserID: 'fgdan', toUserID: 'gatebot2', handleResult: 0 });
    await eve.waitFor(CbEvents.OnFriendApplicationAdded, { fromUserID: 'fgeve', toUserID: 'gatebot2', handleResult: 0 });

    await bot.start();
    await dan.waitFor(CbEvents.OnFriendApplicationAccepted, { fromUserID: 'fgdan', toUserID: 'gatebot2', handleResult: 1, handleMsg: 'Welcome!' });
    await eve.waitFor(CbEvents.OnFriendApplicationRejected, { fromUserID: 'fgeve', toUserID: 'gatebot2', handleResult: -1, handleMsg: 'Say hello first.' });
    await waitMessage(dan, from('gatebot2', 'Hi Nick-fgdan, welcome aboard.'));

    // A crash right after the greeting, then a restart on the same data dir:
    // the backlog is not answered again and nobody is greeted twice.
    await bot.kill9();
    const restarted = bot.mark();
    await bot.start();
    await fay.call('addFriend', { toUserID: 'gatebot2', reqMsg: 'HELLO', ex: '' });
    await fay.waitFor(CbEvents.OnFriendApplicationAccepted, { fromUserID: 'fgfay', toUserID: 'gatebot2', handleResult: 1 });
    await waitMessage(fay, from('gatebot2', 'Hi Nick-fgfay, welcome aboard.'));
    await bot.waitAction(/send to user fgfay/, { since: restarted });

    assert.deepEqual(receivedTexts(dan, from('gatebot2')), ['Hi Nick-fgdan, welcome aboard.'], 'one greeting across the crash');
    assert.equal(dan.seen(CbEvents.OnFriendApplicationAccepted).length, 1);
    assert.equal(eve.seen(CbEvents.OnFriendApplicationRejected).length, 1);
    const after = bot.actions({ since: restarted }).map((r) => r.fields.action);
    assert.ok(
      after.every((a) => a.includes('fgfay')),
      `after the restart the bot acted only on the new application, not on the backlog again:\n${after.join('\n')}`,
    );
  }),
);
