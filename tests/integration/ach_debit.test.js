'use strict';
// ACH Direct Debit (us_bank_account) through stripe-node: PaymentMethods with a routing number
// (ABA checksum) and an account number (sealed in the vault, never stored or logged in clear),
// PaymentIntents verified with microdeposits (next_action verify_with_microdeposits, three
// attempts), then `processing` and settled by the scheduler as Stripe's test accounts say,
// mandates, cancel and refund rules, and SetupIntents.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const {
  startTender, assertStripeShape, stopAll, waitFor, readStoreFiles,
} = require('./helpers');

let env;
let stripe; // merchant 0
let other; // merchant 1

const ROUTING = '110000000';
// every account number this file sends: none may reach the store or the log in clear
const ACCOUNTS = {
  ok: '000123456789',
  noAccount: '000111111116',
  closed: '000111111113',
  noFunds: '000222222227',
  notAuthorized: '000333333335',
  dispute: '000999999991',
  other: '987654321012',
};

const ONLINE = { customer_acceptance: { type: 'online', online: { ip_address: '203.0.113.9', user_agent: 'Mozilla/5.0 (ach)' } } };
const OFFLINE = { customer_acceptance: { type: 'offline' } };

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
});
after(stopAll);

function achPm(account, client = stripe, extra = {}) {
  return client.paymentMethods.create({
    type: 'us_bank_account',
    us_bank_account: { account_holder_type: 'individual', account_number: account, routing_number: ROUTING, account_type: 'checking' },
    billing_details: { name: 'Jenny Rosen' },
    ...extra,
  });
}

async function settled(id, client = stripe) {
  return waitFor(async () => {
    const pi = await client.paymentIntents.retrieve(id);
    return pi.status !== 'processing' && pi;
  }, `PaymentIntent ${id} to settle`, 15000);
}

async function eventsOf(id, client = stripe) {
  const ev = await client.events.list({ limit: 100 });
  return ev.data.filter((e) => e.data.object.id === id).map((e) => e.type).reverse();
}

// a confirmed intent waiting for its microdeposits
async function confirmed(account, extra = {}) {
  const pm = await achPm(account);
  return stripe.paymentIntents.create({
    amount: 2500, currency: 'usd', payment_method_types: ['us_bank_account'], payment_method: pm.id, confirm: true, mandate_data: ONLINE, ...extra,
  });
}

async function paid(account, extra = {}) {
  const pi = await confirmed(account, extra);
  return stripe.paymentIntents.verifyMicrodeposits(pi.id, { amounts: [32, 45] });
}

test('us_bank_account PaymentMethod: numbers checked, public facts shown, fingerprint per merchant', async () => {
  const pm = await achPm(ACCOUNTS.ok);
  assert.equal(pm.type, 'us_bank_account');
  assert.equal(pm.card, undefined);
  assert.deepEqual({ ...pm.us_bank_account, fingerprint: undefined }, {
    account_holder_type: 'individual', account_type: 'checking', bank_name: 'STRIPE TEST BANK', financial_connections_account: null,
    fingerprint: undefined, last4: '6789', networks: { preferred: 'ach', supported: ['ach'] }, routing_number: ROUTING, status_details: null,
  });
  assert.equal(pm.billing_details.name, 'Jenny Rosen');
  assertStripeShape(pm, 'payment_method');
  assert.deepEqual(await stripe.paymentMethods.retrieve(pm.id), pm);
  const again = await achPm(ACCOUNTS.ok);
  assert.equal(again.us_bank_account.fingerprint, pm.us_bank_account.fingerprint);
  const theirs = await achPm(ACCOUNTS.ok, other);
  assert.notEqual(theirs.us_bank_account.fingerprint, pm.us_bank_account.fingerprint);
  const another = await achPm(ACCOUNTS.other);
  assert.notEqual(another.us_bank_account.fingerprint, pm.us_bank_account.fingerprint);
  // another bank: no name; savings; a company
  const real = await stripe.paymentMethods.create({
    type: 'us_bank_account', billing_details: { name: 'Acme' },
    us_bank_account: { account_holder_type: 'company', account_number: ACCOUNTS.other, routing_number: '021000021', account_type: 'savings' },
  });
  assert.equal(real.us_bank_account.bank_name, null);
  assert.equal(real.us_bank_account.account_type, 'savings');
  assert.equal(real.us_bank_account.account_holder_type, 'company');

  for (const routing of ['110000001', '11000000', '1100000000', 'abcdefghi']) {
    await assert.rejects(stripe.paymentMethods.create({
      type: 'us_bank_account', billing_details: { name: 'J' },
      us_bank_account: { account_holder_type: 'individual', account_number: ACCOUNTS.ok, routing_number: routing },
    }), (e) => {
      assert.equal(e.statusCode, 400);
      assert.equal(e.code, 'routing_number_invalid');
      assert.equal(e.param, 'us_bank_account[routing_number]');
      return true;
    });
  }
  for (const account of ['123', '123456789012345678', '0001234-56789']) {
    await assert.rejects(achPm(account), (e) => {
      assert.equal(e.statusCode, 400);
      assert.equal(e.code, 'account_number_invalid');
      assert.equal(e.param, 'us_bank_account[account_number]');
      assert.ok(!e.message.includes(account), 'the account number is not echoed');
      return true;
    });
  }
  await assert.rejects(stripe.paymentMethods.create({ type: 'us_bank_account', billing_details: { name: 'J' } }),
    (e) => e.statusCode === 400 && e.param === 'us_bank_account');
  await assert.rejects(stripe.paymentMethods.create({
    type: 'us_bank_account', us_bank_account: { account_holder_type: 'individual', account_number: ACCOUNTS.ok, routing_number: ROUTING },
  }), (e) => e.statusCode === 400 && e.param === 'billing_details[name]');
});

test('attach, detach and lists by type', async () => {
  const cus = await stripe.customers.create({ email: 'ach@example.com' });
  const pm = await achPm(ACCOUNTS.ok);
  const card = await stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_visa' } });
  assert.equal((await stripe.paymentMethods.attach(pm.id, { customer: cus.id })).customer, cus.id);
  await stripe.paymentMethods.attach(card.id, { customer: cus.id });
  const banks = await stripe.customers.listPaymentMethods(cus.id, { type: 'us_bank_account' });
  assert.deepEqual(banks.data.map((p) => p.id), [pm.id]);
  assert.deepEqual((await stripe.paymentMethods.list({ customer: cus.id, type: 'card' })).data.map((p) => p.id), [card.id]);
  assert.equal((await stripe.customers.listPaymentMethods(cus.id)).data.length, 2);
  assert.equal((await stripe.paymentMethods.detach(pm.id)).customer, null);
  assert.equal((await stripe.customers.listPaymentMethods(cus.id, { type: 'us_bank_account' })).data.length, 0);
  await assert.rejects(other.paymentMethods.retrieve(pm.id), (e) => e.statusCode === 404);
});

test('microdeposits, then processing, then succeeded on the scheduler', async () => {
  const balance0 = await stripe.balance.retrieve();
  let pi = await confirmed(ACCOUNTS.ok, { description: 'ACH order' });
  assert.equal(pi.status, 'requires_action');
  assert.equal(pi.next_action.type, 'verify_with_microdeposits');
  const v = pi.next_action.verify_with_microdeposits;
  assert.ok(v.arrival_date > Math.floor(Date.now() / 1000));
  assert.match(v.hosted_verification_url, /^https:\/\//);
  assert.equal(v.microdeposit_type, 'amounts');
  assert.equal(pi.latest_charge, null);
  assert.deepEqual(pi.payment_method_types, ['us_bank_account']);
  // Stripe's default, which without Financial Connections falls back to microdeposits
  assert.equal(pi.payment_method_options.us_bank_account.verification_method, 'automatic');
  assertStripeShape(pi, 'payment_intent');

  // a wrong answer: Stripe's error, two attempts left, nothing moves
  await assert.rejects(stripe.paymentIntents.verifyMicrodeposits(pi.id, { amounts: [10, 11] }), (e) => {
    assert.equal(e.statusCode, 400);
    assert.equal(e.code, 'payment_method_microdeposit_verification_amounts_mismatch');
    assert.match(e.message, /2 verification attempts remaining/);
    return true;
  });
  assert.equal((await stripe.paymentIntents.retrieve(pi.id)).status, 'requires_action');
  await assert.rejects(stripe.paymentIntents.verifyMicrodeposits(pi.id, {}), (e) => e.statusCode === 400);
  await assert.rejects(stripe.paymentIntents.verifyMicrodeposits(pi.id, { amounts: [32] }), (e) => e.statusCode === 400 && e.param === 'amounts');

  pi = await stripe.paymentIntents.verifyMicrodeposits(pi.id, { amounts: [32, 45] });
  assert.equal(pi.status, 'processing');
  assert.equal(pi.next_action, null);
  assertStripeShape(pi, 'payment_intent');
  let ch = await stripe.charges.retrieve(pi.latest_charge);
  // pending until the scheduler's next pass (about a second): a loaded machine may be slower
  assert.ok(ch.status === 'pending' || ch.status === 'succeeded', ch.status);
  assert.equal(ch.payment_method_details.type, 'us_bank_account');
  assert.deepEqual({ ...ch.payment_method_details.us_bank_account, fingerprint: undefined, mandate: undefined }, {
    account_holder_type: 'individual', account_type: 'checking', bank_name: 'STRIPE TEST BANK', fingerprint: undefined, last4: '6789', mandate: undefined, routing_number: ROUTING,
  });
  assert.match(ch.payment_method_details.us_bank_account.mandate, /^mandate_/);
  assertStripeShape(ch, 'charge');
  // verifying again: it is no longer waiting
  await assert.rejects(stripe.paymentIntents.verifyMicrodeposits(pi.id, { amounts: [32, 45] }),
    (e) => e.statusCode === 400 && e.code === 'payment_intent_unexpected_state');

  pi = await settled(pi.id);
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.amount_received, 2500);
  ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(ch.status, 'succeeded');
  assert.ok(ch.balance_transaction);
  assertStripeShape(ch, 'charge');
  const balance1 = await stripe.balance.retrieve();
  const usd = (b) => (b.pending.find((x) => x.currency === 'usd') || { amount: 0 }).amount
    + (b.available.find((x) => x.currency === 'usd') || { amount: 0 }).amount;
  assert.ok(usd(balance1) > usd(balance0), 'the sale is booked');
  assert.deepEqual(await eventsOf(pi.id), ['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.processing', 'payment_intent.succeeded']);
});

test('payment_method_data with a descriptor code; automatic verification falls back to microdeposits; instant refused', async () => {
  let pi = await stripe.paymentIntents.create({
    amount: 1200, currency: 'usd', payment_method_types: ['us_bank_account'], confirm: true, mandate_data: OFFLINE,
    payment_method_data: {
      type: 'us_bank_account', billing_details: { name: 'Jenny Rosen' },
      us_bank_account: { account_holder_type: 'individual', account_number: ACCOUNTS.ok, routing_number: ROUTING },
    },
    payment_method_options: { us_bank_account: { verification_method: 'automatic' } },
  });
  assert.equal(pi.status, 'requires_action');
  const pm = await stripe.paymentMethods.retrieve(pi.payment_method);
  assert.equal(pm.us_bank_account.account_type, 'checking');
  pi = await stripe.paymentIntents.verifyMicrodeposits(pi.id, { descriptor_code: 'SM11AA' });
  assert.equal(pi.status, 'processing');
  await assert.rejects(confirmed(ACCOUNTS.ok, { payment_method_options: { us_bank_account: { verification_method: 'instant' } } }),
    (e) => e.statusCode === 400 && e.param === 'payment_method_options[us_bank_account][verification_method]');
  // usd only, no manual capture, a mandate needed
  await assert.rejects(stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method_types: ['us_bank_account'] }),
    (e) => e.statusCode === 400 && /usd/.test(e.message));
  await assert.rejects(stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method_types: ['us_bank_account'], capture_method: 'manual' }),
    (e) => e.statusCode === 400 && e.param === 'capture_method');
  // with a card beside it, a manual capture is the card's; eur and usd types cannot pay one amount
  const both = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method_types: ['us_bank_account', 'card'], capture_method: 'manual' });
  assert.deepEqual(both.payment_method_types, ['card', 'us_bank_account']);
  await assert.rejects(stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method_types: ['us_bank_account', 'sepa_debit'] }),
    (e) => e.statusCode === 400 && e.param === 'payment_method_types' && /sepa_debit.*eur/.test(e.message));
  await assert.rejects(stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method_types: ['card', 'alipay'] }),
    (e) => e.statusCode === 400 && e.param === 'payment_method_types' && /alipay.*card, sepa_debit, us_bank_account/.test(e.message));
  // a SetupIntent has no currency: it may offer both bank debits
  const si = await stripe.setupIntents.create({ payment_method_types: ['us_bank_account', 'sepa_debit'] });
  assert.deepEqual(si.payment_method_types, ['sepa_debit', 'us_bank_account']);
  const pm2 = await achPm(ACCOUNTS.ok);
  await assert.rejects(stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method_types: ['us_bank_account'], payment_method: pm2.id, confirm: true }),
    (e) => e.statusCode === 400 && e.param === 'mandate_data');
  // not through the legacy charges API
  await assert.rejects(stripe.charges.create({ amount: 1000, currency: 'usd', source: pm2.id }),
    (e) => e.statusCode === 400 && e.param === 'source' && /us_bank_account/.test(e.message));
  // a card-only intent refuses the bank account
  await assert.rejects(stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: pm2.id, confirm: true, mandate_data: ONLINE }),
    (e) => e.statusCode === 400 && e.param === 'payment_method');
});

test('payment_method_options[us_bank_account]: verification_method shown as asked, setup_future_usage saves the account with a multi-use mandate', async () => {
  const cus = await stripe.customers.create({ email: 'ach-pmo@example.com' });
  const pm = await achPm(ACCOUNTS.ok);
  let pi = await stripe.paymentIntents.create({
    amount: 1800, currency: 'usd', customer: cus.id, payment_method_types: ['card', 'us_bank_account'],
    payment_method_options: { us_bank_account: { verification_method: 'microdeposits', setup_future_usage: 'off_session' } },
  });
  assert.deepEqual(pi.payment_method_options.us_bank_account, { setup_future_usage: 'off_session', verification_method: 'microdeposits' });
  assert.equal(pi.setup_future_usage, null);
  assert.equal(pi.payment_method_options.card.setup_future_usage, undefined);
  assertStripeShape(pi, 'payment_intent');
  pi = await stripe.paymentIntents.confirm(pi.id, { payment_method: pm.id, mandate_data: ONLINE });
  assert.equal(pi.status, 'requires_action');
  pi = await stripe.paymentIntents.verifyMicrodeposits(pi.id, { amounts: [32, 45] });
  assert.equal(pi.status, 'processing');
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  const m = await stripe.mandates.retrieve(ch.payment_method_details.us_bank_account.mandate);
  assert.equal(m.type, 'multi_use');
  assert.equal((await stripe.paymentMethods.retrieve(pm.id)).customer, cus.id);
  // its setup_future_usage=none overrides the intent's own for a bank account
  const pm2 = await achPm(ACCOUNTS.ok);
  let p2 = await stripe.paymentIntents.create({
    amount: 1800, currency: 'usd', customer: cus.id, setup_future_usage: 'off_session', payment_method_types: ['us_bank_account'],
    payment_method_options: { us_bank_account: { setup_future_usage: 'none' } }, payment_method: pm2.id, confirm: true, mandate_data: ONLINE,
  });
  assert.equal(p2.payment_method_options.us_bank_account.setup_future_usage, 'none');
  assert.equal(p2.payment_method_options.us_bank_account.verification_method, 'automatic');
  p2 = await stripe.paymentIntents.verifyMicrodeposits(p2.id, { amounts: [32, 45] });
  const ch2 = await stripe.charges.retrieve(p2.latest_charge);
  assert.equal((await stripe.mandates.retrieve(ch2.payment_method_details.us_bank_account.mandate)).type, 'single_use');
  assert.equal((await stripe.paymentMethods.retrieve(pm2.id)).customer, null);
  // a SetupIntent shows the verification_method it was given; instant is refused there too
  const si = await stripe.setupIntents.create({ payment_method_types: ['us_bank_account'], payment_method_options: { us_bank_account: { verification_method: 'microdeposits' } } });
  assert.equal(si.payment_method_options.us_bank_account.verification_method, 'microdeposits');
  assertStripeShape(si, 'setup_intent');
  await assert.rejects(stripe.setupIntents.create({ payment_method_types: ['us_bank_account'], payment_method_options: { us_bank_account: { verification_method: 'instant' } } }),
    (e) => e.statusCode === 400 && e.param === 'payment_method_options[us_bank_account][verification_method]');
  await assert.rejects(stripe.paymentIntents.create({
    amount: 1800, currency: 'usd', payment_method_types: ['us_bank_account'], payment_method_options: { us_bank_account: { setup_future_usage: 'sometimes' } },
  }), (e) => e.statusCode === 400 && e.param === 'payment_method_options[us_bank_account][setup_future_usage]');
});

test('three wrong microdeposit answers: attempts exceeded, the intent back to requires_payment_method', async () => {
  const pi = await confirmed(ACCOUNTS.ok);
  for (const left of [2, 1]) {
    await assert.rejects(stripe.paymentIntents.verifyMicrodeposits(pi.id, { descriptor_code: 'SM00XX' }),
      (e) => e.code === 'payment_method_microdeposit_verification_amounts_mismatch' && e.message.includes(`${left} verification attempt`));
  }
  await assert.rejects(stripe.paymentIntents.verifyMicrodeposits(pi.id, { amounts: [1, 2] }), (e) => {
    assert.equal(e.statusCode, 400);
    assert.equal(e.code, 'payment_method_microdeposit_verification_attempts_exceeded');
    return true;
  });
  const after3 = await stripe.paymentIntents.retrieve(pi.id);
  assert.equal(after3.status, 'requires_payment_method');
  assert.equal(after3.payment_method, null);
  assert.equal(after3.last_payment_error.code, 'payment_method_microdeposit_verification_attempts_exceeded');
  assertStripeShape(after3, 'payment_intent');
  await assert.rejects(stripe.paymentIntents.verifyMicrodeposits(pi.id, { amounts: [32, 45] }),
    (e) => e.code === 'payment_intent_unexpected_state');
});

test('failing test accounts: the bank returns the debit with Stripe\'s codes; the dispute account is disputed', async () => {
  const cases = [[ACCOUNTS.noAccount, 'no_account'], [ACCOUNTS.closed, 'account_closed'], [ACCOUNTS.noFunds, 'insufficient_funds'], [ACCOUNTS.notAuthorized, 'debit_not_authorized']];
  const pis = [];
  for (const [account] of cases) pis.push(await paid(account));
  const disputed = await paid(ACCOUNTS.dispute);
  for (let i = 0; i < cases.length; i++) {
    assert.equal(pis[i].status, 'processing');
    const pi = await settled(pis[i].id);
    assert.equal(pi.status, 'requires_payment_method');
    assert.equal(pi.last_payment_error.code, cases[i][1]);
    assert.equal(pi.last_payment_error.payment_method_type, 'us_bank_account');
    const ch = await stripe.charges.retrieve(pis[i].latest_charge);
    assert.equal(ch.status, 'failed');
    assert.equal(ch.failure_code, cases[i][1]);
    if (i === 0) {
      assertStripeShape(pi, 'payment_intent');
      assertStripeShape(ch, 'charge');
    }
  }
  const d = await settled(disputed.id);
  assert.equal(d.status, 'succeeded');
  const ch = await stripe.charges.retrieve(d.latest_charge);
  assert.equal(ch.disputed, true);
  const disputes = await stripe.disputes.list({ charge: ch.id });
  assert.equal(disputes.data.length, 1);
  assert.equal(disputes.data[0].status, 'lost');
});

test('cancel while verifying moves nothing; processing cannot be canceled nor refunded; settled refunds', async () => {
  const waiting = await confirmed(ACCOUNTS.ok);
  const canceled = await stripe.paymentIntents.cancel(waiting.id);
  assert.equal(canceled.status, 'canceled');
  assert.equal(canceled.latest_charge, null);
  await assert.rejects(stripe.paymentIntents.verifyMicrodeposits(waiting.id, { amounts: [32, 45] }),
    (e) => e.code === 'payment_intent_unexpected_state');

  const pi = await paid(ACCOUNTS.ok);
  assert.equal(pi.status, 'processing');
  await assert.rejects(stripe.paymentIntents.cancel(pi.id), (e) => e.statusCode === 400 && e.code === 'payment_intent_unexpected_state');
  await assert.rejects(stripe.refunds.create({ charge: pi.latest_charge }), (e) => e.statusCode === 400 && /pending/.test(e.message));
  await settled(pi.id);
  const r1 = await stripe.refunds.create({ payment_intent: pi.id, amount: 500 });
  assert.equal(r1.status, 'succeeded');
  const r2 = await stripe.refunds.create({ charge: pi.latest_charge });
  assert.equal(r2.amount, 2000);
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(ch.refunded, true);
});

test('mandates: single_use for a payment, shown as Stripe shows an ACH mandate', async () => {
  const pi = await paid(ACCOUNTS.ok);
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  const m = await stripe.mandates.retrieve(ch.payment_method_details.us_bank_account.mandate);
  assert.equal(m.type, 'single_use');
  assert.equal(m.payment_method, pi.payment_method);
  assert.deepEqual(m.single_use, { amount: 2500, currency: 'usd' });
  assert.deepEqual(m.payment_method_details, { type: 'us_bank_account', us_bank_account: {} });
  assert.equal(m.customer_acceptance.type, 'online');
  assertStripeShape(m, 'mandate');
  await assert.rejects(other.mandates.retrieve(m.id), (e) => e.statusCode === 404);
});

test('SetupIntent: microdeposits, then succeeded with a multi-use mandate; an off-session payment with it', async () => {
  const cus = await stripe.customers.create({ email: 'ach-setup@example.com' });
  const pm = await achPm(ACCOUNTS.ok);
  let si = await stripe.setupIntents.create({
    customer: cus.id, payment_method_types: ['us_bank_account'], payment_method: pm.id, confirm: true, mandate_data: ONLINE,
  });
  assert.equal(si.status, 'requires_action');
  assert.equal(si.next_action.type, 'verify_with_microdeposits');
  assert.equal(si.payment_method_options.us_bank_account.verification_method, 'automatic');
  assertStripeShape(si, 'setup_intent');
  await assert.rejects(stripe.setupIntents.verifyMicrodeposits(si.id, { amounts: [45, 33] }),
    (e) => e.code === 'payment_method_microdeposit_verification_amounts_mismatch');
  si = await stripe.setupIntents.verifyMicrodeposits(si.id, { amounts: [32, 45] });
  assert.equal(si.status, 'succeeded');
  assert.equal(si.next_action, null);
  assertStripeShape(si, 'setup_intent');
  const m = await stripe.mandates.retrieve(si.mandate);
  assert.equal(m.type, 'multi_use');
  assert.equal(m.payment_method_details.type, 'us_bank_account');
  assertStripeShape(m, 'mandate');
  assert.equal((await stripe.paymentMethods.retrieve(pm.id)).customer, cus.id);
  const attempts = await stripe.setupAttempts.list({ setup_intent: si.id });
  assert.equal(attempts.data[0].status, 'succeeded');
  assert.equal(attempts.data[0].payment_method_details.type, 'us_bank_account');
  assertStripeShape(attempts.data[0], 'setup_attempt');
  await assert.rejects(stripe.setupIntents.verifyMicrodeposits(si.id, { amounts: [32, 45] }),
    (e) => e.code === 'setup_intent_unexpected_state');

  // the verified account pays off session with the multi-use mandate: no microdeposits again
  let pi = await stripe.paymentIntents.create({
    amount: 4200, currency: 'usd', customer: cus.id, payment_method_types: ['us_bank_account'], payment_method: pm.id, off_session: true, confirm: true,
  });
  assert.equal(pi.status, 'processing');
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(ch.payment_method_details.us_bank_account.mandate, si.mandate);
  pi = await settled(pi.id);
  assert.equal(pi.status, 'succeeded');

  // three wrong answers fail the setup
  const pm2 = await achPm(ACCOUNTS.ok);
  const si2 = await stripe.setupIntents.create({ payment_method_types: ['us_bank_account'], payment_method: pm2.id, confirm: true, mandate_data: OFFLINE });
  for (let i = 0; i < 2; i++) await assert.rejects(stripe.setupIntents.verifyMicrodeposits(si2.id, { descriptor_code: 'SM22BB' }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.setupIntents.verifyMicrodeposits(si2.id, { descriptor_code: 'SM22BB' }),
    (e) => e.code === 'payment_method_microdeposit_verification_attempts_exceeded');
  const failed = await stripe.setupIntents.retrieve(si2.id);
  assert.equal(failed.status, 'requires_payment_method');
  assert.equal(failed.last_setup_error.code, 'payment_method_microdeposit_verification_attempts_exceeded');
  assertStripeShape(failed, 'setup_intent');
});

test('mandates become inactive: a detached account\'s multi-use mandate, a settled debit\'s single-use one; off session refused', async () => {
  const cus = await stripe.customers.create({ email: 'ach-inactive@example.com' });
  const pm = await achPm(ACCOUNTS.ok);
  let si = await stripe.setupIntents.create({
    customer: cus.id, payment_method_types: ['us_bank_account'], payment_method: pm.id, confirm: true, mandate_data: ONLINE,
  });
  si = await stripe.setupIntents.verifyMicrodeposits(si.id, { amounts: [32, 45] });
  assert.equal((await stripe.mandates.retrieve(si.mandate)).status, 'active');
  await stripe.paymentMethods.detach(pm.id);
  const m = await stripe.mandates.retrieve(si.mandate);
  assert.equal(m.status, 'inactive');
  assertStripeShape(m, 'mandate');
  const ups = (await stripe.events.list({ type: 'mandate.updated', limit: 100 })).data.filter((e) => e.data.object.id === si.mandate);
  assert.equal(ups.length, 1);
  assert.deepEqual(ups[0].data.previous_attributes, { status: 'active' });
  assert.equal(ups[0].data.object.status, 'inactive');
  await assert.rejects(stripe.paymentIntents.create({
    amount: 4200, currency: 'usd', payment_method_types: ['us_bank_account'], payment_method: pm.id, off_session: true, confirm: true,
  }), (e) => e.statusCode === 400 && e.code === 'payment_method_unactivated' && e.param === 'payment_method');

  // single use: inactive once its debit settled
  const pi = await settled((await paid(ACCOUNTS.ok)).id);
  assert.equal(pi.status, 'succeeded');
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  const single = await stripe.mandates.retrieve(ch.payment_method_details.us_bank_account.mandate);
  assert.equal(single.type, 'single_use');
  assert.equal(single.status, 'inactive');
  assertStripeShape(single, 'mandate');
});

test('secrets: no account number in clear in the store or the log', async () => {
  const files = readStoreFiles(env.dataDir);
  const log = fs.readFileSync(env.server.logPath);
  for (const n of Object.values(ACCOUNTS)) {
    for (const { file, data } of files) assert.ok(!data.includes(n), `${n} found in ${file}`);
    assert.ok(!log.includes(n), `${n} found in the server log`);
  }
});
