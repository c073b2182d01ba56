'use strict';
// Invoices take the customer's credit balance (Stripe's customer balance), through stripe-node:
// when an invoice is finalized, starting_balance is the customer's balance before and
// ending_balance after; amount_due = total + starting_balance, never below zero; a credit
// larger than the invoice stays on the balance; a debit is added; an invoice whose total is
// below zero credits the balance; voiding an invoice gives back what it took. The payment is
// for amount_due, the customer balance transactions chain (each ending_balance is the one
// before plus its amount, and the last is the customer's balance), every object matches
// Stripe's OpenAPI spec, and `tender verify` passes at the end. Time moves with test clocks.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { startTender, stopAll, tender } = require('./helpers');
const { billingShape, clockAdvance } = require('./billing_helpers');

let env;
let stripe;
const DAY = 86400;
// a renewal's invoice is a draft for an hour before it is finalized and charged (Stripe's)
const HOUR = 3600;
const T0 = Date.UTC(2025, 2, 1, 0, 0, 0) / 1000; // Mar 1: a 31-day first period
const P = 31 * DAY;
const APR1 = T0 + P;

before(async () => {
  env = await startTender({ merchants: 1 });
  stripe = env.stripe();
});
after(stopAll);


const shape = (obj, schema) => billingShape(obj, schema);

const advance = (clock, to) => clockAdvance(stripe, clock, to);

async function setup(pm = 'pm_card_visa') {
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
  const opts = { test_clock: clock.id, email: 'jenny@example.com' };
  if (pm) Object.assign(opts, { payment_method: pm, invoice_settings: { default_payment_method: pm } });
  const customer = await stripe.customers.create(opts);
  return { clock, customer };
}

function prorate(amount, remaining, period) {
  const mag = BigInt(Math.abs(amount)) * BigInt(remaining);
  const q = (2n * mag + BigInt(period)) / (2n * BigInt(period));
  return amount < 0 ? -Number(q) : Number(q);
}

// The invoice's money: amount_due = total + starting_balance (at least 0), ending_balance the
// rest of a credit (at most 0), and a paid one's payment, charge and balance transaction are
// its amount_due (none when it is 0).
async function assertInvoiceMoney(inv) {
  shape(inv, 'invoice');
  const lines = await stripe.invoices.listLineItems(inv.id, { limit: 100 });
  assert.equal(inv.total, lines.data.reduce((a, l) => a + l.amount, 0));
  assert.equal(inv.amount_due, Math.max(0, inv.total + inv.starting_balance));
  assert.equal(inv.ending_balance, Math.min(0, inv.total + inv.starting_balance));
  const full = await stripe.invoices.retrieve(inv.id, { expand: ['payments'] });
  if (inv.amount_due === 0) {
    assert.equal(inv.status, 'paid');
    assert.equal(inv.amount_paid, 0);
    assert.equal(full.payments.data.length, 0, 'nothing due: no payment');
    return;
  }
  assert.equal(full.payments.data.length, 1);
  assert.equal(full.payments.data[0].amount_requested, inv.amount_due);
  const pi = await stripe.paymentIntents.retrieve(full.payments.data[0].payment.payment_intent,
    { expand: ['latest_charge.balance_transaction'] });
  assert.equal(pi.amount, inv.amount_due);
  if (inv.status === 'paid') {
    assert.equal(pi.status, 'succeeded');
    assert.equal(pi.latest_charge.amount_captured, inv.amount_due);
    assert.equal(pi.latest_charge.balance_transaction.amount, inv.amount_due);
    assert.equal(inv.amount_paid, inv.amount_due);
    assert.equal(inv.amount_remaining, 0);
  }
}

// The customer's balance transactions, oldest first: each one's ending_balance is the one
// before plus its amount, and the last is the customer's balance. Answers [type, amount,
// invoice] of each.
async function balanceChain(customer) {
  const all = await stripe.customers.listBalanceTransactions(customer, { limit: 100 });
  const txns = all.data.slice().reverse();
  let running = 0;
  for (const t of txns) {
    shape(t, 'customer_balance_transaction');
    running += t.amount;
    assert.equal(t.ending_balance, running, `${t.id}: its ending_balance follows the one before`);
  }
  assert.equal((await stripe.customers.retrieve(customer)).balance, running);
  return txns.map((t) => [t.type, t.amount, t.invoice]);
}

let monthly;
let pro;

test('a customer with a credit pays less on its first invoice and on its renewal', async () => {
  monthly = await stripe.prices.create({
    currency: 'usd', unit_amount: 3000, recurring: { interval: 'month' }, product_data: { name: 'Team' },
  });
  pro = await stripe.prices.create({ currency: 'usd', unit_amount: 5000, recurring: { interval: 'month' }, product: monthly.product });
  const { clock, customer } = await setup();
  await stripe.customers.createBalanceTransaction(customer.id, { amount: -1200, currency: 'usd', description: 'Goodwill' });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }], expand: ['latest_invoice'] });
  assert.equal(sub.status, 'active');
  const first = sub.latest_invoice;
  assert.deepEqual([first.total, first.starting_balance, first.ending_balance, first.amount_due, first.amount_paid, first.status],
    [3000, -1200, 0, 1800, 1800, 'paid']);
  await assertInvoiceMoney(first);
  assert.equal((await stripe.customers.retrieve(customer.id)).balance, 0);
  // a new credit; the renewal takes it
  await stripe.customers.createBalanceTransaction(customer.id, { amount: -500, currency: 'usd' });
  await advance(clock, APR1 + HOUR + 60);
  const renewed = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(renewed.status, 'active');
  const second = await stripe.invoices.retrieve(renewed.latest_invoice);
  assert.equal(second.billing_reason, 'subscription_cycle');
  assert.deepEqual([second.total, second.starting_balance, second.ending_balance, second.amount_due, second.status],
    [3000, -500, 0, 2500, 'paid']);
  await assertInvoiceMoney(second);
  assert.deepEqual(await balanceChain(customer.id), [
    ['adjustment', -1200, null], ['applied_to_invoice', 1200, first.id],
    ['adjustment', -500, null], ['applied_to_invoice', 500, second.id],
  ]);
  // the application is a change of the customer, with its event
  const evs = (await stripe.events.list({ type: 'customer.updated', limit: 100 })).data
    .filter((e) => e.data.object.id === customer.id);
  assert.ok(evs.some((e) => e.data.previous_attributes.balance === -1200 && e.data.object.balance === 0));
});

test('a credit larger than the invoice charges nothing and leaves the rest on the balance', async () => {
  const { clock, customer } = await setup();
  await stripe.customers.createBalanceTransaction(customer.id, { amount: -5000, currency: 'usd' });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }], expand: ['latest_invoice'] });
  assert.equal(sub.status, 'active');
  const first = sub.latest_invoice;
  assert.deepEqual([first.total, first.starting_balance, first.ending_balance, first.amount_due, first.status],
    [3000, -5000, -2000, 0, 'paid']);
  await assertInvoiceMoney(first);
  assert.equal((await stripe.paymentIntents.list({ customer: customer.id })).data.length, 0, 'no payment at all');
  assert.equal((await stripe.customers.retrieve(customer.id)).balance, -2000);
  // the renewal takes the rest: 3000 - 2000
  await advance(clock, APR1 + HOUR + 60);
  const second = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.deepEqual([second.starting_balance, second.ending_balance, second.amount_due, second.status], [-2000, 0, 1000, 'paid']);
  await assertInvoiceMoney(second);
  assert.deepEqual(await balanceChain(customer.id), [
    ['adjustment', -5000, null], ['applied_to_invoice', 3000, first.id], ['applied_to_invoice', 2000, second.id],
  ]);
});

test('a downgrade with always_invoice credits the balance, which the next renewal uses', async () => {
  const { clock, customer } = await setup();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: pro.id }] });
  const si = sub.items.data[0].id;
  await advance(clock, T0 + 10 * DAY);
  const down = await stripe.subscriptions.update(sub.id, {
    items: [{ id: si, price: monthly.id }], proration_behavior: 'always_invoice', expand: ['latest_invoice'],
  });
  const inv = down.latest_invoice;
  const credit = prorate(-5000, 21 * DAY, P) + prorate(3000, 21 * DAY, P);
  assert.ok(credit < 0);
  assert.deepEqual([inv.total, inv.starting_balance, inv.ending_balance, inv.amount_due, inv.status],
    [credit, 0, credit, 0, 'paid']);
  await assertInvoiceMoney(inv);
  // no pending item carries it any more: the balance does
  assert.equal((await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data.length, 0);
  assert.equal((await stripe.customers.retrieve(customer.id)).balance, credit);
  await advance(clock, APR1 + HOUR + 60);
  const next = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.deepEqual([next.total, next.starting_balance, next.ending_balance, next.amount_due, next.status],
    [3000, credit, 0, 3000 + credit, 'paid']);
  await assertInvoiceMoney(next);
  assert.deepEqual(await balanceChain(customer.id), [
    ['applied_to_invoice', credit, inv.id], ['applied_to_invoice', -credit, next.id],
  ]);
});

test('one-off invoices: a draft shows the balance, finalizing applies it, paying charges amount_due, voiding gives it back', async () => {
  const { customer } = await setup();
  await stripe.customers.createBalanceTransaction(customer.id, { amount: -1000, currency: 'usd' });
  await stripe.invoiceItems.create({ customer: customer.id, amount: 4000, currency: 'usd', description: 'Consulting' });
  const draft = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
  assert.deepEqual([draft.status, draft.total, draft.starting_balance, draft.ending_balance, draft.amount_due],
    ['draft', 4000, -1000, null, 3000]);
  shape(draft, 'invoice');
  const open = await stripe.invoices.finalizeInvoice(draft.id);
  assert.deepEqual([open.status, open.starting_balance, open.ending_balance, open.amount_due, open.amount_remaining],
    ['open', -1000, 0, 3000, 3000]);
  shape(open, 'invoice');
  assert.equal((await stripe.customers.retrieve(customer.id)).balance, 0);
  // voided: the credit it took is the customer's again
  const voided = await stripe.invoices.voidInvoice(open.id);
  assert.equal(voided.status, 'void');
  assert.equal(voided.amount_remaining, 0);
  shape(voided, 'invoice');
  assert.equal((await stripe.customers.retrieve(customer.id)).balance, -1000);
  assert.deepEqual(await balanceChain(customer.id), [
    ['adjustment', -1000, null], ['applied_to_invoice', 1000, open.id], ['unapplied_from_invoice', -1000, open.id],
  ]);
  // a second invoice takes it again, and is paid for its amount_due
  await stripe.invoiceItems.create({ customer: customer.id, amount: 2500, currency: 'usd' });
  const d2 = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
  const o2 = await stripe.invoices.finalizeInvoice(d2.id);
  assert.deepEqual([o2.starting_balance, o2.ending_balance, o2.amount_due], [-1000, 0, 1500]);
  const paid = await stripe.invoices.pay(o2.id);
  assert.deepEqual([paid.status, paid.amount_paid, paid.amount_remaining], ['paid', 1500, 0]);
  await assertInvoiceMoney(paid);
  // a debit is added to the next invoice
  await stripe.customers.createBalanceTransaction(customer.id, { amount: 700, currency: 'usd', description: 'Late fee' });
  await stripe.invoiceItems.create({ customer: customer.id, amount: 2000, currency: 'usd' });
  const d3 = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
  assert.deepEqual([d3.starting_balance, d3.amount_due], [700, 2700]);
  const o3 = await stripe.invoices.finalizeInvoice(d3.id);
  assert.deepEqual([o3.total, o3.starting_balance, o3.ending_balance, o3.amount_due], [2000, 700, 0, 2700]);
  const p3 = await stripe.invoices.pay(o3.id);
  assert.equal(p3.amount_paid, 2700);
  await assertInvoiceMoney(p3);
  // a credit invoice credits the balance
  await stripe.invoiceItems.create({ customer: customer.id, amount: -900, currency: 'usd', description: 'Refund of overcharge' });
  const d4 = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
  const o4 = await stripe.invoices.finalizeInvoice(d4.id);
  assert.deepEqual([o4.status, o4.total, o4.starting_balance, o4.ending_balance, o4.amount_due], ['paid', -900, 0, -900, 0]);
  await assertInvoiceMoney(o4);
  assert.deepEqual((await balanceChain(customer.id)).slice(3), [
    ['applied_to_invoice', 1000, o2.id], ['adjustment', 700, null], ['applied_to_invoice', -700, o3.id],
    ['applied_to_invoice', -900, o4.id],
  ]);
});

test('an incomplete subscription that expires gives back the credit its first invoice took', async () => {
  const { clock, customer } = await setup('pm_card_chargeCustomerFail');
  await stripe.customers.createBalanceTransaction(customer.id, { amount: -600, currency: 'usd' });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }], expand: ['latest_invoice'] });
  assert.equal(sub.status, 'incomplete');
  assert.deepEqual([sub.latest_invoice.status, sub.latest_invoice.amount_due, sub.latest_invoice.starting_balance], ['open', 2400, -600]);
  const full = await stripe.invoices.retrieve(sub.latest_invoice.id, { expand: ['payments'] });
  const pi = await stripe.paymentIntents.retrieve(full.payments.data[0].payment.payment_intent);
  assert.equal(pi.amount, 2400);
  assert.equal((await stripe.customers.retrieve(customer.id)).balance, 0);
  await advance(clock, T0 + DAY + 60);
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'incomplete_expired');
  assert.equal((await stripe.invoices.retrieve(sub.latest_invoice.id)).status, 'void');
  assert.deepEqual(await balanceChain(customer.id), [
    ['adjustment', -600, null], ['applied_to_invoice', 600, sub.latest_invoice.id],
    ['unapplied_from_invoice', -600, sub.latest_invoice.id],
  ]);
});

test('tender verify passes: the money in the ledger adds up', async () => {
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});
