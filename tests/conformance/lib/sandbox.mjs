// Start and stop the `openim-sandbox` binary, and administer it over its HTTP
// API exactly as an operator would administer a real OpenIM server:
// /auth/get_admin_token, /user/user_register, /auth/get_user_token.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';

const here = dirname(fileURLToPath(import.meta.url));

/** Default OpenIM shared secret and admin account, as OpenIM ships them. */
export const DEFAULT_SECRET = 'openIM123';
export const ADMIN_USER_ID = 'imAdmin';

/** Path of the sandbox binary: $SANDBOX_BIN, else the workspace debug build. */
export function sandboxBinary() {
  return process.env.SANDBOX_BIN || resolve(here, '../../../target/debug/openim-sandbox');
}

const READY_RE = /^ready api=(https?:\/\/\S+) ws=(wss?:\/\/\S+)\s*$/;

// Every sandbox still running is killed when this process exits, whatever the
// reason, so that a crashed test file leaks no server.
const live = new Set();
process.on('exit', () => {
  for (const s of live) {
    try {
      s.proc.kill('SIGKILL');
    } catch {}
  }
});

/** A Rust panic message in a server's output (its first is kept whatever the output's length). */
export const PANIC_RE = /panicked at/;

/** Lines of a server's output kept for diagnostics: the last 2,000. */
const LOG_TAIL = 2000;

/**
 * Appends one output line to `logLines` (a Sandbox's log), keeping the last LOG_TAIL lines
 * and, apart from them, the first panic line (for Sandbox.stopProblem).
 */
export function keepLogLine(logLines, line) {
  logLines.push(line);
  if (!logLines.panic && PANIC_RE.test(line)) logLines.panic = line;
  if (logLines.length > LOG_TAIL) logLines.splice(0, logLines.length - LOG_TAIL);
}

/**
 * A running sandbox process.
 * Fields: api (HTTP base), ws (WebSocket base), secret, proc, and the output
 * it has written so far (`output()`), for failure reports.
 */
export class Sandbox {
  constructor(proc, api, ws, secret, logLines) {
    this.proc = proc;
    this.api = api;
    this.ws = ws;
    this.secret = secret;
    this._log = logLines;
    this._adminToken = null;
    this.exited = new Promise((res) => proc.once('exit', (code, signal) => res({ code, signal })));
  }

  /**
   * Stop this process and start a new one on the same addresses with the same
   * options (give it a `dataDir` to keep the state). Resolves with the new Sandbox.
   */
  async restart() {
    await this.stop();
    const problem = this.stopProblem();
    if (problem) throw new Error(`sandbox restart: ${problem}\n${this.output(40)}`);
    const hostPort = (u) => new URL(u).host;
    return startSandbox({ ...this.options, apiAddr: hostPort(this.api), wsAddr: hostPort(this.ws) });
  }

  /**
   * Kill this process hard (SIGKILL: no shutdown, no final save), then start a new one as
   * `restart()` does. A panic in the killed one's output still fails the restart.
   */
  async killAndRestart() {
    live.delete(this);
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
      throw new Error(`sandbox hard restart: it had already exited\n${this.output(40)}`);
    }
    this.proc.kill('SIGKILL');
    this._stop = { ...(await this.exited), forced: false, unasked: false, killed: true };
    if (this._log.panic) throw new Error(`sandbox hard restart: its output has a panic: ${this._log.panic}`);
    const hostPort = (u) => new URL(u).host;
    return startSandbox({ ...this.options, apiAddr: hostPort(this.api), wsAddr: hostPort(this.ws) });
  }

  /** The sandbox's own stdout/stderr so far (last `n` lines). */
  output(n = 60) {
    return this._log.slice(-n).join('\n');
  }

  /**
   * Stop the process (SIGTERM, then SIGKILL after `graceMs`) and wait for it.
   * How it ended is kept for `stopProblem()`.
   */
  async stop(graceMs = 10_000) {
    live.delete(this);
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
      // It ended before anyone asked it to: a crash, unless already stopped.
      this._stop ??= { ...(await this.exited), forced: false, unasked: true };
      return;
    }
    this.proc.kill('SIGTERM');
    let timer;
    let forced = false;
    const hard = new Promise((res) => {
      timer = setTimeout(() => {
        forced = true;
        try {
          this.proc.kill('SIGKILL');
        } catch {}
        res();
      }, graceMs);
    });
    await Promise.race([this.exited, hard]);
    clearTimeout(timer);
    this._stop = { ...(await this.exited), forced, unasked: false };
  }

  /**
   * After `stop()`: why the server did not end cleanly, or null. A clean end is a
   * graceful shutdown on SIGTERM (exit code 0, no SIGKILL needed) with no panic in
   * its output. Scenarios fail on a problem, so that network errors at teardown
   * (which the harness ignores, see STOP_ARTIFACT) cannot hide a server fault.
   */
  stopProblem() {
    const st = this._stop;
    if (!st) return 'the sandbox was not stopped';
    const problems = [];
    if (st.unasked) problems.push(`it exited by itself before the stop (code ${st.code}, signal ${st.signal})`);
    else if (st.forced) problems.push('it did not shut down within the grace period after SIGTERM (SIGKILL sent)');
    else if (st.code !== 0) problems.push(`it exited with code ${st.code}, signal ${st.signal} after SIGTERM`);
    const panic = this._log.panic;
    if (panic) problems.push(`its output has a panic: ${panic}`);
    return problems.length ? problems.join('; ') : null;
  }

  /**
   * POST `path` with a JSON body, the way OpenIM clients do (operationID and
   * token headers). Resolves with `data` when errCode is 0, otherwise rejects
   * with an ApiError carrying errCode/errMsg/errDlt.
   */
  async post(path, body, { token, operationID = `conformance-${randomUUID()}` } = {}) {
    const headers = { 'Content-Type': 'application/json', operationID };
    if (token) headers.token = token;
    let res;
    try {
      res = await fetch(this.api + path, { method: 'POST', headers, body: JSON.stringify(body ?? {}) });
    } catch (e) {
      throw new Error(`POST ${path}: ${e.cause?.message ?? e.message}`);
    }
    const text = await res.text();
    let env;
    try {
      env = JSON.parse(text);
    } catch {
      throw new Error(`POST ${path}: HTTP ${res.status}, body is not JSON: ${text.slice(0, 300)}`);
    }
    if (res.status !== 200) throw new Error(`POST ${path}: HTTP ${res.status} (OpenIM answers 200 with an envelope): ${text.slice(0, 300)}`);
    if (env.errCode !== 0) throw new ApiError(path, env);
    return env.data;
  }

  /** The admin token (cached), from /auth/get_admin_token. */
  async adminToken() {
    if (!this._adminToken) {
      const data = await this.post('/auth/get_admin_token', { secret: this.secret, userID: ADMIN_USER_ID });
      if (!data || typeof data.token !== 'string' || !data.token) {
        throw new Error(`/auth/get_admin_token returned no token: ${JSON.stringify(data)}`);
      }
      this._adminToken = data.token;
    }
    return this._adminToken;
  }

  /** POST as the admin. */
  async adminPost(path, body) {
    return this.post(path, body, { token: await this.adminToken() });
  }

  /** Register users: [{userID, nickname}] (nickname defaults to the ID). */
  async registerUsers(users) {
    const list = users.map((u) => (typeof u === 'string' ? { userID: u, nickname: `Nick ${u}` } : u));
    await this.adminPost('/user/user_register', {
      users: list.map((u) => ({ userID: u.userID, nickname: u.nickname ?? u.userID, faceURL: u.faceURL ?? '' })),
    });
    return list;
  }

  /** Mint a user token for a platform (default 5, Web) via /auth/get_user_token. */
  async userToken(userID, platformID = 5) {
    const data = await this.adminPost('/auth/get_user_token', { platformID, userID });
    if (!data || typeof data.token !== 'string' || !data.token) {
      throw new Error(`/auth/get_user_token returned no token for ${userID}: ${JSON.stringify(data)}`);
    }
    return data.token;
  }
}

/** A non-zero errCode in an OpenIM response envelope. */
export class ApiError extends Error {
  constructor(path, env) {
    super(`POST ${path}: errCode ${env.errCode} ${env.errMsg}${env.errDlt ? ` (${env.errDlt})` : ''}`);
    this.errCode = env.errCode;
    this.errMsg = env.errMsg;
    this.errDlt = env.errDlt;
  }
}

/**
 * Start the sandbox on ephemeral ports and wait for its `ready` line.
 * Options: bin, secret, readyTimeoutMs, extraArgs.
 */
export async function startSandbox({
  bin = sandboxBinary(),
  secret = DEFAULT_SECRET,
  readyTimeoutMs = 20000,
  apiAddr = '127.0.0.1:0',
  wsAddr = '127.0.0.1:0',
  dataDir,
  extraArgs = [],
} = {}) {
  if (!existsSync(bin)) {
    throw new Error(`sandbox binary not found at ${bin}: build it with \`cargo build -p openim-sandbox\` or set SANDBOX_BIN`);
  }
  // SANDBOX_DATA_DIRS=1: every sandbox persists (a fresh data dir unless the scenario gives one;
  // kept across its restarts), to run the whole suite against the durable code paths.
  if (!dataDir && process.env.SANDBOX_DATA_DIRS === '1') {
    const dir = mkdtempSync(join(tmpdir(), 'oim-conformance-dd-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    dataDir = dir;
  }
  const args = ['--api-addr', apiAddr, '--ws-addr', wsAddr, '--secret', secret, ...(dataDir ? ['--data-dir', dataDir] : []), ...extraArgs];
  const proc = spawn(bin, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OPENIM_SANDBOX_LOG: process.env.SANDBOX_LOG || process.env.OPENIM_SANDBOX_LOG || 'warn' },
  });
  const logLines = [];
  const echo = !!process.env.SANDBOX_ECHO;
  let found = null;
  let onReady;
  const ready = new Promise((res) => (onReady = res));
  const collect = (stream, tag) => {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).replace(/\r$/, '');
        buf = buf.slice(i + 1);
        keepLogLine(logLines, `[${tag}] ${line}`);
        if (echo) process.stderr.write(`[sandbox ${tag}] ${line}\n`);
        const m = tag === 'out' && !found && READY_RE.exec(line);
        if (m) {
          found = { api: m[1].replace(/\/+$/, ''), ws: m[2].replace(/\/+$/, '') };
          onReady();
        }
      }
    });
  };
  collect(proc.stdout, 'out');
  collect(proc.stderr, 'err');
  const sb = new Sandbox(proc, null, null, secret, logLines);
  sb.options = { bin, secret, readyTimeoutMs, dataDir, extraArgs };
  live.add(sb);

  let timer;
  const failure = new Promise((_, rej) => {
    proc.once('error', (e) => rej(new Error(`cannot start ${bin}: ${e.message}`)));
    proc.once('exit', (code, signal) =>
      rej(new Error(`sandbox exited before its ready line (code ${code}, signal ${signal}):\n${logLines.slice(-30).join('\n')}`)),
    );
    timer = setTimeout(
      () => rej(new Error(`no \`ready api=... ws=...\` line from the sandbox within ${readyTimeoutMs} ms:\n${logLines.slice(-30).join('\n')}`)),
      readyTimeoutMs,
    );
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
  return sb;
}
