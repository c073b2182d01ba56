'use strict';
// Usage-based (metered) billing with billing meters, through stripe-node: a metered price backed
// by a meter (recurring[meter]) and Stripe's refusals around it; a subscription on a customer
// with a test clock, with a sum meter's price, a count meter's price and a licensed price: the
// first invoice bills the licensed price in advance (the metered lines at 0), meter events in
// the clock's time (one canceled by an adjustment, one after the period's end), the upcoming
// invoice's preview with the usage so far, and the renewals billing each period's usage in
// arrears (the metered lines for the period that ended, the licensed one for the new period),
// each paid invoice with exactly one charge; a metered item takes no quantity; changes that
// Tender refuses on metered items; cancellation with invoice_now billing the usage so far; a
// metered plan with a meter and a tiered metered price on a `last` meter.
// `tender verify` passes at the end.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, tender } = require('./helpers');
const { billingShape, clockAdvance } = require('./billing_helpers');

let env;
let stripe;
let other;
const DAY = 86400;
const HOUR = 3600;
const T0 = Date.UTC(2025, 2, 1, 0, 0, 0) / 1000; // Mar 1: a 31-day first period
const APR1 = T0 + 31 * DAY;
const MAY1 = APR1 + 30 * DAY;

before(async () => {
  env = await startTender({ merchants: 2, args: ['--rate-limit', '0'] });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
});
after(stopAll);

const shape = (obj, schema, extra) => billingShape(obj, schema, extra);

async function expectError(p, status, param, re) {
  await assert.rejects(p, (e) => {
    assert.equal(e.statusCode, status, e.message);
    if (param !== undefined) assert.equal(e.raw.param, param, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

let product;
let calls; // sum meter
let logins; // count meter
let callsPrice; // 0.05 usd a call
let loginsPrice; // 1.00 usd a login
let seat; // licensed, 20.00 usd a month

test('metered prices: recurring[meter] stored and shown, and its refusals', async () => {
  product = (await stripe.products.create({ name: 'API' })).id;
  calls = await stripe.billing.meters.create({
    display_name: 'API calls', event_name: 'api_calls', default_aggregation: { formula: 'sum' },
  });
  logins = await stripe.billing.meters.create({
    display_name: 'Logins', event_name: 'logins', default_aggregation: { formula: 'count' },
  });
  callsPrice = await stripe.prices.create({
    product, currency: 'usd', unit_amount: 5,
    recurring: { interval: 'month', usage_type: 'metered', meter: calls.id },
  });
  assert.equal(callsPrice.recurring.usage_type, 'metered');
  assert.equal(callsPrice.recurring.meter, calls.id);
  shape(callsPrice, 'price');
  const got = await stripe.prices.retrieve(callsPrice.id);
  assert.equal(got.recurring.meter, calls.id);
  loginsPrice = await stripe.prices.create({
    product, currency: 'usd', unit_amount: 100,
    recurring: { interval: 'month', usage_type: 'metered', meter: logins.id },
  });
  seat = await stripe.prices.create({ product, currency: 'usd', unit_amount: 2000, recurring: { interval: 'month' } });
  assert.equal(seat.recurring.meter, null);
  assert.equal(seat.recurring.usage_type, 'licensed');
  // a meter only with usage_type=metered; one of the merchant's own
  await expectError(stripe.prices.create({
    product, currency: 'usd', unit_amount: 5, recurring: { interval: 'month', meter: calls.id },
  }), 400, 'recurring[meter]', /usage_type\]=metered/);
  await expectError(stripe.prices.create({
    product, currency: 'usd', unit_amount: 5,
    recurring: { interval: 'month', usage_type: 'licensed', meter: calls.id },
  }), 400, 'recurring[meter]');
  await expectError(stripe.prices.create({
    product, currency: 'usd', unit_amount: 5,
    recurring: { interval: 'month', usage_type: 'metered', meter: 'mtr_nope' },
  }), 404, 'recurring[meter]', /mtr_nope/);
  const otherProduct = (await other.products.create({ name: 'Theirs' })).id;
  await expectError(other.prices.create({
    product: otherProduct, currency: 'usd', unit_amount: 5,
    recurring: { interval: 'month', usage_type: 'metered', meter: calls.id },
  }), 404, 'recurring[meter]', new RegExp(calls.id));
  // a metered price without a meter is still taken (legacy), as before
  const legacy = await stripe.prices.create({
    product, currency: 'usd', unit_amount: 5, recurring: { interval: 'month', usage_type: 'metered' },
  });
  assert.equal(legacy.recurring.meter, null);
  assert.equal(legacy.recurring.usage_type, 'metered');
});

async function customerOnClock(frozen = T0) {
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: frozen });
  const customer = await stripe.customers.create({
    test_clock: clock.id, payment_method: 'pm_card_visa',
    invoice_settings: { default_payment_method: 'pm_card_visa' },
  });
  return { clock, customer };
}

test('subscriptions refuse a quantity on a metered item and a metered price without a meter', async () => {
  const { customer } = await customerOnClock();
  await expectError(stripe.subscriptions.create({
    customer: customer.id, items: [{ price: seat.id }, { price: callsPrice.id, quantity: 2 }],
  }), 400, 'items[1][quantity]', /metered/);
  const legacy = (await stripe.prices.list({ product, type: 'recurring', limit: 100 })).data
    .find((p) => p.recurring.usage_type === 'metered' && !p.recurring.meter);
  await expectError(stripe.subscriptions.create({
    customer: customer.id, items: [{ price: legacy.id }],
  }), 400, 'items[0][price]', /usage records/);
  assert.equal((await stripe.subscriptions.list({ customer: customer.id })).data.length, 0);
  assert.equal((await stripe.invoices.list({ customer: customer.id })).data.length, 0);
});

const meterEvent = (event_name, customer, value, timestamp) => stripe.billing.meterEvents.create({
  event_name,
  payload: value == null ? { stripe_customer_id: customer } : { stripe_customer_id: customer, value: String(value) },
  ...(timestamp == null ? {} : { timestamp }),
});

test('usage billed in arrears: first invoice, events in the clock\'s time, preview, renewals, one charge per invoice', async () => {
  const { clock, customer } = await customerOnClock();
  const sub = await stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: callsPrice.id }, { price: seat.id }, { price: loginsPrice.id }],
  });
  assert.equal(sub.status, 'active');
  shape(sub, 'subscription');
  const item = (price) => sub.items.data.find((i) => i.price.id === price.id);
  assert.equal('quantity' in item(callsPrice), false, 'a metered item has no quantity');
  assert.equal('quantity' in item(loginsPrice), false);
  assert.equal(item(seat).quantity, 1);
  assert.equal(item(callsPrice).plan.meter, calls.id);
  assert.equal(item(callsPrice).plan.usage_type, 'metered');
  assert.equal(item(callsPrice).price.recurring.meter, calls.id);
  shape(item(callsPrice), 'subscription_item', [/^\$\.current_period_(start|end): /]);
  const si = await stripe.subscriptionItems.retrieve(item(callsPrice).id);
  assert.equal('quantity' in si, false);

  // the first invoice: the licensed price in advance; the metered lines at 0
  const first = await stripe.invoices.retrieve(sub.latest_invoice);
  assert.equal(first.status, 'paid');
  assert.equal(first.total, 2000);
  assert.equal(first.amount_paid, 2000);
  shape(first, 'invoice');
  const firstLines = (await stripe.invoices.listLineItems(first.id, { limit: 10 })).data;
  assert.equal(firstLines.length, 3);
  for (const l of firstLines) {
    assert.equal(l.period.start, T0);
    assert.equal(l.period.end, APR1);
    const metered = l.pricing.price_details.price !== seat.id;
    assert.equal(l.amount, metered ? 0 : 2000);
    assert.equal(l.quantity, metered ? 0 : 1);
  }

  // usage in March, reported in the clock's time
  await clockAdvance(stripe, clock, T0 + 5 * DAY);
  await meterEvent('api_calls', customer.id, 100, T0 + 1 * DAY);
  await meterEvent('api_calls', customer.id, 250, T0 + 2 * DAY);
  const canceled = await meterEvent('api_calls', customer.id, 40, T0 + 3 * DAY);
  await stripe.billing.meterEventAdjustments.create({
    event_name: 'api_calls', type: 'cancel', cancel: { identifier: canceled.identifier },
  });
  const dflt = await meterEvent('api_calls', customer.id, 7);
  assert.equal(dflt.timestamp, T0 + 5 * DAY, 'the timestamp defaults to the clock\'s time');
  for (let i = 0; i < 3; i++) await meterEvent('logins', customer.id, null, T0 + 4 * DAY + i);
  // the window is the clock's: the real time is far ahead of it, 36 days back is too far
  await expectError(meterEvent('api_calls', customer.id, 1, Math.floor(Date.now() / 1000)),
    400, 'timestamp', /test clock/);
  await expectError(meterEvent('api_calls', customer.id, 1, T0 + 5 * DAY - 36 * DAY), 400, 'timestamp');
  // just before the period ends: an event stamped 2 minutes after it belongs to April
  await clockAdvance(stripe, clock, APR1 - 60);
  await meterEvent('api_calls', customer.id, 1000, APR1 + 120);
  await expectError(meterEvent('api_calls', customer.id, 1, APR1 + 600), 400, 'timestamp');
  const march = 100 + 250 + 7;

  // the upcoming invoice shows the usage so far
  const preview = await stripe.invoices.createPreview({ customer: customer.id, subscription: sub.id });
  assert.equal(preview.total, 2000 + march * 5 + 3 * 100);

  // the renewal: the seat for April, March's usage
  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  const renewed = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(renewed.items.data[0].current_period_start, APR1);
  const inv = await stripe.invoices.retrieve(renewed.latest_invoice);
  assert.equal(inv.billing_reason, 'subscription_cycle');
  assert.equal(inv.status, 'paid');
  assert.equal(inv.total, 2000 + march * 5 + 300);
  assert.equal(inv.amount_paid, inv.total);
  shape(inv, 'invoice');
  const lines = (await stripe.invoices.listLineItems(inv.id, { limit: 10 })).data;
  assert.equal(lines.length, 3);
  const line = (price) => lines.find((l) => l.pricing.price_details.price === price.id);
  assert.deepEqual([line(seat).amount, line(seat).quantity, line(seat).period],
    [2000, 1, { start: APR1, end: MAY1 }]);
  assert.deepEqual([line(callsPrice).amount, line(callsPrice).quantity, line(callsPrice).period],
    [march * 5, march, { start: T0, end: APR1 }]);
  assert.match(line(callsPrice).description, /^357 × API/);
  assert.deepEqual([line(loginsPrice).amount, line(loginsPrice).quantity, line(loginsPrice).period],
    [300, 3, { start: T0, end: APR1 }]);

  // May's renewal bills April's one event
  await clockAdvance(stripe, clock, MAY1 + HOUR + 60);
  const may = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.equal(may.status, 'paid');
  assert.equal(may.total, 2000 + 5000);
  const mayLines = (await stripe.invoices.listLineItems(may.id, { limit: 10 })).data;
  const mayCalls = mayLines.find((l) => l.pricing.price_details.price === callsPrice.id);
  assert.deepEqual([mayCalls.quantity, mayCalls.amount, mayCalls.period], [1000, 5000, { start: APR1, end: MAY1 }]);
  const mayLogins = mayLines.find((l) => l.pricing.price_details.price === loginsPrice.id);
  assert.deepEqual([mayLogins.quantity, mayLogins.amount], [0, 0]);

  // exactly one charge per paid invoice
  const invoices = (await stripe.invoices.list({ customer: customer.id, limit: 10 })).data;
  assert.equal(invoices.length, 3);
  assert.ok(invoices.every((i) => i.status === 'paid'));
  const charges = (await stripe.charges.list({ customer: customer.id, limit: 10 })).data;
  assert.equal(charges.length, 3);
  assert.deepEqual(charges.map((c) => c.amount).sort((a, b) => a - b),
    invoices.map((i) => i.amount_paid).sort((a, b) => a - b));
  assert.ok(charges.every((c) => c.status === 'succeeded'));
  assert.equal(new Set(charges.map((c) => c.payment_intent)).size, 3);

  // what Tender refuses on metered items: a quantity, a new period now (its usage would go
  // unbilled)
  const calledItem = item(callsPrice).id;
  await expectError(stripe.subscriptionItems.update(calledItem, { quantity: 3 }), 400, 'quantity', /metered/);
  const extra = await stripe.billing.meters.create({
    display_name: 'Storage', event_name: 'storage', default_aggregation: { formula: 'last' },
  });
  const storage = await stripe.prices.create({
    product, currency: 'usd', unit_amount: 1,
    recurring: { interval: 'month', usage_type: 'metered', meter: extra.id },
  });
  // (a metered price added later is billed from then: billing_gaps.test.js)
  await expectError(stripe.subscriptionItems.create({ subscription: sub.id, price: storage.id, quantity: 2 }), 400, 'quantity', /metered/);
  await expectError(stripe.subscriptions.update(sub.id, { billing_cycle_anchor: 'now' }), 400, 'items', /metered/);
  // a licensed change still prorates, the metered items left out of it
  await stripe.subscriptionItems.update(item(seat).id, { quantity: 2, proration_behavior: 'none' });
  const after = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(after.items.data.find((i) => i.price.id === seat.id).quantity, 2);
  assert.equal('quantity' in after.items.data.find((i) => i.price.id === callsPrice.id), false);
});

test('cancel with invoice_now: the final invoice bills the usage up to the cancellation, charged once', async () => {
  const { clock, customer } = await customerOnClock();
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: seat.id }, { price: callsPrice.id }],
  });
  await clockAdvance(stripe, clock, T0 + 10 * DAY);
  await meterEvent('api_calls', customer.id, 30, T0 + 2 * DAY);
  await meterEvent('api_calls', customer.id, 12, T0 + 10 * DAY - 60);
  const del = await stripe.subscriptions.cancel(sub.id, { invoice_now: true, expand: ['latest_invoice'] });
  assert.equal(del.status, 'canceled');
  const inv = del.latest_invoice;
  assert.notEqual(inv.id, sub.latest_invoice);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.total, 42 * 5);
  assert.equal(inv.amount_paid, 42 * 5);
  assert.equal(inv.lines.data.length, 1);
  const l = inv.lines.data[0];
  assert.deepEqual([l.quantity, l.amount, l.period, l.pricing.price_details.price],
    [42, 210, { start: T0, end: T0 + 10 * DAY }, callsPrice.id]);
  shape({ ...del, latest_invoice: inv.id }, 'subscription');
  shape(inv, 'invoice');
  // without usage: a final invoice at 0, charging nothing
  const { clock: c2, customer: cu2 } = await customerOnClock();
  const sub2 = await stripe.subscriptions.create({ customer: cu2.id, items: [{ price: callsPrice.id }] });
  assert.equal((await stripe.invoices.retrieve(sub2.latest_invoice)).total, 0);
  await clockAdvance(stripe, c2, T0 + 3 * DAY);
  const del2 = await stripe.subscriptions.cancel(sub2.id, { invoice_now: true, expand: ['latest_invoice'] });
  assert.equal(del2.latest_invoice.total, 0);
  assert.equal(del2.latest_invoice.lines.data[0].quantity, 0);
  const charges = (await stripe.charges.list({ customer: customer.id, limit: 10 })).data;
  assert.deepEqual(charges.map((c) => c.amount).sort((a, b) => a - b), [210, 2000]);
  assert.equal((await stripe.charges.list({ customer: cu2.id })).data.length, 0);
});

test('a metered plan with a meter and a tiered metered price on a `last` meter, renewed', async () => {
  const gauge = await stripe.billing.meters.create({
    display_name: 'Peak seats', event_name: 'peak_seats', default_aggregation: { formula: 'last' },
  });
  const plan = await stripe.plans.create({
    amount: 3, currency: 'usd', interval: 'month', product: { name: 'Calls (plan)' },
    usage_type: 'metered', meter: calls.id,
  });
  assert.equal(plan.meter, calls.id);
  assert.equal(plan.usage_type, 'metered');
  shape(plan, 'plan');
  await expectError(stripe.plans.create({
    amount: 3, currency: 'usd', interval: 'month', product: product, meter: calls.id,
  }), 400, 'meter');
  await expectError(stripe.plans.create({
    amount: 3, currency: 'usd', interval: 'month', product: product, usage_type: 'metered', meter: 'mtr_none',
  }), 404, 'meter');
  // the first 100 free, then 2 cents each (graduated)
  const tieredPrice = await stripe.prices.create({
    product, currency: 'usd', recurring: { interval: 'month', usage_type: 'metered', meter: gauge.id },
    billing_scheme: 'tiered', tiers_mode: 'graduated',
    tiers: [{ up_to: 100, unit_amount: 0 }, { up_to: 'inf', unit_amount: 2 }],
  });
  const { clock, customer } = await customerOnClock();
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ plan: plan.id }, { price: tieredPrice.id }],
  });
  const first = await stripe.invoices.retrieve(sub.latest_invoice);
  assert.equal(first.total, 0);
  assert.equal(first.status, 'paid');
  await clockAdvance(stripe, clock, T0 + 3 * DAY);
  await meterEvent('api_calls', customer.id, 11, T0 + 1 * DAY);
  await meterEvent('peak_seats', customer.id, 150, T0 + 1 * DAY);
  await meterEvent('peak_seats', customer.id, 120, T0 + 2 * DAY);
  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  const inv = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.total, 11 * 3 + 20 * 2);
  const lines = (await stripe.invoices.listLineItems(inv.id, { limit: 10 })).data;
  const byPrice = (id) => lines.find((l) => l.pricing.price_details.price === id);
  assert.deepEqual([byPrice(plan.id).quantity, byPrice(plan.id).amount], [11, 33]);
  assert.deepEqual([byPrice(tieredPrice.id).quantity, byPrice(tieredPrice.id).amount,
    byPrice(tieredPrice.id).period], [120, 40, { start: T0, end: APR1 }]);
  const charges = (await stripe.charges.list({ customer: customer.id, limit: 10 })).data;
  assert.deepEqual(charges.map((c) => c.amount), [73]);
});

test('tender verify passes: the money in the ledger adds up', async () => {
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});
