'use strict';
// Bank transfers (customer_balance) through stripe-node: a customer's cash balance and its
// settings, funding instructions (a virtual account per customer and type, kept), test-mode
// funding (a `funded` cash balance transaction, its events, the journal: the merchant's balance
// does not move), the transactions' list and retrieve, refused input that changes nothing,
// tenants, and tender verify; send_invoice and charge_automatically invoices and subscriptions paid
// by bank transfer (never partly funded, never retried), the hosted instructions page and the
// hosted invoice page showing them; Checkout's waiting intent paid or canceled.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, assertStripeShape, tender, launchChromium, startShop } = require('./helpers');

let env;
let stripe;

before(async () => {
  env = await startTender({ merchants: 2, args: ['--rate-limit', '0'] });
  stripe = env.stripe();
});
after(stopAll);

async function balanceOf(s, currency) {
  const b = await s.balance.retrieve();
  const sum = (rows) => rows.filter((x) => x.currency === currency).reduce((a, x) => a + x.amount, 0);
  return { available: sum(b.available), pending: sum(b.pending) };
}

async function eventsOf(s, id) {
  const all = await s.events.list({ limit: 100 });
  return all.data.filter((e) => e.data.object.id === id || e.data.object.customer === id).reverse();
}

async function refused(p, status, code, param) {
  const err = await p.then(() => null, (e) => e);
  assert.ok(err, 'the request should have been refused');
  assert.equal(err.statusCode, status, err.message);
  if (code !== undefined) assert.equal(err.code, code, err.message);
  if (param !== undefined) assert.equal(err.param, param, err.message);
  return err;
}

test('a cash balance: empty, settings, funding instructions kept per customer and type', async () => {
  const cus = await stripe.customers.create({ name: 'Jenny Rosen', email: 'jenny@example.com' });
  const cb = await stripe.customers.retrieveCashBalance(cus.id);
  assert.deepEqual(cb, {
    object: 'cash_balance', available: null, customer: cus.id, livemode: false,
    settings: { reconciliation_mode: 'automatic', using_merchant_default: true },
  });
  assertStripeShape(cb, 'cash_balance');

  const manual = await stripe.customers.updateCashBalance(cus.id, { settings: { reconciliation_mode: 'manual' } });
  assert.deepEqual(manual.settings, { reconciliation_mode: 'manual', using_merchant_default: false });
  assertStripeShape(manual, 'cash_balance');
  const ev = (await stripe.events.list({ type: 'customer.updated', limit: 1 })).data[0];
  assert.equal(ev.data.object.id, cus.id);
  assert.deepEqual(ev.data.previous_attributes, {
    cash_balance: { settings: { reconciliation_mode: 'automatic', using_merchant_default: true } },
  });
  const back = await stripe.customers.updateCashBalance(cus.id, { settings: { reconciliation_mode: 'merchant_default' } });
  assert.deepEqual(back.settings, { reconciliation_mode: 'automatic', using_merchant_default: true });
  await refused(stripe.customers.updateCashBalance(cus.id, { settings: { reconciliation_mode: 'sometimes' } }), 400,
    undefined, 'settings[reconciliation_mode]');
  await refused(stripe.customers.updateCashBalance(cus.id, { settings: { color: 'red' } }), 400, 'parameter_unknown');

  // eu_bank_transfer: an IBAN in the country asked for, the same one every time
  const fi = await stripe.customers.createFundingInstructions(cus.id, {
    funding_type: 'bank_transfer', currency: 'eur',
    bank_transfer: { type: 'eu_bank_transfer', eu_bank_transfer: { country: 'DE' } },
  });
  assert.equal(fi.object, 'funding_instructions');
  assert.equal(fi.currency, 'eur');
  assert.equal(fi.funding_type, 'bank_transfer');
  assert.equal(fi.bank_transfer.type, 'eu_bank_transfer');
  assert.equal(fi.bank_transfer.country, 'DE');
  assert.equal(fi.bank_transfer.financial_addresses.length, 1);
  const addr = fi.bank_transfer.financial_addresses[0];
  assert.equal(addr.type, 'iban');
  assert.deepEqual(addr.supported_networks, ['sepa']);
  assert.match(addr.iban.iban, /^DE\d{20}$/);
  assert.equal(addr.iban.country, 'DE');
  assert.equal(addr.iban.account_holder_name, 'Merchant 0');
  // the IBAN's check digits hold (ISO 13616 mod 97)
  const moved = addr.iban.iban.slice(4) + '1314' + addr.iban.iban.slice(2, 4);
  assert.equal(BigInt(moved) % 97n, 1n);
  assertStripeShape(fi, 'funding_instructions');
  const again = await stripe.customers.createFundingInstructions(cus.id, {
    funding_type: 'bank_transfer', currency: 'eur',
    bank_transfer: { type: 'eu_bank_transfer', eu_bank_transfer: { country: 'DE' } },
  });
  assert.deepEqual(again, fi);
  const fr = await stripe.customers.createFundingInstructions(cus.id, {
    funding_type: 'bank_transfer', currency: 'eur',
    bank_transfer: { type: 'eu_bank_transfer', eu_bank_transfer: { country: 'FR' } },
  });
  assert.match(fr.bank_transfer.financial_addresses[0].iban.iban, /^FR\d{25}$/);

  // another customer gets another account
  const other = await stripe.customers.create({ name: 'Other' });
  const ofi = await stripe.customers.createFundingInstructions(other.id, {
    funding_type: 'bank_transfer', currency: 'eur',
    bank_transfer: { type: 'eu_bank_transfer', eu_bank_transfer: { country: 'DE' } },
  });
  assert.notEqual(ofi.bank_transfer.financial_addresses[0].iban.iban, addr.iban.iban);

  // the other types: their own address and currency
  const jp = await stripe.customers.createFundingInstructions(cus.id, {
    funding_type: 'bank_transfer', currency: 'jpy', bank_transfer: { type: 'jp_bank_transfer' },
  });
  assert.equal(jp.bank_transfer.country, 'JP');
  assert.equal(jp.bank_transfer.financial_addresses[0].type, 'zengin');
  assert.match(jp.bank_transfer.financial_addresses[0].zengin.account_number, /^\d{7}$/);
  assertStripeShape(jp, 'funding_instructions');
  const gb = await stripe.customers.createFundingInstructions(cus.id, {
    funding_type: 'bank_transfer', currency: 'gbp', bank_transfer: { type: 'gb_bank_transfer' },
  });
  assert.equal(gb.bank_transfer.financial_addresses[0].type, 'sort_code');
  assert.match(gb.bank_transfer.financial_addresses[0].sort_code.sort_code, /^\d{6}$/);
  assert.match(gb.bank_transfer.financial_addresses[0].sort_code.account_number, /^\d{8}$/);
  const mx = await stripe.customers.createFundingInstructions(cus.id, {
    funding_type: 'bank_transfer', currency: 'mxn', bank_transfer: { type: 'mx_bank_transfer' },
  });
  assert.match(mx.bank_transfer.financial_addresses[0].spei.clabe, /^\d{18}$/);
  const us = await stripe.customers.createFundingInstructions(cus.id, {
    funding_type: 'bank_transfer', currency: 'usd', bank_transfer: { type: 'us_bank_transfer' },
  });
  assert.equal(us.bank_transfer.financial_addresses[0].type, 'aba');
  assert.equal(us.bank_transfer.financial_addresses[0].aba.routing_number, '110000000');

  // refused: changes nothing
  await refused(stripe.customers.createFundingInstructions(cus.id, {
    funding_type: 'bank_transfer', currency: 'usd', bank_transfer: { type: 'eu_bank_transfer', eu_bank_transfer: { country: 'DE' } },
  }), 400, undefined, 'currency');
  await refused(stripe.customers.createFundingInstructions(cus.id, {
    funding_type: 'bank_transfer', currency: 'eur', bank_transfer: { type: 'eu_bank_transfer' },
  }), 400, 'parameter_missing', 'bank_transfer[eu_bank_transfer][country]');
  await refused(stripe.customers.createFundingInstructions(cus.id, {
    funding_type: 'bank_transfer', currency: 'eur', bank_transfer: { type: 'eu_bank_transfer', eu_bank_transfer: { country: 'IT' } },
  }), 400, undefined, 'bank_transfer[eu_bank_transfer][country]');
  await refused(stripe.customers.createFundingInstructions(cus.id, {
    funding_type: 'bank_transfer', currency: 'eur',
  }), 400, 'parameter_missing', 'bank_transfer');
  await refused(stripe.customers.createFundingInstructions(cus.id, {
    funding_type: 'bank_transfer', currency: 'jpy', bank_transfer: { type: 'jp_bank_transfer', requested_address_types: ['iban'] },
  }), 400, undefined, 'bank_transfer[requested_address_types]');
  await refused(stripe.customers.createFundingInstructions('cus_nope', {
    funding_type: 'bank_transfer', currency: 'jpy', bank_transfer: { type: 'jp_bank_transfer' },
  }), 404, 'resource_missing');
  await refused(stripe.customers.retrieveCashBalance('cus_nope'), 404, 'resource_missing');
});

test('funding a cash balance: a funded transaction, its events and journal; the merchant\'s balance stays', async () => {
  const cus = await stripe.customers.create({ name: 'Funder' });
  const before = await balanceOf(stripe, 'eur');
  const t = await stripe.testHelpers.customers.fundCashBalance(cus.id, {
    amount: 5000, currency: 'EUR', reference: 'Invoice F79089B-155',
  });
  assert.match(t.id, /^ccsbtxn_/);
  assert.equal(t.object, 'customer_cash_balance_transaction');
  assert.equal(t.type, 'funded');
  assert.equal(t.net_amount, 5000);
  assert.equal(t.ending_balance, 5000);
  assert.equal(t.currency, 'eur');
  assert.equal(t.customer, cus.id);
  assert.deepEqual(t.funded.bank_transfer.reference, 'Invoice F79089B-155');
  assert.equal(t.funded.bank_transfer.type, 'eu_bank_transfer');
  assertStripeShape(t, 'customer_cash_balance_transaction');

  const t2 = await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 700, currency: 'eur' },
    { idempotencyKey: `fund-${cus.id}` });
  assert.equal(t2.ending_balance, 5700);
  assert.equal(t2.funded.bank_transfer.reference, null);
  const replay = await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 700, currency: 'eur' },
    { idempotencyKey: `fund-${cus.id}` });
  assert.equal(replay.id, t2.id);
  const us = await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 1234, currency: 'usd' });
  assert.equal(us.funded.bank_transfer.type, 'us_bank_transfer');
  assert.equal(us.funded.bank_transfer.us_bank_transfer.network, 'ach');
  assert.equal(us.ending_balance, 1234);

  const cb = await stripe.customers.retrieveCashBalance(cus.id);
  assert.deepEqual(cb.available, { eur: 5700, usd: 1234 });
  assertStripeShape(cb, 'cash_balance');
  const c = await stripe.customers.retrieve(cus.id, { expand: ['cash_balance'] });
  assert.deepEqual(c.cash_balance, cb);
  assertStripeShape(c, 'customer');
  assert.equal((await stripe.customers.retrieve(cus.id)).cash_balance, undefined);

  // the money is the customer's, not the merchant's
  assert.deepEqual(await balanceOf(stripe, 'eur'), before);

  const ev = await eventsOf(stripe, t.id);
  assert.deepEqual(ev.map((e) => e.type), ['customer_cash_balance_transaction.created']);
  const funds = (await stripe.events.list({ type: 'cash_balance.funds_available', limit: 100 })).data
    .filter((e) => e.data.object.customer === cus.id).reverse();
  assert.equal(funds.length, 3);
  assert.deepEqual(funds[0].data.object.available, { eur: 5000 });
  assert.deepEqual(funds[2].data.object.available, { eur: 5700, usd: 1234 });

  // list (newest first) and retrieve
  const list = await stripe.customers.listCashBalanceTransactions(cus.id, { limit: 2 });
  assert.equal(list.object, 'list');
  assert.equal(list.url, `/v1/customers/${cus.id}/cash_balance_transactions`);
  assert.deepEqual(list.data.map((x) => x.id), [us.id, t2.id]);
  assert.equal(list.has_more, true);
  const rest = await stripe.customers.listCashBalanceTransactions(cus.id, { starting_after: t2.id });
  assert.deepEqual(rest.data.map((x) => x.id), [t.id]);
  for (const x of list.data) assertStripeShape(x, 'customer_cash_balance_transaction');
  const got = await stripe.customers.retrieveCashBalanceTransaction(cus.id, t.id);
  assert.deepEqual(got, t);
  const exp = await stripe.customers.retrieveCashBalanceTransaction(cus.id, t.id, { expand: ['customer'] });
  assert.equal(exp.customer.id, cus.id);
  const other = await stripe.customers.create({ name: 'Someone else' });
  await refused(stripe.customers.retrieveCashBalanceTransaction(other.id, t.id), 404, 'resource_missing');
  assert.deepEqual((await stripe.customers.listCashBalanceTransactions(other.id)).data, []);

  // refused: nothing moves
  await refused(stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 0, currency: 'eur' }), 400, undefined, 'amount');
  await refused(stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: -5, currency: 'eur' }), 400, undefined, 'amount');
  await refused(stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 100, currency: 'cad' }), 400, undefined, 'currency');
  await refused(stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 100 }), 400, 'parameter_missing', 'currency');
  await refused(stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 100, currency: 'eur', color: 'red' }), 400, 'parameter_unknown');
  await refused(stripe.testHelpers.customers.fundCashBalance('cus_nope', { amount: 100, currency: 'eur' }), 404, 'resource_missing');
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { eur: 5700, usd: 1234 });
  assert.equal((await stripe.customers.listCashBalanceTransactions(cus.id)).data.length, 3);

  // another merchant's key sees none of it
  const s2 = env.stripe(env.merchants[1].secret_key);
  await refused(s2.customers.retrieveCashBalance(cus.id), 404, 'resource_missing');
  await refused(s2.customers.listCashBalanceTransactions(cus.id), 404, 'resource_missing');
  await refused(s2.customers.retrieveCashBalanceTransaction(cus.id, t.id), 404, 'resource_missing');
  await refused(s2.testHelpers.customers.fundCashBalance(cus.id, { amount: 100, currency: 'eur' }), 404, 'resource_missing');
  await refused(s2.customers.createFundingInstructions(cus.id, {
    funding_type: 'bank_transfer', currency: 'jpy', bank_transfer: { type: 'jp_bank_transfer' },
  }), 404, 'resource_missing');

  // the journal holds the cash for the customer, and every invariant holds
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

// ---- PaymentIntents paid from the cash balance ----

const EU_NL = { funding_type: 'bank_transfer', bank_transfer: { type: 'eu_bank_transfer', eu_bank_transfer: { country: 'NL' } } };
const US = { funding_type: 'bank_transfer', bank_transfer: { type: 'us_bank_transfer' } };

function cashIntent(s, customer, amount, currency, options) {
  return s.paymentIntents.create({
    amount, currency, customer, payment_method_types: ['customer_balance'],
    payment_method_data: { type: 'customer_balance' },
    payment_method_options: { customer_balance: options }, confirm: true,
  });
}

async function txnsOf(s, customer) {
  return (await s.customers.listCashBalanceTransactions(customer, { limit: 100 })).data.reverse();
}

test('a customer_balance PaymentIntent covered by the cash balance succeeds at once; the merchant is paid from the cash', async () => {
  const cus = await stripe.customers.create({ name: 'Covered' });
  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 3000, currency: 'eur' });
  const before = await balanceOf(stripe, 'usd');
  const beforeEur = await balanceOf(stripe, 'eur');
  const pi = await cashIntent(stripe, cus.id, 2000, 'eur', EU_NL);
  assert.equal(pi.status, 'succeeded', JSON.stringify(pi.next_action));
  assert.equal(pi.amount_received, 2000);
  assert.deepEqual(pi.payment_method_types, ['customer_balance']);
  assert.deepEqual(pi.payment_method_options.customer_balance, {
    bank_transfer: { eu_bank_transfer: { country: 'NL' }, requested_address_types: ['iban'], type: 'eu_bank_transfer' },
    funding_type: 'bank_transfer',
  });
  assert.equal(pi.next_action, null);
  assertStripeShape(pi, 'payment_intent');
  const pm = await stripe.paymentMethods.retrieve(pi.payment_method);
  assert.equal(pm.type, 'customer_balance');
  assert.deepEqual(pm.customer_balance, {});
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.match(ch.id, /^py_/);
  assert.equal(ch.status, 'succeeded');
  assert.equal(ch.captured, true);
  assert.equal(ch.amount, 2000);
  assert.deepEqual(ch.payment_method_details, { customer_balance: {}, type: 'customer_balance' });
  assertStripeShape(ch, 'charge');
  // the cash left the customer's balance for the payment
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { eur: 1000 });
  const txns = await txnsOf(stripe, cus.id);
  assert.deepEqual(txns.map((t) => t.type), ['funded', 'applied_to_payment']);
  assert.equal(txns[1].net_amount, -2000);
  assert.equal(txns[1].ending_balance, 1000);
  assert.deepEqual(txns[1].applied_to_payment, { payment_intent: pi.id });
  assertStripeShape(txns[1], 'customer_cash_balance_transaction');
  // and only now did the merchant's balance move: the charge's net, pending (converted to its
  // settlement currency when it is not eur)
  const bt = await stripe.balanceTransactions.retrieve(ch.balance_transaction);
  assert.equal(bt.type, 'charge');
  assert.equal(bt.source, ch.id);
  // Stripe's bank transfer price (0.5 %, at most 5.00; src/ledger/ledger.c), and its 1 % for the
  // conversion of these eur into the usd the merchant settles in, each rounded half up: 20.00 eur
  // at 1.0823 (say) = 2165 cents → 10.825 → 11, + 21.65 → 22: 33
  assert.equal(bt.currency, 'usd');
  const pct = (bps) => Math.floor((bt.amount * bps + 5000) / 10000);
  assert.equal(bt.fee, Math.min(pct(50), 500) + pct(100));
  assert.equal(bt.net, bt.amount - bt.fee);
  assert.deepEqual(bt.fee_details, [{ amount: bt.fee, application: null, currency: 'usd', description: 'Stripe processing fees', type: 'stripe_fee' }]);
  const after = await balanceOf(stripe, bt.currency);
  const was = bt.currency === 'usd' ? before : beforeEur;
  assert.equal(after.pending, was.pending + bt.net);
  assert.equal(after.available, was.available);
  const ev = (await eventsOf(stripe, pi.id)).map((e) => e.type);
  assert.deepEqual(ev.filter((t) => t.startsWith('payment_intent.')), ['payment_intent.created', 'payment_intent.succeeded']);
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

test('not covered: the intent waits with the bank transfer instructions, is partially funded, then paid by transfers', async () => {
  const cus = await stripe.customers.create({ name: 'Waiting' });
  const pi = await cashIntent(stripe, cus.id, 5000, 'usd', US);
  assert.equal(pi.status, 'requires_action');
  const na = pi.next_action;
  assert.equal(na.type, 'display_bank_transfer_instructions');
  const d = na.display_bank_transfer_instructions;
  assert.equal(d.amount_remaining, 5000);
  assert.equal(d.currency, 'usd');
  assert.equal(d.type, 'us_bank_transfer');
  assert.match(d.reference, /^[A-Z2-9]{12}$/);
  assert.match(d.hosted_instructions_url, new RegExp(`^http://[^/]+/bank_transfer_instructions/${env.merchants[0].id}/${pi.id}/[^/]+$`));
  assert.equal(d.financial_addresses[0].type, 'aba');
  // the customer's own account, the one funding instructions give
  const fi = await stripe.customers.createFundingInstructions(cus.id, {
    funding_type: 'bank_transfer', currency: 'usd', bank_transfer: { type: 'us_bank_transfer' },
  });
  assert.deepEqual(d.financial_addresses, fi.bank_transfer.financial_addresses);

  const before = await balanceOf(stripe, 'usd');
  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 2000, currency: 'usd' });
  const part = await stripe.paymentIntents.retrieve(pi.id);
  assert.equal(part.status, 'requires_action');
  assert.equal(part.next_action.display_bank_transfer_instructions.amount_remaining, 3000);
  assert.equal(part.next_action.display_bank_transfer_instructions.reference, d.reference);
  assert.equal(part.amount_received, 0);
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { usd: 0 });
  assert.deepEqual(await balanceOf(stripe, 'usd'), before);

  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 4000, currency: 'usd', reference: d.reference });
  const done = await stripe.paymentIntents.retrieve(pi.id);
  assert.equal(done.status, 'succeeded');
  assert.equal(done.next_action, null);
  assert.equal(done.amount_received, 5000);
  assertStripeShape(done, 'payment_intent');
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { usd: 1000 });
  const txns = await txnsOf(stripe, cus.id);
  assert.deepEqual(txns.map((t) => [t.type, t.net_amount, t.ending_balance]), [
    ['funded', 2000, 2000], ['applied_to_payment', -2000, 0], ['funded', 4000, 4000], ['applied_to_payment', -3000, 1000],
  ]);
  const ch = await stripe.charges.retrieve(done.latest_charge);
  assert.equal(ch.amount, 5000);
  const bt = await stripe.balanceTransactions.retrieve(ch.balance_transaction);
  assert.equal((await balanceOf(stripe, 'usd')).pending, before.pending + bt.net);
  const ev = (await eventsOf(stripe, pi.id)).map((e) => e.type).filter((t) => t.startsWith('payment_intent.'));
  assert.deepEqual(ev, ['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.partially_funded', 'payment_intent.succeeded']);
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

test('a transfer naming a reference pays that intent first, then the oldest', async () => {
  const cus = await stripe.customers.create({ name: 'Two open' });
  const a = await cashIntent(stripe, cus.id, 1000, 'usd', US);
  const b = await cashIntent(stripe, cus.id, 1500, 'usd', US);
  const refB = b.next_action.display_bank_transfer_instructions.reference;
  assert.notEqual(refB, a.next_action.display_bank_transfer_instructions.reference);
  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 1500, currency: 'usd', reference: refB });
  assert.equal((await stripe.paymentIntents.retrieve(b.id)).status, 'succeeded');
  const stillA = await stripe.paymentIntents.retrieve(a.id);
  assert.equal(stillA.status, 'requires_action');
  assert.equal(stillA.next_action.display_bank_transfer_instructions.amount_remaining, 1000);
  // no reference: the oldest open one
  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 1200, currency: 'usd' });
  assert.equal((await stripe.paymentIntents.retrieve(a.id)).status, 'succeeded');
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { usd: 200 });
});

test('manual reconciliation: cash waits until apply_customer_balance; cancel gives applied cash back', async () => {
  const cus = await stripe.customers.create({ name: 'Manual' });
  await stripe.customers.updateCashBalance(cus.id, { settings: { reconciliation_mode: 'manual' } });
  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 10000, currency: 'eur' });
  const pi = await cashIntent(stripe, cus.id, 3000, 'eur', EU_NL);
  assert.equal(pi.status, 'requires_action');
  assert.equal(pi.next_action.display_bank_transfer_instructions.amount_remaining, 3000);
  const part = await stripe.paymentIntents.applyCustomerBalance(pi.id, { amount: 1000, currency: 'eur' });
  assert.equal(part.status, 'requires_action');
  assert.equal(part.next_action.display_bank_transfer_instructions.amount_remaining, 2000);
  assertStripeShape(part, 'payment_intent');
  await refused(stripe.paymentIntents.applyCustomerBalance(pi.id, { amount: 2001 }), 400, undefined, 'amount');
  await refused(stripe.paymentIntents.applyCustomerBalance(pi.id, { currency: 'usd' }), 400, undefined, 'currency');
  // a transfer is not applied by itself in manual mode
  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 5, currency: 'eur' });
  assert.equal((await stripe.paymentIntents.retrieve(pi.id)).next_action.display_bank_transfer_instructions.amount_remaining, 2000);
  const done = await stripe.paymentIntents.applyCustomerBalance(pi.id);
  assert.equal(done.status, 'succeeded');
  assert.equal(done.amount_received, 3000);
  await refused(stripe.paymentIntents.applyCustomerBalance(pi.id), 400, 'payment_intent_unexpected_state');
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { eur: 7005 });

  // cancel: what was applied comes back
  const pi2 = await cashIntent(stripe, cus.id, 4000, 'eur', EU_NL);
  await stripe.paymentIntents.applyCustomerBalance(pi2.id, { amount: 2500 });
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { eur: 4505 });
  const canceled = await stripe.paymentIntents.cancel(pi2.id);
  assert.equal(canceled.status, 'canceled');
  assert.equal(canceled.next_action, null);
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { eur: 7005 });
  const last = (await txnsOf(stripe, cus.id)).pop();
  assert.equal(last.type, 'unapplied_from_payment');
  assert.equal(last.net_amount, 2500);
  assert.deepEqual(last.unapplied_from_payment, { payment_intent: pi2.id });
  assertStripeShape(last, 'customer_cash_balance_transaction');
  await refused(stripe.paymentIntents.applyCustomerBalance(pi2.id), 400, 'payment_intent_unexpected_state');
  // a later transfer does not revive it
  await stripe.customers.updateCashBalance(cus.id, { settings: { reconciliation_mode: 'automatic' } });
  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 100, currency: 'eur' });
  assert.equal((await stripe.paymentIntents.retrieve(pi2.id)).status, 'canceled');
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

test('customer_balance intents refuse what they cannot be', async () => {
  const cus = await stripe.customers.create({ name: 'Refusals' });
  await refused(stripe.paymentIntents.create({
    amount: 1000, currency: 'usd', payment_method_types: ['customer_balance'],
    payment_method_data: { type: 'customer_balance' }, payment_method_options: { customer_balance: US }, confirm: true,
  }), 400, 'parameter_missing', 'customer');
  await refused(cashIntent(stripe, cus.id, 1000, 'eur', US), 400, undefined, 'payment_method_options[customer_balance][bank_transfer][type]');
  await refused(stripe.paymentIntents.create({
    amount: 1000, currency: 'usd', customer: cus.id, payment_method_types: ['customer_balance'],
    payment_method_data: { type: 'customer_balance' }, confirm: true,
  }), 400, 'parameter_missing', 'payment_method_options[customer_balance][funding_type]');
  await refused(cashIntent(stripe, cus.id, 1000, 'cad', US), 400);
  await refused(cashIntent(stripe, cus.id, 1000, 'usd', { funding_type: 'bank_transfer' }), 400,
    'parameter_missing', 'payment_method_options[customer_balance][bank_transfer][type]');
  // shown as Stripe shows it, also before any confirmation
  const open = await stripe.paymentIntents.create({
    amount: 1000, currency: 'jpy', customer: cus.id, payment_method_types: ['customer_balance'],
    payment_method_options: { customer_balance: { funding_type: 'bank_transfer', bank_transfer: { type: 'jp_bank_transfer', requested_address_types: ['zengin'] } } },
  });
  assert.deepEqual(open.payment_method_options.customer_balance, {
    bank_transfer: { requested_address_types: ['zengin'], type: 'jp_bank_transfer' }, funding_type: 'bank_transfer',
  });
  assertStripeShape(open, 'payment_intent');
  const jp = await stripe.paymentIntents.confirm(open.id, { payment_method_data: { type: 'customer_balance' } });
  assert.equal(jp.status, 'requires_action');
  assert.equal(jp.next_action.display_bank_transfer_instructions.type, 'jp_bank_transfer');
  assert.equal(jp.next_action.display_bank_transfer_instructions.financial_addresses[0].type, 'zengin');
  assertStripeShape(jp, 'payment_intent');
  const plain = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', customer: cus.id, payment_method_types: ['customer_balance'] });
  assert.deepEqual(plain.payment_method_options.customer_balance, { funding_type: null });
  assertStripeShape(plain, 'payment_intent');
  await refused(cashIntent(stripe, cus.id, 1000, 'eur', { funding_type: 'bank_transfer', bank_transfer: { type: 'eu_bank_transfer' } }), 400,
    'parameter_missing', 'payment_method_options[customer_balance][bank_transfer][eu_bank_transfer][country]');
  const card = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', customer: cus.id });
  await refused(stripe.paymentIntents.confirm(card.id, { payment_method_data: { type: 'customer_balance' } }), 400, undefined, 'payment_method');
  await refused(stripe.paymentIntents.applyCustomerBalance(card.id), 400, 'payment_intent_unexpected_state');
  await refused(stripe.paymentIntents.applyCustomerBalance('pi_nope'), 404, 'resource_missing');
  // another merchant cannot reach the intent
  const pi = await cashIntent(stripe, cus.id, 1000, 'usd', US);
  await refused(env.stripe(env.merchants[1].secret_key).paymentIntents.applyCustomerBalance(pi.id), 404, 'resource_missing');
  // a setup intent does not take it
  await refused(stripe.setupIntents.create({ customer: cus.id, payment_method_types: ['customer_balance'] }), 400);
  // while an intent waits for a transfer (cash may be applied to it), its amount, currency and
  // customer stay, and nothing else pays it
  const both = await stripe.paymentIntents.create({
    amount: 2000, currency: 'usd', customer: cus.id, payment_method_types: ['card', 'customer_balance'],
    payment_method_data: { type: 'customer_balance' }, payment_method_options: { customer_balance: US }, confirm: true,
  });
  assert.equal(both.status, 'requires_action');
  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 500, currency: 'usd', reference: both.next_action.display_bank_transfer_instructions.reference });
  await refused(stripe.paymentIntents.update(both.id, { amount: 100 }), 400, 'payment_intent_unexpected_state');
  await refused(stripe.paymentIntents.confirm(both.id, { payment_method: 'pm_card_visa' }), 400, 'payment_intent_unexpected_state');
  const same = await stripe.paymentIntents.update(both.id, { description: 'still waiting' });
  assert.equal(same.next_action.display_bank_transfer_instructions.amount_remaining, 1500);
  assert.equal((await stripe.paymentIntents.cancel(both.id)).status, 'canceled');
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { usd: 500 });
});

test('refunds of a customer_balance payment go back to the cash balance', async () => {
  const cus = await stripe.customers.create({ name: 'Refunded' });
  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 4000, currency: 'eur' });
  const pi = await cashIntent(stripe, cus.id, 4000, 'eur', EU_NL);
  assert.equal(pi.status, 'succeeded');
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  const chargeBt = await stripe.balanceTransactions.retrieve(ch.balance_transaction);
  const before = await balanceOf(stripe, chargeBt.currency);
  const re = await stripe.refunds.create({ payment_intent: pi.id, amount: 1500 });
  assert.equal(re.status, 'succeeded');
  assert.equal(re.amount, 1500);
  assertStripeShape(re, 'refund');
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { eur: 1500 });
  let last = (await txnsOf(stripe, cus.id)).pop();
  assert.equal(last.type, 'refunded_from_payment');
  assert.equal(last.net_amount, 1500);
  assert.equal(last.ending_balance, 1500);
  assert.deepEqual(last.refunded_from_payment, { refund: re.id });
  assertStripeShape(last, 'customer_cash_balance_transaction');
  // the merchant's balance gives it back at once (its refund balance transaction)
  const bt = await stripe.balanceTransactions.retrieve(re.balance_transaction);
  assert.equal(bt.type, 'refund');
  assert.equal(bt.source, re.id);
  const after = await balanceOf(stripe, bt.currency);
  assert.equal(after.available, before.available + bt.amount);
  // the rest, and no more
  const re2 = await stripe.refunds.create({ charge: ch.id });
  assert.equal(re2.amount, 2500);
  await refused(stripe.refunds.create({ charge: ch.id }), 400, 'charge_already_refunded');
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { eur: 4000 });
  const c = await stripe.charges.retrieve(ch.id);
  assert.equal(c.amount_refunded, 4000);
  assert.equal(c.refunded, true);
  // the refunded cash pays the customer's next payment
  const next = await cashIntent(stripe, cus.id, 1000, 'eur', EU_NL);
  assert.equal(next.status, 'succeeded');
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

test('a refund of the cash balance to the customer\'s bank: requires_action, the cash out at once; expired or canceled, it comes back', async () => {
  const cus = await stripe.customers.create({ name: 'Returned', email: 'returned@example.com' });
  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 5000, currency: 'eur' });
  const before = await balanceOf(stripe, 'eur');

  const re = await stripe.refunds.create({
    customer: cus.id, origin: 'customer_balance', amount: 2000, currency: 'eur',
    metadata: { ticket: '42' }, reason: 'requested_by_customer',
  }, { idempotencyKey: `cash-refund-${cus.id}` });
  assert.match(re.id, /^re_/);
  assert.equal(re.status, 'requires_action');
  assert.equal(re.amount, 2000);
  assert.equal(re.currency, 'eur');
  assert.equal(re.charge, null);
  assert.equal(re.payment_intent, null);
  assert.equal(re.balance_transaction, null);
  assert.equal(re.instructions_email, 'returned@example.com');
  assert.deepEqual(re.metadata, { ticket: '42' });
  assert.equal(re.next_action.type, 'display_details');
  assert.deepEqual(re.next_action.display_details.email_sent,
    { email_sent_at: re.created, email_sent_to: 'returned@example.com' });
  assert.equal(re.next_action.display_details.expires_at, re.created + 45 * 86400);
  assertStripeShape(re, 'refund');
  const replay = await stripe.refunds.create({
    customer: cus.id, origin: 'customer_balance', amount: 2000, currency: 'eur',
    metadata: { ticket: '42' }, reason: 'requested_by_customer',
  }, { idempotencyKey: `cash-refund-${cus.id}` });
  assert.equal(replay.id, re.id);
  assert.deepEqual(await stripe.refunds.retrieve(re.id), re);
  // its metadata changes; it still waits, and still expires
  const meta = await stripe.refunds.update(re.id, { metadata: { ticket: '43' } });
  assert.deepEqual(meta.metadata, { ticket: '43' });
  assert.deepEqual((await stripe.refunds.retrieve(re.id)).next_action, re.next_action);

  // the cash left the balance at once; the merchant's balance never held it
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { eur: 3000 });
  let last = (await txnsOf(stripe, cus.id)).pop();
  assert.equal(last.type, 'return_initiated');
  assert.equal(last.net_amount, -2000);
  assert.equal(last.ending_balance, 3000);
  assertStripeShape(last, 'customer_cash_balance_transaction');
  assert.deepEqual(await balanceOf(stripe, 'eur'), before);
  const created = (await stripe.events.list({ limit: 10 })).data.reverse();
  const mine = created.filter((e) => e.data.object.id === re.id || e.data.object.id === last.id).map((e) => e.type);
  assert.deepEqual(mine, ['refund.created', 'customer_cash_balance_transaction.created', 'refund.updated']);
  assertStripeShape(created.find((e) => e.type === 'refund.created').data.object, 'refund');
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);

  // listed: all refunds, not under a charge
  assert.ok((await stripe.refunds.list({ limit: 100 })).data.some((x) => x.id === re.id));

  // a second one, sent where the merchant says; the balance must cover it
  const re2 = await stripe.refunds.create({
    customer: cus.id, origin: 'customer_balance', amount: 3000, currency: 'eur', instructions_email: 'bank@example.org',
  });
  assert.equal(re2.next_action.display_details.email_sent.email_sent_to, 'bank@example.org');
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { eur: 0 });

  // refused: nothing changes
  const n = (await txnsOf(stripe, cus.id)).length;
  const nRefunds = (await stripe.refunds.list({ limit: 100 })).data.length;
  const base = { customer: cus.id, origin: 'customer_balance', amount: 1, currency: 'eur' };
  await refused(stripe.refunds.create(base), 400, 'amount_too_large', 'amount');
  await refused(stripe.refunds.create({ ...base, currency: 'usd' }), 400, 'amount_too_large', 'amount');
  await refused(stripe.refunds.create({ ...base, amount: 0 }), 400, undefined, 'amount');
  await refused(stripe.refunds.create({ customer: cus.id, origin: 'customer_balance', currency: 'eur' }), 400, 'parameter_missing', 'amount');
  await refused(stripe.refunds.create({ customer: cus.id, origin: 'customer_balance', amount: 1 }), 400, 'parameter_missing', 'currency');
  await refused(stripe.refunds.create({ origin: 'customer_balance', amount: 1, currency: 'eur' }), 400, 'parameter_missing', 'customer');
  await refused(stripe.refunds.create({ customer: cus.id, amount: 1, currency: 'eur' }), 400, 'parameter_missing', 'origin');
  await refused(stripe.refunds.create({ ...base, origin: 'card' }), 400, undefined, 'origin');
  await refused(stripe.refunds.create({ ...base, charge: 'ch_nope' }), 400, undefined, 'charge');
  await refused(stripe.refunds.create({ ...base, color: 'red' }), 400, 'parameter_unknown');
  await refused(stripe.refunds.create({ ...base, customer: 'cus_nope' }), 404, 'resource_missing', 'customer');
  const noEmail = await stripe.customers.create({ name: 'No email' });
  await stripe.testHelpers.customers.fundCashBalance(noEmail.id, { amount: 100, currency: 'eur' });
  await refused(stripe.refunds.create({ ...base, customer: noEmail.id }), 400, 'parameter_missing', 'instructions_email');
  assert.deepEqual((await stripe.customers.retrieveCashBalance(noEmail.id)).available, { eur: 100 });
  const s2 = env.stripe(env.merchants[1].secret_key);
  await refused(s2.refunds.create(base), 404, 'resource_missing', 'customer');
  await refused(s2.refunds.retrieve(re.id), 404, 'resource_missing');
  await refused(s2.testHelpers.refunds.expire(re.id), 404, 'resource_missing');
  assert.equal((await txnsOf(stripe, cus.id)).length, n);
  assert.equal((await stripe.refunds.list({ limit: 100 })).data.length, nRefunds);

  // expired (Stripe's test helper, as when its 45 days pass): canceled, the cash back
  const exp = await stripe.testHelpers.refunds.expire(re.id);
  assert.equal(exp.status, 'canceled');
  assert.equal(exp.next_action, undefined);
  assertStripeShape(exp, 'refund');
  assert.deepEqual(await stripe.refunds.retrieve(re.id), exp);
  last = (await txnsOf(stripe, cus.id)).pop();
  assert.equal(last.type, 'return_canceled');
  assert.equal(last.net_amount, 2000);
  assert.equal(last.ending_balance, 2000);
  assertStripeShape(last, 'customer_cash_balance_transaction');
  const upd = (await stripe.events.list({ type: 'refund.updated', limit: 1 })).data[0];
  assert.equal(upd.data.object.id, re.id);
  assert.equal(upd.data.object.status, 'canceled');
  await refused(stripe.testHelpers.refunds.expire(re.id), 400, undefined);
  await refused(stripe.refunds.cancel(re.id), 400, undefined);

  // canceled by the merchant: the same
  const can = await stripe.refunds.cancel(re2.id);
  assert.equal(can.status, 'canceled');
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { eur: 5000 });
  assert.deepEqual((await txnsOf(stripe, cus.id)).map((x) => x.type),
    ['funded', 'return_initiated', 'return_initiated', 'return_canceled', 'return_canceled']);
  assert.deepEqual(await balanceOf(stripe, 'eur'), before);
  // the cash is the customer's again: it pays their next payment
  const next = await cashIntent(stripe, cus.id, 5000, 'eur', EU_NL);
  assert.equal(next.status, 'succeeded');
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

test('a refund of a bank transfer payment with instructions_email goes to the customer\'s bank; expired, to the cash balance', async () => {
  const cus = await stripe.customers.create({ name: 'Bank refund', email: 'payer@example.com' });
  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 4000, currency: 'eur' });
  const pi = await cashIntent(stripe, cus.id, 4000, 'eur', EU_NL);
  assert.equal(pi.status, 'succeeded');
  const before = await balanceOf(stripe, (await stripe.balanceTransactions.retrieve(
    (await stripe.charges.retrieve(pi.latest_charge)).balance_transaction)).currency);
  const nTxns = (await txnsOf(stripe, cus.id)).length;

  const re = await stripe.refunds.create({ payment_intent: pi.id, amount: 1500, instructions_email: 'payer-bank@example.com' },
    { idempotencyKey: `bank-refund-${pi.id}` });
  assert.equal(re.status, 'requires_action');
  assert.equal(re.charge, pi.latest_charge);
  assert.equal(re.payment_intent, pi.id);
  assert.equal(re.instructions_email, 'payer-bank@example.com');
  assert.equal(re.next_action.type, 'display_details');
  assert.deepEqual(re.next_action.display_details,
    { email_sent: { email_sent_at: re.created, email_sent_to: 'payer-bank@example.com' }, expires_at: re.created + 45 * 86400 });
  assertStripeShape(re, 'refund');
  const replay = await stripe.refunds.create({ payment_intent: pi.id, amount: 1500, instructions_email: 'payer-bank@example.com' },
    { idempotencyKey: `bank-refund-${pi.id}` });
  assert.equal(replay.id, re.id);
  // the merchant gives it back now, as any refund; the cash balance does not move
  const bt = await stripe.balanceTransactions.retrieve(re.balance_transaction);
  assert.equal(bt.type, 'refund');
  assert.equal(bt.source, re.id);
  assert.equal((await balanceOf(stripe, bt.currency)).available, before.available + bt.amount);
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { eur: 0 });
  assert.equal((await txnsOf(stripe, cus.id)).length, nTxns);
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(ch.amount_refunded, 1500);
  assert.deepEqual((await stripe.refunds.list({ payment_intent: pi.id })).data.map((x) => x.id), [re.id]);
  assert.deepEqual((await stripe.refunds.list({ charge: ch.id })).data.map((x) => x.id), [re.id]);
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);

  // without instructions_email the rest goes back to the cash balance, as before
  const re2 = await stripe.refunds.create({ charge: ch.id, amount: 500 });
  assert.equal(re2.status, 'succeeded');
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { eur: 500 });

  // expired: canceled, the money goes to the customer's cash balance, not back to the merchant
  const afterRefunds = await balanceOf(stripe, bt.currency);
  const exp = await stripe.testHelpers.refunds.expire(re.id);
  assert.equal(exp.status, 'canceled');
  assertStripeShape(exp, 'refund');
  const last = (await txnsOf(stripe, cus.id)).pop();
  assert.equal(last.type, 'return_canceled');
  assert.equal(last.net_amount, 1500);
  assert.equal(last.ending_balance, 2000);
  assertStripeShape(last, 'customer_cash_balance_transaction');
  assert.deepEqual(await balanceOf(stripe, bt.currency), afterRefunds);
  assert.equal((await stripe.charges.retrieve(ch.id)).amount_refunded, 2000);
  assert.equal((await stripe.refunds.retrieve(re.id)).failure_balance_transaction, undefined);
  await refused(stripe.testHelpers.refunds.expire(re2.id), 400, undefined);
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

// ---- invoices and subscriptions paid by bank transfer ----

const { billingShape, clockAdvance } = require('./billing_helpers');
const DAY = 86400;

async function invoiceIntent(s, inv) {
  const full = await s.invoices.retrieve(inv.id, { expand: ['payments'] });
  assert.equal(full.payments.data.length, 1);
  return s.paymentIntents.retrieve(full.payments.data[0].payment.payment_intent);
}

async function sendInvoice(s, customer, amount, currency, settings) {
  await s.invoiceItems.create({ customer, amount, currency });
  const draft = await s.invoices.create({
    customer, currency, collection_method: 'send_invoice', days_until_due: 30,
    pending_invoice_items_behavior: 'include', payment_settings: settings,
  });
  return s.invoices.finalizeInvoice(draft.id);
}

const CASH_EU = {
  payment_method_types: ['customer_balance'],
  payment_method_options: {
    customer_balance: { funding_type: 'bank_transfer', bank_transfer: { type: 'eu_bank_transfer', eu_bank_transfer: { country: 'NL' } } },
  },
};

test('a send_invoice invoice paid by bank transfer: waits whole (never partly funded), paid when the transfers cover it', async () => {
  const cus = await stripe.customers.create({ name: 'Invoiced', email: 'inv@example.com' });
  const inv = await sendInvoice(stripe, cus.id, 5000, 'eur', CASH_EU);
  assert.equal(inv.status, 'open');
  assert.deepEqual(inv.payment_settings.payment_method_types, ['customer_balance']);
  assert.deepEqual(inv.payment_settings.payment_method_options.customer_balance, {
    bank_transfer: { eu_bank_transfer: { country: 'NL' }, type: 'eu_bank_transfer' }, funding_type: 'bank_transfer',
  });
  billingShape(inv, 'invoice');
  const pi = await invoiceIntent(stripe, inv);
  assert.equal(pi.status, 'requires_action');
  assert.equal(pi.amount, 5000);
  assert.equal(pi.customer, cus.id);
  assert.deepEqual(pi.payment_method_types, ['customer_balance']);
  const d = pi.next_action.display_bank_transfer_instructions;
  assert.equal(d.amount_remaining, 5000);
  assert.equal(d.type, 'eu_bank_transfer');
  assert.match(d.financial_addresses[0].iban.iban, /^NL\d{2}TNDR\d{10}$/);
  assertStripeShape(pi, 'payment_intent');
  const pm = await stripe.paymentMethods.retrieve(pi.payment_method);
  assert.equal(pm.type, 'customer_balance');

  // 3000 does not cover it: Stripe does not fund an invoice partly, the cash stays the customer's
  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 3000, currency: 'eur' });
  const still = await stripe.paymentIntents.retrieve(pi.id);
  assert.equal(still.status, 'requires_action');
  assert.equal(still.next_action.display_bank_transfer_instructions.amount_remaining, 5000);
  assert.equal((await stripe.invoices.retrieve(inv.id)).status, 'open');
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { eur: 3000 });
  // a hand application of part of it is refused too (and changes nothing)
  await refused(stripe.paymentIntents.applyCustomerBalance(pi.id, { amount: 1000 }), 400, undefined, 'amount');
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { eur: 3000 });

  const before = await balanceOf(stripe, 'eur');
  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 2500, currency: 'eur', reference: d.reference });
  const paid = await stripe.invoices.retrieve(inv.id);
  assert.equal(paid.status, 'paid');
  assert.equal(paid.amount_paid, 5000);
  assert.equal(paid.amount_remaining, 0);
  billingShape(paid, 'invoice');
  const done = await stripe.paymentIntents.retrieve(pi.id);
  assert.equal(done.status, 'succeeded');
  assertStripeShape(done, 'payment_intent');
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { eur: 500 });
  const ch = await stripe.charges.retrieve(done.latest_charge);
  assert.match(ch.id, /^py_/);
  assert.equal(ch.payment_method_details.type, 'customer_balance');
  const bt = await stripe.balanceTransactions.retrieve(ch.balance_transaction);
  if (bt.currency === 'eur') assert.equal((await balanceOf(stripe, 'eur')).pending, before.pending + bt.net);
  const evs = (await stripe.events.list({ limit: 100 })).data.filter((e) => e.data.object.id === inv.id).map((e) => e.type).reverse();
  assert.deepEqual(evs.slice(-2), ['invoice.paid', 'invoice.payment_succeeded']);
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);

  // another merchant sees none of it
  const other = env.stripe(env.merchants[1].secret_key);
  await refused(other.invoices.retrieve(inv.id), 404);
  await refused(other.paymentIntents.retrieve(pi.id), 404);
});

test('an invoice the cash balance covers is paid at finalization; voiding a waiting one cancels its intent', async () => {
  const cus = await stripe.customers.create({ name: 'Prepaid' });
  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 4000, currency: 'usd' });
  const inv = await sendInvoice(stripe, cus.id, 2500, 'usd', { payment_method_types: ['customer_balance'] });
  assert.equal(inv.status, 'paid');
  assert.equal(inv.amount_paid, 2500);
  billingShape(inv, 'invoice');
  const pi = await invoiceIntent(stripe, inv);
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.payment_method_options.customer_balance.bank_transfer.type, 'us_bank_transfer');
  assertStripeShape(pi, 'payment_intent');
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { usd: 1500 });

  // not covered, then voided: the intent waits no more, later cash stays on the balance
  const open = await sendInvoice(stripe, cus.id, 9000, 'usd', { payment_method_types: ['customer_balance'] });
  assert.equal(open.status, 'open');
  const waiting = await invoiceIntent(stripe, open);
  assert.equal(waiting.status, 'requires_action');
  await refused(stripe.paymentIntents.cancel(waiting.id), 400);
  const voided = await stripe.invoices.voidInvoice(open.id);
  assert.equal(voided.status, 'void');
  assert.equal((await stripe.paymentIntents.retrieve(waiting.id)).status, 'canceled');
  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 9000, currency: 'usd' });
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { usd: 10500 });

  // an invoice that also takes cards, paid by card while it waits: its transfer intent is
  // abandoned in the payment's write, a later transfer stays on the balance
  const both = await sendInvoice(stripe, cus.id, 20000, 'usd', { payment_method_types: ['card', 'customer_balance'] });
  const bothPi = await invoiceIntent(stripe, both);
  assert.equal(bothPi.status, 'requires_action');
  const byCard = await stripe.invoices.pay(both.id, { payment_method: 'pm_card_visa' });
  assert.equal(byCard.status, 'paid');
  const abandoned = await stripe.paymentIntents.retrieve(bothPi.id);
  assert.equal(abandoned.status, 'canceled');
  assert.equal(abandoned.cancellation_reason, 'abandoned');
  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 20000, currency: 'usd' });
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { usd: 30500 });
  assert.equal((await stripe.invoices.retrieve(both.id)).amount_paid, 20000);

  // a credit note lowers what a waiting invoice asks for: its intent is made again for the rest
  const cus2 = await stripe.customers.create({ name: 'Credited' });
  const credited = await sendInvoice(stripe, cus2.id, 5000, 'usd', { payment_method_types: ['customer_balance'] });
  const firstPi = await invoiceIntent(stripe, credited);
  const cn = await stripe.creditNotes.create({ invoice: credited.id, amount: 1500 });
  assert.equal(cn.pre_payment_amount, 1500);
  assert.equal((await stripe.paymentIntents.retrieve(firstPi.id)).status, 'canceled');
  const lowered = await stripe.invoices.retrieve(credited.id);
  assert.equal(lowered.amount_remaining, 3500);
  const nextPi = await invoiceIntent(stripe, lowered);
  assert.notEqual(nextPi.id, firstPi.id);
  assert.equal(nextPi.status, 'requires_action');
  assert.equal(nextPi.next_action.display_bank_transfer_instructions.amount_remaining, 3500);
  await stripe.testHelpers.customers.fundCashBalance(cus2.id, { amount: 3500, currency: 'usd' });
  assert.equal((await stripe.invoices.retrieve(credited.id)).status, 'paid');
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus2.id)).available, { usd: 0 });

  // refused input changes nothing
  await stripe.invoiceItems.create({ customer: cus.id, amount: 100, currency: 'eur' });
  await refused(stripe.invoices.create({
    customer: cus.id, currency: 'eur', collection_method: 'send_invoice', days_until_due: 3,
    payment_settings: { payment_method_types: ['customer_balance'] },
  }), 400, 'parameter_missing', 'payment_settings[payment_method_options][customer_balance][bank_transfer][eu_bank_transfer][country]');
  await refused(stripe.invoices.create({
    customer: cus.id, currency: 'eur', collection_method: 'send_invoice', days_until_due: 3,
    payment_settings: { payment_method_types: ['customer_balance'], payment_method_options: { customer_balance: { funding_type: 'bank_transfer', bank_transfer: { type: 'us_bank_transfer' } } } },
  }), 400, undefined, 'payment_settings[payment_method_options][customer_balance][bank_transfer][type]');
  await refused(stripe.invoices.create({
    customer: cus.id, currency: 'eur', payment_settings: { payment_method_options: { customer_balance: { color: 'red' } } },
  }), 400, 'parameter_unknown');
  // charge_automatically: paid from the cash balance, never charged, so customer_balance is
  // its only type
  await refused(stripe.invoices.create({
    customer: cus.id, currency: 'usd', payment_settings: { payment_method_types: ['card', 'customer_balance'] },
  }), 400, undefined, 'payment_settings[payment_method_types]');
  const draft = await stripe.invoices.create({
    customer: cus.id, currency: 'usd', collection_method: 'send_invoice', days_until_due: 3,
    payment_settings: { payment_method_types: ['card', 'customer_balance'] },
  });
  await refused(stripe.invoices.update(draft.id, { collection_method: 'charge_automatically' }), 400,
    undefined, 'payment_settings[payment_method_types]');
  assert.equal((await stripe.invoices.retrieve(draft.id)).collection_method, 'send_invoice');
  const price = await stripe.prices.create({ currency: 'usd', unit_amount: 100, recurring: { interval: 'month' }, product_data: { name: 'P' } });
  const subsBefore = (await stripe.subscriptions.list({ customer: cus.id, status: 'all' })).data.length;
  await refused(stripe.subscriptions.create({
    customer: cus.id, items: [{ price: price.id }], payment_settings: { payment_method_types: ['card', 'customer_balance'] },
  }), 400, undefined, 'payment_settings[payment_method_types]');
  assert.equal((await stripe.subscriptions.list({ customer: cus.id, status: 'all' })).data.length, subsBefore);
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

test('a send_invoice subscription paid by bank transfer: its first invoice and its renewals', async () => {
  const T0 = Math.floor(Date.UTC(2031, 0, 1) / 1000);
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
  const cus = await stripe.customers.create({ name: 'Subscriber', test_clock: clock.id });
  const price = await stripe.prices.create({ currency: 'eur', unit_amount: 3000, recurring: { interval: 'month' }, product_data: { name: 'Plan' } });
  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 4000, currency: 'eur' });
  const sub = await stripe.subscriptions.create({
    customer: cus.id, items: [{ price: price.id }], collection_method: 'send_invoice', days_until_due: 10,
    payment_settings: CASH_EU, expand: ['latest_invoice'],
  });
  assert.equal(sub.status, 'active');
  assert.deepEqual(sub.payment_settings.payment_method_types, ['customer_balance']);
  assert.equal(sub.payment_settings.payment_method_options.customer_balance.bank_transfer.type, 'eu_bank_transfer');
  billingShape(await stripe.subscriptions.retrieve(sub.id), 'subscription');
  assert.equal(sub.latest_invoice.status, 'paid'); // the cash covered it
  assert.deepEqual(sub.latest_invoice.payment_settings.payment_method_options, sub.payment_settings.payment_method_options);
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { eur: 1000 });

  // the renewal: 1000 does not cover 3000, it waits; a transfer pays it
  const periodEnd = sub.items.data[0].current_period_end;
  await clockAdvance(stripe, clock, periodEnd + 2 * 3600);
  const renewed = await stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
  const inv2 = renewed.latest_invoice;
  assert.notEqual(inv2.id, sub.latest_invoice.id);
  assert.equal(inv2.status, 'open');
  assert.equal(renewed.status, 'active');
  const pi2 = await invoiceIntent(stripe, inv2);
  assert.equal(pi2.status, 'requires_action');
  assert.equal(pi2.next_action.display_bank_transfer_instructions.amount_remaining, 3000);
  // made by the scheduler, its page on Tender's own host as well
  const hosted = new URL(pi2.next_action.display_bank_transfer_instructions.hosted_instructions_url);
  assert.equal(hosted.host, new URL(inv2.hosted_invoice_url).host);
  assert.equal((await fetch(hosted)).status, 200);
  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 2000, currency: 'eur' });
  const paid2 = await stripe.invoices.retrieve(inv2.id);
  assert.equal(paid2.status, 'paid');
  billingShape(paid2, 'invoice');
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { eur: 0 });
  const again = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(again.status, 'active');
  billingShape(again, 'subscription');

  // a change invoiced at once: its invoice waits for a transfer too, then is paid by one
  const changed = await stripe.subscriptions.update(sub.id, {
    items: [{ id: sub.items.data[0].id, quantity: 2 }], proration_behavior: 'always_invoice', expand: ['latest_invoice'],
  });
  const inv3 = changed.latest_invoice;
  assert.equal(inv3.billing_reason, 'subscription_update');
  assert.equal(inv3.status, 'open');
  assert.ok(inv3.amount_due > 0);
  const pi3 = await invoiceIntent(stripe, inv3);
  assert.equal(pi3.status, 'requires_action');
  assert.equal(pi3.next_action.display_bank_transfer_instructions.amount_remaining, inv3.amount_due);
  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: inv3.amount_due, currency: 'eur' });
  assert.equal((await stripe.invoices.retrieve(inv3.id)).status, 'paid');
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'active');
  // the cash there already covers the next change's invoice: paid in the change's own write
  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 10000, currency: 'eur' });
  const changed2 = await stripe.subscriptions.update(sub.id, {
    items: [{ id: sub.items.data[0].id, quantity: 3 }], proration_behavior: 'always_invoice', expand: ['latest_invoice'],
  });
  assert.equal(changed2.latest_invoice.status, 'paid');
  assert.equal(changed2.status, 'active');
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { eur: 10000 - changed2.latest_invoice.amount_paid });
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

test('a charge_automatically invoice paid by bank transfer: paid at finalization when covered, else its intent waits (never retried) until a transfer pays it', async () => {
  const cus = await stripe.customers.create({ name: 'Auto Cash', email: 'auto@example.com' });
  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 1200, currency: 'eur' });
  const auto = async (amount) => {
    await stripe.invoiceItems.create({ customer: cus.id, amount, currency: 'eur' });
    const d = await stripe.invoices.create({
      customer: cus.id, currency: 'eur', pending_invoice_items_behavior: 'include',
      payment_settings: CASH_EU,
    });
    assert.equal(d.collection_method, 'charge_automatically');
    return stripe.invoices.finalizeInvoice(d.id);
  };
  const covered = await auto(1000);
  assert.equal(covered.status, 'paid');
  assert.equal(covered.amount_paid, 1000);
  billingShape(covered, 'invoice');
  const paidPi = await invoiceIntent(stripe, covered);
  assert.equal(paidPi.status, 'succeeded');
  assert.deepEqual(paidPi.payment_method_types, ['customer_balance']);
  assertStripeShape(paidPi, 'payment_intent');
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { eur: 200 });

  // not covered: open, its attempt counted, no next attempt (only a transfer pays it)
  const open = await auto(3000);
  assert.equal(open.status, 'open');
  assert.equal(open.attempted, true);
  assert.equal(open.attempt_count, 1);
  assert.equal(open.next_payment_attempt, null);
  assert.equal(open.amount_paid, 0);
  billingShape(open, 'invoice');
  const pi = await invoiceIntent(stripe, open);
  assert.equal(pi.status, 'requires_action');
  const d = pi.next_action.display_bank_transfer_instructions;
  assert.equal(d.amount_remaining, 3000);
  assert.equal(d.type, 'eu_bank_transfer');
  assertStripeShape(pi, 'payment_intent');
  let evs = (await stripe.events.list({ limit: 100 })).data.filter((e) => e.data.object.id === open.id).map((e) => e.type).reverse();
  assert.deepEqual(evs.filter((t) => t !== 'invoice.created' && t !== 'invoice.updated'), ['invoice.finalized', 'invoice.payment_action_required']);
  // nothing charges it by card: pay without a payment method, or with a card, is refused
  await refused(stripe.invoices.pay(open.id, { payment_method: 'pm_card_visa' }), 400, undefined, 'payment_method');
  assert.equal((await stripe.paymentIntents.retrieve(pi.id)).status, 'requires_action');
  // the cash (200 + 2000) does not cover it whole: it stays on the balance
  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 2000, currency: 'eur' });
  assert.equal((await stripe.invoices.retrieve(open.id)).status, 'open');
  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 900, currency: 'eur', reference: d.reference });
  const paid = await stripe.invoices.retrieve(open.id);
  assert.equal(paid.status, 'paid');
  assert.equal(paid.amount_paid, 3000);
  billingShape(paid, 'invoice');
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { eur: 100 });
  evs = (await stripe.events.list({ limit: 100 })).data.filter((e) => e.data.object.id === open.id).map((e) => e.type).reverse();
  assert.deepEqual(evs.slice(-2), ['invoice.paid', 'invoice.payment_succeeded']);
  assert.ok(!evs.includes('invoice.payment_failed'));
  const txns = await txnsOf(stripe, cus.id);
  const byType = (type) => txns.filter((t) => t.type === type).map((t) => t.net_amount).sort((x, y) => x - y);
  assert.deepEqual(byType('funded'), [900, 1200, 2000]);
  assert.deepEqual(byType('applied_to_payment'), [-3000, -1000]);
  assert.equal(txns.length, 5);
  const applied = txns.find((t) => t.net_amount === -3000);
  assert.equal(applied.applied_to_payment.payment_intent, pi.id);
  assertStripeShape(applied, 'customer_cash_balance_transaction');
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
  const other = env.stripe(env.merchants[1].secret_key);
  await refused(other.invoices.retrieve(open.id), 404);
  await refused(other.paymentIntents.retrieve(pi.id), 404);
});

test('a charge_automatically subscription paid by bank transfer: incomplete until funded, renewals wait past_due without dunning, the final invoice at cancellation', async () => {
  const T0 = Math.floor(Date.UTC(2032, 0, 1) / 1000);
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
  const cus = await stripe.customers.create({ name: 'Auto Subscriber', test_clock: clock.id });
  const price = await stripe.prices.create({ currency: 'eur', unit_amount: 3000, recurring: { interval: 'month' }, product_data: { name: 'Plan' } });
  // no card anywhere: the first invoice waits for a transfer, the subscription is incomplete
  const sub = await stripe.subscriptions.create({
    customer: cus.id, items: [{ price: price.id }], payment_settings: CASH_EU, expand: ['latest_invoice'],
  });
  assert.equal(sub.collection_method, 'charge_automatically');
  assert.equal(sub.status, 'incomplete');
  assert.deepEqual(sub.payment_settings.payment_method_types, ['customer_balance']);
  billingShape(await stripe.subscriptions.retrieve(sub.id), 'subscription');
  const inv1 = sub.latest_invoice;
  assert.equal(inv1.status, 'open');
  assert.equal(inv1.next_payment_attempt, null);
  const pi1 = await invoiceIntent(stripe, inv1);
  assert.equal(pi1.status, 'requires_action');
  assert.equal(pi1.next_action.display_bank_transfer_instructions.amount_remaining, 3000);
  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 3500, currency: 'eur' });
  assert.equal((await stripe.invoices.retrieve(inv1.id)).status, 'paid');
  const active = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(active.status, 'active');
  billingShape(active, 'subscription');
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { eur: 500 });

  // the renewal: 500 does not cover it; the subscription is past_due, and weeks later (past
  // any retry schedule) the invoice still waits, neither failed nor canceled by dunning
  const periodEnd = active.items.data[0].current_period_end;
  await clockAdvance(stripe, clock, periodEnd + 2 * 3600);
  const renewed = await stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
  const inv2 = renewed.latest_invoice;
  assert.notEqual(inv2.id, inv1.id);
  assert.equal(inv2.status, 'open');
  assert.equal(inv2.next_payment_attempt, null);
  assert.equal(renewed.status, 'past_due');
  const pi2 = await invoiceIntent(stripe, inv2);
  assert.equal(pi2.status, 'requires_action');
  await clockAdvance(stripe, clock, periodEnd + 25 * DAY);
  const waited = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(waited.status, 'past_due');
  assert.equal((await stripe.invoices.retrieve(inv2.id)).status, 'open');
  assert.equal((await stripe.paymentIntents.retrieve(pi2.id)).status, 'requires_action');
  const inv2evs = (await stripe.events.list({ limit: 100 })).data.filter((e) => e.data.object.id === inv2.id).map((e) => e.type);
  assert.ok(!inv2evs.includes('invoice.payment_failed'));
  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 2500, currency: 'eur' });
  const paid2 = await stripe.invoices.retrieve(inv2.id);
  assert.equal(paid2.status, 'paid');
  billingShape(paid2, 'invoice');
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'active');
  assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { eur: 0 });

  // canceled with invoice_now: the final invoice (a pending item) waits for a transfer too
  await stripe.invoiceItems.create({ customer: cus.id, amount: 1500, currency: 'eur' });
  const canceled = await stripe.subscriptions.cancel(sub.id, { invoice_now: true, prorate: false });
  assert.equal(canceled.status, 'canceled');
  const fin = await stripe.invoices.retrieve(canceled.latest_invoice);
  assert.notEqual(fin.id, inv2.id);
  assert.equal(fin.status, 'open');
  assert.equal(fin.amount_due, 1500);
  const pi3 = await invoiceIntent(stripe, fin);
  assert.equal(pi3.status, 'requires_action');
  await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 1500, currency: 'eur' });
  assert.equal((await stripe.invoices.retrieve(fin.id)).status, 'paid');
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'canceled');

  // never funded: an incomplete one expires as any (its invoice voided, its intent canceled)
  const cus2 = await stripe.customers.create({ name: 'Never Funded', test_clock: clock.id });
  const sub2 = await stripe.subscriptions.create({ customer: cus2.id, items: [{ price: price.id }], payment_settings: CASH_EU });
  assert.equal(sub2.status, 'incomplete');
  const now = (await stripe.testHelpers.testClocks.retrieve(clock.id)).frozen_time;
  await clockAdvance(stripe, clock, now + DAY);
  const expired = await stripe.subscriptions.retrieve(sub2.id, { expand: ['latest_invoice'] });
  assert.equal(expired.status, 'incomplete_expired');
  assert.equal(expired.latest_invoice.status, 'void');
  assert.equal((await invoiceIntent(stripe, expired.latest_invoice)).status, 'canceled');
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

test('the hosted instructions page: the amount remaining, the reference, the bank details; GET only; a wrong link is a 404; the invoice page shows them', async () => {
  const browser = await launchChromium();
  try {
    const cus = await stripe.customers.create({ name: 'Page Reader' });
    const pi = await cashIntent(stripe, cus.id, 5000, 'usd', US);
    const d = pi.next_action.display_bank_transfer_instructions;
    const url = d.hosted_instructions_url;
    const page = await browser.newPage();
    const res = await page.goto(url);
    assert.equal(res.status(), 200);
    assert.match(res.headers()['content-security-policy'], /default-src 'none'/);
    assert.equal(await page.locator('script').count(), 0);
    assert.equal((await page.textContent('#amount_remaining')).trim(), '50.00 USD');
    assert.equal((await page.textContent('#reference')).trim(), d.reference);
    const aba = d.financial_addresses[0].aba;
    assert.equal((await page.textContent('#account_number')).trim(), aba.account_number);
    assert.equal((await page.textContent('#routing_number')).trim(), aba.routing_number);
    assert.equal((await page.textContent('#business')).trim(), 'Merchant 0');

    // partly funded: the page follows the intent
    await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 2000, currency: 'usd' });
    await page.goto(url);
    assert.equal((await page.textContent('#amount_remaining')).trim(), '30.00 USD');

    // a wrong secret, another merchant's path, a POST: 404s that change nothing
    const wrong = url.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    assert.equal((await fetch(wrong)).status, 404);
    assert.equal((await fetch(url.replace(env.merchants[0].id, env.merchants[1].id))).status, 404);
    const posted = await fetch(url, { method: 'POST', body: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.notEqual(posted.status, 200);
    const same = await stripe.paymentIntents.retrieve(pi.id);
    assert.equal(same.status, 'requires_action');
    assert.equal(same.next_action.display_bank_transfer_instructions.amount_remaining, 3000);

    // paid: the page says so
    await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 3000, currency: 'usd', reference: d.reference });
    await page.goto(url);
    assert.match(await page.textContent('#done'), /complete/);

    // the hosted invoice page of an invoice waiting for a bank transfer: its instructions, no card form
    const inv = await sendInvoice(stripe, cus.id, 7000, 'eur', CASH_EU);
    assert.equal(inv.status, 'open');
    const ipi = await invoiceIntent(stripe, inv);
    const id = ipi.next_action.display_bank_transfer_instructions;
    const ipage = await browser.newPage();
    const ires = await ipage.goto(inv.hosted_invoice_url);
    assert.equal(ires.status(), 200);
    assert.equal((await ipage.textContent('#amount_remaining')).trim(), '70.00 EUR');
    assert.equal((await ipage.textContent('#reference')).trim(), id.reference);
    assert.equal((await ipage.textContent('#iban')).trim(), id.financial_addresses[0].iban.iban);
    assert.equal(await ipage.locator('#number').count(), 0);
    assert.equal(await ipage.locator('script').count(), 0);
    assert.equal((await stripe.invoices.retrieve(inv.id)).status, 'open');
  } finally {
    await browser.close();
  }
});

test('Checkout paid by bank transfer: the session completes unpaid, the buyer sees the instructions, the transfer pays it (async_payment_succeeded); canceled, async_payment_failed', async () => {
  const shop = await startShop(); // the merchant's site, where success_url leads
  const shopPort = shop.address().port;
  const cus = await stripe.customers.create({ name: 'Checkout Buyer', email: 'buyer@example.com' });
  const price = await stripe.prices.create({ currency: 'eur', unit_amount: 2500, product_data: { name: 'Lamp' } });
  const pmo = { customer_balance: { funding_type: 'bank_transfer', bank_transfer: { type: 'eu_bank_transfer', eu_bank_transfer: { country: 'FR' } } } };
  const base = {
    mode: 'payment', line_items: [{ price: price.id, quantity: 2 }], success_url: `http://127.0.0.1:${shopPort}/ok?session_id={CHECKOUT_SESSION_ID}`,
    payment_method_types: ['card', 'customer_balance'], payment_method_options: pmo,
  };
  // refused: no customer, no funding_type, a transfer in another currency, subscription mode
  const before = (await stripe.checkout.sessions.list({ limit: 100 })).data.length;
  await refused(stripe.checkout.sessions.create(base), 400, 'parameter_missing', 'customer');
  await refused(stripe.checkout.sessions.create({ ...base, customer: cus.id, payment_method_options: { customer_balance: {} } }),
    400, 'parameter_missing', 'payment_method_options[customer_balance][funding_type]');
  await refused(stripe.checkout.sessions.create({
    ...base, customer: cus.id,
    payment_method_options: { customer_balance: { funding_type: 'bank_transfer', bank_transfer: { type: 'us_bank_transfer' } } },
  }), 400, undefined, 'payment_method_options[customer_balance][bank_transfer][type]');
  const recurring = await stripe.prices.create({ currency: 'eur', unit_amount: 900, recurring: { interval: 'month' }, product_data: { name: 'Plan' } });
  await refused(stripe.checkout.sessions.create({ ...base, customer: cus.id, mode: 'subscription', line_items: [{ price: recurring.id, quantity: 1 }] }),
    400, undefined, 'payment_method_types');
  assert.equal((await stripe.checkout.sessions.list({ limit: 100 })).data.length, before);

  const s = await stripe.checkout.sessions.create({ ...base, customer: cus.id });
  assert.deepEqual(s.payment_method_types, ['card', 'customer_balance']);
  assert.deepEqual(s.payment_method_options.customer_balance, {
    bank_transfer: { eu_bank_transfer: { country: 'FR' }, requested_address_types: ['iban'], type: 'eu_bank_transfer' },
    funding_type: 'bank_transfer',
  });
  assertStripeShape(s, 'checkout.session');
  const merchantBefore = { eur: await balanceOf(stripe, 'eur'), usd: await balanceOf(stripe, 'usd') };

  const browser = await launchChromium();
  let instructionsUrl;
  try {
    const page = await browser.newPage();
    await page.goto(s.url);
    assert.equal(await page.textContent('#choice-cash'), 'Pay by bank transfer');
    await page.fill('#cash-email', 'buyer@example.com');
    await Promise.all([page.waitForURL(/\/bank_transfer_instructions\//), page.click('#cash-pay')]);
    instructionsUrl = page.url();
    assert.equal((await page.textContent('#amount_remaining')).trim(), '50.00 EUR');
    const done = await stripe.checkout.sessions.retrieve(s.id);
    assert.equal(done.status, 'complete');
    assert.equal(done.payment_status, 'unpaid');
    assertStripeShape(done, 'checkout.session');
    const pi = await stripe.paymentIntents.retrieve(done.payment_intent);
    assert.equal(pi.status, 'requires_action');
    assert.equal(pi.amount, 5000);
    assert.equal(pi.customer, cus.id);
    assert.deepEqual(pi.payment_method_types, ['card', 'customer_balance']);
    const d = pi.next_action.display_bank_transfer_instructions;
    assert.equal(d.amount_remaining, 5000);
    assert.equal(d.hosted_instructions_url, instructionsUrl);
    assert.match(d.financial_addresses[0].iban.iban, /^FR/);
    assert.equal((await page.textContent('#reference')).trim(), d.reference);
    assertStripeShape(pi, 'payment_intent');
    let evs = (await eventsOf(stripe, s.id)).filter((e) => e.type.startsWith('checkout.session.'));
    assert.deepEqual(evs.map((e) => e.type), ['checkout.session.completed']);
    assert.equal(evs[0].data.object.payment_status, 'unpaid');

    // part of it: still unpaid; the rest: the intent succeeds and the session is paid
    await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 2000, currency: 'eur' });
    assert.equal((await stripe.checkout.sessions.retrieve(s.id)).payment_status, 'unpaid');
    await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 3000, currency: 'eur', reference: d.reference });
    const paid = await stripe.checkout.sessions.retrieve(s.id);
    assert.equal(paid.payment_status, 'paid');
    assertStripeShape(paid, 'checkout.session');
    const ppi = await stripe.paymentIntents.retrieve(pi.id);
    assert.equal(ppi.status, 'succeeded');
    assert.equal(ppi.amount_received, 5000);
    assertStripeShape(ppi, 'payment_intent');
    evs = (await eventsOf(stripe, s.id)).filter((e) => e.type.startsWith('checkout.session.'));
    assert.deepEqual(evs.map((e) => e.type), ['checkout.session.completed', 'checkout.session.async_payment_succeeded']);
    assert.equal(evs[1].data.object.payment_status, 'paid');
    const cb = await stripe.customers.retrieveCashBalance(cus.id);
    assert.deepEqual(cb.available, { eur: 0 });
    // the merchant is paid by the charge only now (pending, in its settlement currency)
    const ch = await stripe.charges.retrieve(ppi.latest_charge);
    assert.deepEqual(ch.payment_method_details, { customer_balance: {}, type: 'customer_balance' });
    const bt = await stripe.balanceTransactions.retrieve(ch.balance_transaction);
    const after = await balanceOf(stripe, bt.currency);
    assert.equal(after.pending, merchantBefore[bt.currency].pending + bt.net);

    // a session whose customer's cash already covers it: paid at once, straight to success_url
    await stripe.testHelpers.customers.fundCashBalance(cus.id, { amount: 5000, currency: 'eur' });
    const s2 = await stripe.checkout.sessions.create({ ...base, customer: cus.id });
    const page2 = await browser.newPage();
    await page2.goto(s2.url);
    await page2.fill('#cash-email', 'buyer@example.com');
    await Promise.all([page2.waitForURL(/\/ok\?/), page2.click('#cash-pay')]);
    const s2done = await stripe.checkout.sessions.retrieve(s2.id);
    assert.equal(s2done.status, 'complete');
    assert.equal(s2done.payment_status, 'paid');
    assert.equal((await stripe.paymentIntents.retrieve(s2done.payment_intent)).status, 'succeeded');
    const evs2 = (await eventsOf(stripe, s2.id)).filter((e) => e.type.startsWith('checkout.session.'));
    assert.deepEqual(evs2.map((e) => e.type), ['checkout.session.completed']);

    // a waiting session's intent canceled: the payment failed (async_payment_failed), the
    // session stays complete and unpaid, its cash-less intent gives nothing back
    const s3 = await stripe.checkout.sessions.create({ ...base, customer: cus.id });
    const page3 = await browser.newPage();
    await page3.goto(s3.url);
    await page3.fill('#cash-email', 'buyer@example.com');
    await Promise.all([page3.waitForURL(/\/bank_transfer_instructions\//), page3.click('#cash-pay')]);
    const s3open = await stripe.checkout.sessions.retrieve(s3.id);
    assert.equal(s3open.payment_status, 'unpaid');
    const canceled = await stripe.paymentIntents.cancel(s3open.payment_intent);
    assert.equal(canceled.status, 'canceled');
    const s3done = await stripe.checkout.sessions.retrieve(s3.id);
    assert.equal(s3done.status, 'complete');
    assert.equal(s3done.payment_status, 'unpaid');
    assertStripeShape(s3done, 'checkout.session');
    const evs3 = (await eventsOf(stripe, s3.id)).filter((e) => e.type.startsWith('checkout.session.'));
    assert.deepEqual(evs3.map((e) => e.type), ['checkout.session.completed', 'checkout.session.async_payment_failed']);
    assert.equal(evs3[1].data.object.payment_status, 'unpaid');
    assert.deepEqual((await stripe.customers.retrieveCashBalance(cus.id)).available, { eur: 0 });
    await refused(stripe.paymentIntents.cancel(s3open.payment_intent), 400);
    assert.equal((await eventsOf(stripe, s3.id)).filter((e) => e.type === 'checkout.session.async_payment_failed').length, 1);
  } finally {
    await browser.close();
    shop.close();
  }
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});
