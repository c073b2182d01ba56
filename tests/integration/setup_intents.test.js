'use strict';
// SetupIntents through stripe-node: a card checked and saved to a customer without a charge,
// then paid with off session; declines, 3-D Secure in headless Chromium (Debian's chromium +
// playwright-core), cancel, update, lists, idempotency and tenant isolation.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { startTender, stopAll, assertStripeShape, tender, storeSql, launchChromium } = require('./helpers');

let env;
let stripe;
let browser;
let shop;
let shopPort;

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  shop = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>Shop</title><h1>Saved</h1>');
  });
  await new Promise((r) => shop.listen(0, '127.0.0.1', r));
  shopPort = shop.address().port;
  browser = await launchChromium();
});
after(async () => {
  if (browser) await browser.close();
  if (shop) shop.close();
  await stopAll();
});

async function typesFor(ids) {
  const all = await stripe.events.list({ limit: 100 });
  return all.data.filter((e) => ids.includes(e.data.object.id)).reverse().map((e) => e.type);
}

test('create: requires_payment_method, Stripe\'s shape, setup_intent.created', async () => {
  const si = await stripe.setupIntents.create({ metadata: { order: '7' }, description: 'save' });
  assert.match(si.id, /^seti_/);
  assert.equal(si.object, 'setup_intent');
  assert.equal(si.status, 'requires_payment_method');
  assert.equal(si.usage, 'off_session');
  assert.match(si.client_secret, new RegExp(`^${si.id}_secret_`));
  assert.deepEqual(si.payment_method_types, ['card']);
  assert.equal(si.payment_method_options.card.request_three_d_secure, 'automatic');
  assert.deepEqual(si.metadata, { order: '7' });
  assertStripeShape(si, 'setup_intent');
  const got = await stripe.setupIntents.retrieve(si.id);
  assert.deepEqual(got, si);
  const ev = (await stripe.events.list({ limit: 100 })).data.filter((e) => e.data.object.id === si.id);
  assert.deepEqual(ev.map((e) => e.type), ['setup_intent.created']);
  assertStripeShape(ev[0].data.object, 'setup_intent');
});

test('confirm with a customer: the card is saved to it and pays off session later', async () => {
  const cus = await stripe.customers.create({ email: 'save@example.com' });
  const si = await stripe.setupIntents.create({
    customer: cus.id, payment_method: 'pm_card_visa', confirm: true, usage: 'off_session',
  });
  assert.equal(si.status, 'succeeded');
  assert.match(si.payment_method, /^pm_/);
  assert.notEqual(si.payment_method, 'pm_card_visa');
  assert.equal(si.customer, cus.id);
  assert.equal(si.last_setup_error, null);
  assertStripeShape(si, 'setup_intent');
  const pms = await stripe.customers.listPaymentMethods(cus.id);
  assert.deepEqual(pms.data.map((p) => p.id), [si.payment_method]);
  assert.deepEqual(await typesFor([si.id, si.payment_method]),
    ['setup_intent.created', 'payment_method.attached', 'setup_intent.succeeded']);
  // the saved card pays with the customer away
  const pi = await stripe.paymentIntents.create({
    amount: 1999, currency: 'usd', customer: cus.id, payment_method: si.payment_method,
    off_session: true, confirm: true,
  });
  assert.equal(pi.status, 'succeeded');
  // expand[]: the PaymentMethod and the customer
  const ex = await stripe.setupIntents.retrieve(si.id, { expand: ['payment_method', 'customer'] });
  assert.equal(ex.payment_method.id, si.payment_method);
  assert.equal(ex.payment_method.customer, cus.id);
  assert.equal(ex.customer.id, cus.id);
  // after success only description and metadata change
  const up = await stripe.setupIntents.update(si.id, { metadata: { k: 'v' }, description: 'd' });
  assert.deepEqual(up.metadata, { k: 'v' });
  await assert.rejects(stripe.setupIntents.update(si.id, { payment_method: 'pm_card_mastercard' }),
    (e) => e.statusCode === 400 && e.code === 'setup_intent_unexpected_state');
  await assert.rejects(stripe.setupIntents.confirm(si.id),
    (e) => e.statusCode === 400 && e.code === 'setup_intent_unexpected_state');
  await assert.rejects(stripe.setupIntents.cancel(si.id),
    (e) => e.statusCode === 400 && e.code === 'setup_intent_unexpected_state');
});

test('create, then confirm with a PaymentMethod; payment_method_data on create', async () => {
  const si = await stripe.setupIntents.create({});
  const pm = await stripe.paymentMethods.create({
    type: 'card', card: { number: '5555555555554444', exp_month: 4, exp_year: 2033, cvc: '321' },
  });
  const done = await stripe.setupIntents.confirm(si.id, { payment_method: pm.id });
  assert.equal(done.status, 'succeeded');
  assert.equal(done.payment_method, pm.id);
  assert.equal(done.customer, null);
  // no customer: nothing attached
  assert.equal((await stripe.paymentMethods.retrieve(pm.id)).customer, null);

  const viaData = await stripe.setupIntents.create({
    confirm: true,
    payment_method_data: { type: 'card', card: { token: 'tok_visa' }, metadata: { from: 'data' } },
  });
  assert.equal(viaData.status, 'succeeded');
  const made = await stripe.paymentMethods.retrieve(viaData.payment_method);
  assert.deepEqual(made.metadata, { from: 'data' });
  assert.equal(made.card.last4, '4242');

  // payment_method at create (requires_confirmation), confirmed later
  const later = await stripe.setupIntents.create({ payment_method: 'pm_card_amex' });
  assert.equal(later.status, 'requires_confirmation');
  const ok = await stripe.setupIntents.confirm(later.id);
  assert.equal(ok.status, 'succeeded');
  assert.equal((await stripe.paymentMethods.retrieve(ok.payment_method)).card.brand, 'amex');
});

test('a declined card: 402 with the intent, setup_failed, nothing attached', async () => {
  const cus = await stripe.customers.create({});
  let err;
  await assert.rejects(stripe.setupIntents.create({
    customer: cus.id, payment_method: 'pm_card_chargeDeclined', confirm: true,
  }), (e) => { err = e; return true; });
  assert.equal(err.statusCode, 402);
  assert.equal(err.type, 'StripeCardError');
  assert.equal(err.code, 'card_declined');
  assert.equal(err.decline_code, 'generic_decline');
  const si = err.raw.setup_intent;
  assert.equal(si.status, 'requires_payment_method');
  assert.equal(si.payment_method, null);
  assert.equal(si.last_setup_error.code, 'card_declined');
  assert.equal(si.last_setup_error.decline_code, 'generic_decline');
  assert.equal(si.last_setup_error.type, 'card_error');
  assert.equal(si.last_setup_error.payment_method.card.last4, '0002');
  // the error names the card too, as Stripe's does (error.payment_method)
  assert.equal(err.raw.payment_method.id, si.last_setup_error.payment_method.id);
  assertStripeShape(si, 'setup_intent');
  assert.deepEqual((await stripe.setupIntents.retrieve(si.id)).last_setup_error, si.last_setup_error);
  assert.deepEqual((await stripe.customers.listPaymentMethods(cus.id)).data, []);
  assert.deepEqual(await typesFor([si.id]), ['setup_intent.created', 'setup_intent.setup_failed']);
  // another card on the same intent succeeds
  const again = await stripe.setupIntents.confirm(si.id, { payment_method: 'pm_card_visa' });
  assert.equal(again.status, 'succeeded');
  assert.equal(again.last_setup_error, null);
  assert.equal((await stripe.customers.listPaymentMethods(cus.id)).data.length, 1);
});

test('4000000000000341: the card is saved, and its charges are declined', async () => {
  const cus = await stripe.customers.create({});
  const si = await stripe.setupIntents.create({
    customer: cus.id, payment_method: 'pm_card_chargeCustomerFail', confirm: true,
  });
  assert.equal(si.status, 'succeeded');
  await assert.rejects(stripe.paymentIntents.create({
    amount: 1500, currency: 'usd', customer: cus.id, payment_method: si.payment_method,
    off_session: true, confirm: true,
  }), (e) => e.statusCode === 402 && e.code === 'card_declined');
});

async function challenge(extra = {}) {
  const cus = await stripe.customers.create({});
  const si = await stripe.setupIntents.create({
    customer: cus.id, payment_method: 'pm_card_authenticationRequired', confirm: true,
    return_url: `http://127.0.0.1:${shopPort}/saved`, ...extra,
  });
  assert.equal(si.status, 'requires_action');
  assert.equal(si.next_action.type, 'redirect_to_url');
  assert.match(si.next_action.redirect_to_url.url, /^http:\/\/127\.0\.0\.1:\d+\/3ds-setup\//);
  assert.equal(si.next_action.redirect_to_url.return_url, `http://127.0.0.1:${shopPort}/saved`);
  assertStripeShape(si, 'setup_intent');
  return { si, cus };
}

test('3-D Secure: the challenge completed in a browser saves the card', async () => {
  const { si, cus } = await challenge();
  assert.deepEqual((await stripe.customers.listPaymentMethods(cus.id)).data, []);
  const page = await browser.newPage();
  const resp = await page.goto(si.next_action.redirect_to_url.url);
  assert.match(resp.headers()['content-security-policy'], /default-src 'none'/);
  assert.match(await page.textContent('main'), /Merchant 0/);
  await Promise.all([page.waitForURL(/\/saved\?/),
    page.getByRole('button', { name: 'Complete authentication' }).click()]);
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('setup_intent'), si.id);
  assert.equal(url.searchParams.get('setup_intent_client_secret'), si.client_secret);
  assert.equal(url.searchParams.get('redirect_status'), 'succeeded');
  await page.close();
  const done = await stripe.setupIntents.retrieve(si.id);
  assert.equal(done.status, 'succeeded');
  assert.equal(done.next_action, null);
  assert.deepEqual((await stripe.customers.listPaymentMethods(cus.id)).data.map((p) => p.id),
    [done.payment_method]);
  assert.deepEqual(await typesFor([si.id, done.payment_method]), ['setup_intent.created',
    'setup_intent.requires_action', 'payment_method.attached', 'setup_intent.succeeded']);
  // the link works once
  const again = await env.request({ path: new URL(si.next_action.redirect_to_url.url).pathname });
  assert.equal(again.status, 404);
});

test('3-D Secure: a failed challenge leaves requires_payment_method', async () => {
  const { si, cus } = await challenge();
  const page = await browser.newPage();
  await page.goto(si.next_action.redirect_to_url.url);
  await Promise.all([page.waitForURL(/\/saved\?/),
    page.getByRole('button', { name: 'Fail authentication' }).click()]);
  assert.equal(new URL(page.url()).searchParams.get('redirect_status'), 'failed');
  await page.close();
  const after = await stripe.setupIntents.retrieve(si.id);
  assert.equal(after.status, 'requires_payment_method');
  assert.equal(after.payment_method, null);
  assert.equal(after.last_setup_error.code, 'setup_intent_authentication_failure');
  assert.equal(after.last_setup_error.type, 'card_error');
  assertStripeShape(after, 'setup_intent');
  assert.deepEqual((await stripe.customers.listPaymentMethods(cus.id)).data, []);
  assert.deepEqual(await typesFor([si.id]),
    ['setup_intent.created', 'setup_intent.requires_action', 'setup_intent.setup_failed']);
});

test('request_three_d_secure=any challenges a card that would not ask', async () => {
  const si = await stripe.setupIntents.create({
    payment_method: 'pm_card_visa', confirm: true,
    payment_method_options: { card: { request_three_d_secure: 'any' } },
  });
  assert.equal(si.status, 'requires_action');
  assert.equal(si.payment_method_options.card.request_three_d_secure, 'any');
  // a new payment method by update drops the pending challenge
  const up = await stripe.setupIntents.update(si.id, { payment_method: 'pm_card_mastercard' });
  assert.equal(up.status, 'requires_confirmation');
  assert.equal(up.next_action, null);
  const gone = await env.request({ path: new URL(si.next_action.redirect_to_url.url).pathname });
  assert.equal(gone.status, 404);
  await assert.rejects(stripe.setupIntents.create({
    payment_method_options: { card: { request_three_d_secure: 'sometimes' } },
  }), (e) => e.statusCode === 400 && e.param === 'payment_method_options[card][request_three_d_secure]');
});

test('cancel: canceled with its reason, setup_intent.canceled; then neither confirm nor cancel', async () => {
  const si = await stripe.setupIntents.create({ payment_method: 'pm_card_visa' });
  const c = await stripe.setupIntents.cancel(si.id, { cancellation_reason: 'abandoned' });
  assert.equal(c.status, 'canceled');
  assert.equal(c.cancellation_reason, 'abandoned');
  assertStripeShape(c, 'setup_intent');
  assert.deepEqual(await typesFor([si.id]), ['setup_intent.created', 'setup_intent.canceled']);
  await assert.rejects(stripe.setupIntents.cancel(si.id),
    (e) => e.statusCode === 400 && e.code === 'setup_intent_unexpected_state');
  await assert.rejects(stripe.setupIntents.confirm(si.id),
    (e) => e.statusCode === 400 && e.code === 'setup_intent_unexpected_state');
});

test('refused requests change nothing', async () => {
  const before = (await stripe.setupIntents.list({ limit: 100 })).data.length;
  await assert.rejects(stripe.setupIntents.create({ customer: 'cus_nope' }),
    (e) => e.statusCode === 404 && e.code === 'resource_missing' && e.param === 'customer');
  await assert.rejects(stripe.setupIntents.create({ confirm: true }),
    (e) => e.statusCode === 400 && e.code === 'setup_intent_unexpected_state');
  await assert.rejects(stripe.setupIntents.create({ usage: 'sometimes' }),
    (e) => e.statusCode === 400 && e.param === 'usage');
  await assert.rejects(stripe.setupIntents.create({ payment_method_types: ['klarna'] }),
    (e) => e.statusCode === 400 && e.param === 'payment_method_types');
  await assert.rejects(stripe.setupIntents.create({ payment_method: 'card_123' }),
    (e) => e.statusCode === 400 && e.param === 'payment_method');
  await assert.rejects(stripe.setupIntents.create({ payment_method: 'pm_card_visa', return_url: 'ftp://x' }),
    (e) => e.statusCode === 400 && e.code === 'url_invalid');
  // a card saved to one customer cannot be set up for another
  const a = await stripe.customers.create({});
  const b = await stripe.customers.create({});
  const saved = await stripe.setupIntents.create({ customer: a.id, payment_method: 'pm_card_visa', confirm: true });
  await assert.rejects(stripe.setupIntents.create({ customer: b.id, payment_method: saved.payment_method, confirm: true }),
    (e) => e.statusCode === 400 && e.param === 'payment_method');
  assert.equal((await stripe.setupIntents.list({ limit: 100 })).data.length, before + 1);
  await assert.rejects(stripe.setupIntents.retrieve('seti_missing'),
    (e) => e.statusCode === 404 && e.code === 'resource_missing');
});

test('flow_directions, attach_to_self, on_behalf_of, single_use; update with payment_method_data', async () => {
  const acct = await stripe.accounts.create({ type: 'custom', country: 'US', capabilities: { transfers: { requested: true } } });
  const si = await stripe.setupIntents.create({
    flow_directions: ['inbound', 'outbound'], attach_to_self: true, on_behalf_of: acct.id, single_use: { amount: 1500, currency: 'usd' },
  });
  assert.deepEqual(si.flow_directions, ['inbound', 'outbound']);
  assert.equal(si.attach_to_self, true);
  assert.equal(si.on_behalf_of, acct.id);
  assert.equal(si.single_use_mandate, null); // a card's setup makes no mandate
  assertStripeShape(si, 'setup_intent');
  // update: flow_directions, attach_to_self, and payment_method_data makes the PaymentMethod it names
  const up = await stripe.setupIntents.update(si.id, {
    flow_directions: ['outbound'], attach_to_self: false,
    payment_method_data: { type: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2034, cvc: '123' } },
  });
  assert.deepEqual(up.flow_directions, ['outbound']);
  assert.equal(up.attach_to_self, false);
  assert.match(up.payment_method, /^pm_/);
  assert.equal(up.status, 'requires_confirmation');
  assert.equal((await stripe.paymentMethods.retrieve(up.payment_method)).card.last4, '4242');
  assertStripeShape(up, 'setup_intent');
  const done = await stripe.setupIntents.confirm(si.id);
  assert.equal(done.status, 'succeeded');
  assert.deepEqual(done.flow_directions, ['outbound']);
  // refused, nothing made or changed: attach_to_self with a customer, an unknown direction, another
  // platform's or no account, both payment_method and payment_method_data, a finished intent's data
  const cus = await stripe.customers.create();
  const n0 = (await stripe.paymentMethods.list({ limit: 100 })).data.length;
  for (const [params, param] of [
    [{ attach_to_self: true, customer: cus.id }, 'attach_to_self'],
    [{ flow_directions: ['sideways'] }, 'flow_directions'],
    [{ on_behalf_of: 'acct_nope' }, 'on_behalf_of'],
    [{ single_use: { amount: 0, currency: 'usd' } }, 'single_use[amount]'],
  ]) {
    await assert.rejects(stripe.setupIntents.create(params), (e) => e.statusCode === 400 && e.param === param, param);
  }
  const open = await stripe.setupIntents.create({ customer: cus.id });
  await assert.rejects(stripe.setupIntents.update(open.id, { attach_to_self: true }), (e) => e.statusCode === 400 && e.param === 'attach_to_self');
  await assert.rejects(stripe.setupIntents.update(open.id, { payment_method: 'pm_card_visa', payment_method_data: { type: 'card', card: { token: 'tok_visa' } } }),
    (e) => e.statusCode === 400 && e.param === 'payment_method_data');
  await assert.rejects(stripe.setupIntents.update(done.id, { payment_method_data: { type: 'card', card: { token: 'tok_visa' } } }), (e) => e.statusCode === 400);
  assert.equal((await stripe.paymentMethods.list({ limit: 100 })).data.length, n0);
  assert.equal((await stripe.setupIntents.retrieve(open.id)).attach_to_self, undefined);
  // Stripe.js's confirmSetup: a publishable key with the intent's client_secret, and only it
  const pk = env.stripe(env.merchant.publishable_key);
  await assert.rejects(pk.setupIntents.confirm(open.id, { payment_method: 'pm_card_visa' }), (e) => e.statusCode === 400 && e.param === 'client_secret');
  await assert.rejects(pk.setupIntents.confirm(open.id, { payment_method: 'pm_card_visa', client_secret: si.client_secret }), (e) => e.statusCode === 400 && e.param === 'client_secret');
  assert.equal((await stripe.setupIntents.retrieve(open.id)).status, 'requires_payment_method');
  const ok = await pk.setupIntents.confirm(open.id, { payment_method: 'pm_card_visa', client_secret: open.client_secret });
  assert.equal(ok.status, 'succeeded');
  assert.equal((await stripe.paymentMethods.retrieve(ok.payment_method)).customer, cus.id);
});

test('lists: customer and payment_method filters, pages, expand', async () => {
  const cus = await stripe.customers.create({});
  const made = [];
  for (let i = 0; i < 3; i++) {
    made.push(await stripe.setupIntents.create({ customer: cus.id, payment_method: 'pm_card_visa', confirm: true }));
  }
  const list = await stripe.setupIntents.list({ customer: cus.id });
  assert.deepEqual(list.data.map((s) => s.id), made.map((s) => s.id).reverse());
  for (const s of list.data) assertStripeShape(s, 'setup_intent');
  const byPm = await stripe.setupIntents.list({ payment_method: made[1].payment_method });
  assert.deepEqual(byPm.data.map((s) => s.id), [made[1].id]);
  const page1 = await stripe.setupIntents.list({ customer: cus.id, limit: 2 });
  assert.equal(page1.has_more, true);
  const page2 = await stripe.setupIntents.list({ customer: cus.id, limit: 2, starting_after: page1.data[1].id });
  assert.deepEqual(page2.data.map((s) => s.id), [made[0].id]);
  const all = [];
  for await (const s of stripe.setupIntents.list({ customer: cus.id, limit: 1 })) all.push(s.id);
  assert.equal(all.length, 3);
  const ex = await stripe.setupIntents.list({ customer: cus.id, expand: ['data.payment_method'] });
  assert.equal(ex.data[0].payment_method.object, 'payment_method');
});

test('idempotency: a keyed create+confirm sent twice sets up once', async () => {
  const cus = await stripe.customers.create({});
  const key = `seti-${Date.now()}`;
  const params = { customer: cus.id, payment_method: 'pm_card_visa', confirm: true };
  const a = await stripe.setupIntents.create(params, { idempotencyKey: key });
  const b = await stripe.setupIntents.create(params, { idempotencyKey: key });
  assert.equal(a.id, b.id);
  assert.equal(b.lastResponse.headers['idempotent-replayed'], 'true');
  assert.equal((await stripe.setupIntents.list({ customer: cus.id })).data.length, 1);
  assert.equal((await stripe.customers.listPaymentMethods(cus.id)).data.length, 1);
});

test('tenants: another merchant sees none of it', async () => {
  const si = await stripe.setupIntents.create({ payment_method: 'pm_card_visa', confirm: true });
  const other = env.stripe(env.merchants[1].secret_key);
  await assert.rejects(other.setupIntents.retrieve(si.id), (e) => e.statusCode === 404);
  await assert.rejects(other.setupIntents.confirm(si.id), (e) => e.statusCode === 404);
  await assert.rejects(other.setupIntents.cancel(si.id), (e) => e.statusCode === 404);
  await assert.rejects(other.setupIntents.update(si.id, { metadata: { a: 'b' } }), (e) => e.statusCode === 404);
  assert.deepEqual((await other.setupIntents.list()).data, []);
  // a publishable key cannot use them
  await assert.rejects(env.stripe(env.merchant.publishable_key).setupIntents.create({}),
    (e) => e.statusCode === 403);
});

test('tender verify: passes on what the tests made, and finds an intent without its events', async () => {
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
  const m = env.merchant.id;
  storeSql(env.dataDir, "INSERT INTO setup_intents (merchant_id, id, created, version, status, client_secret, usage)" +
    ` VALUES ('${m}', 'seti_forged', 1, 1, 'succeeded', 'seti_forged_secret_x', 'off_session')`);
  let out = '';
  try {
    tender(['verify', '--data', env.dataDir]);
  } catch (e) {
    out = `${e.stdout}${e.stderr}`;
  }
  assert.match(out, /SetupIntent without setup_intent\.created/);
  assert.match(out, /succeeded SetupIntent without setup_intent\.succeeded/);
  storeSql(env.dataDir, "DELETE FROM setup_intents WHERE id = 'seti_forged'");
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

test('PaymentIntents: setup_future_usage saves the card to the customer once the payment is authorized', async () => {
  const cus = await stripe.customers.create({});
  const pi = await stripe.paymentIntents.create({
    amount: 2500, currency: 'usd', customer: cus.id, payment_method: 'pm_card_visa',
    setup_future_usage: 'off_session', confirm: true,
  });
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.setup_future_usage, 'off_session');
  assert.deepEqual((await stripe.customers.listPaymentMethods(cus.id)).data.map((p) => p.id), [pi.payment_method]);
  const types = await typesFor([pi.id, pi.payment_method]);
  assert.deepEqual(types.slice(-2), ['payment_method.attached', 'payment_intent.succeeded']);
  // and pays again with the customer away
  const again = await stripe.paymentIntents.create({
    amount: 900, currency: 'usd', customer: cus.id, payment_method: pi.payment_method,
    off_session: true, confirm: true,
  });
  assert.equal(again.status, 'succeeded');
  assert.equal((await stripe.customers.listPaymentMethods(cus.id)).data.length, 1);
  // manual capture: saved once authorized
  const held = await stripe.paymentIntents.create({
    amount: 1200, currency: 'usd', customer: cus.id, payment_method: 'pm_card_mastercard',
    setup_future_usage: 'on_session', capture_method: 'manual', confirm: true,
  });
  assert.equal(held.status, 'requires_capture');
  assert.equal((await stripe.customers.listPaymentMethods(cus.id)).data.length, 2);
  // not without setup_future_usage, nor for a declined card
  const other = await stripe.customers.create({});
  const plain = await stripe.paymentIntents.create({
    amount: 1300, currency: 'usd', customer: other.id, payment_method: 'pm_card_visa', confirm: true,
  });
  assert.equal(plain.status, 'succeeded');
  await assert.rejects(stripe.paymentIntents.create({
    amount: 1300, currency: 'usd', customer: other.id, payment_method: 'pm_card_chargeDeclined',
    setup_future_usage: 'off_session', confirm: true,
  }), (e) => e.statusCode === 402);
  assert.deepEqual((await stripe.customers.listPaymentMethods(other.id)).data, []);
});

async function passChallenge(url) {
  const page = await browser.newPage();
  await page.goto(url);
  await Promise.all([page.waitForURL(/\/saved/),
    page.getByRole('button', { name: 'Complete authentication' }).click()]);
  await page.close();
}

test('4000002500003155 set up with 3-D Secure pays off session without asking again; 3184 still asks', async () => {
  const cus = await stripe.customers.create({});
  const si = await stripe.setupIntents.create({
    customer: cus.id, payment_method: 'pm_card_authenticationRequiredOnSetup', confirm: true,
    return_url: `http://127.0.0.1:${shopPort}/saved`,
  });
  assert.equal(si.status, 'requires_action');
  await passChallenge(si.next_action.redirect_to_url.url);
  const saved = await stripe.setupIntents.retrieve(si.id);
  assert.equal(saved.status, 'succeeded');
  const off = await stripe.paymentIntents.create({
    amount: 4200, currency: 'eur', customer: cus.id, payment_method: saved.payment_method,
    off_session: true, confirm: true,
  });
  assert.equal(off.status, 'succeeded');
  // with the cardholder present it is a one-time payment: the issuer asks
  const on = await stripe.paymentIntents.create({
    amount: 4200, currency: 'eur', customer: cus.id, payment_method: saved.payment_method,
    confirm: true, return_url: `http://127.0.0.1:${shopPort}/saved`,
  });
  assert.equal(on.status, 'requires_action');
  // the same card never set up is declined off session
  await assert.rejects(stripe.paymentIntents.create({
    amount: 4200, currency: 'eur', payment_method: 'pm_card_authenticationRequiredOnSetup',
    off_session: true, confirm: true,
  }), (e) => e.statusCode === 402 && e.code === 'authentication_required');

  // 4000002760003184 asks every time, set up or not
  const always = await stripe.setupIntents.create({
    customer: cus.id, payment_method: 'pm_card_authenticationRequired', confirm: true,
    return_url: `http://127.0.0.1:${shopPort}/saved`,
  });
  await passChallenge(always.next_action.redirect_to_url.url);
  const alwaysSaved = await stripe.setupIntents.retrieve(always.id);
  assert.equal(alwaysSaved.status, 'succeeded');
  await assert.rejects(stripe.paymentIntents.create({
    amount: 4200, currency: 'eur', customer: cus.id, payment_method: alwaysSaved.payment_method,
    off_session: true, confirm: true,
  }), (e) => e.statusCode === 402 && e.code === 'authentication_required');
});

test('a payment with setup_future_usage=off_session and 3-D Secure sets 3155 up for later', async () => {
  const cus = await stripe.customers.create({});
  const pi = await stripe.paymentIntents.create({
    amount: 3000, currency: 'usd', customer: cus.id, payment_method: 'pm_card_authenticationRequiredOnSetup',
    setup_future_usage: 'off_session', confirm: true, return_url: `http://127.0.0.1:${shopPort}/saved`,
  });
  assert.equal(pi.status, 'requires_action');
  await passChallenge(pi.next_action.redirect_to_url.url);
  const paid = await stripe.paymentIntents.retrieve(pi.id);
  assert.equal(paid.status, 'succeeded');
  assert.deepEqual((await stripe.customers.listPaymentMethods(cus.id)).data.map((p) => p.id), [paid.payment_method]);
  const later = await stripe.paymentIntents.create({
    amount: 3000, currency: 'usd', customer: cus.id, payment_method: paid.payment_method,
    off_session: true, confirm: true,
  });
  assert.equal(later.status, 'succeeded');
});

// automatic_payment_methods: what the configuration has on that a SetupIntent can save; a
// confirmation that may redirect needs a return_url.
test('automatic_payment_methods: shown as asked, types from the configuration, return_url on confirm, refusals change nothing', async () => {
  const needed = /^A `return_url` must be specified because this Setup Intent is configured to automatically accept the payment methods enabled in the Dashboard, some of which may require a full page redirect to succeed\. If you do not want to accept redirect-based payment methods, set `automatic_payment_methods\[enabled\]` to `true` and `automatic_payment_methods\[allow_redirects\]` to `never` when creating Setup Intents and Payment Intents\.$/;
  const refused = (p, param, re) => assert.rejects(p, (e) => {
    assert.equal(e.statusCode, 400, e.message);
    assert.equal(e.param, param);
    assert.match(e.message, re);
    return true;
  });
  const si = await stripe.setupIntents.create({ automatic_payment_methods: { enabled: true } });
  assert.deepEqual(si.automatic_payment_methods, { allow_redirects: 'always', enabled: true });
  assert.deepEqual(si.payment_method_types, ['card']);
  assertStripeShape(si, 'setup_intent');
  const def = (await stripe.paymentMethodConfigurations.list()).data.find((c) => c.is_default);
  assert.deepEqual(si.payment_method_configuration_details, { id: def.id, parent: null });
  assert.deepEqual(await stripe.setupIntents.retrieve(si.id), si);
  const plain = await stripe.setupIntents.create({});
  assert.equal(plain.automatic_payment_methods, null);
  assert.equal(plain.payment_method_configuration_details, null);

  // iDEAL, Klarna and SEPA Direct Debit on: a SetupIntent saves the debit and iDEAL (whose
  // bank generates a debit), never a lender's plan; allow_redirects=never leaves iDEAL out
  await stripe.paymentMethodConfigurations.update(def.id, {
    ideal: { display_preference: { preference: 'on' } }, sepa_debit: { display_preference: { preference: 'on' } },
    klarna: { display_preference: { preference: 'on' } },
  });
  try {
    const both = await stripe.setupIntents.create({ automatic_payment_methods: { enabled: true } });
    assert.deepEqual(both.payment_method_types, ['card', 'sepa_debit', 'ideal']);
    assertStripeShape(both, 'setup_intent');
    const never = await stripe.setupIntents.create({ automatic_payment_methods: { enabled: true, allow_redirects: 'never' } });
    assert.deepEqual(never.automatic_payment_methods, { allow_redirects: 'never', enabled: true });
    assert.deepEqual(never.payment_method_types, ['card', 'sepa_debit']);
  } finally {
    await stripe.paymentMethodConfigurations.update(def.id, {
      ideal: { display_preference: { preference: 'off' } }, sepa_debit: { display_preference: { preference: 'off' } },
      klarna: { display_preference: { preference: 'off' } },
    });
  }

  const count = async () => (await stripe.setupIntents.list({ limit: 100 })).data.length;
  const n0 = await count();
  await refused(stripe.setupIntents.create({ automatic_payment_methods: { enabled: true }, payment_method_types: ['card'] }),
    undefined, /^You may only specify one of these parameters: automatic_payment_methods, payment_method_types\.$/);
  await refused(stripe.setupIntents.create({
    automatic_payment_methods: { enabled: true }, payment_method: 'pm_card_visa', confirm: true,
  }), undefined, needed);
  assert.equal(await count(), n0);
  await refused(stripe.setupIntents.confirm(si.id, { payment_method: 'pm_card_visa' }), undefined, needed);
  assert.deepEqual(await stripe.setupIntents.retrieve(si.id), si);
  const ok = await stripe.setupIntents.confirm(si.id, { payment_method: 'pm_card_visa', return_url: 'https://shop.example/back' });
  assert.equal(ok.status, 'succeeded');
  assertStripeShape(ok, 'setup_intent');
  const never = await stripe.setupIntents.create({
    automatic_payment_methods: { enabled: true, allow_redirects: 'never' }, payment_method: 'pm_card_visa', confirm: true,
  });
  assert.equal(never.status, 'succeeded');
});

test('GET /v1/setup_intents?attach_to_self: true lists those made with it, false the others', async () => {
  // attach_to_self is for an intent without a customer (Stripe refuses both)
  const yes = await stripe.setupIntents.create({ attach_to_self: true });
  const no = await stripe.setupIntents.create({ attach_to_self: false });
  const unset = await stripe.setupIntents.create({});
  const ids = async (q) => (await stripe.setupIntents.list({ limit: 100, created: { gte: yes.created }, ...q })).data.map((x) => x.id);
  const t = await ids({ attach_to_self: true });
  assert.ok(t.includes(yes.id) && !t.includes(no.id) && !t.includes(unset.id));
  const f = await ids({ attach_to_self: false });
  assert.ok(!f.includes(yes.id) && f.includes(no.id) && f.includes(unset.id));
  const all = await ids({});
  assert.ok(all.includes(yes.id) && all.includes(no.id) && all.includes(unset.id));
  const listed = await stripe.setupIntents.list({ attach_to_self: true, limit: 1 });
  assert.equal(listed.data[0].attach_to_self, true);
  assertStripeShape(listed.data[0], 'setup_intent');
  await assert.rejects(stripe.setupIntents.list({ attach_to_self: 'maybe' }), (e) => e.statusCode === 400 && e.param === 'attach_to_self');
});
