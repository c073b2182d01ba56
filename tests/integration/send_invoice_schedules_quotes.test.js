'use strict';
// collection_method=send_invoice for subscription schedules and quotes, through stripe-node:
// a schedule's default_settings[collection_method] / [invoice_settings][days_until_due] and each
// phase's own, shown on the schedule and given to the subscription it makes (at once, or when the
// scheduler reaches its start on a test clock: no card needed, active, its invoice open with its
// due date, nothing charged); a phase change switching the subscription's method as
// POST /v1/subscriptions/{id} would (its renewal then charged, or sent); an update of the default
// settings; from_subscription copying a send_invoice subscription's method; refusals that store
// nothing. Quotes: send_invoice with invoice_settings[days_until_due] on create/update, accepted
// into a send_invoice draft invoice (one-off lines) or a send_invoice subscription without a card
// (recurring lines). Objects are checked against Stripe's OpenAPI spec.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll } = require('./helpers');
const { billingShape, clockAdvance } = require('./billing_helpers');

let env;
let stripe;
let other;
let basic;
let pro;
let once;
const DAY = 86400;
const HOUR = 3600;
const T0 = Date.UTC(2025, 2, 1, 0, 0, 0) / 1000; // Mar 1
const APR1 = Date.UTC(2025, 3, 1, 0, 0, 0) / 1000;
const MAY1 = Date.UTC(2025, 4, 1, 0, 0, 0) / 1000;

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
  basic = await stripe.prices.create({
    currency: 'usd', unit_amount: 1000, recurring: { interval: 'month' }, product_data: { name: 'Basic' },
  });
  pro = await stripe.prices.create({
    currency: 'usd', unit_amount: 3000, recurring: { interval: 'month' }, product_data: { name: 'Pro' },
  });
  once = await stripe.prices.create({ currency: 'usd', unit_amount: 5000, product_data: { name: 'Setup' } });
});
after(stopAll);

const schedShape = (o) => billingShape(o, 'subscription_schedule');
const subShape = (o) => billingShape(o, 'subscription');
const invShape = (o) => billingShape(o, 'invoice');
const quoteShape = (o) => billingShape(o, 'quote');
const advance = (clock, to) => clockAdvance(stripe, clock, to);

async function setup(card = false, frozen = T0) {
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: frozen });
  const opts = { test_clock: clock.id, email: 'ada@example.com' };
  if (card) Object.assign(opts, { payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
  const customer = await stripe.customers.create(opts);
  return { clock, customer };
}

async function charges(customer) {
  return (await stripe.charges.list({ customer: customer.id, limit: 100 })).data;
}

async function subEvents(id) {
  const all = await stripe.events.list({ limit: 100, type: 'customer.subscription.updated' }).autoPagingToArray({ limit: 10000 });
  return all.filter((e) => e.data.object.id === id).reverse();
}

function assertSent(inv, finalizedAt, days) {
  assert.equal(inv.collection_method, 'send_invoice');
  assert.equal(inv.status, 'open');
  assert.equal(inv.status_transitions.finalized_at, finalizedAt);
  assert.equal(inv.due_date, finalizedAt + days * DAY);
  assert.equal(inv.next_payment_attempt, null);
  assert.equal(inv.amount_paid, 0);
}

test('schedule starting now: default send_invoice, a phase with its own days; the subscription needs no card; the phase change sets its days', async () => {
  const { clock, customer } = await setup(false);
  const s = await stripe.subscriptionSchedules.create({
    customer: customer.id,
    start_date: 'now',
    default_settings: { collection_method: 'send_invoice', invoice_settings: { days_until_due: 30 } },
    phases: [
      { items: [{ price: basic.id }], iterations: 1 },
      { items: [{ price: pro.id }], iterations: 1, proration_behavior: 'none', invoice_settings: { days_until_due: 10 } },
    ],
  });
  schedShape(s);
  assert.equal(s.status, 'active');
  assert.equal(s.default_settings.collection_method, 'send_invoice');
  assert.equal(s.default_settings.invoice_settings.days_until_due, 30);
  assert.equal(s.phases[0].collection_method, null);
  assert.equal(s.phases[0].invoice_settings, null);
  assert.equal(s.phases[1].collection_method, null);
  assert.equal(s.phases[1].invoice_settings.days_until_due, 10);

  const sub = await stripe.subscriptions.retrieve(s.subscription, { expand: ['latest_invoice'] });
  assert.equal(sub.status, 'active');
  assert.equal(sub.collection_method, 'send_invoice');
  assert.equal(sub.days_until_due, 30);
  assert.equal(sub.schedule, s.id);
  assertSent(sub.latest_invoice, T0, 30);
  invShape(sub.latest_invoice);
  subShape({ ...sub, latest_invoice: sub.latest_invoice.id });
  assert.equal((await charges(customer)).length, 0, 'nothing charged');
  // another merchant sees none of it
  await assert.rejects(other.subscriptionSchedules.retrieve(s.id), (e) => e.statusCode === 404);

  // the second phase: the price changes and the subscription's days become the phase's
  await advance(clock, APR1 + 2 * HOUR);
  const s2 = await stripe.subscriptionSchedules.retrieve(s.id);
  schedShape(s2);
  assert.equal(s2.current_phase.start_date, APR1);
  const sub2 = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(sub2.collection_method, 'send_invoice');
  assert.equal(sub2.days_until_due, 10);
  assert.equal(sub2.items.data[0].price.id, pro.id);
  subShape(sub2);
  const ev = (await subEvents(sub.id)).find((e) => e.data.previous_attributes && 'days_until_due' in e.data.previous_attributes);
  assert.ok(ev, 'customer.subscription.updated names the days it had');
  assert.equal(ev.data.previous_attributes.days_until_due, 30);
  assert.equal(ev.data.object.days_until_due, 10);
  // its renewal: the new price, sent (finalized after its draft hour) with the phase's days
  const renewal = await stripe.invoices.retrieve(sub2.latest_invoice);
  assert.equal(renewal.amount_due, 3000);
  assertSent(renewal, APR1 + HOUR, 10);
  invShape(renewal);
  assert.equal((await charges(customer)).length, 0, 'still nothing charged');
});

test('schedule starting later on a test clock: send_invoice phase made by the scheduler without a card; the next phase charges automatically', async () => {
  const { clock, customer } = await setup(true);
  const start = T0 + 5 * DAY;
  const s = await stripe.subscriptionSchedules.create({
    customer: customer.id,
    start_date: start,
    phases: [
      { items: [{ price: basic.id }], iterations: 1, collection_method: 'send_invoice', invoice_settings: { days_until_due: 7 } },
      { items: [{ price: basic.id }], iterations: 1, collection_method: 'charge_automatically' },
    ],
  });
  schedShape(s);
  assert.equal(s.status, 'not_started');
  assert.equal(s.default_settings.collection_method, 'charge_automatically');
  assert.equal(s.default_settings.invoice_settings.days_until_due, null);
  assert.equal(s.phases[0].collection_method, 'send_invoice');
  assert.equal(s.phases[0].invoice_settings.days_until_due, 7);
  assert.equal(s.phases[1].collection_method, 'charge_automatically');
  assert.equal(s.phases[1].invoice_settings, null);

  await advance(clock, start + HOUR);
  const s2 = await stripe.subscriptionSchedules.retrieve(s.id);
  assert.equal(s2.status, 'active');
  schedShape(s2);
  const sub = await stripe.subscriptions.retrieve(s2.subscription, { expand: ['latest_invoice'] });
  assert.equal(sub.status, 'active');
  assert.equal(sub.collection_method, 'send_invoice');
  assert.equal(sub.days_until_due, 7);
  assertSent(sub.latest_invoice, start, 7);
  assert.equal((await charges(customer)).length, 0, 'the card is not used by a send_invoice phase');

  // the next phase switches it to charge_automatically: its renewal is charged
  const next = s2.phases[0].end_date;
  await advance(clock, next + 2 * HOUR);
  const sub2 = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(sub2.collection_method, 'charge_automatically');
  assert.equal(sub2.days_until_due, null);
  subShape(sub2);
  const ev = (await subEvents(sub.id)).find((e) => e.data.previous_attributes && e.data.previous_attributes.collection_method);
  assert.ok(ev);
  assert.equal(ev.data.previous_attributes.collection_method, 'send_invoice');
  assert.equal(ev.data.previous_attributes.days_until_due, 7);
  const renewal = await stripe.invoices.retrieve(sub2.latest_invoice);
  assert.equal(renewal.collection_method, 'charge_automatically');
  assert.equal(renewal.status, 'paid');
  assert.equal((await charges(customer)).length, 1);
});

test('update: default_settings to send_invoice switches the active subscription; refusals change nothing', async () => {
  const { customer } = await setup(true);
  const s = await stripe.subscriptionSchedules.create({
    customer: customer.id, start_date: 'now', phases: [{ items: [{ price: basic.id }], iterations: 2 }],
  });
  const sub = await stripe.subscriptions.retrieve(s.subscription);
  assert.equal(sub.collection_method, 'charge_automatically');
  assert.equal((await charges(customer)).length, 1);

  // send_invoice without days_until_due, days with charge_automatically: 400, nothing stored
  await assert.rejects(stripe.subscriptionSchedules.update(s.id, { default_settings: { collection_method: 'send_invoice' } }),
    (e) => e.statusCode === 400 && e.param === 'default_settings[invoice_settings][days_until_due]');
  await assert.rejects(stripe.subscriptionSchedules.update(s.id, { default_settings: { invoice_settings: { days_until_due: 3 } } }),
    (e) => e.statusCode === 400 && e.param === 'default_settings[invoice_settings][days_until_due]');
  await assert.rejects(stripe.subscriptionSchedules.update(s.id, {
    phases: [{ items: [{ price: basic.id }], iterations: 2, collection_method: 'send_invoice' }],
  }), (e) => e.statusCode === 400 && e.param === 'phases[0][invoice_settings][days_until_due]');
  const same = await stripe.subscriptionSchedules.retrieve(s.id);
  assert.equal(same.default_settings.collection_method, 'charge_automatically');
  assert.equal(same.phases[0].collection_method, null);

  const u = await stripe.subscriptionSchedules.update(s.id, {
    default_settings: { collection_method: 'send_invoice', invoice_settings: { days_until_due: 3 } },
  });
  schedShape(u);
  assert.equal(u.default_settings.collection_method, 'send_invoice');
  assert.equal(u.default_settings.invoice_settings.days_until_due, 3);
  const sub2 = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(sub2.collection_method, 'send_invoice');
  assert.equal(sub2.days_until_due, 3);
  const evs = await stripe.events.list({ type: 'subscription_schedule.updated', limit: 100 });
  const ev = evs.data.find((e) => e.data.object.id === s.id);
  assert.equal(ev.data.previous_attributes.default_settings.collection_method, 'charge_automatically');
  assert.equal(ev.data.previous_attributes.default_settings.invoice_settings.days_until_due, null);
});

test('create refusals store nothing', async () => {
  const { customer } = await setup(false);
  const bad = [
    [{ default_settings: { collection_method: 'send_invoice' } }, 'default_settings[invoice_settings][days_until_due]'],
    [{ default_settings: { invoice_settings: { days_until_due: 5 } } }, 'default_settings[invoice_settings][days_until_due]'],
    [{ phases: [{ items: [{ price: basic.id }], collection_method: 'send_invoice' }] }, 'phases[0][invoice_settings][days_until_due]'],
    [{ phases: [{ items: [{ price: basic.id }], invoice_settings: { days_until_due: 5 } }] }, 'phases[0][invoice_settings][days_until_due]'],
    [{ phases: [{ items: [{ price: basic.id }], collection_method: 'send_invoice', invoice_settings: { days_until_due: -1 } }] }, 'phases[0][invoice_settings][days_until_due]'],
    // a charge_automatically default without a card: refused as a subscription's create is
    [{}, 'default_payment_method'],
  ];
  for (const [extra, param] of bad) {
    await assert.rejects(stripe.subscriptionSchedules.create({
      customer: customer.id, start_date: 'now', phases: [{ items: [{ price: basic.id }] }], ...extra,
    }), (e) => e.statusCode === 400 && e.param === param, JSON.stringify(extra));
  }
  assert.equal((await stripe.subscriptionSchedules.list({ customer: customer.id })).data.length, 0);
  assert.equal((await stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data.length, 0);
});

test('from_subscription copies a send_invoice subscription\'s method', async () => {
  const { customer } = await setup(false);
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: basic.id }], collection_method: 'send_invoice', days_until_due: 12,
  });
  const s = await stripe.subscriptionSchedules.create({ from_subscription: sub.id });
  schedShape(s);
  assert.equal(s.default_settings.collection_method, 'send_invoice');
  assert.equal(s.default_settings.invoice_settings.days_until_due, 12);
  assert.equal(s.phases[0].collection_method, 'send_invoice');
  assert.equal(s.phases[0].invoice_settings.days_until_due, 12);
  const sub2 = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(sub2.collection_method, 'send_invoice');
  assert.equal(sub2.days_until_due, 12);
});

test('quote with one-off lines: send_invoice on create and update, accepted into a send_invoice draft, finalized without a charge', async () => {
  const cus = await stripe.customers.create({ email: 'q@example.com' });
  // refusals
  await assert.rejects(stripe.quotes.create({ customer: cus.id, collection_method: 'send_invoice', line_items: [{ price: once.id }] }),
    (e) => e.statusCode === 400 && e.param === 'invoice_settings[days_until_due]');
  await assert.rejects(stripe.quotes.create({ customer: cus.id, invoice_settings: { days_until_due: 3 }, line_items: [{ price: once.id }] }),
    (e) => e.statusCode === 400 && e.param === 'invoice_settings[days_until_due]');
  assert.equal((await stripe.quotes.list({ customer: cus.id })).data.length, 0);

  let q = await stripe.quotes.create({
    customer: cus.id, collection_method: 'send_invoice', invoice_settings: { days_until_due: 14 },
    line_items: [{ price: once.id, quantity: 2 }],
  });
  quoteShape(q);
  assert.equal(q.collection_method, 'send_invoice');
  assert.equal(q.invoice_settings.days_until_due, 14);
  // an update keeps the days unless it changes them; charge_automatically drops them
  q = await stripe.quotes.update(q.id, { description: 'Setup' });
  assert.equal(q.invoice_settings.days_until_due, 14);
  q = await stripe.quotes.update(q.id, { collection_method: 'charge_automatically' });
  assert.equal(q.collection_method, 'charge_automatically');
  assert.equal(q.invoice_settings.days_until_due, null);
  await assert.rejects(stripe.quotes.update(q.id, { collection_method: 'send_invoice' }),
    (e) => e.statusCode === 400 && e.param === 'invoice_settings[days_until_due]');
  q = await stripe.quotes.update(q.id, { collection_method: 'send_invoice', invoice_settings: { days_until_due: 20 } });
  assert.equal(q.invoice_settings.days_until_due, 20);
  quoteShape(q);
  q = await stripe.quotes.finalizeQuote(q.id);
  const acc = await stripe.quotes.accept(q.id);
  quoteShape(acc);
  assert.equal(acc.status, 'accepted');
  assert.equal(acc.collection_method, 'send_invoice');
  const draft = await stripe.invoices.retrieve(acc.invoice);
  invShape(draft);
  assert.equal(draft.status, 'draft');
  assert.equal(draft.collection_method, 'send_invoice');
  assert.equal(draft.amount_due, 10000);
  assert.equal(draft.due_date, draft.created + 20 * DAY);
  const fin = await stripe.invoices.finalizeInvoice(draft.id);
  assert.equal(fin.status, 'open');
  assert.equal(fin.collection_method, 'send_invoice');
  assert.equal(fin.due_date, fin.status_transitions.finalized_at + 20 * DAY);
  assert.ok(fin.hosted_invoice_url);
  invShape(fin);
  assert.equal((await charges(cus)).length, 0);
});

test('quote with recurring lines: send_invoice accepted into a subscription that needs no card', async () => {
  const { customer } = await setup(false, MAY1);
  let q = await stripe.quotes.create({
    customer: customer.id, collection_method: 'send_invoice', invoice_settings: { days_until_due: 9 },
    line_items: [{ price: pro.id }],
  });
  q = await stripe.quotes.finalizeQuote(q.id);
  const acc = await stripe.quotes.accept(q.id);
  quoteShape(acc);
  const sub = await stripe.subscriptions.retrieve(acc.subscription, { expand: ['latest_invoice'] });
  assert.equal(sub.status, 'active');
  assert.equal(sub.collection_method, 'send_invoice');
  assert.equal(sub.days_until_due, 9);
  assert.equal(sub.default_payment_method, null);
  assert.equal(sub.latest_invoice.id, acc.invoice);
  assertSent(sub.latest_invoice, MAY1, 9);
  subShape({ ...sub, latest_invoice: sub.latest_invoice.id });
  assert.equal((await charges(customer)).length, 0);
});
