'use strict';
// Payouts through stripe-node: the available balance sent to the bank, paid by the scheduler,
// canceled while pending, refused beyond the balance (also when many are asked at once), with
// their balance transactions, events, Stripe's shapes, tenants, and tender verify.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, assertStripeShape, tender } = require('./helpers');

let env;
let stripe;

before(async () => {
  env = await startTender({ merchants: 3, args: ['--rate-limit', '0'] });
  stripe = env.stripe();
});
after(stopAll);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// 4000000000000077 (pm_card_bypassPending): the charge's funds are available at once
async function fund(s, amount, currency = 'usd') {
  const pi = await s.paymentIntents.create({ amount, currency, payment_method: 'pm_card_bypassPending', confirm: true });
  assert.equal(pi.status, 'succeeded');
}

async function available(s, currency = 'usd') {
  const b = await s.balance.retrieve();
  const row = b.available.find((x) => x.currency === currency);
  return row ? row.amount : 0;
}

async function eventTypes(s, id) {
  const all = await s.events.list({ limit: 100 });
  return all.data.filter((e) => e.data.object.id === id).reverse().map((e) => e.type);
}

test('a payout takes the available balance at once and is paid at its arrival date', async () => {
  await fund(stripe, 10000);
  const before = await available(stripe);
  assert.equal(before, 10000 - 320); // 2.9 % + 30
  const po = await stripe.payouts.create({ amount: 5000, currency: 'usd', description: 'weekly', metadata: { run: '1' } });
  assert.match(po.id, /^po_/);
  assert.equal(po.status, 'pending');
  assert.equal(po.amount, 5000);
  assert.equal(po.method, 'standard');
  assert.equal(po.type, 'bank_account');
  assert.ok(po.arrival_date >= po.created);
  assertStripeShape(po, 'payout');
  assert.equal(await available(stripe), before - 5000);
  const bt = await stripe.balanceTransactions.retrieve(po.balance_transaction);
  assert.equal(bt.type, 'payout');
  assert.equal(bt.amount, -5000);
  assert.equal(bt.net, -5000);
  assert.equal(bt.fee, 0);
  assert.equal(bt.source, po.id);
  assert.equal(bt.reporting_category, 'payout');
  assertStripeShape(bt, 'balance_transaction');
  const ex = await stripe.payouts.retrieve(po.id, { expand: ['balance_transaction'] });
  assert.equal(ex.balance_transaction.id, bt.id);

  // the scheduler pays it at its arrival date
  let paid;
  for (let i = 0; i < 40; i++) {
    paid = await stripe.payouts.retrieve(po.id);
    if (paid.status === 'paid') break;
    await sleep(250);
  }
  assert.equal(paid.status, 'paid');
  assert.deepEqual(await eventTypes(stripe, po.id), ['payout.created', 'payout.updated', 'payout.paid']);
  const events = await stripe.events.list({ type: 'payout.updated', limit: 10 });
  const upd = events.data.find((e) => e.data.object.id === po.id);
  assert.deepEqual(upd.data.previous_attributes, { status: 'pending' });
  assert.equal(await available(stripe), before - 5000);
  await assert.rejects(stripe.payouts.cancel(po.id), (e) => e.statusCode === 400);
});

test('more than the available balance: balance_insufficient, nothing moves', async () => {
  const s = env.stripe(env.merchants[1].secret_key);
  await assert.rejects(s.payouts.create({ amount: 100, currency: 'usd' }),
    (e) => e.statusCode === 400 && e.code === 'balance_insufficient');
  await fund(s, 2000);
  const avail = await available(s);
  await assert.rejects(s.payouts.create({ amount: avail + 1, currency: 'usd' }),
    (e) => e.statusCode === 400 && e.code === 'balance_insufficient');
  // another currency has its own balance
  await assert.rejects(s.payouts.create({ amount: 1, currency: 'eur' }),
    (e) => e.statusCode === 400 && e.code === 'balance_insufficient');
  assert.equal(await available(s), avail);
  assert.deepEqual((await s.payouts.list()).data, []);
  for (const bad of [{ amount: 0, currency: 'usd' }, { amount: 1, currency: 'xyz' }, { amount: 1, currency: 'usd', method: 'instant' }]) {
    await assert.rejects(s.payouts.create(bad), (e) => e.statusCode === 400);
  }
  // the whole balance can go
  const all = await s.payouts.create({ amount: avail, currency: 'usd' });
  assert.equal(all.amount, avail);
  assert.equal(await available(s), 0);
});

test('cancel a pending payout: the funds come back', async () => {
  await fund(stripe, 3000);
  const before = await available(stripe);
  const po = await stripe.payouts.create({ amount: 1000, currency: 'usd' });
  const c = await stripe.payouts.cancel(po.id);
  assert.equal(c.status, 'canceled');
  assert.match(c.failure_balance_transaction, /^txn_/);
  assertStripeShape(c, 'payout');
  const rbt = await stripe.balanceTransactions.retrieve(c.failure_balance_transaction);
  assert.equal(rbt.type, 'payout_cancel');
  assert.equal(rbt.amount, 1000);
  assert.equal(rbt.reporting_category, 'payout_reversal');
  assert.equal(await available(stripe), before);
  assert.deepEqual(await eventTypes(stripe, po.id), ['payout.created', 'payout.canceled']);
  await assert.rejects(stripe.payouts.cancel(po.id), (e) => e.statusCode === 400);
  await sleep(3000); // a canceled payout is never paid
  assert.equal((await stripe.payouts.retrieve(po.id)).status, 'canceled');
  assert.equal(await available(stripe), before);
});

test('many payouts at once never take more than the balance', async () => {
  const s = env.stripe(env.merchants[2].secret_key);
  await fund(s, 5000);
  const avail = await available(s); // 4825
  const results = await Promise.allSettled(Array.from({ length: 12 }, () => s.payouts.create({ amount: 1000, currency: 'usd' })));
  const ok = results.filter((x) => x.status === 'fulfilled');
  for (const x of results.filter((y) => y.status === 'rejected')) {
    assert.ok(['balance_insufficient', 'lock_timeout'].includes(x.reason.code), x.reason.message);
  }
  assert.ok(ok.length >= 1);
  assert.ok(ok.length * 1000 <= avail, `${ok.length} payouts of 1000 from ${avail}`);
  assert.equal(await available(s), avail - ok.length * 1000);
  assert.equal((await s.payouts.list({ limit: 100 })).data.length, ok.length);
});

test('update, list, tenants, verify', async () => {
  await fund(stripe, 2000);
  const po = await stripe.payouts.create({ amount: 500, currency: 'usd' });
  const up = await stripe.payouts.update(po.id, { metadata: { batch: '7' } });
  assert.deepEqual(up.metadata, { batch: '7' });
  const pending = await stripe.payouts.list({ status: 'pending' });
  assert.ok(pending.data.some((x) => x.id === po.id));
  for (const x of pending.data) assertStripeShape(x, 'payout');
  const listed = await stripe.payouts.list({ expand: ['data.balance_transaction'] });
  assert.equal(listed.data[0].balance_transaction.object, 'balance_transaction');
  const other = env.stripe(env.merchants[1].secret_key);
  await assert.rejects(other.payouts.retrieve(po.id), (e) => e.statusCode === 404);
  await assert.rejects(other.payouts.cancel(po.id), (e) => e.statusCode === 404);
  await assert.rejects(other.payouts.update(po.id, { metadata: { a: 'b' } }), (e) => e.statusCode === 404);
  await sleep(2500);
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});
