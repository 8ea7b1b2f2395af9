// Calls that change nothing still answer and notify the way open-im-server v3.8.3
// does, so every SDK raises the same events as against a real server.
// RemoveBlack is a DeleteMany plus an unconditional 1208 (relation/black.go);
// AddBlack checks CheckUser([owner, black]), whose lookup de-duplicates the IDs
// (rpcli/user.go, cache/redis/batch.go), so blocking oneself is RecordNotFound;
// SetGroupMemberInfo sends 1517/1518 for every roleLevel in the request, changed
// or not (group/group.go). Spec references: CLIENT-SURFACE.md §7 (1208, 1517).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIO, scenario } from '../lib/world.mjs';
import { CbEvents } from '../lib/client.mjs';

test(
  'removeBlack of a user never blocked still sends 1208; blocking oneself fails with RecordNotFound',
  SCENARIO,
  scenario(async (w) => {
    const [alice, bob] = await w.login('rbalice', 'rbbob');
    const since = bob.mark();
    await alice.call('removeBlack', 'rbbob');
    // The 1208 reaches the "unblocked" user too; SDK 0.0.14 reports it with its own userID.
    await bob.waitFor(CbEvents.OnBlackDeleted, { userID: 'rbbob' }, { since });
    await assert.rejects(alice.call('addBlack', { toUserID: 'rbalice', ex: '' }), (e) => {
      assert.equal(e.errCode, 10006, `blocking oneself: ${e.errCode} ${e.errMsg}`);
      assert.equal(e.errMsg, 'RecordNotFoundError');
      return true;
    });
    assert.deepEqual(await alice.call('getBlackList', { offset: 0, count: 10 }), []);
    assert.equal(alice.seen(CbEvents.OnBlackAdded).length, 0, 'nothing was blocked');
  }),
);

test(
  'setting a member\'s role to the one it has still sends 1517 (OnGroupMemberInfoChanged at every member)',
  SCENARIO,
  scenario(async (w) => {
    const [owner, member, other] = await w.login('rrowner', 'rrmember', 'rrother');
    const group = await owner.call('createGroup', { memberUserIDs: ['rrmember', 'rrother'], adminUserIDs: [], groupInfo: { groupName: 'Roles again', groupType: 2 } });
    const groupID = group.groupID;
    for (const c of [member, other]) await c.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });
    await owner.call('setGroupMemberInfo', { groupID, userID: 'rrmember', roleLevel: 60 });
    for (const c of [owner, member, other]) await c.waitFor(CbEvents.OnGroupMemberInfoChanged, { groupID, userID: 'rrmember', roleLevel: 60 });
    const marks = [owner, member, other].map((c) => c.mark());
    await owner.call('setGroupMemberInfo', { groupID, userID: 'rrmember', roleLevel: 60 });
    await Promise.all([owner, member, other].map((c, i) => c.waitFor(CbEvents.OnGroupMemberInfoChanged, { groupID, userID: 'rrmember', roleLevel: 60 }, { since: marks[i] })));
    // The owner may not change its own role: v3.8.3 answers ErrArgs (not NoPermission).
    await assert.rejects(owner.call('setGroupMemberInfo', { groupID, userID: 'rrowner', roleLevel: 20 }), (e) => {
      assert.equal(e.errCode, 10006, `owner demotes itself: ${e.errCode} ${e.errMsg}`);
      assert.equal(e.errMsg, 'ArgsError');
      return true;
    });
    const roles = Object.fromEntries((await other.call('getGroupMemberList', { groupID, filter: 0, offset: 0, count: 10 })).map((m) => [m.userID, m.roleLevel]));
    assert.deepEqual(roles, { rrowner: 100, rrmember: 60, rrother: 20 });
  }),
);
