'use strict';
// PaymentIntents, charges, refunds, balance: the heart of the gateway, through stripe-node.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, assertStripeShape, stopAll, tender, storeSql, waitFor } = require('./helpers');

let env;
let stripe;

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
});
after(stopAll);

const card = (number) => ({ type: 'card', card: { number, exp_month: 12, exp_year: 2034, cvc: '123' } });

async function eventsFor(id) {
  const all = [];
  for await (const e of stripe.events.list({ limit: 100 })) all.push(e);
  return all.filter((e) => e.data.object.id === id || e.data.object.payment_intent === id).map((e) => e.type).reverse();
}

test('confirm from the browser: a publishable key with the client_secret, payment_method_types at confirm', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 1800, currency: 'usd' });
  const pk = env.stripe(env.merchant.publishable_key);
  // a publishable key must prove it holds the intent's secret, and the right one
  await assert.rejects(pk.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' }),
    (e) => e.statusCode === 400 && e.code === 'parameter_missing' && e.param === 'client_secret');
  await assert.rejects(pk.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa', client_secret: `${pi.id}_secret_wrong` }),
    (e) => e.statusCode === 400 && e.param === 'client_secret');
  assert.equal((await stripe.paymentIntents.retrieve(pi.id)).status, 'requires_payment_method');
  // nothing else takes a publishable key
  await assert.rejects(pk.paymentIntents.capture(pi.id), (e) => e.statusCode === 401 || e.statusCode === 403 || e.statusCode === 400);
  const done = await pk.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa', client_secret: pi.client_secret });
  assert.equal(done.status, 'succeeded');
  assertStripeShape(done, 'payment_intent');
  // a secret key's client_secret must match too
  const pi2 = await stripe.paymentIntents.create({ amount: 1800, currency: 'eur', payment_method_types: ['card', 'sepa_debit'] });
  await assert.rejects(stripe.paymentIntents.confirm(pi2.id, { payment_method: 'pm_card_visa', client_secret: pi.client_secret }),
    (e) => e.statusCode === 400 && e.param === 'client_secret');
  // payment_method_types at confirm replace the intent's, checked as on update
  await assert.rejects(stripe.paymentIntents.confirm(pi2.id, { payment_method: 'pm_card_visa', payment_method_types: ['us_bank_account'] }),
    (e) => e.statusCode === 400 && e.param === 'payment_method_types');
  await assert.rejects(stripe.paymentIntents.confirm(pi2.id, { payment_method: 'pm_card_visa', payment_method_types: ['sepa_debit'] }),
    (e) => e.statusCode === 400 && e.param === 'payment_method');
  const ok = await stripe.paymentIntents.confirm(pi2.id, { payment_method: 'pm_card_visa', payment_method_types: ['card'] });
  assert.equal(ok.status, 'succeeded');
  assert.deepEqual(ok.payment_method_types, ['card']);
  // update's payment_method_data: the PaymentMethod made and named; not on a finished intent
  const pi3 = await stripe.paymentIntents.create({ amount: 1800, currency: 'usd' });
  const up = await stripe.paymentIntents.update(pi3.id, { payment_method_data: card('4242424242424242') });
  assert.match(up.payment_method, /^pm_/);
  assert.equal(up.status, 'requires_confirmation');
  assert.equal((await stripe.paymentMethods.retrieve(up.payment_method)).card.last4, '4242');
  assertStripeShape(up, 'payment_intent');
  assert.equal((await stripe.paymentIntents.confirm(pi3.id)).status, 'succeeded');
  const n0 = (await stripe.paymentMethods.list({ limit: 100 })).data.length;
  await assert.rejects(stripe.paymentIntents.update(pi3.id, { payment_method_data: card('4242424242424242') }), (e) => e.statusCode === 400);
  assert.equal((await stripe.paymentMethods.list({ limit: 100 })).data.length, n0);
});

test('automatic capture: create+confirm succeeds, with charge, balance transaction and events', async () => {
  const pi = await stripe.paymentIntents.create({
    amount: 2000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true,
    description: 'order 1', metadata: { order: '1' }, expand: ['latest_charge.balance_transaction'],
  });
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.amount_received, 2000);
  assert.equal(pi.amount_capturable, 0);
  assert.match(pi.client_secret, new RegExp(`^${pi.id}_secret_`));
  const ch = pi.latest_charge;
  assert.equal(ch.object, 'charge');
  assert.equal(ch.amount_captured, 2000);
  assert.equal(ch.captured, true);
  assert.equal(ch.paid, true);
  assert.equal(ch.status, 'succeeded');
  assert.equal(ch.payment_method_details.card.last4, '4242');
  assert.equal(ch.payment_method_details.card.brand, 'visa');
  assert.equal(ch.outcome.type, 'authorized');
  const bt = ch.balance_transaction;
  assert.equal(bt.object, 'balance_transaction');
  assert.equal(bt.amount, 2000);
  assert.equal(bt.fee, 88); // 2.9 % of 2000 = 58, + 30
  assert.equal(bt.net, 1912);
  assert.equal(bt.status, 'pending');
  assertStripeShape({ ...pi, latest_charge: ch.id }, 'payment_intent');
  assertStripeShape({ ...ch, balance_transaction: bt.id }, 'charge');
  assertStripeShape(bt, 'balance_transaction');
  assert.deepEqual(await eventsFor(pi.id), ['payment_intent.created', 'charge.succeeded', 'payment_intent.succeeded']);
});

test('manual capture: partial capture, then no second capture', async () => {
  let pi = await stripe.paymentIntents.create({ amount: 5000, currency: 'usd', capture_method: 'manual' });
  assert.equal(pi.status, 'requires_payment_method');
  pi = await stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_mastercard' });
  assert.equal(pi.status, 'requires_capture');
  assert.equal(pi.amount_capturable, 5000);
  const ch0 = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(ch0.captured, false);
  assert.equal(ch0.balance_transaction, null);
  await assert.rejects(stripe.paymentIntents.capture(pi.id, { amount_to_capture: 6000 }), (e) => e.statusCode === 400);
  pi = await stripe.paymentIntents.capture(pi.id, { amount_to_capture: 3000 });
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.amount_received, 3000);
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(ch.amount_captured, 3000);
  assert.equal(ch.captured, true);
  // "any additional amount will be automatically refunded" (Stripe): the 2000 released is
  // refunded, though no money moved
  assert.equal(ch.amount_refunded, 2000);
  assert.equal(ch.refunded, false);
  await assert.rejects(stripe.paymentIntents.capture(pi.id), (e) => e.statusCode === 400 && e.code === 'payment_intent_unexpected_state');
  await assert.rejects(stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' }), (e) => e.code === 'payment_intent_unexpected_state');
  await assert.rejects(stripe.paymentIntents.cancel(pi.id), (e) => e.code === 'payment_intent_unexpected_state');
  assert.deepEqual(await eventsFor(pi.id), [
    'payment_intent.created', 'charge.succeeded', 'payment_intent.amount_capturable_updated', 'refund.created', 'charge.captured', 'payment_intent.succeeded',
  ]);
});

test('what an authorization releases is refunded as Stripe shows it: partial capture, cancel, refund of an authorization', async () => {
  // a partial capture: the rest is a refund of its own, with no balance transaction
  let pi = await stripe.paymentIntents.create({ amount: 5000, currency: 'usd', capture_method: 'manual', payment_method: 'pm_card_visa', confirm: true });
  pi = await stripe.paymentIntents.capture(pi.id, { amount_to_capture: 3500, expand: ['latest_charge.refunds'] });
  let ch = pi.latest_charge;
  assert.deepEqual([ch.amount, ch.amount_captured, ch.amount_refunded, ch.refunded], [5000, 3500, 1500, false]);
  assert.equal(ch.refunds.object, 'list');
  assert.equal(ch.refunds.url, `/v1/charges/${ch.id}/refunds`);
  assert.equal(ch.refunds.has_more, false);
  assert.equal(ch.refunds.data.length, 1);
  const released = ch.refunds.data[0];
  assert.deepEqual([released.amount, released.status, released.balance_transaction, released.charge, released.payment_intent],
    [1500, 'succeeded', null, ch.id, pi.id]);
  assertStripeShape(released, 'refund');
  ch = await stripe.charges.retrieve(ch.id, { expand: ['refunds'] });
  assertStripeShape(ch, 'charge');
  // the money captured is what may be refunded: 3500, not 5000
  await assert.rejects(stripe.refunds.create({ charge: ch.id, amount: 3501 }), (e) => e.statusCode === 400);
  const r1 = await stripe.refunds.create({ charge: ch.id, amount: 3000 });
  assert.ok(r1.balance_transaction);
  ch = await stripe.charges.retrieve(ch.id, { expand: ['refunds'] });
  assert.deepEqual([ch.amount_refunded, ch.refunded, ch.refunds.data.map((x) => x.amount)], [4500, false, [3000, 1500]]);
  await stripe.refunds.create({ charge: ch.id });
  ch = await stripe.charges.retrieve(ch.id);
  assert.deepEqual([ch.amount_refunded, ch.refunded], [5000, true]);
  const listed = await stripe.refunds.list({ payment_intent: pi.id });
  assert.deepEqual(listed.data.map((x) => x.amount), [500, 3000, 1500]);
  const search = await waitFor(async () => {
    const x = await stripe.charges.search({ query: `refunded:'true' AND amount:5000` });
    return x.data.some((c) => c.id === ch.id) ? x : null;
  }, 'the charge refunded in full to be found by search');
  assert.ok(search);

  // a cancel: the whole authorization, refunded; charge.refunded as for any refund in full
  let pi2 = await stripe.paymentIntents.create({ amount: 1200, currency: 'usd', capture_method: 'manual', payment_method: 'pm_card_visa', confirm: true });
  pi2 = await stripe.paymentIntents.cancel(pi2.id);
  const ch2 = await stripe.charges.retrieve(pi2.latest_charge, { expand: ['refunds'] });
  assert.deepEqual([ch2.captured, ch2.amount_captured, ch2.amount_refunded, ch2.refunded, ch2.balance_transaction], [false, 0, 1200, true, null]);
  assert.deepEqual(ch2.refunds.data.map((x) => [x.amount, x.status, x.balance_transaction]), [[1200, 'succeeded', null]]);
  assert.deepEqual(await eventsFor(pi2.id), [
    'payment_intent.created', 'charge.succeeded', 'payment_intent.amount_capturable_updated', 'refund.created', 'charge.refunded', 'payment_intent.canceled',
  ]);
  await assert.rejects(stripe.refunds.create({ charge: ch2.id }), (e) => e.statusCode === 400);

  // refunding an authorization cancels its intent, the same way
  const pi3 = await stripe.paymentIntents.create({ amount: 800, currency: 'usd', capture_method: 'manual', payment_method: 'pm_card_visa', confirm: true });
  const r3 = await stripe.refunds.create({ payment_intent: pi3.id, metadata: { why: 'no stock' } });
  assert.deepEqual([r3.amount, r3.status, r3.balance_transaction, r3.metadata], [800, 'succeeded', null, { why: 'no stock' }]);
  const ch3 = await stripe.charges.retrieve(pi3.latest_charge, { expand: ['refunds'] });
  assert.deepEqual([ch3.amount_refunded, ch3.refunded, ch3.refunds.data.map((x) => x.id)], [800, true, [r3.id]]);
  assert.equal((await stripe.paymentIntents.retrieve(pi3.id)).status, 'canceled');

  // the legacy charge capture releases the same way
  const tok = await stripe.charges.create({ amount: 2000, currency: 'usd', source: 'tok_visa', capture: false });
  const cap = await stripe.charges.capture(tok.id, { amount: 1500 });
  assert.deepEqual([cap.amount_captured, cap.amount_refunded, cap.refunded], [1500, 500, false]);
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

test('cancel releases an authorization; capture after cancel fails', async () => {
  let pi = await stripe.paymentIntents.create({ amount: 1500, currency: 'usd', capture_method: 'manual', payment_method: 'pm_card_visa', confirm: true });
  assert.equal(pi.status, 'requires_capture');
  pi = await stripe.paymentIntents.cancel(pi.id, { cancellation_reason: 'requested_by_customer' });
  assert.equal(pi.status, 'canceled');
  assert.equal(pi.cancellation_reason, 'requested_by_customer');
  assert.ok(pi.canceled_at > 0);
  await assert.rejects(stripe.paymentIntents.capture(pi.id), (e) => e.code === 'payment_intent_unexpected_state');
});

test('declines answer 402 card_error with the intent, record a failed charge', async () => {
  const cases = [
    ['pm_card_chargeDeclined', 'card_declined', 'generic_decline'],
    ['pm_card_chargeDeclinedInsufficientFunds', 'card_declined', 'insufficient_funds'],
    ['pm_card_chargeDeclinedLostCard', 'card_declined', 'lost_card'],
    ['pm_card_chargeDeclinedStolenCard', 'card_declined', 'stolen_card'],
    ['pm_card_chargeDeclinedExpiredCard', 'expired_card', 'expired_card'],
    ['pm_card_chargeDeclinedIncorrectCvc', 'incorrect_cvc', 'incorrect_cvc'],
    ['pm_card_chargeDeclinedProcessingError', 'processing_error', 'processing_error'],
    ['pm_card_visa_chargeDeclinedVelocityLimitExceeded', 'card_declined', 'card_velocity_exceeded'],
  ];
  for (const [pm, code, decline] of cases) {
    const pi0 = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd' });
    const err = await stripe.paymentIntents.confirm(pi0.id, { payment_method: pm }).then(() => null, (e) => e);
    assert.ok(err, `${pm} should be declined`);
    assert.equal(err.type, 'StripeCardError', pm);
    assert.equal(err.statusCode, 402);
    assert.equal(err.code, code, pm);
    assert.equal(err.decline_code, decline, pm);
    assert.match(err.raw.charge, /^ch_/);
    assert.equal(err.raw.payment_intent.id, pi0.id);
    assert.equal(err.raw.payment_intent.status, 'requires_payment_method');
    const pi = await stripe.paymentIntents.retrieve(pi0.id);
    assert.equal(pi.status, 'requires_payment_method');
    assert.equal(pi.last_payment_error.code, code);
    assert.equal(pi.last_payment_error.charge, err.raw.charge);
    const ch = await stripe.charges.retrieve(err.raw.charge);
    assert.equal(ch.status, 'failed');
    assert.equal(ch.paid, false);
    assert.equal(ch.failure_code, code);
    assertStripeShape(ch, 'charge');
    // the declined card, which Stripe's error and last_payment_error both carry
    assert.equal(err.raw.payment_method.id, ch.payment_method);
    assert.equal(pi.last_payment_error.payment_method.id, ch.payment_method);
    assertStripeShape(pi, 'payment_intent');
  }
  // a declined intent can be retried with another card
  const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd' });
  await assert.rejects(stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_chargeDeclined' }));
  const ok = await stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' });
  assert.equal(ok.status, 'succeeded');
  assert.equal(ok.last_payment_error, null);
  const evs = await eventsFor(pi.id);
  assert.deepEqual(evs, ['payment_intent.created', 'charge.failed', 'payment_intent.payment_failed', 'charge.succeeded', 'payment_intent.succeeded']);
});

test('the issuer\'s checks (docs.stripe.com/testing): 0101 declines a given CVC, 0010/0028/0036/0044 fail address checks and pay', async () => {
  const billing_details = { address: { line1: '1 Main St', postal_code: '94107' } };
  const checksOf = async (number, cvc = '123', bd = billing_details) => {
    const pm = await stripe.paymentMethods.create({ type: 'card', billing_details: bd, card: { number, exp_month: 12, exp_year: 2034, ...(cvc ? { cvc } : {}) } });
    // not checked yet: what was given is unchecked, the rest null
    assert.deepEqual(pm.card.checks, {
      address_line1_check: bd.address.line1 ? 'unchecked' : null,
      address_postal_code_check: bd.address.postal_code ? 'unchecked' : null,
      cvc_check: cvc ? 'unchecked' : null,
    }, number);
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: pm.id, confirm: true, payment_method_types: ['card'] })
      .catch((e) => e.raw.payment_intent);
    const ch = await stripe.charges.retrieve(pi.latest_charge);
    // once paid with, the PaymentMethod shows the issuer's answers too
    const after = await stripe.paymentMethods.retrieve(pm.id);
    assert.deepEqual(after.card.checks, ch.payment_method_details.card.checks, number);
    return [ch.status, ch.payment_method_details.card.checks];
  };
  const err = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_cvcCheckFail', confirm: true }).then(() => null, (e) => e);
  assert.equal(err.code, 'incorrect_cvc');
  assert.equal(err.decline_code, 'incorrect_cvc');
  assert.deepEqual(await checksOf('4000000000000101'), ['failed', { address_line1_check: 'pass', address_postal_code_check: 'pass', cvc_check: 'fail' }]);
  assert.deepEqual(await checksOf('4000000000000101', null), ['succeeded', { address_line1_check: 'pass', address_postal_code_check: 'pass', cvc_check: null }]);
  const avs = [['4242424242424242', 'pass', 'pass'], ['4000000000000010', 'fail', 'fail'], ['4000000000000028', 'fail', 'pass'],
    ['4000000000000036', 'pass', 'fail'], ['4000000000000044', 'unavailable', 'unavailable']];
  for (const [number, line1, zip] of avs) {
    assert.deepEqual(await checksOf(number), ['succeeded', { address_line1_check: line1, address_postal_code_check: zip, cvc_check: 'pass' }], number);
  }
  // only what was given is checked
  assert.deepEqual(await checksOf('4000000000000010', '123', { address: { postal_code: '94107' } }),
    ['succeeded', { address_line1_check: null, address_postal_code_check: 'fail', cvc_check: 'pass' }]);
  // a SetupIntent's check of the card fills them as well
  const pm = await stripe.paymentMethods.create({ type: 'card', billing_details, card: { number: '4000000000000036', exp_month: 12, exp_year: 2034, cvc: '123' } });
  const si = await stripe.setupIntents.create({ payment_method: pm.id, confirm: true, payment_method_types: ['card'] });
  assert.equal(si.status, 'succeeded');
  const saved = await stripe.paymentMethods.retrieve(pm.id);
  assert.deepEqual(saved.card.checks, { address_line1_check: 'pass', address_postal_code_check: 'fail', cvc_check: 'pass' });
  assertStripeShape(saved, 'payment_method');
});

test('payment_method_data: a card given in the intent becomes the PaymentMethod it names', async () => {
  const pmCount = () => storeSql(env.dataDir, 'SELECT count(*) FROM payment_methods')
    .reduce((n, out) => n + Number(out.trim()), 0);
  // create + confirm with a test token, and with a card number, billing details and metadata
  const a = await stripe.paymentIntents.create({
    amount: 2000, currency: 'usd', confirm: true, expand: ['latest_charge'],
    payment_method_data: { type: 'card', card: { token: 'tok_visa' } },
  });
  assert.equal(a.status, 'succeeded');
  assert.match(a.payment_method, /^pm_/);
  assert.equal(a.latest_charge.payment_method, a.payment_method);
  assert.equal(a.latest_charge.payment_method_details.card.brand, 'visa');
  assertStripeShape({ ...a, latest_charge: a.latest_charge.id }, 'payment_intent');
  const b = await stripe.paymentIntents.create({
    amount: 2100, currency: 'usd', confirm: true,
    payment_method_data: {
      type: 'card', card: { number: '5555555555554444', exp_month: 12, exp_year: 2034, cvc: '123' },
      billing_details: { name: 'Ann Payer', email: 'ann@example.com' }, metadata: { src: 'inline' },
    },
  });
  assert.equal(b.status, 'succeeded');
  const pmB = await stripe.paymentMethods.retrieve(b.payment_method);
  assert.equal(pmB.card.brand, 'mastercard');
  assert.equal(pmB.card.last4, '4444');
  assert.equal(pmB.billing_details.name, 'Ann Payer');
  assert.equal(pmB.billing_details.email, 'ann@example.com');
  assert.deepEqual(pmB.metadata, { src: 'inline' });
  assertStripeShape(pmB, 'payment_method');
  // create without confirm names the new PaymentMethod; confirm then pays with it
  const c0 = await stripe.paymentIntents.create({
    amount: 1500, currency: 'usd', payment_method_data: { type: 'card', card: { token: 'tok_amex' } },
  });
  assert.equal(c0.status, 'requires_confirmation');
  assert.match(c0.payment_method, /^pm_/);
  const c1 = await stripe.paymentIntents.confirm(c0.id);
  assert.equal(c1.status, 'succeeded');
  assert.equal(c1.payment_method, c0.payment_method);
  // confirm takes it too
  const d0 = await stripe.paymentIntents.create({ amount: 1600, currency: 'usd' });
  const d1 = await stripe.paymentIntents.confirm(d0.id, {
    payment_method_data: { type: 'card', card: { token: 'tok_mastercard' } },
  });
  assert.equal(d1.status, 'succeeded');
  assert.equal((await stripe.paymentMethods.retrieve(d1.payment_method)).card.brand, 'mastercard');
  // a declined card: 402 with the intent, which no longer names a PaymentMethod
  const e = await stripe.paymentIntents.create({
    amount: 1700, currency: 'usd', confirm: true,
    payment_method_data: { type: 'card', card: { number: '4000000000000002', exp_month: 12, exp_year: 2034 } },
  }).then(() => null, (x) => x);
  assert.equal(e.statusCode, 402);
  assert.equal(e.code, 'card_declined');
  assert.equal(e.raw.payment_intent.status, 'requires_payment_method');
  // a keyed request makes one PaymentMethod and one payment, however often it is sent
  const key = `pmd-${Date.now()}`;
  const before = pmCount();
  const params = { amount: 1800, currency: 'usd', confirm: true, payment_method_data: { type: 'card', card: { token: 'tok_visa' } } };
  const k1 = await stripe.paymentIntents.create(params, { idempotencyKey: key });
  const k2 = await stripe.paymentIntents.create(params, { idempotencyKey: key });
  assert.equal(k2.id, k1.id);
  assert.equal(k2.payment_method, k1.payment_method);
  assert.equal(pmCount(), before + 1);
  // errors name the field under payment_method_data and store no card
  const fails = [
    [{ payment_method: 'pm_card_visa', payment_method_data: { type: 'card', card: { token: 'tok_visa' } } }, 'payment_method_data'],
    [{ payment_method_data: { type: 'card' } }, 'payment_method_data[card]'],
    [{ payment_method_data: { card: { token: 'tok_visa' } } }, 'payment_method_data[type]'],
    [{ payment_method_data: { type: 'card', card: { token: 'tok_nope' } } }, 'payment_method_data[card][token]'],
    [{ amount: 10, payment_method_data: { type: 'card', card: { token: 'tok_visa' } } }, 'amount'],
  ];
  const n0 = pmCount();
  for (const [extra, param] of fails) {
    const err = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', ...extra }).then(() => null, (x) => x);
    assert.ok(err, param);
    assert.equal(err.statusCode, err.code === 'resource_missing' ? 404 : 400, param);
    assert.equal(err.param, param);
  }
  assert.equal(pmCount(), n0);
});

test('a keyed confirm is saved as a reference to its event and replays byte for byte', async () => {
  const post = (key, body) => env.request({ method: 'POST', path: '/v1/payment_intents', key: env.merchant.secret_key, body, headers: { 'Idempotency-Key': key } });
  const plain = 'amount=900&currency=usd&payment_method=pm_card_visa&confirm=true';
  const expanded = `${plain}&expand[]=latest_charge`;
  const k1 = `ref-${Date.now()}`;
  const k2 = `${k1}-expanded`;
  const a = await post(k1, plain);
  const c = await post(k2, expanded);
  assert.equal(a.status, 200);
  assert.equal(c.status, 200);
  // the answer of the plain confirm is payment_intent.succeeded's object: the record names that
  // event and keeps no second copy; an expanded answer is not an event's object and is kept whole
  const row = (key) => storeSql(env.dataDir, `SELECT length(body) || '|' || coalesce(body_event, '') FROM idempotency_keys WHERE idem_key = '${key}'`)
    .map((o) => o.trim()).filter(Boolean);
  const [len1, evt] = row(k1)[0].split('|');
  assert.equal(len1, '0');
  const ev = await stripe.events.retrieve(evt);
  assert.equal(ev.type, 'payment_intent.succeeded');
  assert.equal(ev.data.object.id, JSON.parse(a.body).id);
  const [len2, evt2] = row(k2)[0].split('|');
  assert.equal(Number(len2), Buffer.byteLength(c.body));
  assert.equal(evt2, '');
  for (const [k, body, first] of [[k1, plain, a], [k2, expanded, c]]) {
    const again = await post(k, body);
    assert.equal(again.status, 200);
    assert.equal(again.body, first.body);
    assert.equal(again.headers['idempotent-replayed'], 'true');
  }
  // through the SDK too: the same intent comes back
  const pi = await stripe.paymentIntents.create({ amount: 900, currency: 'usd', payment_method: 'pm_card_visa', confirm: true }, { idempotencyKey: k1 });
  assert.equal(pi.id, JSON.parse(a.body).id);
  assert.equal(pi.lastResponse.headers['idempotent-replayed'], 'true');
  assertStripeShape(pi, 'payment_intent');
  // verify reads the saved result through the event too
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

test('a charge takes the merchant\'s fraud report: fraud_details[user_report]', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 1700, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
  const before = await stripe.charges.retrieve(pi.latest_charge);
  assert.deepEqual(before.fraud_details, {});
  const ch = await stripe.charges.update(pi.latest_charge, { fraud_details: { user_report: 'fraudulent' } });
  assert.deepEqual(ch.fraud_details, { user_report: 'fraudulent' });
  assertStripeShape(ch, 'charge');
  assert.deepEqual((await stripe.charges.retrieve(ch.id)).fraud_details, { user_report: 'fraudulent' });
  const ev = (await stripe.events.list({ type: 'charge.updated', limit: 5 })).data.find((e) => e.data.object.id === ch.id);
  assert.deepEqual(ev.data.previous_attributes.fraud_details, {});
  assert.deepEqual(ev.data.object.fraud_details, { user_report: 'fraudulent' });
  // kept through a refund (which saves the charge again), changed to safe
  await stripe.refunds.create({ charge: ch.id, amount: 200 });
  assert.deepEqual((await stripe.charges.retrieve(ch.id)).fraud_details, { user_report: 'fraudulent' });
  assert.deepEqual((await stripe.charges.update(ch.id, { fraud_details: { user_report: 'safe' } })).fraud_details, { user_report: 'safe' });
  await assert.rejects(stripe.charges.update(ch.id, { fraud_details: { user_report: 'maybe' } }), (e) => e.statusCode === 400 && e.param === 'fraud_details[user_report]');
  await assert.rejects(stripe.charges.update(ch.id, { fraud_details: { stripe_report: 'fraudulent' } }), (e) => e.statusCode === 400);
  assert.deepEqual((await stripe.charges.retrieve(ch.id)).fraud_details, { user_report: 'safe' });
});

test('events list filters: type, a type wildcard, types[] (up to 20, not with type)', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 1500, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
  const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 500 });
  const mine = (l) => l.data.filter((e) => [pi.id, pi.latest_charge, refund.id].includes(e.data.object.id)).map((e) => e.type).sort();
  assert.deepEqual(mine(await stripe.events.list({ types: ['payment_intent.succeeded', 'refund.created'], limit: 20 })), ['payment_intent.succeeded', 'refund.created']);
  assert.deepEqual(mine(await stripe.events.list({ types: ['charge.succeeded'], limit: 20 })), ['charge.succeeded']);
  assert.deepEqual(mine(await stripe.events.list({ type: 'charge.*', limit: 20 })), ['charge.refunded', 'charge.succeeded']);
  assert.deepEqual(mine(await stripe.events.list({ type: 'payment_intent.created', limit: 20 })), ['payment_intent.created']);
  // paging with types[]: one at a time, newest first, the same two
  const paged = [];
  for await (const e of stripe.events.list({ types: ['payment_intent.succeeded', 'refund.created'], limit: 1 })) {
    if ([pi.id, refund.id].includes(e.data.object.id)) paged.push(e.type);
    if (paged.length === 2) break;
  }
  assert.deepEqual(paged, ['refund.created', 'payment_intent.succeeded']);
  await assert.rejects(stripe.events.list({ type: 'charge.succeeded', types: ['refund.created'] }), (e) => e.statusCode === 400 && e.param === 'types');
  const many = Array.from({ length: 21 }, (_, i) => `customer.t${i}`);
  await assert.rejects(stripe.events.list({ types: many }), (e) => e.statusCode === 400 && e.param === 'types');
  assert.equal((await stripe.events.list({ types: many.slice(0, 20) })).data.length, 0);
});

test('events keep their objects packed in the embedded store and give them back whole', async () => {
  // a confirm (its three events packed before the write) and a partial refund (packed by the
  // writer), then every event read back through the SDK: the objects are the API's own
  const pi = await stripe.paymentIntents.create({ amount: 4321, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, description: 'Packed «order» "9"', metadata: { order: '9' } });
  const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 1000 });
  const charge = await stripe.charges.retrieve(pi.latest_charge);
  const list = await stripe.events.list({ limit: 10 });
  const byType = new Map(list.data.filter((e) => [pi.id, charge.id, refund.id].includes(e.data.object.id)).map((e) => [e.type, e]));
  assert.deepEqual([...byType.keys()].sort(), ['charge.refunded', 'charge.succeeded', 'payment_intent.created', 'payment_intent.succeeded', 'refund.created']);
  const succeeded = await stripe.events.retrieve(byType.get('payment_intent.succeeded').id);
  const { lastResponse, ...piFields } = pi;
  assert.deepEqual(succeeded.data.object, piFields);
  assert.equal(byType.get('payment_intent.created').data.object.description, 'Packed «order» "9"');
  const refunded = byType.get('charge.refunded').data.object;
  assert.equal(refunded.id, charge.id);
  assert.equal(refunded.amount_refunded, 1000);
  assert.equal(refunded.balance_transaction, charge.balance_transaction);
  assert.equal(byType.get('refund.created').data.object.amount, 1000);
  for (const e of byType.values()) assertStripeShape(e.data.object, e.data.object.object);
  const pg = require('./helpers').PG_SHARD_URLS.length > 0;
  const rows = storeSql(env.dataDir, pg
    ? `SELECT type || '|' || CASE WHEN left(data_object, 1) = '{' THEN 'json' ELSE 'other' END || '|' || length(data_object) FROM events WHERE object_id IN ('${pi.id}', '${charge.id}', '${refund.id}')`
    : `SELECT type || '|' || typeof(data_object) || '|' || length(data_object) FROM events WHERE object_id IN ('${pi.id}', '${charge.id}', '${refund.id}')`)
    .join('\n').split('\n').map((l) => l.trim()).filter(Boolean).map((l) => l.split('|'));
  assert.equal(rows.length, 5);
  for (const [type, kind, len] of rows) {
    const full = Buffer.byteLength(JSON.stringify(byType.get(type).data.object));
    if (pg) {
      assert.equal(kind, 'json', `${type}: PostgreSQL keeps JSON text`);
    } else {
      assert.equal(kind, 'blob', `${type} is packed`);
      // a payment intent or a charge (1.1-1.7 KB) to a fraction; a small refund to less
      assert.ok(Number(len) * (full > 1000 ? 3 : 1) < full, `${type}: ${len} bytes packed of ${full}`);
    }
  }
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

test('a declined keyed request replays its 402 byte for byte', async () => {
  const key = `decline-${Date.now()}`;
  const body = 'amount=700&currency=usd&payment_method=pm_card_chargeDeclined&confirm=true';
  const a = await env.request({ method: 'POST', path: '/v1/payment_intents', key: env.merchant.secret_key, body, headers: { 'Idempotency-Key': key } });
  const b = await env.request({ method: 'POST', path: '/v1/payment_intents', key: env.merchant.secret_key, body, headers: { 'Idempotency-Key': key } });
  assert.equal(a.status, 402);
  assert.equal(b.status, 402);
  assert.equal(b.body, a.body);
  assert.equal(b.headers['idempotent-replayed'], 'true');
});

test('a refused keyed request is its key\'s result: replayed, and other parameters are refused', async () => {
  // Stripe saves the outcome once the endpoint began executing, refusals included: the same key
  // with a refund that fits must not make one now
  const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
  const key = `refused-${Date.now()}`;
  const post = (amount) => env.request({ method: 'POST', path: '/v1/refunds', key: env.merchant.secret_key,
    body: `payment_intent=${pi.id}&amount=${amount}`, headers: { 'Idempotency-Key': key } });
  const a = await post(5000);
  assert.equal(a.status, 400);
  assert.equal(a.json.error.code, 'amount_too_large');
  const b = await post(5000);
  assert.equal(b.status, 400);
  assert.equal(b.body, a.body);
  assert.equal(b.headers['idempotent-replayed'], 'true');
  const c = await post(500);
  assert.equal(c.status, 400);
  assert.equal(c.json.error.type, 'idempotency_error');
  assert.deepEqual((await stripe.refunds.list({ payment_intent: pi.id })).data, []);
  // a draw refused for the balance: the same, even once the balance would allow it
  const pkey = `refused-payout-${Date.now()}`;
  const p1 = await stripe.payouts.create({ amount: 100000, currency: 'usd' }, { idempotencyKey: pkey }).then(() => null, (e) => e);
  assert.equal(p1.code, 'balance_insufficient');
  await stripe.paymentIntents.create({ amount: 200000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true });
  const p2 = await stripe.payouts.create({ amount: 100000, currency: 'usd' }, { idempotencyKey: pkey }).then(() => null, (e) => e);
  assert.equal(p2.code, 'balance_insufficient');
  assert.equal(p2.headers['idempotent-replayed'], 'true');
  // parameter validation never began executing: not saved, the corrected request goes through
  const vkey = `invalid-${Date.now()}`;
  const v1 = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', bogus: 1 }, { idempotencyKey: vkey }).then(() => null, (e) => e);
  assert.equal(v1.code, 'parameter_unknown');
  const v2 = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd' }, { idempotencyKey: vkey });
  assert.equal(v2.status, 'requires_payment_method');
});

test('parameter errors: amount, currency, minimums', async () => {
  await assert.rejects(stripe.paymentIntents.create({ currency: 'usd' }), (e) => e.code === 'parameter_missing' && e.param === 'amount');
  await assert.rejects(stripe.paymentIntents.create({ amount: 1000 }), (e) => e.code === 'parameter_missing' && e.param === 'currency');
  await assert.rejects(stripe.paymentIntents.create({ amount: 1000, currency: 'zzz' }), (e) => e.statusCode === 400 && e.param === 'currency');
  await assert.rejects(stripe.paymentIntents.create({ amount: 10, currency: 'usd' }), (e) => e.code === 'amount_too_small');
  // zero or less: Stripe's words, on the parameter
  for (const amount of [0, -5]) {
    await assert.rejects(stripe.paymentIntents.create({ amount, currency: 'usd' }), (e) => e.statusCode === 400 &&
      e.code === 'parameter_invalid_integer' && e.param === 'amount' && e.message === 'This value must be greater than or equal to 1.');
    await assert.rejects(stripe.charges.create({ amount, currency: 'usd', source: 'tok_visa' }), (e) => e.code === 'parameter_invalid_integer' && e.param === 'amount');
  }
  await assert.rejects(stripe.paymentIntents.create({ amount: 100000000, currency: 'usd' }), (e) => e.code === 'amount_too_large');
  await assert.rejects(stripe.paymentIntents.create({ amount: 1000, currency: 'usd', status: 'succeeded' }), (e) => e.code === 'parameter_unknown');
  await assert.rejects(stripe.paymentIntents.create({ amount: 1000, currency: 'usd', amount_received: 5 }), (e) => e.code === 'parameter_unknown');
  await assert.rejects(stripe.paymentIntents.create({ amount: 1000, currency: 'usd', capture_method: 'later' }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.paymentIntents.create({ amount: 1000, currency: 'usd', customer: 'cus_nope' }), (e) => e.statusCode === 404 && e.param === 'customer');
  await assert.rejects(stripe.paymentIntents.retrieve('pi_nope'), (e) => e.statusCode === 404);
  const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'USD' });
  assert.equal(pi.currency, 'usd');
});

test('update, list by customer, expand customer and payment_method', async () => {
  const cus = await stripe.customers.create({ email: 'buyer@example.com' });
  let pi = await stripe.paymentIntents.create({ amount: 1200, currency: 'usd', customer: cus.id });
  pi = await stripe.paymentIntents.update(pi.id, { amount: 1300, description: 'edited', metadata: { a: 'b' } });
  assert.equal(pi.amount, 1300);
  assert.equal(pi.description, 'edited');
  assert.deepEqual(pi.metadata, { a: 'b' });
  pi = await stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa', expand: ['customer', 'payment_method'] });
  assert.equal(pi.customer.id, cus.id);
  assert.equal(pi.payment_method.object, 'payment_method');
  const list = await stripe.paymentIntents.list({ customer: cus.id });
  assert.deepEqual(list.data.map((p) => p.id), [pi.id]);
  const charges = await stripe.charges.list({ payment_intent: pi.id });
  assert.equal(charges.data.length, 1);
  const ch = await stripe.charges.update(charges.data[0].id, { description: 'charge note', metadata: { k: 'v' } });
  assert.equal(ch.description, 'charge note');
  const ex = await stripe.charges.retrieve(ch.id, { expand: ['payment_intent', 'balance_transaction'] });
  assert.equal(ex.payment_intent.id, pi.id);
  assert.equal(ex.balance_transaction.object, 'balance_transaction');
});

test('lists filtered by customer, charge or intent page through that filter\'s own statements both ways', async () => {
  // a filter with an index runs its own statements (api/list.h, list_narrow): the same pages,
  // cursors and bounds as the unfiltered list, with other merchants' and customers' rows around
  const [a, b] = [await stripe.customers.create(), await stripe.customers.create()];
  const pis = [];
  for (let i = 0; i < 3; i++) {
    pis.push(await stripe.paymentIntents.create({ amount: 1000 + i, currency: 'usd', customer: a.id, payment_method: 'pm_card_visa', confirm: true }));
    await stripe.paymentIntents.create({ amount: 2000 + i, currency: 'usd', customer: b.id, payment_method: 'pm_card_visa', confirm: true });
    await stripe.paymentIntents.create({ amount: 3000 + i, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
  }
  const newest = pis.map((p) => p.id).reverse();
  const chargesNewest = pis.map((p) => p.latest_charge).reverse();
  const other = env.stripe(env.merchants[1].secret_key);
  assert.deepEqual((await other.paymentIntents.list({ customer: a.id })).data, []);
  for (const [list, want] of [[(p) => stripe.paymentIntents.list(p), newest], [(p) => stripe.charges.list(p), chargesNewest]]) {
    const p1 = await list({ customer: a.id, limit: 2 });
    assert.deepEqual(p1.data.map((x) => x.id), want.slice(0, 2));
    assert.equal(p1.has_more, true);
    const p2 = await list({ customer: a.id, limit: 2, starting_after: p1.data[1].id });
    assert.deepEqual(p2.data.map((x) => x.id), want.slice(2));
    assert.equal(p2.has_more, false);
    const back = await list({ customer: a.id, limit: 2, ending_before: want[2] });
    assert.deepEqual(back.data.map((x) => x.id), want.slice(0, 2));
    assert.equal(back.has_more, false);
    // the created bounds still apply
    const since = await list({ customer: a.id, created: { gte: pis[2].created + 1 } });
    assert.deepEqual(since.data, []);
  }
  const found = await stripe.paymentIntents.search({ query: `customer:"${a.id}" AND amount>1000` });
  assert.deepEqual(found.data.map((x) => x.id).sort(), newest.slice(0, 2).sort());
  // refunds by charge and by intent: two on one payment, one on another
  const r1 = await stripe.refunds.create({ payment_intent: pis[0].id, amount: 100 });
  const r2 = await stripe.refunds.create({ payment_intent: pis[0].id, amount: 200 });
  const r3 = await stripe.refunds.create({ payment_intent: pis[1].id, amount: 300 });
  assert.deepEqual((await stripe.refunds.list({ payment_intent: pis[0].id })).data.map((x) => x.id), [r2.id, r1.id]);
  assert.deepEqual((await stripe.refunds.list({ charge: pis[0].latest_charge, limit: 1 })).data.map((x) => x.id), [r2.id]);
  assert.deepEqual((await stripe.refunds.list({ charge: pis[0].latest_charge, starting_after: r2.id })).data.map((x) => x.id), [r1.id]);
  assert.deepEqual((await stripe.refunds.list({ payment_intent: pis[1].id, charge: pis[1].latest_charge })).data.map((x) => x.id), [r3.id]);
  assert.deepEqual((await stripe.refunds.list({ payment_intent: pis[1].id, charge: pis[0].latest_charge })).data, []);
  assertStripeShape((await stripe.refunds.list({ payment_intent: pis[1].id })).data[0], 'refund');
});

test('refunds: partial refunds add up, over-refund is refused, full refund marks refunded', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
  const r1 = await stripe.refunds.create({ payment_intent: pi.id, amount: 300, reason: 'requested_by_customer', metadata: { n: '1' } });
  assert.equal(r1.status, 'succeeded');
  assert.equal(r1.amount, 300);
  assert.equal(r1.charge, pi.latest_charge);
  assertStripeShape(r1, 'refund');
  const r2 = await stripe.refunds.create({ charge: pi.latest_charge, amount: 500 });
  assert.equal(r2.amount, 500);
  await assert.rejects(stripe.refunds.create({ charge: pi.latest_charge, amount: 201 }), (e) => e.statusCode === 400);
  const r3 = await stripe.refunds.create({ charge: pi.latest_charge });
  assert.equal(r3.amount, 200);
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(ch.amount_refunded, 1000);
  assert.equal(ch.refunded, true);
  await assert.rejects(stripe.refunds.create({ charge: ch.id }), (e) => e.code === 'charge_already_refunded');
  const list = await stripe.refunds.list({ charge: ch.id });
  assert.deepEqual(list.data.map((r) => r.id), [r3.id, r2.id, r1.id]);
  const up = await stripe.refunds.update(r1.id, { metadata: { n: '2' } });
  assert.deepEqual(up.metadata, { n: '2' });
  const bt = await stripe.balanceTransactions.retrieve((await stripe.refunds.retrieve(r1.id)).balance_transaction);
  assert.equal(bt.type, 'refund');
  assert.equal(bt.amount, -300);
});

test('refund of an uncaptured payment cancels it', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', capture_method: 'manual', payment_method: 'pm_card_visa', confirm: true });
  const r = await stripe.refunds.create({ payment_intent: pi.id });
  assert.equal(r.amount, 1000);
  const after = await stripe.paymentIntents.retrieve(pi.id);
  assert.equal(after.status, 'canceled');
});

test('refund test cards: 7726 pending then succeeded, 5126 succeeded then failed', async () => {
  const pm1 = await stripe.paymentMethods.create(card('4000000000007726'));
  const p1 = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: pm1.id, confirm: true });
  const r1 = await stripe.refunds.create({ payment_intent: p1.id });
  assert.equal(r1.status, 'pending');
  await waitFor(async () => (await stripe.refunds.retrieve(r1.id)).status === 'succeeded');

  const pm2 = await stripe.paymentMethods.create(card('4000000000005126'));
  const p2 = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: pm2.id, confirm: true });
  const r2 = await stripe.refunds.create({ payment_intent: p2.id, amount: 400 });
  assert.equal(r2.status, 'succeeded');
  const failed = await waitFor(async () => {
    const x = await stripe.refunds.retrieve(r2.id);
    return x.status === 'failed' ? x : null;
  });
  assert.ok(failed.failure_balance_transaction);
  // the events docs.stripe.com/testing names for these refunds: charge.refund.updated each time
  const refundEvents = async (id) => (await stripe.events.list({ limit: 100 })).data
    .filter((e) => e.data.object.id === id).map((e) => e.type).reverse();
  assert.deepEqual(await refundEvents(r1.id), ['refund.created', 'refund.updated', 'charge.refund.updated']);
  assert.deepEqual((await refundEvents(r2.id)).slice(-3), ['refund.updated', 'charge.refund.updated', 'refund.failed']);
  const ch = await stripe.charges.retrieve(p2.latest_charge);
  assert.equal(ch.amount_refunded, 0, 'a failed refund returns the money');

  const pm3 = await stripe.paymentMethods.create(card('4000000000007726'));
  const p3 = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: pm3.id, confirm: true });
  const r3 = await stripe.refunds.create({ payment_intent: p3.id });
  const canceled = await stripe.refunds.cancel(r3.id);
  assert.equal(canceled.status, 'canceled');
  assert.equal((await stripe.charges.retrieve(p3.latest_charge)).amount_refunded, 0);
});

test('20 concurrent refunds never exceed the captured amount', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
  const results = await Promise.allSettled(Array.from({ length: 20 }, () => stripe.refunds.create({ payment_intent: pi.id, amount: 100 })));
  const ok = results.filter((r) => r.status === 'fulfilled');
  assert.equal(ok.length, 10);
  for (const r of results.filter((x) => x.status === 'rejected')) assert.equal(r.reason.statusCode, 400);
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(ch.amount_refunded, 1000);
});

test('16 concurrent captures capture once', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 2500, currency: 'usd', capture_method: 'manual', payment_method: 'pm_card_visa', confirm: true });
  const results = await Promise.allSettled(Array.from({ length: 16 }, () => stripe.paymentIntents.capture(pi.id)));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  const charges = await stripe.charges.list({ payment_intent: pi.id });
  assert.equal(charges.data.length, 1);
  assert.equal(charges.data[0].amount_captured, 2500);
});

test('40 concurrent creates with one idempotency key make one payment', async () => {
  const key = `pi-race-${Date.now()}`;
  const s = env.stripe(env.merchant.secret_key, { maxNetworkRetries: 20 });
  const results = await Promise.all(Array.from({ length: 40 }, () =>
    s.paymentIntents.create({ amount: 4242, currency: 'usd', payment_method: 'pm_card_visa', confirm: true }, { idempotencyKey: key })));
  assert.equal(new Set(results.map((p) => p.id)).size, 1);
  const charges = await stripe.charges.list({ payment_intent: results[0].id });
  assert.equal(charges.data.length, 1);
});

test('legacy charges: source token, capture=false, capture; tokens are single-use', async () => {
  const tok = await stripe.tokens.create({ card: { number: '4242424242424242', exp_month: 12, exp_year: 2034, cvc: '314' } });
  let ch = await stripe.charges.create({ amount: 999, currency: 'usd', source: tok.id, capture: false });
  assert.equal(ch.captured, false);
  assert.equal(ch.payment_intent, null);
  await assert.rejects(stripe.charges.create({ amount: 999, currency: 'usd', source: tok.id }), (e) => e.statusCode === 400);
  ch = await stripe.charges.capture(ch.id, { amount: 500 });
  assert.equal(ch.captured, true);
  assert.equal(ch.amount_captured, 500);
  await assert.rejects(stripe.charges.capture(ch.id), (e) => e.code === 'charge_already_captured');
  const direct = await stripe.charges.create({ amount: 1500, currency: 'usd', source: 'tok_visa' });
  assert.equal(direct.captured, true);
  assertStripeShape(direct, 'charge');
  const dec = await stripe.charges.create({ amount: 1500, currency: 'usd', source: 'tok_chargeDeclined' }).then(() => null, (e) => e);
  assert.equal(dec.type, 'StripeCardError');
  assert.match(dec.raw.charge, /^ch_/);
});

test('balance is the sum of balance transactions; another merchant sees nothing', async () => {
  const s = env.stripe(env.merchants[1].secret_key);
  const before = await s.balance.retrieve();
  assert.deepEqual(before.pending, []);
  await s.paymentIntents.create({ amount: 10000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
  const p2 = await s.paymentIntents.create({ amount: 5000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
  await s.refunds.create({ payment_intent: p2.id, amount: 1000 });
  const bal = await s.balance.retrieve();
  assertStripeShape(bal, 'balance');
  const txns = [];
  for await (const t of s.balanceTransactions.list({ limit: 100 })) txns.push(t);
  const sum = (st) => txns.filter((t) => t.status === st).reduce((a, t) => a + t.net, 0);
  const pending = bal.pending.find((b) => b.currency === 'usd');
  const available = bal.available.find((b) => b.currency === 'usd');
  assert.equal(pending ? pending.amount : 0, sum('pending'));
  assert.equal(available ? available.amount : 0, sum('available'));
  // 10000 - 320 fee + 5000 - 175 fee - 1000 refund
  assert.equal(sum('pending') + sum('available'), 10000 - 320 + 5000 - 175 - 1000);
  const refundsOnly = await s.balanceTransactions.list({ type: 'refund' });
  assert.ok(refundsOnly.data.every((t) => t.type === 'refund'));
  // isolation
  await assert.rejects(stripe.paymentIntents.retrieve(p2.id), (e) => e.statusCode === 404);
  await assert.rejects(stripe.refunds.create({ payment_intent: p2.id }), (e) => e.statusCode === 404);
});

test('legacy charge refund routes: /v1/charges/{charge}/refunds and /refund adapt POST /v1/refunds', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
  const chId = pi.latest_charge;
  // create through the nested route: the path's charge, same refund, same events
  const r1 = await stripe.rawRequest('POST', `/v1/charges/${chId}/refunds`, { amount: 300, metadata: { n: '1' } }, { idempotencyKey: `legacy-${chId}` });
  assert.equal(r1.object, 'refund');
  assert.equal(r1.charge, chId);
  assert.equal(r1.amount, 300);
  assert.equal(r1.status, 'succeeded');
  assertStripeShape(r1, 'refund');
  // same key, same answer; nothing refunded twice
  const again = await stripe.rawRequest('POST', `/v1/charges/${chId}/refunds`, { amount: 300, metadata: { n: '1' } }, { idempotencyKey: `legacy-${chId}` });
  assert.equal(again.id, r1.id);
  assert.equal((await stripe.charges.retrieve(chId)).amount_refunded, 300);
  // the charge is the path's: a `charge` parameter is not this route's
  await assert.rejects(stripe.rawRequest('POST', `/v1/charges/${chId}/refunds`, { charge: chId }), (e) => e.statusCode === 400 && e.code === 'parameter_unknown');
  // a cash balance's refund (origin, customer, currency) has no charge: POST /v1/refunds makes
  // it, this path refuses it and refunds nothing; currency is a cash balance refund's only
  const cus = await stripe.customers.create();
  for (const [params, param] of [[{ origin: 'customer_balance', customer: cus.id, currency: 'usd', amount: 100 }, 'origin'], [{ customer: cus.id }, 'customer'], [{ currency: 'usd', amount: 100 }, 'currency']]) {
    await assert.rejects(stripe.rawRequest('POST', `/v1/charges/${chId}/refunds`, params), (e) => e.statusCode === 400 && e.param === param, param);
  }
  assert.equal((await stripe.charges.retrieve(chId)).amount_refunded, 300);
  // the oldest form answers the charge, refreshed, with expand[] applied to it
  const ch = await stripe.rawRequest('POST', `/v1/charges/${chId}/refund`, { amount: 200, reason: 'requested_by_customer', expand: ['balance_transaction'] });
  assert.equal(ch.object, 'charge');
  assert.equal(ch.id, chId);
  assert.equal(ch.amount_refunded, 500);
  assert.equal(ch.refunded, false);
  assert.equal(ch.balance_transaction.object, 'balance_transaction');
  assertStripeShape({ ...ch, balance_transaction: ch.balance_transaction.id }, 'charge');
  const over = await stripe.rawRequest('POST', `/v1/charges/${chId}/refund`, { amount: 501 }).catch((e) => e);
  assert.equal(over.statusCode, 400);
  assert.equal((await stripe.charges.retrieve(chId)).amount_refunded, 500);
  const types = (await stripe.events.list({ limit: 20 })).data.filter((e) => e.data.object.id === chId || e.data.object.charge === chId).map((e) => e.type).reverse();
  assert.deepEqual(types.slice(-4), ['refund.created', 'charge.refunded', 'refund.created', 'charge.refunded']);
  // the list: this charge's refunds only, its own url, cursors
  const other = await stripe.paymentIntents.create({ amount: 700, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
  const rOther = await stripe.refunds.create({ charge: other.latest_charge });
  const list = await stripe.rawRequest('GET', `/v1/charges/${chId}/refunds`);
  assert.equal(list.object, 'list');
  assert.equal(list.url, `/v1/charges/${chId}/refunds`);
  assert.equal(list.data.length, 2);
  assert.ok(list.data.every((r) => r.charge === chId));
  list.data.forEach((r) => assertStripeShape(r, 'refund'));
  const page = await stripe.rawRequest('GET', `/v1/charges/${chId}/refunds?limit=1`);
  assert.equal(page.has_more, true);
  const page2 = await stripe.rawRequest('GET', `/v1/charges/${chId}/refunds?limit=1&starting_after=${page.data[0].id}`);
  assert.equal(page2.has_more, false);
  assert.deepEqual([page.data[0].id, page2.data[0].id], list.data.map((r) => r.id));
  // retrieve and update one; a refund of another charge is not there
  const got = await stripe.rawRequest('GET', `/v1/charges/${chId}/refunds/${r1.id}`);
  assert.equal(JSON.stringify(got), JSON.stringify(r1));
  const up = await stripe.rawRequest('POST', `/v1/charges/${chId}/refunds/${r1.id}`, { metadata: { n: '2' } });
  assert.deepEqual(up.metadata, { n: '2' });
  assertStripeShape(up, 'refund');
  await assert.rejects(stripe.rawRequest('GET', `/v1/charges/${chId}/refunds/${rOther.id}`), (e) => e.statusCode === 404 && e.code === 'resource_missing');
  await assert.rejects(stripe.rawRequest('POST', `/v1/charges/${chId}/refunds/${rOther.id}`, { metadata: { x: '1' } }), (e) => e.statusCode === 404);
  assert.deepEqual((await stripe.refunds.retrieve(rOther.id)).metadata, {});
  await assert.rejects(stripe.rawRequest('GET', '/v1/charges/ch_nope/refunds'), (e) => e.statusCode === 404 && e.param === 'charge');
  // another merchant sees none of it
  const s1 = env.stripe(env.merchants[1].secret_key);
  await assert.rejects(s1.rawRequest('GET', `/v1/charges/${chId}/refunds`), (e) => e.statusCode === 404);
  await assert.rejects(s1.rawRequest('GET', `/v1/charges/${chId}/refunds/${r1.id}`), (e) => e.statusCode === 404);
  await assert.rejects(s1.rawRequest('POST', `/v1/charges/${chId}/refund`, {}), (e) => e.statusCode === 404);
  await assert.rejects(s1.rawRequest('POST', `/v1/charges/${chId}/refunds`, {}), (e) => e.statusCode === 404);
  assert.equal((await stripe.charges.retrieve(chId)).amount_refunded, 500);
});

test('test helper refund expire: only a refund in requires_action, which Tender never makes', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
  const r = await stripe.refunds.create({ payment_intent: pi.id, amount: 100 });
  const e = await stripe.testHelpers.refunds.expire(r.id).catch((x) => x);
  assert.equal(e.statusCode, 400);
  assert.match(e.message, /requires_action/);
  assert.equal((await stripe.refunds.retrieve(r.id)).status, 'succeeded');
  await assert.rejects(stripe.testHelpers.refunds.expire('re_nope'), (x) => x.statusCode === 404 && x.code === 'resource_missing');
  await assert.rejects(env.stripe(env.merchants[1].secret_key).testHelpers.refunds.expire(r.id), (x) => x.statusCode === 404);
});

test('tender verify passes after all of this', async () => {
  const out = tender(['verify', '--data', env.dataDir]);
  assert.match(out, /verify: ok/);
});

test('increment_authorization: a larger hold on an uncaptured payment that asked for it', async () => {
  const pi = await stripe.paymentIntents.create({
    amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', capture_method: 'manual', confirm: true,
    payment_method_options: { card: { request_incremental_authorization: 'if_available' } },
  });
  assert.equal(pi.status, 'requires_capture');
  assert.equal(pi.payment_method_options.card.request_incremental_authorization, 'if_available');
  assertStripeShape(pi, 'payment_intent');
  const up = await stripe.paymentIntents.incrementAuthorization(pi.id, { amount: 1500, metadata: { tip: '500' } });
  assert.equal(up.amount, 1500);
  assert.equal(up.amount_capturable, 1500);
  assert.deepEqual(up.metadata, { tip: '500' });
  assertStripeShape(up, 'payment_intent');
  const ch = await stripe.charges.retrieve(up.latest_charge);
  assert.equal(ch.amount, 1500);
  assert.equal(ch.captured, false);
  // not down, not to the same amount
  for (const amount of [1500, 900]) {
    await assert.rejects(stripe.paymentIntents.incrementAuthorization(pi.id, { amount }),
      (e) => e.statusCode === 400 && e.param === 'amount');
  }
  // capture part of it: the rest of the hold is released
  const cap = await stripe.paymentIntents.capture(pi.id, { amount_to_capture: 1200 });
  assert.equal(cap.status, 'succeeded');
  assert.equal(cap.amount_received, 1200);
  const bt = await stripe.balanceTransactions.retrieve((await stripe.charges.retrieve(cap.latest_charge)).balance_transaction);
  assert.equal(bt.amount, 1200);
  await assert.rejects(stripe.paymentIntents.incrementAuthorization(pi.id, { amount: 2000 }),
    (e) => e.statusCode === 400 && e.code === 'payment_intent_unexpected_state');
  const evs = (await stripe.events.list({ type: 'payment_intent.amount_capturable_updated', limit: 20 })).data
    .filter((e) => e.data.object.id === pi.id).map((e) => e.data.object.amount_capturable);
  assert.deepEqual(evs.sort(), [1000, 1500]);
  // an intent that did not ask cannot be incremented
  const plain = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', capture_method: 'manual', confirm: true });
  await assert.rejects(stripe.paymentIntents.incrementAuthorization(plain.id, { amount: 1100 }),
    (e) => e.statusCode === 400 && e.code === 'payment_intent_unexpected_state');
  assert.equal((await stripe.paymentIntents.retrieve(plain.id)).amount, 1000);
  // the books agree: holds, captures and releases
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

test('4000000000000077 (pm_card_bypassPending): available at once, and its available_on says so', async () => {
  // Stripe: the funds skip the pending balance; the balance transaction's available_on is when
  // its funds became available, not the day an ordinary charge's would
  const auto = await stripe.paymentIntents.create({
    amount: 3000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true,
    expand: ['latest_charge.balance_transaction'],
  });
  const manual = await stripe.paymentIntents.create({
    amount: 3000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true, capture_method: 'manual',
  });
  const captured = await stripe.paymentIntents.capture(manual.id, { amount_to_capture: 2000, expand: ['latest_charge.balance_transaction'] });
  for (const bt of [auto.latest_charge.balance_transaction, captured.latest_charge.balance_transaction]) {
    assert.equal(bt.status, 'available');
    assert.ok(bt.available_on <= bt.created + 1, `available_on ${bt.available_on}, created ${bt.created}`);
    assert.deepEqual(await stripe.balanceTransactions.retrieve(bt.id), bt);
  }
  // an ordinary charge's funds are pending until their day
  const plain = await stripe.paymentIntents.create({
    amount: 3000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, expand: ['latest_charge.balance_transaction'],
  });
  assert.equal(plain.latest_charge.balance_transaction.status, 'pending');
  assert.ok(plain.latest_charge.balance_transaction.available_on > plain.latest_charge.balance_transaction.created);
});

test("a charge carries its PaymentIntent's shipping, or the Charges API's own", async () => {
  const shipping = { name: 'Jenny Rosen', phone: '+15555550123', carrier: 'UPS', tracking_number: '1Z999',
    address: { line1: '510 Townsend St', city: 'San Francisco', postal_code: '94103', state: 'CA', country: 'US' } };
  const pi = await stripe.paymentIntents.create({ amount: 1500, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, shipping });
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  const want = { ...shipping, address: { line2: null, ...shipping.address } };
  assert.deepEqual(ch.shipping, want);
  assert.deepEqual(pi.shipping, want);
  const legacy = await stripe.charges.create({ amount: 1600, currency: 'usd', source: 'tok_visa', shipping: { name: 'Ann', address: { line1: '1 Main St', country: 'US' } } });
  assert.equal(legacy.shipping.name, 'Ann');
  assert.equal(legacy.shipping.address.line1, '1 Main St');
  assert.equal(legacy.shipping.carrier, null);
  assert.deepEqual((await stripe.charges.retrieve(legacy.id)).shipping, legacy.shipping);
  // without shipping: null, as before
  const plain = await stripe.paymentIntents.create({ amount: 1700, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
  assert.equal((await stripe.charges.retrieve(plain.latest_charge)).shipping, null);
  await assert.rejects(stripe.charges.create({ amount: 1600, currency: 'usd', source: 'tok_visa', shipping: { address: { line1: 'x' } } }),
    (e) => e.statusCode === 400 && /shipping\[name\]/.test(e.param));
});

// automatic_payment_methods: the intent offers what the merchant's payment method configuration
// has on that Tender takes in the intent's currency; a confirmation that may redirect needs a
// return_url.
const RETURN_URL_NEEDED = /^A `return_url` must be specified because this Payment Intent is configured to automatically accept the payment methods enabled in the Dashboard, some of which may require a full page redirect to succeed\. If you do not want to accept redirect-based payment methods, set `automatic_payment_methods\[enabled\]` to `true` and `automatic_payment_methods\[allow_redirects\]` to `never` when creating Setup Intents and Payment Intents\.$/;

async function apmRejects(p, param, re) {
  await assert.rejects(p, (e) => {
    assert.equal(e.statusCode, 400, e.message);
    assert.equal(e.type, 'StripeInvalidRequestError');
    assert.equal(e.param, param);
    assert.match(e.message, re);
    return true;
  });
}

test('automatic_payment_methods: shown as asked, types from the default configuration by currency and redirects', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 1500, currency: 'usd', automatic_payment_methods: { enabled: true } });
  assert.deepEqual(pi.automatic_payment_methods, { allow_redirects: 'always', enabled: true });
  assert.deepEqual(pi.payment_method_types, ['card']);
  assertStripeShape(pi, 'payment_intent');
  assert.deepEqual(await stripe.paymentIntents.retrieve(pi.id), pi);
  // an intent that did not ask is as before
  const plain = await stripe.paymentIntents.create({ amount: 1500, currency: 'eur' });
  assert.equal(plain.automatic_payment_methods, null);
  assert.equal(plain.payment_method_configuration_details, null);
  assert.deepEqual(plain.payment_method_types, ['card']);

  // the types came from the merchant's default configuration (made by that first create)
  const def = (await stripe.paymentMethodConfigurations.list()).data.find((c) => c.is_default);
  assert.deepEqual(pi.payment_method_configuration_details, { id: def.id, parent: null });
  const onIdeal = await stripe.paymentMethodConfigurations.update(def.id, { ideal: { display_preference: { preference: 'on' } } });
  assert.deepEqual(onIdeal.ideal, { available: true, display_preference: { overridable: null, preference: 'on', value: 'on' } });
  try {
    const eur = await stripe.paymentIntents.create({ amount: 1500, currency: 'eur', automatic_payment_methods: { enabled: true } });
    assert.deepEqual(eur.payment_method_types, ['card', 'ideal']);
    assertStripeShape(eur, 'payment_intent');
    const usd = await stripe.paymentIntents.create({ amount: 1500, currency: 'usd', automatic_payment_methods: { enabled: true } });
    assert.deepEqual(usd.payment_method_types, ['card']);
    const never = await stripe.paymentIntents.create({
      amount: 1500, currency: 'eur', automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    });
    assert.deepEqual(never.automatic_payment_methods, { allow_redirects: 'never', enabled: true });
    assert.deepEqual(never.payment_method_types, ['card']);
    // the currency changes: computed again (and nothing for an intent that did not ask)
    const moved = await stripe.paymentIntents.update(usd.id, { currency: 'eur' });
    assert.deepEqual(moved.payment_method_types, ['card', 'ideal']);
    assert.deepEqual((await stripe.paymentIntents.update(eur.id, { currency: 'usd' })).payment_method_types, ['card']);
    assert.deepEqual((await stripe.paymentIntents.update(plain.id, { currency: 'usd' })).payment_method_types, ['card']);
    // manual capture keeps what can be captured later (not iDEAL)
    const manual = await stripe.paymentIntents.create({
      amount: 1500, currency: 'eur', capture_method: 'manual', automatic_payment_methods: { enabled: true },
    });
    assert.deepEqual(manual.payment_method_types, ['card']);
    // a configuration named: its own preferences, not the default's
    const cardOnly = await stripe.paymentMethodConfigurations.create({ name: 'Cards here' });
    const named = await stripe.paymentIntents.create({
      amount: 1500, currency: 'eur', automatic_payment_methods: { enabled: true }, payment_method_configuration: cardOnly.id,
    });
    assert.deepEqual(named.payment_method_types, ['card']);
    assert.deepEqual(named.payment_method_configuration_details, { id: cardOnly.id, parent: null });
    // computed again from that configuration, not the default, when the currency changes
    assert.deepEqual((await stripe.paymentIntents.update(named.id, { currency: 'usd' })).payment_method_configuration_details,
      { id: cardOnly.id, parent: null });
    const sepa = await stripe.paymentMethodConfigurations.create({
      name: 'Debits', sepa_debit: { display_preference: { preference: 'on' } },
    });
    assert.equal(sepa.sepa_debit.display_preference.value, 'on');
    assert.deepEqual((await stripe.paymentIntents.create({
      amount: 1500, currency: 'eur', automatic_payment_methods: { enabled: true }, payment_method_configuration: sepa.id,
    })).payment_method_types, ['card', 'sepa_debit']);
  } finally {
    await stripe.paymentMethodConfigurations.update(def.id, { ideal: { display_preference: { preference: 'off' } } });
  }
  const after = await stripe.paymentIntents.create({ amount: 1500, currency: 'eur', automatic_payment_methods: { enabled: true } });
  assert.deepEqual(after.payment_method_types, ['card']);
});

test('automatic_payment_methods: refusals change nothing; return_url or allow_redirects=never confirms', async () => {
  const count = async () => (await stripe.paymentIntents.list({ limit: 100 })).data.length;
  const n0 = await count();
  await apmRejects(stripe.paymentIntents.create({
    amount: 1500, currency: 'usd', automatic_payment_methods: { enabled: true }, payment_method_types: ['card'],
  }), undefined, /^You may only specify one of these parameters: automatic_payment_methods, payment_method_types\.$/);
  await apmRejects(stripe.paymentIntents.create({
    amount: 1500, currency: 'usd', automatic_payment_methods: { allow_redirects: 'never' },
  }), 'automatic_payment_methods[enabled]', /enabled/);
  await apmRejects(stripe.paymentIntents.create({
    amount: 1500, currency: 'usd', automatic_payment_methods: { enabled: true, allow_redirects: 'sometimes' },
  }), 'automatic_payment_methods[allow_redirects]', /allow_redirects/);
  await apmRejects(stripe.paymentIntents.create({
    amount: 1500, currency: 'usd', automatic_payment_methods: { enabled: true }, payment_method: 'pm_card_visa', confirm: true,
  }), undefined, RETURN_URL_NEEDED);
  // not even the PaymentMethod of payment_method_data is made
  const pms = (await stripe.paymentMethods.list({ type: 'card', limit: 100 })).data.length;
  await apmRejects(stripe.paymentIntents.create({
    amount: 1500, currency: 'usd', automatic_payment_methods: { enabled: true }, confirm: true,
    payment_method_data: { type: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2034, cvc: '123' } },
  }), undefined, RETURN_URL_NEEDED);
  assert.equal((await stripe.paymentMethods.list({ type: 'card', limit: 100 })).data.length, pms);
  assert.equal(await count(), n0);

  const pi = await stripe.paymentIntents.create({ amount: 1500, currency: 'usd', automatic_payment_methods: { enabled: true } });
  await apmRejects(stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' }), undefined, RETURN_URL_NEEDED);
  assert.deepEqual(await stripe.paymentIntents.retrieve(pi.id), pi);
  const paid = await stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa', return_url: 'https://shop.example/back' });
  assert.equal(paid.status, 'succeeded');
  assert.deepEqual(paid.automatic_payment_methods, { allow_redirects: 'always', enabled: true });
  assertStripeShape(paid, 'payment_intent');
  const withUrl = await stripe.paymentIntents.create({
    amount: 1500, currency: 'usd', automatic_payment_methods: { enabled: true }, payment_method: 'pm_card_visa',
    confirm: true, return_url: 'https://shop.example/back',
  });
  assert.equal(withUrl.status, 'succeeded');
  const never = await stripe.paymentIntents.create({
    amount: 1500, currency: 'usd', automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    payment_method: 'pm_card_visa', confirm: true,
  });
  assert.equal(never.status, 'succeeded');

  // a redirect PaymentMethod under allow_redirects=never
  const ideal = await stripe.paymentMethods.create({ type: 'ideal', ideal: { bank: 'ing' }, billing_details: { name: 'Jenny Rosen' } });
  const eur = await stripe.paymentIntents.create({
    amount: 1500, currency: 'eur', automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
  });
  await apmRejects(stripe.paymentIntents.confirm(eur.id, { payment_method: ideal.id }), 'payment_method',
    /^The PaymentMethod provided \(ideal\) requires a redirect/);
  assert.deepEqual(await stripe.paymentIntents.retrieve(eur.id), eur);
  const n1 = await count();
  await apmRejects(stripe.paymentIntents.create({
    amount: 1500, currency: 'eur', automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    payment_method: ideal.id, confirm: true,
  }), 'payment_method', /requires a redirect/);
  assert.equal(await count(), n1);
});

// Stripe's fee per card origin and conversion (README "Money", src/ledger/ledger.c's table): a
// domestic card 2.9 % + 30, an international one + 1.5 %, a converted charge + 1 %; one
// "Stripe processing fees" line with the total, as Stripe's balance transactions show it.
test('fees: an international card pays + 1.5 %, a converted charge + 1 %, on every booking path', async () => {
  const btOf = async (chargeId) => {
    const ch = await stripe.charges.retrieve(chargeId, { expand: ['balance_transaction'] });
    const bt = ch.balance_transaction;
    assertStripeShape(bt, 'balance_transaction');
    assert.equal(bt.net, bt.amount - bt.fee, 'amount = fee + net');
    assert.deepEqual(bt.fee_details, [{
      amount: bt.fee, application: null, currency: bt.currency,
      description: 'Stripe processing fees', type: 'stripe_fee',
    }]);
    return bt;
  };
  // a JCB test card is issued in Japan: 2000 × 4.4 % = 88, + 30 = 118
  const jp = await stripe.paymentIntents.create({
    amount: 2000, currency: 'usd', payment_method: 'pm_card_jcb', confirm: true,
  });
  assert.equal(jp.latest_charge && (await stripe.charges.retrieve(jp.latest_charge)).payment_method_details.card.country, 'JP');
  let bt = await btOf(jp.latest_charge);
  assert.equal(bt.fee, 118);
  assert.equal(bt.net, 1882);
  // a card of Stripe's cards-by-country table is issued where the table says: Brazil, international too
  const br = await stripe.paymentIntents.create({
    amount: 2000, currency: 'usd', payment_method: (await stripe.paymentMethods.create(card('4000000760000002'))).id, confirm: true,
  });
  assert.equal((await stripe.charges.retrieve(br.latest_charge)).payment_method_details.card.country, 'BR');
  assert.equal((await btOf(br.latest_charge)).fee, 118);
  // the same card captured later (the fee priced from the stored charge): 1500 of 2000 captured,
  // 1500 × 4.4 % = 66, + 30 = 96
  const held = await stripe.paymentIntents.create({
    amount: 2000, currency: 'usd', payment_method: 'pm_card_jcb', confirm: true, capture_method: 'manual',
  });
  const captured = await stripe.paymentIntents.capture(held.id, { amount_to_capture: 1500 });
  bt = await btOf(captured.latest_charge);
  assert.equal(bt.fee, 96);
  // a domestic card is unchanged: the legacy Charges API, captured later: 1000 × 2.9 % = 29, + 30
  const legacy = await stripe.charges.create({ amount: 1000, currency: 'usd', source: 'tok_visa', capture: false });
  await stripe.charges.capture(legacy.id);
  bt = await btOf(legacy.id);
  assert.equal(bt.fee, 59);
  // a US card charged in eur for this usd merchant: converted, 2.9 % + 1 % = 3.9 % of the
  // converted amount, + 30 (the amount depends on the bundled rate: the rule, by hand)
  const eur = await stripe.paymentIntents.create({
    amount: 2000, currency: 'eur', payment_method: 'pm_card_visa', confirm: true,
  });
  bt = await btOf(eur.latest_charge);
  assert.equal(bt.currency, 'usd');
  assert.notEqual(bt.exchange_rate, null);
  assert.equal(bt.amount, Math.round(2000 * bt.exchange_rate));
  assert.equal(bt.fee, Math.floor((bt.amount * 390 + 5000) / 10000) + 30);
  // both: a JCB card charged in gbp, captured by hand: 2.9 + 1.5 + 1 = 5.4 %
  const both = await stripe.charges.create({ amount: 5000, currency: 'gbp', source: 'tok_jcb', capture: false });
  await stripe.charges.capture(both.id);
  bt = await btOf(both.id);
  assert.equal(bt.currency, 'usd');
  assert.equal(bt.fee, Math.floor((bt.amount * 540 + 5000) / 10000) + 30);
  // a refund gives no fee back (Stripe keeps it): the merchant is left with −fee
  const refund = await stripe.refunds.create({ charge: jp.latest_charge });
  const rbt = await stripe.balanceTransactions.retrieve(refund.balance_transaction);
  assert.equal(rbt.amount, -2000);
  assert.equal(rbt.fee, 0);
  assert.deepEqual(rbt.fee_details, []);
  assert.equal(rbt.net + (await btOf(jp.latest_charge)).net, -118);
});

test('newer parameters: amount_details, payment_details, excluded_payment_method_types and hooks', async () => {
  // the second merchant: its Tax settings and configurations change nothing of the first's
  const s2 = env.stripe(env.merchants[1].secret_key);
  await s2.tax.settings.update({
    defaults: { tax_behavior: 'exclusive', tax_code: 'txcd_99999999' },
    head_office: { address: { country: 'us', state: 'CA', city: 'South San Francisco', postal_code: '94080' } },
  });
  const calc = await s2.tax.calculations.create({
    currency: 'usd', line_items: [{ amount: 4000, reference: 'Both' }],
    customer_details: { address: { line1: '1 Market St', city: 'San Francisco', state: 'CA', postal_code: '94117', country: 'US' }, address_source: 'shipping' },
  });
  const cfg = await s2.paymentMethodConfigurations.create({ name: 'Debits', sepa_debit: { display_preference: { preference: 'on' } } });
  const automatic = { automatic_payment_methods: { enabled: true }, payment_method_configuration: cfg.id };
  const amountDetails = {
    discount_amount: 200,
    tax: { total_tax_amount: 400 },
    shipping: { amount: 400, from_postal_code: '94110', to_postal_code: '94117' },
    line_items: [
      { product_code: 'SKU001', product_name: 'Lamp', unit_cost: 2000, quantity: 1, unit_of_measure: 'each',
        payment_method_options: { card: { commodity_code: '123123' } } },
      { product_name: 'Bulb', unit_cost: 1000, quantity: 2 },
    ],
  };
  // 2000 + 2 × 1000 + 400 shipping + 400 tax − 200 discount
  const pi = await s2.paymentIntents.create({
    amount: 4600, currency: 'eur', ...automatic, amount_details: amountDetails,
    payment_details: { customer_reference: 'cust-7', order_reference: 'order-1' },
    excluded_payment_method_types: ['sepa_debit', 'paypal'],
    hooks: { inputs: { tax: { calculation: calc.id } } },
  });
  assertStripeShape(pi, 'payment_intent');
  assert.deepEqual(pi.amount_details, {
    discount_amount: 200, shipping: { amount: 400, from_postal_code: '94110', to_postal_code: '94117' },
    tax: { total_tax_amount: 400 }, tip: {},
  });
  assert.deepEqual(pi.payment_details, { customer_reference: 'cust-7', order_reference: 'order-1' });
  assert.deepEqual(pi.excluded_payment_method_types, ['sepa_debit', 'paypal']);
  assert.deepEqual(pi.hooks, { inputs: { tax: { calculation: calc.id } } });
  // the configuration offers SEPA Direct Debit; the exclusion leaves it out
  assert.deepEqual(pi.payment_method_types, ['card']);
  const plain = await s2.paymentIntents.create({ amount: 4600, currency: 'eur', ...automatic });
  assert.deepEqual(plain.payment_method_types, ['card', 'sepa_debit']);
  assert.equal(plain.excluded_payment_method_types, undefined); // the 2023-08-16 shape: shown only when set
  assert.deepEqual(plain.amount_details, { tip: {} });
  assert.equal(plain.payment_details, undefined);
  assert.equal(plain.hooks, undefined);
  // the line items: a list, when expanded, as on Stripe
  const got = await s2.paymentIntents.retrieve(pi.id, { expand: ['amount_details.line_items'] });
  assertStripeShape(got, 'payment_intent');
  const items = got.amount_details.line_items;
  assert.equal(items.object, 'list');
  assert.equal(items.url, `/v1/payment_intents/${pi.id}/amount_details_line_items`);
  assert.deepEqual(items.data.map((li) => [li.object, li.product_name, li.unit_cost, li.quantity, li.product_code, li.unit_of_measure]), [
    ['payment_intent_amount_details_line_item', 'Lamp', 2000, 1, 'SKU001', 'each'],
    ['payment_intent_amount_details_line_item', 'Bulb', 1000, 2, null, null],
  ]);
  assert.match(items.data[0].id, /^uli_/);
  assert.deepEqual(items.data[0].payment_method_options, { card: { commodity_code: '123123' } });
  assert.equal(items.data[1].tax, null);
  // and on their own: a list that pages in the order they were given
  const first = await s2.paymentIntents.listAmountDetailsLineItems(pi.id, { limit: 1 });
  assert.deepEqual([first.data.map((li) => li.id), first.has_more], [[items.data[0].id], true]);
  const all = [];
  for await (const li of s2.paymentIntents.listAmountDetailsLineItems(pi.id, { limit: 1 })) all.push(li);
  assert.deepEqual(all, items.data);
  assert.deepEqual((await stripe.paymentIntents.listAmountDetailsLineItems(pi.id).catch((e) => e)).statusCode, 404);
  const { line_items: _li, ...shown } = got.amount_details;
  assert.deepEqual({ ...got, amount_details: shown, lastResponse: undefined }, { ...pi, lastResponse: undefined });

  // refusals: Stripe's 400s (404 for another's calculation), and the intent unchanged
  const refused = [
    [{ amount_details: { line_items: [{ unit_cost: 1, quantity: 1 }] } }, 'parameter_missing'],
    [{ amount_details: { line_items: [{ product_name: 'x', unit_cost: 100, quantity: 0 }] } }, 'parameter_invalid_integer'],
    [{ amount_details: { line_items: [{ product_name: 'x', unit_cost: 4600, quantity: 1, discount_amount: 1 }], discount_amount: 1 } }],
    [{ amount_details: { line_items: [{ product_name: 'x', unit_cost: 4000, quantity: 1 }], discount_amount: '' } }, 'amount_details_amount_mismatch'],
    [{ amount_details: { shipping: { to_postal_code: '94117!' } } }],
    [{ amount_details: { tip: { amount: 1 } } }, 'parameter_unknown'],
    [{ excluded_payment_method_types: ['nope'] }],
    [{ payment_method_types: ['card', 'sepa_debit'], excluded_payment_method_types: ['card'] }],
    [{ excluded_payment_method_types: ['card', 'sepa_debit'] }],
    [{ hooks: { inputs: { tax: { calculation: 'taxcalc_nope' } } } }, 'resource_missing'],
    [{ payment_details: { order_reference: 'x', invoice: 'in_1' } }, 'parameter_unknown'],
  ];
  for (const [params, code] of refused) {
    await assert.rejects(s2.paymentIntents.update(pi.id, params), (e) => {
      assert.ok(e.statusCode === 400 || (code === 'resource_missing' && e.statusCode === 404), JSON.stringify(params));
      if (code) assert.equal(e.code, code, JSON.stringify(params));
      return true;
    });
  }
  await assert.rejects(stripe.paymentIntents.create({ amount: 4600, currency: 'usd', hooks: { inputs: { tax: { calculation: calc.id } } } }),
    (e) => e.statusCode === 404 && e.code === 'resource_missing');
  await assert.rejects(stripe.paymentIntents.create({ amount: 1000, currency: 'usd', amount_details: { tax: { total_tax_amount: 800 }, shipping: { amount: 300 } } }),
    (e) => e.statusCode === 400 && e.code === 'amount_details_tax_shipping_discount_greater_than_amount');
  assert.deepEqual({ ...(await s2.paymentIntents.retrieve(pi.id)), lastResponse: undefined }, { ...pi, lastResponse: undefined });

  // update: each part given replaces the one held, "" unsets it; the amount and its items together
  const up = await s2.paymentIntents.update(pi.id, {
    amount: 4800,
    amount_details: { line_items: [{ product_name: 'Lamp', unit_cost: 4000, quantity: 1, tax: { total_tax_amount: 400 } }], discount_amount: '', tax: '' },
    payment_details: { order_reference: 'order-2' },
    excluded_payment_method_types: '',
    hooks: { inputs: { tax: { calculation: '' } } },
  });
  assertStripeShape(up, 'payment_intent');
  assert.deepEqual(up.amount_details, { shipping: { amount: 400, from_postal_code: '94110', to_postal_code: '94117' }, tip: {} });
  assert.deepEqual(up.payment_details, { customer_reference: 'cust-7', order_reference: 'order-2' });
  assert.equal(up.excluded_payment_method_types, undefined);
  assert.deepEqual(up.payment_method_types, ['card', 'sepa_debit']);
  assert.equal(up.hooks, undefined);
  // an amount its items no longer make is refused, unless the check is not enforced: then kept, with the error shown
  await assert.rejects(s2.paymentIntents.update(pi.id, { amount: 5000 }), (e) => e.statusCode === 400 && e.code === 'amount_details_amount_mismatch');
  const loose = await s2.paymentIntents.update(pi.id, { amount: 5000, amount_details: { enforce_arithmetic_validation: false } });
  assert.equal(loose.amount, 5000);
  assert.equal(loose.amount_details.error.code, 'amount_details_amount_mismatch');
  assertStripeShape(loose, 'payment_intent');

  // confirm takes them too; an excluded type is not offered (a SEPA debit cannot pay it)
  const sepa = await s2.paymentMethods.create({
    type: 'sepa_debit', sepa_debit: { iban: 'DE89370400440532013000' }, billing_details: { name: 'Jenny Rosen', email: 'jenny@example.com' },
  });
  await assert.rejects(s2.paymentIntents.confirm(pi.id, { payment_method: sepa.id, excluded_payment_method_types: ['sepa_debit'], return_url: 'https://example.com/r' }),
    (e) => e.statusCode === 400);
  assert.equal((await s2.paymentIntents.retrieve(pi.id)).status, 'requires_payment_method');
  const done = await s2.paymentIntents.confirm(pi.id, {
    payment_method: 'pm_card_visa', return_url: 'https://example.com/r', excluded_payment_method_types: ['sepa_debit'],
    amount_details: { line_items: [{ product_name: 'Lamp', unit_cost: 4600, quantity: 1 }], enforce_arithmetic_validation: true },
    payment_details: { customer_reference: '' },
  });
  assert.equal(done.status, 'succeeded');
  assert.deepEqual(done.excluded_payment_method_types, ['sepa_debit']);
  assert.deepEqual(done.payment_method_types, ['card']);
  assert.equal(done.amount_details.error, undefined);
  assert.deepEqual(done.payment_details, { customer_reference: null, order_reference: 'order-2' });
  assertStripeShape(done, 'payment_intent');
  await assert.rejects(s2.paymentIntents.update(pi.id, { payment_details: { order_reference: 'late' } }),
    (e) => e.statusCode === 400 && e.code === 'payment_intent_unexpected_state');

  // capture: checked against what it takes
  const held = await s2.paymentIntents.create({ amount: 3000, currency: 'usd', capture_method: 'manual', payment_method: 'pm_card_visa', confirm: true });
  await assert.rejects(s2.paymentIntents.capture(held.id, { amount_to_capture: 1000, amount_details: { tax: { total_tax_amount: 1500 } } }),
    (e) => e.statusCode === 400 && e.code === 'amount_details_tax_shipping_discount_greater_than_amount');
  const captured = await s2.paymentIntents.capture(held.id, {
    amount_to_capture: 2000, amount_details: { tax: { total_tax_amount: 150 } }, payment_details: { order_reference: 'order-9' },
  });
  assert.equal(captured.status, 'succeeded');
  assert.deepEqual(captured.amount_details, { tax: { total_tax_amount: 150 }, tip: {} });
  assert.deepEqual(captured.payment_details, { customer_reference: null, order_reference: 'order-9' });
});
