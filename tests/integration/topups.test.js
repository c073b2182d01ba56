'use strict';
// Top-ups through stripe-node: money from the merchant's bank into its balance, pending until
// the scheduler hears from the bank, then succeeded (a "topup" balance transaction, available at
// once, enough to fund a payout) or failed (Stripe's failing test bank tokens: nothing booked);
// canceled while pending; update, lists and their filters, events, Stripe's shapes, refused
// input that changes nothing, tenants, and tender verify.
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

async function available(s, currency = 'usd') {
  const b = await s.balance.retrieve();
  const row = b.available.find((x) => x.currency === currency);
  return row ? row.amount : 0;
}

async function eventsOf(s, id) {
  const all = await s.events.list({ limit: 100 });
  return all.data.filter((e) => e.data.object.id === id).reverse();
}

const settled = (s, id) => waitFor(async () => {
  const t = await s.topups.retrieve(id);
  return t.status !== 'pending' && t;
}, 'the top-up to settle');

test('a top-up is pending, then succeeds: its money is available and can be paid out', async () => {
  const before = await available(stripe);
  const t = await stripe.topups.create({
    amount: 12345, currency: 'USD', description: 'Funding payouts', statement_descriptor: 'TOPUP 1',
    source: 'btok_us_verified', metadata: { run: '1' }, transfer_group: 'g1',
  });
  assert.match(t.id, /^tu_/);
  assert.equal(t.object, 'topup');
  assert.equal(t.status, 'pending');
  assert.equal(t.amount, 12345);
  assert.equal(t.currency, 'usd');
  assert.equal(t.balance_transaction, null);
  assert.equal(t.failure_code, null);
  assert.equal(t.source, null);
  assert.equal(t.transfer_group, 'g1');
  assert.ok(t.expected_availability_date >= t.created);
  assertStripeShape(t, 'topup');
  // nothing is available while it is pending; on a loaded machine it may settle (2 s) before
  // the balance is read, so the check holds when the top-up is still pending after that read
  const mid = await available(stripe);
  if ((await stripe.topups.retrieve(t.id)).status === 'pending') assert.equal(mid, before);

  const done = await settled(stripe, t.id);
  assert.equal(done.status, 'succeeded');
  assert.match(done.balance_transaction, /^txn_/);
  assertStripeShape(done, 'topup');
  assert.equal(await available(stripe), before + 12345);
  const bt = await stripe.balanceTransactions.retrieve(done.balance_transaction);
  assert.equal(bt.type, 'topup');
  assert.equal(bt.reporting_category, 'topup');
  assert.equal(bt.amount, 12345);
  assert.equal(bt.fee, 0);
  assert.equal(bt.net, 12345);
  assert.equal(bt.status, 'available');
  assert.equal(bt.source, t.id);
  assertStripeShape(bt, 'balance_transaction');
  const ex = await stripe.topups.retrieve(t.id, { expand: ['balance_transaction'] });
  assert.equal(ex.balance_transaction.id, bt.id);
  assert.deepEqual((await stripe.balanceTransactions.list({ type: 'topup' })).data.map((x) => x.id), [bt.id]);

  const ev = await eventsOf(stripe, t.id);
  assert.deepEqual(ev.map((e) => e.type), ['topup.created', 'topup.succeeded']);
  assert.equal(ev[1].data.object.status, 'succeeded');

  // the money funds a payout
  const po = await stripe.payouts.create({ amount: 12000, currency: 'usd' });
  assert.equal(po.status, 'pending');
  assert.equal(await available(stripe), before + 345);
});

test('a failing bank: failed with its code, nothing booked', async () => {
  const before = await available(stripe);
  const t = await stripe.topups.create({ amount: 5000, currency: 'usd', source: 'btok_us_verified_noAccount' });
  const done = await settled(stripe, t.id);
  assert.equal(done.status, 'failed');
  assert.equal(done.failure_code, 'no_account');
  assert.match(done.failure_message, /No bank account could be located/);
  assert.equal(done.balance_transaction, null);
  assertStripeShape(done, 'topup');
  assert.equal(await available(stripe), before);
  assert.deepEqual((await eventsOf(stripe, t.id)).map((e) => e.type), ['topup.created', 'topup.failed']);
  const t2 = await stripe.topups.create({ amount: 5000, currency: 'usd', source: 'btok_us_verified_insufficientFunds' });
  assert.equal((await settled(stripe, t2.id)).failure_code, 'insufficient_funds');
  await assert.rejects(stripe.topups.cancel(t2.id), (e) => e.statusCode === 400 && /pending/.test(e.message));
});

test('cancel while pending: nothing moves, and the bank\'s answer comes too late', async () => {
  const before = await available(stripe);
  const t = await stripe.topups.create({ amount: 777, currency: 'usd' });
  const c = await stripe.topups.cancel(t.id);
  assert.equal(c.status, 'canceled');
  assertStripeShape(c, 'topup');
  await new Promise((r) => setTimeout(r, 3500)); // past its settle time
  const after = await stripe.topups.retrieve(t.id);
  assert.equal(after.status, 'canceled');
  assert.equal(after.balance_transaction, null);
  assert.equal(await available(stripe), before);
  assert.deepEqual((await eventsOf(stripe, t.id)).map((e) => e.type), ['topup.created', 'topup.canceled']);
  await assert.rejects(stripe.topups.cancel(t.id), (e) => e.statusCode === 400);
});

test('update, lists and their filters, refused input, tenants, verify', async () => {
  const a = await stripe.topups.create({ amount: 100, currency: 'usd' });
  const b = await stripe.topups.create({ amount: 300, currency: 'usd' });
  const up = await stripe.topups.update(a.id, { description: 'first', metadata: { k: 'v' } });
  assert.equal(up.description, 'first');
  assert.deepEqual(up.metadata, { k: 'v' });
  await settled(stripe, a.id);
  await settled(stripe, b.id);
  const list = await stripe.topups.list({ limit: 100 });
  assert.equal(list.url, '/v1/topups');
  assert.deepEqual(list.data.slice(0, 2).map((x) => x.id), [b.id, a.id]);
  for (const x of list.data) assertStripeShape(x, 'topup');
  assert.deepEqual((await stripe.topups.list({ amount: 300 })).data.map((x) => x.id), [b.id]);
  assert.deepEqual((await stripe.topups.list({ amount: { gte: 100, lt: 300 } })).data.map((x) => x.id), [a.id]);
  assert.ok((await stripe.topups.list({ status: 'failed' })).data.every((x) => x.status === 'failed'));
  assert.ok((await stripe.topups.list({ status: 'canceled' })).data.length >= 1);

  const count = (await stripe.topups.list({ limit: 100 })).data.length;
  const bad = [
    [{ amount: 0, currency: 'usd' }, 'amount'],
    [{ amount: 100, currency: 'xyz' }, 'currency'],
    [{ amount: 100, currency: 'usd', source: 'btok_nope' }, 'source'],
    [{ amount: 100, currency: 'usd', source: 'ba_missing' }, 'source'],
    [{ amount: 100, currency: 'usd', statement_descriptor: 'sixteen chars xx' }, 'statement_descriptor'],
  ];
  for (const [params, param] of bad) {
    await assert.rejects(stripe.topups.create(params), (e) => {
      assert.ok(e.statusCode === 400 || e.statusCode === 404, JSON.stringify(params));
      assert.equal(e.param, param, JSON.stringify(params));
      return true;
    });
  }
  assert.equal((await stripe.topups.list({ limit: 100 })).data.length, count);

  const other = env.stripe(env.merchants[1].secret_key);
  await assert.rejects(other.topups.retrieve(a.id), (e) => e.statusCode === 404);
  await assert.rejects(other.topups.cancel(b.id), (e) => e.statusCode === 404);
  await assert.rejects(other.topups.update(a.id, { metadata: { x: 'y' } }), (e) => e.statusCode === 404);
  assert.deepEqual((await other.topups.list()).data, []);
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});
