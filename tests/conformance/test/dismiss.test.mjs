// Dismissal as open-im-server v3.8.3 reports it: DismissGroup (group/group.go) takes the
// group *before* setting status 2, so the 1511 GroupDismissed tips carry the status as it
// was (3 for a muted group), and SDK 0.0.14 raises OnGroupInfoChanged and OnGroupDismissed
// with that snapshot after its join-group resync (OnJoinedGroupDeleted: the push service
// removes the members right after the 1511). Spec references: CLIENT-SURFACE.md §7 (1511),
// sdk-events.md (1511 tips), http-api.md /group/dismiss_group.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIO, scenario } from '../lib/world.mjs';
import { CbEvents } from '../lib/client.mjs';

test(
  'dismissing a muted group: OnGroupDismissed carries the group as it was (status 3), the group leaves every joined list',
  SCENARIO,
  scenario(async (w) => {
    const [owner, member] = await w.login('dsowner', 'dsmember');
    const group = await owner.call('createGroup', { memberUserIDs: ['dsmember'], adminUserIDs: [], groupInfo: { groupName: 'Muted then gone', groupType: 2 } });
    const groupID = group.groupID;
    await member.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });
    await owner.call('changeGroupMute', { groupID, isMute: true });
    await member.waitFor(CbEvents.OnGroupInfoChanged, { groupID, status: 3 });
    const since = member.mark();
    await owner.call('dismissGroup', groupID);
    for (const c of [owner, member]) {
      const dismissed = await c.waitFor(CbEvents.OnGroupDismissed, { groupID }, { since: c === member ? since : 0 });
      assert.equal(dismissed.data.status, 3, `[${c.label}] the 1511 snapshot is taken before the dismissal: ${JSON.stringify(dismissed.data)}`);
      assert.equal(dismissed.data.memberCount, 2, 'counted before the members are removed');
      await c.waitFor(CbEvents.OnJoinedGroupDeleted, { groupID });
      assert.deepEqual(await c.call('getJoinedGroupListPage', { offset: 0, count: 10 }), []);
    }
    // The server's own record says dismissed.
    const info = await w.sandbox.adminPost('/group/get_groups_info', { groupIDs: [groupID] });
    assert.equal(info.groupInfos[0].status, 2);
  }),
);
