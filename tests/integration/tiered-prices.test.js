'use strict';
// Tiered prices and plans (billing_scheme=tiered), through stripe-node: creating them (graduated
// and volume, integer and decimal amounts, flat amounts) and Stripe's refusals of bad tiers;
// `tiers` shown only when expand[] asks for it; a subscription on a graduated and on a volume
// price, its first invoice's amount checked exactly, a quantity change that crosses a tier with
// its proration (the tiered amount of each quantity prorated whole), the renewal through a test
// clock, the upcoming invoice's preview; a quote accepted and a Checkout Session paid into a
// subscription; the places that take no tiered price (invoice items, Checkout's payment mode: a
// tiered price is recurring) refusing it with a 400. Sub-cent per-unit prices
// (unit_amount_decimal): each line quantity × the decimal rounded once, halves up (checked against
// an independent BigInt computation), in subscriptions (licensed, prorated, metered from a billing
// meter, price_data), previews, renewals, schedules, quotes, payment links and Checkout Sessions
// (payment mode with price_data, paid by card; subscription mode). Prices' transform_quantity and
// plans' transform_usage ("packs of 10": the quantity or usage divided and rounded up or down
// before the unit amount multiplies it): created, refused where Stripe refuses them, and billed
// in subscriptions (licensed with a proration, preview and renewal; metered from usage records
// and from a meter), Checkout Sessions, payment links, invoice items and quotes.
// `tender verify` passes at the end.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, tender } = require('./helpers');
const { billingShape, clockAdvance } = require('./billing_helpers');

let env;
let stripe;
const DAY = 86400;
const HOUR = 3600;
const T0 = Date.UTC(2025, 2, 1, 0, 0, 0) / 1000; // Mar 1: a 31-day first period
const P = 31 * DAY;
const APR1 = T0 + P;

before(async () => {
  env = await startTender();
  stripe = env.stripe();
});
after(stopAll);

const shape = (obj, schema, extra) => billingShape(obj, schema, extra);

// stripe-node gives decimal strings as Decimal objects: their text, for comparing
const dec = (v) => (v == null ? v : String(v));
const plainTiers = (tiers) => tiers.map((t) => ({
  ...t, unit_amount_decimal: dec(t.unit_amount_decimal), flat_amount_decimal: dec(t.flat_amount_decimal),
}));

// Tiers computed here independently of Tender: graduated sums each tier's share (plus its
// flat amount), volume prices every unit at the tier the quantity falls in.
function tiered(mode, tiers, q) {
  if (mode === 'volume') {
    const t = tiers.find((x) => x.up_to === 'inf' || q <= x.up_to);
    return (t.unit_amount || 0) * q + (t.flat_amount || 0);
  }
  let sum = 0;
  let lower = 0;
  for (const t of tiers) {
    const top = t.up_to === 'inf' ? q : Math.min(q, t.up_to);
    sum += (t.unit_amount || 0) * Math.max(0, top - lower) + (t.flat_amount || 0);
    if (t.up_to === 'inf' || q <= t.up_to) break;
    lower = t.up_to;
  }
  return sum;
}

// Stripe's proration of one line: amount × remaining / period, halves away from zero.
function prorate(amount, remaining, period) {
  const mag = BigInt(Math.abs(amount)) * BigInt(remaining);
  const q = (2n * mag + BigInt(period)) / (2n * BigInt(period));
  return amount < 0 ? -Number(q) : Number(q);
}

// 1–5 seats at 10.00; 6–10 at 8.00 with a 5.00 flat fee; 11 and up at 6.00
const TIERS = [
  { up_to: 5, unit_amount: 1000 },
  { up_to: 10, unit_amount: 800, flat_amount: 500 },
  { up_to: 'inf', unit_amount: 600 },
];

let product;
let graduated;
let volume;

async function customerOnClock(frozen = T0) {
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: frozen });
  const customer = await stripe.customers.create({
    test_clock: clock.id, payment_method: 'pm_card_visa',
    invoice_settings: { default_payment_method: 'pm_card_visa' },
  });
  return { clock, customer };
}

async function expectError(p, status, param, re) {
  await assert.rejects(p, (e) => {
    assert.equal(e.statusCode, status, e.message);
    if (param !== undefined) assert.equal(e.raw.param, param, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

test('tiered prices: created, tiers only when expanded, retrieved, listed, updated', async () => {
  product = (await stripe.products.create({ name: 'Seats' })).id;
  graduated = await stripe.prices.create({
    product, currency: 'usd', recurring: { interval: 'month' },
    billing_scheme: 'tiered', tiers_mode: 'graduated', tiers: TIERS,
    expand: ['tiers'],
  });
  assert.equal(graduated.billing_scheme, 'tiered');
  assert.equal(graduated.tiers_mode, 'graduated');
  assert.equal(graduated.unit_amount, null);
  assert.equal(graduated.unit_amount_decimal, null);
  assert.deepEqual(plainTiers(graduated.tiers), [
    { flat_amount: null, flat_amount_decimal: null, unit_amount: 1000, unit_amount_decimal: '1000', up_to: 5 },
    { flat_amount: 500, flat_amount_decimal: '500', unit_amount: 800, unit_amount_decimal: '800', up_to: 10 },
    { flat_amount: null, flat_amount_decimal: null, unit_amount: 600, unit_amount_decimal: '600', up_to: null },
  ]);
  shape(graduated, 'price');
  volume = await stripe.prices.create({
    product, currency: 'usd', recurring: { interval: 'month' },
    billing_scheme: 'tiered', tiers_mode: 'volume', tiers: TIERS,
  });
  assert.equal(volume.tiers_mode, 'volume');
  assert.equal('tiers' in volume, false, 'tiers is includable: absent unless expanded');
  shape(volume, 'price');
  const got = await stripe.prices.retrieve(volume.id);
  assert.equal('tiers' in got, false);
  const exp = await stripe.prices.retrieve(volume.id, { expand: ['tiers'] });
  assert.equal(exp.tiers.length, 3);
  assert.equal(exp.tiers[2].up_to, null);
  const listed = await stripe.prices.list({ product, expand: ['data.tiers'] });
  assert.deepEqual(listed.data.map((p) => p.id).sort(), [graduated.id, volume.id].sort());
  for (const p of listed.data) {
    assert.equal(p.tiers.length, 3);
    shape(p, 'price');
  }
  const plain = await stripe.prices.list({ product });
  assert.ok(plain.data.every((p) => !('tiers' in p)));
  const upd = await stripe.prices.update(graduated.id, { nickname: 'seats', metadata: { k: 'v' } });
  assert.equal(upd.nickname, 'seats');
  assert.equal(upd.billing_scheme, 'tiered');
  assert.equal(upd.tiers_mode, 'graduated');
  // decimal amounts are kept as given; whole ones also give the integer
  const decimal = await stripe.prices.create({
    product, currency: 'usd', recurring: { interval: 'month' },
    billing_scheme: 'tiered', tiers_mode: 'graduated',
    tiers: [{ up_to: 100, unit_amount_decimal: '0.5', flat_amount_decimal: '250.00' },
      { up_to: 'inf', unit_amount_decimal: '00.2500' }],
    expand: ['tiers'],
  });
  assert.deepEqual(plainTiers(decimal.tiers)[0], {
    flat_amount: 250, flat_amount_decimal: '250', unit_amount: null, unit_amount_decimal: '0.5', up_to: 100,
  });
  assert.equal(String(decimal.tiers[1].unit_amount_decimal), '0.25');
  shape(decimal, 'price');
  // the event carries the price too
  const evs = await stripe.events.list({ type: 'price.created', limit: 10 });
  const ev = evs.data.find((e) => e.data.object.id === volume.id);
  assert.equal(ev.data.object.billing_scheme, 'tiered');
});

test('tiered prices: Stripe\'s refusals', async () => {
  const base = { product, currency: 'usd', recurring: { interval: 'month' }, billing_scheme: 'tiered' };
  await expectError(stripe.prices.create({ ...base, tiers: TIERS }), 400, 'tiers_mode');
  await expectError(stripe.prices.create({ ...base, tiers_mode: 'volume' }), 400, 'tiers');
  await expectError(stripe.prices.create({ ...base, tiers_mode: 'volume', tiers: TIERS, unit_amount: 100 }),
    400, 'unit_amount', /tiered/);
  await expectError(stripe.prices.create({
    ...base, tiers_mode: 'volume', tiers: [{ up_to: 10, unit_amount: 1 }, { up_to: 5, unit_amount: 1 }, { up_to: 'inf', unit_amount: 1 }],
  }), 400, 'tiers[1][up_to]', /increase/);
  await expectError(stripe.prices.create({
    ...base, tiers_mode: 'volume', tiers: [{ up_to: 10, unit_amount: 1 }, { up_to: 20, unit_amount: 1 }],
  }), 400, 'tiers[1][up_to]', /inf/);
  await expectError(stripe.prices.create({
    ...base, tiers_mode: 'volume', tiers: [{ up_to: 'inf', unit_amount: 1 }, { up_to: 'inf', unit_amount: 1 }],
  }), 400, 'tiers[0][up_to]', /last/);
  await expectError(stripe.prices.create({
    ...base, tiers_mode: 'volume', tiers: [{ unit_amount: 1 }],
  }), 400, 'tiers[0][up_to]');
  await expectError(stripe.prices.create({
    ...base, tiers_mode: 'volume', tiers: [{ up_to: 'inf' }],
  }), 400, 'tiers[0]');
  await expectError(stripe.prices.create({
    ...base, tiers_mode: 'volume', tiers: [{ up_to: 'inf', unit_amount: '' }],
  }), 400, 'tiers[0][unit_amount]');
  await expectError(stripe.prices.create({
    ...base, tiers_mode: 'volume', tiers: [{ up_to: 'inf', unit_amount: 1, unit_amount_decimal: '1' }],
  }), 400, 'tiers[0][unit_amount]');
  await expectError(stripe.prices.create({
    ...base, tiers_mode: 'volume', tiers: [{ up_to: 0, unit_amount: 1 }, { up_to: 'inf', unit_amount: 1 }],
  }), 400, 'tiers[0][up_to]');
  await expectError(stripe.prices.create({
    ...base, tiers_mode: 'volume', tiers: [{ up_to: 'inf', unit_amount_decimal: '1.2.3' }],
  }), 400, 'tiers[0][unit_amount_decimal]');
  // per_unit takes no tiers; tiered takes no one-time price
  await expectError(stripe.prices.create({ product, currency: 'usd', unit_amount: 100, tiers: TIERS }), 400, 'tiers');
  await expectError(stripe.prices.create({ product, currency: 'usd', unit_amount: 100, tiers_mode: 'volume' }), 400, 'tiers_mode');
  await expectError(stripe.prices.create({ product, currency: 'usd', billing_scheme: 'tiered', tiers_mode: 'volume', tiers: TIERS }),
    400, 'billing_scheme', /recurring/);
  await expectError(stripe.prices.create({ ...base, tiers_mode: 'stacked', tiers: TIERS }), 400, 'tiers_mode');
});

test('tiered plans: the legacy Plans API', async () => {
  const plan = await stripe.plans.create({
    product, currency: 'usd', interval: 'month', billing_scheme: 'tiered', tiers_mode: 'graduated',
    tiers: TIERS, expand: ['tiers'],
  });
  assert.equal(plan.object, 'plan');
  assert.equal(plan.billing_scheme, 'tiered');
  assert.equal(plan.tiers_mode, 'graduated');
  assert.equal(plan.amount, null);
  assert.equal(plan.amount_decimal, null);
  assert.equal(plan.tiers.length, 3);
  assert.equal(plan.tiers[1].flat_amount, 500);
  shape(plan, 'plan');
  const got = await stripe.plans.retrieve(plan.id);
  assert.equal('tiers' in got, false);
  assert.equal(got.tiers_mode, 'graduated');
  shape(got, 'plan');
  const listed = await stripe.plans.list({ product, expand: ['data.tiers'] });
  assert.ok(listed.data.find((p) => p.id === plan.id).tiers.length === 3);
  const upd = await stripe.plans.update(plan.id, { nickname: 'legacy seats' });
  assert.equal(upd.nickname, 'legacy seats');
  assert.equal(upd.billing_scheme, 'tiered');
  // the same row as a price
  const asPrice = await stripe.prices.retrieve(plan.id, { expand: ['tiers'] });
  assert.equal(asPrice.billing_scheme, 'tiered');
  assert.deepEqual(plainTiers(asPrice.tiers), plainTiers(plan.tiers));
  await expectError(stripe.plans.create({
    product, currency: 'usd', interval: 'month', billing_scheme: 'tiered', tiers_mode: 'volume', tiers: TIERS, amount: 100,
  }), 400, 'amount');
  await expectError(stripe.plans.create({
    product, currency: 'usd', interval: 'month', billing_scheme: 'tiered', tiers_mode: 'volume',
    tiers: [{ up_to: 3, unit_amount: 1 }],
  }), 400, 'tiers[0][up_to]');
  await expectError(stripe.plans.create({ product, currency: 'usd', interval: 'month', billing_scheme: 'tiered', tiers: TIERS }),
    400, 'tiers_mode');
  // a subscription on the plan
  const { customer } = await customerOnClock();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ plan: plan.id, quantity: 7 }] });
  assert.equal(sub.status, 'active');
  assert.equal(sub.items.data[0].plan.billing_scheme, 'tiered');
  assert.equal(sub.items.data[0].plan.amount, null);
  const inv = await stripe.invoices.retrieve(sub.latest_invoice);
  assert.equal(inv.total, tiered('graduated', TIERS, 7));
  assert.equal(inv.total, 5000 + 1600 + 500);
});

async function subscriptionOn(price, quantity) {
  const { clock, customer } = await customerOnClock();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id, quantity }] });
  return { clock, customer, sub };
}

for (const mode of ['graduated', 'volume']) {
  test(`a subscription on a ${mode} price: first invoice, a change across a tier with its proration, the renewal`, async () => {
    const price = mode === 'graduated' ? graduated : volume;
    const { clock, customer, sub } = await subscriptionOn(price, 4);
    assert.equal(sub.status, 'active');
    shape(sub, 'subscription');
    assert.equal(sub.items.data[0].price.billing_scheme, 'tiered');
    assert.equal(sub.items.data[0].plan.tiers_mode, mode);
    // four seats: all in the first tier
    const first = await stripe.invoices.retrieve(sub.latest_invoice);
    assert.equal(first.status, 'paid');
    assert.equal(first.total, 4000);
    assert.equal(first.amount_paid, 4000);
    shape(first, 'invoice');
    const firstLines = await stripe.invoices.listLineItems(first.id);
    assert.equal(firstLines.data.length, 1);
    assert.equal(firstLines.data[0].amount, 4000);
    assert.equal(firstLines.data[0].quantity, 4);
    assert.equal(firstLines.data[0].pricing.price_details.price, price.id);
    assert.equal(dec(firstLines.data[0].pricing.unit_amount_decimal), '1000');
    // ten days in: 12 seats crosses two tiers
    await clockAdvance(stripe, clock, T0 + 10 * DAY);
    const si = sub.items.data[0].id;
    const upd = await stripe.subscriptions.update(sub.id, { items: [{ id: si, quantity: 12 }] });
    assert.equal(upd.items.data[0].quantity, 12);
    const at12 = tiered(mode, TIERS, 12);
    assert.equal(at12, mode === 'graduated' ? 5000 + 4000 + 500 + 1200 : 12 * 600);
    const pending = (await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data;
    assert.equal(pending.length, 2);
    const credit = pending.find((x) => x.amount < 0);
    const charge = pending.find((x) => x.amount > 0);
    assert.equal(credit.amount, prorate(-4000, 21 * DAY, P));
    assert.equal(charge.amount, prorate(at12, 21 * DAY, P));
    assert.equal(credit.quantity, 4);
    assert.equal(charge.quantity, 12);
    for (const x of [credit, charge]) {
      assert.equal(x.proration, true);
      assert.equal(x.pricing.price_details.price, price.id);
      shape(x, 'invoiceitem');
    }
    // the preview of the renewal: 12 seats for April, with the prorations
    const preview = await stripe.invoices.createPreview({ customer: customer.id, subscription: sub.id });
    const expected = at12 + credit.amount + charge.amount;
    assert.equal(preview.total, expected);
    // the renewal
    await clockAdvance(stripe, clock, APR1 + HOUR + 60);
    const renewed = await stripe.subscriptions.retrieve(sub.id);
    const inv = await stripe.invoices.retrieve(renewed.latest_invoice);
    assert.equal(inv.billing_reason, 'subscription_cycle');
    assert.equal(inv.status, 'paid');
    assert.equal(inv.total, expected);
    assert.equal(inv.amount_paid, expected);
    shape(inv, 'invoice');
    const lines = (await stripe.invoices.listLineItems(inv.id, { limit: 10 })).data;
    assert.equal(lines.reduce((a, l) => a + l.amount, 0), inv.total);
    const period = lines.find((l) => l.parent.type === 'subscription_item_details' && !l.parent.subscription_item_details.proration);
    assert.equal(period.amount, at12);
    assert.equal(period.quantity, 12);
    assert.equal(period.pricing.price_details.price, price.id);
    // amount / quantity, exactly, to 12 decimals
    const unit = mode === 'graduated' ? '891.666666666666' : '600';
    assert.equal(dec(period.pricing.unit_amount_decimal), unit);
    const pi = await stripe.invoices.retrieve(inv.id, { expand: ['payments'] });
    const intent = await stripe.paymentIntents.retrieve(pi.payments.data[0].payment.payment_intent);
    assert.equal(intent.amount, expected);
    assert.equal(intent.status, 'succeeded');
  });
}

test('a quantity change within one volume tier, and down across a tier', async () => {
  const { clock, customer, sub } = await subscriptionOn(volume, 6);
  const first = await stripe.invoices.retrieve(sub.latest_invoice);
  assert.equal(first.total, 6 * 800 + 500);
  await clockAdvance(stripe, clock, T0 + 20 * DAY);
  const si = sub.items.data[0].id;
  await stripe.subscriptions.update(sub.id, { items: [{ id: si, quantity: 3 }] });
  const pending = (await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data;
  const credit = pending.find((x) => x.amount < 0);
  const charge = pending.find((x) => x.amount > 0);
  assert.equal(credit.amount, prorate(-(6 * 800 + 500), 11 * DAY, P));
  assert.equal(charge.amount, prorate(3000, 11 * DAY, P));
});

test('where a tiered price is not taken: invoice items, Checkout in payment mode', async () => {
  const { customer } = await customerOnClock();
  await expectError(stripe.invoiceItems.create({ customer: customer.id, price: graduated.id }), 400, 'price', /one_time/);
  await expectError(stripe.checkout.sessions.create({
    mode: 'payment', success_url: 'https://example.com/ok',
    line_items: [{ price: volume.id, quantity: 2 }],
  }), 400, 'line_items[0][price]', /recurring/);
});

test('a quote of tiered prices: its lines priced by the tiers, accepted into a subscription', async () => {
  const { customer } = await customerOnClock();
  const q = await stripe.quotes.create({
    customer: customer.id,
    line_items: [{ price: graduated.id, quantity: 7 }, { price: volume.id, quantity: 11 }],
  });
  const g7 = tiered('graduated', TIERS, 7);
  const v11 = tiered('volume', TIERS, 11);
  assert.equal(g7, 5000 + 1600 + 500);
  assert.equal(v11, 6600);
  shape(q, 'quote');
  assert.equal(q.amount_subtotal, g7 + v11);
  assert.equal(q.amount_total, g7 + v11);
  assert.equal(q.computed.recurring.amount_subtotal, g7 + v11);
  const lines = await stripe.quotes.listLineItems(q.id);
  assert.deepEqual(lines.data.map((l) => l.amount_subtotal), [g7, v11]);
  assert.deepEqual(lines.data.map((l) => l.quantity), [7, 11]);
  for (const l of lines.data) shape(l, 'item');
  await stripe.quotes.finalizeQuote(q.id);
  const acc = await stripe.quotes.accept(q.id);
  assert.equal(acc.status, 'accepted');
  const sub = await stripe.subscriptions.retrieve(acc.subscription);
  assert.equal(sub.status, 'active');
  assert.deepEqual(sub.items.data.map((i) => i.quantity).sort((a, b) => a - b), [7, 11]);
  const inv = await stripe.invoices.retrieve(acc.invoice);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.total, g7 + v11);
  assert.equal(inv.amount_paid, g7 + v11);
  shape(inv, 'invoice');
});

const card = (number) => `payment_method_data[type]=card&payment_method_data[card][number]=${number}` +
  '&payment_method_data[card][exp_month]=12&payment_method_data[card][exp_year]=2034&payment_method_data[card][cvc]=123';

test('a Checkout Session in subscription mode: tiered lines priced by their tiers, paid into a subscription', async () => {
  const customer = await stripe.customers.create({ email: 'tiers@example.com' });
  const s = await stripe.checkout.sessions.create({
    mode: 'subscription', customer: customer.id, success_url: 'https://example.com/ok',
    line_items: [{ price: graduated.id, quantity: 12 }, { price: volume.id, quantity: 7 }],
  });
  const g12 = tiered('graduated', TIERS, 12);
  const v7 = tiered('volume', TIERS, 7);
  assert.equal(g12, 10700);
  assert.equal(v7, 7 * 800 + 500);
  assert.equal(s.amount_subtotal, g12 + v7);
  assert.equal(s.amount_total, g12 + v7);
  const items = await stripe.checkout.sessions.listLineItems(s.id);
  assert.deepEqual(items.data.map((i) => [i.quantity, i.amount_subtotal, i.amount_total]), [[12, g12, g12], [7, v7, v7]]);
  for (const i of items.data) {
    assert.equal(i.price.billing_scheme, 'tiered');
    shape(i, 'item');
  }
  const p = new URL(s.url).pathname;
  const page = await env.request({ method: 'GET', path: p });
  assert.equal(page.status, 200);
  // the page shows each line at its tiers' amount, and their sum due today
  assert.ok(page.body.includes('<td class="amt">107.00 USD / month</td>'));
  assert.ok(page.body.includes('<td class="amt">61.00 USD / month</td>'));
  assert.ok(page.body.includes('id="total">168.00 USD<'));
  const r = await env.request({ method: 'POST', path: p, body: card('4242424242424242') });
  assert.equal(r.status, 303);
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  const sub = await stripe.subscriptions.retrieve(done.subscription);
  assert.equal(sub.status, 'active');
  const inv = await stripe.invoices.retrieve(done.invoice);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.total, g12 + v7);
  assert.equal(inv.amount_paid, g12 + v7);
  shape(inv, 'invoice');
});

// ---- sub-cent per-unit prices (unit_amount_decimal) ----
// A line's amount is quantity × unit_amount_decimal computed exactly and rounded once to the
// nearest minor unit, halves up (Stripe: "0.05 * 30 = 1.5, which is then rounded up to 2").
// Computed here with BigInt, independently of Tender: the decimal is scaled to 10^-12.
function decimalLine(decimal, q) {
  const [w, f = ''] = decimal.split('.');
  const scaled = BigInt(w) * 10n ** 12n + BigInt((f + '0'.repeat(12)).slice(0, 12));
  const one = 10n ** 12n;
  const p = scaled * BigInt(q);
  return Number(p / one + (p % one >= one / 2n ? 1n : 0n));
}

test('sub-cent prices: the rule, checked independently (a .5 rounds up, not to even)', () => {
  assert.equal(decimalLine('105.5', 3), 317); // 316.5
  assert.equal(decimalLine('0.5', 5), 3); // 2.5: half-even would give 2
  assert.equal(decimalLine('0.25', 12345), 3086); // 3,086.25
  assert.equal(decimalLine('0.25', 3), 1); // 0.75
});

test('a subscription of sub-cent prices: licensed 0.25 × 3 and 105.5 × 3, a change with its proration, the preview, the renewal', async () => {
  const quarter = await stripe.prices.create({
    product, currency: 'usd', unit_amount_decimal: '0.25', recurring: { interval: 'month' },
  });
  const half = await stripe.prices.create({
    product, currency: 'usd', unit_amount_decimal: '105.5', recurring: { interval: 'month' },
  });
  assert.equal(quarter.unit_amount, null);
  assert.equal(dec(quarter.unit_amount_decimal), '0.25');
  assert.equal(quarter.billing_scheme, 'per_unit');
  const { clock, customer } = await customerOnClock();
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: quarter.id, quantity: 3 }, { price: half.id, quantity: 3 }],
  });
  assert.equal(sub.status, 'active');
  shape(sub, 'subscription');
  const item = (s, price) => s.items.data.find((i) => i.price.id === price.id);
  assert.equal(item(sub, half).plan.amount, null);
  assert.equal(dec(item(sub, half).plan.amount_decimal), '105.5');
  assert.equal(item(sub, half).price.unit_amount, null);
  const q3 = decimalLine('0.25', 3);
  const h3 = decimalLine('105.5', 3);
  assert.deepEqual([q3, h3], [1, 317]);
  const first = await stripe.invoices.retrieve(sub.latest_invoice);
  assert.equal(first.status, 'paid');
  assert.equal(first.total, q3 + h3);
  assert.equal(first.amount_paid, q3 + h3);
  shape(first, 'invoice');
  const firstLines = (await stripe.invoices.listLineItems(first.id)).data;
  const line = (ls, price) => ls.find((l) => l.pricing.price_details.price === price.id && l.parent.type === 'subscription_item_details' && !l.parent.subscription_item_details.proration);
  for (const [price, amount, d] of [[quarter, q3, '0.25'], [half, h3, '105.5']]) {
    const l = line(firstLines, price);
    assert.ok(Number.isInteger(l.amount));
    assert.equal(l.amount, amount);
    assert.equal(l.quantity, 3);
    assert.equal(dec(l.pricing.unit_amount_decimal), d);
  }
  // ten days in: 5 × 105.5 = 527.5 → 528, prorated over the 21 days left
  await clockAdvance(stripe, clock, T0 + 10 * DAY);
  await stripe.subscriptions.update(sub.id, { items: [{ id: item(sub, half).id, quantity: 5 }] });
  const h5 = decimalLine('105.5', 5);
  assert.equal(h5, 528);
  const pending = (await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data;
  assert.equal(pending.length, 2);
  const credit = pending.find((x) => x.amount < 0);
  const charge = pending.find((x) => x.amount > 0);
  assert.equal(credit.amount, prorate(-h3, 21 * DAY, P));
  assert.equal(charge.amount, prorate(h5, 21 * DAY, P));
  for (const x of [credit, charge]) shape(x, 'invoiceitem');
  const expected = q3 + h5 + credit.amount + charge.amount;
  const preview = await stripe.invoices.createPreview({ customer: customer.id, subscription: sub.id });
  assert.equal(preview.total, expected);
  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  const inv = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.equal(inv.billing_reason, 'subscription_cycle');
  assert.equal(inv.status, 'paid');
  assert.equal(inv.total, expected);
  assert.equal(inv.amount_paid, expected);
  shape(inv, 'invoice');
  const lines = (await stripe.invoices.listLineItems(inv.id, { limit: 10 })).data;
  assert.equal(lines.reduce((a, l) => a + l.amount, 0), inv.total);
  assert.equal(line(lines, half).amount, h5);
  assert.equal(dec(line(lines, half).pricing.unit_amount_decimal), '105.5');
  assert.equal(line(lines, quarter).amount, q3);
  // the unit price in major units, exactly as given
  assert.equal(line(lines, half).description, '5 × Seats (at 1.055 usd / month)');
  assert.equal(line(lines, quarter).description, '3 × Seats (at 0.0025 usd / month)');
});

test('a subscription with items[n][price_data][unit_amount_decimal]; both unit amounts refused', async () => {
  const { customer } = await customerOnClock();
  const sub = await stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price_data: { currency: 'usd', product, unit_amount_decimal: '33.5', recurring: { interval: 'month' } }, quantity: 3 }],
  });
  const amount = decimalLine('33.5', 3); // 100.5 → 101
  assert.equal(amount, 101);
  assert.equal(sub.items.data[0].price.unit_amount, null);
  assert.equal(dec(sub.items.data[0].price.unit_amount_decimal), '33.5');
  shape(sub, 'subscription');
  const inv = await stripe.invoices.retrieve(sub.latest_invoice);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.total, amount);
  await expectError(stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price_data: { currency: 'usd', product, unit_amount: 5, unit_amount_decimal: '0.5', recurring: { interval: 'month' } } }],
  }), 400, 'items[0][price_data][unit_amount]', /only specify one/);
});

test('a metered sub-cent price: 12,345 calls at 0.25 bill 3,086 (3,086.25 rounded once)', async () => {
  const meter = await stripe.billing.meters.create({
    display_name: 'Decimal calls', event_name: 'decimal_calls', default_aggregation: { formula: 'sum' },
  });
  const perCall = await stripe.prices.create({
    product, currency: 'usd', unit_amount_decimal: '0.25',
    recurring: { interval: 'month', usage_type: 'metered', meter: meter.id },
  });
  const seat = await stripe.prices.create({
    product, currency: 'usd', unit_amount: 2000, recurring: { interval: 'month' },
  });
  const { clock, customer } = await customerOnClock();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: seat.id }, { price: perCall.id }] });
  assert.equal((await stripe.invoices.retrieve(sub.latest_invoice)).total, 2000);
  await clockAdvance(stripe, clock, T0 + 5 * DAY);
  for (const [v, t] of [[12000, T0 + DAY], [345, T0 + 2 * DAY]]) {
    await stripe.billing.meterEvents.create({
      event_name: 'decimal_calls', payload: { stripe_customer_id: customer.id, value: String(v) }, timestamp: t,
    });
  }
  const usage = decimalLine('0.25', 12345);
  assert.equal(usage, 3086);
  const preview = await stripe.invoices.createPreview({ customer: customer.id, subscription: sub.id });
  assert.equal(preview.total, 2000 + usage);
  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  const inv = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.total, 2000 + usage);
  shape(inv, 'invoice');
  const l = (await stripe.invoices.listLineItems(inv.id, { limit: 10 })).data
    .find((x) => x.pricing.price_details.price === perCall.id);
  assert.deepEqual([l.amount, l.quantity, dec(l.pricing.unit_amount_decimal)], [usage, 12345, '0.25']);
  assert.equal(l.description, '12345 × Seats (at 0.0025 usd / month)');
  // a Checkout Session of it: nothing now for the metered line, its unit price on the page
  const cs = await stripe.checkout.sessions.create({
    mode: 'subscription', success_url: 'https://example.com/ok',
    line_items: [{ price: seat.id, quantity: 1 }, { price: perCall.id }],
  });
  assert.equal(cs.amount_total, 2000);
  const page = await env.request({ method: 'GET', path: new URL(cs.url).pathname });
  assert.equal(page.status, 200);
  assert.ok(page.body.includes('Billed by usage, 0.0025 usd per unit'), 'the sub-cent unit price, in dollars');
});

test('a Checkout Session in payment mode with price_data[unit_amount_decimal], paid by card', async () => {
  const s = await stripe.checkout.sessions.create({
    mode: 'payment', success_url: 'https://example.com/ok',
    line_items: [
      { price_data: { currency: 'usd', product_data: { name: 'Metered credits' }, unit_amount_decimal: '33.5' }, quantity: 3 },
      { price_data: { currency: 'usd', product_data: { name: 'Tiny' }, unit_amount_decimal: '0.25' }, quantity: 7 },
    ],
  });
  const a = decimalLine('33.5', 3);
  const b = decimalLine('0.25', 7);
  assert.deepEqual([a, b], [101, 2]); // 100.5 → 101, 1.75 → 2
  assert.equal(s.amount_subtotal, a + b);
  assert.equal(s.amount_total, a + b);
  shape(s, 'checkout.session');
  const items = await stripe.checkout.sessions.listLineItems(s.id);
  assert.deepEqual(items.data.map((i) => [i.quantity, i.amount_subtotal, i.amount_total]), [[3, a, a], [7, b, b]]);
  assert.deepEqual(items.data.map((i) => [i.price.unit_amount, dec(i.price.unit_amount_decimal)]), [[null, '33.5'], [null, '0.25']]);
  for (const i of items.data) shape(i, 'item');
  const p = new URL(s.url).pathname;
  const r = await env.request({ method: 'POST', path: p, body: card('4242424242424242') });
  assert.equal(r.status, 303);
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'paid');
  const pi = await stripe.paymentIntents.retrieve(done.payment_intent);
  assert.equal(pi.amount, a + b);
  assert.equal(pi.status, 'succeeded');
});

test('a Checkout Session in subscription mode and a quote with a sub-cent price', async () => {
  const monthly = await stripe.prices.create({
    product, currency: 'usd', unit_amount_decimal: '2.5', recurring: { interval: 'month' },
  });
  const customer = await stripe.customers.create({ email: 'decimal@example.com' });
  const s = await stripe.checkout.sessions.create({
    mode: 'subscription', customer: customer.id, success_url: 'https://example.com/ok',
    line_items: [{ price: monthly.id, quantity: 25 }],
  });
  const amt = decimalLine('2.5', 25); // 62.5 → 63
  assert.equal(amt, 63);
  assert.equal(s.amount_total, amt);
  const r = await env.request({ method: 'POST', path: new URL(s.url).pathname, body: card('4242424242424242') });
  assert.equal(r.status, 303);
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  const inv = await stripe.invoices.retrieve(done.invoice);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.total, amt);
  shape(inv, 'invoice');

  const once = await stripe.prices.create({ product, currency: 'usd', unit_amount_decimal: '0.5' });
  const { customer: qc } = await customerOnClock();
  const q = await stripe.quotes.create({ customer: qc.id, line_items: [{ price: once.id, quantity: 101 }] });
  const qa = decimalLine('0.5', 101); // 50.5 → 51
  assert.equal(qa, 51);
  assert.equal(q.amount_total, qa);
  shape(q, 'quote');
  await stripe.quotes.finalizeQuote(q.id);
  const acc = await stripe.quotes.accept(q.id);
  const qinv = await stripe.invoices.retrieve(acc.invoice);
  assert.equal(qinv.total, qa);
  const ql = (await stripe.invoices.listLineItems(qinv.id)).data;
  assert.deepEqual(ql.map((l) => [l.amount, l.quantity, dec(l.pricing.unit_amount_decimal)]), [[qa, 101, '0.5']]);
  shape(qinv, 'invoice');
});

test('a payment link and a subscription schedule with sub-cent prices', async () => {
  const once = await stripe.prices.create({ product, currency: 'usd', unit_amount_decimal: '33.5' });
  const link = await stripe.paymentLinks.create({ line_items: [{ price: once.id, quantity: 3 }] });
  const amount = decimalLine('33.5', 3); // 100.5 → 101
  const items = await stripe.paymentLinks.listLineItems(link.id);
  assert.deepEqual(items.data.map((i) => [i.quantity, i.amount_subtotal, i.amount_total]), [[3, amount, amount]]);
  const page = await env.request({ method: 'GET', path: new URL(link.url).pathname });
  assert.equal(page.status, 200);
  assert.ok(page.body.includes('id="total">1.01 USD<'), 'the page charges the rounded line');

  const monthly = await stripe.prices.create({
    product, currency: 'usd', unit_amount_decimal: '2.5', recurring: { interval: 'month' },
  });
  const { customer } = await customerOnClock();
  const sched = await stripe.subscriptionSchedules.create({
    customer: customer.id, start_date: 'now',
    phases: [{ items: [{ price: monthly.id, quantity: 41 }], iterations: 2 }],
  });
  shape(sched, 'subscription_schedule');
  const sub = await stripe.subscriptions.retrieve(sched.subscription);
  const inv = await stripe.invoices.retrieve(sub.latest_invoice);
  assert.equal(inv.total, decimalLine('2.5', 41)); // 102.5 → 103
  assert.equal(inv.total, 103);
  assert.equal(inv.status, 'paid');
});

// ---- transform_quantity (prices) and transform_usage (plans): "sold in packs of 10" ----
// The quantity (or a metered price's usage) is divided by divide_by and rounded up or down
// before it is multiplied by the unit amount; the lines keep showing the customer's quantity.
const packs = (q, by, round) => (round === 'up' ? Math.ceil(q / by) : Math.floor(q / by));
let packUp;
let packDown;

test('transform_quantity and transform_usage: created, shown, kept, Stripe\'s refusals changing nothing', async () => {
  packUp = await stripe.prices.create({
    product, currency: 'usd', unit_amount: 1000, recurring: { interval: 'month' },
    transform_quantity: { divide_by: 10, round: 'up' },
  });
  assert.deepEqual(packUp.transform_quantity, { divide_by: 10, round: 'up' });
  assert.equal(packUp.billing_scheme, 'per_unit');
  shape(packUp, 'price');
  packDown = await stripe.prices.create({
    product, currency: 'usd', unit_amount: 1000, recurring: { interval: 'month' },
    transform_quantity: { divide_by: 10, round: 'down' },
  });
  assert.deepEqual((await stripe.prices.retrieve(packDown.id)).transform_quantity, { divide_by: 10, round: 'down' });
  // an update takes no transform_quantity (immutable, as on Stripe) and keeps it
  await expectError(stripe.prices.update(packUp.id, { transform_quantity: { divide_by: 2, round: 'down' } }), 400,
    'transform_quantity');
  const upd = await stripe.prices.update(packUp.id, { nickname: 'packs of 10' });
  assert.deepEqual(upd.transform_quantity, { divide_by: 10, round: 'up' });
  const ev = (await stripe.events.list({ type: 'price.created', limit: 20 })).data
    .find((e) => e.data.object.id === packUp.id);
  assert.deepEqual(ev.data.object.transform_quantity, { divide_by: 10, round: 'up' });
  // a plan's transform_usage; the same row as a price shows it as transform_quantity
  const plan = await stripe.plans.create({
    product, currency: 'usd', interval: 'month', amount: 500, transform_usage: { divide_by: 5, round: 'down' },
  });
  assert.deepEqual(plan.transform_usage, { divide_by: 5, round: 'down' });
  shape(plan, 'plan');
  assert.deepEqual((await stripe.plans.retrieve(plan.id)).transform_usage, { divide_by: 5, round: 'down' });
  assert.deepEqual((await stripe.prices.retrieve(plan.id)).transform_quantity, { divide_by: 5, round: 'down' });
  assert.equal((await stripe.prices.retrieve(graduated.id)).transform_quantity, null);

  const before = (await stripe.prices.list({ product, limit: 100 })).data.length;
  const base = { product, currency: 'usd', recurring: { interval: 'month' } };
  await expectError(stripe.prices.create({
    ...base, billing_scheme: 'tiered', tiers_mode: 'volume', tiers: TIERS, transform_quantity: { divide_by: 10, round: 'up' },
  }), 400, 'tiers', /only specify one of these parameters: tiers, transform_quantity/);
  await expectError(stripe.plans.create({
    product, currency: 'usd', interval: 'month', billing_scheme: 'tiered', tiers_mode: 'volume', tiers: TIERS,
    transform_usage: { divide_by: 10, round: 'up' },
  }), 400, 'tiers', /tiers, transform_usage/);
  await expectError(stripe.prices.create({ ...base, unit_amount: 1000, transform_quantity: { divide_by: 0, round: 'up' } }),
    400, 'transform_quantity[divide_by]');
  await expectError(stripe.prices.create({ ...base, unit_amount: 1000, transform_quantity: { divide_by: -2, round: 'up' } }),
    400, 'transform_quantity[divide_by]');
  await expectError(stripe.prices.create({ ...base, unit_amount: 1000, transform_quantity: { divide_by: 10 } }),
    400, 'transform_quantity[round]');
  await expectError(stripe.prices.create({ ...base, unit_amount: 1000, transform_quantity: { round: 'up' } }),
    400, 'transform_quantity[divide_by]');
  await expectError(stripe.prices.create({ ...base, unit_amount: 1000, transform_quantity: { divide_by: 10, round: 'nearest' } }),
    400, 'transform_quantity[round]');
  await expectError(stripe.plans.create({ product, currency: 'usd', interval: 'month', amount: 5, transform_usage: { divide_by: 0, round: 'up' } }),
    400, 'transform_usage[divide_by]');
  await expectError(stripe.prices.create({
    product, currency: 'usd', custom_unit_amount: { enabled: true }, transform_quantity: { divide_by: 10, round: 'up' },
  }), 400, 'custom_unit_amount');
  // price_data does not take it (Stripe's spec)
  await expectError(stripe.checkout.sessions.create({
    mode: 'payment', success_url: 'https://example.com/ok',
    line_items: [{ price_data: { currency: 'usd', product, unit_amount: 100, transform_quantity: { divide_by: 2, round: 'up' } }, quantity: 3 }],
  }), 400, 'line_items[0][price_data][transform_quantity]');
  assert.equal((await stripe.prices.list({ product, limit: 100 })).data.length, before, 'nothing was made');
});

for (const round of ['up', 'down']) {
  test(`a subscription of 25 seats in packs of 10, rounded ${round}: its invoice, line, a change with its proration, the preview, the renewal`, async () => {
    const price = round === 'up' ? packUp : packDown;
    const { clock, customer, sub } = await subscriptionOn(price, 25);
    const n = packs(25, 10, round);
    assert.equal(n, round === 'up' ? 3 : 2);
    assert.equal(sub.items.data[0].quantity, 25);
    assert.deepEqual(sub.items.data[0].price.transform_quantity, { divide_by: 10, round });
    assert.deepEqual(sub.items.data[0].plan.transform_usage, { divide_by: 10, round });
    shape(sub, 'subscription');
    const first = await stripe.invoices.retrieve(sub.latest_invoice);
    assert.equal(first.status, 'paid');
    assert.equal(first.total, n * 1000);
    assert.equal(first.amount_paid, n * 1000);
    shape(first, 'invoice');
    const [line] = (await stripe.invoices.listLineItems(first.id)).data;
    assert.equal(line.amount, n * 1000);
    assert.equal(line.quantity, 25, 'the line shows the customer\'s quantity');
    assert.equal(line.description, '25 × Seats (at 10.00 usd per 10 / month)');
    assert.equal(line.pricing.price_details.price, price.id);
    // ten days in, 31 seats: 4 packs up, 3 down; each side prorated whole
    await clockAdvance(stripe, clock, T0 + 10 * DAY);
    await stripe.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0].id, quantity: 31 }] });
    const m = packs(31, 10, round);
    const pending = (await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data;
    const credit = pending.find((x) => x.amount < 0);
    const charge = pending.find((x) => x.amount > 0);
    assert.equal(credit.amount, prorate(-n * 1000, 21 * DAY, P));
    assert.equal(charge.amount, prorate(m * 1000, 21 * DAY, P));
    assert.deepEqual([credit.quantity, charge.quantity], [25, 31]);
    const expected = m * 1000 + credit.amount + charge.amount;
    const preview = await stripe.invoices.createPreview({ customer: customer.id, subscription: sub.id });
    assert.equal(preview.total, expected);
    await clockAdvance(stripe, clock, APR1 + HOUR + 60);
    const inv = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
    assert.equal(inv.billing_reason, 'subscription_cycle');
    assert.equal(inv.status, 'paid');
    assert.equal(inv.total, expected);
    const period = (await stripe.invoices.listLineItems(inv.id, { limit: 10 })).data
      .find((l) => l.parent.type === 'subscription_item_details' && !l.parent.subscription_item_details.proration);
    assert.deepEqual([period.amount, period.quantity], [m * 1000, 31]);
  });
}

test('metered usage transformed: a plan\'s transform_usage over usage records, a price\'s transform_quantity over a meter', async () => {
  const plan = await stripe.plans.create({
    product, currency: 'usd', interval: 'month', amount: 50, usage_type: 'metered',
    transform_usage: { divide_by: 1000, round: 'up' },
  });
  const meter = await stripe.billing.meters.create({
    display_name: 'Packed calls', event_name: 'packed_calls', default_aggregation: { formula: 'sum' },
  });
  const perHundred = await stripe.prices.create({
    product, currency: 'usd', unit_amount: 7,
    recurring: { interval: 'month', usage_type: 'metered', meter: meter.id },
    transform_quantity: { divide_by: 100, round: 'down' },
  });
  shape(perHundred, 'price');
  const { clock, customer } = await customerOnClock();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ plan: plan.id }, { price: perHundred.id }] });
  assert.equal((await stripe.invoices.retrieve(sub.latest_invoice)).total, 0);
  const item = sub.items.data.find((i) => i.price.id === plan.id);
  assert.deepEqual(item.plan.transform_usage, { divide_by: 1000, round: 'up' });
  await clockAdvance(stripe, clock, T0 + 5 * DAY);
  await stripe.rawRequest('POST', `/v1/subscription_items/${item.id}/usage_records`, { quantity: 2000, timestamp: T0 + DAY });
  await stripe.rawRequest('POST', `/v1/subscription_items/${item.id}/usage_records`, { quantity: 500, timestamp: T0 + 2 * DAY });
  await stripe.billing.meterEvents.create({
    event_name: 'packed_calls', payload: { stripe_customer_id: customer.id, value: '12345' }, timestamp: T0 + DAY,
  });
  const usage = packs(2500, 1000, 'up') * 50 + packs(12345, 100, 'down') * 7;
  assert.equal(usage, 3 * 50 + 123 * 7);
  const preview = await stripe.invoices.createPreview({ customer: customer.id, subscription: sub.id });
  assert.equal(preview.total, usage);
  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  const inv = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.total, usage);
  shape(inv, 'invoice');
  const lines = (await stripe.invoices.listLineItems(inv.id, { limit: 10 })).data;
  const byPrice = (id) => lines.find((l) => l.pricing.price_details.price === id);
  assert.deepEqual([byPrice(plan.id).amount, byPrice(plan.id).quantity], [150, 2500]);
  assert.deepEqual([byPrice(perHundred.id).amount, byPrice(perHundred.id).quantity], [861, 12345]);
});

test('Checkout Sessions of transformed prices: subscription and payment mode, paid by card', async () => {
  const s = await stripe.checkout.sessions.create({
    mode: 'subscription', success_url: 'https://example.com/ok',
    line_items: [{ price: packUp.id, quantity: 25 }],
  });
  assert.equal(s.amount_subtotal, 3000);
  assert.equal(s.amount_total, 3000);
  shape(s, 'checkout.session');
  const items = await stripe.checkout.sessions.listLineItems(s.id);
  assert.deepEqual(items.data.map((i) => [i.quantity, i.amount_subtotal, i.amount_total]), [[25, 3000, 3000]]);
  assert.deepEqual(items.data[0].price.transform_quantity, { divide_by: 10, round: 'up' });
  shape(items.data[0], 'item');
  let r = await env.request({ method: 'POST', path: new URL(s.url).pathname, body: card('4242424242424242') });
  assert.equal(r.status, 303);
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  const inv = await stripe.invoices.retrieve(done.invoice);
  assert.equal(inv.total, 3000);
  assert.equal(inv.amount_paid, 3000);

  const dozen = await stripe.prices.create({
    product, currency: 'usd', unit_amount: 500, transform_quantity: { divide_by: 6, round: 'up' },
  });
  const plain = await stripe.prices.create({ product, currency: 'usd', unit_amount: 100 });
  const p = await stripe.checkout.sessions.create({
    mode: 'payment', success_url: 'https://example.com/ok',
    line_items: [{ price: dozen.id, quantity: 13 }, { price: plain.id, quantity: 2 }],
  });
  const a = packs(13, 6, 'up') * 500;
  assert.equal(a, 1500);
  assert.equal(p.amount_total, a + 200);
  const pitems = await stripe.checkout.sessions.listLineItems(p.id);
  assert.deepEqual(pitems.data.map((i) => [i.quantity, i.amount_subtotal, i.amount_total]), [[13, a, a], [2, 200, 200]]);
  r = await env.request({ method: 'POST', path: new URL(p.url).pathname, body: card('4242424242424242') });
  assert.equal(r.status, 303);
  const paid = await stripe.checkout.sessions.retrieve(p.id);
  assert.equal(paid.payment_status, 'paid');
  assert.equal((await stripe.paymentIntents.retrieve(paid.payment_intent)).amount, a + 200);

  // a payment link's line items are priced the same way
  const link = await stripe.paymentLinks.create({ line_items: [{ price: dozen.id, quantity: 13 }] });
  const litems = await stripe.paymentLinks.listLineItems(link.id);
  assert.deepEqual(litems.data.map((i) => [i.quantity, i.amount_subtotal, i.amount_total]), [[13, a, a]]);
});

test('invoice items and quotes of transformed prices', async () => {
  const { customer } = await customerOnClock();
  const once = await stripe.prices.create({
    product, currency: 'usd', unit_amount: 1000, transform_quantity: { divide_by: 10, round: 'up' },
  });
  const ii = await stripe.invoiceItems.create({ customer: customer.id, price: once.id, quantity: 25 });
  assert.equal(ii.quantity, 25);
  assert.equal(ii.amount, 3000);
  shape(ii, 'invoiceitem');
  const moved = await stripe.invoiceItems.update(ii.id, { quantity: 31 });
  assert.equal(moved.amount, 4000);
  const inv = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
  assert.equal(inv.total, 4000);
  const fin = await stripe.invoices.finalizeInvoice(inv.id);
  assert.equal(fin.amount_due, 4000);

  const q = await stripe.quotes.create({ customer: customer.id, line_items: [{ price: packUp.id, quantity: 25 }] });
  assert.equal(q.amount_total, 3000);
  const ql = await stripe.quotes.listLineItems(q.id);
  assert.deepEqual(ql.data.map((l) => [l.quantity, l.amount_subtotal]), [[25, 3000]]);
  await stripe.quotes.finalizeQuote(q.id);
  const acc = await stripe.quotes.accept(q.id);
  const qinv = await stripe.invoices.retrieve(acc.invoice);
  assert.equal(qinv.total, 3000);
  assert.equal(qinv.status, 'paid');

  // a subscription schedule's phase bills the packs too
  const { customer: c2 } = await customerOnClock();
  const sched = await stripe.subscriptionSchedules.create({
    customer: c2.id, start_date: 'now', phases: [{ items: [{ price: packDown.id, quantity: 25 }], iterations: 2 }],
  });
  const ssub = await stripe.subscriptions.retrieve(sched.subscription);
  assert.equal((await stripe.invoices.retrieve(ssub.latest_invoice)).total, 2000);
});

test('tender verify passes: the money in the ledger adds up', async () => {
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});
