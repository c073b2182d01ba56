'use strict';
// ConfirmationTokens through stripe-node (Stripe's deferred-intent flow): made by the test
// helper from a PaymentMethod, a test alias or card data, retrieved (Stripe's shape, public card
// facts only), then used once to create-and-confirm or confirm a PaymentIntent (automatic and
// manual capture, 3-D Secure, a decline) or a SetupIntent, the request's own values taking
// precedence over the token's; a second use, an expired token and another merchant's are
// refused and change nothing; an idempotent retry replays without using the token again; no
// card number in any store file or log.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startTender, stopAll, assertStripeShape, storeSql, readStoreFiles, SHARED } = require('./helpers');

let env;
let stripe;

const FIXTURES = path.join(SHARED, 'reference/stripe-openapi/fixtures3.head-2026-08-21.json');

before(async () => {
  env = await startTender({ merchants: 2, args: ['--rate-limit', '0'] });
  stripe = env.stripe();
});
after(stopAll);

const cardData = (number, extra = {}) => ({
  type: 'card',
  card: { number, exp_month: 12, exp_year: 2034, cvc: '123' },
  ...extra,
});
const billing = {
  name: 'Jenny Rosen', email: 'jenny@example.com',
  address: { line1: '1 Main St', city: 'Boston', state: 'MA', postal_code: '02110', country: 'US' },
};
const shipping = {
  name: 'Jenny Rosen', phone: '+15555550100',
  address: { line1: '1 Main St', city: 'Boston', state: 'MA', postal_code: '02110', country: 'US' },
};

// The spec in the reference (2023-08-16) predates ConfirmationTokens: the object's own fields
// are checked against today's fixture, its nested hashes against the spec's schemas.
function assertTokenShape(ct) {
  const fx = JSON.parse(fs.readFileSync(FIXTURES, 'utf8'));
  const want = fx.resources ? fx.resources.confirmation_token : fx.confirmation_token;
  assert.deepEqual(Object.keys(ct).sort(), Object.keys(want).sort());
  assert.equal(ct.object, 'confirmation_token');
  assert.match(ct.id, /^ctoken_/);
  assert.equal(ct.expires_at - ct.created, 12 * 3600);
  assert.equal(ct.use_stripe_sdk, true);
  const pv = ct.payment_method_preview;
  assert.equal(pv.type, 'card');
  assert.deepEqual(Object.keys(pv).sort(),
    ['allow_redisplay', 'billing_details', 'card', 'customer', 'customer_account', 'type']);
  assertStripeShape(pv.card, 'payment_method_card');
  assertStripeShape(pv.billing_details, 'billing_details');
  if (ct.shipping) assertStripeShape(ct.shipping, 'shipping');
}

test('made from card data: retrieve shows the card\'s public facts, never the number', async () => {
  const ct = await stripe.testHelpers.confirmationTokens.create({
    payment_method_data: cardData('4242424242424242', { billing_details: billing }),
    return_url: 'https://example.com/return', setup_future_usage: 'off_session', shipping,
  });
  assertTokenShape(ct);
  const got = await stripe.confirmationTokens.retrieve(ct.id);
  assert.deepEqual(got, ct);
  const c = got.payment_method_preview.card;
  assert.equal(c.brand, 'visa');
  assert.equal(c.last4, '4242');
  assert.equal(c.exp_month, 12);
  assert.equal(c.exp_year, 2034);
  assert.ok(c.fingerprint);
  assert.equal(got.payment_method_preview.billing_details.name, 'Jenny Rosen');
  assert.equal(got.payment_intent, null);
  assert.equal(got.setup_intent, null);
  assert.equal(got.return_url, 'https://example.com/return');
  assert.equal(got.setup_future_usage, 'off_session');
  assert.equal(got.shipping.name, 'Jenny Rosen');
  assert.ok(!JSON.stringify(got).includes('4242424242424242'));
  // the card's fingerprint is the merchant's, as a PaymentMethod of the same card shows it
  const pm = await stripe.paymentMethods.create(cardData('4242424242424242'));
  assert.equal(c.fingerprint, pm.card.fingerprint);
  // from a PaymentMethod and from a test alias
  const fromPm = await stripe.testHelpers.confirmationTokens.create({ payment_method: pm.id });
  assertTokenShape(fromPm);
  assert.equal(fromPm.payment_method_preview.card.last4, '4242');
  const fromAlias = await stripe.testHelpers.confirmationTokens.create({ payment_method: 'pm_card_mastercard' });
  assert.equal(fromAlias.payment_method_preview.card.brand, 'mastercard');
  // a publishable key cannot read one
  await assert.rejects(env.stripe(env.merchant.publishable_key).confirmationTokens.retrieve(ct.id),
    (e) => e.statusCode >= 400 && e.statusCode < 500);
});

test('refused input: bad card, neither or both payment methods, unknown PaymentMethod', async () => {
  const t = stripe.testHelpers.confirmationTokens;
  await assert.rejects(t.create({ payment_method_data: cardData('4242424242424241') }),
    (e) => e.code === 'incorrect_number' || e.code === 'invalid_number');
  await assert.rejects(t.create({}), (e) => e.statusCode === 400);
  await assert.rejects(t.create({ payment_method: 'pm_card_visa', payment_method_data: cardData('4242424242424242') }),
    (e) => e.statusCode === 400);
  await assert.rejects(t.create({ payment_method: 'pm_nope' }), (e) => e.statusCode === 404);
  await assert.rejects(t.create({ payment_method: 'pm_card_visa', return_url: 'ftp://x' }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.confirmationTokens.retrieve('ctoken_nope'), (e) => e.statusCode === 404 && e.code === 'resource_missing');
});

test('pays a PaymentIntent (create+confirm, automatic capture): the token\'s details apply and it is used up', async () => {
  const cus = await stripe.customers.create({ email: 'ct@example.com' });
  const ct = await stripe.testHelpers.confirmationTokens.create({
    payment_method_data: cardData('4242424242424242', { billing_details: billing }),
    return_url: 'https://example.com/back', setup_future_usage: 'off_session', shipping,
  });
  const pi = await stripe.paymentIntents.create({
    amount: 2000, currency: 'usd', customer: cus.id, confirm: true, confirmation_token: ct.id,
  });
  assert.equal(pi.status, 'succeeded');
  assert.match(pi.payment_method, /^pm_/);
  assert.equal(pi.setup_future_usage, 'off_session');
  assert.equal(pi.shipping.name, 'Jenny Rosen');
  const pm = await stripe.paymentMethods.retrieve(pi.payment_method);
  assert.equal(pm.card.last4, '4242');
  assert.equal(pm.billing_details.email, 'jenny@example.com');
  assert.equal(pm.customer, cus.id); // setup_future_usage attached it
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(ch.billing_details.name, 'Jenny Rosen');
  const used = await stripe.confirmationTokens.retrieve(ct.id);
  assert.equal(used.payment_intent, pi.id);
  assertTokenShape(used);
  // a second use is refused and changes nothing
  const n = (await stripe.paymentIntents.list({ limit: 100 })).data.length;
  await assert.rejects(stripe.paymentIntents.create({ amount: 500, currency: 'usd', confirm: true, confirmation_token: ct.id }),
    (e) => e.statusCode === 400 && e.param === 'confirmation_token');
  assert.equal((await stripe.paymentIntents.list({ limit: 100 })).data.length, n);
  // confirmation_token needs confirm=true
  const ct2 = await stripe.testHelpers.confirmationTokens.create({ payment_method: 'pm_card_visa', shipping });
  await assert.rejects(stripe.paymentIntents.create({ amount: 500, currency: 'usd', confirmation_token: ct2.id }),
    (e) => e.statusCode === 400 && e.param === 'confirmation_token');
  assert.equal((await stripe.paymentIntents.list({ limit: 100 })).data.length, n);
  assert.equal((await stripe.confirmationTokens.retrieve(ct2.id)).payment_intent, null);
  // as on Stripe, what the request gives itself takes precedence over the token's
  const own = await stripe.paymentIntents.create({
    amount: 500, currency: 'usd', confirm: true, confirmation_token: ct2.id,
    payment_method: 'pm_card_mastercard', shipping: { ...shipping, name: 'Request Name' },
  });
  assert.equal(own.status, 'succeeded');
  assert.equal((await stripe.paymentMethods.retrieve(own.payment_method)).card.brand, 'mastercard');
  assert.equal(own.shipping.name, 'Request Name');
  assert.equal((await stripe.confirmationTokens.retrieve(ct2.id)).payment_intent, own.id);
});

test('confirm an existing PaymentIntent with manual capture, from a PaymentMethod', async () => {
  const pm = await stripe.paymentMethods.create(cardData('5555555555554444'));
  const ct = await stripe.testHelpers.confirmationTokens.create({ payment_method: pm.id });
  const pi = await stripe.paymentIntents.create({ amount: 3000, currency: 'usd', capture_method: 'manual' });
  const conf = await stripe.paymentIntents.confirm(pi.id, { confirmation_token: ct.id });
  assert.equal(conf.status, 'requires_capture');
  assert.equal(conf.payment_method, pm.id);
  const cap = await stripe.paymentIntents.capture(pi.id);
  assert.equal(cap.status, 'succeeded');
  assert.equal((await stripe.confirmationTokens.retrieve(ct.id)).payment_intent, pi.id);
});

test('an idempotent retry replays without using the token twice', async () => {
  const ct = await stripe.testHelpers.confirmationTokens.create({ payment_method: 'pm_card_visa' });
  const key = `ct-${Date.now()}`;
  const a = await stripe.paymentIntents.create({ amount: 1500, currency: 'usd', confirm: true, confirmation_token: ct.id }, { idempotencyKey: key });
  const b = await stripe.paymentIntents.create({ amount: 1500, currency: 'usd', confirm: true, confirmation_token: ct.id }, { idempotencyKey: key });
  assert.equal(a.status, 'succeeded');
  assert.equal(b.id, a.id);
  assert.equal(b.lastResponse.headers['idempotent-replayed'], 'true');
  const charges = await stripe.charges.list({ payment_intent: a.id });
  assert.equal(charges.data.length, 1);
});

test('3-D Secure: requires_action, the challenge completes the payment', async () => {
  const ct = await stripe.testHelpers.confirmationTokens.create({
    payment_method_data: cardData('4000002760003184'), return_url: 'https://example.com/3ds-done',
  });
  const pi = await stripe.paymentIntents.create({ amount: 2500, currency: 'usd', confirm: true, confirmation_token: ct.id });
  assert.equal(pi.status, 'requires_action');
  assert.equal(pi.next_action.redirect_to_url.return_url, 'https://example.com/3ds-done');
  assert.equal((await stripe.confirmationTokens.retrieve(ct.id)).payment_intent, pi.id);
  const challenge = new URL(pi.next_action.redirect_to_url.url);
  const r = await env.request({ method: 'POST', path: `${challenge.pathname}/complete`, body: '' });
  assert.ok(r.status === 302 || r.status === 303, `challenge answered ${r.status}`);
  const done = await stripe.paymentIntents.retrieve(pi.id);
  assert.equal(done.status, 'succeeded');
  assert.equal(done.payment_method, pi.payment_method);
});

test('a declined card: 402, the token is used by the failed attempt', async () => {
  const ct = await stripe.testHelpers.confirmationTokens.create({ payment_method_data: cardData('4000000000000002') });
  const err = await stripe.paymentIntents.create({ amount: 1200, currency: 'usd', confirm: true, confirmation_token: ct.id })
    .then(() => null, (e) => e);
  assert.ok(err);
  assert.equal(err.statusCode, 402);
  assert.equal(err.code, 'card_declined');
  const pi = err.raw.payment_intent;
  assert.equal(pi.status, 'requires_payment_method');
  assert.equal((await stripe.confirmationTokens.retrieve(ct.id)).payment_intent, pi.id);
  // the intent can be paid with a new token
  const ct2 = await stripe.testHelpers.confirmationTokens.create({ payment_method: 'pm_card_visa' });
  const ok = await stripe.paymentIntents.confirm(pi.id, { confirmation_token: ct2.id });
  assert.equal(ok.status, 'succeeded');
});

test('a SetupIntent saves the token\'s card to its customer', async () => {
  const cus = await stripe.customers.create({ email: 'si@example.com' });
  const ct = await stripe.testHelpers.confirmationTokens.create({
    payment_method_data: cardData('4242424242424242', { billing_details: billing }), return_url: 'https://example.com/si',
  });
  const si = await stripe.setupIntents.create({ customer: cus.id, confirm: true, confirmation_token: ct.id });
  assert.equal(si.status, 'succeeded');
  const pm = await stripe.paymentMethods.retrieve(si.payment_method);
  assert.equal(pm.customer, cus.id);
  assert.equal(pm.billing_details.name, 'Jenny Rosen');
  const used = await stripe.confirmationTokens.retrieve(ct.id);
  assert.equal(used.setup_intent, si.id);
  assert.equal(used.payment_intent, null);
  // confirm of an existing SetupIntent; reuse refused
  const si2 = await stripe.setupIntents.create({ customer: cus.id });
  await assert.rejects(stripe.setupIntents.confirm(si2.id, { confirmation_token: ct.id }),
    (e) => e.statusCode === 400 && e.param === 'confirmation_token');
  assert.equal((await stripe.setupIntents.retrieve(si2.id)).status, 'requires_payment_method');
  const ct2 = await stripe.testHelpers.confirmationTokens.create({ payment_method: 'pm_card_visa' });
  const ok = await stripe.setupIntents.confirm(si2.id, { confirmation_token: ct2.id });
  assert.equal(ok.status, 'succeeded');
  assert.equal((await stripe.confirmationTokens.retrieve(ct2.id)).setup_intent, si2.id);
});

test('an expired token is refused and stays unused', async () => {
  const ct = await stripe.testHelpers.confirmationTokens.create({ payment_method: 'pm_card_visa' });
  storeSql(env.dataDir, `UPDATE confirmation_tokens SET expires_at = created - 1 WHERE id = '${ct.id}'`);
  await assert.rejects(stripe.paymentIntents.create({ amount: 900, currency: 'usd', confirm: true, confirmation_token: ct.id }),
    (e) => e.statusCode === 400 && e.param === 'confirmation_token' && /expired/.test(e.message));
  assert.equal((await stripe.confirmationTokens.retrieve(ct.id)).payment_intent, null);
});

test('tenants: another merchant\'s token is not found', async () => {
  const ct = await stripe.testHelpers.confirmationTokens.create({ payment_method: 'pm_card_visa' });
  const other = env.stripe(env.merchants[1].secret_key);
  await assert.rejects(other.confirmationTokens.retrieve(ct.id), (e) => e.statusCode === 404);
  await assert.rejects(other.paymentIntents.create({ amount: 900, currency: 'usd', confirm: true, confirmation_token: ct.id }),
    (e) => e.statusCode === 404 && e.code === 'resource_missing');
  assert.equal((await stripe.confirmationTokens.retrieve(ct.id)).payment_intent, null);
  assert.equal((await other.paymentIntents.list()).data.length, 0);
});

test('no card number in any store file or log', async () => {
  const numbers = ['4242424242424242', '5555555555554444', '4000002760003184', '4000000000000002', '4000056655665556'];
  for (const n of numbers) {
    const ct = await stripe.testHelpers.confirmationTokens.create({ payment_method_data: cardData(n, { billing_details: billing }) });
    await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', confirm: true, confirmation_token: ct.id }).catch(() => {});
  }
  await env.server.stop();
  const stored = readStoreFiles(env.dataDir);
  const files = [...stored.map((x) => x.file), env.server.logPath];
  const hay = [...stored.map((x) => x.data), fs.readFileSync(env.server.logPath)];
  for (const n of numbers) {
    for (const form of [n, n.replace(/(\d{4})/g, '$1 ').trim()]) {
      for (let i = 0; i < hay.length; i++) {
        assert.ok(!hay[i].includes(form), `${form.slice(-4)} found in clear in ${files[i]}`);
        assert.ok(!hay[i].includes(Buffer.from(form, 'utf16le')), `utf16 ${form.slice(-4)} in ${files[i]}`);
      }
    }
  }
});
