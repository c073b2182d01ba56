'use strict';
// Payment links through stripe-node, paid on Tender's checkout page in headless Chromium
// (Debian's chromium + playwright-core): a card typed into the page becomes a PaymentIntent for
// the link's total; 3-D Secure, declines, the redirect and the confirmation page; line items,
// updates (line item quantities, payment_method_types, shipping_address_collection,
// allow_promotion_codes: sessions made afterwards get them), refusals, tenants; no card number
// in the store or the log; `currency` with prices' currency_options; the collection settings a
// session takes (custom fields, phone, consent, tax id, billing address, customer_creation,
// invoice_creation), shown on the link, updated, and asked for on each payment's session page;
// recurring prices with subscription_data, each payment a subscription-mode session.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const { startTender, stopAll, assertStripeShape, readStoreFiles, launchChromium } = require('./helpers');

let env;
let stripe;
let browser;
let shop;
let shopPort;
let shirt; // price: 2,000 usd
let mug; // price: 750 usd

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  shop = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>Shop</title><h1 id="thanks">Thanks from the shop</h1>');
  });
  await new Promise((r) => shop.listen(0, '127.0.0.1', r));
  shopPort = shop.address().port;
  browser = await launchChromium();
  shirt = await stripe.prices.create({ currency: 'usd', unit_amount: 2000, product_data: { name: 'T-shirt' } });
  mug = await stripe.prices.create({ currency: 'usd', unit_amount: 750, product_data: { name: 'Mug' } });
});
after(async () => {
  if (browser) await browser.close();
  if (shop) shop.close();
  await stopAll();
});

async function fillCard(page, number) {
  await page.getByLabel('Email').fill('buyer@example.com');
  await page.getByLabel('Name on card').fill('Jenny Rosen');
  await page.getByLabel('Card number').fill(number);
  await page.getByLabel('Month (MM)').fill('12');
  await page.getByLabel('Year (YYYY)').fill('2034');
  await page.getByLabel('CVC').fill('123');
}

async function paymentsOf(link) {
  const res = await stripe.paymentIntents.search({ query: `metadata['payment_link']:'${link.id}'` });
  return res.data;
}

test('create: Stripe\'s shape, line items, payment_link.created', async () => {
  const link = await stripe.paymentLinks.create({
    line_items: [{ price: shirt.id, quantity: 2 }, { price: mug.id }],
    metadata: { campaign: 'fall' },
  });
  assert.match(link.id, /^plink_/);
  assert.equal(link.object, 'payment_link');
  assert.equal(link.active, true);
  assert.equal(link.currency, 'usd');
  assert.equal(link.after_completion.type, 'hosted_confirmation');
  assert.match(link.url, new RegExp(`^http://127\\.0\\.0\\.1:\\d+/pay/${env.merchant.id}/${link.id}$`));
  assertStripeShape(link, 'payment_link');
  assert.deepEqual(await stripe.paymentLinks.retrieve(link.id), link);
  const items = await stripe.paymentLinks.listLineItems(link.id);
  assert.deepEqual(items.data.map((i) => [i.description, i.quantity, i.amount_total, i.price.id]),
    [['T-shirt', 2, 4000, shirt.id], ['Mug', 1, 750, mug.id]]);
  for (const i of items.data) assertStripeShape(i, 'item');
  const ev = (await stripe.events.list({ type: 'payment_link.created', limit: 5 })).data;
  assert.equal(ev[0].data.object.id, link.id);
});

test('currency: a link in the currency of its prices\' currency_options, at their amounts', async () => {
  const cap = await stripe.prices.create({ currency: 'usd', unit_amount: 1500, product_data: { name: 'Cap' }, currency_options: { eur: { unit_amount: 1400 } } });
  const link = await stripe.paymentLinks.create({ line_items: [{ price: cap.id, quantity: 2 }], currency: 'eur' });
  assert.equal(link.currency, 'eur');
  assertStripeShape(link, 'payment_link');
  const items = await stripe.paymentLinks.listLineItems(link.id);
  assert.deepEqual(items.data.map((i) => [i.currency, i.amount_total, i.price.id]), [['eur', 2800, cap.id]]);
  await assert.rejects(stripe.paymentLinks.create({ line_items: [{ price: mug.id }], currency: 'eur' }),
    (e) => e.statusCode === 400 && e.param === 'line_items[0][price]');
});

test('pay on the checkout page: a PaymentIntent for the total, then the merchant\'s redirect', async () => {
  const link = await stripe.paymentLinks.create({
    line_items: [{ price: shirt.id, quantity: 2 }, { price: mug.id }],
    after_completion: { type: 'redirect', redirect: { url: `http://127.0.0.1:${shopPort}/thanks` } },
    payment_intent_data: { description: 'Fall order' },
  });
  const page = await browser.newPage();
  const resp = await page.goto(link.url);
  assert.equal(resp.status(), 200);
  assert.match(resp.headers()['content-security-policy'], /default-src 'none'/);
  assert.match(await page.textContent('main'), /Merchant 0/);
  assert.equal(await page.textContent('#total'), '47.50 USD');
  await page.screenshot({ path: `${env.dataDir}/../checkout.png` });
  await fillCard(page, '4242424242424242');
  await Promise.all([page.waitForURL(/\/thanks$/), page.getByRole('button', { name: /Pay 47\.50 USD/ }).click()]);
  assert.equal(await page.textContent('#thanks'), 'Thanks from the shop');
  await page.close();
  const paid = await paymentsOf(link);
  assert.equal(paid.length, 1);
  assert.equal(paid[0].status, 'succeeded');
  assert.equal(paid[0].amount, 4750);
  assert.equal(paid[0].currency, 'usd');
  assert.equal(paid[0].description, 'Fall order');
  const pm = await stripe.paymentMethods.retrieve(paid[0].payment_method);
  assert.equal(pm.card.last4, '4242');
  assert.equal(pm.billing_details.email, 'buyer@example.com');
  assert.equal(pm.billing_details.name, 'Jenny Rosen');
  // the link can be paid again
  const again = await browser.newPage();
  await again.goto(link.url);
  await fillCard(again, '5555555555554444');
  await Promise.all([again.waitForURL(/\/thanks$/), again.getByRole('button', { name: /Pay/ }).click()]);
  await again.close();
  assert.equal((await paymentsOf(link)).length, 2);
  // each visit was a Checkout Session of the link, completed by its payment
  const sessions = await stripe.checkout.sessions.list({ payment_link: link.id });
  assert.deepEqual(sessions.data.map((x) => [x.status, x.payment_status]), [['complete', 'paid'], ['complete', 'paid']]);
  assert.deepEqual(sessions.data.map((x) => x.payment_intent).sort(), paid.map((p) => p.id).concat((await paymentsOf(link)).map((p) => p.id).filter((id) => id !== paid[0].id)).sort());
  const done = (await stripe.events.list({ type: 'checkout.session.completed', limit: 20 })).data
    .filter((e) => e.data.object.payment_link === link.id);
  assert.equal(done.length, 2);
  assertStripeShape(done[0].data.object, 'checkout.session');
});

test('a declined card shows the form again; the confirmation page after a good one, on the same PaymentIntent', async () => {
  const link = await stripe.paymentLinks.create({
    line_items: [{ price: mug.id, quantity: 3 }],
    after_completion: { type: 'hosted_confirmation', hosted_confirmation: { custom_message: 'See you soon!' } },
    submit_type: 'donate',
  });
  const page = await browser.newPage();
  await page.goto(link.url);
  await fillCard(page, '4000000000000002');
  await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: /Donate 22\.50 USD/ }).click()]);
  await page.waitForSelector('p.error');
  assert.match(await page.textContent('p.error'), /Your card was declined/);
  const declined = await paymentsOf(link);
  assert.equal(declined.length, 1);
  assert.equal(declined[0].status, 'requires_payment_method');
  // a card number that is not one
  await fillCard(page, '4242424242424241');
  await page.getByRole('button', { name: /Donate/ }).click();
  await page.waitForSelector('p.error');
  assert.match(await page.textContent('p.error'), /card number/i);
  await fillCard(page, '4242424242424242');
  await page.getByRole('button', { name: /Donate/ }).click();
  await page.waitForSelector('#done');
  assert.match(await page.textContent('main'), /See you soon!/);
  await page.close();
  // the session keeps one PaymentIntent (as on Stripe): the good card confirmed the declined one
  const all = await paymentsOf(link);
  assert.deepEqual(all.map((p) => [p.id, p.status]), [[declined[0].id, 'succeeded']]);
  const charges = await stripe.charges.list({ payment_intent: declined[0].id });
  assert.deepEqual(charges.data.map((c) => c.status).sort(), ['failed', 'succeeded']);
});

test('3-D Secure: the challenge, then back to the link\'s redirect', async () => {
  const link = await stripe.paymentLinks.create({
    line_items: [{ price: shirt.id }],
    after_completion: { type: 'redirect', redirect: { url: `http://127.0.0.1:${shopPort}/thanks` } },
  });
  const page = await browser.newPage();
  await page.goto(link.url);
  await fillCard(page, '4000002760003184');
  await Promise.all([page.waitForURL(/\/3ds\//), page.getByRole('button', { name: /Pay/ }).click()]);
  await Promise.all([page.waitForURL(/\/thanks$/), page.getByRole('button', { name: 'Complete authentication' }).click()]);
  await page.close();
  const paid = await paymentsOf(link);
  assert.equal(paid.length, 1);
  assert.equal(paid[0].status, 'succeeded');
  // a failed challenge comes back to the form with a message
  const page2 = await browser.newPage();
  await page2.goto(link.url);
  await fillCard(page2, '4000002760003184');
  await Promise.all([page2.waitForURL(/\/3ds\//), page2.getByRole('button', { name: /Pay/ }).click()]);
  await page2.getByRole('button', { name: 'Fail authentication' }).click();
  await page2.waitForSelector('p.error');
  assert.match(await page2.textContent('p.error'), /did not confirm/);
  await page2.close();
});

test('update: deactivated links stop taking payments; after_completion changes', async () => {
  const link = await stripe.paymentLinks.create({ line_items: [{ price: mug.id }] });
  const up = await stripe.paymentLinks.update(link.id, { active: false, metadata: { k: 'v' } });
  assert.equal(up.active, false);
  const ev = (await stripe.events.list({ type: 'payment_link.updated', limit: 5 })).data.find((e) => e.data.object.id === link.id);
  assert.deepEqual(ev.data.previous_attributes, { active: true, metadata: {} });
  const r = await env.request({ path: new URL(link.url).pathname });
  assert.equal(r.status, 410);
  // no checkout is opened for it
  assert.deepEqual((await stripe.checkout.sessions.list({ payment_link: link.id })).data, []);
  assert.deepEqual(await paymentsOf(link), []);
  const back = await stripe.paymentLinks.update(link.id, { active: true, after_completion: { type: 'redirect', redirect: { url: 'https://example.com/x' } } });
  assert.equal(back.after_completion.redirect.url, 'https://example.com/x');
  assertStripeShape(back, 'payment_link');
  assert.ok((await stripe.paymentLinks.list({ active: true, limit: 100 })).data.some((l) => l.id === link.id));
});

test('update: shipping_address_collection and payment_method_types apply to the sessions made afterwards', async () => {
  const link = await stripe.paymentLinks.create({
    line_items: [{ price: mug.id }],
    after_completion: { type: 'redirect', redirect: { url: `http://127.0.0.1:${shopPort}/thanks` } },
  });
  const pay = async (withAddress) => {
    const page = await browser.newPage();
    await page.goto(link.url);
    assert.equal(await page.locator('#ship_country').count(), withAddress ? 1 : 0);
    await fillCard(page, '4242424242424242');
    if (withAddress) {
      await page.getByLabel('Name', { exact: true }).fill('Grace Hopper');
      await page.getByLabel('Address', { exact: true }).fill('1 Navy Way');
      await page.getByLabel('City').fill('Arlington');
      await page.getByLabel('State or region').fill('VA');
      await page.selectOption('#ship_country', 'US');
    }
    await Promise.all([page.waitForURL(/\/thanks$/), page.getByRole('button', { name: /^Pay/ }).click()]);
    await page.close();
  };
  await pay(false);
  const up = await stripe.paymentLinks.update(link.id, {
    shipping_address_collection: { allowed_countries: ['US', 'CA'] }, payment_method_types: ['card'],
  });
  assert.deepEqual(up.shipping_address_collection, { allowed_countries: ['US', 'CA'] });
  assert.deepEqual(up.payment_method_types, ['card']);
  assertStripeShape(up, 'payment_link');
  assert.deepEqual(await stripe.paymentLinks.retrieve(link.id), up);
  const ev = (await stripe.events.list({ type: 'payment_link.updated', limit: 10 })).data.find((e) => e.data.object.id === link.id);
  assert.deepEqual(ev.data.previous_attributes, { payment_method_types: null, shipping_address_collection: null });
  await pay(true);
  // the session made before the change keeps what it was made with
  const sessions = (await stripe.checkout.sessions.list({ payment_link: link.id })).data;
  assert.equal(sessions.length, 2);
  const [after, before] = sessions.sort((a, b) => b.created - a.created || (b.id > a.id ? 1 : -1));
  assert.deepEqual(after.shipping_address_collection, { allowed_countries: ['US', 'CA'] });
  assert.equal(after.shipping_details.address.country, 'US');
  assert.deepEqual(after.payment_method_types, ['card']);
  assertStripeShape(after, 'checkout.session');
  assert.equal(before.shipping_address_collection, null);
  assert.equal(before.shipping_details, null);
  // a bank debit's form asks for no address: refused while the link collects one, nothing changed
  await assert.rejects(stripe.paymentLinks.update(link.id, { payment_method_types: ['us_bank_account'] }),
    (e) => e.statusCode === 400 && e.param === 'payment_method_types');
  await assert.rejects(stripe.paymentLinks.update(link.id, { payment_method_types: ['wechat_pay'] }),
    (e) => e.statusCode === 400 && e.param === 'payment_method_types');
  await assert.rejects(stripe.paymentLinks.update(link.id, { shipping_address_collection: { allowed_countries: ['usa'] } }),
    (e) => e.statusCode === 400 && e.param === 'shipping_address_collection[allowed_countries]');
  assert.deepEqual(await stripe.paymentLinks.retrieve(link.id), up);
  // '' clears either (Stripe's null); then the bank debit fits
  const cleared = await stripe.paymentLinks.update(link.id, { shipping_address_collection: '', payment_method_types: '' });
  assert.equal(cleared.shipping_address_collection, null);
  assert.equal(cleared.payment_method_types, null);
  assertStripeShape(cleared, 'payment_link');
  const bank = await stripe.paymentLinks.update(link.id, { payment_method_types: ['card', 'us_bank_account'] });
  assert.deepEqual(bank.payment_method_types, ['card', 'us_bank_account']);
  await assert.rejects(stripe.paymentLinks.update(link.id, { shipping_address_collection: { allowed_countries: ['US'] } }),
    (e) => e.statusCode === 400 && e.param === 'shipping_address_collection');
  const page = await browser.newPage();
  await page.goto(link.url);
  assert.equal(await page.locator('#ship_country').count(), 0);
  await page.close();
});

test('allow_promotion_codes: the link\'s page goes on to its session\'s, whose code field discounts the payment', async () => {
  const coupon = await stripe.coupons.create({ percent_off: 20 });
  const code = await stripe.promotionCodes.create({ coupon: coupon.id, code: 'LINK20' });
  const link = await stripe.paymentLinks.create({
    line_items: [{ price: shirt.id }], allow_promotion_codes: true,
    after_completion: { type: 'redirect', redirect: { url: `http://127.0.0.1:${shopPort}/thanks` } },
  });
  assert.equal(link.allow_promotion_codes, true);
  assertStripeShape(link, 'payment_link');
  const page = await browser.newPage();
  await page.goto(link.url);
  assert.equal(await page.getByLabel('Card number').count(), 0);
  await Promise.all([page.waitForURL(/\/checkout\/[^/]+\/cs_[^/]+$/), page.getByRole('button', { name: 'Continue' }).click()]);
  const sessionUrl = page.url();
  assert.equal(await page.textContent('#total'), '20.00 USD');
  await page.getByLabel('Promotion code').fill('link20');
  await Promise.all([page.waitForURL(sessionUrl), page.getByRole('button', { name: 'Apply' }).click()]);
  assert.equal(await page.textContent('#total'), '16.00 USD');
  await fillCard(page, '4242424242424242');
  await Promise.all([page.waitForURL(/\/thanks$/), page.getByRole('button', { name: /Pay 16\.00 USD/ }).click()]);
  await page.close();
  const [first] = (await stripe.checkout.sessions.list({ payment_link: link.id })).data;
  assert.equal(first.status, 'complete');
  assert.equal(first.allow_promotion_codes, true);
  assert.deepEqual(first.discounts, [{ coupon: coupon.id, promotion_code: code.id }]);
  assert.deepEqual([first.amount_subtotal, first.amount_total], [2000, 1600]);
  assertStripeShape(first, 'checkout.session');
  const [pi] = await paymentsOf(link);
  assert.equal(pi.amount, 1600);
  assert.equal((await stripe.promotionCodes.retrieve(code.id)).times_redeemed, 1);
  // turned off: later payments take the card on the link's page; the paid session keeps its flag
  const off = await stripe.paymentLinks.update(link.id, { allow_promotion_codes: false });
  assert.equal(off.allow_promotion_codes, false);
  const ev = (await stripe.events.list({ type: 'payment_link.updated', limit: 10 })).data.find((e) => e.data.object.id === link.id);
  assert.deepEqual(ev.data.previous_attributes, { allow_promotion_codes: true });
  const again = await browser.newPage();
  await again.goto(link.url);
  await fillCard(again, '4242424242424242');
  await Promise.all([again.waitForURL(/\/thanks$/), again.getByRole('button', { name: /Pay 20\.00 USD/ }).click()]);
  await again.close();
  const sessions = (await stripe.checkout.sessions.list({ payment_link: link.id })).data;
  assert.equal(sessions.length, 2);
  const second = sessions.find((x) => x.id !== first.id);
  assert.equal(second.allow_promotion_codes, null);
  assert.equal(second.amount_total, 2000);
  assert.equal((await stripe.checkout.sessions.retrieve(first.id)).allow_promotion_codes, true);
  await assert.rejects(stripe.paymentLinks.update(link.id, { allow_promotion_codes: 'maybe' }),
    (e) => e.statusCode === 400 && e.param === 'allow_promotion_codes');
});

test('update: line_items[n][id, quantity] prices the link again; sessions already made keep theirs', async () => {
  const link = await stripe.paymentLinks.create({
    line_items: [{ price: shirt.id, quantity: 2 }, { price: mug.id }],
    after_completion: { type: 'redirect', redirect: { url: `http://127.0.0.1:${shopPort}/thanks` } },
  });
  const pay = async (total) => {
    const page = await browser.newPage();
    await page.goto(link.url);
    assert.equal(await page.textContent('#total'), total);
    await fillCard(page, '4242424242424242');
    await Promise.all([page.waitForURL(/\/thanks$/), page.getByRole('button', { name: /^Pay/ }).click()]);
    await page.close();
  };
  await pay('47.50 USD');
  const [shirtItem, mugItem] = (await stripe.paymentLinks.listLineItems(link.id)).data;
  const before = (await stripe.checkout.sessions.list({ payment_link: link.id })).data[0];
  // refusals change nothing
  const cases = [
    [[{ id: 'li_nope', quantity: 2 }], 'line_items[0][id]'],
    [[{ id: shirtItem.id, quantity: 0 }], 'line_items[0][quantity]'],
    [[{ id: mugItem.id, quantity: 1 }, { id: shirtItem.id, quantity: 1000 }], 'line_items[1][quantity]'],
    [[{ id: mugItem.id, quantity: 3 }, { id: mugItem.id, quantity: 4 }], 'line_items[1][id]'],
    [[{ quantity: 4 }], 'line_items[0][id]'],
  ];
  for (const [items, param] of cases) {
    await assert.rejects(stripe.paymentLinks.update(link.id, { line_items: items }), (e) => {
      assert.equal(e.statusCode, 400, JSON.stringify(items));
      assert.equal(e.param, param, JSON.stringify(items));
      return true;
    });
  }
  assert.deepEqual((await stripe.paymentLinks.listLineItems(link.id)).data.map((i) => i.quantity), [2, 1]);
  const up = await stripe.paymentLinks.update(link.id, { line_items: [{ id: mugItem.id, quantity: 3 }] });
  assertStripeShape(up, 'payment_link');
  const items = (await stripe.paymentLinks.listLineItems(link.id)).data;
  assert.deepEqual(items.map((i) => [i.id, i.quantity, i.amount_total]), [[shirtItem.id, 2, 4000], [mugItem.id, 3, 2250]]);
  for (const i of items) assertStripeShape(i, 'item');
  await pay('62.50 USD');
  const sessions = (await stripe.checkout.sessions.list({ payment_link: link.id })).data;
  assert.equal(sessions.length, 2);
  const after = sessions.find((x) => x.id !== before.id);
  assert.equal(after.amount_total, 6250);
  assertStripeShape(after, 'checkout.session');
  assert.equal((await stripe.checkout.sessions.retrieve(before.id)).amount_total, 4750);
  assert.deepEqual((await stripe.checkout.sessions.listLineItems(before.id)).data.map((i) => i.quantity), [2, 1]);
  assert.deepEqual((await paymentsOf(link)).map((p) => p.amount).sort(), [4750, 6250]);
  // a sub-cent price's line is priced from its whole quantity, rounded once (halves up)
  const dec = await stripe.prices.create({ currency: 'usd', unit_amount_decimal: '100.5', product_data: { name: 'Bolt' } });
  const link2 = await stripe.paymentLinks.create({ line_items: [{ price: dec.id }] });
  const [bolt] = (await stripe.paymentLinks.listLineItems(link2.id)).data;
  assert.equal(bolt.amount_total, 101);
  await stripe.paymentLinks.update(link2.id, { line_items: [{ id: bolt.id, quantity: 3 }] });
  const [bolts] = (await stripe.paymentLinks.listLineItems(link2.id)).data;
  assert.deepEqual([bolts.quantity, bolts.amount_total], [3, 302]);
  assertStripeShape(bolts, 'item');
});

test('collection settings: the link shows them and each payment\'s session page asks for them; an invoice and a customer are made', async () => {
  const link = await stripe.paymentLinks.create({
    line_items: [{ price: shirt.id }],
    after_completion: { type: 'redirect', redirect: { url: `http://127.0.0.1:${shopPort}/thanks` } },
    custom_fields: [{ key: 'engraving', label: { type: 'custom', custom: 'Engraving' }, type: 'text', text: { maximum_length: 10 } }],
    custom_text: { submit: { message: 'Ships in 2 days.' }, terms_of_service_acceptance: { message: 'Our terms apply.' } },
    phone_number_collection: { enabled: true },
    consent_collection: { terms_of_service: 'required' },
    tax_id_collection: { enabled: true },
    customer_creation: 'always',
    billing_address_collection: 'required',
    invoice_creation: { enabled: true, invoice_data: { description: 'Thanks for the shirt', metadata: { order: '42' } } },
    payment_intent_data: { setup_future_usage: 'off_session', metadata: { channel: 'link' }, statement_descriptor_suffix: 'SHIRTS' },
  });
  assertStripeShape(link, 'payment_link');
  assert.deepEqual(link.custom_fields, [{ dropdown: null, key: 'engraving', label: { custom: 'Engraving', type: 'custom' }, numeric: null,
    optional: false, text: { default_value: null, maximum_length: 10, minimum_length: null }, type: 'text' }]);
  assert.deepEqual(link.custom_text, { after_submit: null, shipping_address: null, submit: { message: 'Ships in 2 days.' },
    terms_of_service_acceptance: { message: 'Our terms apply.' } });
  assert.deepEqual(link.phone_number_collection, { enabled: true });
  assert.equal(link.consent_collection.terms_of_service, 'required');
  assert.deepEqual(link.tax_id_collection, { enabled: true, required: 'never' });
  assert.equal(link.customer_creation, 'always');
  assert.equal(link.billing_address_collection, 'required');
  assert.equal(link.payment_method_collection, 'always');
  assert.equal(link.invoice_creation.enabled, true);
  assert.equal(link.invoice_creation.invoice_data.description, 'Thanks for the shirt');
  assert.deepEqual(link.invoice_creation.invoice_data.metadata, { order: '42' });
  assert.equal(link.payment_intent_data.setup_future_usage, 'off_session');
  assert.deepEqual(link.payment_intent_data.metadata, { channel: 'link' });
  assert.equal(link.payment_intent_data.statement_descriptor_suffix, 'SHIRTS');
  assert.deepEqual(await stripe.paymentLinks.retrieve(link.id), link);
  const customers = (await stripe.customers.list({ limit: 100 })).data.length;

  const page = await browser.newPage();
  await page.goto(link.url);
  assert.equal(await page.getByLabel('Card number').count(), 0);
  await Promise.all([page.waitForURL(/\/checkout\/[^/]+\/cs_[^/]+$/), page.getByRole('button', { name: 'Continue' }).click()]);
  assert.equal(await page.textContent('#custom-text-submit'), 'Ships in 2 days.');
  assert.equal(await page.textContent('#custom-text-terms'), 'Our terms apply.');
  await fillCard(page, '4242424242424242');
  await page.getByLabel('Engraving').fill('For Ada');
  await page.getByLabel('Phone number').fill('+15555550100');
  await page.fill('#ba_line1', '1 Main St');
  await page.fill('#ba_city', 'Springfield');
  await page.fill('#ba_country', 'US');
  await page.check('#terms');
  await Promise.all([page.waitForURL(/\/thanks$/), page.getByRole('button', { name: /^Pay/ }).click()]);
  await page.close();

  const [done] = (await stripe.checkout.sessions.list({ payment_link: link.id })).data;
  assert.equal(done.status, 'complete');
  assert.equal(done.custom_fields[0].text.value, 'For Ada');
  assert.equal(done.customer_details.phone, '+15555550100');
  assert.equal(done.customer_details.address.line1, '1 Main St');
  assert.deepEqual(done.consent, { promotions: null, terms_of_service: 'accepted' });
  assert.equal(done.customer_creation, 'always');
  assert.match(done.customer, /^cus_/);
  assert.match(done.invoice, /^in_/);
  assertStripeShape(done, 'checkout.session');
  assert.equal((await stripe.customers.list({ limit: 100 })).data.length, customers + 1);
  const cus = await stripe.customers.retrieve(done.customer);
  assert.equal(cus.phone, '+15555550100');
  const inv = await stripe.invoices.retrieve(done.invoice);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.customer, cus.id);
  assert.equal(inv.amount_paid, 2000);
  assert.equal(inv.description, 'Thanks for the shirt');
  assert.deepEqual(inv.metadata, { order: '42' });
  const [pi] = await paymentsOf(link);
  assert.equal(pi.customer, cus.id);
  assert.equal(pi.setup_future_usage, 'off_session');
  assert.equal(pi.metadata.channel, 'link');
  assert.equal(pi.metadata.payment_link, link.id);
  assert.equal(pi.statement_descriptor_suffix, 'SHIRTS');
});

test('collection settings: update takes Stripe\'s updatable ones (previous_attributes); refusals change nothing', async () => {
  const link = await stripe.paymentLinks.create({
    line_items: [{ price: mug.id }],
    custom_fields: [{ key: 'note', label: { type: 'custom', custom: 'Note' }, type: 'text', optional: true }],
    consent_collection: { terms_of_service: 'required' },
  });
  const up = await stripe.paymentLinks.update(link.id, {
    billing_address_collection: 'required', customer_creation: 'always', custom_fields: '',
    custom_text: { terms_of_service_acceptance: { message: 'See our terms.' } },
    invoice_creation: { enabled: true },
  });
  assertStripeShape(up, 'payment_link');
  assert.equal(up.billing_address_collection, 'required');
  assert.equal(up.customer_creation, 'always');
  assert.deepEqual(up.custom_fields, []);
  assert.deepEqual(up.custom_text.terms_of_service_acceptance, { message: 'See our terms.' });
  assert.equal(up.consent_collection.terms_of_service, 'required'); // kept
  assert.equal(up.invoice_creation.enabled, true);
  const ev = (await stripe.events.list({ type: 'payment_link.updated', limit: 10 })).data.find((e) => e.data.object.id === link.id);
  assert.deepEqual(ev.data.previous_attributes, {
    billing_address_collection: 'auto', customer_creation: 'if_required', custom_fields: link.custom_fields,
    custom_text: link.custom_text, invoice_creation: link.invoice_creation,
  });
  // a session opened now takes what the link has now
  const page = await browser.newPage();
  await page.goto(up.url);
  await Promise.all([page.waitForURL(/\/checkout\/[^/]+\/cs_[^/]+$/), page.getByRole('button', { name: 'Continue' }).click()]);
  await page.close();
  const [s] = (await stripe.checkout.sessions.list({ payment_link: link.id })).data;
  assert.deepEqual([s.billing_address_collection, s.customer_creation, s.invoice_creation.enabled, s.custom_fields.length],
    ['required', 'always', true, 0]);
  assert.equal(s.consent_collection.terms_of_service, 'required');

  const sepa = await stripe.prices.create({ currency: 'eur', unit_amount: 900, product_data: { name: 'Euro mug' } });
  const creates = [
    [{ payment_method_collection: 'if_required' }, 'payment_method_collection'],
    [{ customer_creation: 'sometimes' }, 'customer_creation'],
    [{ invoice_creation: { enabled: true }, allow_promotion_codes: true }, 'invoice_creation[enabled]'],
    [{ invoice_creation: { enabled: true }, automatic_tax: { enabled: true } }, 'invoice_creation[enabled]'],
    [{ custom_text: { terms_of_service_acceptance: { message: 'x' } } }, 'custom_text[terms_of_service_acceptance]'],
    [{ custom_text: { shipping_address: { message: 'x' } } }, 'custom_text[shipping_address]'],
    [{ payment_intent_data: { statement_descriptor: 'MUGS' } }, 'payment_intent_data[statement_descriptor]'], // a card payment's is the suffix
    [{ tax_id_collection: { enabled: false, required: 'if_supported' } }, 'tax_id_collection[required]'],
    [{ custom_fields: [{ key: 'a-b', label: { type: 'custom', custom: 'A' }, type: 'text' }] }, 'custom_fields[0][key]'],
    [{ line_items: [{ price: sepa.id }], payment_method_types: ['sepa_debit'], phone_number_collection: { enabled: true } }, 'phone_number_collection'],
  ];
  const count = (await stripe.paymentLinks.list({ limit: 100 })).data.length;
  for (const [params, param] of creates) {
    await assert.rejects(stripe.paymentLinks.create({ line_items: [{ price: mug.id }], ...params }), (e) => {
      assert.equal(e.statusCode, 400, JSON.stringify(params));
      assert.equal(e.param, param, JSON.stringify(params));
      return true;
    });
  }
  assert.equal((await stripe.paymentLinks.list({ limit: 100 })).data.length, count);
  const updates = [
    [{ allow_promotion_codes: true }, 'allow_promotion_codes'], // it makes an invoice
    [{ phone_number_collection: { enabled: true } }, 'phone_number_collection'], // not updatable
    [{ payment_method_collection: 'if_required' }, 'payment_method_collection'],
    [{ payment_method_types: ['card', 'us_bank_account'] }, 'payment_method_types'], // no invoice with a bank debit
  ];
  for (const [params, param] of updates) {
    await assert.rejects(stripe.paymentLinks.update(link.id, params), (e) => {
      assert.equal(e.statusCode, 400, JSON.stringify(params));
      assert.equal(e.param, param, JSON.stringify(params));
      return true;
    });
  }
  assert.deepEqual(await stripe.paymentLinks.retrieve(link.id), up);
});

test('recurring prices: each payment\'s session makes a subscription with the link\'s subscription_data; the settings\' rules', async () => {
  const club = await stripe.prices.create({ currency: 'usd', unit_amount: 900, recurring: { interval: 'month' }, product_data: { name: 'Coffee club' } });
  const link = await stripe.paymentLinks.create({
    line_items: [{ price: club.id, quantity: 2 }],
    subscription_data: { trial_period_days: 7, description: 'Two bags a month', metadata: { tier: 'gold' } },
    after_completion: { type: 'redirect', redirect: { url: `http://127.0.0.1:${shopPort}/thanks` } },
  });
  assertStripeShape(link, 'payment_link');
  assert.deepEqual(link.subscription_data, { description: 'Two bags a month', metadata: { tier: 'gold' }, trial_period_days: 7 });
  assert.equal(link.payment_intent_data, null);
  const items = await stripe.paymentLinks.listLineItems(link.id);
  assert.deepEqual(items.data.map((i) => [i.quantity, i.amount_total, i.price.recurring.interval]), [[2, 1800, 'month']]);

  const page = await browser.newPage();
  await page.goto(link.url);
  assert.equal(await page.getByLabel('Card number').count(), 0);
  await Promise.all([page.waitForURL(/\/checkout\/[^/]+\/cs_[^/]+$/), page.getByRole('button', { name: 'Continue' }).click()]);
  await fillCard(page, '4242424242424242');
  await Promise.all([page.waitForURL(/\/thanks$/), page.getByRole('button', { name: /^Start trial/ }).click()]);
  await page.close();
  const [s] = (await stripe.checkout.sessions.list({ payment_link: link.id })).data;
  assert.equal(s.mode, 'subscription');
  assert.equal(s.status, 'complete');
  assert.equal(s.payment_status, 'no_payment_required');
  assert.equal(s.amount_total, 0);
  assertStripeShape(s, 'checkout.session');
  const sub = await stripe.subscriptions.retrieve(s.subscription);
  assert.equal(sub.status, 'trialing');
  assert.equal(sub.description, 'Two bags a month');
  assert.equal(sub.metadata.tier, 'gold');
  assert.equal(sub.items.data[0].quantity, 2);
  assert.equal(sub.items.data[0].price.id, club.id);
  assert.equal(sub.customer, s.customer);

  // without a trial the first invoice is paid on the session's page; if_required is a subscription's
  const now = await stripe.paymentLinks.create({ line_items: [{ price: club.id }], payment_method_collection: 'if_required' });
  assert.equal(now.payment_method_collection, 'if_required');
  assert.deepEqual(now.subscription_data, { description: null, metadata: {}, trial_period_days: null });
  assertStripeShape(now, 'payment_link');

  const refusals = [
    [{ line_items: [{ price: club.id }], customer_creation: 'always' }, 'customer_creation'],
    [{ line_items: [{ price: club.id }], invoice_creation: { enabled: true } }, 'invoice_creation'],
    [{ line_items: [{ price: club.id }], submit_type: 'pay' }, 'submit_type'],
    [{ line_items: [{ price: club.id }], payment_intent_data: { capture_method: 'manual' } }, 'payment_intent_data'],
    [{ line_items: [{ price: club.id }], shipping_address_collection: { allowed_countries: ['US'] } }, 'shipping_address_collection'],
    [{ line_items: [{ price: club.id }], subscription_data: { trial_period_days: 0 } }, 'subscription_data[trial_period_days]'],
    [{ line_items: [{ price: club.id }, { price: shirt.id }] }, 'line_items[1][price]'],
    [{ line_items: [{ price: shirt.id }], subscription_data: { trial_period_days: 7 } }, 'subscription_data'],
  ];
  const count = (await stripe.paymentLinks.list({ limit: 100 })).data.length;
  for (const [params, param] of refusals) {
    await assert.rejects(stripe.paymentLinks.create(params), (e) => {
      assert.equal(e.statusCode, 400, JSON.stringify(params));
      assert.equal(e.param, param, JSON.stringify(params));
      return true;
    });
  }
  assert.equal((await stripe.paymentLinks.list({ limit: 100 })).data.length, count);
});

test('Connect terms: a link\'s application_fee_amount and transfer_data reach each payment\'s PaymentIntent; application_fee_percent and on_behalf_of a subscription link\'s subscription', async () => {
  const acct = await stripe.accounts.create({ type: 'express', country: 'US', email: 'maker@example.com' });
  const club = await stripe.prices.create({ currency: 'usd', unit_amount: 900, recurring: { interval: 'month' }, product_data: { name: 'Tea club' } });
  const count = (await stripe.paymentLinks.list({ limit: 100 })).data.length;
  for (const [params, param] of [
    [{ line_items: [{ price: shirt.id }], application_fee_amount: 100 }, 'application_fee_amount'],
    [{ line_items: [{ price: shirt.id }], application_fee_amount: 2001, transfer_data: { destination: acct.id } }, 'application_fee_amount'],
    [{ line_items: [{ price: shirt.id }], application_fee_percent: 10, transfer_data: { destination: acct.id } }, 'application_fee_percent'],
    [{ line_items: [{ price: club.id }], application_fee_amount: 100, transfer_data: { destination: acct.id } }, 'application_fee_amount'],
    [{ line_items: [{ price: club.id }], transfer_data: { destination: acct.id, amount: 100 } }, 'transfer_data[amount]'],
    [{ line_items: [{ price: shirt.id }], transfer_data: { destination: 'acct_nope' } }, 'transfer_data[destination]'],
    [{ line_items: [{ price: shirt.id }], on_behalf_of: 'acct_nope' }, 'on_behalf_of'],
    [{ line_items: [{ price: club.id }], application_fee_percent: '12.345', transfer_data: { destination: acct.id } }, 'application_fee_percent'],
  ]) {
    await assert.rejects(stripe.paymentLinks.create(params), (e) => e.statusCode === 400 && e.param === param, JSON.stringify(params));
  }
  assert.equal((await stripe.paymentLinks.list({ limit: 100 })).data.length, count);

  // one-time prices: a destination charge with the link's fee
  const link = await stripe.paymentLinks.create({
    line_items: [{ price: shirt.id }], application_fee_amount: 300, transfer_data: { destination: acct.id, amount: 1500 },
    on_behalf_of: acct.id, after_completion: { type: 'redirect', redirect: { url: `http://127.0.0.1:${shopPort}/thanks` } },
  });
  assertStripeShape(link, 'payment_link');
  assert.equal(link.application_fee_amount, 300);
  assert.equal(link.application_fee_percent, null);
  assert.deepEqual(link.transfer_data, { amount: 1500, destination: acct.id });
  assert.equal(link.on_behalf_of, acct.id);
  assert.deepEqual(await stripe.paymentLinks.retrieve(link.id), link);
  const page = await browser.newPage();
  await page.goto(link.url);
  await fillCard(page, '4242424242424242');
  await Promise.all([page.waitForURL(/\/thanks$/), page.getByRole('button', { name: /Pay 20\.00 USD/ }).click()]);
  await page.close();
  const [pi] = await paymentsOf(link);
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.amount, 2000);
  assert.equal(pi.application_fee_amount, 300);
  assert.deepEqual(pi.transfer_data, { amount: 1500, destination: acct.id });
  assert.equal(pi.on_behalf_of, acct.id);
  assertStripeShape(pi, 'payment_intent');
  const ch = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal((await stripe.transfers.retrieve(ch.transfer)).amount, 1500);
  assert.equal((await stripe.applicationFees.retrieve(ch.application_fee)).amount, 300);

  // recurring prices: the subscription takes the percentage, its first invoice's charge pays it
  const sl = await stripe.paymentLinks.create({
    line_items: [{ price: club.id }], application_fee_percent: 10, transfer_data: { destination: acct.id }, on_behalf_of: acct.id,
    after_completion: { type: 'redirect', redirect: { url: `http://127.0.0.1:${shopPort}/thanks` } },
  });
  assertStripeShape(sl, 'payment_link');
  assert.equal(sl.application_fee_percent, 10);
  assert.deepEqual(sl.transfer_data, { amount: null, destination: acct.id });
  const sp = await browser.newPage();
  await sp.goto(sl.url);
  await Promise.all([sp.waitForURL(/\/checkout\/[^/]+\/cs_[^/]+$/), sp.getByRole('button', { name: 'Continue' }).click()]);
  await fillCard(sp, '4242424242424242');
  await Promise.all([sp.waitForURL(/\/thanks$/), sp.getByRole('button', { name: /^Subscribe/ }).click()]);
  await sp.close();
  const [s] = (await stripe.checkout.sessions.list({ payment_link: sl.id })).data;
  const sub = await stripe.subscriptions.retrieve(s.subscription);
  assert.equal(sub.status, 'active');
  assert.equal(sub.application_fee_percent, 10);
  assert.deepEqual(sub.transfer_data, { amount_percent: null, destination: acct.id });
  assert.equal(sub.on_behalf_of, acct.id);
  const spi = (await stripe.paymentIntents.list({ customer: sub.customer })).data[0];
  assert.equal(spi.amount, 900);
  assert.equal(spi.application_fee_amount, 90);
  assert.deepEqual(spi.transfer_data, { destination: acct.id });
});

test('refused links change nothing', async () => {
  const count = (await stripe.paymentLinks.list({ limit: 100 })).data.length;
  const eur = await stripe.prices.create({ currency: 'eur', unit_amount: 500, product_data: { name: 'Euro thing' } });
  const monthly = await stripe.prices.create({ currency: 'usd', unit_amount: 500, recurring: { interval: 'month' }, product_data: { name: 'Plan' } });
  // a sub-cent price is billed (its line rounded once, halves up): 1 × 0.25 rounds to a total of 0
  const tiny = await stripe.prices.create({ currency: 'usd', unit_amount_decimal: '0.25', product_data: { name: 'Tiny' } });
  const inactive = await stripe.prices.create({ currency: 'usd', unit_amount: 500, active: false, product_data: { name: 'Old' } });
  const cases = [
    [{ line_items: [{ price: shirt.id }, { price: eur.id }] }, 'line_items[1][price]'],
    [{ line_items: [{ price: monthly.id }, { price: shirt.id }] }, 'line_items[1][price]'], // one-time beside recurring
    [{ line_items: [{ price: tiny.id }] }, 'line_items'],
    [{ line_items: [{ price: inactive.id }] }, 'line_items[0][price]'],
    [{ line_items: [{ price: 'price_nope' }] }, 'line_items[0][price]'],
    [{ line_items: [{ price: shirt.id, quantity: 0 }] }, 'line_items[0][quantity]'],
    [{ line_items: [{ price: shirt.id }], after_completion: { type: 'redirect' } }, 'after_completion[redirect][url]'],
    [{ line_items: [{ price: shirt.id }], after_completion: { type: 'redirect', redirect: { url: 'javascript:alert(1)' } } }, 'after_completion[redirect][url]'],
    [{ line_items: [{ price: shirt.id }], currency: 'eur' }, 'line_items[0][price]'],
    [{ line_items: Array.from({ length: 21 }, () => ({ price: shirt.id })) }, 'line_items'],
  ];
  for (const [params, param] of cases) {
    await assert.rejects(stripe.paymentLinks.create(params), (e) => {
      assert.ok(e.statusCode === 400 || e.statusCode === 404, `${JSON.stringify(params)}: ${e.statusCode}`);
      assert.equal(e.param, param, JSON.stringify(params));
      return true;
    });
  }
  assert.equal((await stripe.paymentLinks.list({ limit: 100 })).data.length, count);
});

test('tenants, and no card number in the store or the log', async () => {
  const link = await stripe.paymentLinks.create({ line_items: [{ price: mug.id }] });
  const other = env.stripe(env.merchants[1].secret_key);
  await assert.rejects(other.paymentLinks.retrieve(link.id), (e) => e.statusCode === 404);
  await assert.rejects(other.paymentLinks.update(link.id, { active: false }), (e) => e.statusCode === 404);
  assert.deepEqual((await other.paymentLinks.list()).data, []);
  // the other merchant's id in the page URL finds nothing
  const wrong = await env.request({ path: `/pay/${env.merchants[1].id}/${link.id}` });
  assert.equal(wrong.status, 404);
  const stored = readStoreFiles(env.dataDir);
  const log = fs.readFileSync(env.server.logPath, 'utf8');
  for (const pan of ['4242424242424242', '5555555555554444', '4000000000000002', '4000002760003184']) {
    for (const { file, data } of stored) {
      assert.ok(!data.includes(pan), `${pan} in clear in ${file}`);
    }
    assert.ok(!log.includes(pan), `${pan} in the log`);
  }
});

test('pay what you want: the link\'s page asks for the amount; its session and PaymentIntent carry it', async () => {
  const donation = await stripe.prices.create({
    currency: 'usd', product_data: { name: 'Donation' },
    custom_unit_amount: { enabled: true, minimum: 100, preset: 1000 },
  });
  // Stripe's rules: quantity 1, and (Tender) the only line item
  await assert.rejects(stripe.paymentLinks.create({ line_items: [{ price: donation.id, quantity: 2 }] }),
    (e) => e.statusCode === 400 && e.param === 'line_items[0][quantity]');
  await assert.rejects(stripe.paymentLinks.create({ line_items: [{ price: donation.id, quantity: 1 }, { price: mug.id, quantity: 1 }] }),
    (e) => e.statusCode === 400 && e.param === 'line_items');
  const link = await stripe.paymentLinks.create({
    line_items: [{ price: donation.id, quantity: 1 }], submit_type: 'donate',
    after_completion: { type: 'redirect', redirect: { url: `http://127.0.0.1:${shopPort}/thanks` } },
  });
  assertStripeShape(link, 'payment_link');
  const items = await stripe.paymentLinks.listLineItems(link.id);
  assert.equal(items.data[0].amount_subtotal, 1000); // the preset, until a buyer chooses
  assert.equal(items.data[0].price.unit_amount, null);
  assert.deepEqual(items.data[0].price.custom_unit_amount, { maximum: null, minimum: 100, preset: 1000 });
  assertStripeShape(items.data[0], 'item');

  const page = await browser.newPage();
  await page.goto(link.url);
  assert.equal(await page.inputValue('#custom-amount'), '10.00');
  await page.fill('#custom-amount', '0.99');
  await fillCard(page, '4242424242424242');
  await page.getByRole('button', { name: /Donate/ }).click();
  await page.waitForSelector('p.error');
  assert.match(await page.textContent('p.error'), /at least 1\.00 USD/);
  assert.deepEqual(await paymentsOf(link), []); // nothing charged
  await page.fill('#custom-amount', '25');
  await fillCard(page, '4242424242424242');
  await Promise.all([page.waitForURL(/\/thanks$/), page.getByRole('button', { name: /Donate/ }).click()]);
  await page.close();
  const paid = await paymentsOf(link);
  assert.deepEqual(paid.map((p) => [p.status, p.amount, p.currency]), [['succeeded', 2500, 'usd']]);
  const sessions = await stripe.checkout.sessions.list({ payment_link: link.id });
  assert.deepEqual(sessions.data.map((x) => [x.status, x.payment_status, x.amount_total, x.payment_intent]),
    [['complete', 'paid', 2500, paid[0].id]]);
  assertStripeShape(sessions.data[0], 'checkout.session');
  const li = await stripe.checkout.sessions.listLineItems(sessions.data[0].id);
  assert.equal(li.data[0].amount_total, 2500);
  // the link itself is unchanged: the next buyer starts from the preset again
  assert.equal((await stripe.paymentLinks.listLineItems(link.id)).data[0].amount_subtotal, 1000);
});

test('adjustable_quantity: the link\'s page goes on to its session\'s, where the buyer chooses the quantities; update sets and clears it', async () => {
  const bolt = await stripe.prices.create({ currency: 'usd', unit_amount_decimal: '100.5', product_data: { name: 'Bolt' } });
  const link = await stripe.paymentLinks.create({
    line_items: [
      { price: shirt.id, adjustable_quantity: { enabled: true, minimum: 1, maximum: 4 } },
      { price: bolt.id, adjustable_quantity: { enabled: true } },
      { price: mug.id },
    ],
    after_completion: { type: 'redirect', redirect: { url: `http://127.0.0.1:${shopPort}/thanks` } },
  });
  assertStripeShape(link, 'payment_link');
  const items = (await stripe.paymentLinks.listLineItems(link.id)).data;
  assert.deepEqual(items.map((i) => i.adjustable_quantity), [
    { enabled: true, maximum: 4, minimum: 1 }, { enabled: true, maximum: null, minimum: null }, null,
  ]);
  for (const i of items) assertStripeShape(i, 'item');

  const page = await browser.newPage();
  await page.goto(link.url);
  assert.equal(await page.getByLabel('Card number').count(), 0);
  await Promise.all([page.waitForURL(/\/checkout\/[^/]+\/cs_[^/]+$/), page.getByRole('button', { name: 'Continue' }).click()]);
  const sessionUrl = page.url();
  assert.equal(await page.textContent('#total'), '28.51 USD');
  assert.equal(await page.locator('input[type="number"]').count(), 2); // not the mug's
  await page.getByLabel('Quantity of T-shirt').fill('3');
  await page.getByLabel('Quantity of Bolt').fill('5');
  await Promise.all([page.waitForURL(sessionUrl), page.click('#update-quantities')]);
  // 6000 + 5 × 100.5 rounded once (503) + 750
  assert.equal(await page.textContent('#total'), '72.53 USD');
  await fillCard(page, '4242424242424242');
  await Promise.all([page.waitForURL(/\/thanks$/), page.getByRole('button', { name: /Pay 72\.53 USD/ }).click()]);
  await page.close();
  const [session] = (await stripe.checkout.sessions.list({ payment_link: link.id })).data;
  assert.equal(session.status, 'complete');
  assert.deepEqual([session.amount_subtotal, session.amount_total], [7253, 7253]);
  assertStripeShape(session, 'checkout.session');
  const lines = (await stripe.checkout.sessions.listLineItems(session.id)).data;
  assert.deepEqual(lines.map((i) => [i.quantity, i.amount_total]), [[3, 6000], [5, 503], [1, 750]]);
  assert.deepEqual(lines[0].adjustable_quantity, { enabled: true, maximum: 4, minimum: 1 });
  const [pi] = await paymentsOf(link);
  assert.equal(pi.amount, 7253);
  // the link keeps its own quantities
  assert.deepEqual((await stripe.paymentLinks.listLineItems(link.id)).data.map((i) => i.quantity), [1, 1, 1]);

  // update: refusals change nothing
  const [shirtItem, boltItem, mugItem] = items;
  const cases = [
    [[{ id: shirtItem.id, quantity: 5 }], 'line_items[0][quantity]'],
    [[{ id: mugItem.id, quantity: 3, adjustable_quantity: { enabled: true, maximum: 2 } }], 'line_items[0][adjustable_quantity][maximum]'],
    [[{ id: mugItem.id, adjustable_quantity: { enabled: true, minimum: 2 } }], 'line_items[0][adjustable_quantity][minimum]'],
    [[{ id: mugItem.id, adjustable_quantity: { minimum: 1 } }], 'line_items[0][adjustable_quantity][enabled]'],
  ];
  for (const [li, param] of cases) {
    await assert.rejects(stripe.paymentLinks.update(link.id, { line_items: li }), (e) => {
      assert.equal(e.statusCode, 400, JSON.stringify(li));
      assert.equal(e.param, param, JSON.stringify(li));
      return true;
    });
  }
  await assert.rejects(stripe.paymentLinks.create({ line_items: [{ price: shirt.id, quantity: 3, adjustable_quantity: { enabled: true, maximum: 2 } }] }),
    (e) => e.statusCode === 400 && e.param === 'line_items[0][adjustable_quantity][maximum]');
  assert.deepEqual((await stripe.paymentLinks.listLineItems(link.id)).data.map((i) => i.adjustable_quantity), items.map((i) => i.adjustable_quantity));
  // set on the mug, cleared on the shirt and the bolt: the link's page takes the card again
  const up = await stripe.paymentLinks.update(link.id, {
    line_items: [
      { id: mugItem.id, quantity: 2, adjustable_quantity: { enabled: true, maximum: 6 } },
      { id: shirtItem.id, adjustable_quantity: { enabled: false } },
      { id: boltItem.id, adjustable_quantity: { enabled: false } },
    ],
  });
  assertStripeShape(up, 'payment_link');
  assert.deepEqual((await stripe.paymentLinks.listLineItems(link.id)).data.map((i) => [i.quantity, i.adjustable_quantity]), [
    [1, null], [1, null], [2, { enabled: true, maximum: 6, minimum: null }],
  ]);
  await stripe.paymentLinks.update(link.id, { line_items: [{ id: mugItem.id, adjustable_quantity: { enabled: false } }] });
  const plain = await browser.newPage();
  await plain.goto(link.url);
  assert.equal(await plain.getByLabel('Card number').count(), 1);
  assert.equal(await plain.locator('input[type="number"]').count(), 0);
  await plain.close();
});
