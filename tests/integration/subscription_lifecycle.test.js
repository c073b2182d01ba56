'use strict';
// A subscription's life beyond billing every period, through stripe-node: collection paused
// (pause_collection: renewals kept as drafts, voided or marked uncollectible) and resumed,
// invoices marked uncollectible, trials that end without a payment method (paused, canceled or
// invoiced, trial_settings), POST /v1/subscriptions/{id}/resume, and the trial_will_end notice.
// Time moves with test clocks. New objects are checked against Stripe's OpenAPI spec and money
// is checked to add up: an invoice's total is the sum of its lines, a paid one's PaymentIntent,
// charge and balance transaction are its amount_due, and `tender verify` passes at the end.
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
const T0 = Date.UTC(2025, 2, 1, 0, 0, 0) / 1000; // Mar 1
const APR1 = Date.UTC(2025, 3, 1, 0, 0, 0) / 1000;
const MAY1 = Date.UTC(2025, 4, 1, 0, 0, 0) / 1000;

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
});
after(stopAll);


const shape = (obj, schema) => billingShape(obj, schema);

const ready = (clock) => clockReady(stripe, clock);

const advance = (clock, to) => clockAdvance(stripe, clock, to);

// Events of one object, oldest first (events on a clock carry its time: read them all).
async function eventsFull(id) {
  const all = await stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 10000 });
  return all.filter((e) => e.data.object.id === id).reverse();
}
async function eventsOf(id) {
  return (await eventsFull(id)).map((e) => e.type);
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
  assert.equal(inv.amount_due, Math.max(0, sum));
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

// Stripe's proration of one line: amount × remaining / period, to the nearest minor unit,
// halves away from zero (computed with BigInt, independently of Tender).
function prorate(amount, remaining, period) {
  const mag = BigInt(Math.abs(amount)) * BigInt(remaining);
  const q = (2n * mag + BigInt(period)) / (2n * BigInt(period));
  return amount < 0 ? -Number(q) : Number(q);
}

let monthly; // 30.00 usd a month

test('pause_collection keep_as_draft: renewals are drafts, nothing is charged; unset, collection goes on', async () => {
  monthly = await stripe.prices.create({
    currency: 'usd', unit_amount: 3000, recurring: { interval: 'month' }, product_data: { name: 'Team' },
  });
  const { clock, customer } = await setup();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  assert.equal(sub.pause_collection, null);
  const p = await stripe.subscriptions.update(sub.id, { pause_collection: { behavior: 'keep_as_draft' } });
  assert.deepEqual(p.pause_collection, { behavior: 'keep_as_draft', resumes_at: null });
  assert.equal(p.status, 'active', 'pausing collection leaves the status as it is');
  shape(p, 'subscription');
  let evs = await eventsFull(sub.id);
  assert.equal(evs[evs.length - 1].type, 'customer.subscription.updated');
  assert.deepEqual(evs[evs.length - 1].data.previous_attributes, { pause_collection: null });
  assert.deepEqual(evs[evs.length - 1].data.object.pause_collection, p.pause_collection);
  await advance(clock, APR1 + 60);
  const s1 = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(s1.status, 'active');
  assert.equal(s1.items.data[0].current_period_start, APR1);
  const draft = await stripe.invoices.retrieve(s1.latest_invoice);
  assert.equal(draft.status, 'draft');
  assert.equal(draft.billing_reason, 'subscription_cycle');
  assert.equal(draft.auto_advance, false);
  assert.equal(draft.number, null);
  assert.equal(draft.status_transitions.finalized_at, null);
  assert.equal(draft.total, 3000);
  shape(draft, 'invoice');
  await assertConserved(draft);
  assert.deepEqual(await eventsOf(draft.id), ['invoice.created']);
  assert.equal((await stripe.paymentIntents.list({ customer: customer.id })).data.length, 1, 'only the first invoice was charged');
  // a subscription's draft is not deleted
  await assert.rejects(stripe.invoices.del(draft.id), (e) => e.statusCode === 400);
  // unset: the next renewal is charged
  const u = await stripe.subscriptions.update(sub.id, { pause_collection: '' });
  assert.equal(u.pause_collection, null);
  evs = await eventsFull(sub.id);
  assert.deepEqual(evs[evs.length - 1].data.previous_attributes,
    { pause_collection: { behavior: 'keep_as_draft', resumes_at: null } });
  await advance(clock, MAY1 + HOUR + 60);
  const s2 = await stripe.subscriptions.retrieve(sub.id);
  const inv2 = await stripe.invoices.retrieve(s2.latest_invoice);
  assert.equal(inv2.status, 'paid');
  assert.equal(inv2.total, 3000);
  await assertConserved(inv2);
  // the draft is the merchant's to collect later: finalized (numbered), then paid
  const fin = await stripe.invoices.finalizeInvoice(draft.id);
  assert.equal(fin.status, 'open');
  assert.match(fin.number, /-\d{4}$/);
  const paid = await stripe.invoices.pay(draft.id);
  assert.equal(paid.status, 'paid');
  await assertConserved(paid);
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'active');
  // refused input changes nothing
  const at = (await stripe.testHelpers.testClocks.retrieve(clock.id)).frozen_time;
  await assert.rejects(stripe.subscriptions.update(sub.id, { pause_collection: { behavior: 'later' } }),
    (e) => e.statusCode === 400 && e.param === 'pause_collection[behavior]');
  await assert.rejects(stripe.subscriptions.update(sub.id, { pause_collection: { resumes_at: at + DAY } }),
    (e) => e.statusCode === 400 && e.param === 'pause_collection[behavior]');
  await assert.rejects(stripe.subscriptions.update(sub.id, { pause_collection: { behavior: 'void', resumes_at: at - 1 } }),
    (e) => e.statusCode === 400 && e.param === 'pause_collection[resumes_at]');
  await assert.rejects(other.subscriptions.update(sub.id, { pause_collection: { behavior: 'void' } }),
    (e) => e.statusCode === 404);
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).pause_collection, null);
});

test('pause_collection void with resumes_at: the renewal is voided, collection resumes by itself', async () => {
  const { clock, customer } = await setup();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  const resumesAt = APR1 + 10 * DAY;
  const p = await stripe.subscriptions.update(sub.id, { pause_collection: { behavior: 'void', resumes_at: resumesAt } });
  assert.deepEqual(p.pause_collection, { behavior: 'void', resumes_at: resumesAt });
  await advance(clock, APR1 + 60);
  let s = await stripe.subscriptions.retrieve(sub.id);
  const voided = await stripe.invoices.retrieve(s.latest_invoice);
  assert.equal(voided.status, 'void');
  assert.equal(voided.status_transitions.voided_at, APR1);
  assert.equal(voided.status_transitions.finalized_at, APR1);
  assert.equal(voided.amount_remaining, 0);
  assert.equal(voided.auto_advance, false);
  shape(voided, 'invoice');
  await assertConserved(voided);
  assert.deepEqual(await eventsOf(voided.id), ['invoice.created', 'invoice.finalized', 'invoice.voided']);
  assert.deepEqual(s.pause_collection, { behavior: 'void', resumes_at: resumesAt });
  // resumes_at passes: the setting is gone, with its event at that time
  await advance(clock, resumesAt + 60);
  s = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(s.pause_collection, null);
  const evs = await eventsFull(sub.id);
  const last = evs[evs.length - 1];
  assert.equal(last.type, 'customer.subscription.updated');
  assert.equal(last.created, resumesAt);
  assert.deepEqual(last.data.previous_attributes, { pause_collection: { behavior: 'void', resumes_at: resumesAt } });
  // the next renewal is charged
  await advance(clock, MAY1 + HOUR + 60);
  s = await stripe.subscriptions.retrieve(sub.id);
  const inv = await stripe.invoices.retrieve(s.latest_invoice);
  assert.equal(inv.status, 'paid');
  await assertConserved(inv);
  assert.equal((await stripe.paymentIntents.list({ customer: customer.id })).data.length, 2);
});

test('pause_collection mark_uncollectible, and POST /v1/invoices/{id}/mark_uncollectible', async () => {
  const { clock, customer } = await setup();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  await stripe.subscriptions.update(sub.id, { pause_collection: { behavior: 'mark_uncollectible' } });
  await advance(clock, APR1 + 60);
  const s = await stripe.subscriptions.retrieve(sub.id);
  const unc = await stripe.invoices.retrieve(s.latest_invoice);
  assert.equal(unc.status, 'uncollectible');
  assert.equal(unc.status_transitions.marked_uncollectible_at, APR1);
  assert.equal(unc.amount_remaining, 3000, 'an uncollectible invoice still shows what it lacks');
  assert.equal(unc.next_payment_attempt, null);
  shape(unc, 'invoice');
  assert.deepEqual(await eventsOf(unc.id), ['invoice.created', 'invoice.finalized', 'invoice.marked_uncollectible']);
  assert.equal((await stripe.invoices.list({ customer: customer.id, status: 'uncollectible' })).data[0].id, unc.id);
  // an uncollectible invoice can still be paid
  const paid = await stripe.invoices.pay(unc.id);
  assert.equal(paid.status, 'paid');
  assert.equal(paid.status_transitions.marked_uncollectible_at, APR1);
  await assertConserved(paid);

  // the endpoint, on a one-off invoice: open → uncollectible, then voided
  await stripe.invoiceItems.create({ customer: customer.id, amount: 1200, currency: 'usd' });
  const one = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
  await assert.rejects(stripe.invoices.markUncollectible(one.id), (e) => e.statusCode === 400, 'a draft cannot be');
  await stripe.invoices.finalizeInvoice(one.id);
  const m = await stripe.invoices.markUncollectible(one.id);
  assert.equal(m.status, 'uncollectible');
  assert.equal(m.status_transitions.marked_uncollectible_at, APR1 + 60);
  assert.equal(m.auto_advance, false);
  shape(m, 'invoice');
  await assert.rejects(stripe.invoices.markUncollectible(one.id), (e) => e.statusCode === 400);
  await assert.rejects(other.invoices.markUncollectible(one.id), (e) => e.statusCode === 404);
  const v = await stripe.invoices.voidInvoice(one.id);
  assert.equal(v.status, 'void');
  assert.deepEqual((await eventsOf(one.id)).slice(-3), ['invoice.finalized', 'invoice.marked_uncollectible', 'invoice.voided']);
  await assert.rejects(stripe.invoices.markUncollectible(paid.id), (e) => e.statusCode === 400);
});

test('a past_due renewal marked uncollectible is not retried; the subscription goes on', async () => {
  const { clock, customer } = await setup();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  const bad = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
  await stripe.subscriptions.update(sub.id, { default_payment_method: bad.id });
  await advance(clock, APR1 + HOUR + 60);
  let s = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(s.status, 'past_due');
  let inv = await stripe.invoices.retrieve(s.latest_invoice);
  assert.equal(inv.next_payment_attempt, APR1 + HOUR + 3 * DAY, 'three days after it was finalized');
  inv = await stripe.invoices.markUncollectible(inv.id);
  assert.equal(inv.next_payment_attempt, null);
  await advance(clock, APR1 + 8 * DAY);
  inv = await stripe.invoices.retrieve(inv.id);
  assert.equal(inv.attempt_count, 1, 'no retries after it was written off');
  s = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(s.status, 'past_due', 'the status stays (Stripe: it is not a payment)');
  assert.equal((await stripe.charges.list({ customer: customer.id })).data.filter((c) => c.status === 'failed').length, 1);
});

test('trial_settings pause: a trial ending without a payment method pauses; trial_will_end once; resume bills it from now', async () => {
  const { clock, customer } = await setup(null);
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: monthly.id }], trial_period_days: 14,
    trial_settings: { end_behavior: { missing_payment_method: 'pause' } },
  });
  assert.equal(sub.status, 'trialing');
  assert.deepEqual(sub.trial_settings, { end_behavior: { billing_cycle_anchor: null, missing_payment_method: 'pause' } });
  shape(sub, 'subscription');
  const trialEnd = T0 + 14 * DAY;
  await advance(clock, T0 + 10 * DAY);
  assert.ok(!(await eventsOf(sub.id)).includes('customer.subscription.trial_will_end'));
  await advance(clock, T0 + 12 * DAY);
  let evs = (await eventsFull(sub.id)).filter((e) => e.type === 'customer.subscription.trial_will_end');
  assert.equal(evs.length, 1);
  assert.equal(evs[0].created, trialEnd - 3 * DAY, 'three days before the end, at the clock\'s time');
  assert.equal(evs[0].data.object.id, sub.id);
  assert.equal(evs[0].data.object.trial_end, trialEnd);
  await advance(clock, T0 + 13 * DAY);
  assert.equal((await eventsOf(sub.id)).filter((t) => t === 'customer.subscription.trial_will_end').length, 1, 'once per trial');
  // the trial ends with no payment method: paused, no invoice, nothing charged
  await advance(clock, T0 + 15 * DAY);
  const paused = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(paused.status, 'paused');
  assert.deepEqual(paused.status_details, {
    paused: { subscription: { type: 'trial_end_without_payment_method' }, transitioned_at: trialEnd, type: 'subscription' },
  });
  assert.equal(paused.latest_invoice, sub.latest_invoice);
  shape(paused, 'subscription');
  assert.deepEqual((await eventsOf(sub.id)).slice(-2), ['customer.subscription.updated', 'customer.subscription.paused']);
  evs = await eventsFull(sub.id);
  assert.deepEqual(evs[evs.length - 2].data.previous_attributes, { status: 'trialing' });
  assert.equal(evs[evs.length - 1].created, trialEnd);
  assert.ok((await stripe.subscriptions.list({ customer: customer.id, status: 'paused' })).data.some((x) => x.id === sub.id));
  // nothing happens while it is paused
  const later = T0 + 60 * DAY;
  await advance(clock, later);
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'paused');
  assert.equal((await stripe.invoices.list({ subscription: sub.id })).data.length, 1);
  // resuming needs a payment method; refused, nothing changes
  await assert.rejects(stripe.subscriptions.resume(sub.id), (e) => e.statusCode === 400 && e.param === 'default_payment_method');
  await assert.rejects(other.subscriptions.resume(sub.id), (e) => e.statusCode === 404);
  await assert.rejects(stripe.subscriptions.resume(sub.id, { billing_cycle_anchor: { type: 'later' } }),
    (e) => e.statusCode === 400 && e.param === 'billing_cycle_anchor[type]');
  await assert.rejects(stripe.subscriptions.resume(sub.id, { billing_cycle_anchor: 'later' }),
    (e) => e.statusCode === 400 && e.param === 'billing_cycle_anchor');
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'paused');
  const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
  await stripe.subscriptions.update(sub.id, { default_payment_method: pm.id });
  const r = await stripe.subscriptions.resume(sub.id, { expand: ['latest_invoice'] });
  assert.equal(r.status, 'active');
  assert.equal(r.status_details, undefined);
  assert.equal(r.billing_cycle_anchor, later, 'billing_cycle_anchor now: a new cycle from the resume');
  assert.equal(r.items.data[0].current_period_start, later);
  assert.equal(r.items.data[0].current_period_end, Date.UTC(2025, 4, 30, 0, 0, 0) / 1000); // Apr 30 + 1 month
  const inv = r.latest_invoice;
  assert.equal(inv.billing_reason, 'subscription_update');
  assert.equal(inv.status, 'paid');
  assert.equal(inv.total, 3000, 'the new period, in full');
  shape({ ...r, latest_invoice: inv.id }, 'subscription');
  shape(inv, 'invoice');
  await assertConserved(inv);
  assert.deepEqual((await eventsOf(sub.id)).slice(-2), ['customer.subscription.updated', 'customer.subscription.resumed']);
  evs = await eventsFull(sub.id);
  assert.equal(evs[evs.length - 2].data.previous_attributes.status, 'paused');
  // only a paused subscription resumes
  await assert.rejects(stripe.subscriptions.resume(sub.id), (e) => e.statusCode === 400 && /not paused/.test(e.message));
  // and it renews on its new cycle
  await advance(clock, Date.UTC(2025, 4, 30, 1, 1, 0) / 1000);
  const renewed = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
  assert.equal(renewed.billing_reason, 'subscription_cycle');
  assert.equal(renewed.status, 'paid');
  // trial_settings can change on update, with its previous value in the event
  const u = await stripe.subscriptions.update(sub.id, { trial_settings: { end_behavior: { missing_payment_method: 'cancel' } } });
  assert.equal(u.trial_settings.end_behavior.missing_payment_method, 'cancel');
  evs = await eventsFull(sub.id);
  assert.deepEqual(evs[evs.length - 1].data.previous_attributes,
    { trial_settings: { end_behavior: { billing_cycle_anchor: null, missing_payment_method: 'pause' } } });
});

test('trial_settings cancel: the trial ends without a payment method, the subscription is canceled', async () => {
  const { clock, customer } = await setup(null);
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: monthly.id }], trial_period_days: 7,
    trial_settings: { end_behavior: { missing_payment_method: 'cancel' } },
  });
  await advance(clock, T0 + 8 * DAY);
  const s = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(s.status, 'canceled');
  assert.equal(s.ended_at, T0 + 7 * DAY);
  assert.equal((await stripe.invoices.list({ subscription: sub.id })).data.length, 1, 'no invoice at the trial\'s end');
  assert.deepEqual((await eventsOf(sub.id)).slice(-1), ['customer.subscription.deleted']);
  await assert.rejects(stripe.subscriptions.resume(sub.id), (e) => e.statusCode === 400);
});

test('trial_settings create_invoice (the default): the trial\'s end invoices, unpaid without a card', async () => {
  const { clock, customer } = await setup(null);
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }], trial_period_days: 7 });
  assert.equal(sub.trial_settings.end_behavior.missing_payment_method, 'create_invoice');
  await advance(clock, T0 + 8 * DAY);
  const s = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(s.status, 'past_due');
  const inv = await stripe.invoices.retrieve(s.latest_invoice);
  assert.equal(inv.status, 'open');
  assert.equal(inv.total, 3000);
  assert.equal(inv.attempt_count, 1);
});

test('resume on the old cycle (billing_cycle_anchor unchanged): always_invoice, create_prorations, none', async () => {
  const trialEnd = T0 + 14 * DAY; // Mar 15: the anchor
  const APR15 = Date.UTC(2025, 3, 15, 0, 0, 0) / 1000;
  const at = trialEnd + 10 * DAY; // Mar 25
  const makePaused = async () => {
    const { clock, customer } = await setup(null);
    const sub = await stripe.subscriptions.create({
      customer: customer.id, items: [{ price: monthly.id, quantity: 2 }], trial_period_days: 14,
      trial_settings: { end_behavior: { missing_payment_method: 'pause' } },
    });
    await advance(clock, at);
    assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'paused');
    const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } });
    return { clock, customer, sub };
  };
  const share = prorate(6000, APR15 - at, APR15 - trialEnd);
  // always_invoice: the period's remaining time invoiced and paid at once
  {
    const { sub } = await makePaused();
    const r = await stripe.subscriptions.resume(sub.id, {
      billing_cycle_anchor: { type: 'unchanged' }, proration_behavior: 'always_invoice', expand: ['latest_invoice'],
    });
    assert.equal(r.status, 'active');
    assert.equal(r.billing_cycle_anchor, trialEnd);
    assert.equal(r.items.data[0].current_period_start, trialEnd);
    assert.equal(r.items.data[0].current_period_end, APR15);
    const inv = r.latest_invoice;
    assert.equal(inv.status, 'paid');
    assert.equal(inv.total, share);
    const lines = await assertConserved(inv);
    assert.equal(lines.length, 1);
    assert.equal(lines[0].parent.invoice_item_details.proration, true);
    assert.deepEqual(lines[0].period, { start: at, end: APR15 });
  }
  // create_prorations (the default for unchanged): a pending item, billed on the next renewal
  {
    const { clock, customer, sub } = await makePaused();
    const r = await stripe.subscriptions.resume(sub.id, { billing_cycle_anchor: { type: 'unchanged' } });
    assert.equal(r.status, 'active');
    assert.equal(r.latest_invoice, sub.latest_invoice, 'nothing invoiced now');
    const pending = (await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data;
    assert.deepEqual(pending.map((x) => x.amount), [share]);
    await advance(clock, APR15 + HOUR + 60);
    const inv = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice);
    assert.equal(inv.billing_reason, 'subscription_cycle');
    assert.equal(inv.total, 6000 + share);
    assert.equal(inv.status, 'paid');
    await assertConserved(inv);
  }
  // none: nothing for the rest of this period; billing_cycle_anchor as Stripe's API reference
  // sends it (the value itself; stripe-node 23's types have the hash)
  {
    const { customer, sub } = await makePaused();
    const r = await stripe.subscriptions.resume(sub.id, { billing_cycle_anchor: 'unchanged', proration_behavior: 'none' });
    assert.equal(r.status, 'active');
    assert.equal(r.items.data[0].current_period_end, APR15);
    assert.equal((await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data.length, 0);
    assert.equal(r.latest_invoice, sub.latest_invoice);
  }
});

test('resume with a declining card: past_due on the attempt; resume_on_payment_success stays paused until paid', async () => {
  const makePaused = async () => {
    const { clock, customer } = await setup(null);
    const sub = await stripe.subscriptions.create({
      customer: customer.id, items: [{ price: monthly.id }], trial_period_days: 3,
      trial_settings: { end_behavior: { missing_payment_method: 'pause' } },
    });
    await advance(clock, T0 + 4 * DAY);
    const bad = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
    await stripe.subscriptions.update(sub.id, { default_payment_method: bad.id });
    return { clock, customer, sub };
  };
  // resume_on_payment_attempt (the default): resumed, the decline leaves it past_due
  {
    const { sub } = await makePaused();
    const r = await stripe.subscriptions.resume(sub.id);
    assert.equal(r.status, 'past_due');
    const inv = await stripe.invoices.retrieve(r.latest_invoice);
    assert.equal(inv.status, 'open');
    assert.equal(inv.attempt_count, 1);
    assert.equal(inv.next_payment_attempt, null, 'not retried by itself');
    const evs = await eventsOf(sub.id);
    assert.ok(evs.includes('customer.subscription.resumed'));
  }
  // resume_on_payment_success: still paused, the invoice retried; paid, it resumes
  {
    const { clock, customer, sub } = await makePaused();
    const r = await stripe.subscriptions.resume(sub.id, { payment_behavior: 'resume_on_payment_success' });
    assert.equal(r.status, 'paused');
    const inv = await stripe.invoices.retrieve(r.latest_invoice);
    assert.equal(inv.status, 'open');
    assert.equal(inv.next_payment_attempt, T0 + 4 * DAY + 3 * DAY);
    assert.ok(!(await eventsOf(sub.id)).includes('customer.subscription.resumed'));
    await assert.rejects(stripe.subscriptions.resume(sub.id), (e) => e.statusCode === 400, 'one resumption at a time');
    const good = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await stripe.subscriptions.update(sub.id, { default_payment_method: good.id });
    await advance(clock, T0 + 7 * DAY + 60);
    const s = await stripe.subscriptions.retrieve(sub.id);
    assert.equal(s.status, 'active');
    const paid = await stripe.invoices.retrieve(inv.id);
    assert.equal(paid.status, 'paid');
    await assertConserved(paid);
    assert.deepEqual((await eventsOf(sub.id)).slice(-2), ['customer.subscription.updated', 'customer.subscription.resumed']);
  }
});

test('trial_will_end in real time: a trial shorter than three days is announced at once, by the scheduler', async () => {
  const pm = 'pm_card_visa';
  const customer = await stripe.customers.create({ payment_method: pm, invoice_settings: { default_payment_method: pm } });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }], trial_period_days: 1 });
  let found = [];
  for (let i = 0; i < 100 && found.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const evs = await stripe.events.list({ type: 'customer.subscription.trial_will_end', limit: 100 });
    found = evs.data.filter((e) => e.data.object.id === sub.id);
  }
  assert.equal(found.length, 1);
  await new Promise((r) => setTimeout(r, 1200)); // a few more ticks: still once
  const evs = await stripe.events.list({ type: 'customer.subscription.trial_will_end', limit: 100 });
  assert.equal(evs.data.filter((e) => e.data.object.id === sub.id).length, 1);
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'trialing');
});

test('cancel_at: the scheduler cancels then, crediting the unused rest of the period on a final invoice (test clocks)', async () => {
  const mar = await stripe.prices.create({
    currency: 'usd', unit_amount: 3100, recurring: { interval: 'month' }, product_data: { name: 'Desk' },
  });
  const { clock, customer } = await setup();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: mar.id }] });
  assert.equal(sub.cancel_at, null);
  const first = sub.latest_invoice;
  // refused: in the past, beside cancel_at_period_end, on an unknown subscription's behalf
  await assert.rejects(stripe.subscriptions.update(sub.id, { cancel_at: T0 - 1 }),
    (e) => e.statusCode === 400 && e.param === 'cancel_at');
  await assert.rejects(stripe.subscriptions.update(sub.id, { cancel_at: T0 + 10 * DAY, cancel_at_period_end: true }),
    (e) => e.statusCode === 400 && e.param === 'cancel_at');
  await assert.rejects(other.subscriptions.update(sub.id, { cancel_at: T0 + 10 * DAY }),
    (e) => e.statusCode === 404);
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).cancel_at, null, 'a refused request changes nothing');
  const set = await stripe.subscriptions.update(sub.id, { cancel_at: T0 + 10 * DAY });
  shape(set, 'subscription');
  assert.equal(set.cancel_at, T0 + 10 * DAY);
  assert.equal(set.cancel_at_period_end, false);
  assert.equal(set.canceled_at, T0, 'canceled_at: when it was asked for');
  assert.equal(set.status, 'active');
  let evs = await eventsFull(sub.id);
  assert.equal(evs[evs.length - 1].type, 'customer.subscription.updated');
  assert.deepEqual(evs[evs.length - 1].data.previous_attributes, { cancel_at: null, canceled_at: null });
  // nothing happens before it
  await advance(clock, T0 + 10 * DAY - 60);
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'active');
  await advance(clock, T0 + 10 * DAY + 60);
  const ended = await stripe.subscriptions.retrieve(sub.id);
  shape(ended, 'subscription');
  assert.equal(ended.status, 'canceled');
  assert.equal(ended.ended_at, T0 + 10 * DAY);
  assert.equal(ended.canceled_at, T0);
  assert.equal(ended.cancel_at, T0 + 10 * DAY);
  assert.equal(ended.cancellation_details.reason, 'cancellation_requested');
  assert.notEqual(ended.latest_invoice, first);
  // the final invoice: 21 unused days of 31 credited, onto the customer's balance
  const credit = -prorate(3100, 21 * DAY, 31 * DAY);
  assert.equal(credit, -2100);
  const fin = await stripe.invoices.retrieve(ended.latest_invoice);
  shape(fin, 'invoice');
  assert.equal(fin.status, 'paid');
  assert.equal(fin.total, credit);
  assert.equal(fin.amount_due, 0);
  const lines = await assertConserved(fin);
  assert.equal(lines.length, 1);
  assert.equal(lines[0].parent.invoice_item_details.proration, true);
  assert.deepEqual([lines[0].period.start, lines[0].period.end], [T0 + 10 * DAY, APR1]);
  assert.equal((await stripe.customers.retrieve(customer.id)).balance, credit);
  evs = await eventsOf(sub.id);
  assert.equal(evs[evs.length - 1], 'customer.subscription.deleted');
  // after the period it would have renewed at, nothing more is made
  await advance(clock, APR1 + HOUR + 60);
  assert.equal((await stripe.invoices.list({ customer: customer.id })).data.length, 2);
  await assert.rejects(stripe.subscriptions.update(sub.id, { cancel_at: APR1 + 10 * DAY }),
    (e) => e.statusCode === 400);
});

test('cancel_at in a later period: it renews first, then cancels with that period\'s credit; none with proration_behavior=none; unset with ""', async () => {
  const monthly3000 = await stripe.prices.create({
    currency: 'usd', unit_amount: 3000, recurring: { interval: 'month' }, product_data: { name: 'Desk' },
  });
  // set on create, in April (a later period): the April renewal, then 25 of April's 30 days credited
  const a = await setup();
  await assert.rejects(stripe.subscriptions.create({ customer: a.customer.id, items: [{ price: monthly3000.id }], cancel_at: T0 - 5 }),
    (e) => e.statusCode === 400 && e.param === 'cancel_at');
  await assert.rejects(stripe.subscriptions.create({
    customer: a.customer.id, items: [{ price: monthly3000.id }], cancel_at: APR1 + 5 * DAY, cancel_at_period_end: true,
  }), (e) => e.statusCode === 400 && e.param === 'cancel_at');
  assert.equal((await stripe.subscriptions.list({ customer: a.customer.id })).data.length, 0);
  const sub = await stripe.subscriptions.create({
    customer: a.customer.id, items: [{ price: monthly3000.id }], cancel_at: APR1 + 5 * DAY, proration_behavior: 'none',
  });
  shape(sub, 'subscription');
  assert.equal(sub.cancel_at, APR1 + 5 * DAY);
  assert.equal(sub.canceled_at, T0);
  await advance(a.clock, APR1 + HOUR + 60);
  const renewed = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(renewed.status, 'active');
  assert.equal(renewed.items.data[0].current_period_start, APR1);
  const apr = await stripe.invoices.retrieve(renewed.latest_invoice);
  assert.equal(apr.status, 'paid');
  assert.equal(apr.total, 3000);
  await advance(a.clock, APR1 + 5 * DAY + 60);
  const ended = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(ended.status, 'canceled');
  assert.equal(ended.ended_at, APR1 + 5 * DAY);
  const fin = await stripe.invoices.retrieve(ended.latest_invoice);
  assert.equal(fin.total, -prorate(3000, 25 * DAY, 30 * DAY));
  await assertConserved(fin);
  assert.equal((await stripe.customers.retrieve(a.customer.id)).balance, -2500);

  // proration_behavior=none in the current period: canceled then, nothing credited
  const b = await setup();
  const s2 = await stripe.subscriptions.create({ customer: b.customer.id, items: [{ price: monthly3000.id }] });
  await stripe.subscriptions.update(s2.id, { cancel_at: T0 + 3 * DAY, proration_behavior: 'none' });
  await advance(b.clock, T0 + 3 * DAY + 60);
  const e2 = await stripe.subscriptions.retrieve(s2.id);
  assert.equal(e2.status, 'canceled');
  assert.equal(e2.ended_at, T0 + 3 * DAY);
  assert.equal(e2.latest_invoice, s2.latest_invoice, 'no final invoice');
  assert.equal((await stripe.customers.retrieve(b.customer.id)).balance, 0);

  // unset with '': it renews as before; cancel_at_period_end replaces a cancel_at
  const c = await setup();
  const s3 = await stripe.subscriptions.create({ customer: c.customer.id, items: [{ price: monthly3000.id }], cancel_at: T0 + 3 * DAY });
  const un = await stripe.subscriptions.update(s3.id, { cancel_at: '' });
  shape(un, 'subscription');
  assert.equal(un.cancel_at, null);
  assert.equal(un.canceled_at, null);
  let evs = await eventsFull(s3.id);
  assert.deepEqual(evs[evs.length - 1].data.previous_attributes, { cancel_at: T0 + 3 * DAY, canceled_at: T0 });
  await stripe.subscriptions.update(s3.id, { cancel_at: T0 + 3 * DAY });
  const cape = await stripe.subscriptions.update(s3.id, { cancel_at_period_end: true });
  assert.equal(cape.cancel_at, APR1, 'cancel_at_period_end: cancel_at is the period end');
  assert.equal(cape.cancel_at_period_end, true);
  await advance(c.clock, T0 + 3 * DAY + 60);
  assert.equal((await stripe.subscriptions.retrieve(s3.id)).status, 'active');
  const back = await stripe.subscriptions.update(s3.id, { cancel_at: T0 + 4 * DAY });
  assert.equal(back.cancel_at_period_end, false);
  assert.equal(back.cancel_at, T0 + 4 * DAY);
  // canceled by hand before it: cancel_at no longer stands
  const del = await stripe.subscriptions.cancel(s3.id);
  assert.equal(del.status, 'canceled');
  assert.equal(del.cancel_at, null);

  // a trial: canceled at cancel_at, nothing credited (the trial was not billed)
  const d = await setup();
  const s4 = await stripe.subscriptions.create({
    customer: d.customer.id, items: [{ price: monthly3000.id }], trial_period_days: 14, cancel_at: T0 + 5 * DAY,
  });
  assert.equal(s4.status, 'trialing');
  await advance(d.clock, T0 + 5 * DAY + 60);
  const e4 = await stripe.subscriptions.retrieve(s4.id);
  assert.equal(e4.status, 'canceled');
  assert.equal(e4.ended_at, T0 + 5 * DAY);
  assert.equal(e4.latest_invoice, s4.latest_invoice);
  assert.equal((await stripe.customers.retrieve(d.customer.id)).balance, 0);
});

test('cancel_at=min_period_end / max_period_end (Stripe\'s enums for flexible billing mode): the period\'s end at once, canceled there without renewing', async () => {
  const price = await stripe.prices.create({ currency: 'usd', unit_amount: 3000, recurring: { interval: 'month' }, product_data: { name: 'Desk' } });
  const { clock, customer } = await setup();
  // classic billing mode has no such values; max_billed_until needs prebilling; neither a word
  // nor an integer: nothing is made
  await assert.rejects(stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], billing_mode: { type: 'classic' }, cancel_at: 'min_period_end' }),
    (e) => e.statusCode === 400 && e.param === 'cancel_at');
  await assert.rejects(stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], cancel_at: 'max_billed_until' }),
    (e) => e.statusCode === 400 && e.param === 'cancel_at');
  await assert.rejects(stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], cancel_at: 'soon' }),
    (e) => e.statusCode === 400 && e.param === 'cancel_at' && e.code === 'parameter_invalid_integer');
  assert.equal((await stripe.subscriptions.list({ customer: customer.id })).data.length, 0);
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], cancel_at: 'max_period_end' });
  shape(sub, 'subscription');
  assert.equal(sub.billing_mode.type, 'flexible');
  assert.equal(sub.cancel_at, APR1, 'the items\' current_period_end');
  assert.equal(sub.items.data[0].current_period_end, APR1);
  assert.equal(sub.cancel_at_period_end, false, 'a time, not cancel_at_period_end');
  assert.equal(sub.canceled_at, T0);
  const un = await stripe.subscriptions.update(sub.id, { cancel_at: '' });
  assert.equal(un.cancel_at, null);
  const upd = await stripe.subscriptions.update(sub.id, { cancel_at: 'min_period_end' });
  assert.equal(upd.cancel_at, APR1);
  assert.equal(upd.cancel_at_period_end, false);
  const evs = await eventsFull(sub.id);
  assert.deepEqual(evs[evs.length - 1].data.previous_attributes, { cancel_at: null, canceled_at: null });
  await assert.rejects(stripe.subscriptions.update(sub.id, { cancel_at: 'min_period_end', cancel_at_period_end: true }),
    (e) => e.statusCode === 400 && e.param === 'cancel_at');
  const classic = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], billing_mode: { type: 'classic' } });
  await assert.rejects(stripe.subscriptions.update(classic.id, { cancel_at: 'max_period_end' }),
    (e) => e.statusCode === 400 && e.param === 'cancel_at');
  assert.equal((await stripe.subscriptions.retrieve(classic.id)).cancel_at, null);
  // at the period's end it is canceled, not renewed: no second invoice
  await advance(clock, APR1 + HOUR + 60);
  const ended = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(ended.status, 'canceled');
  assert.equal(ended.ended_at, APR1);
  assert.equal(ended.latest_invoice, sub.latest_invoice);
  assert.equal((await stripe.invoices.list({ subscription: sub.id })).data.length, 1);
});

test('pending_invoice_item_interval: the scheduler invoices the subscription\'s pending items each interval (test clocks)', async () => {
  const { clock, customer } = await setup();
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: monthly.id }],
    pending_invoice_item_interval: { interval: 'week', interval_count: 1 },
  });
  shape(sub, 'subscription');
  assert.equal(sub.next_pending_invoice_item_invoice, T0 + 7 * DAY);
  // the subscription's item is invoiced on the interval; the customer's own waits for the renewal
  const mine = await stripe.invoiceItems.create({ customer: customer.id, subscription: sub.id, amount: 500, currency: 'usd' });
  await stripe.invoiceItems.create({ customer: customer.id, amount: 300, currency: 'usd' });
  await advance(clock, T0 + 7 * DAY + 60);
  let s1 = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(s1.next_pending_invoice_item_invoice, T0 + 14 * DAY);
  const inv = await stripe.invoices.retrieve(s1.latest_invoice);
  assert.equal(inv.billing_reason, 'automatic_pending_invoice_item_invoice');
  assert.equal(inv.subscription, sub.id);
  assert.equal(inv.status, 'draft', 'a draft for an hour, as the subscription\'s invoices');
  const lines = (await stripe.invoices.listLineItems(inv.id)).data;
  assert.deepEqual(lines.map((l) => [l.amount, l.parent.invoice_item_details.invoice_item]), [[500, mine.id]]);
  assert.equal(inv.total, 500);
  shape(inv, 'invoice');
  assert.equal((await stripe.invoiceItems.retrieve(mine.id)).invoice, inv.id);
  await advance(clock, T0 + 7 * DAY + HOUR + 120);
  const paid = await stripe.invoices.retrieve(inv.id);
  assert.equal(paid.status, 'paid');
  await assertConserved(paid);
  const ev = (await eventsFull(sub.id)).filter((e) => e.type === 'customer.subscription.updated')
    .find((e) => 'next_pending_invoice_item_invoice' in e.data.previous_attributes);
  assert.equal(ev.data.previous_attributes.next_pending_invoice_item_invoice, T0 + 7 * DAY);
  // nothing pending: no invoice, the next time moves on
  await advance(clock, T0 + 14 * DAY + 60);
  s1 = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(s1.next_pending_invoice_item_invoice, T0 + 21 * DAY);
  assert.equal((await stripe.invoices.list({ customer: customer.id })).data.length, 2);
  // the renewal takes the customer's own item
  await advance(clock, APR1 + HOUR + 120);
  s1 = await stripe.subscriptions.retrieve(sub.id);
  const renewal = await stripe.invoices.retrieve(s1.latest_invoice);
  assert.equal(renewal.billing_reason, 'subscription_cycle');
  assert.equal(renewal.total, 3000 + 300);
  assert.equal(renewal.status, 'paid');
  // unset: none due
  const un = await stripe.subscriptions.update(sub.id, { pending_invoice_item_interval: '' });
  assert.equal(un.next_pending_invoice_item_invoice, null);
});

test('invoice.upcoming: a week before each charged renewal, once per period, the renewal invoice to come', async () => {
  const { clock, customer } = await setup();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id, quantity: 2 }] });
  // the event's invoice has no id: find it by its subscription
  const upcoming = async () => (await stripe.events.list({ type: 'invoice.upcoming', limit: 100 })).data
    .filter((e) => e.data.object.subscription === sub.id);
  await advance(clock, APR1 - 7 * DAY - 1);
  assert.equal((await upcoming()).length, 0, 'not before the week');
  await advance(clock, APR1 - 7 * DAY + 1);
  let evs = await upcoming();
  assert.equal(evs.length, 1);
  const inv = evs[0].data.object;
  assert.equal(evs[0].created, APR1 - 7 * DAY, 'at the clock\'s time');
  assert.equal(inv.object, 'invoice');
  assert.ok(!('id' in inv), 'the invoice does not exist yet');
  assert.equal(inv.billing_reason, 'subscription_cycle');
  assert.equal(inv.lines.data[0].period.start, APR1, 'the period the renewal bills');
  // Stripe's: the invoice's own period is the one that ends (its line: the one it pays for)
  assert.deepEqual([inv.period_start, inv.period_end], [T0, APR1]);
  assert.equal(inv.amount_due, 6000);
  shape(inv, 'invoice');
  // another advance in the same period, then the renewal (made, then charged an hour later)
  await advance(clock, APR1 - DAY);
  await advance(clock, APR1 + 2 * HOUR);
  assert.equal((await upcoming()).length, 1, 'once per period');
  const renewal = (await stripe.invoices.list({ subscription: sub.id, limit: 1 })).data[0];
  assert.equal(renewal.billing_reason, 'subscription_cycle');
  assert.equal(renewal.status, 'paid');
  assert.equal(renewal.amount_due, inv.amount_due);
  assert.equal(renewal.total, inv.total);
  assert.deepEqual([renewal.period_start, renewal.period_end], [inv.period_start, inv.period_end]);
  assert.deepEqual(renewal.lines.data.map((l) => l.period), inv.lines.data.map((l) => l.period));
  // the next period's, a week before its end
  await advance(clock, MAY1 - 7 * DAY);
  evs = await upcoming();
  assert.equal(evs.length, 2);
  assert.equal(evs[0].data.object.lines.data[0].period.start, MAY1);
  assert.deepEqual([evs[0].data.object.period_start, evs[0].data.object.period_end], [APR1, MAY1]);
});

test('tender verify passes: the money in the ledger adds up', async () => {
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});
