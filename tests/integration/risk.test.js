'use strict';
// Fraud scoring on the authorization path: Radar's test cards, the model's own interventions on
// other cards, and a model that fails to load stopping the server.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const { BIN, startTender, stopAll, tender, newDataDir } = require('./helpers');

let env;
let stripe;
before(async () => {
  env = await startTender();
  stripe = env.stripe();
});
after(stopAll);

// A fresh Luhn-valid Visa number that is none of Stripe's published test cards.
function freshCard() {
  const d = [4, 5, 3, 9];
  while (d.length < 15) d.push(Math.floor(Math.random() * 10));
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    let x = d[14 - i];
    if (i % 2 === 0) { x *= 2; if (x > 9) x -= 9; }
    sum += x;
  }
  d.push((10 - (sum % 10)) % 10);
  return d.join('');
}

async function outcomeOf(err) {
  return (await stripe.charges.retrieve(err.raw.charge)).outcome;
}

test('Radar test cards: always blocked, highest, elevated, normal', async () => {
  for (const pm of ['pm_card_radarBlock', 'pm_card_chargeDeclinedFraudulent', 'pm_card_riskLevelHighest']) {
    const err = await stripe.paymentIntents.create({ amount: 2000, currency: 'usd', payment_method: pm, confirm: true }).then(() => null, (e) => e);
    assert.ok(err, `${pm} must be blocked`);
    assert.equal(err.statusCode, 402);
    assert.equal(err.code, 'card_declined');
    assert.equal(err.decline_code, 'fraudulent');
    const o = await outcomeOf(err);
    assert.equal(o.type, 'blocked');
    assert.equal(o.risk_level, 'highest');
    assert.ok(o.risk_score >= 75);
  }
  const el = await stripe.paymentIntents.create({ amount: 2000, currency: 'usd', payment_method: 'pm_card_riskLevelElevated', confirm: true, expand: ['latest_charge'] });
  assert.equal(el.status, 'succeeded');
  assert.equal(el.latest_charge.outcome.risk_level, 'elevated');
  const ok = await stripe.paymentIntents.create({ amount: 2000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, expand: ['latest_charge'] });
  assert.equal(ok.latest_charge.outcome.risk_level, 'normal');
  assert.ok(Number.isInteger(ok.latest_charge.outcome.risk_score));
});

test('the model intervenes on a risky payment with a card it has never seen', async () => {
  // a first payment of 1,000 USD on a card never seen before is what the model learned to stop
  const pm = await stripe.paymentMethods.create({ type: 'card', card: { number: freshCard(), exp_month: 12, exp_year: 2034, cvc: '123' } });
  const res = await stripe.paymentIntents.create({ amount: 100000, currency: 'usd', payment_method: pm.id, confirm: true, return_url: 'https://example.com/r' })
    .then((pi) => ({ pi }), (err) => ({ err }));
  if (res.err) {
    assert.equal(res.err.statusCode, 402);
    assert.equal(res.err.decline_code, 'fraudulent');
    const o = await outcomeOf(res.err);
    assert.equal(o.type, 'blocked');
    assert.ok(o.risk_score > 80);
  } else {
    assert.equal(res.pi.status, 'requires_action', 'the model should at least ask for 3-D Secure');
  }
});

test('a card-testing burst on one card ends in an intervention', async () => {
  const number = freshCard();
  let intervened = false;
  for (let i = 0; i < 40 && !intervened; i++) {
    const pm = await stripe.paymentMethods.create({ type: 'card', card: { number, exp_month: 12, exp_year: 2034 } });
    const r = await stripe.paymentIntents.create({ amount: 50, currency: 'usd', payment_method: pm.id, confirm: true })
      .then((pi) => pi.status, (e) => e.decline_code);
    intervened = r === 'requires_action' || r === 'fraudulent';
  }
  assert.ok(intervened, '40 small payments in a row on one card were all allowed');
});

test('a fraud model that does not load stops the server', () => {
  const dir = newDataDir();
  const key = `${dir}.key`;
  tender(['keygen', key]);
  const bad = `${dir}.model.json`;
  fs.writeFileSync(bad, '{"not": "a model"}');
  const r = spawnSync(BIN, ['serve', '--listen', '127.0.0.1:0', '--data', dir, '--master-key-file', key, '--fraud-model', bad], { encoding: 'utf8', timeout: 15000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /fraud model/);
});

test('velocity rules see each card\'s attempts and amounts of the hour', async () => {
  const dir = newDataDir();
  const rulesFile = `${dir}.rules`;
  fs.writeFileSync(rulesFile, ['block if card_velocity_hour >= 3', 'block if card_amount_hour >= 3000'].join('\n'));
  const e2 = await startTender({ args: ['--rules-file', rulesFile] });
  const s = e2.stripe();
  const pay = (pm, amount) => s.paymentIntents.create({ amount, currency: 'usd', payment_method: pm, confirm: true })
    .then((pi) => pi.status, (e) => e.decline_code);
  // the Visa: three attempts of 500 pass (counts 0, 1, 2 before each), the fourth is blocked
  for (let i = 0; i < 3; i++) assert.equal(await pay('pm_card_visa', 500), 'succeeded', `visa attempt ${i + 1}`);
  assert.equal(await pay('pm_card_visa', 500), 'fraudulent');
  // the Mastercard is another card: its own count and sum (0, then 2000, then 4000 ≥ 3000)
  assert.equal(await pay('pm_card_mastercard', 2000), 'succeeded');
  assert.equal(await pay('pm_card_mastercard', 2000), 'succeeded');
  assert.equal(await pay('pm_card_mastercard', 2000), 'fraudulent');
  await e2.stop();
});

// Every payment of a merchant bumps the same velocity rows (its card's, and its server's IP's).
// On PostgreSQL those bumps once ran inside each payment's serializable transaction, so
// concurrent payments aborted each other and some were answered 503 after their retries; they
// are now written after the payment commits (store_pg.c, "Counters after the commit"). Each
// attempt must still be counted once.
test('concurrent payments with one card: none refused, every attempt counted', async () => {
  const dir = newDataDir();
  const rulesFile = `${dir}.rules`;
  const n = 48;
  fs.writeFileSync(rulesFile, `block if card_velocity_hour >= ${n}\n`);
  const e2 = await startTender({ args: ['--rules-file', rulesFile] });
  const s = e2.stripe();
  const results = await Promise.all(Array.from({ length: n }, (_, i) =>
    s.paymentIntents.create({ amount: 100 + i, currency: 'usd', payment_method: 'pm_card_visa', confirm: true })
      .then((pi) => pi.status, (e) => `${e.statusCode} ${e.code || e.type}`)));
  assert.deepEqual(results.filter((r) => r !== 'succeeded'), [], 'every concurrent payment succeeds');
  // the card has n attempts this hour: the next one reaches the rule
  const err = await s.paymentIntents.create({ amount: 100, currency: 'usd', payment_method: 'pm_card_visa', confirm: true })
    .then(() => null, (e) => e);
  assert.ok(err, `attempt ${n + 1} must be blocked by the velocity rule`);
  assert.equal(err.decline_code, 'fraudulent');
  await e2.stop();
});

test('merchant rules (--rules-file): block, review, and a bad file refused', async () => {
  const dir = newDataDir();
  const rulesFile = `${dir}.rules`;
  fs.writeFileSync(rulesFile, [
    '# a merchant\'s fraud rules',
    'block  if amount >= 700000',
    'review if amount >= 300000',
  ].join('\n'));
  const e2 = await startTender({ args: ['--rules-file', rulesFile] });
  const s = e2.stripe();
  const err = await s.paymentIntents.create({ amount: 750000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true }).then(() => null, (e) => e);
  assert.ok(err, 'the block rule must stop it');
  assert.equal(err.decline_code, 'fraudulent');
  const ch = await s.charges.retrieve(err.raw.charge);
  assert.equal(ch.outcome.type, 'blocked');
  assert.equal(ch.outcome.reason, 'rule');
  const rev = await s.paymentIntents.create({ amount: 400000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, return_url: 'https://example.com/r' });
  assert.equal(rev.status, 'requires_action');
  const ok = await s.paymentIntents.create({ amount: 2000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
  assert.equal(ok.status, 'succeeded');
  await e2.stop();
  fs.writeFileSync(rulesFile, 'block if amunt > 5\n');
  const key = `${dir}.key`;
  tender(['keygen', key]);
  const r = spawnSync(BIN, ['serve', '--listen', '127.0.0.1:0', '--data', dir, '--master-key-file', key, '--rules-file', rulesFile], { encoding: 'utf8', timeout: 15000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /line 1/);
});

test('the merchant category and the billing country reach the scoring (rules on mcc and billing_country)', async () => {
  const { createMerchant, startServer } = require('./helpers');
  const dir = newDataDir();
  const key = `${dir}.key`;
  tender(['keygen', key]);
  const casino = createMerchant(dir, 'Casino', ['--mcc', '7995']);
  const grocer = createMerchant(dir, 'Grocer', ['--mcc', '5411']);
  const listed = JSON.parse(tender(['merchant', 'list', '--data', dir]));
  assert.deepEqual(listed.map((m) => m.mcc).sort(), [5411, 7995]);
  const bad = spawnSync(BIN, ['merchant', 'create', '--data', dir, '--name', 'X', '--mcc', '12345'], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  const rulesFile = `${dir}.rules`;
  fs.writeFileSync(rulesFile, 'block if mcc == 7995\nreview if billing_country in (DE, FR)\n');
  const srv = await startServer({ dataDir: dir, keyFile: key, args: ['--rules-file', rulesFile] });
  const Stripe = require('stripe');
  const client = (m) => new Stripe(m.secret_key, { host: '127.0.0.1', port: srv.port, protocol: 'http', maxNetworkRetries: 0 });
  // the casino's category is blocked by rule, the grocer's is not
  const err = await client(casino).paymentIntents.create({ amount: 2000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true }).then(() => null, (e) => e);
  assert.ok(err, 'the mcc rule must block the casino');
  assert.equal(err.decline_code, 'fraudulent');
  const ch = await client(casino).charges.retrieve(err.raw.charge);
  assert.equal(ch.outcome.type, 'blocked');
  assert.equal(ch.outcome.reason, 'rule');
  const g = client(grocer);
  const ok = await g.paymentIntents.create({ amount: 2000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
  assert.equal(ok.status, 'succeeded');
  // a US card with a German billing address is reviewed (3-D Secure); with a US one it is not
  const pay = async (country) => {
    const pm = await g.paymentMethods.create({
      type: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2034, cvc: '123' },
      billing_details: { address: { country } },
    });
    assert.equal(pm.billing_details.address.country, country);
    return g.paymentIntents.create({ amount: 2000, currency: 'usd', payment_method: pm.id, confirm: true, return_url: 'https://example.com/r' });
  };
  assert.equal((await pay('DE')).status, 'requires_action');
  assert.equal((await pay('US')).status, 'succeeded');
  await srv.stop();
});
