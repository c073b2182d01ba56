'use strict';
// Entitlements through stripe-node: features (create, retrieve, update, archive, list with
// lookup_key and archived, the lookup_key unique among active features), product features
// (attach, list, retrieve, detach; a feature once per product), and a customer's active
// entitlements, computed from its active or trialing subscriptions: made by a subscription
// (paid or trialing, not incomplete), kept through the trial's end, changed by an item change
// and by attaching or detaching a feature of a subscribed product, removed when the renewal
// fails (past_due) and by cancellation, each change announced once by
// entitlements.active_entitlement_summary.updated (through /v1/events and a webhook endpoint);
// another merchant's objects are 404.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { startTender, stopAll, SHARED } = require('./helpers');

let env;
let stripe;
let other;
const DAY = 86400;
const HOUR = 3600;
const T0 = Date.UTC(2025, 0, 31, 12, 0, 0) / 1000;
const SUMMARY = 'entitlements.active_entitlement_summary.updated';

// The spec in the reference (2023-08-16) predates Entitlements: each object's fields are
// checked against today's fixture of it (every field, no other).
const FIXTURES = JSON.parse(fs.readFileSync(
  path.join(SHARED, 'reference/stripe-openapi/fixtures3.head-2026-08-21.json'), 'utf8'));
function assertShape(obj, name) {
  const want = (FIXTURES.resources || FIXTURES)[name];
  assert.ok(want, `no fixture ${name}`);
  assert.deepEqual(Object.keys(obj).sort(), Object.keys(want).sort(), `${name} fields`);
  for (const k of Object.keys(want)) {
    if (want[k] === null || obj[k] === null) continue;
    // a fixture's expanded object (a summary's entitlements' feature) may be an id
    if (typeof want[k] === 'object' && typeof obj[k] === 'string') continue;
    assert.equal(typeof obj[k], typeof want[k], `${name}.${k}`);
  }
}

let hook; // a webhook endpoint's receiver: the summary events it was sent
const received = [];

before(async () => {
  env = await startTender({ merchants: 2, args: ['--rate-limit', '0'] });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
  hook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      try { received.push(JSON.parse(body)); } catch { /* not ours */ }
      res.writeHead(200);
      res.end('{}');
    });
  });
  await new Promise((r) => hook.listen(0, '127.0.0.1', r));
  await stripe.webhookEndpoints.create({
    url: `http://127.0.0.1:${hook.address().port}/hook`, enabled_events: [SUMMARY],
  });
});
after(async () => {
  await stopAll();
  await new Promise((r) => hook.close(r));
});

async function ready(clock) {
  for (let i = 0; i < 300; i++) {
    const c = await stripe.testHelpers.testClocks.retrieve(clock.id);
    if (c.status === 'ready') return c;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the clock did not finish advancing');
}
async function advance(clock, to) {
  await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: to });
  return ready(clock);
}

async function customerWithClock(pm = 'pm_card_visa') {
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
  const customer = await stripe.customers.create({
    test_clock: clock.id, payment_method: pm, invoice_settings: { default_payment_method: pm },
  });
  return { clock, customer };
}

// the summary events of a customer, oldest first
async function summaries(customer) {
  const all = await stripe.events.list({ type: SUMMARY, limit: 100 }).autoPagingToArray({ limit: 1000 });
  return all.filter((e) => e.data.object.customer === customer).reverse();
}
const keysOf = (summary) => summary.entitlements.data.map((e) => e.lookup_key).sort();
async function activeKeys(customer) {
  const l = await stripe.entitlements.activeEntitlements.list({ customer, limit: 100 });
  return l.data.map((e) => e.lookup_key).sort();
}

let n = 0;
const uniq = (s) => `${s}_${process.pid}_${++n}`;

async function feature(key) {
  return stripe.entitlements.features.create({ name: `Feature ${key}`, lookup_key: key });
}
async function monthly(name, amount = 1000) {
  const product = await stripe.products.create({ name });
  const price = await stripe.prices.create({
    currency: 'usd', unit_amount: amount, recurring: { interval: 'month' }, product: product.id,
  });
  return { product, price };
}

test('features: create, retrieve, update, archive, list; lookup_key unique among active ones', async () => {
  const key = uniq('api_access');
  const f = await stripe.entitlements.features.create({
    name: 'API access', lookup_key: key, metadata: { tier: 'pro' },
  });
  assert.match(f.id, /^feat_/);
  assert.equal(f.object, 'entitlements.feature');
  assert.equal(f.active, true);
  assert.equal(f.livemode, false);
  assert.equal(f.lookup_key, key);
  assert.equal(f.name, 'API access');
  assert.deepEqual(f.metadata, { tier: 'pro' });
  assertShape(f, 'entitlements.feature');
  assert.deepEqual(await stripe.entitlements.features.retrieve(f.id), f);

  // the same lookup_key again: refused while the first is active
  await assert.rejects(stripe.entitlements.features.create({ name: 'Again', lookup_key: key }),
    (e) => e.statusCode === 400 && e.param === 'lookup_key');
  await assert.rejects(stripe.entitlements.features.create({ lookup_key: uniq('x') }),
    (e) => e.statusCode === 400 && e.param === 'name');
  await assert.rejects(stripe.entitlements.features.create({ name: 'No key' }),
    (e) => e.statusCode === 400 && e.param === 'lookup_key');
  await assert.rejects(stripe.entitlements.features.create({ name: 'x'.repeat(81), lookup_key: uniq('k') }),
    (e) => e.statusCode === 400);
  await assert.rejects(stripe.entitlements.features.create({ name: 'x', lookup_key: uniq('k'), color: 'red' }),
    (e) => e.statusCode === 400 && e.code === 'parameter_unknown');

  const u = await stripe.entitlements.features.update(f.id, { name: 'API', metadata: { tier: null, x: '1' } });
  assert.equal(u.name, 'API');
  assert.deepEqual(u.metadata, { x: '1' });
  await assert.rejects(stripe.entitlements.features.update(f.id, { name: '' }),
    (e) => e.statusCode === 400 && e.param === 'name');

  // listed by lookup_key; archived ones only with archived=true
  let l = await stripe.entitlements.features.list({ lookup_key: key });
  assert.deepEqual(l.data.map((x) => x.id), [f.id]);
  assert.equal(l.url, '/v1/entitlements/features');
  const archived = await stripe.entitlements.features.update(f.id, { active: false });
  assert.equal(archived.active, false);
  l = await stripe.entitlements.features.list({ lookup_key: key });
  assert.deepEqual(l.data, []);
  l = await stripe.entitlements.features.list({ lookup_key: key, archived: true });
  assert.deepEqual(l.data.map((x) => x.id), [f.id]);
  // its key is free again; the archived one cannot be made active while another has it
  const f2 = await feature(key);
  await assert.rejects(stripe.entitlements.features.update(f.id, { active: true }),
    (e) => e.statusCode === 400 && e.param === 'lookup_key');
  // cursors page newest first
  const a = await feature(uniq('page'));
  const b = await feature(uniq('page'));
  const p1 = await stripe.entitlements.features.list({ limit: 2 });
  assert.deepEqual(p1.data.map((x) => x.id), [b.id, a.id]);
  assert.equal(p1.has_more, true);
  const p2 = await stripe.entitlements.features.list({ limit: 1, starting_after: a.id });
  assert.deepEqual(p2.data.map((x) => x.id), [f2.id]);

  // another merchant's: 404
  await assert.rejects(other.entitlements.features.retrieve(f2.id), (e) => e.statusCode === 404);
  await assert.rejects(other.entitlements.features.update(f2.id, { name: 'mine' }), (e) => e.statusCode === 404);
  assert.ok(!(await other.entitlements.features.list({ limit: 100 })).data.some((x) => x.id === f2.id));
  await assert.rejects(stripe.entitlements.features.retrieve('feat_nope'),
    (e) => e.statusCode === 404 && e.code === 'resource_missing');
});

test('product features: attach, list, retrieve, detach; once per product; 404s', async () => {
  const product = await stripe.products.create({ name: 'Gold' });
  const f = await feature(uniq('sso'));
  const g = await feature(uniq('audit'));
  const pf = await stripe.products.createFeature(product.id, { entitlement_feature: f.id });
  assert.match(pf.id, /^prodft_/);
  assert.equal(pf.object, 'product_feature');
  assert.equal(pf.livemode, false);
  assert.deepEqual(pf.entitlement_feature, f);
  assertShape(pf, 'product_feature');
  assertShape(pf.entitlement_feature, 'entitlements.feature');
  const pg = await stripe.products.createFeature(product.id, { entitlement_feature: g.id });
  assert.deepEqual(await stripe.products.retrieveFeature(product.id, pf.id), pf);

  await assert.rejects(stripe.products.createFeature(product.id, { entitlement_feature: f.id }),
    (e) => e.statusCode === 400 && e.param === 'entitlement_feature');
  await assert.rejects(stripe.products.createFeature(product.id, {}),
    (e) => e.statusCode === 400 && e.param === 'entitlement_feature');
  await assert.rejects(stripe.products.createFeature(product.id, { entitlement_feature: 'feat_nope' }),
    (e) => e.statusCode === 404 && e.param === 'entitlement_feature');
  await assert.rejects(stripe.products.createFeature('prod_nope', { entitlement_feature: f.id }),
    (e) => e.statusCode === 404);
  const gone = await feature(uniq('gone'));
  await stripe.entitlements.features.update(gone.id, { active: false });
  await assert.rejects(stripe.products.createFeature(product.id, { entitlement_feature: gone.id }),
    (e) => e.statusCode === 400 && e.param === 'entitlement_feature');

  const l = await stripe.products.listFeatures(product.id);
  assert.deepEqual(l.data.map((x) => x.id), [pg.id, pf.id]);
  assert.equal(l.url, `/v1/products/${product.id}/features`);
  const one = await stripe.products.listFeatures(product.id, { limit: 1 });
  assert.equal(one.has_more, true);

  // another merchant: neither the product nor its features, nor its own product with ours
  await assert.rejects(other.products.listFeatures(product.id), (e) => e.statusCode === 404);
  await assert.rejects(other.products.retrieveFeature(product.id, pf.id), (e) => e.statusCode === 404);
  await assert.rejects(other.products.deleteFeature(product.id, pf.id), (e) => e.statusCode === 404);
  const theirs = await other.products.create({ name: 'Theirs' });
  await assert.rejects(other.products.createFeature(theirs.id, { entitlement_feature: f.id }),
    (e) => e.statusCode === 404 && e.param === 'entitlement_feature');
  await assert.rejects(other.products.retrieveFeature(theirs.id, pf.id), (e) => e.statusCode === 404);

  const del = await stripe.products.deleteFeature(product.id, pf.id);
  assert.deepEqual(del, { id: pf.id, object: 'product_feature', deleted: true });
  assertShape(del, 'deleted_product_feature');
  await assert.rejects(stripe.products.retrieveFeature(product.id, pf.id), (e) => e.statusCode === 404);
  await assert.rejects(stripe.products.deleteFeature(product.id, pf.id), (e) => e.statusCode === 404);
  assert.deepEqual((await stripe.products.listFeatures(product.id)).data.map((x) => x.id), [pg.id]);
  // detached, it may be attached again
  await stripe.products.createFeature(product.id, { entitlement_feature: f.id });
});

test('a subscription grants its products\' features; item changes, attach and detach change them; cancel ends them', async () => {
  const fa = await feature(uniq('reports'));
  const fb = await feature(uniq('export'));
  const fc = await feature(uniq('support'));
  const basic = await monthly('Basic');
  const pro = await monthly('Pro', 3000);
  await stripe.products.createFeature(basic.product.id, { entitlement_feature: fa.id });
  await stripe.products.createFeature(pro.product.id, { entitlement_feature: fa.id });
  await stripe.products.createFeature(pro.product.id, { entitlement_feature: fb.id });
  const { customer } = await customerWithClock();
  assert.deepEqual(await activeKeys(customer.id), []);

  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: basic.price.id }] });
  assert.equal(sub.status, 'active');
  let l = await stripe.entitlements.activeEntitlements.list({ customer: customer.id });
  assert.equal(l.data.length, 1);
  const ent = l.data[0];
  assert.match(ent.id, /^ent_/);
  assert.equal(ent.object, 'entitlements.active_entitlement');
  assert.equal(ent.feature, fa.id);
  assert.equal(ent.lookup_key, fa.lookup_key);
  assert.equal(ent.livemode, false);
  assertShape(ent, 'entitlements.active_entitlement');
  assert.deepEqual(await stripe.entitlements.activeEntitlements.retrieve(ent.id), ent);
  const fa2 = await stripe.entitlements.features.retrieve(fa.id);
  assert.deepEqual(await stripe.entitlements.activeEntitlements.retrieve(ent.id, { expand: ['feature'] }),
    { ...ent, feature: fa2 });
  const expanded = await stripe.entitlements.activeEntitlements.list({ customer: customer.id, expand: ['data.feature'] });
  assert.deepEqual(expanded.data, [{ ...ent, feature: fa2 }]);
  let ev = await summaries(customer.id);
  assert.equal(ev.length, 1);
  assertShape(ev[0].data.object, 'entitlements.active_entitlement_summary');
  assert.equal(ev[0].data.object.object, 'entitlements.active_entitlement_summary');
  assert.deepEqual(ev[0].data.object.entitlements.data, [ent]);
  assert.deepEqual(ev[0].data.previous_attributes.entitlements.data, []);

  // upgrade to Pro: fa stays (the same entitlement), fb is added
  await stripe.subscriptions.update(sub.id, {
    items: [{ id: sub.items.data[0].id, price: pro.price.id }], proration_behavior: 'none',
  });
  assert.deepEqual(await activeKeys(customer.id), [fa.lookup_key, fb.lookup_key].sort());
  l = await stripe.entitlements.activeEntitlements.list({ customer: customer.id });
  assert.ok(l.data.some((e) => e.id === ent.id), 'an unchanged entitlement keeps its id');
  ev = await summaries(customer.id);
  assert.equal(ev.length, 2);
  assert.deepEqual(keysOf(ev[1].data.object), [fa.lookup_key, fb.lookup_key].sort());
  assert.deepEqual(keysOf(ev[1].data.previous_attributes), [fa.lookup_key]);

  // a change that changes no feature sends no summary
  await stripe.subscriptions.update(sub.id, { metadata: { note: 'x' } });
  assert.equal((await summaries(customer.id)).length, 2);

  // attaching a feature to a subscribed product grants it at once; detaching removes it
  const pfc = await stripe.products.createFeature(pro.product.id, { entitlement_feature: fc.id });
  assert.deepEqual(await activeKeys(customer.id), [fa.lookup_key, fb.lookup_key, fc.lookup_key].sort());
  await stripe.products.deleteFeature(pro.product.id, pfc.id);
  assert.deepEqual(await activeKeys(customer.id), [fa.lookup_key, fb.lookup_key].sort());
  ev = await summaries(customer.id);
  assert.equal(ev.length, 4);
  assert.deepEqual(keysOf(ev[3].data.object), [fa.lookup_key, fb.lookup_key].sort());

  // the entitlements of another customer are their own; another merchant sees none of them
  await assert.rejects(other.entitlements.activeEntitlements.retrieve(ent.id), (e) => e.statusCode === 404);
  await assert.rejects(other.entitlements.activeEntitlements.list({ customer: customer.id }),
    (e) => e.statusCode === 404);
  await assert.rejects(stripe.entitlements.activeEntitlements.list({}),
    (e) => e.statusCode === 400 && e.param === 'customer');
  await assert.rejects(stripe.entitlements.activeEntitlements.list({ customer: 'cus_nope' }),
    (e) => e.statusCode === 404);

  // canceled: none left
  await stripe.subscriptions.cancel(sub.id);
  assert.deepEqual(await activeKeys(customer.id), []);
  await assert.rejects(stripe.entitlements.activeEntitlements.retrieve(ent.id), (e) => e.statusCode === 404);
  ev = await summaries(customer.id);
  assert.equal(ev.length, 5);
  assert.deepEqual(ev[4].data.object.entitlements.data, []);
  assert.deepEqual(keysOf(ev[4].data.previous_attributes), [fa.lookup_key, fb.lookup_key].sort());

  // the webhook endpoint was sent the same events
  await new Promise((resolve, reject) => {
    const end = Date.now() + 20000;
    const poll = () => {
      const got = received.filter((e) => e.type === SUMMARY && e.data.object.customer === customer.id);
      if (got.length === 5) return resolve();
      if (Date.now() > end) return reject(new Error(`webhooks: ${got.length} of 5`));
      setTimeout(poll, 100);
    };
    poll();
  });
});

test('trials grant entitlements; a failed renewal (past_due) keeps them; the cancellation after the last retry removes them', async () => {
  const f = await feature(uniq('trial_feature'));
  const plan = await monthly('Trialed', 2000);
  await stripe.products.createFeature(plan.product.id, { entitlement_feature: f.id });
  const { clock, customer } = await customerWithClock();
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: plan.price.id }], trial_period_days: 7,
  });
  assert.equal(sub.status, 'trialing');
  assert.deepEqual(await activeKeys(customer.id), [f.lookup_key]);
  let ev = await summaries(customer.id);
  assert.equal(ev.length, 1);
  assert.equal(ev[0].created, T0, 'a test clock\'s customer: at the clock\'s time');

  // the trial ends and the first payment succeeds: active, the same entitlements, no summary
  await advance(clock, T0 + 7 * DAY + HOUR + 60);
  let s = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(s.status, 'active');
  assert.deepEqual(await activeKeys(customer.id), [f.lookup_key]);
  assert.equal((await summaries(customer.id)).length, 1);

  // the next renewal declines: past_due, still entitled while the payment is retried (Stripe
  // keeps a customer's entitlements while its subscription lasts)
  const bad = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
  await stripe.subscriptions.update(sub.id, { default_payment_method: bad.id });
  const renewal = s.items.data[0].current_period_end;
  await advance(clock, renewal + HOUR + 60);
  s = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(s.status, 'past_due');
  assert.deepEqual(await activeKeys(customer.id), [f.lookup_key]);
  assert.equal((await summaries(customer.id)).length, 1);

  // the retries (3 and 7 days after the first attempt) fail too: canceled, nothing left
  await advance(clock, renewal + HOUR + 7 * DAY + 2 * HOUR);
  s = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(s.status, 'canceled');
  assert.deepEqual(await activeKeys(customer.id), []);
  ev = await summaries(customer.id);
  assert.equal(ev.length, 2);
  assert.deepEqual(ev[1].data.object.entitlements.data, []);
});

test('an incomplete subscription grants nothing; a payment without a subscription sends no summary', async () => {
  const f = await feature(uniq('never'));
  const plan = await monthly('Declined');
  await stripe.products.createFeature(plan.product.id, { entitlement_feature: f.id });
  const { customer } = await customerWithClock('pm_card_chargeCustomerFail');
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: plan.price.id }] });
  assert.equal(sub.status, 'incomplete');
  assert.deepEqual(await activeKeys(customer.id), []);
  assert.equal((await summaries(customer.id)).length, 0);

  const c2 = await stripe.customers.create({});
  await stripe.paymentIntents.create({
    amount: 500, currency: 'usd', customer: c2.id, payment_method: 'pm_card_visa', confirm: true,
    automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
  });
  assert.equal((await summaries(c2.id)).length, 0);
  assert.deepEqual(await activeKeys(c2.id), []);
});
