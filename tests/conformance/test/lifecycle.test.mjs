// More of the surface a bot framework relies on: group quit / owner transfer /
// dismiss, blacklist, profile changes seen by friends, @-mentions and custom
// messages. Spec references: CLIENT-SURFACE.md §7 (1504, 1507, 1511, 1207,
// 1208, 1209, 1303), Appendix A; http-api.md §5.1-§5.3, §9 (1302).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIO, scenario, nicknameOf } from '../lib/world.mjs';
import { CbEvents, messageText, befriend } from '../lib/client.mjs';

async function createGroup(owner, name, members) {
  const group = await owner.call('createGroup', { memberUserIDs: members, adminUserIDs: [], groupInfo: { groupName: name, groupType: 2 } });
  assert.ok(group?.groupID, `createGroup: ${JSON.stringify(group)}`);
  return group.groupID;
}

async function memberRoles(client, groupID) {
  const members = await client.call('getGroupMemberList', { groupID, offset: 0, count: 100 });
  return Object.fromEntries(members.map((m) => [m.userID, m.roleLevel]));
}

test(
  'group quit, owner transfer and dismiss',
  SCENARIO,
  scenario(async (w) => {
    const [owner, leaver, heir] = await w.login('lowner', 'lleaver', 'lheir');
    const groupID = await createGroup(owner, 'Lifecycle Group', ['lleaver', 'lheir']);
    await leaver.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });
    await heir.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });

    // Quit (1504): the leaver's joined groups lose it, the others lose the member.
    await leaver.call('quitGroup', groupID);
    await leaver.waitFor(CbEvents.OnJoinedGroupDeleted, { groupID });
    await owner.waitFor(CbEvents.OnGroupMemberDeleted, { groupID, userID: 'lleaver' });
    await heir.waitFor(CbEvents.OnGroupMemberDeleted, { groupID, userID: 'lleaver' });
    assert.deepEqual(await memberRoles(owner, groupID), { lowner: 100, lheir: 20 });
    // The owner cannot quit (1002 on a real server; the SDK reports 10006).
    await assert.rejects(owner.call('quitGroup', groupID));

    // Transfer (1507): roles swap, the group's owner changes.
    await owner.call('transferGroupOwner', { groupID, newOwnerUserID: 'lheir' });
    await heir.waitFor(CbEvents.OnGroupMemberInfoChanged, { groupID, userID: 'lheir', roleLevel: 100 });
    await heir.waitFor(CbEvents.OnGroupMemberInfoChanged, { groupID, userID: 'lowner', roleLevel: 20 });
    await heir.waitFor(CbEvents.OnGroupInfoChanged, { groupID, ownerUserID: 'lheir' });
    assert.deepEqual(await memberRoles(heir, groupID), { lowner: 20, lheir: 100 });
    // The old owner has lost the right to dismiss.
    await assert.rejects(owner.call('dismissGroup', groupID));

    // Dismiss (1511) by the new owner.
    await heir.call('dismissGroup', groupID);
    await owner.waitFor(CbEvents.OnGroupDismissed, { groupID });
    await assert.rejects(owner.sendGroupText(groupID, 'anyone?'), 'nobody can send to a dismissed group');
  }),
);

test(
  'blacklist: a blocked user gets 1302, unblocking restores delivery',
  SCENARIO,
  scenario(async (w) => {
    const [blocker, blocked] = await w.login('bblocker', 'bblocked');
    await blocker.call('addBlack', { toUserID: 'bblocked', ex: '' });
    await blocker.waitFor(CbEvents.OnBlackAdded, { userID: 'bblocked' });
    const list = await blocker.call('getBlackList', { offset: 0, count: 50 });
    assert.deepEqual(
      list.map((b) => b.userID),
      ['bblocked'],
    );
    await assert.rejects(blocked.sendText('bblocker', 'let me talk'), (e) => {
      assert.equal(e.errCode, 1302, `a message to a user who blocked the sender must fail with 1302 BlockedByPeer, got ${e.errCode}: ${e.errMsg}`);
      return true;
    });
    assert.equal(blocked.seen(CbEvents.OnBlackAdded).length, 0, 'blocking is invisible to the blocked user');
    // One way only (v3.8.3 msg verify: IsBlack(sendID, recvID) asks whether the sender is on
    // the recipient's list): the blocker still reaches the blocked user.
    const oneWay = await blocker.sendText('bblocked', 'I can still write to you');
    await blocked.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: oneWay.clientMsgID });

    await blocker.call('removeBlack', 'bblocked');
    await blocker.waitFor(CbEvents.OnBlackDeleted, { userID: 'bblocked' });
    assert.deepEqual(await blocker.call('getBlackList', { offset: 0, count: 50 }), []);
    const ok = await blocked.sendText('bblocker', 'thanks');
    await blocker.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: ok.clientMsgID });
    assert.equal(blocker.seen(CbEvents.OnRecvNewMessages, (d) => d.some((m) => messageText(m) === 'let me talk')).length, 0);
  }),
);

test(
  'profile change: OnSelfInfoUpdated for the user, OnFriendInfoChanged for a friend',
  SCENARIO,
  scenario(async (w) => {
    const [me, friend] = await w.login('pme', 'pfriend');
    await befriend(me, friend);

    await me.call('setSelfInfo', { nickname: 'Renamed Me' });
    await me.waitFor(CbEvents.OnSelfInfoUpdated, { userID: 'pme', nickname: 'Renamed Me' });
    assert.equal((await me.call('getSelfUserInfo')).nickname, 'Renamed Me');
    // 1209 FriendInfoUpdated → the friend's incremental friend sync reports the update.
    await friend.waitFor(CbEvents.OnFriendInfoChanged, { userID: 'pme', nickname: 'Renamed Me' });
    const info = await friend.call('getUsersInfo', ['pme']);
    assert.equal(info[0]?.nickname, 'Renamed Me', `getUsersInfo: ${JSON.stringify(info)}`);
    // A message sent afterwards carries the new name.
    const m = await me.sendText('pfriend', 'new name, same me');
    const got = await friend.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: m.clientMsgID });
    assert.equal(got.data.find((x) => x.clientMsgID === m.clientMsgID).senderNickname, 'Renamed Me');
    assert.notEqual(nicknameOf('pme'), 'Renamed Me');
  }),
);

test(
  '@-mention and custom messages round-trip with their elements',
  SCENARIO,
  scenario(async (w) => {
    const [owner, member] = await w.login('aowner', 'amember');
    const groupID = await createGroup(owner, 'Mention Group', ['amember']);
    await member.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });

    const at = await owner.call('createTextAtMessage', {
      text: '@amember please look',
      atUserIDList: ['amember'],
      atUsersInfo: [{ atUserID: 'amember', groupNickname: 'amember' }],
    });
    const sentAt = await owner.call('sendMessage', { recvID: '', groupID, message: at });
    assert.equal(sentAt.contentType, 106);
    const gotAt = (await member.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: sentAt.clientMsgID })).data.find((m) => m.clientMsgID === sentAt.clientMsgID);
    assert.equal(gotAt.contentType, 106);
    assert.equal(gotAt.atTextElem?.text, '@amember please look');
    assert.deepEqual(gotAt.atTextElem?.atUserList, ['amember']);

    const custom = await owner.call('createCustomMessage', { data: '{"kind":"vote","id":7}', extension: 'ext', description: 'a vote' });
    const sentCustom = await owner.call('sendMessage', { recvID: 'amember', groupID: '', message: custom });
    const gotCustom = (await member.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: sentCustom.clientMsgID })).data.find(
      (m) => m.clientMsgID === sentCustom.clientMsgID,
    );
    assert.equal(gotCustom.contentType, 110);
    assert.equal(gotCustom.sessionType, 1);
    assert.deepEqual(
      { data: gotCustom.customElem?.data, extension: gotCustom.customElem?.extension, description: gotCustom.customElem?.description },
      { data: '{"kind":"vote","id":7}', extension: 'ext', description: 'a vote' },
    );
  }),
);
