// Group scenarios: create + invite + group text, join with approval
// (accepted / rejected), kick and mute. Spec references: CLIENT-SURFACE.md
// §6.2 (group send), §6.7 (join), §7 (1501, 1503-1510, 1512); http-api.md
// §5.3 (group routes), §9 (1402 MutedInGroup).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIO, scenario } from '../lib/world.mjs';
import { CbEvents, messageText } from '../lib/client.mjs';

async function createGroup(owner, { name, members = [], needVerification }) {
  const groupInfo = { groupName: name, groupType: 2 };
  if (needVerification !== undefined) groupInfo.needVerification = needVerification;
  const group = await owner.call('createGroup', { memberUserIDs: members, adminUserIDs: [], groupInfo });
  assert.ok(group && group.groupID, `createGroup must return groupInfo with a groupID: ${JSON.stringify(group)}`);
  assert.equal(group.groupName, name);
  assert.equal(group.ownerUserID, owner.userID);
  return group;
}

async function memberIDs(client, groupID) {
  const members = await client.call('getGroupMemberList', { groupID, offset: 0, count: 100 });
  return new Map(members.map((m) => [m.userID, m]));
}

test(
  'group create, invite, and a group text reaches every member',
  SCENARIO,
  scenario(async (w) => {
    const [owner, m1, m2] = await w.login('gowner', 'gmember1', 'gmember2');
    const group = await createGroup(owner, { name: 'Conformance Group', members: ['gmember1'] });
    const { groupID } = group;
    assert.equal(group.memberCount, 2);

    // 1501 GroupCreated → every member, the creator included, resyncs its
    // joined groups (version log insert) and reports the group.
    await m1.waitFor(CbEvents.OnJoinedGroupAdded, { groupID, groupName: 'Conformance Group', ownerUserID: 'gowner' });
    await owner.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });

    await owner.call('inviteUserToGroup', { groupID, reason: 'join us', userIDList: ['gmember2'] });
    await m2.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });
    await m1.waitFor(CbEvents.OnGroupMemberAdded, { groupID, userID: 'gmember2' });

    const members = await memberIDs(owner, groupID);
    assert.deepEqual([...members.keys()].sort(), ['gmember1', 'gmember2', 'gowner']);
    assert.equal(members.get('gowner').roleLevel, 100);
    assert.equal(members.get('gmember1').roleLevel, 20);
    assert.equal(members.get('gmember2').roleLevel, 20);
    const joined = await m2.call('getJoinedGroupListPage', { offset: 0, count: 50 });
    assert.ok(joined.some((g) => g.groupID === groupID), 'the invitee lists the group as joined');

    // Owner -> group.
    const sent = await owner.sendGroupText(groupID, 'hello group');
    assert.equal(sent.status, 2);
    assert.equal(sent.sessionType, 3);
    assert.equal(sent.groupID, groupID);
    for (const m of [m1, m2]) {
      const ev = await m.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: sent.clientMsgID });
      const msg = ev.data.find((x) => x.clientMsgID === sent.clientMsgID);
      assert.equal(msg.sendID, 'gowner');
      assert.equal(msg.groupID, groupID);
      assert.equal(msg.sessionType, 3);
      assert.equal(messageText(msg), 'hello group');
      await m.waitFor([CbEvents.OnNewConversation, CbEvents.OnConversationChanged], { conversationID: `sg_${groupID}`, conversationType: 3, groupID });
    }

    // The invited member -> group: reaches the owner and the other member.
    const back = await m2.sendGroupText(groupID, 'hi from member 2');
    assert.equal(back.status, 2);
    for (const m of [owner, m1]) {
      const ev = await m.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: back.clientMsgID });
      const msg = ev.data.find((x) => x.clientMsgID === back.clientMsgID);
      assert.equal(msg.sendID, 'gmember2');
      assert.equal(msg.groupID, groupID);
      assert.equal(messageText(msg), 'hi from member 2');
    }
  }),
);

test(
  'join a group with approval: accepted, and rejected',
  SCENARIO,
  scenario(async (w) => {
    const [owner, yes, no] = await w.login('jowner', 'jaccepted', 'jrejected');
    // needVerification 0: applications need approval, invitations do not.
    const { groupID } = await createGroup(owner, { name: 'Approval Group', needVerification: 0 });

    // Accepted.
    await yes.call('joinGroup', { groupID, reqMsg: 'let me in', joinSource: 3, ex: '' });
    await yes.waitFor(CbEvents.OnGroupApplicationAdded, { groupID, userID: 'jaccepted', reqMsg: 'let me in', handleResult: 0 });
    await owner.waitFor(CbEvents.OnGroupApplicationAdded, { groupID, userID: 'jaccepted', reqMsg: 'let me in', handleResult: 0 });
    assert.ok(!(await memberIDs(owner, groupID)).has('jaccepted'), 'an application must not make the applicant a member');
    // Only the applicant hears OnGroupApplicationAccepted/Rejected: for the
    // handler, SDK 0.0.14 looks up the handler's own request (its userID, or
    // opUser from 1505/1506 tips), which does not exist on a real server either.
    await owner.call('acceptGroupApplication', { groupID, fromUserID: 'jaccepted', handleMsg: 'welcome' });
    await yes.waitFor(CbEvents.OnGroupApplicationAccepted, { groupID, userID: 'jaccepted', handleResult: 1, handledMsg: 'welcome' });
    await yes.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });
    await owner.waitFor(CbEvents.OnGroupMemberAdded, { groupID, userID: 'jaccepted' });

    // Rejected.
    await no.call('joinGroup', { groupID, reqMsg: 'me too', joinSource: 3, ex: '' });
    await owner.waitFor(CbEvents.OnGroupApplicationAdded, { groupID, userID: 'jrejected', reqMsg: 'me too', handleResult: 0 });
    await owner.call('refuseGroupApplication', { groupID, fromUserID: 'jrejected', handleMsg: 'sorry' });
    await no.waitFor(CbEvents.OnGroupApplicationRejected, { groupID, userID: 'jrejected', handleResult: -1, handledMsg: 'sorry' });

    const members = await memberIDs(owner, groupID);
    assert.deepEqual([...members.keys()].sort(), ['jaccepted', 'jowner']);
    assert.equal(no.seen(CbEvents.OnJoinedGroupAdded, { groupID }).length, 0, 'a rejected applicant must not join');
    // The accepted member can talk in the group.
    const hello = await yes.sendGroupText(groupID, 'thanks');
    await owner.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: hello.clientMsgID });
  }),
);

test(
  'kick and mute: a muted member cannot send (1402), a kicked member leaves',
  SCENARIO,
  scenario(async (w) => {
    const [owner, muted, kicked] = await w.login('kowner', 'kmuted', 'kkicked');
    const { groupID } = await createGroup(owner, { name: 'Moderated Group', members: ['kmuted', 'kkicked'] });
    await muted.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });
    await kicked.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });

    // Mute.
    const before = Date.now();
    await owner.call('changeGroupMemberMute', { groupID, userID: 'kmuted', mutedSeconds: 600 });
    const changed = await muted.waitFor(CbEvents.OnGroupMemberInfoChanged, { groupID, userID: 'kmuted' });
    assert.ok(changed.data.muteEndTime >= before + 590 * 1000, `muteEndTime must be about now + 600 s (ms): ${changed.data.muteEndTime}`);
    await assert.rejects(muted.sendGroupText(groupID, 'can I speak?'), (e) => {
      assert.equal(e.errCode, 1402, `a muted member's send must fail with 1402 MutedInGroup, got ${e.errCode}: ${e.errMsg}`);
      return true;
    });
    // Others still can.
    const ok = await kicked.sendGroupText(groupID, 'not muted');
    await owner.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: ok.clientMsgID });
    assert.equal(owner.seen(CbEvents.OnRecvNewMessages, (d) => d.some((m) => messageText(m) === 'can I speak?')).length, 0, 'the muted text must not be delivered');

    // Kick.
    await owner.call('kickGroupMember', { groupID, reason: 'bye', userIDList: ['kkicked'] });
    await kicked.waitFor(CbEvents.OnJoinedGroupDeleted, { groupID });
    await muted.waitFor(CbEvents.OnGroupMemberDeleted, { groupID, userID: 'kkicked' });
    const members = await memberIDs(owner, groupID);
    assert.deepEqual([...members.keys()].sort(), ['kmuted', 'kowner']);
    await assert.rejects(kicked.sendGroupText(groupID, 'still here?'), 'a kicked member must not be able to send to the group');
  }),
);

test(
  'group mute: ordinary members get 1403, the owner can still send',
  SCENARIO,
  scenario(async (w) => {
    const [owner, member] = await w.login('mgowner', 'mgmember');
    const { groupID } = await createGroup(owner, { name: 'Muted Group', members: ['mgmember'] });
    await member.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });

    await owner.call('changeGroupMute', { groupID, isMute: true });
    // 1514 GroupMuted → OnGroupInfoChanged with status 3 (muted).
    await member.waitFor(CbEvents.OnGroupInfoChanged, { groupID, status: 3 });
    await assert.rejects(member.sendGroupText(groupID, 'hello?'), (e) => {
      assert.equal(e.errCode, 1403, `a member's send in a muted group must fail with 1403 MutedGroup, got ${e.errCode}: ${e.errMsg}`);
      return true;
    });
    const fromOwner = await owner.sendGroupText(groupID, 'owner speaks');
    await member.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: fromOwner.clientMsgID });

    await owner.call('changeGroupMute', { groupID, isMute: false });
    await member.waitFor(CbEvents.OnGroupInfoChanged, { groupID, status: 0 });
    const again = await member.sendGroupText(groupID, 'back again');
    await owner.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: again.clientMsgID });
  }),
);

test(
  'group info and member info changes reach the members',
  SCENARIO,
  scenario(async (w) => {
    const [owner, member] = await w.login('iowner', 'imember');
    const { groupID } = await createGroup(owner, { name: 'Old Name', members: ['imember'] });
    await member.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });

    // set_group_info_ex: name (1520) and announcement (1519).
    await owner.call('setGroupInfo', { groupID, groupName: 'New Name' });
    await member.waitFor(CbEvents.OnGroupInfoChanged, { groupID, groupName: 'New Name' });
    await owner.call('setGroupInfo', { groupID, notification: 'Be nice.' });
    await member.waitFor(CbEvents.OnGroupInfoChanged, { groupID, notification: 'Be nice.' });
    const [info] = await member.call('getSpecifiedGroupsInfo', [groupID]);
    assert.equal(info?.groupName, 'New Name', `getSpecifiedGroupsInfo: ${JSON.stringify(info)}`);
    assert.equal(info?.notification, 'Be nice.');

    // set_group_member_info: a member's group nickname (1516), and promotion to admin (1517).
    await member.call('setGroupMemberInfo', { groupID, userID: 'imember', nickname: 'Member In Group' });
    await owner.waitFor(CbEvents.OnGroupMemberInfoChanged, { groupID, userID: 'imember', nickname: 'Member In Group' });
    await owner.call('setGroupMemberInfo', { groupID, userID: 'imember', roleLevel: 60 });
    await member.waitFor(CbEvents.OnGroupMemberInfoChanged, { groupID, userID: 'imember', roleLevel: 60 });
    // Server state (getGroupMemberList always asks the server; the SDK's
    // member cache is its own business).
    const me = (await memberIDs(owner, groupID)).get('imember');
    assert.equal(me?.roleLevel, 60, `get_group_member_list: ${JSON.stringify(me)}`);
    assert.equal(me?.nickname, 'Member In Group');
  }),
);

test(
  'group unread counts and mark as read, stored on the server',
  SCENARIO,
  scenario(async (w) => {
    const [owner, member] = await w.login('uowner', 'umember');
    const { groupID } = await createGroup(owner, { name: 'Unread Group', members: ['umember'] });
    await member.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });
    const conv = `sg_${groupID}`;
    for (const text of ['one', 'two', 'three']) {
      const m = await owner.sendGroupText(groupID, text);
      await member.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: m.clientMsgID });
    }
    const unreadBefore = (await member.conversations()).find((c) => c.conversationID === conv)?.unreadCount;
    assert.ok(unreadBefore >= 3, `3 group texts (plus any visible tips) must be unread, got ${unreadBefore}`);

    await member.call('markConversationMessageAsRead', conv);
    await member.waitFor(CbEvents.OnConversationChanged, (d) => d.some((c) => c.conversationID === conv && c.unreadCount === 0));
    const fresh = await (await w.client('umember', { label: 'umember#fresh' })).login();
    assert.equal((await fresh.conversations()).find((c) => c.conversationID === conv)?.unreadCount, 0, 'the group read pointer must be stored');
  }),
);
