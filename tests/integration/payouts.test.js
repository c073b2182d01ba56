'use strict';
// Payouts through stripe-node: the available balance sent to the bank, paid by the scheduler,
// canceled while pending, refused beyond the balance (also when many are asked at once), with
// their balance transactions, events, Stripe's shapes, tenants, and tender verify; a rolling
// reserve (tender merchant reserve) withholding part of each charge from them until released.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, assertStripeShape, tender, storeSql, waitFor } = require('./helpers');

let env;
let stripe;

before(async () => {
  env = await startTender({ merchants: 4, args: ['--rate-limit', '0'] });
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

async function pending(s, currency = 'usd') {
  const b = await s.balance.retrieve();
  const row = b.pending.find((x) => x.currency === currency);
  return row ? row.amount : 0;
}

async function chargeOf(s, amount, pm) {
  const pi = await s.paymentIntents.create({ amount, currency: 'usd', payment_method: pm, confirm: true });
  assert.equal(pi.status, 'succeeded');
  return pi.latest_charge;
}

async function reserveTxns(s, charge) {
  return (await s.balanceTransactions.list({ source: charge, type: 'reserved_funds', limit: 10 })).data;
}

test('a rolling reserve withholds 10 % of each charge from payouts until the scheduler releases it', async () => {
  const m = env.merchants[3];
  const s = env.stripe(m.secret_key);
  const cli = (...a) => tender(['merchant', 'reserve', '--data', env.dataDir, ...a], { stdio: 'pipe' });
  for (const bad of [[m.id, '--percent', '10.001', '--days', '1'], [m.id, '--percent', '0', '--days', '1'],
    [m.id, '--percent', '101', '--days', '1'], [m.id, '--percent', '10', '--days', '0'],
    [m.id, '--percent', '10', '--days', '366'], [m.id, '--percent', '10'], [m.id, '--off', '--days', '3'],
    ['--percent', '10', '--days', '1']]) {
    assert.throws(() => cli(...bad), (e) => e.status > 0, bad.join(' '));
  }
  assert.equal(JSON.parse(tender(['merchant', 'show', '--data', env.dataDir, m.id])).reserve, null);
  assert.deepEqual(JSON.parse(cli(m.id, '--percent', '10', '--days', '1')),
    { id: m.id, reserve: { percent: '10.00', percent_bps: 1000, days: 1 } });

  // available at once (4000000000000077): 10000 nets 9680, of which 1000 is held
  const ch1 = await chargeOf(s, 10000, 'pm_card_bypassPending');
  const [hold] = await reserveTxns(s, ch1);
  assert.equal(hold.amount, -1000);
  assert.equal(hold.fee, 0);
  assert.equal(hold.net, -1000);
  assert.equal(hold.currency, 'usd');
  assert.equal(hold.status, 'available');
  assert.equal(hold.reporting_category, 'risk_reserved_funds');
  assertStripeShape(hold, 'balance_transaction');
  const cbt = await s.balanceTransactions.retrieve((await s.charges.retrieve(ch1)).balance_transaction);
  assert.equal(cbt.net, 9680);
  assert.equal(hold.available_on, cbt.available_on);
  assert.equal(await available(s), 8680);
  await assert.rejects(s.payouts.create({ amount: 8681, currency: 'usd' }),
    (e) => e.statusCode === 400 && e.code === 'balance_insufficient');
  assert.equal(await available(s), 8680);

  // a charge that settles later: its hold waits in pending with it (5000 nets 4825, 500 held)
  const ch2 = await chargeOf(s, 5000, 'pm_card_visa');
  const [hold2] = await reserveTxns(s, ch2);
  assert.equal(hold2.amount, -500);
  assert.equal(hold2.status, 'pending');
  assert.equal(await pending(s), 4825 - 500);
  // 1 % of 99 is 0.99: rounded down to nothing, no hold
  cli(m.id, '--percent', '1', '--days', '1');
  const ch3 = await chargeOf(s, 99, 'pm_card_bypassPending');
  assert.deepEqual(await reserveTxns(s, ch3), []);
  const shown = JSON.parse(tender(['merchant', 'show', '--data', env.dataDir, m.id]));
  assert.deepEqual(shown.reserve, { percent: '1.00', percent_bps: 100, days: 1 });
  assert.deepEqual(shown.reserve_held, [{ currency: 'usd', amount: 1500 }]);

  // off: later charges hold nothing, what is held is still released on its date
  assert.deepEqual(JSON.parse(cli(m.id, '--off')), { id: m.id, reserve: null });
  const ch4 = await chargeOf(s, 2000, 'pm_card_bypassPending');
  assert.deepEqual(await reserveTxns(s, ch4), []);
  const free = await available(s); // 8680 + 99 − 33 + 2000 − 88
  assert.equal(free, 8680 + 66 + 1912);

  // the release date reached (held a day: moved to now), the scheduler gives ch1's 1000 back
  storeSql(env.dataDir, `UPDATE reserve_holds SET release_at = ${Math.floor(Date.now() / 1000) - 1} WHERE merchant_id = '${m.id}' AND charge = '${ch1}'`);
  const released = await waitFor(async () => (await reserveTxns(s, ch1)).find((b) => b.amount > 0), 'the release', 30000);
  assert.equal(released.amount, 1000);
  assert.equal(released.net, 1000);
  assert.equal(released.status, 'available');
  assert.equal(released.reporting_category, 'risk_reserved_funds');
  assertStripeShape(released, 'balance_transaction');
  assert.equal(await available(s), free + 1000);
  assert.equal(await pending(s), 4825 - 500);
  // once: a later tick finds nothing more to release
  await sleep(1500);
  assert.equal((await reserveTxns(s, ch1)).length, 2);
  assert.deepEqual(JSON.parse(tender(['merchant', 'show', '--data', env.dataDir, m.id])).reserve_held,
    [{ currency: 'usd', amount: 500 }]);
  const po = await s.payouts.create({ amount: free + 1000, currency: 'usd' });
  assert.equal(po.amount, free + 1000);
  assert.equal(await available(s), 0);
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

test("a connected account's reserve holds the charges made on it through Stripe-Account", async () => {
  const platform = env.stripe(env.merchants[3].secret_key);
  const acct = await platform.accounts.create({
    type: 'custom', country: 'US', capabilities: { card_payments: { requested: true }, transfers: { requested: true } },
  });
  const as = { stripeAccount: acct.id };
  tender(['merchant', 'reserve', '--data', env.dataDir, acct.id, '--percent', '2.5', '--days', '30']);
  const pi = await platform.paymentIntents.create({ amount: 4000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true }, as);
  assert.equal(pi.status, 'succeeded');
  const held = (await platform.balanceTransactions.list({ source: pi.latest_charge, type: 'reserved_funds' }, as)).data;
  assert.equal(held.length, 1);
  assert.equal(held[0].amount, -100); // 2.5 % of 4000
  assertStripeShape(held[0], 'balance_transaction');
  const b = await platform.balance.retrieve({}, as);
  assert.equal(b.available.find((x) => x.currency === 'usd').amount, 4000 - 146 - 100);
  // the platform's own balance is not touched by its account's reserve
  assert.deepEqual((await platform.balanceTransactions.list({ type: 'reserved_funds', source: pi.latest_charge })).data, []);
  assert.deepEqual(JSON.parse(tender(['merchant', 'show', '--data', env.dataDir, acct.id])).reserve_held,
    [{ currency: 'usd', amount: 100 }]);
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

test("a connected account's reserve holds its destination charges' payments, released by the scheduler", async () => {
  const platform = env.stripe(env.merchants[3].secret_key);
  const acct = await platform.accounts.create({ type: 'custom', country: 'US', capabilities: { transfers: { requested: true } } });
  const as = { stripeAccount: acct.id };
  tender(['merchant', 'reserve', '--data', env.dataDir, acct.id, '--percent', '10', '--days', '30']);
  const usdOf = (rows) => (rows.find((x) => x.currency === 'usd') || { amount: 0 }).amount;
  // available at once (4000000000000077): the payment of 10000 nets 9000 after the 1000
  // application fee, and 10 % of its gross is held from that
  const pi = await platform.paymentIntents.create({
    amount: 10000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true,
    application_fee_amount: 1000, transfer_data: { destination: acct.id },
  });
  assert.equal(pi.status, 'succeeded');
  const tr = await platform.transfers.retrieve((await platform.charges.retrieve(pi.latest_charge)).transfer);
  const py = tr.destination_payment;
  const [hold] = (await platform.balanceTransactions.list({ source: py, type: 'reserved_funds' }, as)).data;
  assertStripeShape(hold, 'balance_transaction');
  assert.equal(hold.amount, -1000);
  assert.equal(hold.net, -1000);
  assert.equal(hold.currency, 'usd');
  assert.equal(hold.status, 'available');
  assert.equal(hold.reporting_category, 'risk_reserved_funds');
  let b = await platform.balance.retrieve({}, as);
  assert.equal(usdOf(b.available), 10000 - 1000 - 1000);
  await assert.rejects(platform.payouts.create({ amount: 8001, currency: 'usd' }, as),
    (e) => e.statusCode === 400 && e.code === 'balance_insufficient');
  // the platform keeps its charge's funds as before: no reserve of its own
  assert.deepEqual((await platform.balanceTransactions.list({ type: 'reserved_funds', source: py })).data, []);
  // a payment still pending: its hold waits in pending with it
  const pi2 = await platform.paymentIntents.create({
    amount: 2000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, transfer_data: { destination: acct.id },
  });
  const py2 = (await platform.transfers.retrieve((await platform.charges.retrieve(pi2.latest_charge)).transfer)).destination_payment;
  const [hold2] = (await platform.balanceTransactions.list({ source: py2, type: 'reserved_funds' }, as)).data;
  assert.equal(hold2.amount, -200);
  assert.equal(hold2.status, 'pending');
  b = await platform.balance.retrieve({}, as);
  assert.equal(usdOf(b.pending), 2000 - 200);
  assert.deepEqual(JSON.parse(tender(['merchant', 'show', '--data', env.dataDir, acct.id])).reserve_held,
    [{ currency: 'usd', amount: 1200 }]);
  // its release date reached, the scheduler gives the first payment's 1000 back
  storeSql(env.dataDir, `UPDATE reserve_holds SET release_at = ${Math.floor(Date.now() / 1000) - 1} WHERE merchant_id = '${acct.id}' AND charge = '${py}'`);
  const released = await waitFor(async () => (await platform.balanceTransactions.list({ source: py, type: 'reserved_funds' }, as)).data
    .find((x) => x.amount > 0), 'the release', 30000);
  assertStripeShape(released, 'balance_transaction');
  assert.equal(released.amount, 1000);
  assert.equal(released.status, 'available');
  b = await platform.balance.retrieve({}, as);
  assert.equal(usdOf(b.available), 9000);
  const po = await platform.payouts.create({ amount: 9000, currency: 'usd' }, as);
  assert.equal(po.amount, 9000);
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

test('GET /v1/payouts?arrival_date: a time or a gt/gte/lt/lte range', async () => {
  const s = env.stripe(env.merchants[3].secret_key);
  await fund(s, 5000);
  const po = await s.payouts.create({ amount: 1000, currency: 'usd' });
  const ids = async (q) => (await s.payouts.list(q)).data.map((x) => x.id);
  assert.ok((await ids({ arrival_date: po.arrival_date })).includes(po.id));
  assert.ok((await ids({ arrival_date: { gte: po.arrival_date, lte: po.arrival_date } })).includes(po.id));
  assert.ok(!(await ids({ arrival_date: { gt: po.arrival_date } })).includes(po.id));
  assert.ok(!(await ids({ arrival_date: { lt: po.arrival_date } })).includes(po.id));
  assert.ok(!(await ids({ arrival_date: po.arrival_date + 1 })).includes(po.id));
  const listed = await s.payouts.list({ arrival_date: { gt: po.arrival_date - 1 } });
  for (const p of listed.data) {
    assert.ok(p.arrival_date >= po.arrival_date);
    assertStripeShape(p, 'payout');
  }
  await assert.rejects(s.payouts.list({ arrival_date: 'soon' }), (e) => e.statusCode === 400);
});
