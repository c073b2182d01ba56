'use strict';
// Subscriptions with collection_method=send_invoice through stripe-node: created without a card
// (active at once, the first invoice open with its due_date and hosted page, never charged),
// paid through the invoice (POST /v1/invoices/{id}/pay with a card or paid_out_of_band),
// renewals on a test clock (a draft for an hour, then finalized and not attempted), the overdue
// notice making the subscription past_due (Tender's documented choice, Stripe's default
// settings) until the invoice is paid, switching the method by update (finalized invoices keep
// theirs), always_invoice prorations, trials, cancel, the list filter, and refusals that change
// nothing. Subscriptions and invoices are checked against Stripe's OpenAPI spec.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll } = require('./helpers');
const { billingShape, clockAdvance } = require('./billing_helpers');

let env;
let stripe;
let other;
let price;
const DAY = 86400;
const HOUR = 3600;
const T0 = Date.UTC(2025, 2, 1, 0, 0, 0) / 1000; // Mar 1
const APR1 = Date.UTC(2025, 3, 1, 0, 0, 0) / 1000;
const MAY1 = Date.UTC(2025, 4, 1, 0, 0, 0) / 1000;

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
  price = await stripe.prices.create({
    currency: 'usd', unit_amount: 2000, recurring: { interval: 'month' }, product_data: { name: 'Pro' },
  });
});
after(stopAll);

const shape = (obj, schema) => billingShape(obj, schema);

// a customer on a clock of its own, with a card or without
async function setup(card = false) {
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
  const opts = { test_clock: clock.id, email: 'ada@example.com', name: 'Ada' };
  if (card) Object.assign(opts, { payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
  const customer = await stripe.customers.create(opts);
  return { clock, customer };
}

async function eventsOf(id, type) {
  const all = await stripe.events.list({ limit: 100, ...(type ? { type } : {}) }).autoPagingToArray({ limit: 10000 });
  return all.filter((e) => e.data.object.id === id).reverse();
}

async function charges(customer) {
  return (await stripe.charges.list({ customer: customer.id, limit: 100 })).data;
}

function assertSent(inv, finalizedAt, days) {
  assert.equal(inv.collection_method, 'send_invoice');
  assert.equal(inv.status, 'open');
  assert.equal(inv.status_transitions.finalized_at, finalizedAt);
  assert.equal(inv.due_date, finalizedAt + days * DAY);
  assert.match(inv.hosted_invoice_url, /^http:\/\/[^/]+\/invoice\/acct_[^/]+\/[^/]+$/);
  assert.equal(inv.next_payment_attempt, null, 'never attempted by Tender');
  assert.equal(inv.attempt_count, 0);
  assert.equal(inv.attempted, false);
  assert.equal(inv.amount_paid, 0);
}

test('create: active at once without a card, first invoice open with its due date and hosted page; paid through the invoice', async () => {
  const { customer } = await setup(false);
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: price.id }], collection_method: 'send_invoice', days_until_due: 30,
    expand: ['latest_invoice'],
  });
  assert.equal(sub.status, 'active');
  assert.equal(sub.collection_method, 'send_invoice');
  assert.equal(sub.days_until_due, 30);
  assert.equal(sub.default_payment_method, null);
  const inv = sub.latest_invoice;
  assertSent(inv, T0, 30);
  assert.equal(inv.billing_reason, 'subscription_create');
  assert.equal(inv.amount_due, 2000);
  assert.equal(inv.subscription, sub.id);
  shape({ ...sub, latest_invoice: inv.id }, 'subscription');
  shape(inv, 'invoice');
  assert.deepEqual((await eventsOf(inv.id)).map((e) => e.type), ['invoice.created', 'invoice.finalized']);
  assert.deepEqual((await eventsOf(sub.id)).map((e) => [e.type, e.data.object.status]),
    [['customer.subscription.created', 'active']]);
  assert.equal((await charges(customer)).length, 0, 'nothing charged');

  // the hosted page shows it, without an API key
  const page = await fetch(inv.hosted_invoice_url);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /20\.00 USD/);
  // another merchant sees none of it
  await assert.rejects(other.subscriptions.retrieve(sub.id), (e) => e.statusCode === 404);
  await assert.rejects(other.invoices.retrieve(inv.id), (e) => e.statusCode === 404);

  // the customer pays it with a card through the invoice
  const paid = await stripe.invoices.pay(inv.id, { payment_method: 'pm_card_visa' });
  assert.equal(paid.status, 'paid');
  assert.equal(paid.amount_paid, 2000);
  assert.equal(paid.collection_method, 'send_invoice');
  shape(paid, 'invoice');
  const ch = await charges(customer);
  assert.equal(ch.length, 1);
  assert.equal(ch[0].amount, 2000);
  const after = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(after.status, 'active');
  assert.equal(after.latest_invoice, inv.id);
});

test('renewal on a test clock: a draft for an hour, then finalized and not charged; overdue → past_due until paid', async () => {
  const { clock, customer } = await setup(true); // a card is there, and never used
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: price.id }], collection_method: 'send_invoice', days_until_due: 5,
  });
  assert.equal(sub.status, 'active');
  const first = await stripe.invoices.pay(sub.latest_invoice, { paid_out_of_band: true });
  assert.equal(first.status, 'paid');
  assert.equal(first.paid_out_of_band, true);

  // the renewal's draft, within its hour
  await clockAdvance(stripe, clock, APR1 + 60);
  let s = await stripe.subscriptions.retrieve(sub.id);
  assert.notEqual(s.latest_invoice, first.id);
  let renewal = await stripe.invoices.retrieve(s.latest_invoice);
  assert.equal(renewal.status, 'draft');
  assert.equal(renewal.collection_method, 'send_invoice');
  assert.equal(renewal.billing_reason, 'subscription_cycle');
  // finalized at the hour's end, not attempted
  await clockAdvance(stripe, clock, APR1 + 2 * HOUR);
  renewal = await stripe.invoices.retrieve(renewal.id);
  assertSent(renewal, APR1 + HOUR, 5);
  shape(renewal, 'invoice');
  assert.equal((await charges(customer)).length, 0, 'the card is never charged');
  s = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(s.status, 'active');
  assert.equal(s.items.data[0].current_period_start, APR1);

  // not yet due: nothing
  await clockAdvance(stripe, clock, APR1 + 4 * DAY);
  assert.equal((await eventsOf(renewal.id, 'invoice.overdue')).length, 0);
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'active');
  // past its due date: invoice.overdue once, at the clock's time, and the subscription past_due
  await clockAdvance(stripe, clock, APR1 + 7 * DAY);
  const overdue = await eventsOf(renewal.id, 'invoice.overdue');
  assert.equal(overdue.length, 1);
  assert.equal(overdue[0].created, APR1 + HOUR + 5 * DAY);
  s = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(s.status, 'past_due');
  shape(s, 'subscription');
  const upd = (await eventsOf(sub.id, 'customer.subscription.updated')).slice(-1)[0];
  assert.equal(upd.data.object.status, 'past_due');
  assert.deepEqual(upd.data.previous_attributes, { status: 'active' });
  renewal = await stripe.invoices.retrieve(renewal.id);
  assert.equal(renewal.status, 'open', 'still open, still payable');
  assert.equal((await charges(customer)).length, 0);
  await clockAdvance(stripe, clock, APR1 + 12 * DAY);
  assert.equal((await eventsOf(renewal.id, 'invoice.overdue')).length, 1, 'once');

  // paid (here out of band): active again
  const paid = await stripe.invoices.pay(renewal.id, { paid_out_of_band: true });
  assert.equal(paid.status, 'paid');
  s = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(s.status, 'active');
  const back = (await eventsOf(sub.id, 'customer.subscription.updated')).slice(-1)[0];
  assert.deepEqual(back.data.previous_attributes, { status: 'past_due' });
  assert.equal((await charges(customer)).length, 0);

  // the next renewal goes on as before
  await clockAdvance(stripe, clock, MAY1 + 2 * HOUR);
  s = await stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
  assert.equal(s.items.data[0].current_period_start, MAY1);
  assertSent(s.latest_invoice, MAY1 + HOUR, 5);
});

test('switching by update: the next invoice takes the new method, finalized ones keep theirs; refusals change nothing', async () => {
  const { clock, customer } = await setup(true);
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
  assert.equal(sub.status, 'active');
  assert.equal(sub.collection_method, 'charge_automatically');
  assert.equal(sub.days_until_due, null);
  const first = await stripe.invoices.retrieve(sub.latest_invoice);
  assert.equal(first.status, 'paid');
  assert.equal(first.collection_method, 'charge_automatically');

  // refused, and nothing changes
  const before = (await eventsOf(sub.id)).length;
  for (const [params, param] of [
    [{ collection_method: 'send_invoice' }, 'days_until_due'],
    [{ days_until_due: 10 }, 'days_until_due'],
    [{ collection_method: 'charge_automatically', days_until_due: 10 }, 'days_until_due'],
    [{ collection_method: 'send_invoice', days_until_due: -1 }, 'days_until_due'],
    [{ collection_method: 'send_invoice', days_until_due: 3651 }, 'days_until_due'],
    [{ collection_method: 'by_pigeon', days_until_due: 3 }, 'collection_method'],
  ]) {
    await assert.rejects(stripe.subscriptions.update(sub.id, { ...params, metadata: { x: '1' } }),
      (e) => e.statusCode === 400 && e.param === param, JSON.stringify(params));
  }
  let s = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(s.collection_method, 'charge_automatically');
  assert.equal(s.days_until_due, null);
  assert.deepEqual(s.metadata, {});
  assert.equal((await eventsOf(sub.id)).length, before);

  // to send_invoice
  s = await stripe.subscriptions.update(sub.id, { collection_method: 'send_invoice', days_until_due: 10 });
  assert.equal(s.collection_method, 'send_invoice');
  assert.equal(s.days_until_due, 10);
  shape(s, 'subscription');
  let upd = (await eventsOf(sub.id, 'customer.subscription.updated')).slice(-1)[0];
  assert.deepEqual(upd.data.previous_attributes, { collection_method: 'charge_automatically', days_until_due: null });
  assert.equal((await stripe.invoices.retrieve(first.id)).collection_method, 'charge_automatically');
  // days_until_due alone on a send_invoice subscription
  s = await stripe.subscriptions.update(sub.id, { days_until_due: 14 });
  assert.equal(s.days_until_due, 14);
  upd = (await eventsOf(sub.id, 'customer.subscription.updated')).slice(-1)[0];
  assert.deepEqual(upd.data.previous_attributes, { days_until_due: 10 });

  await clockAdvance(stripe, clock, APR1 + 2 * HOUR);
  s = await stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
  assertSent(s.latest_invoice, APR1 + HOUR, 14);
  const sent = s.latest_invoice;
  assert.equal((await charges(customer)).length, 1, 'only the first invoice was charged');

  // back to charge_automatically: days_until_due goes
  s = await stripe.subscriptions.update(sub.id, { collection_method: 'charge_automatically' });
  assert.equal(s.collection_method, 'charge_automatically');
  assert.equal(s.days_until_due, null);
  upd = (await eventsOf(sub.id, 'customer.subscription.updated')).slice(-1)[0];
  assert.deepEqual(upd.data.previous_attributes, { collection_method: 'send_invoice', days_until_due: 14 });
  // the send_invoice invoice keeps its method, is not charged, and its due date (Apr 1 + 1 h
  // + 14 days) passing makes the subscription past_due: it is still its latest invoice
  await clockAdvance(stripe, clock, APR1 + 16 * DAY);
  const kept = await stripe.invoices.retrieve(sent.id);
  assert.equal(kept.collection_method, 'send_invoice');
  assert.equal(kept.status, 'open');
  assert.equal((await eventsOf(sent.id, 'invoice.overdue')).length, 1);
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'past_due');
  // the next renewal is charged automatically: paid, and the subscription active again
  await clockAdvance(stripe, clock, MAY1 + 2 * HOUR);
  s = await stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
  assert.equal(s.latest_invoice.collection_method, 'charge_automatically');
  assert.equal(s.latest_invoice.status, 'paid');
  assert.equal(s.latest_invoice.due_date, null);
  assert.equal(s.status, 'active');
  shape(s.latest_invoice, 'invoice');
  assert.equal((await charges(customer)).length, 2);
  assert.equal((await stripe.invoices.retrieve(sent.id)).status, 'open', 'the older one stays open');
});

test('create refusals change nothing', async () => {
  const { customer } = await setup(false);
  for (const [params, param] of [
    [{ collection_method: 'send_invoice' }, 'days_until_due'],
    [{ days_until_due: 30 }, 'days_until_due'],
    [{ collection_method: 'charge_automatically', days_until_due: 30 }, 'days_until_due'],
    [{ collection_method: 'send_invoice', days_until_due: -1 }, 'days_until_due'],
    [{ collection_method: 'send_invoice', days_until_due: 'soon' }, 'days_until_due'],
  ]) {
    await assert.rejects(stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], ...params }),
      (e) => e.statusCode === 400 && e.param === param, JSON.stringify(params));
  }
  // without send_invoice, a customer without a card is still refused
  await assert.rejects(stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] }),
    (e) => e.statusCode === 400 && e.param === 'default_payment_method');
  assert.equal((await stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data.length, 0);
  assert.equal((await stripe.invoices.list({ customer: customer.id })).data.length, 0);
});

test('always_invoice prorations make a send_invoice invoice; trials; cancel; the list filter', async () => {
  const { clock, customer } = await setup(false);
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: price.id }], collection_method: 'send_invoice', days_until_due: 7,
  });
  await stripe.invoices.pay(sub.latest_invoice, { paid_out_of_band: true });
  await clockAdvance(stripe, clock, T0 + 10 * DAY);
  const item = sub.items.data[0];
  let s = await stripe.subscriptions.update(sub.id, {
    items: [{ id: item.id, quantity: 2 }], proration_behavior: 'always_invoice', expand: ['latest_invoice'],
  });
  const inv = s.latest_invoice;
  assert.equal(inv.billing_reason, 'subscription_update');
  assertSent(inv, T0 + 10 * DAY, 7);
  assert.ok(inv.amount_due > 0 && inv.amount_due < 2000, `prorated: ${inv.amount_due}`);
  shape(inv, 'invoice');
  assert.equal(s.status, 'active');
  assert.equal((await charges(customer)).length, 0);

  // a trial: no card needed at its end either; the first paid period's invoice is sent
  const { clock: c2, customer: cus2 } = await setup(false);
  const trial = await stripe.subscriptions.create({
    customer: cus2.id, items: [{ price: price.id }], collection_method: 'send_invoice', days_until_due: 3,
    trial_period_days: 7, trial_settings: { end_behavior: { missing_payment_method: 'cancel' } },
  });
  assert.equal(trial.status, 'trialing');
  assert.equal(trial.collection_method, 'send_invoice');
  await clockAdvance(stripe, c2, T0 + 7 * DAY + 2 * HOUR);
  s = await stripe.subscriptions.retrieve(trial.id, { expand: ['latest_invoice'] });
  assert.equal(s.status, 'active');
  assertSent(s.latest_invoice, T0 + 7 * DAY + HOUR, 3);
  assert.equal(s.latest_invoice.amount_due, 2000);

  // the list filter
  const sends = await stripe.subscriptions.list({ customer: cus2.id, collection_method: 'send_invoice' });
  assert.deepEqual(sends.data.map((x) => x.id), [trial.id]);
  assert.equal((await stripe.subscriptions.list({ customer: cus2.id, collection_method: 'charge_automatically' })).data.length, 0);

  // cancel: canceled, its open invoice stays open (and payable), no overdue notice follows
  const canceled = await stripe.subscriptions.cancel(trial.id);
  assert.equal(canceled.status, 'canceled');
  assert.equal(canceled.collection_method, 'send_invoice');
  const open = await stripe.invoices.retrieve(s.latest_invoice.id);
  assert.equal(open.status, 'open');
  await clockAdvance(stripe, c2, T0 + 20 * DAY);
  assert.equal((await eventsOf(open.id, 'invoice.overdue')).length, 0);
  const paid = await stripe.invoices.pay(open.id, { payment_method: 'pm_card_visa' });
  assert.equal(paid.status, 'paid');
  assert.equal((await stripe.subscriptions.retrieve(trial.id)).status, 'canceled');
});

// the hosted page's form, as a browser posts it
function formBody(attempt, number) {
  return new URLSearchParams({
    attempt: String(attempt), 'payment_method_data[type]': 'card',
    'payment_method_data[card][number]': number, 'payment_method_data[card][exp_month]': '10',
    'payment_method_data[card][exp_year]': '2035', 'payment_method_data[card][cvc]': '321',
  }).toString();
}
async function pagePost(inv, number) {
  const path = new URL(inv.hosted_invoice_url).pathname;
  const page = await env.request({ path });
  assert.equal(page.status, 200);
  const m = page.body.match(/name="attempt" value="(\d+)"/);
  assert.ok(m, 'the page has a form');
  return env.request({
    method: 'POST', path, body: formBody(m[1], number),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
}

test('the hosted page: a declined attempt changes no status; paid there, an overdue subscription is active again', async () => {
  const { clock, customer } = await setup(false);
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: price.id }], collection_method: 'send_invoice', days_until_due: 2,
  });
  let inv = await stripe.invoices.retrieve(sub.latest_invoice);
  const declined = await pagePost(inv, '4000000000000002');
  assert.notEqual(declined.status, 500);
  inv = await stripe.invoices.retrieve(inv.id);
  assert.equal(inv.status, 'open');
  assert.equal(inv.attempt_count, 1);
  assert.equal(inv.next_payment_attempt, null);
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'active', 'the customer\'s decline is not past_due');
  // overdue: past_due
  await clockAdvance(stripe, clock, T0 + 3 * DAY);
  assert.equal((await eventsOf(inv.id, 'invoice.overdue')).length, 1);
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'past_due');
  // paid on the page
  const ok = await pagePost(await stripe.invoices.retrieve(inv.id), '4242424242424242');
  assert.equal(ok.status, 200);
  assert.match(ok.body, /id="done"/);
  inv = await stripe.invoices.retrieve(inv.id);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.amount_paid, 2000);
  shape(inv, 'invoice');
  const s = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(s.status, 'active');
  shape(s, 'subscription');
  const paidCharges = (await charges(customer)).filter((c) => c.paid);
  assert.equal(paidCharges.length, 1);
  assert.equal(paidCharges[0].amount, 2000);
});
