// Friend applications: apply -> accept and apply -> refuse, with the events
// on both sides. Spec references: CLIENT-SURFACE.md §6.4, §6.5, §7 (1201,
// 1202, 1203, 1204); http-api.md §5.2, §6 (versions).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIO, scenario, nicknameOf } from '../lib/world.mjs';
import { CbEvents } from '../lib/client.mjs';

async function friendIDs(client) {
  const list = await client.call('getFriendListPage', { offset: 0, count: 100 });
  return list.map((f) => f.userID).sort();
}

test(
  'friend apply -> accept: events on both sides, both friend lists',
  SCENARIO,
  scenario(async (w) => {
    const [a, b] = await w.login('fapplicant', 'faccepter');
    await a.call('addFriend', { toUserID: 'faccepter', reqMsg: 'hi there', ex: '' });
    const request = { fromUserID: 'fapplicant', toUserID: 'faccepter', reqMsg: 'hi there', handleResult: 0 };
    await a.waitFor(CbEvents.OnFriendApplicationAdded, request);
    const recv = await b.waitFor(CbEvents.OnFriendApplicationAdded, request);
    assert.equal(recv.data.fromNickname, nicknameOf('fapplicant'));
    assert.equal(recv.data.toNickname, nicknameOf('faccepter'));
    const pending = await b.call('getFriendApplicationListAsRecipient', { offset: 0, count: 50 });
    assert.ok(pending.some((r) => r.fromUserID === 'fapplicant' && r.handleResult === 0), `recipient's application list: ${JSON.stringify(pending)}`);

    await b.call('acceptFriendApplication', { toUserID: 'fapplicant', handleMsg: 'welcome' });
    const accepted = { fromUserID: 'fapplicant', toUserID: 'faccepter', handleResult: 1 };
    await b.waitFor(CbEvents.OnFriendApplicationAccepted, accepted);
    await a.waitFor(CbEvents.OnFriendApplicationAccepted, { ...accepted, handleMsg: 'welcome' });
    // The accepter's SDK resyncs its friends after accepting (friend-version
    // insert) and reports the new friend. The applicant's SDK 0.0.14 does not
    // resync on 1201 and a 3.8 server sends no 1204, so the applicant learns
    // of the friendship only from the friend list (checked below).
    await b.waitFor(CbEvents.OnFriendAdded, { userID: 'fapplicant', nickname: nicknameOf('fapplicant') });

    assert.deepEqual(await friendIDs(a), ['faccepter']);
    assert.deepEqual(await friendIDs(b), ['fapplicant']);
    const check = await a.call('checkFriend', ['faccepter']);
    assert.equal(check[0]?.result, 1, `checkFriend: ${JSON.stringify(check)}`);
  }),
);

test(
  'friend apply -> refuse: rejected events on both sides, no friendship',
  SCENARIO,
  scenario(async (w) => {
    const [a, c] = await w.login('frapplicant', 'frrefuser');
    await a.call('addFriend', { toUserID: 'frrefuser', reqMsg: 'be my friend', ex: '' });
    await c.waitFor(CbEvents.OnFriendApplicationAdded, { fromUserID: 'frapplicant', toUserID: 'frrefuser', reqMsg: 'be my friend' });

    await c.call('refuseFriendApplication', { toUserID: 'frapplicant', handleMsg: 'no thanks' });
    const rejected = { fromUserID: 'frapplicant', toUserID: 'frrefuser', handleResult: -1 };
    await c.waitFor(CbEvents.OnFriendApplicationRejected, rejected);
    await a.waitFor(CbEvents.OnFriendApplicationRejected, { ...rejected, handleMsg: 'no thanks' });

    assert.deepEqual(await friendIDs(a), []);
    assert.deepEqual(await friendIDs(c), []);
    assert.equal(a.seen(CbEvents.OnFriendAdded).length + c.seen(CbEvents.OnFriendAdded).length, 0, 'a refusal must not add friends');
    const mine = await a.call('getFriendApplicationListAsApplicant', { offset: 0, count: 50 });
    assert.ok(mine.some((r) => r.toUserID === 'frrefuser' && r.handleResult === -1), `applicant's application list: ${JSON.stringify(mine)}`);
  }),
);
