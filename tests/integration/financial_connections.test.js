'use strict';
// Financial Connections through stripe-node: sessions whose accounts are linked on Tender's hosted
// test page (headless Chromium: Debian's chromium + playwright-core), the linked accounts (list,
// retrieve, refresh, disconnect, owners, the older /v1/linked_accounts paths), and ACH Direct
// Debit with them: a us_bank_account PaymentMethod made from an fca_ pays a PaymentIntent and sets
// up a SetupIntent without microdeposits. The test institution's account numbers never reach the
// store or the log in clear.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const {
  startTender, assertStripeShape, stopAll, readStoreFiles, debitSettled, eventTypesOf, launchChromium, startShop,
} = require('./helpers');

let env;
let stripe; // merchant 0
let other; // merchant 1
let browser;
let shop;
// the test institution's numbers (vault/fc_institution.c): none may be stored or logged in clear
const NUMBERS = ['000123456789', '000000001116', '000000004321', '000222222227', '000000005559', '000000003335'];
const ONLINE = { customer_acceptance: { type: 'online', online: { ip_address: '203.0.113.9', user_agent: 'Mozilla/5.0 (fc)' } } };

before(async () => {
  env = await startTender({ merchants: 2 });
  stripe = env.stripe();
  other = env.stripe(env.merchants[1].secret_key);
});
after(async () => {
  if (browser) await browser.close();
  if (shop) shop.close();
  await stopAll();
});

function pagePath(session) {
  return `/link_accounts/${env.merchant.id}/${session.client_secret}`;
}

// links the test accounts named by checkbox id on the session's page, in the browser
async function linkOnPage(session, keys) {
  if (!browser) browser = await launchChromium();
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${env.port}${pagePath(session)}`);
  assert.match(await page.textContent('#test-mode'), /Test mode/);
  for (const k of keys) await page.check(`#account-${k}`);
  if (session.return_url) {
    await Promise.all([page.waitForURL(/\/back/), page.click('#link-accounts')]);
  } else {
    await page.click('#link-accounts');
    assert.match(await page.textContent('#done'), /linked/);
  }
  const url = page.url();
  await page.close();
  return url;
}

// a customer's session (all four permissions, balances and ownership prefetched) linked with keys
async function linked(customer, keys, extra = {}) {
  const s = await stripe.financialConnections.sessions.create({
    account_holder: { type: 'customer', customer: customer.id },
    permissions: ['payment_method', 'balances', 'ownership'],
    ...extra,
  });
  await linkOnPage(s, keys);
  return stripe.financialConnections.sessions.retrieve(s.id);
}

test('sessions: create, the hosted page links test accounts, retrieve lists them', async () => {
  shop = await startShop();
  const cus = await stripe.customers.create({ email: 'jenny@example.com' });
  const s = await stripe.financialConnections.sessions.create({
    account_holder: { type: 'customer', customer: cus.id },
    permissions: ['payment_method', 'balances', 'ownership'],
    prefetch: ['balances'],
    filters: { countries: ['US'] },
    return_url: `http://127.0.0.1:${shop.address().port}/back`,
  });
  assert.match(s.id, /^fcsess_/);
  assert.match(s.client_secret, new RegExp(`^${s.id}_secret_`));
  assert.deepEqual(s.accounts.data, []);
  assert.deepEqual(s.permissions, ['payment_method', 'balances', 'ownership']);
  assert.deepEqual(s.prefetch, ['balances']);
  assert.deepEqual(s.account_holder, { customer: cus.id, type: 'customer' });
  assertStripeShape(s, 'financial_connections.session');

  // a wrong secret, or another merchant's path: 404 pages
  const wrong = await env.request({ path: `/link_accounts/${env.merchant.id}/${s.id}_secret_nope` });
  assert.equal(wrong.status, 404);
  const otherPath = await env.request({ path: `/link_accounts/${env.merchants[1].id}/${s.client_secret}` });
  assert.equal(otherPath.status, 404);
  // a POST without the form's one-time value links nothing
  const blind = await env.request({ method: 'POST', path: pagePath(s), body: 'account_success=1&nonce=x' });
  assert.equal(blind.status, 404);

  const back = await linkOnPage(s, ['success', 'savings']);
  assert.match(back, /\/back$/);
  const done = await stripe.financialConnections.sessions.retrieve(s.id);
  assertStripeShape(done, 'financial_connections.session');
  assert.equal(done.accounts.data.length, 2);
  const byName = Object.fromEntries(done.accounts.data.map((a) => [a.display_name, a]));
  const ok = byName.Success;
  assert.match(ok.id, /^fca_/);
  assert.equal(ok.institution_name, 'Test Institution');
  assert.equal(ok.last4, '6789');
  assert.equal(ok.category, 'cash');
  assert.equal(ok.subcategory, 'checking');
  assert.equal(byName.Savings.subcategory, 'savings');
  assert.equal(ok.status, 'active');
  assert.deepEqual(ok.permissions, ['payment_method', 'balances', 'ownership']);
  assert.deepEqual(ok.supported_payment_method_types, ['link', 'us_bank_account']);
  assert.deepEqual(ok.account_holder, { customer: cus.id, type: 'customer' });
  // prefetched: the balance read at linking
  assert.equal(ok.balance.type, 'cash');
  assert.deepEqual(ok.balance.current, { usd: 1000000 });
  assert.deepEqual(ok.balance.cash.available, { usd: 1000000 });
  assert.equal(ok.balance_refresh.status, 'succeeded');
  assert.equal(ok.ownership, null);
  assert.equal(ok.ownership_refresh, null);
  for (const a of done.accounts.data) assertStripeShape(a, 'financial_connections.account');
  assert.deepEqual(await eventTypesOf(stripe, ok.id), ['financial_connections.account.created', 'financial_connections.account.refreshed_balance']);

  // a session links once: the page says so, a replayed form changes nothing
  const again = await env.request({ path: pagePath(s) });
  assert.equal(again.status, 200);
  assert.match(again.body, /linked already/);
  assert.equal((await stripe.financialConnections.sessions.retrieve(s.id)).accounts.data.length, 2);

  // the older path answers the same session
  const old = await env.request({ path: `/v1/link_account_sessions/${s.id}`, key: env.merchant.secret_key });
  assert.equal(old.status, 200);
  assert.equal(old.json.id, s.id);
  assert.equal(old.json.accounts.data.length, 2);
});

test('sessions: Stripe-shaped 400s and account holders', async () => {
  const cus = await stripe.customers.create();
  const bad = async (params, code, param) => {
    const e = await stripe.financialConnections.sessions.create(params).then(() => null, (x) => x);
    assert.ok(e, `${JSON.stringify(params)} was taken`);
    assert.equal(e.statusCode, code === 'resource_missing' ? 404 : 400); // Tender's missing objects are 404s
    assert.equal(e.code, code);
    assert.equal(e.param, param);
  };
  await bad({ account_holder: { type: 'customer', customer: cus.id } }, 'parameter_missing', 'permissions');
  await bad({ permissions: ['payment_method'] }, 'parameter_missing', 'account_holder');
  await bad({ account_holder: { type: 'customer' }, permissions: ['payment_method'] }, 'parameter_missing', 'account_holder[customer]');
  await bad({ account_holder: { type: 'customer', customer: cus.id }, permissions: ['payment_method', 'cards'] }, undefined, 'permissions[1]');
  await bad({ account_holder: { type: 'customer', customer: cus.id }, permissions: ['payment_method'], prefetch: ['balances'] }, undefined, 'prefetch');
  await bad({ account_holder: { type: 'customer', customer: 'cus_nope' }, permissions: ['payment_method'] }, 'resource_missing', 'account_holder[customer]');
  await bad({ account_holder: { type: 'account', account: 'acct_nope' }, permissions: ['payment_method'] }, 'resource_missing', 'account_holder[account]');
  await bad({ account_holder: { type: 'customer', customer: cus.id }, permissions: ['payment_method'], bogus: 1 }, 'parameter_unknown', 'bogus');
  // another merchant's customer is missing too
  const theirs = await other.customers.create();
  await bad({ account_holder: { type: 'customer', customer: theirs.id }, permissions: ['payment_method'] }, 'resource_missing', 'account_holder[customer]');

  // a connected account of the platform's
  const acct = await stripe.accounts.create({ type: 'custom', country: 'US', capabilities: { transfers: { requested: true } } });
  const s = await stripe.financialConnections.sessions.create({ account_holder: { type: 'account', account: acct.id }, permissions: ['balances'] });
  assert.deepEqual(s.account_holder, { account: acct.id, type: 'account' });
  assert.equal(s.prefetch, null);
  assert.deepEqual(s.filters, { countries: ['US'] });
  assertStripeShape(s, 'financial_connections.session');

  // idempotency: a replay is the same session
  const key = `fc-${Date.now()}`;
  const a = await stripe.financialConnections.sessions.create({ account_holder: { type: 'customer', customer: cus.id }, permissions: ['payment_method'] }, { idempotencyKey: key });
  const b = await stripe.financialConnections.sessions.create({ account_holder: { type: 'customer', customer: cus.id }, permissions: ['payment_method'] }, { idempotencyKey: key });
  assert.equal(a.id, b.id);

  // another merchant's key: 404
  const e = await other.financialConnections.sessions.retrieve(s.id).then(() => null, (x) => x);
  assert.equal(e.statusCode, 404);
});

test('accounts: list, retrieve, refresh, owners, disconnect; another merchant 404s', async () => {
  const cus = await stripe.customers.create();
  const s = await linked(cus, ['checking', 'no_ownership', 'disconnected']);
  const byName = Object.fromEntries(s.accounts.data.map((a) => [a.display_name, a]));
  const acc = byName.Checking;
  assert.equal(byName.Disconnected.status, 'disconnected');

  const list = await stripe.financialConnections.accounts.list({ account_holder: { customer: cus.id } });
  assert.deepEqual(list.data.map((a) => a.id).sort(), s.accounts.data.map((a) => a.id).sort());
  for (const a of list.data) assertStripeShape(a, 'financial_connections.account');
  const bySession = await stripe.financialConnections.accounts.list({ session: s.id, limit: 2 });
  assert.equal(bySession.data.length, 2);
  assert.equal(bySession.has_more, true);
  const rest = await stripe.financialConnections.accounts.list({ session: s.id, starting_after: bySession.data[1].id });
  assert.equal(rest.data.length, 1);
  assert.equal((await stripe.financialConnections.accounts.list({ account_holder: { customer: 'cus_none' } })).data.length, 0);

  // refresh: balance and ownership, read now
  const fresh = await stripe.financialConnections.accounts.refresh(acc.id, { features: ['balance', 'ownership'] });
  assertStripeShape(fresh, 'financial_connections.account');
  assert.equal(fresh.balance_refresh.status, 'succeeded');
  assert.ok(fresh.balance_refresh.last_attempted_at > 0);
  assert.deepEqual(Object.keys(fresh.balance_refresh).sort(), ['last_attempted_at', 'next_refresh_available_at', 'status']);
  assert.deepEqual(Object.keys(fresh.ownership_refresh).sort(), ['last_attempted_at', 'next_refresh_available_at', 'status']);
  assert.deepEqual(fresh.balance.current, { usd: 250000 });
  assert.equal(fresh.ownership_refresh.status, 'succeeded');
  assert.match(fresh.ownership, /^fcaowns_/);
  const owners = await stripe.financialConnections.accounts.listOwners(acc.id, { ownership: fresh.ownership });
  assert.equal(owners.data.length, 1);
  assert.equal(owners.data[0].name, 'Jenny Rosen');
  assert.equal(owners.data[0].ownership, fresh.ownership);
  assertStripeShape(owners.data[0], 'financial_connections.account_owner');
  const expanded = await stripe.financialConnections.accounts.retrieve(acc.id, { expand: ['ownership'] });
  assert.equal(expanded.ownership.id, fresh.ownership);
  assert.equal(expanded.ownership.owners.data[0].id, owners.data[0].id);
  assertStripeShape(expanded.ownership, 'financial_connections.account_ownership');
  assert.deepEqual(await eventTypesOf(stripe, acc.id), [
    'financial_connections.account.created', 'financial_connections.account.refreshed_balance', 'financial_connections.account.refreshed_ownership',
  ]);
  // owners needs its ownership; another account's ownership is missing
  const noOwn = await stripe.financialConnections.accounts.listOwners(acc.id, {}).then(() => null, (x) => x);
  assert.equal(noOwn.code, 'parameter_missing');
  const wrongOwn = await stripe.financialConnections.accounts.listOwners(byName['No Ownership Data'].id, { ownership: fresh.ownership }).then(() => null, (x) => x);
  assert.equal(wrongOwn.statusCode, 404);

  // an institution without ownership data: the refresh fails
  const none = await stripe.financialConnections.accounts.refresh(byName['No Ownership Data'].id, { features: ['ownership'] });
  assert.equal(none.ownership_refresh.status, 'failed');
  assert.equal(none.ownership, null);
  // a feature outside the permissions, or none at all: 400, nothing changes
  const s2 = await stripe.financialConnections.sessions.create({ account_holder: { type: 'customer', customer: cus.id }, permissions: ['payment_method'] });
  await linkOnPage(s2, ['success']);
  const pmOnly = (await stripe.financialConnections.sessions.retrieve(s2.id)).accounts.data[0];
  const noPerm = await stripe.financialConnections.accounts.refresh(pmOnly.id, { features: ['balance'] }).then(() => null, (x) => x);
  assert.equal(noPerm.statusCode, 400);
  assert.equal((await stripe.financialConnections.accounts.retrieve(pmOnly.id)).balance_refresh, null);
  const noFeat = await env.request({ method: 'POST', path: `/v1/financial_connections/accounts/${acc.id}/refresh`, key: env.merchant.secret_key, body: '' });
  assert.equal(noFeat.status, 400);
  assert.equal(noFeat.json.error.param, 'features');

  // another merchant's key: 404 everywhere
  for (const call of [
    () => other.financialConnections.accounts.retrieve(acc.id),
    () => other.financialConnections.accounts.disconnect(acc.id),
    () => other.financialConnections.accounts.refresh(acc.id, { features: ['balance'] }),
  ]) {
    const e = await call().then(() => null, (x) => x);
    assert.equal(e.statusCode, 404);
  }
  assert.equal((await other.financialConnections.accounts.list()).data.length, 0);

  // disconnect (the older path, as stripe-node's older versions call it), then refresh is refused
  const res = await env.request({ method: 'POST', path: `/v1/linked_accounts/${acc.id}/disconnect`, key: env.merchant.secret_key, body: '' });
  assert.equal(res.status, 200);
  assert.equal(res.json.status, 'disconnected');
  const gone = await stripe.financialConnections.accounts.retrieve(acc.id);
  assert.equal(gone.status, 'disconnected');
  assert.deepEqual(gone.balance.current, { usd: 250000 }); // the data read before stays
  const again = await stripe.financialConnections.accounts.disconnect(acc.id);
  assert.equal(again.status, 'disconnected');
  const late = await stripe.financialConnections.accounts.refresh(acc.id, { features: ['balance'] }).then(() => null, (x) => x);
  assert.equal(late.statusCode, 400);
  const types = await eventTypesOf(stripe, acc.id);
  assert.equal(types.filter((t) => t === 'financial_connections.account.disconnected').length, 1);
});

// stripe-node 23's Transaction (resources/FinancialConnections/Transactions.d.ts): every field, no other
const TXN_KEYS = ['account', 'amount', 'currency', 'description', 'id', 'livemode', 'object', 'status', 'status_transitions', 'transacted_at', 'transaction_refresh', 'updated'];
const DAY = 86400;
const plain = (o) => JSON.parse(JSON.stringify(o));

// every transaction of account id (auto-paging), newest first
async function allTransactions(id, params = {}) {
  const out = [];
  for await (const t of stripe.financialConnections.transactions.list({ account: id, limit: 100, ...params })) out.push(t);
  return out;
}

function checkTransaction(t, account) {
  assert.deepEqual(Object.keys(t).sort(), TXN_KEYS);
  assert.deepEqual(Object.keys(t.status_transitions).sort(), ['posted_at', 'void_at']);
  assert.match(t.id, /^fctxn_/);
  assert.equal(t.object, 'financial_connections.transaction');
  assert.equal(t.account, account);
  assert.equal(t.currency, 'usd');
  assert.equal(t.livemode, false);
  assert.ok(Number.isInteger(t.amount) && t.amount !== 0);
  assert.ok(t.description.length > 0);
  assert.match(t.transaction_refresh, /^fctxnref_/);
  assert.ok(t.transacted_at <= t.updated);
  const { posted_at: postedAt, void_at: voidAt } = t.status_transitions;
  if (t.status === 'posted') assert.deepEqual([postedAt, voidAt], [t.transacted_at + 2 * DAY, null]);
  else if (t.status === 'void') assert.deepEqual([postedAt, voidAt], [null, t.transacted_at + DAY]);
  else assert.deepEqual([t.status, postedAt, voidAt], ['pending', null, null]);
}

test('transactions: a prefetch and refreshes read the test history; list filters, retrieve', async () => {
  const cus = await stripe.customers.create();
  const s = await linked(cus, ['success', 'savings'], { permissions: ['payment_method', 'transactions'], prefetch: ['transactions'] });
  const acc = s.accounts.data.find((a) => a.display_name === 'Success');
  const sav = s.accounts.data.find((a) => a.display_name === 'Savings');
  for (const a of [acc, sav]) {
    assertStripeShape(a, 'financial_connections.account');
    assert.deepEqual(a.subscriptions, []);
    assert.equal(a.account_numbers, null);
    assert.match(a.transaction_refresh.id, /^fctxnref_/);
    assert.equal(a.transaction_refresh.status, 'succeeded');
    assert.ok(a.transaction_refresh.last_attempted_at >= a.created);
    assert.ok(a.transaction_refresh.next_refresh_available_at >= a.transaction_refresh.last_attempted_at);
  }
  assert.deepEqual(await eventTypesOf(stripe, acc.id), ['financial_connections.account.created', 'financial_connections.account.refreshed_transactions']);

  // 90 days before the link up to now: one to three a day, in every status, the account's own
  const first = await allTransactions(acc.id);
  assert.ok(first.length >= 90 && first.length <= 300, `${first.length} transactions`);
  for (const t of first) checkTransaction(t, acc.id);
  for (const t of first) assert.equal(t.transaction_refresh, acc.transaction_refresh.id);
  const oldest = Math.min(...first.map((t) => t.transacted_at));
  assert.ok(oldest >= acc.created - 90 * DAY && oldest < acc.created - 88 * DAY);
  assert.ok(Math.max(...first.map((t) => t.transacted_at)) <= acc.transaction_refresh.last_attempted_at);
  // pending when made; void a day later (a released authorization) or posted two days later
  const at = acc.transaction_refresh.last_attempted_at;
  for (const t of first) {
    if (at - t.transacted_at < DAY) assert.equal(t.status, 'pending', t.id);
    if (at - t.transacted_at >= 2 * DAY) assert.notEqual(t.status, 'pending', t.id);
  }
  assert.ok(first.some((t) => t.status === 'posted'));
  assert.ok(first.some((t) => t.status === 'void'));
  assert.ok(first.some((t) => t.amount > 0 && t.description === 'Payroll ACME Corp'));
  for (let i = 1; i < first.length; i++) assert.ok(first[i - 1].transacted_at >= first[i].transacted_at, 'newest first');
  const other2 = await allTransactions(sav.id);
  assert.notDeepEqual(other2.map((t) => [t.amount, t.description]), first.map((t) => [t.amount, t.description]));

  // a refresh reads the same history: the same transactions, unchanged unless their time came
  const again = await stripe.financialConnections.accounts.refresh(acc.id, { features: ['transactions'] });
  assertStripeShape(again, 'financial_connections.account');
  assert.notEqual(again.transaction_refresh.id, acc.transaction_refresh.id);
  assert.equal(again.transaction_refresh.status, 'succeeded');
  const second = await allTransactions(acc.id);
  const byId = new Map(second.map((t) => [t.id, t]));
  for (const t of first) {
    const u = byId.get(t.id);
    assert.ok(u, `${t.id} went missing`);
    assert.deepEqual([u.amount, u.description, u.transacted_at], [t.amount, t.description, t.transacted_at]);
    if (u.transaction_refresh === acc.transaction_refresh.id) assert.deepEqual(plain(u), plain(t));
    else assert.equal(u.transaction_refresh, again.transaction_refresh.id);
  }
  // transaction_refresh[after]: exactly what the later refresh added or changed
  const changed = await allTransactions(acc.id, { transaction_refresh: { after: acc.transaction_refresh.id } });
  assert.deepEqual(changed.map((t) => t.id).sort(), second.filter((t) => t.transaction_refresh === again.transaction_refresh.id).map((t) => t.id).sort());
  assert.deepEqual(await allTransactions(acc.id, { transaction_refresh: { after: again.transaction_refresh.id } }), []);
  assert.deepEqual((await eventTypesOf(stripe, acc.id)).slice(-1), ['financial_connections.account.refreshed_transactions']);

  // transacted_at: a timestamp or a range
  const pick = second[Math.floor(second.length / 2)];
  const exact = await allTransactions(acc.id, { transacted_at: pick.transacted_at });
  assert.deepEqual(exact.map((t) => t.id), [pick.id]);
  const lo = pick.transacted_at - 5 * DAY;
  const week = await allTransactions(acc.id, { transacted_at: { gte: lo, lt: pick.transacted_at } });
  assert.deepEqual(week.map((t) => t.id), second.filter((t) => t.transacted_at >= lo && t.transacted_at < pick.transacted_at).map((t) => t.id));
  const page = await stripe.financialConnections.transactions.list({ account: acc.id, limit: 3 });
  assert.equal(page.data.length, 3);
  assert.equal(page.has_more, true);
  assert.equal(page.url, '/v1/financial_connections/transactions');

  // retrieve
  const one = await stripe.financialConnections.transactions.retrieve(pick.id);
  assert.deepEqual(plain(one), plain(byId.get(pick.id)));

  // 400s and 404s
  const fail = (p) => p.then(() => null, (e) => e);
  let e = await fail(stripe.financialConnections.transactions.list({}));
  assert.deepEqual([e.statusCode, e.code, e.param], [400, 'parameter_missing', 'account']);
  e = await fail(stripe.financialConnections.transactions.list({ account: acc.id, transaction_refresh: { after: 'fctxnref_nope' } }));
  assert.deepEqual([e.statusCode, e.param], [404, 'transaction_refresh[after]']);
  e = await fail(stripe.financialConnections.transactions.list({ account: sav.id, transaction_refresh: { after: acc.transaction_refresh.id } }));
  assert.equal(e.statusCode, 404);
  e = await fail(stripe.financialConnections.transactions.list({ account: acc.id, bogus: 1 }));
  assert.deepEqual([e.statusCode, e.code, e.param], [400, 'parameter_unknown', 'bogus']);
  e = await fail(other.financialConnections.transactions.list({ account: acc.id }));
  assert.deepEqual([e.statusCode, e.param], [404, 'account']);
  e = await fail(other.financialConnections.transactions.retrieve(pick.id));
  assert.equal(e.statusCode, 404);
  e = await fail(stripe.financialConnections.accounts.refresh(acc.id, { features: ['transactions', 'cards'] }));
  assert.deepEqual([e.statusCode, e.param], [400, 'features[1]']);
  // an account linked without the transactions permission: no refresh, no list
  const noTx = (await linked(cus, ['checking'], { permissions: ['payment_method', 'balances'] })).accounts.data[0];
  e = await fail(stripe.financialConnections.accounts.refresh(noTx.id, { features: ['transactions'] }));
  assert.deepEqual([e.statusCode, e.param], [400, 'features']);
  e = await fail(stripe.financialConnections.transactions.list({ account: noTx.id }));
  assert.deepEqual([e.statusCode, e.param], [400, 'account']);
  e = await fail(stripe.financialConnections.accounts.subscribe(noTx.id, { features: ['transactions'] }));
  assert.deepEqual([e.statusCode, e.param], [400, 'features']);
  assert.deepEqual((await stripe.financialConnections.accounts.retrieve(noTx.id)).subscriptions, []);
  const p = await fail(stripe.financialConnections.sessions.create({ account_holder: { type: 'customer', customer: cus.id }, permissions: ['payment_method'], prefetch: ['transactions'] }));
  assert.deepEqual([p.statusCode, p.param], [400, 'prefetch']);
});

test('transactions: subscribe and unsubscribe; a disconnected account refuses them', async () => {
  const cus = await stripe.customers.create();
  const s = await linked(cus, ['checking', 'disconnected'], { permissions: ['transactions'] });
  const acc = s.accounts.data.find((a) => a.display_name === 'Checking');
  const dis = s.accounts.data.find((a) => a.display_name === 'Disconnected');
  assert.equal(acc.transaction_refresh, null);
  assert.deepEqual(acc.subscriptions, []);
  assert.deepEqual(await allTransactions(acc.id), []); // nothing read yet

  // subscribing refreshes at once (the scheduler refreshes daily after)
  const sub = await stripe.financialConnections.accounts.subscribe(acc.id, { features: ['transactions'] });
  assertStripeShape(sub, 'financial_connections.account');
  assert.deepEqual(sub.subscriptions, ['transactions']);
  assert.equal(sub.transaction_refresh.status, 'succeeded');
  const txns = await allTransactions(acc.id);
  assert.ok(txns.length >= 90);
  for (const t of txns) checkTransaction(t, acc.id);
  assert.deepEqual(await eventTypesOf(stripe, acc.id), ['financial_connections.account.created', 'financial_connections.account.refreshed_transactions']);
  const ev = (await stripe.events.list({ type: 'financial_connections.account.refreshed_transactions', limit: 5 })).data.find((x) => x.data.object.id === acc.id);
  assert.deepEqual(ev.data.object.subscriptions, ['transactions']);
  assert.equal(ev.data.object.transaction_refresh.id, sub.transaction_refresh.id);
  // again: unchanged, no refresh
  const twice = await stripe.financialConnections.accounts.subscribe(acc.id, { features: ['transactions'] });
  assert.deepEqual(plain(twice), plain(sub));
  assert.equal((await eventTypesOf(stripe, acc.id)).length, 2);

  const fail = (p) => p.then(() => null, (e) => e);
  let e = await fail(stripe.financialConnections.accounts.subscribe(acc.id, { features: ['balance'] }));
  assert.deepEqual([e.statusCode, e.param], [400, 'features[0]']);
  e = await fail(stripe.financialConnections.accounts.unsubscribe(acc.id, {}));
  assert.deepEqual([e.statusCode, e.code, e.param], [400, 'parameter_missing', 'features']);
  e = await fail(other.financialConnections.accounts.subscribe(acc.id, { features: ['transactions'] }));
  assert.equal(e.statusCode, 404);

  const unsub = await stripe.financialConnections.accounts.unsubscribe(acc.id, { features: ['transactions'] });
  assertStripeShape(unsub, 'financial_connections.account');
  assert.deepEqual(unsub.subscriptions, []);
  assert.deepEqual(unsub.transaction_refresh, sub.transaction_refresh); // the data read stays
  assert.deepEqual(plain(await stripe.financialConnections.accounts.unsubscribe(acc.id, { features: ['transactions'] })), plain(unsub));

  // disconnecting ends the subscription and the access to the transactions
  await stripe.financialConnections.accounts.subscribe(acc.id, { features: ['transactions'] });
  const gone = await stripe.financialConnections.accounts.disconnect(acc.id);
  assert.equal(gone.status, 'disconnected');
  assert.deepEqual(gone.subscriptions, []);
  for (const call of [
    () => stripe.financialConnections.transactions.list({ account: acc.id }),
    () => stripe.financialConnections.transactions.retrieve(txns[0].id),
    () => stripe.financialConnections.accounts.subscribe(acc.id, { features: ['transactions'] }),
    () => stripe.financialConnections.accounts.unsubscribe(acc.id, { features: ['transactions'] }),
    () => stripe.financialConnections.accounts.refresh(acc.id, { features: ['transactions'] }),
  ]) {
    e = await fail(call());
    assert.equal(e && e.statusCode, 400);
  }
  // the disconnected test account links disconnected: the same refusals
  assert.equal(dis.status, 'disconnected');
  assert.equal(dis.transaction_refresh, null);
  e = await fail(stripe.financialConnections.transactions.list({ account: dis.id }));
  assert.equal(e.statusCode, 400);
});

test('ACH: a PaymentMethod from a linked account pays without microdeposits; SetupIntents too', async () => {
  const cus = await stripe.customers.create({ email: 'jenny@example.com' });
  const s = await linked(cus, ['success', 'insufficient_funds', 'disconnected']);
  const byName = Object.fromEntries(s.accounts.data.map((a) => [a.display_name, a]));
  const pmOf = (fca, extra = {}) => stripe.paymentMethods.create({
    type: 'us_bank_account', us_bank_account: { financial_connections_account: fca }, billing_details: { name: 'Jenny Rosen' }, ...extra,
  });
  const pm = await pmOf(byName.Success.id);
  assertStripeShape(pm, 'payment_method');
  assert.equal(pm.us_bank_account.financial_connections_account, byName.Success.id);
  assert.equal(pm.us_bank_account.last4, '6789');
  assert.equal(pm.us_bank_account.routing_number, '110000000');
  assert.equal(pm.us_bank_account.account_type, 'checking');
  assert.equal(pm.us_bank_account.bank_name, 'STRIPE TEST BANK');
  await stripe.paymentMethods.attach(pm.id, { customer: cus.id });

  const pi = await stripe.paymentIntents.create({
    amount: 4200, currency: 'usd', customer: cus.id, payment_method_types: ['us_bank_account'], payment_method: pm.id,
    payment_method_options: { us_bank_account: { verification_method: 'instant' } }, confirm: true, mandate_data: ONLINE,
  });
  assert.equal(pi.status, 'processing'); // no verify_with_microdeposits
  assert.equal(pi.next_action, null);
  assert.equal(pi.payment_method_options.us_bank_account.verification_method, 'instant');
  assertStripeShape(pi, 'payment_intent');
  const settled = await debitSettled(stripe, pi.id);
  assert.equal(settled.status, 'succeeded');

  // the account whose debits come back: the same returns as a typed account number's
  const poor = await pmOf(byName['Insufficient Funds'].id);
  const pi2 = await stripe.paymentIntents.create({
    amount: 1000, currency: 'usd', payment_method_types: ['us_bank_account'], payment_method: poor.id, confirm: true, mandate_data: ONLINE,
  });
  assert.equal(pi2.status, 'processing');
  const failed = await debitSettled(stripe, pi2.id);
  assert.equal(failed.status, 'requires_payment_method');
  assert.equal(failed.last_payment_error.code, 'insufficient_funds');

  // SetupIntent: succeeds at once with a multi-use mandate; financial_connections options shown
  const pm3 = await pmOf(byName.Success.id);
  const si = await stripe.setupIntents.create({
    customer: cus.id, payment_method_types: ['us_bank_account'], payment_method: pm3.id, confirm: true, mandate_data: ONLINE,
    payment_method_options: { us_bank_account: { verification_method: 'instant', financial_connections: { permissions: ['payment_method', 'balances'] } } },
  });
  assert.equal(si.status, 'succeeded');
  assert.equal(si.payment_method_options.us_bank_account.verification_method, 'instant');
  assert.deepEqual(si.payment_method_options.us_bank_account.financial_connections, { permissions: ['payment_method', 'balances'], prefetch: [] });
  assertStripeShape(si, 'setup_intent');
  // then off session, as any verified account
  const off = await stripe.paymentIntents.create({
    amount: 900, currency: 'usd', customer: cus.id, payment_method_types: ['us_bank_account'], payment_method: pm3.id, confirm: true, off_session: true,
  });
  assert.equal(off.status, 'processing');

  // instant with an account typed by hand: 400, the intent unchanged
  const typed = await stripe.paymentMethods.create({
    type: 'us_bank_account', billing_details: { name: 'Jenny Rosen' },
    us_bank_account: { account_holder_type: 'individual', account_number: '000123456789', routing_number: '110000000' },
  });
  const inst = await stripe.paymentIntents.create({
    amount: 500, currency: 'usd', payment_method_types: ['us_bank_account'], payment_method_options: { us_bank_account: { verification_method: 'instant' } },
  });
  // financial_connections options: taken and shown (payment_method among the permissions)
  const opts = await stripe.paymentIntents.update(inst.id, {
    payment_method_options: { us_bank_account: { financial_connections: { permissions: ['payment_method', 'ownership'], prefetch: ['ownership'], return_url: 'https://shop.example/fc' } } },
  });
  assert.deepEqual(opts.payment_method_options.us_bank_account.financial_connections,
    { permissions: ['payment_method', 'ownership'], prefetch: ['ownership'], return_url: 'https://shop.example/fc' });
  assertStripeShape(opts, 'payment_intent');
  const noPm = await stripe.paymentIntents.update(inst.id, {
    payment_method_options: { us_bank_account: { financial_connections: { permissions: ['balances'] } } },
  }).then(() => null, (x) => x);
  assert.equal(noPm.statusCode, 400);
  assert.equal(noPm.param, 'payment_method_options[us_bank_account][financial_connections][permissions]');
  const e1 = await stripe.paymentIntents.confirm(inst.id, { payment_method: typed.id, mandate_data: ONLINE }).then(() => null, (x) => x);
  assert.equal(e1.statusCode, 400);
  assert.equal(e1.param, 'payment_method');
  assert.equal((await stripe.paymentIntents.retrieve(inst.id)).status, 'requires_payment_method');

  // errors: a disconnected account, one without the payment_method permission, another
  // merchant's, another customer's (attach), routing numbers beside it
  const err = async (p, param, status = 400) => {
    const e = await p.then(() => null, (x) => x);
    assert.ok(e, 'taken');
    assert.equal(e.statusCode, status);
    assert.equal(e.param, param);
  };
  await err(pmOf(byName.Disconnected.id), 'us_bank_account[financial_connections_account]');
  const s2 = await stripe.financialConnections.sessions.create({ account_holder: { type: 'customer', customer: cus.id }, permissions: ['balances'] });
  await linkOnPage(s2, ['checking']);
  const balOnly = (await stripe.financialConnections.sessions.retrieve(s2.id)).accounts.data[0];
  await err(pmOf(balOnly.id), 'us_bank_account[financial_connections_account]');
  await err(other.paymentMethods.create({
    type: 'us_bank_account', us_bank_account: { financial_connections_account: byName.Success.id }, billing_details: { name: 'Jenny Rosen' },
  }), 'us_bank_account[financial_connections_account]', 404);
  await err(pmOf(byName.Success.id, { us_bank_account: { financial_connections_account: byName.Success.id, routing_number: '110000000' } }), 'us_bank_account[routing_number]');
  const stranger = await stripe.customers.create();
  const pm4 = await pmOf(byName.Success.id);
  await err(stripe.paymentMethods.attach(pm4.id, { customer: stranger.id }), 'customer');
  assert.equal((await stripe.paymentMethods.retrieve(pm4.id)).customer, null);
  // a disconnected account's PaymentMethods still pay (Stripe: disconnecting ends data access only)
  await stripe.financialConnections.accounts.disconnect(byName.Success.id);
  const pi5 = await stripe.paymentIntents.create({
    amount: 700, currency: 'usd', customer: cus.id, payment_method_types: ['us_bank_account'], payment_method: pm.id, confirm: true, mandate_data: ONLINE,
  });
  assert.equal(pi5.status, 'processing');
});

test('secrets: no test institution account number in clear in the store or the log', async () => {
  const files = readStoreFiles(env.dataDir);
  const log = fs.readFileSync(env.server.logPath);
  for (const n of NUMBERS) {
    for (const { file, data } of files) assert.ok(!data.includes(n), `${n} found in ${file}`);
    assert.ok(!log.includes(n), `${n} found in the server log`);
  }
});
