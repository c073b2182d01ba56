'use strict';
// The legacy Plans API through stripe-node: a plan is a recurring price in an older shape, so
// each is visible as the other under one id; create (a product's id or a product made with it,
// an id of the merchant's own, amount or amount_decimal, trial_period_days), retrieve, update
// with previous_attributes, delete (gone as a plan, kept as an inactive price), lists and their
// filters, both shapes' events, Stripe's shapes, refused input that changes nothing, tenants.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, assertStripeShape } = require('./helpers');

let env;
let stripe;
const tag = `t${Date.now()}`;

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
});
after(stopAll);

async function eventsOf(id) {
  const all = await stripe.events.list({ limit: 100 });
  return all.data.filter((e) => e.data.object.id === id).reverse();
}

test('a plan with a product made with it, in the plan\'s and the price\'s shapes, with both events', async () => {
  const plan = await stripe.plans.create({
    amount: 2000, currency: 'USD', interval: 'month', nickname: 'Gold monthly',
    product: { name: `Gold ${tag}`, metadata: { tier: 'gold' }, unit_label: 'seat' },
    metadata: { tag }, trial_period_days: 14,
  });
  assert.match(plan.id, /^price_/);
  assert.equal(plan.object, 'plan');
  assert.equal(plan.amount, 2000);
  assert.equal(String(plan.amount_decimal), '2000');
  assert.equal(plan.currency, 'usd');
  assert.equal(plan.interval, 'month');
  assert.equal(plan.interval_count, 1);
  assert.equal(plan.usage_type, 'licensed');
  assert.equal(plan.billing_scheme, 'per_unit');
  assert.equal(plan.trial_period_days, 14);
  assert.equal(plan.nickname, 'Gold monthly');
  assert.equal(plan.active, true);
  assert.deepEqual(plan.metadata, { tag });
  assert.match(plan.product, /^prod_/);
  assertStripeShape(plan, 'plan');

  const product = await stripe.products.retrieve(plan.product);
  assert.equal(product.name, `Gold ${tag}`);
  assert.equal(product.unit_label, 'seat');
  assert.deepEqual(product.metadata, { tier: 'gold' });

  // the same row as a price
  const price = await stripe.prices.retrieve(plan.id);
  assert.equal(price.object, 'price');
  assert.equal(price.unit_amount, 2000);
  assert.equal(price.type, 'recurring');
  assert.deepEqual(price.recurring, { aggregate_usage: null, interval: 'month', interval_count: 1, meter: null, trial_period_days: 14, usage_type: 'licensed' });
  assert.equal(price.product, plan.product);
  assertStripeShape(price, 'price');
  assert.deepEqual(await stripe.plans.retrieve(plan.id), plan);
  const expanded = await stripe.plans.retrieve(plan.id, { expand: ['product'] });
  assert.equal(expanded.product.id, plan.product);
  assertStripeShape(expanded.product, 'product');

  const ev = await eventsOf(plan.id);
  assert.deepEqual(ev.map((e) => e.type), ['plan.created', 'price.created']);
  // (stripe-node turns a retrieved object's decimals into Decimals, not an event's)
  const plain = (o, k) => ({ ...o, [k]: String(o[k]) });
  assert.deepEqual(plain(ev[0].data.object, 'amount_decimal'), plain(plan, 'amount_decimal'));
  assert.deepEqual(plain(ev[1].data.object, 'unit_amount_decimal'), plain(price, 'unit_amount_decimal'));
  assert.deepEqual((await eventsOf(plan.product)).map((e) => e.type), ['product.created']);

  // a recurring price made through /v1/prices is a plan; a one-time one is not
  const monthly = await stripe.prices.create({ product: plan.product, currency: 'usd', unit_amount: 500, recurring: { interval: 'week', interval_count: 2 } });
  const asPlan = await stripe.plans.retrieve(monthly.id);
  assert.equal(asPlan.amount, 500);
  assert.equal(asPlan.interval, 'week');
  assert.equal(asPlan.interval_count, 2);
  assert.equal(asPlan.trial_period_days, null);
  const once = await stripe.prices.create({ product: plan.product, currency: 'usd', unit_amount: 500 });
  await assert.rejects(stripe.plans.retrieve(once.id), (e) => e.statusCode === 404 && e.code === 'resource_missing' && e.param === 'plan');
});

test('an id of the merchant\'s own, an existing product, amount_decimal; lists in creation order', async () => {
  const product = await stripe.products.create({ name: `Silver ${tag}` });
  const a = await stripe.plans.create({ id: `silver-monthly-${tag}`, amount: 999, currency: 'eur', interval: 'month', product: product.id });
  assert.equal(a.id, `silver-monthly-${tag}`);
  assert.equal(a.product, product.id);
  const b = await stripe.plans.create({ amount_decimal: '12.5', currency: 'usd', interval: 'year', product: product.id, usage_type: 'licensed' });
  assert.equal(b.amount, null);
  assert.equal(String(b.amount_decimal), '12.5');
  assertStripeShape(b, 'plan');
  const c = await stripe.plans.create({ id: `aaa-${tag}`, amount: 0, currency: 'usd', interval: 'day', interval_count: 7, product: product.id, active: false });
  assert.equal(c.active, false);

  // lists page by creation, whatever the ids
  const mine = await stripe.plans.list({ product: product.id, limit: 100 });
  assert.equal(mine.url, '/v1/plans');
  assert.deepEqual(mine.data.map((p) => p.id), [c.id, b.id, a.id]);
  assert.deepEqual((await stripe.plans.list({ product: product.id, active: false })).data.map((p) => p.id), [c.id]);
  const paged = await stripe.plans.list({ product: product.id, limit: 1 }).autoPagingToArray({ limit: 10 });
  assert.deepEqual(paged.map((p) => p.id), [c.id, b.id, a.id]);
  const after = await stripe.plans.list({ product: product.id, starting_after: c.id });
  assert.deepEqual(after.data.map((p) => p.id), [b.id, a.id]);
  // and so do prices, now that a price's id may be the merchant's own
  assert.deepEqual((await stripe.prices.list({ product: product.id })).data.map((p) => p.id), [c.id, b.id, a.id]);
  assert.deepEqual((await stripe.prices.search({ query: `product:'${product.id}'` })).data.map((p) => p.id), [c.id, b.id, a.id]);

  // the id is taken: by a plan, and a price's id cannot be reused either
  await assert.rejects(stripe.plans.create({ id: a.id, amount: 1, currency: 'usd', interval: 'month', product: product.id }),
    (e) => e.statusCode === 400 && e.code === 'resource_already_exists' && e.param === 'id');
  await assert.rejects(stripe.plans.create({ id: b.id, amount: 1, currency: 'usd', interval: 'month', product: product.id }),
    (e) => e.statusCode === 400 && e.code === 'resource_already_exists');
});

test('update: active, nickname, metadata, trial_period_days, with previous_attributes in both shapes', async () => {
  const plan = await stripe.plans.create({ amount: 300, currency: 'usd', interval: 'month', product: { name: `Upd ${tag}` }, nickname: 'old' });
  const up = await stripe.plans.update(plan.id, { active: false, nickname: 'new', metadata: { k: 'v' }, trial_period_days: 7 });
  assert.equal(up.active, false);
  assert.equal(up.nickname, 'new');
  assert.deepEqual(up.metadata, { k: 'v' });
  assert.equal(up.trial_period_days, 7);
  assert.equal(up.amount, 300);
  const ev = await eventsOf(plan.id);
  assert.deepEqual(ev.map((e) => e.type), ['plan.created', 'price.created', 'plan.updated', 'price.updated']);
  assert.deepEqual(ev[2].data.previous_attributes, { active: true, metadata: {}, nickname: 'old', trial_period_days: null });
  assert.deepEqual(ev[3].data.previous_attributes, {
    active: true, metadata: {}, nickname: 'old',
    recurring: { aggregate_usage: null, interval: 'month', interval_count: 1, meter: null, trial_period_days: null, usage_type: 'licensed' },
  });
  assert.equal(ev[3].data.object.recurring.trial_period_days, 7);
  // the amount of a plan never changes
  await assert.rejects(stripe.plans.update(plan.id, { amount: 5 }), (e) => e.statusCode === 400 && e.param === 'amount');
  assert.equal((await stripe.plans.retrieve(plan.id)).amount, 300);
});

test('delete: gone as a plan, an inactive price for what still uses it', async () => {
  const plan = await stripe.plans.create({ amount: 700, currency: 'usd', interval: 'month', product: { name: `Del ${tag}` } });
  const del = await stripe.plans.del(plan.id);
  assert.deepEqual(del, { id: plan.id, object: 'plan', deleted: true });
  await assert.rejects(stripe.plans.retrieve(plan.id), (e) => e.statusCode === 404 && e.code === 'resource_missing');
  await assert.rejects(stripe.plans.del(plan.id), (e) => e.statusCode === 404);
  await assert.rejects(stripe.plans.update(plan.id, { nickname: 'x' }), (e) => e.statusCode === 404);
  assert.ok(!(await stripe.plans.list({ product: plan.product })).data.some((p) => p.id === plan.id));
  const price = await stripe.prices.retrieve(plan.id);
  assert.equal(price.active, false);
  const ev = await eventsOf(plan.id);
  assert.deepEqual(ev.map((e) => e.type), ['plan.created', 'price.created', 'plan.deleted', 'price.updated']);
  assert.equal(ev[2].data.object.id, plan.id);
  assert.deepEqual(ev[3].data.previous_attributes, { active: true });
});

test('refused input changes nothing; tenants', async () => {
  const product = await stripe.products.create({ name: `Bad ${tag}` });
  const cases = [
    [{ currency: 'usd', interval: 'month', product: product.id }, 'amount'],
    [{ amount: 5, amount_decimal: '5', currency: 'usd', interval: 'month', product: product.id }, 'amount'],
    [{ amount: -1, currency: 'usd', interval: 'month', product: product.id }, 'amount'],
    [{ amount: 5, currency: 'xyz', interval: 'month', product: product.id }, 'currency'],
    [{ amount: 5, currency: 'usd', interval: 'fortnight', product: product.id }, 'interval'],
    [{ amount: 5, currency: 'usd', interval: 'year', interval_count: 4, product: product.id }, 'interval_count'],
    [{ amount: 5, currency: 'usd', interval: 'month', product: 'prod_missing' }, 'product'],
    [{ amount: 5, currency: 'usd', interval: 'month', product: product.id, trial_period_days: 731 }, 'trial_period_days'],
    [{ amount: 5, currency: 'usd', interval: 'month', product: product.id, id: 'bad id!' }, 'id'],
    // tiered takes its amounts from tiers[] (tiered-prices.test.js): amount is refused with it
    [{ amount: 5, currency: 'usd', interval: 'month', product: product.id, billing_scheme: 'tiered' }, 'amount'],
    [{ amount: 5, currency: 'usd', interval: 'month' }, 'product'],
  ];
  for (const [params, param] of cases) {
    await assert.rejects(stripe.plans.create(params), (e) => {
      assert.equal(e.statusCode, e.code === 'resource_missing' ? 404 : 400, JSON.stringify(params));
      assert.equal(e.param, param, JSON.stringify(params));
      return true;
    });
  }
  assert.deepEqual((await stripe.plans.list({ product: product.id })).data, []);
  assert.deepEqual((await stripe.prices.list({ product: product.id })).data, []);

  const plan = await stripe.plans.create({ amount: 100, currency: 'usd', interval: 'month', product: product.id, id: `mine-${tag}` });
  const other = env.stripe(env.merchants[1].secret_key);
  await assert.rejects(other.plans.retrieve(plan.id), (e) => e.statusCode === 404);
  await assert.rejects(other.plans.del(plan.id), (e) => e.statusCode === 404);
  assert.ok(!(await other.plans.list({ limit: 100 })).data.some((p) => p.id === plan.id));
  // another merchant may use the same id of its own
  const otherProduct = await other.products.create({ name: 'x' });
  const theirs = await other.plans.create({ amount: 1, currency: 'usd', interval: 'month', product: otherProduct.id, id: plan.id });
  assert.equal(theirs.id, plan.id);
  assert.equal((await stripe.plans.retrieve(plan.id)).amount, 100);
});

test('subscriptions to plans: items[n][plan], trial_from_plan, subscription items by plan', async () => {
  const cus = await stripe.customers.create({ payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
  const gold = await stripe.plans.create({ id: `gold-${tag}`, amount: 2500, currency: 'usd', interval: 'month', product: { name: `Gold sub ${tag}` }, trial_period_days: 7 });
  const seat = await stripe.plans.create({ amount: 300, currency: 'usd', interval: 'month', product: gold.product, trial_period_days: 3 });
  const sub = await stripe.subscriptions.create({ customer: cus.id, items: [{ plan: gold.id }, { plan: seat.id, quantity: 2 }], trial_from_plan: true });
  assert.equal(sub.status, 'trialing');
  assert.equal(sub.trial_end - sub.trial_start, 7 * 86400, 'the longest of the plans\' trials');
  assert.equal(sub.items.data[0].price.id, gold.id);
  assert.equal(sub.items.data[0].plan.id, gold.id);
  assert.equal(sub.items.data[0].plan.trial_period_days, 7);
  assert.equal(sub.items.data[1].quantity, 2);

  // without trial_from_plan the plans' trials do not apply
  const now = await stripe.subscriptions.create({ customer: cus.id, items: [{ plan: gold.id }] });
  assert.equal(now.status, 'active');
  assert.equal(now.trial_end, null);

  // a subscription item by plan, and an item's plan changed by plan
  const si = await stripe.subscriptionItems.create({ subscription: now.id, plan: seat.id, proration_behavior: 'none' });
  assert.equal(si.price.id, seat.id);
  const other = await stripe.plans.create({ amount: 900, currency: 'usd', interval: 'month', product: gold.product });
  const up = await stripe.subscriptions.update(now.id, { items: [{ id: si.id, plan: other.id }], proration_behavior: 'none' });
  assert.equal(up.items.data.find((x) => x.id === si.id).price.id, other.id);

  // refused
  await assert.rejects(stripe.subscriptions.create({ customer: cus.id, items: [{ plan: gold.id, price: seat.id }] }),
    (e) => e.statusCode === 400 && e.param === 'items[0][plan]');
  await assert.rejects(stripe.subscriptions.create({ customer: cus.id, items: [{ plan: gold.id }], trial_from_plan: true, trial_end: sub.trial_end }),
    (e) => e.statusCode === 400 && e.param === 'trial_from_plan');
  await assert.rejects(stripe.subscriptions.create({ customer: cus.id, items: [{ plan: 'gold-missing' }] }),
    (e) => e.statusCode === 404);
});

test('POST /v1/prices recurring[trial_period_days]: the price\'s default trial, given by trial_from_plan', async () => {
  await assert.rejects(stripe.prices.create({ currency: 'usd', unit_amount: 900, product_data: { name: `Long ${tag}` }, recurring: { interval: 'month', trial_period_days: 731 } }),
    (e) => e.statusCode === 400 && e.param === 'recurring[trial_period_days]');
  const price = await stripe.prices.create({ currency: 'usd', unit_amount: 900, product_data: { name: `Trial ${tag}` }, recurring: { interval: 'month', trial_period_days: 5 } });
  assertStripeShape(price, 'price');
  assert.equal(price.recurring.trial_period_days, 5);
  assert.equal((await stripe.prices.retrieve(price.id)).recurring.trial_period_days, 5);
  const plain = await stripe.prices.create({ currency: 'usd', unit_amount: 900, product: price.product, recurring: { interval: 'month' } });
  assert.equal(plain.recurring.trial_period_days, null);
  const cus = await stripe.customers.create({ payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
  const sub = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }], trial_from_plan: true, expand: ['latest_invoice'] });
  assert.equal(sub.status, 'trialing');
  assert.equal(sub.trial_end - sub.trial_start, 5 * 86400);
  assert.equal(sub.latest_invoice.amount_due, 0);
  const now = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }] });
  assert.equal(now.status, 'active', 'without trial_from_plan the price\'s trial does not apply');
});

test('update product: a plan moves to another product (events name the old one); not once used in a subscription', async () => {
  const p1 = await stripe.products.create({ name: `Move from ${tag}` });
  const p2 = await stripe.products.create({ name: `Move to ${tag}` });
  const plan = await stripe.plans.create({ amount: 900, currency: 'usd', interval: 'month', product: p1.id });
  const moved = await stripe.plans.update(plan.id, { product: p2.id });
  assert.equal(moved.product, p2.id);
  assertStripeShape(moved, 'plan');
  assert.equal((await stripe.prices.retrieve(plan.id)).product, p2.id);
  assert.deepEqual((await stripe.plans.list({ product: p2.id })).data.map((x) => x.id), [plan.id]);
  assert.equal((await stripe.plans.list({ product: p1.id })).data.length, 0);
  const evs = await eventsOf(plan.id);
  const pu = evs.filter((e) => e.type === 'plan.updated').pop();
  assert.deepEqual(pu.data.previous_attributes, { product: p1.id });
  assert.equal(pu.data.object.product, p2.id);
  assert.deepEqual(evs.filter((e) => e.type === 'price.updated').pop().data.previous_attributes, { product: p1.id });
  // unknown or deleted products, and the product's default price, are refused
  await assert.rejects(stripe.plans.update(plan.id, { product: 'prod_missing' }), (e) => e.statusCode === 404 && e.param === 'product');
  const p3 = await stripe.products.create({ name: `Default ${tag}`, default_price_data: { currency: 'usd', unit_amount: 500, recurring: { interval: 'month' } } });
  await assert.rejects(stripe.plans.update(p3.default_price, { product: p2.id }), (e) => e.statusCode === 400 && e.param === 'product');
  // once a subscription uses it, it stays where it is
  const cus = await stripe.customers.create({ payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
  await stripe.subscriptions.create({ customer: cus.id, items: [{ plan: plan.id }] });
  await assert.rejects(stripe.plans.update(plan.id, { product: p1.id, nickname: 'x' }), (e) => e.statusCode === 400 && e.param === 'product');
  const still = await stripe.plans.retrieve(plan.id);
  assert.equal(still.product, p2.id);
  assert.equal(still.nickname, null);
  // a schedule's phase counts too
  const plan2 = await stripe.plans.create({ amount: 700, currency: 'usd', interval: 'month', product: p1.id });
  await stripe.subscriptionSchedules.create({
    customer: cus.id, start_date: Math.floor(Date.now() / 1000) + 86400, phases: [{ items: [{ price: plan2.id }], iterations: 1 }],
  });
  await assert.rejects(stripe.plans.update(plan2.id, { product: p2.id }), (e) => e.statusCode === 400 && e.param === 'product');
});
