'use strict';
// Kill -9 in the middle of a stream of keyed confirms, restart, replay every request with its key:
// every acknowledged payment exists, no key made two payments, and `tender verify` passes.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { startTender, startServer, request, tender, stopAll } = require('./helpers');

after(stopAll);

test('SIGKILL mid-stream loses no acknowledged payment and doubles none', async () => {
  const env = await startTender({ args: ['--rate-limit', '0'] });
  const key = env.merchant.secret_key;
  const body = (i) => `amount=${1000 + i}&currency=usd&payment_method=pm_card_visa&confirm=true`;
  const acked = new Map(); // idempotency key → payment intent id
  const sent = [];
  let port = env.port;
  let stop = false;
  let i = 0;
  const worker = async () => {
    while (!stop && i < 5000) {
      const n = i++;
      const k = `kill-${n}`;
      sent.push([k, n]);
      try {
        const r = await request({ port, method: 'POST', path: '/v1/payment_intents', key, body: body(n), headers: { 'Idempotency-Key': k } });
        if (r.status === 200) acked.set(k, r.json.id);
      } catch {
        /* the connection died with the server: not acknowledged */
      }
    }
  };
  const workers = Array.from({ length: 8 }, worker);
  await new Promise((r) => setTimeout(r, 1500));
  env.server.child.kill('SIGKILL');
  stop = true;
  await Promise.all(workers);
  await env.server.exited;
  assert.ok(acked.size > 10, `only ${acked.size} payments were acknowledged before the kill`);

  const srv = await startServer({ dataDir: env.dataDir, keyFile: env.keyFile, args: ['--rate-limit', '0'] });
  port = srv.port;
  const byKey = new Map();
  for (const [k, n] of sent) {
    const r = await request({ port, method: 'POST', path: '/v1/payment_intents', key, body: body(n), headers: { 'Idempotency-Key': k } });
    assert.equal(r.status, 200, `${k}: ${r.body}`);
    byKey.set(k, r.json.id);
    if (acked.has(k)) {
      assert.equal(r.json.id, acked.get(k), `${k} was acknowledged as ${acked.get(k)} but replays as ${r.json.id}`);
      assert.equal(r.headers['idempotent-replayed'], 'true');
    }
  }
  // no key produced two payments: as many intents as keys, every one succeeded once
  const ids = new Set();
  let page = await request({ port, path: '/v1/payment_intents?limit=100', key });
  for (;;) {
    for (const p of page.json.data) ids.add(p.id);
    if (!page.json.has_more) break;
    const last = page.json.data[page.json.data.length - 1].id;
    page = await request({ port, path: `/v1/payment_intents?limit=100&starting_after=${last}`, key });
  }
  assert.equal(ids.size, new Set(byKey.values()).size);
  assert.equal(ids.size, sent.length);
  await srv.stop();
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});

test('SIGKILL mid-stream of charges made from tokens: each re-sent with its key is charged once, never refused', async () => {
  // A token is used up by the charge's own write: a crash before that write must leave it
  // unused, so that the client's retry (same key, same token) charges it instead of answering
  // token_already_used.
  const env = await startTender({ args: ['--rate-limit', '0'] });
  const key = env.merchant.secret_key;
  const card = 'card[number]=4242424242424242&card[exp_month]=12&card[exp_year]=2034&card[cvc]=123';
  const acked = new Map(); // idempotency key → charge id
  const sent = []; // [key, body]
  let port = env.port;
  let stop = false;
  let i = 0;
  const worker = async () => {
    while (!stop && i < 5000) {
      const n = i++;
      try {
        const tok = await request({ port, method: 'POST', path: '/v1/tokens', key, body: card });
        if (tok.status !== 200) continue;
        const k = `tokcharge-${n}`;
        const body = `amount=${1000 + n}&currency=usd&source=${tok.json.id}`;
        sent.push([k, body]);
        const r = await request({ port, method: 'POST', path: '/v1/charges', key, body, headers: { 'Idempotency-Key': k } });
        if (r.status === 200) acked.set(k, r.json.id);
      } catch {
        /* the connection died with the server: not acknowledged */
      }
    }
  };
  const workers = Array.from({ length: 32 }, worker); // many in flight: some between their reads and writes
  await new Promise((r) => setTimeout(r, 1500));
  env.server.child.kill('SIGKILL');
  stop = true;
  await Promise.all(workers);
  await env.server.exited;
  assert.ok(acked.size > 10, `only ${acked.size} charges were acknowledged before the kill`);

  const srv = await startServer({ dataDir: env.dataDir, keyFile: env.keyFile, args: ['--rate-limit', '0'] });
  port = srv.port;
  const ids = new Set();
  for (const [k, body] of sent) {
    const r = await request({ port, method: 'POST', path: '/v1/charges', key, body, headers: { 'Idempotency-Key': k } });
    assert.equal(r.status, 200, `${k}: ${r.body}`);
    assert.equal(r.json.status, 'succeeded');
    if (acked.has(k)) assert.equal(r.json.id, acked.get(k));
    ids.add(r.json.id);
  }
  assert.equal(ids.size, sent.length, 'a key made two charges, or two keys one');
  await srv.stop();
  assert.match(tender(['verify', '--data', env.dataDir]), /verify: ok/);
});
