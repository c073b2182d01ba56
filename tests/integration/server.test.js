'use strict';
// The process contract: key file checks, rate limiting, SIGTERM drains and exits 0.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { BIN, startTender, startServer, newDataDir, createMerchant, tender, stopAll, withDatabaseUrls, readStoreFiles, PG_SHARD_URLS } = require('./helpers');

after(stopAll);

function serveSync(args) {
  return spawnSync(BIN, withDatabaseUrls(['serve', '--listen', '127.0.0.1:0', ...args]), { encoding: 'utf8', timeout: 10000 });
}

test('serve refuses a missing, unreadable or world-readable key file', () => {
  const dir = newDataDir();
  const missing = serveSync(['--data', dir, '--master-key-file', path.join(dir, 'nope.key')]);
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /key/i);
  const key = `${dir}.key`;
  tender(['keygen', key]);
  assert.equal(fs.statSync(key).mode & 0o777, 0o600);
  fs.chmodSync(key, 0o644);
  const open = serveSync(['--data', dir, '--master-key-file', key]);
  assert.notEqual(open.status, 0);
  assert.match(open.stderr, /group|others|permission/i);
  const noflag = serveSync(['--data', dir]);
  assert.notEqual(noflag.status, 0);
});

test('serve refuses a different master key for an existing store', async () => {
  const dir = newDataDir();
  const k1 = `${dir}.k1`;
  const k2 = `${dir}.k2`;
  tender(['keygen', k1]);
  tender(['keygen', k2]);
  const srv = await startServer({ dataDir: dir, keyFile: k1 });
  await srv.stop();
  const r = serveSync(['--data', dir, '--master-key-file', k2]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /master key/i);
});

test('unknown flags and commands are errors; help explains', () => {
  for (const args of [['serve', '--bogus'], ['merchant', 'create', '--nope'], ['frobnicate'], ['verify', '--x']]) {
    const r = spawnSync(BIN, args, { encoding: 'utf8' });
    assert.notEqual(r.status, 0, args.join(' '));
  }
  const help = spawnSync(BIN, ['help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  for (const cmd of ['serve', 'keygen', 'merchant', 'verify']) assert.match(help.stdout, new RegExp(cmd));
  const sh = spawnSync(BIN, ['serve', '--help'], { encoding: 'utf8' });
  assert.equal(sh.status, 0);
  for (const flag of ['--listen', '--data', '--master-key-file', '--database-url', '--webhook-retry-schedule', '--rate-limit', '--idle-timeout', '--public-url']) {
    assert.ok(sh.stdout.includes(flag), flag);
  }
  const bad = spawnSync(BIN, ['serve', '--data', '/tmp/x', '--master-key-file', '/tmp/y', '--webhook-retry-schedule', 'soon'], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  for (const t of ['0', '3601', '2s']) {
    const r = spawnSync(BIN, ['serve', '--data', '/tmp/x', '--master-key-file', '/tmp/y', '--idle-timeout', t], { encoding: 'utf8' });
    assert.equal(r.status, 2, t);
    assert.match(r.stderr, /--idle-timeout: expected 1\.\.3600 seconds/);
  }
});

test('--public-url: every URL Tender hands out starts with it, whatever Host a client sent', async () => {
  for (const u of ['pay.example.com', 'ftp://pay.example.com', 'https://pay.example.com/?a=1', 'https://u@pay.example.com', 'https://pay.example.com/a b']) {
    const r = spawnSync(BIN, ['serve', '--data', '/tmp/x', '--master-key-file', '/tmp/y', '--public-url', u], { encoding: 'utf8' });
    assert.equal(r.status, 2, u);
    assert.match(r.stderr, /--public-url: expected http\(s\):\/\/HOST/);
  }
  // a proxy in front serves Tender under /gw (and strips it): the trailing slash is dropped
  const env = await startTender({ args: ['--public-url', 'https://pay.example.test/gw/'] });
  const stripe = env.stripe();
  const base = 'https://pay.example.test/gw/';
  const cs = await stripe.checkout.sessions.create({
    mode: 'payment', success_url: 'https://shop.example/ok',
    line_items: [{ price_data: { currency: 'usd', unit_amount: 500, product_data: { name: 'Tea' } }, quantity: 1 }],
  });
  assert.ok(cs.url.startsWith(`${base}checkout/`), cs.url);
  // the page is where the URL says once the proxy's prefix is taken off
  const page = await env.request({ path: cs.url.slice(base.length - 1) });
  assert.equal(page.status, 200);
  const pi = await stripe.paymentIntents.create({
    amount: 1000, currency: 'usd', payment_method: 'pm_card_threeDSecure2Required', confirm: true, return_url: 'https://shop.example/back',
  });
  assert.equal(pi.status, 'requires_action');
  assert.ok(pi.next_action.redirect_to_url.url.startsWith(`${base}3ds/`), pi.next_action.redirect_to_url.url);
  const cus = await stripe.customers.create({ email: 'jo@example.com' });
  await stripe.invoiceItems.create({ customer: cus.id, amount: 700, currency: 'usd' });
  const draft = await stripe.invoices.create({ customer: cus.id, pending_invoice_items_behavior: 'include', collection_method: 'send_invoice', days_until_due: 7 });
  const inv = await stripe.invoices.finalizeInvoice(draft.id, { auto_advance: false });
  assert.ok(inv.hosted_invoice_url.startsWith(`${base}invoice/`), inv.hosted_invoice_url);
  assert.ok(inv.invoice_pdf.startsWith(base), inv.invoice_pdf);
  // a client's Host header names nothing: a customer is never sent elsewhere by it
  const raw = await env.request({
    method: 'POST', path: '/v1/payment_links', key: env.merchant.secret_key, headers: { Host: 'evil.example' },
    body: `line_items[0][price]=${(await stripe.prices.create({ currency: 'usd', unit_amount: 300, product_data: { name: 'Cup' } })).id}&line_items[0][quantity]=1`,
  });
  assert.equal(raw.status, 200, raw.body);
  assert.ok(raw.json.url.startsWith(`${base}pay/`), raw.json.url);
  await env.stop();
});

test('merchant create prints keys; list shows merchants without keys', () => {
  const dir = newDataDir();
  const m = createMerchant(dir, 'Shop', ['--settlement-currency', 'EUR']);
  assert.match(m.id, /^acct_/);
  assert.match(m.secret_key, /^sk_test_/);
  assert.match(m.publishable_key, /^pk_test_/);
  const list = JSON.parse(tender(['merchant', 'list', '--data', dir]));
  assert.equal(list.length, 1);
  assert.equal(list[0].id, m.id);
  assert.equal(list[0].settlement_currency, 'eur');
  assert.ok(!JSON.stringify(list).includes(m.secret_key));
  // keys are stored only as hashes
  for (const { file, data } of readStoreFiles(dir)) {
    for (const k of [m.secret_key, m.publishable_key]) assert.ok(!data.includes(k), `API key stored in clear in ${file}`);
  }
});

test('rate limiting answers 429 with the headers and Stripe body', async () => {
  const env = await startTender({ args: ['--rate-limit', '5/5'] });
  const results = await Promise.all(
    Array.from({ length: 20 }, () => env.request({ path: '/v1/balance', key: env.merchant.secret_key })),
  );
  const limited = results.filter((r) => r.status === 429);
  assert.ok(limited.length >= 10, `expected 429s, got ${results.map((r) => r.status)}`);
  const r = limited[0];
  assert.equal(r.json.error.code, 'rate_limit');
  assert.ok(r.headers['x-ratelimit-limit']);
  assert.ok(r.headers['x-ratelimit-remaining'] !== undefined);
  assert.ok(r.headers['x-ratelimit-reset']);
  // through the SDK too: ten at once cannot all fit a bucket of five, however long the first
  // burst took on a slow machine (the bucket refills five a second)
  const sdk = await Promise.allSettled(Array.from({ length: 10 }, () => env.stripe().balance.retrieve()));
  const rejected = sdk.filter((x) => x.status === 'rejected');
  assert.ok(rejected.length >= 1, 'the SDK saw no 429');
  for (const x of rejected) assert.equal(x.reason.type, 'StripeRateLimitError');
  await env.stop();
});

test('SIGTERM drains and exits 0', async () => {
  const env = await startTender();
  const s = env.stripe();
  const pending = Array.from({ length: 20 }, (_, i) => s.customers.create({ email: `drain${i}@example.com` }));
  await new Promise((r) => setTimeout(r, 5));
  const exit = env.server.stop('SIGTERM');
  const settled = await Promise.allSettled(pending);
  const { code } = await exit;
  assert.equal(code, 0);
  // every request that was answered OK is durable
  const ok = settled.filter((x) => x.status === 'fulfilled').map((x) => x.value.id);
  const srv2 = await startServer({ dataDir: env.dataDir, keyFile: env.keyFile });
  const s2 = env.stripe(env.merchant.secret_key);
  const c2 = new (require('stripe'))(env.merchant.secret_key, { host: '127.0.0.1', port: srv2.port, protocol: 'http' });
  for (const id of ok) assert.equal((await c2.customers.retrieve(id)).id, id);
  void s2;
  await srv2.stop();
});

test('/healthz: ok without a key while serving, 503 draining once SIGTERM has begun', async () => {
  const env = await startTender();
  const r = await env.request({ path: '/healthz' });
  assert.equal(r.status, 200);
  const shards = require('./helpers').PG_SHARD_URLS.length || 1;
  assert.deepEqual(r.json, { status: 'ok', shards });
  // a request that stays in flight (its body never comes) holds the drain open
  const net = require('node:net');
  const sock = net.connect(env.port, '127.0.0.1', () => sock.write('POST /v1/customers HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nemail='));
  sock.on('error', () => {});
  await new Promise((res) => setTimeout(res, 200));
  const exit = env.server.stop('SIGTERM');
  let draining = null;
  for (let i = 0; i < 50 && !draining; i++) {
    await new Promise((res) => setTimeout(res, 50));
    const h = await env.request({ path: '/healthz' }).catch(() => null);
    if (h && h.status === 503) draining = h;
  }
  assert.ok(draining, 'no 503 while draining');
  assert.deepEqual(draining.json, { status: 'draining' });
  assert.equal(draining.headers['stripe-should-retry'], 'true');
  sock.destroy();
  assert.equal((await exit).code, 0);
});

// --idle-timeout (default 30 s) closes a connection stalled mid-request; the test sets 2 s so
// that it does not hold one of CI's two test slots for half a minute
test('a slow client that never finishes its request is disconnected after --idle-timeout', async () => {
  const env = await startTender({ args: ['--idle-timeout', '2'] });
  const net = require('node:net');
  const t0 = Date.now();
  const closed = await new Promise((resolve) => {
    const sock = net.connect(env.port, '127.0.0.1', () => sock.write('POST /v1/customers HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nemail='));
    // the timer must not outlive the test: it would keep this file's process alive
    const timer = setTimeout(() => { sock.destroy(); resolve(-1); }, 30000);
    sock.on('close', () => { clearTimeout(timer); resolve(Date.now() - t0); });
    sock.on('error', () => {});
  });
  assert.ok(closed > 0, 'the server kept a stalled connection open for 30 s with --idle-timeout 2');
  assert.ok(closed >= 1500, `closed after ${closed} ms: the timeout is 2 s`);
  const r = await env.request({ path: '/v1/balance', key: env.merchant.secret_key });
  assert.equal(r.status, 200);
  await env.stop();
});

// src/http/server.c: the first 128 open connections go to an event loop that waits with poll(),
// later ones to one that waits with epoll; a closed connection frees its place on the first.
test('connections past the poll loop\'s 128 are served by the epoll loop, and closed ones free their places', async () => {
  const env = await startTender({ args: ['--log-level', 'debug'] });
  const net = require('node:net');
  const key = env.merchant.secret_key;
  const N = 140;
  const socks = await Promise.all(
    Array.from({ length: N }, () => new Promise((resolve, reject) => {
      const sock = net.connect(env.port, '127.0.0.1', () => resolve(sock));
      sock.on('error', reject);
    })),
  );
  // Every connection confirms a payment, keep-alive, then asks for it again on the same socket.
  const exchange = (sock, req) => new Promise((resolve, reject) => {
    let got = '';
    const onData = (d) => {
      got += d;
      const end = got.indexOf('\r\n\r\n');
      const m = /content-length: (\d+)/i.exec(got);
      if (end >= 0 && m && got.length >= end + 4 + Number(m[1])) {
        sock.off('data', onData);
        resolve({ status: Number(got.split(' ')[1]), body: JSON.parse(got.slice(end + 4)) });
      }
    };
    sock.on('data', onData);
    sock.once('error', reject);
    sock.write(req);
  });
  const body = (i) => `amount=${1000 + i}&currency=usd&payment_method=pm_card_visa&confirm=true`;
  const confirmed = await Promise.all(socks.map((sock, i) => exchange(sock,
    'POST /v1/payment_intents HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
      `Authorization: Bearer ${key}\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
      `Content-Length: ${Buffer.byteLength(body(i))}\r\n\r\n${body(i)}`)));
  confirmed.forEach((r, i) => {
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.status, 'succeeded');
    assert.equal(r.body.amount, 1000 + i);
  });
  const again = await Promise.all(socks.map((sock, i) => exchange(sock,
    `GET /v1/payment_intents/${confirmed[i].body.id} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${key}\r\n\r\n`)));
  again.forEach((r, i) => assert.equal(r.body.id, confirmed[i].body.id));

  const loops = () => fs.readFileSync(env.server.logPath, 'utf8').split('\n')
    .map((l) => /a connection for the (poll|epoll) loop \(the poll loop had (\d+)\)/.exec(l)).filter(Boolean);
  const seen = loops();
  assert.equal(seen.length, N);
  assert.equal(seen.filter((m) => m[1] === 'poll').length, 128);
  assert.equal(seen.filter((m) => m[1] === 'epoll').length, N - 128);

  for (const sock of socks) sock.destroy();
  // MHD notices the closes on its next turns: a new connection (a new agent each time) then
  // finds room again
  const http = require('node:http');
  let last;
  for (let tries = 0; tries < 50; tries++) {
    await new Promise((r) => setTimeout(r, 100));
    const s = env.stripe(key, { httpAgent: new http.Agent({ keepAlive: false }) });
    const pi = await s.paymentIntents.create({ amount: 777, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
    assert.equal(pi.status, 'succeeded');
    last = loops().at(-1);
    if (last[1] === 'poll') break;
  }
  assert.equal(last[1], 'poll', 'closed connections kept their places on the poll loop');
  assert.ok(Number(last[2]) < 128);
  await env.stop();
});
