// The real OpenIM JS client (@openim/client-sdk, from tests/conformance) against the sandbox
// serving TLS: https for the HTTP API, wss for the gateway, with a self-signed certificate
// the Node process trusts through NODE_EXTRA_CA_CERTS. Run by sandbox/tests/js_tls.rs, which
// generates the certificate and sets TLS_CERT, TLS_KEY, NODE_EXTRA_CA_CERTS and SANDBOX_BIN.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIO, scenario } from '../../../tests/conformance/lib/world.mjs';
import { CbEvents, messageText } from '../../../tests/conformance/lib/client.mjs';

const cert = process.env.TLS_CERT;
const key = process.env.TLS_KEY;

test(
  'the JS client logs in over https and messages over wss',
  SCENARIO,
  scenario(
    async (w) => {
      assert.ok(w.sandbox.api.startsWith('https://'), w.sandbox.api);
      assert.ok(w.sandbox.ws.startsWith('wss://'), w.sandbox.ws);
      const [alice, bob] = await w.login('alice', 'bob');
      for (const bad of [CbEvents.OnConnectFailed, CbEvents.OnSyncServerFailed]) {
        assert.equal(alice.seen(bad).length, 0, `unexpected ${bad}`);
      }
      const sent = await alice.sendText('bob', 'hello over wss');
      const got = (await bob.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: sent.clientMsgID })).data.find(
        (m) => m.clientMsgID === sent.clientMsgID,
      );
      assert.equal(messageText(got), 'hello over wss');
      const back = await bob.sendText('alice', 'and back');
      const got2 = (await alice.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: back.clientMsgID })).data.find(
        (m) => m.clientMsgID === back.clientMsgID,
      );
      assert.equal(messageText(got2), 'and back');
      console.log(`JS client over ${w.sandbox.api} and ${w.sandbox.ws}: login, message both ways`);
    },
    { extraArgs: ['--tls-cert', cert, '--tls-key', key] },
  ),
);
