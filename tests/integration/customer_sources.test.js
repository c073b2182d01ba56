'use strict';
// A customer's legacy card sources (Stripe's Cards API) and charges of a customer, through the
// official stripe-node SDK: customers.create({source}), createSource / listSources /
// retrieveSource / updateSource / deleteSource, default_source, charges.create({customer}),
// capture, refunds, declines on attach and on charge, pagination, idempotency, and no card
// number in clear on disk or in the log; legacy ACH: bank account sources (btok_…), their
// microdeposit verification, and their charges settled by the scheduler; a bank account token as
// customers.create / update's source, and the disputes of legacy ACH debits; the Sources API
// (src_…): card sources from a token or a card, 3-D Secure sources through Tender's test page in
// headless Chromium, attached to customers and charged.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {
  startTender, stopAll, readStoreFiles, waitFor, tender, SHARED, launchChromium, startShop,
} = require('./helpers');

const validator = require(path.join(SHARED, 'tools', 'stripe-openapi-validate.js'));
// The spec's fields Stripe includes only where they apply: a card's `account` (a connected
// account's external card, never a customer's), and the lists Stripe stopped including.
const CONDITIONAL = [/\.account: absent/, /^\$\.cash_balance: absent/, /^\$\.refunds: absent/];
function assertStripeShape(obj, schema) {
  const problems = validator.validate(JSON.stringify(obj), schema, { complete: true })
    .filter((p) => !CONDITIONAL.some((re) => re.test(p)));
  assert.deepEqual(problems, [], `${schema} does not match Stripe's spec:\n${problems.join('\n')}`);
}

let env;
let stripe;
const PANS = ['4242424242424242', '5555555555554444', '4000000000000341'];

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
});
after(stopAll);

const cardToken = (number, extra = {}) =>
  stripe.tokens.create({ card: { number, exp_month: 12, exp_year: 2034, cvc: '123', ...extra } });

async function eventsOf(type, objectId) {
  const out = [];
  for await (const e of stripe.events.list({ type, limit: 100 })) {
    if (e.data.object.id === objectId) out.push(e);
  }
  return out;
}

test('customers.create({source}) attaches the card as default_source; expand sources', async () => {
  const c = await stripe.customers.create({ email: 'src1@example.com', source: 'tok_visa' });
  assertStripeShape(c, 'customer');
  assert.match(c.default_source, /^card_[0-9A-Za-z]{24}$/);
  assert.equal(c.sources, undefined); // includable: only when expanded
  const x = await stripe.customers.retrieve(c.id, { expand: ['default_source', 'sources'] });
  assertStripeShape(x, 'customer');
  const card = x.default_source;
  assertStripeShape(card, 'card');
  assert.equal(card.object, 'card');
  assert.equal(card.id, c.default_source);
  assert.equal(card.customer, c.id);
  assert.equal(card.brand, 'Visa');
  assert.equal(card.last4, '4242');
  assert.equal(card.funding, 'credit');
  assert.equal(card.cvc_check, 'pass');
  assert.match(card.fingerprint, /^[0-9A-Za-z]{16}$/);
  assert.equal(x.sources.object, 'list');
  assert.equal(x.sources.url, `/v1/customers/${c.id}/sources`);
  assert.equal(x.sources.has_more, false);
  assert.deepEqual(x.sources.data.map((s) => s.id), [card.id]);
  // the create's own answer expands too
  const y = await stripe.customers.create({ source: 'tok_mastercard', expand: ['default_source'] });
  assert.equal(y.default_source.brand, 'MasterCard');
  assert.equal(y.default_source.customer, y.id);
  // events: customer.created names the default, customer.source.created carries the card
  const created = await eventsOf('customer.created', c.id);
  assert.equal(created.length, 1);
  assert.equal(created[0].data.object.default_source, card.id);
  const srcEv = await eventsOf('customer.source.created', card.id);
  assert.equal(srcEv.length, 1);
  assertStripeShape(srcEv[0].data.object, 'card');
  assert.equal(srcEv[0].data.object.customer, c.id);
  // in a list, data.sources expands each customer
  const l = await stripe.customers.list({ email: 'src1@example.com', expand: ['data.sources'] });
  assert.deepEqual(l.data[0].sources.data.map((s) => s.id), [card.id]);
});

test('createSource, retrieve, update, list, delete; the default moves', async () => {
  const c = await stripe.customers.create({ email: 'src2@example.com' });
  assert.equal(c.default_source, null);
  const tok = await cardToken('5555555555554444', { name: 'Jenny Rosen' });
  const a = await stripe.customers.createSource(c.id, { source: tok.id, metadata: { slot: 'a' } });
  assertStripeShape(a, 'card');
  assert.equal(a.id, tok.card.id); // a token's card keeps its id, as on Stripe
  assert.equal(a.brand, 'MasterCard');
  assert.equal(a.exp_year, 2034);
  assert.deepEqual(a.metadata, { slot: 'a' });
  assert.equal(a.customer, c.id);
  // the token is used up
  await assert.rejects(stripe.customers.createSource(c.id, { source: tok.id }), (e) => e.code === 'token_already_used');
  let cu = await stripe.customers.retrieve(c.id);
  assert.equal(cu.default_source, a.id); // the first card becomes the default
  const b = await stripe.customers.createSource(c.id, { source: 'tok_amex' });
  assert.equal(b.brand, 'American Express');
  cu = await stripe.customers.retrieve(c.id);
  assert.equal(cu.default_source, a.id); // a second card does not replace it
  const got = await stripe.customers.retrieveSource(c.id, a.id);
  assert.deepEqual(got, a);
  const up = await stripe.customers.updateSource(c.id, a.id, {
    name: 'J. Rosen', address_line1: '1 Main St', address_zip: '94107', address_country: 'US',
    exp_month: 6, exp_year: 2035, metadata: { slot: '', extra: '1' },
  });
  assertStripeShape(up, 'card');
  assert.equal(up.name, 'J. Rosen');
  assert.equal(up.address_line1, '1 Main St');
  assert.equal(up.address_line1_check, 'unchecked');
  assert.equal(up.address_zip, '94107');
  assert.equal(up.address_country, 'US');
  assert.equal(up.address_city, null);
  assert.equal(up.exp_month, 6);
  assert.equal(up.exp_year, 2035);
  assert.deepEqual(up.metadata, { extra: '1' });
  const upd = await eventsOf('customer.source.updated', a.id);
  assert.equal(upd.length, 1);
  assert.equal(upd[0].data.previous_attributes.exp_month, 12);
  assert.equal(upd[0].data.previous_attributes.name, null);
  assert.deepEqual(upd[0].data.previous_attributes.metadata, { slot: 'a' });
  await assert.rejects(stripe.customers.updateSource(c.id, a.id, { exp_year: 2001 }), (e) => e.code === 'invalid_expiry_year');
  // the same card is a PaymentMethod
  const pm = await stripe.paymentMethods.retrieve(a.id);
  assertStripeShape(pm, 'payment_method');
  assert.equal(pm.customer, c.id);
  assert.equal(pm.billing_details.name, 'J. Rosen');
  assert.equal(pm.card.exp_year, 2035);
  const list = await stripe.customers.listSources(c.id, { object: 'card' });
  assert.deepEqual(list.data.map((s) => s.id), [b.id, a.id]);
  for (const s of list.data) assertStripeShape(s, 'card');
  assert.deepEqual((await stripe.customers.listSources(c.id, { object: 'bank_account' })).data, []);
  // another customer's view: missing
  const other = await stripe.customers.create({});
  await assert.rejects(stripe.customers.retrieveSource(other.id, a.id), (e) => e.statusCode === 404);
  await assert.rejects(stripe.customers.deleteSource(other.id, a.id), (e) => e.statusCode === 404);
  // deleting the default makes the other card the default (customer.updated)
  const del = await stripe.customers.deleteSource(c.id, a.id);
  assert.deepEqual(del, { id: a.id, object: 'card', currency: null, deleted: true });
  assertStripeShape(del, 'deleted_card');
  cu = await stripe.customers.retrieve(c.id);
  assert.equal(cu.default_source, b.id);
  const delEv = await eventsOf('customer.source.deleted', a.id);
  assert.equal(delEv.length, 1);
  assert.equal(delEv[0].data.object.customer, c.id);
  const updEv = await eventsOf('customer.updated', c.id);
  assert.ok(updEv.some((e) => e.data.previous_attributes.default_source === a.id && e.data.object.default_source === b.id));
  await assert.rejects(stripe.customers.retrieveSource(c.id, a.id), (e) => e.statusCode === 404);
  await assert.rejects(stripe.customers.deleteSource(c.id, a.id), (e) => e.statusCode === 404);
  // a deleted card no longer pays
  await assert.rejects(
    stripe.paymentIntents.create({ amount: 1000, currency: 'usd', customer: c.id, payment_method: a.id, confirm: true }),
    (e) => e.statusCode === 404);
  await stripe.customers.deleteSource(c.id, b.id);
  cu = await stripe.customers.retrieve(c.id);
  assert.equal(cu.default_source, null);
  assert.deepEqual((await stripe.customers.listSources(c.id)).data, []);
});

test('customer update: source replaces the default, default_source picks one of its cards', async () => {
  const c = await stripe.customers.create({ source: 'tok_visa' });
  const old = c.default_source;
  const second = await stripe.customers.createSource(c.id, { source: 'tok_discover' });
  const u = await stripe.customers.update(c.id, { source: 'tok_mastercard' });
  assertStripeShape(u, 'customer');
  assert.notEqual(u.default_source, old);
  const ids = (await stripe.customers.listSources(c.id)).data.map((s) => s.id);
  assert.deepEqual(ids.sort(), [second.id, u.default_source].sort()); // the old default was deleted
  assert.equal((await eventsOf('customer.source.deleted', old)).length, 1);
  const d = await stripe.customers.update(c.id, { default_source: second.id });
  assert.equal(d.default_source, second.id);
  await assert.rejects(stripe.customers.update(c.id, { default_source: old }),
    (e) => e.statusCode === 404 && e.code === 'missing' && e.param === 'default_source');
  await assert.rejects(stripe.customers.update(c.id, { source: 'tok_nonexistent' }), (e) => e.statusCode === 404 && e.param === 'source');
  await assert.rejects(stripe.customers.update('cus_doesnotexist', { source: 'tok_visa' }), (e) => e.statusCode === 404);
});

test('a card source pays a PaymentIntent of its customer', async () => {
  const c = await stripe.customers.create({ source: 'tok_visa' });
  const pi = await stripe.paymentIntents.create({ amount: 2000, currency: 'usd', customer: c.id, payment_method: c.default_source, confirm: true });
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.payment_method, c.default_source);
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(ch.payment_method, c.default_source);
  assert.equal(ch.source, null); // a PaymentIntent's charge: the card is its payment_method
  assertStripeShape(ch, 'charge');
  const other = await stripe.customers.create({});
  await assert.rejects(
    stripe.paymentIntents.create({ amount: 2000, currency: 'usd', customer: other.id, payment_method: c.default_source, confirm: true }),
    (e) => e.statusCode === 400);
  // an unconfirmed intent keeps only its own merchant's card or source: another merchant's
  // (or none at all) is refused on update and create, and changes nothing
  const s2 = env.stripe(env.merchants[1].secret_key);
  const src = await stripe.sources.create({ type: 'card', token: 'tok_visa' });
  const theirs = await s2.paymentIntents.create({ amount: 900, currency: 'usd' });
  for (const id of [c.default_source, src.id, 'card_nope']) {
    await assert.rejects(s2.paymentIntents.update(theirs.id, { payment_method: id }),
      (e) => e.statusCode === 404 && e.code === 'resource_missing' && e.param === 'payment_method');
  }
  for (const id of [src.id, c.default_source]) {
    await assert.rejects(s2.paymentIntents.create({ amount: 900, currency: 'usd', payment_method: id }),
      (e) => e.statusCode === 404 && e.code === 'resource_missing');
  }
  const still = await s2.paymentIntents.retrieve(theirs.id);
  assert.deepEqual([still.payment_method, still.status], [null, 'requires_payment_method']);
  assert.equal((await s2.paymentIntents.list({ limit: 100 })).data.filter((p) => p.amount === 900).length, 1);
  // the merchant's own card source still can be set, then confirmed
  const mine = await stripe.paymentIntents.create({ amount: 900, currency: 'usd', customer: c.id });
  assert.equal((await stripe.paymentIntents.update(mine.id, { payment_method: c.default_source })).status, 'requires_confirmation');
  assert.equal((await stripe.paymentIntents.confirm(mine.id)).status, 'succeeded');
  // create takes it as update does (a card source is a payment_method on Stripe too)
  const made = await stripe.paymentIntents.create({ amount: 700, currency: 'usd', customer: c.id, payment_method: c.default_source });
  assert.deepEqual([made.payment_method, made.status], [c.default_source, 'requires_confirmation']);
  assert.equal((await stripe.paymentIntents.confirm(made.id)).status, 'succeeded');
});

test('declining cards: attach fails with the card error; chargeCustomerFail attaches and then declines', async () => {
  const before = (await stripe.customers.list({ email: 'decl@example.com' })).data.length;
  const e1 = await stripe.customers.create({ email: 'decl@example.com', source: 'tok_chargeDeclined' }).then(() => null, (e) => e);
  assert.equal(e1.type, 'StripeCardError');
  assert.equal(e1.statusCode, 402);
  assert.equal(e1.code, 'card_declined');
  assert.equal(e1.decline_code, 'generic_decline');
  assert.equal((await stripe.customers.list({ email: 'decl@example.com' })).data.length, before); // no customer made
  const c = await stripe.customers.create({ email: 'decl@example.com' });
  const e2 = await stripe.customers.createSource(c.id, { source: 'tok_chargeDeclinedInsufficientFunds' }).then(() => null, (e) => e);
  assert.equal(e2.statusCode, 402);
  assert.equal(e2.code, 'card_declined');
  assert.equal(e2.decline_code, 'insufficient_funds');
  assert.deepEqual((await stripe.customers.listSources(c.id)).data, []);
  assert.equal((await stripe.customers.retrieve(c.id)).default_source, null);
  // a real token with a declining number: declined on attach too
  const t = await cardToken('4000000000000002');
  const e3 = await stripe.customers.createSource(c.id, { source: t.id }, { idempotencyKey: `decl-${t.id}` }).then(() => null, (e) => e);
  assert.equal(e3.code, 'card_declined');
  // the SDK's retry of that request (same key) gets the same answer, not token_already_used:
  // the declined attach stored nothing, so it did not use the token up either
  const e3again = await stripe.customers.createSource(c.id, { source: t.id }, { idempotencyKey: `decl-${t.id}` }).then(() => null, (e) => e);
  assert.equal(e3again.statusCode, 402, e3again.message);
  assert.equal(e3again.code, 'card_declined');
  assert.equal(e3again.decline_code, e3.decline_code);
  // attaches (the issuer verifies it), charges decline: 402 with the charge's id
  const tok = await cardToken('4000000000000341');
  const card = await stripe.customers.createSource(c.id, { source: tok.id });
  assert.equal(card.last4, '0341');
  const e4 = await stripe.charges.create({ amount: 1500, currency: 'usd', customer: c.id }).then(() => null, (e) => e);
  assert.equal(e4.statusCode, 402);
  assert.equal(e4.code, 'card_declined');
  assert.match(e4.raw.charge, /^ch_/);
  const failed = await stripe.charges.retrieve(e4.raw.charge);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.customer, c.id);
  assert.equal(failed.source.id, card.id);
  assertStripeShape(failed, 'charge');
});

test('charges of a customer: default source, a named card, capture, refunds, errors', async () => {
  const nocard = await stripe.customers.create({});
  const e0 = await stripe.charges.create({ amount: 1000, currency: 'usd', customer: nocard.id }).then(() => null, (e) => e);
  assert.equal(e0.statusCode, 402);
  assert.equal(e0.type, 'StripeCardError');
  assert.equal(e0.code, 'missing');
  assert.equal(e0.param, 'card');
  assert.equal(e0.message, 'Cannot charge a customer that has no active card');
  await assert.rejects(stripe.charges.create({ amount: 1000, currency: 'usd', customer: 'cus_nope' }),
    (e) => e.statusCode === 404 && e.param === 'customer');

  const c = await stripe.customers.create({ source: 'tok_visa' });
  const ch = await stripe.charges.create({ amount: 2500, currency: 'usd', customer: c.id, description: 'legacy' });
  assertStripeShape(ch, 'charge');
  assert.equal(ch.status, 'succeeded');
  assert.equal(ch.captured, true);
  assert.equal(ch.customer, c.id);
  assert.equal(ch.payment_method, c.default_source);
  assert.equal(ch.payment_intent, null);
  assert.equal(ch.source.object, 'card');
  assert.equal(ch.source.id, c.default_source);
  assert.equal(ch.source.customer, c.id);
  assertStripeShape(ch.source, 'card');
  assert.equal(ch.payment_method_details.card.last4, '4242');
  const ex = await stripe.charges.retrieve(ch.id, { expand: ['customer'] });
  assert.equal(ex.customer.id, c.id);

  const second = await stripe.customers.createSource(c.id, { source: 'tok_mastercard' });
  const auth = await stripe.charges.create({ amount: 3000, currency: 'usd', customer: c.id, source: second.id, capture: false });
  assert.equal(auth.captured, false);
  assert.equal(auth.payment_method, second.id);
  assert.equal(auth.source.brand, 'MasterCard');
  const cap = await stripe.charges.capture(auth.id, { amount: 2000 });
  assert.equal(cap.captured, true);
  assert.equal(cap.amount_captured, 2000);
  assertStripeShape(cap, 'charge');
  const re = await stripe.refunds.create({ charge: cap.id, amount: 500 });
  assert.equal(re.charge, cap.id);
  assert.equal(re.amount, 500);
  const full = await stripe.refunds.create({ charge: ch.id });
  assert.equal(full.amount, 2500);
  const after = await stripe.charges.retrieve(ch.id);
  assert.equal(after.refunded, true);
  assert.equal(after.source.id, c.default_source);
  const listed = await stripe.charges.list({ customer: c.id });
  assert.deepEqual(listed.data.map((x) => x.id).sort(), [ch.id, auth.id].sort());

  // a card that is not the customer's, a token with a customer, a card without its customer
  const other = await stripe.customers.create({ source: 'tok_visa' });
  await assert.rejects(stripe.charges.create({ amount: 1000, currency: 'usd', customer: c.id, source: other.default_source }),
    (e) => e.statusCode === 404 && e.code === 'missing' && e.param === 'source');
  await assert.rejects(stripe.charges.create({ amount: 1000, currency: 'usd', customer: c.id, source: 'tok_visa' }),
    (e) => e.statusCode === 404 && e.code === 'missing');
  await assert.rejects(stripe.charges.create({ amount: 1000, currency: 'usd', source: second.id }),
    (e) => e.statusCode === 400 && e.param === 'source');
  // the charge still shows its card after the card is deleted
  await stripe.customers.deleteSource(c.id, second.id);
  const old = await stripe.charges.retrieve(auth.id);
  assert.equal(old.source.id, second.id);
  assert.equal(old.source.customer, c.id);
  // other merchants see nothing of it
  const s2 = env.stripe(env.merchants[1].secret_key);
  await assert.rejects(s2.customers.listSources(c.id), (e) => e.statusCode === 404);
  await assert.rejects(s2.charges.create({ amount: 1000, currency: 'usd', customer: c.id }), (e) => e.statusCode === 404);
});

test('listing sources: limit, starting_after, ending_before, auto-pagination', async () => {
  const c = await stripe.customers.create({});
  const made = [];
  for (let i = 0; i < 12; i++) made.push((await stripe.customers.createSource(c.id, { source: 'tok_visa', metadata: { i: String(i) } })).id);
  const newestFirst = [...made].reverse();
  const page = await stripe.customers.listSources(c.id, { object: 'card', limit: 5 });
  assert.equal(page.has_more, true);
  assert.deepEqual(page.data.map((s) => s.id), newestFirst.slice(0, 5));
  const next = await stripe.customers.listSources(c.id, { object: 'card', limit: 5, starting_after: page.data[4].id });
  assert.deepEqual(next.data.map((s) => s.id), newestFirst.slice(5, 10));
  const prev = await stripe.customers.listSources(c.id, { object: 'card', limit: 5, ending_before: next.data[0].id });
  assert.deepEqual(prev.data.map((s) => s.id), newestFirst.slice(0, 5));
  const all = [];
  for await (const s of stripe.customers.listSources(c.id, { object: 'card', limit: 4 })) all.push(s.id);
  assert.deepEqual(all, newestFirst);
  const x = await stripe.customers.retrieve(c.id, { expand: ['sources'] });
  assert.equal(x.sources.data.length, 10);
  assert.equal(x.sources.has_more, true);
  await assert.rejects(stripe.customers.listSources(c.id, { limit: 101 }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.customers.listSources('cus_missing'), (e) => e.statusCode === 404);
});

test('Idempotency-Key on every new POST', async () => {
  const k = (s) => `${s}-${Date.now()}-${Math.random()}`;
  const key1 = k('cus-src');
  const a = await stripe.customers.create({ email: 'idem@example.com', source: 'tok_visa' }, { idempotencyKey: key1 });
  const b = await stripe.customers.create({ email: 'idem@example.com', source: 'tok_visa' }, { idempotencyKey: key1 });
  assert.equal(a.id, b.id);
  assert.equal(a.default_source, b.default_source);
  assert.equal((await stripe.customers.list({ email: 'idem@example.com' })).data.length, 1);
  const tok = await cardToken('4242424242424242');
  const key2 = k('create-source');
  const s1 = await stripe.customers.createSource(a.id, { source: tok.id }, { idempotencyKey: key2 });
  const s2 = await stripe.customers.createSource(a.id, { source: tok.id }, { idempotencyKey: key2 });
  assert.deepEqual(s1, s2);
  assert.equal((await stripe.customers.listSources(a.id)).data.length, 2);
  const key3 = k('update-source');
  await stripe.customers.updateSource(a.id, s1.id, { name: 'One' }, { idempotencyKey: key3 });
  await stripe.customers.updateSource(a.id, s1.id, { name: 'One' }, { idempotencyKey: key3 });
  assert.equal((await eventsOf('customer.source.updated', s1.id)).length, 1);
  await assert.rejects(stripe.customers.updateSource(a.id, s1.id, { name: 'Two' }, { idempotencyKey: key3 }),
    (e) => e.type === 'StripeIdempotencyError');
  const key4 = k('cus-update');
  const u1 = await stripe.customers.update(a.id, { source: 'tok_mastercard' }, { idempotencyKey: key4 });
  const u2 = await stripe.customers.update(a.id, { source: 'tok_mastercard' }, { idempotencyKey: key4 });
  assert.equal(u1.default_source, u2.default_source);
  const key5 = k('charge');
  const c1 = await stripe.charges.create({ amount: 1200, currency: 'usd', customer: a.id }, { idempotencyKey: key5 });
  const c2 = await stripe.charges.create({ amount: 1200, currency: 'usd', customer: a.id }, { idempotencyKey: key5 });
  assert.equal(c1.id, c2.id);
  assert.equal((await stripe.charges.list({ customer: a.id })).data.length, 1);
  const key6 = k('decline');
  const d1 = await stripe.customers.createSource(a.id, { source: 'tok_chargeDeclined' }, { idempotencyKey: key6 }).then(() => null, (e) => e);
  const d2 = await stripe.customers.createSource(a.id, { source: 'tok_chargeDeclined' }, { idempotencyKey: key6 }).then(() => null, (e) => e);
  assert.equal(d1.code, 'card_declined');
  assert.equal(d2.code, 'card_declined');
});

test('the Cards API: /v1/customers/{customer}/cards is the card view of its sources', async () => {
  const c = await stripe.customers.create({ email: 'cards@example.com' });
  const tok = await cardToken('5555555555554444');
  const key = { idempotencyKey: `cards-${c.id}` };
  const card1 = await stripe.rawRequest('POST', `/v1/customers/${c.id}/cards`, { card: tok.id, metadata: { n: '1' } }, key);
  assertStripeShape(card1, 'card');
  assert.equal(card1.object, 'card');
  assert.equal(card1.id, tok.card.id);
  assert.equal(card1.customer, c.id);
  assert.equal(card1.last4, '4444');
  assert.deepEqual(card1.metadata, { n: '1' });
  // the same key answers the same card (the token is used once)
  const again = await stripe.rawRequest('POST', `/v1/customers/${c.id}/cards`, { card: tok.id, metadata: { n: '1' } }, key);
  assert.equal(JSON.stringify(again), JSON.stringify(card1));
  assert.equal((await stripe.customers.retrieve(c.id)).default_source, card1.id);
  const card2 = await stripe.rawRequest('POST', `/v1/customers/${c.id}/cards`, { card: 'tok_visa' });
  assert.equal(card2.last4, '4242');
  // refused input changes nothing
  await assert.rejects(stripe.rawRequest('POST', `/v1/customers/${c.id}/cards`, {}), (e) => e.statusCode === 400 && e.code === 'parameter_missing' && e.param === 'card');
  await assert.rejects(stripe.rawRequest('POST', `/v1/customers/${c.id}/cards`, { card: 'tok_visa', source: 'tok_visa' }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.rawRequest('POST', `/v1/customers/${c.id}/cards`, { card: 'tok_nope' }), (e) => e.statusCode >= 400 && e.statusCode < 500);
  // the list: cards only, its own url, newest first, cursors
  const list = await stripe.rawRequest('GET', `/v1/customers/${c.id}/cards`);
  assert.equal(list.object, 'list');
  assert.equal(list.url, `/v1/customers/${c.id}/cards`);
  assert.deepEqual(list.data.map((x) => x.id), [card2.id, card1.id]);
  list.data.forEach((x) => assertStripeShape(x, 'card'));
  const p1 = await stripe.rawRequest('GET', `/v1/customers/${c.id}/cards?limit=1`);
  assert.equal(p1.has_more, true);
  const p2 = await stripe.rawRequest('GET', `/v1/customers/${c.id}/cards?limit=1&starting_after=${p1.data[0].id}`);
  assert.deepEqual(p2.data.map((x) => x.id), [card1.id]);
  assert.equal(p2.has_more, false);
  // retrieve and update exactly as /sources/{id}
  const got = await stripe.rawRequest('GET', `/v1/customers/${c.id}/cards/${card1.id}`);
  assert.equal(JSON.stringify(got), JSON.stringify(await stripe.customers.retrieveSource(c.id, card1.id)));
  const up = await stripe.rawRequest('POST', `/v1/customers/${c.id}/cards/${card1.id}`, { name: 'Ada Lovelace', address_zip: '94107', exp_month: '11' });
  assert.equal(up.name, 'Ada Lovelace');
  assert.equal(up.address_zip, '94107');
  assert.equal(up.exp_month, 11);
  assertStripeShape(up, 'card');
  // another customer's card, another merchant: not there
  const c2 = await stripe.customers.create({ source: 'tok_visa' });
  const foreign = (await stripe.customers.retrieve(c2.id)).default_source;
  await assert.rejects(stripe.rawRequest('GET', `/v1/customers/${c.id}/cards/${foreign}`), (e) => e.statusCode === 404);
  await assert.rejects(stripe.rawRequest('DELETE', `/v1/customers/${c.id}/cards/${foreign}`), (e) => e.statusCode === 404);
  const s1 = env.stripe(env.merchants[1].secret_key);
  await assert.rejects(s1.rawRequest('GET', `/v1/customers/${c.id}/cards`), (e) => e.statusCode === 404);
  await assert.rejects(s1.rawRequest('GET', `/v1/customers/${c.id}/cards/${card1.id}`), (e) => e.statusCode === 404);
  await assert.rejects(s1.rawRequest('POST', `/v1/customers/${c.id}/cards`, { card: 'tok_visa' }), (e) => e.statusCode === 404);
  // delete: the card leaves, the default moves to the other one, with the sources' events
  const del = await stripe.rawRequest('DELETE', `/v1/customers/${c.id}/cards/${card1.id}`);
  assert.equal(del.id, card1.id);
  assert.equal(del.deleted, true);
  assert.equal((await stripe.customers.retrieve(c.id)).default_source, card2.id);
  assert.deepEqual((await stripe.rawRequest('GET', `/v1/customers/${c.id}/cards`)).data.map((x) => x.id), [card2.id]);
  assert.equal((await eventsOf('customer.source.deleted', card1.id)).length, 1);
  await assert.rejects(stripe.rawRequest('GET', `/v1/customers/${c.id}/cards/${card1.id}`), (e) => e.statusCode === 404);
});

test('no card number in clear on disk or in the log', async () => {
  const c = await stripe.customers.create({});
  for (const n of PANS) {
    const t = await cardToken(n);
    await stripe.customers.createSource(c.id, { source: t.id }).catch(() => {});
    // a Sources API card source from the raw number (Stripe.js's way), charged once
    const src = await stripe.sources.create({ type: 'card', card: { number: n, exp_month: 12, exp_year: 2034, cvc: '123' } });
    await stripe.charges.create({ amount: 700, currency: 'usd', source: src.id }).catch(() => {});
  }
  await stripe.charges.create({ amount: 1000, currency: 'usd', customer: c.id }).catch(() => {});
  const stored = readStoreFiles(env.dataDir);
  const files = [...stored.map((x) => x.file), env.server.logPath];
  const hay = [...stored.map((x) => x.data), fs.readFileSync(env.server.logPath)];
  for (const n of PANS) {
    for (const form of [n, n.replace(/(\d{4})/g, '$1 ').trim()]) {
      for (let i = 0; i < hay.length; i++) {
        assert.ok(!hay[i].includes(form), `${form.slice(-4)} found in clear in ${files[i]}`);
        assert.ok(!hay[i].includes(Buffer.from(form, 'utf16le')), `utf16 ${form.slice(-4)} in ${files[i]}`);
      }
    }
  }
});

// ---- legacy ACH: a customer's bank account sources (the Sources / Bank Accounts API) ----

const bankToken = (account_number, extra = {}) => stripe.tokens.create({
  bank_account: {
    country: 'US', currency: 'usd', routing_number: '110000000', account_number,
    account_holder_name: 'Jenny Rosen', account_holder_type: 'individual', ...extra,
  },
});

test('bank account sources: attach a btok, verify with 32 and 45, bank_accounts routes, events', async () => {
  const c = await stripe.customers.create({ email: 'ach-legacy@example.com' });
  const tok = await bankToken('000123456789');
  const ba = await stripe.customers.createSource(c.id, { source: tok.id, metadata: { k: 'v' } });
  assertStripeShape(ba, 'bank_account');
  assert.equal(ba.id, tok.bank_account.id);
  assert.match(ba.id, /^ba_/);
  assert.equal(ba.object, 'bank_account');
  assert.equal(ba.customer, c.id);
  assert.equal(ba.status, 'new');
  assert.equal(ba.last4, '6789');
  assert.equal(ba.routing_number, '110000000');
  assert.equal(ba.bank_name, 'STRIPE TEST BANK');
  assert.equal(ba.account_holder_name, 'Jenny Rosen');
  assert.equal(ba.account_holder_type, 'individual');
  assert.equal(ba.fingerprint, tok.bank_account.fingerprint);
  assert.deepEqual(ba.metadata, { k: 'v' });
  // the first source becomes the default
  assert.equal((await stripe.customers.retrieve(c.id)).default_source, ba.id);
  const x = await stripe.customers.retrieve(c.id, { expand: ['default_source', 'sources'] });
  assertStripeShape(x, 'customer');
  assert.equal(x.default_source.object, 'bank_account');
  assert.deepEqual(x.sources.data.map((s) => s.id), [ba.id]);
  // the token is used up; unknown tokens are 404s; neither changes anything
  await assert.rejects(stripe.customers.createSource(c.id, { source: tok.id }),
    (e) => e.statusCode === 400 && e.code === 'token_already_used');
  await assert.rejects(stripe.customers.createSource(c.id, { source: 'btok_nope' }),
    (e) => e.statusCode === 404 && e.param === 'source');

  // a card beside it; lists by object, and the Bank Accounts API's own list
  const card = await stripe.customers.createSource(c.id, { source: 'tok_visa' });
  const all = await stripe.customers.listSources(c.id);
  assert.deepEqual(all.data.map((s) => s.id), [card.id, ba.id]);
  const banks = await stripe.customers.listSources(c.id, { object: 'bank_account' });
  assert.deepEqual(banks.data.map((s) => s.id), [ba.id]);
  banks.data.forEach((s) => assertStripeShape(s, 'bank_account'));
  assert.deepEqual((await stripe.customers.listSources(c.id, { object: 'card' })).data.map((s) => s.id), [card.id]);
  const page = await stripe.customers.listSources(c.id, { limit: 1, starting_after: card.id });
  assert.deepEqual(page.data.map((s) => s.id), [ba.id]);
  assert.equal(page.has_more, false);
  const bl = await stripe.rawRequest('GET', `/v1/customers/${c.id}/bank_accounts`);
  assert.deepEqual(bl.data.map((s) => s.id), [ba.id]);
  assert.equal(bl.url, `/v1/customers/${c.id}/bank_accounts`);
  assert.equal((await stripe.rawRequest('GET', `/v1/customers/${c.id}/bank_accounts/${ba.id}`)).id, ba.id);
  assert.equal((await stripe.customers.retrieveSource(c.id, ba.id)).status, 'new');

  // the Cards API's view has no bank accounts
  await assert.rejects(stripe.rawRequest('GET', `/v1/customers/${c.id}/cards/${ba.id}`), (e) => e.statusCode === 404);
  assert.deepEqual((await stripe.rawRequest('GET', `/v1/customers/${c.id}/cards`)).data.map((s) => s.id), [card.id]);
  // update: the holder and metadata; a card's fields are unknown for a bank account
  const up = await stripe.customers.updateSource(c.id, ba.id, { account_holder_name: 'J. Rosen', metadata: { k: '' } });
  assert.equal(up.account_holder_name, 'J. Rosen');
  assert.deepEqual(up.metadata, {});
  await assert.rejects(stripe.customers.updateSource(c.id, ba.id, { exp_month: '12' }),
    (e) => e.statusCode === 400 && e.code === 'parameter_unknown' && e.param === 'exp_month');
  const upEv = await eventsOf('customer.source.updated', ba.id);
  assert.equal(upEv.length, 1);
  assert.equal(upEv[0].data.previous_attributes.account_holder_name, 'Jenny Rosen');

  // verify: wrong amounts are refused and change nothing visible, 32 and 45 verify
  const bad = await stripe.customers.verifySource(c.id, ba.id, { amounts: [1, 2] }).then(() => null, (e) => e);
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.code, 'bank_account_verification_failed');
  assert.equal(bad.param, 'amounts');
  assert.equal((await stripe.customers.retrieveSource(c.id, ba.id)).status, 'new');
  await assert.rejects(stripe.customers.verifySource(c.id, ba.id, { amounts: [32] }),
    (e) => e.statusCode === 400 && e.param === 'amounts');
  const ok = await stripe.customers.verifySource(c.id, ba.id, { amounts: [32, 45] });
  assertStripeShape(ok, 'bank_account');
  assert.equal(ok.status, 'verified');
  await assert.rejects(stripe.customers.verifySource(c.id, ba.id, { amounts: [32, 45] }),
    (e) => e.statusCode === 400);
  const vEv = await eventsOf('customer.source.updated', ba.id);
  assert.equal(vEv.length, 2);
  assert.equal(vEv[0].data.object.status, 'verified');
  assert.deepEqual(vEv[0].data.previous_attributes, { status: 'new' });
  const cEv = await eventsOf('customer.source.created', ba.id);
  assert.equal(cEv.length, 1);
  assertStripeShape(cEv[0].data.object, 'bank_account');

  // the Bank Accounts API: create and verify through /bank_accounts (a test token alias)
  const ba2 = await stripe.rawRequest('POST', `/v1/customers/${c.id}/bank_accounts`, { source: 'btok_us_verified' });
  assert.equal(ba2.status, 'new');
  assert.equal(ba2.last4, '6789');
  const v2 = await stripe.rawRequest('POST', `/v1/customers/${c.id}/bank_accounts/${ba2.id}/verify`, { 'amounts[0]': '45', 'amounts[1]': '32' });
  assert.equal(v2.status, 'verified');

  // another merchant sees none of it
  const s2 = env.stripe(env.merchants[1].secret_key);
  await assert.rejects(s2.customers.retrieveSource(c.id, ba.id), (e) => e.statusCode === 404);
  await assert.rejects(s2.customers.verifySource(c.id, ba.id, { amounts: [32, 45] }), (e) => e.statusCode === 404);
  // another customer's bank account is not this one's
  const c2 = await stripe.customers.create({});
  await assert.rejects(stripe.customers.retrieveSource(c2.id, ba.id), (e) => e.statusCode === 404);
  await assert.rejects(stripe.customers.deleteSource(c2.id, ba.id), (e) => e.statusCode === 404);

  // default_source names either kind
  assert.equal((await stripe.customers.update(c.id, { default_source: card.id })).default_source, card.id);
  const back = await stripe.customers.update(c.id, { default_source: ba.id, expand: ['default_source'] });
  assert.equal(back.default_source.id, ba.id);
  assertStripeShape(back.default_source, 'bank_account');
  await assert.rejects(stripe.customers.update(c2.id, { default_source: ba.id }),
    (e) => e.statusCode === 404 && e.param === 'default_source');

  // delete: gone, the default moves to the newest other source
  const del = await stripe.customers.deleteSource(c.id, ba.id);
  assert.deepEqual(del, { id: ba.id, object: 'bank_account', currency: 'usd', deleted: true });
  assertStripeShape(del, 'deleted_bank_account');
  await assert.rejects(stripe.customers.retrieveSource(c.id, ba.id), (e) => e.statusCode === 404);
  assert.equal((await stripe.customers.retrieve(c.id)).default_source, ba2.id);
  assert.equal((await eventsOf('customer.source.deleted', ba.id)).length, 1);
  await stripe.rawRequest('DELETE', `/v1/customers/${c.id}/bank_accounts/${ba2.id}`);
  assert.equal((await stripe.customers.retrieve(c.id)).default_source, card.id);
});

test('bank account sources: ten wrong microdeposit answers make it verification_failed', async () => {
  const c = await stripe.customers.create({});
  const ba = await stripe.customers.createSource(c.id, { source: 'btok_us_verified' });
  for (let i = 1; i <= 10; i++) {
    const e = await stripe.customers.verifySource(c.id, ba.id, { amounts: [10, 20] }).then(() => null, (x) => x);
    assert.equal(e.statusCode, 400);
    assert.equal(e.code, 'bank_account_verification_failed');
    assert.equal((await stripe.customers.retrieveSource(c.id, ba.id)).status, i < 10 ? 'new' : 'verification_failed');
  }
  // the right amounts no longer help
  await assert.rejects(stripe.customers.verifySource(c.id, ba.id, { amounts: [32, 45] }),
    (e) => e.statusCode === 400 && e.code === 'bank_account_verification_failed');
  const ev = await eventsOf('customer.source.updated', ba.id);
  assert.equal(ev.length, 1);
  assert.equal(ev[0].data.object.status, 'verification_failed');
});

const settled = (id) => waitFor(async () => {
  const ch = await stripe.charges.retrieve(id);
  return ch.status !== 'pending' && ch;
}, `charge ${id} to settle`, 30000);

test('bank account sources pay by ACH: pending, then succeeded or failed as the test account says', async () => {
  const c = await stripe.customers.create({});
  const ba = await stripe.customers.createSource(c.id, { source: 'btok_us_verified' });
  // unverified: Stripe's 400, and no charge
  const e0 = await stripe.charges.create({ amount: 1500, currency: 'usd', customer: c.id }).then(() => null, (e) => e);
  assert.equal(e0.statusCode, 400);
  assert.equal(e0.code, 'bank_account_unverified');
  assert.equal(e0.param, 'source');
  assert.deepEqual((await stripe.charges.list({ customer: c.id })).data, []);
  await stripe.customers.verifySource(c.id, ba.id, { amounts: [32, 45] });
  // refusals: another currency, capture=false, the account without its customer
  await assert.rejects(stripe.charges.create({ amount: 1500, currency: 'eur', customer: c.id }),
    (e) => e.statusCode === 400 && e.param === 'currency');
  await assert.rejects(stripe.charges.create({ amount: 1500, currency: 'usd', customer: c.id, capture: false }),
    (e) => e.statusCode === 400 && e.param === 'capture');
  await assert.rejects(stripe.charges.create({ amount: 1500, currency: 'usd', source: ba.id }),
    (e) => e.statusCode === 400 && e.param === 'source');
  const s2 = env.stripe(env.merchants[1].secret_key);
  await assert.rejects(s2.charges.create({ amount: 1500, currency: 'usd', customer: c.id, source: ba.id }),
    (e) => e.statusCode === 404);
  assert.deepEqual((await stripe.charges.list({ customer: c.id })).data, []);

  // the default source is the bank account: it pays by default
  const ch = await stripe.charges.create({ amount: 1500, currency: 'usd', customer: c.id, description: 'ach' });
  assertStripeShape(ch, 'charge');
  assert.match(ch.id, /^py_/);
  assert.equal(ch.status, 'pending');
  assert.equal(ch.balance_transaction, null);
  assert.equal(ch.payment_intent, null);
  assert.equal(ch.payment_method, ba.id);
  assert.equal(ch.payment_method_details.type, 'ach_debit');
  assert.deepEqual(ch.payment_method_details.ach_debit, {
    account_holder_type: null, bank_name: 'STRIPE TEST BANK', country: 'US',
    fingerprint: ba.fingerprint, last4: '6789', routing_number: '110000000',
  });
  assert.equal(ch.source.object, 'bank_account');
  assert.equal(ch.source.id, ba.id);
  assertStripeShape(ch.source, 'bank_account');
  // a bank account is not a PaymentMethod: expanding leaves its id
  assert.equal((await stripe.charges.retrieve(ch.id, { expand: ['payment_method'] })).payment_method, ba.id);
  const done = await settled(ch.id);
  assertStripeShape(done, 'charge');
  assert.equal(done.status, 'succeeded');
  assert.equal(done.paid, true);
  assert.match(done.balance_transaction, /^txn_/);
  const bt = await stripe.balanceTransactions.retrieve(done.balance_transaction);
  assert.equal(bt.amount, 1500);
  assert.equal(bt.source, ch.id);
  // a settled ACH charge refunds as any other
  const re = await stripe.refunds.create({ charge: ch.id, amount: 500 });
  assert.equal(re.amount, 500);
  assert.equal((await stripe.charges.retrieve(ch.id)).amount_refunded, 500);
  assert.deepEqual((await eventsOf('charge.pending', ch.id)).length, 1);
  const okEv = await eventsOf('charge.succeeded', ch.id);
  assert.equal(okEv.length, 1);
  assertStripeShape(okEv[0].data.object, 'charge');

  // a closed account (named as the source beside the default): the bank returns the debit
  const closed = await stripe.customers.createSource(c.id, { source: 'btok_us_verified_accountClosed' });
  await stripe.customers.verifySource(c.id, closed.id, { amounts: [45, 32] });
  const ch2 = await stripe.charges.create({ amount: 2000, currency: 'usd', customer: c.id, source: closed.id });
  assert.equal(ch2.status, 'pending');
  const failed = await settled(ch2.id);
  assertStripeShape(failed, 'charge');
  assert.equal(failed.status, 'failed');
  assert.equal(failed.failure_code, 'account_closed');
  assert.equal(failed.balance_transaction, null);
  assert.equal((await eventsOf('charge.failed', ch2.id)).length, 1);
  assert.equal((await eventsOf('charge.succeeded', ch2.id)).length, 0);
  // the charges still show their bank account once it is deleted
  await stripe.customers.deleteSource(c.id, ba.id);
  assert.equal((await stripe.charges.retrieve(ch.id)).source.id, ba.id);
  await assert.rejects(stripe.charges.create({ amount: 1500, currency: 'usd', customer: c.id, source: ba.id }),
    (e) => e.statusCode === 404 && e.param === 'source');
});

test('customers.create and update take a bank account token as source: the default source, Stripe\'s replace rule', async () => {
  // create: the token's account is the first source and the default, status new
  const tok = await bankToken('000123456789');
  const c = await stripe.customers.create({ email: 'btok-create@example.com', source: tok.id, expand: ['sources'] });
  assertStripeShape(c, 'customer');
  assert.equal(c.default_source, tok.bank_account.id);
  assert.deepEqual(c.sources.data.map((s) => s.id), [tok.bank_account.id]);
  const ba = c.sources.data[0];
  assertStripeShape(ba, 'bank_account');
  assert.equal(ba.object, 'bank_account');
  assert.equal(ba.status, 'new');
  assert.equal(ba.customer, c.id);
  assert.equal(ba.last4, '6789');
  const created = await eventsOf('customer.created', c.id);
  assert.equal(created.length, 1);
  assert.equal(created[0].data.object.default_source, ba.id);
  const srcEv = await eventsOf('customer.source.created', ba.id);
  assert.equal(srcEv.length, 1);
  assertStripeShape(srcEv[0].data.object, 'bank_account');
  // a test token alias makes a new account each time
  const c2 = await stripe.customers.create({ source: 'btok_us_verified', expand: ['default_source'] });
  assert.match(c2.default_source.id, /^ba_/);
  assert.equal(c2.default_source.status, 'new');
  assertStripeShape(c2.default_source, 'bank_account');

  // refusals make no customer and use no token: a used token, an unknown one
  const before = (await stripe.customers.list({ email: 'btok-refused@example.com' })).data;
  assert.deepEqual(before, []);
  await assert.rejects(stripe.customers.create({ email: 'btok-refused@example.com', source: tok.id }),
    (e) => e.statusCode === 400 && e.code === 'token_already_used' && e.param === 'source');
  await assert.rejects(stripe.customers.create({ email: 'btok-refused@example.com', source: 'btok_nope' }),
    (e) => e.statusCode === 404 && e.param === 'source');
  const fresh = await bankToken('000123456789');
  await assert.rejects(stripe.customers.create({ email: 'btok-refused@example.com', source: fresh.id, balance: 'x' }),
    (e) => e.statusCode === 400 && e.param === 'balance');
  assert.deepEqual((await stripe.customers.list({ email: 'btok-refused@example.com' })).data, []);
  // update of a missing customer: 404, the token still unused
  await assert.rejects(stripe.customers.update('cus_doesnotexist', { source: fresh.id }), (e) => e.statusCode === 404);

  // update: the new account becomes the default, the old default (a card here) is deleted
  const withCard = await stripe.customers.create({ source: 'tok_visa' });
  const oldCard = withCard.default_source;
  const keep = await stripe.customers.createSource(withCard.id, { source: 'tok_discover' });
  const u = await stripe.customers.update(withCard.id, { source: fresh.id });
  assertStripeShape(u, 'customer');
  assert.equal(u.default_source, fresh.bank_account.id);
  const ids = (await stripe.customers.listSources(withCard.id)).data.map((s) => s.id);
  assert.deepEqual(ids.sort(), [keep.id, fresh.bank_account.id].sort());
  await assert.rejects(stripe.customers.retrieveSource(withCard.id, oldCard), (e) => e.statusCode === 404);
  assert.equal((await eventsOf('customer.source.deleted', oldCard)).length, 1);
  assert.equal((await eventsOf('customer.source.created', fresh.bank_account.id)).length, 1);
  const upd = (await eventsOf('customer.updated', withCard.id)).find((e) => e.data.object.default_source === fresh.bank_account.id);
  assert.ok(upd);
  assert.equal(upd.data.previous_attributes.default_source, oldCard);
  assertStripeShape(upd.data.object, 'customer');

  // a refused update changes nothing: the used token again
  await assert.rejects(stripe.customers.update(withCard.id, { source: fresh.id, name: 'Nope' }),
    (e) => e.statusCode === 400 && e.code === 'token_already_used');
  const same = await stripe.customers.retrieve(withCard.id);
  assert.equal(same.default_source, fresh.bank_account.id);
  assert.equal(same.name, null);
  assert.deepEqual((await stripe.customers.listSources(withCard.id)).data.map((s) => s.id).sort(), ids.sort());

  // a card source replaces the bank account default the same way
  const back = await stripe.customers.update(withCard.id, { source: 'tok_mastercard' });
  assert.match(back.default_source, /^card_/);
  await assert.rejects(stripe.customers.retrieveSource(withCard.id, fresh.bank_account.id), (e) => e.statusCode === 404);
  const delEv = await eventsOf('customer.source.deleted', fresh.bank_account.id);
  assert.equal(delEv.length, 1);
  assert.equal(delEv[0].data.object.object, 'bank_account');

  // the account named on create pays once verified: the customer's default source
  await stripe.customers.verifySource(c.id, ba.id, { amounts: [32, 45] });
  const ch = await stripe.charges.create({ amount: 700, currency: 'usd', customer: c.id });
  assert.equal(ch.payment_method, ba.id);
  assert.equal(ch.status, 'pending');
  assert.equal((await settled(ch.id)).status, 'succeeded');
});

test('legacy ACH: a debit from the disputing test account is disputed by the bank, lost at once; tender verify', async () => {
  const c = await stripe.customers.create({ source: (await bankToken('000999999991')).id });
  await stripe.customers.verifySource(c.id, c.default_source, { amounts: [32, 45] });
  const ch = await stripe.charges.create({ amount: 2500, currency: 'usd', customer: c.id });
  assert.equal(ch.status, 'pending');
  assert.equal(ch.disputed, false);
  const done = await settled(ch.id);
  assert.equal(done.status, 'succeeded');
  const disputed = await waitFor(async () => {
    const x = await stripe.charges.retrieve(ch.id);
    return x.disputed && x;
  }, `charge ${ch.id} disputed`, 30000);
  assertStripeShape(disputed, 'charge');
  const list = await stripe.disputes.list({ charge: ch.id });
  assert.equal(list.data.length, 1);
  const d = await stripe.disputes.retrieve(list.data[0].id);
  assertStripeShape(d, 'dispute');
  assert.equal(d.charge, ch.id);
  assert.equal(d.amount, 2500);
  assert.equal(d.currency, 'usd');
  assert.equal(d.status, 'lost'); // an ACH return cannot be contested
  // the spec types a dispute's details as a card's only: no brand for a bank debit
  assert.deepEqual(d.payment_method_details, { card: { brand: 'unknown', network_reason_code: null }, type: 'card' });
  assert.equal(d.payment_intent, null);
  assert.equal(d.is_charge_refundable, false);
  assert.equal(d.balance_transactions.length, 1);
  assert.equal(d.balance_transactions[0].amount, -2500);
  assert.equal(d.balance_transactions[0].fee, 1500);
  const types = [];
  for await (const e of stripe.events.list({ limit: 100 })) {
    if (e.data.object.id === d.id) types.unshift(e.type);
  }
  assert.deepEqual(types.filter((t) => t !== 'charge.dispute.updated'),
    ['charge.dispute.created', 'charge.dispute.funds_withdrawn', 'charge.dispute.closed']);
  // it cannot be contested nor closed again
  await assert.rejects(stripe.disputes.close(d.id), (e) => e.statusCode === 400);
  // an ordinary account's debit is not disputed
  const plain = await stripe.customers.create({ source: 'btok_us_verified' });
  await stripe.customers.verifySource(plain.id, plain.default_source, { amounts: [32, 45] });
  const ok = await settled((await stripe.charges.create({ amount: 900, currency: 'usd', customer: plain.id })).id);
  assert.equal(ok.disputed, false);
  assert.deepEqual((await stripe.disputes.list({ charge: ok.id })).data, []);
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

test('no bank account number in clear on disk or in the log', async () => {
  const number = '987654321012';
  const c = await stripe.customers.create({});
  const tok = await bankToken(number);
  const ba = await stripe.customers.createSource(c.id, { source: tok.id });
  await stripe.customers.verifySource(c.id, ba.id, { amounts: [32, 45] });
  const ch = await stripe.charges.create({ amount: 1000, currency: 'usd', customer: c.id });
  assert.equal((await settled(ch.id)).status, 'succeeded');
  await stripe.tokens.create({ bank_account: { country: 'US', currency: 'usd', routing_number: '110000000', account_number: '12' } }).catch(() => {});
  const stored = readStoreFiles(env.dataDir);
  const files = [...stored.map((x) => x.file), env.server.logPath];
  const hay = [...stored.map((x) => x.data), fs.readFileSync(env.server.logPath)];
  for (let i = 0; i < hay.length; i++) {
    assert.ok(!hay[i].includes(number), `the account number found in clear in ${files[i]}`);
    assert.ok(!hay[i].includes(Buffer.from(number, 'utf16le')), `utf16 account number in ${files[i]}`);
  }
});

// ---- the Sources API (src_…): card and 3-D Secure sources ----

const rawCard = (number) => ({ type: 'card', card: { number, exp_month: 12, exp_year: 2034, cvc: '123' } });

test('Sources API: card sources from a token and from a card; retrieve, update, client_secret, errors', async () => {
  const s = await stripe.sources.create({
    type: 'card', token: 'tok_visa', owner: { name: 'Jenny Rosen', email: 'jenny@example.com' },
    metadata: { order: '42' },
  });
  assertStripeShape(s, 'source');
  assert.match(s.id, /^src_[0-9A-Za-z]{24}$/);
  assert.equal(s.object, 'source');
  assert.equal(s.type, 'card');
  assert.equal(s.flow, 'none');
  assert.equal(s.status, 'chargeable');
  assert.equal(s.usage, 'reusable');
  assert.equal(s.amount, null);
  assert.equal(s.customer, undefined); // only while attached
  assert.match(s.client_secret, /^src_client_secret_[0-9A-Za-z]{43}$/);
  assert.equal(s.card.brand, 'Visa');
  assert.equal(s.card.last4, '4242');
  assert.equal(s.card.funding, 'credit');
  assert.equal(s.card.three_d_secure, 'optional');
  assert.equal(s.card.cvc_check, 'unchecked');
  assert.equal(s.card.name, 'Jenny Rosen');
  assert.equal(s.owner.email, 'jenny@example.com');
  assert.equal(s.owner.address, null);
  assert.deepEqual(s.metadata, { order: '42' });
  assert.equal(s.redirect, undefined);
  const ev = await eventsOf('source.chargeable', s.id);
  assert.equal(ev.length, 1);
  assertStripeShape(ev[0].data.object, 'source');
  // the 3-D Secure support Stripe's test cards have, from card numbers
  const req3ds = await stripe.sources.create(rawCard('4000000000003063'));
  assertStripeShape(req3ds, 'source');
  assert.equal(req3ds.card.three_d_secure, 'required');
  assert.equal(req3ds.card.last4, '3063');
  assert.equal(req3ds.card.exp_year, 2034);
  const amex = await stripe.sources.create({ type: 'card', card: { number: '378282246310005', exp_month: 1, exp_year: 2033 } });
  assert.equal(amex.card.three_d_secure, 'not_supported');
  assert.equal(amex.card.brand, 'American Express');
  assert.equal(amex.card.cvc_check, null);
  // retrieve; a publishable key needs the client secret
  assert.deepEqual(await stripe.sources.retrieve(s.id), s);
  const pk = env.stripe(env.merchant.publishable_key);
  const viaPk = await pk.sources.retrieve(s.id, { client_secret: s.client_secret });
  assert.equal(viaPk.id, s.id);
  await assert.rejects(pk.sources.retrieve(s.id, { client_secret: req3ds.client_secret }),
    (e) => e.statusCode === 404 && e.code === 'resource_missing');
  await assert.rejects(pk.sources.retrieve(s.id), (e) => e.statusCode === 400 && e.param === 'client_secret');
  // a publishable key may create one (Stripe.js), as tokens
  const fromPk = await pk.sources.create(rawCard('5555555555554444'));
  assert.equal(fromPk.card.brand, 'MasterCard');
  // update: metadata and owner
  const u = await stripe.sources.update(s.id, { metadata: { order: '', note: 'x' }, owner: { address: { city: 'Paris', country: 'FR' } } });
  assertStripeShape(u, 'source');
  assert.deepEqual(u.metadata, { note: 'x' });
  assert.equal(u.owner.address.city, 'Paris');
  assert.equal(u.owner.name, 'Jenny Rosen');
  assert.equal(u.owner.email, 'jenny@example.com');
  // verify: a card is never verified; no source transactions; no mandate notifications
  await assert.rejects(stripe.sources.verify(s.id, { values: ['32', '45'] }),
    (e) => e.statusCode === 400 && /cannot be verified/.test(e.message));
  const txns = await stripe.sources.listSourceTransactions(s.id);
  assert.deepEqual(txns.data, []);
  assert.equal(txns.has_more, false);
  assert.equal(txns.url, `/v1/sources/${s.id}/source_transactions`);
  const mn = await env.request({ path: `/v1/sources/${s.id}/mandate_notifications/mn_123`, key: env.merchant.secret_key });
  assert.equal(mn.status, 404);
  assert.equal(mn.json.error.code, 'resource_missing');
  // Stripe-shaped 400s, nothing made
  const bad = async (params, check) => assert.rejects(stripe.sources.create(params), check);
  await bad({ type: 'bitcoin' }, (e) => e.statusCode === 400 && e.param === 'type');
  await bad({ type: 'sofort', amount: 1000, currency: 'eur' }, (e) => e.code === 'payment_method_unactivated' && e.param === 'type');
  await bad({ token: 'tok_visa' }, (e) => e.code === 'parameter_missing' && e.param === 'type');
  await bad({ type: 'card' }, (e) => e.code === 'parameter_missing' && e.param === 'card');
  await bad({ type: 'card', token: 'tok_visa', colour: 'red' }, (e) => e.code === 'parameter_unknown' && e.param === 'colour');
  await bad({ type: 'card', token: 'tok_nope' }, (e) => e.statusCode === 404 && e.param === 'token');
  await bad({ ...rawCard('4242424242424241') }, (e) => e.code === 'incorrect_number');
  await bad({ type: 'card', token: 'tok_visa', redirect: { return_url: 'https://x.test' } }, (e) => e.param === 'redirect');
  await bad({ type: 'three_d_secure', amount: 100, currency: 'usd', redirect: { return_url: 'https://x.test' } },
    (e) => e.code === 'parameter_missing' && e.param === 'three_d_secure[card]');
  // another merchant sees none of it
  const other = env.stripe(env.merchants[1].secret_key);
  await assert.rejects(other.sources.retrieve(s.id), (e) => e.statusCode === 404 && e.code === 'resource_missing');
  await assert.rejects(other.sources.update(s.id, { metadata: { a: 'b' } }), (e) => e.statusCode === 404);
  await assert.rejects(other.charges.create({ amount: 500, currency: 'usd', source: s.id }), (e) => e.statusCode === 404);
  // an Idempotency-Key replays the source
  const key = `src-${Date.now()}-${Math.random()}`;
  const i1 = await stripe.sources.create({ type: 'card', token: 'tok_mastercard' }, { idempotencyKey: key });
  const i2 = await stripe.sources.create({ type: 'card', token: 'tok_mastercard' }, { idempotencyKey: key });
  assert.deepEqual(i1, i2);
  await assert.rejects(stripe.sources.create({ type: 'card', token: 'tok_amex' }, { idempotencyKey: key }),
    (e) => e.type === 'StripeIdempotencyError');
});

test('Sources API: a card source pays a charge; unattached it is consumed; declines decline', async () => {
  const s = await stripe.sources.create(rawCard('4242424242424242'));
  const ch = await stripe.charges.create({ amount: 2500, currency: 'usd', source: s.id, description: 'src' });
  assertStripeShape(ch, 'charge');
  assert.equal(ch.status, 'succeeded');
  assert.equal(ch.payment_method, s.id);
  assert.equal(ch.source.object, 'source');
  assert.equal(ch.source.id, s.id);
  assert.equal(ch.source.status, 'consumed');
  assertStripeShape(ch.source, 'source');
  assert.equal(ch.payment_method_details.type, 'card');
  assert.equal(ch.payment_method_details.card.last4, '4242');
  assert.equal(ch.payment_method_details.card.brand, 'visa');
  assert.ok(ch.balance_transaction);
  const bt = await stripe.balanceTransactions.retrieve(ch.balance_transaction);
  assert.equal(bt.amount, 2500);
  assert.ok(bt.fee > 0);
  assert.equal((await stripe.sources.retrieve(s.id)).status, 'consumed');
  await assert.rejects(stripe.charges.create({ amount: 100, currency: 'usd', source: s.id }),
    (e) => e.statusCode === 400 && e.param === 'source' && /chargeable/.test(e.message));
  // a refund works as for any charge
  const re = await stripe.refunds.create({ charge: ch.id, amount: 500 });
  assert.equal(re.status, 'succeeded');
  // declining cards decline as tokens do; the source is left chargeable
  const d = await stripe.sources.create({ type: 'card', token: 'tok_chargeDeclinedInsufficientFunds' });
  const err = await stripe.charges.create({ amount: 900, currency: 'usd', source: d.id }).then(() => null, (e) => e);
  assert.equal(err.statusCode, 402);
  assert.equal(err.code, 'card_declined');
  assert.equal(err.decline_code, 'insufficient_funds');
  const failed = await stripe.charges.retrieve(err.raw.charge);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.source.id, d.id);
  assert.equal((await stripe.sources.retrieve(d.id)).status, 'chargeable');
  // a card that requires 3-D Secure cannot be charged directly (authenticate it first)
  const r3 = await stripe.sources.create(rawCard('4000000000003063'));
  await assert.rejects(stripe.charges.create({ amount: 900, currency: 'usd', source: r3.id }),
    (e) => e.code === 'authentication_required');
  // a single_use card source pays once even attached nowhere
  const once = await stripe.sources.create({ type: 'card', token: 'tok_visa', usage: 'single_use' });
  assert.equal(once.usage, 'single_use');
  await stripe.charges.create({ amount: 800, currency: 'usd', source: once.id });
  assert.equal((await stripe.sources.retrieve(once.id)).status, 'consumed');
});

test('Sources API: attached to a customer it is its default source and pays again; detached it is consumed', async () => {
  const c = await stripe.customers.create({ email: 'srcapi@example.com' });
  const s = await stripe.sources.create({ type: 'card', token: 'tok_visa' });
  const a = await stripe.customers.createSource(c.id, { source: s.id });
  assertStripeShape(a, 'source');
  assert.equal(a.object, 'source');
  assert.equal(a.customer, c.id);
  assert.equal((await stripe.sources.retrieve(s.id)).customer, c.id);
  const created = await eventsOf('customer.source.created', s.id);
  assert.equal(created.length, 1);
  assert.equal(created[0].data.object.object, 'source');
  const x = await stripe.customers.retrieve(c.id, { expand: ['default_source', 'sources'] });
  assertStripeShape(x, 'customer');
  assert.equal(x.default_source.id, s.id);
  assert.equal(x.default_source.object, 'source');
  assert.deepEqual(x.sources.data.map((o) => o.id), [s.id]);
  // beside a card of the Cards API, newest first; object filters
  const card = await stripe.customers.createSource(c.id, { source: 'tok_mastercard' });
  const all = await stripe.customers.listSources(c.id);
  assert.deepEqual(all.data.map((o) => o.id), [card.id, s.id]);
  assert.deepEqual((await stripe.customers.listSources(c.id, { object: 'source' })).data.map((o) => o.id), [s.id]);
  assert.deepEqual((await stripe.customers.listSources(c.id, { object: 'card' })).data.map((o) => o.id), [card.id]);
  assert.equal((await stripe.customers.retrieveSource(c.id, s.id)).object, 'source');
  // charges of the customer: its default source, then named; the source stays chargeable
  const c1 = await stripe.charges.create({ amount: 1500, currency: 'usd', customer: c.id });
  assert.equal(c1.payment_method, s.id);
  assert.equal(c1.source.object, 'source');
  assert.equal(c1.customer, c.id);
  const c2 = await stripe.charges.create({ amount: 1600, currency: 'usd', customer: c.id, source: s.id });
  assert.equal(c2.status, 'succeeded');
  assert.equal((await stripe.sources.retrieve(s.id)).status, 'chargeable');
  await assert.rejects(stripe.charges.create({ amount: 1600, currency: 'usd', source: s.id }),
    (e) => e.statusCode === 400 && e.param === 'source' && e.message.includes(c.id));
  // a source of another customer is not this one's
  const c3 = await stripe.customers.create({});
  await assert.rejects(stripe.charges.create({ amount: 1600, currency: 'usd', customer: c3.id, source: s.id }),
    (e) => e.statusCode === 404 && e.param === 'source');
  await assert.rejects(stripe.customers.createSource(c3.id, { source: s.id }), (e) => e.statusCode === 400 && e.param === 'source');
  // a single_use source is never attached
  const once = await stripe.sources.create({ type: 'card', token: 'tok_visa', usage: 'single_use' });
  await assert.rejects(stripe.customers.createSource(c.id, { source: once.id }), (e) => e.statusCode === 400 && e.param === 'source');
  // detach: consumed, no longer listed nor the default, can no longer pay
  const d = await stripe.customers.deleteSource(c.id, s.id);
  assertStripeShape(d, 'source');
  assert.equal(d.status, 'consumed');
  assert.equal(d.customer, undefined);
  const deleted = await eventsOf('customer.source.deleted', s.id);
  assert.equal(deleted.length, 1);
  assert.equal(deleted[0].data.object.status, 'consumed');
  const after = await stripe.customers.retrieve(c.id);
  assert.equal(after.default_source, card.id);
  assert.deepEqual((await stripe.customers.listSources(c.id)).data.map((o) => o.id), [card.id]);
  await assert.rejects(stripe.charges.create({ amount: 100, currency: 'usd', customer: c.id, source: s.id }),
    (e) => e.statusCode === 404);
  await assert.rejects(stripe.customers.createSource(c.id, { source: s.id }), (e) => e.statusCode === 400);
  // deleting a customer detaches its sources: consumed
  const gone = await stripe.sources.create({ type: 'card', token: 'tok_visa' });
  await stripe.customers.createSource(c3.id, { source: gone.id });
  await stripe.customers.del(c3.id);
  const g = await stripe.sources.retrieve(gone.id);
  assert.equal(g.status, 'consumed');
  assert.equal(g.customer, undefined);
  assert.equal((await eventsOf('customer.source.deleted', gone.id)).length, 1);
  // another merchant cannot attach it
  const other = env.stripe(env.merchants[1].secret_key);
  const oc = await other.customers.create({});
  const fresh = await stripe.sources.create({ type: 'card', token: 'tok_visa' });
  await assert.rejects(other.customers.createSource(oc.id, { source: fresh.id }), (e) => e.statusCode === 404);
  await assert.rejects(other.customers.create({ source: fresh.id }), (e) => e.statusCode === 404 && e.param === 'source');
  // a customer made with source=src_…: its first source and default, attached in the create's
  // write; an update's source becomes the default and the old default is deleted (consumed)
  const made = await stripe.customers.create({ email: 'srcnew@example.com', source: fresh.id });
  assertStripeShape(made, 'customer');
  assert.equal(made.default_source, fresh.id);
  assert.equal((await stripe.sources.retrieve(fresh.id)).customer, made.id);
  assert.equal((await eventsOf('customer.source.created', fresh.id)).length, 1);
  const next = await stripe.sources.create({ type: 'card', token: 'tok_mastercard' });
  const upd = await stripe.customers.update(made.id, { source: next.id });
  assert.equal(upd.default_source, next.id);
  assert.equal((await stripe.sources.retrieve(fresh.id)).status, 'consumed');
  assert.deepEqual((await stripe.customers.listSources(made.id)).data.map((o) => o.id), [next.id]);
  // the same source again changes nothing; a consumed one is refused and changes nothing
  assert.equal((await stripe.customers.update(made.id, { source: next.id })).default_source, next.id);
  assert.equal((await stripe.sources.retrieve(next.id)).status, 'chargeable');
  await assert.rejects(stripe.customers.update(made.id, { source: fresh.id }), (e) => e.statusCode === 400 && e.param === 'source');
  await assert.rejects(stripe.customers.create({ source: fresh.id }), (e) => e.statusCode === 400 && e.param === 'source');
  assert.equal((await stripe.customers.retrieve(made.id)).default_source, next.id);
  const paid = await stripe.charges.create({ amount: 700, currency: 'usd', customer: made.id });
  assert.equal(paid.payment_method, next.id);
});

test('Sources API: a 3-D Secure source authenticated (or not) on Tender\'s test page in Chromium, then charged', async () => {
  const shop = await startShop();
  const browser = await launchChromium();
  try {
    const ret = `http://127.0.0.1:${shop.address().port}/return?order=7`;
    const card = await stripe.sources.create({ ...rawCard('4000000000003063'), owner: { name: 'Jenny Rosen' } });
    const tds = await stripe.sources.create({
      type: 'three_d_secure', amount: 4500, currency: 'eur',
      three_d_secure: { card: card.id }, redirect: { return_url: ret },
    });
    assertStripeShape(tds, 'source');
    assert.equal(tds.type, 'three_d_secure');
    assert.equal(tds.flow, 'redirect');
    assert.equal(tds.status, 'pending');
    assert.equal(tds.usage, 'single_use');
    assert.equal(tds.amount, 4500);
    assert.equal(tds.currency, 'eur');
    assert.equal(tds.three_d_secure.card, card.id);
    assert.equal(tds.three_d_secure.authenticated, false);
    assert.equal(tds.three_d_secure.three_d_secure, 'required');
    assert.equal(tds.three_d_secure.last4, '3063');
    assert.equal(tds.owner.name, 'Jenny Rosen');
    assert.equal(tds.redirect.status, 'pending');
    assert.equal(tds.redirect.return_url, ret);
    assert.match(tds.redirect.url, /^http:\/\/127\.0\.0\.1:\d+\/source-redirect\//);
    // pending: it cannot pay yet
    await assert.rejects(stripe.charges.create({ amount: 4500, currency: 'eur', source: tds.id }),
      (e) => e.statusCode === 400 && e.param === 'source');
    const page = await browser.newPage();
    const resp = await page.goto(tds.redirect.url);
    assert.match(resp.headers()['content-security-policy'], /default-src 'none'/);
    assert.match(await page.textContent('main'), /45\.00 EUR/);
    assert.match(await page.textContent('main'), /ending in 3063/);
    await Promise.all([page.waitForURL(/\/return\?/), page.getByRole('button', { name: 'Complete authentication' }).click()]);
    const back = new URL(page.url());
    assert.equal(back.searchParams.get('order'), '7');
    assert.equal(back.searchParams.get('source'), tds.id);
    assert.equal(back.searchParams.get('client_secret'), tds.client_secret);
    assert.equal(back.searchParams.get('livemode'), 'false');
    await page.close();
    const done = await stripe.sources.retrieve(tds.id);
    assert.equal(done.status, 'chargeable');
    assert.equal(done.redirect.status, 'succeeded');
    assert.equal(done.three_d_secure.authenticated, true);
    const chargeable = await eventsOf('source.chargeable', tds.id);
    assert.equal(chargeable.length, 1);
    assertStripeShape(chargeable[0].data.object, 'source');
    // the link is spent
    const again = await env.request({ path: new URL(tds.redirect.url).pathname });
    assert.equal(again.status, 404);
    // the charge: the authenticated amount only, then the card pays, liability shifted
    await assert.rejects(stripe.charges.create({ amount: 4000, currency: 'eur', source: tds.id }),
      (e) => e.statusCode === 400 && e.param === 'amount');
    const ch = await stripe.charges.create({ amount: 4500, currency: 'eur', source: tds.id });
    assertStripeShape(ch, 'charge');
    assert.equal(ch.status, 'succeeded');
    assert.equal(ch.payment_method, tds.id);
    assert.equal(ch.source.id, tds.id);
    assert.equal(ch.source.type, 'three_d_secure');
    assert.equal(ch.source.status, 'consumed');
    assert.equal(ch.payment_method_details.card.last4, '3063');
    assert.equal(ch.payment_method_details.card.three_d_secure.result, 'authenticated');
    await assert.rejects(stripe.charges.create({ amount: 4500, currency: 'eur', source: tds.id }), (e) => e.statusCode === 400);
    // the card source itself is still chargeable (reusable)
    assert.equal((await stripe.sources.retrieve(card.id)).status, 'chargeable');
    // failing the authentication fails the source
    const tds2 = await stripe.sources.create({
      type: 'three_d_secure', amount: 1200, currency: 'usd',
      three_d_secure: { card: card.id }, redirect: { return_url: ret },
    });
    const p2 = await browser.newPage();
    await p2.goto(tds2.redirect.url);
    await Promise.all([p2.waitForURL(/\/return\?/), p2.getByRole('button', { name: 'Fail authentication' }).click()]);
    assert.equal(new URL(p2.url()).searchParams.get('source'), tds2.id);
    await p2.close();
    const f = await stripe.sources.retrieve(tds2.id);
    assert.equal(f.status, 'failed');
    assert.equal(f.redirect.status, 'failed');
    assert.equal(f.three_d_secure.authenticated, false);
    assert.equal((await eventsOf('source.failed', tds2.id)).length, 1);
    await assert.rejects(stripe.charges.create({ amount: 1200, currency: 'usd', source: tds2.id }), (e) => e.statusCode === 400);
    // a wrong secret in the link is a 404 page
    const wrong = await env.request({ path: new URL(tds2.redirect.url).pathname.replace(/[0-9A-Za-z]{43}$/, 'A'.repeat(43)) });
    assert.equal(wrong.status, 404);
    // a card of a customer is authenticated for that customer
    const cus = await stripe.customers.create({});
    await stripe.customers.createSource(cus.id, { source: card.id });
    await assert.rejects(stripe.sources.create({
      type: 'three_d_secure', amount: 1200, currency: 'usd', three_d_secure: { card: card.id }, redirect: { return_url: ret },
    }), (e) => e.statusCode === 400 && e.param === 'three_d_secure[customer]');
    const tds3 = await stripe.sources.create({
      type: 'three_d_secure', amount: 1200, currency: 'usd',
      three_d_secure: { card: card.id, customer: cus.id }, redirect: { return_url: ret },
    });
    assert.equal(tds3.three_d_secure.customer, cus.id);
    // an American Express card does not support it: failed at once
    const amex = await stripe.sources.create({ type: 'card', token: 'tok_amex' });
    const na = await stripe.sources.create({
      type: 'three_d_secure', amount: 1200, currency: 'usd', three_d_secure: { card: amex.id }, redirect: { return_url: ret },
    });
    assert.equal(na.status, 'failed');
  } finally {
    await browser.close();
    shop.close();
  }
});

test('Sources API: a card source pays a PaymentIntent (source=src_…), 3-D Secure included', async () => {
  const c = await stripe.customers.create({});
  const s = await stripe.sources.create({ type: 'card', token: 'tok_visa' });
  await stripe.customers.createSource(c.id, { source: s.id });
  const pi = await stripe.paymentIntents.create({ amount: 3100, currency: 'usd', customer: c.id, source: s.id, confirm: true });
  assertStripeShape(pi, 'payment_intent');
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.source, s.id);
  assert.equal(pi.payment_method, s.id);
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(ch.payment_method, s.id);
  assert.equal(ch.payment_method_details.card.last4, '4242');
  // attached and reusable: it pays again
  const pi2 = await stripe.paymentIntents.create({ amount: 3200, currency: 'usd', customer: c.id, source: s.id, confirm: true });
  assert.equal(pi2.status, 'succeeded');
  assert.equal((await stripe.sources.retrieve(s.id)).status, 'chargeable');
  // without the customer it is attached to: refused
  await assert.rejects(stripe.paymentIntents.create({ amount: 3200, currency: 'usd', source: s.id, confirm: true }),
    (e) => e.statusCode === 400 && e.param === 'source');
  await assert.rejects(stripe.paymentIntents.create({ amount: 3200, currency: 'usd', source: s.id, payment_method: 'pm_card_visa' }),
    (e) => e.statusCode === 400 && e.param === 'source');
  // unattached: consumed by its payment
  const u = await stripe.sources.create({ type: 'card', token: 'tok_visa' });
  const pi3 = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', source: u.id, confirm: true });
  assert.equal(pi3.status, 'succeeded');
  assert.equal((await stripe.sources.retrieve(u.id)).status, 'consumed');
  // a card that asks for 3-D Secure: the intent's own challenge, then it pays (and is consumed)
  const r3 = await stripe.sources.create(rawCard('4000000000003063'));
  const pi4 = await stripe.paymentIntents.create({
    amount: 2000, currency: 'usd', source: r3.id, confirm: true, return_url: 'https://shop.example/back',
  });
  assert.equal(pi4.status, 'requires_action');
  assert.equal((await stripe.sources.retrieve(r3.id)).status, 'chargeable');
  const url = new URL(pi4.next_action.redirect_to_url.url);
  const done = await env.request({ method: 'POST', path: `${url.pathname}/complete`, body: '' });
  assert.equal(done.status, 303);
  const paid = await stripe.paymentIntents.retrieve(pi4.id);
  assert.equal(paid.status, 'succeeded');
  assert.equal(paid.source, r3.id);
  assert.equal((await stripe.sources.retrieve(r3.id)).status, 'consumed');
  // a 3-D Secure source is not a PaymentIntent's
  const tds = await stripe.sources.create({
    type: 'three_d_secure', amount: 2000, currency: 'usd', three_d_secure: { card: s.id, customer: c.id },
    redirect: { return_url: 'https://shop.example/back' },
  });
  await assert.rejects(stripe.paymentIntents.create({ amount: 2000, currency: 'usd', customer: c.id, source: tds.id, confirm: true }),
    (e) => e.statusCode === 400 && e.param === 'source');
});
