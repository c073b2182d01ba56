'use strict';
// Ephemeral keys and customer sessions through stripe-node: a client made with the key's secret
// reaches its customer and that customer's PaymentMethods, and is refused everything else (403),
// other customers' objects (404), and once the key has expired or been deleted (401). The
// secrets never reach the store or the log in clear.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const { startTender, assertStripeShape, stopAll, storeSql, readStoreFiles } = require('./helpers');

const API_VERSION = '2020-08-27';
let env;
let stripe;
let cus;
let other;
const secrets = [];

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  cus = await stripe.customers.create({ email: 'eph@example.com' });
  other = await stripe.customers.create({ email: 'other@example.com' });
});
after(stopAll);

const ekClient = (secret) => env.stripe(secret);
const sha256 = (s) => crypto.createHash('sha256').update(s).digest('hex');
const status = (p) => p.then(() => 200, (e) => e.statusCode);
const card = () => ({ type: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2034, cvc: '123' } });

async function newKey(customer = cus.id) {
  const ek = await stripe.ephemeralKeys.create({ customer }, { apiVersion: API_VERSION });
  secrets.push(ek.secret);
  return ek;
}

test('create: Stripe\'s ephemeral_key, an hour, secret once, only its hash stored', async () => {
  const ek = await newKey();
  assert.match(ek.id, /^ephkey_/);
  assert.equal(ek.object, 'ephemeral_key');
  assert.match(ek.secret, /^ek_test_[A-Za-z0-9_-]+$/);
  assert.deepEqual(ek.associated_objects, [{ id: cus.id, type: 'customer' }]);
  assert.equal(ek.expires - ek.created, 3600);
  assert.equal(ek.livemode, false);
  assertStripeShape(ek, 'ephemeral_key');
  const rows = storeSql(env.dataDir, `SELECT secret_hash FROM ephemeral_keys WHERE id = '${ek.id}'`).join('').trim();
  assert.equal(rows, sha256(ek.secret));

  // Stripe-Version is required (stripe-node refuses client-side without apiVersion)
  await assert.rejects(stripe.ephemeralKeys.create({ customer: cus.id }), /apiVersion/);
  const raw = await env.request({ method: 'POST', path: '/v1/ephemeral_keys', key: env.merchant.secret_key, body: `customer=${cus.id}` });
  assert.equal(raw.status, 400);
  assert.match(raw.json.error.message, /Stripe-Version/);
  const none = await stripe.ephemeralKeys.create({ customer: 'cus_nope' }, { apiVersion: API_VERSION }).catch((e) => e);
  assert.equal(none.statusCode, 404);
  assert.equal(none.code, 'resource_missing');
  // another merchant's customer is not one of this merchant's
  const m2 = env.stripe(env.merchants[1].secret_key);
  const e2 = await m2.ephemeralKeys.create({ customer: cus.id }, { apiVersion: API_VERSION }).catch((e) => e);
  assert.equal(e2.statusCode, 404);
});

test('an ephemeral key reaches its customer and its PaymentMethods, nothing else', async () => {
  const ek = await newKey();
  const c = ekClient(ek.secret);
  // the customer, not another one
  const me = await c.customers.retrieve(cus.id);
  assert.equal(me.id, cus.id);
  const miss = await c.customers.retrieve(other.id).catch((e) => e);
  assert.equal(miss.statusCode, 404);
  assert.equal(miss.code, 'resource_missing');

  // a PaymentMethod made by the app (publishable key) is attached with the ephemeral key
  const pm = await env.stripe(env.merchant.publishable_key).paymentMethods.create(card());
  const att = await c.paymentMethods.attach(pm.id, { customer: cus.id });
  assert.equal(att.customer, cus.id);
  assertStripeShape(att, 'payment_method');
  const l1 = await c.customers.listPaymentMethods(cus.id);
  assert.deepEqual(l1.data.map((x) => x.id), [pm.id]);
  const l2 = await c.paymentMethods.list({ customer: cus.id, type: 'card' });
  assert.deepEqual(l2.data.map((x) => x.id), [pm.id]);
  assert.equal((await c.paymentMethods.retrieve(pm.id)).id, pm.id);
  const up = await c.paymentMethods.update(pm.id, { billing_details: { name: 'Jenny Rosen' } });
  assert.equal(up.billing_details.name, 'Jenny Rosen');

  // another customer's PaymentMethods and lists are missing; the merchant's list refused
  const opm = await stripe.paymentMethods.create(card());
  await stripe.paymentMethods.attach(opm.id, { customer: other.id });
  assert.equal(await status(c.paymentMethods.retrieve(opm.id)), 404);
  assert.equal(await status(c.paymentMethods.update(opm.id, { metadata: { a: '1' } })), 404);
  assert.equal(await status(c.paymentMethods.detach(opm.id)), 404);
  assert.equal(await status(c.paymentMethods.attach(opm.id, { customer: cus.id })), 404);
  assert.equal(await status(c.customers.listPaymentMethods(other.id)), 404);
  assert.equal(await status(c.paymentMethods.list({ customer: other.id })), 404);
  const all = await c.paymentMethods.list().catch((e) => e);
  assert.equal(all.statusCode, 403);
  const free = await stripe.paymentMethods.create(card());
  assert.equal(await status(c.paymentMethods.attach(free.id, { customer: other.id })), 404);
  assert.equal((await stripe.paymentMethods.retrieve(free.id)).customer, null);
  assert.equal((await stripe.paymentMethods.retrieve(opm.id)).customer, other.id);

  // everything else is Stripe's 403 for a key without the permission, never a 500
  const refused = [
    () => c.customers.update(cus.id, { name: 'x' }),
    () => c.customers.list(),
    () => c.customers.create({}),
    () => c.customers.del(cus.id),
    () => c.paymentIntents.create({ amount: 1000, currency: 'usd', customer: cus.id }),
    () => c.setupIntents.create({ customer: cus.id }),
    () => c.paymentMethods.create(card()),
    () => c.charges.list(),
    () => c.balance.retrieve(),
    () => c.ephemeralKeys.create({ customer: cus.id }, { apiVersion: API_VERSION }),
    () => c.ephemeralKeys.del(ek.id),
    () => c.customerSessions.create({ customer: cus.id, components: { customer_sheet: { enabled: true } } }),
  ];
  for (const call of refused) {
    const e = await call().catch((x) => x);
    assert.equal(e.statusCode, 403, `${e.message}`);
    assert.equal(e.type, 'StripePermissionError');
    assert.equal(e.rawType, 'invalid_request_error');
    assert.match(e.message, /does not have the required permissions/);
    assert.ok(!e.message.includes(ek.secret), 'the secret is masked');
  }
  // a Stripe-Account header cannot widen it
  const acct = await env.request({ path: `/v1/customers/${cus.id}`, key: ek.secret, headers: { 'Stripe-Account': 'acct_other' } });
  assert.equal(acct.status, 403);
  // the key in a URL is refused outright
  const q = await env.request({ path: `/v1/customers/${cus.id}?key=${ek.secret}`, key: ek.secret });
  assert.equal(q.status, 401);

  // detach its own
  const det = await c.paymentMethods.detach(pm.id);
  assert.equal(det.customer, null);
  assert.deepEqual((await c.customers.listPaymentMethods(cus.id)).data, []);
  // the merchant's events record the ephemeral key's changes
  const ev = await stripe.events.list({ type: 'payment_method.detached' });
  assert.ok(ev.data.some((x) => x.data.object.id === pm.id));
});

test('deleted and expired keys are refused with 401', async () => {
  const ek = await newKey();
  const c = ekClient(ek.secret);
  assert.equal((await c.customers.retrieve(cus.id)).id, cus.id);
  const del = await stripe.ephemeralKeys.del(ek.id);
  assert.equal(del.id, ek.id);
  assert.equal(del.secret, undefined);
  assert.ok(del.expires <= Math.floor(Date.now() / 1000) + 1 && del.expires >= ek.created);
  assertStripeShape(del, 'ephemeral_key');
  const e = await c.customers.retrieve(cus.id).catch((x) => x);
  assert.equal(e.statusCode, 401);
  assert.equal(e.type, 'StripeAuthenticationError');
  assert.ok(!e.message.includes(ek.secret));
  assert.equal(await status(stripe.ephemeralKeys.del('ephkey_nope')), 404);

  // past `expires`
  const ek2 = await newKey();
  const c2 = ekClient(ek2.secret);
  assert.equal((await c2.customers.retrieve(cus.id)).id, cus.id);
  storeSql(env.dataDir, `UPDATE ephemeral_keys SET expires = created - 1 WHERE id = '${ek2.id}'`);
  assert.equal(await status(c2.customers.retrieve(cus.id)), 401);

  // a key whose customer was deleted stops working
  const gone = await stripe.customers.create({});
  const ek3 = await newKey(gone.id);
  const c3 = ekClient(ek3.secret);
  assert.equal((await c3.customers.retrieve(gone.id)).id, gone.id);
  await stripe.customers.del(gone.id);
  assert.equal(await status(c3.customers.retrieve(gone.id)), 401);

  // a forged secret of the right shape, and one naming another merchant
  const forged = `ek_test_${Buffer.from(`${env.merchant.id},${'A'.repeat(32)}`).toString('base64url')}`;
  assert.equal(await status(ekClient(forged).customers.retrieve(cus.id)), 401);
  assert.equal(await status(ekClient('ek_test_garbage').customers.retrieve(cus.id)), 401);
  const unknown = `ek_test_${Buffer.from(`acct_nobody,${'A'.repeat(32)}`).toString('base64url')}`;
  assert.equal(await status(ekClient(unknown).customers.retrieve(cus.id)), 401);
  const odd = `cuss_secret_${Buffer.from(`acct_x'; --,${'A'.repeat(32)}`).toString('base64url')}`;
  assert.equal(await status(ekClient(odd).customers.retrieve(cus.id)), 401);
});

test('ephemeral keys for an Issuing card or an Identity VerificationSession read that object alone; a nonce Tender cannot know', async () => {
  const address = { line1: '1 Main St', city: 'San Francisco', state: 'CA', postal_code: '94111', country: 'US' };
  const holder = await stripe.issuing.cardholders.create({
    name: 'Jenny Rosen', type: 'individual', billing: { address },
    individual: { first_name: 'Jenny', last_name: 'Rosen', dob: { day: 1, month: 2, year: 1990 }, card_issuing: { user_terms_acceptance: { date: Math.floor(Date.now() / 1000), ip: '127.0.0.1' } } },
  });
  const card = await stripe.issuing.cards.create({ cardholder: holder.id, type: 'virtual', currency: 'usd' });
  const card2 = await stripe.issuing.cards.create({ cardholder: holder.id, type: 'virtual', currency: 'usd' });
  const ek = await stripe.ephemeralKeys.create({ issuing_card: card.id }, { apiVersion: API_VERSION });
  assert.deepEqual(ek.associated_objects, [{ id: card.id, type: 'issuing.card' }]);
  assertStripeShape(ek, 'ephemeral_key');
  secrets.push(ek.secret);
  const c = ekClient(ek.secret);
  const got = await c.issuing.cards.retrieve(card.id);
  assert.equal(got.id, card.id);
  assert.equal(got.number, undefined);
  assert.equal(await status(c.issuing.cards.retrieve(card.id, { expand: ['number'] })), 403);
  assert.equal(await status(c.issuing.cards.retrieve(card2.id)), 404);
  assert.equal(await status(c.customers.retrieve(cus.id)), 404);
  assert.equal(await status(c.issuing.cards.update(card.id, { status: 'active' })), 403);
  // a canceled card's key stops working
  await stripe.issuing.cards.update(card.id, { status: 'canceled' });
  assert.equal(await status(c.issuing.cards.retrieve(card.id)), 401);

  const vs = await stripe.identity.verificationSessions.create({ type: 'document' });
  const vk = await stripe.ephemeralKeys.create({ verification_session: vs.id }, { apiVersion: API_VERSION });
  assert.deepEqual(vk.associated_objects, [{ id: vs.id, type: 'identity.verification_session' }]);
  secrets.push(vk.secret);
  const v = ekClient(vk.secret);
  assert.equal((await v.identity.verificationSessions.retrieve(vs.id)).id, vs.id);
  assert.equal(await status(v.identity.verificationSessions.cancel(vs.id)), 403);
  // a customer key reads no card or session
  const ck = await newKey();
  assert.equal(await status(ekClient(ck.secret).identity.verificationSessions.retrieve(vs.id)), 404);

  // refused: none, two objects, an unknown card, a card's id given as a customer, a nonce
  const bad = async (params) => stripe.ephemeralKeys.create(params, { apiVersion: API_VERSION }).then(() => null, (e) => e);
  assert.equal((await bad({})).param, 'customer');
  assert.equal((await bad({ customer: cus.id, issuing_card: card2.id })).statusCode, 400);
  assert.equal((await bad({ issuing_card: 'ic_nope' })).statusCode, 404);
  assert.equal((await bad({ customer: card2.id })).statusCode, 404);
  const n = await bad({ issuing_card: card2.id, nonce: 'ephkeynonce_123' });
  assert.equal(n.statusCode, 400);
  assert.equal(n.code, 'resource_missing');
  assert.equal(n.param, 'nonce');
});

test('customer sessions: 30 minutes, a client_secret that acts for the customer', async () => {
  const cs = await stripe.customerSessions.create({
    customer: cus.id,
    components: { mobile_payment_element: { enabled: true }, customer_sheet: { enabled: true } },
  });
  secrets.push(cs.client_secret);
  assert.equal(cs.object, 'customer_session');
  assert.match(cs.client_secret, /^cuss_secret_[A-Za-z0-9_-]+$/);
  assert.equal(cs.customer, cus.id);
  assert.equal(cs.expires_at - cs.created, 1800);
  assert.equal(cs.livemode, false);
  assert.equal(cs.components.mobile_payment_element.enabled, true);
  assert.equal(cs.components.customer_sheet.enabled, true);
  assert.equal(cs.components.payment_element.enabled, false);
  assert.equal(cs.components.buy_button.enabled, false);
  assert.equal(cs.components.pricing_table.enabled, false);
  assert.deepEqual(Object.keys(cs).sort(), ['client_secret', 'components', 'created', 'customer', 'customer_account', 'expires_at', 'livemode', 'object']);

  const c = ekClient(cs.client_secret);
  assert.equal((await c.customers.retrieve(cus.id)).id, cus.id);
  assert.equal(await status(c.customers.retrieve(other.id)), 404);
  assert.equal(await status(c.charges.list()), 403);
  storeSql(env.dataDir, `UPDATE ephemeral_keys SET expires = created - 1 WHERE customer = '${cus.id}' AND kind = 'customer_session'`);
  assert.equal(await status(c.customers.retrieve(cus.id)), 401);

  const bad = [
    () => stripe.customerSessions.create({ customer: cus.id }),
    () => stripe.customerSessions.create({ customer: cus.id, components: { pricing_table: { enabled: false } } }),
    () => stripe.customerSessions.create({ customer: cus.id, components: { nope: { enabled: true } } }),
  ];
  for (const call of bad) assert.equal(await status(call()), 400);
  assert.equal(await status(stripe.customerSessions.create({ customer: 'cus_nope', components: { customer_sheet: { enabled: true } } })), 404);
});

test('customer sessions: components[…][features] kept and shown as Stripe shows them; Stripe\'s enums checked', async () => {
  const cs = await stripe.customerSessions.create({
    customer: cus.id,
    components: {
      payment_element: {
        enabled: true,
        features: {
          payment_method_allow_redisplay_filters: ['always', 'limited'],
          payment_method_redisplay: 'enabled', payment_method_redisplay_limit: 5, payment_method_remove: 'enabled',
          payment_method_save: 'enabled', payment_method_save_usage: 'off_session',
        },
      },
      customer_sheet: { enabled: true, features: { payment_method_remove: 'enabled' } },
      mobile_payment_element: { enabled: false, features: { payment_method_save_allow_redisplay_override: 'limited', payment_method_allow_redisplay_filters: ['unspecified'] } },
    },
  });
  secrets.push(cs.client_secret);
  assert.deepEqual(cs.components.payment_element, {
    enabled: true,
    features: {
      payment_method_allow_redisplay_filters: ['always', 'limited'], payment_method_redisplay: 'enabled',
      payment_method_redisplay_limit: 5, payment_method_remove: 'enabled', payment_method_save: 'enabled',
      payment_method_save_usage: 'off_session',
    },
  });
  assert.deepEqual(cs.components.customer_sheet, { enabled: true, features: { payment_method_allow_redisplay_filters: null, payment_method_remove: 'enabled' } });
  assert.deepEqual(cs.components.mobile_payment_element, {
    enabled: false,
    features: {
      payment_method_allow_redisplay_filters: ['unspecified'], payment_method_redisplay: null, payment_method_remove: null,
      payment_method_save: null, payment_method_save_allow_redisplay_override: 'limited',
    },
  });
  assert.deepEqual(cs.components.buy_button, { enabled: false });
  // the shapes of stripe-node's CustomerSession.Components (its .d.ts), every feature present
  const dts = fs.readFileSync(require('node:path').join(__dirname, '..', 'node_modules', 'stripe', 'cjs', 'resources', 'CustomerSessions.d.ts'), 'utf8');
  const featureKeys = (ns) => {
    const at = dts.indexOf(`namespace ${ns} {`);
    const body = dts.slice(dts.indexOf('interface Features {', at), dts.indexOf(`namespace Features {`, at));
    return [...body.matchAll(/^\s+(\w+)\??:/gm)].map((m) => m[1]).sort();
  };
  for (const [name, ns] of [['payment_element', 'PaymentElement'], ['customer_sheet', 'CustomerSheet'], ['mobile_payment_element', 'MobilePaymentElement']]) {
    assert.deepEqual(Object.keys(cs.components[name].features).sort(), featureKeys(ns), name);
  }
  // the defaults, without features
  const plain = await stripe.customerSessions.create({ customer: cus.id, components: { payment_element: { enabled: true } } });
  secrets.push(plain.client_secret);
  assert.deepEqual(plain.components.payment_element.features, {
    payment_method_allow_redisplay_filters: ['always'], payment_method_redisplay: 'disabled', payment_method_redisplay_limit: null,
    payment_method_remove: 'disabled', payment_method_save: 'disabled', payment_method_save_usage: null,
  });
  const pe = (features) => ({ customer: cus.id, components: { payment_element: { enabled: true, features } } });
  const bad = [
    [pe({ payment_method_redisplay: 'sometimes' }), 'components[payment_element][features][payment_method_redisplay]'],
    [pe({ payment_method_allow_redisplay_filters: ['always', 'never'] }), 'components[payment_element][features][payment_method_allow_redisplay_filters]'],
    [pe({ payment_method_redisplay_limit: 11 }), 'components[payment_element][features][payment_method_redisplay_limit]'],
    [pe({ payment_method_save_usage: 'always' }), 'components[payment_element][features][payment_method_save_usage]'],
    [pe({ payment_method_save_allow_redisplay_override: 'always' }), 'components[payment_element][features][payment_method_save_allow_redisplay_override]'],
    [{ customer: cus.id, components: { buy_button: { enabled: true, features: { payment_method_remove: 'enabled' } } } }, 'components[buy_button][features]'],
    [{ customer: cus.id, components: { customer_sheet: { enabled: true, features: { payment_method_save: 'enabled' } } } }, 'components[customer_sheet][features][payment_method_save]'],
  ];
  const before = storeSql(env.dataDir, `SELECT count(*) FROM ephemeral_keys WHERE customer = '${cus.id}'`).join('');
  for (const [params, param] of bad) {
    await assert.rejects(stripe.customerSessions.create(params), (e) => {
      assert.equal(e.statusCode, 400, `${JSON.stringify(params)}: ${e.message}`);
      assert.equal(e.param, param, e.message);
      return true;
    });
  }
  assert.equal(storeSql(env.dataDir, `SELECT count(*) FROM ephemeral_keys WHERE customer = '${cus.id}'`).join(''), before);
});

test('no secret in clear in the store or the log', async () => {
  assert.ok(secrets.length >= 5);
  await env.server.stop();
  const stored = readStoreFiles(env.dataDir);
  const files = [...stored.map((x) => x.file), env.server.logPath];
  const hay = [...stored.map((x) => x.data), fs.readFileSync(env.server.logPath)];
  for (const s of secrets) {
    // the random part alone (its base64 tail), as well as the whole secret
    const tail = s.slice(-24);
    for (let i = 0; i < hay.length; i++) {
      assert.ok(!hay[i].includes(s), `a secret found in clear in ${files[i]}`);
      assert.ok(!hay[i].includes(tail), `a secret's tail found in clear in ${files[i]}`);
    }
  }
});
