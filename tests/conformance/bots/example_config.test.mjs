// bots/bots.example.toml as a user runs it: the file unchanged, the server
// address, the account and a user token given through the OPENIM_*
// environment overrides, all four bots in one process, the groups it names
// ("community", "support_agents") created by real JS clients.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCENARIO } from '../lib/world.mjs';
import { CbEvents } from '../lib/client.mjs';
import { botScenario, from, receivedTexts, waitMessage } from '../lib/bots.mjs';

const EXAMPLE = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bots/bots.example.toml');

test(
  'bots.example.toml with OPENIM_* overrides and a user token: friend_gate, support FAQ, moderator and autoreply in one process',
  SCENARIO,
  botScenario(async (w) => {
    const [owner, carol, member, agent] = await w.login('exowner', 'excarol', 'exmember', 'exagent');
    await w.registerNamed('helper_bot', 'Helper Bot');
    // The groups the example names; the bot is an admin of the moderated one.
    await owner.call('createGroup', {
      memberUserIDs: ['exmember'],
      adminUserIDs: ['helper_bot'],
      groupInfo: { groupID: 'community', groupName: 'Community', groupType: 2 },
    });
    await agent.call('createGroup', {
      memberUserIDs: ['helper_bot'],
      adminUserIDs: [],
      groupInfo: { groupID: 'support_agents', groupName: 'Agents', groupType: 2 },
    });
    await member.waitFor(CbEvents.OnJoinedGroupAdded, { groupID: 'community' });
    // A token minted for the platform the example logs in with (7, Linux).
    const token = await w.sandbox.userToken('helper_bot', 7);
    const dataDir = w.tempDir();
    const bot = await w.bot('helper_bot', '', {
      nickname: 'Helper Bot',
      dataDir,
      configFile: EXAMPLE,
      env: {
        OPENIM_API_ADDR: w.sandbox.api,
        OPENIM_WS_ADDR: w.sandbox.ws,
        OPENIM_USER_ID: 'helper_bot',
        OPENIM_TOKEN: token,
        OPENIM_DATA_DIR: dataDir,
      },
    });
    await bot.start();

    // friend_gate: "hi" matches the request pattern.
    await carol.call('addFriend', { toUserID: 'helper_bot', reqMsg: 'hi, it is Carol', ex: '' });
    await carol.waitFor(CbEvents.OnFriendApplicationAccepted, { fromUserID: 'excarol', toUserID: 'helper_bot', handleResult: 1, handleMsg: 'Welcome!' });
    await waitMessage(carol, from('helper_bot', "Hi Nick-excarol! I'm the helper bot. Ask me anything."));

    // support owns private chats: an FAQ question is answered at once.
    await carol.sendText('helper_bot', 'what is your pricing?');
    await waitMessage(carol, from('helper_bot', 'OpenIM is open source and free to self-host.\n(Not what you needed? Write /human to reach a person.)'));
    // The example marks what the bots handled read (`[bots] mark_read`): Carol sees her question read.
    await carol.waitFor(CbEvents.OnRecvC2CReadReceipt, (d) => d.some((r) => r.userID === 'helper_bot'));

    // moderator in "community": a banned phrase is revoked with a warning, and
    // autoreply (which runs after it) leaves that message alone although "hi" matches.
    const spam = await member.sendGroupText('community', 'hi, buy followers here');
    await owner.waitFor(CbEvents.OnNewRecvMessageRevoked, { clientMsgID: spam.clientMsgID });
    await waitMessage(owner, from('helper_bot', /^@Nick-exmember warning, strike 1\/3 \(banned word "buy followers"\)/, { groupID: 'community' }));
    // autoreply answers the other group messages.
    await member.sendGroupText('community', 'hello everyone');
    await waitMessage(owner, from('helper_bot', 'hello Nick-exmember! How can I help?', { groupID: 'community' }));
    assert.deepEqual(
      receivedTexts(owner, from('helper_bot', /How can I help/, { groupID: 'community' })),
      ['hello Nick-exmember! How can I help?'],
      'the revoked message got no auto-reply',
    );

    const failed = bot.actions().filter((r) => r.message !== 'action done');
    assert.deepEqual(failed.map((r) => r.fields), [], 'every action of the bot succeeded');
    assert.ok(!bot.output(10000).includes(token), 'the token is never logged');
  }),
);
