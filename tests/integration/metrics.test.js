'use strict';
// Operators' metrics (tender serve --metrics-listen): payments, declines, Radar blocks, 3-D
// Secure, idempotency, refunds and a webhook delivery made through stripe-node show up as exact
// counter deltas on GET /metrics; the exposition passes Prometheus' own checker (promtool), the
// alert rules in deploy/prometheus pass `promtool check rules` and their unit tests; the API's
// listener does not serve the metrics, and they name no merchant.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { startTender, stopAll, request, ROOT, waitFor } = require('./helpers');

const PROMTOOL = process.env.TENDER_PROMTOOL || path.join(ROOT, 'tests', '.tools', 'promtool');
const RULES_DIR = path.join(ROOT, 'deploy', 'prometheus');

let env;
let stripe;

before(async () => {
  env = await startTender({ args: ['--metrics-listen', '127.0.0.1:0'] });
  stripe = env.stripe();
});
after(stopAll);

async function scrapeText(port = env.server.metricsPort) {
  const r = await request({ port, path: '/metrics' });
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  return r.body;
}

// name{labels} -> value, for every sample line
function parse(text) {
  const m = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

async function scrape() {
  return parse(await scrapeText());
}

function delta(a, b, key) {
  return (b.get(key) || 0) - (a.get(key) || 0);
}

const auth = (brand, outcome) => `tender_card_authorizations_total{brand="${brand}",outcome="${outcome}"}`;
const ev = (type) => `tender_events_total{type="${type}"}`;
const idem = (result) => `tender_idempotent_requests_total{result="${result}"}`;
const reqs = (route, method, code) => `tender_http_requests_total{route="${route}",method="${method}",code="${code}"}`;

test('payments, declines, blocks, 3-D Secure and refunds count exactly; the exposition passes promtool', async () => {
  const s0 = await scrape();
  const ok = await stripe.paymentIntents.create({ amount: 2000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
  assert.equal(ok.status, 'succeeded');
  await stripe.paymentIntents.create({ amount: 2100, currency: 'usd', payment_method: 'pm_card_mastercard', confirm: true });
  await assert.rejects(stripe.paymentIntents.create({ amount: 2200, currency: 'usd', payment_method: 'pm_card_chargeDeclinedInsufficientFunds', confirm: true }),
    (e) => e.statusCode === 402 && e.decline_code === 'insufficient_funds');
  await assert.rejects(stripe.paymentIntents.create({ amount: 2300, currency: 'usd', payment_method: 'pm_card_radarBlock', confirm: true }),
    (e) => e.statusCode === 402);
  const tds = await stripe.paymentIntents.create({ amount: 2400, currency: 'usd', payment_method: 'pm_card_threeDSecure2Required', confirm: true, return_url: 'https://example.com/back' });
  assert.equal(tds.status, 'requires_action');
  await stripe.refunds.create({ payment_intent: ok.id, amount: 500 });
  // a request is counted when libmicrohttpd reports it complete, just after its answer went out
  const s1 = await waitFor(async () => {
    const m = await scrape();
    return delta(s0, m, reqs('/v1/refunds', 'POST', '200')) === 1 && m;
  }, 'the refund counted', 5000);

  assert.equal(delta(s0, s1, auth('visa', 'approved')), 1);
  assert.equal(delta(s0, s1, auth('mastercard', 'approved')), 1);
  assert.equal(delta(s0, s1, auth('visa', 'declined')), 1);
  assert.equal(delta(s0, s1, auth('visa', 'blocked')), 1);
  assert.equal(delta(s0, s1, auth('visa', 'requires_action')), 1);
  assert.equal(delta(s0, s1, 'tender_card_declines_total{decline_code="insufficient_funds"}'), 1);
  assert.equal(delta(s0, s1, 'tender_fraud_decisions_total{action="block"}'), 1);
  assert.equal(delta(s0, s1, 'tender_fraud_decisions_total{action="review"}'), 1);
  assert.equal(delta(s0, s1, 'tender_fraud_decisions_total{action="allow"}'), 3);
  assert.equal(delta(s0, s1, 'tender_fraud_score_duration_seconds_count'), 5);
  // the two approved payments, by currency: 20.00 + 21.00 usd (the declined, blocked and 3-D
  // Secure ones moved nothing)
  assert.equal(delta(s0, s1, 'tender_card_approved_payments_total{currency="usd"}'), 2);
  assert.equal(delta(s0, s1, 'tender_card_approved_amount_minor_total{currency="usd"}'), 4100);
  // events, counted once committed
  assert.equal(delta(s0, s1, ev('charge.succeeded')), 2);
  assert.equal(delta(s0, s1, ev('charge.failed')), 2);
  assert.equal(delta(s0, s1, ev('payment_intent.succeeded')), 2);
  assert.equal(delta(s0, s1, ev('payment_intent.payment_failed')), 2);
  assert.equal(delta(s0, s1, ev('payment_intent.requires_action')), 1);
  assert.equal(delta(s0, s1, ev('refund.created')), 1);
  assert.equal(delta(s0, s1, ev('charge.refunded')), 1);
  // the API's answers, by route pattern and status, and the errors by code
  assert.equal(delta(s0, s1, reqs('/v1/payment_intents', 'POST', '200')), 3);
  assert.equal(delta(s0, s1, reqs('/v1/payment_intents', 'POST', '402')), 2);
  assert.equal(delta(s0, s1, reqs('/v1/refunds', 'POST', '200')), 1);
  assert.equal(delta(s0, s1, 'tender_http_request_duration_seconds_count{route="/v1/payment_intents",method="POST"}'), 5);
  assert.equal(delta(s0, s1, 'tender_api_errors_total{error="card_declined",type="card_error",code="card_declined"}'), 2);
  // every POST of stripe-node carries an Idempotency-Key: six ran
  assert.equal(delta(s0, s1, idem('executed')), 6);
  assert.ok(delta(s0, s1, 'tender_store_write_duration_seconds_count{result="ok"}') >= 6);

  // Prometheus' own checker takes the whole exposition (format and naming lint)
  const text = await scrapeText();
  execFileSync(PROMTOOL, ['check', 'metrics'], { input: text });
  // aggregate numbers only: no merchant, key or object id in them
  assert.ok(!text.includes(env.merchant.id));
  assert.ok(!text.includes(env.merchant.secret_key));
  assert.ok(!text.includes(ok.id));
});

test('idempotency: a replay, a key reused with other parameters', async () => {
  const s0 = await scrape();
  const key = `metrics-${Date.now()}`;
  const a = await stripe.paymentIntents.create({ amount: 1500, currency: 'usd', payment_method: 'pm_card_visa', confirm: true }, { idempotencyKey: key });
  const b = await stripe.paymentIntents.create({ amount: 1500, currency: 'usd', payment_method: 'pm_card_visa', confirm: true }, { idempotencyKey: key });
  assert.equal(a.id, b.id);
  await assert.rejects(stripe.paymentIntents.create({ amount: 1600, currency: 'usd', payment_method: 'pm_card_visa', confirm: true }, { idempotencyKey: key }),
    (e) => e.statusCode === 400 && e.type === 'StripeIdempotencyError');
  const s1 = await waitFor(async () => {
    const m = await scrape();
    return delta(s0, m, idem('mismatch')) === 1 && m;
  }, 'the last request counted', 5000);
  assert.equal(delta(s0, s1, idem('executed')), 1);
  assert.equal(delta(s0, s1, idem('replayed')), 1);
  assert.equal(delta(s0, s1, idem('mismatch')), 1);
  // one payment: the replay authorized nothing and committed no event
  assert.equal(delta(s0, s1, auth('visa', 'approved')), 1);
  assert.equal(delta(s0, s1, ev('charge.succeeded')), 1);
});

test('webhook deliveries count by result', async () => {
  let hits = 0;
  const srv = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits++;
      res.writeHead(200);
      res.end('ok');
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  try {
    const s0 = await scrape();
    await stripe.webhookEndpoints.create({ url: `http://127.0.0.1:${srv.address().port}/hook`, enabled_events: ['customer.created'] });
    await stripe.customers.create({ email: 'metrics@example.com' });
    await waitFor(() => hits === 1, 'the delivery', 10000);
    await waitFor(async () => delta(s0, await scrape(), 'tender_webhook_attempt_duration_seconds_count{result="delivered"}') === 1, 'the counted attempt', 5000);
    const s1 = await scrape();
    assert.equal(delta(s0, s1, 'tender_webhook_attempt_duration_seconds_count{result="failed"}'), 0);
    assert.equal(delta(s0, s1, ev('customer.created')), 1);
  } finally {
    srv.close();
  }
});

test('only the metrics listener serves them, and only at GET /metrics', async () => {
  const api = await request({ port: env.port, path: '/metrics' });
  assert.notEqual(api.status, 200);
  assert.ok(!api.body.includes('tender_'));
  const other = await request({ port: env.server.metricsPort, path: '/v1/balance' });
  assert.equal(other.status, 404);
  const post = await request({ port: env.server.metricsPort, method: 'POST', path: '/metrics', body: 'x=1' });
  assert.equal(post.status, 405);
  const s = await scrape();
  // the process's own numbers
  assert.ok(s.get('tender_process_resident_memory_bytes') > 1 << 20);
  assert.ok(Math.abs(s.get('tender_process_start_time_seconds') - Date.now() / 1000) < 3600);
  // an unmatched path counts under "(unmatched)", not under its own (unbounded) label
  const before = s.get(reqs('(unmatched)', 'GET', '404')) || 0;
  await request({ port: env.port, path: '/v1/no_such_thing/abc', key: env.merchant.secret_key });
  await waitFor(async () => (await scrape()).get(reqs('(unmatched)', 'GET', '404')) === before + 1, 'the unmatched request counted', 5000);
});

test('rate-limited requests are counted', async () => {
  const e2 = await startTender({ args: ['--metrics-listen', '127.0.0.1:0', '--rate-limit', '1/1'] });
  const s2 = e2.stripe();
  let refused = 0;
  for (let i = 0; i < 5; i++) {
    try {
      await s2.balance.retrieve();
    } catch (e) {
      assert.equal(e.statusCode, 429);
      refused++;
    }
  }
  assert.ok(refused >= 3, `refused ${refused}`);
  const m = await waitFor(async () => {
    const x = parse(await scrapeText(e2.server.metricsPort));
    return x.get('tender_rate_limited_total') === refused && x;
  }, 'the refusals counted', 5000);
  assert.equal(m.get('tender_rate_limited_total'), refused);
  assert.equal(m.get('tender_api_errors_total{error="rate_limit",type="invalid_request_error",code="rate_limit"}'), refused);
});

test('the alert rules load and their unit tests pass (promtool)', () => {
  const rules = path.join(RULES_DIR, 'tender-alerts.yml');
  assert.ok(fs.existsSync(rules));
  const out = execFileSync(PROMTOOL, ['check', 'rules', rules]).toString();
  assert.match(out, /SUCCESS: 8 rules found/);
  const t = execFileSync(PROMTOOL, ['test', 'rules', 'tender-alerts.test.yml'], { cwd: RULES_DIR }).toString();
  assert.match(t, /SUCCESS/);
});
