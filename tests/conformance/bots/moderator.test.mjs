// moderator (bots/src/moderator.rs) driven by the real JS client, in a group
// where the bot is an admin: banned words and links are revoked with a
// warning, strikes escalate to a mute and then a kick, an admin's /unmute
// command works, and join applications are answered by their message.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIO } from '../lib/world.mjs';
import { CbEvents } from '../lib/client.mjs';
import { botScenario, from, receivedTexts, waitMessage } from '../lib/bots.mjs';

function moderatorToml(groupID) {
  return String.raw`
[bots.moderator]
groups = ["${groupID}"]
banned_words = ['(?i)\bviagra\b', '(?i)\bcasino\b']
block_links = true
allowed_domains = ["openim.io"]
mute_after = 2
mute_duration = "10m"
kick_after = 3
join_answer = '(?i)\bopenim\b'
join_refuse_message = "Wrong answer, sorry."
welcome = "Welcome {nickname}!"
rules = "Be nice."
`;
}

/** Create a group owned by `owner` with the bot as admin; resolves with its ID. */
async function moderatedGroup(owner, bot, members, { needVerification } = {}) {
  const groupInfo = { groupName: 'Moderated by a bot', groupType: 2 };
  if (needVerification !== undefined) groupInfo.needVerification = needVerification;
  // As on open-im-server, an admin is listed once (in adminUserIDs, not also in memberUserIDs).
  const group = await owner.call('createGroup', { memberUserIDs: members, adminUserIDs: [bot], groupInfo });
  return group.groupID;
}

test(
  'moderator: banned word -> revoked + warning; second strike -> muted; /unmute by the owner; third strike (a link) -> kicked',
  SCENARIO,
  botScenario(async (w) => {
    const [owner, bad, good] = await w.login('mowner', 'mbad', 'mgood');
    await w.registerNamed('modbot', 'Mod Bot');
    const groupID = await moderatedGroup(owner, 'modbot', ['mbad', 'mgood']);
    await bad.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });
    await good.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });
    const bot = await w.startBot('modbot', moderatorToml(groupID), { nickname: 'Mod Bot' });

    // A clean message and an allowed link stay.
    const clean = await good.sendGroupText(groupID, 'docs are at https://docs.openim.io/start');
    await owner.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: clean.clientMsgID });

    // Strike 1: revoked on every client (the sender's too), and a warning that mentions the member.
    const first = await bad.sendGroupText(groupID, 'cheap VIAGRA here');
    for (const c of [owner, good, bad]) {
      const ev = await c.waitFor(CbEvents.OnNewRecvMessageRevoked, { clientMsgID: first.clientMsgID });
      assert.equal(ev.data.revokerID, 'modbot', `${c.label}: revoked by the bot`);
    }
    const warned = from('modbot', /^@Nick-mbad warning, strike 1\/3 \(banned word "VIAGRA"\)/, { groupID });
    const warning = await waitMessage(bad, warned);
    assert.equal(warning.contentType, 106, 'the warning is an @-mention of the offender');
    assert.deepEqual(warning.atTextElem?.atUserList, ['mbad']);
    // (isAtSelf travels as sent, false, like every client's; SDK 0.0.14 does not recompute it,
    // it marks the conversation groupAtType AtMe instead.)
    await bad.waitFor([CbEvents.OnNewConversation, CbEvents.OnConversationChanged], (d) => d.some((c) => c.conversationID === `sg_${groupID}` && c.groupAtType === 1), { consume: false });
    await waitMessage(good, warned);

    // Strike 2: revoked, and muted for 10 minutes.
    const before = Date.now();
    const second = await bad.sendGroupText(groupID, 'casino tonight');
    await good.waitFor(CbEvents.OnNewRecvMessageRevoked, { clientMsgID: second.clientMsgID });
    const muted = await bad.waitFor(CbEvents.OnGroupMemberInfoChanged, (d) => d.groupID === groupID && d.userID === 'mbad' && d.muteEndTime > before);
    assert.ok(muted.data.muteEndTime >= before + 590_000, `muteEndTime about now + 10 min: ${muted.data.muteEndTime}`);
    await waitMessage(good, from('modbot', /^@Nick-mbad strike 2\/3 \(banned word "casino"\): muted for 10m/, { groupID }));
    await assert.rejects(bad.sendGroupText(groupID, 'let me talk'), (e) => e.errCode === 1402);

    // The owner lifts the mute with the bot's command (an @-mention of the member).
    const cmd = await owner.call('createTextAtMessage', {
      text: '/unmute @Nick-mbad',
      atUserIDList: ['mbad'],
      atUsersInfo: [{ atUserID: 'mbad', groupNickname: 'Nick-mbad' }],
    });
    await owner.call('sendMessage', { recvID: '', groupID, message: cmd });
    await bad.waitFor(CbEvents.OnGroupMemberInfoChanged, (d) => d.groupID === groupID && d.userID === 'mbad' && d.muteEndTime <= Date.now());

    // Strike 3: a link outside the allowed domains; revoked, and the member is removed.
    const third = await bad.sendGroupText(groupID, 'join www.cheap-pills.xyz now');
    await good.waitFor(CbEvents.OnNewRecvMessageRevoked, { clientMsgID: third.clientMsgID });
    await waitMessage(good, from('modbot', /^@Nick-mbad strike 3\/3 \(link to cheap-pills\.xyz\): removed from the group\.$/, { groupID }));
    await bad.waitFor(CbEvents.OnJoinedGroupDeleted, { groupID });
    await good.waitFor(CbEvents.OnGroupMemberDeleted, { groupID, userID: 'mbad' });
    const members = await owner.call('getGroupMemberList', { groupID, offset: 0, count: 100 });
    assert.deepEqual(members.map((m) => m.userID).sort(), ['mgood', 'modbot', 'mowner']);

    // Nothing else was revoked, and every action succeeded.
    assert.deepEqual(
      good.seen(CbEvents.OnNewRecvMessageRevoked).map((e) => e.data.clientMsgID),
      [first.clientMsgID, second.clientMsgID, third.clientMsgID],
    );
    const failed = bot.actions().filter((r) => r.message !== 'action done');
    assert.deepEqual(failed.map((r) => r.fields), [], 'every action of the bot succeeded');
  }),
);

test(
  'moderator: join applications with the right answer are approved (also those sent while the bot was down) and welcomed, others refused; invitees welcomed',
  SCENARIO,
  botScenario(async (w) => {
    const [owner, yes, no, late, guest] = await w.login('jmowner', 'jmyes', 'jmno', 'jmlate', 'jmguest');
    await w.registerNamed('joinbot', 'Join Bot');
    // needVerification 0: applications need an owner's or admin's approval.
    const groupID = await moderatedGroup(owner, 'joinbot', [], { needVerification: 0 });
    const bot = await w.bot('joinbot', moderatorToml(groupID), { nickname: 'Join Bot' });

    // Sent while the bot is down: answered when it starts.
    await late.call('joinGroup', { groupID, reqMsg: 'openim user here', joinSource: 3, ex: '' });
    await owner.waitFor(CbEvents.OnGroupApplicationAdded, { groupID, userID: 'jmlate', handleResult: 0 });
    await bot.start();
    await late.waitFor(CbEvents.OnGroupApplicationAccepted, { groupID, userID: 'jmlate', handleResult: 1 });
    await waitMessage(owner, from('joinbot', 'Welcome Nick-jmlate!', { groupID }));

    await yes.call('joinGroup', { groupID, reqMsg: 'I run OpenIM at work', joinSource: 3, ex: '' });
    await yes.waitFor(CbEvents.OnGroupApplicationAccepted, { groupID, userID: 'jmyes', handleResult: 1 });
    await yes.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });
    await waitMessage(owner, from('joinbot', 'Welcome Nick-jmyes!', { groupID }));

    await no.call('joinGroup', { groupID, reqMsg: 'let me in', joinSource: 3, ex: '' });
    await no.waitFor(CbEvents.OnGroupApplicationRejected, { groupID, userID: 'jmno', handleResult: -1, handledMsg: 'Wrong answer, sorry.' });
    // Invited members are welcomed too.
    await owner.call('inviteUserToGroup', { groupID, reason: 'come', userIDList: ['jmguest'] });
    await guest.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });
    await waitMessage(owner, from('joinbot', 'Welcome Nick-jmguest!', { groupID }));

    const members = await owner.call('getGroupMemberList', { groupID, offset: 0, count: 100 });
    assert.deepEqual(members.map((m) => m.userID).sort(), ['jmguest', 'jmlate', 'jmowner', 'jmyes', 'joinbot']);
    assert.equal(no.seen(CbEvents.OnJoinedGroupAdded, { groupID }).length, 0);
    assert.deepEqual(
      receivedTexts(owner, from('joinbot', undefined, { groupID })),
      ['Welcome Nick-jmlate!', 'Welcome Nick-jmyes!', 'Welcome Nick-jmguest!'],
      'one welcome each, none for the refused applicant',
    );
  }, {
    // SDK 0.0.14 bug (reproduced without bots: an owner @-mentioning a member
    // who has just joined): the member's SDK, on that first @-me message of the
    // group (here the bot's welcome), fetches the new conversation through
    // /jssdk/get_conversations with an empty operationID header, which
    // open-im-server (and the sandbox) answers with 1001 "header must have
    // operationID"; the SDK then rejects unhandled. Its other fetch succeeds.
    knownSdkBugs: [/^ArgsError\n[\s\S]*@openim\/client-sdk/],
  }),
);

test(
  'moderator: roles follow the server (a member promoted while the bot runs is exempt), flooding, strikes survive kill -9, no command acts on the owner',
  SCENARIO,
  botScenario(async (w) => {
    const [owner, promoted, noisy] = await w.login('rlowner', 'rlpromoted', 'rlnoisy');
    await w.registerNamed('rolebot', 'Role Bot');
    // The bot joins as an ordinary member and is promoted once it runs.
    const { groupID } = await owner.call('createGroup', {
      memberUserIDs: ['rolebot', 'rlpromoted', 'rlnoisy'],
      adminUserIDs: [],
      groupInfo: { groupName: 'Roles', groupType: 2 },
    });
    const toml = moderatorToml(groupID) + '\n[bots.moderator.flood]\nmax_messages = 3\nwindow = "1m"\n';
    const bot = await w.startBot('rolebot', toml, { nickname: 'Role Bot' });
    await owner.call('setGroupMemberInfo', { groupID, userID: 'rolebot', roleLevel: 60 });
    await noisy.waitFor(CbEvents.OnGroupMemberInfoChanged, { groupID, userID: 'rolebot', roleLevel: 60 });
    await owner.call('setGroupMemberInfo', { groupID, userID: 'rlpromoted', roleLevel: 60 });
    await noisy.waitFor(CbEvents.OnGroupMemberInfoChanged, { groupID, userID: 'rlpromoted', roleLevel: 60 });

    // An admin may say what members may not.
    const exempt = await promoted.sendGroupText(groupID, 'admins may say casino');
    // Flooding: the 4th message within the window is removed (strike 1).
    const sent = [];
    for (const n of [1, 2, 3, 4]) sent.push(await noisy.sendGroupText(groupID, `message ${n}`));
    await owner.waitFor(CbEvents.OnNewRecvMessageRevoked, { clientMsgID: sent[3].clientMsgID });
    await waitMessage(owner, from('rolebot', /^@Nick-rlnoisy warning, strike 1\/3 \(flooding \(4 messages in 1m\)\)/, { groupID }));
    // The group is one lane: the admin's message came first and was left alone.
    assert.deepEqual(owner.seen(CbEvents.OnNewRecvMessageRevoked).map((e) => e.data.clientMsgID), [sent[3].clientMsgID], `only the flood message was revoked, not ${exempt.clientMsgID}`);

    // Crash; the strike count is kept: the next violation is strike 2 (mute).
    await bot.kill9();
    await bot.start();
    const before = Date.now();
    const second = await noisy.sendGroupText(groupID, 'viagra');
    await owner.waitFor(CbEvents.OnNewRecvMessageRevoked, { clientMsgID: second.clientMsgID });
    await noisy.waitFor(CbEvents.OnGroupMemberInfoChanged, (d) => d.groupID === groupID && d.userID === 'rlnoisy' && d.muteEndTime > before);
    await waitMessage(owner, from('rolebot', /^@Nick-rlnoisy strike 2\/3 /, { groupID }));
    assert.equal(receivedTexts(owner, from('rolebot', /strike 1\/3/, { groupID })).length, 1, 'the first warning was not repeated after the crash');

    // An admin cannot have the bot act on the owner (as the server would refuse a mute).
    await promoted.sendGroupText(groupID, '/mute @rlowner 10m');
    await waitMessage(owner, from('rolebot', 'rlowner is the group owner: /mute does not apply to them.', { groupID }));
  }),
);

test(
  'moderator: the bot runs first; the group it moderates is created afterwards (explicit groupID, bot as admin) and is moderated at once',
  SCENARIO,
  botScenario(async (w) => {
    const bot = await w.startBot('firstbot', moderatorToml('later-group'), { nickname: 'First Bot' });
    const [owner, member] = await w.login('lgowner', 'lgmember');
    await owner.call('createGroup', {
      memberUserIDs: ['lgmember'],
      adminUserIDs: ['firstbot'],
      groupInfo: { groupID: 'later-group', groupName: 'Later', groupType: 2 },
    });
    await member.waitFor(CbEvents.OnJoinedGroupAdded, { groupID: 'later-group' });
    const bad = await member.sendGroupText('later-group', 'casino!');
    await owner.waitFor(CbEvents.OnNewRecvMessageRevoked, { clientMsgID: bad.clientMsgID });
    await waitMessage(owner, from('firstbot', /^@Nick-lgmember warning, strike 1\/3/, { groupID: 'later-group' }));
    // The owner is not moderated.
    const fine = await owner.sendGroupText('later-group', 'owners may mention the casino');
    await member.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: fine.clientMsgID });
    await owner.sendGroupText('later-group', '/rules');
    await waitMessage(member, from('firstbot', 'Rules: Be nice.', { groupID: 'later-group' }));
    assert.deepEqual(owner.seen(CbEvents.OnNewRecvMessageRevoked).map((e) => e.data.clientMsgID), [bad.clientMsgID]);
    const failed = bot.actions().filter((r) => r.message !== 'action done');
    assert.deepEqual(failed.map((r) => r.fields), [], 'every action of the bot succeeded');
  }),
);

test(
  'moderator: the same text repeated is removed; /strikes and /kick from the owner (@-mention of the member)',
  SCENARIO,
  botScenario(async (w) => {
    const [owner, parrot, other] = await w.login('rpowner', 'rpparrot', 'rpother');
    await w.registerNamed('rpbot', 'Repeat Bot');
    const groupID = await moderatedGroup(owner, 'rpbot', ['rpparrot', 'rpother']);
    await parrot.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });
    await other.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });
    const toml = moderatorToml(groupID) + '\n[bots.moderator.repeat]\nmax_repeats = 3\nwindow = "1m"\n';
    await w.startBot('rpbot', toml, { nickname: 'Repeat Bot' });

    const copies = [];
    for (let i = 0; i < 3; i++) copies.push(await parrot.sendGroupText(groupID, 'Follow me!'));
    await other.waitFor(CbEvents.OnNewRecvMessageRevoked, { clientMsgID: copies[2].clientMsgID });
    await waitMessage(other, from('rpbot', /^@Nick-rpparrot warning, strike 1\/3 \(the same message 3 times\)/, { groupID }));

    const mention = async (text) => {
      const m = await owner.call('createTextAtMessage', {
        text,
        atUserIDList: ['rpparrot'],
        atUsersInfo: [{ atUserID: 'rpparrot', groupNickname: 'Nick-rpparrot' }],
      });
      return owner.call('sendMessage', { recvID: '', groupID, message: m });
    };
    await mention('/strikes @Nick-rpparrot');
    await waitMessage(other, from('rpbot', 'rpparrot has 1/3 strikes (last: the same message 3 times).', { groupID }));
    await mention('/kick @Nick-rpparrot spamming');
    await parrot.waitFor(CbEvents.OnJoinedGroupDeleted, { groupID });
    await other.waitFor(CbEvents.OnGroupMemberDeleted, { groupID, userID: 'rpparrot' });
    assert.deepEqual(other.seen(CbEvents.OnNewRecvMessageRevoked).map((e) => e.data.clientMsgID), [copies[2].clientMsgID], 'only the third copy was removed');
  }),
);

test(
  'moderator: demoted, the bot says so and what it cannot enforce (its revokes refused) is not held against the member; removed, it says so',
  SCENARIO,
  botScenario(async (w) => {
    const [owner, bad] = await w.login('dmowner', 'dmbad');
    await w.registerNamed('dmbot', 'Demoted Bot');
    const groupID = await moderatedGroup(owner, 'dmbot', ['dmbad']);
    await bad.waitFor(CbEvents.OnJoinedGroupAdded, { groupID });
    const bot = await w.startBot('dmbot', moderatorToml(groupID), { nickname: 'Demoted Bot' });

    // Demoted to member: three banned words, each revoke refused (logged), no strike or warning.
    await owner.call('setGroupMemberInfo', { groupID, userID: 'dmbot', roleLevel: 20 });
    await bad.waitFor(CbEvents.OnGroupMemberInfoChanged, { groupID, userID: 'dmbot', roleLevel: 20 });
    await bot.waitLog((r) => /no longer an owner or admin of this moderated group/.test(r.message) && r.fields.group === groupID, { what: 'the demotion warning' });
    const since = bot.records.length;
    for (const n of [1, 2, 3]) {
      await bad.sendGroupText(groupID, `casino ${n}`);
      await bot.waitLog((r) => r.message === 'action failed' && /^revoke message/.test(String(r.fields.action)) && r.seq >= since && bot.actions({ since }).length >= n, { what: `revoke ${n} refused` });
    }
    assert.deepEqual(
      bot.actions({ since }).map((r) => [r.message, String(r.fields.action).split(' ')[0]]),
      [['action failed', 'revoke'], ['action failed', 'revoke'], ['action failed', 'revoke']],
      'nothing but the three refused revokes',
    );

    // An admin again: the next violation is the member's first strike.
    await owner.call('setGroupMemberInfo', { groupID, userID: 'dmbot', roleLevel: 60 });
    await bad.waitFor(CbEvents.OnGroupMemberInfoChanged, { groupID, userID: 'dmbot', roleLevel: 60 });
    const fourth = await bad.sendGroupText(groupID, 'casino 4');
    await owner.waitFor(CbEvents.OnNewRecvMessageRevoked, { clientMsgID: fourth.clientMsgID });
    await waitMessage(owner, from('dmbot', /^@Nick-dmbad warning, strike 1\/3 /, { groupID }));
    assert.equal(receivedTexts(owner, from('dmbot', /strike/, { groupID })).length, 1, 'one notice, strike 1');

    // Removed from the group: the bot says the group is no longer moderated.
    await owner.call('kickGroupMember', { groupID, userIDList: ['dmbot'], reason: 'bye' });
    await bot.waitLog((r) => /no longer moderated: the bot was removed from it/.test(r.message) && r.fields.group === groupID, { what: 'the removal warning' });
  }),
);
