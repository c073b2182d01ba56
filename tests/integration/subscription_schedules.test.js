'use strict';
// Subscription schedules through stripe-node: a schedule that starts now makes its
// subscription at once, one that starts later when its start comes (a test clock's time),
// phases change the subscription's items at their ends (the next invoices bill the new prices),
// end_behavior release or cancel after the last phase, POST …/release and …/cancel,
// from_subscription, updates, lists, events and validation errors, phases' `currency` with
// prices' currency_options. Every schedule (and the
// subscriptions it manages) is checked against Stripe's OpenAPI spec.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, tender, storeSql } = require('./helpers');
const { billingShape, clockAdvance } = require('./billing_helpers');

let env;
let stripe;
let other;
const DAY = 86400;
const HOUR = 3600;
const T0 = Date.UTC(2025, 2, 1, 0, 0, 0) / 1000; // Mar 1
const APR1 = Date.UTC(2025, 3, 1, 0, 0, 0) / 1000;
const MAY1 = Date.UTC(2025, 4, 1, 0, 0, 0) / 1000;
const JUN1 = Date.UTC(2025, 5, 1, 0, 0, 0) / 1000;
let basic;
let pro;

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
  basic = await stripe.prices.create({
    currency: 'usd', unit_amount: 1000, recurring: { interval: 'month' }, product_data: { name: 'Basic' },
  });
  pro = await stripe.prices.create({
    currency: 'usd', unit_amount: 2500, recurring: { interval: 'month' }, product_data: { name: 'Pro' },
  });
});
after(stopAll);

const shape = (obj) => billingShape(obj, 'subscription_schedule');
const subShape = (obj) => billingShape(obj, 'subscription');
const advance = (clock, to) => clockAdvance(stripe, clock, to);

async function setup(pm = 'pm_card_visa', frozen = T0) {
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: frozen });
  const opts = { test_clock: clock.id, email: 'jenny@example.com' };
  if (pm) Object.assign(opts, { payment_method: pm, invoice_settings: { default_payment_method: pm } });
  const customer = await stripe.customers.create(opts);
  return { clock, customer };
}

async function eventsOf(id) {
  const all = await stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 10000 });
  return all.filter((e) => e.data.object.id === id).reverse().map((e) => e.type);
}

async function invoicesOf(sub) {
  const l = await stripe.invoices.list({ subscription: sub, limit: 100 });
  return l.data.slice().reverse(); // oldest first
}

test('a schedule that starts now makes its subscription; phases change its price; then it is released', async () => {
  const { clock, customer } = await setup();
  const s = await stripe.subscriptionSchedules.create({
    customer: customer.id,
    start_date: 'now',
    metadata: { plan: 'intro' },
    phases: [
      { items: [{ price: basic.id, quantity: 2 }], iterations: 1, metadata: { phase: 'one' } },
      { items: [{ price: pro.id }], iterations: 1, proration_behavior: 'none' },
    ],
  });
  shape(s);
  assert.match(s.id, /^sub_sched_/);
  assert.equal(s.object, 'subscription_schedule');
  assert.equal(s.status, 'active');
  assert.equal(s.end_behavior, 'release');
  assert.equal(s.customer, customer.id);
  assert.equal(s.test_clock, clock.id);
  assert.deepEqual(s.metadata, { plan: 'intro' });
  // stripe-node 23's API version: flexible, as SubscriptionSchedule.BillingMode shapes it
  assert.deepEqual(s.billing_mode, { flexible: { proration_discounts: 'included' }, type: 'flexible', updated_at: T0 });
  assert.deepEqual(s.current_phase, { start_date: T0, end_date: APR1 });
  assert.equal(s.phases.length, 2);
  assert.equal(s.phases[0].start_date, T0);
  assert.equal(s.phases[0].end_date, APR1);
  assert.equal(s.phases[1].start_date, APR1);
  assert.equal(s.phases[1].end_date, MAY1);
  assert.equal(s.phases[0].items[0].price, basic.id);
  assert.equal(s.phases[0].items[0].quantity, 2);
  assert.equal(s.phases[1].proration_behavior, 'none');
  assert.equal(s.phases[0].currency, 'usd');
  assert.match(s.subscription, /^sub_/);
  assert.equal(s.released_subscription, null);

  subShape(await stripe.subscriptions.retrieve(s.subscription));
  const sub = await stripe.subscriptions.retrieve(s.subscription, { expand: ['latest_invoice'] });
  assert.equal(sub.schedule, s.id);
  assert.equal(sub.status, 'active');
  assert.equal(sub.start_date, T0);
  assert.deepEqual(sub.metadata, { phase: 'one' });
  assert.equal(sub.billing_mode.type, 'flexible');
  assert.equal(sub.items.data.length, 1);
  assert.equal(sub.items.data[0].price.id, basic.id);
  assert.equal(sub.latest_invoice.status, 'paid');
  assert.equal(sub.latest_invoice.total, 2000);
  // retrieve and list agree
  shape(await stripe.subscriptionSchedules.retrieve(s.id));
  assert.deepEqual(await stripe.subscriptionSchedules.retrieve(s.id), s);
  assert.deepEqual(await eventsOf(s.id), ['subscription_schedule.created']);
  // the subscription's own created event already names its schedule
  const created = (await stripe.events.list({ type: 'customer.subscription.created', limit: 100 }))
    .data.find((e) => e.data.object.id === sub.id);
  assert.equal(created.data.object.schedule, s.id);

  // the first phase ends with the period: the renewal bills the second phase's price
  await advance(clock, APR1 + HOUR);
  const s2 = await stripe.subscriptionSchedules.retrieve(s.id);
  shape(s2);
  assert.equal(s2.status, 'active');
  assert.deepEqual(s2.current_phase, { start_date: APR1, end_date: MAY1 });
  const sub2 = await stripe.subscriptions.retrieve(sub.id);
  subShape(sub2);
  assert.equal(sub2.items.data.length, 1);
  assert.equal(sub2.items.data[0].price.id, pro.id);
  assert.equal(sub2.items.data[0].quantity, 1);
  let invs = await invoicesOf(sub.id);
  assert.equal(invs.length, 2);
  assert.equal(invs[1].billing_reason, 'subscription_cycle');
  assert.equal(invs[1].total, 2500);
  assert.equal(invs[1].status, 'paid');
  const lines = await stripe.invoices.listLineItems(invs[1].id);
  assert.deepEqual(lines.data.map((l) => l.amount), [2500]);

  // after the last phase: released, the subscription goes on alone
  await advance(clock, MAY1 + HOUR);
  const s3 = await stripe.subscriptionSchedules.retrieve(s.id);
  shape(s3);
  assert.equal(s3.status, 'released');
  assert.equal(s3.subscription, null);
  assert.equal(s3.released_subscription, sub.id);
  assert.equal(s3.released_at, MAY1);
  assert.equal(s3.current_phase, null);
  const sub3 = await stripe.subscriptions.retrieve(sub.id);
  subShape(sub3);
  assert.equal(sub3.schedule, null);
  assert.equal(sub3.status, 'active');
  invs = await invoicesOf(sub.id);
  assert.equal(invs.length, 3);
  assert.equal(invs[2].total, 2500);
  assert.equal(invs[2].status, 'paid');
  assert.deepEqual(await eventsOf(s.id), ['subscription_schedule.created',
    'subscription_schedule.updated', 'subscription_schedule.released']);
  const evs = (await stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 10000 }))
    .filter((e) => e.data.object.id === s.id).reverse();
  assert.deepEqual(evs[1].data.previous_attributes, { current_phase: { end_date: APR1, start_date: T0 } });
  assert.equal(evs[1].created, APR1);
  assert.deepEqual(evs[2].data.previous_attributes, {
    current_phase: { end_date: MAY1, start_date: APR1 }, released_at: null, released_subscription: null,
    status: 'active', subscription: sub.id,
  });
  // and later renewals keep the last phase's price
  await advance(clock, JUN1 + HOUR);
  invs = await invoicesOf(sub.id);
  assert.equal(invs.length, 4);
  assert.equal(invs[3].total, 2500);
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

test('a schedule that starts later is not_started until its start, then makes its subscription', async () => {
  const { clock, customer } = await setup();
  const start = T0 + 5 * DAY;
  const s = await stripe.subscriptionSchedules.create({
    customer: customer.id,
    start_date: start,
    end_behavior: 'cancel',
    phases: [{ items: [{ price: pro.id }], iterations: 2 }],
  });
  shape(s);
  assert.equal(s.status, 'not_started');
  assert.equal(s.subscription, null);
  assert.equal(s.current_phase, null);
  assert.equal(s.phases[0].start_date, start);
  const end = Date.UTC(2025, 4, 6, 0, 0, 0) / 1000; // May 6: two months later
  assert.equal(s.phases[0].end_date, end);
  assert.equal((await stripe.subscriptions.list({ customer: customer.id })).data.length, 0);

  await advance(clock, start - HOUR);
  assert.equal((await stripe.subscriptionSchedules.retrieve(s.id)).status, 'not_started');
  await advance(clock, start + HOUR);
  const s2 = await stripe.subscriptionSchedules.retrieve(s.id);
  shape(s2);
  assert.equal(s2.status, 'active');
  assert.match(s2.subscription, /^sub_/);
  assert.deepEqual(s2.current_phase, { start_date: start, end_date: end });
  subShape(await stripe.subscriptions.retrieve(s2.subscription));
  const sub = await stripe.subscriptions.retrieve(s2.subscription, { expand: ['latest_invoice'] });
  assert.equal(sub.schedule, s.id);
  assert.equal(sub.start_date, start);
  assert.equal(sub.status, 'active');
  assert.equal(sub.latest_invoice.total, 2500);
  assert.equal(sub.latest_invoice.status, 'paid');
  assert.equal(sub.latest_invoice.created, start);

  // end_behavior cancel: after its last phase the subscription is canceled, the schedule completed
  await advance(clock, end + HOUR);
  const s3 = await stripe.subscriptionSchedules.retrieve(s.id);
  shape(s3);
  assert.equal(s3.status, 'completed');
  assert.equal(s3.completed_at, end);
  const sub3 = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(sub3.status, 'canceled');
  assert.equal(sub3.ended_at, end);
  const invs = await invoicesOf(sub.id);
  assert.equal(invs.length, 2, 'two months billed, nothing at the end');
  assert.deepEqual(await eventsOf(s.id), ['subscription_schedule.created',
    'subscription_schedule.updated', 'subscription_schedule.completed']);
});

test('release and cancel', async () => {
  const { customer } = await setup();
  const s = await stripe.subscriptionSchedules.create({
    customer: customer.id,
    phases: [{ items: [{ price: basic.id }], iterations: 3 }],
  });
  assert.equal(s.status, 'active');
  const r = await stripe.subscriptionSchedules.release(s.id);
  shape(r);
  assert.equal(r.status, 'released');
  assert.equal(r.subscription, null);
  assert.equal(r.released_subscription, s.subscription);
  assert.equal(r.released_at, T0);
  const sub = await stripe.subscriptions.retrieve(s.subscription);
  assert.equal(sub.schedule, null);
  assert.equal(sub.status, 'active');
  await assert.rejects(stripe.subscriptionSchedules.release(s.id), (e) => e.statusCode === 400);
  await assert.rejects(stripe.subscriptionSchedules.cancel(s.id), (e) => e.statusCode === 400);
  assert.deepEqual(await eventsOf(s.id), ['subscription_schedule.created', 'subscription_schedule.released']);

  const c = await stripe.subscriptionSchedules.create({
    customer: customer.id,
    phases: [{ items: [{ price: pro.id }] }],
  });
  const cs = await stripe.subscriptionSchedules.cancel(c.id);
  shape(cs);
  assert.equal(cs.status, 'canceled');
  assert.equal(cs.canceled_at, T0);
  assert.equal(cs.subscription, c.subscription);
  const csub = await stripe.subscriptions.retrieve(c.subscription);
  assert.equal(csub.status, 'canceled');
  assert.equal(csub.schedule, null);
  assert.deepEqual(await eventsOf(c.id), ['subscription_schedule.created', 'subscription_schedule.canceled']);

  // a not_started schedule released has no subscription to keep
  const later = await stripe.subscriptionSchedules.create({
    customer: customer.id, start_date: T0 + 10 * DAY, phases: [{ items: [{ price: pro.id }] }],
  });
  const lr = await stripe.subscriptionSchedules.release(later.id);
  assert.equal(lr.status, 'released');
  assert.equal(lr.released_subscription, null);
  // the list's filters
  const ids = async (params) => (await stripe.subscriptionSchedules.list({ customer: customer.id, ...params }))
    .data.map((x) => x.id).sort();
  assert.deepEqual(await ids({ released_at: T0 }), [s.id, later.id].sort());
  assert.deepEqual(await ids({ released_at: { gt: T0 } }), []);
  assert.deepEqual(await ids({ canceled_at: { gte: T0, lte: T0 + 1 } }), [c.id]);
  assert.deepEqual(await ids({ completed_at: { lt: T0 + DAY } }), []);
  assert.deepEqual(await ids({ scheduled: true }), []);
  assert.deepEqual(await ids({ scheduled: false }), [s.id, c.id, later.id].sort());
});

test('canceling the subscription cancels its schedule', async () => {
  const { customer } = await setup();
  const s = await stripe.subscriptionSchedules.create({
    customer: customer.id, phases: [{ items: [{ price: basic.id }], iterations: 2 }],
  });
  await stripe.subscriptions.cancel(s.subscription);
  const s2 = await stripe.subscriptionSchedules.retrieve(s.id);
  shape(s2);
  assert.equal(s2.status, 'canceled');
  assert.equal(s2.canceled_at, T0);
  assert.deepEqual(await eventsOf(s.id), ['subscription_schedule.created', 'subscription_schedule.canceled']);
});

test('from_subscription takes over a subscription; an update adds a phase', async () => {
  const { clock, customer } = await setup();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }], billing_mode: { type: 'classic' } });
  const s = await stripe.subscriptionSchedules.create({ from_subscription: sub.id });
  shape(s);
  // the subscription's billing mode; its migration takes the schedule along
  assert.deepEqual(s.billing_mode, { flexible: null, type: 'classic', updated_at: T0 });
  await assert.rejects(stripe.subscriptionSchedules.create({ from_subscription: sub.id, billing_mode: { type: 'flexible' } }),
    (e) => e.statusCode === 400 && e.param === 'billing_mode');
  await stripe.subscriptions.migrate(sub.id, { billing_mode: { type: 'flexible' } });
  const moved = await stripe.subscriptionSchedules.retrieve(s.id);
  assert.equal(moved.billing_mode.type, 'flexible');
  const sev = (await stripe.events.list({ type: 'subscription_schedule.updated', limit: 100 })).data
    .filter((e) => e.data.object.id === s.id && e.data.previous_attributes.billing_mode);
  assert.equal(sev.length, 1);
  assert.deepEqual(sev[0].data.previous_attributes, { billing_mode: { flexible: null, type: 'classic', updated_at: T0 } });
  assert.equal(s.status, 'active');
  assert.equal(s.subscription, sub.id);
  assert.equal(s.customer, customer.id);
  assert.equal(s.end_behavior, 'release');
  assert.equal(s.phases.length, 1);
  assert.equal(s.phases[0].start_date, T0);
  assert.equal(s.phases[0].end_date, APR1);
  assert.equal(s.phases[0].items[0].price, basic.id);
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).schedule, s.id);
  await assert.rejects(stripe.subscriptionSchedules.create({ from_subscription: sub.id }),
    (e) => e.statusCode === 400 && e.param === 'from_subscription');
  await assert.rejects(stripe.subscriptionSchedules.create({ from_subscription: sub.id, customer: customer.id }),
    (e) => e.statusCode === 400 && e.param === 'customer');
  await assert.rejects(stripe.subscriptionSchedules.create({ from_subscription: 'sub_nope' }),
    (e) => e.statusCode === 404 && e.param === 'from_subscription');

  const u = await stripe.subscriptionSchedules.update(s.id, {
    end_behavior: 'cancel',
    metadata: { k: 'v' },
    phases: [
      { items: [{ price: basic.id }], start_date: T0, end_date: APR1 },
      { items: [{ price: pro.id, quantity: 3 }], iterations: 1 },
    ],
  });
  shape(u);
  assert.equal(u.end_behavior, 'cancel');
  assert.deepEqual(u.metadata, { k: 'v' });
  assert.equal(u.phases.length, 2);
  assert.equal(u.phases[1].start_date, APR1);
  assert.equal(u.phases[1].end_date, MAY1);
  await assert.rejects(stripe.subscriptionSchedules.update(s.id, {
    phases: [{ items: [{ price: basic.id }], start_date: T0 + 1, end_date: APR1 }],
  }), (e) => e.statusCode === 400 && e.param === 'phases[0][start_date]');

  await advance(clock, APR1 + HOUR);
  const sub2 = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(sub2.items.data[0].price.id, pro.id);
  assert.equal(sub2.items.data[0].quantity, 3);
  const invs = await invoicesOf(sub.id);
  assert.equal(invs.length, 2);
  assert.equal(invs[1].total, 7500);
  assert.equal(invs[1].status, 'paid');
  await advance(clock, MAY1 + HOUR);
  const s3 = await stripe.subscriptionSchedules.retrieve(s.id);
  assert.equal(s3.status, 'completed');
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'canceled');
  // updated: the migration of its subscription, the phase added, the phase entered
  assert.deepEqual(await eventsOf(s.id), ['subscription_schedule.created', 'subscription_schedule.updated',
    'subscription_schedule.updated', 'subscription_schedule.updated', 'subscription_schedule.completed']);
});

test('currency: phases bill prices through their currency_options, from_subscription of a subscription in an option keeps it, renewals too', async () => {
  const multi = await stripe.prices.create({
    currency: 'usd', unit_amount: 1000, recurring: { interval: 'month' }, product_data: { name: 'Multi' }, currency_options: { eur: { unit_amount: 900 } },
  });
  const multi2 = await stripe.prices.create({
    currency: 'usd', unit_amount: 2000, recurring: { interval: 'month' }, product_data: { name: 'Multi 2' }, currency_options: { eur: { unit_amount: 1700 } },
  });
  const plain = await stripe.prices.create({
    currency: 'usd', unit_amount: 500, recurring: { interval: 'month' }, product_data: { name: 'Plain' },
  });
  // a clock in the present: the bundled exchange rates (eur → the account's usd, for the
  // minimum-charge check of each payment) start after T0
  const now = Math.floor(Date.now() / 1000);
  const { clock, customer } = await setup('pm_card_visa', now);
  // phases[0][currency]: the first phase's prices in it, the later phases' too (one currency)
  const s = await stripe.subscriptionSchedules.create({
    customer: customer.id,
    phases: [
      { items: [{ price: multi.id, quantity: 2 }], iterations: 1, currency: 'eur' },
      { items: [{ price: multi2.id }], iterations: 1, proration_behavior: 'none' },
    ],
  });
  shape(s);
  assert.deepEqual(s.phases.map((p) => p.currency), ['eur', 'eur']);
  const sub = await stripe.subscriptions.retrieve(s.subscription);
  subShape(sub);
  assert.equal(sub.currency, 'eur');
  const first = await stripe.invoices.retrieve(sub.latest_invoice);
  billingShape(first, 'invoice');
  assert.deepEqual([first.currency, first.amount_paid, first.status], ['eur', 1800, 'paid']);
  // the second phase: its price's eur option on the renewal
  await advance(clock, s.phases[0].end_date + HOUR);
  const invs = await invoicesOf(sub.id);
  assert.equal(invs.length, 2);
  assert.deepEqual([invs[1].currency, invs[1].amount_paid, invs[1].status], ['eur', 1700, 'paid']);
  assert.deepEqual(invs[1].lines.data.map((l) => [l.amount, l.currency]), [[1700, 'eur']]);
  // refused: a price with no entry for the phase's currency, an active schedule's phase in
  // another currency than its subscription's; nothing changes
  await assert.rejects(stripe.subscriptionSchedules.create({
    customer: customer.id, phases: [{ items: [{ price: plain.id }], iterations: 1, currency: 'eur' }],
  }), (e) => e.statusCode === 400 && e.param === 'phases[0][items][0][price]' && /currency_options/.test(e.message));
  const cur = await stripe.subscriptionSchedules.retrieve(s.id);
  await assert.rejects(stripe.subscriptionSchedules.update(s.id, {
    phases: [{ items: [{ price: multi2.id }], start_date: cur.phases[1].start_date, end_date: cur.phases[1].end_date, currency: 'usd' }],
  }), (e) => e.statusCode === 400 && e.param === 'phases[0][currency]');
  await stripe.subscriptionSchedules.release(s.id);

  // from_subscription of a subscription made in eur: the phase bills in eur, an update's
  // phases too (no currency given), and the renewal after it
  const own = await stripe.subscriptions.create({ customer: customer.id, currency: 'eur', items: [{ price: multi.id }] });
  assert.equal(own.currency, 'eur');
  const fs = await stripe.subscriptionSchedules.create({ from_subscription: own.id });
  shape(fs);
  assert.equal(fs.phases[0].currency, 'eur');
  assert.equal((await stripe.subscriptions.retrieve(own.id)).schedule, fs.id);
  const up = await stripe.subscriptionSchedules.update(fs.id, {
    phases: [
      { items: [{ price: multi.id }], start_date: fs.phases[0].start_date, end_date: fs.phases[0].end_date },
      { items: [{ price: multi2.id, quantity: 2 }], iterations: 1, proration_behavior: 'none' },
    ],
  });
  shape(up);
  assert.deepEqual(up.phases.map((p) => p.currency), ['eur', 'eur']);
  await assert.rejects(stripe.subscriptionSchedules.update(fs.id, {
    phases: [
      { items: [{ price: multi.id }], start_date: fs.phases[0].start_date, end_date: fs.phases[0].end_date },
      { items: [{ price: plain.id }], iterations: 1 },
    ],
  }), (e) => e.statusCode === 400 && e.param === 'phases[1]' && /currency_options/.test(e.message));
  await advance(clock, fs.phases[0].end_date + HOUR);
  const after = await stripe.subscriptions.retrieve(own.id);
  assert.equal(after.currency, 'eur');
  assert.equal(after.items.data[0].price.id, multi2.id);
  const renewal = await stripe.invoices.retrieve(after.latest_invoice);
  billingShape(renewal, 'invoice');
  assert.deepEqual([renewal.currency, renewal.billing_reason, renewal.amount_paid], ['eur', 'subscription_cycle', 3400]);
});

test('an update of the current phase changes the subscription at once; a not_started one moves', async () => {
  const { customer } = await setup();
  const s = await stripe.subscriptionSchedules.create({
    customer: customer.id, phases: [{ items: [{ price: basic.id }], iterations: 1 }],
  });
  const u = await stripe.subscriptionSchedules.update(s.id, {
    phases: [{ items: [{ price: pro.id }], start_date: T0, iterations: 1, proration_behavior: 'none' }],
  });
  shape(u);
  assert.equal(u.phases[0].items[0].price, pro.id);
  const sub = await stripe.subscriptions.retrieve(s.subscription);
  assert.equal(sub.items.data[0].price.id, pro.id);

  const later = await stripe.subscriptionSchedules.create({
    customer: customer.id, start_date: T0 + 3 * DAY, phases: [{ items: [{ price: pro.id }] }],
  });
  const lu = await stripe.subscriptionSchedules.update(later.id, {
    phases: [{ items: [{ price: basic.id }], start_date: T0 + 7 * DAY, iterations: 2 }],
  });
  assert.equal(lu.status, 'not_started');
  assert.equal(lu.phases[0].start_date, T0 + 7 * DAY);
  assert.equal(lu.phases[0].items[0].price, basic.id);
});

test('a trial in the first phase', async () => {
  const { clock, customer } = await setup();
  const s = await stripe.subscriptionSchedules.create({
    customer: customer.id,
    phases: [
      { items: [{ price: pro.id }], trial: true, end_date: T0 + 14 * DAY },
      { items: [{ price: pro.id }], iterations: 1 },
    ],
  });
  shape(s);
  assert.equal(s.phases[0].trial_end, T0 + 14 * DAY);
  const sub = await stripe.subscriptions.retrieve(s.subscription, { expand: ['latest_invoice'] });
  assert.equal(sub.status, 'trialing');
  assert.equal(sub.trial_end, T0 + 14 * DAY);
  assert.equal(sub.latest_invoice.total, 0);
  await advance(clock, T0 + 14 * DAY + HOUR);
  const sub2 = await stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
  assert.equal(sub2.status, 'active');
  assert.equal(sub2.latest_invoice.total, 2500);
  assert.deepEqual((await stripe.subscriptionSchedules.retrieve(s.id)).current_phase.start_date, T0 + 14 * DAY);
});

test('cancel with prorate and invoice_now (Stripe\'s defaults for an active schedule): the unused time credited on a final invoice', async () => {
  const P = APR1 - T0; // 31 days
  const NOW = T0 + 10 * DAY;
  const credit = -Math.round((2500 * (APR1 - NOW)) / P); // 2500 × 21 / 31 days, credited
  const mk = async () => {
    const { clock, customer } = await setup();
    const s = await stripe.subscriptionSchedules.create({ customer: customer.id, phases: [{ items: [{ price: pro.id }] }] });
    await advance(clock, NOW);
    return { customer, s };
  };
  // the defaults: credited and invoiced at once, the credit to the customer's balance
  const a = await mk();
  const ca = await stripe.subscriptionSchedules.cancel(a.s.id);
  shape(ca);
  assert.equal(ca.status, 'canceled');
  assert.equal(ca.canceled_at, NOW);
  const suba = await stripe.subscriptions.retrieve(a.s.subscription, { expand: ['latest_invoice'] });
  assert.equal(suba.status, 'canceled');
  assert.equal(suba.ended_at, NOW);
  const fin = suba.latest_invoice;
  assert.equal(fin.billing_reason, 'subscription_update');
  assert.equal(fin.total, credit);
  assert.equal(fin.status, 'paid');
  assert.equal(fin.lines.data.length, 1);
  assert.deepEqual(fin.lines.data[0].period, { start: NOW, end: APR1 });
  billingShape(fin, 'invoice');
  subShape({ ...suba, latest_invoice: fin.id });
  assert.equal((await stripe.customers.retrieve(a.customer.id)).balance, credit);
  assert.deepEqual(await eventsOf(a.s.id), ['subscription_schedule.created', 'subscription_schedule.canceled']);
  // prorate alone: the credit is a pending item, no invoice now
  const b = await mk();
  await stripe.subscriptionSchedules.cancel(b.s.id, { invoice_now: false });
  const subb = await stripe.subscriptions.retrieve(b.s.subscription);
  assert.equal(subb.status, 'canceled');
  assert.equal((await invoicesOf(subb.id)).length, 1);
  const pending = (await stripe.invoiceItems.list({ customer: b.customer.id, pending: true })).data;
  assert.deepEqual(pending.map((ii) => [ii.amount, ii.proration]), [[credit, true]]);
  // neither: canceled with nothing credited
  const c = await mk();
  const cc = await stripe.subscriptionSchedules.cancel(c.s.id, { prorate: false, invoice_now: false });
  assert.equal(cc.status, 'canceled');
  assert.equal((await invoicesOf(c.s.subscription)).length, 1);
  assert.equal((await stripe.invoiceItems.list({ customer: c.customer.id })).data.length, 0);
  assert.equal((await stripe.customers.retrieve(c.customer.id)).balance, 0);
  // a canceled schedule cannot be canceled again, with or without them
  await assert.rejects(stripe.subscriptionSchedules.cancel(a.s.id), (e) => e.statusCode === 400);
});

test('list, scoping and validation errors', async () => {
  const { customer } = await setup();
  const made = [];
  for (let i = 0; i < 3; i++) {
    made.push(await stripe.subscriptionSchedules.create({
      customer: customer.id, start_date: T0 + (i + 1) * DAY, phases: [{ items: [{ price: basic.id }] }],
    }));
  }
  const l = await stripe.subscriptionSchedules.list({ customer: customer.id, limit: 2 });
  assert.equal(l.object, 'list');
  assert.equal(l.url, '/v1/subscription_schedules');
  assert.equal(l.data.length, 2);
  assert.equal(l.has_more, true);
  l.data.forEach(shape);
  const all = await stripe.subscriptionSchedules.list({ customer: customer.id }).autoPagingToArray({ limit: 100 });
  assert.deepEqual(all.map((x) => x.id).sort(), made.map((x) => x.id).sort());
  assert.equal((await stripe.subscriptionSchedules.list({ customer: customer.id, scheduled: true })).data.length, 3);
  assert.equal((await stripe.subscriptionSchedules.list({ customer: customer.id, scheduled: false })).data.length, 0);
  assert.equal((await other.subscriptionSchedules.list()).data.length, 0);
  await assert.rejects(other.subscriptionSchedules.retrieve(made[0].id), (e) => e.statusCode === 404);
  await assert.rejects(stripe.subscriptionSchedules.retrieve('sub_sched_nope'),
    (e) => e.statusCode === 404 && e.code === 'resource_missing');

  const bad = async (params, param, status = 400) => assert.rejects(
    stripe.subscriptionSchedules.create(params),
    (e) => e.statusCode === status && e.param === param, JSON.stringify(params));
  await bad({ phases: [{ items: [{ price: basic.id }] }] }, 'customer');
  await bad({ customer: customer.id }, 'phases');
  await bad({ customer: 'cus_nope', phases: [{ items: [{ price: basic.id }] }] }, 'customer', 404);
  await bad({ customer: customer.id, phases: [{ items: [{ price: 'price_nope' }] }] }, 'phases[0][items][0][price]', 404);
  const once = await stripe.prices.create({ currency: 'usd', unit_amount: 500, product_data: { name: 'Once' } });
  await bad({ customer: customer.id, phases: [{ items: [{ price: once.id }] }] }, 'phases[0][items][0][price]');
  await bad({ customer: customer.id, phases: [{ items: [{ price: basic.id }] }, { items: [{ price: pro.id }] }] },
    'phases[0][end_date]');
  await bad({ customer: customer.id, phases: [{ items: [{ price: basic.id }], iterations: 0 }] }, 'phases[0][iterations]');
  await bad({ customer: customer.id, phases: [{ items: [{ price: basic.id }, { price: basic.id }] }] },
    'phases[0][items][1][price]');
  await bad({ customer: customer.id, phases: [{ items: [{ price: basic.id, quantity: 0 }] }] },
    'phases[0][items][0][quantity]');
  await bad({ customer: customer.id, start_date: T0 - 10 * DAY, phases: [{ items: [{ price: basic.id }] }] },
    'start_date');
  await bad({ customer: customer.id, end_behavior: 'renew', phases: [{ items: [{ price: basic.id }] }] },
    'end_behavior');
  await bad({ customer: customer.id, phases: [{ items: [{ price: basic.id }], end_date: T0 - DAY }] },
    'phases[0][end_date]');
  const eleven = Array.from({ length: 11 }, () => ({ items: [{ price: basic.id }], iterations: 1 }));
  await assert.rejects(stripe.subscriptionSchedules.create({ customer: customer.id, phases: eleven }),
    (e) => e.statusCode === 400);
  const eur = await stripe.prices.create({
    currency: 'eur', unit_amount: 900, recurring: { interval: 'month' }, product_data: { name: 'Euro' },
  });
  await bad({ customer: customer.id, phases: [{ items: [{ price: basic.id }, { price: eur.id }] }] },
    'phases[0][items][1][price]');
  await bad({ customer: customer.id, phases: [{ items: [{ price: basic.id }], iterations: 1 }, { items: [{ price: eur.id }] }] },
    'phases[1]');
  await bad({ customer: customer.id, phases: [{ items: [{ price: basic.id }], iterations: 1 }, { items: [{ price: pro.id }], trial: true }] },
    'phases[1][trial_end]');
  // idempotency: the same key gives the same schedule, and makes one
  const key = `sched-${Date.now()}`;
  const a = await stripe.subscriptionSchedules.create({
    customer: customer.id, start_date: T0 + 20 * DAY, phases: [{ items: [{ price: pro.id }] }],
  }, { idempotencyKey: key });
  const b = await stripe.subscriptionSchedules.create({
    customer: customer.id, start_date: T0 + 20 * DAY, phases: [{ items: [{ price: pro.id }] }],
  }, { idempotencyKey: key });
  assert.equal(a.id, b.id);
  // and one that starts now makes one subscription, one charge
  const key2 = `sched-now-${Date.now()}`;
  const params = { customer: customer.id, phases: [{ items: [{ price: pro.id }] }] };
  const a2 = await stripe.subscriptionSchedules.create(params, { idempotencyKey: key2 });
  const b2 = await stripe.subscriptionSchedules.create(params, { idempotencyKey: key2 });
  assert.equal(a2.id, b2.id);
  assert.equal(a2.subscription, b2.subscription);
  assert.equal((await stripe.subscriptions.list({ customer: customer.id })).data.length, 1);
  assert.equal((await stripe.charges.list({ customer: customer.id })).data.length, 1);
});

test('a subscription canceled because its payments failed aborts its schedule', async () => {
  const { clock, customer } = await setup();
  const s = await stripe.subscriptionSchedules.create({
    customer: customer.id, phases: [{ items: [{ price: basic.id }], iterations: 6 }],
  });
  const bad = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
  await stripe.subscriptions.update(s.subscription, { default_payment_method: bad.id });
  await advance(clock, APR1 + 8 * DAY);
  const sub = await stripe.subscriptions.retrieve(s.subscription);
  assert.equal(sub.status, 'canceled');
  assert.equal(sub.cancellation_details.reason, 'payment_failed');
  const s2 = await stripe.subscriptionSchedules.retrieve(s.id);
  shape(s2);
  assert.equal(s2.status, 'canceled');
  // the renewal's invoice is a draft for an hour, then finalized; its retries are 3 and 7 days
  // after that, and the last one's failure cancels the subscription
  assert.equal(s2.canceled_at, APR1 + 3600 + 7 * DAY);
  assert.deepEqual(await eventsOf(s.id), ['subscription_schedule.created', 'subscription_schedule.aborted']);
});

test('without a test clock, the scheduler starts a schedule at its start_date', async () => {
  const customer = await stripe.customers.create({
    payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' },
  });
  const start = Math.floor(Date.now() / 1000) + 2;
  const s = await stripe.subscriptionSchedules.create({
    customer: customer.id, start_date: start, phases: [{ items: [{ price: basic.id }], iterations: 1 }],
  });
  assert.equal(s.status, 'not_started');
  assert.equal(s.test_clock, null);
  let s2;
  for (let i = 0; i < 100; i++) {
    s2 = await stripe.subscriptionSchedules.retrieve(s.id);
    if (s2.status !== 'not_started') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  shape(s2);
  assert.equal(s2.status, 'active');
  const sub = await stripe.subscriptions.retrieve(s2.subscription, { expand: ['latest_invoice'] });
  assert.equal(sub.schedule, s.id);
  assert.equal(sub.status, 'active');
  assert.ok(sub.start_date >= start);
  assert.equal(sub.latest_invoice.status, 'paid');
  assert.equal(sub.latest_invoice.total, 1000);
});

test('each phase brings its coupons, payment method and metadata to the subscription', async () => {
  const { clock, customer } = await setup();
  const mc = await stripe.paymentMethods.attach('pm_card_mastercard', { customer: customer.id });
  const off100 = await stripe.coupons.create({ amount_off: 100, currency: 'usd', duration: 'forever' });
  const pct20 = await stripe.coupons.create({ percent_off: 20, duration: 'forever' });
  const s = await stripe.subscriptionSchedules.create({
    customer: customer.id,
    phases: [
      { items: [{ price: basic.id }], iterations: 1, discounts: [{ coupon: off100.id }], metadata: { a: '1' } },
      {
        items: [{ price: pro.id }], iterations: 1, discounts: [{ coupon: pct20.id }],
        default_payment_method: mc.id, metadata: { b: '2' },
      },
      { items: [{ price: pro.id }], iterations: 1 },
    ],
    expand: ['subscription', 'customer'],
  });
  // (the expanded objects are checked by their own files; the schedule itself here)
  shape(await stripe.subscriptionSchedules.retrieve(s.id));
  assert.equal(s.customer.object, 'customer');
  assert.equal(s.customer.id, customer.id);
  assert.equal(s.subscription.object, 'subscription');
  assert.equal(s.subscription.schedule, s.id);
  assert.deepEqual(s.phases[0].discounts, [{ coupon: off100.id, discount: null, promotion_code: null }]);
  assert.equal(s.phases[1].default_payment_method, mc.id);
  const subId = s.subscription.id;
  let invs = await invoicesOf(subId);
  assert.equal(invs[0].total, 900);
  assert.equal(invs[0].status, 'paid');
  assert.equal((await stripe.subscriptions.retrieve(subId)).discounts.length, 1);

  await advance(clock, APR1 + HOUR);
  const sub = await stripe.subscriptions.retrieve(subId, { expand: ['discounts'] });
  assert.equal(sub.default_payment_method, mc.id);
  assert.deepEqual(sub.metadata, { a: '1', b: '2' });
  assert.equal(sub.discounts.length, 1);
  assert.equal(sub.discounts[0].source.coupon, pct20.id);
  invs = await invoicesOf(subId);
  assert.equal(invs.length, 2);
  assert.equal(invs[1].total, 2000);
  assert.equal(invs[1].status, 'paid');
  const paid = await stripe.invoices.retrieve(invs[1].id, { expand: ['payments'] });
  const pi = await stripe.paymentIntents.retrieve(paid.payments.data[0].payment.payment_intent);
  assert.equal(pi.payment_method, mc.id);

  await advance(clock, MAY1 + HOUR);
  invs = await invoicesOf(subId);
  assert.equal(invs.length, 3);
  assert.equal(invs[2].total, 2500);
  assert.equal((await stripe.subscriptions.retrieve(subId)).discounts.length, 0);

  await assert.rejects(stripe.subscriptionSchedules.create({
    customer: customer.id, phases: [{ items: [{ price: basic.id }], discounts: [{ coupon: 'nope' }] }],
  }), (e) => e.statusCode === 404 && e.param === 'phases[0][discounts][0][coupon]');
  await assert.rejects(stripe.subscriptionSchedules.create({
    customer: customer.id, phases: [{ items: [{ price: basic.id }], discounts: [{ promotion_code: 'promo_x' }] }],
  }), (e) => e.statusCode === 404 && e.param === 'phases[0][discounts][0][promotion_code]');
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

test('phases\' promotion codes, existing discounts, items\' own discounts and add_invoice_items reach the subscription and its invoices', async () => {
  const { clock, customer } = await setup();
  const off100 = await stripe.coupons.create({ amount_off: 100, currency: 'usd', duration: 'forever' });
  const pct10 = await stripe.coupons.create({ percent_off: 10, duration: 'forever' });
  const pct20 = await stripe.coupons.create({ percent_off: 20, duration: 'forever' });
  const off500 = await stripe.coupons.create({ amount_off: 500, currency: 'usd', duration: 'forever' });
  const promo = await stripe.promotionCodes.create({ promotion: { type: 'coupon', coupon: off100.id }, code: 'SCHED100' });
  const setupFee = await stripe.prices.create({ currency: 'usd', unit_amount: 2000, product_data: { name: 'Setup' } });
  const before = (await stripe.subscriptionSchedules.list({ customer: customer.id })).data.length;
  // a bad coupon anywhere in the phases is refused, and nothing is made
  await assert.rejects(stripe.subscriptionSchedules.create({
    customer: customer.id,
    phases: [{ items: [{ price: basic.id, discounts: [{ coupon: 'nope' }] }], discounts: [{ promotion_code: promo.id }] }],
  }), (e) => e.statusCode === 404 && e.param === 'phases[0][items][0][discounts][0][coupon]');
  await assert.rejects(stripe.subscriptionSchedules.create({
    customer: customer.id, phases: [{ items: [{ price: basic.id }], discounts: [{ discount: 'di_nope' }] }],
  }), (e) => e.statusCode === 404 && e.param === 'phases[0][discounts][0][discount]');
  await assert.rejects(stripe.subscriptionSchedules.create({
    customer: customer.id,
    phases: [{ items: [{ price: basic.id }], iterations: 1 },
      { items: [{ price: basic.id }], add_invoice_items: [{ price: setupFee.id, discounts: [{ coupon: 'nope' }] }] }],
  }), (e) => e.statusCode === 404 && e.param === 'phases[1][add_invoice_items][0][discounts][0][coupon]');
  await assert.rejects(stripe.subscriptionSchedules.create({
    customer: customer.id, phases: [{ items: [{ price: basic.id }], add_invoice_items: [{ price: basic.id }] }],
  }), (e) => e.statusCode === 400 && e.param === 'phases[0][add_invoice_items][0][price]');
  await assert.rejects(stripe.subscriptionSchedules.create({
    customer: customer.id, phases: [{ items: [{ price: basic.id }], discounts: [{ coupon: pct10.id, promotion_code: promo.id }] }],
  }), (e) => e.statusCode === 400 && e.param === 'phases[0][discounts][0]');
  assert.equal((await stripe.subscriptionSchedules.list({ customer: customer.id })).data.length, before);
  assert.equal((await stripe.subscriptions.list({ customer: customer.id })).data.length, 0);

  const s = await stripe.subscriptionSchedules.create({
    customer: customer.id,
    phases: [
      {
        items: [{ price: basic.id, discounts: [{ coupon: pct10.id }] }], iterations: 1, discounts: [{ promotion_code: promo.id }],
        add_invoice_items: [{ price: setupFee.id, discounts: [{ coupon: pct10.id }] }],
      },
      { items: [{ price: pro.id, discounts: [{ coupon: off500.id }] }, { price: basic.id }], iterations: 1 },
    ],
  });
  shape(s);
  assert.deepEqual(s.phases[0].discounts, [{ coupon: null, discount: null, promotion_code: promo.id }]);
  assert.deepEqual(s.phases[0].items[0].discounts, [{ coupon: pct10.id, discount: null, promotion_code: null }]);
  assert.deepEqual(s.phases[1].items[0].discounts, [{ coupon: off500.id, discount: null, promotion_code: null }]);
  assert.deepEqual(s.phases[1].items[1].discounts, []);
  assert.deepEqual(s.phases[0].add_invoice_items.map((a) => [a.price, a.quantity, a.discounts]),
    [[setupFee.id, 1, [{ coupon: pct10.id, discount: null, promotion_code: null }]]]);
  const sub = await stripe.subscriptions.retrieve(s.subscription, { expand: ['discounts', 'items.data.discounts'] });
  assert.equal(sub.discounts.length, 1);
  assert.equal(sub.discounts[0].promotion_code, promo.id);
  assert.equal(sub.items.data[0].discounts[0].source.coupon, pct10.id);
  let invs = await invoicesOf(s.subscription);
  assert.equal(invs[0].subtotal, 3000);
  // 1000 - 10 % (its item's), the setup fee 2000 - 10 % (its own), then 100 off the invoice
  assert.equal(invs[0].total, 2600);

  // an update names the subscription's discount by id, after a new coupon; a bad one changes nothing
  const kept = sub.discounts[0].id;
  const p0 = { items: [{ price: basic.id, discounts: [{ coupon: pct10.id }] }], start_date: s.phases[0].start_date, end_date: s.phases[0].end_date, discounts: [{ promotion_code: promo.id }] };
  await assert.rejects(stripe.subscriptionSchedules.update(s.id, {
    phases: [p0, { items: [{ price: pro.id, discounts: [{ coupon: 'nope' }] }], iterations: 1 }],
  }), (e) => e.statusCode === 404 && e.param === 'phases[1][items][0][discounts][0][coupon]');
  assert.deepEqual((await stripe.subscriptionSchedules.retrieve(s.id)).phases, s.phases);
  const u = await stripe.subscriptionSchedules.update(s.id, {
    phases: [p0, {
      items: [{ price: pro.id, discounts: [{ coupon: off500.id }] }, { price: basic.id }], iterations: 1,
      discounts: [{ coupon: pct20.id }, { discount: kept }], add_invoice_items: [{ price: setupFee.id, quantity: 2 }],
    }],
  });
  shape(u);
  assert.deepEqual(u.phases[1].discounts, [
    { coupon: pct20.id, discount: null, promotion_code: null }, { coupon: null, discount: kept, promotion_code: null }]);

  await advance(clock, APR1 + HOUR);
  const after = await stripe.subscriptions.retrieve(s.subscription, { expand: ['discounts', 'items.data.discounts'] });
  assert.deepEqual(after.discounts.map((d) => d.source.coupon), [pct20.id, off100.id]);
  assert.equal(after.discounts[1].id, kept);
  const proItem = after.items.data.find((i) => i.price.id === pro.id);
  const basicItem = after.items.data.find((i) => i.price.id === basic.id);
  assert.deepEqual(proItem.discounts.map((d) => d.source.coupon), [off500.id]);
  assert.deepEqual(basicItem.discounts, []);
  invs = await invoicesOf(s.subscription);
  assert.equal(invs.length, 2);
  // 2500 - 500 (its item's), 1000 (its item's 10 % ended) and the phase's 2 × 2000 setup fee:
  // 7000, 20 % off, then 100 off
  assert.equal(invs[1].subtotal, 7500);
  assert.equal(invs[1].total, 5500);
  assert.ok((await stripe.invoices.listLineItems(invs[1].id)).data.some((l) => l.amount === 4000 && l.quantity === 2));
  assert.equal(invs[1].status, 'paid');
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

test('deleting a test clock cancels its customers\' schedules, started or not', async () => {
  const { clock, customer } = await setup();
  const now = await stripe.subscriptionSchedules.create({
    customer: customer.id, phases: [{ items: [{ price: basic.id }] }],
  });
  const later = await stripe.subscriptionSchedules.create({
    customer: customer.id, start_date: T0 + DAY, phases: [{ items: [{ price: basic.id }] }],
  });
  await stripe.testHelpers.testClocks.del(clock.id);
  for (const s of [now, later]) {
    const x = await stripe.subscriptionSchedules.retrieve(s.id);
    shape(x);
    assert.equal(x.status, 'canceled');
    assert.equal(x.canceled_at, T0);
    assert.deepEqual(await eventsOf(s.id), ['subscription_schedule.created', 'subscription_schedule.canceled']);
  }
  assert.equal((await stripe.subscriptions.retrieve(now.subscription)).status, 'canceled');
});

test('a schedule whose subscription cannot be made at its start is canceled', async () => {
  const { clock, customer } = await setup();
  const gone = await stripe.prices.create({
    currency: 'usd', unit_amount: 700, recurring: { interval: 'month' }, product_data: { name: 'Gone' },
  });
  const s = await stripe.subscriptionSchedules.create({
    customer: customer.id, start_date: T0 + DAY, phases: [{ items: [{ price: gone.id }] }],
  });
  await stripe.prices.update(gone.id, { active: false });
  await advance(clock, T0 + DAY + HOUR);
  const s2 = await stripe.subscriptionSchedules.retrieve(s.id);
  shape(s2);
  assert.equal(s2.status, 'canceled');
  assert.equal(s2.canceled_at, T0 + DAY);
  assert.equal(s2.subscription, null);
  assert.equal((await stripe.subscriptions.list({ customer: customer.id })).data.length, 0);
});

test('the scheduler acts on the schedule\'s state: a next_action_at moved early (a deferral) changes no phase', async () => {
  const { clock, customer } = await setup();
  const s = await stripe.subscriptionSchedules.create({
    customer: customer.id,
    phases: [{ items: [{ price: basic.id }], iterations: 1 }, { items: [{ price: pro.id }], iterations: 1 }],
  });
  storeSql(env.dataDir, `UPDATE subscription_schedules SET next_action_at = ${T0 + DAY} WHERE id = '${s.id}'`);
  await advance(clock, T0 + 2 * DAY);
  const s2 = await stripe.subscriptionSchedules.retrieve(s.id);
  assert.deepEqual(s2.current_phase, { start_date: T0, end_date: APR1 });
  assert.equal((await stripe.subscriptions.retrieve(s.subscription)).items.data[0].price.id, basic.id);
  assert.deepEqual(await eventsOf(s.id), ['subscription_schedule.created']);
  await advance(clock, APR1 + HOUR);
  assert.deepEqual((await stripe.subscriptionSchedules.retrieve(s.id)).current_phase, { start_date: APR1, end_date: MAY1 });
  assert.equal((await stripe.subscriptions.retrieve(s.subscription)).items.data[0].price.id, pro.id);
});

test('invoice.upcoming announces the renewal the schedule makes: the next phase\'s items, none when the schedule cancels', async () => {
  const { clock, customer } = await setup();
  const other2 = await stripe.customers.create({ test_clock: clock.id, payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
  const next = await stripe.subscriptionSchedules.create({
    customer: customer.id, phases: [{ items: [{ price: basic.id }], iterations: 1 }, { items: [{ price: pro.id }], iterations: 1 }],
  });
  const ends = await stripe.subscriptionSchedules.create({
    customer: other2.id, end_behavior: 'cancel', phases: [{ items: [{ price: basic.id }], iterations: 1 }],
  });
  // the notice falls while the clock advances, 7 days before the renewal
  await advance(clock, APR1 - 5 * DAY);
  const upcoming = (await stripe.events.list({ type: 'invoice.upcoming', limit: 100 })).data;
  const of = (cu) => upcoming.filter((e) => e.data.object.customer === cu.id).map((e) => e.data.object);
  assert.deepEqual(of(customer).map((i) => [i.subscription, i.total, i.lines.data.map((l) => l.amount)]),
    [[next.subscription, 2500, [2500]]]);
  assert.deepEqual(of(other2), [], 'a subscription the schedule cancels at the period end renews into nothing');
  await advance(clock, APR1 + HOUR);
  assert.equal((await stripe.subscriptions.retrieve(ends.subscription)).status, 'canceled');
  assert.equal((await invoicesOf(next.subscription))[1].total, 2500);
});
