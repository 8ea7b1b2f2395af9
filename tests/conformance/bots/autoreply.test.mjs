// autoreply (bots/src/autoreply.rs) driven by the real JS client: keyword and
// regex rules answer once, the per-conversation cooldown holds, and in groups
// the bot answers only as configured (scope, @-mention).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIO } from '../lib/world.mjs';
import { CbEvents, until } from '../lib/client.mjs';
import { botScenario, from, receivedTexts, waitMessage } from '../lib/bots.mjs';

const COOLDOWN_MS = 2000;

const AUTOREPLY = String.raw`
[bots.autoreply]
cooldown = "2s"
group_requires_mention = true

[[bots.autoreply.rules]]
pattern = '(?i)^price of (?P<item>\w+)'
reply = "The {item} cost 3 coins, {nickname}."

[[bots.autoreply.rules]]
keywords = ["hello", "hey"]
reply = "{0} {nickname}! You are in {group_id}."
scope = "group"
`;

test(
  'autoreply: a matching private message gets the templated reply once; the cooldown silences the conversation',
  SCENARIO,
  botScenario(async (w) => {
    await w.startBot('replybot', AUTOREPLY, { nickname: 'Reply Bot' });
    const [ann] = await w.login('arann');

    const first = await ann.sendText('replybot', 'price of apples');
    await waitMessage(ann, from('replybot', 'The apples cost 3 coins, Nick-arann.'));
    // Within the cooldown (measured on the messages' server times): no reply.
    const second = await ann.sendText('replybot', 'price of pears');
    assert.ok(second.sendTime - first.sendTime < COOLDOWN_MS, 'the second message must fall inside the cooldown for this check');
    // Past the cooldown: answered again. The bot handles a conversation in
    // seq order, so when this reply arrives the second message has been handled.
    await until(async () => Date.now() > first.sendTime + COOLDOWN_MS + 50, { timeoutMs: COOLDOWN_MS + 2000, what: 'the cooldown elapsing' });
    await ann.sendText('replybot', 'price of plums');
    await waitMessage(ann, from('replybot', 'The plums cost 3 coins, Nick-arann.'));

    assert.deepEqual(receivedTexts(ann, from('replybot')), ['The apples cost 3 coins, Nick-arann.', 'The plums cost 3 coins, Nick-arann.']);
  }),
);

test(
  'autoreply: in a group only @-mentions are answered (group_requires_mention) and group-scoped rules stay out of private chats',
  SCENARIO,
  botScenario(async (w) => {
    await w.startBot('replybot2', AUTOREPLY, { nickname: 'Reply Bot' });
    const [owner, member] = await w.login('agowner', 'agmember');
    const group = await owner.call('createGroup', {
      memberUserIDs: ['replybot2', 'agmember'],
      adminUserIDs: [],
      groupInfo: { groupName: 'Autoreply Group', groupType: 2 },
    });
    const { groupID } = group;
    await member.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });

    // No mention: ignored.
    await owner.sendGroupText(groupID, 'hello everyone');
    // Mentioning the bot: answered, in the group, seen by every member.
    const at = await owner.call('createTextAtMessage', {
      text: '@Reply Bot hey there',
      atUserIDList: ['replybot2'],
      atUsersInfo: [{ atUserID: 'replybot2', groupNickname: 'Reply Bot' }],
    });
    await owner.call('sendMessage', { recvID: '', groupID, message: at });
    const expected = `hey Nick-agowner! You are in ${groupID}.`;
    await waitMessage(owner, from('replybot2', expected, { groupID }));
    await waitMessage(member, from('replybot2', expected, { groupID }));
    assert.deepEqual(receivedTexts(member, from('replybot2', undefined, { groupID })), [expected], 'only the mention was answered');

    // Privately, the group-scoped greeting rule does not apply; the price rule does.
    await member.sendText('replybot2', 'hello bot');
    await member.sendText('replybot2', 'price of kiwis');
    await waitMessage(member, from('replybot2', 'The kiwis cost 3 coins, Nick-agmember.'));
    assert.deepEqual(receivedTexts(member, from('replybot2')), ['The kiwis cost 3 coins, Nick-agmember.']);
  }),
);

// The rules of bots/bots.example.toml, answering every group message (no mention needed).
const EXAMPLE_RULES = String.raw`
[bots.autoreply]
cooldown = "0s"
group_requires_mention = false

[[bots.autoreply.rules]]
keywords = ["hello", "hi", "hey"]
reply = "{0} {nickname}! How can I help?"

[[bots.autoreply.rules]]
pattern = '(?i)where is (?:my )?order #?(?P<order>\d+)'
reply = "Order {order} is on its way, {nickname}."
scope = "private"
`;

test(
  'autoreply: with group_requires_mention = false any group message matching a rule is answered; private-scoped rules stay private',
  SCENARIO,
  botScenario(async (w) => {
    await w.startBot('replybot3', EXAMPLE_RULES, { nickname: 'Reply Bot' });
    const [owner, member] = await w.login('aeowner', 'aemember');
    const { groupID } = await owner.call('createGroup', {
      memberUserIDs: ['replybot3', 'aemember'],
      adminUserIDs: [],
      groupInfo: { groupName: 'Example Group', groupType: 2 },
    });
    await member.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });

    await member.sendGroupText(groupID, 'where is my order #42?');
    await member.sendGroupText(groupID, 'Hey folks');
    await waitMessage(owner, from('replybot3', 'Hey Nick-aemember! How can I help?', { groupID }));
    assert.deepEqual(receivedTexts(owner, from('replybot3', undefined, { groupID })), ['Hey Nick-aemember! How can I help?'], 'the private-scoped order rule did not answer in the group');

    await member.sendText('replybot3', 'where is order 42');
    await waitMessage(member, from('replybot3', 'Order 42 is on its way, Nick-aemember.'));
    await member.sendText('replybot3', 'hi');
    await waitMessage(member, from('replybot3', 'hi Nick-aemember! How can I help?'));
    assert.equal(receivedTexts(member, from('replybot3')).length, 2);
  }),
);

test(
  'autoreply: with group_requires_mention, a reply quoting the bot addresses it; @all does not',
  SCENARIO,
  botScenario(async (w) => {
    await w.startBot('replybot4', AUTOREPLY.replace('cooldown = "2s"', 'cooldown = "0s"'), { nickname: 'Reply Bot' });
    const [owner, member] = await w.login('aqowner', 'aqmember');
    const { groupID } = await owner.call('createGroup', {
      memberUserIDs: ['replybot4', 'aqmember'],
      adminUserIDs: [],
      groupInfo: { groupName: 'Quote Group', groupType: 2 },
    });
    await member.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });

    const at = await owner.call('createTextAtMessage', {
      text: '@Reply Bot hey',
      atUserIDList: ['replybot4'],
      atUsersInfo: [{ atUserID: 'replybot4', groupNickname: 'Reply Bot' }],
    });
    await owner.call('sendMessage', { recvID: '', groupID, message: at });
    const first = `hey Nick-aqowner! You are in ${groupID}.`;
    const answer = await waitMessage(member, from('replybot4', first, { groupID }));

    // @all is everyone's, not the bot's: not answered. A quote of the bot's answer is.
    const all = await owner.call('createTextAtMessage', { text: '@everyone hello all', atUserIDList: ['AtAllTag'] });
    await owner.call('sendMessage', { recvID: '', groupID, message: all });
    const quote = await member.call('createQuoteMessage', { text: 'hello again', message: JSON.stringify(answer) });
    await member.call('sendMessage', { recvID: '', groupID, message: quote });
    const second = `hello Nick-aqmember! You are in ${groupID}.`;
    await waitMessage(owner, from('replybot4', second, { groupID }));
    assert.deepEqual(receivedTexts(owner, from('replybot4', undefined, { groupID })), [first, second], 'the @all message was not answered');
  }),
);
