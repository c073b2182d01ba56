'use strict';
// Customers, lists, and the wire protocol, driven through the official stripe-node SDK and raw HTTP.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, assertStripeShape, stopAll, tender, storeSql } = require('./helpers');

let env;
let stripe;

before(async () => {
  env = await startTender({ merchants: 3 });
  stripe = env.stripe();
});
after(stopAll);

async function stillServes() {
  const r = await env.request({ path: '/v1/balance', key: env.merchant.secret_key });
  assert.equal(r.status, 200, 'server must keep serving after bad input');
}

test('create, retrieve, update, delete a customer', async () => {
  const c = await stripe.customers.create({
    email: 'ada@example.com',
    name: 'Ada Lovelace',
    description: 'first customer',
    metadata: { order: '7', tier: 'gold' },
    address: { city: 'London', country: 'GB', line1: '12 St James Sq' },
    shipping: { name: 'Ada', address: { city: 'London' } },
    preferred_locales: ['en', 'fr'],
  });
  assert.match(c.id, /^cus_[0-9A-Za-z]{24}$/);
  assert.equal(c.object, 'customer');
  assert.equal(c.email, 'ada@example.com');
  assert.deepEqual(c.metadata, { order: '7', tier: 'gold' });
  assert.equal(c.address.city, 'London');
  assert.equal(c.address.line2, null);
  assert.deepEqual(c.preferred_locales, ['en', 'fr']);
  assert.equal(c.livemode, false);
  assertStripeShape(c, 'customer');

  const got = await stripe.customers.retrieve(c.id);
  assert.deepEqual(got, c);

  const up = await stripe.customers.update(c.id, {
    description: '',
    metadata: { tier: '', note: 'vip' },
    name: 'Ada King',
  });
  assert.equal(up.description, null);
  assert.equal(up.name, 'Ada King');
  assert.deepEqual(up.metadata, { order: '7', note: 'vip' });
  assertStripeShape(up, 'customer');

  const del = await stripe.customers.del(c.id);
  assert.deepEqual(del, { id: c.id, object: 'customer', deleted: true });
  assertStripeShape(del, 'deleted_customer');
  const after = await stripe.customers.retrieve(c.id);
  assert.equal(after.deleted, true);
  await assert.rejects(stripe.customers.update(c.id, { name: 'x' }), (e) => e.statusCode === 404 && e.code === 'resource_missing');

  const events = await stripe.events.list({ limit: 100 });
  const types = events.data.filter((e) => e.data.object.id === c.id).map((e) => e.type);
  assert.deepEqual(types, ['customer.deleted', 'customer.updated', 'customer.created']);
  const updated = events.data.find((e) => e.type === 'customer.updated' && e.data.object.id === c.id);
  assert.equal(updated.data.previous_attributes.name, 'Ada Lovelace');
  assertStripeShape(updated, 'event');
});

test('payment_method on create attaches it; the default payment method must be the customer\'s', async () => {
  const pm = await stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_visa' } });
  const c = await stripe.customers.create({
    email: 'payer@example.com', payment_method: pm.id, invoice_settings: { default_payment_method: pm.id },
  });
  assertStripeShape(c, 'customer');
  assert.equal(c.invoice_settings.default_payment_method, pm.id);
  assert.equal((await stripe.paymentMethods.retrieve(pm.id)).customer, c.id);
  const listed = await stripe.paymentMethods.list({ customer: c.id, type: 'card' });
  assert.deepEqual(listed.data.map((x) => x.id), [pm.id]);
  // the customer's own routes: its PaymentMethods, and one of them
  const own = await stripe.customers.listPaymentMethods(c.id, { type: 'card', limit: 5 });
  assert.equal(own.url, `/v1/customers/${c.id}/payment_methods`);
  assert.deepEqual(own.data.map((x) => x.id), [pm.id]);
  assert.equal(own.has_more, false);
  assertStripeShape(own.data[0], 'payment_method');
  assert.equal((await stripe.customers.retrievePaymentMethod(c.id, pm.id)).id, pm.id);
  // customer.created, then payment_method.attached, both from this request
  const evs = (await stripe.events.list({ limit: 2 })).data.reverse();
  assert.deepEqual(evs.map((e) => e.type), ['customer.created', 'payment_method.attached']);
  assert.equal(evs[1].data.object.customer, c.id);
  // a test alias is stored as a new PaymentMethod, which the default then names
  const a = await stripe.customers.create({ payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
  assert.match(a.invoice_settings.default_payment_method, /^pm_/);
  assert.notEqual(a.invoice_settings.default_payment_method, 'pm_card_visa');
  assert.equal((await stripe.paymentMethods.retrieve(a.invoice_settings.default_payment_method)).customer, a.id);
  // the customer can pay with it
  const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', customer: c.id, payment_method: pm.id, confirm: true });
  assert.equal(pi.status, 'succeeded');
  // refused, and nothing made: a PaymentMethod attached elsewhere, one that does not exist, a
  // default that is not attached to the customer
  const count = async () => storeSql(env.dataDir, 'SELECT count(*) FROM customers')
    .reduce((n, out) => n + Number(out.trim()), 0);
  const n0 = await count();
  const other = await stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_mastercard' } });
  const fails = [
    [{ payment_method: pm.id }, 'payment_method_unexpected_state', undefined],
    [{ payment_method: 'pm_nope' }, 'resource_missing', 'payment_method'],
    [{ invoice_settings: { default_payment_method: other.id } }, undefined, 'invoice_settings[default_payment_method]'],
    [{ payment_method: other.id, invoice_settings: { default_payment_method: pm.id } }, undefined, 'invoice_settings[default_payment_method]'],
  ];
  for (const [params, code, param] of fails) {
    const err = await stripe.customers.create(params).then(() => null, (e) => e);
    assert.ok(err, JSON.stringify(params));
    assert.equal(err.type, 'StripeInvalidRequestError');
    assert.equal(err.code, code);
    assert.equal(err.param, param);
  }
  assert.equal(await count(), n0);
  assert.equal((await stripe.paymentMethods.retrieve(other.id)).customer, null);
  // a PaymentMethod that is not the customer's is missing under it; so is an unknown customer
  await assert.rejects(stripe.customers.retrievePaymentMethod(c.id, other.id),
    (e) => e.statusCode === 404 && e.code === 'resource_missing');
  await assert.rejects(stripe.customers.listPaymentMethods('cus_nope'),
    (e) => e.statusCode === 404 && e.param === 'customer');
  const s2 = env.stripe(env.merchants[1].secret_key);
  await assert.rejects(s2.customers.listPaymentMethods(c.id), (e) => e.statusCode === 404);
  await assert.rejects(s2.customers.retrievePaymentMethod(c.id, pm.id), (e) => e.statusCode === 404);
  // update: only an attached PaymentMethod can become the default
  const u = await stripe.customers.create({ name: 'later' });
  await assert.rejects(stripe.customers.update(u.id, { invoice_settings: { default_payment_method: other.id } }),
    (e) => e.param === 'invoice_settings[default_payment_method]');
  await stripe.paymentMethods.attach(other.id, { customer: u.id });
  const u2 = await stripe.customers.update(u.id, { invoice_settings: { default_payment_method: other.id } });
  assert.equal(u2.invoice_settings.default_payment_method, other.id);
  const setEv = (await stripe.events.list({ limit: 1, type: 'customer.updated' })).data[0];
  assert.equal(setEv.data.object.id, u.id);
  assert.deepEqual(setEv.data.previous_attributes, { invoice_settings: { default_payment_method: null } });
  // detaching the default unsets it, with customer.updated
  await stripe.paymentMethods.detach(other.id);
  assert.equal((await stripe.customers.retrieve(u.id)).invoice_settings.default_payment_method, null);
  const evs2 = (await stripe.events.list({ limit: 2 })).data.reverse();
  assert.deepEqual(evs2.map((e) => e.type), ['payment_method.detached', 'customer.updated']);
  assert.deepEqual(evs2[1].data.previous_attributes, { invoice_settings: { default_payment_method: other.id } });
  assertStripeShape(evs2[1].data.object, 'customer');
  // detaching one that is not the default leaves the default alone
  const keep = await stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_visa' } });
  const extra = await stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_visa' } });
  await stripe.paymentMethods.attach(keep.id, { customer: u.id });
  await stripe.paymentMethods.attach(extra.id, { customer: u.id });
  await stripe.customers.update(u.id, { invoice_settings: { default_payment_method: keep.id } });
  await stripe.paymentMethods.detach(extra.id);
  assert.equal((await stripe.customers.retrieve(u.id)).invoice_settings.default_payment_method, keep.id);
  await stillServes();
});

test('unknown customer is 404 resource_missing', async () => {
  await assert.rejects(stripe.customers.retrieve('cus_doesnotexist'), (e) => {
    assert.equal(e.type, 'StripeInvalidRequestError');
    assert.equal(e.statusCode, 404);
    assert.equal(e.code, 'resource_missing');
    assert.equal(e.message, "No such customer: 'cus_doesnotexist'");
    return true;
  });
});

test('a merchant never sees another merchant\'s customer', async () => {
  const c = await stripe.customers.create({ email: 'mine@example.com' });
  const other = env.stripe(env.merchants[1].secret_key);
  await assert.rejects(other.customers.retrieve(c.id), (e) => e.statusCode === 404);
  await assert.rejects(other.customers.update(c.id, { name: 'x' }), (e) => e.statusCode === 404);
  await assert.rejects(other.customers.del(c.id), (e) => e.statusCode === 404);
  const list = await other.customers.list({ limit: 100 });
  assert.ok(!list.data.some((x) => x.id === c.id));
});

test('lists: auto-pagination returns every object exactly once, newest first', async () => {
  const s = env.stripe(env.merchants[1].secret_key);
  const ids = [];
  for (let i = 0; i < 23; i++) ids.push((await s.customers.create({ email: `p${i}@example.com` })).id);
  const seen = [];
  for await (const c of s.customers.list({ limit: 4 })) seen.push(c.id);
  assert.equal(seen.length, new Set(seen).size, 'no duplicates');
  for (const id of ids) assert.ok(seen.includes(id), `missing ${id}`);
  assert.deepEqual(seen.slice(0, 23), [...ids].reverse(), 'newest first');

  const page1 = await s.customers.list({ limit: 5 });
  assert.equal(page1.object, 'list');
  assert.equal(page1.url, '/v1/customers');
  assert.equal(page1.has_more, true);
  assert.equal(page1.data.length, 5);
  const page2 = await s.customers.list({ limit: 5, starting_after: page1.data[4].id });
  assert.equal(page2.data[0].id, ids[ids.length - 6]);
  const back = await s.customers.list({ limit: 5, ending_before: page2.data[0].id });
  assert.deepEqual(back.data.map((c) => c.id), page1.data.map((c) => c.id));

  const byEmail = await s.customers.list({ email: 'p3@example.com' });
  assert.deepEqual(byEmail.data.map((c) => c.id), [ids[3]]);

  const now = Math.floor(Date.now() / 1000);
  const future = await s.customers.list({ created: { gt: now + 1000 } });
  assert.equal(future.data.length, 0);
  const past = await s.customers.list({ created: { lte: now + 1000 }, limit: 100 });
  assert.ok(past.data.length >= 23);
});

// Lists page by id (ids are made for their created second): whatever a list holds, it is newest
// first, and created / created[gt|gte|lt|lte] cut it at exact seconds, on pages of any size.
test('lists are newest first and created filters cut them at exact seconds', async () => {
  const s = env.stripe(env.merchants[2].secret_key);
  const until = Date.now() + 2200; // payments across at least two second boundaries
  while (Date.now() < until) {
    await s.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
  }
  const collect = async (res, params) => {
    const out = [];
    for await (const x of res.list({ limit: 100, ...params })) out.push(x);
    return out;
  };
  for (const res of [s.events, s.charges, s.paymentIntents, s.balanceTransactions, s.paymentMethods]) {
    const all = await collect(res, {});
    assert.ok(all.length >= 10, `${all.length} objects`);
    assert.equal(new Set(all.map((x) => x.id)).size, all.length, 'no duplicates');
    for (let i = 1; i < all.length; i++) assert.ok(all[i - 1].created >= all[i].created, 'newest first');
    const seconds = [...new Set(all.map((x) => x.created))];
    assert.ok(seconds.length >= 3, `${seconds.length} seconds`);
    const ids = (xs) => xs.map((x) => x.id);
    for (const c of seconds) {
      const exact = ids(all.filter((x) => x.created === c));
      assert.deepEqual(ids(await collect(res, { created: c })), exact, `created=${c}`);
      assert.deepEqual(ids(await collect(res, { created: { gt: c - 1, lt: c + 1 } })), exact);
      assert.deepEqual(ids(await collect(res, { created: { gte: c } })), ids(all.filter((x) => x.created >= c)));
      assert.deepEqual(ids(await collect(res, { created: { lte: c } })), ids(all.filter((x) => x.created <= c)));
    }
    // a page back from the middle of a second is the page before it
    const mid = Math.floor(all.length / 2);
    const back = await res.list({ limit: 7, ending_before: all[mid].id });
    assert.deepEqual(ids(back.data), ids(all.slice(Math.max(0, mid - 7), mid)));
    const within = await res.list({ limit: 3, starting_after: all[mid].id, created: { gte: all[mid + 1].created } });
    assert.deepEqual(ids(within.data), ids(all.slice(mid + 1, mid + 4).filter((x) => x.created >= all[mid + 1].created)));
  }
});

test('list limit bounds and bad cursors', async () => {
  for (const limit of [0, 101, -1]) {
    await assert.rejects(stripe.customers.list({ limit }), (e) => e.statusCode === 400 && e.param === 'limit');
  }
  await assert.rejects(stripe.customers.list({ starting_after: 'cus_nope' }), (e) => e.statusCode === 404);
  await stillServes();
});

test('parameter validation: unknown, wrong type, metadata limits, read-only', async () => {
  await assert.rejects(stripe.customers.create({ emial: 'x' }), (e) => {
    assert.equal(e.statusCode, 400);
    assert.equal(e.code, 'parameter_unknown');
    assert.equal(e.param, 'emial');
    assert.equal(e.message, 'Received unknown parameter: emial');
    return true;
  });
  await assert.rejects(stripe.customers.create({ balance: 'lots' }), (e) => e.code === 'parameter_invalid_integer' && e.param === 'balance');
  await assert.rejects(stripe.customers.create({ tax_exempt: 'maybe' }), (e) => e.statusCode === 400 && e.param === 'tax_exempt');
  await assert.rejects(stripe.customers.create({ address: { planet: 'Mars' } }), (e) => e.code === 'parameter_unknown' && e.param === 'address[planet]');
  const many = {};
  for (let i = 0; i < 51; i++) many[`k${i}`] = 'v';
  await assert.rejects(stripe.customers.create({ metadata: many }), (e) => e.statusCode === 400 && e.param === 'metadata');
  await assert.rejects(stripe.customers.create({ metadata: { ['k'.repeat(41)]: 'v' } }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.customers.create({ metadata: { k: 'v'.repeat(501) } }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.customers.create({ created: 5 }), (e) => e.code === 'parameter_unknown');
  await assert.rejects(stripe.customers.create({ livemode: true }), (e) => e.code === 'parameter_unknown');
  await stillServes();
});

test('idempotency: replays byte for byte, refuses other parameters', async () => {
  const key = `idem-${Date.now()}`;
  const body = 'email=idem%40example.com&metadata[a]=1';
  const r1 = await env.request({ method: 'POST', path: '/v1/customers', key: env.merchant.secret_key, body, headers: { 'Idempotency-Key': key } });
  assert.equal(r1.status, 200);
  const r2 = await env.request({ method: 'POST', path: '/v1/customers', key: env.merchant.secret_key, body, headers: { 'Idempotency-Key': key } });
  assert.equal(r2.status, 200);
  assert.equal(r2.body, r1.body);
  assert.equal(r2.headers['idempotent-replayed'], 'true');
  assert.equal(r2.headers['original-request'], r1.headers['request-id']);
  assert.notEqual(r2.headers['request-id'], r1.headers['request-id']);
  const r3 = await env.request({ method: 'POST', path: '/v1/customers', key: env.merchant.secret_key, body: 'email=other%40example.com', headers: { 'Idempotency-Key': key } });
  assert.equal(r3.status, 400);
  assert.equal(r3.json.error.type, 'idempotency_error');
  const r4 = await env.request({ method: 'POST', path: '/v1/customers', key: env.merchant.secret_key, body, headers: { 'Idempotency-Key': 'k'.repeat(256) } });
  assert.equal(r4.status, 400);
  // other merchants may use the same key for their own request
  const r5 = await env.request({ method: 'POST', path: '/v1/customers', key: env.merchants[1].secret_key, body, headers: { 'Idempotency-Key': key } });
  assert.equal(r5.status, 200);
  assert.notEqual(r5.json.id, r1.json.id);
  // the SDK path: the same idempotencyKey gives the same customer
  const a = await stripe.customers.create({ email: 'sdk@example.com' }, { idempotencyKey: `sdk-${key}` });
  const b = await stripe.customers.create({ email: 'sdk@example.com' }, { idempotencyKey: `sdk-${key}` });
  assert.equal(a.id, b.id);
  // a validation failure is not saved: the same key can then succeed
  const bad = await env.request({ method: 'POST', path: '/v1/customers', key: env.merchant.secret_key, body: 'bogus=1', headers: { 'Idempotency-Key': `v-${key}` } });
  assert.equal(bad.status, 400);
  const good = await env.request({ method: 'POST', path: '/v1/customers', key: env.merchant.secret_key, body: 'email=v%40example.com', headers: { 'Idempotency-Key': `v-${key}` } });
  assert.equal(good.status, 200);
});

test('concurrent requests with one idempotency key create exactly one customer', async () => {
  const key = `race-${Date.now()}`;
  const s = env.stripe(env.merchant.secret_key, { maxNetworkRetries: 10 });
  const results = await Promise.all(
    Array.from({ length: 40 }, () => s.customers.create({ email: 'race@example.com' }, { idempotencyKey: key })),
  );
  assert.equal(new Set(results.map((c) => c.id)).size, 1);
  const list = await stripe.customers.list({ email: 'race@example.com', limit: 100 });
  assert.equal(list.data.length, 1);
});

test('auth: missing, wrong, query-string and publishable keys', async () => {
  const none = await env.request({ path: '/v1/customers' });
  assert.equal(none.status, 401);
  assert.equal(none.json.error.type, 'invalid_request_error');
  const wrong = await env.request({ path: '/v1/customers', key: 'sk_test_wrongwrongwrongwrongwrong1234' });
  assert.equal(wrong.status, 401);
  assert.match(wrong.json.error.message, /sk_test_\*+1234/);
  assert.ok(!wrong.body.includes('wrongwrong'));
  await assert.rejects(env.stripe('sk_test_nottherightkeyatall00000000').customers.list(), (e) => e.type === 'StripeAuthenticationError');
  const q = await env.request({ path: `/v1/customers?key=${env.merchant.secret_key}` });
  assert.equal(q.status, 401);
  const basic = await env.request({ path: '/v1/customers', headers: { Authorization: `Basic ${Buffer.from(`${env.merchant.secret_key}:`).toString('base64')}` } });
  assert.equal(basic.status, 200);
  const pk = await env.request({ path: '/v1/customers', key: env.merchant.publishable_key });
  assert.equal(pk.status, 403);
  await stillServes();
});

test('wire protocol: unknown routes, bodies, encodings, limits', async () => {
  const key = env.merchant.secret_key;
  const nf = await env.request({ path: '/v1/foo', key });
  assert.equal(nf.status, 404);
  assert.equal(nf.json.error.message, 'Unrecognized request URL (GET: /v1/foo).');
  assert.match(nf.headers['request-id'], /^req_/);
  assert.match(nf.headers['content-type'], /application\/json/);
  // an empty id (a trailing slash) is not the list or the create, as on Stripe: stripe-node sends
  // POST /v1/customers/ for customers.update('')
  const before = (await stripe.customers.list({ limit: 100 })).data.length;
  const slash = await env.request({ method: 'POST', path: '/v1/customers/', key, body: 'email=a@example.com' });
  assert.equal(slash.status, 404);
  assert.match(slash.json.error.message, /^Unrecognized request URL \(POST: \/v1\/customers\/\)\. If you are trying to list objects, remove the trailing slash\./);
  await assert.rejects(stripe.customers.update('', { email: 'b@example.com' }), (e) => e.statusCode === 404);
  assert.equal((await env.request({ path: '/v1//customers', key })).status, 404);
  assert.equal((await stripe.customers.list({ limit: 100 })).data.length, before);
  const nf2 = await env.request({ path: '/v1/4242424242424242', key });
  assert.equal(nf2.status, 404);
  assert.ok(!nf2.body.includes('4242424242424242'));

  const enc = await env.request({ method: 'POST', path: '/v1/customers', key, body: 'metadata%5Bcolor%5D=blue&expand%5B%5D=test_clock' });
  assert.equal(enc.status, 200, enc.body);
  assert.deepEqual(enc.json.metadata, { color: 'blue' });
  await stripe.customers.create({ email: 'second@example.com' });
  const q = await env.request({ path: '/v1/customers?limit=2&expand%5B0%5D=data.test_clock', key });
  assert.equal(q.status, 200);
  assert.equal(q.json.data.length, 2);

  const dup = await env.request({ method: 'POST', path: '/v1/customers', key, body: 'email=a%40b.c&email=d%40e.f' });
  assert.equal(dup.status, 400);
  const badpct = await env.request({ method: 'POST', path: '/v1/customers', key, body: 'email=%ZZ' });
  assert.equal(badpct.status, 400);
  assert.ok(badpct.json.error);
  const json = await env.request({ method: 'POST', path: '/v1/customers', key, body: '{"email":"x"}', headers: { 'Content-Type': 'application/json' } });
  assert.equal(json.status, 400);
  assert.ok(json.json.error);

  const big = await env.request({ method: 'POST', path: '/v1/customers', key, body: `description=${'x'.repeat((1 << 20) + 10)}` });
  assert.equal(big.status, 413);
  assert.ok(big.json.error);

  const hugeHeaders = {};
  for (let i = 0; i < 400; i++) hugeHeaders[`X-Filler-${i}`] = 'y'.repeat(100);
  const h = await env.request({ path: '/v1/balance', key, headers: hugeHeaders }).catch((e) => ({ status: 'closed', e }));
  assert.ok(h.status === 431 || h.status === 'closed', `expected 431, got ${h.status}`);
  await stillServes();
});

test('balance is empty for a new merchant', async () => {
  const b = await env.stripe(env.merchants[1].secret_key).balance.retrieve();
  assert.deepEqual(b, { object: 'balance', available: [], livemode: false, pending: [] });
  assertStripeShape(b, 'balance');
});

test('tender verify passes on the data the tests made', async () => {
  const out = tender(['verify', '--data', env.dataDir]);
  assert.match(out, /verify: ok/);
});

test('a customer without cards: default_source null, expand[]=sources an empty list', async () => {
  const c = await stripe.customers.create({ email: 'nocards@example.com' });
  assert.equal(c.default_source, null);
  const x = await stripe.customers.retrieve(c.id, { expand: ['sources', 'default_source'] });
  assert.equal(x.default_source, null);
  assert.deepEqual(x.sources, { object: 'list', data: [], has_more: false, url: `/v1/customers/${c.id}/sources` });
  assertStripeShape(x, 'customer');
  await assert.rejects(stripe.customers.update(c.id, { default_source: 'card_nope' }),
    (e) => e.statusCode === 404 && e.code === 'missing');
  await assert.rejects(stripe.customers.create({ source: 'pm_card_visa' }),
    (e) => e.statusCode === 404 && e.code === 'resource_missing' && e.param === 'source');
  assert.equal((await stripe.customers.list({ email: 'nocards@example.com' })).data.length, 1);
});
