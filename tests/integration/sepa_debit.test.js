'use strict';
// SEPA Direct Debit (sepa_debit) through stripe-node: PaymentMethods with an IBAN (checked,
// sealed in the vault, never stored or logged in clear), PaymentIntents that go `processing`
// and are settled later by the scheduler as Stripe's test IBANs say, mandates, SetupIntents,
// refunds, the dispute IBAN, and a restart between confirm and settlement.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const {
  startTender, startServer, assertStripeShape, stopAll, waitFor, readStoreFiles, tender,
  debitSettled, eventsAbout, eventTypesOf, openInvoice, invoiceLatestPi, invoiceDebitSettled,
} = require('./helpers');
const { billingShape } = require('./billing_helpers');

let env;
let stripe; // merchant 0
let other; // merchant 1

// every IBAN this file sends: none may reach the store or the log in clear
const IBANS = {
  ok: 'DE89370400440532013000',
  okLater: 'DE08370400440532013003',
  fails: 'DE62370400440532013001',
  failsLater: 'DE78370400440532013004',
  dispute: 'DE35370400440532013002',
  noFunds: 'DE65370400440002222227',
  fr: 'FR1420041010050500013M02606',
  at: 'AT611904300234573201',
  atFails: 'AT861904300235473202',
  overLimit: 'DE65370400440000343434',
};

const ONLINE = { customer_acceptance: { type: 'online', online: { ip_address: '203.0.113.7', user_agent: 'Mozilla/5.0 (test)' } } };
const OFFLINE = { customer_acceptance: { type: 'offline' } };

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
});
after(stopAll);

function sepaPm(iban, client = stripe, extra = {}) {
  return client.paymentMethods.create({
    type: 'sepa_debit', sepa_debit: { iban }, billing_details: { name: 'Jenny Rosen', email: 'jenny@example.com' }, ...extra,
  });
}

async function payWith(iban, extra = {}) {
  const pm = await sepaPm(iban);
  return stripe.paymentIntents.create({
    amount: 2000, currency: 'eur', payment_method_types: ['sepa_debit'], payment_method: pm.id, confirm: true, mandate_data: ONLINE, ...extra,
  });
}

test('sepa_debit PaymentMethod: IBAN checked, public facts shown, fingerprint per merchant', async () => {
  const pm = await sepaPm(IBANS.ok);
  assert.equal(pm.type, 'sepa_debit');
  assert.equal(pm.card, undefined);
  assert.deepEqual(
    { ...pm.sepa_debit, fingerprint: undefined },
    { bank_code: '37040044', branch_code: '', country: 'DE', fingerprint: undefined, generated_from: { charge: null, setup_attempt: null }, last4: '3000' },
  );
  assert.equal(pm.billing_details.name, 'Jenny Rosen');
  assertStripeShape(pm, 'payment_method');
  // spaces and lower case are the same IBAN: same fingerprint; another merchant's differs
  const again = await sepaPm('de89 3704 0044 0532 0130 00');
  assert.equal(again.sepa_debit.fingerprint, pm.sepa_debit.fingerprint);
  const theirs = await sepaPm(IBANS.ok, other);
  assert.notEqual(theirs.sepa_debit.fingerprint, pm.sepa_debit.fingerprint);
  const fr = await sepaPm(IBANS.fr);
  assert.equal(fr.sepa_debit.bank_code, '20041');
  assert.equal(fr.sepa_debit.branch_code, '01005');
  assert.equal(fr.sepa_debit.country, 'FR');
  assert.notEqual(fr.sepa_debit.fingerprint, pm.sepa_debit.fingerprint);
  assert.deepEqual(await stripe.paymentMethods.retrieve(pm.id), pm);
  // a card stays a card (no sepa_debit)
  const card = await stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_visa' } });
  assert.equal(card.sepa_debit, undefined);
  assert.equal(card.card.last4, '4242');

  for (const bad of ['DE89370400440532013001', 'DE8937040044053201300', 'XX89370400440532013000', 'not an iban']) {
    await assert.rejects(sepaPm(bad), (e) => {
      assert.equal(e.statusCode, 400);
      assert.equal(e.code, 'invalid_bank_account_iban');
      assert.equal(e.param, 'sepa_debit[iban]');
      assert.ok(!e.message.includes(bad), 'the IBAN is not echoed');
      return true;
    });
  }
  await assert.rejects(stripe.paymentMethods.create({ type: 'sepa_debit', billing_details: { name: 'J', email: 'j@example.com' } }),
    (e) => e.statusCode === 400 && e.param === 'sepa_debit');
  await assert.rejects(stripe.paymentMethods.create({ type: 'sepa_debit', sepa_debit: { iban: IBANS.ok } }),
    (e) => e.statusCode === 400 && e.param === 'billing_details[name]');
});

test('attach, detach and lists by type', async () => {
  const cus = await stripe.customers.create({ email: 'sepa@example.com' });
  const pm = await sepaPm(IBANS.at);
  const card = await stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_visa' } });
  const attached = await stripe.paymentMethods.attach(pm.id, { customer: cus.id });
  assert.equal(attached.customer, cus.id);
  await stripe.paymentMethods.attach(card.id, { customer: cus.id });
  const sepaList = await stripe.customers.listPaymentMethods(cus.id, { type: 'sepa_debit' });
  assert.deepEqual(sepaList.data.map((p) => p.id), [pm.id]);
  const cardList = await stripe.customers.listPaymentMethods(cus.id, { type: 'card' });
  assert.deepEqual(cardList.data.map((p) => p.id), [card.id]);
  const all = await stripe.customers.listPaymentMethods(cus.id);
  assert.equal(all.data.length, 2);
  const byList = await stripe.paymentMethods.list({ customer: cus.id, type: 'sepa_debit' });
  assert.deepEqual(byList.data.map((p) => p.id), [pm.id]);
  const detached = await stripe.paymentMethods.detach(pm.id);
  assert.equal(detached.customer, null);
  assert.equal((await stripe.customers.listPaymentMethods(cus.id, { type: 'sepa_debit' })).data.length, 0);
  // another merchant does not see it
  await assert.rejects(other.paymentMethods.retrieve(pm.id), (e) => e.statusCode === 404);
});

test('a PaymentIntent goes processing, then succeeds on the scheduler with ledger and events', async () => {
  const before = await stripe.balance.retrieve();
  let pi = await payWith(IBANS.ok, { description: 'SEPA order' });
  assert.equal(pi.status, 'processing');
  assert.deepEqual(pi.payment_method_types, ['sepa_debit']);
  assertStripeShape(pi, 'payment_intent');
  let ch = await stripe.charges.retrieve(pi.latest_charge);
  // pending until the scheduler's next pass (about a second): a loaded machine may be slower
  if (ch.status === 'pending') {
    assert.equal(ch.paid, false);
    // as Stripe shows a pending debit: captured (automatic capture), the money not yet booked
    assert.equal(ch.captured, true);
    assert.equal(ch.amount_captured, 2000);
    assert.equal(ch.balance_transaction, null);
  } else {
    assert.equal(ch.status, 'succeeded');
  }
  assert.equal(pi.amount_received, 0);
  assert.equal(ch.payment_method_details.type, 'sepa_debit');
  assert.equal(ch.payment_method_details.sepa_debit.last4, '3000');
  assert.match(ch.payment_method_details.sepa_debit.mandate, /^mandate_/);
  assertStripeShape(ch, 'charge');

  pi = await debitSettled(stripe, pi.id);
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.amount_received, 2000);
  assertStripeShape(pi, 'payment_intent');
  ch = await stripe.charges.retrieve(pi.latest_charge, { expand: ['balance_transaction'] });
  assert.equal(ch.status, 'succeeded');
  assert.equal(ch.paid, true);
  assert.equal(ch.captured, true);
  assert.equal(ch.amount_captured, 2000);
  assert.match(ch.balance_transaction.id, /^txn_/);
  assert.equal(ch.balance_transaction.source, ch.id);
  assert.equal(ch.balance_transaction.type, 'charge');
  assert.ok(ch.balance_transaction.fee > 0);
  assertStripeShape({ ...ch, balance_transaction: ch.balance_transaction.id }, 'charge');
  // money conserved: the pending balance grew by exactly the transaction's net
  const after = await stripe.balance.retrieve();
  const sum = (b) => b.pending.filter((x) => x.currency === ch.balance_transaction.currency).reduce((a, x) => a + x.amount, 0)
    + b.available.filter((x) => x.currency === ch.balance_transaction.currency).reduce((a, x) => a + x.amount, 0);
  assert.equal(sum(after) - sum(before), ch.balance_transaction.net);

  assert.deepEqual(await eventTypesOf(stripe, pi.id), ['payment_intent.created', 'payment_intent.processing', 'payment_intent.succeeded']);
  assert.deepEqual(await eventTypesOf(stripe, ch.id), ['charge.pending', 'charge.succeeded']);
});

// Stripe's SEPA Direct Debit price is a euro amount, €0.35 (src/ledger/ledger.c's table): this
// usd merchant's eur debit is converted at the rate of the moment, and so is the fixed fee, with
// Stripe's 1 % conversion on top: fee = round(35 × rate) + round_half_up(1 % of the converted
// amount). At the bundled rate 1.0823 (say): 5000 eur → 5412 usd cents; 37.88 → 38, + 54.12 → 54:
// 92. One "Stripe processing fees" line.
test('fees: a SEPA debit pays Stripe\'s 0.35 eur, converted, and the 1 % conversion', async () => {
  const pi = await debitSettled(stripe, (await payWith(IBANS.ok, { amount: 5000 })).id);
  assert.equal(pi.status, 'succeeded');
  const bt = (await stripe.charges.retrieve(pi.latest_charge, { expand: ['balance_transaction'] })).balance_transaction;
  assert.equal(bt.currency, 'usd');
  assert.equal(bt.amount, Math.round(5000 * bt.exchange_rate));
  const fee = Math.round(35 * bt.exchange_rate) + Math.floor((bt.amount * 100 + 5000) / 10000);
  assert.equal(bt.fee, fee);
  assert.ok(fee < 100, 'far below a card\'s 2.9 % + 30');
  assert.equal(bt.net, bt.amount - fee);
  assert.deepEqual(bt.fee_details, [{ amount: fee, application: null, currency: 'usd', description: 'Stripe processing fees', type: 'stripe_fee' }]);
  assertStripeShape(bt, 'balance_transaction');
});

test('payment_method_data[type]=sepa_debit, card+sepa_debit intents, and confirm on its own', async () => {
  let pi = await stripe.paymentIntents.create({ amount: 1500, currency: 'eur', payment_method_types: ['card', 'sepa_debit'] });
  assert.deepEqual(pi.payment_method_types, ['card', 'sepa_debit']);
  assert.equal(pi.status, 'requires_payment_method');
  pi = await stripe.paymentIntents.confirm(pi.id, {
    payment_method_data: { type: 'sepa_debit', sepa_debit: { iban: IBANS.fr }, billing_details: { name: 'Jean Dupont', email: 'jean@example.com' } },
    mandate_data: OFFLINE,
  });
  assert.equal(pi.status, 'processing');
  const pm = await stripe.paymentMethods.retrieve(pi.payment_method);
  assert.equal(pm.type, 'sepa_debit');
  assert.equal(pm.sepa_debit.last4, '2606');
  pi = await debitSettled(stripe, pi.id);
  assert.equal(pi.status, 'succeeded');
  // a card still pays a card+sepa_debit intent
  const cardPi = await stripe.paymentIntents.create({ amount: 1500, currency: 'eur', payment_method_types: ['card', 'sepa_debit'], payment_method: 'pm_card_visa', confirm: true });
  assert.equal(cardPi.status, 'succeeded');
  // and a card-only intent refuses a sepa_debit PaymentMethod, a sepa_debit-only one a card
  const p2 = await sepaPm(IBANS.ok);
  await assert.rejects(stripe.paymentIntents.create({ amount: 1500, currency: 'eur', payment_method: p2.id, confirm: true, mandate_data: ONLINE }),
    (e) => e.statusCode === 400 && e.param === 'payment_method');
  await assert.rejects(stripe.paymentIntents.create({ amount: 1500, currency: 'eur', payment_method_types: ['sepa_debit'], payment_method: 'pm_card_visa', confirm: true }),
    (e) => e.statusCode === 400 && e.param === 'payment_method');
});

test('refusals: currency, manual capture, missing mandate, cancel while processing, refund while pending', async () => {
  await assert.rejects(stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method_types: ['sepa_debit'] }),
    (e) => e.statusCode === 400 && /currency provided \(usd\) is invalid/.test(e.message));
  await assert.rejects(stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method_types: ['sepa_debit'], capture_method: 'manual' }),
    (e) => e.statusCode === 400 && e.param === 'capture_method');
  const pm = await sepaPm(IBANS.okLater);
  await assert.rejects(stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method_types: ['sepa_debit'], payment_method: pm.id, confirm: true }),
    (e) => e.statusCode === 400 && e.param === 'mandate_data');
  await assert.rejects(stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method_types: ['sepa_debit'], payment_method: pm.id, confirm: true, mandate_data: { customer_acceptance: { type: 'online' } } }),
    (e) => e.statusCode === 400 && /ip_address/.test(e.param));
  // three minutes to go: still processing after the scheduler's next passes
  const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method_types: ['sepa_debit'], payment_method: pm.id, confirm: true, mandate_data: ONLINE });
  assert.equal(pi.status, 'processing');
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await stripe.paymentIntents.retrieve(pi.id)).status, 'processing');
  await assert.rejects(stripe.paymentIntents.cancel(pi.id), (e) => e.statusCode === 400 && e.code === 'payment_intent_unexpected_state');
  await assert.rejects(stripe.refunds.create({ payment_intent: pi.id }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.refunds.create({ charge: pi.latest_charge }), (e) => e.statusCode === 400 && /status of pending/.test(e.message));
  const pending = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(pending.status, 'pending');
  // as Stripe shows a pending debit: captured (automatic capture), the money not yet booked
  assert.equal(pending.paid, false);
  assert.equal(pending.captured, true);
  assert.equal(pending.amount_captured, 1000);
  assert.equal(pending.balance_transaction, null);
  // the Charges API takes cards only
  await assert.rejects(stripe.charges.create({ amount: 1000, currency: 'eur', source: pm.id }),
    (e) => e.statusCode === 400 && e.param === 'source');
});

test('a bank debit\'s charge is py_…: retrieve, update, list (filters, cursors, order among ch_ charges), search, refunds, balance transactions', async () => {
  const cus = await stripe.customers.create({ email: 'py@example.com' });
  const card1 = await stripe.paymentIntents.create({ amount: 1100, currency: 'eur', customer: cus.id, payment_method: 'pm_card_visa', confirm: true });
  const pm = await sepaPm(IBANS.ok);
  let pi = await stripe.paymentIntents.create({
    amount: 1200, currency: 'eur', customer: cus.id, payment_method_types: ['sepa_debit'], payment_method: pm.id, confirm: true, mandate_data: ONLINE,
  });
  const card2 = await stripe.paymentIntents.create({ amount: 1300, currency: 'eur', customer: cus.id, payment_method: 'pm_card_visa', confirm: true });
  assert.match(card1.latest_charge, /^ch_/);
  assert.match(pi.latest_charge, /^py_/);
  const py = pi.latest_charge;
  const upd = await stripe.charges.update(py, { metadata: { order: 'py-1' } });
  assert.equal(upd.id, py);
  assert.equal(upd.metadata.order, 'py-1');
  assertStripeShape(upd, 'charge');
  // newest first, the py_ charge between the two card charges, whatever the prefix
  const list = await stripe.charges.list({ customer: cus.id });
  assert.deepEqual(list.data.map((c) => c.id), [card2.latest_charge, py, card1.latest_charge]);
  const after = await stripe.charges.list({ customer: cus.id, starting_after: py });
  assert.deepEqual(after.data.map((c) => c.id), [card1.latest_charge]);
  const before = await stripe.charges.list({ customer: cus.id, ending_before: py });
  assert.deepEqual(before.data.map((c) => c.id), [card2.latest_charge]);
  const page = await stripe.charges.list({ customer: cus.id, limit: 2 });
  assert.equal(page.has_more, true);
  assert.deepEqual(page.data.map((c) => c.id), [card2.latest_charge, py]);
  const all = await stripe.charges.list({ customer: cus.id }).autoPagingToArray({ limit: 10 });
  assert.equal(all.length, 3);
  assert.deepEqual((await stripe.charges.list({ payment_intent: pi.id })).data.map((c) => c.id), [py]);
  const recent = await stripe.charges.list({ limit: 100 });
  assert.ok(recent.data.findIndex((c) => c.id === py) === recent.data.findIndex((c) => c.id === card2.latest_charge) + 1);
  // search
  const found = await waitFor(async () => {
    const res = await stripe.charges.search({ query: "metadata['order']:'py-1'" });
    return res.data.length === 1 && res;
  }, 'the search to find the py_ charge', 10000);
  assert.equal(found.data[0].id, py);
  const byCus = await stripe.charges.search({ query: `customer:'${cus.id}'` });
  assert.deepEqual(byCus.data.map((c) => c.id), [card2.latest_charge, py, card1.latest_charge]);
  const paged = await stripe.charges.search({ query: `customer:'${cus.id}'`, limit: 1, page: (await stripe.charges.search({ query: `customer:'${cus.id}'`, limit: 1 })).next_page });
  assert.deepEqual(paged.data.map((c) => c.id), [py]);
  // settled: its balance transaction's source, expanded; the intent's expanded latest_charge
  pi = await debitSettled(stripe, pi.id);
  assert.equal(pi.status, 'succeeded');
  const expanded = await stripe.paymentIntents.retrieve(pi.id, { expand: ['latest_charge'] });
  assert.equal(expanded.latest_charge.id, py);
  const ch = await stripe.charges.retrieve(py);
  const txn = await stripe.balanceTransactions.retrieve(ch.balance_transaction, { expand: ['source'] });
  assert.equal(txn.source.id, py);
  assert.equal(txn.source.object, 'charge');
  // refunds name it
  const refund = await stripe.refunds.create({ charge: py, amount: 200 });
  assert.equal(refund.charge, py);
  assert.deepEqual((await stripe.refunds.list({ charge: py })).data.map((r) => r.id), [refund.id]);
  await assert.rejects(other.charges.retrieve(py), (e) => e.statusCode === 404);
});

for (const [name, iban, code] of [
  ['fails', IBANS.fails, 'generic_could_not_process'],
  ['fails with insufficient_funds', IBANS.noFunds, 'insufficient_funds'],
  ['of Austria fails', IBANS.atFails, 'generic_could_not_process'],
  ['over the weekly volume fails', IBANS.overLimit, 'charge_exceeds_source_limit'],
]) {
  test(`the failing IBAN ${name}: requires_payment_method, charge failed, no money moved`, async () => {
    const txnsBefore = (await stripe.balanceTransactions.list({ limit: 100 })).data.length;
    let pi = await payWith(iban);
    assert.equal(pi.status, 'processing');
    pi = await debitSettled(stripe, pi.id);
    assert.equal(pi.status, 'requires_payment_method');
    assert.equal(pi.last_payment_error.code, code);
    assert.equal(pi.last_payment_error.charge, pi.latest_charge);
    assert.equal(pi.last_payment_error.payment_method.type, 'sepa_debit');
    assert.equal(pi.amount_received, 0);
    assertStripeShape(pi, 'payment_intent');
    const ch = await stripe.charges.retrieve(pi.latest_charge);
    assert.equal(ch.status, 'failed');
    assert.equal(ch.failure_code, code);
    assert.ok(ch.failure_message);
    assert.equal(ch.balance_transaction, null);
    assertStripeShape(ch, 'charge');
    assert.deepEqual(await eventTypesOf(stripe, pi.id), ['payment_intent.created', 'payment_intent.processing', 'payment_intent.payment_failed']);
    assert.deepEqual(await eventTypesOf(stripe, ch.id), ['charge.pending', 'charge.failed']);
    assert.equal((await stripe.balanceTransactions.list({ limit: 100 })).data.length, txnsBefore);
  });
}

test('mandates: single-use from a payment, multi-use from setup_future_usage, 404 across merchants', async () => {
  const pi = await payWith(IBANS.ok);
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  const m = await stripe.mandates.retrieve(ch.payment_method_details.sepa_debit.mandate);
  assert.equal(m.object, 'mandate');
  assert.equal(m.type, 'single_use');
  assert.deepEqual(m.single_use, { amount: 2000, currency: 'eur' });
  // active until its one debit settles (the scheduler may be quicker than this test): read after
  // the mandate, an intent still processing means the mandate was read while active
  if ((await stripe.paymentIntents.retrieve(pi.id)).status === 'processing') assert.equal(m.status, 'active');
  else assert.ok(['active', 'inactive'].includes(m.status));
  assert.equal(m.payment_method, pi.payment_method);
  assert.equal(m.customer_acceptance.type, 'online');
  assert.deepEqual(m.customer_acceptance.online, { ip_address: '203.0.113.7', user_agent: 'Mozilla/5.0 (test)' });
  assert.equal(m.payment_method_details.type, 'sepa_debit');
  assert.match(m.payment_method_details.sepa_debit.reference, /^[A-Z0-9]{16}$/);
  assertStripeShape(m, 'mandate');
  await assert.rejects(other.mandates.retrieve(m.id), (e) => e.statusCode === 404);
  await assert.rejects(stripe.mandates.retrieve('mandate_nope'), (e) => e.statusCode === 404);

  // setup_future_usage with a customer: a multi-use mandate, the PaymentMethod saved on the
  // customer; it then pays off session without a new mandate
  const cus = await stripe.customers.create({ email: 'multi@example.com' });
  const pm = await sepaPm(IBANS.ok);
  const first = await stripe.paymentIntents.create({
    amount: 3000, currency: 'eur', customer: cus.id, setup_future_usage: 'off_session', payment_method_types: ['sepa_debit'], payment_method: pm.id, confirm: true, mandate_data: OFFLINE,
  });
  const fc = await stripe.charges.retrieve(first.latest_charge);
  const mm = await stripe.mandates.retrieve(fc.payment_method_details.sepa_debit.mandate);
  assert.equal(mm.type, 'multi_use');
  assert.deepEqual(mm.multi_use, {});
  assert.deepEqual(mm.customer_acceptance.offline, {});
  assertStripeShape(mm, 'mandate');
  assert.equal((await stripe.paymentMethods.retrieve(pm.id)).customer, cus.id);
  const next = await stripe.paymentIntents.create({
    amount: 1200, currency: 'eur', customer: cus.id, payment_method_types: ['sepa_debit'], payment_method: pm.id, confirm: true, off_session: true,
  });
  assert.equal(next.status, 'processing');
  const nc = await stripe.charges.retrieve(next.latest_charge);
  assert.equal(nc.payment_method_details.sepa_debit.mandate, mm.id);
  assert.equal((await debitSettled(stripe, next.id)).status, 'succeeded');
  // on session without mandate_data: refused even with the multi-use mandate
  await assert.rejects(stripe.paymentIntents.create({ amount: 1200, currency: 'eur', customer: cus.id, payment_method_types: ['sepa_debit'], payment_method: pm.id, confirm: true }),
    (e) => e.statusCode === 400 && e.param === 'mandate_data');
  // `mandate` names the mandate the payment uses: the PaymentMethod's multi-use one
  const named = await stripe.paymentIntents.create({
    amount: 1300, currency: 'eur', customer: cus.id, payment_method_types: ['sepa_debit'], payment_method: pm.id, confirm: true, mandate: mm.id,
  });
  assert.equal(named.status, 'processing');
  assert.equal((await stripe.charges.retrieve(named.latest_charge)).payment_method_details.sepa_debit.mandate, mm.id);
  // refused, nothing made: without confirm, another PaymentMethod's, a single-use one, an unknown one, a card's
  const n0 = (await stripe.paymentIntents.list({ limit: 100 })).data.length;
  const base = { amount: 1300, currency: 'eur', payment_method_types: ['sepa_debit'], confirm: true };
  await assert.rejects(stripe.paymentIntents.create({ ...base, customer: cus.id, payment_method: pm.id, confirm: false, mandate: mm.id }), (e) => e.statusCode === 400 && e.param === 'mandate');
  const pm3 = await sepaPm(IBANS.ok);
  await assert.rejects(stripe.paymentIntents.create({ ...base, payment_method: pm3.id, mandate: mm.id }), (e) => e.statusCode === 400 && e.param === 'mandate');
  await assert.rejects(stripe.paymentIntents.create({ ...base, payment_method: pi.payment_method, mandate: m.id }), (e) => e.statusCode === 400 && e.param === 'mandate');
  await assert.rejects(stripe.paymentIntents.create({ ...base, customer: cus.id, payment_method: pm.id, mandate: 'mandate_nope' }), (e) => e.statusCode === 400 && e.code === 'resource_missing' && e.param === 'mandate');
  await assert.rejects(stripe.paymentIntents.create({ ...base, customer: cus.id, payment_method: pm.id, mandate: mm.id, mandate_data: OFFLINE }), (e) => e.statusCode === 400 && e.param === 'mandate');
  await assert.rejects(stripe.paymentIntents.create({ amount: 1300, currency: 'eur', payment_method: 'pm_card_visa', confirm: true, mandate: mm.id }), (e) => e.statusCode === 400 && e.param === 'mandate');
  assert.equal((await stripe.paymentIntents.list({ limit: 100 })).data.length, n0);
});

test('a SetupIntent with single_use makes a single-use mandate that pays one payment of its amount, named by mandate', async () => {
  const cus = await stripe.customers.create({ email: 'single@example.com' });
  const pm = await sepaPm(IBANS.ok);
  const si = await stripe.setupIntents.create({
    customer: cus.id, payment_method_types: ['sepa_debit'], payment_method: pm.id, confirm: true, mandate_data: OFFLINE, single_use: { amount: 4200, currency: 'eur' },
  });
  assert.equal(si.status, 'succeeded');
  assert.equal(si.mandate, null);
  assert.match(si.single_use_mandate, /^mandate_/);
  assertStripeShape(si, 'setup_intent');
  const m = await stripe.mandates.retrieve(si.single_use_mandate);
  assert.equal(m.type, 'single_use');
  assert.deepEqual(m.single_use, { amount: 4200, currency: 'eur' });
  const base = { currency: 'eur', customer: cus.id, payment_method_types: ['sepa_debit'], payment_method: pm.id, confirm: true, mandate: m.id };
  // another amount is not what it authorizes
  await assert.rejects(stripe.paymentIntents.create({ ...base, amount: 4300 }), (e) => e.statusCode === 400 && e.param === 'mandate');
  const pi = await stripe.paymentIntents.create({ ...base, amount: 4200 });
  assert.equal(pi.status, 'processing');
  assert.equal((await stripe.charges.retrieve(pi.latest_charge)).payment_method_details.sepa_debit.mandate, m.id);
  assert.equal((await stripe.mandates.retrieve(m.id)).status, 'inactive'); // used
  await assert.rejects(stripe.paymentIntents.create({ ...base, amount: 4200 }), (e) => e.statusCode === 400 && e.param === 'mandate');
  assert.equal((await debitSettled(stripe, pi.id)).status, 'succeeded');
});

// the mandate.updated events of a mandate, oldest first
async function mandateUpdates(id, client = stripe) {
  const ev = await client.events.list({ type: 'mandate.updated', limit: 100 });
  return ev.data.filter((e) => e.data.object.id === id).reverse();
}

test('mandates become inactive: detaching ends a multi-use one, a settled debit its single-use one; an inactive mandate pays nothing', async () => {
  const cus = await stripe.customers.create({ email: 'inactive@example.com' });
  const pm = await sepaPm(IBANS.ok);
  const si = await stripe.setupIntents.create({
    customer: cus.id, payment_method_types: ['sepa_debit'], payment_method: pm.id, confirm: true, mandate_data: ONLINE,
  });
  assert.equal((await stripe.mandates.retrieve(si.mandate)).status, 'active');
  assert.deepEqual(await mandateUpdates(si.mandate), []);
  await stripe.paymentMethods.detach(pm.id);
  const m = await stripe.mandates.retrieve(si.mandate);
  assert.equal(m.status, 'inactive');
  assert.equal(m.type, 'multi_use');
  assertStripeShape(m, 'mandate');
  const ups = await mandateUpdates(si.mandate);
  assert.equal(ups.length, 1);
  assert.equal(ups[0].data.object.status, 'inactive');
  assert.deepEqual(ups[0].data.previous_attributes, { status: 'active' });
  assert.match(ups[0].request.id, /^req_/, 'made by the detach request');
  // the detach's write: payment_method.detached, then mandate.updated
  const evs = (await stripe.events.list({ limit: 5 })).data.map((e) => e.type);
  assert.deepEqual(evs.slice(0, 2), ['mandate.updated', 'payment_method.detached']);

  // an off-session debit with it is refused, and writes nothing
  const before = (await stripe.paymentIntents.list({ limit: 100 })).data.length;
  await assert.rejects(stripe.paymentIntents.create({
    amount: 1200, currency: 'eur', payment_method_types: ['sepa_debit'], payment_method: pm.id, confirm: true, off_session: true,
  }), (e) => {
    assert.equal(e.statusCode, 400);
    assert.equal(e.code, 'payment_method_unactivated');
    assert.equal(e.param, 'payment_method');
    return true;
  });
  assert.equal((await stripe.paymentIntents.list({ limit: 100 })).data.length, before);
  // an invoice's automatic payment with it is refused the same way, the invoice left open
  const cus2 = await stripe.customers.create({ email: 'inactive-sub@example.com' });
  const pm2 = await sepaPm(IBANS.ok);
  await stripe.setupIntents.create({
    customer: cus2.id, payment_method_types: ['sepa_debit'], payment_method: pm2.id, confirm: true, mandate_data: ONLINE,
  });
  await stripe.customers.update(cus2.id, { invoice_settings: { default_payment_method: pm2.id } });
  const fin = await openInvoice(stripe, cus2, 3300, 'eur');
  await stripe.paymentMethods.detach(pm2.id);
  await assert.rejects(stripe.invoices.pay(fin.id, { payment_method: pm2.id }),
    (e) => e.statusCode === 400 && e.code === 'payment_method_unactivated');
  const still = await stripe.invoices.retrieve(fin.id);
  assert.equal(still.status, 'open');
  assert.equal(still.amount_paid, 0);

  // deleting the customer detaches its PaymentMethods: their mandates end too
  const cus3 = await stripe.customers.create({ email: 'inactive-del@example.com' });
  const pm3 = await sepaPm(IBANS.ok);
  const si3 = await stripe.setupIntents.create({
    customer: cus3.id, payment_method_types: ['sepa_debit'], payment_method: pm3.id, confirm: true, mandate_data: OFFLINE,
  });
  await stripe.customers.del(cus3.id);
  assert.equal((await stripe.mandates.retrieve(si3.mandate)).status, 'inactive');
  assert.equal((await mandateUpdates(si3.mandate)).length, 1);

  // a single-use mandate: active while its debit is with the bank, inactive once it settles
  let pi = await payWith(IBANS.ok);
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  const single = ch.payment_method_details.sepa_debit.mandate;
  pi = await debitSettled(stripe, pi.id);
  assert.equal(pi.status, 'succeeded');
  const sm = await waitFor(async () => {
    const x = await stripe.mandates.retrieve(single);
    return x.status === 'inactive' && x;
  }, 'the single-use mandate to become inactive', 10000);
  assert.equal(sm.type, 'single_use');
  assertStripeShape(sm, 'mandate');
  const sups = await mandateUpdates(single);
  assert.equal(sups.length, 1);
  assert.deepEqual(sups[0].data.previous_attributes, { status: 'active' });
  // a returned debit used its mandate too
  const failed = await debitSettled(stripe, (await payWith(IBANS.fails)).id);
  assert.equal(failed.status, 'requires_payment_method');
  const fch = await stripe.charges.retrieve(failed.latest_charge);
  assert.equal((await stripe.mandates.retrieve(fch.payment_method_details.sepa_debit.mandate)).status, 'inactive');
});

test('payment_method_options[sepa_debit]: reference_prefix begins the mandate\'s reference, setup_future_usage per type; the card\'s saves only cards', async () => {
  const cus = await stripe.customers.create({ email: 'pmo@example.com' });
  const pm = await sepaPm(IBANS.ok);
  let pi = await stripe.paymentIntents.create({
    amount: 2100, currency: 'eur', customer: cus.id, payment_method_types: ['card', 'sepa_debit'],
    payment_method_options: { sepa_debit: { mandate_options: { reference_prefix: 'ACME-2026' }, setup_future_usage: 'off_session' } },
  });
  assert.deepEqual(pi.payment_method_options.sepa_debit, { mandate_options: { reference_prefix: 'ACME-2026' }, setup_future_usage: 'off_session' });
  assert.equal(pi.setup_future_usage, null);
  assertStripeShape(pi, 'payment_intent');
  pi = await stripe.paymentIntents.confirm(pi.id, { payment_method: pm.id, mandate_data: ONLINE });
  assert.equal(pi.status, 'processing');
  assert.equal(pi.payment_method_options.sepa_debit.mandate_options.reference_prefix, 'ACME-2026');
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  const m = await stripe.mandates.retrieve(ch.payment_method_details.sepa_debit.mandate);
  assert.equal(m.type, 'multi_use');
  assert.match(m.payment_method_details.sepa_debit.reference, /^ACME-2026[A-Z0-9]{16}$/);
  assert.equal((await stripe.paymentMethods.retrieve(pm.id)).customer, cus.id);
  // update unsets the prefix ('') and takes another type's options
  const upd = await stripe.paymentIntents.create({
    amount: 2100, currency: 'eur', payment_method_types: ['sepa_debit'],
    payment_method_options: { sepa_debit: { mandate_options: { reference_prefix: 'X' } } },
  });
  const cleared = await stripe.paymentIntents.update(upd.id, { payment_method_options: { sepa_debit: { mandate_options: { reference_prefix: '' }, setup_future_usage: 'on_session' } } });
  assert.deepEqual(cleared.payment_method_options.sepa_debit, { mandate_options: {}, setup_future_usage: 'on_session' });
  assertStripeShape(cleared, 'payment_intent');

  // the card's setup_future_usage saves a card, not a bank account
  const cardOpts = { card: { setup_future_usage: 'off_session' } };
  const pm2 = await sepaPm(IBANS.ok);
  const bank = await stripe.paymentIntents.create({
    amount: 2200, currency: 'eur', customer: cus.id, payment_method_types: ['card', 'sepa_debit'], payment_method_options: cardOpts,
    payment_method: pm2.id, confirm: true, mandate_data: ONLINE,
  });
  assert.equal(bank.payment_method_options.card.setup_future_usage, 'off_session');
  assertStripeShape(bank, 'payment_intent');
  const bch = await stripe.charges.retrieve(bank.latest_charge);
  assert.equal((await stripe.mandates.retrieve(bch.payment_method_details.sepa_debit.mandate)).type, 'single_use');
  assert.equal((await stripe.paymentMethods.retrieve(pm2.id)).customer, null);
  const card = await stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_visa' } });
  const paid = await stripe.paymentIntents.create({
    amount: 2200, currency: 'eur', customer: cus.id, payment_method_types: ['card', 'sepa_debit'], payment_method_options: cardOpts,
    payment_method: card.id, confirm: true,
  });
  assert.equal(paid.status, 'succeeded');
  assert.equal((await stripe.paymentMethods.retrieve(card.id)).customer, cus.id);
  // sepa_debit's none overrides the intent's own setup_future_usage for a bank account
  const pm3 = await sepaPm(IBANS.ok);
  const none = await stripe.paymentIntents.create({
    amount: 2300, currency: 'eur', customer: cus.id, setup_future_usage: 'off_session', payment_method_types: ['sepa_debit'],
    payment_method_options: { sepa_debit: { setup_future_usage: 'none' } }, payment_method: pm3.id, confirm: true, mandate_data: ONLINE,
  });
  const nch = await stripe.charges.retrieve(none.latest_charge);
  assert.equal((await stripe.mandates.retrieve(nch.payment_method_details.sepa_debit.mandate)).type, 'single_use');
  assert.equal((await stripe.paymentMethods.retrieve(pm3.id)).customer, null);

  // Stripe's rules for the prefix; nothing is written
  const count = (await stripe.paymentIntents.list({ limit: 100 })).data.length;
  for (const bad of ['acme', 'STRIPE1', 'ABCDEFGHIJKLM', 'A+B']) {
    await assert.rejects(stripe.paymentIntents.create({
      amount: 2100, currency: 'eur', payment_method_types: ['sepa_debit'], payment_method_options: { sepa_debit: { mandate_options: { reference_prefix: bad } } },
    }), (e) => e.statusCode === 400 && e.param === 'payment_method_options[sepa_debit][mandate_options][reference_prefix]');
  }
  assert.equal((await stripe.paymentIntents.list({ limit: 100 })).data.length, count);

  // a SetupIntent's multi-use mandate takes its prefix too
  const pm4 = await sepaPm(IBANS.ok);
  const si = await stripe.setupIntents.create({
    customer: cus.id, payment_method_types: ['sepa_debit'], payment_method: pm4.id, confirm: true, mandate_data: ONLINE,
    payment_method_options: { sepa_debit: { mandate_options: { reference_prefix: 'SUB/7 &.' } } },
  });
  assert.deepEqual(si.payment_method_options.sepa_debit, { mandate_options: { reference_prefix: 'SUB/7 &.' } });
  assertStripeShape(si, 'setup_intent');
  const sm = await stripe.mandates.retrieve(si.mandate);
  assert.ok(sm.payment_method_details.sepa_debit.reference.startsWith('SUB/7 &.'));
  assertStripeShape(sm, 'mandate');
  await assert.rejects(stripe.setupIntents.create({ payment_method_types: ['sepa_debit'], payment_method_options: { sepa_debit: { mandate_options: { reference_prefix: 'STRIPEX' } } } }),
    (e) => e.statusCode === 400 && e.param === 'payment_method_options[sepa_debit][mandate_options][reference_prefix]');
});

test('a SEPA mandate\'s hosted page: its url shows the mandate (never the IBAN); a wrong secret or mandate is a 404', async () => {
  const cus = await stripe.customers.create({ email: 'page@example.com' });
  const pm = await sepaPm(IBANS.ok);
  const si = await stripe.setupIntents.create({
    customer: cus.id, payment_method_types: ['sepa_debit'], payment_method: pm.id, confirm: true, mandate_data: ONLINE,
    payment_method_options: { sepa_debit: { mandate_options: { reference_prefix: 'PAGE' } } },
  });
  const m = await stripe.mandates.retrieve(si.mandate);
  const { url } = m.payment_method_details.sepa_debit;
  assert.match(url, new RegExp(`^http://127\\.0\\.0\\.1:${env.server.port}/mandate/${env.merchants[0].id}/${m.id}/[A-Za-z0-9]{43}$`));
  assert.equal((await stripe.mandates.retrieve(si.mandate)).payment_method_details.sepa_debit.url, url, 'stable');
  const page = async (u) => {
    const res = await fetch(u);
    return { status: res.status, type: res.headers.get('content-type'), html: await res.text() };
  };
  let p = await page(url);
  assert.equal(p.status, 200);
  assert.match(p.type, /^text\/html/);
  const cell = (id) => (p.html.match(new RegExp(`id="${id}"[^>]*>([^<]*)<`)) || [])[1];
  assert.equal(cell('reference'), m.payment_method_details.sepa_debit.reference);
  assert.ok(cell('reference').startsWith('PAGE'));
  assert.equal(cell('creditor'), 'Merchant 0');
  assert.equal(cell('debtor'), 'Jenny Rosen');
  assert.match(cell('account'), /DE .*3000$/);
  assert.equal(cell('accepted'), new Date(m.customer_acceptance.accepted_at * 1000).toISOString().slice(0, 10));
  assert.match(cell('type'), /multi-use/);
  assert.match(p.html, /data-status="active"/);
  assert.match(p.html, /id="mandate-text"[^>]*>By signing this mandate, you authorise \(A\) Merchant 0/);
  for (const n of [IBANS.ok, IBANS.ok.replace(/(.{4})/g, '$1 ').trim(), '0532013000']) assert.ok(!p.html.includes(n), 'no IBAN on the page');
  // detached: the page says the mandate is inactive
  await stripe.paymentMethods.detach(pm.id);
  p = await page(url);
  assert.equal(p.status, 200);
  assert.match(p.html, /data-status="inactive"/);
  // a single-use mandate's page: one payment of its amount
  const pi = await payWith(IBANS.fr);
  const single = await stripe.mandates.retrieve((await stripe.charges.retrieve(pi.latest_charge)).payment_method_details.sepa_debit.mandate);
  p = await page(single.payment_method_details.sepa_debit.url);
  assert.equal(p.status, 200);
  assert.match(cell('type'), /One payment of 20\.00 EUR/);
  assert.match(cell('account'), /FR .*2606$/);
  // 404s: another secret, another mandate's secret, a mangled path, another merchant
  const base = url.slice(0, url.lastIndexOf('/'));
  const secret = url.slice(url.lastIndexOf('/') + 1);
  const wrong = secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A');
  for (const u of [
    `${base}/${wrong}`,
    `${base.replace(m.id, single.id)}/${secret}`,
    `${base}/short`,
    url.replace(env.merchants[0].id, env.merchants[1].id),
    url.replace(m.id, 'mandate_nope'),
  ]) {
    const x = await page(u);
    assert.equal(x.status, 404, u);
    assert.ok(!x.html.includes('Jenny'), 'nothing of the mandate');
  }
});

test('a SetupIntent with sepa_debit succeeds at once with a multi-use mandate, which then pays off session', async () => {
  const cus = await stripe.customers.create({ email: 'setup@example.com' });
  const pm = await sepaPm(IBANS.ok);
  await assert.rejects(stripe.setupIntents.create({ customer: cus.id, payment_method_types: ['sepa_debit'], payment_method: pm.id, confirm: true }),
    (e) => e.statusCode === 400 && e.param === 'mandate_data');
  const si = await stripe.setupIntents.create({
    customer: cus.id, payment_method_types: ['sepa_debit'], payment_method: pm.id, confirm: true, mandate_data: ONLINE,
  });
  assert.equal(si.status, 'succeeded');
  assert.deepEqual(si.payment_method_types, ['sepa_debit']);
  assert.match(si.mandate, /^mandate_/);
  assertStripeShape(si, 'setup_intent');
  const m = await stripe.mandates.retrieve(si.mandate);
  assert.equal(m.type, 'multi_use');
  assert.equal(m.payment_method, pm.id);
  assertStripeShape(m, 'mandate');
  assert.equal((await stripe.paymentMethods.retrieve(pm.id)).customer, cus.id);
  const attempts = await stripe.setupAttempts.list({ setup_intent: si.id });
  assert.equal(attempts.data.length, 1);
  assert.equal(attempts.data[0].status, 'succeeded');
  assert.deepEqual(attempts.data[0].payment_method_details, { sepa_debit: {}, type: 'sepa_debit' });
  assertStripeShape(attempts.data[0], 'setup_attempt');
  // confirm on its own, with payment_method_data
  let si2 = await stripe.setupIntents.create({ payment_method_types: ['sepa_debit'] });
  si2 = await stripe.setupIntents.confirm(si2.id, {
    payment_method_data: { type: 'sepa_debit', sepa_debit: { iban: IBANS.at }, billing_details: { name: 'Anna', email: 'anna@example.com' } },
    mandate_data: OFFLINE,
  });
  assert.equal(si2.status, 'succeeded');
  // the saved mandate lets a later payment go off session
  const pi = await stripe.paymentIntents.create({
    amount: 4200, currency: 'eur', customer: cus.id, payment_method_types: ['sepa_debit'], payment_method: pm.id, confirm: true, off_session: true,
  });
  assert.equal(pi.status, 'processing');
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(ch.payment_method_details.sepa_debit.mandate, si.mandate);
  assert.equal((await debitSettled(stripe, pi.id)).status, 'succeeded');
  // a card-only SetupIntent refuses it
  await assert.rejects(stripe.setupIntents.create({ customer: cus.id, payment_method: pm.id, confirm: true, mandate_data: ONLINE }),
    (e) => e.statusCode === 400 && e.param === 'payment_method');
});

test('refunds of a settled SEPA payment: partial and full, charge.refunded', async () => {
  let pi = await payWith(IBANS.ok);
  pi = await debitSettled(stripe, pi.id);
  assert.equal(pi.status, 'succeeded');
  const r1 = await stripe.refunds.create({ payment_intent: pi.id, amount: 500 });
  assert.equal(r1.status, 'succeeded');
  assert.equal(r1.amount, 500);
  let ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(ch.amount_refunded, 500);
  assert.equal(ch.refunded, false);
  const r2 = await stripe.refunds.create({ charge: ch.id });
  assert.equal(r2.amount, 1500);
  ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(ch.refunded, true);
  assertStripeShape(ch, 'charge');
  const types = await eventTypesOf(stripe, ch.id);
  assert.equal(types.filter((t) => t === 'charge.refunded').length, 2);
});

test('the dispute IBAN: succeeds, then a final (lost) dispute withdraws the money', async () => {
  let pi = await payWith(IBANS.dispute);
  pi = await debitSettled(stripe, pi.id);
  assert.equal(pi.status, 'succeeded');
  const dispute = await waitFor(async () => (await stripe.disputes.list({ payment_intent: pi.id })).data[0], 'the dispute', 10000);
  assert.equal(dispute.charge, pi.latest_charge);
  assert.equal(dispute.amount, 2000);
  assert.equal(dispute.status, 'lost');
  assert.equal(dispute.evidence_details.submission_count, 0);
  assertStripeShape(dispute, 'dispute');
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(ch.disputed, true);
  assert.equal(ch.status, 'succeeded');
  // the withdrawal is in the ledger: a balance transaction of the dispute
  assert.ok(dispute.balance_transactions.length >= 1);
  assert.ok(dispute.balance_transactions[0].amount < 0);
  // SEPA disputes are final: no evidence can be submitted
  await assert.rejects(stripe.disputes.update(dispute.id, { evidence: { uncategorized_text: 'winning_evidence' }, submit: true }),
    (e) => e.statusCode === 400);
  const types = await eventTypesOf(stripe, dispute.id);
  assert.deepEqual(types.filter((t) => t === 'charge.dispute.created' || t === 'charge.dispute.closed'), ['charge.dispute.created', 'charge.dispute.closed']);
});

test('a restart between confirm and settlement settles exactly once', async () => {
  const own = await startTender({ merchants: 1 });
  const s1 = own.stripe();
  const pm = await sepaPm(IBANS.ok, s1);
  const pis = [];
  for (let i = 0; i < 3; i++) {
    pis.push(await s1.paymentIntents.create({
      amount: 1000 + i, currency: 'eur', payment_method_types: ['sepa_debit'], payment_method: pm.id, confirm: true, mandate_data: ONLINE,
    }));
  }
  // killed at once: the scheduler (a pass every 500 ms) has most likely not settled them yet
  own.server.child.kill('SIGKILL');
  await own.server.exited;
  const srv = await startServer({ dataDir: own.dataDir, keyFile: own.keyFile });
  const Stripe = require('stripe');
  const s2 = new Stripe(own.merchant.secret_key, { host: '127.0.0.1', port: srv.port, protocol: 'http', maxNetworkRetries: 0 });
  for (const p of pis) {
    const pi = await debitSettled(s2, p.id);
    assert.equal(pi.status, 'succeeded');
  }
  await new Promise((r) => setTimeout(r, 1500)); // more passes: nothing settles twice
  for (const p of pis) {
    const ch = await s2.charges.retrieve(p.latest_charge);
    assert.equal(ch.status, 'succeeded');
    const txns = (await s2.balanceTransactions.list({ limit: 100 })).data.filter((t) => t.source === ch.id);
    assert.equal(txns.length, 1, `one balance transaction for ${ch.id}`);
    assert.equal((await eventTypesOf(s2, ch.id)).filter((t) => t === 'charge.succeeded').length, 1);
  }
  await srv.stop();
  assert.match(tender(['verify', '--data', own.dataDir]), /verify: ok/);
});

// ---- invoices and subscriptions paid by SEPA Direct Debit ----

// a customer whose invoice_settings.default_payment_method is a sepa_debit PaymentMethod with a
// multi-use mandate (a SetupIntent's)
async function debitCustomer(iban, { asDefault = true } = {}) {
  const cus = await stripe.customers.create({ email: `debit-${iban.slice(-4)}@example.com` });
  const pm = await sepaPm(iban);
  await stripe.setupIntents.create({
    customer: cus.id, payment_method_types: ['sepa_debit'], payment_method: pm.id, confirm: true, mandate_data: ONLINE,
  });
  if (asDefault) await stripe.customers.update(cus.id, { invoice_settings: { default_payment_method: pm.id } });
  return { cus, pm };
}

test('a one-off invoice paid by SEPA: open while the debit processes, paid when it settles, no second payment meanwhile', async () => {
  const { cus, pm } = await debitCustomer(IBANS.okLater);
  const fin = await openInvoice(stripe, cus, 5000, 'eur');
  assert.equal(fin.status, 'open');
  const paying = await stripe.invoices.pay(fin.id);
  assert.equal(paying.status, 'open');
  assert.equal(paying.amount_paid, 0);
  assert.equal(paying.attempt_count, 1);
  assert.equal(paying.next_payment_attempt, null);
  billingShape(paying, 'invoice');
  const pi = await invoiceLatestPi(stripe, paying);
  assert.equal(pi.status, 'processing');
  assert.equal(pi.invoice, fin.id);
  assert.equal(pi.payment_method, pm.id);
  assert.ok(pi.payment_method_types.includes('sepa_debit'));
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(ch.status, 'pending');
  assert.equal(ch.invoice, fin.id);
  assert.match(ch.payment_method_details.sepa_debit.mandate, /^mandate_/);
  // while the bank has it: another payment is refused, nothing is charged twice
  await assert.rejects(stripe.invoices.pay(fin.id), (e) => e.statusCode === 400 && /processing/.test(e.message));
  await assert.rejects(stripe.invoices.voidInvoice(fin.id), (e) => e.statusCode === 400 && /processing/.test(e.message));
  const types = await eventTypesOf(stripe, fin.id);
  assert.ok(!types.includes('invoice.paid'));
  assert.ok(!types.includes('invoice.payment_failed'));
  assert.equal((await stripe.paymentIntents.list({ customer: cus.id })).data.length, 1);
});

test('a one-off invoice: the debit settles, the invoice is paid with its ledger and events', async () => {
  const { cus } = await debitCustomer(IBANS.ok);
  const fin = await openInvoice(stripe, cus, 7300, 'eur');
  const paying = await stripe.invoices.pay(fin.id);
  assert.equal(paying.status, 'open');
  const inv = await invoiceDebitSettled(stripe, fin.id);
  assert.equal(inv.payment_intent.status, 'succeeded');
  assert.equal(inv.status, 'paid');
  assert.equal(inv.amount_paid, 7300);
  assert.equal(inv.amount_remaining, 0);
  assert.equal(inv.attempt_count, 1);
  const plain = await stripe.invoices.retrieve(fin.id);
  billingShape(plain, 'invoice');
  const types = await eventTypesOf(stripe, fin.id);
  assert.equal(types.filter((t) => t === 'invoice.paid').length, 1);
  assert.equal(types.filter((t) => t === 'invoice.payment_succeeded').length, 1);
  // the scheduler wrote invoice.paid: its invoice still names the hosted page, at the address
  // the listener has (the same this client reached it by)
  const paidEv = (await eventsAbout(stripe, fin.id)).find((e) => e.type === 'invoice.paid');
  assert.equal(paidEv.data.object.hosted_invoice_url, plain.hosted_invoice_url);
  assert.match(plain.hosted_invoice_url, /^http:\/\/127\.0\.0\.1:\d+\/invoice\//);
  const ch = await stripe.charges.retrieve(inv.payment_intent.latest_charge);
  assert.equal(ch.status, 'succeeded');
  const txns = (await stripe.balanceTransactions.list({ limit: 100 })).data.filter((t) => t.source === ch.id);
  assert.equal(txns.length, 1);
  assert.equal(txns[0].type, 'charge');
  // paid: paying again is refused
  await assert.rejects(stripe.invoices.pay(fin.id), (e) => e.statusCode === 400);
});

test('a one-off invoice whose debit fails: invoice.payment_failed, still open and unpaid, then paid by another attempt', async () => {
  const { cus } = await debitCustomer(IBANS.fails);
  const fin = await openInvoice(stripe, cus, 4100, 'eur');
  await stripe.invoices.pay(fin.id);
  const inv = await invoiceDebitSettled(stripe, fin.id);
  assert.equal(inv.payment_intent.status, 'requires_payment_method');
  assert.equal(inv.payment_intent.last_payment_error.code, 'generic_could_not_process');
  assert.equal(inv.status, 'open');
  assert.equal(inv.amount_paid, 0);
  assert.equal(inv.attempt_count, 1);
  const types = await eventTypesOf(stripe, fin.id);
  assert.ok(types.includes('invoice.payment_failed'));
  assert.ok(!types.includes('invoice.paid'));
  billingShape(await stripe.invoices.retrieve(fin.id), 'invoice');
  // another account pays it
  const good = await sepaPm(IBANS.ok);
  await stripe.setupIntents.create({
    customer: cus.id, payment_method_types: ['sepa_debit'], payment_method: good.id, confirm: true, mandate_data: ONLINE,
  });
  const again = await stripe.invoices.pay(fin.id, { payment_method: good.id });
  assert.equal(again.status, 'open');
  assert.equal(again.attempt_count, 2);
  const paid = await invoiceDebitSettled(stripe, fin.id);
  assert.equal(paid.status, 'paid');
  assert.equal(paid.amount_paid, 4100);
});

test('a SEPA invoice must be in eur', async () => {
  const { cus } = await debitCustomer(IBANS.ok);
  const fin = await openInvoice(stripe, cus, 5000, 'usd');
  await assert.rejects(stripe.invoices.pay(fin.id), (e) => e.statusCode === 400 && /eur/.test(e.message));
  assert.equal((await stripe.invoices.retrieve(fin.id)).status, 'open');
});

async function eurPrice() {
  return stripe.prices.create({ currency: 'eur', unit_amount: 1500, recurring: { interval: 'month' }, product_data: { name: 'SEPA plan' } });
}

test('a subscription paid by SEPA: active while its first debit processes, its invoice paid when it settles', async () => {
  const { cus, pm } = await debitCustomer(IBANS.ok, { asDefault: false });
  const price = await eurPrice();
  const sub = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }], default_payment_method: pm.id, expand: ['latest_invoice'] });
  assert.equal(sub.status, 'active');
  billingShape({ ...sub, latest_invoice: sub.latest_invoice.id }, 'subscription');
  billingShape(sub.latest_invoice, 'invoice');
  assert.equal(sub.latest_invoice.amount_paid, 0);
  assert.equal(sub.latest_invoice.status, 'open');
  const inv = await invoiceDebitSettled(stripe, sub.latest_invoice.id);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.amount_paid, 1500);
  assert.equal(inv.billing_reason, 'subscription_create');
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'active');
  assert.ok((await eventTypesOf(stripe, inv.id)).includes('invoice.payment_succeeded'));
});

test('a subscription whose first SEPA debit fails goes past_due, its invoice open', async () => {
  const { cus } = await debitCustomer(IBANS.fails);
  const price = await eurPrice();
  const sub = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }] });
  assert.equal(sub.status, 'active');
  const inv = await invoiceDebitSettled(stripe, sub.latest_invoice);
  assert.equal(inv.status, 'open');
  assert.equal(inv.amount_paid, 0);
  const after = await waitFor(async () => {
    const s = await stripe.subscriptions.retrieve(sub.id);
    return s.status === 'past_due' && s;
  }, 'the subscription to be past_due', 5000);
  billingShape(after, 'subscription');
  const types = await eventTypesOf(stripe, inv.id);
  assert.ok(types.includes('invoice.payment_failed'));
  assert.ok(!types.includes('invoice.paid'));
});

test('payment_settings[payment_method_types] on invoices and subscriptions: accepted, shown, sepa_debit needs eur', async () => {
  const { cus, pm } = await debitCustomer(IBANS.ok);
  await stripe.invoiceItems.create({ customer: cus.id, amount: 2500, currency: 'eur' });
  const draft = await stripe.invoices.create({
    customer: cus.id, pending_invoice_items_behavior: 'include', auto_advance: false,
    payment_settings: { payment_method_types: ['card', 'sepa_debit'] },
  });
  assert.deepEqual(draft.payment_settings.payment_method_types, ['card', 'sepa_debit']);
  billingShape(draft, 'invoice');
  // card only: the SEPA default is refused at pay
  const cardOnly = await stripe.invoices.update(draft.id, { payment_settings: { payment_method_types: ['card'] } });
  assert.deepEqual(cardOnly.payment_settings.payment_method_types, ['card']);
  await stripe.invoices.finalizeInvoice(draft.id, { auto_advance: false });
  await assert.rejects(stripe.invoices.pay(draft.id), (e) => e.statusCode === 400 && e.param === 'payment_method');
  await assert.rejects(stripe.invoices.update(draft.id, { payment_settings: { payment_method_types: ['sepa_debit'] } }),
    (e) => e.statusCode === 400);
  // an unknown type, and sepa_debit on a usd invoice
  await assert.rejects(stripe.invoices.create({ customer: cus.id, payment_settings: { payment_method_types: ['alipay'] } }),
    (e) => e.statusCode === 400 && e.param === 'payment_settings[payment_method_types]');
  const usdCus = await stripe.customers.create({ email: 'usd@example.com' });
  await stripe.invoiceItems.create({ customer: usdCus.id, amount: 2500, currency: 'usd' });
  await assert.rejects(stripe.invoices.create({
    customer: usdCus.id, pending_invoice_items_behavior: 'include', payment_settings: { payment_method_types: ['sepa_debit'] },
  }), (e) => e.statusCode === 400 && /eur/.test(e.message));
  // a subscription's: shown, and passed to its invoices
  const price = await eurPrice();
  const sub = await stripe.subscriptions.create({
    customer: cus.id, items: [{ price: price.id }], default_payment_method: pm.id,
    payment_settings: { payment_method_types: ['sepa_debit'] }, expand: ['latest_invoice'],
  });
  assert.deepEqual(sub.payment_settings.payment_method_types, ['sepa_debit']);
  assert.deepEqual(sub.latest_invoice.payment_settings.payment_method_types, ['sepa_debit']);
  assert.equal(sub.status, 'active');
  billingShape({ ...sub, latest_invoice: sub.latest_invoice.id }, 'subscription');
  const upd = await stripe.subscriptions.update(sub.id, { payment_settings: { payment_method_types: ['card', 'sepa_debit'] } });
  assert.deepEqual(upd.payment_settings.payment_method_types, ['card', 'sepa_debit']);
  const usdPrice = await stripe.prices.create({ currency: 'usd', unit_amount: 900, recurring: { interval: 'month' }, product_data: { name: 'usd plan' } });
  await assert.rejects(stripe.subscriptions.create({
    customer: usdCus.id, items: [{ price: usdPrice.id }], payment_behavior: 'default_incomplete',
    payment_settings: { payment_method_types: ['sepa_debit'] },
  }), (e) => e.statusCode === 400 && /eur/.test(e.message));
  assert.equal((await invoiceDebitSettled(stripe, sub.latest_invoice.id)).status, 'paid');
});

test('secrets: no IBAN in clear in the store or the log', async () => {
  const needles = Object.values(IBANS).flatMap((n) => [n, n.toLowerCase(), n.replace(/(.{4})/g, '$1 ').trim()]);
  const files = readStoreFiles(env.dataDir);
  const log = fs.readFileSync(env.server.logPath);
  for (const n of needles) {
    for (const { file, data } of files) assert.ok(!data.includes(n), `${n} found in ${file}`);
    assert.ok(!log.includes(n), `${n} found in the server log`);
  }
});
