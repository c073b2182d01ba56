'use strict';
// payment_behavior on a change of a subscription's items, through stripe-node: pending updates
// (pending_if_incomplete: the change waits for its invoice to be paid, and expires 23 hours
// later with its invoice voided) and default_incomplete (the change applied, its invoice's
// intent left for the client to confirm). Time moves with test clocks; objects are checked
// against Stripe's OpenAPI spec; money is checked to add up (one charge per paid invoice, none
// for a change that did not pay) and `tender verify` passes at the end.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, tender } = require('./helpers');
const { billingShape, clockAdvance } = require('./billing_helpers');

let env;
let stripe;
const DAY = 86400;
const HOUR = 3600;
const T0 = Date.UTC(2025, 2, 1, 0, 0, 0) / 1000; // Mar 1: a 31-day first period
const P = 31 * DAY;
const APR1 = T0 + P;
const NOW = T0 + 10 * DAY;

before(async () => {
  env = await startTender({ merchants: 1 });
  stripe = env.stripe();
});
after(stopAll);

const shape = (obj, schema) => billingShape(obj, schema);
const advance = (clock, to) => clockAdvance(stripe, clock, to);

function prorate(amount, remaining, period) {
  const mag = BigInt(Math.abs(amount)) * BigInt(remaining);
  const q = (2n * mag + BigInt(period)) / (2n * BigInt(period));
  return amount < 0 ? -Number(q) : Number(q);
}

async function eventsOf(id) {
  const all = await stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 10000 });
  return all.filter((e) => e.data.object.id === id).reverse();
}

let monthly;
let pro;
let yearly;

// a customer on a clock at T0 paying with `pm`, subscribed to monthly, the clock at NOW
async function setup(pm) {
  if (!monthly) {
    monthly = await stripe.prices.create({ currency: 'usd', unit_amount: 3000, recurring: { interval: 'month' }, product_data: { name: 'Team' } });
    pro = await stripe.prices.create({ currency: 'usd', unit_amount: 5000, recurring: { interval: 'month' }, product: monthly.product });
    yearly = await stripe.prices.create({ currency: 'usd', unit_amount: 30000, recurring: { interval: 'year' }, product: monthly.product });
  }
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
  const customer = await stripe.customers.create({
    test_clock: clock.id, payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' },
  });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  if (pm) {
    const bad = await stripe.paymentMethods.attach(pm, { customer: customer.id });
    await stripe.subscriptions.update(sub.id, { default_payment_method: bad.id });
  }
  await advance(clock, NOW);
  return { clock, customer, sub, si: sub.items.data[0].id };
}

const DUE = prorate(-3000, APR1 - NOW, P) + prorate(5000, APR1 - NOW, P);

async function charges(customer) {
  return (await stripe.charges.list({ customer: customer.id, limit: 100 })).data;
}

test('pending_if_incomplete, paid at once: applied, pending_update null, one charge', async () => {
  const { customer, sub, si } = await setup(null);
  const upd = await stripe.subscriptions.update(sub.id, {
    items: [{ id: si, price: pro.id }], proration_behavior: 'always_invoice',
    payment_behavior: 'pending_if_incomplete', expand: ['latest_invoice'],
  });
  assert.equal(upd.pending_update, null);
  assert.equal(upd.status, 'active');
  assert.equal(upd.items.data[0].price.id, pro.id);
  assert.equal(upd.items.data[0].id, si);
  const inv = upd.latest_invoice;
  assert.equal(inv.status, 'paid');
  assert.equal(inv.billing_reason, 'subscription_update');
  assert.equal(inv.total, DUE);
  assert.equal(inv.amount_paid, DUE);
  shape({ ...upd, latest_invoice: inv.id }, 'subscription');
  const ok = (await charges(customer)).filter((c) => c.status === 'succeeded').map((c) => c.amount);
  assert.deepEqual(ok, [DUE, 3000]);
  const types = (await eventsOf(sub.id)).map((e) => e.type);
  assert.deepEqual(types.slice(-3), ['customer.subscription.updated', 'customer.subscription.updated',
    'customer.subscription.pending_update_applied']);
});

test('pending_if_incomplete, declined: 200 with pending_update, nothing applied; paid later by /pay: applied', async () => {
  const { customer, sub, si } = await setup('pm_card_chargeCustomerFail');
  const before = await stripe.subscriptions.retrieve(sub.id);
  const upd = await stripe.subscriptions.update(sub.id, {
    items: [{ id: si, price: pro.id, quantity: 2 }], proration_behavior: 'always_invoice',
    payment_behavior: 'pending_if_incomplete', expand: ['latest_invoice'],
  });
  const due = prorate(-3000, APR1 - NOW, P) + prorate(10000, APR1 - NOW, P);
  assert.equal(upd.status, 'active', 'it cycles as if no update had been asked');
  assert.deepEqual(upd.items, before.items, 'the items are unchanged');
  const pu = upd.pending_update;
  assert.ok(pu);
  assert.equal(pu.expires_at, NOW + 23 * HOUR);
  assert.equal(pu.billing_cycle_anchor, null);
  assert.equal(pu.trial_end, null);
  assert.equal(pu.trial_from_plan, null);
  assert.equal(pu.subscription_items.length, 1);
  assert.equal(pu.subscription_items[0].id, si);
  assert.equal(pu.subscription_items[0].price.id, pro.id);
  assert.equal(pu.subscription_items[0].quantity, 2);
  const inv = upd.latest_invoice;
  assert.equal(inv.status, 'open');
  assert.equal(inv.total, due);
  assert.equal(inv.attempt_count, 1);
  assert.equal(inv.next_payment_attempt, null, 'not retried by itself');
  shape({ ...upd, latest_invoice: inv.id }, 'subscription');
  shape(inv, 'invoice');
  assert.deepEqual(await stripe.subscriptions.retrieve(sub.id), { ...upd, latest_invoice: inv.id });
  // another change meanwhile is refused
  await assert.rejects(stripe.subscriptionItems.update(si, { quantity: 3 }), (e) => e.statusCode === 400);
  assert.deepEqual((await charges(customer)).map((c) => [c.amount, c.status]), [[due, 'failed'], [3000, 'succeeded']]);
  // paid by hand with a good card: applied
  const good = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
  const paid = await stripe.invoices.pay(inv.id, { payment_method: good.id });
  assert.equal(paid.status, 'paid');
  assert.equal(paid.amount_paid, due);
  const after = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(after.pending_update, null);
  assert.equal(after.items.data[0].price.id, pro.id);
  assert.equal(after.items.data[0].quantity, 2);
  assert.equal(after.latest_invoice, inv.id);
  assert.equal(after.status, 'active');
  shape(after, 'subscription');
  const evs = await eventsOf(sub.id);
  const applied = evs.filter((e) => e.type === 'customer.subscription.pending_update_applied');
  assert.equal(applied.length, 1);
  const last = evs.filter((e) => e.type === 'customer.subscription.updated').pop();
  assert.equal(last.data.previous_attributes.items.data[0].price.id, monthly.id);
  assert.deepEqual((await charges(customer)).filter((c) => c.status === 'succeeded').map((c) => c.amount), [due, 3000]);
});

test('pending_if_incomplete, not paid: the scheduler drops it at expires_at and voids its invoice', async () => {
  const { clock, customer, sub, si } = await setup('pm_card_chargeCustomerFail');
  const upd = await stripe.subscriptions.update(sub.id, {
    items: [{ id: si, price: yearly.id }], payment_behavior: 'pending_if_incomplete',
  });
  assert.equal(upd.pending_update.billing_cycle_anchor, NOW, 'a new interval: a new anchor');
  assert.equal(upd.pending_update.subscription_items[0].price.id, yearly.id);
  assert.equal(upd.items.data[0].price.id, monthly.id);
  assert.equal(upd.billing_cycle_anchor, T0);
  shape(upd, 'subscription');
  await advance(clock, NOW + 22 * HOUR);
  assert.ok((await stripe.subscriptions.retrieve(sub.id)).pending_update);
  await advance(clock, NOW + 23 * HOUR + 60);
  const after = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(after.pending_update, null);
  assert.equal(after.items.data[0].price.id, monthly.id);
  assert.equal(after.billing_cycle_anchor, T0);
  assert.equal(after.status, 'active');
  const inv = await stripe.invoices.retrieve(upd.latest_invoice);
  assert.equal(inv.status, 'void');
  const types = (await eventsOf(sub.id)).map((e) => e.type);
  assert.equal(types.filter((t) => t === 'customer.subscription.pending_update_expired').length, 1);
  assert.equal(types.filter((t) => t === 'customer.subscription.pending_update_applied').length, 0);
  // it renews on its old items
  await advance(clock, APR1 + HOUR + 60);
  const renewed = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.equal(renewed.billing_reason, 'subscription_cycle');
  assert.equal(renewed.subtotal, 3000);
  assert.equal((await charges(customer)).filter((c) => c.status === 'succeeded').length, 1);
});

test('pending_if_incomplete: voiding its invoice drops the pending update', async () => {
  const { customer, sub, si } = await setup('pm_card_chargeCustomerFail');
  const upd = await stripe.subscriptions.update(sub.id, {
    items: [{ id: si, quantity: 3 }], proration_behavior: 'always_invoice', payment_behavior: 'pending_if_incomplete',
  });
  assert.equal(upd.pending_update.subscription_items[0].quantity, 3);
  const voided = await stripe.invoices.voidInvoice(upd.latest_invoice);
  assert.equal(voided.status, 'void');
  const after = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(after.pending_update, null);
  assert.equal(after.items.data[0].quantity, 1);
  assert.equal(after.status, 'active');
  const last = (await eventsOf(sub.id)).pop();
  assert.equal(last.type, 'customer.subscription.updated');
  assert.equal(last.data.previous_attributes.pending_update.subscription_items[0].quantity, 3);
  // a new change is taken again
  const again = await stripe.subscriptions.update(sub.id, { items: [{ id: si, quantity: 2 }], proration_behavior: 'none' });
  assert.equal(again.items.data[0].quantity, 2);
  assert.equal((await charges(customer)).filter((c) => c.status === 'succeeded').length, 1);
});

test('pending_if_incomplete with 3-D Secure: pending until the intent is confirmed, then applied', async () => {
  const { customer, sub, si } = await setup('pm_card_authenticationRequired');
  const upd = await stripe.subscriptionItems.update(si, {
    price: pro.id, proration_behavior: 'always_invoice', payment_behavior: 'pending_if_incomplete',
  });
  assert.equal(upd.price.id, pro.id, 'the item as the update makes it');
  shape(upd, 'subscription_item');
  const s = await stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice.payments'] });
  assert.ok(s.pending_update);
  assert.equal(s.items.data[0].price.id, monthly.id);
  const inv = s.latest_invoice;
  assert.equal(inv.status, 'open');
  const piId = inv.payments.data[0].payment.payment_intent;
  assert.equal((await stripe.paymentIntents.retrieve(piId)).status, 'requires_action');
  const good = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
  const pi = await stripe.paymentIntents.confirm(piId, { payment_method: good.id });
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.amount, DUE);
  const after = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(after.pending_update, null);
  assert.equal(after.items.data[0].price.id, pro.id);
  assert.equal((await stripe.invoices.retrieve(inv.id)).status, 'paid');
});

test('pending_if_incomplete refuses other parameters (400) and applies a change without payment at once', async () => {
  const { sub, si } = await setup(null);
  const base = { items: [{ id: si, quantity: 2 }], proration_behavior: 'always_invoice', payment_behavior: 'pending_if_incomplete' };
  for (const extra of [{ metadata: { a: '1' } }, { description: 'x' }, { cancel_at_period_end: true }]) {
    await assert.rejects(stripe.subscriptions.update(sub.id, { ...base, ...extra }),
      (e) => e.statusCode === 400 && e.type === 'StripeInvalidRequestError' && e.param === Object.keys(extra)[0]);
  }
  await assert.rejects(stripe.subscriptions.update(sub.id, { ...base, items: [{ id: si, quantity: 2, metadata: { a: '1' } }] }),
    (e) => e.statusCode === 400);
  await assert.rejects(stripe.subscriptionItems.update(si, { quantity: 2, metadata: { a: '1' }, payment_behavior: 'pending_if_incomplete' }),
    (e) => e.statusCode === 400);
  const unchanged = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(unchanged.items.data[0].quantity, 1);
  // create_prorations: nothing paid now, applied at once
  const upd = await stripe.subscriptions.update(sub.id, { items: [{ id: si, quantity: 2 }], payment_behavior: 'pending_if_incomplete' });
  assert.equal(upd.pending_update, null);
  assert.equal(upd.items.data[0].quantity, 2);
  assert.equal(upd.latest_invoice, unchanged.latest_invoice);
});

test('default_incomplete: applied, its invoice finalized, its intent not confirmed', async () => {
  const { customer, sub, si } = await setup(null);
  const upd = await stripe.subscriptions.update(sub.id, {
    items: [{ id: si, price: pro.id }], proration_behavior: 'always_invoice',
    payment_behavior: 'default_incomplete', expand: ['latest_invoice.payments'],
  });
  assert.equal(upd.status, 'active');
  assert.equal(upd.pending_update, null);
  assert.equal(upd.items.data[0].price.id, pro.id);
  const inv = upd.latest_invoice;
  assert.equal(inv.status, 'open');
  assert.equal(inv.amount_due, DUE);
  assert.equal(inv.attempt_count, 0);
  assert.equal(inv.next_payment_attempt, null);
  const piId = inv.payments.data[0].payment.payment_intent;
  let pi = await stripe.paymentIntents.retrieve(piId);
  assert.ok(['requires_confirmation', 'requires_payment_method'].includes(pi.status), pi.status);
  assert.equal(pi.amount, DUE);
  assert.equal((await charges(customer)).length, 1, 'no attempt');
  pi = await stripe.paymentIntents.confirm(piId, { payment_method: 'pm_card_visa' });
  assert.equal(pi.status, 'succeeded');
  const paid = await stripe.invoices.retrieve(inv.id);
  assert.equal(paid.status, 'paid');
  assert.equal(paid.amount_paid, DUE);
  assert.deepEqual((await charges(customer)).map((c) => c.amount), [DUE, 3000]);
});

test('pending_if_incomplete with items[n][price_data]: the price made now (inactive), the pending update naming it, applied when paid', async () => {
  const { customer, sub, si } = await setup('pm_card_chargeCustomerFail');
  const upd = await stripe.subscriptions.update(sub.id, {
    items: [{ id: si, price_data: { currency: 'usd', product: monthly.product, unit_amount: 5000, recurring: { interval: 'month' } } }],
    proration_behavior: 'always_invoice', payment_behavior: 'pending_if_incomplete', expand: ['latest_invoice'],
  });
  assert.equal(upd.items.data[0].price.id, monthly.id, 'not applied');
  const pu = upd.pending_update;
  assert.ok(pu);
  const made = pu.subscription_items[0].price;
  assert.notEqual(made.id, monthly.id);
  assert.equal(made.unit_amount, 5000);
  assert.equal(made.active, false);
  assert.equal(upd.latest_invoice.status, 'open');
  assert.equal(upd.latest_invoice.total, DUE);
  shape({ ...upd, latest_invoice: upd.latest_invoice.id }, 'subscription');
  shape(upd.latest_invoice, 'invoice');
  const good = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
  const paid = await stripe.invoices.pay(upd.latest_invoice.id, { payment_method: good.id });
  assert.equal(paid.status, 'paid');
  const after = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(after.pending_update, null);
  assert.equal(after.items.data[0].id, si);
  assert.equal(after.items.data[0].price.id, made.id);
  shape(after, 'subscription');
  // on POST /v1/subscription_items too
  const it = await stripe.subscriptionItems.create({
    subscription: sub.id, payment_behavior: 'pending_if_incomplete', proration_behavior: 'none',
    price_data: { currency: 'usd', product: monthly.product, unit_amount: 100, recurring: { interval: 'month' } },
  });
  assert.equal(it.price.unit_amount, 100);
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).items.data.length, 2);
});

test('tender verify passes: the money in the ledger adds up', async () => {
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});
