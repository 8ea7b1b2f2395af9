// Bot scenarios: the real JS client talking to our ready-made bots.
//
// A bot scenario runs what a user runs, as separate processes: a sandbox
// server and `openim-bots run --config <file>` logged in to it, plus the real
// `@openim/client-sdk` clients of lib/client.mjs for the people who talk to
// the bot. `botScenario(fn)` starts the sandbox, hands `fn` a BotWorld (a
// World that can also start, kill and restart bot processes), and cleans up
// whatever happened; a failure carries the clients' diagnostics and the tail
// of every bot's log.
//
// The sandbox is $SANDBOX_BIN (the `openim-sandbox` binary) when set, else
// `openim-bots sandbox` (the same embedded server, shipped in the bots CLI),
// so `cargo test -p openim-bots` needs no other binary.
//
// Environment: BOTS_BIN (default ../../target/debug/openim-bots), BOTS_LOG
// (the bots' log filter, default `info`), BOTS_ECHO=1 (copy the bots' logs
// to stderr), plus everything lib/client.mjs and lib/sandbox.mjs read.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { DEFAULT_SECRET, Sandbox, keepLogLine, startSandbox } from './sandbox.mjs';
import { World, runScenario } from './world.mjs';
import { CbEvents, TimeoutError, messageText } from './client.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/** Path of the `openim-bots` binary: $BOTS_BIN, else the workspace debug build. */
export function botsBinary() {
  return process.env.BOTS_BIN || resolve(here, '../../../target/debug/openim-bots');
}

// Every process started here is killed when this process exits.
const live = new Set();
process.on('exit', () => {
  for (const p of live) {
    try {
      p.kill('SIGKILL');
    } catch {}
  }
});

function requireBinary(bin, how) {
  if (!existsSync(bin)) throw new Error(`${bin} not found: ${how}`);
}

const READY_RE = /^ready api=(https?:\/\/\S+) ws=(wss?:\/\/\S+)\s*$/;

/**
 * Start the sandbox on ephemeral ports: $SANDBOX_BIN when set (through
 * lib/sandbox.mjs), else `openim-bots sandbox`. Resolves with a Sandbox
 * (admin helpers, stop(), output()).
 */
export async function startBotsSandbox({ secret = DEFAULT_SECRET, dataDir, readyTimeoutMs = 20000, apiAddr = '127.0.0.1:0', wsAddr = '127.0.0.1:0' } = {}) {
  if (process.env.SANDBOX_BIN) return startSandbox({ secret, dataDir, readyTimeoutMs, apiAddr, wsAddr });
  const bin = botsBinary();
  requireBinary(bin, 'build it with `cargo build -p openim-bots` or set BOTS_BIN (or SANDBOX_BIN for the openim-sandbox binary)');
  const args = ['sandbox', '--api-addr', apiAddr, '--ws-addr', wsAddr, '--secret', secret, ...(dataDir ? ['--data-dir', dataDir] : [])];
  const logLines = [];
  let found = null;
  let onReady;
  const ready = new Promise((r) => (onReady = r));
  const proc = spawn(bin, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.SANDBOX_LOG || process.env.OPENIM_SANDBOX_LOG || 'warn' },
  });
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  const echo = !!process.env.SANDBOX_ECHO;
  const keep = (line) => keepLogLine(logLines, line);
  eachLine(proc.stdout, (line) => {
    keep(`[out] ${line}`);
    if (echo) process.stderr.write(`[sandbox out] ${line}\n`);
    const m = !found && READY_RE.exec(line);
    if (m) {
      found = { api: m[1].replace(/\/+$/, ''), ws: m[2].replace(/\/+$/, '') };
      onReady();
    }
  });
  eachLine(proc.stderr, (line) => {
    keep(`[err] ${line}`);
    if (echo) process.stderr.write(`[sandbox err] ${line}\n`);
  });
  const sb = new Sandbox(proc, null, null, secret, logLines);
  let timer;
  const failure = new Promise((_, rej) => {
    proc.once('error', (e) => rej(new Error(`cannot start ${bin} sandbox: ${e.message}`)));
    proc.once('exit', (code, signal) => rej(new Error(`openim-bots sandbox exited before its ready line (code ${code}, signal ${signal}):\n${logLines.slice(-30).join('\n')}`)));
    timer = setTimeout(() => rej(new Error(`no ready line from openim-bots sandbox within ${readyTimeoutMs} ms:\n${logLines.slice(-30).join('\n')}`)), readyTimeoutMs);
  });
  try {
    await Promise.race([ready, failure]);
  } catch (e) {
    await sb.stop(500);
    throw e;
  } finally {
    clearTimeout(timer);
  }
  failure.catch(() => {});
  sb.api = found.api;
  sb.ws = found.ws;
  // Same addresses, same options (give a dataDir to keep the state), like Sandbox.restart.
  sb.restart = async () => {
    await sb.stop();
    const problem = sb.stopProblem();
    if (problem) throw new Error(`openim-bots sandbox restart: ${problem}\n${sb.output(40)}`);
    const hostPort = (u) => new URL(u).host;
    return startBotsSandbox({ secret, dataDir, readyTimeoutMs, apiAddr: hostPort(sb.api), wsAddr: hostPort(sb.ws) });
  };
  // SIGKILL (no shutdown, no final save), then the same as restart(): like Sandbox.killAndRestart.
  sb.killAndRestart = async () => {
    live.delete(proc);
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`openim-bots sandbox hard restart: it had already exited\n${sb.output(40)}`);
    proc.kill('SIGKILL');
    sb._stop = { ...(await sb.exited), forced: false, unasked: false, killed: true };
    if (logLines.panic) throw new Error(`openim-bots sandbox hard restart: its output has a panic: ${logLines.panic}`);
    const hostPort = (u) => new URL(u).host;
    return startBotsSandbox({ secret, dataDir, readyTimeoutMs, apiAddr: hostPort(sb.api), wsAddr: hostPort(sb.ws) });
  };
  return sb;
}

function eachLine(stream, fn) {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).replace(/\r$/, '');
      buf = buf.slice(i + 1);
      fn(line);
    }
  });
  stream.on('end', () => {
    if (buf) fn(buf);
    buf = '';
  });
}

/** The environment without OPENIM_* variables (they would override the bot's configuration). */
function withoutOpenimVars(env) {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('OPENIM_')));
}

/** TOML string literal. */
export function tomlString(s) {
  return JSON.stringify(String(s));
}

/**
 * One `openim-bots run --config <file>` process for the bot account
 * `userID`, with the `[bots.*]` tables `botsToml`. Its JSON log records are
 * kept (`records`), and can be awaited like SDK events (`waitLog`): every
 * executed action is logged as `action done` / `action failed` with fields
 * `bot` and `action`.
 */
export class BotProcess {
  constructor({ sandbox, userID, botsToml, dataDir, label, configFile, env }) {
    this.sandbox = sandbox;
    this.userID = userID;
    this.botsToml = botsToml;
    // A configuration file used as is (e.g. bots/bots.example.toml), with
    // OPENIM_* overrides in `env`, instead of the generated one.
    this.configFile = configFile;
    this.env = env || {};
    this.dataDir = dataDir;
    this.label = label || userID;
    this.records = [];
    this.lines = [];
    this.proc = null;
    this.runs = 0;
    this._waiters = new Set();
  }

  /** The configuration file, exactly as a user would write it (the admin secret as credential). */
  configText() {
    return [
      '[server]',
      `api_addr = ${tomlString(this.sandbox.api)}`,
      `ws_addr = ${tomlString(this.sandbox.ws)}`,
      '[account]',
      `user_id = ${tomlString(this.userID)}`,
      `secret = ${tomlString(this.sandbox.secret)}`,
      '[store]',
      `data_dir = ${tomlString(join(this.dataDir, 'store'))}`,
      this.botsToml,
      '',
    ].join('\n');
  }

  /** Index to pass as `since` so that only later log records count. */
  mark() {
    return this.records.length;
  }

  /**
   * Start the process and wait for its first sync to finish (the `sync
   * finished` log line: the bot's catch-up handlers run on that event).
   */
  async start({ timeoutMs = 30000 } = {}) {
    if (this.proc) throw new Error(`[${this.label}] already running`);
    const bin = botsBinary();
    requireBinary(bin, 'build it with `cargo build -p openim-bots` or set BOTS_BIN');
    let configPath = this.configFile;
    if (!configPath) {
      configPath = join(this.dataDir, 'bots.toml');
      writeFileSync(configPath, this.configText());
    }
    const since = this.mark();
    this.runs += 1;
    const run = this.runs;
    const proc = spawn(bin, ['--log-format', 'json', '--log-level', process.env.BOTS_LOG || 'info', 'run', '--config', configPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...withoutOpenimVars(process.env), RUST_LOG: '', NO_COLOR: '1', ...this.env },
    });
    this.proc = proc;
    live.add(proc);
    this.exited = new Promise((res) =>
      proc.once('exit', (code, signal) => {
        live.delete(proc);
        this._record({ run, exit: { code, signal } }, `[run ${run}] exited (code ${code}, signal ${signal})`);
        res({ code, signal });
      }),
    );
    const echo = !!process.env.BOTS_ECHO;
    const onLine = (stream) => (line) => {
      if (echo) process.stderr.write(`[bot ${this.label} ${stream}] ${line}\n`);
      let rec;
      try {
        const j = JSON.parse(line);
        rec = { run, level: j.level, target: j.target, message: j.fields?.message, fields: j.fields || {}, spans: j.spans };
      } catch {
        rec = { run, level: 'RAW', message: line, fields: {} };
      }
      this._record(rec, `[run ${run}] ${line}`);
    };
    eachLine(proc.stdout, onLine('out'));
    eachLine(proc.stderr, onLine('err'));
    const failedStart = new Promise((_, rej) => proc.once('error', (e) => rej(new Error(`cannot start ${bin}: ${e.message}`))));
    failedStart.catch(() => {});
    await Promise.race([
      this.waitLog((r) => r.run === run && (r.message === 'sync finished' || r.exit), { since, timeoutMs, what: 'sync finished' }).then((r) => {
        if (r.exit) throw new Error(`[${this.label}] openim-bots exited before its first sync (code ${r.exit.code}, signal ${r.exit.signal}):\n${this.output(30)}`);
      }),
      failedStart,
    ]);
    return this;
  }

  _record(rec, line) {
    rec.seq = this.records.length;
    rec.at = Date.now();
    this.records.push(rec);
    this.lines.push(line);
    if (this.lines.length > 3000) this.lines.splice(0, this.lines.length - 3000);
    for (const w of [...this._waiters]) w(rec);
  }

  /** Wait for a log record (since `since`) satisfying `pred`. */
  waitLog(pred, { since = 0, timeoutMs = 15000, what = 'log record' } = {}) {
    const hit = this.records.find((r) => r.seq >= since && pred(r));
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const w = (r) => {
        if (r.seq >= since && pred(r)) {
          clearTimeout(timer);
          this._waiters.delete(w);
          resolve(r);
        }
      };
      const timer = setTimeout(() => {
        this._waiters.delete(w);
        reject(new TimeoutError(`[${this.label}] ${what} not logged within ${timeoutMs} ms; last log lines:\n${this.output(25)}`));
      }, timeoutMs);
      this._waiters.add(w);
    });
  }

  /** Executed actions (`action done` / `action failed`) since `since`, optionally of one bot. */
  actions({ since = 0, bot } = {}) {
    return this.records.filter((r) => r.seq >= since && (r.message === 'action done' || r.message === 'action failed') && (!bot || r.fields.bot === bot));
  }

  /** Wait until an action whose description matches `re` is logged (done or failed). */
  waitAction(re, { since = 0, timeoutMs, bot } = {}) {
    return this.waitLog((r) => (r.message === 'action done' || r.message === 'action failed') && (!bot || r.fields.bot === bot) && re.test(String(r.fields.action)), {
      since,
      timeoutMs,
      what: `action matching ${re}`,
    });
  }

  /** SIGKILL: no shutdown, no ledger flush (a crash). */
  async kill9() {
    if (!this.proc) return;
    this.proc.kill('SIGKILL');
    await this.exited;
    this.proc = null;
  }

  /** SIGTERM (what Ctrl-C does); resolves with the exit status. */
  async stop(graceMs = 10000) {
    if (!this.proc) return null;
    const proc = this.proc;
    proc.kill('SIGTERM');
    let timer;
    const hard = new Promise((res) => {
      timer = setTimeout(() => {
        try {
          proc.kill('SIGKILL');
        } catch {}
        res();
      }, graceMs);
    });
    await Promise.race([this.exited, hard]);
    clearTimeout(timer);
    const status = await this.exited;
    this.proc = null;
    return status;
  }

  /** The last `n` log lines (all runs). */
  output(n = 40) {
    return this.lines.slice(-n).join('\n');
  }
}

/** A World (lib/world.mjs) whose sandbox also hosts bot processes. */
export class BotWorld extends World {
  constructor(sandbox) {
    super(sandbox);
    this.bots = [];
    this._dirs = [];
  }

  /** Register an account with an explicit nickname (e.g. the bot's). */
  async registerNamed(userID, nickname) {
    if (this.registered.has(userID)) return;
    await this.sandbox.registerUsers([{ userID, nickname }]);
    this.registered.add(userID);
  }

  /** A fresh temporary directory, removed at the end of the scenario. */
  tempDir(prefix = 'openim-bots-') {
    const d = mkdtempSync(join(tmpdir(), prefix));
    this._dirs.push(d);
    return d;
  }

  /**
   * A bot process for account `userID` (registered with `nickname`) running the
   * `[bots.*]` tables `botsToml`; not started. Give `dataDir` to share a store
   * between processes (restarts); by default each bot gets its own. Or give
   * `configFile` (used as is) and `env` (OPENIM_* overrides), as a user would.
   */
  async bot(userID, botsToml, { nickname = `Bot ${userID}`, dataDir, configFile, env } = {}) {
    await this.registerNamed(userID, nickname);
    const b = new BotProcess({ sandbox: this.sandbox, userID, botsToml, dataDir: dataDir ?? this.tempDir(), configFile, env });
    this.bots.push(b);
    return b;
  }

  /** `bot(...)` then `start()`. */
  async startBot(userID, botsToml, options) {
    return (await this.bot(userID, botsToml, options)).start();
  }

  async close() {
    await Promise.all(this.bots.map((b) => b.stop(3000).catch(() => {})));
    try {
      await super.close();
    } finally {
      for (const d of this._dirs) {
        try {
          rmSync(d, { recursive: true, force: true });
        } catch {}
      }
    }
  }

  describe() {
    const parts = [super.describe()];
    for (const b of this.bots) parts.push(`  bot ${b.label} log (tail):\n${indent(b.output(40) || '(none)')}`);
    return parts.join('\n');
  }
}

function indent(s) {
  return s
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

/**
 * Wrap a bot scenario body `(world: BotWorld, t) => Promise` for node:test:
 * fresh sandbox, the body, then every bot stopped and every client logged
 * out; SDK-internal errors fail the scenario as in lib/world.mjs. Options:
 * `sandbox` (for startBotsSandbox), `knownSdkBugs` (regexps).
 */
export function botScenario(fn, options = {}) {
  return (t) =>
    runScenario(t, async () => new BotWorld(await startBotsSandbox(options.sandbox || {})), fn, options.knownSdkBugs);
}

/**
 * A message predicate: a text (or @-text, quote) message sent by `sendID`, in
 * group `groupID` (or, without it, a one-to-one message), whose text matches
 * `re` (a RegExp or an exact string; none = any text).
 */
export function from(sendID, re, { groupID } = {}) {
  const test = typeof re === 'string' ? (t) => t === re : re ? (t) => re.test(t) : () => true;
  // Text-bearing messages only: notifications such as the 1201 "you are friends now" tip also
  // arrive through OnRecvNewMessages.
  const pred = (m) => {
    const text = messageText(m);
    return m.sendID === sendID && (groupID ? m.groupID === groupID : !m.groupID) && text !== undefined && test(text);
  };
  pred.description = `a message from ${sendID}${groupID ? ` in group ${groupID}` : ' (one-to-one)'} with text ${re instanceof RegExp ? re : JSON.stringify(re ?? '(any)')}`;
  return pred;
}

/** Every message `client` received so far (OnRecvNewMessages) that satisfies `pred`. */
export function received(client, pred) {
  return client.seen(CbEvents.OnRecvNewMessages).flatMap((ev) => (Array.isArray(ev.data) ? ev.data.filter(pred) : []));
}

/** The texts of `received(client, pred)`. */
export function receivedTexts(client, pred) {
  return received(client, pred).map((m) => messageText(m));
}

/**
 * Wait until `client` receives a message satisfying `pred` that no earlier
 * waitMessage on this client returned; resolves with the MessageItem.
 */
export async function waitMessage(client, pred, { timeoutMs } = {}) {
  const taken = (client.__takenMessages ??= new Set());
  const ok = (m) => !taken.has(m.clientMsgID) && pred(m);
  try {
    const ev = await client.waitFor(CbEvents.OnRecvNewMessages, (data) => Array.isArray(data) && data.some(ok), { consume: false, timeoutMs });
    const m = ev.data.find(ok);
    taken.add(m.clientMsgID);
    return m;
  } catch (e) {
    if (pred.description) e.message = `[${client.label}] waiting for ${pred.description}: ${e.message}`;
    throw e;
  }
}

