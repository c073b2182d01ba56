'use strict';
// total_details.breakdown on Checkout Sessions and quotes (expand[]=total_details.breakdown,
// and a quote's computed.upfront / computed.recurring total_details), and Checkout's
// line_items[n][dynamic_tax_rates]: the buyer's billing address, given on Tender's checkout page
// in headless Chromium (Debian's chromium + playwright-core), picks the first rate of its
// country (and state), or none; the page shows the tax before it takes a card, the session's
// customer_details.address carries the address, and the payment charges the session's
// amount_total. Through stripe-node; objects checked against Stripe's OpenAPI spec.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const path = require('node:path');
const { startTender, stopAll, SHARED, launchChromium } = require('./helpers');
const { billingShape } = require('./billing_helpers');

// A discount's coupon moved to source.coupon in the 2025 shapes that stripe-node 23 speaks and
// Tender follows (see coupons.test.js): that exact problem is the validator's spec's age.
const DISCOUNT_COUPON = /\.breakdown\.discounts\[\d+\]\.discount\.coupon: missing required property$/;
function assertStripeShape(obj, schema) {
  const validator = require(path.join(SHARED, 'tools', 'stripe-openapi-validate.js'));
  const problems = validator.validate(JSON.stringify(obj), schema, { complete: true })
    .filter((p) => !DISCOUNT_COUPON.test(p));
  assert.deepEqual(problems, [], `${schema} does not match Stripe's spec:\n${problems.join('\n')}`);
}

let env;
let stripe;
let other;
let browser;
let shop;
let shopPort;
let book; // 10.00 eur, one-time
let pen; // 15.00 eur, one-time
let monthly; // 20.00 eur / month
let vat; // 20 % exclusive, DE
let incl; // 10 % inclusive
let de; // 19 % exclusive, DE
let fr; // 20 % exclusive, FR
let usCA; // 7.25 % exclusive, US / CA
let us; // 5 % exclusive, US (any state)

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
  de = await stripe.taxRates.create({ display_name: 'MwSt', percentage: 19, inclusive: false, country: 'DE' });
  fr = await stripe.taxRates.create({ display_name: 'TVA', percentage: 20, inclusive: false, country: 'FR' });
  usCA = await stripe.taxRates.create({ display_name: 'Sales tax', percentage: 7.25, inclusive: false, country: 'US', state: 'CA' });
  us = await stripe.taxRates.create({ display_name: 'Sales tax', percentage: 5, inclusive: false, country: 'US' });
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

// The page's billing address form: fill it and post it (the page comes back by GET).
async function giveAddress(page, { country, state = '', postal = '' }) {
  await page.getByLabel('Postal code').fill(postal);
  await page.getByLabel('State or region').fill(state);
  await page.getByLabel('Country (two-letter code)').fill(country);
  await Promise.all([page.waitForURL(/\/checkout\/[^/]+\/cs_[^/]+$/),
    page.locator('fieldset#billing-address button').click()]);
}

const brief = (b) => ({
  discounts: b.discounts.map((d) => [d.amount, d.discount.source ? d.discount.source.coupon : d.discount.coupon]),
  taxes: b.taxes.map((t) => [t.rate.id, t.amount, t.taxable_amount, t.taxability_reason]),
});

test('a session\'s total_details.breakdown: its discount and its taxes per rate, before and after payment', async () => {
  const coupon = await stripe.coupons.create({ percent_off: 10, duration: 'once' });
  const s = await stripe.checkout.sessions.create({
    mode: 'payment', ...urls(), discounts: [{ coupon: coupon.id }],
    line_items: [
      { price: book.id, quantity: 2, tax_rates: [vat.id] },
      { price: pen.id, tax_rates: [incl.id] },
      { price: book.id, tax_rates: [vat.id, incl.id] },
    ],
  });
  // 2000 − 200 = 1800 → 360 (vat); 1500 − 150 = 1350 → 123 inside (incl), taxable 1227;
  // 1000 − 100 = 900: incl 900 × 10 / 110 = 81.8 → 82 inside, vat on 818: 163.6 → 164
  assert.equal(s.total_details.breakdown, undefined); // includable only
  const x = await stripe.checkout.sessions.retrieve(s.id, { expand: ['total_details.breakdown'] });
  assertStripeShape(x, 'checkout.session');
  assert.equal(x.amount_subtotal, 4500);
  assert.equal(x.total_details.amount_discount, 450);
  assert.equal(x.total_details.amount_tax, 360 + 123 + 82 + 164);
  assert.equal(x.amount_total, 4500 - 450 + 360 + 164);
  assert.deepEqual(brief(x.total_details.breakdown), {
    discounts: [[450, coupon.id]],
    taxes: [[vat.id, 360 + 164, 1800 + 818, 'standard_rated'], [incl.id, 123 + 82, 1227 + 818, 'standard_rated']],
  });
  const before = x.total_details.breakdown.discounts[0].discount;
  assert.equal(before.object, 'discount');
  assert.equal(before.checkout_session, s.id);
  assert.match(before.id, /^di_/);
  // the sum of the breakdown is total_details
  assert.equal(x.total_details.breakdown.taxes.reduce((a, t) => a + t.amount, 0), x.total_details.amount_tax);
  // list entries take it too (expand[]=data.total_details.breakdown)
  const list = await stripe.checkout.sessions.list({ limit: 1, expand: ['data.total_details.breakdown'] });
  assert.equal(list.data[0].id, s.id);
  assert.deepEqual(brief(list.data[0].total_details.breakdown), brief(x.total_details.breakdown));

  const page = await browser.newPage();
  await page.goto(s.url);
  await fillCard(page);
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /Pay 45\.74 EUR/ }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id, { expand: ['total_details.breakdown'] });
  assert.equal(done.status, 'complete');
  assertStripeShape(done, 'checkout.session');
  // now the discount the payment redeemed
  const d = done.total_details.breakdown.discounts[0].discount;
  assert.equal(d.checkout_session, s.id);
  assert.equal(done.total_details.breakdown.discounts[0].amount, 450);
  const pi = await stripe.paymentIntents.retrieve(done.payment_intent);
  assert.equal(pi.amount, done.amount_total);
  assert.equal(pi.amount, 4574);
  // a session without a discount or tax: empty lists
  const plain = await stripe.checkout.sessions.create({ mode: 'payment', ...urls(), line_items: [{ price: book.id }], expand: ['total_details.breakdown'] });
  assert.deepEqual(plain.total_details.breakdown, { discounts: [], taxes: [] });
  assertStripeShape(plain, 'checkout.session');
});

test('dynamic_tax_rates: the billing address picks the first matching rate on the page; the payment charges amount_total', async () => {
  const s = await stripe.checkout.sessions.create({
    mode: 'payment', ...urls(),
    line_items: [
      { price: book.id, quantity: 2, dynamic_tax_rates: [de.id, fr.id, usCA.id, us.id] },
      { price: pen.id }, // untaxed
    ],
  });
  assertStripeShape(s, 'checkout.session');
  // no address yet: no tax
  assert.equal(s.amount_total, 3500);
  assert.equal(s.total_details.amount_tax, 0);
  assert.equal(s.customer_details, null);

  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.locator('#address-first').count(), 1);
  assert.equal(await page.getByLabel('Card number').count(), 0); // no card before the tax is known
  assert.equal(await page.textContent('#total'), '35.00 EUR');

  const steps = [
    [{ country: 'fr' }, 400, fr], // 2000 × 20 %
    [{ country: 'US', state: 'CA', postal: '94110' }, 145, usCA], // 2000 × 7.25 %
    [{ country: 'US', state: 'NY', postal: '10001' }, 100, us], // CA's rate is not NY's: the next
    [{ country: 'JP' }, 0, null], // none matches: no tax
    [{ country: 'DE', postal: '10115' }, 380, de], // 2000 × 19 %
  ];
  for (const [addr, tax, rate] of steps) {
    await giveAddress(page, addr);
    const cur = await stripe.checkout.sessions.retrieve(s.id, { expand: ['total_details.breakdown'] });
    assertStripeShape(cur, 'checkout.session');
    assert.equal(cur.customer_details.address.country, addr.country.toUpperCase());
    assert.equal(cur.customer_details.address.state, addr.state || null);
    assert.equal(cur.customer_details.address.postal_code, addr.postal || null);
    assert.equal(cur.total_details.amount_tax, tax, JSON.stringify(addr));
    assert.equal(cur.amount_total, 3500 + tax);
    assert.deepEqual(cur.total_details.breakdown.taxes.map((t) => [t.rate.id, t.amount, t.taxable_amount]),
      rate ? [[rate.id, tax, 2000]] : []);
    if (tax) assert.equal(await page.textContent('#tax'), `${(tax / 100).toFixed(2)} EUR`);
    else assert.equal(await page.locator('#tax').count(), 0);
    assert.equal(await page.textContent('#total'), `${((3500 + tax) / 100).toFixed(2)} EUR`);
  }
  const items = await stripe.checkout.sessions.listLineItems(s.id, { expand: ['data.taxes'] });
  for (const it of items.data) assertStripeShape(it, 'item');
  assert.deepEqual(items.data.map((i) => [i.amount_tax, i.amount_total]), [[380, 2380], [0, 1500]]);
  assert.equal(items.data[0].taxes[0].rate.id, de.id);

  // a bad country is refused on the page, nothing changes
  await page.getByLabel('Country (two-letter code)').fill('1');
  await page.locator('fieldset#billing-address button').click();
  await page.waitForSelector('p.error');
  assert.match(await page.textContent('p.error'), /two-letter code/);
  await page.goto(s.url);
  await fillCard(page);
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /Pay 38\.80 EUR/ }).click()]);
  await page.close();

  const done = await stripe.checkout.sessions.retrieve(s.id);
  assertStripeShape(done, 'checkout.session');
  assert.equal(done.status, 'complete');
  assert.equal(done.amount_total, 3880);
  assert.equal(done.customer_details.address.country, 'DE');
  assert.equal(done.customer_details.name, 'Ada Lovelace');
  const pi = await stripe.paymentIntents.retrieve(done.payment_intent);
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.amount, done.amount_total);
  const ev = (await stripe.events.list({ type: 'checkout.session.completed', limit: 20 })).data
    .filter((e) => e.data.object.id === s.id);
  assert.equal(ev.length, 1);
  assert.equal(ev[0].data.object.total_details.amount_tax, 380);
  assert.equal(ev[0].data.object.customer_details.address.country, 'DE');
});

test('dynamic_tax_rates with a discount, and in subscription mode: the subscription item takes the rate chosen', async () => {
  const coupon = await stripe.coupons.create({ amount_off: 500, currency: 'eur', duration: 'once' });
  const s = await stripe.checkout.sessions.create({
    mode: 'subscription', ...urls(), customer_email: 'grace@example.com', discounts: [{ coupon: coupon.id }],
    line_items: [{ price: monthly.id, dynamic_tax_rates: [fr.id, de.id] }],
  });
  assert.equal(s.amount_total, 1500);
  const page = await browser.newPage();
  await page.goto(s.url);
  // the card form is refused before the address too (a post without the page's form)
  const refused = await page.request.post(s.url, { form: { 'payment_method_data[type]': 'card', 'payment_method_data[card][number]': '4242424242424242' } });
  assert.equal(refused.status(), 400);
  assert.match(await refused.text(), /billing address first/);
  await giveAddress(page, { country: 'DE' });
  // (2000 − 500) × 19 % = 285
  assert.equal(await page.textContent('#tax'), '2.85 EUR');
  assert.equal(await page.textContent('#total'), '17.85 EUR');
  const cur = await stripe.checkout.sessions.retrieve(s.id, { expand: ['total_details.breakdown'] });
  assertStripeShape(cur, 'checkout.session');
  assert.deepEqual(brief(cur.total_details.breakdown), { discounts: [[500, coupon.id]], taxes: [[de.id, 285, 1500, 'standard_rated']] });
  await fillCard(page);
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: 'Subscribe' }).click()]);
  await page.close();

  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.amount_total, 1785);
  assertStripeShape(done, 'checkout.session');
  const sub = await stripe.subscriptions.retrieve(done.subscription);
  assert.deepEqual(sub.items.data[0].tax_rates.map((t) => t.id), [de.id]);
  const inv = await stripe.invoices.retrieve(done.invoice);
  billingShape(inv, 'invoice');
  assert.equal(inv.total, 1785);
  assert.equal(inv.amount_paid, done.amount_total);
  // renewals take the rate too, after the once coupon: 2000 × 19 % = 380
  const next = await stripe.invoices.createPreview({ subscription: sub.id });
  assert.equal(next.total, 2380);
});

test('dynamic_tax_rates refused: with tax_rates, a rate without a country, archived, another merchant\'s', async () => {
  const base = { mode: 'payment', ...urls() };
  await assert.rejects(stripe.checkout.sessions.create({ ...base, line_items: [{ price: book.id, tax_rates: [vat.id], dynamic_tax_rates: [de.id] }] }),
    (e) => e.statusCode === 400 && e.param === 'line_items[0][dynamic_tax_rates]');
  await assert.rejects(stripe.checkout.sessions.create({ ...base, line_items: [{ price: book.id, dynamic_tax_rates: [de.id, incl.id] }] }),
    (e) => e.statusCode === 400 && e.param === 'line_items[0][dynamic_tax_rates]' && /country/.test(e.message));
  await assert.rejects(stripe.checkout.sessions.create({ ...base, line_items: [{ price: book.id, dynamic_tax_rates: [de.id, de.id] }] }),
    (e) => e.statusCode === 400 && /twice/.test(e.message));
  const old = await stripe.taxRates.create({ display_name: 'Old', percentage: 5, inclusive: false, country: 'AT' });
  await stripe.taxRates.update(old.id, { active: false });
  await assert.rejects(stripe.checkout.sessions.create({ ...base, line_items: [{ price: book.id, dynamic_tax_rates: [old.id] }] }),
    (e) => e.statusCode === 400 && /archived/.test(e.message));
  const theirs = await other.taxRates.create({ display_name: 'Theirs', percentage: 7, inclusive: false, country: 'DE' });
  await assert.rejects(stripe.checkout.sessions.create({ ...base, line_items: [{ price: book.id, dynamic_tax_rates: [theirs.id] }] }),
    (e) => e.statusCode === 404 && e.param === 'line_items[0][dynamic_tax_rates]');
  // a session without dynamic rates has no address form and refuses its post
  const s = await stripe.checkout.sessions.create({ ...base, line_items: [{ price: book.id }] });
  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.locator('fieldset#billing-address').count(), 0);
  const r = await page.request.post(`${s.url}/address`, { form: { 'address[country]': 'DE' } });
  assert.equal(r.status(), 400);
  await page.close();
  assert.equal((await stripe.checkout.sessions.retrieve(s.id)).customer_details, null);
});

test('a quote\'s breakdowns: the quote\'s, computed.upfront\'s and computed.recurring\'s (forever coupons only)', async () => {
  const cus = await stripe.customers.create({ email: 'q@example.com' });
  const forever = await stripe.coupons.create({ percent_off: 10, duration: 'forever' });
  const once = await stripe.coupons.create({ amount_off: 500, currency: 'eur', duration: 'once' });
  const q = await stripe.quotes.create({
    customer: cus.id, collection_method: 'send_invoice', invoice_settings: { days_until_due: 30 },
    discounts: [{ coupon: forever.id }, { coupon: once.id }],
    line_items: [{ price: monthly.id, tax_rates: [vat.id] }],
  });
  // 2000: 10 % → 200, then 500 → 1300 taxable: 260; each period: 2000 − 200 = 1800 → 360
  assert.equal(q.amount_total, 2000 - 700 + 260);
  assert.equal(q.total_details.breakdown, undefined);
  const paths = ['total_details.breakdown', 'computed.upfront.total_details.breakdown', 'computed.recurring.total_details.breakdown'];
  const x = await stripe.quotes.retrieve(q.id, { expand: paths });
  billingShape(x, 'quote', [DISCOUNT_COUPON]);
  const want = { discounts: [[200, forever.id], [500, once.id]], taxes: [[vat.id, 260, 1300, 'standard_rated']] };
  assert.deepEqual(brief(x.total_details.breakdown), want);
  assert.deepEqual(brief(x.computed.upfront.total_details.breakdown), want);
  assert.equal(x.computed.recurring.amount_total, 2160);
  assert.deepEqual(brief(x.computed.recurring.total_details.breakdown),
    { discounts: [[200, forever.id]], taxes: [[vat.id, 360, 1800, 'standard_rated']] });
  assert.match(x.total_details.breakdown.discounts[0].discount.id, /^di_/);
  // only what is asked for
  const one = await stripe.quotes.retrieve(q.id, { expand: ['computed.recurring.total_details.breakdown'] });
  assert.equal(one.total_details.breakdown, undefined);
  assert.equal(one.computed.upfront.total_details.breakdown, undefined);
  assert.ok(one.computed.recurring.total_details.breakdown);

  // accepted: the discounts it made
  await stripe.quotes.finalizeQuote(q.id);
  const acc = await stripe.quotes.accept(q.id, { expand: paths });
  billingShape(acc, 'quote', [DISCOUNT_COUPON]);
  assert.equal(acc.status, 'accepted');
  assert.deepEqual(brief(acc.total_details.breakdown), want);
  assert.deepEqual(acc.total_details.breakdown.discounts.map((d) => d.discount.id), acc.discounts);
  const inv = await stripe.invoices.retrieve(acc.invoice);
  assert.equal(inv.total, acc.computed.upfront.amount_total);
});
