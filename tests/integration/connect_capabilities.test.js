'use strict';
// A connected account's capabilities through stripe-node: listed and retrieved as Stripe's
// Capability objects (unrequested ones too), asked for and withdrawn through
// POST /v1/accounts/{id}/capabilities/{capability} with account.updated and capability.updated,
// their status following onboarding; refused for an unknown capability, another platform's
// account, or the account acting as itself.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, assertStripeShape } = require('./helpers');

let env;
let stripe;

before(async () => {
  env = await startTender({ merchants: 2, args: ['--rate-limit', '0'] });
  stripe = env.stripe();
});
after(stopAll);

const as = (id) => ({ stripeAccount: id });

test('list, retrieve, request and withdraw; events; statuses follow onboarding', async () => {
  const acct = await stripe.accounts.create({ type: 'express', country: 'US', capabilities: { transfers: { requested: true } } });
  const list = await stripe.accounts.listCapabilities(acct.id);
  assert.equal(list.object, 'list');
  assert.equal(list.url, `/v1/accounts/${acct.id}/capabilities`);
  assert.equal(list.has_more, false);
  const byId = Object.fromEntries(list.data.map((c) => [c.id, c]));
  assert.deepEqual(Object.keys(byId).sort(), ['card_payments', 'transfers']);
  for (const c of list.data) {
    assertStripeShape(c, 'capability');
    assert.equal(c.account, acct.id);
  }
  assert.equal(byId.transfers.status, 'inactive'); // onboarding owes things
  assert.equal(byId.transfers.requested, true);
  assert.equal(byId.transfers.requested_at, acct.created);
  assert.ok(byId.transfers.requirements.currently_due.length > 0);
  assert.equal(byId.card_payments.status, 'unrequested');
  assert.equal(byId.card_payments.requested, false);
  assert.equal(byId.card_payments.requested_at, null);
  assert.deepEqual(byId.card_payments.requirements.currently_due, []);
  assert.deepEqual(await stripe.accounts.retrieveCapability(acct.id, 'transfers'), byId.transfers);

  const asked = await stripe.accounts.updateCapability(acct.id, 'card_payments', { requested: true });
  assertStripeShape(asked, 'capability');
  assert.equal(asked.requested, true);
  assert.equal(asked.status, 'inactive');
  const a2 = await stripe.accounts.retrieve(acct.id);
  assert.deepEqual(a2.capabilities, { card_payments: 'inactive', transfers: 'inactive' });
  const capEv = (await stripe.events.list({ type: 'capability.updated', limit: 10 }, as(acct.id))).data;
  assert.equal(capEv.length, 1);
  assert.equal(capEv[0].data.object.id, 'card_payments');
  const upd = (await stripe.events.list({ type: 'account.updated', limit: 10 })).data.find((e) => e.data.object.id === acct.id);
  assert.deepEqual(upd.data.previous_attributes.capabilities, { card_payments: null }); // it had none

  // withdrawn: requested false (its status stays what onboarding makes it), with its event
  const off = await stripe.accounts.updateCapability(acct.id, 'card_payments', { requested: false });
  assert.equal(off.requested, false);
  assert.equal(off.requested_at, null);
  assert.equal(off.status, 'inactive');
  const capEv2 = (await stripe.events.list({ type: 'capability.updated', limit: 10 }, as(acct.id))).data;
  assert.equal(capEv2.length, 2);
  assert.deepEqual(capEv2[0].data.previous_attributes, { requested: true });
  assert.equal(capEv2[0].data.object.requested, false);
  assert.deepEqual(capEv[0].data.previous_attributes, { requested: false, status: 'unrequested' });

  // a Custom account owes nothing: what it asks for is active at once
  const custom = await stripe.accounts.create({ type: 'custom', country: 'US', capabilities: { transfers: { requested: true } }, tos_acceptance: { date: 1700000000, ip: '127.0.0.1' } });
  const cp = await stripe.accounts.updateCapability(custom.id, 'card_payments', { requested: true });
  assert.equal(cp.status, 'active');
});

test('refused: an unknown capability, another platform\'s account, the account itself', async () => {
  const acct = await stripe.accounts.create({ type: 'express', country: 'US' });
  await assert.rejects(stripe.accounts.retrieveCapability(acct.id, 'klarna_payments'),
    (e) => e.statusCode === 404 && e.code === 'resource_missing' && e.param === 'capability');
  await assert.rejects(stripe.accounts.updateCapability(acct.id, 'klarna_payments', { requested: true }),
    (e) => e.statusCode === 404);
  await assert.rejects(stripe.accounts.updateCapability(acct.id, 'transfers', { requested: 'maybe' }),
    (e) => e.statusCode === 400 && e.param === 'requested');
  const other = env.stripe(env.merchants[1].secret_key);
  await assert.rejects(other.accounts.listCapabilities(acct.id), (e) => e.statusCode === 404);
  await assert.rejects(other.accounts.updateCapability(acct.id, 'transfers', { requested: true }), (e) => e.statusCode === 404);
  // the account itself reads its capabilities, but asking is its platform's
  const own = await stripe.accounts.listCapabilities(acct.id, {}, as(acct.id));
  assert.equal(own.data.length, 2);
  await assert.rejects(stripe.accounts.updateCapability(acct.id, 'transfers', { requested: true }, as(acct.id)),
    (e) => e.statusCode === 400);
  assert.equal((await stripe.accounts.retrieveCapability(acct.id, 'transfers')).status, 'unrequested');
});
