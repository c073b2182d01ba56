'use strict';
// Small resources through stripe-node: country specs (a static table of the countries Tender's
// Connect knows, paged in alphabetical order), payment method domains (host names only, unique
// per merchant, every wallet active at once as in Stripe's test mode, enabled switch, validate,
// list filters), the legacy Apple Pay domains (create, retrieve, list, delete), and payment
// method configurations (the merchant's default made on first read, card the only available
// type, per-type preferences, the default not deactivatable), each kept to its merchant and to
// a connected account acting with Stripe-Account, and idempotent creates replayed.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startTender, stopAll, assertStripeShape, SHARED } = require('./helpers');

let env;
let stripe;
let other;
let connected;

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
  connected = (await stripe.accounts.create({ type: 'custom', country: 'US' })).id;
});
after(stopAll);

const as = (id) => ({ stripeAccount: id });

async function rejects(p, status, param, re) {
  await assert.rejects(p, (e) => {
    assert.equal(e.statusCode, status, e.message);
    if (param !== undefined) assert.equal(e.param, param);
    if (re) assert.match(e.message, re);
    return true;
  });
}

test('country specs: retrieve, list pages in order, unknown country 404', async () => {
  const us = await stripe.countrySpecs.retrieve('US');
  assertStripeShape(us, 'country_spec');
  assert.equal(us.id, 'US');
  assert.equal(us.object, 'country_spec');
  assert.equal(us.default_currency, 'usd');
  assert.deepEqual(us.supported_bank_account_currencies, { usd: ['US'] });
  assert.deepEqual(us.supported_payment_methods, ['card']);
  assert.ok(us.supported_payment_currencies.includes('usd'));
  assert.ok(us.supported_payment_currencies.includes('jpy'));
  assert.ok(us.supported_transfer_countries.includes('GB'));
  assert.ok(us.verification_fields.individual.minimum.includes('individual.first_name'));
  assert.ok(us.verification_fields.company.minimum.includes('company.name'));
  assert.deepEqual(us.verification_fields.company.additional, []);
  const de = await stripe.countrySpecs.retrieve('DE');
  assert.equal(de.default_currency, 'eur');
  assert.ok(de.supported_bank_account_currencies.eur.includes('FR'));
  assert.equal((await stripe.countrySpecs.retrieve('jp')).default_currency, 'jpy');
  await rejects(stripe.countrySpecs.retrieve('ZZ'), 404, 'country', /No such country_spec/);

  const first = await stripe.countrySpecs.list({ limit: 5 });
  assert.equal(first.object, 'list');
  assert.equal(first.url, '/v1/country_specs');
  assert.equal(first.data.length, 5);
  assert.equal(first.has_more, true);
  const ids = first.data.map((c) => c.id);
  assert.deepEqual(ids, [...ids].sort());
  const all = await stripe.countrySpecs.list({ limit: 100 });
  assert.equal(all.has_more, false);
  assert.equal(all.data.length, 27);
  for (const c of all.data) assertStripeShape(c, 'country_spec');
  const paged = await stripe.countrySpecs.list({ limit: 4 }).autoPagingToArray({ limit: 100 });
  assert.deepEqual(paged.map((c) => c.id), all.data.map((c) => c.id));
  const next = await stripe.countrySpecs.list({ limit: 2, starting_after: 'GB' });
  assert.deepEqual(next.data.map((c) => c.id), ['HK', 'IE']);
  const prev = await stripe.countrySpecs.list({ limit: 2, ending_before: 'GB' });
  assert.deepEqual(prev.data.map((c) => c.id), ['FI', 'FR']);
  assert.equal(prev.has_more, true);
  await rejects(stripe.countrySpecs.list({ starting_after: 'XX' }), 404, 'starting_after');
  await rejects(stripe.countrySpecs.list({ limit: 101 }), 400, 'limit');
  // a connected account sees the same table
  assert.equal((await stripe.countrySpecs.retrieve('GB', {}, as(connected))).default_currency, 'gbp');
});

test('payment method domains: create, unique, invalid names, update, validate, list', async () => {
  const d = await stripe.paymentMethodDomains.create({ domain_name: 'Shop.Example.com' });
  assertStripeShape(d, 'payment_method_domain');
  assert.match(d.id, /^pmd_/);
  assert.equal(d.domain_name, 'shop.example.com');
  assert.equal(d.enabled, true);
  assert.equal(d.livemode, false);
  for (const w of ['apple_pay', 'google_pay', 'link', 'paypal', 'amazon_pay', 'klarna']) {
    assert.deepEqual(d[w], { status: 'active' }, w);
  }
  assert.deepEqual(await stripe.paymentMethodDomains.retrieve(d.id), d);
  // registered once per merchant
  await rejects(stripe.paymentMethodDomains.create({ domain_name: 'shop.example.com' }), 400, 'domain_name',
    /already exists/);
  for (const bad of ['https://shop.example.com', 'localhost', 'exa mple.com', '-a.example.com', '1.2.3.4',
    'a..example.com', `${'a'.repeat(64)}.com`, 'example.com/path']) {
    await rejects(stripe.paymentMethodDomains.create({ domain_name: bad }), 400, 'domain_name');
  }
  await rejects(stripe.paymentMethodDomains.create({}), 400, 'domain_name');
  const off = await stripe.paymentMethodDomains.create({ domain_name: 'off.example.org', enabled: false });
  assert.equal(off.enabled, false);
  const on = await stripe.paymentMethodDomains.update(off.id, { enabled: true });
  assert.equal(on.enabled, true);
  assertStripeShape(on, 'payment_method_domain');
  await rejects(stripe.paymentMethodDomains.update(off.id, { domain_name: 'x.example.org' }), 400,
    'domain_name');
  const v = await stripe.paymentMethodDomains.validate(d.id);
  assert.deepEqual(v, d);
  await rejects(stripe.paymentMethodDomains.validate('pmd_missing'), 404);
  await stripe.paymentMethodDomains.update(d.id, { enabled: false });

  const list = await stripe.paymentMethodDomains.list();
  assert.equal(list.url, '/v1/payment_method_domains');
  assert.deepEqual(list.data.map((x) => x.id), [off.id, d.id]);
  assert.deepEqual((await stripe.paymentMethodDomains.list({ enabled: false })).data.map((x) => x.id), [d.id]);
  assert.deepEqual((await stripe.paymentMethodDomains.list({ domain_name: 'OFF.example.org' })).data
    .map((x) => x.id), [off.id]);
  const page = await stripe.paymentMethodDomains.list({ limit: 1 });
  assert.equal(page.has_more, true);
  assert.deepEqual((await stripe.paymentMethodDomains.list({ starting_after: page.data[0].id })).data
    .map((x) => x.id), [d.id]);

  // another merchant and a connected account have their own
  await rejects(other.paymentMethodDomains.retrieve(d.id), 404, 'payment_method_domain');
  assert.equal((await other.paymentMethodDomains.list()).data.length, 0);
  const mine = await other.paymentMethodDomains.create({ domain_name: 'shop.example.com' });
  assert.notEqual(mine.id, d.id);
  const c = await stripe.paymentMethodDomains.create({ domain_name: 'shop.example.com' }, as(connected));
  assert.deepEqual((await stripe.paymentMethodDomains.list({}, as(connected))).data.map((x) => x.id), [c.id]);
  await rejects(stripe.paymentMethodDomains.retrieve(c.id), 404);

  // an idempotent create is replayed, and its key's refusal too
  const key = `pmd-${Date.now()}`;
  const a = await stripe.paymentMethodDomains.create({ domain_name: 'idem.example.net' }, { idempotencyKey: key });
  const b = await stripe.paymentMethodDomains.create({ domain_name: 'idem.example.net' }, { idempotencyKey: key });
  assert.deepEqual(b, a);
});

test('apple pay domains (legacy): create, retrieve, list, delete', async () => {
  const d = await stripe.applePayDomains.create({ domain_name: 'pay.example.com' });
  assertStripeShape(d, 'apple_pay_domain');
  assert.match(d.id, /^apwc_/);
  assert.equal(d.domain_name, 'pay.example.com');
  assert.deepEqual(await stripe.applePayDomains.retrieve(d.id), d);
  await rejects(stripe.applePayDomains.create({ domain_name: 'pay.example.com' }), 400, 'domain_name');
  await rejects(stripe.applePayDomains.create({ domain_name: 'not a domain' }), 400, 'domain_name');
  const e = await stripe.applePayDomains.create({ domain_name: 'other.example.com' });
  const list = await stripe.applePayDomains.list();
  assert.deepEqual(list.data.map((x) => x.id), [e.id, d.id]);
  for (const x of list.data) assertStripeShape(x, 'apple_pay_domain');
  assert.deepEqual((await stripe.applePayDomains.list({ domain_name: 'pay.example.com' })).data.map((x) => x.id),
    [d.id]);
  await rejects(other.applePayDomains.retrieve(d.id), 404);
  await rejects(other.applePayDomains.del(d.id), 404);
  const gone = await stripe.applePayDomains.del(d.id);
  assert.deepEqual({ ...gone }, { id: d.id, object: 'apple_pay_domain', deleted: true });
  assertStripeShape(gone, 'deleted_apple_pay_domain');
  await rejects(stripe.applePayDomains.retrieve(d.id), 404);
  await rejects(stripe.applePayDomains.del(d.id), 404);
  // the name can be registered again once deleted
  await stripe.applePayDomains.create({ domain_name: 'pay.example.com' });
});

// Stripe's spec (2023-08-16) has no payment_method_configuration yet: check the shape against
// today's example object instead (the same keys, each type {available, display_preference}).
const fixtures = JSON.parse(fs.readFileSync(path.join(SHARED,
  'reference/stripe-openapi/fixtures3.head-2026-08-21.json'), 'utf8'));
const pmcExample = (fixtures.resources || fixtures).payment_method_configuration;
function assertPmcShape(c) {
  assert.deepEqual(Object.keys(c).sort(), Object.keys(pmcExample).sort());
  for (const [k, v] of Object.entries(pmcExample)) {
    if (v && typeof v === 'object' && 'available' in v) {
      assert.equal(typeof c[k].available, 'boolean', k);
      assert.deepEqual(Object.keys(c[k].display_preference).sort(), ['overridable', 'preference', 'value'], k);
    }
  }
}

test('payment method configurations: default on first read, create, update, list', async () => {
  const list = await stripe.paymentMethodConfigurations.list();
  assert.equal(list.url, '/v1/payment_method_configurations');
  assert.equal(list.data.length, 1);
  const def = list.data[0];
  assertPmcShape(def);
  assert.match(def.id, /^pmc_/);
  assert.equal(def.is_default, true);
  assert.equal(def.active, true);
  assert.equal(def.name, 'Default');
  assert.equal(def.application, null);
  assert.equal(def.parent, null);
  assert.deepEqual(def.card, { available: true, display_preference: { overridable: null, preference: 'on', value: 'on' } });
  assert.deepEqual(def.klarna, { available: true, display_preference: { overridable: null, preference: 'off', value: 'off' } });
  assert.deepEqual(def.link, { available: false, display_preference: { overridable: null, preference: 'off', value: 'off' } });
  assert.deepEqual(await stripe.paymentMethodConfigurations.retrieve(def.id), def);
  // the default stays one
  assert.equal((await stripe.paymentMethodConfigurations.list()).data.length, 1);
  await rejects(stripe.paymentMethodConfigurations.update(def.id, { active: false }), 400, 'active');

  const c = await stripe.paymentMethodConfigurations.create({
    name: 'Cards only', card: { display_preference: { preference: 'off' } },
    ideal: { display_preference: { preference: 'on' } },
  });
  assertPmcShape(c);
  assert.equal(c.is_default, false);
  assert.equal(c.name, 'Cards only');
  assert.deepEqual(c.card.display_preference, { overridable: null, preference: 'off', value: 'off' });
  // every type Tender takes is available, its value following its preference (default: off)
  assert.deepEqual(c.ideal, { available: true, display_preference: { overridable: null, preference: 'on', value: 'on' } });
  for (const t of ['sepa_debit', 'us_bank_account', 'bancontact', 'affirm', 'afterpay_clearpay', 'klarna']) {
    assert.deepEqual(def[t], { available: true, display_preference: { overridable: null, preference: 'off', value: 'off' } }, t);
    assert.deepEqual(c[t], { available: true, display_preference: { overridable: null, preference: 'none', value: 'off' } }, t);
  }
  // the others are not available: off whatever the preference
  const link = await stripe.paymentMethodConfigurations.create({ link: { display_preference: { preference: 'on' } } });
  assert.deepEqual(link.link, { available: false, display_preference: { overridable: null, preference: 'on', value: 'off' } });
  assert.deepEqual(link.card, { available: true, display_preference: { overridable: null, preference: 'none', value: 'on' } });
  assert.equal(c.link.display_preference.preference, 'none');
  const u = await stripe.paymentMethodConfigurations.update(c.id, {
    name: 'Renamed', active: false, card: { display_preference: { preference: 'none' } },
  });
  assert.equal(u.name, 'Renamed');
  assert.equal(u.active, false);
  assert.deepEqual(u.card.display_preference, { overridable: null, preference: 'none', value: 'on' });
  assert.equal(u.ideal.display_preference.preference, 'on');
  assert.deepEqual(await stripe.paymentMethodConfigurations.retrieve(c.id), u);
  await rejects(stripe.paymentMethodConfigurations.create({ card: { display_preference: { preference: 'maybe' } } }),
    400, 'card[display_preference][preference]');
  await rejects(stripe.paymentMethodConfigurations.create({ bitcoin: { display_preference: { preference: 'on' } } }),
    400, 'bitcoin');
  await rejects(stripe.paymentMethodConfigurations.create({ parent: def.id }), 400, 'parent');

  const all = await stripe.paymentMethodConfigurations.list();
  assert.deepEqual(all.data.map((x) => x.id), [link.id, c.id, def.id]);
  assert.equal((await stripe.paymentMethodConfigurations.list({ application: 'ca_123' })).data.length, 0);
  assert.deepEqual((await stripe.paymentMethodConfigurations.list({ limit: 1, starting_after: c.id })).data
    .map((x) => x.id), [def.id]);

  // retrieving first makes the default too; other merchants see none of these
  await rejects(other.paymentMethodConfigurations.retrieve(c.id), 404, 'configuration');
  const od = (await other.paymentMethodConfigurations.list()).data;
  assert.equal(od.length, 1);
  assert.notEqual(od[0].id, def.id);

  // a connected account: its own default, and a child of the platform's configuration
  const child = await stripe.paymentMethodConfigurations.create({ parent: def.id, name: 'Child' }, as(connected));
  assert.equal(child.parent, def.id);
  const cl = (await stripe.paymentMethodConfigurations.list({}, as(connected))).data;
  assert.equal(cl.length, 2);
  assert.deepEqual(cl.map((x) => x.is_default).sort(), [false, true]);
  assert.ok(cl.some((x) => x.id === child.id));
  // an automatic intent on the connected account names the configuration and its parent
  const childPi = await stripe.paymentIntents.create({
    amount: 1000, currency: 'usd', automatic_payment_methods: { enabled: true }, payment_method_configuration: child.id,
  }, as(connected));
  assert.deepEqual(childPi.payment_method_configuration_details, { id: child.id, parent: def.id });
  assert.deepEqual(childPi.payment_method_types, ['card']);
  await rejects(stripe.paymentMethodConfigurations.create({ parent: 'pmc_nope' }, as(connected)), 404, 'parent');

  const key = `pmc-${Date.now()}`;
  const a = await stripe.paymentMethodConfigurations.create({ name: 'Idem' }, { idempotencyKey: key });
  const b = await stripe.paymentMethodConfigurations.create({ name: 'Idem' }, { idempotencyKey: key });
  assert.deepEqual(b, a);
});

test('payment_method_configuration on PaymentIntents, SetupIntents and Checkout Sessions', async () => {
  const def = (await stripe.paymentMethodConfigurations.list()).data.find((x) => x.is_default);
  const pi = await stripe.paymentIntents.create({
    amount: 1000, currency: 'usd', payment_method_configuration: def.id,
    payment_method: 'pm_card_visa', confirm: true,
  });
  assert.equal(pi.status, 'succeeded');
  const si = await stripe.setupIntents.create({ payment_method_configuration: def.id });
  assert.equal(si.status, 'requires_payment_method');
  const cs = await stripe.checkout.sessions.create({
    mode: 'payment', success_url: 'https://example.com/ok', payment_method_configuration: def.id,
    line_items: [{ price_data: { currency: 'usd', unit_amount: 500, product_data: { name: 'Tea' } }, quantity: 1 }],
  });
  assert.equal(cs.status, 'open');
  // another merchant's configuration, or an unknown one: Stripe's 404; an inactive one: 400
  const theirs = (await other.paymentMethodConfigurations.list()).data[0];
  await rejects(stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method_configuration: theirs.id }),
    404, 'payment_method_configuration');
  await rejects(stripe.setupIntents.create({ payment_method_configuration: 'pmc_unknown' }), 404,
    'payment_method_configuration');
  await rejects(stripe.checkout.sessions.create({
    mode: 'setup', success_url: 'https://example.com/ok', currency: 'usd', payment_method_configuration: theirs.id,
  }), 404, 'payment_method_configuration');
  const off = await stripe.paymentMethodConfigurations.create({ name: 'Off' });
  await stripe.paymentMethodConfigurations.update(off.id, { active: false });
  await rejects(stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method_configuration: off.id }),
    400, 'payment_method_configuration', /not active/);
  const n = (await stripe.paymentIntents.list({ limit: 100 })).data.length;
  assert.equal(n, 1); // the refusals made nothing
});

test('apps secrets: set (create or replace), find with the payload, list by scope, delete, expiry; the payload sealed', async () => {
  const SECRET = 'sk_live_appsecret_5f2c9e71d3';
  const acct = { type: 'account' };
  const s1 = await stripe.apps.secrets.create({ name: 'api_key', payload: 'first-value-0001', scope: acct });
  assertStripeShape(s1, 'apps.secret');
  assert.match(s1.id, /^appsecret_/);
  assert.equal(s1.payload, null); // never in a write's answer
  assert.deepEqual(s1.scope, { type: 'account' });
  // create again: replaces it (the old one is gone)
  const s2 = await stripe.apps.secrets.create({ name: 'api_key', payload: SECRET, scope: acct }, { idempotencyKey: 'apps-secret-1' });
  assert.notEqual(s2.id, s1.id);
  const again = await stripe.apps.secrets.create({ name: 'api_key', payload: SECRET, scope: acct }, { idempotencyKey: 'apps-secret-1' });
  assert.equal(again.id, s2.id);
  const found = await stripe.apps.secrets.find({ name: 'api_key', scope: acct, expand: ['payload'] });
  assertStripeShape(found, 'apps.secret');
  assert.equal(found.id, s2.id);
  assert.equal(found.payload, SECRET);
  assert.equal((await stripe.apps.secrets.find({ name: 'api_key', scope: acct })).payload, null);

  // a user's scope is its own; scope[user] is needed for it and refused for the account's
  const u = await stripe.apps.secrets.create({ name: 'api_key', payload: 'user-value', scope: { type: 'user', user: 'usr_123' } });
  assert.deepEqual(u.scope, { type: 'user', user: 'usr_123' });
  await rejects(stripe.apps.secrets.create({ name: 'x', payload: 'y', scope: { type: 'user' } }), 400, 'scope[user]');
  await rejects(stripe.apps.secrets.create({ name: 'x', payload: 'y', scope: { type: 'account', user: 'usr_1' } }), 400, 'scope[user]');
  await rejects(stripe.apps.secrets.create({ name: 'x', payload: 'y', scope: acct, expires_at: 1000 }), 400, 'expires_at');
  await rejects(stripe.apps.secrets.create({ name: 'x', payload: 'y', scope: acct, expand: ['payload'] }), 400, 'expand');
  const list = await stripe.apps.secrets.list({ scope: acct, expand: ['data.payload'] });
  assert.deepEqual(list.data.map((s) => s.id), [s2.id]);
  assert.equal(list.data[0].payload, SECRET);
  assertStripeShape(list, 'list');
  const ulist = await stripe.apps.secrets.list({ scope: { type: 'user', user: 'usr_123' } });
  assert.deepEqual(ulist.data.map((s) => s.id), [u.id]);
  assert.equal(ulist.data[0].payload, null);

  // expires_at: gone for find and list once passed
  const soon = Math.floor(Date.now() / 1000) + 2;
  await stripe.apps.secrets.create({ name: 'short', payload: 'short-lived', scope: acct, expires_at: soon });
  assert.equal((await stripe.apps.secrets.find({ name: 'short', scope: acct })).expires_at, soon);
  await new Promise((res) => setTimeout(res, 3200));
  await rejects(stripe.apps.secrets.find({ name: 'short', scope: acct }), 404, 'name');

  // delete; other merchants and connected accounts have their own store
  const del = await stripe.apps.secrets.deleteWhere({ name: 'api_key', scope: acct });
  assert.equal(del.deleted, true);
  assert.equal(del.id, s2.id);
  await rejects(stripe.apps.secrets.find({ name: 'api_key', scope: acct }), 404, 'name');
  await rejects(stripe.apps.secrets.deleteWhere({ name: 'api_key', scope: acct }), 404, 'name');
  await stripe.apps.secrets.create({ name: 'api_key', payload: SECRET, scope: acct });
  await rejects(other.apps.secrets.find({ name: 'api_key', scope: acct }), 404, 'name');
  await rejects(stripe.apps.secrets.find({ name: 'api_key', scope: acct }, as(connected)), 404, 'name');

  // the payload is sealed: not in the store's files (nor the idempotency record's answer)
  const { readStoreFiles } = require('./helpers');
  for (const { file, data } of readStoreFiles(env.dataDir)) assert.ok(!data.includes(SECRET), `the secret in clear in ${file}`);
  // and with the master key, verify opens every sealed secret
  const { BIN, withDatabaseUrls } = require('./helpers');
  const v = require('node:child_process').spawnSync(BIN,
    withDatabaseUrls(['verify', '--data', env.dataDir, '--master-key-file', env.keyFile]), { encoding: 'utf8' });
  assert.equal(v.status, 0, v.stdout);
  assert.match(v.stdout, /verify: ok/);
});
