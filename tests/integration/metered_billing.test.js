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
// metered plan with a meter and a tiered metered price on a `last` meter. Legacy metered billing
// (API 2023-08-16): recurring[aggregate_usage] on prices and plans; usage records on items of
// metered prices without a meter (created in the clock's time, refused as Stripe refuses them,
// idempotent), their summaries, and invoices billing them per aggregation (sum with `set`, max,
// tiered last_ever), the renewal draft's hour taking late usage, invoice_now on cancel.
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
  assert.equal(legacy.recurring.aggregate_usage, 'sum', 'Stripe\'s default aggregation');
  assert.equal(callsPrice.recurring.aggregate_usage, null, 'a meter aggregates its own usage');
  assert.equal(seat.recurring.aggregate_usage, null);
  shape(legacy, 'price');
});

test('recurring[aggregate_usage] on prices and aggregate_usage on plans: shown, and Stripe\'s refusals', async () => {
  for (const agg of ['sum', 'last_during_period', 'last_ever', 'max']) {
    const p = await stripe.prices.create({
      product, currency: 'usd', unit_amount: 5,
      recurring: { interval: 'month', usage_type: 'metered', aggregate_usage: agg },
    });
    assert.equal(p.recurring.aggregate_usage, agg);
    assert.equal((await stripe.prices.retrieve(p.id)).recurring.aggregate_usage, agg);
  }
  // only a metered price without a meter takes one; nothing is made when refused
  const before = (await stripe.prices.list({ product, limit: 100 })).data.length;
  await expectError(stripe.prices.create({
    product, currency: 'usd', unit_amount: 5, recurring: { interval: 'month', aggregate_usage: 'max' },
  }), 400, 'recurring[aggregate_usage]', /metered/);
  await expectError(stripe.prices.create({
    product, currency: 'usd', unit_amount: 5,
    recurring: { interval: 'month', usage_type: 'metered', meter: calls.id, aggregate_usage: 'sum' },
  }), 400, 'recurring[aggregate_usage]', /meter/);
  await expectError(stripe.prices.create({
    product, currency: 'usd', unit_amount: 5,
    recurring: { interval: 'month', usage_type: 'metered', aggregate_usage: 'count' },
  }), 400, 'recurring[aggregate_usage]');
  assert.equal((await stripe.prices.list({ product, limit: 100 })).data.length, before);
  const plan = await stripe.plans.create({
    amount: 4, currency: 'usd', interval: 'month', product, usage_type: 'metered',
    aggregate_usage: 'last_during_period',
  });
  assert.equal(plan.aggregate_usage, 'last_during_period');
  shape(plan, 'plan');
  assert.equal((await stripe.prices.retrieve(plan.id)).recurring.aggregate_usage, 'last_during_period');
  const plain = await stripe.plans.create({ amount: 4, currency: 'usd', interval: 'month', product, usage_type: 'metered' });
  assert.equal(plain.aggregate_usage, 'sum');
  const licensedPlan = await stripe.plans.create({ amount: 4, currency: 'usd', interval: 'month', product });
  assert.equal(licensedPlan.aggregate_usage, null);
  await expectError(stripe.plans.create({
    amount: 4, currency: 'usd', interval: 'month', product, aggregate_usage: 'max',
  }), 400, 'aggregate_usage', /metered/);
});

async function customerOnClock(frozen = T0) {
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: frozen });
  const customer = await stripe.customers.create({
    test_clock: clock.id, payment_method: 'pm_card_visa',
    invoice_settings: { default_payment_method: 'pm_card_visa' },
  });
  return { clock, customer };
}

test('subscriptions refuse a quantity on a metered item, with a meter or without', async () => {
  const { customer } = await customerOnClock();
  await expectError(stripe.subscriptions.create({
    customer: customer.id, items: [{ price: seat.id }, { price: callsPrice.id, quantity: 2 }],
  }), 400, 'items[1][quantity]', /metered/);
  const legacy = (await stripe.prices.list({ product, type: 'recurring', limit: 100 })).data
    .find((p) => p.recurring.usage_type === 'metered' && !p.recurring.meter);
  await expectError(stripe.subscriptions.create({
    customer: customer.id, items: [{ price: legacy.id, quantity: 2 }],
  }), 400, 'items[0][quantity]', /metered/);
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

// Legacy metered billing: usage records on items of metered prices without a meter.
const usageRecord = (client, item, params, opts) =>
  client.rawRequest('POST', `/v1/subscription_items/${item}/usage_records`, params, opts);
const summaries = async (client, item, params = {}) => {
  const q = new URLSearchParams(params).toString();
  return client.rawRequest('GET', `/v1/subscription_items/${item}/usage_record_summaries${q ? `?${q}` : ''}`);
};

test('usage records: created in the clock\'s time, refused where Stripe refuses, summarized and billed per aggregate_usage', async () => {
  const sumPrice = await stripe.prices.create({
    product, currency: 'usd', unit_amount: 5, recurring: { interval: 'month', usage_type: 'metered' },
  });
  const maxPrice = await stripe.prices.create({
    product, currency: 'usd', unit_amount: 100,
    recurring: { interval: 'month', usage_type: 'metered', aggregate_usage: 'max' },
  });
  // last_ever, tiered: the first 2 units 10 cents each, then 1 cent (graduated)
  const everPrice = await stripe.prices.create({
    product, currency: 'usd', billing_scheme: 'tiered', tiers_mode: 'graduated',
    tiers: [{ up_to: 2, unit_amount: 10 }, { up_to: 'inf', unit_amount: 1 }],
    recurring: { interval: 'month', usage_type: 'metered', aggregate_usage: 'last_ever' },
  });
  const { clock, customer } = await customerOnClock();
  const sub = await stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: seat.id }, { price: sumPrice.id }, { price: maxPrice.id }, { price: everPrice.id },
      { price: callsPrice.id }],
  });
  assert.equal(sub.status, 'active');
  const item = (price) => sub.items.data.find((i) => i.price.id === price.id).id;
  assert.equal('quantity' in sub.items.data.find((i) => i.price.id === sumPrice.id), false);
  assert.equal(sub.items.data.find((i) => i.price.id === maxPrice.id).plan.aggregate_usage, 'max');
  const first = await stripe.invoices.retrieve(sub.latest_invoice);
  assert.equal(first.total, 2000, 'metered items are billed in arrears: 0 on the first invoice');

  await clockAdvance(stripe, clock, T0 + 5 * DAY);
  const ur = await usageRecord(stripe, item(sumPrice), { quantity: 100, timestamp: T0 + DAY });
  assert.match(ur.id, /^mbur_/);
  assert.deepEqual([ur.object, ur.quantity, ur.timestamp, ur.subscription_item],
    ['usage_record', 100, T0 + DAY, item(sumPrice)]);
  shape(ur, 'usage_record');
  await usageRecord(stripe, item(sumPrice), { quantity: 50, timestamp: T0 + DAY }); // adds: 150 there
  await usageRecord(stripe, item(sumPrice), { quantity: 20, timestamp: T0 + 2 * DAY });
  const set = await usageRecord(stripe, item(sumPrice), { quantity: 30, timestamp: T0 + 2 * DAY, action: 'set' });
  assert.equal(set.quantity, 30);
  const dflt = await usageRecord(stripe, item(sumPrice), { quantity: 7 });
  assert.equal(dflt.timestamp, T0 + 5 * DAY, 'the timestamp defaults to the clock\'s time');
  assert.equal((await usageRecord(stripe, item(sumPrice), { quantity: 1, timestamp: 'now' })).timestamp, T0 + 5 * DAY);
  // a retried request (same idempotency key) counts once
  const once = await usageRecord(stripe, item(sumPrice), { quantity: 3, timestamp: T0 + 3 * DAY }, { idempotencyKey: `ur-${sub.id}` });
  const again = await usageRecord(stripe, item(sumPrice), { quantity: 3, timestamp: T0 + 3 * DAY }, { idempotencyKey: `ur-${sub.id}` });
  assert.equal(again.id, once.id);
  let march = 150 + 30 + 7 + 1 + 3;
  for (const [q, d] of [[4, 1], [9, 2], [6, 3]]) await usageRecord(stripe, item(maxPrice), { quantity: q, timestamp: T0 + d * DAY });
  await usageRecord(stripe, item(everPrice), { quantity: 12, timestamp: T0 + DAY });
  await usageRecord(stripe, item(everPrice), { quantity: 5, timestamp: T0 + 4 * DAY });

  // Stripe's refusals; none of them records anything
  await expectError(usageRecord(stripe, item(sumPrice), { quantity: 1, timestamp: T0 + 6 * DAY }), 400, 'timestamp', /future/);
  await expectError(usageRecord(stripe, item(sumPrice), { quantity: 1, timestamp: T0 - 60 }), 400, 'timestamp', /period/);
  await expectError(usageRecord(stripe, item(sumPrice), { quantity: -1 }), 400, 'quantity');
  await expectError(usageRecord(stripe, item(sumPrice), {}), 400, 'quantity');
  await expectError(usageRecord(stripe, item(sumPrice), { quantity: 1, action: 'decrement' }), 400, 'action');
  await expectError(usageRecord(stripe, item(sumPrice), { quantity: 1, timestamp: 'soon' }), 400, 'timestamp');
  await expectError(usageRecord(stripe, item(seat), { quantity: 1 }), 400, undefined, /metered/);
  await expectError(usageRecord(stripe, item(callsPrice), { quantity: 1 }), 400, undefined, /meter events/);
  await expectError(usageRecord(other, item(sumPrice), { quantity: 1 }), 404, undefined, new RegExp(item(sumPrice)));
  await expectError(summaries(other, item(sumPrice)), 404);

  // the current period's summary, still changing
  let sums = await summaries(stripe, item(sumPrice));
  assert.equal(sums.object, 'list');
  assert.equal(sums.data.length, 1);
  assert.match(sums.data[0].id, /^sis_/);
  assert.deepEqual([sums.data[0].period, sums.data[0].total_usage, sums.data[0].invoice],
    [{ start: T0, end: APR1 }, march, null]);
  shape(sums.data[0], 'usage_record_summary');
  assert.equal((await summaries(stripe, item(maxPrice))).data[0].total_usage, 9);
  assert.equal((await summaries(stripe, item(everPrice))).data[0].total_usage, 5);

  // the upcoming invoice shows the usage so far (last_ever 5: 2 × 10 + 3 × 1)
  const preview = await stripe.invoices.createPreview({ customer: customer.id, subscription: sub.id });
  assert.equal(preview.total, 2000 + march * 5 + 9 * 100 + 23);

  // the renewal's draft hour: usage stamped in March is still taken, and billed by it
  await clockAdvance(stripe, clock, APR1 + 60);
  const draft = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.equal(draft.status, 'draft');
  await usageRecord(stripe, item(sumPrice), { quantity: 10, timestamp: APR1 - 100 });
  march += 10;
  await expectError(usageRecord(stripe, item(sumPrice), { quantity: 1, timestamp: T0 - 100 }), 400, 'timestamp');
  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  const inv = await stripe.invoices.retrieve(draft.id);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.total, 2000 + march * 5 + 900 + 23);
  assert.equal(inv.amount_paid, inv.total);
  shape(inv, 'invoice');
  const lines = (await stripe.invoices.listLineItems(inv.id, { limit: 10 })).data;
  const line = (price) => lines.find((l) => l.pricing.price_details.price === price.id);
  assert.deepEqual([line(sumPrice).quantity, line(sumPrice).amount, line(sumPrice).period],
    [march, march * 5, { start: T0, end: APR1 }]);
  assert.deepEqual([line(maxPrice).quantity, line(maxPrice).amount], [9, 900]);
  assert.deepEqual([line(everPrice).quantity, line(everPrice).amount], [5, 23]);
  assert.deepEqual([line(seat).amount, line(seat).period], [2000, { start: APR1, end: MAY1 }]);
  // March is billed and closed: its usage can no longer change
  await expectError(usageRecord(stripe, item(sumPrice), { quantity: 1, timestamp: APR1 - 100 }), 400, 'timestamp');

  // summaries, newest first, with the invoice that billed each ended period; cursors
  sums = await summaries(stripe, item(sumPrice));
  assert.deepEqual(sums.data.map((x) => [x.period.start, x.period.end, x.total_usage, x.invoice]),
    [[APR1, MAY1, 0, null], [T0, APR1, march, inv.id]]);
  for (const x of sums.data) shape(x, 'usage_record_summary');
  const page1 = await summaries(stripe, item(sumPrice), { limit: 1 });
  assert.deepEqual([page1.data.length, page1.has_more], [1, true]);
  const page2 = await summaries(stripe, item(sumPrice), { limit: 1, starting_after: page1.data[0].id });
  assert.deepEqual([page2.data[0].id, page2.has_more], [sums.data[1].id, false]);
  const back = await summaries(stripe, item(sumPrice), { ending_before: page2.data[0].id });
  assert.deepEqual(back.data.map((x) => x.id), [sums.data[0].id]);

  // April: only max is reported; last_ever carries March's last usage into May's invoice
  await clockAdvance(stripe, clock, APR1 + 2 * DAY);
  await usageRecord(stripe, item(maxPrice), { quantity: 3 });
  await clockAdvance(stripe, clock, MAY1 + HOUR + 60);
  const may = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.equal(may.status, 'paid');
  const mayLines = (await stripe.invoices.listLineItems(may.id, { limit: 10 })).data;
  const mayLine = (price) => mayLines.find((l) => l.pricing.price_details.price === price.id);
  assert.deepEqual([mayLine(sumPrice).quantity, mayLine(maxPrice).quantity, mayLine(everPrice).quantity],
    [0, 3, 5]);
  assert.equal(may.total, 2000 + 300 + 23);

  // canceling with invoice_now bills May's usage so far; a canceled subscription takes none
  await clockAdvance(stripe, clock, MAY1 + 3 * DAY);
  await usageRecord(stripe, item(sumPrice), { quantity: 6, timestamp: MAY1 + 3 * DAY - 60 });
  await usageRecord(stripe, item(sumPrice), { quantity: 2 }); // at the cancellation's second
  const del = await stripe.subscriptions.cancel(sub.id, { invoice_now: true, expand: ['latest_invoice'] });
  const fin = del.latest_invoice;
  assert.equal(fin.status, 'paid');
  const finLine = (price) => fin.lines.data.find((l) => l.pricing.price_details.price === price.id);
  assert.deepEqual([finLine(sumPrice).quantity, finLine(sumPrice).amount, finLine(sumPrice).period],
    [8, 40, { start: MAY1, end: MAY1 + 3 * DAY }]);
  assert.equal(fin.total, 40 + 23);
  await expectError(usageRecord(stripe, item(sumPrice), { quantity: 1 }), 400, undefined, /canceled/);
  sums = await summaries(stripe, item(sumPrice));
  assert.deepEqual(sums.data.map((x) => [x.period.start, x.total_usage, x.invoice]),
    [[MAY1, 8, fin.id], [APR1, 0, may.id], [T0, march, inv.id]]);
  const charges = (await stripe.charges.list({ customer: customer.id, limit: 10 })).data;
  assert.deepEqual(charges.map((c) => c.amount).sort((a, b) => a - b),
    [fin.total, 2000, may.total, inv.total].sort((a, b) => a - b));
});

test('billing thresholds: amount_gte invoices the usage so far (subscription_threshold), paid; the renewal bills the rest', async () => {
  const { clock, customer } = await customerOnClock();
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: callsPrice.id }, { price: seat.id }],
    billing_thresholds: { amount_gte: 1000 },
  });
  assert.deepEqual(sub.billing_thresholds, { amount_gte: 1000, reset_billing_cycle_anchor: false });
  const invoicesOf = async () => (await stripe.invoices.list({ subscription: sub.id, limit: 10 })).data;
  // below the threshold: nothing is invoiced
  await clockAdvance(stripe, clock, T0 + 2 * DAY);
  await meterEvent('api_calls', customer.id, 100); // 5.00
  await clockAdvance(stripe, clock, T0 + 2 * DAY + 60);
  assert.equal((await invoicesOf()).length, 1);
  // reached (12.50 >= 10.00): a threshold invoice of the usage so far, a draft for its hour
  const reached = T0 + 2 * DAY + 60;
  await meterEvent('api_calls', customer.id, 150);
  await clockAdvance(stripe, clock, reached + 60);
  let s1 = await stripe.subscriptions.retrieve(sub.id);
  const thr = await stripe.invoices.retrieve(s1.latest_invoice);
  assert.equal(thr.billing_reason, 'subscription_threshold');
  assert.equal(thr.status, 'draft');
  assert.equal(thr.subscription, sub.id);
  assert.equal(thr.total, 1250);
  shape(thr, 'invoice');
  const thrLines = (await stripe.invoices.listLineItems(thr.id, { limit: 10 })).data;
  assert.equal(thrLines.length, 1, 'the metered usage alone, not the seat billed in advance');
  assert.equal(thrLines[0].pricing.price_details.price, callsPrice.id);
  assert.deepEqual([thrLines[0].quantity, thrLines[0].amount, thrLines[0].period.start],
    [250, 1250, T0]);
  assert.equal(s1.items.data[0].current_period_start, T0, 'the period is not reset');
  // finalized and charged after its hour, as the subscription's invoices are
  await clockAdvance(stripe, clock, reached + HOUR + 120);
  const paid = await stripe.invoices.retrieve(thr.id);
  assert.equal(paid.status, 'paid');
  assert.equal(paid.amount_paid, 1250);
  shape(paid, 'invoice');
  // more usage, below the threshold again; the renewal bills only what came after it
  await meterEvent('api_calls', customer.id, 40);
  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  s1 = await stripe.subscriptions.retrieve(sub.id);
  const renewal = await stripe.invoices.retrieve(s1.latest_invoice);
  assert.equal(renewal.billing_reason, 'subscription_cycle');
  assert.equal(renewal.status, 'paid');
  assert.equal(renewal.total, 2000 + 40 * 5);
  const callsLine = (await stripe.invoices.listLineItems(renewal.id, { limit: 10 })).data
    .find((l) => l.pricing.price_details.price === callsPrice.id);
  assert.deepEqual([callsLine.quantity, callsLine.amount], [40, 200]);
  assert.ok(callsLine.period.start > reached && callsLine.period.start <= reached + 1);
  const all = await invoicesOf();
  assert.equal(all.length, 3);
  const charges = (await stripe.charges.list({ customer: customer.id, limit: 10 })).data;
  assert.deepEqual(charges.map((c) => c.amount).sort((a, b) => a - b), [1250, 2000, 2200]);
});

test('billing thresholds: reset_billing_cycle_anchor restarts the period; an item\'s usage_gte', async () => {
  const { clock, customer } = await customerOnClock();
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: callsPrice.id }],
    billing_thresholds: { amount_gte: 500, reset_billing_cycle_anchor: true },
  });
  const reached = T0 + 10 * DAY;
  await clockAdvance(stripe, clock, reached);
  await meterEvent('api_calls', customer.id, 120); // 6.00
  await clockAdvance(stripe, clock, reached + HOUR + 60);
  const s1 = await stripe.subscriptions.retrieve(sub.id);
  shape(s1, 'subscription');
  assert.equal(s1.billing_cycle_anchor, reached);
  assert.equal(s1.items.data[0].current_period_start, reached);
  assert.equal(s1.items.data[0].current_period_end, APR1 + 10 * DAY);
  const thr = await stripe.invoices.retrieve(s1.latest_invoice);
  assert.equal(thr.billing_reason, 'subscription_threshold');
  assert.equal(thr.status, 'paid');
  assert.equal(thr.amount_paid, 600);
  shape(thr, 'invoice');
  // the next renewal comes at the new anchor's month, with the usage after the threshold
  await meterEvent('api_calls', customer.id, 10);
  await clockAdvance(stripe, clock, APR1 + 10 * DAY + HOUR + 60);
  const s2 = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(s2.items.data[0].current_period_start, APR1 + 10 * DAY);
  const cycle = await stripe.invoices.retrieve(s2.latest_invoice);
  assert.equal(cycle.billing_reason, 'subscription_cycle');
  assert.equal(cycle.total, 50);
  assert.equal(cycle.status, 'paid');

  // an item's usage_gte: 3 logins invoice them at once, whatever the amount
  const other2 = await customerOnClock();
  const sub2 = await stripe.subscriptions.create({
    customer: other2.customer.id,
    items: [{ price: loginsPrice.id, billing_thresholds: { usage_gte: 3 } }, { price: callsPrice.id }],
  });
  assert.deepEqual(sub2.items.data[0].billing_thresholds, { usage_gte: 3 });
  await clockAdvance(stripe, other2.clock, T0 + DAY);
  for (let i = 0; i < 2; i++) await meterEvent('logins', other2.customer.id, null);
  await meterEvent('api_calls', other2.customer.id, 1000);
  await clockAdvance(stripe, other2.clock, T0 + DAY + 60);
  assert.equal((await stripe.invoices.list({ subscription: sub2.id })).data.length, 1,
    'the item\'s threshold counts its own usage only');
  await meterEvent('logins', other2.customer.id, null);
  await clockAdvance(stripe, other2.clock, T0 + DAY + HOUR + 120);
  const t2 = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub2.id)).latest_invoice);
  assert.equal(t2.billing_reason, 'subscription_threshold');
  assert.equal(t2.status, 'paid');
  assert.equal(t2.total, 3 * 100 + 1000 * 5, 'every metered item\'s usage so far is invoiced');
});

test('billing thresholds: reset_billing_cycle_anchor with a licensed item restarts the period as billing_cycle_anchor=now does: its unused time credited, its new period billed with the usage', async () => {
  const { clock, customer } = await customerOnClock();
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: callsPrice.id }, { price: seat.id, quantity: 2 }],
    billing_thresholds: { amount_gte: 500, reset_billing_cycle_anchor: true },
  });
  const seatItem = sub.items.data.find((it) => it.price.id === seat.id).id;
  const reached = T0 + 10 * DAY;
  const newEnd = APR1 + 10 * DAY; // Mar 11 + 1 month
  await clockAdvance(stripe, clock, reached);
  await meterEvent('api_calls', customer.id, 120); // 6.00
  await clockAdvance(stripe, clock, reached + HOUR + 60);
  const s1 = await stripe.subscriptions.retrieve(sub.id);
  shape(s1, 'subscription');
  assert.equal(s1.billing_cycle_anchor, reached);
  for (const it of s1.items.data) assert.deepEqual([it.current_period_start, it.current_period_end], [reached, newEnd]);
  const thr = await stripe.invoices.retrieve(s1.latest_invoice);
  assert.equal(thr.billing_reason, 'subscription_threshold');
  assert.deepEqual([thr.period_start, thr.period_end], [reached, newEnd]);
  // the seats' unused 21 of 31 days credited (-4000 × 21/31, rounded), their new period billed
  const credit = -Math.round(4000 * (APR1 - reached) / (APR1 - T0));
  assert.equal(credit, -2710);
  const lines = (await stripe.invoices.listLineItems(thr.id, { limit: 10 })).data;
  assert.equal(lines.length, 3);
  const usage = lines.find((l) => l.pricing.price_details.price === callsPrice.id);
  assert.deepEqual([usage.quantity, usage.amount, usage.period.start], [120, 600, T0]);
  const seats = lines.filter((l) => l.pricing.price_details.price === seat.id);
  const ahead = seats.find((l) => l.amount > 0);
  assert.deepEqual([ahead.quantity, ahead.amount, ahead.period], [2, 4000, { start: reached, end: newEnd }]);
  const back = seats.find((l) => l.amount < 0);
  assert.deepEqual([back.quantity, back.amount, back.period], [2, credit, { start: reached, end: APR1 }]);
  assert.match(back.description, /^Unused time on 2 × /);
  assert.equal(back.parent.type, 'invoice_item_details');
  assert.equal(back.parent.invoice_item_details.proration, true);
  assert.equal(back.parent.invoice_item_details.subscription, sub.id);
  assert.equal(thr.total, 600 + 4000 + credit);
  assert.deepEqual([thr.status, thr.amount_paid], ['paid', 600 + 4000 + credit]);
  shape(thr, 'invoice');
  // the credit is an invoice item of that invoice, not left pending for the next one
  const items = (await stripe.invoiceItems.list({ customer: customer.id, limit: 10 })).data;
  assert.deepEqual(items.map((ii) => [ii.amount, ii.invoice, ii.proration, ii.subscription_item ?? ii.parent?.subscription_details?.subscription_item]),
    [[credit, thr.id, true, seatItem]]);
  const ev = (await stripe.events.list({ type: 'customer.subscription.updated', limit: 100 }).autoPagingToArray({ limit: 10000 }))
    .filter((e) => e.data.object.id === sub.id && e.data.previous_attributes.billing_cycle_anchor !== undefined);
  assert.equal(ev.length, 1);
  assert.equal(ev[0].data.previous_attributes.billing_cycle_anchor, T0);
  // the next renewal at the new anchor: the seats in advance, the usage since the threshold
  await meterEvent('api_calls', customer.id, 10);
  await clockAdvance(stripe, clock, newEnd + HOUR + 60);
  const s2 = await stripe.subscriptions.retrieve(sub.id);
  const cycle = await stripe.invoices.retrieve(s2.latest_invoice);
  assert.equal(cycle.billing_reason, 'subscription_cycle');
  assert.deepEqual([cycle.status, cycle.total], ['paid', 4000 + 50]);
  const charges = (await stripe.charges.list({ customer: customer.id, limit: 10 })).data;
  assert.deepEqual(charges.map((c) => c.amount).sort((a, b) => a - b), [1890, 4000, 4050]);
});

// ---- billing credits ----
// The credit objects are newer than the validator's spec: their keys are checked against the
// stripe-node .d.ts that defines them (the top-level fields of `export interface Name`).
const fs = require('node:fs');
const path = require('node:path');
function dtsKeys(file, iface) {
  const src = fs.readFileSync(path.join(__dirname, '..', 'node_modules', 'stripe', 'cjs', 'resources', file), 'utf8');
  const start = src.indexOf(`export interface ${iface} {`);
  assert.ok(start >= 0, `${iface} in ${file}`);
  const body = src.slice(start, src.indexOf('\n}', start));
  return [...body.matchAll(/^ {4}(\w+)\??:/gm)].map((m) => m[1]).sort();
}
const GRANT_KEYS = dtsKeys('Billing/CreditGrants.d.ts', 'CreditGrant');
const TXN_KEYS = dtsKeys('Billing/CreditBalanceTransactions.d.ts', 'CreditBalanceTransaction');
const SUMMARY_KEYS = dtsKeys('Billing/CreditBalanceSummary.d.ts', 'CreditBalanceSummary');
const keysOf = (o) => Object.keys(o).sort();
const usd = (value) => ({ type: 'monetary', monetary: { currency: 'usd', value } });
const available = async (customer, filter) => {
  const s = await stripe.billing.creditBalanceSummaries.retrieve({ customer, filter });
  assert.deepEqual(keysOf(s), SUMMARY_KEYS);
  return s.balances.map((b) => [b.available_balance.monetary.currency, b.available_balance.monetary.value, b.ledger_balance.monetary.value]);
};
const METERED = { type: 'applicability_scope', applicability_scope: { price_type: 'metered' } };

test('credit grants: create, retrieve, update, list, expire, void, the balance summary, and Stripe\'s refusals', async () => {
  const customer = (await stripe.customers.create({ name: 'Credits' })).id;
  const g = await stripe.billing.creditGrants.create({
    customer, amount: usd(5000), applicability_config: { scope: { price_type: 'metered' } },
    category: 'promotional', name: 'Launch credits', priority: 20, metadata: { k: 'v' },
  });
  assert.deepEqual(keysOf(g), GRANT_KEYS);
  assert.match(g.id, /^credgr_/);
  assert.deepEqual([g.object, g.amount, g.applicability_config.scope, g.category, g.customer, g.name, g.priority, g.metadata, g.expires_at, g.voided_at, g.effective_at, g.test_clock],
    ['billing.credit_grant', usd(5000), { price_type: 'metered' }, 'promotional', customer, 'Launch credits', 20, { k: 'v' }, null, null, g.created, null]);
  assert.deepEqual(await stripe.billing.creditGrants.retrieve(g.id), g);
  const txns = (await stripe.billing.creditBalanceTransactions.list({ customer })).data;
  assert.equal(txns.length, 1);
  assert.deepEqual(keysOf(txns[0]), TXN_KEYS);
  assert.deepEqual([txns[0].type, txns[0].credit.type, txns[0].credit.amount, txns[0].debit, txns[0].credit_grant],
    ['credit', 'credits_granted', usd(5000), null, g.id]);
  assert.deepEqual(await stripe.billing.creditBalanceTransactions.retrieve(txns[0].id), txns[0]);
  assert.deepEqual(await available(customer, METERED), [['usd', 5000, 5000]]);
  assert.deepEqual(await available(customer, { type: 'credit_grant', credit_grant: g.id }), [['usd', 5000, 5000]]);
  // a grant of listed prices, in effect only later: shown, not available yet
  const later = Math.floor(Date.now() / 1000) + 30 * DAY;
  const p = await stripe.billing.creditGrants.create({
    customer, amount: usd(700), applicability_config: { scope: { prices: [{ id: seat.id }] } }, effective_at: later,
  });
  assert.deepEqual([p.applicability_config.scope, p.category, p.priority, p.effective_at], [{ prices: [{ id: seat.id }] }, 'paid', 50, later]);
  assert.deepEqual(await available(customer, { type: 'applicability_scope', applicability_scope: { prices: [{ id: seat.id }] } }), [['usd', 0, 0]]);
  // update: expires_at and metadata, with billing.credit_grant.updated
  const exp = Math.floor(Date.now() / 1000) + 10 * DAY;
  const u = await stripe.billing.creditGrants.update(g.id, { expires_at: exp, metadata: { k: '', n: '1' } });
  assert.deepEqual([u.expires_at, u.metadata], [exp, { n: '1' }]);
  const evs = (await stripe.events.list({ type: 'billing.credit_grant.updated', limit: 10 })).data.filter((e) => e.data.object.id === g.id);
  assert.equal(evs.length, 1);
  assert.equal(evs[0].data.previous_attributes.expires_at, null);
  assert.equal((await stripe.events.list({ type: 'billing.credit_grant.created', limit: 10 })).data.filter((e) => e.data.object.customer === customer).length, 2);
  const list = await stripe.billing.creditGrants.list({ customer });
  assert.deepEqual(list.data.map((x) => x.id), [p.id, g.id]);
  // refusals change nothing
  const n = (await stripe.billing.creditGrants.list({ limit: 100 })).data.length;
  await expectError(stripe.billing.creditGrants.create({ amount: usd(1), applicability_config: { scope: { price_type: 'metered' } } }), 400, 'customer');
  await expectError(stripe.billing.creditGrants.create({ customer, amount: usd(0), applicability_config: { scope: { price_type: 'metered' } } }), 400, 'amount[monetary][value]');
  await expectError(stripe.billing.creditGrants.create({ customer, amount: usd(1), applicability_config: { scope: { price_type: 'metered', prices: [{ id: seat.id }] } } }), 400, 'applicability_config[scope]');
  await expectError(stripe.billing.creditGrants.create({ customer, amount: usd(1), applicability_config: { scope: { price_type: 'licensed' } } }), 400, 'applicability_config[scope][price_type]');
  await expectError(stripe.billing.creditGrants.create({ customer, amount: usd(1), applicability_config: { scope: { prices: [{ id: 'price_nope' }] } } }), 404, 'applicability_config[scope][prices][0][id]');
  await expectError(stripe.billing.creditGrants.create({ customer, amount: usd(1), applicability_config: { scope: { price_type: 'metered' } }, priority: 101 }), 400, 'priority');
  await expectError(stripe.billing.creditGrants.create({ customer: 'cus_nope', amount: usd(1), applicability_config: { scope: { price_type: 'metered' } } }), 404, 'customer');
  await expectError(stripe.billing.creditGrants.create({ customer, amount: usd(1), applicability_config: { scope: { price_type: 'metered' } }, expires_at: 1000 }), 400, 'expires_at');
  await expectError(stripe.billing.creditGrants.update(g.id, { amount: usd(3) }), 400, 'amount');
  await expectError(other.billing.creditGrants.retrieve(g.id), 404, 'id');
  await expectError(stripe.billing.creditBalanceTransactions.list({}), 400, 'customer');
  await expectError(other.billing.creditBalanceTransactions.list({ customer }), 404, 'customer');
  await expectError(stripe.billing.creditBalanceSummaries.retrieve({ customer, filter: { type: 'credit_grant' } }), 400, 'filter[credit_grant]');
  assert.equal((await stripe.billing.creditGrants.list({ limit: 100 })).data.length, n);
  // expire: what is left goes (a credits_expired debit); then neither expire nor void again
  const e = await stripe.billing.creditGrants.expire(g.id);
  assert.ok(e.expires_at <= Math.floor(Date.now() / 1000) && e.expires_at >= g.created);
  assert.deepEqual(await available(customer, METERED), [['usd', 0, 0]]);
  const gt = (await stripe.billing.creditBalanceTransactions.list({ customer, credit_grant: g.id })).data;
  assert.deepEqual(gt.map((t) => [t.type, (t.debit ?? t.credit).type, (t.debit ?? t.credit).amount.monetary.value]),
    [['debit', 'credits_expired', 5000], ['credit', 'credits_granted', 5000]]);
  await expectError(stripe.billing.creditGrants.expire(g.id), 400, undefined, /expired/);
  await expectError(stripe.billing.creditGrants.voidGrant(g.id), 400, undefined, /expired/);
  await expectError(stripe.billing.creditGrants.update(g.id, { expires_at: exp }), 400, 'expires_at');
  const v = await stripe.billing.creditGrants.voidGrant(p.id);
  assert.ok(v.voided_at >= p.created);
  await expectError(stripe.billing.creditGrants.voidGrant(p.id), 400, undefined, /voided/);
  const pt = (await stripe.billing.creditBalanceTransactions.list({ customer, credit_grant: p.id })).data;
  assert.deepEqual(pt.map((t) => (t.debit ?? t.credit).type), ['credits_voided', 'credits_granted']);
});

test('billing credits pay part of a metered renewal: applied to the metered line before it is charged', async () => {
  const { clock, customer } = await customerOnClock();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: callsPrice.id }, { price: seat.id }] });
  const grant = await stripe.billing.creditGrants.create({
    customer: customer.id, amount: usd(1000), applicability_config: { scope: { price_type: 'metered' } }, category: 'paid',
  });
  assert.equal(grant.test_clock, clock.id);
  assert.equal(grant.created, T0, 'made in the clock\'s time');
  assert.deepEqual(await available(customer.id, METERED), [['usd', 1000, 1000]]);
  // the first invoice has no metered amount: the credits stay
  const first = await stripe.invoices.retrieve(sub.latest_invoice);
  assert.deepEqual([first.total, first.amount_paid, first.total_pretax_credit_amounts], [2000, 2000, []]);
  await clockAdvance(stripe, clock, T0 + 2 * DAY);
  await meterEvent('api_calls', customer.id, 300, T0 + DAY); // 15.00 of usage
  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  const inv = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.equal(inv.billing_reason, 'subscription_cycle');
  assert.deepEqual([inv.status, inv.subtotal, inv.total, inv.amount_due, inv.amount_paid], ['paid', 3500, 2500, 2500, 2500]);
  shape(inv, 'invoice');
  const debits = (await stripe.billing.creditBalanceTransactions.list({ customer: customer.id, credit_grant: grant.id })).data
    .filter((t) => t.type === 'debit');
  assert.equal(debits.length, 1);
  const lines = (await stripe.invoices.listLineItems(inv.id, { limit: 10 })).data;
  const metered = lines.find((l) => l.pricing.price_details.price === callsPrice.id);
  assert.deepEqual([debits[0].debit.type, debits[0].debit.amount, debits[0].debit.credits_applied, debits[0].effective_at],
    ['credits_applied', usd(1000), { invoice: inv.id, invoice_line_item: metered.id }, inv.status_transitions.finalized_at]);
  assert.deepEqual(keysOf(debits[0]), TXN_KEYS);
  assert.deepEqual(inv.total_pretax_credit_amounts, [{ amount: 1000, credit_balance_transaction: debits[0].id, type: 'credit_balance_transaction' }]);
  assert.deepEqual(metered.pretax_credit_amounts, inv.total_pretax_credit_amounts);
  assert.deepEqual(lines.find((l) => l !== metered).pretax_credit_amounts, []);
  const charges = (await stripe.charges.list({ customer: customer.id, limit: 10 })).data;
  assert.deepEqual(charges.map((c) => c.amount).sort((a, b) => a - b), [2000, 2500]);
  assert.deepEqual(await available(customer.id, METERED), [['usd', 0, 0]]);
});

test('billing credits on a finalized invoice: Stripe\'s order (priority, expiring soonest), never more than the line, and given back when it is voided', async () => {
  const customer = (await stripe.customers.create({ name: 'Order' })).id;
  const once = await stripe.prices.create({ product, currency: 'usd', unit_amount: 1000 });
  const scope = { scope: { prices: [{ id: once.id }] } };
  const now = Math.floor(Date.now() / 1000);
  const late = await stripe.billing.creditGrants.create({ customer, amount: usd(1000), applicability_config: scope, expires_at: now + 90 * DAY });
  const soon = await stripe.billing.creditGrants.create({ customer, amount: usd(500), applicability_config: scope, expires_at: now + 10 * DAY });
  const first = await stripe.billing.creditGrants.create({ customer, amount: usd(300), applicability_config: scope, priority: 10, category: 'promotional' });
  const eur = await stripe.billing.creditGrants.create({ customer, amount: { type: 'monetary', monetary: { currency: 'eur', value: 900 } }, applicability_config: scope });
  const metered = await stripe.billing.creditGrants.create({ customer, amount: usd(900), applicability_config: { scope: { price_type: 'metered' } } });
  await stripe.invoiceItems.create({ customer, price: once.id, quantity: 1 });
  await stripe.invoiceItems.create({ customer, amount: 400, currency: 'usd', description: 'not in any scope' });
  const draft = await stripe.invoices.create({ customer, pending_invoice_items_behavior: 'include', auto_advance: false, collection_method: 'send_invoice', days_until_due: 30 });
  assert.equal(draft.total, 1400);
  const inv = await stripe.invoices.finalizeInvoice(draft.id);
  assert.deepEqual([inv.status, inv.total, inv.amount_due], ['open', 400, 400]);
  shape(inv, 'invoice');
  const taken = async (g) => (await stripe.billing.creditBalanceTransactions.list({ customer, credit_grant: g.id })).data
    .filter((t) => t.type === 'debit').map((t) => t.debit.amount.monetary.value);
  assert.deepEqual(await taken(first), [300]);
  assert.deepEqual(await taken(soon), [500]);
  assert.deepEqual(await taken(late), [200]);
  assert.deepEqual(await taken(eur), []);
  assert.deepEqual(await taken(metered), []);
  // applied in that order, each its own debit on the one line in scope
  assert.deepEqual(inv.total_pretax_credit_amounts.map((c) => c.amount), [300, 500, 200]);
  const byPrice = { type: 'applicability_scope', applicability_scope: { prices: [{ id: once.id }] } };
  assert.deepEqual(await available(customer, byPrice), [['usd', 800, 800], ['eur', 900, 900]]);
  // voided: every credit back to its grant
  const voided = await stripe.invoices.voidInvoice(inv.id);
  assert.equal(voided.status, 'void');
  assert.deepEqual(await available(customer, byPrice), [['usd', 1800, 1800], ['eur', 900, 900]]);
  const back = (await stripe.billing.creditBalanceTransactions.list({ customer, credit_grant: soon.id })).data[0];
  assert.deepEqual([back.type, back.credit.type, back.credit.amount, back.credit.credits_application_invoice_voided.invoice],
    ['credit', 'credits_application_invoice_voided', usd(500), inv.id]);
});

test('billing credits come off before tax (inclusive and exclusive rates), and the renewal\'s preview shows them to the cent', async () => {
  const { clock, customer } = await customerOnClock();
  const exc = await stripe.taxRates.create({ display_name: 'Sales tax', percentage: 10, inclusive: false });
  const inc = await stripe.taxRates.create({ display_name: 'VAT', percentage: 20, inclusive: true });
  const sub = await stripe.subscriptions.create({
    customer: customer.id, default_tax_rates: [exc.id],
    items: [{ price: callsPrice.id, tax_rates: [inc.id] }, { price: seat.id }],
  });
  await stripe.billing.creditGrants.create({
    customer: customer.id, amount: usd(1000), applicability_config: { scope: { price_type: 'metered' } },
  });
  await clockAdvance(stripe, clock, T0 + 2 * DAY);
  await meterEvent('api_calls', customer.id, 300, T0 + DAY); // 15.00 of usage
  // the calls: 1500 less 1000 of credits = 500, its 20 % included: 83 (taxable 417); the
  // seat: 2000 and 10 % on top: 200. Taxed before the credits it would be 250 and 200.
  const want = [3500, 2700, 2700, 283, 2417];
  const figures = (i) => [i.subtotal, i.total, i.amount_due, i.tax, i.total_excluding_tax];
  const taxesOf = (ls, price) => ls.find((l) => l.pricing.price_details.price === price.id).taxes
    .map((t) => [t.amount, t.taxable_amount, t.tax_behavior]);
  const preview = await stripe.invoices.createPreview({ customer: customer.id, subscription: sub.id });
  assert.deepEqual(figures(preview), want);
  assert.deepEqual(preview.total_pretax_credit_amounts, [{ amount: 1000, credit_balance_transaction: null, type: 'credit_balance_transaction' }]);
  const pMetered = preview.lines.data.find((l) => l.pricing.price_details.price === callsPrice.id);
  assert.deepEqual(pMetered.pretax_credit_amounts, preview.total_pretax_credit_amounts);
  assert.deepEqual(taxesOf(preview.lines.data, callsPrice), [[83, 417, 'inclusive']]);
  assert.deepEqual(taxesOf(preview.lines.data, seat), [[200, 2000, 'exclusive']]);
  // a preview writes nothing
  assert.deepEqual(await available(customer.id, METERED), [['usd', 1000, 1000]]);

  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  const inv = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.equal(inv.status, 'paid');
  assert.deepEqual(figures(inv), want);
  assert.equal(inv.amount_paid, 2700);
  shape(inv, 'invoice');
  assert.deepEqual(inv.total_taxes.map((t) => [t.amount, t.taxable_amount, t.tax_behavior]),
    [[83, 417, 'inclusive'], [200, 2000, 'exclusive']]);
  assert.deepEqual(inv.total_pretax_credit_amounts.map((c) => c.amount), [1000]);
  const lines = (await stripe.invoices.listLineItems(inv.id, { limit: 10 })).data;
  assert.deepEqual(taxesOf(lines, callsPrice), [[83, 417, 'inclusive']]);
  assert.deepEqual(taxesOf(lines, seat), [[200, 2000, 'exclusive']]);
  const charges = (await stripe.charges.list({ customer: customer.id, limit: 10 })).data;
  assert.deepEqual(charges.map((c) => c.amount).sort((a, b) => a - b), [2200, 2700]);
  assert.deepEqual(await available(customer.id, METERED), [['usd', 0, 0]]);
});

test('billing credits on the invoice a cancel with invoice_now finalizes at once: charged the usage less the credits', async () => {
  const { clock, customer } = await customerOnClock();
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: seat.id }, { price: callsPrice.id }],
  });
  const grant = await stripe.billing.creditGrants.create({
    customer: customer.id, amount: usd(150), applicability_config: { scope: { price_type: 'metered' } },
  });
  await clockAdvance(stripe, clock, T0 + 10 * DAY);
  await meterEvent('api_calls', customer.id, 42, T0 + 2 * DAY); // 2.10 of usage
  const del = await stripe.subscriptions.cancel(sub.id, { invoice_now: true, expand: ['latest_invoice'] });
  const inv = del.latest_invoice;
  assert.deepEqual([inv.status, inv.subtotal, inv.total, inv.amount_due, inv.amount_paid], ['paid', 210, 60, 60, 60]);
  shape(inv, 'invoice');
  const debits = (await stripe.billing.creditBalanceTransactions.list({ customer: customer.id, credit_grant: grant.id })).data
    .filter((t) => t.type === 'debit');
  assert.deepEqual(debits.map((t) => [t.debit.type, t.debit.amount.monetary.value, t.debit.credits_applied.invoice]),
    [['credits_applied', 150, inv.id]]);
  assert.deepEqual(inv.total_pretax_credit_amounts, [{ amount: 150, credit_balance_transaction: debits[0].id, type: 'credit_balance_transaction' }]);
  const charges = (await stripe.charges.list({ customer: customer.id, limit: 10 })).data;
  assert.deepEqual(charges.map((c) => c.amount).sort((a, b) => a - b), [60, 2000]);
  assert.deepEqual(await available(customer.id, METERED), [['usd', 0, 0]]);
});

test('a credit grant that expires by itself: a credits_expired debit of what was left, written once, and an event for every credit balance transaction', async () => {
  const { clock, customer } = await customerOnClock();
  const price = await stripe.prices.create({ product, currency: 'usd', unit_amount: 250 });
  const g = await stripe.billing.creditGrants.create({
    customer: customer.id, amount: usd(700), applicability_config: { scope: { prices: [{ id: price.id }] } },
    expires_at: T0 + 5 * DAY,
  });
  await stripe.invoiceItems.create({ customer: customer.id, price: price.id });
  const draft = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include', auto_advance: false });
  const inv = await stripe.invoices.finalizeInvoice(draft.id);
  assert.deepEqual([inv.status, inv.total, inv.amount_due], ['paid', 0, 0]);
  const txns = async () => (await stripe.billing.creditBalanceTransactions.list({ customer: customer.id, credit_grant: g.id })).data;
  assert.equal((await txns()).length, 2);
  // the clock passes expires_at: the scheduler writes the rest off at that time
  await clockAdvance(stripe, clock, T0 + 6 * DAY);
  const deadline = Date.now() + 30000;
  let expired;
  while (!(expired = (await txns()).filter((t) => t.debit?.type === 'credits_expired')).length && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.deepEqual(expired.map((t) => [t.type, t.debit.amount.monetary.value, t.created, t.effective_at, t.test_clock]),
    [['debit', 450, T0 + 5 * DAY, T0 + 5 * DAY, clock.id]]);
  assert.deepEqual(keysOf(expired[0]), TXN_KEYS);
  assert.deepEqual(await available(customer.id, { type: 'credit_grant', credit_grant: g.id }), [['usd', 0, 0]]);
  await expectError(stripe.billing.creditGrants.expire(g.id), 400, undefined, /expired/);
  // later ticks (the clock advanced again) write nothing more
  await clockAdvance(stripe, clock, T0 + 7 * DAY);
  const all = await txns();
  assert.deepEqual(all.map((t) => (t.debit ?? t.credit).type).sort(), ['credits_applied', 'credits_expired', 'credits_granted']);
  // one billing.credit_balance_transaction.created per transaction, with it as its object
  const events = [];
  for await (const e of stripe.events.list({ type: 'billing.credit_balance_transaction.created', limit: 100 })) {
    if (e.data.object.credit_grant === g.id) events.push(e);
  }
  assert.deepEqual(events.map((e) => e.data.object.id).sort(), all.map((t) => t.id).sort());
  assert.deepEqual(events.find((e) => e.data.object.id === expired[0].id).data.object, expired[0]);
});

test('tender verify passes: the money in the ledger adds up', async () => {
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});
