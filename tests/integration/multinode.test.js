'use strict';
// Several stateless Tender nodes over the same PostgreSQL shards (issue 9): races decided across
// nodes, a merchant moved between shards while both nodes serve it, and a node SIGKILLed under
// load while the other keeps serving. Needs TENDER_DATABASE_URLS (scripts/integration-pg.sh);
// on the SQLite store there is only ever one node.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const Stripe = require('stripe');
const {
  BIN, tender, newDataDir, createMerchant, startServer, stopAll, withDatabaseUrls, PG_SHARD_URLS,
} = require('./helpers');

const skip = PG_SHARD_URLS.length < 2
  ? 'needs two PostgreSQL shards in TENDER_DATABASE_URLS (run scripts/integration-pg.sh)'
  : false;
const hasShardsCommand = !skip && /\bshards\b/.test(execFileSync(BIN, ['help'], { encoding: 'utf8' }));

let dataDir, keyFile, urls, nodes, merchants;

function client(node, key) {
  return new Stripe(key, { host: '127.0.0.1', port: node.port, protocol: 'http', maxNetworkRetries: 0 });
}

// every --database-url flag of this environment (the same shards for every node)
function dbFlags() {
  return urls.flatMap((u) => ['--database-url', u]);
}

test.before(async () => {
  if (skip) return;
  dataDir = newDataDir('tender-multinode-');
  keyFile = path.join(path.dirname(dataDir), `${path.basename(dataDir)}.key`);
  tender(['keygen', keyFile]);
  const args = withDatabaseUrls(['--data', dataDir]);
  urls = args.filter((a, i) => args[i - 1] === '--database-url');
  assert.equal(urls.length, PG_SHARD_URLS.length);
  // the emptiest shard takes each new merchant: two merchants, one on each shard
  merchants = [createMerchant(dataDir, 'Shop A'), createMerchant(dataDir, 'Shop B')];
  const n1 = await startServer({ dataDir, keyFile });
  const n2 = await startServer({ dataDir: newDataDir('tender-multinode-b-'), keyFile, args: dbFlags() });
  nodes = [n1, n2];
});

test.after(stopAll);
// the webhook receiver of the last test: closed even when the test fails, or node never exits
let rcv = null;
test.after(() => {
  if (!rcv) return;
  rcv.close();
  rcv.closeAllConnections();
});

test('merchants are spread over the shards', { skip: skip || (!hasShardsCommand && 'tender shards is not built in') }, () => {
  const out = tender(['shards', 'list', ...dbFlags()]);
  const shards = new Set(merchants.map((m) => {
    const line = out.split('\n').find((l) => l.startsWith(`${m.id}\t`));
    assert.ok(line, `${m.id} is in the shard map`);
    return line.split('\t')[1];
  }));
  assert.equal(shards.size, 2);
});

test('concurrent captures and refunds across two nodes never exceed the amounts', { skip }, async () => {
  for (const m of merchants) {
    const a = client(nodes[0], m.secret_key);
    const b = client(nodes[1], m.secret_key);
    const pi = await a.paymentIntents.create({ amount: 2500, currency: 'usd', capture_method: 'manual', payment_method: 'pm_card_visa', confirm: true });
    const caps = await Promise.allSettled(Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).paymentIntents.capture(pi.id)));
    assert.equal(caps.filter((r) => r.status === 'fulfilled').length, 1, 'one capture wins');
    for (const r of caps.filter((x) => x.status === 'rejected')) assert.ok([400, 503].includes(r.reason.statusCode), String(r.reason.statusCode));
    const done = await b.paymentIntents.retrieve(pi.id);
    assert.equal(done.amount_received, 2500);

    const paid = await b.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
    const refunds = await Promise.allSettled(Array.from({ length: 20 }, (_, i) =>
      (i % 2 ? a : b).refunds.create({ payment_intent: paid.id, amount: 100 })));
    const ok = refunds.filter((r) => r.status === 'fulfilled');
    for (const r of refunds.filter((x) => x.status === 'rejected')) assert.ok([400, 503].includes(r.reason.statusCode), String(r.reason.statusCode));
    assert.ok(ok.length <= 10, `${ok.length} refunds of 100 on 1000`);
    const charge = await a.charges.retrieve(paid.latest_charge);
    assert.equal(charge.amount_refunded, ok.length * 100);
    const listed = await a.refunds.list({ charge: paid.latest_charge, limit: 100 });
    assert.equal(listed.data.length, ok.length);
  }
});

test('a merchant moves to another shard while both nodes serve it', { skip: skip || (!hasShardsCommand && 'tender shards is not built in') }, async () => {
  const m = merchants[0];
  const before = tender(['shards', 'list', ...dbFlags()]).split('\n').find((l) => l.startsWith(`${m.id}\t`));
  const from = Number(before.split('\t')[1]);
  const to = 1 - from;
  const a = client(nodes[0], m.secret_key);
  const b = client(nodes[1], m.secret_key);
  const made = [];
  let stop = false;
  const load = (async () => {
    for (let i = 0; !stop && i < 400; i++) {
      const s = i % 2 ? a : b;
      const pi = await s.paymentIntents.create({ amount: 100 + i, currency: 'usd', payment_method: 'pm_card_visa', confirm: true },
        { idempotencyKey: `move-${dataDir}-${i}` }).catch((e) => (e.statusCode === 503 ? null : Promise.reject(e)));
      if (pi) made.push(pi.id);
    }
  })();
  while (made.length < 5) await new Promise((r) => setTimeout(r, 20));
  assert.match(tender(['verify', '--data', dataDir]), /verify: ok/);
  const out = JSON.parse(tender(['shards', 'rebalance', '--move', m.id, '--to', String(to), ...dbFlags()]));
  assert.equal(out.to, to);
  const countAtMove = made.length;
  while (made.length < countAtMove + 5) await new Promise((r) => setTimeout(r, 20));
  stop = true;
  await load;
  const after = tender(['shards', 'list', ...dbFlags()]).split('\n').find((l) => l.startsWith(`${m.id}\t`));
  assert.equal(Number(after.split('\t')[1]), to);
  for (const id of made) {
    assert.equal((await a.paymentIntents.retrieve(id)).status, 'succeeded');
    assert.equal((await b.paymentIntents.retrieve(id)).status, 'succeeded');
  }
  assert.match(tender(['verify', '--data', dataDir]), /verify: ok/);
});

test('one node SIGKILLed mid-load: the other keeps serving, nothing is doubled', { skip }, async () => {
  const m = merchants[1];
  const extra = await startServer({ dataDir: newDataDir('tender-multinode-c-'), keyFile, args: dbFlags() });
  const victim = client(extra, m.secret_key);
  // the survivor takes the whole load at once: it may shed some with 503 and
  // Stripe-Should-Retry, which the SDK honours with the same idempotency key
  const survivor = new Stripe(m.secret_key, { host: '127.0.0.1', port: nodes[1].port, protocol: 'http', maxNetworkRetries: 5 });
  // A webhook receiver that answers slowly, so the victim still holds claimed deliveries when it
  // dies: those come back to the survivor when their lease ends.
  const http = require('node:http');
  const delivered = new Map(); // payment intent id -> deliveries seen
  rcv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const ev = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      setTimeout(() => {
        if (ev.type === 'payment_intent.succeeded') {
          delivered.set(ev.data.object.id, (delivered.get(ev.data.object.id) || 0) + 1);
        }
        res.writeHead(200).end('ok');
      }, 300);
    });
  });
  await new Promise((r) => rcv.listen(0, '127.0.0.1', r));
  await survivor.webhookEndpoints.create({ url: `http://127.0.0.1:${rcv.address().port}/hook`, enabled_events: ['payment_intent.succeeded'] });
  const keys = Array.from({ length: 60 }, (_, i) => `kill-${dataDir}-${i}`);
  const create = (s, k, i) => s.paymentIntents.create({ amount: 500 + i, currency: 'usd', payment_method: 'pm_card_visa', confirm: true }, { idempotencyKey: k });
  let killed = false;
  const results = await Promise.all(keys.map(async (k, i) => {
    if (i === 20) {
      await extra.stop('SIGKILL');
      killed = true;
    }
    try {
      return await create(i % 2 && !killed ? victim : survivor, k, i);
    } catch (e) {
      // the killed node dropped the connection: the client retries on the other node with the
      // same idempotency key, as a load balancer's retry would
      return create(survivor, k, i);
    }
  }));
  assert.ok(killed);
  assert.equal(results.length, keys.length);
  assert.equal(new Set(results.map((p) => p.id)).size, keys.length, 'one payment per key');
  for (const p of results) assert.equal(p.status, 'succeeded');
  // and again: every key answers with its first result
  const again = await Promise.all(keys.map((k, i) => create(survivor, k, i)));
  assert.deepEqual(again.map((p) => p.id), results.map((p) => p.id));
  assert.match(tender(['verify', '--data', dataDir]), /verify: ok/);
  // every payment's event reaches the endpoint: the survivor delivers its own and, once their
  // lease (15 s) ends, the ones the dead node had claimed (at least once each)
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline && results.some((p) => !delivered.has(p.id))) {
    await new Promise((r) => setTimeout(r, 250));
  }
  const missing = results.filter((p) => !delivered.has(p.id)).map((p) => p.id);
  assert.deepEqual(missing, [], 'every payment_intent.succeeded is delivered after the kill');
});

test('TLS to PostgreSQL when the URL asks for it: verify-full with the shard\'s certificate', { skip }, async () => {
  // scripts/pg.sh gives each cluster its own self-signed certificate for 127.0.0.1
  const certOf = (i) => path.join(process.env.TENDER_PG_DIR, `pg${i}`, 'server.crt');
  const tls = (u, i, cert = certOf(i)) => `${u}?sslmode=verify-full&sslrootcert=${encodeURIComponent(cert)}&application_name=tender_tls`;
  const flags = urls.flatMap((u, i) => ['--database-url', tls(u, i)]);
  const node = await startServer({ dataDir: newDataDir('tender-multinode-tls-'), keyFile, args: flags });
  const s = client(node, merchants[0].secret_key);
  const pi = await s.paymentIntents.create({ amount: 1234, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
  assert.equal(pi.status, 'succeeded');
  // the server's own view: Tender's pooled connections (by application_name) are encrypted
  let encrypted = 0;
  let plain = 0;
  for (const u of urls) {
    const out = execFileSync('psql', [u, '-qAt', '-c',
      "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid WHERE a.application_name = 'tender_tls'"], { encoding: 'utf8' });
    for (const line of out.split('\n').filter(Boolean)) (line === 't' ? encrypted++ : plain++);
  }
  assert.ok(encrypted >= 1, 'Tender holds TLS connections to the shards');
  assert.equal(plain, 0);
  await node.stop();
  // verify-full against the wrong certificate authority (the other shard's) is refused at start
  const swapped = urls.flatMap((u, i) => ['--database-url', tls(u, i, certOf((i + 1) % urls.length))]);
  const r = require('node:child_process').spawnSync(BIN, ['serve', '--listen', '127.0.0.1:0', '--data', newDataDir('tender-multinode-badtls-'),
    '--master-key-file', keyFile, ...swapped], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.signal, null, 'the server must refuse to start, not serve');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /certificate|SSL/i);
});
