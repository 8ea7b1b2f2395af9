// Every message type the JS client can build without uploading: picture,
// sound, video and file by URL, location, card, face, merge, forward, quote in
// a group. Each must reach the peer with its element intact, live and from the
// server's history. Spec references: CLIENT-SURFACE.md §6.3 (elements by
// content type), §10 (MsgData.content); http-api.md §4.2 (content types).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIO, scenario } from '../lib/world.mjs';
import { CbEvents, messageText, singleConversationID } from '../lib/client.mjs';

const picture = (w, h, url) => ({ uuid: `uuid-${w}`, type: 'png', size: w * h, width: w, height: h, url });

/** What the peer must see, per content type: the element key and a subset of its fields. */
const CASES = [
  {
    name: 'picture',
    create: ['createImageMessageByURL', { sourcePath: '/tmp/a.png', sourcePicture: picture(800, 600, 'https://img.example/a.png'), bigPicture: picture(400, 300, 'https://img.example/a-big.png'), snapshotPicture: picture(80, 60, 'https://img.example/a-s.png') }],
    contentType: 102,
    elem: 'pictureElem',
    expect: (e) => e.sourcePicture.url === 'https://img.example/a.png' && e.bigPicture.width === 400 && e.snapshotPicture.height === 60,
  },
  {
    name: 'sound',
    create: ['createSoundMessageByURL', { uuid: 'snd-1', soundPath: '', sourceUrl: 'https://cdn.example/v.mp3', dataSize: 1234, duration: 7 }],
    contentType: 103,
    elem: 'soundElem',
    expect: (e) => e.sourceUrl === 'https://cdn.example/v.mp3' && e.duration === 7 && e.dataSize === 1234,
  },
  {
    name: 'video',
    create: [
      'createVideoMessageByURL',
      { videoPath: '', duration: 12, videoType: 'mp4', snapshotPath: '', videoUUID: 'vid-1', videoUrl: 'https://cdn.example/v.mp4', videoSize: 99999, snapshotUUID: 'snap-1', snapshotSize: 100, snapshotUrl: 'https://cdn.example/v.jpg', snapshotWidth: 320, snapshotHeight: 240 },
    ],
    contentType: 104,
    elem: 'videoElem',
    expect: (e) => e.videoUrl === 'https://cdn.example/v.mp4' && e.duration === 12 && e.snapshotWidth === 320,
  },
  {
    name: 'file',
    create: ['createFileMessageByURL', { filePath: '', fileName: 'report.pdf', uuid: 'file-1', sourceUrl: 'https://cdn.example/report.pdf', fileSize: 4096 }],
    contentType: 105,
    elem: 'fileElem',
    expect: (e) => e.fileName === 'report.pdf' && e.sourceUrl === 'https://cdn.example/report.pdf' && e.fileSize === 4096,
  },
  {
    name: 'location',
    create: ['createLocationMessage', { description: 'the office', longitude: 116.39, latitude: 39.9 }],
    contentType: 109,
    elem: 'locationElem',
    expect: (e) => e.description === 'the office' && e.longitude === 116.39 && e.latitude === 39.9,
  },
  {
    name: 'card',
    create: ['createCardMessage', { userID: 'someone', nickname: 'Some One', faceURL: 'https://img.example/f.png', ex: 'card-ex' }],
    contentType: 108,
    elem: 'cardElem',
    expect: (e) => e.userID === 'someone' && e.nickname === 'Some One' && e.ex === 'card-ex',
  },
  {
    name: 'face',
    create: ['createFaceMessage', { index: 3, data: '{"emoji":"smile"}' }],
    contentType: 115,
    elem: 'faceElem',
    expect: (e) => e.index === 3 && e.data === '{"emoji":"smile"}',
  },
];

test(
  'picture, sound, video, file, location, card and face messages keep their elements, live and in history',
  SCENARIO,
  scenario(async (w) => {
    const [alice, bob] = await w.login('ctalice', 'ctbob');
    const conv = singleConversationID('ctalice', 'ctbob');
    const sent = [];
    for (const c of CASES) {
      const message = await alice.call(...c.create);
      assert.equal(message.contentType, c.contentType, `${c.name}: created content type`);
      // sendMessage would upload a local File for media types; a message built from URLs goes
      // through sendMessageNotOss (the same 1003 send without the upload step).
      const s = await alice.call('sendMessageNotOss', { recvID: 'ctbob', groupID: '', message });
      assert.equal(s.status, 2, `${c.name}: sent`);
      const got = (await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: s.clientMsgID })).data.find((m) => m.clientMsgID === s.clientMsgID);
      assert.equal(got.contentType, c.contentType, `${c.name}: received content type`);
      assert.ok(got[c.elem] && c.expect(got[c.elem]), `${c.name}: received ${c.elem} ${JSON.stringify(got[c.elem])}`);
      sent.push([c, s]);
    }
    // A fresh device reads them back from the server (1005 pulls).
    const desktop = await (await w.client('ctbob', { label: 'ctbob#desktop', platformID: 3 })).login();
    const page = await desktop.call('getAdvancedHistoryMessageList', { conversationID: conv, count: 50, startClientMsgID: '' });
    const byID = new Map(page.messageList.map((m) => [m.clientMsgID, m]));
    for (const [c, s] of sent) {
      const m = byID.get(s.clientMsgID);
      assert.ok(m, `${c.name}: missing from history`);
      assert.equal(m.contentType, c.contentType);
      assert.ok(m[c.elem] && c.expect(m[c.elem]), `${c.name}: history ${c.elem} ${JSON.stringify(m[c.elem])}`);
    }
  }),
);

test(
  'merge and forward: a merged chat history and a forwarded message arrive intact; a quote in a group',
  SCENARIO,
  scenario(async (w) => {
    const [alice, bob, carol] = await w.login('mfalice', 'mfbob', 'mfcarol');
    const one = await carol.sendText('mfalice', 'first words');
    const two = await carol.sendText('mfalice', 'second words');
    const received = [];
    for (const m of [one, two]) received.push((await alice.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: m.clientMsgID })).data.find((x) => x.clientMsgID === m.clientMsgID));

    const merger = await alice.call('createMergerMessage', { messageList: received, title: 'Chat with carol', summaryList: ['carol: first words', 'carol: second words'] });
    const sentMerger = await alice.call('sendMessage', { recvID: 'mfbob', groupID: '', message: merger });
    const gotMerger = (await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: sentMerger.clientMsgID })).data.find((m) => m.clientMsgID === sentMerger.clientMsgID);
    assert.equal(gotMerger.contentType, 107);
    assert.equal(gotMerger.mergeElem?.title, 'Chat with carol');
    assert.deepEqual(gotMerger.mergeElem?.abstractList, ['carol: first words', 'carol: second words']);
    assert.deepEqual(
      gotMerger.mergeElem?.multiMessage?.map((m) => messageText(m)),
      ['first words', 'second words'],
    );

    const forward = await alice.call('createForwardMessage', received[0]);
    const sentForward = await alice.call('sendMessage', { recvID: 'mfbob', groupID: '', message: forward });
    assert.notEqual(sentForward.clientMsgID, one.clientMsgID, 'a forward is a new message');
    const gotForward = (await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: sentForward.clientMsgID })).data.find((m) => m.clientMsgID === sentForward.clientMsgID);
    assert.equal(gotForward.contentType, 101);
    assert.equal(gotForward.sendID, 'mfalice');
    assert.equal(messageText(gotForward), 'first words');

    // Quote in a group.
    const group = await alice.call('createGroup', { memberUserIDs: ['mfbob'], adminUserIDs: [], groupInfo: { groupName: 'Quote Group', groupType: 2 } });
    await bob.waitFor(CbEvents.OnJoinedGroupAdded, { groupID: group.groupID });
    const original = await bob.sendGroupText(group.groupID, 'quote me');
    const gotOriginal = (await alice.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: original.clientMsgID })).data.find((m) => m.clientMsgID === original.clientMsgID);
    const quote = await alice.call('createQuoteMessage', { text: 'quoted!', message: JSON.stringify(gotOriginal) });
    const sentQuote = await alice.call('sendMessage', { recvID: '', groupID: group.groupID, message: quote });
    const gotQuote = (await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: sentQuote.clientMsgID })).data.find((m) => m.clientMsgID === sentQuote.clientMsgID);
    assert.equal(gotQuote.contentType, 114);
    assert.equal(gotQuote.sessionType, 3);
    assert.equal(gotQuote.quoteElem?.text, 'quoted!');
    assert.equal(gotQuote.quoteElem?.quoteMessage?.clientMsgID, original.clientMsgID);
    assert.equal(messageText(gotQuote.quoteElem?.quoteMessage), 'quote me');
  }),
);
