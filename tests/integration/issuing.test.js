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
