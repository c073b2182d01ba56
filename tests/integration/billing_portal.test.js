'use strict';
// The customer portal through stripe-node: configurations (create, retrieve, update, list, the
// default one made on the first session, Stripe's spec), sessions (validation, another
// merchant's customer or configuration, deep links: flow_data checked at create, each flow
// completed in the page and its after_completion followed; plan changes: features[subscription_update]
// checked, the plan choice and its confirmation with the update's own preview, the change through the
// subscription update's code, the subscription_update and subscription_update_confirm deep links),
// and the portal page in headless Chromium (Debian's
// chromium + playwright-core): the customer's subscription and invoices, a cancel at the
// period's end or at once through the subscription's own code, a new card that becomes the
// default, single-use and expiring links, tenants. No card number reaches the store or the log.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { startTender, stopAll, assertStripeShape, storeSql, readStoreFiles, request, launchChromium, startShop } = require('./helpers');
const { billingShape } = require('./billing_helpers');

let env;
let stripe;
let stripeB;
let browser;
let shop;
let shopPort;
let monthly; // 20.00 usd a month
let yen; // 500 jpy a month

before(async () => {
  env = await startTender({ merchants: 2, args: ['--rate-limit', '0'] });
  stripe = env.stripe();
  stripeB = env.stripe(env.merchants[1].secret_key);
  shop = await startShop();
  shopPort = shop.address().port;
  browser = await launchChromium();
  monthly = await stripe.prices.create({ currency: 'usd', unit_amount: 2000, recurring: { interval: 'month' }, product_data: { name: 'Pro plan' } });
  yen = await stripe.prices.create({ currency: 'jpy', unit_amount: 500, recurring: { interval: 'month' }, product_data: { name: 'Yen plan' } });
});
after(async () => {
  if (browser) await browser.close();
  if (shop) shop.close();
  await stopAll();
});

const back = () => `http://127.0.0.1:${shopPort}/account`;

async function subscribed(price = monthly, email = 'jenny@example.com') {
  const customer = await stripe.customers.create({
    email, name: 'Jenny Rosen', payment_method: 'pm_card_visa',
    invoice_settings: { default_payment_method: 'pm_card_visa' },
  });
  const c = await stripe.customers.retrieve(customer.id);
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
  assert.equal(sub.status, 'active');
  return { customer: c, sub };
}

async function eventsOf(type) {
  const ev = await stripe.events.list({ type, limit: 100 });
  return ev.data;
}

test('configurations: create, retrieve, update, list, Stripe\'s shape, events, refusals', async () => {
  const conf = await stripe.billingPortal.configurations.create({
    business_profile: { headline: 'Acme billing', privacy_policy_url: 'https://example.com/privacy' },
    features: {
      invoice_history: { enabled: true },
      payment_method_update: { enabled: true },
      subscription_cancel: {
        enabled: true, mode: 'immediately',
        cancellation_reason: { enabled: true, options: ['too_expensive', 'unused'] },
      },
    },
    default_return_url: 'https://example.com/account',
    metadata: { team: 'billing' },
  });
  assertStripeShape(conf, 'billing_portal.configuration');
  assert.match(conf.id, /^bpc_/);
  assert.equal(conf.object, 'billing_portal.configuration');
  assert.equal(conf.active, true);
  assert.equal(conf.is_default, false);
  assert.equal(conf.livemode, false);
  assert.equal(conf.default_return_url, 'https://example.com/account');
  assert.deepEqual(conf.business_profile, { headline: 'Acme billing', privacy_policy_url: 'https://example.com/privacy', terms_of_service_url: null });
  assert.equal(conf.features.invoice_history.enabled, true);
  assert.equal(conf.features.payment_method_update.enabled, true);
  assert.deepEqual(conf.features.subscription_cancel, {
    cancellation_reason: { enabled: true, options: ['too_expensive', 'unused'] },
    enabled: true, mode: 'immediately', proration_behavior: 'none',
  });
  assert.equal(conf.features.customer_update.enabled, false);
  assert.equal(conf.features.subscription_update.enabled, false);
  assert.deepEqual(conf.login_page, { enabled: false, url: null });
  assert.deepEqual(conf.metadata, { team: 'billing' });
  assert.deepEqual(await stripe.billingPortal.configurations.retrieve(conf.id), conf);

  const up = await stripe.billingPortal.configurations.update(conf.id, {
    features: { subscription_cancel: { mode: 'at_period_end' }, invoice_history: { enabled: false } },
    business_profile: { headline: '' },
    default_return_url: '',
  });
  assertStripeShape(up, 'billing_portal.configuration');
  assert.equal(up.features.subscription_cancel.mode, 'at_period_end');
  assert.deepEqual(up.features.subscription_cancel.cancellation_reason.options, ['too_expensive', 'unused']);
  assert.equal(up.features.invoice_history.enabled, false);
  assert.equal(up.business_profile.headline, null);
  assert.equal(up.default_return_url, null);
  const off = await stripe.billingPortal.configurations.update(conf.id, { active: false });
  assert.equal(off.active, false);

  const created = (await eventsOf('billing_portal.configuration.created')).filter((e) => e.data.object.id === conf.id);
  assert.equal(created.length, 1);
  assert.deepEqual(created[0].data.object, conf);
  const updated = (await eventsOf('billing_portal.configuration.updated')).filter((e) => e.data.object.id === conf.id);
  assert.equal(updated.length, 2);
  assert.equal(updated[0].data.object.active, false);
  assert.deepEqual(updated[0].data.previous_attributes.active, true);
  assert.equal(updated[1].data.previous_attributes.features.subscription_cancel.mode, 'immediately');

  const inactive = await stripe.billingPortal.configurations.list({ active: false });
  assert.ok(inactive.data.some((c) => c.id === conf.id));
  const active = await stripe.billingPortal.configurations.list({ active: true });
  assert.ok(!active.data.some((c) => c.id === conf.id));
  for (const c of (await stripe.billingPortal.configurations.list()).data) assertStripeShape(c, 'billing_portal.configuration');

  // what Tender's portal does not offer is refused, not ignored (an empty products list:
  // enabling plan changes needs a product, as on Stripe)
  for (const features of [
    { subscription_update: { enabled: true, default_allowed_updates: ['price'], products: [] } },
    { customer_update: { enabled: true, allowed_updates: ['email', 'shipping'] } },
    { subscription_pause: { enabled: true } },
    { subscription_cancel: { enabled: true, proration_behavior: 'create_prorations' } },
  ]) {
    await assert.rejects(stripe.billingPortal.configurations.create({ features }),
      (e) => e.statusCode === 400 && e.type === 'StripeInvalidRequestError', JSON.stringify(features));
  }
  await assert.rejects(stripe.billingPortal.configurations.create({ features: { invoice_history: { enabled: true } }, login_page: { enabled: true } }),
    (e) => e.statusCode === 400 && e.param === 'login_page[enabled]');
  await assert.rejects(stripe.billingPortal.configurations.create({ business_profile: { headline: 'x' } }),
    (e) => e.statusCode === 400 && e.code === 'parameter_missing');
  await assert.rejects(stripe.billingPortal.configurations.create({
    features: { subscription_cancel: { enabled: true, cancellation_reason: { enabled: true, options: ['bored'] } } },
  }), (e) => e.statusCode === 400);
  // another merchant sees none of it
  await assert.rejects(stripeB.billingPortal.configurations.retrieve(conf.id), (e) => e.statusCode === 404 && e.code === 'resource_missing');
  await assert.rejects(stripeB.billingPortal.configurations.update(conf.id, { active: true }), (e) => e.statusCode === 404);
  assert.equal((await stripeB.billingPortal.configurations.list()).data.length, 0);
});

test('sessions: the default configuration made on first use, validation, another merchant\'s customer', async () => {
  const { customer } = await subscribed();
  await assert.rejects(stripe.billingPortal.sessions.create({ return_url: back() }),
    (e) => e.statusCode === 400 && e.code === 'parameter_missing' && e.param === 'customer');
  await assert.rejects(stripe.billingPortal.sessions.create({ customer: 'cus_nope', return_url: back() }),
    (e) => e.statusCode === 404 && e.code === 'resource_missing' && e.param === 'customer');
  const other = await stripeB.customers.create({ email: 'b@example.com' });
  await assert.rejects(stripe.billingPortal.sessions.create({ customer: other.id, return_url: back() }),
    (e) => e.statusCode === 404 && e.code === 'resource_missing');
  await assert.rejects(stripe.billingPortal.sessions.create({ customer: customer.id, return_url: 'javascript:alert(1)' }),
    (e) => e.statusCode === 400 && e.param === 'return_url');

  await assert.rejects(stripe.billingPortal.sessions.create({ customer: customer.id, return_url: back(), on_behalf_of: 'acct_nope' }),
    (e) => e.statusCode === 404 && e.param === 'on_behalf_of');
  const connected = await stripe.accounts.create({ type: 'custom', country: 'US' });
  const obo = await stripe.billingPortal.sessions.create({ customer: customer.id, return_url: back(), on_behalf_of: connected.id });
  assert.equal(obo.on_behalf_of, connected.id);
  const s = await stripe.billingPortal.sessions.create({ customer: customer.id, return_url: back(), locale: 'en' });
  assertStripeShape(s, 'billing_portal.session');
  assert.match(s.id, /^bps_/);
  assert.equal(s.object, 'billing_portal.session');
  assert.equal(s.customer, customer.id);
  assert.equal(s.return_url, back());
  assert.equal(s.locale, 'en');
  assert.equal(s.flow, null);
  assert.match(s.url, new RegExp(`^http://127\\.0\\.0\\.1:${env.port}/billing_portal/${env.merchant.id}/[A-Za-z0-9]{24}$`));
  // the default configuration, made now, and used by later sessions
  const defaults = await stripe.billingPortal.configurations.list({ is_default: true });
  assert.equal(defaults.data.length, 1);
  const def = defaults.data[0];
  assert.equal(def.id, s.configuration);
  assert.equal(def.is_default, true);
  assert.equal(def.features.invoice_history.enabled, true);
  assert.equal(def.features.payment_method_update.enabled, true);
  assert.equal(def.features.subscription_cancel.enabled, true);
  assert.equal(def.features.subscription_cancel.mode, 'at_period_end');
  assertStripeShape(def, 'billing_portal.configuration');
  const defCreated = (await eventsOf('billing_portal.configuration.created')).filter((e) => e.data.object.id === def.id);
  assert.equal(defCreated.length, 1);
  assert.deepEqual(defCreated[0].data.object, def);
  const s2 = await stripe.billingPortal.sessions.create({ customer: customer.id, return_url: back() });
  assert.equal(s2.configuration, def.id);
  assert.equal((await stripe.billingPortal.configurations.list({ is_default: true })).data.length, 1);
  await assert.rejects(stripe.billingPortal.configurations.update(def.id, { active: false }),
    (e) => e.statusCode === 400 && e.param === 'active');
  // no return_url and a configuration without a default one
  await assert.rejects(stripe.billingPortal.sessions.create({ customer: customer.id }),
    (e) => e.statusCode === 400 && e.param === 'return_url');
  const withUrl = await stripe.billingPortal.configurations.create({ features: { invoice_history: { enabled: true } }, default_return_url: back() });
  const s3 = await stripe.billingPortal.sessions.create({ customer: customer.id, configuration: withUrl.id });
  assert.equal(s3.return_url, back());
  assert.equal(s3.configuration, withUrl.id);
  // an inactive configuration, another merchant's
  const inactive = await stripe.billingPortal.configurations.create({ features: { invoice_history: { enabled: true } } });
  await stripe.billingPortal.configurations.update(inactive.id, { active: false });
  await assert.rejects(stripe.billingPortal.sessions.create({ customer: customer.id, configuration: inactive.id, return_url: back() }),
    (e) => e.statusCode === 400 && e.param === 'configuration');
  await assert.rejects(stripeB.billingPortal.sessions.create({ customer: other.id, configuration: withUrl.id, return_url: back() }),
    (e) => e.statusCode === 404 && e.param === 'configuration');
  // the event: the session, without its URL's secret
  const ev = (await eventsOf('billing_portal.session.created')).find((e) => e.data.object.id === s.id);
  assert.ok(ev);
  assert.equal(ev.data.object.customer, customer.id);
  assert.equal(ev.data.object.configuration, def.id);
  assert.ok(!ev.data.object.url.includes(s.url.split('/').pop()));
  // the store keeps only the secret's hash (and the request's saved answer, for an idempotent
  // replay, as every POST's): a session made without a key leaves no usable link behind
  const raw = await request({ port: env.port, method: 'POST', path: '/v1/billing_portal/sessions', key: env.merchant.secret_key,
    body: `customer=${customer.id}&return_url=${encodeURIComponent(back())}` });
  assert.equal(raw.status, 200);
  const secret = raw.json.url.split('/').pop();
  assert.ok(readStoreFiles(env.dataDir).every(({ data }) => !data.includes(secret)), 'the link is stored in clear');
});

test('the page: subscription, invoices, card; cancel at the period\'s end through the subscription\'s own code', async () => {
  const { customer, sub } = await subscribed();
  const s = await stripe.billingPortal.sessions.create({ customer: customer.id, return_url: back() });
  const page = await browser.newPage();
  const res = await page.goto(s.url);
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-security-policy'] || '', /default-src 'none'|script-src/);
  const sec = page.locator(`section[id="${sub.id}"]`);
  assert.match(await sec.textContent(), /Pro plan/);
  assert.equal(await page.locator(`[id="amount-${sub.id}"]`).textContent(), '20.00 USD per month');
  const renew = new Date(sub.items.data[0].current_period_end * 1000).toISOString().slice(0, 10);
  assert.match(await sec.locator('.renewal').textContent(), new RegExp(`Renews on ${renew}`));
  assert.equal(await page.locator('#card-brand').textContent(), 'visa');
  assert.equal(await page.locator('#card-last4').textContent(), '4242');
  const inv = await stripe.invoices.retrieve(sub.latest_invoice);
  const row = page.locator(`tr[id="${inv.id}"]`);
  assert.match(await row.textContent(), new RegExp(`${inv.number}.*20\\.00 USD.*paid`));
  assert.equal(await page.locator('#return').getAttribute('href'), back());
  assert.equal(await page.locator('script').count(), 0);

  await page.selectOption('select[name="reason"]', 'too_expensive');
  await page.getByRole('button', { name: 'Cancel plan' }).click();
  await page.waitForSelector('#notice');
  assert.match(await page.locator('#notice').textContent(), /end of the billing period/);
  assert.match(await page.locator(`section[id="${sub.id}"] .renewal`).textContent(), new RegExp(`canceled on ${renew}`));
  const after = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(after.cancel_at_period_end, true);
  assert.equal(after.status, 'active');
  assert.equal(after.cancellation_details.feedback, 'too_expensive');
  assert.equal(after.cancellation_details.reason, 'cancellation_requested');
  const ev = (await eventsOf('customer.subscription.updated')).find((e) => e.data.object.id === sub.id);
  assert.equal(ev.data.object.cancel_at_period_end, true);
  assert.equal(ev.data.previous_attributes.cancel_at_period_end, false);
  // the link back
  await Promise.all([page.waitForURL(/\/account$/), page.click('#return')]);
  await page.close();
});

test('the page: a new card through the vault becomes the default; a decline shows its error', async () => {
  const { customer } = await subscribed();
  // made without an Idempotency-Key, so that no saved answer holds its URL (checked below)
  const made = await request({ port: env.port, method: 'POST', path: '/v1/billing_portal/sessions', key: env.merchant.secret_key,
    body: `customer=${customer.id}&return_url=${encodeURIComponent(back())}` });
  assert.equal(made.status, 200);
  const s = made.json;
  const page = await browser.newPage();
  await page.goto(s.url);
  const fill = async (number) => {
    await page.getByLabel('Name on card').fill('Jenny Rosen');
    await page.getByLabel('Card number').fill(number);
    await page.getByLabel('Month (MM)').fill('12');
    await page.getByLabel('Year (YYYY)').fill('2034');
    await page.getByLabel('CVC').fill('123');
    await page.getByRole('button', { name: 'Add card' }).click();
  };
  await fill('4000000000000002'); // declined
  await page.waitForSelector('#error');
  assert.match(await page.locator('#error').textContent(), /declined/);
  assert.equal(await page.locator('#card-last4').textContent(), '4242');
  // a card that asks for 3-D Secure: refused on the page, its SetupIntent abandoned
  await fill('4000002760003184');
  await page.waitForSelector('#error');
  assert.match(await page.locator('#error').textContent(), /authentication/);
  assert.equal(await page.locator('#card-last4').textContent(), '4242');
  const sis = await stripe.setupIntents.list({ customer: customer.id });
  assert.ok(sis.data.some((si) => si.status === 'canceled' && si.cancellation_reason === 'abandoned'));
  assert.ok(!sis.data.some((si) => si.status === 'requires_action'));
  await fill('5555555555554444');
  await page.waitForSelector('#notice');
  assert.equal(await page.locator('#card-brand').textContent(), 'mastercard');
  assert.equal(await page.locator('#card-last4').textContent(), '4444');
  const c = await stripe.customers.retrieve(customer.id);
  const pm = await stripe.paymentMethods.retrieve(c.invoice_settings.default_payment_method);
  assert.equal(pm.card.last4, '4444');
  assert.equal(pm.customer, customer.id);
  assert.notEqual(pm.id, customer.invoice_settings.default_payment_method);
  const ev = (await eventsOf('customer.updated')).find((e) => e.data.object.id === customer.id && e.data.object.invoice_settings.default_payment_method === pm.id);
  assert.ok(ev);
  await page.close();
  for (const { file, data } of readStoreFiles(env.dataDir)) {
    assert.ok(!data.includes('5555555555554444'), `card number in ${file}`);
    assert.ok(!data.includes('4000000000000002'), `card number in ${file}`);
    assert.ok(!data.includes('4000002760003184'), `card number in ${file}`);
  }
  assert.ok(!fs.readFileSync(env.server.logPath).includes('5555555555554444'));
  // nor the page's secret (the SetupIntents' return_url is the merchant's)
  const secret = s.url.split('/').pop();
  assert.ok(readStoreFiles(env.dataDir).every(({ data }) => !data.includes(secret)), 'the link is stored in clear');
});

test('cancel at once; a link is single-use and expires; a stale form is refused', async () => {
  const { customer, sub } = await subscribed(yen);
  const conf = await stripe.billingPortal.configurations.create({
    features: { subscription_cancel: { enabled: true, mode: 'immediately' }, invoice_history: { enabled: false } },
  });
  const s = await stripe.billingPortal.sessions.create({ customer: customer.id, configuration: conf.id, return_url: back() });
  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.locator(`[id="amount-${sub.id}"]`).textContent(), '500 JPY per month');
  assert.equal(await page.locator('#invoices').count(), 0); // invoice history disabled
  assert.equal(await page.locator('form[action$="/payment_method"]').count(), 0); // card update disabled
  const nonce = await page.locator('input[name="nonce"]').first().getAttribute('value');
  await page.getByRole('button', { name: 'Cancel plan now' }).click();
  await page.waitForSelector('#notice');
  assert.equal(await page.locator(`section[id="${sub.id}"]`).count(), 0);
  const gone = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(gone.status, 'canceled');
  assert.ok((await eventsOf('customer.subscription.deleted')).some((e) => e.data.object.id === sub.id));
  // the used one-time value is refused
  const path = new URL(s.url).pathname;
  const stale = await request({ port: env.port, method: 'POST', path: `${path}/cancel`, body: `nonce=${nonce}&subscription=${sub.id}` });
  assert.equal(stale.status, 410);
  assert.ok(!stale.body.includes(customer.email) && !stale.body.includes(sub.id));
  // a second visit: expired, nothing of the customer
  const again = await browser.newPage();
  const r2 = await again.goto(s.url);
  assert.equal(r2.status(), 410);
  const text = await again.content();
  assert.match(text, /expired/);
  assert.ok(!text.includes(customer.email) && !text.includes('Jenny') && !text.includes(sub.id));
  await again.close();
  await page.close();
  // a link not opened within five minutes
  const old = await stripe.billingPortal.sessions.create({ customer: customer.id, return_url: back() });
  storeSql(env.dataDir, `UPDATE billing_portal_sessions SET created = created - 301 WHERE id = '${old.id}'`);
  const r3 = await request({ port: env.port, path: new URL(old.url).pathname });
  assert.equal(r3.status, 410);
  assert.ok(!r3.body.includes('Jenny'));
  // an open page idle for five minutes takes no more posts
  const idle = await stripe.billingPortal.sessions.create({ customer: customer.id, return_url: back() });
  const p4 = await browser.newPage();
  await p4.goto(idle.url);
  storeSql(env.dataDir, `UPDATE billing_portal_sessions SET last_active = last_active - 301 WHERE id = '${idle.id}'`);
  const { customer: c2 } = await subscribed();
  void c2;
  assert.equal(await p4.locator('form[action$="/payment_method"]').count(), 1);
  await p4.getByLabel('Card number').fill('5555555555554444');
  await p4.getByLabel('Month (MM)').fill('12');
  await p4.getByLabel('Year (YYYY)').fill('2034');
  await p4.getByLabel('CVC').fill('123');
  const [resp] = await Promise.all([p4.waitForResponse((r) => r.request().method() === 'POST'), p4.getByRole('button', { name: 'Add card' }).click()]);
  assert.equal(resp.status(), 410);
  await p4.close();
  // a wrong key
  const bad = await request({ port: env.port, path: `/billing_portal/${env.merchant.id}/AAAAAAAAAAAAAAAAAAAAAAAA` });
  assert.equal(bad.status, 404);
});

test('the page: the customer edits the details customer_update allows, through the customer update\'s own code', async () => {
  const { customer } = await subscribed(monthly, 'old@example.com');
  // Stripe's own example configuration
  const conf = await stripe.billingPortal.configurations.create({
    features: {
      customer_update: { allowed_updates: ['email', 'tax_id', 'name', 'address'], enabled: true },
      invoice_history: { enabled: true },
    },
  });
  assertStripeShape(conf, 'billing_portal.configuration');
  assert.deepEqual(conf.features.customer_update, { allowed_updates: ['email', 'tax_id', 'name', 'address'], enabled: true });
  const s = await stripe.billingPortal.sessions.create({ customer: customer.id, configuration: conf.id, return_url: back() });
  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.getByLabel('Email').inputValue(), 'old@example.com');
  assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'Jenny Rosen');
  assert.equal(await page.locator('#detail-phone').count(), 0); // phone is not allowed
  await page.getByLabel('Email').fill('new@example.com');
  await page.getByLabel('Address line 1').fill('1 Main St');
  await page.getByLabel('City').fill('Dublin');
  await page.getByLabel('Country (2 letters)').fill('IE');
  await page.getByRole('button', { name: 'Save details' }).click();
  await page.waitForSelector('#notice');
  let c = await stripe.customers.retrieve(customer.id);
  assert.equal(c.email, 'new@example.com');
  assert.equal(c.name, 'Jenny Rosen');
  assert.equal(c.address.line1, '1 Main St');
  assert.equal(c.address.city, 'Dublin');
  assert.equal(c.address.country, 'IE');
  const ev = (await eventsOf('customer.updated')).find((e) => e.data.object.id === customer.id && e.data.object.email === 'new@example.com');
  assert.equal(ev.data.previous_attributes.email, 'old@example.com');
  assert.equal(await page.getByLabel('Email').inputValue(), 'new@example.com');
  // a tax id, checked as the API checks it
  await page.selectOption('#tax-type', 'eu_vat');
  await page.getByLabel('Tax ID', { exact: true }).fill('nonsense');
  await page.getByRole('button', { name: 'Add tax ID' }).click();
  await page.waitForSelector('#error');
  await page.selectOption('#tax-type', 'eu_vat');
  await page.getByLabel('Tax ID', { exact: true }).fill('DE123456789');
  await page.getByRole('button', { name: 'Add tax ID' }).click();
  await page.waitForSelector('#notice');
  assert.match(await page.locator('#tax-ids').textContent(), /eu_vat DE123456789/);
  const tids = await stripe.customers.listTaxIds(customer.id);
  assert.deepEqual(tids.data.map((t) => [t.type, t.value]), [['eu_vat', 'DE123456789']]);
  // a field the configuration does not allow, posted anyway: refused, nothing changes
  const nonce = await page.locator('#details input[name="nonce"]').getAttribute('value');
  const path = new URL(s.url).pathname;
  const res = await request({ port: env.port, method: 'POST', path: `${path}/details`, body: `nonce=${nonce}&phone=%2B15555550100` });
  assert.equal(res.status, 400);
  c = await stripe.customers.retrieve(customer.id);
  assert.equal(c.phone, null);
  await page.close();
});

test('tenants: a session shows only its customer; another customer\'s subscription cannot be canceled', async () => {
  const mine = await subscribed(monthly, 'mine@example.com');
  const theirs = await subscribed(monthly, 'theirs@example.com');
  const s = await stripe.billingPortal.sessions.create({ customer: mine.customer.id, return_url: back() });
  const page = await browser.newPage();
  await page.goto(s.url);
  const html = await page.content();
  assert.ok(html.includes(mine.sub.id));
  assert.ok(!html.includes(theirs.sub.id) && !html.includes(theirs.customer.id));
  // the form posted with another customer's subscription: refused, nothing changes
  await page.locator(`section[id="${mine.sub.id}"] input[name="subscription"]`).evaluate((el, id) => { el.value = id; }, theirs.sub.id);
  await page.getByRole('button', { name: 'Cancel plan' }).click();
  await page.waitForSelector('#error');
  assert.match(await page.locator('#error').textContent(), /No such subscription/);
  assert.equal((await stripe.subscriptions.retrieve(theirs.sub.id)).cancel_at_period_end, false);
  assert.equal((await stripe.subscriptions.retrieve(mine.sub.id)).cancel_at_period_end, false);
  // the page still works with the same form value after the refusal
  await page.getByRole('button', { name: 'Cancel plan' }).click();
  await page.waitForSelector('#notice');
  assert.equal((await stripe.subscriptions.retrieve(mine.sub.id)).cancel_at_period_end, true);
  await page.close();
  // another merchant's path to the same key finds nothing
  const key = s.url.split('/').pop();
  const other = await request({ port: env.port, path: `/billing_portal/${env.merchants[1].id}/${key}` });
  assert.equal(other.status, 404);
});

test('flow_data: checked at create as Stripe does; the session\'s flow; Stripe\'s shape', async () => {
  const { customer, sub } = await subscribed();
  const { sub: othersSub } = await subscribed();
  const mk = (flow_data, extra = {}) => stripe.billingPortal.sessions.create({ customer: customer.id, return_url: back(), flow_data, ...extra });
  const bad = async (flow_data, check, extra) => assert.rejects(mk(flow_data, extra), check, JSON.stringify(flow_data));
  await bad({ after_completion: { type: 'portal_homepage' } }, (e) => e.statusCode === 400 && e.code === 'parameter_missing' && e.param === 'flow_data[type]');
  await bad({ type: 'pause' }, (e) => e.statusCode === 400 && e.param === 'flow_data[type]');
  await bad({ type: 'subscription_cancel' }, (e) => e.statusCode === 400 && e.code === 'parameter_missing' && e.param === 'flow_data[subscription_cancel]');
  await bad({ type: 'payment_method_update', subscription_cancel: { subscription: sub.id } }, (e) => e.statusCode === 400 && e.param === 'flow_data[subscription_cancel]');
  await bad({ type: 'subscription_cancel', subscription_cancel: { subscription: 'sub_nope' } },
    (e) => e.statusCode === 404 && e.code === 'resource_missing' && e.param === 'flow_data[subscription_cancel][subscription]');
  await bad({ type: 'subscription_cancel', subscription_cancel: { subscription: othersSub.id } },
    (e) => e.statusCode === 400 && e.param === 'flow_data[subscription_cancel][subscription]' && /does not belong/.test(e.message));
  const retentionParam = 'flow_data[subscription_cancel][retention][coupon_offer][coupon]';
  await bad({ type: 'subscription_cancel', subscription_cancel: { subscription: sub.id, retention: { type: 'coupon_offer', coupon_offer: { coupon: 'nope' } } } },
    (e) => e.statusCode >= 400 && e.statusCode < 500 && e.param === retentionParam);
  const euros = await stripe.coupons.create({ amount_off: 500, currency: 'eur', duration: 'once' });
  await bad({ type: 'subscription_cancel', subscription_cancel: { subscription: sub.id, retention: { type: 'coupon_offer', coupon_offer: { coupon: euros.id } } } },
    (e) => e.statusCode === 400 && e.param === retentionParam);
  await bad({ type: 'subscription_cancel', subscription_cancel: { subscription: sub.id, retention: { type: 'coupon_offer' } } },
    (e) => e.statusCode === 400 && e.code === 'parameter_missing');
  await bad({ type: 'payment_method_update', after_completion: { type: 'redirect' } },
    (e) => e.statusCode === 400 && e.code === 'parameter_missing' && e.param === 'flow_data[after_completion][redirect][return_url]');
  await bad({ type: 'payment_method_update', after_completion: { type: 'redirect', redirect: { return_url: 'javascript:alert(1)' } } },
    (e) => e.statusCode === 400 && e.param === 'flow_data[after_completion][redirect][return_url]');
  await bad({ type: 'payment_method_update', after_completion: { type: 'portal_homepage', redirect: { return_url: back() } } },
    (e) => e.statusCode === 400 && e.param === 'flow_data[after_completion][redirect]');
  await bad({ type: 'payment_method_update', after_completion: { type: 'hosted_confirmation', hosted_confirmation: { custom_message: 'x'.repeat(501) } } },
    (e) => e.statusCode === 400 && e.param === 'flow_data[after_completion][hosted_confirmation][custom_message]');
  // the configuration must offer the flow; Tender's never offers plan changes
  const noCard = await stripe.billingPortal.configurations.create({ features: { invoice_history: { enabled: true } } });
  await bad({ type: 'payment_method_update' }, (e) => e.statusCode === 400 && e.param === 'flow_data[type]' && e.message.includes(noCard.id), { configuration: noCard.id });
  await bad({ type: 'subscription_cancel', subscription_cancel: { subscription: sub.id } },
    (e) => e.statusCode === 400 && e.param === 'flow_data[type]', { configuration: noCard.id });
  await bad({ type: 'subscription_update', subscription_update: { subscription: sub.id } }, (e) => e.statusCode === 400 && e.param === 'flow_data[type]');
  await bad({ type: 'subscription_update_confirm', subscription_update_confirm: { subscription: sub.id, items: [{ id: sub.items.data[0].id, price: yen.id }] } },
    (e) => e.statusCode === 400 && e.param === 'flow_data[type]');
  // a canceled subscription, one already set to cancel
  const { customer: c2, sub: s2 } = await subscribed();
  await stripe.subscriptions.update(s2.id, { cancel_at_period_end: true });
  await assert.rejects(stripe.billingPortal.sessions.create({ customer: c2.id, return_url: back(), flow_data: { type: 'subscription_cancel', subscription_cancel: { subscription: s2.id } } }),
    (e) => e.statusCode === 400 && e.param === 'flow_data[subscription_cancel][subscription]');
  await stripe.subscriptions.cancel(s2.id);
  await assert.rejects(stripe.billingPortal.sessions.create({ customer: c2.id, return_url: back(), flow_data: { type: 'subscription_cancel', subscription_cancel: { subscription: s2.id } } }),
    (e) => e.statusCode === 400 && /canceled/.test(e.message));
  // none of the refusals made a session
  assert.ok(!(await eventsOf('billing_portal.session.created')).some((e) => e.data.object.customer === c2.id));

  const pm = await mk({ type: 'payment_method_update' });
  assertStripeShape(pm, 'billing_portal.session');
  assert.deepEqual(pm.flow, {
    after_completion: { hosted_confirmation: null, redirect: null, type: 'portal_homepage' },
    subscription_cancel: null, subscription_update: null, subscription_update_confirm: null, type: 'payment_method_update',
  });
  const cancel = await mk({
    type: 'subscription_cancel', subscription_cancel: { subscription: sub.id },
    after_completion: { type: 'hosted_confirmation', hosted_confirmation: { custom_message: 'Sorry to see you go.' } },
  });
  assertStripeShape(cancel, 'billing_portal.session');
  assert.deepEqual(cancel.flow, {
    after_completion: { hosted_confirmation: { custom_message: 'Sorry to see you go.' }, redirect: null, type: 'hosted_confirmation' },
    subscription_cancel: { retention: null, subscription: sub.id }, subscription_update: null, subscription_update_confirm: null, type: 'subscription_cancel',
  });
  const redir = await mk({ type: 'payment_method_update', after_completion: { type: 'redirect', redirect: { return_url: `${back()}?done=1` } } });
  assertStripeShape(redir, 'billing_portal.session');
  assert.deepEqual(redir.flow.after_completion, { hosted_confirmation: null, redirect: { return_url: `${back()}?done=1` }, type: 'redirect' });
  // the event carries the flow too
  const ev = (await eventsOf('billing_portal.session.created')).find((e) => e.data.object.id === cancel.id);
  assert.deepEqual(ev.data.object.flow, cancel.flow);
  assertStripeShape(ev.data.object, 'billing_portal.session');
});

async function fillCard(page, number) {
  await page.getByLabel('Card number').fill(number);
  await page.getByLabel('Month (MM)').fill('12');
  await page.getByLabel('Year (YYYY)').fill('2034');
  await page.getByLabel('CVC').fill('123');
  await page.getByRole('button', { name: 'Add card' }).click();
}

test('flow payment_method_update: the link opens the card form only; the new card becomes the default; then the redirect', async () => {
  const { customer, sub } = await subscribed();
  const s = await stripe.billingPortal.sessions.create({
    customer: customer.id, return_url: back(),
    flow_data: { type: 'payment_method_update', after_completion: { type: 'redirect', redirect: { return_url: `${back()}?done=1` } } },
  });
  const page = await browser.newPage();
  const res = await page.goto(s.url);
  assert.equal(res.status(), 200);
  assert.equal(await page.locator('#flow').getAttribute('class'), 'payment_method_update');
  assert.equal(await page.locator('#card-last4').textContent(), '4242');
  // the rest of the portal is hidden while the flow is open
  assert.equal(await page.locator(`section[id="${sub.id}"]`).count(), 0);
  assert.equal(await page.locator('#invoices').count(), 0);
  assert.equal(await page.locator('form[action$="/cancel"]').count(), 0);
  // another change posted on this link is refused, and changes nothing
  const nonce = await page.locator('input[name="nonce"]').first().getAttribute('value');
  const other = await request({ port: env.port, method: 'POST', path: `${new URL(s.url).pathname}/cancel`, body: `nonce=${nonce}&subscription=${sub.id}` });
  assert.equal(other.status, 400);
  assert.match(other.body, /another change/);
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).cancel_at_period_end, false);
  // a decline stays in the flow
  await fillCard(page, '4000000000000002');
  await page.waitForSelector('#error');
  assert.match(await page.locator('#error').textContent(), /declined/);
  assert.equal(await page.locator('#flow').count(), 1);
  await page.close();

  const s2 = await stripe.billingPortal.sessions.create({
    customer: customer.id, return_url: back(),
    flow_data: { type: 'payment_method_update', after_completion: { type: 'redirect', redirect: { return_url: `${back()}?done=1` } } },
  });
  const p2 = await browser.newPage();
  await p2.goto(s2.url);
  await Promise.all([p2.waitForURL(/\/account\?done=1$/), fillCard(p2, '5555555555554444')]);
  const c = await stripe.customers.retrieve(customer.id);
  const card = await stripe.paymentMethods.retrieve(c.invoice_settings.default_payment_method);
  assert.equal(card.card.last4, '4444');
  assert.equal(card.customer, customer.id);
  await p2.close();
  const stored = storeSql(env.dataDir, `SELECT flow_done FROM billing_portal_sessions WHERE id = '${s2.id}'`);
  assert.match(String(stored), /1/);
});

test('flow subscription_cancel: only that subscription, canceled through the portal\'s code; hosted confirmation, or the home page after', async () => {
  const { customer, sub } = await subscribed();
  const extra = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  const s = await stripe.billingPortal.sessions.create({
    customer: customer.id, return_url: back(),
    flow_data: {
      type: 'subscription_cancel', subscription_cancel: { subscription: sub.id },
      after_completion: { type: 'hosted_confirmation', hosted_confirmation: { custom_message: 'Sorry to see you go <3' } },
    },
  });
  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.locator('#flow').getAttribute('class'), 'subscription_cancel');
  assert.equal(await page.locator(`section[id="${sub.id}"]`).count(), 1);
  assert.equal(await page.locator(`section[id="${extra.id}"]`).count(), 0);
  assert.equal(await page.locator('form[action$="/payment_method"]').count(), 0);
  assert.equal(await page.locator('#invoices').count(), 0);
  await page.selectOption('select[name="reason"]', 'unused');
  await page.getByRole('button', { name: 'Cancel plan' }).click();
  await page.waitForSelector('#confirmation');
  assert.equal(await page.locator('#confirmation').textContent(), 'Sorry to see you go <3');
  assert.equal(await page.locator('#return').getAttribute('href'), back());
  const after = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(after.cancel_at_period_end, true);
  assert.equal(after.cancellation_details.feedback, 'unused');
  assert.equal((await stripe.subscriptions.retrieve(extra.id)).cancel_at_period_end, false);
  const ev = (await eventsOf('customer.subscription.updated')).find((e) => e.data.object.id === sub.id);
  assert.equal(ev.data.previous_attributes.cancel_at_period_end, false);
  await page.close();

  // the default after_completion: the portal's home page, whole, with what was done
  const s2 = await stripe.billingPortal.sessions.create({
    customer: customer.id, return_url: back(),
    flow_data: { type: 'subscription_cancel', subscription_cancel: { subscription: extra.id } },
  });
  const p2 = await browser.newPage();
  await p2.goto(s2.url);
  assert.equal(await p2.locator(`section[id="${sub.id}"]`).count(), 0);
  await p2.getByRole('button', { name: 'Cancel plan' }).click();
  await p2.waitForSelector('#notice');
  assert.match(await p2.locator('#notice').textContent(), /end of the billing period/);
  assert.equal(await p2.locator('#flow').count(), 0);
  assert.equal(await p2.locator(`section[id="${sub.id}"]`).count(), 1);
  assert.equal(await p2.locator('#invoices').count(), 1);
  assert.equal(await p2.locator('form[action$="/payment_method"]').count(), 1);
  assert.equal((await stripe.subscriptions.retrieve(extra.id)).cancel_at_period_end, true);
  // and the home page's own changes work after the flow
  await fillCard(p2, '5555555555554444');
  await p2.waitForSelector('#notice');
  assert.equal(await p2.locator('#card-last4').textContent(), '4444');
  await p2.close();

  // the flow's subscription canceled through the API before the link is opened
  const third = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  const s3 = await stripe.billingPortal.sessions.create({
    customer: customer.id, return_url: back(),
    flow_data: { type: 'subscription_cancel', subscription_cancel: { subscription: third.id } },
  });
  await stripe.subscriptions.cancel(third.id);
  const p3 = await browser.newPage();
  await p3.goto(s3.url);
  assert.match(await p3.locator('#no-subscriptions').textContent(), /no longer active/);
  assert.equal(await p3.locator('form[action$="/cancel"]').count(), 0);
  assert.equal(await p3.locator('section.subscription').count(), 0);
  await p3.close();
});

test('flow subscription_cancel with a retention coupon offer: accepting it discounts the subscription instead; declining cancels', async () => {
  const coupon = await stripe.coupons.create({ percent_off: 25, duration: 'forever', name: 'Stay 25' });
  const { customer, sub } = await subscribed();
  const s = await stripe.billingPortal.sessions.create({
    customer: customer.id, return_url: back(),
    flow_data: {
      type: 'subscription_cancel',
      subscription_cancel: { subscription: sub.id, retention: { type: 'coupon_offer', coupon_offer: { coupon: coupon.id } } },
      after_completion: { type: 'redirect', redirect: { return_url: `${back()}?stayed=1` } },
    },
  });
  assertStripeShape(s, 'billing_portal.session');
  assert.deepEqual(s.flow.subscription_cancel, { retention: { coupon_offer: { coupon: coupon.id }, type: 'coupon_offer' }, subscription: sub.id });
  const page = await browser.newPage();
  await page.goto(s.url);
  assert.match(await page.locator('#offer').textContent(), /25% off/);
  assert.equal(await page.locator(`section[id="${sub.id}"]`).count(), 1);
  await Promise.all([page.waitForURL(/\/account\?stayed=1$/), page.getByRole('button', { name: 'Accept offer' }).click()]);
  await page.close();
  const kept = await stripe.subscriptions.retrieve(sub.id, { expand: ['discounts'] });
  assert.equal(kept.status, 'active');
  assert.equal(kept.cancel_at_period_end, false);
  assert.equal(kept.discounts.length, 1);
  assert.equal(kept.discounts[0].source.coupon, coupon.id);
  const ev = (await eventsOf('customer.subscription.updated')).find((e) => e.data.object.id === sub.id);
  assert.deepEqual(ev.data.previous_attributes.discounts, []);
  assert.equal(ev.data.object.discounts.length, 1);
  assert.equal((await stripe.coupons.retrieve(coupon.id)).times_redeemed, 1);

  // declined: the cancel goes on as without an offer, and no discount is made
  const { customer: c2, sub: s2 } = await subscribed();
  const d = await stripe.billingPortal.sessions.create({
    customer: c2.id, return_url: back(),
    flow_data: { type: 'subscription_cancel', subscription_cancel: { subscription: s2.id, retention: { type: 'coupon_offer', coupon_offer: { coupon: coupon.id } } } },
  });
  const p2 = await browser.newPage();
  await p2.goto(d.url);
  assert.equal(await p2.locator('#offer').count(), 1);
  await p2.getByRole('button', { name: 'Cancel plan' }).click();
  await p2.waitForSelector('#notice');
  // the flow is done: the home page, and no offer any more
  assert.equal(await p2.locator('#offer').count(), 0);
  await p2.close();
  const gone = await stripe.subscriptions.retrieve(s2.id);
  assert.equal(gone.cancel_at_period_end, true);
  assert.deepEqual(gone.discounts, []);
  assert.equal((await stripe.coupons.retrieve(coupon.id)).times_redeemed, 1);
});

// ---- plan changes (features[subscription_update]) ----

let team; // a product with three monthly prices (10.00, 50.00 usd; 1000 jpy) and a yearly one
async function teamPlans() {
  if (team) return team;
  const product = await stripe.products.create({ name: 'Team plan' });
  const price = (unit_amount, recurring, currency = 'usd') => stripe.prices.create({ product: product.id, currency, unit_amount, recurring });
  team = {
    product,
    basic: await price(1000, { interval: 'month' }),
    pro: await price(5000, { interval: 'month' }),
    yearly: await price(50000, { interval: 'year' }),
    yen: await price(1000, { interval: 'month' }, 'jpy'),
  };
  return team;
}

// A subscription to `price` of a customer on a test clock frozen now: the page's preview and
// the change then run at the same instant, and their prorations are equal to the unit.
async function onClock(price, quantity = 1) {
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: Math.floor(Date.now() / 1000) });
  const customer = await stripe.customers.create({
    test_clock: clock.id, email: 'team@example.com', payment_method: 'pm_card_visa',
    invoice_settings: { default_payment_method: 'pm_card_visa' },
  });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id, quantity }] });
  assert.equal(sub.status, 'active');
  return { customer, sub };
}

const usd = (n) => `${n < 0 ? '-' : ''}${Math.floor(Math.abs(n) / 100)}.${String(Math.abs(n) % 100).padStart(2, '0')} USD`;

function updateConf(su, extra = {}) {
  return stripe.billingPortal.configurations.create({ features: { subscription_update: { enabled: true, ...su } }, ...extra });
}

test('plan changes: features[subscription_update] checked as Stripe checks it, shown on create and update', async () => {
  const { product, basic, pro } = await teamPlans();
  const oneTime = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 700 });
  const metered = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 5, recurring: { interval: 'month', usage_type: 'metered' } });
  const retired = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 3000, recurring: { interval: 'month' } });
  await stripe.prices.update(retired.id, { active: false });
  const oldProduct = await stripe.products.create({ name: 'Old plan', active: false });
  const theirs = await stripeB.prices.create({ currency: 'usd', unit_amount: 1000, recurring: { interval: 'month' }, product_data: { name: 'B plan' } });
  const good = { default_allowed_updates: ['price', 'quantity'], products: [{ product: product.id, prices: [basic.id, pro.id] }] };
  const bad = async (su, check) => assert.rejects(updateConf(su), check, JSON.stringify(su));
  const P = 'features[subscription_update][products]';
  await bad({ ...good, products: [{ product: 'prod_nope', prices: [basic.id] }] }, (e) => e.statusCode === 404 && e.code === 'resource_missing' && e.param === `${P}[0][product]`);
  await bad({ ...good, products: [{ product: product.id, prices: ['price_nope'] }] }, (e) => e.statusCode === 404 && e.param === `${P}[0][prices][0]`);
  await bad({ ...good, products: [{ product: product.id, prices: [basic.id, theirs.id] }] }, (e) => e.statusCode === 404 && e.param === `${P}[0][prices][1]`);
  await bad({ ...good, products: [{ product: theirs.product, prices: [theirs.id] }] }, (e) => e.statusCode === 404 && e.param === `${P}[0][product]`);
  await bad({ ...good, products: [{ product: product.id, prices: [monthly.id] }] }, (e) => e.statusCode === 400 && /does not belong/.test(e.message));
  await bad({ ...good, products: [{ product: product.id, prices: [oneTime.id] }] }, (e) => e.statusCode === 400 && /not recurring/.test(e.message));
  await bad({ ...good, products: [{ product: product.id, prices: [metered.id] }] }, (e) => e.statusCode === 400 && /metered/.test(e.message));
  await bad({ ...good, products: [{ product: product.id, prices: [retired.id] }] }, (e) => e.statusCode === 400 && /not active/.test(e.message));
  await bad({ ...good, products: [{ product: oldProduct.id, prices: [] }] }, (e) => e.statusCode === 400 && e.param.startsWith(`${P}[0]`));
  await bad({ ...good, products: [{ product: product.id, prices: [basic.id] }, { product: product.id, prices: [pro.id] }] }, (e) => e.statusCode === 400 && e.param === `${P}[1][product]`);
  await bad({ ...good, products: '' }, (e) => e.statusCode === 400 && e.param === P);
  await bad({ ...good, default_allowed_updates: ['price', 'promotion_code'] }, (e) => e.statusCode === 400 && e.param === 'features[subscription_update][default_allowed_updates]');
  await bad({ ...good, default_allowed_updates: ['downgrade'] }, (e) => e.statusCode === 400);
  await bad({ ...good, proration_behavior: 'sometimes' }, (e) => e.statusCode === 400 && e.param === 'features[subscription_update][proration_behavior]');
  await bad({ ...good, schedule_at_period_end: { conditions: [{ type: 'decreasing_item_amount' }] } }, (e) => e.statusCode === 400 && e.code === 'parameter_unknown');
  await bad({ products: good.products }, (e) => e.statusCode === 400 && e.code === 'parameter_missing' && e.param === 'features[subscription_update][default_allowed_updates]');
  await bad({ default_allowed_updates: ['price'] }, (e) => e.statusCode === 400 && e.code === 'parameter_missing' && e.param === 'features[subscription_update][products]');
  const before = (await stripe.billingPortal.configurations.list({ limit: 100 })).data.length;

  const conf = await updateConf({ ...good, proration_behavior: 'always_invoice' });
  assertStripeShape(conf, 'billing_portal.configuration');
  assert.deepEqual(conf.features.subscription_update, {
    default_allowed_updates: ['price', 'quantity'], enabled: true,
    products: [{ prices: [basic.id, pro.id], product: product.id }], proration_behavior: 'always_invoice',
  });
  assert.equal((await stripe.billingPortal.configurations.list({ limit: 100 })).data.length, before + 1);
  assert.deepEqual(await stripe.billingPortal.configurations.retrieve(conf.id), conf);
  // an update: its checks too, and nothing kept of a refused one
  await assert.rejects(stripe.billingPortal.configurations.update(conf.id, { features: { subscription_update: { products: [{ product: product.id, prices: [oneTime.id] }] } } }),
    (e) => e.statusCode === 400 && e.param === `${P}[0][prices][0]`);
  assert.deepEqual(await stripe.billingPortal.configurations.retrieve(conf.id), conf);
  const up = await stripe.billingPortal.configurations.update(conf.id, { features: { subscription_update: { default_allowed_updates: ['quantity'], proration_behavior: 'create_prorations' } } });
  assertStripeShape(up, 'billing_portal.configuration');
  assert.deepEqual(up.features.subscription_update, {
    default_allowed_updates: ['quantity'], enabled: true,
    products: [{ prices: [basic.id, pro.id], product: product.id }], proration_behavior: 'create_prorations',
  });
  const ev = (await eventsOf('billing_portal.configuration.updated')).find((e) => e.data.object.id === conf.id);
  assert.deepEqual(ev.data.object, up);
  assert.equal(ev.data.previous_attributes.features.subscription_update.proration_behavior, 'always_invoice');
  const off = await stripe.billingPortal.configurations.update(conf.id, { features: { subscription_update: { enabled: false } } });
  assert.equal(off.features.subscription_update.enabled, false);
  assert.deepEqual(off.features.subscription_update.products, up.features.subscription_update.products);
});

test('the page: a plan chosen and confirmed, changed through the subscription update (always_invoice: its invoice paid at once)', async () => {
  const { product, basic, pro, yearly, yen: yenTeam } = await teamPlans();
  const conf = await updateConf({
    default_allowed_updates: ['price', 'quantity'], proration_behavior: 'always_invoice',
    products: [{ product: product.id, prices: [basic.id, pro.id, yearly.id, yenTeam.id] }],
  });
  const { customer, sub } = await onClock(basic);
  const item = sub.items.data[0].id;
  const other = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  const s = await stripe.billingPortal.sessions.create({ customer: customer.id, configuration: conf.id, return_url: back() });
  const page = await browser.newPage();
  await page.goto(s.url);
  // a subscription whose price is not among the configuration's products cannot be changed
  assert.equal(await page.locator(`section[id="${other.id}"] form[action$="/update"]`).count(), 0);
  await page.locator(`section[id="${sub.id}"]`).getByRole('button', { name: 'Update plan' }).click();
  await page.waitForSelector('#update-plan');
  const choice = await page.locator('#update-plan').textContent();
  assert.match(choice, /Team plan: 10\.00 USD per month \(current\)/);
  assert.match(choice, /Team plan: 50\.00 USD per month/);
  assert.match(choice, /Team plan: 500\.00 USD per year/);
  // the yen price is not in the subscription's currency
  assert.equal(await page.locator(`[id="price-${yenTeam.id}"]`).count(), 0);
  assert.equal(await page.locator(`[id="price-${basic.id}"]`).isChecked(), true);
  assert.equal(await page.locator('script').count(), 0);
  await page.check(`[id="price-${pro.id}"]`);
  await page.fill('#quantity', '2');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForSelector('#update-confirm');
  assert.equal(await page.locator('#new-amount').textContent(), '100.00 USD per month');
  // what the API's preview of the same change says, at the same (frozen) time
  const preview = await stripe.invoices.createPreview({
    customer: customer.id, subscription: sub.id,
    subscription_details: { items: [{ id: item, price: pro.id, quantity: 2 }], proration_behavior: 'always_invoice' },
  });
  assert.equal(preview.amount_due, 9000); // 2 × 50.00 for the whole period, less the unused 10.00
  assert.equal(await page.locator('#due-today .amt').textContent(), usd(preview.amount_due));
  assert.equal(await page.locator('#proration-total').textContent(), `Prorations: ${usd(preview.total)}`);
  assert.equal(await page.locator('#prorations li').count(), 2);
  // writes nothing until confirmed
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).items.data[0].price.id, basic.id);
  const staleNonce = await page.locator('#update-confirm input[name="nonce"]').getAttribute('value');
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.waitForSelector('#notice');
  assert.equal(await page.locator('#notice').textContent(), 'Your plan was updated.');
  assert.equal(await page.locator(`[id="amount-${sub.id}"]`).textContent(), '100.00 USD per month');

  const after = await stripe.subscriptions.retrieve(sub.id);
  billingShape(after, 'subscription');
  assert.equal(after.items.data[0].id, item);
  assert.equal(after.items.data[0].price.id, pro.id);
  assert.equal(after.items.data[0].quantity, 2);
  assert.notEqual(after.latest_invoice, sub.latest_invoice);
  const inv = await stripe.invoices.retrieve(after.latest_invoice);
  billingShape(inv, 'invoice');
  assert.equal(inv.billing_reason, 'subscription_update');
  assert.equal(inv.status, 'paid');
  assert.equal(inv.amount_paid, preview.amount_due);
  assert.equal(inv.total, preview.total);
  assert.ok(inv.lines.data.every((l) => l.parent?.subscription_item_details?.proration ?? l.proration ?? true));
  assert.equal((await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data.length, 0);
  // (its creation's own update, incomplete to active, aside)
  const changes = async () => (await eventsOf('customer.subscription.updated')).filter((e) => e.data.object.id === sub.id && e.data.previous_attributes.items);
  const updated = await changes();
  assert.equal(updated.length, 1);
  assert.equal(updated[0].data.previous_attributes.items.data[0].price.id, basic.id);
  billingShape(updated[0].data.object, 'subscription');
  assert.ok((await eventsOf('invoice.paid')).some((e) => e.data.object.id === inv.id));
  // the confirmation's form posted again (a double click, a replay) changes nothing more
  const replay = await request({ port: env.port, method: 'POST', path: `${new URL(s.url).pathname}/update/apply`,
    body: `nonce=${staleNonce}&subscription=${sub.id}&price=${pro.id}&quantity=2` });
  assert.equal(replay.status, 410);
  assert.equal((await changes()).length, 1);

  // a new interval starts a new period, invoiced at once in full, the unused time credited
  await page.locator(`section[id="${sub.id}"]`).getByRole('button', { name: 'Update plan' }).click();
  await page.check(`[id="price-${yearly.id}"]`);
  await page.fill('#quantity', '1');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForSelector('#update-confirm');
  const yPreview = await stripe.invoices.createPreview({
    customer: customer.id, subscription: sub.id,
    subscription_details: { items: [{ id: item, price: yearly.id, quantity: 1 }], proration_behavior: 'always_invoice' },
  });
  assert.equal(await page.locator('#due-today .amt').textContent(), usd(yPreview.amount_due));
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.waitForSelector('#notice');
  const yearlySub = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(yearlySub.items.data[0].price.id, yearly.id);
  assert.equal((await stripe.invoices.retrieve(yearlySub.latest_invoice)).amount_paid, yPreview.amount_due);
  await page.close();
});

test('the page: quantity alone with create_prorations: pending prorations for the next invoice; what is not allowed is refused', async () => {
  const { product, basic, pro } = await teamPlans();
  const conf = await updateConf({
    default_allowed_updates: ['quantity'], proration_behavior: 'create_prorations',
    products: [{ product: product.id, prices: [basic.id, pro.id] }],
  });
  const { customer, sub } = await onClock(basic, 2);
  const s = await stripe.billingPortal.sessions.create({ customer: customer.id, configuration: conf.id, return_url: back() });
  const page = await browser.newPage();
  await page.goto(s.url);
  await page.getByRole('button', { name: 'Update plan' }).click();
  await page.waitForSelector('#update-plan');
  // price changes are not allowed: the current price alone
  assert.equal(await page.locator('input[name="price"]').count(), 1);
  assert.equal(await page.locator('#quantity').inputValue(), '2');
  // a price posted anyway is refused, and the choice shown again with why
  const path = new URL(s.url).pathname;
  const nonce = await page.locator('#update-plan input[name="nonce"]').getAttribute('value');
  const forged = await request({ port: env.port, method: 'POST', path: `${path}/update/confirm`, body: `nonce=${nonce}&subscription=${sub.id}&price=${pro.id}&quantity=2` });
  assert.equal(forged.status, 400);
  assert.match(forged.body, /does not allow price changes/);
  // the same quantity is no change
  const same = await request({ port: env.port, method: 'POST', path: `${path}/update/confirm`, body: `nonce=${nonce}&subscription=${sub.id}&price=${basic.id}&quantity=2` });
  assert.equal(same.status, 400);
  assert.match(same.body, /current plan/);
  await page.fill('#quantity', '5');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForSelector('#update-confirm');
  assert.equal(await page.locator('#new-amount').textContent(), '50.00 USD per month');
  assert.equal(await page.locator('#due-today').count(), 0);
  const preview = await stripe.invoices.createPreview({
    customer: customer.id, subscription: sub.id,
    subscription_details: { items: [{ id: sub.items.data[0].id, quantity: 5 }], proration_behavior: 'create_prorations' },
  });
  assert.match(await page.locator('#next-invoice').textContent(), new RegExp(`${new Date(preview.period_end * 1000).toISOString().slice(0, 10)}|${new Date(sub.items.data[0].current_period_end * 1000).toISOString().slice(0, 10)}`));
  assert.equal(await page.locator('#next-invoice .amt').textContent(), usd(preview.amount_due));
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.waitForSelector('#notice');
  await page.close();
  const after = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(after.items.data[0].quantity, 5);
  assert.equal(after.items.data[0].price.id, basic.id);
  assert.equal(after.latest_invoice, sub.latest_invoice);
  const pending = (await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data;
  assert.equal(pending.length, 2);
  assert.ok(pending.every((ii) => ii.proration));
  const prorated = pending.reduce((t, ii) => t + ii.amount, 0);
  assert.equal(prorated, 3000); // 3 more seats for the whole period
  assert.equal((await stripe.invoices.createPreview({ customer: customer.id, subscription: sub.id })).amount_due, preview.amount_due);
});

test('flow subscription_update: checked at create; the link opens that subscription\'s plan choice; the redirect after', async () => {
  const { product, basic, pro } = await teamPlans();
  const conf = await updateConf({
    default_allowed_updates: ['price'], proration_behavior: 'none',
    products: [{ product: product.id, prices: [basic.id, pro.id] }],
  });
  const { customer, sub } = await onClock(basic);
  const untouched = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  const { sub: othersSub } = await onClock(basic);
  const mk = (flow_data, configuration = conf.id) => stripe.billingPortal.sessions.create({ customer: customer.id, configuration, return_url: back(), flow_data });
  const bad = (flow_data, check, configuration) => assert.rejects(mk(flow_data, configuration), check, JSON.stringify(flow_data));
  const S = 'flow_data[subscription_update][subscription]';
  await bad({ type: 'subscription_update' }, (e) => e.statusCode === 400 && e.code === 'parameter_missing' && e.param === 'flow_data[subscription_update]');
  await bad({ type: 'subscription_update', subscription_update: { subscription: othersSub.id } }, (e) => e.statusCode === 400 && e.param === S && /does not belong/.test(e.message));
  await bad({ type: 'subscription_update', subscription_update: { subscription: untouched.id } }, (e) => e.statusCode === 400 && e.param === S && /not among/.test(e.message));
  const noUpdates = await stripe.billingPortal.configurations.create({ features: { invoice_history: { enabled: true } } });
  await bad({ type: 'subscription_update', subscription_update: { subscription: sub.id } }, (e) => e.statusCode === 400 && e.param === 'flow_data[type]', noUpdates.id);

  const s = await mk({
    type: 'subscription_update', subscription_update: { subscription: sub.id },
    after_completion: { type: 'redirect', redirect: { return_url: `${back()}?plan=1` } },
  });
  assertStripeShape(s, 'billing_portal.session');
  assert.deepEqual(s.flow, {
    after_completion: { hosted_confirmation: null, redirect: { return_url: `${back()}?plan=1` }, type: 'redirect' },
    subscription_cancel: null, subscription_update: { subscription: sub.id }, subscription_update_confirm: null, type: 'subscription_update',
  });
  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.locator('#flow').getAttribute('class'), 'subscription_update');
  assert.equal(await page.locator('#update-plan').count(), 1);
  assert.equal(await page.locator('#quantity').count(), 0);
  // the rest of the portal is hidden, and its changes refused, until the flow is done
  assert.equal(await page.locator('section.subscription').count(), 0);
  assert.equal(await page.locator('#invoices').count(), 0);
  const path = new URL(s.url).pathname;
  const nonce = await page.locator('input[name="nonce"]').first().getAttribute('value');
  const details = await request({ port: env.port, method: 'POST', path: `${path}/details`, body: `nonce=${nonce}&email=x%40example.com` });
  assert.equal(details.status, 400);
  assert.match(details.body, /another change/);
  assert.equal((await stripe.customers.retrieve(customer.id)).email, 'team@example.com');
  const elsewhere = await request({ port: env.port, method: 'POST', path: `${path}/update`, body: `nonce=${nonce}&subscription=${untouched.id}` });
  assert.equal(elsewhere.status, 400);
  assert.match(elsewhere.body, /another change/);
  await page.check(`[id="price-${pro.id}"]`);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForSelector('#update-confirm');
  // proration_behavior none: nothing for the current period
  assert.equal(await page.locator('#no-proration').count(), 1);
  await Promise.all([page.waitForURL(/\/account\?plan=1$/), page.getByRole('button', { name: 'Confirm' }).click()]);
  await page.close();
  const after = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(after.items.data[0].price.id, pro.id);
  assert.equal(after.latest_invoice, sub.latest_invoice);
  assert.equal((await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data.length, 0);
  assert.equal((await stripe.subscriptions.retrieve(untouched.id)).items.data[0].price.id, monthly.id);
  assert.match(String(storeSql(env.dataDir, `SELECT flow_done FROM billing_portal_sessions WHERE id = '${s.id}'`)), /1/);
});

test('flow subscription_update_confirm: checked at create; the link confirms that exact change; hosted confirmation', async () => {
  const { product, basic, pro } = await teamPlans();
  const conf = await updateConf({
    default_allowed_updates: ['price', 'quantity'], proration_behavior: 'always_invoice',
    products: [{ product: product.id, prices: [basic.id, pro.id] }],
  });
  const priceOnly = await updateConf({ default_allowed_updates: ['price'], products: [{ product: product.id, prices: [basic.id, pro.id] }] });
  const { customer, sub } = await onClock(basic);
  const { sub: othersSub } = await onClock(basic);
  const item = sub.items.data[0].id;
  const mk = (flow_data, configuration = conf.id) => stripe.billingPortal.sessions.create({ customer: customer.id, configuration, return_url: back(), flow_data });
  const C = 'flow_data[subscription_update_confirm]';
  const bad = (suc, check, configuration) => assert.rejects(mk({ type: 'subscription_update_confirm', subscription_update_confirm: suc }, configuration), check, JSON.stringify(suc));
  await bad({ subscription: sub.id }, (e) => e.statusCode === 400 && e.code === 'parameter_missing' && e.param === `${C}[items]`);
  await bad({ subscription: sub.id, items: [{ id: othersSub.items.data[0].id, price: pro.id }] }, (e) => e.statusCode === 400 && e.param === `${C}[items][0][id]`);
  await bad({ subscription: othersSub.id, items: [{ id: othersSub.items.data[0].id, price: pro.id }] }, (e) => e.statusCode === 400 && e.param === `${C}[subscription]`);
  await bad({ subscription: sub.id, items: [{ id: item, price: monthly.id }] }, (e) => e.statusCode === 400 && e.param === `${C}[items][0][price]`);
  await bad({ subscription: sub.id, items: [{ id: item, quantity: 3 }] }, (e) => e.statusCode === 400 && e.param === `${C}[items][0][quantity]`, priceOnly.id);
  await bad({ subscription: sub.id, items: [{ id: item, price: basic.id }] }, (e) => e.statusCode === 400 && /current plan/.test(e.message));
  await bad({ subscription: sub.id, items: [{ id: item, price: pro.id }, { id: item, quantity: 2 }] }, (e) => e.statusCode === 400);
  await bad({ subscription: sub.id, items: [{ id: item, price: pro.id }], discounts: [{ coupon: 'x' }] }, (e) => e.statusCode === 400 && e.param === `${C}[discounts]`);
  assert.ok(!(await eventsOf('billing_portal.session.created')).some((e) => e.data.object.customer === customer.id));

  const s = await mk({
    type: 'subscription_update_confirm',
    subscription_update_confirm: { subscription: sub.id, items: [{ id: item, price: pro.id, quantity: 3 }] },
    after_completion: { type: 'hosted_confirmation', hosted_confirmation: { custom_message: 'Welcome to Pro.' } },
  });
  assertStripeShape(s, 'billing_portal.session');
  assert.deepEqual(s.flow.subscription_update_confirm, { discounts: null, items: [{ id: item, price: pro.id, quantity: 3 }], subscription: sub.id });
  assert.equal(s.flow.subscription_update, null);
  const ev = (await eventsOf('billing_portal.session.created')).find((e) => e.data.object.id === s.id);
  assert.deepEqual(ev.data.object.flow, s.flow);
  const page = await browser.newPage();
  await page.goto(s.url);
  assert.equal(await page.locator('#flow').getAttribute('class'), 'subscription_update_confirm');
  assert.equal(await page.locator('#update-plan').count(), 0);
  assert.equal(await page.locator('#new-amount').textContent(), '150.00 USD per month');
  const preview = await stripe.invoices.createPreview({
    customer: customer.id, subscription: sub.id,
    subscription_details: { items: [{ id: item, price: pro.id, quantity: 3 }], proration_behavior: 'always_invoice' },
  });
  assert.equal(await page.locator('#due-today .amt').textContent(), usd(preview.amount_due));
  // another change posted on this link is refused
  const path = new URL(s.url).pathname;
  const nonce = await page.locator('input[name="nonce"]').first().getAttribute('value');
  const other = await request({ port: env.port, method: 'POST', path: `${path}/update/apply`, body: `nonce=${nonce}&subscription=${sub.id}&price=${pro.id}&quantity=1` });
  assert.equal(other.status, 400);
  assert.match(other.body, /another change/);
  assert.equal((await stripe.subscriptions.retrieve(sub.id)).items.data[0].price.id, basic.id);
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.waitForSelector('#confirmation');
  assert.equal(await page.locator('#confirmation').textContent(), 'Welcome to Pro.');
  await page.close();
  const after = await stripe.subscriptions.retrieve(sub.id);
  assert.equal(after.items.data[0].price.id, pro.id);
  assert.equal(after.items.data[0].quantity, 3);
  const inv = await stripe.invoices.retrieve(after.latest_invoice);
  assert.equal(inv.status, 'paid');
  assert.equal(inv.amount_paid, preview.amount_due);
  assert.match(String(storeSql(env.dataDir, `SELECT flow_done FROM billing_portal_sessions WHERE id = '${s.id}'`)), /1/);

  // a declined payment undoes the change: the page says why, and the link's flow stays open
  const { customer: c2, sub: s2 } = await onClock(basic);
  const declining = await stripe.paymentMethods.attach('pm_card_chargeDeclined', { customer: c2.id });
  await stripe.customers.update(c2.id, { invoice_settings: { default_payment_method: declining.id } });
  const d = await stripe.billingPortal.sessions.create({
    customer: c2.id, configuration: conf.id, return_url: back(),
    flow_data: { type: 'subscription_update_confirm', subscription_update_confirm: { subscription: s2.id, items: [{ id: s2.items.data[0].id, price: pro.id }] } },
  });
  const p2 = await browser.newPage();
  await p2.goto(d.url);
  const [res] = await Promise.all([p2.waitForResponse((r) => r.request().method() === 'POST'), p2.getByRole('button', { name: 'Confirm' }).click()]);
  assert.equal(res.status(), 402);
  await p2.waitForSelector('#error');
  assert.match(await p2.locator('#error').textContent(), /declined/);
  assert.equal(await p2.locator('#flow').getAttribute('class'), 'subscription_update_confirm');
  await p2.close();
  const kept = await stripe.subscriptions.retrieve(s2.id);
  assert.equal(kept.items.data[0].price.id, basic.id);
  assert.equal(kept.latest_invoice, s2.latest_invoice);
  assert.equal((await stripe.invoices.list({ subscription: s2.id })).data.length, 1);
  assert.equal((await stripe.invoiceItems.list({ customer: c2.id, pending: true })).data.length, 0);
  assert.match(String(storeSql(env.dataDir, `SELECT flow_done FROM billing_portal_sessions WHERE id = '${d.id}'`)), /^0$/m);
});
