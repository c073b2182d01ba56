'use strict';
// ACH Direct Debit (us_bank_account) through stripe-node: PaymentMethods with a routing number
// (ABA checksum) and an account number (sealed in the vault, never stored or logged in clear),
// PaymentIntents verified with microdeposits (next_action verify_with_microdeposits, three
// attempts), then `processing` and settled by the scheduler as Stripe's test accounts say,
// mandates, cancel and refund rules, and SetupIntents; then ACH on Checkout Sessions (the page
// in headless Chromium: Debian's chromium + playwright-core), payment links, invoices and
// subscriptions.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const {
  startTender, assertStripeShape, stopAll, waitFor, readStoreFiles,
  debitSettled, eventsAbout, eventTypesOf, openInvoice, invoiceLatestPi, invoiceDebitSettled, launchChromium, startShop,
} = require('./helpers');
const { billingShape, clockAdvance } = require('./billing_helpers');

let browser;
let shop;
let shopPort;
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
after(async () => {
  if (browser) await browser.close();
  if (shop) shop.close();
  await stopAll();
});

// the browser and the shop the checkout page sends the buyer back to, for the tests that need them
async function chromium() {
  if (browser) return browser;
  shop = await startShop();
  shopPort = shop.address().port;
  browser = await launchChromium();
  return browser;
}

function achPm(account, client = stripe, extra = {}) {
  return client.paymentMethods.create({
    type: 'us_bank_account',
    us_bank_account: { account_holder_type: 'individual', account_number: account, routing_number: ROUTING, account_type: 'checking' },
    billing_details: { name: 'Jenny Rosen' },
    ...extra,
  });
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

test('update: us_bank_account[account_holder_type, account_type]; a type\'s hash only on its type; link refused', async () => {
  const pm = await achPm(ACCOUNTS.ok);
  const up = await stripe.paymentMethods.update(pm.id, { us_bank_account: { account_holder_type: 'company', account_type: 'savings' } });
  assert.equal(up.us_bank_account.account_holder_type, 'company');
  assert.equal(up.us_bank_account.account_type, 'savings');
  assert.equal(up.us_bank_account.last4, pm.us_bank_account.last4);
  assertStripeShape(up, 'payment_method');
  const half = await stripe.paymentMethods.update(pm.id, { us_bank_account: { account_type: 'checking' } });
  assert.equal(half.us_bank_account.account_holder_type, 'company');
  assert.equal(half.us_bank_account.account_type, 'checking');
  const card = await stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_visa' } });
  await assert.rejects(stripe.paymentMethods.update(card.id, { us_bank_account: { account_type: 'savings' } }),
    (e) => e.statusCode === 400 && e.param === 'us_bank_account');
  await assert.rejects(stripe.paymentMethods.update(pm.id, { link: '', metadata: { a: '1' } }), (e) => e.statusCode === 400 && e.param === 'link');
  assert.deepEqual((await stripe.paymentMethods.retrieve(pm.id)).metadata, {});
});

test('microdeposits, then processing, then succeeded on the scheduler', async () => {
  const balance0 = await stripe.balance.retrieve();
  let pi = await confirmed(ACCOUNTS.ok, { description: 'ACH order' });
  assert.equal(pi.status, 'requires_action');
  assert.equal(pi.next_action.type, 'verify_with_microdeposits');
  const v = pi.next_action.verify_with_microdeposits;
  assert.ok(v.arrival_date > Math.floor(Date.now() / 1000));
  assert.match(v.hosted_verification_url, new RegExp(`^http://127\\.0\\.0\\.1:${env.server.port}/microdeposits/${env.merchants[0].id}/${pi.id}/[A-Za-z0-9]{43}$`));
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

  pi = await debitSettled(stripe, pi.id);
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
  assert.deepEqual(await eventTypesOf(stripe, pi.id), ['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.processing', 'payment_intent.succeeded']);
});

// Stripe's ACH Direct Debit price (stripe.com/pricing: 0.8 %, $5.00 cap; src/ledger/ledger.c):
// 2500 × 0.8 % = 20; 100000 × 0.8 % = 800, capped at 500. One "Stripe processing fees" line.
test('fees: an ACH debit pays 0.8 %, at most 5.00, booked when the scheduler settles it', async () => {
  for (const [amount, fee] of [[2500, 20], [100000, 500]]) {
    const pi = await debitSettled(stripe, (await paid(ACCOUNTS.ok, { amount })).id);
    assert.equal(pi.status, 'succeeded');
    const ch = await stripe.charges.retrieve(pi.latest_charge, { expand: ['balance_transaction'] });
    const bt = ch.balance_transaction;
    assert.equal(bt.amount, amount);
    assert.equal(bt.fee, fee);
    assert.equal(bt.net, amount - fee);
    assert.deepEqual(bt.fee_details, [{ amount: fee, application: null, currency: 'usd', description: 'Stripe processing fees', type: 'stripe_fee' }]);
    assertStripeShape(bt, 'balance_transaction');
  }
});

// the hosted verification page: plain HTTP, as a customer's browser posts its form
async function hosted(url, form) {
  const res = await fetch(url, form ? { method: 'POST', body: new URLSearchParams(form), redirect: 'manual' } : {});
  const html = await res.text();
  const cell = (id) => (html.match(new RegExp(`id="${id}"[^>]*>([^<]*)<`)) || [])[1];
  return { status: res.status, type: res.headers.get('content-type'), html, cell };
}

test('hosted verification page: shows the account and the deposits, a wrong answer then the right one, as the API does', async () => {
  let pi = await confirmed(ACCOUNTS.ok, { description: 'hosted page' });
  const url = pi.next_action.verify_with_microdeposits.hosted_verification_url;
  assert.match(url, new RegExp(`^http://127\\.0\\.0\\.1:${env.server.port}/microdeposits/${env.merchants[0].id}/${pi.id}/[A-Za-z0-9]{43}$`));
  assert.equal((await stripe.paymentIntents.retrieve(pi.id)).next_action.verify_with_microdeposits.hosted_verification_url, url, 'stable');
  const events0 = await eventTypesOf(stripe, pi.id);
  assert.deepEqual(events0, ['payment_intent.created', 'payment_intent.requires_action']);

  let p = await hosted(url);
  assert.equal(p.status, 200);
  assert.match(p.type, /^text\/html/);
  assert.equal(p.cell('account'), 'STRIPE TEST BANK •••• 6789');
  assert.equal(p.cell('business'), 'Merchant 0');
  assert.equal(p.cell('amount'), '25.00 USD');
  assert.equal(p.cell('arrival'), new Date(pi.next_action.verify_with_microdeposits.arrival_date * 1000).toISOString().slice(0, 10));
  assert.match(p.html, /name="amounts\[0\]"/);
  assert.match(p.html, /name="amounts\[1\]"/);
  assert.ok(!/<script/i.test(p.html), 'no scripts');
  for (const n of Object.values(ACCOUNTS)) assert.ok(!p.html.includes(n), 'never the account number');
  assert.deepEqual(await eventTypesOf(stripe, pi.id), events0, 'GET writes nothing');

  // a wrong answer: the page says so and how many tries remain; the intent still waits
  p = await hosted(url, { 'amounts[0]': '10', 'amounts[1]': '11' });
  assert.equal(p.status, 400);
  assert.match(p.cell('message'), /do not match.*2 verification attempts remaining/);
  assert.match(p.html, /name="amounts\[0\]"/, 'the form again');
  // not numbers: refused before any attempt is counted
  p = await hosted(url, { 'amounts[0]': 'ten', 'amounts[1]': '11' });
  assert.equal(p.status, 400);
  assert.match(p.cell('message'), /Invalid integer/);
  pi = await stripe.paymentIntents.retrieve(pi.id);
  assert.equal(pi.status, 'requires_action');
  assert.deepEqual(await eventTypesOf(stripe, pi.id), events0);

  // the right answer: processing, as through verify_microdeposits, with the same events
  p = await hosted(url, { 'amounts[0]': '45', 'amounts[1]': '32' });
  assert.equal(p.status, 200);
  assert.match(p.cell('message'), /verified/);
  assert.ok(p.cell('verified'));
  assert.ok(!p.html.includes('name="amounts'), 'no form once verified');
  pi = await stripe.paymentIntents.retrieve(pi.id);
  assert.ok(pi.status === 'processing' || pi.status === 'succeeded', pi.status);
  assert.equal(pi.next_action, null);
  assertStripeShape(pi, 'payment_intent');
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(ch.payment_method_details.us_bank_account.last4, '6789');
  assert.equal((await eventTypesOf(stripe, ch.id))[0], 'charge.pending');
  const events1 = (await eventTypesOf(stripe, pi.id)).filter((t) => t !== 'payment_intent.succeeded');
  assert.deepEqual(events1, ['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.processing']);
  // the account is verified for later payments too, as the API's verification leaves it
  // (the scheduler may settle the debit meanwhile: its events are not the page's)
  // (counted on the intent's own events: the scheduler's other work in the meantime, the
  // settlement's balance and charge events among it, is not the page's)
  const pageWrites = async () => (await eventTypesOf(stripe, pi.id))
    .filter((t) => !/\.succeeded$/.test(t)).length;
  const after1 = await pageWrites();
  // again: already verified, nothing changes (GET and POST)
  p = await hosted(url);
  assert.equal(p.status, 200);
  assert.match(p.cell('message'), /already verified/);
  p = await hosted(url, { 'amounts[0]': '32', 'amounts[1]': '45' });
  assert.equal(p.status, 200);
  assert.match(p.cell('message'), /already verified/);
  assert.equal(await pageWrites(), after1, 'the re-post wrote nothing');
  pi = await debitSettled(stripe, pi.id);
  assert.equal(pi.status, 'succeeded');

  // 404s: a wrong secret, another intent's secret, a mangled one, another merchant, an unknown
  // intent, a card payment's intent
  const other2 = await confirmed(ACCOUNTS.ok);
  const otherUrl = other2.next_action.verify_with_microdeposits.hosted_verification_url;
  const card = await stripe.paymentIntents.create({ amount: 500, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, payment_method_types: ['card'] });
  const base = otherUrl.slice(0, otherUrl.lastIndexOf('/'));
  const secret = otherUrl.slice(otherUrl.lastIndexOf('/') + 1);
  const wrong = secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A');
  for (const u of [
    `${base}/${wrong}`,
    `${base.replace(other2.id, pi.id)}/${secret}`,
    `${base}/short`,
    otherUrl.replace(env.merchants[0].id, env.merchants[1].id),
    otherUrl.replace(other2.id, 'pi_nope'),
    otherUrl.replace(other2.id, card.id),
  ]) {
    for (const form of [undefined, { 'amounts[0]': '32', 'amounts[1]': '45' }]) {
      const x = await hosted(u, form);
      assert.equal(x.status, 404, u);
      assert.ok(!x.html.includes('6789'), 'nothing of the account');
    }
  }
  assert.equal((await stripe.paymentIntents.retrieve(other2.id)).status, 'requires_action', 'the 404s changed nothing');

  // three wrong answers end the verification as the API's do: requires_payment_method, then 404
  for (const left of [2, 1]) {
    p = await hosted(otherUrl, { 'amounts[0]': '1', 'amounts[1]': '2' });
    assert.equal(p.status, 400);
    assert.match(p.cell('message'), new RegExp(`${left} verification attempts? remaining`));
  }
  p = await hosted(otherUrl, { 'amounts[0]': '1', 'amounts[1]': '2' });
  assert.equal(p.status, 400);
  assert.match(p.cell('message'), /exceeded the number of allowed verification attempts/);
  const failed = await stripe.paymentIntents.retrieve(other2.id);
  assert.equal(failed.status, 'requires_payment_method');
  assert.equal(failed.last_payment_error.code, 'payment_method_microdeposit_verification_attempts_exceeded');
  assertStripeShape(failed, 'payment_intent');
  assert.deepEqual(await eventTypesOf(stripe, other2.id), ['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.payment_failed']);
  assert.equal((await hosted(otherUrl)).status, 404);
  assert.equal((await hosted(otherUrl, { 'amounts[0]': '32', 'amounts[1]': '45' })).status, 404);

  // a canceled intent no longer waits
  const canceled = await confirmed(ACCOUNTS.ok);
  await stripe.paymentIntents.cancel(canceled.id);
  assert.equal((await hosted(canceled.next_action.verify_with_microdeposits.hosted_verification_url)).status, 404);
});

test('hosted verification page of a SetupIntent: succeeded with its mandate, as through the API', async () => {
  const cus = await stripe.customers.create({ email: 'ach-page@example.com' });
  const pm = await achPm(ACCOUNTS.ok);
  let si = await stripe.setupIntents.create({
    customer: cus.id, payment_method_types: ['us_bank_account'], payment_method: pm.id, confirm: true, mandate_data: ONLINE,
  });
  const url = si.next_action.verify_with_microdeposits.hosted_verification_url;
  assert.match(url, new RegExp(`/microdeposits/${env.merchants[0].id}/${si.id}/[A-Za-z0-9]{43}$`));
  let p = await hosted(url);
  assert.equal(p.status, 200);
  assert.equal(p.cell('account'), 'STRIPE TEST BANK •••• 6789');
  assert.equal(p.cell('amount'), undefined, 'no payment to show');
  p = await hosted(url, { 'amounts[0]': '32', 'amounts[1]': '45' });
  assert.equal(p.status, 200);
  assert.ok(p.cell('verified'));
  si = await stripe.setupIntents.retrieve(si.id);
  assert.equal(si.status, 'succeeded');
  assert.match(si.mandate, /^mandate_/);
  assertStripeShape(si, 'setup_intent');
  assert.equal((await stripe.paymentMethods.retrieve(pm.id)).customer, cus.id);
  assert.equal((await stripe.setupAttempts.list({ setup_intent: si.id })).data[0].status, 'succeeded');
  assert.deepEqual(await eventTypesOf(stripe, si.id), ['setup_intent.created', 'setup_intent.requires_action', 'setup_intent.succeeded']);
  p = await hosted(url, { 'amounts[0]': '32', 'amounts[1]': '45' });
  assert.equal(p.status, 200);
  assert.match(p.cell('message'), /already verified/);
  assert.equal((await eventTypesOf(stripe, si.id)).length, 3);
});

test('payment_method_data with a descriptor code; automatic verification falls back to microdeposits; instant only for a Financial Connections account', async () => {
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
  // instant: an account typed by hand cannot be verified instantly (financial_connections.test.js links one)
  await assert.rejects(confirmed(ACCOUNTS.ok, { payment_method_options: { us_bank_account: { verification_method: 'instant' } } }),
    (e) => e.statusCode === 400 && e.param === 'payment_method');
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
  // a SetupIntent shows the verification_method it was given; instant is taken (a Financial
  // Connections account's, checked at confirm)
  const si = await stripe.setupIntents.create({ payment_method_types: ['us_bank_account'], payment_method_options: { us_bank_account: { verification_method: 'microdeposits' } } });
  assert.equal(si.payment_method_options.us_bank_account.verification_method, 'microdeposits');
  assertStripeShape(si, 'setup_intent');
  const instant = await stripe.setupIntents.create({ payment_method_types: ['us_bank_account'], payment_method_options: { us_bank_account: { verification_method: 'instant' } } });
  assert.equal(instant.payment_method_options.us_bank_account.verification_method, 'instant');
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
    const pi = await debitSettled(stripe, pis[i].id);
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
  const d = await debitSettled(stripe, disputed.id);
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

  // the test bank answers at the scheduler's next tick: on a busy machine that can come before
  // the refund below, which is then a settled debit's refund; take another payment then
  let pi;
  for (let attempt = 0; ; attempt++) {
    pi = await paid(ACCOUNTS.ok);
    assert.equal(pi.status, 'processing');
    await assert.rejects(stripe.paymentIntents.cancel(pi.id), (e) => e.statusCode === 400 && e.code === 'payment_intent_unexpected_state');
    const res = await stripe.refunds.create({ charge: pi.latest_charge }).then((x) => x, (e) => e);
    if (res instanceof Error) {
      assert.ok(res.statusCode === 400 && /pending/.test(res.message), res.message);
      break;
    }
    assert.equal((await stripe.charges.retrieve(pi.latest_charge)).status, 'succeeded', 'refunded while pending');
    assert.ok(attempt < 4, 'the debit settled before every refund attempt');
  }
  await debitSettled(stripe, pi.id);
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
  pi = await debitSettled(stripe, pi.id);
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
  const pi = await debitSettled(stripe, (await paid(ACCOUNTS.ok)).id);
  assert.equal(pi.status, 'succeeded');
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  const single = await stripe.mandates.retrieve(ch.payment_method_details.us_bank_account.mandate);
  assert.equal(single.type, 'single_use');
  assert.equal(single.status, 'inactive');
  assertStripeShape(single, 'mandate');
});

// ---- ACH Direct Debit on Checkout Sessions and payment links ----

function usdPrice(unit_amount = 1800) {
  return stripe.prices.create({ currency: 'usd', unit_amount, product_data: { name: 'Field guide' } });
}

function achSession(price, extra = {}) {
  return stripe.checkout.sessions.create({
    mode: 'payment', line_items: [{ price: price.id, quantity: 1 }],
    success_url: `http://127.0.0.1:${shopPort}/ok?session_id={CHECKOUT_SESSION_ID}`,
    payment_method_types: ['card', 'us_bank_account'], ...extra,
  });
}

// the ACH form's fields, as the page posts them
function achForm(account, routing = ROUTING) {
  return new URLSearchParams({
    'payment_method_data[type]': 'us_bank_account',
    'payment_method_data[us_bank_account][routing_number]': routing,
    'payment_method_data[us_bank_account][account_number]': account,
    'payment_method_data[us_bank_account][account_holder_type]': 'individual',
    'payment_method_data[us_bank_account][account_type]': 'checking',
    'payment_method_data[billing_details][name]': 'Jenny Rosen',
    'payment_method_data[billing_details][email]': 'jenny@example.com',
  }).toString();
}

test('Checkout: us_bank_account shown in payment_method_types; refused outside usd, with a manual capture or shipping', async () => {
  await chromium();
  const price = await usdPrice();
  const s = await achSession(price);
  assert.deepEqual(s.payment_method_types, ['card', 'us_bank_account']);
  assertStripeShape(s, 'checkout.session');
  const only = await achSession(price, { payment_method_types: ['us_bank_account'] });
  assert.deepEqual((await stripe.checkout.sessions.retrieve(only.id)).payment_method_types, ['us_bank_account']);
  const eur = await stripe.prices.create({ currency: 'eur', unit_amount: 1800, product_data: { name: 'Buch' } });
  const before = (await stripe.checkout.sessions.list({ limit: 100 })).data.length;
  for (const [extra, param, msg] of [
    [{ line_items: [{ price: eur.id, quantity: 1 }] }, 'payment_method_types', /currency provided \(eur\).*us_bank_account.*usd/],
    [{ payment_method_types: ['sepa_debit', 'us_bank_account'] }, 'payment_method_types', /currency provided \(usd\)/],
    // setup mode saves an ACH account (checkout_params.test.js), in usd only
    [{ mode: 'setup', line_items: undefined, currency: 'eur' }, 'payment_method_types', /currency provided \(eur\)/],
    [{ payment_intent_data: { capture_method: 'manual' } }, 'payment_intent_data[capture_method]', /us_bank_account.*manual/],
    [{ shipping_address_collection: { allowed_countries: ['US'] } }, 'shipping_address_collection', /us_bank_account/],
    [{ payment_method_types: ['card', 'ach_debit'] }, 'payment_method_types', /ach_debit/],
  ]) {
    await assert.rejects(achSession(price, extra), (e) => {
      assert.equal(e.statusCode, 400, JSON.stringify(extra));
      assert.equal(e.param, param, JSON.stringify(extra));
      assert.match(e.message, msg);
      return true;
    });
  }
  assert.equal((await stripe.checkout.sessions.list({ limit: 100 })).data.length, before);
});

test('Checkout page: the ACH form completes the session unpaid, microdeposits, then paid when the debit settles (async_payment_succeeded)', async () => {
  const b = await chromium();
  const price = await usdPrice(1800);
  const s = await achSession(price, { line_items: [{ price: price.id, quantity: 2 }] });
  // a bad routing number is refused by the server and writes nothing
  const path = new URL(s.url).pathname;
  const bad = await env.request({ method: 'POST', path, body: achForm(ACCOUNTS.ok, '110000001') });
  assert.equal(bad.status, 400);
  assert.match(bad.body, /Routing number must have 9 digits/);
  assert.ok(!bad.body.includes(ACCOUNTS.ok));
  assert.equal((await stripe.checkout.sessions.retrieve(s.id)).payment_intent, null);

  const page = await b.newPage({ userAgent: 'Mozilla/5.0 (Tender ACH checkout)' });
  await page.goto(s.url);
  assert.equal(await page.textContent('#choice-card'), 'Pay by card');
  assert.match(await page.textContent('#choice-ach'), /ACH Direct Debit/);
  assert.match(await page.textContent('#ach-mandate'), /you authorize .+ to debit the bank account specified above once/);
  await page.fill('#ach-name', 'Jenny Rosen');
  await page.fill('#ach-email', 'jenny@example.com');
  await page.getByLabel('Routing number').fill(ROUTING);
  await page.getByLabel('Account number').fill(ACCOUNTS.ok);
  await page.check('#ach-type input[value=savings]');
  await Promise.all([page.waitForURL(/\/ok\?/), page.click('#ach-pay')]);
  assert.match(page.url(), new RegExp(`session_id=${s.id}`));
  await page.close();

  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'unpaid');
  assertStripeShape(done, 'checkout.session');
  let pi = await stripe.paymentIntents.retrieve(done.payment_intent, { expand: ['payment_method'] });
  assert.equal(pi.status, 'requires_action');
  assert.equal(pi.next_action.type, 'verify_with_microdeposits');
  assert.equal(pi.amount, 3600);
  assert.equal(pi.currency, 'usd');
  assert.deepEqual(pi.payment_method_types, ['card', 'us_bank_account']);
  assert.equal(pi.payment_method.type, 'us_bank_account');
  assert.equal(pi.payment_method.us_bank_account.last4, '6789');
  assert.equal(pi.payment_method.us_bank_account.account_type, 'savings');
  assert.equal(pi.payment_method.billing_details.name, 'Jenny Rosen');
  let evs = await eventsAbout(stripe, s.id);
  assert.deepEqual(evs.map((e) => e.type), ['checkout.session.completed']);
  assert.equal(evs[0].data.object.payment_status, 'unpaid');

  // the buyer reports the microdeposits: the debit goes to the bank
  pi = await stripe.paymentIntents.verifyMicrodeposits(pi.id, { amounts: [32, 45] });
  assert.equal(pi.status, 'processing');
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  const mandate = await stripe.mandates.retrieve(ch.payment_method_details.us_bank_account.mandate);
  assert.equal(mandate.type, 'single_use');
  assert.equal(mandate.customer_acceptance.type, 'online');
  assert.equal(mandate.customer_acceptance.online.ip_address, '127.0.0.1');
  assert.equal(mandate.customer_acceptance.online.user_agent, 'Mozilla/5.0 (Tender ACH checkout)');
  pi = await debitSettled(stripe, pi.id);
  assert.equal(pi.status, 'succeeded');
  const paid = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(paid.payment_status, 'paid');
  assertStripeShape(paid, 'checkout.session');
  evs = await eventsAbout(stripe, s.id);
  assert.deepEqual(evs.map((e) => e.type), ['checkout.session.completed', 'checkout.session.async_payment_succeeded']);
  assert.equal(evs[1].data.object.payment_status, 'paid');
  assertStripeShape(evs[1].data.object, 'checkout.session');
});

test('Checkout page: us_bank_account only, saved for later on a customer made, a returned debit: async_payment_failed', async () => {
  const b = await chromium();
  const price = await usdPrice(2100);
  const s = await achSession(price, {
    payment_method_types: ['us_bank_account'], customer_creation: 'always',
    payment_intent_data: { setup_future_usage: 'off_session' },
  });
  const page = await b.newPage();
  await page.goto(s.url);
  assert.equal(await page.$('#number'), null); // no card form
  assert.equal(await page.$('#choice-ach'), null);
  assert.match(await page.textContent('#ach-mandate'), /for later payments you owe it, until this authorization is revoked/);
  await page.fill('#ach-email', 'max@example.com');
  await page.fill('#ach-name', 'Max Mustermann');
  await page.getByLabel('Routing number').fill(ROUTING);
  await page.getByLabel('Account number').fill(ACCOUNTS.noFunds);
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /by bank account/ }).click()]);
  await page.close();

  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'unpaid');
  assert.match(done.customer, /^cus_/);
  let pi = await stripe.paymentIntents.verifyMicrodeposits(done.payment_intent, { descriptor_code: 'SM11AA' });
  assert.equal(pi.status, 'processing');
  assert.equal(pi.customer, done.customer);
  assert.equal(pi.setup_future_usage, 'off_session');
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal((await stripe.mandates.retrieve(ch.payment_method_details.us_bank_account.mandate)).type, 'multi_use');
  const pms = await stripe.paymentMethods.list({ customer: done.customer, type: 'us_bank_account' });
  assert.equal(pms.data.length, 1);
  assert.equal(pms.data[0].us_bank_account.last4, '2227');

  pi = await debitSettled(stripe, pi.id);
  assert.equal(pi.status, 'requires_payment_method');
  assert.equal(pi.last_payment_error.code, 'insufficient_funds');
  const after = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(after.payment_status, 'unpaid');
  const evs = await eventsAbout(stripe, s.id);
  assert.deepEqual(evs.map((e) => e.type), ['checkout.session.completed', 'checkout.session.async_payment_failed']);
  assert.equal(evs[1].data.object.payment_status, 'unpaid');
  assertStripeShape(evs[1].data.object, 'checkout.session');
});

test('Checkout: three wrong microdeposit answers fail the session\'s payment (async_payment_failed)', async () => {
  await chromium();
  const s = await achSession(await usdPrice(900));
  const res = await env.request({ method: 'POST', path: new URL(s.url).pathname, body: achForm(ACCOUNTS.other) });
  assert.ok(res.status === 302 || res.status === 303, `status ${res.status}`);
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  for (let i = 0; i < 2; i++) {
    await assert.rejects(stripe.paymentIntents.verifyMicrodeposits(done.payment_intent, { amounts: [1, 2] }),
      (e) => e.code === 'payment_method_microdeposit_verification_amounts_mismatch');
  }
  await assert.rejects(stripe.paymentIntents.verifyMicrodeposits(done.payment_intent, { amounts: [1, 2] }),
    (e) => e.code === 'payment_method_microdeposit_verification_attempts_exceeded');
  const evs = await eventsAbout(stripe, s.id);
  assert.deepEqual(evs.map((e) => e.type), ['checkout.session.completed', 'checkout.session.async_payment_failed']);
  assert.equal((await stripe.checkout.sessions.retrieve(s.id)).payment_status, 'unpaid');
});

// a card's fields, as the page's card form posts them
function cardForm(number) {
  return new URLSearchParams({
    'payment_method_data[type]': 'card',
    'payment_method_data[card][number]': number,
    'payment_method_data[card][exp_month]': '12',
    'payment_method_data[card][exp_year]': '2034',
    'payment_method_data[card][cvc]': '123',
    'payment_method_data[billing_details][email]': 'jenny@example.com',
  }).toString();
}

// the intents of amount made since the session (its own: the amount is the test's alone)
async function intentsOf(s, amount) {
  const all = await stripe.paymentIntents.list({ created: { gte: s.created }, limit: 100 });
  return all.data.filter((p) => p.amount === amount);
}

test('Checkout page: a declined card, a refused form, a 3-D Secure challenge left open, then the ACH form: the session\'s one PaymentIntent confirmed again', async () => {
  await chromium();
  const s = await achSession(await usdPrice(1377));
  const path = new URL(s.url).pathname;
  const declined = await env.request({ method: 'POST', path, body: cardForm('4000000000000002') });
  assert.equal(declined.status, 402);
  const pi0 = (await stripe.checkout.sessions.retrieve(s.id)).payment_intent;
  assert.match(pi0, /^pi_/);
  assert.equal((await stripe.paymentIntents.retrieve(pi0)).status, 'requires_payment_method');
  // a bad routing number is refused before any attempt: the intent stays as it was
  const bad = await env.request({ method: 'POST', path, body: achForm(ACCOUNTS.ok, '110000001') });
  assert.equal(bad.status, 400);
  // a card asking for 3-D Secure, left at its challenge: the same intent waits for it
  const challenged = await env.request({ method: 'POST', path, body: cardForm('4000002760003184') });
  assert.ok(challenged.status === 302 || challenged.status === 303, `status ${challenged.status}`);
  let pi = await stripe.paymentIntents.retrieve(pi0);
  assert.equal(pi.status, 'requires_action');
  assert.equal(pi.next_action.type, 'redirect_to_url');
  assert.equal((await stripe.checkout.sessions.retrieve(s.id)).payment_intent, pi0);

  // the ACH form confirms that intent again: it waits for its microdeposits, the challenge is over
  const res = await env.request({ method: 'POST', path, body: achForm(ACCOUNTS.ok) });
  assert.ok(res.status === 302 || res.status === 303, `status ${res.status}`);
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'unpaid');
  assert.equal(done.payment_intent, pi0);
  assertStripeShape(done, 'checkout.session');
  pi = await stripe.paymentIntents.retrieve(pi0, { expand: ['payment_method'] });
  assert.equal(pi.status, 'requires_action');
  assert.equal(pi.next_action.type, 'verify_with_microdeposits');
  assert.equal(pi.payment_method.type, 'us_bank_account');
  assert.deepEqual(pi.payment_method_types, ['card', 'us_bank_account']);
  assert.equal(pi.last_payment_error, null);
  assertStripeShape({ ...pi, payment_method: pi.payment_method.id }, 'payment_intent');
  const mine = await intentsOf(s, 1377);
  assert.deepEqual(mine.map((p) => p.id), [pi0], 'no orphan intent');
  // the challenge left open pays nothing now
  const challenge = new URL(challenged.headers.location, s.url).pathname;
  await env.request({ method: 'POST', path: `${challenge}/complete`, body: '' });
  assert.equal((await stripe.paymentIntents.retrieve(pi0)).status, 'requires_action');
  pi = await stripe.paymentIntents.verifyMicrodeposits(pi0, { amounts: [32, 45] });
  assert.equal(pi.status, 'processing');
  pi = await debitSettled(stripe, pi0);
  assert.equal(pi.status, 'succeeded');
  assert.equal((await stripe.checkout.sessions.retrieve(s.id)).payment_status, 'paid');
});

test('Checkout: us_bank_account in subscription mode: incomplete while the account waits for its microdeposits, active once verified on the hosted page, paid when the debit settles', async () => {
  const b = await chromium();
  const monthly = await stripe.prices.create({ currency: 'usd', unit_amount: 1300, recurring: { interval: 'month' }, product_data: { name: 'ACH plan' } });
  const params = {
    mode: 'subscription', line_items: [{ price: monthly.id, quantity: 2 }],
    success_url: `http://127.0.0.1:${shopPort}/ok?session_id={CHECKOUT_SESSION_ID}`,
    payment_method_types: ['card', 'us_bank_account'],
  };
  // a trial would charge nothing now, so nothing would verify the account: refused
  await assert.rejects(stripe.checkout.sessions.create({ ...params, subscription_data: { trial_period_days: 7 } }),
    (e) => e.statusCode === 400 && e.param === 'subscription_data[trial_period_days]');
  const s = await stripe.checkout.sessions.create(params);
  assert.deepEqual(s.payment_method_types, ['card', 'us_bank_account']);
  assertStripeShape(s, 'checkout.session');

  const page = await b.newPage({ userAgent: 'Mozilla/5.0 (Tender ACH subscription)' });
  await page.goto(s.url);
  assert.match(await page.textContent('#ach-mandate'), /for later payments you owe it, until this authorization is revoked/);
  await page.fill('#ach-name', 'Jenny Rosen');
  await page.fill('#ach-email', 'jenny@example.com');
  await page.getByLabel('Routing number').fill(ROUTING);
  await page.getByLabel('Account number').fill(ACCOUNTS.ok);
  await Promise.all([page.waitForURL(/\/ok\?/), page.click('#ach-pay')]);
  await page.close();

  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'unpaid');
  assert.match(done.customer, /^cus_/);
  assert.equal(done.payment_intent, null);
  assertStripeShape(done, 'checkout.session');
  let sub = await stripe.subscriptions.retrieve(done.subscription);
  assert.equal(sub.status, 'incomplete');
  assert.equal(sub.latest_invoice, done.invoice);
  billingShape(sub, 'subscription');
  const pm = await stripe.paymentMethods.retrieve(sub.default_payment_method);
  assert.equal(pm.type, 'us_bank_account');
  assert.equal(pm.customer, done.customer);
  assert.equal(pm.us_bank_account.last4, '6789');
  let inv = await stripe.invoices.retrieve(done.invoice);
  assert.equal(inv.status, 'open');
  assert.equal(inv.amount_due, 2600);
  let pi = await stripe.paymentIntents.retrieve((await invoiceLatestPi(stripe, inv)).id);
  assert.equal(pi.status, 'requires_action');
  assert.equal(pi.next_action.type, 'verify_with_microdeposits');
  assert.equal(pi.payment_method, pm.id);
  assert.equal(pi.invoice, inv.id);
  assertStripeShape(pi, 'payment_intent');
  let evs = await eventsAbout(stripe, s.id);
  assert.deepEqual(evs.map((e) => e.type), ['checkout.session.completed']);
  assert.equal(evs[0].data.object.payment_status, 'unpaid');
  assert.ok((await eventTypesOf(stripe, inv.id)).includes('invoice.payment_action_required'));

  // the customer verifies on the hosted page: the debit goes to the bank under the mandate
  // accepted on the checkout page, the subscription active while it processes (as SEPA's)
  const p = await hosted(pi.next_action.verify_with_microdeposits.hosted_verification_url, { 'amounts[0]': '32', 'amounts[1]': '45' });
  assert.equal(p.status, 200);
  pi = await stripe.paymentIntents.retrieve(pi.id, { expand: ['latest_charge'] });
  assert.ok(pi.status === 'processing' || pi.status === 'succeeded', pi.status);
  const mandate = await stripe.mandates.retrieve(pi.latest_charge.payment_method_details.us_bank_account.mandate);
  assert.equal(mandate.type, 'multi_use');
  assert.equal(mandate.payment_method, pm.id);
  assert.equal(mandate.customer_acceptance.online.user_agent, 'Mozilla/5.0 (Tender ACH subscription)');
  assertStripeShape(mandate, 'mandate');
  sub = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(sub.status, 'active');
  inv = await invoiceDebitSettled(stripe, inv.id);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.amount_paid, 2600);
  assert.equal(inv.payment_intent.status, 'succeeded');
  const paid = await waitFor(async () => {
    const x = await stripe.checkout.sessions.retrieve(s.id);
    return x.payment_status === 'paid' && x;
  }, 'the session to be paid', 30000);
  assertStripeShape(paid, 'checkout.session');
  evs = await eventsAbout(stripe, s.id);
  assert.deepEqual(evs.map((e) => e.type), ['checkout.session.completed', 'checkout.session.async_payment_succeeded']);
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'active');
});

test('Checkout: us_bank_account in subscription mode, three wrong microdeposit answers: async_payment_failed, the invoice open, the subscription incomplete', async () => {
  await chromium();
  const monthly = await stripe.prices.create({ currency: 'usd', unit_amount: 700, recurring: { interval: 'month' }, product_data: { name: 'ACH plan' } });
  const s = await stripe.checkout.sessions.create({
    mode: 'subscription', line_items: [{ price: monthly.id, quantity: 1 }],
    success_url: `http://127.0.0.1:${shopPort}/ok?session_id={CHECKOUT_SESSION_ID}`,
    payment_method_types: ['us_bank_account'],
  });
  const res = await env.request({ method: 'POST', path: new URL(s.url).pathname, body: achForm(ACCOUNTS.ok) });
  assert.ok(res.status === 302 || res.status === 303, `status ${res.status}`);
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'unpaid');
  const { id: piId } = await invoiceLatestPi(stripe, { id: done.invoice, customer: done.customer });
  for (let i = 0; i < 2; i++) {
    await assert.rejects(stripe.paymentIntents.verifyMicrodeposits(piId, { amounts: [1, 2] }),
      (e) => e.code === 'payment_method_microdeposit_verification_amounts_mismatch');
  }
  await assert.rejects(stripe.paymentIntents.verifyMicrodeposits(piId, { amounts: [1, 2] }),
    (e) => e.code === 'payment_method_microdeposit_verification_attempts_exceeded');
  const pi = await stripe.paymentIntents.retrieve(piId);
  assert.equal(pi.status, 'requires_payment_method');
  assert.equal(pi.last_payment_error.code, 'payment_method_microdeposit_verification_attempts_exceeded');
  const inv = await stripe.invoices.retrieve(done.invoice);
  assert.equal(inv.status, 'open');
  assert.equal(inv.amount_paid, 0);
  assert.ok((await eventTypesOf(stripe, inv.id)).includes('invoice.payment_failed'));
  billingShape(inv, 'invoice');
  assert.equal((await stripe.subscriptions.retrieve(done.subscription)).status, 'incomplete');
  const evs = await eventsAbout(stripe, s.id);
  assert.deepEqual(evs.map((e) => e.type), ['checkout.session.completed', 'checkout.session.async_payment_failed']);
  assertStripeShape(evs[1].data.object, 'checkout.session');
  assert.equal((await stripe.checkout.sessions.retrieve(s.id)).payment_status, 'unpaid');
});

test('Checkout: us_bank_account in subscription mode: the account has 10 days (not 23 hours) to be verified, then the subscription expires', async () => {
  await chromium();
  const T0 = Date.UTC(2025, 4, 1) / 1000; // May 1
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
  const cus = await stripe.customers.create({ email: 'ach-clock@example.com', test_clock: clock.id });
  const monthly = await stripe.prices.create({ currency: 'usd', unit_amount: 800, recurring: { interval: 'month' }, product_data: { name: 'ACH plan' } });
  const s = await stripe.checkout.sessions.create({
    mode: 'subscription', customer: cus.id, line_items: [{ price: monthly.id, quantity: 1 }],
    success_url: `http://127.0.0.1:${shopPort}/ok?session_id={CHECKOUT_SESSION_ID}`,
    payment_method_types: ['us_bank_account'],
  });
  const res = await env.request({ method: 'POST', path: new URL(s.url).pathname, body: achForm(ACCOUNTS.ok) });
  assert.ok(res.status === 302 || res.status === 303, `status ${res.status}`);
  const done = await stripe.checkout.sessions.retrieve(s.id);
  const sub0 = await stripe.subscriptions.retrieve(done.subscription);
  assert.equal(sub0.status, 'incomplete');
  const { id: piId } = await invoiceLatestPi(stripe, { id: done.invoice, customer: cus.id });
  // two days on (past Stripe's 23 hours for an incomplete subscription): still waiting
  await clockAdvance(stripe, clock, T0 + 2 * 86400);
  assert.equal((await stripe.subscriptions.retrieve(sub0.id)).status, 'incomplete');
  assert.equal((await stripe.paymentIntents.retrieve(piId)).status, 'requires_action');
  assert.equal((await stripe.invoices.retrieve(done.invoice)).status, 'open');
  // ten days on: expired, its invoice void and its intent canceled, so it can no longer be verified
  await clockAdvance(stripe, clock, T0 + 10 * 86400 + 3600);
  const sub = await waitFor(async () => {
    const x = await stripe.subscriptions.retrieve(sub0.id);
    return x.status === 'incomplete_expired' && x;
  }, 'the subscription to expire', 15000);
  billingShape(sub, 'subscription');
  assert.equal((await stripe.invoices.retrieve(done.invoice)).status, 'void');
  assert.equal((await stripe.paymentIntents.retrieve(piId)).status, 'canceled');
  await assert.rejects(stripe.paymentIntents.verifyMicrodeposits(piId, { amounts: [32, 45] }), (e) => e.statusCode === 400);
});

test('Checkout: payment_method_options[us_bank_account] shown; its setup_future_usage saves the account, a card\'s does not', async () => {
  await chromium();
  const price = await usdPrice(1600);
  // an account typed by hand cannot be verified instantly: instant refuses the typed form
  const instant = await achSession(price, { payment_method_options: { us_bank_account: { verification_method: 'instant' } } });
  const typed = await env.request({ method: 'POST', path: new URL(instant.url).pathname, body: achForm(ACCOUNTS.ok) });
  assert.equal(typed.status, 400);
  assert.match(typed.body, /takes only accounts verified instantly/);
  assert.equal((await stripe.checkout.sessions.retrieve(instant.id)).payment_intent, null);
  const cus = await stripe.customers.create({ email: 'ach-pmo@example.com' });
  const s = await achSession(price, {
    customer: cus.id, payment_method_options: { us_bank_account: { setup_future_usage: 'off_session', verification_method: 'automatic' } },
  });
  assert.deepEqual(s.payment_method_options, {
    us_bank_account: { financial_connections: { permissions: ['payment_method'], prefetch: [] }, setup_future_usage: 'off_session', verification_method: 'automatic' },
  });
  assertStripeShape(s, 'checkout.session');
  const res = await env.request({ method: 'POST', path: new URL(s.url).pathname, body: achForm(ACCOUNTS.ok) });
  assert.ok(res.status === 302 || res.status === 303, `status ${res.status}`);
  const pi = await stripe.paymentIntents.verifyMicrodeposits((await stripe.checkout.sessions.retrieve(s.id)).payment_intent, { amounts: [32, 45] });
  assert.equal(pi.setup_future_usage, 'off_session');
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal((await stripe.mandates.retrieve(ch.payment_method_details.us_bank_account.mandate)).type, 'multi_use');
  assert.equal((await stripe.paymentMethods.retrieve(pi.payment_method)).customer, cus.id);

  // a card's setup_future_usage is the card's: an account paid by ACH is not saved
  const s2 = await achSession(price, { customer: cus.id, payment_method_options: { card: { setup_future_usage: 'off_session' } } });
  assert.equal(s2.payment_method_options.us_bank_account, undefined);
  await env.request({ method: 'POST', path: new URL(s2.url).pathname, body: achForm(ACCOUNTS.other) });
  const pi2 = await stripe.paymentIntents.verifyMicrodeposits((await stripe.checkout.sessions.retrieve(s2.id)).payment_intent, { amounts: [32, 45] });
  assert.equal(pi2.setup_future_usage, null);
  assert.equal((await stripe.paymentMethods.retrieve(pi2.payment_method)).customer, null);
});

test('payment links with us_bank_account: each payment\'s session offers the ACH form', async () => {
  const b = await chromium();
  const eur = await stripe.prices.create({ currency: 'eur', unit_amount: 1000, product_data: { name: 'Buch' } });
  await assert.rejects(stripe.paymentLinks.create({
    line_items: [{ price: eur.id, quantity: 1 }], payment_method_types: ['card', 'us_bank_account'],
  }), (e) => e.statusCode === 400 && e.param === 'payment_method_types' && /usd/.test(e.message));
  const price = await usdPrice(1250);
  await assert.rejects(stripe.paymentLinks.create({
    line_items: [{ price: price.id, quantity: 1 }], payment_method_types: ['us_bank_account'],
    shipping_address_collection: { allowed_countries: ['US'] },
  }), (e) => e.statusCode === 400 && e.param === 'shipping_address_collection' && /us_bank_account/.test(e.message));
  const link = await stripe.paymentLinks.create({
    line_items: [{ price: price.id, quantity: 3 }], payment_method_types: ['card', 'us_bank_account'],
    after_completion: { type: 'redirect', redirect: { url: `http://127.0.0.1:${shopPort}/thanks` } },
  });
  assert.deepEqual(link.payment_method_types, ['card', 'us_bank_account']);
  assertStripeShape(link, 'payment_link');

  const page = await b.newPage();
  await page.goto(link.url);
  assert.match(await page.textContent('#choice-ach'), /ACH Direct Debit/);
  await page.fill('#ach-email', 'link@example.com');
  await page.fill('#ach-name', 'Link Buyer');
  await page.fill('#ach-routing', ROUTING);
  await page.fill('#ach-account', ACCOUNTS.ok);
  await Promise.all([page.waitForURL(/\/thanks$/), page.click('#ach-pay')]);
  await page.close();

  const [s] = (await stripe.checkout.sessions.list({ payment_link: link.id })).data;
  assert.equal(s.status, 'complete');
  assert.equal(s.payment_status, 'unpaid');
  assert.deepEqual(s.payment_method_types, ['card', 'us_bank_account']);
  assert.equal(s.amount_total, 3750);
  await stripe.paymentIntents.verifyMicrodeposits(s.payment_intent, { amounts: [45, 32] });
  const pi = await debitSettled(stripe, s.payment_intent);
  assert.equal(pi.status, 'succeeded');
  const paid = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(paid.payment_status, 'paid');
  assertStripeShape(paid, 'checkout.session');
});

// ---- invoices and subscriptions paid by ACH Direct Debit ----

// a customer whose default payment method is a us_bank_account with a multi-use mandate (a
// SetupIntent's), verified with microdeposits unless verify is false
// ---- Financial Connections on the Checkout page (verification_method automatic / instant) ----

// the test institution's numbers (vault/fc_institution.c): only the vault may know them
const FC_NUMBERS = { success: '000123456789', checking: '000000001116', savings: '000000004321' };

// the page's HTML has no account number of the test institution (only keys and last4)
async function noNumbersIn(page) {
  const html = await page.content();
  for (const n of Object.values(FC_NUMBERS)) assert.ok(!html.includes(n), `${n} on the page`);
}

test('Checkout page, verification_method=instant: the buyer links an account, verified at once: processing, then paid when the debit settles', async () => {
  const b = await chromium();
  const price = await usdPrice(2200);
  const cus = await stripe.customers.create({ email: 'fc-instant@example.com' });
  const s = await achSession(price, {
    customer: cus.id, payment_method_types: ['us_bank_account'],
    payment_method_options: { us_bank_account: { verification_method: 'instant', financial_connections: { permissions: ['payment_method', 'balances'], prefetch: ['balances'] } } },
  });
  const page = await b.newPage({ userAgent: 'Mozilla/5.0 (Tender FC checkout)' });
  await page.goto(s.url);
  // instant: no form to type numbers into
  assert.equal(await page.$('#ach-form'), null);
  assert.equal(await page.$('#ach-account'), null);
  assert.match(await page.textContent('#ach-link-accounts'), /Test Institution/);
  assert.match(await page.textContent('#ach-link-mandate'), /debit the bank account specified above once/);
  await noNumbersIn(page);
  await page.fill('#ach-link-email', 'fc-instant@example.com');
  await page.fill('#ach-link-name', 'Jenny Rosen');
  await page.check('#fc-account-checking');
  await Promise.all([page.waitForURL(/\/ok\?/), page.click('#ach-link-pay')]);
  await page.close();

  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assertStripeShape(done, 'checkout.session');
  // completed unpaid (the scheduler may have settled the debit since)
  const completed = (await eventsAbout(stripe, s.id)).find((e) => e.type === 'checkout.session.completed');
  assert.equal(completed.data.object.payment_status, 'unpaid');
  let pi = await stripe.paymentIntents.retrieve(done.payment_intent, { expand: ['payment_method'] });
  assert.ok(['processing', 'succeeded'].includes(pi.status), pi.status); // no microdeposits
  assert.equal(pi.next_action, null);
  assert.equal(pi.customer, cus.id);
  assert.deepEqual(pi.payment_method_options.us_bank_account.financial_connections, { permissions: ['payment_method', 'balances'], prefetch: ['balances'] });
  assert.equal(pi.payment_method_options.us_bank_account.verification_method, 'instant');
  const pm = pi.payment_method;
  assert.equal(pm.us_bank_account.last4, '1116');
  assert.equal(pm.us_bank_account.routing_number, ROUTING);
  assert.equal(pm.billing_details.name, 'Jenny Rosen');
  assert.match(pm.us_bank_account.financial_connections_account, /^fca_/);
  assertStripeShape(pm, 'payment_method');
  const fca = await stripe.financialConnections.accounts.retrieve(pm.us_bank_account.financial_connections_account);
  assert.deepEqual(fca.account_holder, { customer: cus.id, type: 'customer' });
  assert.equal(fca.display_name, 'Checking');
  assert.deepEqual(fca.permissions, ['payment_method', 'balances']);
  assert.equal(fca.balance.cash.available.usd, 250000); // prefetched
  assertStripeShape(fca, 'financial_connections.account');
  assert.deepEqual(await eventTypesOf(stripe, fca.id), ['financial_connections.account.created', 'financial_connections.account.refreshed_balance']);
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  const mandate = await stripe.mandates.retrieve(ch.payment_method_details.us_bank_account.mandate);
  assert.equal(mandate.customer_acceptance.online.user_agent, 'Mozilla/5.0 (Tender FC checkout)');
  assert.deepEqual((await eventTypesOf(stripe, pi.id)).slice(0, 2), ['payment_intent.created', 'payment_intent.processing']);
  pi = await debitSettled(stripe, pi.id);
  assert.equal(pi.status, 'succeeded');
  assertStripeShape(pi, 'payment_intent');
  const paid = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(paid.payment_status, 'paid');
  assertStripeShape(paid, 'checkout.session');
  assert.deepEqual((await eventsAbout(stripe, s.id)).map((e) => e.type), ['checkout.session.completed', 'checkout.session.async_payment_succeeded']);
});

test('Checkout page, verification_method=automatic (the default): a guest links an account (no holder), or types one in by hand (microdeposits)', async () => {
  const b = await chromium();
  const price = await usdPrice(1400);
  const s = await achSession(price);
  const page = await b.newPage();
  await page.goto(s.url);
  // both: linking first, the typed form as the fallback
  assert.match(await page.textContent('#choice-ach-link'), /link your bank/);
  assert.ok(await page.$('#ach-form'));
  await noNumbersIn(page);
  await page.fill('#ach-link-email', 'guest@example.com');
  await page.fill('#ach-link-name', 'Guest Buyer');
  await page.check('#fc-account-savings');
  await Promise.all([page.waitForURL(/\/ok\?/), page.click('#ach-link-pay')]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.customer, null);
  const pi = await stripe.paymentIntents.retrieve(done.payment_intent, { expand: ['payment_method'] });
  assert.ok(['processing', 'succeeded'].includes(pi.status), pi.status); // no microdeposits
  assert.equal(pi.payment_method.us_bank_account.account_type, 'savings');
  assert.equal(pi.payment_method.us_bank_account.last4, '4321');
  assert.equal(pi.payment_method.customer, null);
  const fca = await stripe.financialConnections.accounts.retrieve(pi.payment_method.us_bank_account.financial_connections_account);
  assert.equal(fca.account_holder, null); // a guest's: nobody holds it
  assertStripeShape(fca, 'financial_connections.account');
  assert.equal((await debitSettled(stripe, pi.id)).status, 'succeeded');
  assert.equal((await stripe.checkout.sessions.retrieve(s.id)).payment_status, 'paid');

  // the same default, an account typed by hand: microdeposits, as before
  const s2 = await achSession(price);
  const page2 = await b.newPage();
  await page2.goto(s2.url);
  await page2.fill('#ach-email', 'typed@example.com');
  await page2.fill('#ach-name', 'Typed Buyer');
  await page2.fill('#ach-routing', ROUTING);
  await page2.fill('#ach-account', ACCOUNTS.ok);
  await Promise.all([page2.waitForURL(/\/ok\?/), page2.click('#ach-pay')]);
  await page2.close();
  const pi2 = await stripe.paymentIntents.retrieve((await stripe.checkout.sessions.retrieve(s2.id)).payment_intent);
  assert.equal(pi2.status, 'requires_action');
  assert.equal(pi2.next_action.type, 'verify_with_microdeposits');

  // verification_method=microdeposits: no linking offered, and a posted test account is refused
  const s3 = await achSession(price, { payment_method_options: { us_bank_account: { verification_method: 'microdeposits' } } });
  const page3 = await b.newPage();
  await page3.goto(s3.url);
  assert.equal(await page3.$('#ach-link-form'), null);
  assert.ok(await page3.$('#ach-form'));
  await page3.close();
  const posted = await env.request({
    method: 'POST', path: new URL(s3.url).pathname, body: new URLSearchParams({
      'payment_method_data[type]': 'us_bank_account', fc_account: 'success',
      'payment_method_data[billing_details][name]': 'Jenny Rosen', 'payment_method_data[billing_details][email]': 'jenny@example.com',
    }).toString(),
  });
  assert.equal(posted.status, 400);
  assert.match(posted.body, /does not take that bank account/);
  assert.equal((await stripe.checkout.sessions.retrieve(s3.id)).payment_intent, null);
});

test('Checkout page, setup mode: a linked account saved at once (succeeded SetupIntent, multi-use mandate)', async () => {
  const b = await chromium();
  const s = await stripe.checkout.sessions.create({
    mode: 'setup', currency: 'usd', customer_creation: 'always', payment_method_types: ['us_bank_account'],
    success_url: `http://127.0.0.1:${shopPort}/ok?session_id={CHECKOUT_SESSION_ID}`,
  });
  const page = await b.newPage();
  await page.goto(s.url);
  assert.match(await page.textContent('#ach-link-mandate'), /for later payments you owe it/);
  await noNumbersIn(page);
  await page.fill('#ach-link-email', 'fc-saver@example.com');
  await page.fill('#ach-link-name', 'Ada Saver');
  await Promise.all([page.waitForURL(/\/ok\?/), page.click('#ach-link-pay')]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.match(done.customer, /^cus_/);
  assertStripeShape(done, 'checkout.session');
  const si = await stripe.setupIntents.retrieve(done.setup_intent);
  assert.equal(si.status, 'succeeded');
  assert.equal(si.customer, done.customer);
  assertStripeShape(si, 'setup_intent');
  assert.equal((await stripe.mandates.retrieve(si.mandate)).type, 'multi_use');
  const pms = await stripe.paymentMethods.list({ customer: done.customer, type: 'us_bank_account' });
  assert.equal(pms.data.length, 1);
  assert.equal(pms.data[0].us_bank_account.last4, '6789');
  assert.match(pms.data[0].us_bank_account.financial_connections_account, /^fca_/);
  // saved: it pays off session at once, no microdeposits
  const pi = await stripe.paymentIntents.create({
    amount: 900, currency: 'usd', customer: done.customer, payment_method: pms.data[0].id,
    payment_method_types: ['us_bank_account'], confirm: true, off_session: true,
  });
  assert.equal(pi.status, 'processing');
});

test('Checkout page, subscription mode: the first invoice paid by a linked account (no microdeposits), the subscription active while it processes', async () => {
  const b = await chromium();
  const monthly = await stripe.prices.create({ currency: 'usd', unit_amount: 1100, recurring: { interval: 'month' }, product_data: { name: 'FC plan' } });
  const s = await stripe.checkout.sessions.create({
    mode: 'subscription', line_items: [{ price: monthly.id, quantity: 1 }],
    success_url: `http://127.0.0.1:${shopPort}/ok?session_id={CHECKOUT_SESSION_ID}`,
    payment_method_types: ['card', 'us_bank_account'],
    payment_method_options: { us_bank_account: { verification_method: 'instant' } },
  });
  const page = await b.newPage();
  await page.goto(s.url);
  assert.equal(await page.$('#ach-form'), null);
  await noNumbersIn(page);
  await page.fill('#ach-link-email', 'fc-sub@example.com');
  await page.fill('#ach-link-name', 'Sub Buyer');
  await Promise.all([page.waitForURL(/\/ok\?/), page.click('#ach-link-pay')]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.match(done.customer, /^cus_/);
  assertStripeShape(done, 'checkout.session');
  const sub = await stripe.subscriptions.retrieve(done.subscription);
  assert.equal(sub.status, 'active');
  const pm = await stripe.paymentMethods.retrieve(sub.default_payment_method);
  assert.equal(pm.customer, done.customer);
  assert.match(pm.us_bank_account.financial_connections_account, /^fca_/);
  const inv = await invoiceDebitSettled(stripe, done.invoice);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.amount_paid, 1100);
  await waitFor(async () => (await stripe.checkout.sessions.retrieve(s.id)).payment_status === 'paid', 'the session to be paid', 30000);
  assert.deepEqual((await eventsAbout(stripe, s.id)).map((e) => e.type), ['checkout.session.completed', 'checkout.session.async_payment_succeeded']);
});

async function achCustomer(account, { verify = true, asDefault = true, clock = null } = {}) {
  const cus = await stripe.customers.create({ email: `ach-${account.slice(-4)}@example.com`, ...(clock ? { test_clock: clock.id } : {}) });
  const pm = await achPm(account);
  const si = await stripe.setupIntents.create({
    customer: cus.id, payment_method_types: ['us_bank_account'], payment_method: pm.id, confirm: true, mandate_data: ONLINE,
  });
  if (verify) await stripe.setupIntents.verifyMicrodeposits(si.id, { amounts: [32, 45] });
  else await stripe.paymentMethods.attach(pm.id, { customer: cus.id });
  if (asDefault) await stripe.customers.update(cus.id, { invoice_settings: { default_payment_method: pm.id } });
  return { cus, pm, si: await stripe.setupIntents.retrieve(si.id) };
}

test('a one-off invoice paid by ACH: open while the debit processes, paid when it settles', async () => {
  const { cus, pm, si } = await achCustomer(ACCOUNTS.ok);
  const fin = await openInvoice(stripe, cus, 6400, 'usd');
  const paying = await stripe.invoices.pay(fin.id);
  assert.equal(paying.status, 'open');
  assert.equal(paying.amount_paid, 0);
  assert.equal(paying.attempt_count, 1);
  billingShape(paying, 'invoice');
  const pi = await invoiceLatestPi(stripe, paying);
  // the pay answer above is the write's state; the scheduler settles a debit on its next tick
  // (due at once in test mode), which a loaded machine may reach before this read
  assert.ok(['processing', 'succeeded'].includes(pi.status), pi.status);
  assert.equal(pi.payment_method, pm.id);
  assert.ok(pi.payment_method_types.includes('us_bank_account'));
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(ch.invoice, fin.id);
  assert.equal(ch.payment_method_details.us_bank_account.mandate, si.mandate);
  const inv = await invoiceDebitSettled(stripe, fin.id);
  assert.equal(inv.payment_intent.status, 'succeeded');
  assert.equal(inv.status, 'paid');
  assert.equal(inv.amount_paid, 6400);
  billingShape(await stripe.invoices.retrieve(fin.id), 'invoice');
  const types = await eventTypesOf(stripe, fin.id);
  assert.equal(types.filter((t) => t === 'invoice.paid').length, 1);
  assert.equal(types.filter((t) => t === 'invoice.payment_succeeded').length, 1);
});

test('an ACH invoice whose debit is returned: invoice.payment_failed, still open; an unverified account cannot pay', async () => {
  const { cus } = await achCustomer(ACCOUNTS.closed);
  const fin = await openInvoice(stripe, cus, 3300, 'usd');
  await stripe.invoices.pay(fin.id);
  const inv = await invoiceDebitSettled(stripe, fin.id);
  assert.equal(inv.payment_intent.status, 'requires_payment_method');
  assert.equal(inv.payment_intent.last_payment_error.code, 'account_closed');
  assert.equal(inv.status, 'open');
  assert.equal(inv.amount_paid, 0);
  const types = await eventTypesOf(stripe, fin.id);
  assert.ok(types.includes('invoice.payment_failed'));
  assert.ok(!types.includes('invoice.paid'));

  // never verified: Stripe's bank_account_unverified, and nothing is written
  const { cus: cus2 } = await achCustomer(ACCOUNTS.ok, { verify: false });
  const fin2 = await openInvoice(stripe, cus2, 2000, 'usd');
  await assert.rejects(stripe.invoices.pay(fin2.id), (e) => {
    assert.equal(e.statusCode, 400);
    assert.equal(e.code, 'bank_account_unverified');
    assert.equal(e.param, 'payment_method');
    return true;
  });
  const still = await stripe.invoices.retrieve(fin2.id);
  assert.equal(still.status, 'open');
  assert.equal(still.attempt_count, 0);
  assert.equal((await stripe.paymentIntents.list({ customer: cus2.id })).data.length, 0);
  // and an ACH debit must be in usd
  const { cus: cus3 } = await achCustomer(ACCOUNTS.ok);
  const eurInv = await openInvoice(stripe, cus3, 2000, 'eur');
  await assert.rejects(stripe.invoices.pay(eurInv.id), (e) => e.statusCode === 400 && /usd/.test(e.message));
});

test('payment_settings[payment_method_types] takes us_bank_account (usd only) on invoices and subscriptions', async () => {
  const { cus } = await achCustomer(ACCOUNTS.ok);
  await stripe.invoiceItems.create({ customer: cus.id, amount: 2500, currency: 'usd' });
  const draft = await stripe.invoices.create({
    customer: cus.id, pending_invoice_items_behavior: 'include', auto_advance: false,
    payment_settings: { payment_method_types: ['card', 'us_bank_account'] },
  });
  assert.deepEqual(draft.payment_settings.payment_method_types, ['card', 'us_bank_account']);
  billingShape(draft, 'invoice');
  const cardOnly = await stripe.invoices.update(draft.id, { payment_settings: { payment_method_types: ['card'] } });
  assert.deepEqual(cardOnly.payment_settings.payment_method_types, ['card']);
  await stripe.invoices.finalizeInvoice(draft.id, { auto_advance: false });
  await assert.rejects(stripe.invoices.pay(draft.id), (e) => e.statusCode === 400 && e.param === 'payment_method');
  const eurCus = await stripe.customers.create({ email: 'eur@example.com' });
  await stripe.invoiceItems.create({ customer: eurCus.id, amount: 2500, currency: 'eur' });
  await assert.rejects(stripe.invoices.create({
    customer: eurCus.id, pending_invoice_items_behavior: 'include', payment_settings: { payment_method_types: ['us_bank_account'] },
  }), (e) => e.statusCode === 400 && e.param === 'payment_settings[payment_method_types]' && /usd/.test(e.message));
});

test('a subscription paid by ACH: active while its first debit processes, paid when it settles, and its renewal too', async () => {
  const T0 = Date.UTC(2025, 2, 1) / 1000; // Mar 1
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
  const { cus } = await achCustomer(ACCOUNTS.ok, { clock });
  const price = await stripe.prices.create({ currency: 'usd', unit_amount: 1900, recurring: { interval: 'month' }, product_data: { name: 'ACH plan' } });
  const sub = await stripe.subscriptions.create({
    customer: cus.id, items: [{ price: price.id }], payment_settings: { payment_method_types: ['us_bank_account'] }, expand: ['latest_invoice'],
  });
  assert.equal(sub.status, 'active');
  assert.deepEqual(sub.payment_settings.payment_method_types, ['us_bank_account']);
  billingShape({ ...sub, latest_invoice: sub.latest_invoice.id }, 'subscription');
  assert.equal(sub.latest_invoice.status, 'open');
  assert.equal(sub.latest_invoice.amount_paid, 0);
  const first = await invoiceDebitSettled(stripe, sub.latest_invoice.id);
  assert.equal(first.status, 'paid');
  assert.equal(first.billing_reason, 'subscription_create');
  // a month on (and the renewal's draft hour): the renewal is debited and settles
  await clockAdvance(stripe, clock, T0 + 31 * 86400 + 2 * 3600);
  const renewalId = await waitFor(async () => {
    const s = await stripe.subscriptions.retrieve(sub.id);
    return s.latest_invoice !== first.id && s.latest_invoice;
  }, 'the renewal invoice', 15000);
  const renewal = await waitFor(async () => {
    const inv = await stripe.invoices.retrieve(renewalId);
    return inv.attempt_count > 0 && inv;
  }, 'the renewal to be attempted', 15000);
  assert.equal(renewal.billing_reason, 'subscription_cycle');
  const paid = await invoiceDebitSettled(stripe, renewalId);
  assert.equal(paid.payment_intent.payment_method_types.includes('us_bank_account'), true);
  assert.equal(paid.status, 'paid');
  assert.equal(paid.amount_paid, 1900);
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'active');
});

test('a subscription whose first ACH debit is returned goes past_due', async () => {
  const { cus } = await achCustomer(ACCOUNTS.notAuthorized);
  const price = await stripe.prices.create({ currency: 'usd', unit_amount: 1100, recurring: { interval: 'month' }, product_data: { name: 'ACH plan' } });
  const sub = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }] });
  assert.equal(sub.status, 'active');
  const inv = await invoiceDebitSettled(stripe, sub.latest_invoice);
  assert.equal(inv.status, 'open');
  assert.equal(inv.payment_intent.last_payment_error.code, 'debit_not_authorized');
  const after = await waitFor(async () => {
    const s = await stripe.subscriptions.retrieve(sub.id);
    return s.status === 'past_due' && s;
  }, 'the subscription to be past_due', 5000);
  billingShape(after, 'subscription');
  assert.ok((await eventTypesOf(stripe, inv.id)).includes('invoice.payment_failed'));
});

test('secrets: no account number in clear in the store or the log', async () => {
  const files = readStoreFiles(env.dataDir);
  const log = fs.readFileSync(env.server.logPath);
  for (const n of [...Object.values(ACCOUNTS), ...Object.values(FC_NUMBERS)]) {
    for (const { file, data } of files) assert.ok(!data.includes(n), `${n} found in ${file}`);
    assert.ok(!log.includes(n), `${n} found in the server log`);
  }
});
