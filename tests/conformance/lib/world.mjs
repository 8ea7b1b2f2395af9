// One scenario = one fresh sandbox plus the SDK clients logged into it.
// `scenario(fn)` returns a node:test body that starts the sandbox, runs `fn`,
// then logs every client out, checks that the SDK raised no internal error,
// and kills the sandbox, whatever happened.

import { startSandbox } from './sandbox.mjs';
import { OimClient, sdkErrors, setPhase, ownUncaughtErrors, LOGOUT_ARTIFACT, STOP_ARTIFACT } from './client.mjs';

export class World {
  constructor(sandbox) {
    this.sandbox = sandbox;
    this.clients = [];
    this.registered = new Set();
  }

  /** Register users (once each) through the admin HTTP API. */
  async register(...userIDs) {
    const fresh = userIDs.filter((u) => !this.registered.has(u));
    if (fresh.length) {
      await this.sandbox.registerUsers(fresh.map((u) => ({ userID: u, nickname: nicknameOf(u) })));
      for (const u of fresh) this.registered.add(u);
    }
  }

  /** A client for `userID` with a freshly minted token, not yet logged in. */
  async client(userID, { platformID = 5, token, label } = {}) {
    await this.register(userID);
    const tok = token ?? (await this.sandbox.userToken(userID, platformID));
    const c = new OimClient({ api: this.sandbox.api, ws: this.sandbox.ws, userID, token: tok, platformID, label });
    this.clients.push(c);
    return c;
  }

  /** Register, mint tokens, log in and finish the initial sync, for each user. */
  async login(...userIDs) {
    await this.register(...userIDs);
    const out = [];
    // One after the other: simpler traces, and a failure names its user.
    for (const u of userIDs) out.push(await (await this.client(u)).login());
    return out;
  }

  /** Restart the sandbox process on the same addresses (see Sandbox.restart). */
  async restartSandbox() {
    this.sandbox = await this.sandbox.restart();
    return this.sandbox;
  }

  /** Kill the sandbox process with SIGKILL and start it again (see Sandbox.killAndRestart). */
  async killAndRestartSandbox() {
    this.sandbox = await this.sandbox.killAndRestart();
    return this.sandbox;
  }

  async close() {
    await Promise.all(this.clients.map((c) => c.close()));
    // From here a request still in flight (or one the SDK starts on an idle
    // keep-alive connection the stopping server closes) fails at the network
    // level: that is the teardown, not the server (see STOP_ARTIFACT).
    setPhase('stopping');
    await this.sandbox.stop();
    const problem = this.sandbox.stopProblem();
    if (problem) throw new Error(`the sandbox did not end cleanly: ${problem}`);
  }

  describe() {
    const parts = this.clients.map((c) => c.describe());
    parts.push(`  sandbox output (tail):\n${indent(this.sandbox.output(40) || '(none)')}`);
    return parts.join('\n');
  }
}

/** node:test options for every scenario: a hard limit, whatever the Node version's CLI flags. */
export const SCENARIO = { timeout: 120_000 };

export function nicknameOf(userID) {
  return `Nick-${userID}`;
}

function indent(s) {
  return s
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

/**
 * Wrap a scenario body `(world, t) => Promise` for node:test. `options` go to
 * startSandbox (e.g. `{ dataDir }`); `knownSdkBugs` lists regexps of SDK-internal
 * errors that are bugs of the SDK itself (matched against message + stack),
 * which do not fail the scenario.
 */
export function scenario(fn, options = {}) {
  return async (t) => {
    const opts = typeof options === 'function' ? await options() : options;
    await runScenario(t, async () => new World(await startSandbox(opts)), fn, opts.knownSdkBugs);
  };
}

/**
 * The life of one scenario, for any kind of world (`makeWorld` starts its sandbox): the body,
 * then every client (and bot) closed; diagnostics on failure; SDK-internal errors fail the
 * scenario unless they are logout artifacts or match `knownSdkBugs`.
 */
export async function runScenario(t, makeWorld, fn, knownSdkBugs = []) {
  ownUncaughtErrors();
  const errorsBefore = sdkErrors.length;
  const world = await makeWorld();
  let failure = null;
  setPhase('active');
  try {
    await fn(world, t);
  } catch (e) {
    failure = e;
  }
  setPhase('closing');
  // Let traffic records of the failing exchange land before summarising.
  if (failure) await new Promise((r) => setTimeout(r, 50));
  let summary = failure ? world.describe() : '';
  try {
    await world.close();
  } catch (e) {
    if (!failure) {
      failure = e;
      summary = world.describe();
    } else failure.message += `\nand at teardown: ${e.message}`;
  }
  setPhase('idle');
  // Errors of the logout itself (see LOGOUT_ARTIFACT) are the SDK's, and network
  // errors once the sandbox is being stopped (STOP_ARTIFACT) are the teardown's,
  // not the server's; everything else fails the scenario.
  const all = sdkErrors.slice(errorsBefore);
  const isKnown = (e) => knownSdkBugs.some((re) => re.test(`${e.message}\n${e.stack || ''}`));
  const isTeardown = (e) =>
    (e.phase !== 'active' && LOGOUT_ARTIFACT.test(e.message)) || (['stopping', 'idle'].includes(e.phase) && STOP_ARTIFACT.test(e.message));
  const internal = all.filter((e) => !isKnown(e) && !isTeardown(e));
  const ignored = all.length - internal.length;
  if (ignored) t.diagnostic(`${ignored} SDK-internal error(s) ignored (logout mid-processing, sandbox stopping, or a known SDK bug declared by the scenario)`);
  if (failure) {
    if (internal.length) {
      failure.message += `\nSDK-internal errors during this scenario:\n${internal.map((e) => `  ${e.kind}: ${e.message}`).join('\n')}`;
    }
    failure.message += `\n--- diagnostics ---\n${summary}`;
    throw failure;
  }
  if (internal.length) {
    throw new Error(
      `the SDK raised ${internal.length} internal error(s) (a server reply of a shape it does not expect; see CLIENT-SURFACE.md):\n` +
        internal.map((e) => `  ${e.kind} (${e.phase}): ${e.message}\n${indent(e.stack || '')}`).join('\n'),
    );
  }
}
