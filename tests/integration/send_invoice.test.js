'use strict';
// Invoices with collection_method=send_invoice through stripe-node: days_until_due / due_date,
// finalized without a charge, the hosted invoice page (paid in headless Chromium: Debian's
// chromium + playwright-core, never a downloaded browser), POST …/send (invoice.sent), the
// overdue notice on a test clock (invoice.overdue, once), pay with paid_out_of_band, parameter
// refusals, tenants. Objects are checked against Stripe's OpenAPI spec.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { startTender, stopAll, launchChromium } = require('./helpers');
const { billingShape, clockAdvance } = require('./billing_helpers');

const DAY = 86400;
const T0 = Date.UTC(2025, 4, 1, 0, 0, 0) / 1000;
let env;
let stripe;
let other;
let browser;

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
  browser = await launchChromium();
});
after(async () => {
  if (browser) await browser.close();
  await stopAll();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const shape = (obj) => billingShape(obj, 'invoice', [
  /^\$(\.discounts\[\d+\])?\.coupon: missing required property$/,
]);

async function customerWithCard(params = {}) {
  return stripe.customers.create({
    email: 'ada@example.com', name: 'Ada', payment_method: 'pm_card_visa',
    invoice_settings: { default_payment_method: 'pm_card_visa' }, ...params,
  });
}

// a draft send_invoice invoice of one item of `amount` usd cents
async function draft(customer, params = { days_until_due: 30 }, amount = 2500) {
  await stripe.invoiceItems.create({ customer: customer.id, amount, currency: 'usd', description: 'Consulting <b>' });
  return stripe.invoices.create({
    customer: customer.id, collection_method: 'send_invoice', pending_invoice_items_behavior: 'include', ...params,
  });
}

async function eventsOf(id, type) {
  const all = await stripe.events.list({ type, limit: 100 });
  return all.data.filter((e) => e.data.object.id === id);
}

async function fillCard(page, number) {
  await page.getByLabel('Name on card').fill('Ada Lovelace');
  await page.getByLabel('Card number').fill(number);
  await page.getByLabel('Month (MM)').fill('10');
  await page.getByLabel('Year (YYYY)').fill('2035');
  await page.getByLabel('CVC').fill('321');
}

function pagePath(inv) {
  return new URL(inv.hosted_invoice_url).pathname;
}

function formBody(attempt, number = '4242424242424242') {
  return new URLSearchParams({
    attempt: String(attempt), 'payment_method_data[type]': 'card',
    'payment_method_data[card][number]': number, 'payment_method_data[card][exp_month]': '10',
    'payment_method_data[card][exp_year]': '2035', 'payment_method_data[card][cvc]': '321',
  }).toString();
}

async function pageAttempt(inv) {
  const r = await env.request({ path: pagePath(inv) });
  assert.equal(r.status, 200);
  const m = r.body.match(/name="attempt" value="(\d+)"/);
  assert.ok(m, 'the page has a form with its one-time value');
  return m[1];
}

test('days_until_due: a draft, finalized open with a due date and a hosted page, never charged', async () => {
  const customer = await customerWithCard({ balance: -500 });
  const d = await draft(customer);
  assert.equal(d.status, 'draft');
  assert.equal(d.collection_method, 'send_invoice');
  assert.equal(d.due_date, d.created + 30 * DAY);
  assert.equal(d.hosted_invoice_url, null);
  assert.equal(d.next_payment_attempt, null);
  shape(d);
  const upd = await stripe.invoices.update(d.id, { days_until_due: 10 });
  assert.equal(upd.due_date, d.created + 10 * DAY);
  const fin = await stripe.invoices.finalizeInvoice(d.id, { auto_advance: true });
  assert.equal(fin.status, 'open');
  assert.equal(fin.collection_method, 'send_invoice');
  assert.equal(typeof fin.due_date, 'number');
  assert.equal(fin.due_date, fin.status_transitions.finalized_at + 10 * DAY);
  assert.equal(fin.next_payment_attempt, null);
  assert.equal(fin.auto_advance, true);
  assert.match(fin.hosted_invoice_url, /^http:\/\/127\.0\.0\.1:\d+\/invoice\/acct_\w+\/[0-9A-Za-z]{43}$/);
  assert.deepEqual([fin.total, fin.starting_balance, fin.ending_balance, fin.amount_due], [2500, -500, 0, 2000]);
  assert.match(fin.number, /-0001$/);
  shape(fin);
  // the URL is the same on every read; the row keeps only the secret's hash
  const again = await stripe.invoices.retrieve(d.id);
  assert.equal(again.hosted_invoice_url, fin.hosted_invoice_url);
  // past several scheduler ticks: nothing is charged
  await sleep(1600);
  const later = await stripe.invoices.retrieve(d.id, { expand: ['payments'] });
  assert.deepEqual([later.status, later.attempt_count, later.amount_paid, later.payments.data.length], ['open', 0, 0, 0]);
  assert.equal((await stripe.paymentIntents.list({ customer: customer.id })).data.length, 0);
  assert.equal((await eventsOf(d.id, 'invoice.finalized')).length, 1);
  const r = await env.request({ path: pagePath(fin) });
  assert.match(r.body, /id="total">25\.00 USD</);
  assert.match(r.body, /id="applied_balance">-5\.00 USD</);
  assert.match(r.body, /id="amount_due">20\.00 USD</);
  assert.match(r.body, /Pay 20\.00 USD/);
});

test('the hosted page in the browser: a decline shows on the page, 4242 pays it (charge, balance transaction, invoice.paid)', async () => {
  const customer = await customerWithCard();
  const inv = await stripe.invoices.finalizeInvoice((await draft(customer, { days_until_due: 7, description: 'May work' })).id);
  const page = await browser.newPage();
  const res = await page.goto(inv.hosted_invoice_url);
  assert.equal(res.status(), 200);
  const headers = res.headers();
  assert.match(headers['content-security-policy'] || '', /default-src 'none'/);
  assert.equal(await page.locator('#invoice_number').textContent(), inv.number);
  assert.equal(await page.locator('#status').textContent(), 'Due');
  assert.equal(await page.locator('#total').textContent(), '25.00 USD');
  assert.equal(await page.locator('#amount_due').textContent(), '25.00 USD');
  assert.equal(await page.locator('#due_date').textContent(), new Date(inv.due_date * 1000).toISOString().slice(0, 10));
  assert.match(await page.locator('#lines').textContent(), /Consulting <b>/, 'escaped, shown as text');
  assert.equal(await page.locator('script').count(), 0);
  // declined
  await fillCard(page, '4000000000000002');
  await page.getByRole('button', { name: /Pay 25\.00 USD/ }).click();
  await page.waitForSelector('.error');
  assert.match(await page.locator('.error').textContent(), /declined/i);
  assert.equal(await page.locator('#status').textContent(), 'Due');
  let cur = await stripe.invoices.retrieve(inv.id);
  assert.deepEqual([cur.status, cur.attempt_count, cur.next_payment_attempt], ['open', 1, null]);
  // then a good card
  await fillCard(page, '4242424242424242');
  await page.getByRole('button', { name: /Pay 25\.00 USD/ }).click();
  await page.waitForSelector('#done');
  assert.equal(await page.locator('#status').textContent(), 'Paid');
  assert.equal(await page.locator('form.pay').count(), 0);
  await page.close();
  cur = await stripe.invoices.retrieve(inv.id, { expand: ['payments'] });
  assert.deepEqual([cur.status, cur.amount_paid, cur.amount_remaining, cur.paid_out_of_band], ['paid', 2500, 0, false]);
  shape(cur);
  const pi = await stripe.paymentIntents.retrieve(cur.payments.data[0].payment.payment_intent);
  assert.deepEqual([pi.status, pi.amount, pi.currency, pi.customer], ['succeeded', 2500, 'usd', customer.id]);
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(ch.paid, true);
  const bt = await stripe.balanceTransactions.retrieve(ch.balance_transaction);
  assert.equal(bt.amount, 2500);
  assert.equal((await eventsOf(inv.id, 'invoice.paid')).length, 1);
  assert.equal((await eventsOf(inv.id, 'invoice.payment_failed')).length, 1);
  // the paid invoice's page: its state, no form
  const r = await env.request({ path: pagePath(inv) });
  assert.equal(r.status, 200);
  assert.match(r.body, /id="done"/);
  assert.doesNotMatch(r.body, /<form/);
});

test('a double submit pays once: the same form posted again, and two posts at once', async () => {
  const customer = await customerWithCard();
  const inv = await stripe.invoices.finalizeInvoice((await draft(customer)).id);
  const attempt = await pageAttempt(inv);
  const post = () => env.request({
    method: 'POST', path: pagePath(inv), body: formBody(attempt),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
  const first = await post();
  assert.equal(first.status, 200);
  assert.match(first.body, /id="done"/);
  const second = await post();
  assert.equal(second.status, 409);
  assert.match(second.body, /id="done"/);
  const inv2 = await stripe.invoices.finalizeInvoice((await draft(customer)).id);
  const a2 = await pageAttempt(inv2);
  const both = await Promise.all([0, 1].map(() => env.request({
    method: 'POST', path: pagePath(inv2), body: formBody(a2),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  })));
  assert.equal(both.filter((r) => r.status === 200).length >= 1, true);
  assert.equal((await stripe.invoices.retrieve(inv2.id)).status, 'paid');
  const charges = await stripe.charges.list({ customer: customer.id, limit: 100 });
  assert.equal(charges.data.filter((c) => c.paid).length, 2, 'one charge per invoice');
  // a form of a stale version pays nothing
  const inv3 = await stripe.invoices.finalizeInvoice((await draft(customer)).id);
  const stale = await env.request({
    method: 'POST', path: pagePath(inv3), body: formBody(Number(await pageAttempt(inv3)) - 1),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(stale.status, 409);
  assert.equal((await stripe.invoices.retrieve(inv3.id)).status, 'open');
});

test('3-D Secure on the page: the challenge comes back to the page, paid', async () => {
  const customer = await customerWithCard();
  const inv = await stripe.invoices.finalizeInvoice((await draft(customer)).id);
  const page = await browser.newPage();
  const res = await page.goto(inv.hosted_invoice_url);
  assert.equal(res.status(), 200, await page.content());
  await fillCard(page, '4000002760003184');
  await Promise.all([page.waitForURL(/\/3ds\//), page.getByRole('button', { name: /Pay/ }).click()]);
  await Promise.all([page.waitForURL(/\/complete\?/), page.getByRole('button', { name: 'Complete authentication' }).click()]);
  await page.waitForSelector('#done');
  await page.close();
  assert.equal((await stripe.invoices.retrieve(inv.id)).status, 'paid');
});

test('POST …/send: invoice.sent (a draft is finalized first); refused for charge_automatically and void invoices', async () => {
  const customer = await customerWithCard();
  const d = await draft(customer, { due_date: Math.floor(Date.now() / 1000) + 5 * DAY });
  const sent = await stripe.invoices.sendInvoice(d.id);
  assert.equal(sent.status, 'open');
  assert.equal(sent.due_date, d.due_date);
  assert.ok(sent.hosted_invoice_url);
  shape(sent);
  assert.equal((await eventsOf(d.id, 'invoice.finalized')).length, 1);
  assert.equal((await eventsOf(d.id, 'invoice.sent')).length, 1);
  await stripe.invoices.sendInvoice(d.id);
  assert.equal((await eventsOf(d.id, 'invoice.sent')).length, 2);
  const auto = await stripe.invoices.create({ customer: customer.id });
  await assert.rejects(stripe.invoices.sendInvoice(auto.id), (e) => e.statusCode === 400 && /send_invoice/.test(e.message));
  // a charge_automatically one-off invoice has its hosted page too, once finalized
  await stripe.invoiceItems.create({ customer: customer.id, amount: 900, currency: 'usd', invoice: auto.id });
  const autoFin = await stripe.invoices.finalizeInvoice(auto.id);
  assert.equal(autoFin.collection_method, 'charge_automatically');
  assert.equal(autoFin.due_date, null);
  assert.match(autoFin.hosted_invoice_url, /\/invoice\//);
  const autoPage = await env.request({ path: pagePath(autoFin) });
  assert.equal(autoPage.status, 200);
  assert.match(autoPage.body, /id="total">9\.00 USD</);
  // webhook endpoints can ask for the new events
  const we = await stripe.webhookEndpoints.create({ url: 'https://example.com/hook', enabled_events: ['invoice.sent', 'invoice.overdue'] });
  assert.deepEqual(we.enabled_events, ['invoice.sent', 'invoice.overdue']);
  await stripe.invoices.voidInvoice(d.id);
  await assert.rejects(stripe.invoices.sendInvoice(d.id), (e) => e.statusCode === 400);
  // a void invoice's page: its state, no form
  const r = await env.request({ path: pagePath(sent) });
  assert.equal(r.status, 200);
  assert.match(r.body, /data-status="void"/);
  assert.doesNotMatch(r.body, /<form/);
});

test('overdue: invoice.overdue once its due date passes on the test clock, once', async () => {
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
  const customer = await customerWithCard({ test_clock: clock.id });
  const inv = await stripe.invoices.finalizeInvoice((await draft(customer, { days_until_due: 2 })).id);
  assert.equal(inv.due_date, T0 + 2 * DAY);
  await clockAdvance(stripe, clock, T0 + DAY);
  assert.equal((await eventsOf(inv.id, 'invoice.overdue')).length, 0);
  await clockAdvance(stripe, clock, T0 + 3 * DAY);
  const ev = await eventsOf(inv.id, 'invoice.overdue');
  assert.equal(ev.length, 1);
  assert.equal(ev[0].created, T0 + 2 * DAY, 'at the clock\'s time');
  assert.equal(ev[0].data.object.status, 'open');
  await clockAdvance(stripe, clock, T0 + 10 * DAY);
  assert.equal((await eventsOf(inv.id, 'invoice.overdue')).length, 1);
  const pg = await env.request({ path: pagePath(inv) });
  assert.match(pg.body, /data-status="open">Overdue</);
  assert.match(pg.body, /<form class="pay"/, 'still payable');
  const cur = await stripe.invoices.retrieve(inv.id, { expand: ['payments'] });
  assert.deepEqual([cur.status, cur.attempt_count, cur.payments.data.length], ['open', 0, 0], 'still never charged');
  // an invoice paid before its due date is never overdue
  const paid = await stripe.invoices.finalizeInvoice((await draft(customer, { days_until_due: 1 })).id);
  await stripe.invoices.pay(paid.id, { paid_out_of_band: true });
  await clockAdvance(stripe, clock, T0 + 12 * DAY);
  assert.equal((await eventsOf(paid.id, 'invoice.overdue')).length, 0);
});

test('pay with paid_out_of_band: paid, no money moves', async () => {
  const customer = await customerWithCard();
  const inv = await stripe.invoices.finalizeInvoice((await draft(customer)).id);
  await assert.rejects(stripe.invoices.pay(inv.id, { paid_out_of_band: true, payment_method: 'pm_card_visa' }),
    (e) => e.statusCode === 400);
  const paid = await stripe.invoices.pay(inv.id, { paid_out_of_band: true });
  assert.deepEqual([paid.status, paid.paid_out_of_band, paid.amount_paid, paid.amount_remaining], ['paid', true, 2500, 0]);
  assert.ok(paid.status_transitions.paid_at);
  shape(paid);
  assert.equal((await stripe.paymentIntents.list({ customer: customer.id })).data.length, 0);
  assert.equal((await eventsOf(inv.id, 'invoice.paid')).length, 1);
  await assert.rejects(stripe.invoices.pay(inv.id, { paid_out_of_band: true }), (e) => e.statusCode === 400);
  // a charge_automatically invoice too, and pay with a payment method still works on send_invoice
  const inv2 = await stripe.invoices.finalizeInvoice((await draft(customer)).id);
  const p2 = await stripe.invoices.pay(inv2.id, { payment_method: 'pm_card_visa' });
  assert.deepEqual([p2.status, p2.paid_out_of_band], ['paid', false]);
});

test('parameter errors: 400 and nothing stored', async () => {
  const customer = await customerWithCard();
  const before = (await stripe.invoices.list({ customer: customer.id })).data.length;
  await assert.rejects(stripe.invoices.create({ customer: customer.id, collection_method: 'send_invoice' }),
    (e) => e.statusCode === 400 && e.param === 'collection_method');
  await assert.rejects(stripe.invoices.create({ customer: customer.id, days_until_due: 3 }),
    (e) => e.statusCode === 400 && e.param === 'days_until_due');
  await assert.rejects(stripe.invoices.create({ customer: customer.id, collection_method: 'charge_automatically', due_date: 2000000000 }),
    (e) => e.statusCode === 400 && e.param === 'due_date');
  await assert.rejects(stripe.invoices.create({ customer: customer.id, collection_method: 'send_invoice', days_until_due: 3, due_date: 2000000000 }),
    (e) => e.statusCode === 400);
  await assert.rejects(stripe.invoices.create({ customer: customer.id, collection_method: 'send_invoice', due_date: 1000 }),
    (e) => e.statusCode === 400 && e.param === 'due_date');
  await assert.rejects(stripe.invoices.create({ customer: customer.id, collection_method: 'send_invoice', days_until_due: -1 }),
    (e) => e.statusCode === 400 && e.param === 'days_until_due');
  assert.equal((await stripe.invoices.list({ customer: customer.id })).data.length, before);
  // a draft's collection method changes by update
  const d = await stripe.invoices.create({ customer: customer.id });
  await assert.rejects(stripe.invoices.update(d.id, { collection_method: 'send_invoice' }), (e) => e.statusCode === 400);
  const u = await stripe.invoices.update(d.id, { collection_method: 'send_invoice', days_until_due: 5 });
  assert.deepEqual([u.collection_method, u.due_date], ['send_invoice', u.created + 5 * DAY]);
  await assert.rejects(stripe.invoices.update(d.id, { due_date: 1000 }), (e) => e.statusCode === 400 && e.param === 'due_date');
  const byDate = await stripe.invoices.update(d.id, { due_date: 2000000000 });
  assert.equal(byDate.due_date, 2000000000);
  const back = await stripe.invoices.update(d.id, { collection_method: 'charge_automatically' });
  assert.deepEqual([back.collection_method, back.due_date], ['charge_automatically', null]);
  const fin = await stripe.invoices.finalizeInvoice((await draft(customer)).id);
  await assert.rejects(stripe.invoices.update(fin.id, { days_until_due: 3 }), (e) => e.statusCode === 400);
  // the list's collection_method filter
  const sends = await stripe.invoices.list({ customer: customer.id, collection_method: 'send_invoice' });
  assert.deepEqual(sends.data.map((i) => i.id), [fin.id]);
  const autos = await stripe.invoices.list({ customer: customer.id, collection_method: 'charge_automatically' });
  assert.deepEqual(autos.data.map((i) => i.id), [d.id]);
});

test('tenants and unknown pages: 404', async () => {
  const customer = await customerWithCard();
  const inv = await stripe.invoices.finalizeInvoice((await draft(customer)).id);
  await assert.rejects(other.invoices.retrieve(inv.id), (e) => e.statusCode === 404);
  await assert.rejects(other.invoices.sendInvoice(inv.id), (e) => e.statusCode === 404);
  await assert.rejects(other.invoices.pay(inv.id, { paid_out_of_band: true }), (e) => e.statusCode === 404);
  const p = pagePath(inv);
  const token = p.split('/').pop();
  const unknown = token.slice(0, -1) + (token.endsWith('a') ? 'b' : 'a');
  for (const path of [p.replace(token, unknown), p.replace(token, 'short'), p.replace(env.merchant.id, env.merchants[1].id),
    `/invoice/x'y/${token}`]) {
    const r = await env.request({ path });
    assert.equal(r.status, 404, path);
    assert.doesNotMatch(r.body, new RegExp(inv.number));
  }
  const post = await env.request({
    method: 'POST', path: p.replace(token, unknown), body: formBody(1),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(post.status, 404);
  assert.equal((await stripe.invoices.retrieve(inv.id)).status, 'open');
});

test('the page takes untrusted forms: bad cards, values and shapes are refused on the page or by the parameter check, nothing paid', async () => {
  const customer = await customerWithCard();
  const inv = await stripe.invoices.finalizeInvoice((await draft(customer)).id);
  const attempt = await pageAttempt(inv);
  const post = (body) => env.request({
    method: 'POST', path: pagePath(inv), body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
  const bad = await post(formBody(attempt, '4242424242424241'));
  assert.equal(bad.status, 400);
  assert.match(bad.body, /class="error"/);
  assert.doesNotMatch(bad.body, /4242424242424241/, 'the number is never echoed');
  for (const body of [
    formBody('abc'), formBody('9'.repeat(40)), formBody(`${attempt}<script>`),
    `attempt=${attempt}`, '', 'payment_method_data=x', `attempt=${attempt}&payment_method_data[card][number][x]=1`,
    `attempt=${attempt}&${'a'.repeat(5000)}=1`, `attempt=%ZZ&payment_method_data[type]=card`,
    formBody(attempt).replace('cvc%5D=321', 'cvc%5D=' + '1'.repeat(3000)),
  ]) {
    const r = await post(body);
    assert.ok(r.status >= 400 && r.status < 500, `${r.status} for ${body.slice(0, 80)}`);
    assert.doesNotMatch(r.body, /<script>/);
  }
  const cur = await stripe.invoices.retrieve(inv.id);
  assert.deepEqual([cur.status, cur.amount_paid], ['open', 0]);
  assert.equal((await stripe.charges.list({ customer: customer.id })).data.length, 0);
});

// a PDF's text (pdftotext, poppler-utils), as documents.test.js reads it
function pdfText(buf) {
  const f = path.join(os.tmpdir(), `tender-sendinv-${process.pid}-${Math.random().toString(36).slice(2)}.pdf`);
  fs.writeFileSync(f, buf);
  try {
    return execFileSync('pdftotext', ['-layout', f, '-'], { encoding: 'utf8' });
  } finally {
    fs.unlinkSync(f);
  }
}

test('an invoice\'s settings: footer, custom_fields, shipping_details, statement_descriptor, rendering and effective_at on the object, its page and its PDF; when they can change', async () => {
  const customer = await customerWithCard();
  const shipping = {
    name: 'Ada Lovelace', phone: '+44 20 7946 0000',
    address: { line1: '1 Analytical St', city: 'London', postal_code: 'N1 9GU', country: 'GB' },
  };
  const d = await draft(customer, {
    days_until_due: 30, footer: 'Thank you & goodbye',
    custom_fields: [{ name: 'PO number', value: 'PO-1234' }, { name: 'Cost centre', value: 'R&D 7' }],
    shipping_details: shipping, statement_descriptor: 'ADA SERVICES',
    rendering_options: { amount_tax_display: 'exclude_tax' },
  });
  assert.equal(d.footer, 'Thank you & goodbye');
  assert.deepEqual(d.custom_fields, [{ name: 'PO number', value: 'PO-1234' }, { name: 'Cost centre', value: 'R&D 7' }]);
  assert.deepEqual(d.shipping_details, {
    address: { city: 'London', country: 'GB', line1: '1 Analytical St', line2: null, postal_code: 'N1 9GU', state: null },
    carrier: null, name: 'Ada Lovelace', phone: '+44 20 7946 0000', tracking_number: null,
  });
  assert.equal(d.statement_descriptor, 'ADA SERVICES');
  assert.deepEqual(d.rendering, { amount_tax_display: 'exclude_tax', pdf: { page_size: null }, template: null, template_version: null });
  assert.equal(d.effective_at, null);
  shape(d);
  // a draft takes effective_at and new custom fields; the others stay
  const upd = await stripe.invoices.update(d.id, {
    effective_at: T0, custom_fields: [{ name: 'PO number', value: 'PO-5678' }], rendering: { pdf: { page_size: 'a4' } },
  });
  assert.equal(upd.effective_at, T0);
  assert.deepEqual(upd.custom_fields, [{ name: 'PO number', value: 'PO-5678' }]);
  assert.deepEqual(upd.rendering.pdf, { page_size: 'a4' });
  assert.equal(upd.rendering.amount_tax_display, 'exclude_tax');
  assert.equal(upd.footer, 'Thank you & goodbye');
  const fin = await stripe.invoices.finalizeInvoice(d.id);
  assert.equal(fin.effective_at, T0);
  assert.ok(fin.status_transitions.finalized_at > T0);
  shape(fin);
  const page = (await env.request({ path: pagePath(fin) })).body;
  assert.match(page, /id="footer">Thank you &amp; goodbye</);
  assert.match(page, /<dt>PO number<\/dt><dd>PO-5678<\/dd>/);
  assert.match(page, /id="shipping">Ship to: Ada Lovelace, 1 Analytical St, N1 9GU, London, GB</);
  const pdf = pdfText(Buffer.from(await (await fetch(fin.invoice_pdf)).arrayBuffer()));
  assert.match(pdf, /Date of issue\s+2025-05-01/);
  assert.match(pdf, /PO number\s+PO-5678/);
  assert.match(pdf, /Ship to/);
  assert.match(pdf, /1 Analytical St/);
  assert.match(pdf, /Thank you & goodbye/);
  // an open invoice: what it shows may change, not the date it is in effect
  const open = await stripe.invoices.update(d.id, { footer: '', custom_fields: '' });
  assert.deepEqual([open.footer, open.custom_fields, open.effective_at], [null, null, T0]);
  shape(open);
  await assert.rejects(stripe.invoices.update(d.id, { effective_at: T0 + 60 }), (e) => e.statusCode === 400);
  const events = await eventsOf(d.id, 'invoice.updated');
  assert.equal(events[0].data.object.footer, null);
  // refusals change nothing
  const five = Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, value: 'v' }));
  await assert.rejects(stripe.invoices.create({ customer: customer.id, custom_fields: five }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.invoices.create({ customer: customer.id, custom_fields: [{ name: 'x'.repeat(31), value: 'v' }] }),
    (e) => e.statusCode === 400);
  await assert.rejects(stripe.invoices.create({ customer: customer.id, statement_descriptor: '12345' }),
    (e) => e.statusCode === 400 && e.param === 'statement_descriptor');
  await assert.rejects(stripe.invoices.create({ customer: customer.id, shipping_details: { address: { line1: 'x' } } }),
    (e) => e.statusCode === 400 && e.code === 'parameter_missing');
  await assert.rejects(stripe.invoices.update(d.id, { rendering_options: { amount_tax_display: 'sideways' } }),
    (e) => e.statusCode === 400);
  assert.equal((await stripe.invoices.retrieve(d.id)).rendering.amount_tax_display, 'exclude_tax');
  // a paid invoice takes none
  await stripe.invoices.pay(d.id, { paid_out_of_band: true });
  await assert.rejects(stripe.invoices.update(d.id, { footer: 'late' }), (e) => e.statusCode === 400);
});

test('default_payment_method and default_source: an invoice is paid with its own before its customer\'s default; they must be its customer\'s', async () => {
  const customer = await customerWithCard();
  const mc = await stripe.paymentMethods.attach('pm_card_mastercard', { customer: customer.id });
  await stripe.invoiceItems.create({ customer: customer.id, amount: 1200, currency: 'usd' });
  const inv = await stripe.invoices.create({
    customer: customer.id, pending_invoice_items_behavior: 'include', default_payment_method: mc.id,
  });
  assert.equal(inv.default_payment_method, mc.id);
  shape(inv);
  const paid = await stripe.invoices.pay(inv.id);
  assert.equal(paid.status, 'paid');
  const pis = (await stripe.paymentIntents.list({ customer: customer.id })).data;
  assert.equal(pis.length, 1);
  assert.deepEqual([pis[0].payment_method, pis[0].amount, pis[0].status], [mc.id, 1200, 'succeeded']);
  // a card source as default_source pays a second invoice
  const card = await stripe.customers.createSource(customer.id, { source: 'tok_amex' });
  await stripe.invoiceItems.create({ customer: customer.id, amount: 700, currency: 'usd' });
  const inv2 = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
  const withSource = await stripe.invoices.update(inv2.id, { default_source: card.id });
  assert.deepEqual([withSource.default_source, withSource.default_payment_method], [card.id, null]);
  shape(withSource);
  assert.equal((await stripe.invoices.pay(inv2.id)).status, 'paid');
  const pi2 = (await stripe.paymentIntents.list({ customer: customer.id })).data.find((p) => p.amount === 700);
  assert.equal(pi2.payment_method, card.id);
  // another customer's payment method or source is refused, and "" clears
  const stranger = await customerWithCard();
  const theirs = await stripe.paymentMethods.attach('pm_card_visa', { customer: stranger.id });
  const d = await stripe.invoices.create({ customer: customer.id, default_payment_method: mc.id });
  await assert.rejects(stripe.invoices.update(d.id, { default_payment_method: theirs.id }),
    (e) => e.statusCode === 400 && e.param === 'default_payment_method');
  await assert.rejects(stripe.invoices.update(d.id, { default_payment_method: 'pm_nope' }),
    (e) => e.statusCode === 404 && e.param === 'default_payment_method');
  await assert.rejects(stripe.invoices.update(d.id, { default_source: 'card_nope' }),
    (e) => e.statusCode === 400 && e.param === 'default_source');
  await assert.rejects(stripe.invoices.create({ customer: stranger.id, default_payment_method: mc.id }),
    (e) => e.statusCode === 400 && e.param === 'default_payment_method');
  assert.equal((await stripe.invoices.retrieve(d.id)).default_payment_method, mc.id);
  assert.equal((await stripe.invoices.update(d.id, { default_payment_method: '' })).default_payment_method, null);
});

test('what pays an invoice, Stripe\'s order: its own default_payment_method, its default_source, its subscription\'s, its customer\'s; a bank account source: Stripe\'s missing mandate', async () => {
  // a customer with a card source (its default_source) and a default PaymentMethod
  const customer = await stripe.customers.create({ email: 'order@example.com', source: 'tok_visa' });
  const cusSource = customer.default_source;
  const cusPm = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
  await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: cusPm.id } });
  const subSource = await stripe.customers.createSource(customer.id, { source: 'tok_mastercard' });
  const subPm = await stripe.paymentMethods.attach('pm_card_mastercard', { customer: customer.id });
  const invSource = await stripe.customers.createSource(customer.id, { source: 'tok_amex' });
  const invPm = await stripe.paymentMethods.attach('pm_card_amex', { customer: customer.id });
  const price = await stripe.prices.create({
    currency: 'usd', unit_amount: 1000, recurring: { interval: 'month' }, product_data: { name: 'Order' },
  });
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: price.id }], collection_method: 'send_invoice', days_until_due: 30,
    default_payment_method: subPm.id, default_source: subSource.id,
  });
  // a manual invoice of the subscription (its pending item), paid with nothing named
  const payOne = async (own) => {
    await stripe.invoiceItems.create({ customer: customer.id, subscription: sub.id, amount: 700, currency: 'usd' });
    const inv = await stripe.invoices.create({ customer: customer.id, subscription: sub.id, ...own });
    const paid = await stripe.invoices.pay(inv.id, { expand: ['payments'] });
    assert.equal(paid.status, 'paid');
    const { payments, ...rest } = paid;
    shape(rest);
    return (await stripe.paymentIntents.retrieve(payments.data[0].payment.payment_intent)).payment_method;
  };
  // each level pays while the ones before it are unset, and before every one after it
  assert.equal(await payOne({ default_payment_method: invPm.id, default_source: invSource.id }), invPm.id);
  assert.equal(await payOne({ default_source: invSource.id }), invSource.id);
  assert.equal(await payOne({}), subPm.id);
  await stripe.subscriptions.update(sub.id, { default_payment_method: '' });
  assert.equal(await payOne({}), subSource.id);
  await stripe.subscriptions.update(sub.id, { default_source: '' });
  assert.equal(await payOne({}), cusPm.id);
  await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: '' } });
  assert.equal(await payOne({}), cusSource);

  // a verified bank account as the customer's default_source: an invoice's PaymentIntent debits
  // one only under a mandate, which a legacy bank account has none of (Stripe's answer)
  const banked = await stripe.customers.create({ email: 'bank@example.com' });
  const tok = await stripe.tokens.create({
    bank_account: {
      country: 'US', currency: 'usd', routing_number: '110000000', account_number: '000123456789',
      account_holder_name: 'Jenny Rosen', account_holder_type: 'individual',
    },
  });
  const ba = await stripe.customers.createSource(banked.id, { source: tok.id });
  await stripe.customers.verifySource(banked.id, ba.id, { amounts: [32, 45] });
  assert.equal((await stripe.customers.retrieve(banked.id)).default_source, ba.id);
  const open = await stripe.invoices.finalizeInvoice((await draft(banked)).id);
  const refused = await stripe.invoices.pay(open.id).then(() => null, (e) => e);
  assert.equal(refused.statusCode, 400);
  assert.match(refused.message, /requires a mandate/);
  await assert.rejects(stripe.invoices.pay(open.id, { source: ba.id }), (e) => e.statusCode === 400 && /mandate/.test(e.message));
  const still = await stripe.invoices.retrieve(open.id);
  assert.deepEqual([still.status, still.amount_paid, still.attempt_count], ['open', 0, 0]);
  assert.equal((await stripe.paymentIntents.list({ customer: banked.id })).data.length, 0);
});

test('pay with source, mandate and forgive: a source of the customer\'s, a mandate of the payment method that pays', async () => {
  const customer = await customerWithCard();
  const card = await stripe.customers.createSource(customer.id, { source: 'tok_mastercard' });
  const inv = await stripe.invoices.finalizeInvoice((await draft(customer)).id);
  const stranger = await customerWithCard();
  const theirs = await stripe.customers.createSource(stranger.id, { source: 'tok_visa' });
  await assert.rejects(stripe.invoices.pay(inv.id, { source: theirs.id }), (e) => e.statusCode === 400 && e.param === 'source');
  await assert.rejects(stripe.invoices.pay(inv.id, { source: card.id, payment_method: 'pm_card_visa' }),
    (e) => e.statusCode === 400 && e.param === 'source');
  await assert.rejects(stripe.invoices.pay(inv.id, { paid_out_of_band: true, source: card.id }), (e) => e.statusCode === 400);
  assert.equal((await stripe.paymentIntents.list({ customer: customer.id })).data.length, 0);
  const paid = await stripe.invoices.pay(inv.id, { source: card.id, forgive: true });
  assert.deepEqual([paid.status, paid.amount_paid], ['paid', 2500]);
  shape(paid);
  const pis = (await stripe.paymentIntents.list({ customer: customer.id })).data;
  assert.deepEqual(pis.map((p) => [p.payment_method, p.status]), [[card.id, 'succeeded']]);

  // a SEPA debit under the mandate named, which must be its payment method's
  const ONLINE = { customer_acceptance: { type: 'online', online: { ip_address: '203.0.113.7', user_agent: 'Mozilla/5.0 (test)' } } };
  const eurCus = await stripe.customers.create({ email: 'sepa@example.com' });
  const sepaPm = () => stripe.paymentMethods.create({
    type: 'sepa_debit', sepa_debit: { iban: 'DE89370400440532013000' }, billing_details: { name: 'Jenny Rosen', email: 'jenny@example.com' },
  });
  const [pm, pm2] = [await sepaPm(), await sepaPm()];
  const si = await stripe.setupIntents.create({
    customer: eurCus.id, payment_method_types: ['sepa_debit'], payment_method: pm.id, confirm: true, mandate_data: ONLINE,
  });
  const si2 = await stripe.setupIntents.create({
    customer: eurCus.id, payment_method_types: ['sepa_debit'], payment_method: pm2.id, confirm: true, mandate_data: ONLINE,
  });
  await stripe.invoiceItems.create({ customer: eurCus.id, amount: 3000, currency: 'eur' });
  const fin = await stripe.invoices.finalizeInvoice((await stripe.invoices.create({
    customer: eurCus.id, pending_invoice_items_behavior: 'include',
  })).id);
  await assert.rejects(stripe.invoices.pay(fin.id, { payment_method: pm.id, mandate: 'mandate_nope' }),
    (e) => e.statusCode === 404 && e.param === 'mandate');
  await assert.rejects(stripe.invoices.pay(fin.id, { payment_method: pm.id, mandate: si2.mandate }),
    (e) => e.statusCode === 400 && e.param === 'mandate');
  assert.equal((await stripe.paymentIntents.list({ customer: eurCus.id })).data.length, 0);
  const paying = await stripe.invoices.pay(fin.id, { payment_method: pm.id, mandate: si.mandate });
  assert.equal(paying.status, 'open');
  shape(paying);
  const [pi] = (await stripe.paymentIntents.list({ customer: eurCus.id })).data;
  // processing until the scheduler settles the debit, which a slow machine may see done already
  assert.ok(['processing', 'succeeded'].includes(pi.status), pi.status);
  assert.equal(pi.payment_method, pm.id);
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(ch.payment_method_details.sepa_debit.mandate, si.mandate);
});

test('shipping_cost: a shipping rate (or one made from shipping_rate_data) adds to the total, shown on the object, the page and the PDF, and is charged', async () => {
  const customer = await customerWithCard();
  const rate = await stripe.shippingRates.create({ display_name: 'Ground', type: 'fixed_amount', fixed_amount: { amount: 700, currency: 'usd' } });
  const d = await draft(customer, { days_until_due: 30, shipping_cost: { shipping_rate: rate.id } });
  assert.equal(d.amount_shipping, 700);
  assert.deepEqual(d.shipping_cost, { amount_subtotal: 700, amount_tax: 0, amount_total: 700, shipping_rate: rate.id, taxes: [] });
  assert.deepEqual([d.subtotal, d.total, d.amount_due], [2500, 3200, 3200]);
  shape(d);
  // an ad-hoc rate replaces it; the draft's items keep moving the total
  const u = await stripe.invoices.update(d.id, {
    shipping_cost: { shipping_rate_data: { display_name: 'Express', type: 'fixed_amount', fixed_amount: { amount: 1500, currency: 'usd' } } },
  });
  assert.notEqual(u.shipping_cost.shipping_rate, rate.id);
  assert.equal((await stripe.shippingRates.retrieve(u.shipping_cost.shipping_rate)).display_name, 'Express');
  assert.deepEqual([u.amount_shipping, u.total], [1500, 4000]);
  await stripe.invoiceItems.create({ customer: customer.id, invoice: d.id, amount: 500, currency: 'usd' });
  assert.equal((await stripe.invoices.retrieve(d.id)).total, 4500);
  // refusals: another currency, an unknown rate, both; a finalized invoice's is fixed
  const eur = await stripe.shippingRates.create({ display_name: 'EU', type: 'fixed_amount', fixed_amount: { amount: 100, currency: 'eur' } });
  await assert.rejects(stripe.invoices.update(d.id, { shipping_cost: { shipping_rate: eur.id } }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.invoices.update(d.id, { shipping_cost: { shipping_rate: 'shr_nope' } }), (e) => e.statusCode === 404);
  await assert.rejects(stripe.invoices.update(d.id, { shipping_cost: { shipping_rate: rate.id, shipping_rate_data: { display_name: 'x', fixed_amount: { amount: 1, currency: 'usd' } } } }),
    (e) => e.statusCode === 400);
  const fin = await stripe.invoices.finalizeInvoice(d.id);
  assert.deepEqual([fin.amount_shipping, fin.total, fin.amount_due], [1500, 4500, 4500]);
  shape(fin);
  await assert.rejects(stripe.invoices.update(d.id, { shipping_cost: '' }), (e) => e.statusCode === 400);
  const page = (await env.request({ path: pagePath(fin) })).body;
  assert.match(page, /id="shipping_amount">15\.00 USD</);
  assert.match(page, /id="total">45\.00 USD</);
  const pdf = pdfText(Buffer.from(await (await fetch(fin.invoice_pdf)).arrayBuffer()));
  assert.match(pdf, /Shipping\s+15\.00 USD/);
  const paid = await stripe.invoices.pay(fin.id, { payment_method: 'pm_card_visa' });
  assert.deepEqual([paid.status, paid.amount_paid], ['paid', 4500]);
  // "" takes it off a draft
  const d2 = await draft(customer, { days_until_due: 30, shipping_cost: { shipping_rate: rate.id } });
  const off = await stripe.invoices.update(d2.id, { shipping_cost: '' });
  assert.deepEqual([off.shipping_cost, off.amount_shipping, off.total], [null, 0, 2500]);
});

test('Connect: on_behalf_of, transfer_data and application_fee_amount, and statement_descriptor, carried by the invoice\'s PaymentIntent and charge', async () => {
  const acct = await stripe.accounts.create({ type: 'express', country: 'US', email: 'seller@example.com' });
  const customer = await customerWithCard();
  await stripe.invoiceItems.create({ customer: customer.id, amount: 10000, currency: 'usd' });
  const inv = await stripe.invoices.create({
    customer: customer.id, pending_invoice_items_behavior: 'include', on_behalf_of: acct.id,
    transfer_data: { destination: acct.id }, application_fee_amount: 1230, statement_descriptor: 'SELLER INV',
  });
  assert.deepEqual([inv.on_behalf_of, inv.transfer_data, inv.application_fee_amount], [acct.id, { amount: null, destination: acct.id }, 1230]);
  shape(inv);
  const paid = await stripe.invoices.pay(inv.id);
  assert.equal(paid.status, 'paid');
  shape(paid);
  const [pi] = (await stripe.paymentIntents.list({ customer: customer.id })).data;
  assert.deepEqual([pi.amount, pi.application_fee_amount, pi.transfer_data.destination, pi.on_behalf_of, pi.statement_descriptor],
    [10000, 1230, acct.id, acct.id, 'SELLER INV']);
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.match(ch.transfer, /^tr_/);
  assert.match(ch.application_fee, /^fee_/);
  assert.equal((await stripe.transfers.retrieve(ch.transfer)).destination, acct.id);
  assert.equal((await stripe.applicationFees.retrieve(ch.application_fee)).amount, 1230);
  // refusals: a fee without a destination, an account that is not the merchant's, both a fee
  // and transfer_data[amount]; a fee more than the payment when it is paid
  await assert.rejects(stripe.invoices.create({ customer: customer.id, application_fee_amount: 100 }),
    (e) => e.statusCode === 400 && e.param === 'application_fee_amount');
  await assert.rejects(stripe.invoices.create({ customer: customer.id, transfer_data: { destination: 'acct_nope' } }),
    (e) => e.statusCode === 400 && e.param === 'transfer_data[destination]');
  await assert.rejects(stripe.invoices.create({ customer: customer.id, on_behalf_of: 'acct_nope' }),
    (e) => e.statusCode === 400 && e.param === 'on_behalf_of');
  await assert.rejects(stripe.invoices.create({ customer: customer.id, application_fee_amount: 1, transfer_data: { destination: acct.id, amount: 5 } }),
    (e) => e.statusCode === 400);
  await stripe.invoiceItems.create({ customer: customer.id, amount: 500, currency: 'usd' });
  const small = await stripe.invoices.create({
    customer: customer.id, pending_invoice_items_behavior: 'include', transfer_data: { destination: acct.id }, application_fee_amount: 600,
  });
  await assert.rejects(stripe.invoices.pay(small.id), (e) => e.statusCode === 400 && e.param === 'application_fee_amount');
  // cleared on the draft, it pays as any invoice
  const cleared = await stripe.invoices.update(small.id, { application_fee_amount: '', transfer_data: '' });
  assert.deepEqual([cleared.application_fee_amount, cleared.transfer_data], [null, null]);
  assert.equal((await stripe.invoices.pay(small.id)).status, 'paid');
});

test('from_invoice: a revision copies the invoice (lines, footer, terms); finalizing it voids the original and is numbered after it', async () => {
  const customer = await customerWithCard();
  const orig = await stripe.invoices.finalizeInvoice((await draft(customer, { days_until_due: 30, footer: 'Orig footer', description: 'Work' })).id);
  const rev = await stripe.invoices.create({ from_invoice: { action: 'revision', invoice: orig.id }, footer: 'Revised footer' });
  assert.deepEqual([rev.status, rev.customer, rev.total, rev.description, rev.collection_method, rev.footer],
    ['draft', customer.id, 2500, 'Work', 'send_invoice', 'Revised footer']);
  assert.deepEqual(rev.from_invoice, { action: 'revision', invoice: orig.id });
  assert.notEqual(rev.lines.data[0].id, orig.lines.data[0].id);
  shape(rev);
  // its lines are its own: one added changes the revision, not the original
  await stripe.invoiceItems.create({ customer: customer.id, invoice: rev.id, amount: 500, currency: 'usd' });
  assert.equal((await stripe.invoices.retrieve(orig.id)).total, 2500);
  const fin = await stripe.invoices.finalizeInvoice(rev.id);
  assert.deepEqual([fin.number, fin.total, fin.status], [`${orig.number}-1`, 3000, 'open']);
  const voided = await stripe.invoices.retrieve(orig.id);
  assert.deepEqual([voided.status, voided.latest_revision], ['void', rev.id]);
  shape(voided);
  assert.equal((await eventsOf(orig.id, 'invoice.voided')).length, 1);
  // a revision of the revision, numbered next
  const rev2 = await stripe.invoices.finalizeInvoice((await stripe.invoices.create({ from_invoice: { action: 'revision', invoice: rev.id } })).id);
  assert.equal(rev2.number, `${orig.number}-2`);
  assert.equal((await stripe.invoices.retrieve(rev.id)).status, 'void');
  // the customer's next invoice keeps its own sequence
  const next = await stripe.invoices.finalizeInvoice((await draft(customer)).id);
  assert.equal(next.number, orig.number.replace(/-0001$/, '-0002'));
  // refusals: a void invoice, a draft, a paid one, another customer, no customer at all
  await assert.rejects(stripe.invoices.create({ from_invoice: { action: 'revision', invoice: orig.id } }), (e) => e.statusCode === 400);
  const d = await draft(customer);
  await assert.rejects(stripe.invoices.create({ from_invoice: { action: 'revision', invoice: d.id } }), (e) => e.statusCode === 400);
  await stripe.invoices.pay(next.id, { paid_out_of_band: true });
  await assert.rejects(stripe.invoices.create({ from_invoice: { action: 'revision', invoice: next.id } }), (e) => e.statusCode === 400);
  const stranger = await customerWithCard();
  await assert.rejects(stripe.invoices.create({ customer: stranger.id, from_invoice: { action: 'revision', invoice: rev2.id } }),
    (e) => e.statusCode === 400 && e.param === 'customer');
  await assert.rejects(stripe.invoices.create({}), (e) => e.statusCode === 400 && e.code === 'parameter_missing');
  // a revision left a draft while its original is paid meanwhile cannot be finalized
  const rev3 = await stripe.invoices.create({ from_invoice: { action: 'revision', invoice: rev2.id } });
  await stripe.invoices.pay(rev2.id, { paid_out_of_band: true });
  await assert.rejects(stripe.invoices.finalizeInvoice(rev3.id), (e) => e.statusCode === 400);
});

test('GET /v1/invoices?due_date: a time or a gt/gte/lt/lte range; invoices without a due date never match', async () => {
  const customer = await customerWithCard();
  const d10 = await draft(customer, { days_until_due: 10 });
  const d20 = await draft(customer, { days_until_due: 20 });
  await stripe.invoiceItems.create({ customer: customer.id, amount: 700, currency: 'usd' });
  const auto = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
  assert.equal(auto.due_date, null);
  const ids = async (due_date) => (await stripe.invoices.list({ customer: customer.id, due_date })).data.map((x) => x.id);
  assert.deepEqual(await ids(d10.due_date), [d10.id]);
  assert.deepEqual(await ids({ gt: d10.due_date }), [d20.id]);
  assert.deepEqual(await ids({ gte: d10.due_date, lte: d20.due_date }), [d20.id, d10.id]);
  assert.deepEqual(await ids({ lt: d20.due_date }), [d10.id]);
  assert.deepEqual(await ids({ gte: 0 }), [d20.id, d10.id]);
  assert.deepEqual(await ids({ lt: d10.due_date }), []);
  const all = await stripe.invoices.list({ customer: customer.id });
  assert.ok(all.data.some((x) => x.id === auto.id));
  shape((await stripe.invoices.list({ customer: customer.id, due_date: d10.due_date })).data[0]);
  await assert.rejects(stripe.invoices.list({ due_date: { after: 1 } }), (e) => e.statusCode === 400);
});

test('invoice payments: GET /v1/invoice_payments and /{id}, one per invoice with a PaymentIntent, as the invoice\'s payments show it; filters; tenants', async () => {
  const customer = await customerWithCard();
  const paid = await stripe.invoices.pay((await stripe.invoices.finalizeInvoice((await draft(customer, { days_until_due: 30 }, 1200)).id)).id, { payment_method: 'pm_card_visa' });
  assert.equal(paid.status, 'paid');
  // a declined attempt leaves the invoice open with its PaymentIntent (a send_invoice invoice
  // gets one when it is paid); voiding such an invoice cancels its payment
  const declining = await stripe.customers.create({ payment_method: 'pm_card_chargeDeclined' });
  const declined = async (amount) => {
    const inv = await stripe.invoices.finalizeInvoice((await draft(declining, { days_until_due: 30 }, amount)).id);
    await assert.rejects(stripe.invoices.pay(inv.id, { payment_method: declining.invoice_settings.default_payment_method || (await stripe.customers.listPaymentMethods(declining.id)).data[0].id }), (e) => e.statusCode === 402);
    return stripe.invoices.retrieve(inv.id);
  };
  const open = await declined(3400);
  assert.equal(open.status, 'open');
  const voided = await stripe.invoices.voidInvoice((await declined(560)).id);
  const keys = ['amount_paid', 'amount_requested', 'created', 'currency', 'id', 'invoice', 'is_default', 'livemode', 'object', 'payment', 'status', 'status_transitions'];
  const byInvoice = {};
  for (const inv of [paid, open, voided]) {
    const full = await stripe.invoices.retrieve(inv.id, { expand: ['payments'] });
    assert.equal(full.payments.data.length, 1, inv.id);
    const shown = full.payments.data[0];
    assert.deepEqual(Object.keys(shown).sort(), keys);
    const got = await stripe.invoicePayments.retrieve(shown.id);
    assert.deepEqual(got, shown);
    byInvoice[inv.id] = got;
  }
  assert.equal(byInvoice[paid.id].payment.type, 'payment_intent');
  assert.equal((await stripe.paymentIntents.retrieve(byInvoice[paid.id].payment.payment_intent)).status, 'succeeded');
  assert.equal(byInvoice[paid.id].status, 'paid');
  assert.equal(byInvoice[paid.id].amount_paid, 1200);
  assert.equal(byInvoice[paid.id].status_transitions.paid_at, paid.status_transitions.paid_at);
  assert.equal(byInvoice[open.id].status, 'open');
  assert.equal(byInvoice[open.id].amount_paid, null);
  assert.equal(byInvoice[open.id].amount_requested, 3400);
  assert.equal(byInvoice[voided.id].status, 'canceled');
  assert.equal(byInvoice[voided.id].status_transitions.canceled_at, voided.status_transitions.voided_at);

  const ids = (l) => l.data.map((p) => p.id);
  const all = await stripe.invoicePayments.list({ limit: 100 });
  for (const inv of [paid, open, voided]) assert.ok(ids(all).includes(byInvoice[inv.id].id));
  assert.deepEqual(ids(await stripe.invoicePayments.list({ invoice: open.id })), [byInvoice[open.id].id]);
  assert.deepEqual(ids(await stripe.invoicePayments.list({ payment: { type: 'payment_intent', payment_intent: byInvoice[paid.id].payment.payment_intent } })), [byInvoice[paid.id].id]);
  assert.deepEqual(ids(await stripe.invoicePayments.list({ payment: { type: 'payment_record' } })), []);
  const canceled = await stripe.invoicePayments.list({ status: 'canceled', limit: 100 });
  assert.ok(canceled.data.every((p) => p.status === 'canceled') && ids(canceled).includes(byInvoice[voided.id].id));
  // newest first, paged by cursors
  const mine = [byInvoice[voided.id].id, byInvoice[open.id].id, byInvoice[paid.id].id];
  const first = await stripe.invoicePayments.list({ limit: 1 });
  assert.equal(first.has_more, true);
  assert.deepEqual(ids(first), [mine[0]]);
  assert.deepEqual(ids(await stripe.invoicePayments.list({ limit: 2, starting_after: mine[0] })), mine.slice(1));
  assert.deepEqual(ids(await stripe.invoicePayments.list({ limit: 1, ending_before: mine[2] })), [mine[1]]);

  // a draft has none; another merchant sees none of them
  const d = await draft(customer);
  assert.deepEqual((await stripe.invoices.retrieve(d.id, { expand: ['payments'] })).payments.data, []);
  await assert.rejects(stripe.invoicePayments.retrieve(`inpay_${d.id.slice(3)}`), (e) => e.statusCode === 404);
  await assert.rejects(other.invoicePayments.retrieve(byInvoice[paid.id].id), (e) => e.statusCode === 404);
  assert.deepEqual(ids(await other.invoicePayments.list({ invoice: paid.id })), []);
  await assert.rejects(stripe.invoicePayments.list({ status: 'late' }), (e) => e.statusCode === 400 && e.param === 'status');
});
