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
const { startTender, stopAll, assertStripeShape, tender, request, readStoreFiles, storeSql } = require('./helpers');

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
    const { chromium: c } = require('playwright-core');
    browser = await c.launch({
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
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
