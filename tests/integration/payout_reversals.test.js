'use strict';
// Payout reversals through stripe-node: a connected account's paid payout to its bank account is
// reversed (POST /v1/payouts/{id}/reverse): a payout of its own with the negative amount that
// names the original (original_payout / reversed_by), its money back in the available balance at
// once (a "payout" balance transaction, reporting category payout_reversal), paid by the
// scheduler; once only, never for a pending, failed, instant, non-Connect or reversal payout;
// another platform cannot; the balance stays its balance transactions; tender verify passes.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, assertStripeShape, tender, waitFor } = require('./helpers');

let env;
let stripe;

before(async () => {
  env = await startTender({ merchants: 2, args: ['--rate-limit', '0'] });
  stripe = env.stripe();
});
after(stopAll);

const as = (id) => ({ stripeAccount: id });
const bank = (account_number) => ({
  object: 'bank_account', country: 'US', currency: 'usd', routing_number: '110000000', account_number,
});

async function account(number = '000123456789') {
  const acct = await stripe.accounts.create({ type: 'custom', country: 'US', tos_acceptance: { date: 1700000000, ip: '127.0.0.1' }, external_account: bank(number) });
  const pi = await stripe.paymentIntents.create({ amount: 10000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true }, as(acct.id));
  assert.equal(pi.status, 'succeeded');
  return acct;
}
async function available(opts) {
  const b = await stripe.balance.retrieve({}, opts);
  return (b.available.find((x) => x.currency === 'usd') || { amount: 0 }).amount;
}
const paidOut = (id, opts, status = 'paid') => waitFor(async () => {
  const p = await stripe.payouts.retrieve(id, {}, opts);
  return p.status === status && p;
}, `payout ${id} ${status}`);
async function balanceIsItsTransactions(opts) {
  const bts = await stripe.balanceTransactions.list({ limit: 100 }, opts).autoPagingToArray({ limit: 10000 });
  const sum = bts.filter((t) => t.status === 'available').reduce((s, t) => s + t.net, 0);
  assert.equal(await available(opts), sum);
}

test('a paid payout reversed: a negative payout naming it, the money back at once, then paid', async () => {
  const acct = await account();
  const o = as(acct.id);
  const po = await stripe.payouts.create({ amount: 4000, currency: 'usd' }, o);
  await assert.rejects(stripe.payouts.reverse(po.id, {}, o), (e) => e.statusCode === 400 && /cancel it/.test(e.message));
  await paidOut(po.id, o);
  const before = await available(o);

  const rev = await stripe.payouts.reverse(po.id, { metadata: { why: 'negative balance' } }, o);
  assert.match(rev.id, /^po_/);
  assert.notEqual(rev.id, po.id);
  assert.equal(rev.amount, -4000);
  assert.equal(rev.status, 'pending');
  assert.equal(rev.original_payout, po.id);
  assert.equal(rev.reversed_by, null);
  assert.equal(rev.destination, po.destination);
  assert.deepEqual(rev.metadata, { why: 'negative balance' });
  assertStripeShape(rev, 'payout');
  const orig = await stripe.payouts.retrieve(po.id, {}, o);
  assert.equal(orig.reversed_by, rev.id);
  assert.equal(orig.status, 'paid');
  assert.equal(await available(o), before + 4000);
  const bt = await stripe.balanceTransactions.retrieve(rev.balance_transaction, {}, o);
  assert.equal(bt.type, 'payout');
  assert.equal(bt.amount, 4000);
  assert.equal(bt.reporting_category, 'payout_reversal');
  assert.equal(bt.source, rev.id);
  assertStripeShape(bt, 'balance_transaction');

  const paid = await paidOut(rev.id, o);
  assert.equal(paid.amount, -4000);
  assert.equal(await available(o), before + 4000);
  const types = (await stripe.events.list({ limit: 100 }, o)).data.filter((e) => [po.id, rev.id].includes(e.data.object.id)).reverse()
    .map((e) => `${e.data.object.id === po.id ? 'orig' : 'rev'} ${e.type}`);
  assert.deepEqual(types, [
    'orig payout.created', 'orig payout.updated', 'orig payout.paid',
    'orig payout.updated', 'rev payout.created', 'rev payout.updated', 'rev payout.paid',
  ]);
  const upd = (await stripe.events.list({ type: 'payout.updated', limit: 10 }, o)).data.find((e) => e.data.object.id === po.id && e.data.object.reversed_by);
  assert.deepEqual(upd.data.previous_attributes, { reversed_by: null });

  // once only; a reversal is not reversed
  await assert.rejects(stripe.payouts.reverse(po.id, {}, o), (e) => e.statusCode === 400 && /already been reversed/.test(e.message));
  await assert.rejects(stripe.payouts.reverse(rev.id, {}, o), (e) => e.statusCode === 400 && /cannot itself/.test(e.message));
  await balanceIsItsTransactions(o);
});

test('refused: a failed payout, the platform\'s own payout, another platform; nothing changes', async () => {
  const acct = await account('000111111116'); // its payouts fail: no_account
  const o = as(acct.id);
  const po = await stripe.payouts.create({ amount: 1000, currency: 'usd' }, o);
  await paidOut(po.id, o, 'failed');
  const before = await available(o);
  await assert.rejects(stripe.payouts.reverse(po.id, {}, o), (e) => e.statusCode === 400 && /paid payout/.test(e.message));
  assert.equal(await available(o), before);
  assert.equal((await stripe.payouts.retrieve(po.id, {}, o)).reversed_by, null);

  // the platform's own payouts are not a connected account's
  await stripe.paymentIntents.create({ amount: 5000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true });
  const own = await stripe.payouts.create({ amount: 1000, currency: 'usd' });
  await paidOut(own.id, undefined);
  await assert.rejects(stripe.payouts.reverse(own.id), (e) => e.statusCode === 400 && /connected account/.test(e.message));

  const good = await account();
  const gpo = await stripe.payouts.create({ amount: 500, currency: 'usd' }, as(good.id));
  await paidOut(gpo.id, as(good.id));
  const other = env.stripe(env.merchants[1].secret_key);
  await assert.rejects(other.payouts.reverse(gpo.id, {}, as(good.id)), (e) => e.statusCode === 403 || e.statusCode === 404);
  await assert.rejects(other.payouts.reverse(gpo.id), (e) => e.statusCode === 404);
  assert.equal((await stripe.payouts.retrieve(gpo.id, {}, as(good.id))).reversed_by, null);
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});
