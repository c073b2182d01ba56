'use strict';
// Checkout Session parameters about the buyer, through stripe-node: billing_address_collection,
// phone_number_collection, customer_creation, customer_update, locale, custom_text and
// after_expiration (its recovery URL opens a new session). Sessions are paid on Tender's checkout page in headless
// Chromium (Debian's chromium + playwright-core); the test then checks the session, the
// customer made or updated, the PaymentMethod's billing details and the PaymentIntent.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const {
  startTender, stopAll, assertStripeShape, eventsAbout, launchChromium, startShop, waitFor,
  invoiceDebitSettled, invoiceLatestPi,
} = require('./helpers');
const { billingShape } = require('./billing_helpers');

let env;
let stripe;
let browser;
let shop;
let shopPort;
let book; // 15.00 usd

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

async function fillCard(page, name) {
  await page.getByLabel('Email').fill('ada@example.com');
  await page.getByLabel('Name on card').fill(name);
  await page.getByLabel('Card number').fill('4242424242424242');
  await page.getByLabel('Month (MM)').fill('10');
  await page.getByLabel('Year (YYYY)').fill('2035');
  await page.getByLabel('CVC').fill('321');
}

async function fillBilling(page) {
  await page.getByLabel('Billing address line 1', { exact: true }).fill('10 Downing Street');
  await page.getByLabel('Billing city', { exact: true }).fill('London');
  await page.getByLabel('Billing postal code', { exact: true }).fill('SW1A 2AA');
  await page.getByLabel('Billing country (two-letter code)', { exact: true }).fill('GB');
}

const LONDON = { city: 'London', country: 'GB', line1: '10 Downing Street', line2: null, postal_code: 'SW1A 2AA', state: null };

test('the settings are kept and shown as Stripe shows them; defaults stay as before', async () => {
  const plain = await stripe.checkout.sessions.create(sessionParams());
  assert.equal(plain.billing_address_collection, null);
  assert.deepEqual(plain.phone_number_collection, { enabled: false });
  assert.equal(plain.customer_creation, 'if_required');
  assert.equal(plain.locale, null);
  assert.equal(plain.after_expiration, null);
  assert.deepEqual(plain.custom_text, { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null });
  assertStripeShape(plain, 'checkout.session');

  const s = await stripe.checkout.sessions.create(sessionParams({
    billing_address_collection: 'required',
    phone_number_collection: { enabled: true },
    customer_creation: 'always',
    locale: 'fr',
    custom_text: { submit: { message: 'We ship within 2 days.' }, after_submit: { message: 'Thanks!' } },
    after_expiration: { recovery: { enabled: true, allow_promotion_codes: true } },
  }));
  assert.equal(s.billing_address_collection, 'required');
  assert.deepEqual(s.phone_number_collection, { enabled: true });
  assert.equal(s.customer_creation, 'always');
  assert.equal(s.locale, 'fr');
  assert.deepEqual(s.custom_text, {
    after_submit: { message: 'Thanks!' }, shipping_address: null,
    submit: { message: 'We ship within 2 days.' }, terms_of_service_acceptance: null,
  });
  assert.deepEqual(s.after_expiration, { recovery: { allow_promotion_codes: true, enabled: true, expires_at: null, url: null } });
  assertStripeShape(s, 'checkout.session');
  assert.deepEqual(await stripe.checkout.sessions.retrieve(s.id), s);
});

test('update: metadata merged and kept at any status; what only a Stripe.js page takes is refused', async () => {
  const s = await stripe.checkout.sessions.create(sessionParams({ metadata: { order: '17', cart: 'a' } }));
  const u = await stripe.checkout.sessions.update(s.id, { metadata: { cart: '', note: 'gift' } });
  assert.deepEqual(u.metadata, { order: '17', note: 'gift' });
  assert.equal(u.amount_total, s.amount_total);
  assertStripeShape(u, 'checkout.session');
  assert.deepEqual(await stripe.checkout.sessions.retrieve(s.id), u);
  const book2 = { id: (await stripe.checkout.sessions.listLineItems(s.id)).data[0].id, quantity: 3 };
  const refusals = [
    [{ line_items: [book2] }, 'line_items'],
    [{ shipping_options: [{ shipping_rate: 'shr_nope' }] }, 'shipping_options'],
    [{ collected_information: { shipping_details: { name: 'A', address: { line1: '1 Main', country: 'US' } } } }, 'collected_information'],
    [{ payment_intent_data: { description: 'x' } }, 'payment_intent_data'],
  ];
  for (const [params, param] of refusals) {
    await assert.rejects(stripe.checkout.sessions.update(s.id, params), (e) => {
      assert.equal(e.statusCode, 400, param);
      assert.equal(e.param, param);
      assert.match(e.message, /ui_mode/);
      return true;
    });
  }
  await assert.rejects(stripe.checkout.sessions.update(s.id, { metadata: { x: '1' }, bogus: 1 }), (e) => e.statusCode === 400 && e.code === 'parameter_unknown');
  await assert.rejects(stripe.checkout.sessions.update('cs_test_nope', { metadata: { x: '1' } }), (e) => e.statusCode === 404);
  await stripe.checkout.sessions.expire(s.id);
  const e = await stripe.checkout.sessions.update(s.id, { metadata: '' });
  assert.equal(e.status, 'expired');
  assert.deepEqual(e.metadata, {});
  assert.deepEqual((await stripe.checkout.sessions.retrieve(s.id)).metadata, {});
});

test('refused settings make no session', async () => {
  const before = (await stripe.checkout.sessions.list({ limit: 100 })).data.length;
  const monthly = await stripe.prices.create({ currency: 'usd', unit_amount: 900, recurring: { interval: 'month' }, product_data: { name: 'Box' } });
  const refusals = [
    [{ billing_address_collection: 'sometimes' }, 'billing_address_collection'],
    [{ locale: 'xx' }, 'locale'],
    [{ customer_update: { name: 'auto' } }, 'customer_update'],
    [{ customer_creation: 'always', mode: 'subscription', line_items: [{ price: monthly.id, quantity: 1 }] }, 'customer_creation'],
    [{ custom_text: { shipping_address: { message: 'x' } } }, 'custom_text[shipping_address]'],
    [{ custom_text: { submit: { message: 'x'.repeat(1201) } } }, 'custom_text[submit][message]'],
    [{ phone_number_collection: { enabled: '' } }, 'phone_number_collection[enabled]'],
    [{ after_expiration: { recovery: { allow_promotion_codes: true } } }, 'after_expiration[recovery][enabled]'],
  ];
  for (const [extra, param] of refusals) {
    await assert.rejects(stripe.checkout.sessions.create(sessionParams(extra)).then(() => { throw new Error(`accepted: ${JSON.stringify(extra)}`); }), (e) => {
      assert.equal(e.statusCode, 400, JSON.stringify(extra));
      assert.equal(e.param, param, JSON.stringify(extra));
      return true;
    });
  }
  assert.equal((await stripe.checkout.sessions.list({ limit: 100 })).data.length, before);
});

test('address, phone and a customer made for a guest payment, from the page', async () => {
  const s = await stripe.checkout.sessions.create(sessionParams({
    billing_address_collection: 'required',
    phone_number_collection: { enabled: true },
    customer_creation: 'always',
    custom_text: { submit: { message: 'We ship within 2 days.' }, after_submit: { message: 'Thanks!' } },
  }));
  const customers = (await stripe.customers.list({ limit: 100 })).data.length;

  // the server checks what the page asks for: no phone, then no address, write nothing
  const path = new URL(s.url).pathname;
  const form = new URLSearchParams({
    'payment_method_data[type]': 'card', 'payment_method_data[card][number]': '4242424242424242',
    'payment_method_data[card][exp_month]': '10', 'payment_method_data[card][exp_year]': '2035',
    'payment_method_data[card][cvc]': '123',
    'payment_method_data[billing_details][address][line1]': '1 Main St',
    'payment_method_data[billing_details][address][city]': 'Springfield',
    'payment_method_data[billing_details][address][country]': 'US',
  });
  let refused = await env.request({ method: 'POST', path, body: form.toString() });
  assert.equal(refused.status, 400);
  assert.match(refused.body, /phone number/);
  form.set('payment_method_data[billing_details][phone]', '+15555550100');
  form.delete('payment_method_data[billing_details][address][city]');
  refused = await env.request({ method: 'POST', path, body: form.toString() });
  assert.equal(refused.status, 400);
  assert.match(refused.body, /billing address/);
  const same = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(same.payment_intent, null);
  assert.equal(same.customer, null);
  assert.equal(same.customer_details, null);
  assert.equal((await stripe.customers.list({ limit: 100 })).data.length, customers);

  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.textContent('#custom-text-submit'), 'We ship within 2 days.');
  assert.equal(await page.textContent('#custom-text-after-submit'), 'Thanks!');
  await fillCard(page, 'Ada Lovelace');
  await fillBilling(page);
  await page.getByLabel('Phone number').fill('+442079460000');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /^Pay/ }).click()]);
  await page.close();

  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'paid');
  assert.match(done.customer, /^cus_/);
  assert.deepEqual(done.customer_details, {
    address: LONDON, email: 'ada@example.com', name: 'Ada Lovelace', phone: '+442079460000',
    tax_exempt: 'none', tax_ids: [],
  });
  assertStripeShape(done, 'checkout.session');
  const ev = (await stripe.events.list({ type: 'checkout.session.completed', limit: 10 })).data.find((e) => e.data.object.id === s.id);
  assert.equal(ev.data.object.customer_details.phone, '+442079460000');
  assert.equal(ev.data.object.customer, done.customer);

  const cus = await stripe.customers.retrieve(done.customer);
  assert.equal(cus.email, 'ada@example.com');
  assert.equal(cus.name, 'Ada Lovelace');
  assert.equal(cus.phone, '+442079460000');
  assert.deepEqual(cus.address, LONDON);
  assertStripeShape(cus, 'customer');
  const created = (await stripe.events.list({ type: 'customer.created', limit: 10 })).data.find((e) => e.data.object.id === cus.id);
  assert.ok(created);

  const pi = await stripe.paymentIntents.retrieve(done.payment_intent, { expand: ['payment_method'] });
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.amount, 3000);
  assert.equal(pi.customer, cus.id);
  assert.deepEqual(pi.payment_method.billing_details, {
    address: LONDON, email: 'ada@example.com', name: 'Ada Lovelace', phone: '+442079460000', tax_id: null,
  });
});

test('a guest payment with customer_creation=if_required makes no customer; auto keeps what was given', async () => {
  const s = await stripe.checkout.sessions.create(sessionParams({ billing_address_collection: 'auto' }));
  const customers = (await stripe.customers.list({ limit: 100 })).data.length;
  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.$('#ba_line1'), null); // auto: no address asked for a card payment
  assert.equal(await page.$('#phone'), null);
  await fillCard(page, 'Grace Hopper');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /^Pay/ }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.customer, null);
  assert.equal(done.customer_details.phone, null);
  assert.equal(done.customer_details.address, null);
  assert.equal(done.billing_address_collection, 'auto');
  assertStripeShape(done, 'checkout.session');
  assert.equal((await stripe.customers.list({ limit: 100 })).data.length, customers);
});

test('customer_update=auto saves the name and address typed onto the given customer; never leaves it', async () => {
  const cus = await stripe.customers.create({ name: 'Old Name', email: 'old@example.com' });
  const s = await stripe.checkout.sessions.create(sessionParams({
    customer: cus.id, billing_address_collection: 'required', customer_update: { name: 'auto', address: 'auto' },
  }));
  const page = await browser.newPage();
  await page.goto(s.url);
  await fillCard(page, 'New Name');
  await fillBilling(page);
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /^Pay/ }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.customer, cus.id);
  assert.deepEqual(done.customer_details.address, LONDON);
  assertStripeShape(done, 'checkout.session');
  const after = await stripe.customers.retrieve(cus.id);
  assert.equal(after.name, 'New Name');
  assert.deepEqual(after.address, LONDON);
  assert.equal(after.email, 'old@example.com');
  const upd = (await stripe.events.list({ type: 'customer.updated', limit: 10 })).data.find((e) => e.data.object.id === cus.id);
  assert.equal(upd.data.object.name, 'New Name');

  // never (the default): the customer stays as it is
  const other = await stripe.customers.create({ name: 'Kept Name' });
  const s2 = await stripe.checkout.sessions.create(sessionParams({ customer: other.id, billing_address_collection: 'required' }));
  const p2 = await browser.newPage();
  await p2.goto(s2.url);
  await fillCard(p2, 'Typed Name');
  await fillBilling(p2);
  await Promise.all([p2.waitForURL(/\/ok\?/), p2.getByRole('button', { name: /^Pay/ }).click()]);
  await p2.close();
  const kept = await stripe.customers.retrieve(other.id);
  assert.equal(kept.name, 'Kept Name');
  assert.equal(kept.address, null);
  assert.equal((await stripe.checkout.sessions.retrieve(s2.id)).customer_details.name, 'Typed Name');
});

test('a subscription made by checkout gets the phone and billing address on its new customer', async () => {
  const monthly = await stripe.prices.create({ currency: 'usd', unit_amount: 900, recurring: { interval: 'month' }, product_data: { name: 'Club' } });
  const s = await stripe.checkout.sessions.create({
    mode: 'subscription', line_items: [{ price: monthly.id, quantity: 1 }],
    success_url: `http://127.0.0.1:${shopPort}/ok?session_id={CHECKOUT_SESSION_ID}`,
    billing_address_collection: 'required', phone_number_collection: { enabled: true },
  });
  assert.equal(s.customer_creation, 'if_required');
  const page = await browser.newPage();
  await page.goto(s.url);
  await fillCard(page, 'Sub Buyer');
  await fillBilling(page);
  await page.getByLabel('Phone number').fill('+15555550111');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /^Subscribe/ }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.customer_details.phone, '+15555550111');
  assert.deepEqual(done.customer_details.address, LONDON);
  assertStripeShape(done, 'checkout.session');
  const cus = await stripe.customers.retrieve(done.customer);
  assert.equal(cus.phone, '+15555550111');
  assert.deepEqual(cus.address, LONDON);
});

test('setup mode with customer_creation=always saves the card on a new customer', async () => {
  const s = await stripe.checkout.sessions.create({
    mode: 'setup', currency: 'usd', customer_creation: 'always',
    success_url: `http://127.0.0.1:${shopPort}/ok?session_id={CHECKOUT_SESSION_ID}`,
  });
  const page = await browser.newPage();
  await page.goto(s.url);
  await fillCard(page, 'Setup Buyer');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /^Save card/ }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.match(done.customer, /^cus_/);
  const si = await stripe.setupIntents.retrieve(done.setup_intent);
  assert.equal(si.status, 'succeeded');
  assert.equal(si.customer, done.customer);
  const pms = await stripe.paymentMethods.list({ customer: done.customer, type: 'card' });
  assert.equal(pms.data.length, 1);
  assertStripeShape(done, 'checkout.session');
});

const FIELDS = [
  { key: 'size', label: { type: 'custom', custom: 'Size' }, type: 'dropdown', dropdown: { options: [{ label: 'Small', value: 'S' }, { label: 'Medium', value: 'M' }] } },
  { key: 'engraving', label: { type: 'custom', custom: 'Engraving' }, type: 'text', optional: true, text: { minimum_length: 2, maximum_length: 10 } },
  { key: 'ref', label: { type: 'custom', custom: 'Order reference' }, type: 'numeric', numeric: { maximum_length: 5 } },
];

test('custom_fields: refused definitions make no session', async () => {
  const before = (await stripe.checkout.sessions.list({ limit: 100 })).data.length;
  const text = (key) => ({ key, label: { type: 'custom', custom: key }, type: 'text' });
  const refusals = [
    [[text('a'), text('b'), text('c'), text('d')], 'custom_fields'],
    [[text('a-b')], 'custom_fields[0][key]'],
    [[text('a'), text('a')], 'custom_fields[1][key]'],
    [[{ ...text('a'), numeric: { maximum_length: 3 } }], 'custom_fields[0][numeric]'],
    [[{ ...text('a'), type: 'dropdown' }], 'custom_fields[0][dropdown][options]'],
    [[{ ...text('a'), type: 'dropdown', dropdown: { options: [{ label: 'X', value: 'x' }, { label: 'Y', value: 'x' }] } }], 'custom_fields[0][dropdown][options]'],
    [[{ ...text('a'), text: { minimum_length: 5, maximum_length: 3 } }], 'custom_fields[0][text]'],
    [[{ ...text('a'), text: { maximum_length: 256 } }], 'custom_fields[0][text]'],
    [[{ key: 'a', label: { type: 'custom', custom: 'x'.repeat(51) }, type: 'text' }], 'custom_fields[0][label][custom]'],
    [[{ ...text('a'), type: 'dropdown', dropdown: { options: [{ label: 'X', value: 'x' }], default_value: 'y' } }], 'custom_fields[0][dropdown][default_value]'],
    [[{ ...text('a'), type: 'numeric', numeric: { default_value: '12a' } }], 'custom_fields[0][numeric][default_value]'],
    [[{ ...text('a'), text: { maximum_length: 3, default_value: 'abcd' } }], 'custom_fields[0][text][default_value]'],
  ];
  for (const [custom_fields, param] of refusals) {
    await assert.rejects(stripe.checkout.sessions.create(sessionParams({ custom_fields })).then(() => { throw new Error(`accepted: ${JSON.stringify(custom_fields)}`); }), (e) => {
      assert.equal(e.statusCode, 400, JSON.stringify(custom_fields));
      assert.equal(e.param, param, JSON.stringify(custom_fields));
      return true;
    });
  }
  assert.equal((await stripe.checkout.sessions.list({ limit: 100 })).data.length, before);
});

test('custom_fields: shown on the page, checked, and the completed session carries the values', async () => {
  const s = await stripe.checkout.sessions.create(sessionParams({ custom_fields: FIELDS }));
  assert.deepEqual(s.custom_fields, [
    { dropdown: { default_value: null, options: [{ label: 'Small', value: 'S' }, { label: 'Medium', value: 'M' }], value: null }, key: 'size',
      label: { custom: 'Size', type: 'custom' }, numeric: null, optional: false, text: null, type: 'dropdown' },
    { dropdown: null, key: 'engraving', label: { custom: 'Engraving', type: 'custom' }, numeric: null, optional: true,
      text: { default_value: null, maximum_length: 10, minimum_length: 2, value: null }, type: 'text' },
    { dropdown: null, key: 'ref', label: { custom: 'Order reference', type: 'custom' }, numeric: { default_value: null, maximum_length: 5, minimum_length: null, value: null },
      optional: false, text: null, type: 'numeric' },
  ]);
  assertStripeShape(s, 'checkout.session');

  // the server checks each field again: nothing is written for a refused form
  const path = new URL(s.url).pathname;
  const form = new URLSearchParams({
    'payment_method_data[type]': 'card', 'payment_method_data[card][number]': '4242424242424242',
    'payment_method_data[card][exp_month]': '10', 'payment_method_data[card][exp_year]': '2035',
    'payment_method_data[card][cvc]': '123', 'custom_fields[ref]': '123',
  });
  const tries = [
    [{}, /Fill in Size/],
    [{ 'custom_fields[size]': 'XL' }, /options of Size/],
    [{ 'custom_fields[size]': 'S', 'custom_fields[ref]': '12a' }, /digits only/],
    [{ 'custom_fields[size]': 'S', 'custom_fields[ref]': '123456' }, /Order reference takes 0 to 5/],
    [{ 'custom_fields[size]': 'S', 'custom_fields[engraving]': 'x' }, /Engraving takes 2 to 10/],
  ];
  for (const [extra, re] of tries) {
    const f = new URLSearchParams(form);
    for (const [k, v] of Object.entries(extra)) f.set(k, v);
    const res = await env.request({ method: 'POST', path, body: f.toString() });
    assert.equal(res.status, 400, JSON.stringify(extra));
    assert.match(res.body, re);
  }
  assert.equal((await stripe.checkout.sessions.retrieve(s.id)).payment_intent, null);

  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.textContent('label[for="cf_engraving"]'), 'Engraving (optional)');
  await fillCard(page, 'Ada Lovelace');
  await page.selectOption('#cf_size', 'M');
  await page.getByLabel('Engraving').fill('Für Ada');
  await page.getByLabel('Order reference').fill('4711');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /^Pay/ }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.custom_fields[0].dropdown.value, 'M');
  assert.equal(done.custom_fields[1].text.value, 'Für Ada');
  assert.equal(done.custom_fields[2].numeric.value, '4711');
  assertStripeShape(done, 'checkout.session');
  const ev = (await stripe.events.list({ type: 'checkout.session.completed', limit: 10 })).data.find((e) => e.data.object.id === s.id);
  assert.deepEqual(ev.data.object.custom_fields, done.custom_fields);

  // an optional field left empty stays null
  const s2 = await stripe.checkout.sessions.create(sessionParams({ custom_fields: FIELDS }));
  const p2 = await browser.newPage();
  await p2.goto(s2.url);
  await fillCard(p2, 'Grace Hopper');
  await p2.selectOption('#cf_size', 'S');
  await p2.getByLabel('Order reference').fill('1');
  await Promise.all([p2.waitForURL(/\/ok\?/), p2.getByRole('button', { name: /^Pay/ }).click()]);
  await p2.close();
  const done2 = await stripe.checkout.sessions.retrieve(s2.id);
  assert.equal(done2.custom_fields[1].text.value, null);
  assert.equal(done2.custom_fields[0].dropdown.value, 'S');
});

test('consent_collection and tax_id_collection: the terms ticked, promotions opted into, a tax id saved on the customer made', async () => {
  await assert.rejects(stripe.checkout.sessions.create(sessionParams({ custom_text: { terms_of_service_acceptance: { message: 'x' } } })),
    (e) => e.statusCode === 400 && e.param === 'custom_text[terms_of_service_acceptance]');
  const someone = await stripe.customers.create({ name: 'Someone' });
  await assert.rejects(stripe.checkout.sessions.create(sessionParams({ customer: someone.id, tax_id_collection: { enabled: true } })),
    (e) => e.statusCode === 400 && e.param === 'tax_id_collection[enabled]');
  await assert.rejects(stripe.checkout.sessions.create(sessionParams({ consent_collection: { terms_of_service: 'maybe' } })),
    (e) => e.statusCode === 400 && e.param === 'consent_collection[terms_of_service]');

  const s = await stripe.checkout.sessions.create(sessionParams({
    consent_collection: { terms_of_service: 'required', promotions: 'auto' },
    custom_text: { terms_of_service_acceptance: { message: 'Read our terms at example.com/terms.' } },
    tax_id_collection: { enabled: true },
    customer_creation: 'always',
  }));
  assert.deepEqual(s.consent_collection, { payment_method_reuse_agreement: null, promotions: 'auto', terms_of_service: 'required' });
  assert.equal(s.consent, null);
  assert.equal(s.tax_id_collection.enabled, true);
  assert.deepEqual(s.custom_text.terms_of_service_acceptance, { message: 'Read our terms at example.com/terms.' });
  assertStripeShape(s, 'checkout.session');

  const path = new URL(s.url).pathname;
  const form = new URLSearchParams({
    'payment_method_data[type]': 'card', 'payment_method_data[card][number]': '4242424242424242',
    'payment_method_data[card][exp_month]': '10', 'payment_method_data[card][exp_year]': '2035',
    'payment_method_data[card][cvc]': '123',
  });
  let res = await env.request({ method: 'POST', path, body: form.toString() });
  assert.equal(res.status, 400);
  assert.match(res.body, /terms of service/);
  form.set('consent[terms_of_service]', 'accepted');
  form.set('tax_id_data[0][type]', 'eu_vat');
  form.set('tax_id_data[0][value]', 'nonsense');
  res = await env.request({ method: 'POST', path, body: form.toString() });
  assert.equal(res.status, 400);
  assert.match(res.body, /tax/i);
  const same = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(same.payment_intent, null);
  assert.equal(same.customer, null);

  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.textContent('#custom-text-terms'), 'Read our terms at example.com/terms.');
  await fillCard(page, 'Vat Payer Ltd');
  await page.check('#terms');
  await page.check('#promotions');
  await page.selectOption('#tax_type', 'gb_vat');
  await page.getByLabel('Tax ID (optional)').fill('GB123456789');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /^Pay/ }).click()]);
  await page.close();

  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.deepEqual(done.consent, { promotions: 'opt_in', terms_of_service: 'accepted' });
  assert.deepEqual(done.customer_details.tax_ids, [{ type: 'gb_vat', value: 'GB123456789' }]);
  assertStripeShape(done, 'checkout.session');
  const ids = await stripe.customers.listTaxIds(done.customer);
  assert.deepEqual(ids.data.map((t) => [t.type, t.value]), [['gb_vat', 'GB123456789']]);

  // no tick for promotions: opt_out; no tax id given: none
  const s2 = await stripe.checkout.sessions.create(sessionParams({
    consent_collection: { terms_of_service: 'required', promotions: 'auto' }, tax_id_collection: { enabled: true },
  }));
  const p2 = await browser.newPage();
  await p2.goto(s2.url);
  await fillCard(p2, 'Plain Buyer');
  await p2.check('#terms');
  await Promise.all([p2.waitForURL(/\/ok\?/), p2.getByRole('button', { name: /^Pay/ }).click()]);
  await p2.close();
  const done2 = await stripe.checkout.sessions.retrieve(s2.id);
  assert.deepEqual(done2.consent, { promotions: 'opt_out', terms_of_service: 'accepted' });
  assert.deepEqual(done2.customer_details.tax_ids, []);
  assert.equal(done2.customer, null);
  assertStripeShape(done2, 'checkout.session');
});

test('invoice_creation: a paid invoice for the payment, named in the session', async () => {
  const monthly = await stripe.prices.create({ currency: 'usd', unit_amount: 900, recurring: { interval: 'month' }, product_data: { name: 'Box' } });
  await assert.rejects(stripe.checkout.sessions.create({
    mode: 'subscription', line_items: [{ price: monthly.id, quantity: 1 }], success_url: 'https://example.com/ok',
    invoice_creation: { enabled: true },
  }), (e) => e.statusCode === 400 && e.param === 'invoice_creation');
  const coupon = await stripe.coupons.create({ percent_off: 10 });
  await assert.rejects(stripe.checkout.sessions.create(sessionParams({ invoice_creation: { enabled: true }, discounts: [{ coupon: coupon.id }] })),
    (e) => e.statusCode === 400 && e.param === 'invoice_creation[enabled]');

  // account_tax_ids: the merchant's own tax ids (owner[type]=self) only
  const own = await stripe.taxIds.create({ type: 'eu_vat', value: 'DE123456789' });
  await assert.rejects(stripe.checkout.sessions.create(sessionParams({ invoice_creation: { enabled: true, invoice_data: { account_tax_ids: ['txi_missing'] } } })),
    (e) => e.statusCode === 400 && e.param === 'invoice_creation[invoice_data][account_tax_ids]');
  const s = await stripe.checkout.sessions.create(sessionParams({
    invoice_creation: {
      enabled: true,
      invoice_data: {
        account_tax_ids: [own.id],
        description: 'Your books', metadata: { order: '42' }, footer: 'Thank you',
        custom_fields: [{ name: 'PO', value: '7' }], rendering_options: { amount_tax_display: 'exclude_tax' },
      },
    },
  }));
  assert.deepEqual(s.invoice_creation, {
    enabled: true,
    invoice_data: {
      account_tax_ids: [own.id], custom_fields: [{ name: 'PO', value: '7' }], description: 'Your books', footer: 'Thank you',
      issuer: null, metadata: { order: '42' }, rendering_options: { amount_tax_display: 'exclude_tax' },
    },
  });
  assert.equal(s.invoice, null);
  assertStripeShape(s, 'checkout.session');

  const page = await browser.newPage();
  await page.goto(s.url);
  await fillCard(page, 'Invoice Buyer');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /^Pay/ }).click()]);
  await page.close();

  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.match(done.customer, /^cus_/);
  assert.match(done.invoice, /^in_/);
  assertStripeShape(done, 'checkout.session');
  const inv = await stripe.invoices.retrieve(done.invoice);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.customer, done.customer);
  assert.equal(inv.total, 3000);
  assert.equal(inv.amount_paid, 3000);
  assert.equal(inv.amount_remaining, 0);
  assert.equal(inv.description, 'Your books');
  assert.deepEqual(inv.metadata, { order: '42' });
  assert.deepEqual(inv.account_tax_ids, [own.id]);
  assert.ok(inv.number);
  assert.equal(inv.currency, 'usd');
  // (the invoice is invoices.c's own object, rendered as every Tender invoice is)
  const full = await stripe.invoices.retrieve(done.invoice, { expand: ['payments'] });
  assert.equal(full.payments.data[0].payment.payment_intent, done.payment_intent);
  const lines = await stripe.invoices.listLineItems(inv.id);
  assert.equal(lines.data.length, 1);
  assert.equal(lines.data[0].amount, 3000);
  assert.equal(lines.data[0].quantity, 2);
  const types = new Set((await stripe.events.list({ limit: 100 })).data.filter((e) => e.data.object.id === inv.id).map((e) => e.type));
  for (const t of ['invoice.created', 'invoice.finalized', 'invoice.paid', 'invoice.payment_succeeded']) assert.ok(types.has(t), t);
  const ev = (await stripe.events.list({ type: 'checkout.session.completed', limit: 10 })).data.find((e) => e.data.object.id === s.id);
  assert.equal(ev.data.object.invoice, inv.id);

  // the session's ids expand into their objects, at the top and in a list
  const ex = await stripe.checkout.sessions.retrieve(s.id, { expand: ['payment_intent.latest_charge', 'customer', 'invoice'] });
  assert.equal(ex.payment_intent.object, 'payment_intent');
  assert.equal(ex.payment_intent.id, done.payment_intent);
  assert.equal(ex.payment_intent.amount_received, 3000);
  assert.equal(ex.payment_intent.latest_charge.object, 'charge');
  assert.equal(ex.customer.object, 'customer');
  assert.equal(ex.customer.id, done.customer);
  assert.equal(ex.invoice.object, 'invoice');
  assert.equal(ex.invoice.id, inv.id);
  assert.equal(ex.setup_intent, null);
  assertStripeShape({ ...ex.payment_intent, latest_charge: ex.payment_intent.latest_charge.id }, 'payment_intent');
  assertStripeShape(ex.customer, 'customer');
  const listed = await stripe.checkout.sessions.list({ payment_intent: done.payment_intent, expand: ['data.payment_intent'] });
  assert.equal(listed.data[0].payment_intent.id, done.payment_intent);
  assert.equal(typeof listed.data[0].customer, 'string');

  // a customer with a credit balance: the invoice records the payment (it charged the whole
  // total), and the balance stays for the customer's next invoice
  const cus = await stripe.customers.create({ email: 'credit@example.com' });
  await stripe.customers.createBalanceTransaction(cus.id, { amount: -500, currency: 'usd' });
  const s2 = await stripe.checkout.sessions.create(sessionParams({ customer: cus.id, invoice_creation: { enabled: true } }));
  const page2 = await browser.newPage();
  await page2.goto(s2.url);
  await fillCard(page2, 'Credit Buyer');
  await Promise.all([page2.waitForURL(/\/ok\?/), page2.getByRole('button', { name: /^Pay/ }).click()]);
  await page2.close();
  const done2 = await stripe.checkout.sessions.retrieve(s2.id);
  assert.equal((await stripe.paymentIntents.retrieve(done2.payment_intent)).amount_received, 3000);
  const inv2 = await stripe.invoices.retrieve(done2.invoice);
  assert.equal(inv2.status, 'paid');
  assert.equal(inv2.amount_paid, 3000);
  assert.equal(inv2.amount_due, 3000);
  assert.equal(inv2.starting_balance, 0);
  assert.equal(inv2.ending_balance, 0);
  assert.equal((await stripe.customers.retrieve(cus.id)).balance, -500);
});

test('setup_intent_data: the SetupIntent the page makes carries its description and metadata', async () => {
  await assert.rejects(stripe.checkout.sessions.create(sessionParams({ setup_intent_data: { description: 'x' } })),
    (e) => e.statusCode === 400 && e.param === 'setup_intent_data');
  const cus = await stripe.customers.create({ email: 'saver@example.com' });
  const s = await stripe.checkout.sessions.create({
    mode: 'setup', currency: 'usd', customer: cus.id,
    success_url: `http://127.0.0.1:${shopPort}/ok?session_id={CHECKOUT_SESSION_ID}`,
    setup_intent_data: { description: 'Card for later', metadata: { plan: 'gold' } },
  });
  assertStripeShape(s, 'checkout.session');
  const page = await browser.newPage();
  await page.goto(s.url);
  await fillCard(page, 'Saver');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /^Save card/ }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  const si = await stripe.setupIntents.retrieve(done.setup_intent);
  assert.equal(si.status, 'succeeded');
  assert.equal(si.description, 'Card for later');
  assert.deepEqual(si.metadata, { plan: 'gold' });
  assert.equal(si.customer, cus.id);
});

test('payment_method_options[card]: 3-D Secure asked for every card, and the card saved on the customer for later', async () => {
  await assert.rejects(stripe.checkout.sessions.create({
    mode: 'setup', currency: 'usd', success_url: 'https://example.com/ok',
    payment_method_options: { card: { setup_future_usage: 'off_session' } },
  }), (e) => e.statusCode === 400 && e.param === 'payment_method_options[card][setup_future_usage]');
  const s = await stripe.checkout.sessions.create(sessionParams({
    payment_method_options: { card: { request_three_d_secure: 'any', setup_future_usage: 'off_session' } },
  }));
  assert.deepEqual(s.payment_method_options, { card: { request_three_d_secure: 'any', setup_future_usage: 'off_session' } });
  assertStripeShape(s, 'checkout.session');
  const page = await browser.newPage();
  await page.goto(s.url);
  await fillCard(page, 'Careful Buyer');
  await Promise.all([page.waitForURL(/\/3ds\//), page.getByRole('button', { name: /Pay/ }).click()]);
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: 'Complete authentication' }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.match(done.customer, /^cus_/);
  assertStripeShape(done, 'checkout.session');
  const pi = await stripe.paymentIntents.retrieve(done.payment_intent);
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.setup_future_usage, 'off_session');
  assert.equal(pi.customer, done.customer);
  assert.equal(pi.payment_method_options.card.request_three_d_secure, 'any');
  const pms = await stripe.paymentMethods.list({ customer: done.customer, type: 'card' });
  assert.deepEqual(pms.data.map((p) => p.id), [pi.payment_method]);
});

test('payment_method_collection=if_required: a trial started without a card', async () => {
  await assert.rejects(stripe.checkout.sessions.create(sessionParams({ payment_method_collection: 'if_required' })),
    (e) => e.statusCode === 400 && e.param === 'payment_method_collection');
  const monthly = await stripe.prices.create({ currency: 'usd', unit_amount: 900, recurring: { interval: 'month' }, product_data: { name: 'Trial club' } });
  const s = await stripe.checkout.sessions.create({
    mode: 'subscription', line_items: [{ price: monthly.id, quantity: 1 }],
    success_url: `http://127.0.0.1:${shopPort}/ok?session_id={CHECKOUT_SESSION_ID}`,
    subscription_data: { trial_period_days: 14 }, payment_method_collection: 'if_required',
  });
  assert.equal(s.payment_method_collection, 'if_required');
  assertStripeShape(s, 'checkout.session');
  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.$('#number'), null);
  await page.getByLabel('Email').fill('trial@example.com');
  await page.getByLabel('Name on card').fill('Trial Buyer');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /^Start trial/ }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'no_payment_required');
  assertStripeShape(done, 'checkout.session');
  const sub = await stripe.subscriptions.retrieve(done.subscription);
  assert.equal(sub.status, 'trialing');
  assert.equal(sub.default_payment_method, null);
  const pms = await stripe.paymentMethods.list({ customer: done.customer, type: 'card' });
  assert.equal(pms.data.length, 0);
  assert.equal((await stripe.customers.retrieve(done.customer)).email, 'trial@example.com');

  // always (the default): the card is asked for even with a trial
  const s2 = await stripe.checkout.sessions.create({
    mode: 'subscription', line_items: [{ price: monthly.id, quantity: 1 }], success_url: 'https://example.com/ok',
    subscription_data: { trial_period_days: 14 },
  });
  assert.equal(s2.payment_method_collection, 'always');
  const p2 = await browser.newPage();
  await p2.goto(s2.url);
  assert.notEqual(await p2.$('#number'), null);
  await p2.close();
});

test('payment_intent_data[setup_future_usage, metadata, shipping]: the PaymentIntent carries them, the card saved on a customer made', async () => {
  await assert.rejects(stripe.checkout.sessions.create({
    mode: 'setup', currency: 'usd', success_url: 'https://example.com/ok',
    payment_intent_data: { setup_future_usage: 'off_session' },
  }), (e) => e.statusCode === 400 && /payment_intent_data/.test(e.param));
  const ship = { name: 'Ada L', address: { line1: '1 Main St', city: 'Springfield', country: 'US', postal_code: '62701', state: 'IL' } };
  const s = await stripe.checkout.sessions.create(sessionParams({
    payment_intent_data: { setup_future_usage: 'on_session', metadata: { order: '42' }, shipping: ship, description: 'Books' },
  }));
  assert.equal(s.payment_method_options, null);
  assertStripeShape(s, 'checkout.session');
  const page = await browser.newPage();
  await page.goto(s.url);
  await fillCard(page, 'Saving Buyer');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /Pay/ }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.match(done.customer, /^cus_/);
  const pi = await stripe.paymentIntents.retrieve(done.payment_intent);
  assert.equal(pi.setup_future_usage, 'on_session');
  assert.deepEqual(pi.metadata, { order: '42' });
  assert.equal(pi.shipping.name, 'Ada L');
  assert.equal(pi.shipping.address.city, 'Springfield');
  assert.equal(pi.description, 'Books');
  assert.equal(pi.customer, done.customer);
  assertStripeShape(pi, 'payment_intent');
  const pms = await stripe.paymentMethods.list({ customer: done.customer, type: 'card' });
  assert.deepEqual(pms.data.map((p) => p.id), [pi.payment_method]);
});

test('payment_intent_data[statement_descriptor_suffix, receipt_email, statement_descriptor]: the PaymentIntent and its charge carry them; Stripe\'s refusals', async () => {
  const newest = ((await stripe.checkout.sessions.list({ limit: 1 })).data[0] || {}).id;
  const refuse = (pid, param, extra = {}) => assert.rejects(stripe.checkout.sessions.create(sessionParams({ payment_intent_data: pid, ...extra })),
    (e) => e.statusCode === 400 && e.param === param);
  // statement_descriptor is for non-card charges: a session taking cards refuses it
  await refuse({ statement_descriptor: 'BOOKSHOP' }, 'payment_intent_data[statement_descriptor]');
  await refuse({ statement_descriptor_suffix: 'ORDER*42' }, 'payment_intent_data[statement_descriptor_suffix]');
  await refuse({ statement_descriptor_suffix: 'A very long suffix, 23c' }, 'payment_intent_data[statement_descriptor_suffix]');
  await refuse({ receipt_email: 'not-an-email' }, 'payment_intent_data[receipt_email]');
  const eur = await eurBook();
  const sepaOnly = { line_items: [{ price: eur.id, quantity: 1 }], payment_method_types: ['sepa_debit'] };
  await refuse({ statement_descriptor: '12345678' }, 'payment_intent_data[statement_descriptor]', sepaOnly);
  await refuse({ statement_descriptor: 'Books <Shop>' }, 'payment_intent_data[statement_descriptor]', sepaOnly);
  await refuse({ statement_descriptor: "Ada's books" }, 'payment_intent_data[statement_descriptor]', sepaOnly);
  await refuse({ statement_descriptor: 'ABCDEFGHIJKLMNOPQRSTUVW' }, 'payment_intent_data[statement_descriptor]', sepaOnly);
  assert.equal(((await stripe.checkout.sessions.list({ limit: 1 })).data[0] || {}).id, newest, 'the refusals made no session');

  // a card: the suffix and the receipt's address on the PaymentIntent and its charge
  const s = await stripe.checkout.sessions.create(sessionParams({
    payment_intent_data: { statement_descriptor_suffix: 'ORDER 42', receipt_email: 'receipts@example.com' },
  }));
  assertStripeShape(s, 'checkout.session');
  const page = await browser.newPage();
  await page.goto(s.url);
  await fillCard(page, 'Suffix Buyer');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /Pay/ }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  const pi = await stripe.paymentIntents.retrieve(done.payment_intent, { expand: ['latest_charge'] });
  assert.equal(pi.status, 'succeeded');
  assert.deepEqual([pi.statement_descriptor, pi.statement_descriptor_suffix, pi.receipt_email], [null, 'ORDER 42', 'receipts@example.com']);
  const ch = pi.latest_charge;
  assert.deepEqual([ch.statement_descriptor, ch.statement_descriptor_suffix, ch.receipt_email, ch.calculated_statement_descriptor],
    [null, 'ORDER 42', 'receipts@example.com', 'TENDER* ORDER 42']);
  assertStripeShape(ch, 'charge');
  const pi2 = await stripe.paymentIntents.retrieve(done.payment_intent);
  assertStripeShape(pi2, 'payment_intent');

  // a SEPA-only session takes statement_descriptor: its PaymentIntent and py_ charge carry it
  const d = await stripe.checkout.sessions.create(sessionParams({
    ...sepaOnly, payment_intent_data: { statement_descriptor: 'Books Ltd 2025', receipt_email: 'jenny@example.com' },
  }));
  const paid = await env.request({
    method: 'POST', path: new URL(d.url).pathname, body: new URLSearchParams({
      'payment_method_data[type]': 'sepa_debit', 'payment_method_data[sepa_debit][iban]': SEPA_OK,
      'payment_method_data[billing_details][name]': 'Jenny Rosen', 'payment_method_data[billing_details][email]': 'jenny@example.com',
    }).toString(),
  });
  assert.ok(paid.status === 303 || paid.status === 302, `status ${paid.status}`);
  const dd = await stripe.checkout.sessions.retrieve(d.id);
  assert.equal(dd.status, 'complete');
  const dpi = await stripe.paymentIntents.retrieve(dd.payment_intent, { expand: ['latest_charge'] });
  assert.deepEqual([dpi.statement_descriptor, dpi.statement_descriptor_suffix, dpi.receipt_email], ['Books Ltd 2025', null, 'jenny@example.com']);
  assert.match(dpi.latest_charge.id, /^py_/);
  assert.deepEqual([dpi.latest_charge.statement_descriptor, dpi.latest_charge.statement_descriptor_suffix, dpi.latest_charge.receipt_email],
    ['Books Ltd 2025', null, 'jenny@example.com']);
  assertStripeShape(dpi.latest_charge, 'charge');
});

test('after_expiration[recovery]: the expired session\'s recovery URL opens a new session copying it', async () => {
  const s = await stripe.checkout.sessions.create(sessionParams({
    after_expiration: { recovery: { enabled: true, allow_promotion_codes: true } },
    metadata: { cart: '7' },
  }));
  const plain = await stripe.checkout.sessions.create(sessionParams());
  const t0 = Math.floor(Date.now() / 1000);
  const gone = await stripe.checkout.sessions.expire(s.id);
  assert.equal(gone.status, 'expired');
  const rec = gone.after_expiration.recovery;
  assert.equal(rec.enabled, true);
  assert.equal(rec.url, `${s.url}/recover`);
  assert.ok(Math.abs(rec.expires_at - (t0 + 30 * 86400)) < 60);
  assertStripeShape(gone, 'checkout.session');
  assert.equal((await stripe.checkout.sessions.expire(plain.id)).after_expiration, null);
  const page = await browser.newPage();
  // the GET writes nothing: only its button's POST opens the new session
  await page.goto(rec.url);
  const before = await stripe.checkout.sessions.list({ limit: 100 });
  await Promise.all([page.waitForURL(/\/checkout\/[^/]+\/cs_test_[^/]+$/), page.getByRole('button', { name: 'Resume checkout' }).click()]);
  const newId = page.url().split('/').pop();
  assert.notEqual(newId, s.id);
  const after = await stripe.checkout.sessions.list({ limit: 100 });
  assert.equal(after.data.length, before.data.length + 1);
  const again = await stripe.checkout.sessions.retrieve(newId);
  assert.equal(again.recovered_from, s.id);
  assert.equal(again.status, 'open');
  assert.equal(again.allow_promotion_codes, true);
  assert.equal(again.amount_total, 3000);
  assert.deepEqual(again.metadata, { cart: '7' });
  assert.equal(again.after_expiration.recovery.url, null);
  assertStripeShape(again, 'checkout.session');
  const items = await stripe.checkout.sessions.listLineItems(newId);
  assert.deepEqual(items.data.map((i) => [i.price.id, i.quantity]), [[book.id, 2]]);
  await fillCard(page, 'Returning Buyer');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /Pay/ }).click()]);
  await page.close();
  assert.equal((await stripe.checkout.sessions.retrieve(newId)).status, 'complete');
  // a session that cannot be recovered (still open, or expired without recovery): 410, no session
  for (const id of [newId, plain.id]) {
    const res = await fetch(`${s.url.replace(s.id, id)}/recover`, { method: 'POST' });
    assert.equal(res.status, 410);
  }
});

test('custom_fields[n][*][default_value]: prefilled on the page, still checked, kept as the values', async () => {
  const s = await stripe.checkout.sessions.create(sessionParams({
    custom_fields: [
      { ...FIELDS[0], dropdown: { ...FIELDS[0].dropdown, default_value: 'M' } },
      { ...FIELDS[1], text: { ...FIELDS[1].text, default_value: 'For Ada' } },
      { ...FIELDS[2], numeric: { ...FIELDS[2].numeric, default_value: '42' } },
    ],
  }));
  assert.equal(s.custom_fields[0].dropdown.default_value, 'M');
  assert.equal(s.custom_fields[1].text.default_value, 'For Ada');
  assert.equal(s.custom_fields[2].numeric.default_value, '42');
  assertStripeShape(s, 'checkout.session');
  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.locator('#cf_size').inputValue(), 'M');
  assert.equal(await page.locator('#cf_engraving').inputValue(), 'For Ada');
  assert.equal(await page.locator('#cf_ref').inputValue(), '42');
  await page.locator('#cf_ref').fill('7');
  await fillCard(page, 'Default Buyer');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /Pay/ }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.deepEqual(done.custom_fields.map((f) => f[f.type].value), ['M', 'For Ada', '7']);
});

test('consent_collection[payment_method_reuse_agreement] and tax_id_collection[required]: the agreement shown, a tax id required', async () => {
  await assert.rejects(stripe.checkout.sessions.create(sessionParams({ tax_id_collection: { enabled: false, required: 'if_supported' } })),
    (e) => e.statusCode === 400 && e.param === 'tax_id_collection[required]');
  await assert.rejects(stripe.checkout.sessions.create(sessionParams({ consent_collection: { payment_method_reuse_agreement: { position: 'top' } } })),
    (e) => e.statusCode === 400 && e.param === 'consent_collection[payment_method_reuse_agreement][position]');
  const s = await stripe.checkout.sessions.create(sessionParams({
    consent_collection: { payment_method_reuse_agreement: { position: 'auto' } },
    tax_id_collection: { enabled: true, required: 'if_supported' },
    payment_intent_data: { setup_future_usage: 'off_session' },
  }));
  assert.deepEqual(s.consent_collection, { payment_method_reuse_agreement: { position: 'auto' }, promotions: null, terms_of_service: null });
  assert.deepEqual(s.tax_id_collection, { enabled: true, required: 'if_supported' });
  assertStripeShape(s, 'checkout.session');
  // the server asks for the tax id again: a form without one writes nothing
  const form = new URLSearchParams({
    'payment_method_data[type]': 'card', 'payment_method_data[card][number]': '4242424242424242',
    'payment_method_data[card][exp_month]': '10', 'payment_method_data[card][exp_year]': '2035',
    'payment_method_data[card][cvc]': '123',
  });
  const res = await env.request({ method: 'POST', path: new URL(s.url).pathname, body: form.toString() });
  assert.equal(res.status, 400);
  assert.match(res.body, /Enter your tax ID/);
  assert.equal((await stripe.checkout.sessions.retrieve(s.id)).payment_intent, null);
  const page = await browser.newPage();
  await page.goto(s.url);
  assert.match(await page.textContent('#reuse-agreement'), /future payments/);
  assert.equal(await page.getAttribute('#tax_value', 'required'), '');
  await fillCard(page, 'Firm Ltd');
  await page.selectOption('#tax_type', 'gb_vat');
  await page.getByLabel('Tax ID', { exact: true }).fill('GB123456789');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /^Pay/ }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.deepEqual(done.customer_details.tax_ids, [{ type: 'gb_vat', value: 'GB123456789' }]);
  // hidden: the page says nothing of it
  const h = await stripe.checkout.sessions.create(sessionParams({
    consent_collection: { payment_method_reuse_agreement: { position: 'hidden' } },
    payment_intent_data: { setup_future_usage: 'off_session' },
  }));
  const p2 = await browser.newPage();
  await p2.goto(h.url);
  assert.equal(await p2.locator('#reuse-agreement').count(), 0);
  await p2.close();
});

// ---- SEPA Direct Debit (payment_method_types with sepa_debit) ----

const SEPA_OK = 'DE89370400440532013000';
const SEPA_FAILS = 'DE62370400440532013001';

async function eurBook() {
  return stripe.prices.create({ currency: 'eur', unit_amount: 1250, product_data: { name: 'Buch' } });
}

// waits (shortly) for the scheduler to settle the session's debit
async function sessionSettled(id) {
  const deadline = Date.now() + 15000;
  const { payment_intent: piId } = await stripe.checkout.sessions.retrieve(id);
  for (;;) {
    // the intent first: once it has settled, so has the session (one write), whereas a session
    // read before a settlement and its intent read after it would disagree
    const pi = await stripe.paymentIntents.retrieve(piId);
    if (pi.status !== 'processing') return { s: await stripe.checkout.sessions.retrieve(id), pi };
    if (Date.now() > deadline) throw new Error(`session ${id} not settled`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('sepa_debit: shown in payment_method_types; refused outside eur', async () => {
  const eur = await eurBook();
  const s = await stripe.checkout.sessions.create(sessionParams({
    line_items: [{ price: eur.id, quantity: 1 }], payment_method_types: ['card', 'sepa_debit'],
  }));
  assert.deepEqual(s.payment_method_types, ['card', 'sepa_debit']);
  assertStripeShape(s, 'checkout.session');
  const only = await stripe.checkout.sessions.create(sessionParams({
    line_items: [{ price: eur.id, quantity: 1 }], payment_method_types: ['sepa_debit'],
  }));
  assert.deepEqual(only.payment_method_types, ['sepa_debit']);
  assert.deepEqual((await stripe.checkout.sessions.retrieve(only.id)).payment_method_types, ['sepa_debit']);
  const before = (await stripe.checkout.sessions.list({ limit: 100 })).data.length;
  const refusals = [
    [{ payment_method_types: ['sepa_debit'] }, 'payment_method_types', /currency provided \(usd\)/],
    [{ payment_method_types: ['card', 'ideal'] }, 'payment_method_types', /ideal/],
    [{ mode: 'setup', line_items: undefined, currency: 'usd', payment_method_types: ['sepa_debit'] }, 'payment_method_types', /currency provided \(usd\)/],
    [{ line_items: [{ price: eur.id, quantity: 1 }], payment_method_types: ['sepa_debit'], payment_intent_data: { capture_method: 'manual' } },
      'payment_intent_data[capture_method]', /manual/],
  ];
  for (const [extra, param, msg] of refusals) {
    await assert.rejects(stripe.checkout.sessions.create(sessionParams(extra)), (e) => {
      assert.equal(e.statusCode, 400, JSON.stringify(extra));
      assert.equal(e.param, param, JSON.stringify(extra));
      assert.match(e.message, msg);
      return true;
    });
  }
  assert.equal((await stripe.checkout.sessions.list({ limit: 100 })).data.length, before);
});

test('sepa_debit on the page: complete and unpaid at once, paid when the debit settles (async_payment_succeeded)', async () => {
  const eur = await eurBook();
  const s = await stripe.checkout.sessions.create(sessionParams({
    line_items: [{ price: eur.id, quantity: 2 }], payment_method_types: ['card', 'sepa_debit'],
  }));
  // a bad IBAN is refused by the server and writes nothing
  const path = new URL(s.url).pathname;
  const bad = await env.request({
    method: 'POST', path, body: new URLSearchParams({
      'payment_method_data[type]': 'sepa_debit', 'payment_method_data[sepa_debit][iban]': 'DE89370400440532013001',
      'payment_method_data[billing_details][name]': 'Jenny Rosen', 'payment_method_data[billing_details][email]': 'jenny@example.com',
    }).toString(),
  });
  assert.equal(bad.status, 400);
  assert.match(bad.body, /IBAN/i);
  assert.equal((await stripe.checkout.sessions.retrieve(s.id)).payment_intent, null);

  const page = await browser.newPage({ userAgent: 'Mozilla/5.0 (Tender checkout test)' });
  await page.goto(s.url);
  assert.equal(await page.textContent('#choice-card'), 'Pay by card');
  assert.equal(await page.textContent('#choice-sepa'), 'Pay by SEPA Direct Debit');
  assert.match(await page.textContent('#sepa-mandate'), /you authorise \(A\) .+ and Tender/);
  await page.fill('#sepa-email', 'jenny@example.com');
  await page.fill('#sepa-name', 'Jenny Rosen');
  await page.fill('#iban', SEPA_OK);
  await Promise.all([page.waitForURL(/\/ok\?/), page.click('#sepa-pay')]);
  assert.match(page.url(), new RegExp(`session_id=${s.id}`));
  await page.close();

  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.deepEqual(done.payment_method_types, ['card', 'sepa_debit']);
  assertStripeShape(done, 'checkout.session');
  const pi0 = await stripe.paymentIntents.retrieve(done.payment_intent, { expand: ['payment_method', 'latest_charge'] });
  // settled already (the scheduler is quick) or still processing: the session said unpaid first
  const completed = (await eventsAbout(stripe, s.id)).find((e) => e.type === 'checkout.session.completed');
  assert.equal(completed.data.object.payment_status, 'unpaid');
  assert.equal(completed.data.object.status, 'complete');
  assert.equal(pi0.amount, 2500);
  assert.equal(pi0.currency, 'eur');
  assert.deepEqual(pi0.payment_method_types, ['card', 'sepa_debit']);
  assert.equal(pi0.payment_method.type, 'sepa_debit');
  assert.equal(pi0.payment_method.sepa_debit.last4, '3000');
  assert.deepEqual(pi0.payment_method.billing_details.name, 'Jenny Rosen');
  const mandate = await stripe.mandates.retrieve(pi0.latest_charge.payment_method_details.sepa_debit.mandate);
  assert.equal(mandate.type, 'single_use');
  assert.equal(mandate.customer_acceptance.type, 'online');
  assert.equal(mandate.customer_acceptance.online.ip_address, '127.0.0.1');
  assert.equal(mandate.customer_acceptance.online.user_agent, 'Mozilla/5.0 (Tender checkout test)');

  const { s: paid, pi } = await sessionSettled(s.id);
  assert.equal(pi.status, 'succeeded');
  assert.equal(paid.payment_status, 'paid');
  assertStripeShape(paid, 'checkout.session');
  const types = (await eventsAbout(stripe, s.id)).map((e) => e.type);
  assert.deepEqual(types, ['checkout.session.completed', 'checkout.session.async_payment_succeeded']);
  const ok = (await eventsAbout(stripe, s.id))[1].data.object;
  assert.equal(ok.payment_status, 'paid');
  assertStripeShape(ok, 'checkout.session');
});

test('sepa_debit only, a failing IBAN, saved for later on a customer made: async_payment_failed, still unpaid', async () => {
  const eur = await eurBook();
  const s = await stripe.checkout.sessions.create(sessionParams({
    line_items: [{ price: eur.id, quantity: 1 }], payment_method_types: ['sepa_debit'],
    customer_creation: 'always', payment_intent_data: { setup_future_usage: 'off_session' },
  }));
  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.$('#number'), null); // no card form
  assert.equal(await page.$('#choice-sepa'), null);
  await page.getByLabel('Email').fill('max@example.com');
  await page.getByLabel('Account holder name').fill('Max Mustermann');
  await page.getByLabel('IBAN').fill(SEPA_FAILS);
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /SEPA Direct Debit/ }).click()]);
  await page.close();

  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  // unpaid as it completes (its checkout.session.completed says so, below); by this read the
  // scheduler may already have settled the debit (this IBAN succeeds on its next pass)
  assert.ok(['unpaid', 'paid'].includes(done.payment_status), done.payment_status);
  assert.match(done.customer, /^cus_/);
  const pi0 = await stripe.paymentIntents.retrieve(done.payment_intent, { expand: ['latest_charge'] });
  assert.equal(pi0.customer, done.customer);
  assert.equal(pi0.setup_future_usage, 'off_session');
  const mandate = await stripe.mandates.retrieve(pi0.latest_charge.payment_method_details.sepa_debit.mandate);
  assert.equal(mandate.type, 'multi_use');
  const pms = await stripe.paymentMethods.list({ customer: done.customer, type: 'sepa_debit' });
  assert.equal(pms.data.length, 1);
  assert.equal(pms.data[0].sepa_debit.last4, '3001');

  const { s: after, pi } = await sessionSettled(s.id);
  assert.equal(pi.status, 'requires_payment_method');
  assert.equal(pi.last_payment_error.payment_method.type, 'sepa_debit');
  assert.equal(after.status, 'complete');
  assert.equal(after.payment_status, 'unpaid');
  const evs = await eventsAbout(stripe, s.id);
  assert.deepEqual(evs.map((e) => e.type), ['checkout.session.completed', 'checkout.session.async_payment_failed']);
  assert.equal(evs[1].data.object.payment_status, 'unpaid');
  assertStripeShape(evs[1].data.object, 'checkout.session');
});

test('payment_method_options[sepa_debit]: shown on the session, carried to the PaymentIntent; the mandate reference begins with the prefix, the account saved; refusals change nothing', async () => {
  const eur = await eurBook();
  const s = await stripe.checkout.sessions.create(sessionParams({
    line_items: [{ price: eur.id, quantity: 1 }], payment_method_types: ['card', 'sepa_debit'], customer_creation: 'always',
    payment_method_options: { sepa_debit: { setup_future_usage: 'off_session', mandate_options: { reference_prefix: 'SHOP-42' } } },
  }));
  assert.deepEqual(s.payment_method_options, { sepa_debit: { mandate_options: { reference_prefix: 'SHOP-42' }, setup_future_usage: 'off_session' } });
  assertStripeShape(s, 'checkout.session');
  assert.deepEqual((await stripe.checkout.sessions.retrieve(s.id)).payment_method_options, s.payment_method_options);
  await paySepaOnPage(s.url, SEPA_OK);
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.match(done.customer, /^cus_/);
  assertStripeShape(done, 'checkout.session');
  const pi = await stripe.paymentIntents.retrieve(done.payment_intent, { expand: ['latest_charge'] });
  assert.deepEqual(pi.payment_method_options.sepa_debit, { mandate_options: { reference_prefix: 'SHOP-42' }, setup_future_usage: 'off_session' });
  assert.equal(pi.customer, done.customer);
  assertStripeShape(await stripe.paymentIntents.retrieve(pi.id), 'payment_intent');
  const mandate = await stripe.mandates.retrieve(pi.latest_charge.payment_method_details.sepa_debit.mandate);
  assert.equal(mandate.type, 'multi_use');
  assert.match(mandate.payment_method_details.sepa_debit.reference, /^SHOP-42/);
  const pms = await stripe.paymentMethods.list({ customer: done.customer, type: 'sepa_debit' });
  assert.deepEqual(pms.data.map((m) => m.id), [pi.payment_method]);

  // none keeps payment_intent_data's off the SEPA payment: nothing saved, a single-use mandate
  const none = await stripe.checkout.sessions.create(sessionParams({
    line_items: [{ price: eur.id, quantity: 1 }], payment_method_types: ['sepa_debit'], customer_creation: 'always',
    payment_intent_data: { setup_future_usage: 'off_session' }, payment_method_options: { sepa_debit: { setup_future_usage: 'none' } },
  }));
  assert.deepEqual(none.payment_method_options, { sepa_debit: { setup_future_usage: 'none' } });
  await paySepaOnPage(none.url, SEPA_OK);
  const noneDone = await stripe.checkout.sessions.retrieve(none.id);
  const pi2 = await stripe.paymentIntents.retrieve(noneDone.payment_intent, { expand: ['latest_charge'] });
  assert.equal(pi2.payment_method_options.sepa_debit.setup_future_usage, 'none');
  assert.equal((await stripe.mandates.retrieve(pi2.latest_charge.payment_method_details.sepa_debit.mandate)).type, 'single_use');
  if (noneDone.customer) assert.equal((await stripe.paymentMethods.list({ customer: noneDone.customer, type: 'sepa_debit' })).data.length, 0);

  const before = (await stripe.checkout.sessions.list({ limit: 100 })).data.length;
  const monthly = await eurMonthly();
  const refusals = [
    [{ payment_method_options: { sepa_debit: { mandate_options: { reference_prefix: 'STRIPE1' } } } },
      'payment_method_options[sepa_debit][mandate_options][reference_prefix]', /STRIPE/],
    [{ payment_method_options: { sepa_debit: { mandate_options: { reference_prefix: 'lower' } } } },
      'payment_method_options[sepa_debit][mandate_options][reference_prefix]', /uppercase/],
    [{ payment_method_options: { sepa_debit: { mandate_options: { reference_prefix: 'ABCDEFGHIJKLM' } } } },
      'payment_method_options[sepa_debit][mandate_options][reference_prefix]', /at most/],
    [{ payment_method_options: { sepa_debit: { setup_future_usage: 'always' } } },
      'payment_method_options[sepa_debit][setup_future_usage]', /./],
    [{ mode: 'subscription', line_items: [{ price: monthly.id, quantity: 1 }],
      payment_method_options: { sepa_debit: { setup_future_usage: 'off_session' } } },
      'payment_method_options[sepa_debit][setup_future_usage]', /payment` mode/],
    [{ mode: 'setup', line_items: undefined, currency: 'eur', payment_method_types: ['sepa_debit'],
      payment_method_options: { sepa_debit: { mandate_options: { reference_prefix: 'SHOP' } } } },
      'payment_method_options[sepa_debit][mandate_options]', /payment` mode/],
  ];
  for (const [extra, param, msg] of refusals) {
    await assert.rejects(stripe.checkout.sessions.create(sessionParams({
      line_items: [{ price: eur.id, quantity: 1 }], payment_method_types: ['card', 'sepa_debit'], ...extra,
    })), (e) => {
      assert.equal(e.statusCode, 400, JSON.stringify(extra));
      assert.equal(e.param, param, JSON.stringify(extra));
      assert.match(e.message, msg);
      return true;
    });
  }
  assert.equal((await stripe.checkout.sessions.list({ limit: 100 })).data.length, before);
});

// ---- SEPA Direct Debit in subscription mode ----

async function eurMonthly() {
  return stripe.prices.create({ currency: 'eur', unit_amount: 900, recurring: { interval: 'month' }, product_data: { name: 'Abo' } });
}

async function paySepaOnPage(url, iban, ua) {
  const page = await browser.newPage(ua ? { userAgent: ua } : {});
  await page.goto(url);
  await page.fill('#sepa-email', 'jenny@example.com');
  await page.fill('#sepa-name', 'Jenny Rosen');
  await page.fill('#iban', iban);
  await Promise.all([page.waitForURL(/\/ok\?/), page.click('#sepa-pay')]);
  await page.close();
}

test('sepa_debit after a declined card and a refused IBAN: the session\'s one PaymentIntent confirmed again, no orphan', async () => {
  const eur = await stripe.prices.create({ currency: 'eur', unit_amount: 1733, product_data: { name: 'Buch' } });
  const s = await stripe.checkout.sessions.create(sessionParams({
    line_items: [{ price: eur.id, quantity: 1 }], payment_method_types: ['card', 'sepa_debit'],
  }));
  const path = new URL(s.url).pathname;
  const declined = await env.request({
    method: 'POST', path, body: new URLSearchParams({
      'payment_method_data[type]': 'card', 'payment_method_data[card][number]': '4000000000000002',
      'payment_method_data[card][exp_month]': '12', 'payment_method_data[card][exp_year]': '2034', 'payment_method_data[card][cvc]': '123',
    }).toString(),
  });
  assert.equal(declined.status, 402);
  const piId = (await stripe.checkout.sessions.retrieve(s.id)).payment_intent;
  assert.equal((await stripe.paymentIntents.retrieve(piId)).status, 'requires_payment_method');
  const bad = await env.request({
    method: 'POST', path, body: new URLSearchParams({
      'payment_method_data[type]': 'sepa_debit', 'payment_method_data[sepa_debit][iban]': 'DE89370400440532013001',
      'payment_method_data[billing_details][name]': 'Jenny Rosen', 'payment_method_data[billing_details][email]': 'jenny@example.com',
    }).toString(),
  });
  assert.equal(bad.status, 400);
  assert.equal((await stripe.checkout.sessions.retrieve(s.id)).payment_intent, piId);

  await paySepaOnPage(s.url, SEPA_OK, 'Mozilla/5.0 (Tender SEPA retry)');
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_intent, piId);
  assertStripeShape(done, 'checkout.session');
  const pi = await stripe.paymentIntents.retrieve(piId, { expand: ['latest_charge'] });
  assert.ok(['processing', 'succeeded'].includes(pi.status), pi.status);
  assert.deepEqual(pi.payment_method_types, ['card', 'sepa_debit']);
  assert.equal(pi.latest_charge.payment_method_details.type, 'sepa_debit');
  assert.equal(pi.last_payment_error, null);
  assertStripeShape({ ...pi, latest_charge: pi.latest_charge.id }, 'payment_intent');
  const mandate = await stripe.mandates.retrieve(pi.latest_charge.payment_method_details.sepa_debit.mandate);
  assert.equal(mandate.customer_acceptance.online.user_agent, 'Mozilla/5.0 (Tender SEPA retry)');
  // one intent for the session: the declined card's, paid by the debit
  const mine = (await stripe.paymentIntents.list({ created: { gte: s.created }, limit: 100 })).data.filter((p) => p.amount === 1733);
  assert.deepEqual(mine.map((p) => p.id), [piId]);
  const { s: paid, pi: settled } = await sessionSettled(s.id);
  assert.equal(settled.status, 'succeeded');
  assert.equal(paid.payment_status, 'paid');
});

test('sepa_debit in subscription mode: active subscription, multi-use mandate, first invoice paid when the debit settles', async () => {
  const monthly = await eurMonthly();
  const s = await stripe.checkout.sessions.create(sessionParams({
    mode: 'subscription', line_items: [{ price: monthly.id, quantity: 2 }], payment_method_types: ['card', 'sepa_debit'],
  }));
  assert.deepEqual(s.payment_method_types, ['card', 'sepa_debit']);
  assertStripeShape(s, 'checkout.session');
  await paySepaOnPage(s.url, SEPA_OK, 'Mozilla/5.0 (Tender subscription test)');

  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  // unpaid as it completes (its checkout.session.completed says so, below); by this read the
  // scheduler may already have settled the debit (this IBAN succeeds on its next pass)
  assert.ok(['unpaid', 'paid'].includes(done.payment_status), done.payment_status);
  assert.match(done.customer, /^cus_/);
  assertStripeShape(done, 'checkout.session');
  const sub = await stripe.subscriptions.retrieve(done.subscription);
  assert.equal(sub.status, 'active');
  assert.equal(sub.customer, done.customer);
  assert.equal(sub.latest_invoice, done.invoice);
  billingShape(sub, 'subscription');
  const pm = await stripe.paymentMethods.retrieve(sub.default_payment_method);
  assert.equal(pm.type, 'sepa_debit');
  assert.equal(pm.customer, done.customer);
  assert.equal(pm.sepa_debit.last4, '3000');
  assertStripeShape(pm, 'payment_method');
  const completed = (await eventsAbout(stripe, s.id)).find((e) => e.type === 'checkout.session.completed');
  assert.equal(completed.data.object.payment_status, 'unpaid');
  assert.equal(completed.data.object.subscription, sub.id);

  // the first invoice is debited off session under the mandate accepted on the page
  // Stripe names no payment_intent on a subscription's session: its first invoice's pays it
  assert.equal(done.payment_intent, null);
  const { id: piId } = await invoiceLatestPi(stripe, { id: done.invoice, customer: done.customer });
  const pi0 = await stripe.paymentIntents.retrieve(piId, { expand: ['latest_charge'] });
  assert.equal(pi0.amount, 1800);
  assert.equal(pi0.payment_method, pm.id);
  const mandate = await stripe.mandates.retrieve(pi0.latest_charge.payment_method_details.sepa_debit.mandate);
  assert.equal(mandate.type, 'multi_use');
  assert.equal(mandate.payment_method, pm.id);
  assert.equal(mandate.customer_acceptance.type, 'online');
  assert.equal(mandate.customer_acceptance.online.ip_address, '127.0.0.1');
  assert.equal(mandate.customer_acceptance.online.user_agent, 'Mozilla/5.0 (Tender subscription test)');
  assertStripeShape(mandate, 'mandate');

  const inv = await invoiceDebitSettled(stripe, sub.latest_invoice);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.amount_paid, 1800);
  assert.equal(inv.payment_intent.status, 'succeeded');
  const paid = await waitFor(async () => {
    const x = await stripe.checkout.sessions.retrieve(s.id);
    return x.payment_status === 'paid' && x;
  }, 'the session to be paid', 30000);
  assertStripeShape(paid, 'checkout.session');
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'active');
  const evs = await eventsAbout(stripe, s.id);
  assert.deepEqual(evs.map((e) => e.type), ['checkout.session.completed', 'checkout.session.async_payment_succeeded']);
  assert.equal(evs[1].data.object.payment_status, 'paid');
});

test('sepa_debit in subscription mode, a failing IBAN: async_payment_failed, the invoice open', async () => {
  const monthly = await eurMonthly();
  const s = await stripe.checkout.sessions.create(sessionParams({
    mode: 'subscription', line_items: [{ price: monthly.id, quantity: 1 }], payment_method_types: ['sepa_debit'],
  }));
  await paySepaOnPage(s.url, SEPA_FAILS);
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  const inv = await invoiceDebitSettled(stripe, done.invoice);
  assert.equal(inv.status, 'open');
  assert.equal(inv.payment_intent.status, 'requires_payment_method');
  const evs = await waitFor(async () => {
    const e = await eventsAbout(stripe, s.id);
    return e.length === 2 && e;
  }, 'the session\'s async event', 15000);
  assert.deepEqual(evs.map((e) => e.type), ['checkout.session.completed', 'checkout.session.async_payment_failed']);
  assert.equal((await stripe.checkout.sessions.retrieve(s.id)).payment_status, 'unpaid');
  assertStripeShape(evs[1].data.object, 'checkout.session');
});

test('sepa_debit in subscription mode with a trial: the PaymentMethod saved with its mandate, nothing charged', async () => {
  const monthly = await eurMonthly();
  const s = await stripe.checkout.sessions.create(sessionParams({
    mode: 'subscription', line_items: [{ price: monthly.id, quantity: 1 }], payment_method_types: ['card', 'sepa_debit'],
    subscription_data: { trial_period_days: 14 },
  }));
  assert.equal(s.amount_total, 0);
  await paySepaOnPage(s.url, SEPA_OK);
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'no_payment_required');
  assert.equal(done.payment_intent, null);
  assertStripeShape(done, 'checkout.session');
  done.subscription = await stripe.subscriptions.retrieve(done.subscription);
  assert.equal(done.subscription.status, 'trialing');
  const pms = await stripe.paymentMethods.list({ customer: done.customer, type: 'sepa_debit' });
  assert.equal(pms.data.length, 1);
  assert.equal(done.subscription.default_payment_method, pms.data[0].id);
  const charges = await stripe.charges.list({ customer: done.customer });
  assert.equal(charges.data.length, 0);
  // the mandate taken on the page debits off session (as the renewals will)
  const later = await stripe.paymentIntents.create({
    amount: 900, currency: 'eur', customer: done.customer, payment_method: pms.data[0].id,
    payment_method_types: ['sepa_debit'], off_session: true, confirm: true,
  });
  assert.equal(later.status, 'processing');
});

test('bank debits in subscription and setup mode: refusals change nothing', async () => {
  // a bank account posted to a setup session of cards only: refused by the page, nothing made
  const cards = await stripe.checkout.sessions.create(sessionParams({ mode: 'setup', line_items: undefined, currency: 'eur' }));
  const posted = await env.request({
    method: 'POST', path: new URL(cards.url).pathname, body: new URLSearchParams({
      'payment_method_data[type]': 'sepa_debit', 'payment_method_data[sepa_debit][iban]': SEPA_OK,
      'payment_method_data[billing_details][name]': 'Jenny Rosen', 'payment_method_data[billing_details][email]': 'jenny@example.com',
    }).toString(),
  });
  assert.equal(posted.status, 400);
  assert.match(posted.body, /does not take that payment method/);
  const still = await stripe.checkout.sessions.retrieve(cards.id);
  assert.equal(still.status, 'open');
  assert.equal(still.setup_intent, null);
  const monthly = await eurMonthly();
  const usdMonthly = await stripe.prices.create({ currency: 'usd', unit_amount: 900, recurring: { interval: 'month' }, product_data: { name: 'Plan' } });
  const before = (await stripe.checkout.sessions.list({ limit: 100 })).data.length;
  const sub = { mode: 'subscription', line_items: [{ price: monthly.id, quantity: 1 }] };
  const refusals = [
    [{ ...sub, line_items: [{ price: usdMonthly.id, quantity: 1 }], payment_method_types: ['sepa_debit'] }, 'payment_method_types', /currency provided \(usd\)/],
    // an ACH account is verified by the first invoice's microdeposits: a trial has none (ach_debit.test.js)
    [{ ...sub, line_items: [{ price: usdMonthly.id, quantity: 1 }], payment_method_types: ['card', 'us_bank_account'], subscription_data: { trial_period_days: 7 } },
      'subscription_data[trial_period_days]', /us_bank_account in `subscription` mode only when the first invoice is paid now/],
    [{ ...sub, payment_method_types: ['card', 'affirm'] }, 'payment_method_types', /affirm in `payment` mode only/],
    [{ ...sub, payment_method_types: ['sepa_debit'], phone_number_collection: { enabled: true } }, 'phone_number_collection', /sepa_debit/],
    [{ ...sub, payment_method_types: ['sepa_debit'], billing_address_collection: 'required' }, 'billing_address_collection', /sepa_debit/],
    [{ mode: 'setup', line_items: undefined, payment_method_types: ['card', 'sepa_debit'] }, 'currency', /required in `setup` mode/],
    [{ mode: 'setup', line_items: undefined, currency: 'eur', payment_method_types: ['us_bank_account'] }, 'payment_method_types', /currency provided \(eur\)/],
    [{ mode: 'setup', line_items: undefined, currency: 'eur', payment_method_types: ['sepa_debit', 'us_bank_account'] }, 'payment_method_types', /currency provided \(eur\)/],
    [{ mode: 'setup', line_items: undefined, currency: 'eur', payment_method_types: ['card', 'klarna'] }, 'payment_method_types', /klarna in `payment` mode only/],
    [{ mode: 'setup', line_items: undefined, currency: 'usd', payment_method_types: ['card', 'ideal'] }, 'payment_method_types', /currency provided \(usd\)/],
    [{ mode: 'setup', line_items: undefined, currency: 'eur', payment_method_types: ['sepa_debit'], phone_number_collection: { enabled: true } }, 'phone_number_collection', /sepa_debit/],
    [{ mode: 'setup', line_items: undefined, currency: 'usd', payment_method_types: ['us_bank_account'], custom_fields: [{ key: 'ref', label: { type: 'custom', custom: 'Ref' }, type: 'text' }] }, 'custom_fields', /us_bank_account/],
    [{ mode: 'setup', line_items: undefined, currency: 'usd', payment_method_types: ['us_bank_account'], payment_method_options: { us_bank_account: { setup_future_usage: 'off_session' } } },
      'payment_method_options[us_bank_account][setup_future_usage]', /`payment` mode/],
  ];
  for (const [extra, param, msg] of refusals) {
    await assert.rejects(stripe.checkout.sessions.create(sessionParams(extra)), (e) => {
      assert.equal(e.statusCode, 400, JSON.stringify(extra));
      assert.equal(e.param, param, JSON.stringify(extra));
      assert.match(e.message, msg);
      return true;
    });
  }
  assert.equal((await stripe.checkout.sessions.list({ limit: 100 })).data.length, before);
});

test('payment_method_options[us_bank_account]: verification_method (automatic, instant, microdeposits) and financial_connections shown as Stripe shows them; refusals make no session', async () => {
  const usd = (extra) => sessionParams({ payment_method_types: ['card', 'us_bank_account'], ...extra });
  const fc = { permissions: ['payment_method', 'balances', 'ownership'], prefetch: ['balances'] };
  const instant = await stripe.checkout.sessions.create(usd({ payment_method_options: { us_bank_account: { verification_method: 'instant', financial_connections: fc } } }));
  assert.deepEqual(instant.payment_method_options, { us_bank_account: { financial_connections: fc, verification_method: 'instant' } });
  assertStripeShape(instant, 'checkout.session');
  assert.deepEqual((await stripe.checkout.sessions.retrieve(instant.id)).payment_method_options, instant.payment_method_options);
  // not given: automatic (Stripe's default) and the payment_method permission only
  const micro = await stripe.checkout.sessions.create(usd({ payment_method_options: { us_bank_account: { verification_method: 'microdeposits' } } }));
  assert.deepEqual(micro.payment_method_options.us_bank_account, { financial_connections: { permissions: ['payment_method'], prefetch: [] }, verification_method: 'microdeposits' });
  const auto = await stripe.checkout.sessions.create(usd({ payment_method_options: { us_bank_account: { financial_connections: { permissions: ['payment_method'] } } } }));
  assert.deepEqual(auto.payment_method_options.us_bank_account, { financial_connections: { permissions: ['payment_method'], prefetch: [] }, verification_method: 'automatic' });
  assertStripeShape(auto, 'checkout.session');
  // setup and subscription modes take them too
  const setup = await stripe.checkout.sessions.create(sessionParams({
    mode: 'setup', line_items: undefined, currency: 'usd', payment_method_types: ['us_bank_account'],
    payment_method_options: { us_bank_account: { verification_method: 'instant' } },
  }));
  assert.equal(setup.payment_method_options.us_bank_account.verification_method, 'instant');
  assertStripeShape(setup, 'checkout.session');
  const monthly = await stripe.prices.create({ currency: 'usd', unit_amount: 700, recurring: { interval: 'month' }, product_data: { name: 'FC plan' } });
  const sub = await stripe.checkout.sessions.create(sessionParams({
    mode: 'subscription', line_items: [{ price: monthly.id, quantity: 1 }], payment_method_types: ['us_bank_account'],
    payment_method_options: { us_bank_account: { verification_method: 'instant', financial_connections: { permissions: ['payment_method', 'balances'], prefetch: ['balances'] } } },
  }));
  assert.deepEqual(sub.payment_method_options.us_bank_account.financial_connections, { permissions: ['payment_method', 'balances'], prefetch: ['balances'] });
  assertStripeShape(sub, 'checkout.session');

  const before = (await stripe.checkout.sessions.list({ limit: 100 })).data.length;
  const P = 'payment_method_options[us_bank_account]';
  for (const [ach, param, code, msg] of [
    [{ financial_connections: { permissions: ['balances'] } }, `${P}[financial_connections][permissions]`, 'parameter_invalid', /payment_method permission must be included/],
    [{ financial_connections: { permissions: ['payment_method', 'bank_login'] } }, `${P}[financial_connections][permissions][1]`, 'parameter_invalid', /must be one of/],
    [{ financial_connections: { prefetch: ['statements'] } }, `${P}[financial_connections][prefetch][0]`, 'parameter_invalid', /must be one of/],
    [{ financial_connections: { return_url: 'https://shop.example/fc' } }, `${P}[financial_connections][return_url]`, 'parameter_unknown', /return_url/],
    [{ verification_method: 'skip' }, `${P}[verification_method]`, 'parameter_invalid', /verification_method/],
  ]) {
    await assert.rejects(stripe.checkout.sessions.create(usd({ payment_method_options: { us_bank_account: ach } })), (e) => {
      assert.equal(e.statusCode, 400, JSON.stringify(ach));
      assert.equal(e.param, param, JSON.stringify(ach));
      assert.match(e.message, msg);
      if (code !== 'parameter_invalid') assert.equal(e.code, code);
      return true;
    });
  }
  assert.equal((await stripe.checkout.sessions.list({ limit: 100 })).data.length, before);
});

// ---- bank accounts saved in setup mode ----

test('sepa_debit in setup mode: the account saved on the customer under a multi-use mandate; it debits off session', async () => {
  const cus = await stripe.customers.create({ email: 'saver@example.com' });
  const s = await stripe.checkout.sessions.create({
    mode: 'setup', currency: 'eur', customer: cus.id, payment_method_types: ['card', 'sepa_debit'],
    success_url: `http://127.0.0.1:${shopPort}/ok?session_id={CHECKOUT_SESSION_ID}`,
  });
  assert.deepEqual(s.payment_method_types, ['card', 'sepa_debit']);
  assert.equal(s.currency, 'eur');
  assertStripeShape(s, 'checkout.session');
  const page = await browser.newPage({ userAgent: 'Mozilla/5.0 (Tender setup test)' });
  await page.goto(s.url);
  assert.equal(await page.textContent('#choice-sepa'), 'Pay by SEPA Direct Debit');
  assert.equal((await page.textContent('#sepa-pay')).trim(), 'Save bank account');
  await page.fill('#sepa-email', 'saver@example.com');
  await page.fill('#sepa-name', 'Jenny Rosen');
  await page.fill('#iban', SEPA_OK);
  await Promise.all([page.waitForURL(/\/ok\?/), page.click('#sepa-pay')]);
  assert.match(page.url(), new RegExp(`session_id=${s.id}`));
  await page.close();

  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'no_payment_required');
  assert.equal(done.customer, cus.id);
  assert.match(done.setup_intent, /^seti_/);
  assertStripeShape(done, 'checkout.session');
  const si = await stripe.setupIntents.retrieve(done.setup_intent);
  assert.equal(si.status, 'succeeded');
  assert.equal(si.customer, cus.id);
  assert.equal(si.usage, 'off_session');
  assert.deepEqual(si.payment_method_types, ['card', 'sepa_debit']);
  assertStripeShape(si, 'setup_intent');
  const pm = await stripe.paymentMethods.retrieve(si.payment_method);
  assert.equal(pm.type, 'sepa_debit');
  assert.equal(pm.customer, cus.id);
  assert.equal(pm.sepa_debit.last4, '3000');
  assertStripeShape(pm, 'payment_method');
  const mandate = await stripe.mandates.retrieve(si.mandate);
  assert.equal(mandate.type, 'multi_use');
  assert.equal(mandate.status, 'active');
  assert.equal(mandate.payment_method, pm.id);
  assert.equal(mandate.customer_acceptance.type, 'online');
  assert.equal(mandate.customer_acceptance.online.ip_address, '127.0.0.1');
  assert.equal(mandate.customer_acceptance.online.user_agent, 'Mozilla/5.0 (Tender setup test)');
  assertStripeShape(mandate, 'mandate');
  // the session completed in the SetupIntent's write, once
  const evs = await eventsAbout(stripe, s.id);
  assert.deepEqual(evs.map((e) => e.type), ['checkout.session.completed']);
  assert.equal(evs[0].data.object.setup_intent, si.id);
  assertStripeShape(evs[0].data.object, 'checkout.session');
  const siEvents = (await eventsAbout(stripe, si.id)).map((e) => e.type);
  assert.deepEqual(siEvents, ['setup_intent.created', 'setup_intent.succeeded']);
  // the saved account pays off session under its mandate
  const later = await stripe.paymentIntents.create({
    amount: 1500, currency: 'eur', customer: cus.id, payment_method: pm.id,
    payment_method_types: ['sepa_debit'], off_session: true, confirm: true,
  });
  assert.equal(later.status, 'processing');
  // the session is closed: a second post saves nothing more
  const again = await env.request({
    method: 'POST', path: new URL(s.url).pathname, body: new URLSearchParams({
      'payment_method_data[type]': 'sepa_debit', 'payment_method_data[sepa_debit][iban]': SEPA_OK,
      'payment_method_data[billing_details][name]': 'Jenny Rosen', 'payment_method_data[billing_details][email]': 'jenny@example.com',
    }).toString(),
  });
  assert.equal(again.status, 303); // to the completed session's success_url
  assert.equal((await stripe.checkout.sessions.retrieve(s.id)).setup_intent, si.id);
  assert.equal((await stripe.setupIntents.list({ customer: cus.id })).data.length, 1);
  assert.equal((await stripe.paymentMethods.list({ customer: cus.id, type: 'sepa_debit' })).data.length, 1);
});

test('us_bank_account in setup mode: complete at once, the SetupIntent waits for microdeposits, then the account is saved', async () => {
  const s = await stripe.checkout.sessions.create({
    mode: 'setup', currency: 'usd', customer_creation: 'always', payment_method_types: ['us_bank_account'],
    success_url: `http://127.0.0.1:${shopPort}/ok?session_id={CHECKOUT_SESSION_ID}`,
  });
  assertStripeShape(s, 'checkout.session');
  const page = await browser.newPage({ userAgent: 'Mozilla/5.0 (Tender ACH setup test)' });
  await page.goto(s.url);
  assert.equal(await page.$('#number'), null); // no card form
  assert.match(await page.textContent('#ach-mandate'), /for later payments you owe it/);
  await page.fill('#ach-email', 'ach-saver@example.com');
  await page.fill('#ach-name', 'Ada Saver');
  await page.fill('#ach-routing', '110000000');
  await page.fill('#ach-account', '000123456789');
  await Promise.all([page.waitForURL(/\/ok\?/), page.click('#ach-pay')]);
  await page.close();

  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'no_payment_required');
  assert.match(done.customer, /^cus_/);
  assertStripeShape(done, 'checkout.session');
  const si = await stripe.setupIntents.retrieve(done.setup_intent);
  assert.equal(si.status, 'requires_action');
  assert.equal(si.customer, done.customer);
  assert.equal(si.next_action.type, 'verify_with_microdeposits');
  assert.match(si.next_action.verify_with_microdeposits.hosted_verification_url,
    new RegExp(`/microdeposits/${env.merchants[0].id}/${si.id}/[A-Za-z0-9]+$`));
  assertStripeShape(si, 'setup_intent');
  // not saved before it is verified
  assert.equal((await stripe.paymentMethods.list({ customer: done.customer, type: 'us_bank_account' })).data.length, 0);
  const evs = await eventsAbout(stripe, s.id);
  assert.deepEqual(evs.map((e) => e.type), ['checkout.session.completed']);
  assert.equal(evs[0].data.object.setup_intent, si.id);

  const ok = await stripe.setupIntents.verifyMicrodeposits(si.id, { amounts: [32, 45] });
  assert.equal(ok.status, 'succeeded');
  assert.equal(ok.next_action, null);
  assertStripeShape(ok, 'setup_intent');
  const pms = await stripe.paymentMethods.list({ customer: done.customer, type: 'us_bank_account' });
  assert.equal(pms.data.length, 1);
  assert.equal(pms.data[0].id, ok.payment_method);
  assert.equal(pms.data[0].us_bank_account.last4, '6789');
  assertStripeShape(pms.data[0], 'payment_method');
  const mandate = await stripe.mandates.retrieve(ok.mandate);
  assert.equal(mandate.type, 'multi_use');
  assert.equal(mandate.status, 'active');
  assert.equal(mandate.customer_acceptance.online.user_agent, 'Mozilla/5.0 (Tender ACH setup test)');
  assertStripeShape(mandate, 'mandate');
  // the session completed once, when the account began to wait
  assert.deepEqual((await eventsAbout(stripe, s.id)).map((e) => e.type), ['checkout.session.completed']);
  const after = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(after.status, 'complete');
  assertStripeShape(after, 'checkout.session');
});

test('payment links with payment_method_types: sepa_debit carried into their sessions', async () => {
  const eur = await eurBook();
  await assert.rejects(stripe.paymentLinks.create({
    line_items: [{ price: book.id, quantity: 1 }], payment_method_types: ['card', 'sepa_debit'],
  }), (e) => e.statusCode === 400 && e.param === 'payment_method_types' && /usd/.test(e.message));
  const plain = await stripe.paymentLinks.create({ line_items: [{ price: eur.id, quantity: 1 }] });
  assert.equal(plain.payment_method_types, null);
  const link = await stripe.paymentLinks.create({
    line_items: [{ price: eur.id, quantity: 3 }], payment_method_types: ['card', 'sepa_debit'],
    after_completion: { type: 'redirect', redirect: { url: `http://127.0.0.1:${shopPort}/thanks` } },
  });
  assert.deepEqual(link.payment_method_types, ['card', 'sepa_debit']);
  assertStripeShape(link, 'payment_link');
  assert.deepEqual((await stripe.paymentLinks.retrieve(link.id)).payment_method_types, ['card', 'sepa_debit']);

  const page = await browser.newPage();
  await page.goto(link.url);
  assert.equal(await page.textContent('#choice-sepa'), 'Pay by SEPA Direct Debit');
  await page.fill('#sepa-email', 'link@example.com');
  await page.fill('#sepa-name', 'Link Buyer');
  await page.fill('#iban', SEPA_OK);
  await Promise.all([page.waitForURL(/\/thanks$/), page.click('#sepa-pay')]);
  await page.close();

  const [s] = (await stripe.checkout.sessions.list({ payment_link: link.id })).data;
  assert.equal(s.status, 'complete');
  assert.deepEqual(s.payment_method_types, ['card', 'sepa_debit']);
  assert.equal(s.amount_total, 3750);
  const { s: paid, pi } = await sessionSettled(s.id);
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.payment_method_types.includes('sepa_debit'), true);
  assert.equal(paid.payment_status, 'paid');
  assertStripeShape(paid, 'checkout.session');
});

test('line_items[n][adjustable_quantity]: kept and shown on the line items; Stripe\'s refusals make no session', async () => {
  const mug = await stripe.prices.create({ currency: 'usd', unit_amount: 500, product_data: { name: 'Mug' } });
  const s = await stripe.checkout.sessions.create(sessionParams({
    line_items: [
      { price: book.id, quantity: 2, adjustable_quantity: { enabled: true, minimum: 1, maximum: 5 } },
      { price: mug.id, quantity: 1, adjustable_quantity: { enabled: true } },
      { price: mug.id, quantity: 1, adjustable_quantity: { enabled: false, maximum: 3 } },
    ],
  }));
  assertStripeShape(s, 'checkout.session');
  const items = (await stripe.checkout.sessions.listLineItems(s.id)).data;
  assert.deepEqual(items.map((i) => i.adjustable_quantity), [
    { enabled: true, maximum: 5, minimum: 1 }, { enabled: true, maximum: null, minimum: null }, null,
  ]);
  for (const it of items) assertStripeShape(it, 'item');

  const before = (await stripe.checkout.sessions.list({ limit: 100 })).data.length;
  const refused = async (line, param, code = 'parameter_invalid_integer') => {
    const err = await stripe.checkout.sessions.create(sessionParams({ line_items: [line] })).catch((e) => e);
    assert.equal(err.statusCode, 400, JSON.stringify(line));
    assert.equal(err.param, param);
    return err;
  };
  await refused({ price: book.id, adjustable_quantity: { maximum: 5 } }, 'line_items[0][adjustable_quantity][enabled]');
  await refused({ price: book.id, adjustable_quantity: { enabled: true, maximum: 1000000 } }, 'line_items[0][adjustable_quantity][maximum]');
  await refused({ price: book.id, adjustable_quantity: { enabled: true, maximum: 0 } }, 'line_items[0][adjustable_quantity][maximum]');
  await refused({ price: book.id, adjustable_quantity: { enabled: true, minimum: -1 } }, 'line_items[0][adjustable_quantity][minimum]');
  await refused({ price: book.id, adjustable_quantity: { enabled: true, minimum: 4, maximum: 3 } }, 'line_items[0][adjustable_quantity][minimum]');
  // the quantity it starts at must be one the buyer could choose (the default maximum is 99)
  await refused({ price: book.id, quantity: 120, adjustable_quantity: { enabled: true } }, 'line_items[0][adjustable_quantity][maximum]');
  await refused({ price: book.id, quantity: 1, adjustable_quantity: { enabled: true, minimum: 2 } }, 'line_items[0][adjustable_quantity][minimum]');
  const pwyw = await stripe.prices.create({ currency: 'usd', custom_unit_amount: { enabled: true }, product_data: { name: 'Tip' } });
  await refused({ price: pwyw.id, adjustable_quantity: { enabled: true } }, 'line_items[0][adjustable_quantity]');
  assert.equal((await stripe.checkout.sessions.list({ limit: 100 })).data.length, before);
});

test('adjustable quantities on the page: the buyer changes them, the session is priced again (discount, tax, shipping) and the payment charges it', async () => {
  const mug = await stripe.prices.create({ currency: 'usd', unit_amount: 500, product_data: { name: 'Mug' } });
  const vat = await stripe.taxRates.create({ display_name: 'VAT', percentage: 10, inclusive: false });
  const coupon = await stripe.coupons.create({ percent_off: 10 });
  const s = await stripe.checkout.sessions.create(sessionParams({
    line_items: [
      { price: book.id, quantity: 2, tax_rates: [vat.id], adjustable_quantity: { enabled: true, minimum: 1, maximum: 5 } },
      { price: mug.id, quantity: 1, tax_rates: [vat.id], adjustable_quantity: { enabled: true } },
    ],
    discounts: [{ coupon: coupon.id }],
    shipping_options: [{ shipping_rate_data: { display_name: 'Post', fixed_amount: { amount: 500, currency: 'usd' } } }],
  }));
  // 3000 + 500, less 10% = 3150, VAT 315, shipping 500
  assert.equal(s.amount_subtotal, 3500);
  assert.equal(s.amount_total, 3965);
  const path = new URL(s.url).pathname;
  const lines = (await stripe.checkout.sessions.listLineItems(s.id)).data;

  // refusals: out of range, not a number, every item removed, a line that is not adjustable;
  // the page says why and nothing changes
  const post = (q) => env.request({ method: 'POST', path: `${path}/quantities`, body: new URLSearchParams(q).toString() });
  for (const [q, msg] of [
    [{ [`quantity[${lines[0].id}]`]: '6' }, /must be from 1 to 5/],
    [{ [`quantity[${lines[0].id}]`]: '0' }, /must be from 1 to 5/],
    [{ [`quantity[${lines[1].id}]`]: 'two' }, /whole number/],
    [{ [`quantity[${lines[1].id}]`]: '100' }, /must be from 0 to 99/],
    [{ 'quantity[li_nothing]': '2' }, /cannot be changed/],
  ]) {
    const res = await post(q);
    assert.equal(res.status, 400, JSON.stringify(q));
    assert.match(res.body, msg);
  }
  const same = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(same.amount_total, 3965);
  assert.deepEqual((await stripe.checkout.sessions.listLineItems(s.id)).data.map((i) => i.quantity), [2, 1]);

  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.getAttribute('#quantity-0', 'max'), '5');
  assert.equal(await page.getAttribute('#quantity-1', 'min'), '0');
  await page.getByLabel('Quantity of Book').fill('3');
  await page.getByLabel('Quantity of Mug').fill('0'); // removes the mug
  await Promise.all([page.waitForURL(s.url), page.click('#update-quantities')]);
  // 4500, less 450, VAT 405, shipping 500
  assert.equal((await page.textContent('#total')).replace(/\s/g, ''), '49.55USD');
  assert.equal(await page.locator('#quantity-1').count(), 0);
  const priced = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(priced.amount_subtotal, 4500);
  assert.equal(priced.amount_total, 4955);
  assert.deepEqual(priced.total_details, { amount_discount: 450, amount_shipping: 500, amount_tax: 405 });
  const now = (await stripe.checkout.sessions.listLineItems(s.id)).data;
  assert.equal(now.length, 1);
  assert.equal(now[0].id, lines[0].id);
  assert.equal(now[0].quantity, 3);
  assert.equal(now[0].amount_subtotal, 4500);
  assert.equal(now[0].amount_discount, 450);
  assert.equal(now[0].amount_tax, 405);
  assert.equal(now[0].amount_total, 4455);
  // the last item stays
  const last = await post({ [`quantity[${lines[0].id}]`]: '0' });
  assert.equal(last.status, 400);
  // Stripe sends no event for a quantity change
  assert.deepEqual((await eventsAbout(stripe, s.id)).map((e) => e.type), []);

  await fillCard(page, 'Ada Lovelace');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /^Pay/ }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.amount_total, 4955);
  assertStripeShape(done, 'checkout.session');
  const pi = await stripe.paymentIntents.retrieve(done.payment_intent);
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.amount, 4955);
  assert.deepEqual((await eventsAbout(stripe, s.id)).map((e) => e.type), ['checkout.session.completed']);

  // complete: the quantities stay as they were paid
  await post({ [`quantity[${lines[0].id}]`]: '4' });
  assert.deepEqual((await stripe.checkout.sessions.listLineItems(s.id)).data.map((i) => i.quantity), [3]);
  // expired: refused (410), nothing changes
  const e = await stripe.checkout.sessions.create(sessionParams({
    line_items: [{ price: book.id, quantity: 1, adjustable_quantity: { enabled: true } }],
  }));
  await stripe.checkout.sessions.expire(e.id);
  const eLine = (await stripe.checkout.sessions.listLineItems(e.id)).data[0];
  const gone = await env.request({
    method: 'POST', path: `${new URL(e.url).pathname}/quantities`,
    body: new URLSearchParams({ [`quantity[${eLine.id}]`]: '4' }).toString(),
  });
  assert.equal(gone.status, 410);
  assert.equal((await stripe.checkout.sessions.listLineItems(e.id)).data[0].quantity, 1);
  assert.equal((await stripe.checkout.sessions.retrieve(e.id)).amount_total, 1500);
});

test('adjustable quantity below a promotion code\'s minimum_amount: the code no longer applies and the page says why', async () => {
  const coupon = await stripe.coupons.create({ percent_off: 10, duration: 'once' });
  const code = await stripe.promotionCodes.create({
    coupon: coupon.id, code: 'BIGORDER', restrictions: { minimum_amount: 4000, minimum_amount_currency: 'usd' },
  });
  const s = await stripe.checkout.sessions.create(sessionParams({
    line_items: [{ price: book.id, quantity: 3, adjustable_quantity: { enabled: true, minimum: 1, maximum: 5 } }],
    allow_promotion_codes: true,
  }));
  const page = await browser.newPage();
  await page.goto(s.url);
  await page.getByLabel('Promotion code').fill('bigorder');
  await Promise.all([page.waitForURL(s.url), page.getByRole('button', { name: 'Apply' }).click()]);
  assert.equal((await page.textContent('#total')).replace(/\s/g, ''), '40.50USD');
  // still above the minimum: the code stays, priced on the new subtotal
  await page.getByLabel('Quantity of Book').fill('4');
  await Promise.all([page.waitForURL(s.url), page.click('#update-quantities')]);
  assert.equal((await page.textContent('#total')).replace(/\s/g, ''), '54.00USD');
  // below it: the code goes, the page says why, the total is the subtotal
  await page.getByLabel('Quantity of Book').fill('2');
  await page.click('#update-quantities');
  await page.waitForSelector('text=BIGORDER needs a purchase of at least');
  assert.equal((await page.textContent('#total')).replace(/\s/g, ''), '30.00USD');
  const priced = await stripe.checkout.sessions.retrieve(s.id);
  assert.deepEqual([priced.amount_subtotal, priced.amount_total, priced.total_details.amount_discount], [3000, 3000, 0]);
  assert.deepEqual(priced.discounts, []);
  assertStripeShape(priced, 'checkout.session');
  await fillCard(page, 'Ada Lovelace');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /^Pay/ }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal((await stripe.paymentIntents.retrieve(done.payment_intent)).amount, 3000);
  assert.equal((await stripe.promotionCodes.retrieve(code.id)).times_redeemed, 0);

  // a code given when the session was made goes the same way
  const g = await stripe.checkout.sessions.create(sessionParams({
    line_items: [{ price: book.id, quantity: 3, adjustable_quantity: { enabled: true, minimum: 1, maximum: 5 } }],
    discounts: [{ promotion_code: code.id }],
  }));
  assert.equal(g.amount_total, 4050);
  const line = (await stripe.checkout.sessions.listLineItems(g.id)).data[0];
  const res = await env.request({
    method: 'POST', path: `${new URL(g.url).pathname}/quantities`,
    body: new URLSearchParams({ [`quantity[${line.id}]`]: '1' }).toString(),
  });
  assert.equal(res.status, 200);
  assert.match(res.body, /BIGORDER needs a purchase of at least/);
  const after = await stripe.checkout.sessions.retrieve(g.id);
  assert.deepEqual([after.amount_subtotal, after.amount_total, after.discounts], [1500, 1500, []]);
});

test('adjustable quantity in subscription mode: the subscription gets the quantity chosen on the page', async () => {
  const seat = await stripe.prices.create({
    currency: 'usd', unit_amount: 1200, recurring: { interval: 'month' }, product_data: { name: 'Seat' },
  });
  const s = await stripe.checkout.sessions.create({
    mode: 'subscription',
    line_items: [{ price: seat.id, quantity: 1, adjustable_quantity: { enabled: true, minimum: 1, maximum: 10 } }],
    success_url: `http://127.0.0.1:${shopPort}/ok?session_id={CHECKOUT_SESSION_ID}`,
  });
  const page = await browser.newPage();
  await page.goto(s.url);
  await page.getByLabel('Quantity of Seat').fill('4');
  await Promise.all([page.waitForURL(s.url), page.click('#update-quantities')]);
  assert.equal((await page.textContent('#total')).replace(/\s/g, ''), '48.00USD');
  const priced = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(priced.amount_total, 4800);
  await fillCard(page, 'Ada Lovelace');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /^Subscribe/ }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id, { expand: ['subscription', 'invoice'] });
  assert.equal(done.status, 'complete');
  assert.equal(done.subscription.items.data[0].quantity, 4);
  assert.equal(done.invoice.amount_paid, 4800);
  assertStripeShape(done.subscription.items.data[0], 'subscription_item');
  assert.deepEqual((await stripe.checkout.sessions.listLineItems(s.id)).data.map((i) => i.quantity), [4]);
});

test('adjustable quantity after a declined card: the next payment charges the total for the new quantity', async () => {
  const s = await stripe.checkout.sessions.create(sessionParams({
    line_items: [{ price: book.id, quantity: 1, adjustable_quantity: { enabled: true } }],
  }));
  const path = new URL(s.url).pathname;
  const declined = await env.request({
    method: 'POST', path,
    body: new URLSearchParams({
      'payment_method_data[type]': 'card', 'payment_method_data[card][number]': '4000000000000002',
      'payment_method_data[card][exp_month]': '10', 'payment_method_data[card][exp_year]': '2035',
      'payment_method_data[card][cvc]': '123',
    }).toString(),
  });
  assert.match(declined.body, /declined/i);
  const first = (await stripe.checkout.sessions.retrieve(s.id)).payment_intent;
  assert.equal((await stripe.paymentIntents.retrieve(first)).amount, 1500);
  const [line] = (await stripe.checkout.sessions.listLineItems(s.id)).data;
  const changed = await env.request({
    method: 'POST', path: `${path}/quantities`, body: new URLSearchParams({ [`quantity[${line.id}]`]: '2' }).toString(),
  });
  assert.equal(changed.status, 303);
  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.textContent('#total'), '30.00 USD');
  await fillCard(page, 'Ada Lovelace');
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /^Pay 30\.00 USD/ }).click()]);
  await page.close();
  const done = await stripe.checkout.sessions.retrieve(s.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.amount_total, 3000);
  const pi = await stripe.paymentIntents.retrieve(done.payment_intent);
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.amount, 3000);
});

test('GET /v1/checkout/sessions?customer_details[email]: the sessions whose buyer gave that email', async () => {
  const email = `grace.${Date.now()}@example.com`;
  const s1 = await stripe.checkout.sessions.create(sessionParams());
  const s2 = await stripe.checkout.sessions.create(sessionParams({ customer_email: email })); // open: no customer_details yet
  const page = await browser.newPage();
  await page.goto(s1.url);
  await fillCard(page, 'Grace Hopper');
  await page.getByLabel('Email').fill(email);
  await Promise.all([page.waitForURL(/\/ok\?/), page.getByRole('button', { name: /^Pay/ }).click()]);
  await page.close();
  const got = await stripe.checkout.sessions.list({ customer_details: { email } });
  assert.deepEqual(got.data.map((s) => s.id), [s1.id]);
  assert.equal(got.data[0].customer_details.email, email);
  assertStripeShape(got.data[0], 'checkout.session');
  assert.equal((await stripe.checkout.sessions.list({ customer_details: { email: email.toUpperCase() } })).data.length, 0);
  assert.deepEqual((await stripe.checkout.sessions.list({ customer_details: { email }, status: 'complete' })).data.map((s) => s.id), [s1.id]);
  assert.equal((await stripe.checkout.sessions.list({ customer_details: { email }, status: 'open' })).data.length, 0);
  assert.ok(s2.id);
  await assert.rejects(stripe.checkout.sessions.list({ customer_details: { name: 'x' } }), (e) => e.statusCode === 400);
});
