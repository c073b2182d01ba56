'use strict';
// Connect money movements through stripe-node: transfers from a platform's balance or from one
// of its charges, their reversals, destination charges with an application fee or a partial
// transfer, both sides' balances and balance transactions, Stripe's shapes, refused input that
// changes nothing, another platform kept out, and tender verify (connect_clearing sums to zero).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, assertStripeShape, tender } = require('./helpers');

let env;
let stripe;
let other; // another platform
let acct; // a connected account of the first platform
let acct2;

before(async () => {
  env = await startTender({ merchants: 2, args: ['--rate-limit', '0'] });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
  acct = await stripe.accounts.create({ type: 'express', country: 'US', email: 'driver@example.com' });
  acct2 = await stripe.accounts.create({ type: 'custom', country: 'US', capabilities: { transfers: { requested: true } } });
});
after(stopAll);

async function balance(s, opts) {
  const b = await s.balance.retrieve({}, opts);
  const pick = (rows) => (rows.find((x) => x.currency === 'usd') || { amount: 0 }).amount;
  return { available: pick(b.available), pending: pick(b.pending) };
}

const as = (a) => ({ stripeAccount: a.id });

async function fund(amount) {
  const pi = await stripe.paymentIntents.create({ amount, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true });
  assert.equal(pi.status, 'succeeded');
}

async function expectError(p, status, re) {
  await assert.rejects(p, (e) => {
    assert.equal(e.statusCode, status, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

test('a transfer moves available funds from the platform to a connected account', async () => {
  await fund(10000);
  const p0 = await balance(stripe);
  const a0 = await balance(stripe, as(acct));
  const tr = await stripe.transfers.create(
    { amount: 5000, currency: 'usd', destination: acct.id, transfer_group: 'ORDER_1', metadata: { order: '1' } },
    { idempotencyKey: 'tr-once' },
  );
  assert.match(tr.id, /^tr_/);
  assert.equal(tr.amount, 5000);
  assert.equal(tr.amount_reversed, 0);
  assert.equal(tr.destination, acct.id);
  assert.match(tr.destination_payment, /^py_/);
  assert.equal(tr.reversed, false);
  assert.equal(tr.transfer_group, 'ORDER_1');
  assert.deepEqual(tr.metadata, { order: '1' });
  assert.equal(tr.reversals.object, 'list');
  assertStripeShape(tr, 'transfer');
  // a retry with the same key makes nothing twice
  const again = await stripe.transfers.create(
    { amount: 5000, currency: 'usd', destination: acct.id, transfer_group: 'ORDER_1', metadata: { order: '1' } },
    { idempotencyKey: 'tr-once' },
  );
  assert.equal(again.id, tr.id);
  assert.deepEqual(await balance(stripe), { available: p0.available - 5000, pending: p0.pending });
  assert.deepEqual(await balance(stripe, as(acct)), { available: a0.available + 5000, pending: a0.pending });

  const pbt = await stripe.balanceTransactions.retrieve(tr.balance_transaction);
  assert.equal(pbt.type, 'transfer');
  assert.equal(pbt.amount, -5000);
  assert.equal(pbt.source, tr.id);
  assertStripeShape(pbt, 'balance_transaction');
  const abts = await stripe.balanceTransactions.list({ limit: 10 }, as(acct));
  const pay = abts.data.find((b) => b.source === tr.destination_payment);
  assert.ok(pay, 'the connected account sees the payment');
  assert.equal(pay.type, 'payment');
  assert.equal(pay.amount, 5000);
  assert.equal(pay.net, 5000);
  assert.equal(pay.status, 'available');
  assert.equal(pay.currency, 'usd');
  assert.equal(pay.exchange_rate, null, 'a transfer in the account\'s own currency converts nothing');
  assertStripeShape(pay, 'balance_transaction');

  assert.equal((await stripe.transfers.retrieve(tr.id)).id, tr.id);
  const upd = await stripe.transfers.update(tr.id, { description: 'weekly', metadata: { run: '7' } });
  assert.equal(upd.description, 'weekly');
  assert.deepEqual(upd.metadata, { order: '1', run: '7' });
  const byDest = await stripe.transfers.list({ destination: acct.id });
  assert.ok(byDest.data.some((t) => t.id === tr.id));
  const byGroup = await stripe.transfers.list({ transfer_group: 'NOPE' });
  assert.equal(byGroup.data.length, 0);

  const events = await stripe.events.list({ limit: 20 });
  const types = events.data.filter((e) => e.data.object.id === tr.id).map((e) => e.type);
  assert.deepEqual(types.sort(), ['transfer.created', 'transfer.updated']);
});

test('refused transfers change nothing', async () => {
  const p0 = await balance(stripe);
  await expectError(stripe.transfers.create({ amount: p0.available + 1, currency: 'usd', destination: acct.id }), 400, /insufficient/i);
  // another platform's account, an unknown one, the platform itself
  const theirs = await other.accounts.create({ type: 'express', country: 'US' });
  await expectError(stripe.transfers.create({ amount: 100, currency: 'usd', destination: theirs.id }), 404, /No such destination/);
  await expectError(stripe.transfers.create({ amount: 100, currency: 'usd', destination: 'acct_nope' }), 404, /No such destination/);
  await expectError(stripe.transfers.create({ amount: 100, currency: 'usd', destination: env.merchant.id }), 404);
  await expectError(stripe.transfers.create({ amount: 0, currency: 'usd', destination: acct.id }), 400);
  // the other platform cannot see or reverse this platform's transfers
  const mine = await stripe.transfers.list({ limit: 1 });
  await expectError(other.transfers.retrieve(mine.data[0].id), 404);
  await expectError(other.transfers.createReversal(mine.data[0].id, { amount: 1 }), 404);
  assert.deepEqual(await balance(stripe), p0);
  assert.deepEqual(await balance(other, as(theirs)), { available: 0, pending: 0 });
});

test('reversals take funds back from the connected account', async () => {
  await fund(5000);
  const tr = await stripe.transfers.create({ amount: 3000, currency: 'usd', destination: acct2.id });
  const p0 = await balance(stripe);
  const a0 = await balance(stripe, as(acct2));
  const rv = await stripe.transfers.createReversal(tr.id, { amount: 1000, metadata: { why: 'partial' } });
  assert.match(rv.id, /^trr_/);
  assert.equal(rv.amount, 1000);
  assert.equal(rv.transfer, tr.id);
  assert.match(rv.destination_payment_refund, /^pyr_/);
  assertStripeShape(rv, 'transfer_reversal');
  assert.deepEqual(await balance(stripe), { available: p0.available + 1000, pending: p0.pending });
  assert.deepEqual(await balance(stripe, as(acct2)), { available: a0.available - 1000, pending: a0.pending });
  // the connected account sees the transfer's payment as a Charge, its reversals as refunds
  const py = await stripe.charges.retrieve(tr.destination_payment, {}, as(acct2));
  assertStripeShape(py, 'charge');
  assert.equal(py.id, tr.destination_payment);
  assert.equal(py.amount, 3000);
  assert.equal(py.amount_refunded, 1000);
  assert.equal(py.refunded, false);
  assert.equal(py.source_transfer, tr.id);
  assert.equal(py.payment_method_details.type, 'stripe_account');
  assert.equal(py.status, 'succeeded');
  const ptxn = await stripe.balanceTransactions.retrieve(py.balance_transaction, { expand: ['source'] }, as(acct2));
  assert.equal(ptxn.type, 'payment');
  assert.equal(ptxn.source.id, py.id, 'its balance transaction\'s source expands to it');
  // the platform's transfer expands to it; the platform and other accounts cannot retrieve it
  const expanded = await stripe.transfers.retrieve(tr.id, { expand: ['destination_payment'] });
  assert.deepEqual(expanded.destination_payment, py);
  const listed = await stripe.transfers.list({ destination: acct2.id, limit: 1, expand: ['data.destination_payment'] });
  assert.equal(listed.data[0].destination_payment.source_transfer, listed.data[0].id);
  await expectError(stripe.charges.retrieve(py.id), 404);
  await expectError(stripe.charges.retrieve(py.id, {}, as(acct)), 404);
  // read-only: its money goes back through the transfer
  await expectError(stripe.refunds.create({ charge: py.id, amount: 1 }, as(acct2)), 400, /reverses the transfer/);
  await expectError(stripe.charges.capture(py.id, {}, as(acct2)), 400, /already been captured/);
  assert.deepEqual(await balance(stripe, as(acct2)), { available: a0.available - 1000, pending: a0.pending });
  await expectError(stripe.transfers.createReversal(tr.id, { amount: 2001 }), 400);
  const rest = await stripe.transfers.createReversal(tr.id); // the rest
  assert.equal(rest.amount, 2000);
  const after = await stripe.transfers.retrieve(tr.id);
  assert.equal(after.amount_reversed, 3000);
  assert.equal(after.reversed, true);
  assert.equal(after.reversals.data.length, 2);
  assert.equal((await stripe.charges.retrieve(tr.destination_payment, {}, as(acct2))).refunded, true);
  assertStripeShape(after, 'transfer');
  await expectError(stripe.transfers.createReversal(tr.id, { amount: 1 }), 400);
  const list = await stripe.transfers.listReversals(tr.id, { limit: 1 });
  assert.equal(list.data.length, 1);
  assert.equal(list.has_more, true);
  const got = await stripe.transfers.retrieveReversal(tr.id, rv.id);
  assert.deepEqual(got.metadata, { why: 'partial' });
  const upd = await stripe.transfers.updateReversal(tr.id, rv.id, { metadata: { n: '2' } });
  assert.deepEqual(upd.metadata, { why: 'partial', n: '2' });
  const pbt = await stripe.balanceTransactions.retrieve(rv.balance_transaction);
  assert.equal(pbt.type, 'transfer_refund');
  assert.equal(pbt.amount, 1000);
  assert.equal(pbt.reporting_category, 'transfer_reversal');
});

test('a destination charge transfers the payment and collects the application fee', async () => {
  const p0 = await balance(stripe);
  const a0 = await balance(stripe, as(acct));
  const pi = await stripe.paymentIntents.create({
    amount: 10000,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: true,
    application_fee_amount: 1230,
    transfer_data: { destination: acct.id },
    transfer_group: 'RIDE_9',
  });
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.application_fee_amount, 1230);
  assert.deepEqual(pi.transfer_data, { destination: acct.id });
  assert.equal(pi.transfer_group, 'RIDE_9');
  assertStripeShape(pi, 'payment_intent');
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.match(ch.transfer, /^tr_/);
  assert.match(ch.application_fee, /^fee_/);
  assert.equal(ch.application_fee_amount, 1230);
  assert.deepEqual(ch.transfer_data, { amount: null, destination: acct.id });
  assertStripeShape(ch, 'charge');
  const tr = await stripe.transfers.retrieve(ch.transfer);
  assert.equal(tr.amount, 10000);
  assert.equal(tr.source_transaction, ch.id);
  assert.equal(tr.destination, acct.id);
  assert.equal(tr.transfer_group, 'RIDE_9');
  const fee = await stripe.applicationFees.retrieve(ch.application_fee);
  assert.equal(fee.amount, 1230);
  assert.equal(fee.account, acct.id);
  assert.equal(fee.charge, tr.destination_payment);
  assert.equal(fee.originating_transaction, ch.id);
  assert.equal(fee.refunded, false);
  assertStripeShape(fee, 'application_fee');
  const fees = await stripe.applicationFees.list({ charge: ch.id });
  assert.deepEqual(fees.data.map((f) => f.id), [fee.id]);
  // the charge's funds are pending: so are both sides of what it funded
  assert.deepEqual(await balance(stripe), { available: p0.available, pending: p0.pending + 10000 - 320 - 10000 + 1230 });
  assert.deepEqual(await balance(stripe, as(acct)), { available: a0.available, pending: a0.pending + 10000 - 1230 });
  const abts = await stripe.balanceTransactions.list({ limit: 5 }, as(acct));
  const pay = abts.data.find((b) => b.source === tr.destination_payment);
  assert.equal(pay.type, 'payment');
  assert.equal(pay.fee, 1230);
  assert.equal(pay.net, 8770);
  assert.equal(pay.status, 'pending');
  assert.equal(pay.fee_details[0].type, 'application_fee');
  const fbt = await stripe.balanceTransactions.retrieve(fee.balance_transaction);
  assert.equal(fbt.type, 'application_fee');
  assert.equal(fbt.reporting_category, 'platform_earning');
  const events = (await stripe.events.list({ limit: 30 })).data;
  const made = events.filter((e) => e.data.object.id === tr.id || e.data.object.id === fee.id);
  assert.deepEqual(made.map((e) => e.type).sort(), ['application_fee.created', 'transfer.created']);
  // both carry the request of the confirmation that captured the charge
  const piEvent = events.find((e) => e.type === 'payment_intent.succeeded' && e.data.object.id === pi.id);
  for (const e of made) assert.equal(e.request.id, piEvent.request.id);
});

test('a captured part of a destination charge with transfer_data[amount]', async () => {
  const a0 = await balance(stripe, as(acct2));
  const pi = await stripe.paymentIntents.create({
    amount: 8000,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    capture_method: 'manual',
    confirm: true,
    transfer_data: { destination: acct2.id, amount: 7000 },
  });
  assert.equal(pi.status, 'requires_capture');
  assert.deepEqual(pi.transfer_data, { amount: 7000, destination: acct2.id });
  let ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(ch.transfer, undefined); // not until it is captured
  assert.deepEqual(await balance(stripe, as(acct2)), a0);
  const done = await stripe.paymentIntents.capture(pi.id, { amount_to_capture: 6000 });
  assert.equal(done.status, 'succeeded');
  ch = await stripe.charges.retrieve(pi.latest_charge);
  const tr = await stripe.transfers.retrieve(ch.transfer);
  assert.equal(tr.amount, 6000); // never more than was captured
  assert.equal(ch.application_fee, null);
  assert.deepEqual(await balance(stripe, as(acct2)), { available: a0.available, pending: a0.pending + 6000 });
});

test('a transfer funded by a charge, never beyond it', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 5000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, transfer_group: 'ORDER_77' });
  assert.equal(pi.transfer_group, 'ORDER_77');
  const charge = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(charge.transfer_group, 'ORDER_77'); // separate charges and transfers share a group
  assert.equal(charge.transfer_data, null);
  const a0 = await balance(stripe, as(acct2));
  const tr = await stripe.transfers.create({ amount: 3000, currency: 'usd', destination: acct2.id, source_transaction: pi.latest_charge });
  assert.equal(tr.source_transaction, pi.latest_charge);
  assert.deepEqual(await balance(stripe, as(acct2)), { available: a0.available, pending: a0.pending + 3000 });
  await expectError(stripe.transfers.create({ amount: 2001, currency: 'usd', destination: acct2.id, source_transaction: pi.latest_charge }), 400, /left to transfer/);
  await expectError(stripe.transfers.create({ amount: 10, currency: 'usd', destination: acct2.id, source_transaction: 'ch_nope' }), 404);
  const last = await stripe.transfers.create({ amount: 2000, currency: 'usd', destination: acct2.id, source_transaction: pi.latest_charge });
  assert.equal(last.amount, 2000);
});

test('destination charges refuse what they cannot do, before anything moves', async () => {
  const p0 = await balance(stripe);
  const base = { amount: 2000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true };
  await expectError(stripe.paymentIntents.create({ ...base, application_fee_amount: 100 }), 400, /destination/);
  await expectError(stripe.paymentIntents.create({ ...base, transfer_data: { destination: 'acct_nope' } }), 400, /connected account/);
  const theirs = await other.accounts.create({ type: 'express', country: 'US' });
  await expectError(stripe.paymentIntents.create({ ...base, transfer_data: { destination: theirs.id } }), 400);
  await expectError(stripe.paymentIntents.create({ ...base, application_fee_amount: 2001, transfer_data: { destination: acct.id } }), 400);
  await expectError(stripe.paymentIntents.create({ ...base, application_fee_amount: 10, transfer_data: { destination: acct.id, amount: 100 } }), 400);
  assert.deepEqual(await balance(stripe), p0);
});

test('refunds of a destination charge: reverse_transfer and refund_application_fee', async () => {
  const pi = await stripe.paymentIntents.create({
    amount: 10000,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: true,
    application_fee_amount: 1000,
    transfer_data: { destination: acct.id },
  });
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  const p0 = await balance(stripe);
  const a0 = await balance(stripe, as(acct));
  // a plain refund comes out of the platform's balance only
  const plain = await stripe.refunds.create({ payment_intent: pi.id, amount: 1000 });
  assert.equal(plain.transfer_reversal, null);
  assert.deepEqual(await balance(stripe, as(acct)), a0);
  // a quarter, with the transfer and the fee in proportion
  const rf = await stripe.refunds.create({ payment_intent: pi.id, amount: 2500, reverse_transfer: true, refund_application_fee: true });
  assert.match(rf.transfer_reversal, /^trr_/);
  assertStripeShape(rf, 'refund');
  let tr = await stripe.transfers.retrieve(ch.transfer);
  assert.equal(tr.amount_reversed, 2500);
  assert.equal(tr.reversals.data[0].source_refund, rf.id);
  let fee = await stripe.applicationFees.retrieve(ch.application_fee);
  assert.equal(fee.amount_refunded, 250);
  assert.equal(fee.refunds.data.length, 1);
  assertStripeShape(fee.refunds.data[0], 'fee_refund');
  assertStripeShape(fee, 'application_fee');
  // the connected account paid back 2500 and got 250 of its fee back, at once
  assert.deepEqual(await balance(stripe, as(acct)), { available: a0.available - 2500 + 250, pending: a0.pending });
  assert.deepEqual(await balance(stripe), { available: p0.available - 1000 - 2500 + 2500 - 250, pending: p0.pending });
  // the rest: everything left of both
  await stripe.refunds.create({ payment_intent: pi.id, reverse_transfer: true, refund_application_fee: true });
  tr = await stripe.transfers.retrieve(ch.transfer);
  assert.equal(tr.amount_reversed, 10000); // the charge is fully refunded: all that was left
  assert.equal(tr.reversed, true);
  fee = await stripe.applicationFees.retrieve(ch.application_fee);
  assert.equal(fee.amount_refunded, 1000);
  assert.equal(fee.refunded, true);
  // a charge that is not a destination charge has nothing to reverse: refused, nothing moves
  const plainPi = await stripe.paymentIntents.create({ amount: 3000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
  const before = await balance(stripe);
  await expectError(stripe.refunds.create({ payment_intent: plainPi.id, reverse_transfer: true }), 400, /not a destination charge/);
  assert.deepEqual(await balance(stripe), before);
});

test('a destination charge in another currency: converted at capture, its transfer and fee with it', async () => {
  // eur on a usd platform: the capture converts at the day's rate, and what moves to the
  // connected account moves in usd at that same rate (the whole capture: exactly what it booked)
  const p0 = await balance(stripe);
  const a0 = await balance(stripe, as(acct2));
  const pi = await stripe.paymentIntents.create({
    amount: 10000, currency: 'eur', payment_method: 'pm_card_visa', confirm: true,
    application_fee_amount: 1000, transfer_data: { destination: acct2.id },
  });
  assert.equal(pi.status, 'succeeded');
  const ch = await stripe.charges.retrieve(pi.latest_charge, { expand: ['balance_transaction'] });
  const bt = ch.balance_transaction;
  assert.equal(bt.currency, 'usd');
  assert.ok(bt.exchange_rate > 0);
  const tr = await stripe.transfers.retrieve(ch.transfer);
  assertStripeShape(tr, 'transfer');
  assert.equal(tr.currency, 'usd');
  assert.equal(tr.amount, bt.amount);
  const fee = await stripe.applicationFees.retrieve(ch.application_fee);
  assertStripeShape(fee, 'application_fee');
  assert.equal(fee.currency, 'usd');
  // the charge's transfer and application fee expand, also through the intent's latest_charge
  const ex = await stripe.charges.retrieve(ch.id, { expand: ['transfer', 'application_fee'] });
  assert.deepEqual(ex.transfer, tr);
  assert.deepEqual(ex.application_fee, fee);
  const exPi = await stripe.paymentIntents.retrieve(pi.id, { expand: ['latest_charge.transfer'] });
  assert.equal(exPi.latest_charge.transfer.id, tr.id);
  assert.equal(typeof exPi.latest_charge.application_fee, 'string');
  const exList = await stripe.charges.list({ payment_intent: pi.id, expand: ['data.transfer'] });
  assert.equal(exList.data[0].transfer.id, tr.id);
  await expectError(other.charges.retrieve(ch.id, { expand: ['transfer'] }), 404);
  assert.equal(fee.amount, Math.round(1000 * bt.exchange_rate));
  assert.deepEqual(await balance(stripe, as(acct2)), { available: a0.available, pending: a0.pending + tr.amount - fee.amount });
  assert.deepEqual(await balance(stripe), { available: p0.available, pending: p0.pending + bt.net - tr.amount + fee.amount });
  // refunds reverse the usd transfer and fee in proportion; the whole of both at the end
  await stripe.refunds.create({ payment_intent: pi.id, amount: 2500, reverse_transfer: true, refund_application_fee: true });
  let t = await stripe.transfers.retrieve(ch.transfer);
  assert.equal(t.amount_reversed, Math.round(tr.amount / 4));
  assert.equal(t.reversals.data[0].currency, 'usd');
  await stripe.refunds.create({ payment_intent: pi.id, reverse_transfer: true, refund_application_fee: true });
  t = await stripe.transfers.retrieve(ch.transfer);
  assert.equal(t.amount_reversed, tr.amount);
  assert.equal((await stripe.applicationFees.retrieve(ch.application_fee)).amount_refunded, fee.amount);
  // the connected account is back where it was; the platform is out the processing fee only
  const a1 = await balance(stripe, as(acct2));
  assert.equal(a1.available + a1.pending, a0.available + a0.pending);
  const p1 = await balance(stripe);
  assert.equal(p1.available + p1.pending, p0.available + p0.pending - bt.fee);

  // transfer_data[amount] is in the charge's currency, converted at the same rate
  const part = await stripe.paymentIntents.create({
    amount: 10000, currency: 'eur', payment_method: 'pm_card_visa', confirm: true,
    transfer_data: { destination: acct2.id, amount: 4000 },
  });
  const pch = await stripe.charges.retrieve(part.latest_charge, { expand: ['balance_transaction'] });
  const ptr = await stripe.transfers.retrieve(pch.transfer);
  assert.equal(ptr.currency, 'usd');
  assert.equal(ptr.amount, Math.round(4000 * pch.balance_transaction.exchange_rate));

  // a transfer funded by a converted charge is in the settled currency, never beyond it
  const plain = await stripe.paymentIntents.create({ amount: 5000, currency: 'eur', payment_method: 'pm_card_visa', confirm: true });
  const plainBt = (await stripe.charges.retrieve(plain.latest_charge, { expand: ['balance_transaction'] })).balance_transaction;
  await expectError(stripe.transfers.create({ amount: 100, currency: 'eur', destination: acct2.id, source_transaction: plain.latest_charge }), 400, /currency/);
  await expectError(stripe.transfers.create({ amount: plainBt.amount + 1, currency: 'usd', destination: acct2.id, source_transaction: plain.latest_charge }), 400, /left to transfer/);
  const all = await stripe.transfers.create({ amount: plainBt.amount, currency: 'usd', destination: acct2.id, source_transaction: plain.latest_charge });
  assert.equal(all.amount, plainBt.amount);
});

test('an application fee refunded through its own route', async () => {
  const pi = await stripe.paymentIntents.create({
    amount: 4000,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: true,
    application_fee_amount: 400,
    transfer_data: { destination: acct2.id },
  });
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  const a0 = await balance(stripe, as(acct2));
  const fr = await stripe.applicationFees.createRefund(ch.application_fee, { amount: 150, metadata: { why: 'goodwill' } });
  assert.match(fr.id, /^fr_/);
  assert.equal(fr.amount, 150);
  assert.equal(fr.fee, ch.application_fee);
  assertStripeShape(fr, 'fee_refund');
  assert.deepEqual(await balance(stripe, as(acct2)), { available: a0.available + 150, pending: a0.pending });
  await expectError(stripe.applicationFees.createRefund(ch.application_fee, { amount: 251 }), 400);
  const list = await stripe.applicationFees.listRefunds(ch.application_fee);
  assert.deepEqual(list.data.map((x) => x.id), [fr.id]);
  const got = await stripe.applicationFees.retrieveRefund(ch.application_fee, fr.id);
  assert.deepEqual(got.metadata, { why: 'goodwill' });
  const upd = await stripe.applicationFees.updateRefund(ch.application_fee, fr.id, { metadata: { n: '1' } });
  assert.deepEqual(upd.metadata, { why: 'goodwill', n: '1' });
  const pbt = await stripe.balanceTransactions.retrieve(got.balance_transaction);
  assert.equal(pbt.type, 'application_fee_refund');
  assert.equal(pbt.amount, -150);
  await expectError(other.applicationFees.retrieve(ch.application_fee), 404);
  const events = (await stripe.events.list({ limit: 10 })).data.map((e) => e.type);
  assert.ok(events.includes('application_fee.refunded'));
});

test('legacy POST /v1/application_fees/{id}/refund: the same refund, answered with the fee', async () => {
  const pi = await stripe.paymentIntents.create({
    amount: 3000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true,
    application_fee_amount: 300, transfer_data: { destination: acct2.id },
  });
  const feeId = (await stripe.charges.retrieve(pi.latest_charge)).application_fee;
  const a0 = await balance(stripe, as(acct2));
  const key = { idempotencyKey: `legacy-fee-${feeId}` };
  const fee = await stripe.rawRequest('POST', `/v1/application_fees/${feeId}/refund`, { amount: 100 }, key);
  assert.equal(fee.object, 'application_fee');
  assert.equal(fee.id, feeId);
  assert.equal(fee.amount_refunded, 100);
  assert.equal(fee.refunded, false);
  assert.equal(fee.refunds.data.length, 1);
  assertStripeShape(fee, 'application_fee');
  // the same key answers the same, and refunds nothing more
  const again = await stripe.rawRequest('POST', `/v1/application_fees/${feeId}/refund`, { amount: 100 }, key);
  assert.equal(JSON.stringify(again), JSON.stringify(fee));
  assert.deepEqual(await balance(stripe, as(acct2)), { available: a0.available + 100, pending: a0.pending });
  await expectError(stripe.rawRequest('POST', `/v1/application_fees/${feeId}/refund`, { amount: 201 }), 400);
  await expectError(stripe.rawRequest('POST', `/v1/application_fees/${feeId}/refund`, { metadata: { a: 'b' } }), 400);
  await expectError(other.rawRequest('POST', `/v1/application_fees/${feeId}/refund`, {}), 404);
  // without amount: the rest of it
  const all = await stripe.rawRequest('POST', `/v1/application_fees/${feeId}/refund`, {});
  assert.equal(all.amount_refunded, 300);
  assert.equal(all.refunded, true);
  assertStripeShape(all, 'application_fee');
  const list = await stripe.applicationFees.listRefunds(feeId);
  assert.deepEqual(list.data.map((x) => x.amount), [200, 100]);
  await expectError(stripe.rawRequest('POST', `/v1/application_fees/${feeId}/refund`, {}), 400);
});

test('a direct charge on a connected account pays its platform the application fee', async () => {
  const p0 = await balance(stripe);
  const a0 = await balance(stripe, as(acct2));
  const pi = await stripe.paymentIntents.create(
    { amount: 5000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, application_fee_amount: 500 },
    as(acct2),
  );
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.application_fee_amount, 500);
  assert.equal(pi.transfer_data, null);
  const ch = await stripe.charges.retrieve(pi.latest_charge, {}, as(acct2));
  assert.match(ch.application_fee, /^fee_/);
  assert.equal(ch.transfer, undefined);
  assertStripeShape(ch, 'charge');
  // the fee is the platform's object
  const fee = await stripe.applicationFees.retrieve(ch.application_fee);
  assert.equal(fee.amount, 500);
  assert.equal(fee.account, acct2.id);
  assert.equal(fee.charge, ch.id);
  assert.equal(fee.originating_transaction, null);
  assertStripeShape(fee, 'application_fee');
  await expectError(stripe.applicationFees.retrieve(ch.application_fee, {}, as(acct2)), 404);
  const cbt = await stripe.balanceTransactions.retrieve(ch.balance_transaction, {}, as(acct2));
  assert.deepEqual(await balance(stripe, as(acct2)), { available: a0.available, pending: a0.pending + cbt.net - 500 });
  assert.deepEqual(await balance(stripe), { available: p0.available, pending: p0.pending + 500 });
  const abts = await stripe.balanceTransactions.list({ limit: 5 }, as(acct2));
  const paid = abts.data.find((b) => b.type === 'application_fee' && b.source === fee.id);
  assert.equal(paid.amount, -500);
  // a full refund through Stripe-Account gives the fee back too
  const a1 = await balance(stripe, as(acct2));
  await stripe.refunds.create({ payment_intent: pi.id, refund_application_fee: true }, as(acct2));
  const after = await stripe.applicationFees.retrieve(ch.application_fee);
  assert.equal(after.amount_refunded, 500);
  assert.deepEqual(await balance(stripe, as(acct2)), { available: a1.available - 5000 + 500, pending: a1.pending });
  // reverse_transfer has nothing to reverse on a direct charge
  const pi2 = await stripe.paymentIntents.create(
    { amount: 2000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, application_fee_amount: 100 },
    as(acct2),
  );
  await expectError(stripe.refunds.create({ payment_intent: pi2.id, reverse_transfer: true }, as(acct2)), 400, /no transfer/);
  // a direct charge in another currency: the account's funds are converted, and the fee with them
  const a2 = await balance(stripe, as(acct2));
  const p2 = await balance(stripe);
  const eur = await stripe.paymentIntents.create(
    { amount: 8000, currency: 'eur', payment_method: 'pm_card_visa', confirm: true, application_fee_amount: 800 },
    as(acct2),
  );
  const ech = await stripe.charges.retrieve(eur.latest_charge, { expand: ['balance_transaction'] }, as(acct2));
  const ebt = ech.balance_transaction;
  assert.equal(ebt.currency, 'usd');
  const efee = await stripe.applicationFees.retrieve(ech.application_fee);
  assert.equal(efee.currency, 'usd');
  assert.equal(efee.amount, Math.round(800 * ebt.exchange_rate));
  assert.deepEqual(await balance(stripe, as(acct2)), { available: a2.available, pending: a2.pending + ebt.net - efee.amount });
  assert.deepEqual(await balance(stripe), { available: p2.available, pending: p2.pending + efee.amount });
});

test('transfers and payouts at once never take more than the balance, nor reversals more than a transfer', async () => {
  // a platform of its own, so that the balance is known
  const s = other;
  const dest = await s.accounts.create({ type: 'express', country: 'US' });
  const pi = await s.paymentIntents.create({ amount: 5000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true });
  assert.equal(pi.status, 'succeeded');
  const avail = (await balance(s)).available; // 4825
  const asks = Array.from({ length: 10 }, (_, i) =>
    i % 3 === 2 ? s.payouts.create({ amount: 700, currency: 'usd' }) : s.transfers.create({ amount: 700, currency: 'usd', destination: dest.id }));
  const results = await Promise.allSettled(asks);
  for (const x of results.filter((y) => y.status === 'rejected')) {
    assert.ok(['balance_insufficient', 'lock_timeout'].includes(x.reason.code), x.reason.message);
  }
  const ok = results.filter((x) => x.status === 'fulfilled').map((x) => x.value);
  assert.ok(ok.length >= 1 && ok.length * 700 <= avail, `${ok.length} draws of 700 from ${avail}`);
  assert.equal((await balance(s)).available, avail - ok.length * 700);
  const transfers = ok.filter((x) => x.object === 'transfer');
  assert.equal((await balance(s, as(dest))).available, transfers.length * 700);
  if (transfers.length) {
    // many reversals of one transfer at once: together never more than it
    const tr = transfers[0];
    const revs = await Promise.allSettled(Array.from({ length: 6 }, () => s.transfers.createReversal(tr.id, { amount: 200 })));
    const done = revs.filter((x) => x.status === 'fulfilled').length;
    assert.equal(done, 3, 'three reversals of 200 fit in 700');
    assert.equal((await s.transfers.retrieve(tr.id)).amount_reversed, 600);
  }
});

// ---- a connected account's own settlement currency ----

// The account's balance in one currency, through Stripe-Account.
async function balanceIn(s, opts, currency) {
  const b = await s.balance.retrieve({}, opts);
  const pick = (rows) => (rows.find((x) => x.currency === currency) || { amount: 0 }).amount;
  return { available: pick(b.available), pending: pick(b.pending) };
}

// The connected account's balance transaction whose source is id.
async function accountBt(a, source) {
  for await (const b of stripe.balanceTransactions.list({ limit: 100 }, as(a))) {
    if (b.source === source) return b;
  }
  return null;
}

let eurAcct; // a Custom account with default_currency=eur under the usd platform
let usdRate; // Tender's usd→eur rate today (the bundled rates: fixed)

async function eurAccount() {
  if (eurAcct) return eurAcct;
  eurAcct = await stripe.accounts.create({
    type: 'custom', country: 'DE', default_currency: 'eur', capabilities: { transfers: { requested: true } },
    external_account: { object: 'bank_account', country: 'DE', currency: 'eur', account_number: '000123456789' },
  });
  assert.equal(eurAcct.default_currency, 'eur');
  usdRate = (await stripe.exchangeRates.retrieve('usd')).rates.eur;
  assert.ok(usdRate > 0);
  return eurAcct;
}
const toEur = (usd) => Math.round(usd * usdRate);

test('a usd transfer to an account settling in eur arrives in eur at the rate of the day; reversals take back at its rate', async () => {
  const a = await eurAccount();
  await fund(20000);
  const p0 = await balance(stripe);
  const a0 = await balanceIn(stripe, as(a), 'eur');
  const tr = await stripe.transfers.create({ amount: 10001, currency: 'usd', destination: a.id });
  // the transfer itself stays the platform's: usd, its amount
  assert.equal(tr.currency, 'usd');
  assert.equal(tr.amount, 10001);
  assertStripeShape(tr, 'transfer');
  const pbt = await stripe.balanceTransactions.retrieve(tr.balance_transaction);
  assert.equal(pbt.currency, 'usd');
  assert.equal(pbt.amount, -10001);
  assert.equal(pbt.exchange_rate, null);
  assert.deepEqual(await balance(stripe), { available: p0.available - 10001, pending: p0.pending });
  // the account's payment: in eur, converted once, with the rate
  const pay = await accountBt(a, tr.destination_payment);
  assertStripeShape(pay, 'balance_transaction');
  assert.equal(pay.type, 'payment');
  assert.equal(pay.currency, 'eur');
  assert.equal(pay.exchange_rate, usdRate);
  assert.equal(pay.amount, toEur(10001));
  assert.equal(pay.net, pay.amount);
  assert.deepEqual(await balanceIn(stripe, as(a), 'eur'), { available: a0.available + pay.amount, pending: a0.pending });
  assert.deepEqual(await balanceIn(stripe, as(a), 'usd'), { available: 0, pending: 0 }, 'nothing lands in usd');
  // its Charge there: what arrived, converted
  const py = await stripe.charges.retrieve(tr.destination_payment, {}, as(a));
  assert.deepEqual([py.amount, py.currency, py.balance_transaction], [pay.amount, 'eur', pay.id]);
  const eurOnly = await stripe.balanceTransactions.list({ currency: 'eur', limit: 100 }, as(a));
  assert.ok(eurOnly.data.some((b) => b.id === pay.id));

  // a partial reversal: 2500 usd back to the platform, round(2500 × rate) eur from the account
  const rv = await stripe.transfers.createReversal(tr.id, { amount: 2500 });
  assertStripeShape(rv, 'transfer_reversal');
  assert.equal(rv.currency, 'usd');
  assert.equal(rv.amount, 2500);
  const back1 = await accountBt(a, rv.destination_payment_refund);
  assertStripeShape(back1, 'balance_transaction');
  assert.equal(back1.type, 'payment_refund');
  assert.equal(back1.currency, 'eur');
  assert.equal(back1.exchange_rate, usdRate, 'the transfer\'s own rate');
  assert.equal(back1.amount, -toEur(2500));
  assert.deepEqual(await balance(stripe), { available: p0.available - 10001 + 2500, pending: p0.pending });
  // another part, rounded cumulatively: round(5000 × rate) − what the first took
  const rv2 = await stripe.transfers.createReversal(tr.id, { amount: 2500 });
  const back2 = await accountBt(a, rv2.destination_payment_refund);
  assert.equal(back2.amount, -(toEur(5000) - toEur(2500)));
  // the rest: exactly what is left of what arrived, never more
  const rest = await stripe.transfers.createReversal(tr.id);
  assert.equal(rest.amount, 5001);
  const back3 = await accountBt(a, rest.destination_payment_refund);
  assert.equal(back1.amount + back2.amount + back3.amount, -pay.amount);
  assert.deepEqual(await balanceIn(stripe, as(a), 'eur'), a0);
  assert.deepEqual(await balance(stripe), p0);
  const after = await stripe.transfers.retrieve(tr.id);
  assert.equal(after.reversed, true);
  assertStripeShape(after, 'transfer');
  await expectError(stripe.transfers.createReversal(tr.id, { amount: 1 }), 400);

  // a transfer funded by one of the platform's usd charges (its funds still pending) arrives
  // in eur too, pending until the charge's funds are available
  const src = await stripe.paymentIntents.create({ amount: 4000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
  const fromCharge = await stripe.transfers.create({ amount: 3000, currency: 'usd', destination: a.id, source_transaction: src.latest_charge });
  assert.equal(fromCharge.currency, 'usd');
  assert.equal(fromCharge.source_transaction, src.latest_charge);
  const pending = await accountBt(a, fromCharge.destination_payment);
  assert.equal(pending.currency, 'eur');
  assert.equal(pending.status, 'pending');
  assert.equal(pending.amount, toEur(3000));
  assert.deepEqual(await balanceIn(stripe, as(a), 'eur'), { available: a0.available, pending: a0.pending + toEur(3000) });
});

test('a usd destination charge settles to an eur account in eur; refunds reverse at its rate; the account pays out in eur', async () => {
  const a = await eurAccount();
  const p0 = await balance(stripe);
  const a0 = await balanceIn(stripe, as(a), 'eur');
  const pi = await stripe.paymentIntents.create({
    amount: 10000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true,
    application_fee_amount: 1000, transfer_data: { destination: a.id },
  });
  assert.equal(pi.status, 'succeeded');
  const ch = await stripe.charges.retrieve(pi.latest_charge, { expand: ['balance_transaction'] });
  assert.equal(ch.balance_transaction.currency, 'usd');
  const tr = await stripe.transfers.retrieve(ch.transfer);
  assert.equal(tr.currency, 'usd');
  assert.equal(tr.amount, 10000);
  const fee = await stripe.applicationFees.retrieve(ch.application_fee);
  assertStripeShape(fee, 'application_fee');
  assert.equal(fee.currency, 'usd', 'the application fee stays in the platform\'s currency');
  assert.equal(fee.amount, 1000);
  // the account's payment: 10000 usd in eur, the fee at the same rate
  const pay = await accountBt(a, tr.destination_payment);
  assertStripeShape(pay, 'balance_transaction');
  assert.equal(pay.currency, 'eur');
  assert.equal(pay.exchange_rate, usdRate);
  assert.equal(pay.amount, toEur(10000));
  assert.equal(pay.fee, toEur(1000));
  assert.deepEqual(pay.fee_details.map((d) => [d.type, d.currency, d.amount]), [['application_fee', 'eur', toEur(1000)]]);
  assert.deepEqual(await balanceIn(stripe, as(a), 'eur'), { available: a0.available + pay.net, pending: a0.pending });
  const p1 = await balance(stripe);
  assert.equal(p1.available, p0.available + ch.balance_transaction.net - 10000 + 1000);

  // half refunded with the transfer and the fee: both at the transfer's rate
  const rf = await stripe.refunds.create({ payment_intent: pi.id, amount: 5000, reverse_transfer: true, refund_application_fee: true });
  assert.equal(rf.status, 'succeeded');
  const t1 = await stripe.transfers.retrieve(ch.transfer);
  assert.equal(t1.amount_reversed, 5000);
  const back = await accountBt(a, t1.reversals.data[0].destination_payment_refund);
  assert.equal(back.currency, 'eur');
  assert.equal(back.amount, -toEur(5000));
  const f1 = await stripe.applicationFees.retrieve(ch.application_fee);
  assert.equal(f1.amount_refunded, 500);
  const feeBack = await accountBt(a, f1.refunds.data[0].id);
  assertStripeShape(feeBack, 'balance_transaction');
  assert.equal(feeBack.type, 'application_fee_refund');
  assert.equal(feeBack.currency, 'eur');
  assert.equal(feeBack.amount, toEur(500));
  assert.equal(feeBack.exchange_rate, usdRate);
  // the rest: the account is back where it was, in eur, to the cent
  await stripe.refunds.create({ payment_intent: pi.id, reverse_transfer: true, refund_application_fee: true });
  assert.deepEqual(await balanceIn(stripe, as(a), 'eur'), a0);
  const p2 = await balance(stripe);
  assert.equal(p2.available + p2.pending, p0.available + p0.pending - ch.balance_transaction.fee);

  // the account's eur funds pay out in eur, to its eur bank account
  await stripe.paymentIntents.create({
    amount: 6000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true, transfer_data: { destination: a.id },
  });
  const a1 = await balanceIn(stripe, as(a), 'eur');
  assert.equal(a1.available, a0.available + toEur(6000));
  const po = await stripe.payouts.create({ amount: toEur(6000), currency: 'eur' }, as(a));
  assertStripeShape(po, 'payout');
  assert.equal(po.currency, 'eur');
  assert.equal(po.amount, toEur(6000));
  assert.deepEqual(await balanceIn(stripe, as(a), 'eur'), { available: a1.available - toEur(6000), pending: a1.pending });
  await expectError(stripe.payouts.create({ amount: 100, currency: 'usd' }, as(a)), 400);
});

test('an account with an external account in the transfer\'s currency settles it there, unconverted', async () => {
  // Stripe's multi-currency settlement: a currency the account can pay out stays in it
  const a = await stripe.accounts.create({ type: 'custom', country: 'DE', default_currency: 'eur' });
  await stripe.accounts.createExternalAccount(a.id, {
    external_account: { object: 'bank_account', country: 'US', currency: 'usd', routing_number: '110000000', account_number: '000123456789' },
  });
  await fund(3000);
  const tr = await stripe.transfers.create({ amount: 1500, currency: 'usd', destination: a.id });
  const pay = await accountBt(a, tr.destination_payment);
  assert.equal(pay.currency, 'usd');
  assert.equal(pay.amount, 1500);
  assert.equal(pay.exchange_rate, null);
  assert.deepEqual(await balanceIn(stripe, as(a), 'usd'), { available: 1500, pending: 0 });
  assert.deepEqual(await balanceIn(stripe, as(a), 'eur'), { available: 0, pending: 0 });
  // without one, a currency Tender has no rate for into the account's is refused: nothing moves
  const ae = await stripe.accounts.create({ type: 'custom', country: 'AE', default_currency: 'aed' });
  const p0 = await balance(stripe);
  await expectError(stripe.transfers.create({ amount: 100, currency: 'usd', destination: ae.id }), 400, /exchange rate/);
  // and a destination charge to it is refused when it is made, before anything is charged
  await assert.rejects(
    stripe.paymentIntents.create({ amount: 2000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, transfer_data: { destination: ae.id } }),
    (e) => e.statusCode === 400 && e.param === 'transfer_data[destination]' && /exchange rate/.test(e.message),
  );
  assert.deepEqual(await balance(stripe), p0);
});

test("a connected account's own charges settle as its transfers do: a currency it has an external account in stays in it", async () => {
  // Stripe's multi-currency settlement for direct charges: an eur account with a usd bank
  // account keeps its usd charges in usd (no conversion, paid out to that bank account), and
  // converts a gbp one into eur, its default currency
  const a = await stripe.accounts.create({ type: 'custom', country: 'DE', default_currency: 'eur' });
  const bank = await stripe.accounts.createExternalAccount(a.id, {
    external_account: { object: 'bank_account', country: 'US', currency: 'usd', routing_number: '110000000', account_number: '000123456789' },
  });
  const p0 = await balance(stripe);
  const pi = await stripe.paymentIntents.create(
    { amount: 5000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true, application_fee_amount: 500 },
    as(a),
  );
  assert.equal(pi.status, 'succeeded');
  const ch = await stripe.charges.retrieve(pi.latest_charge, { expand: ['balance_transaction'] }, as(a));
  const bt = ch.balance_transaction;
  assertStripeShape(bt, 'balance_transaction');
  assert.equal(bt.type, 'charge');
  assert.equal(bt.currency, 'usd');
  assert.equal(bt.amount, 5000);
  assert.equal(bt.exchange_rate, null);
  const fee = await stripe.applicationFees.retrieve(ch.application_fee);
  assert.equal(fee.currency, 'usd');
  assert.equal(fee.amount, 500);
  assert.deepEqual(await balanceIn(stripe, as(a), 'usd'), { available: bt.net - 500, pending: 0 });
  assert.deepEqual(await balanceIn(stripe, as(a), 'eur'), { available: 0, pending: 0 }, 'nothing converted into eur');
  assert.deepEqual(await balance(stripe), { available: p0.available + 500, pending: p0.pending });
  // a partial refund comes out of the usd balance, unconverted
  const rf = await stripe.refunds.create({ charge: ch.id, amount: 1000 }, as(a));
  const rbt = await stripe.balanceTransactions.retrieve(rf.balance_transaction, {}, as(a));
  assertStripeShape(rbt, 'balance_transaction');
  assert.equal(rbt.currency, 'usd');
  assert.equal(rbt.amount, -1000);
  assert.equal(rbt.exchange_rate, null);
  const usd = await balanceIn(stripe, as(a), 'usd');
  assert.deepEqual(usd, { available: bt.net - 500 - 1000, pending: 0 });
  // a currency it has no external account in is converted into its default currency
  const gbp = await stripe.paymentIntents.create(
    { amount: 3000, currency: 'gbp', payment_method: 'pm_card_bypassPending', confirm: true }, as(a),
  );
  const gch = await stripe.charges.retrieve(gbp.latest_charge, { expand: ['balance_transaction'] }, as(a));
  assertStripeShape(gch.balance_transaction, 'balance_transaction');
  assert.equal(gch.balance_transaction.currency, 'eur');
  assert.ok(gch.balance_transaction.exchange_rate > 0);
  assert.deepEqual(await balanceIn(stripe, as(a), 'eur'), { available: gch.balance_transaction.net, pending: 0 });
  assert.deepEqual(await balanceIn(stripe, as(a), 'gbp'), { available: 0, pending: 0 });
  // the usd balance pays out in usd, to the usd bank account
  const po = await stripe.payouts.create({ amount: usd.available, currency: 'usd' }, as(a));
  assertStripeShape(po, 'payout');
  assert.equal(po.currency, 'usd');
  assert.equal(po.destination, bank.id);
  assert.deepEqual(await balanceIn(stripe, as(a), 'usd'), { available: 0, pending: 0 });
  // the platform's own charges are unchanged: one settlement currency, eur converted into usd
  const own = await stripe.paymentIntents.create({ amount: 2000, currency: 'eur', payment_method: 'pm_card_visa', confirm: true });
  const och = await stripe.charges.retrieve(own.latest_charge, { expand: ['balance_transaction'] });
  assert.equal(och.balance_transaction.currency, 'usd');
  assert.ok(och.balance_transaction.exchange_rate > 0);
});

test('POST /v1/charges makes destination charges as PaymentIntents do: transfer_data, the legacy destination, application fees', async () => {
  const p0 = await balance(stripe);
  const a0 = await balance(stripe, as(acct));
  const ch = await stripe.charges.create({
    amount: 10000,
    currency: 'usd',
    source: 'tok_visa',
    application_fee_amount: 1230,
    transfer_data: { destination: acct.id },
    transfer_group: 'CH_RIDE_1',
  });
  assert.equal(ch.status, 'succeeded');
  assert.equal(ch.application_fee_amount, 1230);
  assert.deepEqual(ch.transfer_data, { amount: null, destination: acct.id });
  assert.equal(ch.transfer_group, 'CH_RIDE_1');
  assert.equal(ch.on_behalf_of, null);
  assert.match(ch.transfer, /^tr_/);
  assert.match(ch.application_fee, /^fee_/);
  assertStripeShape(ch, 'charge');
  const tr = await stripe.transfers.retrieve(ch.transfer);
  assert.equal(tr.amount, 10000);
  assert.equal(tr.source_transaction, ch.id);
  assert.equal(tr.transfer_group, 'CH_RIDE_1');
  const fee = await stripe.applicationFees.retrieve(ch.application_fee);
  assert.equal(fee.amount, 1230);
  assert.equal(fee.originating_transaction, ch.id);
  // the money moved as a PaymentIntent's destination charge moves it
  assert.deepEqual(await balance(stripe), { available: p0.available, pending: p0.pending + 10000 - 320 - 10000 + 1230 });
  assert.deepEqual(await balance(stripe, as(acct)), { available: a0.available, pending: a0.pending + 10000 - 1230 });

  // the legacy forms: destination[account, amount] (on behalf of that account) and application_fee
  const a1 = await balance(stripe, as(acct2));
  const legacy = await stripe.charges.create({ amount: 5000, currency: 'usd', source: 'tok_visa', destination: { account: acct2.id, amount: 4000 } });
  assert.deepEqual(legacy.transfer_data, { amount: 4000, destination: acct2.id });
  assert.equal(legacy.on_behalf_of, acct2.id);
  assertStripeShape(legacy, 'charge');
  assert.equal((await stripe.transfers.retrieve(legacy.transfer)).amount, 4000);
  assert.deepEqual(await balance(stripe, as(acct2)), { available: a1.available, pending: a1.pending + 4000 });
  const plain = await stripe.charges.create({ amount: 3000, currency: 'usd', source: 'tok_visa', destination: acct2.id, application_fee: 300 });
  assert.deepEqual(plain.transfer_data, { amount: null, destination: acct2.id });
  assert.equal(plain.application_fee_amount, 300);
  assert.equal((await stripe.applicationFees.retrieve(plain.application_fee)).amount, 300);
  // a direct charge through Stripe-Account pays its platform the fee, as a PaymentIntent's does
  const direct = await stripe.charges.create({ amount: 4000, currency: 'usd', source: 'tok_visa', application_fee_amount: 400 }, as(acct2));
  assert.equal(direct.application_fee_amount, 400);
  assert.equal(direct.transfer_data, null);
  const dfee = await stripe.applicationFees.retrieve(direct.application_fee);
  assert.equal(dfee.amount, 400);
  assert.equal(dfee.account, acct2.id);
  assert.equal(dfee.charge, direct.id);

  // refused before anything moves: no destination for the fee, another platform's account,
  // both forms at once, a fee beyond the amount, an ACH debit with Connect
  const p1 = await balance(stripe);
  const base = { amount: 2000, currency: 'usd', source: 'tok_visa' };
  const theirs = await other.accounts.create({ type: 'express', country: 'US' });
  for (const [params, param] of [
    [{ application_fee_amount: 100 }, 'application_fee_amount'],
    [{ transfer_data: { destination: theirs.id } }, 'transfer_data[destination]'],
    [{ destination: { account: 'acct_nope' } }, 'destination[account]'],
    [{ destination: acct.id, transfer_data: { destination: acct.id } }, 'destination'],
    [{ application_fee: 10, application_fee_amount: 10, destination: acct.id }, 'application_fee'],
    [{ application_fee_amount: 2001, transfer_data: { destination: acct.id } }, 'application_fee_amount'],
    [{ destination: acct.id, on_behalf_of: acct2.id }, 'on_behalf_of'],
  ]) {
    await assert.rejects(stripe.charges.create({ ...base, ...params }), (e) => e.statusCode === 400 && e.param === param, JSON.stringify(params));
  }
  assert.deepEqual(await balance(stripe), p1);
});

test('a charge captured later: application_fee_amount, transfer_data[amount] and transfer_group at capture', async () => {
  const a0 = await balance(stripe, as(acct2));
  const ch = await stripe.charges.create({ amount: 8000, currency: 'usd', source: 'tok_visa', capture: false, transfer_data: { destination: acct2.id } });
  assert.equal(ch.captured, false);
  assert.equal(ch.transfer, undefined);
  await assert.rejects(stripe.charges.capture(ch.id, { application_fee_amount: 8001 }), (e) => e.statusCode === 400 && e.param === 'application_fee_amount');
  const done = await stripe.charges.capture(ch.id, {
    amount: 6000, application_fee_amount: 600, transfer_group: 'LATER_1', statement_descriptor_suffix: 'ORDER 9',
  });
  assert.equal(done.captured, true);
  assert.equal(done.application_fee_amount, 600);
  assert.equal(done.transfer_group, 'LATER_1');
  assert.equal(done.statement_descriptor_suffix, 'ORDER 9');
  assertStripeShape(done, 'charge');
  const tr = await stripe.transfers.retrieve(done.transfer);
  assert.equal(tr.amount, 6000);
  assert.equal(tr.transfer_group, 'LATER_1');
  assert.equal((await stripe.applicationFees.retrieve(done.application_fee)).amount, 600);
  assert.deepEqual(await balance(stripe, as(acct2)), { available: a0.available, pending: a0.pending + 6000 - 600 });
  assert.equal((await stripe.charges.retrieve(ch.id)).statement_descriptor_suffix, 'ORDER 9');

  // a PaymentIntent's capture and incremental authorization take them too
  const pi = await stripe.paymentIntents.create({
    amount: 5000, currency: 'usd', payment_method: 'pm_card_visa', capture_method: 'manual', confirm: true,
    transfer_data: { destination: acct2.id },
    payment_method_options: { card: { request_incremental_authorization: 'if_available' } },
  });
  const grown = await stripe.paymentIntents.incrementAuthorization(pi.id, { amount: 7000, transfer_data: { amount: 6500 } });
  assert.deepEqual(grown.transfer_data, { amount: 6500, destination: acct2.id });
  await assert.rejects(stripe.paymentIntents.capture(pi.id, { application_fee_amount: 100 }), (e) => e.statusCode === 400 && e.param === 'application_fee_amount');
  const a1 = await balance(stripe, as(acct2));
  const cap = await stripe.paymentIntents.capture(pi.id, { transfer_data: { amount: 5000 } });
  assert.equal(cap.status, 'succeeded');
  assert.deepEqual(cap.transfer_data, { amount: 5000, destination: acct2.id });
  assertStripeShape(cap, 'payment_intent');
  const pch = await stripe.charges.retrieve(cap.latest_charge);
  assert.equal((await stripe.transfers.retrieve(pch.transfer)).amount, 5000);
  assert.deepEqual(await balance(stripe, as(acct2)), { available: a1.available, pending: a1.pending + 5000 });
  const pi2 = await stripe.paymentIntents.create({
    amount: 4000, currency: 'usd', payment_method: 'pm_card_visa', capture_method: 'manual', confirm: true, transfer_data: { destination: acct2.id },
  });
  const cap2 = await stripe.paymentIntents.capture(pi2.id, { application_fee_amount: 400 });
  assert.equal(cap2.application_fee_amount, 400);
  const pch2 = await stripe.charges.retrieve(cap2.latest_charge);
  assert.equal((await stripe.applicationFees.retrieve(pch2.application_fee)).amount, 400);
});

test('POST /v1/charges/{id}: customer and transfer_group set once, shipping', async () => {
  const cus = await stripe.customers.create({ email: 'later@example.com' });
  const ch = await stripe.charges.create({ amount: 1500, currency: 'usd', source: 'tok_visa' });
  assert.equal(ch.customer, null);
  const upd = await stripe.charges.update(ch.id, {
    customer: cus.id,
    transfer_group: 'G_1',
    shipping: { name: 'Jenny Rosen', address: { line1: '1 Main St', city: 'Springfield', country: 'US' } },
  });
  assert.equal(upd.customer, cus.id);
  assert.equal(upd.transfer_group, 'G_1');
  assert.equal(upd.shipping.name, 'Jenny Rosen');
  assertStripeShape(upd, 'charge');
  const listed = await stripe.charges.list({ customer: cus.id });
  assert.deepEqual(listed.data.map((c) => c.id), [ch.id]);
  const ev = (await stripe.events.list({ type: 'charge.updated', limit: 5 })).data.find((e) => e.data.object.id === ch.id);
  assert.equal(ev.data.previous_attributes.customer, null);
  assert.equal(ev.data.previous_attributes.transfer_group, null);
  const cus2 = await stripe.customers.create();
  await assert.rejects(stripe.charges.update(ch.id, { customer: cus2.id }), (e) => e.statusCode === 400 && e.param === 'customer');
  await assert.rejects(stripe.charges.update(ch.id, { transfer_group: 'G_2' }), (e) => e.statusCode === 400 && e.param === 'transfer_group');
  const other2 = await stripe.charges.create({ amount: 1500, currency: 'usd', source: 'tok_visa' });
  await assert.rejects(stripe.charges.update(other2.id, { customer: 'cus_nope' }), (e) => e.statusCode === 404 && e.param === 'customer');
  assert.equal((await stripe.charges.retrieve(ch.id)).customer, cus.id);
});

test('POST /v1/charges with a card hash seals it as a token, or card=tok_…; radar_options[session] Tender cannot know', async () => {
  const ch = await stripe.charges.create({
    amount: 2500, currency: 'usd', card: { number: '4242424242424242', exp_month: 12, exp_year: 2034, cvc: '123' },
  });
  assert.equal(ch.status, 'succeeded');
  assert.equal(ch.payment_method_details.card.last4, '4242');
  assert.ok(!JSON.stringify(ch).includes('4242424242424242'));
  assertStripeShape(ch, 'charge');
  const t = await stripe.charges.create({ amount: 2500, currency: 'usd', card: 'tok_mastercard' });
  assert.equal(t.payment_method_details.card.brand, 'mastercard');
  const declined = await stripe.charges.create({
    amount: 2500, currency: 'usd', card: { number: '4000000000000002', exp_month: 12, exp_year: 2034 },
  }).then(() => null, (e) => e);
  assert.equal(declined.statusCode, 402);
  assert.equal(declined.code, 'card_declined');
  const bad = await stripe.charges.create({ amount: 2500, currency: 'usd', card: { number: '4242424242424241', exp_month: 12, exp_year: 2034 } }).then(() => null, (e) => e);
  assert.equal(bad.code, 'incorrect_number');
  assert.ok(!bad.message.includes('4242424242424241'));
  // a number typed where a token's id belongs is never echoed
  const typed = await stripe.charges.create({ amount: 2500, currency: 'usd', card: '4242424242424242' }).then(() => null, (e) => e);
  assert.equal(typed.param, 'card');
  assert.ok(!typed.message.includes('4242424242424242'));
  await assert.rejects(stripe.charges.create({ amount: 2500, currency: 'usd', card: 'tok_visa', source: 'tok_visa' }), (e) => e.statusCode === 400 && e.param === 'card');
  const n0 = (await stripe.charges.list({ limit: 100 })).data.length;
  await assert.rejects(stripe.charges.create({ amount: 2500, currency: 'usd', source: 'tok_visa', radar_options: { session: 'rse_123' } }),
    (e) => e.statusCode === 400 && e.code === 'resource_missing' && e.param === 'radar_options[session]');
  await assert.rejects(stripe.paymentIntents.create({ amount: 2500, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, radar_options: { session: 'rse_123' } }),
    (e) => e.statusCode === 400 && e.param === 'radar_options[session]');
  assert.equal((await stripe.charges.list({ limit: 100 })).data.length, n0);
});

test('transfer reversals: description on the platform balance transaction, refund_application_fee in proportion', async () => {
  const ch = await stripe.charges.create({
    amount: 10000, currency: 'usd', source: 'tok_bypassPending', application_fee_amount: 1000, transfer_data: { destination: acct2.id },
  });
  const p0 = await balance(stripe);
  const a0 = await balance(stripe, as(acct2));
  const rv = await stripe.transfers.createReversal(ch.transfer, { amount: 2500, refund_application_fee: true, description: 'Partial return' });
  assert.equal(rv.amount, 2500);
  assertStripeShape(rv, 'transfer_reversal');
  const pbt = await stripe.balanceTransactions.retrieve(rv.balance_transaction);
  assert.equal(pbt.description, 'Partial return');
  let fee = await stripe.applicationFees.retrieve(ch.application_fee);
  assert.equal(fee.amount_refunded, 250); // a quarter of the transfer: a quarter of the fee
  assertStripeShape(fee, 'application_fee');
  // the account paid back 2500 and got 250 of its fee back; the platform the reverse
  assert.deepEqual(await balance(stripe, as(acct2)), { available: a0.available - 2500 + 250, pending: a0.pending });
  assert.deepEqual(await balance(stripe), { available: p0.available + 2500 - 250, pending: p0.pending });
  // without it the fee stays; the rest with it: all of the fee that is left
  await stripe.transfers.createReversal(ch.transfer, { amount: 2500 });
  assert.equal((await stripe.applicationFees.retrieve(ch.application_fee)).amount_refunded, 250);
  await stripe.transfers.createReversal(ch.transfer, { refund_application_fee: true });
  fee = await stripe.applicationFees.retrieve(ch.application_fee);
  assert.equal(fee.amount_refunded, 1000);
  assert.equal(fee.refunded, true);
  // a transfer that paid no fee: refused, nothing reversed
  await fund(3000);
  const tr = await stripe.transfers.create({ amount: 1000, currency: 'usd', destination: acct2.id });
  await assert.rejects(stripe.transfers.createReversal(tr.id, { amount: 100, refund_application_fee: true }),
    (e) => e.statusCode === 400 && e.param === 'refund_application_fee');
  assert.equal((await stripe.transfers.retrieve(tr.id)).amount_reversed, 0);
});

test("a subscription's Connect terms: each invoice's PaymentIntent is a destination charge with application_fee_percent of it", async () => {
  const { clockAdvance, billingShape } = require('./billing_helpers');
  const T0 = Date.UTC(2025, 2, 1) / 1000;
  const APR1 = Date.UTC(2025, 3, 1) / 1000;
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
  const customer = await stripe.customers.create({
    test_clock: clock.id, payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' },
  });
  const price = await stripe.prices.create({ currency: 'usd', unit_amount: 4999, recurring: { interval: 'month' }, product_data: { name: 'Route' } });
  // refused, nothing made: a fee without a destination (no Stripe-Account header), an unknown
  // account, a fee beside amount_percent, more than two decimals
  for (const [params, param] of [
    [{ application_fee_percent: 10 }, 'application_fee_percent'],
    [{ transfer_data: { destination: 'acct_nope' } }, 'transfer_data[destination]'],
    [{ on_behalf_of: 'acct_nope' }, 'on_behalf_of'],
    [{ application_fee_percent: 10, transfer_data: { destination: acct.id, amount_percent: 50 } }, 'application_fee_percent'],
    [{ application_fee_percent: '10.125', transfer_data: { destination: acct.id } }, 'application_fee_percent'],
    [{ application_fee_percent: 101, transfer_data: { destination: acct.id } }, 'application_fee_percent'],
    [{ transfer_data: { destination: acct.id, amount_percent: '-5' } }, 'transfer_data[amount_percent]'],
  ]) {
    await assert.rejects(stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], ...params }),
      (e) => e.statusCode === 400 && e.param === param, JSON.stringify(params));
  }
  assert.equal((await stripe.subscriptions.list({ customer: customer.id })).data.length, 0);
  const a0 = await balance(stripe, as(acct));
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: price.id }],
    application_fee_percent: 12.5, transfer_data: { destination: acct.id }, on_behalf_of: acct.id,
  });
  billingShape(sub, 'subscription');
  assert.equal(sub.status, 'active');
  assert.equal(sub.application_fee_percent, 12.5);
  assert.deepEqual(sub.transfer_data, { amount_percent: null, destination: acct.id });
  assert.equal(sub.on_behalf_of, acct.id);
  // 12.5 % of 49.99 = 6.24875 → 6.25
  const seen = new Set();
  const check = async (fee) => {
    // the newest payment (the create's is stamped with the real time, the renewal's with the clock's)
    const pis = (await stripe.paymentIntents.list({ customer: customer.id, limit: 10 })).data;
    const pi = pis.find((p) => !seen.has(p.id));
    seen.add(pi.id);
    assert.equal(pi.status, 'succeeded');
    assert.equal(pi.amount, 4999);
    assert.equal(pi.application_fee_amount, fee);
    assert.deepEqual(pi.transfer_data, { destination: acct.id });
    assert.equal(pi.on_behalf_of, acct.id);
    assertStripeShape(pi, 'payment_intent');
    const ch = await stripe.charges.retrieve(pi.latest_charge);
    assert.match(ch.transfer, /^tr_/);
    assert.equal(ch.application_fee_amount, fee);
    const tr = await stripe.transfers.retrieve(ch.transfer);
    assert.equal(tr.amount, 4999);
    assert.equal(tr.destination, acct.id);
    const f = await stripe.applicationFees.retrieve(ch.application_fee);
    assert.equal(f.amount, fee);
    return pis.length;
  };
  assert.equal(await check(625), 1);
  assert.deepEqual(await balance(stripe, as(acct)), { available: a0.available, pending: a0.pending + 4999 - 625 });
  // the renewal's charge carries them too, at the percentage as updated
  const up = await stripe.subscriptions.update(sub.id, { application_fee_percent: 20 });
  assert.equal(up.application_fee_percent, 20);
  // (events of a clock's objects carry its time: read them all)
  const evs = (await stripe.events.list({ type: 'customer.subscription.updated', limit: 100 }).autoPagingToArray({ limit: 10000 }))
    .filter((e) => e.data.object.id === sub.id);
  assert.deepEqual(evs[0].data.previous_attributes, { application_fee_percent: 12.5 });
  await clockAdvance(stripe, clock, APR1 + 3600 + 60);
  assert.equal(await check(1000), 2);
  // transfer_data[amount_percent]: that share of each invoice goes to the destination
  const c2 = await stripe.customers.create({ payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
  const s2 = await stripe.subscriptions.create({
    customer: c2.id, items: [{ price: price.id }], transfer_data: { destination: acct.id, amount_percent: 80 },
  });
  assert.deepEqual(s2.transfer_data, { amount_percent: 80, destination: acct.id });
  const pi2 = (await stripe.paymentIntents.list({ customer: c2.id })).data[0];
  assert.deepEqual(pi2.transfer_data, { amount: 3999, destination: acct.id });
  const ch2 = await stripe.charges.retrieve(pi2.latest_charge);
  assert.equal((await stripe.transfers.retrieve(ch2.transfer)).amount, 3999);
  // unset: later invoices are the platform's own
  const u = await stripe.subscriptions.update(s2.id, { transfer_data: '', on_behalf_of: '' });
  assert.equal(u.transfer_data, null);
  billingShape(u, 'subscription');
});

test('cloning a platform customer\'s card to a connected account for a direct charge', async () => {
  // the platform's customer and saved card (a real number, sealed), then the clone
  const cus = await stripe.customers.create({ email: 'shopper@example.com' });
  const tok = await stripe.tokens.create({ card: { number: '5555555555554444', exp_month: 12, exp_year: 2031, cvc: '123' } });
  const pm = await stripe.paymentMethods.create({ type: 'card', card: { token: tok.id }, billing_details: { name: 'Ada Shopper' } });
  await stripe.paymentMethods.attach(pm.id, { customer: cus.id });
  const clone = await stripe.paymentMethods.create({ customer: cus.id, payment_method: pm.id }, as(acct2));
  assertStripeShape(clone, 'payment_method');
  assert.notEqual(clone.id, pm.id);
  assert.equal(clone.customer, null);
  assert.equal(clone.card.last4, '4444');
  assert.equal(clone.card.brand, 'mastercard');
  assert.equal(clone.card.exp_year, 2031);
  assert.equal(clone.billing_details.name, 'Ada Shopper');
  // the clone is the account's: it pays a direct charge there, and the platform cannot see it
  const pi = await stripe.paymentIntents.create({ amount: 2500, currency: 'usd', payment_method: clone.id, confirm: true, application_fee_amount: 100 }, as(acct2));
  assert.equal(pi.status, 'succeeded');
  assert.equal((await stripe.charges.retrieve(pi.latest_charge, {}, as(acct2))).payment_method_details.card.last4, '4444');
  await assert.rejects(stripe.paymentMethods.retrieve(clone.id), (e) => e.statusCode === 404);
  // the platform's card is untouched and still its customer's
  assert.equal((await stripe.paymentMethods.retrieve(pm.id)).customer, cus.id);
  // attached to the account's own customer, as Stripe's direct-charge flow does next
  const acus = await stripe.customers.create({ email: 'shopper@example.com' }, as(acct2));
  assert.equal((await stripe.paymentMethods.attach(clone.id, { customer: acus.id }, as(acct2))).customer, acus.id);
  // a test alias clones as the card it stands for
  const alias = await stripe.paymentMethods.create({ payment_method: 'pm_card_visa' }, as(acct2));
  assert.equal(alias.card.last4, '4242');

  // refusals: the customer is needed (and must be the card's), not to the platform itself, not
  // another platform's card, not with a publishable key, not with card details
  await assert.rejects(stripe.paymentMethods.create({ payment_method: pm.id }, as(acct2)), (e) => e.statusCode === 400 && e.param === 'customer');
  const cus2 = await stripe.customers.create({});
  await assert.rejects(stripe.paymentMethods.create({ customer: cus2.id, payment_method: pm.id }, as(acct2)), (e) => e.statusCode === 400 && e.param === 'customer');
  await assert.rejects(stripe.paymentMethods.create({ customer: cus.id, payment_method: pm.id }), (e) => e.statusCode === 400 && e.param === 'payment_method');
  const opm = await other.paymentMethods.create({ type: 'card', card: { token: 'tok_visa' } });
  await assert.rejects(stripe.paymentMethods.create({ payment_method: opm.id }, as(acct2)), (e) => e.statusCode === 400 && e.param === 'payment_method');
  await assert.rejects(stripe.paymentMethods.create({ payment_method: pm.id, customer: cus.id, type: 'card' }, as(acct2)), (e) => e.statusCode === 400 && e.param === 'type');
  const pk = env.stripe(env.merchants[0].publishable_key);
  await assert.rejects(pk.paymentMethods.create({ customer: cus.id, payment_method: pm.id }, as(acct2)), (e) => e.statusCode === 400 || e.statusCode === 403);
  await assert.rejects(stripe.paymentMethods.create({}), (e) => e.statusCode === 400 && e.param === 'type');

  // the older way, tokens: a token of a platform customer's card (its default source, or the
  // card named) made for the connected account, which charges it
  const cus3 = await stripe.customers.create({ source: 'tok_amex' });
  const t1 = await stripe.tokens.create({ customer: cus3.id }, as(acct2));
  assertStripeShape(t1, 'token');
  assert.equal(t1.card.last4, '0005');
  assert.equal(t1.used, false);
  const ch = await stripe.charges.create({ amount: 1500, currency: 'usd', source: t1.id }, as(acct2));
  assert.equal(ch.status, 'succeeded');
  assert.equal(ch.payment_method_details.card.last4, '0005');
  await assert.rejects(stripe.charges.create({ amount: 1500, currency: 'usd', source: t1.id }, as(acct2)), (e) => e.statusCode === 400);
  const t2 = await stripe.tokens.create({ customer: cus.id, card: pm.id }, as(acct2));
  assert.equal(t2.card.last4, '4444');
  await assert.rejects(stripe.tokens.create({ customer: cus.id }, as(acct2)), (e) => e.statusCode === 400 && e.param === 'customer'); // no default source
  await assert.rejects(stripe.tokens.create({ customer: cus2.id, card: pm.id }, as(acct2)), (e) => e.statusCode === 400 && e.param === 'customer');
  await assert.rejects(stripe.tokens.create({ customer: cus3.id }), (e) => e.statusCode === 400 && e.param === 'customer');
  await assert.rejects(stripe.tokens.create({ card: 'card_123' }), (e) => e.statusCode === 400 && e.param === 'card');
});

test('Checkout Sessions take the Connect terms in payment_intent_data: a destination charge and a direct one paid on the page', async () => {
  const item = [{ price_data: { currency: 'usd', product_data: { name: 'T-shirt' }, unit_amount: 1000 }, quantity: 1 }];
  const session = (pid, opts) => stripe.checkout.sessions.create(
    { line_items: item, payment_intent_data: pid, mode: 'payment', success_url: 'https://example.com/ok' }, opts);
  // the page's own form post (a card), as the buyer's browser sends it
  const pay = async (s) => {
    const body = new URLSearchParams({
      'payment_method_data[type]': 'card', 'payment_method_data[card][number]': '4242424242424242',
      'payment_method_data[card][exp_month]': '10', 'payment_method_data[card][exp_year]': '2035',
      'payment_method_data[card][cvc]': '123', 'payment_method_data[billing_details][email]': 'b@example.com',
    }).toString();
    const res = await env.request({ method: 'POST', path: new URL(s.url).pathname, body });
    assert.ok(res.status < 400, res.body);
  };
  const n = (await stripe.checkout.sessions.list({ limit: 100 })).data.length;
  for (const [pid, param] of [
    [{ application_fee_amount: 100 }, 'payment_intent_data[application_fee_amount]'],
    [{ application_fee_amount: 1001, transfer_data: { destination: acct.id } }, 'payment_intent_data[application_fee_amount]'],
    [{ transfer_data: { destination: acct.id, amount: 1001 } }, 'payment_intent_data[transfer_data][amount]'],
    [{ transfer_data: { destination: 'acct_nope' } }, 'payment_intent_data[transfer_data][destination]'],
    [{ on_behalf_of: 'acct_nope' }, 'payment_intent_data[on_behalf_of]'],
  ]) {
    await assert.rejects(session(pid), (e) => e.statusCode === 400 && e.param === param, JSON.stringify(pid));
  }
  assert.equal((await stripe.checkout.sessions.list({ limit: 100 })).data.length, n);

  const p0 = await balance(stripe);
  const a0 = await balance(stripe, as(acct));
  const s = await session({ application_fee_amount: 123, transfer_data: { destination: acct.id }, on_behalf_of: acct.id, transfer_group: 'CO_1' });
  await pay(s);
  const done = await stripe.checkout.sessions.retrieve(s.id, { expand: ['payment_intent.latest_charge.balance_transaction'] });
  assert.equal(done.payment_status, 'paid');
  const pi = done.payment_intent;
  assert.equal(pi.application_fee_amount, 123);
  assert.deepEqual(pi.transfer_data, { destination: acct.id });
  assert.equal(pi.on_behalf_of, acct.id);
  assert.equal(pi.transfer_group, 'CO_1');
  const ch = pi.latest_charge;
  const tr = await stripe.transfers.retrieve(ch.transfer);
  assert.equal(tr.amount, 1000);
  assert.equal(tr.transfer_group, 'CO_1');
  assert.equal((await stripe.applicationFees.retrieve(ch.application_fee)).amount, 123);
  // the buyer's 1000 less Stripe's fee: the account's 1000 less the platform's 123, the platform's 123
  assert.deepEqual(await balance(stripe, as(acct)), { available: a0.available, pending: a0.pending + 1000 - 123 });
  assert.deepEqual(await balance(stripe), { available: p0.available, pending: p0.pending + ch.balance_transaction.net - 1000 + 123 });

  // a direct charge: the session made on the connected account, the platform's fee taken from it
  const d0 = await balance(stripe, as(acct2));
  const ds = await session({ application_fee_amount: 50 }, as(acct2));
  await pay(ds);
  const dpi = (await stripe.checkout.sessions.retrieve(ds.id, { expand: ['payment_intent'] }, as(acct2))).payment_intent;
  assert.equal(dpi.application_fee_amount, 50);
  const dch = await stripe.charges.retrieve(dpi.latest_charge, { expand: ['balance_transaction'] }, as(acct2));
  assert.equal((await stripe.applicationFees.retrieve(dch.application_fee)).amount, 50);
  assert.deepEqual(await balance(stripe, as(acct2)), { available: d0.available, pending: d0.pending + dch.balance_transaction.net - 50 });
});

test('tender verify holds both sides of every movement', async () => {
  let out;
  try {
    out = tender(['verify', '--data', env.dataDir]);
  } catch (e) {
    out = `${e.stdout}${e.stderr}`;
  }
  assert.match(out, /verify: ok/);
  // the conversions of the eur account's payments left their rounding on its fx account, in
  // both currencies, and verify explained every unit of it (the journal balances per currency)
  if (eurAcct) assert.match(out, new RegExp(`fx absorbs: ${eurAcct.id}: eur [-+]?\\d+, usd [-+]?\\d+`));
});

test('GET /v1/charges?transfer_group: only the charges of that group, exactly', async () => {
  const g = `GRP_${Date.now()}`;
  const a = await stripe.paymentIntents.create({ amount: 1200, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, transfer_group: g });
  // a group whose name extends the other's, and one with characters JSON escapes
  const b = await stripe.paymentIntents.create({ amount: 1300, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, transfer_group: `${g}_2` });
  const q = `${g} "q"\\`;
  const c = await stripe.paymentIntents.create({ amount: 1400, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, transfer_group: q });
  await stripe.paymentIntents.create({ amount: 1500, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
  const byA = await stripe.charges.list({ transfer_group: g });
  assert.deepEqual(byA.data.map((x) => x.id), [a.latest_charge]);
  assert.equal(byA.data[0].transfer_group, g);
  assertStripeShape(byA.data[0], 'charge');
  assert.deepEqual((await stripe.charges.list({ transfer_group: `${g}_2` })).data.map((x) => x.id), [b.latest_charge]);
  assert.deepEqual((await stripe.charges.list({ transfer_group: q })).data.map((x) => x.id), [c.latest_charge]);
  // case matters, as the group is the merchant's own text
  assert.equal((await stripe.charges.list({ transfer_group: g.toLowerCase() })).data.length, 0);
  // with another filter, and another platform sees none
  assert.equal((await stripe.charges.list({ transfer_group: g, payment_intent: b.id })).data.length, 0);
  assert.equal((await other.charges.list({ transfer_group: g })).data.length, 0);
});

test('legacy fee refund takes `directive` (Stripe lists it, with no documented effect)', async () => {
  const pi = await stripe.paymentIntents.create({
    amount: 2000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true,
    application_fee_amount: 200, transfer_data: { destination: acct2.id },
  });
  const feeId = (await stripe.charges.retrieve(pi.latest_charge)).application_fee;
  const fee = await stripe.rawRequest('POST', `/v1/application_fees/${feeId}/refund`, { amount: 50, directive: 'refund' });
  assert.equal(fee.amount_refunded, 50);
  assertStripeShape(fee, 'application_fee');
  await expectError(stripe.rawRequest('POST', `/v1/application_fees/${feeId}/refund`, { directive: { a: 'b' } }), 400);
  assert.equal((await stripe.applicationFees.retrieve(feeId)).amount_refunded, 50);
});
