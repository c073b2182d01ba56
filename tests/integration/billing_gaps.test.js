'use strict';
// The billing gaps around metered and tiered prices, through stripe-node, each on a customer with
// a test clock (March 2025: a 31-day first period):
// 1. a metered price added to a running subscription (POST /v1/subscription_items, and
//    POST /v1/subscriptions/{id} items[n][price] new or replacing a licensed item's price):
//    nothing prorated for it, its usage counted from the moment it came (the meter's events
//    before are not billed) and billed in arrears at the renewal; a metered item removed
//    (`deleted`, DELETE) has its usage up to then billed by the next invoice as a pending
//    invoice item, unless `clear_usage`;
// 2. a later subscription-schedule phase that brings in a metered price (its usage counted from
//    the phase's start) and one that takes it out (its usage up to the phase change billed);
// 3. tiered prices in schedule phases, billed and prorated by the tiers' amount as a
//    subscription's are.
// Every invoice amount is checked exactly; subscriptions, items, invoices, invoice items and
// schedules are checked against Stripe's spec. `tender verify` passes at the end.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, tender } = require('./helpers');
const { billingShape, clockAdvance } = require('./billing_helpers');

let env;
let stripe;
const DAY = 86400;
const HOUR = 3600;
const T0 = Date.UTC(2025, 2, 1, 0, 0, 0) / 1000; // Mar 1
const APR1 = T0 + 31 * DAY;
const MAY1 = APR1 + 30 * DAY;

before(async () => {
  env = await startTender({ args: ['--rate-limit', '0'] });
  stripe = env.stripe();
});
after(stopAll);

const shape = (obj, schema, extra) => billingShape(obj, schema, extra);
const ITEM_EXTRA = [/^\$\.current_period_(start|end): /];

async function expectError(p, status, param, re) {
  await assert.rejects(p, (e) => {
    assert.equal(e.statusCode, status, e.message);
    if (param !== undefined) assert.equal(e.raw.param, param, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

// Stripe's proration: amount × remaining / period, rounded half away from zero
const prorate = (amount, remaining, period) => {
  const v = Math.abs(amount * remaining) / period;
  const r = Math.floor(v) + (v - Math.floor(v) >= 0.5 ? 1 : 0);
  return amount < 0 ? -r : r;
};

let product;
let callsPrice; // sum meter, 0.05 usd a call
let loginsPrice; // count meter, 1.00 usd a login
let seat; // licensed, 20.00 usd a month
let helper; // licensed, 10.00 usd a month
let graduated; // tiered graduated: 1–5 at 10.00, then 5.00 + 1.00 flat
let volume; // tiered volume: 1–4 at 7.00, then 4.00 each

test('setup: meters and prices', async () => {
  product = (await stripe.products.create({ name: 'Gaps' })).id;
  const calls = await stripe.billing.meters.create({
    display_name: 'Gap calls', event_name: 'gap_calls', default_aggregation: { formula: 'sum' },
  });
  const logins = await stripe.billing.meters.create({
    display_name: 'Gap logins', event_name: 'gap_logins', default_aggregation: { formula: 'count' },
  });
  const metered = (unit_amount, meter) => stripe.prices.create({
    product, currency: 'usd', unit_amount, recurring: { interval: 'month', usage_type: 'metered', meter },
  });
  callsPrice = await metered(5, calls.id);
  loginsPrice = await metered(100, logins.id);
  seat = await stripe.prices.create({ product, currency: 'usd', unit_amount: 2000, recurring: { interval: 'month' } });
  helper = await stripe.prices.create({ product, currency: 'usd', unit_amount: 1000, recurring: { interval: 'month' } });
  graduated = await stripe.prices.create({
    product, currency: 'usd', recurring: { interval: 'month' }, billing_scheme: 'tiered', tiers_mode: 'graduated',
    tiers: [{ up_to: 5, unit_amount: 1000 }, { up_to: 'inf', unit_amount: 500, flat_amount: 100 }],
  });
  volume = await stripe.prices.create({
    product, currency: 'usd', recurring: { interval: 'month' }, billing_scheme: 'tiered', tiers_mode: 'volume',
    tiers: [{ up_to: 4, unit_amount: 700 }, { up_to: 'inf', unit_amount: 400 }],
  });
});

async function customerOnClock() {
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
  const customer = await stripe.customers.create({
    test_clock: clock.id, payment_method: 'pm_card_visa',
    invoice_settings: { default_payment_method: 'pm_card_visa' },
  });
  return { clock, customer };
}

const meterEvent = (event_name, customer, value, timestamp) => stripe.billing.meterEvents.create({
  event_name, timestamp,
  payload: value == null ? { stripe_customer_id: customer } : { stripe_customer_id: customer, value: String(value) },
});

async function latestInvoice(sub) {
  return stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub)).latest_invoice);
}

async function lines(inv) {
  return (await stripe.invoices.listLineItems(inv.id, { limit: 50 })).data;
}

const byPrice = (ls, price) => ls.filter((l) => l.pricing && l.pricing.price_details.price === price.id);

async function paidOnce(customer) {
  const invoices = (await stripe.invoices.list({ customer, limit: 20 })).data;
  const charges = (await stripe.charges.list({ customer, limit: 20 })).data;
  assert.deepEqual(charges.map((c) => c.amount).sort((a, b) => a - b),
    invoices.filter((i) => i.amount_paid > 0).map((i) => i.amount_paid).sort((a, b) => a - b));
}

test('1a. POST /v1/subscription_items with a metered price: no proration, usage from then, billed at the renewal', async () => {
  const { clock, customer } = await customerOnClock();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: seat.id }] });
  assert.equal((await stripe.invoices.retrieve(sub.latest_invoice)).total, 2000);
  await clockAdvance(stripe, clock, T0 + 10 * DAY);
  // usage before the item came: not its own
  await meterEvent('gap_calls', customer.id, 100, T0 + 2 * DAY);
  await meterEvent('gap_calls', customer.id, 9, T0 + 10 * DAY - 1);
  await expectError(stripe.subscriptionItems.create({ subscription: sub.id, price: callsPrice.id, quantity: 1 }),
    400, 'quantity', /metered/);
  const si = await stripe.subscriptionItems.create({ subscription: sub.id, price: callsPrice.id });
  assert.equal('quantity' in si, false, 'a metered item has no quantity');
  assert.equal(si.price.id, callsPrice.id);
  shape(si, 'subscription_item', ITEM_EXTRA);
  // nothing prorated for it, nothing invoiced now
  assert.equal((await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data.length, 0);
  assert.equal((await stripe.invoices.list({ customer: customer.id })).data.length, 1);
  const got = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(got.items.data.length, 2);
  shape(got, 'subscription');

  await clockAdvance(stripe, clock, T0 + 25 * DAY);
  await meterEvent('gap_calls', customer.id, 30, T0 + 12 * DAY);
  await meterEvent('gap_calls', customer.id, 7, T0 + 20 * DAY);
  const preview = await stripe.invoices.createPreview({ customer: customer.id, subscription: sub.id });
  assert.equal(preview.total, 2000 + 37 * 5);
  const pl = byPrice(preview.lines.data, callsPrice)[0];
  assert.deepEqual([pl.quantity, pl.amount, pl.period], [37, 185, { start: T0 + 10 * DAY, end: APR1 }]);

  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  const inv = await latestInvoice(sub.id);
  assert.equal(inv.billing_reason, 'subscription_cycle');
  assert.equal(inv.status, 'paid');
  assert.equal(inv.total, 2000 + 37 * 5);
  assert.equal(inv.amount_paid, 2185);
  shape(inv, 'invoice');
  const ls = await lines(inv);
  assert.equal(ls.length, 2);
  const cl = byPrice(ls, callsPrice)[0];
  assert.deepEqual([cl.quantity, cl.amount, cl.period], [37, 185, { start: T0 + 10 * DAY, end: APR1 }]);
  assert.match(cl.description, /^37 × Gaps/);
  assert.deepEqual([byPrice(ls, seat)[0].amount, byPrice(ls, seat)[0].period], [2000, { start: APR1, end: MAY1 }]);

  // the next renewal bills April's usage over the whole period
  await clockAdvance(stripe, clock, APR1 + 2 * DAY);
  await meterEvent('gap_calls', customer.id, 4, APR1 + 2 * DAY);
  await clockAdvance(stripe, clock, MAY1 + HOUR + 60);
  const may = await latestInvoice(sub.id);
  assert.equal(may.total, 2000 + 4 * 5);
  assert.deepEqual(byPrice(await lines(may), callsPrice)[0].period, { start: APR1, end: MAY1 });
  await paidOnce(customer.id);
});

test('1b. POST /v1/subscriptions/{id}: a licensed item\'s price replaced by a metered one, and a new metered item', async () => {
  const { clock, customer } = await customerOnClock();
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: seat.id }, { price: helper.id }],
  });
  assert.equal((await stripe.invoices.retrieve(sub.latest_invoice)).total, 3000);
  await clockAdvance(stripe, clock, T0 + 15 * DAY);
  await meterEvent('gap_calls', customer.id, 50, T0 + 5 * DAY);
  await meterEvent('gap_logins', customer.id, null, T0 + 3 * DAY);
  const helperItem = sub.items.data.find((i) => i.price.id === helper.id).id;
  await expectError(stripe.subscriptions.update(sub.id, { items: [{ id: helperItem, price: callsPrice.id, quantity: 2 }] }),
    400, 'items[0][quantity]', /metered/);
  const up = await stripe.subscriptions.update(sub.id, {
    items: [{ id: helperItem, price: callsPrice.id }, { price: loginsPrice.id }],
  });
  assert.equal(up.items.data.length, 3);
  const replaced = up.items.data.find((i) => i.id === helperItem);
  assert.equal(replaced.price.id, callsPrice.id);
  assert.equal('quantity' in replaced, false);
  assert.equal('quantity' in up.items.data.find((i) => i.price.id === loginsPrice.id), false);
  shape(up, 'subscription');
  // the helper's unused half month credited; nothing for the metered prices
  const credit = prorate(-1000, APR1 - (T0 + 15 * DAY), 31 * DAY);
  assert.equal(credit, -516);
  const pending = (await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data;
  assert.deepEqual(pending.map((i) => [i.amount, i.proration]), [[credit, true]]);

  await clockAdvance(stripe, clock, T0 + 20 * DAY);
  await meterEvent('gap_calls', customer.id, 20, T0 + 20 * DAY);
  await meterEvent('gap_logins', customer.id, null, T0 + 16 * DAY);
  await meterEvent('gap_logins', customer.id, null, T0 + 17 * DAY);
  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  const inv = await latestInvoice(sub.id);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.total, 2000 + 20 * 5 + 2 * 100 + credit);
  shape(inv, 'invoice');
  const ls = await lines(inv);
  const cl = byPrice(ls, callsPrice).find((l) => l.parent.type === 'subscription_item_details');
  assert.deepEqual([cl.quantity, cl.amount, cl.period], [20, 100, { start: T0 + 15 * DAY, end: APR1 }]);
  const ll = byPrice(ls, loginsPrice)[0];
  assert.deepEqual([ll.quantity, ll.amount, ll.period], [2, 200, { start: T0 + 15 * DAY, end: APR1 }]);
  await paidOnce(customer.id);
});

test('1c. a metered item removed: its usage billed by the next invoice, unless clear_usage', async () => {
  const { clock, customer } = await customerOnClock();
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: seat.id }, { price: callsPrice.id }, { price: loginsPrice.id }],
  });
  const item = (p) => sub.items.data.find((i) => i.price.id === p.id).id;
  await clockAdvance(stripe, clock, T0 + 10 * DAY);
  await meterEvent('gap_calls', customer.id, 40, T0 + 2 * DAY);
  for (let i = 0; i < 3; i++) await meterEvent('gap_logins', customer.id, null, T0 + 3 * DAY + i);
  // clear_usage: only with deleted, only on a metered item
  await expectError(stripe.subscriptions.update(sub.id, { items: [{ id: item(loginsPrice), clear_usage: true }] }),
    400, 'items[0][clear_usage]', /deleted/);
  await expectError(stripe.subscriptionItems.del(item(seat), { clear_usage: true }), 400, 'clear_usage', /metered/);

  // the preview of the removal: the next invoice with the removed item's usage so far (40
  // calls), and the logins still there (3); with clear_usage without the calls
  const preview = (extra) => stripe.invoices.createPreview({
    customer: customer.id, subscription: sub.id,
    subscription_details: { items: [{ id: item(callsPrice), deleted: true, ...extra }] },
  });
  const pv = await preview({});
  assert.equal(pv.total, 2000 + 200 + 300);
  assert.ok(pv.lines.data.some((l) => l.amount === 200 && l.quantity === 40));
  assert.equal((await preview({ clear_usage: true })).total, 2000 + 300);
  const del = await stripe.subscriptionItems.del(item(callsPrice));
  assert.deepEqual(del, { ...del, id: item(callsPrice), object: 'subscription_item', deleted: true });
  const pending = (await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data;
  assert.equal(pending.length, 1);
  const ii = pending[0];
  assert.deepEqual([ii.amount, ii.quantity, ii.proration, ii.period, ii.pricing.price_details.price],
    [200, 40, false, { start: T0, end: T0 + 10 * DAY }, callsPrice.id]);
  assert.equal(ii.parent.subscription_details.subscription, sub.id);
  assert.equal(ii.parent.subscription_details.subscription_item, item(callsPrice));
  shape(ii, 'invoiceitem');
  const up = await stripe.subscriptions.update(sub.id, {
    items: [{ id: item(loginsPrice), deleted: true, clear_usage: true }],
  });
  assert.deepEqual(up.items.data.map((i) => i.price.id), [seat.id]);
  assert.equal((await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data.length, 1);
  // after its removal the meter's events are no one's
  await clockAdvance(stripe, clock, T0 + 12 * DAY);
  await meterEvent('gap_calls', customer.id, 1000, T0 + 12 * DAY);
  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  const inv = await latestInvoice(sub.id);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.total, 2000 + 200);
  shape(inv, 'invoice');
  const ls = await lines(inv);
  assert.equal(ls.length, 2);
  assert.deepEqual(ls.map((l) => l.amount).sort((a, b) => a - b), [200, 2000]);
  assert.equal((await stripe.invoiceItems.retrieve(ii.id)).invoice, inv.id);
  await paidOnce(customer.id);
});

test('1d. a metered item added by an update, then invoice_now on cancel: its usage from when it came', async () => {
  const { clock, customer } = await customerOnClock();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: seat.id }] });
  await clockAdvance(stripe, clock, T0 + 5 * DAY);
  await meterEvent('gap_calls', customer.id, 10, T0 + 4 * DAY);
  // always_invoice: nothing prorated, so nothing invoiced now
  const up = await stripe.subscriptions.update(sub.id, {
    items: [{ price: callsPrice.id }], proration_behavior: 'always_invoice',
  });
  assert.equal(up.latest_invoice, sub.latest_invoice);
  assert.equal((await stripe.invoices.list({ customer: customer.id })).data.length, 1);
  await clockAdvance(stripe, clock, T0 + 8 * DAY);
  await meterEvent('gap_calls', customer.id, 60, T0 + 7 * DAY);
  const del = await stripe.subscriptions.cancel(sub.id, { invoice_now: true, expand: ['latest_invoice'] });
  const inv = del.latest_invoice;
  assert.equal(inv.status, 'paid');
  assert.equal(inv.total, 300);
  assert.equal(inv.lines.data.length, 1);
  assert.deepEqual([inv.lines.data[0].quantity, inv.lines.data[0].period], [60, { start: T0 + 5 * DAY, end: T0 + 8 * DAY }]);
  shape(inv, 'invoice');
  shape({ ...del, latest_invoice: inv.id }, 'subscription');
  await paidOnce(customer.id);
});

test('2. schedule phases: a later phase brings in a metered price, the next one takes it out', async () => {
  const { clock, customer } = await customerOnClock();
  const sched = await stripe.subscriptionSchedules.create({
    customer: customer.id, start_date: 'now', end_behavior: 'release',
    phases: [
      { items: [{ price: seat.id }], end_date: T0 + 10 * DAY },
      { items: [{ price: seat.id }, { price: callsPrice.id }], end_date: T0 + 20 * DAY },
      { items: [{ price: seat.id }], iterations: 1 },
    ],
  });
  shape(sched, 'subscription_schedule');
  assert.equal('quantity' in sched.phases[1].items.find((i) => i.price === callsPrice.id), false);
  assert.equal((await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sched.subscription)).latest_invoice)).total, 2000);
  await clockAdvance(stripe, clock, T0 + 5 * DAY);
  await meterEvent('gap_calls', customer.id, 100, T0 + 5 * DAY); // before the phase: not billed
  await clockAdvance(stripe, clock, T0 + 12 * DAY);
  const mid = await stripe.subscriptions.retrieve(sched.subscription);
  assert.deepEqual(mid.items.data.map((i) => i.price.id).sort(), [seat.id, callsPrice.id].sort());
  shape(mid, 'subscription');
  await meterEvent('gap_calls', customer.id, 30, T0 + 12 * DAY);
  await clockAdvance(stripe, clock, T0 + 22 * DAY);
  const after2 = await stripe.subscriptions.retrieve(sched.subscription);
  assert.deepEqual(after2.items.data.map((i) => i.price.id), [seat.id]);
  // the usage of the phase that had it, up to the phase change, pending for the next invoice
  const pending = (await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data;
  assert.deepEqual(pending.map((i) => [i.amount, i.quantity, i.period]),
    [[150, 30, { start: T0 + 10 * DAY, end: T0 + 20 * DAY }]]);
  await meterEvent('gap_calls', customer.id, 1000, T0 + 22 * DAY); // after it: not billed
  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  const inv = await latestInvoice(sched.subscription);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.total, 2000 + 150);
  shape(inv, 'invoice');
  await paidOnce(customer.id);
});

test('2b. a schedule phase starting with the period brings in a metered price: billed from its start', async () => {
  const { clock, customer } = await customerOnClock();
  const sched = await stripe.subscriptionSchedules.create({
    customer: customer.id, start_date: 'now', end_behavior: 'release',
    phases: [
      { items: [{ price: seat.id }], iterations: 1 },
      { items: [{ price: seat.id }, { price: loginsPrice.id }], iterations: 1 },
      { items: [{ price: seat.id }], iterations: 1 },
    ],
  });
  await clockAdvance(stripe, clock, T0 + 20 * DAY);
  await meterEvent('gap_logins', customer.id, null, T0 + 20 * DAY); // March: not billed
  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  const april = await latestInvoice(sched.subscription);
  assert.equal(april.total, 2000);
  await clockAdvance(stripe, clock, APR1 + 2 * DAY + 10);
  for (let i = 0; i < 4; i++) await meterEvent('gap_logins', customer.id, null, APR1 + 2 * DAY + i);
  await clockAdvance(stripe, clock, MAY1 + HOUR + 60);
  // April's usage billed once, at May's renewal or on the item the phase change removed
  const may = await latestInvoice(sched.subscription);
  assert.equal(may.status, 'paid');
  assert.equal(may.total, 2000 + 400);
  shape(may, 'invoice');
  assert.equal((await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data.length, 0);
  await paidOnce(customer.id);
});

test('3. tiered prices in schedule phases: billed and prorated by the tiers\' amount', async () => {
  // a subscription with the tiered price bills 5 × 10.00 + 3 × 5.00 + 1.00 for 8
  const ref = await customerOnClock();
  const refSub = await stripe.subscriptions.create({ customer: ref.customer.id, items: [{ price: graduated.id, quantity: 8 }] });
  assert.equal((await stripe.invoices.retrieve(refSub.latest_invoice)).total, 6600);

  const { clock, customer } = await customerOnClock();
  const sched = await stripe.subscriptionSchedules.create({
    customer: customer.id, start_date: 'now', end_behavior: 'release',
    phases: [
      { items: [{ price: graduated.id, quantity: 8 }], end_date: T0 + 15 * DAY },
      { items: [{ price: graduated.id, quantity: 3 }, { price: volume.id, quantity: 6 }], iterations: 1,
        proration_behavior: 'create_prorations' },
    ],
  });
  shape(sched, 'subscription_schedule');
  assert.equal(sched.phases[0].items[0].quantity, 8);
  const sub = await stripe.subscriptions.retrieve(sched.subscription);
  shape(sub, 'subscription');
  const first = await stripe.invoices.retrieve(sub.latest_invoice);
  assert.equal(first.total, 6600);
  assert.equal(first.status, 'paid');
  shape(first, 'invoice');
  const fl = (await lines(first))[0];
  assert.deepEqual([fl.quantity, fl.amount, String(fl.pricing.unit_amount_decimal)], [8, 6600, '825']);

  // mid-period the quantity drops to 3 (3000) and a volume price comes at 6 (6 × 4.00)
  await clockAdvance(stripe, clock, T0 + 16 * DAY);
  const left = APR1 - (T0 + 15 * DAY);
  const pr = [prorate(-6600, left, 31 * DAY), prorate(3000, left, 31 * DAY), prorate(2400, left, 31 * DAY)];
  assert.deepEqual(pr, [-3406, 1548, 1239]);
  const pending = (await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data;
  assert.deepEqual(pending.map((i) => i.amount).sort((a, b) => a - b), [...pr].sort((a, b) => a - b));
  assert.ok(pending.every((i) => i.proration));
  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  const inv = await latestInvoice(sched.subscription);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.total, 3000 + 2400 + pr[0] + pr[1] + pr[2]);
  shape(inv, 'invoice');
  const ls = await lines(inv);
  const g = byPrice(ls, graduated).find((l) => l.parent.type === 'subscription_item_details');
  assert.deepEqual([g.quantity, g.amount, g.period], [3, 3000, { start: APR1, end: MAY1 }]);
  const v = byPrice(ls, volume).find((l) => l.parent.type === 'subscription_item_details');
  assert.deepEqual([v.quantity, v.amount], [6, 2400]);
  assert.match(v.description, /^6 × Gaps \(tiered \/ month\)/);
  await paidOnce(customer.id);
});

test('tender verify passes: the money in the ledger adds up', async () => {
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});
