'use strict';
// Connect, the rest of onboarding and payouts, through stripe-node: login links and the Express
// dashboard page (headless Chromium: Debian's chromium with playwright-core), payouts to a chosen
// external account (bank accounts and debit cards), instant payouts and their fee, a failed
// payout erroring its bank account, automatic payouts on the account's schedule. Another
// platform's key reaches none of it; the balance always equals its balance transactions; no
// full card or account number reaches the store or the log; tender verify passes.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const crypto = require('node:crypto');
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
// numbers sent in this file: none may be found in clear in the store or the log
const NUMBERS = ['000123456789', '000111111113', '4000056655665556', '5200828282828210', '5555555555554444'];
const bank = (account_number, extra = {}) => ({
  object: 'bank_account', country: 'US', currency: 'usd', routing_number: '110000000', account_number, ...extra,
});
const DOB = { day: 14, month: 3, year: 1985 };
const ADDRESS = { line1: '510 Townsend St', city: 'San Francisco', postal_code: '94103', state: 'CA', country: 'US' };
const tos = () => ({ date: Math.floor(Date.now() / 1000) - 10, ip: '203.0.113.9' });
const caps = { card_payments: { requested: true }, transfers: { requested: true } };

// An Express account that finished onboarding (everything given at creation).
async function expressAccount(extra = {}) {
  const acct = await stripe.accounts.create({
    type: 'express', country: 'US', capabilities: caps, business_type: 'individual',
    individual: { first_name: 'Ann', last_name: 'Lee', dob: DOB, address: ADDRESS },
    tos_acceptance: tos(), external_account: bank('000123456789'), ...extra,
  });
  assert.equal(acct.details_submitted, true);
  return acct;
}
// A direct charge on the account: 4000000000000077's funds are available at once.
async function fundAccount(id, amount, currency = 'usd', pm = 'pm_card_bypassPending') {
  const pi = await stripe.paymentIntents.create({ amount, currency, payment_method: pm, confirm: true }, as(id));
  assert.equal(pi.status, 'succeeded');
  return pi;
}
async function balanceOf(opts, currency = 'usd') {
  const b = await stripe.balance.retrieve({}, opts);
  const pick = (l) => (l.find((x) => x.currency === currency) || { amount: 0 }).amount;
  return { available: pick(b.available), pending: pick(b.pending) };
}
// The balance equals the sum of the account's balance transactions, per status.
async function assertBalanceIsItsTransactions(opts, currency = 'usd') {
  const bts = await stripe.balanceTransactions.list({ limit: 100 }, opts).autoPagingToArray({ limit: 10000 });
  const sum = (status) => bts.filter((t) => t.currency === currency && t.status === status).reduce((s, t) => s + t.net, 0);
  assert.deepEqual(await balanceOf(opts, currency), { available: sum('available'), pending: sum('pending') });
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
// "12.34 USD" from minor units, in integer arithmetic, as the page formats them
function money(amount, currency) {
  const exp = { jpy: 0, krw: 0 }[currency] ?? 2;
  const sign = amount < 0 ? '-' : '';
  const mag = BigInt(Math.abs(amount));
  if (exp === 0) return `${sign}${mag} ${currency.toUpperCase()}`;
  const div = 10n ** BigInt(exp);
  return `${sign}${mag / div}.${String(mag % div).padStart(exp, '0')} ${currency.toUpperCase()}`;
}

let browser;
async function chromium() {
  if (!browser) {
    browser = await launchChromium();
  }
  return browser;
}
after(async () => {
  if (browser) await browser.close();
});

test('login links: an onboarded Express account\'s dashboard shows its balance, payouts, payments and bank; single use', async () => {
  const acct = await expressAccount({ business_profile: { name: 'Ann\'s <Bakery>' } });
  // a direct charge (available at once), a pending one, a destination charge from the platform
  const direct = await fundAccount(acct.id, 20000);
  await fundAccount(acct.id, 1234, 'usd', 'pm_card_visa');
  const dest = await stripe.paymentIntents.create({
    amount: 5000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true,
    application_fee_amount: 500, transfer_data: { destination: acct.id },
  });
  const destCh = await stripe.charges.retrieve(dest.latest_charge);
  const tr = await stripe.transfers.retrieve(destCh.transfer);
  const po = await stripe.payouts.create({ amount: 1050, currency: 'usd' }, as(acct.id));
  await waitPayout(po.id, as(acct.id), 'paid');

  const link = await stripe.accounts.createLoginLink(acct.id);
  assertStripeShape(link, 'login_link');
  assert.deepEqual(Object.keys(link).sort(), ['created', 'object', 'url']);
  assert.equal(link.object, 'login_link');
  assert.ok(Math.abs(link.created - Date.now() / 1000) < 60);
  assert.match(link.url, new RegExp(`^http://127\\.0\\.0\\.1:${env.port}/connect/express/${env.merchant.id}/\\w{24}$`));

  const bal = await balanceOf(as(acct.id));
  const b = await chromium();
  const page = await b.newPage();
  const res = await page.goto(link.url);
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-security-policy'], /default-src 'none'/);
  assert.equal(res.headers()['cache-control'], 'no-cache, no-store');
  assert.equal(await page.locator('script').count(), 0);
  assert.equal(await page.locator('a').count(), 0, 'no link that could carry the URL away');
  assert.equal(await page.textContent('h1'), 'Ann\'s <Bakery>');
  assert.equal(await page.textContent('#account'), acct.id);
  assert.equal(await page.textContent('#available-usd'), money(bal.available, 'usd'));
  assert.equal(await page.textContent('#pending-usd'), money(bal.pending, 'usd'));
  assert.equal(await page.textContent('#external-usd'), 'STRIPE TEST BANK \u2022\u2022\u2022\u20226789 (usd)');
  const poRow = await page.textContent(`tr[id="${po.id}"]`);
  assert.match(poRow, /10\.50 USD/);
  assert.match(poRow, /paid/);
  assert.match(poRow, /STRIPE TEST BANK \u2022\u2022\u2022\u20226789/);
  const directCh = await stripe.charges.retrieve(direct.latest_charge, {}, as(acct.id));
  assert.match(await page.textContent(`tr[id="${directCh.id}"]`), /200\.00 USD/);
  const payRow = await page.textContent(`tr[id="${tr.destination_payment}"]`);
  assert.match(payRow, /From your platform/);
  assert.match(payRow, /50\.00 USD.*45\.00 USD/s);
  // single use: the second visit shows nothing of the account
  const again = await page.goto(link.url);
  assert.equal(again.status(), 410);
  const text = await page.textContent('body');
  assert.match(text, /expired/);
  assert.ok(!text.includes(acct.id) && !text.includes('USD') && !text.includes('Bakery'));
  await page.close();
  // the raw page, without a browser: the same
  const raw = await request({ port: env.port, path: new URL(link.url).pathname });
  assert.equal(raw.status, 410);
  assert.ok(!raw.body.includes(acct.id));
});

test('login links: expire after a few minutes; a zero-decimal currency; an account without funds', async () => {
  const acct = await expressAccount({ country: 'JP', default_currency: 'jpy', external_account: bank('000123456789', { country: 'JP', currency: 'jpy', routing_number: '1100000' }) });
  await fundAccount(acct.id, 1500, 'jpy');
  const bal = await balanceOf(as(acct.id), 'jpy');
  const link = await stripe.accounts.createLoginLink(acct.id);
  const r = await request({ port: env.port, path: new URL(link.url).pathname });
  assert.equal(r.status, 200);
  assert.ok(r.body.includes(`id="available-jpy">${money(bal.available, 'jpy')}<`), r.body);
  assert.ok(r.body.includes(`id="pending-jpy">0 JPY<`));

  const empty = await expressAccount();
  const l2 = await stripe.accounts.createLoginLink(empty.id);
  const e = await request({ port: env.port, path: new URL(l2.url).pathname });
  assert.equal(e.status, 200);
  assert.match(e.body, /id="no-balance"/);
  assert.match(e.body, /id="no-payouts"/);
  assert.match(e.body, /id="no-payments"/);

  // expired before its first visit: the expired page, and it stays unusable
  const l3 = await stripe.accounts.createLoginLink(empty.id);
  const hash = crypto.createHash('sha256').update(l3.url.split('/').pop()).digest('hex');
  storeSql(env.dataDir, `UPDATE login_links SET created = ${l3.created - 301} WHERE id = '${hash}'`);
  const x = await request({ port: env.port, path: new URL(l3.url).pathname });
  assert.equal(x.status, 410);
  assert.ok(!x.body.includes(empty.id));
  // a wrong key, or another platform in the path: not found
  const path = new URL(l2.url).pathname;
  assert.equal((await request({ port: env.port, path: path.replace(/\w{24}$/, 'A'.repeat(24)) })).status, 404);
  assert.equal((await request({ port: env.port, path: path.replace(env.merchant.id, env.merchants[1].id) })).status, 404);
});

test('login links: Express accounts that finished onboarding only; another platform gets 404', async () => {
  const custom = await stripe.accounts.create({ type: 'custom' });
  const standard = await stripe.accounts.create({ type: 'standard' });
  const fresh = await stripe.accounts.create({ type: 'express', capabilities: caps });
  const done = await expressAccount();
  for (const id of [custom.id, standard.id]) {
    await assert.rejects(stripe.accounts.createLoginLink(id),
      (e) => e.statusCode === 400 && e.type === 'StripeInvalidRequestError' && /Express/.test(e.message));
  }
  await assert.rejects(stripe.accounts.createLoginLink(fresh.id), (e) => e.statusCode === 400 && /onboarding/.test(e.message));
  const missing = (e) => e.statusCode === 404 && e.code === 'resource_missing';
  await assert.rejects(stripeB.accounts.createLoginLink(done.id), missing);
  await assert.rejects(stripe.accounts.createLoginLink('acct_nope'), missing);
  await assert.rejects(stripe.accounts.createLoginLink(done.id, {}, as(done.id)), (e) => e.statusCode === 400);
  await stripe.accounts.del(done.id);
  await assert.rejects(stripe.accounts.createLoginLink(done.id), missing);
});

// ---- payouts to external accounts ----

test('debit cards as external accounts: test cards and card tokens; credit and prepaid cards refused; lists mix them in order', async () => {
  const acct = await stripe.accounts.create({ type: 'custom', country: 'US' });
  const bankA = await stripe.accounts.createExternalAccount(acct.id, { external_account: bank('000123456789') });
  const visa = await stripe.accounts.createExternalAccount(acct.id, { external_account: 'tok_visa_debit', metadata: { k: 'v' } });
  assertStripeShape(visa, 'card');
  assert.match(visa.id, /^card_/);
  assert.equal(visa.object, 'card');
  assert.equal(visa.account, acct.id);
  assert.equal(visa.brand, 'Visa');
  assert.equal(visa.funding, 'debit');
  assert.equal(visa.last4, '5556');
  assert.equal(visa.currency, 'usd');
  assert.equal(visa.country, 'US');
  assert.deepEqual(visa.available_payout_methods, ['standard', 'instant']);
  assert.equal(visa.default_for_currency, false, 'the bank account was first');
  assert.equal(visa.status, 'new');
  assert.deepEqual(visa.metadata, { k: 'v' });
  assert.ok(Number.isInteger(visa.exp_month) && Number.isInteger(visa.exp_year));
  assert.match(visa.fingerprint, /^\w{16}$/);
  const mc = await stripe.accounts.createExternalAccount(acct.id, { external_account: 'tok_mastercard_debit' });
  assert.equal(mc.brand, 'MasterCard');
  assert.equal(mc.last4, '8210');
  // a card token made with the platform's key, used once
  const tok = await stripe.tokens.create({ card: { number: '4000056655665556', exp_month: '12', exp_year: '2031', cvc: '123' } });
  const fromTok = await stripe.accounts.createExternalAccount(acct.id, { external_account: tok.id });
  assertStripeShape(fromTok, 'card');
  assert.equal(fromTok.exp_year, 2031);
  assert.equal((await stripe.tokens.retrieve(tok.id)).used, true);
  await assert.rejects(stripe.accounts.createExternalAccount(acct.id, { external_account: tok.id }),
    (e) => e.statusCode === 400 && e.code === 'token_already_used');
  // credit and prepaid cards are not payout destinations; a refused token stays unused
  const credit = await stripe.tokens.create({ card: { number: '5555555555554444', exp_month: '12', exp_year: '2031' } });
  for (const ref of ['tok_visa', 'tok_mastercard_prepaid', credit.id]) {
    await assert.rejects(stripe.accounts.createExternalAccount(acct.id, { external_account: ref }),
      (e) => e.statusCode === 400 && e.code === 'invalid_card_type' && e.param === 'external_account');
  }
  assert.equal((await stripe.tokens.retrieve(credit.id)).used, false);
  await assert.rejects(stripe.accounts.createExternalAccount(acct.id, { external_account: 'tok_nope' }),
    (e) => e.statusCode === 404 && e.code === 'resource_missing');

  // one list, newest first, bank accounts and cards together; object= filters
  const all = await stripe.accounts.listExternalAccounts(acct.id, { limit: 2 }).autoPagingToArray({ limit: 10 });
  assert.deepEqual(all.map((x) => x.id), [fromTok.id, mc.id, visa.id, bankA.id]);
  for (const x of all) assertStripeShape(x, x.object);
  const page = await stripe.accounts.listExternalAccounts(acct.id, { limit: 2 });
  assert.equal(page.has_more, true);
  assert.deepEqual(page.data.map((x) => x.id), [fromTok.id, mc.id]);
  const before = await stripe.accounts.listExternalAccounts(acct.id, { ending_before: visa.id });
  assert.deepEqual(before.data.map((x) => x.id), [fromTok.id, mc.id]);
  assert.deepEqual((await stripe.accounts.listExternalAccounts(acct.id, { object: 'card' })).data.map((x) => x.id),
    [fromTok.id, mc.id, visa.id]);
  assert.deepEqual((await stripe.accounts.listExternalAccounts(acct.id, { object: 'bank_account' })).data.map((x) => x.id),
    [bankA.id]);
  await assert.rejects(stripe.accounts.listExternalAccounts(acct.id, { starting_after: 'card_nope' }), (e) => e.statusCode === 404);
  const got = await stripe.accounts.retrieve(acct.id);
  assertStripeShape(got, 'account');
  assert.deepEqual(got.external_accounts.data.map((x) => x.id), [fromTok.id, mc.id, visa.id, bankA.id]);

  // update: the card becomes the default; a bank account's fields are not a card's
  const up = await stripe.accounts.updateExternalAccount(acct.id, visa.id, { default_for_currency: true });
  assertStripeShape(up, 'card');
  assert.equal(up.default_for_currency, true);
  assert.equal((await stripe.accounts.retrieveExternalAccount(acct.id, bankA.id)).default_for_currency, false);
  await assert.rejects(stripe.accounts.updateExternalAccount(acct.id, mc.id, { account_holder_name: 'X' }),
    (e) => e.statusCode === 400 && e.param === 'account_holder_name');
  const del = await stripe.accounts.deleteExternalAccount(acct.id, mc.id);
  assert.deepEqual(del, { id: mc.id, object: 'card', deleted: true });
  const ev = (await stripe.events.list({ type: 'account.external_account.created', limit: 10 }, as(acct.id))).data;
  const cardEv = ev.find((e) => e.data.object.id === visa.id);
  assertStripeShape(cardEv.data.object, 'card');
  assert.equal(cardEv.account, acct.id);
  // another platform sees none of it
  await assert.rejects(stripeB.accounts.retrieveExternalAccount(acct.id, visa.id), (e) => e.statusCode === 404);
  // a debit card given when the account is made is its external account (onboarding's too)
  const withCard = await stripe.accounts.create({ type: 'custom', external_account: 'tok_mastercard_debit' });
  assertStripeShape(withCard, 'account');
  assert.equal(withCard.external_accounts.data[0].object, 'card');
  assert.equal(withCard.external_accounts.data[0].default_for_currency, true);
});

test('payouts: to a chosen bank account or card, instant payouts to a debit card with their fee; refusals change nothing', async () => {
  const acct = await stripe.accounts.create({ type: 'custom', country: 'US' });
  await fundAccount(acct.id, 100000);
  const bankA = await stripe.accounts.createExternalAccount(acct.id, { external_account: bank('000123456789') });
  const bankB = await stripe.accounts.createExternalAccount(acct.id, { external_account: 'btok_us_verified' });
  const card = await stripe.accounts.createExternalAccount(acct.id, { external_account: 'tok_visa_debit' });
  const eurBank = await stripe.accounts.createExternalAccount(acct.id, {
    external_account: bank('000123456789', { country: 'DE', currency: 'eur', routing_number: undefined }),
  });
  const o = as(acct.id);
  const start = await balanceOf(o);

  // to the default, to a named bank account, to a card (standard)
  const p0 = await stripe.payouts.create({ amount: 1000, currency: 'usd' }, o);
  assert.equal(p0.destination, bankA.id);
  const p1 = await stripe.payouts.create({ amount: 1100, currency: 'usd', destination: bankB.id }, o);
  assertStripeShape(p1, 'payout');
  assert.equal(p1.destination, bankB.id);
  assert.equal(p1.type, 'bank_account');
  assert.equal(p1.method, 'standard');
  assert.equal(p1.automatic, false);
  assert.equal(p1.source_type, 'card');
  const p2 = await stripe.payouts.create({ amount: 1200, currency: 'usd', destination: card.id, method: 'standard', source_type: 'card' }, o);
  assert.equal(p2.type, 'card');
  assert.equal(p2.destination, card.id);
  assert.ok(p2.arrival_date > p2.created, 'a standard payout arrives later');
  const ex = await stripe.payouts.retrieve(p2.id, { expand: ['destination'] }, o);
  assertStripeShape(ex.destination, 'card');
  assert.equal(ex.destination.id, card.id);
  const exb = await stripe.payouts.retrieve(p1.id, { expand: ['destination'] }, o);
  assertStripeShape(exb.destination, 'bank_account');
  assert.deepEqual((await stripe.payouts.list({ destination: card.id }, o)).data.map((x) => x.id), [p2.id]);

  // instant: to the card, at once, with Stripe's fee as a balance transaction of its own
  const before = await balanceOf(o);
  const inst = await stripe.payouts.create({ amount: 10000, currency: 'usd', destination: card.id, method: 'instant' }, o);
  assertStripeShape(inst, 'payout');
  assert.equal(inst.method, 'instant');
  assert.equal(inst.type, 'card');
  assert.equal(inst.arrival_date, inst.created);
  const fee = 150; // 1.5 % of 100.00
  assert.equal((await balanceOf(o)).available, before.available - 10000 - fee);
  const bts = (await stripe.balanceTransactions.list({ limit: 10 }, o)).data.filter((t) => t.source === inst.id);
  const feeBt = bts.find((t) => t.type === 'stripe_fee');
  assertStripeShape(feeBt, 'balance_transaction');
  assert.equal(feeBt.amount, -fee);
  assert.equal(feeBt.net, -fee);
  assert.equal(feeBt.fee, 0);
  assert.equal(feeBt.reporting_category, 'fee');
  assert.equal(feeBt.description, 'Instant Payout fee');
  const poBt = bts.find((t) => t.type === 'payout');
  assert.equal(poBt.amount, -10000);
  assert.equal(poBt.id, inst.balance_transaction);
  await assert.rejects(stripe.payouts.cancel(inst.id, {}, o), (e) => e.statusCode === 400 && /Instant/.test(e.message));
  assert.equal((await waitPayout(inst.id, o, 'paid')).status, 'paid');
  // the minimum fee: 0.50 on a 10.00 instant payout (to the default card, once it is one)
  await stripe.accounts.updateExternalAccount(acct.id, card.id, { default_for_currency: true });
  const small = await stripe.payouts.create({ amount: 1000, currency: 'usd', method: 'instant' }, o);
  assert.equal(small.destination, card.id);
  const smallFee = (await stripe.balanceTransactions.list({ limit: 5 }, o)).data.find((t) => t.source === small.id && t.type === 'stripe_fee');
  assert.equal(smallFee.amount, -50);
  await stripe.accounts.updateExternalAccount(acct.id, bankA.id, { default_for_currency: true });

  // refusals: nothing moves
  const mid = await balanceOf(o);
  const refused = [
    [{ amount: 500, currency: 'usd', destination: bankA.id, method: 'instant' }, 400, 'instant_payouts_unsupported'],
    [{ amount: 500, currency: 'usd', method: 'instant' }, 400, 'instant_payouts_unsupported'],
    [{ amount: 500, currency: 'eur', destination: eurBank.id, method: 'instant' }, 400, 'instant_payouts_currency_disabled'],
    [{ amount: 500, currency: 'usd', destination: 'ba_nope' }, 404, 'resource_missing'],
    [{ amount: 500, currency: 'usd', destination: eurBank.id }, 400, undefined],
    [{ amount: 500, currency: 'usd', source_type: 'bank_account' }, 400, undefined],
    [{ amount: mid.available, currency: 'usd', destination: card.id, method: 'instant' }, 400, 'balance_insufficient'],
  ];
  for (const [params, status, code] of refused) {
    await assert.rejects(stripe.payouts.create(params, o), (e) => e.statusCode === status && e.code === code, JSON.stringify(params));
  }
  const gone = await stripe.accounts.createExternalAccount(acct.id, { external_account: 'btok_us_verified' });
  await stripe.accounts.deleteExternalAccount(acct.id, gone.id);
  await assert.rejects(stripe.payouts.create({ amount: 500, currency: 'usd', destination: gone.id }, o),
    (e) => e.statusCode === 404 && e.param === 'destination');
  // another account's external account is not this one's
  const other = await stripe.accounts.create({ type: 'custom' });
  await fundAccount(other.id, 5000);
  await assert.rejects(stripe.payouts.create({ amount: 500, currency: 'usd', destination: bankA.id }, as(other.id)),
    (e) => e.statusCode === 404 && e.code === 'resource_missing');
  assert.deepEqual(await balanceOf(o), mid);
  // the largest instant payout the balance covers with its fee
  const rest = mid.available;
  const feeOf = (a) => Math.max(50, Math.floor((a * 150 + 5000) / 10000));
  let most = Math.floor((rest * 10000) / 10150);
  while (most + 1 + feeOf(most + 1) <= rest) most++;
  while (most + feeOf(most) > rest) most--;
  await assert.rejects(stripe.payouts.create({ amount: most + 1, currency: 'usd', destination: card.id, method: 'instant' }, o),
    (e) => e.code === 'balance_insufficient');
  const all = await stripe.payouts.create({ amount: most, currency: 'usd', destination: card.id, method: 'instant' }, o);
  assert.equal(all.status, 'pending');
  assert.equal((await balanceOf(o)).available, rest - most - feeOf(most));
  for (const po of [p0, p1, p2]) assert.equal((await waitPayout(po.id, o, 'paid')).status, 'paid');
  await assertBalanceIsItsTransactions(o);
  assert.equal((await balanceOf(o)).available,
    start.available - 1000 - 1100 - 1200 - 10000 - 150 - 1000 - 50 - most - feeOf(most));
});

test('payout_method: the payout goes to the external account (bank account or card) it names, shown as payout_method; anything else refused', async () => {
  const acct = await stripe.accounts.create({ type: 'custom', country: 'US' });
  await fundAccount(acct.id, 20000);
  const bankA = await stripe.accounts.createExternalAccount(acct.id, { external_account: bank('000123456789') });
  const card = await stripe.accounts.createExternalAccount(acct.id, { external_account: 'tok_visa_debit' });
  const o = as(acct.id);
  const toCard = await stripe.payouts.create({ amount: 700, currency: 'usd', payout_method: card.id }, o);
  assertStripeShape(toCard, 'payout');
  assert.deepEqual([toCard.payout_method, toCard.destination, toCard.type], [card.id, card.id, 'card']);
  const plain = await stripe.payouts.create({ amount: 300, currency: 'usd' }, o);
  assert.deepEqual([plain.payout_method, plain.destination], [null, bankA.id]);
  assert.equal((await stripe.payouts.retrieve(toCard.id, {}, o)).payout_method, card.id);
  // not an external account of this account, or beside destination: refused, nothing moves
  const mid = await balanceOf(o);
  const other = await stripe.accounts.create({ type: 'custom', country: 'US' });
  const foreign = await stripe.accounts.createExternalAccount(other.id, { external_account: bank('000123456789') });
  for (const [params, status, param] of [
    [{ payout_method: 'fa_nope' }, 404, 'payout_method'],
    [{ payout_method: foreign.id }, 404, 'payout_method'],
    [{ payout_method: card.id, destination: bankA.id }, 400, 'payout_method'],
  ]) {
    await assert.rejects(stripe.payouts.create({ amount: 100, currency: 'usd', ...params }, o),
      (e) => e.statusCode === status && e.param === param, JSON.stringify(params));
  }
  assert.deepEqual(await balanceOf(o), mid);
  const listed = (await stripe.payouts.list({ limit: 2 }, o)).data;
  assert.deepEqual(Object.fromEntries(listed.map((x) => [x.id, x.payout_method])), { [plain.id]: null, [toCard.id]: card.id });
});

test('a failed payout errors its bank account (account.external_account.updated); updating the account clears it', async () => {
  const acct = await stripe.accounts.create({ type: 'custom', country: 'US' });
  await fundAccount(acct.id, 20000);
  const o = as(acct.id);
  const closed = await stripe.accounts.createExternalAccount(acct.id, { external_account: bank('000111111113') });
  const start = await balanceOf(o);
  const po = await stripe.payouts.create({ amount: 2500, currency: 'usd' }, o);
  const failed = await waitPayout(po.id, o, 'failed');
  assert.equal(failed.failure_code, 'account_closed');
  const errored = await stripe.accounts.retrieveExternalAccount(acct.id, closed.id);
  assertStripeShape(errored, 'bank_account');
  assert.equal(errored.status, 'errored');
  const evs = (await stripe.events.list({ type: 'account.external_account.updated', limit: 10 }, o)).data;
  assert.equal(evs.length, 1);
  assert.equal(evs[0].data.object.status, 'errored');
  assert.deepEqual(evs[0].data.previous_attributes, { status: 'new' });
  assert.equal(evs[0].account, acct.id);
  assert.equal(evs[0].request.id, null, 'the bank answered, no request');
  // the platform's connect view of the account shows it too
  assert.equal((await stripe.accounts.retrieve(acct.id)).external_accounts.data[0].status, 'errored');
  // a second failure: errored already, no second event
  const po2 = await stripe.payouts.create({ amount: 100, currency: 'usd' }, o);
  await waitPayout(po2.id, o, 'failed');
  assert.equal((await stripe.events.list({ type: 'account.external_account.updated', limit: 10 }, o)).data.length, 1);
  // updating the bank account (default_for_currency) clears the error
  const upd = await stripe.accounts.updateExternalAccount(acct.id, closed.id, { default_for_currency: true });
  assert.equal(upd.status, 'new');
  const ev2 = (await stripe.events.list({ type: 'account.external_account.updated', limit: 1 }, o)).data[0];
  assert.deepEqual(ev2.data.previous_attributes, { status: 'errored' });
  // the funds of both failed payouts are back: the balance is its transactions
  assert.equal((await balanceOf(o)).available, start.available);
  await assertBalanceIsItsTransactions(o);
});

test('payouts through Stripe-Account are the connected account\'s; another platform reaches none of them', async () => {
  const acct = await expressAccount();
  await fundAccount(acct.id, 8000);
  const ba = (await stripe.accounts.listExternalAccounts(acct.id)).data[0];
  const po = await stripe.payouts.create({ amount: 700, currency: 'usd', destination: ba.id }, as(acct.id));
  assert.deepEqual((await stripe.payouts.list({}, as(acct.id))).data.map((x) => x.id), [po.id]);
  assert.ok(!(await stripe.payouts.list({ limit: 100 })).data.some((x) => x.id === po.id), 'not the platform\'s own');
  await assert.rejects(stripe.payouts.retrieve(po.id), (e) => e.statusCode === 404);
  // platform B: not through the header, not by id, not to A's account's bank account
  await assert.rejects(stripeB.payouts.create({ amount: 100, currency: 'usd' }, as(acct.id)),
    (e) => e.statusCode === 403 && e.code === 'account_invalid');
  await assert.rejects(stripeB.payouts.retrieve(po.id), (e) => e.statusCode === 404);
  await assert.rejects(stripeB.payouts.cancel(po.id), (e) => e.statusCode === 404);
  await assert.rejects(stripeB.payouts.create({ amount: 100, currency: 'usd', destination: ba.id }),
    (e) => e.statusCode === 404 && e.code === 'resource_missing' && e.param === 'destination');
  const ex = await stripe.payouts.retrieve(po.id, { expand: ['destination'] }, as(acct.id));
  assert.equal(ex.destination.id, ba.id);
});

// ---- automatic payouts ----

const dueNow = (id) => storeSql(env.dataDir,
  `UPDATE connected_accounts SET po_next_due = ${Math.floor(Date.now() / 1000) - 5} WHERE id = '${id}'`);
const nextDue = (id) => Math.max(...storeSql(env.dataDir,
  `SELECT COALESCE(po_next_due, 0) FROM connected_accounts WHERE id = '${id}'`).map((x) => Number(x.trim() || 0)));
// a daily schedule's next due date: the coming 00:00 UTC
function isNextMidnight(t) {
  const now = Date.now() / 1000;
  return t % 86400 === 0 && t > now && t <= now + 86400;
}
async function automaticPayouts(opts, want, tries = 40) {
  let list = [];
  for (let i = 0; i < tries; i++) {
    list = (await stripe.payouts.list({ limit: 100 }, opts)).data.filter((p) => p.automatic);
    if (list.length >= want) break;
    await sleep(150);
  }
  return list;
}

test('payout schedules: settings.payouts.schedule on create and update, as Stripe shows and checks it', async () => {
  const acct = await stripe.accounts.create({ type: 'custom', settings: { payouts: { schedule: { interval: 'daily' } } } });
  assertStripeShape(acct, 'account');
  assert.deepEqual(acct.settings.payouts.schedule, { delay_days: 2, interval: 'daily' });
  const dayS = 86400;
  const now = Math.floor(Date.now() / 1000);
  assert.ok(isNextMidnight(nextDue(acct.id)), 'the next midnight (UTC)');
  const weekly = await stripe.accounts.update(acct.id, { settings: { payouts: { schedule: { interval: 'weekly', weekly_anchor: 'friday', delay_days: 'minimum' } } } });
  assertStripeShape(weekly, 'account');
  assert.deepEqual(weekly.settings.payouts.schedule, { delay_days: 2, interval: 'weekly', weekly_anchor: 'friday' });
  const due = nextDue(acct.id);
  assert.equal(new Date(due * 1000).getUTCDay(), 5);
  assert.ok(due > now && due <= now + 7 * dayS);
  const ev = (await stripe.events.list({ type: 'account.updated', limit: 1 })).data[0];
  assert.equal(ev.data.object.id, acct.id);
  assert.deepEqual(ev.data.previous_attributes, { settings: { payouts: { schedule: { delay_days: 2, interval: 'daily' } } } });
  const monthly = await stripe.accounts.update(acct.id, { settings: { payouts: { schedule: { interval: 'monthly', monthly_anchor: 31 } } } });
  assert.deepEqual(monthly.settings.payouts.schedule, { delay_days: 2, interval: 'monthly', monthly_anchor: 31 });
  // the same schedule again keeps its due date; refusals change nothing
  const before = nextDue(acct.id);
  await stripe.accounts.update(acct.id, { settings: { payouts: { schedule: { interval: 'monthly', monthly_anchor: 31 } } } });
  assert.equal(nextDue(acct.id), before);
  const bad = [
    [{ interval: 'weekly' }, 'parameter_missing'],
    [{ interval: 'monthly', monthly_anchor: 0 }, undefined],
    [{ interval: 'daily', monthly_anchor: 3 }, undefined],
    [{ interval: 'daily', weekly_anchor: 'monday' }, undefined],
    [{ interval: 'daily', delay_days: 1 }, undefined],
    [{ interval: 'daily', delay_days: 32 }, undefined],
    [{ interval: 'hourly' }, undefined],
  ];
  for (const [schedule, code] of bad) {
    await assert.rejects(stripe.accounts.update(acct.id, { settings: { payouts: { schedule } } }),
      (e) => e.statusCode === 400 && e.code === code && /settings\[payouts\]\[schedule\]/.test(e.param), JSON.stringify(schedule));
  }
  assert.deepEqual((await stripe.accounts.retrieve(acct.id)).settings.payouts.schedule, monthly.settings.payouts.schedule);
  const manual = await stripe.accounts.update(acct.id, { settings: { payouts: { schedule: { interval: 'manual' } } } });
  assert.deepEqual(manual.settings.payouts.schedule, { delay_days: 2, interval: 'manual' });
  assert.equal(nextDue(acct.id), 0, 'no due date');
  // delay_days holds the account's own charges that long (Stripe's guide: daily, 14 days), the
  // platform's charges keep Tender's 2 days; balance settings' delay_days_override is the same
  const held = await stripe.accounts.update(acct.id, { settings: { payouts: { schedule: { interval: 'daily', delay_days: 14 } } } });
  assert.deepEqual(held.settings.payouts.schedule, { delay_days: 14, interval: 'daily' });
  const daysHeld = async (opts) => {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true }, opts);
    const ch = await stripe.charges.retrieve(pi.latest_charge, { expand: ['balance_transaction'] }, opts);
    return Math.ceil((ch.balance_transaction.available_on - ch.balance_transaction.created) / dayS);
  };
  assert.equal(await daysHeld(as(acct.id)), 15, '14 days, to the next midnight');
  assert.equal(await daysHeld(), 3);
  const bs = await stripe.balanceSettings.update({ payments: { settlement_timing: { delay_days_override: 7 } } }, as(acct.id));
  assert.equal(bs.payments.settlement_timing.delay_days, 7);
  assert.equal((await stripe.accounts.retrieve(acct.id)).settings.payouts.schedule.delay_days, 7);
  assert.equal(await daysHeld(as(acct.id)), 8);
  await stripe.accounts.update(acct.id, { settings: { payouts: { schedule: { interval: 'manual', delay_days: 'minimum' } } } });
  // a platform's own account keeps its payouts manual
  assert.deepEqual((await stripe.accounts.retrieve()).settings.payouts.schedule, { delay_days: 2, interval: 'manual' });
  await assert.rejects(stripeB.accounts.update(acct.id, { settings: { payouts: { schedule: { interval: 'daily' } } } }),
    (e) => e.statusCode === 404);
});

test('automatic payouts: the scheduler pays out the available balance at the due date, once, never more than is available', async () => {
  const acct = await stripe.accounts.create({ type: 'custom', settings: { payouts: { schedule: { interval: 'daily' } } } });
  const o = as(acct.id);
  const ba = await stripe.accounts.createExternalAccount(acct.id, { external_account: bank('000123456789') });
  await fundAccount(acct.id, 30000);
  await fundAccount(acct.id, 5000, 'usd', 'pm_card_visa'); // pending: not paid out
  const start = await balanceOf(o);
  assert.ok(start.available > 0 && start.pending > 0);
  assert.ok(isNextMidnight(nextDue(acct.id)));
  // not due yet: nothing happens
  await sleep(1200);
  assert.equal((await automaticPayouts(o, 1, 1)).length, 0);
  dueNow(acct.id);
  const [po] = await automaticPayouts(o, 1);
  assert.ok(po, 'an automatic payout');
  assertStripeShape(po, 'payout');
  assert.equal(po.automatic, true);
  assert.equal(po.amount, start.available);
  assert.equal(po.destination, ba.id);
  assert.equal(po.method, 'standard');
  assert.equal(po.description, 'STRIPE PAYOUT');
  assert.deepEqual(await balanceOf(o), { available: 0, pending: start.pending });
  assert.ok(isNextMidnight(nextDue(acct.id)), 'the next due date is the next midnight again');
  const created = (await stripe.events.list({ type: 'payout.created', limit: 5 }, o)).data;
  assert.equal(created.length, 1);
  assert.equal(created[0].account, acct.id);
  await assert.rejects(stripe.payouts.cancel(po.id, {}, o), (e) => e.statusCode === 400 && /automatic/.test(e.message));
  // reconciliation: the transactions the payout took (Stripe's payout filter), its own included
  const took = (await stripe.balanceTransactions.list({ payout: po.id, limit: 100 }, o)).data;
  assert.ok(took.some((b) => b.id === po.balance_transaction), 'the payout\'s own transaction');
  assert.equal(took.reduce((t, b) => t + b.net, 0), 0, 'what it took is what it paid out');
  assert.equal(took.filter((b) => b.id !== po.balance_transaction).reduce((t, b) => t + b.net, 0), po.amount);
  assert.ok(took.every((b) => b.status === 'available'), 'pending funds are not taken');
  assert.equal((await waitPayout(po.id, o, 'paid')).status, 'paid');
  // once per due date: no second payout, even with new funds, until the next one
  await fundAccount(acct.id, 2000);
  await sleep(1200);
  assert.equal((await automaticPayouts(o, 2, 1)).length, 1);
  // the next due date pays what became available since, and only that
  const avail = (await balanceOf(o)).available;
  dueNow(acct.id);
  const two = await automaticPayouts(o, 2);
  assert.equal(two.length, 2);
  assert.equal(two[0].amount, avail);
  const took2 = (await stripe.balanceTransactions.list({ payout: two[0].id, limit: 100 }, o)).data;
  assert.equal(took2.reduce((t, b) => t + b.net, 0), 0);
  assert.ok(took2.every((b) => !took.some((x) => x.id === b.id)), 'no transaction is taken twice');
  assert.equal(took2.length, 2, 'the new funds and the payout');
  assert.equal((await balanceOf(o)).available, 0);
  await assertBalanceIsItsTransactions(o);
  // due with nothing available: no payout, the due date still moves on
  dueNow(acct.id);
  for (let i = 0; i < 40 && !isNextMidnight(nextDue(acct.id)); i++) await sleep(150);
  assert.ok(isNextMidnight(nextDue(acct.id)));
  assert.equal((await automaticPayouts(o, 3, 1)).length, 2);
});

test('the payout filter of balance transactions: automatic payouts only, the caller\'s own', async () => {
  const acct = await stripe.accounts.create({ type: 'custom' });
  const o = as(acct.id);
  await stripe.accounts.createExternalAccount(acct.id, { external_account: bank('000123456789') });
  await fundAccount(acct.id, 4000);
  const manual = await stripe.payouts.create({ amount: 1000, currency: 'usd' }, o);
  assert.equal(manual.automatic, false);
  await assert.rejects(stripe.balanceTransactions.list({ payout: manual.id }, o),
    (e) => e.statusCode === 400 && e.param === 'payout' && /automatic/.test(e.message));
  await assert.rejects(stripe.balanceTransactions.list({ payout: 'po_nope' }, o), (e) => e.statusCode === 404);
  await assert.rejects(stripe.balanceTransactions.list({ payout: manual.id }), (e) => e.statusCode === 404, 'the platform does not see it');
});

test('automatic payouts skip an errored bank account until it is updated, and an account without one', async () => {
  const acct = await stripe.accounts.create({ type: 'custom', settings: { payouts: { schedule: { interval: 'daily' } } } });
  const o = as(acct.id);
  const closed = await stripe.accounts.createExternalAccount(acct.id, { external_account: bank('000111111113') });
  await fundAccount(acct.id, 10000);
  const failed = await stripe.payouts.create({ amount: 100, currency: 'usd' }, o);
  await waitPayout(failed.id, o, 'failed');
  assert.equal((await stripe.accounts.retrieveExternalAccount(acct.id, closed.id)).status, 'errored');
  const avail = (await balanceOf(o)).available;
  dueNow(acct.id);
  for (let i = 0; i < 40 && !isNextMidnight(nextDue(acct.id)); i++) await sleep(150);
  assert.ok(isNextMidnight(nextDue(acct.id)), 'the due date passed');
  assert.equal((await automaticPayouts(o, 1, 1)).length, 0, 'no payout to an errored bank account');
  assert.equal((await balanceOf(o)).available, avail);
  // the bank account is updated: the next due date pays out to it
  await stripe.accounts.updateExternalAccount(acct.id, closed.id, { metadata: { fixed: 'yes' } });
  dueNow(acct.id);
  const [po] = await automaticPayouts(o, 1);
  assert.equal(po.amount, avail);
  assert.equal(po.destination, closed.id);
  await assertBalanceIsItsTransactions(o);
  // without an external account the balance waits; the due date moves on
  const none = await stripe.accounts.create({ type: 'custom', settings: { payouts: { schedule: { interval: 'daily' } } } });
  await fundAccount(none.id, 3000);
  const noneAvail = (await balanceOf(as(none.id))).available;
  dueNow(none.id);
  for (let i = 0; i < 40 && !isNextMidnight(nextDue(none.id)); i++) await sleep(150);
  assert.ok(isNextMidnight(nextDue(none.id)));
  assert.equal((await automaticPayouts(as(none.id), 1, 1)).length, 0);
  assert.equal((await balanceOf(as(none.id))).available, noneAvail);
  // a manual account is never paid out automatically
  const man = await stripe.accounts.create({ type: 'custom' });
  await stripe.accounts.createExternalAccount(man.id, { external_account: 'btok_us_verified' });
  await fundAccount(man.id, 3000);
  await sleep(1000);
  assert.equal((await automaticPayouts(as(man.id), 1, 1)).length, 0);
});

// ---- balance settings: a second view of the account's payout settings ----

// Stripe's balance_settings object (stripe-node 23's BalanceSettings) with these payout parts
const balanceSettings = ({ debit = false, schedule = { interval: 'manual' }, descriptor = null, status = 'enabled' } = {}) => ({
  object: 'balance_settings',
  payments: {
    debit_negative_balances: debit,
    payouts: {
      automatic_transfer_rules_by_currency: null,
      minimum_balance_by_currency: null,
      schedule,
      statement_descriptor: descriptor,
      status,
    },
    settlement_timing: { delay_days: 2, start_of_day: null },
  },
});
const plain = (o) => JSON.parse(JSON.stringify(o));

test('balance settings: the account\'s payout settings through Stripe-Account; an update is an account update and the reverse, with their events', async () => {
  const acct = await stripe.accounts.create({ type: 'custom' });
  const o = as(acct.id);
  assert.deepEqual(plain(await stripe.balanceSettings.retrieve({}, o)), balanceSettings());
  // the platform's own account: paid out on request, debit_negative_balances Stripe's default
  assert.deepEqual(plain(await stripe.balanceSettings.retrieve()), balanceSettings({ debit: true }));
  const express = await expressAccount();
  assert.deepEqual(plain(await stripe.balanceSettings.retrieve({}, as(express.id))), balanceSettings({ debit: true }));

  const up = await stripe.balanceSettings.update({
    payments: {
      debit_negative_balances: true,
      payouts: { schedule: { interval: 'weekly', weekly_payout_days: ['friday'] }, statement_descriptor: 'ACME PAYOUTS' },
      settlement_timing: { delay_days_override: 2 },
    },
  }, o);
  const want = balanceSettings({ debit: true, schedule: { interval: 'weekly', weekly_payout_days: ['friday'] }, descriptor: 'ACME PAYOUTS' });
  assert.deepEqual(plain(up), want);
  assert.deepEqual(plain(await stripe.balanceSettings.retrieve({}, o)), want);
  // the same settings, seen as the account's
  const got = await stripe.accounts.retrieve(acct.id);
  assertStripeShape(got, 'account');
  assert.deepEqual(got.settings.payouts, {
    debit_negative_balances: true, schedule: { delay_days: 2, interval: 'weekly', weekly_anchor: 'friday' }, statement_descriptor: 'ACME PAYOUTS',
  });
  const due = nextDue(acct.id);
  assert.equal(new Date(due * 1000).getUTCDay(), 5, 'the scheduler\'s next due date is a friday');
  assert.ok(due > Date.now() / 1000 && due <= Date.now() / 1000 + 7 * 86400);
  // account.updated on the platform, balance_settings.updated the account's own
  const accEv = (await stripe.events.list({ type: 'account.updated', limit: 1 })).data[0];
  assert.equal(accEv.data.object.id, acct.id);
  assert.deepEqual(accEv.data.previous_attributes, {
    settings: { payouts: { debit_negative_balances: false, schedule: { delay_days: 2, interval: 'manual' }, statement_descriptor: null } },
  });
  let bsEv = (await stripe.events.list({ type: 'balance_settings.updated', limit: 10 }, o)).data;
  assert.equal(bsEv.length, 1);
  assert.equal(bsEv[0].account, acct.id);
  assert.deepEqual(bsEv[0].data.object, want);
  assert.deepEqual(bsEv[0].data.previous_attributes, {
    payments: { debit_negative_balances: false, payouts: { schedule: { interval: 'manual' }, statement_descriptor: null } },
  });
  // the reverse: the account update changes what balance settings show
  await stripe.accounts.update(acct.id, { settings: { payouts: { schedule: { interval: 'monthly', monthly_anchor: 15 }, debit_negative_balances: false } } });
  const want2 = balanceSettings({ schedule: { interval: 'monthly', monthly_payout_days: [15] }, descriptor: 'ACME PAYOUTS' });
  assert.deepEqual(plain(await stripe.balanceSettings.retrieve({}, o)), want2);
  bsEv = (await stripe.events.list({ type: 'balance_settings.updated', limit: 10 }, o)).data;
  assert.equal(bsEv.length, 2);
  assert.deepEqual(bsEv[0].data.object, want2);
  assert.deepEqual(bsEv[0].data.previous_attributes, {
    payments: { debit_negative_balances: true, payouts: { schedule: { interval: 'weekly', weekly_payout_days: ['friday'] } } },
  });
  assert.equal(new Date(nextDue(acct.id) * 1000).getUTCDate(), 15);
  // an account update that leaves them alone sends no balance_settings.updated
  await stripe.accounts.update(acct.id, { metadata: { k: 'v' } });
  assert.equal((await stripe.events.list({ type: 'balance_settings.updated', limit: 10 }, o)).data.length, 2);
});

test('balance settings: what Tender\'s schedule cannot do is refused, naming the parameter, and changes nothing', async () => {
  const acct = await stripe.accounts.create({ type: 'custom', settings: { payouts: { schedule: { interval: 'monthly', monthly_anchor: 3 } } } });
  const o = as(acct.id);
  const before = plain(await stripe.balanceSettings.retrieve({}, o));
  const dueBefore = nextDue(acct.id);
  const S = 'payments[payouts][schedule]';
  const bad = [
    [{ payouts: { schedule: { interval: 'weekly', weekly_payout_days: ['monday', 'tuesday'] } } }, `${S}[weekly_payout_days]`, /one day/],
    [{ payouts: { schedule: { interval: 'monthly', monthly_payout_days: [1, 15] } } }, `${S}[monthly_payout_days]`, /one day/],
    [{ payouts: { schedule: { interval: 'weekly', weekly_payout_days: ['saturday'] } } }, `${S}[weekly_payout_days]`],
    [{ payouts: { schedule: { interval: 'monthly', monthly_payout_days: [32] } } }, `${S}[monthly_payout_days]`],
    [{ payouts: { schedule: { interval: 'weekly' } } }, `${S}[weekly_payout_days]`, /Missing/],
    [{ payouts: { schedule: { interval: 'daily', monthly_payout_days: [3] } } }, `${S}[monthly_payout_days]`],
    [{ payouts: { schedule: { interval: 'hourly' } } }, `${S}[interval]`],
    [{ payouts: { minimum_balance_by_currency: { usd: 1000 } } }, 'payments[payouts][minimum_balance_by_currency]', /not supported/],
    [{ payouts: { statement_descriptor: 'X'.repeat(23) } }, 'payments[payouts][statement_descriptor]'],
    [{ settlement_timing: { delay_days_override: 32 } }, 'payments[settlement_timing][delay_days_override]', /from 2 .* to 31/],
    [{ payouts: { automatic_transfer_rules_by_currency: '' } }, 'payments[payouts][automatic_transfer_rules_by_currency]', /unknown/],
    [{ debit_negative_balances: 'maybe' }, 'payments[debit_negative_balances]'],
  ];
  for (const [payments, param, re] of bad) {
    await assert.rejects(stripe.balanceSettings.update({ payments }, o), (e) => {
      assert.equal(e.statusCode, 400, JSON.stringify(payments));
      assert.equal(e.param, param, JSON.stringify(payments));
      if (re) assert.match(e.message, re);
      return true;
    });
  }
  assert.deepEqual(plain(await stripe.balanceSettings.retrieve({}, o)), before);
  assert.equal(nextDue(acct.id), dueBefore);
  assert.equal((await stripe.events.list({ type: 'balance_settings.updated', limit: 10 }, o)).data.length, 0);
  // the delay Tender has already, or the same settings again: nothing written, no event
  const accountUpdates = async () => (await stripe.events.list({ type: 'account.updated', limit: 100 })).data
    .filter((e) => e.data.object.id === acct.id).length;
  const n = await accountUpdates();
  for (const payments of [{ settlement_timing: { delay_days_override: 2 } }, { settlement_timing: { delay_days_override: '' } },
    { payouts: { schedule: { interval: 'monthly', monthly_payout_days: [3] } }, debit_negative_balances: false }]) {
    assert.deepEqual(plain(await stripe.balanceSettings.update({ payments }, o)), before);
  }
  assert.equal(await accountUpdates(), n);
  assert.equal(nextDue(acct.id), dueBefore);
  // one day named twice is one day; "" clears no minimum balance (there is none)
  const mon = await stripe.balanceSettings.update({
    payments: { payouts: { schedule: { interval: 'weekly', weekly_payout_days: ['monday', 'monday'] }, minimum_balance_by_currency: '' } },
  }, o);
  assert.deepEqual(mon.payments.payouts.schedule, { interval: 'weekly', weekly_payout_days: ['monday'] });
  // a merchant's own account is paid out on request only; another platform reaches nothing
  await assert.rejects(stripe.balanceSettings.update({ payments: { payouts: { schedule: { interval: 'daily' } } } }),
    (e) => e.statusCode === 400 && /connected account/.test(e.message));
  assert.deepEqual(plain(await stripe.balanceSettings.retrieve()).payments.payouts.schedule, { interval: 'manual' });
  await assert.rejects(stripeB.balanceSettings.retrieve({}, o), (e) => e.statusCode === 403 && e.code === 'account_invalid');
  await assert.rejects(stripeB.balanceSettings.update({ payments: { debit_negative_balances: true } }, o),
    (e) => e.statusCode === 403 && e.code === 'account_invalid');
  // an endpoint can ask for the event
  const we = await stripe.webhookEndpoints.create({ url: 'https://example.com/hook', enabled_events: ['balance_settings.updated'] });
  assert.deepEqual(we.enabled_events, ['balance_settings.updated']);
  await stripe.webhookEndpoints.del(we.id);
});

test('balance settings: the scheduler pays out on the schedule they set, with their statement descriptor; a paused account shows payouts disabled', async () => {
  const acct = await stripe.accounts.create({ type: 'custom' });
  const o = as(acct.id);
  const ba = await stripe.accounts.createExternalAccount(acct.id, { external_account: bank('000123456789') });
  await fundAccount(acct.id, 12000);
  await stripe.balanceSettings.update({ payments: { payouts: { schedule: { interval: 'daily' }, statement_descriptor: 'TENDER PAYOUT' } } }, o);
  assert.ok(isNextMidnight(nextDue(acct.id)), 'daily: the next midnight (UTC)');
  const avail = (await balanceOf(o)).available;
  dueNow(acct.id);
  const [po] = await automaticPayouts(o, 1);
  assert.ok(po, 'an automatic payout');
  assertStripeShape(po, 'payout');
  assert.equal(po.amount, avail);
  assert.equal(po.destination, ba.id);
  assert.equal(po.statement_descriptor, 'TENDER PAYOUT');
  assert.ok(isNextMidnight(nextDue(acct.id)));
  // back to manual through balance settings: no due date, no payout
  await stripe.balanceSettings.update({ payments: { payouts: { schedule: { interval: 'manual' } } } }, o);
  assert.equal(nextDue(acct.id), 0);
  assert.deepEqual((await stripe.accounts.retrieve(acct.id)).settings.payouts.schedule, { delay_days: 2, interval: 'manual' });
  // a rejection that pauses payouts: status disabled, and balance_settings.updated says so
  await stripe.accounts.reject(acct.id, { reason: 'other' });
  assert.equal((await stripe.balanceSettings.retrieve({}, o)).payments.payouts.status, 'disabled');
  const ev = (await stripe.events.list({ type: 'balance_settings.updated', limit: 1 }, o)).data[0];
  assert.deepEqual(ev.data.previous_attributes, { payments: { payouts: { status: 'enabled' } } });
  assert.equal(ev.data.object.payments.payouts.status, 'disabled');
});

test('no full card or account number in the store files or the server log; tender verify passes', async () => {
  await sleep(2500); // the last payouts reach their arrival date
  const data = readStoreFiles(env.dataDir);
  const log = fs.readFileSync(env.server.logPath);
  for (const n of NUMBERS) {
    for (const { file, data: d } of data) {
      // a card token's number is sealed in vault_cards: never in clear
      assert.ok(!d.includes(n), `${n} found in ${file}`);
    }
    assert.ok(!log.includes(n), `${n} found in the server log`);
  }
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});
