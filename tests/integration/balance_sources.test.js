'use strict';
// A balance transaction's `source`, expanded (expand[]=source, expand[]=data.source on the list,
// as Stripe's reconciliation guides do it) through stripe-node: every kind of object that moves
// a merchant's money comes back as that object, in Stripe's shape, with its own nested
// expansions; unexpanded it stays an id; another merchant's transactions stay out of reach.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, assertStripeShape, waitFor } = require('./helpers');

let env;
let stripe;
let other;
let acct;

before(async () => {
  env = await startTender({ merchants: 2, args: ['--rate-limit', '0'] });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
  acct = await stripe.accounts.create({ type: 'custom', country: 'US', capabilities: { transfers: { requested: true } } });
});
after(stopAll);

async function sourceOf(btId) {
  const bt = await stripe.balanceTransactions.retrieve(btId, { expand: ['source'] });
  assert.equal(typeof bt.source, 'object', `${bt.type}'s source must be expanded`);
  // the source's own shape is checked by each caller (a charge's `refunds` appears only when
  // expanded, which the validator allows at the top level only)
  assertStripeShape({ ...bt, source: bt.source.id }, 'balance_transaction');
  return { bt, src: bt.source };
}

test('each kind of source expands to its object, in Stripe\'s shape', async () => {
  // a charge (funds at once, for the payout below), and a refund of another one
  const pi = await stripe.paymentIntents.create({ amount: 9000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true });
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  let { bt, src } = await sourceOf(ch.balance_transaction);
  assert.equal(bt.type, 'charge');
  assert.equal(src.object, 'charge');
  assert.equal(src.id, ch.id);
  assert.equal(src.balance_transaction, bt.id, 'nested fields stay ids unless asked for');
  assertStripeShape(src, 'charge');

  const pi2 = await stripe.paymentIntents.create({ amount: 3000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
  const rf = await stripe.refunds.create({ payment_intent: pi2.id, amount: 1200 });
  ({ bt, src } = await sourceOf(rf.balance_transaction));
  assert.equal(bt.type, 'refund');
  assert.equal(src.object, 'refund');
  assert.equal(src.id, rf.id);
  assert.equal(src.amount, 1200);
  assertStripeShape(src, 'refund');

  // a payout of the available funds
  const po = await stripe.payouts.create({ amount: 2000, currency: 'usd' });
  ({ bt, src } = await sourceOf(po.balance_transaction));
  assert.equal(bt.type, 'payout');
  assert.equal(src.object, 'payout');
  assert.equal(src.id, po.id);
  assertStripeShape(src, 'payout');

  // a transfer and its reversal
  const tr = await stripe.transfers.create({ amount: 1500, currency: 'usd', destination: acct.id });
  ({ bt, src } = await sourceOf(tr.balance_transaction));
  assert.equal(src.object, 'transfer');
  assert.equal(src.id, tr.id);
  assertStripeShape(src, 'transfer');
  const rv = await stripe.transfers.createReversal(tr.id, { amount: 500 });
  ({ bt, src } = await sourceOf(rv.balance_transaction));
  assert.equal(bt.type, 'transfer_refund');
  assert.equal(src.object, 'transfer_reversal');
  assert.equal(src.id, rv.id);
  assert.equal(src.transfer, tr.id);
  assertStripeShape(src, 'transfer_reversal');

  // a destination charge's application fee and a refund of it
  const dpi = await stripe.paymentIntents.create({
    amount: 4000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true,
    application_fee_amount: 400, transfer_data: { destination: acct.id },
  });
  const dch = await stripe.charges.retrieve(dpi.latest_charge);
  const fee = await stripe.applicationFees.retrieve(dch.application_fee);
  ({ bt, src } = await sourceOf(fee.balance_transaction));
  assert.equal(src.object, 'application_fee');
  assert.equal(src.id, fee.id);
  assertStripeShape(src, 'application_fee');
  const fr = await stripe.applicationFees.createRefund(fee.id, { amount: 100 });
  ({ bt, src } = await sourceOf(fr.balance_transaction));
  assert.equal(src.object, 'fee_refund');
  assert.equal(src.id, fr.id);
  assert.equal(src.fee, fee.id);
  assertStripeShape(src, 'fee_refund');

  // a dispute's withdrawal
  const dpi2 = await stripe.paymentIntents.create({ amount: 2500, currency: 'usd', payment_method: 'pm_card_createDispute', confirm: true });
  const du = await waitFor(async () => (await stripe.disputes.list({ charge: dpi2.latest_charge })).data[0], 'the dispute');
  const withdrawal = du.balance_transactions[0];
  ({ bt, src } = await sourceOf(withdrawal.id));
  assert.equal(bt.type, 'adjustment');
  assert.equal(src.object, 'dispute');
  assert.equal(src.id, du.id);
  assertStripeShape(src, 'dispute');
});

test('the list expands data.source, with the sources\' own nested expansions; unexpanded they stay ids', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 2100, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
  const plain = await stripe.balanceTransactions.list({ limit: 5 });
  for (const bt of plain.data) assert.equal(typeof bt.source, 'string');
  const list = await stripe.balanceTransactions.list({
    limit: 100, type: 'charge', expand: ['data.source', 'data.source.payment_intent'],
  });
  const mine = list.data.find((bt) => bt.source.id === pi.latest_charge);
  assert.ok(mine, 'the new charge\'s transaction is listed with its charge');
  assert.equal(mine.source.object, 'charge');
  assert.equal(mine.source.payment_intent.id, pi.id, 'source.payment_intent expands inside the source');
  assertStripeShape(mine.source.payment_intent, 'payment_intent');
  for (const bt of list.data) {
    assert.equal(bt.source.object, 'charge');
    assert.equal(bt.source.balance_transaction, bt.id);
  }
  // auto-pagination keeps the expansion on every page
  let n = 0;
  for await (const bt of stripe.balanceTransactions.list({ limit: 2, expand: ['data.source'] })) {
    assert.ok(bt.source === null || typeof bt.source === 'object' || /^py_|^pyr_/.test(bt.source), `${bt.id} (${bt.type}, ${bt.source}) source expanded`);
    if (++n >= 6) break;
  }
  assert.ok(n >= 2);
});

test('another merchant sees none of the transactions, expanded or not', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 1700, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  await assert.rejects(other.balanceTransactions.retrieve(ch.balance_transaction, { expand: ['source'] }), (e) => e.statusCode === 404);
  const theirs = await other.balanceTransactions.list({ limit: 100, expand: ['data.source'] });
  assert.ok(theirs.data.every((bt) => bt.source === null || bt.source.id !== ch.id));
  // the older /v1/balance/history paths are the same resource, scoped the same way
  const mine = await stripe.balanceTransactions.list({ limit: 5 });
  const hist = await stripe.rawRequest('GET', '/v1/balance/history?limit=5');
  assert.deepEqual(hist.data.map((bt) => bt.id), mine.data.map((bt) => bt.id));
  const one = await stripe.rawRequest('GET', `/v1/balance/history/${ch.balance_transaction}`);
  assertStripeShape(one, 'balance_transaction');
  assert.equal(one.id, ch.balance_transaction);
  await assert.rejects(other.rawRequest('GET', `/v1/balance/history/${ch.balance_transaction}`), (e) => e.statusCode === 404);
});
