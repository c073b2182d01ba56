'use strict';
// Checkout Sessions (mode=payment) through stripe-node, paid on Tender's checkout page in
// headless Chromium (Debian's chromium + playwright-core): success_url with the session's id,
// checkout.session.completed, expiry by the API and by the clock, cancel_url, refusals, tenants;
// `currency` with prices' currency_options (the session, its line items, page and PaymentIntent).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, assertStripeShape, storeSql, launchChromium, startShop, SHARED } = require('./helpers');

let env;
let stripe;
let browser;
let shop;
let shopPort;
let book; // 1,500 eur
let pen; // 250 eur

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  shop = await startShop();
  shopPort = shop.address().port;
  browser = await launchChromium();
  book = await stripe.prices.create({ currency: 'eur', unit_amount: 1500, product_data: { name: 'Book' } });
  pen = await stripe.prices.create({ currency: 'eur', unit_amount: 250, product_data: { name: 'Pen' } });
});
after(async () => {
  if (browser) await browser.close();
  if (shop) shop.close();
  await stopAll();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function sessionParams(extra = {}) {
  return {
    mode: 'payment',
    line_items: [{ price: book.id, quantity: 2 }, { price: pen.id }],
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

test('a session, paid in the browser: success_url with its id, checkout.session.completed', async () => {
  const s = await stripe.checkout.sessions.create(sessionParams({
    customer_email: 'ada@example.com', client_reference_id: 'order-42', metadata: { order: '42' },
    payment_intent_data: { description: 'Order 42' },
  }));
  assert.match(s.id, /^cs_test_/);
  assert.equal(s.object, 'checkout.session');
  assert.equal(s.status, 'open');
  assert.equal(s.payment_status, 'unpaid');
  assert.equal(s.amount_total, 3250);
  assert.equal(s.currency, 'eur');
  assert.equal(s.payment_intent, null);
  assert.ok(s.expires_at > s.created);
  assert.match(s.url, /\/checkout\//);
  assertStripeShape(s, 'checkout.session');
  const items = await stripe.checkout.sessions.listLineItems(s.id);
  assert.deepEqual(items.data.map((i) => [i.description, i.quantity, i.amount_total]), [['Book', 2, 3000], ['Pen', 1, 250]]);

  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.inputValue('#email'), 'ada@example.com');
  assert.equal(await page.textContent('#total'), '32.50 EUR');
  await fillCard(page, '4242424242424242');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /Pay 32\.50 EUR/ }).click()]);
  assert.equal(new URL(page.url()).searchParams.get('session_id'), s.id);
  await page.close();

  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'paid');
  assert.equal(done.url, null);
  assert.equal(done.customer_details.email, 'ada@example.com');
  assert.equal(done.customer_details.name, 'Ada Lovelace');
  assert.equal(done.client_reference_id, 'order-42');
  assertStripeShape(done, 'checkout.session');
  const pi = await stripe.paymentIntents.retrieve(done.payment_intent);
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.amount, 3250);
  assert.equal(pi.description, 'Order 42');
  const ev = (await stripe.events.list({ type: 'checkout.session.completed', limit: 10 })).data.filter((e) => e.data.object.id === s.id);
  assert.equal(ev.length, 1);
  assert.equal(ev[0].data.object.payment_intent, pi.id);
  // the page of a completed session sends the browser on to success_url again, never a form
  const again = await browser.newPage();
  await again.goto(s.url.replace(/\/$/, ''));
  assert.match(again.url(), /\/ok\?session_id=/);
  await again.close();
  const listed = await stripe.checkout.sessions.list({ payment_intent: pi.id });
  assert.deepEqual(listed.data.map((x) => x.id), [s.id]);
});

test('a decline keeps the session open; the cancel link goes back to cancel_url', async () => {
  const s = await stripe.checkout.sessions.create(sessionParams());
  const page = await browser.newPage();
  await page.goto(s.url);
  await fillCard(page, '4000000000009995');
  await page.getByRole('button', { name: /Pay/ }).click();
  await page.waitForSelector('p.error');
  assert.match(await page.textContent('p.error'), /declined/);
  const open = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(open.status, 'open');
  assert.equal((await stripe.paymentIntents.retrieve(open.payment_intent)).status, 'requires_payment_method');
  await Promise.all([page.waitForURL(/\/cancel$/), page.click('#cancel')]);
  await page.close();
});

test('expire: by the API, and by the clock', async () => {
  const s = await stripe.checkout.sessions.create(sessionParams());
  const x = await stripe.checkout.sessions.expire(s.id);
  assert.equal(x.status, 'expired');
  assert.equal(x.url, null);
  assertStripeShape(x, 'checkout.session');
  await assert.rejects(stripe.checkout.sessions.expire(s.id), (e) => e.statusCode === 400);
  const r = await env.request({ path: new URL(s.url).pathname });
  assert.equal(r.status, 410);
  // a session past its expires_at (moved into the past in the store, as time would) is expired
  // by the scheduler, with checkout.session.expired
  const t = await stripe.checkout.sessions.create(sessionParams());
  storeSql(env.dataDir, `UPDATE checkout_sessions SET expires_at = 1 WHERE id = '${t.id}'`);
  let now;
  for (let i = 0; i < 20; i++) {
    now = await stripe.checkout.sessions.retrieve(t.id);
    if (now.status === 'expired') break;
    await sleep(250);
  }
  assert.equal(now.status, 'expired');
  const ev = (await stripe.events.list({ type: 'checkout.session.expired', limit: 10 })).data.map((e) => e.data.object.id);
  assert.ok(ev.includes(s.id) && ev.includes(t.id));
});

test('refused sessions', async () => {
  const monthly = await stripe.prices.create({ currency: 'eur', unit_amount: 500, recurring: { interval: 'month' }, product_data: { name: 'Club' } });
  const cus = await stripe.customers.create({});
  const cases = [
    [{ mode: 'subscription' }, 'line_items[0][price]'], // one-time prices: no recurring one
    [{ mode: 'bogus' }, 'mode'],
    [{ success_url: undefined }, 'success_url'],
    [{ success_url: 'ftp://x' }, 'success_url'],
    [{ cancel_url: 'javascript:alert(1)' }, 'cancel_url'],
    [{ line_items: [{ price: monthly.id }] }, 'line_items[0][price]'],
    [{ customer: cus.id, customer_email: 'x@example.com' }, 'customer_email'],
    [{ customer: 'cus_nope' }, 'customer'],
    [{ expires_at: Math.floor(Date.now() / 1000) + 60 }, 'expires_at'],
    [{ payment_method_types: ['affirm'] }, 'payment_method_types'], // Checkout takes no buy-now-pay-later method
  ];
  const before = (await stripe.checkout.sessions.list({ limit: 100 })).data.length;
  for (const [extra, param] of cases) {
    await assert.rejects(stripe.checkout.sessions.create(sessionParams(extra)), (e) => {
      assert.ok(e.statusCode === 400 || e.statusCode === 404, `${JSON.stringify(extra)}: ${e.statusCode} ${e.message}`);
      assert.equal(e.param, param, JSON.stringify(extra));
      return true;
    });
  }
  assert.equal((await stripe.checkout.sessions.list({ limit: 100 })).data.length, before);
});

test('tenants', async () => {
  const s = await stripe.checkout.sessions.create(sessionParams());
  const other = env.stripe(env.merchants[1].secret_key);
  await assert.rejects(other.checkout.sessions.retrieve(s.id), (e) => e.statusCode === 404);
  await assert.rejects(other.checkout.sessions.expire(s.id), (e) => e.statusCode === 404);
  assert.deepEqual((await other.checkout.sessions.list()).data, []);
  const wrong = await env.request({ path: `/checkout/${env.merchants[1].id}/${s.id}` });
  assert.equal(wrong.status, 404);
  // another merchant's price cannot be sold
  await assert.rejects(other.checkout.sessions.create(sessionParams()), (e) => e.statusCode === 404);
});

test('the checkout page spends its merchant\'s rate limit (cards cannot be tried at will)', async () => {
  // one token a second, two at most: the five posts go at once, so that however slow the
  // machine, they arrive well within the second that would refill one
  const env2 = await startTender({ args: ['--rate-limit', '1/2'] });
  const s2 = env2.stripe();
  const price = await s2.prices.create({ currency: 'usd', unit_amount: 500, product_data: { name: 'Thing' } });
  const s = await s2.checkout.sessions.create({ mode: 'payment', line_items: [{ price: price.id }], success_url: 'https://example.com/ok' });
  await sleep(2100); // the API calls above spent the bucket: full again
  const path = new URL(s.url).pathname;
  const body = 'payment_method_data[type]=card&payment_method_data[card][number]=4000000000000002' +
    '&payment_method_data[card][exp_month]=12&payment_method_data[card][exp_year]=2034&payment_method_data[card][cvc]=123';
  const codes = (await Promise.all([0, 1, 2, 3, 4].map(() => env2.request({ method: 'POST', path, body }))))
    .map((r) => r.status).sort();
  // two are let in: declined (402), or one of them refused while the other's attempt is under
  // way on the session (409); the other three never reach the card
  assert.deepEqual(codes.slice(2), [429, 429, 429], codes.join(','));
  assert.ok(codes.slice(0, 2).every((c) => c === 402 || c === 409), codes.join(','));
  assert.ok(codes.includes(402), codes.join(','));
  // the page itself (GET) still shows
  assert.equal((await env2.request({ path })).status, 200);
  await env2.stop();
});

test('line items with price_data, as in Stripe\'s quickstart', async () => {
  const s = await stripe.checkout.sessions.create({
    mode: 'payment',
    line_items: [
      { price_data: { currency: 'eur', product_data: { name: 'T-shirt', metadata: { size: 'M' } }, unit_amount: 2000 }, quantity: 1 },
      { price_data: { currency: 'eur', product: (await stripe.prices.retrieve(book.id)).product, unit_amount: 1200 }, quantity: 2 },
    ],
    success_url: 'https://example.com/success',
  });
  assert.equal(s.amount_total, 4400);
  const items = await stripe.checkout.sessions.listLineItems(s.id);
  assert.deepEqual(items.data.map((i) => [i.description, i.quantity, i.amount_total]), [['T-shirt', 1, 2000], ['Book', 2, 2400]]);
  // the prices made inline are inactive, as Stripe makes them
  assert.equal(items.data[0].price.active, false);
  assert.equal(items.data[0].price.unit_amount, 2000);
  const prod = await stripe.products.retrieve(items.data[0].price.product);
  assert.deepEqual(prod.metadata, { size: 'M' });
  const bad = [
    [{ price_data: { currency: 'eur', product_data: { name: 'x' } } }, 'line_items[0][price_data][unit_amount]'],
    [{ price: book.id, price_data: { currency: 'eur', product_data: { name: 'x' }, unit_amount: 1 } }, 'line_items[0]'],
    [{ quantity: 1 }, 'line_items[0]'],
    [{ price_data: { currency: 'eur', unit_amount: 100 } }, 'line_items[0][price_data][product]'],
    [{ price_data: { currency: 'eur', product: 'prod_nope', unit_amount: 100 } }, 'line_items[0][price_data][product]'],
    [{ price_data: { currency: 'eur', product_data: { name: 'x' }, unit_amount: 100, recurring: { interval: 'month' } } }, 'line_items[0][price_data]'],
  ];
  const prices = (await stripe.prices.list({ limit: 100 })).data.length;
  for (const [item, param] of bad) {
    await assert.rejects(stripe.checkout.sessions.create({ mode: 'payment', line_items: [item], success_url: 'https://example.com/s' }), (e) => {
      assert.ok(e.statusCode === 400 || e.statusCode === 404, `${JSON.stringify(item)}: ${e.statusCode} ${e.message}`);
      assert.equal(e.param, param, JSON.stringify(item));
      return true;
    });
  }
  assert.equal((await stripe.prices.list({ limit: 100 })).data.length, prices, 'a refused session makes no price');
});

test('currency: prices with currency_options sold in the session\'s currency, paid in it', async () => {
  const lamp = await stripe.prices.create({ currency: 'eur', unit_amount: 1500, product_data: { name: 'Lamp' }, currency_options: { usd: { unit_amount: 1650 }, gbp: { unit_amount: 1300 } } });
  const bulb = await stripe.prices.create({ currency: 'eur', unit_amount: 250, product_data: { name: 'Bulb' }, currency_options: { usd: { unit_amount_decimal: '300' } } });
  const items = [{ price: lamp.id, quantity: 2 }, { price: bulb.id }];
  // without `currency`: the prices' own, as before
  const own = await stripe.checkout.sessions.create(sessionParams({ line_items: items }));
  assert.equal(own.currency, 'eur');
  assert.equal(own.amount_total, 3250);
  const s = await stripe.checkout.sessions.create(sessionParams({ line_items: items, currency: 'USD' }));
  assert.equal(s.currency, 'usd');
  assert.equal(s.amount_subtotal, 3600);
  assert.equal(s.amount_total, 3600);
  assertStripeShape(s, 'checkout.session');
  const li = await stripe.checkout.sessions.listLineItems(s.id);
  assert.deepEqual(li.data.map((i) => [i.description, i.currency, i.quantity, i.amount_subtotal, i.amount_total, i.price.id]),
    [['Lamp', 'usd', 2, 3300, 3300, lamp.id], ['Bulb', 'usd', 1, 300, 300, bulb.id]]);
  for (const i of li.data) assertStripeShape(i, 'item');
  // the page and the PaymentIntent it makes are in dollars
  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.textContent('#total'), '36.00 USD');
  await fillCard(page, '4242424242424242');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /Pay 36\.00 USD/ }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.payment_status, 'paid');
  const pi = await stripe.paymentIntents.retrieve(done.payment_intent);
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.amount, 3600);
  assert.equal(pi.currency, 'usd');
  // a price with neither the currency nor an option for it, or a currency Tender does not know: 400
  await assert.rejects(stripe.checkout.sessions.create(sessionParams({ line_items: items, currency: 'gbp' })),
    (e) => e.statusCode === 400 && e.param === 'line_items[1][price]' && /currency_options/.test(e.message));
  await assert.rejects(stripe.checkout.sessions.create(sessionParams({ line_items: [{ price: pen.id }], currency: 'usd' })),
    (e) => e.statusCode === 400 && e.param === 'line_items[0][price]');
  await assert.rejects(stripe.checkout.sessions.create(sessionParams({ line_items: items, currency: 'xyz' })),
    (e) => e.statusCode === 400 && e.param === 'currency');
});

test('mode=setup: a card saved to the customer in the browser, 3-D Secure included', async () => {
  const cus = await stripe.customers.create({ email: 'saver@example.com' });
  const s = await stripe.checkout.sessions.create({
    mode: 'setup', customer: cus.id, success_url: `http://127.0.0.1:${shopPort}/saved?cs={CHECKOUT_SESSION_ID}`,
  });
  assert.equal(s.mode, 'setup');
  assert.equal(s.amount_total, null);
  assert.equal(s.currency, null);
  assert.equal(s.payment_status, 'no_payment_required');
  assertStripeShape(s, 'checkout.session');
  const page = await browser.newPage();
  await page.goto(s.url);
  assert.match(await page.textContent('main'), /Nothing is charged now/);
  await fillCard(page, '4242424242424242');
  await Promise.all([page.waitForURL(/\/saved\?cs=/), page.getByRole('button', { name: 'Save card' }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'no_payment_required');
  assert.match(done.setup_intent, /^seti_/);
  assertStripeShape(done, 'checkout.session');
  const si = await stripe.setupIntents.retrieve(done.setup_intent);
  assert.equal(si.status, 'succeeded');
  assert.equal(si.customer, cus.id);
  assert.deepEqual((await stripe.customers.listPaymentMethods(cus.id)).data.map((p) => p.id), [si.payment_method]);

  // 4000002500003155 asks for 3-D Secure when it is saved; once saved so, it pays off session
  const t = await stripe.checkout.sessions.create({ mode: 'setup', customer: cus.id, success_url: `http://127.0.0.1:${shopPort}/saved` });
  const p2 = await browser.newPage();
  await p2.goto(t.url);
  await fillCard(p2, '4000002500003155');
  await Promise.all([p2.waitForURL(/\/3ds-setup\//), p2.getByRole('button', { name: 'Save card' }).click()]);
  await Promise.all([p2.waitForURL(/\/saved$/), p2.getByRole('button', { name: 'Complete authentication' }).click()]);
  await p2.close();
  const t2 = await stripe.checkout.sessions.retrieve(t.id);
  assert.equal(t2.status, 'complete');
  const saved = await stripe.setupIntents.retrieve(t2.setup_intent);
  const off = await stripe.paymentIntents.create({ amount: 1234, currency: 'usd', customer: cus.id, payment_method: saved.payment_method, off_session: true, confirm: true });
  assert.equal(off.status, 'succeeded');

  await assert.rejects(stripe.checkout.sessions.create({ mode: 'setup', line_items: [{ price: book.id }], success_url: 'https://example.com/s' }),
    (e) => e.statusCode === 400 && e.param === 'line_items');
  await assert.rejects(stripe.checkout.sessions.create({ mode: 'payment', success_url: 'https://example.com/s' }),
    (e) => e.statusCode === 400 && e.param === 'line_items');
  await assert.rejects(stripe.checkout.sessions.create({ mode: 'setup', currency: 'xyz', success_url: 'https://example.com/s' }),
    (e) => e.statusCode === 400 && e.param === 'currency');
  const eur = await stripe.checkout.sessions.create({ mode: 'setup', currency: 'EUR', success_url: 'https://example.com/s' });
  assert.equal(eur.currency, 'eur');
});

test('the payment completes its session in the same write, whether the browser comes back or not', async () => {
  const s = await stripe.checkout.sessions.create(sessionParams());
  const page = await browser.newPage();
  await page.goto(s.url);
  await fillCard(page, '4000002760003184');
  await Promise.all([page.waitForURL(/\/3ds\//), page.getByRole('button', { name: /Pay/ }).click()]);
  const challenge = new URL(page.url());
  await page.close(); // the buyer's browser goes away here
  // the challenge is answered (as the bank's page would), and nobody follows its redirect back
  const r = await env.request({ method: 'POST', path: `${challenge.pathname}/complete`, body: '' });
  assert.equal(r.status, 303);
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'paid');
  assert.equal((await stripe.paymentIntents.retrieve(done.payment_intent)).status, 'succeeded');
  const ev = (await stripe.events.list({ type: 'checkout.session.completed', limit: 20 })).data.filter((e) => e.data.object.id === s.id);
  assert.equal(ev.length, 1);
  // looking at a page writes nothing: a payment link's page opens no session until it is paid
  const link = await stripe.paymentLinks.create({ line_items: [{ price: pen.id }] });
  for (let i = 0; i < 3; i++) assert.equal((await env.request({ path: new URL(link.url).pathname })).status, 200);
  assert.deepEqual((await stripe.checkout.sessions.list({ payment_link: link.id })).data, []);
});

test('a form posted twice (a double click) pays once, on a session and through a payment link', async () => {
  const odd = await stripe.prices.create({ currency: 'usd', unit_amount: 4321, product_data: { name: 'Odd' } });
  const card = '&payment_method_data[type]=card&payment_method_data[card][number]=4242424242424242' +
    '&payment_method_data[card][exp_month]=12&payment_method_data[card][exp_year]=2034&payment_method_data[card][cvc]=123';
  const paidWith = async (amount) => (await stripe.paymentIntents.search({ query: `amount:${amount} AND status:'succeeded'` })).data.length;
  const s = await stripe.checkout.sessions.create({ mode: 'payment', line_items: [{ price: odd.id }], success_url: 'https://example.com/ok' });
  const path = new URL(s.url).pathname;
  const codes = (await Promise.all([1, 2, 3].map(() => env.request({ method: 'POST', path, body: card.slice(1) })))).map((x) => x.status);
  assert.equal(await paidWith(4321), 1, `statuses ${codes}`);
  assert.ok(codes.every((c) => c === 303 || c === 409), codes.join(','));
  assert.equal((await stripe.checkout.sessions.retrieve(s.id)).status, 'complete');

  const odd2 = await stripe.prices.create({ currency: 'usd', unit_amount: 4322, product_data: { name: 'Odder' } });
  const link = await stripe.paymentLinks.create({ line_items: [{ price: odd2.id }] });
  const page = await env.request({ path: new URL(link.url).pathname });
  const nonce = /name="link_nonce" value="([^"]+)"/.exec(page.body)[1];
  const body = `link_nonce=${nonce}${card}`;
  const codes2 = (await Promise.all([1, 2, 3].map(() => env.request({ method: 'POST', path: new URL(link.url).pathname, body })))).map((x) => x.status);
  assert.equal(await paidWith(4322), 1, `statuses ${codes2}`);
  assert.equal((await stripe.checkout.sessions.list({ payment_link: link.id })).data.length, 1);
  // a fresh page is a fresh form: a second purchase through the link pays again
  const page2 = await env.request({ path: new URL(link.url).pathname });
  const nonce2 = /name="link_nonce" value="([^"]+)"/.exec(page2.body)[1];
  assert.notEqual(nonce2, nonce);
  await env.request({ method: 'POST', path: new URL(link.url).pathname, body: `link_nonce=${nonce2}${card}` });
  assert.equal(await paidWith(4322), 2);
});

test('a 3-D Secure challenge walked away from gives way to another card on the same PaymentIntent, and can no longer pay', async () => {
  const s = await stripe.checkout.sessions.create(sessionParams());
  const page = await browser.newPage();
  await page.goto(s.url);
  await fillCard(page, '4000002760003184');
  await Promise.all([page.waitForURL(/\/3ds\//), page.getByRole('button', { name: /Pay/ }).click()]);
  const challenge = new URL(page.url());
  const first = (await stripe.checkout.sessions.retrieve(s.id)).payment_intent;
  // the buyer goes back to the checkout and pays with another card
  await page.goto(s.url);
  await fillCard(page, '4242424242424242');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /Pay/ }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  // Stripe keeps one PaymentIntent per session: the other card confirmed it again
  assert.equal(done.payment_intent, first);
  const pi = await stripe.paymentIntents.retrieve(first);
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.next_action, null);
  assertStripeShape(pi, 'payment_intent');
  // the old challenge is gone: it cannot make a second payment
  const r = await env.request({ method: 'POST', path: `${challenge.pathname}/complete`, body: '' });
  assert.equal(r.status, 404);
  const charges = await stripe.charges.list({ payment_intent: first });
  assert.deepEqual(charges.data.map((c) => c.status), ['succeeded']);
  assert.equal((await stripe.paymentIntents.retrieve(first)).amount_received, pi.amount);
});

test('pay what you want: the buyer types the amount, checked on the server; the PaymentIntent is for it', async () => {
  const tip = await stripe.prices.create({
    currency: 'eur', product_data: { name: 'Tip' },
    custom_unit_amount: { enabled: true, minimum: 500, maximum: 50000, preset: 1500 },
  });
  // Stripe's rules: quantity 1, and (Tender) the only line item; nothing written
  const before = (await stripe.checkout.sessions.list({ limit: 100 })).data.length;
  await assert.rejects(stripe.checkout.sessions.create(sessionParams({ line_items: [{ price: tip.id, quantity: 2 }] })),
    (e) => e.statusCode === 400 && e.param === 'line_items[0][quantity]' && /custom_unit_amount/.test(e.message));
  await assert.rejects(stripe.checkout.sessions.create(sessionParams({ line_items: [{ price: tip.id, quantity: 1 }, { price: pen.id }] })),
    (e) => e.statusCode === 400 && e.param === 'line_items');
  assert.equal((await stripe.checkout.sessions.list({ limit: 100 })).data.length, before);

  // before the buyer chooses: the preset
  const s = await stripe.checkout.sessions.create(sessionParams({ line_items: [{ price: tip.id, quantity: 1 }] }));
  assert.equal(s.amount_subtotal, 1500);
  assert.equal(s.amount_total, 1500);
  assertStripeShape(s, 'checkout.session');
  let items = await stripe.checkout.sessions.listLineItems(s.id);
  assert.equal(items.data.length, 1);
  assert.equal(items.data[0].amount_subtotal, 1500);
  assert.equal(items.data[0].price.unit_amount, null);
  assert.deepEqual(items.data[0].price.custom_unit_amount, { maximum: 50000, minimum: 500, preset: 1500 });
  assertStripeShape(items.data[0], 'item');

  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.inputValue('#custom-amount'), '15.00');
  assert.match(await page.textContent('#custom-amount-range'), /at least 5\.00 EUR, at most 500\.00 EUR/i);
  // refused on the page, checked by the server (the browser's own checks cannot be relied on)
  for (const [typed, why] of [['4.99', /at least 5\.00 EUR/], ['500.01', /at most 500\.00 EUR/], ['12.345', /number/], ['12,50', /number/]]) {
    await page.fill('#custom-amount', typed);
    await fillCard(page, '4242424242424242');
    await page.getByRole('button', { name: /Pay/ }).click();
    await page.waitForSelector('p.error');
    assert.match(await page.textContent('p.error'), why, typed);
    const still = await stripe.checkout.sessions.retrieve(s.id);
    assert.equal(still.status, 'open');
    assert.equal(still.amount_total, 1500, typed);
    assert.equal(still.payment_intent, null, typed);
  }
  await page.fill('#custom-amount', '42.5');
  await fillCard(page, '4242424242424242');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /Pay/ }).click()]);
  await page.close();

  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'paid');
  assert.equal(done.amount_subtotal, 4250);
  assert.equal(done.amount_total, 4250);
  assertStripeShape(done, 'checkout.session');
  const pi = await stripe.paymentIntents.retrieve(done.payment_intent);
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.amount, 4250);
  assert.equal(pi.currency, 'eur');
  items = await stripe.checkout.sessions.listLineItems(s.id);
  assert.equal(items.data[0].amount_subtotal, 4250);
  assert.equal(items.data[0].amount_total, 4250);
  assert.equal(items.data[0].quantity, 1);
  assert.equal(items.data[0].price.unit_amount, null);
  assertStripeShape(items.data[0], 'item');
  const ev = (await stripe.events.list({ type: 'checkout.session.completed', limit: 20 })).data.filter((e) => e.data.object.id === s.id);
  assert.equal(ev.length, 1);
  assert.equal(ev[0].data.object.amount_total, 4250);
});

test('pay what you want without bounds, in a currency without decimals: the currency\'s minimum charge', async () => {
  const gift = await stripe.prices.create({ currency: 'jpy', product_data: { name: 'Gift' }, custom_unit_amount: { enabled: true } });
  const s = await stripe.checkout.sessions.create(sessionParams({
    line_items: [{ price: gift.id, quantity: 1 }], invoice_creation: { enabled: true },
  }));
  assert.equal(s.amount_total, 0); // nothing chosen yet
  assert.equal(s.currency, 'jpy');
  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.inputValue('#custom-amount'), '');
  for (const [typed, why] of [['49', /at least 50 JPY/], ['1200.5', /number/]]) {
    await page.fill('#custom-amount', typed);
    await fillCard(page, '4242424242424242');
    await page.getByRole('button', { name: /Pay/ }).click();
    await page.waitForSelector('p.error');
    assert.match(await page.textContent('p.error'), why, typed);
  }
  assert.equal((await stripe.checkout.sessions.retrieve(s.id)).payment_intent, null);
  // a decline keeps the amount chosen; the buyer may change it, and the session's one
  // PaymentIntent is then for the new amount
  await page.fill('#custom-amount', '1000');
  await fillCard(page, '4000000000009995');
  await page.getByRole('button', { name: /Pay/ }).click();
  await page.waitForSelector('p.error');
  assert.match(await page.textContent('p.error'), /declined/);
  assert.equal(await page.inputValue('#custom-amount'), '1000');
  const declined = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(declined.amount_total, 1000);
  assert.equal((await stripe.paymentIntents.retrieve(declined.payment_intent)).amount, 1000);
  await page.fill('#custom-amount', '1200');
  await fillCard(page, '4242424242424242');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /Pay/ }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.amount_total, 1200);
  assert.equal(done.payment_intent, declined.payment_intent);
  assert.equal((await stripe.paymentIntents.retrieve(done.payment_intent)).amount, 1200);
  // the invoice the payment made (invoice_creation) bills the amount chosen
  const inv = await stripe.invoices.retrieve(done.invoice);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.amount_paid, 1200);
  assert.deepEqual(inv.lines.data.map((l) => [l.amount, l.quantity]), [[1200, 1]]);
});

// ---- ui_mode embedded and custom ----
// Newer than the validator's spec (2023): client_secret, redirect_on_completion, return_url
// and ui_mode are checked against stripe-node's Session (the top-level fields of its .d.ts);
// every key is one of its fields or of the spec's.
const SESSION_KEYS = (() => {
  const fs = require('node:fs');
  const path = require('node:path');
  const src = fs.readFileSync(path.join(__dirname, '..', 'node_modules', 'stripe', 'cjs', 'resources', 'Checkout', 'Sessions.d.ts'), 'utf8');
  const start = src.indexOf('export interface Session {');
  assert.ok(start >= 0);
  const spec = JSON.parse(fs.readFileSync(path.join(SHARED, 'reference', 'stripe-openapi', 'spec3.json'), 'utf8'));
  return new Set([
    ...[...src.slice(start, src.indexOf('\n}', start)).matchAll(/^ {4}(\w+)\??:/gm)].map((m) => m[1]),
    ...Object.keys(spec.components.schemas['checkout.session'].properties),
  ]);
})();
function assertSessionKeys(s) {
  assertStripeShape(s, 'checkout.session');
  for (const k of ['client_secret', 'redirect_on_completion', 'return_url', 'ui_mode']) assert.ok(k in s, k);
  for (const k of Object.keys(s)) assert.ok(SESSION_KEYS.has(k), `${k} is not a field of stripe-node's Checkout.Session`);
}
const pagePath = (secret) => `/checkout/${env.merchants[0].id}/${secret}`;

test('ui_mode embedded: a client_secret and no url; the page the secret opens pays and goes to return_url; the return page reads the session', async () => {
  const returnUrl = `http://127.0.0.1:${shopPort}/return?session_id={CHECKOUT_SESSION_ID}`;
  const s = await stripe.checkout.sessions.create({
    mode: 'payment', ui_mode: 'embedded', line_items: [{ price: book.id }], return_url: returnUrl, customer_email: 'grace@example.com',
  });
  assert.equal(s.ui_mode, 'embedded');
  assert.equal(s.url, null);
  assert.equal(s.return_url, returnUrl);
  assert.equal(s.redirect_on_completion, 'always');
  assert.equal(s.success_url, null);
  assert.ok(s.client_secret.startsWith(`${s.id}_secret_`), s.client_secret);
  assert.match(s.client_secret, /^cs_test_\w+_secret_[A-Za-z0-9]{20,}$/);
  assertSessionKeys(s);
  assert.equal((await stripe.checkout.sessions.retrieve(s.id)).client_secret, s.client_secret);
  // the secret is derived, not kept on the session's row
  const row = storeSql(env.dataDir, `SELECT * FROM checkout_sessions WHERE id = '${s.id}'`).join('');
  assert.ok(row.includes(s.id) && row.includes(returnUrl));
  assert.ok(!row.includes(s.client_secret.split('_secret_')[1]));
  // only the secret opens the page: not the id, a wrong secret, nor another merchant's path
  assert.equal((await env.request({ path: pagePath(s.id) })).status, 404);
  assert.equal((await env.request({ path: pagePath(`${s.client_secret.slice(0, -1)}${s.client_secret.endsWith('a') ? 'b' : 'a'}`) })).status, 404);
  assert.equal((await env.request({ path: `/checkout/${env.merchants[1].id}/${s.client_secret}` })).status, 404);
  // a hosted session is not opened through a secret-shaped path
  const hosted = await stripe.checkout.sessions.create(sessionParams());
  assert.equal(hosted.client_secret, null);
  assert.equal((await env.request({ path: pagePath(`${hosted.id}_secret_${s.client_secret.split('_secret_')[1]}`) })).status, 404);

  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${env.port}${pagePath(s.client_secret)}`);
  assert.equal(await page.inputValue('#email'), 'grace@example.com');
  assert.equal(await page.textContent('#total'), '15.00 EUR');
  assert.equal(await page.$('#cancel'), null);
  // a decline first: the page (and its form) stays on the secret's address
  await fillCard(page, '4000000000009995');
  await page.getByRole('button', { name: /Pay/ }).click();
  await page.waitForSelector('p.error');
  await fillCard(page, '4242424242424242');
  await Promise.all([page.waitForURL(/\/return\?/), page.getByRole('button', { name: /Pay 15\.00 EUR/ }).click()]);
  assert.equal(new URL(page.url()).searchParams.get('session_id'), s.id);
  await page.close();

  const done = await stripe.checkout.sessions.retrieve(new URL(page.url()).searchParams.get('session_id'));
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'paid');
  assert.equal(done.customer_details.email, 'grace@example.com');
  assert.equal(done.url, null);
  assertSessionKeys(done);
  const pi = await stripe.paymentIntents.retrieve(done.payment_intent);
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.amount, 1500);
  // the event carries the session without its secret
  const ev = (await stripe.events.list({ type: 'checkout.session.completed', limit: 10 })).data.filter((e) => e.data.object.id === s.id);
  assert.equal(ev.length, 1);
  assert.equal(ev[0].data.object.ui_mode, 'embedded');
  assert.equal(ev[0].data.object.client_secret, null);
  // the page of the completed session sends the browser to return_url again
  const again = await env.request({ path: pagePath(s.client_secret) });
  assert.equal(again.status, 303);
});

test('ui_mode custom and the newer names: create and retrieve; redirect_on_completion=never completes on the page', async () => {
  const custom = await stripe.checkout.sessions.create({
    mode: 'payment', ui_mode: 'custom', line_items: [{ price: pen.id }], return_url: `http://127.0.0.1:${shopPort}/r`,
  });
  assert.equal(custom.ui_mode, 'custom');
  assert.equal(custom.url, null);
  assert.equal(custom.redirect_on_completion, null);
  assert.ok(custom.client_secret.startsWith(`${custom.id}_secret_`));
  assertSessionKeys(custom);
  const got = await stripe.checkout.sessions.retrieve(custom.id);
  assert.deepEqual([got.ui_mode, got.client_secret, got.return_url, got.status], ['custom', custom.client_secret, `http://127.0.0.1:${shopPort}/r`, 'open']);
  assertSessionKeys(got);
  const listed = (await stripe.checkout.sessions.list({ limit: 3 })).data.find((x) => x.id === custom.id);
  assert.equal(listed.client_secret, custom.client_secret);
  // stripe-node 23's names (API version 2026-03-25 on) are shown back as given; its default
  // names the hosted page by the version stripe-node sends
  const elements = await stripe.checkout.sessions.create({ mode: 'setup', currency: 'eur', ui_mode: 'elements', return_url: `http://127.0.0.1:${shopPort}/r` });
  assert.deepEqual([elements.ui_mode, elements.url], ['elements', null]);
  assert.equal((await stripe.checkout.sessions.create(sessionParams())).ui_mode, 'hosted_page');
  const old = env.stripe(undefined, { apiVersion: '2025-03-31.basil' });
  assert.equal((await old.checkout.sessions.create(sessionParams())).ui_mode, 'hosted');

  const never = await stripe.checkout.sessions.create({
    mode: 'payment', ui_mode: 'embedded_page', redirect_on_completion: 'never', line_items: [{ price: pen.id }],
  });
  assert.deepEqual([never.ui_mode, never.redirect_on_completion, never.return_url], ['embedded_page', 'never', null]);
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${env.port}${pagePath(never.client_secret)}`);
  await fillCard(page, '4242424242424242');
  await page.getByRole('button', { name: /Pay/ }).click();
  await page.waitForSelector('#done');
  assert.match(page.url(), /\/checkout\//);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(never.id);
  assert.deepEqual([done.status, done.payment_status], ['complete', 'paid']);
  assert.equal((await stripe.paymentIntents.retrieve(done.payment_intent)).status, 'succeeded');

  // if_required: a card ends on the page; back from the bank's page (iDEAL), return_url
  const ifReq = () => stripe.checkout.sessions.create({
    mode: 'payment', ui_mode: 'embedded', redirect_on_completion: 'if_required', payment_method_types: ['card', 'ideal'],
    line_items: [{ price: pen.id }], return_url: `http://127.0.0.1:${shopPort}/back?session_id={CHECKOUT_SESSION_ID}`,
  });
  const byCard = await ifReq();
  const p1 = await browser.newPage();
  await p1.goto(`http://127.0.0.1:${env.port}${pagePath(byCard.client_secret)}`);
  await fillCard(p1, '4242424242424242');
  await p1.getByRole('button', { name: 'Pay 2.50 EUR', exact: true }).click();
  await p1.waitForSelector('#done');
  await p1.close();
  assert.equal((await stripe.checkout.sessions.retrieve(byCard.id)).status, 'complete');
  const byBank = await ifReq();
  const p2 = await browser.newPage();
  await p2.goto(`http://127.0.0.1:${env.port}${pagePath(byBank.client_secret)}`);
  await p2.locator('#ideal-email').fill('jenny@example.com');
  await p2.locator('#ideal-name').fill('Jenny Rosen');
  await p2.selectOption('#ideal-bank', 'rabobank');
  await Promise.all([p2.waitForURL(/\/redirect\//), p2.locator('#ideal-pay').click()]);
  await Promise.all([p2.waitForURL(/\/back\?/), p2.getByRole('button', { name: 'Authorize test payment' }).click()]);
  assert.equal(new URL(p2.url()).searchParams.get('session_id'), byBank.id);
  await p2.close();
  const bank = await stripe.checkout.sessions.retrieve(byBank.id);
  assert.deepEqual([bank.status, bank.payment_status], ['complete', 'paid']);
});

test('ui_mode refusals: Stripe\'s rules for each mode make no session', async () => {
  const ret = `http://127.0.0.1:${shopPort}/r`;
  const emb = (extra) => ({ mode: 'payment', ui_mode: 'embedded', line_items: [{ price: pen.id }], return_url: ret, ...extra });
  const cases = [
    [emb({ success_url: ret }), 'success_url'],
    [emb({ cancel_url: ret }), 'cancel_url'],
    [emb({ return_url: undefined }), 'return_url'],
    [emb({ return_url: 'ftp://x' }), 'return_url'],
    [emb({ redirect_on_completion: 'never' }), 'return_url'],
    [emb({ redirect_on_completion: 'never', return_url: undefined, payment_method_types: ['card', 'ideal'] }), 'payment_method_types'],
    [emb({ redirect_on_completion: 'sometimes' }), 'redirect_on_completion'],
    [emb({ after_expiration: { recovery: { enabled: true } } }), 'after_expiration'],
    [emb({ ui_mode: 'form' }), 'ui_mode'],
    [emb({ ui_mode: 'custom', custom_text: { submit: { message: 'Hi' } } }), 'custom_text'],
    [emb({ ui_mode: 'custom', submit_type: 'donate' }), 'submit_type'],
    [emb({ ui_mode: 'elements', redirect_on_completion: 'if_required' }), 'redirect_on_completion'],
    [emb({ ui_mode: 'custom', tax_id_collection: { enabled: true, required: 'if_supported' } }), 'tax_id_collection[required]'],
    [sessionParams({ return_url: ret }), 'return_url'],
    [sessionParams({ ui_mode: 'hosted', redirect_on_completion: 'always' }), 'redirect_on_completion'],
  ];
  const before = (await stripe.checkout.sessions.list({ limit: 100 })).data.length;
  for (const [params, param] of cases) {
    await assert.rejects(stripe.checkout.sessions.create(params), (e) => {
      assert.equal(e.statusCode, 400, `${JSON.stringify(params)}: ${e.message}`);
      assert.equal(e.param, param, `${JSON.stringify(params)}: ${e.message}`);
      return true;
    });
  }
  assert.equal((await stripe.checkout.sessions.list({ limit: 100 })).data.length, before);
});
