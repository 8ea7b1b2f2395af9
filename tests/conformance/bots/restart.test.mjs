// Crashes and restarts of `openim-bots run` while real JS clients talk to it:
// kill -9 right after a reply (the moment the framework's delivery ledger may
// not have reached the disk yet), messages sent while the bot is down, and a
// restart on the same data dir. Every message gets exactly one reply; bot
// state (tickets) survives.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCENARIO } from '../lib/world.mjs';
import { botScenario, from, receivedTexts, waitMessage } from '../lib/bots.mjs';
import { messageText, singleConversationID } from '../lib/client.mjs';

const ECHO = String.raw`
[bots.autoreply]
cooldown = "0s"
[[bots.autoreply.rules]]
pattern = '^echo (?P<n>\d+)$'
reply = "echo reply {n} for {nickname}"
`;

test(
  'restart: kill -9 after a reply, messages while down, restart on the same data dir: each message answered exactly once',
  SCENARIO,
  botScenario(async (w) => {
    const bot = await w.startBot('echobot', ECHO, { nickname: 'Echo Bot' });
    const [ann, ben] = await w.login('rsann', 'rsben');
    const reply = (who, n) => from('echobot', `echo reply ${n} for Nick-${who.userID}`);
    const ask = async (who, n) => {
      await who.sendText('echobot', `echo ${n}`);
      await waitMessage(who, reply(who, n));
    };

    await ask(ann, 1);
    await ask(ann, 2);
    await ask(ben, 1);
    // Crash right after the last reply arrived.
    await bot.kill9();
    // Written while the bot is down.
    await ann.sendText('echobot', 'echo 3');
    await ben.sendText('echobot', 'echo 2');
    await ann.sendText('echobot', 'echo 4');
    await bot.start();
    for (const [who, n] of [[ann, 3], [ann, 4], [ben, 2]]) await waitMessage(who, reply(who, n));
    await ask(ann, 5);
    // Crash again, this time right after a reply to a message of the backlog's
    // conversation, then a clean stop/start (SIGTERM) for good measure.
    await bot.kill9();
    await ann.sendText('echobot', 'echo 6');
    await bot.start();
    await waitMessage(ann, reply(ann, 6));
    const stopped = await bot.stop();
    assert.deepEqual(stopped, { code: 0, signal: null }, `SIGTERM stops the bot cleanly:\n${bot.output(10)}`);
    await bot.start();
    await ask(ann, 7);
    await ask(ben, 3);

    // Replies within a conversation come in seq order, so once the last
    // awaited reply arrived every earlier one (and any duplicate) has too.
    assert.deepEqual(
      receivedTexts(ann, from('echobot')),
      [1, 2, 3, 4, 5, 6, 7].map((n) => `echo reply ${n} for Nick-rsann`),
      'every message of rsann answered exactly once, in order',
    );
    assert.deepEqual(receivedTexts(ben, from('echobot')), [1, 2, 3].map((n) => `echo reply ${n} for Nick-rsben`));
  }),
);

function supportToml(agentsGroup) {
  return String.raw`
[bots.support]
agents_group = "${agentsGroup}"
ticket_opened = "Ticket #{n} is open."
`;
}

test(
  'restart: support tickets survive kill -9 (the customer keeps their ticket, numbering continues)',
  SCENARIO,
  botScenario(async (w) => {
    const [agent, c1, c2] = await w.login('rtagent', 'rtcust1', 'rtcust2');
    await w.registerNamed('rdesk', 'Desk Bot');
    const { groupID } = await agent.call('createGroup', { memberUserIDs: ['rdesk'], adminUserIDs: [], groupInfo: { groupName: 'Agents', groupType: 2 } });
    const bot = await w.startBot('rdesk', supportToml(groupID), { nickname: 'Desk Bot' });

    await c1.sendText('rdesk', 'my order is late');
    await waitMessage(c1, from('rdesk', 'Ticket #1 is open.'));
    await waitMessage(agent, from('rdesk', /^New ticket #1 from Nick-rtcust1/, { groupID }));
    await agent.sendGroupText(groupID, '/claim 1');
    await waitMessage(c1, from('rdesk', 'Nick-rtagent from our team is now handling your ticket #1.'));

    await bot.kill9();
    await c1.sendText('rdesk', 'any news?');
    await bot.start();
    // The ticket is still claimed: the message goes to the agent, no new ticket.
    await waitMessage(agent, from('rdesk', '@Nick-rtagent #1 Nick-rtcust1: any news?', { groupID }));
    await c2.sendText('rdesk', 'hello, I need help');
    await waitMessage(c2, from('rdesk', 'Ticket #2 is open.'));
    await waitMessage(agent, from('rdesk', /^New ticket #2 from Nick-rtcust2/, { groupID }));

    assert.deepEqual(receivedTexts(c1, from('rdesk')), ['Ticket #1 is open.', 'Nick-rtagent from our team is now handling your ticket #1.']);
    const agentTexts = receivedTexts(agent, from('rdesk', undefined, { groupID }));
    assert.equal(agentTexts.filter((t) => t.startsWith('New ticket #1')).length, 1, agentTexts.join('\n'));
    assert.equal(agentTexts.filter((t) => t.startsWith('Ticket #1 claimed')).length, 1, agentTexts.join('\n'));
  }),
);

const sandboxDataDir = mkdtempSync(join(tmpdir(), 'oim-bots-sandbox-'));
process.on('exit', () => rmSync(sandboxDataDir, { recursive: true, force: true }));

test(
  'restart: the server restarts under a running bot (same addresses, --data-dir): the bot reconnects and answers again',
  SCENARIO,
  botScenario(
    async (w) => {
      const bot = await w.startBot('rcbot', ECHO, { nickname: 'Echo Bot' });
      const ann = await (await w.client('rcann')).login();
      await ann.sendText('rcbot', 'echo 1');
      await waitMessage(ann, from('rcbot', 'echo reply 1 for Nick-rcann'));
      // The JS client's own reconnect catch-up is broken in SDK 0.0.14 (see
      // test/reconnect.test.mjs): log it out, and log in afresh afterwards.
      await ann.close();

      const mark = bot.mark();
      await w.restartSandbox();
      for (const b of w.bots) b.sandbox = w.sandbox;
      const again = await (await w.client('rcann', { label: 'rcann#2' })).login();
      await again.sendText('rcbot', 'echo 2');
      // The bot reconnects by itself (its backoff) and answers.
      await waitMessage(again, from('rcbot', 'echo reply 2 for Nick-rcann'), { timeoutMs: 40000 });
      await again.sendText('rcbot', 'echo 3');
      await waitMessage(again, from('rcbot', 'echo reply 3 for Nick-rcann'));
      assert.deepEqual(receivedTexts(again, from('rcbot')), ['echo reply 2 for Nick-rcann', 'echo reply 3 for Nick-rcann']);
      assert.ok(bot.proc, 'the bot process kept running');
      assert.equal(bot.records.filter((r) => r.seq >= mark && r.exit).length, 0);
    },
    { sandbox: { dataDir: sandboxDataDir } },
  ),
);

// The server killed hard (SIGKILL) right after the bot's replies. Before the sandbox's message
// log (review-s8 F4) the replies acknowledged in the last 200 ms were lost and their seqs handed
// out again: the next message took a seq the bot had already handled (its own reply) and was
// skipped as seen, so it was never answered.
const sandboxDataDir2 = mkdtempSync(join(tmpdir(), 'oim-bots-sandbox-'));
process.on('exit', () => rmSync(sandboxDataDir2, { recursive: true, force: true }));

test(
  'restart: the server is killed hard (SIGKILL) right after the bot replied: the next message is answered, the history has every message once',
  SCENARIO,
  botScenario(
    async (w) => {
      const bot = await w.startBot('rkbot', ECHO, { nickname: 'Echo Bot' });
      const ann = await (await w.client('rkann')).login();
      for (const n of [1, 2, 3]) {
        await ann.sendText('rkbot', `echo ${n}`);
        await waitMessage(ann, from('rkbot', `echo reply ${n} for Nick-rkann`));
      }
      await ann.close();

      const mark = bot.mark();
      await w.killAndRestartSandbox();
      for (const b of w.bots) b.sandbox = w.sandbox;
      const again = await (await w.client('rkann', { label: 'rkann#2' })).login();
      await again.sendText('rkbot', 'echo 4');
      // The bot reconnects by itself (its backoff) and answers.
      await waitMessage(again, from('rkbot', 'echo reply 4 for Nick-rkann'), { timeoutMs: 40000 });
      const page = await again.call('getAdvancedHistoryMessageList', { conversationID: singleConversationID('rkann', 'rkbot'), count: 50, startClientMsgID: '' });
      const expected = [1, 2, 3, 4].flatMap((n) => [`echo ${n}`, `echo reply ${n} for Nick-rkann`]);
      assert.deepEqual(
        page.messageList.map((m) => messageText(m)),
        expected,
        `history across the kill: ${JSON.stringify(page.messageList.map((m) => [m.seq, messageText(m)]))}`,
      );
      assert.deepEqual(
        page.messageList.map((m) => m.seq),
        expected.map((_, i) => i + 1),
      );
      assert.equal(bot.records.filter((r) => r.seq >= mark && r.exit).length, 0, 'the bot process kept running');
    },
    { sandbox: { dataDir: sandboxDataDir2 } },
  ),
);
