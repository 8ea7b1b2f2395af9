// JS side of openim-bench: the official @openim/client-sdk 0.0.14 under Node
// receives a workload from the sandbox started by `openim-bench`.
//
// Usage: node bench.mjs '<json>' with {mode, api, ws, userID, token, expect}.
//   mode "inbound": log in, print {"event":"ready"}, then count the items of
//     every OnRecvNewMessages payload until `expect`; print
//     {"event":"done","count":n,"done_epoch_ms":t}.
//   mode "catchup": print {"event":"ready"} and wait for a "go" line on stdin
//     (so Node's own start-up is outside the measured CPU and time); t0 = before
//     login; log in (fresh instance), wait for
//     OnSyncServerFinish, then read every conversation's history with
//     getAdvancedHistoryMessageList until `expect` messages were seen (SDK 0.0.14
//     does not raise missed messages as OnRecvNewMessages after a reconnect:
//     see tests/conformance/test/reconnect.test.mjs); print
//     {"event":"done","count":n,"elapsed_ms":t}.
// Every other output goes to stderr; stdout carries only these JSON lines.

import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const toStderr = (...a) => process.stderr.write(a.map((x) => (typeof x === 'string' ? x : String(x))).join(' ') + '\n');
console.log = () => {};
console.info = () => {};
console.debug = () => {};
console.warn = () => {};
console.trace = () => {};

const { WebSocket: WsWebSocket } = require('ws');
class NodeWebSocket extends WsWebSocket {
  constructor(url, protocols, options) {
    super(url, protocols, options);
    // The SDK only understands binary frames as ArrayBuffer.
    this.binaryType = 'arraybuffer';
  }
}
globalThis.WebSocket = NodeWebSocket;
const { getSDK, CbEvents } = require('@openim/client-sdk');

const args = JSON.parse(process.argv[2] || '{}');
const now = () => performance.timeOrigin + performance.now();
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
let opSeq = 0;
const op = () => `bench-${process.pid}-${++opSeq}`;

process.on('unhandledRejection', (e) => toStderr(`[bench.mjs] unhandledRejection: ${e && e.message ? e.message : e}`));
process.on('uncaughtException', (e) => toStderr(`[bench.mjs] uncaughtException: ${e && e.message ? e.message : e}`));

const timeoutMs = Number(args.timeoutMs || 600000);
setTimeout(() => {
  out({ event: 'error', error: `timeout after ${timeoutMs} ms`, count: received });
  process.exit(2);
}, timeoutMs).unref();

const sdk = getSDK();
let received = 0;
let done = false;
let onProgress = () => {};
sdk.on(CbEvents.OnRecvNewMessages, (p) => {
  received += p && Array.isArray(p.data) ? p.data.length : 0;
  onProgress();
});
const syncFinished = new Promise((resolve, reject) => {
  sdk.on(CbEvents.OnSyncServerFinish, () => resolve());
  sdk.on(CbEvents.OnSyncServerFailed, (p) => reject(new Error(`sync failed ${p && p.errCode}`)));
  sdk.on(CbEvents.OnConnectFailed, (p) => reject(new Error(`connect failed ${p && p.errCode} ${p && p.errMsg}`)));
});

async function login() {
  await sdk.login({ userID: args.userID, token: args.token, platformID: 5, apiAddr: args.api, wsAddr: args.ws, logLevel: 5 }, op());
  await syncFinished;
}

async function inbound() {
  await login();
  const finished = new Promise((resolve) => {
    onProgress = () => {
      if (!done && received >= args.expect) {
        done = true;
        resolve(now());
      }
    };
    onProgress();
  });
  out({ event: 'ready' });
  const t = await finished;
  out({ event: 'done', count: received, done_epoch_ms: t });
}

/** Resolves on the first "go" line on stdin. */
function goSignal() {
  return new Promise((resolve) => {
    let buf = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk) => {
      buf += chunk;
      if (buf.split('\n').some((l) => l.trim() === 'go')) {
        process.stdin.pause();
        resolve();
      }
    });
  });
}

async function catchup() {
  const go = goSignal();
  out({ event: 'ready' });
  await go;
  const t0 = now();
  await login();
  const conversations = [];
  for (let offset = 0; ; offset += 100) {
    const page = (await sdk.getConversationListSplit({ offset, count: 100 }, op())).data || [];
    conversations.push(...page);
    if (page.length < 100) break;
  }
  let history = 0;
  for (const c of conversations) {
    let start = '';
    let lastMinSeq = 0;
    for (;;) {
      const res = (await sdk.getAdvancedHistoryMessageList({ conversationID: c.conversationID, count: 100, startClientMsgID: start, lastMinSeq }, op())).data;
      const list = (res && res.messageList) || [];
      history += list.length;
      if (!list.length || res.isEnd) break;
      start = list[0].clientMsgID;
      lastMinSeq = res.lastMinSeq || 0;
    }
  }
  const count = Math.max(history, received);
  const t1 = now();
  out({ event: 'done', count, history, recv_events: received, conversations: conversations.length, elapsed_ms: t1 - t0 });
}

try {
  if (args.mode === 'inbound') await inbound();
  else if (args.mode === 'catchup') await catchup();
  else throw new Error(`unknown mode ${args.mode}`);
  process.exit(0);
} catch (e) {
  out({ event: 'error', error: String(e && e.message ? e.message : e), count: received });
  process.exit(1);
}
