// Notification accounts (appMangerLevel 3): created, renamed and found by an
// admin, then used to send an OA notification (content type 1400, session
// type 4) that a real client receives in its notification conversation.
// Spec references: http-api.md §5.1 (add/update/search_notification_account),
// §5.4 (send_msg 1400); CLIENT-SURFACE.md §6.3.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIO, scenario } from '../lib/world.mjs';
import { CbEvents } from '../lib/client.mjs';

test(
  'notification accounts: add (generated and given IDs), update, search; an OA notification reaches a client',
  SCENARIO,
  scenario(async (w) => {
    const [alice] = await w.login('naalice');
    const gen = await w.sandbox.adminPost('/user/add_notification_account', { userID: '', nickName: 'System News', faceURL: 'https://img.example/news.png', appMangerLevel: 3 });
    assert.match(gen.userID, /^\d{10}$/, `generated ID: ${JSON.stringify(gen)}`);
    assert.equal(gen.nickName, 'System News');
    assert.equal(gen.appMangerLevel, 3);
    const given = await w.sandbox.adminPost('/user/add_notification_account', { userID: 'na_billing', nickName: 'Billing', faceURL: '', appMangerLevel: 3 });
    assert.equal(given.userID, 'na_billing');
    // Invalid: level below 3, an existing ID, a non-admin caller.
    await assert.rejects(w.sandbox.adminPost('/user/add_notification_account', { userID: 'na_low', nickName: 'Low', faceURL: '', appMangerLevel: 1 }), (e) => e.errCode === 1001);
    await assert.rejects(w.sandbox.adminPost('/user/add_notification_account', { userID: 'na_billing', nickName: 'Again', faceURL: '', appMangerLevel: 3 }), (e) => e.errCode === 1001);
    await assert.rejects(
      w.sandbox.post('/user/add_notification_account', { userID: 'na_x', nickName: 'X', faceURL: '', appMangerLevel: 3 }, { token: alice.token }),
      (e) => e.errCode === 1002,
    );

    await w.sandbox.adminPost('/user/update_notification_account', { userID: 'na_billing', nickName: 'Billing Team', faceURL: '' });
    await assert.rejects(w.sandbox.adminPost('/user/update_notification_account', { userID: 'na_nobody', nickName: 'N', faceURL: '' }), (e) => e.errCode === 1001);

    const all = await w.sandbox.adminPost('/user/search_notification_account', { keyword: '', pagination: { pageNumber: 1, showNumber: 10 } });
    assert.equal(all.total, 2, `all notification accounts (not ordinary users, not the admin): ${JSON.stringify(all)}`);
    assert.deepEqual(all.notificationAccounts.map((a) => a.userID).sort(), [gen.userID, 'na_billing'].sort());
    const byName = await w.sandbox.adminPost('/user/search_notification_account', { keyword: 'Billing Team', pagination: { pageNumber: 1, showNumber: 10 } });
    assert.deepEqual(byName.notificationAccounts.map((a) => a.userID), ['na_billing']);
    const byID = await w.sandbox.adminPost('/user/search_notification_account', { keyword: gen.userID, pagination: { pageNumber: 1, showNumber: 10 } });
    assert.deepEqual(byID.notificationAccounts.map((a) => [a.userID, a.nickName, a.faceURL]), [[gen.userID, 'System News', 'https://img.example/news.png']]);
    assert.equal((await w.sandbox.adminPost('/user/search_notification_account', { keyword: 'naalice', pagination: { pageNumber: 1, showNumber: 10 } })).total, 0);

    // The account sends an OA notification to alice.
    const oa = { notificationName: 'Billing Team', notificationFaceURL: '', notificationType: 1, text: 'Your invoice is ready', url: 'https://billing.example/1', mixType: 0 };
    const sent = await w.sandbox.adminPost('/msg/send_msg', { sendID: 'na_billing', recvID: 'naalice', senderNickname: 'Billing Team', senderFaceURL: '', senderPlatformID: 0, content: oa, contentType: 1400, sessionType: 4, isOnlineOnly: false, notOfflinePush: false });
    const got = (await alice.waitFor(CbEvents.OnRecvNewMessages, { clientMsgID: sent.clientMsgID })).data.find((m) => m.clientMsgID === sent.clientMsgID);
    assert.equal(got.contentType, 1400);
    assert.equal(got.sessionType, 4);
    assert.equal(got.sendID, 'na_billing');
    const detail = JSON.parse(got.notificationElem?.detail ?? '{}');
    assert.equal(detail.text, 'Your invoice is ready');
  }),
);
