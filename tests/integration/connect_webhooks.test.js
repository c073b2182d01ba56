'use strict';
// Connect webhooks through stripe-node: a platform's endpoint made with connect=true receives the
// events of its connected accounts (with `account`, signed with that endpoint's secret) and none
// of the platform's own; its plain endpoint receives only the platform's own; another platform's
// connect endpoint receives nothing; an endpoint made with Stripe-Account belongs to the account.
// `account` also shows when the account reads its events through the API, pending_webhooks
// counts the platform's deliveries, the CLI's attempts and resend find them, and tender verify
// passes.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const Stripe = require('stripe');
const { startTender, stopAll, tender, assertStripeShape, waitFor } = require('./helpers');

const verifier = new Stripe('sk_test_unused');
let env;
let stripe; // platform A
let stripeB; // platform B
let acct; // a connected account of A
const receivers = [];

// A local endpoint: verifies every delivery's signature with its own endpoint's secret (set
// once the endpoint exists) and keeps the events; a bad signature is counted and refused.
function receiver({ sleepMs = 0 } = {}) {
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const respond = () => {
        try {
          const evt = verifier.webhooks.constructEvent(body, req.headers['stripe-signature'], srv.secret);
          srv.got.push(evt);
          res.writeHead(200);
          res.end('ok');
        } catch (e) {
          srv.badSignatures++;
          res.writeHead(400);
          res.end(String(e));
        }
      };
      if (sleepMs) setTimeout(respond, sleepMs);
      else respond();
    });
  });
  srv.got = [];
  srv.badSignatures = 0;
  receivers.push(srv);
  return new Promise((r) => srv.listen(0, '127.0.0.1', () => r(srv)));
}

async function endpoint(s, rcv, params = {}, opts = undefined) {
  const we = await s.webhookEndpoints.create(
    { url: `http://127.0.0.1:${rcv.address().port}/hook`, enabled_events: ['*'], ...params }, opts,
  );
  rcv.secret = we.secret;
  return we;
}

const as = (a) => ({ stripeAccount: a.id });
const about = (rcv, pi) => rcv.got.filter((e) => e.data.object.id === pi.id || e.data.object.payment_intent === pi.id);
const types = (evts) => evts.map((e) => e.type).sort();
const PAYMENT = ['charge.succeeded', 'payment_intent.created', 'payment_intent.succeeded'];

let connectRcv; let plainRcv; let otherRcv; let acctRcv;
let connectWe; let plainWe; let otherWe; let acctWe;

before(async () => {
  env = await startTender({ merchants: 2, args: ['--rate-limit', '0', '--webhook-retry-schedule', '1s,1s,1s'] });
  stripe = env.stripe();
  stripeB = env.stripe(env.merchants[1].secret_key);
  acct = await stripe.accounts.create({ type: 'express', country: 'US' });
  [connectRcv, plainRcv, otherRcv, acctRcv] = await Promise.all([receiver(), receiver(), receiver(), receiver()]);
  connectWe = await endpoint(stripe, connectRcv, { connect: true });
  plainWe = await endpoint(stripe, plainRcv);
  otherWe = await endpoint(stripeB, otherRcv, { connect: true });
  acctWe = await endpoint(stripe, acctRcv, {}, as(acct));
});
after(async () => {
  for (const r of receivers) r.close();
  await stopAll();
});

test('connect is create-only and refused for a connected account; the object is Stripe\'s', async () => {
  assertStripeShape(connectWe, 'webhook_endpoint');
  assert.equal(connectWe.application, null);
  // Stripe's webhook_endpoint has no connect field: it is stored, not shown
  assert.equal('connect' in connectWe, false);
  const got = await stripe.webhookEndpoints.retrieve(connectWe.id);
  assertStripeShape(got, 'webhook_endpoint');
  await assert.rejects(stripe.webhookEndpoints.update(connectWe.id, { connect: false }),
    (e) => e.statusCode === 400 && e.code === 'parameter_unknown');
  await assert.rejects(stripe.webhookEndpoints.create({ url: 'http://127.0.0.1:9/x', enabled_events: ['*'], connect: 'maybe' }),
    (e) => e.statusCode === 400 && e.param === 'connect');
  // an account has no connected accounts: nothing could ever reach such an endpoint
  const before = (await stripe.webhookEndpoints.list({ limit: 100 }, as(acct))).data.length;
  await assert.rejects(stripe.webhookEndpoints.create({ url: 'http://127.0.0.1:9/x', enabled_events: ['*'], connect: true }, as(acct)),
    (e) => e.statusCode === 400 && e.param === 'connect');
  assert.equal((await stripe.webhookEndpoints.list({ limit: 100 }, as(acct))).data.length, before);
  // the account's endpoint is the account's, not the platform's
  const mine = (await stripe.webhookEndpoints.list({ limit: 100 })).data.map((w) => w.id);
  assert.ok(mine.includes(connectWe.id) && mine.includes(plainWe.id));
  assert.ok(!mine.includes(acctWe.id));
  await assert.rejects(stripe.webhookEndpoints.retrieve(acctWe.id), (e) => e.statusCode === 404);
});

test('a connected account\'s payment reaches the platform\'s connect endpoint with `account`, not its plain one', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 2500, currency: 'usd', payment_method: 'pm_card_visa', confirm: true }, as(acct));
  assert.equal(pi.status, 'succeeded');
  const own = await stripe.paymentIntents.create({ amount: 1500, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });

  await waitFor(() => about(connectRcv, pi).length >= 3 && about(plainRcv, own).length >= 3 && about(acctRcv, pi).length >= 3);
  // the connect endpoint: the account's events, named, signed with its own secret (receiver)
  const cevts = about(connectRcv, pi);
  assert.deepEqual(types(cevts), PAYMENT);
  for (const e of cevts) {
    assert.equal(e.account, acct.id);
    assertStripeShape(e, 'event');
  }
  assert.equal(cevts.find((e) => e.type === 'payment_intent.succeeded').data.object.id, pi.id);
  // the platform's own payment goes to its plain endpoint only, without `account`
  const pevts = about(plainRcv, own);
  assert.deepEqual(types(pevts), PAYMENT);
  for (const e of pevts) {
    assert.equal('account' in e, false);
    assertStripeShape(e, 'event');
  }
  // the account's own endpoint (made with Stripe-Account) gets the account's events, the same
  // event objects as the platform's delivery
  const aevts = about(acctRcv, pi);
  assert.deepEqual(types(aevts), PAYMENT);
  for (const e of aevts) assert.equal(e.account, acct.id);
  assert.deepEqual(aevts.map((e) => e.id).sort(), cevts.map((e) => e.id).sort());

  // give a wrong delivery time to arrive, then check nobody got what is not theirs
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(about(plainRcv, pi), [], 'the plain endpoint gets none of the account\'s events');
  assert.deepEqual(about(connectRcv, own), [], 'the connect endpoint gets none of the platform\'s own');
  assert.deepEqual(about(acctRcv, own), [], 'the account\'s endpoint gets none of the platform\'s events');
  assert.deepEqual(otherRcv.got, [], 'another platform\'s connect endpoint gets nothing');
  for (const r of [connectRcv, plainRcv, otherRcv, acctRcv]) assert.equal(r.badSignatures, 0);
});

test('the account reads its events with `account`; the platform\'s own have none', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 700, currency: 'usd', payment_method: 'pm_card_visa', confirm: true }, as(acct));
  const list = await stripe.events.list({ limit: 10 }, as(acct));
  const mine = list.data.filter((e) => e.data.object.id === pi.id || e.data.object.payment_intent === pi.id);
  assert.deepEqual(types(mine), PAYMENT);
  for (const e of list.data) {
    assert.equal(e.account, acct.id);
    assertStripeShape(e, 'event');
  }
  const one = await stripe.events.retrieve(mine[0].id, {}, as(acct));
  assertStripeShape(one, 'event');
  assert.equal(one.account, acct.id);
  assert.deepEqual(Object.keys(one).slice(0, 3), ['id', 'object', 'account']);
  // the event is the account's: the platform cannot read it as its own
  await assert.rejects(stripe.events.retrieve(mine[0].id), (e) => e.statusCode === 404);
  const plat = await stripe.events.list({ limit: 20 });
  assert.ok(plat.data.length > 0);
  for (const e of plat.data) assert.equal('account' in e, false, e.type);
  // every delivery, the platform's included, ends: pending_webhooks reaches 0
  await waitFor(async () => (await stripe.events.retrieve(one.id, {}, as(acct))).pending_webhooks === 0);
});

test('pending_webhooks counts the platform\'s delivery; the CLI lists it and resends to it', async () => {
  const slowRcv = await receiver({ sleepMs: 3000 });
  const slowWe = await endpoint(stripe, slowRcv, { connect: true, enabled_events: ['customer.created'] });
  const cus = await stripe.customers.create({ email: 'c@example.com' }, as(acct));
  const evt = (await stripe.events.list({ type: 'customer.created', limit: 1 }, as(acct))).data[0];
  assert.equal(evt.data.object.id, cus.id);
  // the slow endpoint is the platform's, and holds its delivery for 3 s: the account's event
  // still counts it
  assert.ok(evt.pending_webhooks >= 1, `pending_webhooks ${evt.pending_webhooks}`);
  const got = await waitFor(() => slowRcv.got.find((e) => e.id === evt.id));
  assert.equal(got.account, acct.id);
  await waitFor(async () => (await stripe.events.retrieve(evt.id, {}, as(acct))).pending_webhooks === 0);

  const out = tender(['webhooks', 'attempts', evt.id, '--data', env.dataDir]);
  assert.match(out, new RegExp(`event ${evt.id} \\(merchant ${acct.id}\\)`));
  assert.match(out, new RegExp(`to ${slowWe.id} of platform ${env.merchant.id}: succeeded`));
  assert.match(out, new RegExp(`to ${connectWe.id} of platform ${env.merchant.id}: succeeded`));
  assert.match(out, new RegExp(`to ${acctWe.id}: succeeded`));
  assert.match(out, new RegExp(`${slowWe.id} attempt 1 at \\d+: HTTP 200`));
  assert.doesNotMatch(out, new RegExp(plainWe.id));

  // resend to the platform's connect endpoint: delivered again, signed with its secret
  tender(['webhooks', 'resend', evt.id, '--endpoint', connectWe.id, '--data', env.dataDir]);
  await waitFor(() => connectRcv.got.filter((e) => e.id === evt.id).length === 2);
  // not to its plain endpoint, nor to another platform's
  for (const we of [plainWe, otherWe]) {
    assert.throws(() => tender(['webhooks', 'resend', evt.id, '--endpoint', we.id, '--data', env.dataDir], { stdio: 'pipe' }));
  }
  await waitFor(async () => (await stripe.events.retrieve(evt.id, {}, as(acct))).pending_webhooks === 0);
  assert.deepEqual(otherRcv.got, []);
  await stripe.webhookEndpoints.del(slowWe.id);
});

test('tender verify passes', async () => {
  let out;
  try {
    out = tender(['verify', '--data', env.dataDir]);
  } catch (e) {
    out = `${e.stdout}${e.stderr}`;
  }
  assert.match(out, /verify: ok/);
});
