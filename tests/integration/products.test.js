'use strict';
// Products and prices through stripe-node: create (default_price_data, product_data, an id of the
// merchant's own), retrieve,
// update with previous_attributes, delete rules, lists and their filters, lookup keys, search,
// events, Stripe's shapes, refused input, tenants; currency_options (per-unit and tiered, added
// and replaced by updates, shown when expanded) and their refusals.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, assertStripeShape, tender, storeSql } = require('./helpers');

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

test('a product with a default price, in Stripe\'s shapes, with its events', async () => {
  const p = await stripe.products.create({
    name: 'T-shirt', description: 'Gray cotton', images: ['https://example.com/t.png'],
    metadata: { sku: 'ts-1' }, unit_label: 'shirt', statement_descriptor: 'TSHIRT', shippable: true,
    url: 'https://example.com/t', default_price_data: { currency: 'USD', unit_amount: 2000 },
  });
  assert.match(p.id, /^prod_/);
  assert.equal(p.object, 'product');
  assert.equal(p.active, true);
  assert.equal(p.name, 'T-shirt');
  assert.deepEqual(p.images, ['https://example.com/t.png']);
  assert.equal(p.shippable, true);
  assert.match(p.default_price, /^price_/);
  assertStripeShape(p, 'product');
  const price = await stripe.prices.retrieve(p.default_price);
  assert.equal(price.product, p.id);
  assert.equal(price.unit_amount, 2000);
  assert.equal(String(price.unit_amount_decimal), '2000');
  assert.equal(price.currency, 'usd');
  assert.equal(price.type, 'one_time');
  assert.equal(price.recurring, null);
  assert.equal(price.billing_scheme, 'per_unit');
  assert.equal(price.tax_behavior, 'unspecified');
  assertStripeShape(price, 'price');
  assert.deepEqual((await eventsOf(p.id)).map((e) => e.type), ['product.created']);
  assert.deepEqual((await eventsOf(price.id)).map((e) => e.type), ['price.created']);
  // expand[]=product
  const ex = await stripe.prices.retrieve(price.id, { expand: ['product'] });
  assert.equal(ex.product.id, p.id);
  assertStripeShape(ex.product, 'product');
  assert.deepEqual(await stripe.products.retrieve(p.id), p);
});

test('recurring prices, product_data, decimals', async () => {
  const monthly = await stripe.prices.create({
    currency: 'eur', unit_amount: 999, recurring: { interval: 'month' },
    product_data: { name: 'Pro plan', metadata: { tier: 'pro' } }, nickname: 'Pro monthly',
  });
  assert.equal(monthly.type, 'recurring');
  assert.deepEqual(
    { interval: monthly.recurring.interval, count: monthly.recurring.interval_count, usage: monthly.recurring.usage_type },
    { interval: 'month', count: 1, usage: 'licensed' });
  assertStripeShape(monthly, 'price');
  const prod = await stripe.products.retrieve(monthly.product);
  assert.equal(prod.name, 'Pro plan');
  assert.deepEqual(prod.metadata, { tier: 'pro' });
  assert.equal(prod.default_price, null);

  const yearly = await stripe.prices.create({ currency: 'eur', unit_amount: 9900, product: prod.id, recurring: { interval: 'year', interval_count: 2 } });
  assert.equal(yearly.recurring.interval_count, 2);
  const sub = await stripe.prices.create({ currency: 'usd', unit_amount_decimal: '0.125', product: prod.id });
  assert.equal(sub.unit_amount, null);
  assert.equal(String(sub.unit_amount_decimal), '0.125');
  assertStripeShape(sub, 'price');
  const whole = await stripe.prices.create({ currency: 'usd', unit_amount_decimal: '150.000', product: prod.id });
  assert.equal(whole.unit_amount, 150);
  assert.equal(String(whole.unit_amount_decimal), '150');
  const free = await stripe.prices.create({ currency: 'jpy', unit_amount: 0, product: prod.id });
  assert.equal(free.unit_amount, 0);
});

test('updates: previous_attributes; a price keeps its amount; default_price must be the product\'s own', async () => {
  const p = await stripe.products.create({ name: 'Mug', metadata: { a: '1' } });
  const up = await stripe.products.update(p.id, { name: 'Big mug', description: 'Holds more', metadata: { a: '2' } });
  assert.equal(up.name, 'Big mug');
  assert.ok(up.updated >= p.updated);
  const ev = (await eventsOf(p.id)).map((e) => [e.type, e.data.previous_attributes]);
  assert.deepEqual(ev[1], ['product.updated', { description: null, metadata: { a: '1' }, name: 'Mug' }]);

  const price = await stripe.prices.create({ currency: 'usd', unit_amount: 1200, product: p.id });
  const other = await stripe.prices.create({ currency: 'usd', unit_amount: 1300, product_data: { name: 'Other' } });
  assert.equal((await stripe.products.update(p.id, { default_price: price.id })).default_price, price.id);
  await assert.rejects(stripe.products.update(p.id, { default_price: other.id }),
    (e) => e.statusCode === 400 && e.param === 'default_price');
  await assert.rejects(stripe.products.update(p.id, { default_price: 'price_missing' }),
    (e) => e.statusCode === 404 && e.param === 'default_price');

  const pu = await stripe.prices.update(price.id, { nickname: 'standard', active: false, metadata: { x: 'y' } });
  assert.equal(pu.nickname, 'standard');
  assert.equal(pu.active, false);
  assert.equal(pu.unit_amount, 1200);
  const pev = await eventsOf(price.id);
  assert.deepEqual(pev.map((e) => e.type), ['price.created', 'price.updated']);
  assert.deepEqual(pev[1].data.previous_attributes, { active: true, metadata: {}, nickname: null });
  // the amount is not an updatable field
  await assert.rejects(stripe.prices.update(price.id, { unit_amount: 5 }),
    (e) => e.statusCode === 400 && e.code === 'parameter_unknown');
  // tax_behavior: once, from unspecified
  assert.equal((await stripe.prices.update(price.id, { tax_behavior: 'exclusive' })).tax_behavior, 'exclusive');
  await assert.rejects(stripe.prices.update(price.id, { tax_behavior: 'inclusive' }),
    (e) => e.statusCode === 400 && e.param === 'tax_behavior');
});

test('lookup keys: unique per merchant, moved with transfer_lookup_key, listed by key', async () => {
  const p = await stripe.products.create({ name: 'Plan' });
  const a = await stripe.prices.create({ currency: 'usd', unit_amount: 500, product: p.id, lookup_key: `${tag}-std` });
  await assert.rejects(stripe.prices.create({ currency: 'usd', unit_amount: 600, product: p.id, lookup_key: `${tag}-std` }),
    (e) => e.statusCode === 400 && e.param === 'lookup_key' && e.message.includes(a.id));
  const b = await stripe.prices.create({ currency: 'usd', unit_amount: 600, product: p.id, lookup_key: `${tag}-std`, transfer_lookup_key: true });
  assert.equal(b.lookup_key, `${tag}-std`);
  const aNow = await stripe.prices.retrieve(a.id);
  assert.equal(aNow.lookup_key, null);
  const aev = await eventsOf(a.id);
  assert.deepEqual(aev.map((e) => e.type), ['price.created', 'price.updated']);
  assert.deepEqual(aev[1].data.previous_attributes, { lookup_key: `${tag}-std` });
  const c = await stripe.prices.create({ currency: 'usd', unit_amount: 700, product: p.id, lookup_key: `${tag}-pro` });
  const byKeys = await stripe.prices.list({ lookup_keys: [`${tag}-std`, `${tag}-pro`] });
  assert.deepEqual(byKeys.data.map((x) => x.id), [c.id, b.id]);
  // an update can take a key too, and move it
  await assert.rejects(stripe.prices.update(a.id, { lookup_key: `${tag}-pro` }), (e) => e.statusCode === 400);
  assert.equal((await stripe.prices.update(a.id, { lookup_key: `${tag}-pro`, transfer_lookup_key: true })).lookup_key, `${tag}-pro`);
  assert.equal((await stripe.prices.retrieve(c.id)).lookup_key, null);
});

test('lists and their filters; search', async () => {
  const p1 = await stripe.products.create({ name: `${tag} Alpha`, metadata: { line: tag } });
  const p2 = await stripe.products.create({ name: `${tag} Beta`, active: false, metadata: { line: tag }, shippable: false });
  const pr1 = await stripe.prices.create({ currency: 'usd', unit_amount: 100, product: p1.id, recurring: { interval: 'week' } });
  const pr2 = await stripe.prices.create({ currency: 'gbp', unit_amount: 200, product: p1.id });
  const pr3 = await stripe.prices.create({ currency: 'usd', unit_amount: 300, product: p2.id, active: false });

  const inactive = await stripe.products.list({ active: false, limit: 100 });
  assert.ok(inactive.data.some((x) => x.id === p2.id));
  assert.ok(!inactive.data.some((x) => x.id === p1.id));
  for (const x of inactive.data) assertStripeShape(x, 'product');
  assert.deepEqual((await stripe.prices.list({ product: p1.id })).data.map((x) => x.id), [pr2.id, pr1.id]);
  assert.deepEqual((await stripe.prices.list({ product: p1.id, currency: 'usd' })).data.map((x) => x.id), [pr1.id]);
  assert.deepEqual((await stripe.prices.list({ product: p1.id, type: 'recurring' })).data.map((x) => x.id), [pr1.id]);
  assert.deepEqual((await stripe.prices.list({ product: p1.id, recurring: { interval: 'week' } })).data.map((x) => x.id), [pr1.id]);
  assert.deepEqual((await stripe.prices.list({ product: p2.id, active: false })).data.map((x) => x.id), [pr3.id]);
  const exp = await stripe.prices.list({ product: p1.id, expand: ['data.product'] });
  assert.equal(exp.data[0].product.id, p1.id);
  const pages = await stripe.prices.list({ product: p1.id, limit: 1 }).autoPagingToArray({ limit: 10 });
  assert.equal(pages.length, 2);

  assert.deepEqual((await stripe.products.search({ query: `metadata['line']:'${tag}' AND active:'true'` })).data.map((x) => x.id), [p1.id]);
  assert.deepEqual((await stripe.products.search({ query: `name~'${tag}'` })).data.map((x) => x.id), [p2.id, p1.id]);
  assert.deepEqual((await stripe.prices.search({ query: `product:'${p1.id}' AND currency:'gbp'` })).data.map((x) => x.id), [pr2.id]);
  assert.deepEqual((await stripe.prices.search({ query: `product:'${p1.id}' AND type:'recurring'` })).data.map((x) => x.id), [pr1.id]);
});

test('a product id of the merchant\'s own: taken once, listed and searched in creation order', async () => {
  const other = env.stripe(env.merchants[1].secret_key);
  const first = await stripe.products.create({ name: `Before ${tag}` });
  const own = await stripe.products.create({ id: `gold-${tag}`, name: `Gold ${tag}`, default_price_data: { currency: 'usd', unit_amount: 1500 } });
  assert.equal(own.id, `gold-${tag}`);
  assertStripeShape(own, 'product');
  const short = await stripe.products.create({ id: `a-${tag}`, name: `After ${tag}` }); // sorts before "gold" by id
  const last = await stripe.products.create({ name: `Last ${tag}` });
  assert.equal((await stripe.products.retrieve(own.id)).name, `Gold ${tag}`);
  const price = await stripe.prices.retrieve(own.default_price);
  assert.equal(price.product, own.id);
  const p2 = await stripe.prices.create({ product: own.id, currency: 'usd', unit_amount: 900, recurring: { interval: 'month' } });
  assert.equal(p2.product, own.id);
  // taken: by this merchant, refused; another merchant may have its own product with that id
  await assert.rejects(stripe.products.create({ id: own.id, name: 'Again' }), (e) => e.statusCode === 400 && e.code === 'resource_already_exists' && e.param === 'id');
  await assert.rejects(stripe.products.create({ id: 'no spaces', name: 'Bad' }), (e) => e.statusCode === 400 && e.param === 'id');
  const theirs = await other.products.create({ id: own.id, name: 'Theirs' });
  assert.equal(theirs.id, own.id);
  assert.equal((await stripe.products.retrieve(own.id)).name, `Gold ${tag}`, 'each merchant its own');
  assert.equal((await other.products.del(theirs.id)).deleted, true); // the other merchant's list stays empty for the tenants test
  assert.equal((await stripe.products.retrieve(own.id)).active, true);
  // newest first by creation, whatever the ids; cursors by id
  const want = [last.id, short.id, own.id, first.id];
  const page = await stripe.products.list({ limit: 4 });
  assert.deepEqual(page.data.map((x) => x.id), want);
  const after = await stripe.products.list({ limit: 2, starting_after: short.id });
  assert.deepEqual(after.data.map((x) => x.id), [own.id, first.id]);
  const beforeOwn = await stripe.products.list({ limit: 2, ending_before: own.id });
  assert.deepEqual(beforeOwn.data.map((x) => x.id), [last.id, short.id]);
  const walked = [];
  for await (const x of stripe.products.list({ limit: 1 })) {
    walked.push(x.id);
    if (walked.length === 4) break;
  }
  assert.deepEqual(walked, want);
  // search pages in the same order
  const found = [];
  for await (const x of stripe.products.search({ query: `name~"${tag}"`, limit: 1 })) found.push(x.id);
  assert.deepEqual(found.filter((id) => want.includes(id)), want);
});

test('delete: only a product without prices; then it is gone', async () => {
  const withPrice = await stripe.products.create({ name: 'Kept', default_price_data: { currency: 'usd', unit_amount: 100 } });
  await assert.rejects(stripe.products.del(withPrice.id), (e) => e.statusCode === 400 && /prices/.test(e.message));
  const bare = await stripe.products.create({ name: 'Gone' });
  const d = await stripe.products.del(bare.id);
  assert.deepEqual(d, { id: bare.id, object: 'product', deleted: true });
  await assert.rejects(stripe.products.retrieve(bare.id), (e) => e.statusCode === 404);
  await assert.rejects(stripe.products.del(bare.id), (e) => e.statusCode === 404);
  await assert.rejects(stripe.prices.create({ currency: 'usd', unit_amount: 1, product: bare.id }),
    (e) => e.statusCode === 404 && e.param === 'product');
  assert.deepEqual((await eventsOf(bare.id)).map((e) => e.type), ['product.created', 'product.deleted']);
});

test('refused input changes nothing', async () => {
  const count = () => Number(storeSql(env.dataDir, 'SELECT count(*) FROM prices').reduce((a, x) => a + Number(x), 0));
  const before = count();
  const p = await stripe.products.create({ name: 'Base' });
  const bad = [
    [{ currency: 'usd', product: p.id }, 'unit_amount'],
    [{ currency: 'usd', unit_amount: -1, product: p.id }, 'unit_amount'],
    [{ currency: 'usd', unit_amount: 100000000, product: p.id }, 'unit_amount'],
    [{ currency: 'usd', unit_amount_decimal: '1.1234567890123', product: p.id }, 'unit_amount_decimal'],
    [{ currency: 'usd', unit_amount_decimal: '1e3', product: p.id }, 'unit_amount_decimal'],
    [{ currency: 'usd', unit_amount: 1, unit_amount_decimal: '1', product: p.id }, 'unit_amount'],
    [{ currency: 'xxx', unit_amount: 1, product: p.id }, 'currency'],
    [{ currency: 'usd', unit_amount: 1 }, 'product'],
    [{ currency: 'usd', unit_amount: 1, product: p.id, product_data: { name: 'x' } }, 'product_data'],
    [{ currency: 'usd', unit_amount: 1, product: p.id, recurring: { interval: 'month', interval_count: 37 } }, 'recurring[interval_count]'],
    [{ currency: 'usd', unit_amount: 1, product: p.id, recurring: { interval: 'hour' } }, 'recurring[interval]'],
    [{ currency: 'usd', unit_amount: 1, product: 'prod_nope' }, 'product'],
  ];
  for (const [params, param] of bad) {
    await assert.rejects(stripe.prices.create(params), (e) => {
      assert.ok(e.statusCode === 400 || e.statusCode === 404, JSON.stringify(params));
      assert.equal(e.param, param, JSON.stringify(params));
      return true;
    });
  }
  await assert.rejects(stripe.products.create({ name: '' }), (e) => e.statusCode === 400 && e.param === 'name');
  await assert.rejects(stripe.products.create({ name: 'x', images: Array.from({ length: 9 }, (_, i) => `https://e.com/${i}`) }),
    (e) => e.statusCode === 400 && e.param === 'images');
  await assert.rejects(stripe.products.create({ name: 'x', default_price_data: { currency: 'usd' } }),
    (e) => e.statusCode === 400 && e.param === 'default_price_data[unit_amount]');
  assert.equal(count(), before);
});

test('currency_options: the same price in other currencies, shown when expanded', async () => {
  const p = await stripe.products.create({ name: `${tag} Multi` });
  const price = await stripe.prices.create({
    currency: 'usd', unit_amount: 1000, product: p.id, tax_behavior: 'exclusive',
    currency_options: { EUR: { unit_amount: 900 }, jpy: { unit_amount_decimal: '1500', tax_behavior: 'inclusive' }, gbp: { unit_amount_decimal: '799.5' } },
  });
  // includable: absent unless asked for
  assert.equal('currency_options' in price, false);
  assert.equal('currency_options' in (await stripe.prices.retrieve(price.id)), false);
  const ex = await stripe.prices.retrieve(price.id, { expand: ['currency_options'] });
  assertStripeShape(ex, 'price');
  const opt = (o) => ({ ...o, unit_amount_decimal: o.unit_amount_decimal == null ? null : String(o.unit_amount_decimal) });
  assert.deepEqual(Object.keys(ex.currency_options), ['eur', 'gbp', 'jpy', 'usd']);
  assert.deepEqual(opt(ex.currency_options.eur), { custom_unit_amount: null, tax_behavior: 'exclusive', unit_amount: 900, unit_amount_decimal: '900' });
  assert.deepEqual(opt(ex.currency_options.gbp), { custom_unit_amount: null, tax_behavior: 'exclusive', unit_amount: null, unit_amount_decimal: '799.5' });
  assert.deepEqual(opt(ex.currency_options.jpy), { custom_unit_amount: null, tax_behavior: 'inclusive', unit_amount: 1500, unit_amount_decimal: '1500' });
  assert.deepEqual(opt(ex.currency_options.usd), { custom_unit_amount: null, tax_behavior: 'exclusive', unit_amount: 1000, unit_amount_decimal: '1000' });
  // the price itself is unchanged by its options
  assert.equal(ex.currency, 'usd');
  assert.equal(ex.unit_amount, 1000);
  // lists: expand[]=data.currency_options
  const listed = await stripe.prices.list({ product: p.id, expand: ['data.currency_options'] });
  assert.deepEqual(listed.data[0].currency_options, ex.currency_options);
  assert.equal('currency_options' in (await stripe.prices.list({ product: p.id })).data[0], false);
  // the creation's event records the options
  const [created] = await eventsOf(price.id);
  assert.equal(created.data.object.currency_options.eur.unit_amount, 900);

  // update: adds a currency and replaces one; the others stay; previous_attributes has the old ones
  const up = await stripe.prices.update(price.id, {
    currency_options: { eur: { unit_amount: 950 }, cad: { unit_amount: 1300 } }, expand: ['currency_options'],
  });
  assert.deepEqual(Object.keys(up.currency_options), ['cad', 'eur', 'gbp', 'jpy', 'usd']);
  assert.equal(up.currency_options.eur.unit_amount, 950);
  assert.equal(up.currency_options.cad.unit_amount, 1300);
  assert.equal(up.currency_options.cad.tax_behavior, 'exclusive');
  assertStripeShape(up, 'price');
  const upd = (await eventsOf(price.id))[1];
  assert.equal(upd.type, 'price.updated');
  assert.equal(upd.data.previous_attributes.currency_options.eur.unit_amount, 900);
  assert.equal('cad' in upd.data.previous_attributes.currency_options, false);
  assert.equal(upd.data.object.currency_options.eur.unit_amount, 950);
  // an option's tax_behavior, once inclusive or exclusive, stays
  await assert.rejects(stripe.prices.update(price.id, { currency_options: { jpy: { unit_amount: 1600, tax_behavior: 'exclusive' } } }),
    (e) => e.statusCode === 400 && e.param === 'currency_options[jpy][tax_behavior]');
  // "" removes them all
  const cleared = await stripe.prices.update(price.id, { currency_options: '', expand: ['currency_options'] });
  assert.deepEqual(Object.keys(cleared.currency_options), ['usd']);

  // default_price_data takes them too
  const prod = await stripe.products.create({
    name: `${tag} Multi default`, default_price_data: { currency: 'eur', unit_amount: 500, currency_options: { usd: { unit_amount: 550 } } },
  });
  const dp = await stripe.prices.retrieve(prod.default_price, { expand: ['currency_options'] });
  assert.deepEqual(Object.keys(dp.currency_options), ['eur', 'usd']);
  assert.equal(dp.currency_options.usd.unit_amount, 550);

  // a tiered price's options have tiers of their own
  const tiered = await stripe.prices.create({
    currency: 'usd', product: p.id, recurring: { interval: 'month' }, billing_scheme: 'tiered', tiers_mode: 'graduated',
    tiers: [{ up_to: 5, unit_amount: 1000 }, { up_to: 'inf', unit_amount: 800 }],
    currency_options: { eur: { tiers: [{ up_to: 5, unit_amount: 900 }, { up_to: 'inf', unit_amount_decimal: '700.5', flat_amount: 100 }] } },
    expand: ['currency_options'],
  });
  assertStripeShape(tiered, 'price');
  assert.equal(tiered.currency_options.eur.unit_amount, null);
  assert.equal(tiered.currency_options.eur.unit_amount_decimal, null);
  assert.deepEqual(tiered.currency_options.eur.tiers.map((t) => [t.up_to, t.unit_amount, t.flat_amount, String(t.unit_amount_decimal)]),
    [[5, 900, null, '900'], [null, null, 100, '700.5']]);
  assert.equal(tiered.currency_options.usd.tiers.length, 2);

  // Stripe's refusals, and nothing written by them
  const count = () => Number(storeSql(env.dataDir, 'SELECT count(*) FROM price_currency_options').reduce((a, x) => a + Number(x), 0));
  const before = count();
  const base = { currency: 'usd', unit_amount: 100, product: p.id };
  const bad = [
    [{ ...base, currency_options: { usd: { unit_amount: 90 } } }, 'currency_options[usd]', 'invalid_request_error'],
    [{ ...base, currency_options: { xyz: { unit_amount: 90 } } }, 'currency_options[xyz]'],
    [{ ...base, currency_options: { euro: { unit_amount: 90 } } }, 'currency_options[euro]'],
    [{ ...base, currency_options: { eur: { tax_behavior: 'inclusive' } } }, 'currency_options[eur][unit_amount]', 'parameter_missing'],
    [{ ...base, currency_options: { eur: { unit_amount: -1 } } }, 'currency_options[eur][unit_amount]'],
    [{ ...base, currency_options: { eur: { unit_amount: 100000000 } } }, 'currency_options[eur][unit_amount]'],
    [{ ...base, currency_options: { eur: { unit_amount: 1, unit_amount_decimal: '1' } } }, 'currency_options[eur][unit_amount]'],
    [{ ...base, currency_options: { eur: { unit_amount_decimal: '1.1234567890123' } } }, 'currency_options[eur][unit_amount_decimal]'],
    [{ ...base, currency_options: { eur: { tiers: [{ up_to: 'inf', unit_amount: 1 }] } } }, 'currency_options[eur][tiers]'],
    [{ ...base, currency_options: { eur: { unit_amount: 1, tax_behavior: 'sometimes' } } }, 'currency_options[eur][tax_behavior]'],
    [{ ...base, currency_options: { eur: { custom_unit_amount: { enabled: true } } } }, 'currency_options[eur][custom_unit_amount]', 'parameter_unknown'],
    [{ ...base, currency_options: { eur: { unit_amount: 1 }, EUR: { unit_amount: 2 } } }, 'currency_options[EUR]'],
    [{ currency: 'usd', product: p.id, recurring: { interval: 'month' }, billing_scheme: 'tiered', tiers_mode: 'volume',
      tiers: [{ up_to: 'inf', unit_amount: 1 }], currency_options: { eur: { unit_amount: 1 } } }, 'currency_options[eur][unit_amount]'],
    [{ currency: 'usd', product: p.id, recurring: { interval: 'month' }, billing_scheme: 'tiered', tiers_mode: 'volume',
      tiers: [{ up_to: 'inf', unit_amount: 1 }], currency_options: { eur: { tax_behavior: 'exclusive' } } }, 'currency_options[eur][tiers]', 'parameter_missing'],
    [{ currency: 'usd', product: p.id, recurring: { interval: 'month' }, billing_scheme: 'tiered', tiers_mode: 'volume',
      tiers: [{ up_to: 'inf', unit_amount: 1 }], currency_options: { eur: { tiers: [{ up_to: 5, unit_amount: 1 }] } } }, 'currency_options[eur][tiers][0][up_to]'],
  ];
  for (const [params, param, code] of bad) {
    await assert.rejects(stripe.prices.create(params), (e) => {
      assert.equal(e.statusCode, 400, JSON.stringify(params));
      assert.equal(e.param, param, JSON.stringify(params));
      if (code) assert.ok(e.code === code || e.rawType === code, `${e.code} ${JSON.stringify(params)}`);
      return true;
    });
  }
  await assert.rejects(stripe.products.create({ name: 'x', default_price_data: { currency: 'eur', unit_amount: 1, currency_options: { eur: { unit_amount: 1 } } } }),
    (e) => e.statusCode === 400 && e.param === 'default_price_data[currency_options][eur]');
  await assert.rejects(stripe.products.create({ name: 'x', default_price_data: { currency: 'eur', unit_amount: 1, currency_options: { usd: { tax_behavior: 'exclusive' } } } }),
    (e) => e.statusCode === 400 && e.param === 'default_price_data[currency_options][usd][unit_amount]');
  await assert.rejects(stripe.prices.update(price.id, { currency_options: { eur: { unit_amount: 'x' } } }),
    (e) => e.statusCode === 400 && e.param === 'currency_options[eur][unit_amount]');
  assert.equal(count(), before);
  assert.equal((await stripe.prices.list({ product: p.id, limit: 100 })).data.length, 2);
});

test('tenants, and tender verify', async () => {
  const p = await stripe.products.create({ name: 'Private', default_price_data: { currency: 'usd', unit_amount: 100 } });
  const other = env.stripe(env.merchants[1].secret_key);
  await assert.rejects(other.products.retrieve(p.id), (e) => e.statusCode === 404);
  await assert.rejects(other.prices.retrieve(p.default_price), (e) => e.statusCode === 404);
  await assert.rejects(other.products.update(p.id, { name: 'x' }), (e) => e.statusCode === 404);
  await assert.rejects(other.prices.create({ currency: 'usd', unit_amount: 1, product: p.id }), (e) => e.statusCode === 404);
  assert.deepEqual((await other.products.list()).data, []);
  assert.deepEqual((await other.prices.list()).data, []);
  assert.deepEqual((await other.prices.search({ query: `product:'${p.id}'` })).data, []);
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

test('pay-what-you-want prices: custom_unit_amount checked, stored and shown; refused where an amount is needed', async () => {
  const p = await stripe.products.create({ name: 'Donation' });
  const price = await stripe.prices.create({
    currency: 'usd', product: p.id,
    custom_unit_amount: { enabled: true, minimum: 500, maximum: 100000, preset: 2500 },
  });
  assert.deepEqual(price.custom_unit_amount, { maximum: 100000, minimum: 500, preset: 2500 });
  assert.equal(price.unit_amount, null);
  assert.equal(price.unit_amount_decimal, null);
  assert.equal(price.type, 'one_time');
  assert.equal(price.billing_scheme, 'per_unit');
  assertStripeShape(price, 'price');
  assert.deepEqual(await stripe.prices.retrieve(price.id), price);
  const [created] = (await eventsOf(price.id)).filter((e) => e.type === 'price.created');
  assert.deepEqual(created.data.object.custom_unit_amount, price.custom_unit_amount);
  // bounds are optional (null), with product_data and with a product's default_price_data
  const open = await stripe.prices.create({ currency: 'jpy', product_data: { name: 'Tip jar' }, custom_unit_amount: { enabled: true } });
  assert.deepEqual(open.custom_unit_amount, { maximum: null, minimum: null, preset: null });
  assertStripeShape(open, 'price');
  const dp = await stripe.products.create({ name: 'Zine', default_price_data: { currency: 'eur', custom_unit_amount: { enabled: true, preset: 800 } } });
  const dpp = await stripe.prices.retrieve(dp.default_price);
  assert.deepEqual(dpp.custom_unit_amount, { maximum: null, minimum: null, preset: 800 });
  assert.equal(dpp.unit_amount, null);
  // a fixed price still shows null
  const fixed = await stripe.prices.create({ currency: 'usd', product: p.id, unit_amount: 100 });
  assert.equal(fixed.custom_unit_amount, null);
  // expanded, its own currency's option shows its custom amount; it takes no other currencies
  const withOpts = await stripe.prices.retrieve(price.id, { expand: ['currency_options'] });
  assert.deepEqual(Object.keys(withOpts.currency_options), ['usd']);
  assert.deepEqual(withOpts.currency_options.usd.custom_unit_amount, price.custom_unit_amount);
  await assert.rejects(stripe.prices.update(price.id, { currency_options: { eur: { unit_amount: 100 } } }),
    (e) => e.statusCode === 400 && e.param === 'currency_options');

  // Stripe's rules, each a 400 on its parameter that writes nothing
  const count = () => Number(storeSql(env.dataDir, 'SELECT count(*) FROM prices').reduce((a, x) => a + Number(x), 0));
  const before = count();
  const bad = [
    [{ custom_unit_amount: { enabled: false } }, 'custom_unit_amount[enabled]'],
    [{ custom_unit_amount: { minimum: 5 } }, 'custom_unit_amount[enabled]'],
    [{ custom_unit_amount: { enabled: true }, unit_amount: 100 }, 'custom_unit_amount'],
    [{ custom_unit_amount: { enabled: true }, unit_amount_decimal: '1.5' }, 'custom_unit_amount'],
    [{ custom_unit_amount: { enabled: true }, recurring: { interval: 'month' } }, 'custom_unit_amount'],
    [{ custom_unit_amount: { enabled: true }, billing_scheme: 'tiered', tiers_mode: 'volume', tiers: [{ up_to: 'inf', unit_amount: 1 }], recurring: { interval: 'month' } }, 'custom_unit_amount'],
    [{ custom_unit_amount: { enabled: true, minimum: -1 } }, 'custom_unit_amount[minimum]'],
    [{ custom_unit_amount: { enabled: true, maximum: 100000000 } }, 'custom_unit_amount[maximum]'],
    [{ custom_unit_amount: { enabled: true, minimum: 900, maximum: 800 } }, 'custom_unit_amount[minimum]'],
    [{ custom_unit_amount: { enabled: true, minimum: 900, preset: 800 } }, 'custom_unit_amount[preset]'],
    [{ custom_unit_amount: { enabled: true, maximum: 900, preset: 1000 } }, 'custom_unit_amount[preset]'],
    [{ custom_unit_amount: { enabled: true, preset: 'ten' } }, 'custom_unit_amount[preset]'],
    [{ custom_unit_amount: { enabled: true, suggested: 10 } }, 'custom_unit_amount[suggested]'],
    [{ custom_unit_amount: { enabled: true }, currency_options: { eur: { unit_amount: 100 } } }, 'currency_options'],
  ];
  for (const [params, param] of bad) {
    await assert.rejects(stripe.prices.create({ currency: 'usd', product: p.id, ...params }), (e) => {
      assert.equal(e.statusCode, 400, JSON.stringify(params));
      assert.equal(e.param, param, JSON.stringify(params));
      return true;
    });
  }
  await assert.rejects(stripe.products.create({ name: 'x', default_price_data: { currency: 'usd', custom_unit_amount: { enabled: true, minimum: 10, maximum: 5 } } }),
    (e) => e.statusCode === 400 && e.param === 'default_price_data[custom_unit_amount][minimum]');
  assert.equal(count(), before);

  // where a fixed amount is needed: Stripe's 400 on the price, nothing written
  const cus = await stripe.customers.create({ email: `pwyw-${tag}@example.com` });
  await assert.rejects(stripe.invoiceItems.create({ customer: cus.id, price: price.id }), (e) => {
    assert.equal(e.statusCode, 400);
    assert.equal(e.param, 'price');
    assert.match(e.message, /custom_unit_amount/);
    return true;
  });
  assert.equal((await stripe.invoiceItems.list({ customer: cus.id })).data.length, 0);
  await assert.rejects(stripe.quotes.create({ customer: cus.id, line_items: [{ price: price.id, quantity: 1 }] }), (e) => {
    assert.equal(e.statusCode, 400);
    assert.equal(e.param, 'line_items[0][price]');
    assert.match(e.message, /custom_unit_amount/);
    return true;
  });
  assert.equal((await stripe.quotes.list({ customer: cus.id })).data.length, 0);
  const monthly = await stripe.prices.create({ currency: 'usd', product: p.id, unit_amount: 1000, recurring: { interval: 'month' } });
  await assert.rejects(stripe.subscriptions.create({ customer: cus.id, items: [{ price: monthly.id }], add_invoice_items: [{ price: price.id }] }), (e) => {
    assert.equal(e.statusCode, 400);
    assert.equal(e.param, 'add_invoice_items[0][price]');
    assert.match(e.message, /custom_unit_amount/);
    return true;
  });
  assert.equal((await stripe.subscriptions.list({ customer: cus.id })).data.length, 0);
});

test('tax_code, package_dimensions and marketing_features: kept, shown, changed with previous_attributes, cleared; refusals', async () => {
  const p = await stripe.products.create({
    name: 'Parcel', tax_code: 'txcd_99999999', shippable: true,
    package_dimensions: { height: 10, length: 20.5, weight: 3.25, width: 8 },
    marketing_features: [{ name: 'Waterproof' }, { name: 'Recycled' }],
  });
  assert.equal(p.tax_code, 'txcd_99999999');
  assert.deepEqual(p.package_dimensions, { height: 10, length: 20.5, weight: 3.25, width: 8 });
  assert.deepEqual(p.marketing_features, [{ name: 'Waterproof' }, { name: 'Recycled' }]);
  assertStripeShape(p, 'product');
  assert.deepEqual((await stripe.products.retrieve(p.id)).marketing_features, p.marketing_features);
  const u = await stripe.products.update(p.id, { tax_code: 'txcd_10000000', marketing_features: [{ name: 'Light' }] });
  assert.equal(u.tax_code, 'txcd_10000000');
  assert.deepEqual(u.marketing_features, [{ name: 'Light' }]);
  assert.deepEqual(u.package_dimensions, p.package_dimensions);
  const [, upd] = await eventsOf(p.id);
  assert.equal(upd.type, 'product.updated');
  assert.equal(upd.data.previous_attributes.tax_code, 'txcd_99999999');
  assert.deepEqual(upd.data.previous_attributes.marketing_features, p.marketing_features);
  const cleared = await stripe.products.update(p.id, { tax_code: '', package_dimensions: '', marketing_features: '' });
  assert.deepEqual([cleared.tax_code, cleared.package_dimensions, cleared.marketing_features], [null, null, []]);
  assertStripeShape(cleared, 'product');
  // the spec's older name, `features`, is the same list
  const old = await stripe.products.create({ name: 'Old SDK', features: [{ name: 'Fast' }] });
  assert.deepEqual(old.marketing_features, [{ name: 'Fast' }]);
  for (const bad of [
    { tax_code: 'txcd_nope' },
    { package_dimensions: { height: 1, length: 1, weight: 1 } },
    { package_dimensions: { height: -1, length: 1, weight: 1, width: 1 } },
    { package_dimensions: { height: '1e3', length: 1, weight: 1, width: 1 } },
    { marketing_features: Array.from({ length: 16 }, (_, i) => ({ name: `f${i}` })) },
    { marketing_features: [{ name: 'x'.repeat(81) }] },
  ]) {
    await assert.rejects(stripe.products.update(p.id, bad), (e) => e.statusCode >= 400 && e.statusCode < 500, JSON.stringify(bad));
  }
  const after = await stripe.products.retrieve(p.id);
  assert.deepEqual([after.tax_code, after.package_dimensions, after.marketing_features], [null, null, []]);
});

test('GET /v1/products?ids[]: only the products named, newest first; not with a cursor', async () => {
  const a = await stripe.products.create({ name: `ids A ${tag}` });
  const b = await stripe.products.create({ name: `ids B ${tag}`, id: `own-ids-${tag}` });
  await stripe.products.create({ name: `ids C ${tag}` });
  const got = await stripe.products.list({ ids: [a.id, b.id, 'prod_missing', 'x,y'] });
  assert.deepEqual(got.data.map((p) => p.id), [b.id, a.id]);
  for (const p of got.data) assertStripeShape(p, 'product');
  assert.deepEqual((await stripe.products.list({ ids: [b.id], active: true })).data.map((p) => p.id), [b.id]);
  assert.equal((await stripe.products.list({ ids: [b.id], active: false })).data.length, 0);
  // an id that is a prefix of another names only itself
  assert.equal((await stripe.products.list({ ids: [b.id.slice(0, -1)] })).data.length, 0);
  const one = await stripe.products.list({ ids: [a.id, b.id], limit: 1 });
  assert.equal(one.data.length, 1);
  assert.equal(one.has_more, true);
  await assert.rejects(stripe.products.list({ ids: [a.id], starting_after: b.id }), (e) => e.statusCode === 400 && e.param === 'starting_after');
});
