'use strict';
// Metered prices at a subscription's period end, through stripe-node on test clocks: a
// subscription with metered items set to cancel_at_period_end ends with a final invoice that
// bills its last period's usage (billing_reason subscription_cycle, its lines' period the last
// period), charged once; without usage the final invoice is 0 and paid at once, no charge; a
// subscription without metered items ends with no invoice, as before; a schedule that ends with
// end_behavior=cancel bills it the same way. The renewal's draft hour:
// a meter event stamped in the period that ended and reported during the hour the renewal's
// invoice is a draft is billed on it when it is finalized (quantity, amount, discount and total
// recomputed), charged once for exactly that total. A schedule's phases take metered prices
// with a meter (no quantity; Tender's refusals around them). Amounts exactly checked, one charge
// per paid invoice. Usage records (metered prices without a meter) the same way: a removed
// item's usage as a pending invoice item, a cancel_at_period_end's final invoice billing the last
// period's records by aggregate_usage. `tender verify` at the end.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, tender } = require('./helpers');
const { billingShape, clockAdvance } = require('./billing_helpers');

let env;
let stripe;
const DAY = 86400;
const HOUR = 3600;
const T0 = Date.UTC(2025, 2, 1, 0, 0, 0) / 1000; // Mar 1: a 31-day first period
const APR1 = T0 + 31 * DAY;

before(async () => {
  env = await startTender({ args: ['--rate-limit', '0'] });
  stripe = env.stripe();
});
after(stopAll);

const shape = (obj, schema, extra) => billingShape(obj, schema, extra);

let product;
let calls; // sum meter
let callsPrice; // 0.05 usd a call
let seat; // licensed, 20.00 usd a month

test('setup: a sum meter, its metered price, a licensed price', async () => {
  product = (await stripe.products.create({ name: 'API' })).id;
  calls = await stripe.billing.meters.create({
    display_name: 'API calls', event_name: 'pe_calls', default_aggregation: { formula: 'sum' },
  });
  callsPrice = await stripe.prices.create({
    product, currency: 'usd', unit_amount: 5,
    recurring: { interval: 'month', usage_type: 'metered', meter: calls.id },
  });
  seat = await stripe.prices.create({ product, currency: 'usd', unit_amount: 2000, recurring: { interval: 'month' } });
});

async function customerOnClock(frozen = T0) {
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: frozen });
  const customer = await stripe.customers.create({
    test_clock: clock.id, payment_method: 'pm_card_visa',
    invoice_settings: { default_payment_method: 'pm_card_visa' },
  });
  return { clock, customer };
}

const meterEvent = (customer, value, timestamp) => stripe.billing.meterEvents.create({
  event_name: 'pe_calls',
  payload: { stripe_customer_id: customer, value: String(value) },
  ...(timestamp == null ? {} : { timestamp }),
});

async function chargesOf(customer) {
  return (await stripe.charges.list({ customer, limit: 20 })).data;
}

test('cancel_at_period_end: the final invoice bills the last period\'s usage, charged once', async () => {
  const { clock, customer } = await customerOnClock();
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: seat.id }, { price: callsPrice.id }],
  });
  assert.equal((await stripe.invoices.retrieve(sub.latest_invoice)).total, 2000);
  await clockAdvance(stripe, clock, T0 + 10 * DAY);
  await meterEvent(customer.id, 70, T0 + 2 * DAY);
  await meterEvent(customer.id, 13, T0 + 10 * DAY - 60);
  const set = await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
  assert.equal(set.cancel_at, APR1);
  const canceledAt = set.canceled_at;
  assert.equal(canceledAt, T0 + 10 * DAY);
  await clockAdvance(stripe, clock, APR1 - 120);
  await meterEvent(customer.id, 17, APR1 - 600);
  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  const ended = await stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
  assert.equal(ended.status, 'canceled');
  assert.equal(ended.ended_at, APR1);
  assert.equal(ended.canceled_at, canceledAt, 'canceled_at stays when it was asked for');
  assert.equal(ended.cancel_at_period_end, true);
  const inv = ended.latest_invoice;
  assert.notEqual(inv.id, sub.latest_invoice);
  assert.equal(inv.billing_reason, 'subscription_cycle');
  assert.equal(inv.status, 'paid');
  const usage = 70 + 13 + 17;
  assert.equal(inv.total, usage * 5);
  assert.equal(inv.amount_paid, usage * 5);
  assert.equal(inv.created, APR1);
  assert.equal(inv.lines.data.length, 1, 'the usage alone: the seat is not billed again');
  const l = inv.lines.data[0];
  assert.deepEqual([l.quantity, l.amount, l.period, l.pricing.price_details.price],
    [usage, usage * 5, { start: T0, end: APR1 }, callsPrice.id]);
  shape({ ...ended, latest_invoice: inv.id }, 'subscription');
  shape(inv, 'invoice');
  const invoices = (await stripe.invoices.list({ customer: customer.id, limit: 10 })).data;
  assert.equal(invoices.length, 2);
  const charges = await chargesOf(customer.id);
  assert.deepEqual(charges.map((c) => c.amount).sort((a, b) => a - b), [usage * 5, 2000]);
  assert.ok(charges.every((c) => c.status === 'succeeded'));
  assert.equal(new Set(charges.map((c) => c.payment_intent)).size, 2);
  // nothing more happens to it later
  await clockAdvance(stripe, clock, APR1 + 40 * DAY);
  assert.equal((await stripe.invoices.list({ customer: customer.id, limit: 10 })).data.length, 2);
  assert.equal((await chargesOf(customer.id)).length, 2);
});

test('cancel_at_period_end without usage: a final invoice of 0, paid at once, no charge', async () => {
  const { clock, customer } = await customerOnClock();
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: seat.id }, { price: callsPrice.id }],
    cancel_at_period_end: true,
  });
  await clockAdvance(stripe, clock, APR1 + 60);
  const ended = await stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
  assert.equal(ended.status, 'canceled');
  const inv = ended.latest_invoice;
  assert.notEqual(inv.id, sub.latest_invoice);
  assert.deepEqual([inv.total, inv.amount_due, inv.status], [0, 0, 'paid']);
  assert.deepEqual([inv.lines.data[0].quantity, inv.lines.data[0].amount], [0, 0]);
  shape(inv, 'invoice');
  assert.deepEqual((await chargesOf(customer.id)).map((c) => c.amount), [2000]);
});

test('a subscription without metered items ends at its period end with no invoice', async () => {
  const { clock, customer } = await customerOnClock();
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: seat.id }], cancel_at_period_end: true,
  });
  await clockAdvance(stripe, clock, APR1 + 60);
  const ended = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(ended.status, 'canceled');
  assert.equal(ended.latest_invoice, sub.latest_invoice);
  assert.equal((await stripe.invoices.list({ customer: customer.id })).data.length, 1);
});

test('the renewal\'s draft hour: usage of the ended period reported then is billed at finalization', async () => {
  const { clock, customer } = await customerOnClock();
  const coupon = await stripe.coupons.create({ percent_off: 10, duration: 'forever' });
  const vat = await stripe.taxRates.create({ display_name: 'VAT', percentage: 10, inclusive: false });
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: seat.id }, { price: callsPrice.id }],
    discounts: [{ coupon: coupon.id }], default_tax_rates: [vat.id],
  });
  // the first invoice: (2000 - 200) + 10% = 1980
  assert.equal((await stripe.invoices.retrieve(sub.latest_invoice)).total, 1980);
  await clockAdvance(stripe, clock, T0 + 5 * DAY);
  await meterEvent(customer.id, 100, T0 + 2 * DAY);
  // the renewal's invoice is a draft for an hour, with the usage reported so far
  await clockAdvance(stripe, clock, APR1 + 60);
  const renewed = await stripe.subscriptions.retrieve(sub.id);
  const draft = await stripe.invoices.retrieve(renewed.latest_invoice);
  assert.equal(draft.status, 'draft');
  assert.equal(draft.billing_reason, 'subscription_cycle');
  // (2000 - 200) + (500 - 50) = 2250, + 10% = 2475
  assert.deepEqual([draft.subtotal, draft.total], [2500, 2475]);
  // reported during the hour: one stamped in March (billed on it), one in April (not)
  await meterEvent(customer.id, 60, APR1 - 300);
  await meterEvent(customer.id, 9, APR1 + 30);
  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  const inv = await stripe.invoices.retrieve(draft.id);
  assert.equal(inv.status, 'paid');
  // (2000 - 200) + (800 - 80) = 2520, + 10% = 2772
  assert.deepEqual([inv.subtotal, inv.total, inv.amount_due, inv.amount_paid], [2800, 2772, 2772, 2772]);
  assert.equal(inv.total_discount_amounts.reduce((a, d) => a + d.amount, 0), 280);
  assert.ok(inv.number, 'numbered when finalized');
  shape(inv, 'invoice');
  const lines = (await stripe.invoices.listLineItems(inv.id, { limit: 10 })).data;
  const usage = lines.find((l) => l.pricing.price_details.price === callsPrice.id);
  assert.deepEqual([usage.quantity, usage.amount, usage.period], [160, 800, { start: T0, end: APR1 }]);
  assert.match(usage.description, /^160 × API/);
  assert.equal(usage.discount_amounts.reduce((a, d) => a + d.amount, 0), 80);
  const charges = await chargesOf(customer.id);
  assert.deepEqual(charges.map((c) => c.amount).sort((a, b) => a - b), [1980, 2772]);
  assert.ok(charges.every((c) => c.status === 'succeeded'));
  // the event stamped in April is May's
  const preview = await stripe.invoices.createPreview({ customer: customer.id, subscription: sub.id });
  const next = preview.lines.data.find((l) => l.pricing.price_details.price === callsPrice.id);
  assert.deepEqual([next.quantity, next.amount], [9, 45]);
});

test('schedules: phases take metered prices with a meter, without quantity', async () => {
  const { clock, customer } = await customerOnClock();
  const MAY1 = APR1 + 30 * DAY;
  // refusals: a quantity on a metered price, one without a meter (a later phase may add one:
  // billing_gaps.test.js)
  const bad = async (phases, param, re) => {
    await assert.rejects(stripe.subscriptionSchedules.create({ customer: customer.id, start_date: 'now', phases }), (e) => {
      assert.equal(e.statusCode, 400, e.message);
      assert.equal(e.raw.param, param, e.message);
      assert.match(e.message, re);
      return true;
    });
  };
  await bad([{ items: [{ price: seat.id }, { price: callsPrice.id, quantity: 2 }], iterations: 1 }],
    'phases[0][items][1][quantity]', /metered/);
  const legacy = await stripe.prices.create({
    product, currency: 'usd', unit_amount: 5, recurring: { interval: 'month', usage_type: 'metered' },
  });
  await bad([{ items: [{ price: legacy.id }], iterations: 1 }], 'phases[0][items][0][price]', /billing meter/);
  const yearly = await stripe.prices.create({ product, currency: 'usd', unit_amount: 20000, recurring: { interval: 'year' } });
  await bad([{ items: [{ price: callsPrice.id }], iterations: 1 }, { items: [{ price: yearly.id }], iterations: 1 }],
    'phases[1][items]', /interval/);
  assert.equal((await stripe.subscriptionSchedules.list({ customer: customer.id })).data.length, 0);

  const sched = await stripe.subscriptionSchedules.create({
    customer: customer.id, start_date: 'now', end_behavior: 'release',
    phases: [
      { items: [{ price: seat.id }, { price: callsPrice.id }], iterations: 1 },
      { items: [{ price: seat.id, quantity: 2 }, { price: callsPrice.id }], iterations: 1 },
    ],
  });
  const phaseItem = (ph) => ph.items.find((i) => i.price === callsPrice.id);
  assert.equal('quantity' in phaseItem(sched.phases[0]), false, 'a metered phase item shows no quantity');
  assert.equal('quantity' in phaseItem(sched.phases[1]), false);
  shape(sched, 'subscription_schedule');
  const got = await stripe.subscriptionSchedules.retrieve(sched.id);
  assert.equal('quantity' in phaseItem(got.phases[0]), false);
  const sub = await stripe.subscriptions.retrieve(sched.subscription);
  assert.equal(sub.status, 'active');
  const subItem = sub.items.data.find((i) => i.price.id === callsPrice.id);
  assert.equal('quantity' in subItem, false);
  assert.equal((await stripe.invoices.retrieve(sub.latest_invoice)).total, 2000);
  await clockAdvance(stripe, clock, T0 + 4 * DAY);
  await meterEvent(customer.id, 40, T0 + 3 * DAY);
  // April: the second phase (two seats), March's usage billed in arrears
  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  const apr = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(apr.items.data.find((i) => i.price.id === seat.id).quantity, 2);
  assert.equal('quantity' in apr.items.data.find((i) => i.price.id === callsPrice.id), false);
  const invs = (await stripe.invoices.list({ customer: customer.id, limit: 10 })).data;
  const paid = invs.filter((i) => i.status === 'paid');
  assert.equal(paid.length, invs.length);
  const aprInv = await stripe.invoices.retrieve(apr.latest_invoice);
  const lines = (await stripe.invoices.listLineItems(aprInv.id, { limit: 10 })).data;
  const usage = lines.find((l) => l.pricing.price_details.price === callsPrice.id);
  assert.deepEqual([usage.quantity, usage.amount, usage.period], [40, 200, { start: T0, end: APR1 }]);
  // one charge per paid invoice, for its amount
  const charges = await chargesOf(customer.id);
  assert.deepEqual(charges.map((c) => c.amount).sort((a, b) => a - b),
    invs.filter((i) => i.amount_paid > 0).map((i) => i.amount_paid).sort((a, b) => a - b));
  assert.equal(invs.reduce((a, i) => a + i.amount_paid, 0), 2000 + 4000 + 200,
    'the first seat, April\'s two seats and March\'s usage');
  await clockAdvance(stripe, clock, MAY1 + HOUR + 60);
  const released = await stripe.subscriptionSchedules.retrieve(sched.id);
  assert.equal(released.status, 'released');
});

test('a schedule that ends with end_behavior=cancel bills the last period\'s usage on a final invoice', async () => {
  const { clock, customer } = await customerOnClock();
  const sched = await stripe.subscriptionSchedules.create({
    customer: customer.id, start_date: 'now', end_behavior: 'cancel',
    phases: [{ items: [{ price: seat.id }, { price: callsPrice.id }], iterations: 1 }],
  });
  await clockAdvance(stripe, clock, T0 + 2 * DAY);
  await meterEvent(customer.id, 40, T0 + DAY);
  await clockAdvance(stripe, clock, APR1 + 2 * HOUR);
  assert.equal((await stripe.subscriptionSchedules.retrieve(sched.id)).status, 'completed');
  const sub = await stripe.subscriptions.retrieve(sched.subscription, { expand: ['latest_invoice'] });
  assert.deepEqual([sub.status, sub.ended_at], ['canceled', APR1]);
  const inv = sub.latest_invoice;
  assert.deepEqual([inv.billing_reason, inv.status, inv.total, inv.amount_paid, inv.created],
    ['subscription_cycle', 'paid', 200, 200, APR1]);
  assert.deepEqual([inv.lines.data[0].quantity, inv.lines.data[0].period], [40, { start: T0, end: APR1 }]);
  assert.equal((await stripe.invoices.list({ customer: customer.id })).data.length, 2);
  assert.deepEqual((await chargesOf(customer.id)).map((c) => c.amount).sort((a, b) => a - b), [200, 2000]);
});

test('usage records (metered prices without a meter): a removed item\'s usage becomes a pending item, cancel_at_period_end bills the last period', async () => {
  const peak = await stripe.prices.create({
    product, currency: 'usd', unit_amount: 70,
    recurring: { interval: 'month', usage_type: 'metered', aggregate_usage: 'last_during_period' },
  });
  const volume = await stripe.prices.create({
    product, currency: 'usd', unit_amount: 3, recurring: { interval: 'month', usage_type: 'metered' },
  });
  const { clock, customer } = await customerOnClock();
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: seat.id }, { price: peak.id }, { price: volume.id }],
  });
  const item = (price) => sub.items.data.find((i) => i.price.id === price.id).id;
  const record = (it, params) => stripe.rawRequest('POST', `/v1/subscription_items/${it}/usage_records`, params);
  await clockAdvance(stripe, clock, T0 + 10 * DAY);
  await record(item(peak), { quantity: 4, timestamp: T0 + 2 * DAY });
  await record(item(peak), { quantity: 6, timestamp: T0 + 5 * DAY });
  await record(item(volume), { quantity: 10, timestamp: T0 + 3 * DAY });
  // removing the item bills its usage so far on the next invoice
  await stripe.subscriptionItems.del(item(volume));
  const pending = (await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data;
  assert.equal(pending.length, 1);
  assert.deepEqual([pending[0].amount, pending[0].quantity, pending[0].proration, pending[0].period],
    [30, 10, false, { start: T0, end: T0 + 10 * DAY }]);
  shape(pending[0], 'invoiceitem');
  await assert.rejects(record(item(volume), { quantity: 1 }), (e) => e.statusCode === 404);
  await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
  await clockAdvance(stripe, clock, APR1 - 120);
  await record(item(peak), { quantity: 2, timestamp: APR1 - 600 }); // the last of the period
  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  const ended = await stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
  assert.equal(ended.status, 'canceled');
  const inv = ended.latest_invoice;
  assert.equal(inv.billing_reason, 'subscription_cycle');
  assert.equal(inv.status, 'paid');
  const l = inv.lines.data.find((x) => x.pricing.price_details.price === peak.id);
  assert.deepEqual([l.quantity, l.amount, l.period], [2, 140, { start: T0, end: APR1 }]);
  assert.equal(inv.total, 140 + 30, 'the last period\'s usage and the removed item\'s');
  shape(inv, 'invoice');
  const charges = await chargesOf(customer.id);
  assert.deepEqual(charges.map((c) => c.amount).sort((a, b) => a - b), [170, 2000]);
});

test('tender verify passes: the money in the ledger adds up', async () => {
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});
