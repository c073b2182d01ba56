'use strict';
// What a Stripe user of customers meets beyond the basics, through the official stripe-node SDK:
// card sources seen as PaymentMethods (a customer's lists, detach, a deleted customer's cards),
// SetupAttempts, a customer's credit balance and its tax ids.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startTender, stopAll, readStoreFiles, SHARED } = require('./helpers');

const validator = require(path.join(SHARED, 'tools', 'stripe-openapi-validate.js'));
// The spec's fields Stripe includes only where they apply: a card's `account` (a connected
// account's external card), the lists Stripe stopped including.
const CONDITIONAL = [/\.account: absent/, /^\$\.cash_balance: absent/, /^\$\.refunds: absent/];
function assertStripeShape(obj, schema) {
  const problems = validator.validate(JSON.stringify(obj), schema, { complete: true })
    .filter((p) => !CONDITIONAL.some((re) => re.test(p)));
  assert.deepEqual(problems, [], `${schema} does not match Stripe's spec:\n${problems.join('\n')}`);
}

let env;
let stripe;
let other; // another merchant's client

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
});
after(stopAll);

const key = (s) => `${s}-${Date.now()}-${Math.random()}`;

async function eventsOf(type, objectId) {
  const out = [];
  for await (const e of stripe.events.list({ type, limit: 100 })) {
    if (e.data.object.id === objectId) out.push(e);
  }
  return out.reverse(); // oldest first
}

const is404 = (e) => e.statusCode === 404;
const DETACHED = /previously used .* or was detached from a Customer\. It may not be used again/;

// ---- card sources and PaymentMethods agree ----

test("a customer's PaymentMethod lists include its card sources, newest first, with pagination", async () => {
  const c = await stripe.customers.create({ source: 'tok_visa' });
  const a = c.default_source;
  const pm1 = await stripe.paymentMethods.attach('pm_card_mastercard', { customer: c.id });
  const b = await stripe.customers.createSource(c.id, { source: 'tok_amex' });
  const pm2 = await stripe.paymentMethods.attach('pm_card_visa', { customer: c.id });
  const want = [pm2.id, b.id, pm1.id, a];

  const l1 = await stripe.paymentMethods.list({ customer: c.id, type: 'card' });
  assert.equal(l1.object, 'list');
  assert.equal(l1.url, '/v1/payment_methods');
  assert.equal(l1.has_more, false);
  assert.deepEqual(l1.data.map((p) => p.id), want);
  for (const p of l1.data) {
    assertStripeShape(p, 'payment_method');
    assert.equal(p.customer, c.id);
    assert.equal(p.type, 'card');
  }
  const asPm = l1.data.find((p) => p.id === b.id);
  assert.equal(asPm.card.brand, 'amex'); // the PaymentMethod's way of naming the brand
  assert.equal(asPm.card.last4, b.last4);
  assert.equal(asPm.card.fingerprint, b.fingerprint);

  const l2 = await stripe.customers.listPaymentMethods(c.id, { type: 'card' });
  assert.equal(l2.url, `/v1/customers/${c.id}/payment_methods`);
  assert.deepEqual(l2.data.map((p) => p.id), want);
  assert.deepEqual((await stripe.customers.listPaymentMethods(c.id)).data.map((p) => p.id), want);
  const one = await stripe.customers.retrievePaymentMethod(c.id, b.id);
  assert.equal(one.id, b.id);
  assertStripeShape(one, 'payment_method');

  // pages
  const p1 = await stripe.paymentMethods.list({ customer: c.id, limit: 2 });
  assert.deepEqual(p1.data.map((p) => p.id), want.slice(0, 2));
  assert.equal(p1.has_more, true);
  const p2 = await stripe.customers.listPaymentMethods(c.id, { limit: 2, starting_after: p1.data[1].id });
  assert.deepEqual(p2.data.map((p) => p.id), want.slice(2));
  assert.equal(p2.has_more, false);
  const back = await stripe.paymentMethods.list({ customer: c.id, limit: 2, ending_before: p2.data[0].id });
  assert.deepEqual(back.data.map((p) => p.id), want.slice(0, 2));
  const mid = await stripe.paymentMethods.list({ customer: c.id, limit: 2, ending_before: a });
  assert.deepEqual(mid.data.map((p) => p.id), want.slice(1, 3));
  assert.equal(mid.has_more, true);
  const all = [];
  for await (const p of stripe.customers.listPaymentMethods(c.id, { limit: 1 })) all.push(p.id);
  assert.deepEqual(all, want);
  // created filters
  const now = Math.floor(Date.now() / 1000);
  assert.deepEqual((await stripe.paymentMethods.list({ customer: c.id, created: { gt: now + 100 } })).data, []);
  assert.deepEqual((await stripe.paymentMethods.list({ customer: c.id, created: { lte: now + 100 } })).data.map((p) => p.id), want);
  assert.deepEqual((await stripe.paymentMethods.list({ customer: c.id, created: { lt: 1000 } })).data, []);

  // a cursor that is not this customer's, a missing customer, another merchant
  const d = await stripe.customers.create({ source: 'tok_visa' });
  await assert.rejects(stripe.paymentMethods.list({ customer: c.id, starting_after: d.default_source }), is404);
  await assert.rejects(stripe.paymentMethods.list({ customer: 'cus_missing' }), is404);
  await assert.rejects(stripe.customers.listPaymentMethods('cus_missing'), is404);
  await assert.rejects(other.paymentMethods.list({ customer: c.id }), is404);
  await assert.rejects(other.customers.listPaymentMethods(c.id), is404);
  await assert.rejects(stripe.paymentMethods.list({ customer: c.id, limit: 101 }), (e) => e.statusCode === 400);
  // the merchant-wide list (no customer) is unchanged: PaymentMethods made by the API
  const wide = await stripe.paymentMethods.list({ limit: 100 });
  assert.ok(wide.data.some((p) => p.id === pm2.id));
});

test('detaching a card source through /v1/payment_methods deletes it, as DELETE …/sources does', async () => {
  const c = await stripe.customers.create({ source: 'tok_visa' });
  const a = c.default_source;
  const b = await stripe.customers.createSource(c.id, { source: 'tok_mastercard' });
  const k = key('detach-card');
  const det = await stripe.paymentMethods.detach(a, {}, { idempotencyKey: k });
  assertStripeShape(det, 'payment_method');
  assert.equal(det.id, a);
  assert.equal(det.customer, null);
  const again = await stripe.paymentMethods.detach(a, {}, { idempotencyKey: k });
  assert.deepEqual(again, det);

  const srcDel = await eventsOf('customer.source.deleted', a);
  assert.equal(srcDel.length, 1);
  assertStripeShape(srcDel[0].data.object, 'card');
  assert.equal(srcDel[0].data.object.object, 'card');
  assert.equal(srcDel[0].data.object.customer, c.id);
  const pmDet = await eventsOf('payment_method.detached', a);
  assert.equal(pmDet.length, 1);
  assert.equal(pmDet[0].data.object.object, 'payment_method');
  assert.equal(pmDet[0].data.object.customer, null);
  assertStripeShape(pmDet[0].data.object, 'payment_method');
  // the default source moves to the other card
  const cu = await stripe.customers.retrieve(c.id);
  assert.equal(cu.default_source, b.id);
  const upd = await eventsOf('customer.updated', c.id);
  assert.ok(upd.some((e) => e.data.previous_attributes.default_source === a && e.data.object.default_source === b.id));

  // the card is gone: as a source, as a PaymentMethod, for paying, for attaching
  assert.deepEqual((await stripe.customers.listSources(c.id)).data.map((s) => s.id), [b.id]);
  assert.deepEqual((await stripe.paymentMethods.list({ customer: c.id })).data.map((p) => p.id), [b.id]);
  await assert.rejects(stripe.customers.retrieveSource(c.id, a), is404);
  await assert.rejects(stripe.paymentMethods.retrieve(a), is404);
  await assert.rejects(stripe.paymentMethods.update(a, { metadata: { x: '1' } }), is404);
  await assert.rejects(stripe.paymentMethods.detach(a), is404);
  const d = await stripe.customers.create({});
  await assert.rejects(stripe.paymentMethods.attach(a, { customer: d.id }), is404);
  await assert.rejects(
    stripe.paymentIntents.create({ amount: 1000, currency: 'usd', customer: c.id, payment_method: a, confirm: true }), is404);

  // DELETE …/sources/{card} sends the same two events
  await stripe.customers.deleteSource(c.id, b.id);
  assert.equal((await eventsOf('customer.source.deleted', b.id)).length, 1);
  const bDet = await eventsOf('payment_method.detached', b.id);
  assert.equal(bDet.length, 1);
  assert.equal(bDet[0].data.object.customer, null);
  assert.equal((await stripe.customers.retrieve(c.id)).default_source, null);
  // another merchant cannot detach
  const e = await stripe.customers.create({ source: 'tok_visa' });
  await assert.rejects(other.paymentMethods.detach(e.default_source), is404);
  assert.equal((await stripe.customers.retrieve(e.id)).default_source, e.default_source);
});

test('a detached PaymentMethod can no longer pay nor be attached again', async () => {
  const c = await stripe.customers.create({});
  const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer: c.id });
  await stripe.customers.update(c.id, { invoice_settings: { default_payment_method: pm.id } });
  const det = await stripe.paymentMethods.detach(pm.id);
  assert.equal(det.customer, null);
  assert.equal((await stripe.customers.retrieve(c.id)).invoice_settings.default_payment_method, null);
  const still = await stripe.paymentMethods.retrieve(pm.id); // visible, as on Stripe
  assert.equal(still.customer, null);
  const e1 = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: pm.id, confirm: true }).then(() => null, (e) => e);
  assert.equal(e1.statusCode, 400);
  assert.equal(e1.param, 'payment_method');
  assert.match(e1.message, DETACHED);
  const e2 = await stripe.paymentMethods.attach(pm.id, { customer: c.id }).then(() => null, (e) => e);
  assert.equal(e2.statusCode, 400);
  assert.match(e2.message, DETACHED);
  const si = await stripe.setupIntents.create({ customer: c.id, payment_method: pm.id });
  const e3 = await stripe.setupIntents.confirm(si.id).then(() => null, (e) => e);
  assert.equal(e3.statusCode, 400);
  assert.match(e3.message, DETACHED);
  await assert.rejects(stripe.paymentMethods.detach(pm.id), (e) => e.statusCode === 400 && e.code === 'payment_method_unexpected_state');
  // one never attached still pays
  const fresh = await stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_visa' } });
  const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: fresh.id, confirm: true });
  assert.equal(pi.status, 'succeeded');
});

test("deleting a customer detaches its PaymentMethods and deletes its card sources", async () => {
  const c = await stripe.customers.create({ source: 'tok_visa', email: 'gone@example.com' });
  const a = c.default_source;
  const b = await stripe.customers.createSource(c.id, { source: 'tok_mastercard' });
  const pm = await stripe.paymentMethods.attach('pm_card_amex', { customer: c.id });
  await stripe.customers.update(c.id, { invoice_settings: { default_payment_method: pm.id } });
  await assert.rejects(other.customers.del(c.id), is404);
  const del = await stripe.customers.del(c.id);
  assert.deepEqual(del, { id: c.id, object: 'customer', deleted: true });
  await assert.rejects(stripe.customers.del(c.id), is404); // idempotency keys are for POSTs

  for (const id of [a, b.id, pm.id]) {
    const ev = await eventsOf('payment_method.detached', id);
    assert.equal(ev.length, 1, `payment_method.detached for ${id}`);
    assert.equal(ev[0].data.object.customer, null);
    assertStripeShape(ev[0].data.object, 'payment_method');
  }
  for (const id of [a, b.id]) {
    const ev = await eventsOf('customer.source.deleted', id);
    assert.equal(ev.length, 1);
    assert.equal(ev[0].data.object.customer, c.id);
  }
  assert.equal((await eventsOf('customer.source.deleted', pm.id)).length, 0);
  const cdel = await eventsOf('customer.deleted', c.id);
  assert.equal(cdel.length, 1);
  assert.equal(cdel[0].data.object.default_source, a); // the customer as it was

  // nothing of it pays any more
  assert.equal((await stripe.paymentMethods.retrieve(pm.id)).customer, null);
  await assert.rejects(stripe.paymentMethods.retrieve(a), is404);
  await assert.rejects(stripe.paymentIntents.create({ amount: 500, currency: 'usd', payment_method: pm.id, confirm: true }),
    (e) => e.statusCode === 400 && DETACHED.test(e.message));
  await assert.rejects(stripe.paymentIntents.create({ amount: 500, currency: 'usd', payment_method: b.id, confirm: true }), is404);
  await assert.rejects(stripe.charges.create({ amount: 500, currency: 'usd', customer: c.id }), is404);
  const d = await stripe.customers.create({});
  await assert.rejects(stripe.paymentMethods.attach(pm.id, { customer: d.id }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.customers.listPaymentMethods(c.id), is404);
});

// ---- SetupAttempts ----

const { storeSql } = require('./helpers');

async function attemptsOf(si, params = {}) {
  return stripe.setupAttempts.list({ setup_intent: si, ...params });
}

function assertCardDetails(card, { brand, last4 }) {
  assert.equal(card.brand, brand);
  assert.equal(card.network, brand);
  assert.equal(card.last4, last4);
  assert.equal(card.country, 'US');
  assert.equal(card.funding, 'credit');
  assert.equal(typeof card.exp_month, 'number');
  assert.equal(typeof card.exp_year, 'number');
  assert.match(card.fingerprint, /^[0-9A-Za-z]{16}$/);
  assert.equal(card.wallet, null);
  assert.deepEqual(Object.keys(card.checks).sort(), ['address_line1_check', 'address_postal_code_check', 'cvc_check']);
}

test('a confirmation records a SetupAttempt: latest_attempt, expandable, listed', async () => {
  const cus = await stripe.customers.create({});
  const si = await stripe.setupIntents.create({ customer: cus.id, payment_method: 'pm_card_visa', confirm: true });
  assert.equal(si.status, 'succeeded');
  assert.match(si.latest_attempt, /^setatt_[0-9A-Za-z]{24}$/);
  assertStripeShape(si, 'setup_intent');
  const x = await stripe.setupIntents.retrieve(si.id, { expand: ['latest_attempt'] });
  const a = x.latest_attempt;
  assertStripeShape(a, 'setup_attempt');
  assert.equal(a.id, si.latest_attempt);
  assert.equal(a.object, 'setup_attempt');
  assert.equal(a.status, 'succeeded');
  assert.equal(a.setup_intent, si.id);
  assert.equal(a.customer, cus.id);
  assert.equal(a.payment_method, si.payment_method);
  assert.equal(a.usage, 'off_session');
  assert.equal(a.flow_directions, null);
  assert.equal(a.setup_error, null);
  assert.equal(a.livemode, false);
  assert.equal(a.payment_method_details.type, 'card');
  assertCardDetails(a.payment_method_details.card, { brand: 'visa', last4: '4242' });
  assert.equal(a.payment_method_details.card.three_d_secure, null);
  const l = await attemptsOf(si.id);
  assert.equal(l.url, '/v1/setup_attempts');
  assert.deepEqual(l.data, [a]);
  // nested expansions of the attempt
  const y = await stripe.setupIntents.retrieve(si.id, { expand: ['latest_attempt.payment_method', 'latest_attempt.customer'] });
  assert.equal(y.latest_attempt.payment_method.id, si.payment_method);
  assert.equal(y.latest_attempt.customer.id, cus.id);
  const z = await attemptsOf(si.id, { expand: ['data.setup_intent', 'data.payment_method'] });
  assert.equal(z.data[0].setup_intent.id, si.id);
  assertStripeShape(z.data[0].setup_intent, 'setup_intent');
  assert.equal(z.data[0].payment_method.object, 'payment_method');
  const inList = await stripe.setupIntents.list({ customer: cus.id, expand: ['data.latest_attempt'] });
  assert.equal(inList.data[0].latest_attempt.id, a.id);
  // no attempt before a confirmation
  const plain = await stripe.setupIntents.create({ payment_method: 'pm_card_visa' });
  assert.equal(plain.latest_attempt, null);
  assert.deepEqual((await attemptsOf(plain.id)).data, []);
});

test('a declined card is a failed attempt with setup_error; the next confirmation another one', async () => {
  const cus = await stripe.customers.create({});
  const err = await stripe.setupIntents.create({ customer: cus.id, payment_method: 'pm_card_chargeDeclined', confirm: true }).then(() => null, (e) => e);
  assert.equal(err.statusCode, 402);
  const si = err.raw.setup_intent;
  assert.match(si.latest_attempt, /^setatt_/);
  const k = key('confirm-again');
  const ok = await stripe.setupIntents.confirm(si.id, { payment_method: 'pm_card_mastercard' }, { idempotencyKey: k });
  const ok2 = await stripe.setupIntents.confirm(si.id, { payment_method: 'pm_card_mastercard' }, { idempotencyKey: k });
  assert.deepEqual(ok2, ok);
  assert.equal(ok.status, 'succeeded');
  assert.notEqual(ok.latest_attempt, si.latest_attempt);
  const l = await attemptsOf(si.id);
  assert.deepEqual(l.data.map((a) => a.id), [ok.latest_attempt, si.latest_attempt]);
  const [good, bad] = l.data;
  for (const a of l.data) assertStripeShape(a, 'setup_attempt');
  assert.equal(bad.status, 'failed');
  assert.equal(bad.setup_error.type, 'card_error');
  assert.equal(bad.setup_error.code, 'card_declined');
  assert.equal(bad.setup_error.decline_code, 'generic_decline');
  assert.equal(bad.setup_error.payment_method.card.last4, '0002');
  assertCardDetails(bad.payment_method_details.card, { brand: 'visa', last4: '0002' });
  assert.equal(good.status, 'succeeded');
  assertCardDetails(good.payment_method_details.card, { brand: 'mastercard', last4: '4444' });
  // pages, created filters
  const p1 = await attemptsOf(si.id, { limit: 1 });
  assert.equal(p1.has_more, true);
  assert.deepEqual(p1.data.map((a) => a.id), [good.id]);
  const p2 = await attemptsOf(si.id, { limit: 1, starting_after: good.id });
  assert.deepEqual(p2.data.map((a) => a.id), [bad.id]);
  assert.equal(p2.has_more, false);
  assert.deepEqual((await attemptsOf(si.id, { limit: 1, ending_before: bad.id })).data.map((a) => a.id), [good.id]);
  assert.deepEqual((await attemptsOf(si.id, { created: { gte: bad.created } })).data.length, 2);
  assert.deepEqual((await attemptsOf(si.id, { created: { gt: good.created + 5 } })).data, []);
  // the required param, a missing intent, another merchant
  await assert.rejects(stripe.setupAttempts.list({}), (e) => e.statusCode === 400 && e.code === 'parameter_missing' && e.param === 'setup_intent');
  await assert.rejects(attemptsOf('seti_missing'), (e) => is404(e) && e.param === 'setup_intent');
  await assert.rejects(other.setupAttempts.list({ setup_intent: si.id }), is404);
  await assert.rejects(other.setupIntents.retrieve(si.id, { expand: ['latest_attempt'] }), is404);
});

async function challengeIntent(extra = {}) {
  const cus = await stripe.customers.create({});
  const si = await stripe.setupIntents.create({
    customer: cus.id, payment_method: 'pm_card_authenticationRequired', confirm: true,
    return_url: 'https://shop.example/saved', ...extra,
  });
  assert.equal(si.status, 'requires_action');
  const a = (await stripe.setupIntents.retrieve(si.id, { expand: ['latest_attempt'] })).latest_attempt;
  assert.equal(a.status, 'requires_action');
  assert.equal(a.payment_method_details.card.three_d_secure, null);
  assert.equal(a.setup_error, null);
  assertStripeShape(a, 'setup_attempt');
  return { si, cus, a, path: new URL(si.next_action.redirect_to_url.url).pathname };
}

test('3-D Secure on the /3ds-setup/ page: the attempt that asked gets the outcome', async () => {
  const { si, a, path: p } = await challengeIntent();
  const r = await env.request({ method: 'POST', path: `${p}/complete`, body: '' });
  assert.equal(r.status, 303);
  const done = await stripe.setupIntents.retrieve(si.id, { expand: ['latest_attempt'] });
  assert.equal(done.status, 'succeeded');
  assert.equal(done.latest_attempt.id, a.id); // the same attempt
  assert.equal(done.latest_attempt.status, 'succeeded');
  const tds = done.latest_attempt.payment_method_details.card.three_d_secure;
  assert.equal(tds.result, 'authenticated');
  assert.equal(tds.authentication_flow, 'challenge');
  assert.equal(tds.version, '2.2.0');
  assertStripeShape(done.latest_attempt, 'setup_attempt');
  assert.deepEqual((await attemptsOf(si.id)).data.map((x) => x.id), [a.id]);

  const f = await challengeIntent();
  const rf = await env.request({ method: 'POST', path: `${f.path}/fail`, body: '' });
  assert.equal(rf.status, 303);
  const failed = await stripe.setupIntents.retrieve(f.si.id, { expand: ['latest_attempt'] });
  assert.equal(failed.status, 'requires_payment_method');
  const fa = failed.latest_attempt;
  assert.equal(fa.id, f.a.id);
  assert.equal(fa.status, 'failed');
  assert.equal(fa.payment_method_details.card.three_d_secure.result, 'failed');
  assert.equal(fa.setup_error.code, 'setup_intent_authentication_failure');
  assert.equal(fa.setup_error.type, 'card_error');
  assertStripeShape(fa, 'setup_attempt');
});

test('an attempt left waiting for 3-D Secure is abandoned when its intent moves on', async () => {
  // canceled
  const c1 = await challengeIntent();
  await stripe.setupIntents.cancel(c1.si.id);
  assert.equal((await attemptsOf(c1.si.id)).data[0].status, 'abandoned');
  // confirmed again with another card: a new attempt
  const c2 = await challengeIntent();
  const again = await stripe.setupIntents.confirm(c2.si.id, { payment_method: 'pm_card_visa' });
  assert.equal(again.status, 'succeeded');
  const l = (await attemptsOf(c2.si.id)).data;
  assert.deepEqual(l.map((x) => x.status), ['succeeded', 'abandoned']);
  assert.equal(l[1].id, c2.a.id);
  // another payment method by update
  const c3 = await challengeIntent();
  await stripe.setupIntents.update(c3.si.id, { payment_method: 'pm_card_mastercard' });
  assert.equal((await attemptsOf(c3.si.id)).data[0].status, 'abandoned');
  // its page no longer completes anything
  const r = await env.request({ method: 'POST', path: `${c3.path}/complete`, body: '' });
  assert.equal(r.status, 404);
  assert.equal((await attemptsOf(c3.si.id)).data[0].status, 'abandoned');
});

test("checkout's mode=setup records the SetupIntent's attempt; a PaymentIntent's setup_future_usage none", async () => {
  const cus = await stripe.customers.create({});
  const s = await stripe.checkout.sessions.create({ mode: 'setup', customer: cus.id, success_url: 'https://shop.example/ok' });
  const form = new URLSearchParams({
    'payment_method_data[type]': 'card',
    'payment_method_data[billing_details][email]': 'buyer@example.com',
    'payment_method_data[billing_details][name]': 'Buyer',
    'payment_method_data[card][number]': '5555555555554444',
    'payment_method_data[card][exp_month]': '10',
    'payment_method_data[card][exp_year]': '2035',
    'payment_method_data[card][cvc]': '321',
  }).toString();
  const r = await env.request({ method: 'POST', path: new URL(s.url).pathname, body: form });
  assert.equal(r.status, 303, r.body);
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  const si = await stripe.setupIntents.retrieve(done.setup_intent, { expand: ['latest_attempt'] });
  assert.equal(si.latest_attempt.status, 'succeeded');
  assert.equal(si.latest_attempt.customer, cus.id);
  assertCardDetails(si.latest_attempt.payment_method_details.card, { brand: 'mastercard', last4: '4444' });
  assert.equal(si.latest_attempt.payment_method_details.card.checks.cvc_check, 'pass');
  assertStripeShape(si.latest_attempt, 'setup_attempt');

  const count = () => storeSql(env.dataDir, 'SELECT COUNT(*) FROM setup_attempts').reduce((n, x) => n + Number(x.trim()), 0);
  const n0 = count();
  const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', customer: cus.id, payment_method: 'pm_card_visa', setup_future_usage: 'off_session', confirm: true });
  assert.equal(pi.status, 'succeeded');
  assert.equal(count(), n0);
});

// ---- a customer's credit balance ----

async function allBalanceTxns(cus) {
  const out = [];
  for await (const t of stripe.customers.listBalanceTransactions(cus, { limit: 2 })) out.push(t);
  return out;
}

test('balance on create and update, and balance transactions: each change a transaction, customer.updated', async () => {
  const c = await stripe.customers.create({ email: 'credit@example.com', balance: -500 });
  assert.equal(c.balance, -500);
  assert.equal(c.currency, 'usd'); // the merchant's settlement currency
  assertStripeShape(c, 'customer');
  let txns = await allBalanceTxns(c.id);
  assert.equal(txns.length, 1);
  assertStripeShape(txns[0], 'customer_balance_transaction');
  assert.match(txns[0].id, /^cbtxn_[0-9A-Za-z]{24}$/);
  assert.equal(txns[0].object, 'customer_balance_transaction');
  assert.equal(txns[0].type, 'adjustment');
  assert.equal(txns[0].amount, -500);
  assert.equal(txns[0].ending_balance, -500);
  assert.equal(txns[0].currency, 'usd');
  assert.equal(txns[0].customer, c.id);
  assert.equal(txns[0].invoice, null);
  assert.equal(txns[0].credit_note, null);

  const u = await stripe.customers.update(c.id, { balance: 200 });
  assert.equal(u.balance, 200);
  const upd = await eventsOf('customer.updated', c.id);
  assert.equal(upd.length, 1);
  assert.equal(upd[0].data.previous_attributes.balance, -500);
  assert.equal(upd[0].data.object.balance, 200);

  const k = key('cbtxn');
  const t = await stripe.customers.createBalanceTransaction(c.id,
    { amount: -1000, currency: 'usd', description: 'Goodwill credit', metadata: { ticket: '42' } }, { idempotencyKey: k });
  const t2 = await stripe.customers.createBalanceTransaction(c.id,
    { amount: -1000, currency: 'usd', description: 'Goodwill credit', metadata: { ticket: '42' } }, { idempotencyKey: k });
  assert.deepEqual(t2, t);
  assertStripeShape(t, 'customer_balance_transaction');
  assert.equal(t.amount, -1000);
  assert.equal(t.ending_balance, -800);
  assert.equal(t.description, 'Goodwill credit');
  assert.deepEqual(t.metadata, { ticket: '42' });
  const cu = await stripe.customers.retrieve(c.id, { expand: ['invoice_credit_balance'] });
  assert.equal(cu.balance, -800);
  assert.deepEqual(cu.invoice_credit_balance, { usd: -800 });
  const upd2 = await eventsOf('customer.updated', c.id);
  assert.equal(upd2.length, 2);
  assert.equal(upd2[1].data.previous_attributes.balance, 200);
  assert.equal(upd2[1].data.object.balance, -800);
  assert.equal(upd2[1].request.idempotency_key, k);

  // history: newest first, amounts sum to the balance, each ending_balance follows on
  txns = await allBalanceTxns(c.id);
  assert.deepEqual(txns.map((x) => x.amount), [-1000, 700, -500]);
  assert.equal(txns.reduce((s, x) => s + x.amount, 0), -800);
  assert.deepEqual(txns.map((x) => x.ending_balance), [-800, 200, -500]);
  const p1 = await stripe.customers.listBalanceTransactions(c.id, { limit: 1 });
  assert.equal(p1.url, `/v1/customers/${c.id}/balance_transactions`);
  assert.equal(p1.has_more, true);
  const p2 = await stripe.customers.listBalanceTransactions(c.id, { limit: 5, starting_after: p1.data[0].id });
  assert.deepEqual(p2.data.map((x) => x.amount), [700, -500]);
  const got = await stripe.customers.retrieveBalanceTransaction(c.id, t.id, { expand: ['customer'] });
  assert.equal(got.customer.id, c.id);
  assertStripeShape(upd2[1].data.object, 'customer');
  // update: description and metadata only
  const ku = key('cbtxn-update');
  const ed = await stripe.customers.updateBalanceTransaction(c.id, t.id, { description: '', metadata: { ticket: '', note: 'x' } }, { idempotencyKey: ku });
  assert.deepEqual(await stripe.customers.updateBalanceTransaction(c.id, t.id, { description: '', metadata: { ticket: '', note: 'x' } }, { idempotencyKey: ku }), ed);
  await assert.rejects(stripe.customers.updateBalanceTransaction(c.id, t.id, { description: 'other' }, { idempotencyKey: ku }),
    (e) => e.type === 'StripeIdempotencyError');
  assertStripeShape(ed, 'customer_balance_transaction');
  assert.equal(ed.description, null);
  assert.deepEqual(ed.metadata, { note: 'x' });
  assert.equal(ed.amount, -1000);
  await assert.rejects(stripe.customers.updateBalanceTransaction(c.id, t.id, { amount: 5 }),
    (e) => e.statusCode === 400 && e.code === 'parameter_unknown');

  // refusals change nothing
  const bad = async (p, check) => {
    await assert.rejects(stripe.customers.createBalanceTransaction(c.id, p), check);
  };
  await bad({ amount: 100, currency: 'eur' }, (e) => e.statusCode === 400 && e.param === 'currency' && /single currency/.test(e.message));
  await bad({ amount: 0, currency: 'usd' }, (e) => e.statusCode === 400 && e.param === 'amount');
  await bad({ amount: 100 }, (e) => e.statusCode === 400 && e.code === 'parameter_missing' && e.param === 'currency');
  await bad({ amount: 100, currency: 'xyz' }, (e) => e.statusCode === 400 && e.param === 'currency');
  await bad({ amount: 1e12, currency: 'usd' }, (e) => e.statusCode === 400 && e.param === 'amount');
  await assert.rejects(stripe.customers.update(c.id, { balance: 1e13 }), (e) => e.statusCode === 400 && e.param === 'balance');
  assert.equal((await stripe.customers.retrieve(c.id)).balance, -800);
  assert.equal((await allBalanceTxns(c.id)).length, 3);

  // another customer without a currency takes the transaction's
  const d = await stripe.customers.create({});
  assert.equal(d.currency, null);
  const e1 = await stripe.customers.createBalanceTransaction(d.id, { amount: 300, currency: 'EUR' });
  assert.equal(e1.currency, 'eur');
  const dd = await stripe.customers.retrieve(d.id);
  assert.equal(dd.currency, 'eur');
  assert.equal(dd.balance, 300);
  const dupd = await eventsOf('customer.updated', d.id);
  assert.deepEqual(dupd[0].data.previous_attributes, { balance: 0, currency: null });
  await stripe.customers.update(d.id, { balance: 0 });
  const dtx = await allBalanceTxns(d.id);
  assert.deepEqual(dtx.map((x) => [x.amount, x.currency, x.ending_balance]), [[-300, 'eur', 0], [300, 'eur', 300]]);
  // a transaction is its customer's: another customer's path, another merchant, a deleted customer
  await assert.rejects(stripe.customers.retrieveBalanceTransaction(d.id, t.id), is404);
  await assert.rejects(stripe.customers.updateBalanceTransaction(d.id, t.id, { description: 'x' }), is404);
  await assert.rejects(other.customers.retrieveBalanceTransaction(c.id, t.id), is404);
  await assert.rejects(other.customers.listBalanceTransactions(c.id), is404);
  await assert.rejects(other.customers.createBalanceTransaction(c.id, { amount: 1, currency: 'usd' }), is404);
  await stripe.customers.del(d.id);
  await assert.rejects(stripe.customers.createBalanceTransaction(d.id, { amount: 1, currency: 'eur' }), is404);
  await assert.rejects(stripe.customers.listBalanceTransactions('cus_missing'), is404);
});

// ---- tax ids and the customer's other tax fields ----

test('tax ids: create with Stripe verification, list, retrieve, delete; formats checked', async () => {
  const c = await stripe.customers.create({ name: 'Acme GmbH' });
  const k = key('txi');
  const de = await stripe.customers.createTaxId(c.id, { type: 'eu_vat', value: 'DE123456789' }, { idempotencyKey: k });
  assert.deepEqual(await stripe.customers.createTaxId(c.id, { type: 'eu_vat', value: 'DE123456789' }, { idempotencyKey: k }), de);
  assertStripeShape(de, 'tax_id');
  assert.match(de.id, /^txi_[0-9A-Za-z]{24}$/);
  assert.equal(de.object, 'tax_id');
  assert.equal(de.country, 'DE');
  assert.equal(de.customer, c.id);
  assert.equal(de.type, 'eu_vat');
  assert.equal(de.value, 'DE123456789');
  assert.deepEqual(de.verification, { status: 'pending', verified_address: null, verified_name: null });
  const cases = [
    ['eu_vat', 'DE000000000', 'DE', 'verified'],
    ['gb_vat', 'GB111111111', 'GB', 'unverified'],
    ['eu_vat', 'EL123456789', 'GR', 'pending'],
    ['us_ein', '12-3456789', 'US', 'unavailable'],
    ['au_abn', '12345678912', 'AU', 'pending'],
    ['ca_bn', '123456789', 'CA', 'unavailable'],
  ];
  const made = [de.id];
  for (const [type, value, country, status] of cases) {
    const t = await stripe.customers.createTaxId(c.id, { type, value });
    assertStripeShape(t, 'tax_id');
    assert.equal(t.country, country, value);
    assert.equal(t.verification.status, status, value);
    made.push(t.id);
  }
  const created = await eventsOf('customer.tax_id.created', de.id);
  assert.equal(created.length, 1);
  assertStripeShape(created[0].data.object, 'tax_id');

  for (const [type, value] of [['eu_vat', 'DE12'], ['eu_vat', 'XX123456789'], ['us_ein', 'abc'], ['gb_vat', 'GB12345'], ['au_abn', '1234']]) {
    const e = await stripe.customers.createTaxId(c.id, { type, value }).then(() => null, (x) => x);
    assert.equal(e.statusCode, 400, value);
    assert.equal(e.code, 'tax_id_invalid');
    assert.equal(e.param, 'value');
    assert.equal(e.message, `Invalid value for ${type}.`);
  }
  await assert.rejects(stripe.customers.createTaxId(c.id, { type: 'xx_vat', value: '1' }), (e) => e.statusCode === 400 && e.param === 'type');

  const l = await stripe.customers.listTaxIds(c.id, { limit: 3 });
  assert.equal(l.url, `/v1/customers/${c.id}/tax_ids`);
  assert.deepEqual(l.data.map((x) => x.id), [...made].reverse().slice(0, 3));
  assert.equal(l.has_more, true);
  const all = [];
  for await (const x of stripe.customers.listTaxIds(c.id, { limit: 2 })) all.push(x.id);
  assert.deepEqual(all, [...made].reverse());
  assert.deepEqual(await stripe.customers.retrieveTaxId(c.id, de.id), de);
  const withIds = await stripe.customers.retrieve(c.id, { expand: ['tax_ids'] });
  assert.equal(withIds.tax_ids.object, 'list');
  assert.deepEqual(withIds.tax_ids.data.map((x) => x.id), [...made].reverse());
  assertStripeShape(withIds, 'customer');

  const del = await stripe.customers.deleteTaxId(c.id, de.id);
  assert.deepEqual(del, { id: de.id, object: 'tax_id', deleted: true });
  assertStripeShape(del, 'deleted_tax_id');
  const delEv = await eventsOf('customer.tax_id.deleted', de.id);
  assert.equal(delEv.length, 1);
  assert.equal(delEv[0].data.object.value, 'DE123456789');
  await assert.rejects(stripe.customers.retrieveTaxId(c.id, de.id), is404);
  await assert.rejects(stripe.customers.deleteTaxId(c.id, de.id), is404);
  assert.ok(!(await stripe.customers.listTaxIds(c.id, { limit: 100 })).data.some((x) => x.id === de.id));

  // tenants and paths
  const d = await stripe.customers.create({});
  await assert.rejects(stripe.customers.retrieveTaxId(d.id, made[1]), is404);
  await assert.rejects(stripe.customers.deleteTaxId(d.id, made[1]), is404);
  await assert.rejects(other.customers.retrieveTaxId(c.id, made[1]), is404);
  await assert.rejects(other.customers.listTaxIds(c.id), is404);
  await assert.rejects(other.customers.createTaxId(c.id, { type: 'eu_vat', value: 'DE123456789' }), is404);
  await assert.rejects(stripe.customers.createTaxId('cus_missing', { type: 'eu_vat', value: 'DE123456789' }), is404);
});

test('/v1/tax_ids: the merchant\'s own, a connected account\'s and a customer\'s (the nested routes see it); list by owner; delete; refusals', async () => {
  const k = key('top-txi');
  const own = await stripe.taxIds.create({ type: 'eu_vat', value: 'DE000000000' }, { idempotencyKey: k });
  assert.deepEqual(await stripe.taxIds.create({ type: 'eu_vat', value: 'DE000000000' }, { idempotencyKey: k }), own);
  assertStripeShape(own, 'tax_id');
  assert.match(own.id, /^txi_/);
  assert.equal(own.customer, null);
  assert.deepEqual(own.owner, { account: null, application: null, customer: null, customer_account: null, type: 'self' });
  assert.equal(own.country, 'DE');
  assert.equal(own.verification.status, 'verified');
  const own2 = await stripe.taxIds.create({ type: 'gb_vat', value: 'GB123456789', owner: { type: 'self' } });
  assert.equal(own2.owner.type, 'self');

  const acct = await stripe.accounts.create({ type: 'custom', country: 'US' });
  const theirs = await stripe.taxIds.create({ type: 'us_ein', value: '12-3456789', owner: { type: 'account', account: acct.id } });
  assertStripeShape(theirs, 'tax_id');
  assert.deepEqual(theirs.owner, { account: acct.id, application: null, customer: null, customer_account: null, type: 'account' });
  assert.equal(theirs.customer, null);

  const c = await stripe.customers.create({ name: 'Top level' });
  const cust = await stripe.taxIds.create({ type: 'eu_vat', value: 'FRAB123456789', owner: { type: 'customer', customer: c.id } });
  assertStripeShape(cust, 'tax_id');
  assert.equal(cust.customer, c.id);
  assert.deepEqual(cust.owner, { account: null, application: null, customer: c.id, customer_account: null, type: 'customer' });
  // the very tax id the nested routes make and see, with the customer's events
  assert.deepEqual(await stripe.customers.retrieveTaxId(c.id, cust.id), cust);
  const nested = await stripe.customers.createTaxId(c.id, { type: 'gb_vat', value: 'GB987654321' });
  assert.deepEqual(await stripe.taxIds.retrieve(nested.id), nested);
  assert.deepEqual((await stripe.customers.listTaxIds(c.id)).data.map((x) => x.id), [nested.id, cust.id]);
  assert.equal((await eventsOf('customer.tax_id.created', cust.id)).length, 1);
  // Stripe sends no event for an account's own tax ids
  const all = [];
  for await (const e of stripe.events.list({ limit: 100 })) all.push(e);
  assert.ok(!all.some((e) => [own.id, own2.id, theirs.id].includes(e.data.object.id)));

  // lists, by owner (self by default)
  const ids = async (params) => (await stripe.taxIds.list(params)).data.map((x) => x.id);
  assert.deepEqual(await ids({}), [own2.id, own.id]);
  assert.deepEqual(await ids({ owner: { type: 'self' } }), [own2.id, own.id]);
  assert.deepEqual(await ids({ owner: { type: 'account', account: acct.id } }), [theirs.id]);
  assert.deepEqual(await ids({ owner: { type: 'customer', customer: c.id } }), [nested.id, cust.id]);
  const paged = [];
  for await (const x of stripe.taxIds.list({ limit: 1 })) paged.push(x.id);
  assert.deepEqual(paged, [own2.id, own.id]);
  const l = await stripe.taxIds.list({ limit: 1 });
  assert.equal(l.url, '/v1/tax_ids');
  assert.equal(l.has_more, true);
  for (const x of l.data) assertStripeShape(x, 'tax_id');
  // the nested routes see only the customer's
  await assert.rejects(stripe.customers.retrieveTaxId(c.id, own.id), is404);
  await assert.rejects(stripe.customers.deleteTaxId(c.id, theirs.id), is404);

  // delete: a customer's through the top-level route is the customer's deletion (its event)
  assert.deepEqual(await stripe.taxIds.del(cust.id), { id: cust.id, object: 'tax_id', deleted: true });
  assert.equal((await eventsOf('customer.tax_id.deleted', cust.id)).length, 1);
  await assert.rejects(stripe.customers.retrieveTaxId(c.id, cust.id), is404);
  const del = await stripe.taxIds.del(own2.id);
  assertStripeShape(del, 'deleted_tax_id');
  await assert.rejects(stripe.taxIds.retrieve(own2.id), is404);
  await assert.rejects(stripe.taxIds.del(own2.id), is404);
  assert.deepEqual(await ids({}), [own.id]);

  // refusals, each writing nothing
  const bad = async (params, param, code) => {
    const e = await stripe.taxIds.create(params).then(() => null, (x) => x);
    assert.equal(e && e.statusCode, 400, JSON.stringify(params));
    assert.equal(e.param, param, JSON.stringify(params));
    if (code) assert.equal(e.code, code);
  };
  await bad({ type: 'eu_vat', value: 'DE123456789', owner: { type: 'application' } }, 'owner[type]');
  await bad({ type: 'eu_vat', value: 'DE123456789', owner: { type: 'customer' } }, 'owner[customer]', 'parameter_missing');
  await bad({ type: 'eu_vat', value: 'DE123456789', owner: { type: 'account' } }, 'owner[account]', 'parameter_missing');
  await bad({ type: 'eu_vat', value: 'DE123456789', owner: { type: 'self', customer: c.id } }, 'owner[customer]');
  await bad({ type: 'eu_vat', value: 'DE123456789', owner: { type: 'customer', customer: 'cus_missing' } }, 'owner[customer]', 'resource_missing');
  await bad({ type: 'eu_vat', value: 'DE123456789', owner: { type: 'account', account: 'acct_missing' } }, 'owner[account]', 'resource_missing');
  await bad({ type: 'eu_vat', value: 'DE12' }, 'value', 'tax_id_invalid');
  await bad({ type: 'eu_vat', value: 'DE123456789', owner: { type: 'self', customer_account: 'x' } }, 'owner[customer_account]', 'parameter_unknown');
  assert.deepEqual(await ids({}), [own.id]);
  await assert.rejects(stripe.taxIds.list({ owner: { type: 'customer' } }), (e) => e.statusCode === 400 && e.param === 'owner[customer]');
  // another merchant sees none of them
  await assert.rejects(other.taxIds.retrieve(own.id), is404);
  await assert.rejects(other.taxIds.del(theirs.id), is404);
  assert.deepEqual((await other.taxIds.list()).data, []);
  await assert.rejects(other.taxIds.create({ type: 'us_ein', value: '12-3456789', owner: { type: 'account', account: acct.id } }),
    (e) => e.statusCode === 400 && e.param === 'owner[account]');
  await stripe.taxIds.del(own.id);
});

test("an invoice's account_tax_ids: the merchant's own, expandable, on its PDF and hosted page; a subscription's carried to its invoices", async () => {
  const { billingShape } = require('./billing_helpers');
  const vat = await stripe.taxIds.create({ type: 'eu_vat', value: 'DE123456789' });
  const ein = await stripe.taxIds.create({ type: 'us_ein', value: '12-3456789' });
  const c = await stripe.customers.create({ name: 'Invoiced', email: 'inv@example.com' });
  const theirs = await stripe.customers.createTaxId(c.id, { type: 'gb_vat', value: 'GB123456789' });
  await stripe.invoiceItems.create({ customer: c.id, amount: 1500, currency: 'eur', description: 'Consulting' });
  const inv = await stripe.invoices.create({ customer: c.id, collection_method: 'send_invoice', days_until_due: 30,
    pending_invoice_items_behavior: 'include', account_tax_ids: [vat.id, ein.id] });
  assert.deepEqual(inv.account_tax_ids, [vat.id, ein.id]);
  billingShape(inv, 'invoice');
  const expanded = await stripe.invoices.retrieve(inv.id, { expand: ['account_tax_ids'] });
  assert.deepEqual(expanded.account_tax_ids.map((t) => [t.id, t.type, t.value, t.owner.type]),
    [[vat.id, 'eu_vat', 'DE123456789', 'self'], [ein.id, 'us_ein', '12-3456789', 'self']]);
  billingShape(expanded, 'invoice');
  assert.equal((await stripe.invoices.update(inv.id, { account_tax_ids: '' })).account_tax_ids, null);
  assert.deepEqual((await stripe.invoices.update(inv.id, { account_tax_ids: [vat.id] })).account_tax_ids, [vat.id]);

  // refusals: a customer's tax id, one that does not exist or is deleted, one twice, too many
  const refused = async (params, re) => {
    const e = await stripe.invoices.update(inv.id, params).then(() => null, (x) => x);
    assert.equal(e && e.statusCode, 400, JSON.stringify(params));
    assert.equal(e.param, 'account_tax_ids');
    assert.match(e.message, re);
  };
  await refused({ account_tax_ids: [theirs.id] }, /not one of your account's own/);
  await refused({ account_tax_ids: ['txi_missing'] }, /No such tax ID/);
  await refused({ account_tax_ids: [vat.id, vat.id] }, /more than once/);
  await refused({ account_tax_ids: Array(26).fill(vat.id) }, /at most 25/);
  const gone = await stripe.taxIds.create({ type: 'ch_vat', value: 'CHE-123.456.789 MWST' });
  await stripe.taxIds.del(gone.id);
  await refused({ account_tax_ids: [gone.id] }, /No such tax ID/);
  await assert.rejects(stripe.invoices.create({ customer: c.id, account_tax_ids: ['txi_missing'] }), (e) => e.statusCode === 400 && e.param === 'account_tax_ids');
  assert.deepEqual((await stripe.invoices.retrieve(inv.id)).account_tax_ids, [vat.id]);

  // finalized: fixed, shown on the hosted page and the PDF under the merchant's name
  const fin = await stripe.invoices.finalizeInvoice(inv.id);
  assert.deepEqual(fin.account_tax_ids, [vat.id]);
  await assert.rejects(stripe.invoices.update(inv.id, { account_tax_ids: [ein.id] }), (e) => e.statusCode === 400);
  const page = await (await fetch(fin.hosted_invoice_url)).text();
  assert.match(page, /<p id="account_tax_ids">EU VAT DE123456789<\/p>/);
  const pdfText = async (url) => {
    const f = path.join(require('node:os').tmpdir(), `tender-atx-${process.pid}-${Math.random().toString(36).slice(2)}.pdf`);
    fs.writeFileSync(f, Buffer.from(await (await fetch(url)).arrayBuffer()));
    try {
      return require('node:child_process').execFileSync('pdftotext', ['-layout', f, '-'], { encoding: 'utf8' });
    } finally {
      fs.unlinkSync(f);
    }
  };
  const text = await pdfText(fin.invoice_pdf);
  assert.match(text, /EU VAT DE123456789/);
  assert.doesNotMatch(text, /US EIN/);
  // a credit note's PDF shows its invoice's
  const cn = await stripe.creditNotes.create({ invoice: inv.id, lines: [{ type: 'custom_line_item', description: 'Goodwill', quantity: 1, unit_amount: 100 }] });
  assert.match(await pdfText(cn.pdf), /EU VAT DE123456789/);
  // deleted later, the finalized invoice still names it: Stripe's deleted_tax_id when expanded
  await stripe.taxIds.del(vat.id);
  const after = await stripe.invoices.retrieve(inv.id, { expand: ['account_tax_ids'] });
  assert.deepEqual(after.account_tax_ids, [{ id: vat.id, object: 'tax_id', deleted: true }]);

  // a subscription's invoice_settings[account_tax_ids], on every invoice it makes
  const price = await stripe.prices.create({ currency: 'eur', unit_amount: 900, recurring: { interval: 'month' }, product_data: { name: 'Plan' } });
  await assert.rejects(stripe.subscriptions.create({ customer: c.id, items: [{ price: price.id }], collection_method: 'send_invoice', days_until_due: 7,
    invoice_settings: { account_tax_ids: [theirs.id] } }), (e) => e.statusCode === 400 && e.param === 'invoice_settings[account_tax_ids]');
  const sub = await stripe.subscriptions.create({ customer: c.id, items: [{ price: price.id }], collection_method: 'send_invoice', days_until_due: 7,
    invoice_settings: { account_tax_ids: [ein.id] }, expand: ['latest_invoice'] });
  assert.deepEqual(sub.invoice_settings.account_tax_ids, [ein.id]);
  assert.deepEqual(sub.latest_invoice.account_tax_ids, [ein.id]);
  billingShape(sub.latest_invoice, 'invoice');
  const subX = await stripe.subscriptions.retrieve(sub.id, { expand: ['invoice_settings.account_tax_ids'] });
  assert.equal(subX.invoice_settings.account_tax_ids[0].value, '12-3456789');
  const cleared = await stripe.subscriptions.update(sub.id, { invoice_settings: { account_tax_ids: '' } });
  assert.equal(cleared.invoice_settings.account_tax_ids, null);
  const ev = (await eventsOf('customer.subscription.updated', sub.id)).pop();
  assert.deepEqual(ev.data.previous_attributes.invoice_settings, { account_tax_ids: [ein.id] });

  // a schedule's: its default settings', a phase's own, carried to the subscription it makes
  const ch = await stripe.taxIds.create({ type: 'ch_vat', value: 'CHE-123.456.789 MWST' });
  const phases = (own) => [{ items: [{ price: price.id }], iterations: 1, invoice_settings: { account_tax_ids: own } }, { items: [{ price: price.id }], iterations: 1 }];
  const defaults = { collection_method: 'send_invoice', invoice_settings: { days_until_due: 7, account_tax_ids: [ein.id] } };
  await assert.rejects(stripe.subscriptionSchedules.create({ customer: c.id, start_date: 'now', default_settings: defaults, phases: phases([theirs.id]) }),
    (e) => e.statusCode === 400 && e.param === 'phases[0][invoice_settings][account_tax_ids]');
  const sched = await stripe.subscriptionSchedules.create({ customer: c.id, start_date: 'now', default_settings: defaults, phases: phases([ch.id]) });
  billingShape(sched, 'subscription_schedule');
  assert.deepEqual(sched.default_settings.invoice_settings.account_tax_ids, [ein.id]);
  assert.deepEqual(sched.phases[0].invoice_settings.account_tax_ids, [ch.id]);
  const made = await stripe.subscriptions.retrieve(sched.subscription, { expand: ['latest_invoice'] });
  assert.deepEqual(made.invoice_settings.account_tax_ids, [ch.id]);
  assert.deepEqual(made.latest_invoice.account_tax_ids, [ch.id]);
  const upd = await stripe.subscriptionSchedules.update(sched.id, { default_settings: { invoice_settings: { account_tax_ids: '' } } });
  assert.equal(upd.default_settings.invoice_settings.account_tax_ids, null);
  const sev = (await eventsOf('subscription_schedule.updated', sched.id)).pop();
  assert.deepEqual(sev.data.previous_attributes.default_settings.invoice_settings.account_tax_ids, [ein.id]);
});

test('customer create takes tax_id_data; tax_exempt, preferred_locales, invoice_prefix, shipping', async () => {
  const c = await stripe.customers.create({
    email: 'vat@example.com',
    tax_id_data: [{ type: 'eu_vat', value: 'FRAB123456789' }, { type: 'gb_vat', value: 'GB123456789' }],
    tax_exempt: 'reverse',
    preferred_locales: ['fr', 'en'],
    invoice_prefix: 'ACME42',
    shipping: { name: 'Acme', address: { line1: '1 rue de la Paix', city: 'Paris', country: 'FR' } },
  }, { idempotencyKey: key('cus-tax') });
  assert.equal(c.tax_exempt, 'reverse');
  assert.deepEqual(c.preferred_locales, ['fr', 'en']);
  assert.equal(c.invoice_prefix, 'ACME42');
  assert.equal(c.shipping.address.city, 'Paris');
  assertStripeShape(c, 'customer');
  const ids = (await stripe.customers.listTaxIds(c.id)).data;
  assert.deepEqual(ids.map((x) => [x.type, x.value, x.country]), [['gb_vat', 'GB123456789', 'GB'], ['eu_vat', 'FRAB123456789', 'FR']]);
  const n = (await stripe.customers.list({ email: 'vat@example.com' })).data.length;
  await assert.rejects(stripe.customers.create({ email: 'vat@example.com', tax_id_data: [{ type: 'eu_vat', value: 'FR1' }] }),
    (e) => e.statusCode === 400 && e.code === 'tax_id_invalid' && e.param === 'tax_id_data[0][value]');
  assert.equal((await stripe.customers.list({ email: 'vat@example.com' })).data.length, n); // nothing made
  const u = await stripe.customers.update(c.id, { tax_exempt: 'exempt', preferred_locales: ['de'], invoice_prefix: 'NEWPFX' });
  assert.equal(u.tax_exempt, 'exempt');
  assert.deepEqual(u.preferred_locales, ['de']);
  assert.equal(u.invoice_prefix, 'NEWPFX');
  const ev = (await eventsOf('customer.updated', c.id))[0];
  assert.equal(ev.data.previous_attributes.tax_exempt, 'reverse');
  assert.deepEqual(ev.data.previous_attributes.preferred_locales, ['fr', 'en']);
  assert.equal(ev.data.previous_attributes.invoice_prefix, 'ACME42');
  for (const bad of ['ab', 'abcd', 'TOOLONGPREFIX1', 'AB-C']) {
    await assert.rejects(stripe.customers.update(c.id, { invoice_prefix: bad }), (e) => e.statusCode === 400 && e.param === 'invoice_prefix');
  }
  await assert.rejects(stripe.customers.update(c.id, { tax_exempt: 'sometimes' }), (e) => e.statusCode === 400 && e.param === 'tax_exempt');
});

test('next_invoice_sequence numbers the next invoice (never backwards); tax[ip_address, validate_location]; cash_balance settings', async () => {
  const c = await stripe.customers.create({ email: 'seq@example.com', invoice_prefix: 'SEQTEST', next_invoice_sequence: 7 });
  assert.equal(c.next_invoice_sequence, 7);
  assertStripeShape(c, 'customer');
  await stripe.invoiceItems.create({ customer: c.id, amount: 1000, currency: 'usd' });
  const inv = await stripe.invoices.finalizeInvoice((await stripe.invoices.create({ customer: c.id, pending_invoice_items_behavior: 'include' })).id);
  assert.equal(inv.number, 'SEQTEST-0007');
  assert.equal((await stripe.customers.retrieve(c.id)).next_invoice_sequence, 8);
  const moved = await stripe.customers.update(c.id, { next_invoice_sequence: 20 });
  assert.equal(moved.next_invoice_sequence, 20);
  const [upd] = (await eventsOf('customer.updated', c.id)).slice(-1);
  assert.equal(upd.data.previous_attributes.next_invoice_sequence, 8);
  await assert.rejects(stripe.customers.update(c.id, { next_invoice_sequence: 19 }),
    (e) => e.statusCode === 400 && e.param === 'next_invoice_sequence');
  const inv2 = await stripe.invoices.finalizeInvoice((await stripe.invoices.create({ customer: c.id })).id);
  assert.equal(inv2.number, 'SEQTEST-0020');
  // tax: kept and shown when expanded; immediately needs a place Stripe Tax recognizes
  await assert.rejects(stripe.customers.create({ email: 'nowhere@example.com', tax: { validate_location: 'immediately' } }),
    (e) => e.statusCode === 400 && e.code === 'customer_tax_location_invalid');
  const placed = await stripe.customers.create({
    email: 'de@example.com', address: { country: 'DE', postal_code: '10117', city: 'Berlin' },
    tax: { ip_address: '203.0.113.9', validate_location: 'immediately' }, expand: ['tax'],
  });
  assert.deepEqual(placed.tax, {
    automatic_tax: 'supported', ip_address: '203.0.113.9', location: { country: 'DE', source: 'billing_address', state: null }, provider: 'stripe',
  });
  const unplaced = await stripe.customers.update(c.id, { tax: { ip_address: '198.51.100.4' }, expand: ['tax'] });
  assert.deepEqual([unplaced.tax.automatic_tax, unplaced.tax.ip_address, unplaced.tax.location], ['unrecognized_location', '198.51.100.4', null]);
  await assert.rejects(stripe.customers.update(c.id, { name: 'x', tax: { validate_location: 'immediately' } }),
    (e) => e.statusCode === 400 && e.code === 'customer_tax_location_invalid');
  assert.equal((await stripe.customers.retrieve(c.id)).name, null);
  // cash_balance[settings][reconciliation_mode]
  const cash = await stripe.customers.create({ email: 'cash@example.com', cash_balance: { settings: { reconciliation_mode: 'manual' } } });
  const cb = await stripe.customers.retrieveCashBalance(cash.id);
  assert.deepEqual(cb.settings, { reconciliation_mode: 'manual', using_merchant_default: false });
  await stripe.customers.update(cash.id, { cash_balance: { settings: { reconciliation_mode: 'merchant_default' } } });
  assert.equal((await stripe.customers.retrieveCashBalance(cash.id)).settings.using_merchant_default, true);
});

test('the default_source era\'s card, bank_account, default_card and default_bank_account on update', async () => {
  const c = await stripe.customers.create({ email: 'legacy@example.com' });
  const withCard = await stripe.customers.update(c.id, { card: 'tok_visa' });
  assert.match(withCard.default_source, /^card_/);
  const second = await stripe.customers.createSource(c.id, { source: 'tok_mastercard' });
  const def = await stripe.customers.update(c.id, { default_card: second.id });
  assert.equal(def.default_source, second.id);
  const bank = await stripe.customers.update(c.id, { bank_account: 'btok_us_verified' });
  assert.match(bank.default_source, /^ba_/);
  const back = await stripe.customers.update(c.id, { default_bank_account: bank.default_source });
  assert.equal(back.default_source, bank.default_source);
  await assert.rejects(stripe.customers.update(c.id, { card: 'tok_visa', source: 'tok_visa' }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.customers.update(c.id, { default_card: 'card_nope' }), (e) => e.statusCode >= 400 && e.statusCode < 500);
  assertStripeShape(back, 'customer');
});

test('no card number in clear on disk or in the server log', async () => {
  const pans = ['4242424242424242', '5555555555554444', '4000002500003155'];
  const c = await stripe.customers.create({});
  for (const n of pans) {
    const t = await stripe.tokens.create({ card: { number: n, exp_month: 12, exp_year: 2034, cvc: '123' } });
    await stripe.customers.createSource(c.id, { source: t.id }).catch(() => {});
    await stripe.setupIntents.create({ customer: c.id, confirm: true, payment_method_data: { type: 'card', card: { number: n, exp_month: 12, exp_year: 2034, cvc: '123' } } }).catch(() => {});
  }
  await stripe.customers.del(c.id);
  const stored = readStoreFiles(env.dataDir);
  const files = [...stored.map((x) => x.file), env.server.logPath];
  const hay = [...stored.map((x) => x.data), fs.readFileSync(env.server.logPath)];
  for (const n of pans) {
    for (const form of [n, n.replace(/(\d{4})/g, '$1 ').trim()]) {
      for (let i = 0; i < hay.length; i++) {
        assert.ok(!hay[i].includes(form), `${form.slice(-4)} found in clear in ${files[i]}`);
        assert.ok(!hay[i].includes(Buffer.from(form, 'utf16le')), `utf16 ${form.slice(-4)} in ${files[i]}`);
      }
    }
  }
});

test('business_name and individual_name (150 characters) on create and update; an invoice\'s custom number on a draft, unique, kept at finalization, the sequence moving past it', async () => {
  const c = await stripe.customers.create({ email: 'names@example.com', business_name: 'Acme Corp', individual_name: 'Jenny Rosen', invoice_prefix: 'NUMTEST' });
  assert.deepEqual([c.business_name, c.individual_name, c.name], ['Acme Corp', 'Jenny Rosen', null]);
  assertStripeShape(c, 'customer');
  const [created] = await eventsOf('customer.created', c.id);
  assert.equal(created.data.object.business_name, 'Acme Corp');
  const up = await stripe.customers.update(c.id, { business_name: 'Acme Inc', individual_name: '' });
  assert.equal(up.business_name, 'Acme Inc');
  assert.equal('individual_name' in up, false, 'optional in the API\'s types: absent once emptied');
  const [upd] = (await eventsOf('customer.updated', c.id)).slice(-1);
  assert.deepEqual(upd.data.previous_attributes, { business_name: 'Acme Corp', individual_name: 'Jenny Rosen' });
  await assert.rejects(stripe.customers.update(c.id, { business_name: 'x'.repeat(151) }), (e) => e.statusCode === 400 && e.param === 'business_name');
  await assert.rejects(stripe.customers.create({ individual_name: 'x'.repeat(151) }), (e) => e.statusCode === 400 && e.param === 'individual_name');
  assert.equal((await stripe.customers.retrieve(c.id)).business_name, 'Acme Inc');
  assert.equal((await stripe.customers.create({ individual_name: 'y'.repeat(150) })).individual_name.length, 150);

  // invoices: a custom number on create and on a draft's update, used at finalization
  const refuse = (p, param) => assert.rejects(p, (e) => e.statusCode === 400 && e.param === param);
  const d1 = await stripe.invoices.create({ customer: c.id, number: 'ACME-2026-001' });
  assert.equal(d1.number, 'ACME-2026-001');
  await refuse(stripe.invoices.create({ customer: c.id, number: 'ACME-2026-001' }), 'number');
  await refuse(stripe.invoices.create({ customer: c.id, number: 'x'.repeat(27) }), 'number');
  const u1 = await stripe.invoices.update(d1.id, { number: 'ACME-2026-002' });
  assert.equal(u1.number, 'ACME-2026-002');
  const [iu] = (await eventsOf('invoice.updated', d1.id)).slice(-1);
  assert.equal(iu.data.object.number, 'ACME-2026-002');
  assert.equal((await stripe.invoices.update(d1.id, { number: 'ACME-2026-002' })).number, 'ACME-2026-002', 'its own number is no conflict');
  const f1 = await stripe.invoices.finalizeInvoice(d1.id);
  assert.equal(f1.number, 'ACME-2026-002');
  await assert.rejects(stripe.invoices.update(d1.id, { number: 'ACME-2026-009' }), (e) => e.statusCode === 400);
  const d2 = await stripe.invoices.create({ customer: c.id, number: 'ACME-2026-001' });
  assert.equal(d2.number, 'ACME-2026-001', 'free again once the first draft moved on');
  await refuse(stripe.invoices.update(d2.id, { number: 'ACME-2026-002' }), 'number');
  assert.equal((await stripe.invoices.update(d2.id, { number: '' })).number, null, 'emptied: generated at finalization');
  // the sequence's next number taken by a draft's custom one: finalization moves past it
  const d3 = await stripe.invoices.create({ customer: c.id, number: 'NUMTEST-0002' });
  const f2 = await stripe.invoices.finalizeInvoice(d2.id);
  assert.equal(f2.number, 'NUMTEST-0003');
  require('./billing_helpers').billingShape(f2, 'invoice');
  assert.equal((await stripe.invoices.finalizeInvoice(d3.id)).number, 'NUMTEST-0002');
  // another merchant's numbers are its own
  const oc = await other.customers.create({ email: 'o@example.com' });
  assert.equal((await other.invoices.create({ customer: oc.id, number: 'ACME-2026-002' })).number, 'ACME-2026-002');
});
