'use strict';
// Changing what a customer is billed, through stripe-node: invoice items and one-off invoices,
// changes of a subscription's items with their prorations, and pausing and resuming. Time moves
// with test clocks. Every new object is checked against Stripe's OpenAPI spec, and money is
// checked to add up: an invoice's total is the sum of its lines, its payment's charge and
// balance transaction are that total, and `tender verify` passes at the end.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { startTender, stopAll, tender } = require('./helpers');
const { billingShape, clockReady, clockAdvance } = require('./billing_helpers');

let env;
let stripe;
let other;
const DAY = 86400;
// a renewal's invoice is a draft for an hour before it is finalized and charged (Stripe's)
const HOUR = 3600;
const T0 = Date.UTC(2025, 2, 1, 0, 0, 0) / 1000; // Mar 1: a 31-day first period

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
});
after(stopAll);


const shape = (obj, schema) => billingShape(obj, schema);

const ready = (clock) => clockReady(stripe, clock);

const advance = (clock, to) => clockAdvance(stripe, clock, to);

async function eventsOf(id, client = stripe) {
  const all = await client.events.list({ limit: 100 }).autoPagingToArray({ limit: 10000 });
  return all.filter((e) => e.data.object.id === id).reverse().map((e) => e.type);
}

async function setup(pm = 'pm_card_visa', frozen = T0) {
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: frozen });
  const opts = { test_clock: clock.id, email: 'jenny@example.com' };
  if (pm) Object.assign(opts, { payment_method: pm, invoice_settings: { default_payment_method: pm } });
  const customer = await stripe.customers.create(opts);
  return { clock, customer };
}

// An invoice adds up: total = sum of lines; a paid one's payment, charge and balance
// transaction are its amount_due.
async function assertConserved(inv) {
  const lines = await stripe.invoices.listLineItems(inv.id, { limit: 100 });
  const sum = lines.data.reduce((a, l) => a + l.amount, 0);
  assert.equal(inv.total, sum, 'total is the sum of the lines');
  assert.equal(inv.subtotal, sum);
  // finalized, it took the customer's balance (customer_balance_invoices.test.js)
  assert.equal(inv.amount_due, Math.max(0, sum + inv.starting_balance));
  if (inv.status === 'paid' && inv.amount_due > 0) {
    const full = await stripe.invoices.retrieve(inv.id, { expand: ['payments'] });
    const pi = await stripe.paymentIntents.retrieve(full.payments.data[0].payment.payment_intent,
      { expand: ['latest_charge.balance_transaction'] });
    assert.equal(pi.status, 'succeeded');
    assert.equal(pi.amount, inv.amount_due);
    assert.equal(pi.latest_charge.amount_captured, inv.amount_due);
    assert.equal(pi.latest_charge.balance_transaction.amount, inv.amount_due);
    assert.equal(inv.amount_paid, inv.amount_due);
  }
  return lines.data;
}

let monthly; // 30.00 usd a month
let product;

test('invoice items: create, retrieve, update, delete, list, shape, events, refused input', async () => {
  monthly = await stripe.prices.create({
    currency: 'usd', unit_amount: 3000, recurring: { interval: 'month' }, product_data: { name: 'Team' },
  });
  product = monthly.product;
  const { clock, customer } = await setup();
  const a = await stripe.invoiceItems.create({
    customer: customer.id, amount: 1250, currency: 'usd', description: 'Setup fee', metadata: { k: 'v' },
  });
  assert.match(a.id, /^ii_/);
  assert.equal(a.object, 'invoiceitem');
  assert.deepEqual([a.amount, a.quantity, a.unit_amount, a.currency], [1250, 1, 1250, 'usd']);
  assert.equal(a.invoice, null);
  assert.equal(a.proration, false);
  assert.equal(a.date, T0);
  assert.deepEqual(a.period, { start: T0, end: T0 });
  assert.equal(a.test_clock, clock.id);
  assert.deepEqual(a.metadata, { k: 'v' });
  shape(a, 'invoiceitem');
  // a one-time price × quantity, and price_data
  const once = await stripe.prices.create({ currency: 'usd', unit_amount: 400, product });
  const b = await stripe.invoiceItems.create({ customer: customer.id, price: once.id, quantity: 3,
    period: { start: T0, end: T0 + 10 * DAY } });
  assert.deepEqual([b.amount, b.unit_amount, b.quantity], [1200, 400, 3]);
  assert.equal(b.price.id, once.id);
  assert.deepEqual(b.period, { start: T0, end: T0 + 10 * DAY });
  shape(b, 'invoiceitem');
  const c = await stripe.invoiceItems.create({ customer: customer.id, price_data: { currency: 'usd', product, unit_amount: 99 }, quantity: 2 });
  assert.equal(c.amount, 198);
  assert.equal(c.price.active, false);
  assert.deepEqual(await stripe.invoiceItems.retrieve(a.id), a);
  const u = await stripe.invoiceItems.update(a.id, { amount: 1500, description: 'Setup', metadata: { x: '1' } });
  assert.equal(u.amount, 1500);
  assert.equal(u.description, 'Setup');
  assert.deepEqual(u.metadata, { k: 'v', x: '1' });
  const d = await stripe.invoiceItems.del(c.id);
  assert.deepEqual(d, { ...d, id: c.id, object: 'invoiceitem', deleted: true });
  await assert.rejects(stripe.invoiceItems.retrieve(c.id), (e) => e.statusCode === 404);
  const pending = await stripe.invoiceItems.list({ customer: customer.id, pending: true });
  assert.deepEqual(pending.data.map((x) => x.id), [b.id, a.id]);
  assert.equal((await stripe.invoiceItems.list({ customer: customer.id, pending: false })).data.length, 0);
  assert.deepEqual(await eventsOf(a.id), ['invoiceitem.created', 'invoiceitem.updated']);
  assert.deepEqual(await eventsOf(c.id), ['invoiceitem.created', 'invoiceitem.deleted']);
  // refused, nothing made
  const recurringPrice = monthly.id;
  const cases = [
    [{ customer: customer.id }, 'amount'],
    [{ customer: customer.id, amount: 100 }, 'currency'],
    [{ customer: customer.id, amount: 100, currency: 'usd', price: once.id }, 'amount'],
    [{ customer: customer.id, price: recurringPrice }, 'price'],
    [{ customer: customer.id, price: once.id, currency: 'eur' }, 'currency'],
    [{ customer: customer.id, price: once.id, quantity: 0 }, 'quantity'],
    [{ customer: customer.id, amount: 100000000, currency: 'usd' }, 'amount'],
    [{ customer: customer.id, unit_amount: 99999999, quantity: 2, currency: 'usd' }, 'quantity'],
    [{ customer: customer.id, amount: 100, currency: 'usd', period: { start: T0 + 5, end: T0 } }, 'period[end]'],
    [{ customer: customer.id, amount: 100, currency: 'usd', invoice: 'in_nope' }, 'invoice'],
    [{ customer: customer.id, amount: 100, currency: 'usd', subscription: 'sub_nope' }, 'subscription'],
  ];
  for (const [params, param] of cases) {
    await assert.rejects(stripe.invoiceItems.create(params),
      (e) => e.statusCode >= 400 && e.statusCode < 500 && e.param === param, JSON.stringify(params));
  }
  await assert.rejects(stripe.invoiceItems.create({ customer: 'cus_nope', amount: 1, currency: 'usd' }), (e) => e.statusCode === 404);
  await assert.rejects(other.invoiceItems.retrieve(a.id), (e) => e.statusCode === 404);
  assert.equal((await stripe.invoiceItems.list({ customer: customer.id })).data.length, 2);
});

test('a one-off invoice takes the pending items (include), is finalized and paid; drafts can be deleted', async () => {
  const { customer } = await setup();
  const a = await stripe.invoiceItems.create({ customer: customer.id, amount: 2500, currency: 'usd', description: 'Consulting' });
  const b = await stripe.invoiceItems.create({ customer: customer.id, amount: -500, currency: 'usd', description: 'Goodwill credit' });
  const eurItem = await stripe.invoiceItems.create({ customer: customer.id, amount: 700, currency: 'eur' });
  // exclude (the default): an empty draft, the items stay pending
  const empty = await stripe.invoices.create({ customer: customer.id, currency: 'usd' });
  assert.equal(empty.status, 'draft');
  assert.equal(empty.total, 0);
  assert.equal(empty.lines.data.length, 0);
  assert.equal(empty.number, null);
  const del = await stripe.invoices.del(empty.id);
  assert.equal(del.deleted, true);
  await assert.rejects(stripe.invoices.retrieve(empty.id), (e) => e.statusCode === 404);
  // include: a draft of the usd items
  const inv = await stripe.invoices.create({
    customer: customer.id, currency: 'usd', pending_invoice_items_behavior: 'include', description: 'March work',
    metadata: { order: '7' }, collection_method: 'charge_automatically',
  });
  assert.equal(inv.status, 'draft');
  assert.equal(inv.billing_reason, 'manual');
  assert.equal(inv.total, 2000);
  assert.equal(inv.amount_due, 2000);
  assert.equal(inv.auto_advance, false);
  assert.equal(inv.subscription, null);
  assert.deepEqual(inv.lines.data.map((l) => [l.amount, l.parent.invoice_item_details.invoice_item]), [[2500, a.id], [-500, b.id]]);
  assert.equal(inv.lines.data[0].parent.type, 'invoice_item_details');
  shape(inv, 'invoice');
  assert.equal((await stripe.invoiceItems.retrieve(a.id)).invoice, inv.id);
  assert.equal((await stripe.invoiceItems.retrieve(eurItem.id)).invoice, null);
  assert.deepEqual((await stripe.invoiceItems.list({ invoice: inv.id })).data.map((x) => x.id).sort(), [a.id, b.id].sort());
  // an item added to the draft, one changed, one removed: the total follows
  const c = await stripe.invoiceItems.create({ customer: customer.id, amount: 300, currency: 'usd', invoice: inv.id });
  assert.equal(c.invoice, inv.id);
  await stripe.invoiceItems.update(a.id, { amount: 3000 });
  await stripe.invoiceItems.del(b.id);
  let cur = await stripe.invoices.retrieve(inv.id);
  assert.equal(cur.total, 3300);
  assert.equal(cur.lines.data.length, 2);
  await assert.rejects(stripe.invoiceItems.create({ customer: customer.id, amount: 1, currency: 'eur', invoice: inv.id }),
    (e) => e.statusCode === 400 && e.param === 'currency');
  // (paying a draft would finalize it first, as Stripe does: invoice_finalization.test.js)
  // finalize: numbered, open; its items are fixed
  const fin = await stripe.invoices.finalizeInvoice(inv.id);
  assert.equal(fin.status, 'open');
  assert.match(fin.number, /-0001$/);
  await assert.rejects(stripe.invoiceItems.update(a.id, { amount: 1 }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.invoiceItems.del(a.id), (e) => e.statusCode === 400);
  await assert.rejects(stripe.invoices.del(inv.id), (e) => e.statusCode === 400);
  await assert.rejects(stripe.invoiceItems.create({ customer: customer.id, amount: 1, currency: 'usd', invoice: inv.id }),
    (e) => e.statusCode === 400 && e.param === 'invoice');
  const paid = await stripe.invoices.pay(inv.id);
  assert.equal(paid.status, 'paid');
  assert.equal(paid.amount_paid, 3300);
  shape(paid, 'invoice');
  const lines = await assertConserved(paid);
  assert.equal(lines.length, 2);
  assert.deepEqual(await eventsOf(inv.id), ['invoice.created', 'invoice.updated', 'invoice.updated', 'invoice.updated',
    'invoice.finalized', 'invoice.paid', 'invoice.payment_succeeded']);
  assert.deepEqual(await eventsOf(empty.id), ['invoice.created', 'invoice.deleted']);
  // the eur item is still pending; an invoice in eur takes it
  const e = await stripe.invoices.create({ customer: customer.id, currency: 'eur', pending_invoice_items_behavior: 'include' });
  assert.equal(e.total, 700);
  // deleting that draft makes its item pending again
  await stripe.invoices.del(e.id);
  assert.equal((await stripe.invoiceItems.retrieve(eurItem.id)).invoice, null);
  // a draft whose total is below zero: nothing charged, the credit goes to the customer's balance
  await stripe.invoiceItems.create({ customer: customer.id, amount: -800, currency: 'usd', description: 'Refund of overcharge' });
  const neg = await stripe.invoices.create({ customer: customer.id, currency: 'usd', pending_invoice_items_behavior: 'include' });
  assert.equal(neg.total, -800);
  assert.equal(neg.amount_due, 0);
  const negFin = await stripe.invoices.finalizeInvoice(neg.id);
  assert.equal(negFin.status, 'paid');
  assert.equal(negFin.amount_paid, 0);
  assert.deepEqual([negFin.starting_balance, negFin.ending_balance], [0, -800]);
  assert.equal((await stripe.customers.retrieve(customer.id)).balance, -800);
  assert.equal((await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data.filter((x) => x.currency === 'usd').length, 0);
  // tenants
  await assert.rejects(other.invoices.create({ customer: customer.id }), (e) => e.statusCode === 404);
  await assert.rejects(stripe.invoices.create({ customer: customer.id, collection_method: 'send_invoice' }),
    (e) => e.statusCode === 400 && e.param === 'collection_method');
});

test('a renewal invoice takes the pending items of its customer and subscription', async () => {
  const { clock, customer } = await setup();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  assert.equal(sub.status, 'active');
  const first = await stripe.invoices.retrieve(sub.latest_invoice);
  assert.equal(first.total, 3000);
  const a = await stripe.invoiceItems.create({ customer: customer.id, amount: 450, currency: 'usd', subscription: sub.id, description: 'Extra seats' });
  assert.equal(a.subscription, sub.id);
  assert.equal(a.parent.subscription_details.subscription, sub.id);
  shape(a, 'invoiceitem');
  const b = await stripe.invoiceItems.create({ customer: customer.id, amount: 50, currency: 'usd' });
  await advance(clock, T0 + 31 * DAY + HOUR + 60);
  const renewed = await stripe.subscriptions.retrieve(sub.id);
  const inv = await stripe.invoices.retrieve(renewed.latest_invoice);
  assert.equal(inv.billing_reason, 'subscription_cycle');
  assert.equal(inv.status, 'paid');
  assert.equal(inv.total, 3500);
  shape(inv, 'invoice');
  const lines = await assertConserved(inv);
  assert.deepEqual(lines.map((l) => l.parent.type).sort(),
    ['invoice_item_details', 'invoice_item_details', 'subscription_item_details']);
  assert.equal((await stripe.invoiceItems.retrieve(a.id)).invoice, inv.id);
  assert.equal((await stripe.invoiceItems.retrieve(b.id)).invoice, inv.id);
  await assert.rejects(stripe.invoiceItems.del(a.id), (e) => e.statusCode === 400);
});

// Stripe's proration of one line: amount × remaining / period, to the nearest minor unit,
// halves away from zero (computed here with BigInt, independently of Tender).
function prorate(amount, remaining, period) {
  const mag = BigInt(Math.abs(amount)) * BigInt(remaining);
  const q = (2n * mag + BigInt(period)) / (2n * BigInt(period));
  return amount < 0 ? -Number(q) : Number(q);
}

const P = 31 * DAY; // the first period: Mar 1 → Apr 1
const APR1 = T0 + P;

test('a quantity change mid-period: unused time credited, remaining time charged, on the next invoice', async () => {
  const { clock, customer } = await setup();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  const si = sub.items.data[0].id;
  await advance(clock, T0 + 10 * DAY);
  const upd = await stripe.subscriptions.update(sub.id, { items: [{ id: si, quantity: 2 }] });
  assert.equal(upd.items.data[0].id, si);
  assert.equal(upd.items.data[0].quantity, 2);
  assert.equal(upd.latest_invoice, sub.latest_invoice); // nothing invoiced yet
  shape({ ...upd }, 'subscription');
  const pending = (await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data;
  assert.equal(pending.length, 2);
  const credit = pending.find((x) => x.amount < 0);
  const charge = pending.find((x) => x.amount > 0);
  assert.equal(credit.amount, prorate(-3000, 21 * DAY, P));
  assert.equal(charge.amount, prorate(6000, 21 * DAY, P));
  assert.deepEqual([credit.amount, charge.amount], [-2032, 4065]);
  for (const x of [credit, charge]) {
    assert.equal(x.proration, true);
    assert.equal(x.subscription, sub.id);
    assert.equal(x.subscription_item, si);
    assert.deepEqual(x.period, { start: T0 + 10 * DAY, end: APR1 });
    shape(x, 'invoiceitem');
  }
  assert.equal(credit.quantity, 1);
  assert.equal(charge.quantity, 2);
  assert.match(credit.description, /^Unused time on Team after 11 Mar 2025$/);
  assert.match(charge.description, /^Remaining time on 2 × Team after 11 Mar 2025$/);
  const evs = await eventsOf(sub.id);
  assert.equal(evs[evs.length - 1], 'customer.subscription.updated');
  // proration_behavior none: no more items
  const none = await stripe.subscriptions.update(sub.id, { items: [{ id: si, quantity: 3 }], proration_behavior: 'none' });
  assert.equal(none.items.data[0].quantity, 3);
  assert.equal((await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data.length, 2);
  // the renewal: 3 × 30.00 for April, with the prorations
  await advance(clock, APR1 + HOUR + 60);
  const renewed = await stripe.subscriptions.retrieve(sub.id);
  const inv = await stripe.invoices.retrieve(renewed.latest_invoice);
  assert.equal(inv.billing_reason, 'subscription_cycle');
  assert.equal(inv.status, 'paid');
  assert.equal(inv.total, 9000 - 2032 + 4065);
  shape(inv, 'invoice');
  const lines = await assertConserved(inv);
  const pr = lines.filter((l) => l.parent.type === 'invoice_item_details');
  assert.deepEqual(pr.map((l) => l.parent.invoice_item_details.proration), [true, true]);
});

test('always_invoice: a price change is invoiced and paid at once; the money adds up', async () => {
  const { clock, customer } = await setup();
  const pro = await stripe.prices.create({ currency: 'usd', unit_amount: 5000, recurring: { interval: 'month' }, product });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  const si = sub.items.data[0].id;
  await advance(clock, T0 + 10 * DAY);
  const at = T0 + 10 * DAY - 3600; // proration_date: an hour earlier
  const upd = await stripe.subscriptions.update(sub.id, {
    items: [{ id: si, price: pro.id }], proration_behavior: 'always_invoice', proration_date: at,
    expand: ['latest_invoice'],
  });
  assert.equal(upd.items.data[0].price.id, pro.id);
  assert.equal(upd.items.data[0].id, si);
  const inv = upd.latest_invoice;
  assert.notEqual(inv.id, sub.latest_invoice);
  assert.equal(inv.billing_reason, 'subscription_update');
  assert.equal(inv.status, 'paid');
  const rem = APR1 - at;
  assert.equal(inv.total, prorate(-3000, rem, P) + prorate(5000, rem, P));
  shape(inv, 'invoice');
  const lines = await assertConserved(inv);
  assert.equal(lines.length, 2);
  assert.ok(lines.every((l) => l.parent.invoice_item_details.proration));
  assert.equal((await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data.length, 0);
  // a downgrade with always_invoice: a credit, nothing charged, on the customer's balance
  const down = await stripe.subscriptions.update(sub.id, {
    items: [{ id: si, price: monthly.id }], proration_behavior: 'always_invoice', expand: ['latest_invoice'],
  });
  const credit = down.latest_invoice.total;
  assert.equal(credit, prorate(-5000, 21 * DAY, P) + prorate(3000, 21 * DAY, P));
  assert.equal(down.latest_invoice.amount_due, 0);
  assert.equal(down.latest_invoice.status, 'paid');
  assert.equal(down.latest_invoice.ending_balance, credit);
  assert.equal((await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data.length, 0);
  assert.equal((await stripe.customers.retrieve(customer.id)).balance, credit);
  // the renewal takes the credit
  await advance(clock, APR1 + HOUR + 60);
  const next = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.equal(next.total, 3000);
  assert.equal(next.starting_balance, credit);
  assert.equal(next.amount_due, 3000 + credit);
  await assertConserved(next);
});

test('a new price for an item without a quantity sets its quantity back to 1 (Stripe\'s documented default); given, or by /v1/subscription_items, it is kept', async () => {
  const { customer } = await setup();
  const pro = await stripe.prices.create({ currency: 'usd', unit_amount: 5000, recurring: { interval: 'month' }, product });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id, quantity: 3 }] });
  const si = sub.items.data[0].id;
  // at the period's start: the three seats' whole period credited, one seat of pro charged
  const upd = await stripe.subscriptions.update(sub.id, {
    items: [{ id: si, price: pro.id }], proration_behavior: 'always_invoice', expand: ['latest_invoice'],
  });
  assert.equal(upd.items.data[0].id, si);
  assert.equal(upd.items.data[0].quantity, 1);
  assert.equal(upd.latest_invoice.total, -3 * 3000 + 5000);
  await assertConserved(upd.latest_invoice);
  // the same price again, or a quantity given: kept
  await stripe.subscriptions.update(sub.id, { items: [{ id: si, quantity: 4 }], proration_behavior: 'none' });
  assert.equal((await stripe.subscriptions.update(sub.id, { items: [{ id: si, price: pro.id }], proration_behavior: 'none' })).items.data[0].quantity, 4);
  assert.equal((await stripe.subscriptions.update(sub.id, { items: [{ id: si, price: monthly.id, quantity: 4 }], proration_behavior: 'none' })).items.data[0].quantity, 4);
  assert.equal((await stripe.subscriptionItems.update(si, { price: pro.id, proration_behavior: 'none' })).quantity, 4);
});

test('always_invoice with a declined card: error_if_incomplete is a 402 and changes nothing; allow_incomplete leaves it past_due', async () => {
  const { clock, customer } = await setup();
  const pro = await stripe.prices.create({ currency: 'usd', unit_amount: 5000, recurring: { interval: 'month' }, product });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  const si = sub.items.data[0].id;
  const bad = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
  await stripe.subscriptions.update(sub.id, { default_payment_method: bad.id });
  const now = T0 + 10 * DAY;
  await advance(clock, now);
  const change = { items: [{ id: si, price: pro.id }], proration_behavior: 'always_invoice' };
  const due = prorate(-3000, APR1 - now, P) + prorate(5000, APR1 - now, P);
  // error_if_incomplete: the card error, and nothing of the change is kept
  const before = await stripe.subscriptions.retrieve(sub.id);
  const count = async () => [
    (await eventsOf(sub.id)).length,
    (await stripe.invoices.list({ customer: customer.id, limit: 100 })).data.length,
    (await stripe.invoiceItems.list({ customer: customer.id, limit: 100 })).data.length,
    (await stripe.paymentIntents.list({ customer: customer.id, limit: 100 })).data.length,
    (await stripe.charges.list({ customer: customer.id, limit: 100 })).data.length,
  ];
  const counted = await count();
  const key = `change-${Date.now()}`;
  for (let i = 0; i < 2; i++) {
    await assert.rejects(stripe.subscriptions.update(sub.id, { ...change, payment_behavior: 'error_if_incomplete' }, { idempotencyKey: key }),
      (e) => e.statusCode === 402 && e.type === 'StripeCardError' && e.code === 'card_declined');
  }
  assert.deepEqual(await stripe.subscriptions.retrieve(sub.id), before);
  assert.deepEqual(await count(), counted, 'no event, invoice, item, intent or charge kept');
  // allow_incomplete (the default): the change stays, its invoice open, the subscription past_due
  const upd = await stripe.subscriptions.update(sub.id, { ...change, expand: ['latest_invoice'] });
  assert.equal(upd.status, 'past_due');
  assert.equal(upd.items.data[0].price.id, pro.id);
  const inv = upd.latest_invoice;
  assert.equal(inv.billing_reason, 'subscription_update');
  assert.equal(inv.status, 'open');
  assert.equal(inv.total, due);
  assert.equal(inv.amount_remaining, due);
  assert.equal(inv.attempt_count, 1);
  assert.equal(inv.next_payment_attempt, now + 3 * DAY, 'retried as a renewal is');
  shape(inv, 'invoice');
  shape({ ...upd, latest_invoice: inv.id }, 'subscription');
  await assertConserved(inv);
  assert.deepEqual(await eventsOf(inv.id), ['invoice.created', 'invoice.finalized', 'invoice.payment_failed']);
  assert.deepEqual((await eventsOf(sub.id)).slice(-2), ['customer.subscription.updated', 'customer.subscription.updated']);
  const failed = (await stripe.charges.list({ customer: customer.id })).data.filter((c) => c.status === 'failed');
  assert.deepEqual(failed.map((c) => c.amount), [due]);
  // a good card pays it: active again, the money adds up
  const good = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
  const paid = await stripe.invoices.pay(inv.id, { payment_method: good.id });
  assert.equal(paid.status, 'paid');
  await assertConserved(paid);
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'active');
});

test('always_invoice with a card that asks for 3-D Secure: error_if_incomplete is a 402 and changes nothing; allow_incomplete waits', async () => {
  const { clock, customer } = await setup();
  const pro = await stripe.prices.create({ currency: 'usd', unit_amount: 5000, recurring: { interval: 'month' }, product });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  const si = sub.items.data[0].id;
  const tds = await stripe.paymentMethods.attach('pm_card_authenticationRequired', { customer: customer.id });
  await stripe.subscriptions.update(sub.id, { default_payment_method: tds.id });
  await advance(clock, T0 + 10 * DAY);
  const before = await stripe.subscriptions.retrieve(sub.id);
  const invoices = (await stripe.invoices.list({ customer: customer.id })).data.length;
  const intents = (await stripe.paymentIntents.list({ customer: customer.id })).data.length;
  const change = { items: [{ id: si, price: pro.id }], proration_behavior: 'always_invoice' };
  await assert.rejects(stripe.subscriptions.update(sub.id, { ...change, payment_behavior: 'error_if_incomplete' }),
    (e) => e.statusCode === 402 && e.code === 'authentication_required');
  // the same through /v1/subscription_items
  await assert.rejects(stripe.subscriptionItems.update(si, { price: pro.id, proration_behavior: 'always_invoice', payment_behavior: 'error_if_incomplete' }),
    (e) => e.statusCode === 402 && e.code === 'authentication_required');
  assert.deepEqual(await stripe.subscriptions.retrieve(sub.id), before);
  assert.equal((await stripe.invoices.list({ customer: customer.id })).data.length, invoices);
  assert.equal((await stripe.paymentIntents.list({ customer: customer.id })).data.length, intents);
  assert.equal((await stripe.invoiceItems.list({ customer: customer.id })).data.length, 0);
  // allow_incomplete: kept, the invoice waiting for the cardholder, the subscription past_due
  const upd = await stripe.subscriptions.update(sub.id, { ...change, expand: ['latest_invoice.payments'] });
  assert.equal(upd.status, 'past_due');
  assert.equal(upd.latest_invoice.status, 'open');
  const pi = await stripe.paymentIntents.retrieve(upd.latest_invoice.payments.data[0].payment.payment_intent);
  assert.equal(pi.status, 'requires_action');
  assert.deepEqual((await eventsOf(upd.latest_invoice.id)).slice(-1), ['invoice.payment_action_required']);
});

test('a new interval starts a new period now and invoices it at once', async () => {
  const { clock, customer } = await setup();
  const yearly = await stripe.prices.create({ currency: 'usd', unit_amount: 30000, recurring: { interval: 'year' }, product });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  const now = T0 + 10 * DAY;
  await advance(clock, now);
  const upd = await stripe.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0].id, price: yearly.id }], expand: ['latest_invoice'] });
  assert.equal(upd.billing_cycle_anchor, now);
  assert.equal(upd.items.data[0].current_period_start, now);
  assert.equal(upd.items.data[0].current_period_end, Date.UTC(2026, 2, 11, 0, 0, 0) / 1000);
  const inv = upd.latest_invoice;
  assert.equal(inv.billing_reason, 'subscription_update');
  assert.equal(inv.status, 'paid');
  assert.equal(inv.total, 30000 + prorate(-3000, 21 * DAY, P));
  await assertConserved(inv);
});

test('/v1/subscription_items: create, retrieve, update, delete, list, with prorations', async () => {
  const { clock, customer } = await setup();
  const addon = await stripe.prices.create({ currency: 'usd', unit_amount: 1000, recurring: { interval: 'month' }, product_data: { name: 'Addon' } });
  const eurPrice = await stripe.prices.create({ currency: 'eur', unit_amount: 1000, recurring: { interval: 'month' }, product });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  await advance(clock, T0 + 10 * DAY);
  const it = await stripe.subscriptionItems.create({ subscription: sub.id, price: addon.id, quantity: 2, metadata: { a: '1' } });
  assert.match(it.id, /^si_/);
  assert.equal(it.object, 'subscription_item');
  assert.equal(it.quantity, 2);
  assert.equal(it.subscription, sub.id);
  assert.deepEqual(it.metadata, { a: '1' });
  shape(it, 'subscription_item');
  assert.deepEqual(await stripe.subscriptionItems.retrieve(it.id), it);
  const list = await stripe.subscriptionItems.list({ subscription: sub.id });
  assert.deepEqual(list.data.map((x) => x.id).sort(), [sub.items.data[0].id, it.id].sort());
  let pending = (await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data;
  assert.deepEqual(pending.map((x) => x.amount), [prorate(2000, 21 * DAY, P)]);
  const up = await stripe.subscriptionItems.update(it.id, { quantity: 1, proration_behavior: 'none' });
  assert.equal(up.quantity, 1);
  const del = await stripe.subscriptionItems.del(it.id);
  assert.deepEqual(del, { ...del, id: it.id, object: 'subscription_item', deleted: true });
  await assert.rejects(stripe.subscriptionItems.retrieve(it.id), (e) => e.statusCode === 404);
  pending = (await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data;
  assert.deepEqual(pending.map((x) => x.amount).sort((a, b) => a - b), [prorate(-1000, 21 * DAY, P), prorate(2000, 21 * DAY, P)]);
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).items.data.length, 1);
  // refused, nothing changed
  await assert.rejects(stripe.subscriptionItems.del(sub.items.data[0].id), (e) => e.statusCode === 400);
  await assert.rejects(stripe.subscriptionItems.create({ subscription: sub.id, price: monthly.id }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.subscriptionItems.create({ subscription: sub.id, price: eurPrice.id }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.subscriptionItems.create({ subscription: 'sub_nope', price: addon.id }), (e) => e.statusCode === 404);
  await assert.rejects(stripe.subscriptions.update(sub.id, { items: [{ id: 'si_nope', quantity: 2 }] }),
    (e) => e.statusCode === 404 && e.param === 'items[0][id]');
  await assert.rejects(stripe.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0].id, quantity: 2 }], proration_date: T0 - 5 }),
    (e) => e.statusCode === 400 && e.param === 'proration_date');
  await assert.rejects(other.subscriptionItems.retrieve(sub.items.data[0].id), (e) => e.statusCode === 404);
  const after = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(after.items.data[0].quantity, 1);
  assert.equal((await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data.length, 2);
});

test('items[n][price_data] on update: a new item and a replaced price, each an inactive price, prorated', async () => {
  const { clock, customer } = await setup();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  const si = sub.items.data[0].id;
  await advance(clock, T0 + 10 * DAY);
  // a new item from price_data: its remaining time charged, pending for the next invoice
  const upd = await stripe.subscriptions.update(sub.id, {
    items: [{ price_data: { currency: 'usd', product: product, unit_amount: 1200, recurring: { interval: 'month' } }, quantity: 2 }],
  });
  assert.equal(upd.items.data.length, 2);
  const added = upd.items.data.find((x) => x.id !== si);
  assert.equal(added.quantity, 2);
  assert.equal(added.price.unit_amount, 1200);
  assert.equal(added.price.active, false);
  assert.equal(added.price.product, product);
  assert.deepEqual(added.price.recurring.interval, 'month');
  assert.equal(upd.latest_invoice, sub.latest_invoice);
  shape({ ...upd }, 'subscription');
  const pending = (await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data;
  assert.equal(pending.length, 1);
  assert.equal(pending[0].amount, prorate(2400, 21 * DAY, P));
  assert.equal(pending[0].proration, true);
  assert.equal(pending[0].subscription_item, added.id);
  assert.equal((pending[0].pricing?.price_details?.price) ?? pending[0].price?.id, added.price.id);
  assert.match(pending[0].description, /^Remaining time on 2 × Team after 11 Mar 2025$/);
  shape(pending[0], 'invoiceitem');
  // the first item's price replaced by price_data with always_invoice: credited and charged now
  const rep = await stripe.subscriptions.update(sub.id, {
    items: [{ id: si, price_data: { currency: 'usd', product: product, unit_amount_decimal: '4500', recurring: { interval: 'month' } } }],
    proration_behavior: 'always_invoice', expand: ['latest_invoice'],
  });
  const item = rep.items.data.find((x) => x.id === si);
  assert.notEqual(item.price.id, monthly.id);
  assert.equal(item.price.unit_amount, 4500);
  assert.equal(item.price.active, false);
  const inv = rep.latest_invoice;
  assert.equal(inv.billing_reason, 'subscription_update');
  assert.equal(inv.status, 'paid');
  assert.equal(inv.total, prorate(2400, 21 * DAY, P) + prorate(-3000, 21 * DAY, P) + prorate(4500, 21 * DAY, P));
  shape(inv, 'invoice');
  await assertConserved(inv);
  // refused: another currency, another interval, price with price_data, a missing product; nothing changed
  const cases = [
    [{ items: [{ price_data: { currency: 'eur', product, unit_amount: 100, recurring: { interval: 'month' } } }] }, 'items'],
    [{ items: [{ price_data: { currency: 'usd', product, unit_amount: 100, recurring: { interval: 'year' } } }] }, 'items'],
    [{ items: [{ price: monthly.id, price_data: { currency: 'usd', product, unit_amount: 100, recurring: { interval: 'month' } } }] }, 'items[0]'],
    [{ items: [{ price_data: { currency: 'usd', product: 'prod_nope', unit_amount: 100, recurring: { interval: 'month' } } }] }, 'items[0][price_data][product]'],
    [{ items: [{ price_data: { currency: 'usd', product, recurring: { interval: 'month' } } }] }, 'items[0][price_data][unit_amount]'],
  ];
  for (const [params, param] of cases) {
    // a missing product is resource_missing (404), as Tender answers a missing price
    await assert.rejects(stripe.subscriptions.update(sub.id, params),
      (e) => (e.statusCode === 400 || (e.statusCode === 404 && e.code === 'resource_missing')) && e.param === param,
      JSON.stringify(params));
  }
  const same = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(same.items.data.length, 2);
  assert.equal(same.latest_invoice, inv.id);
  assert.equal((await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data.length, 0);
  // the renewal bills the inline prices in full
  await advance(clock, APR1 + HOUR + 60);
  const next = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.equal(next.billing_reason, 'subscription_cycle');
  assert.equal(next.total, 2400 + 4500);
  await assertConserved(next);
});

test('price_data on POST /v1/subscription_items (create and update): an inactive price, prorated as a change', async () => {
  const { clock, customer } = await setup();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  await advance(clock, T0 + 10 * DAY);
  const it = await stripe.subscriptionItems.create({
    subscription: sub.id, quantity: 2, proration_behavior: 'always_invoice',
    price_data: { currency: 'usd', product, unit_amount: 700, recurring: { interval: 'month' } },
  });
  assert.equal(it.object, 'subscription_item');
  assert.equal(it.subscription, sub.id);
  assert.equal(it.quantity, 2);
  assert.equal(it.price.unit_amount, 700);
  assert.equal(it.price.active, false);
  assert.equal(it.price.product, product);
  shape(it, 'subscription_item');
  const after = await stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
  assert.equal(after.items.data.length, 2);
  const inv = after.latest_invoice;
  assert.equal(inv.billing_reason, 'subscription_update');
  assert.equal(inv.status, 'paid');
  assert.equal(inv.total, prorate(1400, 21 * DAY, P));
  shape(inv, 'invoice');
  await assertConserved(inv);
  // its price replaced by another price_data (no proration): a new inactive price
  const upd = await stripe.subscriptionItems.update(it.id, {
    price_data: { currency: 'usd', product, unit_amount_decimal: '900', recurring: { interval: 'month' } }, proration_behavior: 'none',
  });
  assert.notEqual(upd.price.id, it.price.id);
  assert.equal(upd.price.unit_amount, 900);
  assert.equal(upd.price.active, false);
  assert.equal(upd.quantity, 2);
  // refused, nothing changed: price with price_data, another interval, a missing product
  const cases = [
    [{ price: monthly.id, price_data: { currency: 'usd', product, unit_amount: 100, recurring: { interval: 'month' } } }, 'price_data'],
    [{ price_data: { currency: 'usd', product, unit_amount: 100, recurring: { interval: 'year' } } }, 'items'],
    [{ price_data: { currency: 'usd', product: 'prod_nope', unit_amount: 100, recurring: { interval: 'month' } } }, 'price_data[product]'],
    [{ price_data: { currency: 'usd', product, recurring: { interval: 'month' } } }, 'price_data[unit_amount]'],
  ];
  for (const [params, param] of cases) {
    await assert.rejects(stripe.subscriptionItems.create({ subscription: sub.id, ...params }),
      (e) => (e.statusCode === 400 || (e.statusCode === 404 && e.code === 'resource_missing')) && e.param === param,
      JSON.stringify(params));
  }
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).items.data.length, 2);
  // the renewal bills both in full
  await advance(clock, APR1 + HOUR + 60);
  const next = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.equal(next.total, 3000 + 1800);
  await assertConserved(next);
});

test('/v1/subscription_items billing_thresholds[usage_gte] (metered items) and off_session: kept, shown, unset; refused on a licensed item', async () => {
  const { customer } = await setup();
  const seats = await stripe.prices.create({ currency: 'usd', unit_amount: 1000, recurring: { interval: 'month' }, product_data: { name: 'Seats' } });
  const calls = await stripe.prices.create({
    currency: 'usd', unit_amount: 2, recurring: { interval: 'month', usage_type: 'metered' }, product_data: { name: 'Calls' },
  });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: seats.id }] });
  const licensed = sub.items.data[0].id;
  assert.equal(sub.items.data[0].billing_thresholds, null);
  await assert.rejects(stripe.subscriptionItems.update(licensed, { billing_thresholds: { usage_gte: 10 } }),
    (e) => e.statusCode === 400 && e.param === 'billing_thresholds');
  await assert.rejects(stripe.subscriptionItems.create({ subscription: sub.id, price: calls.id, billing_thresholds: { usage_gte: 0 } }),
    (e) => e.statusCode === 400 && e.param === 'billing_thresholds[usage_gte]');
  await assert.rejects(stripe.rawRequest('POST', '/v1/subscription_items', { subscription: sub.id, price: calls.id, billing_thresholds: { reset: 'x' } }),
    (e) => e.statusCode === 400 && e.code === 'parameter_unknown');
  assert.equal((await stripe.subscriptionItems.list({ subscription: sub.id })).data.length, 1, 'refused: nothing added');
  const it = await stripe.subscriptionItems.create({ subscription: sub.id, price: calls.id, billing_thresholds: { usage_gte: 500 } });
  shape(it, 'subscription_item');
  assert.deepEqual(it.billing_thresholds, { usage_gte: 500 });
  const s1 = await stripe.subscriptions.retrieve(sub.id);
  assert.deepEqual(s1.items.data.find((x) => x.id === it.id).billing_thresholds, { usage_gte: 500 });
  assert.equal(s1.items.data.find((x) => x.id === licensed).billing_thresholds, null);
  // another change of the subscription keeps it
  await stripe.subscriptionItems.update(licensed, { quantity: 3, off_session: true });
  assert.deepEqual((await stripe.subscriptionItems.retrieve(it.id)).billing_thresholds, { usage_gte: 500 });
  const up = await stripe.subscriptionItems.update(it.id, { billing_thresholds: { usage_gte: 800 }, off_session: true });
  assert.deepEqual(up.billing_thresholds, { usage_gte: 800 });
  const evs = (await stripe.events.list({ type: 'customer.subscription.updated', limit: 100 }).autoPagingToArray({ limit: 10000 }))
    .filter((e) => e.data.object.id === sub.id);
  assert.deepEqual(evs[0].data.object.items.data.find((x) => x.id === it.id).billing_thresholds, { usage_gte: 800 });
  const un = await stripe.subscriptionItems.update(it.id, { billing_thresholds: '' });
  shape(un, 'subscription_item');
  assert.equal(un.billing_thresholds, null);
  await assert.rejects(stripe.subscriptionItems.update(it.id, { billing_thresholds: { usage_gte: 5 }, payment_behavior: 'pending_if_incomplete' }),
    (e) => e.statusCode === 400 && e.param === 'billing_thresholds');
  // items[n][billing_thresholds] on POST /v1/subscriptions and its update
  await assert.rejects(stripe.subscriptions.create({ customer: customer.id, items: [{ price: seats.id, billing_thresholds: { usage_gte: 5 } }] }),
    (e) => e.statusCode === 400 && e.param === 'items[0][billing_thresholds]');
  const s2 = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: seats.id }, { price: calls.id, billing_thresholds: { usage_gte: 1000 } }],
  });
  shape(s2, 'subscription');
  assert.deepEqual(s2.items.data.map((x) => x.billing_thresholds), [null, { usage_gte: 1000 }]);
  const callsItem = s2.items.data[1].id;
  const u2 = await stripe.subscriptions.update(s2.id, { items: [{ id: callsItem, billing_thresholds: { usage_gte: 2000 } }] });
  assert.deepEqual(u2.items.data.find((x) => x.id === callsItem).billing_thresholds, { usage_gte: 2000 });
  const u3 = await stripe.subscriptions.update(s2.id, { items: [{ id: callsItem, billing_thresholds: '' }] });
  assert.equal(u3.items.data.find((x) => x.id === callsItem).billing_thresholds, null);
  await assert.rejects(stripe.subscriptions.update(s2.id, { items: [{ id: s2.items.data[0].id, billing_thresholds: { usage_gte: 3 } }] }),
    (e) => e.statusCode === 400 && e.param === 'items[0][billing_thresholds]');
});

// billing_mode as stripe-node 23's Subscription.BillingMode shapes it
function assertMode(sub, type, updatedAt, discounts = 'included') {
  assert.deepEqual(Object.keys(sub.billing_mode).sort(), ['flexible', 'type', 'updated_at']);
  assert.equal(sub.billing_mode.type, type);
  assert.deepEqual(sub.billing_mode.flexible, type === 'flexible' ? { proration_discounts: discounts } : null);
  assert.equal(sub.billing_mode.updated_at, updatedAt);
}

test('billing_mode: flexible by default from API version 2025-09-30, classic when asked or before; migrate goes one way', async () => {
  const { clock, customer } = await setup();
  // stripe-node 23's own version (2026-…): flexible
  const flex = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  assertMode(flex, 'flexible', T0);
  shape({ ...flex }, 'subscription');
  const created = (await stripe.events.list({ type: 'customer.subscription.created', limit: 100 })).data
    .find((e) => e.data.object.id === flex.id);
  assertMode(created.data.object, 'flexible', T0);
  const asked = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: monthly.id }], billing_mode: { type: 'flexible', flexible: { proration_discounts: 'included' } },
  });
  assertMode(asked, 'flexible', T0);
  const classic = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }], billing_mode: { type: 'classic' } });
  assertMode(classic, 'classic', T0);
  // an API version before 2025-09-30.clover: classic, Stripe's default then
  const basil = env.stripe(undefined, { apiVersion: '2025-06-30.basil' });
  const old = await basil.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  assertMode(old, 'classic', T0);
  assertMode(await stripe.subscriptions.retrieve(old.id), 'classic', T0);
  // refused input changes nothing
  const before = (await stripe.subscriptions.list({ customer: customer.id, limit: 100 })).data.length;
  const bad = async (params, param) => {
    const err = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }], ...params })
      .then(() => null, (e) => e);
    assert.ok(err, `${JSON.stringify(params)} is refused`);
    assert.equal(err.statusCode, 400);
    assert.equal(err.param, param);
  };
  await bad({ billing_mode: { type: 'monthly' } }, 'billing_mode[type]');
  await bad({ billing_mode: { flexible: { proration_discounts: 'included' } } }, 'billing_mode[type]');
  await bad({ billing_mode: { type: 'classic', flexible: { proration_discounts: 'included' } } }, 'billing_mode[flexible]');
  await bad({ billing_mode: { type: 'flexible', flexible: { proration_discounts: 'gross' } } },
    'billing_mode[flexible][proration_discounts]');
  assert.equal((await stripe.subscriptions.list({ customer: customer.id, limit: 100 })).data.length, before);
  // migrate: classic → flexible, taken at the clock's time, in a customer.subscription.updated
  await advance(clock, T0 + 3 * DAY);
  const migrated = await stripe.subscriptions.migrate(classic.id, { billing_mode: { type: 'flexible' } });
  assertMode(migrated, 'flexible', T0 + 3 * DAY);
  shape({ ...migrated }, 'subscription');
  assert.deepEqual(migrated.items.data.map((i) => i.id), classic.items.data.map((i) => i.id));
  const evs = (await stripe.events.list({ type: 'customer.subscription.updated', limit: 100 })).data
    .filter((e) => e.data.object.id === classic.id && e.data.previous_attributes.billing_mode);
  assert.equal(evs.length, 1);
  assert.deepEqual(evs[0].data.previous_attributes, { billing_mode: { flexible: null, type: 'classic', updated_at: T0 } });
  assertMode(evs[0].data.object, 'flexible', T0 + 3 * DAY);
  // never back: a flexible one is refused, and classic is no migration target
  for (const [id, mode, param] of [[migrated.id, { type: 'flexible' }, 'billing_mode[type]'],
    [flex.id, { type: 'flexible' }, 'billing_mode[type]'], [old.id, { type: 'classic' }, 'billing_mode[type]']]) {
    const err = await stripe.subscriptions.migrate(id, { billing_mode: mode }).then(() => null, (e) => e);
    assert.ok(err);
    assert.equal(err.statusCode, 400);
    assert.equal(err.param, param);
  }
  const missing = await stripe.subscriptions.migrate(old.id, {}).then(() => null, (e) => e);
  assert.equal(missing.statusCode, 400);
  assert.equal(missing.code, 'parameter_missing');
  assertMode(await stripe.subscriptions.retrieve(old.id), 'classic', T0);
  // proration_discounts: itemized at creation, or migrated to from included; never back
  const itemized = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: monthly.id }], billing_mode: { type: 'flexible', flexible: { proration_discounts: 'itemized' } },
  });
  assertMode(itemized, 'flexible', T0 + 3 * DAY, 'itemized');
  const toItemized = await stripe.subscriptions.migrate(flex.id, { billing_mode: { type: 'flexible', flexible: { proration_discounts: 'itemized' } } });
  assertMode(toItemized, 'flexible', T0 + 3 * DAY, 'itemized');
  assertMode(await stripe.subscriptions.retrieve(flex.id), 'flexible', T0 + 3 * DAY, 'itemized');
  for (const id of [itemized.id, flex.id]) {
    const err = await stripe.subscriptions.migrate(id, { billing_mode: { type: 'flexible', flexible: { proration_discounts: 'included' } } })
      .then(() => null, (e) => e);
    assert.equal(err.statusCode, 400);
    assert.equal(err.param, 'billing_mode[flexible][proration_discounts]');
  }
  assertMode(await stripe.subscriptions.retrieve(itemized.id), 'flexible', T0 + 3 * DAY, 'itemized');
  // what makes a subscription later keeps it: a schedule (and its subscription), a quote
  const mode = { type: 'flexible', flexible: { proration_discounts: 'itemized' } };
  const sched = await stripe.subscriptionSchedules.create({
    customer: customer.id, start_date: 'now', phases: [{ items: [{ price: monthly.id }] }], billing_mode: mode,
  });
  assertMode(sched, 'flexible', T0 + 3 * DAY, 'itemized');
  assertMode(await stripe.subscriptions.retrieve(sched.subscription), 'flexible', T0 + 3 * DAY, 'itemized');
  const quote = await stripe.quotes.create({ customer: customer.id, line_items: [{ price: monthly.id }], subscription_data: { billing_mode: mode } });
  assert.deepEqual(quote.subscription_data.billing_mode, mode);
});

// Prorations under a discount, as Stripe makes them: each proration takes the share of the
// discounts that applied to the period it prorates (a percentage's, or an amount off's spread
// over the period's lines), prorated as its line is. Classic and flexible `included`: the
// amount is net, its line shows the discounts at 0; flexible `itemized`: the amount is gross and
// the line's discount_amounts take them off the invoice.
test('prorations under a percent-off and an amount-off coupon: classic, flexible included, flexible itemized', async () => {
  const premium = await stripe.prices.create({ currency: 'usd', unit_amount: 6000, recurring: { interval: 'month' }, product });
  const coupons = {
    half: await stripe.coupons.create({ percent_off: 50, duration: 'forever' }),
    off: await stripe.coupons.create({ amount_off: 1000, currency: 'usd', duration: 'forever' }),
  };
  // what each coupon takes of a full period's line of 30.00 and of 60.00
  const full = { half: { m: 1500, p: 3000 }, off: { m: 1000, p: 1000 } };
  const modes = {
    classic: { type: 'classic' },
    included: { type: 'flexible', flexible: { proration_discounts: 'included' } },
    itemized: { type: 'flexible', flexible: { proration_discounts: 'itemized' } },
  };
  const T10 = T0 + 10 * DAY;
  const T20 = T0 + 20 * DAY;
  const lineKey = (l) => [l.amount, l.description, l.discount_amounts, l.discounts, l.discountable];
  const netOf = (mode, gross, disc) => (mode === 'itemized' ? gross : gross - disc);
  // one proration (its line, and its invoice item) as the mode shows it
  async function checkProration(mode, x, did, gross, disc) {
    assert.equal(x.amount, netOf(mode, gross, disc));
    assert.deepEqual(x.discounts, [did]);
    assert.equal(x.discountable, false);
    if (x.object === 'line_item') {
      assert.deepEqual(x.discount_amounts, [{ amount: mode === 'itemized' ? disc : 0, discount: did }]);
      x = await stripe.invoiceItems.retrieve(x.parent.invoice_item_details.invoice_item);
      assert.equal(x.amount, netOf(mode, gross, disc));
      assert.deepEqual(x.discounts, [did]);
    }
    assert.equal(x.proration, true);
    // filled for flexible billing mode's prorations only (stripe-node 23's InvoiceItem)
    assert.deepEqual(x.proration_details.discount_amounts, mode === 'classic' ? [] : [{ amount: disc, discount: did }]);
    shape(x, 'invoiceitem');
  }
  // the six cases side by side, each on its own clock
  const cases = ['half', 'off'].flatMap((c) => Object.keys(modes).map((mode) => [c, mode]));
  await Promise.all(cases.map(async ([c, mode]) => {
    {
      const { clock, customer } = await setup();
      const sub = await stripe.subscriptions.create({
        customer: customer.id, items: [{ price: monthly.id }], discounts: [{ coupon: coupons[c].id }], billing_mode: modes[mode],
      });
      const did = sub.discounts[0];
      const si = sub.items.data[0].id;
      assert.equal((await stripe.invoices.retrieve(sub.latest_invoice)).total, 3000 - full[c].m);

      // upgrade on Mar 11, invoiced at once: 21 of 31 days credited at 30.00, charged at 60.00
      await advance(clock, T10);
      const up = { items: [{ id: si, price: premium.id }], proration_behavior: 'always_invoice', proration_date: T10 };
      const prev = await stripe.invoices.createPreview({ subscription: sub.id, subscription_details: up });
      const upd = await stripe.subscriptions.update(sub.id, { ...up, expand: ['latest_invoice'] });
      const inv = upd.latest_invoice;
      assert.equal(inv.status, 'paid');
      shape(inv, 'invoice');
      const lines = (await stripe.invoices.listLineItems(inv.id, { limit: 100 })).data;
      assert.deepEqual(lines.map(lineKey), prev.lines.data.map(lineKey), `${c} ${mode}: previewed as made`);
      for (const k of ['subtotal', 'total', 'amount_due']) assert.equal(inv[k], prev[k], k);
      const cr = { gross: prorate(-3000, 21 * DAY, P), disc: prorate(-full[c].m, 21 * DAY, P) };
      const ch = { gross: prorate(6000, 21 * DAY, P), disc: prorate(full[c].p, 21 * DAY, P) };
      await checkProration(mode, lines.find((l) => l.amount < 0), did, cr.gross, cr.disc);
      await checkProration(mode, lines.find((l) => l.amount > 0), did, ch.gross, ch.disc);
      const net = cr.gross - cr.disc + ch.gross - ch.disc;
      assert.equal(inv.total, net, `${c} ${mode}: the discounted difference`);
      if (mode === 'itemized') {
        assert.equal(inv.subtotal, cr.gross + ch.gross);
        assert.deepEqual(inv.total_discount_amounts, [{ amount: cr.disc + ch.disc, discount: did }]);
      } else {
        await assertConserved(inv);
      }

      // downgrade on Mar 21 (pending): 11 days credited (flexible: of the 21 days' charge it
      // billed), 11 days charged at 30.00
      await advance(clock, T20);
      await stripe.subscriptions.update(sub.id, { items: [{ id: si, price: monthly.id }], proration_date: T20 });
      const pending = (await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data;
      assert.equal(pending.length, 2);
      const dcr = mode === 'classic'
        ? { gross: prorate(-6000, 11 * DAY, P), disc: prorate(-full[c].p, 11 * DAY, P) }
        : { gross: prorate(-ch.gross, 11 * DAY, 21 * DAY), disc: prorate(-ch.disc, 11 * DAY, 21 * DAY) };
      const dch = { gross: prorate(3000, 11 * DAY, P), disc: prorate(full[c].m, 11 * DAY, P) };
      await checkProration(mode, pending.find((x) => x.amount < 0), did, dcr.gross, dcr.disc);
      await checkProration(mode, pending.find((x) => x.amount > 0), did, dch.gross, dch.disc);

      // April's invoice: its period discounted as ever, the prorations as they are; the upcoming
      // preview is what the renewal then makes
      const upcoming = await stripe.invoices.createPreview({ subscription: sub.id });
      await advance(clock, APR1 + HOUR + 60);
      const renewal = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
      assert.equal(renewal.billing_reason, 'subscription_cycle');
      assert.equal(renewal.status, 'paid');
      shape(renewal, 'invoice');
      const rl = (await stripe.invoices.listLineItems(renewal.id, { limit: 100 })).data;
      assert.deepEqual(rl.map(lineKey), upcoming.lines.data.map(lineKey), `${c} ${mode}: the upcoming invoice as made`);
      for (const k of ['subtotal', 'total', 'amount_due']) assert.equal(renewal[k], upcoming[k], k);
      assert.equal(renewal.total, 3000 - full[c].m + dcr.gross - dcr.disc + dch.gross - dch.disc, `${c} ${mode}: April`);
    }
  }));
  // one case by hand: 50 % off, classic, upgrade = -(30.00 - 15.00) × 21/31 + (60.00 - 30.00) × 21/31
  assert.deepEqual([prorate(-3000, 21 * DAY, P) - prorate(-1500, 21 * DAY, P), prorate(6000, 21 * DAY, P) - prorate(3000, 21 * DAY, P)], [-1016, 2033]);
});

test('billing_mode: after a partial first period (billing_cycle_anchor), flexible credits the share billed, classic the full price', async () => {
  const amounts = {};
  const MAR11 = T0 + 10 * DAY;
  for (const mode of ['classic', 'flexible']) {
    const { clock, customer } = await setup();
    const sub = await stripe.subscriptions.create({
      customer: customer.id, items: [{ price: monthly.id }], billing_cycle_anchor: MAR11,
      ...(mode === 'classic' ? { billing_mode: { type: 'classic' } } : {}),
    });
    assertMode(sub, mode, T0);
    // Mar 1 → Mar 11 billed as 10 of the 28 days of Feb 11 → Mar 11
    const first = await stripe.invoices.retrieve(sub.latest_invoice);
    assert.equal(first.total, prorate(3000, 10 * DAY, 28 * DAY));
    await advance(clock, T0 + 4 * DAY);
    await stripe.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0].id, quantity: 2 }], proration_behavior: 'always_invoice' });
    const after = await stripe.subscriptions.retrieve(sub.id);
    const inv = await stripe.invoices.retrieve(after.latest_invoice);
    assert.equal(inv.status, 'paid');
    const lines = await assertConserved(inv);
    amounts[mode] = lines.map((l) => l.amount).sort((a, b) => a - b);
    shape(inv, 'invoice');
  }
  // charged alike: 2 × 30.00 for 6 of the 10 days; credited: 30.00 for 6 of 10 (classic),
  // 6 of 10 of the 10.71 billed (flexible)
  assert.deepEqual(amounts.classic, [prorate(-3000, 6 * DAY, 10 * DAY), prorate(6000, 6 * DAY, 10 * DAY)]);
  assert.deepEqual(amounts.flexible, [prorate(-prorate(3000, 10 * DAY, 28 * DAY), 6 * DAY, 10 * DAY), prorate(6000, 6 * DAY, 10 * DAY)]);
  assert.deepEqual(amounts.classic, [-1800, 3600]);
  assert.deepEqual(amounts.flexible, [-643, 3600]);
});

test('tender verify passes: the money in the ledger adds up', async () => {
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});
