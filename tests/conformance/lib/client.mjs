// In-process driver for the real third-party OpenIM JS SDK
// (@openim/client-sdk 0.0.14) under Node 20.
//
// Several SDK instances can live in one process: each getSDK() call returns an
// independent instance (all its state is per instance), and the only globals
// the SDK touches are WebSocket/fetch, which are shimmed once here for every
// instance. One instance = one login (the SDK refuses a second login on the
// same instance), so every OimClient owns a fresh instance.
//
// Environment knobs: OIM_TRACE=1 logs every HTTP call and WebSocket frame
// (summarised, tokens redacted) to stderr; OIM_SDK_LOG=0..5 sets the SDK's own
// log level (default 5 = silent).

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// ---------------------------------------------------------------------------
// Process-wide setup: console to stderr, shims, internal-error capture.
// ---------------------------------------------------------------------------

const TRACE = !!process.env.OIM_TRACE && process.env.OIM_TRACE !== '0';
const SDK_LOG_LEVEL = Number.isFinite(Number(process.env.OIM_SDK_LOG)) && process.env.OIM_SDK_LOG !== undefined ? Number(process.env.OIM_SDK_LOG) : 5;

const toStderr = (...args) => {
  // getSDK() prints a styled banner per instance; it carries no information.
  if (typeof args[0] === 'string' && args[0].startsWith('%cOpenIMSDK')) return;
  process.stderr.write(args.map((a) => (typeof a === 'string' ? a : safeJson(a))).join(' ') + '\n');
};
// The SDK prints a banner and (unless silenced) its logs through console.*;
// they must not pollute stdout, which the test runner reads.
console.log = toStderr;
console.info = toStderr;
console.debug = toStderr;
console.trace = toStderr;
// The initial sync console.warn()s the decoded active-conversation list
// whatever the log level: noise unless tracing.
console.warn = (...args) => {
  if (TRACE || SDK_LOG_LEVEL < 5) toStderr(...args);
};

export function safeJson(v) {
  try {
    return JSON.stringify(v, (_k, x) => {
      if (typeof x === 'bigint') return x.toString();
      if (x instanceof Uint8Array) return `<${x.byteLength} bytes>`;
      if (x instanceof ArrayBuffer) return `<${x.byteLength} bytes>`;
      if (x instanceof Error) return { name: x.name, message: x.message, errCode: x.errCode };
      return x;
    });
  } catch (e) {
    return `<unserializable: ${e.message}>`;
  }
}


function clip(s, n = 400) {
  return s.length > n ? `${s.slice(0, n)}...(${s.length} chars)` : s;
}
function trace(who, obj) {
  if (TRACE) process.stderr.write(`[trace ${who}] ${safeJson({ t: Date.now(), ...obj })}\n`);
}

/** Uncaught errors raised inside the SDK (it has many un-awaited promises). */
export const sdkErrors = [];

/**
 * What the process is doing, stamped on every recorded error: 'active' while
 * a scenario runs, 'closing' while its clients log out, 'stopping' while its sandbox stops, 'idle' otherwise.
 */
let phase = 'idle';
export function setPhase(p) {
  phase = p;
}

/**
 * Errors that a logout causes inside the SDK itself: logout clears the
 * instance (apiAddr, socket) while handlers of frames already received are
 * still running, and their follow-up requests then fail.
 */
export const LOGOUT_ARTIFACT = /ws not connected|Failed to parse URL from undefined|Resource load not complete/;

/**
 * Network errors of requests cut by the sandbox's own stop (phase 'stopping'):
 * a graceful server shutdown closes idle keep-alive connections, and a request
 * the SDK starts on one at that moment fails with "other side closed". Such a
 * rejection can surface late, in phase 'idle' (no scenario's clients exist
 * then): it is the previous scenario's teardown too. Matched on the socket-level
 * cause only (a malformed reply, HPE_*, is a server fault), and only safe because
 * the scenario fails when the sandbox itself did not end cleanly (Sandbox.stopProblem).
 */
export const STOP_ARTIFACT = /\(cause: (UND_ERR_SOCKET|UND_ERR_CLOSED|ECONNREFUSED|ECONNRESET|EPIPE) |socket hang up/;

function recordInternal(kind) {
  return (err) => {
    const rec = {
      kind,
      phase,
      message:
        (err && err.message ? err.message : typeof err === 'object' ? safeJson(err) : String(err)) +
        (err && err.cause ? ` (cause: ${err.cause.code || ''} ${err.cause.message || err.cause})` : ''),
      stack: err && err.stack ? String(err.stack).split('\n').slice(0, 6).join('\n') : undefined,
      at: Date.now(),
    };
    sdkErrors.push(rec);
    process.stderr.write(`[conformance] SDK-internal ${kind}: ${rec.message}\n${rec.stack ?? ''}\n`);
  };
}
const onUnhandledRejection = recordInternal('unhandledRejection');
const onUncaughtException = recordInternal('uncaughtException');
process.on('unhandledRejection', onUnhandledRejection);
process.on('uncaughtException', onUncaughtException);

/**
 * Make this module the only handler of uncaught errors. node:test installs
 * its own, which would fail whichever test happens to run when a late SDK
 * error surfaces; the scenario wrapper judges recorded errors itself.
 */
export function ownUncaughtErrors() {
  for (const [event, mine] of [
    ['unhandledRejection', onUnhandledRejection],
    ['uncaughtException', onUncaughtException],
  ]) {
    for (const l of process.listeners(event)) if (l !== mine) process.removeListener(event, l);
    if (!process.listeners(event).includes(mine)) process.on(event, mine);
  }
}

// Token → userID, to attribute HTTP requests in traces.
const tokenOwner = new Map();
// "sendID token" pairs whose client has been closed: their SDK instance may
// still try to reconnect (it does so forever after a failed connect answer);
// those attempts are sent to a refused port instead of a live sandbox.
const closedKeys = new Set();
// In-flight requests per user, reported when a wait times out.
const pendingByUser = new Map();
let requestCounter = 0;

// The last exchanges per user (always kept, printed in failure diagnostics).
const recentByUser = new Map();
function remember(user, line) {
  let a = recentByUser.get(user);
  if (!a) recentByUser.set(user, (a = []));
  a.push(`${new Date().toISOString().slice(11, 23)} ${line}`);
  if (a.length > 40) a.splice(0, a.length - 40);
}

// Decoders for the payloads worth summarising in diagnostics.
let pb = null;
function decoderFor(reqIdentifier) {
  if (!pb) pb = require('@openim/protocol').PbCoder;
  return { 1002: pb.PullMessageBySeqsResp, 1003: pb.UserSendMsgResp, 1005: pb.GetSeqMessageResp, 1006: pb.GetConversationsHasReadAndMaxSeqResp, 2001: pb.PushMessages }[reqIdentifier];
}

/** What a client request asks for (pull requests only). */
function summariseRequest(env) {
  if (!pb) pb = require('@openim/protocol').PbCoder;
  try {
    const bytes = Buffer.from(env.data || '', 'base64');
    if (env.reqIdentifier === 1005) return safeJson(pb.GetSeqMessageReq.decode(bytes).conversations);
    if (env.reqIdentifier === 1002) return safeJson(pb.PullMessageBySeqsReq.decode(bytes).seqRanges);
    if (env.reqIdentifier === 1003) {
      const m = pb.MsgData.decode(bytes);
      return `clientMsgID ${m.clientMsgID} ${m.recvID ? `to ${m.recvID}` : `group ${m.groupID}`} ct ${m.contentType}`;
    }
  } catch (e) {
    return `undecodable (${e.message})`;
  }
  return '';
}

/** One line per payload: which conversations, seqs and content types a frame carries. */
function summarisePayload(env) {
  if (typeof env.data !== 'string' || !env.data) return 'data empty';
  const dec = decoderFor(env.reqIdentifier);
  if (!dec) return `data ${env.data.length} b64 chars`;
  try {
    const v = dec.decode(Buffer.from(env.data, 'base64'));
    if (env.reqIdentifier === 1003) return `serverMsgID ${v.serverMsgID} clientMsgID ${v.clientMsgID} sendTime ${v.sendTime}`;
    if (env.reqIdentifier === 1006) return `seqs ${safeJson(v.seqs)}`;
    const part = (m) =>
      Object.entries(m || {})
        .map(([k, pm]) => `${k}:[${(pm.Msgs || []).map((x) => `seq ${x.seq} ct ${x.contentType} from ${x.sendID}`).join('; ')}]`)
        .join(' ');
    const raw = env.data.length <= 64 ? ` (base64 ${env.data})` : '';
    return `msgs {${part(v.msgs)}} notificationMsgs {${part(v.notificationMsgs)}}${raw}`;
  } catch (e) {
    return `undecodable data (${e.message})`;
  }
}

// Frames handed over in one synchronous burst came from one socket read:
// no promise continuation of the SDK can run between them (this is what
// breaks echo suppression when a 1003 answer and its echo arrive together).
let inReadBurst = false;
function sameReadAsPrevious() {
  const same = inReadBurst;
  if (!inReadBurst) {
    inReadBurst = true;
    queueMicrotask(() => {
      inReadBurst = false;
    });
  }
  return same;
}

function pendingOf(user) {
  let m = pendingByUser.get(user);
  if (!m) pendingByUser.set(user, (m = new Map()));
  return m;
}

function installShims() {
  if (globalThis.__oimConformanceShims) return;
  globalThis.__oimConformanceShims = true;
  if (typeof globalThis.Worker !== 'undefined') {
    // The SDK would run its heartbeat in a Worker built from a Blob URL.
    throw new Error('a global Worker exists; the SDK heartbeat needs it undefined under Node');
  }
  const missing = ['fetch', 'TextEncoder', 'TextDecoder', 'URL', 'Headers'].filter((n) => typeof globalThis[n] === 'undefined');
  if (missing.length) throw new Error(`this Node.js lacks ${missing.join(', ')} (need Node 20+)`);

  const { WebSocket: WsWebSocket } = require('ws');
  class NodeWebSocket extends WsWebSocket {
    constructor(url, protocols, options) {
      const u = String(url);
      let sendID = '?';
      let token = '';
      try {
        const q = new URL(u).searchParams;
        sendID = q.get('sendID') || '?';
        token = q.get('token') || '';
      } catch {}
      const blocked = closedKeys.has(`${sendID} ${token}`);
      super(blocked ? 'ws://127.0.0.1:1/' : u, protocols, options);
      // The SDK only understands binary frames as ArrayBuffer (or Blob).
      this.binaryType = 'arraybuffer';
      // Label traffic by client (several clients may share a userID).
      const who = tokenOwner.get(token) || sendID;
      this.__who = who;
      if (blocked) return;
      trace(who, { dir: 'ws-open>', url: u.replace(/([?&]token=)[^&]*/, '$1<redacted>') });
      this.on('message', (data, isBinary) => {
        const sameRead = sameReadAsPrevious() ? ' [same socket read as the previous frame]' : '';
        const text = Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
        if (!isBinary) {
          if (!text.includes('"pong"')) remember(who, `WS < text ${clip(text, 200)}`);
          trace(who, { dir: 'ws<text', text: clip(text) });
          return;
        }
        try {
          const env = JSON.parse(text);
          if (env && env.msgIncr) pendingOf(who).delete(`ws:${env.msgIncr}`);
          remember(who, `WS < ${env.reqIdentifier} op ${env.operationID || '-'} errCode ${env.errCode}${env.errMsg ? ` ${env.errMsg}` : ''} ${summarisePayload(env)}${sameRead}`);
          trace(who, {
            dir: 'ws<',
            reqIdentifier: env.reqIdentifier,
            msgIncr: env.msgIncr,
            operationID: env.operationID,
            errCode: env.errCode,
            errMsg: env.errMsg,
            dataChars: typeof env.data === 'string' ? env.data.length : env.data,
          });
        } catch {
          trace(who, { dir: 'ws<', unparsable: clip(text) });
        }
      });
      this.on('close', (code, reason) => trace(who, { dir: 'ws-close', code, reason: String(reason || '') }));
    }
    send(data, ...rest) {
      if (typeof data === 'string') {
        trace(this.__who, { dir: 'ws>text', text: clip(data) });
      } else {
        try {
          const env = JSON.parse(Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8'));
          if (env && env.msgIncr) {
            pendingOf(this.__who).set(`ws:${env.msgIncr}`, { what: `WS ${env.reqIdentifier} msgIncr ${env.msgIncr}`, t0: Date.now() });
          }
          remember(this.__who, `WS > ${env.reqIdentifier} op ${env.operationID || '-'} ${summariseRequest(env)}`);
          trace(this.__who, {
            dir: 'ws>',
            reqIdentifier: env.reqIdentifier,
            msgIncr: env.msgIncr,
            operationID: env.operationID,
            dataChars: typeof env.data === 'string' ? env.data.length : env.data,
          });
        } catch {
          trace(this.__who, { dir: 'ws>', bytes: data && data.byteLength });
        }
      }
      return super.send(data, ...rest);
    }
  }
  globalThis.WebSocket = NodeWebSocket;

  const realFetch = globalThis.fetch;
  globalThis.fetch = async function conformanceFetch(input, init = {}) {
    const url = typeof input === 'string' ? input : input && input.url ? input.url : String(input);
    let path = url;
    try {
      path = new URL(url).pathname;
    } catch {}
    const headers = init.headers || {};
    const who = tokenOwner.get(headers.token) || 'http';
    if (url.startsWith('undefined')) {
      // Logout (ours, or the SDK's own after a kick) clears the instance's
      // apiAddr while handlers of frames that were already received may still
      // be running; their follow-up requests would throw inside the SDK. A
      // logged-out client has nothing left to ask: such a request never ends.
      remember(who, `stray request after logout ignored: ${url}`);
      return new Promise(() => {});
    }
    const id = `http:${++requestCounter}`;
    pendingOf(who).set(id, { what: `POST ${path}`, t0: Date.now() });
    const body = init.body;
    trace(who, {
      dir: 'http>',
      path,
      reqFuncName: headers.reqFuncName,
      operationID: headers.operationID,
      body: typeof body === 'string' ? clip(body) : body ? `<${body.byteLength} bytes ${headers['Content-Type'] || ''}>` : undefined,
    });
    try {
      const res = await realFetch(input, init);
      res
        .clone()
        .text()
        .then((t) => {
          let verdict = `HTTP ${res.status}`;
          try {
            const env = JSON.parse(t);
            verdict += ` errCode ${env.errCode}${env.errCode ? ` ${env.errMsg} ${env.errDlt || ''}` : ''}`;
          } catch {
            verdict += ` non-JSON ${clip(t, 80)}`;
          }
          remember(who, `POST ${path} -> ${verdict}`);
          trace(who, { dir: 'http<', path, status: res.status, body: clip(t) });
        })
        .catch(() => {});
      return res;
    } catch (e) {
      remember(who, `POST ${path} -> network error ${String(e?.cause?.message || e?.message || e)}`);
      trace(who, { dir: 'http!', path, error: String(e?.cause?.message || e?.message || e) });
      throw e;
    } finally {
      pendingOf(who).delete(id);
    }
  };
}

installShims();
const sdkModule = require('@openim/client-sdk');
export const { getSDK, CbEvents } = sdkModule;
if (typeof getSDK !== 'function' || !CbEvents) throw new Error('@openim/client-sdk did not export getSDK/CbEvents');
export const SDK_VERSION = require('@openim/client-sdk/package.json').version;

// ---------------------------------------------------------------------------
// Matching helpers
// ---------------------------------------------------------------------------

/** True when every key of `expected` is (recursively) present and equal in `actual`. */
export function deepSubset(expected, actual) {
  if (expected === null || typeof expected !== 'object') return Object.is(expected, actual) || expected === actual;
  if (typeof expected === 'function') return !!expected(actual);
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return false;
    return expected.every((e) => actual.some((a) => deepSubset(e, a)));
  }
  if (!actual || typeof actual !== 'object') return false;
  return Object.keys(expected).every((k) => {
    const e = expected[k];
    if (typeof e === 'function') return !!e(actual[k]);
    return deepSubset(e, actual[k]);
  });
}

/**
 * Does an event match? `match` is a function (data, event) => bool, or an
 * object that must be a deep subset of `data` (or of one element when `data`
 * is an array).
 */
function eventMatches(ev, match) {
  if (match === undefined || match === null) return true;
  if (typeof match === 'function') return !!match(ev.data, ev);
  if (Array.isArray(ev.data)) return ev.data.some((d) => deepSubset(match, d));
  return deepSubset(match, ev.data);
}

/** The text of a MessageItem, or undefined. */
export function messageText(m) {
  if (!m || typeof m !== 'object') return undefined;
  const parts = [m.textElem?.content, m.atTextElem?.text, m.quoteElem?.text, m.advancedTextElem?.text].filter((x) => typeof x === 'string');
  return parts.length ? parts.join('\n') : undefined;
}

/** Make two logged-in clients friends through the SDK (apply + accept). */
export async function befriend(a, b) {
  await a.call('addFriend', { toUserID: b.userID, reqMsg: 'hi', ex: '' });
  await b.waitFor(CbEvents.OnFriendApplicationAdded, { fromUserID: a.userID, toUserID: b.userID });
  await b.call('acceptFriendApplication', { toUserID: a.userID, handleMsg: 'ok' });
  await b.waitFor(CbEvents.OnFriendAdded, { userID: a.userID });
  await a.waitFor(CbEvents.OnFriendApplicationAccepted, { fromUserID: a.userID, toUserID: b.userID });
}

/** Conversation ID of a one-to-one chat, as OpenIM builds it. */
export function singleConversationID(a, b) {
  const [x, y] = [a, b].sort();
  return `si_${x}_${y}`;
}
/** Conversation ID of a group chat. */
export function groupConversationID(groupID) {
  return `sg_${groupID}`;
}

/**
 * Poll `probe` (async, returns a truthy value when done) every `intervalMs`
 * until it succeeds or `timeoutMs` passes. For client state that raises no
 * event (e.g. the SDK having processed the echo of its own send).
 */
export async function until(probe, { timeoutMs = 10000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() >= deadline) throw new TimeoutError(`${what}: not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A failed SDK call: the SDK rejects with {errCode, errMsg, ...}. */
export class SdkCallError extends Error {
  constructor(method, raw) {
    const code = raw && typeof raw === 'object' ? raw.errCode : undefined;
    const msg = raw && typeof raw === 'object' ? (raw.errMsg ?? raw.message) : String(raw);
    super(`${method} failed: errCode ${code}: ${msg}`);
    this.errCode = code;
    this.errMsg = msg;
    this.raw = raw;
  }
}

export class TimeoutError extends Error {}

function withTimeout(promise, ms, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

let opCounter = 0;
function newOperationID(tag) {
  opCounter += 1;
  return `conformance-${tag}-${opCounter}-${Date.now()}`;
}

// ---------------------------------------------------------------------------
// One SDK instance = one user login
// ---------------------------------------------------------------------------

export class OimClient {
  /**
   * @param {object} o
   * @param {string} o.api HTTP base, e.g. http://127.0.0.1:10002
   * @param {string} o.ws WebSocket base, e.g. ws://127.0.0.1:10001
   * @param {string} o.userID
   * @param {string} o.token
   * @param {number} [o.platformID=5]
   * @param {number} [o.callTimeoutMs=10000] limit for each SDK call (the SDK has none)
   * @param {number} [o.waitTimeoutMs=10000] default limit for waitFor
   */
  constructor({ api, ws, userID, token, platformID = 5, callTimeoutMs = 10000, waitTimeoutMs = 10000, label }) {
    this.api = api.replace(/\/+$/, '');
    this.ws = ws.replace(/\/+$/, '');
    this.userID = userID;
    this.token = token;
    this.platformID = platformID;
    this.callTimeoutMs = callTimeoutMs;
    this.waitTimeoutMs = waitTimeoutMs;
    this.label = label || userID;
    this.events = [];
    this._waiters = new Set();
    this.closed = false;
    tokenOwner.set(token, this.label);
    // getSDK() starts two cleanup setIntervals that nothing ever stops; keep
    // their handles so close() can clear them and the process can exit.
    this._timers = [];
    const realSetInterval = globalThis.setInterval;
    globalThis.setInterval = (...args) => {
      const h = realSetInterval(...args);
      this._timers.push(h);
      return h;
    };
    try {
      this.sdk = getSDK();
    } finally {
      globalThis.setInterval = realSetInterval;
    }
    for (const name of new Set(Object.values(CbEvents))) {
      this.sdk.on(name, (payload) => this._onEvent(name, payload));
    }
  }

  _onEvent(name, payload) {
    const ev = {
      seq: this.events.length,
      event: name,
      data: payload ? payload.data : undefined,
      errCode: payload ? payload.errCode : 0,
      errMsg: payload ? payload.errMsg : '',
      operationID: payload ? payload.operationID : '',
      at: Date.now(),
      consumed: false,
    };
    this.events.push(ev);
    trace(this.label, { event: name, errCode: ev.errCode || undefined, data: clip(safeJson(ev.data) ?? 'null', 300) });
    for (const w of [...this._waiters]) w(ev);
  }

  /** Index to pass as `since` so that only later events count. */
  mark() {
    return this.events.length;
  }

  /**
   * Wait for the first unconsumed event `name` (a name or a list of names; since `since`, default: since
   * the client was created) that satisfies `match`. Events that already
   * arrived count, so nothing that happened during the previous step is
   * missed. The matched event is consumed unless `consume: false`.
   */
  waitFor(name, match, { timeoutMs = this.waitTimeoutMs, since = 0, consume = true } = {}) {
    const names = new Set([].concat(name));
    const label = [...names].join(' or ');
    const what = `${label}${match && typeof match === 'object' ? ` matching ${safeJson(match)}` : typeof match === 'function' ? ' (predicate)' : ''}`;
    return this._wait((ev) => names.has(ev.event) && eventMatches(ev, match), { timeoutMs, since, consume, what, event: [...names][0] });
  }

  /** Wait for the first event (consumed or not) whose name is one of `names`. */
  waitForOneOf(names, { since = 0, timeoutMs = this.waitTimeoutMs, what = 'event' } = {}) {
    const set = new Set(names);
    return this._wait((ev) => set.has(ev.event), { timeoutMs, since, consume: false, any: true, what: `${what} (${names.join(' / ')})` });
  }

  _wait(test, { timeoutMs, since, consume, any = false, what, event }) {
    const pred = (ev) => ev.seq >= since && (any || !ev.consumed) && test(ev);
    for (const ev of this.events) {
      if (pred(ev)) {
        if (consume) ev.consumed = true;
        return Promise.resolve(ev);
      }
    }
    return new Promise((resolve, reject) => {
      const w = (ev) => {
        if (pred(ev)) {
          if (consume) ev.consumed = true;
          clearTimeout(timer);
          this._waiters.delete(w);
          resolve(ev);
        }
      };
      const timer = setTimeout(() => {
        this._waiters.delete(w);
        const earlier = this.earlier(event);
        reject(new TimeoutError(`[${this.label}] ${what} not seen within ${timeoutMs} ms.${earlier ? `\n${earlier}` : ''}`));
      }, timeoutMs);
      this._waiters.add(w);
    });
  }

  /** Events named `name` (optionally matching) seen so far. */
  seen(name, match, { since = 0 } = {}) {
    return this.events.filter((ev) => ev.seq >= since && ev.event === name && eventMatches(ev, match));
  }

  /** The last few events named `event` that did arrive (they often show what is wrong). */
  earlier(event) {
    return this.events
      .filter((e) => e.event === event)
      .slice(-3)
      .map((e) => `  earlier ${event} at ${this.label} #${e.seq}${e.consumed ? ' (already matched)' : ''}: ${clip(safeJson(e.data) ?? 'null', 700)}`)
      .join('\n');
  }

  /** A readable summary of what this client saw, for failure messages. */
  describe({ event, since = 0 } = {}) {
    const names = this.events.slice(since).map((e) => e.event + (e.errCode ? `(${e.errCode})` : ''));
    const lines = [`  events seen by ${this.label} since #${since}: ${names.join(', ') || '(none)'}`];
    if (event && this.earlier(event)) lines.push(this.earlier(event));
    const recent = (recentByUser.get(this.label) || []).slice(-12);
    if (recent.length) lines.push(`  last traffic of ${this.label}:\n${recent.map((l) => `    ${l}`).join('\n')}`);
    const pend = [...pendingOf(this.label).values()].map((p) => `${p.what} (${Date.now() - p.t0} ms)`);
    if (pend.length) lines.push(`  requests of ${this.label} still unanswered: ${pend.join(', ')}`);
    return lines.join('\n');
  }

  /**
   * Call an SDK method with an explicit operationID; resolves with `data`.
   * A rejection becomes an SdkCallError with the SDK's errCode/errMsg.
   */
  async call(method, ...args) {
    if (typeof this.sdk[method] !== 'function') throw new Error(`the SDK has no method ${method}`);
    const operationID = newOperationID(method);
    let res;
    try {
      res = await withTimeout(this.sdk[method](...args, operationID), this.callTimeoutMs, `[${this.label}] ${method}`);
    } catch (e) {
      if (e instanceof TimeoutError) {
        throw new TimeoutError(`${e.message}\n${this.describe({ since: Math.max(0, this.events.length - 15) })}`);
      }
      throw new SdkCallError(`[${this.label}] ${method}`, e);
    }
    return res ? res.data : res;
  }

  /**
   * Start the login (resolves when the socket is open, like the SDK does);
   * success or failure then shows up as events.
   */
  async startLogin() {
    const opID = newOperationID('login');
    try {
      await withTimeout(
        this.sdk.login(
          { userID: this.userID, token: this.token, platformID: this.platformID, apiAddr: this.api, wsAddr: this.ws, logLevel: SDK_LOG_LEVEL },
          opID,
        ),
        this.callTimeoutMs,
        `[${this.label}] login (WebSocket open to ${this.ws})`,
      );
    } catch (e) {
      if (e instanceof TimeoutError) throw e;
      throw new SdkCallError(`[${this.label}] login`, e);
    }
  }

  /**
   * Log in and wait for OnConnectSuccess and then OnSyncServerFinish.
   * Fails on OnConnectFailed / OnSyncServerFailed / timeouts.
   */
  async login({ syncTimeoutMs = 20000 } = {}) {
    const since = this.mark();
    await this.startLogin();
    const connected = await this.waitForOneOf([CbEvents.OnConnectSuccess, CbEvents.OnConnectFailed], { since, timeoutMs: this.callTimeoutMs, what: 'connect answer' });
    if (connected.event !== CbEvents.OnConnectSuccess) {
      throw new Error(`[${this.label}] connect failed: ${connected.event} errCode ${connected.errCode}: ${connected.errMsg}`);
    }
    const synced = await this.waitForOneOf([CbEvents.OnSyncServerFinish, CbEvents.OnSyncServerFailed], { since, timeoutMs: syncTimeoutMs, what: 'initial sync' });
    if (synced.event !== CbEvents.OnSyncServerFinish) {
      throw new Error(`[${this.label}] initial sync failed: ${synced.event} errCode ${synced.errCode}: ${synced.errMsg}\n${this.describe({ since })}`);
    }
    return this;
  }

  /** Send a text to a user; resolves with the sent MessageItem (status 2). */
  async sendText(recvID, text) {
    const message = await this.call('createTextMessage', text);
    return this.call('sendMessage', { recvID, groupID: '', message });
  }

  /** Send a text to a group; resolves with the sent MessageItem. */
  async sendGroupText(groupID, text) {
    const message = await this.call('createTextMessage', text);
    return this.call('sendMessage', { recvID: '', groupID, message });
  }

  /** The conversation list (getConversationListSplit). */
  async conversations() {
    return (await this.call('getConversationListSplit', { offset: 0, count: 100 })) || [];
  }

  /**
   * Log out (if still logged in) and make sure this instance never reconnects
   * to anything again.
   */
  async close() {
    if (this.closed) return;
    this.closed = true;
    closedKeys.add(`${this.userID} ${this.token}`);
    for (const w of [...this._waiters]) this._waiters.delete(w);
    try {
      await withTimeout(this.sdk.logout(newOperationID('logout')), 3000, 'logout');
    } catch {
      // Already logged out (kicked, failed connect): nothing to do.
    }
    // After a refused connect the instance is "logged out" but its socket
    // manager keeps reconnecting every 5 s; stop it (and its heartbeat).
    const manager = this.sdk.wsManager;
    if (manager && typeof manager.close === 'function') {
      try {
        manager.close();
      } catch {}
    }
    for (const h of this._timers) clearInterval(h);
  }
}

