'use strict';
// Stripe Issuing through stripe-node: cardholders (individual and company, requirements,
// spending controls, updates and their events), cards (virtual and physical, activation,
// cancellation, replacement, the number and CVC shown only when expanded on a retrieve and never
// in clear in the store or the log), the shipping test helpers, lists and their filters,
// the Issuing balance funded by top-ups (destination_balance=issuing) apart from the payments
// balance, Stripe's shapes, refused input that changes nothing, another merchant's 404 and
// tender verify.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { BIN, startTender, stopAll, assertStripeShape, tender, readStoreFiles, withDatabaseUrls, waitFor } = require('./helpers');
const { execFileSync } = require('node:child_process');

let env;
let stripe;
const revealed = []; // every number an answer showed: none may be in clear in the store or log

before(async () => {
  env = await startTender({ merchants: 2, args: ['--rate-limit', '0'] });
  stripe = env.stripe();
});
after(stopAll);

const address = { line1: '1 Main St', city: 'San Francisco', state: 'CA', postal_code: '94111', country: 'US' };

async function eventsOf(s, id) {
  const all = await s.events.list({ limit: 100 });
  return all.data.filter((e) => e.data.object.id === id).reverse();
}

function luhn(n) {
  let sum = 0;
  for (let i = 0; i < n.length; i++) {
    let d = Number(n[n.length - 1 - i]);
    if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return sum % 10 === 0;
}

async function activeHolder(extra = {}) {
  return stripe.issuing.cardholders.create({
    name: 'Jenny Rosen', email: 'jenny@example.com', type: 'individual', billing: { address },
    individual: {
      first_name: 'Jenny', last_name: 'Rosen', dob: { day: 1, month: 2, year: 1990 },
      card_issuing: { user_terms_acceptance: { date: Math.floor(Date.now() / 1000), ip: '127.0.0.1' } },
    },
    ...extra,
  });
}

test('cardholders: created with requirements, updated with an event, listed and filtered', async () => {
  const bare = await stripe.issuing.cardholders.create({ name: 'No Terms', billing: { address } });
  assert.match(bare.id, /^ich_/);
  assert.equal(bare.object, 'issuing.cardholder');
  assert.equal(bare.type, 'individual');
  assert.equal(bare.status, 'active');
  assert.equal(bare.requirements.disabled_reason, 'requirements.past_due');
  assert.deepEqual(bare.requirements.past_due, ['individual.first_name', 'individual.last_name',
    'individual.card_issuing.user_terms_acceptance.date', 'individual.card_issuing.user_terms_acceptance.ip']);
  assertStripeShape(bare, 'issuing.cardholder');

  const ch = await activeHolder({
    metadata: { team: 'ops' }, preferred_locales: ['en'],
    spending_controls: { blocked_categories: ['betting_casino_gambling'], spending_limits: [{ amount: 5000, interval: 'daily' }] },
  });
  assert.equal(ch.requirements.disabled_reason, null);
  assert.deepEqual(ch.requirements.past_due, []);
  assert.deepEqual(ch.billing.address, { ...address, line2: null });
  assert.equal(ch.individual.first_name, 'Jenny');
  assert.deepEqual(ch.individual.dob, { day: 1, month: 2, year: 1990 });
  assert.deepEqual(ch.spending_controls, {
    allowed_categories: null, blocked_categories: ['betting_casino_gambling'],
    spending_limits: [{ amount: 5000, categories: null, interval: 'daily' }], spending_limits_currency: 'usd',
  });
  assert.deepEqual(ch.preferred_locales, ['en']);
  assertStripeShape(ch, 'issuing.cardholder');

  const company = await stripe.issuing.cardholders.create({
    name: 'Acme Corp', type: 'company', billing: { address }, company: { tax_id: '000000000' },
  });
  assert.deepEqual(company.company, { tax_id_provided: true });
  assert.equal(company.individual, null);
  assert.deepEqual(company.requirements.past_due, []);
  assertStripeShape(company, 'issuing.cardholder');

  const up = await stripe.issuing.cardholders.update(bare.id, {
    status: 'inactive', phone_number: '+15555550100',
    individual: { first_name: 'A', last_name: 'B', card_issuing: { user_terms_acceptance: { date: 1700000000, ip: '10.0.0.1' } } },
  });
  assert.equal(up.status, 'inactive');
  assert.equal(up.phone_number, '+15555550100');
  assert.equal(up.requirements.disabled_reason, null);
  const evs = await eventsOf(stripe, bare.id);
  assert.deepEqual(evs.map((e) => e.type), ['issuing_cardholder.created', 'issuing_cardholder.updated']);
  assert.equal(evs[1].data.previous_attributes.status, 'active');
  assert.equal(evs[1].data.previous_attributes.phone_number, null);

  const got = await stripe.issuing.cardholders.retrieve(ch.id);
  assert.deepEqual(got, ch);
  const companies = await stripe.issuing.cardholders.list({ type: 'company' });
  assert.deepEqual(companies.data.map((c) => c.id), [company.id]);
  const inactive = await stripe.issuing.cardholders.list({ status: 'inactive' });
  assert.deepEqual(inactive.data.map((c) => c.id), [bare.id]);
  const byEmail = await stripe.issuing.cardholders.list({ email: 'jenny@example.com' });
  assert.deepEqual(byEmail.data.map((c) => c.id), [ch.id]);
});

test('cardholders and cards refuse bad input with Stripe-shaped 400s and change nothing', async () => {
  const before = (await stripe.issuing.cardholders.list({ limit: 100 })).data.length;
  const bad = [
    [{ billing: { address } }, 'parameter_missing', 'name'],
    [{ name: 'X' }, 'parameter_missing', 'billing'],
    [{ name: 'X', billing: { address: { ...address, city: undefined } } }, 'parameter_missing', 'billing[address][city]'],
    [{ name: 'X', billing: { address }, spending_controls: { allowed_categories: ['not_a_category'] } }, undefined, 'spending_controls[allowed_categories]'],
    [{ name: 'X', billing: { address }, spending_controls: { allowed_categories: ['bakeries'], blocked_categories: ['betting_casino_gambling'] } }, undefined, 'spending_controls[blocked_categories]'],
    [{ name: 'X', billing: { address }, spending_controls: { spending_limits: [{ amount: 10 }] } }, 'parameter_missing', 'spending_controls[spending_limits][0][interval]'],
    [{ name: 'X', billing: { address }, type: 'company', individual: { first_name: 'A' } }, undefined, 'individual'],
    [{ name: 'X', billing: { address }, status: 'blocked' }, undefined, 'status'],
    [{ name: 'X', billing: { address }, nickname: 'x' }, 'parameter_unknown', 'nickname'],
  ];
  for (const [params, code, param] of bad) {
    await assert.rejects(stripe.issuing.cardholders.create(params), (e) => {
      assert.equal(e.statusCode, 400, JSON.stringify(params));
      assert.equal(e.type, 'StripeInvalidRequestError');
      if (code) assert.equal(e.code, code);
      assert.equal(e.param, param);
      return true;
    });
  }
  assert.equal((await stripe.issuing.cardholders.list({ limit: 100 })).data.length, before);

  const ch = await activeHolder();
  const cardsBefore = (await stripe.issuing.cards.list({ limit: 100 })).data.length;
  const badCards = [
    [{ cardholder: ch.id, currency: 'usd' }, 400, 'type'],
    [{ cardholder: ch.id, type: 'virtual', currency: 'eur' }, 400, 'currency'],
    [{ type: 'virtual', currency: 'usd' }, 400, 'cardholder'],
    [{ cardholder: 'ich_missing', type: 'virtual', currency: 'usd' }, 404, 'cardholder'],
    [{ cardholder: ch.id, type: 'virtual', currency: 'usd', shipping: { name: 'J', address } }, 400, 'shipping'],
    [{ cardholder: ch.id, type: 'virtual', currency: 'usd', status: 'canceled' }, 400, 'status'],
  ];
  for (const [params, status, param] of badCards) {
    await assert.rejects(stripe.issuing.cards.create(params), (e) => {
      assert.equal(e.statusCode, status, JSON.stringify(params));
      assert.equal(e.param, param);
      return true;
    });
  }
  assert.equal((await stripe.issuing.cards.list({ limit: 100 })).data.length, cardsBefore);
});

test('a virtual card: made inactive, activated, its number and CVC only when expanded, canceled for good', async () => {
  const ch = await activeHolder();
  const card = await stripe.issuing.cards.create({
    cardholder: ch.id, type: 'virtual', currency: 'usd', metadata: { k: 'v' },
    spending_controls: { allowed_categories: ['bakeries', 'eating_places_restaurants'], spending_limits: [{ amount: 2000, interval: 'per_authorization', categories: ['bakeries'] }] },
  });
  assert.match(card.id, /^ic_/);
  assert.equal(card.object, 'issuing.card');
  assert.equal(card.status, 'inactive');
  assert.equal(card.brand, 'Visa');
  assert.equal(card.currency, 'usd');
  assert.equal(card.type, 'virtual');
  assert.match(card.last4, /^\d{4}$/);
  assert.ok(card.exp_year >= new Date().getUTCFullYear() + 2);
  assert.ok(card.exp_month >= 1 && card.exp_month <= 12);
  assert.equal(card.cardholder.id, ch.id);
  assert.equal(card.shipping, null);
  assert.equal(card.number, undefined);
  assert.equal(card.cvc, undefined);
  assert.deepEqual(card.spending_controls.allowed_categories, ['bakeries', 'eating_places_restaurants']);
  assert.deepEqual(card.spending_controls.spending_limits, [{ amount: 2000, categories: ['bakeries'], interval: 'per_authorization' }]);
  assertStripeShape(card, 'issuing.card');

  const plain = await stripe.issuing.cards.retrieve(card.id);
  assert.equal(plain.number, undefined);
  const full = await stripe.issuing.cards.retrieve(card.id, { expand: ['number', 'cvc'] });
  assert.match(full.number, /^4000009999\d{6}$/);
  assert.ok(luhn(full.number), 'the number passes the Luhn check');
  assert.equal(full.number.slice(-4), card.last4);
  assert.match(full.cvc, /^\d{3}$/);
  assertStripeShape(full, 'issuing.card');
  revealed.push(full.number);
  const again = await stripe.issuing.cards.retrieve(card.id, { expand: ['number', 'cvc'] });
  assert.equal(again.number, full.number);
  assert.equal(again.cvc, full.cvc);
  // a list never carries them
  const listed = await stripe.issuing.cards.list({ cardholder: ch.id, expand: ['data.number'] }).catch(() => null);
  if (listed) assert.equal(listed.data[0].number, undefined);

  const active = await stripe.issuing.cards.update(card.id, { status: 'active', metadata: { k: '' } });
  assert.equal(active.status, 'active');
  assert.deepEqual(active.metadata, {});
  await assert.rejects(stripe.issuing.cards.update(card.id, { status: 'inactive', cancellation_reason: 'lost' }), (e) => e.statusCode === 400 && e.param === 'cancellation_reason');
  const canceled = await stripe.issuing.cards.update(card.id, { status: 'canceled', cancellation_reason: 'stolen' });
  assert.equal(canceled.status, 'canceled');
  assert.equal(canceled.cancellation_reason, 'stolen');
  await assert.rejects(stripe.issuing.cards.update(card.id, { status: 'active' }), (e) => e.statusCode === 400 && e.param === 'status');
  assert.equal((await stripe.issuing.cards.retrieve(card.id)).status, 'canceled');
  const evs = await eventsOf(stripe, card.id);
  assert.deepEqual(evs.map((e) => e.type), ['issuing_card.created', 'issuing_card.updated', 'issuing_card.updated']);
  assert.equal(evs[1].data.previous_attributes.status, 'inactive');
  assert.equal(evs[2].data.previous_attributes.status, 'active');
  assert.equal(evs[2].data.previous_attributes.cancellation_reason, null);
  for (const e of evs) assert.equal(e.data.object.number, undefined);

  // two cards of one cardholder have different numbers
  const other = await stripe.issuing.cards.create({ cardholder: ch.id, type: 'virtual', currency: 'usd' });
  const otherFull = await stripe.issuing.cards.retrieve(other.id, { expand: ['number'] });
  assert.notEqual(otherFull.number, full.number);
  revealed.push(otherFull.number);
  const byHolder = await stripe.issuing.cards.list({ cardholder: ch.id });
  assert.deepEqual(byHolder.data.map((c) => c.id), [other.id, card.id]);
  const canceledList = await stripe.issuing.cards.list({ cardholder: ch.id, status: 'canceled' });
  assert.deepEqual(canceledList.data.map((c) => c.id), [card.id]);
  const byLast4 = await stripe.issuing.cards.list({ last4: other.last4, cardholder: ch.id });
  assert.ok(byLast4.data.some((c) => c.id === other.id));
});

test('a physical card ships to the cardholder, moves through the shipping test helpers, is replaced when lost', async () => {
  const ch = await activeHolder();
  const card = await stripe.issuing.cards.create({ cardholder: ch.id, type: 'physical', currency: 'usd' });
  assert.equal(card.shipping.status, 'pending');
  assert.deepEqual(card.shipping.address, { ...address, line2: null });
  assert.equal(card.shipping.name, 'Jenny Rosen');
  assert.equal(card.shipping.service, 'standard');
  assert.equal(card.shipping.type, 'individual');
  assertStripeShape(card, 'issuing.card');
  // a physical card's number is not shown, even when asked for
  assert.equal((await stripe.issuing.cards.retrieve(card.id, { expand: ['number'] })).number, undefined);

  await assert.rejects(stripe.testHelpers.issuing.cards.returnCard ? stripe.testHelpers.issuing.cards.returnCard('ic_missing') : stripe.testHelpers.issuing.cards.shipCard('ic_missing'), (e) => e.statusCode === 404);
  const shipped = await stripe.testHelpers.issuing.cards.shipCard(card.id);
  assert.equal(shipped.shipping.status, 'shipped');
  assert.equal(shipped.shipping.carrier, 'usps');
  assert.ok(shipped.shipping.tracking_number);
  assert.ok(shipped.shipping.eta > card.created);
  await assert.rejects(stripe.testHelpers.issuing.cards.shipCard(card.id), (e) => e.statusCode === 400);
  const delivered = await stripe.testHelpers.issuing.cards.deliverCard(card.id);
  assert.equal(delivered.shipping.status, 'delivered');
  assertStripeShape(delivered, 'issuing.card');
  const evs = await eventsOf(stripe, card.id);
  assert.deepEqual(evs.map((e) => e.type), ['issuing_card.created', 'issuing_card.updated', 'issuing_card.updated']);
  assert.equal(evs[2].data.previous_attributes.shipping.status, 'shipped');

  const other = await stripe.issuing.cards.create({
    cardholder: ch.id, type: 'physical', currency: 'usd',
    shipping: { name: 'Office', address: { ...address, line1: '2 Market St' }, service: 'express', require_signature: true },
  });
  assert.equal(other.shipping.name, 'Office');
  assert.equal(other.shipping.address.line1, '2 Market St');
  assert.equal(other.shipping.require_signature, true);
  assert.equal((await stripe.testHelpers.issuing.cards.failCard(other.id)).shipping.status, 'failure');
  await assert.rejects(stripe.testHelpers.issuing.cards.deliverCard(other.id), (e) => e.statusCode === 400);
  const virt = await stripe.issuing.cards.create({ cardholder: ch.id, type: 'virtual', currency: 'usd' });
  await assert.rejects(stripe.testHelpers.issuing.cards.shipCard(virt.id), (e) => e.statusCode === 400);

  // the delivered card is lost: its replacement cancels it
  const repl = await stripe.issuing.cards.create({ cardholder: ch.id, type: 'virtual', currency: 'usd', replacement_for: card.id, replacement_reason: 'lost' });
  assert.equal(repl.replacement_for, card.id);
  assert.equal(repl.replacement_reason, 'lost');
  const old = await stripe.issuing.cards.retrieve(card.id);
  assert.equal(old.status, 'canceled');
  assert.equal(old.cancellation_reason, 'lost');
  assert.equal(old.replaced_by, repl.id);
  await assert.rejects(stripe.issuing.cards.create({ cardholder: ch.id, type: 'virtual', currency: 'usd', replacement_for: card.id, replacement_reason: 'damaged' }), (e) => e.statusCode === 400);
});

test('a top-up with destination_balance=issuing funds the Issuing balance, not the payments balance', async () => {
  const payments = async () => {
    const b = await stripe.balance.retrieve();
    const row = b.available.find((x) => x.currency === 'usd');
    return row ? row.amount : 0;
  };
  const before = await stripe.balance.retrieve();
  assert.equal(before.issuing, undefined); // no Issuing balance until one is funded
  const paymentsBefore = await payments();
  const t = await stripe.topups.create({ amount: 50000, currency: 'usd', description: 'Issuing funds', destination_balance: 'issuing' });
  assert.equal(t.status, 'pending');
  const done = await waitFor(async () => {
    const x = await stripe.topups.retrieve(t.id);
    return x.status !== 'pending' && x;
  }, 'the top-up to settle', 30000);
  assert.equal(done.status, 'succeeded');
  const bal = await stripe.balance.retrieve();
  assertStripeShape(bal, 'balance');
  assert.deepEqual(bal.issuing, { available: [{ amount: 50000, currency: 'usd' }] });
  assert.equal(await payments(), paymentsBefore);
  const bt = await stripe.balanceTransactions.retrieve(done.balance_transaction);
  assert.equal(bt.type, 'topup');
  assert.equal(bt.amount, 50000);
  assert.equal(bt.source, t.id);
  // a payout cannot take the Issuing balance's money
  if (paymentsBefore < 50000) {
    await assert.rejects(stripe.payouts.create({ amount: 50000, currency: 'usd' }), (e) => e.statusCode === 400);
  }
  // a second top-up adds to it; one to the payments balance does not
  const t2 = await stripe.topups.create({ amount: 2500, currency: 'usd', destination_balance: 'issuing' });
  const t3 = await stripe.topups.create({ amount: 700, currency: 'usd', destination_balance: 'payments' });
  await waitFor(async () => (await stripe.topups.retrieve(t2.id)).status === 'succeeded' && (await stripe.topups.retrieve(t3.id)).status === 'succeeded', 'the top-ups to settle', 30000);
  assert.deepEqual((await stripe.balance.retrieve()).issuing, { available: [{ amount: 52500, currency: 'usd' }] });
  assert.equal(await payments(), paymentsBefore + 700);
  await assert.rejects(stripe.topups.create({ amount: 100, currency: 'usd', destination_balance: 'savings' }), (e) => e.statusCode === 400 && e.param === 'destination_balance');
  // another merchant's balance has none of it
  assert.equal((await env.stripe(env.merchants[1].secret_key).balance.retrieve()).issuing, undefined);
});

test('idempotency, and another merchant sees none of it', async () => {
  const key = `ich-${Date.now()}`;
  const a = await stripe.issuing.cardholders.create({ name: 'Idem', billing: { address } }, { idempotencyKey: key });
  const b = await stripe.issuing.cardholders.create({ name: 'Idem', billing: { address } }, { idempotencyKey: key });
  assert.equal(a.id, b.id);
  const card = await stripe.issuing.cards.create({ cardholder: a.id, type: 'virtual', currency: 'usd' }, { idempotencyKey: `${key}-c` });
  const card2 = await stripe.issuing.cards.create({ cardholder: a.id, type: 'virtual', currency: 'usd' }, { idempotencyKey: `${key}-c` });
  assert.equal(card.id, card2.id);

  const other = env.stripe(env.merchants[1].secret_key);
  await assert.rejects(other.issuing.cardholders.retrieve(a.id), (e) => e.statusCode === 404 && e.code === 'resource_missing');
  await assert.rejects(other.issuing.cards.retrieve(card.id, { expand: ['number'] }), (e) => e.statusCode === 404);
  await assert.rejects(other.issuing.cards.update(card.id, { status: 'canceled' }), (e) => e.statusCode === 404);
  await assert.rejects(other.issuing.cards.create({ cardholder: a.id, type: 'virtual', currency: 'usd' }), (e) => e.statusCode === 404 && e.param === 'cardholder');
  assert.equal((await other.issuing.cards.list()).data.length, 0);
  assert.equal((await other.issuing.cardholders.list()).data.length, 0);
  assert.equal((await stripe.issuing.cards.retrieve(card.id)).status, 'inactive');
});

// ---- what spends the Issuing balance: authorizations, transactions ----

async function issuingAvailable(s = stripe) {
  const b = await s.balance.retrieve();
  const row = b.issuing && b.issuing.available.find((x) => x.currency === 'usd');
  return row ? row.amount : 0;
}

async function fundIssuing(amount) {
  const t = await stripe.topups.create({ amount, currency: 'usd', destination_balance: 'issuing' });
  await waitFor(async () => (await stripe.topups.retrieve(t.id)).status === 'succeeded', 'the Issuing top-up to settle', 30000);
}

async function activeCard(cardExtra = {}, holderExtra = {}) {
  const ch = await activeHolder(holderExtra);
  const card = await stripe.issuing.cards.create({ cardholder: ch.id, type: 'virtual', currency: 'usd', status: 'active', ...cardExtra });
  return { ch, card };
}

const bakery = { category: 'bakeries', name: 'Bread Co', city: 'San Francisco', country: 'US', postal_code: '94111', state: 'CA' };

function authorize(card, amount, extra = {}) {
  return stripe.testHelpers.issuing.authorizations.create({ card: card.id, amount, merchant_data: bakery, ...extra });
}

test('authorizations: approved and held, captured (partial and over), expired, incremented and reversed, the Issuing balance and its balance transactions following each step', async () => {
  await fundIssuing(20000);
  const { ch, card } = await activeCard();
  let avail = await issuingAvailable();

  const a = await authorize(card, 1000, { authorization_method: 'chip', amount_details: { atm_fee: 0 } });
  assert.match(a.id, /^iauth_/);
  assert.equal(a.object, 'issuing.authorization');
  assert.equal(a.approved, true);
  assert.equal(a.status, 'pending');
  assert.equal(a.amount, 1000);
  assert.equal(a.merchant_amount, 1000);
  assert.equal(a.currency, 'usd');
  assert.equal(a.authorization_method, 'chip');
  assert.equal(a.card.id, card.id);
  assert.equal(a.cardholder, ch.id);
  assert.equal(a.pending_request, null);
  assert.deepEqual(a.amount_details, { atm_fee: 0, cashback_amount: null });
  assert.equal(a.merchant_data.category, 'bakeries');
  assert.equal(a.merchant_data.category_code, '5462');
  assert.equal(a.merchant_data.name, 'Bread Co');
  assert.equal(a.request_history.length, 1);
  assert.equal(a.request_history[0].approved, true);
  assert.equal(a.request_history[0].amount, 1000);
  assert.deepEqual(a.balance_transactions.map((b) => [b.type, b.amount, b.source]), [['issuing_authorization_hold', -1000, a.id]]);
  assert.deepEqual(a.transactions, []);
  assertStripeShape(a, 'issuing.authorization');
  assert.equal(await issuingAvailable(), avail -= 1000);

  // a partial capture: the transaction takes 600, the whole hold goes back
  const c = await stripe.testHelpers.issuing.authorizations.capture(a.id, { capture_amount: 600, purchase_details: { reference: 'order-1', receipt: [{ description: 'Bread', quantity: '2', total: 600, unit_cost: 300 }] } });
  assert.equal(c.status, 'closed');
  assert.equal(c.amount, 1000); // the authorized amount stays
  assert.deepEqual(c.balance_transactions.map((b) => [b.type, b.amount]), [['issuing_authorization_hold', -1000], ['issuing_authorization_release', 1000]]);
  assert.equal(c.transactions.length, 1);
  const t = c.transactions[0];
  assert.match(t.id, /^ipi_/);
  assert.equal(t.type, 'capture');
  assert.equal(t.amount, -600);
  assert.equal(t.authorization, a.id);
  assert.equal(t.card, card.id);
  assert.equal(t.cardholder, ch.id);
  assert.equal(t.purchase_details.reference, 'order-1');
  assert.deepEqual(t.purchase_details.receipt, [{ description: 'Bread', quantity: 2, total: 600, unit_cost: 300 }]);
  assertStripeShape(c, 'issuing.authorization');
  assertStripeShape(t, 'issuing.transaction');
  assert.deepEqual(await stripe.issuing.transactions.retrieve(t.id), t);
  const tbt = await stripe.balanceTransactions.retrieve(t.balance_transaction);
  assert.deepEqual([tbt.type, tbt.amount, tbt.net, tbt.source, tbt.reporting_category], ['issuing_transaction', -600, -600, t.id, 'issuing_transaction']);
  // a balance transaction's source expands to the authorization or transaction
  assert.deepEqual((await stripe.balanceTransactions.retrieve(t.balance_transaction, { expand: ['source'] })).source, t);
  const hold = await stripe.balanceTransactions.retrieve(c.balance_transactions[0].id, { expand: ['source'] });
  assert.equal(hold.source.id, a.id);
  assert.equal(hold.source.object, 'issuing.authorization');
  assert.deepEqual((await stripe.balanceTransactions.list({ type: 'issuing_authorization_release', source: a.id })).data.map((q) => q.amount), [1000]);
  assert.equal(await issuingAvailable(), avail += 1000 - 600);

  // an over-capture: more than authorized is taken
  const b = await authorize(card, 500);
  const bc = await stripe.testHelpers.issuing.authorizations.capture(b.id, { capture_amount: 700 });
  assert.equal(bc.transactions[0].amount, -700);
  assert.equal(await issuingAvailable(), avail -= 700);
  await assert.rejects(stripe.testHelpers.issuing.authorizations.capture(b.id), (e) => e.statusCode === 400);

  // expired: the hold goes back and nothing is taken
  const x = await authorize(card, 300);
  assert.equal(await issuingAvailable(), avail - 300);
  const xe = await stripe.testHelpers.issuing.authorizations.expire(x.id);
  assert.equal(xe.status, 'closed');
  assert.deepEqual(xe.transactions, []);
  assert.deepEqual(xe.balance_transactions.map((q) => q.amount), [-300, 300]);
  assert.equal(await issuingAvailable(), avail);

  // incremented, then reversed in part and in full
  const i = await authorize(card, 400);
  const ii = await stripe.testHelpers.issuing.authorizations.increment(i.id, { increment_amount: 200, is_amount_controllable: false });
  assert.equal(ii.amount, 600);
  assert.equal(ii.request_history.length, 2);
  assert.deepEqual(ii.request_history.map((h) => [h.amount, h.approved]), [[400, true], [600, true]]);
  assert.equal(await issuingAvailable(), avail - 600);
  const ir = await stripe.testHelpers.issuing.authorizations.reverse(i.id, { reverse_amount: 100 });
  assert.equal(ir.amount, 500);
  assert.equal(ir.status, 'pending');
  assert.equal(await issuingAvailable(), avail - 500);
  await assert.rejects(stripe.testHelpers.issuing.authorizations.reverse(i.id, { reverse_amount: 501 }), (e) => e.statusCode === 400 && e.param === 'reverse_amount');
  const irr = await stripe.testHelpers.issuing.authorizations.reverse(i.id);
  assert.equal(irr.status, 'reversed');
  assert.equal(irr.amount, 0);
  assertStripeShape(irr, 'issuing.authorization');
  assert.equal(await issuingAvailable(), avail);

  // a capture that keeps the authorization open holds the rest until it expires
  const m = await authorize(card, 1000);
  const m1 = await stripe.testHelpers.issuing.authorizations.capture(m.id, { capture_amount: 400, close_authorization: false });
  assert.equal(m1.status, 'pending');
  assert.equal(await issuingAvailable(), avail - 1000);
  await stripe.testHelpers.issuing.authorizations.expire(m.id);
  assert.equal(await issuingAvailable(), avail -= 400);

  // every step moved the balance by its balance transactions
  const bts = [];
  for (const id of [a.id, b.id, x.id, i.id, m.id]) {
    const got = await stripe.issuing.authorizations.retrieve(id);
    bts.push(...got.balance_transactions, ...await Promise.all(got.transactions.map((q) => stripe.balanceTransactions.retrieve(q.balance_transaction))));
  }
  assert.equal(bts.reduce((s, q) => s + q.net, 0), -(600 + 700 + 400));
  assert.ok(bts.every((q) => q.status === 'available' && q.fee === 0));

  // the events: created, then updated for each change, and the transactions'
  const evs = await eventsOf(stripe, a.id);
  assert.deepEqual(evs.map((e) => e.type), ['issuing_authorization.created', 'issuing_authorization.updated']);
  assert.equal(evs[1].data.previous_attributes.status, 'pending');
  assertStripeShape(evs[0].data.object, 'issuing.authorization');
  assert.deepEqual((await eventsOf(stripe, t.id)).map((e) => e.type), ['issuing_transaction.created']);

  // lists and their filters; metadata
  const mine = await stripe.issuing.authorizations.list({ card: card.id, limit: 100 });
  assert.deepEqual(mine.data.map((q) => q.id), [m.id, i.id, x.id, b.id, a.id]);
  assert.deepEqual((await stripe.issuing.authorizations.list({ card: card.id, status: 'reversed' })).data.map((q) => q.id), [i.id]);
  assert.deepEqual((await stripe.issuing.authorizations.list({ cardholder: ch.id, status: 'pending' })).data, []);
  const caps = await stripe.issuing.transactions.list({ card: card.id, type: 'capture' });
  assert.equal(caps.data.length, 3);
  const up = await stripe.issuing.authorizations.update(a.id, { metadata: { order: '1' } });
  assert.deepEqual(up.metadata, { order: '1' });
  const ut = await stripe.issuing.transactions.update(t.id, { metadata: { note: 'x' } });
  assert.deepEqual(ut.metadata, { note: 'x' });
  assert.deepEqual((await eventsOf(stripe, t.id)).map((e) => e.type), ['issuing_transaction.created', 'issuing_transaction.updated']);

  // approve / decline: nothing awaits a real-time decision in Tender
  await assert.rejects(stripe.issuing.authorizations.approve(m.id), (e) => e.statusCode === 400);
  await assert.rejects(stripe.issuing.authorizations.decline(m.id), (e) => e.statusCode === 400);
});

test('authorizations declined by the card, the cardholder, verification, spending controls and the balance hold nothing', async () => {
  const avail = await issuingAvailable();
  const declined = async (card, amount, reason, extra) => {
    const a = await authorize(card, amount, extra);
    assert.equal(a.approved, false, `${reason}: approved`);
    assert.equal(a.status, 'closed');
    assert.equal(a.request_history[0].approved, false);
    assert.equal(a.request_history[0].reason, reason);
    assert.deepEqual(a.balance_transactions, []);
    assertStripeShape(a, 'issuing.authorization');
    return a;
  };
  const approved = async (card, amount, extra) => {
    const a = await authorize(card, amount, extra);
    assert.equal(a.approved, true, `${amount} declined: ${a.request_history[0].reason}`);
    await stripe.testHelpers.issuing.authorizations.reverse(a.id);
    return a;
  };
  const ch = await activeHolder();
  const inactive = await stripe.issuing.cards.create({ cardholder: ch.id, type: 'virtual', currency: 'usd' });
  await declined(inactive, 100, 'card_inactive');

  const { ch: ch2, card: c2 } = await activeCard();
  await approved(c2, 100);
  await stripe.issuing.cardholders.update(ch2.id, { status: 'inactive' });
  await declined(c2, 100, 'cardholder_inactive');

  const bare = await stripe.issuing.cardholders.create({ name: 'No Terms', billing: { address } });
  const c3 = await stripe.issuing.cards.create({ cardholder: bare.id, type: 'virtual', currency: 'usd', status: 'active' });
  await declined(c3, 100, 'cardholder_verification_required');

  const { card: c4 } = await activeCard({ spending_controls: { blocked_categories: ['bakeries'] } }, { spending_controls: { allowed_categories: ['bakeries', 'eating_places_restaurants'] } });
  await declined(c4, 100, 'verification_failed', { merchant_data: { category: 'eating_places_restaurants' }, verification_data: { cvc_check: 'mismatch' } });
  await declined(c4, 100, 'spending_controls'); // the card blocks bakeries
  await declined(c4, 100, 'spending_controls', { merchant_data: { category: 'book_stores' } }); // the cardholder allows neither
  await approved(c4, 100, { merchant_data: { category: 'eating_places_restaurants' } });

  // limits: per authorization, over time summed over what is held and captured, per category
  // (all_time binds: a daily window could turn over at midnight UTC between two requests; the
  // windows' starts are unit tests, and the roomy daily limit is read on every request here)
  const { card: c5 } = await activeCard({
    spending_controls: { spending_limits: [{ amount: 500, interval: 'per_authorization' }, { amount: 1000, interval: 'all_time' }, { amount: 100, interval: 'all_time', categories: ['book_stores'] }, { amount: 100000, interval: 'daily' }] },
  });
  await declined(c5, 600, 'spending_controls');
  const h = await authorize(c5, 500);
  assert.equal(h.approved, true);
  const cap = await authorize(c5, 400);
  await stripe.testHelpers.issuing.authorizations.capture(cap.id);
  await declined(c5, 200, 'spending_controls'); // 500 held + 400 captured + 200 > 1000
  const inc = await stripe.testHelpers.issuing.authorizations.increment(h.id, { increment_amount: 200 });
  assert.equal(inc.amount, 500); // the increment is declined: nothing more held
  assert.deepEqual(inc.request_history.map((q) => [q.amount, q.approved, q.reason === 'spending_controls']), [[500, true, false], [700, false, true]]);
  await stripe.testHelpers.issuing.authorizations.reverse(h.id); // released: no longer spent
  await approved(c5, 500);
  await declined(c5, 150, 'spending_controls', { merchant_data: { category: 'book_stores' } });
  await approved(c5, 100, { merchant_data: { category: 'book_stores' } });
  // the cardholder's limits count every card of it
  const { ch: ch6, card: c6 } = await activeCard({}, { spending_controls: { spending_limits: [{ amount: 300, interval: 'all_time' }, { amount: 100000, interval: 'monthly' }] } });
  const c6b = await stripe.issuing.cards.create({ cardholder: ch6.id, type: 'virtual', currency: 'usd', status: 'active' });
  const held6 = await authorize(c6, 200);
  assert.equal(held6.approved, true);
  await declined(c6b, 200, 'spending_controls');
  await stripe.testHelpers.issuing.authorizations.expire(held6.id);

  // more than the Issuing balance has
  const now = await issuingAvailable();
  const { card: c7 } = await activeCard();
  await declined(c7, now + 1, 'insufficient_funds');
  assert.equal(await issuingAvailable(), avail - 400); // only the capture took money
});

test('transactions: force capture, unlinked refund, refunds of a capture; bad input changes nothing; another merchant sees none of it', async () => {
  const { ch, card } = await activeCard();
  let avail = await issuingAvailable();
  const fc = await stripe.testHelpers.issuing.transactions.createForceCapture({ card: card.id, amount: 250, currency: 'usd', merchant_data: { category: 'eating_places_restaurants', name: 'Diner' }, purchase_details: { fuel: { type: 'diesel', unit: 'liter', unit_cost_decimal: '1.5', volume_decimal: '10' }, lodging: { nights: 2 } } });
  assert.equal(fc.type, 'capture');
  assert.equal(fc.amount, -250);
  assert.equal(fc.authorization, null);
  assert.equal(fc.cardholder, ch.id);
  assert.equal(fc.merchant_data.category_code, '5812');
  const fuel = fc.purchase_details.fuel; // stripe-node reads unit_cost_decimal as a Decimal
  assert.deepEqual([fuel.type, fuel.unit, String(fuel.unit_cost_decimal), String(fuel.volume_decimal)], ['diesel', 'liter', '1.5', '10']);
  assert.deepEqual(fc.purchase_details.lodging, { check_in_at: null, nights: 2 });
  assertStripeShape(fc, 'issuing.transaction');
  assert.equal(await issuingAvailable(), avail -= 250);

  const ur = await stripe.testHelpers.issuing.transactions.createUnlinkedRefund({ card: card.id, amount: 80 });
  assert.equal(ur.type, 'refund');
  assert.equal(ur.amount, 80);
  assert.equal(ur.authorization, null);
  assertStripeShape(ur, 'issuing.transaction');
  assert.equal((await stripe.balanceTransactions.retrieve(ur.balance_transaction)).amount, 80);
  assert.equal(await issuingAvailable(), avail += 80);

  const r1 = await stripe.testHelpers.issuing.transactions.refund(fc.id, { refund_amount: 100 });
  assert.equal(r1.type, 'refund');
  assert.equal(r1.amount, 100);
  assert.equal(r1.card, card.id);
  assertStripeShape(r1, 'issuing.transaction');
  await assert.rejects(stripe.testHelpers.issuing.transactions.refund(fc.id, { refund_amount: 151 }), (e) => e.statusCode === 400 && e.param === 'refund_amount');
  const r2 = await stripe.testHelpers.issuing.transactions.refund(fc.id);
  assert.equal(r2.amount, 150);
  await assert.rejects(stripe.testHelpers.issuing.transactions.refund(fc.id), (e) => e.statusCode === 400);
  await assert.rejects(stripe.testHelpers.issuing.transactions.refund(r2.id), (e) => e.statusCode === 400);
  assert.equal(await issuingAvailable(), avail += 250);
  assert.deepEqual((await stripe.issuing.transactions.list({ card: card.id, type: 'refund' })).data.map((q) => q.id), [r2.id, r1.id, ur.id]);
  assert.deepEqual((await stripe.issuing.transactions.list({ cardholder: ch.id })).data.length, 4);
  assert.deepEqual((await eventsOf(stripe, r1.id)).map((e) => e.type), ['issuing_transaction.created']);

  // refused input: Stripe's 400s, nothing made or moved
  const count = async () => (await stripe.issuing.authorizations.list({ limit: 100 })).data.length + (await stripe.issuing.transactions.list({ limit: 100 })).data.length;
  const before = await count();
  const bad = [
    [() => stripe.testHelpers.issuing.authorizations.create({ amount: 100 }), 'parameter_missing', 'card'],
    [() => stripe.testHelpers.issuing.authorizations.create({ card: card.id }), 'parameter_missing', 'amount'],
    [() => stripe.testHelpers.issuing.authorizations.create({ card: card.id, amount: 0 }), undefined, 'amount'],
    [() => stripe.testHelpers.issuing.authorizations.create({ card: card.id, amount: 100, merchant_data: { category: 'not_a_category' } }), undefined, 'merchant_data[category]'],
    [() => stripe.testHelpers.issuing.authorizations.create({ card: card.id, amount: 100, currency: 'eur' }), undefined, 'currency'],
    [() => stripe.testHelpers.issuing.authorizations.create({ card: card.id, amount: 100, verification_data: { cvc_check: 'maybe' } }), undefined, 'verification_data[cvc_check]'],
    [() => stripe.testHelpers.issuing.authorizations.create({ card: card.id, amount: 100, status: 'closed' }), 'parameter_unknown', 'status'],
    [() => stripe.testHelpers.issuing.transactions.createForceCapture({ card: card.id, amount: -5 }), undefined, 'amount'],
    [() => stripe.testHelpers.issuing.transactions.createForceCapture({ card: card.id, amount: 5, purchase_details: { receipt: [{ quantity: 'two' }] } }), undefined, 'purchase_details[receipt][0][quantity]'],
    [() => stripe.testHelpers.issuing.transactions.createUnlinkedRefund({ card: 'ic_nope', amount: 5 }), 'resource_missing', 'card'],
  ];
  for (const [call, code, param] of bad) {
    await assert.rejects(call(), (e) => {
      assert.equal(e.statusCode, e.code === 'resource_missing' ? 404 : 400, `${param}: ${e.message}`);
      if (code) assert.equal(e.code, code);
      assert.equal(e.param, param);
      return true;
    });
  }
  assert.equal(await count(), before);
  assert.equal(await issuingAvailable(), avail);

  // idempotency: the same key makes one authorization and holds once
  const key = `iauth-${Date.now()}`;
  const i1 = await stripe.testHelpers.issuing.authorizations.create({ card: card.id, amount: 50 }, { idempotencyKey: key });
  const i2 = await stripe.testHelpers.issuing.authorizations.create({ card: card.id, amount: 50 }, { idempotencyKey: key });
  assert.equal(i1.id, i2.id);
  assert.equal(i1.merchant_data.category, 'miscellaneous');
  assert.equal(await issuingAvailable(), avail - 50);

  // another merchant: none of it
  const other = env.stripe(env.merchants[1].secret_key);
  await assert.rejects(other.issuing.authorizations.retrieve(i1.id), (e) => e.statusCode === 404 && e.code === 'resource_missing');
  await assert.rejects(other.issuing.transactions.retrieve(fc.id), (e) => e.statusCode === 404);
  await assert.rejects(other.testHelpers.issuing.authorizations.capture(i1.id), (e) => e.statusCode === 404);
  await assert.rejects(other.testHelpers.issuing.transactions.refund(fc.id), (e) => e.statusCode === 404);
  await assert.rejects(other.testHelpers.issuing.authorizations.create({ card: card.id, amount: 5 }), (e) => e.statusCode === 404 && e.param === 'card');
  await assert.rejects(other.issuing.authorizations.update(i1.id, { metadata: { a: 'b' } }), (e) => e.statusCode === 404);
  assert.equal((await other.issuing.authorizations.list()).data.length, 0);
  assert.equal((await other.issuing.transactions.list()).data.length, 0);
  await stripe.testHelpers.issuing.authorizations.expire(i1.id);
});

test('disputes: made on a capture, edited, submitted; won (money back), lost or left submitted as Stripe\'s test mode decides by the explanation', async () => {
  const { card } = await activeCard();
  const cap1 = await stripe.testHelpers.issuing.transactions.createForceCapture({ card: card.id, amount: 1000 });
  const cap2 = await stripe.testHelpers.issuing.transactions.createForceCapture({ card: card.id, amount: 300 });
  const cap3 = await stripe.testHelpers.issuing.transactions.createForceCapture({ card: card.id, amount: 200 });
  let avail = await issuingAvailable();

  const d = await stripe.issuing.disputes.create({ transaction: cap1.id, evidence: { reason: 'fraudulent', fraudulent: { explanation: 'winning_evidence' } }, metadata: { case: '7' } });
  assert.match(d.id, /^idp_/);
  assert.equal(d.object, 'issuing.dispute');
  assert.equal(d.status, 'unsubmitted');
  assert.equal(d.amount, 1000);
  assert.equal(d.currency, 'usd');
  assert.equal(d.transaction, cap1.id);
  assert.deepEqual(d.evidence, { fraudulent: { additional_documentation: null, explanation: 'winning_evidence' }, reason: 'fraudulent' });
  assert.deepEqual(d.metadata, { case: '7' });
  assertStripeShape(d, 'issuing.dispute');
  assert.equal((await stripe.issuing.transactions.retrieve(cap1.id)).dispute, d.id);
  await assert.rejects(stripe.issuing.disputes.create({ transaction: cap1.id }), (e) => e.statusCode === 400 && e.param === 'transaction');
  await assert.rejects(stripe.issuing.disputes.update(d.id, { amount: 1001 }), (e) => e.statusCode === 400 && e.param === 'amount');
  const up = await stripe.issuing.disputes.update(d.id, { amount: 800 });
  assert.equal(up.amount, 800);
  assert.equal(await issuingAvailable(), avail); // nothing moves before it is won

  const won = await stripe.issuing.disputes.submit(d.id);
  assert.equal(won.status, 'won');
  assert.equal(await issuingAvailable(), avail += 800);
  const withBts = await stripe.issuing.disputes.retrieve(d.id, { expand: ['balance_transactions'] });
  assert.deepEqual(withBts.balance_transactions.map((b) => [b.type, b.amount, b.source]), [['issuing_dispute', 800, d.id]]);
  assertStripeShape(withBts, 'issuing.dispute');
  assert.equal((await stripe.issuing.disputes.retrieve(d.id)).balance_transactions, null);
  assert.deepEqual((await eventsOf(stripe, d.id)).map((e) => e.type),
    ['issuing_dispute.created', 'issuing_dispute.updated', 'issuing_dispute.submitted', 'issuing_dispute.funds_reinstated', 'issuing_dispute.closed']);
  await assert.rejects(stripe.issuing.disputes.submit(d.id), (e) => e.statusCode === 400);
  // what the won dispute gave back cannot be refunded again: 200 of the 1000 is left
  await assert.rejects(stripe.testHelpers.issuing.transactions.refund(cap1.id, { refund_amount: 201 }), (e) => e.statusCode === 400 && e.param === 'refund_amount');
  assert.equal((await stripe.testHelpers.issuing.transactions.refund(cap1.id)).amount, 200);
  assert.equal(await issuingAvailable(), avail += 200);
  await assert.rejects(stripe.issuing.disputes.update(d.id, { evidence: { reason: 'other' } }), (e) => e.statusCode === 400);

  const lost = await stripe.issuing.disputes.create({ transaction: cap2.id, evidence: { reason: 'not_received', not_received: { explanation: 'losing_evidence', expected_at: 1700000000, product_type: 'merchandise' } } });
  assert.equal((await stripe.issuing.disputes.submit(lost.id)).status, 'lost');
  assert.equal(await issuingAvailable(), avail);
  // a lost dispute leaves the transaction open to another
  const again = await stripe.issuing.disputes.create({ transaction: cap2.id, amount: 100 });
  assert.equal(again.amount, 100);

  const open = await stripe.issuing.disputes.create({ transaction: cap3.id });
  assert.deepEqual(open.evidence, { reason: null });
  await assert.rejects(stripe.issuing.disputes.submit(open.id), (e) => e.statusCode === 400 && e.param === 'evidence[reason]');
  await stripe.issuing.disputes.update(open.id, { evidence: { reason: 'other', other: { explanation: 'Not what was ordered', product_type: 'service' } } });
  const pending = await stripe.issuing.disputes.submit(open.id, { metadata: { by: 'ops' } });
  assert.equal(pending.status, 'submitted');
  assert.deepEqual(pending.metadata, { by: 'ops' });
  assertStripeShape(pending, 'issuing.dispute');
  assert.equal(await issuingAvailable(), avail);

  const refund = await stripe.testHelpers.issuing.transactions.createUnlinkedRefund({ card: card.id, amount: 5 });
  await assert.rejects(stripe.issuing.disputes.create({ transaction: refund.id }), (e) => e.statusCode === 400 && e.param === 'transaction');
  await assert.rejects(stripe.issuing.disputes.create({ transaction: cap3.id, evidence: { reason: 'bogus' } }), (e) => e.statusCode === 400 && e.param === 'evidence[reason]');
  await assert.rejects(stripe.issuing.disputes.create({}), (e) => e.statusCode === 400 && e.param === 'transaction');

  assert.deepEqual((await stripe.issuing.disputes.list({ status: 'won' })).data.map((x) => x.id), [d.id]);
  assert.deepEqual((await stripe.issuing.disputes.list({ transaction: cap2.id })).data.map((x) => x.id), [again.id, lost.id]);
  const other = env.stripe(env.merchants[1].secret_key);
  await assert.rejects(other.issuing.disputes.retrieve(d.id), (e) => e.statusCode === 404);
  await assert.rejects(other.issuing.disputes.submit(open.id), (e) => e.statusCode === 404);
  await assert.rejects(other.issuing.disputes.create({ transaction: cap3.id }), (e) => e.statusCode === 404 && e.param === 'transaction');
  assert.equal((await other.issuing.disputes.list()).data.length, 0);
});

test('no issued number is in clear in the store or the log, and tender verify passes', async () => {
  assert.ok(revealed.length >= 2);
  await env.server.stop();
  const stored = readStoreFiles(env.dataDir);
  const hay = [...stored.map((x) => x.data), fs.readFileSync(env.server.logPath)];
  const files = [...stored.map((x) => x.file), env.server.logPath];
  for (const n of revealed) {
    for (let i = 0; i < hay.length; i++) {
      assert.ok(!hay[i].includes(n), `${n.slice(-4)} found in clear in ${files[i]}`);
      assert.ok(!hay[i].includes(Buffer.from(n, 'utf16le')), `utf16 ${n.slice(-4)} in ${files[i]}`);
    }
  }
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
  const withKey = execFileSync(BIN,
    withDatabaseUrls(['verify', '--data', env.dataDir, '--master-key-file', env.keyFile]), { encoding: 'utf8' });
  assert.match(withKey, /verify: ok/);
});
