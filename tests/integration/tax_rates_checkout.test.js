'use strict';
// Tax rates on Checkout Sessions and quotes, through stripe-node: line_items[n][tax_rates]
// (exclusive and inclusive) on sessions in mode=payment and mode=subscription, paid on Tender's
// checkout page in headless Chromium (the page shows the tax, the payment charges the taxed
// total, the session's subscription items carry the rates so its invoices are taxed); quotes'
// default_tax_rates[] and line_items[n][tax_rates], their amounts, `computed` and line items,
// and the invoice or subscription an accepted quote makes coming to the same totals. Archived
// rates and another merchant's rates are refused; payment links take no tax rates (Stripe's
// spec has none). Objects are checked against Stripe's OpenAPI spec.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { startTender, stopAll, assertStripeShape, launchChromium } = require('./helpers');
const { billingShape } = require('./billing_helpers');

let env;
let stripe;
let other;
let browser;
let shop;
let shopPort;
let book; // 10.00 eur, one-time
let pen; // 15.00 eur, one-time
let monthly; // 20.00 eur / month
let vat; // 20 % exclusive
let incl; // 10 % inclusive
let archived; // 5 % exclusive, archived
let othersRate; // the other merchant's

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
  shop = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>Shop</title><h1 id="back">back</h1>');
  });
  await new Promise((r) => shop.listen(0, '127.0.0.1', r));
  shopPort = shop.address().port;
  browser = await launchChromium();
  book = await stripe.prices.create({ currency: 'eur', unit_amount: 1000, product_data: { name: 'Book' } });
  pen = await stripe.prices.create({ currency: 'eur', unit_amount: 1500, product_data: { name: 'Pen' } });
  monthly = await stripe.prices.create({ currency: 'eur', unit_amount: 2000, recurring: { interval: 'month' }, product_data: { name: 'Pro plan' } });
  vat = await stripe.taxRates.create({ display_name: 'VAT', percentage: 20, inclusive: false, country: 'DE' });
  incl = await stripe.taxRates.create({ display_name: 'GST', percentage: 10, inclusive: true });
  archived = await stripe.taxRates.create({ display_name: 'Old', percentage: 5, inclusive: false });
  await stripe.taxRates.update(archived.id, { active: false });
  othersRate = await other.taxRates.create({ display_name: 'Theirs', percentage: 7, inclusive: false });
});
after(async () => {
  if (browser) await browser.close();
  if (shop) shop.close();
  await stopAll();
});

const urls = () => ({
  success_url: `http://127.0.0.1:${shopPort}/ok?session_id={CHECKOUT_SESSION_ID}`,
  cancel_url: `http://127.0.0.1:${shopPort}/cancel`,
});

async function fillCard(page) {
  await page.getByLabel('Name on card').fill('Ada Lovelace');
  await page.getByLabel('Card number').fill('4242424242424242');
  await page.getByLabel('Month (MM)').fill('10');
  await page.getByLabel('Year (YYYY)').fill('2035');
  await page.getByLabel('CVC').fill('321');
}

const invoiceShape = (inv) => billingShape(inv, 'invoice');

test('mode=payment: exclusive and inclusive rates in the amounts, the line items and the page; the payment charges the taxed total', async () => {
  const s = await stripe.checkout.sessions.create({
    mode: 'payment', ...urls(),
    line_items: [{ price: book.id, quantity: 2, tax_rates: [vat.id] }, { price: pen.id, tax_rates: [incl.id] }],
  });
  // 2 × 1000 at 20 % on top: 400; 1500 with 10 % inside: 1500 × 10 / 110 = 136.36 → 136
  assert.equal(s.amount_subtotal, 3500);
  assert.equal(s.amount_total, 3900);
  assert.deepEqual(s.total_details, { amount_discount: 0, amount_shipping: 0, amount_tax: 536 });
  assertStripeShape(s, 'checkout.session');
  const items = await stripe.checkout.sessions.listLineItems(s.id, { expand: ['data.taxes'] });
  for (const it of items.data) assertStripeShape(it, 'item');
  assert.deepEqual(items.data.map((i) => [i.amount_subtotal, i.amount_discount, i.amount_tax, i.amount_total]),
    [[2000, 0, 400, 2400], [1500, 0, 136, 1500]]);
  assert.equal(items.data[0].taxes.length, 1);
  assert.equal(items.data[0].taxes[0].rate.id, vat.id);
  assert.equal(items.data[0].taxes[0].rate.percentage, 20);
  assert.equal(items.data[0].taxes[0].amount, 400);
  assert.equal(items.data[0].taxes[0].taxable_amount, 2000);
  assert.equal(items.data[1].taxes[0].rate.id, incl.id);
  assert.equal(items.data[1].taxes[0].rate.inclusive, true);
  assert.equal(items.data[1].taxes[0].taxable_amount, 1364);
  // taxes are includable: not there unless asked for
  const plain = await stripe.checkout.sessions.listLineItems(s.id);
  assert.equal(plain.data[0].taxes, undefined);

  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.textContent('#subtotal'), '35.00 EUR');
  assert.equal(await page.textContent('#tax'), '4.00 EUR');
  assert.equal(await page.textContent('#tax-included'), '1.36 EUR');
  assert.equal(await page.textContent('#total'), '39.00 EUR');
  await fillCard(page);
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /Pay 39\.00 EUR/ }).click()]);
  await page.close();

  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'paid');
  assert.equal(done.amount_total, 3900);
  assert.equal(done.total_details.amount_tax, 536);
  assertStripeShape(done, 'checkout.session');
  const pi = await stripe.paymentIntents.retrieve(done.payment_intent);
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.amount, 3900);
  const ev = (await stripe.events.list({ type: 'checkout.session.completed', limit: 20 })).data
    .filter((e) => e.data.object.id === s.id);
  assert.equal(ev.length, 1);
  assert.equal(ev[0].data.object.total_details.amount_tax, 536);
});

test('a discount is taken before the taxes, per line, as an invoice takes it', async () => {
  const coupon = await stripe.coupons.create({ percent_off: 10, duration: 'once' });
  const s = await stripe.checkout.sessions.create({
    mode: 'payment', ...urls(), discounts: [{ coupon: coupon.id }],
    line_items: [{ price: book.id, quantity: 2, tax_rates: [vat.id] }, { price: pen.id, tax_rates: [incl.id] }],
  });
  // 2000 − 200 = 1800 → 360 on top; 1500 − 150 = 1350 → 1350 × 10 / 110 = 122.7 → 123 inside
  assert.equal(s.amount_subtotal, 3500);
  assert.equal(s.amount_total, 3500 - 350 + 360);
  assert.deepEqual(s.total_details, { amount_discount: 350, amount_shipping: 0, amount_tax: 483 });
  assertStripeShape(s, 'checkout.session');
  const items = await stripe.checkout.sessions.listLineItems(s.id);
  assert.deepEqual(items.data.map((i) => [i.amount_discount, i.amount_tax, i.amount_total]),
    [[200, 360, 2160], [150, 123, 1350]]);
  // two rates on one line: each on the line's amount
  const both = await stripe.checkout.sessions.create({
    mode: 'payment', ...urls(), line_items: [{ price: pen.id, tax_rates: [vat.id, incl.id] }],
  });
  // inclusive 1500 × 10 / 110 = 136; exclusive on the net 1364 × 20 % = 272.8 → 273
  assert.equal(both.amount_total, 1500 + 273);
  assert.equal(both.total_details.amount_tax, 136 + 273);
});

test('mode=subscription: the first invoice is taxed, paid in the browser; the subscription items carry the rates', async () => {
  const s = await stripe.checkout.sessions.create({
    mode: 'subscription', ...urls(), customer_email: 'grace@example.com',
    line_items: [{ price: monthly.id, tax_rates: [vat.id] }],
  });
  assert.equal(s.amount_subtotal, 2000);
  assert.equal(s.amount_total, 2400);
  assert.equal(s.total_details.amount_tax, 400);
  assertStripeShape(s, 'checkout.session');

  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.textContent('#tax'), '4.00 EUR');
  assert.equal(await page.textContent('#total'), '24.00 EUR');
  await fillCard(page);
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: 'Subscribe' }).click()]);
  await page.close();

  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'paid');
  assertStripeShape(done, 'checkout.session');
  const sub = await stripe.subscriptions.retrieve(done.subscription);
  assert.equal(sub.status, 'active');
  assert.deepEqual(sub.items.data[0].tax_rates.map((t) => t.id), [vat.id]);
  const inv = await stripe.invoices.retrieve(done.invoice);
  invoiceShape(inv);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.subtotal, 2000);
  assert.equal(inv.total, 2400);
  assert.equal(inv.amount_paid, 2400);
  assert.deepEqual(inv.total_taxes.map((t) => [t.tax_rate_details.tax_rate, t.amount]), [[vat.id, 400]]);
  const lines = await stripe.invoices.listLineItems(inv.id);
  assert.deepEqual(lines.data[0].tax_rates.map((t) => t.id), [vat.id]);
  // the renewal's preview takes the item's rates too
  const next = await stripe.invoices.createPreview({ subscription: sub.id });
  assert.equal(next.total, 2400);
});

test('refused: an archived rate, another merchant\'s rate, dynamic_tax_rates; payment links take no tax rates', async () => {
  const base = { mode: 'payment', ...urls() };
  await assert.rejects(stripe.checkout.sessions.create({ ...base, line_items: [{ price: book.id, tax_rates: [archived.id] }] }),
    (e) => e.statusCode === 400 && e.param === 'line_items[0][tax_rates]' && /archived/.test(e.message));
  await assert.rejects(stripe.checkout.sessions.create({ ...base, line_items: [{ price: book.id, tax_rates: [othersRate.id] }] }),
    (e) => e.statusCode === 404 && e.code === 'resource_missing' && e.param === 'line_items[0][tax_rates]');
  // dynamic_tax_rates (checkout_tax_breakdown.test.js) are not taken next to fixed rates
  await assert.rejects(stripe.checkout.sessions.create({ ...base, line_items: [{ price: book.id, tax_rates: [incl.id], dynamic_tax_rates: [vat.id] }] }),
    (e) => e.statusCode === 400 && e.param === 'line_items[0][dynamic_tax_rates]');
  await assert.rejects(stripe.paymentLinks.create({ line_items: [{ price: book.id, quantity: 1, tax_rates: [vat.id] }] }),
    (e) => e.statusCode === 400);
  // the other merchant's session cannot use ours either
  const theirs = await other.prices.create({ currency: 'eur', unit_amount: 500, product_data: { name: 'X' } });
  await assert.rejects(other.checkout.sessions.create({ ...base, line_items: [{ price: theirs.id, tax_rates: [vat.id] }] }),
    (e) => e.statusCode === 404);
  // an archived rate keeps working where it was applied: archive one a session uses
  const soon = await stripe.taxRates.create({ display_name: 'Soon old', percentage: 10, inclusive: false });
  const s = await stripe.checkout.sessions.create({ ...base, line_items: [{ price: book.id, tax_rates: [soon.id] }] });
  await stripe.taxRates.update(soon.id, { active: false });
  const again = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(again.amount_total, 1100);
  // a payment link's sessions are untaxed, as its items are
  const link = await stripe.paymentLinks.create({ line_items: [{ price: book.id, quantity: 1 }] });
  const li = await stripe.paymentLinks.listLineItems(link.id);
  assert.equal(li.data[0].amount_tax, 0);
});

async function customerWithCard() {
  return stripe.customers.create({
    email: 'jenny@example.com', payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' },
  });
}

test('a quote\'s default_tax_rates and line tax_rates: its amounts, computed, line items, and the invoice accepting it makes', async () => {
  const cus = await customerWithCard();
  const coupon = await stripe.coupons.create({ percent_off: 10, duration: 'once' });
  const q = await stripe.quotes.create({
    customer: cus.id, default_tax_rates: [vat.id], discounts: [{ coupon: coupon.id }],
    line_items: [{ price: book.id, quantity: 3 }, { price: pen.id, tax_rates: [incl.id] }],
  });
  billingShape(q, 'quote');
  assert.deepEqual(q.default_tax_rates.map((t) => t.id), [vat.id]);
  // 3000 − 300 = 2700 → 540 on top (the default); 1500 − 150 = 1350 → 123 inside (its own)
  assert.equal(q.amount_subtotal, 4500);
  assert.equal(q.amount_total, 4500 - 450 + 540);
  assert.equal(q.total_details.amount_discount, 450);
  assert.equal(q.total_details.amount_tax, 663);
  assert.equal(q.computed.upfront.amount_total, 4590);
  assert.equal(q.computed.upfront.total_details.amount_tax, 663);
  const lines = await stripe.quotes.listLineItems(q.id, { expand: ['data.taxes'] });
  for (const it of lines.data) billingShape(it, 'item');
  assert.deepEqual(lines.data.map((l) => [l.amount_discount, l.amount_tax, l.amount_total]), [[300, 540, 3240], [150, 123, 1350]]);
  assert.equal(lines.data[0].taxes[0].rate.id, vat.id);
  assert.equal(lines.data[1].taxes[0].rate.id, incl.id);
  assert.equal(lines.data[1].taxes[0].taxable_amount, 1227);
  const x = await stripe.quotes.retrieve(q.id, { expand: ['line_items.data.taxes', 'computed.upfront.line_items.data.taxes'] });
  billingShape(x, 'quote');
  assert.equal(x.line_items.data[0].taxes[0].amount, 540);
  assert.equal(x.computed.upfront.line_items.data[1].taxes[0].amount, 123);

  // a draft's update: '' removes the defaults, the line's own stay
  const upd = await stripe.quotes.update(q.id, { default_tax_rates: '' });
  assert.deepEqual(upd.default_tax_rates, []);
  assert.equal(upd.amount_total, 4050);
  assert.equal(upd.total_details.amount_tax, 123);
  const back = await stripe.quotes.update(q.id, { default_tax_rates: [vat.id] });
  assert.equal(back.amount_total, 4590);

  await stripe.quotes.finalizeQuote(q.id);
  const acc = await stripe.quotes.accept(q.id);
  billingShape(acc, 'quote');
  assert.equal(acc.total_details.amount_tax, 663);
  const inv = await stripe.invoices.retrieve(acc.invoice);
  invoiceShape(inv);
  assert.deepEqual(inv.default_tax_rates.map((t) => t.id), [vat.id]);
  assert.equal(inv.subtotal, 4500);
  assert.equal(inv.total, acc.amount_total);
  const il = await stripe.invoices.listLineItems(inv.id);
  assert.deepEqual(il.data.map((l) => l.taxes.map((t) => t.amount)).sort(), [[123], [540]].sort());
  const fin = await stripe.invoices.finalizeInvoice(inv.id, { auto_advance: false });
  assert.equal(fin.amount_due, 4590);
  const paid = await stripe.invoices.pay(inv.id);
  assert.equal(paid.status, 'paid');
  assert.equal(paid.amount_paid, 4590);
});

test('a recurring quote: computed.recurring is taxed and its subscription carries the rates', async () => {
  const cus = await customerWithCard();
  const seat = await stripe.prices.create({ currency: 'eur', unit_amount: 300, recurring: { interval: 'month' }, product_data: { name: 'Seat' } });
  const q = await stripe.quotes.create({
    customer: cus.id, default_tax_rates: [vat.id],
    line_items: [{ price: monthly.id }, { price: seat.id, quantity: 2, tax_rates: [incl.id] }],
  });
  // 2000 → 400 on top; 600 → 600 × 10 / 110 = 54.5 → 55 inside
  assert.equal(q.amount_total, 3000);
  assert.equal(q.total_details.amount_tax, 455);
  assert.equal(q.computed.recurring.amount_total, 3000);
  assert.equal(q.computed.recurring.total_details.amount_tax, 455);
  assert.equal(q.computed.upfront.amount_total, 3000);
  billingShape(q, 'quote');
  await stripe.quotes.finalizeQuote(q.id);
  const acc = await stripe.quotes.accept(q.id);
  assert.equal(acc.status, 'accepted');
  const sub = await stripe.subscriptions.retrieve(acc.subscription);
  assert.equal(sub.status, 'active');
  assert.deepEqual(sub.default_tax_rates.map((t) => t.id), [vat.id]);
  const byPrice = Object.fromEntries(sub.items.data.map((i) => [i.price.id, i.tax_rates.map((t) => t.id)]));
  assert.deepEqual(byPrice[monthly.id], []);
  assert.deepEqual(byPrice[seat.id], [incl.id]);
  const inv = await stripe.invoices.retrieve(sub.latest_invoice);
  invoiceShape(inv);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.total, 3000);
});

test('a rate archived between a quote and its acceptance keeps applying to what the quote makes', async () => {
  const cus = await customerWithCard();
  const soonOne = await stripe.taxRates.create({ display_name: 'Retiring', percentage: 10, inclusive: false });
  const soonSub = await stripe.taxRates.create({ display_name: 'Retiring too', percentage: 20, inclusive: false });
  const seat = await stripe.prices.create({ currency: 'eur', unit_amount: 500, recurring: { interval: 'month' }, product_data: { name: 'Seat' } });
  const one = await stripe.quotes.create({ customer: cus.id, default_tax_rates: [soonOne.id], line_items: [{ price: book.id }] });
  const rec = await stripe.quotes.create({ customer: cus.id, line_items: [{ price: seat.id, tax_rates: [soonSub.id] }] });
  assert.deepEqual([one.amount_total, rec.amount_total], [1100, 600]);
  await stripe.quotes.finalizeQuote(one.id);
  await stripe.quotes.finalizeQuote(rec.id);
  await stripe.taxRates.update(soonOne.id, { active: false });
  await stripe.taxRates.update(soonSub.id, { active: false });
  const a1 = await stripe.quotes.accept(one.id);
  const inv = await stripe.invoices.retrieve(a1.invoice);
  assert.deepEqual([inv.total, inv.default_tax_rates.map((t) => t.id)], [1100, [soonOne.id]]);
  const a2 = await stripe.quotes.accept(rec.id);
  const sub = await stripe.subscriptions.retrieve(a2.subscription);
  assert.deepEqual(sub.items.data[0].tax_rates.map((t) => t.id), [soonSub.id]);
  assert.equal((await stripe.invoices.retrieve(sub.latest_invoice)).total, 600);
  // but a new use of either is still refused
  await assert.rejects(stripe.quotes.create({ customer: cus.id, default_tax_rates: [soonOne.id], line_items: [{ price: book.id }] }),
    (e) => e.statusCode === 400 && /archived/.test(e.message));
});

test('quotes refuse an archived rate and another merchant\'s, and tell nobody else about theirs', async () => {
  const cus = await customerWithCard();
  await assert.rejects(stripe.quotes.create({ customer: cus.id, default_tax_rates: [archived.id], line_items: [{ price: book.id }] }),
    (e) => e.statusCode === 400 && e.param === 'default_tax_rates');
  await assert.rejects(stripe.quotes.create({ customer: cus.id, line_items: [{ price: book.id, tax_rates: [archived.id] }] }),
    (e) => e.statusCode === 400 && e.param === 'line_items[0][tax_rates]');
  await assert.rejects(stripe.quotes.create({ customer: cus.id, default_tax_rates: [othersRate.id], line_items: [{ price: book.id }] }),
    (e) => e.statusCode === 404 && e.param === 'default_tax_rates');
  await assert.rejects(stripe.quotes.create({ customer: cus.id, line_items: [{ price: book.id, tax_rates: [othersRate.id] }] }),
    (e) => e.statusCode === 404 && e.param === 'line_items[0][tax_rates]');
  // nothing was made by the refusals
  const list = await stripe.quotes.list({ customer: cus.id });
  assert.equal(list.data.length, 0);
});
