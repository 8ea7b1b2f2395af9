// support (bots/src/support.rs) driven by the real JS client: a customer
// writes to the bot privately, an agent works the ticket from the agents
// group (and privately), the customer rates the help.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIO } from '../lib/world.mjs';
import { CbEvents } from '../lib/client.mjs';
import { botScenario, from, receivedTexts, waitMessage } from '../lib/bots.mjs';

function supportToml(agentsGroup) {
  return String.raw`
[bots.support]
agents_group = "${agentsGroup}"
ticket_opened = "Ticket #{n} is open; an agent will answer here."
satisfaction_question = "Rate us 1-5."

[[bots.support.faq]]
pattern = '(?i)\bprice\b'
answer = "It is free."
`;
}

test(
  'support: FAQ answer, ticket, /claim, relay both ways (group and private), /close, rating',
  SCENARIO,
  botScenario(async (w) => {
    const [agent, customer] = await w.login('sagent', 'scust');
    await w.registerNamed('deskbot', 'Desk Bot');
    const { groupID } = await agent.call('createGroup', { memberUserIDs: ['deskbot'], adminUserIDs: [], groupInfo: { groupName: 'Agents', groupType: 2 } });
    const bot = await w.startBot('deskbot', supportToml(groupID), { nickname: 'Desk Bot' });
    const fromBot = (text) => from('deskbot', text);
    const inAgents = (text) => from('deskbot', text, { groupID });

    // FAQ: answered at once, no ticket.
    await customer.sendText('deskbot', "what's the price?");
    await waitMessage(customer, fromBot('It is free.\n(Not what you needed? Write /human to reach a person.)'));

    // Anything else opens ticket #1, announced in the agents group.
    await customer.sendText('deskbot', 'my printer is on fire');
    await waitMessage(customer, fromBot('Ticket #1 is open; an agent will answer here.'));
    await waitMessage(agent, inAgents('New ticket #1 from Nick-scust (scust): my printer is on fire — take it with /claim 1'));

    // The agent claims it; both sides are told.
    await agent.sendGroupText(groupID, '/claim 1');
    await waitMessage(agent, inAgents(/^Ticket #1 claimed by Nick-sagent\./));
    await waitMessage(customer, fromBot('Nick-sagent from our team is now handling your ticket #1.'));

    // Agent -> customer from the group ("#N text").
    await agent.sendGroupText(groupID, '#1 unplug it first');
    await waitMessage(customer, fromBot('Nick-sagent (support): unplug it first'));
    // Customer -> agent: relayed to the group, mentioning the agent.
    await customer.sendText('deskbot', 'done, still smoking');
    const relayed = await waitMessage(agent, inAgents('@Nick-sagent #1 Nick-scust: done, still smoking'));
    assert.equal(relayed.contentType, 106);
    assert.deepEqual(relayed.atTextElem?.atUserList, ['sagent']);
    // Agent -> customer privately (the bot knows the agent's active ticket).
    await agent.sendText('deskbot', 'call the fire brigade');
    await waitMessage(customer, fromBot('Nick-sagent (support): call the fire brigade'));

    // Close and rate.
    await agent.sendGroupText(groupID, '/close 1');
    await waitMessage(customer, fromBot('Ticket #1 is closed. Rate us 1-5.'));
    await waitMessage(agent, inAgents('Ticket #1 closed by Nick-sagent.'));
    await customer.sendText('deskbot', '5');
    await waitMessage(customer, fromBot('Thank you for rating ticket #1 5/5!'));
    await waitMessage(agent, inAgents('Ticket #1 (Nick-scust) was rated 5/5.'));

    // Each answer once.
    assert.deepEqual(receivedTexts(customer, fromBot()), [
      'It is free.\n(Not what you needed? Write /human to reach a person.)',
      'Ticket #1 is open; an agent will answer here.',
      'Nick-sagent from our team is now handling your ticket #1.',
      'Nick-sagent (support): unplug it first',
      'Nick-sagent (support): call the fire brigade',
      'Ticket #1 is closed. Rate us 1-5.',
      'Thank you for rating ticket #1 5/5!',
    ]);
    assert.equal(agent.seen(CbEvents.OnRecvNewMessages, (d) => d.some((m) => m.sendID === 'deskbot' && !m.groupID)).length, 0, 'the agent gets nothing privately');
    const failed = bot.actions().filter((r) => r.message !== 'action done');
    assert.deepEqual(failed.map((r) => r.fields), [], 'every action of the bot succeeded');
  }),
);

test(
  'support: out of opening hours the ticket notice says so; /human, /tickets, and the customer closing with /close',
  SCENARIO,
  botScenario(async (w) => {
    const [agent, customer] = await w.login('ohagent', 'ohcust');
    await w.registerNamed('ohdesk', 'Desk Bot');
    const { groupID } = await agent.call('createGroup', { memberUserIDs: ['ohdesk'], adminUserIDs: [], groupInfo: { groupName: 'Agents', groupType: 2 } });
    // Open only on the weekday after tomorrow (UTC): closed now, whatever the date.
    const day = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][(new Date().getUTCDay() + 2) % 7];
    const toml = `${supportToml(groupID)}
[bots.support.hours]
days = ["${day}"]
open = "09:00"
close = "17:00"
utc_offset = "+00:00"
`;
    await w.startBot('ohdesk', toml, { nickname: 'Desk Bot' });
    const fromBot = (text) => from('ohdesk', text);

    // /human opens a ticket even for an FAQ-like question; the notice tells the hours.
    await customer.sendText('ohdesk', '/human');
    const notice = await waitMessage(customer, fromBot(/^Ticket #1 is open; an agent will answer here\. We are closed right now \(opening hours: (\w+) 09:00–17:00 \(UTC\+00:00\)\); an agent will answer when we open\.$/));
    assert.ok(notice.textElem.content.includes(`hours: ${day} `), notice.textElem.content);
    await waitMessage(agent, from('ohdesk', 'New ticket #1 from Nick-ohcust (ohcust): (asked for a human) — take it with /claim 1', { groupID }));

    await agent.sendGroupText(groupID, '/tickets');
    await waitMessage(agent, from('ohdesk', 'Open tickets:\n#1 Nick-ohcust — (asked for a human) (waiting)', { groupID }));

    // The customer closes it.
    await customer.sendText('ohdesk', '/close');
    await waitMessage(customer, fromBot('Ticket #1 is closed. Rate us 1-5.'));
    await waitMessage(agent, from('ohdesk', 'Ticket #1 closed by Nick-ohcust.', { groupID }));
    await agent.sendGroupText(groupID, '/tickets');
    await waitMessage(agent, from('ohdesk', 'No open tickets.', { groupID }));
  }),
);
