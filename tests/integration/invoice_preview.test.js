'use strict';
// Previews of an invoice to come, through stripe-node: invoices.createPreview (POST
// /v1/invoices/create_preview) and the older GET /v1/invoices/upcoming and …/upcoming/lines
// (rawRequest). A renewal's preview is compared with the renewal the test clock then makes, a
// change's with the update made afterwards with the same proration_date, a new subscription's
// (items without `subscription`) and a new schedule's (schedule_details) with the first invoice
// of the subscription then created with the same parameters, and previews are checked to write
// nothing (invoices, events, invoice items, coupon redemptions, idempotency).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, storeSql } = require('./helpers');
const { billingShape, clockAdvance } = require('./billing_helpers');

let env;
let stripe;
let other;
const DAY = 86400;
const HOUR = 3600;
const T0 = Date.UTC(2025, 2, 1, 0, 0, 0) / 1000; // Mar 1: a 31-day first period
const P = 31 * DAY;
const APR1 = T0 + P;
const MAY1 = APR1 + 30 * DAY;

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
});
after(stopAll);

const shape = (obj) => billingShape(obj, 'invoice');

// the query string of a GET, brackets as stripe-node writes them
function qs(params, prefix = '') {
  const out = [];
  for (const [k, v] of Object.entries(params)) {
    const key = prefix ? `${prefix}[${k}]` : k;
    if (v !== null && typeof v === 'object') out.push(qs(v, key));
    else out.push(`${key}=${encodeURIComponent(v)}`);
  }
  return out.filter(Boolean).join('&');
}

const upcoming = (params, client = stripe) => client.rawRequest('GET', `/v1/invoices/upcoming?${qs(params)}`);
const upcomingLines = (params, client = stripe) =>
  client.rawRequest('GET', `/v1/invoices/upcoming/lines?${qs(params)}`);

async function setup(frozen = T0) {
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: frozen });
  const pm = 'pm_card_visa';
  const customer = await stripe.customers.create({
    test_clock: clock.id, email: 'preview@example.com', payment_method: pm,
    invoice_settings: { default_payment_method: pm },
  });
  return { clock, customer };
}

// Everything a preview could have written, to compare before and after.
async function snapshot(customer, coupons = []) {
  return {
    invoices: (await stripe.invoices.list({ limit: 100 })).data.map((i) => i.id),
    events: (await stripe.events.list({ limit: 100 })).data.map((e) => e.id),
    items: (await stripe.invoiceItems.list({ customer, limit: 100 })).data.map((i) => [i.id, i.invoice, i.amount]),
    coupons: await Promise.all(coupons.map(async (c) => (await stripe.coupons.retrieve(c)).times_redeemed)),
    sub_discounts: (await stripe.subscriptions.list({ customer, status: 'all' })).data.map((s) => s.discounts),
  };
}

// What the store holds, row counts and versions, on every shard: a preview changes none of it.
const STORE_COUNTS = ['idempotency_keys', 'events', 'invoices', 'invoice_items', 'discounts',
  'invoice_discount_amounts', 'customer_balance_transactions', 'subscriptions', 'subscription_items',
  'payment_intents', 'customers', 'coupons', 'promotion_codes'].map((t) => `(SELECT COUNT(*) FROM ${t})`);
const STORE_SUMS = [['version', 'subscriptions'], ['version', 'invoices'], ['times_redeemed', 'coupons']]
  .map(([col, t]) => `(SELECT COALESCE(SUM(${col}), 0) FROM ${t})`);
const storeState = () => storeSql(env.dataDir, `SELECT ${[...STORE_COUNTS, ...STORE_SUMS].join(" || ',' || ")}`);

// Stripe's proration of one line (BigInt, independently of Tender): halves away from zero.
function prorate(amount, remaining, period) {
  const mag = BigInt(Math.abs(amount)) * BigInt(remaining);
  const q = (2n * mag + BigInt(period)) / (2n * BigInt(period));
  return amount < 0 ? -Number(q) : Number(q);
}

// a line as the comparison sees it: what it bills, not its id
const lineKey = (l) => JSON.stringify([l.amount, l.description, l.period, l.quantity,
  l.parent.type, l.discount_amounts.map((d) => d.amount), l.pricing.price_details && l.pricing.price_details.price]);

let monthly;
let pro;
let product;

test('a renewal preview: next period, a pending item, a coupon and the balance, as the renewal then bills them', async () => {
  monthly = await stripe.prices.create({
    currency: 'usd', unit_amount: 3000, recurring: { interval: 'month' }, product_data: { name: 'Team' },
  });
  product = monthly.product;
  pro = await stripe.prices.create({ currency: 'usd', unit_amount: 5000, recurring: { interval: 'month' }, product });
  const { clock, customer } = await setup();
  const coupon = await stripe.coupons.create({ percent_off: 25, duration: 'forever' });
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: monthly.id }], discounts: [{ coupon: coupon.id }],
  });
  assert.equal(sub.status, 'active');
  const item = await stripe.invoiceItems.create({ customer: customer.id, amount: 1250, currency: 'usd', description: 'Setup' });
  await stripe.customers.createBalanceTransaction(customer.id, { amount: -500, currency: 'usd' });
  const before = await snapshot(customer.id, [coupon.id]);
  const stored = storeState();

  const prev = await stripe.invoices.createPreview({ customer: customer.id, subscription: sub.id });
  shape(prev);
  assert.equal(prev.object, 'invoice');
  assert.match(prev.id, /^upcoming_in_/);
  assert.equal(prev.status, 'draft');
  assert.equal(prev.number, null);
  assert.equal(prev.billing_reason, 'subscription_cycle');
  assert.equal(prev.subscription, sub.id);
  assert.equal(prev.customer, customer.id);
  assert.equal(prev.created, APR1);
  // Stripe's renewal: its own period is the one that ends, its line's the one it pays for
  assert.equal(prev.period_start, T0);
  assert.equal(prev.period_end, APR1);
  assert.equal(prev.lines.data.length, 2);
  const [il, sl] = prev.lines.data;
  assert.equal(il.parent.type, 'invoice_item_details');
  assert.equal(il.parent.invoice_item_details.invoice_item, item.id);
  assert.equal(il.amount, 1250);
  assert.deepEqual(il.discount_amounts.map((d) => d.amount), [313]); // 25 % of 12.50, halves up
  assert.equal(sl.parent.type, 'subscription_item_details');
  assert.equal(sl.amount, 3000);
  assert.deepEqual(sl.period, { start: APR1, end: MAY1 });
  assert.deepEqual(sl.discount_amounts.map((d) => d.amount), [750]);
  assert.equal(prev.subtotal, 4250);
  assert.equal(prev.total, 4250 - 1063);
  assert.deepEqual(prev.total_discount_amounts.map((d) => d.amount), [1063]);
  assert.deepEqual(prev.discounts, sub.discounts);
  assert.equal(prev.starting_balance, -500);
  assert.equal(prev.amount_due, 4250 - 1063 - 500);
  assert.deepEqual(await snapshot(customer.id, [coupon.id]), before, 'a preview writes nothing');
  assert.deepEqual(storeState(), stored, 'the store is as it was');

  // the older endpoint, and its lines paged
  const old = await upcoming({ customer: customer.id, subscription: sub.id });
  shape(old);
  assert.deepEqual(old.lines.data.map(lineKey), prev.lines.data.map(lineKey));
  assert.equal(old.total, prev.total);
  const page = await upcomingLines({ customer: customer.id, subscription: sub.id, limit: 1 });
  assert.equal(page.object, 'list');
  assert.equal(page.data.length, 1);
  assert.equal(page.has_more, true);
  assert.equal(page.data[0].amount, 1250);
  const rest = await upcomingLines({ customer: customer.id, subscription: sub.id, limit: 1, starting_after: page.data[0].id });
  assert.equal(rest.data.length, 1);
  assert.equal(rest.has_more, false);
  assert.equal(rest.data[0].amount, 3000);
  // preview_mode=recurring: the period's lines alone
  const rec = await stripe.invoices.createPreview({ subscription: sub.id, preview_mode: 'recurring' });
  assert.deepEqual(rec.lines.data.map((l) => l.amount), [3000]);
  assert.equal(rec.total, 2250);
  // discounts='' : none; discounts given: those instead (not redeemed)
  const bare = await stripe.invoices.createPreview({ subscription: sub.id, discounts: '' });
  assert.equal(bare.total, 4250);
  assert.deepEqual(bare.discounts, []);
  const off = await stripe.coupons.create({ amount_off: 1000, currency: 'usd', duration: 'once' });
  const other10 = await stripe.invoices.createPreview({ subscription: sub.id, discounts: [{ coupon: off.id }] });
  assert.equal(other10.total, 3250);
  assert.equal(other10.total_discount_amounts[0].amount, 1000);
  assert.match(other10.discounts[0], /^di_/);
  shape(other10);
  assert.equal((await stripe.coupons.retrieve(off.id)).times_redeemed, 0);
  const offStored = storeState();
  await stripe.invoices.createPreview({ subscription: sub.id, discounts: [{ coupon: off.id }] });
  await upcoming({ subscription: sub.id, coupon: off.id });
  assert.deepEqual(storeState(), offStored, 'the store is as it was');
  assert.notDeepEqual(offStored, stored); // (the coupon made in between shows)

  // the renewal itself: the same lines, discounts and amount due
  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  const renewed = await stripe.subscriptions.retrieve(sub.id);
  const inv = await stripe.invoices.retrieve(renewed.latest_invoice);
  assert.equal(inv.billing_reason, 'subscription_cycle');
  assert.equal(inv.status, 'paid');
  const lines = (await stripe.invoices.listLineItems(inv.id, { limit: 100 })).data;
  assert.deepEqual(lines.map(lineKey), prev.lines.data.map(lineKey));
  for (const k of ['subtotal', 'total', 'starting_balance', 'amount_due', 'period_start', 'period_end', 'created']) {
    assert.equal(inv[k], prev[k], k);
  }
  assert.deepEqual(inv.discounts, prev.discounts);
  assert.deepEqual(inv.total_discount_amounts, prev.total_discount_amounts);
});

test('a price change previewed with a proration_date: the update then makes the same prorations', async () => {
  const { clock, customer } = await setup();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  const si = sub.items.data[0].id;
  await clockAdvance(stripe, clock, T0 + 10 * DAY);
  const at = T0 + 10 * DAY - HOUR;
  const before = await snapshot(customer.id);
  const stored = storeState();
  const prev = await stripe.invoices.createPreview({
    customer: customer.id, subscription: sub.id,
    subscription_details: { items: [{ id: si, price: pro.id }], proration_date: at },
  });
  shape(prev);
  assert.equal(prev.billing_reason, 'subscription_cycle');
  const pr = prev.lines.data.filter((l) => l.parent.type === 'invoice_item_details');
  assert.ok(pr.every((l) => l.parent.invoice_item_details.proration));
  const rem = APR1 - at;
  assert.deepEqual(pr.map((l) => l.amount).sort((a, b) => a - b), [prorate(-3000, rem, P), prorate(5000, rem, P)]);
  const period = prev.lines.data.filter((l) => l.parent.type === 'subscription_item_details');
  assert.deepEqual(period.map((l) => [l.amount, l.pricing.price_details.price]), [[5000, pro.id]]);
  assert.equal(prev.total, 5000 + prorate(-3000, rem, P) + prorate(5000, rem, P));
  // the older endpoint's flat names: the same
  const old = await upcoming({
    subscription: sub.id, subscription_items: [{ id: si, price: pro.id }], subscription_proration_date: at,
  });
  assert.deepEqual(old.lines.data.map(lineKey), prev.lines.data.map(lineKey));
  // a preview's lines keep their ids from one preview to the next: they page, one at a time
  const flat = { subscription: sub.id, subscription_items: [{ id: si, price: pro.id }], subscription_proration_date: at };
  assert.deepEqual(old.lines.data.map((l) => l.id), (await upcoming(flat)).lines.data.map((l) => l.id));
  const paged = [];
  let page = await upcomingLines({ ...flat, limit: 1 });
  for (let i = 0; i < 5; i++) {
    paged.push(...page.data);
    if (!page.has_more) break;
    page = await upcomingLines({ ...flat, limit: 1, starting_after: page.data[0].id });
  }
  assert.deepEqual(paged.map((l) => l.id), old.lines.data.map((l) => l.id));
  const back = await upcomingLines({ ...flat, limit: 2, ending_before: paged[2].id });
  assert.deepEqual(back.data.map((l) => l.id), paged.slice(0, 2).map((l) => l.id));
  assert.equal(back.has_more, false);
  // always_invoice: the invoice the change makes at once, its prorations alone
  const now = await stripe.invoices.createPreview({
    subscription: sub.id,
    subscription_details: { items: [{ id: si, price: pro.id }], proration_date: at, proration_behavior: 'always_invoice' },
  });
  shape(now);
  assert.equal(now.billing_reason, 'subscription_update');
  assert.deepEqual(now.lines.data.map(lineKey), pr.map(lineKey));
  // none: the next period at the new price, no prorations
  const none = await stripe.invoices.createPreview({
    subscription: sub.id, subscription_details: { items: [{ id: si, quantity: 2 }], proration_behavior: 'none' },
  });
  assert.deepEqual(none.lines.data.map((l) => l.amount), [6000]);
  assert.deepEqual(await snapshot(customer.id), before, 'previews write nothing');
  assert.deepEqual(storeState(), stored, 'the store is as it was');

  // the update with the same proration_date: the same prorations, to the unit
  await stripe.subscriptions.update(sub.id, { items: [{ id: si, price: pro.id }], proration_date: at });
  const pending = (await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data;
  const asLine = (x) => JSON.stringify([x.amount, x.description, x.period, x.quantity]);
  assert.deepEqual(pending.map(asLine).sort(), pr.map(asLine).sort());
  // and the next preview now shows those stored items, the same again
  const after = await stripe.invoices.createPreview({ subscription: sub.id });
  assert.deepEqual(after.lines.data.map((l) => l.amount), prev.lines.data.map((l) => l.amount));
  assert.equal(after.total, prev.total);
});

test('an invoice made at once (always_invoice, a new interval): previewed as the update then makes it', async () => {
  const yearly = await stripe.prices.create({ currency: 'usd', unit_amount: 30000, recurring: { interval: 'year' }, product });
  const { clock, customer } = await setup();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  const si = sub.items.data[0].id;
  const item = await stripe.invoiceItems.create({ customer: customer.id, amount: 400, currency: 'usd' });
  await clockAdvance(stripe, clock, T0 + 5 * DAY);
  const at = T0 + 5 * DAY - 2 * HOUR;
  const stored = storeState();
  const change = { items: [{ id: si, price: pro.id }], proration_behavior: 'always_invoice', proration_date: at };
  const prev = await stripe.invoices.createPreview({ subscription: sub.id, subscription_details: change });
  shape(prev);
  assert.equal(prev.billing_reason, 'subscription_update');
  assert.equal(prev.lines.data.length, 3); // the pending item and the two prorations
  const upd = await stripe.subscriptions.update(sub.id, { ...change, expand: ['latest_invoice'] });
  const inv = upd.latest_invoice;
  assert.equal(inv.billing_reason, 'subscription_update');
  const lines = (await stripe.invoices.listLineItems(inv.id, { limit: 100 })).data;
  assert.deepEqual(lines.map(lineKey), prev.lines.data.map(lineKey));
  for (const k of ['subtotal', 'total', 'amount_due', 'starting_balance']) assert.equal(inv[k], prev[k], k);
  assert.ok(lines.some((l) => l.parent.type === 'invoice_item_details' && l.parent.invoice_item_details.invoice_item === item.id));
  assert.notDeepEqual(storeState(), stored);

  // a new interval: a new period from now, its year invoiced in full with the unused month credited
  const later = storeState();
  const yprev = await stripe.invoices.createPreview({ subscription: sub.id, subscription_details: { items: [{ id: si, price: yearly.id }] } });
  shape(yprev);
  assert.deepEqual(storeState(), later);
  assert.equal(yprev.billing_reason, 'subscription_update');
  const T5 = T0 + 5 * DAY;
  assert.deepEqual([yprev.period_start, yprev.period_end], [T5, Date.UTC(2026, 2, 6) / 1000]);
  const ylines = yprev.lines.data;
  assert.deepEqual(ylines.filter((l) => l.parent.type === 'subscription_item_details').map((l) => l.amount), [30000]);
  assert.deepEqual(ylines.filter((l) => l.parent.type === 'invoice_item_details').map((l) => l.amount), [prorate(-5000, APR1 - T5, P)]);
  const yupd = await stripe.subscriptions.update(sub.id, { items: [{ id: si, price: yearly.id }], expand: ['latest_invoice'] });
  const yinv = yupd.latest_invoice;
  const yl = (await stripe.invoices.listLineItems(yinv.id, { limit: 100 })).data;
  assert.deepEqual(yl.map((l) => l.amount), ylines.map((l) => l.amount));
  for (const k of ['subtotal', 'total', 'amount_due', 'period_start', 'period_end']) assert.equal(yinv[k], yprev[k], k);
});

test('a customer alone: its pending items; nothing to invoice is invoice_upcoming_none', async () => {
  const { customer } = await setup();
  await assert.rejects(stripe.invoices.createPreview({ customer: customer.id }),
    (e) => e.statusCode === 404 && e.code === 'invoice_upcoming_none');
  await assert.rejects(upcoming({ customer: customer.id }),
    (e) => e.statusCode === 404 && e.code === 'invoice_upcoming_none');
  const a = await stripe.invoiceItems.create({ customer: customer.id, amount: 700, currency: 'usd' });
  const b = await stripe.invoiceItems.create({ customer: customer.id, amount: 300, currency: 'usd', discountable: false });
  const coupon = await stripe.coupons.create({ percent_off: 10, duration: 'once' });
  await stripe.customers.update(customer.id, { coupon: coupon.id });
  const times = (await stripe.coupons.retrieve(coupon.id)).times_redeemed;
  const before = await snapshot(customer.id, [coupon.id]);
  const prev = await stripe.invoices.createPreview({ customer: customer.id });
  shape(prev);
  assert.equal(prev.billing_reason, 'manual');
  assert.equal(prev.subscription, null);
  assert.deepEqual(prev.lines.data.map((l) => l.parent.invoice_item_details.invoice_item), [a.id, b.id]);
  assert.equal(prev.subtotal, 1000);
  assert.equal(prev.total, 1000 - 70); // the customer's 10 %, on the discountable item alone
  assert.equal((await stripe.coupons.retrieve(coupon.id)).times_redeemed, times);
  assert.deepEqual(await snapshot(customer.id, [coupon.id]), before);
  // a subscription that ends at its period's end, or is canceled, invoices nothing more
  const { customer: c2 } = await setup();
  const sub = await stripe.subscriptions.create({ customer: c2.id, items: [{ price: monthly.id }], cancel_at_period_end: true });
  await assert.rejects(stripe.invoices.createPreview({ subscription: sub.id }),
    (e) => e.statusCode === 404 && e.code === 'invoice_upcoming_none');
  await stripe.subscriptions.update(sub.id, { cancel_at_period_end: false });
  const ok = await stripe.invoices.createPreview({ subscription: sub.id });
  assert.equal(ok.total, 3000);
  await assert.rejects(stripe.invoices.createPreview({ subscription: sub.id, subscription_details: { cancel_at_period_end: true } }),
    (e) => e.statusCode === 404 && e.code === 'invoice_upcoming_none');
  // canceled now: Tender neither prorates nor invoices a cancellation
  await assert.rejects(stripe.invoices.createPreview({ subscription: sub.id, subscription_details: { cancel_now: true } }),
    (e) => e.statusCode === 404 && e.code === 'invoice_upcoming_none');
  await assert.rejects(upcoming({ subscription: sub.id, subscription_cancel_now: true }),
    (e) => e.statusCode === 404 && e.code === 'invoice_upcoming_none');
  assert.equal((await upcoming({ subscription: sub.id, subscription_cancel_now: false })).total, 3000);
  // a trial: the first paid period, at the trial's end
  const trial = await stripe.subscriptions.create({ customer: c2.id, items: [{ price: pro.id }], trial_period_days: 14 });
  const tp = await stripe.invoices.createPreview({ subscription: trial.id });
  shape(tp);
  assert.equal(tp.created, T0 + 14 * DAY);
  assert.deepEqual([tp.period_start, tp.period_end], [T0, T0 + 14 * DAY]);
  assert.deepEqual(tp.lines.data[0].period, { start: T0 + 14 * DAY, end: T0 + 14 * DAY + 31 * DAY });
  assert.deepEqual(tp.lines.data.map((l) => l.amount), [5000]);
  await stripe.subscriptions.cancel(sub.id);
  await assert.rejects(stripe.invoices.createPreview({ subscription: sub.id }),
    (e) => e.statusCode === 404 && e.code === 'invoice_upcoming_none');
});

test('invoice_items: items a preview adds as if pending (upcoming, its lines, createPreview), written nowhere; automatic_tax and customer_details on upcoming', async () => {
  const { customer } = await setup();
  const gadget = await stripe.products.create({ name: 'Gadget' });
  const price = await stripe.prices.create({ product: gadget.id, unit_amount: 450, currency: 'usd' });
  const before = await snapshot(customer.id);
  const items = [{ amount: 1200, currency: 'usd', description: 'Setup fee' }, { price: price.id, quantity: 2 }];
  const up = await upcoming({ customer: customer.id, invoice_items: items });
  shape(up);
  assert.deepEqual(up.lines.data.map((l) => l.amount).sort((x, y) => x - y), [900, 1200]);
  assert.ok(up.lines.data.some((l) => l.description === 'Setup fee'));
  assert.deepEqual([up.subtotal, up.total, up.currency], [2100, 2100, 'usd']);
  const page = await upcomingLines({ customer: customer.id, invoice_items: items, limit: 1 });
  assert.deepEqual([page.data.length, page.has_more], [1, true]);
  // with a pending item: both
  const pending = await stripe.invoiceItems.create({ customer: customer.id, amount: 100, currency: 'usd' });
  const withPending = await stripe.invoices.createPreview({ customer: customer.id, invoice_items: [{ unit_amount: 250, quantity: 3, currency: 'usd' }] });
  shape(withPending);
  assert.equal(withPending.total, 100 + 750);
  assert.ok(withPending.lines.data.some((l) => l.parent.invoice_item_details.invoice_item === pending.id));
  // a subscription's renewal preview takes them too
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  const renewal = await stripe.invoices.createPreview({ subscription: sub.id });
  const more = await stripe.invoices.createPreview({ subscription: sub.id, invoice_items: [{ amount: 500, currency: 'usd' }] });
  assert.equal(more.total, renewal.total + 500);
  // refusals
  await assert.rejects(upcoming({ customer: customer.id, invoice_items: [{ amount: 1, price: price.id }] }),
    (e) => e.statusCode === 400 && e.param === 'invoice_items[0][amount]');
  await assert.rejects(upcoming({ customer: customer.id, currency: 'usd', invoice_items: [{ amount: 1, currency: 'eur' }] }),
    (e) => e.statusCode === 400 && e.param === 'invoice_items[0][currency]');
  await assert.rejects(upcoming({ customer: customer.id, invoice_items: [{ amount: 1 }] }),
    (e) => e.statusCode === 400 && e.param === 'invoice_items[0][currency]');
  await stripe.invoiceItems.del(pending.id);
  // automatic_tax on upcoming: a place is needed (the customer has no address)
  await assert.rejects(upcoming({ customer: customer.id, automatic_tax: { enabled: true }, invoice_items: [{ amount: 1000, currency: 'usd', tax_behavior: 'exclusive' }] }),
    (e) => e.statusCode === 400 && e.code === 'customer_tax_location_invalid');
  const taxed = await upcoming({
    customer: customer.id, automatic_tax: { enabled: true },
    customer_details: { shipping: { name: 'Ada', address: { country: 'DE', postal_code: '10117', city: 'Berlin' } } },
    invoice_items: [{ amount: 1000, currency: 'usd', tax_behavior: 'exclusive' }],
  });
  assert.deepEqual([taxed.automatic_tax.enabled, taxed.automatic_tax.status], [true, 'complete']);
  shape(taxed);
  await stripe.subscriptions.cancel(sub.id);
  const after = await snapshot(customer.id);
  assert.deepEqual(after.items, before.items);
});

test("another merchant's objects are 404; unknown and wrong parameters are 400; nothing is kept for a key", async () => {
  const { customer } = await setup();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  await assert.rejects(other.invoices.createPreview({ subscription: sub.id }),
    (e) => e.statusCode === 404 && e.code === 'resource_missing' && e.param === 'subscription');
  await assert.rejects(other.invoices.createPreview({ customer: customer.id }),
    (e) => e.statusCode === 404 && e.code === 'resource_missing' && e.param === 'customer');
  await assert.rejects(upcoming({ subscription: sub.id }, other),
    (e) => e.statusCode === 404 && e.code === 'resource_missing');
  for (const params of [
    { customer: customer.id, customer_details: { tax_exempt: 'none' } },
    { customer: customer.id, invoice_items: [{ invoiceitem: 'ii_x', amount: 100, currency: 'usd' }] },
  ]) {
    await assert.rejects(stripe.invoices.createPreview(params),
      (e) => e.statusCode === 400 && e.code === 'parameter_unknown', JSON.stringify(params));
  }
  await assert.rejects(upcoming({ subscription: sub.id, subscription_details: { start_date: T0 } }),
    (e) => e.statusCode === 400 && e.code === 'parameter_unknown');
  // a start date is a new subscription's
  await assert.rejects(upcoming({ subscription: sub.id, subscription_start_date: T0 + 40 * DAY }),
    (e) => e.statusCode === 400 && e.param === 'subscription_start_date');
  await assert.rejects(stripe.invoices.createPreview({ subscription: sub.id, subscription_details: { start_date: T0 + 40 * DAY } }),
    (e) => e.statusCode === 400 && e.param === 'subscription_details[start_date]');
  await assert.rejects(stripe.invoices.createPreview({}),
    (e) => e.statusCode === 400 && e.code === 'parameter_missing');
  const { customer: c2 } = await setup();
  await assert.rejects(stripe.invoices.createPreview({ customer: c2.id, subscription: sub.id }),
    (e) => e.statusCode === 400 && e.param === 'subscription');
  await assert.rejects(stripe.invoices.createPreview({
    subscription: sub.id, subscription_details: { items: [{ id: sub.items.data[0].id, quantity: 2 }], proration_date: T0 - 5 },
  }), (e) => e.statusCode === 400 && e.param === 'proration_date');
  await assert.rejects(stripe.invoices.createPreview({
    subscription: sub.id, subscription_details: { items: [{ id: 'si_nope', quantity: 2 }] },
  }), (e) => e.statusCode === 404 && e.param === 'subscription_details[items][0][id]');
  // a POST that only reads: its key keeps nothing (other parameters with it are not refused)
  const k = { idempotencyKey: `preview-${Date.now()}` };
  const one = await stripe.invoices.createPreview({ subscription: sub.id }, k);
  const two = await stripe.invoices.createPreview({ subscription: sub.id, preview_mode: 'recurring' }, k);
  assert.equal(one.total, two.total);
  assert.notEqual(one.id, two.id);
});

test('subscription_trial_end, subscription_trial_from_plan and subscription_billing_cycle_anchor: previewed as the update then invoices them', async () => {
  const { clock, customer } = await setup();
  const T2 = T0 + 2 * DAY;
  const T20 = T0 + 20 * DAY;
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }], trial_end: T0 + 10 * DAY });
  assert.equal(sub.status, 'trialing');
  await clockAdvance(stripe, clock, T2);
  const stored = storeState();
  // a trial moved to T20: the invoice at its end, a month from then
  const moved = await upcoming({ subscription: sub.id, subscription_trial_end: T20 });
  shape(moved);
  assert.equal(moved.billing_reason, 'subscription_cycle');
  assert.deepEqual([moved.created, moved.period_start, moved.period_end], [T20, T0, T20]);
  assert.deepEqual(moved.lines.data[0].period, { start: T20, end: T20 + 31 * DAY });
  assert.deepEqual(moved.lines.data.map((l) => [l.amount, l.period.start, l.period.end]), [[3000, T20, T20 + 31 * DAY]]);
  const movedLines = await upcomingLines({ subscription: sub.id, subscription_trial_end: T20 });
  assert.deepEqual(movedLines.data.map(lineKey), moved.lines.data.map(lineKey));
  // createPreview's subscription_details[trial_end]: the same
  const movedNew = await stripe.invoices.createPreview({ subscription: sub.id, subscription_details: { trial_end: T20 } });
  assert.deepEqual(movedNew.lines.data.map(lineKey), moved.lines.data.map(lineKey));
  await assert.rejects(stripe.invoices.createPreview({ subscription: sub.id, subscription_details: { billing_cycle_anchor: 'now' } }),
    (e) => e.statusCode === 400 && e.param === 'subscription_details[billing_cycle_anchor]');
  // the trial ended now: the first paid period from now, invoiced at once
  const ended = await upcoming({ subscription: sub.id, subscription_trial_end: 'now' });
  shape(ended);
  assert.equal(ended.billing_reason, 'subscription_update');
  assert.deepEqual([ended.period_start, ended.total], [T2, 3000]);
  // Stripe's refusals
  const refused = [
    [{ subscription_trial_end: T20, subscription_trial_from_plan: true }, 'subscription_trial_from_plan'],
    [{ subscription_billing_cycle_anchor: 'now' }, 'subscription_billing_cycle_anchor'], // trialing
    [{ subscription_billing_cycle_anchor: T20 }, 'subscription_billing_cycle_anchor'], // an existing one's
    [{ subscription_trial_end: T0 - DAY }, 'subscription_trial_end'],
  ];
  for (const [params, param] of refused) {
    await assert.rejects(upcoming({ subscription: sub.id, ...params }),
      (e) => e.statusCode === 400 && e.param === param, JSON.stringify(params));
  }
  await assert.rejects(upcoming({ customer: customer.id, subscription_trial_end: T20 }),
    (e) => e.statusCode === 400 && e.param === 'subscription');
  assert.deepEqual(storeState(), stored, 'previews write nothing');
  // the update, then the trial's end: what the preview showed
  await stripe.subscriptions.update(sub.id, { trial_end: T20 });
  await clockAdvance(stripe, clock, T20 + HOUR + 60);
  const inv = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  const lines = (await stripe.invoices.listLineItems(inv.id, { limit: 100 })).data;
  assert.deepEqual(lines.map(lineKey), moved.lines.data.map(lineKey));
  for (const k of ['subtotal', 'total', 'amount_due', 'period_start', 'period_end', 'created']) assert.equal(inv[k], moved[k], k);

  // an active one: billing_cycle_anchor=now, its unused time credited and a new period invoiced
  const { clock: c2, customer: cu2 } = await setup();
  const trialPrice = await stripe.plans.create({ amount: 2000, currency: 'usd', interval: 'month', product, trial_period_days: 7 });
  const act = await stripe.subscriptions.create({ customer: cu2.id, items: [{ price: monthly.id }] });
  const T10 = T0 + 10 * DAY;
  await clockAdvance(stripe, c2, T10);
  const anchored = await upcoming({ subscription: act.id, subscription_billing_cycle_anchor: 'now' });
  shape(anchored);
  assert.equal(anchored.billing_reason, 'subscription_update');
  assert.deepEqual(anchored.lines.data.map((l) => l.amount), [prorate(-3000, APR1 - T10, P), 3000]);
  assert.deepEqual([anchored.period_start, anchored.period_end], [T10, T10 + 31 * DAY]);
  // unchanged: the renewal as it is
  const unchanged = await upcoming({ subscription: act.id, subscription_billing_cycle_anchor: 'unchanged' });
  assert.deepEqual([unchanged.billing_reason, unchanged.created, unchanged.total], ['subscription_cycle', APR1, 3000]);
  // trial_from_plan with the item's price changed to one with a 7-day trial: a trial from now,
  // its unused time credited on an invoice at once, the trial's line at 0
  const si = act.items.data[0].id;
  const fromPlan = await upcoming({
    subscription: act.id, subscription_trial_from_plan: true, subscription_items: [{ id: si, price: trialPrice.id }],
  });
  shape(fromPlan);
  assert.equal(fromPlan.billing_reason, 'subscription_update');
  assert.deepEqual(fromPlan.lines.data.map((l) => l.amount), [prorate(-3000, APR1 - T10, P), 0]);
  assert.deepEqual([fromPlan.period_start, fromPlan.period_end], [T10, T10 + 7 * DAY]);
  // the updates the previews showed, one after the other
  const upd = await stripe.subscriptions.update(act.id, { billing_cycle_anchor: 'now', expand: ['latest_invoice'] });
  const al = (await stripe.invoices.listLineItems(upd.latest_invoice.id, { limit: 100 })).data;
  assert.deepEqual(al.map(lineKey), anchored.lines.data.map(lineKey));
  for (const k of ['subtotal', 'total', 'amount_due', 'period_start', 'period_end']) assert.equal(upd.latest_invoice[k], anchored[k], k);
  const fp = await upcoming({
    subscription: act.id, subscription_trial_from_plan: true, subscription_items: [{ id: si, price: trialPrice.id }],
  });
  const upd2 = await stripe.subscriptions.update(act.id, {
    trial_from_plan: true, items: [{ id: si, price: trialPrice.id }], expand: ['latest_invoice'],
  });
  assert.equal(upd2.status, 'trialing');
  const fl = (await stripe.invoices.listLineItems(upd2.latest_invoice.id, { limit: 100 })).data;
  assert.deepEqual(fl.map(lineKey), fp.lines.data.map(lineKey));
  for (const k of ['subtotal', 'total', 'period_start', 'period_end']) assert.equal(upd2.latest_invoice[k], fp[k], k);
});

test('subscription_default_tax_rates and subscription_resume_at: previewed as the update and the resume then invoice them', async () => {
  const txr = await stripe.taxRates.create({ display_name: 'VAT', percentage: 10, inclusive: false });
  const { clock, customer } = await setup();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  await clockAdvance(stripe, clock, T0 + 3 * DAY);
  const stored = storeState();
  const taxed = await upcoming({ subscription: sub.id, subscription_default_tax_rates: [txr.id] });
  shape(taxed);
  assert.equal(taxed.subtotal, 3000);
  assert.equal(taxed.total, 3300);
  assert.deepEqual(taxed.lines.data[0].tax_amounts.map((t) => [t.amount, t.tax_rate]), [[300, txr.id]]);
  const taxedNew = await stripe.invoices.createPreview({ subscription: sub.id, subscription_details: { default_tax_rates: [txr.id] } });
  assert.equal(taxedNew.total, 3300);
  const taxedLines = await upcomingLines({ subscription: sub.id, subscription_default_tax_rates: [txr.id] });
  assert.deepEqual(taxedLines.data.map((l) => l.tax_amounts.map((t) => t.amount)), [[300]]);
  await assert.rejects(upcoming({ subscription: sub.id, subscription_default_tax_rates: ['txr_nope'] }),
    (e) => e.statusCode === 404);
  assert.deepEqual(storeState(), stored, 'previews write nothing');
  await stripe.subscriptions.update(sub.id, { default_tax_rates: [txr.id] });
  // '' previews them removed
  const untaxed = await upcoming({ subscription: sub.id, subscription_default_tax_rates: '' });
  assert.equal(untaxed.total, 3000);
  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  const inv = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  const lines = (await stripe.invoices.listLineItems(inv.id, { limit: 100 })).data;
  assert.deepEqual(lines.map(lineKey), taxed.lines.data.map(lineKey));
  for (const k of ['subtotal', 'total', 'tax', 'amount_due']) assert.equal(inv[k], taxed[k], k);
  assert.deepEqual(inv.total_tax_amounts, taxed.total_tax_amounts);

  // a paused subscription: nothing to come, unless resumed now
  const clock2 = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
  const c2 = await stripe.customers.create({ test_clock: clock2.id });
  const p = await stripe.subscriptions.create({
    customer: c2.id, items: [{ price: monthly.id }], trial_period_days: 14,
    trial_settings: { end_behavior: { missing_payment_method: 'pause' } },
  });
  const later = T0 + 20 * DAY;
  await clockAdvance(stripe, clock2, later);
  assert.equal((await stripe.subscriptions.retrieve(p.id)).status, 'paused');
  await assert.rejects(upcoming({ subscription: p.id }), (e) => e.statusCode === 404 && e.code === 'invoice_upcoming_none');
  const resumed = await upcoming({ subscription: p.id, subscription_resume_at: 'now' });
  shape(resumed);
  assert.equal(resumed.billing_reason, 'subscription_update');
  assert.deepEqual([resumed.period_start, resumed.period_end, resumed.total], [later, later + 31 * DAY, 3000]);
  await assert.rejects(upcoming({ subscription: p.id, subscription_resume_at: 'now', subscription_items: [{ price: pro.id }] }),
    (e) => e.statusCode === 400 && e.param === 'subscription_resume_at');
  await assert.rejects(upcoming({ subscription: sub.id, subscription_resume_at: 'now' }),
    (e) => e.statusCode === 400 && e.code === 'subscription_invalid_state' || e.statusCode === 400);
  const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer: c2.id });
  await stripe.subscriptions.update(p.id, { default_payment_method: pm.id });
  const r = await stripe.subscriptions.resume(p.id, { expand: ['latest_invoice'] });
  const rl = (await stripe.invoices.listLineItems(r.latest_invoice.id, { limit: 100 })).data;
  assert.deepEqual(rl.map(lineKey), resumed.lines.data.map(lineKey));
  for (const k of ['subtotal', 'total', 'period_start', 'period_end']) assert.equal(r.latest_invoice[k], resumed[k], k);
});

test('subscription_cancel_at: the final invoice of a cancellation within the period, as the scheduler then makes it', async () => {
  const { clock, customer } = await setup();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  const T10 = T0 + 10 * DAY;
  const T20 = T0 + 20 * DAY;
  await clockAdvance(stripe, clock, T10);
  const item = await stripe.invoiceItems.create({ customer: customer.id, amount: 700, currency: 'usd' });
  const stored = storeState();
  const credit = prorate(-3000, APR1 - T20, P);
  const fin = await upcoming({ customer: customer.id, subscription: sub.id, subscription_cancel_at: T20 });
  shape(fin);
  assert.equal(fin.billing_reason, 'subscription_cycle');
  assert.equal(fin.created, T20);
  assert.deepEqual(fin.lines.data.map((l) => l.amount), [700, credit]);
  assert.equal(fin.lines.data[0].parent.invoice_item_details.invoice_item, item.id);
  assert.ok(fin.lines.data[1].parent.invoice_item_details.proration);
  assert.deepEqual(fin.lines.data[1].period, { start: T20, end: APR1 });
  assert.equal(fin.total, 700 + credit);
  const finLines = await upcomingLines({ subscription: sub.id, subscription_cancel_at: T20 });
  assert.deepEqual(finLines.data.map(lineKey), fin.lines.data.map(lineKey));
  const finNew = await stripe.invoices.createPreview({ subscription: sub.id, subscription_details: { cancel_at: T20 } });
  assert.deepEqual(finNew.lines.data.map(lineKey), fin.lines.data.map(lineKey));
  await assert.rejects(stripe.invoices.createPreview({ subscription: sub.id, subscription_details: { cancel_at: T0 } }),
    (e) => e.statusCode === 400 && e.param === 'subscription_details[cancel_at]');
  // proration_behavior=none: no credit, so no final invoice and no renewal
  await assert.rejects(upcoming({ subscription: sub.id, subscription_cancel_at: T20, subscription_proration_behavior: 'none' }),
    (e) => e.statusCode === 404 && e.code === 'invoice_upcoming_none');
  // after the period: the renewal comes first
  const later = await upcoming({ subscription: sub.id, subscription_cancel_at: MAY1 + DAY });
  assert.deepEqual([later.created, later.total], [APR1, 3700]);
  for (const [params, param] of [
    [{ subscription_cancel_at: T0 }, 'subscription_cancel_at'],
    [{ subscription_cancel_at: T20, subscription_cancel_at_period_end: true }, 'subscription_cancel_at'],
    [{ subscription_cancel_at: T20, subscription_items: [{ id: sub.items.data[0].id, quantity: 2 }] }, 'subscription_cancel_at'],
  ]) {
    await assert.rejects(upcoming({ subscription: sub.id, ...params }),
      (e) => e.statusCode === 400 && e.param === param, JSON.stringify(params));
  }
  assert.deepEqual(storeState(), stored, 'previews write nothing');
  // set: the plain preview shows it too; '' previews it unset
  await stripe.subscriptions.update(sub.id, { cancel_at: T20 });
  const plain = await stripe.invoices.createPreview({ subscription: sub.id });
  assert.deepEqual(plain.lines.data.map(lineKey), fin.lines.data.map(lineKey));
  const unset = await upcoming({ subscription: sub.id, subscription_cancel_at: '' });
  assert.deepEqual([unset.created, unset.total], [APR1, 3700]);
  await clockAdvance(stripe, clock, T20);
  const ended = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(ended.status, 'canceled');
  const inv = await stripe.invoices.retrieve(ended.latest_invoice);
  const lines = (await stripe.invoices.listLineItems(inv.id, { limit: 100 })).data;
  assert.deepEqual(lines.map(lineKey), fin.lines.data.map(lineKey));
  for (const k of ['subtotal', 'total', 'created', 'billing_reason']) assert.equal(inv[k], fin[k], k);
});

test('schedule: its subscription\'s next invoice with the phase in force then, as the schedule then bills it', async () => {
  const { clock, customer } = await setup();
  const sched = await stripe.subscriptionSchedules.create({
    customer: customer.id, start_date: 'now',
    phases: [{ items: [{ price: monthly.id }], iterations: 1 }, { items: [{ price: pro.id, quantity: 2 }], iterations: 1 }],
  });
  await clockAdvance(stripe, clock, T0 + 3 * DAY);
  const later = await stripe.subscriptionSchedules.create({
    customer: customer.id, start_date: MAY1, phases: [{ items: [{ price: monthly.id }], iterations: 1 }],
  });
  const stored = storeState();
  const prev = await upcoming({ schedule: sched.id });
  shape(prev);
  assert.equal(prev.subscription, sched.subscription);
  assert.equal(prev.billing_reason, 'subscription_cycle');
  assert.deepEqual([prev.created, prev.period_start, prev.period_end], [APR1, T0, APR1]);
  assert.deepEqual(prev.lines.data.map((l) => [l.amount, l.quantity, l.pricing.price_details.price]), [[10000, 2, pro.id]]);
  const lines = await upcomingLines({ schedule: sched.id, customer: customer.id });
  assert.deepEqual(lines.data.map(lineKey), prev.lines.data.map(lineKey));
  const created = await stripe.invoices.createPreview({ schedule: sched.id });
  assert.deepEqual(created.lines.data.map(lineKey), prev.lines.data.map(lineKey));
  // the subscription alone does not know its schedule's next phase
  assert.equal((await upcoming({ subscription: sched.subscription })).total, 3000);
  for (const [params, status, param] of [
    [{ schedule: sched.id, subscription: sched.subscription }, 400, 'schedule'],
    [{ schedule: sched.id, subscription_trial_end: 'now' }, 400, 'schedule'],
    [{ schedule: 'sub_sched_nope' }, 404, 'schedule'],
  ]) {
    await assert.rejects(upcoming(params), (e) => e.statusCode === status && e.param === param, JSON.stringify(params));
  }
  await assert.rejects(upcoming({ schedule: sched.id }, other), (e) => e.statusCode === 404);
  await assert.rejects(upcoming({ schedule: later.id }), (e) => e.statusCode === 400 && e.param === 'schedule');
  assert.deepEqual(storeState(), stored, 'previews write nothing');
  await stripe.subscriptionSchedules.cancel(later.id);
  // the renewal with the second phase: what the preview showed
  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  const inv = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sched.subscription)).latest_invoice);
  const il = (await stripe.invoices.listLineItems(inv.id, { limit: 100 })).data;
  assert.deepEqual(il.map(lineKey), prev.lines.data.map(lineKey));
  for (const k of ['subtotal', 'total', 'amount_due', 'period_start', 'period_end', 'created']) assert.equal(inv[k], prev[k], k);
  // the last phase ends at MAY1 and releases it: the renewal at its items
  const last = await upcoming({ schedule: sched.id });
  assert.deepEqual([last.created, last.total], [MAY1, 10000]);

  // a phase that starts within the period: its change prorated from its start, on the renewal
  const { clock: c2, customer: cu2 } = await setup();
  const T15 = T0 + 15 * DAY;
  const mid = await stripe.subscriptionSchedules.create({
    customer: cu2.id, start_date: 'now',
    phases: [{ items: [{ price: monthly.id }], end_date: T15 }, { items: [{ price: pro.id }], iterations: 1 }],
  });
  const mp = await upcoming({ schedule: mid.id });
  const rem = APR1 - T15;
  const byAmount = (a, b) => a - b;
  assert.deepEqual(mp.lines.data.map((l) => l.amount).sort(byAmount),
    [prorate(-3000, rem, P), prorate(5000, rem, P), 5000].sort(byAmount));
  assert.equal(mp.total, 5000 + prorate(-3000, rem, P) + prorate(5000, rem, P));
  await clockAdvance(stripe, c2, APR1 + HOUR + 60);
  const minv = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(mid.subscription)).latest_invoice);
  const ml = (await stripe.invoices.listLineItems(minv.id, { limit: 100 })).data;
  assert.deepEqual(ml.map(lineKey).sort(), mp.lines.data.map(lineKey).sort());
  for (const k of ['subtotal', 'total', 'period_start', 'period_end', 'created']) assert.equal(minv[k], mp[k], k);
});

// ---- a subscription still to be created: its first invoice, as the create then makes it ----

// the preview of a new subscription and the first invoice of the one then created alike: total,
// lines (amounts, periods, descriptions, quantities, discounts), taxes
async function sameFirstInvoice(prev, sub) {
  const inv = await stripe.invoices.retrieve(sub.latest_invoice);
  const lines = (await stripe.invoices.listLineItems(inv.id, { limit: 100 })).data;
  assert.deepEqual(prev.lines.data.map(lineKey), lines.map(lineKey));
  assert.deepEqual(prev.lines.data.map((l) => l.tax_amounts.map((t) => [t.amount, t.tax_rate])),
    lines.map((l) => l.tax_amounts.map((t) => [t.amount, t.tax_rate])));
  for (const k of ['subtotal', 'total', 'tax', 'currency', 'billing_reason', 'period_start', 'period_end', 'created']) {
    assert.deepEqual(prev[k], inv[k], k);
  }
  assert.deepEqual(prev.total_tax_amounts, inv.total_tax_amounts);
  assert.deepEqual(prev.total_discount_amounts.map((d) => d.amount), inv.total_discount_amounts.map((d) => d.amount));
  return inv;
}

test('a new subscription: its items, discounts, default_tax_rates and items\' tax_rates previewed (createPreview, upcoming, its lines) as the create then bills them; nothing written', async () => {
  const { customer } = await setup();
  const vat = await stripe.taxRates.create({ display_name: 'VAT', percentage: 10, inclusive: false });
  const reduced = await stripe.taxRates.create({ display_name: 'Reduced', percentage: 5, inclusive: false });
  const coupon = await stripe.coupons.create({ percent_off: 20, duration: 'forever' });
  const items = [{ price: monthly.id, quantity: 2 }, { price: pro.id, tax_rates: [reduced.id] }];
  const before = await snapshot(customer.id, [coupon.id]);
  const stored = storeState();

  const prev = await stripe.invoices.createPreview({
    customer: customer.id, discounts: [{ coupon: coupon.id }],
    subscription_details: { items, default_tax_rates: [vat.id] },
  });
  shape(prev);
  assert.match(prev.id, /^upcoming_in_/);
  assert.deepEqual([prev.status, prev.billing_reason, prev.subscription, prev.customer], ['draft', 'subscription_create', null, customer.id]);
  assert.equal(prev.created, T0);
  assert.deepEqual(prev.lines.data.map((l) => [l.amount, l.quantity, l.period.start, l.period.end]),
    [[6000, 2, T0, APR1], [5000, 1, T0, APR1]]);
  assert.deepEqual(prev.lines.data.map((l) => l.discount_amounts.map((d) => d.amount)), [[1200], [1000]]);
  assert.equal(prev.subtotal, 11000);
  // 10 % of 48.00 and 5 % of 40.00, after the coupon
  assert.deepEqual(prev.lines.data.map((l) => l.tax_amounts.map((t) => [t.amount, t.tax_rate])),
    [[[480, vat.id]], [[200, reduced.id]]]);
  assert.equal(prev.total, 11000 - 2200 + 680);
  // the older endpoint's flat names, and its lines paged
  const up = { customer: customer.id, discounts: [{ coupon: coupon.id }], subscription_items: items, subscription_default_tax_rates: [vat.id] };
  const old = await upcoming(up);
  shape(old);
  assert.deepEqual(old.lines.data.map(lineKey), prev.lines.data.map(lineKey));
  assert.equal(old.total, prev.total);
  const first = await upcomingLines({ ...up, limit: 1 });
  assert.deepEqual([first.data.length, first.has_more], [1, true]);
  const second = await upcomingLines({ ...up, limit: 1, starting_after: first.data[0].id });
  assert.deepEqual([...first.data, ...second.data].map(lineKey), prev.lines.data.map(lineKey));
  // invoice_items beside them: added to its first invoice
  const withItem = await stripe.invoices.createPreview({
    customer: customer.id, subscription_details: { items }, invoice_items: [{ amount: 700, currency: 'usd', description: 'Setup' }],
  });
  shape(withItem);
  assert.deepEqual([withItem.subtotal, withItem.total], [11000 + 700, 11000 + 700 + 250]); // pro's 5 %
  assert.ok(withItem.lines.data.some((l) => l.description === 'Setup' && l.amount === 700));
  assert.deepEqual(await snapshot(customer.id, [coupon.id]), before, 'a preview writes nothing');
  assert.deepEqual(storeState(), stored, 'the store is as it was');

  const sub = await stripe.subscriptions.create({
    customer: customer.id, items, default_tax_rates: [vat.id], discounts: [{ coupon: coupon.id }],
  });
  assert.equal(sub.status, 'active');
  const inv = await sameFirstInvoice(prev, sub);
  assert.equal(inv.total, 11000 - 2200 + 680);
});

test('items\' own discounts: subscription_details[items][n][discounts] (a new subscription, a change) and invoice_items[n][discounts], priced as the create, the update and the invoice then price them', async () => {
  const { customer } = await setup();
  const seat = await stripe.prices.create({ currency: 'usd', unit_amount: 3000, recurring: { interval: 'month' }, product_data: { name: 'Seat' } });
  const addon = await stripe.prices.create({ currency: 'usd', unit_amount: 5000, recurring: { interval: 'month' }, product_data: { name: 'Addon' } });
  const pct25 = await stripe.coupons.create({ percent_off: 25, duration: 'forever' });
  const off100 = await stripe.coupons.create({ amount_off: 100, currency: 'usd', duration: 'forever' });
  const before = await snapshot(customer.id, [pct25.id, off100.id]);
  const stored = storeState();
  // a bad coupon on an item is a 404 that writes nothing
  await assert.rejects(stripe.invoices.createPreview({
    customer: customer.id, subscription_details: { items: [{ price: seat.id, discounts: [{ coupon: 'nope' }] }] },
  }), (e) => e.statusCode === 404 && e.param === 'subscription_details[items][0][discounts][0][coupon]');
  await assert.rejects(stripe.invoices.createPreview({
    customer: customer.id, invoice_items: [{ amount: 1000, currency: 'usd', discounts: [{ coupon: 'nope' }] }],
  }), (e) => e.statusCode === 404 && e.param === 'invoice_items[0][discounts][0][coupon]');

  // a new subscription: 2 seats with their own 25 %, then the invoice's 100 off both lines
  const items = [{ price: seat.id, quantity: 2, discounts: [{ coupon: pct25.id }] }, { price: addon.id }];
  const prev = await stripe.invoices.createPreview({ customer: customer.id, discounts: [{ coupon: off100.id }], subscription_details: { items } });
  shape(prev);
  assert.equal(prev.subtotal, 11000);
  assert.deepEqual(prev.lines.data.map((l) => l.discounts.length), [1, 0]); // its own; the invoice's are the invoice's
  assert.equal(prev.total, 11000 - 1500 - 100);
  const old = await upcoming({ customer: customer.id, discounts: [{ coupon: off100.id }], subscription_items: items });
  assert.deepEqual(old.lines.data.map(lineKey), prev.lines.data.map(lineKey));
  assert.deepEqual(await snapshot(customer.id, [pct25.id, off100.id]), before, 'a preview writes nothing');
  assert.deepEqual(storeState(), stored, 'the store is as it was');
  const sub = await stripe.subscriptions.create({ customer: customer.id, items, discounts: [{ coupon: off100.id }] });
  const inv = await sameFirstInvoice(prev, sub);
  assert.equal(inv.total, 9400);

  // a change: the add-on's own 25 % from its next invoice on, as the update then makes it
  const addonItem = sub.items.data.find((i) => i.price.id === addon.id);
  const change = { items: [{ id: addonItem.id, discounts: [{ coupon: pct25.id }] }], proration_behavior: 'none' };
  const next = await stripe.invoices.createPreview({ subscription: sub.id, subscription_details: change });
  shape(next);
  assert.equal(next.total, 11000 - 1500 - 1250 - 100);
  const nextOld = await upcoming({ subscription: sub.id, subscription_items: change.items, subscription_proration_behavior: 'none' });
  assert.equal(nextOld.total, next.total);
  await stripe.subscriptions.update(sub.id, change);
  const after = await stripe.invoices.createPreview({ subscription: sub.id });
  assert.deepEqual(after.lines.data.map(lineKey), next.lines.data.map(lineKey));
  assert.equal(after.total, next.total);
  await stripe.subscriptions.cancel(sub.id);

  // invoice_items: the first item's own 25 %, then the invoice's 100 off both
  const extra = [{ amount: 1000, currency: 'usd', description: 'Setup', discounts: [{ coupon: pct25.id }] },
    { amount: 500, currency: 'usd', description: 'Travel' }];
  const one = await stripe.invoices.createPreview({ customer: customer.id, invoice_items: extra, discounts: [{ coupon: off100.id }] });
  shape(one);
  const setupLine = one.lines.data.find((l) => l.description === 'Setup');
  assert.equal(setupLine.discounts.length, 1);
  assert.equal(setupLine.discount_amounts.reduce((a, d) => a + d.amount, 0), 250 + 60);
  assert.deepEqual([one.subtotal, one.total], [1500, 1500 - 250 - 100]);
  for (const it of extra) await stripe.invoiceItems.create({ customer: customer.id, ...it });
  const real = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include', discounts: [{ coupon: off100.id }] });
  assert.equal(real.total, one.total);
  const realLines = (await stripe.invoices.listLineItems(real.id)).data;
  const amounts = (ls) => ls.map((l) => [l.description, l.discount_amounts.map((d) => d.amount).sort()]).sort();
  assert.deepEqual(amounts(one.lines.data), amounts(realLines));
});

test('a new subscription\'s trial_end, billing_cycle_anchor and start_date (later, earlier): previewed as the create then invoices them', async () => {
  const { clock, customer } = await setup();
  const items = [{ price: monthly.id }];
  const stored = storeState();
  // a trial: its 0 invoice
  const TE = T0 + 14 * DAY;
  const trial = await stripe.invoices.createPreview({ customer: customer.id, subscription_details: { items, trial_end: TE } });
  shape(trial);
  assert.deepEqual([trial.total, trial.created], [0, T0]);
  assert.deepEqual(trial.lines.data.map((l) => [l.amount, l.description, l.period.end]), [[0, 'Trial period for Team', TE]]);
  assert.equal((await upcoming({ customer: customer.id, subscription_items: items, subscription_trial_end: TE })).total, 0);
  // a later anchor: the prorated first period up to it (proration_behavior=none: nothing)
  const AN = T0 + 10 * DAY;
  const anchored = await stripe.invoices.createPreview({ customer: customer.id, subscription_details: { items, billing_cycle_anchor: AN } });
  shape(anchored);
  assert.deepEqual(anchored.lines.data.map((l) => [l.amount, l.period.start, l.period.end]), [[prorate(3000, 10 * DAY, 28 * DAY), T0, AN]]);
  const none = await upcoming({ customer: customer.id, subscription_items: items, subscription_billing_cycle_anchor: AN, subscription_proration_behavior: 'none' });
  assert.equal(none.total, 0);
  // started 5 days ago: backdated, as backdate_start_date bills it
  const past = await stripe.invoices.createPreview({ customer: customer.id, subscription_details: { items, start_date: T0 - 5 * DAY } });
  shape(past);
  assert.deepEqual(past.lines.data.map((l) => [l.amount, l.period.start]), [[3000, T0 - 5 * DAY]]);
  // a trial with a backdated start, as the create refuses it
  await assert.rejects(stripe.invoices.createPreview({ customer: customer.id, subscription_details: { items, start_date: T0 - DAY, trial_end: TE } }),
    (e) => e.statusCode === 400 && e.param === 'subscription_details[start_date]');
  // starting in 3 days: its first invoice then
  const LATER = T0 + 3 * DAY;
  const future = await upcoming({ customer: customer.id, subscription_items: items, subscription_start_date: LATER });
  shape(future);
  assert.deepEqual([future.created, future.total], [LATER, 3000]);
  assert.deepEqual(future.lines.data.map((l) => [l.period.start, l.period.end]), [[LATER, LATER + 31 * DAY]]);
  assert.deepEqual(storeState(), stored, 'previews write nothing');

  await sameFirstInvoice(trial, await stripe.subscriptions.create({ customer: customer.id, items, trial_end: TE }));
  await sameFirstInvoice(anchored, await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }], billing_cycle_anchor: AN }));
  await sameFirstInvoice(none, await stripe.subscriptions.create({ customer: customer.id, items, billing_cycle_anchor: AN, proration_behavior: 'none' }));
  await sameFirstInvoice(past, await stripe.subscriptions.create({ customer: customer.id, items, backdate_start_date: T0 - 5 * DAY }));
  await clockAdvance(stripe, clock, LATER);
  await sameFirstInvoice(future, await stripe.subscriptions.create({ customer: customer.id, items }));
});

test('a new subscription\'s refusals: Stripe\'s 400s for items the create refuses or that name an existing subscription, and nothing written', async () => {
  const { customer } = await setup();
  const eur = await stripe.prices.create({ currency: 'eur', unit_amount: 900, recurring: { interval: 'month' }, product });
  const yearly = await stripe.prices.create({ currency: 'usd', unit_amount: 30000, recurring: { interval: 'year' }, product });
  const once = await stripe.prices.create({ currency: 'usd', unit_amount: 500, product });
  const old = await stripe.prices.create({ currency: 'usd', unit_amount: 800, recurring: { interval: 'month' }, product });
  await stripe.prices.update(old.id, { active: false });
  const stored = storeState();
  const sd = (details) => stripe.invoices.createPreview({ customer: customer.id, subscription_details: details });
  for (const [details, param] of [
    [{ items: [{ quantity: 2 }] }, 'subscription_details[items][0]'],
    [{ items: [{ price: monthly.id }, { price: eur.id }] }, 'subscription_details[items][1]'],
    [{ items: [{ price: monthly.id }, { price: yearly.id }] }, 'subscription_details[items][1]'],
    [{ items: [{ price: once.id }] }, 'subscription_details[items][0][price]'],
    [{ items: [{ price: old.id }] }, 'subscription_details[items][0][price]'],
    [{ items: [{ id: 'si_x', price: monthly.id }] }, 'subscription_details[items][0][id]'],
    [{ items: [{ price: monthly.id, deleted: true }] }, 'subscription_details[items][0][deleted]'],
    [{ items: [{ price: monthly.id }], proration_date: T0 }, 'subscription_details[proration_date]'],
    [{ items: [{ price: monthly.id }], billing_cycle_anchor: 'now' }, 'subscription_details[billing_cycle_anchor]'],
    [{ items: [{ price: monthly.id }], billing_cycle_anchor: T0 + 40 * DAY }, 'subscription_details[billing_cycle_anchor]'],
    [{ items: [{ price: monthly.id }], trial_end: T0 - 1 }, 'subscription_details[trial_end]'],
    [{ trial_end: T0 + DAY }, 'subscription'],
    [{ items: [{ price: monthly.id }], billing_mode: { type: 'classic', flexible: { proration_discounts: 'included' } } },
      'subscription_details[billing_mode][flexible]'],
    [{ items: [{ price: monthly.id }], billing_mode: { type: 'flexible', flexible: { proration_discounts: 'gross' } } },
      'subscription_details[billing_mode][flexible][proration_discounts]'],
  ]) {
    await assert.rejects(sd(details), (e) => e.statusCode === 400 && e.param === param, JSON.stringify(details));
  }
  await assert.rejects(upcoming({ customer: customer.id, subscription_items: [{ price: 'price_nope' }] }),
    (e) => e.statusCode === 404 && e.param === 'subscription_items[0][price]');
  await assert.rejects(upcoming({ customer: customer.id, subscription_start_date: T0 + DAY }),
    (e) => e.statusCode === 400 && e.param === 'subscription_start_date');
  await assert.rejects(upcoming({ customer: customer.id, currency: 'eur', subscription_items: [{ price: monthly.id }] }),
    (e) => e.statusCode === 400 && e.param === 'subscription_items[0][price]');
  await assert.rejects(stripe.invoices.createPreview({ customer: customer.id, subscription_details: { items: [{ price: monthly.id }] }, invoice_items: [{ amount: 100, currency: 'eur' }] }),
    (e) => e.statusCode === 400 && e.param === 'invoice_items[0][currency]');
  // billing_mode: a first invoice has no prorations, so both modes preview the same one
  const [classic, flexible] = await Promise.all(['classic', 'flexible'].map((type) =>
    sd({ items: [{ price: monthly.id }], billing_mode: { type } })));
  assert.equal(classic.total, flexible.total);
  assert.deepEqual(storeState(), stored, 'refusals write nothing');
});

test('a new subscription taxed by Stripe Tax (automatic_tax, customer_details[address]) in another `currency`: previewed as the create then bills it', async () => {
  await stripe.tax.settings.update({
    defaults: { tax_behavior: 'exclusive' }, head_office: { address: { country: 'DE', city: 'Berlin', postal_code: '10117' } },
  });
  await stripe.tax.registrations.create({ country: 'DE', country_options: { de: { type: 'standard' } }, active_from: 'now' });
  // a clock a day ahead of the registration
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: Math.floor(Date.now() / 1000) + DAY });
  const customer = await stripe.customers.create({
    test_clock: clock.id, address: { line1: 'Unter den Linden 1', city: 'Berlin', postal_code: '10117', country: 'DE' },
    payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' },
  });
  const multi = await stripe.prices.create({
    currency: 'usd', unit_amount: 2000, currency_options: { eur: { unit_amount: 1800 } }, recurring: { interval: 'month' }, product,
  });
  const params = { customer: customer.id, currency: 'eur', automatic_tax: { enabled: true } };
  const items = [{ price: multi.id, quantity: 3 }];
  const txr = await stripe.taxRates.create({ display_name: 'VAT', percentage: 10, inclusive: false });
  const stored = storeState();
  const prev = await stripe.invoices.createPreview({ ...params, subscription_details: { items } });
  shape(prev);
  assert.deepEqual([prev.currency, prev.subtotal, prev.automatic_tax.enabled], ['eur', 5400, true]);
  assert.deepEqual([prev.tax, prev.total], [1026, 6426]); // 19 % of 54.00
  const old = await upcoming({ ...params, subscription_items: items });
  assert.deepEqual([old.lines.data.map(lineKey), old.total], [prev.lines.data.map(lineKey), prev.total]);
  // placed by customer_details[address] where nothing is registered: untaxed
  const elsewhere = await stripe.invoices.createPreview({
    ...params, customer_details: { address: { line1: '1-1 Chiyoda', city: 'Tokyo', postal_code: '100-0001', country: 'JP' } },
    subscription_details: { items },
  });
  assert.deepEqual([elsewhere.subtotal, elsewhere.total], [5400, 5400]);
  // default_tax_rates with automatic tax: refused, as the create refuses it
  await assert.rejects(stripe.invoices.createPreview({ ...params, subscription_details: { items, default_tax_rates: [txr.id] } }),
    (e) => e.statusCode === 400 && e.param === 'subscription_details[default_tax_rates]');
  assert.deepEqual(storeState(), stored, 'previews write nothing');
  const sub = await stripe.subscriptions.create({ ...params, items });
  await sameFirstInvoice(prev, sub);
});

test('schedule_details: a new schedule\'s first phase (its coupon, a trial, a later start) previewed as the schedule then invoices it', async () => {
  const { clock, customer } = await setup();
  const coupon = await stripe.coupons.create({ percent_off: 10, duration: 'forever' });
  const phases = [
    { items: [{ price: monthly.id, quantity: 2 }], discounts: [{ coupon: coupon.id }], iterations: 1 },
    { items: [{ price: pro.id }], iterations: 1 },
  ];
  const TE = T0 + 7 * DAY;
  const trialPhases = [{ items: [{ price: monthly.id }], trial_end: TE, iterations: 1 }];
  const LATER = T0 + 2 * DAY;
  const laterPhases = [{ items: [{ price: pro.id }], iterations: 1 }];
  const stored = storeState();
  const prev = await stripe.invoices.createPreview({ customer: customer.id, schedule_details: { phases, end_behavior: 'release' } });
  shape(prev);
  assert.deepEqual([prev.billing_reason, prev.subscription, prev.created, prev.subtotal, prev.total], ['subscription_create', null, T0, 6000, 5400]);
  const trial = await stripe.invoices.createPreview({ customer: customer.id, schedule_details: { phases: trialPhases } });
  assert.deepEqual(trial.lines.data.map((l) => [l.amount, l.period.end]), [[0, TE]]);
  const later = await stripe.invoices.createPreview({
    customer: customer.id, schedule_details: { phases: [{ ...laterPhases[0], start_date: LATER }] },
  });
  assert.deepEqual([later.created, later.total], [LATER, 5000]);
  for (const [params, status, param] of [
    [{ schedule_details: { phases }, discounts: [{ coupon: coupon.id }] }, 400, 'discounts'],
    [{ schedule_details: { phases }, subscription_details: { items: [{ price: pro.id }] } }, 400, 'schedule_details'],
    [{ schedule_details: { phases: [{ items: [{ price: 'price_nope' }] }] } }, 404, 'schedule_details[phases][0][items][0][price]'],
    [{ schedule_details: { phases: [{ items: [{ price: monthly.id }], start_date: T0 - DAY }] } }, 400, 'schedule_details[phases][0][start_date]'],
    [{ schedule_details: { end_behavior: 'release' } }, 400, 'schedule_details[phases]'],
  ]) {
    await assert.rejects(stripe.invoices.createPreview({ customer: customer.id, ...params }),
      (e) => e.statusCode === status && e.param === param, JSON.stringify(params));
  }
  assert.deepEqual(storeState(), stored, 'previews write nothing');

  const sched = await stripe.subscriptionSchedules.create({ customer: customer.id, phases, end_behavior: 'release' });
  await sameFirstInvoice(prev, await stripe.subscriptions.retrieve(sched.subscription));
  const withTrial = await stripe.subscriptionSchedules.create({ customer: customer.id, phases: trialPhases });
  await sameFirstInvoice(trial, await stripe.subscriptions.retrieve(withTrial.subscription));
  const starting = await stripe.subscriptionSchedules.create({ customer: customer.id, start_date: LATER, phases: laterPhases });
  await clockAdvance(stripe, clock, LATER);
  let started;
  for (const deadline = Date.now() + 30000; Date.now() < deadline;) {
    started = await stripe.subscriptionSchedules.retrieve(starting.id);
    if (started.subscription) break;
    await new Promise((res) => setTimeout(res, 200));
  }
  assert.ok(started.subscription, 'the schedule started');
  await sameFirstInvoice(later, await stripe.subscriptions.retrieve(started.subscription));
});
