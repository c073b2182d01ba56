'use strict';
// Connect onboarding through stripe-node: external accounts (bank accounts, btok_ tokens,
// default_for_currency, Stripe's test numbers that fail a payout), the payout's destination,
// account links and the onboarding page (headless Chromium, Debian's chromium + playwright-core),
// login links and the Express dashboard page, persons and company / individual. Another
// platform's key reaches none of it; no full account number reaches the store or the log.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { startTender, stopAll, assertStripeShape, tender, request, readStoreFiles, storeSql, launchChromium } = require('./helpers');

let env;
let stripe; // platform A (merchants[0])
let stripeB; // platform B (merchants[1])

before(async () => {
  env = await startTender({ merchants: 2, args: ['--rate-limit', '0'] });
  stripe = env.stripe();
  stripeB = env.stripe(env.merchants[1].secret_key);
});
after(stopAll);

const as = (id) => ({ stripeAccount: id });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// account numbers sent in this file: none may be found in clear in the store or the log
const NUMBERS = ['000123456789', '000111111113', '000111111116', '731904826551', '555566667777', '110000001'];
const bank = (account_number, extra = {}) => ({
  object: 'bank_account', country: 'US', currency: 'usd', routing_number: '110000000', account_number, ...extra,
});

async function fundAccount(id, amount) {
  const pi = await stripe.paymentIntents.create({ amount, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true }, as(id));
  assert.equal(pi.status, 'succeeded');
}
async function available(opts) {
  const b = await stripe.balance.retrieve({}, opts);
  return (b.available.find((x) => x.currency === 'usd') || { amount: 0 }).amount;
}
async function waitPayout(id, opts, status) {
  let po;
  for (let i = 0; i < 60; i++) {
    po = await stripe.payouts.retrieve(id, {}, opts);
    if (po.status === status) return po;
    await sleep(200);
  }
  return po;
}

test('bank account tokens: btok_ with Stripe\'s token shape, single use', async () => {
  const tok = await stripe.tokens.create({ bank_account: {
    country: 'US', currency: 'usd', routing_number: '110000000', account_number: '731904826551',
    account_holder_name: 'Jenny Rosen', account_holder_type: 'individual',
  } });
  assert.match(tok.id, /^btok_/);
  assert.equal(tok.type, 'bank_account');
  assert.equal(tok.used, false);
  assertStripeShape(tok.bank_account, 'bank_account');
  assert.match(tok.bank_account.id, /^ba_/);
  assert.equal(tok.bank_account.last4, '6551');
  assert.equal(tok.bank_account.bank_name, 'STRIPE TEST BANK');
  assert.equal(tok.bank_account.routing_number, '110000000');
  assert.equal(tok.bank_account.account_holder_name, 'Jenny Rosen');
  assert.equal(tok.bank_account.status, 'new');
  assert.deepEqual(await stripe.tokens.retrieve(tok.id), tok);

  const acct = await stripe.accounts.create({ type: 'custom', country: 'US' });
  const ba = await stripe.accounts.createExternalAccount(acct.id, { external_account: tok.id });
  assertStripeShape(ba, 'bank_account');
  assert.equal(ba.id, tok.bank_account.id);
  assert.equal(ba.account, acct.id);
  assert.equal(ba.default_for_currency, true);
  assert.equal(ba.fingerprint, tok.bank_account.fingerprint);
  assert.equal((await stripe.tokens.retrieve(tok.id)).used, true);
  // a token is used once
  await assert.rejects(stripe.accounts.createExternalAccount(acct.id, { external_account: tok.id }),
    (e) => e.statusCode === 400 && e.code === 'token_already_used');
  await assert.rejects(stripe.accounts.createExternalAccount(acct.id, { external_account: 'btok_nope' }),
    (e) => e.statusCode === 404 && e.code === 'resource_missing');
  // bad numbers: Stripe's codes, the number never echoed
  await assert.rejects(stripe.tokens.create({ bank_account: { country: 'US', currency: 'usd', routing_number: '110000001', account_number: '731904826551' } }),
    (e) => e.statusCode === 400 && e.code === 'routing_number_invalid' && e.param === 'bank_account[routing_number]');
  await assert.rejects(stripe.tokens.create({ bank_account: { country: 'US', currency: 'usd', routing_number: '110000000', account_number: '12ab' } }),
    (e) => e.statusCode === 400 && e.code === 'account_number_invalid' && !e.message.includes('12ab'));
  await assert.rejects(stripe.tokens.create({ bank_account: { country: 'US', currency: 'usd', account_number: '731904826551' } }),
    (e) => e.statusCode === 400 && e.code === 'parameter_missing');
  await assert.rejects(stripe.tokens.create({}), (e) => e.statusCode === 400 && e.code === 'parameter_missing');
});

test('external accounts: create (hash, test token), list, retrieve, update, default_for_currency, delete; events', async () => {
  const acct = await stripe.accounts.create({ type: 'custom', country: 'US' });
  const a = await stripe.accounts.createExternalAccount(acct.id, {
    external_account: bank('000123456789', { account_holder_name: 'Corner Shop', account_holder_type: 'company' }),
    metadata: { n: '1' },
  });
  assertStripeShape(a, 'bank_account');
  assert.match(a.id, /^ba_/);
  assert.equal(a.last4, '6789');
  assert.equal(a.default_for_currency, true);
  assert.equal(a.account_holder_type, 'company');
  assert.deepEqual(a.metadata, { n: '1' });
  const b = await stripe.accounts.createExternalAccount(acct.id, { external_account: 'btok_us_verified_accountClosed' });
  assertStripeShape(b, 'bank_account');
  assert.equal(b.last4, '1113');
  assert.equal(b.default_for_currency, false);
  // the same number under the same account: the same fingerprint; under another, another
  const a2 = await stripe.accounts.createExternalAccount(acct.id, { external_account: 'btok_us_verified' });
  assert.equal(a2.fingerprint, a.fingerprint);
  const other = await stripe.accounts.create({ type: 'custom' });
  const o1 = await stripe.accounts.createExternalAccount(other.id, { external_account: 'btok_us_verified' });
  assert.notEqual(o1.fingerprint, a.fingerprint);

  const list = await stripe.accounts.listExternalAccounts(acct.id, { limit: 2 });
  assert.equal(list.url, `/v1/accounts/${acct.id}/external_accounts`);
  assert.deepEqual(list.data.map((x) => x.id), [a2.id, b.id]);
  assert.equal(list.has_more, true);
  const all = await stripe.accounts.listExternalAccounts(acct.id, { limit: 2 }).autoPagingToArray({ limit: 10 });
  assert.deepEqual(all.map((x) => x.id), [a2.id, b.id, a.id]);
  assert.deepEqual((await stripe.accounts.listExternalAccounts(acct.id, { object: 'card' })).data, []);
  assert.deepEqual(await stripe.accounts.retrieveExternalAccount(acct.id, a.id), a);
  // the account object lists them
  const got = await stripe.accounts.retrieve(acct.id);
  assertStripeShape(got, 'account');
  assert.deepEqual(got.external_accounts.data.map((x) => x.id), [a2.id, b.id, a.id]);

  // b becomes the default: a loses it
  const ub = await stripe.accounts.updateExternalAccount(acct.id, b.id, { default_for_currency: true, metadata: { k: 'v' } });
  assert.equal(ub.default_for_currency, true);
  assert.deepEqual(ub.metadata, { k: 'v' });
  assert.equal((await stripe.accounts.retrieveExternalAccount(acct.id, a.id)).default_for_currency, false);
  await assert.rejects(stripe.accounts.updateExternalAccount(acct.id, b.id, { default_for_currency: false }), (e) => e.statusCode === 400);
  // the default of the default currency stays; another one goes
  await assert.rejects(stripe.accounts.deleteExternalAccount(acct.id, b.id), (e) => e.statusCode === 400);
  const del = await stripe.accounts.deleteExternalAccount(acct.id, a2.id);
  assert.deepEqual(del, { id: a2.id, object: 'bank_account', deleted: true });
  await assert.rejects(stripe.accounts.retrieveExternalAccount(acct.id, a2.id), (e) => e.statusCode === 404);
  assert.deepEqual((await stripe.accounts.listExternalAccounts(acct.id)).data.map((x) => x.id), [b.id, a.id]);

  // the account's own events (they carry `account`)
  const ev = (await stripe.events.list({ limit: 20 }, as(acct.id))).data;
  const types = ev.filter((e) => e.data.object.object === 'bank_account').map((e) => e.type).reverse();
  assert.deepEqual(types, [
    'account.external_account.created', 'account.external_account.created', 'account.external_account.created',
    'account.external_account.updated', 'account.external_account.updated', 'account.external_account.deleted',
  ]);
  const upd = ev.find((e) => e.type === 'account.external_account.updated' && e.data.object.id === b.id);
  assert.deepEqual(upd.data.previous_attributes, { default_for_currency: false, metadata: {} });
  assert.equal(upd.account, acct.id);

  // bad input changes nothing
  await assert.rejects(stripe.accounts.createExternalAccount(acct.id, { external_account: bank('1') }),
    (e) => e.statusCode === 400 && e.code === 'account_number_invalid');
  await assert.rejects(stripe.accounts.createExternalAccount(acct.id, { external_account: bank('000123456789', { currency: 'zzz' }) }),
    (e) => e.statusCode === 400);
  // a credit card is no payout destination (debit cards are: connect_payouts.test.js)
  await assert.rejects(stripe.accounts.createExternalAccount(acct.id, { external_account: 'tok_visa' }),
    (e) => e.statusCode === 400 && e.code === 'invalid_card_type');
  assert.equal((await stripe.accounts.listExternalAccounts(acct.id)).data.length, 2);

  // the older bank_accounts paths are the same resource
  const c = await stripe.rawRequest('POST', `/v1/accounts/${acct.id}/bank_accounts`, { external_account: 'btok_us_verified' });
  assertStripeShape(c, 'bank_account');
  assert.deepEqual((await stripe.rawRequest('GET', `/v1/accounts/${acct.id}/bank_accounts/${c.id}`)).id, c.id);
  assert.deepEqual((await stripe.rawRequest('POST', `/v1/accounts/${acct.id}/bank_accounts/${c.id}`, { metadata: { via: 'legacy' } })).metadata, { via: 'legacy' });
  assert.deepEqual((await stripe.accounts.retrieveExternalAccount(acct.id, c.id)).metadata, { via: 'legacy' });
  assert.deepEqual(await stripe.rawRequest('DELETE', `/v1/accounts/${acct.id}/bank_accounts/${c.id}`), { id: c.id, object: 'bank_account', deleted: true });
  await assert.rejects(stripeB.rawRequest('GET', `/v1/accounts/${acct.id}/bank_accounts/${b.id}`), (e) => e.statusCode === 404);
  assert.equal((await stripe.accounts.listExternalAccounts(acct.id)).data.length, 2);
});

test('another platform, or an account acting as itself, cannot reach an account\'s external accounts', async () => {
  const acct = await stripe.accounts.create({ type: 'custom' });
  const ba = await stripe.accounts.createExternalAccount(acct.id, { external_account: 'btok_us_verified' });
  const missing = (e) => e.statusCode === 404 && e.code === 'resource_missing';
  await assert.rejects(stripeB.accounts.createExternalAccount(acct.id, { external_account: 'btok_us_verified' }), missing);
  await assert.rejects(stripeB.accounts.listExternalAccounts(acct.id), missing);
  await assert.rejects(stripeB.accounts.retrieveExternalAccount(acct.id, ba.id), missing);
  await assert.rejects(stripeB.accounts.updateExternalAccount(acct.id, ba.id, { metadata: { x: '1' } }), missing);
  await assert.rejects(stripeB.accounts.deleteExternalAccount(acct.id, ba.id), missing);
  // B's own token cannot be given to A's account, nor A's to B's
  const tokB = await stripeB.tokens.create({ bank_account: bank('555566667777') });
  await assert.rejects(stripe.accounts.createExternalAccount(acct.id, { external_account: tokB.id }), missing);
  const acctB = await stripeB.accounts.create({ type: 'custom' });
  await assert.rejects(stripe.accounts.createExternalAccount(acctB.id, { external_account: 'btok_us_verified' }), missing);
  // a connected account reaches its own, not a sibling's
  const sib = await stripe.accounts.create({ type: 'custom' });
  assert.equal((await stripe.accounts.listExternalAccounts(acct.id, {}, as(acct.id))).data[0].id, ba.id);
  await assert.rejects(stripe.accounts.listExternalAccounts(sib.id, {}, as(acct.id)), missing);
  assert.equal((await stripe.accounts.listExternalAccounts(acct.id)).data.length, 1);
});

test('a payout names its destination; a Stripe test number that fails returns it (payout.failed)', async () => {
  const acct = await stripe.accounts.create({ type: 'custom', country: 'US' });
  await fundAccount(acct.id, 20000);
  const ok = await stripe.accounts.createExternalAccount(acct.id, { external_account: bank('000123456789') });
  const before = await available(as(acct.id));
  const po = await stripe.payouts.create({ amount: 1000, currency: 'usd' }, as(acct.id));
  assertStripeShape(po, 'payout');
  assert.equal(po.destination, ok.id);
  assert.equal((await waitPayout(po.id, as(acct.id), 'paid')).status, 'paid');

  // the failing number becomes the default
  const bad = await stripe.accounts.createExternalAccount(acct.id, { external_account: bank('000111111113'), default_for_currency: true });
  const po2 = await stripe.payouts.create({ amount: 2500, currency: 'usd' }, as(acct.id));
  assert.equal(po2.destination, bad.id);
  assert.equal(await available(as(acct.id)), before - 1000 - 2500);
  const failed = await waitPayout(po2.id, as(acct.id), 'failed');
  assertStripeShape(failed, 'payout');
  assert.equal(failed.status, 'failed');
  assert.equal(failed.failure_code, 'account_closed');
  assert.equal(failed.failure_message, 'The bank account has been closed.');
  const fbt = await stripe.balanceTransactions.retrieve(failed.failure_balance_transaction, {}, as(acct.id));
  assertStripeShape(fbt, 'balance_transaction');
  assert.equal(fbt.type, 'payout_failure');
  assert.equal(fbt.amount, 2500);
  assert.equal(fbt.source, po2.id);
  assert.equal(await available(as(acct.id)), before - 1000);
  const types = (await stripe.events.list({ limit: 30 }, as(acct.id))).data.filter((e) => e.data.object.id === po2.id).map((e) => e.type).reverse();
  assert.deepEqual(types, ['payout.created', 'payout.updated', 'payout.failed']);
  // no_account
  const na = await stripe.accounts.createExternalAccount(acct.id, { external_account: bank('000111111116'), default_for_currency: true });
  const po3 = await stripe.payouts.create({ amount: 100, currency: 'usd' }, as(acct.id));
  assert.equal(po3.destination, na.id);
  assert.equal((await waitPayout(po3.id, as(acct.id), 'failed')).failure_code, 'no_account');

  // the merchant's own account: its own external accounts, through its own id
  const own = await stripe.accounts.createExternalAccount(env.merchant.id, { external_account: 'btok_us_verified' });
  assert.equal(own.account, env.merchant.id);
  const pi = await stripe.paymentIntents.create({ amount: 5000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true });
  assert.equal(pi.status, 'succeeded');
  const mine = await stripe.payouts.create({ amount: 500, currency: 'usd' });
  assert.equal(mine.destination, own.id);
  assert.equal((await waitPayout(mine.id, undefined, 'paid')).status, 'paid');
  // no external account in a currency: destination null, as before
  const acct2 = await stripe.accounts.create({ type: 'custom', country: 'US' });
  await fundAccount(acct2.id, 3000);
  const none = await stripe.payouts.create({ amount: 100, currency: 'usd' }, as(acct2.id));
  assert.equal(none.destination, null);
});

const DOB = { day: 14, month: 3, year: 1985 };
const ADDRESS = { line1: '510 Townsend St', city: 'San Francisco', postal_code: '94103', state: 'CA', country: 'US' };
const tos = () => ({ date: Math.floor(Date.now() / 1000) - 10, ip: '203.0.113.9' });
const caps = { card_payments: { requested: true }, transfers: { requested: true } };

test('requirements: an Express account owes onboarding until it gives everything; events say what changed', async () => {
  const bare = await stripe.accounts.create({ type: 'express', country: 'US', capabilities: caps });
  assertStripeShape(bare, 'account');
  assert.equal(bare.charges_enabled, false);
  assert.equal(bare.payouts_enabled, false);
  assert.equal(bare.details_submitted, false);
  assert.deepEqual(bare.capabilities, { card_payments: 'inactive', transfers: 'inactive' });
  assert.deepEqual(bare.requirements.currently_due, ['business_type', 'external_account', 'tos_acceptance.date', 'tos_acceptance.ip']);
  assert.deepEqual(bare.requirements.past_due, bare.requirements.currently_due);
  assert.equal(bare.requirements.disabled_reason, 'requirements.past_due');
  assert.equal('individual' in bare, false);

  // step by step through the API
  const step = await stripe.accounts.update(bare.id, { business_type: 'individual', individual: { first_name: 'Jenny' } });
  assertStripeShape(step, 'account');
  assertStripeShape(step.individual, 'person');
  assert.equal(step.individual.first_name, 'Jenny');
  assert.equal(step.individual.relationship.representative, true);
  assert.deepEqual(step.requirements.currently_due, [
    'external_account', 'individual.address.city', 'individual.address.line1', 'individual.address.postal_code',
    'individual.dob.day', 'individual.dob.month', 'individual.dob.year', 'individual.last_name',
    'tos_acceptance.date', 'tos_acceptance.ip',
  ]);
  await assert.rejects(stripe.accounts.update(bare.id, { individual: { dob: { day: 40, month: 1, year: 1990 } } }),
    (e) => e.statusCode === 400 && e.param === 'individual[dob]');
  const done = await stripe.accounts.update(bare.id, {
    individual: { last_name: 'Rosen', dob: DOB, address: ADDRESS, id_number: '000000000', ssn_last_4: '0000' },
    tos_acceptance: tos(),
    external_account: bank('000123456789'),
  });
  assertStripeShape(done, 'account');
  assertStripeShape(done.individual, 'person');
  assert.equal(done.charges_enabled, true);
  assert.equal(done.payouts_enabled, true);
  assert.equal(done.details_submitted, true);
  assert.deepEqual(done.requirements.currently_due, []);
  assert.equal(done.requirements.disabled_reason, null);
  assert.deepEqual(done.capabilities, { card_payments: 'active', transfers: 'active' });
  assert.equal(done.individual.id_number_provided, true);
  assert.equal(done.individual.ssn_last_4_provided, true);
  assert.equal(done.individual.verification.status, 'verified');
  assert.deepEqual(done.individual.dob, DOB);
  assert.equal(done.external_accounts.data.length, 1);
  assert.equal(done.external_accounts.data[0].last4, '6789');
  assert.deepEqual(await stripe.accounts.retrieve(bare.id), done);

  const upd = (await stripe.events.list({ type: 'account.updated', limit: 10 })).data.find((e) => e.data.object.id === bare.id);
  assert.deepEqual(upd.data.object, done);
  const prev = upd.data.previous_attributes;
  assert.equal(prev.charges_enabled, false);
  assert.equal(prev.payouts_enabled, false);
  assert.equal(prev.details_submitted, false);
  assert.deepEqual(prev.capabilities, { card_payments: 'inactive', transfers: 'inactive' });
  assert.ok(prev.requirements.currently_due.includes('individual.last_name'));
  assert.equal(prev.individual.last_name, null);
  const capEv = (await stripe.events.list({ type: 'capability.updated', limit: 10 }, as(bare.id))).data;
  assert.deepEqual(capEv.map((e) => e.data.object.id).sort(), ['card_payments', 'transfers']);
  for (const e of capEv) {
    assertStripeShape(e.data.object, 'capability');
    assert.equal(e.data.object.status, 'active');
    assert.equal(e.account, bare.id);
    assert.deepEqual(e.data.previous_attributes, { status: 'inactive' });
  }

  // everything at creation: enabled at once
  const full = await stripe.accounts.create({
    type: 'express', country: 'US', capabilities: caps, business_type: 'individual',
    individual: { first_name: 'Ann', last_name: 'Lee', dob: DOB, address: ADDRESS, email: 'ann@example.com' },
    tos_acceptance: tos(), external_account: 'btok_us_verified',
  });
  assertStripeShape(full, 'account');
  assert.equal(full.charges_enabled, true);
  assert.deepEqual(full.requirements.currently_due, []);
  assert.equal(full.individual.email, 'ann@example.com');
  assert.equal(full.external_accounts.data[0].default_for_currency, true);
  // a company
  const co = await stripe.accounts.create({
    controller: { stripe_dashboard: { type: 'express' } }, country: 'US', business_type: 'company',
    company: { name: 'Corner Shop LLC', address: ADDRESS, tax_id: '000000000', structure: 'llc' },
  });
  assertStripeShape(co, 'account');
  assert.equal(co.type, 'express');
  assert.equal(co.company.name, 'Corner Shop LLC');
  assert.equal(co.company.tax_id_provided, true);
  assertStripeShape(co.company, 'legal_entity_company');
  assert.deepEqual(co.requirements.currently_due, ['external_account', 'tos_acceptance.date', 'tos_acceptance.ip']);
  await assert.rejects(stripe.accounts.update(co.id, { individual: { first_name: 'X' } }), (e) => e.statusCode === 400);
  // a Custom account's platform collects: usable at once, as before
  const custom = await stripe.accounts.create({ type: 'custom', capabilities: caps });
  assert.equal(custom.charges_enabled, true);
  assert.deepEqual(custom.requirements.currently_due, []);
});

let browser;
let shop;
let shopUrl;
async function pageEnv() {
  if (!browser) {
    shop = require('node:http').createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(`<!doctype html><title>Platform</title><h1 id="back">${req.url.replace(/[<>&]/g, '')}</h1>`);
    });
    await new Promise((r) => shop.listen(0, '127.0.0.1', r));
    shopUrl = `http://127.0.0.1:${shop.address().port}`;
    browser = await launchChromium();
  }
  return browser;
}
after(async () => {
  if (browser) await browser.close();
  if (shop) shop.close();
});
const linkFor = (id, extra = {}) => stripe.accountLinks.create({
  account: id, type: 'account_onboarding', refresh_url: `${shopUrl}/refresh`, return_url: `${shopUrl}/return`, ...extra,
});

test('account links: the onboarding page collects what is due, then goes to return_url; single use, expires', async () => {
  const b = await pageEnv();
  const acct = await stripe.accounts.create({ type: 'express', country: 'US', capabilities: caps });
  const link = await linkFor(acct.id);
  assertStripeShape(link, 'account_link');
  assert.equal(link.object, 'account_link');
  assert.equal(link.expires_at - link.created, 300);
  assert.match(link.url, /^http:\/\/127\.0\.0\.1:\d+\/connect\/onboarding\/acct_\w+\/\w{24}$/);

  const page = await b.newPage();
  const first = await page.goto(link.url);
  assert.equal(first.status(), 200);
  const csp = first.headers()['content-security-policy'];
  assert.match(csp, /default-src 'none'/);
  assert.equal(await page.locator('script').count(), 0);
  // step 1: business type, bank account, terms
  await page.selectOption('select[name="business_type"]', 'individual');
  await page.fill('input[name="external_account[account_holder_name]"]', 'Jenny Rosen');
  await page.fill('input[name="external_account[routing_number]"]', '110000000');
  await page.fill('input[name="external_account[account_number]"]', '110000001');
  await page.check('input[name="tos_acceptance"]');
  // a bad account number: the form again with Stripe's message, nothing kept
  await page.fill('input[name="external_account[account_number]"]', '12');
  await Promise.all([page.waitForLoadState(), page.click('button[type="submit"]')]);
  assert.match(await page.textContent('#error'), /account number/i);
  assert.equal((await stripe.accounts.retrieve(acct.id)).business_type, null);
  await page.selectOption('select[name="business_type"]', 'individual');
  await page.fill('input[name="external_account[account_holder_name]"]', 'Jenny Rosen');
  await page.fill('input[name="external_account[routing_number]"]', '110000000');
  await page.fill('input[name="external_account[account_number]"]', '731904826551');
  await page.check('input[name="tos_acceptance"]');
  await Promise.all([page.waitForLoadState(), page.click('button[type="submit"]')]);
  // step 2: the individual, now that the type is known
  await page.fill('input[name="individual[first_name]"]', 'Jenny');
  await page.fill('input[name="individual[last_name]"]', 'Rosen');
  await page.fill('input[name="individual[dob][day]"]', '14');
  await page.fill('input[name="individual[dob][month]"]', '3');
  await page.fill('input[name="individual[dob][year]"]', '1985');
  await page.fill('input[name="individual[address][line1]"]', '510 <Townsend> St');
  await page.fill('input[name="individual[address][city]"]', 'San Francisco');
  await page.fill('input[name="individual[address][postal_code]"]', '94103');
  await Promise.all([page.waitForURL(`${shopUrl}/return`), page.click('button[type="submit"]')]);
  assert.equal(await page.textContent('#back'), '/return');

  const after = await stripe.accounts.retrieve(acct.id);
  assertStripeShape(after, 'account');
  assert.equal(after.charges_enabled, true);
  assert.equal(after.details_submitted, true);
  assert.equal(after.individual.address.line1, '510 <Townsend> St');
  assert.equal(after.tos_acceptance.ip, '127.0.0.1');
  assert.equal(after.external_accounts.data[0].last4, '6551');
  const evs = (await stripe.events.list({ type: 'account.updated', limit: 20 })).data.filter((e) => e.data.object.id === acct.id);
  assert.ok(evs.length >= 3, 'create and two answers');
  assert.equal(evs[0].data.object.charges_enabled, true);
  assert.equal(evs[0].data.previous_attributes.charges_enabled, false);
  const eaEv = (await stripe.events.list({ type: 'account.external_account.created' }, as(acct.id))).data;
  assert.equal(eaEv.length, 1);

  // single use: the same link again goes to refresh_url
  await page.goto(link.url);
  assert.equal(new URL(page.url()).pathname, '/refresh');
  await page.close();

  // expired before its first visit: refresh_url
  const acct2 = await stripe.accounts.create({ type: 'standard', country: 'US' });
  const old = await linkFor(acct2.id);
  const key = old.url.split('/').pop();
  const hash = require('node:crypto').createHash('sha256').update(key).digest('hex');
  storeSql(env.dataDir, `UPDATE account_links SET expires_at = ${old.created} WHERE id = '${hash}'`);
  const r1 = await request({ port: env.port, path: new URL(old.url).pathname });
  assert.equal(r1.status, 303);
  assert.equal(r1.headers.location, `${shopUrl}/refresh`);
  // a form posted without the page's one-time value: refresh_url, nothing changes
  const fresh = await linkFor(acct2.id);
  const path = new URL(fresh.url).pathname;
  const opened = await request({ port: env.port, path });
  assert.equal(opened.status, 200);
  assert.match(opened.body, /name="nonce" value="\w{24}"/);
  const forged = await request({ port: env.port, path, method: 'POST', body: 'nonce=AAAAAAAAAAAAAAAAAAAAAAAA&business_type=company' });
  assert.equal(forged.status, 303);
  assert.equal(forged.headers.location, `${shopUrl}/refresh`);
  assert.equal((await stripe.accounts.retrieve(acct2.id)).business_type, null);
  const again = await request({ port: env.port, path });
  assert.equal(again.status, 303, 'opened once only');
  const nonce = /name="nonce" value="(\w{24})"/.exec(opened.body)[1];
  const ok = await request({ port: env.port, path, method: 'POST', body: `nonce=${nonce}&business_type=company` });
  assert.equal(ok.status, 200);
  assert.match(ok.body, /company\[name\]/);
  assert.equal((await stripe.accounts.retrieve(acct2.id)).business_type, 'company');
  // unknown key
  const nf = await request({ port: env.port, path: `/connect/onboarding/${env.merchant.id}/${'x'.repeat(24)}` });
  assert.equal(nf.status, 404);
});

test('account links: refusals, and another platform\'s key', async () => {
  await pageEnv();
  const acct = await stripe.accounts.create({ type: 'express' });
  await assert.rejects(stripeB.accountLinks.create({ account: acct.id, type: 'account_onboarding', refresh_url: 'https://x.example/r', return_url: 'https://x.example/d' }),
    (e) => e.statusCode === 404 && e.code === 'resource_missing' && e.param === 'account');
  await assert.rejects(linkFor(acct.id, { type: 'account_update' }), (e) => e.statusCode === 400 && e.param === 'type');
  await assert.rejects(linkFor(acct.id, { return_url: 'javascript:alert(1)' }), (e) => e.statusCode === 400 && e.param === 'return_url');
  await assert.rejects(stripe.accountLinks.create({ account: acct.id, type: 'account_onboarding', refresh_url: 'https://x.example/r', return_url: 'https://x.example/d' }, as(acct.id)),
    (e) => e.statusCode === 400);
  const custom = await stripe.accounts.create({ type: 'custom' });
  const upd = await linkFor(custom.id, { type: 'account_update' });
  assertStripeShape(upd, 'account_link');
  // nothing due: the page sends the browser straight back
  const r = await request({ port: env.port, path: new URL(upd.url).pathname });
  assert.equal(r.status, 303);
  assert.equal(r.headers.location, `${shopUrl}/return`);
});

test('persons: create, retrieve, update, list (relationship filters), delete; the individual is one; no id number kept', async () => {
  const acct = await stripe.accounts.create({ type: 'custom', business_type: 'company', company: { name: 'Co' } });
  const p = await stripe.accounts.createPerson(acct.id, {
    first_name: 'Kim', last_name: 'Park', email: 'kim@example.com', dob: DOB, address: ADDRESS,
    id_number: '987650001', relationship: { owner: true, executive: true, title: 'CEO', percent_ownership: '60.5' },
    metadata: { k: '1' },
  });
  assertStripeShape(p, 'person');
  assert.match(p.id, /^person_/);
  assert.equal(p.account, acct.id);
  assert.equal(p.id_number_provided, true);
  assert.equal('id_number' in p, false);
  assert.equal(p.relationship.percent_ownership, 60.5);
  assert.equal(p.relationship.owner, true);
  assert.equal(p.relationship.director, null);
  assert.equal(p.verification.status, 'verified');
  assert.deepEqual(await stripe.accounts.retrievePerson(acct.id, p.id), p);
  const q = await stripe.accounts.createPerson(acct.id, { first_name: 'Lee', relationship: { director: true } });
  assert.deepEqual(q.requirements.currently_due.slice(0, 2), ['address.city', 'address.line1']);
  const u = await stripe.accounts.updatePerson(acct.id, q.id, { last_name: 'Cho', metadata: { a: 'b' } });
  assertStripeShape(u, 'person');
  assert.equal(u.last_name, 'Cho');
  const all = await stripe.accounts.listPersons(acct.id);
  assert.equal(all.url, `/v1/accounts/${acct.id}/persons`);
  assert.deepEqual(all.data.map((x) => x.id), [q.id, p.id]);
  assert.deepEqual((await stripe.accounts.listPersons(acct.id, { relationship: { owner: true } })).data.map((x) => x.id), [p.id]);
  assert.deepEqual((await stripe.accounts.listPersons(acct.id, { relationship: { director: true } })).data.map((x) => x.id), [q.id]);
  await assert.rejects(stripe.accounts.createPerson(acct.id, { relationship: { percent_ownership: '101' } }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.accounts.createPerson(acct.id, { dob: { day: 1, month: 13, year: 1990 } }), (e) => e.statusCode === 400);
  // the older `people` paths are the same resource (stripe-node speaks only `persons`)
  const viaPeople = await stripe.rawRequest('GET', `/v1/accounts/${acct.id}/people/${p.id}`);
  assertStripeShape(viaPeople, 'person');
  assert.equal(viaPeople.id, p.id);
  assert.deepEqual((await stripe.rawRequest('GET', `/v1/accounts/${acct.id}/people`)).data.map((x) => x.id), [q.id, p.id]);
  const r = await stripe.rawRequest('POST', `/v1/accounts/${acct.id}/people`, { first_name: 'Rae' });
  assertStripeShape(r, 'person');
  assert.equal((await stripe.rawRequest('POST', `/v1/accounts/${acct.id}/people/${r.id}`, { last_name: 'Oh' })).last_name, 'Oh');
  assert.deepEqual(await stripe.rawRequest('DELETE', `/v1/accounts/${acct.id}/people/${r.id}`), { id: r.id, object: 'person', deleted: true });
  await assert.rejects(stripeB.rawRequest('GET', `/v1/accounts/${acct.id}/people/${p.id}`), (e) => e.statusCode === 404);
  const del = await stripe.accounts.deletePerson(acct.id, q.id);
  assert.deepEqual(del, { id: q.id, object: 'person', deleted: true });
  await assert.rejects(stripe.accounts.retrievePerson(acct.id, q.id), (e) => e.statusCode === 404);
  const types = (await stripe.events.list({ limit: 10 }, as(acct.id))).data.filter((e) => e.data.object.object === 'person').map((e) => e.type).reverse();
  assert.deepEqual(types, ['person.created', 'person.created', 'person.updated', 'person.created', 'person.updated', 'person.deleted', 'person.deleted']);
  // another platform: 404
  const missing = (e) => e.statusCode === 404 && e.code === 'resource_missing';
  await assert.rejects(stripeB.accounts.listPersons(acct.id), missing);
  await assert.rejects(stripeB.accounts.createPerson(acct.id, { first_name: 'X' }), missing);
  await assert.rejects(stripeB.accounts.retrievePerson(acct.id, p.id), missing);
  // an individual account's individual is listed, and is not deleted on its own
  const ind = await stripe.accounts.create({ type: 'custom', business_type: 'individual', individual: { first_name: 'Solo' } });
  const listed = await stripe.accounts.listPersons(ind.id);
  assert.deepEqual(listed.data.map((x) => x.id), [ind.individual.id]);
  await assert.rejects(stripe.accounts.deletePerson(ind.id, ind.individual.id), (e) => e.statusCode === 400);
  NUMBERS.push('987650001');
});

test('no full account number in the store files or the server log; tender verify passes', async () => {
  const data = readStoreFiles(env.dataDir);
  const log = fs.readFileSync(env.server.logPath);
  for (const n of NUMBERS) {
    for (const { file, data: d } of data) assert.ok(!d.includes(n), `${n} found in ${file}`);
    assert.ok(!log.includes(n), `${n} found in the server log`);
  }
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

test('external accounts: bank_account (external_account\'s older name) on both paths; updates of a card\'s and a bank account\'s own fields, the other\'s refused', async () => {
  const acct = await stripe.accounts.create({ type: 'custom', country: 'US' });
  const ba = await stripe.accounts.createExternalAccount(acct.id, { bank_account: bank('000123456789') });
  assert.match(ba.id, /^ba_/);
  assert.equal(ba.last4, '6789');
  assertStripeShape(ba, 'bank_account');
  const old = await stripe.rawRequest('POST', `/v1/accounts/${acct.id}/bank_accounts`, { bank_account: 'btok_us_verified' });
  assert.match(old.id, /^ba_/);
  await assert.rejects(stripe.accounts.createExternalAccount(acct.id, { bank_account: 'btok_us_verified', external_account: 'btok_us_verified' }),
    (e) => e.statusCode === 400 && e.param === 'bank_account');
  await assert.rejects(stripe.rawRequest('POST', `/v1/accounts/${acct.id}/external_accounts`, {}),
    (e) => e.statusCode === 400 && e.code === 'parameter_missing' && e.param === 'external_account');

  // a bank account: account_type and documents (an account_requirement file, kept, not shown)
  const pdf = Buffer.from('%PDF-1.4\n%bank\n');
  const proof = await stripe.files.create({ purpose: 'account_requirement', file: { data: pdf, name: 'stmt.pdf', type: 'application/pdf' } }, as(acct.id));
  const wrong = await stripe.files.create({ purpose: 'identity_document', file: { data: pdf, name: 'id.pdf', type: 'application/pdf' } });
  const ub = await stripe.accounts.updateExternalAccount(acct.id, ba.id, {
    account_type: 'savings', documents: { bank_account_ownership_verification: { files: [proof.id] } },
  });
  assert.equal(ub.account_type, 'savings');
  assert.equal(ub.documents, undefined);
  assertStripeShape(ub, 'bank_account');
  assert.equal((await stripe.accounts.retrieveExternalAccount(acct.id, ba.id)).account_type, 'savings');
  const ev = (await stripe.events.list({ type: 'account.external_account.updated', limit: 5 }, as(acct.id))).data.find((e) => e.data.object.id === ba.id);
  assert.equal(ev.data.previous_attributes.account_type, null);
  await assert.rejects(stripe.accounts.updateExternalAccount(acct.id, ba.id, { documents: { bank_account_ownership_verification: { files: [wrong.id] } } }),
    (e) => e.statusCode === 400 && e.param === 'documents[bank_account_ownership_verification][files]');
  await assert.rejects(stripe.accounts.updateExternalAccount(acct.id, ba.id, { exp_month: 4 }), (e) => e.statusCode === 400 && e.param === 'exp_month');
  await assert.rejects(stripe.accounts.updateExternalAccount(acct.id, ba.id, { name: 'X' }), (e) => e.statusCode === 400 && e.param === 'name');
  await assert.rejects(stripe.accounts.updateExternalAccount(acct.id, ba.id, { account_type: 'bogus' }), (e) => e.statusCode === 400);

  // a debit card: expiry, name and address (the address checks then unchecked)
  const card = await stripe.accounts.createExternalAccount(acct.id, { external_account: 'tok_visa_debit' });
  const year = new Date().getUTCFullYear() + 3;
  const uc = await stripe.accounts.updateExternalAccount(acct.id, card.id, {
    exp_month: 7, exp_year: year, name: 'Jane Driver', address_line1: '1 Main St', address_city: 'Springfield',
    address_state: 'IL', address_zip: '62701', address_country: 'US',
  });
  assert.equal(uc.exp_month, 7);
  assert.equal(uc.exp_year, year);
  assert.equal(uc.name, 'Jane Driver');
  assert.equal(uc.address_line1, '1 Main St');
  assert.equal(uc.address_zip, '62701');
  assert.equal(uc.address_line1_check, 'unchecked');
  assert.equal(uc.address_zip_check, 'unchecked');
  assert.equal(uc.address_line2, null);
  assertStripeShape(uc, 'card');
  const back = await stripe.rawRequest('GET', `/v1/accounts/${acct.id}/bank_accounts/${card.id}`);
  assert.equal(back.name, 'Jane Driver');
  assert.equal(back.exp_year, year);
  const two = await stripe.accounts.updateExternalAccount(acct.id, card.id, { exp_year: (year + 1) % 100, address_line1: '' });
  assert.equal(two.exp_year, year + 1);
  assert.equal(two.address_line1, null);
  assert.equal(two.address_line1_check, null);
  await assert.rejects(stripe.accounts.updateExternalAccount(acct.id, card.id, { exp_month: 13 }), (e) => e.param === 'exp_month');
  await assert.rejects(stripe.accounts.updateExternalAccount(acct.id, card.id, { exp_year: 2001 }), (e) => e.param === 'exp_year');
  await assert.rejects(stripe.accounts.updateExternalAccount(acct.id, card.id, { account_type: 'checking' }), (e) => e.statusCode === 400 && e.param === 'account_type');
  await assert.rejects(stripe.accounts.updateExternalAccount(acct.id, card.id, { documents: { bank_account_ownership_verification: { files: [proof.id] } } }),
    (e) => e.statusCode === 400 && e.param === 'documents');
  const now = await stripe.accounts.retrieveExternalAccount(acct.id, card.id);
  assert.equal(now.exp_month, 7);
  assert.equal(now.exp_year, year + 1);
  await assert.rejects(stripeB.accounts.updateExternalAccount(acct.id, card.id, { name: 'X' }), (e) => e.statusCode === 404);
});

test('account links: collection_options[fields, future_requirements] (collect\'s newer spelling) kept and the page asks what is due; not with collect; Stripe\'s enums', async () => {
  await pageEnv();
  const acct = await stripe.accounts.create({ type: 'express', country: 'US', capabilities: caps });
  const keyOf = (l) => require('node:crypto').createHash('sha256').update(l.url.split('/').pop()).digest('hex');
  const kept = (l) => storeSql(env.dataDir, `SELECT collect, future_requirements FROM account_links WHERE id = '${keyOf(l)}'`).join('').trim();
  const link = await linkFor(acct.id, { collection_options: { fields: 'eventually_due', future_requirements: 'include' } });
  assertStripeShape(link, 'account_link');
  assert.equal(kept(link), 'eventually_due|include');
  assert.equal(kept(await linkFor(acct.id, { collection_options: { fields: 'currently_due' } })), 'currently_due|omit');
  assert.equal(kept(await linkFor(acct.id, { collect: 'eventually_due' })), 'eventually_due|omit');
  assert.equal(kept(await linkFor(acct.id)), 'currently_due|omit', 'Stripe\'s defaults');
  // the page asks for what the account owes (Tender's eventually_due is its currently_due, its
  // future_requirements none): the first step's fields
  const page = await request({ port: env.port, path: new URL(link.url).pathname });
  assert.equal(page.status, 200);
  assert.match(page.body, /name="business_type"/);
  assert.match(page.body, /name="external_account\[account_number\]"/);
  const refuse = (extra, param) => assert.rejects(linkFor(acct.id, extra), (e) => e.statusCode === 400 && e.param === param);
  await refuse({ collect: 'currently_due', collection_options: { fields: 'currently_due' } }, 'collection_options');
  await refuse({ collection_options: { fields: 'past_due' } }, 'collection_options[fields]');
  await refuse({ collection_options: { future_requirements: 'always' } }, 'collection_options[future_requirements]');
  await refuse({ collection_options: { other: 'x' } }, 'collection_options[other]');
});
