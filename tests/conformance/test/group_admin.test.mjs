// Group administration as the JS client does it: roles and what they allow,
// unmuting a member, member queries, application lists, invalid calls.
// Spec references: CLIENT-SURFACE.md §6.7, §7 (1512-1518), Appendix A;
// http-api.md §5.3 (group routes, role checks), §9 (1002, 1203, 1204).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIO, scenario, nicknameOf } from '../lib/world.mjs';
import { CbEvents, messageText } from '../lib/client.mjs';

async function createGroup(owner, { name, members = [], admins = [], needVerification }) {
  const groupInfo = { groupName: name, groupType: 2 };
  if (needVerification !== undefined) groupInfo.needVerification = needVerification;
  const group = await owner.call('createGroup', { memberUserIDs: members, adminUserIDs: admins, groupInfo });
  assert.ok(group?.groupID, `createGroup: ${JSON.stringify(group)}`);
  return group.groupID;
}

async function roles(client, groupID) {
  const members = await client.call('getGroupMemberList', { groupID, offset: 0, count: 100, filter: 0 });
  return Object.fromEntries(members.map((m) => [m.userID, m.roleLevel]));
}

test(
  'roles: a promoted admin mutes, unmutes and kicks members, but not the owner; a plain member may not',
  SCENARIO,
  scenario(async (w) => {
    const [owner, admin, member, other] = await w.login('raowner', 'raadmin', 'ramember', 'raother');
    const groupID = await createGroup(owner, { name: 'Roles Group', members: ['raadmin', 'ramember', 'raother'] });
    for (const c of [admin, member, other]) await c.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });

    // A plain member cannot moderate (1002 NoPermission on the server; the SDK reports 10006).
    await assert.rejects(member.call('changeGroupMemberMute', { groupID, userID: 'raother', mutedSeconds: 60 }));
    await assert.rejects(member.call('kickGroupMember', { groupID, reason: 'no', userIDList: ['raother'] }));
    await assert.rejects(member.call('setGroupInfo', { groupID, groupName: 'Hijacked' }));
    await assert.rejects(member.call('changeGroupMute', { groupID, isMute: true }));
    assert.deepEqual(await roles(owner, groupID), { raowner: 100, raadmin: 20, ramember: 20, raother: 20 });

    // Promotion (1517 GroupMemberSetToAdmin → OnGroupMemberInfoChanged roleLevel 60 for everyone).
    await owner.call('setGroupMemberInfo', { groupID, userID: 'raadmin', roleLevel: 60 });
    for (const c of [admin, member]) await c.waitFor(CbEvents.OnGroupMemberInfoChanged, { groupID, userID: 'raadmin', roleLevel: 60 });

    // The admin mutes a member (1512), who then cannot send (1402) ...
    await admin.call('changeGroupMemberMute', { groupID, userID: 'ramember', mutedSeconds: 300 });
    await member.waitFor(CbEvents.OnGroupMemberInfoChanged, (d) => d.groupID === groupID && d.userID === 'ramember' && d.muteEndTime > Date.now());
    await assert.rejects(member.sendGroupText(groupID, 'muted?'), (e) => e.errCode === 1402);
    // ... and unmutes (1513): muteEndTime back in the past, sending works again.
    await admin.call('changeGroupMemberMute', { groupID, userID: 'ramember', mutedSeconds: 0 });
    await member.waitFor(CbEvents.OnGroupMemberInfoChanged, (d) => d.groupID === groupID && d.userID === 'ramember' && d.muteEndTime <= Date.now());
    const [info] = await owner.call('getSpecifiedGroupMembersInfo', { groupID, userIDList: ['ramember'] });
    assert.ok(info.muteEndTime <= Date.now(), `unmuted member: ${JSON.stringify(info)}`);
    const back = await member.sendGroupText(groupID, 'unmuted');
    await owner.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: back.clientMsgID });

    // An admin cannot mute or kick the owner, nor another admin's superior.
    await assert.rejects(admin.call('changeGroupMemberMute', { groupID, userID: 'raowner', mutedSeconds: 60 }));
    await assert.rejects(admin.call('kickGroupMember', { groupID, reason: 'coup', userIDList: ['raowner'] }));
    // The admin kicks a member.
    await admin.call('kickGroupMember', { groupID, reason: 'bye', userIDList: ['raother'] });
    await other.waitFor(CbEvents.OnJoinedGroupDeleted, { groupID });
    await owner.waitFor(CbEvents.OnGroupMemberDeleted, { groupID, userID: 'raother' });
    assert.deepEqual(await roles(owner, groupID), { raowner: 100, raadmin: 60, ramember: 20 });

    // Demotion back to member (1518 GroupMemberSetToOrdinaryUser).
    await owner.call('setGroupMemberInfo', { groupID, userID: 'raadmin', roleLevel: 20 });
    await admin.waitFor(CbEvents.OnGroupMemberInfoChanged, { groupID, userID: 'raadmin', roleLevel: 20 });
    await assert.rejects(admin.call('changeGroupMemberMute', { groupID, userID: 'ramember', mutedSeconds: 60 }));
  }),
);

test(
  'member queries: getSpecifiedGroupMembersInfo, getUsersInGroup, isJoinGroup, member list paging',
  SCENARIO,
  scenario(async (w) => {
    const [owner, member] = await w.login('qowner', 'qmember');
    await w.register('qa', 'qb', 'qc', 'qoutsider');
    const groupID = await createGroup(owner, { name: 'Query Group', members: ['qmember', 'qa', 'qb', 'qc'] });
    await member.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });

    const infos = await member.call('getSpecifiedGroupMembersInfo', { groupID, userIDList: ['qowner', 'qa', 'qoutsider'] });
    const byID = Object.fromEntries(infos.map((m) => [m.userID, m]));
    assert.deepEqual(Object.keys(byID).sort(), ['qa', 'qowner'], `a non-member is not listed: ${JSON.stringify(infos)}`);
    assert.equal(byID.qowner.roleLevel, 100);
    assert.equal(byID.qa.roleLevel, 20);
    assert.equal(byID.qa.nickname, nicknameOf('qa'));
    assert.equal(byID.qa.groupID, groupID);
    assert.ok(byID.qa.joinTime > 0);

    const inGroup = await member.call('getUsersInGroup', { groupID, userIDList: ['qa', 'qoutsider', 'qowner'] });
    assert.deepEqual([...inGroup].sort(), ['qa', 'qowner']);
    assert.equal(await member.call('isJoinGroup', groupID), true);

    // Paging: 5 members, pages of 2.
    const seen = [];
    for (let offset = 0; offset < 10; offset += 2) {
      const page = await member.call('getGroupMemberList', { groupID, offset, count: 2, filter: 0 });
      assert.ok(page.length <= 2);
      seen.push(...page.map((m) => m.userID));
      if (page.length < 2) break;
    }
    assert.deepEqual([...seen].sort(), ['qa', 'qb', 'qc', 'qmember', 'qowner'], `member pages: ${JSON.stringify(seen)}`);
    assert.equal(new Set(seen).size, seen.length, 'no member twice across pages');

    const [group] = await member.call('getSpecifiedGroupsInfo', [groupID]);
    assert.equal(group.memberCount, 5);
    assert.equal(group.ownerUserID, 'qowner');
  }),
);

test(
  'group applications lists: the applicant and the owner see the pending request, then its result',
  SCENARIO,
  scenario(async (w) => {
    const [owner, applicant] = await w.login('aplowner', 'aplapplicant');
    const groupID = await createGroup(owner, { name: 'Apply Group', needVerification: 0 });

    await applicant.call('joinGroup', { groupID, reqMsg: 'please', joinSource: 3, ex: '' });
    await owner.waitFor(CbEvents.OnGroupApplicationAdded, { groupID, userID: 'aplapplicant' });
    const recv = await owner.call('getGroupApplicationListAsRecipient', { offset: 0, count: 20 });
    const pending = recv.find((r) => r.groupID === groupID && r.userID === 'aplapplicant');
    assert.ok(pending, `owner's application list: ${JSON.stringify(recv)}`);
    assert.equal(pending.handleResult, 0);
    assert.equal(pending.reqMsg, 'please');
    assert.equal(pending.groupName, 'Apply Group');
    assert.equal(pending.nickname, nicknameOf('aplapplicant'));
    const mine = await applicant.call('getGroupApplicationListAsApplicant', { offset: 0, count: 20 });
    assert.ok(
      mine.some((r) => r.groupID === groupID && r.userID === 'aplapplicant' && r.handleResult === 0),
      `applicant's application list: ${JSON.stringify(mine)}`,
    );
    assert.equal(await applicant.call('isJoinGroup', groupID), false);

    await owner.call('acceptGroupApplication', { groupID, fromUserID: 'aplapplicant', handleMsg: 'ok' });
    await applicant.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });
    const after = await applicant.call('getGroupApplicationListAsApplicant', { offset: 0, count: 20 });
    assert.ok(after.some((r) => r.groupID === groupID && r.handleResult === 1), `after accept: ${JSON.stringify(after)}`);
    // Handling it twice fails (1206 GroupRequestHandled).
    await assert.rejects(owner.call('acceptGroupApplication', { groupID, fromUserID: 'aplapplicant', handleMsg: 'again' }));
    // A member applying again is refused (already in the group).
    await assert.rejects(applicant.call('joinGroup', { groupID, reqMsg: 'again', joinSource: 3, ex: '' }));
  }),
);

test(
  'invalid group calls fail: a non-member sends, quitting twice, actions on a dismissed group (1204)',
  SCENARIO,
  scenario(async (w) => {
    const [owner, member, outsider] = await w.login('ivowner', 'ivmember', 'ivoutsider');
    const groupID = await createGroup(owner, { name: 'Invalid Calls', members: ['ivmember'] });
    await member.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });

    // The SDK refuses locally (10002 "user not join target group": the server's member list lacks it).
    await assert.rejects(outsider.sendGroupText(groupID, 'let me in'));

    await member.call('quitGroup', groupID);
    await member.waitFor(CbEvents.OnJoinedGroupDeleted, { groupID });
    await assert.rejects(member.call('quitGroup', groupID), 'quitting a group one is not in must fail');

    await owner.call('dismissGroup', groupID);
    await owner.waitFor(CbEvents.OnGroupDismissed, { groupID });
    await assert.rejects(owner.call('setGroupInfo', { groupID, groupName: 'Zombie' }));
    await assert.rejects(owner.call('inviteUserToGroup', { groupID, reason: '', userIDList: ['ivoutsider'] }));
    await assert.rejects(outsider.call('joinGroup', { groupID, reqMsg: 'hi', joinSource: 3, ex: '' }));
    assert.equal(outsider.seen(CbEvents.OnRecvNewMessages, (d) => d.some((m) => messageText(m) === 'let me in')).length, 0);
  }),
);

test(
  'refused group calls carry open-im-server v3.8.3\'s error (the SDK reports 10006 with the server\'s errMsg)',
  SCENARIO,
  scenario(async (w) => {
    const [owner, admin, member] = await w.login('ereowner', 'ereadmin', 'eremember');
    await w.register('ereoutsider');
    const groupID = await createGroup(owner, { name: 'Errors', members: ['eremember'], admins: ['ereadmin'] });
    await member.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });
    await admin.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });
    // Each case as group.go of v3.8.3 refuses it.
    const refused = async (client, method, args, errMsg, why) => {
      await assert.rejects(client.call(method, args), (e) => {
        assert.equal(e.errCode, 10006, `${why}: errCode ${e.errCode} ${e.errMsg}`);
        assert.equal(e.errMsg, errMsg, why);
        return true;
      });
    };
    // CreateGroup: a member that is not a registered user → ErrUserIDNotFound (1101).
    await refused(owner, 'createGroup', { memberUserIDs: ['ere-nobody'], adminUserIDs: [], groupInfo: { groupName: 'x', groupType: 2 } }, 'UserIDNotFoundError', 'unknown member');
    // KickGroupMember: oneself → ErrArgs "opUserID in KickedUserIDs"; a non-member → ErrUserIDNotFound.
    await refused(owner, 'kickGroupMember', { groupID, reason: '', userIDList: ['ereowner'] }, 'ArgsError', 'kicking oneself');
    await refused(owner, 'kickGroupMember', { groupID, reason: '', userIDList: ['ereoutsider'] }, 'UserIDNotFoundError', 'kicking a non-member');
    // QuitGroup: the owner → ErrNoPermission "group owner can't quit".
    await refused(owner, 'quitGroup', groupID, 'NoPermissionError', 'the owner quitting');
    // TransferGroupOwner: to a non-member → ErrArgs; by an admin → ErrNoPermission.
    await refused(owner, 'transferGroupOwner', { groupID, newOwnerUserID: 'ereoutsider' }, 'ArgsError', 'transfer to a non-member');
    await refused(admin, 'transferGroupOwner', { groupID, newOwnerUserID: 'eremember' }, 'NoPermissionError', 'transfer by an admin');
    // DismissGroup: anyone but the owner → ErrNoPermission "not group owner".
    await refused(admin, 'dismissGroup', groupID, 'NoPermissionError', 'dismissal by an admin');
    // JoinGroup: a group that does not exist → ErrRecordNotFound.
    await refused(member, 'joinGroup', { groupID: 'ere-no-such-group', reqMsg: '', joinSource: 3, ex: '' }, 'RecordNotFoundError', 'joining an unknown group');
    // Nothing changed.
    assert.deepEqual(await roles(owner, groupID), { ereowner: 100, ereadmin: 60, eremember: 20 });
  }),
);
