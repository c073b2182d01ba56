'use strict';
// Shipping rates (/v1/shipping_rates) and shipping on Checkout Sessions (mode=payment) through
// stripe-node: rates made, updated and listed; a session with two options and address
// collection, paid on Tender's checkout page in headless Chromium (Debian's chromium +
// playwright-core) with the second option chosen; the session, its PaymentIntent (amount with
// shipping, `shipping`) and balance transaction; refused inputs that change nothing.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, stopAll, assertStripeShape, launchChromium, startShop } = require('./helpers');

let env;
let stripe;
let browser;
let shop;
let shopPort;
let book; // 15.00 usd
let standard; // 5.00 usd, 3–5 business days
let express; // 15.00 usd
let euro; // 7.00 eur
let archived; // inactive

before(async () => {
  env = await startTender();
  stripe = env.stripe();
  shop = await startShop();
  shopPort = shop.address().port;
  browser = await launchChromium();
  book = await stripe.prices.create({ currency: 'usd', unit_amount: 1500, product_data: { name: 'Book' } });
});
after(async () => {
  if (browser) await browser.close();
  if (shop) shop.close();
  await stopAll();
});

function sessionParams(extra = {}) {
  return {
    mode: 'payment',
    line_items: [{ price: book.id, quantity: 2 }],
    success_url: `http://127.0.0.1:${shopPort}/ok?session_id={CHECKOUT_SESSION_ID}`,
    ...extra,
  };
}

test('shipping rates: create, retrieve, update, list', async () => {
  standard = await stripe.shippingRates.create({
    display_name: 'Standard',
    type: 'fixed_amount',
    fixed_amount: { amount: 500, currency: 'usd' },
    delivery_estimate: { minimum: { unit: 'business_day', value: 3 }, maximum: { unit: 'business_day', value: 5 } },
    metadata: { carrier: 'post' },
  });
  assert.match(standard.id, /^shr_/);
  assert.equal(standard.object, 'shipping_rate');
  assert.equal(standard.active, true);
  assert.equal(standard.type, 'fixed_amount');
  assert.deepEqual(standard.fixed_amount, { amount: 500, currency: 'usd' });
  assert.deepEqual(standard.delivery_estimate, {
    maximum: { unit: 'business_day', value: 5 }, minimum: { unit: 'business_day', value: 3 },
  });
  assert.equal(standard.tax_behavior, 'unspecified');
  assert.deepEqual(standard.metadata, { carrier: 'post' });
  assertStripeShape(standard, 'shipping_rate');
  express = await stripe.shippingRates.create({
    display_name: 'Express', fixed_amount: { amount: 1500, currency: 'USD' }, tax_behavior: 'exclusive',
  });
  assert.equal(express.delivery_estimate, null);
  assert.equal(express.fixed_amount.currency, 'usd');
  assertStripeShape(express, 'shipping_rate');
  euro = await stripe.shippingRates.create({ display_name: 'Europe', fixed_amount: { amount: 700, currency: 'eur' } });
  archived = await stripe.shippingRates.create({ display_name: 'Old', fixed_amount: { amount: 100, currency: 'usd' } });

  const got = await stripe.shippingRates.retrieve(standard.id);
  assert.deepEqual(got, standard);
  const off = await stripe.shippingRates.update(archived.id, { active: false, metadata: { why: 'retired' } });
  assert.equal(off.active, false);
  assert.deepEqual(off.metadata, { why: 'retired' });
  assertStripeShape(off, 'shipping_rate');
  // tax_behavior: set once from unspecified, then fixed (Stripe's rule)
  assert.equal((await stripe.shippingRates.update(standard.id, { tax_behavior: 'inclusive' })).tax_behavior, 'inclusive');
  await assert.rejects(stripe.shippingRates.update(express.id, { tax_behavior: 'inclusive' }),
    (e) => e.statusCode === 400 && e.param === 'tax_behavior');
  assert.equal((await stripe.shippingRates.retrieve(express.id)).tax_behavior, 'exclusive');

  // refusals: no amount, a bad estimate, an unknown id
  await assert.rejects(stripe.shippingRates.create({ display_name: 'X' }), (e) => e.statusCode === 400 && e.param === 'fixed_amount');
  await assert.rejects(stripe.shippingRates.create({
    display_name: 'X', fixed_amount: { amount: 1, currency: 'usd' }, delivery_estimate: { minimum: { unit: 'day', value: 0 } },
  }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.shippingRates.retrieve('shr_nope'), (e) => e.statusCode === 404);

  const all = await stripe.shippingRates.list();
  assert.deepEqual(all.data.map((r) => r.id), [archived.id, euro.id, express.id, standard.id]);
  const active = await stripe.shippingRates.list({ active: true, currency: 'usd' });
  assert.deepEqual(active.data.map((r) => r.id), [express.id, standard.id]);
  const inactive = await stripe.shippingRates.list({ active: false });
  assert.deepEqual(inactive.data.map((r) => r.id), [archived.id]);
  const page1 = await stripe.shippingRates.list({ limit: 2 });
  assert.equal(page1.has_more, true);
  const page2 = await stripe.shippingRates.list({ limit: 2, starting_after: page1.data[1].id });
  assert.deepEqual(page2.data.map((r) => r.id), [express.id, standard.id]);
  assert.equal(page2.has_more, false);
});

test('refused shipping options change nothing', async () => {
  const before = (await stripe.checkout.sessions.list({ limit: 100 })).data.length;
  const rates = (await stripe.shippingRates.list({ limit: 100 })).data.length;
  const refusals = [
    [{ shipping_options: [{ shipping_rate: standard.id }, { shipping_rate: euro.id }] }, 400, 'shipping_options[1][shipping_rate]'],
    [{ shipping_options: [{ shipping_rate: archived.id }] }, 400, 'shipping_options[0][shipping_rate]'],
    [{ shipping_options: [{ shipping_rate: 'shr_missing' }] }, 404, 'shipping_options[0][shipping_rate]'],
    [{ shipping_options: Array(6).fill({ shipping_rate: standard.id }) }, 400, undefined],
    // an inline rate, then one in another currency: neither the session nor the rate is kept
    [{ shipping_options: [{ shipping_rate_data: { display_name: 'Inline', fixed_amount: { amount: 1, currency: 'usd' } } },
      { shipping_rate: euro.id }] }, 400, 'shipping_options[1][shipping_rate]'],
    [{ shipping_address_collection: { allowed_countries: ['us'] } }, 400, 'shipping_address_collection[allowed_countries]'],
  ];
  for (const [extra, status, param] of refusals) {
    await assert.rejects(stripe.checkout.sessions.create(sessionParams(extra)), (e) => {
      assert.equal(e.statusCode, status, JSON.stringify(extra));
      if (param) assert.equal(e.param, param);
      return true;
    });
  }
  // subscription mode takes no shipping (Tender's refusal, see README)
  const monthly = await stripe.prices.create({ currency: 'usd', unit_amount: 900, recurring: { interval: 'month' }, product_data: { name: 'Box' } });
  await assert.rejects(stripe.checkout.sessions.create({
    mode: 'subscription', line_items: [{ price: monthly.id, quantity: 1 }], success_url: 'https://example.com/ok',
    shipping_options: [{ shipping_rate: standard.id }],
  }), (e) => e.statusCode === 400 && e.param === 'shipping_options');
  assert.equal((await stripe.checkout.sessions.list({ limit: 100 })).data.length, before);
  assert.equal((await stripe.shippingRates.list({ limit: 100 })).data.length, rates);

  // shipping_rate_data makes a rate of its own (inactive rates are not offered)
  const s = await stripe.checkout.sessions.create(sessionParams({
    shipping_options: [{ shipping_rate_data: { display_name: 'Pickup', fixed_amount: { amount: 0, currency: 'usd' } } }],
  }));
  assert.equal(s.shipping_options.length, 1);
  assert.equal(s.shipping_options[0].shipping_amount, 0);
  const made = await stripe.shippingRates.retrieve(s.shipping_options[0].shipping_rate);
  assert.equal(made.display_name, 'Pickup');
  assert.equal(s.amount_total, 3000);
  assert.equal(s.shipping_address_collection, null);
  assertStripeShape(s, 'checkout.session');
});

test('two options and an address: the buyer picks the second on the page, the payment is the total with it', async () => {
  const coupon = await stripe.coupons.create({ percent_off: 10 });
  const s = await stripe.checkout.sessions.create(sessionParams({
    shipping_options: [{ shipping_rate: standard.id }, { shipping_rate: express.id }],
    shipping_address_collection: { allowed_countries: ['US', 'FR'] },
    discounts: [{ coupon: coupon.id }],
  }));
  assert.equal(s.amount_subtotal, 3000);
  assert.equal(s.amount_total, 2700 + 500); // the coupon takes nothing off shipping
  assert.deepEqual(s.total_details, { amount_discount: 300, amount_shipping: 500, amount_tax: 0 });
  assert.deepEqual(s.shipping_options, [
    { shipping_amount: 500, shipping_rate: standard.id }, { shipping_amount: 1500, shipping_rate: express.id },
  ]);
  assert.deepEqual(s.shipping_cost, { amount_subtotal: 500, amount_tax: 0, amount_total: 500, shipping_rate: standard.id });
  assert.deepEqual(s.shipping_address_collection, { allowed_countries: ['US', 'FR'] });
  assert.equal(s.shipping_details, null);
  assertStripeShape(s, 'checkout.session');

  // an address outside the allowed countries (posted by hand: the page offers only US and FR)
  const pis = (await stripe.paymentIntents.list({ limit: 100 })).data.length;
  const form = new URLSearchParams({
    shipping_rate: express.id,
    'shipping[name]': 'Ada Lovelace', 'shipping[address][line1]': '1 Unter den Linden',
    'shipping[address][city]': 'Berlin', 'shipping[address][postal_code]': '10117', 'shipping[address][country]': 'DE',
    'payment_method_data[type]': 'card', 'payment_method_data[card][number]': '4242424242424242',
    'payment_method_data[card][exp_month]': '10', 'payment_method_data[card][exp_year]': '2035',
    'payment_method_data[card][cvc]': '123',
  });
  const path = new URL(s.url).pathname;
  const refused = await env.request({ method: 'POST', path, body: form.toString() });
  assert.equal(refused.status, 400);
  assert.match(refused.body, /does not ship to that country/);
  // an option the session does not offer
  form.set('shipping[address][country]', 'FR');
  form.set('shipping_rate', archived.id);
  const badRate = await env.request({ method: 'POST', path, body: form.toString() });
  assert.equal(badRate.status, 400);
  assert.match(badRate.body, /shipping options/);
  const same = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(same.status, 'open');
  assert.equal(same.payment_intent, null);
  assert.equal(same.amount_total, 3200);
  assert.equal(same.shipping_cost.shipping_rate, standard.id);
  assert.equal((await stripe.paymentIntents.list({ limit: 100 })).data.length, pis);

  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.textContent('#total'), '32.00 USD');
  assert.deepEqual(await page.$$eval('#ship_country option', (o) => o.map((x) => x.textContent)), ['US', 'FR']);
  assert.equal(await page.isChecked(`input[name="shipping_rate"][value="${standard.id}"]`), true);
  await page.check(`input[name="shipping_rate"][value="${express.id}"]`);
  await page.getByLabel('Name', { exact: true }).fill('Ada Lovelace');
  await page.getByLabel('Address', { exact: true }).fill('12 rue de Rivoli');
  await page.getByLabel('City').fill('Paris');
  await page.getByLabel('Postal code').fill('75004');
  await page.selectOption('#ship_country', 'FR');
  await page.getByLabel('Name on card').fill('Ada Lovelace');
  await page.getByLabel('Card number').fill('4242424242424242');
  await page.getByLabel('Month (MM)').fill('10');
  await page.getByLabel('Year (YYYY)').fill('2035');
  await page.getByLabel('CVC').fill('321');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /^Pay/ }).click()]);
  assert.equal(new URL(page.url()).searchParams.get('session_id'), s.id);
  await page.close();

  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'paid');
  assert.equal(done.amount_subtotal, 3000);
  assert.equal(done.amount_total, 2700 + 1500);
  assert.deepEqual(done.total_details, { amount_discount: 300, amount_shipping: 1500, amount_tax: 0 });
  assert.deepEqual(done.shipping_cost, { amount_subtotal: 1500, amount_tax: 0, amount_total: 1500, shipping_rate: express.id });
  const address = { city: 'Paris', country: 'FR', line1: '12 rue de Rivoli', line2: null, postal_code: '75004', state: null };
  assert.deepEqual(done.shipping_details, { address, carrier: null, name: 'Ada Lovelace', phone: null, tracking_number: null });
  assert.deepEqual(done.collected_information.shipping_details, { address, name: 'Ada Lovelace' });
  assertStripeShape(done, 'checkout.session');
  const ev = (await stripe.events.list({ type: 'checkout.session.completed', limit: 10 })).data.find((e) => e.data.object.id === s.id);
  assert.equal(ev.data.object.amount_total, 4200);
  assert.equal(ev.data.object.shipping_cost.shipping_rate, express.id);

  const pi = await stripe.paymentIntents.retrieve(done.payment_intent);
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.amount, 4200);
  assert.equal(pi.amount_received, 4200);
  assert.deepEqual(pi.shipping, { address, carrier: null, name: 'Ada Lovelace', phone: null, tracking_number: null });
  const charge = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(charge.amount, 4200);
  const bt = await stripe.balanceTransactions.retrieve(charge.balance_transaction);
  assert.equal(bt.amount, 4200);
  assert.equal(bt.currency, 'usd');
  assert.equal(bt.net, bt.amount - bt.fee);
});

test('a payment link passes its shipping to the session each payment opens', async () => {
  await assert.rejects(stripe.paymentLinks.create({
    line_items: [{ price: book.id, quantity: 1 }], shipping_options: [{ shipping_rate: euro.id }],
  }), (e) => e.statusCode === 400 && e.param === 'shipping_options[0][shipping_rate]');
  const link = await stripe.paymentLinks.create({
    line_items: [{ price: book.id, quantity: 1 }],
    shipping_options: [{ shipping_rate: standard.id }, { shipping_rate: express.id }],
    shipping_address_collection: { allowed_countries: ['US'] },
    after_completion: { type: 'redirect', redirect: { url: `http://127.0.0.1:${shopPort}/thanks` } },
  });
  assert.deepEqual(link.shipping_options, [
    { shipping_amount: 500, shipping_rate: standard.id }, { shipping_amount: 1500, shipping_rate: express.id },
  ]);
  assert.deepEqual(link.shipping_address_collection, { allowed_countries: ['US'] });
  assertStripeShape(link, 'payment_link');

  const page = await browser.newPage();
  await page.goto(link.url);
  assert.equal(await page.textContent('#total'), '20.00 USD');
  await page.check(`input[name="shipping_rate"][value="${express.id}"]`);
  await page.getByLabel('Name', { exact: true }).fill('Grace Hopper');
  await page.getByLabel('Address', { exact: true }).fill('1 Navy Way');
  await page.getByLabel('City').fill('Arlington');
  await page.getByLabel('State or region').fill('VA');
  await page.selectOption('#ship_country', 'US');
  await page.getByLabel('Card number').fill('4242424242424242');
  await page.getByLabel('Month (MM)').fill('10');
  await page.getByLabel('Year (YYYY)').fill('2035');
  await page.getByLabel('CVC').fill('321');
  await Promise.all([page.waitForURL(/\/thanks/), page.getByRole('button', { name: /^Pay/ }).click()]);
  await page.close();

  const [s] = (await stripe.checkout.sessions.list({ payment_link: link.id })).data;
  assert.equal(s.status, 'complete');
  assert.equal(s.amount_total, 1500 + 1500);
  assert.equal(s.total_details.amount_shipping, 1500);
  assert.equal(s.shipping_cost.shipping_rate, express.id);
  assert.equal(s.shipping_details.name, 'Grace Hopper');
  assert.equal(s.shipping_details.address.state, 'VA');
  assertStripeShape(s, 'checkout.session');
  const pi = await stripe.paymentIntents.retrieve(s.payment_intent);
  assert.equal(pi.amount, 3000);
  assert.equal(pi.shipping.address.country, 'US');
});

test('shipping rates: tax_code and fixed_amount[currency_options] on create, options added and changed by update', async () => {
  const r = await stripe.shippingRates.create({
    display_name: 'Intl', tax_code: 'txcd_92010001', tax_behavior: 'exclusive',
    fixed_amount: { amount: 900, currency: 'usd', currency_options: { EUR: { amount: 800, tax_behavior: 'inclusive' } } },
  });
  assert.equal(r.tax_code, 'txcd_92010001');
  assert.deepEqual(r.fixed_amount, { amount: 900, currency: 'usd', currency_options: { eur: { amount: 800, tax_behavior: 'inclusive' } } });
  assertStripeShape(r, 'shipping_rate');
  const u = await stripe.shippingRates.update(r.id, {
    fixed_amount: { currency_options: { eur: { amount: 850 }, gbp: { amount: 700 } } },
  });
  assert.deepEqual(u.fixed_amount.currency_options, {
    eur: { amount: 850, tax_behavior: 'inclusive' }, gbp: { amount: 700, tax_behavior: 'unspecified' },
  });
  assertStripeShape(u, 'shipping_rate');
  const u2 = await stripe.shippingRates.update(r.id, { fixed_amount: { currency_options: { gbp: { tax_behavior: 'exclusive' } } } });
  assert.deepEqual(u2.fixed_amount.currency_options.gbp, { amount: 700, tax_behavior: 'exclusive' });
  assert.deepEqual((await stripe.shippingRates.retrieve(r.id)).fixed_amount, u2.fixed_amount);
  // refusals change nothing
  const bad = [
    [{ fixed_amount: { currency_options: { eur: { tax_behavior: 'exclusive' } } } }, 'fixed_amount[currency_options][eur][tax_behavior]'],
    [{ fixed_amount: { currency_options: { chf: { tax_behavior: 'inclusive' } } } }, 'fixed_amount[currency_options][chf][amount]'],
    [{ fixed_amount: { currency_options: { usd: { amount: 1 } } } }, 'fixed_amount[currency_options][usd]'],
    [{ fixed_amount: { currency_options: { xyz: { amount: 1 } } } }, 'fixed_amount[currency_options][xyz]'],
    [{ fixed_amount: { currency_options: { eur: { amount: -1 } } } }, 'fixed_amount[currency_options][eur][amount]'],
  ];
  for (const [params, param] of bad) {
    await assert.rejects(stripe.shippingRates.update(r.id, { ...params, metadata: { x: '1' } }),
      (e) => e.statusCode === 400 && e.param === param, JSON.stringify(params));
  }
  const same = await stripe.shippingRates.retrieve(r.id);
  assert.deepEqual(same.fixed_amount, u2.fixed_amount);
  assert.deepEqual(same.metadata, {});
  await assert.rejects(stripe.shippingRates.create({ display_name: 'X', tax_code: 'txcd_nope', fixed_amount: { amount: 1, currency: 'usd' } }),
    (e) => e.statusCode === 404 && e.code === 'resource_missing' && e.param === 'tax_code'); // as a product's
  await assert.rejects(stripe.shippingRates.update(r.id, { tax_code: 'txcd_92010001' }), (e) => e.statusCode === 400 && e.code === 'parameter_unknown');
  const plain = await stripe.shippingRates.create({ display_name: 'Plain', fixed_amount: { amount: 100, currency: 'usd' } });
  assert.equal(plain.tax_code, null);
  assert.equal(plain.fixed_amount.currency_options, undefined);
});
