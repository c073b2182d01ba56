'use strict';
// Stripe Tax (automatic_tax[enabled]) beyond invoices, through stripe-node and headless Chromium
// (Debian's chromium + playwright-core): Checkout Sessions in mode=payment and
// mode=subscription (the page asks for the address, the session is priced again with the
// engine's tax, and the session, its line items, the PaymentIntent and the subscription's
// invoices agree), a customer's own address (reverse charged: an entry of 0 with
// taxability_reason reverse_charge), an unregistered country (not_collecting), the refusals;
// the exemption reasons on invoices. Objects are checked against Stripe's OpenAPI spec.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { startTender, stopAll, assertStripeShape, launchChromium } = require('./helpers');
const { billingShape } = require('./billing_helpers');

let env;
let stripe;
let browser;
let shop;
let shopPort;
let book; // 10.00 eur, one-time
let monthly; // 20.00 eur / month

const DE = { line1: 'Unter den Linden 1', city: 'Berlin', postal_code: '10117', country: 'DE' };
const FR = { line1: '1 Rue de Rivoli', city: 'Paris', postal_code: '75001', country: 'FR' };
const DE_VAT = 'txr_autoDEvat_190000e';

before(async () => {
  env = await startTender();
  stripe = env.stripe();
  shop = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>Shop</title><h1 id="back">back</h1>');
  });
  await new Promise((r) => shop.listen(0, '127.0.0.1', r));
  shopPort = shop.address().port;
  browser = await launchChromium();
  await stripe.tax.settings.update({
    defaults: { tax_behavior: 'exclusive' },
    head_office: { address: { country: 'DE', city: 'Berlin', postal_code: '10117' } },
  });
  await stripe.tax.registrations.create({ country: 'DE', country_options: { de: { type: 'standard' } }, active_from: 'now' });
  await stripe.tax.registrations.create({
    country: 'US', country_options: { us: { type: 'state_sales_tax', state: 'CA' } }, active_from: 'now',
  });
  book = await stripe.prices.create({ currency: 'eur', unit_amount: 1000, product_data: { name: 'Book' } });
  monthly = await stripe.prices.create({ currency: 'eur', unit_amount: 2000, recurring: { interval: 'month' }, product_data: { name: 'Pro plan' } });
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

// The page's address form: fill it and post it (the page comes back by GET).
async function giveAddress(page, { country, state = '', postal = '' }) {
  await page.getByLabel('Postal code').fill(postal);
  await page.getByLabel('State or region').fill(state);
  await page.getByLabel('Country (two-letter code)').fill(country);
  await Promise.all([page.waitForURL(/\/checkout\/[^/]+\/cs_[^/]+$/),
    page.locator('fieldset#billing-address button').click()]);
}

const taxes = (list) => list.map((t) => [t.rate.id, t.amount, t.taxable_amount, t.taxability_reason]);

// a PDF's text (pdftotext, poppler-utils), as documents.test.js reads it
function pdfText(buf) {
  const f = path.join(os.tmpdir(), `tender-atax-${process.pid}-${Math.random().toString(36).slice(2)}.pdf`);
  fs.writeFileSync(f, buf);
  try {
    return execFileSync('pdftotext', ['-layout', f, '-'], { encoding: 'utf8' });
  } finally {
    fs.unlinkSync(f);
  }
}

async function fails(p, status, param, re) {
  await assert.rejects(p, (e) => {
    assert.equal(e.statusCode, status, e.message);
    if (param) assert.equal(e.param, param, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

test('mode=payment: requires_location_inputs until the page is given an address, then taxed everywhere; the payment charges it', async () => {
  const s = await stripe.checkout.sessions.create({
    mode: 'payment', ...urls(), automatic_tax: { enabled: true },
    line_items: [{ price: book.id, quantity: 2 }],
  });
  assertStripeShape(s, 'checkout.session');
  assert.deepEqual(s.automatic_tax, { enabled: true, liability: { type: 'self' }, provider: 'stripe', status: 'requires_location_inputs' });
  assert.equal(s.amount_total, 2000);
  assert.equal(s.total_details.amount_tax, 0);

  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.locator('#address-first').count(), 1);
  assert.equal(await page.getByLabel('Card number').count(), 0); // no card before the tax is known
  // an unregistered country: located, no tax, an entry of 0 saying why
  await giveAddress(page, { country: 'JP', postal: '100-0001' });
  let cur = await stripe.checkout.sessions.retrieve(s.id, { expand: ['total_details.breakdown'] });
  assertStripeShape(cur, 'checkout.session');
  assert.equal(cur.automatic_tax.status, 'complete');
  assert.equal(cur.total_details.amount_tax, 0);
  assert.equal(cur.amount_total, 2000);
  assert.deepEqual(taxes(cur.total_details.breakdown.taxes), [['txr_autoJPjct_0e_nc', 0, 0, 'not_collecting']]);
  assert.equal(await page.locator('#tax').count(), 0);
  // Canada without a province or postal code is not a place: refused on the page
  await page.getByLabel('Postal code').fill('');
  await page.getByLabel('State or region').fill('');
  await page.getByLabel('Country (two-letter code)').fill('CA');
  await page.locator('fieldset#billing-address button').click();
  await page.waitForSelector('p.error');
  assert.match(await page.textContent('p.error'), /address the tax can be worked out/);
  await page.goto(s.url);
  // Germany: 19 % of 2000
  await giveAddress(page, { country: 'DE', postal: '10115' });
  cur = await stripe.checkout.sessions.retrieve(s.id, { expand: ['total_details.breakdown'] });
  assertStripeShape(cur, 'checkout.session');
  assert.equal(cur.automatic_tax.status, 'complete');
  assert.equal(cur.customer_details.address.country, 'DE');
  assert.equal(cur.amount_subtotal, 2000);
  assert.equal(cur.total_details.amount_tax, 380);
  assert.equal(cur.amount_total, 2380);
  assert.deepEqual(taxes(cur.total_details.breakdown.taxes), [[DE_VAT, 380, 2000, 'standard_rated']]);
  const rate = cur.total_details.breakdown.taxes[0].rate;
  assert.equal(rate.percentage, 19);
  assert.equal(rate.country, 'DE');
  assert.equal(await page.textContent('#tax'), '3.80 EUR');
  assert.equal(await page.textContent('#total'), '23.80 EUR');
  const items = await stripe.checkout.sessions.listLineItems(s.id, { expand: ['data.taxes'] });
  for (const it of items.data) assertStripeShape(it, 'item');
  assert.deepEqual(items.data.map((i) => [i.amount_subtotal, i.amount_tax, i.amount_total]), [[2000, 380, 2380]]);
  assert.deepEqual(taxes(items.data[0].taxes), [[DE_VAT, 380, 2000, 'standard_rated']]);

  await fillCard(page);
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /Pay 23\.80 EUR/ }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id, { expand: ['payment_intent'] });
  assert.equal(done.status, 'complete');
  assert.equal(done.amount_total, 2380);
  assert.equal(done.payment_intent.amount, 2380);
  assert.equal(done.payment_intent.status, 'succeeded');
  const ev = (await stripe.events.list({ type: 'checkout.session.completed', limit: 10 })).data
    .filter((e) => e.data.object.id === s.id);
  assert.equal(ev.length, 1);
  assert.equal(ev[0].data.object.total_details.amount_tax, 380);
  assert.equal(ev[0].data.object.automatic_tax.status, 'complete');
});

test('mode=subscription: the new customer is taxed where it said, the subscription has automatic_tax and its invoices are taxed', async () => {
  const s = await stripe.checkout.sessions.create({
    mode: 'subscription', ...urls(), customer_email: 'grace@example.com', automatic_tax: { enabled: true },
    line_items: [{ price: monthly.id }],
  });
  assert.equal(s.automatic_tax.status, 'requires_location_inputs');
  const page = await browser.newPage();
  await page.goto(s.url);
  const refused = await page.request.post(s.url, { form: { 'payment_method_data[type]': 'card', 'payment_method_data[card][number]': '4242424242424242' } });
  assert.equal(refused.status(), 400);
  // California: 7.25 % of 2000 = 145
  await giveAddress(page, { country: 'US', state: 'CA', postal: '94080' });
  assert.equal(await page.textContent('#tax'), '1.45 EUR');
  assert.equal(await page.textContent('#total'), '21.45 EUR');
  await fillCard(page);
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: 'Subscribe' }).click()]);
  await page.close();

  assertStripeShape(await stripe.checkout.sessions.retrieve(s.id), 'checkout.session');
  const done = await stripe.checkout.sessions.retrieve(s.id, { expand: ['subscription', 'invoice', 'customer'] });
  assert.equal(done.status, 'complete');
  assert.equal(done.amount_total, 2145);
  assert.equal(done.total_details.amount_tax, 145);
  assert.equal(done.subscription.automatic_tax.enabled, true);
  assert.equal(done.customer.address.state, 'CA');
  const inv = done.invoice;
  billingShape(inv, 'invoice');
  assert.equal(inv.automatic_tax.enabled, true);
  assert.equal(inv.total, 2145);
  assert.equal(inv.amount_paid, 2145);
  assert.deepEqual(inv.total_tax_amounts.map((t) => [t.tax_rate, t.amount, t.taxability_reason]),
    [['txr_autoUSCAsales_tax_72500e', 145, 'standard_rated']]);
  const withPay = await stripe.invoices.retrieve(inv.id, { expand: ['payments'] });
  const pi = await stripe.paymentIntents.retrieve(withPay.payments.data[0].payment.payment_intent);
  assert.equal(pi.amount, 2145);
  // the renewal is taxed the same way
  const next = await stripe.invoices.createPreview({ subscription: done.subscription.id });
  assert.equal(next.total, 2145);
});

test('with shipping_address_collection the tax is the shipping address\'s: asked first, the order ships there', async () => {
  const s = await stripe.checkout.sessions.create({
    mode: 'payment', ...urls(), automatic_tax: { enabled: true },
    line_items: [{ price: book.id }],
    shipping_address_collection: { allowed_countries: ['DE', 'FR'] },
    shipping_options: [{ shipping_rate_data: { display_name: 'Post', type: 'fixed_amount', fixed_amount: { amount: 500, currency: 'eur' } } }],
  });
  assert.equal(s.automatic_tax.status, 'requires_location_inputs');
  assert.equal(s.amount_total, 1500);
  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.textContent('fieldset#billing-address legend'), 'Shipping address');
  await page.getByLabel('Country (two-letter code)').fill('US');
  await page.getByLabel('State or region').fill('CA');
  await page.getByLabel('Postal code').fill('94080');
  await page.locator('fieldset#billing-address button').click();
  await page.waitForSelector('p.error');
  assert.match(await page.textContent('p.error'), /does not ship to that country/);
  await page.goto(s.url);
  await giveAddress(page, { country: 'DE', postal: '10117' });
  // 19 % of the book (1000); shipping is not taxed
  assert.equal(await page.textContent('#tax'), '1.90 EUR');
  assert.equal(await page.textContent('#total'), '16.90 EUR');
  await fillCard(page);
  await page.locator('#ship_name').fill('Ada Lovelace');
  await page.locator('#ship_line1').fill('Unter den Linden 1');
  await page.locator('#ship_city').fill('Berlin');
  assert.equal(await page.locator('#ship_postal_code').inputValue(), '10117');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /Pay 16\.90 EUR/ }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id, { expand: ['payment_intent'] });
  assert.equal(done.status, 'complete');
  assert.equal(done.amount_total, 1690);
  assert.equal(done.total_details.amount_tax, 190);
  assert.equal(done.total_details.amount_shipping, 500);
  assert.equal(done.shipping_details.address.postal_code, '10117');
  assert.equal(done.payment_intent.amount, 1690);
  assert.equal(done.payment_intent.shipping.address.country, 'DE');
});

test('a customer\'s own address: a French business reverse charged (an entry of 0), no address asked; the same on its invoice', async () => {
  const cus = await stripe.customers.create({ email: 'b2b@example.com', address: FR, tax_id_data: [{ type: 'eu_vat', value: 'FR12345678901' }] });
  const s = await stripe.checkout.sessions.create({
    mode: 'payment', ...urls(), customer: cus.id, automatic_tax: { enabled: true },
    line_items: [{ price: book.id, quantity: 3 }], expand: ['total_details.breakdown'],
  });
  assertStripeShape(s, 'checkout.session');
  assert.equal(s.automatic_tax.status, 'complete');
  assert.equal(s.amount_total, 3000);
  assert.equal(s.total_details.amount_tax, 0);
  assert.deepEqual(taxes(s.total_details.breakdown.taxes), [['txr_autoFRvat_0e_rc', 0, 0, 'reverse_charge']]);
  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.locator('#address-first').count(), 0);
  assert.equal(await page.getByLabel('Card number').count(), 1);
  await page.close();

  // the invoice shows the entry too, and its page and PDF say "Reverse charge"
  await stripe.invoiceItems.create({ customer: cus.id, amount: 5000, currency: 'eur', description: 'Consulting' });
  const inv = await stripe.invoices.create({ customer: cus.id, pending_invoice_items_behavior: 'include', automatic_tax: { enabled: true } });
  billingShape(inv, 'invoice');
  assert.equal(inv.tax, 0);
  assert.equal(inv.total, 5000);
  assert.deepEqual(inv.total_tax_amounts.map((t) => [t.tax_rate, t.amount, t.taxable_amount, t.taxability_reason]), [['txr_autoFRvat_0e_rc', 0, 0, 'reverse_charge']]);
  assert.equal(inv.lines.data[0].taxes[0].taxable_amount, 0);
  assert.deepEqual(inv.total_taxes.map((t) => [t.amount, t.taxability_reason]), [[0, 'reverse_charge']]);
  assert.equal(inv.lines.data[0].taxes[0].taxability_reason, 'reverse_charge');
  const fin = await stripe.invoices.finalizeInvoice(inv.id, { auto_advance: false });
  const hosted = await (await fetch(fin.hosted_invoice_url)).text();
  assert.match(hosted, /Reverse charge/);
  const pdf = pdfText(Buffer.from(await (await fetch(fin.invoice_pdf)).arrayBuffer()));
  assert.match(pdf, /VAT \(0%\) - Reverse charge\s+0\.00 EUR/);

  // an exempt customer: customer_exempt
  const ex = await stripe.customers.create({ address: DE, tax_exempt: 'exempt' });
  await stripe.invoiceItems.create({ customer: ex.id, amount: 1000, currency: 'eur' });
  const exInv = await stripe.invoices.create({ customer: ex.id, pending_invoice_items_behavior: 'include', automatic_tax: { enabled: true } });
  assert.equal(exInv.tax, 0);
  assert.deepEqual(exInv.total_tax_amounts.map((t) => [t.amount, t.taxability_reason]), [[0, 'customer_exempt']]);
});

test('quotes: taxed by Stripe Tax at the customer\'s address (computed, total_details, the PDF); the invoice or subscription it makes has automatic_tax', async () => {
  const cus = await stripe.customers.create({ email: 'q@example.com', address: DE, payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
  const q = await stripe.quotes.create({ customer: cus.id, automatic_tax: { enabled: true }, line_items: [{ price: book.id, quantity: 2 }] });
  assertStripeShape(q, 'quote');
  assert.deepEqual(q.automatic_tax, { enabled: true, liability: { type: 'self' }, provider: 'stripe', status: 'complete' });
  assert.equal(q.amount_subtotal, 2000);
  assert.equal(q.amount_total, 2380);
  assert.equal(q.total_details.amount_tax, 380);
  assert.equal(q.computed.upfront.amount_total, 2380);
  assert.equal(q.computed.upfront.total_details.amount_tax, 380);
  const items = await stripe.quotes.listLineItems(q.id, { expand: ['data.taxes'] });
  assert.deepEqual(items.data.map((i) => [i.amount_tax, i.amount_total]), [[380, 2380]]);
  assert.deepEqual(taxes(items.data[0].taxes), [[DE_VAT, 380, 2000, 'standard_rated']]);
  const open = await stripe.quotes.finalizeQuote(q.id);
  const stream = await stripe.quotes.pdf(q.id);
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  assert.match(pdfText(Buffer.concat(chunks)), /Tax\s+3\.80 EUR/);
  const acc = await stripe.quotes.accept(open.id);
  const inv = await stripe.invoices.retrieve(acc.invoice);
  assert.equal(inv.automatic_tax.enabled, true);
  assert.equal(inv.total, 2380);
  assert.equal(inv.tax, 380);

  // recurring: a subscription with automatic_tax, its first invoice the quote's upfront total
  const ca = await stripe.customers.create({ address: { line1: '1 Main St', city: 'San Jose', state: 'CA', postal_code: '95113', country: 'US' }, payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
  const rq = await stripe.quotes.create({ customer: ca.id, automatic_tax: { enabled: true }, line_items: [{ price: monthly.id }] });
  assert.equal(rq.computed.recurring.amount_total, 2145);
  assert.equal(rq.computed.upfront.amount_total, 2145);
  await stripe.quotes.finalizeQuote(rq.id);
  const racc = await stripe.quotes.accept(rq.id);
  const sub = await stripe.subscriptions.retrieve(racc.subscription);
  assert.equal(sub.automatic_tax.enabled, true);
  const first = await stripe.invoices.retrieve(sub.latest_invoice);
  assert.equal(first.total, 2145);
  assert.equal(first.amount_paid, 2145);

  // a customer without an address: untaxed, requires_location_inputs, not finalizable; tax rates refused with it
  const bare = await stripe.customers.create({ email: 'nowhere@example.com' });
  const nq = await stripe.quotes.create({ customer: bare.id, automatic_tax: { enabled: true }, line_items: [{ price: book.id }] });
  assert.equal(nq.automatic_tax.status, 'requires_location_inputs');
  assert.equal(nq.total_details.amount_tax, 0);
  await assert.rejects(stripe.quotes.finalizeQuote(nq.id), (e) => e.statusCode === 400 && e.code === 'customer_tax_location_invalid');
  const vat = await stripe.taxRates.create({ display_name: 'VAT', percentage: 19, inclusive: false });
  await fails(stripe.quotes.create({ customer: cus.id, automatic_tax: { enabled: true }, default_tax_rates: [vat.id], line_items: [{ price: book.id }] }), 400, 'automatic_tax[enabled]');
});

test('payment links: automatic_tax on create and update; the session a visit opens asks for the address and is taxed', async () => {
  const link = await stripe.paymentLinks.create({ line_items: [{ price: book.id, quantity: 1 }], automatic_tax: { enabled: true } });
  assertStripeShape(link, 'payment_link');
  assert.deepEqual(link.automatic_tax, { enabled: true, liability: { type: 'self' } });
  const off = await stripe.paymentLinks.update(link.id, { automatic_tax: { enabled: false } });
  assert.deepEqual(off.automatic_tax, { enabled: false, liability: null });
  const on = await stripe.paymentLinks.update(link.id, { automatic_tax: { enabled: true } });
  assert.equal(on.automatic_tax.enabled, true);
  const updated = (await stripe.events.list({ type: 'payment_link.updated', limit: 1 })).data[0];
  assert.deepEqual(updated.data.previous_attributes.automatic_tax, { enabled: false });

  const page = await browser.newPage();
  await page.goto(link.url);
  assert.equal(await page.getByLabel('Card number').count(), 0);
  await Promise.all([page.waitForURL(/\/checkout\/[^/]+\/cs_[^/]+$/), page.getByRole('button', { name: 'Continue' }).click()]);
  assert.equal(await page.locator('#address-first').count(), 1);
  await giveAddress(page, { country: 'DE', postal: '10117' });
  assert.equal(await page.textContent('#total'), '11.90 EUR');
  await fillCard(page);
  await Promise.all([page.waitForURL(/\/checkout\/[^/]+\/cs_[^/]+/), page.getByRole('button', { name: /Pay 11\.90 EUR/ }).click()]);
  await page.close();
  const sessions = await stripe.checkout.sessions.list({ payment_link: link.id, expand: ['data.payment_intent'] });
  assert.equal(sessions.data.length, 1);
  const cs = sessions.data[0];
  assert.equal(cs.status, 'complete');
  assert.equal(cs.automatic_tax.enabled, true);
  assert.equal(cs.total_details.amount_tax, 190);
  assert.equal(cs.amount_total, 1190);
  assert.equal(cs.payment_intent.amount, 1190);
});

test('invoices.createPreview with automatic_tax: a one-off invoice of pending items taxed at the customer\'s or customer_details[address]', async () => {
  const cus = await stripe.customers.create({ address: DE });
  await stripe.invoiceItems.create({ customer: cus.id, amount: 1000, currency: 'eur' });
  const pv = await stripe.invoices.createPreview({ customer: cus.id, automatic_tax: { enabled: true } });
  billingShape(pv, 'invoice');
  assert.equal(pv.automatic_tax.enabled, true);
  assert.equal(pv.automatic_tax.status, 'complete');
  assert.equal(pv.tax, 190);
  assert.equal(pv.total, 1190);
  assert.deepEqual(pv.total_tax_amounts.map((t) => [t.tax_rate, t.amount]), [[DE_VAT, 190]]);
  // elsewhere: California's 7.25 % of 1000 = 72.5 → 73
  const ca = await stripe.invoices.createPreview({
    customer: cus.id, automatic_tax: { enabled: true },
    customer_details: { address: { country: 'US', state: 'CA', postal_code: '94080' } },
  });
  assert.equal(ca.tax, 73);
  assert.equal(ca.total, 1073);
  // without it: as before
  const plain = await stripe.invoices.createPreview({ customer: cus.id });
  assert.equal(plain.automatic_tax.enabled, false);
  assert.equal(plain.total, 1000);
  // nowhere: Stripe's customer_tax_location_invalid, unless customer_details places it
  const bare = await stripe.customers.create({ email: 'p@example.com' });
  await stripe.invoiceItems.create({ customer: bare.id, amount: 1000, currency: 'eur' });
  await assert.rejects(stripe.invoices.createPreview({ customer: bare.id, automatic_tax: { enabled: true } }),
    (e) => e.statusCode === 400 && e.code === 'customer_tax_location_invalid');
  const placed = await stripe.invoices.createPreview({ customer: bare.id, automatic_tax: { enabled: true }, customer_details: { address: DE } });
  assert.equal(placed.automatic_tax.status, 'complete');
  assert.equal(placed.total, 1190);
});

test('refused: tax rates with it, setup mode, a customer without an address unless customer_update[address]=auto', async () => {
  const base = { mode: 'payment', ...urls(), automatic_tax: { enabled: true } };
  const vat = await stripe.taxRates.create({ display_name: 'VAT', percentage: 20, inclusive: false, country: 'DE' });
  await fails(stripe.checkout.sessions.create({ ...base, line_items: [{ price: book.id, tax_rates: [vat.id] }] }), 400, 'automatic_tax[enabled]');
  await fails(stripe.checkout.sessions.create({ ...base, line_items: [{ price: book.id, dynamic_tax_rates: [vat.id] }] }), 400, 'automatic_tax[enabled]');
  await fails(stripe.checkout.sessions.create({ mode: 'setup', ...urls(), currency: 'eur', automatic_tax: { enabled: true } }), 400, 'automatic_tax[enabled]');
  const bare = await stripe.customers.create({ email: 'bare@example.com' });
  await fails(stripe.checkout.sessions.create({ ...base, customer: bare.id, line_items: [{ price: book.id }] }), 400, 'customer_update[address]', /valid address on the Customer/);
  const s = await stripe.checkout.sessions.create({ ...base, customer: bare.id, customer_update: { address: 'auto' }, line_items: [{ price: book.id }] });
  assert.equal(s.automatic_tax.status, 'requires_location_inputs');
  // disabled: as before
  const off = await stripe.checkout.sessions.create({ mode: 'payment', ...urls(), line_items: [{ price: book.id }] });
  assert.deepEqual(off.automatic_tax, { enabled: false, liability: null, provider: null, status: null });
  assertStripeShape(off, 'checkout.session');
});
