// Webhooks as seen by the real client: a before-send webhook that rejects
// makes the SDK's send fail with the webhook's own errCode, a
// before-modify webhook rewrites the text the peer receives, and after-send
// callbacks carry the upstream body. Spec references: http-api.md §8.2-§8.4.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { SCENARIO, scenario } from '../lib/world.mjs';
import { CbEvents, messageText } from '../lib/client.mjs';

// A webhook receiver: records every callback, rejects texts containing
// "forbidden", rewrites texts containing "rewrite me".
const calls = [];
const callWaiters = new Set();
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let body = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {}
    const command = req.url.split('/').pop();
    const rec = { command, body, operationID: req.headers.operationid };
    calls.push(rec);
    for (const w of [...callWaiters]) w(rec);
    let reply = { actionCode: 0, errCode: 0, errMsg: '', errDlt: '', nextCode: 0 };
    const content = typeof body.content === 'string' ? body.content : '';
    if (command === 'callbackBeforeSendSingleMsgCommand' && content.includes('forbidden')) {
      reply = { actionCode: 0, errCode: 5001, errMsg: 'blocked by policy', errDlt: 'contains a forbidden word', nextCode: 1 };
    } else if (command === 'callbackBeforeMsgModifyCommand' && content.includes('rewrite me')) {
      reply = { ...reply, content: JSON.stringify({ content: 'rewritten by the webhook' }) };
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(reply));
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
after(() => server.close());
const hookURL = `http://127.0.0.1:${server.address().port}/callbackExample`;

/** Wait for a recorded webhook call satisfying `pred` (already received ones count). */
function waitForCall(pred, what, timeoutMs = 10000) {
  const found = calls.find(pred);
  if (found) return Promise.resolve(found);
  return new Promise((resolve, reject) => {
    const w = (rec) => {
      if (pred(rec)) {
        clearTimeout(timer);
        callWaiters.delete(w);
        resolve(rec);
      }
    };
    const timer = setTimeout(() => {
      callWaiters.delete(w);
      reject(new Error(`webhook ${what} not called within ${timeoutMs} ms; calls so far: ${calls.map((c) => c.command).join(', ')}`));
    }, timeoutMs);
    callWaiters.add(w);
  });
}

test(
  'webhooks: before-send reject reaches the sender with the webhook errCode; before-modify rewrites; after-send body',
  SCENARIO,
  scenario(
    async (w) => {
      const [alice, bob] = await w.login('walice', 'wbob');

      // Rejected by beforeSendSingleMsg: the sender sees exactly the webhook's code.
      await assert.rejects(alice.sendText('wbob', 'a forbidden word'), (e) => {
        assert.equal(e.errCode, 5001, `rejected send: expected the webhook's errCode 5001, got ${e.errCode}: ${e.errMsg}`);
        return true;
      });
      const before = await waitForCall((c) => c.command === 'callbackBeforeSendSingleMsgCommand' && c.body.content?.includes('forbidden'), 'beforeSendSingleMsg');
      assert.equal(before.body.callbackCommand, 'callbackBeforeSendSingleMsgCommand');
      assert.equal(before.body.sendID, 'walice');
      assert.equal(before.body.recvID, 'wbob');
      assert.equal(before.body.contentType, 101);
      assert.equal(before.body.sessionType, 1);
      assert.equal(typeof before.body.content, 'string', 'content is the JSON text of the element');
      assert.deepEqual(JSON.parse(before.body.content), { content: 'a forbidden word' });
      assert.ok(before.operationID, 'the operationID header is forwarded');

      // Rewritten by beforeMsgModify.
      const sent = await alice.sendText('wbob', 'please rewrite me');
      const got = (await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: sent.clientMsgID })).data.find((m) => m.clientMsgID === sent.clientMsgID);
      assert.equal(messageText(got), 'rewritten by the webhook');

      // Plain message: delivered, and afterSendSingleMsg reports it.
      const plain = await alice.sendText('wbob', 'just hello');
      await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: plain.clientMsgID });
      const afterSend = await waitForCall((c) => c.command === 'callbackAfterSendSingleMsgCommand' && c.body.clientMsgID === plain.clientMsgID, 'afterSendSingleMsg');
      assert.equal(afterSend.body.sendID, 'walice');
      assert.equal(afterSend.body.recvID, 'wbob');
      assert.equal(afterSend.body.serverMsgID, plain.serverMsgID);

      // The rejected text never reached bob.
      assert.equal(bob.seen(CbEvents.OnRecvNewMessages, (d) => d.some((m) => messageText(m)?.includes('forbidden'))).length, 0);
    },
    () => ({ extraArgs: ['--webhook-url', hookURL] }),
  ),
);
