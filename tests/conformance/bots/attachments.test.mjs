// Pictures, files and stickers sent by real JS clients to the bundled bots
// (bots/src/handlers.rs MessageView.attachment): the moderator counts them
// toward flooding and repetition, and support relays them between customer
// and agent both ways (a "[picture]" line, then the item itself), and the
// app's own custom messages likewise.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIO } from '../lib/world.mjs';
import { CbEvents } from '../lib/client.mjs';
import { botScenario, from, received, waitMessage } from '../lib/bots.mjs';

const picture = (url) => ({ uuid: url, type: 'png', size: 1234, width: 64, height: 48, url });

async function sendPicture(client, { recvID = '', groupID = '' }, url = 'https://img.example/shot.png') {
  const message = await client.call('createImageMessageByURL', {
    sourcePath: '/tmp/shot.png',
    sourcePicture: picture(url),
    bigPicture: picture(`${url}?big`),
    snapshotPicture: picture(`${url}?small`),
  });
  return client.call('sendMessageNotOss', { recvID, groupID, message });
}

async function sendFile(client, { recvID = '', groupID = '' }) {
  const message = await client.call('createFileMessageByURL', {
    filePath: '/tmp/log.txt',
    fileName: 'crash.log',
    uuid: 'file-crash-log',
    sourceUrl: 'https://files.example/crash.log',
    fileSize: 4321,
    fileType: 'txt',
  });
  return client.call('sendMessageNotOss', { recvID, groupID, message });
}

async function sendSticker(client, groupID) {
  const message = await client.call('createFaceMessage', { index: 7, data: '{"sticker":"party"}' });
  return client.call('sendMessage', { recvID: '', groupID, message });
}

/** Messages of `client` from `sendID` in `groupID` (or one-to-one), any content type. */
const itemsFrom = (client, sendID, groupID) => received(client, (m) => m.sendID === sendID && (groupID ? m.groupID === groupID : !m.groupID));

test(
  'moderator: pictures count toward flooding and the same sticker again is a repetition',
  SCENARIO,
  botScenario(async (w) => {
    const [owner, noisy, sticky] = await w.login('atowner', 'atnoisy', 'atsticky');
    await w.registerNamed('atmod', 'Att Mod');
    const { groupID } = await owner.call('createGroup', {
      memberUserIDs: ['atnoisy', 'atsticky'],
      adminUserIDs: ['atmod'],
      groupInfo: { groupName: 'Pictures', groupType: 2 },
    });
    await noisy.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });
    await sticky.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });
    await w.startBot(
      'atmod',
      String.raw`
[bots.moderator]
groups = ["${groupID}"]
[bots.moderator.flood]
max_messages = 3
window = "1m"
[bots.moderator.repeat]
max_repeats = 3
window = "1m"
`,
      { nickname: 'Att Mod' },
    );

    // Four pictures within the window: the fourth is removed and its sender warned.
    const sent = [];
    for (const n of [1, 2, 3, 4]) sent.push(await sendPicture(noisy, { groupID }, `https://img.example/${n}.png`));
    const revoked = await owner.waitFor(CbEvents.OnNewRecvMessageRevoked, { clientMsgID: sent[3].clientMsgID });
    assert.equal(revoked.data.revokerID, 'atmod');
    await waitMessage(owner, from('atmod', /^@Nick-atnoisy warning, strike 1\/3 \(flooding \(4 messages in 1m\)\)/, { groupID }));

    // The same sticker three times (three messages: no flood) is a repetition: the third goes.
    const stickers = [];
    for (let i = 0; i < 3; i++) stickers.push(await sendSticker(sticky, groupID));
    await owner.waitFor(CbEvents.OnNewRecvMessageRevoked, { clientMsgID: stickers[2].clientMsgID });
    await waitMessage(owner, from('atmod', /^@Nick-atsticky warning, strike 1\/3 /, { groupID }));
    assert.deepEqual(
      owner.seen(CbEvents.OnNewRecvMessageRevoked).map((e) => e.data.clientMsgID),
      [sent[3].clientMsgID, stickers[2].clientMsgID],
      'only the flood picture and the repeated sticker were removed',
    );
  }),
);

test(
  'support: a picture opens a ticket and reaches the agents group; files and pictures are relayed both ways',
  SCENARIO,
  botScenario(async (w) => {
    const [agent, customer] = await w.login('atagent', 'atcust');
    await w.registerNamed('atdesk', 'Att Desk');
    const { groupID } = await agent.call('createGroup', { memberUserIDs: ['atdesk'], adminUserIDs: [], groupInfo: { groupName: 'Agents', groupType: 2 } });
    await w.startBot(
      'atdesk',
      String.raw`
[bots.support]
agents_group = "${groupID}"
ticket_opened = "Ticket #{n} is open."
`,
      { nickname: 'Att Desk' },
    );

    // A screenshot as the first message opens ticket #1; the agents see the line, then the picture.
    await sendPicture(customer, { recvID: 'atdesk' });
    await waitMessage(customer, from('atdesk', 'Ticket #1 is open.'));
    await waitMessage(agent, from('atdesk', /^New ticket #1 from Nick-atcust \(atcust\): \[picture\]/, { groupID }));
    const shot = await agent.waitFor(CbEvents.OnRecvNewMessages, (d) => d.some((m) => m.sendID === 'atdesk' && m.groupID === groupID && m.contentType === 102));
    const relayed = shot.data.find((m) => m.contentType === 102);
    assert.equal(relayed.pictureElem.sourcePicture.url, 'https://img.example/shot.png');
    assert.equal(relayed.pictureElem.bigPicture.url, 'https://img.example/shot.png?big');

    // Claimed: a file from the customer reaches the agent with a mention, then the file itself.
    await agent.sendGroupText(groupID, '/claim 1');
    await waitMessage(customer, from('atdesk', /is now handling your ticket #1/));
    await sendFile(customer, { recvID: 'atdesk' });
    await waitMessage(agent, from('atdesk', /^@Nick-atagent #1 Nick-atcust: \[file/, { groupID }));
    const file = await agent.waitFor(CbEvents.OnRecvNewMessages, (d) => d.some((m) => m.sendID === 'atdesk' && m.groupID === groupID && m.contentType === 105));
    const fileElem = file.data.find((m) => m.contentType === 105).fileElem;
    assert.equal(fileElem.sourceUrl, 'https://files.example/crash.log');
    assert.equal(fileElem.fileName, 'crash.log');

    // The app's own kind of message (an order card, content type 110) is passed on likewise.
    const order = await customer.call('createCustomMessage', { data: '{"order":7}', extension: 'shop', description: 'Order #7' });
    await customer.call('sendMessage', { recvID: 'atdesk', groupID: '', message: order });
    await waitMessage(agent, from('atdesk', /^@Nick-atagent #1 Nick-atcust: \[custom message: Order #7\]$/, { groupID }));
    const card = await agent.waitFor(CbEvents.OnRecvNewMessages, (d) => d.some((m) => m.sendID === 'atdesk' && m.groupID === groupID && m.contentType === 110));
    const customElem = card.data.find((m) => m.contentType === 110).customElem;
    assert.deepEqual([customElem.data, customElem.description, customElem.extension], ['{"order":7}', 'Order #7', 'shop']);

    // The agent answers privately with a picture: the customer gets the line, then the picture.
    await sendPicture(agent, { recvID: 'atdesk' }, 'https://img.example/fix.png');
    await waitMessage(customer, from('atdesk', /^Nick-atagent \(support\): \[picture\]/));
    const answer = await customer.waitFor(CbEvents.OnRecvNewMessages, (d) => d.some((m) => m.sendID === 'atdesk' && m.contentType === 102));
    assert.equal(answer.data.find((m) => m.contentType === 102).pictureElem.sourcePicture.url, 'https://img.example/fix.png');
    // Nothing else reached the customer, and each item once.
    assert.deepEqual(
      itemsFrom(customer, 'atdesk').map((m) => m.contentType),
      [101, 101, 101, 102],
      `customer's items: ${JSON.stringify(itemsFrom(customer, 'atdesk').map((m) => [m.contentType, m.textElem?.content]))}`,
    );
  }),
);
