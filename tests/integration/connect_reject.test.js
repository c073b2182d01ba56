'use strict';
// Rejecting a connected account through stripe-node (POST /v1/accounts/{id}/reject and
// …/unreject, as in the API version stripe-node speaks): only a Custom or Express account, by
// its platform; charges_enabled / payouts_enabled false, requirements.disabled_reason
// rejected.platform_<reason>, its requested capabilities inactive, with account.updated and
// capability.updated; afterwards it takes no transfers or destination charges, makes no payments
// or (unless payouts_action=none) payouts of its own, and its balance stays where it was;
// unreject gives it all back. Refused input changes nothing; another platform cannot reach it.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, assertStripeShape, tender, storeSql } = require('./helpers');

let env;
let stripe;
let other;

before(async () => {
  env = await startTender({ merchants: 2, args: ['--rate-limit', '0'] });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
});
after(stopAll);

const as = (id) => ({ stripeAccount: id });
const caps = { card_payments: { requested: true }, transfers: { requested: true } };

async function expectError(p, status, code, re) {
  await assert.rejects(p, (e) => {
    assert.equal(e.statusCode, status, e.message);
    if (code) assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

async function usd(opts) {
  const b = await stripe.balance.retrieve({}, opts);
  const pick = (rows) => (rows.find((x) => x.currency === 'usd') || { amount: 0 }).amount;
  return { available: pick(b.available), pending: pick(b.pending) };
}

test('a Custom account rejected for fraud: disabled, its capabilities inactive, events', async () => {
  const acct = await stripe.accounts.create({ type: 'custom', country: 'US', capabilities: caps });
  assert.deepEqual([acct.charges_enabled, acct.payouts_enabled, acct.requirements.disabled_reason], [true, true, null]);
  assert.deepEqual(acct.capabilities, { card_payments: 'active', transfers: 'active' });
  // money on it before: a direct charge and a transfer
  const pi = await stripe.paymentIntents.create({ amount: 3000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true }, as(acct.id));
  assert.equal(pi.status, 'succeeded');
  await stripe.paymentIntents.create({ amount: 5000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true });
  await stripe.transfers.create({ amount: 1000, currency: 'usd', destination: acct.id });
  const before = await usd(as(acct.id));
  assert.equal(before.available, 3000 - 117 + 1000);

  const rejected = await stripe.accounts.reject(acct.id, { reason: 'fraud_payment_method_tester' });
  assertStripeShape(rejected, 'account');
  assert.equal(rejected.id, acct.id);
  assert.deepEqual([rejected.charges_enabled, rejected.payouts_enabled, rejected.details_submitted], [false, false, true]);
  assert.equal(rejected.requirements.disabled_reason, 'rejected.platform_fraud');
  assert.deepEqual(rejected.requirements.currently_due, []);
  assert.deepEqual(rejected.capabilities, { card_payments: 'inactive', transfers: 'inactive' });
  assert.deepEqual(await stripe.accounts.retrieve(acct.id), rejected);
  const cap = await stripe.accounts.retrieveCapability(acct.id, 'transfers');
  assertStripeShape(cap, 'capability');
  assert.deepEqual([cap.status, cap.requirements.disabled_reason], ['inactive', 'rejected.platform_fraud']);
  // the account acting as itself sees the same
  const self = await stripe.accounts.retrieve(null, {}, as(acct.id));
  assert.deepEqual([self.charges_enabled, self.requirements.disabled_reason], [false, 'rejected.platform_fraud']);

  const upd = (await stripe.events.list({ type: 'account.updated', limit: 5 })).data.find((e) => e.data.object.id === acct.id);
  assert.ok(upd, 'account.updated');
  assert.deepEqual(upd.data.previous_attributes.capabilities, { card_payments: 'active', transfers: 'active' });
  assert.deepEqual([upd.data.previous_attributes.charges_enabled, upd.data.previous_attributes.payouts_enabled], [true, true]);
  assert.equal(upd.data.previous_attributes.requirements.disabled_reason, null);
  assert.equal(upd.data.previous_attributes.details_submitted, undefined);
  const capEv = (await stripe.events.list({ type: 'capability.updated', limit: 10 }, as(acct.id))).data;
  assert.deepEqual(capEv.map((e) => [e.data.object.id, e.data.object.status, e.data.previous_attributes.status]).sort(),
    [['card_payments', 'inactive', 'active'], ['transfers', 'inactive', 'active']]);

  // nothing reaches it or leaves it now
  await expectError(stripe.transfers.create({ amount: 100, currency: 'usd', destination: acct.id }), 400, 'insufficient_capabilities_for_transfer');
  await expectError(stripe.paymentIntents.create({ amount: 2000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, transfer_data: { destination: acct.id } }),
    400, 'insufficient_capabilities_for_transfer');
  await expectError(stripe.paymentIntents.create({ amount: 2000, currency: 'usd', on_behalf_of: acct.id }), 400, 'insufficient_capabilities_for_transfer');
  await expectError(stripe.paymentIntents.create({ amount: 2000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true }, as(acct.id)), 400, null, /rejected/);
  await expectError(stripe.charges.create({ amount: 2000, currency: 'usd', source: 'tok_visa' }, as(acct.id)), 400, null, /rejected/);
  await expectError(stripe.payouts.create({ amount: 500, currency: 'usd' }, as(acct.id)), 400, 'payouts_not_allowed');
  // its balance stays where it was; its history is still readable
  assert.deepEqual(await usd(as(acct.id)), before);
  assert.equal((await stripe.paymentIntents.retrieve(pi.id, {}, as(acct.id))).status, 'succeeded');
  // a second rejection is refused and changes nothing
  await expectError(stripe.accounts.reject(acct.id, { reason: 'other' }), 400, null, /already/);
  assert.equal((await stripe.accounts.retrieve(acct.id)).requirements.disabled_reason, 'rejected.platform_fraud');

  // unreject: everything back, with its events; money moves again
  const back = await stripe.accounts.unreject(acct.id);
  assertStripeShape(back, 'account');
  assert.deepEqual([back.charges_enabled, back.payouts_enabled, back.requirements.disabled_reason], [true, true, null]);
  assert.deepEqual(back.capabilities, { card_payments: 'active', transfers: 'active' });
  const ev = (await stripe.events.list({ type: 'account.updated', limit: 1 })).data[0];
  assert.deepEqual([ev.data.object.id, ev.data.previous_attributes.requirements.disabled_reason], [acct.id, 'rejected.platform_fraud']);
  await stripe.transfers.create({ amount: 100, currency: 'usd', destination: acct.id });
  const po = await stripe.payouts.create({ amount: 500, currency: 'usd' }, as(acct.id));
  assert.equal(po.amount, 500);
  await expectError(stripe.accounts.unreject(acct.id), 400, null, /not rejected/);
});

test('payouts_action=none: charges stop, payouts go on', async () => {
  const acct = await stripe.accounts.create({ type: 'custom', country: 'US', capabilities: caps });
  await stripe.paymentIntents.create({ amount: 3000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true }, as(acct.id));
  const r = await stripe.accounts.reject(acct.id, { reason: 'credit', payouts_action: 'none' });
  assert.deepEqual([r.charges_enabled, r.payouts_enabled, r.requirements.disabled_reason], [false, true, 'rejected.platform_other']);
  const ev = (await stripe.events.list({ type: 'account.updated', limit: 1 })).data[0];
  assert.deepEqual([ev.data.previous_attributes.charges_enabled, ev.data.previous_attributes.payouts_enabled], [true, undefined]);
  await expectError(stripe.paymentIntents.create({ amount: 2000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true }, as(acct.id)), 400, null, /rejected/);
  const po = await stripe.payouts.create({ amount: 500, currency: 'usd' }, as(acct.id));
  assert.equal(po.status === 'pending' || po.status === 'paid' || po.status === 'in_transit', true);
  await expectError(stripe.accounts.reject(acct.id, { reason: 'fraud_other', payouts_action: 'later' }), 400);
});

test('Express accounts can be rejected, Standard ones cannot; bad input, the account itself, other platforms', async () => {
  const express = await stripe.accounts.create({ type: 'express', country: 'US', capabilities: { transfers: { requested: true } } });
  const r = await stripe.accounts.reject(express.id, { reason: 'terms_of_service' });
  assert.equal(r.requirements.disabled_reason, 'rejected.platform_terms_of_service');
  // onboarding still owes things: those stay due, the rejection is the reason
  assert.ok(r.requirements.currently_due.length > 0);
  assert.deepEqual([r.charges_enabled, r.details_submitted], [false, false]);

  const standard = await stripe.accounts.create({ type: 'standard', country: 'US' });
  await expectError(stripe.accounts.reject(standard.id, { reason: 'fraud' }), 400, null, /Custom and Express/);
  const custom = await stripe.accounts.create({ type: 'custom', country: 'US', capabilities: caps });
  await expectError(stripe.accounts.reject(custom.id, {}), 400, 'parameter_missing');
  await expectError(stripe.accounts.reject(custom.id, { reason: 'bored' }), 400);
  await expectError(stripe.accounts.reject(custom.id, { reason: 'fraud' }, as(custom.id)), 400, null, /platform/);
  await expectError(other.accounts.reject(custom.id, { reason: 'fraud' }), 404, 'resource_missing');
  await expectError(stripe.accounts.reject('acct_nope', { reason: 'fraud' }), 404, 'resource_missing');
  const still = await stripe.accounts.retrieve(custom.id);
  assert.deepEqual([still.charges_enabled, still.requirements.disabled_reason], [true, null]);
  // the idempotent replay answers the same account and rejects nothing twice
  const once = await stripe.accounts.reject(custom.id, { reason: 'other' }, { idempotencyKey: 'rej-1' });
  const twice = await stripe.accounts.reject(custom.id, { reason: 'other' }, { idempotencyKey: 'rej-1' });
  assert.deepEqual(twice, once);
  assert.equal(once.requirements.disabled_reason, 'rejected.platform_other');
  // a client pinned to an older API version sends `fraud`
  const older = await stripe.accounts.create({ type: 'custom', country: 'US', capabilities: caps });
  assert.equal((await stripe.accounts.reject(older.id, { reason: 'fraud' })).requirements.disabled_reason, 'rejected.platform_fraud');
  // and the other accounts are untouched: a transfer to a live one still works
  const live = await stripe.accounts.create({ type: 'custom', country: 'US', capabilities: caps });
  await stripe.paymentIntents.create({ amount: 3000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true });
  const tr = await stripe.transfers.create({ amount: 100, currency: 'usd', destination: live.id });
  assert.equal(tr.destination, live.id);
});

test('a rejected account with a payout schedule makes no scheduled payouts; tender verify', async () => {
  const scheduled = () => stripe.accounts.create({
    type: 'custom', country: 'US', capabilities: caps,
    external_account: { object: 'bank_account', country: 'US', currency: 'usd', routing_number: '110000000', account_number: '000123456789' },
    settings: { payouts: { schedule: { interval: 'daily' } } },
  });
  const rejected = await scheduled();
  const live = await scheduled(); // the control: its schedule pays out
  for (const a of [rejected, live])
    await stripe.paymentIntents.create({ amount: 4000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true }, as(a.id));
  await stripe.accounts.reject(rejected.id, { reason: 'fraud_other' });
  const before = await usd(as(rejected.id));
  // both schedules due now: the scheduler pays the live account out, not the rejected one
  const now = Math.floor(Date.now() / 1000) - 5;
  storeSql(env.dataDir, `UPDATE connected_accounts SET po_next_due = ${now} WHERE id IN ('${rejected.id}', '${live.id}')`);
  let paid = [];
  for (let i = 0; i < 40 && paid.length === 0; i++) {
    paid = (await stripe.payouts.list({ limit: 10 }, as(live.id))).data.filter((p) => p.automatic);
    if (paid.length === 0) await new Promise((r) => setTimeout(r, 150));
  }
  assert.equal(paid.length, 1, 'the live account was paid out by its schedule');
  assert.deepEqual((await stripe.payouts.list({ limit: 10 }, as(rejected.id))).data, []);
  assert.deepEqual(await usd(as(rejected.id)), before);
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});
