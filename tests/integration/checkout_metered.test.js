'use strict';
// Metered prices (backed by a billing meter) in Checkout Sessions (mode=subscription) and quotes,
// through stripe-node and the hosted page in headless Chromium (Debian's chromium +
// playwright-core): a metered line takes no quantity, counts 0 in the session's amounts, shows
// as "Billed by usage" with its unit price (per N units with transform_quantity), renders with quantity null, and becomes a metered
// item of the subscription the session makes; a session of only metered prices still takes the
// card and its first invoice is 0; the usage is billed at the test clock's renewal. A quote's
// metered line counts 0 in computed.recurring / upfront and the accepted quote's subscription
// has the metered item. `tender verify` passes at the end.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, tender, launchChromium, startShop } = require('./helpers');
const { billingShape, clockAdvance } = require('./billing_helpers');

const DAY = 86400;
const HOUR = 3600;
let env;
let stripe;
let browser;
let shop;
let shopPort;
let meter; // sum of api calls
let calls; // 0.05 usd a call, metered
let seat; // 20.00 usd a month, licensed
let legacy; // metered without a meter

before(async () => {
  env = await startTender({ merchants: 1, args: ['--rate-limit', '0'] });
  stripe = env.stripe();
  shop = await startShop();
  shopPort = shop.address().port;
  browser = await launchChromium();
  const product = (await stripe.products.create({ name: 'API' })).id;
  meter = await stripe.billing.meters.create({
    display_name: 'API calls', event_name: 'api_calls', default_aggregation: { formula: 'sum' },
  });
  calls = await stripe.prices.create({
    product, currency: 'usd', unit_amount: 5,
    recurring: { interval: 'month', usage_type: 'metered', meter: meter.id },
  });
  seat = await stripe.prices.create({
    currency: 'usd', unit_amount: 2000, recurring: { interval: 'month' }, product_data: { name: 'Seat' },
  });
  legacy = await stripe.prices.create({
    product, currency: 'usd', unit_amount: 5, recurring: { interval: 'month', usage_type: 'metered' },
  });
});
after(async () => {
  if (browser) await browser.close();
  if (shop) shop.close();
  await stopAll();
});

async function expectError(p, status, param, re) {
  await assert.rejects(p, (e) => {
    assert.equal(e.statusCode, status, e.message);
    if (param !== undefined) assert.equal(e.raw.param, param, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

function subParams(extra = {}) {
  return {
    mode: 'subscription',
    success_url: `http://127.0.0.1:${shopPort}/ok?session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: `http://127.0.0.1:${shopPort}/cancel`,
    ...extra,
  };
}

async function fillCard(page, number) {
  await page.getByLabel('Name on card').fill('Ada Lovelace');
  await page.getByLabel('Card number').fill(number);
  await page.getByLabel('Month (MM)').fill('10');
  await page.getByLabel('Year (YYYY)').fill('2035');
  await page.getByLabel('CVC').fill('321');
}

const meterEvent = (customer, value, timestamp) => stripe.billing.meterEvents.create({
  event_name: 'api_calls', payload: { stripe_customer_id: customer, value: String(value) }, timestamp,
});

test('checkout refuses a quantity on a metered line and a metered price without a meter', async () => {
  await expectError(stripe.checkout.sessions.create(subParams({
    line_items: [{ price: seat.id, quantity: 1 }, { price: calls.id, quantity: 2 }],
  })), 400, 'line_items[1][quantity]', /Quantity should not be specified where usage_type is `metered`/);
  await expectError(stripe.checkout.sessions.create(subParams({
    line_items: [{ price: legacy.id }],
  })), 400, 'line_items[0][price]', /usage records/);
  // a metered price is still a recurring one: payment mode refuses it
  await expectError(stripe.checkout.sessions.create({
    mode: 'payment', line_items: [{ price: calls.id }],
    success_url: `http://127.0.0.1:${shopPort}/ok`,
  }), 400, 'line_items[0][price]', /recurring price/);
});

test('a licensed and a metered price bought in the browser on a test clock; usage billed at the renewal', async () => {
  const T0 = Math.floor(Date.now() / 1000) - 2 * DAY;
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
  const cus = await stripe.customers.create({ email: 'ada@example.com', test_clock: clock.id });
  const s = await stripe.checkout.sessions.create(subParams({
    customer: cus.id, line_items: [{ price: seat.id, quantity: 1 }, { price: calls.id }],
  }));
  billingShape(s, 'checkout.session');
  assert.equal(s.amount_subtotal, 2000);
  assert.equal(s.amount_total, 2000);
  assert.equal(s.payment_status, 'unpaid');
  const items = await stripe.checkout.sessions.listLineItems(s.id);
  assert.equal(items.data.length, 2);
  const [lic, met] = items.data;
  assert.deepEqual([lic.quantity, lic.amount_subtotal, lic.amount_total], [1, 2000, 2000]);
  assert.equal(met.quantity, null, 'a metered line has no quantity');
  assert.deepEqual([met.amount_subtotal, met.amount_total, met.amount_tax], [0, 0, 0]);
  assert.equal(met.price.id, calls.id);
  assert.equal(met.price.recurring.usage_type, 'metered');
  assert.equal(met.price.recurring.meter, meter.id);
  for (const it of items.data) billingShape(it, 'item');

  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.textContent('#total'), '20.00 USD');
  assert.match(await page.textContent('td.metered'), /^Billed by usage, 0\.05 USD per unit \/ month$/);
  assert.match(await page.textContent('#recurring'), /Then 20\.00 USD \/ month plus usage/);
  await fillCard(page, '4242424242424242');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: 'Subscribe' }).click()]);
  await page.close();

  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'paid');
  billingShape(done, 'checkout.session');
  const sub = await stripe.subscriptions.retrieve(done.subscription);
  assert.equal(sub.status, 'active');
  assert.equal(sub.customer, cus.id);
  assert.equal(sub.items.data.length, 2);
  const item = (price) => sub.items.data.find((i) => i.price.id === price.id);
  assert.equal(item(seat).quantity, 1);
  assert.equal('quantity' in item(calls), false, 'a metered item has no quantity');
  assert.equal(item(calls).price.recurring.meter, meter.id);
  assert.equal(sub.current_period_start ?? item(seat).current_period_start, T0, 'the clock\'s time');
  const first = await stripe.invoices.retrieve(done.invoice);
  assert.equal(first.status, 'paid');
  assert.equal(first.total, 2000);
  assert.equal(first.amount_paid, 2000);
  const firstLines = (await stripe.invoices.listLineItems(first.id)).data;
  assert.deepEqual(firstLines.map((l) => l.amount).sort((a, b) => a - b), [0, 2000]);

  // usage in the clock's time, then the renewal bills it in arrears with the next seat period
  const end = item(seat).current_period_end;
  await clockAdvance(stripe, clock, T0 + DAY);
  await meterEvent(cus.id, 120, T0 + HOUR);
  await meterEvent(cus.id, 30, T0 + 2 * HOUR);
  await clockAdvance(stripe, clock, end + HOUR + 60);
  const renewed = await stripe.subscriptions.retrieve(sub.id);
  assert.notEqual(renewed.latest_invoice, first.id);
  const inv = await stripe.invoices.retrieve(renewed.latest_invoice);
  assert.equal(inv.billing_reason, 'subscription_cycle');
  assert.equal(inv.status, 'paid');
  assert.equal(inv.total, 2000 + 150 * 5);
  const lines = (await stripe.invoices.listLineItems(inv.id)).data;
  const usage = lines.find((l) => l.pricing.price_details.price === calls.id);
  assert.deepEqual([usage.quantity, usage.amount, usage.period], [150, 750, { start: T0, end }]);
});

test('a session of only metered prices: nothing due, the card still taken, a first invoice of 0', async () => {
  const s = await stripe.checkout.sessions.create(subParams({
    customer_email: 'meter@example.com', line_items: [{ price: calls.id }],
  }));
  assert.equal(s.amount_total, 0);
  assert.equal(s.amount_subtotal, 0);
  assert.equal(s.payment_status, 'no_payment_required');
  billingShape(s, 'checkout.session');
  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.textContent('#total'), '0.00 USD');
  assert.match(await page.textContent('td.metered'), /Billed by usage, 0\.05 USD per unit/);
  assert.match(await page.textContent('#recurring'), /^Then billed by usage \/ month, charged to this card/);
  await fillCard(page, '4242424242424242');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: 'Subscribe' }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'no_payment_required');
  const sub = await stripe.subscriptions.retrieve(done.subscription);
  assert.equal(sub.status, 'active');
  assert.equal(sub.items.data.length, 1);
  assert.equal('quantity' in sub.items.data[0], false);
  assert.match(sub.default_payment_method, /^pm_/, 'the card is collected for the usage');
  const cus = await stripe.customers.retrieve(done.customer);
  assert.equal(cus.email, 'meter@example.com');
  const pms = await stripe.customers.listPaymentMethods(done.customer);
  assert.equal(pms.data.length, 1);
  const first = await stripe.invoices.retrieve(sub.latest_invoice);
  assert.equal(first.total, 0);
  assert.equal(first.amount_due, 0);
  assert.equal((await stripe.paymentIntents.list({ customer: done.customer })).data.length, 0);
});

test('a coupon on a session of only metered prices takes nothing now; a tiered metered price shows as tiered', async () => {
  const coupon = await stripe.coupons.create({ amount_off: 500, currency: 'usd', duration: 'forever' });
  const s = await stripe.checkout.sessions.create(subParams({
    line_items: [{ price: calls.id }], discounts: [{ coupon: coupon.id }],
  }));
  assert.deepEqual([s.amount_subtotal, s.amount_total, s.total_details.amount_discount], [0, 0, 0]);
  assert.equal(s.payment_status, 'no_payment_required');
  const tiered = await stripe.prices.create({
    currency: 'usd', product_data: { name: 'Storage' }, billing_scheme: 'tiered', tiers_mode: 'graduated',
    tiers: [{ up_to: 10, unit_amount: 0 }, { up_to: 'inf', unit_amount: 3 }],
    recurring: { interval: 'month', usage_type: 'metered', meter: meter.id },
  });
  const t = await stripe.checkout.sessions.create(subParams({
    line_items: [{ price: seat.id }, { price: tiered.id }],
  }));
  assert.equal(t.amount_total, 2000);
  const items = (await stripe.checkout.sessions.listLineItems(t.id)).data;
  assert.deepEqual(items.map((i) => [i.quantity, i.amount_total]), [[1, 2000], [null, 0]]);
  const page = await browser.newPage();
  await page.goto(t.url);
  assert.equal(await page.textContent('td.metered'), 'Billed by usage (tiered) / month');
  await page.close();
  // transform_quantity: the unit amount is for each divide_by units of usage
  const packs = await stripe.prices.create({
    currency: 'usd', unit_amount: 40, product_data: { name: 'Calls in thousands' },
    transform_quantity: { divide_by: 1000, round: 'up' },
    recurring: { interval: 'month', usage_type: 'metered', meter: meter.id },
  });
  const u = await stripe.checkout.sessions.create(subParams({ line_items: [{ price: seat.id }, { price: packs.id }] }));
  const p2 = await browser.newPage();
  await p2.goto(u.url);
  assert.equal(await p2.textContent('td.metered'), 'Billed by usage, 0.40 USD per 1000 units / month');
  await p2.close();
});

test('a quote with a metered line: 0 in its totals, its subscription gets the metered item', async () => {
  const cus = await stripe.customers.create({
    payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' },
  });
  await expectError(stripe.quotes.create({
    customer: cus.id, line_items: [{ price: seat.id }, { price: calls.id, quantity: 3 }],
  }), 400, 'line_items[1][quantity]', /metered/);
  await expectError(stripe.quotes.create({
    customer: cus.id, line_items: [{ price: legacy.id }],
  }), 400, 'line_items[0][price]', /usage records/);
  const q = await stripe.quotes.create({
    customer: cus.id, line_items: [{ price: seat.id, quantity: 2 }, { price: calls.id }],
  });
  billingShape(q, 'quote');
  assert.equal(q.amount_subtotal, 4000);
  assert.equal(q.amount_total, 4000);
  assert.equal(q.computed.recurring.amount_total, 4000);
  assert.equal(q.computed.upfront.amount_total, 4000);
  const lines = (await stripe.quotes.listLineItems(q.id)).data;
  assert.deepEqual(lines.map((l) => [l.price.id, l.quantity, l.amount_total]),
    [[seat.id, 2, 4000], [calls.id, null, 0]]);
  for (const l of lines) billingShape(l, 'item');
  const up = (await stripe.quotes.listComputedUpfrontLineItems(q.id)).data;
  assert.deepEqual(up.map((l) => [l.quantity, l.amount_total]), [[2, 4000], [null, 0]]);
  await stripe.quotes.finalizeQuote(q.id);
  const acc = await stripe.quotes.accept(q.id);
  assert.equal(acc.status, 'accepted');
  billingShape(acc, 'quote');
  const sub = await stripe.subscriptions.retrieve(acc.subscription);
  assert.equal(sub.status, 'active');
  assert.equal(sub.items.data.length, 2);
  const met = sub.items.data.find((i) => i.price.id === calls.id);
  assert.equal('quantity' in met, false);
  assert.equal(sub.items.data.find((i) => i.price.id === seat.id).quantity, 2);
  const inv = await stripe.invoices.retrieve(acc.invoice);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.amount_paid, 4000);
});

test('tender verify passes', async () => {
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});
