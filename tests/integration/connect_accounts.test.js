'use strict';
// Stripe Connect accounts through stripe-node: a platform creates, retrieves, updates, lists and
// deletes connected accounts, and acts as one with the Stripe-Account header (stripeAccount):
// its customers, payments, balance and idempotency keys are the account's own, isolated from
// the platform's; another platform, a deleted account or a publishable key get 403
// account_invalid. On PostgreSQL, an account lives on its platform's shard and `tender shards
// rebalance` refuses to split the family. Ends with tender verify.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const {
  startTender, stopAll, assertStripeShape, tender, request, storeSql, withDatabaseUrls, PG_SHARD_URLS, readStoreFiles,
} = require('./helpers');

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
// identity numbers the tests gave, none of which may be in the store's files (one scan, at the
// end: on PostgreSQL a scan reads every cluster file the file's tests wrote)
const NEVER_STORED = [];

test('create: Stripe\'s Account shape, defaults, capabilities, an account.updated event', async () => {
  const acct = await stripe.accounts.create({
    type: 'custom',
    country: 'gb',
    email: 'shop@example.com',
    business_type: 'company',
    business_profile: { name: 'Corner Shop', mcc: '5734', url: 'https://shop.example.com', support_phone: '+441234567890' },
    capabilities: { card_payments: { requested: true }, transfers: { requested: false } },
    tos_acceptance: { date: Math.floor(Date.now() / 1000) - 60, ip: '203.0.113.7', user_agent: 'test' },
    metadata: { ref: 'a1' },
  });
  assertStripeShape(acct, 'account');
  assert.match(acct.id, /^acct_/);
  assert.equal(acct.object, 'account');
  assert.equal(acct.type, 'custom');
  assert.equal(acct.country, 'GB');
  assert.equal(acct.default_currency, 'gbp'); // from the country
  assert.equal(acct.email, 'shop@example.com');
  assert.equal(acct.business_type, 'company');
  assert.equal(acct.business_profile.name, 'Corner Shop');
  assert.equal(acct.business_profile.mcc, '5734');
  assert.deepEqual(acct.capabilities, { card_payments: 'active', transfers: 'inactive' });
  assert.equal(acct.charges_enabled, true);
  assert.equal(acct.payouts_enabled, true);
  assert.deepEqual(acct.controller, { is_controller: true, type: 'application' });
  assert.deepEqual(acct.external_accounts, { object: 'list', data: [], has_more: false, url: `/v1/accounts/${acct.id}/external_accounts` });
  assert.deepEqual(acct.requirements.currently_due, []);
  assert.equal(acct.tos_acceptance.ip, '203.0.113.7');
  assert.deepEqual(acct.metadata, { ref: 'a1' });

  const std = await stripe.accounts.create({ type: 'standard' });
  assertStripeShape(std, 'account');
  assert.equal(std.country, 'US');
  assert.equal(std.default_currency, 'usd');
  // a Standard account made with nothing has onboarding to do (connect_onboarding.test.js):
  // its capabilities wait for it
  assert.deepEqual(std.capabilities, { card_payments: 'inactive', transfers: 'inactive' });
  assert.equal(std.charges_enabled, false);
  assert.ok(std.requirements.currently_due.includes('business_type'));
  assert.equal(std.email, null);
  assert.equal(std.business_profile.name, null);

  // controller[...] instead of type
  const ex = await stripe.accounts.create({ controller: { stripe_dashboard: { type: 'express' }, fees: { payer: 'application' } }, default_currency: 'EUR', country: 'US' });
  assert.equal(ex.type, 'express');
  assert.equal(ex.default_currency, 'eur');

  const ev = await stripe.events.list({ type: 'account.updated', limit: 10 });
  const mine = ev.data.find((e) => e.data.object.id === acct.id);
  assert.ok(mine, 'account.updated for the new account');
  assert.deepEqual(mine.data.object, acct);

  // bad input changes nothing
  const n = (await stripe.accounts.list({ limit: 100 })).data.length;
  await assert.rejects(stripe.accounts.create({ type: 'custom', country: 'USA' }), (e) => e.statusCode === 400 && e.param === 'country');
  await assert.rejects(stripe.accounts.create({ type: 'custom', default_currency: 'xyz' }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.accounts.create({ type: 'custom', business_profile: { mcc: '57a4' } }), (e) => e.statusCode === 400 && e.param === 'business_profile[mcc]');
  await assert.rejects(stripe.accounts.create({ type: 'custom', controller: { stripe_dashboard: { type: 'none' } } }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.accounts.create({ type: 'platinum' }), (e) => e.statusCode === 400 && e.param === 'type');
  assert.equal((await stripe.accounts.list({ limit: 100 })).data.length, n);
});

test('retrieve, update (email, metadata merge, business_profile) with previous_attributes', async () => {
  const acct = await stripe.accounts.create({ type: 'express', email: 'old@example.com', metadata: { a: '1', b: '2' } });
  const got = await stripe.accounts.retrieve(acct.id);
  assert.deepEqual(got, acct);
  const upd = await stripe.accounts.update(acct.id, {
    email: 'new@example.com', metadata: { b: '', c: '3' }, business_profile: { name: 'Renamed' },
  });
  assertStripeShape(upd, 'account');
  assert.equal(upd.email, 'new@example.com');
  assert.deepEqual(upd.metadata, { a: '1', c: '3' });
  assert.equal(upd.business_profile.name, 'Renamed');
  assert.equal(upd.settings.dashboard.display_name, 'Renamed');
  assert.deepEqual(await stripe.accounts.retrieve(acct.id), upd);
  const ev = await stripe.events.list({ type: 'account.updated', limit: 20 });
  const e = ev.data.find((x) => x.data.object.id === acct.id && x.data.previous_attributes);
  assert.deepEqual(e.data.previous_attributes, {
    email: 'old@example.com', business_profile: { name: null }, metadata: { a: '1', b: '2' },
  });
  // fixed once created (Tender settles the account in it): another one is a 400, nothing changes
  await assert.rejects(stripe.accounts.update(acct.id, { default_currency: 'eur' }), (x) => x.statusCode === 400 && x.param === 'default_currency');
  // another platform's account does not exist for B
  await assert.rejects(stripeB.accounts.retrieve(acct.id), (x) => x.statusCode === 404 && x.code === 'resource_missing');
  await assert.rejects(stripeB.accounts.update(acct.id, { email: 'x@example.com' }), (x) => x.statusCode === 404);
  assert.equal((await stripe.accounts.retrieve(acct.id)).email, 'new@example.com');
});

test('list: newest first, paginated, the platform\'s own accounts only, deleted ones left out', async () => {
  const made = [];
  for (let i = 0; i < 5; i++) made.push(await stripeB.accounts.create({ type: 'custom', metadata: { i: String(i) } }));
  const first = await stripeB.accounts.list({ limit: 2 });
  assert.equal(first.object, 'list');
  assert.equal(first.url, '/v1/accounts');
  assert.equal(first.has_more, true);
  assert.deepEqual(first.data.map((a) => a.id), [made[4].id, made[3].id]);
  for (const a of first.data) assertStripeShape(a, 'account');
  const second = await stripeB.accounts.list({ limit: 2, starting_after: first.data[1].id });
  assert.deepEqual(second.data.map((a) => a.id), [made[2].id, made[1].id]);
  const back = await stripeB.accounts.list({ limit: 2, ending_before: made[2].id });
  assert.deepEqual(back.data.map((a) => a.id), [made[4].id, made[3].id]);
  const all = await stripeB.accounts.list({ limit: 2 }).autoPagingToArray({ limit: 100 });
  assert.deepEqual(all.map((a) => a.id), made.map((a) => a.id).reverse());
  const created = await stripeB.accounts.list({ created: { gte: made[0].created }, limit: 100 });
  assert.ok(created.data.length >= 1);
  // A's list never shows B's accounts
  const aIds = new Set((await stripe.accounts.list({ limit: 100 })).data.map((a) => a.id));
  for (const a of made) assert.ok(!aIds.has(a.id));

  const del = await stripeB.accounts.del(made[2].id);
  assert.deepEqual(del, { id: made[2].id, object: 'account', deleted: true });
  const after = await stripeB.accounts.list({ limit: 100 });
  assert.deepEqual(after.data.map((a) => a.id), [made[4].id, made[3].id, made[1].id, made[0].id]);
});

test('GET /v1/account: the caller\'s own account, or the connected one with Stripe-Account', async () => {
  const own = await stripe.accounts.retrieve();
  assertStripeShape(own, 'account');
  assert.equal(own.id, env.merchant.id);
  assert.equal(own.type, 'standard');
  assert.equal(own.default_currency, 'usd');
  assert.equal(own.country, 'US');
  assert.equal(own.business_profile.name, 'Merchant 0');
  assert.deepEqual(own.controller, { type: 'account' });
  assert.deepEqual(await stripe.accounts.retrieve(env.merchant.id), own);
  const acct = await stripe.accounts.create({ type: 'custom', email: 'self@example.com' });
  const self = await stripe.accounts.retrieve(null, {}, as(acct.id));
  assert.deepEqual(self, acct);
  assertStripeShape(self, 'account');
  assert.deepEqual(await stripe.accounts.retrieve(acct.id, {}, as(acct.id)), acct);
  // changing an account is its platform's business, and a merchant's own is not changed here
  await assert.rejects(stripe.accounts.update(acct.id, { email: 'x@example.com' }, as(acct.id)), (e) => e.statusCode === 400);
  await assert.rejects(stripe.accounts.del(acct.id, {}, as(acct.id)), (e) => e.statusCode === 400);
  await assert.rejects(stripe.accounts.update(env.merchant.id, { email: 'x@example.com' }), (e) => e.statusCode === 400);
  await assert.rejects(stripe.accounts.del(env.merchant.id), (e) => e.statusCode === 400);
  assert.deepEqual(await stripe.accounts.retrieve(acct.id), acct);
  assert.deepEqual(await stripe.accounts.retrieve(), own);
});

test('acting as a connected account: its own customers, payments, balance; tenants isolated', async () => {
  const acct = await stripe.accounts.create({ type: 'express', country: 'US' });
  const cus = await stripe.customers.create({ email: 'buyer@example.com' }, as(acct.id));
  const pi = await stripe.paymentIntents.create({
    amount: 2000, currency: 'usd', customer: cus.id, payment_method: 'pm_card_visa', confirm: true,
  }, as(acct.id));
  assert.equal(pi.status, 'succeeded');
  assertStripeShape(pi, 'payment_intent');

  const theirCustomers = await stripe.customers.list({ limit: 100 }, as(acct.id));
  assert.deepEqual(theirCustomers.data.map((c) => c.id), [cus.id]);
  const theirPis = await stripe.paymentIntents.list({ limit: 100 }, as(acct.id));
  assert.deepEqual(theirPis.data.map((p) => p.id), [pi.id]);
  assert.equal((await stripe.paymentIntents.retrieve(pi.id, {}, as(acct.id))).amount_received, 2000);

  // the platform itself does not see them, nor does the account see the platform's
  const platCus = await stripe.customers.create({ email: 'platform@example.com' });
  assert.ok(!(await stripe.customers.list({ limit: 100 })).data.some((c) => c.id === cus.id));
  assert.ok(!(await stripe.paymentIntents.list({ limit: 100 })).data.some((p) => p.id === pi.id));
  await assert.rejects(stripe.paymentIntents.retrieve(pi.id), (e) => e.statusCode === 404);
  await assert.rejects(stripe.customers.retrieve(platCus.id, {}, as(acct.id)), (e) => e.statusCode === 404);

  // the account's balance holds its charge; its events are its own
  const bal = await stripe.balance.retrieve({}, as(acct.id));
  const pending = bal.pending.find((b) => b.currency === 'usd');
  assert.equal(pending.amount, 2000 - 88); // 2.9 % + 30
  assert.ok(!bal.available.some((b) => b.amount !== 0));
  const platBal = await stripe.balance.retrieve();
  const platPending = (platBal.pending.find((b) => b.currency === 'usd') || { amount: 0 }).amount;
  const ev = await stripe.events.list({ type: 'payment_intent.succeeded', limit: 10 }, as(acct.id));
  assert.deepEqual(ev.data.map((e) => e.data.object.id), [pi.id]);
  assert.ok(!(await stripe.events.list({ limit: 100 })).data.some((e) => e.data.object.id === pi.id));
  // a header naming the caller's own account acts as itself
  const selfList = await stripe.customers.list({ limit: 100 }, as(env.merchant.id));
  assert.ok(selfList.data.some((c) => c.id === platCus.id));
  assert.equal((await stripe.balance.retrieve()).pending.find((b) => b.currency === 'usd')?.amount ?? 0, platPending);
});

test('the same Idempotency-Key on the platform and on the account: two independent results', async () => {
  const acct = await stripe.accounts.create({ type: 'custom' });
  const key = `connect-idem-${Date.now()}`;
  const onPlatform = await stripe.customers.create({ email: 'same@example.com' }, { idempotencyKey: key });
  const onAccount = await stripe.customers.create({ email: 'same@example.com' }, { idempotencyKey: key, ...as(acct.id) });
  assert.notEqual(onPlatform.id, onAccount.id);
  // each replays its own
  const again = await stripe.customers.create({ email: 'same@example.com' }, { idempotencyKey: key, ...as(acct.id) });
  assert.equal(again.id, onAccount.id);
  assert.equal(again.lastResponse.headers['idempotent-replayed'], 'true');
  const againP = await stripe.customers.create({ email: 'same@example.com' }, { idempotencyKey: key });
  assert.equal(againP.id, onPlatform.id);
  // other parameters under the account's key: a mismatch there, not on the platform's
  await assert.rejects(stripe.customers.create({ email: 'other@example.com' }, { idempotencyKey: key, ...as(acct.id) }),
    (e) => e.statusCode === 400 && e.type === 'StripeIdempotencyError');
  // an account created with a key is created once
  const k2 = `connect-acct-${Date.now()}`;
  const a1 = await stripe.accounts.create({ type: 'custom', email: 'once@example.com' }, { idempotencyKey: k2 });
  const a2 = await stripe.accounts.create({ type: 'custom', email: 'once@example.com' }, { idempotencyKey: k2 });
  assert.equal(a1.id, a2.id);
});

test('403 account_invalid: another platform\'s account, an unknown one, a deleted one, a publishable key', async () => {
  const acct = await stripe.accounts.create({ type: 'custom' });
  const keyB = env.merchants[1].secret_key;
  const check = (e) => {
    assert.equal(e.type, 'StripePermissionError');
    assert.equal(e.statusCode, 403);
    assert.equal(e.code, 'account_invalid');
    assert.equal(e.rawType, 'invalid_request_error');
    return true;
  };
  await assert.rejects(stripeB.customers.list({}, as(acct.id)), (e) => {
    check(e);
    assert.ok(e.message.includes(`account '${acct.id}'`), e.message);
    assert.ok(e.message.includes(`'sk_test_`) && e.message.includes(`${keyB.slice(-4)}'`), e.message);
    assert.ok(!e.message.includes(keyB), 'the key is masked');
    return true;
  });
  await assert.rejects(stripeB.customers.create({ email: 'x@example.com' }, as(acct.id)), check);
  await assert.rejects(stripe.customers.list({}, as('acct_doesnotexist')), check);
  await assert.rejects(stripe.accounts.retrieve(null, {}, as(acct.id.slice(0, -1))), check);
  // a publishable key cannot act for a connected account
  const pk = await request({ port: env.port, path: '/v1/tokens', method: 'POST', key: env.merchant.publishable_key,
    headers: { 'Stripe-Account': acct.id }, body: 'card[number]=4242424242424242&card[exp_month]=12&card[exp_year]=2040&card[cvc]=123' });
  assert.equal(pk.status, 403);
  assert.equal(pk.json.error.code, 'account_invalid');
  // nothing was made under the account by the refused requests
  assert.deepEqual((await stripe.customers.list({}, as(acct.id))).data, []);

  // deleted: unusable, and gone from retrieve
  await stripe.customers.create({ email: 'before@example.com' }, as(acct.id));
  await stripe.accounts.del(acct.id);
  await assert.rejects(stripe.customers.list({}, as(acct.id)), check);
  await assert.rejects(stripe.paymentIntents.create({ amount: 500, currency: 'usd' }, as(acct.id)), check);
  await assert.rejects(stripe.accounts.retrieve(acct.id), (e) => e.statusCode === 404 && e.code === 'resource_missing');
  await assert.rejects(stripe.accounts.del(acct.id), (e) => e.statusCode === 404);
  const ev = await stripe.events.list({ type: 'account.application.deauthorized', limit: 10 });
  assert.ok(ev.data.length >= 1);
  assert.equal(ev.data[0].data.object.object, 'application');
  // a connected account cannot make accounts of its own
  const other = await stripe.accounts.create({ type: 'custom' });
  await assert.rejects(stripe.accounts.create({ type: 'custom' }, as(other.id)), (e) => e.statusCode === 400);
  assert.deepEqual((await stripe.accounts.list({ limit: 100 }, as(other.id))).data, []);
});

// the --database-url flags of this environment's shards (PostgreSQL only)
function dbFlags() {
  const args = withDatabaseUrls(['--data', env.dataDir]);
  return args.filter((a, i) => a === '--database-url' || args[i - 1] === '--database-url');
}
function shardOf(id) {
  const line = tender(['shards', 'list', ...dbFlags()]).split('\n').find((l) => l.startsWith(`${id}\t`));
  assert.ok(line, `${id} is in the shard map`);
  return Number(line.split('\t')[1]);
}

test('PostgreSQL: an account lives on its platform\'s shard, and rebalance will not split the family',
  { skip: PG_SHARD_URLS.length < 2 && 'needs two PostgreSQL shards (scripts/integration-pg.sh)' }, async () => {
    const plats = [env.merchants[0], env.merchants[1]];
    const shards = plats.map((m) => shardOf(m.id));
    assert.notEqual(shards[0], shards[1], 'the two platforms are on different shards');
    for (const [i, s] of [stripe, stripeB].entries()) {
      for (let k = 0; k < 2; k++) {
        const acct = await s.accounts.create({ type: 'custom' });
        assert.equal(shardOf(acct.id), shards[i], `${acct.id} is on its platform's shard`);
        // the merchants row on shard 0 and its copy on the home shard both name the platform
        const rows = storeSql(env.dataDir, `SELECT platform FROM merchants WHERE id = '${acct.id}'`);
        assert.equal(rows[0].trim(), plats[i].id);
        assert.equal(rows[shards[i]].trim(), plats[i].id);
        const acctRows = storeSql(env.dataDir, `SELECT count(*) FROM connected_accounts WHERE merchant_id = '${plats[i].id}' AND id = '${acct.id}'`);
        assert.equal(acctRows[shards[i]].trim(), '1');
        // it takes payments there
        const pi = await s.paymentIntents.create({ amount: 1500, currency: 'usd', payment_method: 'pm_card_visa', confirm: true }, as(acct.id));
        assert.equal(pi.status, 'succeeded');
        const piRows = storeSql(env.dataDir, `SELECT count(*) FROM payment_intents WHERE merchant_id = '${acct.id}'`);
        assert.equal(piRows[shards[i]].trim(), '1');

        const to = String(1 - shards[i]);
        for (const who of [acct.id, plats[i].id]) {
          let err;
          try {
            tender(['shards', 'rebalance', '--move', who, '--to', to, ...dbFlags()], { stdio: 'pipe' });
          } catch (e) {
            err = e;
          }
          assert.ok(err, `moving ${who} is refused`);
          assert.match(String(err.stderr), /Connect family/);
        }
        assert.equal(shardOf(acct.id), shards[i]);
        assert.equal(shardOf(plats[i].id), shards[i]);
        assert.equal((await s.paymentIntents.retrieve(pi.id, {}, as(acct.id))).status, 'succeeded');
      }
    }
  });

test('account sessions: the platform\'s session for one of its accounts, components as asked', async () => {
  const acct = await stripe.accounts.create({ type: 'express', country: 'US', email: 'embedded@example.com' });
  const t0 = Math.floor(Date.now() / 1000);
  const s = await stripe.accountSessions.create({
    account: acct.id,
    components: {
      account_onboarding: { enabled: true, features: { external_account_collection: false } },
      payments: { enabled: true, features: { refund_management: false, destination_on_behalf_of_charge_management: true } },
    },
  });
  assertStripeShape(s, 'account_session');
  assert.equal(s.object, 'account_session');
  assert.equal(s.account, acct.id);
  assert.equal(s.livemode, false);
  assert.match(s.client_secret, /^accs_secret__[0-9A-Za-z]{48}$/);
  assert.ok(s.expires_at >= t0 + 1800 - 5 && s.expires_at <= Math.floor(Date.now() / 1000) + 1800 + 5);
  // asked: as asked; the rest of each component at Stripe's defaults
  assert.deepEqual(s.components.account_onboarding, { enabled: true, features: { disable_stripe_user_authentication: false, external_account_collection: false } });
  assert.deepEqual(s.components.payments, { enabled: true, features: {
    capture_payments: true, destination_on_behalf_of_charge_management: true, dispute_management: true, refund_management: false, smart_disputes_management: false,
  } });
  // every other component Stripe lists is there, not enabled
  const others = Object.entries(s.components).filter(([k]) => k !== 'account_onboarding' && k !== 'payments');
  assert.equal(others.length, 23);
  assert.ok(others.every(([, v]) => v.enabled === false && typeof v.features === 'object'));
  assert.deepEqual(s.components.payouts_list, { enabled: false, features: {} });
  // a fresh secret each time; nothing of it on disk
  const s2 = await stripe.accountSessions.create({ account: acct.id, components: { documents: { enabled: true } } });
  assert.notEqual(s2.client_secret, s.client_secret);
  assert.equal(s2.components.documents.enabled, true);
  assert.equal(s2.components.account_onboarding.enabled, false);
  const secretPart = s.client_secret.slice('accs_secret__'.length);
  assert.ok(!require('./helpers').readStoreFiles(env.dataDir).some((f) => f.data.includes(secretPart)));
  // refused: not the caller's account, Stripe-Account, missing or unknown parameters, components Tender has no product for
  const bad = (p, opts) => stripe.accountSessions.create(p, opts).then(() => assert.fail('accepted'), (e) => e);
  let e = await bad({ account: 'acct_nope', components: { payments: { enabled: true } } });
  assert.equal(e.statusCode, 400);
  assert.equal(e.code, 'resource_missing');
  assert.equal(e.param, 'account');
  const acctB = await stripeB.accounts.create({ type: 'express', country: 'US' });
  e = await bad({ account: acctB.id, components: { payments: { enabled: true } } });
  assert.equal(e.statusCode, 400);
  assert.equal(e.param, 'account');
  e = await bad({ account: acct.id, components: { payments: { enabled: true } } }, as(acct.id));
  assert.equal(e.statusCode, 400);
  e = await bad({ components: { payments: { enabled: true } } });
  assert.equal(e.code, 'parameter_missing');
  assert.equal(e.param, 'account');
  e = await bad({ account: acct.id });
  assert.equal(e.code, 'parameter_missing');
  e = await bad({ account: acct.id, components: { payments: { features: { refund_management: true } } } });
  assert.equal(e.code, 'parameter_missing');
  e = await bad({ account: acct.id, components: { nope: { enabled: true } } });
  assert.equal(e.code, 'parameter_unknown');
  e = await bad({ account: acct.id, components: { payments: { enabled: true, features: { send_money: true } } } });
  assert.equal(e.code, 'parameter_unknown');
  e = await bad({ account: acct.id, components: { issuing_card: { enabled: true } } });
  assert.equal(e.statusCode, 400);
  assert.equal(e.param, 'components[issuing_card][enabled]');
  const quiet = await stripe.accountSessions.create({ account: acct.id, components: { issuing_card: { enabled: false } } });
  assert.equal(quiet.components.issuing_card.enabled, false);
});

test('account and person tokens: details collected by the platform\'s client, applied once; identity numbers never kept', async () => {
  // Stripe's account tokens (ct_): publishable keys make them too; the id and last 4 of the SSN
  // are only ever "provided", in the store as on the account
  const pk = env.stripe(env.merchants[0].publishable_key);
  const ID = '123987456', TAX = '98-7654321';
  const tok = await pk.tokens.create({
    account: {
      business_type: 'individual',
      individual: {
        first_name: 'Jane', last_name: 'Doe', email: 'jane@example.com', dob: { day: 1, month: 2, year: 1990 },
        address: { line1: '1 Main St', city: 'Springfield', postal_code: '12345', state: 'IL', country: 'US' },
        id_number: ID, ssn_last_4: '7456', metadata: { from: 'token' },
      },
      tos_shown_and_accepted: true,
    },
  });
  assertStripeShape(tok, 'token');
  assert.match(tok.id, /^ct_/);
  assert.equal(tok.type, 'account');
  assert.equal(tok.used, false);
  assert.equal(tok.card, undefined);

  const acct = await stripe.accounts.create({ type: 'custom', country: 'US', account_token: tok.id,
    capabilities: { card_payments: { requested: true }, transfers: { requested: true } } });
  assertStripeShape(acct, 'account');
  assert.equal(acct.business_type, 'individual');
  assert.equal(acct.individual.first_name, 'Jane');
  assert.equal(acct.individual.last_name, 'Doe');
  assert.deepEqual(acct.individual.dob, { day: 1, month: 2, year: 1990 });
  assert.equal(acct.individual.address.city, 'Springfield');
  assert.equal(acct.individual.id_number_provided, true);
  assert.equal(acct.individual.ssn_last_4_provided, true);
  assert.equal(acct.tos_acceptance.date, tok.created);
  assert.equal(acct.tos_acceptance.ip, tok.client_ip);
  assert.equal((await stripe.tokens.retrieve(tok.id)).used, true);

  // once only; never beside the details it carries; another platform's is unknown to it
  await assert.rejects(stripe.accounts.create({ type: 'custom', account_token: tok.id }),
    (e) => e.statusCode === 400 && e.code === 'token_already_used' && e.param === 'account_token');
  const tok2 = await stripe.tokens.create({ account: { business_type: 'company', company: { name: 'Acme Ltd', tax_id: TAX }, tos_shown_and_accepted: true } });
  await assert.rejects(stripe.accounts.create({ type: 'custom', account_token: tok2.id, business_type: 'company' }),
    (e) => e.statusCode === 400 && e.param === 'business_type' && /cannot be used in conjunction with an account token/.test(e.message));
  await assert.rejects(stripeB.accounts.create({ type: 'custom', account_token: tok2.id }),
    (e) => e.statusCode === 400 && e.param === 'account_token' && /No such token/.test(e.message));
  await assert.rejects(stripe.accounts.create({ type: 'custom', account_token: 'ct_nope' }), (e) => e.statusCode === 400);
  // a token's own checks are the account's: a date of birth in the future is refused when it is made
  await assert.rejects(stripe.tokens.create({ account: { individual: { dob: { day: 1, month: 1, year: 2090 } } } }),
    (e) => e.statusCode === 400 && e.param === 'account[individual][dob]');
  await assert.rejects(stripe.tokens.create({ account: { business_type: 'individual' }, pii: { id_number: '1' } }), (e) => e.statusCode === 400);

  // bank_account: the older name of external_account on create
  const withBank = await stripe.accounts.create({ type: 'custom', country: 'US', bank_account: 'btok_us_verified' });
  assert.equal(withBank.external_accounts.data.length, 1);
  assert.equal(withBank.external_accounts.data[0].object, 'bank_account');
  assert.equal(withBank.external_accounts.data[0].last4, '6789');
  await assert.rejects(stripe.accounts.create({ type: 'custom', bank_account: 'btok_us_verified', external_account: 'btok_us_verified' }),
    (e) => e.statusCode === 400 && e.param === 'bank_account');

  // update with a token: a company account's details
  const co = await stripe.accounts.create({ type: 'custom', country: 'US', business_type: 'company' });
  const updated = await stripe.accounts.update(co.id, { account_token: tok2.id, metadata: { via: 'token' } });
  assert.equal(updated.company.name, 'Acme Ltd');
  assert.equal(updated.company.tax_id_provided, true);
  assert.equal(updated.metadata.via, 'token');
  assert.equal(updated.tos_acceptance.date, tok2.created);
  const evs = await stripe.events.list({ type: 'account.updated', limit: 3 });
  assert.ok(evs.data.some((e) => e.data.object.id === co.id && e.data.previous_attributes && 'company' in e.data.previous_attributes));

  // person tokens (cpt_): a person made and changed with them
  const ptok = await pk.tokens.create({ person: { first_name: 'Lee', last_name: 'Ray', id_number: ID, relationship: { owner: true, percent_ownership: 40 } } });
  assertStripeShape(ptok, 'token');
  assert.match(ptok.id, /^cpt_/);
  assert.equal(ptok.type, 'person');
  const person = await stripe.accounts.createPerson(co.id, { person_token: ptok.id });
  assertStripeShape(person, 'person');
  assert.equal(person.first_name, 'Lee');
  assert.equal(person.relationship.owner, true);
  assert.equal(person.relationship.percent_ownership, 40);
  assert.equal(person.id_number_provided, true);
  await assert.rejects(stripe.accounts.createPerson(co.id, { person_token: ptok.id }), (e) => e.code === 'token_already_used');
  await assert.rejects(stripe.accounts.createPerson(co.id, { person_token: tok2.id }), (e) => e.statusCode === 400 && e.param === 'person_token');
  const ptok2 = await stripe.tokens.create({ person: { email: 'lee@example.com', relationship: { director: true } } });
  await assert.rejects(stripe.accounts.updatePerson(co.id, person.id, { person_token: ptok2.id, email: 'x@example.com' }),
    (e) => e.statusCode === 400 && e.param === 'email' && /in conjunction with a person token/.test(e.message));
  const p2 = await stripe.accounts.updatePerson(co.id, person.id, { person_token: ptok2.id });
  assert.equal(p2.email, 'lee@example.com');
  assert.equal(p2.relationship.director, true);
  assert.equal(p2.first_name, 'Lee');

  // PII tokens (pii_): taken where an id number goes
  const pii = await pk.tokens.create({ pii: { id_number: ID } });
  assertStripeShape(pii, 'token');
  assert.match(pii.id, /^pii_/);
  assert.equal(pii.type, 'pii');
  const p3 = await stripe.accounts.createPerson(co.id, { first_name: 'Kim', id_number: pii.id });
  assert.equal(p3.id_number_provided, true);
  await assert.rejects(pk.tokens.create({ pii: { id_number: '' } }), (e) => e.statusCode === 400 && e.param === 'pii[id_number]');

  // neither the id number nor the tax id may reach the store's files (scanned once, at the end)
  NEVER_STORED.push(ID, TAX);
});

test('persons: kana and kanji, gender, nationality, aliases, registered address, verification documents (files checked); no secondary id number kept', async () => {
  const acct = await stripe.accounts.create({ type: 'custom', country: 'JP', business_type: 'company' });
  const pdf = Buffer.from('%PDF-1.4\n%id\n');
  const front = await stripe.files.create({ purpose: 'identity_document', file: { data: pdf, name: 'id.pdf', type: 'application/pdf' } }, as(acct.id));
  const extra = await stripe.files.create({ purpose: 'additional_verification', file: { data: pdf, name: 'bill.pdf', type: 'application/pdf' } });
  const passport = await stripe.files.create({ purpose: 'account_requirement', file: { data: pdf, name: 'pp.pdf', type: 'application/pdf' } });
  const SEC = 'LASER7731X';
  const p = await stripe.accounts.createPerson(acct.id, {
    first_name: 'Taro', last_name: 'Yamada', first_name_kana: 'タロウ', last_name_kanji: '山田',
    address_kana: { postal_code: '1500001', state: 'ﾄｳｷﾖｳﾄ', city: 'ｼﾌﾞﾔ', town: 'ｼﾞﾝｸﾞｳﾏｴ 1-', line1: '5-8' },
    registered_address: { line1: '1-1 Chiyoda', city: 'Tokyo', country: 'JP', postal_code: '1000001' },
    gender: 'male', nationality: 'jp', maiden_name: 'Sato', political_exposure: 'existing',
    full_name_aliases: ['T. Yamada', 'Taro Y.'], id_number_secondary: SEC,
    verification: { document: { front: front.id }, additional_document: { front: extra.id } },
    documents: { passport: { files: [passport.id] } },
  });
  assertStripeShape(p, 'person');
  assert.equal(p.first_name_kana, 'タロウ');
  assert.equal(p.last_name_kanji, '山田');
  assert.equal(p.first_name_kanji, null);
  assert.equal(p.address_kana.town, 'ｼﾞﾝｸﾞｳﾏｴ 1-');
  assert.equal(p.address_kanji, null);
  assert.deepEqual(p.registered_address, { city: 'Tokyo', country: 'JP', line1: '1-1 Chiyoda', line2: null, postal_code: '1000001', state: null });
  assert.equal(p.gender, 'male');
  assert.equal(p.nationality, 'JP');
  assert.equal(p.maiden_name, 'Sato');
  assert.equal(p.political_exposure, 'existing');
  assert.deepEqual(p.full_name_aliases, ['T. Yamada', 'Taro Y.']);
  assert.equal(p.id_number_secondary_provided, true);
  assert.equal(p.verification.document.front, front.id);
  assert.equal(p.verification.document.back, null);
  assert.equal(p.verification.additional_document.front, extra.id);
  assert.equal((await stripe.accounts.retrievePerson(acct.id, p.id)).gender, 'male');

  // "" unsets; previous_attributes names what was
  const u = await stripe.accounts.updatePerson(acct.id, p.id, { gender: '', full_name_aliases: '', registered_address: { city: 'Osaka' } });
  assert.equal(u.gender, null);
  assert.deepEqual(u.full_name_aliases, []);
  assert.equal(u.registered_address.city, 'Osaka');
  assert.equal(u.registered_address.line1, '1-1 Chiyoda');
  const ev = (await stripe.events.list({ type: 'person.updated', limit: 5 }, as(acct.id))).data.find((e) => e.data.object.id === p.id);
  assert.ok(ev, 'person.updated');
  assert.equal(ev.data.previous_attributes.gender, 'male');
  assert.deepEqual(ev.data.previous_attributes.full_name_aliases, ['T. Yamada', 'Taro Y.']);
  assert.equal(ev.data.previous_attributes.registered_address.city, 'Tokyo');

  // files: another merchant's, or of another purpose, are refused and change nothing
  const other = await stripeB.files.create({ purpose: 'identity_document', file: { data: pdf, name: 'x.pdf', type: 'application/pdf' } });
  await assert.rejects(stripe.accounts.updatePerson(acct.id, p.id, { verification: { document: { back: other.id } } }),
    (e) => e.statusCode === 400 && e.param === 'verification[document][back]');
  await assert.rejects(stripe.accounts.updatePerson(acct.id, p.id, { verification: { document: { back: passport.id } } }),
    (e) => e.statusCode === 400 && e.param === 'verification[document][back]');
  await assert.rejects(stripe.accounts.updatePerson(acct.id, p.id, { gender: 'x' }), (e) => e.statusCode === 400 && e.param === 'gender');
  await assert.rejects(stripe.accounts.updatePerson(acct.id, p.id, { nationality: 'J1' }), (e) => e.statusCode === 400 && e.param === 'nationality');
  assert.equal((await stripe.accounts.retrievePerson(acct.id, p.id)).verification.document.back, null);

  // an individual account's individual takes the same
  // (a file of the platform's, or of the account itself: not another account's)
  await assert.rejects(stripe.accounts.create({ type: 'custom', country: 'US', business_type: 'individual',
    individual: { first_name: 'Ann', verification: { document: { front: front.id } } } }),
  (e) => e.statusCode === 400 && e.param === 'individual[verification][document][front]');
  const mine = await stripe.files.create({ purpose: 'identity_document', file: { data: pdf, name: 'id2.pdf', type: 'application/pdf' } });
  const ind = await stripe.accounts.create({ type: 'custom', country: 'US', business_type: 'individual',
    individual: { first_name: 'Ann', maiden_name: 'Lee', verification: { document: { front: mine.id } } } });
  assert.equal(ind.individual.maiden_name, 'Lee');
  assert.equal(ind.individual.verification.document.front, mine.id);
  await assert.rejects(stripe.accounts.update(ind.id, { individual: { verification: { document: { back: other.id } } } }),
    (e) => e.statusCode === 400 && e.param === 'individual[verification][document][back]');

  NEVER_STORED.push(SEC);
});

test('no identity number given to tokens or persons is in the store\'s files', async () => {
  assert.ok(NEVER_STORED.length >= 3);
  for (const { file, data } of readStoreFiles(env.dataDir)) {
    for (const v of NEVER_STORED) assert.ok(!data.includes(v), `${v} in clear in ${file}`);
  }
});

test('tender verify passes', async () => {
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

test('update: default_currency (only the one the account settles in) and documents[…][files] (account_requirement files, kept, not shown)', async () => {
  const acct = await stripe.accounts.create({ type: 'custom', country: 'US' });
  assert.equal(acct.default_currency, 'usd');
  const same = await stripe.accounts.update(acct.id, { default_currency: 'USD' });
  assert.equal(same.default_currency, 'usd');
  await assert.rejects(stripe.accounts.update(acct.id, { default_currency: 'eur', metadata: { a: '1' } }),
    (e) => e.statusCode === 400 && e.param === 'default_currency');
  await assert.rejects(stripe.accounts.update(acct.id, { default_currency: 'zzz' }), (e) => e.statusCode === 400 && e.param === 'default_currency');
  const after = await stripe.accounts.retrieve(acct.id);
  assert.equal(after.default_currency, 'usd');
  assert.deepEqual(after.metadata, {});

  const pdf = Buffer.from('%PDF-1.4\n%lic\n');
  const lic = await stripe.files.create({ purpose: 'account_requirement', file: { data: pdf, name: 'lic.pdf', type: 'application/pdf' } }, as(acct.id));
  const mine = await stripe.files.create({ purpose: 'account_requirement', file: { data: pdf, name: 'reg.pdf', type: 'application/pdf' } });
  const wrong = await stripe.files.create({ purpose: 'identity_document', file: { data: pdf, name: 'id.pdf', type: 'application/pdf' } });
  const foreign = await stripeB.files.create({ purpose: 'account_requirement', file: { data: pdf, name: 'b.pdf', type: 'application/pdf' } });
  const up = await stripe.accounts.update(acct.id, {
    documents: { company_license: { files: [lic.id] }, proof_of_registration: { files: [mine.id] } },
    metadata: { docs: 'yes' },
  });
  assert.equal(up.documents, undefined);
  assert.deepEqual(up.metadata, { docs: 'yes' });
  assertStripeShape(up, 'account');
  const kept = storeSql(env.dataDir, `SELECT documents FROM connected_accounts WHERE id = '${acct.id}'`).join('');
  assert.match(kept, new RegExp(lic.id));
  assert.match(kept, new RegExp(mine.id));
  for (const f of [wrong, foreign]) {
    await assert.rejects(stripe.accounts.update(acct.id, { documents: { company_tax_id_verification: { files: [f.id] } }, metadata: { docs: 'no' } }),
      (e) => e.statusCode === 400 && e.param === 'documents[company_tax_id_verification][files]');
  }
  await assert.rejects(stripe.accounts.update(acct.id, { documents: { passport: { files: [lic.id] } } }), (e) => e.statusCode === 400);
  assert.deepEqual((await stripe.accounts.retrieve(acct.id)).metadata, { docs: 'yes' });
  // files="" removes a kind
  await stripe.accounts.update(acct.id, { documents: { company_license: { files: '' } } });
  const left = storeSql(env.dataDir, `SELECT documents FROM connected_accounts WHERE id = '${acct.id}'`).join('');
  assert.doesNotMatch(left, new RegExp(lic.id));
  assert.match(left, new RegExp(mine.id));
});
