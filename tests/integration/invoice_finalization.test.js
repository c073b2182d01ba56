'use strict';
// What happens when an invoice is finalized, through stripe-node: an amount due below the
// currency's minimum charge (Stripe's invoice_too_small: the invoice is paid without a charge
// and the amount goes onto the customer's balance as a debit, which the next invoice takes),
// for a subscription's first invoice, its renewals and one-off invoices; invoice items priced by
// a price's currency_options; a draft's lines edited (add_lines, update_lines, remove_lines, a
// line's update), compared with the same draft built through invoice items. Every object is
// checked against Stripe's OpenAPI spec.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, tender } = require('./helpers');
const { billingShape, clockAdvance } = require('./billing_helpers');

let env;
let stripe;
const T0 = Date.UTC(2025, 2, 1, 0, 0, 0) / 1000; // Mar 1
const APR1 = Date.UTC(2025, 3, 1, 0, 0, 0) / 1000;

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
});
after(stopAll);

const shape = (obj, schema) => billingShape(obj, schema, [
  /^\$(\.discounts\[\d+\])?\.coupon: missing required property$/,
  /^\$\.cash_balance: absent/,
]);

async function clockCustomer(params = {}, frozen = T0) {
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: frozen });
  const customer = await stripe.customers.create({
    test_clock: clock.id, payment_method: 'pm_card_visa',
    invoice_settings: { default_payment_method: 'pm_card_visa' }, ...params,
  });
  return { clock, customer };
}

async function balanceTxns(customer) {
  return (await stripe.customers.listBalanceTransactions(customer, { limit: 100 })).data.reverse();
}

async function paymentsOf(inv) {
  return (await stripe.invoices.retrieve(inv, { expand: ['payments'] })).payments.data;
}

test('invoice_too_small: a subscription of 0.30 usd: its first invoice is paid without a charge, the amount a debit the next invoice takes', async () => {
  const cheap = await stripe.prices.create({ currency: 'usd', unit_amount: 30, recurring: { interval: 'month' }, product_data: { name: 'Tiny' } });
  const { clock, customer } = await clockCustomer();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: cheap.id }], expand: ['latest_invoice'] });
  assert.equal(sub.status, 'active', 'not incomplete: the invoice is paid');
  const inv = sub.latest_invoice;
  assert.deepEqual([inv.status, inv.total, inv.amount_due, inv.amount_paid, inv.amount_remaining], ['paid', 30, 30, 30, 0]);
  assert.deepEqual(await paymentsOf(inv.id), [], 'no payment was made');
  shape(inv, 'invoice');
  const c = await stripe.customers.retrieve(customer.id);
  assert.equal(c.balance, 30, 'the amount is a debit on the customer\'s balance');
  const txns = await balanceTxns(customer.id);
  assert.equal(txns.length, 1);
  assert.deepEqual([txns[0].type, txns[0].amount, txns[0].invoice, txns[0].ending_balance, txns[0].currency], ['invoice_too_small', 30, inv.id, 30, 'usd']);
  assert.equal(txns[0].created, T0, 'at the clock\'s time');
  shape(txns[0], 'customer_balance_transaction');
  const types = (await stripe.events.list({ limit: 100 })).data.filter((e) => e.data.object.id === inv.id).map((e) => e.type).reverse();
  assert.deepEqual(types, ['invoice.created', 'invoice.finalized', 'invoice.paid', 'invoice.payment_succeeded']);
  // Apr 1: 0.30 + the 0.30 debit = 0.60, charged
  await clockAdvance(stripe, clock, APR1 + 2 * 3600);
  const next = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.notEqual(next.id, inv.id);
  assert.deepEqual([next.status, next.total, next.starting_balance, next.ending_balance, next.amount_due, next.amount_paid], ['paid', 30, 30, 0, 60, 60]);
  const pays = await paymentsOf(next.id);
  assert.equal(pays.length, 1);
  const pi = await stripe.paymentIntents.retrieve(pays[0].payment.payment_intent);
  assert.deepEqual([pi.status, pi.amount], ['succeeded', 60]);
  assert.equal((await stripe.customers.retrieve(customer.id)).balance, 0);
  assert.deepEqual((await balanceTxns(customer.id)).map((t) => [t.type, t.amount, t.ending_balance]),
    [['invoice_too_small', 30, 30], ['applied_to_invoice', -30, 0]]);
});

test('invoice_too_small: a discount or a credit balance that leaves less than the minimum; a customer without a card', async () => {
  const plan = await stripe.prices.create({ currency: 'usd', unit_amount: 2000, recurring: { interval: 'month' }, product_data: { name: 'Plan' } });
  const big = await stripe.coupons.create({ amount_off: 1980, currency: 'usd', duration: 'once' });
  // no card at all: nothing is charged, so none is needed
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
  const customer = await stripe.customers.create({ test_clock: clock.id });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: plan.id }], discounts: [{ coupon: big.id }], expand: ['latest_invoice'] });
  assert.equal(sub.status, 'active');
  assert.deepEqual([sub.latest_invoice.total, sub.latest_invoice.amount_due, sub.latest_invoice.status], [20, 20, 'paid']);
  assert.equal((await stripe.customers.retrieve(customer.id)).balance, 20);

  // one-off: 10.00 less a 9.70 credit leaves 0.30 due
  const cust = await stripe.customers.create({ balance: -970, payment_method: 'pm_card_visa' });
  await stripe.invoiceItems.create({ customer: cust.id, amount: 1000, currency: 'usd' });
  const draft = await stripe.invoices.create({ customer: cust.id, pending_invoice_items_behavior: 'include' });
  const fin = await stripe.invoices.finalizeInvoice(draft.id);
  assert.deepEqual([fin.status, fin.total, fin.starting_balance, fin.ending_balance, fin.amount_due, fin.amount_paid], ['paid', 1000, -970, 0, 30, 30]);
  shape(fin, 'invoice');
  assert.deepEqual(await paymentsOf(fin.id), []);
  assert.equal((await stripe.customers.retrieve(cust.id)).balance, 30);
  assert.deepEqual((await balanceTxns(cust.id)).map((t) => [t.type, t.amount, t.ending_balance]),
    [['adjustment', -970, -970], ['applied_to_invoice', 970, 0], ['invoice_too_small', 30, 30]]);
  await assert.rejects(stripe.invoices.pay(fin.id), (e) => e.statusCode === 400, 'paid already');
  // at the minimum itself it is charged
  await stripe.customers.update(cust.id, { balance: 0 });
  await stripe.invoiceItems.create({ customer: cust.id, amount: 50, currency: 'usd' });
  const d2 = await stripe.invoices.create({ customer: cust.id, pending_invoice_items_behavior: 'include' });
  const f2 = await stripe.invoices.finalizeInvoice(d2.id);
  assert.deepEqual([f2.status, f2.amount_due], ['open', 50]);
  const p2 = await stripe.invoices.pay(f2.id, { payment_method: (await stripe.customers.listPaymentMethods(cust.id)).data[0].id });
  assert.deepEqual([p2.status, p2.amount_paid], ['paid', 50]);
});

test('an invoice item\'s update takes unit_amount_decimal (with quantity): the amount recomputed exactly as on create, only one of unit_amount / unit_amount_decimal, not once invoiced', async () => {
  const customer = await stripe.customers.create({ payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
  const item = await stripe.invoiceItems.create({ customer: customer.id, currency: 'usd', unit_amount: 10, quantity: 3 });
  assert.equal(item.amount, 30);
  // 5 × 2.5 = 12.5 → 13 (halves up), shown as given with no integer unit_amount
  const u1 = await stripe.invoiceItems.update(item.id, { unit_amount_decimal: '2.5', quantity: 5 });
  assert.deepEqual([u1.amount, u1.unit_amount, String(u1.unit_amount_decimal), u1.quantity], [13, null, '2.5', 5]);
  shape(u1, 'invoiceitem');
  // alone it keeps the quantity: 5 × 0.333 = 1.665 → 2
  const u2 = await stripe.invoiceItems.update(item.id, { unit_amount_decimal: '0.333' });
  assert.deepEqual([u2.amount, String(u2.unit_amount_decimal), u2.quantity], [2, '0.333', 5]);
  // a whole one is an integer unit amount: 5 × 7 = 35
  const u3 = await stripe.invoiceItems.update(item.id, { unit_amount_decimal: '7.00' });
  assert.deepEqual([u3.amount, u3.unit_amount, String(u3.unit_amount_decimal)], [35, 7, '7']);
  const upd = (await stripe.events.list({ type: 'invoiceitem.updated', limit: 5 })).data[0];
  assert.deepEqual([upd.data.object.id, upd.data.object.amount, upd.data.previous_attributes.amount], [item.id, 35, 2]);
  // refusals change nothing
  const refuse = (id, params, param) => assert.rejects(stripe.invoiceItems.update(id, params),
    (err) => err.statusCode === 400 && err.raw.param === param);
  await refuse(item.id, { unit_amount: 5, unit_amount_decimal: '0.5' }, 'unit_amount');
  await refuse(item.id, { amount: 5, unit_amount_decimal: '0.5' }, 'amount');
  await refuse(item.id, { unit_amount_decimal: '1.2.3' }, 'unit_amount_decimal');
  await refuse(item.id, { unit_amount_decimal: '-1' }, 'unit_amount_decimal');
  await refuse(item.id, { unit_amount_decimal: '0.1234567890123' }, 'unit_amount_decimal');
  const product = await stripe.products.create({ name: 'Seat' });
  const price = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 400 });
  const priced = await stripe.invoiceItems.create({ customer: customer.id, price: price.id, quantity: 2 });
  await refuse(priced.id, { unit_amount_decimal: '0.5' }, 'unit_amount_decimal');
  const same = await stripe.invoiceItems.retrieve(item.id);
  assert.deepEqual([same.amount, same.unit_amount, same.quantity], [35, 7, 5]);
  // invoiced and finalized: fixed
  const draft = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include', auto_advance: false });
  assert.equal(draft.total, 35 + 800);
  await stripe.invoices.finalizeInvoice(draft.id);
  await assert.rejects(stripe.invoiceItems.update(item.id, { unit_amount_decimal: '1.5' }), (err) => err.statusCode === 400);
  assert.equal((await stripe.invoiceItems.retrieve(item.id)).amount, 35);
});

test('an invoice item\'s update takes price or price_data: its unit amount in the item\'s currency, a draft\'s total following; Stripe\'s refusals', async () => {
  const customer = await stripe.customers.create({ payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
  const product = await stripe.products.create({ name: 'Widget' });
  const price = await stripe.prices.create({
    product: product.id, currency: 'usd', unit_amount: 250, currency_options: { eur: { unit_amount: 230 } },
  });
  const item = await stripe.invoiceItems.create({ customer: customer.id, currency: 'usd', unit_amount: 100, quantity: 3 });
  const draft = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
  assert.equal(draft.total, 300);
  const u1 = await stripe.invoiceItems.update(item.id, { price: price.id });
  assert.deepEqual([u1.amount, u1.unit_amount, u1.quantity, u1.price.id], [750, 250, 3, price.id]);
  shape(u1, 'invoiceitem');
  assert.equal((await stripe.invoices.retrieve(draft.id)).total, 750);
  const upd = (await stripe.events.list({ type: 'invoiceitem.updated', limit: 1 })).data[0];
  assert.deepEqual([upd.data.object.id, upd.data.previous_attributes.amount], [item.id, 300]);
  const u2 = await stripe.invoiceItems.update(item.id, { price_data: { currency: 'usd', product: product.id, unit_amount: 120 }, quantity: 2 });
  assert.deepEqual([u2.amount, u2.unit_amount, u2.quantity], [240, 120, 2]);
  assert.notEqual(u2.price.id, price.id);
  assert.equal(u2.price.active, false);
  assert.equal((await stripe.invoices.retrieve(draft.id)).total, 240);
  // in a currency of one of the price's currency_options: that entry's amount
  const eurItem = await stripe.invoiceItems.create({ customer: customer.id, currency: 'eur', amount: 999 });
  assert.equal((await stripe.invoiceItems.update(eurItem.id, { price: price.id })).amount, 230);
  const refuse = (id, params, param, status = 400) => assert.rejects(stripe.invoiceItems.update(id, params),
    (err) => err.statusCode === status && err.raw.param === param);
  await refuse(item.id, { price: price.id, amount: 5 }, 'price');
  await refuse(item.id, { price: 'price_nope' }, 'price', 404);
  await refuse(item.id, { price_data: { currency: 'eur', product: product.id, unit_amount: 1 } }, 'price_data[currency]');
  const jpy = await stripe.prices.create({ product: product.id, currency: 'jpy', unit_amount: 500 });
  await refuse(item.id, { price: jpy.id }, 'price');
  const monthly = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 500, recurring: { interval: 'month' } });
  await refuse(item.id, { price: monthly.id }, 'price');
  assert.equal((await stripe.invoiceItems.retrieve(item.id)).amount, 240);
  await stripe.invoices.finalizeInvoice(draft.id);
  await assert.rejects(stripe.invoiceItems.update(item.id, { price: price.id }), (err) => err.statusCode === 400);
});

test('an invoice of a subscription\'s pending items (subscription on create): those items alone, the subscription\'s cycle untouched', async () => {
  const customer = await stripe.customers.create({ payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
  const product = await stripe.products.create({ name: 'Plan' });
  const price = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 1500, recurring: { interval: 'month' } });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
  const latest = sub.latest_invoice;
  const a = await stripe.invoiceItems.create({ customer: customer.id, subscription: sub.id, amount: 300, currency: 'usd' });
  const b = await stripe.invoiceItems.create({ customer: customer.id, subscription: sub.id, amount: 200, currency: 'usd' });
  const loose = await stripe.invoiceItems.create({ customer: customer.id, amount: 1000, currency: 'usd' });
  const inv = await stripe.invoices.create({ customer: customer.id, subscription: sub.id });
  assert.deepEqual([inv.subscription, inv.billing_reason, inv.status, inv.total], [sub.id, 'manual', 'draft', 500]);
  assert.deepEqual(inv.lines.data.map((l) => l.parent.invoice_item_details.invoice_item).sort(), [a.id, b.id].sort());
  assert.equal(inv.parent.subscription_details.subscription, sub.id);
  shape(inv, 'invoice');
  assert.equal((await stripe.invoiceItems.retrieve(loose.id)).invoice, null);
  const paid = await stripe.invoices.pay(inv.id);
  assert.deepEqual([paid.status, paid.amount_paid], ['paid', 500]);
  const after = await stripe.subscriptions.retrieve(sub.id);
  assert.deepEqual([after.status, after.latest_invoice], ['active', latest]);
  // refusals: another customer's subscription, auto_advance, a currency not the subscription's
  const stranger = await stripe.customers.create({ email: 'other@example.com' });
  await assert.rejects(stripe.invoices.create({ customer: stranger.id, subscription: sub.id }),
    (e) => e.statusCode === 400 && e.param === 'subscription');
  await assert.rejects(stripe.invoices.create({ customer: customer.id, subscription: sub.id, auto_advance: true }),
    (e) => e.statusCode === 400 && e.param === 'auto_advance');
  await assert.rejects(stripe.invoices.create({ customer: customer.id, subscription: sub.id, currency: 'eur' }),
    (e) => e.statusCode === 400 && e.param === 'currency');
  await assert.rejects(stripe.invoices.create({ customer: customer.id, subscription: 'sub_nope' }), (e) => e.statusCode === 404);
  // a draft of it can be deleted: its items are pending again
  const c = await stripe.invoiceItems.create({ customer: customer.id, subscription: sub.id, amount: 50, currency: 'usd' });
  const d = await stripe.invoices.create({ customer: customer.id, subscription: sub.id });
  await stripe.invoices.del(d.id);
  assert.equal((await stripe.invoiceItems.retrieve(c.id)).invoice, null);
});

const HOUR = 3600;

async function eventTypes(id) {
  const all = await stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 10000 });
  return all.filter((e) => e.data.object.id === id).reverse().map((e) => e.type);
}

test('a renewal\'s invoice is a draft for an hour (the first invoice is finalized at once), then finalized and charged', async () => {
  const plan = await stripe.prices.create({ currency: 'usd', unit_amount: 2500, recurring: { interval: 'month' }, product_data: { name: 'Hourly' } });
  const { clock, customer } = await clockCustomer();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: plan.id }], expand: ['latest_invoice'] });
  assert.deepEqual([sub.latest_invoice.status, sub.latest_invoice.status_transitions.finalized_at], ['paid', T0], 'the first: at once');
  await clockAdvance(stripe, clock, APR1 + 60);
  let s = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(s.status, 'active');
  assert.equal(s.items.data[0].current_period_start, APR1, 'the new period has begun');
  let draft = await stripe.invoices.retrieve(s.latest_invoice);
  assert.notEqual(draft.id, sub.latest_invoice.id);
  assert.deepEqual([draft.status, draft.auto_advance, draft.number, draft.total, draft.amount_paid, draft.attempt_count],
    ['draft', true, null, 2500, 0, 0]);
  assert.equal(draft.created, APR1);
  assert.equal(draft.next_payment_attempt, APR1 + HOUR, 'finalized and attempted an hour after it was made');
  assert.equal(draft.status_transitions.finalized_at, null);
  shape(draft, 'invoice');
  assert.deepEqual(await eventTypes(draft.id), ['invoice.created']);
  assert.equal((await stripe.paymentIntents.list({ customer: customer.id })).data.length, 1, 'nothing charged yet');
  // a pending item added within the hour is not on it (it was made with its lines), and the
  // customer's balance is taken when it is finalized
  await stripe.customers.createBalanceTransaction(customer.id, { amount: -400, currency: 'usd' });
  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  const paid = await stripe.invoices.retrieve(draft.id, { expand: ['payments'] });
  assert.deepEqual([paid.status, paid.starting_balance, paid.amount_due, paid.amount_paid, paid.attempt_count], ['paid', -400, 2100, 2100, 1]);
  assert.equal(paid.status_transitions.finalized_at, APR1 + HOUR);
  assert.equal(paid.status_transitions.paid_at, APR1 + HOUR);
  assert.match(paid.number, /-0002$/);
  assert.equal(paid.next_payment_attempt, null);
  const pi = await stripe.paymentIntents.retrieve(paid.payments.data[0].payment.payment_intent);
  assert.deepEqual([pi.status, pi.amount, pi.created], ['succeeded', 2100, APR1 + HOUR]);
  assert.deepEqual(await eventTypes(draft.id), ['invoice.created', 'invoice.finalized', 'invoice.paid', 'invoice.payment_succeeded']);
  shape(paid, 'invoice');

  // finalized by hand within the hour: charged by its subscription's step
  const MAY1 = Date.UTC(2025, 4, 1, 0, 0, 0) / 1000;
  await clockAdvance(stripe, clock, MAY1 + 60);
  s = await stripe.subscriptions.retrieve(sub.id);
  draft = await stripe.invoices.retrieve(s.latest_invoice);
  assert.equal(draft.status, 'draft');
  const fin = await stripe.invoices.finalizeInvoice(draft.id);
  assert.deepEqual([fin.status, fin.status_transitions.finalized_at], ['open', MAY1 + 60]);
  await clockAdvance(stripe, clock, MAY1 + HOUR + 60);
  const after = await stripe.invoices.retrieve(draft.id);
  assert.deepEqual([after.status, after.amount_paid, after.attempt_count], ['paid', 2500, 1]);

  // auto_advance=false: it stays a draft; the clock goes on (nothing is stuck)
  const JUN1 = Date.UTC(2025, 5, 1, 0, 0, 0) / 1000;
  await clockAdvance(stripe, clock, JUN1 + 60);
  s = await stripe.subscriptions.retrieve(sub.id);
  draft = await stripe.invoices.update(s.latest_invoice, { auto_advance: false });
  assert.deepEqual([draft.status, draft.auto_advance], ['draft', false]);
  await clockAdvance(stripe, clock, JUN1 + 2 * HOUR);
  const kept = await stripe.invoices.retrieve(draft.id);
  assert.deepEqual([kept.status, kept.number, kept.amount_paid], ['draft', null, 0]);
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'active');
  assert.deepEqual(await eventTypes(draft.id), ['invoice.created', 'invoice.updated']);
});

test('a renewal draft with a declining card: finalized after its hour, the attempt fails (past_due), retried from its finalization', async () => {
  const plan = await stripe.prices.create({ currency: 'usd', unit_amount: 1500, recurring: { interval: 'month' }, product_data: { name: 'Declines' } });
  const { clock, customer } = await clockCustomer();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: plan.id }] });
  const bad = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
  await stripe.subscriptions.update(sub.id, { default_payment_method: bad.id });
  await clockAdvance(stripe, clock, APR1 + 60);
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'active', 'a draft is no failed payment yet');
  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  const s = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(s.status, 'past_due');
  const inv = await stripe.invoices.retrieve(s.latest_invoice);
  assert.deepEqual([inv.status, inv.attempt_count, inv.next_payment_attempt], ['open', 1, APR1 + HOUR + 3 * 86400]);
  assert.deepEqual(await eventTypes(inv.id), ['invoice.created', 'invoice.finalized', 'invoice.payment_failed']);
});

test('a one-off invoice with auto_advance: finalized an hour after it is made, then charged; auto_advance=false stays a draft; no card: a failed attempt, retried', async () => {
  const { clock, customer } = await clockCustomer();
  await stripe.invoiceItems.create({ customer: customer.id, amount: 1800, currency: 'usd' });
  const inv = await stripe.invoices.create({ customer: customer.id, auto_advance: true, pending_invoice_items_behavior: 'include' });
  assert.deepEqual([inv.status, inv.auto_advance, inv.next_payment_attempt, inv.total], ['draft', true, T0 + HOUR, 1800]);
  shape(inv, 'invoice');
  const manual = await stripe.invoices.create({ customer: customer.id });
  assert.deepEqual([manual.auto_advance, manual.next_payment_attempt], [false, null], 'auto_advance is false unless asked for');
  const later = await stripe.invoices.create({ customer: customer.id });
  const turned = await stripe.invoices.update(later.id, { auto_advance: true });
  assert.equal(turned.next_payment_attempt, T0 + HOUR, 'turned on: an hour after it was made');
  await clockAdvance(stripe, clock, T0 + HOUR - 60);
  assert.equal((await stripe.invoices.retrieve(inv.id)).status, 'draft', 'not before its hour');
  await clockAdvance(stripe, clock, T0 + HOUR + 60);
  const paid = await stripe.invoices.retrieve(inv.id, { expand: ['payments'] });
  assert.deepEqual([paid.status, paid.amount_paid, paid.attempt_count, paid.next_payment_attempt], ['paid', 1800, 1, null]);
  assert.equal(paid.status_transitions.finalized_at, T0 + HOUR);
  assert.match(paid.number, /-\d{4}$/);
  const pi = await stripe.paymentIntents.retrieve(paid.payments.data[0].payment.payment_intent);
  assert.deepEqual([pi.status, pi.amount, pi.invoice], ['succeeded', 1800, inv.id]);
  assert.deepEqual(await eventTypes(inv.id), ['invoice.created', 'invoice.finalized', 'invoice.paid', 'invoice.payment_succeeded']);
  // an empty one turned on: finalized with nothing to charge, paid
  const t = await stripe.invoices.retrieve(later.id);
  assert.deepEqual([t.status, t.amount_due], ['paid', 0]);
  // auto_advance false: still a draft
  await clockAdvance(stripe, clock, T0 + 3 * HOUR);
  assert.equal((await stripe.invoices.retrieve(manual.id)).status, 'draft');

  // a customer without a card: the attempt fails, retried 3 days after the finalization
  const bare = await stripe.customers.create({ test_clock: clock.id });
  await stripe.invoiceItems.create({ customer: bare.id, amount: 900, currency: 'usd' });
  const t0 = T0 + 3 * HOUR;
  const owed = await stripe.invoices.create({ customer: bare.id, auto_advance: true, pending_invoice_items_behavior: 'include' });
  await clockAdvance(stripe, clock, t0 + HOUR + 60);
  let o = await stripe.invoices.retrieve(owed.id);
  assert.deepEqual([o.status, o.attempt_count, o.next_payment_attempt], ['open', 1, t0 + HOUR + 3 * 86400]);
  assert.deepEqual(await eventTypes(owed.id), ['invoice.created', 'invoice.finalized', 'invoice.payment_failed']);
  // a card meanwhile: the retry pays it
  const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer: bare.id });
  await stripe.customers.update(bare.id, { invoice_settings: { default_payment_method: pm.id } });
  await clockAdvance(stripe, clock, t0 + HOUR + 3 * 86400 + 60);
  o = await stripe.invoices.retrieve(owed.id);
  assert.deepEqual([o.status, o.attempt_count, o.amount_paid], ['paid', 2, 900]);
});

test('automatically_finalizes_at: a one-off draft finalized then instead of at its hour, shown while a draft; issuer; Stripe\'s refusals', async () => {
  const { clock, customer } = await clockCustomer();
  await stripe.invoiceItems.create({ customer: customer.id, amount: 700, currency: 'usd' });
  const at = T0 + 5 * HOUR;
  const inv = await stripe.invoices.create({
    customer: customer.id, auto_advance: true, pending_invoice_items_behavior: 'include', automatically_finalizes_at: at, issuer: { type: 'self' },
  });
  assert.deepEqual([inv.status, inv.automatically_finalizes_at, inv.next_payment_attempt, inv.issuer], ['draft', at, at, { type: 'self' }]);
  shape(inv, 'invoice');
  const plain = await stripe.invoices.create({ customer: customer.id, auto_advance: true });
  assert.equal(plain.automatically_finalizes_at, T0 + HOUR, 'by default an hour after it is made');
  const manual = await stripe.invoices.create({ customer: customer.id });
  assert.equal(manual.automatically_finalizes_at, null);
  const moved = await stripe.invoices.update(plain.id, { automatically_finalizes_at: T0 + 2 * HOUR });
  assert.deepEqual([moved.automatically_finalizes_at, moved.next_payment_attempt], [T0 + 2 * HOUR, T0 + 2 * HOUR]);
  // issuer: a connected account of the merchant's
  const acct = await stripe.accounts.create({ type: 'express', country: 'US', email: 'issuer@example.com' });
  const issued = await stripe.invoices.update(manual.id, { issuer: { type: 'account', account: acct.id } });
  assert.deepEqual(issued.issuer, { account: acct.id, type: 'account' });
  shape(issued, 'invoice');
  const refuse = (p, param) => assert.rejects(p, (e) => e.statusCode === 400 && e.param === param);
  await refuse(stripe.invoices.create({ customer: customer.id, automatically_finalizes_at: at }), 'automatically_finalizes_at');
  await refuse(stripe.invoices.create({ customer: customer.id, auto_advance: true, automatically_finalizes_at: T0 - 1 }), 'automatically_finalizes_at');
  await refuse(stripe.invoices.create({ customer: customer.id, auto_advance: true, automatically_finalizes_at: T0 + 6 * 366 * 86400 }), 'automatically_finalizes_at');
  await refuse(stripe.invoices.update(manual.id, { automatically_finalizes_at: at }), 'automatically_finalizes_at');
  await refuse(stripe.invoices.create({ customer: customer.id, issuer: { type: 'account' } }), 'issuer[account]');
  await refuse(stripe.invoices.create({ customer: customer.id, issuer: { type: 'account', account: 'acct_nope' } }), 'issuer[account]');
  await refuse(stripe.invoices.create({ customer: customer.id, issuer: { type: 'self', account: acct.id } }), 'issuer[account]');
  assert.equal((await stripe.invoices.retrieve(manual.id)).issuer.account, acct.id, 'a refusal changes nothing');
  // not at its hour; at its time: finalized then, and charged
  await clockAdvance(stripe, clock, T0 + HOUR + 60);
  assert.equal((await stripe.invoices.retrieve(inv.id)).status, 'draft');
  assert.equal((await stripe.invoices.retrieve(plain.id)).status, 'draft', 'moved past its hour');
  await clockAdvance(stripe, clock, at + 60);
  const done = await stripe.invoices.retrieve(inv.id);
  assert.deepEqual([done.status, done.automatically_finalizes_at, done.status_transitions.finalized_at, done.amount_paid], ['paid', null, at, 700]);
  assert.equal((await stripe.invoices.retrieve(plain.id)).status, 'paid');
});

test('invoice items take quantity_decimal: unit amount × the decimal quantity rounded once, quantity its whole part; on the line; Stripe\'s refusals', async () => {
  const customer = await stripe.customers.create({ payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
  const draft = await stripe.invoices.create({ customer: customer.id, auto_advance: false });
  // 2.5 × 333 = 832.5 → 833; 1.25 × 0.5 = 0.625 → 1
  const a = await stripe.invoiceItems.create({ customer: customer.id, invoice: draft.id, currency: 'usd', unit_amount: 333, quantity_decimal: '2.50' });
  assert.deepEqual([a.amount, a.quantity, String(a.quantity_decimal)], [833, 2, '2.5']);
  shape(a, 'invoiceitem');
  const b = await stripe.invoiceItems.create({ customer: customer.id, invoice: draft.id, currency: 'usd', unit_amount_decimal: '0.5', quantity_decimal: '1.25' });
  assert.deepEqual([b.amount, b.quantity, String(b.quantity_decimal)], [1, 1, '1.25']);
  const product = await stripe.products.create({ name: 'Hours' });
  const price = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 4000 });
  const c = await stripe.invoiceItems.create({ customer: customer.id, invoice: draft.id, price: price.id, quantity_decimal: '0.75' });
  assert.deepEqual([c.amount, c.quantity, String(c.quantity_decimal)], [3000, 0, '0.75']);
  // update: a new decimal quantity, then a whole one
  const a2 = await stripe.invoiceItems.update(a.id, { quantity_decimal: '3.1' });
  assert.deepEqual([a2.amount, a2.quantity, String(a2.quantity_decimal)], [1032, 3, '3.1']); // 1032.3
  const b2 = await stripe.invoiceItems.update(b.id, { quantity: 3 });
  assert.deepEqual([b2.amount, String(b2.quantity_decimal)], [2, '3']); // 1.5 → 2
  const refuse = (p, param) => assert.rejects(p, (e) => e.statusCode === 400 && e.param === param);
  const base = { customer: customer.id, invoice: draft.id, currency: 'usd' };
  await refuse(stripe.invoiceItems.create({ ...base, unit_amount: 5, quantity: 2, quantity_decimal: '2' }), 'quantity_decimal');
  await refuse(stripe.invoiceItems.create({ ...base, amount: 5, quantity_decimal: '2' }), 'quantity_decimal');
  for (const q of ['0', '1.0000000000001', 'x', '-1', '1000000.5']) {
    await refuse(stripe.invoiceItems.create({ ...base, unit_amount: 5, quantity_decimal: q }), 'quantity_decimal');
  }
  const per = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 100, transform_quantity: { divide_by: 10, round: 'up' } });
  await refuse(stripe.invoiceItems.create({ customer: customer.id, invoice: draft.id, price: per.id, quantity_decimal: '1.5' }), 'quantity_decimal');
  await refuse(stripe.invoiceItems.update(a.id, { quantity_decimal: '0' }), 'quantity_decimal');
  const lines = (await stripe.invoices.listLineItems(draft.id, { limit: 10 })).data;
  assert.deepEqual(lines.map((l) => String(l.quantity_decimal)).sort(), ['0.75', '3', '3.1']);
  const paid = await stripe.invoices.pay(draft.id);
  assert.deepEqual([paid.status, paid.total], ['paid', 1032 + 2 + 3000]);
  shape(paid, 'invoice');
  const page = await (await fetch(paid.hosted_invoice_url)).text();
  assert.ok(page.includes('× 3.1<') && page.includes('× 0.75<'), 'the hosted page shows the decimal quantities');
  // a decimal line is credited by amount, not by quantity
  const line = lines.find((l) => String(l.quantity_decimal) === '3.1');
  await refuse(stripe.creditNotes.create({ invoice: draft.id, lines: [{ type: 'invoice_line_item', invoice_line_item: line.id, quantity: 1 }], credit_amount: 333 }), 'lines');
});

test('paying a draft finalizes it first, by card or out of band, as Stripe does', async () => {
  const customer = await stripe.customers.create({ payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
  const draft = await stripe.invoices.create({ customer: customer.id, auto_advance: false });
  await stripe.invoiceItems.create({ customer: customer.id, invoice: draft.id, amount: 2500, currency: 'usd' });
  assert.equal((await stripe.invoices.retrieve(draft.id)).status, 'draft');
  const paid = await stripe.invoices.pay(draft.id);
  assert.equal(paid.status, 'paid');
  assert.ok(paid.number, 'numbered when finalized');
  assert.equal(paid.amount_paid, 2500);
  shape(paid, 'invoice');
  const pis = (await stripe.paymentIntents.list({ customer: customer.id })).data;
  assert.deepEqual(pis.map((x) => [x.amount, x.status]), [[2500, 'succeeded']]);
  // the intent and its charge name the invoice, and expand it
  const piInv = await stripe.paymentIntents.retrieve(pis[0].id, { expand: ['invoice', 'latest_charge'] });
  assert.equal(piInv.invoice.id, draft.id);
  shape(piInv.invoice, 'invoice');
  assert.equal(piInv.latest_charge.invoice, draft.id);
  assert.equal((await stripe.charges.retrieve(piInv.latest_charge.id, { expand: ['invoice'] })).invoice.id, draft.id);
  const types = (await stripe.events.list({ limit: 30 })).data.filter((e) => e.data.object.id === draft.id).map((e) => e.type).reverse();
  assert.deepEqual(types.filter((t) => t === 'invoice.finalized' || t === 'invoice.paid'), ['invoice.finalized', 'invoice.paid']);

  const oob = await stripe.invoices.create({ customer: customer.id, auto_advance: false });
  await stripe.invoiceItems.create({ customer: customer.id, invoice: oob.id, amount: 900, currency: 'usd' });
  const done = await stripe.invoices.pay(oob.id, { paid_out_of_band: true });
  assert.equal(done.status, 'paid');
  assert.equal(done.paid_out_of_band, true);
  assert.ok(done.number);

  // a declined card leaves the draft finalized (open), as Stripe's attempt does
  const bad = await stripe.invoices.create({ customer: customer.id, auto_advance: false });
  await stripe.invoiceItems.create({ customer: customer.id, invoice: bad.id, amount: 700, currency: 'usd' });
  const declined = await stripe.paymentMethods.attach('pm_card_chargeDeclined', { customer: customer.id });
  await assert.rejects(stripe.invoices.pay(bad.id, { payment_method: declined.id }), (e) => e.statusCode === 402);
  assert.equal((await stripe.invoices.retrieve(bad.id)).status, 'open');
  // a void invoice is still refused
  const v = await stripe.invoices.create({ customer: customer.id, auto_advance: false });
  await stripe.invoiceItems.create({ customer: customer.id, invoice: v.id, amount: 700, currency: 'usd' });
  await stripe.invoices.finalizeInvoice(v.id);
  await stripe.invoices.voidInvoice(v.id);
  await assert.rejects(stripe.invoices.pay(v.id), (e) => e.statusCode === 400 && /void/.test(e.message));
});

test('invoice items with a sub-cent unit_amount_decimal: quantity × decimal rounded once (halves up), shown as given; Stripe\'s refusals', async () => {
  const customer = await stripe.customers.create({ payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
  const draft = await stripe.invoices.create({ customer: customer.id, auto_advance: false });
  // 3 × 33.5 = 100.5 → 101
  const a = await stripe.invoiceItems.create({ customer: customer.id, invoice: draft.id, currency: 'usd', unit_amount_decimal: '33.5', quantity: 3 });
  assert.equal(a.amount, 101);
  assert.equal(a.unit_amount, null);
  assert.equal(String(a.unit_amount_decimal), '33.5');
  assert.equal(String(a.pricing.unit_amount_decimal), '33.5');
  shape(a, 'invoiceitem');
  // price_data[unit_amount_decimal]: 12,345 × 0.25 = 3,086.25 → 3,086
  const product = await stripe.products.create({ name: 'API calls' });
  const b = await stripe.invoiceItems.create({
    customer: customer.id, invoice: draft.id, quantity: 12345,
    price_data: { currency: 'usd', product: product.id, unit_amount_decimal: '0.25' },
  });
  assert.equal(b.amount, 3086);
  assert.equal(b.unit_amount, null);
  assert.equal(String(b.price.unit_amount_decimal), '0.25');
  shape(b, 'invoiceitem');
  // a one-time price with a decimal: 5 × 0.5 = 2.5 → 3 (half-even would give 2)
  const half = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount_decimal: '0.5' });
  const c = await stripe.invoiceItems.create({ customer: customer.id, invoice: draft.id, price: half.id, quantity: 5 });
  assert.equal(c.amount, 3);
  assert.equal(String(c.unit_amount_decimal), '0.5');
  // a whole decimal is an integer unit_amount; amount given directly works as before
  const d = await stripe.invoiceItems.create({ customer: customer.id, invoice: draft.id, currency: 'usd', unit_amount_decimal: '7.000', quantity: 2 });
  assert.deepEqual([d.amount, d.unit_amount, String(d.unit_amount_decimal)], [14, 7, '7']);
  const e = await stripe.invoiceItems.create({ customer: customer.id, invoice: draft.id, currency: 'usd', amount: 250 });
  assert.equal(e.amount, 250);
  // a quantity change recomputes the rounded product: 4 × 33.5 = 134
  const a4 = await stripe.invoiceItems.update(a.id, { quantity: 4 });
  assert.deepEqual([a4.amount, String(a4.unit_amount_decimal)], [134, '33.5']);
  // refusals change nothing
  const refuse = (params, param) => assert.rejects(stripe.invoiceItems.create({ customer: customer.id, invoice: draft.id, currency: 'usd', ...params }),
    (err) => err.statusCode === 400 && err.raw.param === param);
  await refuse({ unit_amount: 5, unit_amount_decimal: '0.5' }, 'unit_amount');
  await refuse({ unit_amount_decimal: '1.2.3' }, 'unit_amount_decimal');
  await refuse({ unit_amount_decimal: '0.1234567890123' }, 'unit_amount_decimal');
  await refuse({ unit_amount_decimal: '-1' }, 'unit_amount_decimal');
  const total = 134 + 3086 + 3 + 14 + 250;
  const listed = (await stripe.invoiceItems.list({ invoice: draft.id, limit: 20 })).data;
  assert.equal(listed.length, 5);
  const paid = await stripe.invoices.pay(draft.id);
  assert.equal(paid.status, 'paid');
  assert.equal(paid.total, total);
  assert.equal(paid.amount_paid, total);
  shape(paid, 'invoice');
  const lines = (await stripe.invoices.listLineItems(draft.id, { limit: 10 })).data;
  assert.equal(lines.reduce((s, l) => s + l.amount, 0), total);
  assert.ok(lines.every((l) => Number.isInteger(l.amount)));
  assert.deepEqual(lines.map((l) => String(l.pricing.unit_amount_decimal)).sort(), ['0.25', '0.5', '250', '33.5', '7'].sort());

  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

test('invoice items with a price in the currency of one of its currency_options: that entry\'s amount', async () => {
  const customer = await stripe.customers.create({ payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
  const product = await stripe.products.create({ name: 'Support hour' });
  const hour = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 10000, currency_options: { eur: { unit_amount: 9000 }, gbp: { unit_amount_decimal: '7999.5' } } });
  const draft = await stripe.invoices.create({ customer: customer.id, currency: 'eur', auto_advance: false });
  // the draft's currency: the eur entry
  const a = await stripe.invoiceItems.create({ customer: customer.id, invoice: draft.id, price: hour.id, quantity: 2 });
  assert.deepEqual([a.currency, a.amount, a.unit_amount, a.price.id], ['eur', 18000, 9000, hour.id]);
  shape(a, 'invoiceitem');
  // `currency` given: a pending item at the gbp entry, 3 × 79.995 = 239.985 → 239.99
  const b = await stripe.invoiceItems.create({ customer: customer.id, price: hour.id, currency: 'gbp', quantity: 3 });
  assert.deepEqual([b.currency, b.amount, b.unit_amount, String(b.unit_amount_decimal)], ['gbp', 23999, null, '7999.5']);
  // without either: the price's own
  const c = await stripe.invoiceItems.create({ customer: customer.id, price: hour.id });
  assert.deepEqual([c.currency, c.amount], ['usd', 10000]);
  // a currency the price has no entry for: 400, nothing made
  const plain = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 500 });
  await assert.rejects(stripe.invoiceItems.create({ customer: customer.id, invoice: draft.id, price: plain.id }),
    (err) => err.statusCode === 400 && err.raw.param === 'currency');
  await assert.rejects(stripe.invoiceItems.create({ customer: customer.id, price: hour.id, currency: 'jpy' }),
    (err) => err.statusCode === 400 && err.raw.param === 'currency');
  assert.equal((await stripe.invoiceItems.list({ customer: customer.id, limit: 20 })).data.length, 3);
  const paid = await stripe.invoices.pay(draft.id);
  assert.deepEqual([paid.status, paid.currency, paid.total, paid.amount_paid], ['paid', 'eur', 18000, 18000]);
  shape(paid, 'invoice');
});

// The hosted page of every finalized invoice (invoice_page.c), whatever made it: its URL and
// what the page shows, without an API key.
const URL_RE = /^http:\/\/127\.0\.0\.1:\d+\/invoice\/acct_\w+\/[0-9A-Za-z]{43}$/;

async function hostedPage(inv) {
  const res = await fetch(inv.hosted_invoice_url);
  return { status: res.status, body: await res.text() };
}

async function eventsFor(id) {
  const all = await stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 10000 });
  return all.filter((e) => e.data.object.id === id).reverse();
}

function assertPaidPage(page, inv) {
  assert.equal(page.status, 200);
  assert.match(page.body, /<span id="status" data-status="paid">Paid<\/span>/);
  assert.match(page.body, /id="done"/);
  assert.ok(!page.body.includes('<form'), 'no pay form on a paid invoice');
  assert.ok(page.body.includes(inv.number));
  const day = new Date(inv.status_transitions.paid_at * 1000).toISOString().slice(0, 10);
  assert.match(page.body, new RegExp(`id="paid_at">${day}<`), 'when it was paid, as a receipt says');
}

test('every finalized invoice has its hosted page: a subscription\'s first invoice and its renewal (a draft has none), in their events too; another merchant\'s URL is 404', async () => {
  const plan = await stripe.prices.create({ currency: 'usd', unit_amount: 1200, recurring: { interval: 'month' }, product_data: { name: 'Hosted' } });
  const { clock, customer } = await clockCustomer();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: plan.id }], expand: ['latest_invoice'] });
  const first = sub.latest_invoice;
  assert.deepEqual([first.status, first.collection_method, first.billing_reason], ['paid', 'charge_automatically', 'subscription_create']);
  assert.match(first.hosted_invoice_url, URL_RE);
  assert.equal(first.invoice_pdf, `${first.hosted_invoice_url}/pdf`);
  shape(first, 'invoice');
  const again = await stripe.invoices.retrieve(first.id);
  assert.equal(again.hosted_invoice_url, first.hosted_invoice_url, 'the same URL on every read');
  shape(again, 'invoice');
  // the finalizing write's events carry it
  const evs = await eventsFor(first.id);
  assert.deepEqual(evs.map((e) => e.type), ['invoice.created', 'invoice.finalized', 'invoice.paid', 'invoice.payment_succeeded']);
  for (const e of evs.slice(1))
    assert.equal(new URL(e.data.object.hosted_invoice_url).pathname, new URL(first.hosted_invoice_url).pathname, e.type);
  assert.equal(evs[0].data.object.status, 'open', 'created finalized in the same write');
  assertPaidPage(await hostedPage(first), first);
  const pdf = await fetch(first.invoice_pdf);
  assert.equal(pdf.status, 200);
  assert.equal(Buffer.from(await pdf.arrayBuffer()).subarray(0, 4).toString(), '%PDF');
  // the secret is the merchant's: under another merchant's account it finds nothing
  const [, , acct, tok] = new URL(first.hosted_invoice_url).pathname.split('/');
  assert.equal(acct, env.merchant.id);
  for (const p of [`/invoice/${env.merchants[1].id}/${tok}`, `/invoice/${env.merchants[1].id}/${tok}/pdf`]) {
    const r = await env.request({ path: p });
    assert.equal(r.status, 404, p);
    assert.ok(!r.body.includes(first.number));
  }

  // the renewal: a draft for an hour (no page yet), then finalized by the scheduler with one
  await clockAdvance(stripe, clock, APR1 + 60);
  const draft = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.deepEqual([draft.status, draft.hosted_invoice_url, draft.billing_reason], ['draft', null, 'subscription_cycle']);
  shape(draft, 'invoice');
  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  const renewed = await stripe.invoices.retrieve(draft.id);
  assert.equal(renewed.status, 'paid');
  assert.match(renewed.hosted_invoice_url, URL_RE);
  assert.notEqual(renewed.hosted_invoice_url, first.hosted_invoice_url);
  assert.equal(renewed.invoice_pdf, `${renewed.hosted_invoice_url}/pdf`);
  shape(renewed, 'invoice');
  const fin = (await eventsFor(draft.id)).find((e) => e.type === 'invoice.finalized');
  assert.equal(new URL(fin.data.object.hosted_invoice_url).pathname, new URL(renewed.hosted_invoice_url).pathname);
  assertPaidPage(await hostedPage(renewed), renewed);
});

test('an open charge_automatically invoice\'s hosted page has the pay form: a renewal whose card declined, paid on the page (the subscription active again); a one-off one', async () => {
  const plan = await stripe.prices.create({ currency: 'usd', unit_amount: 1500, recurring: { interval: 'month' }, product_data: { name: 'Declines here' } });
  const { clock, customer } = await clockCustomer();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: plan.id }] });
  const bad = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
  await stripe.subscriptions.update(sub.id, { default_payment_method: bad.id });
  await clockAdvance(stripe, clock, APR1 + HOUR + 60);
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'past_due');
  const inv = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.deepEqual([inv.status, inv.collection_method, inv.attempt_count], ['open', 'charge_automatically', 1]);
  assert.match(inv.hosted_invoice_url, URL_RE);
  shape(inv, 'invoice');
  const page = await hostedPage(inv);
  assert.equal(page.status, 200);
  assert.match(page.body, /data-status="open">Due</);
  assert.match(page.body, /id="amount_due">15\.00 USD</);
  assert.match(page.body, /Pay 15\.00 USD/);
  const attempt = page.body.match(/name="attempt" value="(\d+)"/)[1];
  const body = new URLSearchParams({
    attempt, 'payment_method_data[type]': 'card',
    'payment_method_data[card][number]': '4242424242424242', 'payment_method_data[card][exp_month]': '10',
    'payment_method_data[card][exp_year]': '2035', 'payment_method_data[card][cvc]': '321',
  }).toString();
  const path = new URL(inv.hosted_invoice_url).pathname;
  const paidPage = await env.request({ method: 'POST', path, body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(paidPage.status, 200, paidPage.body);
  assert.match(paidPage.body, /data-status="paid">Paid</);
  const paid = await stripe.invoices.retrieve(inv.id);
  assert.deepEqual([paid.status, paid.amount_paid, paid.hosted_invoice_url], ['paid', 1500, inv.hosted_invoice_url]);
  shape(paid, 'invoice');
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'active');
  assertPaidPage(await hostedPage(paid), paid);

  // a one-off charge_automatically invoice: none as a draft, its page once finalized
  await stripe.invoiceItems.create({ customer: customer.id, amount: 700, currency: 'usd' });
  const d = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
  assert.deepEqual([d.status, d.collection_method, d.hosted_invoice_url], ['draft', 'charge_automatically', null]);
  shape(d, 'invoice');
  const open = await stripe.invoices.finalizeInvoice(d.id, { auto_advance: false });
  assert.equal(open.status, 'open');
  assert.match(open.hosted_invoice_url, URL_RE);
  shape(open, 'invoice');
  const p = await hostedPage(open);
  assert.equal(p.status, 200);
  assert.match(p.body, /Pay 7\.00 USD/);
  const done = await stripe.invoices.pay(open.id, { payment_method: 'pm_card_visa' });
  assert.equal(done.status, 'paid');
  assertPaidPage(await hostedPage(done), done);
});

// ---- editing a draft's lines: add_lines, update_lines, remove_lines, a line's update ----

// A line checked on its own: the spec's age as in an invoice's lines (billing_helpers.js), without
// the invoice's path in front (as tax_rates.test.js checks one).
const lineShape = (l) => billingShape(l, 'line_item', [
  /^\$\.(proration|type): missing required property$/,
  /^\$\.(amount_excluding_tax|price|proration_details|unit_amount_excluding_tax): absent /,
]);
// What a draft shows of its money and lines, to compare one edited through its lines with the
// same one built through invoice items.
const money = (inv) => [inv.subtotal, inv.total, inv.tax, inv.amount_due,
  inv.total_discount_amounts.map((d) => d.amount), inv.lines.data.map((l) => l.amount).sort((a, b) => a - b)];
// The invoice item behind a line.
const itemOf = (l) => l.parent.invoice_item_details.invoice_item;

async function linesSetup() {
  const customer = await stripe.customers.create({ email: 'lines@example.com' });
  const product = await stripe.products.create({ name: 'Widget' });
  const price = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 400 });
  const rate = await stripe.taxRates.create({ display_name: 'VAT', percentage: 10, inclusive: false });
  const coupon = await stripe.coupons.create({ percent_off: 25, duration: 'once' });
  return { customer, product, price, rate, coupon };
}

test('add_lines: new lines by amount, pricing[price], price_data, and a pending item assigned; the same totals as through invoice items; events; idempotent', async () => {
  const { customer, product, price, rate, coupon } = await linesSetup();
  const pending = await stripe.invoiceItems.create({ customer: customer.id, currency: 'usd', amount: 700, description: 'Pending' });
  const draft = await stripe.invoices.create({ customer: customer.id });
  assert.equal(draft.lines.data.length, 0);
  const key = `add-lines-${draft.id}`;
  const params = {
    lines: [
      { amount: 1000, description: 'Setup', metadata: { k: 'v' } },
      { pricing: { price: price.id }, quantity: 3, tax_rates: [rate.id] },
      { price_data: { currency: 'usd', product_data: { name: 'Inline' }, unit_amount: 250 }, quantity: 2, discounts: [{ coupon: coupon.id }] },
      { invoice_item: pending.id },
    ],
    invoice_metadata: { batch: '1' },
  };
  const a = await stripe.invoices.addLines(draft.id, params, { idempotencyKey: key });
  shape(a, 'invoice');
  assert.equal(a.status, 'draft');
  assert.deepEqual(a.metadata, { batch: '1' });
  assert.equal(a.lines.data.length, 4);
  a.lines.data.forEach(lineShape);
  const byDesc = Object.fromEntries(a.lines.data.map((l) => [l.description, l]));
  assert.deepEqual([byDesc.Setup.amount, byDesc.Setup.metadata], [1000, { k: 'v' }]);
  assert.equal(itemOf(byDesc.Pending), pending.id, 'the pending item is the line');
  assert.equal((await stripe.invoiceItems.retrieve(pending.id)).invoice, draft.id);
  const priced = a.lines.data.find((l) => l.pricing.price_details && l.pricing.price_details.price === price.id);
  assert.deepEqual([priced.amount, priced.quantity, priced.tax_rates.map((t) => t.id)], [1200, 3, [rate.id]]);
  // the same invoice built through invoice items
  const other = await stripe.customers.create({ email: 'lines-b@example.com' });
  const b = await stripe.invoices.create({ customer: other.id });
  await stripe.invoiceItems.create({ customer: other.id, invoice: b.id, currency: 'usd', amount: 1000, description: 'Setup' });
  await stripe.invoiceItems.create({ customer: other.id, invoice: b.id, price: price.id, quantity: 3, tax_rates: [rate.id] });
  await stripe.invoiceItems.create({ customer: other.id, invoice: b.id, price_data: { currency: 'usd', product: product.id, unit_amount: 250 }, quantity: 2, discounts: [{ coupon: coupon.id }] });
  await stripe.invoiceItems.create({ customer: other.id, invoice: b.id, currency: 'usd', amount: 700 });
  const bb = await stripe.invoices.retrieve(b.id);
  assert.deepEqual(money(a), money(bb));
  assert.deepEqual(money(a), [3400, 3395, 120, 3395, [125], [500, 700, 1000, 1200]]);
  // events: each item's, then the invoice's
  const created = (await stripe.events.list({ type: 'invoiceitem.created', limit: 10 })).data.filter((e) => e.data.object.invoice === draft.id);
  assert.equal(created.length, 3);
  const assigned = (await stripe.events.list({ type: 'invoiceitem.updated', limit: 10 })).data.find((e) => e.data.object.id === pending.id);
  assert.deepEqual([assigned.data.object.invoice, assigned.data.previous_attributes], [draft.id, { invoice: null }]);
  assert.deepEqual(await eventTypes(draft.id), ['invoice.created', 'invoice.updated']);
  // the same request again: its answer replayed, nothing added twice
  const again = await stripe.invoices.addLines(draft.id, params, { idempotencyKey: key });
  assert.equal(again.lines.data.length, 4);
  assert.equal((await stripe.invoices.retrieve(draft.id)).lines.data.length, 4);
  // finalized as any draft: its total charged
  const fin = await stripe.invoices.finalizeInvoice(draft.id);
  assert.deepEqual([fin.status, fin.total, fin.amount_due], ['open', 3395, 3395]);
});

test('update_lines and a line\'s update: amount, price, quantity, metadata (merged), discounts, tax rates, period; the same totals as invoice items\' updates; the line answered', async () => {
  const { customer, price, rate, coupon } = await linesSetup();
  const other = await stripe.customers.create({ email: 'lines-c@example.com' });
  const made = async (cust) => {
    const inv = await stripe.invoices.create({ customer: cust.id });
    const one = await stripe.invoiceItems.create({ customer: cust.id, invoice: inv.id, currency: 'usd', amount: 1000, metadata: { a: '1' } });
    const two = await stripe.invoiceItems.create({ customer: cust.id, invoice: inv.id, price: price.id, quantity: 2 });
    return { inv, one, two };
  };
  const A = await made(customer);
  const B = await made(other);
  const lineId = (ii) => `il_${ii.id.slice(3)}`;
  const lines = (await stripe.invoices.retrieve(A.inv.id)).lines.data;
  assert.deepEqual(lines.map((l) => l.id).sort(), [lineId(A.one), lineId(A.two)].sort(), 'a line is named after its item');
  const u = await stripe.invoices.updateLines(A.inv.id, {
    lines: [
      { id: lineId(A.one), amount: 1500, metadata: { b: '2' }, period: { start: 1700000000, end: 1702592000 } },
      { id: lineId(A.two), quantity: 5, tax_rates: [rate.id], discounts: [{ coupon: coupon.id }] },
    ],
    invoice_metadata: { edited: 'yes' },
  });
  shape(u, 'invoice');
  assert.deepEqual(u.metadata, { edited: 'yes' });
  const one = u.lines.data.find((l) => l.id === lineId(A.one));
  assert.deepEqual([one.amount, one.metadata, one.period], [1500, { a: '1', b: '2' }, { start: 1700000000, end: 1702592000 }]);
  await stripe.invoiceItems.update(B.one.id, { amount: 1500, metadata: { b: '2' }, period: { start: 1700000000, end: 1702592000 } });
  await stripe.invoiceItems.update(B.two.id, { quantity: 5, tax_rates: [rate.id], discounts: [{ coupon: coupon.id }] });
  assert.deepEqual(money(u), money(await stripe.invoices.retrieve(B.inv.id)));
  // 1500 + 5 × 400 = 3500; 25 % off 2000 = 500; 10 % of 1500 = 150
  assert.deepEqual(money(u), [3500, 3150, 150, 3150, [500], [1500, 2000]]);
  const upd = (await stripe.events.list({ type: 'invoiceitem.updated', limit: 5 })).data.find((e) => e.data.object.id === A.one.id);
  assert.deepEqual([upd.data.object.amount, upd.data.previous_attributes.amount], [1500, 1000]);
  // a line's update: the line answered, the invoice's total following
  const l = await stripe.invoices.updateLineItem(A.inv.id, lineId(A.one), { description: 'Renamed', pricing: { price: price.id } });
  lineShape(l);
  assert.deepEqual([l.id, l.object, l.description, l.amount, l.pricing.price_details.price, l.invoice], [lineId(A.one), 'line_item', 'Renamed', 400, price.id, A.inv.id]);
  const after = await stripe.invoices.retrieve(A.inv.id);
  assert.deepEqual([after.subtotal, after.total], [2400, 2400 - 500 + 150]);
  await stripe.invoiceItems.update(B.one.id, { description: 'Renamed', price: price.id });
  assert.deepEqual(money(after), money(await stripe.invoices.retrieve(B.inv.id)));
  assert.deepEqual((await eventTypes(A.inv.id)).filter((t) => t === 'invoice.updated').length, 4, 'two item creates, update_lines, the line\'s update');
});

test('remove_lines: behavior=delete deletes the item, unassign makes it pending again (the next invoice takes it); the totals follow', async () => {
  const { customer, price } = await linesSetup();
  const inv = await stripe.invoices.create({ customer: customer.id });
  const a = await stripe.invoices.addLines(inv.id, { lines: [{ amount: 1000, description: 'Keep' }, { amount: 300, description: 'Drop' }, { pricing: { price: price.id }, description: 'Later' }] });
  assert.equal(a.total, 1700);
  const by = Object.fromEntries(a.lines.data.map((l) => [l.description, l]));
  const r = await stripe.invoices.removeLines(inv.id, { lines: [{ id: by.Drop.id, behavior: 'delete' }, { id: by.Later.id, behavior: 'unassign' }] });
  shape(r, 'invoice');
  assert.deepEqual([r.subtotal, r.total, r.lines.data.map((l) => l.description)], [1000, 1000, ['Keep']]);
  await assert.rejects(stripe.invoiceItems.retrieve(itemOf(by.Drop)), (err) => err.statusCode === 404);
  const later = await stripe.invoiceItems.retrieve(itemOf(by.Later));
  assert.equal(later.invoice, null, 'pending again');
  const pend = await stripe.invoiceItems.list({ customer: customer.id, pending: true });
  assert.deepEqual(pend.data.map((i) => i.id), [later.id]);
  const del = (await stripe.events.list({ type: 'invoiceitem.deleted', limit: 5 })).data.find((e) => e.data.object.id === itemOf(by.Drop));
  assert.ok(del, 'invoiceitem.deleted');
  const un = (await stripe.events.list({ type: 'invoiceitem.updated', limit: 5 })).data.find((e) => e.data.object.id === later.id);
  assert.deepEqual(un.data.previous_attributes, { invoice: inv.id });
  // the customer's next invoice takes it
  const next = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
  assert.deepEqual([next.total, next.lines.data.map((l) => itemOf(l))], [400, [later.id]]);
  // and it can be assigned back by add_lines
  await stripe.invoices.removeLines(next.id, { lines: [{ id: next.lines.data[0].id, behavior: 'unassign' }] });
  const back = await stripe.invoices.addLines(inv.id, { lines: [{ invoice_item: later.id, description: 'Back' }] });
  assert.deepEqual([back.total, back.lines.data.find((l) => itemOf(l) === later.id).description], [1400, 'Back']);
});

test('editing lines: Stripe\'s refusals (not a draft, a subscription\'s line, a line of another invoice, an item not pending or of another customer, bad lines); one line refused changes nothing; a renewal draft takes new lines', async () => {
  const { customer, price } = await linesSetup();
  const inv = await stripe.invoices.create({ customer: customer.id });
  const a = await stripe.invoices.addLines(inv.id, { lines: [{ amount: 1000, description: 'One' }] });
  const line = a.lines.data[0];
  const refuse = (p, param, status = 400) => assert.rejects(p, (err) => err.statusCode === status && err.raw.param === param);
  // bad lines: nothing of the request is kept, the good line before the bad one neither
  await refuse(stripe.invoices.addLines(inv.id, { lines: [{ amount: 50 }, { amount: 5, pricing: { price: price.id } }] }), 'lines[1][amount]');
  await refuse(stripe.invoices.addLines(inv.id, { lines: [{ amount: 50 }, { pricing: { price: 'price_nope' } }] }), 'lines[1][pricing][price]', 404);
  await refuse(stripe.invoices.addLines(inv.id, { lines: [{ amount: 50 }, { amount: 5, period: { start: 10 } }] }), 'lines[1][period][end]');
  await refuse(stripe.invoices.addLines(inv.id, { lines: [{ amount: 50, tax_amounts: [{ amount: 5, taxable_amount: 50, tax_rate_data: { display_name: 'VAT', inclusive: false, percentage: 101 } }] }] }), 'lines[0][tax_amounts][0][tax_rate_data][percentage]');
  await refuse(stripe.invoices.addLines(inv.id, { lines: [{ amount: 50, quantity_decimal: '1.5' }] }), 'lines[0][quantity_decimal]');
  await refuse(stripe.invoices.updateLines(inv.id, { lines: [{ id: line.id, amount: 70 }, { id: 'il_nope', amount: 1 }] }), 'lines[1][id]', 404);
  await refuse(stripe.invoices.removeLines(inv.id, { lines: [{ id: line.id, behavior: 'forget' }] }), 'lines[0][behavior]');
  await refuse(stripe.invoices.updateLineItem(inv.id, line.id, { pricing: { price: price.id }, amount: 5 }), 'pricing[price]');
  await refuse(stripe.invoices.updateLineItem(inv.id, 'il_nope', { amount: 5 }), 'id', 404);
  // invoice items: one of another customer, one on another invoice
  const stranger = await stripe.customers.create({});
  const theirs = await stripe.invoiceItems.create({ customer: stranger.id, currency: 'usd', amount: 10 });
  await refuse(stripe.invoices.addLines(inv.id, { lines: [{ invoice_item: theirs.id }] }), 'lines[0][invoice_item]');
  await refuse(stripe.invoices.addLines(inv.id, { lines: [{ invoice_item: itemOf(line) }] }), 'lines[0][invoice_item]');
  const eur = await stripe.invoiceItems.create({ customer: customer.id, currency: 'eur', amount: 10 });
  await refuse(stripe.invoices.addLines(inv.id, { lines: [{ invoice_item: eur.id }] }), 'lines[0][invoice_item]');
  const same = await stripe.invoices.retrieve(inv.id);
  assert.deepEqual([same.total, same.lines.data.map((l) => [l.id, l.amount])], [1000, [[line.id, 1000]]]);
  assert.equal((await stripe.invoiceItems.list({ customer: customer.id })).data.length, 2, 'no item made by a refused request');
  assert.deepEqual(await eventTypes(inv.id), ['invoice.created', 'invoice.updated']);
  // another invoice's line is not this one's
  const inv2 = await stripe.invoices.create({ customer: customer.id });
  await refuse(stripe.invoices.updateLines(inv2.id, { lines: [{ id: line.id, amount: 1 }] }), 'lines[0][id]', 404);
  await refuse(stripe.invoices.addLines('in_nope', { lines: [{ amount: 1 }] }), 'id', 404);
  // not a draft
  await stripe.invoices.finalizeInvoice(inv.id);
  await refuse(stripe.invoices.addLines(inv.id, { lines: [{ amount: 1 }] }), undefined);
  await refuse(stripe.invoices.removeLines(inv.id, { lines: [{ id: line.id, behavior: 'delete' }] }), undefined);
  await refuse(stripe.invoices.updateLineItem(inv.id, line.id, { description: 'x' }), undefined);
  assert.equal((await stripe.invoices.retrieve(inv.id)).total, 1000);
  // a renewal draft: a subscription's line is changed through the subscription only; new lines
  // are taken and the draft's total follows
  const plan = await stripe.prices.create({ currency: 'usd', unit_amount: 2500, recurring: { interval: 'month' }, product_data: { name: 'Plan' } });
  const { clock, customer: subCustomer } = await clockCustomer();
  const sub = await stripe.subscriptions.create({ customer: subCustomer.id, items: [{ price: plan.id }] });
  await clockAdvance(stripe, clock, APR1 + 60);
  const draft = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.equal(draft.status, 'draft');
  const subLine = draft.lines.data[0];
  assert.equal(subLine.parent.type, 'subscription_item_details');
  await refuse(stripe.invoices.updateLines(draft.id, { lines: [{ id: subLine.id, amount: 10 }] }), 'lines[0][id]');
  await refuse(stripe.invoices.removeLines(draft.id, { lines: [{ id: subLine.id, behavior: 'delete' }] }), 'lines[0][id]');
  await refuse(stripe.invoices.updateLineItem(draft.id, subLine.id, { quantity: 2 }), 'id');
  const more = await stripe.invoices.addLines(draft.id, { lines: [{ amount: 300, description: 'Extra' }] });
  shape(more, 'invoice');
  assert.deepEqual([more.total, more.lines.data.length], [2800, 2]);
  assert.equal(more.lines.data.find((l) => l.description === 'Extra').subscription, null);
});

test('tax_amounts: a line\'s own taxes taken as given (an archived rate made once from tax_rate_data), the same totals as a tax rate\'s; removed with \'\', gone when unassigned; refused beside tax rates', async () => {
  const { customer, rate } = await linesSetup();
  const inv = await stripe.invoices.create({ customer: customer.id });
  const data = { display_name: 'Sales tax', inclusive: false, percentage: 10, country: 'US', state: 'CA', jurisdiction: 'California', tax_type: 'sales_tax' };
  const a = await stripe.invoices.addLines(inv.id, { lines: [
    { amount: 1000, description: 'A', tax_amounts: [{ amount: 100, taxable_amount: 1000, tax_rate_data: data, taxability_reason: 'standard_rated' }] },
    { amount: 500, description: 'B', tax_amounts: [{ amount: 50, taxable_amount: 500, tax_rate_data: data }] },
  ] });
  shape(a, 'invoice');
  const by = Object.fromEntries(a.lines.data.map((l) => [l.description, l]));
  assert.deepEqual(by.A.tax_amounts.map((t) => [t.amount, t.inclusive, t.taxable_amount]), [[100, false, 1000]]);
  assert.deepEqual(by.A.tax_rates, [], 'the rate made for it is not one of the line\'s rates');
  const made = by.A.tax_amounts[0].tax_rate;
  assert.equal(by.B.tax_amounts[0].tax_rate, made, 'the same tax_rate_data: the same rate');
  const r = await stripe.taxRates.retrieve(made);
  assert.deepEqual([r.active, r.percentage, r.display_name, r.inclusive, r.country, r.state], [false, 10, 'Sales tax', false, 'US', 'CA']);
  // the same invoice with a 10 % tax rate on its lines
  const other = await stripe.customers.create({});
  const b = await stripe.invoices.create({ customer: other.id });
  await stripe.invoiceItems.create({ customer: other.id, invoice: b.id, currency: 'usd', amount: 1000, tax_rates: [rate.id] });
  await stripe.invoiceItems.create({ customer: other.id, invoice: b.id, currency: 'usd', amount: 500, tax_rates: [rate.id] });
  assert.deepEqual(money(a), money(await stripe.invoices.retrieve(b.id)));
  assert.deepEqual([a.subtotal, a.tax, a.total, a.total_taxes.map((t) => t.amount)], [1500, 150, 1650, [150]]);
  // the merchant's own figures, whatever a rate would make of them
  const l = await stripe.invoices.updateLineItem(inv.id, by.B.id, { tax_amounts: [{ amount: 7, taxable_amount: 500, tax_rate_data: data }] });
  lineShape(l);
  assert.deepEqual(l.tax_amounts.map((t) => t.amount), [7]);
  assert.equal((await stripe.invoices.retrieve(inv.id)).total, 1607);
  const cleared = await stripe.invoices.updateLines(inv.id, { lines: [{ id: by.B.id, tax_amounts: '' }] });
  assert.deepEqual([cleared.total, cleared.tax, cleared.lines.data.find((x) => x.id === by.B.id).tax_amounts], [1600, 100, []]);
  // refused beside tax rates: on the same line, or on another line of the invoice
  const refuse = (p, param) => assert.rejects(p, (err) => err.statusCode === 400 && err.raw.param === param);
  await refuse(stripe.invoices.addLines(inv.id, { lines: [{ amount: 5, tax_rates: [rate.id], tax_amounts: [{ amount: 1, taxable_amount: 5, tax_rate_data: data }] }] }), 'lines[0][tax_amounts]');
  await refuse(stripe.invoices.addLines(inv.id, { lines: [{ amount: 5, tax_rates: [rate.id] }] }), 'lines');
  await refuse(stripe.invoices.update(inv.id, { default_tax_rates: [rate.id] }), 'default_tax_rates');
  await refuse(stripe.invoiceItems.update(itemOf(by.B), { tax_rates: [rate.id] }), 'tax_rates');
  await refuse(stripe.invoiceItems.create({ customer: customer.id, invoice: inv.id, currency: 'usd', amount: 5, tax_rates: [rate.id] }), 'tax_rates');
  assert.equal((await stripe.invoices.retrieve(inv.id)).total, 1600, 'nothing changed');
  // unassigned, its item has none: back on the invoice it is untaxed
  await stripe.invoices.removeLines(inv.id, { lines: [{ id: by.A.id, behavior: 'unassign' }] });
  const back = await stripe.invoices.addLines(inv.id, { lines: [{ invoice_item: itemOf(by.A) }] });
  assert.deepEqual([back.total, back.tax], [1500, null], 'no taxes: tax null, as Tender shows an untaxed invoice');
  // finalized with its figures
  await stripe.invoices.updateLineItem(inv.id, by.A.id, { tax_amounts: [{ amount: 90, taxable_amount: 1000, tax_rate_data: data }] });
  const fin = await stripe.invoices.finalizeInvoice(inv.id);
  shape(fin, 'invoice');
  assert.deepEqual([fin.status, fin.tax, fin.total, fin.amount_due], ['open', 90, 1590, 1590]);
});

test('invoice items take pricing[price] (the newer spelling of price) on create and update; quantity_decimal shown; Stripe\'s refusals', async () => {
  const customer = await stripe.customers.create({ payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
  const product = await stripe.products.create({ name: 'Gadget' });
  const price = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 400 });
  const other = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 150 });
  const item = await stripe.invoiceItems.create({ customer: customer.id, pricing: { price: price.id }, quantity: 2 });
  assert.deepEqual([item.amount, item.quantity, item.pricing.type, item.pricing.price_details.price, item.pricing.price_details.product],
    [800, 2, 'price_details', price.id, product.id]);
  assert.equal(String(item.pricing.unit_amount_decimal), '400');
  assert.equal(String(item.quantity_decimal), '2', 'the .d.ts\'s quantity_decimal: the whole quantity as a decimal');
  assert.equal(item.parent, null);
  shape(item, 'invoiceitem');
  const created = (await stripe.events.list({ type: 'invoiceitem.created', limit: 1 })).data[0];
  assert.deepEqual([created.data.object.id, created.data.object.pricing.price_details.price], [item.id, price.id]);
  const up = await stripe.invoiceItems.update(item.id, { pricing: { price: other.id } });
  assert.deepEqual([up.amount, up.pricing.price_details.price, up.price.id], [300, other.id, other.id]);
  shape(up, 'invoiceitem');
  const upd = (await stripe.events.list({ type: 'invoiceitem.updated', limit: 1 })).data[0];
  assert.deepEqual([upd.data.object.pricing.price_details.price, upd.data.previous_attributes.amount], [other.id, 800]);
  // both spellings at once, an unknown price, a recurring one: Stripe's 400s, nothing changes
  const refuse = (p, param, status = 400) => assert.rejects(p, (err) => err.statusCode === status && err.raw.param === param);
  const monthly = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 500, recurring: { interval: 'month' } });
  await refuse(stripe.invoiceItems.create({ customer: customer.id, price: price.id, pricing: { price: price.id } }), 'pricing');
  await refuse(stripe.invoiceItems.create({ customer: customer.id, pricing: { price: 'price_nope' } }), 'pricing[price]', 404);
  await refuse(stripe.invoiceItems.create({ customer: customer.id, pricing: { price: monthly.id } }), 'pricing[price]');
  await refuse(stripe.invoiceItems.create({ customer: customer.id, pricing: { price: price.id }, amount: 5, currency: 'usd' }), 'amount');
  await refuse(stripe.invoiceItems.update(item.id, { price: price.id, pricing: { price: price.id } }), 'pricing');
  await refuse(stripe.invoiceItems.update(item.id, { pricing: { price: monthly.id } }), 'pricing[price]');
  await refuse(stripe.invoiceItems.update(item.id, { pricing: { price: price.id }, price_data: { currency: 'usd', product: product.id, unit_amount: 1 } }), 'pricing[price]');
  await refuse(stripe.invoiceItems.create({ customer: customer.id, pricing: { price: price.id, nope: 1 } }), 'pricing[nope]');
  const after = await stripe.invoiceItems.retrieve(item.id);
  assert.deepEqual([after.amount, after.pricing.price_details.price], [300, other.id]);
  assert.equal((await stripe.invoiceItems.list({ customer: customer.id })).data.length, 1, 'no refused create made an item');
});
