'use strict';
// Checkout Sessions in mode=subscription: made through stripe-node, paid on Tender's checkout
// page in headless Chromium (Debian's chromium + playwright-core). The subscription is made by
// the same create as POST /v1/subscriptions and its first invoice is paid by an ordinary
// PaymentIntent whose write also completes the session: trials, declines, 3-D Secure, a form
// posted twice, refusals, tenants, no card number on disk or in the log, `tender verify`;
// `currency` with prices' currency_options.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startTender, stopAll, assertStripeShape, readStoreFiles, tender, launchChromium, startShop } = require('./helpers');
const { billingShape } = require('./billing_helpers');

const DAY = 86400;
let env;
let stripe;
let browser;
let shop;
let shopPort;
let monthly; // 20.00 eur / month
let seats; // 5.00 eur / month
let yearly; // 200.00 eur / year
let book; // 15.00 eur, one-time

const shape = (obj, schema) => billingShape(obj, schema);

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  shop = await startShop();
  shopPort = shop.address().port;
  browser = await launchChromium();
  monthly = await stripe.prices.create({ currency: 'eur', unit_amount: 2000, recurring: { interval: 'month' }, product_data: { name: 'Pro plan' } });
  seats = await stripe.prices.create({ currency: 'eur', unit_amount: 500, recurring: { interval: 'month' }, product_data: { name: 'Seat' } });
  yearly = await stripe.prices.create({ currency: 'eur', unit_amount: 20000, recurring: { interval: 'year' }, product_data: { name: 'Pro yearly' } });
  book = await stripe.prices.create({ currency: 'eur', unit_amount: 1500, product_data: { name: 'Book' } });
});
after(async () => {
  if (browser) await browser.close();
  if (shop) shop.close();
  await stopAll();
});

function subParams(extra = {}) {
  return {
    mode: 'subscription',
    line_items: [{ price: monthly.id }, { price: seats.id, quantity: 3 }],
    success_url: `http://127.0.0.1:${shopPort}/ok?session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: `http://127.0.0.1:${shopPort}/cancel`,
    ...extra,
  };
}

async function fillCard(page, number) {
  await page.getByLabel('Name on card').fill('Grace Hopper');
  await page.getByLabel('Card number').fill(number);
  await page.getByLabel('Month (MM)').fill('10');
  await page.getByLabel('Year (YYYY)').fill('2035');
  await page.getByLabel('CVC').fill('321');
}

const card = (number) => `payment_method_data[type]=card&payment_method_data[card][number]=${number}` +
  '&payment_method_data[card][exp_month]=12&payment_method_data[card][exp_year]=2034&payment_method_data[card][cvc]=123';

async function eventsFor(type, id) {
  return (await stripe.events.list({ type, limit: 100 })).data.filter((e) => e.data.object.id === id);
}

test('a subscription bought in the browser: customer made for customer_email, first invoice paid, card as default', async () => {
  const s = await stripe.checkout.sessions.create(subParams({
    customer_email: 'grace@example.com', client_reference_id: 'acct-7', metadata: { plan: 'pro' },
    subscription_data: { metadata: { seats: '3' }, description: 'Pro for Grace' },
  }));
  assert.equal(s.mode, 'subscription');
  assert.equal(s.status, 'open');
  assert.equal(s.payment_status, 'unpaid');
  assert.equal(s.amount_subtotal, 3500);
  assert.equal(s.amount_total, 3500);
  assert.equal(s.currency, 'eur');
  assert.equal(s.subscription, null);
  assert.equal(s.invoice, null);
  assert.equal(s.customer, null);
  assert.equal(s.payment_intent, null);
  assert.equal(s.submit_type, null);
  assertStripeShape(s, 'checkout.session');
  const items = await stripe.checkout.sessions.listLineItems(s.id);
  assert.deepEqual(items.data.map((i) => [i.description, i.quantity, i.amount_total, i.price.recurring.interval]),
    [['Pro plan', 1, 2000, 'month'], ['Seat', 3, 1500, 'month']]);

  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.inputValue('#email'), 'grace@example.com');
  assert.equal(await page.textContent('#total'), '35.00 EUR');
  assert.match(await page.textContent('#recurring'), /Then 35\.00 EUR \/ month/);
  await fillCard(page, '4242424242424242');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: 'Subscribe' }).click()]);
  assert.equal(new URL(page.url()).searchParams.get('session_id'), s.id);
  await page.close();

  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'paid');
  assert.equal(done.url, null);
  assert.match(done.subscription, /^sub_/);
  assert.match(done.invoice, /^in_/);
  assert.match(done.customer, /^cus_/);
  assert.equal(done.payment_intent, null);
  assert.equal(done.customer_details.email, 'grace@example.com');
  assert.equal(done.customer_details.name, 'Grace Hopper');
  assert.equal(done.client_reference_id, 'acct-7');
  assert.deepEqual(done.metadata, { plan: 'pro' });
  assertStripeShape(done, 'checkout.session');

  const cus = await stripe.customers.retrieve(done.customer);
  assert.equal(cus.email, 'grace@example.com');
  assert.equal(cus.name, 'Grace Hopper');
  const sub = await stripe.subscriptions.retrieve(done.subscription);
  shape(sub, 'subscription');
  assert.equal(sub.status, 'active');
  assert.equal(sub.customer, cus.id);
  assert.deepEqual(sub.metadata, { seats: '3' });
  assert.equal(sub.description, 'Pro for Grace');
  // billing_mode defaulted by the session create's API version (stripe-node 23's: flexible)
  assert.equal(sub.billing_mode.type, 'flexible');
  assert.deepEqual(sub.items.data.map((i) => [i.price.id, i.quantity]), [[monthly.id, 1], [seats.id, 3]]);
  assert.equal(sub.latest_invoice, done.invoice);
  const pms = (await stripe.customers.listPaymentMethods(cus.id)).data;
  assert.equal(pms.length, 1);
  assert.equal(pms[0].card.last4, '4242');
  assert.equal(sub.default_payment_method, pms[0].id);
  const inv = await stripe.invoices.retrieve(done.invoice, { expand: ['payments'] });
  assert.equal(inv.status, 'paid');
  assert.equal(inv.amount_paid, 3500);
  assert.equal(inv.billing_reason, 'subscription_create');
  const pi = inv.payments.data[0].payment.payment_intent;
  const intent = await stripe.paymentIntents.retrieve(typeof pi === 'string' ? pi : pi.id);
  assert.equal(intent.status, 'succeeded');
  assert.equal(intent.amount, 3500);
  assert.equal(intent.customer, cus.id);
  const charges = (await stripe.charges.list({ customer: cus.id })).data;
  assert.deepEqual(charges.map((c) => [c.amount, c.status]), [[3500, 'succeeded']]);

  // expand[]=subscription gives the object; the subscription filter finds the session
  const expanded = await stripe.checkout.sessions.retrieve(s.id, { expand: ['subscription'] });
  assert.equal(expanded.subscription.id, sub.id);
  assert.equal(expanded.subscription.status, 'active');
  assert.deepEqual((await stripe.checkout.sessions.list({ subscription: sub.id })).data.map((x) => x.id), [s.id]);
  // a subscription-mode session is not listed by its invoice's intent (it has no payment_intent)
  assert.deepEqual((await stripe.checkout.sessions.list({ payment_intent: intent.id })).data, []);

  // events: the session's completion (once, naming the subscription), the subscription's and
  // the invoice's own
  const ev = await eventsFor('checkout.session.completed', s.id);
  assert.equal(ev.length, 1);
  assert.equal(ev[0].data.object.subscription, sub.id);
  assert.equal(ev[0].data.object.payment_status, 'paid');
  assert.equal((await eventsFor('customer.subscription.created', sub.id)).length, 1);
  assert.equal((await eventsFor('invoice.paid', inv.id)).length, 1);
  assert.equal((await eventsFor('customer.created', cus.id)).length, 1);

  // the page of a completed session sends the browser on to success_url again
  const again = await browser.newPage();
  await again.goto(s.url);
  assert.match(again.url(), /\/ok\?session_id=/);
  await again.close();
});

test('currency: recurring prices sold in their currency_options\' currency; the subscription and its invoice in it', async () => {
  const plan = await stripe.prices.create({ currency: 'eur', unit_amount: 2000, recurring: { interval: 'month' }, product_data: { name: 'Team plan' }, currency_options: { usd: { unit_amount: 2200 } } });
  const extra = await stripe.prices.create({ currency: 'eur', unit_amount: 500, recurring: { interval: 'month' }, product_data: { name: 'Extra seat' }, currency_options: { usd: { unit_amount: 550 } } });
  const s = await stripe.checkout.sessions.create(subParams({ currency: 'usd', customer_email: 'ada@example.com', line_items: [{ price: plan.id }, { price: extra.id, quantity: 2 }] }));
  assert.equal(s.currency, 'usd');
  assert.equal(s.amount_total, 3300);
  assertStripeShape(s, 'checkout.session');
  const items = await stripe.checkout.sessions.listLineItems(s.id);
  assert.deepEqual(items.data.map((i) => [i.description, i.currency, i.amount_total]), [['Team plan', 'usd', 2200], ['Extra seat', 'usd', 1100]]);
  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.textContent('#total'), '33.00 USD');
  assert.match(await page.textContent('#recurring'), /Then 33\.00 USD \/ month/);
  await fillCard(page, '4242424242424242');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: 'Subscribe' }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.payment_status, 'paid');
  const sub = await stripe.subscriptions.retrieve(done.subscription);
  shape(sub, 'subscription');
  assert.equal(sub.currency, 'usd');
  assert.deepEqual(sub.items.data.map((i) => [i.price.id, i.quantity]), [[plan.id, 1], [extra.id, 2]]);
  const inv = await stripe.invoices.retrieve(done.invoice, { expand: ['payments'] });
  assert.deepEqual([inv.status, inv.currency, inv.amount_paid], ['paid', 'usd', 3300]);
  const pi = await stripe.paymentIntents.retrieve(inv.payments.data[0].payment.payment_intent);
  assert.deepEqual([pi.status, pi.amount, pi.currency], ['succeeded', 3300, 'usd']);
  // a recurring price without an entry for the session's currency: 400
  await assert.rejects(stripe.checkout.sessions.create(subParams({ currency: 'usd' })),
    (e) => e.statusCode === 400 && e.param === 'line_items[0][price]');
});

test('a trial: nothing charged, the subscription trialing, the card saved for later', async () => {
  const cus = await stripe.customers.create({ email: 'trial@example.com' });
  const s = await stripe.checkout.sessions.create(subParams({
    customer: cus.id, line_items: [{ price: monthly.id }],
    subscription_data: { trial_period_days: 14, billing_mode: { type: 'classic' } },
  }));
  assert.equal(s.amount_total, 0);
  assert.equal(s.amount_subtotal, 0);
  assert.equal(s.payment_status, 'no_payment_required');
  assert.equal(s.customer, cus.id);
  assertStripeShape(s, 'checkout.session');
  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.textContent('#total'), '0.00 EUR');
  assert.match(await page.textContent('#recurring'), /Free for 14 days, then 20\.00 EUR \/ month/);
  await fillCard(page, '4242424242424242');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: 'Start trial' }).click()]);
  await page.close();

  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'no_payment_required');
  assert.equal(done.customer, cus.id);
  assertStripeShape(done, 'checkout.session');
  const sub = await stripe.subscriptions.retrieve(done.subscription);
  assert.equal(sub.status, 'trialing');
  assert.equal(sub.trial_end - sub.trial_start, 14 * DAY);
  assert.deepEqual([sub.billing_mode.type, sub.billing_mode.flexible], ['classic', null]);
  const pms = (await stripe.customers.listPaymentMethods(cus.id)).data;
  assert.equal(pms.length, 1);
  assert.equal(sub.default_payment_method, pms[0].id);
  const inv = await stripe.invoices.retrieve(done.invoice);
  assert.equal(inv.total, 0);
  assert.equal(inv.status, 'paid');
  assert.deepEqual((await stripe.charges.list({ customer: cus.id })).data, []);
  assert.deepEqual((await stripe.paymentIntents.list({ customer: cus.id })).data, []);
  const ev = await eventsFor('checkout.session.completed', s.id);
  assert.equal(ev.length, 1);
  assert.equal(ev[0].data.object.payment_status, 'no_payment_required');
});

test('a declined card: the session stays open with the error, no subscription, no customer; another card then pays', async () => {
  const email = 'declined@example.com';
  const s = await stripe.checkout.sessions.create(subParams({ customer_email: email }));
  const page = await browser.newPage();
  await page.goto(s.url);
  await fillCard(page, '4000000000000002');
  await page.getByRole('button', { name: 'Subscribe' }).click();
  await page.waitForSelector('p.error');
  assert.match(await page.textContent('p.error'), /declined/);
  const open = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(open.status, 'open');
  assert.equal(open.subscription, null);
  assert.equal(open.customer, null);
  assert.deepEqual((await stripe.customers.list({ email })).data, []);
  assert.equal((await eventsFor('checkout.session.completed', s.id)).length, 0);

  // the buyer tries again at once, with a card that pays: one subscription, one customer
  await fillCard(page, '4242424242424242');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: 'Subscribe' }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  const customers = (await stripe.customers.list({ email })).data;
  assert.deepEqual(customers.map((c) => c.id), [done.customer]);
  const subs = (await stripe.subscriptions.list({ customer: done.customer, status: 'all' })).data;
  assert.deepEqual(subs.map((x) => [x.id, x.status]), [[done.subscription, 'active']]);
});

test('3-D Secure comes back to the page; a challenge walked away from leaves no live subscription behind', async () => {
  const s = await stripe.checkout.sessions.create(subParams({ customer_email: 'secure@example.com' }));
  const page = await browser.newPage();
  await page.goto(s.url);
  await fillCard(page, '4000002760003184');
  await Promise.all([page.waitForURL(/\/3ds\//), page.getByRole('button', { name: 'Subscribe' }).click()]);
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: 'Complete authentication' }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'paid');
  assert.equal((await stripe.subscriptions.retrieve(done.subscription)).status, 'active');
  assert.equal((await stripe.invoices.retrieve(done.invoice)).status, 'paid');
  assert.equal((await eventsFor('checkout.session.completed', s.id)).length, 1);

  // the buyer leaves the challenge, goes back and pays with another card: the first attempt's
  // subscription ends (incomplete_expired, its invoice void, its intent abandoned)
  const t = await stripe.checkout.sessions.create(subParams({ customer_email: 'walker@example.com' }));
  const p2 = await browser.newPage();
  await p2.goto(t.url);
  await fillCard(p2, '4000002760003184');
  await Promise.all([p2.waitForURL(/\/3ds\//), p2.getByRole('button', { name: 'Subscribe' }).click()]);
  const challenge = new URL(p2.url());
  const waiting = await stripe.checkout.sessions.retrieve(t.id);
  assert.equal(waiting.status, 'open');
  assert.equal(waiting.subscription, null);
  await p2.goto(t.url);
  await fillCard(p2, '4242424242424242');
  await Promise.all([p2.waitForURL(/\/ok\?/), p2.getByRole('button', { name: 'Subscribe' }).click()]);
  await p2.close();
  const t2 = await stripe.checkout.sessions.retrieve(t.id);
  assert.equal(t2.status, 'complete');
  const subs = (await stripe.subscriptions.list({ customer: t2.customer, status: 'all' })).data;
  assert.equal(subs.length, 2);
  const byStatus = Object.fromEntries(subs.map((x) => [x.status, x]));
  assert.equal(byStatus.active.id, t2.subscription);
  assert.ok(byStatus.incomplete_expired);
  assert.equal((await stripe.invoices.retrieve(byStatus.incomplete_expired.latest_invoice)).status, 'void');
  // the old challenge can no longer pay
  const r = await env.request({ method: 'POST', path: `${challenge.pathname}/complete`, body: '' });
  assert.equal(r.status, 404);
  assert.equal((await stripe.subscriptions.retrieve(byStatus.incomplete_expired.id)).status, 'incomplete_expired');
});

test('a form posted twice (a double click) makes one subscription and pays once', async () => {
  const odd = await stripe.prices.create({ currency: 'usd', unit_amount: 4323, recurring: { interval: 'month' }, product_data: { name: 'Odd plan' } });
  const cus = await stripe.customers.create({ email: 'twice@example.com' });
  const s = await stripe.checkout.sessions.create({ mode: 'subscription', customer: cus.id, line_items: [{ price: odd.id }], success_url: 'https://example.com/ok' });
  const p = new URL(s.url).pathname;
  const codes = (await Promise.all([1, 2, 3].map(() => env.request({ method: 'POST', path: p, body: card('4242424242424242') })))).map((x) => x.status);
  assert.ok(codes.every((c) => c === 303 || c === 409), codes.join(','));
  assert.ok(codes.includes(303), codes.join(','));
  const subs = (await stripe.subscriptions.list({ customer: cus.id, status: 'all' })).data;
  assert.equal(subs.length, 1, `statuses ${codes}`);
  assert.equal(subs[0].status, 'active');
  const paid = (await stripe.paymentIntents.list({ customer: cus.id })).data.filter((x) => x.status === 'succeeded');
  assert.deepEqual(paid.map((x) => x.amount), [4323]);
  assert.equal((await stripe.checkout.sessions.retrieve(s.id)).subscription, subs[0].id);
  // a trial posted twice: one subscription too
  const cus2 = await stripe.customers.create({});
  const t = await stripe.checkout.sessions.create({ mode: 'subscription', customer: cus2.id, line_items: [{ price: odd.id }], subscription_data: { trial_period_days: 7 }, success_url: 'https://example.com/ok' });
  const codes2 = (await Promise.all([1, 2, 3].map(() => env.request({ method: 'POST', path: new URL(t.url).pathname, body: card('4242424242424242') })))).map((x) => x.status);
  assert.ok(codes2.every((c) => c === 303 || c === 409), codes2.join(','));
  assert.equal((await stripe.subscriptions.list({ customer: cus2.id, status: 'all' })).data.length, 1);
});

test('refused sessions change nothing', async () => {
  const metered = await stripe.prices.create({ currency: 'eur', unit_amount: 10, recurring: { interval: 'month', usage_type: 'metered' }, product_data: { name: 'Calls' } });
  const usd = await stripe.prices.create({ currency: 'usd', unit_amount: 900, recurring: { interval: 'month' }, product_data: { name: 'US plan' } });
  const cases = [
    [{ line_items: [{ price: book.id }] }, 'line_items[0][price]', /at least one recurring price/],
    [{ line_items: [{ price: monthly.id }, { price: book.id }] }, 'line_items[1][price]', /recurring prices only/],
    [{ line_items: [{ price: monthly.id }, { price: yearly.id }] }, 'line_items[1][price]', /same billing interval/],
    [{ line_items: [{ price: monthly.id }, { price: usd.id }] }, 'line_items[1][price]', /every line item must be in eur/],
    [{ line_items: [{ price: metered.id }] }, 'line_items[0][price]', /usage records/],
    [{ line_items: [{ price_data: { currency: 'eur', product_data: { name: 'x' }, unit_amount: 100 } }] }, 'line_items[0][price]', /recurring/],
    [{ subscription_data: { trial_period_days: 0 } }, 'subscription_data[trial_period_days]', /between 1/],
    [{ subscription_data: { trial_period_days: 731 } }, 'subscription_data[trial_period_days]', /between 1/],
    [{ subscription_data: { billing_mode: { type: 'classic', flexible: { proration_discounts: 'included' } } } },
      'subscription_data[billing_mode][flexible]', /only be set when/],
    [{ payment_intent_data: { description: 'x' } }, 'payment_intent_data', /payment/],
    [{ submit_type: 'pay' }, 'submit_type', /payment/],
    [{ line_items: undefined }, 'line_items', /line_items/],
    [{ customer: 'cus_nope' }, 'customer', /No such customer/],
  ];
  const sessions = (await stripe.checkout.sessions.list({ limit: 100 })).data.length;
  const prices = (await stripe.prices.list({ limit: 100 })).data.length;
  for (const [extra, param, msg] of cases) {
    await assert.rejects(stripe.checkout.sessions.create(subParams(extra)), (e) => {
      assert.ok(e.statusCode === 400 || e.statusCode === 404, `${JSON.stringify(extra)}: ${e.statusCode} ${e.message}`);
      assert.equal(e.param, param, JSON.stringify(extra));
      assert.match(e.message, msg, JSON.stringify(extra));
      return true;
    });
  }
  // recurring prices in payment mode, and subscription_data outside subscription mode
  await assert.rejects(stripe.checkout.sessions.create(subParams({ mode: 'payment' })), (e) => {
    assert.equal(e.param, 'line_items[0][price]');
    assert.match(e.message, /You specified `payment` mode but passed a recurring price/);
    return true;
  });
  await assert.rejects(stripe.checkout.sessions.create({ mode: 'payment', line_items: [{ price: book.id }], subscription_data: { trial_period_days: 3 }, success_url: 'https://example.com/s' }),
    (e) => e.statusCode === 400 && e.param === 'subscription_data');
  assert.equal((await stripe.checkout.sessions.list({ limit: 100 })).data.length, sessions);
  assert.equal((await stripe.prices.list({ limit: 100 })).data.length, prices, 'a refused session makes no price');

  // price_data with recurring makes the subscription's price inline (inactive, as on Stripe)
  const s = await stripe.checkout.sessions.create(subParams({
    line_items: [{ price_data: { currency: 'eur', product_data: { name: 'Inline plan' }, unit_amount: 1200, recurring: { interval: 'week' } }, quantity: 2 }],
  }));
  assert.equal(s.amount_total, 2400);
  const r = await env.request({ method: 'POST', path: new URL(s.url).pathname, body: card('4242424242424242') });
  assert.equal(r.status, 303);
  const done = await stripe.checkout.sessions.retrieve(s.id);
  const sub = await stripe.subscriptions.retrieve(done.subscription);
  assert.equal(sub.status, 'active');
  assert.equal(sub.items.data[0].price.recurring.interval, 'week');
  assert.equal(sub.items.data[0].price.active, false);
  assert.equal(sub.items.data[0].quantity, 2);
});

test('tenants', async () => {
  const s = await stripe.checkout.sessions.create(subParams());
  await env.request({ method: 'POST', path: new URL(s.url).pathname, body: card('4242424242424242') });
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  const other = env.stripe(env.merchants[1].secret_key);
  await assert.rejects(other.checkout.sessions.retrieve(s.id), (e) => e.statusCode === 404);
  await assert.rejects(other.subscriptions.retrieve(done.subscription), (e) => e.statusCode === 404);
  assert.deepEqual((await other.checkout.sessions.list({ subscription: done.subscription })).data, []);
  assert.deepEqual((await other.subscriptions.list()).data, []);
  const wrong = await env.request({ path: `/checkout/${env.merchants[1].id}/${s.id}` });
  assert.equal(wrong.status, 404);
  // another merchant's recurring price cannot be sold
  await assert.rejects(other.checkout.sessions.create(subParams()), (e) => e.statusCode === 404);
});

test('no card number in the store or the log; tender verify passes', async () => {
  for (const pan of ['4242424242424242', '4000000000000002', '4000002760003184']) {
    for (const { file, data } of readStoreFiles(env.dataDir)) {
      assert.ok(!data.includes(pan), `${pan} in clear in ${file}`);
    }
    const log = fs.readFileSync(env.server.logPath, 'utf8');
    assert.ok(!log.includes(pan), `${pan} in the log`);
  }
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});
