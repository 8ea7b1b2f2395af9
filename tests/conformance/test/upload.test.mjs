// Uploads as the JS client does them (/object/part_size, initiate, one PUT per
// signed part URL, complete), then picture and file messages built from local
// files, and objects kept across a restart when the sandbox has a data dir.
// Spec references: CLIENT-SURFACE.md Appendix A (Upload); http-api.md §5.6.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCENARIO, scenario } from '../lib/world.mjs';
import { CbEvents, singleConversationID } from '../lib/client.mjs';
import { installFileReader, patternBytes, download } from '../lib/files.mjs';

installFileReader();

const dataDir = mkdtempSync(join(tmpdir(), 'oim-conformance-upload-'));
process.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));

test(
  'uploadFile: small and multi-part files are stored and served back byte for byte; identical content is not uploaded twice',
  SCENARIO,
  scenario(async (w) => {
    const [alice] = await w.login('upalice');
    const small = patternBytes(3000, 7);
    const { url } = await alice.call('uploadFile', { file: new File([small], 'note.txt', { type: 'text/plain' }), name: 'note.txt', contentType: 'text/plain' });
    assert.ok(url.startsWith(w.sandbox.api), `object URL on the sandbox: ${url}`);
    assert.deepEqual(await download(url), small);

    // 6 MiB: two parts (MinIO's 5 MiB part size, as the server's part_size answers).
    assert.equal((await w.sandbox.post('/object/part_size', { size: 6 * 1024 * 1024 }, { token: alice.token })).size, 5 * 1024 * 1024);
    const big = patternBytes(6 * 1024 * 1024, 9);
    const bigUp = await alice.call('uploadFile', { file: new File([big], 'big file.bin', { type: 'application/octet-stream' }) });
    const got = await download(bigUp.url);
    assert.equal(got.length, big.length);
    assert.ok(Buffer.from(got).equals(Buffer.from(big)), 'multi-part content intact');

    // Same bytes again under another name: the server answers with the stored object at once.
    const again = await alice.call('uploadFile', { file: new File([small], 'copy.txt', { type: 'text/plain' }) });
    assert.equal(again.url, url);

    // Names are per user: a client cannot start an upload into another user's space.
    await assert.rejects(
      w.sandbox.post('/object/initiate_multipart_upload', { hash: 'x', size: 10, partSize: 5242880, maxParts: -1, cause: '', name: 'someoneelse/x.txt', contentType: 'text/plain' }, { token: alice.token }),
      (e) => e.errCode === 1002,
    );
  }),
);

test(
  'picture and file messages from local files: uploaded, sent, and the peer downloads the same bytes',
  SCENARIO,
  scenario(async (w) => {
    const [alice, bob] = await w.login('umalice', 'umbob');
    const png = patternBytes(5000, 3);
    const pic = { uuid: 'pic-uuid-1', type: 'png', size: png.length, width: 64, height: 48, url: '' };
    const image = await alice.call('createImageMessageByFile', {
      sourcePicture: pic,
      bigPicture: { ...pic },
      snapshotPicture: { ...pic },
      sourcePath: '/tmp/photo.png',
      file: new File([png], 'photo.png', { type: 'image/png' }),
    });
    const sentImage = await alice.call('sendMessage', { recvID: 'umbob', groupID: '', message: image });
    assert.equal(sentImage.status, 2);
    const gotImage = (await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: sentImage.clientMsgID })).data.find((m) => m.clientMsgID === sentImage.clientMsgID);
    assert.equal(gotImage.contentType, 102);
    const picUrl = gotImage.pictureElem?.sourcePicture?.url;
    assert.ok(picUrl, `pictureElem: ${JSON.stringify(gotImage.pictureElem)}`);
    assert.deepEqual(await download(picUrl), png);
    // The snapshot URL (with thumbnail query) is served too.
    assert.ok((await download(gotImage.pictureElem.snapshotPicture.url)).length > 0);

    const pdf = patternBytes(1234, 5);
    const file = await alice.call('createFileMessageByFile', {
      filePath: '/tmp/report.pdf',
      fileName: 'report.pdf',
      uuid: 'file-uuid-1',
      sourceUrl: '',
      fileSize: pdf.length,
      fileType: 'pdf',
      file: new File([pdf], 'report.pdf', { type: 'application/pdf' }),
    });
    const sentFile = await alice.call('sendMessage', { recvID: 'umbob', groupID: '', message: file });
    const gotFile = (await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: sentFile.clientMsgID })).data.find((m) => m.clientMsgID === sentFile.clientMsgID);
    assert.equal(gotFile.contentType, 105);
    assert.equal(gotFile.fileElem?.fileName, 'report.pdf');
    const res = await fetch(gotFile.fileElem.sourceUrl);
    assert.equal(res.headers.get('content-type'), 'application/pdf');
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), pdf);
  }),
);

test(
  'with a data dir, uploaded objects survive a restart: the picture in the history still downloads, the same bytes are not uploaded again',
  SCENARIO,
  scenario(
    async (w) => {
      const [alice, bob] = await w.login('pkalice', 'pkbob');
      const png = patternBytes(4000, 11);
      const pic = { uuid: 'kept-pic', type: 'png', size: png.length, width: 32, height: 32, url: '' };
      const image = await alice.call('createImageMessageByFile', {
        sourcePicture: pic,
        bigPicture: { ...pic },
        snapshotPicture: { ...pic },
        sourcePath: '/tmp/kept.png',
        file: new File([png], 'kept.png', { type: 'image/png' }),
      });
      const sent = await alice.call('sendMessage', { recvID: 'pkbob', groupID: '', message: image });
      const got = (await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: sent.clientMsgID })).data.find((m) => m.clientMsgID === sent.clientMsgID);
      const url = got.pictureElem.sourcePicture.url;
      assert.deepEqual(await download(url), png);
      await alice.close();
      await bob.close();

      await w.restartSandbox();
      const fresh = await (await w.client('pkbob', { label: 'pkbob#after-restart' })).login();
      const page = await fresh.call('getAdvancedHistoryMessageList', { conversationID: singleConversationID('pkalice', 'pkbob'), count: 20, startClientMsgID: '' });
      const kept = page.messageList.find((m) => m.clientMsgID === sent.clientMsgID);
      assert.equal(kept?.pictureElem?.sourcePicture?.url, url, `history after the restart: ${JSON.stringify(page.messageList.map((m) => [m.seq, m.contentType]))}`);
      const res = await fetch(url);
      assert.equal(res.status, 200, `GET ${url} after the restart`);
      assert.equal(res.headers.get('content-type'), 'image/png');
      assert.deepEqual(new Uint8Array(await res.arrayBuffer()), png);
      // The same bytes again: the kept object is found by its hash, nothing is uploaded.
      const alice2 = await (await w.client('pkalice', { label: 'pkalice#after-restart' })).login();
      const again = await alice2.call('uploadFile', { file: new File([png], 'again.png', { type: 'image/png' }) });
      assert.equal(again.url, url);
    },
    { dataDir },
  ),
);
