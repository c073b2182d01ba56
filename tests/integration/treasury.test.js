'use strict';
// Stripe Treasury through stripe-node: a platform's connected account (Stripe-Account) opens a
// financial account (features active at once as in test mode, an ABA financial address whose
// account number is shown only when expanded and never in clear in the store or the log),
// updates it and its features, and money moves through it: received credits and debits made by
// the test helpers (a debit beyond the cash fails with insufficient_funds and moves nothing),
// each with its Treasury transaction and entries, the balance the sum of them. Stripe's shapes,
// refused input that changes nothing, idempotency, another platform's and another account's 404,
// and tender verify (which checks each financial account's cash against its journal entries).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');
const { BIN, startTender, stopAll, assertStripeShape, tender, readStoreFiles, withDatabaseUrls, storeSql } = require('./helpers');

let env;
let stripe; // platform A
let stripeB; // platform B
let acct; // a connected account of A
let acct2; // another connected account of A
const as = (id, extra = {}) => ({ stripeAccount: id, ...extra });
const revealed = []; // every account number an answer showed

before(async () => {
  env = await startTender({ merchants: 2, args: ['--rate-limit', '0'] });
  stripe = env.stripe();
  stripeB = env.stripe(env.merchants[1].secret_key);
  acct = (await stripe.accounts.create({ type: 'custom', country: 'US', business_profile: { name: 'Rocket Rides' } })).id;
  acct2 = (await stripe.accounts.create({ type: 'custom', country: 'US' })).id;
});
after(stopAll);

const allFeatures = {
  card_issuing: { requested: true },
  deposit_insurance: { requested: true },
  financial_addresses: { aba: { requested: true } },
  inbound_transfers: { ach: { requested: true } },
  intra_stripe_flows: { requested: true },
  outbound_payments: { ach: { requested: true }, us_domestic_wire: { requested: true } },
  outbound_transfers: { ach: { requested: true }, us_domestic_wire: { requested: true } },
};

async function eventsOf(id, account) {
  const all = await stripe.events.list({ limit: 100 }, as(account));
  return all.data.filter((e) => e.data.object.id === id).map((e) => e.type).reverse();
}

test('financial accounts: created for a connected account, address, features, update, list', async () => {
  const fa = await stripe.treasury.financialAccounts.create({
    supported_currencies: ['usd'], features: allFeatures, metadata: { team: 'ops' },
    platform_restrictions: { inbound_flows: 'unrestricted' },
  }, as(acct));
  assert.match(fa.id, /^fa_/);
  assert.equal(fa.object, 'treasury.financial_account');
  assert.equal(fa.status, 'open');
  assert.equal(fa.country, 'US');
  assert.deepEqual(fa.supported_currencies, ['usd']);
  assert.deepEqual(fa.balance, { cash: { usd: 0 }, inbound_pending: { usd: 0 }, outbound_pending: { usd: 0 } });
  assert.deepEqual(fa.active_features, ['card_issuing', 'deposit_insurance', 'financial_addresses.aba',
    'inbound_transfers.ach', 'intra_stripe_flows', 'outbound_payments.ach', 'outbound_payments.us_domestic_wire',
    'outbound_transfers.ach', 'outbound_transfers.us_domestic_wire']);
  assert.deepEqual(fa.pending_features, []);
  assert.deepEqual(fa.platform_restrictions, { inbound_flows: 'unrestricted', outbound_flows: null });
  assert.deepEqual(fa.metadata, { team: 'ops' });
  assert.equal(fa.financial_addresses.length, 1);
  const aba = fa.financial_addresses[0].aba;
  assert.equal(fa.financial_addresses[0].type, 'aba');
  assert.equal(aba.routing_number, '110000000');
  assert.equal(aba.bank_name, 'STRIPE TEST BANK');
  assert.equal(aba.account_holder_name, 'Rocket Rides');
  assert.equal(aba.account_number, null);
  assert.match(aba.account_number_last4, /^\d{4}$/);
  assertStripeShape(fa, 'treasury.financial_account');

  // the account number only when expanded, ending in the last4 shown
  const full = await stripe.treasury.financialAccounts.retrieve(fa.id,
    { expand: ['financial_addresses.aba.account_number', 'features'] }, as(acct));
  const number = full.financial_addresses[0].aba.account_number;
  assert.match(number, /^\d{12}$/);
  assert.equal(number.slice(-4), aba.account_number_last4);
  revealed.push(number);
  assert.equal(full.features.object, 'treasury.financial_account_features');
  assert.deepEqual(full.features.financial_addresses.aba, { requested: true, status: 'active', status_details: [] });
  assertStripeShape(full, 'treasury.financial_account');
  assert.equal((await stripe.treasury.financialAccounts.retrieve(fa.id, {}, as(acct))).financial_addresses[0].aba.account_number, null);

  // features: retrieve and update (a feature removed, its event)
  const feats = await stripe.treasury.financialAccounts.retrieveFeatures(fa.id, {}, as(acct));
  assert.deepEqual(feats.outbound_payments.us_domestic_wire, { requested: true, status: 'active', status_details: [] });
  assertStripeShape(feats, 'treasury.financial_account_features');
  const less = await stripe.treasury.financialAccounts.updateFeatures(fa.id,
    { outbound_payments: { us_domestic_wire: { requested: false } } }, as(acct));
  assert.equal(less.outbound_payments.us_domestic_wire, undefined);
  assert.deepEqual(less.outbound_payments.ach, { requested: true, status: 'active', status_details: [] });
  const upd = await stripe.treasury.financialAccounts.update(fa.id,
    { metadata: { team: null, cost: 'center' }, platform_restrictions: { outbound_flows: 'restricted' } }, as(acct));
  assert.deepEqual(upd.metadata, { cost: 'center' });
  assert.deepEqual(upd.platform_restrictions, { inbound_flows: 'unrestricted', outbound_flows: 'restricted' });
  assert.ok(!upd.active_features.includes('outbound_payments.us_domestic_wire'));
  assertStripeShape(upd, 'treasury.financial_account');
  assert.deepEqual(await eventsOf(fa.id, acct),
    ['treasury.financial_account.created', 'treasury.financial_account.features_status_updated']);

  // a bare account has no address until financial_addresses.aba is requested
  const bare = await stripe.treasury.financialAccounts.create({ supported_currencies: ['usd'] }, as(acct));
  assert.deepEqual(bare.active_features, []);
  assert.deepEqual(bare.financial_addresses, []);
  assert.equal(bare.platform_restrictions, null);
  assertStripeShape(bare, 'treasury.financial_account');
  await stripe.treasury.financialAccounts.updateFeatures(bare.id, { financial_addresses: { aba: { requested: true } } }, as(acct));
  const withAddr = await stripe.treasury.financialAccounts.retrieve(bare.id, {}, as(acct));
  assert.equal(withAddr.financial_addresses[0].aba.routing_number, '110000000');

  const list = await stripe.treasury.financialAccounts.list({ limit: 10 }, as(acct));
  assert.deepEqual(list.data.map((x) => x.id), [bare.id, fa.id]);
  for (const x of list.data) assertStripeShape(x, 'treasury.financial_account');
  const page = await stripe.treasury.financialAccounts.list({ limit: 1 }, as(acct));
  assert.equal(page.has_more, true);
});

test('refused input changes nothing', async () => {
  // Treasury is for connected accounts without a Stripe-hosted dashboard
  const std = await stripe.accounts.create({ type: 'standard' });
  const express = await stripe.accounts.create({ type: 'express', country: 'US' });
  for (const a of [std.id, express.id]) {
    await assert.rejects(stripe.treasury.financialAccounts.create({ supported_currencies: ['usd'] }, as(a)),
      (e) => e.statusCode === 400 && e.type === 'StripeInvalidRequestError');
    assert.equal((await stripe.treasury.financialAccounts.list({}, as(a))).data.length, 0);
  }
  const before = (await stripe.treasury.financialAccounts.list({ limit: 100 }, as(acct))).data.length;
  const bad = [
    [{}, 'supported_currencies'],
    [{ supported_currencies: ['eur'] }, 'supported_currencies'],
    [{ supported_currencies: ['usd'], features: { card_issuing: { requested: 'maybe' } } }, 'features[card_issuing][requested]'],
    [{ supported_currencies: ['usd'], platform_restrictions: { inbound_flows: 'sometimes' } }, 'platform_restrictions[inbound_flows]'],
    [{ supported_currencies: ['usd'], colour: 'blue' }, 'colour'],
  ];
  for (const [params, param] of bad) {
    await assert.rejects(stripe.treasury.financialAccounts.create(params, as(acct)),
      (e) => e.statusCode === 400 && e.type === 'StripeInvalidRequestError' && e.param === param, JSON.stringify(params));
  }
  assert.equal((await stripe.treasury.financialAccounts.list({ limit: 100 }, as(acct))).data.length, before);
  const fa = (await stripe.treasury.financialAccounts.list({ limit: 1 }, as(acct))).data[0];
  const helpers = stripe.testHelpers.treasury;
  await assert.rejects(helpers.receivedCredits.create({ financial_account: fa.id, amount: 100, currency: 'usd' }, as(acct)),
    (e) => e.statusCode === 400 && e.code === 'parameter_missing' && e.param === 'network');
  await assert.rejects(helpers.receivedCredits.create({ financial_account: fa.id, amount: 0, currency: 'usd', network: 'ach' }, as(acct)),
    (e) => e.statusCode === 400 && e.param === 'amount');
  await assert.rejects(helpers.receivedCredits.create({ financial_account: fa.id, amount: 100, currency: 'eur', network: 'ach' }, as(acct)),
    (e) => e.statusCode === 400 && e.param === 'currency');
  await assert.rejects(helpers.receivedDebits.create({ financial_account: fa.id, amount: 100, currency: 'usd', network: 'us_domestic_wire' }, as(acct)),
    (e) => e.statusCode === 400 && e.param === 'network');
  await assert.rejects(helpers.receivedCredits.create({ financial_account: 'fa_nope', amount: 100, currency: 'usd', network: 'ach' }, as(acct)),
    (e) => e.statusCode === 404 && e.code === 'resource_missing' && e.param === 'financial_account');
  await assert.rejects(stripe.treasury.receivedCredits.list({}, as(acct)),
    (e) => e.statusCode === 400 && e.param === 'financial_account');
  assert.deepEqual((await stripe.treasury.financialAccounts.retrieve(fa.id, {}, as(acct))).balance.cash, { usd: 0 });
  assert.equal((await stripe.treasury.transactions.list({ financial_account: fa.id }, as(acct))).data.length, 0);
});

test('received credits and debits move the balance through transactions and entries', async () => {
  const fa = await stripe.treasury.financialAccounts.create({ supported_currencies: ['usd'], features: allFeatures }, as(acct));
  const helpers = stripe.testHelpers.treasury;
  const ach = { type: 'us_bank_account', us_bank_account: { account_holder_name: 'Jane Austen', routing_number: '110000000', account_number: '000123456789' } };
  const rc = await helpers.receivedCredits.create({
    financial_account: fa.id, amount: 12000, currency: 'usd', network: 'ach', description: 'Invoice 42',
    initiating_payment_method_details: ach,
  }, as(acct));
  assert.match(rc.id, /^rc_/);
  assert.equal(rc.object, 'treasury.received_credit');
  assert.equal(rc.status, 'succeeded');
  assert.equal(rc.amount, 12000);
  assert.equal(rc.description, 'Invoice 42');
  assert.equal(rc.network, 'ach');
  assert.equal(rc.failure_code, null);
  assert.deepEqual(rc.initiating_payment_method_details.us_bank_account,
    { bank_name: 'STRIPE TEST BANK', last4: '6789', routing_number: '110000000' });
  assert.equal(rc.initiating_payment_method_details.billing_details.name, 'Jane Austen');
  assert.match(rc.transaction, /^trxn_/);
  assertStripeShape(rc, 'treasury.received_credit');
  const wire = await helpers.receivedCredits.create({ financial_account: fa.id, amount: 3000, currency: 'usd', network: 'us_domestic_wire' }, as(acct));
  assert.equal(wire.network, 'us_domestic_wire');

  const rd = await helpers.receivedDebits.create({
    financial_account: fa.id, amount: 5000, currency: 'usd', network: 'ach', initiating_payment_method_details: ach,
  }, as(acct));
  assert.match(rd.id, /^rd_/);
  assert.equal(rd.object, 'treasury.received_debit');
  assert.equal(rd.status, 'succeeded');
  assertStripeShape(rd, 'treasury.received_debit');
  // more than the cash: failed, nothing moved
  const big = await helpers.receivedDebits.create({ financial_account: fa.id, amount: 10001, currency: 'usd', network: 'ach' }, as(acct));
  assert.equal(big.status, 'failed');
  assert.equal(big.failure_code, 'insufficient_funds');
  assert.equal(big.transaction, null);
  assertStripeShape(big, 'treasury.received_debit');

  const now = await stripe.treasury.financialAccounts.retrieve(fa.id, {}, as(acct));
  assert.deepEqual(now.balance, { cash: { usd: 10000 }, inbound_pending: { usd: 0 }, outbound_pending: { usd: 0 } });
  // the exact cash may be taken
  const all = await helpers.receivedDebits.create({ financial_account: fa.id, amount: 10000, currency: 'usd', network: 'ach' }, as(acct));
  assert.equal(all.status, 'succeeded');
  assert.deepEqual((await stripe.treasury.financialAccounts.retrieve(fa.id, {}, as(acct))).balance.cash, { usd: 0 });

  // transactions: one per movement that happened, newest first, each with its one entry
  const txns = await stripe.treasury.transactions.list({ financial_account: fa.id }, as(acct));
  assert.deepEqual(txns.data.map((t) => t.flow), [all.id, rd.id, wire.id, rc.id]);
  assert.deepEqual(txns.data.map((t) => t.amount), [-10000, -5000, 3000, 12000]);
  for (const t of txns.data) {
    assertStripeShape(t, 'treasury.transaction');
    assert.equal(t.status, 'posted');
    assert.equal(t.financial_account, fa.id);
    assert.deepEqual(t.balance_impact, { cash: t.amount, inbound_pending: 0, outbound_pending: 0 });
    assert.equal(typeof t.status_transitions.posted_at, 'number');
  }
  const t0 = await stripe.treasury.transactions.retrieve(rc.transaction, {}, as(acct));
  assert.equal(t0.flow_type, 'received_credit');
  assert.equal(t0.description, 'Invoice 42');
  const entries = await stripe.treasury.transactionEntries.list({ financial_account: fa.id }, as(acct));
  assert.equal(entries.data.length, 4);
  let sum = 0;
  for (const e of entries.data) {
    assertStripeShape(e, 'treasury.transaction_entry');
    sum += e.balance_impact.cash;
  }
  assert.equal(sum, 0);
  const ofRc = await stripe.treasury.transactionEntries.list({ financial_account: fa.id, transaction: rc.transaction }, as(acct));
  assert.equal(ofRc.data.length, 1);
  assert.equal(ofRc.data[0].type, 'received_credit');
  assert.deepEqual(ofRc.data[0].balance_impact, { cash: 12000, inbound_pending: 0, outbound_pending: 0 });
  const e1 = await stripe.treasury.transactionEntries.retrieve(ofRc.data[0].id, {}, as(acct));
  assert.equal(e1.transaction, rc.transaction);

  // lists and retrieves of the received money
  const rcs = await stripe.treasury.receivedCredits.list({ financial_account: fa.id }, as(acct));
  assert.deepEqual(rcs.data.map((x) => x.id), [wire.id, rc.id]);
  const failed = await stripe.treasury.receivedDebits.list({ financial_account: fa.id, status: 'failed' }, as(acct));
  assert.deepEqual(failed.data.map((x) => x.id), [big.id]);
  assert.equal((await stripe.treasury.receivedCredits.retrieve(rc.id, {}, as(acct))).amount, 12000);
  assert.equal((await stripe.treasury.receivedDebits.retrieve(rd.id, {}, as(acct))).amount, 5000);
  await assert.rejects(stripe.treasury.receivedDebits.retrieve(rc.id, {}, as(acct)), (e) => e.statusCode === 404);
  assert.deepEqual(await eventsOf(rc.id, acct), ['treasury.received_credit.created']);
  assert.deepEqual(await eventsOf(big.id, acct), ['treasury.received_debit.created']);

  // reversals: a credit sent back (only with the cash for it, only by ACH), a debit got back, once each
  await assert.rejects(stripe.treasury.creditReversals.create({ received_credit: rc.id }, as(acct)),
    (e) => e.statusCode === 400 && e.code === 'insufficient_funds' && e.param === 'received_credit');
  await assert.rejects(stripe.treasury.creditReversals.create({ received_credit: wire.id }, as(acct)),
    (e) => e.statusCode === 400 && e.param === 'received_credit');
  await assert.rejects(stripe.treasury.debitReversals.create({ received_debit: big.id }, as(acct)),
    (e) => e.statusCode === 400 && e.param === 'received_debit');
  await assert.rejects(stripe.treasury.debitReversals.create({ received_debit: rc.id }, as(acct)),
    (e) => e.statusCode === 404 && e.param === 'received_debit');
  const debrev = await stripe.treasury.debitReversals.create({ received_debit: rd.id, metadata: { why: 'unauthorized' } }, as(acct));
  assert.match(debrev.id, /^debrev_/);
  assert.equal(debrev.amount, 5000);
  assert.equal(debrev.received_debit, rd.id);
  assert.equal(debrev.status, 'succeeded');
  assert.deepEqual(debrev.metadata, { why: 'unauthorized' });
  assertStripeShape(debrev, 'treasury.debit_reversal');
  await assert.rejects(stripe.treasury.debitReversals.create({ received_debit: rd.id }, as(acct)), (e) => e.statusCode === 400);
  const rdNow = await stripe.treasury.receivedDebits.retrieve(rd.id, {}, as(acct));
  assert.equal(rdNow.linked_flows.debit_reversal, debrev.id);
  assert.equal(rdNow.reversal_details.restricted_reason, 'already_reversed');
  assertStripeShape(rdNow, 'treasury.received_debit');
  await helpers.receivedCredits.create({ financial_account: fa.id, amount: 7000, currency: 'usd', network: 'ach' }, as(acct));
  assert.deepEqual((await stripe.treasury.financialAccounts.retrieve(fa.id, {}, as(acct))).balance.cash, { usd: 12000 });
  const credrev = await stripe.treasury.creditReversals.create({ received_credit: rc.id }, as(acct));
  assert.match(credrev.id, /^credrev_/);
  assert.equal(credrev.status, 'posted');
  assert.equal(typeof credrev.status_transitions.posted_at, 'number');
  assertStripeShape(credrev, 'treasury.credit_reversal');
  assert.equal((await stripe.treasury.transactions.retrieve(credrev.transaction, {}, as(acct))).flow_type, 'credit_reversal');
  assert.equal((await stripe.treasury.receivedCredits.retrieve(rc.id, {}, as(acct))).linked_flows.credit_reversal, credrev.id);
  assert.deepEqual((await stripe.treasury.financialAccounts.retrieve(fa.id, {}, as(acct))).balance.cash, { usd: 0 });
  assert.deepEqual((await stripe.treasury.creditReversals.list({ financial_account: fa.id }, as(acct))).data.map((x) => x.id), [credrev.id]);
  assert.equal((await stripe.treasury.debitReversals.retrieve(debrev.id, {}, as(acct))).transaction, debrev.transaction);
  await assert.rejects(stripe.treasury.creditReversals.retrieve(debrev.id, {}, as(acct)), (e) => e.statusCode === 404);
  assert.deepEqual(await eventsOf(credrev.id, acct), ['treasury.credit_reversal.created', 'treasury.credit_reversal.posted']);
  assert.deepEqual(await eventsOf(debrev.id, acct), ['treasury.debit_reversal.created', 'treasury.debit_reversal.completed']);

  // the financial account's balance is not the connected account's payments balance
  const bal = await stripe.balance.retrieve({}, as(acct));
  assert.ok(bal.available.every((b) => b.amount === 0));
});

test('outbound transfers and payments, inbound transfers, with their test helpers', async () => {
  const fa = await stripe.treasury.financialAccounts.create({ supported_currencies: ['usd'], features: allFeatures }, as(acct));
  const helpers = stripe.testHelpers.treasury;
  await helpers.receivedCredits.create({ financial_account: fa.id, amount: 50000, currency: 'usd', network: 'ach' }, as(acct));
  const pm = await stripe.paymentMethods.create({
    type: 'us_bank_account', billing_details: { name: 'Rocket Rides' },
    us_bank_account: { routing_number: '110000000', account_number: '000111222333', account_holder_type: 'company', account_type: 'checking' },
  }, as(acct));
  revealed.push('000111222333');
  const balance = async () => (await stripe.treasury.financialAccounts.retrieve(fa.id, {}, as(acct))).balance;
  const money = (cash, inb, outb) => ({ cash: { usd: cash }, inbound_pending: { usd: inb }, outbound_pending: { usd: outb } });

  // an outbound transfer: processing (cash to outbound_pending), posted, then returned
  const obt = await stripe.treasury.outboundTransfers.create({
    financial_account: fa.id, amount: 10000, currency: 'usd', destination_payment_method: pm.id, description: 'Payout to owner',
  }, as(acct));
  assert.match(obt.id, /^obt_/);
  assert.equal(obt.status, 'processing');
  assert.equal(obt.cancelable, true);
  assert.equal(obt.statement_descriptor, 'transfer');
  assert.deepEqual(obt.destination_payment_method_details.us_bank_account, {
    account_holder_type: 'company', account_type: 'checking', bank_name: 'STRIPE TEST BANK',
    fingerprint: obt.destination_payment_method_details.us_bank_account.fingerprint, last4: '2333', network: 'ach', routing_number: '110000000',
  });
  assert.equal(obt.destination_payment_method_details.billing_details.name, 'Rocket Rides');
  assertStripeShape(obt, 'treasury.outbound_transfer');
  assert.deepEqual(await balance(), money(40000, 0, 10000));
  const open = await stripe.treasury.transactions.retrieve(obt.transaction, {}, as(acct));
  assert.equal(open.status, 'open');
  assert.deepEqual(open.balance_impact, { cash: -10000, inbound_pending: 0, outbound_pending: 10000 });
  const posted = await helpers.outboundTransfers.post(obt.id, {}, as(acct));
  assert.equal(posted.status, 'posted');
  assert.equal(posted.cancelable, false);
  assert.equal(typeof posted.status_transitions.posted_at, 'number');
  assert.deepEqual(await balance(), money(40000, 0, 0));
  const txn = await stripe.treasury.transactions.retrieve(obt.transaction, {}, as(acct));
  assert.equal(txn.status, 'posted');
  assert.deepEqual(txn.balance_impact, { cash: -10000, inbound_pending: 0, outbound_pending: 0 });
  const ents = await stripe.treasury.transactionEntries.list({ financial_account: fa.id, transaction: obt.transaction }, as(acct));
  assert.deepEqual(ents.data.map((e) => e.type).sort(), ['outbound_transfer', 'outbound_transfer_posting']);
  const expanded = await stripe.treasury.transactions.retrieve(obt.transaction, { expand: ['entries'] }, as(acct));
  assert.equal(expanded.entries.object, 'list');
  assert.deepEqual(expanded.entries.data.map((e) => e.id), ents.data.map((e) => e.id));
  assertStripeShape(expanded, 'treasury.transaction');
  const listedTxns = await stripe.treasury.transactions.list({ financial_account: fa.id, expand: ['data.entries'] }, as(acct));
  for (const t of listedTxns.data) assert.ok(t.entries.data.length >= 1 && t.entries.data.every((e) => e.transaction === t.id));
  await assert.rejects(stripe.treasury.outboundTransfers.cancel(obt.id, {}, as(acct)), (e) => e.statusCode === 400);
  await assert.rejects(helpers.outboundTransfers.fail(obt.id, {}, as(acct)), (e) => e.statusCode === 400);
  const ret = await helpers.outboundTransfers.returnOutboundTransfer(obt.id, { returned_details: { code: 'account_closed' } }, as(acct));
  assert.equal(ret.status, 'returned');
  assert.equal(ret.returned_details.code, 'account_closed');
  assert.match(ret.returned_details.transaction, /^trxn_/);
  assertStripeShape(ret, 'treasury.outbound_transfer');
  assert.deepEqual(await balance(), money(50000, 0, 0));
  assert.deepEqual(await eventsOf(obt.id, acct), ['treasury.outbound_transfer.created',
    'treasury.outbound_transfer.posted', 'treasury.outbound_transfer.returned']);

  // a wire cannot be canceled but can fail; an ACH transfer can be canceled; never beyond the cash
  const wire = await stripe.treasury.outboundTransfers.create({
    financial_account: fa.id, amount: 2000, currency: 'usd', destination_payment_method: pm.id,
    destination_payment_method_options: { us_bank_account: { network: 'us_domestic_wire' } },
  }, as(acct));
  assert.equal(wire.cancelable, false);
  assert.equal(wire.destination_payment_method_details.us_bank_account.network, 'us_domestic_wire');
  await assert.rejects(stripe.treasury.outboundTransfers.cancel(wire.id, {}, as(acct)), (e) => e.statusCode === 400);
  assert.equal((await helpers.outboundTransfers.fail(wire.id, {}, as(acct))).status, 'failed');
  assert.equal((await stripe.treasury.transactions.retrieve(wire.transaction, {}, as(acct))).status, 'void');
  const ach = await stripe.treasury.outboundTransfers.create({ financial_account: fa.id, amount: 1000, currency: 'usd', destination_payment_method: pm.id }, as(acct));
  const canceled = await stripe.treasury.outboundTransfers.cancel(ach.id, {}, as(acct));
  assert.equal(canceled.status, 'canceled');
  assert.equal(typeof canceled.status_transitions.canceled_at, 'number');
  assert.deepEqual(await balance(), money(50000, 0, 0));
  await assert.rejects(stripe.treasury.outboundTransfers.create({ financial_account: fa.id, amount: 50001, currency: 'usd', destination_payment_method: pm.id }, as(acct)),
    (e) => e.statusCode === 400 && e.code === 'insufficient_funds' && e.param === 'amount');
  await assert.rejects(stripe.treasury.outboundTransfers.create({ financial_account: fa.id, amount: 10, currency: 'usd', destination_payment_method: 'pm_nope' }, as(acct)),
    (e) => e.statusCode === 404 && e.param === 'destination_payment_method');
  const card = await stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_visa' } }, as(acct));
  await assert.rejects(stripe.treasury.outboundTransfers.create({ financial_account: fa.id, amount: 10, currency: 'usd', destination_payment_method: card.id }, as(acct)),
    (e) => e.statusCode === 400 && e.param === 'destination_payment_method');
  const listed = await stripe.treasury.outboundTransfers.list({ financial_account: fa.id, status: 'failed' }, as(acct));
  assert.deepEqual(listed.data.map((x) => x.id), [wire.id]);
  assert.deepEqual(await balance(), money(50000, 0, 0));

  // an outbound payment to a third party's bank account given inline, posted; another failed
  const obp = await stripe.treasury.outboundPayments.create({
    financial_account: fa.id, amount: 4000, currency: 'usd', description: 'Supplies',
    destination_payment_method_data: {
      type: 'us_bank_account', billing_details: { name: 'Acme Supplies', email: 'ap@acme.test' },
      us_bank_account: { routing_number: '110000000', account_number: '987654321', account_holder_type: 'company' },
    },
    end_user_details: { present: true, ip_address: '203.0.113.7' },
  }, as(acct));
  revealed.push('987654321');
  assert.match(obp.id, /^obp_/);
  assert.equal(obp.destination_payment_method, null);
  assert.equal(obp.destination_payment_method_details.us_bank_account.last4, '4321');
  assert.equal(obp.destination_payment_method_details.billing_details.name, 'Acme Supplies');
  assert.deepEqual(obp.end_user_details, { ip_address: '203.0.113.7', present: true });
  assert.equal(obp.statement_descriptor, 'payment');
  assertStripeShape(obp, 'treasury.outbound_payment');
  assert.deepEqual(await balance(), money(46000, 0, 4000));
  const obpPosted = await helpers.outboundPayments.post(obp.id, {}, as(acct));
  assert.equal(obpPosted.status, 'posted');
  assertStripeShape(obpPosted, 'treasury.outbound_payment');
  const obp2 = await stripe.treasury.outboundPayments.create({
    financial_account: fa.id, amount: 500, currency: 'usd', destination_payment_method: pm.id,
  }, as(acct));
  assert.equal((await helpers.outboundPayments.fail(obp2.id, {}, as(acct))).status, 'failed');
  assert.deepEqual(await balance(), money(46000, 0, 0));
  assert.deepEqual((await stripe.treasury.outboundPayments.list({ financial_account: fa.id }, as(acct))).data.map((x) => x.id), [obp2.id, obp.id]);
  await assert.rejects(stripe.treasury.outboundPayments.create({ financial_account: fa.id, amount: 10, currency: 'usd' }, as(acct)),
    (e) => e.statusCode === 400 && e.param === 'destination_payment_method');
  await assert.rejects(stripe.treasury.outboundTransfers.retrieve(obp.id, {}, as(acct)), (e) => e.statusCode === 404);

  // an inbound transfer: inbound_pending until it succeeds; another fails
  const ibt = await stripe.treasury.inboundTransfers.create({
    financial_account: fa.id, amount: 7000, currency: 'usd', origin_payment_method: pm.id, description: 'Top up',
  }, as(acct));
  assert.match(ibt.id, /^ibt_/);
  assert.equal(ibt.status, 'processing');
  assert.equal(ibt.origin_payment_method, pm.id);
  assert.equal(ibt.origin_payment_method_details.us_bank_account.last4, '2333');
  assertStripeShape(ibt, 'treasury.inbound_transfer');
  assert.deepEqual(await balance(), money(46000, 7000, 0));
  const ok = await helpers.inboundTransfers.succeed(ibt.id, {}, as(acct));
  assert.equal(ok.status, 'succeeded');
  assert.equal(typeof ok.status_transitions.succeeded_at, 'number');
  assertStripeShape(ok, 'treasury.inbound_transfer');
  assert.deepEqual(await balance(), money(53000, 0, 0));
  const ibt2 = await stripe.treasury.inboundTransfers.create({ financial_account: fa.id, amount: 100, currency: 'usd', origin_payment_method: pm.id }, as(acct));
  const bad = await helpers.inboundTransfers.fail(ibt2.id, { failure_details: { code: 'insufficient_funds' } }, as(acct));
  assert.equal(bad.status, 'failed');
  assert.deepEqual(bad.failure_details, { code: 'insufficient_funds' });
  assertStripeShape(bad, 'treasury.inbound_transfer');
  assert.deepEqual(await balance(), money(53000, 0, 0));
  assert.deepEqual(await eventsOf(ibt2.id, acct), ['treasury.inbound_transfer.created', 'treasury.inbound_transfer.failed']);

  // a returned inbound transfer: the bank takes the money back as a received debit, once
  const back = await helpers.inboundTransfers.returnInboundTransfer(ibt.id, {}, as(acct));
  assert.equal(back.status, 'succeeded');
  assert.equal(back.returned, true);
  assert.match(back.linked_flows.received_debit, /^rd_/);
  assertStripeShape(back, 'treasury.inbound_transfer');
  const rdBack = await stripe.treasury.receivedDebits.retrieve(back.linked_flows.received_debit, {}, as(acct));
  assert.equal(rdBack.linked_flows.inbound_transfer, ibt.id);
  assert.equal(rdBack.amount, 7000);
  assert.equal(rdBack.status, 'succeeded');
  assertStripeShape(rdBack, 'treasury.received_debit');
  assert.deepEqual(await eventsOf(rdBack.id, acct), ['treasury.received_debit.created']);
  await assert.rejects(helpers.inboundTransfers.returnInboundTransfer(ibt.id, {}, as(acct)), (e) => e.statusCode === 400);
  await assert.rejects(helpers.inboundTransfers.returnInboundTransfer(ibt2.id, {}, as(acct)), (e) => e.statusCode === 400);
  assert.deepEqual(await balance(), money(46000, 0, 0));

  // a restricted account moves nothing out
  await stripe.treasury.financialAccounts.update(fa.id, { platform_restrictions: { outbound_flows: 'restricted' } }, as(acct));
  await assert.rejects(stripe.treasury.outboundTransfers.create({ financial_account: fa.id, amount: 10, currency: 'usd', destination_payment_method: pm.id }, as(acct)),
    (e) => e.statusCode === 400 && e.param === 'financial_account');
  const frozen = await helpers.receivedDebits.create({ financial_account: fa.id, amount: 10, currency: 'usd', network: 'ach' }, as(acct));
  assert.equal(frozen.status, 'failed');
  assert.equal(frozen.failure_code, 'account_frozen');
  assert.equal(frozen.transaction, null);
  await stripe.treasury.financialAccounts.update(fa.id, { platform_restrictions: { inbound_flows: 'restricted' } }, as(acct));
  const refused = await helpers.receivedCredits.create({ financial_account: fa.id, amount: 10, currency: 'usd', network: 'ach' }, as(acct));
  assert.equal(refused.status, 'failed');
  assert.equal(refused.failure_code, 'account_frozen');
  assertStripeShape(refused, 'treasury.received_credit');
  assert.deepEqual(await balance(), money(46000, 0, 0));
  // nor without the feature
  const plain = await stripe.treasury.financialAccounts.create({ supported_currencies: ['usd'] }, as(acct));
  await assert.rejects(stripe.treasury.inboundTransfers.create({ financial_account: plain.id, amount: 10, currency: 'usd', origin_payment_method: pm.id }, as(acct)),
    (e) => e.statusCode === 400 && e.param === 'financial_account');
  // every entry of the account sums to its balance
  const all = await stripe.treasury.transactionEntries.list({ financial_account: fa.id, limit: 100 }, as(acct));
  assert.equal(all.data.reduce((s, e) => s + e.balance_impact.cash, 0), 46000);
});

test('closing a financial account: only at a zero balance with nothing pending; what comes after is refused', async () => {
  const helpers = stripe.testHelpers.treasury;
  const fa = await stripe.treasury.financialAccounts.create({ supported_currencies: ['usd'], features: allFeatures }, as(acct2));
  await helpers.receivedCredits.create({ financial_account: fa.id, amount: 1000, currency: 'usd', network: 'ach' }, as(acct2));
  const pm = await stripe.paymentMethods.create({
    type: 'us_bank_account', billing_details: { name: 'Owner' },
    us_bank_account: { routing_number: '110000000', account_number: '000999888777', account_holder_type: 'individual', account_type: 'checking' },
  }, as(acct2));
  revealed.push('000999888777');
  const refusedClose = async (param) => assert.rejects(stripe.treasury.financialAccounts.close(fa.id, param ? { forwarding_settings: param } : {}, as(acct2)),
    (e) => e.statusCode === 400 && e.rawType === 'invalid_request_error');
  // a pending InboundTransfer, then a balance left: refused, nothing changes
  const ibt = await stripe.treasury.inboundTransfers.create({ financial_account: fa.id, amount: 500, currency: 'usd', origin_payment_method: pm.id }, as(acct2));
  await refusedClose();
  await helpers.inboundTransfers.succeed(ibt.id, {}, as(acct2));
  await refusedClose();
  // the cash leaves through an outbound transfer; while it is processing the account is not at zero
  const obt = await stripe.treasury.outboundTransfers.create({ financial_account: fa.id, amount: 1500, currency: 'usd', destination_payment_method: pm.id }, as(acct2));
  await refusedClose();
  await helpers.outboundTransfers.post(obt.id, {}, as(acct2));
  // forwarding_settings: checked, then refused (Tender does not forward), the account still open
  await assert.rejects(stripe.treasury.financialAccounts.close(fa.id, { forwarding_settings: { type: 'elsewhere' } }, as(acct2)),
    (e) => e.statusCode === 400 && e.param === 'forwarding_settings[type]');
  await assert.rejects(stripe.treasury.financialAccounts.close(fa.id, { forwarding_settings: { type: 'payment_method', payment_method: pm.id } }, as(acct2)),
    (e) => e.statusCode === 400 && e.param === 'forwarding_settings');
  assert.equal((await stripe.treasury.financialAccounts.retrieve(fa.id, {}, as(acct2))).status, 'open');
  await assert.rejects(stripe.treasury.financialAccounts.close(fa.id, {}, as(acct)), (e) => e.statusCode === 404);

  const closed = await stripe.treasury.financialAccounts.close(fa.id, {}, as(acct2));
  assert.equal(closed.status, 'closed');
  assert.deepEqual(closed.status_details, { closed: { reasons: ['closed_by_platform'] } });
  assert.deepEqual(closed.balance, { cash: { usd: 0 }, inbound_pending: { usd: 0 }, outbound_pending: { usd: 0 } });
  assertStripeShape(closed, 'treasury.financial_account');
  assert.deepEqual(await stripe.treasury.financialAccounts.retrieve(fa.id, {}, as(acct2)), closed);
  const ev = (await stripe.events.list({ type: 'treasury.financial_account.closed', limit: 10 }, as(acct2))).data.filter((e) => e.data.object.id === fa.id);
  assert.equal(ev.length, 1);
  assert.equal(ev[0].data.object.status, 'closed');
  assert.deepEqual(ev[0].data.previous_attributes, { status: 'open', status_details: { closed: null } });
  await refusedClose();

  // money the bank sends or pulls fails with account_closed and moves nothing
  const rc = await helpers.receivedCredits.create({ financial_account: fa.id, amount: 200, currency: 'usd', network: 'ach' }, as(acct2));
  assert.equal(rc.status, 'failed');
  assert.equal(rc.failure_code, 'account_closed');
  assert.equal(rc.transaction, null);
  assertStripeShape(rc, 'treasury.received_credit');
  const rd = await helpers.receivedDebits.create({ financial_account: fa.id, amount: 200, currency: 'usd', network: 'ach' }, as(acct2));
  assert.equal(rd.status, 'failed');
  assert.equal(rd.failure_code, 'account_closed');
  // nothing goes out or comes in through the API, and the features stay as they were
  await assert.rejects(stripe.treasury.outboundPayments.create({ financial_account: fa.id, amount: 10, currency: 'usd', destination_payment_method: pm.id }, as(acct2)),
    (e) => e.statusCode === 400 && e.param === 'financial_account');
  await assert.rejects(stripe.treasury.outboundTransfers.create({ financial_account: fa.id, amount: 10, currency: 'usd', destination_payment_method: pm.id }, as(acct2)),
    (e) => e.statusCode === 400 && e.param === 'financial_account');
  await assert.rejects(stripe.treasury.inboundTransfers.create({ financial_account: fa.id, amount: 10, currency: 'usd', origin_payment_method: pm.id }, as(acct2)),
    (e) => e.statusCode === 400 && e.param === 'financial_account');
  await assert.rejects(stripe.treasury.financialAccounts.updateFeatures(fa.id, { card_issuing: { requested: false } }, as(acct2)), (e) => e.statusCode === 400);
  await assert.rejects(stripe.treasury.financialAccounts.update(fa.id, { features: { card_issuing: { requested: false } } }, as(acct2)),
    (e) => e.statusCode === 400 && e.param === 'features');
  const after = await stripe.treasury.financialAccounts.retrieve(fa.id, {}, as(acct2));
  assert.deepEqual(after.active_features, closed.active_features);
  assert.deepEqual(after.balance, closed.balance);
});

test('concurrent debits of one account never take more than its cash', async () => {
  const fa = await stripe.treasury.financialAccounts.create({ supported_currencies: ['usd'], features: allFeatures }, as(acct2));
  const helpers = stripe.testHelpers.treasury;
  await helpers.receivedCredits.create({ financial_account: fa.id, amount: 1000, currency: 'usd', network: 'ach' }, as(acct2));
  const pm = await stripe.paymentMethods.create({ type: 'us_bank_account', billing_details: { name: 'Second Account' },
    us_bank_account: { routing_number: '110000000', account_number: '000123456789', account_holder_type: 'individual' } }, as(acct2));
  // received debits and outbound transfers of 300 each, all at once: three fit in 1000
  const tries = await Promise.allSettled([
    ...Array.from({ length: 4 }, () => helpers.receivedDebits.create({ financial_account: fa.id, amount: 300, currency: 'usd', network: 'ach' }, as(acct2))),
    ...Array.from({ length: 4 }, () => stripe.treasury.outboundTransfers.create({ financial_account: fa.id, amount: 300, currency: 'usd', destination_payment_method: pm.id }, as(acct2))),
  ]);
  const moved = tries.filter((t) => t.status === 'fulfilled' && t.value.status !== 'failed').length;
  const refused = tries.filter((t) => (t.status === 'fulfilled' && t.value.failure_code === 'insufficient_funds')
    || (t.status === 'rejected' && t.reason.code === 'insufficient_funds')).length;
  assert.equal(moved, 3);
  assert.equal(refused, 5);
  const bal = (await stripe.treasury.financialAccounts.retrieve(fa.id, {}, as(acct2))).balance;
  // each of the three took 300 of the cash (a transfer's into outbound_pending)
  assert.equal(bal.cash.usd, 100);
});

test('idempotency, and another account or platform sees none of it', async () => {
  const key = `fa-${Date.now()}`;
  const a = await stripe.treasury.financialAccounts.create({ supported_currencies: ['usd'] }, as(acct, { idempotencyKey: key }));
  const b = await stripe.treasury.financialAccounts.create({ supported_currencies: ['usd'] }, as(acct, { idempotencyKey: key }));
  assert.equal(a.id, b.id);
  const p = { financial_account: a.id, amount: 700, currency: 'usd', network: 'ach' };
  const c1 = await stripe.testHelpers.treasury.receivedCredits.create(p, as(acct, { idempotencyKey: `${key}-rc` }));
  const c2 = await stripe.testHelpers.treasury.receivedCredits.create(p, as(acct, { idempotencyKey: `${key}-rc` }));
  assert.equal(c1.id, c2.id);
  assert.deepEqual((await stripe.treasury.financialAccounts.retrieve(a.id, {}, as(acct))).balance.cash, { usd: 700 });

  // another connected account of the same platform, the platform itself, another platform
  for (const [client, opts] of [[stripe, as(acct2)], [stripe, {}], [stripeB, {}]]) {
    await assert.rejects(client.treasury.financialAccounts.retrieve(a.id, {}, opts),
      (e) => e.statusCode === 404 && e.code === 'resource_missing');
    await assert.rejects(client.treasury.financialAccounts.update(a.id, { metadata: { x: '1' } }, opts), (e) => e.statusCode === 404);
    await assert.rejects(client.testHelpers.treasury.receivedCredits.create(p, opts),
      (e) => e.statusCode === 404 && e.param === 'financial_account');
    await assert.rejects(client.treasury.receivedCredits.retrieve(c1.id, {}, opts), (e) => e.statusCode === 404);
    await assert.rejects(client.treasury.transactions.retrieve(c1.transaction, {}, opts), (e) => e.statusCode === 404);
    assert.equal((await client.treasury.transactions.list({ financial_account: a.id }, opts)).data.length, 0);
  }
  await assert.rejects(stripeB.treasury.financialAccounts.list({}, as(acct)), (e) => e.statusCode === 403 || e.statusCode === 401 || e.statusCode === 404);
});

test('no account number is in clear in the store or the log, and tender verify passes', async () => {
  assert.ok(revealed.length >= 1);
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

  // an entry that no journal transaction explains (cash raised out of nowhere) is caught
  storeSql(env.dataDir, "INSERT INTO treasury_transaction_entries (merchant_id, id, created, effective_at,"
    + " transaction_id, financial_account, currency, flow, flow_type, type, cash, inbound_pending, outbound_pending)"
    + ` VALUES ('${acct}', 'trxne_tampered', 1, 1, 'trxn_tampered', 'fa_tampered', 'usd', NULL, 'other', 'other', 5, 0, 0)`);
  let out = '';
  try { tender(['verify', '--data', env.dataDir]); } catch (e) { out = `${e.stdout}${e.stderr}`; }
  assert.match(out, /financial account balance that differs from its journal entries: .*fa_tampered usd treasury_cash differs by 5/);
});
