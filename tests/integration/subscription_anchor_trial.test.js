'use strict';
// Changing a subscription's cycle through stripe-node: trial_end on update (a timestamp extends
// a trial or starts one on an active subscription; `now` ends a trial and bills the first paid
// period at once), billing_cycle_anchor=now (a new period from now, its old period's unused time
// credited), cancellation with proration (prorate, invoice_now: a final invoice, its credit on
// the customer's balance when below zero), and a pending update replaced by another. Amounts
// are checked exactly (Stripe's second-based proration, halves away from zero), one charge per
// paid invoice, objects against Stripe's OpenAPI spec, and `tender verify` at the end.
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
const NOW = T0 + 10 * DAY; // Mar 11
const APR11 = NOW + 31 * DAY;

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
const CREDIT = prorate(-3000, APR1 - NOW, P); // 3000 × 20 days / 31 days, credited

async function eventsOf(id) {
  const all = await stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 10000 });
  return all.filter((e) => e.data.object.id === id).reverse();
}

async function charges(customer) {
  return (await stripe.charges.list({ customer: customer.id, limit: 100 })).data;
}

let monthly;

// a customer on a clock at T0 with a card, subscribed to monthly (with a trial of trialDays),
// the clock then at NOW
async function setup(trialDays, pm = 'pm_card_visa') {
  if (!monthly) {
    monthly = await stripe.prices.create({ currency: 'usd', unit_amount: 3000, recurring: { interval: 'month' }, product_data: { name: 'Team' } });
  }
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
  const customer = await stripe.customers.create({
    test_clock: clock.id, payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' },
  });
  const params = { customer: customer.id, items: [{ price: monthly.id }] };
  if (trialDays) params.trial_period_days = trialDays;
  const sub = await stripe.subscriptions.create(params);
  if (pm !== 'pm_card_visa') {
    const bad = await stripe.paymentMethods.attach(pm, { customer: customer.id });
    await stripe.subscriptions.update(sub.id, { default_payment_method: bad.id });
  }
  await advance(clock, NOW);
  return { clock, customer, sub, si: sub.items.data[0].id };
}

test('trial_end=now: the trial ends, the first paid period starts now and is charged once', async () => {
  const { clock, customer, sub } = await setup(14);
  assert.equal(sub.status, 'trialing');
  const upd = await stripe.subscriptions.update(sub.id, { trial_end: 'now', expand: ['latest_invoice'] });
  assert.equal(upd.status, 'active');
  assert.equal(upd.trial_start, T0);
  assert.equal(upd.trial_end, NOW);
  assert.equal(upd.billing_cycle_anchor, NOW);
  assert.equal(upd.items.data[0].current_period_start, NOW);
  assert.equal(upd.items.data[0].current_period_end, APR11);
  const inv = upd.latest_invoice;
  assert.equal(inv.billing_reason, 'subscription_update');
  assert.equal(inv.status, 'paid');
  assert.equal(inv.total, 3000);
  assert.equal(inv.amount_paid, 3000);
  assert.equal(inv.lines.data.length, 1);
  assert.equal(inv.lines.data[0].amount, 3000);
  assert.equal(inv.lines.data[0].period.start, NOW);
  assert.equal(inv.lines.data[0].period.end, APR11);
  shape({ ...upd, latest_invoice: inv.id }, 'subscription');
  shape(inv, 'invoice');
  const ok = (await charges(customer)).filter((c) => c.status === 'succeeded').map((c) => c.amount);
  assert.deepEqual(ok, [3000], 'one charge: the trial invoice was 0');
  const evs = (await eventsOf(sub.id)).filter((e) => e.type === 'customer.subscription.updated');
  const prev = evs[evs.length - 1].data.previous_attributes;
  assert.equal(prev.status, 'trialing');
  assert.equal(prev.trial_end, T0 + 14 * DAY);
  assert.equal(prev.billing_cycle_anchor, T0 + 14 * DAY);
  // it renews on its new anchor
  await advance(clock, APR11 + 2 * HOUR);
  const later = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(later.items.data[0].current_period_start, APR11);
  assert.deepEqual((await charges(customer)).filter((c) => c.status === 'succeeded').map((c) => c.amount), [3000, 3000]);
});

test('trial_end=<time> on a trialing subscription: the trial is extended, nothing charged until it ends', async () => {
  const { clock, customer, sub } = await setup(14);
  const until = T0 + 20 * DAY;
  const upd = await stripe.subscriptions.update(sub.id, { trial_end: until });
  assert.equal(upd.status, 'trialing');
  assert.equal(upd.trial_end, until);
  assert.equal(upd.billing_cycle_anchor, until);
  assert.equal(upd.items.data[0].current_period_start, T0);
  assert.equal(upd.items.data[0].current_period_end, until);
  assert.equal(upd.latest_invoice, sub.latest_invoice, 'no invoice');
  shape(upd, 'subscription');
  await advance(clock, T0 + 15 * DAY);
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'trialing', 'the old trial end passed');
  assert.equal((await charges(customer)).length, 0);
  await advance(clock, until + 2 * HOUR);
  const after = await stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
  assert.equal(after.status, 'active');
  assert.equal(after.latest_invoice.total, 3000);
  assert.equal(after.latest_invoice.status, 'paid');
  assert.equal(after.items.data[0].current_period_start, until);
  assert.deepEqual((await charges(customer)).map((c) => c.amount), [3000]);
  // shortened past: refused
  await assert.rejects(stripe.subscriptions.update(sub.id, { trial_end: until - DAY }),
    (e) => e.statusCode === 400 && e.param === 'trial_end');
});

test('trial_end=<time> on an active subscription: a trial starts now, its unused time credited to the balance', async () => {
  const { clock, customer, sub } = await setup(0);
  const until = NOW + 7 * DAY;
  const upd = await stripe.subscriptions.update(sub.id, { trial_end: until, expand: ['latest_invoice'] });
  assert.equal(upd.status, 'trialing');
  assert.equal(upd.trial_start, NOW);
  assert.equal(upd.trial_end, until);
  assert.equal(upd.billing_cycle_anchor, until);
  assert.equal(upd.items.data[0].current_period_start, NOW);
  assert.equal(upd.items.data[0].current_period_end, until);
  const inv = upd.latest_invoice;
  assert.equal(inv.total, CREDIT);
  assert.equal(inv.amount_due, 0);
  assert.equal(inv.status, 'paid');
  const lines = inv.lines.data.map((l) => l.amount).sort((a, b) => a - b);
  assert.deepEqual(lines, [CREDIT, 0]);
  shape(inv, 'invoice');
  assert.equal((await stripe.customers.retrieve(customer.id)).balance, CREDIT);
  // the trial ends: a full period charged, less the credit
  await advance(clock, until + 2 * HOUR);
  const after = await stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
  assert.equal(after.status, 'active');
  assert.equal(after.latest_invoice.total, 3000);
  assert.equal(after.latest_invoice.amount_due, 3000 + CREDIT);
  assert.equal(after.latest_invoice.amount_paid, 3000 + CREDIT);
  assert.deepEqual((await charges(customer)).map((c) => c.amount).sort((a, b) => a - b), [3000 + CREDIT, 3000]);
  assert.equal((await stripe.customers.retrieve(customer.id)).balance, 0);
});

test('trial_from_plan on update: the new plan\'s trial_period_days start a trial now, as trial_end would', async () => {
  const { customer, sub, si } = await setup(0);
  // without a plan trial it changes nothing
  const same = await stripe.subscriptions.update(sub.id, { trial_from_plan: true });
  assert.equal(same.status, 'active');
  assert.equal(same.trial_end, null);
  assert.equal(same.latest_invoice, sub.latest_invoice);
  const plan = await stripe.plans.create({ amount: 3000, currency: 'usd', interval: 'month', product: monthly.product, trial_period_days: 7 });
  await assert.rejects(stripe.subscriptions.update(sub.id, { items: [{ id: si, plan: plan.id }], trial_from_plan: true, trial_end: NOW + DAY }),
    (e) => e.statusCode === 400 && e.param === 'trial_from_plan');
  await assert.rejects(stripe.subscriptions.update(sub.id, { items: [{ id: si, plan: plan.id }], trial_from_plan: true, payment_behavior: 'pending_if_incomplete' }),
    (e) => e.statusCode === 400 && e.param === 'trial_from_plan');
  const upd = await stripe.subscriptions.update(sub.id, { items: [{ id: si, plan: plan.id }], trial_from_plan: true, expand: ['latest_invoice'] });
  assert.equal(upd.status, 'trialing');
  assert.equal(upd.trial_start, NOW);
  assert.equal(upd.trial_end, NOW + 7 * DAY);
  assert.equal(upd.billing_cycle_anchor, NOW + 7 * DAY);
  assert.equal(upd.items.data[0].price.id, plan.id);
  assert.equal(upd.latest_invoice.total, CREDIT, 'the old price\'s unused time credited');
  shape({ ...upd, latest_invoice: upd.latest_invoice.id }, 'subscription');
  shape(upd.latest_invoice, 'invoice');
  assert.equal((await stripe.customers.retrieve(customer.id)).balance, CREDIT);
});

test('billing_cycle_anchor=now: a new period from now, invoiced at once with the old period credited', async () => {
  const { customer, sub } = await setup(0);
  const upd = await stripe.subscriptions.update(sub.id, { billing_cycle_anchor: 'now', expand: ['latest_invoice'] });
  assert.equal(upd.status, 'active');
  assert.equal(upd.billing_cycle_anchor, NOW);
  assert.equal(upd.items.data[0].current_period_start, NOW);
  assert.equal(upd.items.data[0].current_period_end, APR11);
  const inv = upd.latest_invoice;
  assert.equal(inv.billing_reason, 'subscription_update');
  assert.equal(inv.total, 3000 + CREDIT);
  assert.equal(inv.amount_paid, 3000 + CREDIT);
  assert.equal(inv.status, 'paid');
  assert.deepEqual(inv.lines.data.map((l) => l.amount).sort((a, b) => a - b), [CREDIT, 3000]);
  shape({ ...upd, latest_invoice: inv.id }, 'subscription');
  shape(inv, 'invoice');
  assert.deepEqual((await charges(customer)).map((c) => c.amount), [3000 + CREDIT, 3000]);
  // unchanged (the default) changes nothing; none: the whole period, no credit
  const same = await stripe.subscriptions.update(sub.id, { billing_cycle_anchor: 'unchanged' });
  assert.equal(same.latest_invoice, inv.id);
  assert.equal(same.billing_cycle_anchor, NOW);
});

test('billing_cycle_anchor=now with proration_behavior=none: the full period, no credit; refused while trialing', async () => {
  const { customer, sub } = await setup(0);
  const upd = await stripe.subscriptions.update(sub.id, {
    billing_cycle_anchor: 'now', proration_behavior: 'none', expand: ['latest_invoice'],
  });
  assert.equal(upd.latest_invoice.total, 3000);
  assert.deepEqual((await charges(customer)).map((c) => c.amount), [3000, 3000]);
  const t = await setup(14);
  await assert.rejects(stripe.subscriptions.update(t.sub.id, { billing_cycle_anchor: 'now' }),
    (e) => e.statusCode === 400 && e.param === 'billing_cycle_anchor');
});

test('cancel with prorate and invoice_now: the unused time credited on a final invoice, to the balance', async () => {
  const { customer, sub } = await setup(0);
  const del = await stripe.subscriptions.cancel(sub.id, { prorate: true, invoice_now: true, expand: ['latest_invoice'] });
  assert.equal(del.status, 'canceled');
  assert.equal(del.ended_at, NOW);
  const inv = del.latest_invoice;
  assert.notEqual(inv.id, sub.latest_invoice);
  assert.equal(inv.total, CREDIT);
  assert.equal(inv.amount_due, 0);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.lines.data.length, 1);
  assert.equal(inv.lines.data[0].amount, CREDIT);
  assert.equal(inv.lines.data[0].period.start, NOW);
  assert.equal(inv.lines.data[0].period.end, APR1);
  shape({ ...del, latest_invoice: inv.id }, 'subscription');
  shape(inv, 'invoice');
  assert.equal((await stripe.customers.retrieve(customer.id)).balance, CREDIT);
  assert.deepEqual((await charges(customer)).map((c) => c.amount), [3000], 'nothing charged');
  const types = (await eventsOf(sub.id)).map((e) => e.type);
  assert.equal(types[types.length - 1], 'customer.subscription.deleted');
});

test('cancel with invoice_now: pending invoice items with the credit, charged once when above zero', async () => {
  const { customer, sub } = await setup(0);
  await stripe.invoiceItems.create({ customer: customer.id, amount: 5000, currency: 'usd', description: 'Setup' });
  const del = await stripe.subscriptions.cancel(sub.id, { prorate: true, invoice_now: true, expand: ['latest_invoice'] });
  assert.equal(del.status, 'canceled');
  // a second cancel is refused and charges nothing (Stripe takes no idempotency key on DELETE)
  await assert.rejects(stripe.subscriptions.cancel(sub.id, { prorate: true, invoice_now: true }),
    (e) => e.statusCode === 400);
  const inv = del.latest_invoice;
  assert.equal(inv.total, 5000 + CREDIT);
  assert.equal(inv.amount_paid, 5000 + CREDIT);
  assert.equal(inv.status, 'paid');
  assert.deepEqual(inv.lines.data.map((l) => l.amount).sort((a, b) => a - b), [CREDIT, 5000]);
  assert.deepEqual((await charges(customer)).map((c) => c.amount), [5000 + CREDIT, 3000]);
  assert.equal((await stripe.customers.retrieve(customer.id)).balance, 0);
});

test('cancel with prorate alone: the credit is a pending invoice item; invoice_now alone: no credit', async () => {
  const { customer, sub } = await setup(0);
  const del = await stripe.subscriptions.cancel(sub.id, { prorate: true });
  assert.equal(del.status, 'canceled');
  assert.equal(del.latest_invoice, sub.latest_invoice, 'no final invoice');
  const items = (await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data;
  assert.equal(items.length, 1);
  assert.equal(items[0].amount, CREDIT);
  assert.equal(items[0].proration, true);
  assert.equal(items[0].invoice, null);
  shape(items[0], 'invoiceitem');
  const b = await setup(0);
  const d2 = await stripe.subscriptions.cancel(b.sub.id, { invoice_now: true, expand: ['latest_invoice'] });
  assert.equal(d2.latest_invoice.total, 0);
  assert.equal(d2.latest_invoice.lines.data.length, 0);
  assert.equal((await stripe.customers.retrieve(b.customer.id)).balance, 0);
});

test('a pending update replaced by another pending_if_incomplete update: the first invoice voided', async () => {
  const { customer, sub, si } = await setup(0, 'pm_card_chargeCustomerFail');
  const first = await stripe.subscriptions.update(sub.id, {
    items: [{ id: si, quantity: 2 }], proration_behavior: 'always_invoice',
    payment_behavior: 'pending_if_incomplete',
  });
  assert.ok(first.pending_update);
  const inv1 = first.latest_invoice;
  const second = await stripe.subscriptions.update(sub.id, {
    items: [{ id: si, quantity: 3 }], proration_behavior: 'always_invoice',
    payment_behavior: 'pending_if_incomplete', expand: ['latest_invoice.payments'],
  });
  assert.equal(second.items.data[0].quantity, 1, 'nothing applied');
  assert.equal(second.pending_update.subscription_items[0].quantity, 3);
  assert.equal(second.pending_update.expires_at, NOW + 23 * HOUR);
  const due = prorate(-3000, APR1 - NOW, P) + prorate(9000, APR1 - NOW, P);
  assert.equal(second.latest_invoice.total, due);
  assert.equal(second.latest_invoice.status, 'open');
  assert.equal((await stripe.invoices.retrieve(inv1)).status, 'void');
  shape({ ...second, latest_invoice: second.latest_invoice.id }, 'subscription');
  const evs = (await eventsOf(sub.id)).filter((e) => e.type === 'customer.subscription.updated');
  assert.equal(evs[evs.length - 1].data.previous_attributes.pending_update.subscription_items[0].quantity, 2);
  // another kind of change still waits for it
  await assert.rejects(stripe.subscriptions.update(sub.id, { items: [{ id: si, quantity: 4 }] }),
    (e) => e.statusCode === 400);
  // paid: the second update applies, one charge for it
  const piId = second.latest_invoice.payments.data[0].payment.payment_intent;
  const pi = await stripe.paymentIntents.confirm(piId, { payment_method: 'pm_card_visa' });
  assert.equal(pi.status, 'succeeded');
  const done = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(done.pending_update, null);
  assert.equal(done.items.data[0].quantity, 3);
  assert.deepEqual((await charges(customer)).filter((c) => c.status === 'succeeded').map((c) => c.amount), [due, 3000]);
});

test('cancel with invoice_now, the card declined: canceled all the same, the final invoice open, one failed charge', async () => {
  const { customer, sub } = await setup(0, 'pm_card_chargeCustomerFail');
  await stripe.invoiceItems.create({ customer: customer.id, amount: 5000, currency: 'usd', description: 'Setup' });
  const del = await stripe.subscriptions.cancel(sub.id, { prorate: true, invoice_now: true, expand: ['latest_invoice'] });
  assert.equal(del.status, 'canceled');
  const inv = del.latest_invoice;
  assert.equal(inv.status, 'open');
  assert.equal(inv.total, 5000 + CREDIT);
  assert.equal(inv.amount_remaining, 5000 + CREDIT);
  assert.equal(inv.attempt_count, 1);
  assert.equal(inv.next_payment_attempt, null, 'not retried by itself');
  shape(inv, 'invoice');
  const cs = await charges(customer);
  assert.deepEqual(cs.map((c) => [c.amount, c.status]).sort(), [[3000, 'succeeded'], [5000 + CREDIT, 'failed']].sort());
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'canceled');
});

test('cancel with invoice_now and no payment method: canceled, the final invoice left open', async () => {
  if (!monthly) await setup(0);
  const customer = await stripe.customers.create({ email: 'nocard@example.com' });
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: monthly.id }], trial_period_days: 7,
  });
  await stripe.invoiceItems.create({ customer: customer.id, amount: 1234, currency: 'usd' });
  const del = await stripe.subscriptions.cancel(sub.id, { prorate: true, invoice_now: true, expand: ['latest_invoice'] });
  assert.equal(del.status, 'canceled');
  assert.equal(del.latest_invoice.status, 'open');
  assert.equal(del.latest_invoice.total, 1234, 'a trial is not prorated');
  assert.equal((await charges(customer)).length, 0);
});

test('a pending update whose invoice took part of the balance is not replaced', async () => {
  const { customer, sub, si } = await setup(0, 'pm_card_chargeCustomerFail');
  await stripe.customers.createBalanceTransaction(customer.id, { amount: -500, currency: 'usd' });
  const first = await stripe.subscriptions.update(sub.id, {
    items: [{ id: si, quantity: 2 }], proration_behavior: 'always_invoice',
    payment_behavior: 'pending_if_incomplete', expand: ['latest_invoice'],
  });
  assert.ok(first.pending_update);
  const due = prorate(-3000, APR1 - NOW, P) + prorate(6000, APR1 - NOW, P);
  assert.equal(first.latest_invoice.amount_due, due - 500);
  await assert.rejects(stripe.subscriptions.update(sub.id, {
    items: [{ id: si, quantity: 3 }], proration_behavior: 'always_invoice', payment_behavior: 'pending_if_incomplete',
  }), (e) => e.statusCode === 400);
  const still = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(still.pending_update.subscription_items[0].quantity, 2);
  assert.equal((await stripe.invoices.retrieve(first.latest_invoice.id)).status, 'open');
});

test('billing_cycle_anchor=now as a pending update: held until paid, then the anchor moves', async () => {
  const { customer, sub } = await setup(0, 'pm_card_chargeCustomerFail');
  const upd = await stripe.subscriptions.update(sub.id, {
    billing_cycle_anchor: 'now', payment_behavior: 'pending_if_incomplete', expand: ['latest_invoice.payments'],
  });
  assert.equal(upd.billing_cycle_anchor, T0, 'not applied');
  assert.equal(upd.pending_update.billing_cycle_anchor, NOW);
  assert.equal(upd.latest_invoice.total, 3000 + CREDIT);
  assert.equal(upd.latest_invoice.status, 'open');
  shape({ ...upd, latest_invoice: upd.latest_invoice.id }, 'subscription');
  await assert.rejects(stripe.subscriptions.update(sub.id, { trial_end: NOW + DAY, payment_behavior: 'pending_if_incomplete' }),
    (e) => e.statusCode === 400 && e.param === 'trial_end');
  const piId = upd.latest_invoice.payments.data[0].payment.payment_intent;
  assert.equal((await stripe.paymentIntents.confirm(piId, { payment_method: 'pm_card_visa' })).status, 'succeeded');
  const done = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(done.pending_update, null);
  assert.equal(done.billing_cycle_anchor, NOW);
  assert.equal(done.items.data[0].current_period_end, APR11);
  assert.deepEqual((await charges(customer)).filter((c) => c.status === 'succeeded').map((c) => c.amount).sort((a, b) => a - b),
    [3000 + CREDIT, 3000]);
});

test('tender verify passes: the money in the ledger adds up', async () => {
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});
